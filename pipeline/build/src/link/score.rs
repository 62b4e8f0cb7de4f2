//! The scoring pass: after the exact rules, candidate pairs from several blocking rules are
//! scored field by field (Fellegi–Sunter, [`levels`](super::levels)) and the pairs whose
//! weight clears the threshold are linked, strongest first, under the veto.
//!
//! Only a strong identifier that disagrees refuses a pair outright. A forename or a date of
//! birth far apart weighs against a pair but does not refuse it: partners mistype and
//! replace whole fields, and the rest of the record may still say it is the same person.
//! What keeps twins, siblings and a parent and child of one name apart is the cluster veto:
//! a scored link is refused when both clusters are *established* in a field (two of their
//! records agree on it, so it is the person's value, not a slip) and no value of one is close
//! to a value of the other; for a date of birth, one cluster established is enough where the
//! linked pair had no dates to weigh.

use std::collections::{BTreeMap, HashMap};

use super::blocking::{self, BlockStats};
use super::cluster::{Clusters, MatchStats, Veto};
use super::compare::Tk;
use super::levels::{self, ix};
use super::quality;
use super::records::{NONE, Records};
use super::rules::Rule;
use super::settled::{established, forename_established, sexes_settled_apart, share_a_feed};
use super::term_frequency::TermFrequencies;
use super::train::{self, Model, Pattern};

/// The version of the matcher (rules, scoring levels, weights, blocking). Part of what a build
/// is made from: change it whenever a change to the matcher would link the same staging
/// differently, so that the next build re-links instead of reporting itself up to date.
pub const MATCHER_VERSION: &str = "rules-1+scoring-17+em-4+tf-1";

/// The weight (bits) a scored link is documented at, for ranking rules (see `rules`): a match
/// probability of 0.99 for a prior of one match in 2^14 random pairs (`14 + log2(0.99 / 0.01)`).
pub const DEFAULT_THRESHOLD: f64 = 20.6;

/// Default least match probability of a scored link. On the FEBRL benchmark and on harsh
/// synthetic errors, 0.9 finds more true pairs than 0.99 at a precision of 0.999 or better;
/// 0.5 costs precision on households (see `docs/linkage.md`).
pub const DEFAULT_MATCH_PROBABILITY: f64 = 0.9;

/// The least weight (bits) of any scored link, whatever the model says: a likelihood ratio
/// of a thousand to one, so that a prior estimated badly cannot open the gate.
pub const LEAST_SCORED_WEIGHT: f64 = 10.0;

/// Default largest block compared by the scoring pass.
pub const DEFAULT_MAX_BLOCK: usize = 1000;

/// Counts of the scoring pass.
#[derive(Debug, Default, Clone, PartialEq, serde::Serialize)]
pub struct ScoreStats {
    /// Candidate pairs by blocking rule, blocks over the cap, distinct pairs.
    pub blocking: BlockStats,
    /// Pairs scored (distinct candidate pairs of records in different clusters).
    pub scored: u64,
    /// Pairs at or above the threshold.
    pub above_threshold: u64,
    /// Pairs a shared home made likely enough to link ([`co_resident`](super::co_resident)),
    /// before the cluster veto.
    pub co_resident: u64,
    /// Pairs refused by the pair veto (strong identifiers that disagree, or that agree on
    /// dates of birth far apart; members of one household, and names half swapped with no
    /// date of birth, where the veto applies: see `household_member` and `households_evident`).
    pub vetoed_pairs: u64,
    /// The least weight (bits) of a scored link in this build.
    pub threshold: f64,
    /// The model the pairs were scored with (estimated from this build's data where there
    /// was enough of it).
    pub model: Option<Model>,
    /// Precision and recall of this pass as the model estimates them.
    pub estimate: Option<quality::Estimate>,
    /// What the data said of households, and whether their pairs were refused.
    pub households: Households,
    /// A sample of pairs near the threshold, for clerical review (`state/link/review.json`).
    #[serde(skip)]
    pub review: Vec<quality::ReviewPair>,
}

/// The evidence of households among the pairs scored (see [`households_evident`]).
#[derive(Debug, Default, Clone, PartialEq, serde::Serialize)]
pub struct Households {
    /// How `[linkage] household_veto` was set.
    pub setting: HouseholdVeto,
    /// Candidate pairs at one home (one address line; one postcode where a record has no
    /// line) under one family name, no strong identifier agreeing.
    pub pairs_at_one_address: u64,
    /// Those of them [`household_member`] reads as two members of one household.
    pub unalike: u64,
    /// Whether pairs that look like members of one household were refused.
    pub veto: bool,
}

impl Households {
    /// As the audit log and `state/link/model.json` keep it.
    pub fn record(&self) -> tellonce_governance::audit::Households {
        tellonce_governance::audit::Households {
            setting: self.setting.name().to_owned(),
            pairs_at_one_address: self.pairs_at_one_address,
            unalike: self.unalike,
            veto: self.veto,
        }
    }
}

/// One record per distinct (cluster, compared values): records of one person repeat the same
/// values many times, and comparing them again adds nothing. The record kept is the one with
/// the least reference, whatever order the records were read in.
pub(super) fn representatives(recs: &Records, cluster: &[u32]) -> Vec<u32> {
    let key = |i: u32| {
        let i = i as usize;
        let strong = [recs.strong[0][i], recs.strong[1][i], recs.strong[2][i]];
        (cluster[i], &recs.tokens[i], recs.bloom[i], recs.sex[i], strong)
    };
    let reference = |r: u32| (recs.feed_name(r as usize), recs.record_ref[r as usize].as_str());
    // Sorted in place rather than gathered in a hash map keyed by the values: a key copies a
    // record's compared values, and two million of them took half a gigabyte.
    // Nothing to compare without a name or a date of birth.
    let mut order: Vec<u32> = (0..recs.len() as u32).filter(|&i| train::comparable(&recs.tokens[i as usize])).collect();
    // A digest of each record's values first: most comparisons end at it instead of walking two
    // token arrays, and equal values still sort together (equal values, equal digests).
    let digest: Vec<u64> = (0..recs.len() as u32)
        .map(|i| {
            let mut h = std::hash::DefaultHasher::new();
            std::hash::Hash::hash(&key(i), &mut h);
            std::hash::Hasher::finish(&h)
        })
        .collect();
    let sort_key = |i: u32| (cluster[i as usize], digest[i as usize]);
    // Ties of values and reference (one record sent twice) go to the lower index, as ever.
    order.sort_unstable_by(|&a, &b| {
        sort_key(a)
            .cmp(&sort_key(b))
            .then_with(|| key(a).cmp(&key(b)))
            .then_with(|| reference(a).cmp(&reference(b)))
            .then(a.cmp(&b))
    });
    // The first of each run of equal values has the least reference.
    order.dedup_by(|later, kept| key(*later) == key(*kept));
    order.sort_unstable();
    order
}

/// The patterns of each training session ([`train::SESSIONS`]): the pairs its blocking rule
/// proposes among distinct records (one per distinct set of compared values), whether or not
/// the exact rules have linked them already. Training on the pairs the rules left over would
/// teach the model only the hard cases.
fn training_patterns(recs: &Records, reps: &[u32], max_block: usize) -> Vec<(train::Session, BTreeMap<Pattern, u64>)> {
    let mut out = Vec::new();
    for session in train::SESSIONS {
        let Some(rule) = blocking::rule_named(session.rule) else { continue };
        let mut patterns: BTreeMap<Pattern, u64> = BTreeMap::new();
        blocking::for_each_in_rule(&recs.tokens, reps, rule, max_block, &mut |a, b| {
            let cmp = levels::compare(recs, a as usize, b as usize);
            if !cmp.strong_disagree {
                *patterns.entry(train::pattern(&cmp)).or_default() += 1;
            }
        });
        out.push((session, patterns));
    }
    out
}

/// The chance that two representatives are the same person, from the links the exact rules
/// made (pairs of representatives in one cluster over all pairs), allowing for the matches
/// those rules miss (`ASSUMED_RULE_RECALL`).
fn prior_from_rules(reps: &[u32], cluster: &[u32]) -> f64 {
    let mut sizes: HashMap<u32, u64> = HashMap::new();
    for &r in reps {
        *sizes.entry(cluster[r as usize]).or_default() += 1;
    }
    let linked: u64 = sizes.values().map(|&k| k * (k.saturating_sub(1)) / 2).sum();
    if linked < MIN_LINKED_FOR_PRIOR {
        return DOCUMENTED_PRIOR;
    }
    let n = reps.len() as f64;
    let all = (n * (n - 1.0) / 2.0).max(1.0);
    ((linked as f64 / ASSUMED_RULE_RECALL) / all).clamp(1e-12, MAX_PRIOR)
}

/// Fewer linked pairs than this say nothing about the prior: the documented one is used.
const MIN_LINKED_FOR_PRIOR: u64 = 20;
/// The documented prior: one match in 2^14 pairs.
const DOCUMENTED_PRIOR: f64 = 1.0 / 16384.0;
/// No deployment is denser in matches than one pair in 2^10.
const MAX_PRIOR: f64 = 1.0 / 1024.0;

/// The share of true matches the exact rules are taken to find, for the prior.
const ASSUMED_RULE_RECALL: f64 = 0.8;

/// Whether the pair looks like two siblings rather than one person: a surname alike at the same
/// address (or postcode), a forename unalike (or not comparable) and another date of birth, no
/// strong identifier agreeing. Within a household the surname and the address are shared, so
/// their agreement is no evidence of one person (the model takes fields as independent, and
/// would count it twice over).
pub(super) fn household_member(cmp: &levels::Comparison) -> bool {
    let same_home = at_one_address_or_postcode(cmp);
    // A forename unalike (or not comparable) on a different date of birth: a sibling. The
    // same date and another forename (twins of one sex), or the same name and another date (a
    // parent), are left to the weights and the cluster veto: a partner replacing one field
    // looks exactly like them.
    // Filters barely alike (Dice 0.6 to 0.7) and more than one letter apart are a sibling's as
    // often as a slip (Harry and Harvey); one letter apart (Dice under 0.9, at any length) is
    // taken for a slip (Kelly and Kellr, though Mia and Mila would pass too). Where the filters
    // cannot be compared (they are salted by the year of birth), agreeing initials alone are
    // unalike (a mother and child share one as often as not), and so are names that sound alike
    // unless the dates of birth are close: short names share a Soundex code (Siân and Seán, Jess
    // and Jack), and a date missing on one side says nothing.
    // Names one letter apart by their unsalted tokens alone are the same: a sibling's name one
    // letter from another's (Mia and Mila) is commoner than a slip beside no date to check it by.
    let unalike = match cmp.forename {
        ix::FORENAME_ELSE | ix::FORENAME_NOT_COMPARED | ix::FORENAME_DICE_06 => true,
        ix::FORENAME_SOUNDEX_NOT_COMPARED => matches!(cmp.dob, ix::MISSING | ix::DOB_ELSE),
        ix::FORENAME_ONE_EDIT if cmp.names_not_compared => cmp.dob == ix::DOB_ELSE,
        // One record holding only an initial tells a parent from a child no better than two
        // initials do: beside a date far apart (no slip), the initial is a relative's.
        ix::FORENAME_INITIAL => cmp.dob == ix::DOB_ELSE,
        // No forename on one side beside dates far apart, or no date either: nothing tells a
        // parent or sibling from the person, and the home and family name alone weigh enough
        // to link them (an unnamed record of one child joined its sister's).
        // Another sex beside it is a twin's (Jessica and her unnamed brother).
        ix::MISSING => matches!(cmp.dob, ix::DOB_ELSE | ix::MISSING) || cmp.sex == ix::SEX_DISAGREE,
        _ => false,
    };
    // A date a year out (the same day and month) or with day and month swapped is a slip in
    // this person's date: relatives are born so by rare chance. Two parts of three agreeing
    // are not: a couple is often born in one year, and a parent and child on one birthday.
    let sibling_dob = matches!(cmp.dob, ix::MISSING | ix::DOB_ONE_PART | ix::DOB_ELSE);
    // Another forename and another sex, whatever the dates: twins of two sexes (Ava and Arlo).
    // A partner's slip replaces one field, rarely two, and a middle name used as the forename
    // keeps the sex. Each such field weighs a few bits against a home that counts twice
    // (address line and postcode), so the weights alone merged half of such twins held once
    // by a partner with no identifier.
    let other_sex = cmp.sex == ix::SEX_DISAGREE;
    let differs = unalike && (sibling_dob || other_sex) && !cmp.swapped && !cmp.half_swapped;
    // One partner listing both records in one household, one as a child and the other as an
    // adult, on dates that are no slip of one another: a parent and the child named after them
    // (William Baker, 1985 and 2024). The same date is a child who became a parent in that
    // household (a teenage mother), and forenames alone say nothing here: a partner's own
    // duplicate of a person under a middle name or a newborn's placeholder name looks exactly
    // like a twin.
    let slip_of_one_date =
        matches!(cmp.dob, ix::EXACT | ix::DOB_DAY_MONTH_SWAPPED | ix::DOB_YEAR_OFF | ix::DOB_ONE_DIGIT);
    let listed_apart = cmp.listed_as_child_and_adult && !slip_of_one_date && !cmp.swapped && !cmp.half_swapped;
    // No name and no date agreeing (each missing on one side or unalike): the home is all the
    // pair shares, and a home holds a household. Records each missing a different field (a
    // parent without a forename, a child without a surname) joined whole households so.
    let nothing_personal = matches!(cmp.forename, ix::MISSING | ix::FORENAME_ELSE | ix::FORENAME_NOT_COMPARED)
        && !cmp.swapped
        && !cmp.half_swapped
        && matches!(cmp.surname, ix::MISSING | ix::SURNAME_ELSE)
        && matches!(cmp.dob, ix::MISSING | ix::DOB_ELSE);
    let relative = (same_family_name(cmp) && differs) || nothing_personal;
    ((same_home && relative) || listed_apart) && cmp.strong_agree == 0
}

/// Names half swapped with no date of birth to check them by, at the same address line or
/// postcode and with no strong identifier agreeing: a parent recorded surname first beside a
/// child looks the same, so where households are evident the pair is refused like a household
/// member (it is not counted among the household pairs).
fn unsure_swap(cmp: &levels::Comparison) -> bool {
    let same_home = at_one_address_or_postcode(cmp);
    cmp.half_swapped && cmp.dob == ix::MISSING && same_home && cmp.strong_agree == 0
}

/// Whether the household veto (`[linkage] household_veto`) applies to the pair: a
/// [`household_member`], or names half swapped that a parent and child could share
/// (`unsure_swap`). The scoring pass and `link explain` both ask this.
pub(super) fn household_deferred(cmp: &levels::Comparison) -> bool {
    household_member(cmp) || unsure_swap(cmp)
}

/// The same address line or the same postcode: where the sibling rule looks for relatives
/// (wider than [`levels::one_home`], which the household count reads).
fn at_one_address_or_postcode(cmp: &levels::Comparison) -> bool {
    cmp.address == ix::EXACT || cmp.postcode == ix::EXACT
}

/// Both names alike (a slip in either, or the two swapped).
fn names_agree(cmp: &levels::Comparison) -> bool {
    levels::forenames_alike(cmp) && cmp.forename != ix::MISSING && (same_family_name(cmp) || cmp.swapped)
}

/// The family name alike, not only equal: a slip in it does not make two relatives one person.
fn same_family_name(cmp: &levels::Comparison) -> bool {
    cmp.surname != ix::MISSING && cmp.surname != ix::SURNAME_ELSE && !cmp.swapped
}

/// Whether the scoring pass refuses pairs that look like members of one household
/// (`[linkage] household_veto`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum HouseholdVeto {
    /// Refuse them where the data holds households ([`households_evident`]), and wherever
    /// there are too few pairs to tell.
    #[default]
    Auto,
    /// Always refuse them.
    On,
    /// Never refuse them: leave them to the weights.
    Off,
}

impl HouseholdVeto {
    /// As the configuration spells it.
    pub fn name(self) -> &'static str {
        match self {
            HouseholdVeto::Auto => "auto",
            HouseholdVeto::On => "on",
            HouseholdVeto::Off => "off",
        }
    }
}

/// Fewer candidate pairs at one home under one family name than this cannot show that the
/// data holds no households, whatever they say: the veto applies.
pub const MIN_PAIRS_TO_LIFT_VETO: u64 = 20;

/// Whether the household veto applies: always or never if set so; else where the data holds
/// households, which it shows by its candidate pairs at one home under one family name
/// (records the exact rules did not make one person). Where most of them differ in both
/// forename and date of birth, such pairs are relatives, and the agreement of surname and home
/// is no evidence of one person: in the synthetic county 91 to 98 % of them do, whichever
/// feeds are linked. Where few do, they are one person's records with a slip or two, and
/// the rare pair with both fields replaced is left to the weights: 9 to 14 % on FEBRL, whose
/// people do not live together. The veto is lifted only when the share is below one half by
/// three standard errors (so that a few pairs prove nothing), and never on fewer than
/// [`MIN_PAIRS_TO_LIFT_VETO`] pairs.
pub fn households_evident(setting: HouseholdVeto, pairs_at_one_address: u64, unalike: u64) -> bool {
    match setting {
        HouseholdVeto::On => true,
        HouseholdVeto::Off => false,
        HouseholdVeto::Auto => {
            let n = pairs_at_one_address as f64;
            // A share of one half among n pairs has a standard error of sqrt(n) / 2 pairs.
            let clearly_fewer_than_half = unalike as f64 + 1.5 * n.sqrt() < n / 2.0;
            pairs_at_one_address < MIN_PAIRS_TO_LIFT_VETO || !clearly_fewer_than_half
        }
    }
}

/// Where the scoring pass draws its line.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Threshold {
    /// Least match probability of a scored link (given the trained prior).
    pub probability: f64,
    /// A fixed least weight in bits instead (`[linkage] match_threshold`), if set.
    pub bits: Option<f64>,
    /// A floor in bits under either ([`LEAST_SCORED_WEIGHT`]).
    pub floor: f64,
}

/// Trains the model on the training sessions' pairs ([`train`](super::train)), unless a frozen
/// one is given, then scores the candidate pairs as blocking finds them and links those above
/// the threshold, then makes the links a shared home vouches for ([`co_resident`](super::co_resident)),
/// calling `on_link(a, b, weight, rule)` for each link made (or found already made).
#[allow(clippy::too_many_arguments)]
pub(super) fn scored_pass(
    recs: &Records,
    threshold: Threshold,
    max_block: usize,
    household_veto: HouseholdVeto,
    co_resident: bool,
    frozen: Option<&Model>,
    c: &mut Clusters<'_>,
    stats: &mut MatchStats,
    on_link: &mut dyn FnMut(u32, u32, f64, Rule),
) {
    let cluster: Vec<u32> = (0..recs.len() as u32).map(|i| c.find(i)).collect();
    let reps = representatives(recs, &cluster);
    let mut s = ScoreStats::default();
    // One record per distinct set of compared values, whatever the clusters: what training
    // and the term frequencies count (and what `link-explain` can count again).
    let distinct = representatives(recs, &vec![0; recs.len()]);
    let tf = TermFrequencies::of(&recs.tokens, &distinct);
    // The model is trained on the sessions' own pairs, so each candidate pair is weighed as
    // blocking finds it and only those that clear the line are kept: millions of candidate
    // pairs are never held at once.
    let model = frozen.cloned().unwrap_or_else(|| {
        let sessions = training_patterns(recs, &distinct, max_block);
        train::train(recs, &reps, &sessions, prior_from_rules(&reps, &cluster))
    });
    drop(distinct);
    let weights = model.weights();
    let least = threshold.bits.unwrap_or_else(|| model.threshold_for(threshold.probability)).max(threshold.floor);
    let mut tally = quality::Tally::new(least);
    let mut links: Vec<(f64, u32, u32)> = Vec::new();
    // Pairs that look like two members of one household, weighed: whether they are refused is
    // decided once every pair has been seen.
    let mut members = super::deferred::Members::default();
    let (mut scored, mut vetoed) = (0u64, 0u64);
    let (mut at_one_address, mut unalike) = (0u64, 0u64);
    blocking::for_each_candidate(&recs.tokens, &reps, &cluster, max_block, &mut s.blocking, &mut |a, b| {
        scored += 1;
        let (ia, ib) = (a as usize, b as usize);
        // A strong identifier that disagrees refuses the pair, and away from one home the pair
        // counts towards nothing else: it is not compared field by field (about half of all
        // candidate pairs).
        let (_, strong_disagree) = levels::strong_identifiers(recs, ia, ib);
        if strong_disagree && !levels::one_home_by_tokens(&recs.tokens[ia], &recs.tokens[ib]) {
            vetoed += 1;
            return;
        }
        let cmp = levels::compare(recs, ia, ib);
        let member = household_member(&cmp);
        // Counted before the strong-identifier veto (siblings with their own NHS numbers are
        // the surest evidence of households), and at one address line where both have one:
        // a postcode alone is shared by chance more often. A pair of the exact rules' one
        // person is no candidate, so these are other people, or one person the rules missed.
        let home = levels::one_home(cmp.address, cmp.postcode);
        if home && same_family_name(&cmp) && cmp.strong_agree == 0 {
            at_one_address += 1;
            unalike += u64::from(member);
        }
        // Records sharing a strong identifier are apart only because the exact rules' veto
        // refused them: with dates of birth far apart that conflict stands (reported, not
        // merged); with dates close (a slip) the scoring may link them and clear it.
        // Unless both names agree too: a shared NHS number under one name is one person whose
        // date two partners (or two slips) got wrong, and a wrong number copied from a relative
        // comes with the relative's forename.
        let conflict = cmp.strong_agree > 0 && cmp.dob == ix::DOB_ELSE && !names_agree(&cmp);
        if cmp.strong_disagree || conflict {
            vetoed += 1;
            return;
        }
        let p = train::pattern(&cmp);
        let w = weights.of(&p) + tf.adjustment(&recs.tokens[a as usize], &p);
        if household_deferred(&cmp) {
            match household_veto {
                HouseholdVeto::On => {
                    vetoed += 1;
                    return;
                }
                HouseholdVeto::Auto => {
                    members.defer((a, b, w, p), &tally, &model);
                    return;
                }
                HouseholdVeto::Off => {}
            }
        }
        tally.scored(recs, a, b, w, model.probability(w), p);
        if w >= least {
            links.push((w, a, b));
        }
    });
    drop(reps);
    let veto = households_evident(household_veto, at_one_address, unalike);
    s.households = Households { setting: household_veto, pairs_at_one_address: at_one_address, unalike, veto };
    // Under `on` and `off` the members were settled as they came, and none is held here.
    vetoed += members.settle(veto, recs, &model, &mut tally, &mut links);
    (s.scored, s.vetoed_pairs) = (scored, vetoed);
    s.above_threshold = links.len() as u64;
    s.threshold = least;
    link_strongest_first(c, links, Rule::Scored, &|w| model.probability(w), &mut tally, stats, on_link);
    // A second round found no more true pairs on 50 000 harsh children, only wrong ones: the
    // homes the first round joins are mostly the ones it already used.
    if co_resident {
        let homes = super::co_resident::candidates(c, &weights, &tf, threshold.probability);
        s.co_resident = homes.len() as u64;
        let probability = &super::co_resident::probability;
        link_strongest_first(c, homes, Rule::CoResident, probability, &mut tally, stats, on_link);
    }
    let (estimate, review) = tally.finish(recs, &model, &mut |a, b| c.find(a) == c.find(b));
    (s.estimate, s.review) = (Some(estimate), review);
    s.model = Some(model);
    stats.scoring = s;
}

/// Makes the links that cleared the line, strongest first, so that a cluster is built from its
/// surest links before the veto weighs a weaker one.
fn link_strongest_first(
    c: &mut Clusters<'_>,
    mut links: Vec<(f64, u32, u32)>,
    rule: Rule,
    probability: &dyn Fn(f64) -> f64,
    tally: &mut quality::Tally,
    stats: &mut MatchStats,
    on_link: &mut dyn FnMut(u32, u32, f64, Rule),
) {
    let recs = c.recs;
    // Weights come in few distinct values, so ties are many: they go in the order of the
    // records' references (not of reading, which parallel ingest may change), so the result
    // depends only on the data.
    let key = |r: u32| (recs.feed_name(r as usize), recs.record_ref[r as usize].as_str());
    let pair_key = |a: u32, b: u32| {
        let (x, y) = (key(a), key(b));
        if x <= y { (x, y) } else { (y, x) }
    };
    links.sort_by(|x, y| y.0.total_cmp(&x.0).then_with(|| pair_key(x.1, x.2).cmp(&pair_key(y.1, y.2))));
    let name = rule.name();
    for (w, a, b) in links {
        // The pair weighed no date of birth: one is missing, or garbled past reading.
        let unweighed = levels::dob_level(&recs.tokens[a as usize], &recs.tokens[b as usize]) == ix::MISSING;
        match c.union_with(a, b, |c, ra, rb| scored_veto(c, ra, rb, unweighed)) {
            Ok(merged) => {
                if merged {
                    *stats.merges_by_rule.entry(name).or_default() += 1;
                }
                tally.linked(probability(w));
                on_link(a, b, w, rule);
            }
            Err(_) => *stats.refused_by_rule.entry(name).or_default() += 1,
        }
    }
}

/// The cluster-level veto of a scored link (after the strong-identifier veto): dates of birth
/// none of which are close, or forenames none of which are alike, where both clusters are
/// established in that field, or sexes each settles apart. Where the linked pair itself had no
/// dates of birth to weigh (`unweighed_dob`), one cluster's date established is enough.
fn scored_veto(c: &mut Clusters<'_>, a: u32, b: u32, unweighed_dob: bool) -> Option<Veto> {
    if sexes_settled_apart(c, a, b) {
        return Some(Veto::Sex);
    }
    let recs = c.recs;
    let (mut dob_both, mut dob_close) = (false, false);
    let (mut fore_both, mut fore_alike) = (false, false);
    for i in c.members(a) {
        let ti = &recs.tokens[i];
        for j in c.members(b) {
            let tj = &recs.tokens[j];
            if !dob_close && ti[Tk::DobUnordered as usize] != NONE && tj[Tk::DobUnordered as usize] != NONE {
                // A date garbled past reading (`2023-60-07`) against another weighs nothing
                // (level missing): it neither holds the clusters apart nor brings them close.
                let level = levels::dob_level(ti, tj);
                if level != ix::MISSING {
                    dob_both = true;
                    dob_close = level != ix::DOB_ELSE;
                }
            }
            if !fore_alike && ti[Tk::Forename as usize] != NONE && tj[Tk::Forename as usize] != NONE {
                fore_both = true;
                fore_alike = levels::forenames_alike(&levels::compare(recs, i, j));
            }
            if dob_close && fore_alike {
                return None;
            }
        }
    }
    // A date of birth two records of a cluster agree on is the person's. A forename is not always:
    // partners repeat their own slips (a nickname, an initial, a typo, names swapped) on every row
    // they hold, so where the two clusters share no partner, a forename is the person's only when
    // two partners agree on it. Where they share one, that partner holds two people, and any two
    // records settle a forename, as before. (Asking the same of dates merged siblings: on 50 000
    // harsh children, precision 0.9928 to 0.985; of forenames alone, precision held and recall
    // rose.)
    let settled = |tk: Tk, across: bool| established(c, a, tk, across) && established(c, b, tk, across);
    // A link made on a pair of which one record has no date weighed no date at all, so a date the
    // other cluster settles outweighs a single far one: a parent's record without a date, linked
    // on a shared home and initial to the child's, would otherwise bring the parent's other
    // records (and date) with it. A pair that weighed its own far dates and still cleared the
    // line needs both settled: a partner's record may carry another date altogether.
    let settled_dob = if unweighed_dob {
        established(c, a, Tk::Dob, false) || established(c, b, Tk::Dob, false)
    } else {
        settled(Tk::Dob, false)
    };
    if dob_both && !dob_close && settled_dob {
        return Some(Veto::DateOfBirth);
    }
    let across = !share_a_feed(c, a, b);
    let forename_settled = forename_established(c, a, across) && forename_established(c, b, across);
    if fore_both && !fore_alike && forename_settled {
        return Some(Veto::Forename);
    }
    None
}

/// The persons of a build rebuilt from their records, for `link-explain` to name what keeps two
/// of them apart as they stand now: the build judged growing clusters, so this may name
/// another reason than the one that fired, or none. Officers' decisions are not held here
/// (`link-explain` names those itself).
pub(super) struct BuiltPersons<'r> {
    clusters: Clusters<'r>,
}

impl<'r> BuiltPersons<'r> {
    /// No person yet: every record on its own.
    pub(super) fn new(recs: &'r Records) -> Self {
        BuiltPersons { clusters: Clusters::new(recs) }
    }

    /// Makes `records` one person.
    pub(super) fn person(&mut self, records: &[u32]) {
        if let Some((&first, rest)) = records.split_first() {
            for &r in rest {
                self.clusters.join_as_built(first, r);
            }
        }
    }

    /// The veto between the persons of records `a` and `b`: a strong identifier, else the
    /// scored veto (`unweighed_dob`: the pair itself weighed no date of birth).
    pub(super) fn veto_between(&mut self, a: u32, b: u32, unweighed_dob: bool) -> Option<Veto> {
        let c = &mut self.clusters;
        let (ra, rb) = (c.find(a), c.find(b));
        if ra == rb {
            return None;
        }
        c.strong_veto(ra, rb).or_else(|| scored_veto(c, ra, rb, unweighed_dob))
    }
}
