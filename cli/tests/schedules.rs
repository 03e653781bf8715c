//! `reprise crash-test --schedules N`: the crash test under N seeded
//! interleavings of the agents, stopping at the first seed that fails, and
//! `--schedule-seed S`, which runs that seed alone, as the failure's
//! `reproduce:` line says.
#![allow(clippy::unwrap_used, clippy::panic)]

mod support;

use support::{arg, probe, reprise};

#[test]
fn schedules_find_a_race_and_its_seed_alone_reproduces_it() {
    let probe = probe();
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("race.script");
    // `a` triggers a write on `b`, then reads the key: run sequentially, the
    // read comes first, as the script states.
    std::fs::write(&script, "probe(\"a\")\ntrigger-put(\"b\", \"k\", \"v\") -> none\n").unwrap();
    let run = reprise(&["crash-test", arg(&probe), arg(&script)]).code(0);
    assert!(!run.stdout.contains("UNMET"), "{}", run.stdout);

    // Explored, the first seed that lets `b` write before `a` reads fails:
    // crash-free, or once a crash has moved `a`'s read after the write.
    let run = reprise(&["crash-test", arg(&probe), arg(&script), "--schedules", "100"]).code(1);
    let out = &run.stdout;
    assert!(out.contains("interleaving        agent `probe(\"a\")` before entry"), "{out}");
    assert!(
        out.contains("returned Ok([Option(Some(String(\"v\")))])") || out.contains("returned some(\"v\")"),
        "{out}"
    );
    let reproduce = out.lines().find_map(|l| l.trim().strip_prefix("reproduce: ")).unwrap_or_else(|| panic!("{out}"));
    let seed = reproduce.split("--schedule-seed ").nth(1).and_then(|s| s.split(' ').next()).unwrap().to_string();
    let crashes: Vec<&str> = reproduce.split("--at '").skip(1).filter_map(|s| s.split('\'').next()).collect();

    // The reproduction runs that seed (and those crashes) alone, and fails the same way.
    let mut args = vec!["crash-test", arg(&probe), arg(&script), "--schedule-seed", &seed, "--json"];
    for crash in &crashes {
        args.extend(["--at", crash]);
    }
    let json: serde_json::Value = serde_json::from_str(&reprise(&args).code(1).stdout).unwrap();
    assert_eq!(json["schedule_seed"].as_u64().unwrap().to_string(), seed);
    assert_eq!(json["schedules_explored"], 1);
    let failed = json["failures"].as_array().unwrap().len() + json["unmet_expectations"].as_array().unwrap().len();
    assert_eq!(failed, 1, "{json}");

    let zero = reprise(&["crash-test", arg(&probe), arg(&script), "--schedules", "0"]).code(2);
    assert!(zero.stderr.contains("must be at least 1"), "{}", zero.stderr);
}

#[test]
fn a_failure_under_a_schedule_is_shrunk_to_a_command_without_it_when_it_fails_in_order_too() {
    let probe = probe();
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("audit.script");
    // A write inside a function declared read-remote repeats after a crash,
    // whatever the interleaving.
    std::fs::write(&script, "probe(\"auditor\")\naudit(\"acct\")\n").unwrap();
    let run = reprise(&["crash-test", arg(&probe), arg(&script), "--schedules", "3"]).code(1);
    let out = &run.stdout;
    let lines: Vec<&str> = out.lines().collect();
    let at = lines.iter().position(|l| l.starts_with("MINIMAL ")).unwrap_or_else(|| panic!("{out}"));
    let reproduce = lines[at + 1].trim().strip_prefix("reproduce: ").unwrap_or_else(|| panic!("{out}"));
    assert!(reproduce.starts_with("reprise crash-test ") && reproduce.contains("--at '"), "{reproduce}");
    assert!(!reproduce.contains("--schedule-seed"), "the failure needs no interleaving: {reproduce}");
    // The failures themselves name their seed.
    assert!(out.contains("--schedule-seed 0"), "{out}");

    // The minimal command fails alone.
    let crashes: Vec<&str> = reproduce.split("--at '").skip(1).filter_map(|s| s.split('\'').next()).collect();
    let mut args = vec!["crash-test", arg(&probe), arg(&script)];
    for crash in &crashes {
        args.extend(["--at", crash]);
    }
    let again = reprise(&args).code(1);
    assert!(again.stdout.contains("FAIL "), "{}", again.stdout);
}
