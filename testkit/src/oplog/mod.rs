//! Agent oplogs: Golem 1.5 `public-oplog-entry` values, in memory or in an
//! append-only, checksummed file.
//!
//! Oplog indexes are 1-based as in Golem: the `create` entry has index 1.
//!
//! # File format
//!
//! A header line `reprise-oplog v2\n`, then one record per entry:
//! `length: u32 LE | crc32 of payload: u32 LE | payload` where the payload is
//! the entry as JSON. A torn write or a flipped bit is found by the length or
//! checksum; every entry before the damage is kept and the damage is reported.

use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

mod describe;
mod raw;

pub use describe::{describe, function_type_name, is_remote_write};

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

const HEADER: &[u8] = b"reprise-oplog v2\n";
/// Files from before jumps were encoded as Golem encodes them (the region
/// began one entry earlier and ended at the entry before the jump).
const HEADER_V1: &[u8] = b"reprise-oplog v1\n";
/// Entries larger than this are treated as damage rather than allocated.
const MAX_RECORD: u32 = 256 * 1024 * 1024;

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

/// Damage found when opening an oplog file.
#[derive(Debug, Clone, PartialEq)]
pub struct OplogDamage {
    /// Oplog index of the first entry that could not be read.
    pub index: u64,
    /// Byte offset of its record in the file.
    pub offset: u64,
    /// What is wrong with it.
    pub reason: String,
    /// Entries found intact after the damaged one. They are not part of the
    /// opened oplog (replay cannot skip a gap) but are returned for inspection.
    pub salvaged: Vec<OplogEntry>,
}

impl fmt::Display for OplogDamage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "oplog damaged at entry {} (byte {}): {}; {} intact entr{} kept before it",
            self.index,
            self.offset,
            self.reason,
            self.index.saturating_sub(1),
            if self.index == 2 { "y" } else { "ies" }
        )?;
        if !self.salvaged.is_empty() {
            write!(
                f,
                ", {} readable entr{} after it not replayable",
                self.salvaged.len(),
                if self.salvaged.len() == 1 { "y" } else { "ies" }
            )?;
        }
        Ok(())
    }
}

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
        file.write_all(HEADER).map_err(io)?;
        Ok(Oplog {
            entries: Vec::new(),
            committed: 0,
            commits: Vec::new(),
            file: Some(OplogFile { path, file, sync: false }),
        })
    }

    /// Open an existing oplog file. Intact entries are loaded; damage (a torn
    /// or corrupted record) is reported and the damaged tail is cut off before
    /// the next append.
    pub fn open_file(path: impl AsRef<Path>) -> Result<(Self, Option<OplogDamage>), OplogError> {
        let path = path.as_ref().to_owned();
        let io = |source| OplogError::Io { path: path.clone(), source };
        check_regular(&path)?;
        let mut file = OpenOptions::new().read(true).write(true).open(&path).map_err(io)?;
        let bytes = read_checked(&mut file, &path)?;
        let Some(((entries, damage, good_len), version_1)) = parse_file(&bytes) else {
            return Err(OplogError::NotAnOplog { path });
        };
        if version_1 {
            // Rewritten in the current version, so that appends match it.
            let mut rewritten = HEADER.to_vec();
            for entry in &entries {
                rewritten.extend(encode_record(entry)?);
            }
            file.set_len(0).map_err(io)?;
            file.seek(SeekFrom::Start(0)).map_err(io)?;
            file.write_all(&rewritten).map_err(io)?;
        } else if damage.is_some() {
            // Cut the damaged tail so that appends continue a well-formed log.
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
        let Some(((entries, damage, _), _)) = parse_file(&bytes) else {
            return Err(OplogError::NotAnOplog { path });
        };
        Ok((entries, damage))
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
            for entry in &self.entries[self.committed..] {
                let record = encode_record(entry)?;
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

/// One record: `length | crc32 | payload`.
fn encode_record(entry: &OplogEntry) -> Result<Vec<u8>, OplogError> {
    let payload = serde_json::to_vec(entry).map_err(|e| OplogError::Encode(e.to_string()))?;
    let len = u32::try_from(payload.len()).map_err(|_| OplogError::Encode("entry larger than 4 GiB".into()))?;
    let mut record = Vec::with_capacity(payload.len() + 8);
    record.extend_from_slice(&len.to_le_bytes());
    record.extend_from_slice(&crc32fast::hash(&payload).to_le_bytes());
    record.extend_from_slice(&payload);
    Ok(record)
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
    let mut bytes = Vec::with_capacity(HEADER.len());
    file.take(HEADER.len() as u64).read_to_end(&mut bytes).map_err(io)?;
    if !(bytes.starts_with(HEADER) || bytes.starts_with(HEADER_V1)) {
        return Err(OplogError::NotAnOplog { path: path.to_owned() });
    }
    file.read_to_end(&mut bytes).map_err(io)?;
    Ok(bytes)
}

/// The records of a file of either version (jumps of a version-1 file
/// re-encoded as Golem encodes them), or `None` when it is not an oplog;
/// and whether it is a version-1 file.
fn parse_file(bytes: &[u8]) -> Option<(Records, bool)> {
    if bytes.starts_with(HEADER) {
        return Some((read_records(bytes), false));
    }
    if !bytes.starts_with(HEADER_V1) {
        return None;
    }
    let (mut entries, damage, good_len) = read_records(bytes);
    for entry in &mut entries {
        if let OplogEntry::Jump(p) = entry {
            p.jump.start += 1;
            p.jump.end += 1;
        }
    }
    Some(((entries, damage, good_len), true))
}

/// The intact entries of a file, the first damage, and the byte length of
/// the intact prefix.
type Records = (Vec<OplogEntry>, Option<OplogDamage>, usize);

/// Parse records after the header.
fn read_records(bytes: &[u8]) -> Records {
    let mut entries = Vec::new();
    let mut pos = HEADER.len();
    loop {
        if pos == bytes.len() {
            return (entries, None, pos);
        }
        let index = entries.len() as u64 + 1;
        match read_record(bytes, pos) {
            Ok((entry, next)) => {
                entries.push(entry);
                pos = next;
            }
            Err((reason, next)) => {
                // Salvage what follows when the framing is still trustworthy.
                let mut salvaged = Vec::new();
                let mut p = next;
                while let Some(at) = p {
                    match read_record(bytes, at) {
                        Ok((entry, n)) => {
                            salvaged.push(entry);
                            p = (n < bytes.len()).then_some(n);
                        }
                        Err(_) => break,
                    }
                }
                let damage = OplogDamage { index, offset: pos as u64, reason, salvaged };
                return (entries, Some(damage), pos);
            }
        }
    }
}

/// One record at `pos`: the entry and the next position, or why it is
/// unreadable and where the next record would start if the length is sound.
fn read_record(bytes: &[u8], pos: usize) -> Result<(OplogEntry, usize), (String, Option<usize>)> {
    let rest = &bytes[pos..];
    if rest.len() < 8 {
        return Err((format!("truncated record header ({} of 8 bytes)", rest.len()), None));
    }
    let len = u32::from_le_bytes([rest[0], rest[1], rest[2], rest[3]]);
    let crc = u32::from_le_bytes([rest[4], rest[5], rest[6], rest[7]]);
    if len > MAX_RECORD {
        return Err((format!("implausible record length {len}"), None));
    }
    let end = 8 + len as usize;
    if rest.len() < end {
        return Err((format!("truncated record ({} of {end} bytes)", rest.len()), None));
    }
    let payload = &rest[8..end];
    let next = pos + end;
    if crc32fast::hash(payload) != crc {
        return Err(("checksum mismatch".into(), Some(next)));
    }
    match serde_json::from_slice(payload) {
        Ok(entry) => Ok((entry, next)),
        Err(e) => Err((format!("undecodable entry: {e}"), Some(next))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bindings::golem::api::oplog::{LogLevel, LogParameters, Timestamp};
    use crate::bindings::wasi::clocks::wall_clock::Datetime;

    fn entry(i: u64) -> OplogEntry {
        let timestamp = Datetime { seconds: i, nanoseconds: 0 };
        if i.is_multiple_of(2) {
            OplogEntry::NoOp(Timestamp { timestamp })
        } else {
            OplogEntry::Log(LogParameters {
                timestamp,
                level: LogLevel::Info,
                context: "t".into(),
                message: format!("entry {i}"),
            })
        }
    }

    fn write(path: &Path, n: u64) -> Vec<OplogEntry> {
        let mut oplog = Oplog::create_file(path).expect("create");
        for i in 1..=n {
            assert_eq!(oplog.append(entry(i)).expect("append"), i);
        }
        oplog.entries().to_vec()
    }

    #[test]
    fn a_version_1_file_has_its_jumps_re_encoded_and_is_rewritten() {
        use crate::bindings::golem::api::oplog::{JumpParameters, OplogRegion};
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("old.oplog");
        let timestamp = Datetime { seconds: 1, nanoseconds: 0 };
        // Version 1 jumped from the entry before the region to the entry before the jump.
        let jump = OplogEntry::Jump(JumpParameters { timestamp, jump: OplogRegion { start: 1, end: 2 } });
        let mut bytes = HEADER_V1.to_vec();
        for e in [entry(1), entry(2), jump] {
            bytes.extend(encode_record(&e).expect("encode"));
        }
        std::fs::write(&path, &bytes).expect("write");

        let (entries, damage) = Oplog::read_file(&path).expect("read");
        assert!(damage.is_none());
        assert!(matches!(&entries[2], OplogEntry::Jump(p) if (p.jump.start, p.jump.end) == (2, 3)));
        assert!(std::fs::read(&path).expect("read").starts_with(HEADER_V1), "reading leaves the file alone");

        let (mut oplog, _) = Oplog::open_file(&path).expect("open");
        oplog.append(entry(4)).expect("append");
        let reread = std::fs::read(&path).expect("read");
        assert!(reread.starts_with(HEADER), "opened for writing, the file is rewritten in the current version");
        let (entries, damage) = Oplog::read_file(&path).expect("read");
        assert!(damage.is_none());
        assert_eq!(entries.len(), 4);
        assert!(matches!(&entries[2], OplogEntry::Jump(p) if (p.jump.start, p.jump.end) == (2, 3)));
    }

    #[test]
    fn a_file_oplog_reopens_with_every_entry() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("agent.oplog");
        let written = write(&path, 5);
        let (oplog, damage) = Oplog::open_file(&path).expect("open");
        assert_eq!(damage, None);
        assert_eq!(oplog.entries(), written.as_slice());
        assert_eq!(oplog.get(1), Some(&written[0]));
        assert_eq!(oplog.get(0), None);
        assert_eq!(oplog.path(), Some(path.as_path()));
    }

    #[test]
    fn a_torn_write_keeps_every_intact_entry() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("agent.oplog");
        let written = write(&path, 5);
        let full = std::fs::metadata(&path).expect("meta").len();
        // The process died in the middle of writing the last record.
        let file = OpenOptions::new().write(true).open(&path).expect("open");
        file.set_len(full - 7).expect("truncate");
        drop(file);

        let (mut oplog, damage) = Oplog::open_file(&path).expect("open");
        let damage = damage.expect("damage reported");
        assert_eq!(damage.index, 5);
        assert!(damage.reason.starts_with("truncated record"), "{}", damage.reason);
        assert_eq!(oplog.entries(), &written[..4]);
        assert!(damage.to_string().contains("4 intact entries kept"), "{damage}");

        // Appending continues a well-formed log.
        oplog.append(entry(5)).expect("append");
        drop(oplog);
        let (reopened, damage) = Oplog::open_file(&path).expect("reopen");
        assert_eq!(damage, None);
        assert_eq!(reopened.entries(), written.as_slice());
    }

    #[test]
    fn a_flipped_bit_is_found_by_the_checksum() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("agent.oplog");
        let written = write(&path, 6);
        let mut bytes = std::fs::read(&path).expect("read");
        // Find the third record and flip a bit of its payload.
        let mut pos = HEADER.len();
        for _ in 0..2 {
            let len = u32::from_le_bytes(bytes[pos..pos + 4].try_into().expect("4 bytes")) as usize;
            pos += 8 + len;
        }
        bytes[pos + 8 + 3] ^= 0x10;
        std::fs::write(&path, &bytes).expect("write");

        let (oplog, damage) = Oplog::open_file(&path).expect("open");
        let damage = damage.expect("damage reported");
        assert_eq!(damage.index, 3);
        assert_eq!(damage.offset, pos as u64);
        assert_eq!(damage.reason, "checksum mismatch");
        assert_eq!(oplog.entries(), &written[..2]);
        // The records after the damaged one are intact and reported.
        assert_eq!(damage.salvaged, &written[3..]);
    }

    #[test]
    fn other_files_are_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("notes.txt");
        std::fs::write(&path, "hello").expect("write");
        let err = Oplog::open_file(&path).expect_err("not an oplog");
        assert!(matches!(err, OplogError::NotAnOplog { .. }));
        assert!(err.to_string().contains("notes.txt"), "{err}");
        assert!(matches!(Oplog::open_file(dir.path().join("missing")), Err(OplogError::Io { .. })));
    }
}
