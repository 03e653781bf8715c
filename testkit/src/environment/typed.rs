//! Agents created from the typed constructors `#[reprise::agent]` generates
//! (`reprise::testing`), returned as their typed handles.

use reprise::testing::{Constructor, TypedAgent};
use reprise::value::FromValue;

use super::Environment;
use crate::bindings::golem::agent::common::AgentError;
use crate::data::describe_agent_error;
use crate::error::Error;
use crate::journal::CrashPoint;
use crate::oplog::Oplog;
use crate::runtime::NewAgent;
use crate::runtime::{Agent, AgentHandle, LoadedComponent};
use crate::sdk_data::{value_to_sdk, values_from_sdk};
use crate::value::Value;

impl Environment {
    /// Create an agent held by the test, as [`Environment::create_agent`]
    /// does, from a typed constructor; returns its typed handle.
    ///
    /// ```ignore
    /// let mut list = env.create(&component, TaskListCall::new("bob".to_string()))?;
    /// assert_eq!(list.add("milk".to_string())?, Ok(1));
    /// ```
    pub fn create<T: TypedAgent>(
        &self,
        component: &LoadedComponent,
        constructor: Constructor<T>,
    ) -> Result<T::Handle<Agent>, Error> {
        let args = constructor_args(&constructor)?;
        self.create_agent(component, T::TYPE_NAME, &args).map(T::handle)
    }

    /// [`Environment::create`], with a refusing constructor's error read as
    /// the agent's own constructor error type (`E` of `Result<Self, E>`)
    /// rather than being the outer [`Error::Agent`].
    ///
    /// ```ignore
    /// let refused = env.try_create(&component, ShoppingCartCall::new(String::new()))?;
    /// assert_eq!(refused.unwrap_err(), "a cart needs a user");
    /// ```
    pub fn try_create<T: TypedAgent>(
        &self,
        component: &LoadedComponent,
        constructor: Constructor<T>,
    ) -> Result<Result<T::Handle<Agent>, T::ConstructorError>, Error> {
        let args = constructor_args(&constructor)?;
        match self.create_held_or_refused(component, NewAgent::agent(T::TYPE_NAME, &args))? {
            Ok(agent) => Ok(Ok(T::handle(agent))),
            Err(AgentError::CustomError(refusal)) => {
                T::ConstructorError::from_wit_value(&value_to_sdk(&refusal.value)).map(Err).map_err(|e| {
                    let refused = describe_agent_error(&AgentError::CustomError(refusal.clone()));
                    Error::Answer {
                        method: format!("the constructor of `{}`", T::TYPE_NAME),
                        message: format!("it refused with {refused}, which is not its error type: {e}"),
                    }
                })
            }
            Err(other) => Err(Error::Agent(describe_agent_error(&other))),
        }
    }

    /// [`Environment::create`] with crashes injected at `crashes` (as
    /// [`Environment::create_agent_with_crashes`]).
    pub fn create_with_crashes<T: TypedAgent>(
        &self,
        component: &LoadedComponent,
        constructor: Constructor<T>,
        crashes: Vec<CrashPoint>,
    ) -> Result<T::Handle<Agent>, Error> {
        let args = constructor_args(&constructor)?;
        self.create_agent_with_crashes(component, T::TYPE_NAME, &args, crashes).map(T::handle)
    }

    /// [`Environment::create`] over `oplog` (a new file, or one recorded
    /// earlier, whose agent is then recovered by replay), as
    /// [`Environment::agent_with_oplog`].
    pub fn create_with_oplog<T: TypedAgent>(
        &self,
        component: &LoadedComponent,
        constructor: Constructor<T>,
        oplog: Oplog,
    ) -> Result<T::Handle<Agent>, Error> {
        let args = constructor_args(&constructor)?;
        self.agent_with_oplog(component, T::TYPE_NAME, &args, oplog).map(T::handle)
    }

    /// The environment-owned agent (the one other agents reach by RPC) with
    /// this typed constructor, created if it does not exist yet, as
    /// [`Environment::connect_agent`] does; returns its typed handle.
    pub fn connect<T: TypedAgent>(
        &self,
        component: &LoadedComponent,
        constructor: Constructor<T>,
    ) -> Result<T::Handle<AgentHandle>, Error> {
        let args = constructor_args(&constructor)?;
        self.connect_agent(component, T::TYPE_NAME, &args).map(T::handle)
    }
}

/// The constructor's arguments as host values.
pub(crate) fn constructor_args<T: TypedAgent>(constructor: &Constructor<T>) -> Result<Vec<Value>, Error> {
    values_from_sdk(constructor.args())
        .map_err(|e| Error::Setup(format!("a constructor argument of `{}`: {e}", T::TYPE_NAME)))
}
