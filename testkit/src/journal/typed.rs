//! Journaled host calls driven by types: a request and a response convert
//! to and from component-model values through [`Journaled`], and
//! [`Journal::call`] records, replays or runs the call.

use super::entries::Strict;
use super::{HostCall, Journal};
use crate::bindings::golem::api::host::PersistenceLevel;
use crate::bindings::golem::api::oplog::{HostCallParameters, WrappedFunctionType};
use crate::error::{CorruptEntry, Divergence};
use crate::oplog::OplogEntry;
use crate::oplog::describe;
use crate::value::{Type, Value, value_and_type};

use super::interrupt::Interrupt;

/// A Rust value recorded in the oplog as a component-model value of a fixed
/// type: the request or the response of a journaled host call.
pub(crate) trait Journaled: Sized {
    /// The component-model type it is recorded as.
    fn journal_type() -> Type;

    /// The value recorded.
    fn to_value(&self) -> Value;

    /// The value back from a recorded one; `None` when it does not fit (a
    /// corrupt or foreign entry).
    fn from_value(value: &Value) -> Option<Self>;

    /// As the payload of a `result` case: `()` has none.
    fn payload_type() -> Option<Type> {
        Some(Self::journal_type())
    }

    /// See [`Journaled::payload_type`].
    fn to_payload(&self) -> Option<Value> {
        Some(self.to_value())
    }

    /// See [`Journaled::payload_type`].
    fn from_payload(value: Option<&Value>) -> Option<Self> {
        Self::from_value(value?)
    }
}

impl Journal {
    /// Run a journaled host function: live, `run` performs it and its request
    /// and response are recorded (at every persistence level, as Golem
    /// records them: replay passes over persist-nothing zones); replaying,
    /// the recorded response is returned and `run` is not called.
    pub(crate) fn call<Req: Journaled, Resp: Journaled>(
        &mut self,
        function: &str,
        function_type: WrappedFunctionType,
        request: &Req,
        run: impl FnOnce(&mut Self) -> Resp,
    ) -> wasmtime::Result<Resp> {
        self.raise_pending()?;
        self.draw(function);
        if !self.is_live() {
            return self.replay_recorded(function, &function_type, request);
        }
        // Other agents may act before this call does.
        crate::scheduler::yield_at(self.last_index() + 1);
        let begin = if self.brackets(&function_type) { Some(self.begin_remote_write(&function_type)?) } else { None };
        let result = run(self);
        self.record(function, function_type, request, &result)?;
        // A remote write is committed by `append` (or, bracketed, with its
        // end), as Golem commits at the end of such a durable function.
        if let Some(begin) = begin {
            self.end_remote_write(begin)?;
        }
        Ok(result)
    }

    /// A step performed by the caller (`Some` when [`Journal::performs_live`]),
    /// recorded; or, replaying (`None`), the recorded result. For calls Golem
    /// never brackets: the steps of a batch begun earlier.
    pub(crate) fn step<Req: Journaled, Resp: Journaled>(
        &mut self,
        function: &str,
        function_type: WrappedFunctionType,
        request: &Req,
        performed: Option<Resp>,
    ) -> wasmtime::Result<Resp> {
        self.raise_pending()?;
        self.draw(function);
        match performed {
            Some(result) => {
                self.record(function, function_type, request, &result)?;
                Ok(result)
            }
            None => self.replay_recorded(function, &function_type, request),
        }
    }

    /// Whether a call made now is performed (live) rather than replayed.
    pub(crate) fn performs_live(&mut self) -> bool {
        let live = self.is_live();
        if live {
            // Other agents may act before the step is performed.
            crate::scheduler::yield_at(self.last_index() + 1);
        }
        live
    }

    /// The recorded result of a call. Golem cannot replay a call made with
    /// persistence off (its zone is passed over): such a call fails replay.
    fn replay_recorded<Req: Journaled, Resp: Journaled>(
        &mut self,
        function: &str,
        function_type: &WrappedFunctionType,
        request: &Req,
    ) -> wasmtime::Result<Resp> {
        if matches!(self.persistence, PersistenceLevel::PersistNothing) {
            let index = self.peek().map_or(self.last_index() + 1, |p| p as u64 + 1);
            let expected = self.oplog.get(index).map(describe).unwrap_or_else(|| "nothing more".into());
            let actual = format!(
                "called `{function}` with persistence off while replaying (Golem passes over persist-nothing \
                 zones on replay and fails such a call: \"Trying to replay ... in a PersistNothing block\")"
            );
            return Err(Interrupt::from(Divergence { oplog_index: index, expected, actual }).raise());
        }
        let (response, result) = self.replay_call::<Resp>(function, function_type)?;
        self.calls.push(HostCall { function: function.into(), request: request.to_value(), response, replayed: true });
        Ok(result)
    }

    /// Append the host-call entry of a call performed live.
    fn record<Req: Journaled, Resp: Journaled>(
        &mut self,
        function: &str,
        function_type: WrappedFunctionType,
        request: &Req,
        result: &Resp,
    ) -> wasmtime::Result<()> {
        let entry = host_call_entry(function, function_type, request, result, self.now());
        let (request, response) = (request.to_value(), result.to_value());
        self.calls.push(HostCall { function: function.into(), request, response, replayed: false });
        self.append(entry).map(|_| ())
    }

    /// Replay a call of `function`, with the begin- and end-remote-write
    /// entries around it when a call of `function_type` has them: its
    /// response as recorded and as `T`.
    pub(crate) fn replay_call<T: Journaled>(
        &mut self,
        function: &str,
        function_type: &WrappedFunctionType,
    ) -> wasmtime::Result<(Value, T)> {
        let begin = if self.brackets(function_type) { Some(self.begin_remote_write(function_type)?) } else { None };
        let replayed = self.replay_response::<T>(function)?;
        if let Some(begin) = begin {
            self.end_remote_write(begin)?;
        }
        Ok(replayed)
    }

    /// The next recorded entry, which must be a call of `function`: its
    /// response as recorded and as `T`.
    fn replay_response<T: Journaled>(&mut self, function: &str) -> wasmtime::Result<(Value, T)> {
        let (index, entry) = self.replay(Strict::HostCall, || format!("called `{function}`"))?;
        let OplogEntry::HostCall(p) = entry else {
            return Err(Interrupt::from(CorruptEntry { oplog_index: index, reason: "not a host call".into() }).raise());
        };
        if p.function_name != function {
            let divergence =
                Divergence { oplog_index: index, expected: describe(entry), actual: format!("called `{function}`") };
            return Err(Interrupt::from(divergence).raise());
        }
        let corrupt = |reason: String| Interrupt::from(CorruptEntry { oplog_index: index, reason }).raise();
        let response = Value::from_wit(&p.response.value).map_err(|e| corrupt(e.to_string()))?;
        let result =
            T::from_value(&response).ok_or_else(|| corrupt(format!("its response does not fit `{function}`")))?;
        Ok((response, result))
    }
}

impl Journaled for () {
    fn journal_type() -> Type {
        Type::Tuple(Vec::new())
    }

    fn to_value(&self) -> Value {
        Value::Tuple(Vec::new())
    }

    fn from_value(_: &Value) -> Option<Self> {
        Some(())
    }

    fn payload_type() -> Option<Type> {
        None
    }

    fn to_payload(&self) -> Option<Value> {
        None
    }

    fn from_payload(value: Option<&Value>) -> Option<Self> {
        value.is_none().then_some(())
    }
}

impl Journaled for bool {
    fn journal_type() -> Type {
        Type::Bool
    }

    fn to_value(&self) -> Value {
        Value::Bool(*self)
    }

    fn from_value(value: &Value) -> Option<Self> {
        value.as_bool()
    }
}

impl Journaled for u8 {
    fn journal_type() -> Type {
        Type::U8
    }

    fn to_value(&self) -> Value {
        Value::U8(*self)
    }

    fn from_value(value: &Value) -> Option<Self> {
        match value {
            Value::U8(b) => Some(*b),
            _ => None,
        }
    }
}

/// Unsigned integers wider than a byte: any recorded unsigned value that fits.
macro_rules! journaled_unsigned {
    ($($ty:ty => $case:ident),+) => {$(
        impl Journaled for $ty {
            fn journal_type() -> Type {
                Type::$case
            }

            fn to_value(&self) -> Value {
                Value::$case(*self)
            }

            fn from_value(value: &Value) -> Option<Self> {
                <$ty>::try_from(value.as_u64()?).ok()
            }
        }
    )+};
}

journaled_unsigned!(u16 => U16, u32 => U32, u64 => U64);

impl Journaled for String {
    fn journal_type() -> Type {
        Type::String
    }

    fn to_value(&self) -> Value {
        Value::string(self.clone())
    }

    fn from_value(value: &Value) -> Option<Self> {
        value.as_str().map(str::to_string)
    }
}

/// `list<T>`; `Vec<u8>` is `list<u8>`, as bytes are in WIT.
impl<T: Journaled> Journaled for Vec<T> {
    fn journal_type() -> Type {
        Type::List(Box::new(T::journal_type()))
    }

    fn to_value(&self) -> Value {
        Value::List(self.iter().map(Journaled::to_value).collect())
    }

    fn from_value(value: &Value) -> Option<Self> {
        match value {
            Value::List(items) => items.iter().map(T::from_value).collect(),
            _ => None,
        }
    }
}

impl<T: Journaled> Journaled for Option<T> {
    fn journal_type() -> Type {
        Type::option(T::journal_type())
    }

    fn to_value(&self) -> Value {
        Value::option(self.as_ref().map(Journaled::to_value))
    }

    fn from_value(value: &Value) -> Option<Self> {
        match value {
            Value::Option(Some(inner)) => T::from_value(inner).map(Some),
            Value::Option(None) => Some(None),
            _ => None,
        }
    }
}

/// `result<T, E>`, with no payload on a side whose type is `()`.
impl<T: Journaled, E: Journaled> Journaled for Result<T, E> {
    fn journal_type() -> Type {
        Type::result(T::payload_type(), E::payload_type())
    }

    fn to_value(&self) -> Value {
        Value::Result(match self {
            Ok(t) => Ok(t.to_payload().map(Box::new)),
            Err(e) => Err(e.to_payload().map(Box::new)),
        })
    }

    fn from_value(value: &Value) -> Option<Self> {
        match value {
            Value::Result(Ok(payload)) => T::from_payload(payload.as_deref()).map(Ok),
            Value::Result(Err(payload)) => E::from_payload(payload.as_deref()).map(Err),
            _ => None,
        }
    }
}

macro_rules! journaled_tuple {
    ($($name:ident : $index:tt),+) => {
        impl<$($name: Journaled),+> Journaled for ($($name,)+) {
            fn journal_type() -> Type {
                Type::Tuple(vec![$($name::journal_type()),+])
            }

            fn to_value(&self) -> Value {
                Value::Tuple(vec![$(self.$index.to_value()),+])
            }

            fn from_value(value: &Value) -> Option<Self> {
                match value {
                    Value::Tuple(items) if items.len() == [$($index),+].len() => {
                        Some(($($name::from_value(&items[$index])?,)+))
                    }
                    _ => None,
                }
            }
        }
    };
}

journaled_tuple!(A: 0);
journaled_tuple!(A: 0, B: 1);
journaled_tuple!(A: 0, B: 1, C: 2);
journaled_tuple!(A: 0, B: 1, C: 2, D: 3);

/// A record type journaled field by field, in declaration order, under its
/// WIT field names: `journaled_record!(Datetime { seconds: "seconds", ... })`.
macro_rules! journaled_record {
    ($ty:ty { $($field:ident : $name:literal),+ $(,)? }) => {
        impl $crate::journal::Journaled for $ty {
            fn journal_type() -> $crate::value::Type {
                $crate::value::Type::Record(vec![
                    $(($name.to_string(), $crate::journal::journal_type_of(&|s: &$ty| &s.$field))),+
                ])
            }

            fn to_value(&self) -> $crate::value::Value {
                $crate::value::Value::Record(vec![$($crate::journal::Journaled::to_value(&self.$field)),+])
            }

            fn from_value(value: &$crate::value::Value) -> Option<Self> {
                let $crate::value::Value::Record(fields) = value else { return None };
                if fields.len() != [$(stringify!($field)),+].len() {
                    return None;
                }
                let mut fields = fields.iter();
                Some(Self { $($field: $crate::journal::Journaled::from_value(fields.next()?)?),+ })
            }
        }
    };
}
pub(crate) use journaled_record;

/// The type of a field, named by an accessor (lets [`journaled_record!`]
/// name field types without repeating them).
pub(crate) fn journal_type_of<S, F: Journaled>(_field: &dyn Fn(&S) -> &F) -> Type {
    F::journal_type()
}

/// The host-call entry recording `function` answering `response` to
/// `request`, as replay reads it back (also for entries the executor writes
/// into another agent's oplog: the answer of `fork` in the forked copy).
pub(crate) fn host_call_entry<Req: Journaled, Resp: Journaled>(
    function: &str,
    function_type: WrappedFunctionType,
    request: &Req,
    response: &Resp,
    timestamp: crate::bindings::wasi::clocks::wall_clock::Datetime,
) -> OplogEntry {
    OplogEntry::HostCall(HostCallParameters {
        timestamp,
        function_name: function.into(),
        request: value_and_type(&request.to_value(), &Req::journal_type()),
        response: value_and_type(&response.to_value(), &Resp::journal_type()),
        durable_function_type: function_type,
    })
}

/// A value journaled as JSON text (`string`), for structured answers with
/// no component-model type of their own (an RPC answer, agent metadata).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Json<T>(pub(crate) T);

impl<T: serde::Serialize + serde::de::DeserializeOwned> Journaled for Json<T> {
    fn journal_type() -> Type {
        Type::String
    }

    fn to_value(&self) -> Value {
        Value::string(serde_json::to_string(&self.0).unwrap_or_default())
    }

    fn from_value(value: &Value) -> Option<Self> {
        serde_json::from_str(value.as_str()?).ok().map(Json)
    }
}
