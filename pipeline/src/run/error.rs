//! What stops a whole run, and what it maps from.

use std::path::PathBuf;

use tellonce_connectors::parquet_sink::SinkError;
use tellonce_governance::KeyError;
use tellonce_governance::agreement::{self};
use tellonce_governance::audit::AuditError;

use crate::reference::LookupError;

/// Failures that stop the whole run.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The key file is missing, unsafe or malformed.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// The postcode lookup is unreadable.
    #[error(transparent)]
    Lookup(#[from] LookupError),
    /// The output root cannot be written.
    #[error("cannot write output {path}: {source}")]
    Output {
        /// What could not be written.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A Parquet file could not be written.
    #[error(transparent)]
    Sink(#[from] SinkError),
    /// The audit log cannot be opened or appended to: nothing is processed without it.
    #[error(transparent)]
    Audit(#[from] AuditError),
    /// The agreements directory cannot be read.
    #[error(transparent)]
    Agreements(#[from] agreement::AgreementError),
    /// Another session holds the output directory in a way this one cannot share.
    #[error(
        "another tellonce session is using this output (it holds {path}): a file run, retention or erasure needs \
         the output to itself, and builds run one at a time; wait for it to finish"
    )]
    Busy {
        /// The lock file.
        path: PathBuf,
    },
    /// The linkage build failed (the staging dataset written before it stays).
    #[error(transparent)]
    Link(#[from] tellonce_build::link::LinkError),
    /// The theme mapping is unreadable or does not fit the feeds.
    #[error(transparent)]
    Themes(#[from] tellonce_build::outcomes::themes::ThemesError),
    /// A stream session or reset cannot go on (names the brokers, topic or partition).
    #[error("stream: {0}")]
    Stream(#[from] crate::stream::error::StreamError),
    /// The records held cannot be read, or an earlier version cannot be moved to history.
    #[error(transparent)]
    Records(#[from] crate::records::RecordsError),
    /// A question about linkage names no officer or no case reference: it would not be
    /// attributable in the audit log.
    #[error("{0} is required (recorded in the audit log) and must not be empty")]
    Unattributed(&'static str),
    /// A record's linkage cannot be explained.
    #[error(transparent)]
    Explain(#[from] tellonce_build::link::explain::ExplainError),
    /// A condition that is a bug, not bad input or a full disk.
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<tellonce_output::lock::LockError> for RunError {
    fn from(e: tellonce_output::lock::LockError) -> Self {
        match e {
            tellonce_output::lock::LockError::Busy { path } => RunError::Busy { path },
            tellonce_output::lock::LockError::Io { path, source } => RunError::Output { path, source },
        }
    }
}

impl From<tellonce_output::strays::RecordedClearError> for RunError {
    fn from(e: tellonce_output::strays::RecordedClearError) -> Self {
        match e {
            tellonce_output::strays::RecordedClearError::Clear(e) => e.into(),
            tellonce_output::strays::RecordedClearError::Audit(e) => e.into(),
        }
    }
}

impl From<tellonce_output::strays::ClearError> for RunError {
    fn from(e: tellonce_output::strays::ClearError) -> Self {
        RunError::Output { path: e.path, source: e.source }
    }
}
