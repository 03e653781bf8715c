//! Building guest crates for `wasm32-wasip2` from tests.
//!
//! ```no_run
//! use reprise_testkit::guest::GuestBuild;
//!
//! let wasm = GuestBuild::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/smoke"))
//!     .profile("release")
//!     .build()?;
//! assert!(wasm.extension().is_some_and(|e| e == "wasm"));
//! # Ok::<(), reprise_testkit::guest::GuestBuildError>(())
//! ```
//!
//! The build runs `cargo build --target wasm32-wasip2` with a target directory
//! of its own (`<workspace target dir>/reprise-guests`), so that guest builds
//! and host builds (another cargo started meanwhile) never wait on each other's
//! lock. Cargo runs in the crate's folder, so the crate's own
//! `.cargo/config.toml` applies (its `target-dir`, for one), as it would for
//! `cargo build` there. Results are cached per process, and cargo's own
//! freshness check makes a repeated build in a new process take milliseconds.

use std::collections::HashMap;
use std::fmt;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::Instant;

use crate::sync::lock;

/// The target guests are built for.
pub const GUEST_TARGET: &str = "wasm32-wasip2";

/// A guest crate to build.
#[derive(Debug, Clone)]
pub struct GuestBuild {
    crate_dir: PathBuf,
    profile: String,
    features: Vec<String>,
}

/// Why a guest build failed.
#[derive(Debug)]
pub enum GuestBuildError {
    /// The crate directory has no `Cargo.toml`.
    NoManifest(PathBuf),
    /// `cargo` could not be started.
    Spawn(std::io::Error),
    /// The `wasm32-wasip2` target is not installed.
    TargetMissing,
    /// cargo reported errors; its rendered diagnostics are included.
    Failed {
        /// The crate.
        crate_dir: PathBuf,
        /// cargo's stderr and rendered compiler messages.
        output: String,
    },
    /// cargo succeeded but produced no `.wasm` for the crate (for example a
    /// library crate without `crate-type = ["cdylib"]`).
    NoArtifact(PathBuf),
}

impl fmt::Display for GuestBuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GuestBuildError::NoManifest(dir) => write!(f, "no Cargo.toml in {}", dir.display()),
            GuestBuildError::Spawn(e) => write!(f, "could not run cargo: {e}"),
            GuestBuildError::TargetMissing => {
                write!(f, "the {GUEST_TARGET} target is not installed; run `rustup target add {GUEST_TARGET}`")
            }
            GuestBuildError::Failed { crate_dir, output } => {
                write!(f, "building {} for {GUEST_TARGET} failed:\n{output}", crate_dir.display())
            }
            GuestBuildError::NoArtifact(dir) => write!(
                f,
                "building {} produced no .wasm file; a guest library needs `crate-type = [\"cdylib\"]`",
                dir.display()
            ),
        }
    }
}

impl std::error::Error for GuestBuildError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            GuestBuildError::Spawn(e) => Some(e),
            _ => None,
        }
    }
}

impl GuestBuild {
    /// Build the crate in `crate_dir` (the folder holding its `Cargo.toml`),
    /// with the `release` profile by default.
    pub fn new(crate_dir: impl AsRef<Path>) -> Self {
        GuestBuild { crate_dir: normalize(crate_dir.as_ref()), profile: "release".into(), features: Vec::new() }
    }

    /// Use another cargo profile (it must exist in the crate's workspace).
    pub fn profile(mut self, profile: impl Into<String>) -> Self {
        self.profile = profile.into();
        self
    }

    /// Enable a cargo feature of the crate.
    pub fn feature(mut self, feature: impl Into<String>) -> Self {
        self.features.push(feature.into());
        self
    }

    /// Build (once per process for the same crate, profile and features) and
    /// return the path of the `.wasm` component.
    pub fn build(&self) -> Result<PathBuf, GuestBuildError> {
        static BUILT: OnceLock<Mutex<HashMap<String, PathBuf>>> = OnceLock::new();
        let key = format!("{}|{}|{}", self.crate_dir.display(), self.profile, self.features.join(","));
        // Holding the lock across the build also keeps parallel tests of one
        // process from starting the same cargo build several times.
        let mut built = lock(BUILT.get_or_init(Default::default));
        if let Some(path) = built.get(&key) {
            return Ok(path.clone());
        }
        let path = self.run_cargo()?;
        built.insert(key, path.clone());
        Ok(path)
    }

    fn run_cargo(&self) -> Result<PathBuf, GuestBuildError> {
        let manifest = self.crate_dir.join("Cargo.toml");
        if !manifest.is_file() {
            return Err(GuestBuildError::NoManifest(self.crate_dir.clone()));
        }
        let meta = metadata(&manifest)?;
        let target_dir = guest_target_dir(&manifest, &meta)?;
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let mut cmd = Command::new(cargo);
        // From the crate's folder, so that its own `.cargo/config.toml` applies.
        cmd.current_dir(&self.crate_dir)
            .args(build_command_of(&manifest, &meta))
            .arg("--manifest-path")
            .arg(&manifest)
            .args(["--target", GUEST_TARGET, "--profile", &self.profile])
            .arg("--message-format=json-render-diagnostics")
            .env("CARGO_TARGET_DIR", &target_dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if !self.features.is_empty() {
            cmd.arg("--features").arg(self.features.join(","));
        }
        // Flags meant for the host build (coverage, sanitizers, the outer
        // cargo's target) must not leak into the guest build.
        for var in
            ["RUSTFLAGS", "CARGO_ENCODED_RUSTFLAGS", "CARGO_BUILD_TARGET", "CARGO_BUILD_RUSTFLAGS", "RUSTC_WRAPPER"]
        {
            cmd.env_remove(var);
        }
        let mut child = cmd.spawn().map_err(GuestBuildError::Spawn)?;
        // cargo's stderr is read beside its stdout, so neither pipe fills up.
        let stderr_reader = child.stderr.take().map(|mut pipe| {
            std::thread::spawn(move || {
                let mut bytes = Vec::new();
                let _ = pipe.read_to_end(&mut bytes);
                bytes
            })
        });
        let mut progress = BuildProgress::new(&self.crate_dir, &self.profile);
        let mut stdout = String::new();
        if let Some(pipe) = child.stdout.take() {
            for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                progress.saw(&line);
                stdout.push_str(&line);
                stdout.push('\n');
            }
        }
        let status = child.wait().map_err(GuestBuildError::Spawn)?;
        let stderr_bytes = stderr_reader.and_then(|reader| reader.join().ok()).unwrap_or_default();
        let stderr = String::from_utf8_lossy(&stderr_bytes);
        progress.done(status.success());
        if !status.success() {
            if stderr.contains("target may not be installed") || stderr.contains("can't find crate for `core`") {
                return Err(GuestBuildError::TargetMissing);
            }
            let mut text = rendered_messages(&stdout);
            text.push_str(&stderr);
            return Err(GuestBuildError::Failed { crate_dir: self.crate_dir.clone(), output: text });
        }
        let built =
            wasm_artifact(&stdout, &manifest).ok_or_else(|| GuestBuildError::NoArtifact(self.crate_dir.clone()))?;
        // Builds of one crate with other features overwrite the same file:
        // hand out a copy named after this build's settings.
        let stem = built.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        let mut name = format!("{stem}.{}", self.profile);
        for feature in &self.features {
            name.push('.');
            name.push_str(&feature.replace(|c: char| !c.is_ascii_alphanumeric() && c != '-', "_"));
        }
        let copy = target_dir.join("artifacts").join(format!("{name}.wasm"));
        let copied = std::fs::create_dir_all(target_dir.join("artifacts")).and_then(|()| {
            // Write to a temporary name first so a concurrent reader never sees half a file.
            let tmp = copy.with_extension(format!("wasm.{}", std::process::id()));
            std::fs::copy(&built, &tmp)?;
            std::fs::rename(&tmp, &copy)
        });
        copied.map_err(|e| GuestBuildError::Failed {
            crate_dir: self.crate_dir.clone(),
            output: format!("copying {} to {}: {e}", built.display(), copy.display()),
        })?;
        Ok(copy)
    }
}

/// Lines on stderr while a guest build compiles something, so that a first
/// `cargo test` does not sit silent: which guest, how many crates so far, and
/// how long it took. Written to the process's stderr itself, which a test's
/// output capture does not hold back; nothing is written when cargo finds
/// the build fresh.
struct BuildProgress {
    guest: String,
    profile: String,
    compiled: usize,
    started: Instant,
}

/// Crates compiled between two progress lines.
const PROGRESS_EVERY: usize = 25;

impl BuildProgress {
    fn new(crate_dir: &Path, profile: &str) -> Self {
        let guest = crate_dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        BuildProgress { guest, profile: profile.to_string(), compiled: 0, started: Instant::now() }
    }

    /// A line of cargo's JSON output.
    fn saw(&mut self, line: &str) {
        if !line.contains("\"compiler-artifact\"") || line.contains("\"fresh\":true") {
            return;
        }
        self.compiled += 1;
        if self.compiled == 1 {
            self.say(&format!("building guest {} for wasm32-wasip2 (profile {})", self.guest, self.profile));
        } else if self.compiled.is_multiple_of(PROGRESS_EVERY) {
            self.say(&format!("guest {}: {} crates compiled", self.guest, self.compiled));
        }
    }

    fn done(&self, ok: bool) {
        if self.compiled > 0 {
            let how = if ok { "built" } else { "failed" };
            self.say(&format!("guest {}: {how}, {} crates compiled", self.guest, self.compiled));
        }
    }

    fn say(&self, what: &str) {
        let line = format!("   [reprise-testkit {:>5.1}s] {what}\n", self.started.elapsed().as_secs_f64());
        let _ = std::io::stderr().write_all(line.as_bytes());
    }
}

/// `<target dir of the crate's workspace>/reprise-guests`, from the
/// crate's `cargo metadata`.
fn guest_target_dir(manifest: &Path, meta: &serde_json::Value) -> Result<PathBuf, GuestBuildError> {
    if let Some(dir) = std::env::var_os("REPRISE_GUEST_TARGET_DIR") {
        return Ok(PathBuf::from(dir));
    }
    let target = meta["target_directory"].as_str().ok_or_else(|| GuestBuildError::Failed {
        crate_dir: manifest.to_owned(),
        output: "`cargo metadata` reported no target directory".into(),
    })?;
    Ok(Path::new(target).join("reprise-guests"))
}

/// The cargo subcommand and arguments that build the component of the crate
/// whose manifest is `manifest`: `build`, or, for a library that is also an
/// `rlib` (so that its tests can use its types), `rustc --lib --crate-type
/// cdylib`. Cargo does not run link-time optimisation for a library built as
/// both, which would leave the component a sixth larger.
pub fn component_build_command(manifest: &Path) -> Result<Vec<&'static str>, GuestBuildError> {
    Ok(build_command_of(manifest, &metadata(manifest)?))
}

/// [`component_build_command`] from the crate's `cargo metadata`.
fn build_command_of(manifest: &Path, meta: &serde_json::Value) -> Vec<&'static str> {
    let manifest = manifest.canonicalize().unwrap_or_else(|_| manifest.to_path_buf());
    let both = meta["packages"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|p| p["manifest_path"].as_str().map(Path::new) == Some(manifest.as_path()))
        .flat_map(|p| p["targets"].as_array().cloned().unwrap_or_default())
        .any(|t| {
            let types: Vec<&str> =
                t["crate_types"].as_array().into_iter().flatten().filter_map(|c| c.as_str()).collect();
            types.contains(&"cdylib") && types.contains(&"rlib")
        });
    if both { vec!["rustc", "--lib", "--crate-type", "cdylib"] } else { vec!["build"] }
}

fn metadata(manifest: &Path) -> Result<serde_json::Value, GuestBuildError> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    // From the crate's folder, so that its own `.cargo/config.toml` applies
    // (an absolute manifest path keeps meaning the same file there).
    let manifest = &normalize(manifest);
    let out = Command::new(cargo)
        .current_dir(manifest.parent().unwrap_or(Path::new(".")))
        .args(["metadata", "--format-version", "1", "--no-deps", "--offline", "--manifest-path"])
        .arg(manifest)
        .output()
        .map_err(GuestBuildError::Spawn)?;
    let failed = |output: String| GuestBuildError::Failed { crate_dir: manifest.to_owned(), output };
    if !out.status.success() {
        return Err(failed(String::from_utf8_lossy(&out.stderr).into_owned()));
    }
    serde_json::from_slice(&out.stdout).map_err(|e| failed(format!("unreadable `cargo metadata` output: {e}")))
}

/// The `.wasm` file cargo reported for the crate whose manifest is `manifest`.
fn wasm_artifact(json_lines: &str, manifest: &Path) -> Option<PathBuf> {
    json_lines
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|msg| msg["reason"] == "compiler-artifact")
        .filter(|msg| msg["manifest_path"].as_str().is_some_and(|p| normalize(Path::new(p)) == manifest))
        .flat_map(|msg| {
            msg["filenames"]
                .as_array()
                .map(|files| files.iter().filter_map(|f| f.as_str().map(PathBuf::from)).collect::<Vec<_>>())
                .unwrap_or_default()
        })
        .find(|f| f.extension().is_some_and(|e| e == "wasm"))
}

/// Compiler messages cargo printed as JSON, in their rendered (human) form.
fn rendered_messages(json_lines: &str) -> String {
    json_lines
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|msg| msg["reason"] == "compiler-message")
        .filter_map(|msg| msg["message"]["rendered"].as_str().map(str::to_owned))
        .collect()
}

fn normalize(path: &Path) -> PathBuf {
    path.canonicalize().unwrap_or_else(|_| path.to_owned())
}
