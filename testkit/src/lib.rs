//! # reprise-testkit
//!
//! Run Golem 1.5 components in-process, in a wasmtime host that implements the
//! Golem host interfaces, from plain `#[test]` functions.
//!
//! - [`Environment`] loads components (checking their imports against Golem
//!   1.5 first) and runs them.
//! - [`guest::GuestBuild`] builds a guest crate for `wasm32-wasip2` from a test.
//! - [`inspect`] lists a component's imports and exports and checks them.
//! - [`wit`] is the Golem 1.5 WIT the host implements, embedded.

mod compat;
mod engine;
mod environment;
mod error;
pub mod guest;
pub mod host;
pub mod inspect;
pub mod wit;

pub use environment::{CommandOutcome, Environment, LoadedComponent};
pub use error::Error;
pub use host::{LogLevel, LogRecord};
