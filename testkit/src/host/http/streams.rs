//! `wasi:io/streams` over wasmtime-wasi's, with the streams of an open
//! exchange journaled as Golem does (durable_host/io/streams.rs): reading
//! the response body and writing the request body after `handle` are steps
//! of the exchange; the response body read to its end hands the exchange
//! back to the body. Other streams pass straight through.

use wasmtime::component::{HasSelf, Linker, Resource};
use wasmtime_wasi::p2::bindings::sync::io::poll::Pollable;
use wasmtime_wasi::p2::bindings::sync::io::streams::{self, InputStream, OutputStream};
use wasmtime_wasi::p2::{StreamError, StreamResult};

use super::exchange::{Exchange, Holder};
use crate::host::HostState;
use crate::host::names;

pub(super) fn add_to_linker(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    streams::add_to_linker::<_, HasSelf<_>>(linker, |s| s)
}

/// How a failed stream operation is recorded: `closed`, or
/// `last-operation-failed: <reason>` (Golem's `SerializableStreamError`).
const CLOSED: &str = "closed";
const FAILED: &str = "last-operation-failed: ";

/// A stream result as recorded; a trap is raised, not recorded.
fn recorded<T>(result: StreamResult<T>) -> wasmtime::Result<Result<T, String>> {
    match result {
        Ok(value) => Ok(Ok(value)),
        Err(StreamError::Closed) => Ok(Err(CLOSED.into())),
        Err(StreamError::LastOperationFailed(e)) => Ok(Err(format!("{FAILED}{e:#}"))),
        Err(StreamError::Trap(e)) => Err(e),
    }
}

/// A recorded stream result back as the guest saw it.
fn restored<T>(result: Result<T, String>) -> StreamResult<T> {
    result.map_err(|text| match text.strip_prefix(FAILED) {
        Some(reason) => StreamError::LastOperationFailed(wasmtime::format_err!("{reason}")),
        None => StreamError::Closed,
    })
}

impl HostState {
    /// One journaled stream operation of `exchange`; a trap is raised
    /// before anything is recorded.
    fn stream_step<T: crate::journal::Journaled>(
        &mut self,
        function: &str,
        exchange: &Exchange,
        live: impl FnOnce(&mut HostState) -> StreamResult<T>,
    ) -> StreamResult<T> {
        let result = self.exchange_step(function, exchange, |state| recorded(live(state)));
        restored(result.map_err(StreamError::Trap)?)
    }

    /// A read-like step of the response body `stream` (`function`); at the
    /// end of the body the exchange passes back to the body.
    fn body_read<T: crate::journal::Journaled>(
        &mut self,
        function: &str,
        stream: u32,
        live: impl FnOnce(&mut HostState) -> StreamResult<T>,
    ) -> Option<StreamResult<T>> {
        let exchange = self.exchanges.held_as(stream, Holder::Stream)?.clone();
        let result = self.stream_step(function, &exchange, live);
        if let Err(StreamError::Closed) = &result {
            // The body the stream came from holds the exchange again.
            match exchange.response_body {
                Some(body) => self.exchanges.pass(stream, body, Holder::Body),
                None => {
                    if let Err(e) = self.end_exchange(stream) {
                        return Some(Err(StreamError::Trap(e)));
                    }
                }
            }
        }
        Some(result)
    }
}

impl streams::Host for HostState {
    fn convert_stream_error(&mut self, err: StreamError) -> wasmtime::Result<streams::StreamError> {
        streams::Host::convert_stream_error(&mut self.table, err)
    }
}

impl streams::HostInputStream for HostState {
    fn read(&mut self, stream: Resource<InputStream>, len: u64) -> StreamResult<Vec<u8>> {
        let rep = stream.rep();
        match self.body_read(names::HTTP_BODY_READ, rep, |s| streams::HostInputStream::read(&mut s.table, stream, len))
        {
            Some(result) => result,
            None => streams::HostInputStream::read(&mut self.table, Resource::new_borrow(rep), len),
        }
    }

    fn blocking_read(&mut self, stream: Resource<InputStream>, len: u64) -> StreamResult<Vec<u8>> {
        let rep = stream.rep();
        let live = |s: &mut HostState| streams::HostInputStream::blocking_read(&mut s.table, stream, len);
        match self.body_read(names::HTTP_BODY_BLOCKING_READ, rep, live) {
            Some(result) => result,
            None => streams::HostInputStream::blocking_read(&mut self.table, Resource::new_borrow(rep), len),
        }
    }

    fn skip(&mut self, stream: Resource<InputStream>, len: u64) -> StreamResult<u64> {
        let rep = stream.rep();
        match self.body_read(names::HTTP_BODY_SKIP, rep, |s| streams::HostInputStream::skip(&mut s.table, stream, len))
        {
            Some(result) => result,
            None => streams::HostInputStream::skip(&mut self.table, Resource::new_borrow(rep), len),
        }
    }

    fn blocking_skip(&mut self, stream: Resource<InputStream>, len: u64) -> StreamResult<u64> {
        let rep = stream.rep();
        let live = |s: &mut HostState| streams::HostInputStream::blocking_skip(&mut s.table, stream, len);
        match self.body_read(names::HTTP_BODY_BLOCKING_SKIP, rep, live) {
            Some(result) => result,
            None => streams::HostInputStream::blocking_skip(&mut self.table, Resource::new_borrow(rep), len),
        }
    }

    fn subscribe(&mut self, stream: Resource<InputStream>) -> wasmtime::Result<Resource<Pollable>> {
        streams::HostInputStream::subscribe(&mut self.table, stream)
    }

    fn drop(&mut self, stream: Resource<InputStream>) -> wasmtime::Result<()> {
        if self.exchanges.held_as(stream.rep(), Holder::Stream).is_some() {
            self.end_exchange(stream.rep())?;
        }
        streams::HostInputStream::drop(&mut self.table, stream)
    }
}

/// Run `$live` on the table, journaled as `$function` when `$stream`
/// writes the body of an open exchange.
macro_rules! body_write {
    ($self:ident, $stream:ident, $function:expr, |$table:ident, $s:ident| $live:expr) => {{
        let rep = $stream.rep();
        match $self.exchanges.writing_to(rep).cloned() {
            Some(exchange) => $self.stream_step($function, &exchange, |state| {
                let $table = &mut state.table;
                let $s = $stream;
                $live
            }),
            None => {
                let $table = &mut $self.table;
                let $s = $stream;
                $live
            }
        }
    }};
}

impl streams::HostOutputStream for HostState {
    fn check_write(&mut self, stream: Resource<OutputStream>) -> StreamResult<u64> {
        body_write!(self, stream, names::HTTP_BODY_CHECK_WRITE, |t, s| streams::HostOutputStream::check_write(t, s))
    }

    fn write(&mut self, stream: Resource<OutputStream>, bytes: Vec<u8>) -> StreamResult<()> {
        // Golem records the bytes written.
        body_write!(self, stream, names::HTTP_BODY_WRITE, |t, s| {
            streams::HostOutputStream::write(t, s, bytes.clone()).map(|()| bytes)
        })
        .map(|_| ())
    }

    fn blocking_write_and_flush(&mut self, stream: Resource<OutputStream>, bytes: Vec<u8>) -> StreamResult<()> {
        body_write!(self, stream, names::HTTP_BODY_WRITE, |t, s| {
            streams::HostOutputStream::blocking_write_and_flush(t, s, bytes.clone()).map(|()| bytes)
        })
        .map(|_| ())
    }

    fn blocking_write_zeroes_and_flush(&mut self, stream: Resource<OutputStream>, len: u64) -> StreamResult<()> {
        body_write!(self, stream, names::HTTP_BODY_WRITE_ZEROES, |t, s| {
            streams::HostOutputStream::blocking_write_zeroes_and_flush(t, s, len)
        })
    }

    fn write_zeroes(&mut self, stream: Resource<OutputStream>, len: u64) -> StreamResult<()> {
        body_write!(self, stream, names::HTTP_BODY_WRITE_ZEROES, |t, s| streams::HostOutputStream::write_zeroes(
            t, s, len
        ))
    }

    fn flush(&mut self, stream: Resource<OutputStream>) -> StreamResult<()> {
        body_write!(self, stream, names::HTTP_BODY_FLUSH, |t, s| streams::HostOutputStream::flush(t, s))
    }

    fn blocking_flush(&mut self, stream: Resource<OutputStream>) -> StreamResult<()> {
        body_write!(self, stream, names::HTTP_BODY_BLOCKING_FLUSH, |t, s| streams::HostOutputStream::blocking_flush(
            t, s
        ))
    }

    fn subscribe(&mut self, stream: Resource<OutputStream>) -> wasmtime::Result<Resource<Pollable>> {
        streams::HostOutputStream::subscribe(&mut self.table, stream)
    }

    // Splicing into a request body is not journaled (Golem journals it as a
    // skip); no Rust HTTP client the testkit knows of splices.
    fn splice(&mut self, dst: Resource<OutputStream>, src: Resource<InputStream>, len: u64) -> StreamResult<u64> {
        streams::HostOutputStream::splice(&mut self.table, dst, src, len)
    }

    fn blocking_splice(
        &mut self,
        dst: Resource<OutputStream>,
        src: Resource<InputStream>,
        len: u64,
    ) -> StreamResult<u64> {
        streams::HostOutputStream::blocking_splice(&mut self.table, dst, src, len)
    }

    fn drop(&mut self, stream: Resource<OutputStream>) -> wasmtime::Result<()> {
        self.exchanges.stream_gone(stream.rep());
        streams::HostOutputStream::drop(&mut self.table, stream)
    }
}
