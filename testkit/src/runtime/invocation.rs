//! Running one invocation: its started entry, the guest call, its finished
//! entry, and completing it by recovery when a crash interrupts it.

use std::sync::Arc;

use wasmtime::Store;

use super::call::{Answer, Call, ProcessBatch};
use super::entries::{finished_entry, recorded_context, schemas, started_entry};
use super::interrupts::{Stop, apply_limits};
use super::{Agent, Live};
use crate::bindings::IncomingContext;
use crate::bindings::exports::golem::api::oplog_processor::{AccountInfo, Guest as Processor};
use crate::bindings::golem::agent::common::{AgentError, Principal};
use crate::bindings::golem::api::host::AgentStatus;
use crate::bindings::golem::core::types::{AccountId, DataSchema, DataValue, ValueAndType};
use crate::data::{data_value, describe_agent_error, values_of};
use crate::error::Error;
use crate::host::HostState;
use crate::host::invocation_context::{self, InvocationSpan};
use crate::ids::{AGENT_INTERFACE, PROCESSOR_INTERFACE, split_agent_id, uuid_from_u128, uuid_to_string, uuid_v4};
use crate::journal::{CrashPoint, Interrupt};
use crate::oplog::OplogEntry;
use crate::value::{Type, Value};

/// How a guest call ended.
pub(super) enum Outcome {
    Done(Answer),
    /// A crash (or restart request) discarded the instance.
    Crashed,
    /// The guest awaits what only the outside world brings: Golem suspends it.
    Suspended(crate::journal::Wait),
}

impl Agent {
    /// Invoke a method with component-model arguments; returns its outputs.
    pub fn invoke(&mut self, method: &str, args: &[Value]) -> Result<Vec<Value>, Error> {
        let out = self.run(Call::method(method, data_value(args)))?;
        values_of(&out)
    }

    /// Invoke a method with a raw `data-value` input.
    pub fn invoke_data(&mut self, method: &str, input: DataValue) -> Result<DataValue, Error> {
        self.run(Call::method(method, input))
    }

    /// Call an exported function of a plain component: `name` for a function
    /// exported by the world itself, `package:name/interface@version#name` for
    /// one in an exported interface.
    pub fn call(&mut self, function: &str, args: &[Value]) -> Result<Vec<Value>, Error> {
        if !self.plain {
            return Err(Error::MissingExport(format!("`{function}`: agents are called with `invoke`")));
        }
        let out = self.run(Call::Export { function: function.into(), input: data_value(args) })?;
        values_of(&out)
    }

    /// Invoke a method on behalf of a caller that passes an idempotency key
    /// and its invocation context (an RPC call): a key seen before gets the
    /// answer it got then, and the method does not run again.
    pub(crate) fn invoke_keyed(
        &mut self,
        method: &str,
        input: DataValue,
        key: String,
        incoming: IncomingContext,
    ) -> Result<Answer, Error> {
        if let Some(answer) = self.answered.get(&key) {
            return Ok(answer.clone());
        }
        let call = Call::Method { name: method.into(), input, key: key.clone(), incoming: Some(Arc::new(incoming)) };
        let answer = self.run_answer(call)?;
        self.answered.insert(key, answer.clone());
        Ok(answer)
    }

    /// As a plugin worker, run the `process` invocation enqueued under
    /// `key`: the plugin's own refusal is the inner error.
    pub(crate) fn process_batch(&mut self, key: String) -> Result<Result<(), String>, Error> {
        let batch = self.habitat.batch(&key).map_err(Error::Plugin)?;
        let call = Call::Process { key, batch };
        Ok(self.run_answer(call)?.map(|_| ()).map_err(|e| describe_agent_error(&e)))
    }

    /// Run `call`; the agent's own errors are `Error::Agent`.
    /// Calls other agents enqueued on this one meanwhile run after it.
    fn run(&mut self, call: Call) -> Result<DataValue, Error> {
        let scheduler = self.habitat.world().scheduler.clone();
        let task = format!("agent `{}`", self.id());
        let answer = scheduler.session(&task, || {
            let answer = self.run_answer(call);
            self.run_queue();
            answer
        });
        answer?.map_err(|e| Error::Agent(describe_agent_error(&e)))
    }

    /// Run `call` and return what the agent answered, its own errors included.
    pub(super) fn run_answer(&mut self, call: Call) -> Result<Answer, Error> {
        if let Some(reason) = &self.failed {
            return Err(Error::AgentFailed(reason.clone()));
        }
        // A suspended invocation comes first; while it waits, so do later calls.
        self.resume_if_due()?;
        self.apply_requests()?;
        self.running(|agent| agent.run_call(call))
    }

    /// Run an invocation with the agent's status `Running`, then `Idle` (or
    /// `Failed`).
    /// Called from a test (no task of the environment's scheduler runs on
    /// the thread), it opens a session: it returns once the calls it
    /// enqueued on other agents have run too.
    pub(super) fn running(&mut self, run: impl FnOnce(&mut Self) -> Result<Answer, Error>) -> Result<Answer, Error> {
        let scheduler = self.habitat.world().scheduler.clone();
        let task = format!("agent `{}`", self.id());
        scheduler.session(&task, || {
            self.set_status(AgentStatus::Running);
            let result = run(self);
            self.set_status(match (&self.failed, &self.suspended) {
                (Some(_), _) => AgentStatus::Failed,
                (None, Some(_)) => AgentStatus::Suspended,
                (None, None) => AgentStatus::Idle,
            });
            result
        })
    }

    fn run_call(&mut self, call: Call) -> Result<Answer, Error> {
        self.retries = 0;
        self.ensure_live()?;
        let (input_schema, output_schema) = schemas(self.definition(), &call);
        let entry = self.started_entry(&call, input_schema);
        let journal = self.journal_mut();
        let index = journal.last_index() + 1;
        let started = match journal.append(entry) {
            Ok(index) => index,
            Err(e) => {
                return match self.stopped(e) {
                    // The started entry was persisted (the crash came with
                    // it, or in the flush its commit set off), so recovery
                    // runs the invocation.
                    Stop::Lost if self.oplog().last_index() >= index => self.recover_invocation(index),
                    Stop::Lost => self.recover_invocation(self.oplog().last_index()),
                    Stop::Failed(error) => Err(error),
                };
            }
        };
        self.begin_spans(started, &call);
        match self.invoke_guest(&call)? {
            Outcome::Done(result) => self.finish(started, result, &call, output_schema),
            Outcome::Crashed => self.recover_invocation(started),
            Outcome::Suspended(wait) => Err(self.suspend(started, wait)?),
        }
    }

    fn finish(&mut self, started: u64, result: Answer, call: &Call, schema: DataSchema) -> Result<Answer, Error> {
        let journal = self.journal_mut();
        let finished_index = journal.last_index() + 1;
        let entry = finished_entry(&result, call, schema, journal.now());
        let Err(e) = journal.append(entry) else { return Ok(result) };
        let fired = self.crashes_fired.len();
        match self.stopped(e) {
            Stop::Lost => {
                // A crash right after the end was persisted loses nothing; a
                // crash raised earlier (pending) means the invocation must
                // complete by recovery.
                let at_end = self.crashes_fired.len() > fired
                    && self.crashes_fired.last().map(|f| f.point) == Some(CrashPoint::AfterEntry(finished_index));
                if at_end { Ok(result) } else { self.recover_invocation(started) }
            }
            Stop::Failed(error) => {
                self.fail(&error);
                Err(error)
            }
        }
    }

    /// The started entry of `call`, to be appended next: the invocation's
    /// idempotency key and context as Golem writes them.
    pub(super) fn started_entry(&self, call: &Call, schema: DataSchema) -> OplogEntry {
        let journal = self.journal();
        let (index, timestamp) = (journal.last_index() + 1, journal.now());
        let key = self.idempotency_key(call, index);
        let context =
            invocation_context::build(self.seed, index, timestamp, &self.invocation_span(call, &key), call.incoming());
        started_entry(call, &key, context, schema, timestamp)
    }

    /// Golem's key: the caller's; `init-{component}/{agent}` for a
    /// constructor; a fresh UUID for a call that brings none (Golem's API
    /// makes one), here drawn from the seed and the entry's index.
    fn idempotency_key(&self, call: &Call, index: u64) -> String {
        let seeded = |tag: &[u8]| invocation_context::derived(self.seed, index, tag);
        match call {
            Call::Initialize { .. } => {
                format!("init-{}/{}", uuid_to_string(&uuid_from_u128(self.component.inner.id)), self.id())
            }
            Call::Method { key, .. } | Call::Process { key, .. } if !key.is_empty() => key.clone(),
            _ => uuid_to_string(&uuid_v4(seeded(b"key-high"), seeded(b"key-low"))),
        }
    }

    /// What the invocation's own span says about it.
    fn invocation_span(&self, call: &Call, key: &str) -> InvocationSpan {
        let (function_name, kind) = call.span_function();
        let id = self.id();
        InvocationSpan {
            kind,
            function_name: function_name.to_string(),
            idempotency_key: key.to_string(),
            agent_id: format!("{}/{id}", uuid_to_string(&uuid_from_u128(self.component.inner.id))),
            agent_type: split_agent_id(id).ok().map(|(name, params, _)| (name.to_string(), params.to_string())),
        }
    }

    /// Take up the invocation context of the started entry at `started`
    /// (just written, or replayed). Kinds that record none (a plugin's
    /// batch) run in a fresh one, as on Golem.
    pub(super) fn begin_spans(&mut self, started: u64, call: &Call) {
        let fresh = match self.oplog().get(started).and_then(recorded_context) {
            Some(_) => None,
            None => {
                let key = self.idempotency_key(call, started);
                let own = self.invocation_span(call, &key);
                Some(invocation_context::build(
                    self.seed,
                    started,
                    crate::journal::Journal::time_at(started),
                    &own,
                    None,
                ))
            }
        };
        let Some(live) = self.live_mut() else { return };
        let state = live.store.data_mut();
        // Borrowed from the entry: replay begins one per invocation.
        let recorded = state.journal.oplog.get(started).and_then(recorded_context);
        let (trace_id, trace_states, chains) = match (&fresh, recorded) {
            (Some(c), _) => (c.trace_id.as_str(), c.trace_states.as_slice(), c.chains.as_slice()),
            (None, Some(parts)) => parts,
            (None, None) => return,
        };
        state.spans.begin_invocation(trace_id, trace_states, chains);
    }

    /// Call the guest for `call` on the live instance.
    pub(super) fn invoke_guest(&mut self, call: &Call) -> Result<Outcome, Error> {
        let Some(live) = self.live_mut() else {
            return Err(Error::Guest("no instance runs the agent (the testkit lost it)".into()));
        };
        apply_limits(&mut live.store);
        let principal = Principal::Anonymous;
        let result = match (call, &live.guest) {
            (Call::Initialize { agent_type, input, .. }, Some(guest)) => guest
                .call_initialize(&mut live.store, agent_type, input, &principal)
                .map(|r| r.map(|()| DataValue::Tuple(vec![]))),
            (Call::Method { name, input, .. }, Some(guest)) => {
                guest.call_invoke(&mut live.store, name, input, &principal)
            }
            (Call::Export { function, input }, _) => call_export(live, function, input),
            (Call::Process { batch, .. }, _) => match &live.processor {
                Some(processor) => call_process(processor, &mut live.store, batch),
                None => return Err(Error::MissingExport(format!("`{PROCESSOR_INTERFACE}`"))),
            },
            (_, None) => return Err(Error::MissingExport(format!("`{AGENT_INTERFACE}`"))),
        };
        match result {
            Ok(answer) => Ok(Outcome::Done(answer)),
            Err(e) => {
                if let Some(Interrupt::Suspend(wait)) = Interrupt::of(&e) {
                    return Ok(Outcome::Suspended(wait.clone()));
                }
                match self.stopped(e) {
                    Stop::Lost => Ok(Outcome::Crashed),
                    Stop::Failed(error) => {
                        // Trying a new revision: a failure there fails the update, not the agent.
                        if self.updating {
                            self.discard_instance();
                        } else {
                            self.fail(&error);
                        }
                        Err(error)
                    }
                }
            }
        }
    }
}

/// Call an exported function dynamically. Argument mismatches are the
/// caller's error (`invalid-input`), not a trap.
fn call_export(live: &mut Live, function: &str, input: &DataValue) -> wasmtime::Result<Answer> {
    let args = match values_of(input) {
        Ok(args) => args,
        Err(e) => return Ok(Err(AgentError::InvalidInput(e.to_string()))),
    };
    let component = live.instance.instance_pre(&live.store).component().clone();
    let index = match function.split_once('#') {
        Some((iface, name)) => {
            component.get_export_index(None, iface).and_then(|i| component.get_export_index(Some(&i), name))
        }
        None => component.get_export_index(None, function),
    };
    let Some(func) = index.and_then(|i| live.instance.get_func(&mut live.store, i)) else {
        return Ok(Err(AgentError::InvalidMethod(format!("the component exports no function `{function}`"))));
    };
    let ty = func.ty(&live.store);
    let param_types: Vec<_> = ty.params().map(|(name, t)| (name.to_string(), t)).collect();
    if param_types.len() != args.len() {
        return Ok(Err(AgentError::InvalidInput(format!(
            "`{function}` takes {} argument(s), got {}",
            param_types.len(),
            args.len()
        ))));
    }
    let mut params = Vec::with_capacity(args.len());
    for ((name, t), v) in param_types.iter().zip(&args) {
        match crate::dynamic::to_val(v, t, name) {
            Ok(val) => params.push(val),
            Err(e) => return Ok(Err(AgentError::InvalidInput(e))),
        }
    }
    let result_types: Vec<_> = ty.results().collect();
    let mut results = vec![wasmtime::component::Val::Bool(false); result_types.len()];
    func.call(&mut live.store, &params, &mut results)?;
    let values = results
        .iter()
        .zip(&result_types)
        .map(|(v, t)| crate::dynamic::from_val(v, t))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| wasmtime::format_err!("`{function}` returned {e}"))?;
    Ok(Ok(data_value(&values)))
}

/// Run a batch through a plugin's `process`; its refusal is the answer's error.
fn call_process(processor: &Processor, store: &mut Store<HostState>, batch: &ProcessBatch) -> wasmtime::Result<Answer> {
    let account = AccountInfo { account_id: AccountId { uuid: uuid_from_u128(0) } };
    let outcome = processor.call_process(
        store,
        account,
        &batch.config,
        batch.agent_id.component_id,
        &batch.agent_id,
        &batch.metadata,
        batch.first_index,
        &batch.entries,
    )?;
    Ok(outcome.map(|()| DataValue::Tuple(Vec::new())).map_err(|message| {
        AgentError::CustomError(ValueAndType { value: Value::String(message).to_wit(), typ: Type::String.to_wit() })
    }))
}
