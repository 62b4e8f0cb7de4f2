//! Errors of the agreements library: failures to read, and questions about feeds or fields
//! that do not exist. Problems *in* agreement files are not errors but [`super::Problem`]s, so
//! that all of them can be reported at once.

use std::io;
use std::path::PathBuf;

/// A failure that stops the agreements from being loaded or explained.
#[derive(Debug, thiserror::Error)]
pub enum AgreementError {
    /// The agreements directory could not be listed.
    #[error("cannot read the agreements directory {}", path.display())]
    ReadDir {
        /// The directory.
        path: PathBuf,
        /// The operating system's reason.
        source: io::Error,
    },
    /// An agreement file could not be read.
    #[error("cannot read the agreement file {}", path.display())]
    ReadFile {
        /// The file.
        path: PathBuf,
        /// The operating system's reason.
        source: io::Error,
    },
    /// A feed the schemas do not define.
    #[error("unknown feed `{feed}`: the schemas define {known}")]
    UnknownFeed {
        /// The feed asked about.
        feed: String,
        /// The feeds that exist, comma-separated.
        known: String,
    },
    /// A field that is not a column of the feed at any schema version.
    #[error("feed `{feed}` has no field `{field}` at any schema version")]
    UnknownField {
        /// The feed.
        feed: String,
        /// The field asked about.
        field: String,
    },
}

impl AgreementError {
    /// The error for a feed that does not exist, listing those that do.
    pub(crate) fn unknown_feed(feed: &str) -> Self {
        let known: Vec<&str> = tellonce_schemas::feed::names().collect();
        AgreementError::UnknownFeed { feed: feed.to_owned(), known: known.join(", ") }
    }
}
