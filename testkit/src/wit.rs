//! The Golem 1.5 WIT that Reprise targets, embedded from the repository's
//! `wit/` folder at build time.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::OnceLock;

use wit_parser::{PackageId, Resolve, SourceMap, UnresolvedPackageGroup};

include!(concat!(env!("OUT_DIR"), "/wit_files.rs"));

/// The embedded WIT, resolved: every Golem 1.5 package Reprise provides plus
/// Reprise's own worlds (`reprise:component`).
#[derive(Debug)]
pub struct GolemWit {
    resolve: Resolve,
    root: PackageId,
}

impl GolemWit {
    /// The resolved packages.
    pub fn resolve(&self) -> &Resolve {
        &self.resolve
    }

    /// Reprise's own package, `reprise:component`, holding the `plain`, `agent`,
    /// `plugin` and `bindings` worlds.
    pub fn root_package(&self) -> PackageId {
        self.root
    }

    /// The package names (with versions) of every embedded package, for messages.
    pub fn package_names(&self) -> Vec<String> {
        self.resolve.packages.iter().map(|(_, p)| p.name.to_string()).collect()
    }
}

/// The embedded Golem 1.5 WIT, parsed once per process.
pub fn golem_wit() -> &'static GolemWit {
    static WIT: OnceLock<GolemWit> = OnceLock::new();
    WIT.get_or_init(|| {
        // The WIT is part of this crate's source and is checked by its tests;
        // failing to parse it is a build defect, not a user error.
        parse_embedded().unwrap_or_else(|e| unreachable!("embedded wit/ does not resolve: {e:#}"))
    })
}

/// Raw `(relative path, contents)` pairs of the embedded `.wit` files.
pub fn wit_files() -> &'static [(&'static str, &'static str)] {
    WIT_FILES
}

fn parse_embedded() -> Result<GolemWit, String> {
    // Files directly in wit/ form the root package; each folder under
    // wit/deps/ is one dependency package.
    let mut root = SourceMap::default();
    let mut deps: BTreeMap<&str, SourceMap> = BTreeMap::new();
    for (path, contents) in WIT_FILES {
        match path.strip_prefix("deps/").and_then(|rest| rest.split_once('/')) {
            Some((dir, _)) => deps.entry(dir).or_default().push(Path::new(path), *contents),
            None => root.push(Path::new(path), *contents),
        }
    }
    let parse =
        |map: SourceMap| -> Result<UnresolvedPackageGroup, String> { map.parse().map_err(|(map, e)| e.render(&map)) };
    let main = parse(root)?;
    let deps = deps.into_values().map(parse).collect::<Result<Vec<_>, _>>()?;
    let mut resolve = Resolve::default();
    let root = resolve.push_groups(main, deps).map_err(|e| e.to_string())?;
    Ok(GolemWit { resolve, root })
}
