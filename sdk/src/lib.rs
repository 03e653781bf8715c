//! # Reprise
//!
//! Write durable [Golem 1.5](https://golem.cloud) agents and oplog-processor
//! plugins in Rust, and prove under `cargo test` that they survive crashes.
//!
//! This crate is the guest side: it is compiled into your component for
//! `wasm32-wasip2`. It also builds for the host target so that documentation
//! and unit tests run natively; calling a Golem interface from a native build
//! panics with an explanation, since only a WebAssembly host provides them.
//!
//! ## What is here
//!
//! - [`agent`](mod@agent) and [`#[agent]`](macro@agent), [`export_agents!`]: agent types
//!   from a Rust `impl` block; [`rpc`]: calling other agents through the typed
//!   clients the macro generates.
//! - [`plugin`]: oplog-processor plugins ([`plugin::OplogProcessor`],
//!   [`export_oplog_processor!`]).
//! - Typed host APIs: [`keyvalue`], [`blobstore`], [`context`], [`oplog`],
//!   [`host`], [`config`], [`logging`].
//! - Durability: [`durable`], [`durability`], [`guards`]; values: [`value`],
//!   [`Value`], [`codec`].
//! - `http` (feature `http`): HTTP requests through wstd's client,
//!   journaled by the host as Golem journals them.
//!
//! ## Raw bindings
//!
//! [`bindings`] holds the bindings generated from the Golem 1.5 WIT in the
//! repository's `wit/` folder, one module per package and interface, named
//! after the WIT (`bindings::golem::api::host`, `bindings::wasi::keyvalue::eventual`,
//! ...). They are generated exactly once, here; the testkit's host bindings
//! come from the same files, so guest and host cannot disagree.
//!
//! ```no_run
//! use reprise::bindings::wasi::logging::logging::{log, Level};
//!
//! log(Level::Info, "checkout", "order accepted");
//! ```
#![deny(missing_docs)]

pub mod agent;
pub mod bindings;
pub mod blobstore;
pub mod codec;
pub mod config;
pub mod context;
pub mod durability;
#[doc(hidden)]
pub mod export;
pub mod guards;
pub mod host;
#[cfg(feature = "http")]
pub mod http;
pub mod keyvalue;
pub mod logging;
pub mod oplog;
mod paging;
pub mod plugin;
pub mod promise;
pub mod rpc;
mod streams;
#[cfg(not(target_family = "wasm"))]
pub mod testing;
pub mod value;

/// The `log` facade, re-exported: `reprise::log::info!(...)` works without a
/// dependency of your own (see [`logging`]).
pub use log;

/// The `uuid` crate, re-exported: phantom ids, idempotency keys and promise
/// ids are `reprise::uuid::Uuid`s.
pub use uuid;

/// Derive Golem value conversion ([`value::Schema`], [`value::IntoValue`],
/// [`value::FromValue`]) for a struct or an enum.
///
/// Structs with named fields become records, tuple structs tuples (a newtype is
/// its inner value), unit structs the empty tuple; enums of unit variants become
/// WIT enums, other enums variants whose payloads are the single field, a tuple
/// or a record. Names are kebab-cased. `#[reprise(crate = "path")]` names the
/// SDK when it is re-exported under another path.
///
/// ```
/// use reprise::value::{FromValue, IntoValue};
///
/// #[derive(reprise::Value, Debug, PartialEq)]
/// enum Event {
///     Opened,
///     Renamed(String),
///     Moved { from: u32, to: u32 },
/// }
///
/// let e = Event::Moved { from: 1, to: 2 };
/// assert_eq!(Event::from_wit_value(&e.to_wit_value()).unwrap(), e);
/// ```
pub use reprise_macros::Value;

/// Make a function durable (see [`durability`]): live, the body runs under
/// `persist-nothing` and its arguments (the request) and result (the
/// response) are recorded as one oplog entry; replaying, the recorded result
/// is returned and the body does not run. Errors returned by the body are
/// results like any other: recorded and replayed.
///
/// Options: `function_type = "read-local" | "write-local" | "read-remote" |
/// "write-remote" (default) | "write-remote-batched" | "write-remote-transaction"`,
/// `interface = "..."` (default: the module path), `function = "..."`
/// (default: the function's name), `crate = "path"` (default `::reprise`).
/// Arguments must implement [`value::IntoValue`], the result
/// [`value::IntoValue`] and [`value::FromValue`]. `async fn` is not
/// supported: Reprise agents are synchronous.
///
/// ```no_run
/// #[reprise::durable(function_type = "write-remote")]
/// fn charge(account: String, cents: u64) -> Result<String, String> {
///     if cents == 0 {
///         return Err("nothing to charge".into());
///     }
///     Ok(format!("receipt for {account}"))
/// }
/// ```
pub use reprise_macros::durable;

/// Make the `impl` block of a type an agent type; see [`agent`](mod@agent)
/// for the rules and an example, and [`export_agents!`] to export it.
pub use reprise_macros::agent;
