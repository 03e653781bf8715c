//! HTTP stubs of an environment: requests to a stubbed host get its recorded
//! answer in-process (see [`HttpStub`]).

use super::Environment;
use crate::http_stubs::HttpStub;
use crate::recording::RecordedRequest;
use crate::sync::lock;

impl Environment {
    /// Answer `stub.method` requests to `stub`'s URL with its status and
    /// body, in-process, from now on (and in every fresh copy crash
    /// verification makes); a request to the same host that no stub matches
    /// gets `404`. A stub for the same method and URL replaces the earlier one.
    ///
    /// ```no_run
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use reprise_testkit::{Environment, HttpStub};
    /// let env = Environment::new()?;
    /// env.stub_http(HttpStub::new("POST", "http://payments.test/charges", 200, "receipt-1")?);
    /// // ... an agent POSTs to http://payments.test/charges ...
    /// assert_eq!(env.stub_requests().len(), 1);
    /// # Ok(()) }
    /// ```
    pub fn stub_http(&self, stub: HttpStub) {
        lock(&self.shared.world.http).add(stub);
    }

    /// The environment's HTTP stubs.
    pub fn http_stubs(&self) -> Vec<HttpStub> {
        lock(&self.shared.world.http).stubs().to_vec()
    }

    /// Every request a stub answered, in order (bodies whole).
    pub fn stub_requests(&self) -> Vec<RecordedRequest> {
        lock(&self.shared.world.http).answered().to_vec()
    }
}
