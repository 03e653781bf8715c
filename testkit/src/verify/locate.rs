//! Where a failed run's crashes struck and what they lost, in terms of the
//! crash-free run's oplogs and the scenario's calls.

use super::{AgentCrash, Oplogs};
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
