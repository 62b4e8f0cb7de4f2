//! Torn final entries: what a write cut short (a full disk, a power loss) leaves at the end of
//! the log, told apart from tampering.
//!
//! A writer appends whole lines, each ending in a newline, and fsyncs before the head records
//! them. A write cut short can only leave its damage at the very end of the file: a last line
//! with no newline, or (on file systems that extend a file before its data reaches the disk) a
//! last line of bytes that are not an entry at all. Both are *torn*. A complete line that is an
//! entry but whose MAC, number or chain is wrong is never torn: no failed write produces it, so
//! it is tampering (or damage) and is reported as such.
//!
//! Whether a torn entry may be cut off is decided with the head: an entry the head records was
//! acknowledged and is never cut (that is a damaged acknowledged entry, reported as tampering);
//! anything after it was never acknowledged, since the head moves only after the write and its
//! fsync succeeded.

use std::fmt;

use super::entry::{RawEntry, mac_is_valid, split_lines};
use crate::AuditSigner;

/// How a final entry was found torn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TornKind {
    /// The last line has no newline: the write stopped part-way through it.
    Incomplete,
    /// The last line ends in a newline but is not an entry (not JSON, or not an entry, and not
    /// signed with the audit key): bytes a cut-short write left, such as zeros.
    NotAnEntry,
}

impl fmt::Display for TornKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TornKind::Incomplete => "incomplete (no newline)",
            TornKind::NotAnEntry => "not an entry",
        })
    }
}

/// A torn final entry: the bytes from `offset` to the end of the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TornTail {
    /// The line the torn entry starts on, from 1.
    pub line: u64,
    /// The byte offset it starts at: the length the log has once it is cut off.
    pub offset: u64,
    /// How many bytes it holds (to the end of the file).
    pub bytes: u64,
    /// How it was found torn.
    pub kind: TornKind,
}

impl fmt::Display for TornTail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {} ({} bytes from byte {}) is {}", self.line, self.bytes, self.offset, self.kind)
    }
}

/// The torn final entry of the log bytes `bytes`, if it ends in one. Only the last line is
/// looked at; whether the lines before it verify, and whether the head records the torn entry,
/// is for the caller to check on `bytes[..offset]`.
pub(crate) fn find(bytes: &[u8], signer: &AuditSigner) -> Option<TornTail> {
    let (lines, fragment) = split_lines(bytes);
    let total = bytes.len() as u64;
    if let Some(fragment) = fragment {
        let len = fragment.len() as u64;
        return Some(TornTail {
            line: lines.len() as u64 + 1,
            offset: total - len,
            bytes: len,
            kind: TornKind::Incomplete,
        });
    }
    let last = lines.last()?;
    // An authentic line is never torn, even one this version cannot read.
    if RawEntry::parse(last).is_ok() || mac_is_valid(last, signer) {
        return None;
    }
    let len = last.len() as u64 + 1;
    Some(TornTail { line: lines.len() as u64, offset: total - len, bytes: len, kind: TornKind::NotAnEntry })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::testutil::{lines_of, signer, write_sample_log};

    fn log_bytes(n: usize) -> (tempfile::TempDir, Vec<u8>) {
        let dir = tempfile::tempdir().unwrap();
        write_sample_log(dir.path(), n);
        let bytes = std::fs::read(dir.path().join(crate::audit::LOG_FILE)).unwrap();
        (dir, bytes)
    }

    #[test]
    fn a_whole_log_is_not_torn() {
        let (_dir, bytes) = log_bytes(4);
        assert_eq!(find(&bytes, &signer()), None);
        assert_eq!(find(b"", &signer()), None);
    }

    #[test]
    fn a_last_line_without_newline_is_torn_from_its_start() {
        let (dir, mut bytes) = log_bytes(4);
        let whole = bytes.len() as u64;
        bytes.extend_from_slice(b"{\"seq\":5,\"at\":\"20");
        let torn = find(&bytes, &signer()).unwrap();
        assert_eq!(torn, TornTail { line: 5, offset: whole, bytes: 17, kind: TornKind::Incomplete });
        // A whole entry missing only its newline is still incomplete.
        let lines = lines_of(dir.path());
        let cut = &bytes[..whole as usize - 1];
        let torn = find(cut, &signer()).unwrap();
        assert_eq!((torn.line, torn.bytes, torn.kind), (4, lines[3].len() as u64, TornKind::Incomplete));
    }

    #[test]
    fn a_last_line_that_is_not_an_entry_is_torn_but_a_changed_entry_is_not() {
        let (dir, bytes) = log_bytes(4);
        let mut zeros = bytes.clone();
        zeros.extend_from_slice(&[0u8; 40]);
        zeros.push(b'\n');
        let torn = find(&zeros, &signer()).unwrap();
        assert_eq!(torn, TornTail { line: 5, offset: bytes.len() as u64, bytes: 41, kind: TornKind::NotAnEntry });
        // A complete entry that parses but whose MAC fails is tampering, not a tear.
        let lines = lines_of(dir.path());
        let changed = lines[3].replacen("\"seq\":4", "\"seq\":5", 1);
        let mut tampered = bytes[..bytes.len() - lines[3].len() - 1].to_vec();
        tampered.extend_from_slice(changed.as_bytes());
        tampered.push(b'\n');
        assert_eq!(find(&tampered, &signer()), None);
    }
}
