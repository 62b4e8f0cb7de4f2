//! The identity index: which person and family each record had after the last build.
//!
//! One Parquet file, `state/link/index.parquet`, replaced atomically (temp file, fsync,
//! rename) only after the build's outputs and audit entries are durable. A build that stops
//! before that leaves the old index, and the next build starts from it again: the ids it then
//! gives are the ones the interrupted build would have given.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::{ArrayRef, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;

use super::LinkError;

pub use tellonce_output::layout::{BUILT_FROM_PATH, INDEX_PATH};

/// The last build's ids, by record.
#[derive(Debug, Default)]
pub struct Index {
    /// `(feed, record reference)` → (person id, family id), indices into the tables below.
    pub by_record: HashMap<(String, String), (u32, u32)>,
    /// Person ids.
    pub person_ids: Vec<String>,
    /// Family ids.
    pub family_ids: Vec<String>,
}

/// Interns strings into a table of distinct values.
#[derive(Default)]
struct Interner {
    table: Vec<String>,
    index: HashMap<String, u32>,
}

impl Interner {
    fn get(&mut self, s: &str) -> u32 {
        if let Some(&i) = self.index.get(s) {
            return i;
        }
        let i = self.table.len() as u32;
        self.table.push(s.to_owned());
        self.index.insert(s.to_owned(), i);
        i
    }
}

fn schema() -> Arc<Schema> {
    Arc::new(Schema::new(vec![
        Field::new("feed", DataType::Utf8, false),
        Field::new("record_ref", DataType::Utf8, false),
        Field::new("person_id", DataType::Utf8, false),
        Field::new("family_id", DataType::Utf8, false),
    ]))
}

/// Loads the index; no file means a first build (an empty index).
pub fn load(out: &Path) -> Result<Index, LinkError> {
    let mut by_record = HashMap::new();
    let tables = scan(
        out,
        &mut by_record,
        |map, rows| map.try_reserve(rows).map_err(|e| e.to_string()),
        |map, feed, rf, p, f| {
            map.insert((feed.to_owned(), rf.to_owned()), (p, f));
        },
    )?;
    Ok(Index { by_record, person_ids: tables.person_ids, family_ids: tables.family_ids })
}

/// The distinct ids of the last build, which [`scan`] numbers.
#[derive(Debug, Default)]
pub struct IdTables {
    /// Person ids.
    pub person_ids: Vec<String>,
    /// Family ids.
    pub family_ids: Vec<String>,
}

/// Reads the index row by row into `state`: `each(state, feed, record reference, person,
/// family)`, the ids as indices into the tables returned. `expect(state, rows)` is told the
/// footer's row count first, to size what the caller builds (an error there stops the scan).
/// No file: no rows, empty tables.
///
/// A caller that looks rows up in what it already holds copies no reference: a million
/// owned keys took a second to build and another to drop.
pub fn scan<S>(
    out: &Path,
    state: &mut S,
    expect: impl FnOnce(&mut S, usize) -> Result<(), String>,
    mut each: impl FnMut(&mut S, &str, &str, u32, u32),
) -> Result<IdTables, LinkError> {
    let path = out.join(INDEX_PATH);
    let err = |message: String| LinkError::Index { path: path.clone(), message };
    let file = match File::open(&path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(IdTables::default()),
        Err(e) => return Err(err(e.to_string())),
    };
    let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(|e| err(e.to_string()))?;
    // A footer is data, so a row count no memory can hold is an error, not an abort.
    let rows = usize::try_from(builder.metadata().file_metadata().num_rows()).unwrap_or(0);
    expect(state, rows).map_err(|e| err(format!("the footer's {rows} rows: {e}")))?;
    let reader = builder.with_batch_size(65_536).build().map_err(|e| err(e.to_string()))?;
    let (mut persons, mut families) = (Interner::default(), Interner::default());
    for batch in reader {
        let batch = batch.map_err(|e| err(e.to_string()))?;
        let col = |name: &str| {
            batch
                .column_by_name(name)
                .and_then(|c| c.as_string_opt::<i32>())
                .ok_or_else(|| err(format!("no text column {name}")))
        };
        let (feed, rf, p, f) = (col("feed")?, col("record_ref")?, col("person_id")?, col("family_id")?);
        for row in 0..batch.num_rows() {
            each(state, feed.value(row), rf.value(row), persons.get(p.value(row)), families.get(f.value(row)));
        }
    }
    Ok(IdTables { person_ids: persons.table, family_ids: families.table })
}

/// One record's ids, to save.
pub struct Entry<'a> {
    /// Feed.
    pub feed: &'a str,
    /// Record reference.
    pub record_ref: &'a str,
    /// Person id.
    pub person_id: &'a str,
    /// Family id.
    pub family_id: &'a str,
}

/// Replaces the index with `entries`, atomically.
pub fn save<'a>(out: &Path, entries: impl ExactSizeIterator<Item = Entry<'a>>) -> Result<PathBuf, LinkError> {
    let path = out.join(INDEX_PATH);
    let err = |message: String| LinkError::Index { path: path.clone(), message };
    let n = entries.len();
    let (mut feed, mut rf, mut p, mut f) =
        (Vec::with_capacity(n), Vec::with_capacity(n), Vec::with_capacity(n), Vec::with_capacity(n));
    for e in entries {
        feed.push(e.feed);
        rf.push(e.record_ref);
        p.push(e.person_id);
        f.push(e.family_id);
    }
    let columns: Vec<ArrayRef> =
        [feed, rf, p, f].into_iter().map(|v| Arc::new(StringArray::from(v)) as ArrayRef).collect();
    let batch = RecordBatch::try_new(schema(), columns).map_err(|e| err(e.to_string()))?;
    let props = WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::try_new(3).map_err(|e| err(e.to_string()))?))
        .build();
    let mut bytes = Vec::new();
    let mut writer = ArrowWriter::try_new(&mut bytes, schema(), Some(props)).map_err(|e| err(e.to_string()))?;
    writer.write(&batch).map_err(|e| err(e.to_string()))?;
    writer.close().map_err(|e| err(e.to_string()))?;
    tellonce_connectors::atomic::write_atomic(&path, &bytes).map_err(|e| err(e.to_string()))?;
    Ok(path)
}

/// Drops the records `gone` (feed, record reference) from the index, when retention or erasure
/// deleted them from staging: the index must not keep naming records the hub no longer holds.
/// Returns how many were dropped; rewrites nothing when none was there (or there is no index).
pub fn forget(out: &Path, gone: &HashSet<(String, String)>) -> Result<usize, LinkError> {
    if gone.is_empty() || !out.join(INDEX_PATH).exists() {
        return Ok(0);
    }
    let index = load(out)?;
    let before = index.by_record.len();
    let mut kept: Vec<_> = index.by_record.iter().filter(|(key, _)| !gone.contains(*key)).collect();
    let dropped = before - kept.len();
    if dropped == 0 {
        return Ok(0);
    }
    // In a stable order, so that the same index gives the same file.
    kept.sort_unstable_by(|a, b| a.0.cmp(b.0));
    let name = |table: &[String], i: u32| table.get(i as usize).map_or("", String::as_str).to_owned();
    let rows: Vec<(String, String, String, String)> = kept
        .into_iter()
        .map(|((feed, rf), (p, f))| {
            (feed.clone(), rf.clone(), name(&index.person_ids, *p), name(&index.family_ids, *f))
        })
        .collect();
    save(out, rows.iter().map(|(feed, rf, p, f)| Entry { feed, record_ref: rf, person_id: p, family_id: f }))?;
    Ok(dropped)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forget_drops_only_the_records_named() {
        let dir = tempfile::tempdir().unwrap();
        let rows = [("police", "P1", "PA", "FA"), ("police", "P2", "PA", "FA"), ("camhs", "P1", "PB", "FB")];
        save(
            dir.path(),
            rows.iter().map(|(feed, rf, p, f)| Entry { feed, record_ref: rf, person_id: p, family_id: f }),
        )
        .unwrap();
        let gone: HashSet<(String, String)> =
            [("police".to_owned(), "P1".to_owned()), ("housing".to_owned(), "H9".to_owned())].into_iter().collect();
        assert_eq!(forget(dir.path(), &gone).unwrap(), 1);
        let index = load(dir.path()).unwrap();
        let mut left: Vec<(String, String, String)> = index
            .by_record
            .iter()
            .map(|((feed, rf), (p, _))| (feed.clone(), rf.clone(), index.person_ids[*p as usize].clone()))
            .collect();
        left.sort();
        let want: Vec<(String, String, String)> =
            vec![("camhs".into(), "P1".into(), "PB".into()), ("police".into(), "P2".into(), "PA".into())];
        assert_eq!(left, want);
        assert_eq!(forget(dir.path(), &gone).unwrap(), 0);
        assert_eq!(forget(&dir.path().join("none"), &gone).unwrap(), 0);
    }
}
