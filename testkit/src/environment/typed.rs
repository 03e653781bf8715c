//! Agents created from the typed constructors `#[reprise::agent]` generates
//! (`reprise::testing`), returned as their typed handles.

use reprise::testing::{Constructor, TypedAgent};

use super::Environment;
use crate::error::Error;
use crate::journal::CrashPoint;
use crate::oplog::Oplog;
use crate::runtime::{Agent, AgentHandle, LoadedComponent};
use crate::sdk_data::value_from_sdk;
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
    constructor
        .args()
        .into_iter()
        .map(|v| {
            value_from_sdk(v).map_err(|e| Error::Setup(format!("a constructor argument of `{}`: {e}", T::TYPE_NAME)))
        })
        .collect()
}
