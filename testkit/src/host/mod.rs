//! The in-process Golem host: per-instance state and the host interfaces
//! implemented on it, one module per interface.

pub mod bindings;
mod logging;
mod state;

pub use logging::{LogLevel, LogRecord};
pub(crate) use state::HostState;

use wasmtime::component::{HasSelf, Linker};

/// Register every interface the testkit implements.
pub(crate) fn add_to_linker(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    wasmtime_wasi::p2::add_to_linker_sync(linker)?;
    bindings::wasi::logging::logging::add_to_linker::<_, HasSelf<_>>(linker, |s| s)?;
    Ok(())
}
