//! Erasing a person's records from staging files: noted beside the input markers first, the
//! file rewritten under a side name, the rewrite audited and only then put in place, so that a
//! crash at any point leaves nothing erased unrecorded and nothing recorded undone.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::BooleanArray;
use tellonce_connectors::parquet_sink::{PartOptions, PartWriter};
use tellonce_governance::audit::holdings::HeldFile;
use tellonce_governance::audit::{AuditLog, Event};
use tellonce_output::layout::STAGING;
use tellonce_schemas::identifiers::dates;

use super::{FileContent, SubjectError, read_batches};

/// Erases the given rows (numbered across the file) from one staging file, and audits it.
pub(super) fn erase_file(out: &Path, file: &HeldFile, rows: &[u64], log: &mut AuditLog) -> Result<(), SubjectError> {
    // Noted before the file changes: a crash after the rewrite and before its audit entry
    // must still keep `run --force` from bringing the erased records back.
    note_erasure(out, file, rows.len())?;
    let pending = erase_rows(out, file, rows)?;
    tellonce_output::faults::reached(tellonce_output::faults::ERASE_REWRITTEN);
    log.append(&pending.event)?;
    // Durable file by file: a crash part-way leaves every erasure done so far recorded.
    log.sync()?;
    // Published only once recorded: a crash before this leaves the side file, which the
    // next session that takes the output publishes or removes (`strays::settle_erasures`).
    pending.publish()
}

/// Notes, beside the input markers, that erasure touched the outputs of the input a staging file
/// came from, so that `run --force` does not bring the erased records back.
fn note_erasure(out: &Path, file: &HeldFile, rows: usize) -> Result<(), SubjectError> {
    let name = file.path.rsplit('/').next().unwrap_or_default();
    let stem = name.strip_prefix("part-").and_then(|n| n.split('-').next()).unwrap_or(name);
    let feed = file.feed.as_deref().unwrap_or("unknown");
    let marker = tellonce_output::layout::erased_marker(out, feed, stem);
    let note = format!("{{\"file\":{:?},\"rows_erased\":{rows}}}\n", file.path);
    let existing = std::fs::read_to_string(&marker).unwrap_or_default();
    tellonce_connectors::atomic::write_atomic(&marker, format!("{existing}{note}").as_bytes())
        .map_err(|e| SubjectError::Read { path: marker.clone(), message: e.to_string() })
}

/// An erasure of a staging file made and not yet published: the file's new content (or, when
/// no row is left, the file itself) waits under the side name
/// [`erasure_side_name`](tellonce_output::strays::erasure_side_name) until its audit entry is durable.
struct PendingErasure {
    /// The audit entry recording it.
    event: Event,
    /// The side file, and where it goes (`None`: it is removed, the file being deleted).
    side: PathBuf,
    target: Option<PathBuf>,
}

impl PendingErasure {
    /// Puts the erasure in place, once its audit entry is durable.
    fn publish(self) -> Result<(), SubjectError> {
        let err = |e: std::io::Error| SubjectError::Read { path: self.side.clone(), message: e.to_string() };
        match &self.target {
            Some(target) => std::fs::rename(&self.side, target).map_err(err)?,
            None => std::fs::remove_file(&self.side).map_err(err)?,
        }
        match self.side.parent() {
            Some(dir) => tellonce_connectors::atomic::sync_dir(dir).map_err(err),
            None => Ok(()),
        }
    }
}

/// Prepares the erasure of the given rows (numbered across the file) from a staging file: its
/// new content, keeping its schema and metadata, written in full under a side name; or, if no
/// row would be left, the file itself moved to the side name. Returns it with the audit entry
/// that will record it. Nothing readers see changes until [`PendingErasure::publish`].
fn erase_rows(out: &Path, file: &HeldFile, rows: &[u64]) -> Result<PendingErasure, SubjectError> {
    let path = file.on_disk(out);
    let actual = tellonce_connectors::hashing::sha256_file(&path)
        .map_err(|e| SubjectError::Read { path: path.clone(), message: e.to_string() })?;
    if actual != file.sha256 {
        return Err(SubjectError::Tampered { path: file.path.clone() });
    }
    let FileContent { schema, batches, metadata } = read_batches(&path)?;
    let total: u64 = batches.iter().map(|b| b.num_rows() as u64).sum();
    let mut parts = file.path.split('/').collect::<Vec<_>>();
    let name = parts.pop().unwrap_or_default().to_owned();
    let side_name = tellonce_output::strays::erasure_side_name(&name);
    let side = path.with_file_name(&side_name);
    if total <= rows.len() as u64 {
        // Nothing would be left: the file goes, rather than an empty file staying behind.
        let err = |e: std::io::Error| SubjectError::Read { path: path.clone(), message: e.to_string() };
        std::fs::rename(&path, &side).map_err(err)?;
        if let Some(dir) = path.parent() {
            tellonce_connectors::atomic::sync_dir(dir).map_err(err)?;
        }
        let event = Event::FileDeleted {
            path: file.path.clone(),
            sha256: file.sha256.clone(),
            reason: tellonce_governance::audit::reasons::DeleteReason::Erasure.to_string(),
            agreement: file.agreement.clone(),
        };
        return Ok(PendingErasure { event, side, target: None });
    }
    let dataset = parts.first().copied().unwrap_or(STAGING).to_owned();
    let partition: Vec<(&str, &str)> = parts.iter().skip(1).filter_map(|p| p.split_once('=')).collect();
    let opts = PartOptions { metadata, replace_existing: true, ..PartOptions::default() };
    let mut writer = PartWriter::create(out, &dataset, &partition, &side_name, Arc::clone(&schema), &opts)?;
    let mut offset = 0u64;
    for batch in &batches {
        let n = batch.num_rows() as u64;
        let keep: BooleanArray = (offset..offset + n).map(|r| Some(rows.binary_search(&r).is_err())).collect();
        let kept = arrow_select::filter::filter_record_batch(batch, &keep)
            .map_err(|e| SubjectError::Read { path: path.clone(), message: e.to_string() })?;
        if kept.num_rows() > 0 {
            writer.write(&kept)?;
        }
        offset += n;
    }
    let committed = writer.commit()?;
    let event = Event::FileWritten {
        dataset,
        path: file.path.clone(),
        sha256: committed.sha256,
        rows: committed.rows,
        bytes: committed.bytes,
        feed: file.feed.clone(),
        agreement: file.agreement.clone(),
        retention_until: file.retention_until.map(dates::format),
    };
    Ok(PendingErasure { event, side, target: Some(path) })
}
