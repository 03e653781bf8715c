//! # reprise-testkit
//!
//! Run Golem 1.5 components in-process, in a wasmtime host that implements the
//! Golem host interfaces, from plain `#[test]` functions; crash them on
//! purpose and verify that replay is correct.
//!
//! - [`Environment`] loads components (checking their imports against Golem
//!   1.5 first), runs commands and creates [`Agent`]s.
//! - [`Agent`] keeps an [`Oplog`](oplog::Oplog), recovers from injected
//!   [`CrashPoint`]s by replay, and reports divergence precisely.
//! - Agents call each other through `golem:agent/host`'s RPC; the agents
//!   called belong to the environment and are reached through an
//!   [`AgentHandle`] ([`Environment::agent_handle`]).
//! - [`verify`] runs a scenario crash-free and then with a crash at every
//!   oplog index (or at seeded random points) of every agent involved and
//!   compares.
//! - [`plugins`]: oplog-processor plugins defined, installed and activated
//!   as in Golem, with exactly-once delivery through crashes, restarts with
//!   backoff, plugin directories with hot updates, events and counters.
//! - [`guest::GuestBuild`] builds a guest crate for `wasm32-wasip2` from a test.
//! - [`inspect`] lists a component's imports and exports and checks them.

mod agent;
mod compat;
mod dynamic;
mod engine;
mod environment;
mod error;
pub mod guest;
pub mod host;
pub mod inspect;
pub mod oplog;
pub mod plugins;
pub mod recording;
pub mod value;
pub mod verify;
pub mod wave;
pub mod wit;

pub use agent::{Agent, AgentHandle, RevertTarget, agent_id, data_value, kebab_case, schema_parameters, values_of};
pub use environment::{AgentType, CommandOutcome, Environment, EnvironmentBuilder, Limits, LoadedComponent};
pub use error::Error;
pub use host::journal::{CrashPoint, Divergence, FiredCrash, HostCall};
pub use host::{LogLevel, LogRecord};
