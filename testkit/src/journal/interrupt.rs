//! Crash points, and the one way host functions stop a guest for the agent
//! runtime to handle: [`Interrupt`].

use std::fmt;

use crate::error::{CorruptEntry, Divergence};

/// Where an injected crash happens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CrashPoint {
    /// Right after the entry with this oplog index has been persisted.
    AfterEntry(u64),
    /// When the entry with this index is about to be persisted: its side
    /// effect has happened, the entry is lost (the window idempotency keys are
    /// for). Fires on host-call entries, and on the checkpoints confirming
    /// a batch enqueued on a plugin worker (the enqueue is the effect).
    BeforePersist(u64),
}

impl fmt::Display for CrashPoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CrashPoint::AfterEntry(i) => write!(f, "after entry {i}"),
            CrashPoint::BeforePersist(i) => write!(f, "before persisting entry {i} (side effect done)"),
        }
    }
}

/// A crash that happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FiredCrash {
    /// Where.
    pub point: CrashPoint,
    /// Whether it hit between a remote side effect and its oplog entry (a
    /// before-persist point, or inside a `write-remote` durable function
    /// before it was persisted): a retry of that effect is then expected.
    pub in_effect_window: bool,
    /// The oplog indexes of the entries the crash lost (first and last):
    /// those added since the last commit, and for a before-persist crash
    /// the entry that was never written. `None` when nothing was lost.
    pub lost: Option<(u64, u64)>,
}

/// Why a host function stopped the guest. None of these is the guest's own
/// failure: the agent runtime recovers from the first two and reports the
/// others, in one place (`runtime::interrupts`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Interrupt {
    /// An injected crash fired: the instance is gone.
    Crash(FiredCrash),
    /// The agent moved its oplog position (`set-oplog-index`) and restarts
    /// from there.
    Restart,
    /// Replay asked for something other than what the oplog recorded.
    Divergence(Divergence),
    /// A recorded entry could not be turned back into a result.
    Corrupt(CorruptEntry),
    /// Recovery found something a Golem executor cannot continue from (a
    /// remote write interrupted with idempotence off): the agent fails.
    Unrecoverable(String),
    /// The guest awaits what only the outside world brings (a promise's
    /// completion, a long time passing): Golem suspends the agent.
    Suspend(Wait),
}

/// What a suspended agent waits for: any of these promises (by creator and
/// creation index) to be completed, or its monotonic clock to reach the
/// deadline (nanoseconds), whichever comes first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Wait {
    pub(crate) promises: Vec<(String, u64)>,
    pub(crate) deadline: Option<u64>,
}

impl Wait {
    /// What the agent waits for, as an error message says it; `now` is its
    /// clock when it began to wait.
    pub(crate) fn describe(&self, now: u64) -> String {
        let mut what: Vec<String> =
            self.promises.iter().map(|(agent, index)| format!("promise {index} of `{agent}`")).collect();
        if let Some(deadline) = self.deadline {
            let seconds = deadline.saturating_sub(now).div_ceil(1_000_000_000);
            what.push(format!("{seconds} s to pass"));
        }
        what.join(" or ")
    }
}

impl Interrupt {
    /// The trap that carries the interrupt out of the guest.
    pub(crate) fn raise(self) -> wasmtime::Error {
        wasmtime::Error::new(self)
    }

    /// The interrupt a trap carries, if it is one.
    pub(crate) fn of(error: &wasmtime::Error) -> Option<&Interrupt> {
        error.downcast_ref::<Interrupt>()
    }
}

impl From<Divergence> for Interrupt {
    fn from(d: Divergence) -> Self {
        Interrupt::Divergence(d)
    }
}

impl From<CorruptEntry> for Interrupt {
    fn from(c: CorruptEntry) -> Self {
        Interrupt::Corrupt(c)
    }
}

impl fmt::Display for Interrupt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Interrupt::Crash(fired) => write!(f, "injected crash {}", fired.point),
            Interrupt::Restart => f.write_str("the agent moved its oplog position and restarts from there"),
            Interrupt::Divergence(d) => d.fmt(f),
            Interrupt::Corrupt(c) => c.fmt(f),
            Interrupt::Unrecoverable(reason) => f.write_str(reason),
            Interrupt::Suspend(wait) => write!(f, "suspended: waits for {}", wait.describe(0)),
        }
    }
}

impl std::error::Error for Interrupt {}

/// What a crash at a noted point would have done, seen by a crash-free run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Captured {
    /// The crash, as it would have fired.
    pub(crate) fired: FiredCrash,
    /// The oplog index committed at that moment: what the crash would keep.
    pub(crate) committed: u64,
    /// An HTTP exchange was open: a crash there is raised later, from inside
    /// wasmtime-wasi-http, so the moment it takes effect is not this one.
    pub(crate) in_batch: bool,
}

/// Crash points a crash-free run only notes: where a scheduled crash would
/// strike, the hook learns what it would have lost, and the run goes on.
/// Crash verification starts its crashed runs from such notes instead of
/// running the crash-free part before each crash again.
pub(crate) struct CrashNotes {
    points: std::collections::BTreeSet<CrashPoint>,
    hook: Box<dyn FnMut(Captured) + Send>,
}

impl CrashNotes {
    pub(crate) fn new(
        points: impl IntoIterator<Item = CrashPoint>,
        hook: impl FnMut(Captured) + Send + 'static,
    ) -> Self {
        CrashNotes { points: points.into_iter().collect(), hook: Box::new(hook) }
    }

    pub(crate) fn wants(&self, point: CrashPoint) -> bool {
        self.points.contains(&point)
    }

    pub(crate) fn note(&mut self, captured: Captured) {
        if self.points.contains(&captured.fired.point) {
            (self.hook)(captured);
        }
    }
}
