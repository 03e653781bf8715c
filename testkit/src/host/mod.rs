//! The in-process Golem host: per-instance state ([`HostState`]) and the
//! host interfaces implemented on it, one module per interface. Everything
//! beyond the instance is reached through [`World`] (the shared stores and
//! settings) and [`AgentDirectory`] (the other agents).

mod agent_host;
pub(crate) mod blobstore;
mod clocks_random;
mod config;
pub(crate) mod context;
mod core_types;
pub(crate) mod directory;
mod durability;
mod forks;
mod golem_host;
mod http;
pub(crate) mod invocation_context;
pub(crate) mod keyvalue;
pub(crate) mod limits;
mod logging;
pub(crate) mod names;
mod oplog_api;
mod poll;
mod promises;
pub(crate) mod registry;
mod rpc;
mod scheduled;
mod state;
mod waits;
pub(crate) mod world;

pub use blobstore::BlobWrite;
pub use directory::RevertTarget;
pub(crate) use directory::{
    AgentDirectory, AgentRequest, CallAnswer, DefinedType, ForkRequest, QueuedCall, ScheduledCall,
};
pub use keyvalue::KvWrite;
pub use logging::{LogLevel, LogRecord};
pub use registry::AgentRecord;
pub(crate) use state::{AgentIdentity, HostState};
pub use world::Limits;
pub(crate) use world::{InitialData, StoresAt, World};

use wasmtime::component::{HasSelf, Linker};

/// Register every interface the testkit implements.
pub(crate) fn add_to_linker(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    wasmtime_wasi::p2::add_to_linker_sync(linker)?;
    wasmtime_wasi_http::p2::add_only_http_to_linker_sync(linker)?;
    // Clocks, randomness, polls, HTTP exchanges and their streams are
    // journaled: replace wasmtime-wasi's own.
    linker.allow_shadowing(true);
    poll::add_to_linker(linker)?;
    http::add_to_linker(linker)?;
    {
        use wasmtime_wasi::p2::bindings::clocks::{monotonic_clock, wall_clock};
        use wasmtime_wasi::p2::bindings::random::{insecure, insecure_seed, random};
        wall_clock::add_to_linker::<_, HasSelf<_>>(linker, |s| s)?;
        monotonic_clock::add_to_linker::<_, HasSelf<_>>(linker, |s| s)?;
        random::add_to_linker::<_, HasSelf<_>>(linker, |s| s)?;
        insecure::add_to_linker::<_, HasSelf<_>>(linker, |s| s)?;
        insecure_seed::add_to_linker::<_, HasSelf<_>>(linker, |s| s)?;
    }
    linker.allow_shadowing(false);

    crate::bindings::wasi::logging::logging::add_to_linker::<_, HasSelf<_>>(linker, |s| s)?;
    crate::bindings::golem::core::types::add_to_linker::<_, HasSelf<_>>(linker, |s| s)?;
    crate::bindings::golem::durability::durability::add_to_linker::<_, HasSelf<_>>(linker, |s| s)?;
    crate::bindings::golem::api::host::add_to_linker::<_, HasSelf<_>>(linker, |s| s)?;
    crate::bindings::golem::agent::host::add_to_linker::<_, HasSelf<_>>(linker, |s| s)?;
    crate::bindings::golem::api::context::add_to_linker::<_, HasSelf<_>>(linker, |s| s)?;
    crate::bindings::golem::api::oplog::add_to_linker::<_, HasSelf<_>>(linker, |s| s)?;
    crate::bindings::wasi::config::store::add_to_linker::<_, HasSelf<_>>(linker, |s| s)?;
    crate::bindings::wasi::keyvalue::types::add_to_linker::<_, HasSelf<_>>(linker, |s| s)?;
    crate::bindings::wasi::keyvalue::wasi_keyvalue_error::add_to_linker::<_, HasSelf<_>>(linker, |s| s)?;
    crate::bindings::wasi::keyvalue::eventual::add_to_linker::<_, HasSelf<_>>(linker, |s| s)?;
    crate::bindings::wasi::keyvalue::eventual_batch::add_to_linker::<_, HasSelf<_>>(linker, |s| s)?;
    crate::bindings::wasi::blobstore::types::add_to_linker::<_, HasSelf<_>>(linker, |s| s)?;
    crate::bindings::wasi::blobstore::container::add_to_linker::<_, HasSelf<_>>(linker, |s| s)?;
    crate::bindings::wasi::blobstore::blobstore::add_to_linker::<_, HasSelf<_>>(linker, |s| s)?;
    Ok(())
}
