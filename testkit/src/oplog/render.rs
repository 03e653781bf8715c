//! Oplogs for people and for snapshot tests: what each entry carries (the
//! request and response of a host call, an invocation's input and result) in
//! WAVE, and a stable text form of a whole oplog with times left out and the
//! ids the runtime generates (span ids, trace ids, invocation keys) numbered
//! in order of appearance. Ids the agent generates itself (say an order id
//! from `generate-idempotency-key`) stay as they are: they are stable for a
//! given seed.

use std::collections::BTreeMap;

use super::{OplogEntry, describe, kind_name};
use crate::bindings::golem::api::oplog::{AgentInvocation, AgentInvocationResult, TypedDataValue};
use crate::bindings::golem::core::types::ValueAndType;
use crate::data::{schema_parameters, values_of};
use crate::value::{Type, Value};

/// Longest WAVE text shown for one value; longer ones are cut (with their
/// length), so one large value does not drown the view.
const MAX_VALUE_TEXT: usize = 200;

/// What `entry` carries, in WAVE: `request -> response` of a host call, an
/// invocation's input, its result. `None` for entries whose description says
/// all.
pub fn payload(entry: &OplogEntry) -> Option<String> {
    match entry {
        OplogEntry::HostCall(p) => Some(format!("{} -> {}", value_text(&p.request), value_text(&p.response))),
        OplogEntry::AgentInvocationStarted(p) => match &p.invocation {
            AgentInvocation::AgentInitialization(i) => Some(format!("({})", typed_text(&i.constructor_parameters))),
            AgentInvocation::AgentMethodInvocation(m) => Some(format!("({})", typed_text(&m.function_input))),
            _ => None,
        },
        OplogEntry::AgentInvocationFinished(p) => match &p.result {
            AgentInvocationResult::AgentInitialization(o) | AgentInvocationResult::AgentMethod(o) => {
                let text = typed_text(&o.output);
                Some(if text.is_empty() { "-> ()".into() } else { format!("-> {text}") })
            }
            AgentInvocationResult::ProcessOplogEntries(r) | AgentInvocationResult::LoadSnapshot(r) => {
                Some(r.error.as_ref().map_or_else(|| "-> ok".into(), |e| format!("-> error {e:?}")))
            }
            _ => None,
        },
        _ => None,
    }
}

fn cut(text: String) -> String {
    if text.len() <= MAX_VALUE_TEXT {
        return text;
    }
    let mut end = MAX_VALUE_TEXT;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}... ({} bytes)", &text[..end], text.len())
}

fn value_text(v: &ValueAndType) -> String {
    if v.value.nodes.is_empty() || matches!(Type::from_wit(&v.typ), Ok(Type::Tuple(items)) if items.is_empty()) {
        return "()".into();
    }
    let rendered = Value::from_wit(&v.value).ok().zip(Type::from_wit(&v.typ).ok()).and_then(|(value, ty)| {
        let (value, ty) = readable(value, ty);
        crate::wave::render(&value, &ty).ok()
    });
    cut(rendered.unwrap_or_else(|| "(a value the testkit cannot show)".into()))
}

/// `value` with every `list<u8>` that holds printable UTF-8 shown as a
/// string: stored JSON and text read as text rather than as numbers.
fn readable(value: Value, ty: Type) -> (Value, Type) {
    match (value, ty) {
        (Value::List(items), Type::List(inner)) if *inner == Type::U8 => {
            let bytes: Vec<u8> =
                items.iter().filter_map(|v| if let Value::U8(b) = v { Some(*b) } else { None }).collect();
            match String::from_utf8(bytes) {
                Ok(text) if text.chars().all(|c| !c.is_control() || c == '\n' || c == '\t') => {
                    (Value::String(text), Type::String)
                }
                _ => (Value::List(items), Type::List(inner)),
            }
        }
        (Value::List(items), Type::List(inner)) => {
            let shown: Vec<(Value, Type)> = items.iter().cloned().map(|v| readable(v, (*inner).clone())).collect();
            // Only if every item shows the same way (all text, say).
            match shown.first().map(|(_, t)| t.clone()) {
                Some(t) if shown.iter().all(|(_, u)| *u == t) => {
                    (Value::List(shown.into_iter().map(|(v, _)| v).collect()), Type::List(Box::new(t)))
                }
                _ => (Value::List(items), Type::List(inner)),
            }
        }
        (Value::Option(Some(v)), Type::Option(inner)) => {
            let (v, t) = readable(*v, *inner);
            (Value::Option(Some(Box::new(v))), Type::Option(Box::new(t)))
        }
        (Value::Result(Ok(Some(v))), Type::Result { ok: Some(ok), err }) => {
            let (v, t) = readable(*v, *ok);
            (Value::Result(Ok(Some(Box::new(v)))), Type::Result { ok: Some(Box::new(t)), err })
        }
        (value, ty) => (value, ty),
    }
}

fn typed_text(v: &TypedDataValue) -> String {
    let values = values_of(&v.value).ok();
    let types = schema_parameters(&v.schema).ok();
    let rendered = values.zip(types).and_then(|(values, params)| {
        let types: Vec<Type> = params.into_iter().map(|(_, t)| t).collect();
        (values.len() == types.len()).then(|| crate::wave::render_compact(&values, &types).ok()).flatten()
    });
    cut(rendered.unwrap_or_else(|| "(values the testkit cannot show)".into()))
}

/// The oplog as stable text, one line per entry: index, kind, description
/// and payload, with times left out and generated ids replaced by `span-1`,
/// `trace-1`, `key-1`, ... in order of appearance, so that two runs of the
/// same code give the same text (for snapshot tests, with `insta` or a file).
pub fn snapshot(entries: &[OplogEntry]) -> String {
    let mut names = Names::default();
    let mut out = String::new();
    for (i, entry) in entries.iter().enumerate() {
        let mut line = format!("{:>4} {}: {}", i + 1, kind_name(entry), describe(entry));
        if let Some(payload) = payload(entry) {
            line.push(' ');
            line.push_str(&payload);
        }
        line.push_str(&names.ids_of(entry));
        out.push_str(&names.normalise(&line));
        out.push('\n');
    }
    out
}

/// Generated ids, numbered by kind in order of appearance.
#[derive(Default)]
struct Names {
    seen: BTreeMap<String, String>,
    counts: BTreeMap<&'static str, usize>,
}

impl Names {
    fn name(&mut self, kind: &'static str, id: &str) -> String {
        if id.is_empty() {
            return String::new();
        }
        if let Some(name) = self.seen.get(id) {
            return name.clone();
        }
        let n = self.counts.entry(kind).or_default();
        *n += 1;
        let name = format!("{kind}-{n}");
        self.seen.insert(id.to_string(), name.clone());
        name
    }

    /// The ids an entry carries beyond its description (a span's parent,
    /// an invocation's trace and key), as ` [parent span-1]`-style notes.
    fn ids_of(&mut self, entry: &OplogEntry) -> String {
        match entry {
            OplogEntry::StartSpan(p) => {
                let mut note = format!(" [span {}", self.name("span", &p.span_id));
                if let Some(parent) = &p.parent {
                    note.push_str(&format!(", parent {}", self.name("span", parent)));
                }
                note + "]"
            }
            OplogEntry::AgentInvocationStarted(p) => match &p.invocation {
                AgentInvocation::AgentMethodInvocation(m) => {
                    format!(
                        " [key {}, trace {}]",
                        self.name("key", &m.idempotency_key),
                        self.name("trace", &m.trace_id)
                    )
                }
                AgentInvocation::AgentInitialization(m) => format!(" [trace {}]", self.name("trace", &m.trace_id)),
                _ => String::new(),
            },
            _ => String::new(),
        }
    }

    /// Replace every id already named that appears in `line`.
    fn normalise(&self, line: &str) -> String {
        let mut out = line.to_string();
        for (id, name) in &self.seen {
            if id.len() >= 8 {
                out = out.replace(id.as_str(), name);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bindings::golem::api::oplog::{FinishSpanParameters, StartSpanParameters};
    use crate::bindings::wasi::clocks::wall_clock::Datetime;

    #[test]
    fn snapshots_leave_out_times_and_number_generated_ids() {
        let entries = |offset: u64, id: &str| {
            let timestamp = Datetime { seconds: offset, nanoseconds: 7 };
            vec![
                OplogEntry::StartSpan(StartSpanParameters {
                    timestamp,
                    span_id: id.into(),
                    parent: None,
                    linked_context_id: None,
                    attributes: Vec::new(),
                }),
                OplogEntry::FinishSpan(FinishSpanParameters { timestamp, span_id: id.into() }),
            ]
        };
        let text = snapshot(&entries(1, "5bd1e9950a1b2c3d"));
        assert_eq!(
            text,
            "   1 start-span: the start of span span-1 [span span-1]\n   2 finish-span: the end of span span-1\n"
        );
        assert_eq!(snapshot(&entries(99, "0123456789abcdef")), text, "another run, the same text");
    }
}
