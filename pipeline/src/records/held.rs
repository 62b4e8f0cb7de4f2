//! The records of one feed held in staging now: for each `record_id`, where its current
//! version is and the digest of its content.
//!
//! Built from the audit log's holdings and two columns of each staging file (`record_id` and
//! `_record_digest`, and the feed's last-updated column where it has one), so that the cost of comparing an extract grows with what is held only by
//! those two columns, never by the records' content. A file written before staging had a digest
//! column is read whole once and its digests computed as the pseudonymiser would.

use std::collections::HashMap;
use std::fs::File;
use std::path::Path;

use arrow_array::cast::AsArray;
use arrow_array::types::Date32Type;
use arrow_array::{Array, RecordBatch};
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use tellonce_governance::audit::holdings::held_files;
use tellonce_governance::audit::{Entry, Event};
use tellonce_output::layout::STAGING;
use tellonce_schemas::staging::RECORD_DIGEST;

use super::RecordsError;
use super::digest::{DIGEST_BYTES, row_digests};

/// The column every feed identifies its records by.
pub const RECORD_ID: &str = "record_id";

/// Where a held version of a record is: its staging file (relative to the output root) and its
/// row, numbered across the file.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Location {
    /// The staging file.
    pub file: String,
    /// The row across the file.
    pub row: u64,
}

/// A record as held: its latest version's digest and place, and any older copies (left by an
/// earlier release, which staged a re-sent record again).
#[derive(Debug)]
struct Held {
    digest: [u8; DIGEST_BYTES],
    /// The latest version's last-updated date (days since 1970), [`NO_DATE`] without one.
    updated: i32,
    latest: Place,
    order: u64,
    older: Vec<Place>,
}

/// A held version without a last-updated date.
const NO_DATE: i32 = i32::MIN;

/// A [`Location`] with its file as an index into [`HeldRecords::files`]: a record held costs
/// a few bytes, not a copy of its file's path.
#[derive(Debug, Clone, Copy)]
struct Place {
    file: u32,
    row: u64,
}

/// What a record of an input is, against the records held.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Not held: staged.
    New,
    /// Held with other content: staged, and the versions held move to history.
    Changed(Vec<Location>),
    /// Held with the same content: not staged again; any older copies move to history.
    Unchanged(Vec<Location>),
}

/// The records of one feed held in staging.
#[derive(Debug, Default)]
pub struct HeldRecords {
    by_id: HashMap<Box<str>, Held>,
    files: Vec<String>,
}

impl HeldRecords {
    /// The records of `feed` in the staging files the audit log `entries` holds, leaving out
    /// files whose name starts with `skip_prefix` (the input's own parts, on a forced re-run),
    /// with the feed's last-updated column `updated` where it has one.
    pub fn load(
        out: &Path,
        entries: &[Entry],
        feed: &str,
        updated: Option<&str>,
        skip_prefix: Option<&str>,
    ) -> Result<Self, RecordsError> {
        // Files are ordered by when their path was first written: a rewrite (an erasure, a
        // supersession) records the file again without making its records newer.
        let mut first_written: HashMap<&str, u64> = HashMap::new();
        for e in entries {
            match &e.event {
                Event::FileWritten { path, .. } => {
                    first_written.entry(path.as_str()).or_insert(e.seq);
                }
                Event::FileDeleted { path, .. } => {
                    first_written.remove(path.as_str());
                }
                _ => {}
            }
        }
        let prefix = format!("{STAGING}/feed={feed}/");
        let mut files: Vec<(u64, String)> = held_files(entries)
            .into_values()
            .filter(|f| f.dataset == STAGING && f.path.starts_with(&prefix))
            .filter(|f| skip_prefix.is_none_or(|p| !f.path[prefix.len()..].starts_with(p)))
            .map(|f| (first_written.get(f.path.as_str()).copied().unwrap_or(f.seq), f.path))
            .collect();
        files.sort();
        let mut held = HeldRecords::default();
        for (order, rel) in files {
            let path = rel.split('/').fold(out.to_path_buf(), |p, c| p.join(c));
            let mut row = 0u64;
            let file = held.file_index(&rel);
            for batch in read_ids(&path, &rel, updated)? {
                let (ids, digests) = ids_and_digests(&batch, &rel)?;
                let dates =
                    updated.and_then(|u| batch.column_by_name(u)).and_then(|c| c.as_primitive_opt::<Date32Type>());
                for (i, digest) in digests.into_iter().enumerate() {
                    if ids.is_valid(i) {
                        let date = dates.filter(|d| d.is_valid(i)).map_or(NO_DATE, |d| d.value(i));
                        held.add(ids.value(i), digest, date, Place { file, row: row + i as u64 }, order);
                    }
                }
                row += batch.num_rows() as u64;
            }
        }
        Ok(held)
    }

    fn file_index(&mut self, rel: &str) -> u32 {
        self.files.push(rel.to_owned());
        u32::try_from(self.files.len() - 1).unwrap_or(u32::MAX)
    }

    fn location(&self, p: Place) -> Location {
        let file = self.files.get(p.file as usize).cloned().unwrap_or_default();
        Location { file, row: p.row }
    }

    /// Every version held of a record, the latest first.
    fn versions(&self, h: &Held) -> Vec<Location> {
        std::iter::once(h.latest).chain(h.older.iter().copied()).map(|p| self.location(p)).collect()
    }

    fn add(&mut self, id: &str, digest: [u8; DIGEST_BYTES], updated: i32, at: Place, order: u64) {
        match self.by_id.get_mut(id) {
            None => {
                self.by_id.insert(id.into(), Held { digest, updated, latest: at, order, older: Vec::new() });
            }
            Some(h) if order >= h.order => {
                let was = std::mem::replace(&mut h.latest, at);
                h.older.push(was);
                (h.digest, h.updated, h.order) = (digest, updated, order);
            }
            Some(h) => h.older.push(at),
        }
    }

    /// Every record held, with every version of it.
    pub fn all(&self) -> impl Iterator<Item = (&str, Vec<Location>)> {
        self.by_id.iter().map(|(id, h)| (id.as_ref(), self.versions(h)))
    }

    /// Every version held of `record_id`, the latest first; empty when none is held.
    pub fn versions_of(&self, record_id: &str) -> Vec<Location> {
        self.by_id.get(record_id).map(|h| self.versions(h)).unwrap_or_default()
    }

    /// How many records are held.
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    /// Whether no record is held.
    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    /// The last-updated date (days since 1970) of the latest version held of `record_id`, if
    /// it is held and the version has one.
    pub fn updated_of(&self, record_id: &str) -> Option<i32> {
        self.by_id.get(record_id).map(|h| h.updated).filter(|d| *d != NO_DATE)
    }

    /// What a record with this reference and content digest is.
    pub fn judge(&self, record_id: &str, digest: &[u8; DIGEST_BYTES]) -> Verdict {
        match self.by_id.get(record_id) {
            None => Verdict::New,
            Some(h) if &h.digest == digest => Verdict::Unchanged(h.older.iter().map(|p| self.location(*p)).collect()),
            Some(h) => Verdict::Changed(self.versions(h)),
        }
    }
}

/// The batches of a staging file, with only `record_id`, `_record_digest` and the last-updated
/// column `updated` (where the file has it) if the file has a digest column, else whole.
fn read_ids(path: &Path, rel: &str, updated: Option<&str>) -> Result<Vec<RecordBatch>, RecordsError> {
    let err = |message: String| RecordsError::Read { path: path.to_owned(), message };
    let f = File::open(path).map_err(|e| err(e.to_string()))?;
    let mut builder = ParquetRecordBatchReaderBuilder::try_new(f).map_err(|e| err(e.to_string()))?;
    let schema = builder.schema().clone();
    if schema.field_with_name(RECORD_ID).is_err() {
        return Err(err(format!("{rel} has no {RECORD_ID} column")));
    }
    if schema.field_with_name(RECORD_DIGEST).is_ok() {
        let wanted = [Some(RECORD_ID), Some(RECORD_DIGEST), updated.filter(|u| schema.field_with_name(u).is_ok())];
        let mask = ProjectionMask::columns(builder.parquet_schema(), wanted.into_iter().flatten());
        builder = builder.with_projection(mask);
    }
    let reader = builder.build().map_err(|e| err(e.to_string()))?;
    reader.collect::<Result<Vec<_>, _>>().map_err(|e| err(e.to_string()))
}

/// A batch's record ids and digests (read, or computed for a file without them).
fn ids_and_digests<'b>(
    batch: &'b RecordBatch,
    rel: &str,
) -> Result<(&'b arrow_array::StringArray, Vec<[u8; DIGEST_BYTES]>), RecordsError> {
    let bad = |message: String| RecordsError::Read { path: rel.into(), message };
    let ids = batch
        .column_by_name(RECORD_ID)
        .and_then(|c| c.as_string_opt::<i32>())
        .ok_or_else(|| bad(format!("{RECORD_ID} is not text")))?;
    let digests = match batch.column_by_name(RECORD_DIGEST) {
        Some(col) => {
            let col = col.as_fixed_size_binary_opt().ok_or_else(|| bad(format!("{RECORD_DIGEST} is not binary")))?;
            (0..col.len())
                .map(|i| {
                    let mut d = [0u8; DIGEST_BYTES];
                    if col.is_valid(i) && col.value(i).len() == DIGEST_BYTES {
                        d.copy_from_slice(col.value(i));
                    }
                    d
                })
                .collect()
        }
        None => row_digests(batch.schema().as_ref(), batch.columns())
            .map_err(|source| RecordsError::Digest { file: rel.to_owned(), source })?,
    };
    Ok((ids, digests))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(file: &str, row: u64) -> Location {
        Location { file: file.to_owned(), row }
    }

    /// Adds a record held in `file` (named once per call, as a file is when loaded).
    fn add(held: &mut HeldRecords, id: &str, digest: [u8; 16], file: &str, row: u64, order: u64) {
        let file = match held.files.iter().position(|f| f == file) {
            Some(i) => i as u32,
            None => held.file_index(file),
        };
        held.add(id, digest, NO_DATE, Place { file, row }, order);
    }

    #[test]
    fn a_record_is_new_changed_or_unchanged_against_its_latest_version() {
        let mut held = HeldRecords::default();
        add(&mut held, "R1", [1; 16], "a", 0, 1);
        add(&mut held, "R2", [2; 16], "a", 1, 1);
        assert_eq!(held.judge("R3", &[1; 16]), Verdict::New);
        assert_eq!(held.judge("R1", &[1; 16]), Verdict::Unchanged(vec![]));
        assert_eq!(held.judge("R1", &[9; 16]), Verdict::Changed(vec![at("a", 0)]));
    }

    #[test]
    fn copies_an_earlier_release_staged_twice_are_superseded_by_the_latest() {
        let mut held = HeldRecords::default();
        // Added out of order: the later file's copy is the latest whatever the reading order.
        add(&mut held, "R1", [2; 16], "b", 4, 2);
        add(&mut held, "R1", [1; 16], "a", 0, 1);
        assert_eq!(held.len(), 1);
        assert_eq!(held.judge("R1", &[2; 16]), Verdict::Unchanged(vec![at("a", 0)]));
        assert_eq!(held.judge("R1", &[3; 16]), Verdict::Changed(vec![at("b", 4), at("a", 0)]));
    }
}
