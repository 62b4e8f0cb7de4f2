//! What the hub holds now, as the audit log records it: every output file written and not since
//! deleted, with the agreement it was written under and the day it falls due for deletion.
//!
//! The audit log, not a directory listing, is the source of truth: a file the log does not know
//! was not written by tellonce, and `audit verify` checks the two agree.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use tellonce_governance::audit::{Entry, Event};
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
