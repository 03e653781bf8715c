//! Calls written as text: `Counter("visits")`, `increment(2)`. The name picks
//! the agent type or method from the component's discovered definitions; the
//! arguments are WAVE, read against the declared parameter types.

use std::path::Path;

use reprise_testkit::AgentType;
use reprise_testkit::LoadedComponent;
use reprise_testkit::value::{Type, Value};
use reprise_testkit::{kebab_case, schema_parameters, wave};

use crate::error::{CliError, one_line};

/// A call checked against the component: the exact name and typed arguments.
#[derive(Debug, Clone, PartialEq)]
pub struct TypedCall {
    /// The name as the component defines it.
    pub name: String,
    /// The arguments.
    pub args: Vec<Value>,
    /// The result types (for rendering), when they are component-model values.
    pub results: Option<Vec<Type>>,
}

/// Split `name(args)` into the name and the text between the parentheses.
pub fn split(text: &str) -> Result<(&str, &str), CliError> {
    let text = text.trim();
    let bad = || {
        CliError::input(format!("`{text}` is not a call"))
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
pub fn agent<'c>(component: &'c LoadedComponent, text: &str) -> Result<(&'c AgentType, Vec<Value>), CliError> {
    let (name, args) = split(text)?;
    let types = discovered(component)?;
    if types.is_empty() {
        return Err(CliError::input("the component defines no agent types")
            .hint("`reprise run` and `reprise crash-test` need an agent component; see `reprise inspect`"));
    }
    let definition = types.iter().find(|t| t.type_name == name || kebab_case(&t.type_name) == kebab_case(name));
    let Some(definition) = definition else {
        let known: Vec<&str> = types.iter().map(|t| t.type_name.as_str()).collect();
        return Err(CliError::input(format!("the component has no agent type `{name}`"))
            .hint(format!("it defines: {}", known.join(", "))));
    };
    let params = schema_parameters(&definition.constructor.input_schema)
        .map_err(|e| CliError::input(format!("agent type `{}`: {e}", definition.type_name)))?;
    let args = arguments(&definition.type_name, &params, args)?;
    Ok((definition, args))
}

/// The component's agent types. Discovery failing is the component's own
/// failure (exit 1), whatever script or arguments came with it.
pub fn discovered(component: &LoadedComponent) -> Result<&[AgentType], CliError> {
    component.agent_types().map_err(|e| {
        CliError::failed(one_line(&e.to_string()))
            .hint("the component failed before any agent existed: its `discover-agent-types` export broke")
    })
}

/// The method a `method(args)` text names on `definition`, with its arguments.
pub fn method(definition: &AgentType, text: &str) -> Result<TypedCall, CliError> {
    let (name, args) = split(text)?;
    let found = definition
        .methods
        .iter()
        .find(|m| m.name == name)
        .or_else(|| definition.methods.iter().find(|m| kebab_case(&m.name) == kebab_case(name)));
    let Some(method) = found else {
        let known: Vec<&str> = definition.methods.iter().map(|m| m.name.as_str()).collect();
        return Err(CliError::input(format!("agent type `{}` has no method `{name}`", definition.type_name))
            .hint(format!("its methods: {}", known.join(", "))));
    };
    let params = schema_parameters(&method.input_schema)
        .map_err(|e| CliError::input(format!("method `{}`: {e}", method.name)))?;
    let args = arguments(&method.name, &params, args)?;
    let results = schema_parameters(&method.output_schema).ok().map(|r| r.into_iter().map(|(_, t)| t).collect());
    Ok(TypedCall { name: method.name.clone(), args, results })
}

/// Read `text` (what stood between the parentheses) as the parameters of `what`.
fn arguments(what: &str, params: &[(String, Type)], text: &str) -> Result<Vec<Value>, CliError> {
    let signature = || {
        let params: Vec<String> = params.iter().map(|(n, t)| format!("{n}: {t}")).collect();
        format!("{what}({})", params.join(", "))
    };
    if params.is_empty() {
        return if text.trim().is_empty() {
            Ok(Vec::new())
        } else {
            Err(CliError::input(format!("`{what}` takes no arguments, got `{text}`")).hint(signature()))
        };
    }
    // The argument list read as one WAVE tuple: WAVE handles the nesting,
    // quoting and escapes of each argument.
    let tuple = Type::Tuple(params.iter().map(|(_, t)| t.clone()).collect());
    let parsed = wave::parse(&format!("({text})"), &tuple).map_err(|e| {
        CliError::input(format!("bad arguments for `{what}`: {e}"))
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
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Script {
    /// `Type(args)`.
    pub agent: String,
    /// The line the agent is named on.
    pub agent_line: usize,
    /// The calls, in order.
    pub calls: Vec<ScriptCall>,
}

/// One call of a script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptCall {
    /// Its line.
    pub line: usize,
    /// `method(args)`.
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

/// Largest script read (a call per line: millions of calls).
pub const MAX_SCRIPT_BYTES: u64 = 64 * 1024 * 1024;

impl Script {
    /// Read a script file: a regular file, of at most [`MAX_SCRIPT_BYTES`].
    pub fn read(path: &Path) -> Result<Script, CliError> {
        use std::io::Read as _;
        let cannot = |why: String| {
            CliError::input(format!("cannot read the script {}: {why}", path.display()))
                .hint("a script names the agent on its first line and one call per line: Counter(\"a\") / increment(1)")
        };
        match std::fs::metadata(path) {
            Ok(meta) if !meta.is_file() => return Err(cannot("not a regular file (a folder, pipe or device)".into())),
            Ok(meta) if meta.len() > MAX_SCRIPT_BYTES => {
                return Err(cannot(format!(
                    "{} bytes, more than the {MAX_SCRIPT_BYTES} a script may have",
                    meta.len()
                )));
            }
            Ok(_) => {}
            Err(e) => return Err(cannot(e.to_string())),
        }
        let mut text = String::new();
        let read = std::fs::File::open(path).and_then(|f| f.take(MAX_SCRIPT_BYTES).read_to_string(&mut text));
        read.map_err(|e| {
            CliError::input(format!("cannot read the script {}: {e}", path.display()))
                .hint("a script names the agent on its first line and one call per line: Counter(\"a\") / increment(1)")
        })?;
        Script::parse(&text).map_err(|e| {
            CliError::input(format!("{}: {e}", path.display()))
                .hint("a script names the agent on its first line and one call per line: Counter(\"a\") / increment(1)")
        })
    }

    /// Parse script text.
    pub fn parse(text: &str) -> Result<Script, String> {
        let mut lines = text
            .lines()
            .enumerate()
            .map(|(i, l)| (i + 1, l.trim()))
            .filter(|(_, l)| !l.is_empty() && !l.starts_with('#'));
        let Some((agent_line, agent)) = lines.next() else {
            return Err("the script is empty; its first line names the agent, such as Counter(\"visits\")".into());
        };
        let calls = lines
            .map(|(line, l)| {
                let (call, expected) = split_expectation(l);
                ScriptCall { line, text: call.to_string(), expected: expected.map(str::to_string) }
            })
            .collect();
        Ok(Script { agent: agent.to_string(), agent_line, calls })
    }
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
