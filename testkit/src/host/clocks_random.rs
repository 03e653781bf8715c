//! WASI clocks and randomness, journaled: live reads are recorded as host
//! calls and replay returns the recorded values, so an agent that reads the
//! time or random numbers replays deterministically.
//!
//! Values are virtual and deterministic: time advances 1 ms per journaled
//! call from 2026-01-01, plus whatever the agent slept (timers run on the
//! virtual clock: `waits`), and random numbers derive from the agent's seed
//! and the number of journaled calls before them, so the same script
//! produces the same oplog every run. After a recovery the world gives new values, as on
//! Golem: the clock has moved on (an hour per recovery) and random numbers
//! are drawn from the seed and the recovery count (`Journal::world_time`,
//! `Journal::world_u64`), so every crashed run is reproducible too.

use wasmtime::component::Resource;
use wasmtime_wasi::p2::DynPollable;
use wasmtime_wasi::p2::bindings::clocks::{monotonic_clock, wall_clock};
use wasmtime_wasi::p2::bindings::random::{insecure, insecure_seed, random};

use super::HostState;
use super::names;
use crate::bindings::golem::api::oplog::WrappedFunctionType;
use crate::journal::{Journal, journaled_record};

/// Most bytes one random call may ask for (the guest controls `len`).
const MAX_RANDOM_BYTES: u64 = 64 * 1024 * 1024;

/// `wall-clock::datetime`, as recorded.
#[derive(Debug, Clone, Copy)]
struct Datetime {
    seconds: u64,
    nanoseconds: u32,
}

journaled_record!(Datetime { seconds: "seconds", nanoseconds: "nanoseconds" });

/// `subscribe-duration`'s request, as Golem records it.
#[derive(Debug, Clone, Copy)]
struct MonotonicClockDuration {
    duration_in_nanos: u64,
}

journaled_record!(MonotonicClockDuration { duration_in_nanos: "duration_in_nanos" });

/// The monotonic clock's reading when a duration was subscribed to.
#[derive(Debug, Clone, Copy)]
struct MonotonicClockTimestamp {
    nanos: u64,
}

journaled_record!(MonotonicClockTimestamp { nanos: "nanos" });

impl HostState {
    fn journaled_u64(&mut self, function: &str, produce: impl FnOnce(&mut Journal) -> u64) -> wasmtime::Result<u64> {
        self.journal.call(function, WrappedFunctionType::ReadLocal, &(), |j| produce(j))
    }

    fn journaled_bytes(&mut self, function: &str, len: u64) -> wasmtime::Result<Vec<u8>> {
        if len > MAX_RANDOM_BYTES {
            return Err(wasmtime::format_err!(
                "{function}: asked for {len} bytes, more than the {MAX_RANDOM_BYTES} allowed"
            ));
        }
        self.journal.call(function, WrappedFunctionType::ReadLocal, &len, |j| j.world_bytes(len as usize))
    }
}

impl wall_clock::Host for HostState {
    fn now(&mut self) -> wasmtime::Result<wall_clock::Datetime> {
        const NOW: &str = names::WALL_CLOCK_NOW;
        let now = self.journal.call(NOW, WrappedFunctionType::ReadLocal, &(), |j| {
            let now = j.world_time(j.draw_count(NOW));
            Datetime { seconds: now.seconds, nanoseconds: now.nanoseconds }
        })?;
        Ok(wall_clock::Datetime { seconds: now.seconds, nanoseconds: now.nanoseconds })
    }

    fn resolution(&mut self) -> wasmtime::Result<wall_clock::Datetime> {
        Ok(wall_clock::Datetime { seconds: 0, nanoseconds: 1_000_000 })
    }
}

impl monotonic_clock::Host for HostState {
    fn now(&mut self) -> wasmtime::Result<u64> {
        const NOW: &str = names::MONOTONIC_CLOCK_NOW;
        // Nanoseconds since the virtual epoch; 1 ms per read.
        self.journaled_u64(NOW, |j| {
            let t = j.world_time(j.draw_count(NOW));
            t.seconds.saturating_sub(Journal::time_at(0).seconds).saturating_mul(1_000_000_000)
                + u64::from(t.nanoseconds)
        })
    }

    fn resolution(&mut self) -> wasmtime::Result<u64> {
        Ok(1_000_000)
    }

    fn subscribe_instant(&mut self, when: u64) -> wasmtime::Result<Resource<DynPollable>> {
        // Not journaled, as on Golem: a deadline on the virtual clock.
        self.timer(when)
    }

    fn subscribe_duration(&mut self, duration: u64) -> wasmtime::Result<Resource<DynPollable>> {
        // Golem journals the clock's reading and commits it at once; the
        // deadline is that reading plus the duration, in replay too.
        let request = MonotonicClockDuration { duration_in_nanos: duration };
        let subscribed =
            self.journal.call(names::SUBSCRIBE_DURATION, WrappedFunctionType::ReadLocal, &request, |j| {
                MonotonicClockTimestamp { nanos: j.clock_nanos() }
            })?;
        if self.journal.is_live() {
            self.journal.commit_durable()?;
        }
        self.timer(subscribed.nanos.saturating_add(duration))
    }
}

impl random::Host for HostState {
    fn get_random_bytes(&mut self, len: u64) -> wasmtime::Result<Vec<u8>> {
        self.journaled_bytes(names::RANDOM_BYTES, len)
    }

    fn get_random_u64(&mut self) -> wasmtime::Result<u64> {
        self.journaled_u64(names::RANDOM_U64, |j| j.world_u64(0))
    }
}

impl insecure::Host for HostState {
    fn get_insecure_random_bytes(&mut self, len: u64) -> wasmtime::Result<Vec<u8>> {
        self.journaled_bytes(names::INSECURE_RANDOM_BYTES, len)
    }

    fn get_insecure_random_u64(&mut self) -> wasmtime::Result<u64> {
        self.journaled_u64(names::INSECURE_RANDOM_U64, |j| j.world_u64(0))
    }
}

impl insecure_seed::Host for HostState {
    fn insecure_seed(&mut self) -> wasmtime::Result<(u64, u64)> {
        self.journal
            .call(names::INSECURE_SEED, WrappedFunctionType::ReadLocal, &(), |j| (j.world_u64(1), j.world_u64(2)))
    }
}
