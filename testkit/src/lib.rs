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
//! - [`bindings`]: the Golem 1.5 types (oplog entries, agent types, data
//!   values, ...) as the host bindings generate them.
//!
//! ## Layers
//!
//! Each module imports only from its own layer and the layers below
//! (`testkit/tests/layers.rs` checks it):
//!
//! | layer | modules | what lives there |
//! | --- | --- | --- |
//! | 1. foundations | `bindings`, `value`, `wave`, `dynamic`, `oplog`, `wit`, `compat`, `inspect`, `guest`, `engine`, `sync`, `scheduler`, `recording`, `collector`, `http_stubs`, `ids`, `data`, `sdk_data`, `error` | generated bindings and the host's resource types; values and their text form; oplogs and their files; WIT and component inspection; guest builds; the wasmtime engine; the scheduler that lets agents take turns; the recording service, the OTLP collector and HTTP stubs; names, ids and data values, and the SDK's (typed calls); the error type |
//! | 2. journal | `journal` | one instance's replay cursor, appends, crash points, the `Interrupt`s host functions raise, typed journaled calls |
//! | 3. host | `host` | the Golem host interfaces over a `HostState`; the shared stores (`World`); other agents only through the `AgentDirectory` trait |
//! | 4. runtime | `runtime` | agents: instances, invocations, recovery, executor entries, handles; the environment only through the `Habitat` trait |
//! | 5. environment | `environment`, `plugins`, `verify` | environments and their one registry of agents (implementing `Habitat` and `AgentDirectory`), the plugin host (told of finished invocations through `Habitat`), crash verification |
//!
//! The command-line tool (`reprise-cli`) is a sixth layer, over this crate's
//! public API only.

#![deny(missing_docs)]

pub mod bindings;
pub mod collector;
mod compat;
mod data;
mod dynamic;
mod engine;
mod environment;
mod error;
pub mod guest;
mod host;
mod http_stubs;
mod ids;
pub mod inspect;
mod journal;
pub mod oplog;
pub mod plugins;
pub mod recording;
mod runtime;
mod scheduler;
mod sdk_data;
mod sync;
pub mod value;
pub mod verify;
pub mod wave;
pub mod wit;

pub use data::{data_value, describe_agent_error, schema_parameters, values_of};
pub use environment::{AgentType, CommandOutcome, Environment, EnvironmentBuilder, Liveness, ScheduledInvocation};
pub use error::{CorruptEntry, Divergence, Error};
pub use host::{AgentRecord, BlobWrite, KvWrite, Limits, LogLevel, LogRecord, RevertTarget};
pub use http_stubs::HttpStub;
pub use ids::{AGENT_INTERFACE, PROCESSOR_INTERFACE, agent_id, kebab_case};
pub use journal::{CrashPoint, FiredCrash, HostCall};
pub use runtime::{Agent, AgentHandle, LoadedComponent};
pub use scheduler::Schedule;
