//! The build tier started from ingest: inside a file run (after its inputs), or alone as
//! `tellonce build`, and the undoing of a failed build's unrecorded files.

use std::path::Path;

use tellonce_connectors::hashing::sha256_file;
use tellonce_connectors::parquet_sink::PartOptions;
use tellonce_governance::KeyRing;
use tellonce_governance::audit::{self, AuditLog, Event};
use tellonce_schemas::identifiers::dates;
use tracing::warn;

use crate::config::Settings;
use tellonce_governance::audit::holdings::held_files;
use tellonce_output::layout::{AUDIT, relative};
use tellonce_output::lock::{Access, lock_output};
use tellonce_output::unrecorded::remove_if_present;

use super::*;
use crate::session::audit_agreements;
use crate::session::load_agreements;
use crate::session::part_options;

/// Runs a linkage build inside a run, under its lock and audit log.
pub(crate) fn link_build(ctx: &Context<'_>, run_id: &str) -> Result<tellonce_build::link::BuildReport, RunError> {
    let themes = themes(ctx.settings)?;
    let frozen = frozen_model(ctx.settings)?;
    let decisions = decisions(ctx.settings)?;
    let mut log = ctx.audit.lock().map_err(|_| RunError::Internal("audit log lock poisoned".to_owned()))?;
    let input = tellonce_build::link::BuildInput {
        out: &ctx.settings.output_dir,
        keys: &ctx.keys,
        agreements: &ctx.agreements,
        today: dates::today(),
        run_id,
        options: ctx.settings.linkage,
        frozen: frozen.as_ref(),
        decisions: decisions.as_ref(),
        part_options: PartOptions { replace_existing: false, ..ctx.part_options.clone() },
        themes: Some(&themes),
        outcomes: ctx.settings.outcomes.clone(),
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
pub(crate) fn unpublish_build(out: &Path, log: &mut AuditLog) {
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
                    reason: tellonce_governance::audit::reasons::DeleteReason::Unrecorded
                        .because("its audit entry could not be written"),
                    agreement: None,
                });
            }
        }
    }
}

/// The frozen model the settings name (`[linkage] model`), read and checked, if one is set.
fn frozen_model(settings: &Settings) -> Result<Option<tellonce_build::link::frozen::FrozenModel>, RunError> {
    let load = tellonce_build::link::frozen::FrozenModel::load;
    Ok(settings.linkage_model.as_deref().map(load).transpose()?)
}

/// The officers' decisions the settings name (`[linkage] decisions`), read and checked, if set.
fn decisions(settings: &Settings) -> Result<Option<tellonce_build::link::decisions::Decisions>, RunError> {
    let load = tellonce_build::link::decisions::Decisions::load;
    Ok(settings.linkage_decisions.as_deref().map(load).transpose()?)
}

/// The theme mapping the settings name, or the embedded one.
pub fn themes(settings: &Settings) -> Result<tellonce_build::outcomes::themes::Mapping, RunError> {
    Ok(match &settings.themes_file {
        Some(path) => tellonce_build::outcomes::themes::Mapping::load(path)?,
        None => tellonce_build::outcomes::themes::Mapping::embedded()?,
    })
}

/// `tellonce build`: links everything staged so far, without ingesting. Returns the run id and
/// the build's report.
pub fn build(settings: &Settings) -> Result<(String, tellonce_build::link::BuildReport), RunError> {
    let run_id = new_run_id();
    let keys = KeyRing::load(&settings.key_file)?;
    let themes = themes(settings)?;
    let frozen = frozen_model(settings)?;
    let decisions = decisions(settings)?;
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
    tellonce_output::strays::clear_and_record(out, Access::Build, &mut audit)?;
    let part_options = part_options(settings, &keys);
    let input = tellonce_build::link::BuildInput {
        out,
        keys: &keys,
        agreements: &agreements,
        today,
        run_id: &run_id,
        options: settings.linkage,
        frozen: frozen.as_ref(),
        decisions: decisions.as_ref(),
        part_options,
        themes: Some(&themes),
        outcomes: settings.outcomes.clone(),
    };
    let result = tellonce_build::link::build(&input, &mut audit);
    if result.is_err() {
        unpublish_build(out, &mut audit);
    }
    audit.append(&Event::RunFinished {
        run: run_id.clone(),
        status: tellonce_governance::audit::reasons::RunStatus::of(result.is_ok()).to_string(),
        received: 0,
        written: 0,
        quarantined: 0,
        held: 0,
    })?;
    audit.sync()?;
    Ok((run_id, result?))
}
