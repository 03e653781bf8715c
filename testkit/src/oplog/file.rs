//! The oplog file format: records, and reading every intact one of a file
//! that may be damaged.
//!
//! Version 3 (written): a header line `reprise-oplog v3\n`, then per entry
//!
//! ```text
//! marker 0xA5 0x0F | index u64 | length u32 | crc32(marker, index, length) u32
//!                  | crc32(index, payload) u32 | payload (the entry as JSON)
//! ```
//!
//! (integers little-endian). The marker and the header's own checksum make
//! an all-zero or otherwise forged header fail, and tell a damaged length
//! from a file cut short; the index makes a duplicated, missing or moved
//! record visible; binding the payload checksum to the index makes a record
//! copied elsewhere fail. After damage, the reader searches for the next
//! sound record and reports what it finds there as salvaged.
//!
//! Versions 1 and 2 (read only): `length u32 | crc32(payload) u32 | payload`
//! per record; version 1 encoded jumps one entry earlier.

use super::{OplogEntry, OplogError};

pub(super) const HEADER: &[u8] = b"reprise-oplog v3\n";
const HEADER_V2: &[u8] = b"reprise-oplog v2\n";
const HEADER_V1: &[u8] = b"reprise-oplog v1\n";
/// Every header is this long; the first bytes of a file tell its version.
pub(super) const HEADER_LEN: usize = HEADER.len();

const MARKER: [u8; 2] = [0xA5, 0x0F];
/// Marker, index, length, header checksum, payload checksum.
const RECORD_HEADER: usize = 2 + 8 + 4 + 4 + 4;
/// Entries larger than this are treated as damage rather than allocated.
const MAX_RECORD: u32 = 256 * 1024 * 1024;

/// The format version a file starts with, if it is an oplog.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Version {
    V1,
    V2,
    V3,
}

impl Version {
    pub(super) fn of(start: &[u8]) -> Option<Version> {
        [(HEADER, Version::V3), (HEADER_V2, Version::V2), (HEADER_V1, Version::V1)]
            .into_iter()
            .find_map(|(header, version)| start.starts_with(header).then_some(version))
    }
}

/// Damage found when reading an oplog file.
#[derive(Debug, Clone, PartialEq)]
pub struct OplogDamage {
    /// Oplog index of the first entry that could not be read.
    pub index: u64,
    /// Byte offset of its record in the file.
    pub offset: u64,
    /// What is wrong with it.
    pub reason: String,
    /// Sound records found after the damage, with their oplog indexes. They
    /// are not part of the opened oplog (replay cannot skip a gap) but are
    /// returned for inspection.
    pub salvaged: Vec<(u64, OplogEntry)>,
}

impl std::fmt::Display for OplogDamage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "oplog damaged at entry {} (byte {}): {}; {} intact entr{} kept before it",
            self.index,
            self.offset,
            self.reason,
            self.index.saturating_sub(1),
            if self.index == 2 { "y" } else { "ies" }
        )?;
        if let (Some((first, _)), Some((last, _))) = (self.salvaged.first(), self.salvaged.last()) {
            let n = self.salvaged.len();
            write!(
                f,
                ", {n} sound entr{} found after it ({}), not replayable",
                if n == 1 { "y" } else { "ies" },
                if first == last { format!("index {first}") } else { format!("indexes {first} to {last}") }
            )?;
        }
        Ok(())
    }
}

/// What a file holds: its intact entries, the first damage, and the byte
/// length of the intact prefix (where appends continue).
#[derive(Debug)]
pub(super) struct Records {
    pub(super) entries: Vec<OplogEntry>,
    pub(super) damage: Option<OplogDamage>,
    pub(super) good_len: usize,
}

/// The records of a file (of any version; jumps of version 1 re-encoded),
/// or `None` when it is not an oplog.
pub(super) fn parse(bytes: &[u8]) -> Option<(Records, Version)> {
    let version = Version::of(bytes)?;
    let mut records = match version {
        Version::V3 => read_v3(bytes),
        Version::V1 | Version::V2 => read_v2(bytes),
    };
    if version == Version::V1 {
        for entry in
            records.entries.iter_mut().chain(records.damage.iter_mut().flat_map(|d| &mut d.salvaged).map(|(_, e)| e))
        {
            if let OplogEntry::Jump(p) = entry {
                p.jump.start += 1;
                p.jump.end += 1;
            }
        }
    }
    Some((records, version))
}

/// One version-3 record for the entry at `index`.
pub(super) fn encode(index: u64, entry: &OplogEntry) -> Result<Vec<u8>, OplogError> {
    let payload = serde_json::to_vec(entry).map_err(|e| OplogError::Encode(e.to_string()))?;
    let len = u32::try_from(payload.len())
        .ok()
        .filter(|&len| len <= MAX_RECORD)
        .ok_or_else(|| OplogError::Encode(format!("entry of {} bytes is larger than {MAX_RECORD}", payload.len())))?;
    let mut record = Vec::with_capacity(payload.len() + RECORD_HEADER);
    record.extend_from_slice(&MARKER);
    record.extend_from_slice(&index.to_le_bytes());
    record.extend_from_slice(&len.to_le_bytes());
    record.extend_from_slice(&crc32fast::hash(&record).to_le_bytes());
    record.extend_from_slice(&payload_crc(index, &payload).to_le_bytes());
    record.extend_from_slice(&payload);
    Ok(record)
}

fn payload_crc(index: u64, payload: &[u8]) -> u32 {
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(&index.to_le_bytes());
    hasher.update(payload);
    hasher.finalize()
}

/// A sound version-3 record at `pos`: its index, entry and the next position.
fn read_v3_record(bytes: &[u8], pos: usize) -> Result<(u64, OplogEntry, usize), String> {
    let rest = &bytes[pos..];
    if rest.len() < RECORD_HEADER {
        return Err(format!("truncated record header ({} of {RECORD_HEADER} bytes)", rest.len()));
    }
    let u32_at = |at: usize| u32::from_le_bytes([rest[at], rest[at + 1], rest[at + 2], rest[at + 3]]);
    if rest[..2] != MARKER {
        return Err("no record starts here (its marker is missing)".into());
    }
    if crc32fast::hash(&rest[..14]) != u32_at(14) {
        return Err("the record header fails its checksum (a damaged index or length)".into());
    }
    let mut index = [0u8; 8];
    index.copy_from_slice(&rest[2..10]);
    let index = u64::from_le_bytes(index);
    let len = u32_at(10);
    if len > MAX_RECORD {
        return Err(format!("implausible record length {len}"));
    }
    let end = RECORD_HEADER + len as usize;
    if rest.len() < end {
        return Err(format!("truncated record ({} of {end} bytes)", rest.len()));
    }
    let payload = &rest[RECORD_HEADER..end];
    let next = pos + end;
    if payload_crc(index, payload) != u32_at(18) {
        return Err("checksum mismatch".into());
    }
    match serde_json::from_slice(payload) {
        Ok(entry) => Ok((index, entry, next)),
        Err(e) => Err(format!("undecodable entry: {e}")),
    }
}

fn read_v3(bytes: &[u8]) -> Records {
    let mut entries = Vec::new();
    let mut pos = HEADER_LEN;
    while pos < bytes.len() {
        let expected = entries.len() as u64 + 1;
        let reason = match read_v3_record(bytes, pos) {
            Ok((index, entry, next)) if index == expected => {
                entries.push(entry);
                pos = next;
                continue;
            }
            Ok((index, _, _)) if index < expected => {
                format!("a second record of entry {index} stands where entry {expected} belongs")
            }
            Ok((index, _, _)) => format!("entries {expected} to {} are missing", index - 1),
            Err(bad) => bad,
        };
        // Salvage starts at the damaged record itself: a sound record in the
        // wrong place (after a gap) is kept, anything else searched past.
        let salvaged = salvage(bytes, pos, expected);
        let damage = OplogDamage { index: expected, offset: pos as u64, reason, salvaged };
        return Records { entries, damage: Some(damage), good_len: pos };
    }
    Records { entries, damage: None, good_len: pos }
}

/// Sound records from `pos` on, searching byte by byte past anything else
/// (a torn record's stated length may cover records written after it; the
/// marker cannot occur inside a payload, as JSON escapes 0x0F, and a false
/// start fails the header checksum); each index once, in increasing order
/// from `from` (duplicates dropped).
fn salvage(bytes: &[u8], mut pos: usize, from: u64) -> Vec<(u64, OplogEntry)> {
    let mut found: Vec<(u64, OplogEntry)> = Vec::new();
    while pos < bytes.len() {
        match read_v3_record(bytes, pos) {
            Ok((index, entry, next)) => {
                let after = found.last().map_or(from.saturating_sub(1), |(last, _)| *last);
                if index > after {
                    found.push((index, entry));
                }
                pos = next;
            }
            Err(_) => pos += 1,
        }
    }
    found
}

/// Records of a version-1 or -2 file: no indexes, so damage ends what can
/// be read.
fn read_v2(bytes: &[u8]) -> Records {
    let mut entries = Vec::new();
    let mut pos = HEADER_LEN;
    while pos < bytes.len() {
        match read_v2_record(bytes, pos) {
            Ok((entry, next)) => {
                entries.push(entry);
                pos = next;
            }
            Err(reason) => {
                // No record after damage can be placed: lengths carry no
                // checksum and records no index in these versions.
                let index = entries.len() as u64 + 1;
                let salvaged = Vec::new();
                let damage = OplogDamage { index, offset: pos as u64, reason, salvaged };
                return Records { entries, damage: Some(damage), good_len: pos };
            }
        }
    }
    Records { entries, damage: None, good_len: pos }
}

fn read_v2_record(bytes: &[u8], pos: usize) -> Result<(OplogEntry, usize), String> {
    let rest = &bytes[pos..];
    if rest.len() < 8 {
        return Err(format!("truncated record header ({} of 8 bytes)", rest.len()));
    }
    let len = u32::from_le_bytes([rest[0], rest[1], rest[2], rest[3]]);
    let crc = u32::from_le_bytes([rest[4], rest[5], rest[6], rest[7]]);
    if len > MAX_RECORD {
        return Err(format!("implausible record length {len}"));
    }
    let end = 8 + len as usize;
    if rest.len() < end {
        return Err(format!("truncated record ({} of {end} bytes)", rest.len()));
    }
    let payload = &rest[8..end];
    if crc32fast::hash(payload) != crc {
        return Err("checksum mismatch".into());
    }
    serde_json::from_slice(payload).map(|entry| (entry, pos + end)).map_err(|e| format!("undecodable entry: {e}"))
}

/// A version-2 record (for tests of reading old files).
#[cfg(test)]
pub(super) fn encode_v2(entry: &OplogEntry) -> Vec<u8> {
    let payload = serde_json::to_vec(entry).expect("encodable");
    let mut record = Vec::new();
    record.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    record.extend_from_slice(&crc32fast::hash(&payload).to_le_bytes());
    record.extend_from_slice(&payload);
    record
}

/// Headers of the versions only read (for tests).
#[cfg(test)]
pub(super) const OLD_HEADERS: [&[u8]; 2] = [HEADER_V1, HEADER_V2];
