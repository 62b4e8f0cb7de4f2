//! The distinct partner records of a build ("units": a record staged twice is one unit), their
//! persons and families, and the stable ids those get: the last build's ids kept where the
//! clusters allow, new ones minted from the linkage key where they do not.

use std::collections::HashMap;

use tellonce_governance::Purpose;

use super::BuildInput;
use crate::link::LinkError;
use crate::link::change_reasons::{Key, Reasons, RecordChanges};
use crate::link::ids::{self, Reconciled};
use crate::link::index;
use crate::link::records::{NONE, Records};

/// Each unit by (feed, record reference), as [`Units::of`] found them: the identity index is
/// looked up in it, so that no reference is copied.
pub(super) type UnitsByRef<'r> = HashMap<(u8, &'r str), u32>;

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
    /// `family` each person's family. Also returns the units by reference.
    pub(super) fn of<'r>(recs: &'r Records, person: &[u32], family: &[u32]) -> (Units, UnitsByRef<'r>) {
        let mut seen: UnitsByRef<'r> = HashMap::with_capacity(recs.len());
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
        (Units { first_row, of_row, person: unit_person, family: unit_family }, seen)
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

/// A record of the last build that this build does not hold: its feed and reference, and its
/// person and family (indices into the index's tables).
type Gone = (Key, (u32, u32));

/// The person and family ids of this build, reconciled with the last build's (from the
/// identity index): `(persons, families)`. `by_ref` holds each unit by its reference.
pub(super) fn stable_ids(
    input: &BuildInput<'_>,
    recs: &Records,
    units: &Units,
    by_ref: &UnitsByRef<'_>,
    persons: u32,
    families: u32,
) -> Result<(Reconciled, Reconciled), LinkError> {
    let feed_of: HashMap<&str, u8> = recs.feeds.iter().enumerate().map(|(k, name)| (*name, k as u8)).collect();
    // Each unit's person and family in the last build, and the last build's records gone.
    let mut found: (Vec<u32>, Vec<u32>, Vec<Gone>) = (vec![NONE; units.len()], vec![NONE; units.len()], Vec::new());
    let index = index::scan(
        input.out,
        &mut found,
        |_, _| Ok(()),
        |(old_person, old_family, gone), feed, rf, p, f| match feed_of.get(feed).and_then(|&k| by_ref.get(&(k, rf))) {
            Some(&u) => {
                old_person[u as usize] = p;
                old_family[u as usize] = f;
            }
            None => gone.push(((feed.to_owned(), rf.to_owned()), (p, f))),
        },
    )?;
    let (old_person, old_family, gone) = found;
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
                false => record_changes
                    .changed(recs.feed_name(r as usize), &recs.record_ref[r as usize])
                    .then_some("changed"),
            })
            .collect();
        let why = Why { gone: &gone, kind: &kind, changes: &record_changes };
        why.explain(&mut person_ids, &old_person, |u| units.person[u], |i| i.0, &index.person_ids);
        why.explain(&mut family_ids, &old_family, |u| units.family[u], |i| i.1, &index.family_ids);
    }
    Ok((person_ids, family_ids))
}

/// What explains the id changes of a build.
struct Why<'a> {
    /// The last build's records this build does not hold.
    gone: &'a [Gone],
    /// Each unit's record change, if any.
    kind: &'a [Option<&'static str>],
    changes: &'a RecordChanges,
}

impl Why<'_> {
    /// Fills in the reasons of `ids`' changes: the record changes of every id some change names
    /// (each unit's, under its new id and its old one `old[u]`; each record of the last build
    /// gone since, under its old id), `relinked` where none.
    fn explain(
        &self,
        ids: &mut Reconciled,
        old: &[u32],
        cluster: impl Fn(usize) -> u32,
        old_of: impl Fn(&(u32, u32)) -> u32,
        old_ids: &[String],
    ) {
        // Only the ids some change names are noted: a build of a million new records would
        // otherwise note every one of them.
        let involved: std::collections::HashSet<&str> =
            ids.changes.iter().flat_map(|c| c.from.iter().chain(&c.to)).map(String::as_str).collect();
        let mut reasons = Reasons::default();
        let mut note = |id: &str, why: &'static str| {
            if involved.contains(id) {
                reasons.note(id, why);
            }
        };
        let name = |i: u32| old_ids.get(i as usize).map_or("", String::as_str);
        for (u, k) in self.kind.iter().enumerate() {
            let Some(k) = k else { continue };
            if let Some(id) = ids.ids.get(cluster(u) as usize) {
                note(id, k);
            }
            if let Some(&o) = old.get(u).filter(|o| **o != NONE) {
                note(name(o), k);
            }
        }
        for (key, ids_before) in self.gone {
            note(name(old_of(ids_before)), self.changes.gone(key));
        }
        drop(involved);
        for c in &mut ids.changes {
            c.reasons = reasons.of(&c.from, &c.to);
        }
    }
}
