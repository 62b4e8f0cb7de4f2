//! Links that a shared home makes likely: two partners each record a home (the same address,
//! property or household reference within that partner), and one person already linked is in
//! both. Another person of one of those homes is then most likely one of the few others of the
//! other home, so the prior for such a pair is one in the home's size, not one in the county's.
//!
//! This is how a child whose date of birth one partner left out, or whose family moved before
//! another partner heard of it, is still found: the parent known to both partners vouches for
//! the home. Only names, date of birth and sex are weighed (the homes already settled where the
//! two records live), and only pairs whose forenames are alike and whose dates of birth are not
//! far apart are considered: two children of one home differ in one or the other, and that is
//! what keeps siblings and twins apart. A person who could be either of two people of the other
//! home is linked to neither.

use super::cluster::Clusters;
use super::family::MAX_HOUSEHOLD;
use super::levels::{self, ix};
use super::records::{HouseholdKind, Tok};
use super::term_frequency::TermFrequencies;
use super::train::{self, Weights};

/// The match probability of a pair's log-odds (bits) given its home.
pub(super) fn probability(bits: f64) -> f64 {
    1.0 / (1.0 + (-bits).exp2())
}

/// Slots of a [`Pattern`](train::Pattern) this pass does not weigh: where the two records
/// live is what the shared home already says.
const PLACE_SLOTS: [usize; 2] = [3, 5];

/// One home as one partner records it: its records and the persons among them.
struct Home {
    feed: u8,
    /// Records, one per person and distinct set of compared values.
    records: Vec<u32>,
    /// The persons (cluster roots) of the home, sorted.
    persons: Vec<u32>,
}

/// The pairs of records a shared home makes likely matches, with their log-odds (bits) of
/// being one person given the home; those at least `logit(probability)`, strongest first.
pub(super) fn candidates(
    c: &mut Clusters<'_>,
    weights: &Weights,
    tf: &TermFrequencies,
    probability: f64,
) -> Vec<(f64, u32, u32)> {
    let least = (probability / (1.0 - probability)).log2();
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
    let mut found: Vec<(f64, u32, u32)> = Vec::new();
    for (x, y) in pairs {
        let (hx, hy) = (&homes[x as usize], &homes[y as usize]);
        let shared = |p: u32| hx.persons.binary_search(&p).is_ok() && hy.persons.binary_search(&p).is_ok();
        let size = hx.persons.len().max(hy.persons.len());
        // One in `size - 1` others: the odds that a given other of one home is a given other of
        // the other.
        let prior = -((size.saturating_sub(1)).max(1) as f64).log2();
        let mut passing: Vec<Passing> = Vec::new();
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
                if let Some(w) = weigh(c, weights, tf, a, b).map(|w| w + prior).filter(|&w| w >= least) {
                    passing.push(Passing { bits: w, a, person_a: pa, b, person_b: pb });
                }
            }
        }
        found.extend(unambiguous(&passing).map(|p| (p.bits, p.a.min(p.b), p.a.max(p.b))));
    }
    // Two kinds of home key (a property and its address) find one pair twice: keep the surer.
    found.sort_unstable_by(|p, q| (p.1, p.2).cmp(&(q.1, q.2)).then(q.0.total_cmp(&p.0)));
    found.dedup_by(|later, kept| (later.1, later.2) == (kept.1, kept.2));
    found
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

/// The pairs of `passing` whose persons each pass with one person of the other home only: a
/// record that could be either of two people of the other home (a mother and a daughter of one
/// name, one date of birth missing) is linked to neither.
fn unambiguous(passing: &[Passing]) -> impl Iterator<Item = &Passing> {
    let partners = |of: fn(&Passing) -> (u32, u32), person: u32| {
        let mut seen: Vec<u32> = passing.iter().map(of).filter(|&(p, _)| p == person).map(|(_, q)| q).collect();
        seen.sort_unstable();
        seen.dedup();
        seen.len()
    };
    passing.iter().filter(move |e| {
        partners(|x| (x.person_a, x.person_b), e.person_a) == 1
            && partners(|x| (x.person_b, x.person_a), e.person_b) == 1
    })
}

/// The weight (bits) of records `a` and `b` on names, date of birth and sex, or `None` where
/// they cannot be one person of a home: forenames unalike (and the names not swapped), dates of
/// birth far apart, or a strong identifier that disagrees.
fn weigh(c: &Clusters<'_>, weights: &Weights, tf: &TermFrequencies, a: u32, b: u32) -> Option<f64> {
    let recs = c.recs;
    let (ia, ib) = (a as usize, b as usize);
    let cmp = levels::compare(recs, ia, ib);
    if cmp.strong_disagree || cmp.dob == ix::DOB_ELSE {
        return None;
    }
    let alike = cmp.swapped
        || cmp.half_swapped
        || !matches!(cmp.forename, ix::MISSING | ix::FORENAME_ELSE | ix::FORENAME_NOT_COMPARED | ix::FORENAME_DICE_06);
    if !alike {
        return None;
    }
    let mut p = train::pattern(&cmp);
    for s in PLACE_SLOTS {
        p[s] = ix::MISSING;
    }
    Some(weights.of(&p) + tf.adjustment(&recs.tokens[ia], &p))
}

/// The homes each partner records, with at least two persons and at most [`MAX_HOUSEHOLD`]
/// (more is a communal address, as families read it).
fn homes(c: &mut Clusters<'_>) -> Vec<Home> {
    let recs = c.recs;
    let mut keys: Vec<(HouseholdKind, u8, Tok, u8, u32)> =
        recs.households.iter().map(|&(k, s, t, r)| (k, s, t, recs.feed[r as usize], r)).collect();
    keys.sort_unstable();
    let mut homes = Vec::new();
    for group in keys.chunk_by(|a, b| (a.0, a.1, a.2, a.3) == (b.0, b.1, b.2, b.3)) {
        let mut members: Vec<(u32, u32)> = group.iter().map(|&(.., r)| (c.find(r), r)).collect();
        members.sort_unstable_by(|x, y| {
            x.0.cmp(&y.0).then_with(|| recs.tokens[x.1 as usize].cmp(&recs.tokens[y.1 as usize])).then(x.1.cmp(&y.1))
        });
        members
            .dedup_by(|later, kept| later.0 == kept.0 && recs.tokens[later.1 as usize] == recs.tokens[kept.1 as usize]);
        let mut persons: Vec<u32> = members.iter().map(|m| m.0).collect();
        persons.dedup();
        if persons.len() < 2 || persons.len() > MAX_HOUSEHOLD {
            continue;
        }
        homes.push(Home { feed: group[0].3, records: members.into_iter().map(|m| m.1).collect(), persons });
    }
    homes
}
