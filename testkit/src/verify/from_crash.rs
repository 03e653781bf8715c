//! Crashed runs that start at their crash instead of at the beginning.
//!
//! Before its first crash, a crashed run is the crash-free run: same seed,
//! same calls, same entries. So one more crash-free run notes, at every
//! planned first crash point, what the crash would have kept (the committed
//! oplog, the key-value and blob stores, the call in flight), and each
//! crashed run starts from its note: the agent as the crash left it, which
//! recovers by replaying its oplog exactly as in a run from the beginning.
//!
//! A crashed run also stops early once it has provably rejoined the
//! crash-free run: every crash has fired, the agent's oplog equals the
//! crash-free one entry for entry (so replaying either gives the same
//! memory), the stores hold the same data, and nothing that differs after a
//! recovery (clock readings, random values, asking whether it is live) is
//! read by the agent. The rest of the run would repeat the crash-free run's
//! rest, which is taken from there.
//!
//! Only scenarios whose agent touches nothing but its oplog and the stores
//! qualify (no other agents, plugins, HTTP, metadata or updates); the
//! others run from the beginning.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use super::{AgentCrash, Oplogs, Results, RunOutcome, Scenario, call_result, fresh_values, outcome, recorded};
use crate::bindings::golem::api::oplog::AgentInvocation;
use crate::environment::Environment;
use crate::error::Error;
use crate::host::{BlobWrite, KvWrite, StoresAt, World, names};
use crate::journal::{Captured, CrashNotes, CrashPoint, FiredCrash};
use crate::oplog::{Oplog, OplogEntry};
use crate::runtime::{Agent, LoadedComponent};
use crate::sync::lock;

/// The call in flight during the constructor.
const CONSTRUCTOR: usize = usize::MAX;

/// What a crash at one point would have kept.
struct Note {
    captured: Captured,
    /// The scenario call in flight (`CONSTRUCTOR` during creation).
    call: usize,
    stores: StoresAt,
}

/// Where the crash-free run stood when a call returned.
struct Boundary {
    oplog_len: u64,
    kv_writes: usize,
    blob_writes: usize,
    stores: u64,
    world_draws: u64,
}

/// The notes of a crash-free run, and what crashed runs need of it.
pub(super) struct Notes {
    at: BTreeMap<CrashPoint, Note>,
    entries: Vec<OplogEntry>,
    kv_log: Vec<KvWrite>,
    blob_log: Vec<BlobWrite>,
    boundaries: Vec<Boundary>,
    /// The agent never reads anything a recovery changes: a crashed run
    /// whose oplog equals the crash-free one has the same memory.
    rejoinable: bool,
    /// The last run's oplog, kept for the next.
    working: RefCell<Working>,
}

/// A run's oplog whose first `shared` entries are the crash-free run's: runs
/// in oplog order copy each entry of the crash-free run about once, rather
/// than all of them once per run.
#[derive(Default)]
struct Working {
    entries: Vec<OplogEntry>,
    shared: usize,
}

/// Whether crashed runs of this scenario may start from notes: its agent
/// works alone, on its oplog and the stores only.
pub(super) fn qualifies(env: &Environment, reference: &RunOutcome, oplogs: &Oplogs) -> bool {
    oplogs.len() == 1
        && reference.http_requests.is_empty()
        && !env.has_plugin_installations()
        && oplogs[0].1.iter().all(is_self_contained)
}

/// Entries of an agent that depends on nothing outside its oplog and the stores.
fn is_self_contained(entry: &OplogEntry) -> bool {
    match entry {
        OplogEntry::HostCall(p) => {
            let f = p.function_name.as_str();
            !(f.starts_with("http::")
                || f.starts_with("golem::rpc")
                || f.starts_with("golem::agent::")
                || [names::GET_SELF_METADATA, names::GET_AGENT_METADATA, names::GET_AGENTS].contains(&f)
                || [names::UPDATE_AGENT, names::REVERT_AGENT].contains(&f))
        }
        OplogEntry::Create(_)
        | OplogEntry::AgentInvocationStarted(_)
        | OplogEntry::AgentInvocationFinished(_)
        | OplogEntry::NoOp(_)
        | OplogEntry::Jump(_)
        | OplogEntry::BeginAtomicRegion(_)
        | OplogEntry::EndAtomicRegion(_)
        | OplogEntry::BeginRemoteWrite(_)
        | OplogEntry::EndRemoteWrite(_)
        | OplogEntry::Log(_)
        | OplogEntry::StartSpan(_)
        | OplogEntry::FinishSpan(_)
        | OplogEntry::SetSpanAttribute(_)
        | OplogEntry::ChangePersistenceLevel(_)
        | OplogEntry::GrowMemory(_)
        | OplogEntry::CreateResource(_)
        | OplogEntry::DropResource(_) => true,
        _ => false,
    }
}

/// The order crashes strike in: after entry `i - 1`, before entry `i`
/// (its side effect done), after entry `i`.
fn order(point: &CrashPoint) -> (u64, u8) {
    match *point {
        CrashPoint::BeforePersist(i) => (i, 0),
        CrashPoint::AfterEntry(i) => (i, 1),
    }
}

/// Run the scenario once more without crashes, noting each run's first
/// crash point. `None` when this run differs from the reference (the
/// component is not deterministic): every run then starts from the beginning.
pub(super) fn take_notes(
    env: &Environment,
    component: &LoadedComponent,
    scenario: &Scenario,
    runs: &[Vec<AgentCrash>],
    reference: &Oplogs,
) -> Result<Option<Notes>, Error> {
    let points: BTreeSet<CrashPoint> =
        runs.iter().filter_map(|run| run.iter().map(|c| c.point).min_by_key(order)).collect();
    let env = super::fresh_for(env, scenario);
    let world = env.shared().world.clone();
    let call = Arc::new(AtomicUsize::new(CONSTRUCTOR));
    let noted = Arc::new(Mutex::new(BTreeMap::new()));
    let hook = {
        let (world, call, noted) = (world.clone(), call.clone(), noted.clone());
        move |captured: Captured| {
            let note = Note { captured, call: call.load(Ordering::Relaxed), stores: world.stores_now() };
            lock(&noted).insert(captured.fired.point, note);
        }
    };
    let notes = CrashNotes::new(points, hook);
    let mut agent = env.create_agent_noting(component, &scenario.agent_type, &scenario.args, notes)?;
    let mut boundaries = Vec::with_capacity(scenario.calls.len());
    for (i, (method, args)) in scenario.calls.iter().enumerate() {
        call.store(i, Ordering::Relaxed);
        let _ = call_result(agent.invoke(method, args))?;
        boundaries.push(boundary(&world, &agent));
    }
    if reference.first().map(|(_, entries)| entries.as_slice()) != Some(agent.oplog().entries()) {
        return Ok(None);
    }
    let at = std::mem::take(&mut *lock(&noted));
    Ok(Some(Notes {
        at,
        entries: agent.oplog().entries().to_vec(),
        kv_log: world.kv().writes().to_vec(),
        blob_log: world.blobs().writes().to_vec(),
        boundaries,
        rejoinable: agent.liveness_reads() == 0,
        working: RefCell::default(),
    }))
}

fn boundary(world: &World, agent: &Agent) -> Boundary {
    let (kv_writes, blob_writes) = (world.kv().writes().len(), world.blobs().writes().len());
    Boundary {
        oplog_len: agent.oplog().len(),
        kv_writes,
        blob_writes,
        stores: stores_digest(world),
        world_draws: agent.world_draws(),
    }
}

/// A digest of what the stores hold (not of how they came to hold it).
fn stores_digest(world: &World) -> u64 {
    let mut hasher = DefaultHasher::new();
    world.kv().buckets().hash(&mut hasher);
    world.blobs().contents().hash(&mut hasher);
    hasher.finish()
}

impl Notes {
    /// Run `crashes` from the note of their first crash. `None` when this run
    /// must start from the beginning (its first crash was not noted, struck
    /// the constructor, or struck inside an HTTP exchange).
    pub(super) fn run(
        &self,
        env: &Environment,
        component: &LoadedComponent,
        scenario: &Scenario,
        crashes: &[AgentCrash],
        reference: &RunOutcome,
    ) -> Option<Result<FromCrash, Error>> {
        let first = crashes.iter().map(|c| c.point).min_by_key(order)?;
        let note = self.at.get(&first)?;
        if note.call == CONSTRUCTOR || note.captured.in_batch {
            return None;
        }
        let interrupted = self.interrupted(note)?;
        let rest: Vec<CrashPoint> = crashes.iter().map(|c| c.point).filter(|p| *p != first).collect();
        Some(self.run_from(env, component, scenario, note, interrupted, rest, reference))
    }

    /// What the crash interrupted: `Ok(started)` for an invocation recovery
    /// completes, `Err(())` when the crash came right after the invocation's
    /// finished entry (its result stands). `None` when the note is not
    /// inside call `note.call`'s invocation.
    fn interrupted(&self, note: &Note) -> Option<Result<u64, ()>> {
        let (index, after) = match note.captured.fired.point {
            CrashPoint::AfterEntry(i) => (i, true),
            CrashPoint::BeforePersist(i) => (i, false),
        };
        let written = usize::try_from(if after { index } else { index.checked_sub(1)? }).ok()?;
        let entries = self.entries.get(..written)?;
        let started_pos = entries.iter().rposition(|e| matches!(e, OplogEntry::AgentInvocationStarted(_)))?;
        // The constructor's invocation is the first; call k's the (k+2)-th.
        let nth = entries[..=started_pos].iter().filter(|e| matches!(e, OplogEntry::AgentInvocationStarted(_))).count();
        if nth != note.call + 2 || !is_method(&entries[started_pos]) {
            return None;
        }
        let finished = entries[started_pos..].iter().position(|e| matches!(e, OplogEntry::AgentInvocationFinished(_)));
        match finished {
            None if after && started_pos + 1 == written => Some(Ok(note.captured.committed)),
            None => Some(Ok(started_pos as u64 + 1)),
            Some(at) if after && started_pos + at + 1 == written => Some(Err(())),
            Some(_) => None,
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn run_from(
        &self,
        env: &Environment,
        component: &LoadedComponent,
        scenario: &Scenario,
        note: &Note,
        interrupted: Result<u64, ()>,
        rest: Vec<CrashPoint>,
        reference: &RunOutcome,
    ) -> Result<FromCrash, Error> {
        let env = super::fresh_for(env, scenario);
        env.shared().world.restore(&note.stores, &self.kv_log, &self.blob_log);
        let committed = usize::try_from(note.captured.committed).unwrap_or(usize::MAX).min(self.entries.len());
        let oplog = self.start_oplog(committed);
        let (agent_type, args) = (&scenario.agent_type, &scenario.args);
        let mut agent = env.agent_after_crash(component, agent_type, args, oplog, rest, note.captured.fired)?;
        let k = note.call;
        let mut results: Results = reference.results[..k].iter().map(|r| (r.clone(), true)).collect();
        results.push(match interrupted {
            // The crash came after the call's end was written: its result stands.
            Err(()) => (reference.results[k].clone(), fresh_values(&env, &agent) == 0),
            Ok(started) => {
                let result = agent.complete_interrupted(started);
                recorded(&env, &agent, result)?
            }
        });
        let mut rejoin = Rejoin { possible: self.rejoinable, compared: committed };
        for (method, args) in &scenario.calls[k + 1..] {
            let done = results.len() - 1;
            if self.rejoins(&env, &agent, done, &mut rejoin) {
                let (outcome, fired) = self.rejoined(&env, &agent, results, done, reference);
                self.keep_oplog(agent);
                return Ok(FromCrash { outcome, fired, rejoined: true });
            }
            let result = agent.invoke(method, args);
            results.push(recorded(&env, &agent, result)?);
        }
        let fired = agent.crashes_fired().to_vec();
        let outcome = outcome(&env, &agent, results);
        self.keep_oplog(agent);
        Ok(FromCrash { outcome, fired, rejoined: false })
    }

    /// An oplog of the crash-free run's first `committed` entries, made from
    /// the last run's where they agree.
    fn start_oplog(&self, committed: usize) -> Oplog {
        let mut working = self.working.borrow_mut();
        let mut entries = std::mem::take(&mut working.entries);
        entries.truncate(working.shared.min(committed));
        let have = entries.len();
        entries.extend_from_slice(&self.entries[have..committed]);
        working.shared = committed;
        Oplog::from_entries(entries)
    }

    /// Keep a finished run's oplog for the next run.
    fn keep_oplog(&self, agent: Agent) {
        self.working.borrow_mut().entries = agent.into_oplog().into_entries();
    }

    /// Whether the run, after call `done`, is where the crash-free run was
    /// then, and stays there.
    fn rejoins(&self, env: &Environment, agent: &Agent, done: usize, rejoin: &mut Rejoin) -> bool {
        let Some(then) = self.boundaries.get(done) else { return false };
        let last = self.boundaries.last().map_or(0, |b| b.world_draws);
        if !rejoin.possible || agent.crashes_pending() > 0 || agent.fresh_values() > 0 || then.world_draws != last {
            return false;
        }
        // Entries before `compared` are known equal; a difference stays.
        let ours = agent.oplog().entries();
        let end = ours.len().min(self.entries.len());
        if let Some(from) = ours.get(rejoin.compared..end) {
            if from.iter().zip(&self.entries[rejoin.compared..end]).any(|(a, b)| a != b) {
                rejoin.possible = false;
                return false;
            }
            rejoin.compared = end;
        }
        ours.len() as u64 == then.oplog_len && stores_digest(&env.shared().world) == then.stores
    }

    /// The outcome of a run that rejoined the crash-free run after call
    /// `done`: its own so far, the crash-free run's from there.
    fn rejoined(
        &self,
        env: &Environment,
        agent: &Agent,
        mut results: Results,
        done: usize,
        reference: &RunOutcome,
    ) -> (RunOutcome, Vec<FiredCrash>) {
        let then = &self.boundaries[done];
        results.extend(
            reference.results[done + 1..].iter().zip(&reference.pinned[done + 1..]).map(|(r, p)| (r.clone(), *p)),
        );
        let mut run = outcome(env, agent, results);
        run.kv = reference.kv.clone();
        run.kv_writes.extend_from_slice(&self.kv_log[then.kv_writes..]);
        run.blobs = reference.blobs.clone();
        run.blob_writes.extend_from_slice(&self.blob_log[then.blob_writes..]);
        run.oplog_len = reference.oplog_len;
        (run, agent.crashes_fired().to_vec())
    }
}

/// A crashed run started at its first crash.
pub(super) struct FromCrash {
    pub(super) outcome: RunOutcome,
    pub(super) fired: Vec<FiredCrash>,
    /// It rejoined the crash-free run before its end.
    pub(super) rejoined: bool,
}

/// How far a crashed run's oplog is known to equal the crash-free one.
struct Rejoin {
    /// No difference found yet, and the agent reads nothing recoveries change.
    possible: bool,
    /// Entries before this position are equal.
    compared: usize,
}

fn is_method(entry: &OplogEntry) -> bool {
    matches!(entry, OplogEntry::AgentInvocationStarted(p) if matches!(p.invocation, AgentInvocation::AgentMethodInvocation(_)))
}
