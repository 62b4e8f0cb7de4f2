//! The link datasets' parts: `links/` (one part per feed: each record's person and family, the
//! rule that linked it and any conflict) and `id_history/` (how ids changed since the last build).
//! Parts are staged, not yet visible: the build publishes everything together.

use tellonce_connectors::parquet_sink::{PartWriter, StagedPart};
use tellonce_output::layout::{ARRIVALS, ID_HISTORY, LINKS};

use super::BuildInput;
use super::plan::Plan;
use super::units::Units;
use crate::link::LinkError;
use crate::link::cluster::Persons;
use crate::link::ids::{Change, Reconciled};
use crate::link::output::{self, LinkRow};
use crate::link::records::Records;
use crate::link::rules::Rule;

/// Rows per record batch written.
const CHUNK: usize = 65_536;

/// A feed's staged part.
pub(super) type FeedPart = (&'static str, StagedPart);

/// Stages one `links/` part per feed, named `name`; returns them by feed with the number of
/// records that conflict with another on a strong identifier.
#[allow(clippy::too_many_arguments)]
pub(super) fn links(
    input: &BuildInput<'_>,
    plan: &Plan,
    recs: &Records,
    persons: &Persons,
    units: &Units,
    ids: (&Reconciled, &Reconciled),
    low: &[bool],
    name: &str,
) -> Result<(Vec<FeedPart>, u64), LinkError> {
    let (person_ids, family_ids) = ids;
    let mut staged = Vec::new();
    let mut conflicts = 0u64;
    let mut order: Vec<usize> = (0..units.len()).collect();
    order.sort_by_key(|&u| recs.feed_name(units.first_row[u] as usize));
    let feed_of = |u: usize| recs.feed[units.first_row[u] as usize];
    for chunk in order.chunk_by(|&a, &b| feed_of(a) == feed_of(b)) {
        let feed_name = recs.feed_name(units.first_row[chunk[0]] as usize);
        let mut opts = input.part_options.clone();
        opts.metadata.push((tellonce_schemas::metadata::FEED.to_owned(), feed_name.to_owned()));
        if let Some(p) = plan.policies.get(feed_name) {
            opts.metadata.push((tellonce_schemas::metadata::AGREEMENT.to_owned(), p.agreement.to_string()));
        }
        let mut writer =
            PartWriter::create(input.out, LINKS, &[("feed", feed_name)], name, output::links_schema(), &opts)?;
        for piece in chunk.chunks(CHUNK) {
            let rows: Vec<LinkRow<'_>> = piece
                .iter()
                .map(|&u| {
                    let r = units.first_row[u] as usize;
                    let rule = persons.rule[r];
                    let conflict = persons.conflict[r].map(|(rule, veto)| {
                        format!("shares its {} with a record that has {}", rule.name(), veto.describe())
                    });
                    conflicts += u64::from(conflict.is_some());
                    LinkRow {
                        record_ref: &recs.record_ref[r],
                        person_id: &person_ids.ids[units.person[u] as usize],
                        family_id: &family_ids.ids[units.family[u] as usize],
                        rule: rule.map_or("none", |r| r.name()),
                        weight: persons.score[r]
                            .filter(|_| matches!(rule, Some(Rule::Scored | Rule::CoResident)))
                            .or(rule.map(|r| r.weight() as f32)),
                        low_evidence: low[u],
                        conflict,
                    }
                })
                .collect();
            writer.write(&output::links_batch(&rows)?)?;
        }
        staged.push((feed_name, writer.finish()?));
    }
    Ok((staged, conflicts))
}

/// Stages the `id_history/` part of this build's id changes, if there are any.
pub(super) fn history(
    input: &BuildInput<'_>,
    changes: &[(&'static str, Change)],
    name: &str,
) -> Result<Option<StagedPart>, LinkError> {
    if changes.is_empty() {
        return Ok(None);
    }
    let mut w = PartWriter::create(input.out, ID_HISTORY, &[], name, output::history_schema(), &input.part_options)?;
    w.write(&output::history_batch(
        changes,
        input.run_id,
        &tellonce_schemas::identifiers::dates::format(input.today),
    )?)?;
    Ok(Some(w.finish()?))
}

/// Stages the `arrivals/` part: when each input the audit log records arrived.
pub(super) fn arrivals(input: &BuildInput<'_>, plan: &Plan, name: &str) -> Result<StagedPart, LinkError> {
    let mut w = PartWriter::create(input.out, ARRIVALS, &[], name, crate::arrivals::schema(), &input.part_options)?;
    let batch = crate::arrivals::batch(&plan.arrivals).map_err(|e| LinkError::Internal(e.to_string()))?;
    w.write(&batch)?;
    Ok(w.finish()?)
}
