//! Remote writes Golem brackets with `begin-remote-write` and
//! `end-remote-write` (`durable_host/mod.rs`, `begin_function` and
//! `end_function`): write-remote calls with idempotence off, and batches
//! (write-remote-batched without a begin index: an HTTP exchange).

use super::{Interrupt, Journal, Strict};
use crate::bindings::golem::api::oplog::{EndRemoteWriteParameters, JumpParameters, OplogRegion, WrappedFunctionType};
use crate::oplog::OplogEntry;

/// What Golem reports when recovery finds a remote write begun with
/// idempotence off and never ended (golem-worker-executor/src/durable_host/mod.rs).
const NON_IDEMPOTENT_WRITE_LOST: &str = "Non-idempotent remote write operation was not completed, cannot retry";

impl Journal {
    /// Whether a Golem executor brackets a durable call of `function_type`
    /// with begin/end-remote-write entries: write-remote with idempotence
    /// off, and write-remote-batched without a begin index (HTTP).
    pub(crate) fn brackets(&self, function_type: &WrappedFunctionType) -> bool {
        (matches!(function_type, WrappedFunctionType::WriteRemote) && !self.idempotent)
            || matches!(function_type, WrappedFunctionType::WriteRemoteBatched(None))
    }

    /// Begin a bracketed remote write of `function_type`: live, a committed
    /// `begin-remote-write` entry; replaying, the recorded one. Returns the
    /// begin index.
    ///
    /// A write whose end was never recorded was interrupted. As in Golem's
    /// `begin_function`: a batch (an HTTP exchange) with idempotence on is
    /// performed again, live, after a jump over the interrupted attempt
    /// (the begin entry stays, and the retry reuses its index); any other
    /// interrupted write cannot be retried and fails the agent.
    pub(crate) fn begin_remote_write(&mut self, function_type: &WrappedFunctionType) -> wasmtime::Result<u64> {
        let batch = matches!(function_type, WrappedFunctionType::WriteRemoteBatched(None));
        if self.is_live() {
            let timestamp = self.timestamp();
            let index = self.append(OplogEntry::BeginRemoteWrite(timestamp))?;
            if batch {
                self.open_batches.push(index);
            } else {
                self.open_bracket = true;
            }
            return Ok(index);
        }
        let (index, _) = self.replay(Strict::BeginRemoteWrite, || "began a remote write".into())?;
        let ended = self.oplog.entries()[..self.replay_end]
            .iter()
            .any(|e| matches!(e, OplogEntry::EndRemoteWrite(p) if p.begin_index == index));
        if ended {
            if batch {
                self.open_batches.push(index);
            }
            return Ok(index);
        }
        if !(batch && self.idempotent) {
            return Err(Interrupt::Unrecoverable(NON_IDEMPOTENT_WRITE_LOST.into()).raise());
        }
        // Appending goes live: everything after the begin is passed over.
        let end = self.last_index() + 1;
        self.append(OplogEntry::Jump(JumpParameters {
            timestamp: self.now(),
            jump: OplogRegion { start: index + 1, end },
        }))?;
        self.open_batches.push(index);
        Ok(index)
    }

    /// End the bracketed remote write begun at `begin` (`end-remote-write`,
    /// committed: Golem commits as the durable function ends).
    pub(crate) fn end_remote_write(&mut self, begin: u64) -> wasmtime::Result<()> {
        // A batch (an HTTP exchange) may end inside a bracketed call: only
        // the end of a bracket closes it.
        let batch = self.open_batches.contains(&begin);
        self.open_batches.retain(|b| *b != begin);
        if self.is_live() {
            if !batch {
                self.open_bracket = false;
            }
            let entry =
                OplogEntry::EndRemoteWrite(EndRemoteWriteParameters { timestamp: self.now(), begin_index: begin });
            self.append(entry).map(|_| ())
        } else {
            let what = format!("ended the remote write begun at {begin}");
            self.replay(Strict::EndRemoteWrite, || what).map(|_| ())
        }
    }
}

/// Whether a call of `function_type` belongs to a batch or transaction
/// begun earlier (its begin index is set).
pub(super) fn in_batch(function_type: &WrappedFunctionType) -> bool {
    matches!(
        function_type,
        WrappedFunctionType::WriteRemoteBatched(Some(_)) | WrappedFunctionType::WriteRemoteTransaction(Some(_))
    )
}
