struct Session;

#[reprise::agent]
impl Session {
    pub fn new() -> Self {
        Session
    }

    /// Clashes with the generated `SessionClient::connect`.
    pub fn connect(&mut self, host: String) -> bool {
        !host.is_empty()
    }
}

fn main() {}
