//! Virtual time for timers. A timer pollable (`subscribe-duration`,
//! `subscribe-instant`) is a deadline on the agent's virtual monotonic
//! clock, and `poll` decides readiness with that clock: when every pollable
//! polled is a timer and none is due, the agent sleeps by moving its clock
//! to the earliest deadline, so a 30-day sleep costs no real time. A sleep
//! of `SUSPEND_AFTER` or more is recorded as Golem records a suspended
//! agent, with a `suspend` entry (golem-worker-executor/src/durable_host/io/poll.rs,
//! `suspend.suspend_after` in worker-executor.toml).

use std::collections::BTreeMap;

use wasmtime::component::Resource;
use wasmtime_wasi::p2::{DynPollable, Pollable, subscribe};

use super::HostState;

/// A timer's pollable: always ready as far as wasmtime is concerned;
/// `poll` asks the virtual clock instead.
struct VirtualTimer;

#[wasmtime_wasi::async_trait]
impl Pollable for VirtualTimer {
    async fn ready(&mut self) {}
}

/// Deadlines of the open timer pollables, by pollable handle, in
/// nanoseconds on the virtual monotonic clock.
#[derive(Debug, Default)]
pub(crate) struct Timers {
    deadlines: BTreeMap<u32, u64>,
}

impl Timers {
    pub(super) fn deadline(&self, pollable: u32) -> Option<u64> {
        self.deadlines.get(&pollable).copied()
    }

    pub(super) fn forget(&mut self, pollable: u32) {
        self.deadlines.remove(&pollable);
    }
}

impl HostState {
    /// A pollable ready once the virtual monotonic clock reaches `deadline`.
    pub(super) fn timer(&mut self, deadline: u64) -> wasmtime::Result<Resource<DynPollable>> {
        let timer = self.table.push(VirtualTimer)?;
        let pollable = subscribe(&mut self.table, timer)?;
        self.timers.deadlines.insert(pollable.rep(), deadline);
        Ok(pollable)
    }

    /// Which of `pollables` are ready, live. Timers are asked of the
    /// virtual clock: when all are timers and none is due, the agent sleeps
    /// to the earliest deadline. Otherwise the other pollables are polled
    /// (waiting for one of them), unless a timer is already due.
    pub(super) fn poll_live(
        &mut self,
        pollables: &[Resource<DynPollable>],
    ) -> wasmtime::Result<Result<Vec<u32>, String>> {
        let deadlines: Vec<Option<u64>> = pollables.iter().map(|p| self.timers.deadline(p.rep())).collect();
        if deadlines.iter().all(Option::is_some)
            && let Some(earliest) = deadlines.iter().flatten().min()
        {
            self.journal.sleep_until(*earliest)?;
        }
        let now = self.journal.clock_nanos();
        let due: Vec<u32> =
            (0..pollables.len() as u32).filter(|&i| deadlines[i as usize].is_some_and(|d| d <= now)).collect();
        let others: Vec<u32> = (0..pollables.len() as u32).filter(|&i| deadlines[i as usize].is_none()).collect();
        if !due.is_empty() || others.is_empty() {
            return Ok(Ok(due));
        }
        let borrowed = others.iter().map(|&i| Resource::new_borrow(pollables[i as usize].rep())).collect();
        let ready = wasmtime_wasi::p2::bindings::sync::io::poll::Host::poll(&mut self.table, borrowed);
        Ok(ready
            .map(|ready| ready.into_iter().filter_map(|r| others.get(r as usize).copied()).collect())
            .map_err(|e| format!("{e:#}")))
    }
}
