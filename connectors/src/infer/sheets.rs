//! Which sheet of a workbook a proposal reads when none is named: the one holding the table.
//!
//! A run reads the first sheet shown unless the mapping names one, but a partner's workbook often
//! keeps a cover sheet ("Read Me", notes on the extract) in front of its data. Profiled, a cover
//! sheet places no heading, and the proposal would name it. So each sheet shown (at most
//! [`MAX_SHEETS`]) is profiled on its first [`SCORE_ROWS`] rows, and the one whose header places
//! the most headings on the feed's columns is proposed, the first shown on a tie (the sheet a run
//! reads by default). The proposal names it and the sheets left. A sheet named by the caller
//! (`--sheet`) is read as named.

use std::path::Path;

use calamine::{Reader, SheetVisible};
use tellonce_schemas::FeedSchema;

use super::{InferError, Proposal, infer};
use crate::file_source::sample::sample;
use crate::file_source::{FileFormat, SourceError};

/// The most sheets profiled to find the table.
const MAX_SHEETS: usize = 20;
/// The rows of each sheet profiled to find the table.
const SCORE_ROWS: usize = 200;

/// The sheet a proposal chose, and those it left.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SheetChoice {
    /// The sheet proposed.
    pub chosen: String,
    /// The other sheets shown, with the headings each placed (0 for one that holds no header).
    pub left: Vec<(String, usize)>,
}

/// Why no proposal was made for a file.
#[derive(Debug, thiserror::Error)]
pub enum ProposeError {
    /// The file cannot be read (as a run would refuse it).
    #[error(transparent)]
    Source(#[from] SourceError),
    /// The file was sent without its header line.
    #[error(transparent)]
    Infer(#[from] InferError),
}

/// The proposal for the file at `path` against `feed`, sampling `rows` rows: of `sheet` if
/// named, else, for a workbook, of the sheet holding the table (see the module), said in the
/// proposal's [`Proposal::sheet_choice`].
pub fn propose(
    path: &Path,
    sheet: Option<&str>,
    rows: usize,
    feed: &'static FeedSchema,
) -> Result<Proposal, ProposeError> {
    let workbook = FileFormat::from_path(path).is_some_and(FileFormat::is_workbook);
    if sheet.is_some() || !workbook {
        return Ok(infer(sample(path, sheet, rows)?, feed)?);
    }
    let shown = shown_sheets(path);
    if shown.len() < 2 {
        return Ok(infer(sample(path, None, rows)?, feed)?);
    }
    let scored: Vec<(String, usize)> = shown
        .into_iter()
        .take(MAX_SHEETS)
        .map(|name| {
            let placed = sample(path, Some(&name), SCORE_ROWS).ok().and_then(|s| infer(s, feed).ok());
            (name, placed.map_or(0, |p| p.placed.len()))
        })
        .collect();
    // The most headings placed; the first shown on a tie.
    let best = scored.iter().enumerate().max_by_key(|(i, (_, n))| (*n, std::cmp::Reverse(*i))).map_or(0, |(i, _)| i);
    let chosen = scored[best].0.clone();
    let mut proposal = infer(sample(path, Some(&chosen), rows)?, feed)?;
    let left = scored.into_iter().enumerate().filter(|(i, _)| *i != best).map(|(_, s)| s).collect();
    proposal.sheet_choice = Some(SheetChoice { chosen, left });
    Ok(proposal)
}

/// The workbook's sheets shown (not hidden), in order, as written
/// ([`crate::file_source::sheet_names`]: a name that may be a person's is a place, `#2`, which
/// names the sheet as well); empty when it cannot be read (the sample then says why, as a run
/// would).
fn shown_sheets(path: &Path) -> Vec<String> {
    let Ok(book) = calamine::open_workbook_auto(path) else { return Vec::new() };
    book.sheets_metadata()
        .iter()
        .enumerate()
        .filter(|(_, s)| s.visible == SheetVisible::Visible)
        .map(|(i, s)| crate::file_source::sheet_names::label(&s.name, i + 1))
        .collect()
}
