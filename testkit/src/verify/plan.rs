//! Which crashes each run of a verification injects.

use super::{AgentCrash, Commits, CrashPlan, Oplogs};
use crate::journal::CrashPoint;
use crate::oplog::{OplogEntry, is_remote_write};

pub(super) fn plan_runs(plan: &CrashPlan, oplogs: &Oplogs, commits: &Commits) -> (Vec<Vec<AgentCrash>>, Option<u64>) {
    // Index 1 is the create entry, written before any instance exists.
    let points: Vec<(&str, u64)> =
        oplogs.iter().flat_map(|(id, oplog)| (2..=oplog.len() as u64).map(move |i| (id.as_str(), i))).collect();
    match plan {
        CrashPlan::EveryEntry { before_persist } => {
            let mut runs: Vec<Vec<AgentCrash>> =
                points.iter().map(|(id, i)| vec![AgentCrash::new(*id, CrashPoint::AfterEntry(*i))]).collect();
            if *before_persist {
                runs.extend(before_persist_points(oplogs));
            }
            (runs, None)
        }
        CrashPlan::Distinct => {
            let mut runs = Vec::new();
            for (id, oplog) in oplogs {
                let committed = commits.iter().find(|(agent, _)| agent == id).map(|(_, c)| c.as_slice());
                for i in distinct_points(oplog, committed.unwrap_or_default()) {
                    runs.push(vec![AgentCrash::new(id.as_str(), CrashPoint::AfterEntry(i))]);
                }
            }
            runs.extend(before_persist_points(oplogs));
            (runs, None)
        }
        CrashPlan::Random { seed, trials, crashes_per_run } => {
            let mut state = *seed;
            let mut next = || {
                state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
                let mut z = state;
                z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
                z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
                z ^ (z >> 31)
            };
            if points.is_empty() {
                return (Vec::new(), Some(*seed));
            }
            let span = points.len() as u64;
            if *crashes_per_run >= points.len() {
                // Every point in each run: drawing them would only repeat work.
                let all: Vec<AgentCrash> =
                    points.iter().map(|(id, i)| AgentCrash::new(*id, CrashPoint::AfterEntry(*i))).collect();
                return (vec![all; *trials], Some(*seed));
            }
            let runs = (0..*trials)
                .map(|_| {
                    let mut run: Vec<AgentCrash> = (0..*crashes_per_run)
                        .map(|_| {
                            let (id, i) = points[(next() % span) as usize];
                            AgentCrash::new(id, CrashPoint::AfterEntry(i))
                        })
                        .collect();
                    // Sorted per agent: later crashes land on indexes the recovered run reaches again.
                    run.sort();
                    run.dedup();
                    run
                })
                .collect();
            (runs, Some(*seed))
        }
        CrashPlan::Points(runs) => (runs.clone(), None),
        CrashPlan::Schedules { crashes, .. } => plan_runs(crashes, oplogs, commits),
    }
}

/// A crash between each remote write's side effect and its entry.
fn before_persist_points(oplogs: &Oplogs) -> Vec<Vec<AgentCrash>> {
    let mut runs = Vec::new();
    for (id, oplog) in oplogs {
        for (pos, entry) in oplog.iter().enumerate() {
            if let OplogEntry::HostCall(p) = entry
                && is_remote_write(&p.durable_function_type)
            {
                runs.push(vec![AgentCrash::new(id.as_str(), CrashPoint::BeforePersist(pos as u64 + 1))]);
            }
        }
    }
    runs
}

/// After-entry crash points with distinct outcomes (see
/// [`CrashPlan::Distinct`]): each commit point, and the last entry of each
/// uncommitted stretch whose loss makes recovery perform an effect again.
/// Without recorded commits (an oplog read from a file), every entry.
fn distinct_points(oplog: &[OplogEntry], commits: &[u64]) -> Vec<u64> {
    let last = oplog.len() as u64;
    if commits.is_empty() {
        return (2..=last).collect();
    }
    let mut points = Vec::new();
    let mut start = 1; // first index after the previous commit
    let mut ends: Vec<u64> = commits.iter().copied().filter(|c| *c >= 1 && *c <= last).collect();
    if ends.last() != Some(&last) {
        ends.push(last); // entries never committed in the reference run
    }
    ends.dedup();
    for end in ends {
        // Index 1 is the create entry, written before any instance exists.
        if end >= 2 {
            points.push(end);
        }
        // A crash after any of start..end loses it and those before it back
        // to `start`; crashing after the last loses the most.
        let last_uncommitted = end - 1;
        let stretch = start..=last_uncommitted;
        if last_uncommitted >= start.max(2) && stretch.into_iter().any(|i| repeats_effect(&oplog[(i - 1) as usize])) {
            points.push(last_uncommitted);
        }
        start = end + 1;
    }
    points.sort_unstable();
    points.dedup();
    points
}

/// Whether losing `entry` makes recovery perform a side effect again.
fn repeats_effect(entry: &OplogEntry) -> bool {
    match entry {
        OplogEntry::HostCall(p) => is_remote_write(&p.durable_function_type),
        OplogEntry::EndAtomicRegion(_) | OplogEntry::EndRemoteWrite(_) => true,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bindings::golem::api::oplog::Timestamp;
    use crate::bindings::wasi::clocks::wall_clock::Datetime;

    fn oplogs(len: u64) -> Oplogs {
        let entry = OplogEntry::NoOp(Timestamp { timestamp: Datetime { seconds: 0, nanoseconds: 0 } });
        vec![("a()".to_string(), vec![entry; len as usize])]
    }

    #[test]
    fn more_crashes_per_run_than_points_crash_at_every_point_once() {
        let plan = CrashPlan::Random { seed: 3, trials: 2, crashes_per_run: 1_000_000_000 };
        let (runs, seed) = plan_runs(&plan, &oplogs(7), &Vec::new());
        assert_eq!(seed, Some(3));
        let every: Vec<AgentCrash> = (2..=7).map(|i| AgentCrash::new("a()", CrashPoint::AfterEntry(i))).collect();
        assert_eq!(runs, vec![every.clone(), every]);
    }

    #[test]
    fn random_runs_hold_distinct_sorted_points() {
        let plan = CrashPlan::Random { seed: 9, trials: 20, crashes_per_run: 3 };
        let (runs, _) = plan_runs(&plan, &oplogs(50), &Vec::new());
        assert_eq!(runs.len(), 20);
        for run in runs {
            assert!(!run.is_empty() && run.len() <= 3);
            assert!(run.windows(2).all(|w| w[0] < w[1]), "{run:?}");
        }
    }
}
