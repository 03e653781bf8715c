//! One wasmtime engine per process, and compiled components cached by content.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use crate::sync::lock;
use std::time::Duration;

use wasmtime::component::Component;
use wasmtime::{Config, Engine};

use crate::error::{Error, chain};

/// How often the engine's epoch advances; invocation time limits are counted
/// in these ticks.
pub(crate) const EPOCH_TICK: Duration = Duration::from_millis(10);

/// The process-wide engine. Components compiled with it are cached in memory
/// (by content hash) and on disk through wasmtime's own cache, so each
/// component is compiled once per machine, not once per test.
pub(crate) fn engine() -> Result<&'static Engine, Error> {
    static ENGINE: OnceLock<Result<Engine, String>> = OnceLock::new();
    ENGINE
        .get_or_init(|| {
            let mut config = Config::new();
            config.wasm_component_model(true);
            // Endless loops are stopped by epoch interruption.
            config.epoch_interruption(true);
            // The disk cache is an optimisation: without a usable cache
            // directory the engine still works.
            if let Ok(cache) = wasmtime::Cache::from_file(None) {
                config.cache(Some(cache));
            }
            let engine = Engine::new(&config).map_err(|e| chain(&e))?;
            let ticking = engine.weak();
            std::thread::Builder::new()
                .name("reprise-epoch".into())
                .spawn(move || {
                    while let Some(engine) = ticking.upgrade() {
                        engine.increment_epoch();
                        drop(engine);
                        std::thread::sleep(EPOCH_TICK);
                    }
                })
                .map_err(|e| format!("starting the epoch thread: {e}"))?;
            Ok(engine)
        })
        .as_ref()
        .map_err(|e| Error::Setup(format!("creating the wasmtime engine: {e}")))
}

/// Compiled components by content hash, with the bytes to rule out collisions.
type CompiledCache = Mutex<HashMap<u64, Arc<(Vec<u8>, Component)>>>;

/// Compile `bytes`, reusing an earlier compilation of identical bytes.
pub(crate) fn compile(bytes: &[u8]) -> Result<Component, Error> {
    static COMPILED: OnceLock<CompiledCache> = OnceLock::new();
    let key = content_key(bytes);
    let cache = COMPILED.get_or_init(Default::default);
    if let Some(hit) = lock(cache).get(&key).cloned() {
        // A 64-bit key can collide; compare the bytes before trusting it.
        if hit.0 == bytes {
            return Ok(hit.1.clone());
        }
    }
    let component = Component::new(engine()?, bytes).map_err(|e| Error::Compile(chain(&e)))?;
    lock(cache).insert(key, Arc::new((bytes.to_vec(), component.clone())));
    Ok(component)
}

fn content_key(bytes: &[u8]) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    bytes.hash(&mut h);
    h.finish()
}
