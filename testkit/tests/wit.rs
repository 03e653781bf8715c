//! The embedded WIT: it resolves, and Reprise's worlds have the shape the SDK
//! and the testkit rely on.
// Tests fail by unwrapping and panicking, with the value in the message.
#![allow(clippy::unwrap_used, clippy::panic)]

use reprise_testkit::wit::{golem_wit, wit_files};
use wit_parser::WorldItem;

fn world_interfaces(world: &str, exports: bool) -> Vec<String> {
    let wit = golem_wit();
    let resolve = wit.resolve();
    let id = resolve.select_world(&[wit.root_package()], Some(world)).expect("world exists");
    let w = &resolve.worlds[id];
    let items = if exports { &w.exports } else { &w.imports };
    items
        .iter()
        .filter_map(|(_, item)| match item {
            WorldItem::Interface { id, .. } => resolve.id_of(*id),
            _ => None,
        })
        .collect()
}

#[test]
fn every_wit_file_is_embedded() {
    let on_disk = walk(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../wit"));
    let mut embedded: Vec<String> = wit_files().iter().map(|(path, _)| path.to_string()).collect();
    embedded.sort();
    assert_eq!(embedded, on_disk);
}

fn walk(dir: &std::path::Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("readable") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "wit") {
                out.push(path.strip_prefix(dir).expect("under wit/").to_string_lossy().replace('\\', "/"));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn the_golem_packages_have_their_1_5_versions() {
    let mut names = golem_wit().package_names();
    names.sort();
    assert_eq!(
        names,
        [
            "golem:agent@1.5.0",
            "golem:api@1.5.0",
            "golem:core@1.5.0",
            "golem:durability@1.5.0",
            "reprise:component@0.1.0",
            "wasi:blobstore",
            "wasi:clocks@0.2.3",
            "wasi:config@0.2.0-draft",
            "wasi:io@0.2.3",
            "wasi:keyvalue@0.1.0",
            "wasi:logging",
        ]
    );
}

#[test]
fn worlds_import_and_export_what_they_promise() {
    let plain = world_interfaces("plain", false);
    for expected in [
        "golem:api/host@1.5.0",
        "golem:api/oplog@1.5.0",
        "golem:api/context@1.5.0",
        "golem:api/retry@1.5.0",
        "golem:durability/durability@1.5.0",
        "golem:agent/host@1.5.0",
        "wasi:keyvalue/eventual@0.1.0",
        "wasi:keyvalue/eventual-batch@0.1.0",
        "wasi:blobstore/blobstore",
        "wasi:blobstore/container",
        "wasi:logging/logging",
        "wasi:config/store@0.2.0-draft",
    ] {
        assert!(plain.iter().any(|i| i == expected), "plain world lacks {expected}: {plain:?}");
    }
    assert_eq!(world_interfaces("plain", true), Vec::<String>::new());
    assert_eq!(world_interfaces("agent", true), ["golem:agent/guest@1.5.0"]);
    assert_eq!(world_interfaces("plugin", true), ["golem:api/oplog-processor@1.5.0"]);
    let mut both = world_interfaces("bindings", true);
    both.sort();
    assert_eq!(both, ["golem:agent/guest@1.5.0", "golem:api/oplog-processor@1.5.0"]);
    for world in ["agent", "plugin", "bindings"] {
        assert_eq!(world_interfaces(world, false), plain, "{world} imports what plain imports");
    }
}

#[test]
fn oplog_entries_have_every_golem_1_5_case() {
    let resolve = golem_wit().resolve();
    let (_, ty) = resolve
        .types
        .iter()
        .find(|(_, t)| t.name.as_deref() == Some("public-oplog-entry"))
        .expect("public-oplog-entry");
    let wit_parser::TypeDefKind::Variant(v) = &ty.kind else { panic!("a variant") };
    let cases: Vec<&str> = v.cases.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(cases.len(), 41, "{cases:?}");
    for case in [
        "create",
        "host-call",
        "agent-invocation-started",
        "agent-invocation-finished",
        "jump",
        "oplog-processor-checkpoint",
    ] {
        assert!(cases.contains(&case), "{case}");
    }
}
