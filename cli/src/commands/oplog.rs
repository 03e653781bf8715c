//! `reprise oplog FILE.oplog`: a file-backed oplog as text, JSON or HTML.
//! The file is only read, never repaired: damage is reported, not cut off.

use std::path::Path;
use std::process::ExitCode;

use reprise_testkit::oplog::Oplog;

use crate::error::CliError;
use crate::oplog_view::{self, Page, Timeline};
use crate::{CliResult, OplogFormat};

pub fn run(file: &Path, format: OplogFormat, output: Option<(&Path, bool)>) -> CliResult {
    if let Some((path, force)) = output {
        crate::outputs::check(path, &[file], force)?;
    }
    let output = output.map(|(path, _)| path);
    let (entries, damage) = Oplog::read_file(file).map_err(|e| {
        let hint = if file.exists() {
            "oplog files are written by `reprise run --oplog-file` or the testkit's `Oplog::create_file`"
        } else {
            "check the path"
        };
        CliError::input(format!("cannot read the oplog: {e}")).hint(hint)
    })?;
    // Entries found after damage are shown apart: they cannot be replayed.
    let salvaged = damage.as_ref().map(|d| d.salvaged.as_slice()).unwrap_or_default();
    let text = match format {
        OplogFormat::Text => {
            let mut text = oplog_view::text(&entries);
            if let Some(damage) = damage.as_ref().filter(|d| !d.salvaged.is_empty()) {
                text.push_str(&format!(
                    "----- damaged at entry {}; sound entries found after the damage (not replayable):\n",
                    damage.index
                ));
                text.push_str(&oplog_view::salvaged_text(salvaged));
            }
            text
        }
        OplogFormat::Json => {
            let json = oplog_view::json_with_salvaged(&entries, salvaged);
            let mut json = serde_json::to_string_pretty(&json).unwrap_or_default();
            json.push('\n');
            json
        }
        OplogFormat::Html => {
            let mut timelines = vec![Timeline::plain(file.display().to_string(), &entries)];
            if !salvaged.is_empty() {
                timelines.push(Timeline::salvaged("found after the damage (not replayable)", salvaged));
            }
            oplog_view::html(&Page {
                title: format!("oplog {}", file.display()),
                ok: None,
                summary: vec![("entries".to_string(), entries.len().to_string())],
                timelines,
                failures: damage.iter().map(|d| d.to_string()).collect(),
            })
        }
    };
    match output {
        Some(path) => std::fs::write(path, text).map_err(|e| {
            CliError::input(format!("cannot write {}: {e}", path.display())).hint("check that the folder exists")
        })?,
        None => print!("{text}"),
    }
    if let Some(damage) = damage {
        // Intact entries were printed; the damage is the exit status.
        eprintln!("warning: {damage}");
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}
