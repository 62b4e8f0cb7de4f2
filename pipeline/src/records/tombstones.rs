//! Tombstones: the record references of a feed's records erased at a data subject's request
//! (or withdrawn), kept so that a re-sent copy is refused rather than staged again. A tombstone
//! holds the record reference (as staging holds it), the reason, the time and, for a
//! withdrawal, the input that withdrew it: no other value.
//!
//! The file only grows: a withdrawal found to be a mistake (a truncated snapshot confirmed with
//! `--allow-mass-withdrawal`, a partner's withdrawal sent in error) is lifted by a later
//! `reinstated` line for the reference, so the file keeps what stood and when. An erasure is
//! never lifted.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use serde::{Deserialize, Serialize};
use tellonce_output::layout;

use super::RecordsError;

/// One tombstone, a line of `state/tombstones/FEED.jsonl`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tombstone {
    /// The record's reference in its feed.
    pub record_id: String,
    /// Why it stands: `erasure` or `withdrawn`.
    pub reason: String,
    /// When it was laid (UTC, RFC 3339).
    pub at: String,
    /// The input that withdrew the record, by its id (as its rows' `_input` and its files'
    /// names give it), for a withdrawal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
}

use tellonce_output::tombstone_rule::apply;
pub use tellonce_output::tombstone_rule::{ERASURE, REINSTATED};

/// The record references of a feed that are tombstoned.
#[derive(Debug, Default)]
pub struct Tombstones {
    ids: HashSet<Box<str>>,
    /// The references of digits alone, by their digits without leading zeros: the one
    /// reference, or `None` where two share them.
    bare: HashMap<Box<str>, Option<Box<str>>>,
}

impl Tombstones {
    /// The tombstones of `feed` (none if the file does not exist).
    pub fn load(out: &Path, feed: &str) -> Result<Self, RecordsError> {
        let path = layout::tombstones(out, feed);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Tombstones::default()),
            Err(e) => return Err(RecordsError::Read { path, message: e.to_string() }),
        };
        let mut standing: HashMap<String, bool> = HashMap::new();
        for t in parse(&path, &text)? {
            let erased = t.reason == ERASURE;
            apply(&mut standing, t.record_id, &t.reason, erased, |e| *e);
        }
        let mut tombstones = Tombstones::default();
        standing.into_keys().for_each(|id| tombstones.insert(&id));
        Ok(tombstones)
    }

    /// Whether a tombstone stands for this record reference.
    pub fn contains(&self, record_id: &str) -> bool {
        self.ids.contains(record_id)
    }

    /// Notes a tombstone laid since these were loaded (see [`lay`]).
    pub fn insert(&mut self, record_id: &str) {
        if let Some(bare) = super::zeros::bare(record_id) {
            self.bare
                .entry(bare.into())
                .and_modify(|one| {
                    if one.as_deref() != Some(record_id) {
                        *one = None;
                    }
                })
                .or_insert_with(|| Some(record_id.into()));
        }
        self.ids.insert(record_id.into());
    }

    /// The one tombstoned reference with the digits of `record_id` under other leading zeros
    /// (see [`super::zeros`]), if `record_id` is made of digits and one such stands.
    pub fn zero_form(&self, record_id: &str) -> super::zeros::OneForm<'_> {
        use super::zeros::OneForm;
        let Some(bare) = super::zeros::bare(record_id) else { return OneForm::None };
        match self.bare.get(bare) {
            None => OneForm::None,
            Some(None) => OneForm::Several,
            Some(Some(one)) if one.as_ref() == record_id => OneForm::None,
            Some(Some(one)) => OneForm::One(one),
        }
    }

    /// How many tombstones stand.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether none stands.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }
}

/// The lines of a tombstone file, in order.
fn parse(path: &Path, text: &str) -> Result<Vec<Tombstone>, RecordsError> {
    let mut lines = Vec::new();
    for (i, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        lines.push(serde_json::from_str(line).map_err(|e| RecordsError::Read {
            path: path.to_owned(),
            message: format!("line {}: not a tombstone (column {})", i + 1, e.column()),
        })?);
    }
    Ok(lines)
}

/// Which withdrawn records to reinstate.
#[derive(Debug, Clone)]
pub enum Reinstate {
    /// These references.
    Records(Vec<String>),
    /// Every record the input of this id (its rows' `_input`) withdrew and that is still
    /// withdrawn.
    WithdrawnBy(String),
}

/// What a reinstatement found.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Reinstated {
    /// Withdrawals lifted: the next input sending the record stages it as new.
    pub reinstated: u64,
    /// References asked for that were erased at a data subject's request: left as they are.
    pub erased: u64,
    /// References asked for that no withdrawal stands for.
    pub not_withdrawn: u64,
    /// Withdrawals standing that name no input (laid before withdrawals named theirs): an
    /// input's withdrawals cannot include them; lift them by reference.
    pub unattributed: u64,
}

/// Lifts the withdrawals `which` selects in `feed`'s tombstones, durably, unless `dry_run`.
/// An erased record stays refused whatever is asked.
pub fn reinstate(
    out: &Path,
    feed: &str,
    which: &Reinstate,
    at: &str,
    dry_run: bool,
) -> Result<Reinstated, RecordsError> {
    let path = layout::tombstones(out, feed);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(RecordsError::Read { path, message: e.to_string() }),
    };
    let mut standing: HashMap<String, Tombstone> = HashMap::new();
    for t in parse(&path, &text)? {
        let reason = t.reason.clone();
        apply(&mut standing, t.record_id.clone(), &reason, t, |s| s.reason == ERASURE);
    }
    let mut found = Reinstated::default();
    let mut lift: Vec<String> = Vec::new();
    match which {
        Reinstate::Records(ids) => {
            let mut asked: Vec<&String> = ids.iter().collect();
            asked.sort_unstable();
            asked.dedup();
            for id in asked {
                match standing.get(id) {
                    Some(t) if t.reason == ERASURE => found.erased += 1,
                    Some(_) => lift.push(id.clone()),
                    None => found.not_withdrawn += 1,
                }
            }
        }
        Reinstate::WithdrawnBy(input) => {
            found.unattributed = standing.values().filter(|t| t.reason != ERASURE && t.by.is_none()).count() as u64;
            lift = standing
                .values()
                .filter(|t| t.reason != ERASURE && t.by.as_deref() == Some(input.as_str()))
                .map(|t| t.record_id.clone())
                .collect();
            lift.sort_unstable();
        }
    }
    found.reinstated = lift.len() as u64;
    if !dry_run {
        lay(out, feed, &lift, REINSTATED, at, None)?;
    }
    Ok(found)
}

/// The ids of the inputs `feed`'s tombstones name as having withdrawn records.
pub fn withdrawn_by(out: &Path, feed: &str) -> Result<HashSet<String>, RecordsError> {
    let path = layout::tombstones(out, feed);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(HashSet::new()),
        Err(e) => return Err(RecordsError::Read { path, message: e.to_string() }),
    };
    Ok(parse(&path, &text)?.into_iter().filter_map(|t| t.by).collect())
}

/// Lays tombstones (or, with [`REINSTATED`], lifting lines) for these record references of
/// `feed`, durably, before the records go; a withdrawal names the input `by` which it was made.
pub fn lay(
    out: &Path,
    feed: &str,
    record_ids: &[String],
    reason: &str,
    at: &str,
    by: Option<&str>,
) -> Result<(), RecordsError> {
    if record_ids.is_empty() {
        return Ok(());
    }
    let path = layout::tombstones(out, feed);
    let mut text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(source) => return Err(RecordsError::Write { path, source }),
    };
    for id in record_ids {
        let t = Tombstone {
            record_id: id.clone(),
            reason: reason.to_owned(),
            at: at.to_owned(),
            by: by.map(str::to_owned),
        };
        let line =
            serde_json::to_string(&t).map_err(|e| RecordsError::Write { path: path.clone(), source: e.into() })?;
        text.push_str(&line);
        text.push('\n');
    }
    tellonce_connectors::atomic::write_atomic(&path, text.as_bytes())
        .map_err(|source| RecordsError::Write { path, source })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tombstones_laid_are_found_again_and_added_to() {
        let dir = tempfile::tempdir().unwrap();
        assert!(Tombstones::load(dir.path(), "police").unwrap().is_empty());
        lay(dir.path(), "police", &["P-1".to_owned()], "erasure", "2026-12-03T10:00:00Z", None).unwrap();
        lay(dir.path(), "police", &["P-2".to_owned()], "erasure", "2026-12-03T11:00:00Z", None).unwrap();
        let t = Tombstones::load(dir.path(), "police").unwrap();
        assert!(t.contains("P-1") && t.contains("P-2") && !t.contains("P-3"));
        assert!(Tombstones::load(dir.path(), "housing").unwrap().is_empty(), "per feed");
    }

    #[test]
    fn a_withdrawal_is_lifted_by_reference_or_by_input_and_an_erasure_never() {
        let dir = tempfile::tempdir().unwrap();
        let ids = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        let at = "2026-12-04T10:00:00Z";
        lay(dir.path(), "police", &ids(&["P-1", "P-2", "P-3"]), "withdrawn", at, Some("mar.csv")).unwrap();
        lay(dir.path(), "police", &ids(&["P-4"]), "withdrawn", at, Some("feb.csv")).unwrap();
        lay(dir.path(), "police", &ids(&["P-5"]), ERASURE, at, None).unwrap();
        // Erased after being withdrawn: erasure stands.
        lay(dir.path(), "police", &ids(&["P-3"]), ERASURE, at, None).unwrap();

        let asked = Reinstate::Records(ids(&["P-4", "P-5", "P-9", "P-4"]));
        let dry = reinstate(dir.path(), "police", &asked, at, true).unwrap();
        assert_eq!(dry, Reinstated { reinstated: 1, erased: 1, not_withdrawn: 1, unattributed: 0 });
        assert!(Tombstones::load(dir.path(), "police").unwrap().contains("P-4"), "a dry run changes nothing");
        assert_eq!(reinstate(dir.path(), "police", &asked, at, false).unwrap(), dry);

        lay(dir.path(), "police", &ids(&["P-6"]), "withdrawn", at, None).unwrap();
        let by_march = reinstate(dir.path(), "police", &Reinstate::WithdrawnBy("mar.csv".to_owned()), at, false);
        let want = Reinstated { reinstated: 2, erased: 0, not_withdrawn: 0, unattributed: 1 };
        assert_eq!(by_march.unwrap(), want, "P-3 was erased; P-6 names no input");
        let t = Tombstones::load(dir.path(), "police").unwrap();
        let all = ["P-1", "P-2", "P-3", "P-4", "P-5", "P-6"];
        let standing: Vec<&str> = all.into_iter().filter(|id| t.contains(id)).collect();
        assert_eq!(standing, ["P-3", "P-5", "P-6"]);

        // Withdrawn again later, and lifted again: the last line decides.
        lay(dir.path(), "police", &ids(&["P-1"]), "withdrawn", at, Some("apr.csv")).unwrap();
        assert!(Tombstones::load(dir.path(), "police").unwrap().contains("P-1"));
        let again = reinstate(dir.path(), "police", &Reinstate::Records(ids(&["P-1", "P-3"])), at, false).unwrap();
        assert_eq!(again, Reinstated { reinstated: 1, erased: 1, not_withdrawn: 0, unattributed: 0 });
        assert!(!Tombstones::load(dir.path(), "police").unwrap().contains("P-1"));
    }
}
