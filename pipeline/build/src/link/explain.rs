//! Why a record is in the person it is in, and not in another: every pair it forms with the
//! records of its person and with the records the blocking rules put beside it, weighed field by
//! field under the model the last build recorded, as a waterfall of bits.
//!
//! Computed from the staging tokens and `links/`; it shows record references, level names and
//! bits, never a value or a token. The build decides by clusters (a record may join its person
//! through a third record), so a pair of one person may weigh little on its own: the verdict says
//! which.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use serde::Serialize;

use super::LinkError;
use super::blocking::BLOCK_RULES;
use super::cluster::Veto;
use super::input::{self, StagingFile};
use super::levels::{self, ix};
use super::read_links::for_each_link;
use super::records::Records;
use super::rules::Rule;
use super::score::{household_deferred, representatives};
use super::term_frequency::TermFrequencies;
use super::train::{self, FIELDS, Model, Pattern, pattern};
use tellonce_governance::audit::LinkageModel;
use tellonce_schemas::check::as_shown;

/// A record, as `FEED:RECORD_ID`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct RecordName {
    /// The feed.
    pub feed: String,
    /// The partner's record reference.
    pub record_ref: String,
}

impl RecordName {
    /// Parses `FEED:RECORD_ID`, each part read as shown (as staging holds references): a
    /// reference copied from a partner's system with a zero-width space or a byte order mark
    /// names the record staged.
    pub fn parse(s: &str) -> Option<RecordName> {
        let (feed, record_ref) = s.split_once(':')?;
        let (feed, record_ref) = (as_shown(feed), as_shown(record_ref));
        (!feed.is_empty() && !record_ref.is_empty())
            .then(|| RecordName { feed: feed.into_owned(), record_ref: record_ref.into_owned() })
    }
}

impl std::fmt::Display for RecordName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.feed, self.record_ref)
    }
}

/// One bar of a waterfall: a field's level and its weight.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Step {
    /// The field (`forename`, ..., `names`, `strong_identifiers`).
    pub field: &'static str,
    /// Its level (`exact`, `dice_0.9`, `missing`, ...).
    pub level: &'static str,
    /// Its weight (bits).
    pub bits: f64,
}

/// What the build made of a pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Both records are in one person in `links/`.
    SamePerson,
    /// Refused: a strong identifier both hold disagrees.
    StrongIdentifierDisagrees,
    /// A strong identifier agrees but the dates of birth are far apart: a reported conflict.
    Conflict,
    /// Refused: they look like two members of one household (see `docs/linkage.md`).
    HouseholdMember,
    /// Above the threshold, yet in two persons: the cluster veto (or the exact rules' veto)
    /// kept the persons apart.
    KeptApart,
    /// Below the threshold.
    BelowThreshold,
    /// An officer decided that the two records are two people (`[linkage] decisions`).
    DecidedApart,
}

impl Verdict {
    /// In words.
    pub fn describe(self) -> &'static str {
        match self {
            Verdict::SamePerson => "same person",
            Verdict::StrongIdentifierDisagrees => "refused: a strong identifier disagrees",
            Verdict::Conflict => "conflict: a strong identifier agrees, the dates of birth are far apart",
            Verdict::HouseholdMember => "refused: looks like another member of the household",
            Verdict::KeptApart => {
                "above the threshold, kept apart by the veto (a date of birth, forename or sex settled in \
                 the persons differs, or an officer decided a record of one is not the other)"
            }
            Verdict::BelowThreshold => "below the threshold",
            Verdict::DecidedApart => "kept apart: an officer decided they are two people",
        }
    }
}

/// One pair, weighed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PairExplanation {
    /// The other record.
    pub other: RecordName,
    /// The rule that joined the other record to its person.
    pub other_match_rule: String,
    /// Field by field.
    pub steps: Vec<Step>,
    /// The sum of the steps (bits), compared with the threshold.
    pub bits: f64,
    /// The match probability of a pair of this weight under the model's prior.
    pub probability: f64,
    /// What the build made of it.
    pub verdict: Verdict,
    /// For a pair a shared home linked (`co_resident`): how the build weighed it in that home.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub home: Option<super::explain_home::HomeView>,
    /// For a pair kept apart: what the two persons, as they stand, disagree on (none: nothing
    /// does now; the build judged the clusters as they grew).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub veto: Option<&'static str>,
}

/// The explanation of one record.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Explanation {
    /// The record.
    pub record: RecordName,
    /// Its person in `links/`.
    pub person_id: String,
    /// The rule that joined it to its person.
    pub match_rule: String,
    /// Records in its person.
    pub person_records: u64,
    /// The matcher and model of the last build.
    pub matcher: String,
    /// The model's prior (the chance that two candidate records are one person).
    pub prior: f64,
    /// The least weight (bits) of a scored link in the last build.
    pub threshold_bits: f64,
    /// The pairs: the record's person first, then the other candidates, heaviest first.
    pub pairs: Vec<PairExplanation>,
    /// Pairs left out beyond the limit.
    pub not_shown: u64,
}

/// Why an explanation cannot be given.
#[derive(Debug, thiserror::Error)]
pub enum ExplainError {
    /// The record is not in `links/` (not staged, not linked yet, or another feed name).
    #[error(
        "record {0} is not in links/ (check the feed name and the reference, and that a build has run since it was staged)"
    )]
    NotLinked(String),
    /// The record is in `links/` but not in the staging files of its feed.
    #[error("record {0} is in links/ but not in staging (erased or withdrawn since the last build?)")]
    NotStaged(String),
    /// Reading the outputs failed.
    #[error(transparent)]
    Link(#[from] LinkError),
}

/// How a record sits in `links/`.
struct Linked {
    person: u32,
    rule: String,
}

/// What an explanation needs beside the outputs: what the deployment's settings and officers say.
#[derive(Debug, Clone, Default)]
pub struct Given {
    /// The records an officer decided are other people than the record explained.
    pub decided_apart: Vec<RecordName>,
    /// `[linkage] match_probability`: the line of a pair a shared home linked.
    pub match_probability: f64,
}

/// Explains `record` against its person and its candidates, at most `limit` pairs of each kind,
/// under the model the last build recorded, with that build's threshold and household veto.
pub fn explain(
    out: &Path,
    files: &[StagingFile],
    recorded: &LinkageModel,
    record: &RecordName,
    given: &Given,
    limit: usize,
) -> Result<Explanation, ExplainError> {
    let model = &Model::from_record(recorded);
    let threshold_bits = recorded.threshold_bits;
    let household_veto = household_veto_applied(recorded);
    let judge = Judge { model, threshold_bits, household_veto };
    // Persons interned: links/ holds a row per record, and only equality matters here.
    let mut persons: HashMap<String, u32> = HashMap::new();
    let mut linked: HashMap<(String, String), Linked> = HashMap::new();
    for_each_link(out, &mut |row| {
        let n = persons.len() as u32;
        let person = *persons.entry(row.person_id.to_owned()).or_insert(n);
        linked.insert(
            (row.feed.to_owned(), row.record_ref.to_owned()),
            Linked { person, rule: row.match_rule.to_owned() },
        );
    })?;
    let key = (record.feed.clone(), record.record_ref.clone());
    let this = linked.get(&key).ok_or_else(|| ExplainError::NotLinked(record.to_string()))?;
    let person_id = persons.iter().find(|(_, n)| **n == this.person).map(|(p, _)| p.clone()).unwrap_or_default();
    let person_records = linked.values().filter(|l| l.person == this.person).count() as u64;

    let recs = input::read(files)?;
    let me = (0..recs.len())
        .find(|&i| recs.feed_name(i) == record.feed && recs.record_ref[i] == record.record_ref)
        .ok_or_else(|| ExplainError::NotStaged(record.to_string()))?;
    let tf = TermFrequencies::of(&recs.tokens, &representatives(&recs, &vec![0; recs.len()]));
    let keys: Vec<Option<[u32; 3]>> = BLOCK_RULES.iter().map(|r| r.key(&recs.tokens[me])).collect();
    // Each staged record's person in `links/`, looked up once for every use below.
    let person_of: Vec<Option<u32>> = (0..recs.len())
        .map(|r| linked.get(&(recs.feed_name(r).to_owned(), recs.record_ref[r].clone())).map(|l| l.person))
        .collect();
    let mut mine = Vec::new();
    let mut homes = None;
    let mut others = Vec::new();
    for j in (0..recs.len()).filter(|&j| j != me) {
        let ours = person_of[j] == Some(this.person);
        let candidate = BLOCK_RULES.iter().zip(&keys).any(|(r, k)| k.is_some() && r.key(&recs.tokens[j]) == *k);
        if !ours && !candidate {
            continue;
        }
        let link = linked.get(&(recs.feed_name(j).to_owned(), recs.record_ref[j].clone()));
        let mut pair = PairExplanation {
            other_match_rule: link.map_or_else(|| "not linked".to_owned(), |l| l.rule.clone()),
            ..weigh(&recs, &judge, &tf, me, j, ours)
        };
        if !ours && given.decided_apart.contains(&pair.other) {
            pair.verdict = Verdict::DecidedApart;
        }
        if ours && [this.rule.as_str(), pair.other_match_rule.as_str()].contains(&Rule::CoResident.name()) {
            let homes = homes.get_or_insert_with(|| super::explain_home::Homes::of(&recs));
            let person = |r: usize| person_of[r];
            pair.home = super::explain_home::view(&recs, homes, &person, model, &tf, me, j, given.match_probability);
        }
        if ours { mine.push(pair) } else { others.push((j, pair)) }
    }
    name_vetoes(&recs, &person_of, this.person, me, &mut others);
    let mut others: Vec<PairExplanation> = others.into_iter().map(|(_, pair)| pair).collect();
    let heaviest = |a: &PairExplanation, b: &PairExplanation| {
        b.bits
            .total_cmp(&a.bits)
            .then_with(|| (&a.other.feed, &a.other.record_ref).cmp(&(&b.other.feed, &b.other.record_ref)))
    };
    mine.sort_by(heaviest);
    others.sort_by(heaviest);
    let not_shown = (mine.len().saturating_sub(limit) + others.len().saturating_sub(limit)) as u64;
    mine.truncate(limit);
    others.truncate(limit);
    mine.extend(others);
    Ok(Explanation {
        record: record.clone(),
        person_id,
        match_rule: this.rule.clone(),
        person_records,
        matcher: recorded.matcher.clone(),
        prior: model.prior,
        threshold_bits,
        pairs: mine,
        not_shown,
    })
}

/// Names, for each pair kept apart (with the other record's index), what the two persons'
/// records disagree on.
fn name_vetoes(
    recs: &Records,
    person_of: &[Option<u32>],
    person: u32,
    me: usize,
    pairs: &mut [(usize, PairExplanation)],
) {
    let wanted: HashSet<u32> =
        pairs.iter().filter(|(_, p)| p.verdict == Verdict::KeptApart).filter_map(|&(j, _)| person_of[j]).collect();
    if wanted.is_empty() {
        return;
    }
    let mut records: HashMap<u32, Vec<u32>> = HashMap::new();
    for (r, p) in person_of.iter().enumerate() {
        if let Some(p) = *p
            && (p == person || wanted.contains(&p))
        {
            records.entry(p).or_default().push(r as u32);
        }
    }
    // One rebuild of every person involved, not one per pair: a record may have many pairs kept
    // apart, and each rebuild is the size of all records.
    let mut built = super::score::BuiltPersons::new(recs);
    for members in records.values() {
        built.person(members);
    }
    let kept_apart = |&(j, ref p): &(usize, PairExplanation)| p.verdict == Verdict::KeptApart && person_of[j].is_some();
    for (other, pair) in pairs.iter_mut().filter(|x| kept_apart(x)) {
        // As the build judged it: the pair weighed no date (one missing, or garbled).
        let unweighed = levels::dob_level(&recs.tokens[me], &recs.tokens[*other]) == ix::MISSING;
        pair.veto = built.veto_between(me as u32, *other as u32, unweighed).map(Veto::describe);
    }
}

/// Whether the build that recorded `model` refused household-shaped pairs: one recorded before
/// the veto could be lifted always did.
fn household_veto_applied(model: &LinkageModel) -> bool {
    model.households.as_ref().is_none_or(|h| h.veto)
}

/// What the last build weighed pairs with and where it drew its lines.
struct Judge<'a> {
    model: &'a Model,
    threshold_bits: f64,
    household_veto: bool,
}

/// The waterfall and verdict of records `i` and `j`.
fn weigh(
    recs: &Records,
    judge: &Judge<'_>,
    tf: &TermFrequencies,
    i: usize,
    j: usize,
    same_person: bool,
) -> PairExplanation {
    let Judge { model, threshold_bits, household_veto } = *judge;
    let cmp = levels::compare(recs, i, j);
    let p: Pattern = pattern(&cmp);
    let steps = waterfall(recs, model, tf, i, &p);
    let bits = model.weight(&p) + tf.adjustment(&recs.tokens[i], &p);
    let verdict = if same_person {
        Verdict::SamePerson
    } else if cmp.strong_disagree {
        Verdict::StrongIdentifierDisagrees
    } else if cmp.strong_agree > 0 && cmp.dob == ix::DOB_ELSE {
        Verdict::Conflict
    } else if household_veto && household_deferred(&cmp) {
        Verdict::HouseholdMember
    } else if bits >= threshold_bits {
        Verdict::KeptApart
    } else {
        Verdict::BelowThreshold
    };
    PairExplanation {
        other: RecordName { feed: recs.feed_name(j).to_owned(), record_ref: recs.record_ref[j].clone() },
        other_match_rule: String::new(),
        steps,
        bits,
        probability: model.probability(bits),
        verdict,
        home: None,
        veto: None,
    }
}

/// The steps of pattern `p` of record `i` and another: each field's level and weight (a missing
/// value weighs 0), swapped names, strong identifiers, and the term-frequency adjustments.
pub(super) fn waterfall(recs: &Records, model: &Model, tf: &TermFrequencies, i: usize, p: &Pattern) -> Vec<Step> {
    let mut steps: Vec<Step> = FIELDS
        .iter()
        .zip(&model.fields)
        .enumerate()
        .map(|(f, (field, (_, table)))| {
            let level = table.get(usize::from(p[f])).copied().unwrap_or(levels::MISSING);
            let bits = if p[f] == ix::MISSING { 0.0 } else { level.weight() };
            Step { field, level: level.name, bits }
        })
        .collect();
    match p[train::SWAP_SLOT] {
        train::SWAP_FULL => {
            steps.push(Step { field: "names", level: levels::NAMES_SWAPPED.name, bits: levels::NAMES_SWAPPED.weight() })
        }
        train::SWAP_HALF => steps.push(Step {
            field: "names",
            level: levels::NAMES_HALF_SWAPPED.name,
            bits: levels::NAMES_HALF_SWAPPED.weight(),
        }),
        _ => {}
    }
    if p[train::STRONG_SLOT] > 0 {
        let bits = f64::from(p[train::STRONG_SLOT]) * levels::STRONG_AGREE.weight();
        steps.push(Step { field: "strong_identifiers", level: levels::STRONG_AGREE.name, bits });
    }
    let adjustments = tf.adjustments(&recs.tokens[i], p);
    for (field, &bits) in FIELDS.iter().zip(&adjustments).filter(|(_, b)| **b != 0.0) {
        steps.push(Step { field, level: "term_frequency", bits });
    }
    steps
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reference_pasted_with_invisible_characters_names_the_record_staged() {
        let pasted = RecordName::parse("\u{feff}police : P1\u{200b}").unwrap();
        assert_eq!(pasted, RecordName { feed: "police".to_owned(), record_ref: "P1".to_owned() });
        assert_eq!(RecordName::parse("police:\u{200b}"), None, "nothing shown is no reference");
    }

    #[test]
    fn a_model_recorded_before_the_household_check_explains_with_the_veto() {
        let old = r#"{"matcher":"rules-1+scoring-4+em-4+tf-1","estimated":true,"prior":0.001,
            "threshold_bits":16.6,"training_pairs":10,"levels":[]}"#;
        let mut model: LinkageModel = serde_json::from_str(old).unwrap();
        assert!(model.households.is_none() && household_veto_applied(&model));
        let lifted = tellonce_governance::audit::Households {
            setting: "auto".to_owned(),
            pairs_at_one_address: 441,
            unalike: 39,
            veto: false,
        };
        model.households = Some(lifted);
        assert!(!household_veto_applied(&model));
        assert!(model.households.as_ref().unwrap().describe().contains("39 of 441"));
    }
}
