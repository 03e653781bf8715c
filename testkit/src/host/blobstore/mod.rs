//! `wasi:blobstore`: in-memory containers shared by the agents of one
//! environment, journaled like the key-value store (reads `read-remote`,
//! writes `write-remote`).

mod store;

use wasmtime::component::Resource;
use wasmtime_wasi::p2::pipe::{MemoryInputPipe, MemoryOutputPipe};
use wasmtime_wasi::p2::{DynInputStream, DynOutputStream};

pub use store::{BlobStore, BlobWrite};

use super::HostState;
use super::names;
use crate::bindings::golem::api::oplog::WrappedFunctionType;
use crate::bindings::wasi::blobstore::{blobstore, container, types};
use crate::bindings::{ContainerHandle, IncomingBlob, ObjectNames, OutgoingBlob};
use crate::journal::{Journal, Journaled, journaled_record};

/// Largest object a guest may stream into an outgoing value.
const MAX_OBJECT_BYTES: usize = 64 * 1024 * 1024;

journaled_record!(types::ObjectMetadata {
    name: "name",
    container: "container",
    created_at: "created-at",
    size: "size"
});

impl HostState {
    fn container_name(&self, c: &Resource<ContainerHandle>) -> wasmtime::Result<String> {
        Ok(self.table.get(c)?.name.clone())
    }

    /// Creation times are virtual and fixed, so they cannot differ between a
    /// crash-free run and a recovered one.
    fn virtual_seconds(&self) -> u64 {
        Journal::time_at(0).seconds
    }

    /// Journal a blob-store call; its errors are journaled as text.
    fn blob_call<Req: Journaled, T: Journaled>(
        &mut self,
        function: &str,
        function_type: WrappedFunctionType,
        request: &Req,
        run: impl FnOnce(&mut BlobStore) -> Result<T, String>,
    ) -> wasmtime::Result<Result<T, String>> {
        let world = self.world.clone();
        self.journal.call(function, function_type, request, |_| run(&mut world.blobs()))
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
        let request = (self.container_name(&self_)?,);
        let name = &request.0;
        let created = self.blob_call(names::BLOB_CONTAINER_INFO, WrappedFunctionType::ReadRemote, &request, |b| {
            b.container(name).map(|c| c.created_at)
        })?;
        Ok(created.map(|created_at| types::ContainerMetadata { name: request.0, created_at }))
    }

    fn get_data(
        &mut self,
        self_: Resource<ContainerHandle>,
        name: String,
        start: u64,
        end: u64,
    ) -> wasmtime::Result<Result<Resource<IncomingBlob>, String>> {
        let request = (self.container_name(&self_)?, name, start, end);
        let (container, name, ..) = &request;
        let data = self.blob_call(names::BLOB_GET_DATA, WrappedFunctionType::ReadRemote, &request, |b| {
            b.read(container, name, start, end)
        })?;
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
        let bytes = self.table.get(&data)?.stream.as_ref().map(|p| p.contents().to_vec()).unwrap_or_default();
        // Recorded as Golem records it: the data's length, not its bytes.
        let request = (self.container_name(&self_)?, name, bytes.len() as u64);
        let (container, name, _) = &request;
        let now = self.virtual_seconds();
        self.blob_call(names::BLOB_WRITE_DATA, WrappedFunctionType::WriteRemote, &request, |b| {
            b.write(container, name, bytes, now)
        })
    }

    fn list_objects(
        &mut self,
        self_: Resource<ContainerHandle>,
    ) -> wasmtime::Result<Result<Resource<ObjectNames>, String>> {
        let request = (self.container_name(&self_)?,);
        let container = &request.0;
        let names = self.blob_call(names::BLOB_LIST_OBJECTS, WrappedFunctionType::ReadRemote, &request, |b| {
            b.container(container).map(|c| c.objects.keys().cloned().collect::<Vec<String>>())
        })?;
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
        let request = (self.container_name(&self_)?, name);
        let (container, name) = &request;
        self.blob_call(names::BLOB_DELETE_OBJECT, WrappedFunctionType::WriteRemote, &request, |b| {
            b.delete(container, name)
        })
    }

    fn delete_objects(
        &mut self,
        self_: Resource<ContainerHandle>,
        names: Vec<String>,
    ) -> wasmtime::Result<Result<(), String>> {
        let request = (self.container_name(&self_)?, names);
        let (container, names) = &request;
        self.blob_call(names::BLOB_DELETE_OBJECTS, WrappedFunctionType::WriteRemote, &request, |b| {
            names.iter().try_for_each(|n| b.delete(container, n))
        })
    }

    fn has_object(&mut self, self_: Resource<ContainerHandle>, name: String) -> wasmtime::Result<Result<bool, String>> {
        let request = (self.container_name(&self_)?, name);
        let (container, name) = &request;
        self.blob_call(names::BLOB_HAS_OBJECT, WrappedFunctionType::ReadRemote, &request, |b| {
            b.container(container).map(|c| c.objects.contains_key(name))
        })
    }

    fn object_info(
        &mut self,
        self_: Resource<ContainerHandle>,
        name: String,
    ) -> wasmtime::Result<Result<types::ObjectMetadata, String>> {
        let request = (self.container_name(&self_)?, name);
        let (container, name) = &request;
        self.blob_call(names::BLOB_OBJECT_INFO, WrappedFunctionType::ReadRemote, &request, |b| {
            let o = b.object(container, name)?;
            Ok(types::ObjectMetadata {
                name: name.clone(),
                container: container.clone(),
                created_at: o.created_at,
                size: o.data.len() as u64,
            })
        })
    }

    fn clear(&mut self, self_: Resource<ContainerHandle>) -> wasmtime::Result<Result<(), String>> {
        let request = (self.container_name(&self_)?,);
        self.blob_call(names::BLOB_CLEAR, WrappedFunctionType::WriteRemote, &request, |b| b.clear(&request.0))
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
        let now = self.virtual_seconds();
        let request = (name,);
        let created =
            self.blob_call(names::BLOB_CREATE_CONTAINER, WrappedFunctionType::WriteRemote, &request, |b| {
                b.create_container(&request.0, now)
            })?;
        Ok(match created {
            Ok(()) => Ok(self.table.push(ContainerHandle { name: request.0 })?),
            Err(e) => Err(e),
        })
    }

    fn get_container(&mut self, name: String) -> wasmtime::Result<Result<Resource<ContainerHandle>, String>> {
        let request = (name,);
        let found = self.blob_call(names::BLOB_GET_CONTAINER, WrappedFunctionType::ReadRemote, &request, |b| {
            b.container(&request.0).map(|_| ())
        })?;
        Ok(match found {
            Ok(()) => Ok(self.table.push(ContainerHandle { name: request.0 })?),
            Err(e) => Err(e),
        })
    }

    fn delete_container(&mut self, name: String) -> wasmtime::Result<Result<(), String>> {
        let request = (name,);
        self.blob_call(names::BLOB_DELETE_CONTAINER, WrappedFunctionType::WriteRemote, &request, |b| {
            b.delete_container(&request.0)
        })
    }

    fn container_exists(&mut self, name: String) -> wasmtime::Result<Result<bool, String>> {
        let request = (name,);
        self.blob_call(names::BLOB_CONTAINER_EXISTS, WrappedFunctionType::ReadRemote, &request, |b| {
            Ok(b.has_container(&request.0))
        })
    }

    fn copy_object(&mut self, src: types::ObjectId, dest: types::ObjectId) -> wasmtime::Result<Result<(), String>> {
        self.transfer(names::BLOB_COPY_OBJECT, src, dest, false)
    }

    fn move_object(&mut self, src: types::ObjectId, dest: types::ObjectId) -> wasmtime::Result<Result<(), String>> {
        self.transfer(names::BLOB_MOVE_OBJECT, src, dest, true)
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
        let now = self.virtual_seconds();
        let request = (src.container, src.object, dest.container, dest.object);
        let (sc, so, dc, d) = &request;
        self.blob_call(function, WrappedFunctionType::WriteRemote, &request, |b| {
            b.transfer((sc, so), (dc, d), remove, now)
        })
    }
}
