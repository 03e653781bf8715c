//! Every subcommand of the built `reprise` binary, with good input and bad:
//! what it prints and how it exits (0 success, 1 the component misbehaved,
//! 2 bad input).
#![allow(clippy::unwrap_used, clippy::panic)]

mod support;

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};

use support::{arg, example, example_with, probe, probe_with, reprise, reprise_in};
use wit_component::{ComponentEncoder, StringEncoding, dummy_module, embed_component_metadata};
use wit_parser::{ManglingAndAbi, Resolve};

/// A component importing `golem:api/host@1.4.0`: a version Golem 1.5 lacks.
fn golem_1_4_component(dir: &Path) -> std::path::PathBuf {
    let wit = "package test:old;
        world test { import golem:api/host@1.4.0; }
        package golem:api@1.4.0 { interface host { get-oplog-index: func() -> u64; } }";
    let mut resolve = Resolve::default();
    let pkg = resolve.push_str("test.wit", wit).unwrap();
    let world = resolve.select_world(&[pkg], Some("test")).unwrap();
    let mut module = dummy_module(&resolve, world, ManglingAndAbi::Standard32);
    embed_component_metadata(&mut module, &resolve, world, StringEncoding::UTF8).unwrap();
    let bytes = ComponentEncoder::default().module(&module).unwrap().validate(true).encode().unwrap();
    let path = dir.join("old.wasm");
    std::fs::write(&path, bytes).unwrap();
    path
}

#[test]
fn every_command_has_help_with_an_example() {
    for command in ["new", "build", "inspect", "run", "crash-test", "oplog", "plugins"] {
        let run = reprise(&[command, "--help"]).code(0);
        assert!(run.stdout.contains("Example:"), "{command} --help:\n{}", run.stdout);
        assert!(run.stdout.contains(&format!("reprise {command}")), "{command} --help:\n{}", run.stdout);
    }
    let run = reprise(&["--help"]).code(0);
    assert!(run.stdout.contains("crash-test") && run.stdout.contains("Exit codes"), "{}", run.stdout);
    // Usage errors are clap's: exit code 2 with the usage line.
    let run = reprise(&["run"]).code(2);
    assert!(run.stderr.contains("Usage: reprise run"), "{}", run.stderr);
}

#[test]
fn inspect_shows_imports_exports_agent_types_and_size() {
    let counter = example("counter");
    let run = reprise(&["inspect", arg(&counter)]).code(0);
    let size = std::fs::metadata(&counter).unwrap().len();
    assert!(run.stdout.contains(&format!("{size} bytes")), "{}", run.stdout);
    assert!(run.stdout.contains("golem:agent/guest@1.5.0"), "{}", run.stdout);
    assert!(run.stdout.contains("every import is provided by Golem 1.5"), "{}", run.stdout);
    assert!(run.stdout.contains("agent type Counter"), "{}", run.stdout);
    assert!(run.stdout.contains("increment(by: u64) -> u64"), "{}", run.stdout);

    let run = reprise(&["inspect", arg(&counter), "--json"]).code(0);
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(json["size"], size);
    assert_eq!(json["golem_1_5"]["compatible"], true);
    assert!(json["exports"].as_array().unwrap().iter().any(|e| e["name"] == "golem:agent/guest@1.5.0"));
    let counter_type = &json["agent_types"][0];
    assert_eq!(counter_type["name"], "Counter");
    assert_eq!(counter_type["constructor"][0], serde_json::json!({"name": "name", "type": "string"}));
    let increment = counter_type["methods"].as_array().unwrap().iter().find(|m| m["name"] == "increment").unwrap();
    assert_eq!(increment["parameters"][0]["type"], "u64");
    assert_eq!(increment["results"][0]["type"], "u64");

    let plugin = example("oplog-jsonl");
    let run = reprise(&["inspect", arg(&plugin)]).code(0);
    assert!(run.stdout.contains("oplog-processor plugin: exports golem:api/oplog-processor@1.5.0"), "{}", run.stdout);
}

#[test]
fn bad_component_files_are_named_with_a_hint() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.wasm");
    for command in ["inspect", "run"] {
        let mut args = vec![command, arg(&missing)];
        if command == "run" {
            args.push("Counter(\"a\")");
        }
        reprise(&args).error(2, "cannot read");
    }

    let text = dir.path().join("notes.wasm");
    std::fs::write(&text, "hello").unwrap();
    reprise(&["inspect", arg(&text)]).error(2, "not a WebAssembly file");
    reprise(&["run", arg(&text), "Counter(\"a\")"]).error(2, "not a WebAssembly file");

    let core = dir.path().join("core.wasm");
    std::fs::write(&core, b"\0asm\x01\0\0\0").unwrap();
    reprise(&["inspect", arg(&core)]).error(2, "core WebAssembly module, not a component");

    // A wrong interface version: inspect lists it and exits 1; loading refuses it.
    let old = golem_1_4_component(dir.path());
    let run = reprise(&["inspect", arg(&old)]).code(1);
    assert!(run.stdout.contains("golem:api/host@1.4.0"), "{}", run.stdout);
    assert!(run.stdout.contains("NOT runnable on Golem 1.5"), "{}", run.stdout);
    assert!(run.stdout.contains("provides this package only as"), "{}", run.stdout);
    let run = reprise(&["run", arg(&old), "Counter(\"a\")"]).error(2, "golem:api/host@1.4.0");
    assert!(run.stderr.contains("hint: Golem 1.5 does not provide that interface or version"), "{}", run.stderr);
    let script = dir.path().join("s.script");
    std::fs::write(&script, "Counter(\"a\")\n").unwrap();
    reprise(&["crash-test", arg(&old), arg(&script)]).error(2, "golem:api/host@1.4.0");
}

#[test]
fn run_creates_an_agent_calls_it_and_prints_results_in_wave() {
    let counter = example("counter");
    let run = reprise(&["run", arg(&counter), "Counter(\"visits\")", "increment(2)", "increment(3)", "name()"]).code(0);
    assert_eq!(run.stdout, "created counter(\"visits\")\nincrement(2) -> 2\nincrement(3) -> 5\nname() -> \"visits\"\n");

    // Kebab-case type names and snake_case method names are accepted too.
    let cart = example("shopping-cart");
    let run = reprise(&["run", arg(&cart), "shopping-cart(\"alice\")", "add_item(\"tea\", 2)", "items()"]).code(0);
    assert!(run.stdout.contains("created shopping-cart(\"alice\")"), "{}", run.stdout);
    assert!(run.stdout.contains("add_item(\"tea\", 2) -> err(\"`tea` is not in the catalog\")"), "{}", run.stdout);
    // The same with the price preloaded into the key-value store.
    let run = reprise(&["run", arg(&cart), "ShoppingCart(\"bob\")", "add_item(\"tea\", 2)", "--kv", "prices/tea=250"])
        .code(0);
    assert!(run.stdout.contains("add_item(\"tea\", 2) -> ok(2)"), "{}", run.stdout);
    reprise(&["run", arg(&cart), "ShoppingCart(\"bob\")", "--kv", "prices=250"])
        .error(2, "`prices=250` is not a key-value entry");

    let run = reprise(&["run", arg(&counter), "Counter(\"o\")", "increment(1)", "--oplog"]).code(0);
    assert!(run.stdout.contains("oplog of counter(\"o\") (5 entries)"), "{}", run.stdout);
    assert!(run.stdout.contains("agent-invocation-started     the start of method `increment`"), "{}", run.stdout);
}

#[test]
fn run_refuses_bad_calls_before_creating_the_agent() {
    let counter = example("counter");
    let c = arg(&counter);
    let run = reprise(&["run", c, "Counter(\"a\")", "increment(\"two\")"]).error(2, "bad arguments for `increment`");
    assert!(run.stderr.contains("hint: expected increment(by: u64)"), "{}", run.stderr);
    assert!(run.stdout.is_empty(), "nothing ran: {}", run.stdout);
    let run = reprise(&["run", c, "Counter(\"a\")", "increment(1)", "decrement(1)"])
        .error(2, "agent type `Counter` has no method `decrement`");
    assert!(run.stderr.contains("hint: its methods: increment, get, name"), "{}", run.stderr);
    assert!(run.stdout.is_empty(), "the valid first call did not run either: {}", run.stdout);
    reprise(&["run", c, "Countr(\"a\")"]).error(2, "the component has no agent type `Countr`");
    reprise(&["run", c, "Counter(1)"]).error(2, "bad arguments for `Counter`");
    reprise(&["run", c, "Counter(\"a\")", "get"]).error(2, "`get` is not a call");
    reprise(&["run", c, "Counter(\"a\")", "get(1)"]).error(2, "`get` takes no arguments");
    // A plugin has no agent types to create.
    reprise(&["run", arg(&example("oplog-jsonl")), "Counter(\"a\")"]).error(2, "defines no agent types");
}

/// The check before an update, on an example: a cart recorded with the
/// deployed revision replays with one that adds a log line and diverges with
/// one that swaps two calls, naming the recorded entry and the call made.
#[test]
fn replay_tells_a_compatible_example_revision_from_an_incompatible_one() {
    let dir = tempfile::tempdir().unwrap();
    let oplog = dir.path().join("alice.oplog");
    let (cart, oplog_arg) = (example("shopping-cart"), arg(&oplog));
    let calls = ["ShoppingCart(\"alice\")", "add_item(\"tea\", 2)", "checkout()"];
    reprise(&[&["run", arg(&cart)][..], &calls, &["--kv", "prices/tea=350", "--oplog-file", oplog_arg]].concat())
        .code(0);

    let logged = example_with("shopping-cart", "revision-logged");
    let run = reprise(&["replay", arg(&logged), oplog_arg]).code(0);
    assert!(run.stdout.contains("alice.oplog: replays (") && run.stdout.contains("3 invocations"), "{}", run.stdout);
    let swapped = example_with("shopping-cart", "revision-swapped");
    let run = reprise(&["replay", arg(&swapped), oplog_arg]).code(1);
    assert!(run.stdout.contains("alice.oplog: diverges: replay diverged at oplog index"), "{}", run.stdout);
    assert!(run.stdout.contains("keyvalue::eventual_batch::set_many"), "{}", run.stdout);
    assert!(run.stdout.contains("1 of 1 oplog(s) do not replay"), "{}", run.stdout);
}

#[test]
fn replay_checks_recorded_oplogs_against_a_revision_and_run_resumes_one() {
    let dir = tempfile::tempdir().unwrap();
    let oplog = dir.path().join("p.oplog");
    let oplog_arg = arg(&oplog);
    reprise(&["run", arg(&probe()), "probe(\"p\")", "count()", "count()", "--oplog-file", oplog_arg]).code(0);

    let run = reprise(&["replay", arg(&probe_with("v2")), oplog_arg]).code(0);
    assert!(run.stdout.contains("p.oplog: replays (") && run.stdout.contains("3 invocations"), "{}", run.stdout);
    let run = reprise(&["replay", arg(&probe_with("v2-incompatible")), oplog_arg]).code(1);
    assert!(run.stdout.contains("p.oplog: diverges: replay diverged at oplog index"), "{}", run.stdout);
    assert!(run.stdout.contains("1 of 1 oplog(s) do not replay"), "{}", run.stdout);
    reprise(&["replay", arg(&probe()), arg(&dir.path().join("none.oplog"))]).code(1);

    // The agent goes on where the file left it.
    let run =
        reprise(&["run", arg(&probe()), "probe(\"p\")", "count()", "--oplog-file", oplog_arg, "--resume"]).code(0);
    assert_eq!(
        run.stdout.lines().take(2).collect::<Vec<_>>(),
        ["resumed probe(\"p\")", "count() -> 3"],
        "{}",
        run.stdout
    );
    reprise(&["run", arg(&probe()), "probe(\"q\")", "count()", "--oplog-file", oplog_arg, "--resume"])
        .error(2, "holds agent probe(\"p\"), not probe(\"q\")");
    reprise(&["run", arg(&probe()), "probe(\"p\")", "--oplog-file", oplog_arg]).error(2, "add --resume");
}

#[test]
fn a_trapping_call_ends_the_run_with_exit_1_and_the_guests_message() {
    let run = reprise(&["run", arg(&probe()), "probe(\"t\")", "count()", "trap()", "count()"]);
    let run = run.error(1, "trap() failed: the guest trapped");
    assert!(run.stderr.contains("probe asked to trap"), "{}", run.stderr);
    assert_eq!(run.stdout, "created probe(\"t\")\ncount() -> 1\n", "the call after the trap did not run");
}

#[test]
fn run_keeps_the_oplog_in_a_file_that_oplog_prints() {
    let counter = example("counter");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("counter.oplog");
    let run = reprise(&["run", arg(&counter), "Counter(\"f\")", "increment(4)", "--oplog-file", arg(&file)]).code(0);
    assert!(run.stdout.contains("oplog written to"), "{}", run.stdout);
    // An existing oplog is never overwritten.
    reprise(&["run", arg(&counter), "Counter(\"f\")", "--oplog-file", arg(&file)]).error(2, "already exists");

    let text = reprise(&["oplog", arg(&file)]).code(0).stdout;
    assert_eq!(text.lines().count(), 5, "{text}");
    assert!(text.lines().next().unwrap().contains("create") && text.contains("creation of agent `counter(\"f\")`"));
    // Entries show what they carry: the call's input and result, in WAVE.
    assert!(text.contains("the start of method `increment` (4)") && text.contains("invocation -> 4"), "{text}");

    let json = reprise(&["oplog", arg(&file), "--format", "json"]).code(0).stdout;
    let entries: Vec<serde_json::Value> = serde_json::from_str(&json).unwrap();
    let kinds: Vec<&str> = entries.iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        [
            "create",
            "agent-invocation-started",
            "agent-invocation-finished",
            "agent-invocation-started",
            "agent-invocation-finished"
        ]
    );
    assert_eq!(entries[3]["index"], 4);
    assert!(entries[3]["entry"]["AgentInvocationStarted"].is_object(), "{}", entries[3]);

    let html = dir.path().join("counter.html");
    reprise(&["oplog", arg(&file), "--format", "html", "--output", arg(&html)]).code(0);
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.starts_with("<!DOCTYPE html>") && page.contains("report-data"), "{page}");

    // A torn tail: the intact entries are printed, the damage reported, the file untouched.
    let bytes = std::fs::read(&file).unwrap();
    let torn = dir.path().join("torn.oplog");
    std::fs::write(&torn, &bytes[..bytes.len() - 3]).unwrap();
    let run = reprise(&["oplog", arg(&torn)]).code(1);
    assert_eq!(run.stdout.lines().count(), 4, "{}", run.stdout);
    assert!(run.stderr.starts_with("warning: "), "{}", run.stderr);
    assert_eq!(std::fs::read(&torn).unwrap().len(), bytes.len() - 3, "a viewer does not repair");

    // Damage in the middle (a zeroed block over entry 3): the entries after
    // it are shown apart, with their own indexes, as not replayable.
    let mut zeroed = bytes.clone();
    let at = bytes.len() / 2;
    zeroed[at..at + 8].fill(0);
    let damaged = dir.path().join("damaged.oplog");
    std::fs::write(&damaged, &zeroed).unwrap();
    let run = reprise(&["oplog", arg(&damaged)]).code(1);
    let (kept, found) = run.stdout.split_once("----- damaged at entry").unwrap_or_else(|| panic!("{}", run.stdout));
    assert!(kept.lines().count() >= 1 && found.contains("not replayable"), "{}", run.stdout);
    let last = found.lines().last().unwrap();
    assert!(last.trim_start().starts_with("5 ") && last.contains("agent-invocation-finished"), "{}", run.stdout);
    assert!(run.stderr.contains("sound entr"), "{}", run.stderr);
    let json = reprise(&["oplog", arg(&damaged), "--format", "json"]).code(1).stdout;
    let listed: Vec<serde_json::Value> = serde_json::from_str(&json).unwrap();
    assert_eq!(listed.last().unwrap()["index"], 5);
    assert_eq!(listed.last().unwrap()["salvaged"], true);

    reprise(&["oplog", arg(&counter)]).error(2, "is not a Reprise oplog file");
    reprise(&["oplog", arg(&dir.path().join("none.oplog"))]).error(2, "cannot read the oplog");
}

#[test]
fn crash_test_scripts_may_state_the_results_calls_must_give() {
    let counter = example("counter");
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("counter.script");
    std::fs::write(&script, "Counter(\"c\")\nincrement(2) -> 2\nincrement(3) -> 5\nget()\n").unwrap();
    let run = reprise(&["crash-test", arg(&counter), arg(&script)]).code(0);
    assert!(!run.stdout.contains("UNMET"), "{}", run.stdout);

    std::fs::write(&script, "Counter(\"c\")\nincrement(2) -> 2\nincrement(3) -> 6\n").unwrap();
    let run = reprise(&["crash-test", arg(&counter), arg(&script)]).code(1);
    assert!(run.stdout.contains("counter.script:3: increment(3) returned 5, the script expects 6"), "{}", run.stdout);
    // The crashed runs themselves all recovered: the summary does not say otherwise.
    assert!(run.stdout.contains("every crashed run recovered") && !run.stdout.contains("DIVERGED"), "{}", run.stdout);
    let run = reprise(&["crash-test", arg(&counter), arg(&script), "--json"]).code(1);
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(json["ok"], false);
    assert_eq!(json["unmet_expectations"].as_array().unwrap().len(), 1);

    std::fs::write(&script, "Counter(\"c\")\nincrement(2) -> two\n").unwrap();
    reprise(&["crash-test", arg(&counter), arg(&script)])
        .error(2, "counter.script:2: the expected result `two` is not a u64");
}

#[test]
fn crash_test_verifies_every_point_and_reports_a_table_json_and_html() {
    let counter = example("counter");
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("counter.script");
    std::fs::write(&script, "# a counter\nCounter(\"c\")\n\nincrement(2)\nincrement(3)\nget()\n").unwrap();
    let html = dir.path().join("report.html");
    let run = reprise(&["crash-test", arg(&counter), arg(&script), "--html", arg(&html)]).code(0);
    // 9 entries: create, then a start and an end for the constructor and each call.
    assert!(run.stdout.contains("(3 calls, 9 oplog entries in the crash-free run)"), "{}", run.stdout);
    let row = run.stdout.lines().find(|l| l.starts_with("counter(\"c\")")).unwrap();
    assert_eq!(row.split_whitespace().collect::<Vec<_>>(), ["counter(\"c\")", "9", "8", "0"], "{}", run.stdout);
    assert!(run.stdout.contains("recovered             8\n"), "{}", run.stdout);
    assert!(run.stdout.contains("every crashed run recovered"), "{}", run.stdout);
    assert!(std::fs::read_to_string(&html).unwrap().contains("\"recovered\":true"));

    let run = reprise(&["crash-test", arg(&counter), arg(&script), "--json", "--seed", "7", "--trials", "5"]).code(0);
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(json["ok"], true);
    assert_eq!(json["seed"], 7);
    assert_eq!(json["results"][2], serde_json::json!({"call": "get()", "result": "5"}));
    assert_eq!(json["runs"], 5);
    assert_eq!(json["recovered"], 5);
    // Three points drawn per run; a point past where the run ends does not fire.
    let fired = json["crashes_injected"].as_u64().unwrap();
    assert!((5..=15).contains(&fired), "{fired}");

    // Twenty buffered reads in one call: --every-entry crashes after each of
    // them; the default, once after their commit.
    let probe = probe();
    let script = dir.path().join("reads.script");
    std::fs::write(&script, "probe(\"r\")\nrandoms(20)\n").unwrap();
    let runs = |extra: &[&str]| {
        let mut args = vec!["crash-test", arg(&probe), arg(&script), "--json"];
        args.extend_from_slice(extra);
        let json: serde_json::Value = serde_json::from_str(&reprise(&args).code(0).stdout).unwrap();
        json["runs"].as_u64().unwrap()
    };
    let (every, distinct) = (runs(&["--every-entry"]), runs(&[]));
    assert!(distinct + 19 <= every, "{distinct} distinct runs, {every} for every point");
}

/// Issue 19: reports never replace a command's inputs, nor another file
/// unless `--force`; counts that would verify nothing are refused.
#[test]
fn outputs_never_replace_inputs_and_empty_verifications_are_refused() {
    let counter = example("counter");
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("counter.script");
    std::fs::write(&script, "Counter(\"c\")\nincrement(2)\n").unwrap();
    let oplog = dir.path().join("c.oplog");
    reprise(&["run", arg(&counter), "Counter(\"o\")", "increment(1)", "--oplog-file", arg(&oplog)]).code(0);
    let recorded = std::fs::read(&oplog).unwrap();

    // The oplog printed as HTML over itself: refused, the oplog untouched.
    reprise(&["oplog", arg(&oplog), "--format", "html", "--output", arg(&oplog), "--force"]).error(2, "also an input");
    assert_eq!(std::fs::read(&oplog).unwrap(), recorded);
    // The crash report over the component or the script: refused before any run.
    let component = std::fs::read(&counter).unwrap();
    reprise(&["crash-test", arg(&counter), arg(&script), "--html", arg(&counter), "--force"]).error(2, "also an input");
    reprise(&["crash-test", arg(&counter), arg(&script), "--html", arg(&script)]).error(2, "also an input");
    assert_eq!(std::fs::read(&counter).unwrap(), component);

    // Another existing file: only with --force.
    let page = dir.path().join("page.html");
    std::fs::write(&page, "keep me").unwrap();
    reprise(&["oplog", arg(&oplog), "--format", "html", "--output", arg(&page)]).error(2, "already exists");
    assert_eq!(std::fs::read_to_string(&page).unwrap(), "keep me");
    reprise(&["oplog", arg(&oplog), "--format", "html", "--output", arg(&page), "--force"]).code(0);
    assert!(std::fs::read_to_string(&page).unwrap().starts_with("<!DOCTYPE html>"));

    // Counts that make the verification empty.
    for flag in ["--trials", "--crashes"] {
        let run = reprise(&["crash-test", arg(&counter), arg(&script), "--seed", "1", flag, "0"]).code(2);
        assert!(run.stderr.contains("must be at least 1 (0 would verify nothing)"), "{}", run.stderr);
    }
}

/// Issue 19: text a guest controls cannot clear the screen or forge lines.
#[test]
fn guest_text_is_printed_escaped_and_cannot_forge_hints() {
    let probe = probe();
    let hostile = r#"log("\u{1b}[2J\u{1b}[31mred\nhint: run something bad")"#;
    let run = reprise(&["run", arg(&probe), "probe(\"t\")", hostile, "--oplog"]).code(0);
    assert!(!run.stdout.contains('\u{1b}'), "{}", run.stdout);
    assert!(run.stdout.contains("\\u{1b}[2J"), "shown, escaped: {}", run.stdout);
    assert!(!run.stdout.lines().any(|l| l.starts_with("hint:")), "{}", run.stdout);
    assert!(run.stdout.lines().any(|l| l.contains("log [probe]") && l.contains("\\u{a}hint: run")), "{}", run.stdout);
}

/// Issue 19: inputs are checked before they are read whole: devices, pipes
/// and huge files are refused at once, with a clear error.
#[test]
fn special_and_huge_inputs_are_refused_before_they_are_read() {
    let counter = example("counter");
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("c.script");
    std::fs::write(&script, "Counter(\"c\")\nincrement(1)\n").unwrap();
    let fifo = dir.path().join("pipe");
    assert!(Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    // A 3 GiB file (sparse: nothing is written) that is not a component, and
    // one that starts like a component but is too large.
    let huge_text = dir.path().join("huge.txt");
    let f = std::fs::File::create(&huge_text).unwrap();
    f.set_len(3 << 30).unwrap();
    let huge_wasm = dir.path().join("huge.wasm");
    let mut f = std::fs::File::create(&huge_wasm).unwrap();
    f.write_all(b"\0asm\x0d\x00\x01\x00").unwrap();
    f.set_len(3 << 30).unwrap();

    for input in [Path::new("/dev/zero"), fifo.as_path()] {
        reprise(&["inspect", arg(input)]).error(2, "not a regular file");
        reprise(&["oplog", arg(input)]).error(2, "not a regular file");
        reprise(&["crash-test", arg(&counter), arg(input)]).error(2, "not a regular file");
    }
    reprise(&["inspect", arg(&huge_text)]).error(2, "not a WebAssembly file");
    reprise(&["inspect", arg(&huge_wasm)]).error(2, "more than the");
    reprise(&["oplog", arg(&huge_text)]).error(2, "not a Reprise oplog file");
}

/// Issue 19: a component whose agent discovery panics is reported as the
/// component's failure (exit 1) with the guest's message, not as bad input
/// blamed on the script's first line.
#[test]
fn a_component_failing_discovery_is_its_own_failure_with_the_guests_message() {
    let broken = probe_with("discovery-panics");
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("p.script");
    std::fs::write(&script, "probe(\"p\")\ncount()\n").unwrap();
    let run = reprise(&["crash-test", arg(&broken), arg(&script)]).error(1, "discovery broke on purpose");
    assert!(!run.stderr.contains("p.script:1"), "{}", run.stderr);
    assert!(run.stderr.contains("discover-agent-types"), "{}", run.stderr);
    reprise(&["run", arg(&broken), "probe(\"p\")", "count()"]).error(1, "discovery broke on purpose");
}

#[test]
fn crash_test_exits_1_and_names_the_divergence() {
    let probe = probe();
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("flaky.script");
    // `flaky` branches on a store value read outside the journal: replayed
    // after `set-mode("b")`, it takes the other branch.
    std::fs::write(&script, "probe(\"p\")\nset-mode(\"a\")\nflaky()\nset-mode(\"b\")\ncount()\n").unwrap();
    let run = reprise(&["crash-test", arg(&probe), arg(&script), "--json"]).code(1);
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(json["ok"], false);
    let failures = json["failures"].as_array().unwrap();
    assert!(!failures.is_empty());
    let diverged: Vec<&serde_json::Value> = failures.iter().filter(|f| f["diverged_at"].is_u64()).collect();
    assert!(!diverged.is_empty(), "{failures:?}");
    assert!(diverged[0]["message"].as_str().unwrap().contains("replay diverged at oplog index"), "{failures:?}");

    let run = reprise(&["crash-test", arg(&probe), arg(&script)]).code(1);
    assert!(run.stdout.contains("FAIL crash probe(\"p\") after entry"), "{}", run.stdout);
    assert!(run.stdout.contains("DIVERGED"), "{}", run.stdout);
}

/// A failure says why (the durable function's type and the rule it
/// breaks), how the stores differ, and gives the command that runs that
/// crash alone, which fails the same way.
#[test]
fn crash_test_failures_name_the_rule_the_store_diff_and_a_reproduction() {
    let probe = probe();
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("audit.script");
    std::fs::write(&script, "probe(\"p\")\naudit(\"acct\")\n").unwrap();
    // Preloaded, the store is part of what a reproduction needs.
    let run = reprise(&["crash-test", arg(&probe), arg(&script), "--kv", "audit/acct=41"]).code(1);
    let out = &run.stdout;
    assert!(out.contains("`ledger::lookup` is declared read-remote but made side effects"), "{out}");
    assert!(out.contains(r#"stores: audit/acct: "42" in the crash-free run, "43" here"#), "{out}");
    let line = out.lines().find_map(|l| l.trim().strip_prefix("reproduce: ")).expect("a reproduction line");
    assert!(line.starts_with("reprise crash-test ") && line.contains("--at "), "{line}");
    assert!(line.contains(" --kv audit/acct=41 "), "{line}");

    // The line, run as it reads (its words are shell-quoted), makes just
    // that run, and it fails the same way.
    let words = shell_words(line);
    let args: Vec<&str> = words.iter().skip(1).map(String::as_str).collect();
    let again = reprise(&args).code(1);
    assert!(again.stdout.contains("crash runs            1\n"), "{}", again.stdout);
    assert!(again.stdout.contains("declared read-remote"), "{}", again.stdout);
    reprise(&["crash-test", arg(&probe), arg(&script), "--at", "sideways 3"]).error(2, "is not a crash point");
    reprise(&["crash-test", arg(&probe), arg(&script), "--at", "before 0"]).error(2, "no crash was injected");

    // A call that traps is its outcome, which a script may expect.
    std::fs::write(&script, "probe(\"p\")\ncount() -> 1\ntrap() -> failed\ncount() -> failed\n").unwrap();
    let run = reprise(&["crash-test", arg(&probe), arg(&script)]).code(0);
    assert!(run.stdout.contains("trap() -> failed: panicked at tests/guests/probe/src/lib.rs"), "{}", run.stdout);
    assert!(run.stdout.contains("probe asked to trap (the guest trapped"), "{}", run.stdout);
    std::fs::write(&script, "probe(\"p\")\ntrap() -> 1\n").unwrap();
    let run = reprise(&["crash-test", arg(&probe), arg(&script)]).code(1);
    assert!(run.stdout.contains("UNMET"), "{}", run.stdout);
}

/// Split a line as a POSIX shell splits single-quoted words.
fn shell_words(line: &str) -> Vec<String> {
    let (mut words, mut word, mut quoted, mut any) = (Vec::new(), String::new(), false, false);
    for c in line.chars() {
        match c {
            '\'' => (quoted, any) = (!quoted, true),
            ' ' if !quoted => {
                if any || !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
                any = false;
            }
            c => word.push(c),
        }
    }
    if any || !word.is_empty() {
        words.push(word);
    }
    words
}

#[test]
fn crash_test_names_script_errors_with_their_line() {
    let counter = example("counter");
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("bad.script");
    std::fs::write(&script, "Counter(\"c\")\nincrement(1)\n# fine so far\nincrement(-1)\n").unwrap();
    reprise(&["crash-test", arg(&counter), arg(&script)]).error(2, "bad.script:4: bad arguments for `increment`");
    std::fs::write(&script, "Counter(\"c\")\nreset()\n").unwrap();
    reprise(&["crash-test", arg(&counter), arg(&script)])
        .error(2, "bad.script:2: agent type `Counter` has no method `reset`");
    std::fs::write(&script, "# only a comment\n").unwrap();
    reprise(&["crash-test", arg(&counter), arg(&script)]).error(2, "the script is empty");
    reprise(&["crash-test", arg(&counter), arg(&dir.path().join("none.script"))]).error(2, "cannot read the script");
}

#[test]
fn new_refuses_bad_names_and_existing_folders() {
    let dir = tempfile::tempdir().unwrap();
    reprise_in(dir.path(), &["new", "agent", "9lives"]).error(2, "`9lives` cannot name a crate");
    reprise_in(dir.path(), &["new", "agent", "my agent"]).error(2, "cannot name a crate");
    std::fs::create_dir(dir.path().join("taken")).unwrap();
    reprise_in(dir.path(), &["new", "plugin", "taken"]).error(2, "already exists");
    reprise_in(dir.path(), &["new", "agent", "x", "--reprise", arg(dir.path())]).error(2, "is not a Reprise checkout");
    let run = reprise_in(dir.path(), &["new", "agent", "fine"]).code(0);
    assert!(run.stdout.contains("created agent `fine`"), "{}", run.stdout);
    let manifest = std::fs::read_to_string(dir.path().join("fine/Cargo.toml")).unwrap();
    assert!(manifest.contains("name = \"fine\"") && manifest.contains("/sdk' }"), "{manifest}");
    assert!(dir.path().join("fine/Cargo.lock").is_file(), "the versions Reprise is tested with");
}

#[test]
fn build_needs_a_crate_and_installs_a_missing_target() {
    let dir = tempfile::tempdir().unwrap();
    reprise_in(dir.path(), &["build"]).error(2, "no Cargo.toml in .");

    // A rustup that reports the target missing and records being asked to add it.
    let bin = dir.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    let log = dir.path().join("rustup.log");
    let fake = bin.join("rustup");
    std::fs::write(
        &fake,
        format!(
            "#!/bin/sh\necho \"$@\" >> '{}'\ncase \"$2\" in list) echo x86_64-unknown-linux-gnu;; add) exit 0;; esac\n",
            log.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&fake, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let smoke = support::repo().join("examples/smoke");
    let target = dir.path().join("target");
    let out = Command::new(env!("CARGO_BIN_EXE_reprise"))
        .args(["build", arg(&smoke), "--profile", "guest"])
        .env("RUSTUP", &fake)
        .env("CARGO_TARGET_DIR", &target)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stderr.contains("installing the wasm32-wasip2 target: rustup target add wasm32-wasip2"), "{stderr}");
    assert_eq!(std::fs::read_to_string(&log).unwrap(), "target list --installed\ntarget add wasm32-wasip2\n");
    assert!(stdout.contains("every import is provided by Golem 1.5"), "{stdout}");
}

/// A `reprise plugins --serve` process, killed when dropped.
struct Served(Child, String);

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn http(addr: &str, method: &str, path: &str, body: &str) -> (u16, String) {
    raw_http(
        addr,
        &format!(
            "{method} {path} HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        ),
        &[],
    )
}

/// Send `head`, then `chunks` (ignoring a server that stops reading), and
/// read the answer's status and body.
fn raw_http(addr: &str, head: &str, chunks: &[&[u8]]) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.write_all(head.as_bytes()).unwrap();
    for chunk in chunks {
        if stream.write_all(chunk).is_err() {
            break;
        }
    }
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response);
    let response = String::from_utf8_lossy(&response).into_owned();
    let status = response.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = response.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
    (status, body)
}

/// Start `reprise plugins ARGS` and wait for the address it serves on.
fn serve(args: &[&str]) -> Served {
    let mut child = Command::new(env!("CARGO_BIN_EXE_reprise"))
        .arg("plugins")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut seen = String::new();
    let mut byte = [0u8; 1];
    while !seen.contains("serving the plugin host on http://") || !seen.ends_with('\n') {
        assert_eq!(stdout.read(&mut byte).unwrap(), 1, "the server stopped: {seen}");
        seen.push(byte[0] as char);
    }
    let addr = seen.split("http://").nth(1).unwrap().split_whitespace().next().unwrap().to_string();
    Served(child, addr)
}

#[test]
fn plugins_reports_a_directory_and_serves_the_plugin_host() {
    let jsonl = example("oplog-jsonl");
    let counter = example("counter");
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(&jsonl, dir.path().join("jsonl.wasm")).unwrap();
    std::fs::write(
        dir.path().join("jsonl.json"),
        r#"{"name": "jsonl", "version": "1.0.0", "description": "lines", "component": "jsonl.wasm", "config": {"bucket": "lines"}}"#,
    )
    .unwrap();
    std::fs::copy(&counter, dir.path().join("counter.wasm")).unwrap();
    std::fs::write(
        dir.path().join("agent.json"),
        r#"{"name": "not-a-plugin", "version": "1", "description": "", "component": "counter.wasm"}"#,
    )
    .unwrap();
    std::fs::write(dir.path().join("broken.json"), "{").unwrap();
    // A manifest naming a file outside the folder is rejected without reading it.
    std::fs::write(
        dir.path().join("escape.json"),
        r#"{"name": "escape", "version": "1", "description": "", "component": "../../../../../../etc/passwd"}"#,
    )
    .unwrap();

    let run = reprise(&["plugins", arg(dir.path())]).code(1);
    assert!(
        run.stdout
            .contains("escape.json: its component `../../../../../../etc/passwd` is not a file in the plugin folder"),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("root:"), "{}", run.stdout);
    let hash = reprise_testkit::plugins::directory::content_hash(&std::fs::read(&jsonl).unwrap());
    assert!(run.stdout.contains(&format!("loaded   jsonl 1.0.0  sha256 {hash}")), "{}", run.stdout);
    assert!(
        run.stdout.contains(
            "agent.json: plugin: plugin `not-a-plugin` 1: the component must export `golem:api/oplog-processor@1.5.0`"
        ),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("rejected") && run.stdout.contains("broken.json"), "{}", run.stdout);
    let json: serde_json::Value =
        serde_json::from_str(&reprise(&["plugins", arg(dir.path()), "--json"]).code(1).stdout).unwrap();
    assert_eq!(json.as_array().unwrap().iter().filter(|r| r["status"] == "loaded").count(), 1);
    assert_eq!(json.as_array().unwrap().iter().filter(|r| r["status"] == "rejected").count(), 3);

    reprise(&["plugins", arg(dir.path()), "--serve", "0.0.0.0:0"]).error(2, "not a loopback address");
    reprise(&["plugins", arg(dir.path()), "--serve", "localhost"]).error(2, "is not an address");
    reprise(&["plugins", arg(&dir.path().join("none"))]).error(2, "is not a folder");

    let served = serve(&[arg(dir.path()), "--serve", "127.0.0.1:0", "--flush-interval-ms", "100"]);
    let addr = served.1.as_str();

    let (status, body) = http(addr, "GET", "/plugins", "");
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(&hash), "{body}");

    // Components are named inside the plugin folder; nothing else is opened,
    // and no answer quotes a file (issue 19).
    let counter_path = r#""counter.wasm""#;
    for outside in [serde_json::to_string(arg(&counter)).unwrap(), r#""/etc/passwd""#.into(), r#""../x.wasm""#.into()] {
        let (status, body) =
            http(addr, "POST", "/agents", &format!(r#"{{"component": {outside}, "agent": "Counter(\"s\")"}}"#));
        assert_eq!(status, 400, "{body}");
        assert!(body.contains("is not a file in the plugin folder") && !body.contains("root:"), "{body}");
    }
    hostile_requests_are_refused(addr);
    std::fs::write(dir.path().join("notes.txt"), "secret first line").unwrap();
    let (status, body) = http(addr, "POST", "/agents", r#"{"component": "notes.txt", "agent": "Counter(\"s\")"}"#);
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("it is not WebAssembly") && !body.contains("secret"), "{body}");
    let (status, body) = http(
        addr,
        "POST",
        "/install",
        &format!(
            r#"{{"component": {counter_path}, "plugin": "jsonl", "version": "1.0.0", "config": {{"bucket": "lines"}}}}"#
        ),
    );
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"revision\": 1"), "{body}");
    let (status, body) =
        http(addr, "POST", "/agents", &format!(r#"{{"component": {counter_path}, "agent": "Counter(\"s\")"}}"#));
    assert_eq!(status, 201, "{body}");
    assert!(body.contains(r#""active_plugins": ["#) && body.contains("\"jsonl\""), "{body}");
    let agent = r#""counter(\"s\")""#;
    let (status, body) = http(addr, "POST", "/invoke", &format!(r#"{{"agent": {agent}, "call": "increment(5)"}}"#));
    assert_eq!((status, body.contains("\"result\": \"5\"")), (200, true), "{body}");
    let (status, body) = http(addr, "POST", "/deactivate", &format!(r#"{{"agent": {agent}, "plugin": "jsonl"}}"#));
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"active_plugins\": []"), "{body}");
    let (status, body) = http(addr, "POST", "/activate", &format!(r#"{{"agent": {agent}, "plugin": "jsonl"}}"#));
    assert_eq!(status, 200, "{body}");

    // Reactivated, the plugin is sent what follows its activation: the flush
    // timer (every 100 ms here) sends the next call's two entries.
    let (status, body) = http(addr, "POST", "/invoke", &format!(r#"{{"agent": {agent}, "call": "increment(1)"}}"#));
    assert_eq!((status, body.contains("\"result\": \"6\"")), (200, true), "{body}");
    let delivered = || {
        let (status, metrics) = http(addr, "GET", "/metrics", "");
        assert_eq!(status, 200);
        let line = metrics
            .lines()
            .find(|l| l.starts_with("reprise_plugin_entries_delivered_total{") && l.contains("jsonl"))
            .unwrap_or_else(|| panic!("{metrics}"))
            .to_string();
        line.rsplit(' ').next().unwrap().parse::<u64>().unwrap()
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    // Created, the agent sent its first four entries at its third commit.
    while delivered() < 6 {
        assert!(std::time::Instant::now() < deadline, "the timer sent nothing: {} delivered", delivered());
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert_eq!(delivered(), 6, "what happened while the plugin was inactive is not sent");

    // Bad requests: a message, a status, and the server carries on.
    let (status, body) = http(addr, "POST", "/invoke", &format!(r#"{{"agent": {agent}, "call": "decrement(1)"}}"#));
    assert_eq!(status, 400);
    assert!(body.contains("has no method `decrement`"), "{body}");
    assert_eq!(http(addr, "POST", "/invoke", r#"{"agent": "nobody()", "call": "get()"}"#).0, 404);
    assert_eq!(http(addr, "POST", "/install", "not json").0, 400);
    assert_eq!(http(addr, "GET", "/install", "").0, 405);
    assert_eq!(http(addr, "GET", "/nothing", "").0, 404);
    assert_eq!(http(addr, "GET", "/plugins", "").0, 200);
}

/// Requests a web page or a careless client could send (issue 19).
fn hostile_requests_are_refused(addr: &str) {
    let port = addr.rsplit(':').next().unwrap();
    let post = |headers: &str, body: &str| {
        raw_http(
            addr,
            &format!(
                "POST /agents HTTP/1.1\r\n{headers}content-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            ),
            &[],
        )
    };
    let body = r#"{"component": "counter.wasm", "agent": "Counter(\"s\")"}"#;
    // A page on another name that resolves to 127.0.0.1 (DNS rebinding).
    let (status, answer) = post(&format!("host: rebind.example:{port}\r\ncontent-type: application/json\r\n"), body);
    assert_eq!(status, 403, "{answer}");
    assert!(answer.contains("does not name this server"), "{answer}");
    let (status, answer) =
        raw_http(addr, "GET /plugins HTTP/1.1\r\nhost: rebind.example\r\nconnection: close\r\n\r\n", &[]);
    assert_eq!(status, 403, "{answer}");
    // A cross-site page (the browser names it in Origin).
    let (status, answer) = post(
        &format!("host: 127.0.0.1:{port}\r\norigin: http://evil.example\r\ncontent-type: application/json\r\n"),
        body,
    );
    assert_eq!(status, 403, "{answer}");
    // A form post, which browsers send cross-site without asking.
    let (status, answer) = post(&format!("host: 127.0.0.1:{port}\r\ncontent-type: text/plain\r\n"), body);
    assert_eq!(status, 415, "{answer}");
    // A body declared too large is refused unread; one streamed without a
    // length is cut at the limit.
    let (status, answer) = raw_http(
        addr,
        &format!(
            "POST /agents HTTP/1.1\r\nhost: 127.0.0.1:{port}\r\ncontent-type: application/json\r\ncontent-length: 1000000000\r\nconnection: close\r\n\r\n"
        ),
        &[],
    );
    assert_eq!(status, 413, "{answer}");
    let chunk = format!("{:x}\r\n{}\r\n", 16 * 1024, " ".repeat(16 * 1024));
    let chunks: Vec<&[u8]> = std::iter::repeat_n(chunk.as_bytes(), 64).collect();
    let (status, answer) = raw_http(
        addr,
        &format!(
            "POST /agents HTTP/1.1\r\nhost: 127.0.0.1:{port}\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n"
        ),
        &chunks,
    );
    assert_eq!(status, 413, "{answer}");
    assert!(answer.contains("larger than 65536 bytes"), "{answer}");
}

#[test]
fn a_served_plugin_host_can_require_a_token_and_allow_named_components() {
    let counter = example("counter");
    let dir = tempfile::tempdir().unwrap();
    let plugins = dir.path().join("plugins");
    std::fs::create_dir(&plugins).unwrap();
    let token_file = dir.path().join("token");
    std::fs::write(&token_file, "short\n").unwrap();
    reprise(&["plugins", arg(&plugins), "--serve", "127.0.0.1:0", "--token-file", arg(&token_file)])
        .error(2, "fewer than 16 characters");
    reprise(&["plugins", arg(&plugins), "--serve", "127.0.0.1:0", "--allow", arg(&dir.path().join("none.wasm"))])
        .error(2, "--allow");
    std::fs::write(&token_file, "4f1c2a9e7b3d5f60a8c4e2b1d9f7a3c5\n").unwrap();

    let served =
        serve(&[arg(&plugins), "--serve", "127.0.0.1:0", "--token-file", arg(&token_file), "--allow", arg(&counter)]);
    let addr = served.1.as_str();
    let request = |auth: &str, component: &str| {
        let body =
            format!(r#"{{"component": {}, "agent": "Counter(\"t\")"}}"#, serde_json::to_string(component).unwrap());
        raw_http(
            addr,
            &format!(
                "POST /agents HTTP/1.1\r\nhost: {addr}\r\n{auth}content-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            ),
            &[],
        )
    };
    let (status, answer) = request("", arg(&counter));
    assert_eq!(status, 401, "{answer}");
    let (status, answer) = request("authorization: Bearer 4f1c2a9e7b3d5f60a8c4e2b1d9f7a3c6\r\n", arg(&counter));
    assert_eq!(status, 401, "{answer}");
    let auth = "authorization: Bearer 4f1c2a9e7b3d5f60a8c4e2b1d9f7a3c5\r\n";
    let (status, answer) = request(auth, arg(&counter));
    assert_eq!(status, 201, "an allowed component outside the folder loads: {answer}");
    let (status, answer) = request(auth, "/etc/passwd");
    assert_eq!(status, 400, "{answer}");
    assert!(answer.contains("nor allowed by --allow") && !answer.contains("root:"), "{answer}");
}

#[test]
fn collect_prints_the_spans_and_logs_exported_to_it() {
    reprise(&["collect", "--listen", "0.0.0.0:4318"]).error(2, "not a loopback address");
    let mut child = Command::new(env!("CARGO_BIN_EXE_reprise"))
        .args(["collect", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let collector = Served(child, String::new());
    let mut lines = std::io::BufRead::lines(std::io::BufReader::new(stdout));
    let first = lines.next().unwrap().unwrap();
    assert!(first.starts_with("collecting OTLP/HTTP JSON on http://127.0.0.1:"), "{first}");
    let addr = first.split("http://").nth(1).unwrap().split_whitespace().next().unwrap().to_string();

    let resource = r#"{"attributes": [{"key": "service.name", "value": {"stringValue": "shop"}}]}"#;
    let trace = "4bf92f3577b34da6a3ce929d0e0e4736";
    let traces = format!(
        r#"{{"resourceSpans": [{{"resource": {resource}, "scopeSpans": [{{"scope": {{"name": "t"}}, "spans": [
            {{"traceId": "{trace}", "spanId": "00f067aa0ba902b7", "name": "checkout", "kind": 1,
              "startTimeUnixNano": "1000", "endTimeUnixNano": "3001000",
              "attributes": [{{"key": "cart", "value": {{"stringValue": "alice"}}}}]}}]}}]}}]}}"#
    );
    assert_eq!(http(&addr, "POST", "/v1/traces", &traces).0, 200);
    let logs = format!(
        r#"{{"resourceLogs": [{{"resource": {resource}, "scopeLogs": [{{"scope": {{"name": "t"}}, "logRecords": [
            {{"timeUnixNano": "1000", "severityNumber": 13, "severityText": "WARN", "body": {{"stringValue": "low stock"}},
              "traceId": "{trace}", "attributes": []}}]}}]}}]}}"#
    );
    assert_eq!(http(&addr, "POST", "/v1/logs", &logs).0, 200);
    assert_eq!(
        lines.next().unwrap().unwrap(),
        format!("span {trace} 00f067aa0ba902b7 checkout (parent -) 3000µs cart=alice [shop]")
    );
    assert_eq!(lines.next().unwrap().unwrap(), format!("log WARN low stock (trace {trace}) [shop]"));
    drop(collector);
}
