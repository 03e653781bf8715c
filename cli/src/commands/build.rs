//! `reprise build [PATH]`: `cargo build --target wasm32-wasip2`, then the
//! Golem 1.5 import check and what the component exports.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};

use reprise_testkit::inspect::inspect_file;

use super::{PROCESSOR_INTERFACE, describe_agent_type, load};
use crate::CliResult;
use crate::error::CliError;

const TARGET: &str = "wasm32-wasip2";

pub fn run(path: &Path, profile: &str) -> CliResult {
    let manifest = path.join("Cargo.toml");
    if !manifest.is_file() {
        return Err(CliError::input(format!("no Cargo.toml in {}", path.display()))
            .hint("run it in a crate's folder, or create one with `reprise new agent NAME`"));
    }
    ensure_target()?;
    let wasm = cargo_build(&manifest, profile)?;
    let info = inspect_file(&wasm).map_err(|e| CliError::loading(&wasm, reprise_testkit::Error::Inspect(e)))?;
    println!("built {} ({} bytes)", wasm.display(), info.size);
    if let Err(e) = info.check_golem_imports() {
        return Err(CliError::failed(format!("{} cannot run on Golem 1.5: {e}", wasm.display()))
            .hint("remove the dependency that imports it, or use the Reprise SDK's interfaces instead"));
    }
    println!("every import is provided by Golem 1.5");
    let (_env, component) = load(&wasm)?;
    if info.exports_interface(PROCESSOR_INTERFACE) {
        println!("oplog-processor plugin: exports {PROCESSOR_INTERFACE}");
    }
    let types = component.agent_types().map_err(|e| CliError::failed(e.to_string()))?;
    for t in types {
        println!("{}", describe_agent_type(t));
    }
    if types.is_empty() && !info.exports_interface(PROCESSOR_INTERFACE) {
        let exports: Vec<String> = info.exports.iter().map(ToString::to_string).collect();
        println!("exports: {}", if exports.is_empty() { "no interfaces".to_string() } else { exports.join(", ") });
    }
    Ok(ExitCode::SUCCESS)
}

/// Install the wasm32-wasip2 target with rustup when it is missing.
fn ensure_target() -> Result<(), CliError> {
    let rustup = std::env::var_os("RUSTUP").unwrap_or_else(|| "rustup".into());
    let installed = Command::new(&rustup).args(["target", "list", "--installed"]).output();
    let installed = match installed {
        Ok(out) if out.status.success() => String::from_utf8_lossy(&out.stdout).lines().any(|l| l.trim() == TARGET),
        // Without rustup, cargo's own error says whether the target is there.
        _ => return Ok(()),
    };
    if installed {
        return Ok(());
    }
    eprintln!("installing the {TARGET} target: rustup target add {TARGET}");
    let status = Command::new(&rustup).args(["target", "add", TARGET]).status();
    match status {
        Ok(s) if s.success() => Ok(()),
        _ => Err(CliError::failed(format!("could not install the {TARGET} target"))
            .hint(format!("run `rustup target add {TARGET}` yourself and try again"))),
    }
}

/// Run cargo (its progress and diagnostics go to the terminal) and return
/// the component it wrote.
fn cargo_build(manifest: &Path, profile: &str) -> Result<PathBuf, CliError> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let command = reprise_testkit::guest::component_build_command(manifest).map_err(|e| {
        CliError::failed(format!("cannot read the crate's manifest: {e}")).hint("run `cargo metadata` to see why")
    })?;
    let output = Command::new(cargo)
        .args(command)
        .arg("--manifest-path")
        .arg(manifest)
        .args(["--target", TARGET, "--profile", profile, "--message-format=json-render-diagnostics"])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| CliError::failed(format!("cannot run cargo: {e}")).hint("install Rust with rustup"))?;
    if !output.status.success() {
        return Err(
            CliError::failed(format!("cargo build --target {TARGET} failed")).hint("the compiler's messages are above")
        );
    }
    let manifest = manifest.canonicalize().unwrap_or_else(|_| manifest.to_path_buf());
    // The artifact of the package itself (not of its dependencies).
    let stdout = String::from_utf8_lossy(&output.stdout);
    stdout
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|m| m["reason"] == "compiler-artifact")
        .filter(|m| m["manifest_path"].as_str().map(Path::new) == Some(manifest.as_path()))
        .flat_map(|m| m["filenames"].as_array().cloned().unwrap_or_default())
        .filter_map(|f| f.as_str().map(PathBuf::from))
        .rfind(|f| f.extension().is_some_and(|e| e == "wasm"))
        .ok_or_else(|| {
            CliError::failed("cargo built no .wasm file")
                .hint("a component crate needs `crate-type = [\"cdylib\"]` under [lib]")
        })
}
