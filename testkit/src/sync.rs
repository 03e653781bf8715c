//! Locks that survive a panicking holder.

use std::sync::Mutex;

/// Lock a mutex, recovering it if a panicking thread poisoned it: the data
/// behind the testkit's locks is never left half-updated.
pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}
