//! Publishing a build: its staged parts renamed into place, each recorded in the audit log as it
//! is published; the last build's files it replaces deleted and recorded; its id changes
//! recorded. And the other way: files of an interrupted build, published but never recorded,
//! taken out.

use std::collections::BTreeMap;
use std::path::Path;

use tellonce_connectors::parquet_sink::{CommittedFile, StagedPart};
use tellonce_governance::agreement::policy::Policy;
use tellonce_governance::audit::holdings::HeldFile;
use tellonce_governance::audit::{AuditLog, Event};
use tellonce_output::commit::{self, Provenance};
use tellonce_output::layout::{ARRIVALS, ID_HISTORY, LINKS, REPLACED_BY_EACH_BUILD, relative};
use tellonce_output::unrecorded::remove_unrecorded_file;
use tellonce_schemas::identifiers::dates;
use tracing::warn;

use super::outcome_parts::DatedPart;
use super::plan::Plan;
use crate::link::LinkError;
use crate::link::ids::Change;

/// Publishes a staged part and records it: its dataset, the feed and policy it was shared under
/// (if it holds one feed's records), its retention date.
fn publish_one(
    log: &mut AuditLog,
    part: StagedPart,
    dataset: &str,
    feed: Option<&str>,
    policy: Option<&Policy>,
    due: Option<String>,
) -> Result<CommittedFile, LinkError> {
    let agreement = policy.map(|p| p.agreement.to_string());
    let provenance = Provenance { dataset, feed, agreement: agreement.as_deref(), retention_until: due.as_deref() };
    let (file, recorded) = commit::publish(part, provenance)?;
    log.append(&recorded)?;
    Ok(file)
}

/// The parts a build publishes.
pub(super) struct BuildParts {
    /// The outcome datasets', with their retention dates.
    pub(super) outcomes: Vec<DatedPart>,
    /// `links/`, one per feed.
    pub(super) links: Vec<super::parts::FeedPart>,
    /// `id_history/`, if ids changed.
    pub(super) history: Option<StagedPart>,
    /// `arrivals/`.
    pub(super) arrivals: StagedPart,
}

/// Publishes every part of the build, outcome datasets first, then `links/`, `id_history/` and
/// `arrivals/`, and returns the files written.
pub(super) fn publish(
    log: &mut AuditLog,
    plan: &Plan,
    staging_due: &BTreeMap<&'static str, i32>,
    parts: BuildParts,
) -> Result<Vec<CommittedFile>, LinkError> {
    let BuildParts { outcomes: outcome_parts, links, history, arrivals } = parts;
    let mut written = Vec::new();
    for (dataset, due, part) in outcome_parts {
        written.push(publish_one(log, part, dataset, None, None, due)?);
    }
    for (feed_name, part) in links {
        let policy = plan.policies.get(feed_name);
        let due = staging_due.get(feed_name).map(|d| dates::format(*d));
        written.push(publish_one(log, part, LINKS, Some(feed_name), policy, due)?);
    }
    if let Some(part) = history {
        written.push(publish_one(log, part, ID_HISTORY, None, None, None)?);
    }
    written.push(publish_one(log, arrivals, ARRIVALS, None, None, None)?);
    Ok(written)
}

/// Deletes the last build's files of the datasets each build replaces, except those this
/// build wrote under the same name, and records each deletion.
pub(super) fn delete_replaced(
    out: &Path,
    held: &BTreeMap<String, HeldFile>,
    written: &[CommittedFile],
    log: &mut AuditLog,
) -> Result<(), LinkError> {
    for f in held.values().filter(|f| REPLACED_BY_EACH_BUILD.contains(&f.dataset.as_str())) {
        if written.iter().any(|w| w.path == f.path) {
            continue;
        }
        let path = f.on_disk(out);
        match std::fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => return Err(LinkError::Output { path, source }),
        }
        log.append(&Event::FileDeleted {
            path: f.path.clone(),
            sha256: f.sha256.clone(),
            reason: tellonce_governance::audit::reasons::DeleteReason::Replaced.to_string(),
            agreement: f.agreement.clone(),
        })?;
    }
    Ok(())
}

/// Records each id change of the build (merges, splits, retirements).
pub(super) fn record_changes(changes: &[(&'static str, Change)], log: &mut AuditLog) -> Result<(), LinkError> {
    for (kind, c) in changes {
        log.append(&Event::IdentityChanged {
            kind: (*kind).to_owned(),
            change: c.kind.as_str().to_owned(),
            from: c.from.clone(),
            to: c.to.clone(),
            reasons: c.reasons.iter().map(|r| (*r).to_owned()).collect(),
        })?;
    }
    Ok(())
}

/// Removes files of the datasets each build rewrites that the audit log does not record: a build
/// stopped between publishing its parts and recording them. Left in place they would sit beside
/// the next build's files and be counted twice by readers.
pub(super) fn remove_unrecorded(
    out: &Path,
    held: &BTreeMap<String, HeldFile>,
    log: &mut AuditLog,
) -> Result<(), LinkError> {
    let mut found = Vec::new();
    for dataset in REPLACED_BY_EACH_BUILD {
        let mut stack = vec![out.join(dataset)];
        while let Some(dir) = stack.pop() {
            let Ok(entries) = std::fs::read_dir(&dir) else { continue };
            for e in entries.flatten() {
                let path = e.path();
                let hidden = e.file_name().to_string_lossy().starts_with('.');
                if path.is_dir() {
                    stack.push(path);
                } else if !hidden && path.extension().is_some_and(|x| x == "parquet") {
                    found.push(path);
                }
            }
        }
    }
    for path in found {
        let rel = relative(out, &path);
        if held.contains_key(&rel) {
            continue;
        }
        let reason = &tellonce_governance::audit::reasons::DeleteReason::Unrecorded
            .because("written by an interrupted build before its audit entry");
        let deleted = remove_unrecorded_file(out, &path, reason)
            .map_err(|source| LinkError::Output { path: path.clone(), source })?;
        warn!(file = %rel, "removed a build output the audit log does not record (an interrupted build)");
        log.append(&deleted)?;
    }
    Ok(())
}
