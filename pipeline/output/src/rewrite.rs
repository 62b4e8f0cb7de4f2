//! Taking rows out of a recorded Parquet file, crash-safely: the file's new content is written
//! in full under a side name ([`strays::erasure_side_name`](crate::strays::erasure_side_name)),
//! the caller appends and syncs the audit entry that records it, and only then is it put in
//! place ([`PendingRewrite::publish`]). A session that stops in between leaves the side file,
//! which the next one publishes or removes by what the log says
//! ([`strays::settle_erasures`](crate::strays::settle_erasures)). Erasure at a data subject's
//! request and the supersession of a record by its newer version both go through here.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::{BooleanArray, RecordBatch};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use tellonce_connectors::parquet_sink::{PartOptions, PartWriter, SinkError};
use tellonce_governance::audit::Event;
use tellonce_governance::audit::holdings::HeldFile;
use tellonce_governance::audit::reasons::DeleteReason;
use tellonce_schemas::identifiers::dates;

use crate::layout::STAGING;

/// Why a file could not be read or rewritten.
#[derive(Debug, thiserror::Error)]
pub enum RewriteError {
    /// The file cannot be read, or its new content cannot be put in place.
    #[error("cannot read {}: {message}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        message: String,
    },
    /// The new content cannot be written.
    #[error(transparent)]
    Sink(#[from] SinkError),
    /// The file differs from what the audit log recorded: it is not touched.
    #[error(
        "{path} differs from the SHA-256 the audit log recorded for it; nothing was taken out of it: run \
         `tellonce audit verify` and investigate"
    )]
    Tampered {
        /// The file, relative to the output root.
        path: String,
    },
}

/// A Parquet file's schema, batches and tellonce metadata (descriptions left out: the writer
/// adds them again from the schema).
pub struct FileContent {
    /// Its Arrow schema.
    pub schema: arrow_schema::SchemaRef,
    /// Every batch, in order.
    pub batches: Vec<RecordBatch>,
    /// Its `tellonce.*` key-value metadata.
    pub metadata: Vec<(String, String)>,
}

/// Reads every batch of a Parquet file.
pub fn read_parquet(path: &Path) -> Result<FileContent, RewriteError> {
    let err = |message: String| RewriteError::Read { path: path.to_owned(), message };
    let f = File::open(path).map_err(|e| err(e.to_string()))?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(f).map_err(|e| err(e.to_string()))?;
    let schema = builder.schema().clone();
    let metadata = tellonce_metadata(builder.metadata().file_metadata().key_value_metadata());
    let reader = builder.build().map_err(|e| err(e.to_string()))?;
    let batches = reader.collect::<Result<Vec<_>, _>>().map_err(|e| err(e.to_string()))?;
    Ok(FileContent { schema, batches, metadata })
}

/// A file's `tellonce.*` key-value metadata, descriptions left out (the writer adds them again
/// from the schema).
fn tellonce_metadata(kv: Option<&Vec<parquet::file::metadata::KeyValue>>) -> Vec<(String, String)> {
    kv.map(|kv| {
        kv.iter()
            .filter(|k| k.key.starts_with("tellonce.") && !k.key.starts_with("tellonce.description."))
            .filter_map(|k| Some((k.key.clone(), k.value.clone()?)))
            .collect()
    })
    .unwrap_or_default()
}

/// A rewrite made and not yet put in place.
pub struct PendingRewrite {
    /// The audit entry recording it: `file_written` with the new content's hash, or
    /// `file_deleted` when no row is left.
    pub event: Event,
    side: PathBuf,
    target: Option<PathBuf>,
}

impl PendingRewrite {
    /// Puts the rewrite in place, once its audit entry is durable.
    pub fn publish(self) -> Result<(), RewriteError> {
        let err = |e: std::io::Error| RewriteError::Read { path: self.side.clone(), message: e.to_string() };
        match &self.target {
            Some(target) => std::fs::rename(&self.side, target).map_err(err)?,
            None => std::fs::remove_file(&self.side).map_err(err)?,
        }
        match self.side.parent() {
            Some(dir) => tellonce_connectors::atomic::sync_dir(dir).map_err(err),
            None => Ok(()),
        }
    }
}

/// A file's rewrite without some rows, and the rows taken out.
pub struct Rewrite {
    /// The rewrite, to publish once its entry is durable.
    pub pending: PendingRewrite,
    /// The rows taken out, in file order, in the file's schema.
    pub removed: Vec<RecordBatch>,
    /// The file's schema and metadata, for whoever keeps the rows taken out.
    pub schema: arrow_schema::SchemaRef,
    /// Its `tellonce.*` metadata.
    pub metadata: Vec<(String, String)>,
}

/// Prepares `file` without the given rows (numbered across the file, sorted): its new content,
/// keeping its schema and metadata, written in full under a side name; or, if no row would be
/// left, the file itself moved to the side name (recorded as deleted for `reason`). Nothing
/// readers see changes until [`PendingRewrite::publish`].
pub fn without_rows(out: &Path, file: &HeldFile, rows: &[u64], reason: DeleteReason) -> Result<Rewrite, RewriteError> {
    let path = file.on_disk(out);
    let err = |message: String| RewriteError::Read { path: path.clone(), message };
    // The file must be the one the audit log recorded: checked before anything of the rewrite
    // can be published (on its own thread while the file is decoded, when it is rewritten).
    let untampered = || -> Result<(), RewriteError> {
        let actual = tellonce_connectors::hashing::sha256_file(&path).map_err(|e| err(e.to_string()))?;
        match actual == file.sha256 {
            true => Ok(()),
            false => Err(RewriteError::Tampered { path: file.path.clone() }),
        }
    };
    // Read batch by batch: the rows kept go straight to the new file, so that rewriting a large
    // file for a few rows holds one batch, not the file, in memory.
    let f = File::open(&path).map_err(|e| err(e.to_string()))?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(f).map_err(|e| err(e.to_string()))?;
    let schema = builder.schema().clone();
    let metadata = tellonce_metadata(builder.metadata().file_metadata().key_value_metadata());
    let total = u64::try_from(builder.metadata().file_metadata().num_rows()).unwrap_or(0);
    let mut parts = file.path.split('/').collect::<Vec<_>>();
    let name = parts.pop().unwrap_or_default().to_owned();
    let side_name = crate::strays::erasure_side_name(&name);
    let side = path.with_file_name(&side_name);
    if total <= rows.len() as u64 {
        untampered()?;
        // Nothing would be left: the file goes, rather than an empty file staying behind.
        let removed = builder
            .build()
            .map_err(|e| err(e.to_string()))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| err(e.to_string()))?;
        let io = |e: std::io::Error| err(e.to_string());
        std::fs::rename(&path, &side).map_err(io)?;
        if let Some(dir) = path.parent() {
            tellonce_connectors::atomic::sync_dir(dir).map_err(io)?;
        }
        let event = Event::FileDeleted {
            path: file.path.clone(),
            sha256: file.sha256.clone(),
            reason: reason.to_string(),
            agreement: file.agreement.clone(),
        };
        return Ok(Rewrite { pending: PendingRewrite { event, side, target: None }, removed, schema, metadata });
    }
    let dataset = parts.first().copied().unwrap_or(STAGING).to_owned();
    let partition: Vec<(&str, &str)> = parts.iter().skip(1).filter_map(|p| p.split_once('=')).collect();
    let opts = PartOptions { metadata: metadata.clone(), replace_existing: true, ..PartOptions::default() };
    let mut writer = PartWriter::create(out, &dataset, &partition, &side_name, Arc::clone(&schema), &opts)?;
    let mut removed = Vec::new();
    let reader = builder.build().map_err(|e| err(e.to_string()))?;
    // Decoding and filtering on one thread while encoding on this one: a rewrite of a large
    // file is then bounded by its encoding, not by both in turn.
    std::thread::scope(|scope| -> Result<(), RewriteError> {
        let checked = scope.spawn(untampered);
        let (tx, rx) = std::sync::mpsc::sync_channel::<Result<(RecordBatch, RecordBatch), String>>(2);
        let decoder = scope.spawn(move || {
            let mut offset = 0u64;
            for batch in reader {
                let split = batch.map_err(|e| e.to_string()).and_then(|batch| {
                    let n = batch.num_rows() as u64;
                    let keep: BooleanArray =
                        (offset..offset + n).map(|r| Some(rows.binary_search(&r).is_err())).collect();
                    let drop: BooleanArray = keep.iter().map(|k| k.map(|k| !k)).collect();
                    offset += n;
                    let select = |mask: &BooleanArray| {
                        arrow_select::filter::filter_record_batch(&batch, mask).map_err(|e| e.to_string())
                    };
                    Ok((select(&keep)?, select(&drop)?))
                });
                let failed = split.is_err();
                if tx.send(split).is_err() || failed {
                    return;
                }
            }
        });
        let written = || -> Result<(), RewriteError> {
            for split in rx {
                let (kept, gone) = split.map_err(&err)?;
                if kept.num_rows() > 0 {
                    writer.write(&kept)?;
                }
                if gone.num_rows() > 0 {
                    removed.push(gone);
                }
            }
            Ok(())
        };
        // The receiver goes with the closure, so a decoder waiting to send stops.
        let written = written();
        let decoded = decoder.join().map_err(|_| err("the reading thread panicked".to_owned()));
        // A file that is not the one recorded is reported as such, whatever else failed.
        checked.join().map_err(|_| err("the hashing thread panicked".to_owned()))??;
        written.and(decoded)
    })?;
    let committed = writer.commit()?;
    let event = Event::FileWritten {
        dataset,
        path: file.path.clone(),
        sha256: committed.sha256,
        rows: committed.rows,
        bytes: committed.bytes,
        feed: file.feed.clone(),
        agreement: file.agreement.clone(),
        retention_until: file.retention_until.map(dates::format),
    };
    Ok(Rewrite { pending: PendingRewrite { event, side, target: Some(path) }, removed, schema, metadata })
}
