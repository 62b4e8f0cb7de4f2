//! [`AuditLog`]: the append-only writer.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use super::entry::{Event, RawEntry, ZERO_HASH, encode_line, mac_is_valid, now_secs, sha256, split_lines, timestamp};
use super::error::{AuditError, TailProblem, io_err};
use super::head::{HEAD_FILE, Head, HeadState, LOG_FILE, read_head, sync_dir, write_head};
use crate::AuditSigner;

/// Buffered lines are written to the file (without fsync) once they reach this size.
const WRITE_AT_BYTES: usize = 256 * 1024;

/// The append-only writer of an audit log directory.
///
/// # One writer per directory
///
/// An `AuditLog` assumes it is the only writer of its directory for as long
/// as it is open; it takes no lock itself. The pipeline holds its run lock
/// while the log is open, and nothing else may append.
///
/// # Durability
///
/// [`append`](Self::append) buffers the line in memory and returns its
/// sequence number; only [`sync`](Self::sync) makes it durable (write, fsync
/// the log, then replace `audit.head.json` atomically). **Call `sync` before
/// acknowledging the work an entry records** (marking an input done, storing
/// a Kafka offset, reporting success). Dropping an `AuditLog` writes whole
/// buffered lines on a best-effort basis but neither fsyncs nor updates the
/// head; entries written that way are accepted by the next
/// [`open`](Self::open) and by the verifier because they chain on from the
/// head, but they may be lost in a crash.
///
/// # Fail closed
///
/// [`open`](Self::open) checks the end of an existing log before appending:
/// the last line's MAC, its number, the head's MAC, and that the head
/// records the last line. Any disagreement is [`AuditError::Refused`]; the
/// operator runs `tellonce audit verify` to find out what happened. One case
/// is repaired instead: entries written after the head was last replaced (a
/// crash between writing the log and replacing the head) are accepted, and
/// the head brought up to date, when every one of them verifies and chains on
/// from the line the head records. `open` is not a substitute for
/// [`verify`](super::verify), which checks every line.
///
/// # Example
///
/// ```
/// use tellonce_governance::KeyRing;
/// use tellonce_governance::audit::{AuditLog, Event, verify};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let dir = tempfile::tempdir()?;
/// let ring = KeyRing::from_master([1u8; 32]);
/// let mut log = AuditLog::open(dir.path(), ring.audit_signer())?;
/// let seq = log.append(&Event::KeysUsed { key_id: "k1".into(), purposes: vec!["linkage".into()] })?;
/// log.sync()?;
/// assert_eq!(seq, 1);
/// let report = verify(dir.path(), &ring.audit_signer(), None)?;
/// assert_eq!(report.entries, 1);
/// # Ok(())
/// # }
/// ```
pub struct AuditLog {
    dir: PathBuf,
    log_path: PathBuf,
    file: File,
    signer: AuditSigner,
    /// Complete lines, each with its newline, not yet written to the file.
    buf: Vec<u8>,
    /// The sequence number of the next entry.
    next_seq: u64,
    /// SHA-256 of the last line appended (buffered or not).
    last_hash: [u8; 32],
    /// The entry the head on disk records.
    head_seq: u64,
    /// Set when a write failed part-way: the file may end in a partial line.
    poisoned: Option<u64>,
}

impl AuditLog {
    /// Opens the log in `dir` for appending, creating the directory, an empty
    /// `audit.jsonl` and its head if they are absent.
    ///
    /// # Errors
    ///
    /// [`AuditError::Refused`] when the existing log's end or head is not as
    /// a writer with this key left it (see the type's documentation), and
    /// [`AuditError::Io`] when a file cannot be read, created or synced.
    pub fn open(dir: &Path, signer: AuditSigner) -> Result<AuditLog, AuditError> {
        fs::create_dir_all(dir).map_err(io_err("create directory", dir))?;
        let log_path = dir.join(LOG_FILE);
        let head = read_head(dir, &signer).map_err(io_err("read", &dir.join(HEAD_FILE)))?;
        let refused = |problem| AuditError::Refused { dir: dir.to_path_buf(), problem };

        let bytes = match fs::read(&log_path) {
            Ok(bytes) => Some(bytes),
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(source) => return Err(AuditError::Io { action: "read", path: log_path, source }),
        };
        let (last_seq, last_hash, head_seq) = match bytes {
            None => {
                match head {
                    HeadState::Absent => {}
                    HeadState::NotAuthentic => return Err(refused(TailProblem::HeadNotAuthentic)),
                    HeadState::Valid(h) if h == Head::EMPTY => {}
                    HeadState::Valid(h) => return Err(refused(TailProblem::LogMissing { head_seq: h.seq })),
                }
                OpenOptions::new().write(true).create_new(true).open(&log_path).map_err(io_err("create", &log_path))?;
                sync_dir(dir).map_err(io_err("sync directory", dir))?;
                (0, ZERO_HASH, None)
            }
            Some(bytes) => {
                let tail = check_tail(&bytes, head, &signer).map_err(refused)?;
                (tail.last_seq, tail.last_hash, tail.head_seq)
            }
        };
        // The head is (re)written when absent for an empty log, or behind a
        // verified tail.
        let head_seq = match head_seq {
            Some(seq) => seq,
            None => {
                write_head(dir, &Head { seq: last_seq, hash: last_hash }, &signer)?;
                last_seq
            }
        };
        let file = OpenOptions::new().append(true).open(&log_path).map_err(io_err("open", &log_path))?;
        Ok(AuditLog {
            dir: dir.to_path_buf(),
            log_path,
            file,
            signer,
            buf: Vec::new(),
            next_seq: last_seq + 1,
            last_hash,
            head_seq,
            poisoned: None,
        })
    }

    /// Appends `event` as the next entry, stamped with the system clock, and
    /// returns its sequence number. The line is buffered: call
    /// [`sync`](Self::sync) to make it durable.
    ///
    /// # Errors
    ///
    /// [`AuditError::Encode`] if the event cannot be encoded (nothing is
    /// appended), [`AuditError::Io`] if writing out a full buffer fails, and
    /// [`AuditError::Poisoned`] after an earlier write failure.
    pub fn append(&mut self, event: &Event) -> Result<u64, AuditError> {
        self.append_at(event, now_secs())
    }

    /// [`append`](Self::append) with the time given as seconds since 1970-01-01 UTC.
    pub(crate) fn append_at(&mut self, event: &Event, secs: u64) -> Result<u64, AuditError> {
        self.check_poisoned()?;
        let seq = self.next_seq;
        let line = encode_line(seq, &timestamp(secs), &self.last_hash, event, &self.signer)
            .map_err(|source| AuditError::Encode { seq, source })?;
        self.last_hash = sha256(&line);
        self.buf.reserve(line.len() + 1);
        self.buf.extend_from_slice(&line);
        self.buf.push(b'\n');
        self.next_seq += 1;
        if self.buf.len() >= WRITE_AT_BYTES {
            self.write_buffer()?;
        }
        Ok(seq)
    }

    /// Makes every appended entry durable: writes buffered lines, fsyncs the
    /// log, then replaces `audit.head.json` atomically to record the last
    /// entry. Call it before acknowledging the work the entries record.
    ///
    /// # Errors
    ///
    /// [`AuditError::Io`] if writing or syncing fails (the writer then
    /// refuses further entries with [`AuditError::Poisoned`], except when
    /// only replacing the head failed, which the next `sync` retries), and
    /// [`AuditError::Poisoned`] after an earlier write failure.
    pub fn sync(&mut self) -> Result<(), AuditError> {
        self.check_poisoned()?;
        self.write_buffer()?;
        if let Err(source) = self.file.sync_all() {
            self.poisoned = Some(self.head_seq + 1);
            return Err(AuditError::Io { action: "sync", path: self.log_path.clone(), source });
        }
        let last_seq = self.last_seq();
        if last_seq != self.head_seq {
            write_head(&self.dir, &Head { seq: last_seq, hash: self.last_hash }, &self.signer)?;
            self.head_seq = last_seq;
        }
        Ok(())
    }

    /// The sequence number of the last entry appended (0 for an empty log);
    /// it may not be synced yet.
    pub fn last_seq(&self) -> u64 {
        self.next_seq - 1
    }

    /// The log directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn check_poisoned(&self) -> Result<(), AuditError> {
        match self.poisoned {
            Some(seq) => Err(AuditError::Poisoned { dir: self.dir.clone(), seq }),
            None => Ok(()),
        }
    }

    /// Writes the buffered lines to the file (no fsync).
    fn write_buffer(&mut self) -> Result<(), AuditError> {
        if self.buf.is_empty() {
            return Ok(());
        }
        if let Err(source) = self.file.write_all(&self.buf) {
            // Some of the buffer may have reached the file: the log may now end in a partial line.
            self.poisoned = Some(first_seq_in(&self.buf, self.next_seq));
            return Err(AuditError::Io { action: "append to", path: self.log_path.clone(), source });
        }
        self.buf.clear();
        Ok(())
    }
}

impl std::fmt::Debug for AuditLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditLog")
            .field("dir", &self.dir)
            .field("last_seq", &self.last_seq())
            .field("head_seq", &self.head_seq)
            .field("buffered_bytes", &self.buf.len())
            .field("poisoned", &self.poisoned)
            .finish_non_exhaustive()
    }
}

impl Drop for AuditLog {
    /// Writes whole buffered lines, best effort, without fsync or head update.
    fn drop(&mut self) {
        if self.poisoned.is_none() && !self.buf.is_empty() {
            let _ = self.file.write_all(&self.buf);
        }
    }
}

/// The sequence number of the first line in `buf`, given the next one to be appended.
fn first_seq_in(buf: &[u8], next_seq: u64) -> u64 {
    let lines = buf.iter().filter(|b| **b == b'\n').count() as u64;
    next_seq - lines
}

/// The end of an existing log, as checked by [`check_tail`].
struct Tail {
    last_seq: u64,
    last_hash: [u8; 32],
    /// The entry the head on disk records, or `None` if it must be (re)written.
    head_seq: Option<u64>,
}

/// Checks the last line and the head of an existing log.
fn check_tail(bytes: &[u8], head: HeadState, signer: &AuditSigner) -> Result<Tail, TailProblem> {
    let (lines, fragment) = split_lines(bytes);
    let count = lines.len() as u64;
    if fragment.is_some() {
        return Err(TailProblem::PartialLine { line: count + 1 });
    }
    let (last_seq, last_hash) = match lines.last() {
        None => (0, ZERO_HASH),
        Some(last) => {
            let line = count;
            if !mac_is_valid(last, signer) {
                return Err(TailProblem::LineNotAuthentic { line });
            }
            let seq = RawEntry::parse(last).map_err(|_| TailProblem::LineNotAuthentic { line })?.seq;
            if seq != line {
                return Err(TailProblem::Renumbered { line, seq });
            }
            (seq, sha256(last))
        }
    };
    let head = match head {
        HeadState::Valid(head) => head,
        HeadState::NotAuthentic => return Err(TailProblem::HeadNotAuthentic),
        HeadState::Absent if last_seq == 0 => return Ok(Tail { last_seq, last_hash, head_seq: None }),
        HeadState::Absent => return Err(TailProblem::HeadMissing { last_seq }),
    };
    if head.seq > last_seq {
        return Err(TailProblem::HeadAhead { head_seq: head.seq, last_seq });
    }
    if head.seq == last_seq {
        if head.hash != last_hash {
            return Err(TailProblem::HeadMismatch { head_seq: head.seq, line: last_seq });
        }
        return Ok(Tail { last_seq, last_hash, head_seq: Some(head.seq) });
    }
    // Entries after the head: accept them only if each verifies and chains on.
    let sealed = usize::try_from(head.seq).map_err(|_| TailProblem::HeadAhead { head_seq: head.seq, last_seq })?;
    let mut prev = match sealed.checked_sub(1) {
        None => ZERO_HASH,
        Some(i) => lines.get(i).map_or(ZERO_HASH, |l| sha256(l)),
    };
    if prev != head.hash {
        return Err(TailProblem::HeadMismatch { head_seq: head.seq, line: head.seq });
    }
    for (i, line) in lines.iter().enumerate().skip(sealed) {
        let number = i as u64 + 1;
        let broken = TailProblem::UnsealedBroken { line: number, seq: number };
        if !mac_is_valid(line, signer) {
            return Err(broken);
        }
        let raw = RawEntry::parse(line).map_err(|_| broken.clone())?;
        if raw.seq != number || raw.prev != hex::encode(prev) {
            return Err(broken);
        }
        prev = sha256(line);
    }
    Ok(Tail { last_seq, last_hash, head_seq: None })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::testutil::{lines_of, sample_events, signer, write_lines, write_sample_log};

    #[test]
    fn creates_an_empty_log_with_a_head() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("audit");
        let log = AuditLog::open(&root, signer()).unwrap();
        assert_eq!(log.last_seq(), 0);
        assert_eq!(fs::read(root.join(LOG_FILE)).unwrap(), b"");
        assert_eq!(read_head(&root, &signer()).unwrap(), HeadState::Valid(Head::EMPTY));
        drop(log);
        let log = AuditLog::open(&root, signer()).unwrap();
        assert_eq!(log.last_seq(), 0);
    }

    #[test]
    fn appends_continue_the_chain_across_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let events = sample_events();
        let mut log = AuditLog::open(dir.path(), signer()).unwrap();
        for (i, e) in events.iter().enumerate() {
            assert_eq!(log.append(e).unwrap(), i as u64 + 1);
        }
        log.sync().unwrap();
        drop(log);
        let mut log = AuditLog::open(dir.path(), signer()).unwrap();
        assert_eq!(log.last_seq(), events.len() as u64);
        let seq = log.append(&events[0]).unwrap();
        assert_eq!(seq, events.len() as u64 + 1);
        log.sync().unwrap();
        let lines = lines_of(dir.path());
        assert_eq!(lines.len(), events.len() + 1);
        let raw = RawEntry::parse(lines.last().unwrap().as_bytes()).unwrap();
        assert_eq!(raw.prev, hex::encode(sha256(lines[lines.len() - 2].as_bytes())));
        let head = read_head(dir.path(), &signer()).unwrap();
        let expected = Head { seq, hash: sha256(lines.last().unwrap().as_bytes()) };
        assert_eq!(head, HeadState::Valid(expected));
    }

    #[test]
    fn nothing_reaches_disk_before_sync_and_drop_writes_whole_lines() {
        let dir = tempfile::tempdir().unwrap();
        let mut log = AuditLog::open(dir.path(), signer()).unwrap();
        log.append(&sample_events()[0]).unwrap();
        assert!(lines_of(dir.path()).is_empty());
        drop(log);
        assert_eq!(lines_of(dir.path()).len(), 1);
        // The head still records 0 entries; open accepts the chained line and repairs the head.
        let log = AuditLog::open(dir.path(), signer()).unwrap();
        assert_eq!(log.last_seq(), 1);
        let lines = lines_of(dir.path());
        let head = read_head(dir.path(), &signer()).unwrap();
        assert_eq!(head, HeadState::Valid(Head { seq: 1, hash: sha256(lines[0].as_bytes()) }));
    }

    fn refusal(dir: &Path) -> TailProblem {
        match AuditLog::open(dir, signer()) {
            Err(AuditError::Refused { problem, .. }) => problem,
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn refuses_a_changed_last_line() {
        let dir = tempfile::tempdir().unwrap();
        write_sample_log(dir.path(), 5);
        let mut lines = lines_of(dir.path());
        lines[4] = lines[4].replacen("\"seq\":5", "\"seq\":6", 1);
        write_lines(dir.path(), &lines);
        assert_eq!(refusal(dir.path()), TailProblem::LineNotAuthentic { line: 5 });
        let message = AuditLog::open(dir.path(), signer()).unwrap_err().to_string();
        assert!(message.contains("tellonce audit verify"), "{message}");
    }

    #[test]
    fn refuses_a_log_written_with_another_key() {
        let dir = tempfile::tempdir().unwrap();
        write_sample_log(dir.path(), 3);
        let other = crate::KeyRing::from_master([8u8; 32]).audit_signer();
        assert!(matches!(AuditLog::open(dir.path(), other), Err(AuditError::Refused { .. })));
    }

    #[test]
    fn refuses_a_truncated_or_partial_tail() {
        let dir = tempfile::tempdir().unwrap();
        write_sample_log(dir.path(), 5);
        let lines = lines_of(dir.path());
        write_lines(dir.path(), &lines[..4]);
        assert_eq!(refusal(dir.path()), TailProblem::HeadAhead { head_seq: 5, last_seq: 4 });

        let mut text = lines.join("\n");
        text.truncate(text.len() - 10);
        fs::write(dir.path().join(LOG_FILE), text).unwrap();
        assert_eq!(refusal(dir.path()), TailProblem::PartialLine { line: 5 });
    }

    #[test]
    fn refuses_a_bad_or_missing_head() {
        let dir = tempfile::tempdir().unwrap();
        write_sample_log(dir.path(), 3);
        let head_path = dir.path().join(HEAD_FILE);
        let head = fs::read_to_string(&head_path).unwrap();
        fs::write(&head_path, head.replace("\"seq\":3", "\"seq\":2")).unwrap();
        assert_eq!(refusal(dir.path()), TailProblem::HeadNotAuthentic);
        fs::remove_file(&head_path).unwrap();
        assert_eq!(refusal(dir.path()), TailProblem::HeadMissing { last_seq: 3 });
        fs::remove_file(dir.path().join(LOG_FILE)).unwrap();
        write_head(dir.path(), &Head { seq: 3, hash: [1; 32] }, &signer()).unwrap();
        assert_eq!(refusal(dir.path()), TailProblem::LogMissing { head_seq: 3 });
    }

    #[test]
    fn refuses_a_removed_middle_entry_seen_from_the_tail() {
        let dir = tempfile::tempdir().unwrap();
        write_sample_log(dir.path(), 5);
        let mut lines = lines_of(dir.path());
        lines.remove(2);
        write_lines(dir.path(), &lines);
        assert_eq!(refusal(dir.path()), TailProblem::Renumbered { line: 4, seq: 5 });
    }

    #[test]
    fn refuses_unsealed_lines_that_do_not_chain() {
        let dir = tempfile::tempdir().unwrap();
        write_sample_log(dir.path(), 4);
        let lines = lines_of(dir.path());
        // Head back at entry 2 (as after a crash), but line 3 was swapped for a copy of line 4.
        let hash2 = sha256(lines[1].as_bytes());
        write_head(dir.path(), &Head { seq: 2, hash: hash2 }, &signer()).unwrap();
        assert!(AuditLog::open(dir.path(), signer()).is_ok());
        write_head(dir.path(), &Head { seq: 2, hash: hash2 }, &signer()).unwrap();
        let changed = vec![lines[0].clone(), lines[1].clone(), lines[3].clone(), lines[3].clone()];
        write_lines(dir.path(), &changed);
        assert_eq!(refusal(dir.path()), TailProblem::UnsealedBroken { line: 3, seq: 3 });
    }

    #[test]
    fn poisoned_writer_refuses_more_entries() {
        let dir = tempfile::tempdir().unwrap();
        let mut log = AuditLog::open(dir.path(), signer()).unwrap();
        log.poisoned = Some(1);
        assert!(matches!(log.append(&sample_events()[0]), Err(AuditError::Poisoned { seq: 1, .. })));
        assert!(matches!(log.sync(), Err(AuditError::Poisoned { .. })));
    }
}
