//! Reading a component's imports and exports, and checking them against the
//! Golem 1.5 interfaces.
//!
//! ```no_run
//! let info = reprise_testkit::inspect::inspect_file("target/wasm32-wasip2/release/app.wasm")?;
//! for import in &info.imports {
//!     println!("imports {import}");
//! }
//! info.check_golem_imports()?; // every import exists in Golem 1.5 with the same types
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt;
use std::path::{Path, PathBuf};

use wit_parser::decoding::DecodedWasm;
use wit_parser::{InterfaceId, Resolve, WorldItem};

use crate::compat;
use crate::wit::golem_wit;

/// WASI 0.2 packages any Golem 1.5 executor (and the testkit) provides.
const WASI_P2_PACKAGES: &[&str] = &["io", "clocks", "random", "cli", "filesystem", "sockets", "http"];

/// What a component imports and exports.
#[derive(Debug, Clone)]
pub struct ComponentInfo {
    /// Size of the component binary in bytes.
    pub size: usize,
    /// Interfaces the component imports, in declaration order.
    pub imports: Vec<InterfaceRef>,
    /// Interfaces the component exports, in declaration order.
    pub exports: Vec<InterfaceRef>,
    /// Functions imported directly into the component's world (not through an interface).
    pub imported_functions: Vec<String>,
    /// Functions exported directly from the component's world.
    pub exported_functions: Vec<String>,
    resolve: Resolve,
}

/// An interface named by package, interface and version, like `golem:api/host@1.5.0`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct InterfaceRef {
    /// Package namespace, such as `golem` or `wasi`.
    pub namespace: String,
    /// Package name, such as `api`.
    pub package: String,
    /// Interface name, such as `host`.
    pub interface: String,
    /// Package version, if the package is versioned.
    pub version: Option<String>,
    /// Names of the functions the component uses from (or provides in) the interface.
    pub functions: Vec<String>,
    id: Option<InterfaceId>,
}

impl InterfaceRef {
    /// The `namespace:package` part.
    pub fn package_name(&self) -> String {
        format!("{}:{}", self.namespace, self.package)
    }
}

impl fmt::Display for InterfaceRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}/{}", self.namespace, self.package, self.interface)?;
        if let Some(v) = &self.version {
            write!(f, "@{v}")?;
        }
        Ok(())
    }
}

/// A file could not be read as a component.
#[derive(Debug)]
pub enum InspectError {
    /// The file could not be read.
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The bytes are not WebAssembly at all.
    NotWasm {
        /// What the file starts with, for the message.
        found: String,
    },
    /// A core WebAssembly module rather than a component.
    CoreModule,
    /// A WebAssembly binary of a layer or version this inspector does not know.
    UnknownVersion {
        /// The version and layer bytes found after the magic number.
        found: [u8; 4],
    },
    /// The component is malformed.
    Malformed {
        /// The validator's or decoder's message.
        message: String,
    },
    /// The path is not a regular file (a folder, a pipe, a device).
    NotAFile {
        /// The path.
        path: PathBuf,
    },
    /// The file is larger than any component the testkit loads.
    TooLarge {
        /// The file.
        path: PathBuf,
        /// Its size in bytes.
        size: u64,
    },
}

/// Largest component file read (Golem's own limits are lower).
pub const MAX_COMPONENT_BYTES: u64 = 512 * 1024 * 1024;

impl fmt::Display for InspectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InspectError::Io { path, source } => write!(f, "cannot read {}: {source}", path.display()),
            InspectError::NotWasm { found } => {
                write!(f, "not a WebAssembly file: it starts with {found} instead of the magic bytes `\\0asm`")
            }
            InspectError::CoreModule => write!(
                f,
                "this is a core WebAssembly module, not a component; build it with \
                 `cargo build --target wasm32-wasip2`, which produces components"
            ),
            InspectError::UnknownVersion { found } => write!(
                f,
                "unsupported WebAssembly version/layer bytes {found:02x?} (expected a component: 0d 00 01 00)"
            ),
            InspectError::Malformed { message } => write!(f, "malformed component: {message}"),
            InspectError::NotAFile { path } => {
                write!(f, "{} is not a regular file (a folder, pipe or device cannot be a component)", path.display())
            }
            InspectError::TooLarge { path, size } => write!(
                f,
                "{} is {size} bytes, more than the {MAX_COMPONENT_BYTES} bytes a component may have",
                path.display()
            ),
        }
    }
}

impl std::error::Error for InspectError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            InspectError::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// Read and inspect a component file.
pub fn inspect_file(path: impl AsRef<Path>) -> Result<ComponentInfo, InspectError> {
    inspect_bytes(&read_component(path.as_ref())?)
}

/// Read a component file, checking before reading it whole that it is a
/// regular file of a plausible size that starts like WebAssembly: a pipe,
/// a device or a huge file of something else is refused without waiting
/// on it or filling memory.
pub fn read_component(path: &Path) -> Result<Vec<u8>, InspectError> {
    use std::io::Read as _;
    let io = |source| InspectError::Io { path: path.to_owned(), source };
    let meta = std::fs::metadata(path).map_err(io)?;
    if !meta.is_file() {
        return Err(InspectError::NotAFile { path: path.to_owned() });
    }
    let mut file = std::fs::File::open(path).map_err(io)?;
    // Enough to name what a file that is not a component starts with.
    let mut header = Vec::with_capacity(32);
    (&mut file).take(32).read_to_end(&mut header).map_err(io)?;
    check_header(&header)?;
    if meta.len() > MAX_COMPONENT_BYTES {
        return Err(InspectError::TooLarge { path: path.to_owned(), size: meta.len() });
    }
    let mut bytes = header;
    // Bounded even if the file grows while it is read.
    file.take(MAX_COMPONENT_BYTES).read_to_end(&mut bytes).map_err(io)?;
    Ok(bytes)
}

/// Inspect a component held in memory.
pub fn inspect_bytes(bytes: &[u8]) -> Result<ComponentInfo, InspectError> {
    check_header(bytes)?;
    let mut validator = wasmparser::Validator::new_with_features(wasmparser::WasmFeatures::all());
    validator.validate_all(bytes).map_err(|e| InspectError::Malformed { message: e.to_string() })?;
    let (resolve, world) = match wit_parser::decoding::decode(bytes) {
        Ok(DecodedWasm::Component(resolve, world)) => (resolve, world),
        Ok(DecodedWasm::WitPackage(..)) => {
            return Err(InspectError::Malformed {
                message: "the file is an encoded WIT package, not a runnable component".into(),
            });
        }
        Err(e) => return Err(InspectError::Malformed { message: format!("{e:#}") }),
    };

    let w = &resolve.worlds[world];
    let mut info = ComponentInfo {
        size: bytes.len(),
        imports: Vec::new(),
        exports: Vec::new(),
        imported_functions: Vec::new(),
        exported_functions: Vec::new(),
        resolve: Resolve::default(),
    };
    for (key, item) in &w.imports {
        match item {
            WorldItem::Interface { id, .. } => info.imports.push(interface_ref(&resolve, *id, key)),
            WorldItem::Function(f) => info.imported_functions.push(f.name.clone()),
            WorldItem::Type { .. } => {}
        }
    }
    for (key, item) in &w.exports {
        match item {
            WorldItem::Interface { id, .. } => info.exports.push(interface_ref(&resolve, *id, key)),
            WorldItem::Function(f) => info.exported_functions.push(f.name.clone()),
            WorldItem::Type { .. } => {}
        }
    }
    info.resolve = resolve;
    Ok(info)
}

fn check_header(bytes: &[u8]) -> Result<(), InspectError> {
    if bytes.len() < 8 || &bytes[..4] != b"\0asm" {
        let head = &bytes[..bytes.len().min(8)];
        let first_line = bytes.iter().take(32).take_while(|b| **b != b'\n').copied().collect::<Vec<u8>>();
        let found = if head.is_empty() {
            "nothing (the file is empty)".to_string()
        } else if !first_line.is_empty() && first_line.iter().all(|b| b.is_ascii_graphic() || *b == b' ') {
            format!("the text {:?}", String::from_utf8_lossy(&first_line))
        } else {
            format!("the bytes {head:02x?}")
        };
        return Err(InspectError::NotWasm { found });
    }
    match bytes[4..8] {
        [0x01, 0x00, 0x00, 0x00] => Err(InspectError::CoreModule),
        [0x0d, 0x00, 0x01, 0x00] => Ok(()),
        [a, b, c, d] => Err(InspectError::UnknownVersion { found: [a, b, c, d] }),
        _ => unreachable!("slice of length 4"),
    }
}

fn interface_ref(resolve: &Resolve, id: InterfaceId, key: &wit_parser::WorldKey) -> InterfaceRef {
    let iface = &resolve.interfaces[id];
    let functions = iface.functions.keys().cloned().collect();
    match iface.package.map(|p| &resolve.packages[p].name) {
        Some(name) => InterfaceRef {
            namespace: name.namespace.clone(),
            package: name.name.clone(),
            interface: iface.name.clone().unwrap_or_default(),
            version: name.version.as_ref().map(|v| v.to_string()),
            functions,
            id: Some(id),
        },
        // An interface without a package: imported by plain name.
        None => InterfaceRef {
            namespace: String::new(),
            package: String::new(),
            interface: resolve.name_world_key(key),
            version: None,
            functions,
            id: Some(id),
        },
    }
}

/// One reason a component cannot run on Golem 1.5.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImportProblem {
    /// The imported package (at this version) is not part of Golem 1.5.
    UnknownPackage {
        /// The offending import.
        import: String,
        /// Versions of a package with the same name that Golem 1.5 does provide.
        provided: Vec<String>,
    },
    /// The package exists but has no interface of that name.
    UnknownInterface {
        /// The offending import.
        import: String,
    },
    /// The interface exists but lacks a function the component imports.
    UnknownFunction {
        /// The interface.
        import: String,
        /// The missing function.
        function: String,
    },
    /// The function exists with a different signature.
    SignatureMismatch {
        /// The interface.
        import: String,
        /// The function.
        function: String,
        /// What differs.
        detail: String,
    },
    /// A function imported outside any interface; Golem provides none.
    RootFunction {
        /// The function.
        function: String,
    },
    /// A WASI interface outside WASI 0.2.
    UnsupportedWasi {
        /// The offending import.
        import: String,
    },
}

impl fmt::Display for ImportProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ImportProblem::UnknownPackage { import, provided } if provided.is_empty() => {
                write!(f, "`{import}`: Golem 1.5 has no such package")
            }
            ImportProblem::UnknownPackage { import, provided } => {
                write!(f, "`{import}`: Golem 1.5 provides this package only as {}", provided.join(", "))
            }
            ImportProblem::UnknownInterface { import } => {
                write!(f, "`{import}`: the package exists in Golem 1.5 but has no such interface")
            }
            ImportProblem::UnknownFunction { import, function } => {
                write!(f, "`{import}`: Golem 1.5 has no function `{function}` in this interface")
            }
            ImportProblem::SignatureMismatch { import, function, detail } => {
                write!(f, "`{import}`: function `{function}` differs from Golem 1.5: {detail}")
            }
            ImportProblem::RootFunction { function } => {
                write!(f, "`{function}`: a function imported outside an interface; Golem 1.5 provides none")
            }
            ImportProblem::UnsupportedWasi { import } => {
                write!(f, "`{import}`: only WASI 0.2 (wasi:*@0.2.x) is available on Golem 1.5")
            }
        }
    }
}

/// Every import that keeps a component from running on Golem 1.5.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncompatibleImports {
    /// The problems, one per offending import or function.
    pub problems: Vec<ImportProblem>,
}

impl fmt::Display for IncompatibleImports {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the component imports {} interface item(s) that Golem 1.5 does not provide:", self.problems.len())?;
        for p in &self.problems {
            write!(f, "\n  - {p}")?;
        }
        Ok(())
    }
}

impl std::error::Error for IncompatibleImports {}

impl ComponentInfo {
    /// Whether the component exports the given interface (`golem:agent/guest@1.5.0`, say).
    pub fn exports_interface(&self, name: &str) -> bool {
        self.exports.iter().any(|e| e.to_string() == name)
    }

    /// Check that every import exists in Golem 1.5 with the same types, or is a
    /// WASI 0.2 interface. All problems are reported at once.
    pub fn check_golem_imports(&self) -> Result<(), IncompatibleImports> {
        let mut problems: Vec<ImportProblem> = self
            .imported_functions
            .iter()
            .map(|function| ImportProblem::RootFunction { function: function.clone() })
            .collect();
        for import in &self.imports {
            self.check_import(import, &mut problems);
        }
        if problems.is_empty() { Ok(()) } else { Err(IncompatibleImports { problems }) }
    }

    fn check_import(&self, import: &InterfaceRef, problems: &mut Vec<ImportProblem>) {
        let name = import.to_string();
        if import.namespace == "wasi" && WASI_P2_PACKAGES.contains(&import.package.as_str()) {
            let is_p2 = import.version.as_deref().is_some_and(|v| v.starts_with("0.2."));
            if !is_p2 {
                problems.push(ImportProblem::UnsupportedWasi { import: name });
            }
            return;
        }

        let golem = golem_wit().resolve();
        let same_name: Vec<_> = golem
            .packages
            .iter()
            .filter(|(_, p)| p.name.namespace == import.namespace && p.name.name == import.package)
            .collect();
        let wanted = import.version.as_deref();
        let Some((_, package)) =
            same_name.iter().find(|(_, p)| p.name.version.as_ref().map(|v| v.to_string()).as_deref() == wanted)
        else {
            let provided = same_name.iter().map(|(_, p)| p.name.to_string()).collect();
            problems.push(ImportProblem::UnknownPackage { import: name, provided });
            return;
        };
        let Some(&golem_iface) = package.interfaces.get(&import.interface) else {
            problems.push(ImportProblem::UnknownInterface { import: name });
            return;
        };
        let Some(id) = import.id else { return };
        let ours = &golem.interfaces[golem_iface];
        for (fname, function) in &self.resolve.interfaces[id].functions {
            match ours.functions.get(fname) {
                None => problems.push(ImportProblem::UnknownFunction { import: name.clone(), function: fname.clone() }),
                Some(expected) => {
                    if let Some(detail) = compat::function_mismatch((golem, expected), (&self.resolve, function)) {
                        problems.push(ImportProblem::SignatureMismatch {
                            import: name.clone(),
                            function: fname.clone(),
                            detail,
                        });
                    }
                }
            }
        }
    }
}
