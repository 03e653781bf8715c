//! `golem:durability/durability@1.5.0` over the instance's journal.

use wasmtime::component::Resource;

use super::HostState;
use crate::bindings::golem::durability::durability::{
    DurableExecutionState, DurableFunctionType, Host, HostLazyInitializedPollable, LazyInitializedPollable,
    OplogEntryVersion, PersistedDurableFunctionInvocation, ValueAndType,
};
use crate::error::Divergence;
use crate::journal::{Interrupt, Strict};
use crate::oplog::{OplogEntry, describe, function_type_name, is_remote_write};

impl Host for HostState {
    fn observe_function_call(&mut self, iface: String, function: String) -> wasmtime::Result<()> {
        self.journal.observed = Some(format!("{iface}::{function}"));
        Ok(())
    }

    fn begin_durable_function(&mut self, function_type: DurableFunctionType) -> wasmtime::Result<u64> {
        self.journal.in_remote_write = is_remote_write(&function_type);
        if self.journal.brackets(&function_type) {
            return self.journal.begin_remote_write(&function_type);
        }
        Ok(self.journal.last_index())
    }

    fn end_durable_function(
        &mut self,
        function_type: DurableFunctionType,
        begin_index: u64,
        forced_commit: bool,
    ) -> wasmtime::Result<()> {
        self.journal.observed = None;
        self.journal.in_remote_write = false;
        if self.journal.brackets(&function_type) {
            self.journal.end_remote_write(begin_index)?;
        }
        // Golem commits at the end of remote writes, and when asked to
        // (`CommitLevel::DurableOnly`: not with persistence off).
        if self.journal.is_live() && (is_remote_write(&function_type) || forced_commit) {
            self.journal.commit_durable()?;
        }
        Ok(())
    }

    fn current_durable_execution_state(&mut self) -> wasmtime::Result<DurableExecutionState> {
        self.journal.liveness_reads += 1;
        Ok(DurableExecutionState { is_live: self.journal.is_live(), persistence_level: self.journal.persistence })
    }

    fn persist_durable_function_invocation(
        &mut self,
        function_name: String,
        request: ValueAndType,
        response: ValueAndType,
        function_type: DurableFunctionType,
    ) -> wasmtime::Result<()> {
        if !self.journal.is_live() {
            let index = self.journal.peek().map_or(0, |p| p as u64 + 1);
            let expected = self.journal.oplog.get(index).map(describe).unwrap_or_default();
            return Err(Interrupt::Divergence(Divergence {
                oplog_index: index,
                expected,
                actual: format!("persisted `{function_name}` while replaying (it must read the recorded result)"),
            })
            .raise());
        }
        // Once persisted, a crash no longer repeats the effect.
        let persisted = self.journal.persist_guest_call(function_name, request, response, function_type);
        self.journal.in_remote_write = false;
        persisted
    }

    fn read_persisted_durable_function_invocation(&mut self) -> wasmtime::Result<PersistedDurableFunctionInvocation> {
        let observed = self.journal.observed.clone();
        let actual = || match &observed {
            Some(name) => format!("read the result of `{name}`"),
            None => "read a durable function result".into(),
        };
        let (index, entry) = self.journal.replay(Strict::HostCall, actual)?;
        let OplogEntry::HostCall(p) = entry else {
            return Err(wasmtime::format_err!("oplog entry {index}: replay matched a host call that is not one"));
        };
        if let Some(name) = &observed
            && &p.function_name != name
        {
            return Err(Interrupt::Divergence(Divergence {
                oplog_index: index,
                expected: format!("host call `{}` ({})", p.function_name, function_type_name(&p.durable_function_type)),
                actual: format!("called `{name}`"),
            })
            .raise());
        }
        Ok(PersistedDurableFunctionInvocation {
            timestamp: p.timestamp,
            function_name: p.function_name.clone(),
            response: p.response.clone(),
            function_type: p.durable_function_type,
            entry_version: OplogEntryVersion::V2,
        })
    }
}

impl HostLazyInitializedPollable for HostState {
    fn new(&mut self) -> wasmtime::Result<Resource<LazyInitializedPollable>> {
        Err(wasmtime::format_err!("the testkit does not support lazy-initialized pollables yet"))
    }

    fn set(
        &mut self,
        _self_: Resource<LazyInitializedPollable>,
        _pollable: Resource<wasmtime_wasi::p2::DynPollable>,
    ) -> wasmtime::Result<()> {
        Err(wasmtime::format_err!("the testkit does not support lazy-initialized pollables yet"))
    }

    fn subscribe(
        &mut self,
        _self_: Resource<LazyInitializedPollable>,
    ) -> wasmtime::Result<Resource<wasmtime_wasi::p2::DynPollable>> {
        Err(wasmtime::format_err!("the testkit does not support lazy-initialized pollables yet"))
    }

    fn drop(&mut self, rep: Resource<LazyInitializedPollable>) -> wasmtime::Result<()> {
        let _ = rep;
        Ok(())
    }
}
