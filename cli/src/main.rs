//! `reprise`: the command-line face of the Reprise SDK and testkit.
//!
//! Every command is a thin layer over `reprise-testkit`'s library API: the
//! same loader, the same crash verification and the same plugin host the
//! tests use.

mod calls;
mod commands;
mod error;
mod oplog_view;
mod outputs;
mod templates;
mod terminal;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use crate::error::CliError;

#[derive(Debug, Parser)]
#[command(
    name = "reprise",
    version,
    about = "Write, build, run and crash-test durable agents and oplog-processor plugins for Golem 1.5",
    after_help = "Exit codes: 0 success, 1 the component misbehaved (a failed crash run, an agent error), \
                  2 bad input (a missing file, not a component, a bad argument)."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create a project from a template.
    #[command(after_help = "Example:\n  reprise new agent todo-list\n  reprise new plugin audit-log --path plugins/")]
    New {
        /// What to create.
        kind: TemplateKind,
        /// The project (and crate) name, such as `todo-list`.
        name: String,
        /// The folder to create the project in (default: the current folder).
        #[arg(long, default_value = ".")]
        path: PathBuf,
        /// A Reprise checkout to depend on by path (default: the one this
        /// command was built from, when it still exists; otherwise the
        /// published crates).
        #[arg(long)]
        reprise: Option<PathBuf>,
    },
    /// Build a crate for wasm32-wasip2, check it against Golem 1.5 and show what it exports.
    #[command(after_help = "Example:\n  reprise build todo-list\n\n\
                      Installs the wasm32-wasip2 target with rustup when it is missing.")]
    Build {
        /// The crate's folder (default: the current folder).
        #[arg(default_value = ".")]
        path: PathBuf,
        /// The cargo profile.
        #[arg(long, default_value = "release")]
        profile: String,
    },
    /// Show a component's imports, exports, agent types with their schemas, and size.
    #[command(after_help = "Example:\n  reprise inspect target/wasm32-wasip2/release/todo_list.wasm --json")]
    Inspect {
        /// The component file.
        file: PathBuf,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Create an agent and invoke methods; arguments and results in WAVE.
    #[command(
        after_help = "Example:\n  reprise run counter.wasm 'Counter(\"visits\")' 'increment(2)' 'get()' --oplog\n\n\
                      Arguments are WAVE, the text form of component values: \"text\", 42, [1, 2], \
                      {sku: \"tea\", qty: 2}, some(3), ok(\"done\")."
    )]
    Run {
        /// The component file.
        file: PathBuf,
        /// The agent to create: `AgentType(constructor arguments)`.
        agent: String,
        /// Method calls, in order: `method(arguments)`.
        calls: Vec<String>,
        /// Print the oplog afterwards.
        #[arg(long)]
        oplog: bool,
        /// Keep the oplog in this file (read it with `reprise oplog`).
        #[arg(long, value_name = "FILE")]
        oplog_file: Option<PathBuf>,
        /// Continue the agent whose oplog is in --oplog-file: recover it by replay, then make the calls.
        #[arg(long, requires = "oplog_file")]
        resume: bool,
        /// Preload the key-value store: `BUCKET/KEY=VALUE` (repeatable).
        #[arg(long = "kv", value_name = "BUCKET/KEY=VALUE")]
        kv: Vec<String>,
    },
    /// Run a script of invocations, crashing the agent at each distinct crash point, and compare with a crash-free run.
    #[command(after_help = "Example:\n  reprise crash-test counter.wasm counter.script --html report.html\n  \
                      reprise crash-test warehouse.wasm order.script --kv 'stock-levels/main={\"apple\": 10}'\n  \
                      reprise crash-test counter.wasm counter.script --at 'after 7'   (one run, as a failure's reproduce: line says)\n\n\
                      The script names the agent on its first line and one call per line after it \
                      (`#` starts a comment); a call may state the result it must give in the crash-free \
                      run, as `reprise run` prints it:\n\n  Counter(\"visits\")\n  increment(2) -> 2\n  get()\n\n\
                      Without --seed, one crash point per distinct outcome of Golem's crash model: \
                      after each commit, where a lost entry makes recovery perform a side effect again, \
                      and between each side effect and its entry; with --every-entry, after every oplog \
                      index too (and, unless --no-before-persist, between each side effect and its \
                      entry). Exits with 1 when any run diverges or repeats a side effect.")]
    CrashTest {
        /// The component file.
        file: PathBuf,
        /// The script file.
        script: PathBuf,
        /// Crash at seeded random points instead.
        #[arg(long)]
        seed: Option<u64>,
        /// With --seed: the number of runs (at least 1).
        #[arg(long, default_value_t = 50, requires = "seed", value_parser = at_least_one)]
        trials: usize,
        /// With --seed: crashes per run (at least 1; more than the crash points there are crashes at each once).
        #[arg(long, default_value_t = 3, requires = "seed", value_parser = at_least_one)]
        crashes: usize,
        /// Crash after every oplog entry, not only once per distinct outcome
        /// (more runs, the same findings: a check of the model itself).
        #[arg(long, conflicts_with = "seed")]
        every_entry: bool,
        /// With --every-entry: do not crash between a side effect and its oplog entry.
        #[arg(long, requires = "every_entry")]
        no_before_persist: bool,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
        /// Also write an HTML report with the oplog timeline.
        #[arg(long, value_name = "FILE")]
        html: Option<PathBuf>,
        /// Replace the --html file if it exists.
        #[arg(long, requires = "html")]
        force: bool,
        /// Preload the key-value store: `BUCKET/KEY=VALUE` (repeatable).
        #[arg(long = "kv", value_name = "BUCKET/KEY=VALUE")]
        kv: Vec<String>,
        /// Make one run, crashing only here (repeatable: all in that run), as
        /// a failure's `reproduce:` line gives it: `after 12`, `before 12`
        /// (between entry 12's side effect and the entry), or with the agent
        /// first, `inventory("main") after 12`.
        #[arg(long = "at", value_name = "CRASH", conflicts_with_all = ["seed", "every_entry"])]
        at: Vec<String>,
        /// Also explore how the agents interleave: the whole test under each
        /// of N seeded schedules in turn, stopping at the first that fails.
        #[arg(long, value_name = "N", value_parser = at_least_one)]
        schedules: Option<usize>,
        /// Run under this one seeded schedule (as a failure's `reproduce:`
        /// line gives it).
        #[arg(long, value_name = "SEED", conflicts_with = "schedules")]
        schedule_seed: Option<u64>,
    },
    /// Print a file-backed oplog as text, JSON or an HTML timeline.
    #[command(after_help = "Example:\n  reprise oplog counter.oplog --format html --output counter.html")]
    Oplog {
        /// The oplog file (from `reprise run --oplog-file`).
        file: PathBuf,
        /// Output format.
        #[arg(long, value_enum, default_value_t = OplogFormat::Text)]
        format: OplogFormat,
        /// Write to this file instead of standard output.
        #[arg(long, value_name = "FILE")]
        output: Option<PathBuf>,
        /// Replace the --output file if it exists.
        #[arg(long, requires = "output")]
        force: bool,
    },
    /// Replay recorded oplogs with a component's code: will agents with these histories survive an update to it?
    #[command(after_help = "Example:\n  reprise replay target/wasm32-wasip2/release/shop.wasm recorded/*.oplog\n\n\
                      Each oplog (from `reprise run --oplog-file` or the testkit) is replayed in a fresh \
                      in-memory agent, as Golem recovers an agent after an update: the first place where \
                      the code no longer makes the recorded calls is reported. Exit status 1 when any \
                      oplog does not replay.")]
    Replay {
        /// The component to check (the new revision).
        file: PathBuf,
        /// Recorded oplog files.
        #[arg(required = true)]
        oplogs: Vec<PathBuf>,
    },
    /// Load plugin manifests from a folder and report each; optionally serve the plugin host over HTTP.
    #[command(after_help = "Example:\n  reprise plugins plugins/ --serve 127.0.0.1:9090\n\n\
                      Manifests are DIR/*.json or DIR/*/plugin.json with name, version, description, \
                      component and config. The HTTP API (loopback only; requests must name the server in Host, \
                      come from no other web page, send JSON bodies of at most 64 KiB, and carry the bearer \
                      token when --token-file is given):\n\
                      \x20 GET  /plugins      loaded plugins\n\
                      \x20 POST /install      {\"component\": PATH, \"plugin\": NAME, \"version\": V, \"config\": {..}}\n\
                      \x20 POST /agents       {\"component\": PATH, \"agent\": \"Type(args)\"}\n\
                      \x20 POST /invoke       {\"agent\": ID, \"call\": \"method(args)\"}\n\
                      \x20 POST /activate     {\"agent\": ID, \"plugin\": NAME}\n\
                      \x20 POST /deactivate   {\"agent\": ID, \"plugin\": NAME}\n\
                      \x20 GET  /metrics      Prometheus text")]
    Plugins {
        /// The folder of manifests.
        dir: PathBuf,
        /// Serve the management API on this loopback address (port 0 picks one).
        #[arg(long, value_name = "ADDR")]
        serve: Option<String>,
        /// Require `Authorization: Bearer TOKEN` on every request, TOKEN being this file's first line.
        #[arg(long, value_name = "FILE", requires = "serve")]
        token_file: Option<PathBuf>,
        /// A component file outside DIR the API may load (repeatable).
        #[arg(long, value_name = "FILE", requires = "serve")]
        allow: Vec<PathBuf>,
        /// Most memory, in MiB, the served agents and plugins may hold together.
        #[arg(long, value_name = "MIB", default_value_t = 2048, requires = "serve")]
        total_memory: usize,
        /// How often, in milliseconds, agents send their plugins what they
        /// committed since (Golem's `plugin_max_elapsed_time`, 5 s); every
        /// third commit sends it too.
        #[arg(long, value_name = "MS", default_value_t = 5000, requires = "serve")]
        flush_interval_ms: u64,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Run a loopback OpenTelemetry collector printing the spans and logs exported to it (OTLP/HTTP JSON).
    #[command(
        after_help = "Example:\n  reprise collect --listen 127.0.0.1:4318\n\n                      Point an exporter plugin's `endpoint` at it, such as examples/otlp-exporter."
    )]
    Collect {
        /// The loopback address to listen on (port 0 picks one).
        #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:4318")]
        listen: String,
    },
}

/// The templates `reprise new` knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TemplateKind {
    /// An agent with a crash-verification test.
    Agent,
    /// An oplog-processor plugin with a delivery test.
    Plugin,
}

/// How `reprise oplog` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OplogFormat {
    /// One line per entry.
    Text,
    /// A JSON array of entries.
    Json,
    /// A self-contained HTML timeline.
    Html,
}

/// A count that must not make the work empty: 0 would verify nothing.
fn at_least_one(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(0) => Err("must be at least 1 (0 would verify nothing)".into()),
        Ok(n) => Ok(n),
        Err(e) => Err(e.to_string()),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::New { kind, name, path, reprise } => commands::new::run(kind, &name, &path, reprise.as_deref()),
        Command::Build { path, profile } => commands::build::run(&path, &profile),
        Command::Inspect { file, json } => commands::inspect::run(&file, json),
        Command::Run { file, agent, calls, oplog, oplog_file, resume, kv } => {
            commands::run::run(&file, &agent, &calls, oplog, oplog_file.as_deref(), resume, &kv)
        }
        Command::CrashTest {
            file,
            script,
            seed,
            trials,
            crashes,
            every_entry,
            no_before_persist,
            json,
            html,
            force,
            kv,
            at,
            schedules,
            schedule_seed,
        } => {
            let plan = match seed {
                Some(seed) => commands::crash_test::Plan::Random { seed, trials, crashes },
                None if every_entry => commands::crash_test::Plan::Every { before_persist: !no_before_persist },
                None if !at.is_empty() => commands::crash_test::Plan::At(at),
                None => commands::crash_test::Plan::Distinct,
            };
            let html = html.as_deref().map(|path| (path, force));
            let schedules = match (schedules, schedule_seed) {
                (Some(n), _) => Some(commands::crash_test::Schedules::First(n as u64)),
                (None, Some(seed)) => Some(commands::crash_test::Schedules::Seed(seed)),
                (None, None) => None,
            };
            commands::crash_test::run(&file, &script, plan, json, html, &kv, schedules)
        }
        Command::Oplog { file, format, output, force } => {
            commands::oplog::run(&file, format, output.as_deref().map(|path| (path, force)))
        }
        Command::Replay { file, oplogs } => commands::replay::run(&file, &oplogs),
        Command::Plugins { dir, serve, token_file, allow, total_memory, flush_interval_ms, json } => {
            let serve = serve.map(|addr| commands::plugins::ServeOptions {
                addr,
                token_file,
                allow,
                total_memory_mib: total_memory,
                flush_interval: std::time::Duration::from_millis(flush_interval_ms.max(1)),
            });
            commands::plugins::run(&dir, serve.as_ref(), json)
        }
        Command::Collect { listen } => commands::collect::run(&listen),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("{e}");
            e.exit_code()
        }
    }
}

/// Shorthand for command results: an exit code, or an error to print.
pub type CliResult = Result<ExitCode, CliError>;
