//! Agents as the connections the typed handles of `#[reprise::agent]` call
//! through (`reprise::testing`).

use reprise::bindings::golem::core::types::DataValue;
use reprise::testing::AgentConnection;
use reprise::value::ValueError;

use super::{Agent, AgentHandle};
use crate::error::Error;
use crate::sdk_data::{data_from_sdk, data_to_sdk};

impl AgentConnection for Agent {
    type Error = Error;

    fn call_data(&mut self, method: &str, input: DataValue) -> Result<DataValue, Error> {
        let input = data_from_sdk(&input).map_err(Error::Setup)?;
        let output = Agent::invoke_data(self, method, input)?;
        data_to_sdk(&output).map_err(|message| Error::Answer { method: method.into(), message })
    }

    fn undecodable(&self, method: &str, error: ValueError) -> Error {
        Error::Answer { method: method.into(), message: error.to_string() }
    }
}

/// An environment-owned agent, locked for the call.
impl AgentConnection for AgentHandle {
    type Error = Error;

    fn call_data(&mut self, method: &str, input: DataValue) -> Result<DataValue, Error> {
        AgentConnection::call_data(&mut *self.lock(), method, input)
    }

    fn undecodable(&self, method: &str, error: ValueError) -> Error {
        Error::Answer { method: method.into(), message: error.to_string() }
    }
}
