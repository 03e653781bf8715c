//! The hook through which an agent's commits reach its oplog-processor
//! plugins. Golem wraps each agent's oplog in a forwarding oplog that
//! counts commits and, every few commits, sends the committed entries on
//! (golem-worker-executor/src/services/oplog/plugin.rs, `ForwardingOplog`).
//! The journal only counts and calls; what a flush does is the plugin
//! host's (a layer above).

use super::Journal;

/// What an agent instance's commits are forwarded to. One per instance: a
/// recovered instance gets a fresh one, as Golem opens a fresh forwarding
/// oplog for a recovered worker.
pub(crate) trait Forwarding: Send + Sync {
    /// The oplog was committed (live, outside a flush). The forwarder may
    /// append and commit entries of its own (checkpoints); a crash injected
    /// at one of them is returned, as from any append.
    fn committed(&self, journal: &mut Journal) -> wasmtime::Result<()>;

    /// Send what is committed and not yet sent, whatever the commit count
    /// (Golem's flush timer).
    fn flush(&self, journal: &mut Journal) -> wasmtime::Result<()>;
}

impl Journal {
    /// Run `flush` with commits not counted: a flush's own checkpoint
    /// commits go straight to the oplog in Golem and trigger nothing.
    pub(crate) fn flushing<T>(&mut self, flush: impl FnOnce(&mut Journal) -> T) -> T {
        let outer = std::mem::replace(&mut self.in_flush, true);
        let result = flush(self);
        self.in_flush = outer;
        result
    }

    /// Tell the forwarder of a commit.
    pub(super) fn forward_commit(&mut self) -> wasmtime::Result<()> {
        match self.forwarding.clone() {
            // Golem forwards the live run's commits; replay adds nothing.
            Some(forwarding) if !self.in_flush && self.is_live() => forwarding.committed(self),
            _ => Ok(()),
        }
    }

    /// A flush requested from outside (the timer); nothing without plugins.
    pub(crate) fn flush_forwarding(&mut self) -> wasmtime::Result<()> {
        match self.forwarding.clone() {
            Some(forwarding) if !self.in_flush => forwarding.flush(self),
            _ => Ok(()),
        }
    }
}
