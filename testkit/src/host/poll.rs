//! `wasi:io/poll`, journaled as Golem does (durable_host/io/poll.rs): which
//! pollables were ready is a read-local host call (`io::poll::poll`, with
//! the count of pollables; `block` is a poll of one), so replay takes the
//! branches the live run took without waiting on anything. Timers are
//! asked of the agent's virtual clock and promises of the promise store (`waits`).

use wasmtime::component::{HasSelf, Linker, Resource};
use wasmtime_wasi::p2::DynPollable;
use wasmtime_wasi::p2::bindings::sync::io::poll;

use super::HostState;
use super::names;
use crate::bindings::golem::api::oplog::WrappedFunctionType;

pub(super) fn add_to_linker(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    poll::add_to_linker::<_, HasSelf<_>>(linker, |s| s)
}

impl HostState {
    fn journaled_poll(&mut self, pollables: Vec<Resource<DynPollable>>) -> wasmtime::Result<Vec<u32>> {
        let count = pollables.len() as u64;
        let performed = if self.journal.performs_live() { Some(self.poll_live(&pollables)?) } else { None };
        let ready: Result<Vec<u32>, String> =
            self.journal.step(names::POLL, WrappedFunctionType::ReadLocal, &count, performed)?;
        ready.map_err(|e| wasmtime::format_err!("{e}"))
    }
}

impl poll::Host for HostState {
    fn poll(&mut self, pollables: Vec<Resource<DynPollable>>) -> wasmtime::Result<Vec<u32>> {
        self.journaled_poll(pollables)
    }
}

impl poll::HostPollable for HostState {
    fn ready(&mut self, pollable: Resource<DynPollable>) -> wasmtime::Result<bool> {
        let performed = if self.journal.performs_live() { Some(self.ready_live(&pollable)?) } else { None };
        let ready: Result<bool, String> =
            self.journal.step(names::POLL_READY, WrappedFunctionType::ReadLocal, &(), performed)?;
        ready.map_err(|e| wasmtime::format_err!("{e}"))
    }

    fn block(&mut self, pollable: Resource<DynPollable>) -> wasmtime::Result<()> {
        let one = Resource::new_borrow(pollable.rep());
        self.journaled_poll(vec![one]).map(|_| ())
    }

    fn drop(&mut self, pollable: Resource<DynPollable>) -> wasmtime::Result<()> {
        self.waits.forget(pollable.rep());
        poll::HostPollable::drop(&mut self.table, pollable)
    }
}
