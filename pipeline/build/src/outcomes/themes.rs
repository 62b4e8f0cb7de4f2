//! The Supporting Families theme mapping: which partner events are evidence of which headline
//! need, kept as a reviewable TOML file (the default is embedded from
//! `pipeline/themes/supporting_families.toml`).
//!
//! Headlines have stable codes (`SF01`–`SF10`) with their label and known alternative labels;
//! each indicator names its headline, the feed it reads, the conditions a staging row must meet,
//! and the reason it maps there. Loading checks every indicator against the feed schemas and
//! reports every problem at once.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::Path;

use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, Int64Type};
use arrow_array::{Array, RecordBatch};
use serde::Deserialize;
use tellonce_schemas::{FeedSchema, Kind, feed};

/// The embedded default mapping.
pub const DEFAULT_MAPPING: &str = include_str!("../../../themes/supporting_families.toml");

/// Why a mapping cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ThemesError {
    /// The file cannot be read.
    #[error("cannot read theme mapping {path}: {message}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        message: String,
    },
    /// The file is not valid TOML of the mapping's shape.
    #[error("theme mapping {path}: {message}")]
    Syntax {
        /// The file.
        path: String,
        /// The parser's message, with line and column.
        message: String,
    },
    /// The mapping does not fit the feeds.
    #[error("theme mapping {path} has {} problem(s):\n  {}", problems.len(), problems.join("\n  "))]
    Invalid {
        /// The file.
        path: String,
        /// Every problem, each naming the indicator and the rule broken.
        problems: Vec<String>,
    },
}

/// The mapping file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MappingFile {
    version: u32,
    headlines: Vec<Headline>,
    #[serde(default)]
    event_types: BTreeMap<String, String>,
    #[serde(default)]
    indicators: Vec<IndicatorFile>,
    /// Feeds that are not built in: where the deployment defines no such feed, an indicator on
    /// one is inactive rather than an error. Any other unknown feed is an error (a typo).
    #[serde(default)]
    optional_feeds: Vec<String>,
    /// Where episodes of support come from.
    #[serde(default)]
    episodes: Vec<super::episodes::EpisodeSourceFile>,
    /// What "met" means for each headline's need.
    #[serde(default)]
    outcome_rules: Vec<super::outcome_rules::OutcomeRuleFile>,
}

/// A headline outcome.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Headline {
    /// Stable code, `SF01`…`SF10`.
    pub code: String,
    /// Display label (gov.uk 2022 wording).
    pub label: String,
    /// Alternative labels seen in later material.
    #[serde(default)]
    pub aliases: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct IndicatorFile {
    code: String,
    headline: String,
    feed: String,
    reason: String,
    #[serde(default)]
    when: BTreeMap<String, ConditionFile>,
    #[serde(default)]
    any: Vec<BTreeMap<String, ConditionFile>>,
    /// The rows a `consecutive` rule reads as one person's readings.
    #[serde(default)]
    series: BTreeMap<String, ConditionFile>,
    #[serde(default)]
    consecutive: Option<u32>,
    #[serde(default)]
    repeat: Option<super::sequences::RepeatFile>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub(super) enum ConditionFile {
    Codes(Vec<String>),
    Flag(bool),
    Range(RangeFile),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RangeFile {
    below: Option<f64>,
    at_least: Option<f64>,
}

/// What one column must hold.
#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    /// One of these codes.
    Codes(Vec<String>),
    /// This flag value.
    Flag(bool),
    /// A number in `[at_least, below)`.
    Range {
        /// Inclusive lower bound.
        at_least: Option<f64>,
        /// Exclusive upper bound.
        below: Option<f64>,
    },
}

impl Condition {
    fn describe(&self, column: &str) -> String {
        match self {
            Condition::Codes(c) if c.len() == 1 => format!("{column} is {}", c[0]),
            Condition::Codes(c) => format!("{column} is one of {}", c.join(", ")),
            Condition::Flag(true) => format!("{column} is true"),
            Condition::Flag(false) => format!("{column} is false"),
            Condition::Range { at_least: Some(a), below: Some(b) } => format!("{a} <= {column} < {b}"),
            Condition::Range { at_least: Some(a), below: None } => format!("{column} >= {a}"),
            Condition::Range { at_least: None, below: Some(b) } => format!("{column} < {b}"),
            Condition::Range { .. } => format!("{column} is present"),
        }
    }
}

/// One indicator: a kind of event that evidences a headline need.
#[derive(Debug, Clone)]
pub struct Indicator {
    /// Short code, unique in the mapping (`persistent_absence`).
    pub code: String,
    /// Its headline's code.
    pub headline: String,
    /// The feed it reads.
    pub feed: &'static FeedSchema,
    /// Why it maps there.
    pub reason: String,
    /// Conditions that must all hold.
    pub when: Vec<(String, Condition)>,
    /// Alternatives of which one must hold (when not empty).
    pub any: Vec<Vec<(String, Condition)>>,
    /// A rule over more than one row of the person or family, if any: the indicator is an event
    /// only where the rows around it meet it too.
    pub over_rows: Option<OverRows>,
}

/// An indicator's rule over more than one row (see [`super::sequences`]).
#[derive(Debug, Clone, PartialEq)]
pub enum OverRows {
    /// At least `at_least` matching rows of the same person (or family) within `within_months`.
    Repeat {
        /// How many.
        at_least: u32,
        /// Calendar months, ending on the row's day.
        within_months: u32,
        /// Whose rows count together.
        of: super::sequences::Scope,
    },
    /// The row and the `readings - 1` readings of the person before it all match, where a
    /// reading is a row meeting `series` (readings on one day count as one).
    Consecutive {
        /// How many readings in a row.
        readings: u32,
        /// What makes a row a reading.
        series: Vec<(String, Condition)>,
    },
}

impl OverRows {
    /// In words, after the row conditions.
    pub fn describe(&self) -> String {
        match self {
            OverRows::Repeat { at_least, within_months, of } => {
                format!("at least {at_least} times for the same {} within {within_months} months", of.name())
            }
            OverRows::Consecutive { readings, series } => {
                let s: Vec<String> = series.iter().map(|(c, k)| k.describe(c)).collect();
                format!("in {readings} consecutive readings of the person (a reading: {})", s.join(" and "))
            }
        }
    }
}

impl Indicator {
    /// Every column the indicator reads.
    pub fn columns(&self) -> BTreeSet<&str> {
        self.when.iter().chain(self.any.iter().flatten()).chain(self.series()).map(|(c, _)| c.as_str()).collect()
    }

    /// The conditions that make a row a reading of a `consecutive` rule (empty otherwise).
    pub fn series(&self) -> &[(String, Condition)] {
        match &self.over_rows {
            Some(OverRows::Consecutive { series, .. }) => series,
            _ => &[],
        }
    }

    /// The conditions in words.
    pub fn describe(&self) -> String {
        let mut parts: Vec<String> = self.when.iter().map(|(c, k)| k.describe(c)).collect();
        if !self.any.is_empty() {
            let alts: Vec<String> = self
                .any
                .iter()
                .map(|a| a.iter().map(|(c, k)| k.describe(c)).collect::<Vec<_>>().join(" and "))
                .collect();
            parts.push(format!("any of: {}", alts.join("; ")));
        }
        let mut text = if parts.is_empty() { "every record".to_owned() } else { parts.join(", and ") };
        if let Some(o) = &self.over_rows {
            text.push_str(", ");
            text.push_str(&o.describe());
        }
        text
    }
}

/// A checked mapping.
#[derive(Debug, Clone)]
pub struct Mapping {
    /// Where it was read from (`embedded default` or a path).
    pub source: String,
    /// The file's version number.
    pub version: u32,
    /// Headlines in code order.
    pub headlines: Vec<Headline>,
    /// Indicators in file order.
    pub indicators: Vec<Indicator>,
    /// The event-type column of each feed.
    pub event_types: BTreeMap<String, String>,
    /// Indicators left out because their feed is optional and not defined here: (headline,
    /// indicator code, feed).
    pub inactive: Vec<(String, String, String)>,
    /// Where episodes of support come from.
    pub episodes: Vec<super::episodes::EpisodeSource>,
    /// What "met" means for each headline's need.
    pub outcome_rules: Vec<super::outcome_rules::OutcomeRule>,
    /// Outcome rules left out because their feed is optional and not defined here: (headline,
    /// feed).
    pub inactive_rules: Vec<(String, String)>,
}

impl Mapping {
    /// The embedded default mapping.
    pub fn embedded() -> Result<Mapping, ThemesError> {
        Mapping::parse(DEFAULT_MAPPING, "embedded default")
    }

    /// Reads a mapping file.
    pub fn load(path: &Path) -> Result<Mapping, ThemesError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ThemesError::Read { path: path.display().to_string(), message: e.to_string() })?;
        Mapping::parse(&text, &path.display().to_string())
    }

    /// Parses and checks a mapping's text.
    pub fn parse(text: &str, source: &str) -> Result<Mapping, ThemesError> {
        let file: MappingFile = toml::from_str(text)
            .map_err(|e| ThemesError::Syntax { path: source.to_owned(), message: e.to_string() })?;
        let mut problems = Vec::new();
        let mut seen = BTreeSet::new();
        for h in &file.headlines {
            if !seen.insert(h.code.clone()) {
                problems.push(format!("headline {} is listed twice", h.code));
            }
        }
        let optional = |name: &str| file.optional_feeds.iter().any(|f| f == name);
        for (feed_name, column) in &file.event_types {
            match feed::latest(feed_name) {
                None if optional(feed_name) => {}
                None => problems.push(format!("event_types.{feed_name}: no such feed")),
                Some(f) if !matches!(f.column(column).map(|c| &c.kind), Some(Kind::Code(_))) => {
                    problems.push(format!("event_types.{feed_name}: {column} is not a code column of {feed_name}"))
                }
                Some(_) => {}
            }
        }
        let mut indicators = Vec::new();
        let mut inactive = Vec::new();
        let mut codes = BTreeSet::new();
        for i in file.indicators {
            let at = format!("indicator {}", i.code);
            if !codes.insert(i.code.clone()) {
                problems.push(format!("{at}: the code is used twice"));
            }
            if !seen.contains(&i.headline) {
                problems.push(format!("{at}: headline {} is not defined", i.headline));
            }
            if i.reason.trim().is_empty() {
                problems.push(format!("{at}: reason is empty; say why the event maps here"));
            }
            if i.when.is_empty() && i.any.is_empty() {
                problems.push(format!("{at}: no condition: it would count every record of {}", i.feed));
            }
            let Some(schema) = feed::latest(&i.feed) else {
                if optional(&i.feed) {
                    inactive.push((i.headline, i.code, i.feed));
                } else {
                    problems.push(format!("{at}: feed {} does not exist", i.feed));
                }
                continue;
            };
            let mut check = |table: &BTreeMap<String, ConditionFile>| -> Vec<(String, Condition)> {
                table.iter().map(|(col, cond)| (col.clone(), checked(schema, &at, col, cond, &mut problems))).collect()
            };
            let when = check(&i.when);
            let any = i.any.iter().map(&mut check).collect();
            let series = check(&i.series);
            let over_rows = super::sequences::check(&at, series, i.consecutive, i.repeat, &mut problems);
            indicators.push(Indicator {
                code: i.code,
                headline: i.headline,
                feed: schema,
                reason: i.reason,
                when,
                any,
                over_rows,
            });
        }
        let episodes = super::episodes::check(file.episodes, &optional, &mut problems);
        let codes: Vec<String> = file.headlines.iter().map(|h| h.code.clone()).collect();
        let (outcome_rules, inactive_rules) =
            super::outcome_rules::check(file.outcome_rules, &codes, &optional, &mut problems);
        if !problems.is_empty() {
            return Err(ThemesError::Invalid { path: source.to_owned(), problems });
        }
        let mut headlines = file.headlines;
        headlines.sort_by(|a, b| a.code.cmp(&b.code));
        Ok(Mapping {
            source: source.to_owned(),
            version: file.version,
            headlines,
            indicators,
            event_types: file.event_types,
            inactive,
            episodes,
            outcome_rules,
            inactive_rules,
        })
    }

    /// A headline's label.
    pub fn label<'a>(&'a self, code: &'a str) -> &'a str {
        self.headlines.iter().find(|h| h.code == code).map_or(code, |h| h.label.as_str())
    }

    /// Codes of each feed's event-type column that no indicator names, by feed.
    pub fn unmapped_event_types(&self) -> BTreeMap<&str, Vec<&'static str>> {
        let mut out = BTreeMap::new();
        for (feed_name, column) in &self.event_types {
            let Some(schema) = feed::latest(feed_name) else { continue };
            let Some(Kind::Code(all)) = schema.column(column).map(|c| &c.kind) else { continue };
            let used: BTreeSet<&str> = self
                .indicators
                .iter()
                .filter(|i| i.feed.name == schema.name)
                .flat_map(|i| {
                    let conds: Vec<&Condition> = i
                        .when
                        .iter()
                        .chain(i.any.iter().flatten())
                        .chain(i.series())
                        .filter(|(c, _)| c == column)
                        .map(|(_, k)| k)
                        .collect();
                    // An indicator that does not look at the event type covers every type.
                    if conds.is_empty() {
                        all.to_vec()
                    } else {
                        conds
                            .into_iter()
                            .flat_map(|k| match k {
                                Condition::Codes(c) => c.iter().map(String::as_str).collect::<Vec<_>>(),
                                _ => Vec::new(),
                            })
                            .collect()
                    }
                })
                .collect();
            out.insert(feed_name.as_str(), all.iter().copied().filter(|c| !used.contains(c)).collect());
        }
        out
    }

    /// The mapping in words, for `tellonce themes explain`.
    pub fn explain(&self) -> String {
        let mut s = format!("Supporting Families theme mapping, version {} ({})\n", self.version, self.source);
        for h in &self.headlines {
            let aliases =
                if h.aliases.is_empty() { String::new() } else { format!(" (also: {})", h.aliases.join("; ")) };
            let _ = writeln!(s, "\n{} {}{aliases}", h.code, h.label);
            let mine: Vec<&Indicator> = self.indicators.iter().filter(|i| i.headline == h.code).collect();
            if mine.is_empty() && !self.inactive.iter().any(|(headline, ..)| *headline == h.code) {
                let _ = writeln!(s, "  no indicator: no configured feed carries evidence of this need");
            }
            for i in mine {
                let _ = writeln!(s, "  {}.{} from {}: {}", h.code, i.code, i.feed.name, i.describe());
                let _ = writeln!(s, "    why: {}", i.reason);
            }
            match self.outcome_rules.iter().find(|r| r.headline == h.code) {
                Some(r) => {
                    let _ = writeln!(s, "  outcome: {}", r.describe());
                    let _ = writeln!(s, "    why: {}", r.reason);
                }
                None => match self.inactive_rules.iter().find(|(headline, _)| *headline == h.code) {
                    Some((_, feed_name)) => {
                        let _ = writeln!(s, "  outcome: inactive, its rule reads feed {feed_name}, not defined here");
                    }
                    None => {
                        let _ =
                            writeln!(s, "  outcome: no rule declared (family_outcomes/ says no evidence either way)");
                    }
                },
            }
            for (_, code, feed_name) in self.inactive.iter().filter(|(headline, ..)| *headline == h.code) {
                let _ = writeln!(
                    s,
                    "  {}.{code} from {feed_name}: inactive, this deployment defines no feed {feed_name}",
                    h.code
                );
            }
        }
        if !self.episodes.is_empty() {
            let _ = writeln!(s, "\nEpisodes of support (episodes/):");
        }
        for e in &self.episodes {
            let mut reason = e.closure_reason.as_deref().map_or(String::new(), |r| format!(", closure reason {r}"));
            if !e.step_up.is_empty() {
                let _ = write!(reason, " (a step up to level 4: {})", e.step_up.join(", "));
            }
            let _ = writeln!(
                s,
                "  {} (level {}) from {}: opened by {} {}, closed by {} {}{reason}",
                e.service,
                e.level,
                e.feed.name,
                e.column,
                e.open.join("/"),
                e.column,
                e.close.join("/")
            );
            let _ = writeln!(s, "    why: {}", e.reason);
        }
        let unmapped = self.unmapped_event_types();
        if unmapped.values().any(|v| !v.is_empty()) {
            let _ = writeln!(s, "\nEvent types that map to no headline:");
            for (feed_name, codes) in unmapped {
                if !codes.is_empty() {
                    let col = self.event_types.get(feed_name).map_or("", String::as_str);
                    // A code an episode source reads is used, though by no headline.
                    let episode = |c: &str| {
                        self.episodes.iter().any(|e| {
                            e.feed.name == feed_name && e.column == col && e.open.iter().chain(&e.close).any(|x| x == c)
                        })
                    };
                    let shown: Vec<String> = codes
                        .iter()
                        .map(|c| if episode(c) { format!("{c} (episodes)") } else { (*c).to_owned() })
                        .collect();
                    let _ = writeln!(s, "  {feed_name}.{col}: {}", shown.join(", "));
                }
            }
        }
        s
    }

    /// For each row of a staging batch of `feed`, the indicators (indices into
    /// [`Mapping::indicators`]) it matches. An indicator reading a column the batch lacks (the
    /// agreement withheld it) matches nothing; `missing` collects such (indicator, column) pairs.
    pub fn matches(&self, feed: &str, batch: &RecordBatch, missing: &mut BTreeSet<(usize, String)>) -> Vec<Vec<u16>> {
        let mut out = vec![Vec::new(); batch.num_rows()];
        for (k, ind) in self.indicators.iter().enumerate() {
            if ind.feed.name != feed {
                continue;
            }
            let absent: Vec<&str> = ind.columns().into_iter().filter(|c| batch.column_by_name(c).is_none()).collect();
            if !absent.is_empty() {
                missing.extend(absent.into_iter().map(|c| (k, c.to_owned())));
                continue;
            }
            for (row, hits) in out.iter_mut().enumerate() {
                let all = |conds: &[(String, Condition)]| conds.iter().all(|(c, k)| holds(batch, c, k, row));
                if all(ind.series()) && all(&ind.when) && (ind.any.is_empty() || ind.any.iter().any(|alt| all(alt))) {
                    hits.push(k as u16);
                }
            }
        }
        out
    }

    /// For each `consecutive` indicator of `feed` whose series columns the batch has, which rows
    /// of the batch are readings of it. A batch that lacks a column of the indicator's other
    /// conditions (withheld) still has its readings: they match nothing, so a run of matching
    /// readings never bridges a reading that could not be seen.
    pub fn readings(&self, feed: &str, batch: &RecordBatch) -> Vec<(u16, Vec<bool>)> {
        self.indicators
            .iter()
            .enumerate()
            .filter(|(_, ind)| ind.feed.name == feed && !ind.series().is_empty())
            .filter(|(_, ind)| ind.series().iter().all(|(c, _)| batch.column_by_name(c).is_some()))
            .map(|(k, ind)| {
                let rows = (0..batch.num_rows())
                    .map(|row| ind.series().iter().all(|(c, cond)| holds(batch, c, cond, row)))
                    .collect();
                (k as u16, rows)
            })
            .collect()
    }
}

pub(super) fn checked(
    schema: &'static FeedSchema,
    at: &str,
    column: &str,
    cond: &ConditionFile,
    problems: &mut Vec<String>,
) -> Condition {
    let Some(col) = schema.column(column) else {
        problems.push(format!("{at}: {} has no column {column}", schema.name));
        return Condition::Flag(false);
    };
    match (cond, &col.kind) {
        (ConditionFile::Codes(codes), Kind::Code(allowed)) => {
            for c in codes {
                if !allowed.contains(&c.as_str()) {
                    problems.push(format!("{at}: {column} has no code {c}; its codes are {}", allowed.join(", ")));
                }
            }
            Condition::Codes(codes.clone())
        }
        (ConditionFile::Flag(b), Kind::Boolean) => Condition::Flag(*b),
        (ConditionFile::Range(r), Kind::Integer { .. } | Kind::Decimal { .. }) => {
            if r.below.is_none() && r.at_least.is_none() {
                problems.push(format!("{at}: {column}: give below, at_least or both"));
            }
            Condition::Range { at_least: r.at_least, below: r.below }
        }
        _ => {
            problems.push(format!("{at}: the condition on {column} does not fit its kind ({})", col.kind.describe()));
            Condition::Flag(false)
        }
    }
}

/// Whether one condition holds for one row (a null never matches).
fn holds(batch: &RecordBatch, column: &str, cond: &Condition, row: usize) -> bool {
    let Some(a) = batch.column_by_name(column) else { return false };
    if a.is_null(row) {
        return false;
    }
    match cond {
        Condition::Codes(codes) => a.as_string_opt::<i32>().is_some_and(|s| codes.iter().any(|c| c == s.value(row))),
        Condition::Flag(b) => a.as_boolean_opt().is_some_and(|f| f.value(row) == *b),
        Condition::Range { at_least, below } => {
            let Some(v) = number(batch, column, row) else { return false };
            at_least.is_none_or(|lo| v >= lo) && below.is_none_or(|hi| v < hi)
        }
    }
}

/// A number column's value at `row` (`None`: null, or not a number column).
pub(super) fn number(batch: &RecordBatch, column: &str, row: usize) -> Option<f64> {
    let a = batch.column_by_name(column)?;
    if a.is_null(row) {
        None
    } else if let Some(f) = a.as_primitive_opt::<Float64Type>() {
        Some(f.value(row))
    } else {
        a.as_primitive_opt::<Int64Type>().map(|i| i.value(row) as f64)
    }
}

/// Whether every condition of `conds` holds for `row`.
pub(super) fn all_hold(batch: &RecordBatch, conds: &[(String, Condition)], row: usize) -> bool {
    conds.iter().all(|(c, k)| holds(batch, c, k, row))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    use arrow_array::{ArrayRef, Float64Array, StringArray};
    use arrow_schema::{DataType, Field, Schema};

    #[test]
    fn the_embedded_mapping_loads_and_covers_the_issue_examples() {
        let m = Mapping::embedded().unwrap();
        assert_eq!(m.headlines.len(), 10);
        assert_eq!(m.headlines[3].aliases, ["Promoting recovery and reducing harm from substance use"]);
        let by = |code: &str| m.indicators.iter().find(|i| i.code == code).unwrap();
        assert_eq!(by("domestic_abuse_incident").headline, "SF08");
        assert_eq!(by("missing_episode").headline, "SF06");
        assert_eq!(by("persistent_absence").headline, "SF01");
        assert_eq!(by("asq3_below_cutoff").headline, "SF02");
        assert_eq!(by("camhs_referral_accepted").headline, "SF03");
        assert_eq!(by("homelessness_duty").headline, "SF09");
        assert_eq!(by("council_tax_arrears").headline, "SF10");
        assert_eq!(by("youth_justice_outcome").headline, "SF07");
        assert_eq!(by("child_to_parent_violence").headline, "SF05");
        let text = m.explain();
        assert!(text.contains("SF04 Better managed substance use"), "{text}");
        // The substance misuse feed is not built in: without a deployment defining it, SF04's
        // indicators are inactive, and said to be.
        assert!(text.contains("SF04.substance_misuse_treatment from substance_misuse: inactive"), "{text}");
        assert_eq!(m.inactive.len(), 2);
        let typo = DEFAULT_MAPPING.replacen("feed = \"substance_misuse\"", "feed = \"substance_misuses\"", 1);
        match Mapping::parse(&typo, "typo") {
            Err(ThemesError::Invalid { problems, .. }) => {
                assert!(problems.iter().any(|p| p.contains("feed substance_misuses does not exist")), "{problems:?}")
            }
            other => panic!("a feed neither defined nor optional is an error: {other:?}"),
        }
        assert!(text.contains("district.event_type: COUNCIL_TAX_REDUCTION, ASB_CASE, HOUSING_CONDITION"), "{text}");
    }

    #[test]
    fn every_problem_is_reported_with_its_indicator() {
        let text = r#"
version = 1
[[headlines]]
code = "SF01"
label = "x"
[[indicators]]
code = "a"
headline = "SF99"
feed = "education"
reason = ""
when = { event_type = ["NOPE"], attendance_pct = true, no_such = ["X"] }
[[indicators]]
code = "a"
headline = "SF01"
feed = "nowhere"
reason = "r"
when = { x = ["Y"] }
"#;
        let Err(ThemesError::Invalid { problems, .. }) = Mapping::parse(text, "t.toml") else { panic!() };
        let all = problems.join("\n");
        for want in [
            "indicator a: headline SF99 is not defined",
            "indicator a: reason is empty",
            "indicator a: event_type has no code NOPE",
            "indicator a: the condition on attendance_pct does not fit its kind",
            "indicator a: education has no column no_such",
            "indicator a: the code is used twice",
            "indicator a: feed nowhere does not exist",
        ] {
            assert!(all.contains(want), "missing {want:?} in\n{all}");
        }
    }

    #[test]
    fn rules_over_rows_and_over_readings_are_checked() {
        let two_terms = "series = { event_type = [\"ATTENDANCE_TERM\"] }\nwhen = { attendance_pct = { below = 90.0 } }\nconsecutive = 2";
        let repeat = "repeat = { at_least = 3, within_months = 6 }";
        let readings = "value = \"attendance_pct\"";
        for (from, to, rule) in [
            (two_terms, two_terms.replace("consecutive = 2", "consecutive = 1"), "consecutive = 1 must be 2 to 12"),
            (two_terms, two_terms.replace("consecutive = 2", ""), "series is read only by consecutive"),
            (
                two_terms,
                two_terms.replace("consecutive = 2", format!("consecutive = 2\n{repeat}").as_str()),
                "cannot both",
            ),
            (repeat, repeat.replace("at_least = 3", "at_least = 1"), "repeat.at_least = 1 must be 2 to 100"),
            (repeat, repeat.replace("within_months = 6", "within_months = 0"), "within_months = 0 must be 1 to 36"),
            (readings, readings.replace("attendance_pct", "event_type"), "value event_type is not a number column"),
            (readings, String::new(), "needs feed, value, at_least and readings"),
            ("readings = 2", "readings = 0".to_owned(), "readings = 0 must be 1 to 12"),
            ("met_when = \"readings\"", "met_when = \"sometimes\"".to_owned(), "met_when = sometimes is not a rule"),
        ] {
            assert!(DEFAULT_MAPPING.contains(from), "{from}");
            match Mapping::parse(&DEFAULT_MAPPING.replacen(from, &to, 1), "t") {
                Err(ThemesError::Invalid { problems, .. }) => {
                    assert!(problems.iter().any(|p| p.contains(rule)), "{rule}: {problems:?}")
                }
                other => panic!("{to}: {other:?}"),
            }
        }
        // A readings rule on an optional feed the deployment does not define is inactive, said
        // so, and still counts as the headline's rule.
        let on_optional = "[[outcome_rules]]\nheadline = \"SF02\"\nmet_when = \"readings\"\nfeed = \"substance_misuse\"\nseries = { service = [\"ADULT\"] }\nvalue = \"x\"\nat_least = 1.0\nreadings = 1\nat_close_months = 3\nsustain_months = 6\nreason = \"r\"\n";
        let m = Mapping::parse(&format!("{DEFAULT_MAPPING}\n{on_optional}"), "t").unwrap();
        assert_eq!(m.inactive_rules, [("SF02".to_owned(), "substance_misuse".to_owned())]);
        assert!(m.explain().contains("outcome: inactive, its rule reads feed substance_misuse"), "{}", m.explain());
        match Mapping::parse(&format!("{DEFAULT_MAPPING}\n{on_optional}\n{on_optional}"), "t") {
            Err(ThemesError::Invalid { problems, .. }) => {
                assert!(problems.iter().any(|p| p.contains("SF02: the headline has two rules")), "{problems:?}")
            }
            other => panic!("two rules for SF02: {other:?}"),
        }
        let m = Mapping::embedded().unwrap();
        let text = m.explain();
        for want in [
            "SF01.persistent_absence_two_terms from education: attendance_pct < 90, in 2 consecutive readings of the person (a reading: event_type is ATTENDANCE_TERM)",
            "SF06.repeat_missing_episodes from police: incident_type is MISSING_EPISODE, at least 3 times for the same person within 6 months",
            "outcome: met when every education.attendance_pct reading of the family",
        ] {
            assert!(text.contains(want), "{want}\n{text}");
        }
    }

    #[test]
    fn rows_match_on_codes_and_ranges_and_a_withheld_column_matches_nothing() {
        let m = Mapping::embedded().unwrap();
        let schema = Arc::new(Schema::new(vec![
            Field::new("event_type", DataType::Utf8, true),
            Field::new("attendance_pct", DataType::Float64, true),
        ]));
        let batch = RecordBatch::try_new(
            schema,
            vec![
                Arc::new(StringArray::from(vec![Some("ATTENDANCE_TERM"), Some("ATTENDANCE_TERM"), Some("SUSPENSION")]))
                    as ArrayRef,
                Arc::new(Float64Array::from(vec![Some(85.0), Some(95.0), None])),
            ],
        )
        .unwrap();
        let mut missing = BTreeSet::new();
        let hits = m.matches("education", &batch, &mut missing);
        let names =
            |row: usize| -> Vec<&str> { hits[row].iter().map(|&k| m.indicators[k as usize].code.as_str()).collect() };
        // A row meeting the conditions of an indicator over rows is a candidate: the rows around
        // it decide (sequences).
        assert_eq!(names(0), ["persistent_absence", "persistent_absence_two_terms"]);
        assert!(names(1).is_empty());
        let two_terms = m.indicators.iter().position(|i| i.code == "persistent_absence_two_terms").unwrap() as u16;
        assert_eq!(m.readings("education", &batch), [(two_terms, vec![true, true, false])]);
        assert_eq!(names(2), ["suspension_or_exclusion"]);
        // The NEET indicator reads neet_status, which this batch lacks.
        assert!(missing.iter().any(|(_, c)| c == "neet_status"), "{missing:?}");
        // Where the attendance itself is withheld, the terms are still readings, matching
        // nothing: a run of low terms never bridges a term nobody could see.
        let withheld = RecordBatch::try_new(
            Arc::new(Schema::new(vec![Field::new("event_type", DataType::Utf8, true)])),
            vec![Arc::new(StringArray::from(vec![Some("ATTENDANCE_TERM")])) as ArrayRef],
        )
        .unwrap();
        assert!(m.matches("education", &withheld, &mut BTreeSet::new())[0].is_empty());
        assert_eq!(m.readings("education", &withheld), [(two_terms, vec![true])]);
    }
}
