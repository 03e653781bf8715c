//! The agent's virtual clock: 1 ms per oplog entry from 2026-01-01, an hour
//! more per recovery for values drawn afresh, and whatever the agent slept.

use super::Journal;
use crate::bindings::golem::api::oplog::Timestamp;
use crate::bindings::wasi::clocks::wall_clock::Datetime;
use crate::oplog::OplogEntry;

/// Virtual time of the entry with index 0; each later index is 1 ms after
/// the previous one, so timestamps do not depend on the machine or on crashes.
const EPOCH_SECONDS: u64 = 1_767_225_600; // 2026-01-01T00:00:00Z

/// How far the virtual clock moves on with each recovery of an agent.
const CLOCK_STEP_PER_RECOVERY_SECONDS: u64 = 3600;

/// Sleeps at least this long suspend the agent on Golem (`suspend.suspend_after`
/// in golem-worker-executor/config/worker-executor.toml): a `suspend` entry.
pub(crate) const SUSPEND_AFTER_NANOS: u64 = 10_000_000_000;

impl Journal {
    /// Virtual time for an entry at `index`.
    pub(crate) fn time_at(index: u64) -> Datetime {
        Datetime { seconds: EPOCH_SECONDS + index / 1000, nanoseconds: ((index % 1000) * 1_000_000) as u32 }
    }

    /// Virtual time of the next entry.
    pub(crate) fn now(&self) -> Datetime {
        later(Self::time_at(self.last_index() + 1), self.slept)
    }

    /// The virtual monotonic clock, in nanoseconds since the virtual epoch:
    /// 1 ms per oplog entry, plus what the agent slept.
    pub(crate) fn clock_nanos(&self) -> u64 {
        (self.last_index() + 1).saturating_mul(1_000_000).saturating_add(self.slept)
    }

    /// Sleep until the virtual monotonic clock reads `deadline`: the clock
    /// moves on at once; a sleep of 10 s or more is recorded as Golem
    /// suspends the agent for it (a committed `suspend` entry, a crash point).
    pub(crate) fn sleep_until(&mut self, deadline: u64) -> wasmtime::Result<()> {
        let now = self.clock_nanos();
        if deadline <= now {
            return Ok(());
        }
        if deadline - now >= SUSPEND_AFTER_NANOS {
            let timestamp = self.now();
            self.append(OplogEntry::Suspend(Timestamp { timestamp }))?;
        }
        // Measured from before the `suspend` entry: the agent's clock
        // readings, which do not count entries, see the whole sleep.
        self.slept += deadline - now;
        Ok(())
    }

    /// Move the virtual monotonic clock on to at least `floor` (time that
    /// passed while the agent was suspended).
    pub(crate) fn raise_clock(&mut self, floor: u64) {
        let now = self.clock_nanos();
        if floor > now {
            self.slept += floor - now;
        }
    }

    /// The time the world gives the current call, the `n`-th read of a
    /// clock: 1 ms per read from the virtual epoch on an agent's first
    /// instance; after a recovery the clock has moved on, by an hour per
    /// recovery, so it never goes back.
    pub(crate) fn world_time(&mut self, n: u64) -> Datetime {
        self.world_draws += 1;
        if self.attempt > 0 {
            self.fresh_draws += 1;
        }
        self.world_time_at(n)
    }

    /// What the `n`-th read of a clock gives, without counting a read.
    pub(crate) fn world_time_at(&self, n: u64) -> Datetime {
        let time = later(Self::time_at(n), self.slept);
        Datetime { seconds: time.seconds + self.attempt * CLOCK_STEP_PER_RECOVERY_SECONDS, ..time }
    }
}

/// `time` moved on by `nanos`.
fn later(time: Datetime, nanos: u64) -> Datetime {
    let total = u64::from(time.nanoseconds) + nanos % 1_000_000_000;
    Datetime {
        seconds: time.seconds + nanos / 1_000_000_000 + total / 1_000_000_000,
        nanoseconds: (total % 1_000_000_000) as u32,
    }
}

/// `time` in nanoseconds since the Unix epoch.
pub(crate) fn nanos_of(time: &Datetime) -> u128 {
    u128::from(time.seconds) * 1_000_000_000 + u128::from(time.nanoseconds)
}

/// What an agent had slept by the end of its oplog: the most any entry's
/// timestamp runs ahead of its position (entries are stamped with the
/// virtual time, sleeps included).
pub(super) fn slept_in(entries: &[OplogEntry]) -> u64 {
    entries
        .iter()
        .enumerate()
        .map(|(pos, e)| {
            let ahead =
                nanos_of(&crate::oplog::timestamp(e)).saturating_sub(nanos_of(&Journal::time_at(pos as u64 + 1)));
            u64::try_from(ahead).unwrap_or(u64::MAX)
        })
        .max()
        .unwrap_or(0)
}
