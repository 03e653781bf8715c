//! The testkit's error type.

use std::fmt;

use crate::guest::GuestBuildError;
use crate::inspect::{IncompatibleImports, InspectError};
use crate::oplog::OplogError;

/// Anything that can go wrong loading or running a component in the testkit.
#[derive(Debug)]
pub enum Error {
    /// The file is not a readable, well-formed component.
    Inspect(InspectError),
    /// The component imports interfaces Golem 1.5 does not provide.
    Incompatible(IncompatibleImports),
    /// Building a guest crate failed.
    GuestBuild(GuestBuildError),
    /// wasmtime could not compile the component.
    Compile(String),
    /// The component could not be instantiated (for example an import the
    /// testkit does not implement yet).
    Instantiate(String),
    /// The component does not export what was asked for.
    MissingExport(String),
    /// The guest trapped (a panic, `unreachable`, a failed host call, ...).
    Trap {
        /// The trap, with wasmtime's backtrace of the guest.
        message: String,
        /// What the guest wrote to stderr before trapping (a Rust panic message, say).
        stderr: String,
    },
    /// The invocation ran longer than the environment's time limit.
    Timeout {
        /// The limit.
        limit: std::time::Duration,
    },
    /// The guest tried to grow its memory beyond the environment's limit.
    MemoryLimit {
        /// The limit in bytes.
        limit: usize,
    },
    /// The guest tried to grow its memory while the environment's instances
    /// together hold as much as the environment's total allows.
    MemoryBudget {
        /// The total in bytes.
        limit: usize,
    },
    /// Replay did not follow the oplog: the agent is nondeterministic.
    Divergence(Divergence),
    /// An oplog entry could not be replayed.
    CorruptOplog(CorruptEntry),
    /// The oplog could not be read or written.
    Oplog(OplogError),
    /// The agent failed earlier and cannot be invoked any more.
    AgentFailed(String),
    /// The agent is suspended, as Golem suspends an agent awaiting promises
    /// nobody has completed (or a long sleep): its invocation finishes once
    /// it resumes, and calls to it wait until then.
    Suspended {
        /// The agent's id.
        agent: String,
        /// What it waits for: `promise 7 of `approval("o-7")` or 172800 s to pass`.
        waiting_for: String,
    },
    /// The agent returned one of its `agent-error`s.
    Agent(String),
    /// The component's `discover-agent-types` failed.
    Discovery(String),
    /// No agent type of that name in the component.
    UnknownAgentType {
        /// The name asked for.
        name: String,
        /// The types the component defines, comma-separated.
        known: String,
    },
    /// A revert that cannot be applied (an index outside the oplog, more
    /// invocations than the agent has).
    Revert(String),
    /// Recovery found a state a Golem executor cannot continue from (a
    /// remote write interrupted with idempotence off); the agent failed.
    Unrecoverable(String),
    /// Recovery kept crashing.
    RecoveryLoop {
        /// How many recoveries were attempted.
        attempts: usize,
    },
    /// A plugin could not be defined, installed, activated or run.
    Plugin(String),
    /// The testkit itself could not be set up.
    Setup(String),
    /// The guest failed in some other way.
    Guest(String),
    /// A typed call's answer is not the Rust result type the test was
    /// compiled with: the component was built from other source.
    Answer {
        /// The method called.
        method: String,
        /// What does not match.
        message: String,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Inspect(e) => e.fmt(f),
            Error::Incompatible(e) => e.fmt(f),
            Error::GuestBuild(e) => e.fmt(f),
            Error::Compile(e) => write!(f, "compiling the component failed: {e}"),
            Error::Instantiate(e) => write!(f, "instantiating the component failed: {e}"),
            Error::MissingExport(e) => write!(f, "the component does not export {e}"),
            Error::Trap { message, stderr } => {
                // What the guest said (a panic's message) and why it
                // trapped come first; wasmtime's frames after.
                let last = message.lines().rev().map(str::trim).find(|l| !l.is_empty()).unwrap_or("");
                // wasmtime ends its chain with the trap on the last frame's line.
                let cause = last.find("wasm trap:").map_or(last, |at| &last[at..]);
                write!(f, "the guest trapped: {cause}")?;
                if !stderr.trim().is_empty() {
                    write!(f, "\nguest stderr:\n{}", stderr.trim_end())?;
                }
                if message.trim() != cause {
                    write!(f, "\n{}", message.trim_end())?;
                }
                Ok(())
            }
            Error::Timeout { limit } => write!(f, "the invocation did not finish within {limit:?} (an endless loop?)"),
            Error::MemoryLimit { limit } => {
                write!(f, "the guest tried to grow its memory beyond the limit of {limit} bytes")
            }
            Error::MemoryBudget { limit } => write!(
                f,
                "the guest tried to grow its memory while the environment's instances hold their total of {limit} bytes"
            ),
            Error::Divergence(d) => d.fmt(f),
            Error::CorruptOplog(e) => e.fmt(f),
            Error::Oplog(e) => e.fmt(f),
            Error::AgentFailed(e) => write!(f, "the agent failed earlier and cannot be invoked: {e}"),
            Error::Suspended { agent, waiting_for } => write!(
                f,
                "agent `{agent}` is suspended until {waiting_for}, as Golem suspends it; complete the promise \
                 (Environment::complete_promise) or move the time on (Environment::advance_time), then resume it \
                 (Agent::resume) or call it again"
            ),
            Error::Agent(e) => write!(f, "the agent returned an error: {e}"),
            Error::Revert(e) => write!(f, "revert refused: {e}"),
            Error::Discovery(e) => write!(f, "discovering the component's agent types failed: {e}"),
            Error::UnknownAgentType { name, known } if known.is_empty() => {
                write!(f, "the component defines no agent types, so there is no `{name}`")
            }
            Error::UnknownAgentType { name, known } => {
                write!(f, "the component has no agent type `{name}`; it defines: {known}")
            }
            Error::Unrecoverable(e) => write!(f, "recovery cannot continue, as on Golem: {e}"),
            Error::RecoveryLoop { attempts } => write!(f, "recovery crashed {attempts} times in a row; giving up"),
            Error::Plugin(e) => write!(f, "plugin: {e}"),
            Error::Setup(e) => write!(f, "setting up the testkit failed: {e}"),
            Error::Guest(e) => write!(f, "the guest failed: {e}"),
            Error::Answer { method, message } => write!(
                f,
                "the answer of `{method}` is not the result type the test was compiled with ({message}); was the component built from this source?"
            ),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Inspect(e) => Some(e),
            Error::Incompatible(e) => Some(e),
            Error::GuestBuild(e) => Some(e),
            Error::Divergence(e) => Some(e),
            Error::CorruptOplog(e) => Some(e),
            Error::Oplog(e) => Some(e),
            _ => None,
        }
    }
}

impl From<InspectError> for Error {
    fn from(e: InspectError) -> Self {
        Error::Inspect(e)
    }
}

impl From<IncompatibleImports> for Error {
    fn from(e: IncompatibleImports) -> Self {
        Error::Incompatible(e)
    }
}

impl From<GuestBuildError> for Error {
    fn from(e: GuestBuildError) -> Self {
        Error::GuestBuild(e)
    }
}

impl From<OplogError> for Error {
    fn from(e: OplogError) -> Self {
        Error::Oplog(e)
    }
}

/// Render a wasmtime error with its whole cause chain on one line.
pub(crate) fn chain(e: &wasmtime::Error) -> String {
    format!("{e:#}")
}

/// Replay asked for something other than what the oplog recorded: the agent
/// is nondeterministic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Divergence {
    /// Index of the recorded entry that did not match (the first unread index
    /// when the oplog had nothing more to offer).
    pub oplog_index: u64,
    /// What the oplog recorded there.
    pub expected: String,
    /// What the agent did instead.
    pub actual: String,
}

impl fmt::Display for Divergence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "replay diverged at oplog index {}: the oplog recorded {}, but the agent {}",
            self.oplog_index, self.expected, self.actual
        )
    }
}

impl std::error::Error for Divergence {}

/// A recorded entry could not be turned back into a host function's result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorruptEntry {
    /// The entry.
    pub oplog_index: u64,
    /// What is wrong.
    pub reason: String,
}

impl fmt::Display for CorruptEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "oplog entry {} cannot be replayed: {}", self.oplog_index, self.reason)
    }
}

impl std::error::Error for CorruptEntry {}
