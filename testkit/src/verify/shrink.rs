//! Shrinking a failure: the fewest of its crashes that still make a run
//! fail, and no interleaving at all if the agents fail as well taking turns
//! in order, so that what a failure report asks to reproduce is as small as
//! the failure allows.
//!
//! A crash is dropped when the run without it still fails, one at a time
//! until none can be (a failure no single crash can be taken from). Each
//! try is one crash-free and one crashed run. The seeded interleaving itself
//! is not shrunk: it is one seed's choices, kept or dropped as a whole.

use super::{AgentCrash, CrashPlan, Scenario, TrialFailure, verify_runs};
use crate::environment::Environment;
use crate::error::Error;
use crate::runtime::LoadedComponent;
use crate::scheduler::Schedule;

/// `failure` made as small as it can be while a run still fails.
pub(super) fn shrink(
    env: &Environment,
    component: &LoadedComponent,
    scenario: &Scenario,
    failure: &TrialFailure,
    from_crash: bool,
) -> Result<TrialFailure, Error> {
    let mut smallest = failure.clone();
    while smallest.crashes.len() > 1 {
        let mut fewer = None;
        for skip in 0..smallest.crashes.len() {
            let mut crashes = smallest.crashes.clone();
            crashes.remove(skip);
            if let Some(failed) = run(env, component, scenario, smallest.schedule, crashes, from_crash)? {
                fewer = Some(failed);
                break;
            }
        }
        match fewer {
            Some(failed) => smallest = failed,
            None => break,
        }
    }
    if smallest.schedule.is_some()
        && let Some(failed) = run(env, component, scenario, None, smallest.crashes.clone(), from_crash)?
    {
        smallest = failed;
    }
    Ok(smallest)
}

/// The failure of one run of `scenario` crashing at `crashes`, under
/// `schedule` (`None`: taking turns in order), if it fails.
fn run(
    env: &Environment,
    component: &LoadedComponent,
    scenario: &Scenario,
    schedule: Option<Schedule>,
    crashes: Vec<AgentCrash>,
    from_crash: bool,
) -> Result<Option<TrialFailure>, Error> {
    let env = env.fresh_with(schedule.unwrap_or(Schedule::Sequential));
    let plan = CrashPlan::Points(vec![crashes]);
    let report = verify_runs(&env, component, scenario, &plan, from_crash, &mut |_| {})?;
    Ok(report.failures.into_iter().next().map(|failure| TrialFailure { schedule, ..failure }))
}
