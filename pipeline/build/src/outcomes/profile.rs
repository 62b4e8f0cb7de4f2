//! What each person's records say about them, gathered in the same pass over staging that finds
//! theme events: birth month, sex, area, the feeds they are known to in the period, and cohort
//! flags. `persons/` and `families/` are written from it.

use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::{Array, RecordBatch};

use super::settings::Period;

/// A cohort flag of `persons/`, and where in the feeds it comes from.
#[derive(Debug, Clone, Copy)]
pub struct Cohort {
    /// The column name in `persons/`.
    pub name: &'static str,
    /// What the flag means, for the data dictionary.
    pub description: &'static str,
    source: CohortSource,
}

#[derive(Debug, Clone, Copy)]
enum CohortSource {
    /// A boolean column: true on any record in the period.
    Flag(&'static str),
    /// An event-type column holding one of these codes on any record in the period.
    Event(&'static str, &'static str, &'static [&'static str]),
    /// Any record of this feed in the period.
    Feed(&'static str),
}

/// The cohort flags, in the column order of `persons/`.
pub const COHORTS: [Cohort; 6] = [
    Cohort {
        name: "early_help",
        description: "An early help episode opened or closed in the period (education feed).",
        source: CohortSource::Event("education", "event_type", &["EARLY_HELP_OPEN", "EARLY_HELP_CLOSE"]),
    },
    Cohort {
        name: "child_in_need",
        description: "A record in the period says the child has a child in need plan.",
        source: CohortSource::Flag("child_in_need"),
    },
    Cohort {
        name: "child_protection",
        description: "A record in the period says the child has a child protection plan.",
        source: CohortSource::Flag("child_protection_plan"),
    },
    Cohort {
        name: "looked_after",
        description: "A record in the period says the child is looked after by the local authority.",
        source: CohortSource::Flag("looked_after"),
    },
    Cohort {
        name: "youth_justice",
        description: "A youth justice outcome in the period (youth justice feed).",
        source: CohortSource::Feed("youth_justice"),
    },
    Cohort {
        name: "ehc_plan",
        description: "A record in the period says the child has an education, health and care plan.",
        source: CohortSource::Flag("ehc_plan"),
    },
];

/// The staging columns the cohorts of `feed` read.
pub fn cohort_columns(feed: &str) -> impl Iterator<Item = &'static str> + '_ {
    COHORTS.iter().filter_map(move |c| match c.source {
        CohortSource::Flag(col) => Some(col),
        CohortSource::Event(f, col, _) if f == feed => Some(col),
        _ => None,
    })
}

/// The most frequent value seen, by majority vote (exact when one value holds more than half the
/// votes), in constant space per person. When the votes cancel out exactly (nine records with the
/// birth month one way and nine with day and month swapped), the last value seen stands.
#[derive(Debug, Clone, Copy, Default)]
struct Vote {
    value: i32,
    weight: u32,
    last: Option<i32>,
}

impl Vote {
    fn cast(&mut self, v: i32) {
        self.last = Some(v);
        if self.weight == 0 {
            self.value = v;
            self.weight = 1;
        } else if self.value == v {
            self.weight += 1;
        } else {
            self.weight -= 1;
        }
    }

    fn winner(&self) -> Option<i32> {
        if self.weight > 0 { Some(self.value) } else { self.last }
    }
}

/// The area of a record, interned: district, IMD decile and small area.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Area {
    /// The district or borough.
    pub district: Option<Arc<str>>,
    /// The IMD decile of the small area.
    pub imd: Option<u8>,
    /// The small area (LSOA-like).
    pub small_area: Option<Arc<str>>,
}

/// Per-person facts from every staged record of a build.
#[derive(Debug)]
pub struct Profiles {
    birth: Vec<Vote>,
    sex: Vec<Vote>,
    /// (event date, index into `areas`) of the latest record with a known area.
    latest: Vec<Option<(i32, u32)>>,
    areas: Vec<Area>,
    area_index: std::collections::HashMap<Area, u32>,
    /// Bit `i`: known to feed `feeds[i]` in the period.
    known: Vec<u16>,
    /// Bit `i`: cohort `COHORTS[i]`.
    flags: Vec<u8>,
    /// Feeds seen, in the order of their bits.
    pub feeds: Vec<&'static str>,
    /// Bit `i`: some staged file could carry cohort `i`.
    pub carried: u8,
    /// Whether some staged file carries `sex`.
    pub sex_carried: bool,
    /// The latest event date in the period.
    pub last_event: Option<i32>,
    /// The latest event date held of each feed, whatever the period: how far its data runs.
    pub data_end: std::collections::BTreeMap<&'static str, i32>,
}

/// Sex codes, in the order of their votes.
const SEXES: [&str; 4] = ["M", "F", "X", "U"];

impl Profiles {
    /// Empty profiles for `persons` persons.
    pub fn new(persons: usize) -> Profiles {
        Profiles {
            birth: vec![Vote::default(); persons],
            sex: vec![Vote::default(); persons],
            latest: vec![None; persons],
            areas: Vec::new(),
            area_index: std::collections::HashMap::new(),
            known: vec![0; persons],
            flags: vec![0; persons],
            feeds: Vec::new(),
            carried: 0,
            sex_carried: false,
            last_event: None,
            data_end: std::collections::BTreeMap::new(),
        }
    }

    /// Notes which cohorts and columns a staged file of `feed` can speak to.
    pub fn file(&mut self, feed: &'static str, has_column: &dyn Fn(&str) -> bool) -> Result<(), String> {
        if !self.feeds.contains(&feed) {
            if self.feeds.len() >= 16 {
                return Err("more than 16 feeds in one build".to_owned());
            }
            self.feeds.push(feed);
        }
        self.sex_carried |= has_column("sex");
        for (i, c) in COHORTS.iter().enumerate() {
            let can = match c.source {
                CohortSource::Flag(col) => has_column(col),
                CohortSource::Event(f, col, _) => f == feed && has_column(col),
                CohortSource::Feed(f) => f == feed,
            };
            if can {
                self.carried |= 1 << i;
            }
        }
        Ok(())
    }

    /// Observes one staging batch of `feed` whose row `row` belongs to `person_of(row)`; `dates`
    /// are the rows' event dates and `areas` their interned areas.
    pub fn observe(
        &mut self,
        feed: &'static str,
        batch: &RecordBatch,
        period: &Period,
        dates: &[Option<i32>],
        areas: &[Option<u32>],
        person_of: &dyn Fn(usize) -> u32,
    ) {
        if let Some(&latest) = dates.iter().flatten().max() {
            let end = self.data_end.entry(feed).or_insert(latest);
            *end = (*end).max(latest);
        }
        let bit = self.feeds.iter().position(|f| *f == feed).map_or(0, |i| 1u16 << i);
        let birth = batch.column_by_name("date_of_birth_month").and_then(|c| c.as_string_opt::<i32>());
        let sex = batch.column_by_name("sex").and_then(|c| c.as_string_opt::<i32>());
        let cohort_values: Vec<Option<CohortColumn<'_>>> = COHORTS
            .iter()
            .map(|c| match c.source {
                CohortSource::Flag(col) => {
                    batch.column_by_name(col).and_then(|a| a.as_boolean_opt()).map(CohortColumn::Flag)
                }
                CohortSource::Event(f, col, codes) if f == feed => batch
                    .column_by_name(col)
                    .and_then(|a| a.as_string_opt::<i32>())
                    .map(|a| CohortColumn::Codes(a, codes)),
                CohortSource::Feed(f) if f == feed => Some(CohortColumn::Always),
                _ => None,
            })
            .collect();
        for row in 0..batch.num_rows() {
            let p = person_of(row) as usize;
            if p >= self.known.len() {
                continue;
            }
            if let Some(m) = birth.filter(|b| b.is_valid(row)).and_then(|b| year_month(b.value(row))) {
                self.birth[p].cast(m);
            }
            if let Some(s) = sex.filter(|s| s.is_valid(row)).and_then(|s| SEXES.iter().position(|c| *c == s.value(row)))
            {
                self.sex[p].cast(s as i32);
            }
            let date = dates.get(row).copied().flatten();
            if !period.contains(date) {
                continue;
            }
            self.known[p] |= bit;
            if let Some(d) = date {
                self.last_event = Some(self.last_event.map_or(d, |l| l.max(d)));
                if let Some(a) = areas.get(row).copied().flatten()
                    && self.latest[p].is_none_or(|(l, _)| d > l)
                {
                    self.latest[p] = Some((d, a));
                }
            }
            for (i, v) in cohort_values.iter().enumerate() {
                let set = match v {
                    Some(CohortColumn::Flag(a)) => a.is_valid(row) && a.value(row),
                    Some(CohortColumn::Codes(a, codes)) => a.is_valid(row) && codes.contains(&a.value(row)),
                    Some(CohortColumn::Always) => true,
                    None => false,
                };
                if set {
                    self.flags[p] |= 1 << i;
                }
            }
        }
    }

    /// Interns an area, returning its index.
    pub fn area(&mut self, area: Area) -> u32 {
        if let Some(i) = self.area_index.get(&area) {
            return *i;
        }
        let i = self.areas.len() as u32;
        self.areas.push(area.clone());
        self.area_index.insert(area, i);
        i
    }

    /// Whether the person has a record in the period.
    pub fn in_period(&self, p: usize) -> bool {
        self.known.get(p).is_some_and(|k| *k != 0)
    }

    /// The person's birth month as `year * 12 + month - 1`, if any record gives one.
    pub fn birth_month(&self, p: usize) -> Option<i32> {
        self.birth.get(p).and_then(Vote::winner)
    }

    /// The person's sex code, if some feed carries it.
    pub fn sex(&self, p: usize) -> Option<&'static str> {
        self.sex.get(p).and_then(Vote::winner).and_then(|i| SEXES.get(i as usize).copied())
    }

    /// The date and area of the person's latest record with a known area in the period.
    pub fn latest(&self, p: usize) -> Option<(i32, &Area)> {
        self.latest.get(p).copied().flatten().and_then(|(d, a)| self.areas.get(a as usize).map(|a| (d, a)))
    }

    /// The feeds the person is known to in the period, in the order of `feeds`.
    pub fn feeds_of(&self, p: usize) -> impl Iterator<Item = &'static str> + '_ {
        let k = self.known.get(p).copied().unwrap_or(0);
        self.feeds.iter().enumerate().filter(move |(i, _)| k & (1 << i) != 0).map(|(_, f)| *f)
    }

    /// The person's cohort flags: `None` where no staged file carries the cohort.
    pub fn cohort(&self, p: usize, i: usize) -> Option<bool> {
        (self.carried & (1 << i) != 0).then(|| self.flags.get(p).is_some_and(|f| f & (1 << i) != 0))
    }
}

enum CohortColumn<'a> {
    Flag(&'a arrow_array::BooleanArray),
    Codes(&'a arrow_array::StringArray, &'static [&'static str]),
    Always,
}

/// `YYYY-MM` as `year * 12 + month - 1`.
fn year_month(s: &str) -> Option<i32> {
    let (y, m) = s.split_once('-')?;
    let (y, m): (i32, i32) = (y.parse().ok()?, m.parse().ok()?);
    (1..=12).contains(&m).then_some(y * 12 + m - 1)
}

/// Whole months from a birth month (`year * 12 + month - 1`) to the month of `day`.
pub fn age_months(birth_month: i32, day: i32) -> i32 {
    let (y, m, _) = tellonce_schemas::identifiers::dates::civil_from_days(day);
    y * 12 + m as i32 - 1 - birth_month
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_vote_keeps_a_majority_value() {
        let mut v = Vote::default();
        for x in [5, 7, 5, 5, 9] {
            v.cast(x);
        }
        assert_eq!(v.winner(), Some(5));
        assert_eq!(Vote::default().winner(), None);
        // A tie still gives a value: the last one seen.
        let mut tie = Vote::default();
        for x in [3, 4, 3, 4] {
            tie.cast(x);
        }
        assert_eq!(tie.winner(), Some(4));
    }

    #[test]
    fn birth_months_and_ages() {
        assert_eq!(year_month("2019-03"), Some(2019 * 12 + 2));
        assert_eq!(year_month("2019-13"), None);
        assert_eq!(year_month("garbage"), None);
        let day = tellonce_schemas::identifiers::dates::days_from_civil(2025, 3, 31);
        assert_eq!(age_months(2019 * 12 + 2, day), 72);
    }
}
