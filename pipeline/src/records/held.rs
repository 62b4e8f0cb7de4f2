//! The records of one feed held in staging now: for each `record_id`, where its current
//! version is and the digest of its content.
//!
//! Built from the audit log's holdings and two columns of each staging file (`record_id` and
//! `_record_digest`, and the feed's last-updated column where it has one), so that the cost of
//! comparing an extract grows with what is held only by those columns, never by the records'
//! content; and, with the input's [`Scope`], holding in memory only the records it names. A file
//! written before staging had a digest column is read whole once and its digests computed as
//! the pseudonymiser would.

use std::collections::HashMap;
use std::fs::File;
use std::path::Path;

use arrow_array::cast::AsArray;
use arrow_array::types::Date32Type;
use arrow_array::{Array, RecordBatch};
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use tellonce_build::link::input::{KEY_COLUMNS, RecordRefs};
use tellonce_governance::audit::holdings::held_files;
use tellonce_governance::audit::{Entry, Event};
use tellonce_output::layout::STAGING;
use tellonce_schemas::staging::RECORD_DIGEST;

use super::RecordsError;
use super::digest::{DIGEST_BYTES, row_digests};
use super::id_table::IdTable;
use super::scope::Scope;
use super::zeros::{self, PaddedForms};

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
    /// The input sent it (in a snapshot, say): not withdrawn as left out.
    seen: bool,
    /// Its latest version is in the snapshot's stated scope (`snapshot_where`; always without one).
    in_scope: bool,
    latest: Place,
    order: u64,
    /// Its older copies, an index into [`HeldRecords::older`]; [`NO_OLDER`] for none.
    older: u32,
}

/// A record held with no older copy.
const NO_OLDER: u32 = u32::MAX;

/// A held version without a last-updated date.
const NO_DATE: i32 = i32::MIN;

/// The file index of a record no longer held: its file was deleted since it was loaded (every
/// version in it moved to history). Judged as not held.
const GONE: u32 = u32::MAX;

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
    /// The references held, their indices those of `held`.
    ids: IdTable,
    held: Vec<Held>,
    /// Lists of older copies, for the few records that have them.
    older: Vec<Vec<Place>>,
    files: Vec<String>,
    /// Records outside the input's [`Scope`], with every version held, kept only for an input
    /// that withdraws what it leaves out (a snapshot).
    outside: Outside,
    /// The references held with leading zeros, by their digits without them.
    padded: PaddedForms,
}

/// The records held outside an input's scope, each with every version in the order their files
/// were first written (the latest last).
#[derive(Debug, Default)]
struct Outside {
    ids: IdTable,
    /// The first version of each, by its index in `ids`.
    at: Vec<Place>,
    /// Whether the latest version of each is in the snapshot's stated scope.
    scoped: Vec<bool>,
    /// The later versions of the few with more than one.
    more: HashMap<u32, Vec<Place>>,
}

impl Outside {
    /// Adds a version (files are added in the order they were first written: the latest last).
    fn add(&mut self, id: &str, at: Place, in_scope: bool) -> Result<(), RecordsError> {
        let (i, new) = self.ids.insert(id).ok_or_else(too_many)?;
        match new {
            true => {
                self.at.push(at);
                self.scoped.push(in_scope);
            }
            false => {
                self.more.entry(i).or_default().push(at);
                if let Some(s) = self.scoped.get_mut(i as usize) {
                    *s = in_scope;
                }
            }
        }
        Ok(())
    }

    /// The latest version of every record.
    fn latest(&self) -> impl Iterator<Item = Place> + '_ {
        (0..self.at.len() as u32).filter_map(|i| self.versions(i).next())
    }

    /// Every version of the record with index `i`, the latest first.
    fn versions(&self, i: u32) -> impl Iterator<Item = Place> + '_ {
        let later = self.more.get(&i).into_iter().flat_map(|v| v.iter().rev().copied());
        later.chain(self.at.get(i as usize).copied())
    }
}

/// More records held than an index of 32 bits can number.
fn too_many() -> RecordsError {
    RecordsError::Read { path: STAGING.into(), message: "more than 4 294 967 295 records held".into() }
}

/// Which records [`HeldRecords::load`] keeps.
#[derive(Debug, Clone, Copy, Default)]
pub struct LoadOptions<'a> {
    /// The feed's last-updated column, if it has one.
    pub updated: Option<&'a str>,
    /// Staging files whose names start with this are left out (the input's own parts, which a
    /// forced re-run replaces).
    pub skip_prefix: Option<&'a str>,
    /// The references the input names: records held outside it are left out (or, with
    /// `keep_outside`, kept aside with their versions only). `None`: every record.
    pub scope: Option<&'a Scope>,
    /// Keep the records outside the scope, for a snapshot to withdraw.
    pub keep_outside: bool,
    /// A snapshot's stated scope: a column and its values. A record whose latest version has
    /// none of them (or a file without the column) is out of it.
    pub stated: Option<(&'a str, &'a [String])>,
    /// The column the feed's records are known by under the agreement in force (`record_id`,
    /// or its token): a file held that lacks it was staged under an agreement that shared the
    /// reference otherwise, and is refused rather than compared as if it held other records.
    pub key_column: Option<&'a str>,
}

impl HeldRecords {
    /// The records of `feed` in the staging files the audit log `entries` holds, as `how`
    /// says.
    pub fn load(out: &Path, entries: &[Entry], feed: &str, how: LoadOptions<'_>) -> Result<Self, RecordsError> {
        let LoadOptions { updated, skip_prefix, scope, keep_outside, stated, key_column } = how;
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
        // Each file read on a thread of its own (as many at once as there are cores), then
        // merged in file order, so that the latest version of a record is the one it names.
        let read = |rel: &str| file_rows(out, rel, FileRead { updated, scope, keep_outside, stated, key_column });
        let mut held = HeldRecords::default();
        // As many files at a time as there are threads: only their rows wait to be merged.
        let threads = std::thread::available_parallelism().map_or(1, usize::from);
        for chunk in files.chunks(threads) {
            let read_all = in_parallel(chunk, |(_, rel)| read(rel));
            if read_all.len() != chunk.len() {
                let message = "a thread reading the records held stopped".to_owned();
                return Err(RecordsError::Read { path: out.join(STAGING), message });
            }
            for ((order, rel), rows) in chunk.iter().zip(read_all) {
                let file = held.file_index(rel);
                let rows = rows?;
                for (i, r) in rows.rows.iter().enumerate() {
                    let (id, at) = (rows.id(i), Place { file, row: r.row });
                    match r.digest {
                        Some(digest) => held.add(id, digest, r.updated, at, *order, r.in_scope)?,
                        None => held.outside.add(id, at, r.in_scope)?,
                    }
                }
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

    /// The older copies of a record.
    fn older_of(&self, h: &Held) -> &[Place] {
        self.older.get(h.older as usize).map_or(&[], Vec::as_slice)
    }

    /// Every version held of a record, the latest first.
    fn versions(&self, h: &Held) -> Vec<Location> {
        std::iter::once(h.latest).chain(self.older_of(h).iter().copied()).map(|p| self.location(p)).collect()
    }

    /// The record held as `record_id`, if any.
    fn find(&self, record_id: &str) -> Option<&Held> {
        self.ids.get(record_id).and_then(|i| self.held.get(i as usize)).filter(|h| h.latest.file != GONE)
    }

    /// Forgets the staging file `rel`, deleted since it was loaded: the records whose latest
    /// version it held are held no more. Returns false, changing nothing, if one of them has an
    /// older copy elsewhere (left by an earlier release), whose digest is not kept: the caller
    /// loads the holding afresh. Looks at every record, in memory.
    pub fn forget_file(&mut self, rel: &str) -> bool {
        let gone: Vec<u32> =
            (0..self.files.len() as u32).filter(|&i| self.files.get(i as usize).is_some_and(|f| f == rel)).collect();
        if gone.is_empty() {
            return true;
        }
        let older_elsewhere = self
            .held
            .iter()
            .any(|h| gone.contains(&h.latest.file) && self.older.get(h.older as usize).is_some_and(|o| !o.is_empty()));
        if older_elsewhere {
            return false;
        }
        for h in &mut self.held {
            if gone.contains(&h.latest.file) {
                h.latest.file = GONE;
            }
        }
        for list in &mut self.older {
            list.retain(|p| !gone.contains(&p.file));
        }
        true
    }

    /// Adds the records of the staging file `rel`, written after every file loaded so far (its
    /// audit entry numbered `order`), as the latest versions of those records: for a holding kept
    /// up to date while inputs arrive (a stream session's, see `records::live`). The versions it
    /// supersedes left staging as it was written, so no older copy is kept.
    pub fn absorb_file(
        &mut self,
        out: &Path,
        rel: &str,
        updated: Option<&str>,
        order: u64,
    ) -> Result<(), RecordsError> {
        let rows = file_rows(out, rel, FileRead { updated, ..FileRead::default() })?;
        let file = self.file_index(rel);
        for (i, r) in rows.rows.iter().enumerate() {
            let Some(digest) = r.digest else { continue };
            let at = Place { file, row: r.row };
            let (n, new) = self.ids.insert(rows.id(i)).ok_or_else(too_many)?;
            let fresh =
                Held { digest, updated: r.updated, seen: false, in_scope: true, latest: at, order, older: NO_OLDER };
            match new {
                true => self.held.push(fresh),
                false => {
                    if let Some(h) = self.held.get_mut(n as usize) {
                        if let Some(list) = self.older.get_mut(h.older as usize) {
                            list.clear();
                        }
                        *h = fresh;
                    }
                }
            }
        }
        Ok(())
    }

    fn add(
        &mut self,
        id: &str,
        digest: [u8; DIGEST_BYTES],
        updated: i32,
        at: Place,
        order: u64,
        in_scope: bool,
    ) -> Result<(), RecordsError> {
        let (i, new) = self.ids.insert(id).ok_or_else(too_many)?;
        let fresh = Held { digest, updated, seen: false, in_scope, latest: at, order, older: NO_OLDER };
        if new {
            self.held.push(fresh);
            self.padded.note(id, i);
            return Ok(());
        }
        let Some(h) = self.held.get_mut(i as usize) else { return Ok(()) };
        if h.latest.file == GONE {
            *h = fresh;
            return Ok(());
        }
        let was = match order >= h.order {
            true => {
                (h.digest, h.updated, h.order, h.in_scope) = (digest, updated, order, in_scope);
                std::mem::replace(&mut h.latest, at)
            }
            false => at,
        };
        if h.older == NO_OLDER {
            h.older = u32::try_from(self.older.len()).map_err(|_| too_many())?;
            self.older.push(Vec::new());
        }
        if let Some(list) = self.older.get_mut(h.older as usize) {
            list.push(was);
        }
        Ok(())
    }

    /// Notes that the input sent `record_id` (a snapshot does not withdraw it).
    pub fn see(&mut self, record_id: &str) {
        if let Some(h) = self.ids.get(record_id).and_then(|i| self.held.get_mut(i as usize)) {
            h.seen = true;
        }
    }

    /// Every record loaded that the input did not send ([`Self::see`]), with every version:
    /// those in the scope and, where kept, those outside it.
    pub fn unseen(&self) -> impl Iterator<Item = (&str, Vec<Location>, bool)> {
        // Read in the order files were first written: the latest version last, listed first.
        let outside = (0..self.outside.at.len() as u32).map(|i| {
            let scoped = self.outside.scoped.get(i as usize).copied().unwrap_or(false);
            (self.outside.ids.id(i), self.outside.versions(i).map(|p| self.location(p)).collect(), scoped)
        });
        let held = self.held.iter().enumerate().filter(|(_, h)| !h.seen && h.latest.file != GONE);
        held.map(|(i, h)| (self.ids.id(i as u32), self.versions(h), h.in_scope)).chain(outside)
    }

    /// How many records loaded are in the snapshot's stated scope (all, without one).
    pub fn in_scope_len(&self) -> usize {
        let held = self.held.iter().filter(|h| h.in_scope && h.latest.file != GONE).count();
        held + self.outside.scoped.iter().filter(|s| **s).count()
    }

    /// How many records loaded have their latest version in each staging file.
    pub fn latest_by_file(&self) -> impl Iterator<Item = (&str, u64)> {
        let mut counts = vec![0u64; self.files.len()];
        let latest = self.held.iter().map(|h| h.latest).chain(self.outside.latest());
        for p in latest {
            if let Some(n) = counts.get_mut(p.file as usize) {
                *n += 1;
            }
        }
        self.files.iter().map(String::as_str).zip(counts)
    }

    /// Every version held of `record_id`, the latest first; empty when none is held.
    pub fn versions_of(&self, record_id: &str) -> Vec<Location> {
        self.find(record_id).map(|h| self.versions(h)).unwrap_or_default()
    }

    /// How many records were loaded (in the scope, and outside it where kept): every record
    /// held when loaded with no scope, or for a snapshot.
    pub fn len(&self) -> usize {
        self.held.len() + self.outside.at.len()
    }

    /// Whether no record was loaded.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The last-updated date (days since 1970) of the latest version held of `record_id`, if
    /// it is held and the version has one.
    pub fn updated_of(&self, record_id: &str) -> Option<i32> {
        self.find(record_id).map(|h| h.updated).filter(|d| *d != NO_DATE)
    }

    /// Whether a record is held as `record_id`.
    pub fn holds(&self, record_id: &str) -> bool {
        self.find(record_id).is_some()
    }

    /// The one reference held with the digits of `record_id` under other leading zeros (see
    /// [`zeros`]), if `record_id` is made of digits and one such record is held.
    pub fn zero_form<'a>(&'a self, record_id: &'a str) -> zeros::OneForm<'a> {
        let Some(bare) = zeros::bare(record_id) else { return zeros::OneForm::None };
        if self.padded.ambiguous(bare) {
            return zeros::OneForm::Several;
        }
        let unpadded = Some(bare).filter(|b| *b != record_id && self.holds(b));
        let padded = self.padded.find(bare).map(|i| self.ids.id(i)).filter(|f| *f != record_id && self.holds(f));
        match (unpadded, padded) {
            (Some(_), Some(_)) => zeros::OneForm::Several,
            (Some(one), None) | (None, Some(one)) => zeros::OneForm::One(one),
            (None, None) => zeros::OneForm::None,
        }
    }

    /// What a record with this reference and content digest is.
    pub fn judge(&self, record_id: &str, digest: &[u8; DIGEST_BYTES]) -> Verdict {
        match self.find(record_id) {
            None => Verdict::New,
            Some(h) if &h.digest == digest => {
                Verdict::Unchanged(self.older_of(h).iter().map(|p| self.location(*p)).collect())
            }
            Some(h) => Verdict::Changed(self.versions(h)),
        }
    }
}

/// A row of a staging file as loaded: `digest` is `None` for a record outside the scope, kept
/// only to be withdrawn.
struct FileRow {
    /// The end of its reference in [`FileRows::ids`].
    id_end: usize,
    /// In the snapshot's stated scope (always without one).
    in_scope: bool,
    digest: Option<[u8; DIGEST_BYTES]>,
    updated: i32,
    row: u64,
}

/// The rows of one staging file as loaded, their references in one string.
#[derive(Default)]
struct FileRows {
    ids: String,
    rows: Vec<FileRow>,
}

impl FileRows {
    /// The reference of row `i`.
    fn id(&self, i: usize) -> &str {
        let start = if i == 0 { 0 } else { self.rows.get(i - 1).map_or(0, |r| r.id_end) };
        let end = self.rows.get(i).map_or(start, |r| r.id_end);
        self.ids.get(start..end).unwrap_or_default()
    }
}

/// How [`file_rows`] reads a staging file (see [`LoadOptions`]).
#[derive(Clone, Copy, Default)]
struct FileRead<'a> {
    updated: Option<&'a str>,
    scope: Option<&'a Scope>,
    keep_outside: bool,
    stated: Option<(&'a str, &'a [String])>,
    key_column: Option<&'a str>,
}

/// The rows of the staging file `rel` that [`HeldRecords::load`] keeps.
fn file_rows(out: &Path, rel: &str, how: FileRead<'_>) -> Result<FileRows, RecordsError> {
    let FileRead { updated, scope, keep_outside, stated, key_column } = how;
    let path = rel.split('/').fold(out.to_path_buf(), |p, c| p.join(c));
    let mut rows = FileRows::default();
    let mut row = 0u64;
    let extra = [updated, stated.map(|(column, _)| column)];
    for batch in read_ids(&path, rel, &extra, key_column)? {
        let batch = batch.map_err(|e| RecordsError::Read { path: path.clone(), message: e.to_string() })?;
        let (ids, digests) = ids_and_digests(&batch, rel)?;
        let dates = updated.and_then(|u| batch.column_by_name(u)).and_then(|c| c.as_primitive_opt::<Date32Type>());
        let codes = stated.and_then(|(c, _)| batch.column_by_name(c)).and_then(|c| c.as_string_opt::<i32>());
        for (i, digest) in digests.into_iter().enumerate() {
            let Some(id) = ids.key(i) else { continue };
            let (id, at) = (id.as_ref(), row + i as u64);
            let in_scope = scope.is_none_or(|s| s.may_name(id));
            if in_scope || keep_outside {
                let date = dates.filter(|d| d.is_valid(i)).map_or(NO_DATE, |d| d.value(i));
                let stated_in = match stated {
                    None => true,
                    Some((_, values)) => codes.is_some_and(|c| c.is_valid(i) && values.iter().any(|v| v == c.value(i))),
                };
                rows.ids.push_str(id);
                let id_end = rows.ids.len();
                let digest = in_scope.then_some(digest);
                rows.rows.push(FileRow { id_end, in_scope: stated_in, digest, updated: date, row: at });
            }
        }
        row += batch.num_rows() as u64;
    }
    Ok(rows)
}

/// The rows (numbered across the file) of the staging file `rel` whose reference `wanted`
/// answers for, with its answer.
pub(crate) fn rows_of<T>(
    out: &Path,
    rel: &str,
    wanted: impl Fn(&str) -> Option<T>,
) -> Result<Vec<(u64, T)>, RecordsError> {
    let path = rel.split('/').fold(out.to_path_buf(), |p, c| p.join(c));
    let err = |message: String| RecordsError::Read { path: path.clone(), message };
    let f = File::open(&path).map_err(|e| err(e.to_string()))?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(f).map_err(|e| err(e.to_string()))?;
    let mask = ProjectionMask::columns(builder.parquet_schema(), KEY_COLUMNS);
    let mut rows = Vec::new();
    let mut at = 0u64;
    for batch in builder.with_projection(mask).build().map_err(|e| err(e.to_string()))? {
        let batch = batch.map_err(|e| err(e.to_string()))?;
        let keys = RecordRefs::of(&batch);
        if !keys.has_key() {
            return Err(err(format!("{rel}: no {RECORD_ID} column, nor its token")));
        }
        for i in 0..batch.num_rows() {
            if let Some(answer) = keys.key(i).and_then(|k| wanted(&k)) {
                rows.push((at + i as u64, answer));
            }
        }
        at += batch.num_rows() as u64;
    }
    Ok(rows)
}

/// `f` of every item, on up to as many threads as there are cores, in the items' order.
fn in_parallel<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = std::thread::available_parallelism().map_or(1, usize::from).min(items.len()).max(1);
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut done: Vec<(usize, R)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut mine = Vec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(item) = items.get(i) else { break };
                        mine.push((i, f(item)));
                    }
                    mine
                })
            })
            .collect();
        // A worker that panicked loses its items: the caller finds fewer results than items.
        workers.into_iter().flat_map(|w| w.join().unwrap_or_default()).collect()
    });
    done.sort_by_key(|(i, _)| *i);
    done.into_iter().map(|(_, r)| r).collect()
}

/// The batches of a staging file, read one at a time, with only `record_id`, `_record_digest`
/// and the `extra` columns (the last-updated one, a snapshot's scope column: where the file has
/// them) if the file has a digest column, else whole.
fn read_ids(
    path: &Path,
    rel: &str,
    extra: &[Option<&str>],
    key_column: Option<&str>,
) -> Result<impl Iterator<Item = Result<RecordBatch, arrow_schema::ArrowError>>, RecordsError> {
    let err = |message: String| RecordsError::Read { path: path.to_owned(), message };
    let f = File::open(path).map_err(|e| err(e.to_string()))?;
    let mut builder = ParquetRecordBatchReaderBuilder::try_new(f).map_err(|e| err(e.to_string()))?;
    let schema = builder.schema().clone();
    if KEY_COLUMNS.iter().all(|c| schema.field_with_name(c).is_err()) {
        return Err(err(format!("{rel} has no {RECORD_ID} column, nor its token")));
    }
    if let Some(key) = key_column.filter(|k| schema.field_with_name(k).is_err()) {
        return Err(err(format!(
            "{rel} was staged under an agreement that shared {RECORD_ID} otherwise than the one in force (which \
             shares {key}): its records cannot be compared with new ones; restore the earlier treatment of \
             {RECORD_ID}, or stage the feed into a new output"
        )));
    }
    if schema.field_with_name(RECORD_DIGEST).is_ok() {
        let present = extra.iter().flatten().copied().filter(|c| schema.field_with_name(c).is_ok());
        let wanted: Vec<&str> = KEY_COLUMNS.into_iter().chain([RECORD_DIGEST]).chain(present).collect();
        let mask = ProjectionMask::columns(builder.parquet_schema(), wanted);
        builder = builder.with_projection(mask);
    }
    builder.build().map_err(|e| err(e.to_string()))
}

/// A batch's record references ([`RecordRefs::key`]) and digests (read, or computed for a file
/// without them).
fn ids_and_digests<'b>(
    batch: &'b RecordBatch,
    rel: &str,
) -> Result<(RecordRefs<'b>, Vec<[u8; DIGEST_BYTES]>), RecordsError> {
    let bad = |message: String| RecordsError::Read { path: rel.into(), message };
    let ids = RecordRefs::of(batch);
    if !ids.has_key() {
        return Err(bad(format!("no {RECORD_ID} column, nor its token")));
    }
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
        held.add(id, digest, NO_DATE, Place { file, row }, order, true).unwrap();
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
