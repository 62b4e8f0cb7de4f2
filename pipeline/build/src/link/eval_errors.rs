//! Recall by error type: of the true pairs in which at least one record carries an error (as
//! the truth file's `error` column names it), the share `links/` found, over all pairs and over
//! cross-feed pairs. Shows which kinds of error linkage survives and which it does not.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

/// Recall over the true pairs touched by one error type.
#[derive(Debug, Default, Clone, Copy, PartialEq, Serialize)]
pub struct ErrorRecall {
    /// True pairs with at least one record carrying the error.
    pub true_pairs: u64,
    /// Of those, pairs `links/` gives one person.
    pub found: u64,
    /// found / true.
    pub recall: f64,
    /// The same over cross-feed pairs: true.
    pub cross_feed_true_pairs: u64,
    /// Cross-feed: found.
    pub cross_feed_found: u64,
    /// Cross-feed: recall.
    pub cross_feed_recall: f64,
}

fn c2(n: u64) -> u64 {
    n * n.saturating_sub(1) / 2
}

/// Pairs in a group of `n` records, `k` of them carrying the error, with at least one of them.
fn touched(n: u64, k: u64) -> u64 {
    c2(n) - c2(n - k)
}

/// Sums `touched` over groups of records by `key`.
fn sum_touched<K: std::hash::Hash + Eq>(keys: impl Iterator<Item = (K, bool)>) -> u64 {
    let mut groups: HashMap<K, (u64, u64)> = HashMap::new();
    for (k, has) in keys {
        let g = groups.entry(k).or_default();
        g.0 += 1;
        g.1 += u64::from(has);
    }
    groups.values().map(|&(n, k)| touched(n, k)).sum()
}

/// Recall by error type. `errors[i]` lists the error numbers of record `i`, named by `names`.
pub fn recall_by_error(
    feed: &[u32],
    predicted: &[u32],
    truth: &[u32],
    errors: &[Vec<u32>],
    names: &[String],
) -> BTreeMap<String, ErrorRecall> {
    let mut out = BTreeMap::new();
    for e in 0..names.len() as u32 {
        let has = |i: usize| errors[i].contains(&e);
        if !(0..feed.len()).any(has) {
            continue;
        }
        let n = feed.len();
        let t = sum_touched((0..n).map(|i| (truth[i], has(i))));
        let t_same = sum_touched((0..n).map(|i| ((truth[i], feed[i]), has(i))));
        let f = sum_touched((0..n).map(|i| ((predicted[i], truth[i]), has(i))));
        let f_same = sum_touched((0..n).map(|i| ((predicted[i], truth[i], feed[i]), has(i))));
        let ratio = |a: u64, b: u64| if b == 0 { 1.0 } else { a as f64 / b as f64 };
        let name = names.get(e as usize).cloned().unwrap_or_default();
        out.insert(
            name,
            ErrorRecall {
                true_pairs: t,
                found: f,
                recall: ratio(f, t),
                cross_feed_true_pairs: t - t_same,
                cross_feed_found: f - f_same,
                cross_feed_recall: ratio(f - f_same, t - t_same),
            },
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recall_counts_only_pairs_touched_by_the_error() {
        // One true person of four records (feeds 0,0,1,1); record 3 has error 0 and was not
        // linked to the others.
        let names = vec!["dob_digit".to_owned()];
        let errors = vec![vec![], vec![], vec![], vec![0]];
        let r = recall_by_error(&[0, 0, 1, 1], &[0, 0, 0, 1], &[0, 0, 0, 0], &errors, &names);
        let d = r["dob_digit"];
        assert_eq!((d.true_pairs, d.found), (3, 0));
        assert_eq!((d.cross_feed_true_pairs, d.cross_feed_found), (2, 0));
        assert_eq!(r.len(), 1);
    }
}
