//! Reading entries back, for reports and other readers (no verification).
//!
//! Readers hold `audit.lock` shared while they read the file, so they never
//! see a line a writer is half-way through writing.

use std::fs::{self, File};
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use super::entry::{Entry, RawEntry, split_lines};
use super::error::{AuditError, io_err};
use super::head::{DirLock, LOG_FILE, refuse_symlink};
use super::torn::{TornKind, TornTail};

/// Reads every entry of the log in `dir`, in file order, without verifying
/// MACs, numbering or the hash chain (use [`verify`](super::verify) for that).
///
/// # Errors
///
/// [`AuditError::Io`] if `audit.jsonl` cannot be read,
/// [`AuditError::Malformed`] for the first line that is not a readable entry,
/// and [`AuditError::Torn`] for a final line with no newline (a write cut
/// short: read under the lock, it is not one in progress), whose message
/// names `tellonce audit repair`.
pub fn read_entries(dir: &Path) -> Result<Vec<Entry>, AuditError> {
    let (path, bytes) = read_log(dir)?;
    let (lines, fragment) = split_lines(&bytes);
    let mut entries = Vec::with_capacity(lines.len());
    for (i, line) in lines.iter().enumerate() {
        entries.push(parse_line(&path, line, i as u64 + 1)?);
    }
    if let Some(fragment) = fragment {
        let len = fragment.len() as u64;
        let torn = TornTail {
            line: lines.len() as u64 + 1,
            offset: bytes.len() as u64 - len,
            bytes: len,
            kind: TornKind::Incomplete,
        };
        return Err(AuditError::Torn { dir: dir.to_path_buf(), torn });
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
    let (_, bytes) = read_log(dir)?;
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

/// Where an incremental reader has got to in a log (see [`read_new_entries`]).
///
/// The default cursor is at the start of the log.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReadCursor {
    /// The byte offset of the next unread line.
    offset: u64,
    /// The lines read so far (so the line number of the last one read).
    lines: u64,
}

impl ReadCursor {
    /// The byte offset of the next unread line.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// How many lines have been read so far.
    pub fn lines(&self) -> u64 {
        self.lines
    }
}

/// Reads the entries appended to the log in `dir` since `cursor`, in file
/// order, and advances the cursor past them; for following a log that other
/// writers (processes) are appending to. Like [`read_entries`] it does not
/// verify. Only complete lines are returned: a trailing fragment (a line not
/// yet finished) is left for the next call, and the cursor stops before it.
/// Entries carry their line numbers in the whole log, and reading from the
/// default cursor gives the same entries as [`read_entries`] on a log that
/// ends in a newline.
///
/// # Errors
///
/// [`AuditError::Io`] if `audit.jsonl` cannot be read,
/// [`AuditError::Rewritten`] if it is shorter than the cursor's offset or no
/// line ends there (the log was truncated or replaced), and
/// [`AuditError::Malformed`] for the first new line that is not a readable
/// entry. On error the cursor is left where it was.
pub fn read_new_entries(dir: &Path, cursor: &mut ReadCursor) -> Result<Vec<Entry>, AuditError> {
    let path = dir.join(LOG_FILE);
    // Read from the byte before the cursor, to check that a line ends there.
    let from = cursor.offset.saturating_sub(1);
    let mut bytes = Vec::new();
    let len = {
        let _lock = DirLock::shared(dir);
        refuse_symlink(&path).map_err(io_err("read", &path))?;
        let mut file = File::open(&path).map_err(io_err("read", &path))?;
        let len = file.metadata().map_err(io_err("read", &path))?.len();
        if len < cursor.offset {
            return Err(AuditError::Rewritten { path, len, offset: cursor.offset });
        }
        let read = file.seek(SeekFrom::Start(from)).and_then(|_| file.take(len - from).read_to_end(&mut bytes));
        read.map_err(io_err("read", &path))?;
        len
    };
    let new = if cursor.offset == 0 {
        &bytes[..]
    } else {
        match bytes.split_first() {
            Some((b'\n', rest)) => rest,
            _ => return Err(AuditError::Rewritten { path, len, offset: cursor.offset }),
        }
    };
    let complete = new.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
    let (lines, _) = split_lines(&new[..complete]);
    let mut entries = Vec::with_capacity(lines.len());
    for (i, line) in lines.iter().enumerate() {
        entries.push(parse_line(&path, line, cursor.lines + i as u64 + 1)?);
    }
    cursor.offset += complete as u64;
    cursor.lines += lines.len() as u64;
    Ok(entries)
}

/// The path and bytes of the log in `dir`, read under the shared lock when it
/// can be had.
fn read_log(dir: &Path) -> Result<(PathBuf, Vec<u8>), AuditError> {
    let path = dir.join(LOG_FILE);
    let _lock = DirLock::shared(dir);
    refuse_symlink(&path).map_err(io_err("read", &path))?;
    let bytes = fs::read(&path).map_err(io_err("read", &path))?;
    Ok((path, bytes))
}

/// Parses line `number` (from 1) of the log at `path`.
fn parse_line(path: &Path, line: &[u8], number: u64) -> Result<Entry, AuditError> {
    let raw = RawEntry::parse(line).map_err(|source| AuditError::Malformed {
        path: path.to_path_buf(),
        line: number,
        source,
    })?;
    Ok(raw.into_entry(number))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::entry::{encode_line, sha256};
    use crate::audit::testutil::{append_raw, lines_of, sample_events, signer, write_lines, write_sample_log};
    use crate::audit::{AuditLog, HEAD_FILE, LOCK_FILE, verify};

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

    #[test]
    fn strict_read_calls_a_final_line_without_newline_torn() {
        let dir = tempfile::tempdir().unwrap();
        write_sample_log(dir.path(), 3);
        let len = fs::metadata(dir.path().join(LOG_FILE)).unwrap().len();
        append_raw(dir.path(), b"{\"seq\":4");
        match read_entries(dir.path()) {
            Err(err @ AuditError::Torn { torn, .. }) => {
                assert_eq!((torn.line, torn.offset, torn.bytes), (4, len, 8));
                assert!(err.to_string().contains("tellonce audit repair"), "{err}");
            }
            other => panic!("expected a torn entry, got {other:?}"),
        }
        // The lossy reader, for the report, reads what is whole.
        let (entries, skipped) = read_entries_lossy(dir.path()).unwrap();
        assert_eq!((entries.len(), skipped), (3, vec![4]));
    }

    #[test]
    fn read_new_entries_follows_a_growing_log() {
        let dir = tempfile::tempdir().unwrap();
        write_sample_log(dir.path(), 5);
        let mut cursor = ReadCursor::default();
        assert_eq!(read_new_entries(dir.path(), &mut cursor).unwrap(), read_entries(dir.path()).unwrap());
        let len = fs::metadata(dir.path().join(LOG_FILE)).unwrap().len();
        assert_eq!((cursor.offset(), cursor.lines()), (len, 5));
        assert!(read_new_entries(dir.path(), &mut cursor).unwrap().is_empty());

        let events = sample_events();
        let mut log = AuditLog::open(dir.path(), signer()).unwrap();
        for e in &events[..3] {
            log.append(e).unwrap();
        }
        log.sync().unwrap();
        drop(log);
        let new = read_new_entries(dir.path(), &mut cursor).unwrap();
        assert_eq!(new, read_entries(dir.path()).unwrap()[5..]);
        let numbers: Vec<_> = new.iter().map(|e| (e.seq, e.line)).collect();
        assert_eq!(numbers, [(6, 6), (7, 7), (8, 8)]);
        assert_eq!(new.iter().map(|e| e.event.clone()).collect::<Vec<_>>(), events[..3]);

        // A line still being written is left for next time.
        let prev = sha256(lines_of(dir.path())[7].as_bytes());
        let mut line = encode_line(9, "2026-01-01T00:00:00Z", &prev, &events[4], &signer()).unwrap();
        line.push(b'\n');
        let (first, rest) = line.split_at(40);
        append_raw(dir.path(), first);
        let at = cursor;
        assert!(read_new_entries(dir.path(), &mut cursor).unwrap().is_empty());
        assert_eq!(cursor, at);
        append_raw(dir.path(), rest);
        let new = read_new_entries(dir.path(), &mut cursor).unwrap();
        assert_eq!(new.len(), 1);
        assert_eq!((new[0].seq, new[0].line, &new[0].event), (9, 9, &events[4]));
        assert_eq!(cursor.lines(), 9);
        assert!(verify(dir.path(), &signer(), None).is_ok());
    }

    #[test]
    fn read_new_entries_notices_a_truncated_or_replaced_log() {
        let dir = tempfile::tempdir().unwrap();
        write_sample_log(dir.path(), 4);
        let mut cursor = ReadCursor::default();
        read_new_entries(dir.path(), &mut cursor).unwrap();
        let lines = lines_of(dir.path());
        write_lines(dir.path(), &lines[..3]);
        let at = cursor;
        assert!(matches!(read_new_entries(dir.path(), &mut cursor), Err(AuditError::Rewritten { .. })));
        assert_eq!(cursor, at);
        // As long as before, but no line ends where the reader stopped.
        let mut longer = lines.clone();
        longer[0].insert(1, ' ');
        write_lines(dir.path(), &longer);
        let message = read_new_entries(dir.path(), &mut cursor).unwrap_err().to_string();
        assert!(message.contains("truncated or replaced"), "{message}");
        // A line the reader cannot read is named by its number in the whole log.
        write_lines(dir.path(), &lines);
        append_raw(dir.path(), b"{not json\n");
        assert!(matches!(read_new_entries(dir.path(), &mut cursor), Err(AuditError::Malformed { line: 5, .. })));
        assert_eq!(cursor, at);
    }

    #[test]
    fn readers_wait_for_a_writer_holding_the_lock() {
        use crate::audit::head::{DirLock, Head, write_head};
        use std::sync::mpsc;
        use std::time::Duration;

        let dir = tempfile::tempdir().unwrap();
        write_sample_log(dir.path(), 2);
        let prev = sha256(lines_of(dir.path())[1].as_bytes());
        let line = encode_line(3, "2026-01-01T00:00:00Z", &prev, &sample_events()[0], &signer()).unwrap();
        // A writer in the middle of writing line 3.
        let lock = DirLock::exclusive(dir.path()).unwrap();
        append_raw(dir.path(), &line[..50]);
        let (tx, rx) = mpsc::channel();
        std::thread::scope(|scope| {
            scope.spawn(|| {
                let read = read_entries(dir.path()).map(|e| e.len());
                let mut cursor = ReadCursor::default();
                let new = read_new_entries(dir.path(), &mut cursor).map(|e| e.len());
                let verified = verify(dir.path(), &signer(), None).map(|r| (r.entries, r.head_seq));
                tx.send((read.ok(), new.ok(), verified.ok())).unwrap();
            });
            assert!(rx.recv_timeout(Duration::from_millis(300)).is_err(), "a reader did not wait for the lock");
            append_raw(dir.path(), &[&line[50..], b"\n"].concat());
            write_head(dir.path(), &Head { seq: 3, hash: sha256(&line) }, &signer()).unwrap();
            drop(lock);
            assert_eq!(rx.recv().unwrap(), (Some(3), Some(3), Some((3, 3))));
        });
    }

    /// Makes a directory read-only for the life of the guard.
    #[cfg(unix)]
    struct ReadOnly<'a>(&'a Path);

    #[cfg(unix)]
    impl ReadOnly<'_> {
        fn set(dir: &Path, mode: u32) {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(dir, fs::Permissions::from_mode(mode)).unwrap();
        }
    }

    #[cfg(unix)]
    impl Drop for ReadOnly<'_> {
        fn drop(&mut self) {
            ReadOnly::set(self.0, 0o755);
        }
    }

    /// Reads `root` every way there is, expecting `expected`, and checks a writer cannot open it.
    fn read_without_the_lock(root: &Path, expected: &[crate::audit::Entry]) {
        assert_eq!(read_entries(root).unwrap(), expected);
        assert_eq!(read_entries_lossy(root).unwrap(), (expected.to_vec(), vec![]));
        let mut cursor = ReadCursor::default();
        assert_eq!(read_new_entries(root, &mut cursor).unwrap(), expected);
        assert_eq!(verify(root, &signer(), None).unwrap().entries, expected.len() as u64);
    }

    #[cfg(unix)]
    #[test]
    fn readers_work_where_the_lock_file_cannot_be_created() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("audit");
        write_sample_log(&root, 3);
        let expected = read_entries(&root).unwrap();
        let lock = root.join(LOCK_FILE);

        // Read-only directory, lock file already there: readers lock through a read-only open.
        ReadOnly::set(&root, 0o555);
        let guard = ReadOnly(&root);
        let permissions_bind = fs::write(root.join("probe"), b"").is_err();
        if permissions_bind {
            read_without_the_lock(&root, &expected);
            drop(guard);
            // Read-only directory, no lock file: readers go without; writers fail naming it.
            fs::remove_file(&lock).unwrap();
            ReadOnly::set(&root, 0o555);
            let _guard = ReadOnly(&root);
            read_without_the_lock(&root, &expected);
            assert!(!lock.exists());
            match AuditLog::open(&root, signer()) {
                Err(AuditError::Io { path, .. }) => assert_eq!(path, lock),
                other => panic!("expected an I/O error on the lock file, got {other:?}"),
            }
        } else {
            drop(guard);
        }

        // A lock file that can be neither created nor opened, whoever runs the test (root too).
        let _ = fs::remove_file(&lock);
        std::os::unix::fs::symlink(dir.path().join("missing/audit.lock"), &lock).unwrap();
        read_without_the_lock(&root, &expected);
        match AuditLog::open(&root, signer()) {
            Err(err @ AuditError::Io { .. }) => {
                assert!(err.to_string().contains(&lock.display().to_string()), "{err}");
            }
            other => panic!("expected an I/O error on the lock file, got {other:?}"),
        }
        assert!(root.join(HEAD_FILE).exists());
    }
}
