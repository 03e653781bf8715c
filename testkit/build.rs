//! Embeds the repository's `wit/` folder into the testkit, so the inspector
//! checks components against exactly the WIT the bindings were generated from,
//! without reading files at run time.

// A build script reports a broken checkout by panicking with the reason.
#![allow(clippy::panic)]

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn main() {
    let manifest_dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let wit_dir = manifest_dir.join("../wit");
    println!("cargo:rerun-if-changed={}", wit_dir.display());

    let mut files = Vec::new();
    collect(&wit_dir, &wit_dir, &mut files);
    files.sort();

    let mut out = String::from("/// Every `.wit` file of `wit/`: path relative to `wit/`, and contents.\n");
    out.push_str("pub(crate) const WIT_FILES: &[(&str, &str)] = &[\n");
    for (relative, absolute) in &files {
        println!("cargo:rerun-if-changed={}", absolute.display());
        writeln!(out, "    ({relative:?}, include_str!({:?})),", absolute.display().to_string())
            .expect("writing to a String");
    }
    out.push_str("];\n");

    let out_file = PathBuf::from(std::env::var_os("OUT_DIR").expect("set by cargo")).join("wit_files.rs");
    std::fs::write(&out_file, out).expect("OUT_DIR is writable");
}

fn collect(root: &Path, dir: &Path, files: &mut Vec<(String, PathBuf)>) {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()));
    for entry in entries {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            println!("cargo:rerun-if-changed={}", path.display());
            collect(root, &path, files);
        } else if path.extension().is_some_and(|ext| ext == "wit") {
            let relative = path.strip_prefix(root).expect("under root").to_string_lossy().replace('\\', "/");
            files.push((relative, path));
        }
    }
}
