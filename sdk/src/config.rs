//! Configuration values (`wasi:config/store@0.2.0-draft`) the executor gives
//! the agent.
//!
//! ```no_run
//! let endpoint = reprise::config::get("payments.endpoint")?.unwrap_or_else(|| "localhost:8080".into());
//! for (key, value) in reprise::config::all()? {
//!     println!("{key} = {value}");
//! }
//! # let _ = endpoint;
//! # Ok::<(), reprise::config::ConfigError>(())
//! ```

use std::fmt;

use crate::bindings::wasi::config::store;

/// The configuration store could not answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigError {
    /// The store behind the configuration failed.
    Upstream(String),
    /// Reading the configuration failed.
    Io(String),
}

impl From<store::Error> for ConfigError {
    fn from(e: store::Error) -> Self {
        match e {
            store::Error::Upstream(m) => ConfigError::Upstream(m),
            store::Error::Io(m) => ConfigError::Io(m),
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::Upstream(m) => write!(f, "configuration store failed: {m}"),
            ConfigError::Io(m) => write!(f, "reading configuration failed: {m}"),
        }
    }
}

impl std::error::Error for ConfigError {}

/// The value of `key`, if set.
pub fn get(key: &str) -> Result<Option<String>, ConfigError> {
    Ok(store::get(key)?)
}

/// Every configuration key and value.
pub fn all() -> Result<Vec<(String, String)>, ConfigError> {
    Ok(store::get_all()?)
}
