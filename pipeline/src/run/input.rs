//! One input of a file run: skip it if already processed, hold it if no agreement is in force,
//! read it through the workers and commit it, or take back what it published on failure.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tellonce_connectors::file_source::{FileSource, FileSourceOptions};
use tellonce_connectors::hashing::sha256_file;
use tellonce_connectors::mapping::Mapping;
use tellonce_governance::audit::{self, Event};
use tellonce_schemas::identifiers::dates;
use tracing::{info, warn};

use crate::config::{Reading, Source};
use crate::records::scope::Scope;
use crate::stages::govern::{self, Decision};
use tellonce_governance::audit::holdings::{HeldFile, held_files};
use tellonce_output::layout::{AUDIT, erased_marker, input_marker, relative};
use tellonce_output::unrecorded::remove_if_present;

use super::*;
use crate::run::report::input_record;
use crate::run::workers::{IngestOptions, ingest};

/// Processes one input: skipped if done before (or erased from), held if no agreement is in
/// force, rejected if it cannot be read as its feed, else read, committed and marked done.
pub(crate) fn process_input<'r>(
    ctx: &Context<'_>,
    source: &Source,
    opts: &RunOptions,
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
    if let Some(sheet) = named_sheet(ctx, source) {
        report.sha256 = sheet_identity(&report.sha256, &sheet);
    }
    let out = &ctx.settings.output_dir;
    let marker = input_marker(out, source.feed.name, &report.sha256);
    if let Some(first) = processed_in_this_run(&report.sha256) {
        // The same content listed twice (a resent file): processing it again would duplicate
        // every record, even under --force.
        report.status = InputStatus::Skipped;
        report.error = Some(format!("same content as {}, processed earlier in this run", first.source));
        return Ok(report);
    }
    // The mapping's content, for the marker and the audit log: an input processed under
    // another mapping is read again (its records compared with those held, so that only what
    // the new mapping changes is staged).
    let mapping_sha256 = ctx.settings.reading(source).mapping.and_then(|m| sha256_file(&m).ok());
    let mut reread = false;
    if marker.exists() && !opts.force {
        if mapping_changed(&marker, mapping_sha256.as_deref()) {
            reread = true;
            info!("its source mapping changed since it was processed; processed again under the new one");
        } else {
            report.status = InputStatus::Skipped;
            return Ok(report);
        }
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
        // Held, not rejected: the input is left as it is and no marker is written, so the next
        // run under an agreement in force processes it. Nothing is lost.
        Decision::Hold { rule, reason } => return hold(ctx, source, report, rule, &reason),
    };
    if policy.review_overdue {
        warn!(agreement = %policy.agreement, "the agreement is past its review date; review it");
    }
    report.agreement = Some(policy.agreement.to_string());
    report.fields_dropped = policy.dropped.clone();
    let read = Read { policy: &policy, before, reread, mapping_sha256: mapping_sha256.as_deref() };
    match read_input(ctx, source, opts, &read, &mut report) {
        Ok(()) => {}
        Err(Stop::Reject(rule, message)) => return reject(report, rule, message),
        // Held like an input with no agreement in force: no marker, so the next run reads it
        // again, and with --allow-mass-withdrawal applies it.
        Err(Stop::Held(rule, reason)) => return hold(ctx, source, report, rule, &reason),
        Err(Stop::Failed(error)) => return Err(Box::new(Failed { report, error })),
    }
    if let Err(error) = audit_mapping(ctx, source, &report, mapping_sha256) {
        return Err(Box::new(Failed { report, error }));
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

/// Why reading an input stopped short of marking it done.
enum Stop {
    /// It cannot be read as its feed: the rule broken and the message.
    Reject(&'static str, String),
    /// It is left untouched until something changes: the rule and the reason.
    Held(&'static str, String),
    /// The output failed.
    Failed(RunError),
}

/// What [`read_input`] needs beyond the session and the source.
struct Read<'p> {
    policy: &'p crate::stages::govern::Policy,
    /// The file's size and modification time before it was hashed.
    before: (u64, std::time::SystemTime),
    /// Read again because its mapping changed: its earlier parts are replaced.
    reread: bool,
    mapping_sha256: Option<&'p str>,
}

/// Reads and commits one input: a withdrawals file applied, or a partner file staged.
fn read_input(
    ctx: &Context<'_>,
    source: &Source,
    opts: &RunOptions,
    read: &Read<'_>,
    report: &mut InputReport,
) -> Result<(), Stop> {
    if source.mode == crate::config::SourceMode::Withdrawals {
        return super::withdraw::apply(ctx, source, read.policy, read.before, report).map_err(|e| match e {
            super::withdraw::WithdrawFailure::Reject(rule, message) => Stop::Reject(rule, message),
            super::withdraw::WithdrawFailure::Run(error) => Stop::Failed(error),
        });
    }
    // Loaded once: both passes read the file through the same mapping.
    let mapping = load_mapping(ctx, source).map_err(|(rule, message)| Stop::Reject(rule, message))?;
    // A first pass for the references the input names, so that its comparison loads only the
    // records held that it can touch (see `records::scope`); none when nothing is held.
    let scope = match holds_records(ctx, source.feed.name) {
        true => {
            let first = open_file(ctx, source, mapping.clone(), &mut InputReport::new(source))
                .map_err(|(rule, message)| Stop::Reject(rule, message))?;
            let tokeniser = ctx.keys.tokeniser(tellonce_governance::Purpose::Linkage);
            let key = crate::records::key::RecordKey::under(source.feed, read.policy, tokeniser);
            let scope = Scope::read(first, source.feed, read.before.0, &key)
                .map_err(|e| Stop::Reject(e.rule_code(), e.to_string()))?;
            Some(scope)
        }
        false => None,
    };
    let file = open_file(ctx, source, mapping, report).map_err(|(rule, message)| Stop::Reject(rule, message))?;
    if let Some(read_as) = report.read_as.as_mut() {
        read_as.mapping_sha256 = read.mapping_sha256.map(str::to_owned);
    }
    let how = IngestOptions {
        allow_mass_withdrawal: opts.allow_mass_withdrawal,
        replace_parts: read.reread,
        scope: scope.as_ref(),
    };
    ingest(ctx, source, read.policy, file, read.before, report, how).map_err(|e| match e {
        IngestError::MassWithdrawal(mass) => Stop::Held("snapshot.mass_withdrawal", mass.to_string()),
        IngestError::Held(rule, message) => Stop::Held(rule, message),
        IngestError::Source(e) => Stop::Reject(e.rule_code(), e.to_string()),
        IngestError::Changed => Stop::Reject(
            "file.changed",
            format!("{} changed while it was being read; try again once it is complete", source.path.display()),
        ),
        IngestError::Run(error) => Stop::Failed(error),
    })
}

/// Whether `feed` has staging files now (an earlier input of this run counts). Only the cost of
/// the comparison rests on it (a first pass is made, or every record held is loaded), so the
/// folder is looked at rather than the audit log parsed once more.
fn holds_records(ctx: &Context<'_>, feed: &str) -> bool {
    let out = &ctx.settings.output_dir;
    let dir = out.join(tellonce_output::layout::STAGING).join(format!("feed={feed}"));
    // Tombstones standing where nothing is staged still refuse a record sent again, under
    // other leading zeros too, which the scope lets the comparison see.
    tellonce_output::layout::tombstones(out, feed).exists()
        || std::fs::read_dir(dir).is_ok_and(|mut files| {
            files.any(|f| f.is_ok_and(|f| f.file_name().to_str().is_some_and(|n| n.ends_with(".parquet"))))
        })
}

/// Leaves an input untouched, with no marker, so that a later run processes it once `reason`
/// no longer holds; the audit log says why.
fn hold(
    ctx: &Context<'_>,
    source: &Source,
    mut report: InputReport,
    rule: &'static str,
    reason: &str,
) -> Result<InputReport, Box<Failed>> {
    report.status = InputStatus::Held;
    report.error_rule = Some(rule);
    report.error = Some(format!("{} not processed: {reason} [{rule}]", source.path.display()));
    let held = ctx.audit(&Event::InputHeld {
        feed: source.feed.name.to_owned(),
        input: report.source.clone(),
        sha256: report.sha256.clone(),
        reason: format!("{reason} [{rule}]"),
    });
    match held {
        Ok(()) => Ok(report),
        Err(error) => Err(Box::new(Failed { report, error })),
    }
}

/// The sheet a workbook source names, in `[[sources]]` or its mapping (`None`: not a workbook,
/// or read from its first sheet shown).
fn named_sheet(ctx: &Context<'_>, source: &Source) -> Option<String> {
    if !source.format.is_workbook() {
        return None;
    }
    let reading = ctx.settings.reading(source);
    // A mapping that does not load is refused when the input is read; here it names no sheet.
    let mapped = || load_mapping(ctx, source).ok().flatten().and_then(|m| m.sheet().map(str::to_owned));
    reading.sheet.clone().or_else(mapped)
}

/// What identifies a workbook input read by a named sheet: the SHA-256 of the file's SHA-256
/// and the sheet's name as it is matched (without case or surrounding spaces). One workbook
/// holding a sheet per term is as many inputs, each marked done, named in its parts and
/// compared with the records held on its own; naming another sheet reads another input, and
/// the records the first one staged stay.
pub(crate) fn sheet_identity(file_sha256: &str, sheet: &str) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(file_sha256.as_bytes());
    h.update(b"\0sheet\0");
    h.update(sheet.trim().to_lowercase().as_bytes());
    hex::encode(h.finalize())
}

/// Records which source mapping, by content, an input was read through (none: nothing to say).
fn audit_mapping(
    ctx: &Context<'_>,
    source: &Source,
    report: &InputReport,
    mapping_sha256: Option<String>,
) -> Result<(), RunError> {
    let Some(mapping) = ctx.settings.reading(source).mapping else { return Ok(()) };
    let mapping_sha256 = match mapping_sha256 {
        Some(sha) => sha,
        None => sha256_file(&mapping)
            .map_err(|e| crate::records::RecordsError::Read { path: mapping.clone(), message: e.to_string() })?,
    };
    ctx.audit(&Event::MappingApplied {
        feed: source.feed.name.to_owned(),
        input: report.source.clone(),
        sha256: report.sha256.clone(),
        mapping: mapping.display().to_string(),
        mapping_sha256,
        columns_absent: report.columns_absent.iter().map(|a| a.column.to_owned()).collect(),
    })
}

/// The source's mapping, loaded and checked. Err: the rule broken and the message.
fn load_mapping(ctx: &Context<'_>, source: &Source) -> Result<Option<Arc<Mapping>>, (&'static str, String)> {
    match ctx.settings.reading(source).mapping.as_deref().map(|m| Mapping::load(m, source.feed)).transpose() {
        Ok(m) => Ok(m.map(Arc::new)),
        Err(e) => Err((e.rule_code(), e.to_string())),
    }
}

/// Opens an input as its source mapping (`mapping`, loaded) and dialect say, noting in `report` how it was read.
/// A mapping with any problem stops its source only (fail closed): the file is not read. Err:
/// the rule broken and the message.
fn open_file(
    ctx: &Context<'_>,
    source: &Source,
    mapping: Option<Arc<Mapping>>,
    report: &mut InputReport,
) -> Result<FileSource, (&'static str, String)> {
    let opts = FileSourceOptions { batch_rows: ctx.settings.batch_rows, max_line_bytes: ctx.settings.max_line_bytes };
    let reading = ctx.settings.reading(source);
    let dialect = match reading.dialect(mapping.as_deref()) {
        Ok(d) => d,
        Err(e) => return Err(("mapping.conflict", format!("{}: {e}", source.path.display()))),
    };
    let dialect_named_sheet = dialect.sheet.is_some();
    let kept = dialect.clone();
    let file = match FileSource::open_with(&source.path, source.format, source.feed, opts, dialect, mapping.clone()) {
        Ok(f) => f,
        Err(e) => return Err((e.rule_code(), e.to_string())),
    };
    // Fail closed: records on a sheet the run would not read are refused with the workbook,
    // not left behind while the first sheet is staged.
    if !dialect_named_sheet && !file.unread_sheets().is_empty() {
        let continuing = tellonce_connectors::file_source::sheets_continuing(
            &source.path,
            source.format,
            source.feed,
            (&kept, mapping),
            file.unread_sheets(),
        );
        if !continuing.is_empty() {
            let message = tellonce_connectors::file_source::continued_message(&continuing);
            return Err(("sheet.continued", format!("{}: {message}", source.path.display())));
        }
    }
    report.columns_absent = file.absent_columns().to_vec();
    report.sheets_unread = file.unread_sheets().to_vec();
    for a in file.absent_columns() {
        warn!(
            column = a.column,
            heading = %a.headings.join(" / "),
            "the file has no column under the heading the mapping names: the column is empty in every record; \
             if the partner renamed it, add the new heading to the mapping"
        );
    }
    if !file.unread_sheets().is_empty() {
        warn!(
            sheets = %file.unread_sheets().join(", "),
            "only the workbook's first sheet shown is read; if another sheet holds records too, list the \
             workbook once per sheet, each entry naming its sheet (sheet = \"…\")"
        );
    }
    if reading != Reading::default() {
        report.read_as = Some(ReadAs {
            mapping: reading.mapping.as_ref().map(|m| m.display().to_string()),
            encoding: file.sheet().is_none().then(|| file.encoding().as_str()),
            delimiter: file.delimiter().map(|d| if d == b'\t' { "tab".to_owned() } else { char::from(d).to_string() }),
            // The sheet read, as every message names it (a name that may be a person's, by its place).
            sheet: file.sheet().filter(|_| dialect_named_sheet).map(str::to_owned),
            mapping_sha256: None,
        });
    }
    Ok(file)
}

/// Whether the input marked done by `marker` was read under a mapping other than the one whose
/// content is `now`. Only a mapping the marker records counts: a marker with none (an input read
/// without a mapping, a withdrawals file, or a marker from a release that did not record it)
/// or one that cannot be read counts as unchanged, and the input is skipped as before.
fn mapping_changed(marker: &Path, now: Option<&str>) -> bool {
    let Ok(text) = std::fs::read(marker) else { return false };
    let Ok(record) = serde_json::from_slice::<tellonce_connectors::manifest::InputRecord>(&text) else {
        return false;
    };
    record.mapping_sha256.is_some_and(|was| Some(was.as_str()) != now)
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
pub(crate) fn unpublish(ctx: &Context<'_>, paths: &[PathBuf]) {
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
                    reason: tellonce_governance::audit::reasons::DeleteReason::Unrecorded
                        .because("its audit entry could not be written"),
                    agreement: None,
                });
            }
            Err(e) => warn!(file = %rel, error = %e, "cannot remove a file whose audit entry could not be written"),
        }
    }
}

/// An input that stopped the run, with what it had done (files it published, if any), so that
/// the run's manifest can still list them.
pub(crate) struct Failed {
    pub(crate) report: InputReport,
    pub(crate) error: RunError,
}

pub(crate) use tellonce_connectors::file_source::file_state;
