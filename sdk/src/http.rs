//! HTTP requests from an agent (feature `http`), through
//! [wstd](https://docs.rs/wstd)'s client: the async runtime and client
//! golem-rust agents use, here driven to completion inside the calling
//! method.
//!
//! On Golem, and in the Reprise testkit, each request is journaled: it is
//! sent live once, and replay after a crash returns the recorded response
//! without sending anything. A crash in the middle of an exchange sends the
//! request again (with idempotence mode off, the agent fails instead), so
//! give writes an idempotency key: Golem adds an `idempotency-key` header,
//! stable across such retries, when the request has none, and a
//! `traceparent` header naming the request's span.
//!
//! ```no_run
//! use reprise::http::{self, Request};
//!
//! # fn charge(key: &str) -> Result<String, http::Error> {
//! let request = Request::post("http://payments.internal/charges")
//!     .header("idempotency-key", key)
//!     .body("alice:1250".into())?;
//! let reply = http::send(request)?;
//! if !reply.is_success() {
//!     return Err(http::Error::other(format!("refused: {} {}", reply.status, reply.text())));
//! }
//! Ok(reply.text())
//! # }
//! ```
//!
//! Async agent methods await [`fetch`] instead, side by side with other
//! futures (RPC calls' `async_` methods); the re-exported [`wstd`] offers
//! the rest of the async API.

pub use wstd;
pub use wstd::http::{Body, Client, Method, Request, StatusCode};

/// Why a request failed: it could not be built or sent, or its response
/// could not be read.
#[derive(Debug)]
pub struct Error(String);

impl Error {
    /// An error with this message, for callers' own checks.
    pub fn other(message: impl Into<String>) -> Self {
        Error(message.into())
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

impl From<wstd::http::Error> for Error {
    fn from(e: wstd::http::Error) -> Self {
        Error(format!("{e:#}"))
    }
}

impl From<http::Error> for Error {
    fn from(e: http::Error) -> Self {
        Error(format!("invalid request: {e}"))
    }
}

/// A response read whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// The status code.
    pub status: u16,
    /// The headers, in the order received.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl Reply {
    /// Whether the status is 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The body as text (invalid UTF-8 replaced).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// Send `request` and read the whole response, returning when it has
/// arrived. The body is streamed while the response is awaited.
pub fn send(request: Request<Body>) -> Result<Reply, Error> {
    wstd::runtime::block_on(fetch(request))
}

/// [`send`], as a future: for async agent methods, which await it with
/// other calls side by side.
pub async fn fetch(request: Request<Body>) -> Result<Reply, Error> {
    let mut response = Client::new().send(request).await?;
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .map(|(k, v)| (k.to_string(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
        .collect();
    let body = response.body_mut().contents().await?.to_vec();
    Ok(Reply { status, headers, body })
}

/// `GET url`, read whole.
pub fn get(url: &str) -> Result<Reply, Error> {
    send(Request::get(url).body(Body::empty())?)
}
