//! Linkage quality where no truth file exists: precision and recall of the scoring pass as the
//! model estimates them, the sizes of the persons found, and a sample of pairs near the
//! threshold for officers to check in the source systems (record references only).
//!
//! The estimates hold only as far as the model does: Fellegi–Sunter takes the fields as
//! independent, which they are not quite (a family shares a surname and an address), so the
//! probabilities lean towards the extremes. `docs/linkage.md` compares them with the truth on
//! benchmark data.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::records::Records;
use super::train::{self, FIELDS, Model, Pattern};

/// Pairs at most this many bits either side of the threshold are near it.
pub const REVIEW_BAND_BITS: f64 = 4.0;
/// Pairs in a clerical-review sample.
pub const REVIEW_SAMPLE: usize = 100;

/// The scoring pass's quality, as the model estimates it.
#[derive(Debug, Default, Clone, PartialEq, Serialize)]
pub struct Estimate {
    /// Scored links made (pairs above the threshold that the veto let through).
    pub links: u64,
    /// The expected number of those that are true: the sum of their match probabilities.
    pub expected_true_links: f64,
    /// The expected number of true matches among the pairs scored below the threshold.
    pub expected_missed: f64,
    /// expected_true_links / links.
    pub precision: f64,
    /// expected_true_links / (expected_true_links + expected_missed): of the matches among the
    /// pairs the exact rules left apart, the share the threshold let through. Pairs above the
    /// threshold that the veto refused are not counted as missed: the veto is a decision, not a
    /// loss (the summary counts them under `refused by the veto`).
    pub recall: f64,
}

/// Accumulates the estimate and the pairs near the threshold while the pass runs.
#[derive(Debug, Default)]
pub struct Tally {
    /// The least weight (bits) of a link.
    least: f64,
    expected_missed: f64,
    expected_true_links: f64,
    links: u64,
    near: Vec<(u64, u32, u32, f64, Pattern)>,
}

impl Tally {
    /// A tally for a pass whose links weigh at least `least` bits.
    pub fn new(least: f64) -> Tally {
        Tally { least, ..Tally::default() }
    }

    /// A candidate pair scored `weight` bits, of probability `p`.
    pub fn scored(&mut self, recs: &Records, a: u32, b: u32, weight: f64, p: f64, pattern: Pattern) {
        if weight < self.least {
            self.expected_missed += p;
        }
        if (weight - self.least).abs() <= REVIEW_BAND_BITS {
            self.near.push((pair_hash(recs, a, b), a, b, weight, pattern));
        }
    }

    /// The least weight (bits) of a link.
    pub fn least(&self) -> f64 {
        self.least
    }

    /// Whether a pair of `weight` bits would touch only the expected misses: below the line and
    /// outside the review band, so that [`scored`](Self::scored) would add its probability and
    /// nothing else.
    pub fn only_missed(&self, weight: f64) -> bool {
        weight < self.least - REVIEW_BAND_BITS
    }

    /// Adds to the expected misses the summed probability of pairs [`only_missed`](Self::only_missed)
    /// (held as one sum, not pair by pair).
    pub fn missed(&mut self, p: f64) {
        self.expected_missed += p;
    }

    /// A scored link was made (or its records were found in one person already).
    pub fn linked(&mut self, p: f64) {
        self.links += 1;
        self.expected_true_links += p;
    }

    /// The estimate, and the review sample with whether each pair ended in one person.
    pub fn finish(
        mut self,
        recs: &Records,
        model: &Model,
        same_person: &mut dyn FnMut(u32, u32) -> bool,
    ) -> (Estimate, Vec<ReviewPair>) {
        let ratio = |x: f64, y: f64| if y > 0.0 { (x / y).min(1.0) } else { 1.0 };
        let estimate = Estimate {
            links: self.links,
            expected_true_links: self.expected_true_links,
            expected_missed: self.expected_missed,
            precision: ratio(self.expected_true_links, self.links as f64),
            recall: ratio(self.expected_true_links, self.expected_true_links + self.expected_missed),
        };
        // A sample fixed by the records' references: the same data gives the same sample, and
        // an officer's list does not change from one build to the next without cause.
        self.near.sort_by_key(|x| x.0);
        self.near.truncate(REVIEW_SAMPLE);
        let mut sample: Vec<ReviewPair> = self
            .near
            .into_iter()
            .map(|(_, a, b, weight, p)| ReviewPair {
                a: reference(recs, a),
                b: reference(recs, b),
                bits: weight,
                probability: model.probability(weight),
                linked: same_person(a, b),
                levels: levels_of(model, &p),
            })
            .collect();
        sample.sort_by(|x, y| y.bits.total_cmp(&x.bits).then_with(|| (&x.a, &x.b).cmp(&(&y.a, &y.b))));
        (estimate, sample)
    }
}

/// A pair for clerical review.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReviewPair {
    /// One record, as `FEED:RECORD_ID`.
    pub a: String,
    /// The other.
    pub b: String,
    /// Its weight (bits).
    pub bits: f64,
    /// Its match probability.
    pub probability: f64,
    /// Whether the build put the two records in one person.
    pub linked: bool,
    /// The level of each field, by name (no value).
    pub levels: BTreeMap<String, String>,
}

/// Records per person, in buckets (`1`, `2`, `3`, `4`, `5-9`, `10-19`, `20+`): a person of
/// many records is where a wrong merge would show first.
pub fn person_sizes(person: &[u32], count: u32) -> BTreeMap<&'static str, u64> {
    let mut records = vec![0u64; count as usize];
    for &p in person {
        if let Some(n) = records.get_mut(p as usize) {
            *n += 1;
        }
    }
    let mut out = BTreeMap::new();
    for n in records.into_iter().filter(|&n| n > 0) {
        let bucket = match n {
            1 => "1",
            2 => "2",
            3 => "3",
            4 => "4",
            5..=9 => "5-9",
            10..=19 => "10-19",
            _ => "20+",
        };
        *out.entry(bucket).or_default() += 1;
    }
    out
}

fn reference(recs: &Records, r: u32) -> String {
    format!("{}:{}", recs.feed_name(r as usize), recs.record_ref[r as usize])
}

fn levels_of(model: &Model, p: &Pattern) -> BTreeMap<String, String> {
    let mut out: BTreeMap<&'static str, &'static str> = FIELDS
        .iter()
        .zip(&model.fields)
        .enumerate()
        .map(|(f, (field, (_, table)))| (*field, table.get(usize::from(p[f])).map_or("missing", |l| l.name)))
        .collect();
    match p[train::SWAP_SLOT] {
        train::SWAP_FULL => {
            out.insert("names", "swapped");
        }
        train::SWAP_HALF => {
            out.insert("names", "half_swapped");
        }
        _ => {}
    }
    if p[train::STRONG_SLOT] > 0 {
        out.insert("strong_identifiers", "agree");
    }
    out.into_iter().map(|(f, l)| (f.to_owned(), l.to_owned())).collect()
}

/// FNV-1a of the pair's references, smaller first: an order that depends only on the data.
fn pair_hash(recs: &Records, a: u32, b: u32) -> u64 {
    let (x, y) = (reference(recs, a), reference(recs, b));
    let (x, y) = if x <= y { (x, y) } else { (y, x) };
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in x.bytes().chain([0u8]).chain(y.bytes()) {
        h ^= u64::from(byte);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn person_sizes_fall_in_buckets() {
        let sizes = person_sizes(&[0, 0, 1, 2, 2, 2, 2, 2, 2], 4);
        assert_eq!(sizes.into_iter().collect::<Vec<_>>(), [("1", 1), ("2", 1), ("5-9", 1)]);
    }

    #[test]
    fn the_estimate_is_the_share_of_expected_matches_linked() {
        let mut recs = Records::new();
        for i in 0..4 {
            recs.push("police", format!("P{i}"));
        }
        let model = Model { prior: 1e-3, ..Model::documented() };
        let mut t = Tally::new(18.0);
        t.scored(&recs, 0, 1, 20.0, 0.9, [1; 8]);
        t.scored(&recs, 2, 3, 10.0, 0.1, [1; 8]);
        t.linked(0.9);
        let (e, sample) = t.finish(&recs, &model, &mut |a, b| (a, b) == (0, 1));
        assert_eq!(e.links, 1);
        assert!((e.precision - 0.9).abs() < 1e-9 && (e.recall - 0.9).abs() < 1e-9, "{e:?}");
        // Only the pair within the band is sampled, with its references and levels.
        assert_eq!(sample.len(), 1);
        assert_eq!((sample[0].a.as_str(), sample[0].b.as_str(), sample[0].linked), ("police:P0", "police:P1", true));
        assert_eq!(sample[0].levels["forename"], "exact");
    }
}
