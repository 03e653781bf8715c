//! `wasi:keyvalue@0.1.0`: an in-memory store shared by the agents of one
//! environment. Reads are journaled as `read-remote`, writes as
//! `write-remote` host calls, so replay returns recorded values and does not
//! write again.

use std::collections::BTreeMap;

use wasmtime::component::Resource;
use wasmtime_wasi::p2::pipe::{MemoryInputPipe, MemoryOutputPipe};
use wasmtime_wasi::p2::{DynInputStream, DynOutputStream};

use super::HostState;
use super::bindings::golem::api::oplog::WrappedFunctionType;
use super::bindings::wasi::keyvalue::{eventual, eventual_batch, types, wasi_keyvalue_error};
use crate::value::{Type, Value};

/// Largest value a guest may stream into an outgoing value.
const MAX_VALUE_BYTES: usize = 64 * 1024 * 1024;

/// An open bucket.
#[derive(Debug)]
pub struct BucketHandle {
    name: String,
}

/// A value being written by the guest.
#[derive(Debug, Default)]
pub struct OutgoingValue {
    body: Vec<u8>,
    stream: Option<MemoryOutputPipe>,
}

impl OutgoingValue {
    fn bytes(&self) -> Vec<u8> {
        match &self.stream {
            Some(pipe) => pipe.contents().to_vec(),
            None => self.body.clone(),
        }
    }
}

/// A value read by the guest.
#[derive(Debug)]
pub struct IncomingValue {
    bytes: Vec<u8>,
}

/// A key-value error with its trace text.
#[derive(Debug)]
pub struct KvError {
    trace: String,
}

/// The environment's key-value data, and every write made to it.
#[derive(Debug, Default)]
pub struct KvStore {
    buckets: BTreeMap<String, BTreeMap<String, Vec<u8>>>,
    writes: Vec<KvWrite>,
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
        self.writes.push(KvWrite { bucket: bucket.into(), key: key.into(), value: Some(value.clone()) });
        self.buckets.entry(bucket.into()).or_default().insert(key.into(), value);
    }

    fn delete(&mut self, bucket: &str, key: &str) {
        self.writes.push(KvWrite { bucket: bucket.into(), key: key.into(), value: None });
        if let Some(b) = self.buckets.get_mut(bucket) {
            b.remove(key);
        }
    }

    fn get(&self, bucket: &str, key: &str) -> Option<Vec<u8>> {
        self.buckets.get(bucket).and_then(|b| b.get(key)).cloned()
    }
}

type KvResult<T> = Result<T, Resource<KvError>>;

/// The request of a single-key call: `(bucket, key)`.
fn bucket_and_key(bucket: &str, key: &str) -> (Value, Type) {
    (Value::Tuple(vec![Value::string(bucket), Value::string(key)]), Type::Tuple(vec![Type::String, Type::String]))
}

fn strings(items: &[String]) -> Value {
    Value::List(items.iter().map(|s| Value::string(s.clone())).collect())
}

fn strings_type() -> Type {
    Type::List(Box::new(Type::String))
}

impl HostState {
    fn bucket_name(&self, bucket: &Resource<BucketHandle>) -> wasmtime::Result<String> {
        Ok(self.table.get(bucket)?.name.clone())
    }

    fn kv_error(&mut self, trace: String) -> wasmtime::Result<Resource<KvError>> {
        Ok(self.table.push(KvError { trace })?)
    }

    /// Journal a key-value call; errors are journaled as their trace text
    /// and handed to the guest as error resources.
    #[allow(clippy::too_many_arguments)]
    fn kv_call<T>(
        &mut self,
        function: &str,
        function_type: WrappedFunctionType,
        request: (Value, Type),
        run: impl FnOnce(&mut super::journal::Journal) -> Result<T, String>,
        encode: impl Fn(&T) -> Value,
        ok_type: Option<Type>,
        decode: impl Fn(Option<&Value>) -> Option<T>,
    ) -> wasmtime::Result<KvResult<T>> {
        match self.journal.call_fallible(function, function_type, request, run, encode, ok_type, decode)? {
            Ok(t) => Ok(Ok(t)),
            Err(trace) => Ok(Err(self.kv_error(trace)?)),
        }
    }
}

impl types::HostBucket for HostState {
    fn open_bucket(&mut self, name: String) -> wasmtime::Result<KvResult<Resource<BucketHandle>>> {
        let refused = self.shared.kv().refuse(&name);
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
        let shared = self.shared.clone();
        let request = bucket_and_key(&name, &key);
        let found = self.kv_call(
            "wasi:keyvalue/eventual::get",
            WrappedFunctionType::ReadRemote,
            request,
            |_| Ok(shared.kv().get(&name, &key)),
            |v: &Option<Vec<u8>>| Value::option(v.as_deref().map(Value::bytes)),
            Some(Type::option(Type::bytes())),
            |v| match v? {
                Value::Option(inner) => Some(match inner {
                    Some(b) => Some(b.as_bytes()?),
                    None => None,
                }),
                _ => None,
            },
        )?;
        Ok(match found {
            Ok(Some(bytes)) => Ok(Some(self.table.push(IncomingValue { bytes })?)),
            Ok(None) => Ok(None),
            Err(e) => Err(e),
        })
    }

    fn set(
        &mut self,
        bucket: Resource<BucketHandle>,
        key: String,
        outgoing_value: Resource<OutgoingValue>,
    ) -> wasmtime::Result<KvResult<()>> {
        let name = self.bucket_name(&bucket)?;
        let bytes = self.table.get(&outgoing_value)?.bytes();
        let shared = self.shared.clone();
        let request = (
            Value::Tuple(vec![Value::string(name.clone()), Value::string(key.clone()), Value::bytes(&bytes)]),
            Type::Tuple(vec![Type::String, Type::String, Type::bytes()]),
        );
        self.kv_call(
            "wasi:keyvalue/eventual::set",
            WrappedFunctionType::WriteRemote,
            request,
            |_| {
                shared.kv().set(&name, &key, bytes);
                Ok(())
            },
            |_| Value::Tuple(vec![]),
            None,
            |v| v.is_none().then_some(()),
        )
    }

    fn delete(&mut self, bucket: Resource<BucketHandle>, key: String) -> wasmtime::Result<KvResult<()>> {
        let name = self.bucket_name(&bucket)?;
        let shared = self.shared.clone();
        let request = bucket_and_key(&name, &key);
        self.kv_call(
            "wasi:keyvalue/eventual::delete",
            WrappedFunctionType::WriteRemote,
            request,
            |_| {
                shared.kv().delete(&name, &key);
                Ok(())
            },
            |_| Value::Tuple(vec![]),
            None,
            |v| v.is_none().then_some(()),
        )
    }

    fn exists(&mut self, bucket: Resource<BucketHandle>, key: String) -> wasmtime::Result<KvResult<bool>> {
        let name = self.bucket_name(&bucket)?;
        let shared = self.shared.clone();
        let request = bucket_and_key(&name, &key);
        self.kv_call(
            "wasi:keyvalue/eventual::exists",
            WrappedFunctionType::ReadRemote,
            request,
            |_| Ok(shared.kv().get(&name, &key).is_some()),
            |b| Value::Bool(*b),
            Some(Type::Bool),
            |v| v?.as_bool(),
        )
    }
}

impl eventual_batch::Host for HostState {
    fn get_many(
        &mut self,
        bucket: Resource<BucketHandle>,
        keys: Vec<String>,
    ) -> wasmtime::Result<KvResult<Vec<Option<Resource<IncomingValue>>>>> {
        let name = self.bucket_name(&bucket)?;
        let shared = self.shared.clone();
        let request = (
            Value::Tuple(vec![Value::string(name.clone()), strings(&keys)]),
            Type::Tuple(vec![Type::String, strings_type()]),
        );
        let found = self.kv_call(
            "wasi:keyvalue/eventual-batch::get-many",
            WrappedFunctionType::ReadRemote,
            request,
            |_| {
                let kv = shared.kv();
                Ok(keys.iter().map(|k| kv.get(&name, k)).collect::<Vec<_>>())
            },
            |vs: &Vec<Option<Vec<u8>>>| {
                Value::List(vs.iter().map(|v| Value::option(v.as_deref().map(Value::bytes))).collect())
            },
            Some(Type::List(Box::new(Type::option(Type::bytes())))),
            |v| match v? {
                Value::List(items) => items
                    .iter()
                    .map(|i| match i {
                        Value::Option(Some(b)) => b.as_bytes().map(Some),
                        Value::Option(None) => Some(None),
                        _ => None,
                    })
                    .collect(),
                _ => None,
            },
        )?;
        match found {
            Ok(values) => {
                let mut out = Vec::with_capacity(values.len());
                for v in values {
                    out.push(match v {
                        Some(bytes) => Some(self.table.push(IncomingValue { bytes })?),
                        None => None,
                    });
                }
                Ok(Ok(out))
            }
            Err(e) => Ok(Err(e)),
        }
    }

    fn keys(&mut self, bucket: Resource<BucketHandle>) -> wasmtime::Result<KvResult<Vec<String>>> {
        let name = self.bucket_name(&bucket)?;
        let shared = self.shared.clone();
        self.kv_call(
            "wasi:keyvalue/eventual-batch::keys",
            WrappedFunctionType::ReadRemote,
            (Value::Tuple(vec![Value::string(name.clone())]), Type::Tuple(vec![Type::String])),
            |_| Ok(shared.kv().buckets.get(&name).map(|b| b.keys().cloned().collect()).unwrap_or_default()),
            |ks: &Vec<String>| strings(ks),
            Some(strings_type()),
            |v| match v? {
                Value::List(items) => items.iter().map(|i| i.as_str().map(str::to_string)).collect(),
                _ => None,
            },
        )
    }

    fn set_many(
        &mut self,
        bucket: Resource<BucketHandle>,
        key_values: Vec<(String, Resource<OutgoingValue>)>,
    ) -> wasmtime::Result<KvResult<()>> {
        let name = self.bucket_name(&bucket)?;
        let mut pairs = Vec::with_capacity(key_values.len());
        for (k, v) in &key_values {
            pairs.push((k.clone(), self.table.get(v)?.bytes()));
        }
        let shared = self.shared.clone();
        let request = (
            Value::Tuple(vec![
                Value::string(name.clone()),
                Value::List(
                    pairs.iter().map(|(k, v)| Value::Tuple(vec![Value::string(k.clone()), Value::bytes(v)])).collect(),
                ),
            ]),
            Type::Tuple(vec![Type::String, Type::List(Box::new(Type::Tuple(vec![Type::String, Type::bytes()])))]),
        );
        self.kv_call(
            "wasi:keyvalue/eventual-batch::set-many",
            WrappedFunctionType::WriteRemote,
            request,
            |_| {
                let mut kv = shared.kv();
                for (k, v) in pairs {
                    kv.set(&name, &k, v);
                }
                Ok(())
            },
            |_| Value::Tuple(vec![]),
            None,
            |v| v.is_none().then_some(()),
        )
    }

    fn delete_many(&mut self, bucket: Resource<BucketHandle>, keys: Vec<String>) -> wasmtime::Result<KvResult<()>> {
        let name = self.bucket_name(&bucket)?;
        let shared = self.shared.clone();
        let request = (
            Value::Tuple(vec![Value::string(name.clone()), strings(&keys)]),
            Type::Tuple(vec![Type::String, strings_type()]),
        );
        self.kv_call(
            "wasi:keyvalue/eventual-batch::delete-many",
            WrappedFunctionType::WriteRemote,
            request,
            |_| {
                let mut kv = shared.kv();
                for k in &keys {
                    kv.delete(&name, k);
                }
                Ok(())
            },
            |_| Value::Tuple(vec![]),
            None,
            |v| v.is_none().then_some(()),
        )
    }
}
