//! Golem 1.5 agents: a Rust type whose constructor and methods other agents
//! and clients call through `golem:agent/guest@1.5.0`.
//!
//! Put [`#[reprise::agent]`](macro@crate::agent) on the type's `impl` block and
//! list the component's agent types once in [`export_agents!`](crate::export_agents):
//!
//! ```no_run
//! /// Counts things for someone.
//! struct Counter {
//!     owner: String,
//!     value: u64,
//! }
//!
//! #[reprise::agent]
//! impl Counter {
//!     /// A counter for `owner`, starting at zero.
//!     pub fn new(owner: String) -> Self {
//!         Counter { owner, value: 0 }
//!     }
//!
//!     /// Add `by` and return the new value.
//!     pub fn increment(&mut self, by: u64) -> u64 {
//!         self.value += by;
//!         self.value
//!     }
//!
//!     /// The current value.
//!     pub fn get(&self) -> u64 {
//!         self.value
//!     }
//! }
//!
//! reprise::export_agents!(Counter);
//! ```
//!
//! - The constructor is the associated function returning `Self` (or
//!   `Result<Self, E>`: an `Err` fails the creation with `E` as the
//!   interface's custom error). Every `pub fn` taking `&self` or `&mut self`
//!   is an agent method; other functions stay private helpers.
//! - Parameters and results convert through [`crate::value`]: primitives,
//!   strings, collections, options, results, tuples, `#[derive(reprise::Value)]`
//!   types and [`value::Json`](crate::value::Json). Doc comments become the
//!   descriptions Golem shows.
//! - The agent type is named after the Rust type (`Counter`), its methods and
//!   parameters after theirs, as the golem-rust SDK names them;
//!   `#[reprise::agent(name = "...")]` chooses another type name.
//! - Methods are synchronous. An agent handles one invocation at a time, so
//!   `async` would add nothing but an executor; `async fn` is refused.
//!
//! - Next to the type the macro generates its RPC client, `CounterClient`
//!   (`#[reprise::agent(client = "...")]` names it otherwise): `connect` with
//!   the constructor's parameters, then one method per agent method,
//!   returning `Result<_, rpc::RpcError>`; see [`crate::rpc`]. Agent methods
//!   cannot be called `connect` or `remote`, the client's own items.
//!
//! One component may hold several agent types:
//! `reprise::export_agents!(Order, Inventory);`.

use std::cell::RefCell;

pub use crate::bindings::golem::agent::common::{AgentError, AgentType, Principal};
use crate::bindings::golem::core::types::DataValue;

/// An agent type. Implemented by [`#[reprise::agent]`](macro@crate::agent);
/// implement it by hand only for an agent the macro cannot express.
pub trait Agent: Sized + 'static {
    /// The agent type's name.
    const TYPE_NAME: &'static str;

    /// The agent type as discovery reports it: constructor, methods, schemas.
    fn definition() -> AgentType;

    /// Build the agent from its constructor input.
    fn construct(input: &DataValue) -> Result<Self, AgentError>;

    /// Run method `method` with `input`.
    fn invoke(&mut self, method: &str, input: &DataValue) -> Result<DataValue, AgentError>;
}

/// An agent instance whose type is known only at run time.
trait Instance {
    fn invoke(&mut self, method: &str, input: &DataValue) -> Result<DataValue, AgentError>;
    fn definition(&self) -> AgentType;
}

impl<A: Agent> Instance for A {
    fn invoke(&mut self, method: &str, input: &DataValue) -> Result<DataValue, AgentError> {
        Agent::invoke(self, method, input)
    }

    fn definition(&self) -> AgentType {
        A::definition()
    }
}

thread_local! {
    /// The one agent this component instance hosts, once initialized.
    static CURRENT: RefCell<Option<Box<dyn Instance>>> = const { RefCell::new(None) };
    static PRINCIPAL: RefCell<Option<Principal>> = const { RefCell::new(None) };
}

/// Who created the running agent (as the executor passed it to `initialize`).
pub fn principal() -> Option<Principal> {
    PRINCIPAL.with(|p| p.borrow().clone())
}

#[doc(hidden)]
pub mod __private {
    //! The glue [`export_agents!`](crate::export_agents) and the agent macro
    //! expand to.
    use std::cell::Cell;

    use super::*;
    use crate::bindings::exports::golem::agent::guest as glue;
    use crate::bindings::golem::agent::common::{AgentConstructor, AgentMethod, AgentMode, Snapshotting};
    use crate::bindings::golem::core::types::{DataSchema, ElementSchema, ElementValue, ValueAndType, WitValue};
    use crate::value::{FromValue, IntoValue, Schema};

    /// One agent type of a component, as `export_agents!` lists them.
    #[derive(Clone, Copy, Debug)]
    pub struct Entry {
        type_name: &'static str,
        definition: fn() -> AgentType,
        construct: fn(&DataValue) -> Result<Box<dyn Instance>, AgentError>,
    }

    fn construct_boxed<A: Agent>(input: &DataValue) -> Result<Box<dyn Instance>, AgentError> {
        Ok(Box::new(A::construct(input)?))
    }

    /// Run an async agent method to completion on wstd's executor.
    pub fn block_on<F: std::future::Future>(future: F) -> F::Output {
        wstd::runtime::block_on(future)
    }

    /// The entry for agent type `A`.
    pub fn entry<A: Agent>() -> Entry {
        Entry { type_name: A::TYPE_NAME, definition: A::definition, construct: construct_boxed::<A> }
    }

    fn names(entries: &[Entry]) -> String {
        entries.iter().map(|e| e.type_name).collect::<Vec<_>>().join(", ")
    }

    thread_local! {
        /// Set while `get-definition` runs its answer through the
        /// `discover-agent-types` glue.
        static DEFINITION_ONLY: Cell<bool> = const { Cell::new(false) };
        /// The return area of that `discover-agent-types` call, for the post-return.
        static DEFINITION_RET: Cell<*mut u8> = const { Cell::new(std::ptr::null_mut()) };
        /// Set while `initialize` runs through the `invoke` glue.
        static INITIALIZING: Cell<bool> = const { Cell::new(false) };
    }

    /// `golem:agent/guest.get-definition` at the canonical ABI. The
    /// `agent-type` is lowered by the `discover-agent-types` glue, as the
    /// one-element list `ok([definition])`: a list element is stored as a
    /// returned record is, so its address is get-definition's return area.
    /// The component then holds one copy of the `agent-type` lowering (and
    /// of its post-return) instead of two, which is most of a small agent's code.
    ///
    /// # Safety
    ///
    /// Called only by the component's `get-definition` export.
    pub unsafe fn get_definition_cabi<T: glue::Guest>() -> *mut u8 {
        DEFINITION_ONLY.with(|d| d.set(true));
        // SAFETY: the generated export glue, called as the export would be.
        let ret = unsafe { glue::_export_discover_agent_types_cabi::<T>() };
        DEFINITION_ONLY.with(|d| d.set(false));
        DEFINITION_RET.with(|r| r.set(ret));
        // `result<list<agent-type>, agent-error>`: the case byte, then the
        // payload at the payloads' alignment (a pointer's): the list's address
        // and length. `discover` answers `ok` with one element here.
        // SAFETY: the glue returned its return area, which holds such a result.
        unsafe { ret.add(std::mem::size_of::<*const u8>()).cast::<*mut u8>().read() }
    }

    /// The post-return of [`get_definition_cabi`]: frees the list it returned.
    ///
    /// # Safety
    ///
    /// Called only by the component's `get-definition` post-return export.
    pub unsafe fn post_return_get_definition<T: glue::Guest>(_definition: *mut u8) {
        let ret = DEFINITION_RET.with(|r| r.replace(std::ptr::null_mut()));
        // SAFETY: the return area of the `discover-agent-types` glue call
        // that produced the definition the host has now lifted.
        unsafe { glue::__post_return_discover_agent_types::<T>(ret) }
    }

    /// `golem:agent/guest.initialize` at the canonical ABI, run by the
    /// `invoke` glue: both take `(string, data-value, principal)`, and
    /// `result<_, agent-error>` and `result<data-value, agent-error>` store
    /// the case byte and an error alike (an `ok` payload the host does not
    /// read). [`invoke_or_initialize`] then initializes. The component holds
    /// one copy of the (large) `data-value` and `principal` lifting instead of two.
    ///
    /// # Safety
    ///
    /// Called only by the component's `initialize` export, with its argument.
    pub unsafe fn initialize_cabi<T: glue::Guest>(args: *mut u8) -> *mut u8 {
        INITIALIZING.with(|i| i.set(true));
        // SAFETY: the generated export glue, called as the export would be,
        // with the argument area of a function with the same parameters.
        let ret = unsafe { glue::_export_invoke_cabi::<T>(args) };
        INITIALIZING.with(|i| i.set(false));
        ret
    }

    /// `golem:agent/guest.invoke`, or `initialize` when run by [`initialize_cabi`].
    pub fn invoke_or_initialize(
        entries: &[Entry],
        name: &str,
        input: &DataValue,
        principal: Principal,
    ) -> Result<DataValue, AgentError> {
        if INITIALIZING.with(|i| i.get()) {
            initialize(entries, name, input, principal).map(|()| no_output())
        } else {
            invoke(name, input)
        }
    }

    /// `golem:agent/guest.discover-agent-types` (and `get-definition`, see
    /// [`get_definition_cabi`]).
    pub fn discover(entries: &[Entry]) -> Result<Vec<AgentType>, AgentError> {
        if DEFINITION_ONLY.with(|d| d.get()) {
            return Ok(vec![definition(entries)]);
        }
        for (i, e) in entries.iter().enumerate() {
            if entries[..i].iter().any(|other| other.type_name == e.type_name) {
                return Err(AgentError::InvalidType(format!(
                    "two agent types in this component are called `{}`; rename one with #[reprise::agent(name = \"...\")]",
                    e.type_name
                )));
            }
        }
        Ok(entries.iter().map(|e| (e.definition)()).collect())
    }

    /// `golem:agent/guest.initialize`.
    pub fn initialize(
        entries: &[Entry],
        agent_type: &str,
        input: &DataValue,
        principal: Principal,
    ) -> Result<(), AgentError> {
        crate::logging::init();
        let entry = entries.iter().find(|e| e.type_name == agent_type).ok_or_else(|| {
            AgentError::InvalidType(format!(
                "this component has no agent type `{agent_type}`; it has: {}",
                names(entries)
            ))
        })?;
        if CURRENT.with(|c| c.borrow().is_some()) {
            return Err(AgentError::InvalidType("this agent is already initialized".into()));
        }
        let agent = (entry.construct)(input)?;
        CURRENT.with(|c| *c.borrow_mut() = Some(agent));
        PRINCIPAL.with(|p| *p.borrow_mut() = Some(principal));
        Ok(())
    }

    /// `golem:agent/guest.invoke`.
    pub fn invoke(method: &str, input: &DataValue) -> Result<DataValue, AgentError> {
        // Taken out while it runs: a method reaching this agent again (through
        // an RPC call back to itself) gets an error instead of a double borrow.
        let mut agent = CURRENT.with(|c| c.borrow_mut().take()).ok_or_else(|| {
            AgentError::InvalidInput(format!(
                "cannot run `{method}`: the agent is not initialized, or is busy running a method"
            ))
        })?;
        let result = agent.invoke(method, input);
        CURRENT.with(|c| *c.borrow_mut() = Some(agent));
        result
    }

    /// `golem:agent/guest.get-definition`.
    pub fn definition(entries: &[Entry]) -> AgentType {
        let current = CURRENT.with(|c| c.borrow().as_ref().map(|a| a.definition()));
        // Before initialization the only sensible answer is the first type.
        current.unwrap_or_else(|| (entries[0].definition)())
    }

    /// One named element of a schema.
    pub fn element<T: Schema + ?Sized>(name: &str) -> (String, ElementSchema) {
        (name.to_string(), ElementSchema::ComponentModel(T::wit_type()))
    }

    /// The output schema of a method returning `T`.
    pub fn returns<T: Schema + ?Sized>() -> DataSchema {
        DataSchema::Tuple(vec![element::<T>("return_value")])
    }

    /// The output schema of a method returning nothing.
    pub fn returns_nothing() -> DataSchema {
        DataSchema::Tuple(Vec::new())
    }

    /// A constructor's definition.
    pub fn constructor(description: &str, input: Vec<(String, ElementSchema)>) -> AgentConstructor {
        AgentConstructor {
            name: None,
            description: description.to_string(),
            prompt_hint: None,
            input_schema: DataSchema::Tuple(input),
        }
    }

    /// A method's definition.
    pub fn method(
        name: &str,
        description: &str,
        input: Vec<(String, ElementSchema)>,
        output: DataSchema,
    ) -> AgentMethod {
        AgentMethod {
            name: name.to_string(),
            description: description.to_string(),
            http_endpoint: Vec::new(),
            prompt_hint: None,
            input_schema: DataSchema::Tuple(input),
            output_schema: output,
        }
    }

    /// An agent type's definition.
    pub fn agent_type(
        name: &str,
        description: &str,
        constructor: AgentConstructor,
        methods: Vec<AgentMethod>,
    ) -> AgentType {
        AgentType {
            type_name: name.to_string(),
            description: description.to_string(),
            source_language: "rust".to_string(),
            constructor,
            methods,
            dependencies: Vec::new(),
            mode: AgentMode::Durable,
            http_mount: None,
            snapshotting: Snapshotting::Disabled,
            config: Vec::new(),
        }
    }

    /// The component-model values of `input`, checked against the `names`
    /// of the parameters `what` (a constructor or method) expects.
    pub fn arguments<'a>(input: &'a DataValue, what: &str, names: &[&str]) -> Result<Vec<&'a WitValue>, AgentError> {
        let DataValue::Tuple(elements) = input else {
            return Err(AgentError::InvalidInput(format!("{what} takes a tuple of arguments, not multimodal input")));
        };
        if elements.len() != names.len() {
            let expected = if names.is_empty() { "none".to_string() } else { names.join(", ") };
            return Err(AgentError::InvalidInput(format!(
                "{what} takes {} argument(s) ({expected}), got {}",
                names.len(),
                elements.len()
            )));
        }
        elements
            .iter()
            .zip(names)
            .map(|(e, name)| match e {
                ElementValue::ComponentModel(v) => Ok(v),
                _ => Err(AgentError::InvalidInput(format!(
                    "{what}, argument `{name}`: expected a component-model value, got unstructured data"
                ))),
            })
            .collect()
    }

    /// Decode argument `name` (position `at`).
    pub fn argument<T: FromValue>(args: &[&WitValue], at: usize, what: &str, name: &str) -> Result<T, AgentError> {
        T::from_wit_value(args[at]).map_err(|e| AgentError::InvalidInput(format!("{what}, argument `{name}`: {e}")))
    }

    /// A method's result as output.
    pub fn output<T: IntoValue + ?Sized>(value: &T) -> DataValue {
        DataValue::Tuple(vec![ElementValue::ComponentModel(value.to_wit_value())])
    }

    /// The output of a method returning nothing.
    pub fn no_output() -> DataValue {
        DataValue::Tuple(Vec::new())
    }

    /// A constructor's `Err(e)` as the interface's custom error.
    pub fn constructor_failed<E: IntoValue>(error: &E) -> AgentError {
        AgentError::CustomError(ValueAndType { value: error.to_wit_value(), typ: E::wit_type() })
    }

    /// Method `method` is not one of `known`.
    pub fn unknown_method(type_name: &str, method: &str, known: &[&str]) -> AgentError {
        AgentError::InvalidMethod(format!(
            "agent type `{type_name}` has no method `{method}`; its methods are: {}",
            if known.is_empty() { "(none)".to_string() } else { known.join(", ") }
        ))
    }
}

/// Export the component's agent types as `golem:agent/guest@1.5.0`. Name
/// every type carrying [`#[reprise::agent]`](macro@crate::agent) once, in one
/// place; a type left out is not part of the component.
///
/// ```ignore
/// reprise::export_agents!(Order, Inventory);
/// ```
#[macro_export]
macro_rules! export_agents {
    ($($agent:ty),+ $(,)?) => {
        const _: () = {
            use $crate::agent::__private as __rt;
            use $crate::bindings::golem::agent::common::{AgentError, AgentType, Principal};
            use $crate::bindings::golem::core::types::DataValue;

            fn __entries() -> ::std::vec::Vec<__rt::Entry> {
                ::std::vec![$(__rt::entry::<$agent>()),+]
            }

            struct __RepriseAgents;

            impl $crate::bindings::exports::golem::agent::guest::Guest for __RepriseAgents {
                fn initialize(agent_type: String, input: DataValue, principal: Principal) -> Result<(), AgentError> {
                    __rt::initialize(&__entries(), &agent_type, &input, principal)
                }

                fn invoke(method_name: String, input: DataValue, principal: Principal) -> Result<DataValue, AgentError> {
                    __rt::invoke_or_initialize(&__entries(), &method_name, &input, principal)
                }

                fn get_definition() -> AgentType {
                    __rt::definition(&__entries())
                }

                fn discover_agent_types() -> Result<Vec<AgentType>, AgentError> {
                    __rt::discover(&__entries())
                }
            }

            $crate::__export_agent_guest!(__RepriseAgents);
        };
    };
}
