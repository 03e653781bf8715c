//! The testkit's layers import downward only: each top-level module of
//! `testkit/src` belongs to a layer (the table below, mirrored in the crate
//! docs), and may use its own layer and the layers below it. A `crate::`
//! path into a higher layer fails this test, naming the file and the import.

use std::path::{Path, PathBuf};

/// Top-level modules by layer, lowest first.
const LAYERS: &[(&str, &[&str])] = &[
    (
        "foundations",
        &[
            "bindings",
            "value",
            "wave",
            "dynamic",
            "oplog",
            "wit",
            "compat",
            "inspect",
            "guest",
            "engine",
            "sync",
            "scheduler",
            "recording",
            "collector",
            "ids",
            "data",
            "sdk_data",
            "http_stubs",
            "error",
        ],
    ),
    ("journal", &["journal"]),
    ("host", &["host"]),
    ("runtime", &["runtime"]),
    ("environment", &["environment", "plugins", "verify"]),
];

/// Longest file the testkit's layout allows.
const MAX_LINES: usize = 600;

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|(_, modules)| modules.contains(&module))
}

/// Every `.rs` file under `dir`.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).expect("read a source folder") {
            let path = entry.expect("a folder entry").path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// The top-level module a file belongs to (`host/rpc.rs` → `host`,
/// `ids.rs` → `ids`); `None` for the crate root.
fn module_of(root: &Path, file: &Path) -> Option<String> {
    let relative = file.strip_prefix(root).expect("under the root");
    let first = relative.components().next()?.as_os_str().to_string_lossy().into_owned();
    match first.strip_suffix(".rs") {
        Some("lib") => None,
        Some(stem) => Some(stem.to_string()),
        None => Some(first),
    }
}

/// The modules named by `crate::` paths in `source`, with their line
/// numbers; comments are left out (doc links are not imports).
fn crate_paths(source: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    for (number, line) in source.lines().enumerate() {
        let code = line.split("//").next().unwrap_or("");
        let mut rest = code;
        while let Some(at) = rest.find("crate::") {
            let before = rest[..at].chars().next_back();
            let after = &rest[at + "crate::".len()..];
            // `$crate::` in macros and `reprise_testkit::` are paths too;
            // only identifiers ending in `crate` itself are not.
            let is_path = before.is_none_or(|c| !(c.is_alphanumeric() || c == '_'));
            let name: String = after.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
            if is_path && !name.is_empty() {
                found.push((number + 1, name));
            } else if is_path && after.starts_with('{') {
                // `use crate::{a, b::c}`: every module in the group.
                let group = after[1..].split('}').next().unwrap_or("");
                for item in group.split(',') {
                    let name: String = item.trim().chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
                    if !name.is_empty() {
                        found.push((number + 1, name));
                    }
                }
            }
            rest = after;
        }
    }
    found
}

/// Every import of a higher layer under `root` (a crate's `src`), and every
/// module missing from the table, as messages.
fn violations(root: &Path) -> Vec<String> {
    let mut problems = Vec::new();
    for file in rust_files(root) {
        let Some(module) = module_of(root, &file) else { continue };
        let shown = file.strip_prefix(root).expect("under the root").display().to_string();
        let Some(own) = layer_of(&module) else {
            problems.push(format!("{shown}: module `{module}` is in no layer; add it to the table in this test"));
            continue;
        };
        let source = std::fs::read_to_string(&file).expect("read a source file");
        for (line, target) in crate_paths(&source) {
            match layer_of(&target) {
                Some(layer) if layer > own => problems.push(format!(
                    "{shown}:{line}: `{module}` (layer {}, {}) imports `crate::{target}` from layer {} ({})",
                    own + 1,
                    LAYERS[own].0,
                    layer + 1,
                    LAYERS[layer].0
                )),
                // Items re-exported at the crate root (`crate::Agent`) sit
                // above every layer.
                None if target.chars().next().is_some_and(char::is_uppercase) => problems.push(format!(
                    "{shown}:{line}: `{module}` (layer {}, {}) names `crate::{target}` (the crate root's re-export); name the module it lives in",
                    own + 1,
                    LAYERS[own].0
                )),
                _ => {}
            }
        }
    }
    problems
}

#[test]
fn every_module_imports_only_from_its_own_layer_or_below() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let problems = violations(&root);
    assert!(problems.is_empty(), "upward imports in testkit/src:\n{}", problems.join("\n"));
}

#[test]
fn an_upward_import_is_reported_with_its_file_and_line() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/layers/src");
    let problems = violations(&root);
    assert_eq!(
        problems,
        [
            "host/rpc.rs:3: `host` (layer 3, host) imports `crate::runtime` from layer 4 (runtime)",
            "host/rpc.rs:7: `host` (layer 3, host) imports `crate::environment` from layer 5 (environment)",
            "host/rpc.rs:9: `host` (layer 3, host) names `crate::Agent` (the crate root's re-export); name the module it lives in",
            "surprise.rs: module `surprise` is in no layer; add it to the table in this test",
        ]
    );
}

#[test]
fn no_file_is_longer_than_the_layout_allows() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let long: Vec<String> = rust_files(&root)
        .into_iter()
        .filter_map(|file| {
            let lines = std::fs::read_to_string(&file).expect("read a source file").lines().count();
            (lines > MAX_LINES).then(|| format!("{}: {lines} lines", file.display()))
        })
        .collect();
    assert!(long.is_empty(), "files longer than {MAX_LINES} lines:\n{}", long.join("\n"));
}
