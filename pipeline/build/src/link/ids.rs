//! Stable ids: this build's clusters take the ids of the last build's, and changes are recorded.
//!
//! Each build clusters all staging records afresh, then reconciles with the identity index the
//! last build left: a cluster takes the old id it shares most records with (ties: the
//! lexically smaller id), each old id going to at most one cluster. A cluster with no old id
//! gets a new one, derived with the linkage key from its first record, so the same history
//! gives the same ids. Then:
//!
//! - a cluster holding records of several old ids is a **merge** (the absorbed ids resolve to it);
//! - an old id whose records now lie in several clusters is a **split** (it resolves to all);
//! - an old id none of whose records remain (erasure, retention) is **retired**.

use std::collections::{HashMap, HashSet};

use tellonce_governance::FoldBuildHasher;

use super::records::NONE;

/// What happened to an id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ChangeKind {
    /// Several ids became one.
    Merge,
    /// One id became several.
    Split,
    /// An id's records are all gone.
    Retired,
}

impl ChangeKind {
    /// `merge`, `split` or `retired`.
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Merge => "merge",
            ChangeKind::Split => "split",
            ChangeKind::Retired => "retired",
        }
    }
}

/// One change of identity, from old ids to their successors.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Change {
    /// What happened.
    pub kind: ChangeKind,
    /// The ids before (sorted).
    pub from: Vec<String>,
    /// Their successors (sorted; empty when retired).
    pub to: Vec<String>,
    /// Why: the kinds of record change behind it (see [`super::change_reasons`]), sorted.
    pub reasons: Vec<&'static str>,
}

/// The ids of this build's clusters and the changes against the last build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reconciled {
    /// The id of each cluster.
    pub ids: Vec<String>,
    /// Merges, splits and retirements, sorted.
    pub changes: Vec<Change>,
}

/// Reconciles clusters with old ids.
///
/// `cluster[u]` is unit `u`'s cluster (`0..clusters`), `old[u]` its id in the last build (an
/// index into `old_ids`, or [`NONE`] for a new record). `mint(c, attempt)` makes a candidate id
/// for a new cluster; it is called again with the next attempt while the id is taken.
pub fn reconcile(
    cluster: &[u32],
    clusters: u32,
    old: &[u32],
    old_ids: &[String],
    mint: &dyn Fn(u32, u32) -> String,
) -> Reconciled {
    // Records shared by each (cluster, old id). Keyed by numbers this build assigns, so the
    // fold hasher serves (no one chooses them).
    let mut overlap: HashMap<(u32, u32), u32, FoldBuildHasher> = HashMap::default();
    for (u, &c) in cluster.iter().enumerate() {
        let o = old.get(u).copied().unwrap_or(NONE);
        if o != NONE {
            *overlap.entry((c, o)).or_default() += 1;
        }
    }
    let mut candidates: Vec<(u32, u32, u32)> = overlap.iter().map(|(&(c, o), &n)| (n, o, c)).collect();
    candidates.sort_unstable_by(|a, b| {
        b.0.cmp(&a.0).then_with(|| old_ids[a.1 as usize].cmp(&old_ids[b.1 as usize])).then(a.2.cmp(&b.2))
    });
    let mut ids: Vec<Option<String>> = vec![None; clusters as usize];
    let mut used_old = vec![false; old_ids.len()];
    for (_, o, c) in candidates {
        if ids[c as usize].is_none() && !used_old[o as usize] {
            ids[c as usize] = Some(old_ids[o as usize].clone());
            used_old[o as usize] = true;
        }
    }
    let mut taken: HashSet<String> = old_ids.iter().cloned().collect();
    let ids: Vec<String> = ids
        .into_iter()
        .enumerate()
        .map(|(c, id)| match id {
            Some(id) => id,
            None => {
                let mut attempt = 0;
                loop {
                    let id = mint(c as u32, attempt);
                    if taken.insert(id.clone()) {
                        break id;
                    }
                    attempt += 1;
                }
            }
        })
        .collect();

    let mut olds_of_cluster: Vec<Vec<u32>> = vec![Vec::new(); clusters as usize];
    let mut clusters_of_old: Vec<Vec<u32>> = vec![Vec::new(); old_ids.len()];
    for &(c, o) in overlap.keys() {
        olds_of_cluster[c as usize].push(o);
        clusters_of_old[o as usize].push(c);
    }
    let mut changes = Vec::new();
    for (c, olds) in olds_of_cluster.iter().enumerate() {
        if olds.len() > 1 {
            let mut from: Vec<String> = olds.iter().map(|&o| old_ids[o as usize].clone()).collect();
            from.sort();
            changes.push(Change { kind: ChangeKind::Merge, from, to: vec![ids[c].clone()], reasons: Vec::new() });
        }
    }
    for (o, cs) in clusters_of_old.iter().enumerate() {
        let from = vec![old_ids[o].clone()];
        if cs.len() > 1 {
            let mut to: Vec<String> = cs.iter().map(|&c| ids[c as usize].clone()).collect();
            to.sort();
            changes.push(Change { kind: ChangeKind::Split, from, to, reasons: Vec::new() });
        } else if cs.is_empty() {
            changes.push(Change { kind: ChangeKind::Retired, from, to: Vec::new(), reasons: Vec::new() });
        }
    }
    changes.sort();
    Reconciled { ids, changes }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mint(c: u32, attempt: u32) -> String {
        format!("N{c}.{attempt}")
    }

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn unchanged_clusters_keep_their_ids_and_new_ones_are_minted() {
        let old_ids = strings(&["A", "B"]);
        // units 0,1 were A; 2 was B; 3 is new and alone.
        let r = reconcile(&[0, 0, 1, 2], 3, &[0, 0, 1, NONE], &old_ids, &mint);
        assert_eq!(r.ids, ["A", "B", "N2.0"]);
        assert!(r.changes.is_empty());
    }

    #[test]
    fn a_merge_keeps_the_larger_id_and_records_the_absorbed_one() {
        let old_ids = strings(&["A", "B"]);
        let r = reconcile(&[0, 0, 0], 1, &[0, 1, 1], &old_ids, &mint);
        assert_eq!(r.ids, ["B"]);
        assert_eq!(
            r.changes,
            [Change { kind: ChangeKind::Merge, from: strings(&["A", "B"]), to: strings(&["B"]), reasons: vec![] }]
        );
    }

    #[test]
    fn a_split_keeps_the_id_on_the_larger_part_and_resolves_to_both() {
        let old_ids = strings(&["A"]);
        let r = reconcile(&[0, 0, 1], 2, &[0, 0, 0], &old_ids, &mint);
        assert_eq!(r.ids, ["A", "N1.0"]);
        assert_eq!(
            r.changes,
            [Change { kind: ChangeKind::Split, from: strings(&["A"]), to: strings(&["A", "N1.0"]), reasons: vec![] }]
        );
    }

    #[test]
    fn an_id_whose_records_are_gone_is_retired_and_never_reissued() {
        let old_ids = strings(&["A", "N0.0"]);
        let r = reconcile(&[0], 1, &[NONE], &old_ids, &mint);
        assert_eq!(r.ids, ["N0.1"], "a minted id that is taken is not reused");
        assert_eq!(r.changes.len(), 2);
        assert!(r.changes.iter().all(|c| c.kind == ChangeKind::Retired));
    }
}
