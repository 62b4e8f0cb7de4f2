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

/// What [`super::SourceError::UncalculatedFormulas`] says (boxed: every other error stays small).
/// The column is named by its letter and the feed column it is read as, never by a value.
#[derive(Debug, thiserror::Error)]
#[error(
    "{} was written by a program and its formulas were never calculated (the workbook asks to be \
     calculated when opened): sheet {sheet:?}, row {row}, column {} (read as {column}) holds a \
     formula whose stored value is empty or 0, and would be read as such; open the workbook in a \
     spreadsheet and save it (which stores the values), or export the sheet as CSV",
    path.display(),
    letters(*index)
)]
pub struct UncalculatedFormulas {
    /// The file.
    pub path: PathBuf,
    /// The sheet read.
    pub sheet: String,
    /// The first row with such a formula in the column, as Excel numbers it.
    pub row: u64,
    /// The sheet column (0-based).
    pub index: usize,
    /// The feed column it is read as.
    pub column: &'static str,
}

/// A sheet column as Excel names it: `A` for 0, `Z`, `AA` for 26.
fn letters(index: usize) -> String {
    let mut n = index + 1;
    let mut out = Vec::new();
    while n > 0 {
        let rem = (n - 1) % 26;
        out.push(b'A' + rem as u8);
        n = (n - 1) / 26;
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}
