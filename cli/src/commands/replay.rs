//! `reprise replay FILE.wasm OPLOG...`: replay recorded oplogs with a
//! component's code, the check before deploying it to running agents.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use reprise_testkit::verify::{ReplayOutcome, replay_file};

use super::load;
use crate::CliResult;
use crate::terminal::safe;

pub fn run(file: &Path, oplogs: &[PathBuf]) -> CliResult {
    let (env, component) = load(file)?;
    let mut failed = 0;
    for path in oplogs {
        let outcome = replay_file(&env, &component, path);
        if !matches!(outcome, ReplayOutcome::Replayed { .. }) {
            failed += 1;
        }
        println!("{}: {}", path.display(), safe(&outcome.to_string()));
    }
    let total = oplogs.len();
    if failed == 0 {
        println!("every oplog replays with {}: agents with these histories survive the update", file.display());
        Ok(ExitCode::SUCCESS)
    } else {
        println!("{failed} of {total} oplog(s) do not replay with {}", file.display());
        Ok(ExitCode::from(1))
    }
}
