struct Upload;

struct Files;

#[reprise::agent]
impl Files {
    pub fn new() -> Self {
        Files
    }

    pub fn store(&mut self, name: &str, file: Upload) -> u64 {
        let _ = (name, file);
        0
    }
}

fn main() {}
