//! What "met" means for a headline need: the theme mapping's `[[outcome_rules]]`, checked, and
//! the readings the rules over values need, gathered in the build's pass over staging.
//!
//! Two kinds of rule:
//! - `no_recurrence`, for needs evidenced by incidents: met when none of the headline's
//!   indicators is seen in the family in the last `at_close_months` of the episode, sustained
//!   when none is seen in the `sustain_months` after its close;
//! - `readings`, for needs evidenced by a level (attendance): the rows of `feed` meeting `series`
//!   are readings of the number column `value`, each of one person (a child's attendance). Met
//!   when the family has a reading in the last `at_close_months` of the episode and every one
//!   there is at least `at_least`; sustained when every reading in the `sustain_months` after the
//!   close is too, the window has passed, and each person read at close has at least `readings`
//!   readings in it (a person's readings on one day count as one). The absence of a reading is
//!   not evidence: no reading at close, or too few after it once the window has passed, is "no
//!   evidence either way"; a person with no reading at close is not judged.

use std::collections::{BTreeMap, BTreeSet};

use arrow_array::RecordBatch;
use serde::Deserialize;
use tellonce_schemas::{FeedSchema, Kind, feed};

use super::themes::{self, Condition, ConditionFile};

/// An outcome rule as the mapping file writes it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct OutcomeRuleFile {
    headline: String,
    met_when: String,
    at_close_months: u32,
    sustain_months: u32,
    reason: String,
    #[serde(default)]
    feed: Option<String>,
    #[serde(default)]
    series: BTreeMap<String, ConditionFile>,
    #[serde(default)]
    value: Option<String>,
    #[serde(default)]
    at_least: Option<f64>,
    #[serde(default)]
    readings: Option<u32>,
}

/// What "met" means for one headline's need.
#[derive(Debug, Clone)]
pub struct OutcomeRule {
    /// The headline.
    pub headline: String,
    /// How the rule reads the evidence.
    pub kind: RuleKind,
    /// Months before the close in which the need must not be seen (or the readings must be met)
    /// for it to be met.
    pub at_close_months: u32,
    /// Months after the close over which it must hold for the outcome to be sustained.
    pub sustain_months: u32,
    /// Why, for review.
    pub reason: String,
}

/// The kinds of outcome rule.
#[derive(Debug, Clone)]
pub enum RuleKind {
    /// None of the headline's indicators seen again.
    NoRecurrence,
    /// Readings of a value at or above a level.
    Readings(Readings),
}

/// A `readings` rule's source and level.
#[derive(Debug, Clone)]
pub struct Readings {
    /// The feed read.
    pub feed: &'static FeedSchema,
    /// What makes a row a reading.
    pub series: Vec<(String, Condition)>,
    /// The number column read.
    pub value: String,
    /// The level every reading must reach.
    pub at_least: f64,
    /// How many readings after the close sustain the outcome.
    pub readings: u32,
}

impl OutcomeRule {
    /// In words, for `themes explain` and the dataset's `decided_by`.
    pub fn describe(&self) -> String {
        match &self.kind {
            RuleKind::NoRecurrence => format!(
                "met when no {} indicator is seen in the last {} months of the episode; sustained when none is \
                 seen in the {} months after its close",
                self.headline, self.at_close_months, self.sustain_months
            ),
            RuleKind::Readings(r) => format!(
                "met when every {}.{} reading of the family in the last {} months of the episode is at least {} (and \
                 there is one); sustained when every reading in the {} months after its close is too, {} readings \
                 at least",
                r.feed.name, r.value, self.at_close_months, r.at_least, self.sustain_months, r.readings
            ),
        }
    }

    /// The readings it reads, if it is a rule over values.
    pub fn readings(&self) -> Option<&Readings> {
        match &self.kind {
            RuleKind::Readings(r) => Some(r),
            RuleKind::NoRecurrence => None,
        }
    }
}

/// Checks the mapping's outcome rules, adding a problem for each rule broken. Returns the rules,
/// and the rules left out because they read an optional feed the deployment does not define, as
/// (headline, feed).
pub(super) fn check(
    files: Vec<OutcomeRuleFile>,
    headlines: &[String],
    optional: &dyn Fn(&str) -> bool,
    problems: &mut Vec<String>,
) -> (Vec<OutcomeRule>, Vec<(String, String)>) {
    let mut out: Vec<OutcomeRule> = Vec::new();
    let mut inactive: Vec<(String, String)> = Vec::new();
    for r in files {
        let at = format!("outcome rule {}", r.headline);
        if !headlines.contains(&r.headline) {
            problems.push(format!("{at}: headline {} is not defined", r.headline));
        }
        if out.iter().any(|o| o.headline == r.headline) || inactive.iter().any(|(h, _)| *h == r.headline) {
            problems.push(format!("{at}: the headline has two rules"));
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
        let kind = match r.met_when.as_str() {
            "no_recurrence" => {
                let extra = [
                    ("feed", r.feed.is_some()),
                    ("series", !r.series.is_empty()),
                    ("value", r.value.is_some()),
                    ("at_least", r.at_least.is_some()),
                    ("readings", r.readings.is_some()),
                ];
                for (name, _) in extra.iter().filter(|(_, given)| *given) {
                    problems.push(format!("{at}: {name} is read only by met_when = readings"));
                }
                RuleKind::NoRecurrence
            }
            "readings" => match readings_rule(&at, &r, optional, problems) {
                Some(k) => k,
                // An optional feed the deployment does not define: the rule is left out, and its
                // need says no evidence either way, and why.
                None => {
                    inactive.push((r.headline.clone(), r.feed.clone().unwrap_or_default()));
                    continue;
                }
            },
            other => {
                problems.push(format!("{at}: met_when = {other} is not a rule (no_recurrence or readings)"));
                RuleKind::NoRecurrence
            }
        };
        out.push(OutcomeRule {
            headline: r.headline,
            kind,
            at_close_months: r.at_close_months,
            sustain_months: r.sustain_months,
            reason: r.reason,
        });
    }
    (out, inactive)
}

/// The `readings` part of a rule, checked against its feed.
fn readings_rule(
    at: &str,
    r: &OutcomeRuleFile,
    optional: &dyn Fn(&str) -> bool,
    problems: &mut Vec<String>,
) -> Option<RuleKind> {
    let (Some(feed_name), Some(value), Some(at_least), Some(readings)) = (&r.feed, &r.value, r.at_least, r.readings)
    else {
        problems.push(format!("{at}: met_when = readings needs feed, value, at_least and readings"));
        return Some(RuleKind::NoRecurrence);
    };
    let Some(schema) = feed::latest(feed_name) else {
        if !optional(feed_name) {
            problems.push(format!("{at}: feed {feed_name} does not exist"));
        }
        return None;
    };
    if !matches!(schema.column(value).map(|c| &c.kind), Some(Kind::Integer { .. } | Kind::Decimal { .. })) {
        problems.push(format!("{at}: value {value} is not a number column of {feed_name}"));
    }
    if !(1..=12).contains(&readings) {
        problems.push(format!("{at}: readings = {readings} must be 1 to 12"));
    }
    if r.series.is_empty() {
        problems.push(format!("{at}: series is empty: say which rows of {feed_name} are readings"));
    }
    let series =
        r.series.iter().map(|(col, cond)| (col.clone(), themes::checked(schema, at, col, cond, problems))).collect();
    Some(RuleKind::Readings(Readings { feed: schema, series, value: value.clone(), at_least, readings }))
}

/// One reading: (person, day, value).
pub type Reading = (u32, i32, f64);

/// The readings of every `readings` rule, gathered in the build's pass over staging.
#[derive(Debug, Default)]
pub struct Levels {
    /// (family, person, day, value) of each dated reading, by rule (index into the mapping's
    /// rules).
    pub by_rule: BTreeMap<usize, Vec<(u32, u32, i32, f64)>>,
    /// The latest reading of each rule: how far its evidence runs.
    pub latest: BTreeMap<usize, i32>,
    /// Rules that a staging file of their feed could not be read for, for want of a withheld
    /// column: (rule, column).
    pub withheld: BTreeSet<(usize, String)>,
}

impl Levels {
    /// Gathers the readings of one staging batch of `feed`.
    pub fn observe(
        &mut self,
        rules: &[OutcomeRule],
        feed: &str,
        batch: &RecordBatch,
        days: &[Option<i32>],
        person_of: &dyn Fn(usize) -> (u32, u32),
    ) {
        for (k, r) in rules.iter().enumerate() {
            let Some(x) = r.readings().filter(|x| x.feed.name == feed) else { continue };
            let absent: Vec<&str> = x
                .series
                .iter()
                .map(|(c, _)| c.as_str())
                .chain([x.value.as_str()])
                .filter(|c| batch.column_by_name(c).is_none())
                .collect();
            if !absent.is_empty() {
                self.withheld.extend(absent.into_iter().map(|c| (k, c.to_owned())));
                continue;
            }
            let found = self.by_rule.entry(k).or_default();
            let latest = self.latest.entry(k).or_insert(i32::MIN);
            for (row, day) in days.iter().enumerate() {
                let Some(day) = day else { continue };
                if !themes::all_hold(batch, &x.series, row) {
                    continue;
                }
                if let Some(v) = themes::number(batch, &x.value, row) {
                    let (person, family) = person_of(row);
                    found.push((family, person, *day, v));
                    *latest = (*latest).max(*day);
                }
            }
        }
    }

    /// Each family's readings of rule `k`: (person, day, lowest value of the person that day),
    /// in person and day order.
    pub fn by_family(&self, k: usize) -> std::collections::HashMap<u32, Vec<Reading>> {
        let mut out: std::collections::HashMap<u32, BTreeMap<(u32, i32), f64>> = std::collections::HashMap::new();
        for &(family, person, day, v) in self.by_rule.get(&k).into_iter().flatten() {
            let lowest = out.entry(family).or_default().entry((person, day)).or_insert(v);
            *lowest = lowest.min(v);
        }
        out.into_iter().map(|(f, days)| (f, days.into_iter().map(|((p, d), v)| (p, d, v)).collect())).collect()
    }
}
