//! What the outcome datasets are computed over and how: the reporting period, the Supporting
//! Families eligibility counting rule, and the disclosure policy of published tables.

use std::fmt;

use serde::Deserialize;
use std::path::PathBuf;

use tellonce_schemas::identifiers::dates;

use super::disclosure::Policy;

/// The reporting period: events dated from `from` to `to`, both inclusive; an open end is
/// unbounded. By default every event held is in the period.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Period {
    /// First day (days since 1970-01-01), if bounded.
    pub from: Option<i32>,
    /// Last day, if bounded.
    pub to: Option<i32>,
}

impl Period {
    /// Whether an event dated `day` (none: undated) falls in the period. An undated event is in
    /// an unbounded period only.
    pub fn contains(&self, day: Option<i32>) -> bool {
        match day {
            Some(d) => self.from.is_none_or(|f| d >= f) && self.to.is_none_or(|t| d <= t),
            None => self.from.is_none() && self.to.is_none(),
        }
    }

    /// `from` as YYYY-MM-DD, or empty.
    pub fn from_iso(&self) -> String {
        self.from.map(dates::format).unwrap_or_default()
    }

    /// `to` as YYYY-MM-DD, or empty.
    pub fn to_iso(&self) -> String {
        self.to.map(dates::format).unwrap_or_default()
    }
}

/// What the eligibility rule counts as one need.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NeedCount {
    /// Distinct headlines: several indicators under one headline are one need (the reading of
    /// councils such as Hertfordshire: needs "from at least three headline indicators").
    #[default]
    Headlines,
    /// Distinct indicators: two indicators under one headline are two needs.
    Indicators,
}

/// The Supporting Families eligibility counting rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct Eligibility {
    /// Least number of needs (default 3).
    pub min_needs: u16,
    /// What counts as one need.
    pub count: NeedCount,
    /// Whether the family must include a dependent child (aged 0 to 17 at the reference date)
    /// or an unborn child (default true).
    pub require_child: bool,
}

impl Default for Eligibility {
    fn default() -> Self {
        Eligibility { min_needs: 3, count: NeedCount::Headlines, require_child: true }
    }
}

impl Eligibility {
    /// Whether a family with `needs` counted needs and `children` (dependent or unborn) is
    /// eligible.
    pub fn eligible(&self, needs: u16, children: u32) -> bool {
        needs >= self.min_needs && (!self.require_child || children > 0)
    }
}

impl fmt::Display for Eligibility {
    /// The rule in one sentence, as written into the `families/` metadata.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let unit = match self.count {
            NeedCount::Headlines => "distinct Supporting Families headlines",
            NeedCount::Indicators => "distinct indicators (two under one headline count twice)",
        };
        write!(f, "needs under at least {} {unit} among the family's members in the period", self.min_needs)?;
        if self.require_child {
            f.write_str(", and at least one child aged 0 to 17 or unborn at the reference date")?;
        }
        Ok(())
    }
}

/// Everything the outcome datasets depend on besides the data.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OutcomeSettings {
    /// The reporting period.
    pub period: Period,
    /// The eligibility rule.
    pub eligibility: Eligibility,
    /// The disclosure policy of `aggregates/`.
    pub disclosure: Policy,
    /// The family hub localities lookup (small area → locality), resolved; none: no locality
    /// outputs.
    pub localities: Option<PathBuf>,
}

/// `[outcomes]`; every field has a default.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct OutcomesFile {
    /// A theme mapping file (TOML) to use instead of the embedded Supporting Families mapping.
    pub themes: Option<PathBuf>,
    /// First day of the reporting period (YYYY-MM-DD); none: unbounded.
    pub period_from: Option<String>,
    /// Last day of the reporting period (YYYY-MM-DD); none: unbounded.
    pub period_to: Option<String>,
    /// The Supporting Families eligibility counting rule.
    pub eligibility: Eligibility,
    /// The disclosure policy of `aggregates/`.
    pub disclosure: Policy,
    /// A CSV naming each small area's family hub locality (`small_area`, `locality`).
    pub localities: Option<PathBuf>,
}

impl OutcomesFile {
    /// Checks the section, adding a problem (naming its key) for each bad value, and returns the
    /// settings it sets (the paths are the caller's to resolve: `localities` is returned as
    /// written).
    pub fn validate(&self, problems: &mut Vec<String>) -> OutcomeSettings {
        let o = self;
        let mut day =
            |key: &str, v: &Option<String>| match v.as_deref().map(tellonce_schemas::identifiers::dates::parse) {
                Some(Ok(d)) => Some(d),
                Some(Err(_)) => {
                    problems
                        .push(format!("outcomes.{key} = {:?} is not a date (YYYY-MM-DD)", v.as_deref().unwrap_or("")));
                    None
                }
                None => None,
            };
        let period = Period { from: day("period_from", &o.period_from), to: day("period_to", &o.period_to) };
        if let (Some(f), Some(t)) = (period.from, period.to)
            && f > t
        {
            problems.push("outcomes.period_from is after outcomes.period_to".to_owned());
        }
        if let Err(e) = o.disclosure.validate() {
            problems.push(format!("outcomes.{e}"));
        }
        if o.eligibility.min_needs == 0 {
            problems.push("outcomes.eligibility.min_needs must be at least 1".to_owned());
        }
        OutcomeSettings {
            period,
            eligibility: self.eligibility,
            disclosure: self.disclosure,
            localities: self.localities.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_period_includes_both_ends_and_an_open_end_is_unbounded() {
        let p = Period { from: Some(10), to: Some(20) };
        assert!(p.contains(Some(10)) && p.contains(Some(20)));
        assert!(!p.contains(Some(9)) && !p.contains(Some(21)) && !p.contains(None));
        let open = Period { from: Some(10), to: None };
        assert!(open.contains(Some(10_000)) && !open.contains(Some(9)));
        assert!(Period::default().contains(None) && Period::default().contains(Some(-5)));
    }

    #[test]
    fn eligibility_counts_needs_and_may_require_a_child() {
        let rule = Eligibility::default();
        assert!(rule.eligible(3, 1));
        assert!(!rule.eligible(2, 4));
        assert!(!rule.eligible(5, 0));
        let no_child = Eligibility { require_child: false, ..rule };
        assert!(no_child.eligible(3, 0));
        assert!(rule.to_string().contains("at least 3 distinct Supporting Families headlines"));
        let by_indicator = Eligibility { count: NeedCount::Indicators, min_needs: 4, require_child: false };
        assert_eq!(
            by_indicator.to_string(),
            "needs under at least 4 distinct indicators (two under one headline count twice) among the \
             family's members in the period"
        );
    }
}
