//! Oplog files: written, reopened, damaged in every way the format must
//! notice, and read from older versions.

use std::fs::OpenOptions;
use std::path::{Path, PathBuf};

use proptest::prelude::*;

use super::file::{self, OLD_HEADERS, encode_v2};
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

/// Byte offset of each record of a version-3 file.
fn record_offsets(bytes: &[u8]) -> Vec<usize> {
    let mut offsets = Vec::new();
    let mut pos = file::HEADER_LEN;
    while pos < bytes.len() {
        offsets.push(pos);
        let len = u32::from_le_bytes(bytes[pos + 10..pos + 14].try_into().expect("4 bytes")) as usize;
        pos += 22 + len;
    }
    offsets
}

/// A file of `n` entries damaged by `damage`, which gets its bytes and the
/// offset of each record: the folder (kept alive), the path and the entries
/// written, and the offsets.
fn damaged_file(
    n: u64,
    damage: impl FnOnce(&mut Vec<u8>, &[usize]),
) -> (tempfile::TempDir, PathBuf, Vec<OplogEntry>, Vec<usize>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("agent.oplog");
    let written = write(&path, n);
    let mut bytes = std::fs::read(&path).expect("read");
    let offsets = record_offsets(&bytes);
    damage(&mut bytes, &offsets);
    std::fs::write(&path, &bytes).expect("write");
    (dir, path, written, offsets)
}

fn indexed(entries: &[OplogEntry], first: u64) -> Vec<(u64, OplogEntry)> {
    entries.iter().cloned().zip(first..).map(|(e, i)| (i, e)).collect()
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
fn a_flipped_bit_is_found_and_the_entries_after_it_are_shown() {
    let (_dir, path, written, offsets) = damaged_file(6, |bytes, offsets| bytes[offsets[2] + 22 + 3] ^= 0x10);
    let third = offsets[2];

    let (oplog, damage) = Oplog::open_file(&path).expect("open");
    let damage = damage.expect("damage reported");
    assert_eq!((damage.index, damage.offset), (3, third as u64));
    assert_eq!(damage.reason, "checksum mismatch");
    assert_eq!(oplog.entries(), &written[..2]);
    assert_eq!(damage.salvaged, indexed(&written[3..], 4));
    assert!(damage.to_string().contains("3 sound entries found after it (indexes 4 to 6)"), "{damage}");
}

#[test]
fn a_damaged_length_is_named_as_such_not_as_a_short_file() {
    // The length's high byte: far past the end of the file.
    let (_dir, path, written, _) = damaged_file(5, |bytes, offsets| bytes[offsets[1] + 13] = 0x7f);

    let (entries, damage) = Oplog::read_file(&path).expect("read");
    let damage = damage.expect("damage reported");
    assert_eq!(damage.index, 2);
    assert!(damage.reason.contains("header fails its checksum"), "{}", damage.reason);
    assert_eq!(entries, &written[..1]);
    // The records after it are found by searching for the next sound header.
    assert_eq!(damage.salvaged, indexed(&written[2..], 3));
}

#[test]
fn an_all_zero_block_does_not_pass_as_a_record() {
    // A block of zeros where the filesystem lost a page.
    let (_dir, path, written, _) = damaged_file(4, |bytes, offsets| {
        bytes.splice(offsets[2]..offsets[2], std::iter::repeat_n(0u8, 4096));
    });

    let (entries, damage) = Oplog::read_file(&path).expect("read");
    let damage = damage.expect("damage reported");
    assert_eq!(damage.index, 3);
    assert!(damage.reason.contains("marker is missing"), "{}", damage.reason);
    assert_eq!(entries, &written[..2]);
    assert_eq!(damage.salvaged, indexed(&written[2..], 3));
}

#[test]
fn duplicated_and_missing_records_are_found() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("agent.oplog");
    let written = write(&path, 4);
    let bytes = std::fs::read(&path).expect("read");
    let offsets = record_offsets(&bytes);
    let record = |i: usize| &bytes[offsets[i]..offsets.get(i + 1).copied().unwrap_or(bytes.len())];

    // Every record twice.
    let mut doubled = bytes[..file::HEADER_LEN].to_vec();
    for i in 0..4 {
        doubled.extend_from_slice(record(i));
        doubled.extend_from_slice(record(i));
    }
    std::fs::write(&path, &doubled).expect("write");
    let (entries, damage) = Oplog::read_file(&path).expect("read");
    let damage = damage.expect("duplicates are damage");
    assert_eq!(damage.index, 2);
    assert_eq!(damage.reason, "a second record of entry 1 stands where entry 2 belongs");
    assert_eq!(entries, &written[..1]);
    assert_eq!(damage.salvaged, indexed(&written[1..], 2));

    // Record 2 lost.
    let mut gap = bytes[..file::HEADER_LEN].to_vec();
    for i in [0, 2, 3] {
        gap.extend_from_slice(record(i));
    }
    std::fs::write(&path, &gap).expect("write");
    let (_, damage) = Oplog::read_file(&path).expect("read");
    let damage = damage.expect("a gap is damage");
    assert_eq!(damage.reason, "entries 2 to 2 are missing");
    assert_eq!(damage.salvaged, indexed(&written[2..], 3));
}

#[test]
fn a_torn_record_does_not_hide_the_records_written_after_it() {
    // Record 2 torn after 10 bytes of its payload, records 3 and 4 appended after it.
    let (dir, path, written, offsets) = damaged_file(4, |bytes, offsets| {
        bytes.drain(offsets[1] + 22 + 10..offsets[2]);
    });
    let torn = std::fs::read(&path).expect("read");

    let (oplog, damage) = Oplog::open_file(&path).expect("open");
    let damage = damage.expect("damage reported");
    assert_eq!((damage.index, oplog.entries()), (2, &written[..1]));
    assert_eq!(damage.salvaged, indexed(&written[2..], 3), "{}", damage.reason);
    // Opening for writing cut the tail, and kept it beside the file.
    let kept = std::fs::read(dir.path().join("agent.oplog.damaged")).expect("the damaged tail is kept");
    assert_eq!(kept, torn[offsets[1]..]);
}

#[test]
fn older_versions_are_read_and_rewritten_when_opened_for_writing() {
    use crate::bindings::golem::api::oplog::{JumpParameters, OplogRegion};
    let dir = tempfile::tempdir().expect("tempdir");
    let timestamp = Datetime { seconds: 1, nanoseconds: 0 };
    for (version, header) in [(1, OLD_HEADERS[0]), (2, OLD_HEADERS[1])] {
        let path = dir.path().join(format!("v{version}.oplog"));
        // Version 1 jumped from the entry before the region to the entry before the jump.
        let (start, end) = if version == 1 { (1, 2) } else { (2, 3) };
        let jump = OplogEntry::Jump(JumpParameters { timestamp, jump: OplogRegion { start, end } });
        let mut bytes = header.to_vec();
        for e in [entry(1), entry(2), jump] {
            bytes.extend(encode_v2(&e));
        }
        std::fs::write(&path, &bytes).expect("write");

        let (entries, damage) = Oplog::read_file(&path).expect("read");
        assert!(damage.is_none());
        assert!(matches!(&entries[2], OplogEntry::Jump(p) if (p.jump.start, p.jump.end) == (2, 3)), "v{version}");
        assert!(std::fs::read(&path).expect("read").starts_with(header), "reading leaves the file alone");

        let (mut oplog, _) = Oplog::open_file(&path).expect("open");
        oplog.append(entry(4)).expect("append");
        let reread = std::fs::read(&path).expect("read");
        assert!(reread.starts_with(file::HEADER), "opened for writing, the file is rewritten in the current version");
        let (entries, damage) = Oplog::read_file(&path).expect("read");
        assert!(damage.is_none());
        assert_eq!(entries.len(), 4);
        assert!(matches!(&entries[2], OplogEntry::Jump(p) if (p.jump.start, p.jump.end) == (2, 3)));
    }
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

/// A valid file of `n` entries, as bytes.
fn valid_file(n: u64) -> (Vec<u8>, Vec<OplogEntry>) {
    let entries: Vec<OplogEntry> = (1..=n).map(entry).collect();
    let mut bytes = file::HEADER.to_vec();
    for (i, e) in entries.iter().enumerate() {
        bytes.extend(file::encode(i as u64 + 1, e).expect("encode"));
    }
    (bytes, entries)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// Arbitrary bytes after any header: no panic, and damage whenever
    /// anything follows that is not a record.
    #[test]
    fn any_bytes_are_read_without_panicking(version in 0usize..3, tail in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let header = [file::HEADER, OLD_HEADERS[0], OLD_HEADERS[1]][version];
        let mut bytes = header.to_vec();
        bytes.extend_from_slice(&tail);
        let (records, _) = file::parse(&bytes).expect("an oplog header");
        prop_assert!(records.good_len <= bytes.len());
        if !tail.is_empty() && records.entries.is_empty() {
            prop_assert!(records.damage.is_some());
        }
    }

    /// A valid file damaged anywhere: every entry read back, kept or
    /// salvaged, is the entry written at that index; nothing is invented.
    #[test]
    fn damage_never_yields_a_wrong_entry(
        n in 1u64..12,
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 1..6),
    ) {
        let (mut bytes, written) = valid_file(n);
        for (at, byte, kind) in edits {
            let at = file::HEADER_LEN + at.index(bytes.len() - file::HEADER_LEN);
            match kind {
                0 => bytes[at] ^= byte | 1,
                1 => { bytes.remove(at); }
                _ => bytes.insert(at, byte),
            }
            if bytes.len() <= file::HEADER_LEN { break; }
        }
        let (records, _) = file::parse(&bytes).expect("header untouched");
        for (i, e) in records.entries.iter().enumerate() {
            prop_assert_eq!(e, &written[i]);
        }
        if let Some(damage) = &records.damage {
            prop_assert_eq!(damage.index, records.entries.len() as u64 + 1);
            for (index, e) in &damage.salvaged {
                prop_assert!(*index >= damage.index);
                prop_assert_eq!(e, &written[(*index - 1) as usize]);
            }
            prop_assert!(damage.salvaged.windows(2).all(|w| w[0].0 < w[1].0), "salvaged indexes increase");
        }
    }
}
