//! Making your own side effects durable: the protocol of
//! `golem:durability/durability@1.5.0` behind `#[durable]`, usable by hand.
//!
//! Live, the wrapped code runs and its request and response are persisted;
//! replaying, the persisted response is returned and the code does not run.
//! While the code runs, the persistence level is `persist-nothing`: host
//! calls it makes (an HTTP request, say) are still written to the oplog, as
//! Golem writes them, but replay passes over that zone, and the one entry
//! for the durable call is what replay needs.
//!
//! The equivalent of `#[durable(function_type = "write-remote")] fn charge(...)`:
//!
//! ```no_run
//! use reprise::durability::{Durable, FunctionType};
//!
//! fn charge(account: &str, cents: u64) -> Result<String, String> {
//!     Durable::new("payments", "charge", FunctionType::WriteRemote)
//!         .run(&(account, cents), || {
//!             // ... call the payment provider ...
//!             Ok(format!("receipt for {cents}"))
//!         })
//! }
//! ```

use crate::bindings::golem::api::host::{self, PersistenceLevel};
use crate::bindings::golem::api::oplog::WrappedFunctionType;
use crate::bindings::golem::core::types::ValueAndType;
use crate::bindings::golem::durability::durability;
use crate::value::{FromValue, IntoValue};

/// What kind of side effect a durable function has; it decides what may be
/// executed again after a crash between the effect and its oplog entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FunctionType {
    /// Reads state local to the agent.
    ReadLocal,
    /// Writes state local to the agent.
    WriteLocal,
    /// Reads external state.
    ReadRemote,
    /// Changes external state (the default: the safe assumption).
    #[default]
    WriteRemote,
    /// A remote write spread over several calls.
    WriteRemoteBatched,
    /// A remote write inside a remote transaction.
    WriteRemoteTransaction,
}

impl FunctionType {
    fn wit(self) -> WrappedFunctionType {
        match self {
            FunctionType::ReadLocal => WrappedFunctionType::ReadLocal,
            FunctionType::WriteLocal => WrappedFunctionType::WriteLocal,
            FunctionType::ReadRemote => WrappedFunctionType::ReadRemote,
            FunctionType::WriteRemote => WrappedFunctionType::WriteRemote,
            FunctionType::WriteRemoteBatched => WrappedFunctionType::WriteRemoteBatched(None),
            FunctionType::WriteRemoteTransaction => WrappedFunctionType::WriteRemoteTransaction(None),
        }
    }
}

/// One durable call in progress; ends the durable function when dropped.
#[derive(Debug)]
pub struct Durable {
    name: String,
    function_type: WrappedFunctionType,
    begin: u64,
    live: bool,
}

impl Durable {
    /// Announce and begin a durable call of `function` in `interface`; the
    /// oplog records it as `interface::function`.
    pub fn new(interface: &str, function: &str, function_type: FunctionType) -> Self {
        durability::observe_function_call(interface, function);
        let function_type = function_type.wit();
        let begin = durability::begin_durable_function(function_type);
        let live = durability::current_durable_execution_state().is_live;
        Durable { name: format!("{interface}::{function}"), function_type, begin, live }
    }

    /// Whether the call runs live (`true`) or is being replayed.
    pub fn is_live(&self) -> bool {
        self.live
    }

    /// Run `body` live and persist its result, or return the persisted result
    /// when replaying. The persistence level is `persist-nothing` while the
    /// body runs and restored afterwards, also when it panics.
    pub fn run<Req, Resp>(self, request: &Req, body: impl FnOnce() -> Resp) -> Resp
    where
        Req: IntoValue + ?Sized,
        Resp: IntoValue + FromValue,
    {
        self.run_with_request(request.to_value_and_type(), body)
    }

    /// [`Durable::run`] with the request already converted (so the body may
    /// take ownership of the arguments it was made from).
    pub fn run_with_request<Resp>(self, request: ValueAndType, body: impl FnOnce() -> Resp) -> Resp
    where
        Resp: IntoValue + FromValue,
    {
        if self.live {
            let response = {
                let _quiet = PersistenceGuard::set(PersistenceLevel::PersistNothing);
                body()
            };
            durability::persist_durable_function_invocation(
                &self.name,
                &request,
                &response.to_value_and_type(),
                self.function_type,
            );
            response
        } else {
            self.replay()
        }
    }

    /// Live: record the request and response of the call.
    pub fn persist<Req: IntoValue + ?Sized, Resp: IntoValue>(&self, request: &Req, response: &Resp) {
        durability::persist_durable_function_invocation(
            &self.name,
            &request.to_value_and_type(),
            &response.to_value_and_type(),
            self.function_type,
        );
    }

    /// Replaying: the recorded response. A recorded call of another function,
    /// or a response that does not decode as `Resp`, is a divergence: the
    /// agent traps with a message naming both, never returning a wrong value.
    pub fn replay<Resp: FromValue>(&self) -> Resp {
        let recorded = durability::read_persisted_durable_function_invocation();
        if recorded.function_name != self.name {
            diverge(&format!(
                "replay diverged: the oplog recorded durable call `{}`, but the agent called `{}`",
                recorded.function_name, self.name
            ));
        }
        match Resp::from_wit_value(&recorded.response.value) {
            Ok(response) => response,
            Err(e) => diverge(&format!("the recorded response of `{}` does not decode: {e}", self.name)),
        }
    }
}

impl Drop for Durable {
    fn drop(&mut self) {
        durability::end_durable_function(self.function_type, self.begin, false);
    }
}

/// Trap the invocation with a message (never returns).
fn diverge(message: &str) -> ! {
    host::trap(message);
    // `trap` does not return; should a host ever let it, stop here anyway.
    std::process::abort()
}

/// Sets the oplog persistence level and restores the previous one on drop,
/// also on early return and panic.
///
/// ```no_run
/// use reprise::bindings::golem::api::host::PersistenceLevel;
/// use reprise::durability::PersistenceGuard;
///
/// {
///     let _guard = PersistenceGuard::set(PersistenceLevel::PersistNothing);
///     // ... calls that need not be journaled ...
/// } // previous level restored here
/// ```
#[derive(Debug)]
pub struct PersistenceGuard {
    previous: PersistenceLevel,
}

impl PersistenceGuard {
    /// Switch to `level` until the guard is dropped.
    pub fn set(level: PersistenceLevel) -> Self {
        let previous = host::get_oplog_persistence_level();
        host::set_oplog_persistence_level(level);
        PersistenceGuard { previous }
    }
}

impl Drop for PersistenceGuard {
    fn drop(&mut self) {
        host::set_oplog_persistence_level(self.previous);
    }
}
