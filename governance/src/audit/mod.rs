//! The tamper-evident audit log: entries, writer, verifier and report.
//!
//! # Format
//!
//! A log directory holds two files of record:
//!
//! * `audit.jsonl`: append-only JSON Lines, one [`Entry`] a line:
//!
//!   ```text
//!   {"seq":1,"at":"2026-11-23T09:41:07Z","prev":"000…000","event":{"type":"run_started",…},"mac":"…"}
//!   ```
//!
//!   `seq` counts from 1 and equals the line number; `at` is UTC to the
//!   second; `prev` is the SHA-256 (hex) of the previous line's bytes without
//!   its newline (64 zeros for the first line); `event` is an [`Event`]; `mac`
//!   is the HMAC-SHA256, under the audit key of the [`KeyRing`](crate::KeyRing),
//!   of the line's bytes up to, not including, `,"mac":`.
//! * `audit.head.json`: `{"seq":N,"hash":"<SHA-256 of line N>","mac":"<HMAC of 'N:hash'>"}`,
//!   replaced atomically by every [`AuditLog::sync`]. It lets the verifier
//!   detect a log cut short at a line boundary.
//!
//! A write cut short (a full disk, a power loss) can only damage the end of
//! the log: a *torn* final entry ([`TornTail`]: a last line with no newline,
//! or a last line that is not an entry) after every entry the head records.
//! Writers undo a failed append themselves where they can (the log is cut
//! back to its length before the write); what is left is reported as torn,
//! not as tampering, and [`repair`] cuts it off and records an
//! `audit_repaired` entry. An entry the head records is never cut.
//!
//! Changing any byte of a line breaks its MAC; removing, repeating or
//! reordering lines breaks the numbering and the hash chain; cutting lines
//! off the end disagrees with the head. None of this can be repaired without
//! the audit key. What the scheme cannot catch on its own is a whole log
//! *and* head rolled back to an earlier authentic state: copy
//! [`VerifyReport::head_hash`] somewhere else from time to time to anchor it.
//!
//! # Several writers
//!
//! A third file, `audit.lock` ([`LOCK_FILE`]), holds no data: it serialises
//! access. Any number of [`AuditLog`]s, in any processes, may append to one
//! directory (two `tellonce stream` sessions of one consumer group sharing
//! an output, a `tellonce build` alongside them); each holds the lock
//! exclusively only while it checks the log on opening, writes lines or
//! syncs. The chain stays single: an entry is numbered, chained and signed
//! only when it is written, after the writer has caught up with the lines
//! others appended, verifying each (complete, MAC, number, `prev`) and
//! refusing to write after one that does not chain. Readers hold the lock
//! shared while they read, so they never see a half-written line; on
//! read-only media, where the lock file cannot be created, they read
//! without it.
//!
//! # Use
//!
//! * Pipeline commands open an [`AuditLog`] on the output's audit directory,
//!   [`append`](AuditLog::append) [`Event`]s and [`sync`](AuditLog::sync)
//!   before acknowledging work.
//! * A `tellonce stream` session follows what other sessions commit with
//!   [`read_new_entries`] and a [`ReadCursor`].
//! * `tellonce audit verify` calls [`verify`], which checks every line, the
//!   head and, given the output root, every output file still recorded.
//! * `tellonce audit repair` calls [`repair`].
//! * `tellonce audit report` calls [`read_entries`] (or
//!   [`read_entries_lossy`] for a damaged log) and [`report::render_html`].
//!
//! Entries never hold identifiers of people, and errors name only paths,
//! lines, sequence numbers and event types.

mod entry;
mod error;
mod head;
pub mod holdings;
pub mod linkage_model;
mod read;
pub mod reasons;
mod repair;
pub mod report;
pub mod stream_progress;
#[cfg(test)]
mod testutil;
mod torn;
mod verify;
mod writer;

pub use entry::{Entry, Event, PartitionOffset};
pub use error::{AuditError, TailProblem};
pub use head::{HEAD_FILE, LOCK_FILE, LOG_FILE};
pub use linkage_model::{FrozenFrom, Households, LinkageDecisions, LinkageModel, ModelLevel};
pub use read::{ReadCursor, read_entries, read_entries_lossy, read_new_entries};
pub use repair::{RepairError, Repaired, repair};
pub use report::render_html;
pub use torn::{TornKind, TornTail};
pub use verify::{ChangeKind, VerifyFailure, VerifyReport, verify};
pub use writer::AuditLog;
