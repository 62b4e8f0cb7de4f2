//! Candidate pairs for the scoring pass: several blocking rules, unioned, so that a typo in any
//! one field still leaves the pair sharing a block.
//!
//! Each rule is a combination of compared tokens ([`Tk`]); records agreeing on every token of
//! a rule share its block. A block holding more than the cap is not compared (its pairs would
//! swamp the build) but counted, per rule, with the records it held: nothing is dropped
//! without the summary saying so.

use std::collections::BTreeMap;

use super::compare::{Tk, Tokens};
use super::records::NONE;

/// A blocking rule: its name and how a record's key is made (`None`: the record has no key).
#[derive(Debug, Clone, Copy)]
pub struct BlockRule {
    /// Name, as the summary prints it.
    pub name: &'static str,
    /// The tokens that must all agree (ignored when `either_order_names` is set).
    pub tokens: &'static [Tk],
    /// Whether the key is the forename and surname in either order (swapped names block
    /// together).
    pub either_order_names: bool,
}

const fn rule(name: &'static str, tokens: &'static [Tk]) -> BlockRule {
    BlockRule { name, tokens, either_order_names: false }
}

/// The blocking rules, and the error each survives.
pub const BLOCK_RULES: [BlockRule; 14] = [
    // Names wrong in any way (the date agrees, or has day and month swapped).
    rule("dob_unordered", &[Tk::DobUnordered]),
    // The year off by one.
    rule("month_day_year_even_pair", &[Tk::MonthDay, Tk::YearEven]),
    rule("month_day_year_odd_pair", &[Tk::MonthDay, Tk::YearOdd]),
    // One part of the date wrong, the surname right.
    rule("surname_year_month", &[Tk::Surname, Tk::YearMonth]),
    rule("surname_year_day", &[Tk::Surname, Tk::YearDay]),
    rule("surname_month_day", &[Tk::Surname, Tk::MonthDay]),
    // A surname typo that sounds the same, the day or month wrong, any forename.
    rule("surname_soundex_birth_year", &[Tk::Soundex, Tk::YearEven, Tk::YearOdd]),
    // The date of birth wrong or missing, the surname changed.
    rule("forename_postcode_sector", &[Tk::Forename, Tk::Sector]),
    // Both names typed, the date wrong.
    rule("birth_year_postcode", &[Tk::YearPostcode]),
    // The date wrong or missing, the address changed, the names possibly swapped.
    BlockRule { name: "names_either_order", tokens: &[], either_order_names: true },
    // Names and date both mistyped or replaced, the address kept.
    rule("address_district", &[Tk::Address, Tk::District]),
    // The surname mistyped, the date wrong or missing and the postcode changed or missing: the
    // same given name (or a form of it) at the same address line. A line holds a household.
    rule("forename_class_address", &[Tk::ClassFirst, Tk::Address]),
    // Both names mistyped, the date wrong or missing, the postcode missing or mistyped: the same
    // address line (as its filter reads it, so a slipped space does not matter), anywhere. Where
    // the postcode agrees, `address_district` proposed the pair already.
    rule("address_line", &[Tk::Address]),
    // The date wrong or missing and both names mistyped, the postcode kept. A postcode holds a
    // street or two (about forty people), and a block is one per distinct record.
    rule("postcode", &[Tk::Postcode]),
];

impl BlockRule {
    /// The record's key under this rule.
    pub fn key(&self, t: &Tokens) -> Option<[u32; 3]> {
        if self.either_order_names {
            let (f, s) = (t[Tk::Forename as usize], t[Tk::Surname as usize]);
            return (f != NONE && s != NONE).then(|| [f.min(s), f.max(s), NONE]);
        }
        let mut key = [NONE; 3];
        for (slot, tk) in key.iter_mut().zip(self.tokens) {
            let v = t[*tk as usize];
            if v == NONE {
                return None;
            }
            *slot = v;
        }
        Some(key)
    }
}

/// What blocking found, rule by rule.
#[derive(Debug, Default, Clone, PartialEq, serde::Serialize)]
pub struct BlockStats {
    /// Pairs each rule proposed (a pair proposed by several rules counts under each).
    pub pairs_by_rule: BTreeMap<&'static str, u64>,
    /// Blocks over the cap, by rule: (blocks, records in them).
    pub over_cap_by_rule: BTreeMap<&'static str, (u64, u64)>,
    /// Distinct candidate pairs after the union.
    pub candidate_pairs: u64,
}

/// Calls `pair(a, b)` once for each distinct candidate pair (`a < b`) among `reps` (record
/// numbers) whose clusters differ (`cluster[rep]`), under every rule, with blocks over `cap`
/// counted and skipped.
///
/// A pair is passed on by the first rule that proposes it (a later rule finds that an earlier
/// one gives both records the same key), so no list of pairs is kept: memory stays linear in
/// the records however many pairs the blocks hold.
pub fn for_each_candidate(
    tokens: &[Tokens],
    reps: &[u32],
    cluster: &[u32],
    cap: usize,
    stats: &mut BlockStats,
    pair: &mut dyn FnMut(u32, u32),
) {
    let mut keyed: Vec<([u32; 3], u32)> = Vec::with_capacity(reps.len());
    // The keys of each rule's blocks over the cap, in order (blocks are visited sorted): a pair
    // sharing only such a block with an earlier rule was not compared there. Searched for each
    // pair that shares an earlier key, so a sorted list rather than a hashed set.
    let mut over: Vec<Vec<[u32; 3]>> = vec![Vec::new(); BLOCK_RULES.len()];
    for (n, r) in BLOCK_RULES.iter().enumerate() {
        keyed.clear();
        keyed.extend(reps.iter().filter_map(|&i| r.key(&tokens[i as usize]).map(|k| (k, i))));
        keyed.sort_unstable();
        let earlier = &BLOCK_RULES[..n];
        let mut proposed = 0u64;
        for block in keyed.chunk_by(|x, y| x.0 == y.0) {
            if block.len() > cap {
                let e = stats.over_cap_by_rule.entry(r.name).or_default();
                e.0 += 1;
                e.1 += block.len() as u64;
                over[n].push(block[0].0);
                continue;
            }
            for (x, &(_, a)) in block.iter().enumerate() {
                for &(_, b) in &block[x + 1..] {
                    if cluster[a as usize] == cluster[b as usize] {
                        continue;
                    }
                    proposed += 1;
                    let (ta, tb) = (&tokens[a as usize], &tokens[b as usize]);
                    let seen = earlier.iter().zip(&over).any(|(e, too_big)| {
                        e.key(ta).is_some_and(|k| e.key(tb) == Some(k) && too_big.binary_search(&k).is_err())
                    });
                    if !seen {
                        stats.candidate_pairs += 1;
                        pair(a.min(b), a.max(b));
                    }
                }
            }
        }
        *stats.pairs_by_rule.entry(r.name).or_default() += proposed;
    }
}

/// Calls `pair(a, b)` for each pair of `reps` sharing a block of `rule` (blocks over `cap`
/// skipped), for training: no union with other rules, no clusters.
pub fn for_each_in_rule(tokens: &[Tokens], reps: &[u32], rule: &BlockRule, cap: usize, pair: &mut dyn FnMut(u32, u32)) {
    let mut keyed: Vec<([u32; 3], u32)> =
        reps.iter().filter_map(|&i| rule.key(&tokens[i as usize]).map(|k| (k, i))).collect();
    keyed.sort_unstable();
    for block in keyed.chunk_by(|x, y| x.0 == y.0).filter(|b| b.len() <= cap) {
        for (x, &(_, a)) in block.iter().enumerate() {
            for &(_, b) in &block[x + 1..] {
                pair(a.min(b), a.max(b));
            }
        }
    }
}

/// The rule of this name.
pub fn rule_named(name: &str) -> Option<&'static BlockRule> {
    BLOCK_RULES.iter().find(|r| r.name == name)
}

/// The distinct candidate pairs of [`for_each_candidate`], sorted (for tests and small sets).
pub fn candidates(
    tokens: &[Tokens],
    reps: &[u32],
    cluster: &[u32],
    cap: usize,
    stats: &mut BlockStats,
) -> Vec<(u32, u32)> {
    let mut pairs = Vec::new();
    for_each_candidate(tokens, reps, cluster, cap, stats, &mut |a, b| pairs.push((a, b)));
    pairs.sort_unstable();
    pairs
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::link::compare::TK;

    fn toks(pairs: &[(Tk, u32)]) -> Tokens {
        let mut t = [NONE; TK];
        for &(k, v) in pairs {
            t[k as usize] = v;
        }
        t
    }

    #[test]
    fn a_typo_in_any_one_field_leaves_a_shared_block() {
        use Tk::*;
        let full = |fore, sur, md, ym, yd, even, odd| {
            vec![
                (Forename, fore),
                (Surname, sur),
                (DobUnordered, 100 + md + ym),
                (MonthDay, md),
                (YearMonth, ym),
                (YearDay, yd),
                (YearEven, even),
                (YearOdd, odd),
                (Soundex, 7),
                (Sector, 8),
            ]
        };
        let base = toks(&full(1, 2, 10, 20, 30, 40, 41));
        let variants = [
            toks(&full(9, 2, 10, 20, 30, 40, 41)), // forename wrong
            toks(&full(1, 9, 10, 20, 30, 40, 41)), // surname wrong (same Soundex)
            toks(&full(1, 2, 11, 20, 31, 40, 41)), // day wrong
            toks(&full(1, 2, 12, 21, 30, 40, 41)), // month wrong
            toks(&full(1, 2, 10, 22, 32, 40, 42)), // year off by one
            toks(&full(1, 2, 10, 23, 33, 43, 44)), // year far off
            toks(&full(2, 1, 50, 51, 52, 53, 54)), // names swapped, date wrong
        ];
        // Both names mistyped, no date of birth, no postcode: the address line alone.
        let line = toks(&[(Forename, 1), (Surname, 2), (Address, 60)]);
        assert!(
            BLOCK_RULES.iter().any(|r| r.key(&line).is_some()
                && r.key(&line) == r.key(&toks(&[(Forename, 3), (Surname, 4), (Address, 60)])))
        );
        for (n, v) in variants.iter().enumerate() {
            let shared = BLOCK_RULES.iter().filter(|r| r.key(&base).is_some() && r.key(&base) == r.key(v)).count();
            assert!(shared >= 1, "variant {n} shares no block");
        }
        assert_eq!(BLOCK_RULES[0].key(&toks(&[])), None, "a missing token gives no key");
    }

    #[test]
    fn candidates_are_unioned_counted_per_rule_and_capped_with_a_count() {
        let t = vec![
            toks(&[(Tk::DobUnordered, 1), (Tk::Forename, 5), (Tk::Surname, 6)]),
            toks(&[(Tk::DobUnordered, 1), (Tk::Forename, 5), (Tk::Surname, 6)]),
            toks(&[(Tk::DobUnordered, 2), (Tk::Forename, 6), (Tk::Surname, 5)]),
            toks(&[(Tk::DobUnordered, 3)]),
        ];
        let reps = [0, 1, 2, 3];
        let mut stats = BlockStats::default();
        let pairs = candidates(&t, &reps, &[0, 1, 2, 3], 10, &mut stats);
        assert_eq!(pairs, [(0, 1), (0, 2), (1, 2)]);
        assert_eq!(stats.pairs_by_rule["dob_unordered"], 1);
        assert_eq!(stats.pairs_by_rule["names_either_order"], 3);
        assert_eq!(stats.candidate_pairs, 3);
        // Records already in one cluster are not paired.
        let mut stats = BlockStats::default();
        assert_eq!(candidates(&t, &reps, &[0, 0, 2, 3], 10, &mut stats), [(0, 2), (1, 2)]);
        // A cap of 2: the three-record name block is counted, not compared.
        let mut stats = BlockStats::default();
        assert_eq!(candidates(&t, &reps, &[0, 1, 2, 3], 2, &mut stats), [(0, 1)]);
        assert_eq!(stats.over_cap_by_rule["names_either_order"], (1, 3));
        // A pair whose earlier shared block was over the cap is still compared by a later rule.
        let big = vec![toks(&[(Tk::DobUnordered, 1), (Tk::Forename, 5), (Tk::Surname, 6)]); 3];
        let mut stats = BlockStats::default();
        let pairs = candidates(&big, &[0, 1, 2], &[0, 1, 2], 2, &mut stats);
        assert_eq!(pairs, [] as [(u32, u32); 0], "both blocks over the cap");
        let mut two = big.clone();
        two[2] = toks(&[(Tk::DobUnordered, 1)]);
        let mut stats = BlockStats::default();
        assert_eq!(candidates(&two, &[0, 1, 2], &[0, 1, 2], 2, &mut stats), [(0, 1)], "found by the name rule");
    }
}
