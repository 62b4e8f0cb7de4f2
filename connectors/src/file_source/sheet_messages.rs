//! What the errors about a workbook's sheets say: which sheet and row were read, and which other
//! sheets the data might be on (sheet names are a workbook's structure, not a value from it).

use std::path::PathBuf;

/// What [`super::SourceError::SheetMissingColumns`] says (boxed: every other error stays small).
#[derive(Debug, thiserror::Error)]
#[error(
    "{} lacks required column(s): {}, in the header read from sheet {sheet:?}, row {row} (its first row \
     with a cell{}); if the header is further down, skip the rows above it (skip_lines); {}",
    path.display(),
    columns.join(", "),
    after_skipped(*skipped),
    other_sheets(sheet, sheets)
)]
pub struct SheetHeaderLacking {
    /// The file.
    pub path: PathBuf,
    /// The schema names of the missing columns, in schema order.
    pub columns: Vec<String>,
    /// The sheet read.
    pub sheet: String,
    /// The row read as the header, as Excel numbers it.
    pub row: u64,
    /// The rows skipped before the header (`skip_lines`).
    pub skipped: u64,
    /// The workbook's sheets, in order.
    pub sheets: Vec<String>,
}

/// For [`super::SourceError::EmptySheet`]: the rows skipped, if any.
pub(super) fn after_skipped(skipped: u64) -> String {
    match skipped {
        0 => String::new(),
        1 => " after the 1 row skipped (skip_lines)".to_owned(),
        n => format!(" after the {n} rows skipped (skip_lines)"),
    }
}

/// For [`super::SourceError::EmptySheet`]: the sheets that might hold the data instead (sheet names
/// are a workbook's structure, not a value from it).
pub(super) fn other_sheets(read: &str, sheets: &[String]) -> String {
    let others: Vec<String> = sheets.iter().filter(|s| s.as_str() != read).map(|s| format!("{s:?}")).collect();
    if others.is_empty() {
        return "the workbook has no other sheet".to_owned();
    }
    format!(
        "the workbook's other sheets are {}: name the one to read with `sheet = \"…\"` (in the mapping's [file] or in [[sources]])",
        others.join(", ")
    )
}
