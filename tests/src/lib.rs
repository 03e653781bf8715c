//! Helpers shared by the end-to-end tests in `tests/tests/`.
// Test helpers fail the test that called them, with the reason.
#![allow(clippy::panic)]

use std::path::PathBuf;

use reprise_testkit::guest::GuestBuild;

/// The repository root.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Build `examples/<name>` for `wasm32-wasip2` with the size-tuned `guest`
/// profile (what users deploy) and return the component's path.
pub fn build_example(name: &str) -> PathBuf {
    let dir = repo_root().join("examples").join(name);
    GuestBuild::new(&dir).profile("guest").build().unwrap_or_else(|e| panic!("building examples/{name}: {e}"))
}

/// Build `examples/<name>` with a cargo feature enabled.
pub fn build_example_with(name: &str, feature: &str) -> PathBuf {
    let dir = repo_root().join("examples").join(name);
    GuestBuild::new(&dir)
        .profile("guest")
        .feature(feature)
        .build()
        .unwrap_or_else(|e| panic!("building examples/{name} with {feature}: {e}"))
}

/// Build `tests/guests/<name>` (test components written against the raw bindings).
pub fn build_test_guest(name: &str) -> PathBuf {
    build_in("guests", name, None)
}

/// Build `tests/guests/<name>` with a cargo feature enabled.
pub fn build_test_guest_with(name: &str, feature: &str) -> PathBuf {
    build_in("guests", name, Some(feature))
}

/// Build `tests/fixtures/<name>` (crates outside the workspace, such as a
/// component written with the published golem-rust SDK) with the `guest`
/// profile.
pub fn build_fixture(name: &str) -> PathBuf {
    build_in("fixtures", name, None)
}

/// [`build_fixture`] with a feature of the fixture enabled.
pub fn build_fixture_with(name: &str, feature: &str) -> PathBuf {
    build_in("fixtures", name, Some(feature))
}

/// Build `tests/<folder>/<name>` with the `guest` profile and `feature`.
fn build_in(folder: &str, name: &str, feature: Option<&str>) -> PathBuf {
    let mut build = GuestBuild::new(repo_root().join("tests").join(folder).join(name)).profile("guest");
    let with = feature.map(|f| format!(" with {f}")).unwrap_or_default();
    if let Some(feature) = feature {
        build = build.feature(feature);
    }
    build.build().unwrap_or_else(|e| panic!("building tests/{folder}/{name}{with}: {e}"))
}

/// An agent's oplog in brief: host calls by name, remote-write brackets,
/// span starts and ends, persistence changes; other entries left out.
pub fn oplog_shape(agent: &reprise_testkit::Agent) -> Vec<String> {
    use reprise_testkit::oplog::OplogEntry;
    agent
        .oplog()
        .entries()
        .iter()
        .filter_map(|e| match e {
            OplogEntry::HostCall(p) => Some(p.function_name.clone()),
            OplogEntry::ChangePersistenceLevel(p) => Some(format!("persistence {:?}", p.persistence_level)),
            OplogEntry::BeginRemoteWrite(_) => Some("begin-remote-write".into()),
            OplogEntry::EndRemoteWrite(_) => Some("end-remote-write".into()),
            OplogEntry::StartSpan(_) => Some("start-span".into()),
            OplogEntry::FinishSpan(_) => Some("finish-span".into()),
            _ => None,
        })
        .collect()
}

/// A tuple data schema of component-model elements, as agent discovery
/// reports constructor and method signatures.
pub fn schema(
    elements: &[(&str, reprise_testkit::value::Type)],
) -> reprise_testkit::bindings::golem::core::types::DataSchema {
    use reprise_testkit::bindings::golem::core::types::{DataSchema, ElementSchema};
    DataSchema::Tuple(
        elements.iter().map(|(n, t)| (n.to_string(), ElementSchema::ComponentModel(t.to_wit()))).collect(),
    )
}

/// Tick Golem's flush timer for `agent` until it has sent `plugin` everything
/// it committed; returns the index its entries are confirmed up to, after
/// which only checkpoints follow (a batch of nothing but checkpoints is
/// never sent).
pub fn flush_until_sent(
    agent: &mut reprise_testkit::Agent,
    plugin: &reprise_testkit::bindings::golem::api::oplog::PluginInstallationDescription,
) -> u64 {
    use reprise_testkit::oplog::OplogEntry;
    for _ in 0..4 {
        agent.flush_plugins().unwrap_or_else(|e| panic!("flushing `{}`: {e}", agent.id()));
        let confirmed = agent.plugin_checkpoint(plugin).map_or(0, |c| c.confirmed_up_to);
        let after = agent.oplog().entries().get(confirmed as usize..).unwrap_or_default();
        if after.iter().all(|e| matches!(e, OplogEntry::OplogProcessorCheckpoint(_))) {
            return confirmed;
        }
    }
    panic!("`{}` still has entries to send after four flushes", agent.id());
}
