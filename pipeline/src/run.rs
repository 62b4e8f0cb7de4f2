//! The batch run: each configured input through validate → pseudonymise → staging Parquet, with
//! rejected rows sealed into quarantine, a manifest per run, and inputs already processed skipped.
//!
//! Per input, one reader thread parses bounded batches and marks duplicate `record_id`s in
//! order; worker threads validate and pseudonymise; the calling thread puts results back in input
//! order and writes them, so that the same input always gives byte-identical files. Channels are
//! bounded, so memory does not grow with the input. An input's files become visible only when all
//! of it has been processed: until then they are temporary files, removed on failure.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::RecordBatch;
use crossbeam_channel::{Receiver, Sender, bounded};
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;
use tellonce_connectors::file_source::{FileSource, FileSourceOptions, RawBatch, RawReject, SourceError};
use tellonce_connectors::hashing::sha256_file;
use tellonce_connectors::manifest::{InputRecord, Manifest};
use tellonce_connectors::parquet_sink::{CommittedFile, PartOptions, PartWriter, SinkError, StagedPart};
use tellonce_connectors::quarantine::{QuarantineEntry, QuarantineWriter};
use tellonce_governance::{KeyError, KeyRing, Purpose, Sealer};
use tracing::{info, info_span, warn};

use crate::config::{Settings, Source};
use crate::reference::{LookupError, PostcodeLookup};
use crate::stages::pseudonymise::Pseudonymiser;
use crate::stages::validate::{self, DuplicateIndex};
use crate::timefmt;

/// The staging dataset's directory under the output root.
pub const STAGING: &str = "staging";

/// Options of one run that are not configuration.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Process inputs even if their content was processed before.
    pub force: bool,
    /// Show a progress bar (only drawn on a terminal).
    pub progress: bool,
}

/// Failures that stop the whole run.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The key file is missing, unsafe or malformed.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// The postcode lookup is unreadable.
    #[error(transparent)]
    Lookup(#[from] LookupError),
    /// The output root cannot be written.
    #[error("cannot write output {path}: {source}")]
    Output {
        /// What could not be written.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A Parquet file could not be written.
    #[error(transparent)]
    Sink(#[from] SinkError),
    /// Another run holds the output directory.
    #[error("another tellonce run is writing to this output (it holds {path}); wait for it to finish")]
    Busy {
        /// The lock file.
        path: PathBuf,
    },
    /// Something that should not happen (a bug).
    #[error("internal error: {0}")]
    Internal(String),
}

/// What became of one input.
#[derive(Debug, Clone, Serialize)]
pub struct InputReport {
    /// The feed.
    pub feed: &'static str,
    /// The file, as configured.
    pub source: String,
    /// SHA-256 of its content (empty if it could not be read).
    pub sha256: String,
    /// `processed`, `skipped` (same content processed before), `rejected` (see `error`), or
    /// `failed` (the run stopped on an output or internal error while processing it).
    pub status: &'static str,
    /// Why a rejected input was rejected (names the file, line and rule; never a value).
    pub error: Option<String>,
    /// The rule a rejected input broke, as a stable code (`file.empty`, `header.missing_columns`…).
    pub error_rule: Option<&'static str>,
    /// Records read (rows after the header, including those rejected at parse).
    pub read: u64,
    /// Records written to staging.
    pub written: u64,
    /// Records quarantined.
    pub quarantined: u64,
    /// Quarantined records by rule code.
    pub quarantined_by_rule: BTreeMap<String, u64>,
    /// Columns in the file that the schema does not have: dropped, never passed on.
    pub unknown_columns: Vec<String>,
    /// Staging files written.
    pub files: Vec<CommittedFile>,
    /// The quarantine file written, if any row was rejected.
    pub quarantine_file: Option<String>,
}

impl InputReport {
    fn new(source: &Source) -> Self {
        InputReport {
            feed: source.feed.name,
            source: source.path.display().to_string(),
            sha256: String::new(),
            status: "processed",
            error: None,
            error_rule: None,
            read: 0,
            written: 0,
            quarantined: 0,
            quarantined_by_rule: BTreeMap::new(),
            unknown_columns: Vec::new(),
            files: Vec::new(),
            quarantine_file: None,
        }
    }
}

/// What a run did.
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    /// The run's id (also the manifest's name).
    pub run_id: String,
    /// The key id the tokens were made under.
    pub key_id: String,
    /// The manifest written.
    pub manifest: String,
    /// Each input, in configured order.
    pub inputs: Vec<InputReport>,
}

impl RunReport {
    /// Whether any input was rejected whole.
    pub fn has_rejected_inputs(&self) -> bool {
        self.inputs.iter().any(|i| i.status == "rejected")
    }
}

/// The shared, read-only context of a run.
struct Context<'a> {
    settings: &'a Settings,
    keys: KeyRing,
    sealer: Sealer,
    lookup: Option<Arc<PostcodeLookup>>,
    part_options: PartOptions,
    progress: ProgressBar,
}

/// Runs every configured input.
pub fn run(settings: &Settings, opts: &RunOptions) -> Result<RunReport, RunError> {
    let started_at = timefmt::now_rfc3339();
    let run_id = format!("{}-{}", timefmt::now_compact(), std::process::id());
    let keys = KeyRing::load(&settings.key_file)?;
    let lookup = settings.postcode_lookup.as_deref().map(PostcodeLookup::load).transpose()?.map(Arc::new);
    let out = &settings.output_dir;
    std::fs::create_dir_all(out.join(STAGING)).map_err(|source| RunError::Output { path: out.clone(), source })?;
    let _lock = lock_output(out)?;
    let part_options = PartOptions {
        row_group_rows: settings.row_group_rows,
        metadata: vec![
            ("tellonce.key_id".to_owned(), keys.key_id().to_string()),
            ("tellonce.version".to_owned(), env!("CARGO_PKG_VERSION").to_owned()),
        ],
        // A forced re-run may replace what an earlier run wrote under the same name.
        replace_existing: opts.force,
        ..PartOptions::default()
    };
    let total_bytes: u64 =
        settings.sources.iter().filter_map(|s| std::fs::metadata(&s.path).ok()).map(|m| m.len()).sum();
    let progress = if opts.progress { ProgressBar::new(total_bytes) } else { ProgressBar::hidden() };
    progress.set_style(
        ProgressStyle::with_template("{spinner} {msg:20} [{bar:40}] {bytes}/{total_bytes} ({bytes_per_sec}, {eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let ctx = Context { settings, sealer: keys.sealer(), keys, lookup, part_options, progress };

    let mut inputs: Vec<InputReport> = Vec::with_capacity(settings.sources.len());
    let mut failure = None;
    for source in &settings.sources {
        let span = info_span!("input", feed = source.feed.name, source = %source.path.display());
        let _guard = span.enter();
        ctx.progress.set_message(source.feed.name);
        let seen = |sha: &str| {
            inputs.iter().find(|i| i.feed == source.feed.name && i.sha256 == sha && i.status == "processed")
        };
        let report = match process_input(&ctx, source, opts.force, &seen) {
            Ok(r) => r,
            Err(failed) => {
                let Failed { mut report, error } = *failed;
                report.status = "failed";
                report.error = Some(error.to_string());
                inputs.push(report);
                failure = Some(error);
                break;
            }
        };
        match report.status {
            "rejected" => warn!(error = report.error.as_deref().unwrap_or(""), "input rejected"),
            "skipped" => info!(sha256 = %report.sha256, "input already processed; skipped (use --force to redo)"),
            _ => info!(
                read = report.read,
                written = report.written,
                quarantined = report.quarantined,
                files = report.files.len(),
                "input processed"
            ),
        }
        inputs.push(report);
    }
    ctx.progress.finish_and_clear();

    // The manifest is written even when the run stops early, so that every file an input
    // committed before the failure is listed somewhere.
    let manifest = Manifest {
        run_id: run_id.clone(),
        started_at,
        finished_at: timefmt::now_rfc3339(),
        tool_version: env!("CARGO_PKG_VERSION").to_owned(),
        key_id: Some(ctx.keys.key_id().to_string()),
        inputs: inputs.iter().map(input_record).collect(),
        files: inputs.iter().flat_map(|i| i.files.iter().cloned()).collect(),
    };
    let manifest_path = manifest.write(out).map_err(|source| RunError::Output { path: out.join("manifests"), source });
    if let Some(e) = failure {
        return Err(e);
    }
    let manifest_path = manifest_path?;
    Ok(RunReport {
        run_id,
        key_id: ctx.keys.key_id().to_string(),
        manifest: manifest_path.display().to_string(),
        inputs,
    })
}

fn input_record(r: &InputReport) -> InputRecord {
    InputRecord {
        feed: r.feed.to_owned(),
        source: r.source.clone(),
        sha256: r.sha256.clone(),
        status: r.status.to_owned(),
        rows_read: r.read,
        rows_written: r.written,
        rows_quarantined: r.quarantined,
    }
}

/// The names of dropped columns, safe to print: a name that is not a plain column name (a
/// header row of data, or a JSON key holding a value) may itself be a clear identifier, so such
/// names are only counted.
fn reportable_column_names(names: Vec<String>) -> Vec<String> {
    let plain = |n: &str| {
        let b = n.as_bytes();
        let longest_digit_run = b.split(|c| !c.is_ascii_digit()).map(<[u8]>::len).max().unwrap_or(0);
        (1..=40).contains(&b.len())
            && (b[0].is_ascii_alphabetic() || b[0] == b'_')
            && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'_')
            && longest_digit_run < 4
    };
    let (mut kept, withheld): (Vec<String>, Vec<String>) = names.into_iter().partition(|n| plain(n));
    if !withheld.is_empty() {
        kept.push(format!("({} more not shown: not plain column names)", withheld.len()));
    }
    kept
}

/// Takes the output directory's lock for the whole run: two runs writing the same outputs at
/// once would publish each other's half-written files. Released when the file is dropped.
fn lock_output(out: &Path) -> Result<std::fs::File, RunError> {
    let path = out.join("state").join("run.lock");
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|source| RunError::Output { path: dir.to_owned(), source })?;
    }
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|source| RunError::Output { path: path.clone(), source })?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(RunError::Busy { path }),
        Err(std::fs::TryLockError::Error(source)) => Err(RunError::Output { path, source }),
    }
}

/// Copies an input's counts into its report.
fn record_counts(
    report: &mut InputReport,
    read: u64,
    written: u64,
    quarantined: u64,
    by_rule: HashMap<&'static str, u64>,
) {
    report.read = read;
    report.written = written;
    report.quarantined = quarantined;
    report.quarantined_by_rule = by_rule.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
}

/// Removes a file if it exists.
fn remove_if_present(path: &Path) -> std::io::Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// Where the marker of a processed input lives.
fn marker_path(out: &Path, feed: &str, sha256: &str) -> PathBuf {
    out.join("state").join("inputs").join(feed).join(format!("{sha256}.json"))
}

fn process_input<'r>(
    ctx: &Context<'_>,
    source: &Source,
    force: bool,
    processed_in_this_run: &dyn Fn(&str) -> Option<&'r InputReport>,
) -> Result<InputReport, Box<Failed>> {
    let mut report = InputReport::new(source);
    let reject = |mut report: InputReport, rule: &'static str, error: String| {
        report.status = "rejected";
        report.error_rule = Some(rule);
        report.error = Some(format!("{error} [{rule}]"));
        Ok(report)
    };
    let Some(before) = file_state(&source.path) else {
        return reject(report, "file.unreadable", format!("cannot read {}", source.path.display()));
    };
    report.sha256 = match sha256_file(&source.path) {
        Ok(h) => h,
        Err(e) => return reject(report, "file.unreadable", format!("cannot read {}: {e}", source.path.display())),
    };
    let out = &ctx.settings.output_dir;
    let marker = marker_path(out, source.feed.name, &report.sha256);
    if let Some(first) = processed_in_this_run(&report.sha256) {
        // The same content listed twice (a resent file): processing it again would duplicate
        // every record, even under --force.
        report.status = "skipped";
        report.error = Some(format!("same content as {}, processed earlier in this run", first.source));
        return Ok(report);
    }
    if marker.exists() && !force {
        report.status = "skipped";
        return Ok(report);
    }
    let opts = FileSourceOptions { batch_rows: ctx.settings.batch_rows, max_line_bytes: ctx.settings.max_line_bytes };
    let file = match FileSource::open(&source.path, source.format, source.feed, opts) {
        Ok(f) => f,
        Err(e) => return reject(report, e.rule_code(), e.to_string()),
    };
    match ingest(ctx, source, file, before, &mut report) {
        Ok(()) => {}
        Err(IngestError::Source(e)) => return reject(report, e.rule_code(), e.to_string()),
        Err(IngestError::Changed) => {
            let msg =
                format!("{} changed while it was being read; try again once it is complete", source.path.display());
            return reject(report, "file.changed", msg);
        }
        Err(IngestError::Run(error)) => return Err(Box::new(Failed { report, error })),
    }
    let written = serde_json::to_vec_pretty(&input_record(&report))
        .map_err(|e| RunError::Internal(e.to_string()))
        .and_then(|record| {
            tellonce_connectors::atomic::write_atomic(&marker, &record)
                .map_err(|source| RunError::Output { path: marker.clone(), source })
        });
    match written {
        Ok(()) => Ok(report),
        Err(error) => Err(Box::new(Failed { report, error })),
    }
}

/// An input that stopped the run, with what it had done (files it published, if any), so that
/// the run's manifest can still list them.
struct Failed {
    report: InputReport,
    error: RunError,
}

enum IngestError {
    Source(SourceError),
    /// The file's size or modification time changed while it was read (an upload in progress):
    /// what was hashed may not be what was parsed, so nothing of it is published.
    Changed,
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

/// One raw batch for a worker: its sequence number and its rows' duplicate marks.
type Todo = (u64, RawBatch, Vec<bool>);

/// One batch's result from a worker, with its sequence number.
type Done = (u64, Result<(RecordBatch, Vec<RawReject>), RunError>);

fn ingest(
    ctx: &Context<'_>,
    source: &Source,
    mut file: FileSource,
    before: (u64, std::time::SystemTime),
    report: &mut InputReport,
) -> Result<(), IngestError> {
    let feed = source.feed;
    let workers = ctx.settings.workers.max(1);
    let pseudo = Pseudonymiser::new(feed, ctx.keys.tokeniser(Purpose::Linkage), ctx.lookup.clone());
    let checked_schema = validate::checked_schema(feed);
    let (raw_tx, raw_rx): (Sender<Todo>, Receiver<Todo>) = bounded(workers * 4);
    let (done_tx, done_rx): (Sender<Done>, Receiver<Done>) = bounded(workers * 8);
    // Credits bound how far the reader may run ahead of the ordered writer, so the batches held
    // while waiting for a slow one stay few however long the input is.
    let in_flight = workers * 12;
    let (credit_tx, credit_rx) = bounded::<()>(in_flight);
    for _ in 0..in_flight {
        credit_tx.send(()).map_err(|_| RunError::Internal("credit channel closed".to_owned()))?;
    }
    let stem = report.sha256.get(..16).unwrap_or(&report.sha256).to_owned();
    let source_name = source.path.display().to_string();

    let mut writer = Writer::new(ctx, feed, &stem, &source_name, pseudo.schema().clone())?;
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
                    let bytes = file.bytes_read();
                    ctx.progress.inc(bytes.saturating_sub(last_bytes));
                    last_bytes = bytes;
                    if raw_tx.send((seq, raw, marks)).is_err() {
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
                for (seq, raw, marks) in raw_rx {
                    let result = validate::validate(raw, feed, &checked_schema, &marks)
                        .map_err(|e| RunError::Internal(e.to_string()))
                        .and_then(|v| {
                            let staged = pseudo.apply(&v.checked).map_err(|e| RunError::Internal(e.to_string()))?;
                            Ok((staged, v.rejects))
                        });
                    if done_tx.send((seq, result)).is_err() {
                        break;
                    }
                }
            });
            worker_handles.push(worker.map_err(spawn_failed)?);
        }
        drop(raw_rx);
        drop(done_tx);

        let mut pending: BTreeMap<u64, Result<(RecordBatch, Vec<RawReject>), RunError>> = BTreeMap::new();
        let mut next = 0u64;
        let mut failure: Option<IngestError> = None;
        'receive: for (seq, result) in done_rx.iter() {
            pending.insert(seq, result);
            while let Some(result) = pending.remove(&next) {
                next += 1;
                if let Err(e) =
                    result.map_err(IngestError::Run).and_then(|(batch, rejects)| writer.write(batch, rejects))
                {
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

/// A file's size and modification time, to tell whether it changed while it was read.
pub(crate) fn file_state(path: &Path) -> Option<(u64, std::time::SystemTime)> {
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.len(), meta.modified().ok()?))
}

/// Writes one input's results in order: staging parts and the quarantine file.
struct Writer<'a> {
    ctx: &'a Context<'a>,
    feed: &'static str,
    schema_version: u32,
    stem: String,
    source: String,
    schema: arrow_schema::SchemaRef,
    open: Option<PartWriter>,
    finished: Vec<StagedPart>,
    quarantine: QuarantineWriter,
    read: u64,
    written: u64,
    by_rule: HashMap<&'static str, u64>,
}

impl<'a> Writer<'a> {
    fn new(
        ctx: &'a Context<'a>,
        feed: &'static tellonce_schemas::FeedSchema,
        stem: &str,
        source: &str,
        schema: arrow_schema::SchemaRef,
    ) -> Result<Self, RunError> {
        let out = &ctx.settings.output_dir;
        let quarantine = QuarantineWriter::create(out, feed.name, stem)
            .map_err(|source| RunError::Output { path: out.join("quarantine"), source })?;
        Ok(Writer {
            ctx,
            feed: feed.name,
            schema_version: feed.version,
            stem: stem.to_owned(),
            source: source.to_owned(),
            schema,
            open: None,
            finished: Vec::new(),
            quarantine,
            read: 0,
            written: 0,
            by_rule: HashMap::new(),
        })
    }

    fn write(&mut self, batch: RecordBatch, rejects: Vec<RawReject>) -> Result<(), IngestError> {
        self.read += (batch.num_rows() + rejects.len()) as u64;
        for r in rejects {
            *self.by_rule.entry(r.rule.code()).or_default() += 1;
            let mut entry = QuarantineEntry {
                feed: self.feed.to_owned(),
                source: self.source.clone(),
                position: r.position,
                rule: r.rule.code().to_owned(),
                column: r.column,
                sealed: Vec::new(),
            };
            entry.sealed = self.ctx.sealer.seal(&entry.aad(), &r.raw);
            let out = &self.ctx.settings.output_dir;
            self.quarantine.push(&entry).map_err(|source| RunError::Output { path: out.join("quarantine"), source })?;
        }
        if batch.num_rows() == 0 {
            return Ok(());
        }
        let max_rows = self.ctx.settings.max_file_rows;
        let mut offset = 0usize;
        while offset < batch.num_rows() {
            if self.open.as_ref().is_some_and(|w| w.rows() >= max_rows) {
                // Finish a full part now, so that only the open part holds a row group in memory.
                if let Some(full) = self.open.take() {
                    self.finished.push(full.finish()?);
                }
            }
            if self.open.is_none() {
                let name = format!("part-{}-{:05}.parquet", self.stem, self.finished.len());
                let mut opts = self.ctx.part_options.clone();
                opts.metadata.push(("tellonce.feed".to_owned(), self.feed.to_owned()));
                opts.metadata.push(("tellonce.schema_version".to_owned(), self.schema_version.to_string()));
                opts.metadata.push(("tellonce.input_sha256_prefix".to_owned(), self.stem.clone()));
                self.open = Some(PartWriter::create(
                    &self.ctx.settings.output_dir,
                    STAGING,
                    &[("feed", self.feed)],
                    &name,
                    self.schema.clone(),
                    &opts,
                )?);
            }
            let Some(w) = self.open.as_mut() else { break };
            let room = usize::try_from(max_rows.saturating_sub(w.rows())).unwrap_or(usize::MAX).max(1);
            let take = room.min(batch.num_rows() - offset);
            w.write(&batch.slice(offset, take))?;
            offset += take;
            self.written += take as u64;
        }
        Ok(())
    }

    /// Makes the input's outputs visible: checks the counts, publishes quarantine, then the
    /// staging parts, then removes what an earlier run of the same input wrote and this one did
    /// not (a forced re-run with other limits). `records_read` is the reader's own count.
    fn finish(mut self, report: &mut InputReport, records_read: u64) -> Result<(), IngestError> {
        let quarantined: u64 = self.by_rule.values().sum();
        // Counted independently on both sides of the stages, and checked before anything is
        // visible: a stage that lost or invented a row stops the input here.
        if records_read != self.written + quarantined || self.read != records_read {
            return Err(RunError::Internal(format!(
                "{}: counts do not reconcile: the reader read {records_read}, the stages returned {}, \
                 written {} + quarantined {quarantined}",
                self.source, self.read, self.written
            ))
            .into());
        }
        if let Some(open) = self.open.take() {
            self.finished.push(open.finish()?);
        }
        let out = self.ctx.settings.output_dir.clone();
        let out_err = |source| RunError::Output { path: out.join("quarantine"), source };
        let (written, by_rule) = (self.written, std::mem::take(&mut self.by_rule));
        // Quarantine first: if it cannot be committed, no staging part has become visible.
        report.quarantine_file = self
            .quarantine
            .commit()
            .map_err(out_err)?
            .map(|p| p.strip_prefix(&out).unwrap_or(&p).display().to_string());
        for part in std::mem::take(&mut self.finished) {
            report.files.push(part.publish()?);
        }
        let dir = out.join(STAGING).join(format!("feed={}", self.feed));
        let prefix = format!("part-{}-", self.stem);
        let kept: Vec<&str> = report.files.iter().filter_map(|f| f.path.rsplit('/').next()).collect();
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            // No part was ever written for this feed (an input with no valid row).
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                record_counts(report, records_read, written, quarantined, by_rule);
                return Ok(());
            }
            Err(source) => return Err(RunError::Output { path: dir.clone(), source }.into()),
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name.starts_with(&prefix) && name.ends_with(".parquet") && !kept.contains(&name.as_ref()) {
                remove_if_present(&entry.path()).map_err(|source| RunError::Output { path: entry.path(), source })?;
            }
        }
        record_counts(report, records_read, written, quarantined, by_rule);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_column_names_are_reported() {
        let names = vec![
            "extra_col".to_owned(),
            "Jane Smith 9434765919".to_owned(),
            "dob_2011_02_03".to_owned(),
            "note2024".to_owned(),
            "Legacy_Flag".to_owned(),
        ];
        assert_eq!(
            reportable_column_names(names),
            ["extra_col", "Legacy_Flag", "(3 more not shown: not plain column names)"]
        );
    }
}
