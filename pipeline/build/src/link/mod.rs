//! Linkage: records about the same child and family, across agencies, on pseudonymised keys.
//!
//! The build tier reads the staging dataset (tokens, match keys and keyed Bloom encodings made
//! at the edge by the pseudonymise stage; never a clear identifier), clusters records into
//! persons ([`cluster`]), persons into families ([`family`]), gives both stable ids against
//! the identity index of the last build ([`ids`], [`index`]), and writes `links/` and
//! `id_history/` ([`output`]). Why these rules, and how they defend against attacks on the
//! encodings, is in `docs/linkage.md`.

pub mod blocking;
mod bloom_pass;
pub mod build;
pub(crate) mod change_reasons;
pub mod cluster;
mod co_resident;
pub mod compare;
pub mod decisions;
mod deferred;
pub mod eval;
pub mod eval_errors;
pub mod explain;
pub mod explain_home;
pub mod family;
pub mod frozen;
pub mod ids;
pub mod index;
pub mod input;
pub mod levels;
pub mod model_file;
pub mod output;
pub mod quality;
pub mod rates;
pub mod read_links;
pub mod records;
pub mod rules;
pub mod score;
pub mod settings;
mod settled;
pub mod term_frequency;
pub mod train;

use std::path::PathBuf;

pub use build::{BuildInput, BuildReport, build, staging_files};

/// Why a linkage build failed. Messages name files and rules, never a value.
#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    /// A staging file cannot be read.
    #[error("reading staging file {}: {message}", path.display())]
    Staging {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// The identity index cannot be read or written.
    #[error("identity index {}: {message}", path.display())]
    Index {
        /// The index file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// An output file cannot be written or removed.
    #[error("output {}: {source}", path.display())]
    Output {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// Writing a dataset part failed.
    #[error(transparent)]
    Sink(#[from] tellonce_connectors::parquet_sink::SinkError),
    /// The audit log cannot be read or appended to.
    #[error(transparent)]
    Audit(#[from] tellonce_governance::audit::AuditError),
    /// A file the last build left in `state/link/` cannot be read.
    #[error("{}: {message}", path.display())]
    State {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// The officers' decisions file (`[linkage] decisions`) is unusable.
    #[error("decisions file {}{}{}: {message}", path.display(), line_of(*line), column_of(column))]
    Decisions {
        /// The file.
        path: PathBuf,
        /// The line (0: the file as a whole).
        line: u64,
        /// The column (empty: the row as a whole).
        column: String,
        /// The rule broken (never the value).
        message: String,
    },
    /// A truth file for evaluation is unreadable.
    #[error("truth file {}: {message}", path.display())]
    Truth {
        /// The file.
        path: PathBuf,
        /// What is wrong, with the line.
        message: String,
    },
    /// A reference file of the outcome datasets (the localities lookup) is unusable.
    #[error("reference file {}: {message}", path.display())]
    Reference {
        /// The file.
        path: PathBuf,
        /// What is wrong, with the line and column (never the value).
        message: String,
    },
    /// A bug.
    #[error("linkage: {0}")]
    Internal(String),
}

fn line_of(line: u64) -> String {
    if line == 0 { String::new() } else { format!(", line {line}") }
}

fn column_of(column: &str) -> String {
    if column.is_empty() { String::new() } else { format!(", column {column}") }
}

#[cfg(test)]
mod co_resident_tests;
#[cfg(test)]
mod score_tests;
#[cfg(test)]
mod tests;
