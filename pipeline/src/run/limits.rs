//! `[limits]`: batch, record and file sizes and the worker count of a file run, checked here
//! beside the ingest code that obeys them.

use serde::Deserialize;

/// Longest record the sources may be told to accept: 16 MiB.
pub const MAX_LINE_BYTES: usize = 16 << 20;

/// Largest in-memory batch allowed by `batch_rows` at a typical record size: 1 GiB.
const MAX_BATCH_BYTES: usize = 1 << 30;

/// `[limits]`; every field has a default.
#[derive(Debug, Deserialize)]
#[serde(default)]
pub struct LimitsFile {
    /// Rows per in-memory batch.
    pub batch_rows: usize,
    /// Longest accepted record, in bytes.
    pub max_line_bytes: usize,
    /// Rows per Parquet row group.
    pub row_group_rows: usize,
    /// Rows per Parquet file before a new part is started.
    pub max_file_rows: u64,
    /// Worker threads for validation and pseudonymisation (0: one per core).
    pub workers: usize,
}

impl Default for LimitsFile {
    fn default() -> Self {
        LimitsFile {
            batch_rows: 8192,
            max_line_bytes: 1_048_576,
            row_group_rows: 131_072,
            max_file_rows: 1_000_000,
            workers: 0,
        }
    }
}

impl LimitsFile {
    /// Checks the section, adding a problem (naming its key) for each value out of range.
    pub fn validate(&self, problems: &mut Vec<String>) {
        let l = self;
        if l.batch_rows == 0 || l.batch_rows > 1_000_000 {
            problems.push(format!("limits.batch_rows = {} must be between 1 and 1000000", l.batch_rows));
        }
        if !(256..=MAX_LINE_BYTES).contains(&l.max_line_bytes) {
            problems
                .push(format!("limits.max_line_bytes = {} must be between 256 and {MAX_LINE_BYTES}", l.max_line_bytes));
        }
        if l.batch_rows.saturating_mul(l.max_line_bytes.min(4096)) > MAX_BATCH_BYTES {
            problems.push(format!(
                "limits.batch_rows = {} is too large: batches would exceed {} MiB",
                l.batch_rows,
                MAX_BATCH_BYTES >> 20
            ));
        }
        if l.workers > 256 {
            problems.push(format!("limits.workers = {} must be at most 256 (0 means one per core)", l.workers));
        }
        if l.row_group_rows == 0 {
            problems.push("limits.row_group_rows must be at least 1".to_owned());
        }
        if l.max_file_rows == 0 {
            problems.push("limits.max_file_rows must be at least 1".to_owned());
        }
    }

    /// Worker threads: as set, or one per core for 0.
    pub fn workers(&self) -> usize {
        if self.workers == 0 { std::thread::available_parallelism().map_or(2, usize::from) } else { self.workers }
    }
}
