//! Calls written as text (`Counter("visits")`, `increment(2)`) and scripts,
//! read by the testkit ([`reprise_testkit::verify::script`]), with the CLI's
//! errors: what is wrong, a hint, and the exit code.

use std::path::Path;

use reprise_testkit::AgentType;
use reprise_testkit::LoadedComponent;
use reprise_testkit::value::Value;
pub use reprise_testkit::verify::script::{Script, TextError, TypedCall, render_results};
use reprise_testkit::verify::script::{agent as typed_agent, method as typed_method};

use crate::error::{CliError, one_line};

/// A testkit text error as a CLI input error (exit 2), hint included.
pub fn input_error(e: TextError) -> CliError {
    let error = CliError::input(e.message);
    match e.hint {
        Some(hint) => error.hint(hint),
        None => error,
    }
}

/// The agent type a `Type(args)` text names, with its constructor arguments.
pub fn agent<'c>(component: &'c LoadedComponent, text: &str) -> Result<(&'c AgentType, Vec<Value>), CliError> {
    typed_agent(discovered(component)?, text).map_err(input_error)
}

/// The component's agent types. Discovery failing is the component's own
/// failure (exit 1), whatever script or arguments came with it.
pub fn discovered(component: &LoadedComponent) -> Result<&[AgentType], CliError> {
    component.agent_types().map_err(|e| {
        CliError::failed(one_line(&e.to_string()))
            .hint("the component failed before any agent existed: its `discover-agent-types` export broke")
    })
}

/// The method a `method(args)` text names on `definition`, with its arguments.
pub fn method(definition: &AgentType, text: &str) -> Result<TypedCall, CliError> {
    typed_method(definition, text).map_err(input_error)
}

/// Largest script read (a call per line: millions of calls).
pub const MAX_SCRIPT_BYTES: u64 = 64 * 1024 * 1024;

/// Read a script file: a regular file, of at most [`MAX_SCRIPT_BYTES`].
pub fn read_script(path: &Path) -> Result<Script, CliError> {
    use std::io::Read as _;
    let cannot = |why: String| {
        CliError::input(format!("cannot read the script {}: {why}", path.display()))
            .hint("a script names the agent on its first line and one call per line: Counter(\"a\") / increment(1)")
    };
    match std::fs::metadata(path) {
        Ok(meta) if !meta.is_file() => return Err(cannot("not a regular file (a folder, pipe or device)".into())),
        Ok(meta) if meta.len() > MAX_SCRIPT_BYTES => {
            return Err(cannot(format!("{} bytes, more than the {MAX_SCRIPT_BYTES} a script may have", meta.len())));
        }
        Ok(_) => {}
        Err(e) => return Err(cannot(e.to_string())),
    }
    let mut text = String::new();
    let read = std::fs::File::open(path).and_then(|f| f.take(MAX_SCRIPT_BYTES).read_to_string(&mut text));
    read.map_err(|e| {
        CliError::input(format!("cannot read the script {}: {e}", path.display()))
            .hint("a script names the agent on its first line and one call per line: Counter(\"a\") / increment(1)")
    })?;
    Script::parse(&text).map_err(|e| {
        CliError::input(format!("{}: {e}", path.display()))
            .hint("a script names the agent on its first line and one call per line: Counter(\"a\") / increment(1)")
    })
}
