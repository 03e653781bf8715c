//! A counter agent whose oplog the plugin's tests deliver to the plugin.

/// A named counter.
#[derive(Debug)]
pub struct Counter {
    value: u64,
}

#[reprise::agent]
impl Counter {
    /// A counter starting at zero.
    pub fn new(_name: String) -> Self {
        Counter { value: 0 }
    }

    /// Add `by`; returns the new value.
    pub fn increment(&mut self, by: u64) -> u64 {
        self.value += by;
        self.value
    }
}

reprise::export_agents!(Counter);
