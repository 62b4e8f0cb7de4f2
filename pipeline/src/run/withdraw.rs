//! A withdrawals input (`mode = "withdrawals"`): the records a partner lists leave staging for
//! history (`_change = withdrawn`), and a tombstone stands for each, held or not yet, so that a
//! later extract cannot bring one back.

use std::collections::HashSet;

use tellonce_connectors::mapping::Mapping;
use tellonce_governance::audit::holdings::held_files;
use tellonce_output::layout::AUDIT;

use super::*;
use crate::config::Source;
use crate::records::compare::{Comparison, Counts};
use crate::records::held::{HeldRecords, LoadOptions};
use crate::records::history::{Supersession, WITHDRAWN, supersede};
use crate::records::key::RecordKey;
use crate::records::scope::Scope;
use crate::records::tombstones::{self, Tombstones};
use crate::records::{RecordsError, withdrawals};

/// Why a withdrawals input was not applied.
pub(crate) enum WithdrawFailure {
    /// The file cannot be read as a withdrawals file: the rule broken and the message.
    Reject(&'static str, String),
    /// The output failed.
    Run(RunError),
}

impl From<RunError> for WithdrawFailure {
    fn from(e: RunError) -> Self {
        WithdrawFailure::Run(e)
    }
}

impl From<RecordsError> for WithdrawFailure {
    fn from(e: RecordsError) -> Self {
        WithdrawFailure::Run(e.into())
    }
}

/// Applies the withdrawals file of `source`, filling in `report`. A reference listed twice, or
/// already tombstoned (withdrawn or erased before), changes nothing and is counted as such.
pub(crate) fn apply(
    ctx: &Context<'_>,
    source: &Source,
    policy: &crate::stages::govern::Policy,
    before: (u64, std::time::SystemTime),
    report: &mut InputReport,
) -> Result<(), WithdrawFailure> {
    let feed = source.feed;
    let mapping = match ctx.settings.reading(source).mapping.as_deref().map(|m| Mapping::load(m, feed)).transpose() {
        Ok(m) => m,
        Err(e) => return Err(WithdrawFailure::Reject(e.rule_code(), e.to_string())),
    };
    let mut listed = withdrawals::read(&source.path, feed, mapping.as_ref())
        .map_err(|e| WithdrawFailure::Reject(e.rule_code(), e.to_string()))?;
    // Known from here on as staging knows them (the token, where only that is shared).
    let key = RecordKey::under(feed, policy, ctx.keys.tokeniser(tellonce_governance::Purpose::Linkage));
    for w in &mut listed {
        w.record_id = key.of(&w.record_id).into_owned();
    }
    // An upload in progress could end in a cut reference, which would withdraw the wrong record.
    if super::input::file_state(&source.path) != Some(before) {
        let message =
            format!("{} changed while it was being read; try again once it is complete", source.path.display());
        return Err(WithdrawFailure::Reject("file.changed", message));
    }
    let out = &ctx.settings.output_dir;
    let dir = out.join(AUDIT);
    let entries = tellonce_governance::audit::read_entries(&dir)
        .map_err(|e| RecordsError::Read { path: dir.clone(), message: e.to_string() })?;
    let scope = Scope::of(listed.iter().map(|w| w.record_id.as_str()));
    let how = LoadOptions {
        updated: feed.updated,
        scope: Some(&scope),
        key_column: Some(key.column()),
        ..LoadOptions::default()
    };
    let held = HeldRecords::load(out, &entries, feed.name, how)?;
    let tombstones = Tombstones::load(out, feed.name)?;
    let mut counts = Counts::default();
    // A reference of digits names the record held under other leading zeros, as an extract's does.
    if matches!(key, RecordKey::Clear) {
        let sends = |id: &str| scope.names_exactly(id);
        for w in &mut listed {
            if let Some(form) = crate::records::zeros::held_form(&held, &tombstones, &sends, &w.record_id) {
                w.record_id = form;
                counts.zeros_matched += 1;
            }
        }
    }
    let (mut seen, mut ids, mut moves) = (HashSet::new(), Vec::new(), Vec::new());
    for w in listed.iter() {
        if !seen.insert(w.record_id.as_str()) {
            counts.unchanged += 1;
        } else if tombstones.contains(&w.record_id) {
            counts.refused += 1;
            // Tombstoned by a run that stopped before the move: the move is finished now.
            moves.extend(held.versions_of(&w.record_id).into_iter().map(|l| (l, WITHDRAWN)));
        } else {
            counts.withdrawn += 1;
            moves.extend(held.versions_of(&w.record_id).into_iter().map(|l| (l, WITHDRAWN)));
            ids.push(w.record_id.clone());
        }
    }
    // Every reference withdrawn now was listed by the file.
    counts.listed = counts.withdrawn;
    // Tombstones first, so that a crash before the move still keeps the records withdrawn.
    let at = tellonce_output::timefmt::now_rfc3339();
    let stem = report.sha256.get(..16).unwrap_or(&report.sha256).to_owned();
    tombstones::lay(out, feed.name, &ids, WITHDRAWN, &at, Some(&stem))?;
    let by = Supersession { feed: feed.name, by: &report.source, stem: &stem, run: &ctx.run_id, at: &at };
    let mut record = |e: &tellonce_governance::audit::Event| ctx.audit(e);
    let mut sync = || ctx.audit_sync();
    let holdings = held_files(&entries);
    let superseded = supersede::<RunError>(out, &holdings, moves, by, &ctx.part_options, &mut record, &mut sync)?;
    ctx.audit(&Comparison::event(counts, &by, &report.sha256, superseded))?;
    report::record_counts(report, listed.len() as u64, 0, 0, Default::default());
    report.versions = Some(Versions { counts, superseded, withdrawal_held_back: false, withdrawals_file: true });
    Ok(())
}
