use reprise::testing::AgentConnection;

struct Counter {
    value: u64,
}

#[reprise::agent]
impl Counter {
    pub fn new(start: u64) -> Self {
        Counter { value: start }
    }

    pub fn increment(&mut self, by: u64) -> u64 {
        self.value += by;
        self.value
    }
}

// A test's typed calls take the agent's own parameter types: a string where
// the method takes a `u64` does not compile, in a scenario or on a handle.
fn scenario_step() -> reprise::testing::Call<u64> {
    CounterCall::increment("two".to_string())
}

fn on_a_handle<A: AgentConnection>(counter: &mut CounterHandle<A>) -> Result<String, A::Error> {
    counter.increment(2)
}

fn main() {}
