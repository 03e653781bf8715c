//! Scenarios written with the typed calls `#[reprise::agent]` generates
//! (`reprise::testing`): the same constructor and calls a test makes through
//! a typed handle, and the results it must return, in the agent's own types.

use reprise::testing::{Call, Constructor, TypedAgent};
use reprise::value::{FromValue, IntoValue};

use super::Scenario;
use super::script::Expectation;
use crate::environment::AgentType;
use crate::sdk_data::values_from_sdk;
use crate::value::Value;
use crate::{schema_parameters, wave};

impl Scenario {
    /// A scenario creating the agent of a typed constructor.
    ///
    /// ```ignore
    /// let scenario = Scenario::of(TaskListCall::new("bob".to_string()))
    ///     .then(TaskListCall::add("milk".to_string()))
    ///     .expect(TaskListCall::add(" ".to_string()), Err("a task needs a title".to_string()));
    /// ```
    pub fn of<T: TypedAgent>(constructor: Constructor<T>) -> Self {
        let mut scenario = Scenario::new(T::TYPE_NAME, Vec::new());
        scenario.args = scenario.host_values(constructor.args(), || format!("the constructor of `{}`", T::TYPE_NAME));
        scenario
    }

    /// Send the calls that follow to the agent of this typed constructor (as
    /// [`Scenario::with_agent`] does).
    pub fn with<T: TypedAgent>(mut self, constructor: Constructor<T>) -> Self {
        let args = self.host_values(constructor.args(), || format!("the constructor of `{}`", T::TYPE_NAME));
        self.with_agent(T::TYPE_NAME, args)
    }

    /// Add a typed call (of the agent calls go to now: a call of another
    /// agent type's method makes the scenario invalid, reported by `verify`).
    pub fn then<R>(mut self, call: Call<R>) -> Self {
        let current = self.agent_type_of(self.current).to_string();
        if call.agent_type() != current {
            self.invalid.get_or_insert_with(|| {
                format!(
                    "`{}.{}` is called while the calls go to a `{current}` agent; send them to one first with `Scenario::with`",
                    call.agent_type(),
                    call.method()
                )
            });
        }
        let args = self.host_values(call.args(), || format!("method `{}`", call.method()));
        self.call(call.method(), args)
    }

    /// Add a typed call and the result it must return in the crash-free run;
    /// a different result is reported in [`VerificationReport::unmet`](super::VerificationReport::unmet).
    pub fn expect<R: IntoValue + FromValue>(self, call: Call<R>, result: R) -> Self {
        let mut scenario = self.then(call.clone());
        let expected = call.expected_output(&result);
        let values = scenario.host_values(expected.iter().collect(), || format!("the result of `{}`", call.method()));
        if let Some(slot) = scenario.expected.last_mut() {
            *slot = Some(Expectation {
                line: 0,
                call: call.method().to_string(),
                expected: String::new(),
                results: None,
                values: Some(values),
            });
        }
        scenario
    }

    /// SDK values as host values; a value that does not convert (a
    /// hand-written `IntoValue` making malformed nodes) makes the scenario
    /// invalid, which `verify` reports before running anything.
    fn host_values(
        &mut self,
        values: Vec<&reprise::bindings::golem::core::types::WitValue>,
        what: impl Fn() -> String,
    ) -> Vec<Value> {
        values_from_sdk(values).unwrap_or_else(|e| {
            self.invalid.get_or_insert_with(|| format!("{}: {e}", what()));
            Vec::new()
        })
    }
}

/// Fill in what a typed expectation shows in a report (the call in WAVE, the
/// result types) from the component's definition of the scenario's agent.
pub(super) fn describe_expectations(scenario: &Scenario, types: &[AgentType]) -> Vec<Option<Expectation>> {
    scenario
        .expected
        .iter()
        .zip(&scenario.calls)
        .enumerate()
        .map(|(i, (expectation, (method, args)))| {
            let mut e = expectation.clone()?;
            let Some(values) = &e.values else { return Some(e) };
            let target = scenario.targets.get(i).copied().unwrap_or(0);
            let agent_type = scenario.agent_type_of(target);
            let definition = types.iter().find(|t| t.type_name == agent_type);
            let found = definition.and_then(|d| d.methods.iter().find(|m| &m.name == method));
            let params = found.and_then(|m| schema_parameters(&m.input_schema).ok());
            e.results = found
                .and_then(|m| schema_parameters(&m.output_schema).ok())
                .map(|r| r.into_iter().map(|(_, t)| t).collect());
            let rendered: Vec<String> = match params {
                Some(params) if params.len() == args.len() => args
                    .iter()
                    .zip(&params)
                    .map(|(v, (_, t))| wave::render(v, t).unwrap_or_else(|_| format!("{v:?}")))
                    .collect(),
                _ => args.iter().map(|v| format!("{v:?}")).collect(),
            };
            e.call = format!("{method}({})", rendered.join(", "));
            e.expected = super::script::render_results(values, e.results.as_deref());
            Some(e)
        })
        .collect()
}
