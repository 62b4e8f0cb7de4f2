//! What the hub holds now, as the audit log records it: every output file written and not since
//! deleted, with the agreement it was written under and the day it falls due for deletion.
//!
//! The audit log, not a directory listing, is the source of truth: a file the log does not know
//! was not written by tellonce, and `audit verify` checks the two agree.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::audit::{Entry, Event};
use tellonce_schemas::identifiers::dates;

/// One output file the hub holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldFile {
    /// Path relative to the output root, `/`-separated.
    pub path: String,
    /// The dataset (`staging`, `quarantine`, `manifest`…).
    pub dataset: String,
    /// SHA-256 recorded when it was written.
    pub sha256: String,
    /// Rows recorded when it was written.
    pub rows: u64,
    /// The feed its rows came from.
    pub feed: Option<String>,
    /// The agreement (`id@version`) it was written under.
    pub agreement: Option<String>,
    /// When it was written (the audit entry's time, RFC 3339).
    pub written_at: String,
    /// The day it falls due for deletion (days since 1970-01-01), if its agreement sets one.
    pub retention_until: Option<i32>,
    /// The audit entry that recorded it.
    pub seq: u64,
}

impl HeldFile {
    /// Its path on disk under `out`.
    pub fn on_disk(&self, out: &Path) -> PathBuf {
        self.path.split('/').fold(out.to_path_buf(), |p, c| p.join(c))
    }

    /// Whether it is due for deletion on day `on`.
    pub fn due(&self, on: i32) -> bool {
        self.retention_until.is_some_and(|d| d <= on)
    }
}

/// Every file written and not deleted since, by path (the latest write of a path wins).
pub fn held_files(entries: &[Entry]) -> BTreeMap<String, HeldFile> {
    let mut held = BTreeMap::new();
    for e in entries {
        match &e.event {
            Event::FileWritten { dataset, path, sha256, rows, feed, agreement, retention_until, .. } => {
                held.insert(
                    path.clone(),
                    HeldFile {
                        path: path.clone(),
                        dataset: dataset.clone(),
                        sha256: sha256.clone(),
                        rows: *rows,
                        feed: feed.clone(),
                        agreement: agreement.clone(),
                        written_at: e.at.clone(),
                        retention_until: retention_until.as_deref().and_then(|d| dates::parse(d).ok()),
                        seq: e.seq,
                    },
                );
            }
            Event::FileDeleted { path, .. } => {
                held.remove(path);
            }
            _ => {}
        }
    }
    held
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(seq: u64, event: Event) -> Entry {
        Entry { seq, at: format!("2026-01-0{seq}T00:00:00Z"), prev: String::new(), event, line: seq }
    }

    fn written(path: &str, sha: &str, until: Option<&str>) -> Event {
        Event::FileWritten {
            dataset: "staging".into(),
            path: path.into(),
            sha256: sha.into(),
            rows: 3,
            bytes: 10,
            feed: Some("police".into()),
            agreement: Some("ISA-POL@1".into()),
            retention_until: until.map(str::to_owned),
        }
    }

    fn deleted(path: &str) -> Event {
        Event::FileDeleted { path: path.into(), sha256: "x".into(), reason: "retention".into(), agreement: None }
    }

    #[test]
    fn the_latest_write_of_a_path_stands_and_a_deletion_removes_it() {
        let entries = [
            entry(1, written("staging/feed=police/a.parquet", "old", Some("2030-01-01"))),
            entry(2, written("staging/feed=police/b.parquet", "b", None)),
            entry(3, written("staging/feed=police/a.parquet", "new", Some("2031-01-01"))),
            entry(4, deleted("staging/feed=police/b.parquet")),
            entry(5, Event::KeysUsed { key_id: "k".into(), purposes: vec![] }),
        ];
        let held = held_files(&entries);
        assert_eq!(held.keys().collect::<Vec<_>>(), ["staging/feed=police/a.parquet"]);
        let a = &held["staging/feed=police/a.parquet"];
        assert_eq!((a.sha256.as_str(), a.seq, a.written_at.as_str()), ("new", 3, "2026-01-03T00:00:00Z"));
        assert_eq!(a.retention_until, dates::parse("2031-01-01").ok());
        assert_eq!(a.on_disk(Path::new("/o")), Path::new("/o/staging/feed=police/a.parquet"));
    }

    #[test]
    fn a_file_written_again_after_its_deletion_is_held_again() {
        let entries = [
            entry(1, written("q/a.jsonl", "1", None)),
            entry(2, deleted("q/a.jsonl")),
            entry(3, written("q/a.jsonl", "2", None)),
        ];
        assert_eq!(held_files(&entries)["q/a.jsonl"].sha256, "2");
    }

    #[test]
    fn a_file_is_due_on_and_after_its_retention_day_and_never_without_one() {
        let day = |d: &str| dates::parse(d).unwrap();
        let entries = [entry(1, written("a", "1", Some("2030-03-31"))), entry(2, written("b", "2", None))];
        let held = held_files(&entries);
        assert!(!held["a"].due(day("2030-03-30")));
        assert!(held["a"].due(day("2030-03-31")) && held["a"].due(day("2031-01-01")));
        assert!(!held["b"].due(day("2099-12-31")));
        // A retention date that does not parse falls due never, rather than at once.
        let bad = [entry(1, written("c", "1", Some("31/03/2030")))];
        assert_eq!(held_files(&bad)["c"].retention_until, None);
    }
}
