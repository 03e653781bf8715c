//! Crash verification: run a scenario once without crashes (the reference),
//! then again with crashes injected, and check that every run recovers to the
//! same results and the same side effects.
//!
//! The agents the scenario's agent calls by RPC are crashed too: their
//! oplogs contribute crash points like the scenario agent's own, and every
//! run must make them run the same invocations as the reference run (a
//! retried call that ran twice is reported).
//!
//! ```no_run
//! use reprise_testkit::verify::{CrashPlan, Scenario, verify};
//! use reprise_testkit::{Environment, value::Value};
//!
//! let env = Environment::new()?;
//! let component = env.load("target/wasm32-wasip2/release/shop.wasm")?;
//! let scenario = Scenario::new("cart", [Value::string("alice")])
//!     .call("add", [Value::string("apple")])
//!     .call("checkout", []);
//! let report = verify(&env, &component, &scenario, &CrashPlan::every_entry())?;
//! println!("{report}");
//! assert!(report.is_ok());
//! # Ok::<(), reprise_testkit::Error>(())
//! ```

mod compare;
mod from_crash;
mod locate;
mod plan;
mod replay;
mod report;
mod schedules;
pub mod script;
mod shrink;
mod typed;

pub use replay::{ReplayOutcome, agent_of_oplog, replay_file, replay_folder, replay_oplog};
pub use report::{CallError, CallResult, FailureKind, Progress, RunOutcome, TrialFailure, VerificationReport};

use std::fmt;
use std::time::{Duration, Instant};

use self::compare::compare;
use self::locate::{broken_rule, describe_losses, locate, store_diff};
use self::plan::plan_runs;
use crate::environment::Environment;
use crate::error::Error;
use crate::http_stubs::HttpStub;
use crate::journal::{CrashPoint, FiredCrash};
use crate::oplog::OplogEntry;
use crate::runtime::{Agent, LoadedComponent};
use crate::value::Value;

/// An agent and the calls made to it (and, optionally, calls to further
/// agents and HTTP stubs the agents' requests get answers from).
#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    /// Agent type to create.
    pub agent_type: String,
    /// Constructor arguments.
    pub args: Vec<Value>,
    /// Method calls, in order.
    pub calls: Vec<(String, Vec<Value>)>,
    /// Further agents the calls address (type and constructor arguments):
    /// environment-owned, so they are also the agents RPC reaches.
    pub agents: Vec<(String, Vec<Value>)>,
    /// Which agent each call goes to: 0 the scenario's agent, `i` the
    /// `i`-th of [`Scenario::agents`] (from 1).
    pub targets: Vec<usize>,
    /// Answers to HTTP requests, in every run (see [`Environment::stub_http`]).
    pub http_stubs: Vec<HttpStub>,
    /// What each call must return in the crash-free run, where a script
    /// states it ([`Scenario::from_script`]) or a test ([`Scenario::expect`]).
    pub expected: Vec<Option<script::Expectation>>,
    /// Why the scenario cannot run (a typed value that did not convert),
    /// reported by `verify` before anything runs.
    invalid: Option<String>,
    /// The agent calls go to now.
    current: usize,
}

impl Scenario {
    /// A scenario creating an agent of `agent_type`.
    pub fn new(agent_type: impl Into<String>, args: impl IntoIterator<Item = Value>) -> Self {
        Scenario {
            agent_type: agent_type.into(),
            args: args.into_iter().collect(),
            calls: Vec::new(),
            expected: Vec::new(),
            agents: Vec::new(),
            targets: Vec::new(),
            http_stubs: Vec::new(),
            invalid: None,
            current: 0,
        }
    }

    /// Add a method call (to the agent calls go to now).
    pub fn call(mut self, method: impl Into<String>, args: impl IntoIterator<Item = Value>) -> Self {
        self.calls.push((method.into(), args.into_iter().collect()));
        self.expected.push(None);
        self.targets.push(self.current);
        self
    }

    /// Send the calls that follow to the agent of `agent_type` with these
    /// constructor arguments: the scenario's own agent, or another one,
    /// environment-owned and created when first called.
    pub fn with_agent(mut self, agent_type: impl Into<String>, args: impl IntoIterator<Item = Value>) -> Self {
        let agent = (agent_type.into(), args.into_iter().collect::<Vec<_>>());
        self.current = if (&agent.0, &agent.1) == (&self.agent_type, &self.args) {
            0
        } else if let Some(i) = self.agents.iter().position(|a| *a == agent) {
            i + 1
        } else {
            self.agents.push(agent);
            self.agents.len()
        };
        self
    }

    /// Why the scenario cannot run, if it cannot: a typed value that did not
    /// convert, or calls and their targets (public fields) out of step.
    fn check(&self) -> Result<(), Error> {
        let invalid = |why: String| Err(Error::Setup(format!("the scenario cannot run: {why}")));
        if let Some(why) = &self.invalid {
            return invalid(why.clone());
        }
        if self.targets.len() != self.calls.len() {
            return invalid(format!("{} calls but {} targets", self.calls.len(), self.targets.len()));
        }
        if let Some(t) = self.targets.iter().find(|t| **t > self.agents.len()) {
            return invalid(format!(
                "a call goes to agent {t}, but the scenario has {} more agents",
                self.agents.len()
            ));
        }
        Ok(())
    }

    /// The further agent (type, constructor arguments) calls with `target`
    /// go to; `None` for the scenario's own agent.
    pub(crate) fn other_agent(&self, target: usize) -> Option<&(String, Vec<Value>)> {
        target.checked_sub(1).and_then(|k| self.agents.get(k))
    }

    /// The agent type calls with `target` go to.
    pub(crate) fn agent_type_of(&self, target: usize) -> &str {
        self.other_agent(target).map_or(&self.agent_type, |(agent_type, _)| agent_type)
    }

    /// Answer HTTP requests matching `stub` in every run.
    pub fn http_stub(mut self, stub: HttpStub) -> Self {
        self.http_stubs.push(stub);
        self
    }
}

/// Where crashes are injected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CrashPlan {
    /// One run per oplog index of the reference run, crashing right after
    /// that entry; with `before_persist`, also one run per remote-write host
    /// call crashing after its side effect but before its entry.
    EveryEntry {
        /// Also crash in the side-effect-done, entry-lost window.
        before_persist: bool,
    },
    /// One run per distinct outcome in Golem's crash model, from the
    /// reference run: right after each commit (nothing lost), after the last
    /// entry of each stretch of uncommitted entries that holds a side effect
    /// recovery performs again (a remote write, the end of an atomic region
    /// or of a remote write), and before each remote write's entry. A crash
    /// anywhere else loses only reads, which recovery runs again just as
    /// after the preceding commit.
    Distinct,
    /// `trials` runs, each with `crashes_per_run` distinct crash points drawn
    /// from the reference oplog with a generator seeded by `seed`.
    Random {
        /// Seed; printed in the report so a failure can be re-run.
        seed: u64,
        /// Number of runs.
        trials: usize,
        /// Crashes per run.
        crashes_per_run: usize,
    },
    /// Exactly these runs (each a list of crashes), to reproduce a failure.
    Points(Vec<Vec<AgentCrash>>),
    /// The scenario under each seed's interleaving of the agents
    /// ([`Schedule::Seeded`](crate::Schedule::Seeded)), crash-free and with
    /// `crashes`, each crashed run compared with the same seed's crash-free
    /// run; stops at the first seed that fails (its expectations unmet, or a
    /// crashed run not recovering to its crash-free run).
    Schedules {
        /// The seeds to explore, in order.
        seeds: std::ops::Range<u64>,
        /// The crashes under each seed.
        crashes: Box<CrashPlan>,
    },
}

/// A crash point in one agent's oplog.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct AgentCrash {
    /// The agent's id, `inventory("main")`.
    pub agent: String,
    /// Where in its oplog.
    pub point: CrashPoint,
}

impl AgentCrash {
    /// A crash of agent `agent` at `point`.
    pub fn new(agent: impl Into<String>, point: CrashPoint) -> Self {
        AgentCrash { agent: agent.into(), point }
    }

    /// The Rust expression that builds this crash (for reproduction hints).
    fn to_rust(&self) -> String {
        format!("AgentCrash::new({:?}, CrashPoint::{:?})", self.agent, self.point)
    }
}

impl fmt::Display for AgentCrash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.agent, self.point)
    }
}

impl CrashPlan {
    /// Every entry, including before-persist points.
    pub fn every_entry() -> Self {
        CrashPlan::EveryEntry { before_persist: true }
    }

    /// The distinct outcomes of Golem's crash model ([`CrashPlan::Distinct`]).
    pub fn distinct_outcomes() -> Self {
        CrashPlan::Distinct
    }

    /// This plan under each of `seeds`' interleavings ([`CrashPlan::Schedules`]).
    pub fn under_schedules(self, seeds: std::ops::Range<u64>) -> Self {
        CrashPlan::Schedules { seeds, crashes: Box::new(self) }
    }
}

/// Run `scenario` with each run of `plan` in a fresh environment like `env`
/// and compare against a crash-free run. Errors only when the crash-free run
/// itself fails.
///
/// A crashed run equals the crash-free run up to its first crash, so, where
/// the scenario's agent works alone on its oplog and the key-value and blob
/// stores, each crashed run starts at its first crash (from what one more
/// crash-free run noted there) and ends as soon as it has provably rejoined
/// the crash-free run; [`verify_from_start`] runs each from the beginning to
/// the end, for the same verdicts.
pub fn verify(
    env: &Environment,
    component: &LoadedComponent,
    scenario: &Scenario,
    plan: &CrashPlan,
) -> Result<VerificationReport, Error> {
    verify_with_progress(env, component, scenario, plan, |_| {})
}

/// [`verify`], every crashed run from the beginning of the scenario to its
/// end: slower, the same verdicts (a check of the shortcut).
pub fn verify_from_start(
    env: &Environment,
    component: &LoadedComponent,
    scenario: &Scenario,
    plan: &CrashPlan,
) -> Result<VerificationReport, Error> {
    verify_runs(env, component, scenario, plan, false, &mut |_| {})
}

/// [`verify`], calling `progress` once the runs are planned and after every
/// crashed run (for progress bars).
pub fn verify_with_progress(
    env: &Environment,
    component: &LoadedComponent,
    scenario: &Scenario,
    plan: &CrashPlan,
    mut progress: impl FnMut(Progress),
) -> Result<VerificationReport, Error> {
    verify_runs(env, component, scenario, plan, true, &mut progress)
}

fn verify_runs(
    env: &Environment,
    component: &LoadedComponent,
    scenario: &Scenario,
    plan: &CrashPlan,
    from_crash: bool,
    progress: &mut dyn FnMut(Progress),
) -> Result<VerificationReport, Error> {
    if let CrashPlan::Schedules { seeds, crashes } = plan {
        return schedules::verify_schedules(env, component, scenario, seeds.clone(), crashes, from_crash, progress);
    }
    let started = Instant::now();
    let (reference, reference_oplogs, commits) = run_reference(env, component, scenario)?;
    let (runs, seed) = plan_runs(plan, &reference_oplogs, &commits);
    let mut report = VerificationReport {
        reference,
        runs: runs.len(),
        crashes_fired: 0,
        recovered: 0,
        failures: Vec::new(),
        retried_effects: 0,
        seed,
        elapsed: Duration::ZERO,
        reference_oplogs,
        crash_runs: runs.clone(),
        started_at_crash: 0,
        rejoined: 0,
        unmet: Vec::new(),
        schedule: None,
        schedules_explored: 0,
        minimal: None,
    };
    let expected = match scenario.expected.iter().flatten().any(|e| e.values.is_some()) {
        true => typed::describe_expectations(scenario, component.agent_types()?),
        false => scenario.expected.clone(),
    };
    report.unmet = script::unmet(&expected, &report.reference.results);
    let total = runs.len();
    progress(Progress { done: 0, total, failed: 0 });
    let alone = scenario.agents.is_empty();
    let notes = match from_crash && alone && from_crash::qualifies(env, &report.reference, &report.reference_oplogs) {
        true => from_crash::take_notes(env, component, scenario, &runs, &report.reference_oplogs)?,
        false => None,
    };
    for (done, points) in runs.into_iter().enumerate() {
        let run = match notes.as_ref().and_then(|n| n.run(env, component, scenario, &points, &report.reference)) {
            Some(run) => {
                report.started_at_crash += 1;
                run.map(|r| {
                    report.rejoined += usize::from(r.rejoined);
                    (r.outcome, r.fired)
                })
            }
            None => run_crashed(env, component, scenario, &points),
        };
        match run {
            Err(e) => {
                let diverged_at = match &e {
                    Error::Divergence(d) => Some(d.oplog_index),
                    _ => None,
                };
                let located = locate(&points, &report.reference_oplogs);
                report.failures.push(TrialFailure {
                    crashes: points,
                    kind: FailureKind::Recovery(e.to_string()),
                    diverged_at,
                    lost: Vec::new(),
                    located,
                    rule: None,
                    store_diff: Vec::new(),
                    schedule: None,
                })
            }
            Ok((outcome, fired)) => {
                report.crashes_fired += fired.len();
                match compare(&report.reference, &outcome, &fired) {
                    Ok(retried) => {
                        report.recovered += 1;
                        report.retried_effects += retried;
                    }
                    Err(kind) => {
                        let oplogs = &report.reference_oplogs;
                        report.failures.push(TrialFailure {
                            lost: describe_losses(&points, &fired, oplogs),
                            located: locate(&points, oplogs),
                            rule: broken_rule(&points, &fired, oplogs),
                            store_diff: store_diff(&report.reference, &outcome),
                            crashes: points,
                            kind,
                            diverged_at: None,
                            schedule: None,
                        })
                    }
                }
            }
        }
        progress(Progress { done: done + 1, total, failed: report.failures.len() });
    }
    if matches!(plan, CrashPlan::Random { crashes_per_run, .. } if *crashes_per_run > 1)
        && let Some(first) = report.failures.first()
    {
        report.minimal = Some(shrink::shrink(env, component, scenario, first, from_crash)?);
    }
    report.elapsed = started.elapsed();
    Ok(report)
}

/// Run `scenario` twice without crashes and check that both oplogs are
/// identical (the same invocations with the same seed record the same history).
pub fn run_twice(
    env: &Environment,
    component: &LoadedComponent,
    scenario: &Scenario,
) -> Result<Result<(), String>, Error> {
    let (_, first, _) = run_reference(env, component, scenario)?;
    let (_, second, _) = run_reference(env, component, scenario)?;
    if first == second {
        return Ok(Ok(()));
    }
    let at = first.iter().zip(&second).position(|(a, b)| a != b).unwrap_or(first.len().min(second.len()));
    Ok(Err(format!("the oplogs differ first at index {} ({} vs {} entries)", at + 1, first.len(), second.len())))
}

/// Every agent's oplog after a run: the scenario's agent first, then the
/// agents it called, by id.
type Oplogs = Vec<(String, Vec<OplogEntry>)>;

/// Commit points of each agent's oplog in the reference run.
type Commits = Vec<(String, Vec<u64>)>;

fn run_reference(
    env: &Environment,
    component: &LoadedComponent,
    scenario: &Scenario,
) -> Result<(RunOutcome, Oplogs, Commits), Error> {
    scenario.check()?;
    let env = fresh_for(env, scenario);
    let mut agent = env.create_agent(component, &scenario.agent_type, &scenario.args)?;
    let results = run_calls(&env, component, &mut agent, scenario)?;
    let mut oplogs = vec![(agent.id().to_string(), agent.oplog().entries().to_vec())];
    let mut commits = vec![(agent.id().to_string(), agent.oplog().commit_points().to_vec())];
    for handle in env.owned_agents() {
        let owned = handle.lock();
        oplogs.push((handle.id().to_string(), owned.oplog().entries().to_vec()));
        commits.push((handle.id().to_string(), owned.oplog().commit_points().to_vec()));
    }
    Ok((outcome(&env, &agent, results), oplogs, commits))
}

fn run_crashed(
    env: &Environment,
    component: &LoadedComponent,
    scenario: &Scenario,
    crashes: &[AgentCrash],
) -> Result<(RunOutcome, Vec<FiredCrash>), Error> {
    let env = fresh_for(env, scenario);
    for crash in crashes {
        env.schedule_crashes(&crash.agent, [crash.point]);
    }
    let mut agent = env.create_agent(component, &scenario.agent_type, &scenario.args)?;
    let results = run_calls(&env, component, &mut agent, scenario)?;
    let mut fired = agent.crashes_fired().to_vec();
    for handle in env.owned_agents() {
        fired.extend_from_slice(handle.lock().crashes_fired());
    }
    Ok((outcome(&env, &agent, results), fired))
}

/// A fresh copy of `env` for one run of `scenario`: its HTTP stubs added,
/// the recording service emptied.
pub(crate) fn fresh_for(env: &Environment, scenario: &Scenario) -> Environment {
    let env = env.fresh();
    if let Some(service) = env.recording_service() {
        service.reset();
    }
    for stub in &scenario.http_stubs {
        env.stub_http(stub.clone());
    }
    env
}

/// Each call's result, and whether it is pinned by the agent's inputs.
type Results = Vec<(CallResult, bool)>;

/// Call every method; the agent's errors and failures are results, anything
/// else (the testkit's or the model's) ends the run.
fn run_calls(
    env: &Environment,
    component: &LoadedComponent,
    agent: &mut Agent,
    scenario: &Scenario,
) -> Result<Results, Error> {
    let mut results = Vec::with_capacity(scenario.calls.len());
    for (i, (method, args)) in scenario.calls.iter().enumerate() {
        // `check` made sure every call has a target that exists.
        let target = scenario.targets.get(i).copied().unwrap_or(0);
        let result = match scenario.other_agent(target) {
            None => agent.invoke(method, args),
            Some((agent_type, ctor_args)) => match env.connect_agent(component, agent_type, ctor_args) {
                Ok(other) => other.lock().invoke(method, args),
                Err(e) => Err(e),
            },
        };
        results.push(recorded(env, agent, result)?);
    }
    Ok(results)
}

/// A call's result as a run records it, and whether the agent's inputs alone
/// pin it: a fresh value may live on in the agent's memory, so from the
/// first one on, no result is.
fn recorded(env: &Environment, agent: &Agent, result: Result<Vec<Value>, Error>) -> Result<(CallResult, bool), Error> {
    Ok((call_result(result)?, fresh_values(env, agent) == 0))
}

/// A call's result as a run records it: the agent's error or failure, or
/// the error that ends the run.
fn call_result(result: Result<Vec<Value>, Error>) -> Result<CallResult, Error> {
    match result {
        Ok(values) => Ok(Ok(values)),
        Err(Error::Agent(e)) => Ok(Err(CallError::Agent(e))),
        Err(Error::Suspended { waiting_for, .. }) => Ok(Err(CallError::Suspended(waiting_for))),
        Err(
            e @ (Error::Trap { .. }
            | Error::Timeout { .. }
            | Error::MemoryLimit { .. }
            | Error::AgentFailed(_)
            | Error::Unrecoverable(_)),
        ) => Ok(Err(CallError::Failed(e.to_string()))),
        Err(e) => Err(e),
    }
}

/// Fresh values drawn so far by the scenario's agent and those it called.
fn fresh_values(env: &Environment, agent: &Agent) -> u64 {
    fresh_values_of(agent, &observed_agents(env, &env.plugin_worker_ids()))
}

fn fresh_values_of(agent: &Agent, observed: &[crate::runtime::AgentHandle]) -> u64 {
    agent.fresh_values() + observed.iter().map(|h| h.lock().fresh_values()).sum::<u64>()
}

/// The agents the environment owns that verification compares: those the
/// scenario's agent called, not plugin workers. What a plugin is sent
/// depends on when its agent commits, which crashes change on Golem too
/// (see `docs/golem-fidelity.md`), so its output is not compared.
fn observed_agents(
    env: &Environment,
    workers: &std::collections::BTreeSet<String>,
) -> Vec<crate::runtime::AgentHandle> {
    env.owned_agents().into_iter().filter(|h| !workers.contains(h.id())).collect()
}

fn outcome(env: &Environment, agent: &Agent, results: Results) -> RunOutcome {
    let workers = env.plugin_worker_ids();
    let observed = observed_agents(env, &workers);
    let remote_invocations =
        observed.iter().map(|handle| (handle.id().to_string(), invocations(handle.lock().oplog().entries()))).collect();
    let (results, pinned) = results.into_iter().unzip();
    let (plugin_writes, kv_writes): (Vec<_>, Vec<_>) =
        env.kv_writes().into_iter().partition(|w| workers.contains(&w.agent));
    // Keys only plugins wrote leave the compared contents; a key an agent
    // wrote too stays.
    let agents_wrote: std::collections::BTreeSet<(&str, &str)> =
        kv_writes.iter().map(|w| (w.bucket.as_str(), w.key.as_str())).collect();
    let mut kv = env.kv_contents();
    for write in plugin_writes.iter().filter(|w| !agents_wrote.contains(&(w.bucket.as_str(), w.key.as_str()))) {
        if let Some(bucket) = kv.get_mut(&write.bucket) {
            bucket.remove(&write.key);
            if bucket.is_empty() {
                kv.remove(&write.bucket);
            }
        }
    }
    RunOutcome {
        results,
        pinned,
        fresh_values: fresh_values_of(agent, &observed),
        kv,
        kv_writes,
        blobs: env.blob_contents(),
        blob_writes: env.blob_writes(),
        http_requests: env
            .recording_service()
            .map(|s| s.requests())
            .unwrap_or_default()
            .into_iter()
            .chain(env.stub_requests())
            .collect(),
        oplog_len: agent.oplog().len(),
        remote_invocations,
        interleaving: env.interleaving(),
    }
}

/// The method invocations an oplog records, with their arguments.
fn invocations(oplog: &[OplogEntry]) -> Vec<(String, Vec<Value>)> {
    use crate::bindings::golem::api::oplog::AgentInvocation;
    oplog
        .iter()
        .filter_map(|e| match e {
            OplogEntry::AgentInvocationStarted(p) => match &p.invocation {
                AgentInvocation::AgentMethodInvocation(m) => {
                    Some((m.method_name.clone(), crate::data::values_of(&m.function_input.value).unwrap_or_default()))
                }
                _ => None,
            },
            _ => None,
        })
        .collect()
}
