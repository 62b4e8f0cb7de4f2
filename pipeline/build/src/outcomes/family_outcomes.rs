//! `family_outcomes/` and `outcome_claims/`: for each episode of support, each headline need the
//! family had when it started, and whether the episode met it and the outcome held.
//!
//! What "met" means is declared in the theme mapping beside the needs (`[[outcome_rules]]`). The
//! one rule built so far is `no_recurrence`: the need is met when none of its headline's
//! indicators is seen in the family in the last months of the episode, and sustained when none
//! is seen in the months after its close. Rules over values across rows (attendance of at least
//! 90 % over two terms) are not built yet.

use std::collections::HashMap;
use std::sync::Arc;

use arrow_array::builder::{BooleanBuilder, Date32Builder, StringBuilder, UInt32Builder};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Schema, SchemaRef};
use serde::Deserialize;
use tellonce_schemas::identifiers::dates;

use super::described;
use super::episodes::{Episode, EpisodeSource};
use super::events::Partitions;
use super::themes::Mapping;
use crate::link::LinkError;

pub use tellonce_output::layout::{FAMILY_OUTCOMES, OUTCOME_CLAIMS};

/// Months before an episode's start in which a headline's evidence makes it a need at entry.
pub const ENTRY_MONTHS: u32 = 12;

/// An outcome rule as the mapping file writes it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct OutcomeRuleFile {
    headline: String,
    met_when: String,
    at_close_months: u32,
    sustain_months: u32,
    reason: String,
}

/// What "met" means for one headline's need.
#[derive(Debug, Clone)]
pub struct OutcomeRule {
    /// The headline.
    pub headline: String,
    /// Months before the close in which the need must not be seen for it to be met.
    pub at_close_months: u32,
    /// Months after the close in which it must not be seen again for the outcome to be sustained.
    pub sustain_months: u32,
    /// Why, for review.
    pub reason: String,
}

impl OutcomeRule {
    /// In words, for `themes explain` and the dataset's `decided_by`.
    pub fn describe(&self) -> String {
        format!(
            "met when no {} indicator is seen in the last {} months of the episode; sustained when none is seen \
             in the {} months after its close",
            self.headline, self.at_close_months, self.sustain_months
        )
    }
}

/// Checks the mapping's outcome rules, adding a problem for each rule broken.
pub(super) fn check(files: Vec<OutcomeRuleFile>, headlines: &[String], problems: &mut Vec<String>) -> Vec<OutcomeRule> {
    let mut out: Vec<OutcomeRule> = Vec::new();
    for r in files {
        let at = format!("outcome rule {}", r.headline);
        if !headlines.contains(&r.headline) {
            problems.push(format!("{at}: headline {} is not defined", r.headline));
        }
        if out.iter().any(|o| o.headline == r.headline) {
            problems.push(format!("{at}: the headline has two rules"));
        }
        if r.met_when != "no_recurrence" {
            problems.push(format!("{at}: met_when = {} is not a rule (the one built: no_recurrence)", r.met_when));
        }
        if !(1..=24).contains(&r.at_close_months) {
            problems.push(format!("{at}: at_close_months = {} must be 1 to 24", r.at_close_months));
        }
        if !(1..=36).contains(&r.sustain_months) {
            problems.push(format!("{at}: sustain_months = {} must be 1 to 36", r.sustain_months));
        }
        if r.reason.trim().is_empty() {
            problems.push(format!("{at}: reason is empty; say why this is what met means"));
        }
        out.push(OutcomeRule {
            headline: r.headline,
            at_close_months: r.at_close_months,
            sustain_months: r.sustain_months,
            reason: r.reason,
        });
    }
    out
}

/// `day` moved by `months` calendar months, on the month's last day where it is shorter.
pub fn add_months(day: i32, months: i32) -> i32 {
    let (y, m, d) = dates::civil_from_days(day);
    let index = y * 12 + (m as i32 - 1) + months;
    let (y, m) = (index.div_euclid(12), index.rem_euclid(12) as u32 + 1);
    let last = (1..=31).rev().find(|&d| dates::civil_from_days(dates::days_from_civil(y, m, d)).1 == m).unwrap_or(28);
    dates::days_from_civil(y, m, d.min(last))
}

/// An outcome status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Not seen at close, nor in the whole window after it.
    MetAndSustained,
    /// Not seen at close, nor since, but the window after it has not passed.
    MetNotYetSustained,
    /// Seen at close, or again after it.
    NotMet,
    /// The episode is not closed, or no feed in the build can show the need.
    NoEvidence,
}

impl Status {
    /// As written in `family_outcomes.status`.
    pub fn name(self) -> &'static str {
        match self {
            Status::MetAndSustained => "met and sustained",
            Status::MetNotYetSustained => "met, not yet sustained",
            Status::NotMet => "not met",
            Status::NoEvidence => "no evidence either way",
        }
    }
}

/// One row of `family_outcomes/`: an episode, a headline need at its start, and its outcome.
#[derive(Debug, Clone)]
pub struct NeedOutcome {
    /// Index into the episodes.
    pub episode: usize,
    /// The headline.
    pub headline: Arc<str>,
    /// The status.
    pub status: Status,
    /// The rule, or the reason no rule could decide, in words.
    pub decided_by: Arc<str>,
    /// Evidence of the need in the family: in the months before the start, during the episode
    /// before the close window, in the close window, and after the close.
    pub seen: [u32; 4],
    /// How far the evidence of the need runs (see [`needs_and_outcomes`]).
    pub data_end: Option<i32>,
}

/// Works out, for each episode with a start and each headline with evidence in the family in the
/// `ENTRY_MONTHS` before it, the outcome of that need under its rule. `data_end` says how far the
/// evidence of a headline runs: the latest event held of the feeds whose indicators of it were
/// evaluated in this build (`None`: no feed of the build can show it). A window after the close
/// that runs past it is not yet seen whole.
pub fn needs_and_outcomes(
    episodes: &[Episode],
    events: &Partitions,
    mapping: &Mapping,
    data_end: &dyn Fn(&str) -> Option<i32>,
) -> Vec<NeedOutcome> {
    // Each family's evidence: (headline index, date).
    let headlines: Vec<&str> = mapping.headlines.iter().map(|h| h.code.as_str()).collect();
    let mut by_family: HashMap<u32, Vec<(usize, i32)>> = HashMap::new();
    for ((headline, _), rows) in events {
        let Some(h) = headlines.iter().position(|c| c == headline) else { continue };
        for r in rows {
            by_family.entry(r.family).or_default().push((h, r.date));
        }
    }
    let rules: HashMap<&str, &OutcomeRule> = mapping.outcome_rules.iter().map(|r| (r.headline.as_str(), r)).collect();
    let named: Vec<Arc<str>> = headlines.iter().map(|h| Arc::from(*h)).collect();
    let no_rule: Arc<str> = Arc::from("no outcome rule is declared for this need");
    let not_closed: Arc<str> = Arc::from("the episode's close is not recorded (open, or reopened without one)");
    let unobservable: Arc<str> = Arc::from("no feed in this build can show this need");
    let too_short: Arc<str> = Arc::from("the episode is shorter than the rule's close window");
    let described: HashMap<&str, Arc<str>> =
        mapping.outcome_rules.iter().map(|r| (r.headline.as_str(), Arc::from(r.describe()))).collect();
    let mut out = Vec::new();
    for (k, e) in episodes.iter().enumerate() {
        let Some(start) = e.start() else { continue };
        let Some(evidence) = by_family.get(&e.family()) else { continue };
        let entry_from = add_months(start, -(ENTRY_MONTHS as i32));
        for (h, code) in headlines.iter().enumerate() {
            let dates: Vec<i32> = evidence.iter().filter(|(x, _)| *x == h).map(|(_, d)| *d).collect();
            if !dates.iter().any(|&d| (entry_from..=start).contains(&d)) {
                continue;
            }
            let rule = rules.get(code);
            let close_from = e.close().zip(rule).map(|(c, r)| add_months(c, -(r.at_close_months as i32)));
            let mut seen = [0u32; 4];
            for &d in dates.iter().filter(|&&d| d >= entry_from) {
                let slot = match (e.close(), close_from) {
                    _ if d <= start => 0,
                    (Some(c), Some(from)) if d >= from && d <= c => 2,
                    (Some(c), _) if d > c => 3,
                    _ => 1,
                };
                seen[slot] += 1;
            }
            let end = data_end(code);
            let (status, decided_by) = match (rule, e.close(), end) {
                (None, ..) => (Status::NoEvidence, no_rule.clone()),
                (Some(_), None, _) => (Status::NoEvidence, not_closed.clone()),
                (Some(_), Some(_), None) => (Status::NoEvidence, unobservable.clone()),
                // Nothing could be seen "at close" in an episode shorter than the window.
                (Some(_), Some(_), Some(_)) if close_from.is_some_and(|from| from < start) => {
                    (Status::NoEvidence, too_short.clone())
                }
                (Some(r), Some(close), Some(end)) => {
                    let status = if seen[2] > 0 {
                        Status::NotMet
                    } else {
                        let until = add_months(close, r.sustain_months as i32);
                        let again = dates.iter().filter(|&&d| d > close && d <= until).count();
                        if again > 0 {
                            Status::NotMet
                        } else if until > end {
                            Status::MetNotYetSustained
                        } else {
                            Status::MetAndSustained
                        }
                    };
                    (status, described.get(code).cloned().unwrap_or_else(|| no_rule.clone()))
                }
            };
            out.push(NeedOutcome { episode: k, headline: named[h].clone(), status, decided_by, seen, data_end: end });
        }
    }
    out
}

/// The schema of `family_outcomes/`.
pub fn schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        described("episode_id", DataType::Utf8, "The episode of support (episodes/)."),
        described("family_id", DataType::Utf8, "Stable pseudonymous id of the family (links/)."),
        described("person_id", DataType::Utf8, "The person the episode is about (links/)."),
        described("service", DataType::Utf8, "The episode's service."),
        described("headline", DataType::Utf8, "The headline need the family had at the episode's start."),
        described(
            "status",
            DataType::Utf8,
            "met and sustained; met, not yet sustained; not met; no evidence either way (decided_by says why).",
        ),
        described("decided_by", DataType::Utf8, "The outcome rule of the theme mapping, or why no rule could decide."),
        described(
            "seen_before_start",
            DataType::UInt32,
            "Theme events of the need in the family in the 12 months to the start.",
        ),
        described(
            "seen_during",
            DataType::UInt32,
            "Theme events of the need during the episode, before the close window.",
        ),
        described("seen_at_close", DataType::UInt32, "Theme events of the need in the close window of its rule."),
        described("seen_after_close", DataType::UInt32, "Theme events of the need after the close, to the data's end."),
        described(
            "data_end",
            DataType::Date32,
            "The latest event held of the feeds that can show the need: a window after the close that runs past \
             it is not yet seen whole (null: no feed of the build can show the need).",
        ),
    ]))
}

/// The schema of `outcome_claims/`.
pub fn claims_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        described("episode_id", DataType::Utf8, "The episode of support (episodes/)."),
        described("family_id", DataType::Utf8, "Stable pseudonymous id of the family (links/)."),
        described("service", DataType::Utf8, "The episode's service."),
        described("needs_at_entry", DataType::UInt32, "Headline needs the family had at the episode's start."),
        described("met_and_sustained", DataType::UInt32, "Of them, needs met and sustained."),
        described(
            "successful_outcome",
            DataType::Boolean,
            "Every need at entry met and sustained: the programme's test of a successful family outcome, as far \
             as the data shows it (the claim's other conditions are not in the feeds).",
        ),
    ]))
}

/// What `batch` and `claims_batch` need to name an episode's row.
pub struct Names<'a> {
    /// The episodes, in `episodes/` order.
    pub episodes: &'a [Episode],
    /// Their ids, as written to `episodes/`.
    pub episode_ids: &'a [String],
    /// Episode sources of the mapping.
    pub sources: &'a [EpisodeSource],
    /// Person ids of the build.
    pub person_ids: &'a [String],
    /// Family ids of the build.
    pub family_ids: &'a [String],
}

impl Names<'_> {
    fn of(&self, k: usize) -> Result<(&str, String, String, &str), LinkError> {
        let e = self.episodes.get(k).ok_or_else(|| LinkError::Internal(format!("episode {k} out of range")))?;
        let id = self.episode_ids.get(k).map_or("", String::as_str);
        let person = self.person_ids.get(e.person() as usize).cloned().unwrap_or_default();
        let family = self.family_ids.get(e.family() as usize).cloned().unwrap_or_default();
        let service = self.sources.get(e.source()).map_or("", |s| s.service.as_str());
        Ok((id, person, family, service))
    }
}

/// One batch of `family_outcomes/` rows.
pub fn batch(rows: &[NeedOutcome], names: &Names<'_>) -> Result<RecordBatch, LinkError> {
    let mut text: Vec<StringBuilder> = (0..7).map(|_| StringBuilder::new()).collect();
    let mut seen: Vec<UInt32Builder> = (0..4).map(|_| UInt32Builder::new()).collect();
    let mut end = Date32Builder::new();
    for r in rows {
        end.append_option(r.data_end);
        let (id, person, family, service) = names.of(r.episode)?;
        for (b, v) in text.iter_mut().zip([id, &family, &person, service, &r.headline, r.status.name(), &r.decided_by])
        {
            b.append_value(v);
        }
        for (b, v) in seen.iter_mut().zip(r.seen) {
            b.append_value(v);
        }
    }
    let mut columns: Vec<ArrayRef> = text.iter_mut().map(|b| Arc::new(b.finish()) as ArrayRef).collect();
    columns.extend(seen.iter_mut().map(|b| Arc::new(b.finish()) as ArrayRef));
    columns.push(Arc::new(end.finish()));
    RecordBatch::try_new(schema(), columns).map_err(|e| LinkError::Internal(e.to_string()))
}

/// One batch of `outcome_claims/`: a row per episode with a need at entry.
pub fn claims_batch(rows: &[NeedOutcome], names: &Names<'_>) -> Result<RecordBatch, LinkError> {
    let mut per: Vec<(usize, u32, u32)> = Vec::new();
    for r in rows {
        match per.last_mut() {
            Some(last) if last.0 == r.episode => {
                last.1 += 1;
                last.2 += u32::from(r.status == Status::MetAndSustained);
            }
            _ => per.push((r.episode, 1, u32::from(r.status == Status::MetAndSustained))),
        }
    }
    let (mut id, mut family, mut service) = (StringBuilder::new(), StringBuilder::new(), StringBuilder::new());
    let (mut needs, mut met, mut ok) = (UInt32Builder::new(), UInt32Builder::new(), BooleanBuilder::new());
    for (k, n, m) in per {
        let (i, _, f, s) = names.of(k)?;
        id.append_value(i);
        family.append_value(f);
        service.append_value(s);
        needs.append_value(n);
        met.append_value(m);
        ok.append_value(n > 0 && n == m);
    }
    let columns: Vec<ArrayRef> = vec![
        Arc::new(id.finish()),
        Arc::new(family.finish()),
        Arc::new(service.finish()),
        Arc::new(needs.finish()),
        Arc::new(met.finish()),
        Arc::new(ok.finish()),
    ];
    RecordBatch::try_new(claims_schema(), columns).map_err(|e| LinkError::Internal(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_move_on_the_calendar_and_keep_to_the_month_end() {
        let d = |y, m, day| dates::days_from_civil(y, m, day);
        assert_eq!(add_months(d(2024, 1, 31), 1), d(2024, 2, 29));
        assert_eq!(add_months(d(2024, 3, 31), -1), d(2024, 2, 29));
        assert_eq!(add_months(d(2024, 11, 15), 3), d(2025, 2, 15));
        assert_eq!(add_months(d(2024, 2, 10), -14), d(2022, 12, 10));
    }
}
