//! The outcome datasets' parts: `theme_events/` (each staged event that evidences a headline
//! need, with its person and family), then `persons/`, `families/` and `aggregates/` for the
//! reporting period. Each part carries the retention date of the staging it was derived from.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use tellonce_connectors::parquet_sink::{PartOptions, PartWriter, StagedPart};
use tellonce_output::layout::{
    AGGREGATES, EPISODES, FAMILIES, FAMILY_OUTCOMES, OUTCOME_CLAIMS, PERSONS, RE_REFERRALS, THEME_EVENTS,
};
use tellonce_schemas::identifiers::dates;

use super::plan::Plan;
use super::units::Units;
use super::{BuildInput, OutcomesReport};
use crate::link::LinkError;
use crate::link::family::Families;
use crate::link::ids::Reconciled;
use crate::outcomes::episodes;
use crate::outcomes::events::{self, Gathered, Partitions};
use crate::outcomes::family_outcomes;
use crate::outcomes::localities::Localities;
use crate::outcomes::persons::{self, Needs, People};
use crate::outcomes::profile::Profiles;
use crate::outcomes::re_referrals::{self, ReturnsReport};
use crate::outcomes::themes::Mapping;
use crate::outcomes::{aggregates, families};

/// Rows per record batch written.
const CHUNK: usize = 65_536;

/// A staged part with its dataset and retention date.
pub(super) type DatedPart = (&'static str, Option<String>, StagedPart);

/// What the outcome datasets of a build hold, staged.
#[derive(Default)]
pub(super) struct OutcomeParts {
    /// The staged parts.
    pub(super) parts: Vec<DatedPart>,
    /// `theme_events/` rows by headline.
    pub(super) theme_events: BTreeMap<String, u64>,
    /// Indicators not evaluated for a feed, and the withheld column they need.
    pub(super) indicators_not_evaluated: Vec<String>,
    /// What the datasets hold.
    pub(super) report: Option<OutcomesReport>,
}

/// The people of a build: each unit's person and family, and their ids.
pub(super) struct Linked<'a> {
    /// The units.
    pub(super) units: &'a Units,
    /// Person and family ids.
    pub(super) ids: (&'a Reconciled, &'a Reconciled),
    /// How many persons.
    pub(super) persons: u32,
    /// Each person's family.
    pub(super) families: &'a Families,
}

/// When the first staging file of each feed read falls due: what is derived from it goes no
/// later.
pub(super) fn staging_due(input: &BuildInput<'_>, plan: &Plan) -> BTreeMap<&'static str, i32> {
    let mut due: BTreeMap<&'static str, i32> = BTreeMap::new();
    for f in &plan.files {
        let rel = f.path.strip_prefix(input.out).unwrap_or(&f.path).display().to_string();
        if let Some(d) = plan.held.get(&rel).and_then(|h| h.retention_until) {
            let e = due.entry(f.feed).or_insert(d);
            *e = (*e).min(d);
        }
    }
    due
}

/// Stages every outcome dataset of the build, named `name`.
pub(super) fn stage(
    input: &BuildInput<'_>,
    mapping: &Mapping,
    plan: &Plan,
    linked: &Linked<'_>,
    rows: usize,
    staging_due: &BTreeMap<&'static str, i32>,
    name: &str,
) -> Result<OutcomeParts, LinkError> {
    let units = linked.units;
    let person_of = |i: usize| {
        let u = units.of_row.get(i).copied().unwrap_or(0) as usize;
        (units.person.get(u).copied().unwrap_or(0), units.family.get(u).copied().unwrap_or(0))
    };
    let period = &input.outcomes.period;
    let mut profiles = Profiles::new(linked.persons as usize);
    let mut gathered = Gathered::default();
    let (events, missing) =
        events::collect(mapping, &plan.files, &person_of, rows, period, &mut profiles, &mut gathered)?;
    let Gathered { marks, levels } = gathered;
    let mut staged = OutcomeParts::default();
    for (k, column) in &missing {
        if let Some(ind) = mapping.indicators.get(*k) {
            staged
                .indicators_not_evaluated
                .push(format!("{}.{} ({}): {column} withheld", ind.headline, ind.code, ind.feed.name));
        }
    }
    theme_event_parts(input, mapping, &events, linked, staging_due, name, &mut staged)?;
    let needs = Needs::from_events(&events, mapping, period, linked.persons as usize)?;
    let reference = period.to.or(profiles.last_event).unwrap_or(input.today);
    let undated = marks.undated;
    for (service, column) in &marks.withheld {
        staged.indicators_not_evaluated.push(format!("episodes {service}: {column} withheld"));
    }
    let episode_rows = marks.episodes();
    let episode_ids = episodes::ids(&episode_rows, &mapping.episodes, &linked.ids.0.ids);
    let names = family_outcomes::Names {
        episodes: &episode_rows,
        episode_ids: &episode_ids,
        sources: &mapping.episodes,
        person_ids: &linked.ids.0.ids,
        family_ids: &linked.ids.1.ids,
    };
    episode_part(input, &names, staging_due, name, &mut staged.parts)?;
    for (k, column) in &levels.withheld {
        if let Some(r) = mapping.outcome_rules.get(*k) {
            staged.indicators_not_evaluated.push(format!("outcome rule {}: {column} withheld", r.headline));
        }
    }
    // How far the evidence of a need runs: for a rule over readings, its latest reading where
    // every file of its feed had the columns (a feed's other records may run ahead of its
    // readings); otherwise the latest event held of the feeds whose indicators of it were
    // evaluated in this build (none: no feed of the build can show it).
    let data_end = |h: &str| {
        let readings_rule = mapping.outcome_rules.iter().position(|r| r.headline == h && r.readings().is_some());
        if let Some(k) = readings_rule {
            let withheld = levels.withheld.iter().any(|(r, _)| *r == k);
            return if withheld { None } else { levels.latest.get(&k).copied() };
        }
        let evaluated = |k: usize| !missing.iter().any(|(m, _)| *m == k);
        mapping
            .indicators
            .iter()
            .enumerate()
            .filter(|(k, i)| i.headline == h && evaluated(*k))
            .filter_map(|(_, i)| profiles.data_end.get(i.feed.name).copied())
            .max()
    };
    let outcomes = family_outcomes::needs_and_outcomes(&episode_rows, &events, mapping, &levels, &data_end);
    let localities = input.outcomes.localities.as_deref().map(Localities::load).transpose()?;
    let people = People {
        mapping,
        profiles: &profiles,
        person_ids: &linked.ids.0.ids,
        family_ids: &linked.ids.1.ids,
        family_of: &linked.families.family,
        needs: &needs,
        reference,
        localities: localities.as_ref(),
    };
    // Every dataset below mixes the feeds of the build: it goes when the first of their
    // agreements says so.
    let due = staging_due.values().min().map(|d| dates::format(*d));
    outcome_part(input, &names, &outcomes, due.clone(), name, &mut staged.parts)?;
    let returns = returns_part(input, &names, &outcomes, &profiles.data_end, due.clone(), name, &mut staged.parts)?;
    let mut report = people_parts(input, &people, &events, due, name, &mut staged.parts)?;
    for o in &outcomes {
        *report.family_outcomes.entry(o.status.name()).or_default() += 1;
    }
    report.episodes = episode_rows.len() as u64;
    report.episodes_open = episode_rows.iter().filter(|e| e.status == episodes::Status::Open).count() as u64;
    report.episode_records_undated = undated;
    report.re_referrals = returns;
    staged.report = Some(report);
    Ok(staged)
}

/// Stages `episodes/`, one part, due with the first staging file of the feeds it is read from.
fn episode_part(
    input: &BuildInput<'_>,
    names: &family_outcomes::Names<'_>,
    staging_due: &BTreeMap<&'static str, i32>,
    name: &str,
    parts: &mut Vec<DatedPart>,
) -> Result<(), LinkError> {
    let mut w = PartWriter::create(input.out, EPISODES, &[], name, episodes::schema(), &input.part_options)?;
    for (rows, ids) in names.episodes.chunks(CHUNK).zip(names.episode_ids.chunks(CHUNK)) {
        w.write(&episodes::batch(rows, ids, names.sources, names.person_ids, names.family_ids)?)?;
    }
    let due = names.sources.iter().filter_map(|e| staging_due.get(e.feed.name)).min().map(|d| dates::format(*d));
    parts.push((EPISODES, due, w.finish()?));
    Ok(())
}

/// Stages `family_outcomes/` and `outcome_claims/`, one part each: they mix the feeds of the
/// build, so they are due with the first of them.
fn outcome_part(
    input: &BuildInput<'_>,
    names: &family_outcomes::Names<'_>,
    rows: &[family_outcomes::NeedOutcome],
    due: Option<String>,
    name: &str,
    parts: &mut Vec<DatedPart>,
) -> Result<(), LinkError> {
    let opts = &input.part_options;
    let mut w = PartWriter::create(input.out, FAMILY_OUTCOMES, &[], name, family_outcomes::schema(), opts)?;
    for piece in rows.chunks(CHUNK) {
        w.write(&family_outcomes::batch(piece, names)?)?;
    }
    parts.push((FAMILY_OUTCOMES, due.clone(), w.finish()?));
    let mut w = PartWriter::create(input.out, OUTCOME_CLAIMS, &[], name, family_outcomes::claims_schema(), opts)?;
    // One batch: an episode's rows must not be split between two.
    w.write(&family_outcomes::claims_batch(rows, names)?)?;
    parts.push((OUTCOME_CLAIMS, due, w.finish()?));
    Ok(())
}

/// Stages `re_referrals/`, one part: it reads the outcome claims, so it is due with them.
fn returns_part(
    input: &BuildInput<'_>,
    names: &family_outcomes::Names<'_>,
    outcomes: &[family_outcomes::NeedOutcome],
    data_end: &BTreeMap<&'static str, i32>,
    due: Option<String>,
    name: &str,
    parts: &mut Vec<DatedPart>,
) -> Result<ReturnsReport, LinkError> {
    let mut successful: HashMap<usize, bool> = HashMap::new();
    for o in outcomes {
        let met = o.status == family_outcomes::Status::MetAndSustained;
        *successful.entry(o.episode).or_insert(true) &= met;
    }
    let levels: Vec<u8> = names.sources.iter().map(|s| s.level).collect();
    let step_up: Vec<Vec<String>> = names.sources.iter().map(|s| s.step_up.clone()).collect();
    // A return could come from any source: the data is followed as far as all of them run.
    let ends: Vec<Option<i32>> = names.sources.iter().map(|s| data_end.get(s.feed.name).copied()).collect();
    let followed_until = if ends.iter().all(Option::is_some) { ends.into_iter().flatten().min() } else { None };
    let rows = re_referrals::follow(names.episodes, &levels, &step_up, &successful, followed_until);
    let mut w = PartWriter::create(input.out, RE_REFERRALS, &[], name, re_referrals::schema(), &input.part_options)?;
    for piece in rows.chunks(CHUNK) {
        w.write(&re_referrals::batch(piece, names, &levels, followed_until)?)?;
    }
    parts.push((RE_REFERRALS, due, w.finish()?));
    Ok(ReturnsReport::of(&rows))
}

/// Stages `theme_events/`, one part per headline and month.
fn theme_event_parts(
    input: &BuildInput<'_>,
    mapping: &Mapping,
    events: &Partitions,
    linked: &Linked<'_>,
    staging_due: &BTreeMap<&'static str, i32>,
    name: &str,
    staged: &mut OutcomeParts,
) -> Result<(), LinkError> {
    for ((headline, month), rows) in events {
        *staged.theme_events.entry(headline.clone()).or_default() += rows.len() as u64;
        let mut w = PartWriter::create(
            input.out,
            THEME_EVENTS,
            &[("headline", headline), ("month", month)],
            name,
            events::schema(),
            &input.part_options,
        )?;
        for piece in rows.chunks(CHUNK) {
            w.write(&events::batch(piece, mapping, &linked.ids.0.ids, &linked.ids.1.ids)?)?;
        }
        // The earliest retention of the staging files whose events the part holds.
        let feeds: BTreeSet<&str> = rows.iter().map(|r| r.feed).collect();
        let due = feeds.iter().filter_map(|f| staging_due.get(f)).min().map(|d| dates::format(*d));
        staged.parts.push((THEME_EVENTS, due, w.finish()?));
    }
    Ok(())
}

/// Stages `persons/`, `families/` and `aggregates/` for the reporting period, all due on `due`.
fn people_parts(
    input: &BuildInput<'_>,
    people: &People<'_>,
    events: &Partitions,
    due: Option<String>,
    name: &str,
    parts: &mut Vec<DatedPart>,
) -> Result<OutcomesReport, LinkError> {
    let period = &input.outcomes.period;
    let in_period = people.persons();
    let family_rows = families::rows(people, &in_period, &input.outcomes.eligibility);
    let policy = &input.outcomes.disclosure;
    let mut published = vec![aggregates::district_headline_month(events, people.mapping, period, policy)?];
    let (by_area, linked, unlisted) = aggregates::by_latest_area(people, &in_period, policy)?;
    published.extend(by_area);
    let mut opts = input.part_options.clone();
    opts.metadata.extend([
        (tellonce_schemas::metadata::PERIOD_FROM.to_owned(), period.from_iso()),
        (tellonce_schemas::metadata::PERIOD_TO.to_owned(), period.to_iso()),
        (tellonce_schemas::metadata::REFERENCE_DATE.to_owned(), dates::format(people.reference)),
    ]);
    let mut w = PartWriter::create(input.out, PERSONS, &[], name, persons::schema(), &opts)?;
    for piece in in_period.chunks(CHUNK) {
        w.write(&people.persons_batch(piece)?)?;
    }
    parts.push((PERSONS, due.clone(), w.finish()?));
    let eligibility = input.outcomes.eligibility.to_string();
    let mut family_opts = opts.clone();
    family_opts.metadata.push((tellonce_schemas::metadata::ELIGIBILITY.to_owned(), eligibility.clone()));
    let mut w = PartWriter::create(input.out, FAMILIES, &[], name, families::schema(), &family_opts)?;
    for piece in family_rows.chunks(CHUNK) {
        w.write(&families::batch(people, piece)?)?;
    }
    parts.push((FAMILIES, due.clone(), w.finish()?));
    let aggregate_opts = aggregate_options(&opts, policy);
    let mut tables = BTreeMap::new();
    for p in &published {
        let mut w = PartWriter::create(
            input.out,
            AGGREGATES,
            &[("table", p.name)],
            name,
            aggregates::schema(),
            &aggregate_opts,
        )?;
        w.write(&aggregates::batch(p)?)?;
        parts.push((AGGREGATES, due.clone(), w.finish()?));
        tables.insert(p.name, p.report());
    }
    let needs = people.needs;
    Ok(OutcomesReport {
        period_from: period.from_iso(),
        period_to: period.to_iso(),
        reference_date: dates::format(people.reference),
        persons: in_period.len() as u64,
        persons_with_need: in_period.iter().filter(|&&p| needs.headlines.get(p).is_some_and(|b| *b != 0)).count()
            as u64,
        families: family_rows.len() as u64,
        eligible_families: family_rows.iter().filter(|f| f.eligible).count() as u64,
        eligibility,
        aggregates: tables,
        episodes: 0,
        episodes_open: 0,
        episode_records_undated: 0,
        family_outcomes: BTreeMap::new(),
        re_referrals: ReturnsReport::default(),
        linked_suppressions: linked,
        persons_in_unlisted_small_areas: unlisted,
    })
}

/// The aggregates' part options: the disclosure policy, in words, in every file's metadata.
fn aggregate_options(opts: &PartOptions, policy: &crate::outcomes::disclosure::Policy) -> PartOptions {
    let mut aggregate_opts = opts.clone();
    aggregate_opts.metadata.push((
        tellonce_schemas::metadata::DISCLOSURE.to_owned(),
        format!(
            "counts 1 to {} suppressed, with secondary suppression; the rest rounded to the nearest {}; \
             suppressed cells marked {}",
            policy.threshold.saturating_sub(1),
            policy.rounding_base,
            crate::outcomes::disclosure::SUPPRESSED_MARK
        ),
    ));
    aggregate_opts
}
