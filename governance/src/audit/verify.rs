//! [`verify`]: finds any changed, removed, reordered or truncated entry, and
//! any recorded output file that is missing or changed.

use std::collections::BTreeMap;
use std::fmt;
use std::fs::{self, File};
use std::io::{self, Read};
use std::path::{Component, Path, PathBuf};

use ring::digest;
use serde::Deserialize;

use super::entry::{Event, RawEntry, ZERO_HASH, mac_is_valid, sha256, split_lines};
use super::head::{DirLock, HEAD_FILE, Head, HeadState, LOG_FILE, read_head};
use super::torn::{self, TornKind, TornTail};
use crate::AuditSigner;

/// A log that verified, with what was checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    /// Entries in the log (all verified).
    pub entries: u64,
    /// Output files re-hashed (0 when no output root was given).
    pub files_checked: u64,
    /// The last entry's sequence number (0 for an empty log).
    pub last_seq: u64,
    /// The entry the head records. Entries after it (`last_seq - head_seq`)
    /// were appended but not yet synced when the writer stopped; they verify
    /// but are not protected against truncation by the head.
    pub head_seq: u64,
    /// The hash the head records (SHA-256 of line `head_seq`, hex; 64 zeros
    /// for an empty log). Copying it somewhere else (a ticket, an email)
    /// anchors the log: a later verify must reach the same hash at that entry.
    pub head_hash: String,
}

/// How an entry was found to be changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    /// The line is not valid UTF-8 JSON.
    NotJson,
    /// The line's MAC does not verify: its bytes changed (or it was written
    /// with another key).
    Mac,
    /// The line is authentic but not an entry this version can read.
    Unreadable,
}

impl fmt::Display for ChangeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ChangeKind::NotJson => "not valid JSON",
            ChangeKind::Mac => "its MAC does not match",
            ChangeKind::Unreadable => "authentic, but not an entry this version of tellonce can read",
        })
    }
}

/// Why a log failed verification: the first problem found, named precisely.
///
/// Messages name lines (from 1), entry sequence numbers, event types and
/// output paths, never entry contents.
#[derive(Debug, thiserror::Error)]
pub enum VerifyFailure {
    /// There is no `audit.jsonl` in the directory.
    #[error("no audit log at {}", path.display())]
    LogMissing {
        /// The path looked for.
        path: PathBuf,
    },
    /// The log or its head could not be read.
    #[error("cannot read {}", path.display())]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// The underlying I/O error.
        source: io::Error,
    },
    /// A line's bytes changed.
    #[error("line {line} (entry {seq}): entry changed ({how})")]
    Changed {
        /// The line, from 1.
        line: u64,
        /// The entry that belongs there.
        seq: u64,
        /// How the change showed.
        how: ChangeKind,
    },
    /// One or more entries were removed.
    #[error("{}", missing_message(*seq, *found, *line))]
    Missing {
        /// The line where the first missing entry belongs.
        line: u64,
        /// The first missing entry.
        seq: u64,
        /// The entry that line holds instead.
        found: u64,
    },
    /// Entries are out of order (swapped, moved or repeated).
    #[error("{}", order_message(*line, *seq, *found, *seq_at_line))]
    OutOfOrder {
        /// The first line out of order.
        line: u64,
        /// The entry that belongs there.
        seq: u64,
        /// The entry that line holds instead.
        found: u64,
        /// Where the entry that belongs at `line` is, if later in the log.
        seq_at_line: Option<u64>,
    },
    /// An entry does not hold the hash of the line before it.
    #[error("line {line} (entry {seq}): hash chain broken (its prev is not the hash of the line before)")]
    ChainBroken {
        /// The line, from 1.
        line: u64,
        /// The entry.
        seq: u64,
    },
    /// The last line has no newline: the log was cut mid-line.
    #[error("log truncated mid-line: line {line} (entry {seq}) is incomplete")]
    PartialLine {
        /// The incomplete line, from 1.
        line: u64,
        /// The entry that belongs there.
        seq: u64,
    },
    /// The log ends in a torn entry: a write cut short (a full disk, a power loss) left an
    /// incomplete last line, or a last line that is not an entry, after every entry the head
    /// records. Not tampering: `tellonce audit repair` cuts it off, audited.
    #[error(
        "the log ends in a torn entry: {torn}, after entry {last_seq}, the last whole entry; a write cut short \
         (a full disk, a power loss) leaves this, and nothing the head records is affected; \
         run `tellonce audit repair` to cut it off (the repair is recorded in the log)"
    )]
    Torn {
        /// Where the torn entry is and how it was found torn.
        torn: TornTail,
        /// The last whole entry before it.
        last_seq: u64,
    },
    /// The log holds entries but `audit.head.json` is missing.
    #[error("{HEAD_FILE} is missing but the log holds {last_seq} entries (the head was deleted)")]
    HeadMissing {
        /// The last entry in the log.
        last_seq: u64,
    },
    /// `audit.head.json` is malformed or its MAC does not verify.
    #[error("{HEAD_FILE} was changed or forged (its MAC does not verify)")]
    HeadChanged,
    /// The head records more entries than the log holds.
    #[error(
        "log truncated: head records {head_seq} entries, log holds {last_seq} (entry {} onward, from line {}, is gone)",
        last_seq + 1,
        last_seq + 1
    )]
    Truncated {
        /// The entry the head records.
        head_seq: u64,
        /// The last entry in the log.
        last_seq: u64,
    },
    /// The head's hash is not the hash of the line holding the entry it records.
    #[error("{HEAD_FILE} does not match line {line} (entry {seq}): the log was rewritten from there")]
    HeadMismatch {
        /// The line, from 1.
        line: u64,
        /// The entry the head records.
        seq: u64,
    },
    /// A recorded output file is gone.
    #[error("output file {path} is missing (recorded by entry {seq}, line {line})")]
    FileMissing {
        /// The path relative to the output root.
        path: String,
        /// The `file_written` entry that recorded it.
        seq: u64,
        /// That entry's line.
        line: u64,
    },
    /// A recorded output file's bytes differ from what was recorded.
    #[error("output file {path} was changed: its SHA-256 differs from entry {seq}, line {line}")]
    FileChanged {
        /// The path relative to the output root.
        path: String,
        /// The `file_written` entry that recorded it.
        seq: u64,
        /// That entry's line.
        line: u64,
    },
    /// A recorded output file exists but could not be read.
    #[error("cannot read output file {path} (recorded by entry {seq}, line {line})")]
    FileUnreadable {
        /// The path relative to the output root.
        path: String,
        /// The `file_written` entry that recorded it.
        seq: u64,
        /// That entry's line.
        line: u64,
        /// The underlying I/O error.
        source: io::Error,
    },
    /// A recorded path is not a plain relative path under the output root.
    #[error("entry {seq} (line {line}) records a path that is not inside the output root: {path}")]
    UnsafePath {
        /// The path as recorded.
        path: String,
        /// The `file_written` entry that recorded it.
        seq: u64,
        /// That entry's line.
        line: u64,
    },
}

fn missing_message(seq: u64, found: u64, line: u64) -> String {
    if found == seq + 1 {
        format!("entry {seq} is missing (line {line} holds entry {found})")
    } else {
        format!("entries {seq} to {} are missing (line {line} holds entry {found})", found - 1)
    }
}

fn order_message(line: u64, seq: u64, found: u64, seq_at_line: Option<u64>) -> String {
    match seq_at_line {
        Some(at) => format!(
            "entries out of order: line {line} holds entry {found} where entry {seq} belongs, \
             and entry {seq} is at line {at} (entries {seq} and {found} swapped or moved)"
        ),
        None => format!(
            "entries out of order: line {line} holds entry {found} where entry {seq} belongs \
             (entry {found} repeated or moved back)"
        ),
    }
}

impl VerifyFailure {
    /// The line (from 1) of the first bad entry, or of the entry that
    /// recorded a bad output file, when the failure has one.
    pub fn line(&self) -> Option<u64> {
        match self {
            VerifyFailure::Changed { line, .. }
            | VerifyFailure::Missing { line, .. }
            | VerifyFailure::OutOfOrder { line, .. }
            | VerifyFailure::ChainBroken { line, .. }
            | VerifyFailure::PartialLine { line, .. }
            | VerifyFailure::HeadMismatch { line, .. }
            | VerifyFailure::FileMissing { line, .. }
            | VerifyFailure::FileChanged { line, .. }
            | VerifyFailure::FileUnreadable { line, .. }
            | VerifyFailure::UnsafePath { line, .. } => Some(*line),
            VerifyFailure::Truncated { last_seq, .. } => Some(last_seq + 1),
            VerifyFailure::Torn { torn, .. } => Some(torn.line),
            VerifyFailure::LogMissing { .. }
            | VerifyFailure::Unreadable { .. }
            | VerifyFailure::HeadMissing { .. }
            | VerifyFailure::HeadChanged => None,
        }
    }

    /// The sequence number of the first bad entry, or of the entry that
    /// recorded a bad output file, when the failure has one.
    pub fn seq(&self) -> Option<u64> {
        match self {
            VerifyFailure::Changed { seq, .. }
            | VerifyFailure::Missing { seq, .. }
            | VerifyFailure::OutOfOrder { seq, .. }
            | VerifyFailure::ChainBroken { seq, .. }
            | VerifyFailure::PartialLine { seq, .. }
            | VerifyFailure::HeadMismatch { seq, .. }
            | VerifyFailure::FileMissing { seq, .. }
            | VerifyFailure::FileChanged { seq, .. }
            | VerifyFailure::FileUnreadable { seq, .. }
            | VerifyFailure::UnsafePath { seq, .. } => Some(*seq),
            VerifyFailure::Truncated { last_seq, .. } | VerifyFailure::Torn { last_seq, .. } => Some(last_seq + 1),
            VerifyFailure::LogMissing { .. }
            | VerifyFailure::Unreadable { .. }
            | VerifyFailure::HeadMissing { .. }
            | VerifyFailure::HeadChanged => None,
        }
    }
}

/// Just the sequence number of a line, for looking ahead.
#[derive(Deserialize)]
struct SeqOnly {
    seq: u64,
}

/// A file recorded by a `file_written` entry.
struct Recorded {
    sha256: String,
    seq: u64,
    line: u64,
}

/// Verifies the audit log in `dir` with `signer`, and, when `output_root`
/// is given, re-hashes every output file the log says should exist there.
///
/// Line by line, in order: the line is valid UTF-8 JSON; its MAC verifies;
/// its `seq` is one more than the previous line's; its `prev` is the
/// SHA-256 of the previous line's bytes. Then the end: a torn final entry
/// (see [`TornTail`]) after everything the head records is
/// [`VerifyFailure::Torn`], while one the head records was damaged after it
/// was acknowledged ([`VerifyFailure::PartialLine`]); `audit.head.json` must exist
/// (unless the log is empty), verify, record no more entries than the log
/// holds, and hold the hash of the line it names. Then every file recorded
/// by the latest `file_written` entry for its path, and not deleted by a
/// later `file_deleted`, must exist under `output_root` with the recorded
/// SHA-256 (checked in entry order).
///
/// Works on the raw bytes of the log, never re-serialising entries. The log
/// and head are read together under `audit.lock` held shared, so a live
/// writer's half-written line is never mistaken for damage (when the lock
/// file cannot be created or opened, as on read-only media, they are read
/// without it).
///
/// # Errors
///
/// The first problem found, as a [`VerifyFailure`] naming the line and entry.
pub fn verify(dir: &Path, signer: &AuditSigner, output_root: Option<&Path>) -> Result<VerifyReport, VerifyFailure> {
    let (bytes, head) = read_log_and_head(dir, signer)?;
    let checked = check_log(&bytes, head, signer, output_root.is_some())?;
    if let Some(torn) = checked.torn {
        return Err(VerifyFailure::Torn { torn, last_seq: checked.last_seq });
    }
    let Checked { entries, last_seq, head, events, .. } = checked;

    let mut files_checked = 0;
    if let Some(root) = output_root {
        let mut files: BTreeMap<&str, Recorded> = BTreeMap::new();
        for (seq, line, event) in &events {
            match event {
                Event::FileWritten { path, sha256, .. } => {
                    files.insert(path, Recorded { sha256: sha256.clone(), seq: *seq, line: *line });
                }
                Event::FileDeleted { path, .. } => {
                    files.remove(path.as_str());
                }
                _ => {}
            }
        }
        let mut live: Vec<(&str, &Recorded)> = files.iter().map(|(p, r)| (*p, r)).collect();
        live.sort_by_key(|(_, r)| r.seq);
        for (path, recorded) in live {
            check_file(root, path, recorded)?;
            files_checked += 1;
        }
    }

    Ok(VerifyReport { entries, files_checked, last_seq, head_seq: head.seq, head_hash: hex::encode(head.hash) })
}

/// What [`check_log`] found: a log whose entries (up to any torn final entry) and head verify.
pub(crate) struct Checked {
    /// Whole entries, all verified.
    pub(crate) entries: u64,
    /// The last whole entry's sequence number (0 for none).
    pub(crate) last_seq: u64,
    /// SHA-256 of its line ([`ZERO_HASH`] for none).
    pub(crate) last_hash: [u8; 32],
    /// The head, authenticated (the empty head for an empty log without one).
    pub(crate) head: Head,
    /// `(seq, line, event)` of every `file_written` and `file_deleted` entry, when asked for.
    pub(crate) events: Vec<(u64, u64, Event)>,
    /// A torn final entry after every entry the head records, if the log ends in one.
    pub(crate) torn: Option<TornTail>,
}

/// Checks the log bytes `bytes` and its head: every whole line, in order, then the head.
///
/// A torn final entry ([`torn::find`]) is set aside first and the rest checked without it.
/// When the head records the torn entry, it was acknowledged, and its damage is reported as
/// tampering ([`VerifyFailure::PartialLine`], or [`VerifyFailure::Changed`] for a line that is
/// not an entry), never as a tear.
pub(crate) fn check_log(
    bytes: &[u8],
    head: HeadState,
    signer: &AuditSigner,
    keep_file_events: bool,
) -> Result<Checked, VerifyFailure> {
    let torn = torn::find(bytes, signer);
    let whole = torn.and_then(|t| usize::try_from(t.offset).ok()).map_or(bytes, |end| &bytes[..end]);
    let (lines, fragment) = split_lines(whole);

    let mut last_seq = 0u64;
    let mut prev = ZERO_HASH;
    let mut hashes: Vec<[u8; 32]> = Vec::with_capacity(lines.len());
    let mut events: Vec<(u64, u64, Event)> = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let number = i as u64 + 1;
        let expected = last_seq + 1;
        let changed = |how| VerifyFailure::Changed { line: number, seq: expected, how };
        if std::str::from_utf8(line).is_err() || serde_json::from_slice::<serde_json::Value>(line).is_err() {
            return Err(changed(ChangeKind::NotJson));
        }
        if !mac_is_valid(line, signer) {
            return Err(changed(ChangeKind::Mac));
        }
        let raw = RawEntry::parse(line).map_err(|_| changed(ChangeKind::Unreadable))?;
        if raw.seq > expected {
            let later = lines.iter().enumerate().skip(i + 1).find(|(_, l)| authentic_seq(l, signer) == Some(expected));
            return Err(match later {
                Some((j, _)) => VerifyFailure::OutOfOrder {
                    line: number,
                    seq: expected,
                    found: raw.seq,
                    seq_at_line: Some(j as u64 + 1),
                },
                None => VerifyFailure::Missing { line: number, seq: expected, found: raw.seq },
            });
        }
        if raw.seq < expected {
            return Err(VerifyFailure::OutOfOrder { line: number, seq: expected, found: raw.seq, seq_at_line: None });
        }
        if raw.prev != hex::encode(prev) {
            return Err(VerifyFailure::ChainBroken { line: number, seq: expected });
        }
        prev = sha256(line);
        hashes.push(prev);
        last_seq = expected;
        if keep_file_events && matches!(raw.event, Event::FileWritten { .. } | Event::FileDeleted { .. }) {
            events.push((raw.seq, number, raw.event));
        }
    }
    if fragment.is_some() {
        // Not reached: a fragment is always taken as torn above.
        let line = lines.len() as u64 + 1;
        return Err(VerifyFailure::PartialLine { line, seq: last_seq + 1 });
    }

    let head = match head {
        HeadState::Absent if last_seq == 0 => Head::EMPTY,
        HeadState::Absent => return Err(VerifyFailure::HeadMissing { last_seq }),
        HeadState::NotAuthentic => return Err(VerifyFailure::HeadChanged),
        HeadState::Valid(head) => head,
    };
    if head.seq > last_seq {
        // The head records the torn entry: it was acknowledged, so it was damaged afterwards.
        return Err(match torn {
            Some(t) if head.seq == last_seq + 1 => match t.kind {
                TornKind::Incomplete => VerifyFailure::PartialLine { line: t.line, seq: head.seq },
                TornKind::NotAnEntry => {
                    VerifyFailure::Changed { line: t.line, seq: head.seq, how: ChangeKind::NotJson }
                }
            },
            _ => VerifyFailure::Truncated { head_seq: head.seq, last_seq },
        });
    }
    let at_head = match head.seq.checked_sub(1) {
        None => ZERO_HASH,
        Some(i) => usize::try_from(i).ok().and_then(|i| hashes.get(i)).copied().unwrap_or(ZERO_HASH),
    };
    if at_head != head.hash {
        return Err(VerifyFailure::HeadMismatch { line: head.seq, seq: head.seq });
    }
    Ok(Checked { entries: lines.len() as u64, last_seq, last_hash: prev, head, events, torn })
}

/// The bytes of the log and the state of its head, read together under the
/// shared lock (when it can be had) so that they are one writer's consistent
/// state, not a half-written line or a head from after the bytes read.
fn read_log_and_head(dir: &Path, signer: &AuditSigner) -> Result<(Vec<u8>, HeadState), VerifyFailure> {
    let log_path = dir.join(LOG_FILE);
    let _lock = DirLock::shared(dir);
    let bytes = match fs::read(&log_path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(VerifyFailure::LogMissing { path: log_path }),
        Err(source) => return Err(VerifyFailure::Unreadable { path: log_path, source }),
    };
    let head =
        read_head(dir, signer).map_err(|source| VerifyFailure::Unreadable { path: dir.join(HEAD_FILE), source })?;
    Ok((bytes, head))
}

/// The sequence number of a line whose MAC verifies.
fn authentic_seq(line: &[u8], signer: &AuditSigner) -> Option<u64> {
    if !mac_is_valid(line, signer) {
        return None;
    }
    serde_json::from_slice::<SeqOnly>(line).ok().map(|s| s.seq)
}

/// Re-hashes one recorded output file.
fn check_file(root: &Path, path: &str, recorded: &Recorded) -> Result<(), VerifyFailure> {
    let (seq, line) = (recorded.seq, recorded.line);
    let relative = Path::new(path);
    let plain =
        !path.is_empty() && !path.contains('\\') && relative.components().all(|c| matches!(c, Component::Normal(_)));
    if !plain {
        return Err(VerifyFailure::UnsafePath { path: path.to_string(), seq, line });
    }
    let full = root.join(relative);
    let digest = match hash_file(&full) {
        Ok(digest) => digest,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Err(VerifyFailure::FileMissing { path: path.to_string(), seq, line });
        }
        Err(source) => return Err(VerifyFailure::FileUnreadable { path: path.to_string(), seq, line, source }),
    };
    if !hex::encode(digest).eq_ignore_ascii_case(&recorded.sha256) {
        return Err(VerifyFailure::FileChanged { path: path.to_string(), seq, line });
    }
    Ok(())
}

/// SHA-256 of a file's bytes, streamed.
fn hash_file(path: &Path) -> io::Result<[u8; 32]> {
    let mut file = File::open(path)?;
    let mut context = digest::Context::new(&digest::SHA256);
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        context.update(&buf[..n]);
    }
    let mut out = [0u8; 32];
    out.copy_from_slice(context.finish().as_ref());
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::AuditLog;
    use crate::audit::head::{Head, write_head};
    use crate::audit::testutil::{lines_of, signer, write_lines, write_sample_log};

    fn failure(dir: &Path) -> VerifyFailure {
        match verify(dir, &signer(), None) {
            Err(f) => f,
            Ok(report) => panic!("expected a failure, got {report:?}"),
        }
    }

    #[test]
    fn clean_log_verifies() {
        let dir = tempfile::tempdir().unwrap();
        write_sample_log(dir.path(), 10);
        let report = verify(dir.path(), &signer(), None).unwrap();
        assert_eq!(report.entries, 10);
        assert_eq!(report.last_seq, 10);
        assert_eq!(report.head_seq, 10);
        assert_eq!(report.files_checked, 0);
        let lines = lines_of(dir.path());
        assert_eq!(report.head_hash, hex::encode(sha256(lines[9].as_bytes())));
    }

    #[test]
    fn empty_log_verifies_with_or_without_head() {
        let dir = tempfile::tempdir().unwrap();
        drop(AuditLog::open(dir.path(), signer()).unwrap());
        let report = verify(dir.path(), &signer(), None).unwrap();
        assert_eq!((report.entries, report.last_seq, report.head_seq), (0, 0, 0));
        fs::remove_file(dir.path().join(HEAD_FILE)).unwrap();
        assert!(verify(dir.path(), &signer(), None).is_ok());
        fs::remove_file(dir.path().join(LOG_FILE)).unwrap();
        assert!(matches!(failure(dir.path()), VerifyFailure::LogMissing { .. }));
    }

    #[test]
    fn one_changed_byte_names_the_entry() {
        let dir = tempfile::tempdir().unwrap();
        write_sample_log(dir.path(), 9);
        let path = dir.path().join(LOG_FILE);
        let original = fs::read(&path).unwrap();
        let lines = lines_of(dir.path());
        let start: usize = lines[..4].iter().map(|l| l.len() + 1).sum();
        // Every byte of line 5, each changed in turn: always caught at line 5 / entry 5.
        for offset in 0..lines[4].len() {
            let mut bytes = original.clone();
            bytes[start + offset] ^= 0x04;
            fs::write(&path, &bytes).unwrap();
            match failure(dir.path()) {
                VerifyFailure::Changed { line: 5, seq: 5, .. } => {}
                other => panic!("byte {offset}: {other}"),
            }
        }
        // A byte that keeps the JSON valid is a MAC failure; one that breaks it is not JSON.
        let mut bytes = original.clone();
        let pos = start + lines[4].find("\"at\":\"").unwrap() + 7;
        bytes[pos] = if bytes[pos] == b'1' { b'2' } else { b'1' };
        fs::write(&path, &bytes).unwrap();
        let f = failure(dir.path());
        assert!(matches!(f, VerifyFailure::Changed { line: 5, seq: 5, how: ChangeKind::Mac }), "{f}");
        assert_eq!(f.to_string(), "line 5 (entry 5): entry changed (its MAC does not match)");
        let mut bytes = original.clone();
        bytes[start] = b'[';
        fs::write(&path, &bytes).unwrap();
        let f = failure(dir.path());
        assert!(matches!(f, VerifyFailure::Changed { line: 5, seq: 5, how: ChangeKind::NotJson }), "{f}");
        assert_eq!(f.to_string(), "line 5 (entry 5): entry changed (not valid JSON)");
        assert_eq!((f.line(), f.seq()), (Some(5), Some(5)));
    }

    #[test]
    fn a_deleted_entry_is_named() {
        let dir = tempfile::tempdir().unwrap();
        write_sample_log(dir.path(), 8);
        let mut lines = lines_of(dir.path());
        lines.remove(4);
        write_lines(dir.path(), &lines);
        let f = failure(dir.path());
        assert!(matches!(f, VerifyFailure::Missing { line: 5, seq: 5, found: 6 }), "{f}");
        assert_eq!(f.to_string(), "entry 5 is missing (line 5 holds entry 6)");

        lines.drain(4..6);
        write_lines(dir.path(), &lines);
        let f = failure(dir.path());
        assert!(matches!(f, VerifyFailure::Missing { line: 5, seq: 5, found: 8 }), "{f}");
        assert_eq!(f.to_string(), "entries 5 to 7 are missing (line 5 holds entry 8)");
    }

    #[test]
    fn swapped_entries_are_named() {
        let dir = tempfile::tempdir().unwrap();
        write_sample_log(dir.path(), 8);
        let mut lines = lines_of(dir.path());
        lines.swap(3, 4);
        write_lines(dir.path(), &lines);
        let f = failure(dir.path());
        assert!(matches!(f, VerifyFailure::OutOfOrder { line: 4, seq: 4, found: 5, seq_at_line: Some(5) }), "{f}");
        let message = f.to_string();
        assert!(message.contains("line 4 holds entry 5") && message.contains("entry 4 is at line 5"), "{message}");
    }

    #[test]
    fn a_repeated_entry_is_out_of_order() {
        let dir = tempfile::tempdir().unwrap();
        write_sample_log(dir.path(), 6);
        let mut lines = lines_of(dir.path());
        let copy = lines[1].clone();
        lines.insert(3, copy);
        write_lines(dir.path(), &lines);
        let f = failure(dir.path());
        assert!(matches!(f, VerifyFailure::OutOfOrder { line: 4, seq: 4, found: 2, seq_at_line: None }), "{f}");
    }

    #[test]
    fn an_authentic_line_from_another_log_breaks_the_chain() {
        let dir = tempfile::tempdir().unwrap();
        let other = tempfile::tempdir().unwrap();
        write_sample_log(dir.path(), 5);
        // A second log under the same key, with different times and so different hashes.
        let mut log = AuditLog::open(other.path(), signer()).unwrap();
        for i in 0..5 {
            log.append_at(&crate::audit::testutil::sample_events()[0], 1_000 + i).unwrap();
        }
        log.sync().unwrap();
        let mut lines = lines_of(dir.path());
        lines[2] = lines_of(other.path())[2].clone();
        write_lines(dir.path(), &lines);
        let f = failure(dir.path());
        assert!(matches!(f, VerifyFailure::ChainBroken { line: 3, seq: 3 }), "{f}");
    }

    #[test]
    fn truncation_at_a_line_boundary_is_caught_by_the_head() {
        let dir = tempfile::tempdir().unwrap();
        write_sample_log(dir.path(), 8);
        let lines = lines_of(dir.path());
        write_lines(dir.path(), &lines[..6]);
        let f = failure(dir.path());
        assert!(matches!(f, VerifyFailure::Truncated { head_seq: 8, last_seq: 6 }), "{f}");
        assert!(f.to_string().starts_with("log truncated: head records 8 entries, log holds 6"), "{f}");
        assert_eq!((f.line(), f.seq()), (Some(7), Some(7)));
    }

    #[test]
    fn truncation_mid_line_is_caught() {
        let dir = tempfile::tempdir().unwrap();
        write_sample_log(dir.path(), 8);
        let path = dir.path().join(LOG_FILE);
        let mut bytes = fs::read(&path).unwrap();
        let lines = lines_of(dir.path());
        bytes.truncate(bytes.len() - lines[7].len() / 2);
        fs::write(&path, &bytes).unwrap();
        let f = failure(dir.path());
        assert!(matches!(f, VerifyFailure::PartialLine { line: 8, seq: 8 }), "{f}");
        // Only the final newline gone: still an incomplete line.
        let mut bytes = fs::read(&path).unwrap();
        bytes.truncate(bytes.len() - 1);
        fs::write(&path, &bytes).unwrap();
        assert!(matches!(failure(dir.path()), VerifyFailure::PartialLine { line: 8, seq: 8 }));
    }

    #[test]
    fn a_torn_entry_after_the_head_is_torn_and_one_the_head_records_is_damage() {
        let dir = tempfile::tempdir().unwrap();
        write_sample_log(dir.path(), 6);
        let path = dir.path().join(LOG_FILE);
        let whole = fs::read(&path).unwrap();
        let lines = lines_of(dir.path());
        // Zeros where an unacknowledged entry was being written (the head records entry 6).
        let mut zeros = whole.clone();
        zeros.extend_from_slice(&[0u8; 100]);
        zeros.push(b'\n');
        fs::write(&path, &zeros).unwrap();
        match failure(dir.path()) {
            f @ VerifyFailure::Torn { torn, last_seq: 6 } => {
                assert_eq!((torn.line, torn.offset, torn.bytes), (7, whole.len() as u64, 101));
                assert_eq!(torn.kind, TornKind::NotAnEntry);
                assert!(f.to_string().contains("tellonce audit repair"), "{f}");
                assert_eq!((f.line(), f.seq()), (Some(7), Some(7)));
            }
            other => panic!("{other}"),
        }
        // The same bytes in place of entry 6, which the head records: damage, not a tear.
        let mut damaged = whole[..whole.len() - lines[5].len() - 1].to_vec();
        damaged.extend_from_slice(&[0u8; 100]);
        damaged.push(b'\n');
        fs::write(&path, &damaged).unwrap();
        assert!(matches!(failure(dir.path()), VerifyFailure::Changed { line: 6, seq: 6, how: ChangeKind::NotJson }));
        // Unsynced entries before the tear are kept and verified; one that does not chain is
        // tampering however the log ends.
        write_head(dir.path(), &Head { seq: 4, hash: sha256(lines[3].as_bytes()) }, &signer()).unwrap();
        let mut swapped = lines.clone();
        swapped.swap(4, 5);
        write_lines(dir.path(), &swapped);
        crate::audit::testutil::append_raw(dir.path(), b"{\"seq\":7");
        assert!(matches!(failure(dir.path()), VerifyFailure::OutOfOrder { line: 5, .. }));
    }

    #[test]
    fn deleted_head_is_caught() {
        let dir = tempfile::tempdir().unwrap();
        write_sample_log(dir.path(), 4);
        fs::remove_file(dir.path().join(HEAD_FILE)).unwrap();
        assert!(matches!(failure(dir.path()), VerifyFailure::HeadMissing { last_seq: 4 }));
    }

    #[test]
    fn forged_head_is_caught() {
        let dir = tempfile::tempdir().unwrap();
        write_sample_log(dir.path(), 6);
        let lines = lines_of(dir.path());
        write_lines(dir.path(), &lines[..4]);
        // Someone truncates the log and rewrites the head to match, without the key.
        let hash = hex::encode(sha256(lines[3].as_bytes()));
        let forged = format!("{{\"seq\":4,\"hash\":\"{hash}\",\"mac\":\"{}\"}}\n", "ab".repeat(32));
        fs::write(dir.path().join(HEAD_FILE), forged).unwrap();
        let f = failure(dir.path());
        assert!(matches!(f, VerifyFailure::HeadChanged), "{f}");
        // A head signed with another key is no better.
        let other = crate::KeyRing::from_master([3u8; 32]).audit_signer();
        write_head(dir.path(), &Head { seq: 4, hash: sha256(lines[3].as_bytes()) }, &other).unwrap();
        assert!(matches!(failure(dir.path()), VerifyFailure::HeadChanged));
    }

    #[test]
    fn head_with_the_wrong_hash_is_caught() {
        let dir = tempfile::tempdir().unwrap();
        write_sample_log(dir.path(), 6);
        write_head(dir.path(), &Head { seq: 6, hash: [9; 32] }, &signer()).unwrap();
        let f = failure(dir.path());
        assert!(matches!(f, VerifyFailure::HeadMismatch { line: 6, seq: 6 }), "{f}");
    }

    #[test]
    fn entries_after_the_head_verify_and_are_reported() {
        let dir = tempfile::tempdir().unwrap();
        write_sample_log(dir.path(), 6);
        let lines = lines_of(dir.path());
        write_head(dir.path(), &Head { seq: 4, hash: sha256(lines[3].as_bytes()) }, &signer()).unwrap();
        let report = verify(dir.path(), &signer(), None).unwrap();
        assert_eq!((report.entries, report.last_seq, report.head_seq), (6, 6, 4));
    }

    #[test]
    fn wrong_key_fails_at_line_one() {
        let dir = tempfile::tempdir().unwrap();
        write_sample_log(dir.path(), 3);
        let other = crate::KeyRing::from_master([5u8; 32]).audit_signer();
        let f = verify(dir.path(), &other, None).unwrap_err();
        assert!(matches!(f, VerifyFailure::Changed { line: 1, seq: 1, how: ChangeKind::Mac }), "{f}");
    }

    /// A log recording three output files (one later deleted, one rewritten).
    fn log_with_files(dir: &Path, out: &Path) {
        let written = |path: &str, content: &[u8]| {
            let full = out.join(path);
            fs::create_dir_all(full.parent().unwrap()).unwrap();
            fs::write(&full, content).unwrap();
            Event::FileWritten {
                dataset: "staging".into(),
                path: path.into(),
                sha256: hex::encode(sha256(content)),
                rows: 3,
                bytes: content.len() as u64,
                feed: Some("police".into()),
                agreement: Some("ISA-POL@2".into()),
                retention_until: Some("2030-01-01".into()),
            }
        };
        let mut log = AuditLog::open(dir, signer()).unwrap();
        log.append(&Event::KeysUsed { key_id: "k".into(), purposes: vec![] }).unwrap();
        log.append(&written("staging/feed=police/part-1.parquet", b"one")).unwrap();
        log.append(&written("staging/feed=police/part-2.parquet", b"two")).unwrap();
        log.append(&written("staging/feed=camhs/part-1.parquet", b"old")).unwrap();
        fs::remove_file(out.join("staging/feed=police/part-2.parquet")).unwrap();
        log.append(&Event::FileDeleted {
            path: "staging/feed=police/part-2.parquet".into(),
            sha256: hex::encode(sha256(b"two")),
            reason: "retention".into(),
            agreement: Some("ISA-POL@2".into()),
        })
        .unwrap();
        log.append(&written("staging/feed=camhs/part-1.parquet", b"new")).unwrap();
        log.sync().unwrap();
    }

    #[test]
    fn output_files_verify() {
        let dir = tempfile::tempdir().unwrap();
        let out = tempfile::tempdir().unwrap();
        log_with_files(dir.path(), out.path());
        let report = verify(dir.path(), &signer(), Some(out.path())).unwrap();
        assert_eq!(report.files_checked, 2);
        assert_eq!(report.entries, 6);
    }

    #[test]
    fn a_modified_output_file_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let out = tempfile::tempdir().unwrap();
        log_with_files(dir.path(), out.path());
        fs::write(out.path().join("staging/feed=police/part-1.parquet"), b"onE").unwrap();
        let f = verify(dir.path(), &signer(), Some(out.path())).unwrap_err();
        match &f {
            VerifyFailure::FileChanged { path, seq: 2, line: 2 } => {
                assert_eq!(path, "staging/feed=police/part-1.parquet");
            }
            other => panic!("{other}"),
        }
        assert!(f.to_string().contains("staging/feed=police/part-1.parquet"));
        // Without an output root the log itself still verifies.
        assert!(verify(dir.path(), &signer(), None).is_ok());
    }

    #[test]
    fn a_deleted_output_file_is_named_by_its_latest_record() {
        let dir = tempfile::tempdir().unwrap();
        let out = tempfile::tempdir().unwrap();
        log_with_files(dir.path(), out.path());
        fs::remove_file(out.path().join("staging/feed=camhs/part-1.parquet")).unwrap();
        let f = verify(dir.path(), &signer(), Some(out.path())).unwrap_err();
        match &f {
            VerifyFailure::FileMissing { path, seq: 6, line: 6 } => {
                assert_eq!(path, "staging/feed=camhs/part-1.parquet")
            }
            other => panic!("{other}"),
        }
        assert_eq!(
            f.to_string(),
            "output file staging/feed=camhs/part-1.parquet is missing (recorded by entry 6, line 6)"
        );
    }

    #[test]
    fn a_path_outside_the_root_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let out = tempfile::tempdir().unwrap();
        let mut log = AuditLog::open(dir.path(), signer()).unwrap();
        for path in ["../escape.parquet", "/etc/passwd"] {
            log.append(&Event::FileWritten {
                dataset: "staging".into(),
                path: path.into(),
                sha256: "00".repeat(32),
                rows: 0,
                bytes: 0,
                feed: None,
                agreement: None,
                retention_until: None,
            })
            .unwrap();
        }
        log.sync().unwrap();
        let f = verify(dir.path(), &signer(), Some(out.path())).unwrap_err();
        assert!(matches!(f, VerifyFailure::UnsafePath { seq: 1, line: 1, .. }), "{f}");
    }
}
