//! Encodes the `agent` and `plugin` worlds of `wit/reprise.wit` into the binary
//! form `wasm32-wasip2`'s linker expects in a `component-type` custom section.
//!
//! The SDK's single `wit_bindgen::generate!` runs over the `bindings` world,
//! which exports both the agent and the oplog-processor interfaces. A component
//! exports only one of them, so the export macros emit the matching world's
//! section themselves (wit-bindgen's own sections only describe imports).

// A build script reports a broken checkout by panicking with the reason.
#![allow(clippy::panic)]

use std::path::PathBuf;

use wit_component::StringEncoding;
use wit_parser::Resolve;

fn main() {
    let manifest_dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let wit_dir = manifest_dir.join("../wit");
    println!("cargo:rerun-if-changed={}", wit_dir.display());

    let mut resolve = Resolve::default();
    let (package, files) = resolve.push_dir(&wit_dir).unwrap_or_else(|e| panic!("wit/ does not resolve: {e:?}"));
    for file in files.paths() {
        println!("cargo:rerun-if-changed={}", file.display());
    }
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").expect("set by cargo"));
    for world in ["agent", "plugin"] {
        let id = resolve.select_world(&[package], Some(world)).unwrap_or_else(|e| panic!("world {world}: {e:?}"));
        let bytes = wit_component::metadata::encode(&resolve, id, StringEncoding::UTF8, None)
            .unwrap_or_else(|e| panic!("encoding world {world}: {e:?}"));
        std::fs::write(out_dir.join(format!("{world}-world.bin")), bytes).expect("OUT_DIR is writable");
    }
}
