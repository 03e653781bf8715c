//! Plain components (exported functions, no agent interface) in the testkit:
//! calls are journaled, replayed after crashes, and bad input is an error.
// Tests fail by unwrapping and panicking, with the value in the message.
#![allow(clippy::unwrap_used, clippy::panic)]

use reprise_testkit::oplog::OplogEntry;
use reprise_testkit::value::Value;
use reprise_testkit::{CrashPoint, Environment, Error};

/// A component exporting `add(a: u32, b: u32) -> u32` and `inc() -> u32`
/// (a counter kept in instance memory).
fn counter_component() -> Vec<u8> {
    wat::parse_str(
        r#"(component
             (core module $m
               (global $count (mut i32) (i32.const 0))
               (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add)
               (func (export "inc") (result i32)
                 global.get $count i32.const 1 i32.add global.set $count global.get $count))
             (core instance $i (instantiate $m))
             (func (export "add") (param "a" u32) (param "b" u32) (result u32) (canon lift (core func $i "add")))
             (func (export "inc") (result u32) (canon lift (core func $i "inc"))))"#,
    )
    .expect("valid WAT")
}

#[test]
fn exported_functions_are_called_and_journaled() {
    let env = Environment::new().unwrap();
    let component = env.load_bytes(&counter_component()).unwrap();
    let mut worker = env.create_worker(&component, "counter-1").unwrap();
    assert_eq!(worker.call("add", &[Value::U32(2), Value::U32(3)]).unwrap(), [Value::U32(5)]);
    assert_eq!(worker.call("inc", &[]).unwrap(), [Value::U32(1)]);
    assert_eq!(worker.call("inc", &[]).unwrap(), [Value::U32(2)]);
    let started =
        worker.oplog().entries().iter().filter(|e| matches!(e, OplogEntry::AgentInvocationStarted(_))).count();
    let finished =
        worker.oplog().entries().iter().filter(|e| matches!(e, OplogEntry::AgentInvocationFinished(_))).count();
    assert_eq!((started, finished), (3, 3));
}

#[test]
fn memory_is_rebuilt_by_replay_after_a_crash() {
    let env = Environment::new().unwrap();
    let component = env.load_bytes(&counter_component()).unwrap();
    let mut worker = env.create_worker(&component, "counter-2").unwrap();
    worker.call("inc", &[]).unwrap();
    worker.call("inc", &[]).unwrap();
    worker.crash();
    assert_eq!(worker.call("inc", &[]).unwrap(), [Value::U32(3)]);

    // A crash right after the next call started: recovery completes it.
    let next = worker.oplog().len() + 1;
    worker.schedule_crashes([CrashPoint::AfterEntry(next)]);
    assert_eq!(worker.call("inc", &[]).unwrap(), [Value::U32(4)]);
    assert_eq!(worker.crashes_fired().len(), 1);
}

#[test]
fn wrong_arguments_and_unknown_functions_are_errors_not_traps() {
    let env = Environment::new().unwrap();
    let component = env.load_bytes(&counter_component()).unwrap();
    let mut worker = env.create_worker(&component, "counter-3").unwrap();
    let err = worker.call("add", &[Value::string("two"), Value::U32(3)]).unwrap_err();
    assert!(matches!(&err, Error::Agent(m) if m.contains("a: expected u32")), "{err}");
    let err = worker.call("add", &[Value::U32(3)]).unwrap_err();
    assert!(err.to_string().contains("takes 2 argument(s), got 1"), "{err}");
    let err = worker.call("mul", &[]).unwrap_err();
    assert!(err.to_string().contains("exports no function `mul`"), "{err}");
    // The worker is still usable.
    assert_eq!(worker.call("inc", &[]).unwrap(), [Value::U32(1)]);

    // Agents and plain components are not mixed up.
    let err = env.create_agent(&component, "counter", &[]).unwrap_err();
    assert!(err.to_string().contains("create_worker"), "{err}");
}
