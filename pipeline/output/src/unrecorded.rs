//! Taking a file the audit log does not record out of the datasets, with the audit entry that
//! says so: an interrupted build's or stream batch's published files, or a file someone copied
//! in (`audit verify --prune`).

use std::path::Path;

use tellonce_connectors::atomic::sync_dir;
use tellonce_connectors::hashing::sha256_file;
use tellonce_governance::audit::Event;

use crate::layout::relative;

/// Removes a file tellonce published but never recorded as complete (an interrupted build or
/// stream batch), and returns the audit entry that says so, with its hash and `reason`.
pub fn remove_unrecorded_file(out: &Path, path: &Path, reason: &str) -> std::io::Result<Event> {
    set_aside_unrecorded_file(out, path, None, reason)
}

/// Takes a file the audit log does not record out of the datasets: removes it, or, given `to`,
/// moves it there (creating the folder; `audit verify --prune`). Returns the audit entry that
/// says so, with the file's hash and `reason`.
pub fn set_aside_unrecorded_file(out: &Path, path: &Path, to: Option<&Path>, reason: &str) -> std::io::Result<Event> {
    let sha256 = sha256_file(path)?;
    match to {
        None => remove_if_present(path)?,
        Some(to) => {
            let dir = to.parent().unwrap_or(out);
            std::fs::create_dir_all(dir)?;
            std::fs::rename(path, to)?;
            sync_dir(dir)?;
            if let Some(from) = path.parent() {
                sync_dir(from)?;
            }
        }
    }
    Ok(Event::FileDeleted { path: relative(out, path), sha256, reason: reason.to_owned(), agreement: None })
}

/// Removes a file if it exists.
pub fn remove_if_present(path: &Path) -> std::io::Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}
