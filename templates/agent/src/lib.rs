//! A to-do list agent: one agent per owner, its tasks kept durable by Golem's
//! oplog and mirrored to a key-value bucket.

use reprise::keyvalue::Bucket;

/// One task.
#[derive(reprise::Value, Debug, Clone, PartialEq)]
pub struct Task {
    /// Its number in the list, from 1.
    pub id: u32,
    /// What to do.
    pub title: String,
    /// Whether it is done.
    pub done: bool,
}

/// The to-do list of one owner.
#[derive(Debug)]
pub struct TaskList {
    owner: String,
    tasks: Vec<Task>,
}

/// A to-do list; one agent per owner.
#[reprise::agent]
impl TaskList {
    /// The list of `owner`, empty at first.
    pub fn new(owner: String) -> Self {
        TaskList { owner, tasks: Vec::new() }
    }

    /// Add a task; returns its number.
    pub fn add(&mut self, title: String) -> Result<u32, String> {
        if title.trim().is_empty() {
            return Err("a task needs a title".into());
        }
        let id = self.tasks.len() as u32 + 1;
        self.tasks.push(Task { id, title, done: false });
        self.save()?;
        Ok(id)
    }

    /// Mark task `id` done.
    pub fn complete(&mut self, id: u32) -> Result<(), String> {
        let task = self.tasks.iter_mut().find(|t| t.id == id).ok_or_else(|| format!("no task {id}"))?;
        task.done = true;
        self.save()
    }

    /// The tasks not done yet.
    pub fn pending(&self) -> Vec<Task> {
        self.tasks.iter().filter(|t| !t.done).cloned().collect()
    }
}

impl TaskList {
    /// Mirror the list to the `tasks` bucket (a journaled host call: replay
    /// after a crash does not write it twice).
    fn save(&self) -> Result<(), String> {
        let titles: Vec<String> =
            self.tasks.iter().map(|t| format!("{}{}", if t.done { "[x] " } else { "[ ] " }, t.title)).collect();
        let bucket = Bucket::open("tasks").map_err(|e| e.to_string())?;
        bucket.set(&self.owner, titles.join("\n").as_bytes()).map_err(|e| e.to_string())
    }
}

reprise::export_agents!(TaskList);
