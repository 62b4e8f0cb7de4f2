//! Moving earlier versions of records out of staging into the `history` dataset.
//!
//! For each staging file holding versions to move: the file's new content is prepared under a
//! side name ([`tellonce_output::rewrite`]), the rows taken out are written as a history part
//! with when and by which input they were superseded, the history part is published, both are
//! recorded in the audit log and the log synced, and only then is the staging file's new content
//! put in place. A crash at any point leaves either the move recorded (the next session puts the
//! side file in place) or not (the unrecorded history part is removed, the side file dropped):
//! never a version in both datasets, never one in neither.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use arrow_array::{ArrayRef, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use tellonce_connectors::parquet_sink::{PartOptions, PartWriter};
use tellonce_governance::audit::Event;
use tellonce_governance::audit::holdings::HeldFile;
use tellonce_governance::audit::reasons::DeleteReason;
use tellonce_output::commit::{self, Provenance};
use tellonce_output::layout::HISTORY;
use tellonce_output::rewrite::without_rows;

use super::RecordsError;
use super::held::Location;

/// History column: when the row was superseded (UTC, RFC 3339).
pub const SUPERSEDED_AT: &str = "_superseded_at";
/// History column: the input whose newer version superseded the row (or whose snapshot left
/// it out).
pub const SUPERSEDED_BY: &str = "_superseded_by";
/// History column: why the row left staging: `superseded` (a newer version arrived) or
/// `withdrawn` (a snapshot left the record out).
pub const CHANGE: &str = "_change";

/// A newer version of the record arrived.
pub const SUPERSEDED: &str = "superseded";
/// A partner's snapshot left the record out.
pub const WITHDRAWN: &str = "withdrawn";

/// Who supersedes: the input bringing the newer versions.
#[derive(Debug, Clone, Copy)]
pub struct Supersession<'a> {
    /// The feed.
    pub feed: &'a str,
    /// The input, as its records' `_source` names it.
    pub by: &'a str,
    /// The input's short content hash, naming its history parts.
    pub stem: &'a str,
    /// The session's run id, so that a forced re-run never overwrites an earlier move.
    pub run: &'a str,
    /// When (UTC, RFC 3339).
    pub at: &'a str,
}

/// Moves the versions at `moves` from staging to history, each with why it moved
/// ([`SUPERSEDED`] or [`WITHDRAWN`]), appending each move's entries through `record` and making
/// them durable through `sync` before the staging file changes. Every row of one staging file
/// moves in one rewrite: row numbers are those of the file as held, so a second rewrite of the
/// same file would find its rows moved. Returns how many rows moved.
pub fn supersede<E: From<RecordsError>>(
    out: &Path,
    held: &BTreeMap<String, HeldFile>,
    moves: Vec<(Location, &'static str)>,
    by: Supersession<'_>,
    part_options: &PartOptions,
    record: &mut dyn FnMut(&Event) -> Result<(), E>,
    sync: &mut dyn FnMut() -> Result<(), E>,
) -> Result<u64, E> {
    let mut by_file: BTreeMap<String, BTreeMap<u64, &'static str>> = BTreeMap::new();
    for (l, change) in moves {
        by_file.entry(l.file).or_default().entry(l.row).or_insert(change);
    }
    let mut moved = 0u64;
    for (rel, changes) in by_file {
        let rows: Vec<u64> = changes.keys().copied().collect();
        let file = held.get(&rel).ok_or_else(|| RecordsError::Read {
            path: rel.clone().into(),
            message: "the audit log does not record it as held".to_owned(),
        })?;
        let rewrite = without_rows(out, file, &rows, DeleteReason::Superseded).map_err(RecordsError::from)?;
        let old_name = rel.rsplit('/').next().unwrap_or(&rel);
        let old_stem = old_name.strip_prefix("part-").unwrap_or(old_name).trim_end_matches(".parquet");
        let mut kinds: Vec<&str> = changes.values().copied().collect();
        kinds.sort_unstable();
        kinds.dedup();
        let name = format!("part-{}-{}-{}-from-{old_stem}.parquet", by.stem, by.run, kinds.join("-"));
        let schema = history_schema(&rewrite.schema);
        let opts = PartOptions { metadata: rewrite.metadata.clone(), replace_existing: true, ..part_options.clone() };
        let mut writer = PartWriter::create(out, HISTORY, &[("feed", by.feed)], &name, Arc::clone(&schema), &opts)
            .map_err(RecordsError::from)?;
        // The rows removed come in file order, as the changes do.
        let mut why = changes.values().copied();
        for batch in &rewrite.removed {
            let labels: Vec<&str> = why.by_ref().take(batch.num_rows()).collect();
            writer.write(&with_supersession(batch, &schema, by, &labels)?).map_err(RecordsError::from)?;
        }
        let part = writer.finish().map_err(RecordsError::from)?;
        let retention = file.retention_until.map(tellonce_schemas::identifiers::dates::format);
        let provenance = Provenance {
            dataset: HISTORY,
            feed: Some(by.feed),
            agreement: file.agreement.as_deref(),
            retention_until: retention.as_deref(),
        };
        let (written, entry) = commit::publish(part, provenance).map_err(RecordsError::from)?;
        moved += written.rows;
        record(&entry)?;
        record(&rewrite.pending.event)?;
        sync()?;
        tellonce_output::faults::reached(tellonce_output::faults::SUPERSEDE_RECORDED);
        rewrite.pending.publish().map_err(RecordsError::from)?;
    }
    Ok(moved)
}

/// A staging file's schema with the two supersession columns after it.
fn history_schema(staging: &Schema) -> Arc<Schema> {
    let mut fields: Vec<Field> = staging.fields().iter().map(|f| f.as_ref().clone()).collect();
    let described = |name: &str, text: &str| {
        Field::new(name, DataType::Utf8, true)
            .with_metadata([("description".to_owned(), text.to_owned())].into_iter().collect())
    };
    fields.push(described(SUPERSEDED_AT, "When a newer version of the record superseded this one (UTC, RFC 3339)."));
    fields.push(described(SUPERSEDED_BY, "The input that brought the newer version, or whose snapshot left it out."));
    fields.push(described(CHANGE, "Why the row left staging: superseded (a newer version) or withdrawn."));
    Arc::new(Schema::new_with_metadata(fields, staging.metadata().clone()))
}

fn with_supersession(
    batch: &RecordBatch,
    schema: &Arc<Schema>,
    by: Supersession<'_>,
    changes: &[&str],
) -> Result<RecordBatch, RecordsError> {
    let n = batch.num_rows();
    if changes.len() != n {
        let message = format!("{n} rows removed but {} changes noted", changes.len());
        return Err(RecordsError::Read { path: HISTORY.into(), message });
    }
    let mut columns: Vec<ArrayRef> = batch.columns().to_vec();
    columns.push(Arc::new(StringArray::from_iter_values(std::iter::repeat_n(by.at, n))));
    columns.push(Arc::new(StringArray::from_iter_values(std::iter::repeat_n(by.by, n))));
    columns.push(Arc::new(StringArray::from_iter_values(changes.iter().copied())));
    RecordBatch::try_new(Arc::clone(schema), columns)
        .map_err(|e| RecordsError::Read { path: HISTORY.into(), message: e.to_string() })
}
