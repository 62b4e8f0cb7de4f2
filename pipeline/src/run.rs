//! The batch run: each configured input through validate → govern → pseudonymise → staging
//! Parquet, with rejected rows sealed into quarantine, a manifest per run, inputs already
//! processed skipped, inputs with no agreement in force held, and every decision in the audit log.
//!
//! Per input, one reader thread parses bounded batches and marks duplicate `record_id`s in
//! order; worker threads validate and pseudonymise; the calling thread puts results back in input
//! order and writes them, so that the same input always gives byte-identical files. Channels are
//! bounded, so memory does not grow with the input. An input's files become visible only when all
//! of it has been processed: until then they are temporary files, removed on failure.
//!
//! Acknowledgement flows backwards: an input is marked done only after its files are committed
//! and the audit entries recording them (with their SHA-256) are durably appended.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use arrow_array::RecordBatch;
use crossbeam_channel::{Receiver, Sender, bounded};
use serde::Serialize;
use tellonce_connectors::file_source::{FileSource, FileSourceOptions, RawBatch, RawReject, SourceError};
use tellonce_connectors::hashing::sha256_file;
use tellonce_connectors::manifest::{InputRecord, Manifest};
use tellonce_connectors::mapping::Mapping;
use tellonce_connectors::parquet_sink::{CommittedFile, PartOptions, PartWriter, SinkError, StagedPart};
use tellonce_connectors::quarantine::{QuarantineEntry, QuarantineWriter};
use tellonce_governance::agreement::{self, AgreementSet, Severity};
use tellonce_governance::audit::{self, AuditError, AuditLog, Event};
use tellonce_governance::{KeyError, KeyRing, Purpose, Sealer};
use tellonce_schemas::identifiers::dates;
use tracing::{info, info_span, warn};

use crate::config::{Reading, Settings, Source};
use crate::progress::{Progress, Silent};
use crate::reference::{LookupError, PostcodeLookup};
use crate::stages::govern::{self, Decision, Policy};
use crate::stages::pseudonymise::Pseudonymiser;
use crate::stages::validate::{self, DuplicateIndex};
use tellonce_governance::audit::holdings::{HeldFile, held_files};
use tellonce_output::layout::{AUDIT, STAGING, erased_marker, input_marker, relative};
use tellonce_output::lock::{Access, OutputLock, lock_output};
use tellonce_output::timefmt;
use tellonce_output::unrecorded::remove_if_present;

/// Options of one run that are not configuration.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Process inputs even if their content was processed before.
    pub force: bool,
    /// A second date agreements must be in force on, besides today (days since 1970-01-01), to
    /// see what a run on that day would do. It can only hold more, never let more through.
    pub as_of: Option<i32>,
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
    /// The audit log cannot be opened or appended to: nothing is processed without it.
    #[error(transparent)]
    Audit(#[from] AuditError),
    /// The agreements directory cannot be read.
    #[error(transparent)]
    Agreements(#[from] agreement::AgreementError),
    /// Another session holds the output directory in a way this one cannot share.
    #[error(
        "another tellonce session is using this output (it holds {path}): a file run, retention or erasure needs \
         the output to itself, and builds run one at a time; wait for it to finish"
    )]
    Busy {
        /// The lock file.
        path: PathBuf,
    },
    /// The linkage build failed (the staging dataset written before it stays).
    #[error(transparent)]
    Link(#[from] tellonce_build::link::LinkError),
    /// The theme mapping is unreadable or does not fit the feeds.
    #[error(transparent)]
    Themes(#[from] tellonce_build::outcomes::themes::ThemesError),
    /// The Kafka consumer could not be set up or used (names the brokers or topic).
    #[error("stream: {0}")]
    Stream(String),
    /// Something that should not happen (a bug).
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<tellonce_output::lock::LockError> for RunError {
    fn from(e: tellonce_output::lock::LockError) -> Self {
        match e {
            tellonce_output::lock::LockError::Busy { path } => RunError::Busy { path },
            tellonce_output::lock::LockError::Io { path, source } => RunError::Output { path, source },
        }
    }
}

impl From<tellonce_output::strays::ClearError> for RunError {
    fn from(e: tellonce_output::strays::ClearError) -> Self {
        RunError::Output { path: e.path, source: e.source }
    }
}

/// What became of one input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum InputStatus {
    /// Read, and every record written or quarantined.
    Processed,
    /// The same content was processed before (or earlier in this run).
    Skipped,
    /// The file could not be processed at all (see `error`): unreadable, empty, wrong header.
    Rejected,
    /// No agreement in force governs its feed: left untouched, to be processed once one is.
    Held,
    /// The run stopped on an output or internal error while processing it.
    Failed,
}

impl InputStatus {
    /// The status as written in summaries and manifests.
    pub fn as_str(self) -> &'static str {
        match self {
            InputStatus::Processed => "processed",
            InputStatus::Skipped => "skipped",
            InputStatus::Rejected => "rejected",
            InputStatus::Held => "held",
            InputStatus::Failed => "failed",
        }
    }
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
    /// What became of it.
    pub status: InputStatus,
    /// Why a rejected input was rejected or a held one held (names the file, line and rule, or
    /// the agreement; never a value).
    pub error: Option<String>,
    /// The rule a rejected input broke, as a stable code (`file.empty`, `header.missing_columns`,
    /// `agreement.expired`…).
    pub error_rule: Option<&'static str>,
    /// The agreement (`id@version`) it was processed under.
    pub agreement: Option<String>,
    /// Fields of the feed the agreement drops.
    pub fields_dropped: Vec<&'static str>,
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
    /// How the file was read, when through a source mapping or a declared dialect (absent for
    /// a canonical file).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub read_as: Option<ReadAs>,
    /// Staging files written.
    pub files: Vec<CommittedFile>,
    /// The quarantine file written, if any row was rejected.
    pub quarantine_file: Option<String>,
}

impl InputReport {
    pub(crate) fn new(source: &Source) -> Self {
        InputReport {
            feed: source.feed.name,
            source: source.path.display().to_string(),
            sha256: String::new(),
            status: InputStatus::Processed,
            error: None,
            error_rule: None,
            agreement: None,
            fields_dropped: Vec::new(),
            read: 0,
            written: 0,
            quarantined: 0,
            quarantined_by_rule: BTreeMap::new(),
            unknown_columns: Vec::new(),
            read_as: None,
            files: Vec::new(),
            quarantine_file: None,
        }
    }
}

/// How a file was read through its mapping or declared dialect.
#[derive(Debug, Clone, Serialize)]
pub struct ReadAs {
    /// The source mapping, if any.
    pub mapping: Option<String>,
    /// The encoding (after detection, if declared `auto`).
    pub encoding: &'static str,
    /// The CSV delimiter (after detection), if a CSV file.
    pub delimiter: Option<String>,
    /// The workbook sheet, if one was named.
    pub sheet: Option<String>,
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
    /// The processing date agreements were judged on, `YYYY-MM-DD`.
    pub as_of: String,
    /// Problems found in the agreement files (agreements with an error were not loaded).
    pub agreement_problems: Vec<String>,
    /// Each input, in configured order.
    pub inputs: Vec<InputReport>,
    /// The linkage build that followed, if linkage is enabled and every input could be read.
    pub linkage: Option<tellonce_build::link::BuildReport>,
}

impl RunReport {
    /// Whether any input was rejected whole or held for want of an agreement.
    pub fn has_rejected_inputs(&self) -> bool {
        self.inputs.iter().any(|i| matches!(i.status, InputStatus::Rejected | InputStatus::Held))
    }
}

/// The shared, read-only context of a run.
pub(crate) struct Context<'a> {
    pub(crate) settings: &'a Settings,
    pub(crate) keys: KeyRing,
    pub(crate) sealer: Sealer,
    pub(crate) lookup: Option<Arc<PostcodeLookup>>,
    pub(crate) part_options: PartOptions,
    pub(crate) progress: &'a dyn Progress,
    pub(crate) agreements: AgreementSet,
    pub(crate) as_of: i32,
    pub(crate) audit: Mutex<AuditLog>,
    /// The files the audit log records as held when the run started.
    pub(crate) held: BTreeMap<String, HeldFile>,
    /// The run's id.
    pub(crate) run_id: String,
    /// When the run started (RFC 3339).
    pub(crate) started_at: String,
    /// Problems found in the agreement files.
    pub(crate) agreement_problems: Vec<String>,
    /// The output locks, held for the context's life.
    _lock: OutputLock,
}

impl<'a> Context<'a> {
    /// Opens the output for a session of `command`: takes the output lock, loads keys, lookup
    /// and agreements, and records the session's start in the audit log.
    pub(crate) fn open(
        settings: &'a Settings,
        command: &str,
        access: Access,
        as_of: i32,
        replace_existing: bool,
        progress: &'a dyn Progress,
    ) -> Result<Context<'a>, RunError> {
        let started_at = timefmt::now_rfc3339();
        let run_id = new_run_id();
        let keys = KeyRing::load(&settings.key_file)?;
        let lookup = settings.postcode_lookup.as_deref().map(PostcodeLookup::load).transpose()?.map(Arc::new);
        let out = &settings.output_dir;
        std::fs::create_dir_all(out.join(STAGING)).map_err(|source| RunError::Output { path: out.clone(), source })?;
        let lock = lock_output(out, access)?;
        let mut audit = AuditLog::open(&out.join(AUDIT), keys.audit_signer())?;
        let held = held_files(&audit::read_entries(&out.join(AUDIT))?);
        let loaded = load_agreements(&settings.agreements_dir, as_of)?;
        let agreement_problems: Vec<String> = loaded.problems.iter().map(ToString::to_string).collect();
        for p in &loaded.problems {
            warn!("{p}");
        }
        let agreements = loaded.into_set();
        audit.append(&Event::RunStarted {
            run: run_id.clone(),
            command: command.to_owned(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
            as_of: dates::format(as_of),
            key_id: keys.key_id().to_string(),
        })?;
        audit.append(&Event::KeysUsed {
            key_id: keys.key_id().to_string(),
            purposes: vec!["linkage".to_owned(), "quarantine".to_owned(), "audit".to_owned()],
        })?;
        audit_agreements(&mut audit, &agreements, as_of)?;
        // Only now, with the locks held and the log known to be whole, is it safe to clear what
        // interrupted sessions left.
        for cleared in tellonce_output::strays::clear_orphaned_temp_files(out, access)? {
            audit.append(&cleared)?;
        }
        audit.sync()?;
        // A forced re-run (or a stream replaying offsets) may replace what was written under the
        // same name.
        let part_options = PartOptions { replace_existing, ..part_options(settings, &keys) };
        Ok(Context {
            settings,
            sealer: keys.sealer(),
            keys,
            lookup,
            part_options,
            progress,
            agreements,
            as_of,
            audit: Mutex::new(audit),
            held,
            run_id,
            started_at,
            agreement_problems,
            _lock: lock,
        })
    }

    /// Appends one entry to the audit log.
    pub(crate) fn audit(&self, event: &Event) -> Result<(), RunError> {
        let mut log = self.audit.lock().map_err(|_| RunError::Internal("audit log lock poisoned".to_owned()))?;
        log.append(event)?;
        Ok(())
    }

    /// Makes every entry appended so far durable.
    pub(crate) fn audit_sync(&self) -> Result<(), RunError> {
        let mut log = self.audit.lock().map_err(|_| RunError::Internal("audit log lock poisoned".to_owned()))?;
        log.sync()?;
        Ok(())
    }
}

/// A new session's id: when it started (UTC) and the process id, so that sessions sharing an
/// output never share an id.
pub(crate) fn new_run_id() -> String {
    format!("{}-{}", timefmt::now_compact(), std::process::id())
}

/// Runs every configured input, reporting no progress.
pub fn run(settings: &Settings, opts: &RunOptions) -> Result<RunReport, RunError> {
    run_with_progress(settings, opts, &Silent)
}

/// Runs every configured input, reporting its progress to `progress`.
pub fn run_with_progress(
    settings: &Settings,
    opts: &RunOptions,
    progress: &dyn Progress,
) -> Result<RunReport, RunError> {
    let as_of = opts.as_of.unwrap_or_else(dates::today);
    let total_bytes: u64 =
        settings.sources.iter().filter_map(|s| std::fs::metadata(&s.path).ok()).map(|m| m.len()).sum();
    progress.started(total_bytes);
    let ctx = Context::open(settings, "run", Access::Exclusive, as_of, opts.force, progress)?;
    let (run_id, started_at, out) = (ctx.run_id.clone(), ctx.started_at.clone(), &settings.output_dir);

    for s in &settings.unmatched_patterns {
        warn!(feed = s.feed.name, pattern = %s.path.display(), "a [[sources]] path pattern matches no file");
    }
    let mut inputs: Vec<InputReport> = Vec::with_capacity(settings.sources.len());
    let mut failure = None;
    for source in &settings.sources {
        let span = info_span!("input", feed = source.feed.name, source = %source.path.display());
        let _guard = span.enter();
        ctx.progress.input(source.feed.name);
        let seen = |sha: &str| {
            inputs.iter().find(|i| i.feed == source.feed.name && i.sha256 == sha && i.status == InputStatus::Processed)
        };
        let report = match process_input(&ctx, source, opts.force, &seen) {
            Ok(r) => r,
            Err(failed) => {
                let Failed { mut report, error } = *failed;
                report.status = InputStatus::Failed;
                report.error = Some(error.to_string());
                inputs.push(report);
                failure = Some(error);
                break;
            }
        };
        if report.status == InputStatus::Rejected {
            let rejected = ctx.audit(&Event::InputRejected {
                feed: report.feed.to_owned(),
                input: report.source.clone(),
                sha256: report.sha256.clone(),
                reason: format!("rejected: {}", report.error.as_deref().unwrap_or("")),
            });
            if let Err(e) = rejected {
                inputs.push(report);
                failure = Some(e);
                break;
            }
        }
        match report.status {
            InputStatus::Rejected => warn!(error = report.error.as_deref().unwrap_or(""), "input rejected"),
            InputStatus::Held => warn!(error = report.error.as_deref().unwrap_or(""), "input held"),
            InputStatus::Skipped => {
                info!(sha256 = %report.sha256, "input already processed; skipped (use --force to redo)")
            }
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
    ctx.progress.finished();

    // The build tier, over everything staged so far (this run's inputs and earlier ones).
    let mut linkage = None;
    if failure.is_none() && settings.linkage_enabled {
        match link_build(&ctx, &run_id) {
            Ok(report) => linkage = Some(report),
            Err(e) => failure = Some(e),
        }
    }

    // The manifest is written even when the run stops early, so that every file an input
    // committed before the failure is listed somewhere.
    let manifest = Manifest {
        run_id: run_id.clone(),
        started_at,
        finished_at: timefmt::now_rfc3339(),
        tool_version: env!("CARGO_PKG_VERSION").to_owned(),
        key_id: Some(ctx.keys.key_id().to_string()),
        inputs: inputs.iter().map(input_record).collect(),
        files: inputs
            .iter()
            .flat_map(|i| i.files.iter().cloned())
            .chain(linkage.iter().flat_map(|l| l.files.iter().cloned()))
            .collect(),
    };
    let manifest_path = manifest.write(out).map_err(|source| RunError::Output { path: out.join("manifests"), source });
    let audited = audit_run_end(&ctx, &run_id, manifest_path.as_ref().ok().map(PathBuf::as_path), &inputs, &failure);
    if audited.is_err()
        && let Ok(path) = &manifest_path
    {
        // A manifest the log does not record would be a file no one can account for.
        unpublish(&ctx, std::slice::from_ref(path));
    }
    if let Some(e) = failure {
        return Err(e);
    }
    let manifest_path = manifest_path?;
    audited?;
    Ok(RunReport {
        run_id,
        key_id: ctx.keys.key_id().to_string(),
        manifest: manifest_path.display().to_string(),
        as_of: dates::format(as_of),
        agreement_problems: ctx.agreement_problems.clone(),
        inputs,
        linkage,
    })
}

/// Runs a linkage build inside a run, under its lock and audit log.
fn link_build(ctx: &Context<'_>, run_id: &str) -> Result<tellonce_build::link::BuildReport, RunError> {
    let themes = themes(ctx.settings)?;
    let mut log = ctx.audit.lock().map_err(|_| RunError::Internal("audit log lock poisoned".to_owned()))?;
    let input = tellonce_build::link::BuildInput {
        out: &ctx.settings.output_dir,
        keys: &ctx.keys,
        agreements: &ctx.agreements,
        today: dates::today(),
        run_id,
        options: ctx.settings.linkage,
        part_options: PartOptions { replace_existing: false, ..ctx.part_options.clone() },
        themes: Some(&themes),
        outcomes: ctx.settings.outcomes,
    };
    let built = tellonce_build::link::build(&input, &mut log);
    if built.is_err() {
        unpublish_build(&ctx.settings.output_dir, &mut log);
    }
    Ok(built?)
}

/// Takes back the files a failed build published and could not record (a full disk, say): every
/// Parquet file of the datasets a build writes that the log on disk does not record is removed,
/// with a `file_deleted` entry after the pending ones that would have recorded it, as
/// [`unpublish`] does for an input. Left in place, they would sit beside the last build's files
/// and be counted twice by readers until the next build cleared them. If the log cannot be read,
/// nothing is removed (the next build clears what it does not record).
fn unpublish_build(out: &Path, log: &mut AuditLog) {
    let Ok(entries) = audit::read_entries(&out.join(AUDIT)) else { return };
    let held = held_files(&entries);
    let datasets =
        tellonce_output::layout::REPLACED_BY_EACH_BUILD.into_iter().chain([tellonce_output::layout::ID_HISTORY]);
    for dataset in datasets {
        let mut stack = vec![out.join(dataset)];
        while let Some(dir) = stack.pop() {
            let Ok(entries) = std::fs::read_dir(&dir) else { continue };
            for e in entries.flatten() {
                let path = e.path();
                if path.is_dir() {
                    stack.push(path);
                    continue;
                }
                let hidden = e.file_name().to_string_lossy().starts_with('.');
                let rel = relative(out, &path);
                if hidden || path.extension().is_none_or(|x| x != "parquet") || held.contains_key(&rel) {
                    continue;
                }
                let Ok(sha256) = sha256_file(&path) else { continue };
                if remove_if_present(&path).is_err() {
                    warn!(file = %rel, "cannot remove a build output whose audit entry could not be written");
                    continue;
                }
                let _ = tellonce_connectors::atomic::sync_dir(&dir);
                warn!(file = %rel, "removed a build output whose audit entry could not be written");
                let _ = log.append(&Event::FileDeleted {
                    path: rel,
                    sha256,
                    reason: "unrecorded: its audit entry could not be written".to_owned(),
                    agreement: None,
                });
            }
        }
    }
}

/// The theme mapping the settings name, or the embedded one.
pub fn themes(settings: &Settings) -> Result<tellonce_build::outcomes::themes::Mapping, RunError> {
    Ok(match &settings.themes_file {
        Some(path) => tellonce_build::outcomes::themes::Mapping::load(path)?,
        None => tellonce_build::outcomes::themes::Mapping::embedded()?,
    })
}

/// How this deployment writes Parquet parts: its row groups, and the key id and tool version in
/// every file's metadata.
fn part_options(settings: &Settings, keys: &KeyRing) -> PartOptions {
    PartOptions {
        row_group_rows: settings.row_group_rows,
        metadata: vec![
            ("tellonce.key_id".to_owned(), keys.key_id().to_string()),
            ("tellonce.version".to_owned(), env!("CARGO_PKG_VERSION").to_owned()),
        ],
        ..PartOptions::default()
    }
}

/// Records each agreement loaded, with its standing on `as_of`.
fn audit_agreements(audit: &mut AuditLog, agreements: &AgreementSet, as_of: i32) -> Result<(), RunError> {
    for a in agreements.iter() {
        audit.append(&Event::AgreementLoaded {
            id: a.id.clone(),
            version: a.version,
            file: a.file.display().to_string(),
            sha256: a.sha256.clone(),
            feeds: a.feeds.keys().cloned().collect(),
            start: dates::format(a.start),
            review: dates::format(a.review),
            end: dates::format(a.end),
            standing: a.standing_on(as_of).to_owned(),
        })?;
    }
    Ok(())
}

/// `tellonce build`: links everything staged so far, without ingesting. Returns the run id and
/// the build's report.
pub fn build(settings: &Settings) -> Result<(String, tellonce_build::link::BuildReport), RunError> {
    let run_id = new_run_id();
    let keys = KeyRing::load(&settings.key_file)?;
    let themes = themes(settings)?;
    let out = &settings.output_dir;
    std::fs::create_dir_all(out).map_err(|source| RunError::Output { path: out.clone(), source })?;
    let _lock = lock_output(out, Access::Build)?;
    let today = dates::today();
    let mut audit = AuditLog::open(&out.join(AUDIT), keys.audit_signer())?;
    let loaded = load_agreements(&settings.agreements_dir, today)?;
    for p in &loaded.problems {
        warn!("{p}");
    }
    let agreements = loaded.into_set();
    audit.append(&Event::RunStarted {
        run: run_id.clone(),
        command: "build".to_owned(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
        as_of: dates::format(today),
        key_id: keys.key_id().to_string(),
    })?;
    audit.append(&Event::KeysUsed {
        key_id: keys.key_id().to_string(),
        purposes: vec!["linkage".to_owned(), "audit".to_owned()],
    })?;
    audit_agreements(&mut audit, &agreements, today)?;
    for cleared in tellonce_output::strays::clear_orphaned_temp_files(out, Access::Build)? {
        audit.append(&cleared)?;
    }
    let part_options = part_options(settings, &keys);
    let input = tellonce_build::link::BuildInput {
        out,
        keys: &keys,
        agreements: &agreements,
        today,
        run_id: &run_id,
        options: settings.linkage,
        part_options,
        themes: Some(&themes),
        outcomes: settings.outcomes,
    };
    let result = tellonce_build::link::build(&input, &mut audit);
    if result.is_err() {
        unpublish_build(out, &mut audit);
    }
    audit.append(&Event::RunFinished {
        run: run_id.clone(),
        status: if result.is_ok() { "finished" } else { "failed" }.to_owned(),
        received: 0,
        written: 0,
        quarantined: 0,
        held: 0,
    })?;
    audit.sync()?;
    Ok((run_id, result?))
}

/// Loads the agreements; a missing directory means no agreement (every feed held), not a failure.
fn load_agreements(dir: &Path, as_of: i32) -> Result<agreement::Loaded, RunError> {
    if !dir.is_dir() {
        warn!(dir = %dir.display(), "no agreements directory: no feed can be processed");
        return Ok(agreement::Loaded::default());
    }
    let loaded = agreement::load_dir(dir, as_of)?;
    if loaded.problems.iter().any(|p| p.severity == Severity::Error) {
        warn!("some agreement files have errors and were not loaded; run `tellonce isa lint` for the list");
    }
    Ok(loaded)
}

/// Records the manifest and the run's end in the audit log, and makes it durable.
pub(crate) fn audit_run_end(
    ctx: &Context<'_>,
    run_id: &str,
    manifest: Option<&Path>,
    inputs: &[InputReport],
    failure: &Option<RunError>,
) -> Result<(), RunError> {
    if let Some(path) = manifest {
        audit_file(ctx, "manifest", path, 0, None, None)?;
    }
    let sum = |f: fn(&InputReport) -> u64| inputs.iter().map(f).sum::<u64>();
    ctx.audit(&Event::RunFinished {
        run: run_id.to_owned(),
        status: if failure.is_some() { "failed" } else { "finished" }.to_owned(),
        received: sum(|i| i.read),
        written: sum(|i| i.written),
        quarantined: sum(|i| i.quarantined),
        held: inputs.iter().filter(|i| i.status == InputStatus::Held).count() as u64,
    })?;
    ctx.audit_sync()
}

/// Appends a `file_written` entry for a committed file, hashing it as it now is on disk.
fn audit_file(
    ctx: &Context<'_>,
    dataset: &str,
    path: &Path,
    rows: u64,
    policy: Option<&Policy>,
    feed: Option<&str>,
) -> Result<(), RunError> {
    let out = &ctx.settings.output_dir;
    let sha256 = sha256_file(path).map_err(|source| RunError::Output { path: path.to_owned(), source })?;
    let bytes = std::fs::metadata(path).map_err(|source| RunError::Output { path: path.to_owned(), source })?.len();
    ctx.audit(&Event::FileWritten {
        dataset: dataset.to_owned(),
        path: relative(out, path),
        sha256,
        rows,
        bytes,
        feed: feed.map(str::to_owned),
        agreement: policy.map(|p| p.agreement.to_string()),
        retention_until: policy.and_then(Policy::retention_until_iso),
    })
}

fn input_record(r: &InputReport) -> InputRecord {
    InputRecord {
        feed: r.feed.to_owned(),
        source: r.source.clone(),
        sha256: r.sha256.clone(),
        status: r.status.as_str().to_owned(),
        rows_read: r.read,
        rows_written: r.written,
        rows_quarantined: r.quarantined,
    }
}

/// The names of dropped columns, safe to print: the one rule for every message is
/// [`tellonce_schemas::printable::printable_column_names`] (a header that may hold a record's
/// values has none of its names printed); withheld names are only counted.
pub fn reportable_column_names(names: Vec<String>) -> Vec<String> {
    let (shown, withheld) = tellonce_schemas::printable::printable_column_names(&names);
    let mut kept: Vec<String> = shown.into_iter().map(str::to_owned).collect();
    if withheld > 0 {
        kept.push(format!("({withheld} unprintable column name(s) not shown: the header may hold data)"));
    }
    kept
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

fn process_input<'r>(
    ctx: &Context<'_>,
    source: &Source,
    force: bool,
    processed_in_this_run: &dyn Fn(&str) -> Option<&'r InputReport>,
) -> Result<InputReport, Box<Failed>> {
    let mut report = InputReport::new(source);
    let reject = |mut report: InputReport, rule: &'static str, error: String| {
        report.status = InputStatus::Rejected;
        report.error_rule = Some(rule);
        report.error = Some(format!("{error} [{rule}]"));
        Ok(report)
    };
    // Before anything opens or hashes it: a FIFO or a device would block or never end.
    if let Err(e) = tellonce_connectors::file_source::check_regular_file(&source.path) {
        return reject(report, e.rule_code(), e.to_string());
    }
    let Some(before) = file_state(&source.path) else {
        return reject(report, "file.unreadable", format!("cannot read {}", source.path.display()));
    };
    report.sha256 = match sha256_file(&source.path) {
        Ok(h) => h,
        Err(e) => return reject(report, "file.unreadable", format!("cannot read {}: {e}", source.path.display())),
    };
    let out = &ctx.settings.output_dir;
    let marker = input_marker(out, source.feed.name, &report.sha256);
    if let Some(first) = processed_in_this_run(&report.sha256) {
        // The same content listed twice (a resent file): processing it again would duplicate
        // every record, even under --force.
        report.status = InputStatus::Skipped;
        report.error = Some(format!("same content as {}, processed earlier in this run", first.source));
        return Ok(report);
    }
    if marker.exists() && !force {
        report.status = InputStatus::Skipped;
        return Ok(report);
    }
    let erased = erased_marker(out, source.feed.name, &report.sha256);
    if marker.exists() && erased.exists() {
        // Reprocessing would bring back records erased at a data subject's request.
        report.status = InputStatus::Skipped;
        report.error = Some(format!(
            "records were erased from this input's outputs at a data subject's request; --force would restore \
             them, so it is not processed again (see {})",
            relative(out, &erased)
        ));
        return Ok(report);
    }
    let policy = match govern::decide(&ctx.agreements, source.feed, dates::today(), ctx.as_of) {
        Decision::Process(policy) => policy,
        Decision::Hold { rule, reason } => {
            // Held, not rejected: the input is left as it is and no marker is written, so the
            // next run under an agreement in force processes it. Nothing is lost.
            report.status = InputStatus::Held;
            report.error_rule = Some(rule);
            report.error = Some(format!("{} not processed: {reason} [{rule}]", source.path.display()));
            let held = ctx.audit(&Event::InputHeld {
                feed: source.feed.name.to_owned(),
                input: report.source.clone(),
                sha256: report.sha256.clone(),
                reason: format!("{reason} [{rule}]"),
            });
            return match held {
                Ok(()) => Ok(report),
                Err(error) => Err(Box::new(Failed { report, error })),
            };
        }
    };
    if policy.review_overdue {
        warn!(agreement = %policy.agreement, "the agreement is past its review date; review it");
    }
    report.agreement = Some(policy.agreement.to_string());
    report.fields_dropped = policy.dropped.clone();
    let opts = FileSourceOptions { batch_rows: ctx.settings.batch_rows, max_line_bytes: ctx.settings.max_line_bytes };
    // A mapping with any problem stops its source only (fail closed): the file is not read.
    let reading = ctx.settings.reading(source);
    let mapping = match reading.mapping.as_deref().map(|m| Mapping::load(m, source.feed)).transpose() {
        Ok(m) => m.map(Arc::new),
        Err(e) => return reject(report, e.rule_code(), e.to_string()),
    };
    let dialect = match reading.dialect(mapping.as_deref()) {
        Ok(d) => d,
        Err(e) => return reject(report, "mapping.conflict", format!("{}: {e}", source.path.display())),
    };
    let sheet = dialect.sheet.clone();
    let file = match FileSource::open_with(&source.path, source.format, source.feed, opts, dialect, mapping) {
        Ok(f) => f,
        Err(e) => return reject(report, e.rule_code(), e.to_string()),
    };
    if reading != Reading::default() {
        report.read_as = Some(ReadAs {
            mapping: reading.mapping.as_ref().map(|m| m.display().to_string()),
            encoding: file.encoding().as_str(),
            delimiter: file.delimiter().map(|d| if d == b'\t' { "tab".to_owned() } else { char::from(d).to_string() }),
            sheet,
        });
    }
    match ingest(ctx, source, &policy, file, before, &mut report) {
        Ok(()) => {}
        Err(IngestError::Source(e)) => return reject(report, e.rule_code(), e.to_string()),
        Err(IngestError::Changed) => {
            let msg =
                format!("{} changed while it was being read; try again once it is complete", source.path.display());
            return reject(report, "file.changed", msg);
        }
        Err(IngestError::Run(error)) => return Err(Box::new(Failed { report, error })),
    }
    // The audit entries naming the input's files are durable before the input is marked done.
    if let Err(error) = ctx.audit_sync() {
        let published: Vec<PathBuf> =
            report.files.iter().map(|f| &f.path).chain(&report.quarantine_file).map(|p| out.join(p)).collect();
        unpublish(ctx, &published);
        report.files.clear();
        report.quarantine_file = None;
        return Err(Box::new(Failed { report, error }));
    }
    tellonce_output::faults::reached(tellonce_output::faults::COMMIT_RECORDED);
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

/// Takes back files a session published whose audit entries could not be made durable (a full
/// disk, say), so that no file the log does not record is left in a dataset: each is removed
/// unless the log on disk records it as it is (the failure came after the entries were
/// written: an fsync, the head), or it is byte for byte the file the log already recorded under
/// its name (a forced re-run rewriting identical content). Each removal is appended to the log
/// after the pending entries that would record the file: should they be written after all (the
/// writer keeps entries whose write was rolled back, and writes them once there is room), the
/// log says the file was written and then removed, as it was. Best effort: a file that cannot
/// be removed is left for `audit verify` to name.
fn unpublish(ctx: &Context<'_>, paths: &[PathBuf]) {
    let out = &ctx.settings.output_dir;
    let now = audit::read_entries(&out.join(AUDIT)).ok().map(|entries| held_files(&entries));
    for path in paths {
        let rel = relative(out, path);
        let Ok(sha256) = sha256_file(path) else { continue };
        let recorded = |held: &BTreeMap<String, HeldFile>| held.get(&rel).is_some_and(|f| f.sha256 == sha256);
        if now.as_ref().is_some_and(recorded) || recorded(&ctx.held) {
            continue;
        }
        match remove_if_present(path) {
            Ok(()) => {
                warn!(file = %rel, "removed a file whose audit entry could not be written");
                if let Some(dir) = path.parent() {
                    let _ = tellonce_connectors::atomic::sync_dir(dir);
                }
                let _ = ctx.audit(&Event::FileDeleted {
                    path: rel,
                    sha256,
                    reason: "unrecorded: its audit entry could not be written".to_owned(),
                    agreement: None,
                });
            }
            Err(e) => warn!(file = %rel, error = %e, "cannot remove a file whose audit entry could not be written"),
        }
    }
}

/// An input that stopped the run, with what it had done (files it published, if any), so that
/// the run's manifest can still list them.
struct Failed {
    report: InputReport,
    error: RunError,
}

pub(crate) enum IngestError {
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

/// One batch's result from a worker: staged rows, rejects, and the input positions it covers.
pub(crate) struct Staged {
    pub(crate) batch: RecordBatch,
    pub(crate) rejects: Vec<RawReject>,
    pub(crate) first_position: u64,
    pub(crate) last_position: u64,
}

/// Validates and pseudonymises one raw batch whose duplicate `record_id`s are `marks`.
pub(crate) fn stage(
    raw: RawBatch,
    feed: &'static tellonce_schemas::FeedSchema,
    checked_schema: &arrow_schema::SchemaRef,
    marks: &[bool],
    pseudo: &Pseudonymiser,
) -> Result<Staged, RunError> {
    let (first_position, last_position) = (raw.lineage.first_position, raw.lineage.last_position);
    let v = validate::validate(raw, feed, checked_schema, marks).map_err(|e| RunError::Internal(e.to_string()))?;
    let batch = pseudo.apply(&v.checked).map_err(|e| RunError::Internal(e.to_string()))?;
    Ok(Staged { batch, rejects: v.rejects, first_position, last_position })
}

/// Batches a worker may have between the reader and the writer. A staged police batch holds
/// about 5 MiB (keyed tokens, match keys and two 128-byte Bloom filters a row), so this, with
/// the duplicate index, sets the peak memory of a long input: at 4, 10 million police rows
/// peak at 240 MiB (at 12, 326 MiB), with the same records/s in paired runs on two cores.
const IN_FLIGHT_PER_WORKER: usize = 4;

/// One batch's result from a worker, with its sequence number.
type Done = (u64, Result<Staged, RunError>);

fn ingest(
    ctx: &Context<'_>,
    source: &Source,
    policy: &Policy,
    mut file: FileSource,
    before: (u64, std::time::SystemTime),
    report: &mut InputReport,
) -> Result<(), IngestError> {
    let feed = source.feed;
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
    let stem = report.sha256.get(..16).unwrap_or(&report.sha256).to_owned();
    let source_name = source.path.display().to_string();

    let mut writer = Writer::new(ctx, feed, policy, &stem, &source_name, pseudo.schema().clone())?;
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
                    ctx.progress.advanced(bytes.saturating_sub(last_bytes));
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
                    let result = stage(raw, feed, &checked_schema, &marks, &pseudo);
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

/// A file's size and modification time, to tell whether it changed while it was read.
pub(crate) fn file_state(path: &Path) -> Option<(u64, std::time::SystemTime)> {
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.len(), meta.modified().ok()?))
}

/// Writes one input's results in order: staging parts and the quarantine file.
pub(crate) struct Writer<'a> {
    ctx: &'a Context<'a>,
    policy: &'a Policy,
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
    decided: Vec<Event>,
}

impl<'a> Writer<'a> {
    pub(crate) fn new(
        ctx: &'a Context<'a>,
        feed: &'static tellonce_schemas::FeedSchema,
        policy: &'a Policy,
        stem: &str,
        source: &str,
        schema: arrow_schema::SchemaRef,
    ) -> Result<Self, RunError> {
        let out = &ctx.settings.output_dir;
        let quarantine = QuarantineWriter::create(out, feed.name, stem)
            .map_err(|source| RunError::Output { path: out.join("quarantine"), source })?;
        Ok(Writer {
            ctx,
            policy,
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
            decided: Vec::new(),
        })
    }

    pub(crate) fn write(&mut self, staged: Staged) -> Result<(), IngestError> {
        let Staged { batch, rejects, first_position, last_position } = staged;
        let received = (batch.num_rows() + rejects.len()) as u64;
        self.read += received;
        let mut reasons: BTreeMap<String, u64> = BTreeMap::new();
        for r in &rejects {
            *reasons.entry(r.rule.code().to_owned()).or_default() += 1;
        }
        // Held until the input's files are committed: an input rejected part-way (changed while
        // read, say) shared nothing, and the log must not say it did.
        self.decided.push(Event::BatchDecided {
            feed: self.feed.to_owned(),
            agreement: self.policy.agreement.to_string(),
            input: self.source.clone(),
            first_position,
            last_position,
            received,
            passed: batch.num_rows() as u64,
            quarantined: rejects.len() as u64,
            reasons,
            fields_dropped: self.policy.dropped.iter().map(|f| (*f).to_owned()).collect(),
        });
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
                opts.metadata.push(("tellonce.agreement".to_owned(), self.policy.agreement.to_string()));
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
    pub(crate) fn finish(self, report: &mut InputReport, records_read: u64) -> Result<(), IngestError> {
        let ctx = self.ctx;
        let mut published = Vec::new();
        let result = self.commit(report, records_read, &mut published);
        if result.is_err() {
            // What was published and could not be recorded (a full disk, say) is taken back:
            // on exit 4 nothing half-written is visible, and the next run writes it again.
            unpublish(ctx, &published);
            report.files.clear();
            report.quarantine_file = None;
        }
        result
    }

    /// [`finish`](Self::finish) but for taking back what it published (listed in `published`)
    /// when it fails.
    fn commit(
        mut self,
        report: &mut InputReport,
        records_read: u64,
        published: &mut Vec<PathBuf>,
    ) -> Result<(), IngestError> {
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
        let ctx = self.ctx;
        let policy = self.policy;
        for decided in std::mem::take(&mut self.decided) {
            ctx.audit(&decided)?;
        }
        // A replay that now rejects nothing removes the quarantine file an earlier run wrote.
        let earlier_quarantine = self.quarantine.target().to_owned();
        let earlier_sha = sha256_file(&earlier_quarantine)
            .ok()
            .or_else(|| ctx.held.get(&relative(&out, &earlier_quarantine)).map(|f| f.sha256.clone()));
        // Quarantine first: if it cannot be committed, no staging part has become visible.
        let committed = self.quarantine.commit().map_err(out_err)?;
        if let Some(path) = &committed {
            published.push(path.clone());
            tellonce_output::faults::reached(tellonce_output::faults::COMMIT_PUBLISHED);
        }
        match (&committed, earlier_sha) {
            (Some(path), _) => audit_file(ctx, "quarantine", path, quarantined, Some(policy), Some(self.feed))?,
            (None, Some(sha256)) => ctx.audit(&Event::FileDeleted {
                path: relative(&out, &earlier_quarantine),
                sha256,
                reason: "replaced".to_owned(),
                agreement: Some(policy.agreement.to_string()),
            })?,
            (None, None) => {}
        }
        report.quarantine_file = committed.map(|p| relative(&out, &p));
        for part in std::mem::take(&mut self.finished) {
            let file = part.publish()?;
            published.push(out.join(&file.path));
            tellonce_output::faults::reached(tellonce_output::faults::COMMIT_PUBLISHED);
            ctx.audit(&Event::FileWritten {
                dataset: STAGING.to_owned(),
                path: file.path.clone(),
                sha256: file.sha256.clone(),
                rows: file.rows,
                bytes: file.bytes,
                feed: Some(self.feed.to_owned()),
                agreement: Some(policy.agreement.to_string()),
                retention_until: policy.retention_until_iso(),
            })?;
            report.files.push(file);
        }
        let dir = out.join(STAGING).join(format!("feed={}", self.feed));
        let prefix = format!("part-{}-", self.stem);
        let kept: Vec<&str> = report.files.iter().filter_map(|f| f.path.rsplit('/').next()).collect();
        // What an earlier run of this input wrote and this one did not: from the directory and
        // from the audit log, so that a part deleted by a run that stopped before logging the
        // deletion is logged now.
        let mut stale: BTreeMap<String, Option<String>> = ctx
            .held
            .values()
            .filter(|f| f.path.starts_with(&format!("{STAGING}/feed={}/{prefix}", self.feed)))
            .map(|f| (f.path.clone(), Some(f.sha256.clone())))
            .collect();
        match std::fs::read_dir(&dir) {
            Ok(entries) => {
                for entry in entries.flatten() {
                    let name = entry.file_name().to_string_lossy().into_owned();
                    if name.starts_with(&prefix) && name.ends_with(".parquet") {
                        stale.entry(relative(&out, &entry.path())).or_insert(None);
                    }
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => return Err(RunError::Output { path: dir.clone(), source }.into()),
        }
        for (rel, recorded) in stale {
            if kept.iter().any(|k| rel.rsplit('/').next() == Some(*k)) {
                continue;
            }
            let path = out.join(&rel);
            let sha256 = match sha256_file(&path) {
                Ok(sha) => sha,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => match recorded {
                    Some(sha) => sha,
                    None => continue,
                },
                Err(source) => return Err(RunError::Output { path, source }.into()),
            };
            remove_if_present(&path).map_err(|source| RunError::Output { path: path.clone(), source })?;
            ctx.audit(&Event::FileDeleted {
                path: rel,
                sha256,
                reason: "replaced".to_owned(),
                agreement: Some(policy.agreement.to_string()),
            })?;
        }
        record_counts(report, records_read, written, quarantined, by_rule);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_printable_column_names_are_reported() {
        let names = vec![
            "extra_col".to_owned(),
            "Jane Smith 9434765919".to_owned(),
            "dob_2011_02_03".to_owned(),
            "note2024".to_owned(),
            "Legacy_Flag".to_owned(),
        ];
        // One name that looks like data withholds them all.
        assert_eq!(
            reportable_column_names(names),
            ["(5 unprintable column name(s) not shown: the header may hold data)"]
        );
        let names = vec!["extra_col".to_owned(), "Legacy_Flag".to_owned()];
        assert_eq!(reportable_column_names(names), ["extra_col", "Legacy_Flag"]);
    }
}
