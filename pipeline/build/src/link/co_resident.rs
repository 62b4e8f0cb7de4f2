//! Links that a shared home makes likely: two partners each record a home (the same address,
//! property or household reference within that partner), and one person already linked is in
//! both. Another person of one of those homes is then most likely one of the few others of the
//! other home, so the prior for such a pair is one in the home's other persons (`k − 1` of a
//! home of `k`), not one in the county's.
//!
//! This is how a child whose date of birth one partner left out, or whose family moved before
//! another partner heard of it, is still found: the parent known to both partners vouches for
//! the home. Only forename, date of birth and sex are weighed: the homes already say where the
//! two records live, and people of one home mostly share a surname, so agreeing on it says
//! little there. Only pairs whose forenames are alike (as the sibling rule reads them) and whose
//! dates of birth are not far apart are considered: two children of one home differ in one or
//! the other, and that is what keeps siblings and twins apart. A person who could be either of
//! two people of another partner is linked to neither.

use std::collections::HashMap;

use super::cluster::Clusters;
use super::family::MAX_HOUSEHOLD;
use super::levels::{self, ix};
use super::records::{HouseholdKind, Records, Tok};
use super::term_frequency::TermFrequencies;
use super::train::{self, Weights};

/// The match probability of a pair's log-odds (bits) given its home.
pub(super) fn probability(bits: f64) -> f64 {
    1.0 / (1.0 + (-bits).exp2())
}

/// Slots of a [`Pattern`](train::Pattern) this pass does not weigh: the surname, which people
/// of one home mostly share, and the postcode and address, which the shared home already says.
pub(super) const UNWEIGHED_SLOTS: [usize; 3] = [1, 3, 5];

/// One home as one partner records it: its records and the persons among them.
struct Home {
    feed: u8,
    /// Records, one per person and distinct set of compared values.
    records: Vec<u32>,
    /// The persons (cluster roots) of the home, sorted.
    persons: Vec<u32>,
}

/// The pairs of records a shared home makes likely matches, with their log-odds (bits) of
/// being one person given the home: those at least `logit(probability)`, each pair once (lower
/// record first), in order of the pair.
pub(super) fn candidates(
    c: &mut Clusters<'_>,
    weights: &Weights,
    tf: &TermFrequencies,
    probability: f64,
) -> Vec<(f64, u32, u32)> {
    let least = train::logit_bits(probability);
    let homes = homes(c);
    // Each person's homes, to find pairs of homes of two partners that share a person.
    let mut by_person: Vec<(u32, u32)> =
        homes.iter().enumerate().flat_map(|(h, home)| home.persons.iter().map(move |&p| (p, h as u32))).collect();
    by_person.sort_unstable();
    let mut pairs: Vec<(u32, u32)> = Vec::new();
    for group in by_person.chunk_by(|a, b| a.0 == b.0) {
        for (i, &(_, x)) in group.iter().enumerate() {
            for &(_, y) in &group[i + 1..] {
                if homes[x as usize].feed != homes[y as usize].feed {
                    pairs.push((x.min(y), x.max(y)));
                }
            }
        }
    }
    pairs.sort_unstable();
    pairs.dedup();
    let mut passing: Vec<Passing> = Vec::new();
    for (x, y) in pairs {
        let (hx, hy) = (&homes[x as usize], &homes[y as usize]);
        let shared = |p: u32| hx.persons.binary_search(&p).is_ok() && hy.persons.binary_search(&p).is_ok();
        let size = hx.persons.len().max(hy.persons.len());
        let prior = home_prior_bits(size);
        for &a in &hx.records {
            let pa = c.find(a);
            if shared(pa) {
                continue;
            }
            for &b in &hy.records {
                let pb = c.find(b);
                if pa == pb || shared(pb) {
                    continue;
                }
                if let Some(bits) = weigh(c.recs, weights, tf, a, b).map(|w| w + prior).filter(|&w| w >= least) {
                    let (a, person_a, b, person_b) = if a < b { (a, pa, b, pb) } else { (b, pb, a, pa) };
                    passing.push(Passing { bits, a, person_a, b, person_b });
                }
            }
        }
    }
    // Two kinds of home key (a property and its address) find one pair twice: keep the surer.
    passing.sort_unstable_by(|p, q| (p.a, p.b).cmp(&(q.a, q.b)).then(q.bits.total_cmp(&p.bits)));
    passing.dedup_by(|later, kept| (later.a, later.b) == (kept.a, kept.b));
    let partners = partners_by_feed(c.recs, &passing);
    let unique = |person: u32, feed: u8| partners.get(&(person, feed)).is_some_and(|&n| n == 1);
    passing
        .iter()
        .filter(|p| unique(p.person_a, c.recs.feed[p.b as usize]) && unique(p.person_b, c.recs.feed[p.a as usize]))
        .map(|p| (p.bits, p.a, p.b))
        .collect()
}

/// A pair of records of two homes that passes the line, with the persons they are in.
#[derive(Debug, Clone, Copy)]
struct Passing {
    bits: f64,
    a: u32,
    person_a: u32,
    b: u32,
    person_b: u32,
}

/// How many persons of each other partner each person passes with: a person who passes with
/// two of one partner (a mother and a daughter of one name, one date of birth missing; or two
/// homes of that partner, each with one of them) could be either, and is linked to neither.
fn partners_by_feed(recs: &Records, passing: &[Passing]) -> HashMap<(u32, u8), u32> {
    let mut seen: Vec<(u32, u8, u32)> = passing
        .iter()
        .flat_map(|p| {
            [(p.person_a, recs.feed[p.b as usize], p.person_b), (p.person_b, recs.feed[p.a as usize], p.person_a)]
        })
        .collect();
    seen.sort_unstable();
    seen.dedup();
    let mut counts: HashMap<(u32, u8), u32> = HashMap::new();
    for (person, feed, _) in seen {
        *counts.entry((person, feed)).or_default() += 1;
    }
    counts
}

/// The weight (bits) of records `a` and `b` on forename, date of birth and sex, or `None` where
/// they cannot be one person of a home: forenames unalike as the sibling rule reads them (and
/// the names not swapped), dates of birth far apart, or a strong identifier that disagrees.
fn weigh(recs: &Records, weights: &Weights, tf: &TermFrequencies, a: u32, b: u32) -> Option<f64> {
    let (ia, ib) = (a as usize, b as usize);
    let cmp = levels::compare(recs, ia, ib);
    if cmp.strong_disagree || cmp.dob == ix::DOB_ELSE {
        return None;
    }
    // Names that only sound alike are a slip only beside a date to check them by (Siân and
    // Seán share a code), as in the sibling rule.
    let alike = cmp.swapped
        || cmp.half_swapped
        || match cmp.forename {
            ix::MISSING | ix::FORENAME_ELSE | ix::FORENAME_NOT_COMPARED | ix::FORENAME_DICE_06 => false,
            ix::FORENAME_SOUNDEX_NOT_COMPARED => cmp.dob != ix::MISSING,
            _ => true,
        };
    if !alike {
        return None;
    }
    let p = home_pattern(&cmp);
    Some(weights.of(&p) + tf.adjustment(&recs.tokens[ia], &p))
}

/// A pair's pattern as a home weighs it: the slots the home already says left missing.
pub(super) fn home_pattern(cmp: &levels::Comparison) -> train::Pattern {
    let mut p = train::pattern(cmp);
    for s in UNWEIGHED_SLOTS {
        p[s] = ix::MISSING;
    }
    p
}

/// The prior (bits) that a person of one partner's home of `persons` is a given one of the
/// other partner's: one in the home's others.
pub(super) fn home_prior_bits(persons: usize) -> f64 {
    -((persons.saturating_sub(1)).max(1) as f64).log2()
}

/// The homes each partner records, with at least two persons and at most [`MAX_HOUSEHOLD`]
/// (more is a communal address, as families read it). Each keeps one record per person and
/// distinct set of compared values, the one with the least reference, so that the records read
/// and their order do not change what is weighed.
fn homes(c: &mut Clusters<'_>) -> Vec<Home> {
    let recs = c.recs;
    let mut keys: Vec<(HouseholdKind, u8, Tok, u8, u32)> =
        recs.households.iter().map(|&(k, s, t, r)| (k, s, t, recs.feed[r as usize], r)).collect();
    keys.sort_unstable();
    let compared = |r: u32| {
        let i = r as usize;
        (
            &recs.tokens[i],
            recs.bloom[i],
            recs.sex[i],
            [recs.strong[0][i], recs.strong[1][i], recs.strong[2][i]],
            recs.edits[i],
        )
    };
    let reference = |r: u32| (recs.feed_name(r as usize), recs.record_ref[r as usize].as_str());
    let mut homes = Vec::new();
    for group in keys.chunk_by(|a, b| (a.0, a.1, a.2, a.3) == (b.0, b.1, b.2, b.3)) {
        if group.len() < 2 {
            continue;
        }
        let mut members: Vec<(u32, u32)> = group.iter().map(|&(.., r)| (c.find(r), r)).collect();
        members.sort_unstable_by(|x, y| {
            x.0.cmp(&y.0)
                .then_with(|| compared(x.1).cmp(&compared(y.1)))
                .then_with(|| reference(x.1).cmp(&reference(y.1)))
        });
        members.dedup_by(|later, kept| later.0 == kept.0 && compared(later.1) == compared(kept.1));
        let mut persons: Vec<u32> = members.iter().map(|m| m.0).collect();
        persons.dedup();
        if persons.len() < 2 || persons.len() > MAX_HOUSEHOLD {
            continue;
        }
        homes.push(Home { feed: group[0].3, records: members.into_iter().map(|m| m.1).collect(), persons });
    }
    homes
}
