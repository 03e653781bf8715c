//! The document-store example: containers, streamed objects, byte ranges,
//! listing, copy and move of `reprise::blobstore`, their errors, and crash
//! verification.
#![allow(clippy::unwrap_used, clippy::panic)]

use reprise_e2e::build_example;
use reprise_example_document_store::{DocumentInfo, DocumentStoreCall};
use reprise_testkit::Environment;
use reprise_testkit::verify::{CrashPlan, Scenario, verify};

#[test]
fn documents_stream_list_copy_and_archive() {
    let env = Environment::builder().blob("docs-bob", "shared.txt", "from bob").build().unwrap();
    let component = env.load(build_example("document-store")).unwrap();
    let mut store = env.create(&component, DocumentStoreCall::new("ann".into())).unwrap();

    let body = "hello, durable world\n".repeat(5000); // 105 kB: several stream chunks
    let size = body.len() as u64;
    assert_eq!(store.put("big.txt".into(), body.clone()).unwrap(), Ok(size));
    assert_eq!(env.blob_contents()["docs-ann"]["big.txt"], body.as_bytes());
    assert_eq!(store.get("big.txt".into()).unwrap(), Ok(body.clone()));
    assert_eq!(store.count_lines("big.txt".into()).unwrap(), Ok(5000));
    // Inclusive ranges: bytes 7..=13 are "durable"; a range past the end stops at the end.
    assert_eq!(store.excerpt("big.txt".into(), 7, 13).unwrap(), Ok("durable".to_string()));
    assert_eq!(store.excerpt("big.txt".into(), size - 6, size + 100).unwrap(), Ok("world\n".to_string()));

    let gen_size = store.generate("gen.txt".into(), 2000).unwrap().unwrap();
    assert!(gen_size > 80_000);
    assert_eq!(store.count_lines("gen.txt".into()).unwrap(), Ok(2000));

    assert_eq!(store.import("bob".into(), "shared.txt".into()).unwrap(), Ok(8));
    assert_eq!(store.duplicate("shared.txt".into(), "copy.txt".into()).unwrap(), Ok(()));
    let info = |name: &str, size: u64| DocumentInfo { name: name.into(), size };
    assert_eq!(
        store.list().unwrap(),
        Ok(vec![info("big.txt", size), info("copy.txt", 8), info("gen.txt", gen_size), info("shared.txt", 8)])
    );
    assert_eq!(store.archive("copy.txt".into()).unwrap(), Ok(()));
    assert_eq!(env.blob_contents()["archive"]["ann/copy.txt"], b"from bob");
    assert_eq!(store.contains("copy.txt".into()).unwrap(), Ok(false));
    assert_eq!(store.delete(vec!["gen.txt".into(), "shared.txt".into()]).unwrap(), Ok(1));

    // Listing streams names in pages; archiving is a copy and a delete.
    let calls: Vec<String> = store.agent.host_calls().into_iter().map(|c| c.function).collect();
    assert!(calls.contains(&"blobstore::blobstore::copy_object".to_string()), "{calls:?}");
    assert!(calls.contains(&"blobstore::container::list_object".to_string()), "{calls:?}");
    assert!(calls.contains(&"blobstore::container::delete_objects".to_string()), "{calls:?}");

    let scenario = Scenario::of(DocumentStoreCall::new("cy".into()))
        .then(DocumentStoreCall::put("a.txt".into(), "alpha beta\ngamma\n".into()))
        .then(DocumentStoreCall::excerpt("a.txt".into(), 6, 9))
        .then(DocumentStoreCall::duplicate("a.txt".into(), "b.txt".into()))
        .then(DocumentStoreCall::archive("b.txt".into()))
        .then(DocumentStoreCall::count_lines("a.txt".into()))
        .then(DocumentStoreCall::list());
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
    let scenario = Scenario::of(DocumentStoreCall::new("flo".into()))
        .then(DocumentStoreCall::put("a.txt".into(), "alpha".into()))
        .then(DocumentStoreCall::rename("a.txt".into(), "b.txt".into()));
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
    let mut store = env.create(&component, DocumentStoreCall::new("eve".into())).unwrap();
    store.put("a.txt".into(), "0123456789".into()).unwrap().unwrap();

    let e = store.get("nope.txt".into()).unwrap().unwrap_err();
    assert_eq!(
        e,
        "blob-store object-info in container `docs-eve` (object `nope.txt`) failed: object `nope.txt` does not exist in container `docs-eve`"
    );
    let e = store.import("nobody".into(), "x".into()).unwrap().unwrap_err();
    assert_eq!(e, "blob-store get-container in container `docs-nobody` failed: container `docs-nobody` does not exist");
    // A reversed range is refused by the SDK before any host call.
    let before = store.agent.host_calls().len();
    let e = store.excerpt("a.txt".into(), 8, 2).unwrap().unwrap_err();
    assert_eq!(
        e,
        "blob-store get-data in container `docs-eve` (object `a.txt`): invalid byte range 8..=2: the start is after the end"
    );
    assert_eq!(store.agent.host_calls().len(), before);
    // A range starting past the end is refused by the store.
    let e = store.excerpt("a.txt".into(), 50, 60).unwrap().unwrap_err();
    assert!(
        e.starts_with("blob-store get-data in container `docs-eve` (object `a.txt`) failed: invalid range 50..=60"),
        "{e}"
    );
    // After all of that the agent still works.
    assert_eq!(store.get("a.txt".into()).unwrap(), Ok("0123456789".to_string()));

    // Clearing empties the container; destroying removes it, after which
    // every operation on it is a store error, not a trap.
    let cleared = store.clear().unwrap();
    assert!(cleared.is_ok(), "{cleared:?}");
    assert!(env.blob_contents()["docs-eve"].is_empty());
    assert_eq!(store.destroy().unwrap(), Ok(false));
    assert!(!env.blob_contents().contains_key("docs-eve"));
    let e = store.put("b.txt".into(), "x".into()).unwrap().unwrap_err();
    assert!(e.starts_with("blob-store write-data in container `docs-eve` (object `b.txt`) failed:"), "{e}");
}
