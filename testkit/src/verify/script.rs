//! Calls written as text, `Counter("visits")` and `increment(2)`, and
//! crash-test scripts made of them. A name picks the agent type or method
//! from the component's discovered definitions; arguments are WAVE, read
//! against the declared parameter types. `reprise run`, `reprise crash-test`
//! and [`Scenario::from_script`](super::Scenario::from_script) read calls
//! through here.

use std::fmt;

use super::{CallError, CallResult, Scenario};
use crate::environment::AgentType;
use crate::error::Error;
use crate::http_stubs::HttpStub;
use crate::ids::kebab_case;
use crate::runtime::LoadedComponent;
use crate::value::{Type, Value};
use crate::{schema_parameters, wave};

/// Text that is not a call the component can take: what is wrong, and what
/// to write instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextError {
    /// What is wrong.
    pub message: String,
    /// What would be right, when there is something to say.
    pub hint: Option<String>,
}

impl TextError {
    fn new(message: impl Into<String>) -> Self {
        TextError { message: message.into(), hint: None }
    }

    fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

impl fmt::Display for TextError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.hint {
            Some(hint) => write!(f, "{} (hint: {hint})", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for TextError {}

/// A call checked against the component: the exact name and typed arguments.
#[derive(Debug, Clone, PartialEq)]
pub struct TypedCall {
    /// The name as the component defines it.
    pub name: String,
    /// The arguments.
    pub args: Vec<Value>,
    /// The result types (for rendering), when they are component-model values.
    pub results: Option<Vec<Type>>,
    /// The script line it is on (0 when it is not from a script).
    pub line: usize,
}

/// Split `name(args)` into the name and the text between the parentheses.
pub fn split(text: &str) -> Result<(&str, &str), TextError> {
    let text = text.trim();
    let bad = || {
        TextError::new(format!("`{text}` is not a call"))
            .hint("write calls as name(arguments), such as increment(2) or Counter(\"visits\")")
    };
    let open = text.find('(').ok_or_else(bad)?;
    if !text.ends_with(')') {
        return Err(bad());
    }
    let name = text[..open].trim();
    if name.is_empty() || !name.chars().all(|c| c.is_alphanumeric() || c == '-' || c == '_') {
        return Err(bad());
    }
    Ok((name, &text[open + 1..text.len() - 1]))
}

/// The agent type a `Type(args)` text names, with its constructor arguments.
pub fn agent<'t>(types: &'t [AgentType], text: &str) -> Result<(&'t AgentType, Vec<Value>), TextError> {
    let (name, args) = split(text)?;
    if types.is_empty() {
        return Err(TextError::new("the component defines no agent types")
            .hint("`reprise run` and `reprise crash-test` need an agent component; see `reprise inspect`"));
    }
    let definition = types.iter().find(|t| t.type_name == name || kebab_case(&t.type_name) == kebab_case(name));
    let Some(definition) = definition else {
        let known: Vec<&str> = types.iter().map(|t| t.type_name.as_str()).collect();
        return Err(TextError::new(format!("the component has no agent type `{name}`"))
            .hint(format!("it defines: {}", known.join(", "))));
    };
    let params = schema_parameters(&definition.constructor.input_schema)
        .map_err(|e| TextError::new(format!("agent type `{}`: {e}", definition.type_name)))?;
    let args = arguments(&definition.type_name, &params, args)?;
    Ok((definition, args))
}

/// The method a `method(args)` text names on `definition`, with its arguments.
pub fn method(definition: &AgentType, text: &str) -> Result<TypedCall, TextError> {
    let (name, args) = split(text)?;
    let found = definition
        .methods
        .iter()
        .find(|m| m.name == name)
        .or_else(|| definition.methods.iter().find(|m| kebab_case(&m.name) == kebab_case(name)));
    let Some(method) = found else {
        let known: Vec<&str> = definition.methods.iter().map(|m| m.name.as_str()).collect();
        return Err(TextError::new(format!("agent type `{}` has no method `{name}`", definition.type_name))
            .hint(format!("its methods: {}", known.join(", "))));
    };
    let params = schema_parameters(&method.input_schema)
        .map_err(|e| TextError::new(format!("method `{}`: {e}", method.name)))?;
    let args = arguments(&method.name, &params, args)?;
    let results = schema_parameters(&method.output_schema).ok().map(|r| r.into_iter().map(|(_, t)| t).collect());
    Ok(TypedCall { name: method.name.clone(), args, results, line: 0 })
}

/// Read `text` (what stood between the parentheses) as the parameters of `what`.
fn arguments(what: &str, params: &[(String, Type)], text: &str) -> Result<Vec<Value>, TextError> {
    let signature = || {
        let params: Vec<String> = params.iter().map(|(n, t)| format!("{n}: {t}")).collect();
        format!("{what}({})", params.join(", "))
    };
    if params.is_empty() {
        return if text.trim().is_empty() {
            Ok(Vec::new())
        } else {
            Err(TextError::new(format!("`{what}` takes no arguments, got `{text}`")).hint(signature()))
        };
    }
    // The argument list read as one WAVE tuple: WAVE handles the nesting,
    // quoting and escapes of each argument.
    let tuple = Type::Tuple(params.iter().map(|(_, t)| t.clone()).collect());
    let parsed = wave::parse(&format!("({text})"), &tuple).map_err(|e| {
        TextError::new(format!("bad arguments for `{what}`: {e}"))
            .hint(format!("expected {} in WAVE, such as \"text\", 42, [1, 2], {{name: \"x\"}}", signature()))
    })?;
    match parsed {
        Value::Tuple(items) => Ok(items),
        other => Ok(vec![other]),
    }
}

/// Results as WAVE, comma-separated; `()` for none.
pub fn render_results(values: &[Value], types: Option<&[Type]>) -> String {
    if values.is_empty() {
        return "()".into();
    }
    let rendered: Vec<String> = match types {
        Some(types) if types.len() == values.len() => {
            values.iter().zip(types).map(|(v, t)| wave::render(v, t).unwrap_or_else(|_| format!("{v:?}"))).collect()
        }
        _ => values.iter().map(|v| format!("{v:?}")).collect(),
    };
    rendered.join(", ")
}

/// A crash-test script: the agent on the first line, one call per line after
/// it, each optionally followed by the result it must give (`increment(2)
/// -> 2`, `add("") -> agent error: ...`, as `reprise run` prints them, or
/// `trap() -> failed` for a call that makes the agent fail);
/// blank lines and `#` comments are skipped.
///
/// A later `Type(args)` line sends the calls after it to that agent (created
/// when first called; the first line's agent again, if it names that one).
/// An `http METHOD URL -> STATUS "BODY"` line, anywhere, stubs a request:
/// requests to that host are answered in-process, in every run.
///
/// ```text
/// http POST http://payments.test/charges -> 200 "receipt-1"
/// payments("alice")
/// pay("payments.test", 500) -> ok("receipt-1")
/// payments("bob")
/// paid() -> 0
/// ```
///
/// A name that is both a method of the current agent and an agent type is
/// refused as ambiguous.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Script {
    /// `Type(args)`.
    pub agent: String,
    /// The line the agent is named on.
    pub agent_line: usize,
    /// The calls (and later agent lines), in order.
    pub calls: Vec<ScriptCall>,
    /// The HTTP stubs, with their lines.
    pub http: Vec<(usize, String)>,
}

/// One call of a script, or a later agent line (`Type(args)`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptCall {
    /// Its line.
    pub line: usize,
    /// `method(args)`, or `Type(args)` for an agent line.
    pub text: String,
    /// The result it must give, when the script states one.
    pub expected: Option<String>,
}

/// `call -> expected` split after the call's closing parenthesis (an
/// argument may itself hold `->`).
fn split_expectation(line: &str) -> (&str, Option<&str>) {
    let mut from = 0;
    while let Some(at) = line[from..].find("->").map(|i| i + from) {
        let call = line[..at].trim_end();
        if call.ends_with(')') && split(call).is_ok() {
            return (call, Some(line[at + 2..].trim()));
        }
        from = at + 2;
    }
    (line, None)
}

/// `expected`, as the script states a call's result, in the form
/// [`render_results`] prints: WAVE re-rendered against the result types (so
/// `some( 2 )` and `some(2)` agree), or an agent error's text.
pub fn normalise_expected(expected: &str, results: Option<&[Type]>) -> Result<String, String> {
    if let Some(error) = expected.strip_prefix("agent error:") {
        return Ok(format!("agent error: {}", error.trim()));
    }
    if expected.starts_with("failed") {
        return Ok(expected.to_string());
    }
    match results {
        Some([]) if expected == "()" => Ok("()".into()),
        Some([ty]) => {
            let value = wave::parse(expected, ty)
                .map_err(|e| format!("the expected result `{expected}` is not a {ty}: {e}"))?;
            Ok(render_results(&[value], Some(std::slice::from_ref(ty))))
        }
        _ => Ok(expected.to_string()),
    }
}

impl Script {
    /// Parse script text.
    pub fn parse(text: &str) -> Result<Script, String> {
        let lines = text
            .lines()
            .enumerate()
            .map(|(i, l)| (i + 1, l.trim()))
            .filter(|(_, l)| !l.is_empty() && !l.starts_with('#'));
        let mut http = Vec::new();
        let mut lines = lines.filter(|(line, l)| match l.strip_prefix("http") {
            Some(stub) if stub.starts_with(char::is_whitespace) => {
                http.push((*line, stub.trim().to_string()));
                false
            }
            _ => true,
        });
        let Some((agent_line, agent)) = lines.next() else {
            return Err("the script is empty; its first line names the agent, such as Counter(\"visits\")".into());
        };
        let calls = lines
            .map(|(line, l)| {
                let (call, expected) = split_expectation(l);
                ScriptCall { line, text: call.to_string(), expected: expected.map(str::to_string) }
            })
            .collect();
        Ok(Script { agent: agent.to_string(), agent_line, calls, http })
    }
}

/// What a script (or a typed [`Scenario::expect`]) states a call must return
/// in the crash-free run.
#[derive(Debug, Clone, PartialEq)]
pub struct Expectation {
    /// The script line of the call; 0 for a call stated in code.
    pub line: usize,
    /// The call as the script writes it.
    pub call: String,
    /// The result, as [`result_text`] renders it (normalised).
    pub expected: String,
    /// The call's result types, to render its actual result.
    pub results: Option<Vec<Type>>,
    /// The result as values, when it was stated in code: compared by value.
    pub values: Option<Vec<Value>>,
}

/// A call whose crash-free result is not the one its script states.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unmet {
    /// The call's number in the scenario, from 1.
    pub index: usize,
    /// The script line of the call; 0 for a call stated in code.
    pub line: usize,
    /// The call as the script writes it.
    pub call: String,
    /// What it returned.
    pub actual: String,
    /// What the script expects.
    pub expected: String,
}

impl fmt::Display for Unmet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            0 => write!(
                f,
                "call {}: {} returned {}, the test expects {}",
                self.index, self.call, self.actual, self.expected
            ),
            line => {
                write!(f, "line {line}: {} returned {}, the script expects {}", self.call, self.actual, self.expected)
            }
        }
    }
}

/// A call's result as scripts state it and `reprise run` prints it: the
/// outputs in WAVE, `agent error: ...`, or `failed: ...` with the guest's
/// panic message first when it printed one.
pub fn result_text(result: &CallResult, types: Option<&[Type]>) -> String {
    match result {
        Ok(values) => render_results(values, types),
        Err(CallError::Agent(e)) => format!("agent error: {}", e.lines().map(str::trim).collect::<Vec<_>>().join(" ")),
        Err(CallError::Suspended(e)) => format!("suspended: {e}"),
        Err(CallError::Failed(e)) => {
            let first = e.lines().next().unwrap_or_default();
            let mut lines = e.lines().skip_while(|l| !l.contains("panicked at"));
            let at = lines.next().and_then(|l| l.find("panicked at").map(|i| l[i..].trim()));
            let panic: Vec<&str> = at.into_iter().chain(lines.next().map(str::trim)).collect();
            if panic.is_empty() { format!("failed: {first}") } else { format!("failed: {} ({first})", panic.join(" ")) }
        }
    }
}

/// Whether a result is the one a script states: exactly, or for a failure,
/// one that begins as stated (`-> failed`, `-> failed: panicked at`).
pub fn meets(actual: &str, expected: &str) -> bool {
    actual == expected || (expected.starts_with("failed") && actual.starts_with(expected))
}

impl Scenario {
    /// The scenario a crash-test script describes (the agent on its first
    /// line, a call per line, each optionally stating its result), read
    /// against `component`'s agent types, as `reprise crash-test` reads it.
    ///
    /// ```no_run
    /// # use reprise_testkit::{Environment, verify::{CrashPlan, Scenario, verify}};
    /// let env = Environment::new()?;
    /// let component = env.load("target/wasm32-wasip2/release/counter.wasm")?;
    /// let scenario = Scenario::from_script(&component, "Counter(\"c\")\nincrement(2) -> 2\nget() -> 2\n")?;
    /// let report = verify(&env, &component, &scenario, &CrashPlan::distinct_outcomes())?;
    /// assert!(report.is_ok(), "{report}");
    /// # Ok::<(), reprise_testkit::Error>(())
    /// ```
    pub fn from_script(component: &LoadedComponent, text: &str) -> Result<Scenario, Error> {
        let script = Script::parse(text).map_err(Error::Setup)?;
        let (scenario, _) = typed_script(component.agent_types()?, &script)
            .map_err(|(line, e)| Error::Setup(format!("script line {line}: {e}")))?;
        Ok(scenario)
    }
}

/// The scenario `script` describes, read against the component's agent
/// `types`, and each call typed (for rendering its results). An error names
/// the script line it is on.
pub fn typed_script(types: &[AgentType], script: &Script) -> Result<(Scenario, Vec<TypedCall>), (usize, TextError)> {
    let (mut definition, args) = agent(types, &script.agent).map_err(|e| (script.agent_line, e))?;
    let mut scenario = Scenario::new(definition.type_name.clone(), args);
    for (line, text) in &script.http {
        scenario = scenario.http_stub(http_stub(text).map_err(|e| (*line, e))?);
    }
    let mut typed = Vec::with_capacity(script.calls.len());
    for line in &script.calls {
        if let Some(other) = switch(types, definition, &line.text) {
            let (other, args) = other.map_err(|e| (line.line, e))?;
            if line.expected.is_some() {
                return Err((
                    line.line,
                    TextError::new("an agent line cannot state a result")
                        .hint("state results after calls: increment(2) -> 2"),
                ));
            }
            definition = other;
            scenario = scenario.with_agent(definition.type_name.clone(), args);
            continue;
        }
        let call = TypedCall { line: line.line, ..method(definition, &line.text).map_err(|e| (line.line, e))? };
        let expected = match &line.expected {
            Some(e) => Some(normalise_expected(e, call.results.as_deref()).map_err(|e| {
                let hint = "state a result as `reprise run` prints it: increment(2) -> 2, add(\"\") -> agent error: ..., trap() -> failed";
                (line.line, TextError::new(e).hint(hint))
            })?),
            None => None,
        };
        scenario = scenario.call(call.name.clone(), call.args.clone());
        if let (Some(expected), Some(slot)) = (expected, scenario.expected.last_mut()) {
            *slot = Some(Expectation {
                line: line.line,
                call: line.text.clone(),
                expected,
                results: call.results.clone(),
                values: None,
            });
        }
        typed.push(call);
    }
    Ok((scenario, typed))
}

/// The agent a `Type(args)` line switches to, when `text` names an agent
/// type rather than a method of the current agent's `definition`.
fn switch<'t>(
    types: &'t [AgentType],
    definition: &AgentType,
    text: &str,
) -> Option<Result<(&'t AgentType, Vec<Value>), TextError>> {
    let (name, _) = split(text).ok()?;
    let is_method = definition.methods.iter().any(|m| m.name == name || kebab_case(&m.name) == kebab_case(name));
    let is_type = types.iter().any(|t| t.type_name == name || kebab_case(&t.type_name) == kebab_case(name));
    match (is_type, is_method) {
        (true, false) => Some(agent(types, text)),
        (true, true) => Some(Err(TextError::new(format!(
            "`{name}` is both a method of agent type `{}` and an agent type",
            definition.type_name
        ))
        .hint("rename the method or the agent type; a script cannot tell them apart"))),
        _ => None,
    }
}

/// An `http` line's stub: `METHOD URL -> STATUS "BODY"` (the body in WAVE,
/// optional).
fn http_stub(text: &str) -> Result<HttpStub, TextError> {
    let hint = || "write stubs as http POST http://payments.test/charges -> 200 \"receipt-1\"";
    let (request, answer) =
        text.split_once("->").ok_or_else(|| TextError::new(format!("`http {text}` states no answer")).hint(hint()))?;
    let (method, url) = request
        .trim()
        .split_once(char::is_whitespace)
        .ok_or_else(|| TextError::new(format!("`http {text}` needs a method and a URL")).hint(hint()))?;
    let answer = answer.trim();
    let (status, body) = answer.split_once(char::is_whitespace).unwrap_or((answer, ""));
    let status: u16 =
        status.parse().map_err(|_| TextError::new(format!("`{status}` is not an HTTP status")).hint(hint()))?;
    let body = match body.trim() {
        "" => String::new(),
        body => match wave::parse(body, &Type::String) {
            Ok(Value::String(s)) => s,
            _ => return Err(TextError::new(format!("the body `{body}` is not a quoted string")).hint(hint())),
        },
    };
    HttpStub::new(method, url.trim(), status, body).map_err(|e| TextError::new(e).hint(hint()))
}

/// The stated results the crash-free run's `results` do not meet.
pub(super) fn unmet(expected: &[Option<Expectation>], results: &[CallResult]) -> Vec<Unmet> {
    expected
        .iter()
        .zip(results)
        .enumerate()
        .filter_map(|(index, (expectation, result))| {
            let e = expectation.as_ref()?;
            let actual = result_text(result, e.results.as_deref());
            let met = match &e.values {
                Some(values) => matches!(result, Ok(actual) if actual == values),
                None => meets(&actual, &e.expected),
            };
            (!met).then(|| Unmet {
                index: index + 1,
                line: e.line,
                call: e.call.clone(),
                actual,
                expected: e.expected.clone(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_compare_across_spellings() {
        assert_eq!(kebab_case("ShoppingCart"), "shopping-cart");
        assert_eq!(kebab_case("shopping_cart"), "shopping-cart");
        assert_eq!(kebab_case("blob-put"), "blob-put");
    }

    #[test]
    fn calls_split_into_name_and_arguments() {
        assert_eq!(split(" add(\"a\", 2) ").unwrap(), ("add", "\"a\", 2"));
        assert_eq!(split("get()").unwrap(), ("get", ""));
        assert!(split("get").is_err());
        assert!(split("(1)").is_err());
        assert!(split("a b(1)").is_err());
    }

    #[test]
    fn arguments_are_read_as_wave_against_the_parameter_types() {
        let params = vec![("sku".to_string(), Type::String), ("qty".to_string(), Type::U32)];
        assert_eq!(
            arguments("add", &params, "\"tea, green\", 2").unwrap(),
            vec![Value::string("tea, green"), Value::U32(2)]
        );
        let one = vec![("items".to_string(), Type::List(Box::new(Type::U8)))];
        assert_eq!(arguments("set", &one, "[1, 2]").unwrap(), vec![Value::List(vec![Value::U8(1), Value::U8(2)])]);
        let e = arguments("add", &params, "2, \"tea\"").unwrap_err().to_string();
        assert!(e.contains("bad arguments for `add`") && e.contains("add(sku: string, qty: u32)"), "{e}");
        assert!(arguments("get", &[], "1").unwrap_err().to_string().contains("takes no arguments"));
    }

    #[test]
    fn scripts_skip_comments_and_blank_lines() {
        let s = Script::parse("# demo\n\nCounter(\"a\")\nincrement(1) \n# x\nget()\n").unwrap();
        assert_eq!((s.agent.as_str(), s.agent_line), ("Counter(\"a\")", 3));
        let calls: Vec<(usize, &str)> = s.calls.iter().map(|c| (c.line, c.text.as_str())).collect();
        assert_eq!(calls, [(4, "increment(1)"), (6, "get()")]);
        assert!(Script::parse("# nothing\n").is_err());
    }

    #[test]
    fn a_call_may_state_its_expected_result() {
        let s = Script::parse("Counter(\"a\")\nincrement(2) -> 2\nnote(\"x -> y\") -> ok(\"->\")\nget()\n").unwrap();
        assert_eq!(
            s.calls.iter().map(|c| c.text.as_str()).collect::<Vec<_>>(),
            ["increment(2)", "note(\"x -> y\")", "get()"]
        );
        let expected: Vec<Option<&str>> = s.calls.iter().map(|c| c.expected.as_deref()).collect();
        assert_eq!(expected, [Some("2"), Some("ok(\"->\")"), None]);
        let u64_ = [Type::U64];
        assert_eq!(normalise_expected(" 2", Some(&u64_)).map_err(|e| e.to_string()), Ok("2".into()));
        assert!(normalise_expected("two", Some(&u64_)).unwrap_err().contains("is not a u64"));
        assert_eq!(normalise_expected("agent error:  empty", None), Ok("agent error: empty".into()));
    }
}
