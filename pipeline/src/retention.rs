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

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use tellonce_governance::KeyRing;
use tellonce_governance::audit::{self, AuditError, AuditLog, Event};
use tellonce_schemas::identifiers::dates;

use tellonce_governance::audit::holdings::{HeldFile, held_files};
use tellonce_output::layout::{AUDIT, STAGING};
use tellonce_output::lock::{Access, lock_output};

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
    /// A due staging file cannot be read for its record references, or the identity index
    /// cannot be rewritten without them.
    #[error(transparent)]
    Link(#[from] tellonce_build::link::LinkError),
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

/// What [`apply`] did.
#[derive(Debug, Default)]
pub struct Applied {
    /// The files deleted (or, for a dry run, that would be).
    pub deleted: Vec<HeldFile>,
    /// Records of the deleted staging files dropped from the linkage identity index
    /// (`state/link/index.parquet`); for a dry run, 0.
    pub index_records_dropped: usize,
}

/// Plans under the output's lock and, unless `dry_run`, deletes every file due on day `on`,
/// logging each deletion and removing partition directories left empty. The records of the
/// staging files deleted are first dropped from the linkage identity index, so that it names no
/// record the hub no longer holds (a crash after that and before the deletions leaves records
/// still staged but unindexed: the next build indexes them again). Returns the plan and what
/// was done.
///
/// `links/` and the outcome datasets derived from a deleted file are not yet cascaded: they
/// are rewritten by the next build, which no longer sees the deleted records.
pub fn apply(out: &Path, keys: &KeyRing, on: i32, dry_run: bool) -> Result<(Plan, Applied), RetentionError> {
    let _lock = lock_output(out, Access::Exclusive).map_err(|e| RetentionError::Busy(e.to_string()))?;
    let plan = plan(out, on)?;
    if dry_run {
        let deleted = plan.due.clone();
        return Ok((plan, Applied { deleted, index_records_dropped: 0 }));
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
    let mut gone = HashSet::new();
    for file in plan.due.iter().filter(|f| f.dataset == STAGING) {
        let path = file.on_disk(out);
        if path.exists() {
            let feed = file.feed.clone().unwrap_or_default();
            gone.extend(record_refs(&path)?.into_iter().map(|r| (feed.clone(), r)));
        }
    }
    let index_records_dropped = tellonce_build::link::index::forget(out, &gone)?;
    let mut log = AuditLog::open(&out.join(AUDIT), keys.audit_signer())?;
    let cleared = tellonce_output::strays::clear_and_record(out, Access::Exclusive, &mut log).map_err(|e| match e {
        tellonce_output::strays::RecordedClearError::Clear(e) => {
            RetentionError::Delete { path: e.path, source: e.source }
        }
        tellonce_output::strays::RecordedClearError::Audit(e) => e.into(),
    })?;
    if cleared > 0 {
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
        tellonce_output::faults::reached(tellonce_output::faults::RETENTION_DELETED);
        log.append(&Event::FileDeleted {
            path: file.path.clone(),
            sha256: file.sha256.clone(),
            reason: tellonce_governance::audit::reasons::DeleteReason::Retention.to_string(),
            agreement: file.agreement.clone(),
        })?;
        log.sync()?;
        remove_empty_parents(out, &path);
        deleted.push(file.clone());
    }
    Ok((plan, Applied { deleted, index_records_dropped }))
}

/// The references of every record of a staging file, as the linkage build names them.
fn record_refs(path: &Path) -> Result<Vec<String>, tellonce_build::link::LinkError> {
    use tellonce_build::link::input::{REFERENCE_COLUMNS, RecordRefs, open_projected};
    let mut refs = Vec::new();
    for batch in open_projected(path, |name| REFERENCE_COLUMNS.contains(&name))? {
        let batch = batch
            .map_err(|e| tellonce_build::link::LinkError::Staging { path: path.to_owned(), message: e.to_string() })?;
        let of = RecordRefs::of(&batch);
        refs.extend((0..batch.num_rows()).map(|row| of.get(row)));
    }
    Ok(refs)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> KeyRing {
        let mut master = [0u8; 32];
        for (i, b) in master.iter_mut().enumerate() {
            *b = (i as u8).wrapping_mul(37).wrapping_add(11);
        }
        KeyRing::from_master(master)
    }

    /// An output holding one quarantine file due on 2030-03-31 and one kept until 2031, both
    /// recorded in a real audit log.
    fn output(keys: &KeyRing) -> (tempfile::TempDir, [PathBuf; 2]) {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path();
        let mut log = AuditLog::open(&out.join(AUDIT), keys.audit_signer()).unwrap();
        let mut paths = Vec::new();
        for (rel, until) in
            [("quarantine/feed=police/q-1.jsonl", "2030-03-31"), ("quarantine/feed=camhs/q-2.jsonl", "2031-03-31")]
        {
            let path = out.join(rel);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, format!("sealed {rel}\n")).unwrap();
            log.append(&Event::FileWritten {
                dataset: "quarantine".into(),
                path: rel.into(),
                sha256: tellonce_connectors::hashing::sha256_file(&path).unwrap(),
                rows: 1,
                bytes: 1,
                feed: None,
                agreement: Some("ISA@1".into()),
                retention_until: Some(until.into()),
            })
            .unwrap();
            paths.push(path);
        }
        log.sync().unwrap();
        (dir, [paths[0].clone(), paths[1].clone()])
    }

    fn day(d: &str) -> i32 {
        dates::parse(d).unwrap()
    }

    #[test]
    fn quarantine_files_are_deleted_on_their_day_logged_and_their_empty_partitions_removed() {
        let keys = keys();
        let (dir, [due, kept]) = output(&keys);
        let out = dir.path();
        let (plan, _) = apply(out, &keys, day("2030-03-30"), false).unwrap();
        assert!(plan.due.is_empty() && plan.kept.len() == 2, "nothing is due the day before");
        let (plan, applied) = apply(out, &keys, day("2030-03-31"), true).unwrap();
        assert_eq!(applied.deleted.len(), 1);
        assert!(due.exists(), "a dry run deleted {}", plan.due[0].path);
        let (_, applied) = apply(out, &keys, day("2030-03-31"), false).unwrap();
        assert_eq!(
            applied.deleted.iter().map(|f| f.path.as_str()).collect::<Vec<_>>(),
            ["quarantine/feed=police/q-1.jsonl"]
        );
        assert!(!due.exists() && kept.exists());
        assert!(!out.join("quarantine/feed=police").exists(), "the empty partition was left");
        assert!(out.join("quarantine").exists(), "the dataset directory was removed");
        let entries = audit::read_entries(&out.join(AUDIT)).unwrap();
        let logged: Vec<&str> = entries
            .iter()
            .filter_map(|e| match &e.event {
                Event::FileDeleted { path, reason, .. }
                    if reason == tellonce_governance::audit::reasons::DeleteReason::Retention.as_str() =>
                {
                    Some(path.as_str())
                }
                _ => None,
            })
            .collect();
        assert_eq!(logged, ["quarantine/feed=police/q-1.jsonl"]);
        audit::verify(&out.join(AUDIT), &keys.audit_signer(), Some(out)).unwrap();
        // Applied again, nothing more is due.
        assert!(apply(out, &keys, day("2030-03-31"), false).unwrap().1.deleted.is_empty());
    }

    #[test]
    fn a_due_file_that_differs_from_its_record_stops_every_deletion() {
        let keys = keys();
        let (dir, [due, kept]) = output(&keys);
        std::fs::write(&due, "changed\n").unwrap();
        let err = apply(dir.path(), &keys, day("2031-12-31"), false).unwrap_err();
        assert!(
            matches!(&err, RetentionError::Tampered { path } if path == "quarantine/feed=police/q-1.jsonl"),
            "{err}"
        );
        assert!(due.exists() && kept.exists(), "a file was deleted although another due one was tampered with");
    }

    #[test]
    fn a_deletion_done_but_not_logged_is_logged_by_the_next_apply() {
        let keys = keys();
        let (dir, [due, _]) = output(&keys);
        // As if a run had deleted it and died before logging.
        std::fs::remove_file(&due).unwrap();
        let (_, applied) = apply(dir.path(), &keys, day("2030-04-01"), false).unwrap();
        assert_eq!(applied.deleted.len(), 1);
        audit::verify(&dir.path().join(AUDIT), &keys.audit_signer(), Some(dir.path())).unwrap();
    }
}
