//! The HTML crash report in a real browser: Debian's headless chromium loads
//! it, its script draws the timeline, and the drawn page is checked and
//! photographed (`target/reprise-screenshots/`).
#![allow(clippy::unwrap_used, clippy::panic)]

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use support::{arg, probe, reprise};

fn chromium() -> PathBuf {
    let path = std::env::var_os("REPRISE_CHROMIUM").map(PathBuf::from).unwrap_or_else(|| "/usr/bin/chromium".into());
    assert!(
        path.is_file(),
        "{} is missing: this test needs Debian's chromium (`apt-get install chromium`; .ci/run installs it)",
        path.display()
    );
    path
}

/// Run headless chromium on `page` with `extra` arguments; returns stdout.
fn headless(page: &Path, profile: &Path, extra: &[&str]) -> String {
    let out = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(extra)
        .arg(format!("file://{}", page.display()))
        .output()
        .unwrap();
    assert!(out.status.success(), "chromium failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn the_crash_report_renders_its_timeline_in_chromium() {
    let dir = tempfile::tempdir().unwrap();
    // A scenario that diverges on replay, so the page has failed marks too;
    // the agent's name is text from the script (and its id shown on the page)
    // that opens an HTML comment and a script element, which must not end or
    // blank the page's data (issue 19).
    let script = dir.path().join("flaky.script");
    let calls = "probe(\"<!--<script>p\")\nset-mode(\"a\")\nflaky()\ntraced(\"o-1\")\nset-mode(\"b\")\ncount()\n";
    std::fs::write(&script, calls).unwrap();
    let page = dir.path().join("report.html");
    let run = reprise(&["crash-test", arg(&probe()), arg(&script), "--json", "--html", arg(&page)]).code(1);
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let entries = report["agents"][0]["entries"].as_u64().unwrap() as usize;
    let crash_points = report["agents"][0]["crash_points"].as_u64().unwrap() as usize;
    let failed = report["failures"].as_array().unwrap().len();
    assert!(entries > 5 && failed > 0, "{report}");

    // The DOM after the page's script ran.
    let dom = headless(&page, &dir.path().join("profile-dom"), &["--dump-dom"]);
    assert!(dom.contains("data-rendered=\"true\""), "the script did not finish:\n{dom}");
    assert_eq!(dom.matches("<div class=\"entry kind-").count(), entries, "one row per oplog entry");
    assert_eq!(dom.matches("class=\"crash ").count(), crash_points, "one mark per crash run");
    assert_eq!(dom.matches("class=\"crash failed\"").count(), failed);
    assert!(dom.contains(" diverged\" data-index="), "the divergence is highlighted");
    assert!(dom.contains("Some crashed runs did not recover."));
    // Spans: two started, two finished, the entries between them indented.
    assert_eq!(dom.matches("<div class=\"entry kind-start-span").count(), 2);
    assert_eq!(dom.matches("<div class=\"entry kind-finish-span").count(), 2);
    assert!(dom.contains("&nbsp;&nbsp;&nbsp;&nbsp;setting span attribute `provider`"), "inside the inner span: {dom}");
    assert_eq!(dom.matches("<li class=\"failure\">").count(), failed);

    // A screenshot of it, kept with the build output.
    let shots = support::repo().join("target/reprise-screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let shot = shots.join("crash-report.png");
    let _ = std::fs::remove_file(&shot);
    headless(
        &page,
        &dir.path().join("profile-shot"),
        &[&format!("--screenshot={}", shot.display()), "--window-size=1280,1600", "--hide-scrollbars"],
    );
    let png = std::fs::read(&shot).unwrap();
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n") && png.len() > 10_000, "{} bytes", png.len());
}

#[test]
fn the_oplog_page_renders_every_entry_in_chromium() {
    let dir = tempfile::tempdir().unwrap();
    let oplog = dir.path().join("counter.oplog");
    let counter = support::example("counter");
    reprise(&["run", arg(&counter), "Counter(\"h\")", "increment(1)", "increment(2)", "--oplog-file", arg(&oplog)])
        .code(0);
    let page = dir.path().join("oplog.html");
    reprise(&["oplog", arg(&oplog), "--format", "html", "--output", arg(&page)]).code(0);
    let dom = headless(&page, &dir.path().join("profile"), &["--dump-dom"]);
    assert!(dom.contains("data-rendered=\"true\""), "{dom}");
    // create, constructor start and end, two calls with a start and an end each.
    assert_eq!(dom.matches("<div class=\"entry kind-").count(), 7, "{dom}");
    assert_eq!(dom.matches("<div class=\"entry kind-agent-invocation-started").count(), 3, "{dom}");
    assert!(!dom.contains("class=\"crash "), "a plain oplog has no crash marks");
}
