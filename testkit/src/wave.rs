//! WAVE, the text form of component values (`"alice"`, `[1, 2]`,
//! `{sku: "tea", qty: 2}`, `some(ok(3))`), through the `wasm-wave` crate: agent
//! ids are rendered with it, and tools read arguments with it.
//!
//! ```
//! use reprise_testkit::value::{Type, Value};
//! use reprise_testkit::wave;
//!
//! let ty = Type::Record(vec![("sku".into(), Type::String), ("qty".into(), Type::U32)]);
//! let v = wave::parse("{sku: \"tea\", qty: 2}", &ty).unwrap();
//! assert_eq!(v, Value::Record(vec![Value::string("tea"), Value::U32(2)]));
//! assert_eq!(wave::render(&v, &ty).unwrap(), "{sku: \"tea\", qty: 2}");
//! assert!(wave::parse("{sku: 1}", &ty).unwrap_err().to_string().contains("sku"));
//! ```

use std::borrow::Cow;
use std::fmt;

use wasm_wave::value::{Type as WaveType, Value as WaveValue};
use wasm_wave::wasm::WasmValue;

use crate::value::{Type, Value};

/// A value that does not fit its type, or text that is not WAVE for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaveError(String);

impl fmt::Display for WaveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for WaveError {}

fn err(message: impl Into<String>) -> WaveError {
    WaveError(message.into())
}

/// `value` (of type `ty`) as WAVE text.
pub fn render(value: &Value, ty: &Type) -> Result<String, WaveError> {
    let wave = to_wave(value, ty)?;
    wasm_wave::to_string(&wave).map_err(|e| err(e.to_string()))
}

/// Several values as compact WAVE (no whitespace outside literals), joined
/// by commas: the parameter list of an agent id (`counter("a",{x:1})`).
pub fn render_compact(values: &[Value], types: &[Type]) -> Result<String, WaveError> {
    if values.len() != types.len() {
        return Err(err(format!("{} values for {} types", values.len(), types.len())));
    }
    let parts =
        values.iter().zip(types).map(|(v, t)| render(v, t).map(|s| compact(&s))).collect::<Result<Vec<_>, _>>()?;
    Ok(parts.join(","))
}

/// `text` without whitespace outside string and char literals.
fn compact(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for c in text.chars() {
        match quote {
            Some(q) => {
                out.push(c);
                if escaped {
                    escaped = false;
                } else if c == '\\' {
                    escaped = true;
                } else if c == q {
                    quote = None;
                }
            }
            None if c == '"' || c == '\'' => {
                quote = Some(c);
                out.push(c);
            }
            None if c.is_whitespace() => {}
            None => out.push(c),
        }
    }
    out
}

/// Read WAVE `text` as a value of type `ty`.
pub fn parse(text: &str, ty: &Type) -> Result<Value, WaveError> {
    let wave_ty = wave_type(ty)?;
    let wave: WaveValue = wasm_wave::from_str(&wave_ty, text).map_err(|e| err(format!("{e} in `{text}`")))?;
    from_wave(&wave, ty)
}

/// The `wasm-wave` type for `ty`. WAVE has no empty tuples or records.
fn wave_type(ty: &Type) -> Result<WaveType, WaveError> {
    use wasm_wave::wasm::WasmTypeKind as K;
    let simple = |k| WaveType::simple(k).ok_or_else(|| err("unsupported primitive"));
    Ok(match ty {
        Type::Bool => simple(K::Bool)?,
        Type::U8 => simple(K::U8)?,
        Type::U16 => simple(K::U16)?,
        Type::U32 => simple(K::U32)?,
        Type::U64 => simple(K::U64)?,
        Type::S8 => simple(K::S8)?,
        Type::S16 => simple(K::S16)?,
        Type::S32 => simple(K::S32)?,
        Type::S64 => simple(K::S64)?,
        Type::F32 => simple(K::F32)?,
        Type::F64 => simple(K::F64)?,
        Type::Char => simple(K::Char)?,
        Type::String => simple(K::String)?,
        Type::List(t) => WaveType::list(wave_type(t)?),
        Type::Option(t) => WaveType::option(wave_type(t)?),
        Type::Tuple(items) => {
            let items = items.iter().map(wave_type).collect::<Result<Vec<_>, _>>()?;
            WaveType::tuple(items).ok_or_else(|| err("WAVE cannot write an empty tuple"))?
        }
        Type::Record(fields) => {
            let fields = fields.iter().map(|(n, t)| Ok((n.as_str(), wave_type(t)?))).collect::<Result<Vec<_>, _>>()?;
            WaveType::record(fields).ok_or_else(|| err("WAVE cannot write an empty record"))?
        }
        Type::Variant(cases) => {
            let cases = cases
                .iter()
                .map(|(n, p)| Ok((n.as_str(), p.as_ref().map(wave_type).transpose()?)))
                .collect::<Result<Vec<_>, WaveError>>()?;
            WaveType::variant(cases).ok_or_else(|| err("a variant without cases"))?
        }
        Type::Enum(cases) => WaveType::enum_ty(cases.iter().map(String::as_str)).ok_or_else(|| err("an empty enum"))?,
        Type::Flags(flags) => WaveType::flags(flags.iter().map(String::as_str)).ok_or_else(|| err("empty flags"))?,
        Type::Result { ok, err: e } => {
            WaveType::result(ok.as_deref().map(wave_type).transpose()?, e.as_deref().map(wave_type).transpose()?)
        }
    })
}

fn mismatch(value: &Value, ty: &Type) -> WaveError {
    err(format!("the value {value:?} does not fit the type {ty:?}"))
}

fn to_wave(value: &Value, ty: &Type) -> Result<WaveValue, WaveError> {
    let wty = wave_type(ty)?;
    let wrap = |r: Result<WaveValue, wasm_wave::wasm::WasmValueError>| r.map_err(|e| err(e.to_string()));
    Ok(match (value, ty) {
        (Value::Bool(v), Type::Bool) => WaveValue::make_bool(*v),
        (Value::U8(v), Type::U8) => WaveValue::make_u8(*v),
        (Value::U16(v), Type::U16) => WaveValue::make_u16(*v),
        (Value::U32(v), Type::U32) => WaveValue::make_u32(*v),
        (Value::U64(v), Type::U64) => WaveValue::make_u64(*v),
        (Value::S8(v), Type::S8) => WaveValue::make_s8(*v),
        (Value::S16(v), Type::S16) => WaveValue::make_s16(*v),
        (Value::S32(v), Type::S32) => WaveValue::make_s32(*v),
        (Value::S64(v), Type::S64) => WaveValue::make_s64(*v),
        (Value::F32(v), Type::F32) => WaveValue::make_f32(*v),
        (Value::F64(v), Type::F64) => WaveValue::make_f64(*v),
        (Value::Char(v), Type::Char) => WaveValue::make_char(*v),
        (Value::String(v), Type::String) => WaveValue::make_string(Cow::Borrowed(v)),
        (Value::List(items), Type::List(t)) => {
            wrap(WaveValue::make_list(&wty, items.iter().map(|i| to_wave(i, t)).collect::<Result<Vec<_>, _>>()?))?
        }
        (Value::Option(v), Type::Option(t)) => {
            wrap(WaveValue::make_option(&wty, v.as_deref().map(|v| to_wave(v, t)).transpose()?))?
        }
        (Value::Tuple(items), Type::Tuple(types)) if items.len() == types.len() => wrap(WaveValue::make_tuple(
            &wty,
            items.iter().zip(types).map(|(i, t)| to_wave(i, t)).collect::<Result<Vec<_>, _>>()?,
        ))?,
        (Value::Record(items), Type::Record(fields)) if items.len() == fields.len() => wrap(WaveValue::make_record(
            &wty,
            items
                .iter()
                .zip(fields)
                .map(|(i, (n, t))| Ok((n.as_str(), to_wave(i, t)?)))
                .collect::<Result<Vec<_>, WaveError>>()?,
        ))?,
        (Value::Variant { case, payload }, Type::Variant(cases)) => {
            let (name, payload_ty) = cases.get(*case as usize).ok_or_else(|| mismatch(value, ty))?;
            let payload = match (payload, payload_ty) {
                (Some(p), Some(t)) => Some(to_wave(p, t)?),
                (None, None) => None,
                _ => return Err(mismatch(value, ty)),
            };
            wrap(WaveValue::make_variant(&wty, name, payload))?
        }
        (Value::Enum(case), Type::Enum(cases)) => {
            wrap(WaveValue::make_enum(&wty, cases.get(*case as usize).ok_or_else(|| mismatch(value, ty))?))?
        }
        (Value::Flags(set), Type::Flags(names)) if set.len() == names.len() => {
            wrap(WaveValue::make_flags(&wty, set.iter().zip(names).filter(|(on, _)| **on).map(|(_, n)| n.as_str())))?
        }
        (Value::Result(r), Type::Result { ok, err: e }) => {
            let payload = |v: &Option<Box<Value>>, t: &Option<Box<Type>>| match (v, t) {
                (Some(v), Some(t)) => to_wave(v, t).map(Some),
                (None, None) => Ok(None),
                _ => Err(mismatch(value, ty)),
            };
            let r = match r {
                Ok(v) => Ok(payload(v, ok)?),
                Err(v) => Err(payload(v, e)?),
            };
            wrap(WaveValue::make_result(&wty, r))?
        }
        _ => return Err(mismatch(value, ty)),
    })
}

fn from_wave(v: &WaveValue, ty: &Type) -> Result<Value, WaveError> {
    Ok(match ty {
        Type::Bool => Value::Bool(v.unwrap_bool()),
        Type::U8 => Value::U8(v.unwrap_u8()),
        Type::U16 => Value::U16(v.unwrap_u16()),
        Type::U32 => Value::U32(v.unwrap_u32()),
        Type::U64 => Value::U64(v.unwrap_u64()),
        Type::S8 => Value::S8(v.unwrap_s8()),
        Type::S16 => Value::S16(v.unwrap_s16()),
        Type::S32 => Value::S32(v.unwrap_s32()),
        Type::S64 => Value::S64(v.unwrap_s64()),
        Type::F32 => Value::F32(v.unwrap_f32()),
        Type::F64 => Value::F64(v.unwrap_f64()),
        Type::Char => Value::Char(v.unwrap_char()),
        Type::String => Value::String(v.unwrap_string().into_owned()),
        Type::List(t) => Value::List(v.unwrap_list().map(|i| from_wave(&i, t)).collect::<Result<_, _>>()?),
        Type::Option(t) => Value::Option(v.unwrap_option().map(|i| from_wave(&i, t).map(Box::new)).transpose()?),
        Type::Tuple(types) => {
            Value::Tuple(v.unwrap_tuple().zip(types).map(|(i, t)| from_wave(&i, t)).collect::<Result<_, _>>()?)
        }
        Type::Record(fields) => {
            let mut given: Vec<(String, WaveValue)> =
                v.unwrap_record().map(|(n, i)| (n.into_owned(), i.into_owned())).collect();
            let mut out = Vec::with_capacity(fields.len());
            for (name, t) in fields {
                let pos =
                    given.iter().position(|(n, _)| n == name).ok_or_else(|| err(format!("missing field `{name}`")))?;
                out.push(from_wave(&given.swap_remove(pos).1, t)?);
            }
            Value::Record(out)
        }
        Type::Variant(cases) => {
            let (name, payload) = v.unwrap_variant();
            let case = cases.iter().position(|(n, _)| *n == name).ok_or_else(|| err(format!("no case `{name}`")))?;
            let payload = match (payload, &cases[case].1) {
                (Some(p), Some(t)) => Some(Box::new(from_wave(&p, t)?)),
                _ => None,
            };
            Value::Variant { case: case as u32, payload }
        }
        Type::Enum(cases) => {
            let name = v.unwrap_enum();
            Value::Enum(cases.iter().position(|n| *n == name).ok_or_else(|| err(format!("no case `{name}`")))? as u32)
        }
        Type::Flags(names) => {
            let set: Vec<String> = v.unwrap_flags().map(Cow::into_owned).collect();
            Value::Flags(names.iter().map(|n| set.contains(n)).collect())
        }
        Type::Result { ok, err: e } => {
            let payload = |p: Option<Cow<'_, WaveValue>>, t: &Option<Box<Type>>| -> Result<_, WaveError> {
                match (p, t) {
                    (Some(p), Some(t)) => Ok(Some(Box::new(from_wave(&p, t)?))),
                    _ => Ok(None),
                }
            };
            Value::Result(match v.unwrap_result() {
                Ok(p) => Ok(payload(p, ok)?),
                Err(p) => Err(payload(p, e)?),
            })
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(v: Value, ty: Type, text: &str) {
        assert_eq!(render(&v, &ty).unwrap(), text);
        assert_eq!(parse(text, &ty).unwrap(), v);
    }

    #[test]
    fn every_shape_round_trips() {
        round_trip(Value::string("a \"q\"\n"), Type::String, r#""a \"q\"\n""#);
        round_trip(Value::S32(-7), Type::S32, "-7");
        round_trip(Value::Char('x'), Type::Char, "'x'");
        round_trip(Value::List(vec![Value::U8(1), Value::U8(2)]), Type::List(Box::new(Type::U8)), "[1, 2]");
        round_trip(Value::option(Some(Value::Bool(true))), Type::option(Type::Bool), "some(true)");
        round_trip(Value::option(None), Type::option(Type::Bool), "none");
        round_trip(Value::result(Ok(Value::U64(3))), Type::result(Some(Type::U64), Some(Type::String)), "ok(3)");
        round_trip(Value::Result(Err(None)), Type::result(Some(Type::U64), None), "err");
        let variant = Type::Variant(vec![("idle".into(), None), ("busy".into(), Some(Type::U32))]);
        round_trip(Value::Variant { case: 1, payload: Some(Box::new(Value::U32(4))) }, variant.clone(), "busy(4)");
        round_trip(Value::Variant { case: 0, payload: None }, variant, "idle");
        round_trip(Value::Enum(1), Type::Enum(vec!["small".into(), "large".into()]), "large");
        round_trip(
            Value::Flags(vec![true, false, true]),
            Type::Flags(vec!["a".into(), "b".into(), "c".into()]),
            "{a, c}",
        );
        round_trip(
            Value::Tuple(vec![Value::U8(1), Value::string("x")]),
            Type::Tuple(vec![Type::U8, Type::String]),
            "(1, \"x\")",
        );
    }

    #[test]
    fn compact_form_keeps_literals() {
        let ty = Type::Record(vec![("name".into(), Type::String), ("c".into(), Type::Char), ("n".into(), Type::U8)]);
        let v = Value::Record(vec![Value::string("a b \"c d\""), Value::Char(' '), Value::U8(1)]);
        assert_eq!(render_compact(&[v, Value::U8(2)], &[ty, Type::U8]).unwrap(), r#"{name:"a b \"c d\"",c:' ',n:1},2"#);
    }

    #[test]
    fn mismatches_and_bad_text_are_errors() {
        assert!(render(&Value::U8(1), &Type::String).unwrap_err().to_string().contains("does not fit"));
        assert!(render(&Value::Tuple(vec![]), &Type::Tuple(vec![])).is_err());
        assert!(parse("\"unterminated", &Type::String).is_err());
        assert!(parse("300", &Type::U8).is_err());
        assert!(parse("maybe", &Type::Enum(vec!["yes".into()])).is_err());
        let record = Type::Record(vec![("a".into(), Type::U8), ("b".into(), Type::U8)]);
        assert_eq!(parse("{b: 2, a: 1}", &record).unwrap(), Value::Record(vec![Value::U8(1), Value::U8(2)]));
        assert!(parse("{a: 1}", &record).is_err());
    }
}
