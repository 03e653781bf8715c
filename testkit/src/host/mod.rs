//! The in-process Golem host: per-instance state and the host interfaces
//! implemented on it, one module per interface.

pub mod agent_host;
pub mod bindings;
pub mod blobstore;
mod clocks_random;
mod config;
pub mod context;
mod core_types;
mod durability;
pub(crate) mod golem_host;
mod http;
pub mod journal;
pub mod keyvalue;
mod logging;
pub mod oplog_api;
pub(crate) mod raw_oplog;
pub mod registry;
pub mod rpc;
pub(crate) mod state;

pub use logging::{LogLevel, LogRecord};
pub(crate) use state::HostState;

use wasmtime::component::{HasSelf, Linker};

/// Register every interface the testkit implements.
pub(crate) fn add_to_linker(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    wasmtime_wasi::p2::add_to_linker_sync(linker)?;
    // Clocks and randomness are journaled: replace wasmtime-wasi's own.
    wasmtime_wasi_http::p2::add_only_http_to_linker_sync(linker)?;
    linker.allow_shadowing(true);
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

    bindings::wasi::logging::logging::add_to_linker::<_, HasSelf<_>>(linker, |s| s)?;
    bindings::golem::core::types::add_to_linker::<_, HasSelf<_>>(linker, |s| s)?;
    bindings::golem::durability::durability::add_to_linker::<_, HasSelf<_>>(linker, |s| s)?;
    bindings::golem::api::host::add_to_linker::<_, HasSelf<_>>(linker, |s| s)?;
    bindings::golem::agent::host::add_to_linker::<_, HasSelf<_>>(linker, |s| s)?;
    bindings::golem::api::context::add_to_linker::<_, HasSelf<_>>(linker, |s| s)?;
    bindings::golem::api::oplog::add_to_linker::<_, HasSelf<_>>(linker, |s| s)?;
    bindings::wasi::config::store::add_to_linker::<_, HasSelf<_>>(linker, |s| s)?;
    bindings::wasi::keyvalue::types::add_to_linker::<_, HasSelf<_>>(linker, |s| s)?;
    bindings::wasi::keyvalue::wasi_keyvalue_error::add_to_linker::<_, HasSelf<_>>(linker, |s| s)?;
    bindings::wasi::keyvalue::eventual::add_to_linker::<_, HasSelf<_>>(linker, |s| s)?;
    bindings::wasi::keyvalue::eventual_batch::add_to_linker::<_, HasSelf<_>>(linker, |s| s)?;
    bindings::wasi::blobstore::types::add_to_linker::<_, HasSelf<_>>(linker, |s| s)?;
    bindings::wasi::blobstore::container::add_to_linker::<_, HasSelf<_>>(linker, |s| s)?;
    bindings::wasi::blobstore::blobstore::add_to_linker::<_, HasSelf<_>>(linker, |s| s)?;
    Ok(())
}
