//! Retention: deleting output files once their agreement's retention has run out.
//!
//! Each file's due date is fixed when it is written, from the agreement it was written under
//! (`retention.months`, counted from the day of writing), and recorded in the audit log's
//! `file_written` entry. `retention apply` deletes every file due on the given day, staging
//! parts and sealed quarantine files alike (quarantine holds raw records under the same
//! agreement), and records each deletion in the audit log.
//!
//! A file is deleted before its deletion is logged: if the process dies in between, `audit
//! verify` reports the file missing, and the next `retention apply` logs the deletion it finds
//! already done. The other order could leave a file the log calls deleted on disk for ever.

use std::path::{Path, PathBuf};

use tellonce_governance::KeyRing;
use tellonce_governance::audit::{self, AuditError, AuditLog, Event};
use tellonce_schemas::identifiers::dates;

use crate::holdings::{HeldFile, held_files};
use crate::run::{AUDIT, Access, lock_output};

/// Why retention cannot be applied.
#[derive(Debug, thiserror::Error)]
pub enum RetentionError {
    /// The audit log cannot be read or appended to.
    #[error(transparent)]
    Audit(#[from] AuditError),
    /// The key file is unusable.
    #[error(transparent)]
    Key(#[from] tellonce_governance::KeyError),
    /// A file cannot be deleted, or the output is locked.
    #[error("cannot delete {}: {source}", path.display())]
    Delete {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Another tellonce process holds the output directory.
    #[error("{0}")]
    Busy(String),
    /// A file due for deletion differs from what the audit log recorded: nothing is deleted, so
    /// that the deletion cannot cover up the change.
    #[error(
        "{path} differs from the SHA-256 the audit log recorded for it; nothing was deleted: run `tellonce audit \
         verify` and investigate"
    )]
    Tampered {
        /// The file, relative to the output root.
        path: String,
    },
}

/// What is due on a day, and what is not.
#[derive(Debug)]
pub struct Plan {
    /// The day judged on, `YYYY-MM-DD`.
    pub as_of: String,
    /// Files due for deletion, by path.
    pub due: Vec<HeldFile>,
    /// Files held and not yet due.
    pub kept: Vec<HeldFile>,
}

/// The files due for deletion on day `on`, from the audit log under `out` (none if no run has
/// written one yet).
pub fn plan(out: &Path, on: i32) -> Result<Plan, RetentionError> {
    let dir = out.join(AUDIT);
    let entries = if dir.join(audit::LOG_FILE).exists() { audit::read_entries(&dir)? } else { Vec::new() };
    let (due, kept) = held_files(&entries).into_values().partition(|f| f.due(on));
    Ok(Plan { as_of: dates::format(on), due, kept })
}

/// Plans under the output's lock and, unless `dry_run`, deletes every file due on day `on`,
/// logging each deletion and removing partition directories left empty. Returns the plan and
/// the files deleted (or, for a dry run, that would be).
pub fn apply(out: &Path, keys: &KeyRing, on: i32, dry_run: bool) -> Result<(Plan, Vec<HeldFile>), RetentionError> {
    let _lock = lock_output(out, Access::Exclusive).map_err(|e| RetentionError::Busy(e.to_string()))?;
    let plan = plan(out, on)?;
    if dry_run {
        let due = plan.due.clone();
        return Ok((plan, due));
    }
    for file in &plan.due {
        let path = file.on_disk(out);
        match tellonce_connectors::hashing::sha256_file(&path) {
            Ok(sha) if sha != file.sha256 => return Err(RetentionError::Tampered { path: file.path.clone() }),
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => return Err(RetentionError::Delete { path, source }),
        }
    }
    let mut log = AuditLog::open(&out.join(AUDIT), keys.audit_signer())?;
    let cleared = crate::strays::clear_orphaned_temp_files(out, Access::Exclusive)
        .map_err(|e| RetentionError::Delete { path: e.path, source: e.source })?;
    for event in &cleared {
        log.append(event)?;
    }
    if !cleared.is_empty() {
        log.sync()?;
    }
    let mut deleted = Vec::with_capacity(plan.due.len());
    for file in &plan.due {
        let path = file.on_disk(out);
        match std::fs::remove_file(&path) {
            Ok(()) => {}
            // Deleted before, by a run that stopped before logging it: log it now.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => return Err(RetentionError::Delete { path, source }),
        }
        crate::faults::reached(crate::faults::RETENTION_DELETED);
        log.append(&Event::FileDeleted {
            path: file.path.clone(),
            sha256: file.sha256.clone(),
            reason: "retention".to_owned(),
            agreement: file.agreement.clone(),
        })?;
        log.sync()?;
        remove_empty_parents(out, &path);
        deleted.push(file.clone());
    }
    Ok((plan, deleted))
}

/// Removes the partition directories above `path` that are now empty, up to the dataset's.
fn remove_empty_parents(out: &Path, path: &Path) {
    let mut dir = path.parent();
    while let Some(d) = dir {
        // Stop at the dataset directory (`out/<dataset>`): it stays, even empty.
        if d.parent() == Some(out) || d == out || !d.starts_with(out) {
            break;
        }
        if std::fs::remove_dir(d).is_err() {
            break;
        }
        dir = d.parent();
    }
}
