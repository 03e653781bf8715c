//! `reprise plugins DIR`: load plugin manifests, report each, and with
//! `--serve ADDR` run the plugin host behind a small HTTP API on loopback.

mod guard;
mod server;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use reprise_testkit::Environment;
use reprise_testkit::plugins::PluginSettings;
use reprise_testkit::plugins::directory::{ManifestOutcome, ManifestReport};
use serde_json::{Value as Json, json};

use self::guard::Guard;
use self::server::Server;
use crate::CliResult;
use crate::error::CliError;

/// How `--serve` serves.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// The loopback address, as given.
    pub addr: String,
    /// A file holding the bearer token every request must carry.
    pub token_file: Option<PathBuf>,
    /// Component files outside the plugin folder the API may load.
    pub allow: Vec<PathBuf>,
    /// Most linear memory, in MiB, the served agents may hold together.
    pub total_memory_mib: usize,
    /// How often Golem's flush timer ticks.
    pub flush_interval: std::time::Duration,
}

pub fn run(dir: &Path, serve: Option<&ServeOptions>, as_json: bool) -> CliResult {
    if !dir.is_dir() {
        return Err(CliError::input(format!("{} is not a folder", dir.display()))
            .hint("pass the folder holding the plugin manifests (*.json or */plugin.json)"));
    }
    // Check the serving options before loading anything: a typo fails fast.
    let serving =
        serve.map(|options| Ok::<_, CliError>((super::loopback_addr(&options.addr)?, options))).transpose()?;
    let token = match serving.and_then(|(_, o)| o.token_file.as_deref()) {
        Some(path) => Some(guard::read_token(path)?),
        None => None,
    };
    let allowed = match serving {
        Some((_, options)) => allowed_components(&options.allow)?,
        None => Vec::new(),
    };
    let mut builder = Environment::builder();
    if let Some((_, options)) = serving {
        builder = builder.total_memory_limit(options.total_memory_mib.saturating_mul(1 << 20));
    }
    let env = builder.build().map_err(|e| CliError::failed(format!("cannot start the testkit host: {e}")))?;
    if let Some((_, options)) = serving {
        env.set_plugin_settings(PluginSettings { flush_interval: options.flush_interval, ..env.plugin_settings() });
    }
    let (directory, reports) = env.load_plugin_directory(dir).map_err(|e| {
        CliError::input(format!("cannot read {}: {e}", dir.display())).hint("check the folder's permissions")
    })?;
    if as_json {
        println!(
            "{}",
            serde_json::to_string_pretty(&Json::Array(reports.iter().map(report_json).collect())).unwrap_or_default()
        );
    } else {
        if reports.is_empty() {
            println!("no plugin manifests in {} (looked for *.json and */plugin.json)", dir.display());
        }
        for report in &reports {
            println!("{}", report_line(report));
        }
    }
    let rejected = reports.iter().any(|r| matches!(r.outcome, ManifestOutcome::Rejected { .. }));
    let Some((addr, _)) = serving else {
        return Ok(if rejected { ExitCode::from(1) } else { ExitCode::SUCCESS });
    };
    let root = dir.canonicalize().map_err(|e| CliError::input(format!("cannot read {}: {e}", dir.display())))?;
    // Golem's flush timer: what agents committed since reaches their plugins.
    let timer_env = env.clone();
    let interval = timer_env.plugin_settings().flush_interval;
    std::thread::spawn(move || {
        loop {
            std::thread::sleep(interval);
            if let Err(e) = timer_env.flush_plugins() {
                eprintln!("plugin flush: {e}");
            }
        }
    });
    let server = Server::new(env, root, allowed, &reports);
    // Hot updates while serving: changed components are swapped in, deleted
    // ones removed, and the listing follows.
    let watched = directory.watch().map_err(|e| CliError::failed(e.to_string()))?;
    let watcher_state = server.clone();
    std::thread::spawn(move || {
        while let Ok(report) = watched.reports().recv() {
            println!("{}", report_line(&report));
            watcher_state.manifest_changed(report);
        }
    });
    server::serve_http(addr, server, token)
}

/// The `--allow` files, resolved; each must be a file.
fn allowed_components(paths: &[PathBuf]) -> Result<Vec<PathBuf>, CliError> {
    paths
        .iter()
        .map(|path| {
            let resolved = path.canonicalize().map_err(|e| {
                CliError::input(format!("--allow {}: {e}", path.display()))
                    .hint("--allow names one component file the API may load")
            })?;
            if resolved.is_file() {
                Ok(resolved)
            } else {
                Err(CliError::input(format!("--allow {}: not a file", path.display()))
                    .hint("--allow names one component file the API may load"))
            }
        })
        .collect()
}

fn report_line(report: &ManifestReport) -> String {
    let path = report.manifest.display();
    match &report.outcome {
        ManifestOutcome::Loaded { name, version, hash } => {
            format!("loaded   {name} {version}  sha256 {hash}  ({path})")
        }
        ManifestOutcome::Updated { name, version, hash } => {
            format!("updated  {name} {version}  sha256 {hash}  ({path})")
        }
        ManifestOutcome::Removed { name, version } => format!("removed  {name} {version}  ({path})"),
        ManifestOutcome::Rejected { reason } => format!("rejected {path}: {reason}"),
    }
}

fn report_json(report: &ManifestReport) -> Json {
    let manifest = report.manifest.display().to_string();
    match &report.outcome {
        ManifestOutcome::Loaded { name, version, hash } => {
            json!({"manifest": manifest, "status": "loaded", "name": name, "version": version, "sha256": hash})
        }
        ManifestOutcome::Updated { name, version, hash } => {
            json!({"manifest": manifest, "status": "updated", "name": name, "version": version, "sha256": hash})
        }
        ManifestOutcome::Removed { name, version } => {
            json!({"manifest": manifest, "status": "removed", "name": name, "version": version})
        }
        ManifestOutcome::Rejected { reason } => json!({"manifest": manifest, "status": "rejected", "reason": reason}),
    }
}
