//! What timer, promise and RPC-future pollables wait for, decided by the
//! host rather than by wasmtime. A timer (`subscribe-duration`, `subscribe-instant`) is
//! a deadline on the agent's virtual monotonic clock; a promise's pollable
//! is ready once the promise is completed. When every pollable polled is a
//! timer or a promise and none is ready, the agent sleeps by moving its
//! clock to the earliest deadline, so a 30-day sleep costs no real time; a
//! sleep of 10 s or more is recorded as Golem records a suspended agent,
//! with a `suspend` entry (golem-worker-executor/src/durable_host/io/poll.rs,
//! `suspend.suspend_after` in worker-executor.toml). An RPC future is ready
//! once the callee has answered; waiting for one lets the other agents run
//! (the callee among them) until it is.

use std::collections::BTreeMap;

use wasmtime::component::Resource;
use wasmtime_wasi::p2::{DynPollable, Pollable, subscribe};

use super::HostState;
use crate::bindings::RpcFuture;
use crate::journal::{Interrupt, SUSPEND_AFTER_NANOS, Wait as SuspendWait};

/// The pollable of a timer or a promise: always ready as far as wasmtime
/// is concerned; `poll` asks the host instead.
struct HostDecides;

#[wasmtime_wasi::async_trait]
impl Pollable for HostDecides {
    async fn ready(&mut self) {}
}

/// What the open timer and promise pollables wait for, by pollable handle:
/// deadlines in nanoseconds on the virtual monotonic clock, promises by
/// creator and creation index.
#[derive(Debug, Default)]
pub(crate) struct Waits {
    deadlines: BTreeMap<u32, u64>,
    promises: BTreeMap<u32, (String, u64)>,
    /// RPC futures' pollables: the future's handle.
    futures: BTreeMap<u32, u32>,
}

impl Waits {
    pub(super) fn deadline(&self, pollable: u32) -> Option<u64> {
        self.deadlines.get(&pollable).copied()
    }

    fn await_promise(&mut self, pollable: u32, promise: (String, u64)) {
        self.promises.insert(pollable, promise);
    }

    pub(super) fn forget(&mut self, pollable: u32) {
        self.deadlines.remove(&pollable);
        self.promises.remove(&pollable);
        self.futures.remove(&pollable);
    }
}

/// What one polled pollable waits for.
enum Wait {
    Timer(u64),
    Promise {
        done: bool,
        agent: String,
        oplog_idx: u64,
    },
    /// Where the answer comes (ready once filled), and the callee.
    Future(crate::scheduler::Slot<crate::host::CallAnswer>, String),
    Other,
}

impl HostState {
    /// A pollable ready once the virtual monotonic clock reaches `deadline`.
    pub(super) fn timer(&mut self, deadline: u64) -> wasmtime::Result<Resource<DynPollable>> {
        let pollable = self.host_pollable()?;
        self.waits.deadlines.insert(pollable.rep(), deadline);
        Ok(pollable)
    }

    /// A pollable ready once promise `(agent, oplog_idx)` is completed.
    pub(super) fn promise_wait(&mut self, promise: (String, u64)) -> wasmtime::Result<Resource<DynPollable>> {
        let pollable = self.host_pollable()?;
        self.waits.await_promise(pollable.rep(), promise);
        Ok(pollable)
    }

    /// A pollable ready once RPC future `future` (a handle) is answered.
    pub(super) fn future_wait(&mut self, future: u32) -> wasmtime::Result<Resource<DynPollable>> {
        let pollable = self.host_pollable()?;
        self.waits.futures.insert(pollable.rep(), future);
        Ok(pollable)
    }

    fn host_pollable(&mut self) -> wasmtime::Result<Resource<DynPollable>> {
        let decides = self.table.push(HostDecides)?;
        subscribe(&mut self.table, decides)
    }

    /// Whether one pollable is ready, live: timers, promises and RPC futures
    /// asked of the host, the rest of wasmtime.
    pub(super) fn ready_live(&mut self, pollable: &Resource<DynPollable>) -> wasmtime::Result<Result<bool, String>> {
        let now = self.journal.clock_nanos();
        Ok(match self.wait_of(pollable.rep())? {
            Wait::Timer(deadline) => Ok(deadline <= now),
            Wait::Promise { done, .. } => Ok(done),
            Wait::Future(reply, _) => Ok(reply.is_filled()),
            Wait::Other => {
                let borrowed = Resource::new_borrow(pollable.rep());
                wasmtime_wasi::p2::bindings::sync::io::poll::HostPollable::ready(&mut self.table, borrowed)
                    .map_err(|e| format!("{e:#}"))
            }
        })
    }

    /// Which of `pollables` are ready, live. Timers are asked of the
    /// virtual clock and promises of the promise store. When all are timers
    /// and promises and none is ready, the agent sleeps to the earliest
    /// deadline; with pending promises alone Golem would suspend it until
    /// one is completed, which the testkit cannot do yet (an error names the
    /// promise). Otherwise the other pollables are polled (waiting for one
    /// of them), unless a timer or promise is ready already.
    pub(super) fn poll_live(
        &mut self,
        pollables: &[Resource<DynPollable>],
    ) -> wasmtime::Result<Result<Vec<u32>, String>> {
        let waits: Vec<Wait> = pollables.iter().map(|p| self.wait_of(p.rep())).collect::<wasmtime::Result<_>>()?;
        let ready_now = |host: &Self, waits: &[Wait]| -> Vec<u32> {
            let now = host.journal.clock_nanos();
            (0..waits.len() as u32)
                .filter(|&i| match &waits[i as usize] {
                    Wait::Timer(deadline) => *deadline <= now,
                    Wait::Promise { done, .. } => *done,
                    Wait::Future(reply, _) => reply.is_filled(),
                    Wait::Other => false,
                })
                .collect()
        };
        let mut ready = ready_now(self, &waits);
        let others: Vec<u32> = (0..waits.len() as u32).filter(|&i| matches!(waits[i as usize], Wait::Other)).collect();
        // Nothing polled at all is wasmtime's to answer.
        if ready.is_empty() && others.is_empty() && !waits.is_empty() {
            // Callees run first; time passes only when no one else can run.
            let replies: Vec<_> =
                waits.iter().filter_map(|w| if let Wait::Future(r, _) = w { Some(r.clone()) } else { None }).collect();
            let answered = !replies.is_empty()
                && crate::scheduler::wait_until(move || replies.iter().any(|r| r.is_filled())).is_ok();
            if !answered {
                let earliest = waits.iter().filter_map(|w| if let Wait::Timer(d) = w { Some(*d) } else { None }).min();
                let promises: Vec<(String, u64)> = waits
                    .iter()
                    .filter_map(|w| match w {
                        Wait::Promise { agent, oplog_idx, .. } => Some((agent.clone(), *oplog_idx)),
                        _ => None,
                    })
                    .collect();
                let now = self.journal.clock_nanos();
                match earliest {
                    // Golem sleeps a short while in place, and suspends for longer.
                    Some(deadline) if promises.is_empty() || deadline.saturating_sub(now) < SUSPEND_AFTER_NANOS => {
                        self.journal.sleep_until(deadline)?
                    }
                    _ if !promises.is_empty() => {
                        return Err(Interrupt::Suspend(SuspendWait { promises, deadline: earliest }).raise());
                    }
                    _ => return Err(never_ready(&waits)),
                }
            }
            ready = ready_now(self, &waits);
        }
        if !ready.is_empty() || (others.is_empty() && !waits.is_empty()) {
            return Ok(Ok(ready));
        }
        let borrowed = others.iter().map(|&i| Resource::new_borrow(pollables[i as usize].rep())).collect();
        let ready = wasmtime_wasi::p2::bindings::sync::io::poll::Host::poll(&mut self.table, borrowed);
        Ok(ready
            .map(|ready| ready.into_iter().filter_map(|r| others.get(r as usize).copied()).collect())
            .map_err(|e| format!("{e:#}")))
    }

    fn wait_of(&mut self, pollable: u32) -> wasmtime::Result<Wait> {
        if let Some(deadline) = self.waits.deadline(pollable) {
            return Ok(Wait::Timer(deadline));
        }
        if let Some(future) = self.waits.futures.get(&pollable).copied() {
            let directory = self.directory.clone();
            let future = self.table.get_mut(&Resource::<RpcFuture>::new_borrow(future))?;
            super::rpc::dispatch(&*directory, future);
            let callee = future.request.0.clone();
            // A future whose answer was taken is never ready again.
            let reply = future.reply.clone().unwrap_or_else(crate::scheduler::Slot::new);
            return Ok(Wait::Future(reply, callee));
        }
        match self.waits.promises.get(&pollable) {
            Some((agent, oplog_idx)) => {
                let done = self.world.promise(agent, *oplog_idx).map_err(|e| wasmtime::format_err!("{e}"))?.is_some();
                Ok(Wait::Promise { done, agent: agent.clone(), oplog_idx: *oplog_idx })
            }
            None => Ok(Wait::Other),
        }
    }
}

/// The error for a poll that can never be answered: calls no agent can run.
fn never_ready(waits: &[Wait]) -> wasmtime::Error {
    let callees: Vec<String> =
        waits.iter().filter_map(|w| if let Wait::Future(_, c) = w { Some(format!("`{c}`")) } else { None }).collect();
    wasmtime::format_err!(
        "the agent awaits calls to {} that can never be answered: every agent that could run them waits too (a \
         cycle of awaited calls, which Golem never finishes either, or an agent the test holds)",
        callees.join(" and ")
    )
}
