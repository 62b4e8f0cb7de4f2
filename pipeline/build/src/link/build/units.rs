//! The distinct partner records of a build ("units": a record staged twice is one unit), their
//! persons and families, and the stable ids those get: the last build's ids kept where the
//! clusters allow, new ones minted from the linkage key where they do not.

use tellonce_governance::Purpose;

use super::BuildInput;
use crate::link::LinkError;
use crate::link::change_reasons::{Reasons, RecordChanges};
use crate::link::ids::{self, Reconciled};
use crate::link::index;
use crate::link::records::{NONE, Records};

/// Each distinct partner record with its person and family.
pub(super) struct Units {
    /// The first row of each unit, which stands for it.
    pub(super) first_row: Vec<u32>,
    /// Each row's unit.
    pub(super) of_row: Vec<u32>,
    /// Each unit's person.
    pub(super) person: Vec<u32>,
    /// Each unit's family.
    pub(super) family: Vec<u32>,
}

impl Units {
    /// Groups the rows of `recs` by (feed, record reference); `person` is each row's person and
    /// `family` each person's family.
    pub(super) fn of(recs: &Records, person: &[u32], family: &[u32]) -> Units {
        let mut seen = std::collections::HashMap::with_capacity(recs.len());
        let mut first_row: Vec<u32> = Vec::with_capacity(recs.len());
        let mut of_row: Vec<u32> = Vec::with_capacity(recs.len());
        for i in 0..recs.len() {
            let next = first_row.len() as u32;
            let u = *seen.entry((recs.feed[i], recs.record_ref[i].as_str())).or_insert(next);
            if u == next {
                first_row.push(i as u32);
            }
            of_row.push(u);
        }
        let unit_person: Vec<u32> = first_row.iter().map(|&r| person[r as usize]).collect();
        let unit_family: Vec<u32> = unit_person.iter().map(|&p| family[p as usize]).collect();
        Units { first_row, of_row, person: unit_person, family: unit_family }
    }

    /// How many units.
    pub(super) fn len(&self) -> usize {
        self.first_row.len()
    }

    /// The first row (in unit order) of each of `count` clusters, given each unit's cluster.
    fn first_rows(&self, cluster: &[u32], count: u32) -> Vec<u32> {
        let mut first = vec![NONE; count as usize];
        for (u, &c) in cluster.iter().enumerate() {
            if first[c as usize] == NONE {
                first[c as usize] = self.first_row[u];
            }
        }
        first
    }
}

/// The person and family ids of this build, reconciled with the last build's (from the
/// identity index): `(persons, families)`.
pub(super) fn stable_ids(
    input: &BuildInput<'_>,
    recs: &Records,
    units: &Units,
    persons: u32,
    families: u32,
) -> Result<(Reconciled, Reconciled), LinkError> {
    let index = index::load(input.out)?;
    let (mut old_person, mut old_family) = (Vec::with_capacity(units.len()), Vec::with_capacity(units.len()));
    let mut key = (String::new(), String::new());
    for &r in &units.first_row {
        key.0.clear();
        key.0.push_str(recs.feed_name(r as usize));
        key.1.clear();
        key.1.push_str(&recs.record_ref[r as usize]);
        let (p, f) = index.by_record.get(&key).copied().unwrap_or((NONE, NONE));
        old_person.push(p);
        old_family.push(f);
    }
    let tokeniser = input.keys.tokeniser(Purpose::Linkage);
    // A new id is a token of its cluster's first record (and an attempt number, should two
    // clusters' tokens collide), so that a rebuild of the same data mints the same ids.
    let mint = |prefix: &'static str, firsts: Vec<u32>| {
        let tokeniser = &tokeniser;
        move |c: u32, attempt: u32| {
            let r = firsts.get(c as usize).copied().unwrap_or(0) as usize;
            let material = format!("{}\u{1f}{}\u{1f}{attempt}", recs.feed_name(r), recs.record_ref[r]);
            let t = tokeniser.token(if prefix == "P" { "person_id" } else { "family_id" }, material.as_bytes());
            let mut id = String::with_capacity(17);
            id.push_str(prefix);
            for b in &t[..8] {
                id.push_str(&format!("{b:02x}"));
            }
            id
        }
    };
    let person_first = units.first_rows(&units.person, persons);
    let family_first = units.first_rows(&units.family, families);
    let mut person_ids =
        ids::reconcile(&units.person, persons, &old_person, &index.person_ids, &mint("P", person_first));
    let mut family_ids =
        ids::reconcile(&units.family, families, &old_family, &index.family_ids, &mint("F", family_first));
    if !person_ids.changes.is_empty() || !family_ids.changes.is_empty() {
        // Read only when some id changed: the history dataset grows with every correction.
        let record_changes = RecordChanges::read(input.out)?;
        // Why each record may move an id: new since the last build, or changed since.
        let kind: Vec<Option<&'static str>> = units
            .first_row
            .iter()
            .zip(&old_person)
            .map(|(&r, &p)| match p == NONE {
                true => Some("new"),
                false => {
                    let key = (recs.feed_name(r as usize).to_owned(), recs.record_ref[r as usize].clone());
                    record_changes.changed(&key).then_some("changed")
                }
            })
            .collect();
        let why = Why { recs, units, index: &index, kind: &kind, changes: &record_changes };
        why.explain(&mut person_ids, &old_person, |u| units.person[u], |i| i.0, &index.person_ids);
        why.explain(&mut family_ids, &old_family, |u| units.family[u], |i| i.1, &index.family_ids);
    }
    Ok((person_ids, family_ids))
}

/// What explains the id changes of a build.
struct Why<'a> {
    recs: &'a Records,
    units: &'a Units,
    index: &'a index::Index,
    /// Each unit's record change, if any.
    kind: &'a [Option<&'static str>],
    changes: &'a RecordChanges,
}

impl Why<'_> {
    /// Fills in the reasons of `ids`' changes: the record changes of every id involved (each
    /// unit's, under its new id and its old one `old[u]`; each record of the last build gone
    /// since, under its old id), `relinked` where none.
    fn explain(
        &self,
        ids: &mut Reconciled,
        old: &[u32],
        cluster: impl Fn(usize) -> u32,
        old_of: impl Fn(&(u32, u32)) -> u32,
        old_ids: &[String],
    ) {
        let mut reasons = Reasons::default();
        let name = |i: u32| old_ids.get(i as usize).map_or("", String::as_str);
        for (u, k) in self.kind.iter().enumerate() {
            let Some(k) = k else { continue };
            if let Some(id) = ids.ids.get(cluster(u) as usize) {
                reasons.note(id, k);
            }
            if let Some(&o) = old.get(u).filter(|o| **o != NONE) {
                reasons.note(name(o), k);
            }
        }
        let held: std::collections::HashSet<(&str, &str)> = self
            .units
            .first_row
            .iter()
            .map(|&r| (self.recs.feed_name(r as usize), self.recs.record_ref[r as usize].as_str()))
            .collect();
        for (key, ids_before) in &self.index.by_record {
            if !held.contains(&(key.0.as_str(), key.1.as_str())) {
                reasons.note(name(old_of(ids_before)), self.changes.gone(key));
            }
        }
        for c in &mut ids.changes {
            c.reasons = reasons.of(&c.from, &c.to);
        }
    }
}
