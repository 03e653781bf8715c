//! `reprise run FILE.wasm 'Type(args)' 'method(args)'...`: create an agent,
//! call it, print the results in WAVE and, if asked, the oplog.

use std::path::Path;
use std::process::ExitCode;

use reprise_testkit::oplog::{Oplog, OplogEntry};
use reprise_testkit::{Error, agent_id};

use super::load_with;
use crate::CliResult;
use crate::calls;
use crate::error::{CliError, one_line};
use crate::oplog_view;
use crate::terminal::safe;

pub fn run(
    file: &Path,
    agent: &str,
    calls_text: &[String],
    show_oplog: bool,
    oplog_file: Option<&Path>,
    resume: bool,
    kv: &[String],
) -> CliResult {
    let (env, component) = load_with(file, kv)?;
    let (definition, args) = calls::agent(&component, agent)?;
    // Every call is checked before the agent exists: a typo in the last call
    // does not leave a half-run agent behind.
    let typed = calls_text.iter().map(|c| calls::method(definition, c)).collect::<Result<Vec<_>, _>>()?;
    let id = agent_id(definition, &args);
    let created = match oplog_file {
        Some(path) if resume => {
            let oplog = resumable(path, &id)?;
            env.agent_with_oplog(&component, &definition.type_name, &args, oplog)
        }
        Some(path) => {
            if path.exists() {
                return Err(CliError::input(format!("{} already exists", path.display()))
                    .hint("pick a new file name, or add --resume to continue the agent it holds"));
            }
            let oplog = Oplog::create_file(path).map_err(|e| {
                CliError::input(format!("cannot create the oplog file: {e}"))
                    .hint("check that its folder exists and is writable")
            })?;
            env.agent_with_oplog(&component, &definition.type_name, &args, oplog)
        }
        None => env.create_agent(&component, &definition.type_name, &args),
    };
    let mut agent = created.map_err(|e| match e {
        Error::Agent(e) => CliError::failed(format!("the constructor of {id} refused: {e}")),
        e => CliError::failed(format!("creating {id} failed: {}", one_line(&e.to_string()))),
    })?;
    println!("{} {}", if resume { "resumed" } else { "created" }, safe(agent.id()));
    let mut code = ExitCode::SUCCESS;
    for (text, call) in calls_text.iter().zip(&typed) {
        match agent.invoke(&call.name, &call.args) {
            Ok(values) => {
                println!("{} -> {}", safe(text.trim()), safe(&calls::render_results(&values, call.results.as_deref())))
            }
            Err(Error::Agent(e)) => {
                println!("{} -> agent error: {}", safe(text.trim()), safe(&e.to_string()));
                code = ExitCode::from(1);
                break;
            }
            Err(e) => {
                let e = CliError::failed(format!("{} failed: {}", text.trim(), one_line(&e.to_string())))
                    .hint("the calls before it are in the oplog; add --oplog to see them");
                eprintln!("{e}");
                code = ExitCode::from(1);
                break;
            }
        }
    }
    if show_oplog {
        println!("oplog of {} ({} entries)", safe(agent.id()), agent.oplog().len());
        print!("{}", oplog_view::text(agent.oplog().entries()));
    }
    if let Some(path) = oplog_file {
        println!("oplog written to {} (read it with `reprise oplog {}`)", path.display(), path.display());
    }
    Ok(code)
}

/// The oplog file of agent `id`, opened to continue it: refused when it is
/// damaged (nothing is cut off) or holds another agent.
fn resumable(path: &Path, id: &str) -> Result<Oplog, CliError> {
    let unreadable = |e: reprise_testkit::oplog::OplogError| {
        CliError::input(format!("cannot resume from {}: {e}", path.display()))
            .hint("--resume continues an oplog written by `reprise run --oplog-file`")
    };
    let (entries, damage) = Oplog::read_file(path).map_err(unreadable)?;
    if let Some(damage) = damage {
        return Err(CliError::input(format!("cannot resume from {}: {damage}", path.display()))
            .hint("look at it with `reprise oplog`; the file is left as it is"));
    }
    match entries.first() {
        Some(OplogEntry::Create(create)) if create.agent_id.agent_id == id => {}
        Some(OplogEntry::Create(create)) => {
            return Err(CliError::input(format!(
                "{} holds agent {}, not {}",
                path.display(),
                safe(&create.agent_id.agent_id),
                safe(id)
            ))
            .hint("name the agent the oplog holds"));
        }
        _ => {
            return Err(CliError::input(format!("{} holds no agent", path.display()))
                .hint("--resume continues an oplog written by `reprise run --oplog-file`"));
        }
    }
    Oplog::open_file(path).map(|(oplog, _)| oplog).map_err(unreadable)
}
