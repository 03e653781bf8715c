//! Replaying recorded oplogs against a component: the check to run before
//! deploying a new revision to agents that are already running. Golem
//! recovers such an agent by replaying its oplog with the new code; where the
//! code no longer makes the recorded calls, the agent fails.
//!
//! ```no_run
//! use reprise_testkit::Environment;
//! use reprise_testkit::verify::{ReplayOutcome, replay_folder};
//!
//! let env = Environment::new()?;
//! let next = env.load("target/wasm32-wasip2/release/shop.wasm")?;
//! for (file, outcome) in replay_folder(&env, &next, "tests/recorded-oplogs")? {
//!     assert!(matches!(outcome, ReplayOutcome::Replayed { .. }), "{}: {outcome}", file.display());
//! }
//! # Ok::<(), reprise_testkit::Error>(())
//! ```

use std::fmt;
use std::path::{Path, PathBuf};

use crate::environment::Environment;
use crate::error::{Divergence, Error};
use crate::oplog::{Oplog, OplogEntry};
use crate::runtime::LoadedComponent;
use crate::value::Value;

/// What replaying one recorded oplog found.
#[derive(Debug, Clone, PartialEq)]
pub enum ReplayOutcome {
    /// The code made every recorded call: agents with this history survive
    /// the update.
    Replayed {
        /// Entries in the oplog.
        entries: u64,
        /// Invocations it records.
        invocations: usize,
    },
    /// The code did something else than the oplog records.
    Diverged(Divergence),
    /// The oplog could not be replayed for another reason (its agent type is
    /// gone, the guest trapped, the file is damaged, ...).
    Failed(String),
}

impl fmt::Display for ReplayOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReplayOutcome::Replayed { entries, invocations } => {
                write!(f, "replays ({entries} entries, {invocations} invocations)")
            }
            ReplayOutcome::Diverged(d) => write!(f, "diverges: {d}"),
            ReplayOutcome::Failed(why) => write!(f, "cannot be replayed: {why}"),
        }
    }
}

/// The agent type (as `component` names it) and constructor arguments of the
/// agent whose oplog starts with `create`.
pub fn agent_of_oplog(component: &LoadedComponent, entries: &[OplogEntry]) -> Result<(String, Vec<Value>), String> {
    let Some(OplogEntry::Create(create)) = entries.first() else {
        return Err("the oplog does not start with a `create` entry".into());
    };
    component.agent_of_id(&create.agent_id.agent_id)
}

/// Replay `entries` (a recorded oplog) with `component`'s code, in a fresh
/// copy of `env`: nothing recorded is changed. An invocation the oplog
/// records as started and not finished is completed live, as Golem would
/// complete it, and so checked only as far as the oplog goes.
pub fn replay_oplog(env: &Environment, component: &LoadedComponent, entries: &[OplogEntry]) -> ReplayOutcome {
    let (agent_type, args) = match agent_of_oplog(component, entries) {
        Ok(agent) => agent,
        Err(why) => return ReplayOutcome::Failed(why),
    };
    let oplog = Oplog::from_entries(entries.to_vec());
    let invocations = entries.iter().filter(|e| matches!(e, OplogEntry::AgentInvocationStarted(_))).count();
    match env.fresh().agent_with_oplog(component, &agent_type, &args, oplog) {
        Ok(_) => ReplayOutcome::Replayed { entries: entries.len() as u64, invocations },
        Err(Error::Divergence(d)) => ReplayOutcome::Diverged(d),
        Err(e) => ReplayOutcome::Failed(e.to_string()),
    }
}

/// [`replay_oplog`] for every `*.oplog` file in `dir` (as `reprise run
/// --oplog-file` and [`Oplog::create_file`] write them), in name order. A
/// damaged file is reported as such, after replaying its intact entries.
pub fn replay_folder(
    env: &Environment,
    component: &LoadedComponent,
    dir: impl AsRef<Path>,
) -> Result<Vec<(PathBuf, ReplayOutcome)>, Error> {
    let dir = dir.as_ref();
    let io = |e: std::io::Error| Error::Setup(format!("cannot read {}: {e}", dir.display()));
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(io)?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|e| e == "oplog"))
        .collect();
    files.sort();
    Ok(files
        .into_iter()
        .map(|file| {
            let outcome = replay_file(env, component, &file);
            (file, outcome)
        })
        .collect())
}

/// Replay one oplog file.
pub fn replay_file(env: &Environment, component: &LoadedComponent, file: &Path) -> ReplayOutcome {
    match Oplog::read_file(file) {
        Err(e) => ReplayOutcome::Failed(e.to_string()),
        Ok((entries, damage)) => match (replay_oplog(env, component, &entries), damage) {
            (ReplayOutcome::Replayed { .. }, Some(damage)) => {
                ReplayOutcome::Failed(format!("its intact entries replay, but the file is damaged: {damage}"))
            }
            (outcome, _) => outcome,
        },
    }
}
