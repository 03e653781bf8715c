//! `std::io` adaptors over `wasi:io` streams, shared by the key-value and
//! blob-store streaming bodies.

use std::io;

use crate::bindings::wasi::io::streams::{InputStream, OutputStream, StreamError};

/// `blocking-write-and-flush` accepts at most this many bytes per call.
const WRITE_CHUNK: usize = 4096;
/// Largest read asked of the host at once.
const READ_CHUNK: usize = 64 * 1024;

fn stream_error(e: StreamError) -> io::Error {
    match e {
        StreamError::Closed => io::Error::new(io::ErrorKind::BrokenPipe, "the stream is closed"),
        StreamError::LastOperationFailed(e) => io::Error::other(e.to_debug_string()),
    }
}

/// Reads an input stream to its end.
#[derive(Debug)]
pub(crate) struct StreamReader {
    stream: InputStream,
    /// Bytes received from the host but not yet handed to the caller.
    pending: Vec<u8>,
    done: bool,
}

impl StreamReader {
    pub(crate) fn new(stream: InputStream) -> Self {
        StreamReader { stream, pending: Vec::new(), done: false }
    }
}

impl io::Read for StreamReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        while self.pending.is_empty() && !self.done {
            match self.stream.blocking_read(buf.len().min(READ_CHUNK) as u64) {
                Ok(chunk) => self.pending = chunk,
                Err(StreamError::Closed) => self.done = true,
                Err(e) => return Err(stream_error(e)),
            }
        }
        let n = self.pending.len().min(buf.len());
        buf[..n].copy_from_slice(&self.pending[..n]);
        self.pending.drain(..n);
        Ok(n)
    }
}

/// Writes to an output stream, flushing every chunk.
#[derive(Debug)]
pub(crate) struct StreamWriter {
    stream: OutputStream,
    pub(crate) written: u64,
}

impl StreamWriter {
    pub(crate) fn new(stream: OutputStream) -> Self {
        StreamWriter { stream, written: 0 }
    }
}

impl io::Write for StreamWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = buf.len().min(WRITE_CHUNK);
        self.stream.blocking_write_and_flush(&buf[..n]).map_err(stream_error)?;
        self.written += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.stream.blocking_flush().map_err(stream_error)
    }
}
