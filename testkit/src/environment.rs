//! Test environments and the components loaded into them.

use std::path::Path;
use std::sync::Arc;

use wasmtime::Store;
use wasmtime::component::{InstancePre, Linker};

use crate::engine::{compile, engine};
use crate::error::{Error, chain};
use crate::host::{self, HostState, LogRecord};
use crate::inspect::{self, ComponentInfo};

/// A self-contained Golem host: components loaded into one environment share
/// its host state (stores, registries) and nothing else.
///
/// ```no_run
/// use reprise_testkit::Environment;
///
/// let env = Environment::new()?;
/// let app = env.load("target/wasm32-wasip2/release/app.wasm")?;
/// let outcome = app.run()?;
/// assert_eq!(outcome.exit_code, 0, "stderr: {}", outcome.stderr);
/// # Ok::<(), reprise_testkit::Error>(())
/// ```
#[derive(Clone)]
pub struct Environment {
    linker: Arc<Linker<HostState>>,
}

impl std::fmt::Debug for Environment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Environment").finish_non_exhaustive()
    }
}

impl Environment {
    /// A fresh environment.
    pub fn new() -> Result<Self, Error> {
        let mut linker = Linker::new(engine()?);
        host::add_to_linker(&mut linker).map_err(|e| Error::Setup(chain(&e)))?;
        Ok(Environment { linker: Arc::new(linker) })
    }

    /// Load a component file: inspect it, refuse it if it imports anything
    /// Golem 1.5 does not provide, and compile it (cached per process and on disk).
    pub fn load(&self, path: impl AsRef<Path>) -> Result<LoadedComponent, Error> {
        let path = path.as_ref();
        let bytes = std::fs::read(path)
            .map_err(|source| inspect::InspectError::Io { path: path.to_owned(), source })?;
        self.load_bytes(&bytes)
    }

    /// Load a component held in memory; see [`Environment::load`].
    pub fn load_bytes(&self, bytes: &[u8]) -> Result<LoadedComponent, Error> {
        let info = inspect::inspect_bytes(bytes)?;
        info.check_golem_imports()?;
        let component = compile(bytes)?;
        let pre = self.linker.instantiate_pre(&component).map_err(|e| Error::Instantiate(chain(&e)))?;
        Ok(LoadedComponent { info, pre })
    }
}

/// A compiled component, ready to be instantiated any number of times.
pub struct LoadedComponent {
    info: ComponentInfo,
    pre: InstancePre<HostState>,
}

impl std::fmt::Debug for LoadedComponent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadedComponent").field("info", &self.info).finish_non_exhaustive()
    }
}

/// The result of running a command component's `wasi:cli/run`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandOutcome {
    /// 0 for success; 1 when `run` returned an error; the code passed to WASI
    /// `exit` otherwise.
    pub exit_code: i32,
    /// Everything the guest wrote to stdout (lossily decoded as UTF-8).
    pub stdout: String,
    /// Everything the guest wrote to stderr.
    pub stderr: String,
    /// Messages logged through `wasi:logging`, in order.
    pub logs: Vec<LogRecord>,
}

impl LoadedComponent {
    /// What the component imports and exports.
    pub fn info(&self) -> &ComponentInfo {
        &self.info
    }

    /// Run a command component (one exporting `wasi:cli/run`, as a Rust binary
    /// built for `wasm32-wasip2` does) in a fresh instance.
    pub fn run(&self) -> Result<CommandOutcome, Error> {
        use wasmtime_wasi::p2::bindings::sync::CommandPre;

        let pre = CommandPre::new(self.pre.clone())
            .map_err(|e| Error::MissingExport(format!("`wasi:cli/run` ({})", chain(&e))))?;
        let mut store = Store::new(self.pre.engine(), HostState::new());
        let command = pre.instantiate(&mut store).map_err(|e| Error::Instantiate(chain(&e)))?;
        let exit_code = match command.wasi_cli_run().call_run(&mut store) {
            Ok(Ok(())) => 0,
            Ok(Err(())) => 1,
            Err(e) => match e.downcast_ref::<wasmtime_wasi::I32Exit>() {
                Some(exit) => exit.0,
                None => return Err(Error::Guest(chain(&e))),
            },
        };
        let state = store.into_data();
        Ok(CommandOutcome {
            exit_code,
            stdout: String::from_utf8_lossy(&state.stdout.contents()).into_owned(),
            stderr: String::from_utf8_lossy(&state.stderr.contents()).into_owned(),
            logs: state.logs,
        })
    }
}
