//! The Bloom pass of the exact rules: records whose name filters are alike (Dice) inside blocks
//! of one date of birth, or one birth year and postcode, joined as the match keys are.

use tellonce_governance::bloom::dice;

use super::cluster::{Clusters, MatchStats, Options};
use super::records::{NONE, Records, Tok};
use super::rules::Rule;

/// Compares the name encodings of records inside blocks, and links the similar ones.
pub(super) fn bloom_pass(
    recs: &Records,
    opts: &Options,
    c: &mut Clusters<'_>,
    stats: &mut MatchStats,
    on_link: &mut dyn FnMut(u32, u32),
) {
    // One candidate per distinct (cluster, names, date of birth, sex, postcode): records of one
    // person repeat the same values many times, and comparing them again adds nothing.
    #[derive(PartialEq, Eq, PartialOrd, Ord)]
    struct Candidate {
        cluster: u32,
        names: u32,
        dob: Option<Tok>,
        sex: u8,
        postcode: Option<Tok>,
        record: u32,
    }
    let mut reps: Vec<Candidate> = (0..recs.len())
        .filter(|&i| recs.bloom[i] != NONE && recs.dob_unordered[i].is_some())
        .map(|i| Candidate {
            cluster: c.find(i as u32),
            names: recs.bloom[i],
            dob: recs.dob[i],
            sex: recs.sex[i],
            postcode: recs.postcode[i],
            record: i as u32,
        })
        .collect();
    reps.sort_unstable();
    reps.dedup_by(|a, b| {
        (a.cluster, a.names, a.dob, a.sex, a.postcode) == (b.cluster, b.names, b.dob, b.sex, b.postcode)
    });
    // Blocks: (kind, block key, record).
    let mut blocks: Vec<(u8, Tok, u32)> = Vec::with_capacity(reps.len() * 2);
    for cand in &reps {
        let (i, i_) = (cand.record, cand.record as usize);
        if let Some(d) = recs.dob_unordered[i_] {
            blocks.push((0, d, i));
        }
        if let Some(p) = recs.year_postcode[i_] {
            blocks.push((1, p, i));
        }
    }
    blocks.sort_unstable();
    for block in blocks.chunk_by(|x, y| x.0 == y.0 && x.1 == y.1) {
        if block.len() > opts.max_block {
            stats.blocks_skipped += 1;
            continue;
        }
        let by_dob = block[0].0 == 0;
        for (x, &(_, _, a)) in block.iter().enumerate() {
            for &(_, _, b) in &block[x + 1..] {
                let (ai, bi) = (a as usize, b as usize);
                if c.find(a) == c.find(b) {
                    continue;
                }
                if recs.sex[ai] != 0 && recs.sex[bi] != 0 && recs.sex[ai] != recs.sex[bi] {
                    continue;
                }
                stats.bloom_comparisons += 1;
                let (Some(na), Some(nb)) =
                    (recs.blooms.get(recs.bloom[ai] as usize), recs.blooms.get(recs.bloom[bi] as usize))
                else {
                    continue;
                };
                let fore = dice(&na.0, &nb.0);
                let sur = dice(&na.1, &nb.1);
                let same_postcode = recs.postcode[ai].is_some() && recs.postcode[ai] == recs.postcode[bi];
                let sur_min = if same_postcode { opts.surname_dice - 0.05 } else { opts.surname_dice };
                if fore < opts.forename_dice || sur < sur_min {
                    continue;
                }
                // Inside a date-of-birth block the dates agree up to a day/month swap; inside a
                // postcode block only the year is known to agree. Either way, a date that is not
                // exactly the same needs names that are.
                let dates_agree = if by_dob {
                    recs.dob[ai] == recs.dob[bi]
                } else {
                    recs.dob_unordered[ai] == recs.dob_unordered[bi]
                };
                if !dates_agree && (fore < 0.99 || sur < 0.99) {
                    continue;
                }
                match c.union_by_key(a, b) {
                    Ok(merged) => {
                        if merged {
                            *stats.merges_by_rule.entry(Rule::Bloom.name()).or_default() += 1;
                        }
                        on_link(a, b);
                    }
                    Err(_) => *stats.refused_by_rule.entry(Rule::Bloom.name()).or_default() += 1,
                }
            }
        }
    }
}
