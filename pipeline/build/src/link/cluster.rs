//! Clustering records into persons: rules applied in order, union–find, and a veto.
//!
//! Every rule links records whose tokens agree exactly, so finding candidates is a sort of
//! (key, record) pairs per rule: cost grows as `n log n`, never with the number of pairs. The
//! fuzzy rule compares Bloom filters only inside blocks of records with the same date of birth
//! (day and month in either order) or the same birth year and postcode.
//!
//! Before two clusters merge, the veto looks at everything both hold: if each has an NHS number
//! (or UPN, or PNC ID) and none of them agree, or each has a date of birth and none of them agree
//! (allowing day and month swapped), they are two people and stay apart. A strong identifier
//! refused this way is a *conflict*, reported on both records; a weaker rule refused is just a
//! non-match (twins share a surname, a birthday and an address).

use std::collections::{BTreeMap, HashMap};

use super::compare::Tk;
use super::decisions::{Applied, Resolved};
use super::levels;
use super::records::{NONE, Records, Tok};
use super::rules::{KEY_RULES, Rule};
use super::score::scored_pass as score_pass;

/// The version of the clustering's vetoes (which merges are refused). Part of what a build is
/// made from, beside [`MATCHER_VERSION`](super::score::MATCHER_VERSION): change it whenever a
/// change to a veto would link the same staging differently. Not part of a model's version: a
/// frozen model's levels and weights mean the same under another veto, so it stays usable.
pub const VETO_VERSION: &str = "veto-6";

/// The most clusters one group of a key of initials may join (see
/// `Clusters::group_joins_by_initial`): more share a placeholder (`J SMITH`, 1 January), not a
/// person.
const MOST_BY_INITIAL: usize = 8;

/// The most clusters of one key's group a record tries to join: past them, the group is
/// records of many people sharing a placeholder, and no key can sort them.
const MOST_GROUP_HEADS: usize = 8;

/// Matcher settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Options {
    /// Rules weighing less than this (bits) are not applied.
    pub min_weight: f64,
    /// Least Dice similarity of forenames for a Bloom link.
    pub forename_dice: f32,
    /// Least Dice similarity of surnames for a Bloom link (less 0.05 at the same postcode).
    pub surname_dice: f32,
    /// Blocks with more distinct candidates than this are not compared (counted instead).
    pub max_block: usize,
    /// A fixed least weight (bits) of a link made by the scoring pass, instead of the one
    /// `match_probability` gives under the trained model (see `score`); never below
    /// [`LEAST_SCORED_WEIGHT`](super::score::LEAST_SCORED_WEIGHT).
    pub score_threshold: Option<f64>,
    /// Least match probability of a link made by the scoring pass.
    pub match_probability: f64,
    /// Blocks of the scoring pass with more records than this are not compared (counted).
    pub max_score_block: usize,
    /// Whether the scoring pass refuses pairs that look like two members of one household.
    pub household_veto: super::score::HouseholdVeto,
    /// Whether a home two partners know through one linked person vouches for its other
    /// members (`co_resident`).
    pub co_resident: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            min_weight: super::rules::DEFAULT_MIN_WEIGHT,
            forename_dice: 0.60,
            surname_dice: 0.75,
            max_block: 2000,
            score_threshold: None,
            match_probability: super::score::DEFAULT_MATCH_PROBABILITY,
            max_score_block: super::score::DEFAULT_MAX_BLOCK,
            household_veto: super::score::HouseholdVeto::Auto,
            co_resident: true,
        }
    }
}

/// Why a merge was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Veto {
    /// Both clusters hold this strong identifier (index into [`STRONG`](super::rules::STRONG)) and no value agrees.
    Strong(u8),
    /// Both clusters hold a date of birth and none agrees (for a scored link: none is close).
    DateOfBirth,
    /// Both clusters hold a forename and none is alike (a scored link, or a match key that
    /// agrees on initials only).
    Forename,
    /// Both clusters settle a sex and none agrees (a match key, the Bloom pass, a scored or
    /// home-vouched link).
    Sex,
    /// An officer decided that a record of one cluster and a record of the other are two
    /// people (`[linkage] decisions`).
    Decision,
}

impl Veto {
    /// Plain words, naming no value.
    pub fn describe(self) -> &'static str {
        match self {
            Veto::Strong(0) => "a different NHS number",
            Veto::Strong(1) => "a different UPN",
            Veto::Strong(_) => "a different PNC ID",
            Veto::DateOfBirth => "a different date of birth",
            Veto::Forename => "a different forename",
            Veto::Sex => "a different sex",
            Veto::Decision => "an officer's decision that they are two people",
        }
    }
}

/// Counts of one build's matching, for the summary and the audit log.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct MatchStats {
    /// Links made, by rule name (merges of two clusters, not pairs).
    pub merges_by_rule: BTreeMap<&'static str, u64>,
    /// Merges refused by the veto, by rule name.
    pub refused_by_rule: BTreeMap<&'static str, u64>,
    /// Rules not applied because they weigh less than the threshold.
    pub rules_below_threshold: Vec<&'static str>,
    /// Bloom filter pairs compared.
    pub bloom_comparisons: u64,
    /// Blocks too large to compare (see [`Options::max_block`]).
    pub blocks_skipped: u64,
    /// What the scoring pass did.
    pub scoring: super::score::ScoreStats,
    /// What the build made of the officers' decisions.
    pub decisions: Applied,
}

/// The persons found: for each record, its cluster and how it was linked.
#[derive(Debug, Clone, PartialEq)]
pub struct Persons {
    /// Each record's person, numbered densely from 0 in order of first record.
    pub person: Vec<u32>,
    /// How many persons.
    pub count: u32,
    /// The strongest rule that linked each record to another (None: linked to nothing).
    pub rule: Vec<Option<Rule>>,
    /// A strong identifier the record shares with a record it was not merged with, and why.
    pub conflict: Vec<Option<(Rule, Veto)>>,
    /// The weight (bits) of the strongest scored link of each record linked by [`Rule::Scored`].
    pub score: Vec<Option<f32>>,
    /// Counts.
    pub stats: MatchStats,
}

/// Union–find over records, with each cluster's members on a circular list (for the veto).
pub(super) struct Clusters<'r> {
    pub(super) recs: &'r Records,
    parent: Vec<u32>,
    next: Vec<u32>,
    scratch: Vec<Tok>,
    /// Per cluster (root), the records an officer decided are other people: never merged with
    /// it. Empty unless decisions are configured, and then small.
    apart: HashMap<u32, Vec<u32>>,
}

impl<'r> Clusters<'r> {
    pub(super) fn new(recs: &'r Records) -> Self {
        let n = recs.len() as u32;
        Clusters { recs, parent: (0..n).collect(), next: (0..n).collect(), scratch: Vec::new(), apart: HashMap::new() }
    }

    /// Keeps the clusters of each pair apart from now on (officers' decisions). Made before any
    /// rule runs, while every record is its own cluster.
    fn keep_apart(&mut self, pairs: &[(u32, u32)]) {
        for &(a, b) in pairs {
            let (ra, rb) = (self.find(a), self.find(b));
            self.apart.entry(ra).or_default().push(b);
            self.apart.entry(rb).or_default().push(a);
        }
    }

    /// Whether a decision keeps the clusters of the roots `a` and `b` apart.
    fn decided_apart(&mut self, a: u32, b: u32) -> bool {
        if self.apart.is_empty() {
            return false;
        }
        let Some(others) = self.apart.remove(&a) else { return false };
        let found = others.iter().any(|&x| self.find(x) == b);
        self.apart.insert(a, others);
        found
    }

    pub(super) fn find(&mut self, mut x: u32) -> u32 {
        while self.parent[x as usize] != x {
            let grand = self.parent[self.parent[x as usize] as usize];
            self.parent[x as usize] = grand;
            x = grand;
        }
        x
    }

    pub(super) fn members(&self, root: u32) -> impl Iterator<Item = usize> + '_ {
        let mut cur = Some(root);
        std::iter::from_fn(move || {
            let c = cur?;
            let n = self.next[c as usize];
            cur = if n == root { None } else { Some(n) };
            Some(c as usize)
        })
    }

    /// Whether the two clusters (roots) hold disagreeing values of one column and no agreeing one.
    fn disagree(&mut self, a: u32, b: u32, column: &[Option<Tok>]) -> bool {
        let mut scratch = std::mem::take(&mut self.scratch);
        scratch.clear();
        scratch.extend(self.members(a).filter_map(|i| column[i]));
        let result = if scratch.is_empty() {
            false
        } else {
            let mut any_b = false;
            let mut agree = false;
            for i in self.members(b) {
                if let Some(t) = column[i] {
                    any_b = true;
                    if scratch.contains(&t) {
                        agree = true;
                        break;
                    }
                }
            }
            any_b && !agree
        };
        self.scratch = scratch;
        result
    }

    /// Whether both clusters (roots) hold a forename and none of one's is alike any of the
    /// other's ([`levels::forenames_alike`]). Every pair of their records holding forenames is
    /// compared (the filters are salted by the year of birth, so two records of one forename may
    /// compare otherwise); past 256 pairs without an alike one, they are not judged (false).
    fn forenames_unalike(&self, a: u32, b: u32) -> bool {
        const MOST: usize = 256;
        let recs = self.recs;
        let named = |root: u32| self.members(root).filter(|&i| recs.tokens[i][Tk::Forename as usize] != NONE);
        let mut compared = 0;
        for i in named(a) {
            for j in named(b) {
                if compared == MOST || levels::forenames_alike(&levels::compare(recs, i, j)) {
                    return false;
                }
                compared += 1;
            }
        }
        compared > 0
    }

    /// Whether the clusters of roots `a` and `b` may be one person by a key of initials: no
    /// strong identifier, officer's decision, date of birth or forename keeps them apart.
    fn may_join_by_initial(&mut self, a: u32, b: u32) -> bool {
        let dob = &self.recs.dob_unordered;
        self.strong_veto(a, b).is_none()
            && !self.decided_apart(a, b)
            && !self.disagree(a, b, dob)
            && !self.forenames_unalike(a, b)
    }

    /// Whether a group of records sharing a key of initials is evidence for joining them all:
    /// it spans at most [`MOST_BY_INITIAL`] clusters, each of which may join every other. Where
    /// two of them may not (twins of one initial), a third that could join either is not
    /// evidence for one: the group is left to the scoring pass, which weighs whole records. The
    /// answer depends on the clusters, not on the order of the group's records.
    fn group_joins_by_initial(&mut self, group: &[(Tok, u32)]) -> bool {
        let mut roots: Vec<u32> = Vec::new();
        for &(_, r) in group {
            let root = self.find(r);
            if !roots.contains(&root) {
                if roots.len() == MOST_BY_INITIAL {
                    return false;
                }
                roots.push(root);
            }
        }
        (0..roots.len()).all(|i| (i + 1..roots.len()).all(|j| self.may_join_by_initial(roots[i], roots[j])))
    }

    /// Joins the clusters of `a` and `b` with no veto: for rebuilding persons a build made.
    pub(super) fn join_as_built(&mut self, a: u32, b: u32) {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra != rb {
            let (root, child) = if ra < rb { (ra, rb) } else { (rb, ra) };
            self.parent[child as usize] = root;
            self.next.swap(root as usize, child as usize);
        }
    }

    pub(super) fn strong_veto(&mut self, a: u32, b: u32) -> Option<Veto> {
        let recs = self.recs;
        for (k, column) in recs.strong.iter().enumerate() {
            if self.disagree(a, b, column) {
                return Some(Veto::Strong(k as u8));
            }
        }
        None
    }

    /// Merges the clusters of `a` and `b` unless vetoed. `Ok(true)` if they were apart.
    fn union(&mut self, a: u32, b: u32) -> Result<bool, Veto> {
        let dob = &self.recs.dob_unordered;
        self.union_with(a, b, |c, ra, rb| c.disagree(ra, rb, dob).then_some(Veto::DateOfBirth))
    }

    /// Merges the clusters of `a` and `b`, which `rule` (a strong identifier, the same record, a
    /// match key) joins, unless vetoed.
    fn union_by_rule(&mut self, rule: Rule, a: u32, b: u32) -> Result<bool, Veto> {
        if matches!(rule, Rule::Key(_)) { self.union_by_key(a, b) } else { self.union(a, b) }
    }

    /// As [`Self::union`], for a match key or the Bloom pass, where the two records' sexes, and
    /// their clusters' settled sexes, must not differ: twins of two sexes each recorded once with
    /// the names swapped share the surname as a forename, and a key of forename, date of birth
    /// and postcode with it. A pair whose sexes differ is left to the scoring pass, which weighs
    /// the difference with the rest.
    pub(super) fn union_by_key(&mut self, a: u32, b: u32) -> Result<bool, Veto> {
        let (sa, sb) = (self.recs.sex[a as usize], self.recs.sex[b as usize]);
        let pair_apart = sa != 0 && sb != 0 && sa != sb;
        let dob = &self.recs.dob_unordered;
        self.union_with(a, b, |c, ra, rb| {
            if pair_apart {
                Some(Veto::Sex)
            } else if c.disagree(ra, rb, dob) {
                Some(Veto::DateOfBirth)
            } else {
                super::settled::sexes_settled_apart(c, ra, rb).then_some(Veto::Sex)
            }
        })
    }

    /// Merges the clusters of `a` and `b` unless a strong identifier disagrees or `veto` (given
    /// the two roots) refuses; the date-of-birth check is `veto`'s to make. `Ok(true)` if they
    /// were apart.
    pub(super) fn union_with(
        &mut self,
        a: u32,
        b: u32,
        veto: impl FnOnce(&mut Self, u32, u32) -> Option<Veto>,
    ) -> Result<bool, Veto> {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra == rb {
            return Ok(false);
        }
        if let Some(v) = self.strong_veto(ra, rb) {
            return Err(v);
        }
        if self.decided_apart(ra, rb) {
            return Err(Veto::Decision);
        }
        if let Some(v) = veto(self, ra, rb) {
            return Err(v);
        }
        // The lower record number stays root, so results do not depend on which side came first.
        let (root, child) = if ra < rb { (ra, rb) } else { (rb, ra) };
        self.parent[child as usize] = root;
        self.next.swap(root as usize, child as usize);
        if let Some(moved) = self.apart.remove(&child) {
            self.apart.entry(root).or_default().extend(moved);
        }
        Ok(true)
    }
}

/// Runs every rule over `recs` and returns the persons; the scoring pass uses `frozen` where
/// given, else the model it estimates.
pub fn persons(recs: &Records, opts: &Options, frozen: Option<&super::train::Model>) -> Persons {
    persons_deciding(recs, opts, frozen, &Resolved::default())
}

/// As [`persons`], honouring officers' decisions: pairs decided apart are kept apart by every
/// rule, and pairs decided to be one person are linked after all the rules (rule `decision`),
/// unless a strong identifier disagrees or another decision keeps them apart.
pub fn persons_deciding(
    recs: &Records,
    opts: &Options,
    frozen: Option<&super::train::Model>,
    decisions: &Resolved,
) -> Persons {
    let n = recs.len();
    let mut c = Clusters::new(recs);
    c.keep_apart(&decisions.apart);
    // Each record's weightiest rule, with its weight (worked out once per rule, not per link).
    let mut best: Vec<Option<(Rule, f64)>> = vec![None; n];
    // Strong identifiers refused by the veto: (record, other record, rule, why).
    let mut refused: Vec<(u32, u32, Rule, Veto)> = Vec::new();
    // Strongest scored and home-vouched link per record: two scales, kept apart.
    let (mut score, mut home_score): (Vec<Option<f32>>, Vec<Option<f32>>) = (vec![None; n], vec![None; n]);
    let mut stats = MatchStats::default();
    let note = |best: &mut Vec<Option<(Rule, f64)>>, i: u32, rule: Rule, weight: f64| {
        let slot = &mut best[i as usize];
        if slot.is_none_or(|(_, old)| old < weight) {
            *slot = Some((rule, weight));
        }
    };
    let (scored_weight, bloom_weight) = (Rule::Scored.weight(), Rule::Bloom.weight());

    for rule in Rule::all() {
        if rule == Rule::Scored {
            let threshold = super::score::Threshold {
                probability: opts.match_probability,
                bits: opts.score_threshold,
                floor: super::score::LEAST_SCORED_WEIGHT,
            };
            score_pass(
                recs,
                threshold,
                opts.max_score_block,
                opts.household_veto,
                opts.co_resident,
                frozen,
                &mut c,
                &mut stats,
                &mut |i, j, w, rule| {
                    let rule_weight = if rule == Rule::Scored { scored_weight } else { rule.weight() };
                    for r in [i, j] {
                        note(&mut best, r, rule, rule_weight);
                        let s = if rule == Rule::Scored { &mut score[r as usize] } else { &mut home_score[r as usize] };
                        *s = Some(s.map_or(w as f32, |old| old.max(w as f32)));
                    }
                },
            );
            continue;
        }
        let weight = rule.weight();
        if weight < opts.min_weight {
            stats.rules_below_threshold.push(rule.name());
            continue;
        }
        let groups: Vec<(Tok, u32)> = match rule {
            Rule::SameRecord => same_record_keys(recs),
            Rule::Strong(k) => {
                recs.strong[usize::from(k)].iter().enumerate().filter_map(|(i, t)| t.map(|t| (t, i as u32))).collect()
            }
            Rule::Key(k) => recs.keys.get(usize::from(k)).cloned().unwrap_or_default(),
            Rule::Bloom => {
                super::bloom_pass::bloom_pass(recs, opts, &mut c, &mut stats, &mut |i, j| {
                    note(&mut best, i, Rule::Bloom, bloom_weight);
                    note(&mut best, j, Rule::Bloom, bloom_weight);
                });
                continue;
            }
            Rule::Scored | Rule::CoResident | Rule::Decision => continue,
        };
        let by_initial = matches!(rule, Rule::Key(k) if KEY_RULES[usize::from(k)].fields.contains(&"forename_initial"));
        let mut groups = groups;
        groups.sort_unstable();
        for group in groups.chunk_by(|x, y| x.0 == y.0) {
            if by_initial && !c.group_joins_by_initial(group) {
                *stats.refused_by_rule.entry(rule.name()).or_default() += 1;
                continue;
            }
            join_group(&mut c, rule, group, &mut stats, &mut refused, &mut |a, b| {
                note(&mut best, a, rule, weight);
                note(&mut best, b, rule, weight);
            });
        }
    }

    let follow = &mut |r| note(&mut best, r, Rule::Decision, Rule::Decision.weight());
    stats.decisions = follow_decisions(&mut c, decisions, &mut stats.merges_by_rule, follow);

    // A refused strong identifier is a conflict unless a later pass found the two records to
    // be one person after all (a scored link with a date one digit off, say). Linked across
    // dates far apart (one NHS number under one name), the person is one and its two dates are
    // still for the partners to reconcile: the conflict stays reported.
    let mut conflict: Vec<Option<(Rule, Veto)>> = vec![None; n];
    for (a, b, rule, veto) in refused {
        if c.find(a) != c.find(b) || (veto == Veto::DateOfBirth && dates_far_apart(recs, a as usize, b as usize)) {
            conflict[a as usize].get_or_insert((rule, veto));
            conflict[b as usize].get_or_insert((rule, veto));
        }
    }

    let (person, count) = numbered(&mut c);
    let rule: Vec<Option<Rule>> = best.into_iter().map(|b| b.map(|(r, _)| r)).collect();
    let score = winning_scores(&rule, score, home_score);
    Persons { person, count, rule, conflict, score, stats }
}

/// Joins the records of one group of a rule's key. Each record joins the first of the group's
/// clusters so far that no veto keeps it from, so a record refused by the group's first (twins
/// of two sexes under one key) still joins the others it agrees with; calls `on_join` with each
/// pair joined. A strong identifier (or the same record) refused goes to `refused`.
fn join_group(
    c: &mut Clusters<'_>,
    rule: Rule,
    group: &[(Tok, u32)],
    stats: &mut MatchStats,
    refused: &mut Vec<(u32, u32, Rule, Veto)>,
    on_join: &mut dyn FnMut(u32, u32),
) {
    let mut heads: Vec<u32> = vec![group[0].1];
    for &(_, other) in &group[1..] {
        let mut joined = false;
        for &head in &heads {
            match c.union_by_rule(rule, head, other) {
                Ok(merged) => {
                    if merged {
                        *stats.merges_by_rule.entry(rule.name()).or_default() += 1;
                    }
                    on_join(head, other);
                    joined = true;
                    break;
                }
                Err(veto) => {
                    if matches!(rule, Rule::Strong(_) | Rule::SameRecord) {
                        refused.push((head, other, rule, veto));
                    }
                }
            }
        }
        if !joined {
            *stats.refused_by_rule.entry(rule.name()).or_default() += 1;
            if heads.len() < MOST_GROUP_HEADS {
                heads.push(other);
            }
        }
    }
}

/// Whether two records' dates of birth are more than a slip apart (the level `else`, and not one
/// digit edit apart).
fn dates_far_apart(recs: &Records, a: usize, b: usize) -> bool {
    levels::dob_level(&recs.tokens[a], &recs.tokens[b]) == levels::ix::DOB_ELSE && !recs.one_edit(2, a, b)
}

/// Each record's person, numbered densely in order of each person's first record, and how many.
fn numbered(c: &mut Clusters<'_>) -> (Vec<u32>, u32) {
    let n = c.recs.len();
    let mut number = vec![NONE; n];
    let mut person = vec![0u32; n];
    let mut count = 0u32;
    for i in 0..n as u32 {
        let root = c.find(i) as usize;
        if number[root] == NONE {
            number[root] = count;
            count += 1;
        }
        person[i as usize] = number[root];
    }
    (person, count)
}

/// Links the pairs decided to be one person, after every rule; calls `on_link` with each record
/// so linked.
fn follow_decisions(
    c: &mut Clusters<'_>,
    decisions: &Resolved,
    merges: &mut BTreeMap<&'static str, u64>,
    on_link: &mut dyn FnMut(u32),
) -> Applied {
    let mut applied =
        Applied { kept_apart: decisions.apart.len() as u64, not_found: decisions.not_found, ..Applied::default() };
    for &(a, b) in &decisions.same {
        match c.union_with(a, b, |_, _, _| None) {
            Ok(merged) => {
                applied.linked += 1;
                if merged {
                    *merges.entry(Rule::Decision.name()).or_default() += 1;
                    on_link(a);
                    on_link(b);
                }
            }
            Err(_) => applied.refused += 1,
        }
    }
    applied
}

/// Each record's weight under the rule that linked it: its scored link's, or its home's.
fn winning_scores(rule: &[Option<Rule>], scored: Vec<Option<f32>>, home: Vec<Option<f32>>) -> Vec<Option<f32>> {
    rule.iter()
        .zip(scored.into_iter().zip(home))
        .map(|(r, (scored, home))| match r {
            Some(Rule::Scored) => scored,
            Some(Rule::CoResident) => home,
            _ => None,
        })
        .collect()
}

/// (feed and record reference, hashed) per record, so one partner record seen twice is one.
fn same_record_keys(recs: &Records) -> Vec<(Tok, u32)> {
    use std::collections::HashMap;
    let mut first: HashMap<(u8, &str), u32> = HashMap::with_capacity(recs.len());
    let mut out = Vec::new();
    for i in 0..recs.len() {
        let key = (recs.feed[i], recs.record_ref[i].as_str());
        match first.get(&key) {
            Some(&f) => {
                let mut t = [0u8; 16];
                t[..4].copy_from_slice(&f.to_le_bytes());
                out.push((t, f));
                out.push((t, i as u32));
            }
            None => {
                first.insert(key, i as u32);
            }
        }
    }
    out.sort_unstable();
    out.dedup();
    out
}
