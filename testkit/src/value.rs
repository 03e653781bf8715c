//! Component-model values as the testkit journals them: a recursive [`Value`]
//! with its [`Type`], converted to and from Golem's flattened
//! `value-and-type` node lists.

use std::cell::Cell;
use std::fmt;

use crate::bindings::golem::core::types as wit;

/// A component-model value.
#[derive(Debug, Clone, PartialEq)]
#[allow(missing_docs)]
pub enum Value {
    Bool(bool),
    U8(u8),
    U16(u16),
    U32(u32),
    U64(u64),
    S8(i8),
    S16(i16),
    S32(i32),
    S64(i64),
    F32(f32),
    F64(f64),
    Char(char),
    String(String),
    List(Vec<Value>),
    Tuple(Vec<Value>),
    /// Field values in declaration order.
    Record(Vec<Value>),
    Variant {
        case: u32,
        payload: Option<Box<Value>>,
    },
    Enum(u32),
    Flags(Vec<bool>),
    Option(Option<Box<Value>>),
    Result(Result<Option<Box<Value>>, Option<Box<Value>>>),
}

/// The type of a [`Value`].
#[derive(Debug, Clone, PartialEq)]
#[allow(missing_docs)]
pub enum Type {
    Bool,
    U8,
    U16,
    U32,
    U64,
    S8,
    S16,
    S32,
    S64,
    F32,
    F64,
    Char,
    String,
    List(Box<Type>),
    Tuple(Vec<Type>),
    Record(Vec<(String, Type)>),
    Variant(Vec<(String, Option<Type>)>),
    Enum(Vec<String>),
    Flags(Vec<String>),
    Option(Box<Type>),
    Result { ok: Option<Box<Type>>, err: Option<Box<Type>> },
}

/// A node list that does not describe a well-formed value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValueError(pub String);

impl fmt::Display for ValueError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "malformed value: {}", self.0)
    }
}

impl std::error::Error for ValueError {}

/// Deeper nesting than this is treated as malformed (it also stops cycles).
const MAX_DEPTH: usize = 256;

impl Value {
    /// `list<u8>`
    pub fn bytes(bytes: &[u8]) -> Value {
        Value::List(bytes.iter().map(|b| Value::U8(*b)).collect())
    }

    /// `string`
    pub fn string(s: impl Into<String>) -> Value {
        Value::String(s.into())
    }

    /// `option<T>`
    pub fn option(v: Option<Value>) -> Value {
        Value::Option(v.map(Box::new))
    }

    /// `result<T, E>` with payloads on both sides.
    pub fn result(r: Result<Value, Value>) -> Value {
        Value::Result(r.map(|v| Some(Box::new(v))).map_err(|e| Some(Box::new(e))))
    }

    /// Encode into Golem's node form.
    pub fn to_wit(&self) -> wit::WitValue {
        let mut nodes = Vec::new();
        push_value(self, &mut nodes);
        wit::WitValue { nodes }
    }

    /// Decode Golem's node form.
    pub fn from_wit(value: &wit::WitValue) -> Result<Value, ValueError> {
        if value.nodes.is_empty() {
            return Err(ValueError("no nodes".into()));
        }
        read_value(&value.nodes, 0, 0, &expansion_budget(value.nodes.len()))
    }

    /// The bytes of a `list<u8>`.
    pub fn as_bytes(&self) -> Option<Vec<u8>> {
        match self {
            Value::List(items) => items.iter().map(|v| if let Value::U8(b) = v { Some(*b) } else { None }).collect(),
            _ => None,
        }
    }

    /// The text of a `string`.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The number of any unsigned integer.
    pub fn as_u64(&self) -> Option<u64> {
        match *self {
            Value::U8(v) => Some(v.into()),
            Value::U16(v) => Some(v.into()),
            Value::U32(v) => Some(v.into()),
            Value::U64(v) => Some(v),
            _ => None,
        }
    }

    /// The flag of a `bool`.
    pub fn as_bool(&self) -> Option<bool> {
        match *self {
            Value::Bool(b) => Some(b),
            _ => None,
        }
    }
}

/// WIT syntax: `list<string>`, `record { sku: string, qty: u32 }`,
/// `result<u64, string>`.
impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn join<T>(
            f: &mut fmt::Formatter<'_>,
            items: &[T],
            each: impl Fn(&mut fmt::Formatter<'_>, &T) -> fmt::Result,
        ) -> fmt::Result {
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                each(f, item)?;
            }
            Ok(())
        }
        match self {
            Type::Bool => f.write_str("bool"),
            Type::U8 => f.write_str("u8"),
            Type::U16 => f.write_str("u16"),
            Type::U32 => f.write_str("u32"),
            Type::U64 => f.write_str("u64"),
            Type::S8 => f.write_str("s8"),
            Type::S16 => f.write_str("s16"),
            Type::S32 => f.write_str("s32"),
            Type::S64 => f.write_str("s64"),
            Type::F32 => f.write_str("f32"),
            Type::F64 => f.write_str("f64"),
            Type::Char => f.write_str("char"),
            Type::String => f.write_str("string"),
            Type::List(t) => write!(f, "list<{t}>"),
            Type::Option(t) => write!(f, "option<{t}>"),
            Type::Tuple(items) => {
                f.write_str("tuple<")?;
                join(f, items, |f, t| write!(f, "{t}"))?;
                f.write_str(">")
            }
            Type::Record(fields) => {
                f.write_str("record { ")?;
                join(f, fields, |f, (n, t)| write!(f, "{n}: {t}"))?;
                f.write_str(" }")
            }
            Type::Variant(cases) => {
                f.write_str("variant { ")?;
                join(f, cases, |f, (n, t)| match t {
                    Some(t) => write!(f, "{n}({t})"),
                    None => f.write_str(n),
                })?;
                f.write_str(" }")
            }
            Type::Enum(cases) => {
                f.write_str("enum { ")?;
                join(f, cases, |f, n| f.write_str(n))?;
                f.write_str(" }")
            }
            Type::Flags(names) => {
                f.write_str("flags { ")?;
                join(f, names, |f, n| f.write_str(n))?;
                f.write_str(" }")
            }
            Type::Result { ok, err } => match (ok, err) {
                (None, None) => f.write_str("result"),
                (Some(ok), None) => write!(f, "result<{ok}>"),
                (None, Some(err)) => write!(f, "result<_, {err}>"),
                (Some(ok), Some(err)) => write!(f, "result<{ok}, {err}>"),
            },
        }
    }
}

impl Type {
    /// `list<u8>`
    pub fn bytes() -> Type {
        Type::List(Box::new(Type::U8))
    }

    /// `option<T>`
    pub fn option(t: Type) -> Type {
        Type::Option(Box::new(t))
    }

    /// `result<T, E>`
    pub fn result(ok: Option<Type>, err: Option<Type>) -> Type {
        Type::Result { ok: ok.map(Box::new), err: err.map(Box::new) }
    }

    /// Decode Golem's node form (root first); resource handles, dangling
    /// indexes and cycles are errors.
    pub fn from_wit(ty: &wit::WitType) -> Result<Type, ValueError> {
        if ty.nodes.is_empty() {
            return Err(ValueError("a type with no nodes".into()));
        }
        read_type(&ty.nodes, 0, 0, &expansion_budget(ty.nodes.len()))
    }

    /// Encode into Golem's node form.
    pub fn to_wit(&self) -> wit::WitType {
        let mut nodes = Vec::new();
        push_type(self, &mut nodes);
        wit::WitType { nodes }
    }
}

/// A value with its type, in Golem's form.
pub fn value_and_type(value: &Value, ty: &Type) -> wit::ValueAndType {
    wit::ValueAndType { value: value.to_wit(), typ: ty.to_wit() }
}

fn index(i: usize) -> i32 {
    // Node lists longer than i32::MAX cannot be built in wasm32 memory anyway.
    i32::try_from(i).unwrap_or(i32::MAX)
}

/// Push `v` and its children; returns the index of `v`'s node.
fn push_value(v: &Value, nodes: &mut Vec<wit::WitNode>) -> i32 {
    use wit::WitNode as N;
    let at = nodes.len();
    // Reserve the slot so the parent precedes its children (root is node 0).
    nodes.push(N::PrimBool(false));
    let children = |items: &[Value], nodes: &mut Vec<wit::WitNode>| -> Vec<i32> {
        items.iter().map(|c| push_value(c, nodes)).collect()
    };
    let node = match v {
        Value::Bool(b) => N::PrimBool(*b),
        Value::U8(x) => N::PrimU8(*x),
        Value::U16(x) => N::PrimU16(*x),
        Value::U32(x) => N::PrimU32(*x),
        Value::U64(x) => N::PrimU64(*x),
        Value::S8(x) => N::PrimS8(*x),
        Value::S16(x) => N::PrimS16(*x),
        Value::S32(x) => N::PrimS32(*x),
        Value::S64(x) => N::PrimS64(*x),
        Value::F32(x) => N::PrimFloat32(*x),
        Value::F64(x) => N::PrimFloat64(*x),
        Value::Char(c) => N::PrimChar(*c),
        Value::String(s) => N::PrimString(s.clone()),
        Value::List(items) => N::ListValue(children(items, nodes)),
        Value::Tuple(items) => N::TupleValue(children(items, nodes)),
        Value::Record(items) => N::RecordValue(children(items, nodes)),
        Value::Variant { case, payload } => N::VariantValue((*case, payload.as_ref().map(|p| push_value(p, nodes)))),
        Value::Enum(case) => N::EnumValue(*case),
        Value::Flags(flags) => N::FlagsValue(flags.clone()),
        Value::Option(inner) => N::OptionValue(inner.as_ref().map(|p| push_value(p, nodes))),
        Value::Result(r) => N::ResultValue(match r {
            Ok(v) => Ok(v.as_ref().map(|p| push_value(p, nodes))),
            Err(e) => Err(e.as_ref().map(|p| push_value(p, nodes))),
        }),
    };
    nodes[at] = node;
    index(at)
}

/// How many nodes reading may visit: each once in a tree; a few times more
/// where nodes are shared. Nodes shared at every level (`list [1, 1]`,
/// `list [2, 2]`, ...) would otherwise expand exponentially.
fn expansion_budget(nodes: usize) -> Cell<usize> {
    Cell::new(nodes.saturating_mul(4).max(1 << 16))
}

fn spend(budget: &Cell<usize>) -> Result<(), ValueError> {
    match budget.get().checked_sub(1) {
        Some(left) => {
            budget.set(left);
            Ok(())
        }
        None => Err(ValueError("the nodes expand far beyond their number (nodes shared or in a cycle)".into())),
    }
}

fn read_value(nodes: &[wit::WitNode], at: i32, depth: usize, budget: &Cell<usize>) -> Result<Value, ValueError> {
    use wit::WitNode as N;
    if depth > MAX_DEPTH {
        return Err(ValueError(format!("nesting deeper than {MAX_DEPTH} (a cycle?)")));
    }
    spend(budget)?;
    let node = usize::try_from(at)
        .ok()
        .and_then(|i| nodes.get(i))
        .ok_or_else(|| ValueError(format!("node index {at} out of range (0..{})", nodes.len())))?;
    let many =
        |ids: &[i32]| ids.iter().map(|i| read_value(nodes, *i, depth + 1, budget)).collect::<Result<Vec<_>, _>>();
    let one = |id: &Option<i32>| -> Result<Option<Box<Value>>, ValueError> {
        id.map(|i| read_value(nodes, i, depth + 1, budget).map(Box::new)).transpose()
    };
    Ok(match node {
        N::PrimBool(b) => Value::Bool(*b),
        N::PrimU8(x) => Value::U8(*x),
        N::PrimU16(x) => Value::U16(*x),
        N::PrimU32(x) => Value::U32(*x),
        N::PrimU64(x) => Value::U64(*x),
        N::PrimS8(x) => Value::S8(*x),
        N::PrimS16(x) => Value::S16(*x),
        N::PrimS32(x) => Value::S32(*x),
        N::PrimS64(x) => Value::S64(*x),
        N::PrimFloat32(x) => Value::F32(*x),
        N::PrimFloat64(x) => Value::F64(*x),
        N::PrimChar(c) => Value::Char(*c),
        N::PrimString(s) => Value::String(s.clone()),
        N::ListValue(ids) => Value::List(many(ids)?),
        N::TupleValue(ids) => Value::Tuple(many(ids)?),
        N::RecordValue(ids) => Value::Record(many(ids)?),
        N::VariantValue((case, payload)) => Value::Variant { case: *case, payload: one(payload)? },
        N::EnumValue(case) => Value::Enum(*case),
        N::FlagsValue(flags) => Value::Flags(flags.clone()),
        N::OptionValue(inner) => Value::Option(one(inner)?),
        N::ResultValue(Ok(v)) => Value::Result(Ok(one(v)?)),
        N::ResultValue(Err(e)) => Value::Result(Err(one(e)?)),
        N::Handle(_) => return Err(ValueError("resource handles cannot be journaled".into())),
    })
}

fn read_type(nodes: &[wit::NamedWitTypeNode], at: i32, depth: usize, budget: &Cell<usize>) -> Result<Type, ValueError> {
    use wit::WitTypeNode as N;
    if depth > MAX_DEPTH {
        return Err(ValueError(format!("type nesting deeper than {MAX_DEPTH} (or a cycle)")));
    }
    spend(budget)?;
    let node = usize::try_from(at)
        .ok()
        .and_then(|i| nodes.get(i))
        .ok_or_else(|| ValueError(format!("type node index {at} out of range (0..{})", nodes.len())))?;
    let child = |i: i32| read_type(nodes, i, depth + 1, budget);
    let boxed = |i: i32| child(i).map(Box::new);
    Ok(match &node.type_ {
        N::PrimBoolType => Type::Bool,
        N::PrimU8Type => Type::U8,
        N::PrimU16Type => Type::U16,
        N::PrimU32Type => Type::U32,
        N::PrimU64Type => Type::U64,
        N::PrimS8Type => Type::S8,
        N::PrimS16Type => Type::S16,
        N::PrimS32Type => Type::S32,
        N::PrimS64Type => Type::S64,
        N::PrimF32Type => Type::F32,
        N::PrimF64Type => Type::F64,
        N::PrimCharType => Type::Char,
        N::PrimStringType => Type::String,
        N::ListType(i) => Type::List(boxed(*i)?),
        N::OptionType(i) => Type::Option(boxed(*i)?),
        N::TupleType(items) => Type::Tuple(items.iter().map(|i| child(*i)).collect::<Result<_, _>>()?),
        N::RecordType(fields) => {
            Type::Record(fields.iter().map(|(n, i)| Ok((n.clone(), child(*i)?))).collect::<Result<_, ValueError>>()?)
        }
        N::VariantType(cases) => Type::Variant(
            cases.iter().map(|(n, p)| Ok((n.clone(), p.map(child).transpose()?))).collect::<Result<_, ValueError>>()?,
        ),
        N::EnumType(cases) => Type::Enum(cases.clone()),
        N::FlagsType(flags) => Type::Flags(flags.clone()),
        N::ResultType((ok, err)) => Type::Result { ok: ok.map(boxed).transpose()?, err: err.map(boxed).transpose()? },
        other => return Err(ValueError(format!("unsupported type node {other:?}"))),
    })
}

fn push_type(t: &Type, nodes: &mut Vec<wit::NamedWitTypeNode>) -> i32 {
    use wit::WitTypeNode as N;
    let at = nodes.len();
    nodes.push(wit::NamedWitTypeNode { name: None, owner: None, type_: N::PrimBoolType });
    let node = match t {
        Type::Bool => N::PrimBoolType,
        Type::U8 => N::PrimU8Type,
        Type::U16 => N::PrimU16Type,
        Type::U32 => N::PrimU32Type,
        Type::U64 => N::PrimU64Type,
        Type::S8 => N::PrimS8Type,
        Type::S16 => N::PrimS16Type,
        Type::S32 => N::PrimS32Type,
        Type::S64 => N::PrimS64Type,
        Type::F32 => N::PrimF32Type,
        Type::F64 => N::PrimF64Type,
        Type::Char => N::PrimCharType,
        Type::String => N::PrimStringType,
        Type::List(inner) => N::ListType(push_type(inner, nodes)),
        Type::Option(inner) => N::OptionType(push_type(inner, nodes)),
        Type::Tuple(items) => N::TupleType(items.iter().map(|i| push_type(i, nodes)).collect()),
        Type::Record(fields) => N::RecordType(fields.iter().map(|(n, f)| (n.clone(), push_type(f, nodes))).collect()),
        Type::Variant(cases) => {
            N::VariantType(cases.iter().map(|(n, p)| (n.clone(), p.as_ref().map(|p| push_type(p, nodes)))).collect())
        }
        Type::Enum(cases) => N::EnumType(cases.clone()),
        Type::Flags(flags) => N::FlagsType(flags.clone()),
        Type::Result { ok, err } => {
            N::ResultType((ok.as_ref().map(|t| push_type(t, nodes)), err.as_ref().map(|t| push_type(t, nodes))))
        }
    };
    nodes[at].type_ = node;
    index(at)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_round_trip_through_nodes() {
        let v = Value::Record(vec![
            Value::string("cart-1"),
            Value::List(vec![Value::U64(3), Value::U64(4)]),
            Value::option(Some(Value::bytes(b"hi"))),
            Value::result(Err(Value::string("nope"))),
            Value::Variant { case: 2, payload: None },
            Value::Flags(vec![true, false]),
            Value::Tuple(vec![Value::Char('x'), Value::F64(1.5), Value::S8(-3)]),
        ]);
        let wit = v.to_wit();
        assert!(matches!(wit.nodes[0], wit::WitNode::RecordValue(_)), "root first");
        assert_eq!(Value::from_wit(&wit), Ok(v));
    }

    #[test]
    fn malformed_node_lists_are_errors() {
        let empty = wit::WitValue { nodes: vec![] };
        assert!(Value::from_wit(&empty).is_err());
        let dangling = wit::WitValue { nodes: vec![wit::WitNode::ListValue(vec![7])] };
        assert_eq!(Value::from_wit(&dangling), Err(ValueError("node index 7 out of range (0..1)".into())));
        let cycle = wit::WitValue { nodes: vec![wit::WitNode::OptionValue(Some(0))] };
        assert!(Value::from_wit(&cycle).unwrap_err().0.contains("cycle"));
    }

    #[test]
    fn types_round_trip_through_nodes() {
        let t = Type::Record(vec![
            ("id".into(), Type::String),
            ("lines".into(), Type::List(Box::new(Type::Tuple(vec![Type::String, Type::U32])))),
            ("state".into(), Type::Variant(vec![("open".into(), None), ("closed".into(), Some(Type::S64))])),
            ("size".into(), Type::Enum(vec!["s".into(), "l".into()])),
            ("tags".into(), Type::Flags(vec!["a".into()])),
            ("r".into(), Type::result(None, Some(Type::option(Type::F32)))),
        ]);
        assert_eq!(Type::from_wit(&t.to_wit()), Ok(t));
        let cycle = wit::WitType {
            nodes: vec![wit::NamedWitTypeNode { name: None, owner: None, type_: wit::WitTypeNode::ListType(0) }],
        };
        assert!(Type::from_wit(&cycle).unwrap_err().0.contains("cycle"));
    }

    #[test]
    fn types_put_the_root_first() {
        let t = Type::result(Some(Type::option(Type::bytes())), Some(Type::String));
        let wit = t.to_wit();
        assert!(matches!(wit.nodes[0].type_, wit::WitTypeNode::ResultType(_)));
        assert_eq!(wit.nodes.len(), 5);
    }
}
