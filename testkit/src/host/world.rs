//! The environment's shared stores and settings, as every instance's host
//! functions see them.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use super::blobstore::{BlobStore, BlobWrite};
use super::keyvalue::{KvStore, KvWrite};
use super::limits::MemoryBudget;
use crate::http_stubs::HttpStubs;
use crate::scheduler::{Schedule, Scheduler};
use crate::sync::lock;

/// Resource limits applied to every instance of an environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest linear memory an instance may grow to.
    pub memory_bytes: usize,
    /// Longest one invocation (including its replay) may run.
    pub invocation_timeout: Duration,
    /// Most linear memory all instances of the environment may hold
    /// together (`None`: no total, only the per-instance limit).
    pub total_memory_bytes: Option<usize>,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            memory_bytes: 256 * 1024 * 1024,
            invocation_timeout: Duration::from_secs(10),
            total_memory_bytes: None,
        }
    }
}

/// Data the stores of an environment (and of each fresh copy crash
/// verification makes) start with.
#[derive(Debug, Clone, Default)]
pub(crate) struct InitialData {
    pub(crate) kv: Vec<(String, String, Vec<u8>)>,
    pub(crate) blobs: Vec<(String, String, Vec<u8>)>,
    /// The only buckets that exist, when restricted.
    pub(crate) buckets: Option<std::collections::BTreeSet<String>>,
}

/// What the agents of one environment share: settings, and the key-value
/// and blob stores.
#[derive(Debug)]
pub(crate) struct World {
    pub(crate) limits: Limits,
    /// Linear memory held by the environment's instances.
    pub(crate) memory: Arc<MemoryBudget>,
    /// Seed of the agents' deterministic randomness.
    pub(crate) seed: u64,
    /// `wasi:config` values, also reported as every agent's configuration.
    pub(crate) config: Vec<(String, String)>,
    /// What the stores held before anything ran.
    pub(crate) initial: InitialData,
    kv: Mutex<KvStore>,
    blobs: Mutex<BlobStore>,
    /// HTTP stubs and the requests they answered (shared with each agent's journal).
    pub(crate) http: Arc<Mutex<HttpStubs>>,
    /// Promises, by creating agent and the index of their creation entry:
    /// `None` while pending, then the completion's payload (Golem keeps them
    /// outside oplogs, in its promise service).
    promises: Mutex<Promises>,
    /// Who of the environment's agents runs next.
    pub(crate) scheduler: Arc<Scheduler>,
    /// How far tests moved the environment's time on (nanoseconds): what
    /// suspended agents see pass.
    advanced: std::sync::atomic::AtomicU64,
}

/// Promises by creating agent and creation index: `None` while pending.
type Promises = std::collections::BTreeMap<(String, u64), Option<Vec<u8>>>;

impl World {
    pub(crate) fn new(
        limits: Limits,
        seed: u64,
        config: Vec<(String, String)>,
        initial: InitialData,
        schedule: Schedule,
    ) -> Self {
        World {
            limits,
            memory: Arc::new(MemoryBudget::new(limits.total_memory_bytes)),
            seed,
            config,
            kv: Mutex::new(KvStore::with_initial(&initial.kv, initial.buckets.clone())),
            blobs: Mutex::new(BlobStore::with_initial(&initial.blobs)),
            initial,
            http: Default::default(),
            promises: Default::default(),
            scheduler: Scheduler::new(schedule),
            advanced: Default::default(),
        }
    }

    /// The same settings and HTTP stubs, with stores holding only the
    /// initial data and no requests answered, its agents taking turns under
    /// `schedule`.
    pub(crate) fn fresh_with(&self, schedule: Schedule) -> World {
        let world = World::new(self.limits, self.seed, self.config.clone(), self.initial.clone(), schedule);
        *lock(&world.http) = lock(&self.http).fresh();
        world
    }

    /// How far the environment's time was moved on, in nanoseconds.
    pub(crate) fn advanced_nanos(&self) -> u64 {
        self.advanced.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Move the environment's time on by `nanos`.
    pub(crate) fn advance(&self, nanos: u64) {
        let _ =
            self.advanced.fetch_update(std::sync::atomic::Ordering::SeqCst, std::sync::atomic::Ordering::SeqCst, |t| {
                Some(t.saturating_add(nanos))
            });
    }

    /// Create promise `(agent, oplog_idx)`, pending, unless it exists.
    pub(crate) fn create_promise(&self, agent: &str, oplog_idx: u64) {
        lock(&self.promises).entry((agent.to_string(), oplog_idx)).or_insert(None);
    }

    /// Complete a promise: `Ok(true)` if it was pending, `Ok(false)` if it
    /// had been completed already (the first payload stays).
    pub(crate) fn complete_promise(&self, agent: &str, oplog_idx: u64, data: Vec<u8>) -> Result<bool, String> {
        match lock(&self.promises).get_mut(&(agent.to_string(), oplog_idx)) {
            Some(slot @ None) => {
                *slot = Some(data);
                Ok(true)
            }
            Some(Some(_)) => Ok(false),
            None => Err(format!("agent `{agent}` created no promise at oplog index {oplog_idx}")),
        }
    }

    /// A promise's payload: `Ok(None)` while pending.
    pub(crate) fn promise(&self, agent: &str, oplog_idx: u64) -> Result<Option<Vec<u8>>, String> {
        lock(&self.promises)
            .get(&(agent.to_string(), oplog_idx))
            .cloned()
            .ok_or_else(|| format!("agent `{agent}` created no promise at oplog index {oplog_idx}"))
    }

    pub(crate) fn kv(&self) -> MutexGuard<'_, KvStore> {
        lock(&self.kv)
    }

    pub(crate) fn blobs(&self) -> MutexGuard<'_, BlobStore> {
        lock(&self.blobs)
    }

    /// The stores' contents now, and how long their write logs are.
    pub(crate) fn stores_now(&self) -> StoresAt {
        let kv = self.kv();
        let blobs = self.blobs();
        StoresAt {
            kv: kv.copy_with_log(Vec::new()),
            kv_writes: kv.writes().len(),
            blobs: blobs.copy_with_log(Vec::new()),
            blob_writes: blobs.writes().len(),
        }
    }

    /// Put the stores back as they were at `at`, with these logs: the run's
    /// whole logs, of which the first writes (as many as at `at`) are kept.
    pub(crate) fn restore(&self, at: &StoresAt, kv_log: &[KvWrite], blob_log: &[BlobWrite]) {
        let kv_log = kv_log.get(..at.kv_writes).unwrap_or(kv_log).to_vec();
        let blob_log = blob_log.get(..at.blob_writes).unwrap_or(blob_log).to_vec();
        *self.kv() = at.kv.copy_with_log(kv_log);
        *self.blobs() = at.blobs.copy_with_log(blob_log);
    }
}

/// The stores of a world at one moment of a run; their write logs are kept
/// only as lengths (prefixes of the run's final logs).
#[derive(Debug)]
pub(crate) struct StoresAt {
    kv: KvStore,
    pub(crate) kv_writes: usize,
    blobs: BlobStore,
    pub(crate) blob_writes: usize,
}
