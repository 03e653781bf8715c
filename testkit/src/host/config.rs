//! `wasi:config/store@0.2.0-draft`: the environment's configuration values.

use super::HostState;
use crate::bindings::wasi::config::store::{Error, Host};

impl Host for HostState {
    fn get(&mut self, key: String) -> wasmtime::Result<Result<Option<String>, Error>> {
        Ok(Ok(self.world.config.iter().find(|(k, _)| *k == key).map(|(_, v)| v.clone())))
    }

    fn get_all(&mut self) -> wasmtime::Result<Result<Vec<(String, String)>, Error>> {
        Ok(Ok(self.world.config.clone()))
    }
}
