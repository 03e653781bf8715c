//! What a verification reports: each run's outcome, the runs that failed
//! and why, and the totals.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use super::AgentCrash;
use crate::host::{BlobWrite, KvWrite};
use crate::oplog::OplogEntry;
use crate::recording::RecordedRequest;
use crate::scheduler::Schedule;
use crate::value::Value;

/// What a call gave back: its outputs, or why it gave none.
pub type CallResult = Result<Vec<Value>, CallError>;

/// Why a call of a run returned no outputs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallError {
    /// The agent's own error, as text.
    Agent(String),
    /// The agent failed: the call trapped, ran out of time or memory, or
    /// recovery could not go on, or the agent had failed before and Golem
    /// refuses it calls. The run goes on with the next call, as a caller of
    /// a failed agent on Golem would.
    Failed(String),
    /// The call suspended the agent (it awaits a promise, or a long time to
    /// pass): its invocation finishes once the agent resumes.
    Suspended(String),
}

impl fmt::Display for CallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CallError::Agent(e) => write!(f, "agent error: {e}"),
            CallError::Failed(e) => write!(f, "failed: {e}"),
            CallError::Suspended(e) => write!(f, "suspended: {e}"),
        }
    }
}

/// The observable outcome of one run.
#[derive(Debug, Clone, PartialEq)]
pub struct RunOutcome {
    /// Result of each call: outputs, the agent's error, or its failure.
    pub results: Vec<CallResult>,
    /// Whether each call's result is pinned by the agent's inputs: `false`
    /// once an agent of the run has drawn a clock reading or a random value
    /// after a recovery (fresh, as on Golem, so this and later results may
    /// differ from the crash-free run's without anything being wrong).
    pub pinned: Vec<bool>,
    /// Clock readings and random values drawn after recoveries, by every
    /// agent of the run.
    pub fresh_values: u64,
    /// Key-value store contents at the end.
    pub kv: BTreeMap<String, BTreeMap<String, Vec<u8>>>,
    /// Every key-value write, in order.
    pub kv_writes: Vec<KvWrite>,
    /// Blob store contents at the end.
    pub blobs: BTreeMap<String, BTreeMap<String, Vec<u8>>>,
    /// Every blob store write, in order.
    pub blob_writes: Vec<BlobWrite>,
    /// Requests the environment's recording service received, in order.
    pub http_requests: Vec<RecordedRequest>,
    /// Oplog length at the end.
    pub oplog_len: u64,
    /// The invocations (method and arguments) each agent the scenario's
    /// agent called by RPC ran, by agent id.
    pub remote_invocations: BTreeMap<String, Vec<(String, Vec<Value>)>>,
    /// How the agents took turns: each switch from one to another, in order
    /// (`agent `a` before entry 7 -> queue of b`). Not compared.
    pub interleaving: Vec<String>,
}

/// How a crashed run went wrong.
#[derive(Debug, Clone, PartialEq)]
pub enum FailureKind {
    /// Recovery failed (divergence, trap, corrupt entry, ...).
    Recovery(String),
    /// A call returned something else than in the reference run.
    Results {
        /// Index of the call (from 0; reports count from 1).
        call: usize,
        /// Reference result.
        expected: CallResult,
        /// This run's result.
        actual: CallResult,
    },
    /// The key-value store ended in another state.
    State(String),
    /// A side effect happened more often than in the reference run where no
    /// retry is allowed, or was lost.
    SideEffects(String),
}

/// One crashed run that did not match the reference.
#[derive(Debug, Clone, PartialEq)]
pub struct TrialFailure {
    /// The crashes of the run.
    pub crashes: Vec<AgentCrash>,
    /// What went wrong.
    pub kind: FailureKind,
    /// The oplog index where replay diverged, when recovery failed that way
    /// (in the oplog of the first crashed agent).
    pub diverged_at: Option<u64>,
    /// What each crash lost, as Golem would have lost it: the uncommitted
    /// entries (described as the crash-free run recorded them), which ran
    /// again after recovery.
    pub lost: Vec<String>,
    /// Where each crash struck, in the terms of the scenario: the entry and
    /// the call that wrote it (`the host call ... of call 3, add_item`).
    pub located: Vec<String>,
    /// The rule of Golem's the agent broke, when the oplog shows which (a
    /// side effect inside a durable function Golem does not commit as it ends).
    pub rule: Option<String>,
    /// How the run's key-value and blob stores ended up differing from the
    /// crash-free run's, a line per key (empty when they agree or the run
    /// did not finish).
    pub store_diff: Vec<String>,
    /// The interleaving the run had, under a [`CrashPlan::Schedules`](super::CrashPlan::Schedules) plan.
    pub schedule: Option<Schedule>,
}

impl TrialFailure {
    /// The crashes and what went wrong, without the reproduction hint that
    /// [`Display`](fmt::Display) adds for Rust tests.
    pub fn summary(&self) -> String {
        let points: Vec<String> = self.crashes.iter().map(ToString::to_string).collect();
        let what = match &self.kind {
            FailureKind::Recovery(e) => format!("recovery failed: {e}"),
            FailureKind::Results { call, expected, actual } => {
                // Counted from 1, as `located` counts the calls.
                format!("call {} returned {}, the crash-free run returned {}", call + 1, shown(actual), shown(expected))
            }
            FailureKind::State(e) => format!("final state differs: {e}"),
            FailureKind::SideEffects(e) => format!("side effects differ: {e}"),
        };
        let located = if self.located.is_empty() { String::new() } else { format!(" ({})", self.located.join("; ")) };
        let mut text = if self.lost.is_empty() {
            format!("crash {}{located}: {what}", points.join(", "))
        } else {
            format!("crash {}{located}: {}; {what}", points.join(", "), self.lost.join("; "))
        };
        if !self.store_diff.is_empty() {
            text.push_str(&format!("; stores: {}", self.store_diff.join("; ")));
        }
        if let Some(rule) = &self.rule {
            text.push_str(&format!("; why: {rule}"));
        }
        text
    }
}

impl fmt::Display for TrialFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rust: Vec<String> = self.crashes.iter().map(AgentCrash::to_rust).collect();
        let plan = format!("CrashPlan::Points(vec![vec![{}]])", rust.join(", "));
        match self.schedule {
            Some(Schedule::Seeded(seed)) => write!(
                f,
                "{} (reproduce with {plan} in an environment built with .schedule(Schedule::Seeded({seed})))",
                self.summary()
            ),
            _ => write!(f, "{} (reproduce with {plan})", self.summary()),
        }
    }
}

/// The result of a verification.
#[derive(Debug, Clone)]
pub struct VerificationReport {
    /// The crash-free run.
    pub reference: RunOutcome,
    /// Crashed runs attempted.
    pub runs: usize,
    /// Crashes that actually fired.
    pub crashes_fired: usize,
    /// Runs that recovered to the reference outcome.
    pub recovered: usize,
    /// Runs that did not.
    pub failures: Vec<TrialFailure>,
    /// Side effects repeated by a retry the function type allows (a crash
    /// between the effect and its entry), with the same idempotency key.
    pub retried_effects: usize,
    /// The random plan's seed, if any.
    pub seed: Option<u64>,
    /// Wall time of the whole verification.
    pub elapsed: Duration,
    /// Every agent's oplog after the crash-free run: the scenario's agent
    /// first, then the agents it called, by id (what crash points index).
    pub reference_oplogs: Vec<(String, Vec<OplogEntry>)>,
    /// The crashed runs made, each as its crash points, in order.
    pub crash_runs: Vec<Vec<AgentCrash>>,
    /// Crashed runs started at their first crash, from what a crash-free run
    /// noted there, rather than run from the beginning (see [`verify`]).
    pub started_at_crash: usize,
    /// Of those, runs that provably rejoined the crash-free run and took its
    /// rest from there.
    pub rejoined: usize,
    /// Calls of the crash-free run that did not return what the scenario's
    /// script states.
    pub unmet: Vec<super::script::Unmet>,
    /// Under a [`CrashPlan::Schedules`](super::CrashPlan::Schedules) plan,
    /// the schedule of the runs reported: the first that failed, or else
    /// the last explored.
    pub schedule: Option<Schedule>,
    /// Seeds explored, under a schedules plan (the runs and crashes above
    /// count them all).
    pub schedules_explored: usize,
    /// The first failure made as small as it can be, when it was made of
    /// more than one crash or ran under a seeded schedule: the fewest of
    /// its crashes that still fail a run, without the schedule if the
    /// agents fail as well taking turns in order.
    pub minimal: Option<TrialFailure>,
}

/// How far a verification has come, reported after each crashed run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Crashed runs finished.
    pub done: usize,
    /// Crashed runs planned.
    pub total: usize,
    /// Runs finished that did not recover to the reference outcome.
    pub failed: usize,
}

impl VerificationReport {
    /// Whether every crashed run recovered to the reference outcome, and
    /// the crash-free run returned what the script states.
    pub fn is_ok(&self) -> bool {
        self.failures.is_empty() && self.unmet.is_empty()
    }

    /// Crash runs per second.
    pub fn runs_per_second(&self) -> f64 {
        self.runs as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

impl fmt::Display for VerificationReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "crash verification")?;
        writeln!(
            f,
            "  reference run        {} calls, {} oplog entries",
            self.reference.results.len(),
            self.reference.oplog_len
        )?;
        for (agent, invocations) in &self.reference.remote_invocations {
            writeln!(f, "  other agent          {agent}, {} method invocation(s)", invocations.len())?;
        }
        if let Some(seed) = self.seed {
            writeln!(f, "  seed                 {seed}")?;
        }
        if let Some(schedule) = self.schedule {
            let verdict = if self.is_ok() { "all passed" } else { "the last failed" };
            writeln!(f, "  schedules explored   {} ({verdict}; reported: {schedule})", self.schedules_explored)?;
            for switch in &self.reference.interleaving {
                writeln!(f, "    interleaving       {switch}")?;
            }
        }
        writeln!(f, "  crash runs           {}", self.runs)?;
        writeln!(f, "  crashes injected     {}", self.crashes_fired)?;
        writeln!(f, "  recovered            {}", self.recovered)?;
        writeln!(f, "  failed               {}", self.failures.len())?;
        writeln!(
            f,
            "  repeated side effects {} (identical repeats after a crash between an effect and its entry, as Golem repeats them)",
            self.retried_effects
        )?;
        if self.started_at_crash > 0 {
            writeln!(
                f,
                "  started at the crash {} of {} runs ({} rejoined the crash-free run early)",
                self.started_at_crash, self.runs, self.rejoined
            )?;
        }
        write!(f, "  time                 {:.2?} ({:.0} runs/s)", self.elapsed, self.runs_per_second())?;
        for unmet in &self.unmet {
            write!(f, "\n  UNMET {unmet}")?;
        }
        for failure in self.failures.iter().take(20) {
            write!(f, "\n  FAIL {failure}")?;
        }
        if self.failures.len() > 20 {
            write!(f, "\n  ... and {} more failures", self.failures.len() - 20)?;
        }
        if let Some(minimal) = &self.minimal {
            write!(f, "\n  MINIMAL {minimal}")?;
        }
        Ok(())
    }
}

/// A call's result in a report: outputs as the testkit holds them, errors as text.
fn shown(result: &CallResult) -> String {
    match result {
        Ok(values) => format!("Ok({values:?})"),
        Err(e) => e.to_string(),
    }
}
