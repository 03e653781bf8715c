//! `reprise new agent|plugin NAME`: a project from a template.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::error::CliError;
use crate::{CliResult, TemplateKind, templates};

pub fn run(kind: TemplateKind, name: &str, parent: &Path, reprise: Option<&Path>) -> CliResult {
    check_name(name)?;
    let dest = parent.join(name);
    if dest.exists() {
        return Err(CliError::input(format!("{} already exists", dest.display()))
            .hint("pick another name or --path; nothing was written"));
    }
    let checkout = match reprise {
        Some(path) => Some(checkout(path)?),
        None => default_checkout(),
    };
    let (reprise_dep, testkit_dep) = match &checkout {
        Some(root) => (path_dep(&root.join("sdk")), path_dep(&root.join("testkit"))),
        None => (r#"{ version = "0.1" }"#.to_string(), r#"{ version = "0.1" }"#.to_string()),
    };
    let crate_name = name.replace('-', "_");
    let values = [
        ("project-name", name),
        ("crate_name", crate_name.as_str()),
        ("reprise_dep", reprise_dep.as_str()),
        ("testkit_dep", testkit_dep.as_str()),
    ];
    let write = |path: &Path, text: &[u8]| {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(path, text)
    };
    for (path, text) in templates::files(kind) {
        if *path == "cargo-generate.toml" {
            continue;
        }
        write(&dest.join(path), &templates::fill(text, &values)).map_err(|e| {
            CliError::input(format!("cannot write {}: {e}", dest.join(path).display()))
                .hint("check that the folder is writable")
        })?;
    }
    // The dependency versions Reprise itself is tested with.
    if let Some(root) = &checkout
        && let Ok(lock) = std::fs::read_to_string(root.join("Cargo.lock"))
    {
        let _ = std::fs::write(dest.join("Cargo.lock"), lock);
    }
    // Building where `reprise` was built reuses the testkit compiled there:
    // for an agent made from the checkout this binary was built in. (A
    // plugin's `plugin.json` names its component under `target/`.)
    let shared = match (&checkout, kind) {
        (Some(root), TemplateKind::Agent) => own_target_dir().filter(|t| t.starts_with(root)),
        _ => None,
    };
    if let Some(target) = &shared {
        write(&dest.join(".cargo/config.toml"), shared_target_config(target).as_bytes()).map_err(|e| {
            CliError::input(format!("cannot write {}: {e}", dest.join(".cargo/config.toml").display()))
                .hint("check that the folder is writable")
        })?;
    }
    let what = match kind {
        TemplateKind::Agent => "agent",
        TemplateKind::Plugin => "oplog-processor plugin",
    };
    println!("created {what} `{name}` in {}", dest.display());
    match &checkout {
        Some(root) => println!("depends on the Reprise checkout at {}", root.display()),
        None => println!("depends on the published reprise crates (0.1)"),
    }
    let target = match &shared {
        Some(target) => {
            println!(
                "builds in {}, where `reprise` was built, reusing the testkit compiled there (.cargo/config.toml)",
                target.display()
            );
            target.display().to_string()
        }
        None => "target".to_string(),
    };
    println!("next:\n  cd {}\n  reprise build\n  cargo test", dest.display());
    if kind == TemplateKind::Agent {
        println!("  reprise crash-test {target}/wasm32-wasip2/release/{crate_name}.wasm crash-test.script");
    }
    Ok(ExitCode::SUCCESS)
}

/// Cargo's rules for package names, checked up front.
fn check_name(name: &str) -> Result<(), CliError> {
    let ok = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err(CliError::input(format!("`{name}` cannot name a crate"))
            .hint("use letters, digits, `-` and `_`, starting with a letter, such as todo-list"))
    }
}

/// The checkout this binary was built from, if it is still there.
fn default_checkout() -> Option<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    checkout(&root).ok()
}

fn checkout(path: &Path) -> Result<PathBuf, CliError> {
    let root = path.canonicalize().map_err(|e| {
        CliError::input(format!("cannot use {} as the Reprise checkout: {e}", path.display()))
            .hint("pass the folder holding Reprise's sdk/ and testkit/")
    })?;
    if !root.join("sdk/Cargo.toml").is_file() || !root.join("testkit/Cargo.toml").is_file() {
        return Err(CliError::input(format!(
            "{} is not a Reprise checkout (no sdk/ and testkit/ crates)",
            root.display()
        ))
        .hint("pass the folder holding Reprise's sdk/ and testkit/"));
    }
    Ok(root)
}

/// The cargo target folder this binary was built in (`<target>/debug/reprise`),
/// recognised by the `CACHEDIR.TAG` cargo writes there.
fn own_target_dir() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?.canonicalize().ok()?;
    let target = exe.parent()?.parent()?;
    // Written into a literal TOML string below.
    let plain = !target.to_string_lossy().contains(['\'', '\n', '\r']);
    (plain && target.join("CACHEDIR.TAG").is_file()).then(|| target.to_path_buf())
}

/// `.cargo/config.toml` building the project in `target`.
fn shared_target_config(target: &Path) -> String {
    format!(
        "# Builds go to the target folder the `reprise` command was built in: the\n\
         # testkit and its dependencies compiled there are reused, so the first\n\
         # `cargo test` compiles only this project (and the guest). Delete this\n\
         # file to build in a `target/` folder of the project's own; until then,\n\
         # `cargo clean` here empties that shared folder.\n\
         [build]\n\
         target-dir = '{}'\n",
        target.display()
    )
}

/// A TOML path dependency; the path as a literal string so that Windows
/// backslashes need no escaping.
fn path_dep(path: &Path) -> String {
    format!("{{ path = '{}' }}", path.display())
}
