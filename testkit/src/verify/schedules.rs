//! Verification under many interleavings: each seed of a
//! [`CrashPlan::Schedules`] plan is a [`Schedule::Seeded`] run of the
//! scenario, crash-free and then with the inner plan's crashes, each crashed
//! run compared with the same seed's crash-free run. The first seed that
//! fails is reported with its interleaving, so that seed alone reproduces
//! it, and its first failing run shrunk (`shrink.rs`).

use super::{CrashPlan, Progress, Scenario, VerificationReport, verify_runs};
use crate::environment::Environment;
use crate::error::Error;
use crate::runtime::LoadedComponent;
use crate::scheduler::Schedule;

pub(super) fn verify_schedules(
    env: &Environment,
    component: &LoadedComponent,
    scenario: &Scenario,
    seeds: std::ops::Range<u64>,
    crashes: &CrashPlan,
    from_crash: bool,
    progress: &mut dyn FnMut(Progress),
) -> Result<VerificationReport, Error> {
    if seeds.is_empty() {
        return Err(Error::Setup("a schedules plan needs at least one seed".into()));
    }
    if matches!(crashes, CrashPlan::Schedules { .. }) {
        return Err(Error::Setup("a schedules plan cannot explore schedules again: give it a crash plan".into()));
    }
    let mut totals: Option<VerificationReport> = None;
    for (explored, seed) in seeds.enumerate() {
        let schedule = Schedule::Seeded(seed);
        let mut report = verify_runs(&env.fresh_with(schedule), component, scenario, crashes, from_crash, progress)?;
        report.schedule = Some(schedule);
        report.schedules_explored = explored + 1;
        for failure in &mut report.failures {
            failure.schedule = Some(schedule);
        }
        if let Some(before) = &totals {
            report.runs += before.runs;
            report.crashes_fired += before.crashes_fired;
            report.recovered += before.recovered;
            report.retried_effects += before.retried_effects;
            report.started_at_crash += before.started_at_crash;
            report.rejoined += before.rejoined;
            report.elapsed += before.elapsed;
        }
        let failed = !report.is_ok();
        if let Some(first) = report.failures.first() {
            report.minimal = Some(super::shrink::shrink(env, component, scenario, first, from_crash)?);
        }
        totals = Some(report);
        if failed {
            break;
        }
    }
    totals.ok_or_else(|| Error::Setup("no seed was explored".into()))
}
