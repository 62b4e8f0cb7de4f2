//! The scoring model estimated per deployment, without labels: `u` (how often two different
//! people fall in each comparison level) from the frequencies of the deployment's own tokens
//! and from random pairs of its records; `m` (how often two records of one person do) and the
//! share of matches among candidate pairs by expectation–maximisation over the candidate pairs
//! the blocking rules find, with `u` held fixed.
//!
//! Fixing `u` keeps EM from drifting to another grouping of the pairs (households share a
//! surname and an address as persons do): only `m` and the prior move. The documented levels
//! ([`levels`](super::levels)) are where `m` starts, and what a build too small to train on
//! uses.

use std::collections::{BTreeMap, HashMap};

use super::compare::{Tk, Tokens};
use super::levels::{self, ADDRESS, Comparison, DOB, FORENAME, Level, POSTCODE, SEX, SURNAME, ix};
use super::records::{NONE, Records};

/// The compared fields, in the order of a [`Pattern`].
pub const FIELDS: [&str; 6] = ["forename", "surname", "date_of_birth", "postcode", "sex", "address"];

/// A pair's comparison levels: one per field of [`FIELDS`] (names `missing` when swapped), then
/// whether the names are swapped ([`SWAP_FULL`]) or half swapped ([`SWAP_HALF`]), then how many
/// strong identifiers agree.
pub type Pattern = [u8; 8];

/// The slot of a [`Pattern`] that says whether the names are swapped or half swapped.
pub const SWAP_SLOT: usize = 6;
/// [`SWAP_SLOT`] when the names are swapped (weighed as [`levels::NAMES_SWAPPED`]).
pub const SWAP_FULL: u8 = 1;
/// [`SWAP_SLOT`] when the names are half swapped (weighed as [`levels::NAMES_HALF_SWAPPED`]).
pub const SWAP_HALF: u8 = 2;
/// The slot of a [`Pattern`] that counts the strong identifiers agreeing.
pub const STRONG_SLOT: usize = 7;

/// A training session: the pairs of one blocking rule, and the fields that rule makes agree
/// (whose `m` it cannot estimate, and whose agreement says nothing within it).
#[derive(Debug, Clone, Copy)]
pub struct Session {
    /// The blocking rule ([`BLOCK_RULES`](super::blocking::BLOCK_RULES)).
    pub rule: &'static str,
    /// Indices into [`FIELDS`] (and 6 for swapped names) left out of this session.
    pub blocked: &'static [usize],
}

/// The sessions EM runs, as Splink does: each field is estimated in a session that does not
/// block on it. No session blocks on a surname and an address together: the pairs of such
/// blocks are mostly members of one household, and EM would learn a household for a person.
pub const SESSIONS: [Session; 2] =
    [Session { rule: "dob_unordered", blocked: &[2] }, Session { rule: "names_either_order", blocked: &[0, 1, 6] }];

/// Fewer candidate pairs than this: the documented levels are used as they are.
const MIN_TRAINING_PAIRS: u64 = 200;
/// Random pairs drawn to estimate `u` of the levels that are not exact agreement.
const RANDOM_PAIRS: u64 = 300_000;
/// EM stops after this many rounds, or when no `m` moves by more than [`TOLERANCE`].
const MAX_ROUNDS: u32 = 100;
const TOLERANCE: f64 = 1e-6;
/// Weight, in pairs, of the documented `m` in each estimate: keeps a level never seen among
/// the matches from weighing minus infinity.
const PRIOR_PAIRS: f64 = 1.0;
/// Levels whose `m` keeps its documented value. They arise only when the name filters cannot be
/// compared, that is when the years of birth differ or one is missing, and no session sees
/// such pairs among its matches: blocking on the date of birth rules them out, blocking on the
/// names leaves the names unestimated. EM would put their `m` near zero and make a missing date
/// of birth veto a name slip.
const NOT_ESTIMATED: [(&str, &str); 3] =
    [("forename", "soundex_not_compared"), ("forename", "initial_not_compared"), ("surname", "soundex_not_compared")];

/// Weight, in random pairs, of the documented `u` shares of the levels other than exact.
const U_PRIOR_PAIRS: f64 = 1000.0;
/// Records of one postcode looked at, and pairs in all, for the `u` of
/// `other_number_same_postcode`; fewer pairs of other people than the least: its documented `u`.
const NEIGHBOUR_RECORDS: usize = 24;
const NEIGHBOUR_PAIRS: u64 = 200_000;
const NEIGHBOUR_LEAST: u64 = 30;
/// Weight, in pairs, of the documented `u` of `other_number_same_postcode`.
const NEIGHBOUR_PRIOR_PAIRS: f64 = 20.0;

/// The model a build scores with.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Model {
    /// Per field of [`FIELDS`]: its levels, `missing` first.
    pub fields: Vec<(&'static str, Vec<Level>)>,
    /// The share of matches among the candidate pairs (EM's estimate).
    pub prior: f64,
    /// Whether `m`, `u` and the prior were estimated from this deployment's data.
    pub estimated: bool,
    /// EM rounds run.
    pub rounds: u32,
    /// Candidate pairs EM was trained on.
    pub training_pairs: u64,
    /// Random pairs drawn for `u`.
    pub random_pairs: u64,
}

/// A model's level weights in bits ([`Model::weights`]): what the scoring pass adds up for each
/// of millions of pairs, without a logarithm each.
#[derive(Debug, Clone)]
pub struct Weights {
    fields: Vec<Vec<f64>>,
    swapped: f64,
    half_swapped: f64,
    strong: f64,
}

impl Weights {
    /// The weight of a pattern (see [`Model::weight`]).
    pub fn of(&self, p: &Pattern) -> f64 {
        let mut w: f64 =
            self.fields.iter().zip(p).map(|(levels, &l)| levels.get(usize::from(l)).copied().unwrap_or(0.0)).sum();
        match p[SWAP_SLOT] {
            SWAP_FULL => w += self.swapped,
            SWAP_HALF => w += self.half_swapped,
            _ => {}
        }
        w + f64::from(p[STRONG_SLOT]) * self.strong
    }
}

impl Model {
    /// The documented levels, untrained.
    pub fn documented() -> Model {
        let tables: [&[Level]; 6] = [&FORENAME, &SURNAME, &DOB, &POSTCODE, &SEX, &ADDRESS];
        Model {
            fields: FIELDS.iter().zip(tables).map(|(f, t)| (*f, t.to_vec())).collect(),
            prior: 0.01,
            estimated: false,
            rounds: 0,
            training_pairs: 0,
            random_pairs: 0,
        }
    }

    /// The weight (bits) of a pattern: the sum of its levels' weights (a missing value weighs
    /// nothing), with swapped names and agreeing strong identifiers at their documented weights.
    /// For many patterns under one model, take [`Model::weights`] once.
    pub fn weight(&self, p: &Pattern) -> f64 {
        self.weights().of(p)
    }

    /// Every level's weight, worked out once for a model that no longer changes.
    pub fn weights(&self) -> Weights {
        Weights {
            fields: self
                .fields
                .iter()
                .map(|(_, levels)| {
                    levels.iter().enumerate().map(|(i, l)| if i == 0 { 0.0 } else { l.weight() }).collect()
                })
                .collect(),
            swapped: levels::NAMES_SWAPPED.weight(),
            half_swapped: levels::NAMES_HALF_SWAPPED.weight(),
            strong: levels::STRONG_AGREE.weight(),
        }
    }

    /// The least weight (bits) of a pair whose match probability is at least `probability`,
    /// given the prior among candidate pairs.
    pub fn threshold_for(&self, probability: f64) -> f64 {
        logit_bits(probability) - logit_bits(self.prior)
    }

    /// The model as the audit log and `state/link/model.json` keep it.
    pub fn record(&self, matcher: &str, threshold_bits: f64) -> tellonce_governance::audit::LinkageModel {
        let levels = self
            .fields
            .iter()
            .flat_map(|(field, levels)| {
                levels.iter().skip(1).map(|l| tellonce_governance::audit::ModelLevel {
                    field: (*field).to_owned(),
                    level: l.name.to_owned(),
                    m: l.m,
                    u: l.u,
                })
            })
            .collect();
        tellonce_governance::audit::LinkageModel {
            matcher: matcher.to_owned(),
            estimated: self.estimated,
            prior: self.prior,
            threshold_bits,
            training_pairs: self.training_pairs,
            levels,
            estimated_precision: None,
            estimated_recall: None,
            households: None,
            frozen: None,
            vetoes: None,
        }
    }

    /// The model a build recorded (`state/link/model.json`), for explaining its links later.
    /// Levels the record does not name keep their documented values: a record written by an
    /// older matcher still explains what it can.
    pub fn from_record(r: &tellonce_governance::audit::LinkageModel) -> Model {
        let mut model = Model::documented();
        model.prior = r.prior;
        model.estimated = r.estimated;
        model.training_pairs = r.training_pairs;
        for l in &r.levels {
            let field = model.fields.iter_mut().find(|(f, _)| *f == l.field);
            if let Some(level) = field.and_then(|(_, levels)| levels.iter_mut().find(|x| x.name == l.level)) {
                (level.m, level.u) = (l.m, l.u);
            }
        }
        model
    }

    /// The match probability of a pair of this weight among candidate pairs.
    pub fn probability(&self, weight: f64) -> f64 {
        let odds = (self.prior / (1.0 - self.prior)) * weight.exp2();
        odds / (1.0 + odds)
    }
}

/// The log-odds of a probability, in bits.
pub fn logit_bits(p: f64) -> f64 {
    (p / (1.0 - p)).log2()
}

/// A comparison as a pattern.
pub fn pattern(c: &Comparison) -> Pattern {
    let (f, s) = if c.swapped || c.half_swapped { (0, 0) } else { (c.forename, c.surname) };
    let swap = match (c.swapped, c.half_swapped) {
        (true, _) => SWAP_FULL,
        (false, true) => SWAP_HALF,
        (false, false) => 0,
    };
    [f, s, c.dob, c.postcode, c.sex, c.address, swap, c.strong_agree]
}

/// Estimates the model from the representatives' tokens (for `u`) and the candidate pairs'
/// patterns (for `m` and the prior).
pub fn train(recs: &Records, reps: &[u32], sessions: &[(Session, BTreeMap<Pattern, u64>)], prior: f64) -> Model {
    let mut model = Model::documented();
    model.prior = prior;
    let pairs: u64 = sessions.iter().flat_map(|(_, p)| p.values()).sum();
    if pairs < MIN_TRAINING_PAIRS || reps.len() < 2 {
        return model;
    }
    estimate_u(recs, reps, &mut model);
    let documented = model.clone();
    let mut sums: Vec<Vec<f64>> = model.fields.iter().map(|(_, l)| vec![0.0; l.len()]).collect();
    let mut runs = [0u32; 6];
    for (session, patterns) in sessions {
        if patterns.values().sum::<u64>() < MIN_TRAINING_PAIRS {
            continue;
        }
        let mut m = documented.clone();
        model.rounds += estimate_m(patterns, session.blocked, &mut m);
        for (f, (_, levels)) in m.fields.iter().enumerate().filter(|(f, _)| !session.blocked.contains(f)) {
            runs[f] += 1;
            for (l, level) in levels.iter().enumerate() {
                sums[f][l] += level.m;
            }
        }
    }
    for (f, (_, levels)) in model.fields.iter_mut().enumerate() {
        if runs[f] == 0 {
            continue;
        }
        for (l, level) in levels.iter_mut().enumerate().skip(1) {
            level.m = sums[f][l] / f64::from(runs[f]);
        }
    }
    model.training_pairs = pairs;
    model.estimated = true;
    model
}

/// The chance that two records drawn at random agree exactly on a token: the sum of the squared
/// shares of its values (among records that have one).
fn chance_of_agreement(recs: &Records, reps: &[u32], tk: Tk) -> Option<f64> {
    let mut counts: HashMap<u32, u64> = HashMap::new();
    for &r in reps {
        let t = recs.tokens[r as usize][tk as usize];
        if t != NONE {
            *counts.entry(t).or_default() += 1;
        }
    }
    let n: u64 = counts.values().sum();
    if n < 2 {
        return None;
    }
    let same: u64 = counts.values().map(|c| c * (c - 1)).sum();
    Some((same as f64 / (n * (n - 1)) as f64).max(1.0 / (n * (n - 1)) as f64))
}

/// A small deterministic generator: the same data draws the same pairs.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

fn estimate_u(recs: &Records, reps: &[u32], model: &mut Model) {
    // Levels other than exact: their shares among random non-exact pairs. The draw is from the
    // records in the order of their references, not of reading: parallel ingest may stage the
    // same records in another order, and the model must not change with it.
    let mut reps = reps.to_vec();
    reps.sort_by(|&a, &b| {
        let key = |r: u32| (recs.feed_name(r as usize), recs.record_ref[r as usize].as_str());
        key(a).cmp(&key(b))
    });
    let reps = reps.as_slice();
    let mut counts: Vec<Vec<f64>> = model.fields.iter().map(|(_, l)| vec![0.0; l.len()]).collect();
    let n = reps.len() as u64;
    let draws = RANDOM_PAIRS.min(n * (n - 1) / 2);
    let mut rng = SplitMix(n);
    for _ in 0..draws {
        let a = reps[(rng.next() % n) as usize] as usize;
        let mut b = reps[(rng.next() % n) as usize] as usize;
        if a == b {
            b = reps[((rng.next() % (n - 1)) as usize + 1).min(reps.len() - 1)] as usize;
        }
        let p = pattern(&levels::compare(recs, a, b));
        for (f, c) in counts.iter_mut().enumerate() {
            if let Some(slot) = c.get_mut(usize::from(p[f])) {
                *slot += 1.0;
            }
        }
    }
    model.random_pairs = draws;
    let exact_tokens =
        [Some(Tk::Forename), Some(Tk::Surname), Some(Tk::Dob), Some(Tk::Postcode), None, Some(Tk::Address)];
    for (f, (_, levels)) in model.fields.iter_mut().enumerate() {
        let exact = match exact_tokens[f] {
            Some(tk) => chance_of_agreement(recs, reps, tk),
            None => sex_agreement(recs, reps),
        };
        let Some(exact) = exact else { continue };
        // The documented shares, as if seen in U_PRIOR_PAIRS random pairs: a level the draw
        // never saw keeps a small chance instead of none.
        let (exact_level, first_other) = (usize::from(ix::EXACT), usize::from(ix::EXACT) + 1);
        let documented: f64 = levels.iter().skip(first_other).map(|l| l.u).sum();
        let shares: Vec<f64> = levels.iter().map(|l| U_PRIOR_PAIRS * l.u / documented).collect();
        let rest: f64 = counts[f].iter().zip(&shares).skip(first_other).map(|(c, s)| c + s).sum();
        levels[exact_level].u = exact;
        for (l, level) in levels.iter_mut().enumerate().skip(first_other) {
            level.u = (1.0 - exact) * (counts[f][l] + shares[l]) / rest;
        }
    }
    // Not a share of random pairs, which almost never share a postcode: see `ADDRESS`.
    let neighbours = usize::from(ix::ADDRESS_OTHER_NUMBER_SAME_POSTCODE);
    if let Some((_, levels)) = model.fields.iter_mut().find(|(f, _)| *f == "address")
        && let Some(u) = other_number_at_one_postcode(recs, reps, ADDRESS[neighbours].u)
    {
        levels[neighbours].u = u;
    }
}

/// How often two other people sharing a postcode have lines alike but for their numbers: among
/// pairs of records at one postcode whose forenames and dates of birth are unalike (the
/// pairs of one person are not among them), the share at `other_number_same_postcode`, the
/// documented `u` weighing as [`NEIGHBOUR_PRIOR_PAIRS`]. `reps` in the order of their
/// references, so that the same data draws the same pairs.
fn other_number_at_one_postcode(recs: &Records, reps: &[u32], documented: f64) -> Option<f64> {
    let mut at: HashMap<u32, usize> = HashMap::new();
    let mut groups: Vec<Vec<u32>> = Vec::new();
    for &r in reps {
        let t = recs.tokens[r as usize][Tk::Postcode as usize];
        if t == NONE {
            continue;
        }
        let g = *at.entry(t).or_insert_with(|| {
            groups.push(Vec::new());
            groups.len() - 1
        });
        if groups[g].len() < NEIGHBOUR_RECORDS {
            groups[g].push(r);
        }
    }
    let (mut pairs, mut others, mut apart) = (0u64, 0u64, 0u64);
    for g in groups.iter().filter(|g| g.len() > 1) {
        for (k, &a) in g.iter().enumerate() {
            for &b in &g[k + 1..] {
                if pairs == NEIGHBOUR_PAIRS {
                    break;
                }
                pairs += 1;
                let c = levels::compare(recs, a as usize, b as usize);
                let unalike = c.forename != ix::MISSING && !levels::forenames_alike(&c) && c.dob == ix::DOB_ELSE;
                if unalike && c.address != ix::MISSING {
                    others += 1;
                    apart += u64::from(c.address == ix::ADDRESS_OTHER_NUMBER_SAME_POSTCODE);
                }
            }
        }
    }
    (others >= NEIGHBOUR_LEAST)
        .then(|| (apart as f64 + NEIGHBOUR_PRIOR_PAIRS * documented) / (others as f64 + NEIGHBOUR_PRIOR_PAIRS))
}

fn sex_agreement(recs: &Records, reps: &[u32]) -> Option<f64> {
    let (mut m, mut f) = (0u64, 0u64);
    for &r in reps {
        match recs.sex[r as usize] {
            b'M' => m += 1,
            b'F' => f += 1,
            _ => {}
        }
    }
    let n = (m + f) as f64;
    (m + f >= 2).then(|| ((m as f64 / n).powi(2) + (f as f64 / n).powi(2)).clamp(0.01, 0.99))
}

/// EM for one session: `m` of the fields it does not block on, with `u` fixed; the session's
/// own share of matches moves with it. Returns the rounds run.
fn estimate_m(patterns: &BTreeMap<Pattern, u64>, blocked: &[usize], model: &mut Model) -> u32 {
    // Within the session, blocked fields agree by construction: they say nothing.
    let masked = |p: &Pattern| {
        let mut q = *p;
        for &f in blocked {
            q[f] = 0;
        }
        q
    };
    let start: Vec<Vec<f64>> = model.fields.iter().map(|(_, l)| l.iter().map(|x| x.m).collect()).collect();
    let mut prior = 0.1;
    let mut rounds = 0;
    while rounds < MAX_ROUNDS {
        rounds += 1;
        let mut matched: Vec<Vec<f64>> = start.iter().map(|l| vec![0.0; l.len()]).collect();
        let (mut total, mut expected) = (0.0, 0.0);
        let weights = model.weights();
        for (p, &count) in patterns {
            let count = count as f64;
            let odds = (prior / (1.0 - prior)) * weights.of(&masked(p)).exp2();
            let posterior = if odds.is_finite() { odds / (1.0 + odds) } else { 1.0 };
            total += count;
            expected += count * posterior;
            for (f, m) in matched.iter_mut().enumerate() {
                if let Some(slot) = m.get_mut(usize::from(p[f])) {
                    *slot += count * posterior;
                }
            }
        }
        let mut moved: f64 = 0.0;
        for (f, (name, levels)) in model.fields.iter_mut().enumerate().filter(|(f, _)| !blocked.contains(f)) {
            // Missing (level 0) is no evidence: m is shared out among the levels present.
            let prior_mass: f64 = start[f].iter().skip(1).sum();
            let kept: Vec<bool> = levels.iter().map(|x| NOT_ESTIMATED.contains(&(*name, x.name))).collect();
            let fixed = |l: usize| kept[l];
            let fixed_mass: f64 = (1..levels.len()).filter(|&l| fixed(l)).map(|l| start[f][l] / prior_mass).sum();
            let present: f64 = (1..levels.len()).filter(|&l| !fixed(l)).map(|l| matched[f][l]).sum();
            let free_prior: f64 = (1..levels.len()).filter(|&l| !fixed(l)).map(|l| start[f][l]).sum();
            for l in 1..levels.len() {
                let m = if fixed(l) {
                    start[f][l] / prior_mass
                } else {
                    let share = (matched[f][l] + PRIOR_PAIRS * start[f][l] / free_prior) / (present + PRIOR_PAIRS);
                    share * (1.0 - fixed_mass)
                };
                moved = moved.max((m - levels[l].m).abs());
                levels[l].m = m;
            }
        }
        prior = (expected / total).clamp(1e-9, 1.0 - 1e-9);
        if moved < TOLERANCE {
            break;
        }
    }
    rounds
}

/// Whether a record has anything the scoring pass can compare.
pub fn comparable(t: &Tokens) -> bool {
    t[Tk::Forename as usize] != NONE || t[Tk::Surname as usize] != NONE || t[Tk::DobUnordered as usize] != NONE
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Pattern counts for `matches` pairs whose forename and surname agree in the shares given,
    /// and `others` pairs that agree at the chance `u`.
    fn mixture(matches: u64, m_agree: f64, others: u64, u_agree: f64) -> BTreeMap<Pattern, u64> {
        let mut p: BTreeMap<Pattern, u64> = BTreeMap::new();
        let (else_f, else_s) = (ix::FORENAME_ELSE, ix::SURNAME_ELSE);
        for (n, share) in [(matches, m_agree), (others, u_agree)] {
            let agree = (n as f64 * share).round() as u64;
            // Fields independent given the class: agree on both, one, or neither.
            let both = (agree as f64 * share).round() as u64;
            let one = agree - both;
            let neither = n - both - 2 * one;
            *p.entry([ix::EXACT, ix::EXACT, 0, 0, 0, 0, 0, 0]).or_default() += both;
            *p.entry([ix::EXACT, else_s, 0, 0, 0, 0, 0, 0]).or_default() += one;
            *p.entry([else_f, ix::EXACT, 0, 0, 0, 0, 0, 0]).or_default() += one;
            *p.entry([else_f, else_s, 0, 0, 0, 0, 0, 0]).or_default() += neither;
        }
        p
    }

    /// Records of `people` at one postcode, each its own person (forename, a date of birth years
    /// apart), living at the lines given.
    fn one_postcode(lines: &[String]) -> Records {
        use super::super::score_tests::{AMY, Who, add};
        let mut recs = Records::default();
        let mut e = tellonce_governance::KeyRing::from_master([7u8; 32])
            .tokeniser(tellonce_governance::Purpose::Linkage)
            .bloom_encoder();
        for (k, line) in (0u32..).zip(lines) {
            let who = Who { fore: 100 + k, sur: 200 + k, dob: (1950 + 3 * k, 1 + k % 12, 1 + k % 28), ..AMY };
            let i = add(&mut recs, "housing", &format!("H{k}"), who, b'F') as usize;
            recs.tokens[i][Tk::Address as usize] = 30_000_000 + k;
            let number: String = line.chars().take_while(char::is_ascii_digit).collect();
            recs.tokens[i][Tk::AddressNumbers as usize] = 31_000_000 + number.parse::<u32>().unwrap();
            recs.address_bloom[i] = recs.address_blooms.len() as u32;
            recs.address_blooms.push(e.encode("address", "", line));
        }
        recs
    }

    #[test]
    fn neighbours_at_other_numbers_of_one_street_weigh_against_and_a_slip_where_there_are_none_for() {
        let u_of = |recs: &Records| {
            let reps: Vec<u32> = (0..recs.len() as u32).collect();
            let mut model = Model::documented();
            estimate_u(recs, &reps, &mut model);
            model.fields[5].1[usize::from(ix::ADDRESS_OTHER_NUMBER_SAME_POSTCODE)].u
        };
        // A British postcode: one street, its homes by number.
        let street: Vec<String> = (0..16).map(|n| format!("{} ACACIA AVENUE", 2 * n + 1)).collect();
        let recs = one_postcode(&street);
        let c = levels::compare(&recs, 0, 1);
        assert_eq!(c.address, ix::ADDRESS_OTHER_NUMBER_SAME_POSTCODE);
        let on_a_street = u_of(&recs);
        // A postcode of scattered homes (rural, or a data set whose postcodes are not places).
        let roads = [
            "ACACIA AVENUE",
            "BIRCH CLOSE",
            "CEDAR ROAD",
            "DUNSTAN LANE",
            "ELM GROVE",
            "FERN WAY",
            "GORSE HILL",
            "HAZEL DRIVE",
        ];
        let scattered: Vec<String> = (0..16).map(|n| format!("{} {}", 2 * n + 1, roads[n % 8])).collect();
        let apart = u_of(&one_postcode(&scattered));
        assert!(on_a_street > 0.5, "neighbours share a street: u {on_a_street}");
        assert!(apart < on_a_street / 3.0, "u {apart} against {on_a_street}");
        let m = ADDRESS[usize::from(ix::ADDRESS_OTHER_NUMBER_SAME_POSTCODE)].m;
        assert!((m / on_a_street).log2() < 0.0 && (m / apart).log2() > (m / on_a_street).log2() + 1.5);
    }

    #[test]
    fn em_recovers_the_agreement_rate_of_matches_with_u_held_fixed() {
        let mut model = Model::documented();
        for f in 0..2 {
            let levels = &mut model.fields[f].1;
            let last = levels.len() - 1;
            for (l, level) in levels.iter_mut().enumerate().skip(1) {
                level.u = match l {
                    1 => 0.01,
                    _ if l == last => 0.99 - 1e-6 * (last - 2) as f64,
                    _ => 1e-6,
                };
            }
        }
        let patterns = mixture(2_000, 0.8, 20_000, 0.01);
        let rounds = estimate_m(&patterns, &[2], &mut model);
        assert!(rounds > 1 && rounds <= MAX_ROUNDS);
        for (name, levels) in &model.fields[..2] {
            let exact = levels[1].m;
            assert!((exact - 0.8).abs() < 0.03, "{name}: m(exact) {exact}");
        }
    }

    #[test]
    fn levels_no_session_sees_among_matches_keep_their_documented_m() {
        let mut model = Model::documented();
        let nc = usize::from(levels::ix::FORENAME_SOUNDEX_NOT_COMPARED);
        let documented: f64 = FORENAME[nc].m / FORENAME.iter().skip(1).map(|l| l.m).sum::<f64>();
        // Filters not comparable only among pairs that share nothing else.
        let mut patterns = mixture(2_000, 0.8, 20_000, 0.01);
        *patterns.entry([nc as u8, ix::SURNAME_ELSE, 0, 0, 0, 0, 0, 0]).or_default() += 5_000;
        estimate_m(&patterns, &[2], &mut model);
        let m = model.fields[0].1[nc].m;
        assert!((m - documented).abs() < 1e-9, "{m} vs {documented}");
        let total: f64 = model.fields[0].1.iter().skip(1).map(|l| l.m).sum();
        assert!((total - 1.0).abs() < 1e-9, "{total}");
    }

    #[test]
    fn too_few_pairs_keep_the_documented_levels_and_the_given_prior() {
        let recs = Records::new();
        let model = train(&recs, &[], &[], 0.001);
        assert!(!model.estimated);
        assert_eq!(model.fields, Model::documented().fields);
        assert_eq!(model.prior, 0.001);
    }

    #[test]
    fn a_recorded_model_reads_back_as_it_was() {
        let mut model = Model { prior: 3e-5, estimated: true, training_pairs: 1234, ..Model::documented() };
        model.fields[2].1[1].m = 0.77;
        model.fields[5].1[3].u = 0.0042;
        let back = Model::from_record(&model.record("m-1", 17.0));
        assert_eq!((back.fields, back.prior, back.estimated, back.training_pairs), (model.fields, 3e-5, true, 1234));
    }

    #[test]
    fn threshold_and_probability_agree() {
        let model = Model { prior: 1e-4, ..Model::documented() };
        let t = model.threshold_for(0.9);
        assert!((model.probability(t) - 0.9).abs() < 1e-9);
        assert!(model.probability(t + 1.0) > 0.9 && model.probability(t - 1.0) < 0.9);
    }

    #[test]
    fn a_missing_value_weighs_nothing_and_swapped_names_replace_both_name_levels() {
        let model = Model::documented();
        assert_eq!(model.weight(&[0; 8]), 0.0);
        let swapped = pattern(&Comparison {
            forename: levels::ix::FORENAME_ELSE,
            surname: levels::ix::SURNAME_ELSE,
            swapped: true,
            half_swapped: false,
            dob: ix::MISSING,
            postcode: ix::MISSING,
            sex: ix::MISSING,
            address: ix::MISSING,
            strong_agree: 0,
            strong_disagree: false,
            names_not_compared: true,
            listed_as_child_and_adult: false,
        });
        assert_eq!(model.weight(&swapped), levels::NAMES_SWAPPED.weight());
    }
}
