//! The oplog-auditor example: an agent pages through its own oplog
//! (`reprise::oplog`) and searches it; what it reports matches the oplog the
//! testkit holds, also after crashes and replay.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::collections::BTreeMap;

use reprise_e2e::build_example;
use reprise_example_oplog_auditor::AuditorCall;
use reprise_testkit::Environment;
use reprise_testkit::oplog::OplogEntry;
use reprise_testkit::verify::{CrashPlan, Scenario, verify};

#[test]
fn the_audit_matches_the_recorded_oplog() {
    let env = Environment::new().unwrap();
    let component = env.load(build_example("oplog-auditor")).unwrap();
    let mut agent = env.create(&component, AuditorCall::new("ivy".into())).unwrap();
    // Enough notes that the oplog spans several pages of the host's paging.
    for i in 0..60 {
        agent.note(format!("note {i}")).unwrap().unwrap();
    }
    let before = agent.agent.oplog().len() as u64;
    let audit = agent.audit(1).unwrap();

    // The audit sees the oplog as it was when the read began: everything
    // before the invocation, the invocation's start, and the metadata call
    // that found the agent's own id.
    let seen = before + 2;
    assert_eq!(audit.first, 1);
    assert_eq!(audit.last, seen);
    assert_eq!(audit.entries, seen);
    let entries = &agent.agent.oplog().entries()[..seen as usize];
    assert!(
        matches!(&entries[seen as usize - 1], OplogEntry::HostCall(p) if p.function_name == "golem::api::get_self_metadata")
    );
    let invocations = entries.iter().filter(|e| matches!(e, OplogEntry::AgentInvocationStarted(_))).count() as u32;
    assert_eq!(audit.invocations, invocations);
    assert_eq!(invocations, 62, "the constructor, 60 notes and the audit itself");
    let logs = entries.iter().filter(|e| matches!(e, OplogEntry::Log(_))).count() as u32;
    assert_eq!(audit.logs, logs);
    assert_eq!(logs, 60);
    let mut host_calls = BTreeMap::new();
    for e in entries {
        if let OplogEntry::HostCall(p) = e {
            *host_calls.entry(p.function_name.clone()).or_insert(0u32) += 1;
        }
    }
    let reported = audit.host_calls;
    assert_eq!(reported, host_calls);
    assert_eq!(reported["keyvalue::eventual::set"], 60);

    // An audit from a later index sees only the tail.
    let tail = agent.audit(100).unwrap();
    assert_eq!(tail.first, 100);

    // Search finds the entries whose description mentions the text.
    let found = agent.find("eventual::set".into()).unwrap();
    assert_eq!(found.len(), 60);
    let entries = agent.agent.oplog().entries();
    for index in found {
        let i = index as usize;
        assert!(
            matches!(&entries[i - 1], OplogEntry::HostCall(p) if p.function_name == "keyvalue::eventual::set"),
            "entry {i}"
        );
    }

    let scenario = Scenario::of(AuditorCall::new("jo".into()))
        .then(AuditorCall::note("a".into()))
        .then(AuditorCall::note("b".into()))
        .then(AuditorCall::audit(1))
        .then(AuditorCall::find("note".into()));
    let report = verify(&env, &component, &scenario, &CrashPlan::every_entry()).unwrap();
    assert!(report.is_ok(), "{report}");
}
