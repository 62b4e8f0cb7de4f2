//! One linkage build: staging in; persons, families, stable ids, `links/`, `id_history/` and the
//! outcome datasets out. [`build`] runs the stages in order: [`plan`] (what to read, or nothing
//! if up to date), read and cluster, [`units`] (stable ids), [`parts`] and [`outcome_parts`]
//! (staged, not yet visible), then [`publish`] with their audit entries, and only once those are
//! durable the identity index and the stamp.

mod outcome_parts;
mod parts;
mod plan;
mod publish;
mod reading;
mod units;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

use serde::Serialize;
use tellonce_connectors::parquet_sink::{CommittedFile, PartOptions};
use tellonce_governance::KeyRing;
use tellonce_governance::agreement::AgreementSet;
use tellonce_governance::audit::{AuditLog, Event};
use tellonce_output::faults;
use tracing::info;

use super::LinkError;
use super::cluster::{self, MatchStats, Options};
use super::family;
use super::ids::{self, ChangeKind};
use super::index::{self, Entry};
use super::input::{self};
use super::rates::{self, MatchRates};
use super::score::ScoreStats;
use crate::outcomes::aggregates::{self};
use crate::outcomes::settings::OutcomeSettings;

/// The datasets each build rewrites whole; the previous build's files are deleted once the new
/// ones are published.
pub use tellonce_output::layout::REPLACED_BY_EACH_BUILD;

/// What a build needs from its caller.
pub struct BuildInput<'a> {
    /// The output root.
    pub out: &'a Path,
    /// The keys (the linkage key mints ids).
    pub keys: &'a KeyRing,
    /// The agreements loaded for this run.
    pub agreements: &'a AgreementSet,
    /// The processing date (days since 1970-01-01).
    pub today: i32,
    /// The run's id, which names the files this build writes.
    pub run_id: &'a str,
    /// Matcher settings.
    pub options: Options,
    /// The frozen model to score with (`[linkage] model`), if one is set.
    pub frozen: Option<&'a super::frozen::FrozenModel>,
    /// Officers' decisions to honour (`[linkage] decisions`), if a file is set.
    pub decisions: Option<&'a super::decisions::Decisions>,
    /// How Parquet parts are written.
    pub part_options: PartOptions,
    /// The theme mapping for `theme_events/` (none: no outcome datasets).
    pub themes: Option<&'a crate::outcomes::themes::Mapping>,
    /// The reporting period, eligibility rule and disclosure policy of the outcome datasets.
    pub outcomes: OutcomeSettings,
}

/// Changes of ids, by kind.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ChangeCounts {
    /// Merges.
    pub merges: u64,
    /// Splits.
    pub splits: u64,
    /// Retirements.
    pub retired: u64,
}

/// What one build did.
#[derive(Debug, Clone, Serialize)]
pub struct BuildReport {
    /// Staging rows read.
    pub rows: u64,
    /// Distinct partner records (feed and record reference).
    pub records: u64,
    /// Persons.
    pub persons: u64,
    /// Families.
    pub families: u64,
    /// Records with too little to match.
    pub low_evidence: u64,
    /// Records with a conflicting strong identifier.
    pub conflicts: u64,
    /// Person id changes against the last build.
    pub person_changes: ChangeCounts,
    /// Family id changes against the last build.
    pub family_changes: ChangeCounts,
    /// Merges made and refused, by rule; Bloom comparisons.
    #[serde(skip)]
    pub stats: MatchStats,
    /// Merges by rule.
    pub merges_by_rule: BTreeMap<&'static str, u64>,
    /// Merges refused by the veto, by rule.
    pub refused_by_rule: BTreeMap<&'static str, u64>,
    /// What the scoring pass did: candidate pairs by blocking rule, blocks over the cap, pairs
    /// scored, above the threshold and vetoed.
    pub scoring: ScoreStats,
    /// Match rates by feed, district and IMD decile.
    pub rates: MatchRates,
    /// Feeds not linked, and why.
    pub feeds_not_linked: Vec<String>,
    /// Household keys ignored as communal addresses.
    pub communal_household_keys: u64,
    /// Persons by records held (`1`, `2`, ..., `20+`): where a wrong merge would show first.
    pub person_sizes: BTreeMap<&'static str, u64>,
    /// Files written.
    pub files: Vec<CommittedFile>,
    /// Milliseconds spent reading, matching, grouping families, reconciling ids and writing.
    pub timings_ms: BTreeMap<&'static str, u64>,
    /// True when nothing changed since the last build, so nothing was rebuilt (the counts
    /// above are then zero: see the last build's report or `links/`).
    pub up_to_date: bool,
    /// `theme_events/` rows by headline.
    pub theme_events: BTreeMap<String, u64>,
    /// Indicators that could not be evaluated for a feed, and the withheld column they need.
    pub indicators_not_evaluated: Vec<String>,
    /// What `persons/`, `families/` and `aggregates/` hold (none: no outcome datasets).
    pub outcomes: Option<OutcomesReport>,
    /// The officers' decisions honoured, and what the build made of them (none: no file set,
    /// or nothing rebuilt).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decisions: Option<tellonce_governance::audit::LinkageDecisions>,
}

/// What the outcome datasets of a build hold.
#[derive(Debug, Clone, Serialize)]
pub struct OutcomesReport {
    /// First day of the period (empty: unbounded).
    pub period_from: String,
    /// Last day of the period (empty: unbounded).
    pub period_to: String,
    /// The date ages are taken at: the end of the period, or the latest event held.
    pub reference_date: String,
    /// Rows of `persons/`.
    pub persons: u64,
    /// Persons with a need under at least one headline.
    pub persons_with_need: u64,
    /// Rows of `families/`.
    pub families: u64,
    /// Families meeting the eligibility rule.
    pub eligible_families: u64,
    /// The eligibility rule, in words.
    pub eligibility: String,
    /// Published tables, by table set.
    pub aggregates: BTreeMap<&'static str, aggregates::TableReport>,
    /// Rows of `episodes/`.
    pub episodes: u64,
    /// Of them, episodes still open.
    pub episodes_open: u64,
    /// Records that open or close an episode but carry no event date: not placed, counted.
    pub episode_records_undated: u64,
    /// Rows of `family_outcomes/` (needs at an episode's start) by outcome status.
    pub family_outcomes: BTreeMap<&'static str, u64>,
    /// What `re_referrals/` holds.
    pub re_referrals: crate::outcomes::re_referrals::ReturnsReport,
    /// What protecting the tables by latest area together added.
    pub linked_suppressions: crate::outcomes::linked::LinkedReport,
    /// Persons with a need whose latest small area the localities lookup does not list (counted
    /// under unknown in `locality_headline`).
    pub persons_in_unlisted_small_areas: u64,
}

impl BuildReport {
    fn up_to_date(feeds_not_linked: Vec<String>) -> BuildReport {
        BuildReport {
            rows: 0,
            records: 0,
            persons: 0,
            families: 0,
            low_evidence: 0,
            conflicts: 0,
            person_changes: ChangeCounts::default(),
            family_changes: ChangeCounts::default(),
            stats: MatchStats::default(),
            merges_by_rule: BTreeMap::new(),
            refused_by_rule: BTreeMap::new(),
            scoring: ScoreStats::default(),
            rates: MatchRates::default(),
            feeds_not_linked,
            communal_household_keys: 0,
            person_sizes: BTreeMap::new(),
            files: Vec::new(),
            timings_ms: BTreeMap::new(),
            up_to_date: true,
            theme_events: BTreeMap::new(),
            indicators_not_evaluated: Vec::new(),
            outcomes: None,
            decisions: None,
        }
    }
}

/// Times the stages of a build.
struct Laps {
    clock: Instant,
    timings: BTreeMap<&'static str, u64>,
}

impl Laps {
    fn new() -> Laps {
        Laps { clock: Instant::now(), timings: BTreeMap::new() }
    }

    /// Ends the stage `name` and starts the next.
    fn lap(&mut self, name: &'static str) {
        self.timings.insert(name, self.clock.elapsed().as_millis() as u64);
        self.clock = Instant::now();
    }
}

/// The model a build scored with, as the audit log and `state/link/model.json` keep it.
fn model_record(input: &BuildInput<'_>, scoring: &ScoreStats) -> Option<tellonce_governance::audit::LinkageModel> {
    scoring.model.as_ref().map(|m| {
        let mut record = m.record(crate::link::score::MATCHER_VERSION, scoring.threshold);
        record.estimated_precision = scoring.estimate.as_ref().map(|e| e.precision);
        record.estimated_recall = scoring.estimate.as_ref().map(|e| e.recall);
        record.households = Some(scoring.households.record());
        record.frozen = input.frozen.map(|f| f.from.clone());
        record.vetoes = Some(crate::link::cluster::VETO_VERSION.to_owned());
        record
    })
}

/// The staging files a build would read now, for feeds with an agreement in force `today`.
pub fn staging_files(
    out: &Path,
    agreements: &tellonce_governance::agreement::AgreementSet,
    today: i32,
) -> Result<Vec<crate::link::input::StagingFile>, LinkError> {
    plan::staging_files(out, agreements, today)
}

/// Runs one build. The caller holds the output lock and has opened the audit log.
pub fn build(input: &BuildInput<'_>, log: &mut AuditLog) -> Result<BuildReport, LinkError> {
    let mut laps = Laps::new();
    let plan = match plan::plan(input, log)? {
        plan::Planned::UpToDate(feeds_not_linked) => return Ok(BuildReport::up_to_date(feeds_not_linked)),
        plan::Planned::Build(plan) => plan,
    };
    let mut plan = plan;
    // Held until the build is written: its passes over staging read the same content.
    let _held = reading::Held::hold(input.out, &mut plan.files)?;
    let recs = input::read(&plan.files)?;
    laps.lap("read");
    let decided = input.decisions.map(|d| d.resolve(&recs)).unwrap_or_default();
    let persons = cluster::persons_deciding(&recs, &input.options, input.frozen.map(|f| &f.model), &decided);
    laps.lap("match");
    let fams = family::families(&recs, &persons.person, persons.count);
    laps.lap("families");
    let (units, by_ref) = units::Units::of(&recs, &persons.person, &fams.family);
    let (person_ids, family_ids) = units::stable_ids(input, &recs, &units, &by_ref, persons.count, fams.count)?;
    drop(by_ref);
    laps.lap("ids");

    let has_key = recs.has_key();
    let low: Vec<bool> = units.first_row.iter().map(|&r| recs.low_evidence(&has_key, r as usize)).collect();
    let rates = rates::rates(&recs, &units.first_row, &persons.person, persons.count, &low);
    let name = format!("part-{}.parquet", input.run_id);
    let ids = (&person_ids, &family_ids);
    let (links, conflicts) = parts::links(input, &plan, &recs, &persons, &units, ids, &low, &name)?;
    let mut changes: Vec<(&'static str, ids::Change)> = Vec::new();
    changes.extend(person_ids.changes.iter().cloned().map(|c| ("person", c)));
    changes.extend(family_ids.changes.iter().cloned().map(|c| ("family", c)));
    let history = parts::history(input, &changes, &name)?;
    let staging_due = outcome_parts::staging_due(input, &plan);
    let outcomes = match input.themes {
        Some(mapping) => {
            let linked = outcome_parts::Linked { units: &units, ids, persons: persons.count, families: &fams };
            outcome_parts::stage(input, mapping, &plan, &linked, recs.len(), &staging_due, &name)?
        }
        None => outcome_parts::OutcomeParts::default(),
    };
    laps.lap("outcomes");

    let arrivals = parts::arrivals(input, &plan, &name)?;
    let to_publish = publish::BuildParts { outcomes: outcomes.parts, links, history, arrivals };
    let written = publish::publish(log, &plan, &staging_due, to_publish)?;
    publish::delete_replaced(input.out, &plan.held, &written, log)?;
    publish::record_changes(&changes, log)?;
    let count = |cs: &[ids::Change]| ChangeCounts {
        merges: cs.iter().filter(|c| c.kind == ChangeKind::Merge).count() as u64,
        splits: cs.iter().filter(|c| c.kind == ChangeKind::Split).count() as u64,
        retired: cs.iter().filter(|c| c.kind == ChangeKind::Retired).count() as u64,
    };
    let report = BuildReport {
        rows: recs.len() as u64,
        records: units.len() as u64,
        persons: u64::from(persons.count),
        families: u64::from(fams.count),
        low_evidence: low.iter().filter(|l| **l).count() as u64,
        conflicts,
        person_changes: count(&person_ids.changes),
        family_changes: count(&family_ids.changes),
        merges_by_rule: persons.stats.merges_by_rule.clone(),
        refused_by_rule: persons.stats.refused_by_rule.clone(),
        scoring: persons.stats.scoring.clone(),
        stats: persons.stats.clone(),
        rates,
        feeds_not_linked: plan.feeds_not_linked.clone(),
        communal_household_keys: fams.communal_keys,
        person_sizes: crate::link::quality::person_sizes(&persons.person, persons.count),
        files: written,
        timings_ms: BTreeMap::new(),
        up_to_date: false,
        theme_events: outcomes.theme_events,
        indicators_not_evaluated: outcomes.indicators_not_evaluated,
        outcomes: outcomes.report,
        decisions: input.decisions.map(|d| d.record(&persons.stats.decisions)),
    };
    let scoring = &persons.stats.scoring;
    let model = model_record(input, scoring);
    log.append(&Event::LinkageBuilt {
        run: input.run_id.to_owned(),
        records: report.records,
        persons: report.persons,
        families: report.families,
        low_evidence: report.low_evidence,
        conflicts: report.conflicts,
        person_changes: person_ids.changes.len() as u64,
        family_changes: family_ids.changes.len() as u64,
        feeds_not_linked: plan.feeds_not_linked.clone(),
        model: model.clone(),
        decisions: report.decisions.clone().map(Box::new),
    })?;
    log.sync()?;
    faults::reached(faults::COMMIT_RECORDED);
    // Only now, with outputs and audit entries durable, does the index move on.
    index::save(
        input.out,
        units.first_row.iter().enumerate().map(|(u, &r)| Entry {
            feed: recs.feed_name(r as usize),
            record_ref: &recs.record_ref[r as usize],
            person_id: &person_ids.ids[units.person[u] as usize],
            family_id: &family_ids.ids[units.family[u] as usize],
        }),
    )?;
    if let Some(model) = &model {
        crate::link::model_file::write(input.out, model, &scoring.review)?;
    }
    let stamp = input.out.join(index::BUILT_FROM_PATH);
    tellonce_connectors::atomic::write_atomic(&stamp, plan.fingerprint.as_bytes())
        .map_err(|source| LinkError::Output { path: stamp.clone(), source })?;
    crate::link::change_reasons::save_history_seen(input.out)?;
    laps.lap("write");
    info!(records = report.records, persons = report.persons, families = report.families, "linkage built");
    Ok(BuildReport { timings_ms: laps.timings, ..report })
}
