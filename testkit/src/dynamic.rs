//! Calling exported functions of plain components with [`Value`]s:
//! conversion to and from wasmtime's dynamically typed `Val`, guided by the
//! function's component type.

use wasmtime::component::{Type as CType, Val};

use crate::value::Value;

/// Convert `value` to the component type `ty`; the error names the path of
/// the first mismatch.
pub(crate) fn to_val(value: &Value, ty: &CType, path: &str) -> Result<Val, String> {
    let mismatch = || format!("{path}: expected {}, got {value:?}", type_name(ty));
    Ok(match (ty, value) {
        (CType::Bool, Value::Bool(b)) => Val::Bool(*b),
        (CType::U8, Value::U8(v)) => Val::U8(*v),
        (CType::U16, Value::U16(v)) => Val::U16(*v),
        (CType::U32, Value::U32(v)) => Val::U32(*v),
        (CType::U64, Value::U64(v)) => Val::U64(*v),
        (CType::S8, Value::S8(v)) => Val::S8(*v),
        (CType::S16, Value::S16(v)) => Val::S16(*v),
        (CType::S32, Value::S32(v)) => Val::S32(*v),
        (CType::S64, Value::S64(v)) => Val::S64(*v),
        (CType::Float32, Value::F32(v)) => Val::Float32(*v),
        (CType::Float64, Value::F64(v)) => Val::Float64(*v),
        (CType::Char, Value::Char(c)) => Val::Char(*c),
        (CType::String, Value::String(s)) => Val::String(s.clone()),
        (CType::List(l), Value::List(items)) => Val::List(
            items
                .iter()
                .enumerate()
                .map(|(i, v)| to_val(v, &l.ty(), &format!("{path}[{i}]")))
                .collect::<Result<_, _>>()?,
        ),
        (CType::Tuple(t), Value::Tuple(items)) if t.types().len() == items.len() => Val::Tuple(
            t.types()
                .zip(items)
                .enumerate()
                .map(|(i, (ty, v))| to_val(v, &ty, &format!("{path}.{i}")))
                .collect::<Result<_, _>>()?,
        ),
        (CType::Record(r), Value::Record(items)) if r.fields().len() == items.len() => Val::Record(
            r.fields()
                .zip(items)
                .map(|(f, v)| Ok((f.name.to_string(), to_val(v, &f.ty, &format!("{path}.{}", f.name))?)))
                .collect::<Result<_, String>>()?,
        ),
        (CType::Variant(t), Value::Variant { case, payload }) => {
            let c = t.cases().nth(*case as usize).ok_or_else(mismatch)?;
            let payload = match (c.ty, payload) {
                (Some(ty), Some(p)) => Some(Box::new(to_val(p, &ty, &format!("{path}.{}", c.name))?)),
                (None, None) => None,
                _ => return Err(mismatch()),
            };
            Val::Variant(c.name.to_string(), payload)
        }
        (CType::Enum(t), Value::Enum(case)) => {
            Val::Enum(t.names().nth(*case as usize).ok_or_else(mismatch)?.to_string())
        }
        (CType::Flags(t), Value::Flags(bits)) if t.names().len() == bits.len() => {
            Val::Flags(t.names().zip(bits).filter(|(_, on)| **on).map(|(n, _)| n.to_string()).collect())
        }
        (CType::Option(t), Value::Option(inner)) => Val::Option(match inner {
            Some(v) => Some(Box::new(to_val(v, &t.ty(), &format!("{path}?"))?)),
            None => None,
        }),
        (CType::Result(t), Value::Result(r)) => {
            let side = |ty: Option<CType>, v: &Option<Box<Value>>, name: &str| -> Result<Option<Box<Val>>, String> {
                match (ty, v) {
                    (Some(ty), Some(v)) => Ok(Some(Box::new(to_val(v, &ty, &format!("{path}.{name}"))?))),
                    (None, None) => Ok(None),
                    _ => Err(mismatch()),
                }
            };
            Val::Result(match r {
                Ok(v) => Ok(side(t.ok(), v, "ok")?),
                Err(e) => Err(side(t.err(), e, "err")?),
            })
        }
        _ => return Err(mismatch()),
    })
}

/// Convert a result `Val` back to a [`Value`].
pub(crate) fn from_val(val: &Val, ty: &CType) -> Result<Value, String> {
    Ok(match (val, ty) {
        (Val::Bool(b), _) => Value::Bool(*b),
        (Val::U8(v), _) => Value::U8(*v),
        (Val::U16(v), _) => Value::U16(*v),
        (Val::U32(v), _) => Value::U32(*v),
        (Val::U64(v), _) => Value::U64(*v),
        (Val::S8(v), _) => Value::S8(*v),
        (Val::S16(v), _) => Value::S16(*v),
        (Val::S32(v), _) => Value::S32(*v),
        (Val::S64(v), _) => Value::S64(*v),
        (Val::Float32(v), _) => Value::F32(*v),
        (Val::Float64(v), _) => Value::F64(*v),
        (Val::Char(c), _) => Value::Char(*c),
        (Val::String(s), _) => Value::String(s.clone()),
        (Val::List(items), CType::List(l)) => {
            Value::List(items.iter().map(|v| from_val(v, &l.ty())).collect::<Result<_, _>>()?)
        }
        (Val::Tuple(items), CType::Tuple(t)) => {
            Value::Tuple(items.iter().zip(t.types()).map(|(v, ty)| from_val(v, &ty)).collect::<Result<_, _>>()?)
        }
        (Val::Record(fields), CType::Record(r)) => Value::Record(
            fields.iter().zip(r.fields()).map(|((_, v), f)| from_val(v, &f.ty)).collect::<Result<_, _>>()?,
        ),
        (Val::Variant(name, payload), CType::Variant(t)) => {
            let (case, c) = t.cases().enumerate().find(|(_, c)| c.name == name).ok_or("unknown variant case")?;
            let payload = match (payload, c.ty) {
                (Some(p), Some(ty)) => Some(Box::new(from_val(p, &ty)?)),
                _ => None,
            };
            Value::Variant { case: case as u32, payload }
        }
        (Val::Enum(name), CType::Enum(t)) => {
            Value::Enum(t.names().position(|n| n == name).ok_or("unknown enum case")? as u32)
        }
        (Val::Flags(on), CType::Flags(t)) => Value::Flags(t.names().map(|n| on.iter().any(|o| o == n)).collect()),
        (Val::Option(inner), CType::Option(t)) => Value::Option(match inner {
            Some(v) => Some(Box::new(from_val(v, &t.ty())?)),
            None => None,
        }),
        (Val::Result(r), CType::Result(t)) => {
            let side = |v: &Option<Box<Val>>, ty: Option<CType>| -> Result<Option<Box<Value>>, String> {
                match (v, ty) {
                    (Some(v), Some(ty)) => Ok(Some(Box::new(from_val(v, &ty)?))),
                    _ => Ok(None),
                }
            };
            Value::Result(match r {
                Ok(v) => Ok(side(v, t.ok())?),
                Err(e) => Err(side(e, t.err())?),
            })
        }
        (other, _) => return Err(format!("results of this kind cannot be returned to a test: {other:?}")),
    })
}

fn type_name(ty: &CType) -> &'static str {
    match ty {
        CType::Bool => "bool",
        CType::S8 => "s8",
        CType::U8 => "u8",
        CType::S16 => "s16",
        CType::U16 => "u16",
        CType::S32 => "s32",
        CType::U32 => "u32",
        CType::S64 => "s64",
        CType::U64 => "u64",
        CType::Float32 => "f32",
        CType::Float64 => "f64",
        CType::Char => "char",
        CType::String => "string",
        CType::List(_) => "a list",
        CType::Record(_) => "a record",
        CType::Tuple(_) => "a tuple",
        CType::Variant(_) => "a variant",
        CType::Enum(_) => "an enum",
        CType::Option(_) => "an option",
        CType::Result(_) => "a result",
        CType::Flags(_) => "flags",
        _ => "a type the testkit cannot pass",
    }
}
