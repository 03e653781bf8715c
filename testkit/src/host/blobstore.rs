//! `wasi:blobstore`: in-memory containers shared by the agents of one
//! environment, journaled like the key-value store (reads `read-remote`,
//! writes `write-remote`).

use std::collections::BTreeMap;

use wasmtime::component::Resource;
use wasmtime_wasi::p2::pipe::{MemoryInputPipe, MemoryOutputPipe};
use wasmtime_wasi::p2::{DynInputStream, DynOutputStream};

use super::HostState;
use super::bindings::golem::api::oplog::WrappedFunctionType;
use super::bindings::wasi::blobstore::{blobstore, container, types};
use super::journal::Journal;
use crate::value::{Type, Value};

/// Largest object a guest may stream into an outgoing value.
const MAX_OBJECT_BYTES: usize = 64 * 1024 * 1024;

/// An open container.
#[derive(Debug)]
pub struct ContainerHandle {
    name: String,
}

/// Object names being listed.
#[derive(Debug)]
pub struct ObjectNames {
    names: Vec<String>,
    next: usize,
}

/// Data being written by the guest.
#[derive(Debug, Default)]
pub struct OutgoingBlob {
    stream: Option<MemoryOutputPipe>,
}

/// Data read by the guest.
#[derive(Debug)]
pub struct IncomingBlob {
    bytes: Vec<u8>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Container {
    created_at: u64,
    objects: BTreeMap<String, Object>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Object {
    data: Vec<u8>,
    created_at: u64,
}

/// One mutation of the blob store, for side-effect checks.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum BlobWrite {
    /// A container was created.
    CreateContainer(String),
    /// A container was deleted.
    DeleteContainer(String),
    /// An object was written (container, object, data).
    Write(String, String, Vec<u8>),
    /// An object was deleted.
    Delete(String, String),
    /// A container was cleared.
    Clear(String),
}

/// The environment's blob containers, and every write made to them.
#[derive(Debug, Default)]
pub struct BlobStore {
    containers: BTreeMap<String, Container>,
    writes: Vec<BlobWrite>,
}

impl BlobStore {
    pub(crate) fn with_initial(objects: &[(String, String, Vec<u8>)]) -> Self {
        let mut store = BlobStore::default();
        for (container, object, data) in objects {
            let c = store.containers.entry(container.clone()).or_default();
            c.objects.insert(object.clone(), Object { data: data.clone(), created_at: 0 });
        }
        store
    }

    /// Contents: container → object → data.
    pub fn contents(&self) -> BTreeMap<String, BTreeMap<String, Vec<u8>>> {
        self.containers
            .iter()
            .map(|(c, cont)| (c.clone(), cont.objects.iter().map(|(o, obj)| (o.clone(), obj.data.clone())).collect()))
            .collect()
    }

    /// Every write, in order.
    pub fn writes(&self) -> &[BlobWrite] {
        &self.writes
    }

    fn container(&self, name: &str) -> Result<&Container, String> {
        self.containers.get(name).ok_or_else(|| format!("container `{name}` does not exist"))
    }

    fn container_mut(&mut self, name: &str) -> Result<&mut Container, String> {
        self.containers.get_mut(name).ok_or_else(|| format!("container `{name}` does not exist"))
    }

    fn object(&self, container: &str, object: &str) -> Result<&Object, String> {
        self.container(container)?
            .objects
            .get(object)
            .ok_or_else(|| format!("object `{object}` does not exist in container `{container}`"))
    }

    fn write(&mut self, container: &str, object: &str, data: Vec<u8>, now: u64) -> Result<(), String> {
        let c = self.container_mut(container)?;
        let created_at = c.objects.get(object).map_or(now, |o| o.created_at);
        c.objects.insert(object.into(), Object { data: data.clone(), created_at });
        self.writes.push(BlobWrite::Write(container.into(), object.into(), data));
        Ok(())
    }

    fn delete(&mut self, container: &str, object: &str) -> Result<(), String> {
        self.container_mut(container)?.objects.remove(object);
        self.writes.push(BlobWrite::Delete(container.into(), object.into()));
        Ok(())
    }
}

fn strs(items: &[&str]) -> (Value, Type) {
    (
        Value::Tuple(items.iter().map(|s| Value::string(*s)).collect()),
        Type::Tuple(items.iter().map(|_| Type::String).collect()),
    )
}

fn unit_ok(v: Option<&Value>) -> Option<()> {
    v.is_none().then_some(())
}

fn unit_value(_: &()) -> Value {
    Value::Tuple(vec![])
}

fn object_metadata_type() -> Type {
    Type::Record(vec![
        ("name".into(), Type::String),
        ("container".into(), Type::String),
        ("created-at".into(), Type::U64),
        ("size".into(), Type::U64),
    ])
}

impl HostState {
    fn container_name(&self, c: &Resource<ContainerHandle>) -> wasmtime::Result<String> {
        Ok(self.table.get(c)?.name.clone())
    }

    /// Creation times are virtual and fixed, so they cannot differ between a
    /// crash-free run and a recovered one.
    fn virtual_seconds(&self) -> u64 {
        Journal::time_at(0).seconds
    }
}

impl types::HostOutgoingValue for HostState {
    fn new_outgoing_value(&mut self) -> wasmtime::Result<Resource<OutgoingBlob>> {
        Ok(self.table.push(OutgoingBlob::default())?)
    }

    fn outgoing_value_write_body(
        &mut self,
        self_: Resource<OutgoingBlob>,
    ) -> wasmtime::Result<Result<Resource<DynOutputStream>, ()>> {
        let pipe = MemoryOutputPipe::new(MAX_OBJECT_BYTES);
        let value = self.table.get_mut(&self_)?;
        if value.stream.is_some() {
            return Ok(Err(())); // the body may be taken once
        }
        value.stream = Some(pipe.clone());
        let stream: DynOutputStream = Box::new(pipe);
        Ok(Ok(self.table.push(stream)?))
    }

    fn drop(&mut self, rep: Resource<OutgoingBlob>) -> wasmtime::Result<()> {
        self.table.delete(rep)?;
        Ok(())
    }
}

impl types::HostIncomingValue for HostState {
    fn incoming_value_consume_sync(
        &mut self,
        self_: Resource<IncomingBlob>,
    ) -> wasmtime::Result<Result<Vec<u8>, String>> {
        Ok(Ok(std::mem::take(&mut self.table.get_mut(&self_)?.bytes)))
    }

    fn incoming_value_consume_async(
        &mut self,
        self_: Resource<IncomingBlob>,
    ) -> wasmtime::Result<Result<Resource<DynInputStream>, String>> {
        let bytes = std::mem::take(&mut self.table.get_mut(&self_)?.bytes);
        let stream: DynInputStream = Box::new(MemoryInputPipe::new(bytes));
        Ok(Ok(self.table.push(stream)?))
    }

    fn size(&mut self, self_: Resource<IncomingBlob>) -> wasmtime::Result<u64> {
        Ok(self.table.get(&self_)?.bytes.len() as u64)
    }

    fn drop(&mut self, rep: Resource<IncomingBlob>) -> wasmtime::Result<()> {
        self.table.delete(rep)?;
        Ok(())
    }
}

impl types::Host for HostState {}

impl container::HostContainer for HostState {
    fn name(&mut self, self_: Resource<ContainerHandle>) -> wasmtime::Result<Result<String, String>> {
        Ok(Ok(self.container_name(&self_)?))
    }

    fn info(&mut self, self_: Resource<ContainerHandle>) -> wasmtime::Result<Result<types::ContainerMetadata, String>> {
        let name = self.container_name(&self_)?;
        let shared = self.shared.clone();
        let n = name.clone();
        let created = self.journal.call_fallible(
            "wasi:blobstore/container::info",
            WrappedFunctionType::ReadRemote,
            strs(&[&name]),
            |_| shared.blobs().container(&n).map(|c| c.created_at),
            |t| Value::U64(*t),
            Some(Type::U64),
            |v| v?.as_u64(),
        )?;
        Ok(created.map(|created_at| types::ContainerMetadata { name, created_at }))
    }

    fn get_data(
        &mut self,
        self_: Resource<ContainerHandle>,
        name: String,
        start: u64,
        end: u64,
    ) -> wasmtime::Result<Result<Resource<IncomingBlob>, String>> {
        let container = self.container_name(&self_)?;
        let shared = self.shared.clone();
        let request = (
            Value::Tuple(vec![
                Value::string(container.clone()),
                Value::string(name.clone()),
                Value::U64(start),
                Value::U64(end),
            ]),
            Type::Tuple(vec![Type::String, Type::String, Type::U64, Type::U64]),
        );
        let data = self.journal.call_fallible(
            "wasi:blobstore/container::get-data",
            WrappedFunctionType::ReadRemote,
            request,
            |_| {
                let blobs = shared.blobs();
                let object = blobs.object(&container, &name)?;
                let len = object.data.len() as u64;
                if start > end {
                    return Err(format!("invalid range {start}..={end}: start is after end"));
                }
                if len == 0 && start == 0 {
                    return Ok(Vec::new());
                }
                if start >= len {
                    return Err(format!("invalid range {start}..={end}: object `{name}` has {len} bytes"));
                }
                let last = end.min(len - 1);
                Ok(object.data[start as usize..=last as usize].to_vec())
            },
            |b| Value::bytes(b),
            Some(Type::bytes()),
            |v| v?.as_bytes(),
        )?;
        Ok(match data {
            Ok(bytes) => Ok(self.table.push(IncomingBlob { bytes })?),
            Err(e) => Err(e),
        })
    }

    fn write_data(
        &mut self,
        self_: Resource<ContainerHandle>,
        name: String,
        data: Resource<OutgoingBlob>,
    ) -> wasmtime::Result<Result<(), String>> {
        let container = self.container_name(&self_)?;
        let bytes = self.table.get(&data)?.stream.as_ref().map(|p| p.contents().to_vec()).unwrap_or_default();
        let shared = self.shared.clone();
        let now = self.virtual_seconds();
        let request = (
            Value::Tuple(vec![Value::string(container.clone()), Value::string(name.clone()), Value::bytes(&bytes)]),
            Type::Tuple(vec![Type::String, Type::String, Type::bytes()]),
        );
        self.journal.call_fallible(
            "wasi:blobstore/container::write-data",
            WrappedFunctionType::WriteRemote,
            request,
            |_| shared.blobs().write(&container, &name, bytes, now),
            unit_value,
            None,
            unit_ok,
        )
    }

    fn list_objects(
        &mut self,
        self_: Resource<ContainerHandle>,
    ) -> wasmtime::Result<Result<Resource<ObjectNames>, String>> {
        let container = self.container_name(&self_)?;
        let shared = self.shared.clone();
        let c = container.clone();
        let names = self.journal.call_fallible(
            "wasi:blobstore/container::list-objects",
            WrappedFunctionType::ReadRemote,
            strs(&[&container]),
            |_| shared.blobs().container(&c).map(|c| c.objects.keys().cloned().collect::<Vec<_>>()),
            |names| Value::List(names.iter().map(|n| Value::string(n.clone())).collect()),
            Some(Type::List(Box::new(Type::String))),
            |v| match v? {
                Value::List(items) => items.iter().map(|i| i.as_str().map(str::to_string)).collect(),
                _ => None,
            },
        )?;
        Ok(match names {
            Ok(names) => Ok(self.table.push(ObjectNames { names, next: 0 })?),
            Err(e) => Err(e),
        })
    }

    fn delete_object(
        &mut self,
        self_: Resource<ContainerHandle>,
        name: String,
    ) -> wasmtime::Result<Result<(), String>> {
        let container = self.container_name(&self_)?;
        let shared = self.shared.clone();
        self.journal.call_fallible(
            "wasi:blobstore/container::delete-object",
            WrappedFunctionType::WriteRemote,
            strs(&[&container, &name]),
            |_| shared.blobs().delete(&container, &name),
            unit_value,
            None,
            unit_ok,
        )
    }

    fn delete_objects(
        &mut self,
        self_: Resource<ContainerHandle>,
        names: Vec<String>,
    ) -> wasmtime::Result<Result<(), String>> {
        let container = self.container_name(&self_)?;
        let shared = self.shared.clone();
        let request = (
            Value::Tuple(vec![
                Value::string(container.clone()),
                Value::List(names.iter().map(|n| Value::string(n.clone())).collect()),
            ]),
            Type::Tuple(vec![Type::String, Type::List(Box::new(Type::String))]),
        );
        self.journal.call_fallible(
            "wasi:blobstore/container::delete-objects",
            WrappedFunctionType::WriteRemote,
            request,
            |_| {
                let mut blobs = shared.blobs();
                names.iter().try_for_each(|n| blobs.delete(&container, n))
            },
            unit_value,
            None,
            unit_ok,
        )
    }

    fn has_object(&mut self, self_: Resource<ContainerHandle>, name: String) -> wasmtime::Result<Result<bool, String>> {
        let container = self.container_name(&self_)?;
        let shared = self.shared.clone();
        self.journal.call_fallible(
            "wasi:blobstore/container::has-object",
            WrappedFunctionType::ReadRemote,
            strs(&[&container, &name]),
            |_| shared.blobs().container(&container).map(|c| c.objects.contains_key(&name)),
            |b| Value::Bool(*b),
            Some(Type::Bool),
            |v| v?.as_bool(),
        )
    }

    fn object_info(
        &mut self,
        self_: Resource<ContainerHandle>,
        name: String,
    ) -> wasmtime::Result<Result<types::ObjectMetadata, String>> {
        let container = self.container_name(&self_)?;
        let shared = self.shared.clone();
        let (c, n) = (container.clone(), name.clone());
        self.journal.call_fallible(
            "wasi:blobstore/container::object-info",
            WrappedFunctionType::ReadRemote,
            strs(&[&container, &name]),
            |_| {
                let blobs = shared.blobs();
                let o = blobs.object(&c, &n)?;
                Ok(types::ObjectMetadata {
                    name: n.clone(),
                    container: c.clone(),
                    created_at: o.created_at,
                    size: o.data.len() as u64,
                })
            },
            |m| {
                Value::Record(vec![
                    Value::string(m.name.clone()),
                    Value::string(m.container.clone()),
                    Value::U64(m.created_at),
                    Value::U64(m.size),
                ])
            },
            Some(object_metadata_type()),
            |v| match v? {
                Value::Record(f) if f.len() == 4 => Some(types::ObjectMetadata {
                    name: f[0].as_str()?.into(),
                    container: f[1].as_str()?.into(),
                    created_at: f[2].as_u64()?,
                    size: f[3].as_u64()?,
                }),
                _ => None,
            },
        )
    }

    fn clear(&mut self, self_: Resource<ContainerHandle>) -> wasmtime::Result<Result<(), String>> {
        let container = self.container_name(&self_)?;
        let shared = self.shared.clone();
        self.journal.call_fallible(
            "wasi:blobstore/container::clear",
            WrappedFunctionType::WriteRemote,
            strs(&[&container]),
            |_| {
                let mut blobs = shared.blobs();
                blobs.container_mut(&container)?.objects.clear();
                blobs.writes.push(BlobWrite::Clear(container.clone()));
                Ok(())
            },
            unit_value,
            None,
            unit_ok,
        )
    }

    fn drop(&mut self, rep: Resource<ContainerHandle>) -> wasmtime::Result<()> {
        self.table.delete(rep)?;
        Ok(())
    }
}

impl container::HostStreamObjectNames for HostState {
    fn read_stream_object_names(
        &mut self,
        self_: Resource<ObjectNames>,
        len: u64,
    ) -> wasmtime::Result<Result<(Vec<String>, bool), String>> {
        let s = self.table.get_mut(&self_)?;
        let take = usize::try_from(len).unwrap_or(usize::MAX).min(s.names.len() - s.next);
        let out = s.names[s.next..s.next + take].to_vec();
        s.next += take;
        Ok(Ok((out, s.next >= s.names.len())))
    }

    fn skip_stream_object_names(
        &mut self,
        self_: Resource<ObjectNames>,
        num: u64,
    ) -> wasmtime::Result<Result<(u64, bool), String>> {
        let s = self.table.get_mut(&self_)?;
        let take = usize::try_from(num).unwrap_or(usize::MAX).min(s.names.len() - s.next);
        s.next += take;
        Ok(Ok((take as u64, s.next >= s.names.len())))
    }

    fn drop(&mut self, rep: Resource<ObjectNames>) -> wasmtime::Result<()> {
        self.table.delete(rep)?;
        Ok(())
    }
}

impl container::Host for HostState {}

impl blobstore::Host for HostState {
    fn create_container(&mut self, name: String) -> wasmtime::Result<Result<Resource<ContainerHandle>, String>> {
        let shared = self.shared.clone();
        let now = self.virtual_seconds();
        let n = name.clone();
        let created = self.journal.call_fallible(
            "wasi:blobstore/blobstore::create-container",
            WrappedFunctionType::WriteRemote,
            strs(&[&name]),
            |_| {
                let mut blobs = shared.blobs();
                if n.is_empty() {
                    return Err("a container name must not be empty".into());
                }
                if blobs.containers.contains_key(&n) {
                    return Err(format!("container `{n}` already exists"));
                }
                blobs.containers.insert(n.clone(), Container { created_at: now, objects: BTreeMap::new() });
                blobs.writes.push(BlobWrite::CreateContainer(n.clone()));
                Ok(())
            },
            unit_value,
            None,
            unit_ok,
        )?;
        Ok(match created {
            Ok(()) => Ok(self.table.push(ContainerHandle { name })?),
            Err(e) => Err(e),
        })
    }

    fn get_container(&mut self, name: String) -> wasmtime::Result<Result<Resource<ContainerHandle>, String>> {
        let shared = self.shared.clone();
        let n = name.clone();
        let found = self.journal.call_fallible(
            "wasi:blobstore/blobstore::get-container",
            WrappedFunctionType::ReadRemote,
            strs(&[&name]),
            |_| shared.blobs().container(&n).map(|_| ()),
            unit_value,
            None,
            unit_ok,
        )?;
        Ok(match found {
            Ok(()) => Ok(self.table.push(ContainerHandle { name })?),
            Err(e) => Err(e),
        })
    }

    fn delete_container(&mut self, name: String) -> wasmtime::Result<Result<(), String>> {
        let shared = self.shared.clone();
        let n = name.clone();
        self.journal.call_fallible(
            "wasi:blobstore/blobstore::delete-container",
            WrappedFunctionType::WriteRemote,
            strs(&[&name]),
            |_| {
                let mut blobs = shared.blobs();
                blobs.containers.remove(&n).ok_or_else(|| format!("container `{n}` does not exist"))?;
                blobs.writes.push(BlobWrite::DeleteContainer(n.clone()));
                Ok(())
            },
            unit_value,
            None,
            unit_ok,
        )
    }

    fn container_exists(&mut self, name: String) -> wasmtime::Result<Result<bool, String>> {
        let shared = self.shared.clone();
        let n = name.clone();
        self.journal.call_fallible(
            "wasi:blobstore/blobstore::container-exists",
            WrappedFunctionType::ReadRemote,
            strs(&[&name]),
            |_| Ok(shared.blobs().containers.contains_key(&n)),
            |b| Value::Bool(*b),
            Some(Type::Bool),
            |v| v?.as_bool(),
        )
    }

    fn copy_object(&mut self, src: types::ObjectId, dest: types::ObjectId) -> wasmtime::Result<Result<(), String>> {
        self.transfer("wasi:blobstore/blobstore::copy-object", src, dest, false)
    }

    fn move_object(&mut self, src: types::ObjectId, dest: types::ObjectId) -> wasmtime::Result<Result<(), String>> {
        self.transfer("wasi:blobstore/blobstore::move-object", src, dest, true)
    }
}

impl HostState {
    fn transfer(
        &mut self,
        function: &str,
        src: types::ObjectId,
        dest: types::ObjectId,
        remove: bool,
    ) -> wasmtime::Result<Result<(), String>> {
        let shared = self.shared.clone();
        let now = self.virtual_seconds();
        let request = strs(&[&src.container, &src.object, &dest.container, &dest.object]);
        self.journal.call_fallible(
            function,
            WrappedFunctionType::WriteRemote,
            request,
            |_| {
                let mut blobs = shared.blobs();
                let data = blobs.object(&src.container, &src.object)?.data.clone();
                blobs.container(&dest.container)?;
                blobs.write(&dest.container, &dest.object, data, now)?;
                if remove {
                    blobs.delete(&src.container, &src.object)?;
                }
                Ok(())
            },
            unit_value,
            None,
            unit_ok,
        )
    }
}
