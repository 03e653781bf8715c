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
    let kv =
        Effects { reference: &reference.kv_writes, run: &run.kv_writes, describe: describe_write, target: kv_target };
    let blobs = Effects {
        reference: &reference.blob_writes,
        run: &run.blob_writes,
        describe: |w| format!("{w:?}"),
        target: blob_target,
    };
    let http = Effects {
        reference: &reference.http_requests,
        run: &run.http_requests,
        describe: |r| format!("{} {} (idempotency key {:?})", r.method, r.path, r.idempotency_key),
        target: |r| format!("{} {}", r.method, r.path),
    };
    let mut retried = kv.check(retry_allowed, fresh)?;
    retried += blobs.check(retry_allowed, fresh)?;
    retried += http.check(retry_allowed, fresh)?;
    if reference.remote_invocations != run.remote_invocations {
        let differing = reference
            .remote_invocations
            .keys()
            .chain(run.remote_invocations.keys())
            .find(|id| reference.remote_invocations.get(*id) != run.remote_invocations.get(*id))
            .cloned()
            .unwrap_or_default();
        let count = |o: &RunOutcome| o.remote_invocations.get(&differing).map_or(0, Vec::len);
        return Err(FailureKind::SideEffects(format!(
            "agent `{differing}` ran {} invocation(s), the crash-free run {} (a retried call ran twice, or one was lost)",
            count(run),
            count(reference)
        )));
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
                _ => return Err(FailureKind::SideEffects(format!("the write {} was lost", (self.describe)(w)))),
            }
        }
        let mut retried = 0;
        for (w, n) in remaining.into_iter().filter(|(_, n)| *n > 0) {
            if !(retry_allowed && self.reference.contains(w)) {
                return Err(FailureKind::SideEffects(format!(
                    "the write {} happened {n} more time(s) than in the crash-free run",
                    (self.describe)(w)
                )));
            }
            retried += n;
        }
        Ok(retried)
    }

    fn check_fresh(&self, retry_allowed: bool) -> Result<usize, FailureKind> {
        let mut distinct: Vec<&T> = Vec::new();
        let mut retried = 0;
        for w in self.run {
            if retry_allowed && distinct.contains(&w) {
                retried += 1;
            } else {
                distinct.push(w);
            }
        }
        if distinct.len() < self.reference.len() {
            return Err(FailureKind::SideEffects(format!(
                "{} write(s) were lost: the crash-free run made {}, this run {}",
                self.reference.len() - distinct.len(),
                self.reference.len(),
                distinct.len()
            )));
        }
        if distinct.len() == self.reference.len() {
            return Ok(retried);
        }
        // Name the repeat: a second effect on a target the reference acts on fewer times.
        let times = |effects: &[&T], target: &str| effects.iter().filter(|w| (self.target)(w) == target).count();
        let reference: Vec<&T> = self.reference.iter().collect();
        let repeat = distinct.iter().enumerate().find_map(|(i, w)| {
            let target = (self.target)(w);
            let first = distinct[..i].iter().find(|earlier| (self.target)(earlier) == target)?;
            (times(&distinct, &target) > times(&reference, &target)).then_some((*first, *w))
        });
        Err(FailureKind::SideEffects(match repeat {
            Some((first, again)) => format!(
                "the write {} was repeated with another payload: {} (a clock reading or random value drawn again after the crash reached a side effect)",
                (self.describe)(first),
                (self.describe)(again)
            ),
            None => format!(
                "{} more write(s) than in the crash-free run, with other payloads",
                distinct.len() - self.reference.len()
            ),
        }))
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
