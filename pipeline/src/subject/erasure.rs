//! Erasing a person's records from staging files: noted beside the input markers first, the
//! file rewritten under a side name, the rewrite audited and only then put in place, so that a
//! crash at any point leaves nothing erased unrecorded and nothing recorded undone.

use std::path::Path;

use tellonce_governance::audit::AuditLog;
use tellonce_governance::audit::holdings::HeldFile;
use tellonce_governance::audit::reasons::DeleteReason;
use tellonce_output::rewrite::without_rows;

use super::SubjectError;

/// Erases the given rows (numbered across the file) from one staging file, and audits it.
pub(super) fn erase_file(out: &Path, file: &HeldFile, rows: &[u64], log: &mut AuditLog) -> Result<(), SubjectError> {
    // Noted before the file changes: a crash after the rewrite and before its audit entry
    // must still keep `run --force` from bringing the erased records back.
    note_erasure(out, file, rows.len())?;
    let rewrite = without_rows(out, file, rows, DeleteReason::Erasure)?;
    // Tombstones before the erasure is recorded: a partner's next extract must not bring the
    // records back, even if this session stops before it finishes.
    if let Some(feed) = file.feed.as_deref() {
        let ids = record_ids(&rewrite.removed);
        crate::records::tombstones::lay(
            out,
            feed,
            &ids,
            crate::records::tombstones::ERASURE,
            &tellonce_output::timefmt::now_rfc3339(),
            None,
        )
        .map_err(|e| SubjectError::Read {
            path: tellonce_output::layout::tombstones(out, feed),
            message: e.to_string(),
        })?;
    }
    let pending = rewrite.pending;
    tellonce_output::faults::reached(tellonce_output::faults::ERASE_REWRITTEN);
    log.append(&pending.event)?;
    // Durable file by file: a crash part-way leaves every erasure done so far recorded.
    log.sync()?;
    // Published only once recorded: a crash before this leaves the side file, which the
    // next session that takes the output publishes or removes (`strays::settle_erasures`).
    Ok(pending.publish()?)
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

/// The record references of rows taken out of a file.
fn record_ids(batches: &[arrow_array::RecordBatch]) -> Vec<String> {
    // Keyed as comparisons key them (the token, where the agreement shares only that), so that
    // the tombstone refuses a re-sent copy whatever the agreement shares.
    let mut ids = Vec::new();
    for batch in batches {
        let keys = tellonce_build::link::input::RecordRefs::of(batch);
        ids.extend((0..batch.num_rows()).filter_map(|i| keys.key(i)).map(|k| k.into_owned()));
    }
    ids
}
