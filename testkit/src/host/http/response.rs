//! The response side of an exchange (durable_host/http/types.rs): each
//! `get` of the response and of the trailers is a step of the exchange, and
//! the exchange passes from the future to the response, its body, the
//! body's stream and the trailers, ending when the holder is dropped.

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue};
use http_body_util::{BodyExt, Empty};
use serde::{Deserialize, Serialize};
use wasmtime::StoreContextMut;
use wasmtime::component::{Linker, Resource, ResourceType};
use wasmtime_wasi::p2::DynInputStream;
use wasmtime_wasi_http::p2::bindings::http::types::{self as wit, ErrorCode};
use wasmtime_wasi_http::p2::body::{HostFutureTrailers, HostIncomingBody};
use wasmtime_wasi_http::p2::types::{HostFutureIncomingResponse, HostIncomingResponse};
use wasmtime_wasi_http::{FieldMap, WasiHttpView};

use super::exchange::Holder;
use crate::host::HostState;
use crate::host::names;
use crate::journal::Json;

/// The `wasi:http/types` instance wasmtime-wasi-http defines.
pub(super) const TYPES: &str = "wasi:http/types@0.2.12";

type Ready<T> = Option<Result<Result<T, ErrorCode>, ()>>;

/// What a `get` of the response gave, as Golem records it
/// (`SerializableHttpResponse`; header values as text).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
enum ResponseAnswer {
    Pending,
    HeadersReceived {
        status: u16,
        headers: Vec<(String, String)>,
    },
    HttpError {
        code: String,
    },
    /// The response was already taken.
    InternalError,
}

/// What a `get` of the trailers gave.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
enum TrailersAnswer {
    Pending,
    Received { trailers: Option<Vec<(String, String)>> },
    HttpError { code: String },
    Taken,
}

pub(super) fn add_to_linker(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    let mut types = linker.instance(TYPES)?;
    types.func_wrap(
        "[method]future-incoming-response.get",
        |mut store: StoreContextMut<'_, HostState>, (future,): (Resource<HostFutureIncomingResponse>,)| {
            Ok((store.data_mut().response_get(future)?,))
        },
    )?;
    types.func_wrap(
        "[method]incoming-response.consume",
        |mut store: StoreContextMut<'_, HostState>, (response,): (Resource<HostIncomingResponse>,)| {
            let state = store.data_mut();
            let rep = response.rep();
            let body = wit::HostIncomingResponse::consume(&mut state.http(), response)?;
            if let Ok(body) = &body {
                state.exchanges.pass(rep, body.rep(), Holder::Body);
            }
            Ok((body,))
        },
    )?;
    types.func_wrap(
        "[method]incoming-body.stream",
        |mut store: StoreContextMut<'_, HostState>, (body,): (Resource<HostIncomingBody>,)| {
            let state = store.data_mut();
            let rep = body.rep();
            let stream: Result<Resource<DynInputStream>, ()> = wit::HostIncomingBody::stream(&mut state.http(), body)?;
            if let Ok(stream) = &stream {
                state.exchanges.pass(rep, stream.rep(), Holder::Stream);
                state.exchanges.remember_body(stream.rep(), rep);
            }
            Ok((stream,))
        },
    )?;
    types.func_wrap(
        "[static]incoming-body.finish",
        |mut store: StoreContextMut<'_, HostState>, (body,): (Resource<HostIncomingBody>,)| {
            let state = store.data_mut();
            let rep = body.rep();
            let trailers = wit::HostIncomingBody::finish(&mut state.http(), body)?;
            state.exchanges.pass(rep, trailers.rep(), Holder::Trailers);
            Ok((trailers,))
        },
    )?;
    types.func_wrap(
        "[method]future-trailers.get",
        |mut store: StoreContextMut<'_, HostState>, (trailers,): (Resource<HostFutureTrailers>,)| {
            Ok((store.data_mut().trailers_get(trailers)?,))
        },
    )?;

    // Dropping the holder of an exchange ends it.
    types.resource(
        "future-incoming-response",
        ResourceType::host::<HostFutureIncomingResponse>(),
        |mut store, rep| {
            let state = store.data_mut();
            end_if_held(state, rep, Holder::Future)?;
            wit::HostFutureIncomingResponse::drop(&mut state.http(), Resource::new_own(rep))
        },
    )?;
    types.resource("incoming-response", ResourceType::host::<HostIncomingResponse>(), |mut store, rep| {
        let state = store.data_mut();
        end_if_held(state, rep, Holder::Response)?;
        wit::HostIncomingResponse::drop(&mut state.http(), Resource::new_own(rep))
    })?;
    types.resource("incoming-body", ResourceType::host::<HostIncomingBody>(), |mut store, rep| {
        let state = store.data_mut();
        end_if_held(state, rep, Holder::Body)?;
        wit::HostIncomingBody::drop(&mut state.http(), Resource::new_own(rep))
    })?;
    types.resource("future-trailers", ResourceType::host::<HostFutureTrailers>(), |mut store, rep| {
        let state = store.data_mut();
        // As Golem: trailers dropped before they arrived leave the exchange
        // unended (its begin-remote-write without an end).
        state.exchanges.forget(rep);
        wit::HostFutureTrailers::drop(&mut state.http(), Resource::new_own(rep))
    })?;
    Ok(())
}

fn end_if_held(state: &mut HostState, rep: u32, holder: Holder) -> wasmtime::Result<()> {
    if state.exchanges.held_as(rep, holder).is_some() { state.end_exchange(rep) } else { Ok(()) }
}

impl HostState {
    fn response_get(
        &mut self,
        future: Resource<HostFutureIncomingResponse>,
    ) -> wasmtime::Result<Ready<Resource<HostIncomingResponse>>> {
        let rep = future.rep();
        let Some(exchange) = self.exchanges.held_as(rep, Holder::Future).cloned() else {
            return wit::HostFutureIncomingResponse::get(&mut self.http(), future);
        };
        let mut live = None;
        let answer = self.exchange_step(names::HTTP_RESPONSE_GET, &exchange, |state| {
            let got = wit::HostFutureIncomingResponse::get(&mut state.http(), future)?;
            let answer = match &got {
                None => ResponseAnswer::Pending,
                Some(Err(())) => ResponseAnswer::InternalError,
                Some(Ok(Err(code))) => ResponseAnswer::HttpError { code: format!("{code:?}") },
                Some(Ok(Ok(response))) => {
                    let response = state.table.get(response)?;
                    ResponseAnswer::HeadersReceived { status: response.status, headers: header_list(&response.headers) }
                }
            };
            live = Some(got);
            Ok(Json(answer))
        })?;
        let got = match (live, answer.0) {
            (Some(got), _) => got,
            (None, ResponseAnswer::Pending) => None,
            (None, ResponseAnswer::InternalError) => Some(Err(())),
            (None, ResponseAnswer::HttpError { code }) => Some(Ok(Err(error_code(&code)))),
            (None, ResponseAnswer::HeadersReceived { status, headers }) => {
                // The body's chunks are replayed too: it stays empty here.
                let body = Empty::<Bytes>::new().map_err(|never| match never {}).boxed_unsync();
                let headers = FieldMap::new_immutable(&mut self.journal, header_map(&headers));
                let response = HostIncomingResponse { status, headers, body: Some(HostIncomingBody::new(body)) };
                Some(Ok(Ok(self.table.push(response)?)))
            }
        };
        if let Some(Ok(Ok(response))) = &got {
            self.exchanges.pass(rep, response.rep(), Holder::Response);
        }
        Ok(got)
    }

    fn trailers_get(
        &mut self,
        trailers: Resource<HostFutureTrailers>,
    ) -> wasmtime::Result<Ready<Option<Resource<FieldMap>>>> {
        let rep = trailers.rep();
        let Some(exchange) = self.exchanges.held_as(rep, Holder::Trailers).cloned() else {
            return wit::HostFutureTrailers::get(&mut self.http(), trailers);
        };
        let mut live = None;
        let answer = self.exchange_step(names::HTTP_TRAILERS_GET, &exchange, |state| {
            let got = wit::HostFutureTrailers::get(&mut state.http(), trailers)?;
            let answer = match &got {
                None => TrailersAnswer::Pending,
                Some(Err(())) => TrailersAnswer::Taken,
                Some(Ok(Err(code))) => TrailersAnswer::HttpError { code: format!("{code:?}") },
                Some(Ok(Ok(None))) => TrailersAnswer::Received { trailers: None },
                Some(Ok(Ok(Some(fields)))) => {
                    TrailersAnswer::Received { trailers: Some(header_list(state.table.get(fields)?)) }
                }
            };
            live = Some(got);
            Ok(Json(answer))
        })?;
        let got = match (live, answer.0) {
            (Some(got), _) => got,
            (None, TrailersAnswer::Pending) => None,
            (None, TrailersAnswer::Taken) => Some(Err(())),
            (None, TrailersAnswer::HttpError { code }) => Some(Ok(Err(error_code(&code)))),
            (None, TrailersAnswer::Received { trailers: None }) => Some(Ok(Ok(None))),
            (None, TrailersAnswer::Received { trailers: Some(list) }) => {
                let fields = FieldMap::new_immutable(&mut self.journal, header_map(&list));
                Some(Ok(Ok(Some(self.table.push(fields)?))))
            }
        };
        // Trailers that arrived end the exchange.
        if got.is_some() {
            self.end_exchange(rep)?;
        }
        Ok(got)
    }
}

fn header_list(headers: &HeaderMap) -> Vec<(String, String)> {
    headers.iter().map(|(k, v)| (k.to_string(), String::from_utf8_lossy(v.as_bytes()).into_owned())).collect()
}

/// Recorded headers back as a map; a header that no longer parses is left out.
fn header_map(list: &[(String, String)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in list {
        if let (Ok(name), Ok(value)) = (HeaderName::from_bytes(name.as_bytes()), HeaderValue::from_str(value)) {
            map.append(name, value);
        }
    }
    map
}

/// A recorded error code back as the guest saw it. Codes without a payload
/// come back exactly; the others as an internal error naming them.
fn error_code(text: &str) -> ErrorCode {
    match text {
        "DnsTimeout" => ErrorCode::DnsTimeout,
        "DestinationNotFound" => ErrorCode::DestinationNotFound,
        "DestinationUnavailable" => ErrorCode::DestinationUnavailable,
        "DestinationIpProhibited" => ErrorCode::DestinationIpProhibited,
        "DestinationIpUnroutable" => ErrorCode::DestinationIpUnroutable,
        "ConnectionRefused" => ErrorCode::ConnectionRefused,
        "ConnectionTerminated" => ErrorCode::ConnectionTerminated,
        "ConnectionTimeout" => ErrorCode::ConnectionTimeout,
        "ConnectionReadTimeout" => ErrorCode::ConnectionReadTimeout,
        "ConnectionWriteTimeout" => ErrorCode::ConnectionWriteTimeout,
        "ConnectionLimitReached" => ErrorCode::ConnectionLimitReached,
        "TlsProtocolError" => ErrorCode::TlsProtocolError,
        "TlsCertificateError" => ErrorCode::TlsCertificateError,
        "HttpRequestDenied" => ErrorCode::HttpRequestDenied,
        "HttpRequestLengthRequired" => ErrorCode::HttpRequestLengthRequired,
        "HttpRequestMethodInvalid" => ErrorCode::HttpRequestMethodInvalid,
        "HttpRequestUriInvalid" => ErrorCode::HttpRequestUriInvalid,
        "HttpRequestUriTooLong" => ErrorCode::HttpRequestUriTooLong,
        "HttpResponseIncomplete" => ErrorCode::HttpResponseIncomplete,
        "HttpResponseTimeout" => ErrorCode::HttpResponseTimeout,
        "HttpUpgradeFailed" => ErrorCode::HttpUpgradeFailed,
        "HttpProtocolError" => ErrorCode::HttpProtocolError,
        "LoopDetected" => ErrorCode::LoopDetected,
        "ConfigurationError" => ErrorCode::ConfigurationError,
        other => ErrorCode::InternalError(Some(other.to_string())),
    }
}
