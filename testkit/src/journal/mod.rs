//! The journal of one agent instance: appends entries when live, hands
//! recorded entries back when replaying, and fires injected crashes.
//!
//! - [`Journal`]: the replay cursor over an oplog, appends, commits where a
//!   Golem executor commits, crash points, and the values the world gives
//!   (the same as a crash-free run's on an agent's first instance, fresh
//!   after a recovery).
//! - `typed`: journaled host calls, converted through [`Journaled`].
//! - `remote`: begin/end-remote-write brackets and batches.
//! - `interrupt`: crash points and the [`Interrupt`]s host functions raise.
//! - `entries`: what replay matches.
//! - `clock`: the virtual clock, sleeps included.
//! - `forwarding`: commits forwarded to the agent's oplog-processor plugins.
//! - `seed`: deterministic randomness.

mod clock;
mod entries;
mod forwarding;
mod interrupt;
mod remote;
mod seed;
mod typed;

use std::sync::{Arc, Mutex};

pub(crate) use clock::{SUSPEND_AFTER_NANOS, nanos_of};
use entries::commits_at_once;
pub(crate) use entries::{Strict, strict_kind};
pub(crate) use forwarding::Forwarding;
pub(crate) use interrupt::{Captured, CrashNotes, Interrupt, Wait};
pub use interrupt::{CrashPoint, FiredCrash};
use remote::in_batch;
pub(crate) use seed::seed_from;
use seed::splitmix64;
pub(crate) use typed::{Journaled, Json, host_call_entry, journal_type_of, journaled_record};

use crate::bindings::golem::api::host::PersistenceLevel;
use crate::bindings::golem::api::oplog::{
    HostCallParameters, JumpParameters, OplogRegion, Timestamp, WrappedFunctionType,
};
use crate::bindings::golem::core::types::ValueAndType;
use crate::error::Divergence;
use crate::http_stubs::HttpStubs;
use crate::oplog::{Oplog, OplogEntry, describe};
use crate::value::Value;

/// Buffered entries a Golem executor commits at the latest
/// (`oplog.max_operations_before_commit`, and `..._ephemeral` under
/// persist-nothing, in golem-worker-executor/config/worker-executor.toml).
const MAX_UNCOMMITTED: usize = 128;
const MAX_UNCOMMITTED_PERSIST_NOTHING: usize = 1024;

/// One host call an agent made, for assertions.
#[derive(Debug, Clone, PartialEq)]
pub struct HostCall {
    /// The journaled function name, such as `wasi:keyvalue/eventual::set`.
    pub function: String,
    /// The request, as recorded.
    pub request: Value,
    /// The response, as recorded or replayed.
    pub response: Value,
    /// Whether the call was replayed from the oplog rather than executed.
    pub replayed: bool,
}

/// The journal of one instance.
pub(crate) struct Journal {
    pub(crate) oplog: Oplog,
    /// 0-based position of the next entry to replay.
    cursor: usize,
    /// Positions from here on were written by this instance: live.
    replay_end: usize,
    /// Inclusive position ranges replay passes over (from `jump` entries).
    skipped: Vec<(usize, usize)>,
    pub(crate) persistence: PersistenceLevel,
    pub(crate) idempotent: bool,
    /// Crash points still to fire.
    pub(crate) crashes: Vec<CrashPoint>,
    /// Seed of this agent's deterministic randomness.
    pub(crate) seed: u64,
    pub(crate) calls: Vec<HostCall>,
    /// `iface::function` announced by `observe-function-call`, checked on replay.
    pub(crate) observed: Option<String>,
    /// A durable function with a remote side effect has begun and not ended.
    pub(crate) in_remote_write: bool,
    /// Atomic regions begun and not yet ended (their begin indexes).
    pub(crate) open_regions: Vec<u64>,
    /// A crash or divergence found where it could not trap (inside
    /// wasmtime-wasi-http); raised by the next journal operation.
    pub(crate) pending: Option<wasmtime::Error>,
    /// How often each journaled function has been called by this instance,
    /// replayed or live. Values the guest sees (time, randomness, keys)
    /// derive from the function and its call count, not from oplog indexes:
    /// a recovered run that writes extra entries (a jump over a retried
    /// region, a fallback call after a retried write) still draws for its
    /// N-th idempotency key what the crash-free run drew for its N-th.
    draws: std::collections::BTreeMap<String, u64>,
    /// Seed material of the call being made (function and its count).
    current: u64,
    /// Recoveries of the agent before this instance (0 for its first).
    attempt: u64,
    /// A bracketed write-remote call (idempotence off) has begun and not
    /// ended: its entry is committed with its end, as Golem commits when the
    /// durable function ends, after `end-remote-write`.
    open_bracket: bool,
    /// Batches (HTTP exchanges) begun and not ended, by begin index: a
    /// crash now makes recovery perform the whole batch again.
    open_batches: Vec<u64>,
    /// Values this instance drew from the world after a recovery (clock
    /// readings, random numbers): they differ from a crash-free run's.
    pub(crate) fresh_draws: u64,
    /// Values drawn from the world (clock readings, random numbers), live
    /// or replayed, first instance or not.
    pub(crate) world_draws: u64,
    /// Times the guest asked whether it is live or replaying.
    pub(crate) liveness_reads: u64,
    /// Crash points a crash-free run only notes (crash verification).
    pub(crate) notes: Option<Box<CrashNotes>>,
    /// The environment's HTTP stubs, which answer requests to their hosts
    /// instead of the network.
    pub(crate) http_stubs: Option<Arc<Mutex<HttpStubs>>>,
    /// Where commits are forwarded (the agent's oplog-processor plugins).
    pub(crate) forwarding: Option<Arc<dyn Forwarding>>,
    /// A flush is running: its commits are not forwarded.
    in_flush: bool,
    /// Virtual time the agent has slept, in nanoseconds: its clocks and
    /// entries' timestamps are this much later than the oplog's position
    /// alone makes them.
    slept: u64,
}

impl Journal {
    /// A journal for a new instance over `oplog`: everything already recorded is replayed.
    pub(crate) fn new(oplog: Oplog, seed: u64, crashes: Vec<CrashPoint>) -> Self {
        let len = oplog.entries().len();
        let mut journal = Journal {
            oplog,
            cursor: 0,
            replay_end: len,
            skipped: Vec::new(),
            persistence: PersistenceLevel::Smart,
            idempotent: true,
            crashes,
            seed,
            calls: Vec::new(),
            observed: None,
            in_remote_write: false,
            open_regions: Vec::new(),
            pending: None,
            draws: Default::default(),
            current: 0,
            attempt: 0,
            open_bracket: false,
            open_batches: Vec::new(),
            fresh_draws: 0,
            world_draws: 0,
            liveness_reads: 0,
            notes: None,
            http_stubs: None,
            forwarding: None,
            in_flush: false,
            slept: 0,
        };
        journal.slept = clock::slept_in(journal.oplog.entries());
        journal.collect_jumps();
        journal
    }

    /// A journal over an empty in-memory oplog: for runs nobody keeps, and
    /// as a placeholder while an instance changes hands.
    pub(crate) fn empty() -> Self {
        Journal::new(Oplog::in_memory(), 0, Vec::new())
    }

    fn collect_jumps(&mut self) {
        self.skipped = self
            .oplog
            .entries()
            .iter()
            .enumerate()
            .filter_map(|(pos, e)| match e {
                // Golem's encoding: the region `start..=end` (1-based, the
                // jump entry itself at `end`) is passed over.
                OplogEntry::Jump(p) => {
                    let start = usize::try_from(p.jump.start.checked_sub(1)?).ok()?;
                    Some((start, pos))
                }
                // Skip the dropped region (1-based, inclusive) and the revert entry.
                OplogEntry::Revert(p) => {
                    usize::try_from(p.dropped_region.start).ok().map(|start| (start.saturating_sub(1), pos))
                }
                _ => None,
            })
            .collect();
    }

    /// Oplog index of the last entry.
    pub(crate) fn last_index(&self) -> u64 {
        self.oplog.last_index()
    }

    /// Count a call of `function` (live or replayed) and make it the source
    /// of [`Journal::random_u64`]. Returns the count.
    pub(crate) fn draw(&mut self, function: &str) -> u64 {
        let n = self.draws.entry(function.to_string()).or_insert(0);
        *n += 1;
        self.current = seed_from(&[function.as_bytes(), &n.to_le_bytes()]);
        *n
    }

    /// How often `function` has been called so far (including the current call).
    pub(crate) fn draw_count(&self, function: &str) -> u64 {
        self.draws.get(function).copied().unwrap_or(0)
    }

    pub(crate) fn timestamp(&self) -> Timestamp {
        Timestamp { timestamp: self.now() }
    }

    /// Move the cursor over passive and skipped entries; the position of the
    /// next entry replay must match, if any remain.
    ///
    /// Persist-nothing zones are skipped whole, as Golem's replay does
    /// (`durable_host/replay_state.rs`, `should_skip_to`): from a
    /// `change-persistence-level(persist-nothing)` up to and including the
    /// next level change or invocation end, or to the end of the oplog when
    /// the zone was never closed (replay then goes live inside it).
    pub(crate) fn peek(&mut self) -> Option<usize> {
        while self.cursor < self.replay_end {
            if let Some(&(_, to)) = self.skipped.iter().find(|(from, to)| self.cursor >= *from && self.cursor <= *to) {
                self.cursor = to + 1;
                continue;
            }
            let entry = &self.oplog.entries()[self.cursor];
            if is_persist_nothing(entry) {
                self.cursor = self.zone_end(self.cursor).map_or(self.replay_end, |end| end + 1);
                continue;
            }
            if strict_kind(entry).is_some() {
                return Some(self.cursor);
            }
            self.cursor += 1;
        }
        None
    }

    /// The position of the entry closing the persist-nothing zone opened at `start`.
    fn zone_end(&self, start: usize) -> Option<usize> {
        let entries = &self.oplog.entries()[..self.replay_end];
        (start + 1..entries.len()).find(|&pos| match &entries[pos] {
            OplogEntry::ChangePersistenceLevel(p) => !matches!(p.persistence_level, PersistenceLevel::PersistNothing),
            OplogEntry::AgentInvocationFinished(_) => true,
            _ => false,
        })
    }

    /// The oplog index the live run had reached at this point: during replay,
    /// the entries before the next one to match (passive entries included);
    /// live, the whole oplog. Reads "as of now" use it so replay sees what
    /// the live run saw.
    pub(crate) fn position(&mut self) -> u64 {
        match self.peek() {
            Some(pos) => pos as u64,
            None => self.last_index(),
        }
    }

    /// During replay, pass over a recorded passive entry the agent is
    /// producing again (a log line, say) if one matching `recorded` comes
    /// next; returns whether it did.
    pub(crate) fn replay_passive(&mut self, recorded: impl Fn(&OplogEntry) -> bool) -> bool {
        let mut pos = self.cursor;
        while pos < self.replay_end {
            let entry = &self.oplog.entries()[pos];
            if recorded(entry) {
                self.cursor = pos + 1;
                return true;
            }
            if strict_kind(entry).is_some() {
                return false;
            }
            pos += 1;
        }
        false
    }

    /// Whether this instance is executing live (nothing left to replay).
    pub(crate) fn is_live(&mut self) -> bool {
        self.peek().is_none()
    }

    /// Take the next recorded entry, which must be of kind `kind`; `actual`
    /// describes what the agent is doing, for the divergence message.
    pub(crate) fn replay(
        &mut self,
        kind: Strict,
        actual: impl FnOnce() -> String,
    ) -> wasmtime::Result<(u64, &OplogEntry)> {
        self.raise_pending()?;
        self.replay_checked(kind, actual).map_err(|d| Interrupt::Divergence(d).raise())
    }

    /// Fail with the crash or divergence recorded in `pending`, if any.
    pub(crate) fn raise_pending(&mut self) -> wasmtime::Result<()> {
        match self.pending.take() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// [`Journal::replay`] without the pending check, for the runtime.
    pub(crate) fn replay_checked(
        &mut self,
        kind: Strict,
        actual: impl FnOnce() -> String,
    ) -> Result<(u64, &OplogEntry), Divergence> {
        match self.peek() {
            Some(pos) => {
                let entry = &self.oplog.entries()[pos];
                if strict_kind(entry) != Some(kind) {
                    return Err(Divergence {
                        oplog_index: pos as u64 + 1,
                        expected: describe(entry),
                        actual: actual(),
                    });
                }
                self.cursor = pos + 1;
                Ok((pos as u64 + 1, &self.oplog.entries()[pos]))
            }
            None => Err(Divergence {
                oplog_index: self.replay_end as u64 + 1,
                expected: "nothing more".into(),
                actual: actual(),
            }),
        }
    }

    /// Add an entry, committing the oplog where a Golem executor commits;
    /// fires a crash scheduled at its index.
    pub(crate) fn append(&mut self, entry: OplogEntry) -> wasmtime::Result<u64> {
        let after_effect = matches!(entry, OplogEntry::HostCall(_));
        self.append_entry(entry, after_effect)
    }

    /// [`Journal::append`] an entry recording an effect already done (as a
    /// host call's does): the before-persist crash point fires on it too.
    pub(crate) fn append_after_effect(&mut self, entry: OplogEntry) -> wasmtime::Result<u64> {
        self.append_entry(entry, true)
    }

    fn append_entry(&mut self, entry: OplogEntry, after_effect: bool) -> wasmtime::Result<u64> {
        self.raise_pending()?;
        let index = self.last_index() + 1;
        if after_effect {
            let point = CrashPoint::BeforePersist(index);
            let lost = Some((self.oplog.committed_index() + 1, index));
            let fired = FiredCrash { point, in_effect_window: true, lost };
            if let Some(i) = self.crashes.iter().position(|c| *c == point) {
                self.crashes.remove(i);
                return Err(Interrupt::Crash(fired).raise());
            }
            self.note(fired);
        }
        // A remote write's entry is committed with it: Golem commits when
        // the durable function ends, right after adding the entry, and the
        // window before is the before-persist crash point.
        // In a bracket, the commit comes after the end-remote-write entry.
        // A call inside a batch (an HTTP exchange's response and body) ends
        // its own durable function, so it is committed at once too.
        // Under persist-nothing only the commits Golem makes at any level
        // (`CommitLevel::Always`) happen.
        let durable_only = !matches!(self.persistence, PersistenceLevel::PersistNothing);
        let commit = commits_at_once(&entry)
            || (durable_only && matches!(&entry, OplogEntry::EndRemoteWrite(_)))
            || (durable_only
                && matches!(&entry, OplogEntry::HostCall(p) if crate::oplog::is_remote_write(&p.durable_function_type)
                    && (!self.open_bracket || in_batch(&p.durable_function_type))));
        self.oplog.append_buffered(entry);
        let limit = match self.persistence {
            PersistenceLevel::PersistNothing => MAX_UNCOMMITTED_PERSIST_NOTHING,
            _ => MAX_UNCOMMITTED,
        };
        if commit || self.oplog.uncommitted() > limit {
            self.commit()?;
        }
        // Entries this instance writes are never replayed by it.
        self.replay_end = self.oplog.entries().len();
        self.cursor = self.replay_end;
        let point = CrashPoint::AfterEntry(index);
        let scheduled = self.crashes.iter().position(|c| *c == point);
        if scheduled.is_some() || self.notes.as_ref().is_some_and(|n| n.wants(point)) {
            // Inside an unfinished atomic region, recovery re-runs the region;
            // a lost remote write is retried, and so is a region whose end
            // was lost.
            let in_effect_window = self.in_remote_write
                || !self.open_regions.is_empty()
                || !self.open_batches.is_empty()
                || self.loses_effects();
            let committed = self.oplog.committed_index();
            let lost = (committed < index).then_some((committed + 1, index));
            let fired = FiredCrash { point, in_effect_window, lost };
            if let Some(i) = scheduled {
                self.crashes.remove(i);
                return Err(Interrupt::Crash(fired).raise());
            }
            self.note(fired);
        }
        Ok(index)
    }

    /// Tell the notes, if they want this point, what a crash there would
    /// have done; the run goes on.
    fn note(&mut self, fired: FiredCrash) {
        let committed = self.oplog.committed_index();
        let in_batch = !self.open_batches.is_empty();
        if let Some(notes) = &mut self.notes {
            notes.note(Captured { fired, committed, in_batch });
        }
    }

    /// Commit the oplog: everything added so far survives a crash.
    pub(crate) fn commit(&mut self) -> wasmtime::Result<()> {
        self.oplog.commit().map_err(wasmtime::Error::new)?;
        self.forward_commit()
    }

    /// Commit unless persistence is off (Golem's `CommitLevel::DurableOnly`,
    /// the commit at the end of a remote write).
    pub(crate) fn commit_durable(&mut self) -> wasmtime::Result<()> {
        if matches!(self.persistence, PersistenceLevel::PersistNothing) {
            return Ok(());
        }
        self.commit()
    }

    /// Whether a crash now would make recovery perform a side effect again:
    /// the entries it would lose hold a performed remote write, or the end
    /// of an atomic region (the region then runs again from its start).
    fn loses_effects(&self) -> bool {
        let committed = usize::try_from(self.oplog.committed_index()).unwrap_or(usize::MAX);
        self.oplog.entries().get(committed..).unwrap_or_default().iter().any(|e| match e {
            OplogEntry::HostCall(p) => crate::oplog::is_remote_write(&p.durable_function_type),
            OplogEntry::EndAtomicRegion(_) => true,
            _ => false,
        })
    }

    /// Record a guest-supplied durable function invocation (live only).
    pub(crate) fn persist_guest_call(
        &mut self,
        function: String,
        request: ValueAndType,
        response: ValueAndType,
        function_type: WrappedFunctionType,
    ) -> wasmtime::Result<()> {
        let decode = |vt: &ValueAndType| Value::from_wit(&vt.value).unwrap_or(Value::Tuple(vec![]));
        self.calls.push(HostCall {
            function: function.clone(),
            request: decode(&request),
            response: decode(&response),
            replayed: false,
        });
        let entry = OplogEntry::HostCall(HostCallParameters {
            timestamp: self.now(),
            function_name: function,
            request,
            response,
            durable_function_type: function_type,
        });
        self.append(entry).map(|_| ())
    }

    /// Where Golem would retry a failure now from (an `error` entry's
    /// `retry-from`): the innermost open atomic region's begin, or the last
    /// entry.
    pub(crate) fn retry_point(&self) -> u64 {
        self.open_regions.last().copied().unwrap_or_else(|| self.last_index())
    }

    /// Make this instance attempt number `attempt` of its agent: after a
    /// recovery, the world gives new values (see [`Journal::world_u64`]).
    pub(crate) fn set_attempt(&mut self, attempt: u64) {
        self.attempt = attempt;
    }

    /// A random value the world gives the current call: as in a crash-free
    /// run on an agent's first instance; after a recovery, another value
    /// (drawn from the seed and the attempt, so the run stays reproducible),
    /// as a Golem executor draws afresh for calls it executes again.
    pub(crate) fn world_u64(&mut self, salt: u64) -> u64 {
        self.world_draws += 1;
        if self.attempt == 0 {
            return self.random_u64(salt);
        }
        self.fresh_draws += 1;
        splitmix64(self.random_u64(salt) ^ self.attempt.wrapping_mul(0xd605_bbb5_8c8a_bbb1))
    }

    /// [`Journal::world_u64`] as bytes.
    pub(crate) fn world_bytes(&mut self, len: usize) -> Vec<u8> {
        let mut out = Vec::with_capacity(len);
        let mut salt = 0;
        while out.len() < len {
            out.extend_from_slice(&self.world_u64(salt).to_le_bytes());
            salt += 1;
        }
        out.truncate(len);
        out
    }

    /// Deterministic pseudo-random 64-bit word for the current call, the
    /// same in every attempt (idempotency keys, span ids: Golem derives them
    /// from the oplog position, so they survive a crash).
    pub(crate) fn random_u64(&self, salt: u64) -> u64 {
        splitmix64(self.seed ^ self.current ^ salt.wrapping_mul(0x9e37_79b9_7f4a_7c15))
    }

    /// Skip an unfinished atomic region at the end of the oplog, so that
    /// recovery re-executes it from its start. Returns whether one was found.
    pub(crate) fn close_interrupted_region(&mut self) -> wasmtime::Result<bool> {
        let entries = self.oplog.entries();
        let mut open: Vec<u64> = Vec::new();
        for (pos, e) in entries.iter().enumerate() {
            let index = pos as u64 + 1;
            if self.skipped.iter().any(|(from, to)| pos >= *from && pos <= *to) {
                continue;
            }
            match e {
                OplogEntry::BeginAtomicRegion(_) => open.push(index),
                OplogEntry::EndAtomicRegion(p) => open.retain(|b| *b != p.begin_index),
                _ => {}
            }
        }
        let Some(&begin) = open.first() else { return Ok(false) };
        let end = self.last_index();
        if end <= begin {
            return Ok(false); // nothing recorded inside the region yet
        }
        // As Golem: the begin entry stays; everything after it, up to and
        // including the jump itself, is passed over.
        self.append_unreplayed(OplogEntry::Jump(JumpParameters {
            timestamp: self.now(),
            jump: OplogRegion { start: begin + 1, end: end + 1 },
        }))?;
        Ok(true)
    }

    /// Append an entry written by the executor itself before replay begins
    /// (it is passed over by this instance's replay like any passive entry).
    pub(crate) fn append_unreplayed(&mut self, entry: OplogEntry) -> wasmtime::Result<u64> {
        let replay_end = self.replay_end;
        let cursor = self.cursor;
        let index = self.append(entry)?;
        self.replay_end = replay_end;
        self.cursor = cursor;
        self.collect_jumps();
        Ok(index)
    }
}

fn is_persist_nothing(entry: &OplogEntry) -> bool {
    matches!(entry, OplogEntry::ChangePersistenceLevel(p) if matches!(p.persistence_level, PersistenceLevel::PersistNothing))
}
