//! The verdict on one crashed run: what the outside world saw, against the
//! crash-free run.

use std::collections::BTreeMap;

use super::{FailureKind, RunOutcome};
use crate::host::{BlobWrite, KvWrite};
use crate::journal::FiredCrash;

/// A kind of side effect the verdict compares.
struct Effects<'a, T> {
    reference: &'a [T],
    run: &'a [T],
    /// The effect as a report names it.
    describe: fn(&T) -> String,
    /// What it acts on (a key, an object, a URL), to name a repeat.
    target: fn(&T) -> String,
    /// What reports call one: `write`, `request`.
    noun: &'static str,
}

/// `Ok(number of allowed retries)` when the crashed run matches the reference.
pub(super) fn compare(reference: &RunOutcome, run: &RunOutcome, fired: &[FiredCrash]) -> Result<usize, FailureKind> {
    for (call, (expected, actual)) in reference.results.iter().zip(&run.results).enumerate() {
        // A result that used values drawn after a crash may differ.
        let pinned = run.pinned.get(call).copied().unwrap_or(true);
        if pinned && expected != actual {
            return Err(FailureKind::Results { call, expected: expected.clone(), actual: actual.clone() });
        }
    }
    let retry_allowed = fired.iter().any(|f| f.in_effect_window);
    let fresh = run.fresh_values > 0;
    let kv = Effects {
        reference: &reference.kv_writes,
        run: &run.kv_writes,
        describe: describe_write,
        target: kv_target,
        noun: "write",
    };
    let blobs = Effects {
        reference: &reference.blob_writes,
        run: &run.blob_writes,
        describe: |w| format!("{w:?}"),
        target: blob_target,
        noun: "write",
    };
    let http = Effects {
        reference: &reference.http_requests,
        run: &run.http_requests,
        describe: |r| match &r.idempotency_key {
            Some(key) => format!("{} {} (idempotency key {key})", r.method, r.path),
            None => format!("{} {} (no idempotency key)", r.method, r.path),
        },
        target: |r| format!("{} {}", r.method, r.path),
        noun: "request",
    };
    let mut retried = kv.check(retry_allowed, fresh)?;
    retried += blobs.check(retry_allowed, fresh)?;
    retried += http.check(retry_allowed, fresh)?;
    // Each agent must run the same invocations, each once; in any order,
    // since callers running side by side may reach it in another order
    // after a crash. Arguments may carry values drawn after the crash: then
    // only the methods called are compared.
    let same = |a: &[(String, Vec<crate::value::Value>)], b: &[(String, Vec<crate::value::Value>)]| {
        if fresh {
            let (mut x, mut y): (Vec<&str>, Vec<&str>) =
                (a.iter().map(|(m, _)| m.as_str()).collect(), b.iter().map(|(m, _)| m.as_str()).collect());
            x.sort_unstable();
            y.sort_unstable();
            x == y
        } else {
            same_multiset(a, b)
        }
    };
    let invocations = |o: &RunOutcome, id: &str| o.remote_invocations.get(id).cloned().unwrap_or_default();
    let differing = reference
        .remote_invocations
        .keys()
        .chain(run.remote_invocations.keys())
        .find(|id| !same(&invocations(reference, id), &invocations(run, id)))
        .cloned();
    if let Some(differing) = differing {
        let calls = |o: &RunOutcome| o.remote_invocations.get(&differing).cloned().unwrap_or_default();
        let (ran, expected) = (calls(run), calls(reference));
        return Err(FailureKind::SideEffects(if ran.len() == expected.len() {
            format!("agent `{differing}` ran {ran:?}, the crash-free run {expected:?}")
        } else {
            format!(
                "agent `{differing}` ran {} invocation(s), the crash-free run {} (a retried call ran twice, or one was lost)",
                ran.len(),
                expected.len()
            )
        }));
    }
    // With fresh values, the stores may rightly hold other values.
    if !fresh && reference.kv != run.kv {
        return Err(FailureKind::State("the key-value store contents differ".into()));
    }
    if !fresh && reference.blobs != run.blobs {
        return Err(FailureKind::State("the blob store contents differ".into()));
    }
    Ok(retried)
}

/// Whether `a` and `b` hold the same items, as many times each.
fn same_multiset<T: PartialEq>(a: &[T], b: &[T]) -> bool {
    let mut unmatched: Vec<&T> = b.iter().collect();
    a.len() == b.len()
        && a.iter().all(|x| match unmatched.iter().position(|y| *y == x) {
            Some(i) => {
                unmatched.swap_remove(i);
                true
            }
            None => false,
        })
}

impl<T: Ord> Effects<'_, T> {
    /// Every reference effect must happen; extra ones only as identical
    /// repeats after a crash in an effect window. When the run drew fresh
    /// values, payloads may differ from the reference's, but an effect must
    /// still not be repeated with another payload. Returns the number of
    /// allowed repeats.
    fn check(&self, retry_allowed: bool, fresh: bool) -> Result<usize, FailureKind> {
        if fresh { self.check_fresh(retry_allowed) } else { self.check_exact(retry_allowed) }
    }

    fn check_exact(&self, retry_allowed: bool) -> Result<usize, FailureKind> {
        let mut remaining: BTreeMap<&T, usize> = BTreeMap::new();
        for w in self.run {
            *remaining.entry(w).or_default() += 1;
        }
        for w in self.reference {
            match remaining.get_mut(w) {
                Some(n) if *n > 0 => *n -= 1,
                _ => return Err(self.missing(w)),
            }
        }
        let mut retried = 0;
        for (w, n) in remaining.into_iter().filter(|(_, n)| *n > 0) {
            if !(retry_allowed && self.reference.contains(w)) {
                return Err(FailureKind::SideEffects(format!(
                    "the {} {} happened {n} more time(s) than in the crash-free run",
                    self.noun,
                    (self.describe)(w)
                )));
            }
            retried += n;
        }
        Ok(retried)
    }

    /// The crash-free run's effect `w` did not happen: name what the run did
    /// on the same target instead, if anything (a payment made twice under
    /// other keys reads as that, not as a loss).
    fn missing(&self, w: &T) -> FailureKind {
        let target = (self.target)(w);
        let instead: Vec<String> = self
            .run
            .iter()
            .filter(|r| (self.target)(r) == target && !self.reference.contains(r))
            .map(self.describe)
            .collect();
        let noun = self.noun;
        FailureKind::SideEffects(if instead.is_empty() {
            format!("the {noun} {} was lost", (self.describe)(w))
        } else {
            format!(
                "the {noun} {} of the crash-free run was not made; on {target} the run made {} instead",
                (self.describe)(w),
                instead.join(", ")
            )
        })
    }

    /// Payloads (and targets) may carry values drawn after the crash. Per
    /// target, effects identical to the crash-free run's are matched first;
    /// identical repeats of them are retries (in an effect window); other
    /// payloads stand in for the crash-free run's unmatched ones on the same
    /// target, and one more than it had is a repeat with another payload.
    /// Effects on targets the crash-free run never touched stand in for ones
    /// it lost elsewhere (a key drawn afresh).
    fn check_fresh(&self, retry_allowed: bool) -> Result<usize, FailureKind> {
        let mut targets: BTreeMap<String, (Vec<&T>, Vec<&T>)> = BTreeMap::new();
        for w in self.reference {
            targets.entry((self.target)(w)).or_default().0.push(w);
        }
        for w in self.run {
            targets.entry((self.target)(w)).or_default().1.push(w);
        }
        let (mut retried, mut surplus, mut deficit) = (0, 0, 0);
        for (reference, run) in targets.values() {
            let mut unmatched: Vec<&T> = reference.clone();
            let mut extra: Vec<&T> = Vec::new();
            for w in run {
                match unmatched.iter().position(|r| r == w) {
                    Some(i) => {
                        unmatched.remove(i);
                    }
                    None => extra.push(w),
                }
            }
            let mut different: Vec<&T> = Vec::new();
            for w in extra {
                // An identical repeat of an effect of this run is a retry.
                if retry_allowed && run.iter().filter(|r| **r == w).count() > 1 && different.iter().all(|d| *d != w) {
                    retried += 1;
                } else {
                    different.push(w);
                }
            }
            if reference.is_empty() {
                surplus += different.len();
            } else if different.len() > unmatched.len() {
                let again = different[unmatched.len()];
                let first = run.iter().find(|w| **w != again).copied().unwrap_or(again);
                return Err(FailureKind::SideEffects(format!(
                    "the {} {} was repeated with another payload: {} (a clock reading or random value drawn again after the crash reached a side effect)",
                    self.noun,
                    (self.describe)(first),
                    (self.describe)(again)
                )));
            } else {
                deficit += unmatched.len() - different.len();
            }
        }
        match surplus.cmp(&deficit) {
            std::cmp::Ordering::Equal => Ok(retried),
            std::cmp::Ordering::Greater => Err(FailureKind::SideEffects(format!(
                "{} more write(s) than in the crash-free run, on targets it never wrote",
                surplus - deficit
            ))),
            std::cmp::Ordering::Less => {
                Err(FailureKind::SideEffects(format!("{} write(s) of the crash-free run were lost", deficit - surplus)))
            }
        }
    }
}

fn describe_write(w: &KvWrite) -> String {
    match &w.value {
        Some(v) => format!("set {}/{} = {:?}", w.bucket, w.key, String::from_utf8_lossy(v)),
        None => format!("delete {}/{}", w.bucket, w.key),
    }
}

fn kv_target(w: &KvWrite) -> String {
    format!("{}/{}", w.bucket, w.key)
}

fn blob_target(w: &BlobWrite) -> String {
    match w {
        BlobWrite::Write(container, object, _) | BlobWrite::Delete(container, object) => {
            format!("{container}/{object}")
        }
        other => format!("{other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recording::RecordedRequest;

    fn outcome(requests: &[&str]) -> RunOutcome {
        RunOutcome {
            results: Vec::new(),
            pinned: Vec::new(),
            fresh_values: 0,
            kv: BTreeMap::new(),
            kv_writes: Vec::new(),
            blobs: BTreeMap::new(),
            blob_writes: Vec::new(),
            http_requests: requests
                .iter()
                .map(|key| RecordedRequest {
                    method: "POST".into(),
                    path: "/charge".into(),
                    idempotency_key: Some(key.to_string()),
                    body: Vec::new(),
                })
                .collect(),
            oplog_len: 0,
            remote_invocations: BTreeMap::new(),
            interleaving: Vec::new(),
        }
    }

    #[test]
    fn a_payment_made_twice_under_other_keys_reads_as_that_not_as_a_loss() {
        let verdict = compare(&outcome(&["a"]), &outcome(&["b", "c"]), &[]);
        let Err(FailureKind::SideEffects(text)) = verdict else { panic!("{verdict:?}") };
        assert_eq!(
            text,
            "the request POST /charge (idempotency key a) of the crash-free run was not made; on POST /charge the run made POST /charge (idempotency key b), POST /charge (idempotency key c) instead"
        );
        let verdict = compare(&outcome(&["a"]), &outcome(&[]), &[]);
        assert!(matches!(verdict, Err(FailureKind::SideEffects(t)) if t.ends_with("was lost")));
    }
}
