//! Typed calls into agents from host-side tests.
//!
//! For every agent type, [`#[reprise::agent]`](macro@crate::agent) also
//! generates two host-only types (not compiled into the component), named
//! after the Rust type (also when `name = "..."` renames the agent type):
//!
//! - `CounterCall`: `CounterCall::new(..)` takes the constructor's Rust
//!   arguments and returns a [`Constructor`]; `CounterCall::increment(..)`
//!   takes a method's arguments and returns a [`Call`] that knows its
//!   result type.
//! - `CounterHandle<A>`: an agent running in a host (the testkit's `Agent`,
//!   an `AgentHandle`, or `&mut` either),
//!   with one method per agent method, taking and returning the agent's own
//!   Rust types. A method returning `Result<T, E>` comes back as
//!   `Ok(Ok(t))` or `Ok(Err(e))` with your `E`; the outer error is the host's
//!   (a trap, a timeout, an answer that does not decode).
//!
//! The testkit implements [`AgentConnection`] for its agents and takes
//! [`Constructor`]s and [`Call`]s in its scenarios, so a test reads:
//!
//! ```ignore
//! use counter::{Counter, CounterCall};
//!
//! let mut counter = env.create(&component, CounterCall::new("visits".to_string()))?;
//! assert_eq!(counter.increment(2)?, 2);
//! let scenario = Scenario::of(CounterCall::new("visits".to_string()))
//!     .then(CounterCall::increment(2))
//!     .expect(CounterCall::get(), 2);
//! ```
//!
//! An argument of the wrong type is a compile error, not a failed call. To
//! name the agent's types in tests, build the crate as a library as well:
//! `crate-type = ["cdylib", "rlib"]`.

use std::fmt;
use std::marker::PhantomData;

use crate::bindings::golem::core::types::{DataValue, ElementValue, WitValue};
use crate::value::{FromValue, IntoValue, NodeIndex, Schema, TypeBuilder, ValueError, ValueReader, describe};

/// An agent type whose typed handle `#[reprise::agent]` generated.
pub trait TypedAgent {
    /// The agent type's name in the component.
    const TYPE_NAME: &'static str;
    /// The error a refusing constructor returns (`E` of `Result<Self, E>`;
    /// [`NeverFails`] for a constructor returning `Self`).
    type ConstructorError: FromValue;
    /// The typed handle over a host's agent `A`.
    type Handle<A>;
    /// Wrap a host's agent in the typed handle.
    fn handle<A>(agent: A) -> Self::Handle<A>;
}

/// The constructor error of an agent type whose constructor returns `Self`:
/// it has no values, and reading one is an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NeverFails {}

impl Schema for NeverFails {
    fn add_type(b: &mut TypeBuilder) -> NodeIndex {
        <() as Schema>::add_type(b)
    }
}

impl FromValue for NeverFails {
    fn read(r: &ValueReader<'_>, at: NodeIndex) -> Result<Self, ValueError> {
        Err(ValueError::new("no error (this constructor cannot fail)", describe(r.node(at)?)))
    }
}

/// The error type of a fallible constructor's output (`E` of
/// `Result<Self, E>`, also when written through an alias); the generated
/// [`TypedAgent`] implementations name it through this.
#[doc(hidden)]
pub trait ConstructorOutput {
    /// `E`.
    type Error: FromValue;
}

impl<T, E: FromValue> ConstructorOutput for Result<T, E> {
    type Error = E;
}

/// The creation of an agent of type `T`: its constructor's arguments.
pub struct Constructor<T: ?Sized> {
    input: DataValue,
    agent: PhantomData<fn() -> T>,
}

impl<T: TypedAgent + ?Sized> Constructor<T> {
    /// The constructor input `args` (made by the generated `...Call::new`).
    pub fn new(args: Vec<ElementValue>) -> Self {
        Constructor { input: DataValue::Tuple(args), agent: PhantomData }
    }

    /// The agent type's name.
    pub fn agent_type(&self) -> &'static str {
        T::TYPE_NAME
    }

    /// The constructor's input, as Golem passes it.
    pub fn input(&self) -> &DataValue {
        &self.input
    }

    /// The constructor's arguments, one value each.
    pub fn args(&self) -> Vec<&WitValue> {
        component_values(&self.input)
    }
}

impl<T: ?Sized> Clone for Constructor<T> {
    fn clone(&self) -> Self {
        Constructor { input: self.input.clone(), agent: PhantomData }
    }
}

impl<T: TypedAgent + ?Sized> fmt::Debug for Constructor<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Constructor").field("agent_type", &T::TYPE_NAME).field("input", &self.input).finish()
    }
}

/// One method call whose result is an `R`.
pub struct Call<R> {
    agent_type: &'static str,
    method: &'static str,
    input: DataValue,
    returns: bool,
    output: PhantomData<fn() -> R>,
}

impl<R> Call<R> {
    /// The name of the agent type the method belongs to.
    pub fn agent_type(&self) -> &'static str {
        self.agent_type
    }

    /// The agent method's name.
    pub fn method(&self) -> &'static str {
        self.method
    }

    /// The call's input, as Golem passes it.
    pub fn input(&self) -> &DataValue {
        &self.input
    }

    /// The call's arguments, one value each.
    pub fn args(&self) -> Vec<&WitValue> {
        component_values(&self.input)
    }

    /// Whether the method returns a value (`false`: it returns nothing and
    /// `R` is `()`).
    pub fn returns_value(&self) -> bool {
        self.returns
    }
}

impl<R: FromValue> Call<R> {
    /// A call of `method` of `agent_type`, which returns an `R`.
    pub fn returning(agent_type: &'static str, method: &'static str, args: Vec<ElementValue>) -> Self {
        Call { agent_type, method, input: DataValue::Tuple(args), returns: true, output: PhantomData }
    }

    /// Read the method's output as an `R`.
    pub fn decode(&self, output: &DataValue) -> Result<R, ValueError> {
        let values = component_values(output);
        match (self.returns, values.as_slice()) {
            (true, [value]) => R::from_wit_value(value),
            (false, []) => R::absent().ok_or_else(|| ValueError::new("no output", "no output for a value")),
            (true, _) => Err(ValueError::new("one output value", format!("{} output values", values.len()))),
            (false, _) => Err(ValueError::new("no output", format!("{} output values", values.len()))),
        }
    }

    /// The value `result` as the method's output would hold it (what a
    /// scenario expects).
    pub fn expected_output(&self, result: &R) -> Vec<WitValue>
    where
        R: IntoValue,
    {
        if self.returns { vec![result.to_wit_value()] } else { Vec::new() }
    }
}

impl Call<()> {
    /// A call of `method` of `agent_type`, which returns nothing.
    pub fn returning_nothing(agent_type: &'static str, method: &'static str, args: Vec<ElementValue>) -> Self {
        Call { agent_type, method, input: DataValue::Tuple(args), returns: false, output: PhantomData }
    }
}

impl<R> Clone for Call<R> {
    fn clone(&self) -> Self {
        Call {
            agent_type: self.agent_type,
            method: self.method,
            input: self.input.clone(),
            returns: self.returns,
            output: PhantomData,
        }
    }
}

impl<R> fmt::Debug for Call<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Call")
            .field("agent_type", &self.agent_type)
            .field("method", &self.method)
            .field("input", &self.input)
            .finish()
    }
}

/// An agent running in a host, called by method name with Golem's
/// `data-value`s; the typed handles are built on it.
pub trait AgentConnection {
    /// The host's error: the call did not produce an answer.
    type Error;

    /// Invoke `method` with `input` and return its output.
    fn call_data(&mut self, method: &str, input: DataValue) -> Result<DataValue, Self::Error>;

    /// The error for an answer of `method` that is not the method's result
    /// type (the component is not the build the test was compiled with).
    fn undecodable(&self, method: &str, error: ValueError) -> Self::Error;

    /// Make `call` and read its result (named apart from the testkit
    /// `Agent`'s own `call` and `invoke`, which take dynamic values).
    fn perform<R: FromValue>(&mut self, call: Call<R>) -> Result<R, Self::Error> {
        let output = self.call_data(call.method, call.input.clone())?;
        call.decode(&output).map_err(|e| self.undecodable(call.method, e))
    }
}

/// A borrowed connection: a typed handle over an agent a test lends.
impl<C: AgentConnection + ?Sized> AgentConnection for &mut C {
    type Error = C::Error;

    fn call_data(&mut self, method: &str, input: DataValue) -> Result<DataValue, Self::Error> {
        (**self).call_data(method, input)
    }

    fn undecodable(&self, method: &str, error: ValueError) -> Self::Error {
        (**self).undecodable(method, error)
    }
}

fn component_values(data: &DataValue) -> Vec<&WitValue> {
    let elements: Vec<&ElementValue> = match data {
        DataValue::Tuple(items) => items.iter().collect(),
        DataValue::Multimodal(items) => items.iter().map(|(_, e)| e).collect(),
    };
    elements
        .into_iter()
        .filter_map(|e| match e {
            ElementValue::ComponentModel(v) => Some(v),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rpc::arg;

    struct Shelf;
    impl TypedAgent for Shelf {
        const TYPE_NAME: &'static str = "Shelf";
        type ConstructorError = NeverFails;
        type Handle<A> = A;
        fn handle<A>(agent: A) -> A {
            agent
        }
    }

    #[test]
    fn calls_read_their_own_result_type_and_name_a_mismatch() {
        let call: Call<Result<u32, String>> = Call::returning("Shelf", "take", vec![arg("apple"), arg(&2u32)]);
        assert_eq!(call.args().len(), 2);
        let refused = DataValue::Tuple(vec![arg(&Err::<u32, String>("none left".into()))]);
        assert_eq!(call.decode(&refused), Ok(Err("none left".to_string())));
        let wrong = DataValue::Tuple(vec![arg("three")]);
        assert_eq!(call.decode(&wrong).unwrap_err().to_string(), "at $: expected a result, found string \"three\"");
        let nothing = Call::returning_nothing("Shelf", "clear", Vec::new());
        assert_eq!(nothing.decode(&DataValue::Tuple(Vec::new())), Ok(()));
        assert!(nothing.decode(&refused).is_err());
        let ctor = Constructor::<Shelf>::new(vec![arg("north")]);
        assert_eq!((ctor.agent_type(), ctor.args().len()), ("Shelf", 1));
    }
}
