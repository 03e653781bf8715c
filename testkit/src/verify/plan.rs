//! Which crashes each run of a verification injects.

use super::{AgentCrash, CrashPlan, Oplogs};
use crate::journal::CrashPoint;
use crate::oplog::{OplogEntry, is_remote_write};

pub(super) fn plan_runs(plan: &CrashPlan, oplogs: &Oplogs) -> (Vec<Vec<AgentCrash>>, Option<u64>) {
    // Index 1 is the create entry, written before any instance exists.
    let points: Vec<(&str, u64)> =
        oplogs.iter().flat_map(|(id, oplog)| (2..=oplog.len() as u64).map(move |i| (id.as_str(), i))).collect();
    match plan {
        CrashPlan::EveryEntry { before_persist } => {
            let mut runs: Vec<Vec<AgentCrash>> =
                points.iter().map(|(id, i)| vec![AgentCrash::new(*id, CrashPoint::AfterEntry(*i))]).collect();
            if *before_persist {
                for (id, oplog) in oplogs {
                    for (pos, entry) in oplog.iter().enumerate() {
                        if let OplogEntry::HostCall(p) = entry
                            && is_remote_write(&p.durable_function_type)
                        {
                            runs.push(vec![AgentCrash::new(id.as_str(), CrashPoint::BeforePersist(pos as u64 + 1))]);
                        }
                    }
                }
            }
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
    }
}
