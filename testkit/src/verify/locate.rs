//! Where a failed run's crashes struck and what they lost, in terms of the
//! crash-free run's oplogs and the scenario's calls.

use super::{AgentCrash, Oplogs, RunOutcome};
use crate::journal::{CrashPoint, FiredCrash};
use crate::oplog::OplogEntry;

/// What each crash of a run lost: "entries 7-9 lost (host call
/// `wall_clock::now`, ...)", from the crash-free run's oplog of the agent.
pub(super) fn describe_losses(points: &[AgentCrash], fired: &[FiredCrash], oplogs: &Oplogs) -> Vec<String> {
    points
        .iter()
        .filter_map(|crash| {
            let (first, last) = fired.iter().find(|f| f.point == crash.point)?.lost?;
            let oplog = oplogs.iter().find(|(id, _)| *id == crash.agent).map(|(_, o)| o.as_slice())?;
            let entries: Vec<String> = (first..=last)
                .filter_map(|i| oplog.get(usize::try_from(i).ok()?.checked_sub(1)?))
                .map(crate::oplog::describe)
                .collect();
            let range = if first == last { format!("entry {first}") } else { format!("entries {first}-{last}") };
            Some(format!("{range} lost and run again ({})", entries.join(", ")))
        })
        .collect()
}

/// Where each crash struck, named by the call of the scenario (for the
/// scenario's agent) or the invocation (for an agent it called) that wrote
/// the entry: "entry 11, the host call `keyvalue::eventual::set`
/// (write-remote) of call 3, `add_item`".
pub(super) fn locate(points: &[AgentCrash], oplogs: &Oplogs) -> Vec<String> {
    use crate::bindings::golem::api::oplog::AgentInvocation;
    points
        .iter()
        .filter_map(|crash| {
            let (CrashPoint::AfterEntry(index) | CrashPoint::BeforePersist(index)) = crash.point;
            let position = oplogs.iter().position(|(id, _)| *id == crash.agent)?;
            let oplog = &oplogs[position].1;
            let entry = oplog.get(usize::try_from(index).ok()?.checked_sub(1)?)?;
            // The invocation the entry belongs to, and its number among the agent's method calls.
            let mut call = None;
            let mut calls = 0;
            for e in oplog.iter().take(index as usize) {
                if let OplogEntry::AgentInvocationStarted(p) = e {
                    call = Some(match &p.invocation {
                        AgentInvocation::AgentMethodInvocation(m) => {
                            calls += 1;
                            (Some(calls), format!("`{}`", m.method_name))
                        }
                        AgentInvocation::AgentInitialization(_) => (None, "the constructor".to_string()),
                        _ => (None, "an invocation".to_string()),
                    });
                }
            }
            let within = match call {
                // The scenario's own agent: its calls are the scenario's, in order.
                Some((Some(n), name)) if position == 0 => format!(" of call {n}, {name}"),
                Some((_, name)) => format!(" of {name}"),
                None => String::new(),
            };
            Some(format!("entry {index} is {}{within}", crate::oplog::describe(entry)))
        })
        .collect()
}

/// The rule of Golem's a failed run broke, when the crash-free run's oplog
/// shows it: side effects made inside a durable function of a type Golem
/// does not commit when it ends (its body runs under persist-nothing, so
/// only the function's own entry stands for them), and a crash that lost
/// that entry, or came before it, made recovery run the function again.
pub(super) fn broken_rule(points: &[AgentCrash], fired: &[FiredCrash], oplogs: &Oplogs) -> Option<String> {
    points.iter().find_map(|crash| {
        let (CrashPoint::AfterEntry(index) | CrashPoint::BeforePersist(index)) = crash.point;
        let oplog = oplogs.iter().find(|(id, _)| *id == crash.agent).map(|(_, o)| o.as_slice())?;
        let lost = fired.iter().find(|f| f.point == crash.point).and_then(|f| f.lost);
        wrapped_effects(oplog).into_iter().find_map(|w| {
            let run_again = index < w.entry || lost.is_some_and(|(a, b)| (a..=b).contains(&w.entry));
            (index >= w.zone && run_again).then(|| {
                format!(
                    "`{}` is declared {} but made side effects ({}); Golem commits a durable function's entry as it ends only for write-remote functions, so the crash lost it and recovery ran the function again, side effects included (declare it write-remote)",
                    w.function,
                    w.function_type,
                    w.effects.join(", ")
                )
            })
        })
    })
}

/// A durable function whose body made side effects.
struct WrappedEffects {
    /// Index of the persist-nothing change its body began with.
    zone: u64,
    /// Index of the function's own entry.
    entry: u64,
    function: String,
    function_type: &'static str,
    effects: Vec<String>,
}

/// Durable functions of a type Golem does not commit as they end, whose
/// bodies (between a change to persist-nothing and their own entry) made
/// remote writes.
fn wrapped_effects(oplog: &[OplogEntry]) -> Vec<WrappedEffects> {
    use crate::bindings::golem::api::host::PersistenceLevel;
    use crate::oplog::{function_type_name, is_remote_write};
    let mut found = Vec::new();
    // The open body: where it began, its remote writes, and whether the
    // level has been set back (the next host call is the function's own).
    let mut body: Option<(u64, Vec<String>, bool)> = None;
    for (pos, entry) in oplog.iter().enumerate() {
        let index = pos as u64 + 1;
        match entry {
            OplogEntry::ChangePersistenceLevel(p)
                if matches!(p.persistence_level, PersistenceLevel::PersistNothing) =>
            {
                body = Some((index, Vec::new(), false));
            }
            OplogEntry::ChangePersistenceLevel(_) => {
                if let Some((_, _, ended)) = &mut body {
                    *ended = true;
                }
            }
            OplogEntry::HostCall(p) => match &mut body {
                Some((start, effects, true)) => {
                    if !is_remote_write(&p.durable_function_type) && !effects.is_empty() {
                        found.push(WrappedEffects {
                            zone: *start,
                            entry: index,
                            function: p.function_name.clone(),
                            function_type: function_type_name(&p.durable_function_type),
                            effects: std::mem::take(effects),
                        });
                    }
                    body = None;
                }
                Some((_, effects, false))
                    if is_remote_write(&p.durable_function_type) && !effects.contains(&p.function_name) =>
                {
                    effects.push(p.function_name.clone());
                }
                _ => {}
            },
            OplogEntry::AgentInvocationFinished(_) => body = None,
            _ => {}
        }
    }
    found
}

/// How the stores of a failed run differ from the crash-free run's, one
/// line per key or object: `audit/acct: "1" in the crash-free run, "2" here`.
pub(super) fn store_diff(reference: &RunOutcome, run: &RunOutcome) -> Vec<String> {
    let mut lines = diff_lines("", &reference.kv, &run.kv);
    lines.extend(diff_lines("blob ", &reference.blobs, &run.blobs));
    lines
}

/// Most lines of a store diff shown.
const MAX_DIFF_LINES: usize = 10;

type Store = std::collections::BTreeMap<String, std::collections::BTreeMap<String, Vec<u8>>>;

fn diff_lines(prefix: &str, reference: &Store, run: &Store) -> Vec<String> {
    let get = |store: &Store, (bucket, key): (&String, &String)| store.get(bucket).and_then(|b| b.get(key)).cloned();
    let keys: std::collections::BTreeSet<(&String, &String)> = reference
        .iter()
        .chain(run.iter())
        .flat_map(|(bucket, entries)| entries.keys().map(move |key| (bucket, key)))
        .collect();
    let mut lines: Vec<String> = keys
        .into_iter()
        .filter_map(|at| {
            let (before, after) = (get(reference, at), get(run, at));
            (before != after).then(|| {
                format!("{prefix}{}/{}: {} in the crash-free run, {} here", at.0, at.1, shown(&before), shown(&after))
            })
        })
        .collect();
    if lines.len() > MAX_DIFF_LINES {
        let more = lines.len() - MAX_DIFF_LINES;
        lines.truncate(MAX_DIFF_LINES);
        lines.push(format!("... and {more} more"));
    }
    lines
}

/// A stored value: quoted text when it is short printable text, its size otherwise.
fn shown(value: &Option<Vec<u8>>) -> String {
    match value {
        None => "absent".into(),
        Some(bytes) => match std::str::from_utf8(bytes) {
            Ok(text) if text.len() <= 80 && !text.chars().any(char::is_control) => format!("{text:?}"),
            _ => format!("{} bytes", bytes.len()),
        },
    }
}
