//! `wasi:keyvalue@0.1.0`: an in-memory store shared by the agents of one
//! environment. Reads are journaled as `read-remote`, writes as
//! `write-remote` host calls, so replay returns recorded values and does not
//! write again.

use std::collections::BTreeMap;

use wasmtime::component::Resource;
use wasmtime_wasi::p2::pipe::{MemoryInputPipe, MemoryOutputPipe};
use wasmtime_wasi::p2::{DynInputStream, DynOutputStream};

use super::HostState;
use super::names;
use crate::bindings::golem::api::oplog::WrappedFunctionType;
use crate::bindings::wasi::keyvalue::{eventual, eventual_batch, types, wasi_keyvalue_error};
use crate::bindings::{BucketHandle, IncomingValue, KvError, OutgoingValue};
use crate::journal::{Journaled, journaled_record};

/// Largest value a guest may stream into an outgoing value.
const MAX_VALUE_BYTES: usize = 64 * 1024 * 1024;

/// The environment's key-value data, and every write made to it.
#[derive(Debug, Default)]
pub struct KvStore {
    buckets: BTreeMap<String, BTreeMap<String, Vec<u8>>>,
    writes: Vec<KvWrite>,
    /// The agent whose host call holds the store now (for its write log).
    writer: String,
    /// The only buckets that exist, when restricted.
    allowed: Option<std::collections::BTreeSet<String>>,
}

/// One mutation of the key-value store, in order, for side-effect checks.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KvWrite {
    /// The bucket.
    pub bucket: String,
    /// The key.
    pub key: String,
    /// The value written, or `None` for a delete.
    pub value: Option<Vec<u8>>,
    /// The agent that wrote it.
    pub agent: String,
}

impl KvStore {
    pub(crate) fn with_initial(
        entries: &[(String, String, Vec<u8>)],
        allowed: Option<std::collections::BTreeSet<String>>,
    ) -> Self {
        let mut store = KvStore { allowed, ..KvStore::default() };
        for (bucket, key, value) in entries {
            store.buckets.entry(bucket.clone()).or_default().insert(key.clone(), value.clone());
        }
        store
    }

    /// Why bucket `name` cannot be opened, if it cannot.
    fn refuse(&self, name: &str) -> Option<String> {
        if name.is_empty() {
            return Some("a bucket name must not be empty".into());
        }
        let allowed = self.allowed.as_ref()?;
        (!allowed.contains(name)).then(|| {
            let known: Vec<&str> = allowed.iter().map(String::as_str).collect();
            format!("bucket `{name}` does not exist (this store has: {})", known.join(", "))
        })
    }

    /// Contents of every bucket.
    pub fn buckets(&self) -> &BTreeMap<String, BTreeMap<String, Vec<u8>>> {
        &self.buckets
    }

    /// Every write, in order.
    pub fn writes(&self) -> &[KvWrite] {
        &self.writes
    }

    /// The contents, with `writes` as the write log.
    pub(crate) fn copy_with_log(&self, writes: Vec<KvWrite>) -> KvStore {
        KvStore { buckets: self.buckets.clone(), writes, allowed: self.allowed.clone(), writer: String::new() }
    }

    /// Change the store from outside any agent (a test, an operator): not
    /// recorded as an agent's write.
    pub(crate) fn put_external(&mut self, bucket: &str, key: &str, value: Option<Vec<u8>>) {
        let bucket = self.buckets.entry(bucket.into()).or_default();
        match value {
            Some(v) => bucket.insert(key.into(), v),
            None => bucket.remove(key),
        };
    }

    fn set(&mut self, bucket: &str, key: &str, value: Vec<u8>) {
        let agent = self.writer.clone();
        self.writes.push(KvWrite { bucket: bucket.into(), key: key.into(), value: Some(value.clone()), agent });
        self.buckets.entry(bucket.into()).or_default().insert(key.into(), value);
    }

    fn delete(&mut self, bucket: &str, key: &str) {
        let agent = self.writer.clone();
        self.writes.push(KvWrite { bucket: bucket.into(), key: key.into(), value: None, agent });
        if let Some(b) = self.buckets.get_mut(bucket) {
            b.remove(key);
        }
    }

    fn get(&self, bucket: &str, key: &str) -> Option<Vec<u8>> {
        self.buckets.get(bucket).and_then(|b| b.get(key)).cloned()
    }
}

type KvResult<T> = Result<T, Resource<KvError>>;

/// A set as Golem records it: the value's length, not its bytes.
struct SetRequest {
    bucket: String,
    key: String,
    length: u64,
}

journaled_record!(SetRequest { bucket: "bucket", key: "key", length: "length" });

/// A batch set as Golem records it: each key with its value's length.
struct SetManyRequest {
    bucket: String,
    keys: Vec<(String, u64)>,
}

journaled_record!(SetManyRequest { bucket: "bucket", keys: "keys" });

impl HostState {
    fn bucket_name(&self, bucket: &Resource<BucketHandle>) -> wasmtime::Result<String> {
        Ok(self.table.get(bucket)?.name.clone())
    }

    fn kv_error(&mut self, trace: String) -> wasmtime::Result<Resource<KvError>> {
        Ok(self.table.push(KvError { trace })?)
    }

    /// Journal a key-value call; errors are journaled as their trace text
    /// and handed to the guest as error resources.
    fn kv_call<Req: Journaled, T: Journaled>(
        &mut self,
        function: &str,
        function_type: WrappedFunctionType,
        request: &Req,
        run: impl FnOnce(&mut KvStore) -> T,
    ) -> wasmtime::Result<KvResult<T>> {
        let world = self.world.clone();
        let writer = self.agent.name.clone();
        let journaled: Result<T, String> = self.journal.call(function, function_type, request, |_| {
            let mut kv = world.kv();
            kv.writer = writer;
            Ok(run(&mut kv))
        })?;
        match journaled {
            Ok(t) => Ok(Ok(t)),
            Err(trace) => Ok(Err(self.kv_error(trace)?)),
        }
    }

    fn incoming(&mut self, bytes: Option<Vec<u8>>) -> wasmtime::Result<Option<Resource<IncomingValue>>> {
        Ok(match bytes {
            Some(bytes) => Some(self.table.push(IncomingValue { bytes })?),
            None => None,
        })
    }
}

impl types::HostBucket for HostState {
    fn open_bucket(&mut self, name: String) -> wasmtime::Result<KvResult<Resource<BucketHandle>>> {
        let refused = self.world.kv().refuse(&name);
        if let Some(reason) = refused {
            return Ok(Err(self.kv_error(reason)?));
        }
        Ok(Ok(self.table.push(BucketHandle { name })?))
    }

    fn drop(&mut self, rep: Resource<BucketHandle>) -> wasmtime::Result<()> {
        self.table.delete(rep)?;
        Ok(())
    }
}

impl types::HostOutgoingValue for HostState {
    fn new_outgoing_value(&mut self) -> wasmtime::Result<Resource<OutgoingValue>> {
        Ok(self.table.push(OutgoingValue::default())?)
    }

    fn outgoing_value_write_body_async(
        &mut self,
        self_: Resource<OutgoingValue>,
    ) -> wasmtime::Result<KvResult<Resource<DynOutputStream>>> {
        let pipe = MemoryOutputPipe::new(MAX_VALUE_BYTES);
        self.table.get_mut(&self_)?.stream = Some(pipe.clone());
        let stream: DynOutputStream = Box::new(pipe);
        Ok(Ok(self.table.push(stream)?))
    }

    fn outgoing_value_write_body_sync(
        &mut self,
        self_: Resource<OutgoingValue>,
        value: Vec<u8>,
    ) -> wasmtime::Result<KvResult<()>> {
        let v = self.table.get_mut(&self_)?;
        v.body = value;
        v.stream = None;
        Ok(Ok(()))
    }

    fn drop(&mut self, rep: Resource<OutgoingValue>) -> wasmtime::Result<()> {
        self.table.delete(rep)?;
        Ok(())
    }
}

impl types::HostIncomingValue for HostState {
    fn incoming_value_consume_sync(&mut self, self_: Resource<IncomingValue>) -> wasmtime::Result<KvResult<Vec<u8>>> {
        // `self_` is borrowed: take the bytes, the guest drops the handle.
        Ok(Ok(std::mem::take(&mut self.table.get_mut(&self_)?.bytes)))
    }

    fn incoming_value_consume_async(
        &mut self,
        self_: Resource<IncomingValue>,
    ) -> wasmtime::Result<KvResult<Resource<DynInputStream>>> {
        let bytes = std::mem::take(&mut self.table.get_mut(&self_)?.bytes);
        let stream: DynInputStream = Box::new(MemoryInputPipe::new(bytes));
        Ok(Ok(self.table.push(stream)?))
    }

    fn incoming_value_size(&mut self, self_: Resource<IncomingValue>) -> wasmtime::Result<KvResult<u64>> {
        Ok(Ok(self.table.get(&self_)?.bytes.len() as u64))
    }

    fn drop(&mut self, rep: Resource<IncomingValue>) -> wasmtime::Result<()> {
        self.table.delete(rep)?;
        Ok(())
    }
}

impl types::Host for HostState {}

impl wasi_keyvalue_error::HostError for HostState {
    fn trace(&mut self, self_: Resource<KvError>) -> wasmtime::Result<String> {
        Ok(self.table.get(&self_)?.trace.clone())
    }

    fn drop(&mut self, rep: Resource<KvError>) -> wasmtime::Result<()> {
        self.table.delete(rep)?;
        Ok(())
    }
}

impl wasi_keyvalue_error::Host for HostState {}

impl eventual::Host for HostState {
    fn get(
        &mut self,
        bucket: Resource<BucketHandle>,
        key: String,
    ) -> wasmtime::Result<KvResult<Option<Resource<IncomingValue>>>> {
        let name = self.bucket_name(&bucket)?;
        let request = (name, key);
        let (name, key) = &request;
        let found = self.kv_call(names::KV_GET, WrappedFunctionType::ReadRemote, &request, |kv| kv.get(name, key))?;
        match found {
            Ok(bytes) => Ok(Ok(self.incoming(bytes)?)),
            Err(e) => Ok(Err(e)),
        }
    }

    fn set(
        &mut self,
        bucket: Resource<BucketHandle>,
        key: String,
        outgoing_value: Resource<OutgoingValue>,
    ) -> wasmtime::Result<KvResult<()>> {
        let bytes = self.table.get(&outgoing_value)?.bytes();
        let request = SetRequest { bucket: self.bucket_name(&bucket)?, key, length: bytes.len() as u64 };
        let (name, key) = (&request.bucket, &request.key);
        self.kv_call(names::KV_SET, WrappedFunctionType::WriteRemote, &request, |kv| kv.set(name, key, bytes))
    }

    fn delete(&mut self, bucket: Resource<BucketHandle>, key: String) -> wasmtime::Result<KvResult<()>> {
        let request = (self.bucket_name(&bucket)?, key);
        let (name, key) = &request;
        self.kv_call(names::KV_DELETE, WrappedFunctionType::WriteRemote, &request, |kv| kv.delete(name, key))
    }

    fn exists(&mut self, bucket: Resource<BucketHandle>, key: String) -> wasmtime::Result<KvResult<bool>> {
        let request = (self.bucket_name(&bucket)?, key);
        let (name, key) = &request;
        self.kv_call(names::KV_EXISTS, WrappedFunctionType::ReadRemote, &request, |kv| kv.get(name, key).is_some())
    }
}

impl eventual_batch::Host for HostState {
    fn get_many(
        &mut self,
        bucket: Resource<BucketHandle>,
        keys: Vec<String>,
    ) -> wasmtime::Result<KvResult<Vec<Option<Resource<IncomingValue>>>>> {
        let request = (self.bucket_name(&bucket)?, keys);
        let (name, keys) = &request;
        let found = self.kv_call(names::KV_GET_MANY, WrappedFunctionType::ReadRemote, &request, |kv| {
            keys.iter().map(|k| kv.get(name, k)).collect::<Vec<_>>()
        })?;
        match found {
            Ok(values) => Ok(Ok(values.into_iter().map(|v| self.incoming(v)).collect::<wasmtime::Result<_>>()?)),
            Err(e) => Ok(Err(e)),
        }
    }

    fn keys(&mut self, bucket: Resource<BucketHandle>) -> wasmtime::Result<KvResult<Vec<String>>> {
        let request = (self.bucket_name(&bucket)?,);
        let name = &request.0;
        self.kv_call(names::KV_KEYS, WrappedFunctionType::ReadRemote, &request, |kv| {
            kv.buckets.get(name).map(|b| b.keys().cloned().collect()).unwrap_or_default()
        })
    }

    fn set_many(
        &mut self,
        bucket: Resource<BucketHandle>,
        key_values: Vec<(String, Resource<OutgoingValue>)>,
    ) -> wasmtime::Result<KvResult<()>> {
        let mut pairs = Vec::with_capacity(key_values.len());
        for (k, v) in &key_values {
            pairs.push((k.clone(), self.table.get(v)?.bytes()));
        }
        let request = SetManyRequest {
            bucket: self.bucket_name(&bucket)?,
            keys: pairs.iter().map(|(k, v)| (k.clone(), v.len() as u64)).collect(),
        };
        let name = &request.bucket;
        self.kv_call(names::KV_SET_MANY, WrappedFunctionType::WriteRemote, &request, |kv| {
            for (k, v) in pairs {
                kv.set(name, &k, v);
            }
        })
    }

    fn delete_many(&mut self, bucket: Resource<BucketHandle>, keys: Vec<String>) -> wasmtime::Result<KvResult<()>> {
        let request = (self.bucket_name(&bucket)?, keys);
        let (name, keys) = &request;
        self.kv_call(names::KV_DELETE_MANY, WrappedFunctionType::WriteRemote, &request, |kv| {
            for k in keys {
                kv.delete(name, k);
            }
        })
    }
}
