//! Whether a workbook's table goes on over sheets a run would not read. A run reads one sheet
//! (the first shown, unless one is named); a partner who splits a year's extract over `Q1` and
//! `Q2` sends records on a sheet that would be left unread without a word.

use std::path::Path;
use std::sync::Arc;

use tellonce_schemas::FeedSchema;

use super::{Dialect, FileFormat, FileSource, FileSourceOptions};
use crate::mapping::Mapping;

/// The most sheets looked at.
const MAX_SHEETS: usize = 20;

/// What a run (refusing the workbook) and `sources check` (as an error) say of `sheets`, those
/// [`sheets_continuing`] found.
pub fn continued_message(sheets: &[String]) -> String {
    format!(
        "the workbook's sheets {} hold records under the feed's header too, and only the first sheet shown \
         is read: list the workbook once per sheet, each entry naming its sheet (sheet = \"...\"), or name \
         the one sheet to read",
        sheets.join(", ")
    )
}

/// Of `unread` (a workbook's sheets not read, as [`FileSource::unread_sheets`] names them), those
/// whose header the feed reads as the sheet read's is (through `mapping`, after the dialect's
/// skipped rows) and that hold at least one row under it.
pub fn sheets_continuing(
    path: &Path,
    format: FileFormat,
    feed: &'static FeedSchema,
    (dialect, mapping): (&Dialect, Option<Arc<Mapping>>),
    unread: &[String],
) -> Vec<String> {
    let opts = FileSourceOptions { batch_rows: 16, ..FileSourceOptions::default() };
    unread
        .iter()
        .take(MAX_SHEETS)
        .filter(|sheet| {
            let dialect = Dialect { sheet: Some((*sheet).clone()), ..dialect.clone() };
            // A sheet without the feed's header (notes, a lookup table) fails to open: not a
            // continuation.
            let Ok(mut source) = FileSource::open_with(path, format, feed, opts, dialect, mapping.clone()) else {
                return false;
            };
            matches!(source.next_batch(), Ok(Some(raw)) if raw.batch.num_rows() + raw.rejects.len() > 0)
        })
        .cloned()
        .collect()
}
