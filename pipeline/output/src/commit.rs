//! The one way a file becomes part of a dataset: published (renamed into place), then recorded
//! by a `file_written` audit entry carrying its hash and what it was shared under. File ingest,
//! stream batches and the build all publish through [`publish`]; the caller appends the entry,
//! syncs the log, and only then acknowledges (marks the input done, commits offsets, moves the
//! identity index on), so that a crash at any point leaves either a recorded file or an
//! unrecorded one that the next session takes out (see [`crate::strays`]).

use tellonce_connectors::parquet_sink::{CommittedFile, SinkError, StagedPart};
use tellonce_governance::audit::Event;

use crate::faults;

/// What a published file holds and was shared under.
#[derive(Debug, Clone, Copy)]
pub struct Provenance<'a> {
    /// Its dataset (`staging`, `links`, `quarantine`…).
    pub dataset: &'a str,
    /// The feed whose records it holds, if one.
    pub feed: Option<&'a str>,
    /// The agreement (`id@version`) its records were shared under, if one.
    pub agreement: Option<&'a str>,
    /// When it must be deleted (YYYY-MM-DD), if an agreement says.
    pub retention_until: Option<&'a str>,
}

/// The `file_written` entry that records `file`.
pub fn file_written(file: &CommittedFile, provenance: Provenance<'_>) -> Event {
    Event::FileWritten {
        dataset: provenance.dataset.to_owned(),
        path: file.path.clone(),
        sha256: file.sha256.clone(),
        rows: file.rows,
        bytes: file.bytes,
        feed: provenance.feed.map(str::to_owned),
        agreement: provenance.agreement.map(str::to_owned),
        retention_until: provenance.retention_until.map(str::to_owned),
    }
}

/// Publishes a staged part and returns it with the entry that records it, for the caller to
/// append before anything acknowledges the file.
///
/// # Errors
///
/// The rename (or the folder sync after it) failed; the part is not visible.
pub fn publish(part: StagedPart, provenance: Provenance<'_>) -> Result<(CommittedFile, Event), SinkError> {
    let file = part.publish()?;
    // A crash here leaves a visible file the log does not record: the next session removes it.
    faults::reached(faults::COMMIT_PUBLISHED);
    let event = file_written(&file, provenance);
    Ok((file, event))
}
