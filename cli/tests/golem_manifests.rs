//! The Golem manifests `reprise new` writes have the shapes Golem 1.5 reads:
//! `golem.yaml` validates against Golem's published app-manifest schema, and
//! `golem-plugin.yaml` against the plugin manifest `golem plugin register`
//! reads (golemcloud/golem v1.5.9 `cli/golem-cli/src/model/plugin_manifest.rs`).
#![allow(clippy::unwrap_used, clippy::panic)]

mod support;

use std::path::{Path, PathBuf};

use serde::Deserialize;
use support::{repo, reprise_in};

/// A YAML file as JSON, for the schema.
fn yaml(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).unwrap();
    let docs = yaml_rust2::YamlLoader::load_from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let [doc] = docs.as_slice() else { panic!("{}: expected one YAML document", path.display()) };
    to_json(doc)
}

fn to_json(yaml: &yaml_rust2::Yaml) -> serde_json::Value {
    use serde_json::Value as J;
    use yaml_rust2::Yaml as Y;
    match yaml {
        Y::Real(text) => text.parse::<f64>().ok().and_then(serde_json::Number::from_f64).map_or(J::Null, J::Number),
        Y::Integer(i) => J::from(*i),
        Y::String(s) => J::from(s.as_str()),
        Y::Boolean(b) => J::from(*b),
        Y::Array(items) => J::Array(items.iter().map(to_json).collect()),
        Y::Hash(map) => J::Object(
            map.iter()
                .map(|(k, v)| (k.as_str().map(str::to_string).unwrap_or_else(|| format!("{k:?}")), to_json(v)))
                .collect(),
        ),
        Y::Null | Y::BadValue | Y::Alias(_) => J::Null,
    }
}

/// Golem's `PluginManifest`: the fields its CLI requires, camelCase.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
struct PluginManifest {
    name: String,
    version: String,
    description: String,
    icon: PathBuf,
    homepage: String,
    specs: PluginSpecs,
}

/// Golem's `PluginTypeSpecificManifest`, tagged by `type`.
#[derive(Debug, Deserialize)]
#[serde(tag = "type")]
#[allow(dead_code)]
enum PluginSpecs {
    OplogProcessor(OplogProcessorSpecs),
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
struct OplogProcessorSpecs {
    component_id: uuid::Uuid,
    component_revision: u64,
}

/// Problems with a plugin manifest, as Golem's CLI would meet them.
fn plugin_manifest_problems(path: &Path) -> Vec<String> {
    let json = yaml(path);
    let manifest: PluginManifest = match serde_json::from_value(json) {
        Ok(m) => m,
        Err(e) => return vec![format!("not a Golem 1.5 plugin manifest: {e}")],
    };
    let mut problems = Vec::new();
    // The icon is read relative to the manifest and uploaded.
    let icon = path.parent().unwrap().join(&manifest.icon);
    match std::fs::read(&icon) {
        Ok(bytes) if bytes.starts_with(b"\x89PNG\r\n\x1a\n") => {}
        Ok(_) => problems.push(format!("icon {} is not a PNG image", icon.display())),
        Err(e) => problems.push(format!("icon {}: {e}", icon.display())),
    }
    problems
}

#[test]
fn the_agent_templates_golem_yaml_validates_against_golems_schema() {
    let mut schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(repo().join("cli/tests/fixtures/golem-app-manifest-1.5.0.schema.json")).unwrap(),
    )
    .unwrap();
    // The schema names draft 7 by an `https` address; the validator knows the
    // draft's canonical `http` one built in, and fetches nothing.
    assert_eq!(schema["$schema"], "https://json-schema.org/draft-07/schema#");
    schema["$schema"] = "http://json-schema.org/draft-07/schema#".into();
    let validator = jsonschema::options().with_draft(jsonschema::Draft::Draft7).build(&schema).unwrap();
    let dir = tempfile::tempdir().unwrap();
    reprise_in(dir.path(), &["new", "agent", "shop"]).code(0);
    let manifest = yaml(&dir.path().join("shop/golem.yaml"));
    let errors: Vec<String> =
        validator.iter_errors(&manifest).map(|e| format!("{} at {}", e, e.instance_path)).collect();
    assert!(errors.is_empty(), "golem.yaml: {errors:#?}\n{manifest:#}");

    // The check can fail: a misspelt field is refused.
    let mut wrong = manifest.clone();
    wrong["components"]["app:shop"]["componentWasmFile"] = "x.wasm".into();
    assert!(!validator.is_valid(&wrong), "the schema refuses unknown fields");
}

#[test]
fn the_plugin_templates_golem_manifest_has_the_shape_golem_registers() {
    let dir = tempfile::tempdir().unwrap();
    reprise_in(dir.path(), &["new", "plugin", "audit"]).code(0);
    let path = dir.path().join("audit/golem-plugin.yaml");
    assert_eq!(plugin_manifest_problems(&path), Vec::<String>::new());

    // The check can fail: the shape the template had before (a component
    // path instead of the deployed component's id, no icon) is refused.
    std::fs::write(
        &path,
        "name: audit\nversion: 0.1.0\ndescription: d\nhomepage: https://example.com\n\
         specs:\n  type: OplogProcessor\n  component: target/wasm32-wasip2/release/audit.wasm\n",
    )
    .unwrap();
    let problems = plugin_manifest_problems(&path);
    assert!(problems.len() == 1 && problems[0].contains("missing field"), "{problems:?}");
}
