//! An admin agent over a fleet of workers (`reprise::host`): it enumerates
//! the component's agents with filters, reads their metadata and its own,
//! reverts a worker's last invocations, clones a worker as it was at some
//! point (`fork-agent`), and reads its configuration (`reprise::config`).
//! A worker can branch (`fork`): a copy goes on from the same point.

use reprise::host::{self, AgentFilter, AgentMetadata, AgentStatus, ForkResult, RevertAgentTarget};

/// What the admin reports about one agent.
#[derive(reprise::Value, Debug, Clone, PartialEq)]
pub struct AgentSummary {
    /// The agent's id within the component.
    pub name: String,
    /// Its status.
    pub status: String,
    /// The component revision it runs.
    pub revision: u64,
}

fn summary(m: AgentMetadata) -> AgentSummary {
    AgentSummary {
        name: m.agent_id.agent_id,
        status: format!("{:?}", m.status).rsplit("::").next().unwrap_or_default().to_lowercase(),
        revision: m.component_revision,
    }
}

/// A condition of a query, as the admin's callers pass it.
#[derive(reprise::Value, Debug, Clone, PartialEq)]
pub enum Condition {
    /// The name starts with this text.
    NamePrefix(String),
    /// The name matches this SQL `LIKE` pattern.
    NameLike(String),
    /// The agent is (not) in this status.
    Status {
        /// The status, as the interface names it (`idle`, `running`, ...).
        status: String,
        /// Whether to exclude it instead.
        negate: bool,
    },
    /// The component revision is at least this.
    MinRevision(u64),
    /// Configuration `key` equals `value`.
    Config {
        /// The configuration key.
        key: String,
        /// The value.
        value: String,
    },
}

fn status(name: &str) -> Result<AgentStatus, String> {
    Ok(match name {
        "running" => AgentStatus::Running,
        "idle" => AgentStatus::Idle,
        "suspended" => AgentStatus::Suspended,
        "interrupted" => AgentStatus::Interrupted,
        "retrying" => AgentStatus::Retrying,
        "failed" => AgentStatus::Failed,
        "exited" => AgentStatus::Exited,
        other => return Err(format!("unknown status `{other}`")),
    })
}

fn filter(condition: &Condition) -> Result<AgentFilter, String> {
    Ok(match condition {
        Condition::NamePrefix(p) => AgentFilter::name().starts_with(p),
        Condition::NameLike(p) => AgentFilter::name().like(p),
        Condition::Status { status: s, negate: false } => AgentFilter::status().eq(status(s)?),
        Condition::Status { status: s, negate: true } => AgentFilter::status().ne(status(s)?),
        Condition::MinRevision(r) => AgentFilter::revision().ge(*r),
        Condition::Config { key, value } => AgentFilter::config(key).eq(value),
    })
}

/// A worker of the fleet: it only counts its jobs.
#[derive(Debug)]
pub struct Worker {
    jobs: u32,
}

/// A worker doing numbered jobs.
#[reprise::agent]
impl Worker {
    /// The worker called `name`.
    pub fn new(name: String) -> Self {
        let _ = name;
        Worker { jobs: 0 }
    }

    /// Do one job; returns how many were done.
    pub fn work(&mut self) -> u32 {
        self.jobs += 1;
        self.jobs
    }

    /// Branch (Golem's `fork`): a copy of this worker, a phantom agent with
    /// the jobs done so far, goes on from here as a trainee that starts
    /// counting from 100. Returns the copy's id as the original sees it.
    pub fn branch(&mut self) -> String {
        match host::fork() {
            ForkResult::Original(details) => {
                let me = host::self_metadata().agent_id.agent_id;
                let base = me.split('[').next().unwrap_or(&me).to_string();
                format!("{base}[{}]", reprise::uuid::Uuid::from(details.forked_phantom_id).hyphenated())
            }
            ForkResult::Forked(_) => {
                self.jobs += 100;
                "the copy".to_string()
            }
        }
    }
}

/// The admin.
#[derive(Debug)]
pub struct Admin;

/// Enumerates and inspects the agents of its own component.
#[reprise::agent]
impl Admin {
    /// The admin called `name`.
    pub fn new(name: String) -> Self {
        let _ = name;
        Admin
    }

    /// The agents matching any of the groups in `any`, each group meaning
    /// all of its conditions (no groups: every agent), sorted by name.
    pub fn find(&self, any: Vec<Vec<Condition>>) -> Result<Vec<AgentSummary>, String> {
        let mut combined: Option<AgentFilter> = None;
        for group in &any {
            let mut all: Option<AgentFilter> = None;
            for condition in group {
                let f = filter(condition)?;
                all = Some(match all {
                    Some(a) => a.and(f),
                    None => f,
                });
            }
            if let Some(all) = all {
                combined = Some(match combined {
                    Some(c) => c.or(all),
                    None => all,
                });
            }
        }
        let component = host::self_metadata().agent_id.component_id;
        let mut found: Vec<AgentSummary> = host::agents(&component, combined.as_ref()).map(summary).collect();
        found.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(found)
    }

    /// Another agent of this component, by its id.
    pub fn describe(&self, name: String) -> Option<AgentSummary> {
        let mut id = host::self_metadata().agent_id;
        id.agent_id = name;
        host::agent_metadata(&id).map(summary)
    }

    /// The admin's own summary.
    pub fn whoami(&self) -> AgentSummary {
        summary(host::self_metadata())
    }

    /// Undo the last `invocations` invocations of agent `name` (Golem's
    /// `revert-agent`); the agent continues from its earlier state.
    pub fn undo(&mut self, name: String, invocations: u64) {
        let mut id = host::self_metadata().agent_id;
        id.agent_id = name;
        host::revert_agent(&id, RevertAgentTarget::RevertLastInvocations(invocations));
    }

    /// Start agent `into` as a copy of agent `name` as it was at oplog
    /// index `up_to` (Golem's `fork-agent`): `into` goes on from there.
    pub fn clone_worker(&mut self, name: String, into: String, up_to: u64) {
        let mut source = host::self_metadata().agent_id;
        let mut target = source.clone();
        source.agent_id = name;
        target.agent_id = into;
        host::fork_agent(&source, &target, up_to);
    }

    /// The configuration value `key`.
    pub fn setting(&self, key: String) -> Result<Option<String>, String> {
        reprise::config::get(&key).map_err(|e| e.to_string())
    }
}

reprise::export_agents!(Worker, Admin);
