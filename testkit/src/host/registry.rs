//! The agents of an environment as `golem:api/host` reports them: metadata,
//! enumeration with Golem's filter language, and `wasi:config`.

use crate::bindings::golem::api::host::{
    AgentAllFilter, AgentAnyFilter, AgentMetadata, AgentPropertyFilter, AgentStatus, EnvironmentId, FilterComparator,
    StringFilterComparator,
};
use crate::bindings::golem::core::types::{AgentId, ComponentId};
use crate::ids::uuid_from_u128;

/// What the environment knows about one agent.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentRecord {
    /// The component the agent runs.
    pub component_id: u128,
    /// The agent's id string (`type(args)`).
    pub name: String,
    /// Its current status.
    pub status: AgentStatus,
    /// Component revision.
    pub revision: u64,
    /// Creation time, in milliseconds since the Unix epoch (virtual).
    pub created_at_ms: u64,
    /// Environment variables the agent sees.
    pub env: Vec<(String, String)>,
    /// Configuration variables the agent sees.
    pub config: Vec<(String, String)>,
}

impl AgentRecord {
    pub(crate) fn metadata(&self, environment: u64) -> AgentMetadata {
        AgentMetadata {
            agent_id: AgentId {
                component_id: ComponentId { uuid: uuid_from_u128(self.component_id) },
                agent_id: self.name.clone(),
            },
            args: Vec::new(),
            env: self.env.clone(),
            config: self.config.clone(),
            status: self.status,
            component_revision: self.revision,
            retry_count: 0,
            environment_id: EnvironmentId { uuid: uuid_from_u128(u128::from(environment)) },
        }
    }

    /// Whether the record passes `filter` (no filter: everything).
    pub(crate) fn matches(&self, filter: Option<&AgentAnyFilter>) -> bool {
        match filter {
            None => true,
            Some(any) => any.filters.iter().any(|all| self.matches_all(all)),
        }
    }

    fn matches_all(&self, all: &AgentAllFilter) -> bool {
        all.filters.iter().all(|f| self.matches_one(f))
    }

    fn matches_one(&self, filter: &AgentPropertyFilter) -> bool {
        let var = |vars: &[(String, String)], name: &str| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
        match filter {
            AgentPropertyFilter::Name(f) => compare_str(&self.name, f.comparator, &f.value),
            AgentPropertyFilter::Status(f) => compare_ord(status_rank(self.status), f.comparator, status_rank(f.value)),
            AgentPropertyFilter::Version(f) => compare_ord(self.revision, f.comparator, f.value),
            AgentPropertyFilter::CreatedAt(f) => compare_ord(self.created_at_ms, f.comparator, f.value),
            AgentPropertyFilter::Env(f) => {
                var(&self.env, &f.name).is_some_and(|v| compare_str(&v, f.comparator, &f.value))
            }
            AgentPropertyFilter::Config(f) => {
                var(&self.config, &f.name).is_some_and(|v| compare_str(&v, f.comparator, &f.value))
            }
        }
    }
}

/// Status order as declared in the WIT.
fn status_rank(s: AgentStatus) -> u8 {
    match s {
        AgentStatus::Running => 0,
        AgentStatus::Idle => 1,
        AgentStatus::Suspended => 2,
        AgentStatus::Interrupted => 3,
        AgentStatus::Retrying => 4,
        AgentStatus::Failed => 5,
        AgentStatus::Exited => 6,
    }
}

fn compare_ord<T: Ord>(actual: T, comparator: FilterComparator, expected: T) -> bool {
    match comparator {
        FilterComparator::Equal => actual == expected,
        FilterComparator::NotEqual => actual != expected,
        FilterComparator::GreaterEqual => actual >= expected,
        FilterComparator::Greater => actual > expected,
        FilterComparator::LessEqual => actual <= expected,
        FilterComparator::Less => actual < expected,
    }
}

fn compare_str(actual: &str, comparator: StringFilterComparator, expected: &str) -> bool {
    match comparator {
        StringFilterComparator::Equal => actual == expected,
        StringFilterComparator::NotEqual => actual != expected,
        StringFilterComparator::Like => like(actual, expected),
        StringFilterComparator::NotLike => !like(actual, expected),
        StringFilterComparator::StartsWith => actual.starts_with(expected),
    }
}

/// SQL `LIKE`: `%` matches any run of characters, `_` exactly one.
pub(crate) fn like(text: &str, pattern: &str) -> bool {
    let t: Vec<char> = text.chars().collect();
    let p: Vec<char> = pattern.chars().collect();
    // Dynamic programming over (pattern position, text position).
    let mut reachable = vec![false; t.len() + 1];
    reachable[0] = true;
    for pc in &p {
        let mut next = vec![false; t.len() + 1];
        match pc {
            '%' => {
                let mut any = false;
                for i in 0..=t.len() {
                    any |= reachable[i];
                    next[i] = any;
                }
            }
            _ => {
                for i in 0..t.len() {
                    if reachable[i] && (*pc == '_' || *pc == t[i]) {
                        next[i + 1] = true;
                    }
                }
            }
        }
        reachable = next;
    }
    reachable[t.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_follows_sql() {
        assert!(like("cart-alice", "cart-%"));
        assert!(like("cart-alice", "%alice"));
        assert!(like("cart-alice", "c_rt-%e"));
        assert!(!like("cart-alice", "cart-_"));
        assert!(like("", "%"));
        assert!(!like("abc", ""));
        assert!(like("100%", "100%"));
    }
}
