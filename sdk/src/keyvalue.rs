//! Key-value storage (`wasi:keyvalue@0.1.0`): buckets of byte values, typed
//! views over them, batches, and streaming bodies for large values.
//!
//! The executor journals every call (reads as remote reads, writes as remote
//! writes), so a replayed agent sees the values its live run saw and does not
//! write twice; these wrappers add no journaling of their own.
//!
//! ```no_run
//! use reprise::keyvalue::Bucket;
//!
//! #[derive(serde::Serialize, serde::Deserialize)]
//! struct Cart { items: Vec<String> }
//!
//! # fn main() -> Result<(), reprise::keyvalue::KvError> {
//! let carts = Bucket::open("carts")?.typed::<Cart>();
//! let mut cart = carts.get("alice")?.unwrap_or(Cart { items: vec![] });
//! cart.items.push("tea".into());
//! carts.set("alice", &cart)?;
//!
//! // Raw bytes, batches and streams on the bucket itself:
//! let raw = Bucket::open("raw")?;
//! raw.set("greeting", b"hello")?;
//! assert_eq!(raw.get_many(&["greeting", "missing"])?, vec![Some(b"hello".to_vec()), None]);
//! let mut w = raw.writer("big")?;
//! std::io::copy(&mut std::io::repeat(7).take(1 << 20), &mut w).unwrap();
//! w.finish()?;
//! # use std::io::Read;
//! # Ok(()) }
//! ```

use std::fmt;
use std::io;
use std::marker::PhantomData;

use crate::bindings::wasi::keyvalue::types::{self, IncomingValue, OutgoingValue};
use crate::bindings::wasi::keyvalue::{eventual, eventual_batch};
use crate::codec::Codec;
use crate::streams::{StreamReader, StreamWriter};

/// What went wrong in a key-value operation.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum KvErrorKind {
    /// The store refused the operation; the text is the store's trace.
    Store(String),
    /// The value could not be encoded by the bucket's codec.
    Encode(String),
    /// The stored bytes could not be decoded by the bucket's codec.
    Decode(String),
    /// Reading or writing a streamed body failed.
    Stream(String),
}

/// A failed key-value operation: which operation, on which bucket and key,
/// and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KvError {
    operation: &'static str,
    bucket: String,
    key: Option<String>,
    kind: KvErrorKind,
}

impl KvError {
    fn new(operation: &'static str, bucket: &str, key: Option<&str>, kind: KvErrorKind) -> Self {
        KvError { operation, bucket: bucket.to_string(), key: key.map(str::to_string), kind }
    }

    fn store(operation: &'static str, bucket: &str, key: Option<&str>, e: types::Error) -> Self {
        Self::new(operation, bucket, key, KvErrorKind::Store(e.trace()))
    }

    /// The operation that failed (`get`, `set`, `open-bucket`, ...).
    pub fn operation(&self) -> &str {
        self.operation
    }

    /// The bucket it was applied to.
    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// The key, for single-key operations.
    pub fn key(&self) -> Option<&str> {
        self.key.as_deref()
    }

    /// Why it failed.
    pub fn kind(&self) -> &KvErrorKind {
        &self.kind
    }
}

impl fmt::Display for KvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "key-value {} in bucket `{}`", self.operation, self.bucket)?;
        if let Some(key) = &self.key {
            write!(f, " (key `{key}`)")?;
        }
        match &self.kind {
            KvErrorKind::Store(trace) => write!(f, " failed: {trace}"),
            KvErrorKind::Encode(e) => write!(f, ": cannot encode the value: {e}"),
            KvErrorKind::Decode(e) => write!(f, ": cannot decode the stored value: {e}"),
            KvErrorKind::Stream(e) => write!(f, ": streaming the value failed: {e}"),
        }
    }
}

impl std::error::Error for KvError {}

/// An open bucket of byte values.
#[derive(Debug)]
pub struct Bucket {
    handle: types::Bucket,
    name: String,
}

impl Bucket {
    /// Open the bucket called `name`.
    pub fn open(name: &str) -> Result<Bucket, KvError> {
        let handle = types::Bucket::open_bucket(name).map_err(|e| KvError::store("open-bucket", name, None, e))?;
        Ok(Bucket { handle, name: name.to_string() })
    }

    /// The bucket's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    fn incoming(&self, operation: &'static str, key: &str) -> Result<Option<IncomingValue>, KvError> {
        eventual::get(&self.handle, key).map_err(|e| KvError::store(operation, &self.name, Some(key), e))
    }

    /// The value stored under `key`, if any.
    pub fn get(&self, key: &str) -> Result<Option<Vec<u8>>, KvError> {
        let Some(value) = self.incoming("get", key)? else { return Ok(None) };
        let bytes = value.incoming_value_consume_sync().map_err(|e| KvError::store("get", &self.name, Some(key), e))?;
        Ok(Some(bytes))
    }

    /// Store `value` under `key`, replacing what was there.
    pub fn set(&self, key: &str, value: &[u8]) -> Result<(), KvError> {
        let outgoing = OutgoingValue::new_outgoing_value();
        outgoing.outgoing_value_write_body_sync(value).map_err(|e| KvError::store("set", &self.name, Some(key), e))?;
        eventual::set(&self.handle, key, &outgoing).map_err(|e| KvError::store("set", &self.name, Some(key), e))
    }

    /// Remove `key`; removing a missing key is not an error.
    pub fn delete(&self, key: &str) -> Result<(), KvError> {
        eventual::delete(&self.handle, key).map_err(|e| KvError::store("delete", &self.name, Some(key), e))
    }

    /// Whether `key` has a value.
    pub fn exists(&self, key: &str) -> Result<bool, KvError> {
        eventual::exists(&self.handle, key).map_err(|e| KvError::store("exists", &self.name, Some(key), e))
    }

    /// The size in bytes of the value under `key`, if any.
    pub fn size(&self, key: &str) -> Result<Option<u64>, KvError> {
        let Some(value) = self.incoming("size", key)? else { return Ok(None) };
        let size = value.incoming_value_size().map_err(|e| KvError::store("size", &self.name, Some(key), e))?;
        Ok(Some(size))
    }

    /// The values of `keys`, in order; `None` where a key has no value.
    pub fn get_many(&self, keys: &[impl AsRef<str>]) -> Result<Vec<Option<Vec<u8>>>, KvError> {
        let keys: Vec<String> = keys.iter().map(|k| k.as_ref().to_string()).collect();
        let values = eventual_batch::get_many(&self.handle, &keys)
            .map_err(|e| KvError::store("get-many", &self.name, None, e))?;
        values
            .into_iter()
            .zip(&keys)
            .map(|(v, key)| match v {
                None => Ok(None),
                Some(v) => v
                    .incoming_value_consume_sync()
                    .map(Some)
                    .map_err(|e| KvError::store("get-many", &self.name, Some(key), e)),
            })
            .collect()
    }

    /// Store several values in one call.
    pub fn set_many<K: AsRef<str>, V: AsRef<[u8]>>(
        &self,
        entries: impl IntoIterator<Item = (K, V)>,
    ) -> Result<(), KvError> {
        let mut keys = Vec::new();
        let mut values = Vec::new();
        for (k, v) in entries {
            let outgoing = OutgoingValue::new_outgoing_value();
            outgoing
                .outgoing_value_write_body_sync(v.as_ref())
                .map_err(|e| KvError::store("set-many", &self.name, Some(k.as_ref()), e))?;
            keys.push(k.as_ref().to_string());
            values.push(outgoing);
        }
        let pairs: Vec<(String, &OutgoingValue)> = keys.into_iter().zip(values.iter()).collect();
        eventual_batch::set_many(&self.handle, &pairs).map_err(|e| KvError::store("set-many", &self.name, None, e))
    }

    /// Remove several keys in one call.
    pub fn delete_many(&self, keys: &[impl AsRef<str>]) -> Result<(), KvError> {
        let keys: Vec<String> = keys.iter().map(|k| k.as_ref().to_string()).collect();
        eventual_batch::delete_many(&self.handle, &keys).map_err(|e| KvError::store("delete-many", &self.name, None, e))
    }

    /// Every key in the bucket.
    pub fn keys(&self) -> Result<Vec<String>, KvError> {
        eventual_batch::keys(&self.handle).map_err(|e| KvError::store("keys", &self.name, None, e))
    }

    /// A reader over the value under `key` (`None` if there is none), for
    /// values too large to hold twice in memory.
    pub fn reader(&self, key: &str) -> Result<Option<ValueReader>, KvError> {
        let Some(value) = self.incoming("get", key)? else { return Ok(None) };
        let size = value.incoming_value_size().map_err(|e| KvError::store("get", &self.name, Some(key), e))?;
        let stream =
            value.incoming_value_consume_async().map_err(|e| KvError::store("get", &self.name, Some(key), e))?;
        Ok(Some(ValueReader { stream: StreamReader::new(stream), _value: value, size }))
    }

    /// A writer whose bytes are stored under `key` when
    /// [`finish`](ValueWriter::finish) is called; dropping it unfinished
    /// stores nothing.
    pub fn writer(&self, key: &str) -> Result<ValueWriter<'_>, KvError> {
        let value = OutgoingValue::new_outgoing_value();
        let stream =
            value.outgoing_value_write_body_async().map_err(|e| KvError::store("set", &self.name, Some(key), e))?;
        Ok(ValueWriter { stream: Some(StreamWriter::new(stream)), value, bucket: self, key: key.to_string() })
    }

    /// A view of this bucket storing `T` as JSON.
    #[cfg(feature = "json")]
    pub fn typed<T>(self) -> TypedBucket<T, crate::codec::JsonCodec>
    where
        T: serde::Serialize + serde::de::DeserializeOwned,
    {
        self.typed_with()
    }

    /// A view of this bucket storing `T` with codec `C`.
    pub fn typed_with<T, C: Codec<T>>(self) -> TypedBucket<T, C> {
        TypedBucket { bucket: self, _types: PhantomData }
    }
}

/// Streams a stored value; see [`Bucket::reader`].
#[derive(Debug)]
pub struct ValueReader {
    // Declared before the value it reads: the stream must be dropped first.
    stream: StreamReader,
    _value: IncomingValue,
    size: u64,
}

impl ValueReader {
    /// The value's size in bytes.
    pub fn size(&self) -> u64 {
        self.size
    }
}

impl io::Read for ValueReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.stream.read(buf)
    }
}

/// Streams a value into a bucket; see [`Bucket::writer`].
#[derive(Debug)]
pub struct ValueWriter<'b> {
    stream: Option<StreamWriter>,
    value: OutgoingValue,
    bucket: &'b Bucket,
    key: String,
}

impl ValueWriter<'_> {
    /// Store what was written; returns the number of bytes stored.
    pub fn finish(mut self) -> Result<u64, KvError> {
        let written = self.stream.as_ref().map_or(0, |s| s.written);
        // The body stream is closed before the value is handed to the store.
        drop(self.stream.take());
        eventual::set(&self.bucket.handle, &self.key, &self.value)
            .map_err(|e| KvError::store("set", &self.bucket.name, Some(&self.key), e))?;
        Ok(written)
    }
}

impl io::Write for ValueWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match &mut self.stream {
            Some(s) => s.write(buf),
            None => Err(io::Error::new(io::ErrorKind::BrokenPipe, "the value was already stored")),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        self.stream.as_mut().map_or(Ok(()), io::Write::flush)
    }
}

/// A bucket holding values of one type `T`, encoded with codec `C`; made by
/// [`Bucket::typed`] or [`Bucket::typed_with`]. The type parameter keeps one
/// bucket from being read as two different types by accident.
pub struct TypedBucket<T, C> {
    bucket: Bucket,
    _types: PhantomData<fn() -> (T, C)>,
}

impl<T, C> fmt::Debug for TypedBucket<T, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TypedBucket")
            .field("bucket", &self.bucket.name)
            .field("type", &std::any::type_name::<T>())
            .finish()
    }
}

impl<T, C: Codec<T>> TypedBucket<T, C> {
    /// The untyped bucket underneath.
    pub fn bucket(&self) -> &Bucket {
        &self.bucket
    }

    fn encode(&self, operation: &'static str, key: &str, value: &T) -> Result<Vec<u8>, KvError> {
        C::encode(value).map_err(|e| {
            KvError::new(operation, &self.bucket.name, Some(key), KvErrorKind::Encode(format!("{}: {e}", C::NAME)))
        })
    }

    fn decode(&self, operation: &'static str, key: &str, bytes: &[u8]) -> Result<T, KvError> {
        C::decode(bytes).map_err(|e| {
            KvError::new(operation, &self.bucket.name, Some(key), KvErrorKind::Decode(format!("{}: {e}", C::NAME)))
        })
    }

    /// The value under `key`, decoded.
    pub fn get(&self, key: &str) -> Result<Option<T>, KvError> {
        match self.bucket.get(key)? {
            Some(bytes) => self.decode("get", key, &bytes).map(Some),
            None => Ok(None),
        }
    }

    /// Store `value` under `key`.
    pub fn set(&self, key: &str, value: &T) -> Result<(), KvError> {
        let bytes = self.encode("set", key, value)?;
        self.bucket.set(key, &bytes)
    }

    /// Remove `key`.
    pub fn delete(&self, key: &str) -> Result<(), KvError> {
        self.bucket.delete(key)
    }

    /// Whether `key` has a value.
    pub fn exists(&self, key: &str) -> Result<bool, KvError> {
        self.bucket.exists(key)
    }

    /// Every key in the bucket.
    pub fn keys(&self) -> Result<Vec<String>, KvError> {
        self.bucket.keys()
    }

    /// The values of `keys`, in order, decoded.
    pub fn get_many(&self, keys: &[impl AsRef<str>]) -> Result<Vec<Option<T>>, KvError> {
        let values = self.bucket.get_many(keys)?;
        values
            .into_iter()
            .zip(keys)
            .map(|(v, key)| v.map(|bytes| self.decode("get-many", key.as_ref(), &bytes)).transpose())
            .collect()
    }

    /// Store several values in one call.
    pub fn set_many<'a, K: AsRef<str>>(&self, entries: impl IntoIterator<Item = (K, &'a T)>) -> Result<(), KvError>
    where
        T: 'a,
    {
        let encoded = entries
            .into_iter()
            .map(|(k, v)| Ok((k.as_ref().to_string(), self.encode("set-many", k.as_ref(), v)?)))
            .collect::<Result<Vec<_>, KvError>>()?;
        self.bucket.set_many(encoded)
    }

    /// Remove several keys in one call.
    pub fn delete_many(&self, keys: &[impl AsRef<str>]) -> Result<(), KvError> {
        self.bucket.delete_many(keys)
    }

    /// Read the value under `key` (or `None`), change it with `f`, store the
    /// result, and return it.
    ///
    /// The read is committed to the oplog before the write: Golem buffers
    /// reads, and a crash after the write but before its commit would
    /// otherwise lose the read, run it again, see the value already changed
    /// and change it twice. Committed, the read is replayed and the write
    /// repeated identically.
    pub fn update(&self, key: &str, f: impl FnOnce(Option<T>) -> T) -> Result<T, KvError> {
        let current = self.get(key)?;
        crate::guards::commit_oplog(1);
        let value = f(current);
        self.set(key, &value)?;
        Ok(value)
    }
}
