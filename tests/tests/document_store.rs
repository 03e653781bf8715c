//! The document-store example: containers, streamed objects, byte ranges,
//! listing, copy and move of `reprise::blobstore`, their errors, and crash
//! verification.
#![allow(clippy::unwrap_used, clippy::panic)]

use reprise_e2e::build_example;
use reprise_testkit::Environment;
use reprise_testkit::value::Value;
use reprise_testkit::verify::{CrashPlan, Scenario, verify};

fn ok(v: Value) -> Value {
    Value::result(Ok(v))
}

/// The error text of a `Result<_, String>` output.
fn error_of(out: &[Value]) -> String {
    match out {
        [Value::Result(Err(Some(e)))] => e.as_str().unwrap().to_string(),
        other => panic!("expected an error, got {other:?}"),
    }
}

#[test]
fn documents_stream_list_copy_and_archive() {
    let env = Environment::builder().blob("docs-bob", "shared.txt", "from bob").build().unwrap();
    let component = env.load(build_example("document-store")).unwrap();
    let mut store = env.create_agent(&component, "DocumentStore", &[Value::string("ann")]).unwrap();

    let body = "hello, durable world\n".repeat(5000); // 105 kB: several stream chunks
    let size = body.len() as u64;
    assert_eq!(store.invoke("put", &[Value::string("big.txt"), Value::string(&body)]).unwrap(), [ok(Value::U64(size))]);
    assert_eq!(env.blob_contents()["docs-ann"]["big.txt"], body.as_bytes());
    assert_eq!(store.invoke("get", &[Value::string("big.txt")]).unwrap(), [ok(Value::string(&body))]);
    assert_eq!(store.invoke("count_lines", &[Value::string("big.txt")]).unwrap(), [ok(Value::U64(5000))]);
    // Inclusive ranges: bytes 7..=13 are "durable"; a range past the end stops at the end.
    let excerpt = |s: u64, e: u64| vec![Value::string("big.txt"), Value::U64(s), Value::U64(e)];
    assert_eq!(store.invoke("excerpt", &excerpt(7, 13)).unwrap(), [ok(Value::string("durable"))]);
    assert_eq!(store.invoke("excerpt", &excerpt(size - 6, size + 100)).unwrap(), [ok(Value::string("world\n"))]);

    let generated = store.invoke("generate", &[Value::string("gen.txt"), Value::U32(2000)]).unwrap();
    let [Value::Result(Ok(Some(gen_size)))] = generated.as_slice() else { panic!("{generated:?}") };
    assert!(gen_size.as_u64().unwrap() > 80_000);
    assert_eq!(store.invoke("count_lines", &[Value::string("gen.txt")]).unwrap(), [ok(Value::U64(2000))]);

    assert_eq!(
        store.invoke("import", &[Value::string("bob"), Value::string("shared.txt")]).unwrap(),
        [ok(Value::U64(8))]
    );
    assert_eq!(
        store.invoke("duplicate", &[Value::string("shared.txt"), Value::string("copy.txt")]).unwrap(),
        [Value::Result(Ok(None))]
    );
    let info = |name: &str, size: u64| Value::Record(vec![Value::string(name), Value::U64(size)]);
    assert_eq!(
        store.invoke("list", &[]).unwrap(),
        [ok(Value::List(vec![
            info("big.txt", size),
            info("copy.txt", 8),
            info("gen.txt", gen_size.as_u64().unwrap()),
            info("shared.txt", 8),
        ]))]
    );
    assert_eq!(store.invoke("archive", &[Value::string("copy.txt")]).unwrap(), [Value::Result(Ok(None))]);
    assert_eq!(env.blob_contents()["archive"]["ann/copy.txt"], b"from bob");
    assert_eq!(store.invoke("contains", &[Value::string("copy.txt")]).unwrap(), [ok(Value::Bool(false))]);
    assert_eq!(
        store.invoke("delete", &[Value::List(vec![Value::string("gen.txt"), Value::string("shared.txt")])]).unwrap(),
        [ok(Value::U32(1))]
    );

    // Listing streams names in pages; archiving is a copy and a delete.
    let calls: Vec<String> = store.host_calls().into_iter().map(|c| c.function).collect();
    assert!(calls.contains(&"blobstore::blobstore::copy_object".to_string()), "{calls:?}");
    assert!(calls.contains(&"blobstore::container::list_object".to_string()), "{calls:?}");
    assert!(calls.contains(&"blobstore::container::delete_objects".to_string()), "{calls:?}");

    let scenario = Scenario::new("DocumentStore", [Value::string("cy")])
        .call("put", [Value::string("a.txt"), Value::string("alpha beta\ngamma\n")])
        .call("excerpt", [Value::string("a.txt"), Value::U64(6), Value::U64(9)])
        .call("duplicate", [Value::string("a.txt"), Value::string("b.txt")])
        .call("archive", [Value::string("b.txt")])
        .call("count_lines", [Value::string("a.txt")])
        .call("list", []);
    let report = verify(&env, &component, &scenario, &CrashPlan::every_entry()).unwrap();
    println!("{report}");
    assert!(report.is_ok(), "{report}");
    assert!(report.retried_effects > 0, "remote writes are retried in their window: {report}");
}

/// What crash verification is for: a single `move-object` is not safe to
/// repeat, and a crash between the move and its oplog entry proves it.
#[test]
fn verification_catches_a_move_that_cannot_be_retried() {
    let env = Environment::new().unwrap();
    let component = env.load(build_example("document-store")).unwrap();
    let scenario = Scenario::new("DocumentStore", [Value::string("flo")])
        .call("put", [Value::string("a.txt"), Value::string("alpha")])
        .call("rename", [Value::string("a.txt"), Value::string("b.txt")]);
    let report = verify(&env, &component, &scenario, &CrashPlan::every_entry()).unwrap();
    assert_eq!(report.failures.len(), 1, "{report}");
    let failure = report.failures[0].to_string();
    assert!(
        failure.contains("crash document-store(\"flo\") before persisting entry") && failure.contains("move-object"),
        "{failure}"
    );
}

#[test]
fn missing_containers_objects_and_bad_ranges_are_typed_errors() {
    let env = Environment::new().unwrap();
    let component = env.load(build_example("document-store")).unwrap();
    let mut store = env.create_agent(&component, "DocumentStore", &[Value::string("eve")]).unwrap();
    store.invoke("put", &[Value::string("a.txt"), Value::string("0123456789")]).unwrap();

    let e = error_of(&store.invoke("get", &[Value::string("nope.txt")]).unwrap());
    assert_eq!(
        e,
        "blob-store object-info in container `docs-eve` (object `nope.txt`) failed: object `nope.txt` does not exist in container `docs-eve`"
    );
    let e = error_of(&store.invoke("import", &[Value::string("nobody"), Value::string("x")]).unwrap());
    assert_eq!(e, "blob-store get-container in container `docs-nobody` failed: container `docs-nobody` does not exist");
    // A reversed range is refused by the SDK before any host call.
    let before = store.host_calls().len();
    let e = error_of(&store.invoke("excerpt", &[Value::string("a.txt"), Value::U64(8), Value::U64(2)]).unwrap());
    assert_eq!(
        e,
        "blob-store get-data in container `docs-eve` (object `a.txt`): invalid byte range 8..=2: the start is after the end"
    );
    assert_eq!(store.host_calls().len(), before);
    // A range starting past the end is refused by the store.
    let e = error_of(&store.invoke("excerpt", &[Value::string("a.txt"), Value::U64(50), Value::U64(60)]).unwrap());
    assert!(
        e.starts_with("blob-store get-data in container `docs-eve` (object `a.txt`) failed: invalid range 50..=60"),
        "{e}"
    );
    // After all of that the agent still works.
    assert_eq!(store.invoke("get", &[Value::string("a.txt")]).unwrap(), [ok(Value::string("0123456789"))]);

    // Clearing empties the container; destroying removes it, after which
    // every operation on it is a store error, not a trap.
    let cleared = store.invoke("clear", &[]).unwrap();
    assert!(matches!(cleared.as_slice(), [Value::Result(Ok(Some(_)))]), "{cleared:?}");
    assert!(env.blob_contents()["docs-eve"].is_empty());
    assert_eq!(store.invoke("destroy", &[]).unwrap(), [ok(Value::Bool(false))]);
    assert!(!env.blob_contents().contains_key("docs-eve"));
    let e = error_of(&store.invoke("put", &[Value::string("b.txt"), Value::string("x")]).unwrap());
    assert!(e.starts_with("blob-store write-data in container `docs-eve` (object `b.txt`) failed:"), "{e}");
}
