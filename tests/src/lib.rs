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
    let dir = repo_root().join("tests").join("guests").join(name);
    GuestBuild::new(&dir).profile("guest").build().unwrap_or_else(|e| panic!("building tests/guests/{name}: {e}"))
}

/// Build `tests/guests/<name>` with a cargo feature enabled.
pub fn build_test_guest_with(name: &str, feature: &str) -> PathBuf {
    let dir = repo_root().join("tests").join("guests").join(name);
    GuestBuild::new(&dir)
        .profile("guest")
        .feature(feature)
        .build()
        .unwrap_or_else(|e| panic!("building tests/guests/{name} with {feature}: {e}"))
}

/// Build `tests/fixtures/<name>` (crates outside the workspace, such as a
/// component written with the published golem-rust SDK) with the `guest`
/// profile.
pub fn build_fixture(name: &str) -> PathBuf {
    let dir = repo_root().join("tests").join("fixtures").join(name);
    GuestBuild::new(&dir).profile("guest").build().unwrap_or_else(|e| panic!("building tests/fixtures/{name}: {e}"))
}

/// [`build_fixture`] with a feature of the fixture enabled.
pub fn build_fixture_with(name: &str, feature: &str) -> PathBuf {
    let dir = repo_root().join("tests").join("fixtures").join(name);
    GuestBuild::new(&dir)
        .profile("guest")
        .feature(feature)
        .build()
        .unwrap_or_else(|e| panic!("building tests/fixtures/{name} with {feature}: {e}"))
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
