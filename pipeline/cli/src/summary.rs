//! The end-of-run summary: per input and per feed, what was read, written and quarantined, and
//! why; as a table for people or as JSON for schedulers.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use crate::run::{InputStatus, RunReport};

/// Totals of one feed over a run.
#[derive(Debug, Default, Clone, Serialize, PartialEq)]
pub struct FeedTotals {
    /// Records read.
    pub read: u64,
    /// Records written to staging.
    pub written: u64,
    /// Records quarantined.
    pub quarantined: u64,
    /// Quarantined records by rule.
    pub quarantined_by_rule: BTreeMap<String, u64>,
    /// Records held already as they were: not staged again.
    pub unchanged: u64,
    /// Records refused: erased or withdrawn before (a tombstone stands for them).
    pub refused: u64,
    /// Records not staged because the version held came in a later input.
    pub older: u64,
    /// References an input listed and withdrew (a withdrawals file, rows an extract marks
    /// withdrawn): read, neither written nor held.
    pub listed_withdrawn: u64,
    /// Records staged as a newer version of one held (counted in `written`).
    pub changed: u64,
    /// Records withdrawn: absent from a snapshot, or listed.
    pub withdrawn: u64,
    /// Versions moved from staging to the history dataset (superseded or withdrawn).
    pub superseded: u64,
    /// Fields nulled in the records that passed validation (written, or held already): fields,
    /// not records, so outside `read = written + quarantined`.
    pub nulled: u64,
    /// Fields nulled by `column:rule`.
    pub nulled_by_rule: BTreeMap<String, u64>,
    /// Inputs processed, skipped and rejected.
    pub inputs_processed: u64,
    /// Inputs skipped because their content was processed before.
    pub inputs_skipped: u64,
    /// Inputs rejected whole.
    pub inputs_rejected: u64,
    /// Inputs held because no agreement in force governs the feed.
    pub inputs_held: u64,
    /// The agreements the feed's records were shared under.
    pub agreements: Vec<String>,
    /// Fields the agreement drops.
    pub fields_dropped: Vec<String>,
}

impl FeedTotals {
    /// Whether every record read was written, quarantined, held already or refused.
    pub fn reconciles(&self) -> bool {
        self.read
            == self.written + self.quarantined + self.unchanged + self.refused + self.older + self.listed_withdrawn
    }
}

/// Per-feed totals, in feed order of first appearance.
pub fn feed_totals(report: &RunReport) -> BTreeMap<&'static str, FeedTotals> {
    let mut totals: BTreeMap<&'static str, FeedTotals> = BTreeMap::new();
    for i in &report.inputs {
        let t = totals.entry(i.feed).or_default();
        t.read += i.read;
        t.written += i.written;
        t.quarantined += i.quarantined;
        for (rule, n) in &i.quarantined_by_rule {
            *t.quarantined_by_rule.entry(rule.clone()).or_default() += n;
        }
        if let Some(v) = &i.versions {
            t.unchanged += v.counts.unchanged;
            t.refused += v.counts.refused;
            t.older += v.counts.older;
            t.listed_withdrawn += v.counts.listed;
            t.changed += v.counts.changed;
            t.superseded += v.superseded;
            t.withdrawn += v.counts.withdrawn;
        }
        t.nulled += i.nulled;
        for (key, n) in &i.nulled_by_rule {
            *t.nulled_by_rule.entry(key.clone()).or_default() += n;
        }
        match i.status {
            InputStatus::Skipped => t.inputs_skipped += 1,
            InputStatus::Rejected => t.inputs_rejected += 1,
            InputStatus::Held => t.inputs_held += 1,
            InputStatus::Processed | InputStatus::Failed => t.inputs_processed += 1,
        }
        if let Some(a) = &i.agreement
            && !t.agreements.contains(a)
        {
            t.agreements.push(a.clone());
        }
        for f in &i.fields_dropped {
            if !t.fields_dropped.iter().any(|d| d == f) {
                t.fields_dropped.push((*f).to_owned());
            }
        }
    }
    totals
}

/// The summary as JSON: the run report plus per-feed totals.
pub fn to_json(report: &RunReport) -> serde_json::Value {
    serde_json::json!({
        "run_id": report.run_id,
        "key_id": report.key_id,
        "manifest": report.manifest,
        "as_of": report.as_of,
        "agreement_problems": report.agreement_problems,
        "feeds": feed_totals(report),
        "inputs": report.inputs,
        "linkage": report.linkage,
    })
}

/// The summary as a table for a terminal.
pub fn to_text(report: &RunReport) -> String {
    let mut s = String::new();
    let totals = feed_totals(report);
    let _ = writeln!(s, "run {}  (key {}, agreements as of {})", report.run_id, report.key_id, report.as_of);
    let _ = writeln!(
        s,
        "{:<16} {:>10} {:>10} {:>11}  {:<10} quarantine reasons",
        "feed", "read", "written", "quarantined", "check"
    );
    let (mut r, mut w, mut q, mut held) = (0, 0, 0, 0);
    for (feed, t) in &totals {
        let reasons: Vec<String> = t.quarantined_by_rule.iter().map(|(k, v)| format!("{k} {v}")).collect();
        let check = if t.reconciles() { "ok" } else { "MISMATCH" };
        let _ = writeln!(
            s,
            "{feed:<16} {:>10} {:>10} {:>11}  {check:<10} {}",
            t.read,
            t.written,
            t.quarantined,
            reasons.join(", ")
        );
        r += t.read;
        w += t.written;
        q += t.quarantined;
        held += t.unchanged + t.refused + t.older + t.listed_withdrawn;
    }
    let all = r == w + q + held;
    let _ = writeln!(s, "{:<16} {r:>10} {w:>10} {q:>11}  {}", "total", if all { "ok" } else { "MISMATCH" });
    // Fields, not records: a record with a nulled field was written, and counted as written.
    for (feed, t) in totals.iter().filter(|(_, t)| t.nulled > 0) {
        let fields: Vec<String> = t.nulled_by_rule.iter().map(|(k, v)| format!("{k} {v}")).collect();
        let _ = writeln!(s, "nulled   {feed:<16} {} field(s), records kept: {}", t.nulled, fields.join(", "));
    }
    for (feed, t) in &totals {
        if !t.agreements.is_empty() {
            let dropped = if t.fields_dropped.is_empty() { "none".to_owned() } else { t.fields_dropped.join(", ") };
            let _ = writeln!(s, "agreement {feed:<16} {}  fields dropped: {dropped}", t.agreements.join(", "));
        }
    }
    for p in &report.agreement_problems {
        let _ = writeln!(s, "agreement problem: {p}");
    }
    for i in &report.inputs {
        input_lines(&mut s, i);
    }
    if held > 0 {
        let _ = writeln!(
            s,
            "every record read was written, quarantined, held already, refused or withdrawn: {}",
            if all { "yes" } else { "NO" }
        );
    } else {
        let _ = writeln!(s, "every record read was written or quarantined: {}", if all { "yes" } else { "NO" });
    }
    if let Some(l) = &report.linkage {
        s.push_str(&linkage_text(l));
    }
    let _ = writeln!(s, "manifest {}", report.manifest);
    s
}

/// What the summary says of one input beyond its counts: skipped, rejected or held, how it was
/// read, what became of its records, warnings, unknown columns.
fn input_lines(s: &mut String, i: &tellonce_pipeline::run::InputReport) {
    match i.status {
        InputStatus::Skipped => {
            let why = i.error.as_deref().unwrap_or("already processed; --force to redo");
            let _ = writeln!(s, "skipped  {} ({why})", i.source);
        }
        InputStatus::Rejected => {
            let _ = writeln!(s, "REJECTED {}: {}", i.source, i.error.as_deref().unwrap_or("unknown error"));
        }
        InputStatus::Held => {
            let _ = writeln!(s, "HELD     {}: {}", i.source, i.error.as_deref().unwrap_or("no agreement in force"));
        }
        _ => {}
    }
    if let Some(r) = &i.read_as {
        let mapping = r.mapping.as_deref().map_or_else(|| "no mapping".to_owned(), |m| format!("mapping {m}"));
        let delimiter = r.delimiter.as_deref().map_or(String::new(), |d| format!(", delimiter {d}"));
        let sheet = r.sheet.as_deref().map_or(String::new(), |n| format!(", sheet {n:?}"));
        let encoding = r.encoding.map_or(String::new(), |e| format!(", encoding {e}"));
        // A workbook has no encoding, and may have no sheet named.
        let how = format!("{encoding}{delimiter}{sheet}");
        let how = if how.is_empty() { how } else { format!(" ({})", how.trim_start_matches(", ")) };
        let _ = writeln!(s, "read     {} through {mapping}{how}", i.source);
    }
    if let Some(v) = i.versions.filter(|v| {
        let c = v.counts;
        c.changed + c.unchanged + c.refused + c.withdrawn + c.older > 0 || v.withdrawal_held_back
    }) {
        let c = v.counts;
        let listed = match c.listed {
            n if n > 0 && !v.withdrawals_file => format!(" ({n} marked withdrawn in the file)"),
            _ => String::new(),
        };
        let _ = writeln!(
            s,
            "records  {}: {} new, {} changed, {} unchanged (held already, not staged again), {} refused (erased or \
             withdrawn before), {} withdrawn{listed}; {} version(s) moved to history",
            i.source, c.new, c.changed, c.unchanged, c.refused, c.withdrawn, v.superseded
        );
        if c.zeros_matched > 0 {
            let _ = writeln!(
                s,
                "records  {}: {} reference(s) matched to the record held under the same digits with other leading \
                 zeros (123 for 000123, as a spreadsheet saves them), and counted under the reference held",
                i.source, c.zeros_matched
            );
        }
        if c.older > 0 {
            let _ = writeln!(
                s,
                "records  {}: {} not staged: the version held is newer (by the feed's last-updated date, or it came \
                 in an input that arrived after this one)",
                i.source, c.older
            );
        }
        if v.withdrawal_held_back {
            let _ = writeln!(
                s,
                "WARNING  {}: this snapshot withdraws nothing: it quarantined a record whose reference could not be \
                 read, which may be one it seems to leave out; correct and send it again (lines below the table \
                 that are no records, a report footer: declare them with footer_lines in the mapping's [file])",
                i.source
            );
        }
    }
    if let Some(n) = i.quarantined_by_rule.get("csv.malformed").filter(|n| **n > 0) {
        let _ = writeln!(
            s,
            "WARNING  {}: {n} line(s) quarantined csv.malformed, swallowed by a quote never closed; if the \
             partner's export never quotes its fields, set quote = \"none\" in the mapping's [file]",
            i.source
        );
    }
    for a in &i.columns_absent {
        let _ = writeln!(
            s,
            "WARNING  {}: no column under the mapped heading {} for {}: it is empty in every record (if the partner \
             renamed it, add the new heading to the mapping)",
            i.source,
            a.headings.iter().map(|h| format!("{h:?}")).collect::<Vec<_>>().join(" or "),
            a.column
        );
    }
    if !i.sheets_unread.is_empty() {
        let _ = writeln!(
            s,
            "WARNING  {}: only the first sheet shown was read; the workbook's other sheets ({}) were not. If they \
             hold records too, list the workbook once per sheet, each entry naming its sheet (sheet = \"...\")",
            i.source,
            i.sheets_unread.join(", ")
        );
    }
    if !i.unknown_columns.is_empty() {
        let _ = writeln!(
            s,
            "dropped  unknown column(s) {} in {} (not in the {} schema)",
            i.unknown_columns.join(", "),
            i.source,
            i.feed
        );
    }
}

/// A linkage build as lines for a terminal.
pub fn linkage_text(l: &crate::link::BuildReport) -> String {
    let mut s = String::new();
    if l.up_to_date {
        let _ = writeln!(s, "linkage: up to date (no staging file or agreement changed since the last build)");
        return s;
    }
    let _ = writeln!(
        s,
        "linkage: {} records -> {} persons in {} families; low evidence {}; conflicting strong identifiers {}",
        l.records, l.persons, l.families, l.low_evidence, l.conflicts
    );
    if !l.person_sizes.is_empty() {
        // Bucket names sort as text ("10-19" before "2"): print them in size order.
        let order = ["1", "2", "3", "4", "5-9", "10-19", "20+"];
        let sizes: Vec<String> =
            order.iter().filter_map(|b| l.person_sizes.get(b).map(|n| format!("{b}: {n}"))).collect();
        let _ = writeln!(s, "  persons by records held: {}", sizes.join(", "));
    }
    let c = |x: &crate::link::build::ChangeCounts| {
        format!("{} merged, {} split, {} retired", x.merges, x.splits, x.retired)
    };
    let _ = writeln!(
        s,
        "  id changes since the last build: persons {}; families {}",
        c(&l.person_changes),
        c(&l.family_changes)
    );
    let rules: Vec<String> = l.merges_by_rule.iter().map(|(k, v)| format!("{k} {v}")).collect();
    let _ = writeln!(s, "  merges by rule: {}", if rules.is_empty() { "none".to_owned() } else { rules.join(", ") });
    let refused: Vec<String> = l.refused_by_rule.iter().map(|(k, v)| format!("{k} {v}")).collect();
    if !refused.is_empty() {
        let _ = writeln!(
            s,
            "  refused by the veto (conflicting date of birth or identifier, or an officer's decision): {}",
            refused.join(", ")
        );
    }
    if let Some(d) = &l.decisions {
        let _ = writeln!(
            s,
            "  officers' decisions ({}): one person {} ({} linked, {} refused: a strong identifier disagrees or another \
             decision keeps them apart); two people {} ({} kept apart); {} naming a record not staged",
            d.path, d.same_person, d.linked, d.refused, d.not_same_person, d.kept_apart, d.not_found
        );
    }
    let sc = &l.scoring;
    if sc.scored > 0 || !sc.blocking.over_cap_by_rule.is_empty() {
        let _ = writeln!(
            s,
            "  scoring pass: {} candidate pairs scored, {} above the threshold, {} refused by the pair veto",
            sc.scored, sc.above_threshold, sc.vetoed_pairs
        );
        let _ = writeln!(s, "    {}", sc.households.record().describe());
        if let Some(m) = &sc.model {
            let how = if m.estimated {
                format!(
                    "estimated from {} candidate pairs ({} EM rounds) and {} random pairs",
                    m.training_pairs, m.rounds, m.random_pairs
                )
            } else {
                "the documented levels (too few pairs to estimate)".to_owned()
            };
            let _ = writeln!(
                s,
                "    model: {how}; prior {:.1e} that two records are one person; links at {:.1} bits or more",
                m.prior, sc.threshold
            );
        }
        if let Some(e) = &sc.estimate {
            let _ = writeln!(
                s,
                "    estimated by the model (no ground truth): precision {:.4} of {} scored links, recall {:.4} at the \
                 threshold; {} pairs near the threshold sampled for review (tellonce link-review)",
                e.precision,
                e.links,
                e.recall,
                sc.review.len()
            );
        }
        let by_rule: Vec<String> = sc.blocking.pairs_by_rule.iter().map(|(k, v)| format!("{k} {v}")).collect();
        let _ = writeln!(s, "    pairs by blocking rule: {}", by_rule.join(", "));
        for (rule, (blocks, records)) in &sc.blocking.over_cap_by_rule {
            let _ = writeln!(s, "    {rule}: {blocks} blocks over the cap not compared ({records} records)");
        }
    }
    let pct = |r: &crate::link::rates::Rate| format!("{:.1}% of {}", 100.0 * r.match_rate(), r.records);
    let _ = writeln!(s, "  known to another feed, by feed (linkage bias shows here):");
    for (feed, r) in &l.rates.by_feed {
        let _ = writeln!(s, "    {feed:<22} {}  (low evidence {})", pct(r), r.low_evidence);
    }
    let _ = writeln!(s, "  by district:");
    for (d, r) in &l.rates.by_district {
        let _ = writeln!(s, "    {d:<22} {}", pct(r));
    }
    let _ = writeln!(s, "  by IMD decile (1 = most deprived, 0 = not known):");
    for (d, r) in &l.rates.by_imd_decile {
        let _ = writeln!(s, "    {d:<22} {}", pct(r));
    }
    for f in &l.feeds_not_linked {
        let _ = writeln!(s, "  NOT LINKED {f}");
    }
    let events: Vec<String> = l.theme_events.iter().map(|(h, n)| format!("{h} {n}")).collect();
    let _ = writeln!(
        s,
        "theme events by headline: {}",
        if events.is_empty() { "none".to_owned() } else { events.join(", ") }
    );
    for i in &l.indicators_not_evaluated {
        let _ = writeln!(s, "  not evaluated: {i}");
    }
    if let Some(o) = &l.outcomes {
        s.push_str(&outcomes_text(o));
    }
    s
}

/// The outcome datasets of a build, as lines for a terminal.
fn outcomes_text(o: &tellonce_build::link::build::OutcomesReport) -> String {
    let mut s = String::new();
    let period = match (o.period_from.as_str(), o.period_to.as_str()) {
        ("", "") => "all events held".to_owned(),
        (f, t) => format!(
            "{} to {}",
            if f.is_empty() { "the first event" } else { f },
            if t.is_empty() { "the last" } else { t }
        ),
    };
    let _ = writeln!(s, "outcomes for {period} (ages at {}):", o.reference_date);
    let _ = writeln!(s, "  persons {} ({} with a need); families {}", o.persons, o.persons_with_need, o.families);
    let _ = writeln!(s, "  eligible families {}: {}", o.eligible_families, o.eligibility);
    let _ = writeln!(
        s,
        "  episodes of support {} ({} open); records opening or closing one without a date: {}",
        o.episodes, o.episodes_open, o.episode_records_undated
    );
    let statuses: Vec<String> = o.family_outcomes.iter().map(|(k, v)| format!("{k} {v}")).collect();
    let _ = writeln!(
        s,
        "  needs at the start of an episode, by outcome: {}",
        if statuses.is_empty() { "none".to_owned() } else { statuses.join(", ") }
    );
    let r = &o.re_referrals;
    let _ = writeln!(
        s,
        "  closed episodes {}: {} stepped up; {} followed for 12 months, of which the family came back at the same \
         level in {} and needed level 4 in {}",
        r.closures, r.stepped_up, r.followed_12_months, r.back_at_same_level, r.level_4
    );
    for (name, t) in &o.aggregates {
        let _ = writeln!(
            s,
            "  aggregates {name}: {} table(s), {} cells, {} suppressed as small, {} more to protect them",
            t.tables, t.cells, t.primary, t.secondary
        );
    }
    let l = &o.linked_suppressions;
    let _ = writeln!(
        s,
        "  tables by latest area protected together: {} cell(s) suppressed as another table suppresses the same \
         count, {} more found recoverable across the tables",
        l.shared, l.across
    );
    if o.persons_in_unlisted_small_areas > 0 {
        let _ = writeln!(
            s,
            "  persons with a need in a small area the localities lookup does not list (counted as unknown): {}",
            o.persons_in_unlisted_small_areas
        );
    }
    s
}
