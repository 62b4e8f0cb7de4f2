//! Partner records over time. A record's identity is its feed and its `record_id`, across
//! every input of the feed: an extract re-sent whole, or cumulatively, does not stage its
//! records twice.
//!
//! Storage design: staging holds the current version of each record and nothing else, so that
//! analysts and the build read it as it is, with any Parquet reader and no merge. When a newer
//! version arrives, the file holding the older one is rewritten without it (copy on write,
//! through the same crash-safe rewrite as erasure) and the older row moves, whole, to the
//! `history` dataset with when and by which input it was superseded: "as it was known on date D"
//! is the current rows together with the history rows superseded after D. The alternative,
//! merge on read with deletion vectors (Delta Lake, Iceberg), writes less per change but asks
//! every reader to apply the vectors, which DuckDB, Polars and pandas reading plain Parquet do
//! not; our changes are few per extract, so rewriting the few files they touch costs little.
//!
//! A record is judged by the digest of its shared content ([`digest`]) against the version held
//! ([`held`]); an erased record leaves a tombstone ([`tombstones`]), so a partner's next extract
//! cannot bring it back.

pub mod compare;
pub mod digest;
pub mod held;
pub mod history;
mod id_table;
pub mod key;
pub mod live;
pub mod marked;
pub mod reinstate;
pub mod scope;
pub mod tombstones;
pub mod withdrawals;
pub mod zeros;

use std::path::PathBuf;

/// Why the records held could not be read or moved.
#[derive(Debug, thiserror::Error)]
pub enum RecordsError {
    /// A staging file, or the tombstones, cannot be read.
    #[error("cannot read {}: {message}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why (never a value).
        message: String,
    },
    /// A staging file has a column the digest cannot encode.
    #[error("{file}: {source}")]
    Digest {
        /// The file, relative to the output root.
        file: String,
        /// The column.
        source: digest::UnsupportedColumn,
    },
    /// The tombstones cannot be written.
    #[error("cannot write {}: {source}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A file holding an earlier version cannot be rewritten.
    #[error(transparent)]
    Rewrite(#[from] tellonce_output::rewrite::RewriteError),
    /// The history part cannot be written.
    #[error(transparent)]
    Sink(#[from] tellonce_connectors::parquet_sink::SinkError),
    /// An input named for reinstatement is not one input of the feed the audit log knows.
    #[error("{message}")]
    InputNamed {
        /// What is wrong, with the inputs' ids where several are named so (never a value).
        message: String,
    },
}
