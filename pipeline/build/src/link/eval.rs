//! `tellonce link-eval`: pairwise precision, recall and F1 of `links/` against a ground truth.
//!
//! The synthetic generator writes `truth/records.csv` (`feed,record_id,person_id,family_id,
//! error`). A pair of records is predicted when `links/` gives both the same id, and true when
//! the truth does. Scores are given over all pairs and over cross-feed pairs only (two records
//! from different feeds): the latter is what linkage across agencies adds, since most
//! same-feed pairs share a partner's own identifiers.

use std::collections::HashMap;
use std::path::Path;

use serde::Serialize;

use super::LinkError;

/// Pairwise scores.
#[derive(Debug, Default, Clone, Copy, PartialEq, Serialize)]
pub struct PairScores {
    /// Pairs the truth links.
    pub true_pairs: u64,
    /// Pairs the linkage links.
    pub predicted_pairs: u64,
    /// Pairs both link.
    pub correct_pairs: u64,
    /// correct / predicted.
    pub precision: f64,
    /// correct / true.
    pub recall: f64,
    /// Harmonic mean of the two.
    pub f1: f64,
}

impl PairScores {
    fn new(true_pairs: u64, predicted_pairs: u64, correct_pairs: u64) -> PairScores {
        let precision = if predicted_pairs == 0 { 1.0 } else { correct_pairs as f64 / predicted_pairs as f64 };
        let recall = if true_pairs == 0 { 1.0 } else { correct_pairs as f64 / true_pairs as f64 };
        let f1 = if precision + recall == 0.0 { 0.0 } else { 2.0 * precision * recall / (precision + recall) };
        PairScores { true_pairs, predicted_pairs, correct_pairs, precision, recall, f1 }
    }
}

/// The evaluation of one `links/` dataset.
#[derive(Debug, Default, Clone, PartialEq, Serialize)]
pub struct Evaluation {
    /// Records in both `links/` and the truth.
    pub records: u64,
    /// Records in `links/` that the truth does not know.
    pub not_in_truth: u64,
    /// Truth records not in `links/` (quarantined as invalid, or not linked).
    pub not_linked: u64,
    /// Persons, all pairs.
    pub persons: PairScores,
    /// Persons, cross-feed pairs.
    pub persons_cross_feed: PairScores,
    /// Families, all pairs.
    pub families: PairScores,
    /// Families, cross-feed pairs.
    pub families_cross_feed: PairScores,
    /// Person recall by the error type the truth file names (when it has an `error` column).
    pub recall_by_error: std::collections::BTreeMap<String, super::eval_errors::ErrorRecall>,
}

fn c2(n: u64) -> u64 {
    n * n.saturating_sub(1) / 2
}

/// (all, cross-feed) scores of a predicted against a true clustering of the same records.
fn score(feed: &[u32], predicted: &[u32], truth: &[u32]) -> (PairScores, PairScores) {
    let mut counts: [HashMap<(u32, u32, u32), u64>; 6] = Default::default();
    for i in 0..feed.len() {
        let (f, p, t) = (feed[i], predicted[i], truth[i]);
        for (k, key) in [(p, 0, 0), (t, 0, 0), (p, t, 0), (p, f, 1), (t, f, 1), (p, t, f + 1)].into_iter().enumerate() {
            *counts[k].entry(key).or_default() += 1;
        }
    }
    let sum = |m: &HashMap<(u32, u32, u32), u64>| m.values().map(|&n| c2(n)).sum::<u64>();
    let [pp, tt, tp, pp_f, tt_f, tp_f] = counts.map(|m| sum(&m));
    (PairScores::new(tt, pp, tp), PairScores::new(tt - tt_f, pp - pp_f, tp - tp_f))
}

/// Interns strings as numbers.
fn intern(table: &mut HashMap<String, u32>, s: &str) -> u32 {
    let n = table.len() as u32;
    *table.entry(s.to_owned()).or_insert(n)
}

/// Evaluates `<out>/links/` against the truth file.
pub fn evaluate(out: &Path, truth_path: &Path) -> Result<Evaluation, LinkError> {
    let terr = |message: String| LinkError::Truth { path: truth_path.to_owned(), message };
    let mut truth: HashMap<(String, String), (String, String, Vec<u32>)> = HashMap::new();
    let mut error_names: HashMap<String, u32> = HashMap::new();
    let mut reader = csv::Reader::from_path(truth_path).map_err(|e| terr(e.to_string()))?;
    let headers = reader.headers().map_err(|e| terr(e.to_string()))?.clone();
    let col = |name: &str| headers.iter().position(|h| h == name).ok_or_else(|| terr(format!("no column {name}")));
    let (cf, cr, cp, cfam) = (col("feed")?, col("record_id")?, col("person_id")?, col("family_id")?);
    let cerr = col("error").ok();
    for (n, row) in reader.records().enumerate() {
        let row = row.map_err(|e| terr(format!("line {}: {e}", n + 2)))?;
        let get = |i: usize| row.get(i).unwrap_or_default().to_owned();
        let errors = cerr
            .and_then(|c| row.get(c))
            .map(|e| {
                e.split(';')
                    .filter(|x| !x.is_empty() && !x.starts_with("invalid:") && !x.starts_with("nulled:"))
                    .map(|x| intern(&mut error_names, x))
                    .collect()
            })
            .unwrap_or_default();
        truth.insert((get(cf), get(cr)), (get(cp), get(cfam), errors));
    }

    let mut eval = Evaluation::default();
    let (mut feeds, mut pids, mut fids, mut tp, mut tf) =
        (HashMap::new(), HashMap::new(), HashMap::new(), HashMap::new(), HashMap::new());
    let (mut feed_v, mut p_v, mut f_v, mut tp_v, mut tf_v) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut err_v: Vec<Vec<u32>> = Vec::new();
    let mut found = 0u64;
    super::read_links::for_each_link(out, &mut |row| {
        let Some((t_person, t_family, errs)) = truth.get(&(row.feed.to_owned(), row.record_ref.to_owned())) else {
            eval.not_in_truth += 1;
            return;
        };
        found += 1;
        feed_v.push(intern(&mut feeds, row.feed));
        p_v.push(intern(&mut pids, row.person_id));
        f_v.push(intern(&mut fids, row.family_id));
        tp_v.push(intern(&mut tp, t_person));
        tf_v.push(intern(&mut tf, t_family));
        err_v.push(errs.clone());
    })?;
    eval.records = found;
    eval.not_linked = truth.len() as u64 - found.min(truth.len() as u64);
    (eval.persons, eval.persons_cross_feed) = score(&feed_v, &p_v, &tp_v);
    (eval.families, eval.families_cross_feed) = score(&feed_v, &f_v, &tf_v);
    let mut names = vec![String::new(); error_names.len()];
    for (name, i) in error_names {
        names[i as usize] = name;
    }
    eval.recall_by_error = super::eval_errors::recall_by_error(&feed_v, &p_v, &tp_v, &err_v, &names);
    Ok(eval)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pair_scores_count_pairs_and_cross_feed_pairs() {
        // Truth: records 0,1,2 one person (feeds 0,1,1); 3 another (feed 0).
        // Predicted: 0,1 together; 2 and 3 together (a false merge).
        let (all, cross) = score(&[0, 1, 1, 0], &[0, 0, 1, 1], &[0, 0, 0, 1]);
        assert_eq!((all.true_pairs, all.predicted_pairs, all.correct_pairs), (3, 2, 1));
        // Cross-feed true pairs: (0,1), (0,2); predicted: (0,1), (2,3); correct: (0,1).
        assert_eq!((cross.true_pairs, cross.predicted_pairs, cross.correct_pairs), (2, 2, 1));
        assert!((cross.f1 - 0.5).abs() < 1e-9);
    }
}
