//! The scoring pass: after the exact rules, candidate pairs from several blocking rules are
//! scored field by field (Fellegi–Sunter, [`levels`](super::levels)) and the pairs whose
//! weight clears the threshold are linked, strongest first, under the veto.
//!
//! A scored link is refused when the two clusters hold strong identifiers that disagree, dates
//! of birth none of which are close (exact, day and month swapped, year off by one, or one
//! part different), or forenames none of which are alike (twins and siblings share a surname,
//! an address and sometimes a birthday, never a forename). A pair whose own forenames are
//! clearly different is not scored into a link unless a strong identifier agrees.

use std::collections::HashSet;

use super::blocking::{self, BlockStats};
use super::cluster::{Clusters, MatchStats, Veto};
use super::compare::{Tk, Tokens};
use super::levels::{self, ix};
use super::records::{NONE, Records, Tok};
use super::rules::Rule;

/// The version of the matcher (rules, scoring levels, weights, blocking). Part of what a build
/// is made from: change it whenever a change to the matcher would link the same staging
/// differently, so that the next build re-links instead of reporting itself up to date.
pub const MATCHER_VERSION: &str = "rules-1+scoring-2";

/// Default least weight (bits) of a scored link: a match probability of at least 0.99 for a
/// prior of one match in 2^14 random pairs (`14 + log2(0.99 / 0.01)`).
pub const DEFAULT_THRESHOLD: f64 = 20.6;

/// Default largest block compared by the scoring pass.
pub const DEFAULT_MAX_BLOCK: usize = 1000;

/// Counts of the scoring pass.
#[derive(Debug, Default, Clone, PartialEq, serde::Serialize)]
pub struct ScoreStats {
    /// Candidate pairs by blocking rule, blocks over the cap, distinct pairs.
    pub blocking: BlockStats,
    /// Pairs scored (distinct candidate pairs of records in different clusters).
    pub scored: u64,
    /// Pairs at or above the threshold.
    pub above_threshold: u64,
    /// Pairs refused by the pair veto (disagreeing strong identifiers, dates far apart,
    /// different forenames without a strong identifier).
    pub vetoed_pairs: u64,
}

/// One record per distinct (cluster, compared values): records of one person repeat the same
/// values many times, and comparing them again adds nothing.
fn representatives(recs: &Records, cluster: &[u32]) -> Vec<u32> {
    type Key = (u32, Tokens, u32, u8, [Option<Tok>; 3]);
    let mut seen: HashSet<Key> = HashSet::with_capacity(recs.len());
    let mut reps = Vec::new();
    for (i, (&t, &cl)) in recs.tokens.iter().zip(cluster).enumerate() {
        // Nothing to compare without a name or a date of birth.
        if t[Tk::Forename as usize] == NONE && t[Tk::Surname as usize] == NONE && t[Tk::DobUnordered as usize] == NONE {
            continue;
        }
        let strong = [recs.strong[0][i], recs.strong[1][i], recs.strong[2][i]];
        if seen.insert((cl, t, recs.bloom[i], recs.sex[i], strong)) {
            reps.push(i as u32);
        }
    }
    reps
}

/// Scores candidate pairs and links those above `threshold`, calling `on_link(a, b, weight)`
/// for each link made (or found already made).
pub(super) fn scored_pass(
    recs: &Records,
    threshold: f64,
    max_block: usize,
    c: &mut Clusters<'_>,
    stats: &mut MatchStats,
    on_link: &mut dyn FnMut(u32, u32, f64),
) {
    let cluster: Vec<u32> = (0..recs.len() as u32).map(|i| c.find(i)).collect();
    let reps = representatives(recs, &cluster);
    let mut s = ScoreStats::default();
    let mut links: Vec<(f64, u32, u32)> = Vec::new();
    let (mut scored, mut vetoed) = (0u64, 0u64);
    blocking::for_each_candidate(&recs.tokens, &reps, &cluster, max_block, &mut s.blocking, &mut |a, b| {
        scored += 1;
        let cmp = levels::compare(recs, a as usize, b as usize);
        let forenames_differ = cmp.forename == ix::FORENAME_ELSE && !cmp.swapped && cmp.strong_agree == 0;
        if cmp.strong_disagree || cmp.dob == ix::DOB_ELSE || forenames_differ {
            vetoed += 1;
        } else if cmp.weight >= threshold {
            links.push((cmp.weight, a, b));
        }
    });
    drop(reps);
    (s.scored, s.vetoed_pairs) = (scored, vetoed);
    s.above_threshold = links.len() as u64;
    // Strongest first, so that a cluster is built from its surest links before the veto
    // weighs a weaker one; ties in record order, so the result depends only on the data.
    links.sort_unstable_by(|x, y| y.0.total_cmp(&x.0).then((x.1, x.2).cmp(&(y.1, y.2))));
    let name = Rule::Scored.name();
    for (w, a, b) in links {
        match c.union_with(a, b, scored_veto) {
            Ok(merged) => {
                if merged {
                    *stats.merges_by_rule.entry(name).or_default() += 1;
                }
                on_link(a, b, w);
            }
            Err(_) => *stats.refused_by_rule.entry(name).or_default() += 1,
        }
    }
    stats.scoring = s;
}

/// The cluster-level veto of a scored link (after the strong-identifier veto): dates of birth
/// none of which are close, or forenames none of which are alike.
fn scored_veto(c: &mut Clusters<'_>, a: u32, b: u32) -> Option<Veto> {
    let recs = c.recs;
    let (mut dob_both, mut dob_close) = (false, false);
    let (mut fore_both, mut fore_alike) = (false, false);
    for i in c.members(a) {
        let ti = &recs.tokens[i];
        for j in c.members(b) {
            let tj = &recs.tokens[j];
            if !dob_close && ti[Tk::DobUnordered as usize] != NONE && tj[Tk::DobUnordered as usize] != NONE {
                dob_both = true;
                dob_close = levels::dob_level(ti, tj) != ix::DOB_ELSE;
            }
            if !fore_alike && ti[Tk::Forename as usize] != NONE && tj[Tk::Forename as usize] != NONE {
                fore_both = true;
                let cmp = levels::compare(recs, i, j);
                fore_alike = cmp.swapped || cmp.forename != ix::FORENAME_ELSE;
            }
            if dob_close && fore_alike {
                return None;
            }
        }
    }
    if dob_both && !dob_close {
        return Some(Veto::DateOfBirth);
    }
    if fore_both && !fore_alike {
        return Some(Veto::Forename);
    }
    None
}
