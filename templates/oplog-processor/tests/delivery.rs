//! The plugin installed to a small agent in Reprise's in-process Golem host:
//! its output checked against the agent's oplog, then crash verification
//! at every index of the agent's oplog and of the plugin instance's own.

use observed_agent::CounterCall;
use reprise_testkit::guest::GuestBuild;
use reprise_testkit::verify::{CrashPlan, Scenario, verify};
use reprise_testkit::{Environment, LoadedComponent};

const BUCKET: &str = "entry-counts";

/// The environment, with the plugin defined and installed to the observed agent's component.
fn setup() -> (Environment, LoadedComponent) {
    let plugin = GuestBuild::new(env!("CARGO_MANIFEST_DIR")).build().expect("the plugin builds");
    let agent = GuestBuild::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/observed-agent"))
        .build()
        .expect("the observed agent builds");
    let env = Environment::new().expect("the testkit host starts");
    let plugin = env.load(&plugin).expect("Golem 1.5 provides every import");
    env.define_plugin("{{project-name}}", "0.1.0", "entry counts by kind", &plugin)
        .expect("the component exports golem:api/oplog-processor@1.5.0");
    let agent = env.load(&agent).expect("the observed agent loads");
    let observed = env.install_plugin(&agent, "{{project-name}}", "0.1.0", [("bucket", BUCKET)]).expect("installed");
    (env, observed)
}

#[test]
fn the_counts_match_the_agents_oplog() {
    let (env, observed) = setup();
    let mut counter = env.create(&observed, CounterCall::new("a".to_string())).expect("created");
    for n in 1..=10 {
        assert_eq!(counter.increment(1).expect("invoked"), n);
    }
    // Every third commit sends the plugin a batch; Golem's flush timer
    // (every 5 s) sends what the last commits left.
    counter.agent.flush_plugins().expect("flushed");
    let published = env.kv_contents()[BUCKET][counter.agent.id()].clone();
    let published = String::from_utf8(published).expect("text");
    let total: u64 = published.lines().map(|l| l.rsplit_once(' ').expect("kind count").1.parse::<u64>().expect("a count")).sum();
    // Every entry up to the last batch confirmed, the agent's own
    // checkpoints (written as batches are sent) included.
    let installed = observed.plugin("{{project-name}}").expect("installed");
    let confirmed = counter.agent.plugin_checkpoint(installed).expect("batches were sent").confirmed_up_to;
    assert_eq!(total, confirmed, "{published}");
    assert!(published.contains("agent-invocation-started 11"), "{published}");
}

#[test]
fn the_plugin_survives_a_crash_at_every_oplog_index() {
    let (env, observed) = setup();
    let scenario = Scenario::of(CounterCall::new("a".to_string()))
        .expect(CounterCall::increment(2), 2)
        .expect(CounterCall::increment(3), 5);
    let report = verify(&env, &observed, &scenario, &CrashPlan::every_entry()).expect("the crash-free run works");
    println!("{report}");
    assert!(report.is_ok(), "{report}");
    // The plugin instance's oplog adds crash points beyond the agent's own.
    // (What the plugin is sent depends on when the agent commits, which a
    // crash changes, on Golem too: the agent's results and state are
    // compared, not the plugin's output.)
    assert!(report.runs as u64 > report.reference.oplog_len, "{report}");
}
