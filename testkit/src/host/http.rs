//! `wasi:http/outgoing-handler`, journaled as Golem does: a live request is
//! sent and its request and response are recorded as one `write-remote` host
//! call; replay returns the recorded response without touching the network.
//!
//! The testkit records requests whole, so a guest must finish the outgoing
//! body before calling `handle` (as blocking clients do); a body still open
//! after a short wait fails the request with a clear error.

use std::future::Future;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use wasmtime_wasi_http::{Error as HttpError, RequestOptions, WasiBody, WasiHttpCtxView, WasiHttpHooks, WasiHttpView};

use super::HostState;
use crate::bindings::golem::api::host::PersistenceLevel;
use crate::bindings::golem::api::oplog::WrappedFunctionType;
use crate::journal::{Journal, journaled_record};

/// How long a request body may still be open when the request is sent.
const BODY_WAIT: Duration = Duration::from_secs(5);

/// A request as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
struct RecordedRequest {
    method: String,
    uri: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

/// A response as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
struct RecordedResponse {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

type Ready = Box<
    dyn Future<
            Output = Result<
                (http::Response<WasiBody>, Box<dyn Future<Output = Result<(), HttpError>> + Send>),
                HttpError,
            >,
        > + Send,
>;

const FUNCTION: &str = "wasi:http/outgoing-handler::handle";

/// The journal decides what sending a request means: live, the request is
/// sent (blocking) and the exchange journaled; replaying, the recorded
/// response is returned. Crashes and divergences found here cannot trap from
/// inside wasmtime-wasi-http, so they are raised by the journal's next
/// operation instead (nothing is persisted in between).
impl WasiHttpHooks for Journal {
    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        fut: Box<dyn Future<Output = Result<(), HttpError>> + Send>,
    ) -> Ready {
        drop(fut);
        let outcome = if matches!(self.persistence, PersistenceLevel::PersistNothing) {
            wasmtime_wasi::runtime::in_tokio(send(request, options)).map(|(_, outcome)| outcome)
        } else if !self.is_live() {
            drop(request);
            match self.replay_call::<Result<RecordedResponse, String>>(FUNCTION, &WrappedFunctionType::WriteRemote) {
                Ok((_, outcome)) => Ok(outcome),
                Err(e) => {
                    self.pending = Some(e);
                    Err(HttpError::InternalError(Some("replay failed; the agent is being stopped".into())))
                }
            }
        } else {
            match wasmtime_wasi::runtime::in_tokio(send(request, options)) {
                Ok((recorded_request, outcome)) => {
                    let journaled =
                        self.call(FUNCTION, WrappedFunctionType::WriteRemote, &recorded_request, |_| outcome.clone());
                    if let Err(e) = journaled {
                        self.pending = Some(e);
                    }
                    Ok(outcome)
                }
                Err(e) => Err(e),
            }
        };
        Box::new(async move {
            let done: Box<dyn Future<Output = Result<(), HttpError>> + Send> = Box::new(async { Ok(()) });
            match outcome? {
                Ok(response) => Ok((build_response(&response)?, done)),
                Err(error) => Err(error_from_text(&error)),
            }
        })
    }
}

/// Send a request whole and read the whole response.
async fn send(
    request: http::Request<WasiBody>,
    options: Option<RequestOptions>,
) -> Result<(RecordedRequest, Result<RecordedResponse, String>), HttpError> {
    let (parts, body) = request.into_parts();
    let body = match tokio::time::timeout(BODY_WAIT, body.collect()).await {
        Ok(Ok(collected)) => collected.to_bytes(),
        Ok(Err(e)) => return Err(e),
        Err(_) => {
            return Err(HttpError::InternalError(Some(
                "the request body was not finished before `handle`; the Reprise testkit journals requests whole".into(),
            )));
        }
    };
    let recorded = RecordedRequest {
        method: parts.method.to_string(),
        uri: parts.uri.to_string(),
        headers: header_list(&parts.headers),
        body: body.to_vec(),
    };
    let request = http::Request::from_parts(parts, Full::new(body).map_err(|e| match e {}));
    let outcome = async {
        let (response, io) = wasmtime_wasi_http::default_send_request(request, options).await?;
        let io = tokio::spawn(io);
        let (parts, body) = response.into_parts();
        let body = body.collect().await?.to_bytes();
        io.abort();
        Ok::<_, HttpError>(RecordedResponse {
            status: parts.status.as_u16(),
            headers: header_list(&parts.headers),
            body: body.to_vec(),
        })
    }
    .await;
    Ok((recorded, outcome.map_err(|e| format!("{e:?}"))))
}

fn header_list(headers: &http::HeaderMap) -> Vec<(String, String)> {
    headers.iter().map(|(k, v)| (k.to_string(), String::from_utf8_lossy(v.as_bytes()).into_owned())).collect()
}

fn build_response(recorded: &RecordedResponse) -> Result<http::Response<WasiBody>, HttpError> {
    let mut builder = http::Response::builder().status(recorded.status);
    for (k, v) in &recorded.headers {
        builder = builder.header(k, v);
    }
    let body = Full::new(Bytes::from(recorded.body.clone())).map_err(|e| match e {}).boxed_unsync();
    builder.body(body).map_err(|e| HttpError::InternalError(Some(e.to_string())))
}

/// Turn a recorded error back into the error the guest saw.
fn error_from_text(text: &str) -> HttpError {
    match text {
        "ConnectionRefused" => HttpError::ConnectionRefused,
        "ConnectionTimeout" => HttpError::ConnectionTimeout,
        "ConnectionTerminated" => HttpError::ConnectionTerminated,
        "DestinationNotFound" => HttpError::DestinationNotFound,
        other => HttpError::InternalError(Some(other.to_string())),
    }
}

journaled_record!(RecordedRequest { method: "method", uri: "uri", headers: "headers", body: "body" });
journaled_record!(RecordedResponse { status: "status", headers: "headers", body: "body" });

impl WasiHttpView for HostState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView { ctx: &mut self.http_ctx, table: &mut self.table, hooks: &mut self.journal }
    }
}
