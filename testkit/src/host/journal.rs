//! The replay engine of one agent instance: appends entries when live, hands
//! recorded entries back when replaying, and fires injected crashes.

use std::fmt;

use crate::host::bindings::golem::api::host::PersistenceLevel;
use crate::host::bindings::golem::api::oplog::{
    HostCallParameters, JumpParameters, OplogRegion, Timestamp, WrappedFunctionType,
};
use crate::host::bindings::golem::core::types::ValueAndType;
use crate::host::bindings::wasi::clocks::wall_clock::Datetime;
use crate::oplog::{Oplog, OplogEntry};
use crate::value::{Type, Value, value_and_type};

/// Virtual time of the entry with index 0; each later index is 1 ms after
/// the previous one, so timestamps do not depend on the machine or on crashes.
const EPOCH_SECONDS: u64 = 1_767_225_600; // 2026-01-01T00:00:00Z

/// Where an injected crash happens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CrashPoint {
    /// Right after the entry with this oplog index has been persisted.
    AfterEntry(u64),
    /// When the entry with this index is about to be persisted: its side
    /// effect has happened, the entry is lost (the window idempotency keys are
    /// for). Only fires on host-call entries.
    BeforePersist(u64),
}

impl fmt::Display for CrashPoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CrashPoint::AfterEntry(i) => write!(f, "after entry {i}"),
            CrashPoint::BeforePersist(i) => write!(f, "before persisting entry {i} (side effect done)"),
        }
    }
}

/// The trap a host function raises to simulate a crash of the executor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrashInjected(pub FiredCrash);

/// A crash that happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FiredCrash {
    /// Where.
    pub point: CrashPoint,
    /// Whether it hit between a remote side effect and its oplog entry (a
    /// before-persist point, or inside a `write-remote` durable function
    /// before it was persisted): a retry of that effect is then expected.
    pub in_effect_window: bool,
}

impl fmt::Display for CrashInjected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "injected crash {}", self.0.point)
    }
}

impl std::error::Error for CrashInjected {}

/// Replay asked for something other than what the oplog recorded: the agent
/// is nondeterministic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Divergence {
    /// Index of the recorded entry that did not match (the first unread index
    /// when the oplog had nothing more to offer).
    pub oplog_index: u64,
    /// What the oplog recorded there.
    pub expected: String,
    /// What the agent did instead.
    pub actual: String,
}

impl fmt::Display for Divergence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "replay diverged at oplog index {}: the oplog recorded {}, but the agent {}",
            self.oplog_index, self.expected, self.actual
        )
    }
}

impl std::error::Error for Divergence {}

/// A recorded entry could not be turned back into a host function's result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorruptEntry {
    /// The entry.
    pub oplog_index: u64,
    /// What is wrong.
    pub reason: String,
}

impl fmt::Display for CorruptEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "oplog entry {} cannot be replayed: {}", self.oplog_index, self.reason)
    }
}

impl std::error::Error for CorruptEntry {}

/// A request from the agent to restart from an earlier oplog position
/// (`set-oplog-index`); the runtime recovers the agent when it sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestartRequested;

impl fmt::Display for RestartRequested {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the agent moved its oplog position and restarts from there")
    }
}

impl std::error::Error for RestartRequested {}

/// One host call an agent made, for assertions.
#[derive(Debug, Clone, PartialEq)]
pub struct HostCall {
    /// The journaled function name, such as `wasi:keyvalue/eventual::set`.
    pub function: String,
    /// The request, as recorded.
    pub request: Value,
    /// The response, as recorded or replayed.
    pub response: Value,
    /// Whether the call was replayed from the oplog rather than executed.
    pub replayed: bool,
}

/// The kinds of entries replay checks one by one. Everything else (creation,
/// logs, errors, plugin bookkeeping, ...) is passed over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Strict {
    HostCall,
    NoOp,
    BeginAtomicRegion,
    EndAtomicRegion,
    BeginRemoteWrite,
    EndRemoteWrite,
    StartSpan,
    FinishSpan,
    SetSpanAttribute,
    InvocationStarted,
    InvocationFinished,
}

pub(crate) fn strict_kind(entry: &OplogEntry) -> Option<Strict> {
    use OplogEntry as E;
    Some(match entry {
        E::HostCall(_) => Strict::HostCall,
        E::NoOp(_) => Strict::NoOp,
        E::BeginAtomicRegion(_) => Strict::BeginAtomicRegion,
        E::EndAtomicRegion(_) => Strict::EndAtomicRegion,
        E::BeginRemoteWrite(_) => Strict::BeginRemoteWrite,
        E::EndRemoteWrite(_) => Strict::EndRemoteWrite,
        E::StartSpan(_) => Strict::StartSpan,
        E::FinishSpan(_) => Strict::FinishSpan,
        E::SetSpanAttribute(_) => Strict::SetSpanAttribute,
        E::AgentInvocationStarted(_) => Strict::InvocationStarted,
        E::AgentInvocationFinished(_) => Strict::InvocationFinished,
        _ => return None,
    })
}

/// A one-line description of an entry for messages.
pub fn describe(entry: &OplogEntry) -> String {
    use crate::host::bindings::golem::api::oplog::AgentInvocation as I;
    use OplogEntry as E;
    match entry {
        E::HostCall(p) => format!("host call `{}` ({})", p.function_name, function_type_name(&p.durable_function_type)),
        E::AgentInvocationStarted(p) => match &p.invocation {
            I::AgentInitialization(_) => "the start of agent initialization".into(),
            I::AgentMethodInvocation(m) => format!("the start of method `{}`", m.method_name),
            _ => "the start of an invocation".into(),
        },
        E::AgentInvocationFinished(_) => "the end of the invocation".into(),
        E::NoOp(_) => "an oplog-index read (no-op)".into(),
        E::BeginAtomicRegion(_) => "the start of an atomic region".into(),
        E::EndAtomicRegion(p) => format!("the end of the atomic region begun at {}", p.begin_index),
        E::BeginRemoteWrite(_) => "the start of a remote write".into(),
        E::EndRemoteWrite(p) => format!("the end of the remote write begun at {}", p.begin_index),
        E::ChangePersistenceLevel(p) => format!("a change of persistence level to {:?}", p.persistence_level),
        E::StartSpan(p) => format!("the start of span {}", p.span_id),
        E::FinishSpan(p) => format!("the end of span {}", p.span_id),
        E::SetSpanAttribute(p) => format!("setting span attribute `{}`", p.key),
        E::Jump(p) => format!("a jump over {}..={}", p.jump.start, p.jump.end),
        E::Log(p) => format!("log [{}] {}", p.context, p.message),
        E::Create(p) => format!("creation of agent `{}`", p.agent_id.agent_id),
        E::Error(p) => format!("error: {}", p.error),
        other => format!("{:?}", std::mem::discriminant(other)),
    }
}

/// `read-local`, `write-remote`, ... as in WIT.
pub fn function_type_name(t: &WrappedFunctionType) -> &'static str {
    match t {
        WrappedFunctionType::ReadLocal => "read-local",
        WrappedFunctionType::WriteLocal => "write-local",
        WrappedFunctionType::ReadRemote => "read-remote",
        WrappedFunctionType::WriteRemote => "write-remote",
        WrappedFunctionType::WriteRemoteBatched(_) => "write-remote-batched",
        WrappedFunctionType::WriteRemoteTransaction(_) => "write-remote-transaction",
    }
}

/// Whether a crash between performing and persisting a call of this type
/// leaves a side effect outside the agent.
pub fn is_remote_write(t: &WrappedFunctionType) -> bool {
    matches!(
        t,
        WrappedFunctionType::WriteRemote
            | WrappedFunctionType::WriteRemoteBatched(_)
            | WrappedFunctionType::WriteRemoteTransaction(_)
    )
}

/// The journal of one instance.
pub(crate) struct Journal {
    pub(crate) oplog: Oplog,
    /// 0-based position of the next entry to replay.
    cursor: usize,
    /// Positions from here on were written by this instance: live.
    replay_end: usize,
    /// Inclusive position ranges replay passes over (from `jump` entries).
    skipped: Vec<(usize, usize)>,
    pub(crate) persistence: PersistenceLevel,
    pub(crate) idempotent: bool,
    /// Crash points still to fire.
    pub(crate) crashes: Vec<CrashPoint>,
    /// Seed of this agent's deterministic randomness.
    pub(crate) seed: u64,
    pub(crate) calls: Vec<HostCall>,
    /// `iface::function` announced by `observe-function-call`, checked on replay.
    pub(crate) observed: Option<String>,
    /// A durable function with a remote side effect has begun and not ended.
    pub(crate) in_remote_write: bool,
    /// Atomic regions begun and not yet ended (their begin indexes).
    pub(crate) open_regions: Vec<u64>,
    /// A crash or divergence found where it could not trap (inside
    /// wasmtime-wasi-http); raised by the next journal operation.
    pub(crate) pending: Option<wasmtime::Error>,
    /// How often each journaled function has been called by this instance,
    /// replayed or live. Values the guest sees (time, randomness, keys)
    /// derive from the function and its call count, not from oplog indexes:
    /// a recovered run that writes extra entries (a jump over a retried
    /// region, a fallback call after a retried write) still draws for its
    /// N-th idempotency key what the crash-free run drew for its N-th.
    draws: std::collections::BTreeMap<String, u64>,
    /// Seed material of the call being made (function and its count).
    current: u64,
}

impl Journal {
    /// A journal for a new instance over `oplog`: everything already recorded is replayed.
    pub(crate) fn new(oplog: Oplog, seed: u64, crashes: Vec<CrashPoint>) -> Self {
        let len = oplog.entries().len();
        let mut journal = Journal {
            oplog,
            cursor: 0,
            replay_end: len,
            skipped: Vec::new(),
            persistence: PersistenceLevel::Smart,
            idempotent: true,
            crashes,
            seed,
            calls: Vec::new(),
            observed: None,
            in_remote_write: false,
            open_regions: Vec::new(),
            pending: None,
            draws: Default::default(),
            current: 0,
        };
        journal.collect_jumps();
        journal
    }

    fn collect_jumps(&mut self) {
        self.skipped = self
            .oplog
            .entries()
            .iter()
            .enumerate()
            .filter_map(|(pos, e)| match e {
                // Skip the region after `start` up to and including the jump entry itself.
                OplogEntry::Jump(p) => usize::try_from(p.jump.start).ok().map(|start| (start, pos)),
                // Skip the dropped region (1-based, inclusive) and the revert entry.
                OplogEntry::Revert(p) => {
                    usize::try_from(p.dropped_region.start).ok().map(|start| (start.saturating_sub(1), pos))
                }
                _ => None,
            })
            .collect();
    }

    /// Oplog index of the last entry.
    pub(crate) fn last_index(&self) -> u64 {
        self.oplog.last_index()
    }

    /// Virtual time for an entry at `index`.
    pub(crate) fn time_at(index: u64) -> Datetime {
        Datetime { seconds: EPOCH_SECONDS + index / 1000, nanoseconds: ((index % 1000) * 1_000_000) as u32 }
    }

    /// Virtual time of the next entry.
    pub(crate) fn now(&self) -> Datetime {
        Self::time_at(self.last_index() + 1)
    }

    /// Count a call of `function` (live or replayed) and make it the source
    /// of [`Journal::random_u64`]. Returns the count.
    pub(crate) fn draw(&mut self, function: &str) -> u64 {
        let n = self.draws.entry(function.to_string()).or_insert(0);
        *n += 1;
        self.current = seed_from(&[function.as_bytes(), &n.to_le_bytes()]);
        *n
    }

    /// How often `function` has been called so far (including the current call).
    pub(crate) fn draw_count(&self, function: &str) -> u64 {
        self.draws.get(function).copied().unwrap_or(0)
    }

    /// Virtual time as the guest sees it in the current call: the N-th read of
    /// a clock is N milliseconds after the virtual epoch.
    pub(crate) fn guest_time(&self, n: u64) -> Datetime {
        Self::time_at(n)
    }

    pub(crate) fn timestamp(&self) -> Timestamp {
        Timestamp { timestamp: self.now() }
    }

    /// Move the cursor over passive and skipped entries; the position of the
    /// next entry replay must match, if any remain.
    pub(crate) fn peek(&mut self) -> Option<usize> {
        while self.cursor < self.replay_end {
            if let Some(&(_, to)) = self.skipped.iter().find(|(from, to)| self.cursor >= *from && self.cursor <= *to) {
                self.cursor = to + 1;
                continue;
            }
            if strict_kind(&self.oplog.entries()[self.cursor]).is_some() {
                return Some(self.cursor);
            }
            self.cursor += 1;
        }
        None
    }

    /// The oplog index the live run had reached at this point: during replay,
    /// the entries before the next one to match (passive entries included);
    /// live, the whole oplog. Reads "as of now" use it so replay sees what
    /// the live run saw.
    pub(crate) fn position(&mut self) -> u64 {
        match self.peek() {
            Some(pos) => pos as u64,
            None => self.last_index(),
        }
    }

    /// During replay, pass over a recorded passive entry the agent is
    /// producing again (a log line, say) if one matching `recorded` comes
    /// next; returns whether it did.
    pub(crate) fn replay_passive(&mut self, recorded: impl Fn(&OplogEntry) -> bool) -> bool {
        let mut pos = self.cursor;
        while pos < self.replay_end {
            let entry = &self.oplog.entries()[pos];
            if recorded(entry) {
                self.cursor = pos + 1;
                return true;
            }
            if strict_kind(entry).is_some() {
                return false;
            }
            pos += 1;
        }
        false
    }

    /// Whether this instance is executing live (nothing left to replay).
    pub(crate) fn is_live(&mut self) -> bool {
        self.peek().is_none()
    }

    /// Take the next recorded entry, which must be of kind `kind`; `actual`
    /// describes what the agent is doing, for the divergence message.
    pub(crate) fn replay(
        &mut self,
        kind: Strict,
        actual: impl FnOnce() -> String,
    ) -> wasmtime::Result<(u64, &OplogEntry)> {
        self.raise_pending()?;
        self.replay_checked(kind, actual).map_err(wasmtime::Error::new)
    }

    /// Fail with the crash or divergence recorded in `pending`, if any.
    pub(crate) fn raise_pending(&mut self) -> wasmtime::Result<()> {
        match self.pending.take() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// [`Journal::replay`] without the pending check, for the runtime.
    pub(crate) fn replay_checked(
        &mut self,
        kind: Strict,
        actual: impl FnOnce() -> String,
    ) -> Result<(u64, &OplogEntry), Divergence> {
        match self.peek() {
            Some(pos) => {
                let entry = &self.oplog.entries()[pos];
                if strict_kind(entry) != Some(kind) {
                    return Err(Divergence {
                        oplog_index: pos as u64 + 1,
                        expected: describe(entry),
                        actual: actual(),
                    });
                }
                self.cursor = pos + 1;
                Ok((pos as u64 + 1, &self.oplog.entries()[pos]))
            }
            None => Err(Divergence {
                oplog_index: self.replay_end as u64 + 1,
                expected: "nothing more".into(),
                actual: actual(),
            }),
        }
    }

    /// Persist an entry; fires a crash scheduled at its index.
    pub(crate) fn append(&mut self, entry: OplogEntry) -> wasmtime::Result<u64> {
        self.raise_pending()?;
        let index = self.last_index() + 1;
        if let OplogEntry::HostCall(_) = entry
            && let Some(i) = self.crashes.iter().position(|c| *c == CrashPoint::BeforePersist(index))
        {
            self.crashes.remove(i);
            let point = CrashPoint::BeforePersist(index);
            return Err(wasmtime::Error::new(CrashInjected(FiredCrash { point, in_effect_window: true })));
        }
        self.oplog.append(entry).map_err(wasmtime::Error::new)?;
        // Entries this instance writes are never replayed by it.
        self.replay_end = self.oplog.entries().len();
        self.cursor = self.replay_end;
        if let Some(i) = self.crashes.iter().position(|c| *c == CrashPoint::AfterEntry(index)) {
            self.crashes.remove(i);
            let point = CrashPoint::AfterEntry(index);
            // Inside an unfinished atomic region, recovery re-runs the region.
            let in_effect_window = self.in_remote_write || !self.open_regions.is_empty();
            return Err(wasmtime::Error::new(CrashInjected(FiredCrash { point, in_effect_window })));
        }
        Ok(index)
    }

    /// Run a journaled host function: live, `run` performs it and its request
    /// and response are recorded; replaying, the recorded response is returned
    /// and `run` is not called. With persistence off, `run` always runs.
    pub(crate) fn call<T>(
        &mut self,
        function: &str,
        function_type: WrappedFunctionType,
        request: (Value, Type),
        run: impl FnOnce(&mut Self) -> T,
        encode: impl FnOnce(&T) -> (Value, Type),
        decode: impl FnOnce(&Value) -> Option<T>,
    ) -> wasmtime::Result<T> {
        self.raise_pending()?;
        self.draw(function);
        if matches!(self.persistence, PersistenceLevel::PersistNothing) {
            return Ok(run(self));
        }
        if !self.is_live() {
            let (index, entry) = self.replay(Strict::HostCall, || format!("called `{function}`"))?;
            let OplogEntry::HostCall(p) = entry else { unreachable!("replay checked the kind") };
            if p.function_name != function {
                return Err(wasmtime::Error::new(Divergence {
                    oplog_index: index,
                    expected: describe(entry),
                    actual: format!("called `{function}`"),
                }));
            }
            let response = Value::from_wit(&p.response.value)
                .map_err(|e| CorruptEntry { oplog_index: index, reason: e.to_string() })?;
            let result = decode(&response).ok_or_else(|| CorruptEntry {
                oplog_index: index,
                reason: format!("its response does not fit `{function}`"),
            })?;
            self.calls.push(HostCall { function: function.into(), request: request.0, response, replayed: true });
            return Ok(result);
        }
        let result = run(self);
        let (response, response_type) = encode(&result);
        let entry = OplogEntry::HostCall(HostCallParameters {
            timestamp: self.now(),
            function_name: function.into(),
            request: value_and_type(&request.0, &request.1),
            response: value_and_type(&response, &response_type),
            durable_function_type: function_type,
        });
        self.calls.push(HostCall { function: function.into(), request: request.0, response, replayed: false });
        self.append(entry)?;
        Ok(result)
    }

    /// [`Journal::call`] for a function returning `result<T, string>`: the
    /// error text is journaled too, and `T` is encoded as `ok_type` (or has no
    /// payload when `ok_type` is `None`).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn call_fallible<T>(
        &mut self,
        function: &str,
        function_type: WrappedFunctionType,
        request: (Value, Type),
        run: impl FnOnce(&mut Self) -> Result<T, String>,
        encode: impl Fn(&T) -> Value,
        ok_type: Option<Type>,
        decode: impl Fn(Option<&Value>) -> Option<T>,
    ) -> wasmtime::Result<Result<T, String>> {
        let result_type = Type::result(ok_type.clone(), Some(Type::String));
        let has_payload = ok_type.is_some();
        self.call(
            function,
            function_type,
            request,
            run,
            |r| {
                let v = match r {
                    Ok(t) if has_payload => Value::result(Ok(encode(t))),
                    Ok(_) => Value::Result(Ok(None)),
                    Err(e) => Value::result(Err(Value::string(e.clone()))),
                };
                (v, result_type.clone())
            },
            |v| match v {
                Value::Result(Ok(payload)) => decode(payload.as_deref()).map(Ok),
                Value::Result(Err(Some(e))) => e.as_str().map(|s| Err(s.to_string())),
                _ => None,
            },
        )
    }

    /// Record a guest-supplied durable function invocation (live only).
    pub(crate) fn persist_guest_call(
        &mut self,
        function: String,
        request: ValueAndType,
        response: ValueAndType,
        function_type: WrappedFunctionType,
    ) -> wasmtime::Result<()> {
        let decode = |vt: &ValueAndType| Value::from_wit(&vt.value).unwrap_or(Value::Tuple(vec![]));
        self.calls.push(HostCall {
            function: function.clone(),
            request: decode(&request),
            response: decode(&response),
            replayed: false,
        });
        let entry = OplogEntry::HostCall(HostCallParameters {
            timestamp: self.now(),
            function_name: function,
            request,
            response,
            durable_function_type: function_type,
        });
        self.append(entry).map(|_| ())
    }

    /// Deterministic pseudo-random 64-bit word for the current call.
    pub(crate) fn random_u64(&self, salt: u64) -> u64 {
        splitmix64(self.seed ^ self.current ^ salt.wrapping_mul(0x9e37_79b9_7f4a_7c15))
    }

    /// Deterministic pseudo-random bytes for the current call.
    pub(crate) fn random_bytes(&self, len: usize) -> Vec<u8> {
        let mut out = Vec::with_capacity(len);
        let mut salt = 0;
        while out.len() < len {
            out.extend_from_slice(&self.random_u64(salt).to_le_bytes());
            salt += 1;
        }
        out.truncate(len);
        out
    }

    /// Skip an unfinished atomic region at the end of the oplog, so that
    /// recovery re-executes it from its start. Returns whether one was found.
    pub(crate) fn close_interrupted_region(&mut self) -> wasmtime::Result<bool> {
        let entries = self.oplog.entries();
        let mut open: Vec<u64> = Vec::new();
        for (pos, e) in entries.iter().enumerate() {
            let index = pos as u64 + 1;
            if self.skipped.iter().any(|(from, to)| pos >= *from && pos <= *to) {
                continue;
            }
            match e {
                OplogEntry::BeginAtomicRegion(_) => open.push(index),
                OplogEntry::EndAtomicRegion(p) => open.retain(|b| *b != p.begin_index),
                _ => {}
            }
        }
        let Some(&begin) = open.first() else { return Ok(false) };
        let end = self.last_index();
        if end <= begin {
            return Ok(false); // nothing recorded inside the region yet
        }
        self.append_unreplayed(OplogEntry::Jump(JumpParameters {
            timestamp: self.now(),
            jump: OplogRegion { start: begin, end },
        }))?;
        Ok(true)
    }

    /// Append an entry written by the executor itself before replay begins
    /// (it is passed over by this instance's replay like any passive entry).
    pub(crate) fn append_unreplayed(&mut self, entry: OplogEntry) -> wasmtime::Result<u64> {
        let replay_end = self.replay_end;
        let cursor = self.cursor;
        let index = self.append(entry)?;
        self.replay_end = replay_end;
        self.cursor = cursor;
        self.collect_jumps();
        Ok(index)
    }
}

fn splitmix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// Hash arbitrary bytes into a seed (FNV-1a, then mixed).
pub(crate) fn seed_from(parts: &[&[u8]]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for b in *part {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x100_0000_01b3);
        }
        h = splitmix64(h);
    }
    h
}
