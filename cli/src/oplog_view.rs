//! Oplogs for people: one line per entry, JSON, or an HTML timeline that
//! marks spans, crash points and where replay diverged.

use std::fmt::Write as _;

use reprise_testkit::kebab_case;
use reprise_testkit::oplog::OplogEntry;
use reprise_testkit::oplog::describe;
use serde::Serialize;
use serde_json::{Value as Json, json};

/// One entry as shown.
#[derive(Debug, Clone, Serialize)]
pub struct EntryView {
    /// 1-based oplog index.
    pub index: u64,
    /// The entry's kind as WIT spells it (`host-call`, `start-span`, ...).
    pub kind: String,
    /// A one-line description.
    pub text: String,
    /// Span nesting depth (for indentation).
    pub depth: usize,
    /// Seconds and nanoseconds of the entry's timestamp, as recorded.
    pub timestamp: Option<(u64, u32)>,
}

/// The entries of an oplog as shown.
pub fn entries(oplog: &[OplogEntry]) -> Vec<EntryView> {
    views(numbered(oplog)).into_iter().map(|(view, _)| view).collect()
}

/// Entries with their 1-based indexes.
fn numbered(oplog: &[OplogEntry]) -> impl Iterator<Item = (u64, &OplogEntry)> {
    (1..).zip(oplog)
}

/// Each entry's view with the entry as JSON, which the view's kind and
/// timestamp are read from (serialized once for both).
fn views<'a>(oplog: impl Iterator<Item = (u64, &'a OplogEntry)>) -> Vec<(EntryView, Json)> {
    let mut depth = 0usize;
    oplog
        .map(|(index, entry)| {
            let json = serde_json::to_value(entry).unwrap_or(Json::Null);
            let (kind, payload) = match &json {
                Json::Object(map) if map.len() == 1 => {
                    map.iter().next().map(|(k, v)| (kebab_case(k), Some(v))).unwrap_or(("entry".to_string(), None))
                }
                _ => ("entry".to_string(), None),
            };
            if matches!(entry, OplogEntry::FinishSpan(_)) {
                depth = depth.saturating_sub(1);
            }
            let view = EntryView {
                index,
                kind,
                // What the entry carries (a host call's request and
                // response, an invocation's input and result) follows.
                text: match reprise_testkit::oplog::payload(entry) {
                    Some(payload) => format!("{} {payload}", describe(entry)),
                    None => describe(entry),
                },
                depth,
                timestamp: payload.and_then(|p| p.get("timestamp")).and_then(|t| {
                    Some((t.get("seconds")?.as_u64()?, u32::try_from(t.get("nanoseconds")?.as_u64()?).ok()?))
                }),
            };
            if matches!(entry, OplogEntry::StartSpan(_)) {
                depth += 1;
            }
            (view, json)
        })
        .collect()
}

/// One line per entry: index, kind, description.
pub fn text(oplog: &[OplogEntry]) -> String {
    text_of(views(numbered(oplog)))
}

/// [`text`] of entries found after damage, each with its own index.
pub fn salvaged_text(salvaged: &[(u64, OplogEntry)]) -> String {
    text_of(views(salvaged.iter().map(|(i, e)| (*i, e))))
}

fn text_of(views: Vec<(EntryView, Json)>) -> String {
    let mut out = String::new();
    for (e, _) in views {
        // One line each, whatever the guest put in the text.
        let text = crate::terminal::safe_line(&e.text);
        let _ = writeln!(out, "{:>5}  {:<28} {}{}", e.index, e.kind, "  ".repeat(e.depth), text);
    }
    out
}

/// Entries as JSON: the view plus the entry itself as the testkit records
/// it; then any entries found after damage, marked `"salvaged": true`.
pub fn json_with_salvaged(oplog: &[OplogEntry], salvaged: &[(u64, OplogEntry)]) -> Json {
    let item = |(view, entry): (EntryView, Json), salvaged: bool| {
        let mut item = json!({
            "index": view.index,
            "kind": view.kind,
            "description": view.text,
            "entry": entry,
        });
        if salvaged {
            item["salvaged"] = Json::Bool(true);
        }
        item
    };
    let intact = views(numbered(oplog)).into_iter().map(|v| item(v, false));
    let found = views(salvaged.iter().map(|(i, e)| (*i, e))).into_iter().map(|v| item(v, true));
    Json::Array(intact.chain(found).collect())
}

/// A crash run's mark on an agent's timeline.
#[derive(Debug, Clone, Serialize)]
pub struct CrashMark {
    /// The oplog index of the crash point.
    pub index: u64,
    /// `after` (after the entry) or `before-persist` (effect done, entry lost).
    pub point: &'static str,
    /// Whether that run recovered to the crash-free outcome.
    pub recovered: bool,
    /// What went wrong, for failed runs.
    pub message: Option<String>,
}

/// One agent's timeline.
#[derive(Debug, Clone, Serialize)]
pub struct Timeline {
    /// The agent's id.
    pub agent: String,
    /// Its entries.
    pub entries: Vec<EntryView>,
    /// Crash runs with a crash in this agent.
    pub crashes: Vec<CrashMark>,
    /// Indexes where replay diverged in a failed run.
    pub diverged: Vec<u64>,
}

impl Timeline {
    /// A timeline without crash marks.
    pub fn plain(agent: impl Into<String>, oplog: &[OplogEntry]) -> Self {
        Timeline { agent: agent.into(), entries: entries(oplog), crashes: Vec::new(), diverged: Vec::new() }
    }

    /// A timeline of entries found after damage, each with its own index.
    pub fn salvaged(title: impl Into<String>, salvaged: &[(u64, OplogEntry)]) -> Self {
        let entries = views(salvaged.iter().map(|(i, e)| (*i, e))).into_iter().map(|(view, _)| view).collect();
        Timeline { agent: title.into(), entries, crashes: Vec::new(), diverged: Vec::new() }
    }
}

/// What an HTML page shows: a title, a verdict, figures, timelines, failures.
#[derive(Debug, Clone, Serialize)]
pub struct Page {
    /// The heading.
    pub title: String,
    /// `Some(true)` all runs recovered, `Some(false)` some failed, `None`
    /// no verdict (a plain oplog).
    pub ok: Option<bool>,
    /// Label and value pairs.
    pub summary: Vec<(String, String)>,
    /// One per agent.
    pub timelines: Vec<Timeline>,
    /// Failed runs, one line each.
    pub failures: Vec<String>,
}

/// A self-contained HTML page (no external resources). The data travels as
/// JSON and a small script draws the timeline, so the page stays readable
/// for oplogs of thousands of entries.
pub fn html(page: &Page) -> String {
    // No `<` reaches the script element: `</script` would end it early, and
    // `<!--<script` would make the parser swallow the rest of the page. The
    // JSON escape `\u003c` reads back as `<`.
    let data = serde_json::to_string(page).unwrap_or_else(|_| "{}".into()).replace('<', "\\u003c");
    let title = page.title.replace('&', "&amp;").replace('<', "&lt;");
    format!(
        r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}</title>
<style>{STYLE}</style>
</head>
<body>
<h1 id="title"></h1>
<p id="verdict"></p>
<table id="summary"></table>
<ul id="failures"></ul>
<div id="timelines"></div>
<script id="report-data" type="application/json">{data}</script>
<script>{SCRIPT}</script>
</body>
</html>
"#
    )
}

const STYLE: &str = r#"
body { font: 14px/1.4 system-ui, sans-serif; margin: 2em; color: #222; }
h1 { font-size: 1.4em; }
#verdict.ok { color: #176f2c; font-weight: bold; }
#verdict.failed { color: #b3261e; font-weight: bold; }
#summary td { padding: 0 1em 0 0; }
#failures li { color: #b3261e; font-family: monospace; }
.timeline { margin-top: 2em; }
.timeline h2 { font-size: 1.1em; font-family: monospace; }
.legend { color: #555; font-size: 0.9em; }
.entry { display: grid; grid-template-columns: 4em 19em 1fr auto; gap: 0 0.5em;
         border-left: 3px solid #ccc; padding: 1px 0.5em; font-family: monospace; }
.entry:nth-child(odd) { background: #f6f6f6; }
.entry .kind { color: #555; }
.entry.kind-host-call { border-left-color: #3b6fd1; }
.entry.kind-agent-invocation-started, .entry.kind-agent-invocation-finished { border-left-color: #8e44ad; }
.entry.kind-start-span, .entry.kind-finish-span { border-left-color: #16a085; }
.entry.kind-error { border-left-color: #b3261e; }
.entry.diverged { background: #fde2e0; outline: 2px solid #b3261e; }
.crash { display: inline-block; min-width: 1.4em; text-align: center; border-radius: 3px; margin-left: 2px;
         font-size: 0.85em; }
.crash.recovered { background: #d4f0da; color: #176f2c; }
.crash.failed { background: #b3261e; color: white; }
"#;

const SCRIPT: &str = r#"
(function () {
  const data = JSON.parse(document.getElementById('report-data').textContent);
  const el = (tag, cls, text) => {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  };
  document.getElementById('title').textContent = data.title;
  const verdict = document.getElementById('verdict');
  if (data.ok === true) { verdict.textContent = 'Every crashed run recovered.'; verdict.className = 'ok'; }
  if (data.ok === false) { verdict.textContent = 'Some crashed runs did not recover.'; verdict.className = 'failed'; }
  const summary = document.getElementById('summary');
  for (const [label, value] of data.summary) {
    const row = el('tr');
    row.appendChild(el('td', null, label));
    row.appendChild(el('td', null, value));
    summary.appendChild(row);
  }
  const failures = document.getElementById('failures');
  for (const f of data.failures) failures.appendChild(el('li', 'failure', f));
  const timelines = document.getElementById('timelines');
  for (const t of data.timelines) {
    const section = el('section', 'timeline');
    section.dataset.agent = t.agent;
    section.appendChild(el('h2', null, t.agent + ' \u2014 ' + t.entries.length + ' entries'));
    if (t.crashes.length) {
      section.appendChild(el('p', 'legend',
        'Marks: a crash run at that entry (\u2193 after the entry, \u21af after its side effect, before it was ' +
        'persisted); green recovered, red failed. A red row is where replay diverged.'));
    }
    const byIndex = new Map();
    for (const c of t.crashes) {
      if (!byIndex.has(c.index)) byIndex.set(c.index, []);
      byIndex.get(c.index).push(c);
    }
    const diverged = new Set(t.diverged);
    const list = el('div', 'entries');
    for (const e of t.entries) {
      const row = el('div', 'entry kind-' + e.kind + (diverged.has(e.index) ? ' diverged' : ''));
      row.dataset.index = e.index;
      row.appendChild(el('span', 'index', String(e.index)));
      row.appendChild(el('span', 'kind', e.kind));
      const text = el('span', 'text', '\u00a0\u00a0'.repeat(e.depth) + e.text);
      if (e.timestamp) text.title = new Date(e.timestamp[0] * 1000 + e.timestamp[1] / 1e6).toISOString();
      row.appendChild(text);
      const marks = el('span', 'marks');
      for (const c of byIndex.get(e.index) || []) {
        const m = el('span', 'crash ' + (c.recovered ? 'recovered' : 'failed'), c.point === 'after' ? '\u2193' : '\u21af');
        m.title = (c.point === 'after' ? 'crash after this entry' : 'crash before persisting this entry') +
          (c.recovered ? ': recovered' : ': ' + c.message);
        marks.appendChild(m);
      }
      row.appendChild(marks);
      list.appendChild(row);
    }
    section.appendChild(list);
    timelines.appendChild(section);
  }
  document.body.dataset.rendered = 'true';
})();
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_are_spelled_as_in_wit() {
        assert_eq!(kebab_case("HostCall"), "host-call");
        assert_eq!(kebab_case("AgentInvocationStarted"), "agent-invocation-started");
    }

    #[test]
    fn the_page_cannot_be_closed_by_its_data() {
        let page = Page {
            title: "a </script> <b>".into(),
            ok: None,
            summary: vec![("x".into(), "</script><script>alert(1)</script> <!--<script>".into())],
            timelines: Vec::new(),
            failures: Vec::new(),
        };
        let html = html(&page);
        assert_eq!(html.matches("</script>").count(), 2, "{html}");
        assert!(!html.contains("<!--"), "{html}");
        // The data still reads back as written.
        let data = html.split("type=\"application/json\">").nth(1).and_then(|rest| rest.split("</script>").next());
        let back: serde_json::Value = serde_json::from_str(data.unwrap()).unwrap();
        assert_eq!(back["summary"][0][1], "</script><script>alert(1)</script> <!--<script>");
        assert!(html.contains("<title>a &lt;/script> &lt;b></title>"));
    }
}
