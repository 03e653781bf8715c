//! The project templates of `templates/`, compiled into the binary so that
//! `reprise new` works wherever the binary is.

use crate::TemplateKind;

/// A template's files: path inside the project, contents (text with
/// placeholders, or an image copied as it is).
pub fn files(kind: TemplateKind) -> &'static [(&'static str, &'static [u8])] {
    macro_rules! template {
        ($dir:literal: $($path:literal),* $(,)?) => {
            &[$(($path, include_bytes!(concat!("../../templates/", $dir, "/", $path)) as &[u8])),*]
        };
    }
    match kind {
        TemplateKind::Agent => template!("agent":
            "Cargo.toml", "README.md", ".gitignore", "cargo-generate.toml", "crash-test.script", "golem.yaml",
            "src/lib.rs", "tests/crash_test.rs",
        ),
        TemplateKind::Plugin => template!("oplog-processor":
            "Cargo.toml", "README.md", ".gitignore", "cargo-generate.toml", "plugin.json", "golem-plugin.yaml",
            "icon.png", "src/lib.rs", "tests/delivery.rs", "tests/observed-agent/Cargo.toml", "tests/observed-agent/src/lib.rs",
        ),
    }
}

/// Fill cargo-generate style placeholders (`{{name}}`) of a text file;
/// anything else (an image) is returned as it is.
pub fn fill(contents: &[u8], values: &[(&str, &str)]) -> Vec<u8> {
    let Ok(text) = std::str::from_utf8(contents) else { return contents.to_vec() };
    let mut out = text.to_string();
    for (name, value) in values {
        out = out.replace(&format!("{{{{{name}}}}}"), value);
    }
    out.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_placeholder_of_every_file_is_filled() {
        let values =
            [("project-name", "demo"), ("crate_name", "demo"), ("reprise_dep", "\"0.1\""), ("testkit_dep", "\"0.1\"")];
        for kind in [TemplateKind::Agent, TemplateKind::Plugin] {
            for (path, text) in files(kind) {
                let filled = String::from_utf8_lossy(&fill(text, &values)).into_owned();
                assert!(!filled.contains("{{"), "{path} keeps a placeholder");
            }
        }
    }

    #[test]
    fn the_embedded_list_names_every_file_of_the_template_folders() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../templates");
        for (kind, dir) in [(TemplateKind::Agent, "agent"), (TemplateKind::Plugin, "oplog-processor")] {
            let mut on_disk = Vec::new();
            let mut stack = vec![root.join(dir)];
            while let Some(d) = stack.pop() {
                for entry in std::fs::read_dir(&d).unwrap() {
                    let path = entry.unwrap().path();
                    if path.is_dir() {
                        stack.push(path);
                    } else {
                        on_disk.push(path.strip_prefix(root.join(dir)).unwrap().to_string_lossy().replace('\\', "/"));
                    }
                }
            }
            on_disk.sort();
            let mut embedded: Vec<String> = files(kind).iter().map(|(p, _)| p.to_string()).collect();
            embedded.sort();
            assert_eq!(embedded, on_disk, "templates/{dir}");
        }
    }
}
