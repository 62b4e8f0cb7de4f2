//! [`AuditLog`]: the append-only writer.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use super::entry::{
    Event, LINE_OVERHEAD, RawEntry, ZERO_HASH, encode_line_json, event_json, mac_is_valid, now_secs, sha256,
    split_lines, timestamp,
};
use super::error::{AuditError, TailProblem, io_err};
use super::head::{DirLock, HEAD_FILE, Head, HeadState, LOG_FILE, read_head, sync_dir, write_head};
use super::torn::{self, TornKind, TornTail};
use crate::AuditSigner;

/// Pending lines are written to the file (without fsync) once they reach about this size.
const WRITE_AT_BYTES: usize = 256 * 1024;

/// The append-only writer of an audit log directory.
///
/// # Several writers
///
/// Any number of `AuditLog`s, in any processes, may be open on one directory
/// at once (two `tellonce stream` sessions sharing an output, a `tellonce
/// build` alongside them). They still write one chain: a writer holds
/// `audit.lock` ([`LOCK_FILE`](super::LOCK_FILE)) exclusively while it checks
/// the log in [`open`](Self::open), while it writes lines, and for the whole
/// of [`sync`](Self::sync), and never between calls. Because another writer
/// may append between [`append`](Self::append) and the write, a line is only
/// numbered, chained and signed when it is written: the writer first reads
/// the lines others appended since it last looked, accepting them only if
/// each is complete, verifies under this key, holds the next number and
/// chains on from the line before (otherwise [`AuditError::Refused`]), and
/// then numbers its own lines after them. Readers ([`read_entries`](super::read_entries),
/// [`verify`](super::verify), ...) hold the lock shared, so they never see
/// a half-written line.
///
/// # Durability
///
/// [`append`](Self::append) keeps the entry in memory; only
/// [`sync`](Self::sync) makes it durable (write, fsync the log, then replace
/// `audit.head.json` atomically). **Call `sync` before acknowledging the work
/// an entry records** (marking an input done, storing a Kafka offset,
/// reporting success). Dropping an `AuditLog` writes pending entries on a
/// best-effort basis but neither fsyncs nor updates the head; entries
/// written that way are accepted by the next [`open`](Self::open), by other
/// writers and by the verifier because they chain on from the head, but they
/// may be lost in a crash.
///
/// # Fail closed
///
/// [`open`](Self::open) checks the end of an existing log before appending:
/// the last line's MAC, its number, the head's MAC, and that the head
/// records the last line. Any disagreement is [`AuditError::Refused`]; the
/// operator runs `tellonce audit verify` to find out what happened. One case
/// is repaired instead: entries written after the head was last replaced (a
/// crash between writing the log and replacing the head, or a writer dropped
/// without `sync`) are accepted, and the head brought up to date, when every
/// one of them verifies and chains on from the line the head records. `open`
/// is not a substitute for [`verify`](super::verify), which checks every line.
///
/// A log ending in a torn entry ([`TornTail`](super::TornTail)) after
/// everything the head records is [`AuditError::Torn`], whose message names
/// `tellonce audit repair`; a write of this writer that fails part-way is
/// undone (the log cut back to its length before it) so that it leaves none,
/// and its entries stay pending for the next [`sync`](Self::sync).
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
/// log.append(&Event::KeysUsed { key_id: "k1".into(), purposes: vec!["linkage".into()] })?;
/// assert_eq!(log.last_seq(), 0); // appended, not yet written
/// log.sync()?;
/// assert_eq!(log.last_seq(), 1);
/// let report = verify(dir.path(), &ring.audit_signer(), None)?;
/// assert_eq!(report.entries, 1);
/// # Ok(())
/// # }
/// ```
pub struct AuditLog {
    dir: PathBuf,
    log_path: PathBuf,
    /// The log, open for reading (to catch up) and appending.
    file: File,
    signer: AuditSigner,
    /// Entries appended but not yet written, oldest first.
    pending: Vec<Pending>,
    /// About how many bytes `pending` will take as lines.
    pending_bytes: usize,
    /// The length of the log up to the end of the last line this writer read or wrote.
    known_len: u64,
    /// The last entry in the file as far as this writer knows (also its line number).
    last_seq: u64,
    /// SHA-256 of that entry's line ([`ZERO_HASH`] for an empty log).
    last_hash: [u8; 32],
    /// The entry this writer last knew the head on disk to record.
    head_seq: u64,
    /// Set when a write failed part-way: the file may end in a partial line.
    poisoned: Option<u64>,
}

/// An appended entry awaiting its number.
struct Pending {
    /// When it was appended, in seconds since 1970-01-01 UTC.
    secs: u64,
    /// The event, already serialised.
    event_json: Vec<u8>,
}

impl AuditLog {
    /// Opens the log in `dir` for appending, creating the directory, an empty
    /// `audit.jsonl` and its head if they are absent.
    ///
    /// # Errors
    ///
    /// [`AuditError::Refused`] when the existing log's end or head is not as
    /// a writer with this key left it (see the type's documentation), and
    /// [`AuditError::Io`] when a file (the lock file included) cannot be
    /// read, created, locked or synced.
    pub fn open(dir: &Path, signer: AuditSigner) -> Result<AuditLog, AuditError> {
        fs::create_dir_all(dir).map_err(io_err("create directory", dir))?;
        let _lock = DirLock::exclusive(dir)?;
        let log_path = dir.join(LOG_FILE);
        let head = read_head(dir, &signer).map_err(io_err("read", &dir.join(HEAD_FILE)))?;
        let refused = |problem| AuditError::Refused { dir: dir.to_path_buf(), problem };

        let bytes = match fs::read(&log_path) {
            Ok(bytes) => Some(bytes),
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(source) => return Err(AuditError::Io { action: "read", path: log_path, source }),
        };
        let (last_seq, last_hash, head_seq, known_len) = match bytes {
            None => {
                match head {
                    HeadState::Absent => {}
                    HeadState::NotAuthentic => return Err(refused(TailProblem::HeadNotAuthentic)),
                    HeadState::Valid(h) if h == Head::EMPTY => {}
                    HeadState::Valid(h) => return Err(refused(TailProblem::LogMissing { head_seq: h.seq })),
                }
                OpenOptions::new().write(true).create_new(true).open(&log_path).map_err(io_err("create", &log_path))?;
                sync_dir(dir).map_err(io_err("sync directory", dir))?;
                (0, ZERO_HASH, None, 0)
            }
            Some(bytes) => {
                let tail = check_tail(&bytes, head, &signer).map_err(|e| match e {
                    TailError::Torn(torn) => AuditError::Torn { dir: dir.to_path_buf(), torn },
                    TailError::Problem(problem) => refused(problem),
                })?;
                (tail.last_seq, tail.last_hash, tail.head_seq, bytes.len() as u64)
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
        AuditLog::appending(dir, signer, known_len, (last_seq, last_hash), head_seq)
    }

    /// A writer appending to the log in `dir`, known to be `known_len` bytes long and to end in
    /// entry `last_seq` whose line hashes to `last_hash`, with the head recording `head_seq`.
    fn appending(
        dir: &Path,
        signer: AuditSigner,
        known_len: u64,
        (last_seq, last_hash): (u64, [u8; 32]),
        head_seq: u64,
    ) -> Result<AuditLog, AuditError> {
        let log_path = dir.join(LOG_FILE);
        let file = OpenOptions::new().read(true).append(true).open(&log_path).map_err(io_err("open", &log_path))?;
        Ok(AuditLog {
            dir: dir.to_path_buf(),
            log_path,
            file,
            signer,
            pending: Vec::new(),
            pending_bytes: 0,
            known_len,
            last_seq,
            last_hash,
            head_seq,
            poisoned: None,
        })
    }

    /// A writer on a log the caller has just checked and cut back to `known_len` bytes, ending
    /// in entry `last_seq` whose line hashes to `last_hash`, with the head recording `head_seq`.
    /// The caller holds the exclusive lock and passes it on to [`sync_locked`](Self::sync_locked).
    pub(super) fn after_repair(
        dir: &Path,
        signer: AuditSigner,
        known_len: u64,
        (last_seq, last_hash): (u64, [u8; 32]),
        head_seq: u64,
        _lock: &DirLock,
    ) -> Result<AuditLog, AuditError> {
        AuditLog::appending(dir, signer, known_len, (last_seq, last_hash), head_seq)
    }

    /// Writes `event`, stamped `secs`, and makes it durable, under a lock the caller holds.
    pub(super) fn append_and_sync_locked(
        &mut self,
        event: &Event,
        secs: u64,
        lock: &DirLock,
    ) -> Result<(), AuditError> {
        self.push(event, secs)?;
        self.sync_locked(lock)
    }

    /// Appends `event`, stamped with the system clock, as an entry of the
    /// log. The entry is kept in memory and numbered when it is written
    /// (after any entries other writers append first): call
    /// [`sync`](Self::sync) to make it durable.
    ///
    /// # Errors
    ///
    /// [`AuditError::Encode`] if the event cannot be encoded (nothing is
    /// appended); when pending entries reach the write threshold and are
    /// written, [`AuditError::Io`] if that fails and
    /// [`AuditError::Refused`] if lines other writers appended do not chain;
    /// and [`AuditError::Poisoned`] after an earlier write failure.
    pub fn append(&mut self, event: &Event) -> Result<(), AuditError> {
        self.append_at(event, now_secs())
    }

    /// [`append`](Self::append) with the time given as seconds since 1970-01-01 UTC.
    pub(crate) fn append_at(&mut self, event: &Event, secs: u64) -> Result<(), AuditError> {
        self.push(event, secs)?;
        if self.pending_bytes >= WRITE_AT_BYTES {
            let lock = DirLock::exclusive(&self.dir)?;
            self.write_pending(&lock)?;
        }
        Ok(())
    }

    /// Makes every appended entry durable: under the lock, catches up with
    /// lines other writers appended, writes pending entries, fsyncs the log,
    /// then replaces `audit.head.json` atomically to record the last line.
    /// Call it before acknowledging the work the entries record.
    ///
    /// # Errors
    ///
    /// [`AuditError::Io`] if locking, writing or syncing fails (after a
    /// failed write or fsync the writer refuses further entries with
    /// [`AuditError::Poisoned`]; when only replacing the head failed, the
    /// next `sync` retries), [`AuditError::Refused`] if lines other writers
    /// appended do not chain, and [`AuditError::Poisoned`] after an earlier
    /// write failure.
    pub fn sync(&mut self) -> Result<(), AuditError> {
        self.check_poisoned()?;
        let lock = DirLock::exclusive(&self.dir)?;
        self.sync_locked(&lock)
    }

    /// Keeps `event`, stamped `secs`, in memory until it is written.
    fn push(&mut self, event: &Event, secs: u64) -> Result<(), AuditError> {
        self.check_poisoned()?;
        let event_json = event_json(event)
            .map_err(|source| AuditError::Encode { seq: self.last_seq + self.pending.len() as u64 + 1, source })?;
        self.pending_bytes += event_json.len() + LINE_OVERHEAD;
        self.pending.push(Pending { secs, event_json });
        Ok(())
    }

    /// [`sync`](Self::sync) for a caller that already holds the exclusive lock.
    fn sync_locked(&mut self, lock: &DirLock) -> Result<(), AuditError> {
        self.check_poisoned()?;
        self.write_pending(lock)?;
        if let Err(source) = self.file.sync_all() {
            self.poisoned = Some(self.head_seq + 1);
            return Err(AuditError::Io { action: "sync", path: self.log_path.clone(), source });
        }
        // Another writer may have moved the head on since this one last wrote
        // it; rewriting it with the same content is harmless.
        if self.last_seq != self.head_seq {
            write_head(&self.dir, &Head { seq: self.last_seq, hash: self.last_hash }, &self.signer)?;
            self.head_seq = self.last_seq;
        }
        Ok(())
    }

    /// The sequence number of the last entry written to the file, by this
    /// writer or any other, as far as this writer knows (0 for an empty log).
    /// It moves on when this writer writes (a [`sync`](Self::sync), or
    /// appends reaching the write threshold) and learns of other writers'
    /// lines then. Entries appended but not yet written are not counted; it
    /// may not be synced yet.
    pub fn last_seq(&self) -> u64 {
        self.last_seq
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

    fn refused(&self, problem: TailProblem) -> AuditError {
        AuditError::Refused { dir: self.dir.clone(), problem }
    }

    /// Catches up, then numbers, chains, signs and writes the pending entries
    /// (no fsync). The caller holds the exclusive lock.
    fn write_pending(&mut self, lock: &DirLock) -> Result<(), AuditError> {
        self.catch_up(lock)?;
        if self.pending.is_empty() {
            return Ok(());
        }
        let mut buf = Vec::with_capacity(self.pending_bytes);
        let (mut seq, mut hash) = (self.last_seq, self.last_hash);
        for entry in &self.pending {
            seq += 1;
            let line = encode_line_json(seq, &timestamp(entry.secs), &hash, &entry.event_json, &self.signer)
                .map_err(|source| AuditError::Encode { seq, source })?;
            hash = sha256(&line);
            buf.extend_from_slice(&line);
            buf.push(b'\n');
        }
        if let Err(failed) = append_or_roll_back(&mut &self.file, &buf, self.known_len) {
            let source = match failed {
                // Nothing of it stayed: the entries stay pending, and a later sync (once the
                // disk has room again) writes them.
                Appended::RolledBack(source) => source,
                // Part of it may have stayed: the log may end in a torn entry.
                Appended::Torn(source) => {
                    self.poisoned = Some(self.last_seq + 1);
                    source
                }
            };
            return Err(AuditError::Io { action: "append to", path: self.log_path.clone(), source });
        }
        self.known_len += buf.len() as u64;
        self.last_seq = seq;
        self.last_hash = hash;
        self.pending.clear();
        self.pending_bytes = 0;
        Ok(())
    }

    /// Reads the lines other writers appended since this one last read or
    /// wrote, and accepts them only if each is complete, verifies and
    /// continues the chain. The caller holds the exclusive lock, so nobody is
    /// writing.
    fn catch_up(&mut self, _lock: &DirLock) -> Result<(), AuditError> {
        let read_err = io_err("read", &self.log_path);
        let len = self.file.metadata().map_err(read_err)?.len();
        if len == self.known_len {
            return Ok(());
        }
        if len < self.known_len {
            return Err(self.refused(TailProblem::Shrunk { known: self.known_len, len }));
        }
        let mut bytes = Vec::new();
        let read = (&self.file)
            .seek(SeekFrom::Start(self.known_len))
            .and_then(|_| (&self.file).take(len - self.known_len).read_to_end(&mut bytes));
        read.map_err(io_err("read", &self.log_path))?;
        // Under the lock a torn entry is not a write in progress but one that was cut short.
        let torn = torn::find(&bytes, &self.signer);
        let whole = torn.and_then(|t| usize::try_from(t.offset).ok()).map_or(&bytes[..], |end| &bytes[..end]);
        let (lines, fragment) = split_lines(whole);
        let (mut seq, mut hash) = (self.last_seq, self.last_hash);
        for line in lines {
            let number = seq + 1;
            let not_authentic = || self.refused(TailProblem::AppendedNotAuthentic { line: number });
            if !mac_is_valid(line, &self.signer) {
                return Err(not_authentic());
            }
            let raw = RawEntry::parse(line).map_err(|_| not_authentic())?;
            if raw.seq != number {
                return Err(self.refused(TailProblem::AppendedRenumbered { line: number, seq: raw.seq }));
            }
            if raw.prev != hex::encode(hash) {
                return Err(self.refused(TailProblem::AppendedChainBroken { line: number }));
            }
            seq = number;
            hash = sha256(line);
        }
        if fragment.is_some() {
            // Not reached: a fragment is always taken as torn above.
            return Err(self.refused(TailProblem::PartialLine { line: seq + 1 }));
        }
        if let Some(t) = torn {
            let torn = TornTail { line: seq + 1, offset: self.known_len + t.offset, ..t };
            return Err(AuditError::Torn { dir: self.dir.clone(), torn });
        }
        self.known_len += bytes.len() as u64;
        self.last_seq = seq;
        self.last_hash = hash;
        Ok(())
    }
}

impl std::fmt::Debug for AuditLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditLog")
            .field("dir", &self.dir)
            .field("last_seq", &self.last_seq)
            .field("head_seq", &self.head_seq)
            .field("pending_entries", &self.pending.len())
            .field("poisoned", &self.poisoned)
            .finish_non_exhaustive()
    }
}

impl Drop for AuditLog {
    /// Writes pending entries, best effort, under the lock, without fsync or
    /// head update.
    fn drop(&mut self) {
        if self.poisoned.is_none()
            && !self.pending.is_empty()
            && let Ok(lock) = DirLock::exclusive(&self.dir)
        {
            let _ = self.write_pending(&lock);
        }
    }
}

/// How a failed [`append_or_roll_back`] left the log.
#[derive(Debug)]
enum Appended {
    /// The log was cut back to its length before the write: nothing of it stayed.
    RolledBack(io::Error),
    /// It could not be cut back: part of the write may have stayed (a torn entry).
    Torn(io::Error),
}

/// A log file that can be cut back to an earlier length.
trait Truncate {
    /// Cuts the file to `len` bytes and makes that durable.
    fn truncate_to(&mut self, len: u64) -> io::Result<()>;
}

impl Truncate for &File {
    fn truncate_to(&mut self, len: u64) -> io::Result<()> {
        self.set_len(len)?;
        self.sync_all()
    }
}

/// Appends `buf` to a log `len` bytes long. When the write fails part-way (a full disk, a file
/// size limit), cuts the log back to `len`, so that a failed append leaves no torn entry
/// wherever the file system lets the cut be made (freeing blocks needs no free space).
fn append_or_roll_back<F: Write + Truncate>(file: &mut F, buf: &[u8], len: u64) -> Result<(), Appended> {
    let Err(source) = file.write_all(buf) else {
        return Ok(());
    };
    match file.truncate_to(len) {
        Ok(()) => Err(Appended::RolledBack(source)),
        Err(_) => Err(Appended::Torn(source)),
    }
}

/// The end of an existing log, as checked by [`check_tail`].
struct Tail {
    last_seq: u64,
    last_hash: [u8; 32],
    /// The entry the head on disk records, or `None` if it must be (re)written.
    head_seq: Option<u64>,
}

/// Why [`check_tail`] will not let a writer append.
enum TailError {
    /// The log ends in a torn entry after everything the head records: `audit repair` cuts it.
    Torn(TornTail),
    /// The log or head is not as a writer left it.
    Problem(TailProblem),
}

/// Checks the last line and the head of an existing log. A torn final entry is set aside and
/// the rest checked without it: if that passes, the log is torn (repairable); if the head
/// records the torn entry, it is damage to an acknowledged entry and refused as such.
fn check_tail(bytes: &[u8], head: HeadState, signer: &AuditSigner) -> Result<Tail, TailError> {
    let Some(torn) = torn::find(bytes, signer) else {
        return check_whole_tail(bytes, head, signer).map_err(TailError::Problem);
    };
    let whole = usize::try_from(torn.offset).map_or(bytes, |end| &bytes[..end]);
    Err(match check_whole_tail(whole, head, signer) {
        Ok(_) => TailError::Torn(torn),
        Err(TailProblem::HeadAhead { head_seq, last_seq }) if head_seq == last_seq + 1 => match torn.kind {
            TornKind::Incomplete => TailError::Problem(TailProblem::PartialLine { line: torn.line }),
            TornKind::NotAnEntry => TailError::Problem(TailProblem::LineNotAuthentic { line: torn.line }),
        },
        Err(problem) => TailError::Problem(problem),
    })
}

/// [`check_tail`] for a log that does not end in a torn entry.
fn check_whole_tail(bytes: &[u8], head: HeadState, signer: &AuditSigner) -> Result<Tail, TailProblem> {
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
    use crate::audit::entry::encode_line;
    use crate::audit::testutil::{append_raw, lines_of, sample_events, signer, write_lines, write_sample_log};
    use crate::audit::{ReadCursor, read_entries, read_new_entries, verify};

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
        for e in &events {
            log.append(e).unwrap();
            assert_eq!(log.last_seq(), 0);
        }
        log.sync().unwrap();
        assert_eq!(log.last_seq(), events.len() as u64);
        drop(log);
        let mut log = AuditLog::open(dir.path(), signer()).unwrap();
        assert_eq!(log.last_seq(), events.len() as u64);
        log.append(&events[0]).unwrap();
        log.sync().unwrap();
        let seq = log.last_seq();
        assert_eq!(seq, events.len() as u64 + 1);
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

    /// The event writer `w` appends in round `k`: its `key_id` names both.
    fn marked(w: usize, k: usize, padding: usize) -> Event {
        Event::KeysUsed { key_id: format!("w{w}-{k}"), purposes: vec!["x".repeat(padding)] }
    }

    #[test]
    fn several_writers_keep_one_chain() {
        const WRITERS: usize = 4;
        const ROUNDS: usize = 24;
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("audit");
        drop(AuditLog::open(&root, signer()).unwrap());
        let done = std::sync::atomic::AtomicBool::new(false);
        let (total, seen) = std::thread::scope(|scope| {
            // A reader following the log while they write: it must never see a half-written line.
            let reader = scope.spawn(|| {
                let mut cursor = ReadCursor::default();
                let mut seen = 0usize;
                let mut passes = 0;
                while !done.load(std::sync::atomic::Ordering::SeqCst) || passes == 0 {
                    let report = verify(&root, &signer(), None).unwrap_or_else(|f| panic!("verify while writing: {f}"));
                    assert!(report.entries >= cursor.lines());
                    let new = read_new_entries(&root, &mut cursor).unwrap();
                    for (i, e) in new.iter().enumerate() {
                        assert_eq!((e.seq, e.line), (cursor.lines() - new.len() as u64 + i as u64 + 1, e.seq));
                    }
                    seen += new.len();
                    passes += 1;
                }
                seen + read_new_entries(&root, &mut cursor).unwrap().len()
            });
            let writers: Vec<_> = (0..WRITERS)
                .map(|w| {
                    let root = &root;
                    scope.spawn(move || {
                        let mut log = AuditLog::open(root, signer()).unwrap();
                        let mut appended = 0;
                        for k in 0..ROUNDS {
                            // Now and then one entry big enough to cross the write threshold alone.
                            let padding = if (k + w) % 8 == 3 { WRITE_AT_BYTES } else { 10 };
                            log.append(&marked(w, k, padding)).unwrap();
                            appended += 1;
                            match (k + w) % 4 {
                                0 => log.sync().unwrap(),
                                // Dropped unsynced: written without fsync or head, then reopened.
                                1 => {
                                    drop(log);
                                    log = AuditLog::open(root, signer()).unwrap();
                                }
                                _ => {}
                            }
                        }
                        log.sync().unwrap();
                        appended
                    })
                })
                .collect();
            let total: usize = writers.into_iter().map(|h| h.join().unwrap()).sum();
            done.store(true, std::sync::atomic::Ordering::SeqCst);
            (total, reader.join().unwrap())
        });
        assert_eq!(total, WRITERS * ROUNDS);
        assert_eq!(seen, total);

        let report = verify(&root, &signer(), None).unwrap();
        assert_eq!(report.entries, total as u64);
        assert_eq!((report.last_seq, report.head_seq), (total as u64, total as u64));
        let lines = lines_of(&root);
        assert_eq!(report.head_hash, hex::encode(sha256(lines[total - 1].as_bytes())));
        let mut keys: Vec<String> = read_entries(&root)
            .unwrap()
            .into_iter()
            .map(|e| match e.event {
                Event::KeysUsed { key_id, .. } => key_id,
                other => panic!("unexpected {other:?}"),
            })
            .collect();
        keys.sort();
        let mut expected: Vec<String> =
            (0..WRITERS).flat_map(|w| (0..ROUNDS).map(move |k| format!("w{w}-{k}"))).collect();
        expected.sort();
        assert_eq!(keys, expected);
    }

    #[test]
    fn a_writer_numbers_its_entries_after_other_writers() {
        let dir = tempfile::tempdir().unwrap();
        let mut a = AuditLog::open(dir.path(), signer()).unwrap();
        let mut b = AuditLog::open(dir.path(), signer()).unwrap();
        a.append(&marked(0, 0, 1)).unwrap();
        b.append(&marked(1, 0, 1)).unwrap();
        b.append(&marked(1, 1, 1)).unwrap();
        b.sync().unwrap();
        assert_eq!((a.last_seq(), b.last_seq()), (0, 2));
        a.sync().unwrap();
        assert_eq!(a.last_seq(), 3);
        // B learns of A's line when it next writes.
        b.append(&marked(1, 2, 1)).unwrap();
        drop(b);
        let entries = read_entries(dir.path()).unwrap();
        let keys: Vec<_> = entries
            .iter()
            .map(|e| match &e.event {
                Event::KeysUsed { key_id, .. } => (e.seq, key_id.as_str()),
                other => panic!("unexpected {other:?}"),
            })
            .collect();
        assert_eq!(keys, [(1, "w1-0"), (2, "w1-1"), (3, "w0-0"), (4, "w1-2")]);
        let report = verify(dir.path(), &signer(), None).unwrap();
        assert_eq!((report.entries, report.head_seq), (4, 3));
    }

    /// A log of one synced entry, a writer on it with one entry pending, and the hash of line 1
    /// (the same every time: line 1 is stamped with a fixed time, so that lines made to chain on
    /// one such log chain on another).
    fn writer_with_one_line() -> (tempfile::TempDir, AuditLog, [u8; 32]) {
        let dir = tempfile::tempdir().unwrap();
        let mut log = AuditLog::open(dir.path(), signer()).unwrap();
        log.append_at(&marked(0, 0, 1), 1_795_426_867).unwrap();
        log.sync().unwrap();
        log.append(&marked(0, 1, 1)).unwrap();
        let hash = sha256(lines_of(dir.path())[0].as_bytes());
        (dir, log, hash)
    }

    /// Appends `foreign` by hand after line 1, then checks the writer refuses to write after it.
    fn catch_up_refusal(foreign: &[u8]) -> (TailProblem, String) {
        let (dir, mut log, _) = writer_with_one_line();
        append_raw(dir.path(), foreign);
        let before = fs::read(dir.path().join(LOG_FILE)).unwrap();
        let err = log.sync().unwrap_err();
        let message = err.to_string();
        let AuditError::Refused { problem, .. } = err else { panic!("expected a refusal, got {err:?}") };
        // It keeps refusing, and writes nothing even when dropped.
        assert!(matches!(log.sync(), Err(AuditError::Refused { .. })));
        drop(log);
        assert_eq!(fs::read(dir.path().join(LOG_FILE)).unwrap(), before);
        (problem, message)
    }

    #[test]
    fn catch_up_accepts_a_line_that_chains() {
        let (dir, mut log, hash) = writer_with_one_line();
        let line = encode_line(2, "2026-01-01T00:00:00Z", &hash, &marked(1, 0, 1), &signer()).unwrap();
        append_raw(dir.path(), &[&line[..], b"\n"].concat());
        log.sync().unwrap();
        assert_eq!(log.last_seq(), 3);
        let report = verify(dir.path(), &signer(), None).unwrap();
        assert_eq!((report.entries, report.head_seq), (3, 3));
    }

    #[test]
    fn catch_up_refuses_lines_that_do_not_chain() {
        let hash = writer_with_one_line().2;
        let at = "2026-01-01T00:00:00Z";
        let other = crate::KeyRing::from_master([8u8; 32]).audit_signer();
        let line = |seq, prev: &[u8; 32], signer: &AuditSigner| {
            let mut line = encode_line(seq, at, prev, &marked(1, 0, 1), signer).unwrap();
            line.push(b'\n');
            line
        };

        let (problem, message) = catch_up_refusal(&line(2, &hash, &other));
        assert_eq!(problem, TailProblem::AppendedNotAuthentic { line: 2 });
        assert!(message.contains("line 2") && message.contains("tellonce audit verify"), "{message}");
        // A byte changed that keeps the line an entry: tampering. (One that breaks the JSON of
        // the last line makes it torn: see `catch_up_stops_at_a_torn_entry_naming_repair`.)
        let changed = String::from_utf8(line(2, &hash, &signer())).unwrap().replacen("w1-0", "w1-9", 1);
        assert_eq!(catch_up_refusal(changed.as_bytes()).0, TailProblem::AppendedNotAuthentic { line: 2 });
        let (problem, message) = catch_up_refusal(&line(2, &ZERO_HASH, &signer()));
        assert_eq!(problem, TailProblem::AppendedChainBroken { line: 2 });
        assert!(message.contains("line 2"), "{message}");
        assert_eq!(catch_up_refusal(&line(3, &hash, &signer())).0, TailProblem::AppendedRenumbered { line: 2, seq: 3 });
        // A good line, then a bad one: the refusal names the bad one.
        let good = line(2, &hash, &signer());
        let bad = line(3, &hash, &signer());
        assert_eq!(catch_up_refusal(&[good.clone(), bad].concat()).0, TailProblem::AppendedChainBroken { line: 3 });
    }

    #[test]
    fn catch_up_stops_at_a_torn_entry_naming_repair() {
        let (dir, mut log, hash) = writer_with_one_line();
        let mut good = encode_line(2, "2026-01-01T00:00:00Z", &hash, &marked(1, 0, 1), &signer()).unwrap();
        good.push(b'\n');
        let len = fs::metadata(dir.path().join(LOG_FILE)).unwrap().len();
        // Another writer's line 2, whole, then its line 3 cut short.
        append_raw(dir.path(), &[&good[..], &good[..good.len() - 5]].concat());
        let before = fs::read(dir.path().join(LOG_FILE)).unwrap();
        match log.sync() {
            Err(err @ AuditError::Torn { torn, .. }) => {
                let expected = TornTail {
                    line: 3,
                    offset: len + good.len() as u64,
                    bytes: good.len() as u64 - 5,
                    kind: TornKind::Incomplete,
                };
                assert_eq!(torn, expected);
                assert!(err.to_string().contains("tellonce audit repair"), "{err}");
            }
            other => panic!("expected a torn entry, got {other:?}"),
        }
        drop(log);
        assert_eq!(fs::read(dir.path().join(LOG_FILE)).unwrap(), before);
    }

    #[test]
    fn open_tells_a_torn_entry_from_tampering() {
        let dir = tempfile::tempdir().unwrap();
        write_sample_log(dir.path(), 3);
        append_raw(dir.path(), b"{\"seq\":4,");
        let err = AuditLog::open(dir.path(), signer()).unwrap_err();
        assert!(matches!(err, AuditError::Torn { torn: TornTail { line: 4, bytes: 9, .. }, .. }), "{err:?}");
        let message = err.to_string();
        assert!(message.contains("tellonce audit repair") && !message.contains("investigated"), "{message}");
    }

    /// A log file on a disk with `room` bytes left: writes stop there with `StorageFull`.
    struct FullDisk<'a> {
        file: &'a File,
        room: usize,
        truncate_fails: bool,
    }

    impl Write for FullDisk<'_> {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            if self.room == 0 {
                return Err(io::ErrorKind::StorageFull.into());
            }
            let n = buf.len().min(self.room);
            self.room -= n;
            (&mut self.file).write(&buf[..n])
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl Truncate for FullDisk<'_> {
        fn truncate_to(&mut self, len: u64) -> io::Result<()> {
            if self.truncate_fails {
                return Err(io::ErrorKind::PermissionDenied.into());
            }
            let mut file = self.file;
            file.truncate_to(len)
        }
    }

    #[test]
    fn a_write_cut_short_by_a_full_disk_is_rolled_back() {
        let dir = tempfile::tempdir().unwrap();
        write_sample_log(dir.path(), 3);
        let path = dir.path().join(LOG_FILE);
        let before = fs::read(&path).unwrap();
        let file = OpenOptions::new().read(true).append(true).open(&path).unwrap();
        let buf = [b"{\"seq\":4,\"at\":\"2026-01-01T00:00:00Z\"}".as_slice(), b"\n"].concat();
        let mut disk = FullDisk { file: &file, room: 17, truncate_fails: false };
        match append_or_roll_back(&mut disk, &buf, before.len() as u64) {
            Err(Appended::RolledBack(e)) => assert_eq!(e.kind(), io::ErrorKind::StorageFull),
            other => panic!("expected a rolled-back write, got {other:?}"),
        }
        assert_eq!(fs::read(&path).unwrap(), before, "the partial line was not cut off");
        assert!(verify(dir.path(), &signer(), None).is_ok());

        // When the cut cannot be made either, the caller learns the log may be torn.
        let mut disk = FullDisk { file: &file, room: 17, truncate_fails: true };
        assert!(matches!(append_or_roll_back(&mut disk, &buf, before.len() as u64), Err(Appended::Torn(_))));
        assert_eq!(fs::read(&path).unwrap().len(), before.len() + 17);
        assert!(matches!(verify(dir.path(), &signer(), None), Err(super::super::VerifyFailure::Torn { .. })));
        let mut disk = FullDisk { file: &file, room: usize::MAX, truncate_fails: true };
        assert!(append_or_roll_back(&mut disk, b"", 0).is_ok());
    }

    #[test]
    fn catch_up_refuses_a_log_cut_shorter() {
        let (dir, mut log, _) = writer_with_one_line();
        let path = dir.path().join(LOG_FILE);
        let len = fs::metadata(&path).unwrap().len();
        fs::OpenOptions::new().write(true).open(&path).unwrap().set_len(len - 1).unwrap();
        match log.sync() {
            Err(AuditError::Refused { problem, .. }) => {
                assert_eq!(problem, TailProblem::Shrunk { known: len, len: len - 1 })
            }
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn appends_reaching_the_threshold_are_written_without_sync() {
        let dir = tempfile::tempdir().unwrap();
        let mut log = AuditLog::open(dir.path(), signer()).unwrap();
        let mut n = 0;
        while lines_of(dir.path()).is_empty() {
            log.append(&marked(0, n, 1000)).unwrap();
            n += 1;
            assert!(n * 1000 < 2 * WRITE_AT_BYTES, "nothing written after {n} entries");
        }
        assert_eq!(lines_of(dir.path()).len(), n);
        assert_eq!(log.last_seq(), n as u64);
        // Not synced: the head still records the empty log.
        assert_eq!(read_head(dir.path(), &signer()).unwrap(), HeadState::Valid(Head::EMPTY));
    }
}
