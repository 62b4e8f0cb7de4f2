//! How a session takes the output folder: file locks, never waited for, so that a second
//! command finds the folder busy at once instead of hanging.

use std::path::{Path, PathBuf};

use crate::layout::{BUILD_LOCK, RUN_LOCK, STATE};

/// A lock could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Another session holds it.
    #[error(
        "another tellonce session is using this output (it holds {}): a file run, retention or erasure needs \
         the output to itself, and builds run one at a time; wait for it to finish",
        path.display()
    )]
    Busy {
        /// The lock file.
        path: PathBuf,
    },
    /// The lock file could not be created, opened or locked.
    #[error("{}: {source}", path.display())]
    Io {
        /// The lock file or its folder.
        path: PathBuf,
        /// The failure.
        source: std::io::Error,
    },
}

/// How a session shares the output directory with others.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Alone: a file run, retention, erasure. They rewrite or delete files others read or write.
    Exclusive,
    /// Beside other stream sessions and one build: a stream session writes only its own batch
    /// files (named from topic, partition and offsets, each partition held by one session at a
    /// time) and appends to the shared audit log.
    Stream,
    /// Beside stream sessions, but never two builds at once: a build reads the committed
    /// staging files and rewrites only the datasets it owns.
    Build,
}

/// The locks a session holds on the output directory, released when dropped.
#[derive(Debug)]
pub struct OutputLock {
    _files: Vec<std::fs::File>,
}

/// Takes the output directory's locks for a whole session: two runs writing the same outputs at
/// once would publish each other's half-written files, so `state/run.lock` is held exclusively
/// by a file run and shared by stream sessions and builds, and `state/build.lock` keeps builds
/// (and a run's build) one at a time.
pub fn lock_output(out: &Path, access: Access) -> Result<OutputLock, LockError> {
    let run = lock_file(&out.join(STATE).join(RUN_LOCK), access != Access::Exclusive)?;
    let mut files = vec![run];
    if access == Access::Build {
        files.push(lock_file(&out.join(STATE).join(BUILD_LOCK), false)?);
    }
    Ok(OutputLock { _files: files })
}

/// Opens (creating) and locks one lock file without waiting.
fn lock_file(path: &Path, shared: bool) -> Result<std::fs::File, LockError> {
    try_lock_file(path, shared)?.ok_or_else(|| LockError::Busy { path: path.to_owned() })
}

/// Opens (creating) one lock file and locks it if nobody else holds it (`None` if somebody
/// does), without waiting.
pub fn try_lock_file(path: &Path, shared: bool) -> Result<Option<std::fs::File>, LockError> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|source| LockError::Io { path: dir.to_owned(), source })?;
    }
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .map_err(|source| LockError::Io { path: path.to_owned(), source })?;
    let taken = if shared { file.try_lock_shared() } else { file.try_lock() };
    match taken {
        Ok(()) => Ok(Some(file)),
        Err(std::fs::TryLockError::WouldBlock) => Ok(None),
        Err(std::fs::TryLockError::Error(source)) => Err(LockError::Io { path: path.to_owned(), source }),
    }
}
