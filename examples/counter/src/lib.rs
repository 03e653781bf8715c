//! A counter agent: one counter per name, surviving crashes.

/// A named counter.
#[derive(Debug)]
pub struct Counter {
    name: String,
    value: u64,
}

/// Counts up; one agent per counter name.
#[reprise::agent]
impl Counter {
    /// A counter called `name`, starting at zero.
    pub fn new(name: String) -> Self {
        Counter { name, value: 0 }
    }

    /// Add `by` and return the new value.
    pub fn increment(&mut self, by: u64) -> u64 {
        self.value += by;
        self.value
    }

    /// The current value.
    pub fn get(&self) -> u64 {
        self.value
    }

    /// The counter's name.
    pub fn name(&self) -> String {
        self.name.clone()
    }
}

reprise::export_agents!(Counter);
