//! [`AuditError`]: what can go wrong opening, appending to or reading the log.
//!
//! No variant carries entry contents: only paths, line numbers and sequence
//! numbers, so the messages are safe to log.

use std::io;
use std::path::{Path, PathBuf};

use super::torn::TornTail;

/// A problem opening, appending to or reading an audit log.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    /// A file or directory of the log could not be read, created, written or
    /// synced. The operating system's reason is the error's `source`.
    #[error("cannot {action} {}", path.display())]
    Io {
        /// What was being done (`read`, `create`, `append to`, `sync`, ...).
        action: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The underlying I/O error.
        source: io::Error,
    },

    /// [`AuditLog::open`](super::AuditLog::open) found the end of the log or
    /// its head not as a writer with this key would leave it, or a writer,
    /// about to write, found lines appended by another writer that do not
    /// continue the chain; it refuses to append (fail closed).
    #[error(
        "refusing to append to the audit log in {}: {problem}; run `tellonce audit verify` to find what changed, \
         and do not write to this log until that has been investigated",
        dir.display()
    )]
    Refused {
        /// The log directory.
        dir: PathBuf,
        /// What was found.
        problem: TailProblem,
    },

    /// The log ends in a torn entry (a write cut short by a full disk or a power loss) after
    /// every entry its head records: not tampering, but nothing may be appended after it until
    /// `tellonce audit repair` has cut it off.
    #[error(
        "the audit log in {} ends in a torn entry ({torn}): a write was cut short (a full disk, a power loss); \
         nothing it acknowledged is affected; run `tellonce audit repair` to cut it off, then try again",
        dir.display()
    )]
    Torn {
        /// The log directory.
        dir: PathBuf,
        /// Where the torn entry is.
        torn: TornTail,
    },

    /// A line could not be read as an audit entry (reading does not verify;
    /// run the verifier to learn whether it was changed).
    #[error(
        "{} line {line} is not a readable audit entry; run `tellonce audit verify`, which tells a torn final entry \
         (a write cut short, which `tellonce audit repair` cuts off) from a changed one",
        path.display()
    )]
    Malformed {
        /// The log file.
        path: PathBuf,
        /// The line, from 1.
        line: u64,
        /// The parser's reason (it names a column, never the content).
        source: serde_json::Error,
    },

    /// An event could not be encoded as JSON.
    #[error("cannot encode audit entry {seq}")]
    Encode {
        /// The sequence number the entry would have had (when another writer
        /// appends first, entries are numbered later, so this is the writer's
        /// best knowledge when the event was appended).
        seq: u64,
        /// The encoder's reason.
        source: serde_json::Error,
    },

    /// An incremental reader's cursor no longer fits the log: the file is
    /// shorter than the bytes already read, or no line ends where the reader
    /// stopped. The log was truncated or replaced.
    #[error(
        "{} no longer matches what was read from it: it is {len} bytes and the reader had read {offset} \
         (the log was truncated or replaced); run `tellonce audit verify`",
        path.display()
    )]
    Rewritten {
        /// The log file.
        path: PathBuf,
        /// The file's length now.
        len: u64,
        /// The byte offset the reader had reached.
        offset: u64,
    },

    /// An earlier write or fsync of the log failed and could not be undone (the log could not
    /// be cut back to its length before the write, or an fsync failed), so the file may end in
    /// a partial line or hold lines that are not durable; this writer accepts nothing more.
    #[error(
        "the audit log in {} stopped accepting entries after a failed write at entry {seq} that could not be \
         undone; run `tellonce audit verify` (and `tellonce audit repair` if it finds a torn entry) before writing \
         to it again",
        dir.display()
    )]
    Poisoned {
        /// The log directory.
        dir: PathBuf,
        /// The first sequence number that may not have been written whole.
        seq: u64,
    },
}

/// Why [`AuditLog::open`](super::AuditLog::open), or a writer catching up
/// with lines other writers appended, refused to append.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TailProblem {
    /// The log ends in a line with no newline (truncated mid-line, or a write
    /// that did not finish).
    #[error("its last line (line {line}) is incomplete")]
    PartialLine {
        /// The incomplete line, from 1.
        line: u64,
    },
    /// The last line's MAC does not verify (changed, or written under another key).
    #[error("its last line (line {line}) was changed or was not written with this key")]
    LineNotAuthentic {
        /// The last line, from 1.
        line: u64,
    },
    /// The last line holds an entry whose number is not its line number, so
    /// entries were removed, added or reordered.
    #[error("its last line (line {line}) holds entry {seq}, so entries were removed, added or reordered")]
    Renumbered {
        /// The last line, from 1.
        line: u64,
        /// The entry it holds.
        seq: u64,
    },
    /// `audit.head.json` is missing although the log holds entries.
    #[error("audit.head.json is missing but the log holds {last_seq} entries")]
    HeadMissing {
        /// The last entry in the log.
        last_seq: u64,
    },
    /// `audit.head.json` is malformed or its MAC does not verify.
    #[error("audit.head.json was changed or was not written with this key")]
    HeadNotAuthentic,
    /// The head records more entries than the log holds: the log was truncated.
    #[error("the head records {head_seq} entries but the log holds {last_seq} (truncated)")]
    HeadAhead {
        /// The entry the head records.
        head_seq: u64,
        /// The last entry in the log.
        last_seq: u64,
    },
    /// The head's hash is not the hash of the line it names.
    #[error("the head's hash of entry {head_seq} does not match line {line}")]
    HeadMismatch {
        /// The entry the head records.
        head_seq: u64,
        /// The line that holds (or should hold) that entry.
        line: u64,
    },
    /// Entries appended after the head was last written do not chain on from it.
    #[error("line {line} (entry {seq}), written after the head was last updated, does not chain on from it")]
    UnsealedBroken {
        /// The first line that does not verify, from 1.
        line: u64,
        /// The entry expected there.
        seq: u64,
    },
    /// The log file is shorter than the part this writer already read or
    /// wrote: someone truncated or replaced it.
    #[error("the log is {len} bytes, shorter than the {known} bytes this writer had already read or written")]
    Shrunk {
        /// The bytes this writer had read or written.
        known: u64,
        /// The file's length now.
        len: u64,
    },
    /// A line appended since this writer last read the log has a MAC that
    /// does not verify (changed, or written under another key).
    #[error("line {line}, appended since this writer last read the log, was changed or was not written with this key")]
    AppendedNotAuthentic {
        /// The line, from 1.
        line: u64,
    },
    /// A line appended since this writer last read the log holds an entry
    /// whose number is not its line number.
    #[error("line {line}, appended since this writer last read the log, holds entry {seq}")]
    AppendedRenumbered {
        /// The line, from 1.
        line: u64,
        /// The entry it holds.
        seq: u64,
    },
    /// A line appended since this writer last read the log does not hold the
    /// hash of the line before it.
    #[error("line {line}, appended since this writer last read the log, does not chain on from the line before")]
    AppendedChainBroken {
        /// The line, from 1.
        line: u64,
    },
    /// The head exists but the log file does not.
    #[error("audit.jsonl is missing but the head records {head_seq} entries")]
    LogMissing {
        /// The entry the head records.
        head_seq: u64,
    },
}

/// A closure that wraps an I/O error as [`AuditError::Io`] for `action` on `path`.
pub(crate) fn io_err(action: &'static str, path: &Path) -> impl FnOnce(io::Error) -> AuditError + use<> {
    let path = path.to_path_buf();
    move |source| AuditError::Io { action, path, source }
}
