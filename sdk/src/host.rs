//! The executor's agent API (`golem:api/host@1.5.0`): who am I, which other
//! agents exist, updating, forking and reverting agents, and idempotency
//! keys. Persistence, idempotence, atomic regions and transactions are in
//! [`guards`](crate::guards).
//!
//! ```no_run
//! use reprise::host::{self, AgentFilter, AgentStatus};
//!
//! let me = host::self_metadata();
//! let component = me.agent_id.component_id;
//! // Carts that are idle, or any agent on revision 2 or later.
//! let filter = AgentFilter::name().starts_with("cart(")
//!     .and(AgentFilter::status().eq(AgentStatus::Idle))
//!     .or(AgentFilter::revision().ge(2));
//! for agent in host::agents(&component, Some(&filter)) {
//!     println!("{} on revision {}", agent.agent_id.agent_id, agent.component_revision);
//! }
//! ```

use crate::bindings::golem::api::host::{
    self as raw, AgentAllFilter, AgentAnyFilter, AgentConfigVarsFilter, AgentCreatedAtFilter, AgentEnvFilter,
    AgentNameFilter, AgentPropertyFilter, AgentStatusFilter, AgentVersionFilter, FilterComparator, GetAgents,
    StringFilterComparator,
};
pub use crate::bindings::golem::api::host::{AgentMetadata, AgentStatus, ForkResult, RevertAgentTarget, UpdateMode};
pub use crate::bindings::golem::core::types::{AgentId, ComponentId};
pub use crate::guards::idempotency_key;
use crate::paging::{PageSource, Pages};

/// The calling agent's metadata: its id, constructor arguments, environment,
/// configuration, status and component revision.
pub fn self_metadata() -> AgentMetadata {
    raw::get_self_metadata()
}

/// Another agent's metadata, if it exists.
pub fn agent_metadata(agent: &AgentId) -> Option<AgentMetadata> {
    raw::get_agent_metadata(agent)
}

/// The agents of `component` matching `filter` (all agents when `None`),
/// fetched from the executor page by page as the iterator advances.
pub fn agents(component: &ComponentId, filter: Option<&AgentFilter>) -> Agents {
    let filter = filter.map(AgentFilter::to_raw);
    Agents { pages: Pages::new(GetAgents::new(*component, filter.as_ref(), true)) }
}

impl PageSource for GetAgents {
    type Item = AgentMetadata;

    fn next_page(&mut self) -> Option<Vec<AgentMetadata>> {
        self.get_next()
    }
}

/// Agents of a component; see [`agents`].
#[derive(Debug)]
pub struct Agents {
    pages: Pages<GetAgents>,
}

impl Iterator for Agents {
    type Item = AgentMetadata;

    fn next(&mut self) -> Option<AgentMetadata> {
        self.pages.next()
    }
}

/// Ask the executor to update `agent` to component revision `revision`:
/// [`UpdateMode::Automatic`] replays its oplog on the new code,
/// [`UpdateMode::SnapshotBased`] moves its saved state across.
pub fn update_agent(agent: &AgentId, revision: u64, mode: UpdateMode) {
    raw::update_agent(agent, revision, mode);
}

/// Create agent `target` as a copy of `source` with `source`'s oplog up to
/// and including index `cut_off`.
pub fn fork_agent(source: &AgentId, target: &AgentId, cut_off: u64) {
    raw::fork_agent(source, target, cut_off);
}

/// Revert `agent` to an earlier oplog index or undo its last invocations.
pub fn revert_agent(agent: &AgentId, target: RevertAgentTarget) {
    raw::revert_agent(agent, target);
}

/// Fork the calling agent here: the call returns twice, once in the original
/// ([`ForkResult::Original`]) and once in the new agent ([`ForkResult::Forked`]).
pub fn fork() -> ForkResult {
    raw::fork()
}

/// The component a reference (a name) resolves to.
pub fn resolve_component(reference: &str) -> Option<ComponentId> {
    raw::resolve_component_id(reference)
}

/// The id of agent `agent_name` of the component `component_reference` names.
pub fn resolve_agent(component_reference: &str, agent_name: &str) -> Option<AgentId> {
    raw::resolve_agent_id(component_reference, agent_name)
}

/// A filter over agents for [`agents`]: conditions on name, status,
/// revision, creation time, environment variables and configuration,
/// combined with [`and`](AgentFilter::and) and [`or`](AgentFilter::or).
///
/// ```
/// use reprise::host::{AgentFilter, AgentStatus};
///
/// let f = AgentFilter::name().like("cart(%")
///     .and(AgentFilter::env("REGION").eq("eu").or(AgentFilter::config("tier").eq("gold")))
///     .and(AgentFilter::status().ne(AgentStatus::Failed));
/// // (name ∧ env ∧ status) ∨ (name ∧ config ∧ status)
/// assert_eq!(f.alternatives(), 2);
/// ```
#[derive(Debug, Clone)]
pub struct AgentFilter {
    /// Disjunctive normal form: any of these, each meaning all of its conditions.
    any: Vec<Vec<AgentPropertyFilter>>,
}

impl AgentFilter {
    fn single(p: AgentPropertyFilter) -> Self {
        AgentFilter { any: vec![vec![p]] }
    }

    /// Conditions on the agent's name (its id within the component).
    pub fn name() -> TextCondition {
        TextCondition { field: TextField::Name }
    }

    /// Conditions on an environment variable.
    pub fn env(variable: &str) -> TextCondition {
        TextCondition { field: TextField::Env(variable.to_string()) }
    }

    /// Conditions on a configuration value.
    pub fn config(key: &str) -> TextCondition {
        TextCondition { field: TextField::Config(key.to_string()) }
    }

    /// Conditions on the status (ordered as the interface lists them:
    /// running, idle, suspended, interrupted, retrying, failed, exited).
    pub fn status() -> OrderedCondition<AgentStatus> {
        OrderedCondition { make: status_filter }
    }

    /// Conditions on the component revision the agent runs.
    pub fn revision() -> OrderedCondition<u64> {
        OrderedCondition {
            make: |comparator, value| AgentPropertyFilter::Version(AgentVersionFilter { comparator, value }),
        }
    }

    /// Conditions on the creation time (milliseconds since the Unix epoch).
    pub fn created_at() -> OrderedCondition<u64> {
        OrderedCondition {
            make: |comparator, value| AgentPropertyFilter::CreatedAt(AgentCreatedAtFilter { comparator, value }),
        }
    }

    /// Agents matching both filters.
    pub fn and(self, other: AgentFilter) -> AgentFilter {
        let mut any = Vec::with_capacity(self.any.len() * other.any.len());
        for left in &self.any {
            for right in &other.any {
                any.push(left.iter().chain(right).cloned().collect());
            }
        }
        AgentFilter { any }
    }

    /// Agents matching either filter.
    pub fn or(mut self, other: AgentFilter) -> AgentFilter {
        self.any.extend(other.any);
        self
    }

    /// The number of alternatives (conjunctions) the filter is made of.
    pub fn alternatives(&self) -> usize {
        self.any.len()
    }

    fn to_raw(&self) -> AgentAnyFilter {
        AgentAnyFilter { filters: self.any.iter().map(|all| AgentAllFilter { filters: all.clone() }).collect() }
    }
}

fn status_filter(comparator: FilterComparator, value: AgentStatus) -> AgentPropertyFilter {
    AgentPropertyFilter::Status(AgentStatusFilter { comparator, value })
}

#[derive(Debug, Clone)]
enum TextField {
    Name,
    Env(String),
    Config(String),
}

/// A text property to compare; see [`AgentFilter::name`].
#[derive(Debug, Clone)]
pub struct TextCondition {
    field: TextField,
}

impl TextCondition {
    fn with(self, comparator: StringFilterComparator, value: &str) -> AgentFilter {
        let value = value.to_string();
        AgentFilter::single(match self.field {
            TextField::Name => AgentPropertyFilter::Name(AgentNameFilter { comparator, value }),
            TextField::Env(name) => AgentPropertyFilter::Env(AgentEnvFilter { name, comparator, value }),
            TextField::Config(name) => AgentPropertyFilter::Config(AgentConfigVarsFilter { name, comparator, value }),
        })
    }

    /// Equal to `value`.
    pub fn eq(self, value: &str) -> AgentFilter {
        self.with(StringFilterComparator::Equal, value)
    }

    /// Not equal to `value`.
    pub fn ne(self, value: &str) -> AgentFilter {
        self.with(StringFilterComparator::NotEqual, value)
    }

    /// Matching an SQL `LIKE` pattern (`%` any run, `_` one character).
    pub fn like(self, pattern: &str) -> AgentFilter {
        self.with(StringFilterComparator::Like, pattern)
    }

    /// Not matching an SQL `LIKE` pattern.
    pub fn not_like(self, pattern: &str) -> AgentFilter {
        self.with(StringFilterComparator::NotLike, pattern)
    }

    /// Starting with `prefix`.
    pub fn starts_with(self, prefix: &str) -> AgentFilter {
        self.with(StringFilterComparator::StartsWith, prefix)
    }
}

/// An ordered property to compare; see [`AgentFilter::status`].
#[derive(Debug, Clone, Copy)]
pub struct OrderedCondition<T> {
    make: fn(FilterComparator, T) -> AgentPropertyFilter,
}

impl<T> OrderedCondition<T> {
    fn with(self, comparator: FilterComparator, value: T) -> AgentFilter {
        AgentFilter::single((self.make)(comparator, value))
    }

    /// Equal to `value`.
    pub fn eq(self, value: T) -> AgentFilter {
        self.with(FilterComparator::Equal, value)
    }

    /// Not equal to `value`.
    pub fn ne(self, value: T) -> AgentFilter {
        self.with(FilterComparator::NotEqual, value)
    }

    /// Greater than or equal to `value`.
    pub fn ge(self, value: T) -> AgentFilter {
        self.with(FilterComparator::GreaterEqual, value)
    }

    /// Greater than `value`.
    pub fn gt(self, value: T) -> AgentFilter {
        self.with(FilterComparator::Greater, value)
    }

    /// Less than or equal to `value`.
    pub fn le(self, value: T) -> AgentFilter {
        self.with(FilterComparator::LessEqual, value)
    }

    /// Less than `value`.
    pub fn lt(self, value: T) -> AgentFilter {
        self.with(FilterComparator::Less, value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `Debug` of a generated enum without its type prefix.
    fn short(v: impl std::fmt::Debug) -> String {
        let s = format!("{v:?}");
        s.rsplit("::").next().unwrap_or(&s).to_string()
    }

    fn names(f: &AgentFilter) -> Vec<Vec<String>> {
        f.to_raw()
            .filters
            .iter()
            .map(|all| {
                all.filters
                    .iter()
                    .map(|p| match p {
                        AgentPropertyFilter::Name(n) => format!("name {} {}", short(n.comparator), n.value),
                        AgentPropertyFilter::Status(s) => {
                            format!("status {} {}", short(s.comparator), short(s.value))
                        }
                        AgentPropertyFilter::Version(v) => format!("revision {} {}", short(v.comparator), v.value),
                        AgentPropertyFilter::CreatedAt(c) => format!("created {} {}", short(c.comparator), c.value),
                        AgentPropertyFilter::Env(e) => format!("env {} {} {}", e.name, short(e.comparator), e.value),
                        AgentPropertyFilter::Config(c) => {
                            format!("config {} {} {}", c.name, short(c.comparator), c.value)
                        }
                    })
                    .collect()
            })
            .collect()
    }

    #[test]
    fn and_distributes_over_or() {
        let f = AgentFilter::name()
            .eq("a")
            .or(AgentFilter::name().eq("b"))
            .and(AgentFilter::revision().ge(2).or(AgentFilter::env("X").like("y%")));
        assert_eq!(
            names(&f),
            [
                vec!["name Equal a", "revision GreaterEqual 2"],
                vec!["name Equal a", "env X Like y%"],
                vec!["name Equal b", "revision GreaterEqual 2"],
                vec!["name Equal b", "env X Like y%"],
            ]
        );
    }

    #[test]
    fn each_condition_maps_to_its_property() {
        let f = AgentFilter::status()
            .lt(AgentStatus::Failed)
            .and(AgentFilter::created_at().gt(5))
            .and(AgentFilter::config("tier").not_like("%free%"));
        assert_eq!(names(&f), [vec!["status Less Failed", "created Greater 5", "config tier NotLike %free%"]]);
    }
}
