//! The templates as a new user meets them: `reprise new`, `reprise build`,
//! `cargo test` in the new project, `reprise crash-test` on what it built.
//! A template that stops building or testing fails here.
#![allow(clippy::unwrap_used, clippy::panic)]

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use support::{arg, repo, reprise_in};

/// Where generated projects build: the workspace's own target folder (cargo
/// does not hold its lock while tests run), so the native testkit's
/// dependencies compiled for this workspace's tests are reused.
fn target_dir() -> PathBuf {
    let root = std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| repo().join("target"));
    if root.is_absolute() { root } else { repo().join(root) }
}

/// Run `reprise` in `dir` with the shared target folder. `reprise build`
/// writes where the project's own tests build the component (the testkit's
/// guest builder uses `<target>/reprise-guests`), so it is built once.
fn reprise(dir: &Path, args: &[&str]) -> support::Run {
    support::reprise_with_env(dir, args, &[("CARGO_TARGET_DIR", &target_dir().join("reprise-guests"))])
}

/// `cargo test` in a generated project; returns its output.
fn cargo_test(project: &Path) -> String {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.args(["test", "--manifest-path"]).arg(project.join("Cargo.toml")).env("CARGO_TARGET_DIR", target_dir());
    // The outer test's build settings are not the project's.
    for var in ["RUSTFLAGS", "CARGO_ENCODED_RUSTFLAGS", "CARGO_BUILD_TARGET", "RUSTC_WRAPPER"] {
        cmd.env_remove(var);
    }
    let out = cmd.output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "cargo test in {} failed:\n{text}", project.display());
    text
}

#[test]
fn the_agent_template_builds_tests_and_crash_tests() {
    let dir = tempfile::tempdir().unwrap();
    let created = reprise_in(dir.path(), &["new", "agent", "todo-list"]).code(0);
    let project = dir.path().join("todo-list");
    // From a checkout, the project builds where `reprise` was built, so its
    // first `cargo test` reuses the testkit compiled there.
    let shared = target_dir().canonicalize().unwrap();
    if shared.starts_with(repo().canonicalize().unwrap()) {
        let config = std::fs::read_to_string(project.join(".cargo/config.toml")).unwrap();
        assert!(config.contains(&format!("target-dir = '{}'", shared.display())), "{config}");
        assert!(created.stdout.contains("reusing the testkit compiled there"), "{}", created.stdout);
    }
    for file in ["Cargo.toml", "README.md", "golem.yaml", "crash-test.script", "src/lib.rs", "tests/crash_test.rs"] {
        assert!(project.join(file).is_file(), "{file}");
    }
    assert!(!project.join("cargo-generate.toml").exists(), "only for cargo-generate");

    // The first `cargo test`, as a user runs it before anything else: the
    // guest build inside it is not silent.
    let output = cargo_test(&project);
    assert!(output.contains("test the_task_list_survives_a_crash_at_every_oplog_index ... ok"), "{output}");
    assert!(output.contains("test adding_an_empty_task_is_refused ... ok"), "{output}");
    assert!(output.contains("] building guest todo-list for wasm32-wasip2"), "{output}");
    assert!(output.contains("guest todo-list: built,"), "{output}");

    let run = reprise(&project, &["build"]).code(0);
    assert!(run.stdout.contains("every import is provided by Golem 1.5"), "{}", run.stdout);
    assert!(run.stdout.contains("agent type TaskList"), "{}", run.stdout);
    assert!(run.stdout.contains("add(title: string) -> result<u32, string>"), "{}", run.stdout);
    let wasm = target_dir().join("reprise-guests/wasm32-wasip2/release/todo_list.wasm");
    assert!(run.stdout.contains(&format!("built {}", wasm.display())), "{}", run.stdout);

    let run = reprise(&project, &["crash-test", arg(&wasm), "crash-test.script"]).code(0);
    assert!(run.stdout.contains("every crashed run recovered"), "{}", run.stdout);
}

#[test]
fn the_plugin_template_builds_and_tests() {
    let dir = tempfile::tempdir().unwrap();
    reprise_in(dir.path(), &["new", "plugin", "entry-counter"]).code(0);
    let project = dir.path().join("entry-counter");
    for file in
        ["Cargo.toml", "README.md", "golem-plugin.yaml", "icon.png", "plugin.json", "src/lib.rs", "tests/delivery.rs"]
    {
        assert!(project.join(file).is_file(), "{file}");
    }
    // `plugin.json` names the component under the project's own `target/`.
    assert!(!project.join(".cargo/config.toml").exists(), "a plugin builds in its own target folder");
    let run = reprise(&project, &["build"]).code(0);
    assert!(run.stdout.contains("oplog-processor plugin: exports golem:api/oplog-processor@1.5.0"), "{}", run.stdout);

    let output = cargo_test(&project);
    assert!(output.contains("test the_counts_match_the_agents_oplog ... ok"), "{output}");
    assert!(output.contains("test the_plugin_survives_a_crash_at_every_oplog_index ... ok"), "{output}");

    // The manifest names the component `reprise build` wrote.
    let manifest = std::fs::read_to_string(project.join("plugin.json")).unwrap();
    let built = target_dir().join("reprise-guests/wasm32-wasip2/release/entry_counter.wasm");
    std::fs::create_dir_all(project.join("target/wasm32-wasip2/release")).unwrap();
    std::fs::copy(&built, project.join("target/wasm32-wasip2/release/entry_counter.wasm")).unwrap();
    assert!(manifest.contains("target/wasm32-wasip2/release/entry_counter.wasm"), "{manifest}");
    let run = reprise(&project, &["plugins", "."]).code(0);
    assert!(run.stdout.contains("loaded   entry-counter 0.1.0  sha256 "), "{}", run.stdout);
}
