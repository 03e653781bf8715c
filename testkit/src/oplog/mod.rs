//! Agent oplogs: Golem 1.5 `public-oplog-entry` values, in memory or in an
//! append-only, checksummed file.
//!
//! Oplog indexes are 1-based as in Golem: the `create` entry has index 1.
//!
//! # File format
//!
//! A header line, then one checksummed, indexed record per entry holding the
//! entry as JSON (see the `file` module). A torn write, a flipped bit, a
//! damaged length or a duplicated record is found; every entry before the
//! damage is kept, the damage is reported, and sound records after it are
//! returned for inspection.

use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

mod describe;
mod file;
mod raw;
mod render;

pub use file::OplogDamage;
pub use render::{payload, snapshot};

pub use describe::{describe, function_type_name, is_remote_write, kind_name, persistence_level_name, timestamp};

pub use crate::bindings::golem::api::oplog::OplogEntry as RawOplogEntry;
pub use crate::bindings::golem::api::oplog::PublicOplogEntry as OplogEntry;

/// The raw form of `entry`, as an executor hands it to oplog processors:
/// payloads serialized (inline, as JSON), plugins named by grant id.
pub fn to_raw(entry: &OplogEntry) -> RawOplogEntry {
    raw::to_raw(entry)
}

/// The public form of a raw entry (what `enrich-oplog-entries` returns);
/// `plugins` describes the plugin grants it names.
pub fn enrich(
    raw: &RawOplogEntry,
    plugins: impl Fn(
        &crate::bindings::golem::api::oplog::EnvironmentPluginGrantId,
    ) -> Option<crate::bindings::golem::api::oplog::PluginInstallationDescription>,
) -> Result<OplogEntry, String> {
    raw::enrich(raw, &plugins)
}

/// An agent's oplog.
///
/// Entries are committed (durable: written to the file of a file-backed
/// oplog) or buffered. [`Oplog::append`] commits at once; the journal of a
/// running agent buffers entries and commits where a Golem executor commits,
/// so a crash loses the buffered tail.
#[derive(Debug, Default)]
pub struct Oplog {
    entries: Vec<OplogEntry>,
    /// Entries before this position are committed.
    committed: usize,
    /// The committed index after each commit made through this value (not
    /// kept in files): where a crash loses nothing.
    commits: Vec<u64>,
    file: Option<OplogFile>,
}

#[derive(Debug)]
struct OplogFile {
    path: PathBuf,
    file: File,
    sync: bool,
}

/// Why the oplog could not be read or written.
#[derive(Debug)]
pub enum OplogError {
    /// The file could not be created, read or written.
    Io {
        /// The oplog file.
        path: PathBuf,
        /// The failure.
        source: std::io::Error,
    },
    /// The file is not an oplog (wrong header).
    NotAnOplog {
        /// The file.
        path: PathBuf,
    },
    /// An entry could not be encoded.
    Encode(String),
}

impl fmt::Display for OplogError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OplogError::Io { path, source } => write!(f, "oplog file {}: {source}", path.display()),
            OplogError::NotAnOplog { path } => {
                write!(f, "{} is not a Reprise oplog file (missing its `reprise-oplog` header)", path.display())
            }
            OplogError::Encode(e) => write!(f, "cannot encode oplog entry: {e}"),
        }
    }
}

impl std::error::Error for OplogError {}

impl Oplog {
    /// An empty in-memory oplog.
    pub fn in_memory() -> Self {
        Oplog::default()
    }

    /// Create (or truncate) an oplog file.
    pub fn create_file(path: impl AsRef<Path>) -> Result<Self, OplogError> {
        let path = path.as_ref().to_owned();
        let io = |source| OplogError::Io { path: path.clone(), source };
        let mut file = OpenOptions::new().create(true).truncate(true).read(true).write(true).open(&path).map_err(io)?;
        file.write_all(file::HEADER).map_err(io)?;
        Ok(Oplog {
            entries: Vec::new(),
            committed: 0,
            commits: Vec::new(),
            file: Some(OplogFile { path, file, sync: false }),
        })
    }

    /// Open an existing oplog file. Intact entries are loaded; damage (a torn
    /// or corrupted record) is reported, and the damaged tail is moved to
    /// `FILE.damaged` (so that nothing found after the damage is lost) and
    /// cut off, for appends to continue a well-formed log. A file of an
    /// older version is rewritten in the current one.
    pub fn open_file(path: impl AsRef<Path>) -> Result<(Self, Option<OplogDamage>), OplogError> {
        let path = path.as_ref().to_owned();
        let io = |source| OplogError::Io { path: path.clone(), source };
        check_regular(&path)?;
        let mut file = OpenOptions::new().read(true).write(true).open(&path).map_err(io)?;
        let bytes = read_checked(&mut file, &path)?;
        let Some((file::Records { entries, damage, good_len }, version)) = file::parse(&bytes) else {
            return Err(OplogError::NotAnOplog { path });
        };
        if damage.is_some() {
            // The damaged tail (with any sound records found in it) is kept
            // beside the file before appends continue a well-formed log.
            std::fs::write(beside(&path, "damaged"), &bytes[good_len..]).map_err(io)?;
        }
        if version != file::Version::V3 {
            // Rewritten in the current version, so that appends match it:
            // written beside and renamed over, so a crash leaves either file whole.
            let mut rewritten = file::HEADER.to_vec();
            for (i, entry) in entries.iter().enumerate() {
                rewritten.extend(file::encode(i as u64 + 1, entry)?);
            }
            let fresh = beside(&path, "rewrite");
            std::fs::write(&fresh, &rewritten).map_err(io)?;
            std::fs::rename(&fresh, &path).map_err(io)?;
            file = OpenOptions::new().read(true).write(true).open(&path).map_err(io)?;
        } else if damage.is_some() {
            file.set_len(good_len as u64).map_err(io)?;
        }
        file.seek(SeekFrom::End(0)).map_err(io)?;
        let committed = entries.len();
        Ok((
            Oplog { entries, committed, commits: Vec::new(), file: Some(OplogFile { path, file, sync: false }) },
            damage,
        ))
    }

    /// Read the entries of an oplog file without opening it for writing (for
    /// viewers): intact entries and the damage found after them, if any. The
    /// file is left as it is.
    pub fn read_file(path: impl AsRef<Path>) -> Result<(Vec<OplogEntry>, Option<OplogDamage>), OplogError> {
        let path = path.as_ref().to_owned();
        check_regular(&path)?;
        let mut file = File::open(&path).map_err(|source| OplogError::Io { path: path.clone(), source })?;
        let bytes = read_checked(&mut file, &path)?;
        let Some((records, _)) = file::parse(&bytes) else {
            return Err(OplogError::NotAnOplog { path });
        };
        Ok((records.entries, records.damage))
    }

    /// Call `fsync` after every appended entry (survives power loss, not only
    /// a killed process). Off by default.
    pub fn sync_each_entry(mut self, sync: bool) -> Self {
        if let Some(f) = &mut self.file {
            f.sync = sync;
        }
        self
    }

    /// Number of entries.
    pub fn len(&self) -> u64 {
        self.entries.len() as u64
    }

    /// Whether the oplog has no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The entry at a 1-based oplog index.
    pub fn get(&self, index: u64) -> Option<&OplogEntry> {
        let i = usize::try_from(index.checked_sub(1)?).ok()?;
        self.entries.get(i)
    }

    /// All entries, the entry with index 1 first.
    pub fn entries(&self) -> &[OplogEntry] {
        &self.entries
    }

    /// Index of the last entry (0 when empty).
    pub fn last_index(&self) -> u64 {
        self.len()
    }

    /// Append an entry and commit it; returns its index. File-backed oplogs
    /// write it first.
    pub fn append(&mut self, entry: OplogEntry) -> Result<u64, OplogError> {
        let index = self.append_buffered(entry);
        self.commit()?;
        Ok(index)
    }

    /// Append an entry without committing it; returns its index.
    pub(crate) fn append_buffered(&mut self, entry: OplogEntry) -> u64 {
        self.entries.push(entry);
        self.len()
    }

    /// Commit every buffered entry (file-backed oplogs write them).
    pub(crate) fn commit(&mut self) -> Result<(), OplogError> {
        if self.uncommitted() == 0 {
            return Ok(());
        }
        if let Some(f) = &mut self.file {
            let io = |source| OplogError::Io { path: f.path.clone(), source };
            for (i, entry) in self.entries.iter().enumerate().skip(self.committed) {
                let record = file::encode(i as u64 + 1, entry)?;
                let start = f.file.stream_position().map_err(io)?;
                if let Err(e) = f.file.write_all(&record) {
                    // Cut a partly written record, so later commits stay readable.
                    let _ = f.file.set_len(start).and_then(|()| f.file.seek(SeekFrom::Start(start)).map(|_| ()));
                    return Err(io(e));
                }
                // Counted one by one: a failing write leaves the rest buffered.
                self.committed += 1;
            }
            if f.sync {
                f.file.sync_data().map_err(io)?;
            }
        }
        self.committed = self.entries.len();
        self.commits.push(self.committed as u64);
        Ok(())
    }

    /// Entries appended and not committed yet.
    pub(crate) fn uncommitted(&self) -> usize {
        self.entries.len() - self.committed
    }

    /// Index of the last committed entry (0 when none is).
    pub(crate) fn committed_index(&self) -> u64 {
        self.committed as u64
    }

    /// The committed index after each commit made through this value, in
    /// order; empty for entries read from a file.
    pub(crate) fn commit_points(&self) -> &[u64] {
        &self.commits
    }

    /// Drop the buffered entries, as a crash of the executor does; returns
    /// how many were lost.
    pub(crate) fn discard_uncommitted(&mut self) -> usize {
        let lost = self.uncommitted();
        self.entries.truncate(self.committed);
        lost
    }

    /// An in-memory oplog holding `entries`, all committed.
    pub(crate) fn from_entries(entries: Vec<OplogEntry>) -> Oplog {
        Oplog { committed: entries.len(), entries, commits: Vec::new(), file: None }
    }

    /// The entries, taken out of an in-memory oplog.
    pub(crate) fn into_entries(self) -> Vec<OplogEntry> {
        self.entries
    }

    /// An in-memory copy of the entries (the copy is not file-backed).
    pub fn snapshot(&self) -> Oplog {
        Oplog {
            entries: self.entries.clone(),
            committed: self.entries.len(),
            commits: self.commits.clone(),
            file: None,
        }
    }

    /// The backing file, if any.
    pub fn path(&self) -> Option<&Path> {
        self.file.as_ref().map(|f| f.path.as_path())
    }
}

/// `path` with `.suffix` added (`agent.oplog.damaged`).
fn beside(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".");
    name.push(suffix);
    PathBuf::from(name)
}

/// Refuse what is not a regular file (a folder, a pipe, a device) before
/// opening it: reading a pipe would wait forever, a device never end.
fn check_regular(path: &Path) -> Result<(), OplogError> {
    let io = |source| OplogError::Io { path: path.to_owned(), source };
    let meta = std::fs::metadata(path).map_err(io)?;
    if meta.is_file() {
        return Ok(());
    }
    Err(io(std::io::Error::new(
        std::io::ErrorKind::InvalidInput,
        "not a regular file (a folder, pipe or device cannot hold an oplog)",
    )))
}

/// The file's bytes, its header checked before the rest is read, so that a
/// large file of something else is refused without being read whole.
fn read_checked(file: &mut File, path: &Path) -> Result<Vec<u8>, OplogError> {
    let io = |source| OplogError::Io { path: path.to_owned(), source };
    let mut bytes = Vec::with_capacity(file::HEADER_LEN);
    file.take(file::HEADER_LEN as u64).read_to_end(&mut bytes).map_err(io)?;
    if file::Version::of(&bytes).is_none() {
        return Err(OplogError::NotAnOplog { path: path.to_owned() });
    }
    file.read_to_end(&mut bytes).map_err(io)?;
    Ok(bytes)
}

#[cfg(test)]
mod tests;
