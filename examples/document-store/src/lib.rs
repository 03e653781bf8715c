//! A document store on blob storage (`reprise::blobstore`): one container
//! per owner, documents written and read as streams, excerpts by byte range,
//! listing, copies, and archiving by moving objects between containers.

use std::io::{Read, Write};

use reprise::blobstore::{self, Container, ObjectId};

/// A document's name and size.
#[derive(reprise::Value, Debug, Clone, PartialEq)]
pub struct DocumentInfo {
    /// The document's name.
    pub name: String,
    /// Its size in bytes.
    pub size: u64,
}

/// The container archived documents move to.
const ARCHIVE: &str = "archive";

/// Bytes streamed per write, so large documents never sit in memory twice.
const CHUNK: usize = 16 * 1024;

fn text(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// One owner's documents.
#[derive(Debug)]
pub struct DocumentStore {
    owner: String,
    docs: Container,
}

/// Documents of one owner, kept in blob storage.
#[reprise::agent]
impl DocumentStore {
    /// The documents of `owner` (container `docs-<owner>`, created on first use).
    pub fn new(owner: String) -> Result<Self, String> {
        let docs = Container::open_or_create(&format!("docs-{owner}")).map_err(text)?;
        Ok(DocumentStore { owner, docs })
    }

    /// Store `body` as document `name`, streamed in chunks; returns its size.
    pub fn put(&mut self, name: String, body: String) -> Result<u64, String> {
        let mut w = self.docs.writer(&name).map_err(text)?;
        for chunk in body.as_bytes().chunks(CHUNK) {
            w.write_all(chunk).map_err(text)?;
        }
        w.finish().map_err(text)
    }

    /// Store a generated document of `lines` numbered lines (to exercise
    /// large streamed objects); returns its size.
    pub fn generate(&mut self, name: String, lines: u32) -> Result<u64, String> {
        let mut w = self.docs.writer(&name).map_err(text)?;
        for i in 0..lines {
            writeln!(w, "line {i:06} of document {name} owned by {}", self.owner).map_err(text)?;
        }
        w.finish().map_err(text)
    }

    /// The whole document.
    pub fn get(&self, name: String) -> Result<String, String> {
        String::from_utf8(self.docs.read(&name).map_err(text)?).map_err(text)
    }

    /// Bytes `start..=end` of the document.
    pub fn excerpt(&self, name: String, start: u64, end: u64) -> Result<String, String> {
        let bytes = self.docs.read_range(&name, start..=end).map_err(text)?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }

    /// Count the lines of a document by streaming it.
    pub fn count_lines(&self, name: String) -> Result<u64, String> {
        let mut reader = self.docs.reader(&name).map_err(text)?;
        let mut buf = vec![0u8; CHUNK];
        let mut lines = 0;
        loop {
            let n = reader.read(&mut buf).map_err(text)?;
            if n == 0 {
                return Ok(lines);
            }
            lines += buf[..n].iter().filter(|b| **b == b'\n').count() as u64;
        }
    }

    /// Every document, with its size, in name order.
    pub fn list(&self) -> Result<Vec<DocumentInfo>, String> {
        let mut names = self.docs.objects().map_err(text)?.collect::<Result<Vec<_>, _>>().map_err(text)?;
        names.sort();
        names
            .into_iter()
            .map(|name| Ok(DocumentInfo { size: self.docs.info_of(&name).map_err(text)?.size, name }))
            .collect()
    }

    /// Copy document `name` to `copy`.
    pub fn duplicate(&mut self, name: String, copy: String) -> Result<(), String> {
        let container = self.docs.name().to_string();
        blobstore::copy(&ObjectId::new(&container, &name), &ObjectId::new(&container, &copy)).map_err(text)
    }

    /// Copy document `name` of another owner (`from`) into this store;
    /// returns its size.
    pub fn import(&mut self, from: String, name: String) -> Result<u64, String> {
        let source = Container::open(&format!("docs-{from}")).map_err(text)?;
        let data = source.read(&name).map_err(text)?;
        self.docs.write(&name, &data).map_err(text)?;
        Ok(data.len() as u64)
    }

    /// Move document `name` to the shared archive as `<owner>/<name>`.
    ///
    /// A copy and a delete rather than one move: a remote write interrupted
    /// after it happened but before it was recorded runs again on recovery,
    /// and a repeated move would find its source gone; a repeated copy or
    /// delete does no harm.
    pub fn archive(&mut self, name: String) -> Result<(), String> {
        Container::open_or_create(ARCHIVE).map_err(text)?;
        let from = ObjectId::new(self.docs.name(), &name);
        blobstore::copy(&from, &ObjectId::new(ARCHIVE, format!("{}/{name}", self.owner))).map_err(text)?;
        self.docs.delete(&name).map_err(text)
    }

    /// Move document `name` to `new_name` in one store operation (see
    /// [`archive`](Self::archive) for why that is not always what you want).
    pub fn rename(&mut self, name: String, new_name: String) -> Result<(), String> {
        let container = self.docs.name();
        blobstore::move_object(&ObjectId::new(container, &name), &ObjectId::new(container, &new_name)).map_err(text)
    }

    /// Delete documents; returns how many remain.
    pub fn delete(&mut self, names: Vec<String>) -> Result<u32, String> {
        self.docs.delete_many(&names).map_err(text)?;
        Ok(self.docs.objects().map_err(text)?.count() as u32)
    }

    /// Delete every document; returns when the store was created (seconds
    /// since the Unix epoch).
    pub fn clear(&mut self) -> Result<u64, String> {
        self.docs.clear().map_err(text)?;
        Ok(self.docs.info().map_err(text)?.created_at)
    }

    /// Remove the whole store (its container); the agent cannot store
    /// documents afterwards. Returns whether the container still exists.
    pub fn destroy(&mut self) -> Result<bool, String> {
        blobstore::delete_container(self.docs.name()).map_err(text)?;
        blobstore::container_exists(self.docs.name()).map_err(text)
    }

    /// Whether document `name` exists.
    pub fn contains(&self, name: String) -> Result<bool, String> {
        self.docs.contains(&name).map_err(text)
    }
}

reprise::export_agents!(DocumentStore);
