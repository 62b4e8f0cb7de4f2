//! What a cluster settles: a value two of its records agree on (of two partners, where the
//! clusters being joined share none) is the person's, where a value seen once may be a slip.
//! The scoring pass's cluster veto refuses a link only between clusters that each settle the
//! field that differs.

use super::cluster::Clusters;
use super::compare::Tk;
use super::records::{NONE, Records};

/// Whether each cluster settles a sex and no record of one agrees with one of the other: a twin
/// brother and sister, however alike the rest. Settled as a forename is: where the clusters
/// share no partner, by two partners agreeing, since one partner repeats its own coding (a
/// miscoded row, gender recorded for sex) on every row it holds.
pub(super) fn sexes_settled_apart(c: &Clusters<'_>, a: u32, b: u32) -> bool {
    let recs = c.recs;
    let sexes = |root: u32| c.members(root).fold(0u8, |m, i| m | sex_bit(recs.sex[i]));
    let (sa, sb) = (sexes(a), sexes(b));
    if sa == 0 || sb == 0 || sa & sb != 0 {
        return false;
    }
    let across = !share_a_feed(c, a, b);
    let settled = |root: u32| established_by(c, root, across, |i| sex_value(recs, i));
    settled(a) && settled(b)
}

/// A bit per known sex, for a set of the sexes a cluster holds.
fn sex_bit(sex: u8) -> u8 {
    match sex {
        b'M' => 1,
        b'F' => 2,
        _ => 0,
    }
}

/// Whether two records of the cluster (of two feeds, where `across_feeds`) hold the same value
/// of `tk`: then it is the person's value, where a value seen once may be a partner's slip.
pub(super) fn established(c: &Clusters<'_>, root: u32, tk: Tk, across_feeds: bool) -> bool {
    established_by(c, root, across_feeds, |i| c.recs.tokens[i][tk as usize])
}

/// As [`established`] for the forename, where two records one letter apart agree as well: a
/// twin's records with a slip in one (`OLIVER`, `OLIVEER`) settle the twin's name as surely.
pub(super) fn forename_established(c: &Clusters<'_>, root: u32, across_feeds: bool) -> bool {
    if established(c, root, Tk::Forename, across_feeds) {
        return true;
    }
    let recs = c.recs;
    let named: Vec<usize> =
        c.members(root).filter(|&i| recs.tokens[i][Tk::Forename as usize] != NONE).take(16).collect();
    named.iter().enumerate().any(|(k, &i)| {
        named[k + 1..].iter().any(|&j| (!across_feeds || recs.feed[i] != recs.feed[j]) && recs.one_edit(0, i, j))
    })
}

/// The sex of a record as a value [`established_by`] compares (`NONE`: not known).
fn sex_value(recs: &Records, i: usize) -> u32 {
    match recs.sex[i] {
        0 => NONE,
        s => u32::from(s),
    }
}

/// As [`established`], of the value `value` gives each record (`NONE`: none).
fn established_by(c: &Clusters<'_>, root: u32, across_feeds: bool, value: impl Fn(usize) -> u32) -> bool {
    let mut seen: Vec<(u32, u8)> = Vec::new();
    for i in c.members(root) {
        let (t, feed) = (value(i), c.recs.feed[i]);
        if t == NONE {
            continue;
        }
        if seen.iter().any(|&(s, f)| s == t && (!across_feeds || f != feed)) {
            return true;
        }
        if seen.contains(&(t, feed)) {
            continue;
        }
        // A cluster with many distinct values of one field is not settled by a late repeat.
        if seen.len() >= 16 {
            return false;
        }
        seen.push((t, feed));
    }
    false
}

/// Whether some partner holds records of both clusters.
pub(super) fn share_a_feed(c: &Clusters<'_>, a: u32, b: u32) -> bool {
    let mut feeds: Vec<u8> = c.members(a).map(|i| c.recs.feed[i]).collect();
    feeds.sort_unstable();
    feeds.dedup();
    c.members(b).any(|i| feeds.binary_search(&c.recs.feed[i]).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two records of `feed_b`'s and the first feed's, joined, with forename tokens and one-edit
    /// lists as given.
    fn pair(fore: (u32, u32), edits: (&[u32], &[u32]), feed_b: &'static str) -> Records {
        let mut r = Records::new();
        for (k, (feed, f, list)) in [("camhs", fore.0, edits.0), (feed_b, fore.1, edits.1)].into_iter().enumerate() {
            let i = r.push(feed, format!("R{k}")) as usize;
            r.tokens[i][Tk::Forename as usize] = f;
            r.edits[i][0] = r.edit_lists.len() as u32;
            r.edit_lists.push(list.into());
        }
        r
    }

    fn settled(r: &Records, across: bool) -> bool {
        let mut c = Clusters::new(r);
        c.join_as_built(0, 1);
        let root = c.find(0);
        forename_established(&c, root, across)
    }

    #[test]
    fn a_forename_is_settled_by_two_records_one_letter_apart_as_by_two_the_same() {
        // OLIVER and OLIVEER: one edit apart by their edit tokens (a name's own token, then its
        // tokens without one letter: the longer without its added letter is the shorter).
        let slip = pair((1, 2), (&[10, 11], &[12, 10, 13]), "camhs");
        assert!(settled(&slip, false));
        // Both of one partner, where two partners must agree: not settled.
        assert!(!settled(&slip, true));
        assert!(settled(&pair((1, 2), (&[10, 11], &[12, 10, 13]), "police"), true));
        // Names more than one edit apart settle nothing; the same name does.
        assert!(!settled(&pair((1, 2), (&[10, 11], &[12, 13, 14]), "camhs"), false));
        assert!(settled(&pair((1, 1), (&[10], &[10]), "camhs"), false));
    }
}
