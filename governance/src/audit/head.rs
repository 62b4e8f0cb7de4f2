//! `audit.head.json`: the signed record of the last synced entry.
//!
//! `{"seq":N,"hash":"<sha256 of line N>","mac":"<HMAC over 'N:hash'>"}`. It
//! lets the verifier tell a log cut short at a line boundary from a complete
//! one. It is replaced atomically: temporary file in the same directory,
//! fsync, rename, fsync of the directory.
//!
//! This module also holds `audit.lock`, the lock that serialises writers
//! (exclusive) and keeps readers (shared) from seeing a half-written line.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::Path;

use serde::Deserialize;

use super::entry::{ZERO_HASH, is_lower_hex64};
use super::error::{AuditError, io_err};
use crate::AuditSigner;

/// The head file's name inside the log directory.
pub const HEAD_FILE: &str = "audit.head.json";
/// The log file's name inside the log directory.
pub const LOG_FILE: &str = "audit.jsonl";
/// The lock file's name inside the log directory. Writers hold it exclusively
/// while they write to the log or the head, readers shared while they read
/// them. It holds no data; never delete it while the log is in use, or a new
/// writer would lock a different file than the ones already open.
pub const LOCK_FILE: &str = "audit.lock";
/// The temporary file the head is written to before it is renamed. Its name is
/// shared by all writers, so it is only written under the exclusive lock.
const HEAD_TMP: &str = "audit.head.json.tmp";

/// The last synced entry, as recorded by an authentic head.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Head {
    /// The entry's sequence number (0 for an empty log).
    pub(crate) seq: u64,
    /// SHA-256 of that entry's line ([`ZERO_HASH`] for an empty log).
    pub(crate) hash: [u8; 32],
}

/// What was found at the head's path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HeadState {
    /// No head file.
    Absent,
    /// A head file that is malformed or whose MAC does not verify.
    NotAuthentic,
    /// An authentic head.
    Valid(Head),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HeadJson {
    seq: u64,
    hash: String,
    mac: String,
}

impl Head {
    /// The head of an empty log.
    pub(crate) const EMPTY: Head = Head { seq: 0, hash: ZERO_HASH };

    fn signed_bytes(seq: u64, hash_hex: &str) -> Vec<u8> {
        format!("{seq}:{hash_hex}").into_bytes()
    }

    /// The JSON text of this head, signed.
    fn encode(&self, signer: &AuditSigner) -> String {
        let hash = hex::encode(self.hash);
        let mac = hex::encode(signer.sign(&Head::signed_bytes(self.seq, &hash)));
        format!("{{\"seq\":{},\"hash\":\"{hash}\",\"mac\":\"{mac}\"}}\n", self.seq)
    }

    /// Parses and authenticates head bytes.
    fn decode(bytes: &[u8], signer: &AuditSigner) -> Option<Head> {
        let json: HeadJson = serde_json::from_slice(bytes).ok()?;
        if !is_lower_hex64(json.hash.as_bytes()) || !is_lower_hex64(json.mac.as_bytes()) {
            return None;
        }
        let tag = hex::decode(&json.mac).ok()?;
        if !signer.verify(&Head::signed_bytes(json.seq, &json.hash), &tag) {
            return None;
        }
        let mut hash = [0u8; 32];
        hex::decode_to_slice(&json.hash, &mut hash).ok()?;
        Some(Head { seq: json.seq, hash })
    }
}

/// Refuses an audit file that is a symbolic link. A link planted at `audit.jsonl`, the head,
/// its temporary file or the lock would make the log read from, append to or truncate a file
/// elsewhere. A missing file passes (it is created without following anything).
pub(crate) fn refuse_symlink(path: &Path) -> io::Result<()> {
    match fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "it is a symbolic link; audit files are never opened through a link (remove the link)",
        )),
        _ => Ok(()),
    }
}

/// [`refuse_symlink`] for every file of the log in `dir`, before a writer touches any of them.
fn refuse_symlinks(dir: &Path) -> Result<(), AuditError> {
    for name in [LOG_FILE, HEAD_FILE, HEAD_TMP, LOCK_FILE] {
        let path = dir.join(name);
        refuse_symlink(&path).map_err(io_err("open", &path))?;
    }
    Ok(())
}

/// Reads and authenticates the head in `dir`.
pub(crate) fn read_head(dir: &Path, signer: &AuditSigner) -> io::Result<HeadState> {
    refuse_symlink(&dir.join(HEAD_FILE))?;
    match fs::read(dir.join(HEAD_FILE)) {
        Ok(bytes) => Ok(Head::decode(&bytes, signer).map_or(HeadState::NotAuthentic, HeadState::Valid)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(HeadState::Absent),
        Err(e) => Err(e),
    }
}

/// Replaces the head in `dir` atomically and durably.
///
/// The head is written after the entries it records are written and fsynced, so it never
/// records an entry that is not durable; a crash (or a full disk) before it is replaced leaves
/// the previous head, behind entries that chain on from it, which the next writer accepts and
/// records. It cannot be torn: readers see the old file or the new one, never a part, and a
/// temporary file a failed write leaves is removed (or truncated by the next write).
pub(crate) fn write_head(dir: &Path, head: &Head, signer: &AuditSigner) -> Result<(), AuditError> {
    let tmp = dir.join(HEAD_TMP);
    // Created new, never through whatever is at the name (a leftover, or a planted link, which
    // `File::create` would follow and truncate the target of).
    match fs::remove_file(&tmp) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(io_err("remove", &tmp)(e)),
        _ => {}
    }
    let written = OpenOptions::new().write(true).create_new(true).open(&tmp).map_err(io_err("create", &tmp)).and_then(
        |mut file| {
            file.write_all(head.encode(signer).as_bytes()).map_err(io_err("write", &tmp))?;
            file.sync_all().map_err(io_err("sync", &tmp))
        },
    );
    if let Err(e) = written {
        let _ = fs::remove_file(&tmp);
        return Err(e);
    }
    let target = dir.join(HEAD_FILE);
    fs::rename(&tmp, &target).map_err(io_err("replace", &target))?;
    sync_dir(dir).map_err(io_err("sync directory", dir))
}

/// A lock held on `audit.lock`, released when dropped.
///
/// Locks belong to the open file, so two `DirLock`s taken through separate
/// opens exclude each other even within one process.
#[derive(Debug)]
pub(crate) struct DirLock {
    file: File,
}

impl DirLock {
    /// Takes the lock exclusively, creating the lock file if needed, and
    /// waits for any other holder to let go.
    pub(crate) fn exclusive(dir: &Path) -> Result<DirLock, AuditError> {
        // Every write to the log or the head happens under this lock: checked here, no writer
        // opens an audit file through a link.
        refuse_symlinks(dir)?;
        let path = dir.join(LOCK_FILE);
        let file = open_lock_file(&path).map_err(io_err("open", &path))?;
        file.lock().map_err(io_err("lock", &path))?;
        Ok(DirLock { file })
    }

    /// Takes the lock shared when it can be had. `None` when the lock file
    /// can neither be created nor opened, or cannot be locked (a read-only
    /// directory or medium, no permission): then nobody can be writing
    /// through it either, and the caller reads without it.
    pub(crate) fn shared(dir: &Path) -> Option<DirLock> {
        let path = dir.join(LOCK_FILE);
        // A reader may be allowed to read an existing lock file without being
        // allowed to create or write it.
        let file = open_lock_file(&path).or_else(|_| File::open(&path)).ok()?;
        file.lock_shared().ok()?;
        Some(DirLock { file })
    }
}

impl Drop for DirLock {
    fn drop(&mut self) {
        // Closing the file releases the lock too; unlocking first makes the
        // release not depend on when the descriptor is closed.
        let _ = self.file.unlock();
    }
}

/// Opens (creating if absent, never truncating) the lock file; never through a link.
fn open_lock_file(path: &Path) -> io::Result<File> {
    refuse_symlink(path)?;
    OpenOptions::new().read(true).write(true).create(true).truncate(false).open(path)
}

/// Makes a rename or creation in `dir` durable (a no-op where directories
/// cannot be opened, as on Windows).
pub(crate) fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        File::open(dir)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::testutil::signer;

    #[test]
    fn head_round_trips_and_detects_forgery() {
        let dir = tempfile::tempdir().unwrap();
        let s = signer();
        assert_eq!(read_head(dir.path(), &s).unwrap(), HeadState::Absent);
        let head = Head { seq: 42, hash: [7u8; 32] };
        write_head(dir.path(), &head, &s).unwrap();
        assert_eq!(read_head(dir.path(), &s).unwrap(), HeadState::Valid(head));
        assert!(!dir.path().join(HEAD_TMP).exists());

        let text = fs::read_to_string(dir.path().join(HEAD_FILE)).unwrap();
        assert!(text.starts_with("{\"seq\":42,\"hash\":\"0707"), "{text}");
        let forged = text.replace("\"seq\":42", "\"seq\":41");
        fs::write(dir.path().join(HEAD_FILE), forged).unwrap();
        assert_eq!(read_head(dir.path(), &s).unwrap(), HeadState::NotAuthentic);
        fs::write(dir.path().join(HEAD_FILE), "not json").unwrap();
        assert_eq!(read_head(dir.path(), &s).unwrap(), HeadState::NotAuthentic);

        let other = crate::KeyRing::from_master([9u8; 32]).audit_signer();
        write_head(dir.path(), &head, &other).unwrap();
        assert_eq!(read_head(dir.path(), &s).unwrap(), HeadState::NotAuthentic);
    }

    #[cfg(unix)]
    #[test]
    fn audit_files_planted_as_symlinks_are_refused_and_their_targets_untouched() {
        use crate::audit::{AuditLog, read_entries};
        for name in [LOG_FILE, HEAD_FILE, HEAD_TMP, LOCK_FILE] {
            let dir = tempfile::tempdir().unwrap();
            let log_dir = dir.path().join("audit");
            fs::create_dir_all(&log_dir).unwrap();
            let target = dir.path().join("elsewhere.txt");
            fs::write(&target, "someone else's file\n").unwrap();
            std::os::unix::fs::symlink(&target, log_dir.join(name)).unwrap();
            let err = AuditLog::open(&log_dir, signer()).unwrap_err();
            let msg =
                format!("{err}: {}", std::error::Error::source(&err).map(ToString::to_string).unwrap_or_default());
            assert!(msg.contains(name) && msg.contains("symbolic link"), "{name}: {msg}");
            assert_eq!(fs::read_to_string(&target).unwrap(), "someone else's file\n", "{name}");
            if name == LOG_FILE {
                let err = read_entries(&log_dir).unwrap_err();
                let source = std::error::Error::source(&err).map(ToString::to_string).unwrap_or_default();
                assert!(source.contains("symbolic link"), "{err}: {source}");
            }
        }
    }
}
