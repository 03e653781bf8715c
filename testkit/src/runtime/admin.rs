//! What the executor does to an agent between invocations: updates,
//! reverts, plugin activation, and the requests other agents make.

use super::Agent;
use crate::bindings::golem::api::host::Snapshot;
use crate::bindings::golem::api::oplog::{
    ActivatePluginParameters, DeactivatePluginParameters, FailedUpdateParameters, OplogProcessorCheckpointParameters,
    OplogRegion, PendingUpdateParameters, PluginInstallationDescription, RevertParameters, SuccessfulUpdateParameters,
    UpdateDescription,
};
use crate::error::Error;
use crate::host::{AgentRequest, RevertTarget};
use crate::journal::Journal;
use crate::oplog::OplogEntry;

impl Agent {
    /// Apply what other agents asked the executor to do to this one
    /// (`update-agent`, `revert-agent`), in the order they asked.
    pub(super) fn apply_requests(&mut self) -> Result<(), Error> {
        for request in self.habitat.take_requests(&self.identity.name) {
            match request {
                // A failed update is recorded in the oplog; the agent carries on.
                AgentRequest::Update { revision, automatic } => {
                    let _outcome = self.update(revision, automatic)?;
                }
                AgentRequest::Revert(target) => {
                    let _dropped = self.revert(target)?;
                }
            }
        }
        Ok(())
    }

    /// Update the agent to another revision of its component. An automatic
    /// update replays the whole oplog on the new revision: if that diverges,
    /// the update fails (a `failed-update` entry with the reason) and the
    /// agent stays on its revision. Snapshot-based updates are not supported
    /// by the testkit yet and fail the same way. Returns whether the update
    /// succeeded; errors only when the agent cannot be recovered at all.
    pub fn update(&mut self, revision: u64, automatic: bool) -> Result<Result<(), String>, Error> {
        self.discard_instance();
        let timestamp = self.oplog().last_index() + 1;
        let description = if automatic {
            UpdateDescription::AutoUpdate
        } else {
            UpdateDescription::SnapshotBased(Snapshot { payload: Vec::new(), mime_type: String::new() })
        };
        self.park_append(OplogEntry::PendingUpdate(PendingUpdateParameters {
            timestamp: Journal::time_at(timestamp),
            target_revision: revision,
            description,
        }))?;
        let target = self.habitat.component_revision(self.component.inner.id, revision);
        let failure = match (automatic, target) {
            (false, _) => Some("snapshot-based updates are not supported by the Reprise testkit yet".to_string()),
            (true, None) => Some(format!("the component has no revision {revision}")),
            (true, Some(target)) => {
                let old = std::mem::replace(&mut self.component, target);
                self.updating = true;
                let recovered = self.recover();
                self.updating = false;
                match recovered {
                    Ok(_) => None,
                    Err(e) => {
                        self.discard_instance();
                        self.component = old;
                        Some(e.to_string())
                    }
                }
            }
        };
        self.discard_instance();
        let timestamp = Journal::time_at(self.oplog().last_index() + 1);
        match &failure {
            None => self.park_append(OplogEntry::SuccessfulUpdate(SuccessfulUpdateParameters {
                timestamp,
                target_revision: revision,
                new_component_size: self.component.inner.info.size as u64,
                new_active_plugins: self.component.plugins().to_vec(),
            }))?,
            Some(details) => self.park_append(OplogEntry::FailedUpdate(FailedUpdateParameters {
                timestamp,
                target_revision: revision,
                details: Some(details.clone()),
            }))?,
        }
        let revision = self.component.inner.revision;
        self.habitat.update_record(&self.identity.name, &mut |record| record.revision = revision);
        Ok(failure.map_or(Ok(()), Err))
    }

    /// Append an executor entry while no instance runs.
    fn park_append(&mut self, entry: OplogEntry) -> Result<(), Error> {
        self.discard_instance();
        self.journal_mut().oplog.append(entry)?;
        Ok(())
    }

    /// Revert the agent as Golem's `revert-agent` does: to the state it had
    /// at oplog index `index` ([`RevertTarget::ToIndex`]) or before its last
    /// `n` invocations ([`RevertTarget::LastInvocations`]). A `revert` entry
    /// records the dropped region; replay passes over it, and the next call
    /// runs on the reverted state. Returns the dropped region.
    pub fn revert(&mut self, target: RevertTarget) -> Result<std::ops::RangeInclusive<u64>, Error> {
        let last = self.oplog().last_index();
        let keep = match target {
            RevertTarget::ToIndex(index) => index,
            RevertTarget::LastInvocations(n) => {
                let starts: Vec<u64> = self
                    .oplog()
                    .entries()
                    .iter()
                    .enumerate()
                    .filter(|(_, e)| matches!(e, OplogEntry::AgentInvocationStarted(_)))
                    .map(|(pos, _)| pos as u64 + 1)
                    .collect();
                // The initialization (the first invocation) is never undone.
                let undoable = starts.len().saturating_sub(1);
                let n = usize::try_from(n).unwrap_or(usize::MAX);
                if n == 0 || n > undoable {
                    return Err(Error::Revert(format!(
                        "cannot revert the last {n} invocation(s): the agent has {undoable} after its initialization"
                    )));
                }
                starts[starts.len() - n] - 1
            }
        };
        let initialized = self
            .oplog()
            .entries()
            .iter()
            .position(|e| matches!(e, OplogEntry::AgentInvocationFinished(_)))
            .map_or(last, |pos| pos as u64 + 1);
        if keep < initialized || keep >= last {
            return Err(Error::Revert(format!(
                "cannot revert to oplog index {keep}: it must be at least {initialized} (the end of initialization) and below {last} (the last entry)"
            )));
        }
        let dropped = keep + 1..=last;
        self.park_append(OplogEntry::Revert(RevertParameters {
            timestamp: Journal::time_at(last + 1),
            dropped_region: OplogRegion { start: *dropped.start(), end: *dropped.end() },
        }))?;
        Ok(dropped)
    }

    /// Activate plugin installation `plugin` on this agent (an
    /// `activate-plugin` entry): the entries after it are delivered to the
    /// plugin, from the next flush on (the history before it is not, as on
    /// Golem). The plugin must be installed to the agent's component revision.
    pub fn activate_plugin(&mut self, plugin: &PluginInstallationDescription) -> Result<(), Error> {
        self.check_installed(plugin)?;
        let timestamp = Journal::time_at(self.oplog().last_index() + 1);
        self.park_append(OplogEntry::ActivatePlugin(ActivatePluginParameters { timestamp, plugin: plugin.clone() }))
    }

    /// The latest `oplog-processor-checkpoint` this agent wrote for plugin
    /// installation `plugin`: how far its entries are confirmed
    /// (`confirmed_up_to`), and a batch in flight (`sending_up_to` beyond it).
    pub fn plugin_checkpoint(
        &self,
        plugin: &PluginInstallationDescription,
    ) -> Option<OplogProcessorCheckpointParameters> {
        self.oplog().entries().iter().rev().find_map(|e| match e {
            OplogEntry::OplogProcessorCheckpoint(p)
                if p.plugin.environment_plugin_grant_id == plugin.environment_plugin_grant_id =>
            {
                Some(p.clone())
            }
            _ => None,
        })
    }

    /// Send what this agent has committed and not yet sent to the plugins
    /// active on it, as Golem's flush timer does every 5 s
    /// (`plugin_max_elapsed_time`). Between ticks, every third commit
    /// (`plugin_max_commit_count`, [`PluginSettings`](crate::plugins::PluginSettings))
    /// sends them on by itself. A crash injected at one of the flush's
    /// checkpoints ends the flush; the agent recovers on its next call or
    /// flush, and a batch left in flight is sent again then.
    pub fn flush_plugins(&mut self) -> Result<(), Error> {
        self.ensure_live()?;
        match self.journal_mut().flush_forwarding() {
            Ok(()) => Ok(()),
            Err(e) => match self.stopped(e) {
                super::interrupts::Stop::Lost => Ok(()),
                super::interrupts::Stop::Failed(error) => Err(error),
            },
        }
    }

    /// Deactivate plugin installation `plugin` on this agent (a
    /// `deactivate-plugin` entry): nothing more is delivered to it until it
    /// is activated again.
    pub fn deactivate_plugin(&mut self, plugin: &PluginInstallationDescription) -> Result<(), Error> {
        self.check_installed(plugin)?;
        let timestamp = Journal::time_at(self.oplog().last_index() + 1);
        self.park_append(OplogEntry::DeactivatePlugin(DeactivatePluginParameters { timestamp, plugin: plugin.clone() }))
    }

    /// The plugins active on the agent.
    pub fn active_plugins(&self) -> Vec<PluginInstallationDescription> {
        active_plugins(self.oplog().entries())
    }

    fn check_installed(&self, plugin: &PluginInstallationDescription) -> Result<(), Error> {
        let installed = self
            .component
            .plugins()
            .iter()
            .any(|p| p.environment_plugin_grant_id == plugin.environment_plugin_grant_id);
        if installed {
            return Ok(());
        }
        Err(Error::Plugin(format!(
            "plugin `{}` {} is not installed to revision {} of agent `{}`'s component",
            plugin.plugin_name,
            plugin.plugin_version,
            self.revision(),
            self.id()
        )))
    }
}

/// The plugins active on an agent, from its oplog: those it was created
/// with, then activations, deactivations and updates in order.
pub(crate) fn active_plugins(entries: &[OplogEntry]) -> Vec<PluginInstallationDescription> {
    let mut active: Vec<PluginInstallationDescription> = Vec::new();
    for entry in entries {
        follow_plugin_changes(&mut active, entry);
    }
    active
}

/// Apply what `entry` changes to the plugins active on an agent.
pub(crate) fn follow_plugin_changes(active: &mut Vec<PluginInstallationDescription>, entry: &OplogEntry) {
    match entry {
        OplogEntry::Create(p) => *active = p.initial_active_plugins.clone(),
        OplogEntry::SuccessfulUpdate(p) => *active = p.new_active_plugins.clone(),
        OplogEntry::ActivatePlugin(p)
            if !active.iter().any(|a| a.environment_plugin_grant_id == p.plugin.environment_plugin_grant_id) =>
        {
            active.push(p.plugin.clone());
        }
        OplogEntry::DeactivatePlugin(p) => {
            active.retain(|a| a.environment_plugin_grant_id != p.plugin.environment_plugin_grant_id)
        }
        _ => {}
    }
}
