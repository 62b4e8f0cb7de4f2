//! `tellonce records reinstate`: lifting withdrawals found to be mistaken.
//!
//! A withdrawal stands for good so that a partner's next extract cannot quietly bring a record
//! back; when the withdrawal itself was the mistake (a truncated export confirmed with
//! `--allow-mass-withdrawal`, a partner's withdrawal sent in error), an operator lifts it here,
//! with a reason kept in the audit log. The record is not put back: the partner sends it again,
//! and it is staged as new. An erasure is never lifted.

use std::path::Path;

use serde::Serialize;
use tellonce_governance::KeyRing;
use tellonce_governance::audit::{AuditLog, Event};
use tellonce_output::layout::AUDIT;
use tellonce_output::lock::{Access, lock_output};

use super::RecordsError;
use super::key::RecordKey;
use super::tombstones::{self, Reinstate, Reinstated};
use crate::run::RunError;

/// What a reinstatement did (or, in a dry run, would do).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReinstateReport {
    /// The feed.
    pub feed: String,
    /// The counts.
    #[serde(flatten)]
    pub counts: Reinstated,
    /// Whether nothing was changed.
    pub dry_run: bool,
}

/// How the references of `feed` given in clear are keyed under the agreement in force (the
/// feed as a source or topic of `settings` names it): they are tokenised where the agreement
/// shares only the token, as tombstones then hold it.
pub fn record_key(settings: &crate::config::Settings, keys: &KeyRing, feed: &str) -> Result<RecordKey, RunError> {
    let schema = settings
        .sources
        .iter()
        .map(|s| s.feed)
        .chain(settings.stream.iter().flat_map(|st| st.topics.iter().map(|t| t.feed)))
        .find(|f| f.name == feed)
        .ok_or_else(|| RecordsError::InputNamed {
            message: format!("no source or topic of the config is of feed {feed}"),
        })?;
    let today = tellonce_schemas::identifiers::dates::today();
    let agreements = crate::session::load_agreements(&settings.agreements_dir, today)?.into_set();
    match tellonce_governance::agreement::policy::decide(&agreements, schema, today, today) {
        tellonce_governance::agreement::policy::Decision::Process(policy) => {
            Ok(RecordKey::under(schema, &policy, keys.tokeniser(tellonce_governance::Purpose::Linkage)))
        }
        _ => Err(RecordsError::InputNamed {
            message: format!(
                "no agreement in force governs feed {feed}: the references given cannot be keyed as its tombstones hold them"
            ),
        }
        .into()),
    }
}

/// The id of the input of `feed` that `named` names: an input id as given (or as a tombstone
/// names it), or the path of one input the audit log's comparisons record. A path several
/// inputs came from (a fixed path delivered again each month) is refused with their ids and
/// arrival times, to choose from.
fn input_id(out: &Path, feed: &str, named: &str) -> Result<String, RunError> {
    let entries = tellonce_governance::audit::read_entries(&out.join(AUDIT))?;
    let mut by_path: Vec<(String, String)> = Vec::new();
    for e in &entries {
        let Event::RecordsCompared { feed: f, input, started_at, .. } = &e.event else { continue };
        let Some(id) = e.event.compared_input_id().filter(|_| f == feed).map(str::to_owned) else { continue };
        if id == named {
            return Ok(id);
        }
        if input == named && !by_path.iter().any(|(i, _)| *i == id) {
            by_path.push((id, started_at.clone().unwrap_or_else(|| e.at.clone())));
        }
    }
    match by_path.len() {
        // A session stopped after laying its tombstones and before logging its comparison.
        0 if tombstones::withdrawn_by(out, feed)?.contains(named) => Ok(named.to_owned()),
        0 => Err(RecordsError::InputNamed {
            message: format!("the audit log names no input of {feed} {named:?} (give an input's path or id)"),
        }
        .into()),
        1 => Ok(by_path.remove(0).0),
        _ => {
            let listed: Vec<String> = by_path.iter().map(|(id, at)| format!("{id} (arrived {at})")).collect();
            Err(RecordsError::InputNamed {
                message: format!(
                    "{named:?} is the path of {} inputs of {feed}: give the id of the one whose withdrawals to lift: {}",
                    by_path.len(),
                    listed.join(", ")
                ),
            }
            .into())
        }
    }
}

/// Lifts `feed`'s withdrawals that `which` selects, for `reason`, under the output to itself (no
/// run, stream session or build beside it), recorded in the audit log when any is lifted.
pub fn reinstate(
    out: &Path,
    keys: &KeyRing,
    feed: &str,
    which: &Reinstate,
    reason: &str,
    dry_run: bool,
) -> Result<ReinstateReport, RunError> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(RunError::Unattributed("--reason"));
    }
    let _lock = lock_output(out, Access::Exclusive)?;
    let mut log = AuditLog::open(&out.join(AUDIT), keys.audit_signer())?;
    // A dry run changes nothing, not even what an interrupted session left behind.
    if !dry_run {
        tellonce_output::strays::clear_and_record(out, Access::Exclusive, &mut log)?;
    }
    let resolved;
    let which = match which {
        Reinstate::WithdrawnBy(named) => {
            resolved = Reinstate::WithdrawnBy(input_id(out, feed, named)?);
            &resolved
        }
        Reinstate::Records(_) => which,
    };
    let at = tellonce_output::timefmt::now_rfc3339();
    // Counted first and recorded before the tombstones change: a crash in between leaves the
    // withdrawals standing under an entry that says they were lifted, and the command run again
    // lifts them, rather than lifting them with nothing in the log.
    let counts = tombstones::reinstate(out, feed, which, &at, true)?;
    if !dry_run && counts.reinstated > 0 {
        log.append(&Event::RecordsReinstated {
            run: crate::run::new_run_id(),
            feed: feed.to_owned(),
            withdrawn_by: match which {
                Reinstate::WithdrawnBy(input) => Some(input.clone()),
                Reinstate::Records(_) => None,
            },
            reinstated: counts.reinstated,
            erased: counts.erased,
            not_withdrawn: counts.not_withdrawn,
            reason: reason.to_owned(),
        })?;
        log.sync()?;
        tombstones::reinstate(out, feed, which, &at, false)?;
    }
    Ok(ReinstateReport { feed: feed.to_owned(), counts, dry_run })
}
