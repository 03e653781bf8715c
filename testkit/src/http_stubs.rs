//! HTTP stubs: recorded answers for requests to named hosts, given in-process
//! instead of over the network (a script's `http POST http://pay.test/charges
//! -> 200 "ok"`). A stubbed host answers every request: one no stub matches
//! gets `404` naming it, so nothing meant for a stub leaves the process. What
//! reached a stub is recorded, and crash verification compares it run by run
//! as it compares a recording service's requests.

use std::fmt;

use crate::recording::RecordedRequest;

/// A recorded answer to requests with this method and URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpStub {
    /// `GET`, `POST`, ...
    pub method: String,
    /// The host (and port, if not the scheme's default) the request goes
    /// to, lower-case: `payments.test`. Requests to it by `http` or `https`
    /// are answered alike.
    pub authority: String,
    /// The path and query: `/charges`.
    pub path: String,
    /// The status of the answer.
    pub status: u16,
    /// The body of the answer.
    pub body: Vec<u8>,
}

impl HttpStub {
    /// A stub for `method` requests to `url` (`http://host/path`), answering
    /// `status` with `body`; an error names what is wrong with the URL.
    pub fn new(method: &str, url: &str, status: u16, body: impl Into<Vec<u8>>) -> Result<HttpStub, String> {
        let uri: http::Uri = url.parse().map_err(|e| format!("`{url}` is not a URL: {e}"))?;
        let authority = uri.authority().ok_or_else(|| format!("`{url}` names no host; write http://host/path"))?;
        let authority = normal_authority(authority.as_str());
        if !(100..=599).contains(&status) {
            return Err(format!("{status} is not an HTTP status"));
        }
        let method = method.to_ascii_uppercase();
        if method.is_empty() || !method.bytes().all(|b| b.is_ascii_alphabetic()) {
            return Err(format!("`{method}` is not an HTTP method"));
        }
        let path = uri.path_and_query().map(|p| p.to_string()).unwrap_or_else(|| "/".into());
        Ok(HttpStub { method, authority, path, status, body: body.into() })
    }
}

/// An authority as stubs compare it: lower-case, without a default port
/// (`PAY.test:80` is `pay.test`), so no spelling of a stubbed host reaches
/// the network.
pub(crate) fn normal_authority(authority: &str) -> String {
    let authority = authority.to_ascii_lowercase();
    match authority.rsplit_once(':') {
        Some((host, "80" | "443")) => host.to_string(),
        _ => authority,
    }
}

impl fmt::Display for HttpStub {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} http://{}{} -> {}", self.method, self.authority, self.path, self.status)
    }
}

/// The stubs of an environment and the requests they answered.
#[derive(Debug, Default)]
pub(crate) struct HttpStubs {
    stubs: Vec<HttpStub>,
    answered: Vec<RecordedRequest>,
}

impl HttpStubs {
    pub(crate) fn add(&mut self, stub: HttpStub) {
        self.stubs.retain(|s| (&s.method, &s.authority, &s.path) != (&stub.method, &stub.authority, &stub.path));
        self.stubs.push(stub);
    }

    pub(crate) fn stubs(&self) -> &[HttpStub] {
        &self.stubs
    }

    /// The same stubs, no requests answered yet.
    pub(crate) fn fresh(&self) -> HttpStubs {
        HttpStubs { stubs: self.stubs.clone(), answered: Vec::new() }
    }

    pub(crate) fn answered(&self) -> &[RecordedRequest] {
        &self.answered
    }

    /// Whether requests to `authority` are answered here.
    pub(crate) fn stubbed(&self, authority: &str) -> bool {
        let authority = normal_authority(authority);
        self.stubs.iter().any(|s| s.authority == authority)
    }

    /// Record a request to a stubbed host and give its answer.
    pub(crate) fn answer(&mut self, authority: &str, request: RecordedRequest) -> (u16, Vec<u8>) {
        let authority = normal_authority(authority);
        let (method, path) = (&request.method, &request.path);
        let found = self.stubs.iter().find(|s| &s.method == method && s.authority == authority && &s.path == path);
        let answer = match found {
            Some(stub) => (stub.status, stub.body.clone()),
            None => (404, format!("no stub for {method} http://{authority}{path}").into_bytes()),
        };
        self.answered.push(request);
        answer
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stubs_answer_their_request_and_name_the_ones_they_do_not_know() {
        let mut stubs = HttpStubs::default();
        stubs.add(HttpStub::new("post", "http://pay.test/charges", 201, "receipt-1").expect("a stub"));
        assert!(stubs.stubbed("PAY.test") && stubs.stubbed("pay.test:80") && !stubs.stubbed("other.test"));
        assert!(!stubs.stubbed("pay.test:8080"));
        let request = |path: &str| RecordedRequest {
            method: "POST".into(),
            path: path.into(),
            idempotency_key: None,
            body: b"500".to_vec(),
        };
        assert_eq!(stubs.answer("Pay.Test:80", request("/charges")), (201, b"receipt-1".to_vec()));
        stubs.add(HttpStub::new("POST", "http://PAY.test:80/charges", 200, "receipt-2").expect("a stub"));
        assert_eq!(stubs.stubs().len(), 1, "the same URL replaces the earlier stub");
        assert_eq!(stubs.answer("pay.test", request("/charges")), (200, b"receipt-2".to_vec()));
        let (status, body) = stubs.answer("pay.test", request("/refunds"));
        assert_eq!(
            (status, String::from_utf8(body).expect("text")),
            (404, "no stub for POST http://pay.test/refunds".into())
        );
        assert_eq!(stubs.answered().len(), 3);
        assert_eq!(stubs.fresh().answered().len(), 0);
        assert!(HttpStub::new("GET", "/charges", 200, "").unwrap_err().contains("names no host"));
        assert!(HttpStub::new("GET", "http://a.test/", 1000, "").unwrap_err().contains("not an HTTP status"));
    }
}
