//! The HTTP exchanges an instance has open, which resource holds each, and
//! how an exchange's steps are journaled and how it ends.

use std::collections::HashMap;

use wasmtime::component::Resource;
use wasmtime_wasi::p2::DynOutputStream;
use wasmtime_wasi_http::p2::body::HostOutgoingBody;

use super::HostState;
use crate::bindings::golem::api::oplog::WrappedFunctionType;
use crate::journal::{Journaled, journaled_record};

/// The request as Golem records it with every step of its exchange
/// (`HostRequestHttpRequest`: URI, method, headers).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct RequestInfo {
    pub(super) uri: String,
    pub(super) method: String,
    pub(super) headers: Vec<(String, String)>,
}

journaled_record!(RequestInfo { uri: "uri", method: "method", headers: "headers" });

/// The resource that holds an exchange now; dropping it ends the exchange
/// (Golem's `HttpRequestCloseOwner`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Holder {
    /// The `future-incoming-response` `handle` returned.
    Future,
    /// The `incoming-response` the future resolved to.
    Response,
    /// The response's `incoming-body`, dropped or finished.
    Body,
    /// The body's `input-stream`, until it reports the end.
    Stream,
    /// The `future-trailers` of a finished body, until they arrive.
    Trailers,
}

/// One request sent and not yet let go of.
#[derive(Debug, Clone)]
pub(super) struct Exchange {
    /// Index of the `begin-remote-write` entry.
    pub(super) begin: u64,
    pub(super) request: RequestInfo,
    /// The `outgoing-http-request` span.
    pub(super) span: String,
    pub(super) holder: Holder,
    /// The response body, while its stream holds the exchange.
    pub(super) response_body: Option<u32>,
    /// The request body, and the stream writing it: writes after `handle`
    /// are steps of the exchange.
    pub(super) outgoing_body: Option<u32>,
    pub(super) output_stream: Option<u32>,
}

/// Open exchanges by the resource holding them, and the request bodies of
/// requests not sent yet.
#[derive(Debug, Default)]
pub(crate) struct Exchanges {
    open: HashMap<u32, Exchange>,
    /// `outgoing-request` → its `outgoing-body`, before `handle`.
    request_bodies: HashMap<u32, u32>,
    /// `outgoing-body` → its `output-stream`, before `handle`.
    body_streams: HashMap<u32, u32>,
}

impl Exchanges {
    pub(super) fn body_taken(&mut self, request: u32, body: u32) {
        self.request_bodies.insert(request, body);
    }

    /// The body of `body` is written through `stream`.
    pub(super) fn stream_taken(&mut self, body: u32, stream: u32) {
        match self.open.values_mut().find(|x| x.outgoing_body == Some(body)) {
            Some(exchange) => exchange.output_stream = Some(stream),
            None => {
                self.body_streams.insert(body, stream);
            }
        }
    }

    /// The request body and its stream of the request `request`, for `handle`.
    pub(super) fn unsent_body(&mut self, request: u32) -> (Option<u32>, Option<u32>) {
        let body = self.request_bodies.remove(&request);
        let stream = body.and_then(|b| self.body_streams.remove(&b));
        (body, stream)
    }

    pub(super) fn open(&mut self, holder: u32, exchange: Exchange) {
        self.open.insert(holder, exchange);
    }

    /// The exchange `rep` holds, if it holds one as `holder`.
    pub(super) fn held_as(&self, rep: u32, holder: Holder) -> Option<&Exchange> {
        self.open.get(&rep).filter(|x| x.holder == holder)
    }

    /// The exchange whose request body `stream` writes.
    pub(super) fn writing_to(&self, stream: u32) -> Option<&Exchange> {
        self.open.values().find(|x| x.output_stream == Some(stream))
    }

    /// Hand the exchange `from` holds over to `to`.
    pub(super) fn pass(&mut self, from: u32, to: u32, holder: Holder) {
        if let Some(mut exchange) = self.open.remove(&from) {
            exchange.holder = holder;
            self.open.insert(to, exchange);
        }
    }

    pub(super) fn remember_body(&mut self, stream: u32, body: u32) {
        if let Some(exchange) = self.open.get_mut(&stream) {
            exchange.response_body = Some(body);
        }
    }

    /// The request `request` was dropped unsent: forget its body.
    pub(super) fn request_gone(&mut self, request: u32) {
        if let Some(body) = self.request_bodies.remove(&request) {
            self.body_streams.remove(&body);
        }
    }

    /// The request body `body` was finished or dropped: its rep may be reused.
    pub(super) fn body_gone(&mut self, body: u32) {
        self.request_bodies.retain(|_, b| *b != body);
        self.body_streams.remove(&body);
        for exchange in self.open.values_mut().filter(|x| x.outgoing_body == Some(body)) {
            exchange.outgoing_body = None;
        }
    }

    /// The output stream `stream` was dropped: its rep may be reused.
    pub(super) fn stream_gone(&mut self, stream: u32) {
        self.body_streams.retain(|_, s| *s != stream);
        for exchange in self.open.values_mut().filter(|x| x.output_stream == Some(stream)) {
            exchange.output_stream = None;
        }
    }

    fn take(&mut self, rep: u32) -> Option<Exchange> {
        self.open.remove(&rep)
    }

    /// Request bodies not finished yet, as far as is known (those of
    /// requests not sent and of open exchanges), with the streams writing them.
    pub(super) fn request_bodies(&self) -> Vec<(u32, Option<u32>)> {
        let unsent = self.request_bodies.values().map(|body| (*body, self.body_streams.get(body).copied()));
        unsent.chain(self.open.values().filter_map(|x| Some((x.outgoing_body?, x.output_stream)))).collect()
    }

    /// Stop tracking the exchange `rep` holds, without ending it.
    pub(super) fn forget(&mut self, rep: u32) {
        self.open.remove(&rep);
    }
}

impl HostState {
    /// Abort the request bodies still being written, so that requests in
    /// flight when an instance ends (a crash) break off as they do when a
    /// Golem executor dies, instead of ending as if the body were complete.
    pub(crate) fn abort_requests(&mut self) {
        for (body, stream) in self.exchanges.request_bodies() {
            // The stream is the body's child: it goes first. Each is checked
            // to be what it was before it is taken out of the table.
            if let Some(stream) = stream.map(Resource::<DynOutputStream>::new_own)
                && self.table.get(&stream).is_ok()
            {
                let _ = self.table.delete(stream);
            }
            let body = Resource::<HostOutgoingBody>::new_own(body);
            if self.table.get(&body).is_ok()
                && let Ok(body) = self.table.delete(body)
            {
                body.abort();
            }
        }
    }

    /// One step of `exchange`, journaled as Golem's host call `function`
    /// in its batch: live, `live` performs it and the result is recorded
    /// (and committed); replaying, the recorded result.
    pub(super) fn exchange_step<R: Journaled>(
        &mut self,
        function: &str,
        exchange: &Exchange,
        live: impl FnOnce(&mut HostState) -> wasmtime::Result<R>,
    ) -> wasmtime::Result<R> {
        let performed = if self.journal.performs_live() { Some(live(self)?) } else { None };
        let function_type = WrappedFunctionType::WriteRemoteBatched(Some(exchange.begin));
        self.journal.step(function, function_type, &exchange.request, performed)
    }

    /// End the exchange `rep` holds, if any: `end-remote-write` (committed)
    /// and the end of its span.
    pub(super) fn end_exchange(&mut self, rep: u32) -> wasmtime::Result<()> {
        let Some(exchange) = self.exchanges.take(rep) else { return Ok(()) };
        self.journal.end_remote_write(exchange.begin)?;
        self.record_span_finish(&exchange.span)
    }
}
