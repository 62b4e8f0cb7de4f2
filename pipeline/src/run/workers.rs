//! The worker pool of one input: a reader thread parses bounded batches in order, workers
//! validate and pseudonymise them, and the results come back in input order for the writer.

use std::collections::BTreeMap;

use arrow_array::RecordBatch;
use crossbeam_channel::{Receiver, Sender, bounded};
use tellonce_connectors::file_source::{FileSource, RawBatch, RawReject, SourceError};
use tellonce_connectors::parquet_sink::SinkError;
use tellonce_governance::Purpose;
use tellonce_schemas::spreadsheet_damage::Damage;

use crate::config::Source;
use crate::records::compare::CompareRules;
use crate::records::marked::{MarkedWithdrawn, take_withdrawn};
use crate::records::scope::Scope;
use crate::stages::govern::Policy;
use crate::stages::pseudonymise::Pseudonymiser;
use crate::stages::validate::{self, DuplicateIndex};

use super::*;
use crate::run::input::file_state;

pub(crate) enum IngestError {
    Source(SourceError),
    /// The file's size or modification time changed while it was read (an upload in progress):
    /// what was hashed may not be what was parsed, so nothing of it is published.
    Changed,
    /// A snapshot would withdraw more of the holding than its source allows.
    MassWithdrawal(crate::records::compare::MassWithdrawal),
    /// The input is held before anything of it is published: a spreadsheet damaged a column
    /// (see [`tellonce_schemas::spreadsheet_damage`]), or a mapped column is absent while its
    /// records supersede records held. The rule, and a message saying which column and how
    /// many records.
    Held(&'static str, String),
    Run(RunError),
}

impl From<RunError> for IngestError {
    fn from(e: RunError) -> Self {
        IngestError::Run(e)
    }
}

impl From<SinkError> for IngestError {
    fn from(e: SinkError) -> Self {
        IngestError::Run(RunError::Sink(e))
    }
}

/// How one input is ingested, beyond the session's settings.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct IngestOptions<'a> {
    /// Apply a snapshot whatever share of the holding it withdraws.
    pub(crate) allow_mass_withdrawal: bool,
    /// Replace the parts an earlier run of the same input wrote (it is read again under a
    /// changed mapping).
    pub(crate) replace_parts: bool,
    /// The references the input names (a first pass over it): only the records held that it
    /// names are compared with.
    pub(crate) scope: Option<&'a Scope>,
}

/// One raw batch for a worker: its sequence number, its rows' duplicate marks, and the records
/// it marks withdrawn (taken out of it).
pub(crate) type Todo = (u64, RawBatch, Vec<bool>, Vec<MarkedWithdrawn>);

/// One batch's result from a worker: staged rows, rejects, fields nulled in the staged rows, and
/// the input positions it covers.
pub(crate) struct Staged {
    pub(crate) batch: RecordBatch,
    pub(crate) rejects: Vec<RawReject>,
    pub(crate) nulled: validate::Nulled,
    pub(crate) first_position: u64,
    pub(crate) last_position: u64,
    /// Records the batch marked withdrawn (its file's withdrawal column).
    pub(crate) withdrawn: Vec<MarkedWithdrawn>,
    /// Values a spreadsheet damaged, by column (its index in the feed) and damage.
    pub(crate) damaged: Vec<((usize, Damage), u64)>,
}

/// The values of each column of `raw` that a spreadsheet damaged ([`Damage::of`]).
fn damage_counts(raw: &RawBatch, feed: &tellonce_schemas::FeedSchema) -> Vec<((usize, Damage), u64)> {
    use arrow_array::Array;
    use arrow_array::cast::AsArray;
    let mut counts: BTreeMap<(usize, Damage), u64> = BTreeMap::new();
    for (i, column) in feed.columns.iter().enumerate() {
        let Some(values) = raw.batch.columns().get(i).and_then(|c| c.as_string_opt::<i32>()) else { continue };
        for r in (0..values.len()).filter(|&r| values.is_valid(r)) {
            if let Some(d) = Damage::of(&column.kind, values.value(r)) {
                *counts.entry((i, d)).or_default() += 1;
            }
        }
    }
    counts.into_iter().collect()
}

/// Validates and pseudonymises one raw batch whose duplicate `record_id`s are `marks`.
pub(crate) fn stage(
    raw: RawBatch,
    feed: &'static tellonce_schemas::FeedSchema,
    checked_schema: &arrow_schema::SchemaRef,
    marks: &[bool],
    pseudo: &Pseudonymiser,
    input: &str,
) -> Result<Staged, RunError> {
    let (first_position, last_position) = (raw.lineage.first_position, raw.lineage.last_position);
    let damaged = damage_counts(&raw, feed);
    let v = validate::validate(raw, feed, checked_schema, marks).map_err(|e| RunError::Internal(e.to_string()))?;
    let batch = pseudo.apply(&v.checked, input).map_err(|e| RunError::Internal(e.to_string()))?;
    let (rejects, nulled, withdrawn) = (v.rejects, v.nulled, Vec::new());
    Ok(Staged { batch, rejects, nulled, first_position, last_position, withdrawn, damaged })
}

/// Batches a worker may have between the reader and the writer. A staged police batch holds
/// about 8 MiB (29 keyed tokens and match keys and three 128-byte Bloom filters a row), so this,
/// with the duplicate index and the open row group, sets the peak memory of a long input: with
/// row groups of at most 32 MiB, 10 million police rows peak at 226 MiB at 2, 256 MiB at 3 and
/// 265-269 MiB at 4 (at 4, police records/s were about 1.5 % higher in paired runs on two cores).
pub(crate) const IN_FLIGHT_PER_WORKER: usize = 2;

/// One batch's result from a worker, with its sequence number.
pub(crate) type Done = (u64, Result<Staged, RunError>);

/// How an input of `source` is compared with the records held.
fn compare_rules(source: &Source, max_withdrawal_share: Option<f64>) -> CompareRules<'_> {
    CompareRules {
        mode: source.mode,
        max_withdrawal_share,
        snapshot_of_source: source.snapshot_of_source.as_deref(),
        snapshot_where: source.snapshot_where.as_ref(),
        dated: source.path.to_str().and_then(crate::config::drop_order::path_date),
    }
}

pub(crate) fn ingest(
    ctx: &Context<'_>,
    source: &Source,
    policy: &Policy,
    mut file: FileSource,
    before: (u64, std::time::SystemTime),
    report: &mut InputReport,
    how: IngestOptions<'_>,
) -> Result<(), IngestError> {
    let feed = source.feed;
    let allow_share = (!how.allow_mass_withdrawal).then_some(source.max_withdrawal_share);
    let workers = ctx.settings.workers.max(1);
    let pseudo = Pseudonymiser::new(feed, policy, ctx.keys.tokeniser(Purpose::Linkage), ctx.lookup.clone());
    let checked_schema = validate::checked_schema(feed);
    let (raw_tx, raw_rx): (Sender<Todo>, Receiver<Todo>) = bounded(workers * 4);
    let (done_tx, done_rx): (Sender<Done>, Receiver<Done>) = bounded(workers * 8);
    // Credits bound how far the reader may run ahead of the ordered writer, so the batches held
    // while waiting for a slow one stay few however long the input is.
    let in_flight = workers * IN_FLIGHT_PER_WORKER;
    let (credit_tx, credit_rx) = bounded::<()>(in_flight);
    for _ in 0..in_flight {
        credit_tx.send(()).map_err(|_| RunError::Internal("credit channel closed".to_owned()))?;
    }
    let stem: &str = report.sha256.get(..16).unwrap_or(&report.sha256);
    let source_name = source.path.display().to_string();
    let rules = compare_rules(source, allow_share);
    let mut writer =
        Writer::new(ctx, feed, policy, stem, &source_name, pseudo.schema().clone(), Some((rules, how.scope)))?;
    writer.replace_parts = how.replace_parts;
    writer.sheet = file.sheet().map(str::to_owned);
    let mut records_read = 0u64;
    std::thread::scope(|scope| -> Result<(), IngestError> {
        // Owned by this closure, so that an early return drops them and unblocks the threads.
        let done_rx = done_rx;
        let credit_tx = credit_tx;
        let spawn_failed = |e: std::io::Error| RunError::Internal(format!("cannot start a thread: {e}"));
        let reader = std::thread::Builder::new()
            .name("tellonce-read".to_owned())
            .spawn_scoped(scope, move || -> Result<(u64, Vec<String>, u64), SourceError> {
                let mut dups = DuplicateIndex::default();
                let mut seq = 0u64;
                let mut records = 0u64;
                let mut last_bytes = 0u64;
                while credit_rx.recv().is_ok() {
                    let Some(raw) = file.next_batch()? else { break };
                    records += (raw.batch.num_rows() + raw.rejects.len()) as u64;
                    let marks = dups.mark(&raw, feed);
                    let (raw, marks, withdrawn) = take_withdrawn(raw, marks, feed);
                    let bytes = file.bytes_read();
                    ctx.progress.advanced(bytes.saturating_sub(last_bytes));
                    last_bytes = bytes;
                    if raw_tx.send((seq, raw, marks, withdrawn)).is_err() {
                        break;
                    }
                    seq += 1;
                }
                Ok((seq, file.unknown_columns(), records))
            })
            .map_err(spawn_failed)?;
        let mut worker_handles = Vec::with_capacity(workers);
        for _ in 0..workers {
            let raw_rx = raw_rx.clone();
            let done_tx = done_tx.clone();
            let pseudo = pseudo.clone();
            let checked_schema = checked_schema.clone();
            let worker = std::thread::Builder::new().name("tellonce-work".to_owned()).spawn_scoped(scope, move || {
                for (seq, raw, marks, withdrawn) in raw_rx {
                    let result =
                        stage(raw, feed, &checked_schema, &marks, &pseudo, stem).map(|s| Staged { withdrawn, ..s });
                    if done_tx.send((seq, result)).is_err() {
                        break;
                    }
                }
            });
            worker_handles.push(worker.map_err(spawn_failed)?);
        }
        drop(raw_rx);
        drop(done_tx);

        let mut pending: BTreeMap<u64, Result<Staged, RunError>> = BTreeMap::new();
        let mut next = 0u64;
        let mut failure: Option<IngestError> = None;
        'receive: for (seq, result) in done_rx.iter() {
            pending.insert(seq, result);
            while let Some(result) = pending.remove(&next) {
                next += 1;
                if let Err(e) = result.map_err(IngestError::Run).and_then(|staged| writer.write(staged)) {
                    failure = Some(e);
                    break 'receive;
                }
                // The credit cannot be refused while the reader lives; once it has finished,
                // a refused credit means nothing.
                let _ = credit_tx.send(());
            }
        }
        // Hanging up stops the workers and the reader.
        drop(done_rx);
        drop(credit_tx);
        let panicked = |what: &str| RunError::Internal(format!("the {what} thread panicked"));
        for handle in worker_handles {
            handle.join().map_err(|_| panicked("worker"))?;
        }
        let read_result = reader.join().map_err(|_| panicked("reader"))?;
        if let Some(e) = failure {
            return Err(e);
        }
        let (batches, unknown_columns, records) = read_result.map_err(IngestError::Source)?;
        records_read = records;
        if next != batches || !pending.is_empty() {
            return Err(RunError::Internal(format!("{next} of {batches} batches came back from the workers")).into());
        }
        report.unknown_columns = reportable_column_names(unknown_columns);
        Ok(())
    })?;
    if file_state(&source.path) != Some(before) {
        return Err(IngestError::Changed);
    }
    writer.finish(report, records_read)?;
    Ok(())
}
