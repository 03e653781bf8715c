//! Oplog-processor plugins: components Golem calls with batches of the oplog
//! entries of the agents they are active on (`golem:api/oplog-processor@1.5.0`).
//!
//! Implement [`OplogProcessor`] and export it with
//! [`export_oplog_processor!`](crate::export_oplog_processor):
//!
//! ```no_run
//! use reprise::plugin::{Batch, OplogProcessor};
//!
//! /// Counts the entries it has seen, per agent.
//! #[derive(Default)]
//! struct EntryCounter {
//!     seen: std::collections::BTreeMap<String, u64>,
//! }
//!
//! impl OplogProcessor for EntryCounter {
//!     fn process(&mut self, batch: &Batch) -> Result<(), String> {
//!         *self.seen.entry(batch.agent_id().agent_id.clone()).or_default() += batch.len() as u64;
//!         Ok(())
//!     }
//! }
//!
//! reprise::export_oplog_processor!(EntryCounter);
//! ```
//!
//! A plugin is a durable component like any agent: Golem records each batch
//! it delivers as an invocation in the plugin's own oplog, so after a crash
//! the plugin's memory (the processor value above) is rebuilt by replaying
//! the batches it had processed, and host calls it made are answered from
//! that oplog rather than made again.
//!
//! What Golem sends: every few commits of an agent's oplog (and every few
//! seconds), the entries committed since the last batch, once and in order:
//! from the agent's first entry for a plugin it was created with, from the
//! entry after an activation otherwise. The agent's own
//! `oplog-processor-checkpoint` entries come along; a batch of nothing but
//! those is passed over, so consecutive batches may leave such a gap. A
//! batch answered with `Err` is reported and not sent again; one that traps
//! is run again when the plugin restarts.

use std::cell::RefCell;

use crate::bindings::golem::api::host::AgentMetadata;
use crate::bindings::golem::api::oplog::{OplogEntry, PublicOplogEntry, enrich_oplog_entries};
use crate::bindings::golem::core::types::{AccountId, AgentId, ComponentId};

/// One delivery: consecutive oplog entries of one agent, with what Golem
/// tells the plugin about the agent and the plugin's installation.
#[derive(Debug, Clone)]
pub struct Batch {
    account: AccountId,
    config: Vec<(String, String)>,
    component_id: ComponentId,
    agent_id: AgentId,
    metadata: AgentMetadata,
    first_index: u64,
    entries: Vec<OplogEntry>,
}

impl Batch {
    /// A batch from the parameters of `process`, as Golem passes them.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        account: AccountId,
        config: Vec<(String, String)>,
        component_id: ComponentId,
        agent_id: AgentId,
        metadata: AgentMetadata,
        first_index: u64,
        entries: Vec<OplogEntry>,
    ) -> Self {
        Batch { account, config, component_id, agent_id, metadata, first_index, entries }
    }

    /// The account that owns the agent.
    pub fn account(&self) -> &AccountId {
        &self.account
    }

    /// The installation's configuration, as key-value pairs in the order given.
    pub fn config(&self) -> &[(String, String)] {
        &self.config
    }

    /// The configuration value of `key`, if the installation sets it.
    pub fn config_value(&self, key: &str) -> Option<&str> {
        self.config.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    /// The component the agent runs.
    pub fn component_id(&self) -> &ComponentId {
        &self.component_id
    }

    /// The agent whose entries these are.
    pub fn agent_id(&self) -> &AgentId {
        &self.agent_id
    }

    /// The agent's latest metadata.
    pub fn metadata(&self) -> &AgentMetadata {
        &self.metadata
    }

    /// Oplog index of the first entry.
    pub fn first_index(&self) -> u64 {
        self.first_index
    }

    /// Oplog index of the last entry.
    pub fn last_index(&self) -> u64 {
        self.first_index + self.entries.len().saturating_sub(1) as u64
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the batch has no entries (Golem never sends one).
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The raw entries with their oplog indexes. Raw entries refer to their
    /// payloads (requests, responses, invocation inputs) without decoding
    /// them; [`Batch::enrich`] decodes them.
    pub fn raw_entries(&self) -> impl Iterator<Item = (u64, &OplogEntry)> {
        (self.first_index..).zip(&self.entries)
    }

    /// The entries as public (self-describing) entries with their indexes,
    /// decoded by the host's `enrich-oplog-entries`.
    pub fn enrich(&self) -> Result<Vec<(u64, PublicOplogEntry)>, EnrichError> {
        let indexed: Vec<(u64, OplogEntry)> = self.raw_entries().map(|(i, e)| (i, e.clone())).collect();
        let enriched = enrich_oplog_entries(
            self.metadata.environment_id,
            &self.agent_id,
            &indexed,
            self.metadata.component_revision,
        )
        .map_err(|message| EnrichError { agent: self.agent_id.agent_id.clone(), message })?;
        if enriched.len() != indexed.len() {
            return Err(EnrichError {
                agent: self.agent_id.agent_id.clone(),
                message: format!("the host returned {} entries for {}", enriched.len(), indexed.len()),
            });
        }
        Ok((self.first_index..).zip(enriched).collect())
    }
}

/// The host could not decode a batch's entries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnrichError {
    /// The agent whose entries they are.
    pub agent: String,
    /// What the host said.
    pub message: String,
}

impl std::fmt::Display for EnrichError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "enriching oplog entries of agent `{}`: {}", self.agent, self.message)
    }
}

impl std::error::Error for EnrichError {}

/// An oplog processor. One value lives in each plugin instance, made with
/// `Default` before the first batch; its fields are the plugin's state.
pub trait OplogProcessor: Default + 'static {
    /// Process one batch. `Err` tells Golem the batch was not processed; it
    /// is delivered again.
    fn process(&mut self, batch: &Batch) -> Result<(), String>;
}

#[doc(hidden)]
pub mod __private {
    //! The glue [`export_oplog_processor!`](crate::export_oplog_processor) expands to.
    use super::*;

    thread_local! {
        static PROCESSOR: RefCell<Option<Box<dyn std::any::Any>>> = RefCell::new(None);
    }

    /// Run `batch` through the instance's processor of type `P`.
    pub fn process<P: OplogProcessor>(batch: Batch) -> Result<(), String> {
        crate::logging::init();
        // Taken out while it runs, so that a panic leaves no half-borrowed state.
        let mut processor: Box<P> =
            PROCESSOR.with(|p| p.borrow_mut().take()).and_then(|any| any.downcast::<P>().ok()).unwrap_or_default();
        let result = processor.process(&batch);
        PROCESSOR.with(|p| *p.borrow_mut() = Some(processor));
        result
    }
}

/// Export a type implementing [`OplogProcessor`] as this component's
/// `golem:api/oplog-processor@1.5.0` (see [`plugin`](crate::plugin)).
#[macro_export]
macro_rules! export_oplog_processor {
    ($processor:ty) => {
        const _: () = {
            use $crate::bindings::exports::golem::api::oplog_processor::{AccountInfo, Guest};
            use $crate::bindings::golem::api::host::AgentMetadata;
            use $crate::bindings::golem::api::oplog::OplogEntry;
            use $crate::bindings::golem::core::types::{AgentId, ComponentId};

            struct __RepriseProcessor;

            impl Guest for __RepriseProcessor {
                fn process(
                    account_info: AccountInfo,
                    config: ::std::vec::Vec<(::std::string::String, ::std::string::String)>,
                    component_id: ComponentId,
                    agent_id: AgentId,
                    metadata: AgentMetadata,
                    first_entry_index: u64,
                    entries: ::std::vec::Vec<OplogEntry>,
                ) -> ::core::result::Result<(), ::std::string::String> {
                    let batch = $crate::plugin::Batch::new(
                        account_info.account_id,
                        config,
                        component_id,
                        agent_id,
                        metadata,
                        first_entry_index,
                        entries,
                    );
                    $crate::plugin::__private::process::<$processor>(batch)
                }
            }

            $crate::export_raw_oplog_processor!(__RepriseProcessor);
        };
    };
}
