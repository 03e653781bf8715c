//! `golem:core/types@1.5.0`: the UUID helpers.

use super::HostState;
use crate::bindings::golem::core::types::{Host, Uuid};
use crate::ids::{parse_uuid, uuid_to_string};

impl Host for HostState {
    fn parse_uuid(&mut self, uuid: String) -> wasmtime::Result<Result<Uuid, String>> {
        Ok(parse_uuid(&uuid))
    }

    fn uuid_to_string(&mut self, uuid: Uuid) -> wasmtime::Result<String> {
        Ok(uuid_to_string(&uuid))
    }
}
