//! Converting Rust values to and from Golem's self-describing values
//! (`wit-value`, `wit-type`, `value-and-type` of `golem:core/types@1.5.0`).
//!
//! ```
//! use std::collections::BTreeMap;
//! use reprise::value::{FromValue, IntoValue};
//!
//! let stock: BTreeMap<String, u32> = [("apple".to_string(), 3)].into();
//! let vt = stock.to_value_and_type();
//! let back = BTreeMap::<String, u32>::from_wit_value(&vt.value).unwrap();
//! assert_eq!(back, stock);
//!
//! // A mismatch is an error naming where and what, never a panic.
//! let err = Vec::<String>::from_wit_value(&vec![1u32, 2].to_wit_value()).unwrap_err();
//! assert_eq!(err.to_string(), "at $[0]: expected string, found u32 1");
//! ```

use std::cell::Cell;
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::hash::Hash;

use crate::bindings::golem::core::types::{NamedWitTypeNode, ValueAndType, WitNode, WitType, WitTypeNode, WitValue};

/// Items the derive macro's expansion refers to.
#[doc(hidden)]
pub mod __private {
    pub use crate::bindings::golem::core::types::{ValueAndType, WitNode, WitTypeNode};

    /// The type of a value, named through the value (for macro expansions).
    pub fn schema_of<T: super::Schema + ?Sized>(_: &T, b: &mut super::TypeBuilder) -> super::NodeIndex {
        T::add_type(b)
    }
}

/// Position of a node in a value's or a type's node list.
pub type NodeIndex = i32;

/// A value whose shape does not match the Rust type it is read as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValueError {
    /// Where, from the root: `$`, `$.field`, `$[2]`, `$.ok`, ...
    pub path: String,
    /// What the Rust type needs there.
    pub expected: String,
    /// What the value has there.
    pub found: String,
}

impl ValueError {
    /// An error at the current node (the path is added as it travels out).
    pub fn new(expected: impl Into<String>, found: impl Into<String>) -> Self {
        ValueError { path: String::new(), expected: expected.into(), found: found.into() }
    }

    /// Prefix the path with a segment (`.name`, `[3]`), as the error travels
    /// out of a nested value.
    pub fn within(mut self, segment: &str) -> Self {
        self.path.insert_str(0, segment);
        self
    }
}

impl fmt::Display for ValueError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "at ${}: expected {}, found {}", self.path, self.expected, self.found)
    }
}

impl std::error::Error for ValueError {}

fn index(i: usize) -> NodeIndex {
    NodeIndex::try_from(i).unwrap_or(NodeIndex::MAX)
}

/// Builds a [`WitValue`]; a parent is reserved before its children so the
/// root is node 0.
#[derive(Debug, Default)]
pub struct ValueBuilder {
    nodes: Vec<WitNode>,
}

impl ValueBuilder {
    /// Reserve a node for a composite value; fill it with [`ValueBuilder::set`].
    pub fn reserve(&mut self) -> NodeIndex {
        self.nodes.push(WitNode::PrimBool(false));
        index(self.nodes.len() - 1)
    }

    /// Fill a reserved node.
    pub fn set(&mut self, at: NodeIndex, node: WitNode) -> NodeIndex {
        if let Some(slot) = usize::try_from(at).ok().and_then(|i| self.nodes.get_mut(i)) {
            *slot = node;
        }
        at
    }

    /// Add a leaf node.
    pub fn leaf(&mut self, node: WitNode) -> NodeIndex {
        self.nodes.push(node);
        index(self.nodes.len() - 1)
    }

    /// The finished value.
    pub fn finish(self) -> WitValue {
        WitValue { nodes: self.nodes }
    }
}

/// Builds a [`WitType`], root first.
#[derive(Debug, Default)]
pub struct TypeBuilder {
    nodes: Vec<NamedWitTypeNode>,
}

impl TypeBuilder {
    /// Reserve a node for a composite type.
    pub fn reserve(&mut self) -> NodeIndex {
        self.leaf(WitTypeNode::PrimBoolType)
    }

    /// Fill a reserved node.
    pub fn set(&mut self, at: NodeIndex, node: WitTypeNode) -> NodeIndex {
        if let Some(slot) = usize::try_from(at).ok().and_then(|i| self.nodes.get_mut(i)) {
            slot.type_ = node;
        }
        at
    }

    /// Give a node the name (and owner) it was declared with.
    pub fn name(&mut self, at: NodeIndex, name: &str, owner: Option<&str>) -> NodeIndex {
        if let Some(slot) = usize::try_from(at).ok().and_then(|i| self.nodes.get_mut(i)) {
            slot.name = Some(name.to_string());
            slot.owner = owner.map(str::to_string);
        }
        at
    }

    /// Add a leaf node.
    pub fn leaf(&mut self, node: WitTypeNode) -> NodeIndex {
        self.nodes.push(NamedWitTypeNode { name: None, owner: None, type_: node });
        index(self.nodes.len() - 1)
    }

    /// The finished type.
    pub fn finish(self) -> WitType {
        WitType { nodes: self.nodes }
    }
}

/// Reads nodes of a [`WitValue`], refusing indexes out of range and node
/// lists that refer to a node twice (which could loop forever).
#[derive(Debug)]
pub struct ValueReader<'a> {
    nodes: &'a [WitNode],
    visits: Cell<usize>,
}

impl<'a> ValueReader<'a> {
    /// A reader over `value`.
    pub fn new(value: &'a WitValue) -> Self {
        ValueReader { nodes: &value.nodes, visits: Cell::new(0) }
    }

    /// The node at `at`.
    pub fn node(&self, at: NodeIndex) -> Result<&'a WitNode, ValueError> {
        let node = usize::try_from(at).ok().and_then(|i| self.nodes.get(i)).ok_or_else(|| {
            ValueError::new(format!("a node index below {}", self.nodes.len()), format!("index {at}"))
        })?;
        let visits = self.visits.get() + 1;
        self.visits.set(visits);
        if visits > self.nodes.len() {
            return Err(ValueError::new("each node used once", "a node list with shared or cyclic nodes"));
        }
        Ok(node)
    }
}

/// A short description of a node, for errors.
pub fn describe(node: &WitNode) -> String {
    match node {
        WitNode::RecordValue(f) => format!("a record with {} field(s)", f.len()),
        WitNode::VariantValue((case, _)) => format!("variant case {case}"),
        WitNode::EnumValue(case) => format!("enum case {case}"),
        WitNode::FlagsValue(f) => format!("{} flag(s)", f.len()),
        WitNode::TupleValue(t) => format!("a tuple of {}", t.len()),
        WitNode::ListValue(l) => format!("a list of {}", l.len()),
        WitNode::OptionValue(_) => "an option".into(),
        WitNode::ResultValue(_) => "a result".into(),
        WitNode::PrimU8(v) => format!("u8 {v}"),
        WitNode::PrimU16(v) => format!("u16 {v}"),
        WitNode::PrimU32(v) => format!("u32 {v}"),
        WitNode::PrimU64(v) => format!("u64 {v}"),
        WitNode::PrimS8(v) => format!("s8 {v}"),
        WitNode::PrimS16(v) => format!("s16 {v}"),
        WitNode::PrimS32(v) => format!("s32 {v}"),
        WitNode::PrimS64(v) => format!("s64 {v}"),
        // No `{v}`: float formatting would add ~18 KB to every component.
        WitNode::PrimFloat32(_) => "an f32".into(),
        WitNode::PrimFloat64(_) => "an f64".into(),
        // Quoted, not `{c:?}`/`{s:?}`: Debug's escaping (and its Unicode
        // tables) would add ~5 KB to every component.
        WitNode::PrimChar(c) => format!("char '{c}'"),
        WitNode::PrimBool(b) => format!("bool {b}"),
        WitNode::PrimString(s) if s.len() > 40 => format!("a string of {} bytes", s.len()),
        WitNode::PrimString(s) => format!("string \"{s}\""),
        WitNode::Handle(_) => "a resource handle".into(),
    }
}

/// Rust types with a Golem type.
#[diagnostic::on_unimplemented(
    message = "`{Self}` has no Golem value conversion",
    label = "cannot be an agent or `#[durable]` parameter or result",
    note = "derive `reprise::Value` for your own types, wrap serde types in `reprise::value::Json`, and use owned types (`String`, not `&str`) for agent parameters"
)]
pub trait Schema {
    /// Whether this is `()`: a result's unit case has no payload at all
    /// (`result<_, E>`), as in WIT.
    const IS_UNIT: bool = false;

    /// Add this type's nodes; returns the index of its root node.
    fn add_type(b: &mut TypeBuilder) -> NodeIndex;

    /// The type on its own.
    fn wit_type() -> WitType {
        let mut b = TypeBuilder::default();
        Self::add_type(&mut b);
        b.finish()
    }
}

/// Rust values that can be written as Golem values.
#[diagnostic::on_unimplemented(
    message = "`{Self}` has no Golem value conversion",
    label = "cannot be an agent or `#[durable]` parameter or result",
    note = "derive `reprise::Value` for your own types, wrap serde types in `reprise::value::Json`, and use owned types (`String`, not `&str`) for agent parameters"
)]
pub trait IntoValue: Schema {
    /// Add this value's nodes; returns the index of its root node.
    fn add_value(&self, b: &mut ValueBuilder) -> NodeIndex;

    /// The value on its own.
    fn to_wit_value(&self) -> WitValue {
        let mut b = ValueBuilder::default();
        self.add_value(&mut b);
        b.finish()
    }

    /// The value with its type.
    fn to_value_and_type(&self) -> ValueAndType {
        ValueAndType { value: self.to_wit_value(), typ: Self::wit_type() }
    }
}

/// Rust values that can be read from Golem values.
#[diagnostic::on_unimplemented(
    message = "`{Self}` has no Golem value conversion",
    label = "cannot be an agent or `#[durable]` parameter or result",
    note = "derive `reprise::Value` for your own types, wrap serde types in `reprise::value::Json`, and use owned types (`String`, not `&str`) for agent parameters"
)]
pub trait FromValue: Schema + Sized {
    /// Read the value whose root node is `at`.
    fn read(r: &ValueReader<'_>, at: NodeIndex) -> Result<Self, ValueError>;

    /// The value a missing payload stands for (`Some(())` for `()`).
    fn absent() -> Option<Self> {
        None
    }

    /// Read a whole value.
    fn from_wit_value(value: &WitValue) -> Result<Self, ValueError> {
        Self::read(&ValueReader::new(value), 0)
    }
}

macro_rules! primitive {
    ($t:ty, $node:ident, $type_node:ident, $name:literal) => {
        impl Schema for $t {
            fn add_type(b: &mut TypeBuilder) -> NodeIndex {
                b.leaf(WitTypeNode::$type_node)
            }
        }
        impl IntoValue for $t {
            fn add_value(&self, b: &mut ValueBuilder) -> NodeIndex {
                b.leaf(WitNode::$node(*self))
            }
        }
        impl FromValue for $t {
            fn read(r: &ValueReader<'_>, at: NodeIndex) -> Result<Self, ValueError> {
                match r.node(at)? {
                    WitNode::$node(v) => Ok(*v),
                    other => Err(ValueError::new($name, describe(other))),
                }
            }
        }
    };
}

primitive!(bool, PrimBool, PrimBoolType, "bool");
primitive!(u8, PrimU8, PrimU8Type, "u8");
primitive!(u16, PrimU16, PrimU16Type, "u16");
primitive!(u32, PrimU32, PrimU32Type, "u32");
primitive!(u64, PrimU64, PrimU64Type, "u64");
primitive!(i8, PrimS8, PrimS8Type, "s8");
primitive!(i16, PrimS16, PrimS16Type, "s16");
primitive!(i32, PrimS32, PrimS32Type, "s32");
primitive!(i64, PrimS64, PrimS64Type, "s64");
primitive!(f32, PrimFloat32, PrimF32Type, "f32");
primitive!(f64, PrimFloat64, PrimF64Type, "f64");
primitive!(char, PrimChar, PrimCharType, "char");

impl Schema for String {
    fn add_type(b: &mut TypeBuilder) -> NodeIndex {
        b.leaf(WitTypeNode::PrimStringType)
    }
}

impl IntoValue for String {
    fn add_value(&self, b: &mut ValueBuilder) -> NodeIndex {
        b.leaf(WitNode::PrimString(self.clone()))
    }
}

impl FromValue for String {
    fn read(r: &ValueReader<'_>, at: NodeIndex) -> Result<Self, ValueError> {
        match r.node(at)? {
            WitNode::PrimString(s) => Ok(s.clone()),
            other => Err(ValueError::new("string", describe(other))),
        }
    }
}

impl Schema for str {
    fn add_type(b: &mut TypeBuilder) -> NodeIndex {
        String::add_type(b)
    }
}

impl IntoValue for str {
    fn add_value(&self, b: &mut ValueBuilder) -> NodeIndex {
        b.leaf(WitNode::PrimString(self.to_string()))
    }
}

impl<T: Schema + ?Sized> Schema for &T {
    fn add_type(b: &mut TypeBuilder) -> NodeIndex {
        T::add_type(b)
    }
}

impl<T: IntoValue + ?Sized> IntoValue for &T {
    fn add_value(&self, b: &mut ValueBuilder) -> NodeIndex {
        (**self).add_value(b)
    }
}

impl<T: Schema + ?Sized> Schema for Box<T> {
    fn add_type(b: &mut TypeBuilder) -> NodeIndex {
        T::add_type(b)
    }
}

impl<T: IntoValue + ?Sized> IntoValue for Box<T> {
    fn add_value(&self, b: &mut ValueBuilder) -> NodeIndex {
        (**self).add_value(b)
    }
}

impl<T: FromValue> FromValue for Box<T> {
    fn read(r: &ValueReader<'_>, at: NodeIndex) -> Result<Self, ValueError> {
        T::read(r, at).map(Box::new)
    }
}

/// `()` is the empty tuple.
impl Schema for () {
    const IS_UNIT: bool = true;

    fn add_type(b: &mut TypeBuilder) -> NodeIndex {
        b.leaf(WitTypeNode::TupleType(Vec::new()))
    }
}

impl IntoValue for () {
    fn add_value(&self, b: &mut ValueBuilder) -> NodeIndex {
        b.leaf(WitNode::TupleValue(Vec::new()))
    }
}

impl FromValue for () {
    fn absent() -> Option<Self> {
        Some(())
    }

    fn read(r: &ValueReader<'_>, at: NodeIndex) -> Result<Self, ValueError> {
        match r.node(at)? {
            WitNode::TupleValue(items) if items.is_empty() => Ok(()),
            other => Err(ValueError::new("an empty tuple", describe(other))),
        }
    }
}

fn read_list<T: FromValue>(r: &ValueReader<'_>, at: NodeIndex) -> Result<Vec<T>, ValueError> {
    match r.node(at)? {
        WitNode::ListValue(items) => items
            .iter()
            .enumerate()
            .map(|(i, item)| T::read(r, *item).map_err(|e| e.within(&format!("[{i}]"))))
            .collect(),
        other => Err(ValueError::new("a list", describe(other))),
    }
}

fn add_list<'a, T: IntoValue + 'a>(items: impl Iterator<Item = &'a T>, b: &mut ValueBuilder) -> NodeIndex {
    let at = b.reserve();
    let children = items.map(|item| item.add_value(b)).collect();
    b.set(at, WitNode::ListValue(children))
}

fn add_list_type<T: Schema>(b: &mut TypeBuilder) -> NodeIndex {
    let at = b.reserve();
    let element = T::add_type(b);
    b.set(at, WitTypeNode::ListType(element))
}

impl<T: Schema> Schema for Vec<T> {
    fn add_type(b: &mut TypeBuilder) -> NodeIndex {
        add_list_type::<T>(b)
    }
}

impl<T: IntoValue> IntoValue for Vec<T> {
    fn add_value(&self, b: &mut ValueBuilder) -> NodeIndex {
        add_list(self.iter(), b)
    }
}

impl<T: FromValue> FromValue for Vec<T> {
    fn read(r: &ValueReader<'_>, at: NodeIndex) -> Result<Self, ValueError> {
        read_list(r, at)
    }
}

impl<T: Schema> Schema for [T] {
    fn add_type(b: &mut TypeBuilder) -> NodeIndex {
        add_list_type::<T>(b)
    }
}

impl<T: IntoValue> IntoValue for [T] {
    fn add_value(&self, b: &mut ValueBuilder) -> NodeIndex {
        add_list(self.iter(), b)
    }
}

/// Arrays are lists of exactly `N` items.
impl<T: Schema, const N: usize> Schema for [T; N] {
    fn add_type(b: &mut TypeBuilder) -> NodeIndex {
        add_list_type::<T>(b)
    }
}

impl<T: IntoValue, const N: usize> IntoValue for [T; N] {
    fn add_value(&self, b: &mut ValueBuilder) -> NodeIndex {
        add_list(self.iter(), b)
    }
}

impl<T: FromValue, const N: usize> FromValue for [T; N] {
    fn read(r: &ValueReader<'_>, at: NodeIndex) -> Result<Self, ValueError> {
        let items: Vec<T> = read_list(r, at)?;
        let len = items.len();
        items.try_into().map_err(|_| ValueError::new(format!("a list of {N}"), format!("a list of {len}")))
    }
}

impl<T: Schema> Schema for Option<T> {
    fn add_type(b: &mut TypeBuilder) -> NodeIndex {
        let at = b.reserve();
        let inner = T::add_type(b);
        b.set(at, WitTypeNode::OptionType(inner))
    }
}

impl<T: IntoValue> IntoValue for Option<T> {
    fn add_value(&self, b: &mut ValueBuilder) -> NodeIndex {
        let at = b.reserve();
        let inner = self.as_ref().map(|v| v.add_value(b));
        b.set(at, WitNode::OptionValue(inner))
    }
}

impl<T: FromValue> FromValue for Option<T> {
    fn read(r: &ValueReader<'_>, at: NodeIndex) -> Result<Self, ValueError> {
        match r.node(at)? {
            WitNode::OptionValue(None) => Ok(None),
            WitNode::OptionValue(Some(inner)) => T::read(r, *inner).map(Some).map_err(|e| e.within("?")),
            other => Err(ValueError::new("an option", describe(other))),
        }
    }
}

impl<T: Schema, E: Schema> Schema for Result<T, E> {
    fn add_type(b: &mut TypeBuilder) -> NodeIndex {
        let at = b.reserve();
        let ok = (!T::IS_UNIT).then(|| T::add_type(b));
        let err = (!E::IS_UNIT).then(|| E::add_type(b));
        b.set(at, WitTypeNode::ResultType((ok, err)))
    }
}

impl<T: IntoValue, E: IntoValue> IntoValue for Result<T, E> {
    fn add_value(&self, b: &mut ValueBuilder) -> NodeIndex {
        let at = b.reserve();
        let node = match self {
            Ok(v) => WitNode::ResultValue(Ok((!T::IS_UNIT).then(|| v.add_value(b)))),
            Err(e) => WitNode::ResultValue(Err((!E::IS_UNIT).then(|| e.add_value(b)))),
        };
        b.set(at, node)
    }
}

impl<T: FromValue, E: FromValue> FromValue for Result<T, E> {
    fn read(r: &ValueReader<'_>, at: NodeIndex) -> Result<Self, ValueError> {
        match r.node(at)? {
            WitNode::ResultValue(Ok(Some(v))) => T::read(r, *v).map(Ok).map_err(|e| e.within(".ok")),
            WitNode::ResultValue(Err(Some(e))) => E::read(r, *e).map(Err).map_err(|e| e.within(".err")),
            WitNode::ResultValue(Ok(None)) => {
                T::absent().map(Ok).ok_or_else(|| ValueError::new("an ok payload", "none").within(".ok"))
            }
            WitNode::ResultValue(Err(None)) => {
                E::absent().map(Err).ok_or_else(|| ValueError::new("an err payload", "none").within(".err"))
            }
            other => Err(ValueError::new("a result", describe(other))),
        }
    }
}

macro_rules! tuple {
    ($($name:ident $idx:tt),+) => {
        impl<$($name: Schema),+> Schema for ($($name,)+) {
            fn add_type(b: &mut TypeBuilder) -> NodeIndex {
                let at = b.reserve();
                let items = vec![$($name::add_type(b)),+];
                b.set(at, WitTypeNode::TupleType(items))
            }
        }
        impl<$($name: IntoValue),+> IntoValue for ($($name,)+) {
            fn add_value(&self, b: &mut ValueBuilder) -> NodeIndex {
                let at = b.reserve();
                let items = vec![$(self.$idx.add_value(b)),+];
                b.set(at, WitNode::TupleValue(items))
            }
        }
        impl<$($name: FromValue),+> FromValue for ($($name,)+) {
            fn read(r: &ValueReader<'_>, at: NodeIndex) -> Result<Self, ValueError> {
                const LEN: usize = [$($idx),+].len();
                match r.node(at)? {
                    WitNode::TupleValue(items) if items.len() == LEN => Ok(($(
                        $name::read(r, items[$idx]).map_err(|e| e.within(concat!(".", stringify!($idx))))?,
                    )+)),
                    other => Err(ValueError::new(format!("a tuple of {LEN}"), describe(other))),
                }
            }
        }
    };
}

tuple!(A 0);
tuple!(A 0, B 1);
tuple!(A 0, B 1, C 2);
tuple!(A 0, B 1, C 2, D 3);
tuple!(A 0, B 1, C 2, D 3, E 4);
tuple!(A 0, B 1, C 2, D 3, E 4, F 5);
tuple!(A 0, B 1, C 2, D 3, E 4, F 5, G 6);
tuple!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7);

/// Maps are lists of key-value tuples (Golem has no map type).
impl<K: Schema, V: Schema> Schema for BTreeMap<K, V> {
    fn add_type(b: &mut TypeBuilder) -> NodeIndex {
        <Vec<(K, V)>>::add_type(b)
    }
}

impl<K: IntoValue, V: IntoValue> IntoValue for BTreeMap<K, V> {
    fn add_value(&self, b: &mut ValueBuilder) -> NodeIndex {
        add_map(self.iter(), b)
    }
}

impl<K: FromValue + Ord, V: FromValue> FromValue for BTreeMap<K, V> {
    fn read(r: &ValueReader<'_>, at: NodeIndex) -> Result<Self, ValueError> {
        Ok(<Vec<(K, V)>>::read(r, at)?.into_iter().collect())
    }
}

impl<K: Schema, V: Schema, S> Schema for HashMap<K, V, S> {
    fn add_type(b: &mut TypeBuilder) -> NodeIndex {
        <Vec<(K, V)>>::add_type(b)
    }
}

impl<K: IntoValue, V: IntoValue, S> IntoValue for HashMap<K, V, S> {
    fn add_value(&self, b: &mut ValueBuilder) -> NodeIndex {
        add_map(self.iter(), b)
    }
}

impl<K: FromValue + Eq + Hash, V: FromValue, S: std::hash::BuildHasher + Default> FromValue for HashMap<K, V, S> {
    fn read(r: &ValueReader<'_>, at: NodeIndex) -> Result<Self, ValueError> {
        Ok(<Vec<(K, V)>>::read(r, at)?.into_iter().collect())
    }
}

fn add_map<'a, K: IntoValue + 'a, V: IntoValue + 'a>(
    entries: impl Iterator<Item = (&'a K, &'a V)>,
    b: &mut ValueBuilder,
) -> NodeIndex {
    let at = b.reserve();
    let mut children = Vec::new();
    for (k, v) in entries {
        let pair = b.reserve();
        let items = vec![k.add_value(b), v.add_value(b)];
        b.set(pair, WitNode::TupleValue(items));
        children.push(pair);
    }
    b.set(at, WitNode::ListValue(children))
}

/// A UUID is Golem's `uuid` record: `high-bits` and `low-bits`.
impl Schema for uuid::Uuid {
    fn add_type(b: &mut TypeBuilder) -> NodeIndex {
        let at = b.reserve();
        let high = b.leaf(WitTypeNode::PrimU64Type);
        let low = b.leaf(WitTypeNode::PrimU64Type);
        b.set(at, WitTypeNode::RecordType(vec![("high-bits".into(), high), ("low-bits".into(), low)]));
        b.name(at, "uuid", Some("golem:core/types@1.5.0"))
    }
}

impl IntoValue for uuid::Uuid {
    fn add_value(&self, b: &mut ValueBuilder) -> NodeIndex {
        let (high, low) = self.as_u64_pair();
        let at = b.reserve();
        let fields = vec![b.leaf(WitNode::PrimU64(high)), b.leaf(WitNode::PrimU64(low))];
        b.set(at, WitNode::RecordValue(fields))
    }
}

impl FromValue for uuid::Uuid {
    fn read(r: &ValueReader<'_>, at: NodeIndex) -> Result<Self, ValueError> {
        match r.node(at)? {
            WitNode::RecordValue(fields) if fields.len() == 2 => {
                let high = u64::read(r, fields[0]).map_err(|e| e.within(".high-bits"))?;
                let low = u64::read(r, fields[1]).map_err(|e| e.within(".low-bits"))?;
                Ok(uuid::Uuid::from_u64_pair(high, low))
            }
            other => Err(ValueError::new("a uuid record", describe(other))),
        }
    }
}

/// Any `serde` value, carried as a JSON string: for types that cannot derive
/// the value traits.
///
/// ```
/// use reprise::value::{FromValue, IntoValue, Json};
///
/// #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
/// struct Settings { retries: u8 }
///
/// let v = Json(Settings { retries: 3 }).to_wit_value();
/// assert_eq!(Json::<Settings>::from_wit_value(&v).unwrap().0, Settings { retries: 3 });
/// ```
#[cfg(feature = "json")]
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Json<T>(pub T);

#[cfg(feature = "json")]
impl<T> Schema for Json<T> {
    fn add_type(b: &mut TypeBuilder) -> NodeIndex {
        b.leaf(WitTypeNode::PrimStringType)
    }
}

#[cfg(feature = "json")]
impl<T: serde::Serialize> IntoValue for Json<T> {
    fn add_value(&self, b: &mut ValueBuilder) -> NodeIndex {
        // Serializing plain data to a string only fails for maps with
        // non-string keys; those are written as an error text rather than
        // aborting the guest.
        let text = serde_json::to_string(&self.0).unwrap_or_else(|e| format!("{{\"error\":{:?}}}", e.to_string()));
        b.leaf(WitNode::PrimString(text))
    }
}

#[cfg(feature = "json")]
impl<T: serde::de::DeserializeOwned> FromValue for Json<T> {
    fn read(r: &ValueReader<'_>, at: NodeIndex) -> Result<Self, ValueError> {
        let text = String::read(r, at)?;
        serde_json::from_str(&text)
            .map(Json)
            .map_err(|e| ValueError::new(format!("JSON of {}", std::any::type_name::<T>()), format!("{e}")))
    }
}
