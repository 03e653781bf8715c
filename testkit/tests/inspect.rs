//! The inspector against components built from WIT in the test: what is
//! accepted, and how everything else is reported.
// Tests fail by unwrapping and panicking, with the value in the message.
#![allow(clippy::unwrap_used, clippy::panic)]

use reprise_testkit::inspect::{ImportProblem, InspectError, inspect_bytes, inspect_file};
use reprise_testkit::wit::golem_wit;
use wit_component::{ComponentEncoder, StringEncoding, dummy_module, embed_component_metadata};
use wit_parser::{ManglingAndAbi, Resolve};

/// A component whose world is `world` in `wit`, resolved on top of the Golem 1.5
/// WIT (so it may `import golem:...`). Its functions are stubs; only its type matters.
fn component(wit: &str) -> Vec<u8> {
    build(golem_wit().resolve().clone(), wit)
}

/// Like [`component`], but resolved alone: for WIT that redefines Golem packages.
fn standalone_component(wit: &str) -> Vec<u8> {
    build(Resolve::default(), wit)
}

fn build(mut resolve: Resolve, wit: &str) -> Vec<u8> {
    let pkg = resolve.push_str("test.wit", wit).expect("test WIT parses");
    let world = resolve.select_world(&[pkg], Some("test")).expect("world `test`");
    let mut module = dummy_module(&resolve, world, ManglingAndAbi::Standard32);
    embed_component_metadata(&mut module, &resolve, world, StringEncoding::UTF8).expect("embed");
    ComponentEncoder::default().module(&module).expect("module").validate(true).encode().expect("encode")
}

fn problems(wasm: &[u8]) -> Vec<ImportProblem> {
    let info = inspect_bytes(wasm).expect("inspectable");
    match info.check_golem_imports() {
        Ok(()) => Vec::new(),
        Err(e) => e.problems,
    }
}

#[test]
fn lists_imports_and_exports_with_versions() {
    let wasm = component(
        "package test:app;
         interface api { hello: func() -> string; }
         world test {
           import golem:api/host@1.5.0;
           import golem:durability/durability@1.5.0;
           import wasi:logging/logging;
           export api;
         }",
    );
    let info = inspect_bytes(&wasm).expect("inspect");
    let imports: Vec<String> = info.imports.iter().map(ToString::to_string).collect();
    for expected in ["golem:api/host@1.5.0", "golem:durability/durability@1.5.0", "wasi:logging/logging"] {
        assert!(imports.contains(&expected.to_string()), "{expected} missing from {imports:?}");
    }
    let exports: Vec<String> = info.exports.iter().map(ToString::to_string).collect();
    assert_eq!(exports, ["test:app/api"]);
    assert!(info.exports_interface("test:app/api"));
    assert_eq!(info.size, wasm.len());
    let host = info.imports.iter().find(|i| i.interface == "host").expect("host import");
    assert_eq!(host.version.as_deref(), Some("1.5.0"));
    assert!(host.functions.iter().any(|f| f == "generate-idempotency-key"), "{:?}", host.functions);
    assert_eq!(problems(&wasm), []);
}

#[test]
fn accepts_every_interface_of_the_agent_and_plugin_worlds() {
    for world in ["agent", "plugin"] {
        let wasm = component(&format!("package test:app; world test {{ include reprise:component/{world}@0.1.0; }}"));
        assert_eq!(problems(&wasm), [], "world {world}");
    }
}

#[test]
fn rejects_a_made_up_golem_version() {
    let wasm = standalone_component(
        "package golem:api@9.9.9;
         interface host { get-oplog-index: func() -> u64; }
         world test { import host; }",
    );
    let info = inspect_bytes(&wasm).expect("inspect");
    let err = info.check_golem_imports().expect_err("golem:api@9.9.9 is not Golem 1.5");
    assert_eq!(
        err.problems,
        [ImportProblem::UnknownPackage {
            import: "golem:api/host@9.9.9".into(),
            provided: vec!["golem:api@1.5.0".into()],
        }]
    );
    let message = err.to_string();
    assert!(message.contains("`golem:api/host@9.9.9`"), "{message}");
    assert!(message.contains("golem:api@1.5.0"), "{message}");
}

#[test]
fn rejects_unknown_packages_interfaces_and_functions_all_at_once() {
    let wasm = standalone_component(
        "package golem:api@1.5.0;
         interface host { get-oplog-index: func() -> u64; teleport: func(); }
         interface time-travel { rewind: func(); }
         world test { import host; import time-travel; import acme:billing/charge@1.0.0; }

         package acme:billing@1.0.0 { interface charge { pay: func(cents: u64); } }",
    );
    let problems = problems(&wasm);
    assert!(
        problems.contains(&ImportProblem::UnknownFunction {
            import: "golem:api/host@1.5.0".into(),
            function: "teleport".into()
        }),
        "{problems:?}"
    );
    assert!(problems.contains(&ImportProblem::UnknownInterface { import: "golem:api/time-travel@1.5.0".into() }));
    assert!(
        problems
            .contains(&ImportProblem::UnknownPackage { import: "acme:billing/charge@1.0.0".into(), provided: vec![] })
    );
    // `get-oplog-index` matches Golem 1.5 and is not reported.
    assert_eq!(problems.len(), 3, "{problems:?}");
}

#[test]
fn rejects_a_function_whose_types_differ() {
    let wasm = standalone_component(
        "package golem:api@1.5.0;
         interface host {
           get-oplog-index: func() -> u32;
           record agent-status-filter { comparator: u8, value: u8 }
           set-oplog-persistence-level: func(new-persistence-level: agent-status-filter);
         }
         world test { import host; }",
    );
    let problems = problems(&wasm);
    let details: Vec<String> = problems.iter().map(ToString::to_string).collect();
    assert_eq!(problems.len(), 2, "{details:?}");
    assert!(details[0].contains("get-oplog-index") && details[0].contains("expected u64, found u32"), "{details:?}");
    assert!(details[1].contains("set-oplog-persistence-level"), "{details:?}");
    assert!(details[1].contains("variant `persistence-level`"), "{details:?}");
}

#[test]
fn wasi_0_2_is_accepted_and_other_wasi_versions_are_not() {
    let ok = component(
        "package test:app;
         world test { import wasi:cli/environment@0.2.3; }
         package wasi:cli@0.2.3 { interface environment { get-arguments: func() -> list<string>; } }",
    );
    assert_eq!(problems(&ok), []);

    let preview3 = component(
        "package test:app;
         world test { import wasi:cli/environment@0.3.0; }
         package wasi:cli@0.3.0 { interface environment { get-arguments: func() -> list<string>; } }",
    );
    assert_eq!(problems(&preview3), [ImportProblem::UnsupportedWasi { import: "wasi:cli/environment@0.3.0".into() }]);
}

#[test]
fn rejects_functions_imported_outside_an_interface() {
    let wasm = component("package test:app; world test { import now: func() -> u64; }");
    assert_eq!(problems(&wasm), [ImportProblem::RootFunction { function: "now".into() }]);
}

#[test]
fn non_wasm_files_get_a_clear_error() {
    let err = inspect_bytes(b"#!/bin/sh\necho hello\n").expect_err("text is not wasm");
    assert!(matches!(err, InspectError::NotWasm { .. }));
    assert_eq!(
        err.to_string(),
        "not a WebAssembly file: it starts with the text \"#!/bin/sh\" instead of the magic bytes `\\0asm`"
    );

    let err = inspect_bytes(b"").expect_err("empty");
    assert!(err.to_string().contains("the file is empty"), "{err}");

    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("notes.wasm");
    std::fs::write(&path, [0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a]).expect("write");
    let err = inspect_file(&path).expect_err("png");
    assert!(err.to_string().contains("[89, 50, 4e, 47"), "{err}");

    let err = inspect_file(dir.path().join("missing.wasm")).expect_err("missing file");
    assert!(matches!(err, InspectError::Io { .. }));
    assert!(err.to_string().contains("missing.wasm"), "{err}");
}

#[test]
fn core_modules_and_malformed_components_get_a_clear_error() {
    let core_module = b"\0asm\x01\0\0\0";
    let err = inspect_bytes(core_module).expect_err("core module");
    assert!(matches!(err, InspectError::CoreModule));
    assert!(err.to_string().contains("wasm32-wasip2"), "{err}");

    let wasm = component("package test:app; world test { import wasi:logging/logging; }");
    let truncated = &wasm[..wasm.len() / 2];
    let err = inspect_bytes(truncated).expect_err("truncated");
    assert!(matches!(err, InspectError::Malformed { .. }), "{err:?}");
    assert!(err.to_string().starts_with("malformed component: "), "{err}");

    let mut corrupt = wasm.clone();
    corrupt[9] ^= 0xff; // the first section's id/size bytes
    assert!(inspect_bytes(&corrupt).is_err());
}

/// The plugin handshake: a component exporting another version of the
/// oplog-processor interface is refused by name, and one importing what the
/// host does not offer is refused when loaded.
#[test]
fn the_plugin_handshake_names_the_expected_and_found_interfaces() {
    let env = reprise_testkit::Environment::new().expect("environment");
    let older = standalone_component(
        "package golem:api@1.4.0;
         interface oplog-processor { process: func(batch: list<u8>) -> result<_, string>; }
         world test { export oplog-processor; }",
    );
    let component = env.load_bytes(&older).expect("loads: it imports nothing");
    let e = env.define_plugin("old", "0.1.0", "built for Golem 1.4", &component).expect_err("refused");
    assert_eq!(
        e.to_string(),
        "plugin: plugin `old` 0.1.0: the component must export `golem:api/oplog-processor@1.5.0`, but it exports golem:api/oplog-processor@1.4.0"
    );

    let greedy = standalone_component(
        "package golem:api@1.5.0;
         interface oplog-processor { process: func(batch: list<u8>) -> result<_, string>; }
         world test { export oplog-processor; import acme:telemetry/sink@2.0.0; }

         package acme:telemetry@2.0.0 { interface sink { send: func(data: list<u8>); } }",
    );
    let e = env.load_bytes(&greedy).expect_err("imports what Golem 1.5 lacks").to_string();
    assert!(e.contains("acme:telemetry/sink@2.0.0"), "{e}");
}
