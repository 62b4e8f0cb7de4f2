//! Durable, all-or-nothing file writes: temp file in the same directory, fsync, rename, fsync
//! the directory.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Writes `bytes` to `path` atomically: a reader sees the old content or the new, never a part.
///
/// The bytes go to a temp file beside `path` (so the rename stays on one file system), which is
/// fsynced, renamed over `path`, and then the directory is fsynced so the rename survives a
/// crash. Parent directories are created. An existing file at `path` is replaced.
///
/// ```
/// # let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("markers/done.json");
/// tellonce_connectors::atomic::write_atomic(&path, b"{}").unwrap();
/// assert_eq!(std::fs::read(&path).unwrap(), b"{}");
/// ```
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let (dir, name) = split(path)?;
    fs::create_dir_all(dir)?;
    let tmp = unique_temp_path(dir, name);
    let result = (|| {
        let mut file = OpenOptions::new().write(true).create_new(true).open(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        drop(file);
        fs::rename(&tmp, path)?;
        sync_dir(dir)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// The directory and file name of `path`, or an `InvalidInput` error when it has no file name.
pub(crate) fn split(path: &Path) -> io::Result<(&Path, &std::ffi::OsStr)> {
    let name =
        path.file_name().ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "the path has no file name"))?;
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    Ok((dir, name))
}

/// A temp file name beside the target, unique within this process and across processes
/// (`.<name>.<pid>-<n>.tmp`), hidden from listings that skip dot files.
fn unique_temp_path(dir: &Path, name: &std::ffi::OsStr) -> PathBuf {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let mut tmp = std::ffi::OsString::from(".");
    tmp.push(name);
    tmp.push(format!(".{}-{n}.tmp", std::process::id()));
    dir.join(tmp)
}

/// Whether `name` is the name of a temporary file tellonce writes before renaming it to its
/// final name: a dot, then the final name, then `.tmp` (Parquet parts and quarantine files:
/// `.<name>.tmp`; [`write_atomic`]: `.<name>.<pid>-<n>.tmp`). Such a file left behind after its
/// writer was killed is complete or not, but never part of a dataset.
///
/// ```
/// use tellonce_connectors::atomic::is_temp_file_name;
/// assert!(is_temp_file_name(".part-ab12-00000.parquet.tmp"));
/// assert!(is_temp_file_name(".index.parquet.4242-0.tmp"));
/// assert!(!is_temp_file_name("part-ab12-00000.parquet"));
/// assert!(!is_temp_file_name(".tmp"));
/// ```
pub fn is_temp_file_name(name: &str) -> bool {
    name.len() >= ".x.tmp".len() && name.starts_with('.') && name.ends_with(".tmp")
}

/// Fsyncs a directory so that a rename or a removal in it is durable.
///
/// A no-op where directories cannot be opened as files (Windows).
pub fn sync_dir(dir: &Path) -> io::Result<()> {
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

/// Checks that `part` is one plain path component: not empty, not `.` or `..`, no separator
/// and no NUL. Names built from configuration must not escape the dataset root.
pub(crate) fn check_component(part: &str, what: &str) -> io::Result<()> {
    let bad = part.is_empty() || part == "." || part == ".." || part.contains(['/', '\\', '\0']);
    if bad {
        Err(io::Error::new(io::ErrorKind::InvalidInput, format!("{what} {part:?} is not a plain file name")))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_creates_parents_and_replaces() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a/b/c.json");
        write_atomic(&path, b"one").unwrap();
        write_atomic(&path, b"two").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"two");
        let names: Vec<_> = fs::read_dir(dir.path().join("a/b")).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, ["c.json"], "no temp file is left behind");
    }

    #[test]
    fn a_failed_write_leaves_no_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        // The target is a non-empty directory: the rename fails, even for root.
        let target = dir.path().join("taken");
        fs::create_dir_all(target.join("inside")).unwrap();
        assert!(write_atomic(&target, b"x").is_err());
        let names: Vec<_> = fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, ["taken"]);
    }

    #[test]
    fn components_must_be_plain_names() {
        for bad in ["", ".", "..", "a/b", "a\\b", "a\0b"] {
            assert!(check_component(bad, "name").is_err(), "{bad:?}");
        }
        assert!(check_component("feed=police", "name").is_ok());
        assert!(write_atomic(Path::new("/"), b"x").is_err());
    }
}
