//! The environment's blob containers, and every write made to them.

use std::collections::BTreeMap;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Container {
    pub(super) created_at: u64,
    pub(super) objects: BTreeMap<String, Object>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Object {
    pub(super) data: Vec<u8>,
    pub(super) created_at: u64,
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

    /// The contents, with `writes` as the write log.
    pub(crate) fn copy_with_log(&self, writes: Vec<BlobWrite>) -> BlobStore {
        BlobStore { containers: self.containers.clone(), writes }
    }

    pub(super) fn container(&self, name: &str) -> Result<&Container, String> {
        self.containers.get(name).ok_or_else(|| format!("container `{name}` does not exist"))
    }

    pub(super) fn container_mut(&mut self, name: &str) -> Result<&mut Container, String> {
        self.containers.get_mut(name).ok_or_else(|| format!("container `{name}` does not exist"))
    }

    pub(super) fn object(&self, container: &str, object: &str) -> Result<&Object, String> {
        self.container(container)?
            .objects
            .get(object)
            .ok_or_else(|| format!("object `{object}` does not exist in container `{container}`"))
    }

    pub(super) fn write(&mut self, container: &str, object: &str, data: Vec<u8>, now: u64) -> Result<(), String> {
        let c = self.container_mut(container)?;
        let created_at = c.objects.get(object).map_or(now, |o| o.created_at);
        c.objects.insert(object.into(), Object { data: data.clone(), created_at });
        self.writes.push(BlobWrite::Write(container.into(), object.into(), data));
        Ok(())
    }

    pub(super) fn delete(&mut self, container: &str, object: &str) -> Result<(), String> {
        self.container_mut(container)?.objects.remove(object);
        self.writes.push(BlobWrite::Delete(container.into(), object.into()));
        Ok(())
    }

    pub(super) fn create_container(&mut self, name: &str, now: u64) -> Result<(), String> {
        if name.is_empty() {
            return Err("a container name must not be empty".into());
        }
        if self.containers.contains_key(name) {
            return Err(format!("container `{name}` already exists"));
        }
        self.containers.insert(name.into(), Container { created_at: now, objects: BTreeMap::new() });
        self.writes.push(BlobWrite::CreateContainer(name.into()));
        Ok(())
    }

    pub(super) fn delete_container(&mut self, name: &str) -> Result<(), String> {
        self.containers.remove(name).ok_or_else(|| format!("container `{name}` does not exist"))?;
        self.writes.push(BlobWrite::DeleteContainer(name.into()));
        Ok(())
    }

    pub(super) fn has_container(&self, name: &str) -> bool {
        self.containers.contains_key(name)
    }

    pub(super) fn clear(&mut self, name: &str) -> Result<(), String> {
        self.container_mut(name)?.objects.clear();
        self.writes.push(BlobWrite::Clear(name.into()));
        Ok(())
    }

    /// Bytes `start..=end` of an object (the end clipped to its size).
    pub(super) fn read(&self, container: &str, name: &str, start: u64, end: u64) -> Result<Vec<u8>, String> {
        let object = self.object(container, name)?;
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
    }

    /// Copy (or with `remove`, move) an object.
    pub(super) fn transfer(
        &mut self,
        src: (&str, &str),
        dest: (&str, &str),
        remove: bool,
        now: u64,
    ) -> Result<(), String> {
        let data = self.object(src.0, src.1)?.data.clone();
        self.container(dest.0)?;
        self.write(dest.0, dest.1, data, now)?;
        if remove {
            self.delete(src.0, src.1)?;
        }
        Ok(())
    }
}
