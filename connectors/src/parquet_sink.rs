//! Parquet dataset files, written under a temp name and committed atomically.
//!
//! A [`PartWriter`] writes one file of a Hive-partitioned dataset
//! (`<root>/<dataset>/<key>=<value>/…/<file_name>`), zstd-compressed, with each column's
//! description in the file's key-value metadata. Until [`PartWriter::commit`] the file has a
//! hidden temp name; commit finishes the footer, fsyncs, renames and fsyncs the directory, so
//! a file is visible under its final name only when it is complete and durable. A writer
//! dropped without commit removes its temp file.
//!
//! ```
//! use std::sync::Arc;
//! use arrow_array::{ArrayRef, Int64Array, RecordBatch};
//! use arrow_schema::{DataType, Field, Schema};
//! use tellonce_connectors::parquet_sink::{PartOptions, PartWriter};
//! # let dir = tempfile::tempdir().unwrap();
//! let schema = Arc::new(Schema::new(vec![Field::new("n", DataType::Int64, false)]));
//! let batch = RecordBatch::try_new(schema.clone(), vec![Arc::new(Int64Array::from(vec![1, 2])) as ArrayRef])?;
//! let mut w = PartWriter::create(dir.path(), "staging", &[("feed", "police")], "part-0.parquet", schema, &PartOptions::default())?;
//! w.write(&batch)?;
//! let file = w.commit()?;
//! assert_eq!((file.path.as_str(), file.rows), ("staging/feed=police/part-0.parquet", 2));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter};
use std::path::{Path, PathBuf};

use arrow_array::RecordBatch;
use arrow_schema::{DataType, SchemaRef};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::errors::ParquetError;
use parquet::file::metadata::KeyValue;
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::schema::types::ColumnPath;
use serde::{Deserialize, Serialize};

use crate::atomic::{check_component, sync_dir};
use crate::hashing::{HashingWriter, sha256_file};

/// The Arrow field metadata key whose value becomes a column's description.
pub const DESCRIPTION_KEY: &str = "description";

/// The prefix of the Parquet key-value metadata keys that hold column descriptions:
/// `tellonce.description.<column>`.
pub const DESCRIPTION_META_PREFIX: &str = "tellonce.description.";

/// The Arrow field metadata key that tunes how a column is stored, defined with the staging
/// columns that set it.
///
/// `plain`: no dictionary, no statistics and no compression, for values that are random by
/// construction (keyed tokens), where all three only cost time. `unique`: no dictionary,
/// compressed, for values that are (nearly) all distinct, such as record references.
pub use tellonce_schemas::staging::STORAGE_KEY;

/// How part files are written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartOptions {
    /// Most rows in one row group. Default 131 072.
    pub row_group_rows: usize,
    /// Most bytes a row group may hold in memory, encoded, before it is written out: whichever
    /// of this and `row_group_rows` is reached first closes the row group. Default 32 MiB. The
    /// open row group is held whole until it is flushed (keyed tokens uncompressed), so a bound
    /// in rows alone lets the writer's memory grow with the width of a row: 131 072 police rows
    /// of 29 tokens and three Bloom filters held about 90 MiB.
    pub row_group_bytes: usize,
    /// zstd compression level (1 to 22). Default 1: the columns it compresses in staging
    /// (Bloom filters, codes, dates) come out no smaller at 3 (the demo's staging: 113.9 MB at
    /// 3, 114.4 MB at 1), and ingest runs about 9 % faster.
    pub zstd_level: i32,
    /// Extra key-value metadata for the file footer (for example `tellonce.key_id`).
    pub metadata: Vec<(String, String)>,
    /// Whether publishing may replace an existing file of the same name whose content differs
    /// (a forced re-run). Default false: such a file is an error.
    pub replace_existing: bool,
}

impl Default for PartOptions {
    fn default() -> Self {
        PartOptions {
            row_group_rows: 131_072,
            row_group_bytes: 32 << 20,
            zstd_level: 1,
            metadata: Vec::new(),
            replace_existing: false,
        }
    }
}

/// Why a part file cannot be written or committed. Each names the file or directory.
#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    /// The partition directory cannot be created.
    #[error("cannot create directory {}: {source}", path.display())]
    CreateDir {
        /// The directory.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
    /// The temp file cannot be created (or a name is not a plain file name).
    #[error("cannot create {}: {source}", path.display())]
    Create {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
    /// Parquet encoding or writing failed.
    #[error("cannot write Parquet file {}: {source}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: ParquetError,
    },
    /// Flushing, syncing or renaming failed.
    #[error("cannot commit {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
    /// A different file already holds the final name.
    #[error("{} already exists with different content", path.display())]
    Exists {
        /// The file.
        path: PathBuf,
    },
}

/// A part file that is complete, durable and visible under its final name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommittedFile {
    /// Path relative to the dataset root, `/`-separated, for example
    /// `staging/feed=police/part-ab12cd34ef56ab12-00000.parquet`.
    pub path: String,
    /// Rows in the file.
    pub rows: u64,
    /// Bytes in the file.
    pub bytes: u64,
    /// SHA-256 of the file, lowercase hex.
    pub sha256: String,
}

type Sink = HashingWriter<BufWriter<File>>;

/// One Parquet file being written.
pub struct PartWriter {
    writer: Option<ArrowWriter<Sink>>,
    dir: PathBuf,
    tmp: PathBuf,
    target: PathBuf,
    relative: String,
    rows: u64,
    replace: bool,
    /// [`PartOptions::row_group_bytes`].
    row_group_bytes: usize,
}

impl std::fmt::Debug for PartWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PartWriter").field("path", &self.relative).field("rows", &self.rows).finish_non_exhaustive()
    }
}

impl PartWriter {
    /// Opens `<root>/<dataset>/<k1=v1>/<k2=v2>/.<file_name>.tmp` for writing, creating the
    /// directories. `dataset` is like `staging`; `partition` like `[("feed", "police")]`.
    ///
    /// Each Arrow field's `description` metadata goes into the file's key-value metadata as
    /// `tellonce.description.<column>` (and stays in the embedded Arrow schema). The dataset,
    /// partition keys and values and the file name must each be a plain name (no `/`, not `..`).
    pub fn create(
        root: &Path,
        dataset: &str,
        partition: &[(&str, &str)],
        file_name: &str,
        schema: SchemaRef,
        opts: &PartOptions,
    ) -> Result<PartWriter, SinkError> {
        let mut dir = root.join(dataset);
        let mut relative = dataset.to_owned();
        let mut names = vec![(dataset.to_owned(), "dataset name"), (file_name.to_owned(), "file name")];
        for (k, v) in partition {
            let part = format!("{k}={v}");
            dir.push(&part);
            relative.push('/');
            relative.push_str(&part);
            names.push((k.to_string(), "partition key"));
            names.push((v.to_string(), "partition value"));
        }
        relative.push('/');
        relative.push_str(file_name);
        let target = dir.join(file_name);
        let tmp = dir.join(format!(".{file_name}.tmp"));
        for (name, what) in &names {
            check_component(name, what).map_err(|source| SinkError::Create { path: target.clone(), source })?;
        }
        if partition.iter().any(|(k, _)| k.contains('=')) {
            let source = io::Error::new(io::ErrorKind::InvalidInput, "a partition key contains '='");
            return Err(SinkError::Create { path: target, source });
        }

        fs::create_dir_all(&dir).map_err(|source| SinkError::CreateDir { path: dir.clone(), source })?;
        let file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&tmp)
            .map_err(|source| SinkError::Create { path: tmp.clone(), source })?;
        // From here on, a failure must remove the temp file: build the writer first, then
        // let `Drop` clean up on any later error.
        let mut part = PartWriter {
            writer: None,
            dir,
            tmp,
            target,
            relative,
            rows: 0,
            replace: opts.replace_existing,
            row_group_bytes: opts.row_group_bytes.max(1),
        };
        let level = ZstdLevel::try_new(opts.zstd_level)
            .map_err(|source| SinkError::Write { path: part.target.clone(), source })?;
        let mut kv: Vec<KeyValue> = schema
            .fields()
            .iter()
            .filter_map(|f| {
                f.metadata()
                    .get(DESCRIPTION_KEY)
                    .map(|d| KeyValue::new(format!("{DESCRIPTION_META_PREFIX}{}", f.name()), d.clone()))
            })
            .collect();
        kv.extend(opts.metadata.iter().map(|(k, v)| KeyValue::new(k.clone(), v.clone())));
        let mut props = WriterProperties::builder()
            .set_compression(Compression::ZSTD(level))
            .set_max_row_group_size(opts.row_group_rows.max(1))
            .set_key_value_metadata(Some(kv));
        for f in schema.fields() {
            // The leaf of a list column is `<name>.list.<item>`: the hint applies to its values.
            let path = match f.data_type() {
                DataType::List(item) => ColumnPath::new(vec![f.name().clone(), "list".to_owned(), item.name().clone()]),
                _ => ColumnPath::from(f.name().as_str()),
            };
            match f.metadata().get(STORAGE_KEY).map(String::as_str) {
                Some("plain") => {
                    props = props
                        .set_column_dictionary_enabled(path.clone(), false)
                        .set_column_statistics_enabled(path.clone(), EnabledStatistics::None)
                        .set_column_compression(path, Compression::UNCOMPRESSED);
                }
                Some("unique") => props = props.set_column_dictionary_enabled(path, false),
                _ => {}
            }
        }
        let props = props.build();
        let sink = HashingWriter::new(BufWriter::new(file));
        let writer = ArrowWriter::try_new(sink, schema, Some(props))
            .map_err(|source| SinkError::Write { path: part.target.clone(), source })?;
        part.writer = Some(writer);
        Ok(part)
    }

    /// Appends a batch (its schema must be the writer's).
    pub fn write(&mut self, batch: &RecordBatch) -> Result<(), SinkError> {
        let Some(writer) = self.writer.as_mut() else {
            return Err(SinkError::Write {
                path: self.target.clone(),
                source: ParquetError::General("the writer has already failed".to_owned()),
            });
        };
        // The row group closes at its row limit (inside `write`) or once it holds
        // `row_group_bytes` encoded, whichever comes first.
        let written = writer
            .write(batch)
            .and_then(|()| if writer.memory_size() >= self.row_group_bytes { writer.flush() } else { Ok(()) });
        match written {
            Ok(()) => {
                self.rows += batch.num_rows() as u64;
                Ok(())
            }
            Err(source) => {
                // A failed write may leave a row group half-encoded: never finish this file.
                self.writer = None;
                Err(SinkError::Write { path: self.target.clone(), source })
            }
        }
    }

    /// Rows written so far.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// The path the file will have, relative to the dataset root (`/`-separated).
    pub fn relative_path(&self) -> &str {
        &self.relative
    }

    /// Finishes the Parquet footer, fsyncs the file, renames it to its final name and fsyncs
    /// the directory. Only then is the file visible under its final name.
    ///
    /// The same as [`PartWriter::finish`] then [`StagedPart::publish`].
    pub fn commit(self) -> Result<CommittedFile, SinkError> {
        self.finish()?.publish()
    }

    /// Finishes the Parquet footer and fsyncs the file, which stays under its temporary name:
    /// an input written as several parts finishes them all before publishing any, so that a
    /// failure while writing a later part leaves no earlier part visible.
    pub fn finish(mut self) -> Result<StagedPart, SinkError> {
        let Some(writer) = self.writer.take() else {
            return Err(SinkError::Write {
                path: self.target.clone(),
                source: ParquetError::General("the writer has already failed".to_owned()),
            });
        };
        let sink = writer.into_inner().map_err(|source| SinkError::Write { path: self.target.clone(), source })?;
        let (buffered, sha256, bytes) = sink.finish();
        let file =
            buffered.into_inner().map_err(|e| SinkError::Io { path: self.tmp.clone(), source: e.into_error() })?;
        file.sync_all().map_err(|source| SinkError::Io { path: self.tmp.clone(), source })?;
        drop(file);
        // The temp file now belongs to the staged part, which removes it if never published.
        let tmp = std::mem::take(&mut self.tmp);
        Ok(StagedPart {
            dir: std::mem::take(&mut self.dir),
            tmp,
            target: std::mem::take(&mut self.target),
            replace: self.replace,
            file: CommittedFile { path: std::mem::take(&mut self.relative), rows: self.rows, bytes, sha256 },
        })
    }
}

/// A complete, durable part file still under its temporary name.
#[derive(Debug)]
pub struct StagedPart {
    dir: PathBuf,
    tmp: PathBuf,
    target: PathBuf,
    replace: bool,
    file: CommittedFile,
}

impl StagedPart {
    /// Renames the file to its final name and fsyncs the directory: only now is it visible.
    ///
    /// If a file already has the final name (a replay rewriting the same name), it is replaced
    /// when its content is identical or when [`PartOptions::replace_existing`] is set, and
    /// [`SinkError::Exists`] is returned otherwise.
    pub fn publish(mut self) -> Result<CommittedFile, SinkError> {
        let io_err = |path: &Path| {
            let path = path.to_owned();
            move |source| SinkError::Io { path, source }
        };
        match fs::symlink_metadata(&self.target) {
            Ok(meta) => {
                let same = meta.is_file()
                    && meta.len() == self.file.bytes
                    && sha256_file(&self.target).map_err(io_err(&self.target))? == self.file.sha256;
                let replaceable = self.replace && meta.is_file();
                if !(same || replaceable) {
                    return Err(SinkError::Exists { path: self.target.clone() });
                }
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(SinkError::Io { path: self.target.clone(), source: e }),
        }
        fs::rename(&self.tmp, &self.target).map_err(io_err(&self.target))?;
        // The temp name is gone: nothing for Drop to remove.
        self.tmp = PathBuf::new();
        sync_dir(&self.dir).map_err(io_err(&self.dir))?;
        Ok(self.file.clone())
    }

    /// The file as it will be listed once published.
    pub fn file(&self) -> &CommittedFile {
        &self.file
    }
}

impl Drop for StagedPart {
    /// A staged part never published removes its temp file.
    fn drop(&mut self) {
        if !self.tmp.as_os_str().is_empty() {
            let _ = fs::remove_file(&self.tmp);
        }
    }
}

impl Drop for PartWriter {
    /// A writer not committed removes its temp file: a write that fails half way never
    /// becomes visible.
    fn drop(&mut self) {
        drop(self.writer.take());
        if !self.tmp.as_os_str().is_empty() {
            let _ = fs::remove_file(&self.tmp);
        }
    }
}

#[cfg(test)]
mod tests;
