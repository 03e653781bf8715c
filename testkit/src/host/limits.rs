//! Memory limits: per instance, and a budget shared by every instance of an
//! environment (so that many agents cannot together exhaust the machine).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use wasmtime::ResourceLimiter;

/// Largest number of table elements an instance may grow a table to (Rust
/// guests never grow tables at run time; this only stops runaway guests).
const TABLE_ELEMENTS: usize = 1 << 20;

/// Linear memory used by all instances of an environment, against an
/// optional total.
#[derive(Debug, Default)]
pub(crate) struct MemoryBudget {
    total: Option<usize>,
    used: AtomicUsize,
}

impl MemoryBudget {
    pub(crate) fn new(total: Option<usize>) -> Self {
        MemoryBudget { total, used: AtomicUsize::new(0) }
    }

    /// Bytes of linear memory held by live instances.
    #[cfg(test)]
    pub(crate) fn used(&self) -> usize {
        self.used.load(Ordering::Relaxed)
    }

    /// Take `bytes` from the budget, or refuse when that would pass the total.
    fn take(&self, bytes: usize) -> bool {
        let Some(total) = self.total else {
            self.used.fetch_add(bytes, Ordering::Relaxed);
            return true;
        };
        self.used
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |used| {
                used.checked_add(bytes).filter(|&after| after <= total)
            })
            .is_ok()
    }

    fn give_back(&self, bytes: usize) {
        self.used.fetch_sub(bytes, Ordering::Relaxed);
    }
}

/// Which limit stopped a memory grow: carried by the trap, so that the
/// failure names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MemoryRefused {
    /// The instance's own limit.
    Instance { limit: usize },
    /// The environment's total across instances.
    Total { limit: usize },
}

impl std::fmt::Display for MemoryRefused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MemoryRefused::Instance { limit } => write!(f, "memory limit of {limit} bytes per instance reached"),
            MemoryRefused::Total { limit } => write!(f, "memory budget of {limit} bytes across instances reached"),
        }
    }
}

impl std::error::Error for MemoryRefused {}

/// The limiter of one instance's store. What it took from the shared budget
/// is given back when the store is dropped.
#[derive(Debug)]
pub(crate) struct InstanceLimits {
    per_instance: usize,
    budget: Arc<MemoryBudget>,
    /// Bytes this store took from the budget.
    taken: usize,
    /// What the last grow took, given back if the grow then fails.
    last_grow: usize,
}

impl InstanceLimits {
    pub(crate) fn new(per_instance: usize, budget: Arc<MemoryBudget>) -> Self {
        InstanceLimits { per_instance, budget, taken: 0, last_grow: 0 }
    }
}

impl ResourceLimiter for InstanceLimits {
    fn memory_growing(&mut self, current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        if desired > self.per_instance {
            return Err(MemoryRefused::Instance { limit: self.per_instance }.into());
        }
        let more = desired.saturating_sub(current);
        if !self.budget.take(more) {
            return Err(MemoryRefused::Total { limit: self.budget.total.unwrap_or(usize::MAX) }.into());
        }
        self.taken += more;
        self.last_grow = more;
        Ok(true)
    }

    fn memory_grow_failed(&mut self, error: wasmtime::Error) -> wasmtime::Result<()> {
        // Allowed here, refused after (past the memory's own maximum, or the
        // allocation failed): the memory did not grow, so neither does what
        // this store holds of the budget.
        let last = std::mem::take(&mut self.last_grow);
        self.taken -= last;
        self.budget.give_back(last);
        Err(error)
    }

    fn table_growing(&mut self, _current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        Ok(desired <= TABLE_ELEMENTS)
    }
}

impl Drop for InstanceLimits {
    fn drop(&mut self) {
        self.budget.give_back(self.taken);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_is_shared_and_given_back_when_an_instance_goes() {
        let budget = Arc::new(MemoryBudget::new(Some(100)));
        let mut a = InstanceLimits::new(80, budget.clone());
        let mut b = InstanceLimits::new(80, budget.clone());
        assert!(a.memory_growing(0, 60, None).expect("within both limits"));
        let refused = b.memory_growing(0, 60, None).expect_err("over the total");
        assert_eq!(refused.downcast_ref::<MemoryRefused>(), Some(&MemoryRefused::Total { limit: 100 }));
        let refused = a.memory_growing(60, 90, None).expect_err("over the instance's own limit");
        assert_eq!(refused.downcast_ref::<MemoryRefused>(), Some(&MemoryRefused::Instance { limit: 80 }));
        assert_eq!(budget.used(), 60);
        drop(a);
        assert_eq!(budget.used(), 0);
        assert!(b.memory_growing(0, 60, None).expect("room again"));
        // A grow allowed here and then refused by wasmtime takes nothing.
        let failed = b.memory_grow_failed(wasmtime::format_err!("past the memory's maximum"));
        assert!(failed.is_err());
        assert_eq!(budget.used(), 0);
        drop(b);
        assert_eq!(budget.used(), 0, "given back once only");
    }

    #[test]
    fn without_a_total_only_the_instance_limit_applies() {
        let budget = Arc::new(MemoryBudget::new(None));
        let mut a = InstanceLimits::new(1 << 30, budget.clone());
        assert!(a.memory_growing(0, 1 << 29, None).expect("no total"));
        assert_eq!(budget.used(), 1 << 29);
    }
}
