//! Outgoing HTTP as a Golem 1.5 executor journals it
//! (golem-worker-executor/src/durable_host/http/ and io/streams.rs):
//!
//! - `handle` begins a batch of remote writes: a committed
//!   `begin-remote-write`, an `outgoing-http-request` span, trace-context
//!   headers and an `idempotency-key` header (when the guest set none). The
//!   request goes out with its body streaming, so a body written after
//!   `handle` works.
//! - Every later step of the exchange is a host call of the batch, committed
//!   as it is added (unless persistence is off): each `get` of the response,
//!   each body chunk written after `handle` or read from the response, the
//!   trailers.
//! - The exchange ends (`end-remote-write`, then the span's `finish-span`)
//!   when the guest lets go of it: the resource that holds it is dropped, or
//!   the trailers arrive.
//!
//! Replaying, nothing is sent and every step returns what was recorded. An
//! exchange a crash cut short is performed again from `handle`, after a jump
//! over the lost attempt; with idempotence off the agent fails instead.
//!
//! Modules: `exchange` (what is open, and its end), `handle`, `response`
//! (responses, bodies, trailers), `streams` (body chunks).

mod exchange;
mod handle;
mod response;
mod streams;
mod stubs;

use std::future::Future;

use http_body_util::BodyExt;
use wasmtime::component::Linker;
use wasmtime_wasi_http::{Error as HttpError, RequestOptions, WasiBody, WasiHttpCtxView, WasiHttpHooks, WasiHttpView};

pub(crate) use exchange::Exchanges;

use super::HostState;
use crate::journal::Journal;

/// Register outgoing HTTP over wasmtime-wasi-http's own, which it shadows
/// where the exchange is journaled.
pub(super) fn add_to_linker(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    handle::add_to_linker(linker)?;
    response::add_to_linker(linker)?;
    streams::add_to_linker(linker)
}

type Sent = Box<
    dyn Future<
            Output = Result<
                (http::Response<WasiBody>, Box<dyn Future<Output = Result<(), HttpError>> + Send>),
                HttpError,
            >,
        > + Send,
>;

/// Live, requests go out (their bodies streaming as the guest writes
/// them); replaying, they are held and never sent, as Golem defers them.
impl WasiHttpHooks for Journal {
    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        fut: Box<dyn Future<Output = Result<(), HttpError>> + Send>,
    ) -> Sent {
        drop(fut);
        if !self.performs_live() {
            return Box::new(async move {
                // Kept so the guest can still write the body it no longer sends.
                let _held = request;
                std::future::pending().await
            });
        }
        let authority = request.uri().authority().map(|a| a.to_string()).unwrap_or_default();
        if let Some(stubs) = self.http_stubs.clone().filter(|s| crate::sync::lock(s).stubbed(&authority)) {
            return Box::new(async move {
                let recorded = stubs::record(request).await.map_err(|e| {
                    HttpError::from(wasmtime_wasi_http::p2::bindings::http::types::ErrorCode::InternalError(Some(e)))
                })?;
                let (status, body) = crate::sync::lock(&stubs).answer(&authority, recorded);
                let io: Box<dyn Future<Output = Result<(), HttpError>> + Send> = Box::new(async { Ok(()) });
                Ok((stubs::response(status, body), io))
            });
        }
        Box::new(async move {
            let (response, io) = wasmtime_wasi_http::default_send_request(request, options).await?;
            let response = response.map(|body| body.boxed_unsync());
            let io: Box<dyn Future<Output = Result<(), HttpError>> + Send> = Box::new(io);
            Ok((response, io))
        })
    }
}

impl WasiHttpView for HostState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView { ctx: &mut self.http_ctx, table: &mut self.table, hooks: &mut self.journal }
    }
}
