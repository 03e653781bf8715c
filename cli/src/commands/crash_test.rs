//! `reprise crash-test FILE.wasm SCRIPT`: the script run once without
//! crashes, then once per crash point, each run recovered by replay and
//! compared with the crash-free one.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::ExitCode;

use indicatif::{ProgressBar, ProgressStyle};
use reprise_testkit::CrashPoint;
use reprise_testkit::verify::script::{result_text, typed_script};
use reprise_testkit::verify::{AgentCrash, CrashPlan, TrialFailure, VerificationReport, verify_with_progress};
use serde_json::json;

use super::load_with;
use crate::CliResult;
use crate::calls;
use crate::error::{CliError, one_line};
use crate::oplog_view::{self, CrashMark, Page, Timeline};
use crate::terminal::{safe, safe_line};

/// Where to crash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    /// After every oplog entry; with `before_persist`, also between each
    /// side effect and its entry.
    Every { before_persist: bool },
    /// One point per distinct outcome of Golem's crash model.
    Distinct,
    /// `trials` runs with `crashes` seeded random points each.
    Random { seed: u64, trials: usize, crashes: usize },
    /// One run crashing at these points (`--at`, as `reproduce:` lines give them).
    At(Vec<String>),
}

/// Which interleavings of the agents the runs take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Schedules {
    /// `--schedules N`: seeds 0 to N-1 in turn, up to the first that fails.
    First(u64),
    /// `--schedule-seed S`: that seed's interleaving only.
    Seed(u64),
}

/// A `--at` crash: `after 12`, `before 12`, or `AGENT after 12`; without an
/// agent, the script's.
fn parse_at(text: &str, scenario_agent: &str) -> Result<AgentCrash, CliError> {
    let bad = || {
        CliError::input(format!("`--at {text}` is not a crash point"))
            .hint("write `after 12`, `before 12`, or with the agent first: `inventory(\"main\") after 12`")
    };
    let (rest, index) = text.trim().rsplit_once(' ').ok_or_else(bad)?;
    let index: u64 = index.parse().map_err(|_| bad())?;
    let (agent, kind) = match rest.trim_end().rsplit_once(' ') {
        Some((agent, kind)) => (agent.trim(), kind),
        None => ("", rest.trim()),
    };
    let point = match kind {
        "after" => CrashPoint::AfterEntry(index),
        "before" => CrashPoint::BeforePersist(index),
        _ => return Err(bad()),
    };
    Ok(AgentCrash::new(if agent.is_empty() { scenario_agent } else { agent }, point))
}

/// The `--at` arguments that crash a run as `crashes` did.
fn at_arguments(crashes: &[AgentCrash], scenario_agent: &str) -> String {
    crashes
        .iter()
        .map(|c| {
            let point = match c.point {
                CrashPoint::AfterEntry(i) => format!("after {i}"),
                CrashPoint::BeforePersist(i) => format!("before {i}"),
            };
            let at = if c.agent == scenario_agent { point } else { format!("{} {point}", c.agent) };
            format!("--at {}", shell_quote(&at))
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// `text` as one POSIX shell word.
fn shell_quote(text: &str) -> String {
    if !text.is_empty() && text.chars().all(|c| c.is_ascii_alphanumeric() || "-_./=:".contains(c)) {
        return text.to_string();
    }
    format!("'{}'", text.replace('\'', r"'\''"))
}

pub fn run(
    file: &Path,
    script_path: &Path,
    plan: Plan,
    as_json: bool,
    html: Option<(&Path, bool)>,
    kv: &[String],
    schedules: Option<Schedules>,
) -> CliResult {
    // Checked first: the report must not replace an input, nor (unless
    // forced) anything else, after minutes of crash runs.
    if let Some((path, force)) = html {
        crate::outputs::check(path, &[file, script_path], force)?;
    }
    let html = html.map(|(path, _)| path);
    let script = calls::read_script(script_path)?;
    let (env, component) = load_with(file, kv)?;
    // A component broken before any agent exists is not the script's fault.
    let types = calls::discovered(&component)?;
    let located = |line: usize| format!("{}:{line}", script_path.display());
    let (scenario, typed) =
        typed_script(types, &script).map_err(|(line, e)| calls::input_error(e).context(located(line)))?;
    // The text of each call (agent lines in between address the calls after them).
    let texts: Vec<&str> = typed
        .iter()
        .map(|call| script.calls.iter().find(|c| c.line == call.line).map_or("", |c| c.text.as_str()))
        .collect();
    let definition = types
        .iter()
        .find(|t| t.type_name == scenario.agent_type)
        .ok_or_else(|| CliError::failed(format!("agent type `{}` vanished from the component", scenario.agent_type)))?;
    let agent_id = reprise_testkit::agent_id(definition, &scenario.args);
    let crash_plan = match plan {
        Plan::Every { before_persist } => CrashPlan::EveryEntry { before_persist },
        Plan::Distinct => CrashPlan::Distinct,
        Plan::Random { seed, trials, crashes } => CrashPlan::Random { seed, trials, crashes_per_run: crashes },
        Plan::At(points) => {
            CrashPlan::Points(vec![points.iter().map(|p| parse_at(p, &agent_id)).collect::<Result<Vec<_>, _>>()?])
        }
    };
    let crash_plan = match schedules {
        None => crash_plan,
        Some(Schedules::First(n)) => crash_plan.under_schedules(0..n),
        Some(Schedules::Seed(seed)) => {
            let end = seed.checked_add(1).ok_or_else(|| CliError::input("the schedule seed is too large"))?;
            crash_plan.under_schedules(seed..end)
        }
    };

    let bar = ProgressBar::new(0).with_style(
        ProgressStyle::with_template("{spinner} crash runs {pos}/{len} [{bar:30}] {msg} {elapsed}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    let report = verify_with_progress(&env, &component, &scenario, &crash_plan, |p| {
        bar.set_length(p.total as u64);
        bar.set_position(p.done as u64);
        bar.set_message(if p.failed == 0 { String::new() } else { format!("{} failed", p.failed) });
    })
    .map_err(|e| {
        CliError::failed(format!("the crash-free run failed: {}", one_line(&e.to_string())))
            .hint("run the same calls with `reprise run` to see where")
    })?;
    bar.finish_and_clear();
    // The same component, script, preloaded store and interleaving, crashed only there.
    let preload: String = kv.iter().map(|entry| format!(" --kv {}", shell_quote(entry))).collect();
    let rerun_under = |schedule: Option<reprise_testkit::Schedule>| {
        let interleaving = match schedule {
            Some(reprise_testkit::Schedule::Seeded(seed)) => format!(" --schedule-seed {seed}"),
            _ => String::new(),
        };
        format!(
            "reprise crash-test {} {}{preload}{interleaving}",
            shell_quote(&file.display().to_string()),
            shell_quote(&script_path.display().to_string()),
        )
    };
    let rerun = rerun_under(report.schedule);
    // Each failure under its own schedule (a shrunk one may need none).
    let reproduce = |failure: &TrialFailure| {
        format!("{} {}", rerun_under(failure.schedule), at_arguments(&failure.crashes, &agent_id))
    };

    // The results the script states, against the crash-free run's.
    let unmet: Vec<String> = report
        .unmet
        .iter()
        .map(|u| format!("{}: {} returned {}, the script expects {}", located(u.line), u.call, u.actual, u.expected))
        .collect();
    if as_json {
        let mut json = report_json(&report, &reproduce);
        json["unmet_expectations"] = json!(unmet);
        json["results"] = texts
            .iter()
            .zip(&typed)
            .zip(&report.reference.results)
            .map(|((text, call), result)| json!({"call": text, "result": result_text(result, call.results.as_deref())}))
            .collect();
        println!("{}", serde_json::to_string_pretty(&json).unwrap_or_default());
    } else {
        println!("crash-free run");
        let several = !scenario.agents.is_empty();
        if several {
            println!("  {}", safe(&script.agent));
        }
        let mut results = typed.iter().zip(&report.reference.results);
        for line in &script.calls {
            match typed.iter().any(|call| call.line == line.line) {
                true => {
                    let Some((call, result)) = results.next() else { break };
                    let text = safe(&line.text);
                    println!(
                        "  {}{text} -> {}",
                        if several { "  " } else { "" },
                        safe(&result_text(result, call.results.as_deref()))
                    );
                }
                false => println!("  {}", safe(&line.text)),
            }
        }
        for line in &unmet {
            println!("  UNMET {}", safe(line));
        }
        if !unmet.is_empty() && report.schedule.is_some() {
            println!("  reproduce: {}", safe(&rerun));
        }
        println!();
        print!("{}", summary_table(&report, script_path, &reproduce));
    }
    if let Some(path) = html {
        let page = page(&report, &format!("crash test of {} with {}", file.display(), script_path.display()));
        std::fs::write(path, oplog_view::html(&page)).map_err(|e| {
            CliError::input(format!("cannot write the HTML report {}: {e}", path.display()))
                .hint("check that the folder exists and is writable")
        })?;
        if !as_json {
            println!("HTML report: {}", path.display());
        }
    }
    if report.crashes_fired == 0 {
        return Err(CliError::input("no crash was injected, so nothing was verified")
            .hint("crash points past the end of the script never fire; try without --seed"));
    }
    Ok(if report.is_ok() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

/// Per agent: oplog entries, crash runs, recovered, failed.
fn per_agent(report: &VerificationReport) -> Vec<(String, usize, usize, usize)> {
    let mut rows: BTreeMap<&str, (usize, usize, usize)> = BTreeMap::new();
    for run in &report.crash_runs {
        for crash in run {
            rows.entry(crash.agent.as_str()).or_default().0 += 1;
        }
    }
    for failure in &report.failures {
        for crash in &failure.crashes {
            rows.entry(crash.agent.as_str()).or_default().2 += 1;
        }
    }
    report
        .reference_oplogs
        .iter()
        .map(|(agent, oplog)| {
            let (runs, _, failed) = rows.get(agent.as_str()).copied().unwrap_or_default();
            (agent.clone(), oplog.len(), runs, failed)
        })
        .collect()
}

fn summary_table(report: &VerificationReport, script: &Path, reproduce: &dyn Fn(&TrialFailure) -> String) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "crash test of {} ({} calls, {} oplog entries in the crash-free run)\n\n",
        script.display(),
        report.reference.results.len(),
        report.reference.oplog_len
    ));
    out.push_str(&format!("{:<40} {:>8} {:>12} {:>8}\n", "agent", "entries", "crash points", "failed"));
    for (agent, entries, runs, failed) in per_agent(report) {
        let agent = safe_line(&agent);
        out.push_str(&format!("{agent:<40} {entries:>8} {runs:>12} {failed:>8}\n"));
    }
    out.push('\n');
    if let Some(seed) = report.seed {
        out.push_str(&format!("seed                  {seed}\n"));
    }
    if let Some(schedule) = report.schedule {
        let verdict = if report.is_ok() { "all passed" } else { "the last failed" };
        out.push_str(&format!(
            "schedules explored    {} ({verdict}; these runs: {schedule})\n",
            report.schedules_explored
        ));
        for switch in &report.reference.interleaving {
            out.push_str(&format!("  interleaving        {}\n", safe_line(switch)));
        }
    }
    out.push_str(&format!("crash runs            {}\n", report.runs));
    out.push_str(&format!("crashes injected      {}\n", report.crashes_fired));
    out.push_str(&format!("recovered             {}\n", report.recovered));
    out.push_str(&format!("failed                {}\n", report.failures.len()));
    out.push_str(&format!(
        "repeated effects      {} (identical repeats after a crash between an effect and its entry, as Golem repeats them)\n",
        report.retried_effects
    ));
    if report.started_at_crash > 0 {
        out.push_str(&format!(
            "started at the crash  {} of {} runs ({} rejoined the crash-free run early)\n",
            report.started_at_crash, report.runs, report.rejoined
        ));
    }
    out.push_str(&format!("time                  {:.2?} ({:.0} runs/s)\n", report.elapsed, report.runs_per_second()));
    for failure in &report.failures {
        out.push_str(&format!("FAIL {}\n", safe(&failure_text(failure))));
        out.push_str(&format!("  reproduce: {}\n", safe(&reproduce(failure))));
    }
    if let Some(minimal) = &report.minimal {
        out.push_str(&format!("MINIMAL {}\n", safe(&failure_text(minimal))));
        out.push_str(&format!("  reproduce: {}\n", safe(&reproduce(minimal))));
    }
    out.push_str(if report.crashes_fired == 0 {
        "result                NOTHING VERIFIED: no run reached its crash point\n"
    } else if report.failures.is_empty() {
        "result                every crashed run recovered to the crash-free outcome\n"
    } else {
        "result                DIVERGED: replay is not correct for the runs above\n"
    });
    out
}

/// A failed run on one line (a guest's multi-line message folded under it).
fn failure_text(failure: &reprise_testkit::verify::TrialFailure) -> String {
    one_line(&failure.summary())
}

fn point_json(point: &CrashPoint) -> serde_json::Value {
    match point {
        CrashPoint::AfterEntry(i) => json!({"after_entry": i}),
        CrashPoint::BeforePersist(i) => json!({"before_persist": i}),
    }
}

fn report_json(report: &VerificationReport, reproduce: &dyn Fn(&TrialFailure) -> String) -> serde_json::Value {
    let failure = |f: &TrialFailure| {
        json!({
            "crashes": f.crashes.iter().map(|c| json!({"agent": c.agent, "point": point_json(&c.point)})).collect::<Vec<_>>(),
            "diverged_at": f.diverged_at,
            "message": failure_text(f),
            "store_diff": f.store_diff,
            "rule": f.rule,
            "reproduce": reproduce(f),
        })
    };
    json!({
        "ok": report.is_ok(),
        "calls": report.reference.results.len(),
        "oplog_entries": report.reference.oplog_len,
        "agents": per_agent(report).into_iter().map(|(agent, entries, runs, failed)| json!({
            "agent": agent, "entries": entries, "crash_points": runs, "failed": failed,
        })).collect::<Vec<_>>(),
        "seed": report.seed,
        "schedule_seed": match report.schedule {
            Some(reprise_testkit::Schedule::Seeded(seed)) => Some(seed),
            _ => None,
        },
        "schedules_explored": report.schedules_explored,
        "interleaving": report.reference.interleaving,
        "runs": report.runs,
        "crashes_injected": report.crashes_fired,
        "recovered": report.recovered,
        "retried_side_effects": report.retried_effects,
        "started_at_crash": report.started_at_crash,
        "rejoined": report.rejoined,
        "elapsed_ms": report.elapsed.as_secs_f64() * 1000.0,
        "failures": report.failures.iter().map(failure).collect::<Vec<_>>(),
        "minimal": report.minimal.as_ref().map(failure),
    })
}

/// The HTML page: one timeline per agent, with every crash run marked at its
/// point (green recovered, red failed) and divergences highlighted.
fn page(report: &VerificationReport, title: &str) -> Page {
    let failed: BTreeMap<&[reprise_testkit::verify::AgentCrash], &reprise_testkit::verify::TrialFailure> =
        report.failures.iter().map(|f| (f.crashes.as_slice(), f)).collect();
    let mut timelines: Vec<Timeline> =
        report.reference_oplogs.iter().map(|(agent, oplog)| Timeline::plain(agent.clone(), oplog)).collect();
    for run in &report.crash_runs {
        let failure = failed.get(run.as_slice());
        for crash in run {
            let Some(t) = timelines.iter_mut().find(|t| t.agent == crash.agent) else { continue };
            let (index, point) = match crash.point {
                CrashPoint::AfterEntry(i) => (i, "after"),
                CrashPoint::BeforePersist(i) => (i, "before-persist"),
            };
            t.crashes.push(CrashMark {
                index,
                point,
                recovered: failure.is_none(),
                message: failure.map(|f| failure_text(f)),
            });
        }
        if let (Some(f), Some(first)) = (failure, run.first())
            && let Some(at) = f.diverged_at
            && let Some(t) = timelines.iter_mut().find(|t| t.agent == first.agent)
        {
            t.diverged.push(at);
        }
    }
    let mut summary = vec![
        ("calls".to_string(), report.reference.results.len().to_string()),
        ("crash runs".to_string(), report.runs.to_string()),
        ("crashes injected".to_string(), report.crashes_fired.to_string()),
        ("recovered".to_string(), report.recovered.to_string()),
        ("failed".to_string(), report.failures.len().to_string()),
        ("repeated effects".to_string(), report.retried_effects.to_string()),
        ("time".to_string(), format!("{:.2?}", report.elapsed)),
    ];
    if let Some(seed) = report.seed {
        summary.insert(1, ("seed".to_string(), seed.to_string()));
    }
    Page {
        title: title.to_string(),
        ok: Some(report.is_ok()),
        summary,
        timelines,
        failures: report.failures.iter().map(failure_text).collect(),
    }
}
