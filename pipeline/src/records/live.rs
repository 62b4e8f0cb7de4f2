//! A stream session's holding of a feed's records, kept up to date from the shared audit log.
//!
//! A file input is compared once, with the records held as it begins (`compare`). A stream
//! session compares a batch every second or so, and loading the holding afresh for each would
//! cost a read of every staging file of the feed per batch, growing with every batch written.
//! So a session loads a feed's holding once, on its first batch of the feed, and then follows the
//! audit log: a staging file first written since (a batch of this session or another) brings the
//! latest versions of its records; a staging file deleted (an uncommitted batch swept) has the
//! holding loaded again. Rows are not trusted after that: a supersession finds the rows it moves again
//! by reference ([`Comparison::take_superseded`]).
//!
//! Only sessions holding the feed's lock ([`tellonce_output::layout::feed_staging_lock`]) change
//! a feed's staging while stream sessions run (file runs, retention and erasure take the output
//! to themselves), so a holding refreshed under that lock is the holding as it is.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use tellonce_governance::audit::holdings::{HeldFile, held_files};
use tellonce_governance::audit::{Entry, Event, ReadCursor, read_new_entries};
use tellonce_output::layout::{AUDIT, STAGING};
use tellonce_schemas::FeedSchema;

use super::RecordsError;
use super::compare::Comparison;
use super::held::{HeldRecords, LoadOptions};
use super::tombstones::Tombstones;
use crate::config::SourceMode;

/// One feed's records held, as of the audit log's entries up to a cursor.
#[derive(Debug)]
pub struct LiveHoldings {
    feed: &'static FeedSchema,
    held: HeldRecords,
    tombstones: Tombstones,
    /// The feed's staging files the audit log records as held.
    files: BTreeMap<String, HeldFile>,
    /// The staging files whose records are in `held`.
    loaded: HashSet<String>,
    cursor: ReadCursor,
    /// False while a comparison has the parts (and for good if it never gives them back).
    whole: bool,
}

impl LiveHoldings {
    /// Loads the records of `feed` that the output in `out` holds now, with its tombstones.
    pub fn load(out: &Path, feed: &'static FeedSchema) -> Result<Self, RecordsError> {
        let dir = out.join(AUDIT);
        let mut cursor = ReadCursor::default();
        let entries = read_new_entries(&dir, &mut cursor)
            .map_err(|e| RecordsError::Read { path: dir.clone(), message: e.to_string() })?;
        let how = LoadOptions { updated: feed.updated, ..LoadOptions::default() };
        let held = HeldRecords::load(out, &entries, feed.name, how)?;
        let prefix = staging_prefix(feed.name);
        let files: BTreeMap<String, HeldFile> =
            held_files(&entries).into_iter().filter(|(path, _)| path.starts_with(&prefix)).collect();
        let loaded = files.keys().cloned().collect();
        let tombstones = Tombstones::load(out, feed.name)?;
        Ok(LiveHoldings { feed, held, tombstones, files, loaded, cursor, whole: true })
    }

    /// Whether the holding can be used: a comparison that failed took its parts with it.
    pub fn is_whole(&self) -> bool {
        self.whole
    }

    /// Follows the audit log from where this holding got to: files first written to the feed's
    /// staging since add their records, as their latest versions. A file it holds records of
    /// deleted since (an uncommitted stream batch swept, which is rare) has the holding loaded
    /// afresh: what that file held may stand in an older copy elsewhere.
    pub fn refresh(&mut self, out: &Path) -> Result<(), RecordsError> {
        let dir = out.join(AUDIT);
        let entries = read_new_entries(&dir, &mut self.cursor)
            .map_err(|e| RecordsError::Read { path: dir.clone(), message: e.to_string() })?;
        let prefix = staging_prefix(self.feed.name);
        let deleted = |e: &Entry| matches!(&e.event, Event::FileDeleted { path, .. } if path.starts_with(&prefix));
        if entries.iter().any(deleted) {
            *self = LiveHoldings::load(out, self.feed)?;
            return Ok(());
        }
        for e in &entries {
            let Event::FileWritten { path, .. } = &e.event else { continue };
            if !path.starts_with(&prefix) {
                continue;
            }
            self.files.extend(held_files(std::slice::from_ref(e)));
            // A path written again is a rewrite (versions moved out of it): the records it still
            // holds were held already.
            if self.loaded.insert(path.clone()) {
                self.held.absorb_file(out, path, self.feed.updated, e.seq)?;
            }
        }
        Ok(())
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

/// The start of the paths of `feed`'s staging files.
fn staging_prefix(feed: &str) -> String {
    format!("{STAGING}/feed={feed}/")
}
