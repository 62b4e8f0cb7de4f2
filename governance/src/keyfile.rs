//! Reading and creating master key files.
//!
//! A key file holds the 32-byte master key as 64 hex characters and a
//! newline. It must be readable by its owner only (mode `0600` on Unix).

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::Path;

use ring::rand::{SecureRandom, SystemRandom};

use crate::derive::Prk;
use crate::error::{KeyError, Result};
use crate::hexfmt::{push_lower_hex, wipe};
use crate::key_id::KeyId;

/// Length of the master key in bytes.
const MASTER_LEN: usize = 32;
/// Read at most this much of a key file; a valid one is 65 bytes.
const MAX_FILE_LEN: u64 = 4096;
/// A key with fewer distinct byte values than this is refused as degenerate (all zeros, one
/// byte repeated, a short pattern repeated). 32 random bytes have about 30 distinct values; the
/// chance that they have fewer than 12 is below 10^-20, so no generated key is ever refused.
pub const MIN_DISTINCT_KEY_BYTES: usize = 12;

/// Creates a new key file holding a fresh random 32-byte master key.
///
/// The key comes from the operating system's secure random generator
/// (`ring::rand::SystemRandom`) and is written as 64 lowercase hex
/// characters and a newline. The file is created exclusively (it never
/// replaces an existing file, not even through a symlink) and, on Unix, with
/// mode `0600` from the start, so it is never readable by others, not even
/// briefly. Missing parent directories are created (mode `0700` on Unix).
/// The file is fsynced before this returns.
///
/// Returns the new key's [`KeyId`], which is safe to print and record.
///
/// # Errors
///
/// [`KeyError::Exists`] if anything already exists at `path`;
/// [`KeyError::Create`] if a directory or the file cannot be created,
/// written or synced, or if the random generator fails. On a write failure
/// the partial file is removed.
pub fn create_key_file(path: &Path) -> Result<KeyId> {
    let create_err = |source: io::Error| KeyError::Create { path: path.to_path_buf(), source };

    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        create_private_dirs(parent).map_err(create_err)?;
    }

    let mut master = [0u8; MASTER_LEN];
    SystemRandom::new()
        .fill(&mut master)
        .map_err(|_| create_err(io::Error::other("the system random number generator failed")))?;

    let mut file = match new_private_file(path) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            wipe(&mut master);
            return Err(KeyError::Exists { path: path.to_path_buf() });
        }
        Err(e) => {
            wipe(&mut master);
            return Err(create_err(e));
        }
    };

    let mut line = String::with_capacity(2 * MASTER_LEN + 1);
    push_lower_hex(&master, &mut line);
    line.push('\n');
    let mut line = line.into_bytes();
    let written = file.write_all(&line).and_then(|()| file.sync_all());
    wipe(&mut line);
    drop(file);
    if let Err(e) = written {
        wipe(&mut master);
        // Leave no half-written key behind, so that a retry can succeed.
        let _ = fs::remove_file(path);
        return Err(create_err(e));
    }
    sync_parent_dir(path);

    let id = KeyId::derive(&Prk::extract(&master));
    wipe(&mut master);
    Ok(id)
}

/// Reads, checks and decodes the master key in `path`.
pub(crate) fn read_master(path: &Path) -> Result<[u8; MASTER_LEN]> {
    let unreadable = |source: io::Error| KeyError::Unreadable { path: path.to_path_buf(), source };

    let file = File::open(path).map_err(|e| {
        if e.kind() == io::ErrorKind::NotFound { KeyError::Missing { path: path.to_path_buf() } } else { unreadable(e) }
    })?;
    // Check the opened file itself, not the path again, so that the file
    // checked is the file read.
    let meta = file.metadata().map_err(unreadable)?;
    if !meta.is_file() {
        return Err(unreadable(io::Error::new(io::ErrorKind::InvalidInput, "not a regular file")));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = meta.permissions().mode() & 0o7777;
        if mode & 0o077 != 0 {
            return Err(KeyError::Permissions { path: path.to_path_buf(), mode });
        }
    }

    let mut content = Vec::with_capacity(2 * MASTER_LEN + 1);
    let read = file.take(MAX_FILE_LEN + 1).read_to_end(&mut content);
    let decoded = match read {
        Ok(_) => decode_master(path, &content),
        Err(e) => Err(unreadable(e)),
    };
    wipe(&mut content);
    decoded
}

/// Decodes key file content: 64 hex chars, then optional trailing whitespace.
fn decode_master(path: &Path, content: &[u8]) -> Result<[u8; MASTER_LEN]> {
    let malformed = || KeyError::Malformed { path: path.to_path_buf() };
    if content.len() as u64 > MAX_FILE_LEN {
        return Err(malformed());
    }
    let hex_chars = content.trim_ascii_end();
    if !hex_chars.iter().all(u8::is_ascii_hexdigit) || !hex_chars.len().is_multiple_of(2) {
        return Err(malformed());
    }
    let bytes = hex_chars.len() / 2;
    if bytes < MASTER_LEN {
        return Err(KeyError::Short { path: path.to_path_buf(), bytes });
    }
    if bytes > MASTER_LEN {
        return Err(malformed());
    }
    let mut master = [0u8; MASTER_LEN];
    hex::decode_to_slice(hex_chars, &mut master).map_err(|_| malformed())?;
    let distinct = distinct_bytes(&master);
    if distinct < MIN_DISTINCT_KEY_BYTES {
        wipe(&mut master);
        return Err(KeyError::Degenerate { path: path.to_path_buf(), distinct });
    }
    Ok(master)
}

/// How many distinct byte values `bytes` holds.
fn distinct_bytes(bytes: &[u8]) -> usize {
    let mut seen = [false; 256];
    for &b in bytes {
        seen[usize::from(b)] = true;
    }
    seen.iter().filter(|&&s| s).count()
}

/// Creates `dir` and any missing parents; new ones get mode 0700 on Unix.
fn create_private_dirs(dir: &Path) -> io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

/// Opens a new file exclusively, with mode 0600 from creation on Unix.
fn new_private_file(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}

/// Best effort: makes the new directory entry durable. The key bytes are
/// already synced; failing here (some file systems refuse to sync a
/// directory) is not worth failing the creation for.
fn sync_parent_dir(path: &Path) {
    #[cfg(unix)]
    {
        let parent = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        if let Ok(dir) = File::open(parent) {
            let _ = dir.sync_all();
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::KeyRing;
    use std::path::PathBuf;

    const KEY_HEX: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

    /// Writes `content` to a new file with `mode`, returning its path.
    fn write_key(dir: &Path, name: &str, content: &[u8], mode: u32) -> PathBuf {
        let path = dir.join(name);
        fs::write(&path, content).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(&path, fs::Permissions::from_mode(mode)).unwrap();
        }
        #[cfg(not(unix))]
        let _ = mode;
        path
    }

    /// Checks the message names the path and leaks no key hex.
    fn assert_message(err: &KeyError, path: &Path, key_hex: &str) {
        let msg = err.to_string();
        assert!(msg.contains(&path.display().to_string()), "{msg}");
        assert!(!msg.contains(key_hex), "{msg}");
        assert!(!msg.contains(&key_hex[..16]), "{msg}");
        let dbg = format!("{err:?}");
        assert!(!dbg.contains(&key_hex[..16]), "{dbg}");
    }

    #[test]
    fn create_then_load_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys").join("nested").join("master.key");
        let id = create_key_file(&path).unwrap();
        assert_eq!(id.as_str().len(), 16);

        let content = fs::read_to_string(&path).unwrap();
        assert_eq!(content.len(), 65);
        assert!(content.ends_with('\n'));
        assert!(content[..64].bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
            let dir_mode = fs::metadata(path.parent().unwrap()).unwrap().permissions().mode();
            assert_eq!(dir_mode & 0o077, 0);
        }

        let ring = KeyRing::load(&path).unwrap();
        assert_eq!(ring.key_id(), &id);
        // The key id is not the key and not a prefix of it.
        assert!(!content.contains(id.as_str()));

        // Two created keys differ.
        let other = dir.path().join("other.key");
        assert_ne!(create_key_file(&other).unwrap(), id);
    }

    #[test]
    fn create_refuses_to_overwrite() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("master.key");
        let id = create_key_file(&path).unwrap();
        let before = fs::read(&path).unwrap();
        let err = create_key_file(&path).unwrap_err();
        assert!(matches!(&err, KeyError::Exists { path: p } if p == &path), "{err:?}");
        assert_message(&err, &path, std::str::from_utf8(&before[..64]).unwrap());
        assert!(err.to_string().contains("already exists"));
        assert_eq!(fs::read(&path).unwrap(), before);
        assert_eq!(KeyRing::load(&path).unwrap().key_id(), &id);

        // Also refuses a file it did not create.
        let foreign = write_key(dir.path(), "foreign.key", b"not a key", 0o600);
        assert!(matches!(create_key_file(&foreign), Err(KeyError::Exists { .. })));
        assert_eq!(fs::read(&foreign).unwrap(), b"not a key");
    }

    #[test]
    fn create_reports_unwritable_location() {
        let dir = tempfile::tempdir().unwrap();
        // A regular file where a parent directory should be.
        let blocker = write_key(dir.path(), "blocker", b"", 0o600);
        let path = blocker.join("master.key");
        let err = create_key_file(&path).unwrap_err();
        assert!(matches!(&err, KeyError::Create { path: p, .. } if p == &path), "{err:?}");
        assert!(std::error::Error::source(&err).is_some());
        assert!(err.to_string().contains(&path.display().to_string()));
    }

    #[test]
    fn load_accepts_upper_case_and_trailing_whitespace() {
        let dir = tempfile::tempdir().unwrap();
        let lower = write_key(dir.path(), "a.key", KEY_HEX.as_bytes(), 0o600);
        let upper = format!("{}\r\n\n  ", KEY_HEX.to_uppercase());
        let upper = write_key(dir.path(), "b.key", upper.as_bytes(), 0o400);
        let a = KeyRing::load(&lower).unwrap();
        let b = KeyRing::load(&upper).unwrap();
        assert_eq!(a.key_id(), b.key_id());
        let mut master = [0u8; 32];
        hex::decode_to_slice(KEY_HEX, &mut master).unwrap();
        assert_eq!(a.key_id(), KeyRing::from_master(master).key_id());
    }

    #[test]
    fn load_refuses_missing_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("absent.key");
        let err = KeyRing::load(&path).unwrap_err();
        assert!(matches!(&err, KeyError::Missing { path: p } if p == &path), "{err:?}");
        assert_message(&err, &path, KEY_HEX);
        assert!(err.to_string().contains("does not exist"));
    }

    #[cfg(unix)]
    #[test]
    fn load_refuses_group_or_world_accessible_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = write_key(dir.path(), "open.key", format!("{KEY_HEX}\n").as_bytes(), 0o644);
        let err = KeyRing::load(&path).unwrap_err();
        assert!(matches!(&err, KeyError::Permissions { path: p, mode: 0o644 } if p == &path), "{err:?}");
        assert_message(&err, &path, KEY_HEX);
        let msg = err.to_string();
        assert!(msg.contains("(mode 0644)"), "{msg}");
        assert!(msg.contains(&format!("chmod 600 {}", path.display())), "{msg}");

        for mode in [0o640, 0o604, 0o620, 0o602, 0o660, 0o610] {
            let path = write_key(dir.path(), &format!("{mode:o}.key"), KEY_HEX.as_bytes(), mode);
            let err = KeyRing::load(&path).unwrap_err();
            assert!(matches!(err, KeyError::Permissions { mode: m, .. } if m == mode), "{mode:o}");
        }
    }

    #[test]
    fn load_refuses_short_key() {
        let dir = tempfile::tempdir().unwrap();
        let short = &KEY_HEX[..62]; // 31 bytes
        let path = write_key(dir.path(), "short.key", format!("{short}\n").as_bytes(), 0o600);
        let err = KeyRing::load(&path).unwrap_err();
        assert!(matches!(&err, KeyError::Short { path: p, bytes: 31 } if p == &path), "{err:?}");
        assert_message(&err, &path, short);
        assert!(err.to_string().contains("31 bytes"));

        let empty = write_key(dir.path(), "empty.key", b"\n", 0o600);
        assert!(matches!(KeyRing::load(&empty), Err(KeyError::Short { bytes: 0, .. })));
    }

    #[test]
    fn load_refuses_malformed_key() {
        let dir = tempfile::tempdir().unwrap();
        let cases: Vec<(&str, String)> = vec![
            ("nonhex", format!("{}zz\n", &KEY_HEX[..62])),
            ("long", format!("{KEY_HEX}00\n")),
            ("odd", format!("{}\n", &KEY_HEX[..63])),
            ("leading-space", format!(" {KEY_HEX}\n")),
            ("inner-space", format!("{} {}\n", &KEY_HEX[..32], &KEY_HEX[32..])),
            ("two-lines", format!("{KEY_HEX}\n{KEY_HEX}\n")),
            ("prefixed", format!("0x{KEY_HEX}\n")),
        ];
        for (name, content) in cases {
            let path = write_key(dir.path(), name, content.as_bytes(), 0o600);
            let err = KeyRing::load(&path).unwrap_err();
            assert!(matches!(&err, KeyError::Malformed { path: p } if p == &path), "{name}: {err:?}");
            assert_message(&err, &path, KEY_HEX);
            assert!(err.to_string().contains("64 hex characters"));
        }
        let huge = vec![b'a'; 10_000];
        let path = write_key(dir.path(), "huge", &huge, 0o600);
        assert!(matches!(KeyRing::load(&path), Err(KeyError::Malformed { .. })));
    }

    #[test]
    fn load_refuses_degenerate_keys() {
        let dir = tempfile::tempdir().unwrap();
        let cases = [
            ("zeros", "00".repeat(32), 1),
            ("ones", "ff".repeat(32), 1),
            ("one-byte", "a5".repeat(32), 1),
            ("pattern", "deadbeef".repeat(8), 4),
            ("counting", "0001020304050607".repeat(4), 8),
        ];
        for (name, hex_key, distinct) in cases {
            let path = write_key(dir.path(), name, format!("{hex_key}\n").as_bytes(), 0o600);
            let err = KeyRing::load(&path).unwrap_err();
            assert!(
                matches!(&err, KeyError::Degenerate { path: p, distinct: d } if p == &path && *d == distinct),
                "{name}: {err:?}"
            );
            assert_message(&err, &path, &hex_key);
            assert!(err.to_string().contains("degenerate"), "{err}");
        }
        // A generated key is never refused.
        for i in 0..200 {
            let path = dir.path().join(format!("new-{i}.key"));
            create_key_file(&path).unwrap();
            KeyRing::load(&path).unwrap();
        }
    }

    #[test]
    fn load_refuses_directory() {
        let dir = tempfile::tempdir().unwrap();
        let sub = dir.path().join("sub");
        create_private_dirs(&sub).unwrap();
        let err = KeyRing::load(&sub).unwrap_err();
        assert!(matches!(&err, KeyError::Unreadable { path: p, .. } if p == &sub), "{err:?}");
        assert!(err.to_string().contains(&sub.display().to_string()));
    }
}
