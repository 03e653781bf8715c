//! Shared by the CLI's end-to-end tests: the built `reprise` binary and the
//! components it is pointed at.
#![allow(dead_code, clippy::unwrap_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use reprise_testkit::guest::GuestBuild;

/// The repository root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// `examples/<name>` built for wasm32-wasip2 (the profile the other tests use,
/// so the build is shared).
pub fn example(name: &str) -> PathBuf {
    GuestBuild::new(repo().join("examples").join(name))
        .profile("guest")
        .build()
        .unwrap_or_else(|e| panic!("building examples/{name}: {e}"))
}

/// `examples/<name>` built with one of its features (a later revision).
pub fn example_with(name: &str, feature: &str) -> PathBuf {
    GuestBuild::new(repo().join("examples").join(name))
        .profile("guest")
        .feature(feature)
        .build()
        .unwrap_or_else(|e| panic!("building examples/{name} with {feature}: {e}"))
}

/// The probe test agent (it has a method that replays differently on purpose).
pub fn probe() -> PathBuf {
    GuestBuild::new(repo().join("tests/guests/probe")).profile("guest").build().unwrap_or_else(|e| panic!("{e}"))
}

/// The probe built with one of its features.
pub fn probe_with(feature: &str) -> PathBuf {
    GuestBuild::new(repo().join("tests/guests/probe"))
        .profile("guest")
        .feature(feature)
        .build()
        .unwrap_or_else(|e| panic!("{e}"))
}

/// What a run of the binary printed, and how it exited.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    fn from(out: Output) -> Run {
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Asserts the exit code, then returns the run for further checks.
    pub fn code(self, code: i32) -> Run {
        assert_eq!(self.code, code, "exit code\nstdout:\n{}\nstderr:\n{}", self.stdout, self.stderr);
        self
    }

    /// Asserts a failure reported as one `error:` line plus one `hint:` line
    /// mentioning `message`.
    pub fn error(self, code: i32, message: &str) -> Run {
        let run = self.code(code);
        let lines: Vec<&str> = run.stderr.lines().collect();
        assert!(lines.first().is_some_and(|l| l.starts_with("error: ")), "stderr:\n{}", run.stderr);
        assert!(run.stderr.contains(message), "expected `{message}` in stderr:\n{}", run.stderr);
        assert!(lines.iter().any(|l| l.starts_with("hint: ")), "no hint in:\n{}", run.stderr);
        run
    }
}

/// Run `reprise` with `args` in `dir`.
pub fn reprise_in(dir: &Path, args: &[&str]) -> Run {
    reprise_with_env(dir, args, &[])
}

/// Run `reprise` with `args` in `dir`, with extra environment variables.
pub fn reprise_with_env(dir: &Path, args: &[&str], vars: &[(&str, &Path)]) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_reprise"));
    cmd.args(args).current_dir(dir);
    for (name, value) in vars {
        cmd.env(name, value);
    }
    Run::from(cmd.output().unwrap())
}

/// Run `reprise` with `args` in the repository root.
pub fn reprise(args: &[&str]) -> Run {
    reprise_in(&repo(), args)
}

/// A path as a string argument.
pub fn arg(path: &Path) -> &str {
    path.to_str().unwrap()
}
