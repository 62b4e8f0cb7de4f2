//! [`repair`]: cuts a torn final entry off the log, and records that it did.

use std::fs::{self, OpenOptions};
use std::io;
use std::path::Path;

use super::entry::{Event, now_secs, sha256};
use super::error::{AuditError, io_err};
use super::head::{DirLock, HEAD_FILE, LOG_FILE, read_head};
use super::torn::TornTail;
use super::verify::{VerifyFailure, check_log};
use super::writer::AuditLog;
use crate::AuditSigner;

/// What [`repair`] cut off, and the entry that records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repaired {
    /// The torn entry that was cut off.
    pub torn: TornTail,
    /// SHA-256 (hex) of the bytes cut.
    pub sha256: String,
    /// The `audit_repaired` entry that records the repair.
    pub seq: u64,
}

/// Why [`repair`] did not repair.
#[derive(Debug, thiserror::Error)]
pub enum RepairError {
    /// The log does not verify for a reason other than a torn final entry (tampering, damage,
    /// a torn entry the head records): nothing is changed, for that is not a tear to repair.
    #[error("refusing to repair: {0}; this is not a torn final entry, and the log is left as it is")]
    NotTorn(#[source] VerifyFailure),
    /// The log could not be read, cut or appended to.
    #[error(transparent)]
    Audit(#[from] AuditError),
}

/// Cuts a torn final entry off the log in `dir` and appends an `audit_repaired` entry saying
/// where, how many bytes and why; `Ok(None)` when the log verifies whole (nothing to repair).
///
/// Under the exclusive lock throughout, the log and head are checked as
/// [`verify`](super::verify) checks them (without the output files): every whole entry must
/// verify and chain, the head must be authentic and record no more than the whole entries
/// (an entry the head records is never cut), and the log must end in a torn entry
/// ([`TornTail`]). Then the log is cut back to the end of the last whole entry, fsynced, and the
/// repair entry is written after it and synced with the head. A crash between the cut and the
/// entry leaves a whole log without the record of its repair.
///
/// # Errors
///
/// [`RepairError::NotTorn`] with the verifier's finding when the log is not a whole log with a
/// torn final entry, and [`RepairError::Audit`] when a file cannot be read or written.
pub fn repair(dir: &Path, signer: AuditSigner) -> Result<Option<Repaired>, RepairError> {
    let log_path = dir.join(LOG_FILE);
    if !log_path.exists() {
        return Err(RepairError::NotTorn(VerifyFailure::LogMissing { path: log_path }));
    }
    let lock = DirLock::exclusive(dir)?;
    let bytes = fs::read(&log_path).map_err(io_err("read", &log_path))?;
    let head = read_head(dir, &signer).map_err(io_err("read", &dir.join(HEAD_FILE)))?;
    let checked = check_log(&bytes, head, &signer, false).map_err(RepairError::NotTorn)?;
    let Some(torn) = checked.torn else {
        return Ok(None);
    };
    let cut = usize::try_from(torn.offset).ok().and_then(|at| bytes.get(at..)).ok_or_else(|| AuditError::Io {
        action: "cut",
        path: log_path.clone(),
        source: io::ErrorKind::InvalidData.into(),
    })?;
    let cut_sha256 = hex::encode(sha256(cut));
    let file = OpenOptions::new().write(true).open(&log_path).map_err(io_err("open", &log_path))?;
    file.set_len(torn.offset).and_then(|()| file.sync_all()).map_err(io_err("cut", &log_path))?;
    drop(file);
    let mut log = AuditLog::after_repair(
        dir,
        signer,
        torn.offset,
        (checked.last_seq, checked.last_hash),
        checked.head.seq,
        &lock,
    )?;
    let event = Event::AuditRepaired {
        line: torn.line,
        offset: torn.offset,
        bytes_cut: torn.bytes,
        sha256: cut_sha256.clone(),
        reason: format!("torn final entry: line {} was {} (a write cut short)", torn.line, torn.kind),
    };
    log.append_and_sync_locked(&event, now_secs(), &lock)?;
    Ok(Some(Repaired { torn, sha256: cut_sha256, seq: log.last_seq() }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::head::{Head, write_head};
    use crate::audit::testutil::{append_raw, lines_of, sample_events, signer, write_lines, write_sample_log};
    use crate::audit::torn::TornKind;
    use crate::audit::{read_entries, verify};

    fn log_len(dir: &Path) -> u64 {
        fs::metadata(dir.join(LOG_FILE)).unwrap().len()
    }

    #[test]
    fn a_torn_tail_is_cut_and_the_repair_recorded() {
        let dir = tempfile::tempdir().unwrap();
        write_sample_log(dir.path(), 5);
        let whole = log_len(dir.path());
        append_raw(dir.path(), b"{\"seq\":6,\"at\":\"2026-");
        assert!(matches!(verify(dir.path(), &signer(), None), Err(VerifyFailure::Torn { last_seq: 5, .. })));
        assert!(matches!(AuditLog::open(dir.path(), signer()), Err(AuditError::Torn { .. })));

        let repaired = repair(dir.path(), signer()).unwrap().unwrap();
        assert_eq!(repaired.torn, TornTail { line: 6, offset: whole, bytes: 20, kind: TornKind::Incomplete });
        assert_eq!(repaired.seq, 6);
        let report = verify(dir.path(), &signer(), None).unwrap();
        assert_eq!((report.entries, report.head_seq), (6, 6));
        let entries = read_entries(dir.path()).unwrap();
        match &entries[5].event {
            Event::AuditRepaired { line, offset, bytes_cut, sha256: cut, reason } => {
                assert_eq!((*line, *offset, *bytes_cut), (6, whole, 20));
                assert_eq!(*cut, hex::encode(super::sha256(b"{\"seq\":6,\"at\":\"2026-")));
                assert!(reason.contains("torn"), "{reason}");
            }
            other => panic!("expected audit_repaired, got {other:?}"),
        }
        // Writers append after it again, and a second repair finds nothing to do.
        let mut log = AuditLog::open(dir.path(), signer()).unwrap();
        log.append(&sample_events()[0]).unwrap();
        log.sync().unwrap();
        assert_eq!(repair(dir.path(), signer()).unwrap(), None);
        assert_eq!(verify(dir.path(), &signer(), None).unwrap().entries, 7);
    }

    #[test]
    fn a_last_line_of_zeros_is_cut_and_unsynced_whole_entries_before_it_kept() {
        let dir = tempfile::tempdir().unwrap();
        write_sample_log(dir.path(), 5);
        let lines = lines_of(dir.path());
        // The head records entry 3; entries 4 and 5 chain on from it but were never synced.
        write_head(dir.path(), &Head { seq: 3, hash: super::sha256(lines[2].as_bytes()) }, &signer()).unwrap();
        let whole = log_len(dir.path());
        append_raw(dir.path(), &[0u8; 64]);
        append_raw(dir.path(), b"\n");
        let repaired = repair(dir.path(), signer()).unwrap().unwrap();
        assert_eq!(repaired.torn, TornTail { line: 6, offset: whole, bytes: 65, kind: TornKind::NotAnEntry });
        let report = verify(dir.path(), &signer(), None).unwrap();
        assert_eq!((report.entries, report.head_seq), (6, 6));
        assert_eq!(lines_of(dir.path())[..5], lines[..]);
    }

    #[test]
    fn refuses_what_is_not_a_torn_tail_and_changes_nothing() {
        let refused = |dir: &Path| {
            let before = fs::read(dir.join(LOG_FILE)).unwrap();
            let failure = match repair(dir, signer()) {
                Err(RepairError::NotTorn(f)) => f,
                other => panic!("expected a refusal, got {other:?}"),
            };
            assert_eq!(fs::read(dir.join(LOG_FILE)).unwrap(), before);
            failure
        };
        let dir = tempfile::tempdir().unwrap();
        write_sample_log(dir.path(), 5);
        let lines = lines_of(dir.path());

        // The last entry, acknowledged by the head, cut mid-line: damage, never cut further.
        let mut text: String = lines.iter().map(|l| format!("{l}\n")).collect();
        text.truncate(text.len() - 30);
        fs::write(dir.path().join(LOG_FILE), &text).unwrap();
        assert!(matches!(refused(dir.path()), VerifyFailure::PartialLine { line: 5, seq: 5 }));

        // A complete last line that parses but whose MAC fails: tampering.
        let mut changed = lines.clone();
        changed[4] = changed[4].replacen("\"seq\":5", "\"seq\":6", 1);
        write_lines(dir.path(), &changed);
        assert!(matches!(refused(dir.path()), VerifyFailure::Changed { line: 5, .. }));

        // A torn tail after an entry changed earlier: the tampering is reported, nothing cut.
        let mut changed = lines.clone();
        changed.remove(2);
        write_lines(dir.path(), &changed);
        append_raw(dir.path(), b"{\"seq\":");
        assert!(matches!(refused(dir.path()), VerifyFailure::Missing { line: 3, .. }));

        // A torn tail, but the head was forged.
        write_lines(dir.path(), &lines);
        append_raw(dir.path(), b"{\"seq\":");
        fs::write(dir.path().join(HEAD_FILE), b"{}").unwrap();
        assert!(matches!(refused(dir.path()), VerifyFailure::HeadChanged));
    }

    #[test]
    fn a_whole_log_needs_no_repair() {
        let dir = tempfile::tempdir().unwrap();
        write_sample_log(dir.path(), 3);
        let before = fs::read(dir.path().join(LOG_FILE)).unwrap();
        assert_eq!(repair(dir.path(), signer()).unwrap(), None);
        assert_eq!(fs::read(dir.path().join(LOG_FILE)).unwrap(), before);
        assert!(matches!(repair(&dir.path().join("none"), signer()), Err(RepairError::NotTorn(_))));
    }
}
