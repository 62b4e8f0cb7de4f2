//! Reading entries back, for reports and other readers (no verification).

use std::fs;
use std::path::Path;

use super::entry::{Entry, RawEntry, split_lines};
use super::error::AuditError;
use super::head::LOG_FILE;

/// Reads every entry of the log in `dir`, in file order, without verifying
/// MACs, numbering or the hash chain (use [`verify`](super::verify) for that).
///
/// # Errors
///
/// [`AuditError::Io`] if `audit.jsonl` cannot be read, and
/// [`AuditError::Malformed`] for the first line (including a final line
/// with no newline) that is not a readable entry.
pub fn read_entries(dir: &Path) -> Result<Vec<Entry>, AuditError> {
    let path = dir.join(LOG_FILE);
    let bytes = fs::read(&path).map_err(|source| AuditError::Io { action: "read", path: path.clone(), source })?;
    let (lines, fragment) = split_lines(&bytes);
    let mut entries = Vec::with_capacity(lines.len());
    for (i, line) in lines.iter().copied().chain(fragment).enumerate() {
        let number = i as u64 + 1;
        let raw = RawEntry::parse(line).map_err(|source| AuditError::Malformed {
            path: path.clone(),
            line: number,
            source,
        })?;
        entries.push(raw.into_entry(number));
    }
    Ok(entries)
}

/// Like [`read_entries`], but skips lines that are not readable entries and
/// returns their line numbers, so that a report can still be drawn for a
/// damaged log (alongside the verifier's verdict).
///
/// # Errors
///
/// [`AuditError::Io`] if `audit.jsonl` cannot be read.
pub fn read_entries_lossy(dir: &Path) -> Result<(Vec<Entry>, Vec<u64>), AuditError> {
    let path = dir.join(LOG_FILE);
    let bytes = fs::read(&path).map_err(|source| AuditError::Io { action: "read", path: path.clone(), source })?;
    let (lines, fragment) = split_lines(&bytes);
    let mut entries = Vec::with_capacity(lines.len());
    let mut skipped = Vec::new();
    for (i, line) in lines.iter().copied().chain(fragment).enumerate() {
        let number = i as u64 + 1;
        match RawEntry::parse(line) {
            Ok(raw) => entries.push(raw.into_entry(number)),
            Err(_) => skipped.push(number),
        }
    }
    Ok((entries, skipped))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::testutil::{lines_of, sample_events, write_lines, write_sample_log};

    #[test]
    fn reads_what_was_written() {
        let dir = tempfile::tempdir().unwrap();
        write_sample_log(dir.path(), 12);
        let entries = read_entries(dir.path()).unwrap();
        assert_eq!(entries.len(), 12);
        let events = sample_events();
        for (i, e) in entries.iter().enumerate() {
            assert_eq!(e.seq, i as u64 + 1);
            assert_eq!(e.line, i as u64 + 1);
            assert_eq!(e.event, events[i % events.len()]);
            assert!(e.at.ends_with('Z') && e.at.len() == 20, "{}", e.at);
        }
        assert_eq!(entries[0].prev, "0".repeat(64));
    }

    #[test]
    fn strict_read_names_a_bad_line_and_lossy_read_skips_it() {
        let dir = tempfile::tempdir().unwrap();
        write_sample_log(dir.path(), 4);
        let mut lines = lines_of(dir.path());
        lines[2] = "{not json".to_string();
        write_lines(dir.path(), &lines);
        assert!(matches!(read_entries(dir.path()), Err(AuditError::Malformed { line: 3, .. })));
        let (entries, skipped) = read_entries_lossy(dir.path()).unwrap();
        assert_eq!(entries.len(), 3);
        assert_eq!(skipped, vec![3]);
        assert!(matches!(read_entries(&dir.path().join("nope")), Err(AuditError::Io { .. })));
    }
}
