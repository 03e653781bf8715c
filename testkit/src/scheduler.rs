//! Agents that run side by side, one step at a time: a deterministic
//! scheduler.
//!
//! On Golem, agents run concurrently: a call enqueued on another agent runs
//! while its caller goes on. The testkit runs each such invocation on a
//! thread of its own (a *task*) but lets only one task run at a time, the
//! one holding the turn. A task gives the turn up where Golem's agents
//! interleave, before each live host call ([`yield_at`]), and when it waits
//! for something another task does ([`wait_until`]). Who runs next is the
//! [`Schedule`]'s choice, so a run is reproducible: the same schedule gives
//! the same interleaving, and seeds explore different ones. A seeded choice
//! depends on the seed, on where the deciding task is (its agent's oplog
//! index) and on which tasks could run, not on how many choices came
//! before: an agent that crashed and replays its oplog meets the same
//! choices again when it reaches the same entries live.
//!
//! A thread that is not a task (a test calling an agent) becomes the root
//! task of a *session* ([`Scheduler::session`]) for as long as its call
//! runs; the session ends once every task it started has finished, so a
//! test's call returns with the environment at rest.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use crate::sync::lock;

/// How the scheduler picks the task that runs next.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Schedule {
    /// A task runs until it waits or finishes; then the oldest task that
    /// can run goes on. Calls enqueued on other agents run once their
    /// caller waits or is done.
    #[default]
    Sequential,
    /// Before each live host call, any task that can run may take over,
    /// drawn from this seed.
    Seeded(u64),
}

impl std::fmt::Display for Schedule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Schedule::Sequential => f.write_str("sequential"),
            Schedule::Seeded(seed) => write!(f, "seed {seed}"),
        }
    }
}

/// Waiting would never end: every other task waits too.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Deadlock;

/// What a waiting task waits for.
type Condition = Box<dyn Fn() -> bool + Send>;

struct Task {
    name: String,
    /// The oplog index of the next entry its agent writes, as of its last
    /// switch point.
    position: u64,
    /// `None`: ready to run.
    waiting: Option<Waiting>,
    /// Woken because its wait can never end.
    deadlocked: bool,
}

enum Waiting {
    Until(Condition),
    /// The session's root, waiting for every other task to finish.
    Alone,
}

struct State {
    schedule: Schedule,
    tasks: BTreeMap<u64, Task>,
    next_id: u64,
    /// The task holding the turn.
    holder: Option<u64>,
    /// Whether a session is open (one at a time).
    session: bool,
    /// Every switch from one task to another, in order, as text.
    switches: Vec<String>,
}

/// One environment's scheduler.
pub(crate) struct Scheduler {
    state: Mutex<State>,
    turn: Condvar,
}

impl std::fmt::Debug for Scheduler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scheduler").field("schedule", &lock(&self.state).schedule).finish_non_exhaustive()
    }
}

thread_local! {
    /// The scheduler and task id of the task this thread runs.
    static CURRENT: RefCell<Option<(Arc<Scheduler>, u64)>> = const { RefCell::new(None) };
}

fn current() -> Option<(Arc<Scheduler>, u64)> {
    CURRENT.with(|c| c.borrow().clone())
}

/// Stack of a task's thread: guest code runs on it.
const TASK_STACK_BYTES: usize = 16 * 1024 * 1024;

impl Scheduler {
    pub(crate) fn new(schedule: Schedule) -> Arc<Self> {
        Arc::new(Scheduler {
            state: Mutex::new(State {
                schedule,
                tasks: BTreeMap::new(),
                next_id: 0,
                holder: None,
                session: false,
                switches: Vec::new(),
            }),
            turn: Condvar::new(),
        })
    }

    pub(crate) fn schedule(&self) -> Schedule {
        lock(&self.state).schedule
    }

    /// Every switch from one task to another since the scheduler was made,
    /// in order: `agent `a` before entry 7 -> queue of b`, `queue of b done
    /// -> agent `a``.
    pub(crate) fn switches(&self) -> Vec<String> {
        lock(&self.state).switches.clone()
    }

    /// Run `f` as a task of this scheduler: on the calling thread's task if
    /// it runs one, or else as the root of a new session (waiting for an
    /// open session, started by another thread, to end first). The session
    /// ends when `f` has returned and every task started meanwhile is done.
    pub(crate) fn session<R>(self: &Arc<Self>, name: &str, f: impl FnOnce() -> R) -> R {
        if current().is_some_and(|(s, _)| Arc::ptr_eq(&s, self)) {
            return f();
        }
        let root = {
            let mut state = lock(&self.state);
            while state.session {
                state = self.turn.wait(state).unwrap_or_else(|p| p.into_inner());
            }
            state.session = true;
            let id = state.add(name);
            state.holder = Some(id);
            id
        };
        // A thread running a task of another environment's scheduler gets it back after.
        let outer = CURRENT.with(|c| c.replace(Some((self.clone(), root))));
        let result = f();
        self.settle(root);
        {
            let mut state = lock(&self.state);
            state.tasks.remove(&root);
            state.holder = None;
            state.session = false;
        }
        self.turn.notify_all();
        CURRENT.with(|c| *c.borrow_mut() = outer);
        result
    }

    /// Let every other task finish: those that can never go on are woken
    /// with [`Deadlock`], one at a time, newest first.
    fn settle(&self, root: u64) {
        loop {
            let mut state = lock(&self.state);
            if state.tasks.len() <= 1 {
                return;
            }
            if let Some(task) = state.tasks.get_mut(&root) {
                task.waiting = Some(Waiting::Alone);
            }
            match state.pick(root, Choice::Settle).or_else(|| state.deadlocked_newest()) {
                Some(next) if next != root => {
                    let from = state.moment(root, Choice::Settle);
                    let state = self.hand_over(state, next, from);
                    drop(self.wait_turn(state, root));
                }
                _ => {
                    if let Some(task) = state.tasks.get_mut(&root) {
                        task.waiting = None;
                    }
                    return;
                }
            }
        }
    }

    /// Start `run` as a new task, named `name`, on a thread of its own. It
    /// runs when the scheduler gives it the turn. Outside a task, `run` runs
    /// in a session of its own, which ends when it is done.
    pub(crate) fn spawn(self: &Arc<Self>, name: String, run: impl FnOnce() + Send + 'static) -> Result<(), String> {
        if !current().is_some_and(|(s, _)| Arc::ptr_eq(&s, self)) {
            let this = self.clone();
            return self.session("spawner", move || this.spawn(name, run));
        }
        let id = lock(&self.state).add(&name);
        let scheduler = self.clone();
        let spawned = std::thread::Builder::new().name(name.clone()).stack_size(TASK_STACK_BYTES).spawn(move || {
            CURRENT.with(|c| *c.borrow_mut() = Some((scheduler.clone(), id)));
            // Whatever happens in `run`, the task ends and passes the turn on.
            let _end = TaskEnd(scheduler.clone(), id);
            let state = lock(&scheduler.state);
            drop(scheduler.wait_turn(state, id));
            run();
        });
        match spawned {
            Ok(_) => Ok(()),
            Err(e) => {
                lock(&self.state).tasks.remove(&id);
                Err(format!("could not start a thread for {name}: {e}"))
            }
        }
    }

    /// Give the turn to `next`; `from` says why the holder gave it up.
    fn hand_over<'a>(&self, mut state: MutexGuard<'a, State>, next: u64, from: String) -> MutexGuard<'a, State> {
        if state.holder != Some(next) {
            let to = state.tasks.get(&next).map(|t| t.name.clone()).unwrap_or_default();
            state.switches.push(format!("{from} -> {to}"));
        }
        state.holder = Some(next);
        self.turn.notify_all();
        state
    }

    /// Wait until task `me` holds the turn; `Err` if it was given the turn
    /// because its wait can never end.
    fn wait_turn<'a>(&self, mut state: MutexGuard<'a, State>, me: u64) -> Result<MutexGuard<'a, State>, Deadlock> {
        while state.holder != Some(me) {
            state = self.turn.wait(state).unwrap_or_else(|p| p.into_inner());
        }
        match state.tasks.get_mut(&me) {
            Some(task) if task.deadlocked => {
                task.deadlocked = false;
                task.waiting = None;
                Err(Deadlock)
            }
            Some(task) => {
                task.waiting = None;
                Ok(state)
            }
            None => Ok(state),
        }
    }

    fn end(&self, me: u64) {
        let mut state = lock(&self.state);
        let from = state.moment(me, Choice::End);
        state.tasks.remove(&me);
        if state.holder == Some(me) {
            state.holder = None;
            if let Some(next) = state.pick(me, Choice::End).or_else(|| state.deadlocked_newest()) {
                drop(self.hand_over(state, next, from));
            }
        }
    }
}

/// Ends a spawned task when its thread finishes, panicking or not.
struct TaskEnd(Arc<Scheduler>, u64);

impl Drop for TaskEnd {
    fn drop(&mut self) {
        self.0.end(self.1);
    }
}

impl State {
    fn add(&mut self, name: &str) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        self.tasks.insert(id, Task { name: name.to_string(), position: 0, waiting: None, deadlocked: false });
        id
    }

    /// Where task `id` is when it gives the turn up for `why`, as a report says it.
    fn moment(&self, id: u64, why: Choice) -> String {
        let Some(task) = self.tasks.get(&id) else { return String::new() };
        let (name, at) = (&task.name, task.position);
        match why {
            Choice::Yield => format!("{name} before entry {at}"),
            Choice::Wait => format!("{name} waiting at entry {at}"),
            Choice::End => format!("{name} done"),
            Choice::Settle => format!("{name} returned"),
        }
    }

    fn ready(&self, id: u64, task: &Task) -> bool {
        match &task.waiting {
            None => true,
            Some(Waiting::Until(condition)) => condition(),
            Some(Waiting::Alone) => self.tasks.keys().all(|k| *k == id),
        }
    }

    /// The task to run next, asked by task `me`: under [`Schedule::Sequential`]
    /// `me` if it can run, else the oldest that can; seeded, any that can,
    /// drawn from the seed, where `me` is, and who could run.
    fn pick(&self, me: u64, choice: Choice) -> Option<u64> {
        let ready: Vec<u64> = self.tasks.iter().filter(|(id, t)| self.ready(**id, t)).map(|(id, _)| *id).collect();
        match self.schedule {
            Schedule::Seeded(seed) if ready.len() > 1 => {
                let mut key = Fnv::new(seed);
                if let Some(task) = self.tasks.get(&me) {
                    key.text(&task.name).number(task.position);
                }
                key.number(choice as u64);
                for id in &ready {
                    key.text(self.tasks.get(id).map_or("", |t| &t.name));
                }
                Some(ready[(key.finish() % ready.len() as u64) as usize])
            }
            _ => ready.iter().copied().find(|id| *id == me).or_else(|| ready.first().copied()),
        }
    }

    /// The newest waiting task (whose wait closed the cycle), marked as
    /// woken by a deadlock.
    fn deadlocked_newest(&mut self) -> Option<u64> {
        let (id, task) = self.tasks.iter_mut().rev().find(|(_, t)| matches!(t.waiting, Some(Waiting::Until(_))))?;
        task.deadlocked = true;
        Some(*id)
    }
}

/// Why a task asks who runs next.
#[derive(Clone, Copy)]
enum Choice {
    /// Before a live host call.
    Yield = 1,
    /// It waits.
    Wait = 2,
    /// It ended.
    End = 3,
    /// The session's root waits for the rest.
    Settle = 4,
}

/// FNV-1a over what a seeded choice depends on, finished with SplitMix64's
/// mixer (FNV alone leaves the low bits, which pick the task, too alike).
struct Fnv(u64);

impl Fnv {
    fn new(seed: u64) -> Self {
        let mut h = Fnv(0xcbf2_9ce4_8422_2325);
        h.number(seed);
        h
    }

    fn bytes(&mut self, bytes: &[u8]) -> &mut Self {
        for b in bytes {
            self.0 = (self.0 ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
        }
        self
    }

    fn text(&mut self, text: &str) -> &mut Self {
        self.bytes(text.as_bytes()).bytes(&[0xff])
    }

    fn number(&mut self, n: u64) -> &mut Self {
        self.bytes(&n.to_le_bytes())
    }

    fn finish(&self) -> u64 {
        let mut z = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

/// Whether this thread runs a task (of any scheduler).
pub(crate) fn in_task() -> bool {
    current().is_some()
}

/// Where agents may interleave, the running task's agent about to write
/// entry `position` of its oplog: under a seeded schedule, another task may
/// run now. Nothing happens on a thread that is not a task.
pub(crate) fn yield_at(position: u64) {
    let Some((scheduler, me)) = current() else { return };
    let mut state = lock(&scheduler.state);
    if let Some(task) = state.tasks.get_mut(&me) {
        task.position = position;
    }
    if state.schedule == Schedule::Sequential || state.holder != Some(me) {
        return;
    }
    match state.pick(me, Choice::Yield) {
        Some(next) if next != me => {
            let from = state.moment(me, Choice::Yield);
            let state = scheduler.hand_over(state, next, from);
            // Ready tasks are never woken as deadlocked.
            drop(scheduler.wait_turn(state, me));
        }
        _ => drop(state),
    }
}

/// Wait until `condition` holds, letting other tasks run meanwhile. `Err`
/// when it cannot come true: every other task waits too. A thread that is
/// not a task waits by checking now and then.
pub(crate) fn wait_until(condition: impl Fn() -> bool + Send + Sync + 'static) -> Result<(), Deadlock> {
    let Some((scheduler, me)) = current() else {
        while !condition() {
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        return Ok(());
    };
    let condition: Arc<dyn Fn() -> bool + Send + Sync> = Arc::new(condition);
    loop {
        let mut state = lock(&scheduler.state);
        if condition() {
            return Ok(());
        }
        let shared = condition.clone();
        if let Some(task) = state.tasks.get_mut(&me) {
            task.waiting = Some(Waiting::Until(Box::new(move || shared())));
        }
        match state.pick(me, Choice::Wait) {
            None => {
                if let Some(task) = state.tasks.get_mut(&me) {
                    task.waiting = None;
                }
                return Err(Deadlock);
            }
            Some(next) if next == me => {
                if let Some(task) = state.tasks.get_mut(&me) {
                    task.waiting = None;
                }
                return Ok(());
            }
            Some(next) => {
                let from = state.moment(me, Choice::Wait);
                let state = scheduler.hand_over(state, next, from);
                drop(scheduler.wait_turn(state, me)?);
            }
        }
    }
}

/// A value one task leaves for another: an answer to a call.
pub(crate) struct Slot<T>(Arc<Mutex<Option<T>>>);

impl<T> Clone for Slot<T> {
    fn clone(&self) -> Self {
        Slot(self.0.clone())
    }
}

impl<T> std::fmt::Debug for Slot<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Slot").field("filled", &lock(&self.0).is_some()).finish()
    }
}

impl<T: Send + 'static> Slot<T> {
    pub(crate) fn new() -> Self {
        Slot(Arc::new(Mutex::new(None)))
    }

    /// A slot already holding `value`.
    pub(crate) fn filled(value: T) -> Self {
        Slot(Arc::new(Mutex::new(Some(value))))
    }

    pub(crate) fn fill(&self, value: T) {
        *lock(&self.0) = Some(value);
    }

    pub(crate) fn is_filled(&self) -> bool {
        lock(&self.0).is_some()
    }

    pub(crate) fn take(&self) -> Option<T> {
        lock(&self.0).take()
    }

    /// Wait for the value, letting other tasks run meanwhile.
    pub(crate) fn wait(&self) -> Result<T, Deadlock> {
        let slot = self.clone();
        wait_until(move || slot.is_filled())?;
        self.take().ok_or(Deadlock)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two tasks appending to one log, each yielding between appends.
    fn interleaving(schedule: Schedule) -> Vec<String> {
        let scheduler = Scheduler::new(schedule);
        let log = Arc::new(Mutex::new(Vec::new()));
        scheduler.session("root", || {
            for name in ["a", "b"] {
                let log = log.clone();
                scheduler
                    .spawn(name.to_string(), move || {
                        for i in 0..4 {
                            lock(&log).push(format!("{name}{i}"));
                            yield_at(i);
                        }
                    })
                    .unwrap();
            }
        });
        lock(&log).clone()
    }

    #[test]
    fn sequential_tasks_run_one_after_the_other() {
        assert_eq!(interleaving(Schedule::Sequential), ["a0", "a1", "a2", "a3", "b0", "b1", "b2", "b3"]);
    }

    #[test]
    fn a_seed_gives_one_interleaving_and_seeds_differ() {
        let runs: Vec<Vec<String>> = (0..20).map(|s| interleaving(Schedule::Seeded(s))).collect();
        for (seed, run) in runs.iter().enumerate() {
            assert_eq!(*run, interleaving(Schedule::Seeded(seed as u64)), "seed {seed} ran differently twice");
            assert_eq!(run.len(), 8);
        }
        let distinct: std::collections::BTreeSet<_> = runs.iter().collect();
        assert!(distinct.len() > 5, "20 seeds gave only {} interleavings", distinct.len());
    }

    #[test]
    fn a_task_waits_for_another_and_a_wait_that_cannot_end_fails() {
        let scheduler = Scheduler::new(Schedule::Sequential);
        let outcome = scheduler.session("root", || {
            let answer = Slot::new();
            let filler = answer.clone();
            scheduler.spawn("filler".into(), move || filler.fill(42)).unwrap();
            let got = answer.wait();
            let never: Slot<u32> = Slot::new();
            (got, never.wait())
        });
        assert_eq!(outcome, (Ok(42), Err(Deadlock)));
    }

    #[test]
    fn a_session_ends_when_tasks_waiting_forever_are_woken() {
        let scheduler = Scheduler::new(Schedule::Sequential);
        let woken = Slot::new();
        let report = woken.clone();
        scheduler.session("root", || {
            scheduler
                .spawn("stuck".into(), move || {
                    let never: Slot<u32> = Slot::new();
                    report.fill(never.wait().is_err());
                })
                .unwrap();
        });
        assert_eq!(woken.take(), Some(true));
    }
}
