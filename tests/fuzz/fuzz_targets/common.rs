//! Shared by the file-reading targets: the first input byte chooses the feed and the limits, the
//! rest is the file, written to a scratch file and read through `FileSource::open` exactly as
//! `run` reads a partner file.

use std::path::PathBuf;

use tellonce_connectors::file_source::{FileSource, FileSourceOptions, RawBatch};
use tellonce_schemas::FeedSchema;

/// What one fuzz input stands for.
pub struct Case {
    pub feed: &'static FeedSchema,
    pub opts: FileSourceOptions,
    /// The file's bytes.
    pub body: Vec<u8>,
}

/// Control byte: bits 0-2 the feed, bits 3-4 the longest record, bits 5-6 the batch size. Small
/// limits let small inputs reach long records and full batches.
pub fn case(data: &[u8]) -> Option<Case> {
    let (&ctl, body) = data.split_first()?;
    let names: Vec<&str> = tellonce_schemas::feed::names().collect();
    let feed = tellonce_schemas::feed::latest(names.get(usize::from(ctl & 7) % names.len().max(1))?)?;
    let max_line_bytes = [1, 16, 200, 65536][usize::from((ctl >> 3) & 3)];
    let batch_rows = [1, 2, 5, 8192][usize::from((ctl >> 5) & 3)];
    Some(Case { feed, opts: FileSourceOptions { batch_rows, max_line_bytes }, body: body.to_vec() })
}

/// The case's bytes in a scratch file of this process, named with `extension`.
pub fn scratch_file(body: &[u8], extension: &str) -> Option<PathBuf> {
    let path = std::env::temp_dir().join(format!("tellonce-fuzz-{}.{extension}", std::process::id()));
    std::fs::write(&path, body).ok()?;
    Some(path)
}

/// Reads every batch, checking the documented bounds of each.
pub fn drain(mut source: FileSource, feed: &FeedSchema, opts: FileSourceOptions) {
    while let Ok(Some(raw)) = source.next_batch() {
        check(&raw, feed, opts);
    }
    let _ = source.unknown_columns();
}

/// A batch holds at least one and at most `batch_rows` records, one column per schema column
/// plus `_position`, and no reject keeps more than `max_line_bytes` bytes.
pub fn check(raw: &RawBatch, feed: &FeedSchema, opts: FileSourceOptions) {
    let records = raw.batch.num_rows() + raw.rejects.len();
    assert!(records >= 1 && records <= opts.batch_rows, "{records} records in a batch of {}", opts.batch_rows);
    assert_eq!(raw.batch.num_columns(), feed.columns.len() + 1);
    for r in &raw.rejects {
        assert!(r.raw.len() <= opts.max_line_bytes, "reject keeps {} > {} bytes", r.raw.len(), opts.max_line_bytes);
    }
}
