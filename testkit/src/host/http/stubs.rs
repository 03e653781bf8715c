//! Requests to stubbed hosts answered in-process (see `crate::http_stubs`).

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use wasmtime_wasi_http::WasiBody;

use crate::recording::{IDEMPOTENCY_KEY_HEADER, RecordedRequest};

/// The parts of a request a stub records, its body read whole.
pub(super) async fn record(request: http::Request<WasiBody>) -> Result<RecordedRequest, String> {
    let (parts, body) = request.into_parts();
    let path = parts.uri.path_and_query().map(|p| p.to_string()).unwrap_or_else(|| "/".into());
    let idempotency_key =
        parts.headers.get(IDEMPOTENCY_KEY_HEADER).map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    let body = body.collect().await.map_err(|e| format!("reading the request body: {e}"))?.to_bytes().to_vec();
    Ok(RecordedRequest { method: parts.method.to_string(), path, idempotency_key, body })
}

/// A complete response with `status` and `body`.
pub(super) fn response(status: u16, body: Vec<u8>) -> http::Response<WasiBody> {
    let body = Full::new(Bytes::from(body)).map_err(|never| match never {}).boxed_unsync();
    let mut response = http::Response::new(body);
    *response.status_mut() = http::StatusCode::from_u16(status).unwrap_or(http::StatusCode::NOT_FOUND);
    response
}
