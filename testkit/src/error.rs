//! The testkit's error type.

use std::fmt;

use crate::guest::GuestBuildError;
use crate::inspect::{IncompatibleImports, InspectError};

/// Anything that can go wrong loading or running a component in the testkit.
#[derive(Debug)]
pub enum Error {
    /// The file is not a readable, well-formed component.
    Inspect(InspectError),
    /// The component imports interfaces Golem 1.5 does not provide.
    Incompatible(IncompatibleImports),
    /// Building a guest crate failed.
    GuestBuild(GuestBuildError),
    /// wasmtime could not compile the component.
    Compile(String),
    /// The component could not be instantiated (for example an import the
    /// testkit does not implement yet).
    Instantiate(String),
    /// The component does not export what was asked for.
    MissingExport(String),
    /// The guest trapped or otherwise failed while running.
    Guest(String),
    /// The testkit itself could not be set up.
    Setup(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Inspect(e) => e.fmt(f),
            Error::Incompatible(e) => e.fmt(f),
            Error::GuestBuild(e) => e.fmt(f),
            Error::Compile(e) => write!(f, "compiling the component failed: {e}"),
            Error::Instantiate(e) => write!(f, "instantiating the component failed: {e}"),
            Error::MissingExport(e) => write!(f, "the component does not export {e}"),
            Error::Guest(e) => write!(f, "the guest failed: {e}"),
            Error::Setup(e) => write!(f, "setting up the testkit failed: {e}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Inspect(e) => Some(e),
            Error::Incompatible(e) => Some(e),
            Error::GuestBuild(e) => Some(e),
            _ => None,
        }
    }
}

impl From<InspectError> for Error {
    fn from(e: InspectError) -> Self {
        Error::Inspect(e)
    }
}

impl From<IncompatibleImports> for Error {
    fn from(e: IncompatibleImports) -> Self {
        Error::Incompatible(e)
    }
}

impl From<GuestBuildError> for Error {
    fn from(e: GuestBuildError) -> Self {
        Error::GuestBuild(e)
    }
}

/// Render a wasmtime error with its whole cause chain on one line.
pub(crate) fn chain(e: &wasmtime::Error) -> String {
    format!("{e:#}")
}
