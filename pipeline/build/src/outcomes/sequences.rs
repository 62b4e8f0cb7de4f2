//! Indicators over more than one row: a rule the mapping adds to an indicator's row conditions,
//! read over a person's or a family's records of the indicator's feed.
//!
//! Two kinds, written beside the indicator's `when` and `any`:
//! - `repeat = { at_least = 3, within_months = 6, of = "person" }`: a matching row is an event
//!   when at least 3 matching rows of the same person (or, with `of = "family"`, the same family)
//!   fall in the 6 calendar months that end on its day (the day 6 months before is outside; rows
//!   of the same day are inside, so they are decided together whatever order they came in);
//! - `consecutive = 2` with `series = { ... }`: a row is an event when it matches and so does the
//!   person's reading before it, 2 in a row, a reading being a row that meets `series`. A row
//!   that is not a reading never matches. Readings on one day are one reading, which matches
//!   only if all of them do: a term's attendance sent twice is still one term.
//!
//! Whether a row is an event depends on rows in other files and batches, so the build's one pass
//! over staging gathers the candidates ([`Pending`]) and they are decided when it ends.

use std::collections::{BTreeMap, HashMap};

use arrow_array::RecordBatch;
use serde::Deserialize;

use super::events::EventRow;
use super::family_outcomes::add_months;
use super::themes::{Condition, Mapping, OverRows};

/// Whose rows a `repeat` rule counts together.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// The person's own rows.
    #[default]
    Person,
    /// The rows of everyone in the person's family.
    Family,
}

impl Scope {
    /// As the mapping writes it.
    pub fn name(self) -> &'static str {
        match self {
            Scope::Person => "person",
            Scope::Family => "family",
        }
    }
}

/// A `repeat` rule as the mapping file writes it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RepeatFile {
    at_least: u32,
    within_months: u32,
    #[serde(default)]
    of: Scope,
}

/// Checks an indicator's rule over rows, adding a problem (prefixed by `at`) for each rule broken.
pub(super) fn check(
    at: &str,
    series: Vec<(String, Condition)>,
    consecutive: Option<u32>,
    repeat: Option<RepeatFile>,
    problems: &mut Vec<String>,
) -> Option<OverRows> {
    match (consecutive, repeat) {
        (Some(_), Some(_)) => {
            problems.push(format!("{at}: consecutive and repeat cannot both be given; declare two indicators"));
            None
        }
        (Some(n), None) => {
            if !(2..=12).contains(&n) {
                problems.push(format!("{at}: consecutive = {n} must be 2 to 12 readings"));
            }
            if series.is_empty() {
                problems.push(format!("{at}: consecutive needs series, the conditions that make a row a reading"));
            }
            Some(OverRows::Consecutive { readings: n, series })
        }
        (None, Some(r)) => {
            if !series.is_empty() {
                problems.push(format!("{at}: series is read only by consecutive"));
            }
            if !(2..=100).contains(&r.at_least) {
                problems.push(format!("{at}: repeat.at_least = {} must be 2 to 100", r.at_least));
            }
            if !(1..=36).contains(&r.within_months) {
                problems.push(format!("{at}: repeat.within_months = {} must be 1 to 36", r.within_months));
            }
            Some(OverRows::Repeat { at_least: r.at_least, within_months: r.within_months, of: r.of })
        }
        (None, None) => {
            if !series.is_empty() {
                problems.push(format!("{at}: series is read only by consecutive"));
            }
            None
        }
    }
}

/// The rows of indicators over more than one row, gathered in the pass over staging.
#[derive(Debug, Default)]
pub struct Pending {
    /// Rows that meet an indicator's row conditions, by indicator.
    hits: BTreeMap<u16, Vec<EventRow>>,
    /// Every dated reading of a `consecutive` indicator: (person, day), by indicator.
    readings: BTreeMap<u16, Vec<(u32, i32)>>,
}

impl Pending {
    /// A row meeting indicator `k`'s row conditions.
    pub fn hit(&mut self, k: u16, row: EventRow) {
        self.hits.entry(k).or_default().push(row);
    }

    /// Notes the dated readings of every `consecutive` indicator of `feed` in one staging batch,
    /// whether they match or not: row `row` is dated `days[row]` and about `person_of(row)`.
    pub fn observe(
        &mut self,
        mapping: &Mapping,
        feed: &str,
        batch: &RecordBatch,
        days: &[Option<i32>],
        person_of: &dyn Fn(usize) -> u32,
    ) {
        for (k, rows) in mapping.readings(feed, batch) {
            let found = self.readings.entry(k).or_default();
            for (row, _) in rows.iter().enumerate().filter(|(_, reading)| **reading) {
                if let Some(day) = days.get(row).copied().flatten() {
                    found.push((person_of(row), day));
                }
            }
        }
    }

    /// The rows that are events under their indicator's rule over rows.
    pub fn events(mut self, mapping: &Mapping) -> Vec<EventRow> {
        let mut out = Vec::new();
        for (k, hits) in std::mem::take(&mut self.hits) {
            match mapping.indicators.get(usize::from(k)).and_then(|i| i.over_rows.as_ref()) {
                Some(OverRows::Repeat { at_least, within_months, of }) => {
                    out.extend(repeated(hits, *at_least, *within_months, *of));
                }
                Some(OverRows::Consecutive { readings, .. }) => {
                    let series = self.readings.remove(&k).unwrap_or_default();
                    out.extend(consecutive(hits, series, *readings));
                }
                None => out.extend(hits),
            }
        }
        out
    }
}

/// The hits with at least `at_least` hits of the same person or family in the `within_months`
/// calendar months ending on their day.
fn repeated(mut hits: Vec<EventRow>, at_least: u32, within_months: u32, of: Scope) -> Vec<EventRow> {
    let key = |r: &EventRow| match of {
        Scope::Person => r.person,
        Scope::Family => r.family,
    };
    hits.sort_by_key(|r| (key(r), r.date));
    let mut out = Vec::new();
    for group in hits.chunk_by(|a, b| key(a) == key(b)) {
        let days: Vec<i32> = group.iter().map(|r| r.date).collect();
        for r in group {
            let after = add_months(r.date, -(within_months as i32));
            let inside = days.partition_point(|&d| d <= r.date) - days.partition_point(|&d| d <= after);
            if inside >= at_least as usize {
                out.push(r.clone());
            }
        }
    }
    out
}

/// The hits on a day whose reading matches and is the last of at least `n` matching readings of
/// the person in a row.
fn consecutive(hits: Vec<EventRow>, mut series: Vec<(u32, i32)>, n: u32) -> Vec<EventRow> {
    let mut matched: HashMap<(u32, i32), usize> = HashMap::new();
    for r in &hits {
        *matched.entry((r.person, r.date)).or_default() += 1;
    }
    series.sort_unstable();
    // The run of matching readings that ends on each (person, day).
    let mut run: HashMap<(u32, i32), u32> = HashMap::new();
    for person in series.chunk_by(|a, b| a.0 == b.0) {
        let mut length = 0u32;
        for day in person.chunk_by(|a, b| a.1 == b.1) {
            let key = day[0];
            // A hit is always a reading, so all of the day's readings match when the counts agree.
            length = if matched.get(&key) == Some(&day.len()) { length + 1 } else { 0 };
            run.insert(key, length);
        }
    }
    hits.into_iter().filter(|r| run.get(&(r.person, r.date)).is_some_and(|&l| l >= n)).collect()
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use tellonce_schemas::identifiers::dates::days_from_civil;

    use super::*;

    fn row(person: u32, family: u32, date: i32) -> EventRow {
        EventRow {
            person,
            family,
            indicator: 0,
            date,
            feed: "police",
            agreement: Arc::from("a@1"),
            district: None,
            imd: None,
            age_band: "unknown",
        }
    }

    fn day(m: u32, d: u32) -> i32 {
        days_from_civil(2024, m, d)
    }

    fn dates(rows: &[EventRow]) -> Vec<(u32, i32)> {
        let mut v: Vec<(u32, i32)> = rows.iter().map(|r| (r.person, r.date)).collect();
        v.sort_unstable();
        v
    }

    #[test]
    fn a_repeat_counts_the_calendar_months_ending_on_the_day() {
        // Person 1: three in six months (Jan 10, Mar 1, Jul 9): the third is within six months
        // of the first (Jul 10 would not be). Person 2: three, but spread over seven months.
        let hits = vec![
            row(1, 9, day(1, 10)),
            row(1, 9, day(3, 1)),
            row(1, 9, day(7, 9)),
            row(2, 9, day(1, 10)),
            row(2, 9, day(4, 1)),
            row(2, 9, day(7, 10)),
        ];
        assert_eq!(dates(&repeated(hits.clone(), 3, 6, Scope::Person)), [(1, day(7, 9))]);
        // Counted over the family, every one from the third on is an event.
        let family = repeated(hits, 3, 6, Scope::Family);
        assert_eq!(dates(&family), [(1, day(3, 1)), (1, day(7, 9)), (2, day(4, 1)), (2, day(7, 10))]);
    }

    #[test]
    fn rows_of_one_day_are_decided_together_whatever_their_order() {
        let hits = vec![row(1, 1, day(5, 5)), row(1, 1, day(2, 1)), row(1, 1, day(5, 5))];
        let out = repeated(hits, 3, 6, Scope::Person);
        assert_eq!(dates(&out), [(1, day(5, 5)), (1, day(5, 5))]);
    }

    #[test]
    fn consecutive_readings_must_match_in_a_row() {
        let (dec, apr, jul, dec2) = (
            days_from_civil(2023, 12, 20),
            days_from_civil(2024, 4, 1),
            days_from_civil(2024, 7, 20),
            days_from_civil(2024, 12, 20),
        );
        // Person 1 reads below, below, fine, below: an event in April only. Person 2's December
        // term is sent twice, both below, then April below: an event in April. Person 3's
        // December has two readings, one below and one not, then April below: no event.
        let series =
            vec![(1, dec), (1, apr), (1, jul), (1, dec2), (2, dec), (2, dec), (2, apr), (3, dec), (3, dec), (3, apr)];
        let hits = vec![
            row(1, 1, dec),
            row(1, 1, apr),
            row(1, 1, dec2),
            row(2, 2, dec),
            row(2, 2, dec),
            row(2, 2, apr),
            row(3, 3, dec),
            row(3, 3, apr),
        ];
        assert_eq!(dates(&consecutive(hits.clone(), series.clone(), 2)), [(1, apr), (2, apr)]);
        assert!(consecutive(hits, series, 3).is_empty());
    }
}
