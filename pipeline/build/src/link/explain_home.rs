//! For `link-explain`: a pair a shared home linked (`co_resident`) weighed as the build weighed
//! it. Under the county's prior such a pair is below the line (that is why the home was needed),
//! so its waterfall alone misleads; this view gives the home both partners record, how many
//! persons it holds, the fields weighed there (forename, date of birth, sex), the prior of one in
//! the home's other persons, and the line (`match_probability`).

use std::collections::{BTreeSet, HashMap};

use serde::Serialize;

use super::co_resident::{UNWEIGHED_SLOTS, home_pattern, home_prior_bits};
use super::family::MAX_HOUSEHOLD;
use super::levels;
use super::records::{HouseholdKind, Records, Tok};
use super::term_frequency::TermFrequencies;
use super::train::{self, FIELDS, Model};

/// How the build weighed a pair inside the home two partners record.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HomeView {
    /// Persons in the larger of the two partners' homes.
    pub persons: u64,
    /// The fields weighed inside the home (surname, postcode and address are the home's own).
    pub steps: Vec<super::explain::Step>,
    /// The prior of one in the home's other persons (bits).
    pub prior_bits: f64,
    /// The pair's log-odds given the home (bits).
    pub bits: f64,
    /// The line: the log-odds of `match_probability` (bits).
    pub line_bits: f64,
}

/// Each record's homes: (kind, scope, key, feed) → its records.
pub(super) struct Homes {
    by_key: HashMap<(HouseholdKind, u8, Tok, u8), Vec<u32>>,
}

impl Homes {
    /// The homes of `recs`, as the build groups them.
    pub(super) fn of(recs: &Records) -> Homes {
        let mut by_key: HashMap<(HouseholdKind, u8, Tok, u8), Vec<u32>> = HashMap::new();
        for &(kind, scope, key, r) in &recs.households {
            by_key.entry((kind, scope, key, recs.feed[r as usize])).or_default().push(r);
        }
        Homes { by_key }
    }

    /// The persons of each home record `r` is in (`person` gives a record's person).
    fn persons_of(&self, recs: &Records, r: usize, person: &dyn Fn(usize) -> Option<u32>) -> Vec<BTreeSet<u32>> {
        recs.households
            .iter()
            .filter(|h| h.3 as usize == r)
            .filter_map(|&(kind, scope, key, _)| self.by_key.get(&(kind, scope, key, recs.feed[r])))
            .map(|members| members.iter().filter_map(|&m| person(m as usize)).collect::<BTreeSet<u32>>())
            .filter(|p| p.len() >= 2 && p.len() <= MAX_HOUSEHOLD)
            .collect()
    }
}

/// The home view of records `i` and `j` (one person, of two partners), if a home of each
/// partner holds them and another person both homes hold; the largest such pair of homes.
#[allow(clippy::too_many_arguments)]
pub(super) fn view(
    recs: &Records,
    homes: &Homes,
    person: &dyn Fn(usize) -> Option<u32>,
    model: &Model,
    tf: &TermFrequencies,
    i: usize,
    j: usize,
    match_probability: f64,
) -> Option<HomeView> {
    let own = person(i)?;
    if recs.feed[i] == recs.feed[j] {
        return None;
    }
    let (mine, theirs) = (homes.persons_of(recs, i, person), homes.persons_of(recs, j, person));
    let persons = mine
        .iter()
        .flat_map(|x| theirs.iter().map(move |y| (x, y)))
        .filter(|(x, y)| x.iter().any(|p| *p != own && y.contains(p)))
        .map(|(x, y)| x.len().max(y.len()))
        .max()?;
    let p = home_pattern(&levels::compare(recs, i, j));
    // The fields the home already says are not weighed there, and are left out, not shown missing.
    let unweighed: Vec<&str> = UNWEIGHED_SLOTS.iter().map(|&s| FIELDS[s]).collect();
    let mut steps = super::explain::waterfall(recs, model, tf, i, &p);
    steps.retain(|s| !(unweighed.contains(&s.field) && s.level == levels::MISSING.name));
    let prior_bits = home_prior_bits(persons);
    let bits = model.weight(&p) + tf.adjustment(&recs.tokens[i], &p) + prior_bits;
    Some(HomeView { persons: persons as u64, steps, prior_bits, bits, line_bits: train::logit_bits(match_probability) })
}
