//! `wasi:http/outgoing-handler.handle` as Golem's `handle`
//! (durable_host/http/outgoing_http.rs), and the tracking of request bodies
//! before it (`outgoing-request.body`, `outgoing-body.write`).

use http::{HeaderName, HeaderValue};
use wasmtime::StoreContextMut;
use wasmtime::component::{Linker, Resource, ResourceType};
use wasmtime_wasi::p2::DynOutputStream;
use wasmtime_wasi_http::p2::bindings::http::outgoing_handler;
use wasmtime_wasi_http::p2::bindings::http::types::{self as wit, Method, Scheme};
use wasmtime_wasi_http::p2::body::HostOutgoingBody;
use wasmtime_wasi_http::p2::types::{HostFutureIncomingResponse, HostOutgoingRequest};
use wasmtime_wasi_http::p2::{HttpError, HttpResult};
use wasmtime_wasi_http::{FieldMap, WasiHttpHooks, WasiHttpView};

use super::exchange::{Exchange, Holder, RequestInfo};
use super::response::TYPES;
use crate::bindings::golem::api::oplog::WrappedFunctionType;
use crate::host::HostState;
use crate::host::context::attribute;
use crate::host::names;

/// The `wasi:http/outgoing-handler` instance wasmtime-wasi-http defines.
const OUTGOING_HANDLER: &str = "wasi:http/outgoing-handler@0.2.12";

/// Most bytes of headers a request may carry once Golem's are added.
const FIELD_SIZE_LIMIT: usize = 128 * 1024;

pub(super) fn add_to_linker(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    linker.instance(OUTGOING_HANDLER)?.func_wrap(
        "handle",
        |mut store: StoreContextMut<'_, HostState>,
         (request, options): (Resource<HostOutgoingRequest>, Option<Resource<wit::RequestOptions>>)| {
            match store.data_mut().handle(request, options) {
                Ok(future) => Ok((Ok(future),)),
                // An error code goes to the guest; anything else traps.
                Err(e) => Ok((Err(e.downcast()?),)),
            }
        },
    )?;
    let mut types = linker.instance(TYPES)?;
    types.func_wrap("[method]outgoing-request.body", |mut store, (request,): (Resource<HostOutgoingRequest>,)| {
        let state = store.data_mut();
        let rep = request.rep();
        let body = wit::HostOutgoingRequest::body(&mut state.http(), request)?;
        if let Ok(body) = &body {
            state.exchanges.body_taken(rep, body.rep());
        }
        Ok((body,))
    })?;
    types.func_wrap("[method]outgoing-body.write", |mut store, (body,): (Resource<HostOutgoingBody>,)| {
        let state = store.data_mut();
        let rep = body.rep();
        let stream: Result<Resource<DynOutputStream>, ()> = wit::HostOutgoingBody::write(&mut state.http(), body)?;
        if let Ok(stream) = &stream {
            state.exchanges.stream_taken(rep, stream.rep());
        }
        Ok((stream,))
    })?;
    // Finished or dropped bodies and dropped requests are forgotten: their
    // reps are reused by later resources.
    types.func_wrap(
        "[static]outgoing-body.finish",
        |mut store: StoreContextMut<'_, HostState>,
         (body, trailers): (Resource<HostOutgoingBody>, Option<Resource<FieldMap>>)| {
            let state = store.data_mut();
            state.exchanges.body_gone(body.rep());
            match wit::HostOutgoingBody::finish(&mut state.http(), body, trailers) {
                Ok(()) => Ok((Ok(()),)),
                Err(e) => Ok((Err(e.downcast()?),)),
            }
        },
    )?;
    types.resource("outgoing-body", ResourceType::host::<HostOutgoingBody>(), |mut store, rep| {
        let state = store.data_mut();
        state.exchanges.body_gone(rep);
        wit::HostOutgoingBody::drop(&mut state.http(), Resource::new_own(rep))
    })?;
    types.resource("outgoing-request", ResourceType::host::<HostOutgoingRequest>(), |mut store, rep| {
        let state = store.data_mut();
        state.exchanges.request_gone(rep);
        wit::HostOutgoingRequest::drop(&mut state.http(), Resource::new_own(rep))
    })?;
    Ok(())
}

impl HostState {
    fn handle(
        &mut self,
        request: Resource<HostOutgoingRequest>,
        options: Option<Resource<wit::RequestOptions>>,
    ) -> HttpResult<Resource<HostFutureIncomingResponse>> {
        let function_type = WrappedFunctionType::WriteRemoteBatched(None);
        self.journal.raise_pending().map_err(HttpError::trap)?;
        // The key's randomness is drawn first: it depends only on how many
        // requests the agent sent before, so a retry sends the same key.
        self.journal.draw(names::HTTP_HANDLE);
        let key =
            crate::ids::uuid_to_string(&crate::ids::uuid_v4(self.journal.random_u64(1), self.journal.random_u64(2)));
        let begin = self.journal.begin_remote_write(&function_type).map_err(HttpError::trap)?;
        let mut info = request_info(self.table.get(&request)?);
        let attributes = vec![
            attribute("name", "outgoing-http-request"),
            attribute("request.uri", &info.uri),
            attribute("request.method", &info.method),
        ];
        let describe = || format!("sent {} {}", info.method, info.uri);
        let parent = self.current_span();
        let span = self.start_background_span(parent, None, attributes, describe).map_err(HttpError::trap)?;

        let mut added = Vec::new();
        if self.spans.forward_headers {
            added.extend(self.spans.trace_headers(&span));
        }
        if !info.headers.iter().any(|(name, _)| name == "idempotency-key") {
            added.push(("idempotency-key".to_string(), key));
        }
        let outgoing = self.table.get_mut(&request)?;
        add_headers(&mut outgoing.headers, &mut self.journal, &added)
            .map_err(|e| HttpError::trap(wasmtime::format_err!("adding Golem's headers: {e}")))?;
        for (name, value) in added {
            info.headers.retain(|(n, _)| *n != name);
            info.headers.push((name, value));
        }
        info.headers.sort();

        let (outgoing_body, output_stream) = self.exchanges.unsent_body(request.rep());
        let sent = outgoing_handler::Host::handle(&mut self.http(), request, options);
        match &sent {
            Ok(future) => {
                let exchange = Exchange {
                    begin,
                    request: info,
                    span,
                    holder: Holder::Future,
                    response_body: None,
                    outgoing_body,
                    output_stream,
                };
                self.exchanges.open(future.rep(), exchange);
            }
            // Golem ends the batch; its span stays open.
            Err(_) => self.journal.end_remote_write(begin).map_err(HttpError::trap)?,
        }
        sent
    }
}

/// Add Golem's headers to a request whose headers are already immutable,
/// replacing any of the same name.
fn add_headers(
    headers: &mut FieldMap,
    hooks: &mut dyn WasiHttpHooks,
    added: &[(String, String)],
) -> Result<(), String> {
    headers.set_mutable(FIELD_SIZE_LIMIT);
    let result = added.iter().try_for_each(|(name, value)| {
        headers.remove_all(hooks, name.clone()).map_err(|e| e.to_string())?;
        let name = HeaderName::from_bytes(name.as_bytes()).map_err(|e| e.to_string())?;
        let value = HeaderValue::from_str(value).map_err(|e| e.to_string())?;
        headers.append_raw(name, value).map(|_| ()).map_err(|e| e.to_string())
    });
    headers.set_immutable();
    result
}

/// The request as Golem records it: the URI with the scheme (`https` unless
/// given), the method in capitals, the headers sorted by name.
fn request_info(request: &HostOutgoingRequest) -> RequestInfo {
    let scheme = match &request.scheme {
        Some(Scheme::Http) => "http",
        _ => "https",
    };
    let uri = format!(
        "{scheme}://{}{}",
        request.authority.as_deref().unwrap_or(""),
        request.path_with_query.as_deref().unwrap_or("")
    );
    let method = match &request.method {
        Method::Get => "GET".to_string(),
        Method::Head => "HEAD".into(),
        Method::Post => "POST".into(),
        Method::Put => "PUT".into(),
        Method::Delete => "DELETE".into(),
        Method::Connect => "CONNECT".into(),
        Method::Options => "OPTIONS".into(),
        Method::Trace => "TRACE".into(),
        Method::Patch => "PATCH".into(),
        Method::Other(other) => other.clone(),
    };
    let mut headers: Vec<(String, String)> = request
        .headers
        .iter()
        .map(|(k, v)| (k.to_string(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
        .collect();
    headers.sort();
    RequestInfo { uri, method, headers }
}
