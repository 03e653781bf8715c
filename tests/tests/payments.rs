//! The payments example: a `#[durable]` HTTP charge against the recording
//! service happens exactly once per payment under crashes at every oplog
//! index, except in the done-but-not-persisted window, where it is retried
//! with the same idempotency key.
#![allow(clippy::unwrap_used, clippy::panic)]

use reprise_e2e::{build_example, oplog_shape};
use reprise_example_payments::PaymentsCall;
use reprise_testkit::Environment;
use reprise_testkit::recording::RecordingService;
use reprise_testkit::verify::{CrashPlan, Scenario, verify};

#[test]
fn payments_are_charged_once_with_stable_idempotency_keys() {
    let service = RecordingService::start().unwrap();
    let authority = service.addr().to_string();
    let env = Environment::builder().recording_service(&service).build().unwrap();
    let component = env.load(build_example("payments")).unwrap();

    let mut payments = env.create(&component, PaymentsCall::new("alice".into())).unwrap();
    let receipt = payments.pay(authority.clone(), 1250).unwrap();
    assert_eq!(receipt, Ok("accepted 10 bytes".to_string()));
    assert_eq!(payments.paid().unwrap(), 1250);
    let requests = service.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].body, b"alice:1250");
    // The agent's own key is kept (Golem adds one only when there is none),
    // and Golem's trace context is added.
    let key = requests[0].idempotency_key.clone().unwrap();
    assert_eq!(key.len(), 32, "the agent's key, in simple form: {key}");
    assert!(service.headers()[0].iter().any(|(k, v)| k == "traceparent" && v.starts_with("00-")));
    // As on Golem: the HTTP exchange inside the durable function is recorded
    // in the function's persist-nothing zone (replay passes over the zone),
    // then the durable function's own entry holds its result.
    let shape = oplog_shape(&payments.agent);
    assert_eq!(
        shape,
        [
            "golem::api::generate_idempotency-key",
            "persistence PersistenceLevel::PersistNothing",
            // wstd's reactor seeds its hash map once.
            "random::insecure_seed::insecure_seed",
            "begin-remote-write",
            "start-span",
            // reprise::http (wstd) writes the body after `handle`.
            "http::types::outgoing_body_stream::check_write",
            "http::types::outgoing_body_stream::write",
            "io::poll::pollable::ready",
            "io::poll::poll",
            "io::poll::pollable::ready",
            "http::types::future_incoming_response::get",
            "http::types::incoming_body_stream::read",
            "http::types::incoming_body_stream::read",
            "http::types::future_trailers::get",
            "io::poll::pollable::ready",
            "http::types::future_trailers::get",
            "end-remote-write",
            "finish-span",
            "persistence PersistenceLevel::Smart",
            "payments::charge"
        ]
    );

    let scenario = Scenario::of(PaymentsCall::new("bob".into()))
        .then(PaymentsCall::pay(authority.clone(), 500))
        .then(PaymentsCall::pay(authority, 700))
        .then(PaymentsCall::paid());
    let report = verify(&env, &component, &scenario, &CrashPlan::every_entry()).unwrap();
    println!("{report}");
    assert!(report.is_ok(), "{report}");
    assert_eq!(report.reference.http_requests.len(), 2);
    let keys: Vec<_> = report.reference.http_requests.iter().map(|r| r.idempotency_key.clone().unwrap()).collect();
    assert_ne!(keys[0], keys[1], "each payment has its own key");
    assert!(report.retried_effects > 0, "the done-but-not-persisted window retries: {report}");
}
