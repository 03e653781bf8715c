//! Recovery: a fresh instance replays the whole oplog, re-running every
//! recorded invocation; one interrupted by a crash completes live.

use wasmtime::Store;

use super::call::{Answer, Call};
use super::entries::{call_of, finished_entry, result_summary, same_result, schemas};
use super::interrupts::{Stop, apply_limits, classify_trap};
use super::invocation::Outcome;
use super::{Agent, Instance, Live};
use crate::bindings::golem::api::oplog::AgentInvocation;
use crate::error::{CorruptEntry, Divergence, Error, chain};
use crate::host::HostState;
use crate::journal::{Journal, Strict};
use crate::oplog::{OplogEntry, describe};

/// Recoveries attempted in a row before giving up (each consumes at least one
/// crash point, so only a broken crash plan or host gets here).
const MAX_RECOVERIES: usize = 10_000;

/// Results of the invocations a recovery replayed or completed, by the oplog
/// index of their started entry.
type Completed = Vec<(u64, Answer)>;

impl Agent {
    /// Make sure an instance runs (recovering the agent if it crashed).
    pub(crate) fn ensure_live(&mut self) -> Result<(), Error> {
        if self.live_mut().is_none() {
            self.recover()?;
        }
        Ok(())
    }

    /// Recover after a crash and return the result of the invocation started at `started`.
    pub(super) fn recover_invocation(&mut self, started: u64) -> Result<Answer, Error> {
        let completed = self.recover()?;
        match completed.into_iter().find(|(index, _)| *index == started) {
            Some((_, result)) => Ok(result),
            // It suspended again on the way.
            None if self.suspended.as_ref().is_some_and(|s| s.started == started) => Err(self.suspended_error()),
            None => Err(Error::Guest(format!(
                "the invocation started at oplog index {started} was not completed by recovery"
            ))),
        }
    }

    /// Replace the instance by a fresh one that has replayed the whole oplog.
    /// Returns the results of the invocations replayed or completed, by the
    /// index of their started entry.
    pub(super) fn recover(&mut self) -> Result<Completed, Error> {
        for _ in 0..MAX_RECOVERIES {
            self.discard_instance();
            // The first instance of a new agent has nothing to replay.
            let old = self.take_parked();
            if old.oplog.entries().iter().any(|e| matches!(e, OplogEntry::AgentInvocationStarted(_))) {
                self.recoveries += 1;
            }
            self.fresh_values += old.fresh_draws;
            let mut journal = Journal::new(old.oplog, self.seed, old.crashes);
            journal.notes = old.notes;
            journal.set_attempt(self.recoveries as u64);
            journal.raise_clock(self.clock_floor);
            let closed = journal.close_interrupted_region();
            self.instance = Instance::Parked(journal);
            if let Err(e) = closed {
                match self.stopped(e) {
                    Stop::Lost => continue,
                    Stop::Failed(error) => return Err(error),
                }
            }
            self.start_instance()?;
            match self.replay_invocations()? {
                Some(completed) => return Ok(completed),
                None => continue, // crashed again while recovering
            }
        }
        Err(Error::RecoveryLoop { attempts: MAX_RECOVERIES })
    }

    /// Instantiate the component over the parked journal.
    fn start_instance(&mut self) -> Result<(), Error> {
        let journal = self.take_parked();
        let inner = self.component.inner.clone();
        let mut journal = journal;
        journal.forwarding = if self.plain { None } else { self.habitat.forwarding(&self.identity, &self.component) };
        let state =
            HostState::new(self.habitat.world().clone(), self.habitat.directory(), journal, self.identity.clone());
        let mut store = Store::new(inner.pre.engine(), state);
        apply_limits(&mut store);
        let instance = match inner.pre.instantiate(&mut store) {
            Ok(i) => i,
            Err(e) => {
                let error = classify_trap(e, &store);
                self.instance = Instance::Parked(store.into_data().journal);
                return Err(error);
            }
        };
        let loaded = (|| -> wasmtime::Result<_> {
            let guest = match (&inner.guest, self.plain) {
                (Some(indices), false) => Some(indices.load(&mut store, &instance)?),
                _ => None,
            };
            let processor = match &inner.processor {
                Some(indices) => Some(indices.load(&mut store, &instance)?),
                None => None,
            };
            Ok((guest, processor))
        })();
        match loaded {
            Ok((guest, processor)) => {
                self.instance = Instance::Running(Live { store, guest, processor, instance });
                Ok(())
            }
            Err(e) => {
                self.instance = Instance::Parked(store.into_data().journal);
                Err(Error::Instantiate(chain(&e)))
            }
        }
    }

    /// Re-run every recorded invocation on the fresh instance. `None` when an
    /// injected crash interrupted the recovery itself.
    fn replay_invocations(&mut self) -> Result<Option<Completed>, Error> {
        let mut completed = Vec::new();
        // Results recorded before the last successful update came from older code.
        let updated_at = self
            .oplog()
            .entries()
            .iter()
            .rposition(|e| matches!(e, OplogEntry::SuccessfulUpdate(_)))
            .map_or(0, |pos| pos as u64 + 1);
        loop {
            let Some(pos) = self.journal_mut().peek() else { return Ok(Some(completed)) };
            let entry = &self.oplog().entries()[pos];
            let OplogEntry::AgentInvocationStarted(started) = entry else {
                return Err(Error::Divergence(Divergence {
                    oplog_index: pos as u64 + 1,
                    expected: describe(entry),
                    actual: "had no invocation running to produce it".into(),
                }));
            };
            let call = match &started.invocation {
                AgentInvocation::ProcessOplogEntries(p) => self.rebuild_process_call(pos, &p.idempotency_key)?,
                _ => call_of(started, &self.agent_type, self.plain).ok_or_else(|| {
                    Error::CorruptOplog(CorruptEntry {
                        oplog_index: pos as u64 + 1,
                        reason: "an invocation kind the testkit cannot replay".into(),
                    })
                })?,
            };
            let index = self
                .journal_mut()
                .replay_checked(Strict::InvocationStarted, || "started an invocation".into())
                .map_err(Error::Divergence)?
                .0;
            self.begin_spans(index, &call);
            let (_, output_schema) = schemas(self.definition(), &call);
            let result = match self.invoke_guest(&call)? {
                Outcome::Crashed => return Ok(None),
                Outcome::Suspended(wait) => {
                    self.suspend(index, wait)?;
                    return Ok(Some(completed));
                }
                Outcome::Done(result) => result,
            };
            let updating = self.updating;
            let journal = self.journal_mut();
            if journal.is_live() {
                // This invocation was interrupted: it completed live just now.
                let entry = finished_entry(&result, &call, output_schema, journal.now());
                if let Err(e) = journal.append(entry) {
                    return self.interrupted(e);
                }
            } else {
                let timestamp = journal.now();
                if let Err(e) = journal.raise_pending() {
                    return self.interrupted(e);
                }
                let (at, recorded) = journal
                    .replay_checked(Strict::InvocationFinished, || "finished the invocation".into())
                    .map_err(Error::Divergence)?;
                let now = finished_entry(&result, &call, output_schema, timestamp);
                // New code may answer past calls differently; only the same
                // code returning something else is nondeterminism.
                let same_code = !updating && at > updated_at;
                if same_code && !same_result(recorded, &now) {
                    return Err(Error::Divergence(Divergence {
                        oplog_index: at,
                        expected: format!("the invocation to return {}", result_summary(recorded)),
                        actual: format!("returned {}", result_summary(&now)),
                    }));
                }
            }
            completed.push((index, result));
        }
    }

    /// A journal operation of the recovery stopped: `None` (recover again)
    /// when the instance was lost.
    fn interrupted(&mut self, e: wasmtime::Error) -> Result<Option<Completed>, Error> {
        match self.stopped(e) {
            Stop::Lost => Ok(None),
            Stop::Failed(error) => Err(error),
        }
    }

    /// The `process` invocation started at oplog position `pos`, with the
    /// batch enqueued under its key (as Golem reads the pending
    /// invocation's payload back).
    fn rebuild_process_call(&self, pos: usize, key: &str) -> Result<Call, Error> {
        let batch = self.habitat.batch(key).map_err(|e| {
            Error::CorruptOplog(CorruptEntry {
                oplog_index: pos as u64 + 1,
                reason: format!("the batch of this plugin invocation cannot be found: {e}"),
            })
        })?;
        Ok(Call::Process { key: key.to_string(), batch })
    }
}
