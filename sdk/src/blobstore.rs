//! Blob storage (`wasi:blobstore`): containers of named objects, read whole,
//! by inclusive byte range or as a stream, written whole or as a stream,
//! listed, copied and moved.
//!
//! As with key-value storage, the executor journals every call; nothing here
//! journals again.
//!
//! ```no_run
//! use std::io::{Read, Write};
//! use reprise::blobstore::{Container, ObjectId};
//!
//! # fn main() -> Result<(), reprise::blobstore::BlobError> {
//! let docs = Container::open_or_create("documents")?;
//! docs.write("readme.txt", b"hello, world")?;
//! assert_eq!(docs.read_range("readme.txt", 0..=4)?, b"hello");
//!
//! // Large objects stream through std::io.
//! let mut w = docs.writer("big.bin")?;
//! w.write_all(&[0u8; 100_000]).unwrap();
//! w.finish()?;
//! let mut total = 0;
//! let mut r = docs.reader("big.bin")?;
//! let mut buf = [0u8; 8192];
//! loop {
//!     let n = r.read(&mut buf).unwrap();
//!     if n == 0 { break }
//!     total += n;
//! }
//! assert_eq!(total, 100_000);
//!
//! for name in docs.objects()? {
//!     println!("{}", name?);
//! }
//! reprise::blobstore::copy(&ObjectId::new("documents", "readme.txt"), &ObjectId::new("archive", "readme.txt"))?;
//! # Ok(()) }
//! ```

use std::fmt;
use std::io;
use std::ops::RangeInclusive;

use crate::bindings::wasi::blobstore::blobstore;
use crate::bindings::wasi::blobstore::container::{self, StreamObjectNames};
use crate::bindings::wasi::blobstore::types::{self, IncomingValue, OutgoingValue};
use crate::streams::{StreamReader, StreamWriter};

/// What went wrong in a blob-store operation.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum BlobErrorKind {
    /// The store refused the operation (a missing container or object, say);
    /// the text is the store's message.
    Store(String),
    /// A byte range whose start is after its end.
    InvalidRange {
        /// First byte asked for.
        start: u64,
        /// Last byte asked for.
        end: u64,
    },
    /// Reading or writing a streamed body failed.
    Stream(String),
}

/// A failed blob-store operation: which operation, on which container and
/// object, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobError {
    operation: &'static str,
    container: String,
    object: Option<String>,
    kind: BlobErrorKind,
}

impl BlobError {
    fn new(operation: &'static str, container: &str, object: Option<&str>, kind: BlobErrorKind) -> Self {
        BlobError { operation, container: container.to_string(), object: object.map(str::to_string), kind }
    }

    fn store(operation: &'static str, container: &str, object: Option<&str>, message: String) -> Self {
        Self::new(operation, container, object, BlobErrorKind::Store(message))
    }

    /// The operation that failed (`get-data`, `create-container`, ...).
    pub fn operation(&self) -> &str {
        self.operation
    }

    /// The container it was applied to.
    pub fn container(&self) -> &str {
        &self.container
    }

    /// The object, for single-object operations.
    pub fn object(&self) -> Option<&str> {
        self.object.as_deref()
    }

    /// Why it failed.
    pub fn kind(&self) -> &BlobErrorKind {
        &self.kind
    }
}

impl fmt::Display for BlobError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "blob-store {} in container `{}`", self.operation, self.container)?;
        if let Some(object) = &self.object {
            write!(f, " (object `{object}`)")?;
        }
        match &self.kind {
            BlobErrorKind::Store(message) => write!(f, " failed: {message}"),
            BlobErrorKind::InvalidRange { start, end } => {
                write!(f, ": invalid byte range {start}..={end}: the start is after the end")
            }
            BlobErrorKind::Stream(e) => write!(f, ": streaming the object failed: {e}"),
        }
    }
}

impl std::error::Error for BlobError {}

/// A container's metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerInfo {
    /// The container's name.
    pub name: String,
    /// When it was created, in seconds since the Unix epoch.
    pub created_at: u64,
}

/// An object's metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectInfo {
    /// The object's name.
    pub name: String,
    /// The container holding it.
    pub container: String,
    /// When it was written, in seconds since the Unix epoch.
    pub created_at: u64,
    /// Its size in bytes.
    pub size: u64,
}

/// An object named by container and object name, for [`copy`] and [`move_object`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ObjectId {
    /// The container's name.
    pub container: String,
    /// The object's name in it.
    pub object: String,
}

impl ObjectId {
    /// The object `object` in container `container`.
    pub fn new(container: impl Into<String>, object: impl Into<String>) -> Self {
        ObjectId { container: container.into(), object: object.into() }
    }

    fn raw(&self) -> types::ObjectId {
        types::ObjectId { container: self.container.clone(), object: self.object.clone() }
    }
}

/// Whether a container called `name` exists.
pub fn container_exists(name: &str) -> Result<bool, BlobError> {
    blobstore::container_exists(name).map_err(|e| BlobError::store("container-exists", name, None, e))
}

/// Delete the container called `name` and everything in it.
pub fn delete_container(name: &str) -> Result<(), BlobError> {
    blobstore::delete_container(name).map_err(|e| BlobError::store("delete-container", name, None, e))
}

/// Copy an object (within a container or across containers).
pub fn copy(from: &ObjectId, to: &ObjectId) -> Result<(), BlobError> {
    blobstore::copy_object(&from.raw(), &to.raw())
        .map_err(|e| BlobError::store("copy-object", &from.container, Some(&from.object), e))
}

/// Move an object (within a container or across containers).
///
/// Like every remote write, a move interrupted between doing it and
/// recording it is retried after recovery, and the retry finds the source
/// gone. Where that matters, [`copy`] then [`Container::delete`]: both can be
/// repeated safely.
pub fn move_object(from: &ObjectId, to: &ObjectId) -> Result<(), BlobError> {
    blobstore::move_object(&from.raw(), &to.raw())
        .map_err(|e| BlobError::store("move-object", &from.container, Some(&from.object), e))
}

/// An open container.
#[derive(Debug)]
pub struct Container {
    handle: container::Container,
    name: String,
}

impl Container {
    /// Create the container `name`; an error if it exists.
    pub fn create(name: &str) -> Result<Container, BlobError> {
        let handle =
            blobstore::create_container(name).map_err(|e| BlobError::store("create-container", name, None, e))?;
        Ok(Container { handle, name: name.to_string() })
    }

    /// Open the existing container `name`; an error if there is none.
    pub fn open(name: &str) -> Result<Container, BlobError> {
        let handle = blobstore::get_container(name).map_err(|e| BlobError::store("get-container", name, None, e))?;
        Ok(Container { handle, name: name.to_string() })
    }

    /// Open the container `name`, creating it first if it does not exist.
    ///
    /// Safe to repeat: if the creation fails because the container appeared
    /// meanwhile (made by another agent, or by this one before a crash that
    /// kept the creation from being recorded), the container is opened.
    pub fn open_or_create(name: &str) -> Result<Container, BlobError> {
        if container_exists(name)? {
            return Self::open(name);
        }
        Self::create(name).or_else(|created| Self::open(name).map_err(|_| created))
    }

    /// The container's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    fn error(&self, operation: &'static str, object: Option<&str>, message: String) -> BlobError {
        BlobError::store(operation, &self.name, object, message)
    }

    /// The container's metadata.
    pub fn info(&self) -> Result<ContainerInfo, BlobError> {
        let m = self.handle.info().map_err(|e| self.error("info", None, e))?;
        Ok(ContainerInfo { name: m.name, created_at: m.created_at })
    }

    /// Store `data` as object `object`, replacing what was there.
    pub fn write(&self, object: &str, data: &[u8]) -> Result<(), BlobError> {
        let mut w = self.writer(object)?;
        io::Write::write_all(&mut w, data).map_err(|e| {
            BlobError::new("write-data", &self.name, Some(object), BlobErrorKind::Stream(e.to_string()))
        })?;
        w.finish().map(|_| ())
    }

    /// A writer whose bytes become object `object` when
    /// [`finish`](ObjectWriter::finish) is called; dropping it unfinished
    /// stores nothing.
    pub fn writer(&self, object: &str) -> Result<ObjectWriter<'_>, BlobError> {
        let value = OutgoingValue::new_outgoing_value();
        let stream = value.outgoing_value_write_body().map_err(|()| {
            BlobError::new("write-data", &self.name, Some(object), BlobErrorKind::Stream("body already taken".into()))
        })?;
        Ok(ObjectWriter { stream: Some(StreamWriter::new(stream)), value, container: self, object: object.to_string() })
    }

    fn data(&self, object: &str, start: u64, end: u64) -> Result<IncomingValue, BlobError> {
        if start > end {
            return Err(BlobError::new(
                "get-data",
                &self.name,
                Some(object),
                BlobErrorKind::InvalidRange { start, end },
            ));
        }
        self.handle.get_data(object, start, end).map_err(|e| self.error("get-data", Some(object), e))
    }

    /// The whole object.
    pub fn read(&self, object: &str) -> Result<Vec<u8>, BlobError> {
        let size = self.info_of(object)?.size;
        if size == 0 {
            return Ok(Vec::new());
        }
        self.read_range(object, 0..=size - 1)
    }

    /// Bytes `range` of the object; both ends are included, as in the
    /// interface (`0..=9` is the first ten bytes). A range reaching past the
    /// end stops at the end.
    pub fn read_range(&self, object: &str, range: RangeInclusive<u64>) -> Result<Vec<u8>, BlobError> {
        let value = self.data(object, *range.start(), *range.end())?;
        value.incoming_value_consume_sync().map_err(|e| self.error("get-data", Some(object), e))
    }

    /// A reader over the whole object.
    pub fn reader(&self, object: &str) -> Result<ObjectReader, BlobError> {
        let size = self.info_of(object)?.size;
        // An empty object has no byte range to ask for.
        if size == 0 { Ok(ObjectReader::empty()) } else { self.reader_range(object, 0..=size - 1) }
    }

    /// A reader over bytes `range` (inclusive) of the object.
    pub fn reader_range(&self, object: &str, range: RangeInclusive<u64>) -> Result<ObjectReader, BlobError> {
        let value = self.data(object, *range.start(), *range.end())?;
        let size = value.size();
        let stream = value.incoming_value_consume_async().map_err(|e| self.error("get-data", Some(object), e))?;
        Ok(ObjectReader { stream: Some(StreamReader::new(stream)), _value: Some(value), size })
    }

    /// The names of the objects in the container, read from the store in
    /// pages as the iterator advances.
    pub fn objects(&self) -> Result<ObjectNames, BlobError> {
        let stream = self.handle.list_objects().map_err(|e| self.error("list-objects", None, e))?;
        Ok(ObjectNames { stream, page: Vec::new().into_iter(), done: false, container: self.name.clone() })
    }

    /// Delete object `object`.
    pub fn delete(&self, object: &str) -> Result<(), BlobError> {
        self.handle.delete_object(object).map_err(|e| self.error("delete-object", Some(object), e))
    }

    /// Delete several objects in one call.
    pub fn delete_many(&self, objects: &[impl AsRef<str>]) -> Result<(), BlobError> {
        let names: Vec<String> = objects.iter().map(|o| o.as_ref().to_string()).collect();
        self.handle.delete_objects(&names).map_err(|e| self.error("delete-objects", None, e))
    }

    /// Whether object `object` exists.
    pub fn contains(&self, object: &str) -> Result<bool, BlobError> {
        self.handle.has_object(object).map_err(|e| self.error("has-object", Some(object), e))
    }

    /// Object `object`'s metadata.
    pub fn info_of(&self, object: &str) -> Result<ObjectInfo, BlobError> {
        let m = self.handle.object_info(object).map_err(|e| self.error("object-info", Some(object), e))?;
        Ok(ObjectInfo { name: m.name, container: m.container, created_at: m.created_at, size: m.size })
    }

    /// Delete every object in the container.
    pub fn clear(&self) -> Result<(), BlobError> {
        self.handle.clear().map_err(|e| self.error("clear", None, e))
    }
}

/// Streams an object's bytes; see [`Container::reader`].
#[derive(Debug)]
pub struct ObjectReader {
    // Declared before the value it reads: the stream must be dropped first.
    stream: Option<StreamReader>,
    _value: Option<IncomingValue>,
    size: u64,
}

impl ObjectReader {
    fn empty() -> Self {
        ObjectReader { stream: None, _value: None, size: 0 }
    }

    /// The number of bytes this reader yields.
    pub fn size(&self) -> u64 {
        self.size
    }
}

impl io::Read for ObjectReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.stream.as_mut().map_or(Ok(0), |s| s.read(buf))
    }
}

/// Streams bytes into an object; see [`Container::writer`].
#[derive(Debug)]
pub struct ObjectWriter<'c> {
    stream: Option<StreamWriter>,
    value: OutgoingValue,
    container: &'c Container,
    object: String,
}

impl ObjectWriter<'_> {
    /// Store what was written as the object; returns its size.
    pub fn finish(mut self) -> Result<u64, BlobError> {
        let written = self.stream.as_ref().map_or(0, |s| s.written);
        drop(self.stream.take());
        self.container
            .handle
            .write_data(&self.object, &self.value)
            .map_err(|e| self.container.error("write-data", Some(&self.object), e))?;
        Ok(written)
    }
}

impl io::Write for ObjectWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match &mut self.stream {
            Some(s) => s.write(buf),
            None => Err(io::Error::new(io::ErrorKind::BrokenPipe, "the object was already stored")),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        self.stream.as_mut().map_or(Ok(()), io::Write::flush)
    }
}

/// Object names in a container; see [`Container::objects`].
#[derive(Debug)]
pub struct ObjectNames {
    stream: StreamObjectNames,
    page: std::vec::IntoIter<String>,
    done: bool,
    container: String,
}

/// Names asked of the store per page.
const NAMES_PER_PAGE: u64 = 100;

impl Iterator for ObjectNames {
    type Item = Result<String, BlobError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(name) = self.page.next() {
                return Some(Ok(name));
            }
            if self.done {
                return None;
            }
            match self.stream.read_stream_object_names(NAMES_PER_PAGE) {
                Ok((names, end)) => {
                    // An empty page that is not the end would loop forever.
                    self.done = end || names.is_empty();
                    self.page = names.into_iter();
                }
                Err(e) => {
                    self.done = true;
                    return Some(Err(BlobError::store("list-objects", &self.container, None, e)));
                }
            }
        }
    }
}
