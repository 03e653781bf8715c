//! Errors as the user sees them: one line saying what went wrong, one line
//! saying what to do about it, and an exit code.

use std::fmt;
use std::path::Path;
use std::process::ExitCode;

use reprise_testkit::Error as TestkitError;

/// What the command could not do.
#[derive(Debug)]
pub struct CliError {
    message: String,
    hint: Option<String>,
    code: u8,
}

impl CliError {
    /// Bad input from the user: exit code 2.
    pub fn input(message: impl Into<String>) -> Self {
        CliError { message: message.into(), hint: None, code: 2 }
    }

    /// The component or the command misbehaved: exit code 1.
    pub fn failed(message: impl Into<String>) -> Self {
        CliError { message: message.into(), hint: None, code: 1 }
    }

    /// Adds the line telling the user what to try.
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// The same error, its message prefixed with where it happened.
    pub fn context(mut self, place: impl fmt::Display) -> Self {
        self.message = format!("{place}: {}", self.message);
        self
    }

    /// The error on one line, hint in parentheses (for JSON answers).
    pub fn inline(&self) -> String {
        match &self.hint {
            Some(hint) => format!("{} (hint: {hint})", self.message),
            None => self.message.clone(),
        }
    }

    pub fn exit_code(&self) -> ExitCode {
        ExitCode::from(self.code)
    }

    /// An error from loading a component file, with a hint that fits it.
    pub fn loading(path: &Path, e: TestkitError) -> Self {
        use reprise_testkit::inspect::InspectError;
        let hint = match &e {
            TestkitError::Inspect(InspectError::Io { .. }) => {
                "check the path; `reprise build` prints where it wrote the component"
            }
            TestkitError::Inspect(_) => {
                "pass the .wasm that `cargo build --target wasm32-wasip2` (or `reprise build`) produces"
            }
            TestkitError::Incompatible(_) => {
                "Golem 1.5 does not provide that interface or version; build against the Reprise SDK \
                 (or golem-rust 2.1), whose WIT matches Golem 1.5"
            }
            _ => "run `reprise inspect` on the file to see what it imports and exports",
        };
        CliError::input(format!("cannot load {}: {}", path.display(), one_line(&e.to_string()))).hint(hint)
    }
}

impl fmt::Display for CliError {
    /// The message's lines after the first are indented, so that text a
    /// guest put in it cannot pass for a line of its own (a `hint:`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let message = crate::terminal::safe(&self.message);
        let mut lines = message.lines();
        write!(f, "error: {}", lines.next().unwrap_or(""))?;
        for line in lines {
            if line.starts_with(char::is_whitespace) || line.is_empty() {
                write!(f, "\n{line}")?;
            } else {
                write!(f, "\n  {line}")?;
            }
        }
        if let Some(hint) = &self.hint {
            write!(f, "\nhint: {}", crate::terminal::safe(hint))?;
        }
        Ok(())
    }
}

impl std::error::Error for CliError {}

/// Multi-line messages (guest backtraces, build output) folded so that the
/// first line carries the point; the rest is kept, indented.
pub fn one_line(text: &str) -> String {
    let mut lines = text.lines().map(str::trim_end).filter(|l| !l.trim().is_empty());
    let first = lines.next().unwrap_or("").to_string();
    let rest: Vec<&str> = lines.collect();
    if rest.is_empty() { first } else { format!("{first}\n  {}", rest.join("\n  ")) }
}
