//! Tombstones: the record references of a feed's records erased at a data subject's request
//! (or withdrawn), kept so that a re-sent copy is refused rather than staged again. A tombstone
//! holds the record reference (as staging holds it), the reason and the time: no other value.

use std::collections::HashSet;
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
}

/// The record references of a feed that are tombstoned.
#[derive(Debug, Default)]
pub struct Tombstones {
    ids: HashSet<Box<str>>,
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
        let mut ids = HashSet::new();
        for (i, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
            let t: Tombstone = serde_json::from_str(line).map_err(|e| RecordsError::Read {
                path: path.clone(),
                message: format!("line {}: not a tombstone (column {})", i + 1, e.column()),
            })?;
            ids.insert(t.record_id.into_boxed_str());
        }
        Ok(Tombstones { ids })
    }

    /// Whether a tombstone stands for this record reference.
    pub fn contains(&self, record_id: &str) -> bool {
        self.ids.contains(record_id)
    }

    /// Notes a tombstone laid since these were loaded (see [`lay`]).
    pub fn insert(&mut self, record_id: &str) {
        self.ids.insert(record_id.into());
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

/// Lays tombstones for these record references of `feed`, durably, before the records go.
pub fn lay(out: &Path, feed: &str, record_ids: &[String], reason: &str, at: &str) -> Result<(), RecordsError> {
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
        let t = Tombstone { record_id: id.clone(), reason: reason.to_owned(), at: at.to_owned() };
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
        lay(dir.path(), "police", &["P-1".to_owned()], "erasure", "2026-12-03T10:00:00Z").unwrap();
        lay(dir.path(), "police", &["P-2".to_owned()], "erasure", "2026-12-03T11:00:00Z").unwrap();
        let t = Tombstones::load(dir.path(), "police").unwrap();
        assert!(t.contains("P-1") && t.contains("P-2") && !t.contains("P-3"));
        assert!(Tombstones::load(dir.path(), "housing").unwrap().is_empty(), "per feed");
    }
}
