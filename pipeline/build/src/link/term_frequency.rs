//! Term-frequency adjustment: two records agreeing on a rare surname are stronger evidence of
//! one person than two agreeing on the commonest, though both fall in the level `exact`.
//!
//! The level's `u` is the chance that two different people agree on the field, averaged over
//! its values (`Σ share²`). For two records agreeing on the value `t`, the chance is `share(t)`
//! given that they agree, so the weight of the agreement moves by `log2(Σ share² / share(t))`
//! bits, as Splink's term-frequency adjustment does. Shares are counted on keyed tokens, over
//! the distinct records (one per distinct set of compared values, so that a child with forty
//! attendance records does not make a name common), and never leave the build.

use std::collections::HashMap;

use tellonce_governance::FoldBuildHasher;

use super::compare::{Tk, Tokens};
use super::levels::ix;
use super::records::NONE;
use super::train::{FIELDS, Pattern};

/// The fields adjusted, by index into [`FIELDS`], and the token whose agreement is `exact`.
const ADJUSTED: [(usize, Tk); 4] = [(0, Tk::Forename), (1, Tk::Surname), (2, Tk::Dob), (3, Tk::Postcode)];

/// No adjustment moves a weight by more than this (bits): a value seen once may be a slip, and
/// the shares of a small build are rough.
pub const MAX_ADJUSTMENT_BITS: f64 = 5.0;

/// The adjustment each value of an adjusted field brings to exact agreement on it.
#[derive(Debug, Default, Clone)]
pub struct TermFrequencies {
    /// Per adjusted field: the adjustment (bits) of each token, and the tokens counted. Worked
    /// out per token once, not per pair: the scoring pass asks for millions of pairs.
    fields: Vec<(HashMap<u32, f64, FoldBuildHasher>, f64)>,
}

impl TermFrequencies {
    /// Counts the tokens of `records` (record numbers).
    pub fn of(tokens: &[Tokens], records: &[u32]) -> TermFrequencies {
        let fields = ADJUSTED
            .iter()
            .map(|&(_, tk)| {
                let mut counts: HashMap<u32, u32, FoldBuildHasher> = HashMap::default();
                for &r in records {
                    let t = tokens[r as usize][tk as usize];
                    if t != NONE {
                        *counts.entry(t).or_default() += 1;
                    }
                }
                // Summed as whole numbers: a float sum in the hash map's order would make the
                // weights' last bits depend on how the map happens to hold its entries.
                let total: u64 = counts.values().map(|&c| u64::from(c)).sum();
                let square_sum: u128 = counts.values().map(|&c| u128::from(c) * u128::from(c)).sum();
                let n = total as f64;
                let squares = if total > 0 { square_sum as f64 / (n * n) } else { 0.0 };
                let bits = counts
                    .into_iter()
                    .map(|(t, c)| {
                        let share = f64::from(c) / n;
                        (t, (squares / share).log2().clamp(-MAX_ADJUSTMENT_BITS, MAX_ADJUSTMENT_BITS))
                    })
                    .collect();
                (bits, n)
            })
            .collect();
        TermFrequencies { fields }
    }

    /// The adjustment (bits) of each field of [`FIELDS`] for a pair of records with tokens `a`
    /// (either record: the fields adjusted agree exactly) and levels `p`; 0 where a field is
    /// not adjusted or does not agree exactly.
    pub fn adjustments(&self, a: &Tokens, p: &Pattern) -> [f64; FIELDS.len()] {
        let mut out = [0.0; FIELDS.len()];
        for (&(f, tk), (bits, n)) in ADJUSTED.iter().zip(&self.fields) {
            if p[f] != ix::EXACT || *n < 2.0 {
                continue;
            }
            if let Some(&b) = bits.get(&a[tk as usize]) {
                out[f] = b;
            }
        }
        out
    }

    /// The sum of [`adjustments`](Self::adjustments).
    pub fn adjustment(&self, a: &Tokens, p: &Pattern) -> f64 {
        self.adjustments(a, p).iter().sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::link::compare::TK;

    fn surname(t: u32) -> Tokens {
        let mut x = [NONE; TK];
        x[Tk::Surname as usize] = t;
        x
    }

    #[test]
    fn a_rare_value_weighs_more_than_a_common_one_and_the_mean_stays_near_nothing() {
        // Surname 1 held by 8 of 10 records, 2 and 3 by one each.
        let tokens: Vec<Tokens> = [1, 1, 1, 1, 1, 1, 1, 1, 2, 3].iter().map(|&t| surname(t)).collect();
        let records: Vec<u32> = (0..10).collect();
        let tf = TermFrequencies::of(&tokens, &records);
        let exact: Pattern = [0, ix::EXACT, 0, 0, 0, 0, 0, 0];
        let (common, rare) = (tf.adjustment(&surname(1), &exact), tf.adjustment(&surname(2), &exact));
        assert!(common < 0.0 && rare > 0.0, "{common} {rare}");
        // Σ share² = 0.66: the common value 0.8 weighs log2(0.66 / 0.8), a rare one log2(6.6).
        assert!((common - (0.66f64 / 0.8).log2()).abs() < 1e-9);
        assert!((rare - 6.6f64.log2()).abs() < 1e-9);
        // Only exact agreement is adjusted.
        assert_eq!(tf.adjustment(&surname(2), &[0, 2, 0, 0, 0, 0, 0, 0]), 0.0);
    }
}
