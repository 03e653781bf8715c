//! A recording test service: a real HTTP server on loopback that records
//! every request (method, path, body, idempotency key) so tests can assert
//! how often a side effect reached the outside world. It can be told to fail
//! or to answer slowly.
//!
//! ```no_run
//! use reprise_testkit::recording::RecordingService;
//!
//! let service = RecordingService::start()?;
//! // ... agents POST to format!("{}/payments", service.url()) ...
//! assert_eq!(service.requests().len(), 1);
//! # Ok::<(), std::io::Error>(())
//! ```

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};

use crate::sync::lock;

/// The header an idempotency key is sent in.
pub const IDEMPOTENCY_KEY_HEADER: &str = "idempotency-key";

/// One request the service received.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RecordedRequest {
    /// HTTP method.
    pub method: String,
    /// Path and query.
    pub path: String,
    /// The `idempotency-key` header, if sent.
    pub idempotency_key: Option<String>,
    /// The body.
    pub body: Vec<u8>,
}

#[derive(Debug, Default)]
struct State {
    requests: Vec<RecordedRequest>,
    /// Every header of each request, in the order received.
    headers: Vec<Vec<(String, String)>>,
    fail_next: usize,
    delay: Duration,
}

/// The running service; it stops when the last clone is dropped.
#[derive(Debug, Clone)]
pub struct RecordingService {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    _shutdown: Arc<Shutdown>,
}

#[derive(Debug)]
struct Shutdown(Mutex<Option<tokio::sync::oneshot::Sender<()>>>);

impl Drop for Shutdown {
    fn drop(&mut self) {
        if let Some(tx) = lock(&self.0).take() {
            let _ = tx.send(());
        }
    }
}

impl RecordingService {
    /// Start on a free loopback port.
    pub fn start() -> std::io::Result<Self> {
        Self::start_on(SocketAddr::from(([127, 0, 0, 1], 0)))
    }

    /// Start listening on `addr` (port 0 picks a free one).
    pub fn start_on(addr: SocketAddr) -> std::io::Result<Self> {
        let listener = std::net::TcpListener::bind(addr)?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let state = Arc::new(Mutex::new(State::default()));
        let (tx, mut rx) = tokio::sync::oneshot::channel::<()>();
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        let serving = state.clone();
        std::thread::Builder::new().name("reprise-recording-service".into()).spawn(move || {
            runtime.block_on(async move {
                let Ok(listener) = tokio::net::TcpListener::from_std(listener) else { return };
                loop {
                    tokio::select! {
                        _ = &mut rx => break,
                        accepted = listener.accept() => {
                            let Ok((stream, _)) = accepted else { continue };
                            let state = serving.clone();
                            tokio::spawn(async move {
                                let service = hyper::service::service_fn(move |req| answer(req, state.clone()));
                                let io = wasmtime_wasi_http::io::TokioIo::new(stream);
                                let _ = hyper::server::conn::http1::Builder::new().serve_connection(io, service).await;
                            });
                        }
                    }
                }
            });
        })?;
        Ok(RecordingService { addr, state, _shutdown: Arc::new(Shutdown(Mutex::new(Some(tx)))) })
    }

    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The address the service listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Every request received so far, in order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.state).requests.clone()
    }

    /// The headers of every request received so far, in order (beside
    /// [`RecordingService::requests`], which keeps what crash verification
    /// compares: trace-context headers differ between runs).
    pub fn headers(&self) -> Vec<Vec<(String, String)>> {
        lock(&self.state).headers.clone()
    }

    /// Answer the next `n` requests with `503 Service Unavailable` (they are still recorded).
    pub fn fail_next(&self, n: usize) {
        lock(&self.state).fail_next = n;
    }

    /// Wait this long before answering each request.
    pub fn delay(&self, delay: Duration) {
        lock(&self.state).delay = delay;
    }

    /// Forget recorded requests and failure/delay settings.
    pub fn reset(&self) {
        *lock(&self.state) = State::default();
    }
}

async fn answer(
    req: hyper::Request<hyper::body::Incoming>,
    state: Arc<Mutex<State>>,
) -> Result<hyper::Response<Full<Bytes>>, hyper::Error> {
    let method = req.method().to_string();
    let path = req.uri().path_and_query().map(|p| p.to_string()).unwrap_or_default();
    let idempotency_key =
        req.headers().get(IDEMPOTENCY_KEY_HEADER).map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    let headers = req
        .headers()
        .iter()
        .map(|(k, v)| (k.to_string(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
        .collect();
    let body = req.into_body().collect().await?.to_bytes().to_vec();
    let len = body.len();
    let (fail, delay) = {
        let mut s = lock(&state);
        s.requests.push(RecordedRequest { method, path, idempotency_key, body });
        s.headers.push(headers);
        let fail = s.fail_next > 0;
        s.fail_next = s.fail_next.saturating_sub(1);
        (fail, s.delay)
    };
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let (status, text) = if fail { (503, "unavailable".to_string()) } else { (200, format!("accepted {len} bytes")) };
    let mut response = hyper::Response::new(Full::new(Bytes::from(text)));
    *response.status_mut() = hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::OK);
    Ok(response)
}
