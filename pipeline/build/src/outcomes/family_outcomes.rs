//! `family_outcomes/` and `outcome_claims/`: for each episode of support, each headline need the
//! family had when it started, and whether the episode met it and the outcome held.
//!
//! What "met" means is declared in the theme mapping beside the needs (`[[outcome_rules]]`, see
//! [`super::outcome_rules`]): no recurrence of incidents, or readings of a level (attendance)
//! that reach it at close and after.

use std::collections::HashMap;
use std::sync::Arc;

use arrow_array::builder::{
    BooleanBuilder, Date32Builder, Float64Builder, ListBuilder, StringBuilder, StructBuilder, UInt32Builder,
};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Fields, Schema, SchemaRef};
use tellonce_schemas::identifiers::dates;

use super::described;
use super::episodes::{Episode, EpisodeSource};
use super::events::Partitions;
use super::outcome_rules::{Levels, OutcomeRule, Reading};
use super::themes::Mapping;
use crate::link::LinkError;

pub use tellonce_output::layout::{FAMILY_OUTCOMES, OUTCOME_CLAIMS};

/// Months before an episode's start in which a headline's evidence makes it a need at entry.
pub const ENTRY_MONTHS: u32 = 12;

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
    /// The evidence itself, by date: each theme event counted in `seen`, and for a rule over
    /// readings each reading it judged.
    pub evidence: Vec<Evidence>,
}

/// One piece of evidence behind a need's outcome.
#[derive(Debug, Clone, PartialEq, PartialOrd)]
pub struct Evidence {
    /// Its date.
    pub date: i32,
    /// The indicator of a theme event, or the column of a reading.
    pub what: Arc<str>,
    /// A reading's value (none for a theme event).
    pub value: Option<f64>,
    /// Which span it fell in (`SPANS`).
    pub span: &'static str,
}

/// The spans of `NeedOutcome::seen`, as the evidence names them.
const SPANS: [&str; 4] = ["before start", "during", "at close", "after close"];

/// Works out, for each episode with a start and each headline with evidence in the family in the
/// `ENTRY_MONTHS` before it, the outcome of that need under its rule. `data_end` says how far the
/// evidence of a headline runs: the latest event held of the feeds whose indicators of it were
/// evaluated in this build (`None`: no feed of the build can show it). A window after the close
/// that runs past it is not yet seen whole.
pub fn needs_and_outcomes(
    episodes: &[Episode],
    events: &Partitions,
    mapping: &Mapping,
    levels: &Levels,
    data_end: &dyn Fn(&str) -> Option<i32>,
) -> Vec<NeedOutcome> {
    // Each family's evidence: (headline index, date, indicator).
    let headlines: Vec<&str> = mapping.headlines.iter().map(|h| h.code.as_str()).collect();
    let mut by_family: HashMap<u32, Vec<(usize, i32, u16)>> = HashMap::new();
    for ((headline, _), rows) in events {
        let Some(h) = headlines.iter().position(|c| c == headline) else { continue };
        for r in rows {
            by_family.entry(r.family).or_default().push((h, r.date, r.indicator));
        }
    }
    let codes: Vec<Arc<str>> = mapping.indicators.iter().map(|i| Arc::from(i.code.as_str())).collect();
    let indicator = |k: u16| codes.get(usize::from(k)).cloned().unwrap_or_else(|| Arc::from(""));
    let rules: HashMap<&str, (usize, &OutcomeRule)> =
        mapping.outcome_rules.iter().enumerate().map(|(k, r)| (r.headline.as_str(), (k, r))).collect();
    let readings: HashMap<usize, HashMap<u32, Vec<Reading>>> = mapping
        .outcome_rules
        .iter()
        .enumerate()
        .filter(|(_, r)| r.readings().is_some())
        .map(|(k, _)| (k, levels.by_family(k)))
        .collect();
    let no_reading: Arc<str> = Arc::from("no reading of the family in the rule's close window");
    let too_few: Arc<str> = Arc::from("too few readings of the family in the months after the close");
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
            let mine: Vec<(i32, u16)> = evidence.iter().filter(|e| e.0 == h).map(|e| (e.1, e.2)).collect();
            let dates: Vec<i32> = mine.iter().map(|e| e.0).collect();
            if !dates.iter().any(|&d| (entry_from..=start).contains(&d)) {
                continue;
            }
            let rule = rules.get(code).map(|(_, r)| *r);
            let close_from = e.close().zip(rule).map(|(c, r)| add_months(c, -(r.at_close_months as i32)));
            let mut seen = [0u32; 4];
            let mut shown = Vec::new();
            for &(d, ind) in mine.iter().filter(|e| e.0 >= entry_from) {
                let slot = match (e.close(), close_from) {
                    _ if d <= start => 0,
                    (Some(c), Some(from)) if d >= from && d <= c => 2,
                    (Some(c), _) if d > c => 3,
                    _ => 1,
                };
                seen[slot] += 1;
                shown.push(Evidence { date: d, what: indicator(ind), value: None, span: SPANS[slot] });
            }
            let end = data_end(code);
            let (status, decided_by) = match (rule, e.close(), end) {
                (None, ..) => match mapping.inactive_rules.iter().find(|(headline, _)| headline == code) {
                    Some((_, feed_name)) => (
                        Status::NoEvidence,
                        Arc::from(format!(
                            "the outcome rule reads feed {feed_name}, which this deployment does not define"
                        )),
                    ),
                    None => (Status::NoEvidence, no_rule.clone()),
                },
                (Some(_), None, _) => (Status::NoEvidence, not_closed.clone()),
                (Some(_), Some(_), None) => (Status::NoEvidence, unobservable.clone()),
                // Nothing could be seen "at close" in an episode shorter than the window.
                (Some(_), Some(_), Some(_)) if close_from.is_some_and(|from| from < start) => {
                    (Status::NoEvidence, too_short.clone())
                }
                (Some(r), Some(close), Some(end)) if r.readings().is_some() => {
                    let family = rules.get(code).and_then(|(k, _)| readings.get(k)).and_then(|m| m.get(&e.family()));
                    let window = Window { close_from: close_from.unwrap_or(close), close, end };
                    reading_evidence(r, family.map_or(&[][..], Vec::as_slice), &window, &mut shown);
                    match read_levels(r, family.map_or(&[], Vec::as_slice), &window) {
                        Ok(status) => (status, described.get(code).cloned().unwrap_or_else(|| no_rule.clone())),
                        Err(Unread::AtClose) => (Status::NoEvidence, no_reading.clone()),
                        Err(Unread::After) => (Status::NoEvidence, too_few.clone()),
                    }
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
            shown.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
            out.push(NeedOutcome {
                episode: k,
                headline: named[h].clone(),
                status,
                decided_by,
                seen,
                data_end: end,
                evidence: shown,
            });
        }
    }
    out
}

/// The dates a rule is judged over for one episode.
struct Window {
    /// The first day of the close window.
    close_from: i32,
    /// The close.
    close: i32,
    /// How far the evidence runs.
    end: i32,
}

/// Adds to `shown` the readings a `readings` rule judges: those in the close window and in the
/// months after the close.
fn reading_evidence(rule: &OutcomeRule, readings: &[Reading], w: &Window, shown: &mut Vec<Evidence>) {
    let until = add_months(w.close, rule.sustain_months as i32);
    let column: Arc<str> = Arc::from(rule.readings().map_or("", |x| x.value.as_str()));
    for &(_, d, v) in readings {
        let span = if (w.close_from..=w.close).contains(&d) {
            SPANS[2]
        } else if d > w.close && d <= until {
            SPANS[3]
        } else {
            continue;
        };
        shown.push(Evidence { date: d, what: column.clone(), value: Some(v), span });
    }
}

/// Why a `readings` rule could not decide.
#[derive(Debug, PartialEq)]
enum Unread {
    /// No reading in the close window.
    AtClose,
    /// Too few readings after the close, its window passed.
    After,
}

/// The status under a `readings` rule, from the family's readings (person, day, lowest value of
/// the person that day).
fn read_levels(rule: &OutcomeRule, readings: &[Reading], w: &Window) -> Result<Status, Unread> {
    let Some(x) = rule.readings() else { return Err(Unread::AtClose) };
    let until = add_months(w.close, rule.sustain_months as i32);
    let at_close: Vec<&Reading> = readings.iter().filter(|r| (w.close_from..=w.close).contains(&r.1)).collect();
    let after: Vec<&Reading> = readings.iter().filter(|r| r.1 > w.close && r.1 <= until).collect();
    // Each person read at close needs enough readings of their own after it.
    let enough = at_close.iter().all(|c| after.iter().filter(|a| a.0 == c.0).count() >= x.readings as usize);
    if at_close.is_empty() {
        Err(Unread::AtClose)
    } else if at_close.iter().chain(&after).any(|r| r.2 < x.at_least) {
        Ok(Status::NotMet)
    } else if until > w.end {
        Ok(Status::MetNotYetSustained)
    } else if enough {
        Ok(Status::MetAndSustained)
    } else {
        Err(Unread::After)
    }
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
        described(
            "evidence",
            DataType::List(Arc::new(Field::new_list_field(DataType::Struct(evidence_fields()), true))),
            "The evidence by date: each theme event counted above (event_date, what = its indicator, span; join \
             to theme_events on family_id, indicator and event_date), and for a rule over readings each reading \
             it judged (what = the column, value).",
        ),
    ]))
}

/// The fields of one piece of `family_outcomes.evidence`.
fn evidence_fields() -> Fields {
    Fields::from(vec![
        Field::new("event_date", DataType::Date32, true),
        Field::new("what", DataType::Utf8, true),
        Field::new("value", DataType::Float64, true),
        Field::new("span", DataType::Utf8, true),
    ])
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
    /// Episode `k`'s id, person id, family id and service.
    pub fn of(&self, k: usize) -> Result<(&str, String, String, &str), LinkError> {
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
    let fields = evidence_fields();
    let mut evidence = ListBuilder::new(StructBuilder::from_fields(fields.clone(), 0))
        .with_field(Arc::new(Field::new_list_field(DataType::Struct(fields), true)));
    for r in rows {
        end.append_option(r.data_end);
        let pieces = evidence.values();
        for e in &r.evidence {
            append_evidence(pieces, e)?;
        }
        evidence.append(true);
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
    columns.push(Arc::new(evidence.finish()));
    RecordBatch::try_new(schema(), columns).map_err(|e| LinkError::Internal(e.to_string()))
}

/// Appends one piece of evidence to the struct builder of `evidence_fields`.
fn append_evidence(b: &mut StructBuilder, e: &Evidence) -> Result<(), LinkError> {
    let missing = || LinkError::Internal("evidence field builder".into());
    b.field_builder::<Date32Builder>(0).ok_or_else(missing)?.append_value(e.date);
    b.field_builder::<StringBuilder>(1).ok_or_else(missing)?.append_value(&e.what);
    b.field_builder::<Float64Builder>(2).ok_or_else(missing)?.append_option(e.value);
    b.field_builder::<StringBuilder>(3).ok_or_else(missing)?.append_value(e.span);
    b.append(true);
    Ok(())
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

    #[test]
    fn a_readings_rule_needs_a_reading_at_close_and_enough_after() {
        let m = Mapping::embedded().unwrap();
        let rule = m.outcome_rules.iter().find(|r| r.headline == "SF01").unwrap();
        assert!(rule.readings().is_some_and(|x| x.at_least == 90.0 && x.readings == 2));
        let d = |y, m, day| dates::days_from_civil(y, m, day);
        // An episode closing 2024-09-30: its close window (5 months) holds the July term.
        let close = d(2024, 9, 30);
        let w = Window { close_from: add_months(close, -5), close, end: d(2025, 12, 31) };
        let judge = |r: &[Reading]| read_levels(rule, r, &w);
        let (jul, dec, apr, jul2) = (d(2024, 7, 23), d(2024, 12, 20), d(2025, 4, 4), d(2025, 7, 22));
        assert_eq!(judge(&[(1, jul, 93.0), (1, dec, 91.0), (1, apr, 95.0)]), Ok(Status::MetAndSustained));
        assert_eq!(judge(&[(1, jul, 89.9), (1, dec, 91.0), (1, apr, 95.0)]), Ok(Status::NotMet));
        assert_eq!(judge(&[(1, jul, 93.0), (1, dec, 91.0), (1, apr, 80.0)]), Ok(Status::NotMet));
        // A reading after the sustain window (9 months) does not count either way.
        assert_eq!(judge(&[(1, jul, 93.0), (1, dec, 91.0), (1, jul2, 50.0)]), Err(Unread::After));
        // No reading at close: the absence of a record is no evidence.
        assert_eq!(judge(&[(1, d(2024, 3, 28), 95.0), (1, dec, 91.0), (1, apr, 95.0)]), Err(Unread::AtClose));
        // Each child read at close needs two terms of their own: a sibling's term does not count.
        assert_eq!(judge(&[(1, jul, 93.0), (2, jul, 95.0), (1, dec, 91.0), (2, apr, 95.0)]), Err(Unread::After));
        // The data does not reach the window's end yet: not yet sustained, however many readings
        // so far, since a later one may fall below.
        let early = Window { end: d(2025, 4, 30), ..w };
        let so_far = [(1, jul, 93.0), (1, dec, 91.0), (1, apr, 92.0)];
        assert_eq!(read_levels(rule, &so_far, &early), Ok(Status::MetNotYetSustained));
        assert_eq!(read_levels(rule, &so_far[..2], &early), Ok(Status::MetNotYetSustained));
    }
}
