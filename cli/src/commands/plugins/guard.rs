//! What a request must show before the plugin server reads it: addressed to
//! this server by name (no DNS rebinding), from no foreign web page, with
//! the bearer token when one is set, JSON when it has a body, and small.

use std::net::SocketAddr;
use std::path::Path;

use hyper::header::{AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE, HOST, ORIGIN};
use hyper::{HeaderMap, Method, StatusCode};

use crate::error::CliError;

/// Largest request body read; every API request is a small JSON object.
pub const BODY_LIMIT: usize = 64 * 1024;

/// The checks of one server.
#[derive(Debug, Clone)]
pub struct Guard {
    /// The names the server may be addressed by: its address and `localhost`.
    names: [String; 2],
    port: u16,
    token: Option<String>,
}

/// A refused request: the status and why.
pub type Refusal = (StatusCode, String);

impl Guard {
    pub fn new(local: SocketAddr, token: Option<String>) -> Self {
        let address = match local {
            SocketAddr::V4(a) => a.ip().to_string(),
            SocketAddr::V6(a) => format!("[{}]", a.ip()),
        };
        Guard { names: [address, "localhost".into()], port: local.port(), token }
    }

    /// Check the request head; the body is bounded while it is read.
    pub fn check(&self, method: &Method, headers: &HeaderMap) -> Result<(), Refusal> {
        self.check_host(headers)?;
        self.check_origin(headers)?;
        self.check_token(headers)?;
        if method == Method::POST {
            check_json(headers)?;
        }
        check_length(headers)
    }

    /// A page served from another name that resolves to 127.0.0.1 (DNS
    /// rebinding) sends its own name as `Host`.
    fn check_host(&self, headers: &HeaderMap) -> Result<(), Refusal> {
        let host = headers.get(HOST).and_then(|h| h.to_str().ok()).unwrap_or("");
        if self.is_this_server(host) {
            return Ok(());
        }
        Err((
            StatusCode::FORBIDDEN,
            format!(
                "the Host header `{}` does not name this server; address it as {}:{}",
                printable(host),
                self.names[0],
                self.port
            ),
        ))
    }

    /// Browsers name the page that sent a request in `Origin`: only pages of
    /// this server itself may call it.
    fn check_origin(&self, headers: &HeaderMap) -> Result<(), Refusal> {
        let Some(origin) = headers.get(ORIGIN) else { return Ok(()) };
        let origin = origin.to_str().unwrap_or("");
        match origin.strip_prefix("http://") {
            Some(host) if self.is_this_server(host) => Ok(()),
            _ => {
                Err((StatusCode::FORBIDDEN, format!("requests from web pages of `{}` are refused", printable(origin))))
            }
        }
    }

    fn check_token(&self, headers: &HeaderMap) -> Result<(), Refusal> {
        let Some(token) = &self.token else { return Ok(()) };
        // The scheme's name is case-insensitive (RFC 9110).
        let given = headers
            .get(AUTHORIZATION)
            .and_then(|h| h.to_str().ok())
            .and_then(|h| h.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token);
        match given {
            Some(given) if same_secret(given.trim().as_bytes(), token.as_bytes()) => Ok(()),
            Some(_) => Err((StatusCode::UNAUTHORIZED, "the bearer token is wrong".into())),
            None => Err((
                StatusCode::UNAUTHORIZED,
                "this server needs `Authorization: Bearer TOKEN` (the token in its --token-file)".into(),
            )),
        }
    }

    fn is_this_server(&self, host: &str) -> bool {
        let Some((name, port)) = host.rsplit_once(':') else { return false };
        self.names.iter().any(|n| n.eq_ignore_ascii_case(name)) && port.parse() == Ok(self.port)
    }
}

/// A cross-site form can post `text/plain` without asking first; JSON
/// cannot, so requiring it shuts out forms.
fn check_json(headers: &HeaderMap) -> Result<(), Refusal> {
    let kind = headers.get(CONTENT_TYPE).and_then(|h| h.to_str().ok()).unwrap_or("");
    let essence = kind.split(';').next().unwrap_or("").trim();
    if essence.eq_ignore_ascii_case("application/json") {
        return Ok(());
    }
    Err((
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        format!("the body must be sent as `Content-Type: application/json`, not `{}`", printable(kind)),
    ))
}

fn check_length(headers: &HeaderMap) -> Result<(), Refusal> {
    let declared = headers.get(CONTENT_LENGTH).and_then(|h| h.to_str().ok()).and_then(|h| h.parse::<u64>().ok());
    match declared {
        Some(length) if length > BODY_LIMIT as u64 => Err(too_large()),
        _ => Ok(()),
    }
}

pub fn too_large() -> Refusal {
    (StatusCode::PAYLOAD_TOO_LARGE, format!("the body is larger than {BODY_LIMIT} bytes"))
}

/// Compared in time independent of where the texts differ.
fn same_secret(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |diff, (x, y)| diff | (x ^ y)) == 0
}

/// A header value quoted in an answer: printable ASCII, at most 80 characters.
fn printable(text: &str) -> String {
    text.chars().filter(|c| c.is_ascii_graphic() || *c == ' ').take(80).collect()
}

/// The bearer token in `path`: its first line, trimmed.
pub fn read_token(path: &Path) -> Result<String, CliError> {
    let unreadable = |e: std::io::Error| {
        CliError::input(format!("--token-file {}: {e}", path.display()))
            .hint("put the token alone in a file, for example: openssl rand -hex 32 > token")
    };
    let meta = std::fs::metadata(path).map_err(unreadable)?;
    if !meta.is_file() || meta.len() > 4096 {
        return Err(CliError::input(format!("--token-file {}: not a small regular file", path.display()))
            .hint("put the token alone in a file, for example: openssl rand -hex 32 > token"));
    }
    let text = std::fs::read_to_string(path).map_err(unreadable)?;
    let token = text.lines().next().unwrap_or("").trim().to_string();
    if token.len() < 16 {
        return Err(CliError::input(format!(
            "--token-file {}: the token has fewer than 16 characters",
            path.display()
        ))
        .hint("use a long random token, for example: openssl rand -hex 32 > token"));
    }
    Ok(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, value.parse().expect("header value"));
        }
        map
    }

    #[test]
    fn only_requests_addressed_to_this_server_pass() {
        let guard = Guard::new("127.0.0.1:9090".parse().expect("addr"), None);
        let json = ("content-type", "application/json; charset=utf-8");
        for host in ["127.0.0.1:9090", "localhost:9090", "LOCALHOST:9090"] {
            assert_eq!(guard.check(&Method::POST, &headers(&[("host", host), json])), Ok(()), "{host}");
        }
        for host in ["evil.example:9090", "127.0.0.1:9091", "127.0.0.1", "[::1]:9090", ""] {
            let (status, _) = guard.check(&Method::GET, &headers(&[("host", host)])).expect_err(host);
            assert_eq!(status, StatusCode::FORBIDDEN, "{host}");
        }
        let page = headers(&[("host", "127.0.0.1:9090"), ("origin", "http://evil.example"), json]);
        assert_eq!(guard.check(&Method::POST, &page).map_err(|r| r.0), Err(StatusCode::FORBIDDEN));
        let own = headers(&[("host", "127.0.0.1:9090"), ("origin", "http://localhost:9090"), json]);
        assert_eq!(guard.check(&Method::POST, &own), Ok(()));
        let opaque = headers(&[("host", "127.0.0.1:9090"), ("origin", "null"), json]);
        assert_eq!(guard.check(&Method::POST, &opaque).map_err(|r| r.0), Err(StatusCode::FORBIDDEN));

        // Served on another loopback address: that address names it.
        let v6 = Guard::new("[::1]:9090".parse().expect("addr"), None);
        assert_eq!(v6.check(&Method::GET, &headers(&[("host", "[::1]:9090")])), Ok(()));
        let (_, why) = v6.check(&Method::GET, &headers(&[("host", "127.0.0.1:9090")])).expect_err("another address");
        assert!(why.contains("address it as [::1]:9090"), "{why}");
        let other = Guard::new("127.0.0.2:9090".parse().expect("addr"), None);
        assert_eq!(other.check(&Method::GET, &headers(&[("host", "127.0.0.2:9090")])), Ok(()));
    }

    #[test]
    fn bodies_must_be_small_json_and_tokens_right() {
        let guard = Guard::new("127.0.0.1:9090".parse().expect("addr"), Some("0123456789abcdef".into()));
        let host = ("host", "127.0.0.1:9090");
        let auth = ("authorization", "Bearer 0123456789abcdef");
        let json = ("content-type", "application/json");
        assert_eq!(guard.check(&Method::POST, &headers(&[host, auth, json])), Ok(()));
        let refused = |pairs: &[(&'static str, &str)]| guard.check(&Method::POST, &headers(pairs)).map_err(|r| r.0);
        assert_eq!(refused(&[host, json]), Err(StatusCode::UNAUTHORIZED));
        assert_eq!(refused(&[host, ("authorization", "Bearer 0123456789abcdeX"), json]), Err(StatusCode::UNAUTHORIZED));
        assert_eq!(
            refused(&[host, ("authorization", "bearer 0123456789abcdef"), json]),
            Ok(()),
            "any case of the scheme"
        );
        assert_eq!(refused(&[host, auth, ("content-type", "text/plain")]), Err(StatusCode::UNSUPPORTED_MEDIA_TYPE));
        assert_eq!(refused(&[host, auth]), Err(StatusCode::UNSUPPORTED_MEDIA_TYPE));
        assert_eq!(refused(&[host, auth, json, ("content-length", "65537")]), Err(StatusCode::PAYLOAD_TOO_LARGE));
    }
}
