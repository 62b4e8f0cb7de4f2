//! One linkage build: staging in; persons, families, stable ids, `links/` and `id_history/` out.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::Instant;

use serde::Serialize;
use tellonce_connectors::parquet_sink::{CommittedFile, PartOptions, PartWriter, StagedPart};
use tellonce_governance::agreement::AgreementSet;
use tellonce_governance::audit::{self, AuditLog, Event};
use tellonce_governance::{KeyRing, Purpose};
use tellonce_schemas::feed;
use tellonce_schemas::identifiers::dates;
use tracing::{info, warn};

use super::LinkError;
use super::cluster::{self, MatchStats, Options};
use super::family;
use super::ids::{self, ChangeKind};
use super::index::{self, Entry};
use super::input::{self, StagingFile};
use super::output::{self, ID_HISTORY, LINKS, LinkRow};
use super::rates::{self, MatchRates};
use super::records::NONE;
use super::rules::Rule;
use super::score::ScoreStats;
use crate::outcomes::aggregates::{self, AGGREGATES};
use crate::outcomes::events;
use crate::outcomes::families::{self, FAMILIES};
use crate::outcomes::persons::{self, Needs, PERSONS, People};
use crate::outcomes::profile::Profiles;
use crate::outcomes::settings::OutcomeSettings;
use tellonce_governance::agreement::policy::{self as govern, Decision, Policy};
use tellonce_governance::audit::holdings::held_files;

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
            files: Vec::new(),
            timings_ms: BTreeMap::new(),
            up_to_date: true,
            theme_events: BTreeMap::new(),
            indicators_not_evaluated: Vec::new(),
            outcomes: None,
        }
    }
}

/// Runs one build. The caller holds the output lock and has opened the audit log.
pub fn build(input: &BuildInput<'_>, log: &mut AuditLog) -> Result<BuildReport, LinkError> {
    let out = input.out;
    let mut timings = BTreeMap::new();
    let mut clock = Instant::now();
    let mut lap = |name: &'static str, timings: &mut BTreeMap<&'static str, u64>| {
        timings.insert(name, clock.elapsed().as_millis() as u64);
        clock = Instant::now();
    };

    // The staging files the audit log holds, for feeds with an agreement in force today.
    let entries = audit::read_entries(&out.join(tellonce_output::layout::AUDIT))?;
    let held = held_files(&entries);
    // A stream session may be between publishing a batch and recording it as committed: such a
    // batch is not staged yet (it may be removed and written again with other boundaries).
    let streamed = tellonce_governance::audit::stream_progress::Progress::from_entries(&entries);
    drop(entries);
    let mut files = Vec::new();
    let mut policies: BTreeMap<&'static str, Policy> = BTreeMap::new();
    let mut not_linked = BTreeMap::new();
    for f in held.values().filter(|f| f.dataset == tellonce_output::layout::STAGING) {
        let name = f.path.rsplit('/').next().unwrap_or(&f.path);
        if let Some(batch) = tellonce_governance::audit::stream_progress::parse(name)
            && !streamed.is_committed(&batch)
        {
            continue;
        }
        let Some(schema) = f.feed.as_deref().and_then(feed::latest) else { continue };
        if !policies.contains_key(schema.name) && !not_linked.contains_key(schema.name) {
            match govern::decide(input.agreements, schema, input.today, input.today) {
                Decision::Process(p) => {
                    policies.insert(schema.name, p);
                }
                Decision::Hold { rule, .. } => {
                    not_linked.insert(schema.name, rule);
                }
            }
        }
        if policies.contains_key(schema.name) {
            files.push(StagingFile { feed: schema.name, path: f.on_disk(out) });
        }
    }
    let feeds_not_linked: Vec<String> = not_linked.iter().map(|(f, r)| format!("{f}: {r}")).collect();
    for f in &feeds_not_linked {
        warn!("staging of {f}: not linked");
    }
    files.sort_by(|a, b| (a.feed, &a.path).cmp(&(b.feed, &b.path)));
    // What this build would be made from: if it is what the last build was made from, the
    // outputs are up to date and nothing is rewritten.
    let fingerprint = {
        // The matcher's version too: a build by a binary that links differently is not up to date.
        let mut material = format!("{}\n{:?}\n", super::score::MATCHER_VERSION, input.options);
        for f in &files {
            let rel = f.path.strip_prefix(out).unwrap_or(&f.path).display().to_string();
            let sha = held.get(&rel).map_or("", |h| h.sha256.as_str());
            material.push_str(&format!("{} {rel} {sha}\n", f.feed));
        }
        for (feed, p) in &policies {
            material.push_str(&format!("{feed} {}\n", p.agreement));
        }
        material.push_str(&format!("{}\n", feeds_not_linked.join(",")));
        if let Some(m) = input.themes {
            material.push_str(&format!("{m:?}\n{:?}\n", input.outcomes));
        }
        let mut hasher = tellonce_connectors::hashing::HashingWriter::new(std::io::sink());
        std::io::Write::write_all(&mut hasher, material.as_bytes())
            .map_err(|source| LinkError::Output { path: out.to_owned(), source })?;
        hasher.finish().1
    };
    let stamp = out.join(index::BUILT_FROM_PATH);
    // Before the up-to-date check: an interrupted build did not move the stamp on.
    remove_unrecorded(out, &held, log)?;
    let links_held = held.values().any(|f| f.dataset == LINKS);
    if files.is_empty() && !links_held {
        // Nothing staged and nothing linked before: nothing to write.
        return Ok(BuildReport::up_to_date(feeds_not_linked));
    }
    if links_held && std::fs::read_to_string(&stamp).is_ok_and(|s| s.trim() == fingerprint) {
        info!("linkage up to date: no staging file or agreement changed since the last build");
        return Ok(BuildReport::up_to_date(feeds_not_linked));
    }
    let recs = input::read(&files)?;
    lap("read", &mut timings);

    let persons = cluster::persons(&recs, &input.options);
    lap("match", &mut timings);
    let fams = family::families(&recs, &persons.person, persons.count);
    lap("families", &mut timings);

    // One unit per distinct partner record: its first row stands for it.
    let mut seen = std::collections::HashMap::with_capacity(recs.len());
    let mut units: Vec<u32> = Vec::with_capacity(recs.len());
    let mut unit_of_record: Vec<u32> = Vec::with_capacity(recs.len());
    for i in 0..recs.len() {
        let next = units.len() as u32;
        let u = *seen.entry((recs.feed[i], recs.record_ref[i].as_str())).or_insert(next);
        if u == next {
            units.push(i as u32);
        }
        unit_of_record.push(u);
    }
    drop(seen);
    let index = index::load(out)?;
    let (mut old_person, mut old_family) = (Vec::with_capacity(units.len()), Vec::with_capacity(units.len()));
    let mut key = (String::new(), String::new());
    for &r in &units {
        key.0.clear();
        key.0.push_str(recs.feed_name(r as usize));
        key.1.clear();
        key.1.push_str(&recs.record_ref[r as usize]);
        let (p, f) = index.by_record.get(&key).copied().unwrap_or((NONE, NONE));
        old_person.push(p);
        old_family.push(f);
    }
    let unit_person: Vec<u32> = units.iter().map(|&r| persons.person[r as usize]).collect();
    let unit_family: Vec<u32> = unit_person.iter().map(|&p| fams.family[p as usize]).collect();
    let tokeniser = input.keys.tokeniser(Purpose::Linkage);
    let first_unit = |cluster: &[u32], count: u32| {
        let mut first = vec![NONE; count as usize];
        for (u, &c) in cluster.iter().enumerate() {
            if first[c as usize] == NONE {
                first[c as usize] = units[u];
            }
        }
        first
    };
    let mint = |prefix: &'static str, firsts: &[u32]| {
        let recs = &recs;
        let tokeniser = &tokeniser;
        let firsts = firsts.to_vec();
        move |c: u32, attempt: u32| {
            let r = firsts.get(c as usize).copied().unwrap_or(0) as usize;
            let material = format!("{}\u{1f}{}\u{1f}{attempt}", recs.feed_name(r), recs.record_ref[r]);
            let t = tokeniser.token(if prefix == "P" { "person_id" } else { "family_id" }, material.as_bytes());
            let mut id = String::with_capacity(17);
            id.push_str(prefix);
            for b in &t[..8] {
                id.push_str(&format!("{b:02x}"));
            }
            id
        }
    };
    let person_first = first_unit(&unit_person, persons.count);
    let family_first = first_unit(&unit_family, fams.count);
    let person_ids =
        ids::reconcile(&unit_person, persons.count, &old_person, &index.person_ids, &mint("P", &person_first));
    let family_ids =
        ids::reconcile(&unit_family, fams.count, &old_family, &index.family_ids, &mint("F", &family_first));
    drop(index);
    lap("ids", &mut timings);

    let has_key = recs.has_key();
    let low: Vec<bool> = units.iter().map(|&r| recs.low_evidence(&has_key, r as usize)).collect();
    let rates = rates::rates(&recs, &units, &persons.person, persons.count, &low);

    // links/: one part per feed, published together once all are written.
    let mut staged: Vec<(&'static str, StagedPart)> = Vec::new();
    let name = format!("part-{}.parquet", input.run_id);
    let mut conflicts = 0u64;
    let mut order: Vec<usize> = (0..units.len()).collect();
    order.sort_by_key(|&u| recs.feed_name(units[u] as usize));
    for chunk in order.chunk_by(|&a, &b| recs.feed[units[a] as usize] == recs.feed[units[b] as usize]) {
        let feed_name = recs.feed_name(units[chunk[0]] as usize);
        let mut opts = input.part_options.clone();
        opts.metadata.push(("tellonce.feed".to_owned(), feed_name.to_owned()));
        if let Some(p) = policies.get(feed_name) {
            opts.metadata.push(("tellonce.agreement".to_owned(), p.agreement.to_string()));
        }
        let mut writer = PartWriter::create(out, LINKS, &[("feed", feed_name)], &name, output::links_schema(), &opts)?;
        for piece in chunk.chunks(65_536) {
            let rows: Vec<LinkRow<'_>> = piece
                .iter()
                .map(|&u| {
                    let r = units[u] as usize;
                    let rule = persons.rule[r];
                    let conflict = persons.conflict[r].map(|(rule, veto)| {
                        format!("shares its {} with a record that has {}", rule.name(), veto.describe())
                    });
                    conflicts += u64::from(conflict.is_some());
                    LinkRow {
                        record_ref: &recs.record_ref[r],
                        person_id: &person_ids.ids[unit_person[u] as usize],
                        family_id: &family_ids.ids[unit_family[u] as usize],
                        rule: rule.map_or("none", |r| r.name()),
                        weight: persons.score[r]
                            .filter(|_| rule == Some(Rule::Scored))
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
    let mut changes: Vec<(&'static str, ids::Change)> = Vec::new();
    changes.extend(person_ids.changes.iter().cloned().map(|c| ("person", c)));
    changes.extend(family_ids.changes.iter().cloned().map(|c| ("family", c)));
    let history = if changes.is_empty() {
        None
    } else {
        let mut w = PartWriter::create(out, ID_HISTORY, &[], &name, output::history_schema(), &input.part_options)?;
        w.write(&output::history_batch(
            &changes,
            input.run_id,
            &tellonce_schemas::identifiers::dates::format(input.today),
        )?)?;
        Some(w.finish()?)
    };

    // When the first staging file of each feed read falls due: what is derived from it goes no
    // later.
    let mut staging_due: BTreeMap<&str, i32> = BTreeMap::new();
    for f in &files {
        let rel = f.path.strip_prefix(out).unwrap_or(&f.path).display().to_string();
        if let Some(d) = held.get(&rel).and_then(|h| h.retention_until) {
            let e = staging_due.entry(f.feed).or_insert(d);
            *e = (*e).min(d);
        }
    }
    // theme_events/: each staged event that evidences a headline need, with its person and
    // family; then persons/, families/ and aggregates/ for the reporting period.
    let mut theme_events: BTreeMap<String, u64> = BTreeMap::new();
    let mut indicators_not_evaluated = Vec::new();
    let mut outcome_parts: Vec<(&'static str, Option<String>, StagedPart)> = Vec::new();
    let mut outcomes_report = None;
    if let Some(mapping) = input.themes {
        let person_of = |i: usize| {
            let u = unit_of_record.get(i).copied().unwrap_or(0) as usize;
            (unit_person.get(u).copied().unwrap_or(0), unit_family.get(u).copied().unwrap_or(0))
        };
        let period = &input.outcomes.period;
        let mut profiles = Profiles::new(persons.count as usize);
        let (parts, missing) = events::collect(mapping, &files, &person_of, recs.len(), period, &mut profiles)?;
        for (k, column) in missing {
            if let Some(ind) = mapping.indicators.get(k) {
                indicators_not_evaluated
                    .push(format!("{}.{} ({}): {column} withheld", ind.headline, ind.code, ind.feed.name));
            }
        }
        for ((headline, month), rows) in &parts {
            *theme_events.entry(headline.clone()).or_default() += rows.len() as u64;
            let mut w = PartWriter::create(
                out,
                events::THEME_EVENTS,
                &[("headline", headline), ("month", month)],
                &name,
                events::schema(),
                &input.part_options,
            )?;
            for piece in rows.chunks(65_536) {
                w.write(&events::batch(piece, mapping, &person_ids.ids, &family_ids.ids)?)?;
            }
            // The earliest retention of the staging files whose events the part holds.
            let feeds: BTreeSet<&str> = rows.iter().map(|r| r.feed).collect();
            let due = feeds.iter().filter_map(|f| staging_due.get(f)).min().map(|d| dates::format(*d));
            outcome_parts.push((events::THEME_EVENTS, due, w.finish()?));
        }

        let needs = Needs::from_events(&parts, mapping, period, persons.count as usize)?;
        let reference = period.to.or(profiles.last_event).unwrap_or(input.today);
        let people = People {
            mapping,
            profiles: &profiles,
            person_ids: &person_ids.ids,
            family_ids: &family_ids.ids,
            family_of: &fams.family,
            needs: &needs,
            reference,
        };
        let in_period = people.persons();
        let family_rows = families::rows(&people, &in_period, &input.outcomes.eligibility);
        let policy = &input.outcomes.disclosure;
        let published = [
            aggregates::district_headline_month(&parts, mapping, period, policy)?,
            aggregates::imd_decile_headline(&people, &in_period, policy)?,
        ];
        // Every dataset below mixes the feeds of the build: it goes when the first of their
        // agreements says so.
        let due = staging_due.values().min().map(|d| dates::format(*d));
        let mut opts = input.part_options.clone();
        opts.metadata.extend([
            ("tellonce.period_from".to_owned(), period.from_iso()),
            ("tellonce.period_to".to_owned(), period.to_iso()),
            ("tellonce.reference_date".to_owned(), tellonce_schemas::identifiers::dates::format(reference)),
        ]);
        let mut w = PartWriter::create(out, PERSONS, &[], &name, persons::schema(), &opts)?;
        for piece in in_period.chunks(65_536) {
            w.write(&people.persons_batch(piece)?)?;
        }
        outcome_parts.push((PERSONS, due.clone(), w.finish()?));
        let eligibility = input.outcomes.eligibility.to_string();
        let mut family_opts = opts.clone();
        family_opts.metadata.push(("tellonce.eligibility".to_owned(), eligibility.clone()));
        let mut w = PartWriter::create(out, FAMILIES, &[], &name, families::schema(), &family_opts)?;
        for piece in family_rows.chunks(65_536) {
            w.write(&families::batch(&people, piece)?)?;
        }
        outcome_parts.push((FAMILIES, due.clone(), w.finish()?));
        let mut aggregate_opts = opts.clone();
        aggregate_opts.metadata.push((
            "tellonce.disclosure".to_owned(),
            format!(
                "counts 1 to {} suppressed, with secondary suppression; the rest rounded to the nearest {}; \
                 suppressed cells marked {}",
                policy.threshold.saturating_sub(1),
                policy.rounding_base,
                crate::outcomes::disclosure::SUPPRESSED_MARK
            ),
        ));
        let mut tables = BTreeMap::new();
        for p in &published {
            let mut w = PartWriter::create(
                out,
                AGGREGATES,
                &[("table", p.name)],
                &name,
                aggregates::schema(),
                &aggregate_opts,
            )?;
            w.write(&aggregates::batch(p)?)?;
            outcome_parts.push((AGGREGATES, due.clone(), w.finish()?));
            tables.insert(p.name, p.report());
        }
        outcomes_report = Some(OutcomesReport {
            period_from: period.from_iso(),
            period_to: period.to_iso(),
            reference_date: tellonce_schemas::identifiers::dates::format(reference),
            persons: in_period.len() as u64,
            persons_with_need: in_period.iter().filter(|&&p| needs.headlines.get(p).is_some_and(|b| *b != 0)).count()
                as u64,
            families: family_rows.len() as u64,
            eligible_families: family_rows.iter().filter(|f| f.eligible).count() as u64,
            eligibility,
            aggregates: tables,
        });
    }
    lap("outcomes", &mut timings);

    // Publishes a part and records it: (dataset, feed, policy of the feed, retention date).
    let mut written = Vec::new();
    let mut publish = |part: StagedPart,
                       dataset: &str,
                       feed: Option<&str>,
                       policy: Option<&Policy>,
                       due: Option<String>|
     -> Result<(), LinkError> {
        let file = part.publish()?;
        tellonce_output::faults::reached(tellonce_output::faults::COMMIT_PUBLISHED);
        log.append(&Event::FileWritten {
            dataset: dataset.to_owned(),
            path: file.path.clone(),
            sha256: file.sha256.clone(),
            rows: file.rows,
            bytes: file.bytes,
            feed: feed.map(str::to_owned),
            agreement: policy.map(|p| p.agreement.to_string()),
            retention_until: due,
        })?;
        written.push(file);
        Ok(())
    };
    for (dataset, due, part) in outcome_parts {
        publish(part, dataset, None, None, due)?;
    }
    for (feed_name, part) in staged {
        let policy = policies.get(feed_name);
        let due = staging_due.get(feed_name).map(|d| dates::format(*d));
        publish(part, LINKS, Some(feed_name), policy, due)?;
    }
    if let Some(part) = history {
        publish(part, ID_HISTORY, None, None, None)?;
    }
    // The last build's links and outcome datasets are replaced by this one's.
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
            reason: "replaced".to_owned(),
            agreement: f.agreement.clone(),
        })?;
    }
    for (kind, c) in &changes {
        log.append(&Event::IdentityChanged {
            kind: (*kind).to_owned(),
            change: c.kind.as_str().to_owned(),
            from: c.from.clone(),
            to: c.to.clone(),
        })?;
    }
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
        feeds_not_linked: feeds_not_linked.clone(),
        communal_household_keys: fams.communal_keys,
        files: written,
        timings_ms: BTreeMap::new(),
        up_to_date: false,
        theme_events,
        indicators_not_evaluated,
        outcomes: outcomes_report,
    };
    log.append(&Event::LinkageBuilt {
        run: input.run_id.to_owned(),
        records: report.records,
        persons: report.persons,
        families: report.families,
        low_evidence: report.low_evidence,
        conflicts: report.conflicts,
        person_changes: person_ids.changes.len() as u64,
        family_changes: family_ids.changes.len() as u64,
        feeds_not_linked,
    })?;
    log.sync()?;
    tellonce_output::faults::reached(tellonce_output::faults::COMMIT_RECORDED);
    // Only now, with outputs and audit entries durable, does the index move on.
    index::save(
        out,
        units.iter().enumerate().map(|(u, &r)| Entry {
            feed: recs.feed_name(r as usize),
            record_ref: &recs.record_ref[r as usize],
            person_id: &person_ids.ids[unit_person[u] as usize],
            family_id: &family_ids.ids[unit_family[u] as usize],
        }),
    )?;
    tellonce_connectors::atomic::write_atomic(&stamp, fingerprint.as_bytes())
        .map_err(|source| LinkError::Output { path: stamp.clone(), source })?;
    lap("write", &mut timings);
    info!(records = report.records, persons = report.persons, families = report.families, "linkage built");
    Ok(BuildReport { timings_ms: timings, ..report })
}

/// Removes files of the datasets each build rewrites that the audit log does not record: a build
/// stopped between publishing its parts and recording them. Left in place they would sit beside
/// the next build's files and be counted twice by readers.
fn remove_unrecorded(
    out: &Path,
    held: &BTreeMap<String, tellonce_governance::audit::holdings::HeldFile>,
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
        let rel = tellonce_output::layout::relative(out, &path);
        if held.contains_key(&rel) {
            continue;
        }
        let reason = "unrecorded: written by an interrupted build before its audit entry";
        let deleted = tellonce_output::unrecorded::remove_unrecorded_file(out, &path, reason)
            .map_err(|source| LinkError::Output { path: path.clone(), source })?;
        warn!(file = %rel, "removed a build output the audit log does not record (an interrupted build)");
        log.append(&deleted)?;
    }
    Ok(())
}
