//! A session: one command's access to an output folder. Opening it takes the output's locks,
//! loads the key ring and the agreements in force, records the session's start (with its keys and
//! agreements) in the audit log and clears what interrupted sessions left; every command that
//! writes to an output opens one, and ends it with [`audit_run_end`].

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use tellonce_connectors::hashing::sha256_file;
use tellonce_connectors::parquet_sink::PartOptions;
use tellonce_governance::agreement::{self, AgreementSet, Severity};
use tellonce_governance::audit::{self, AuditLog, Event};
use tellonce_governance::{KeyRing, Sealer};
use tellonce_schemas::identifiers::dates;
use tracing::warn;

use crate::config::Settings;
use crate::progress::Progress;
use crate::reference::PostcodeLookup;
use crate::stages::govern::Policy;
use tellonce_governance::audit::holdings::{HeldFile, held_files};
use tellonce_output::layout::{AUDIT, STAGING, relative};
use tellonce_output::lock::{Access, OutputLock, lock_output};
use tellonce_output::timefmt;

use crate::run::{InputReport, InputStatus, RunError};

/// The shared, read-only context of a run.
pub struct Session<'a> {
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

impl<'a> Session<'a> {
    /// Opens the output for a session of `command`: takes the output lock, loads keys, lookup
    /// and agreements, and records the session's start in the audit log.
    pub(crate) fn open(
        settings: &'a Settings,
        command: &str,
        access: Access,
        as_of: i32,
        replace_existing: bool,
        progress: &'a dyn Progress,
    ) -> Result<Session<'a>, RunError> {
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
        tellonce_output::strays::clear_and_record(out, access, &mut audit)?;
        audit.sync()?;
        // A forced re-run (or a stream replaying offsets) may replace what was written under the
        // same name.
        let part_options = PartOptions { replace_existing, ..part_options(settings, &keys) };
        Ok(Session {
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

/// How this deployment writes Parquet parts: its row groups, and the key id and tool version in
/// every file's metadata.
pub(crate) fn part_options(settings: &Settings, keys: &KeyRing) -> PartOptions {
    PartOptions {
        row_group_rows: settings.row_group_rows,
        metadata: vec![
            (tellonce_schemas::metadata::KEY_ID.to_owned(), keys.key_id().to_string()),
            (tellonce_schemas::metadata::VERSION.to_owned(), env!("CARGO_PKG_VERSION").to_owned()),
        ],
        ..PartOptions::default()
    }
}

/// Records each agreement loaded, with its standing on `as_of`.
pub(crate) fn audit_agreements(audit: &mut AuditLog, agreements: &AgreementSet, as_of: i32) -> Result<(), RunError> {
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

/// Loads the agreements; a missing directory means no agreement (every feed held), not a failure.
pub(crate) fn load_agreements(dir: &Path, as_of: i32) -> Result<agreement::Loaded, RunError> {
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
    ctx: &Session<'_>,
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
        status: tellonce_governance::audit::reasons::RunStatus::of(failure.is_none()).to_string(),
        received: sum(|i| i.read),
        written: sum(|i| i.written),
        quarantined: sum(|i| i.quarantined),
        held: inputs.iter().filter(|i| i.status == InputStatus::Held).count() as u64,
    })?;
    ctx.audit_sync()
}

/// Appends a `file_written` entry for a committed file, hashing it as it now is on disk.
pub(crate) fn audit_file(
    ctx: &Session<'_>,
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
