//! The oplog-auditor example: an agent pages through its own oplog
//! (`reprise::oplog`) and searches it; what it reports matches the oplog the
//! testkit holds, also after crashes and replay.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::collections::BTreeMap;

use reprise_e2e::build_example;
use reprise_testkit::Environment;
use reprise_testkit::oplog::OplogEntry;
use reprise_testkit::value::Value;
use reprise_testkit::verify::{CrashPlan, Scenario, verify};

#[test]
fn the_audit_matches_the_recorded_oplog() {
    let env = Environment::new().unwrap();
    let component = env.load(build_example("oplog-auditor")).unwrap();
    let mut agent = env.create_agent(&component, "Auditor", &[Value::string("ivy")]).unwrap();
    // Enough notes that the oplog spans several pages of the host's paging.
    for i in 0..60 {
        agent.invoke("note", &[Value::string(format!("note {i}"))]).unwrap();
    }
    let before = agent.oplog().len() as u64;
    let out = agent.invoke("audit", &[Value::U64(1)]).unwrap();
    let Value::Record(f) = &out[0] else { panic!("{out:?}") };

    // The audit sees the oplog as it was when the read began: everything
    // before the invocation, the invocation's start, and the metadata call
    // that found the agent's own id.
    let seen = before + 2;
    assert_eq!(f[0], Value::U64(1));
    assert_eq!(f[1], Value::U64(seen));
    assert_eq!(f[2], Value::U64(seen));
    let entries = &agent.oplog().entries()[..seen as usize];
    assert!(
        matches!(&entries[seen as usize - 1], OplogEntry::HostCall(p) if p.function_name == "golem::api::get_self_metadata")
    );
    let invocations = entries.iter().filter(|e| matches!(e, OplogEntry::AgentInvocationStarted(_))).count() as u32;
    assert_eq!(f[3], Value::U32(invocations));
    assert_eq!(invocations, 62, "the constructor, 60 notes and the audit itself");
    let logs = entries.iter().filter(|e| matches!(e, OplogEntry::Log(_))).count() as u32;
    assert_eq!(f[4], Value::U32(logs));
    assert_eq!(logs, 60);
    let mut host_calls = BTreeMap::new();
    for e in entries {
        if let OplogEntry::HostCall(p) = e {
            *host_calls.entry(p.function_name.clone()).or_insert(0u32) += 1;
        }
    }
    let reported: BTreeMap<String, u32> = match &f[5] {
        Value::List(pairs) => pairs
            .iter()
            .map(|p| match p {
                Value::Tuple(kv) => (kv[0].as_str().unwrap().to_string(), kv[1].as_u64().unwrap() as u32),
                other => panic!("{other:?}"),
            })
            .collect(),
        other => panic!("{other:?}"),
    };
    assert_eq!(reported, host_calls);
    assert_eq!(reported["keyvalue::eventual::set"], 60);

    // An audit from a later index sees only the tail.
    let out = agent.invoke("audit", &[Value::U64(100)]).unwrap();
    let Value::Record(tail) = &out[0] else { panic!("{out:?}") };
    assert_eq!(tail[0], Value::U64(100));

    // Search finds the entries whose description mentions the text.
    let out = agent.invoke("find", &[Value::string("eventual::set")]).unwrap();
    let Value::List(found) = &out[0] else { panic!("{out:?}") };
    assert_eq!(found.len(), 60);
    let entries = agent.oplog().entries();
    for index in found {
        let i = index.as_u64().unwrap() as usize;
        assert!(
            matches!(&entries[i - 1], OplogEntry::HostCall(p) if p.function_name == "keyvalue::eventual::set"),
            "entry {i}"
        );
    }

    let scenario = Scenario::new("Auditor", [Value::string("jo")])
        .call("note", [Value::string("a")])
        .call("note", [Value::string("b")])
        .call("audit", [Value::U64(1)])
        .call("find", [Value::string("note")]);
    let report = verify(&env, &component, &scenario, &CrashPlan::every_entry()).unwrap();
    assert!(report.is_ok(), "{report}");
}
