//! A stream session's holding of a feed's records, kept up to date from the shared audit log.
//!
//! A file input is compared once, with the records held as it begins (`compare`). A stream
//! session compares a batch every second or so, and loading the holding afresh for each would
//! cost a read of every staging file of the feed per batch, growing with every batch written.
//! So a session loads a feed's holding once, on its first batch of the feed, and then follows the
//! audit log: a staging file first written since brings the latest versions of its records once
//! its batch is recorded as committed (a batch never committed is swept, and its records were
//! never held); a staging file deleted (every version in it superseded) takes its records away.
//! Rows are not trusted after that: a supersession finds the rows it moves again
//! by reference ([`Comparison::take_superseded`]).
//!
//! Only sessions holding the feed's lock ([`tellonce_output::layout::feed_staging_lock`]) change
//! a feed's staging while stream sessions run (file runs, retention and erasure take the output
//! to themselves), so a holding refreshed under that lock is the holding as it is.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use tellonce_governance::audit::holdings::{HeldFile, held_files};
use tellonce_governance::audit::stream_progress::{self, BatchName, Progress};
use tellonce_governance::audit::{Event, ReadCursor, read_new_entries};
use tellonce_output::layout::{AUDIT, STAGING};
use tellonce_schemas::FeedSchema;

use super::RecordsError;
use super::compare::Comparison;
use super::held::{HeldRecords, LoadOptions};
use super::tombstones::Tombstones;
use crate::config::SourceMode;
use tellonce_connectors::file_source::file_state;

/// One feed's records held, as of the audit log's entries up to a cursor.
#[derive(Debug)]
pub struct LiveHoldings {
    feed: &'static FeedSchema,
    /// The column the feed's records are known by under its agreement.
    key_column: &'static str,
    held: HeldRecords,
    tombstones: Tombstones,
    /// The feed's staging files the audit log records as held.
    files: BTreeMap<String, HeldFile>,
    /// The staging files whose records are in `held`.
    loaded: HashSet<String>,
    /// The batches the log records as committed.
    progress: Progress,
    /// Staging files of stream batches not (yet) recorded as committed, by batch: a session
    /// stopped before committing them, and its files will be swept. Their records are not held
    /// until the batch is committed.
    pending: BTreeMap<BatchName, Vec<String>>,
    /// The batch being written now, under the feed's lock: its parts' files are held at once.
    own: Option<BatchName>,
    cursor: ReadCursor,
    /// The tombstones file's size and modification time when `tombstones` was read: another
    /// session withdrawing a record (a message marked withdrawn) lays one.
    tombstones_read: Option<(u64, std::time::SystemTime)>,
    /// False while a comparison has the parts (and for good if it never gives them back).
    whole: bool,
}

impl LiveHoldings {
    /// Loads the records of `feed` that the output in `out` holds now, with its tombstones.
    /// Its records are known by `key_column` (see [`LoadOptions::key_column`]).
    pub fn load(out: &Path, feed: &'static FeedSchema, key_column: &'static str) -> Result<Self, RecordsError> {
        let dir = out.join(AUDIT);
        let mut cursor = ReadCursor::default();
        let mut entries = read_new_entries(&dir, &mut cursor)
            .map_err(|e| RecordsError::Read { path: dir.clone(), message: e.to_string() })?;
        let progress = Progress::from_entries(&entries);
        let prefix = staging_prefix(feed.name);
        let all: BTreeMap<String, HeldFile> =
            held_files(&entries).into_iter().filter(|(path, _)| path.starts_with(&prefix)).collect();
        let mut pending: BTreeMap<BatchName, Vec<String>> = BTreeMap::new();
        for path in all.keys() {
            if let Some(batch) = uncommitted(&progress, path) {
                pending.entry(batch).or_default().push(path.clone());
            }
        }
        // The records of uncommitted batches are not held: their entries are left out of the load.
        entries
            .retain(|e| !matches!(&e.event, Event::FileWritten { path, .. } if uncommitted(&progress, path).is_some()));
        let how = LoadOptions { updated: feed.updated, key_column: Some(key_column), ..LoadOptions::default() };
        let held = HeldRecords::load(out, &entries, feed.name, how)?;
        let loaded = all.keys().filter(|p| uncommitted(&progress, p).is_none()).cloned().collect();
        let tombstones_read = file_state(&tellonce_output::layout::tombstones(out, feed.name));
        let tombstones = Tombstones::load(out, feed.name)?;
        let (files, own, whole) = (all, None, true);
        Ok(LiveHoldings {
            feed,
            key_column,
            held,
            tombstones,
            files,
            loaded,
            progress,
            pending,
            own,
            cursor,
            tombstones_read,
            whole,
        })
    }

    /// Whether the holding can be used: a comparison that failed took its parts with it.
    pub fn is_whole(&self) -> bool {
        self.whole
    }

    /// Notes the batch being written now (its parts' files are held as they are written), or
    /// none.
    pub fn writing(&mut self, batch: Option<BatchName>) {
        self.own = batch;
    }

    /// Follows the audit log from where this holding got to: files of the feed's staging
    /// written since add their records as their latest versions once their batch is committed
    /// (at once for the batch being written, and for a file input's); a file it holds records
    /// of deleted since (every version in it moved to history) takes them away.
    pub fn refresh(&mut self, out: &Path) -> Result<(), RecordsError> {
        let now = file_state(&tellonce_output::layout::tombstones(out, self.feed.name));
        if now != self.tombstones_read {
            self.tombstones = Tombstones::load(out, self.feed.name)?;
            self.tombstones_read = now;
        }
        let dir = out.join(AUDIT);
        let entries = read_new_entries(&dir, &mut self.cursor)
            .map_err(|e| RecordsError::Read { path: dir.clone(), message: e.to_string() })?;
        let prefix = staging_prefix(self.feed.name);
        // A file deleted later in these entries is not read: what it held has left staging.
        let mut deleted_at: BTreeMap<&str, usize> = BTreeMap::new();
        for (i, e) in entries.iter().enumerate() {
            if let Event::FileDeleted { path, .. } = &e.event {
                deleted_at.insert(path.as_str(), i);
            }
        }
        let gone_later = |path: &str, i: usize| deleted_at.get(path).is_some_and(|&d| d > i);
        for (i, e) in entries.iter().enumerate() {
            match &e.event {
                Event::FileWritten { path, .. } if path.starts_with(&prefix) => {
                    self.files.extend(held_files(std::slice::from_ref(e)));
                    if self.loaded.contains(path) {
                        // Written again: a rewrite (versions moved out of it).
                        continue;
                    }
                    match uncommitted(&self.progress, path).filter(|b| self.own.as_ref() != Some(b)) {
                        Some(batch) => self.pending.entry(batch).or_default().push(path.clone()),
                        None if gone_later(path, i) => {}
                        None => self.absorb(out, path, e.seq)?,
                    }
                }
                Event::FileDeleted { path, .. } if path.starts_with(&prefix) => {
                    self.files.remove(path);
                    self.pending.values_mut().for_each(|files| files.retain(|f| f != path));
                    if self.loaded.remove(path) && !self.held.forget_file(path) {
                        return self.reload(out);
                    }
                }
                Event::StreamBatchCommitted { .. } | Event::StreamProgressReset { .. } => {
                    let committed = Progress::from_entries(std::slice::from_ref(e));
                    let batches: Vec<BatchName> =
                        self.pending.keys().filter(|b| committed.is_committed(b)).cloned().collect();
                    self.progress.absorb(std::slice::from_ref(e));
                    for batch in batches {
                        for path in self.pending.remove(&batch).unwrap_or_default() {
                            if !gone_later(&path, i) && self.files.contains_key(&path) {
                                self.absorb(out, &path, e.seq)?;
                            }
                        }
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Loads the holding afresh, still writing the batch it was writing: that batch's parts
    /// written so far (not committed yet, so left out of the load) are held again.
    fn reload(&mut self, out: &Path) -> Result<(), RecordsError> {
        let own = self.own.take();
        *self = LiveHoldings::load(out, self.feed, self.key_column)?;
        if let Some(batch) = own {
            for path in self.pending.remove(&batch).unwrap_or_default() {
                let order = self.files.get(&path).map_or(u64::MAX, |f| f.seq);
                self.absorb(out, &path, order)?;
            }
            self.own = Some(batch);
        }
        Ok(())
    }

    /// Holds the records of the staging file `path` as their latest versions.
    fn absorb(&mut self, out: &Path, path: &str, order: u64) -> Result<(), RecordsError> {
        self.loaded.insert(path.to_owned());
        self.held.absorb_file(out, path, self.feed.updated, order)
    }

    /// A comparison of a stream batch in `mode` with this holding, which lends it its parts
    /// until [`Self::restore`].
    pub fn comparison(&mut self, mode: SourceMode) -> Comparison {
        self.whole = false;
        let held = std::mem::take(&mut self.held);
        let tombstones = std::mem::take(&mut self.tombstones);
        let files = std::mem::take(&mut self.files);
        Comparison::live(held, tombstones, files, self.feed, mode)
    }

    /// Takes back the parts lent to `comparison`.
    pub fn restore(&mut self, comparison: Comparison) {
        (self.held, self.tombstones, self.files) = comparison.into_live();
        self.whole = true;
    }

    /// How many records are held.
    pub fn len(&self) -> usize {
        self.held.len()
    }

    /// Whether no record is held.
    pub fn is_empty(&self) -> bool {
        self.held.is_empty()
    }
}

/// The stream batch the staging file `path` belongs to, if it is one the log does not record as
/// committed.
fn uncommitted(progress: &Progress, path: &str) -> Option<BatchName> {
    let name = path.rsplit('/').next().unwrap_or(path);
    stream_progress::parse(name).filter(|b| !progress.is_committed(b))
}

/// The start of the paths of `feed`'s staging files.
fn staging_prefix(feed: &str) -> String {
    format!("{STAGING}/feed={feed}/")
}
