//! The evidence that may link two records, and the weight each kind carries.
//!
//! Weights are Fellegi–Sunter agreement weights, `log2(m / u)` summed over the fields a rule
//! compares, with `m` (the chance that two records of the same person agree on the field) and
//! `u` (the chance that two records of different people agree by coincidence) set per field in
//! [`FIELDS`]. They are documented constants, not estimated from the data: a small deployment
//! cannot estimate `u` for a near-unique combination, and fixed weights explain themselves.
//! Disagreement on a date of birth (other than day and month swapped) or on a strong identifier
//! is a veto, not a negative weight: such records are never merged (see `cluster`).

use tellonce_schemas::MatchRule;

/// One field (or derived form of a field) that a rule compares.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Field {
    /// Short name, as the docs and `link explain` print it.
    pub name: &'static str,
    /// P(agree | same person).
    pub m: f64,
    /// P(agree | different people).
    pub u: f64,
}

impl Field {
    /// `log2(m / u)`: the weight of agreement on this field, in bits.
    pub fn weight(&self) -> f64 {
        (self.m / self.u).log2()
    }
}

/// The fields rules are made of, with their `m` and `u`.
pub const FIELDS: &[Field] = &[
    Field { name: "nhs_number", m: 0.99, u: 1e-9 },
    Field { name: "upn", m: 0.99, u: 1e-9 },
    Field { name: "pnc_id", m: 0.99, u: 1e-9 },
    Field { name: "forename", m: 0.95, u: 0.005 },
    Field { name: "forename_initial", m: 0.98, u: 0.07 },
    Field { name: "forename_class", m: 0.97, u: 0.006 },
    Field { name: "surname", m: 0.95, u: 0.002 },
    Field { name: "surname_part", m: 0.97, u: 0.002 },
    Field { name: "surname_soundex", m: 0.98, u: 0.01 },
    Field { name: "date_of_birth", m: 0.97, u: 0.00015 },
    Field { name: "date_of_birth_unordered", m: 0.98, u: 0.0003 },
    Field { name: "birth_year", m: 0.99, u: 0.05 },
    Field { name: "postcode", m: 0.8, u: 0.0005 },
    Field { name: "forename_similar", m: 0.9, u: 0.02 },
    Field { name: "surname_similar", m: 0.9, u: 0.01 },
    Field { name: "record_id", m: 1.0, u: 1e-12 },
];

fn field(name: &str) -> f64 {
    FIELDS.iter().find(|f| f.name == name).map_or(0.0, Field::weight)
}

/// How a record came to be linked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Rule {
    /// The same partner record (feed and record reference) seen twice.
    SameRecord,
    /// A strong identifier: index into [`STRONG`].
    Strong(u8),
    /// A match key: index into [`KEY_RULES`].
    Key(u8),
    /// Similar names (keyed Bloom filters, Dice) with the same date of birth.
    Bloom,
    /// A candidate pair scored field by field (Fellegi–Sunter levels, see `levels`) above the
    /// threshold.
    Scored,
    /// A pair a shared home makes likely (see `co_resident`), scored on forename, date of birth
    /// and sex against a prior of one in the home's other persons. Made within the scoring pass,
    /// after its links, at `match_probability` (a fixed `match_threshold` in bits does not apply:
    /// its weights are on another scale).
    CoResident,
    /// An officer's decision that two records are one person (`[linkage] decisions`), followed
    /// after every other rule. It weighs nothing: a record is recorded under it only when no
    /// evidence linked it.
    Decision,
}

/// A strong identifier: staging column and rule name.
#[derive(Debug, Clone, Copy)]
pub struct Strong {
    /// Staging column of the token.
    pub column: &'static str,
    /// Rule name in `links/`.
    pub name: &'static str,
}

/// Strong identifiers, in the order they are applied.
pub const STRONG: [Strong; 3] = [
    Strong { column: "nhs_number_token", name: "nhs_number" },
    Strong { column: "upn_token", name: "upn" },
    Strong { column: "pnc_id_token", name: "pnc_id" },
];

/// A match-key rule (its staging column and meaning are in [`MatchRule`]) and the fields that
/// must agree exactly for its keys to agree, which give its weight.
#[derive(Debug, Clone, Copy)]
pub struct KeyRule {
    /// The rule, as the pseudonymise stage makes its keys.
    pub rule: MatchRule,
    /// The fields that must agree (in their normal form) for the keys to agree.
    pub fields: &'static [&'static str],
}

impl KeyRule {
    /// The staging column holding the rule's keys, also the rule's name in `links/`.
    pub fn column(&self) -> &'static str {
        self.rule.column()
    }
}

/// Match-key rules, in the order they are applied: most specific first, so that the rule a
/// link is recorded under is the strongest that found it.
pub const KEY_RULES: [KeyRule; 8] = [
    KeyRule { rule: MatchRule::NameDob, fields: &["forename", "surname", "date_of_birth"] },
    KeyRule { rule: MatchRule::InitialSurnameDob, fields: &["forename_initial", "surname_part", "date_of_birth"] },
    KeyRule { rule: MatchRule::NicknameSurnameDob, fields: &["forename_class", "surname_part", "date_of_birth"] },
    KeyRule { rule: MatchRule::SoundexNicknameDob, fields: &["forename_class", "surname_soundex", "date_of_birth"] },
    KeyRule { rule: MatchRule::NameBirthYearPostcode, fields: &["forename", "surname", "birth_year", "postcode"] },
    KeyRule { rule: MatchRule::ForenameDobPostcode, fields: &["forename", "date_of_birth", "postcode"] },
    KeyRule {
        rule: MatchRule::InitialSurnameDobUnordered,
        fields: &["forename_initial", "surname", "date_of_birth_unordered"],
    },
    KeyRule { rule: MatchRule::NamePostcode, fields: &["forename", "surname", "postcode"] },
];

/// Fields a Bloom-filter link agrees on, besides its two similar names.
pub const BLOOM_FIELDS: &[&str] = &["date_of_birth_unordered", "forename_similar", "surname_similar"];

impl Rule {
    /// The rule's name, as `links/` records it.
    pub fn name(self) -> &'static str {
        match self {
            Rule::SameRecord => "same_record",
            Rule::Strong(i) => STRONG.get(usize::from(i)).map_or("?", |s| s.name),
            Rule::Key(i) => KEY_RULES.get(usize::from(i)).map_or("?", KeyRule::column),
            Rule::Bloom => "bloom_dice",
            Rule::Scored => "fs_score",
            Rule::CoResident => "co_resident",
            Rule::Decision => "decision",
        }
    }

    /// The Fellegi–Sunter weight of agreement under this rule, in bits.
    pub fn weight(self) -> f64 {
        match self {
            Rule::SameRecord => field("record_id"),
            Rule::Strong(i) => STRONG.get(usize::from(i)).map_or(0.0, |s| field(s.name)),
            Rule::Key(i) => KEY_RULES.get(usize::from(i)).map_or(0.0, |k| k.fields.iter().map(|f| field(f)).sum()),
            Rule::Bloom => BLOOM_FIELDS.iter().map(|f| field(f)).sum(),
            // The least weight a scored link has; each link's own weight is recorded with it.
            Rule::Scored => super::score::DEFAULT_THRESHOLD,
            // Below a scored link's: a record linked both ways is recorded under the scored link,
            // which needs no home to vouch for it.
            Rule::CoResident => super::score::DEFAULT_THRESHOLD - 1.0,
            Rule::Decision => 0.0,
        }
    }

    /// Every rule, in the order the matcher applies them.
    pub fn all() -> impl Iterator<Item = Rule> {
        std::iter::once(Rule::SameRecord)
            .chain((0..STRONG.len() as u8).map(Rule::Strong))
            .chain((0..KEY_RULES.len() as u8).map(Rule::Key))
            .chain([Rule::Bloom, Rule::Scored])
    }
}

/// Default threshold: links whose rule weighs less than this many bits are not made.
pub const DEFAULT_MIN_WEIGHT: f64 = 20.0;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_field_has_a_weight_and_every_rule_clears_the_default_threshold() {
        for k in KEY_RULES {
            for f in k.fields {
                assert!(FIELDS.iter().any(|x| x.name == *f), "{f}");
            }
        }
        for f in BLOOM_FIELDS {
            assert!(FIELDS.iter().any(|x| x.name == *f), "{f}");
        }
        for r in Rule::all() {
            assert!(r.weight() >= DEFAULT_MIN_WEIGHT, "{} weighs {}", r.name(), r.weight());
        }
    }

    #[test]
    fn every_match_key_column_the_edge_makes_has_one_rule_here() {
        let here: Vec<&str> = KEY_RULES.iter().map(KeyRule::column).collect();
        let edge: Vec<&str> = MatchRule::ALL.iter().map(|r| r.column()).collect();
        assert_eq!(here.len(), edge.len());
        for c in edge {
            assert!(here.contains(&c), "{c}");
        }
    }

    #[test]
    fn a_full_name_and_date_of_birth_outweighs_an_initial() {
        assert!(Rule::Key(0).weight() > Rule::Key(1).weight());
        assert!(Rule::Strong(0).weight() > 25.0);
    }
}
