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
    tellonce_output::strays::clear_and_record(out, Access::Exclusive, &mut log)?;
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
