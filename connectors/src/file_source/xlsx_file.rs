//! Excel workbook input (`.xlsx`): one sheet, chosen by name, read with `calamine` into the same
//! batches as a CSV file.
//!
//! The sheet is read whole when the file is opened (a workbook is a zip of XML: it cannot be
//! read a row at a time without holding the shared strings anyway), so memory grows with the
//! sheet. Positions are the sheet's row numbers as Excel shows them (1-based). Cells become
//! text as Excel's "General" format would show them: whole numbers without a decimal point,
//! booleans as `true`/`false`; a cell formatted as a date becomes its ISO date (`YYYY-MM-DD`,
//! any time of day dropped); an error cell (`#N/A`, `#REF!`) and an empty cell are empty.

use std::fmt::Write as _;
use std::path::Path;

use calamine::{Data, Range, Reader, Xlsx, open_workbook};
use tellonce_schemas::FeedSchema;

use super::SourceError;
use super::batch::BatchBuilder;
use super::columns::ColumnLookup;
use super::headings::{Headings, match_headings};
use crate::mapping::Mapping;
use crate::mapping::dates::{from_excel_serial, iso};

/// An open sheet whose header row has been matched to the schema.
pub(super) struct XlsxInput {
    range: Range<Data>,
    /// The next row of `range` to read.
    next: usize,
    /// The sheet row (0-based) of the range's first row.
    first_row: u32,
    mapped: Vec<(usize, usize)>,
    unknown: Vec<String>,
    file_bytes: u64,
    scratch: String,
}

impl XlsxInput {
    /// Opens `sheet` of the workbook (its first sheet when `None`), skips `skip_rows` rows, and
    /// matches the first non-empty row after them to the schema. Also returns, per schema
    /// column, whether the sheet has it.
    pub(super) fn open(
        path: &Path,
        sheet: Option<&str>,
        skip_rows: u64,
        feed: &'static FeedSchema,
        lookup: &ColumnLookup,
        mapping: Option<&Mapping>,
    ) -> Result<(XlsxInput, Vec<bool>), SourceError> {
        let workbook_error = |message: String| SourceError::Workbook { path: path.to_owned(), message };
        let mut workbook: Xlsx<_> =
            open_workbook(path).map_err(|e: calamine::XlsxError| workbook_error(e.to_string()))?;
        let names = workbook.sheet_names();
        let name =
            match sheet {
                Some(s) => names.iter().find(|n| n.as_str() == s).cloned().ok_or_else(|| {
                    SourceError::SheetMissing { path: path.to_owned(), sheet: s.to_owned(), sheets: names.clone() }
                })?,
                None => names.first().cloned().ok_or_else(|| SourceError::EmptyFile { path: path.to_owned() })?,
            };
        let range = workbook.worksheet_range(&name).map_err(|e| workbook_error(e.to_string()))?;
        let file_bytes = std::fs::metadata(path).map_or(0, |m| m.len());
        let first_row = range.start().map_or(0, |(r, _)| r);
        let mut input = XlsxInput {
            range,
            next: 0,
            first_row,
            mapped: Vec::new(),
            unknown: Vec::new(),
            file_bytes,
            scratch: String::new(),
        };
        // The header: the first non-empty row at or after sheet row `skip_rows` (0-based).
        let header = loop {
            if input.next >= input.range.height() {
                return Err(SourceError::EmptyFile { path: path.to_owned() });
            }
            // In bounds: checked just above.
            let row = &input.range[input.next];
            let at = u64::from(first_row) + input.next as u64;
            input.next += 1;
            if at >= skip_rows && row.iter().any(|c| !matches!(c, Data::Empty)) {
                let mut scratch = String::new();
                break row.iter().map(|c| cell_text(c, &mut scratch).unwrap_or("").to_owned()).collect::<Vec<_>>();
            }
        };
        let Headings { mapped, present, unknown } = match_headings(path, &header, feed, lookup, mapping)?;
        input.mapped = mapped;
        input.unknown = unknown;
        Ok((input, present))
    }

    /// Header names that match no schema column.
    pub(super) fn unknown_columns(&self) -> Vec<String> {
        self.unknown.clone()
    }

    /// Whether a heading resolved to schema column `i`.
    pub(super) fn has_column(&self, i: usize) -> bool {
        self.mapped.iter().any(|&(c, _)| c == i)
    }

    /// The sheet row (1-based) the reader is at.
    pub(super) fn line(&self) -> u64 {
        u64::from(self.first_row) + self.next as u64 + 1
    }

    /// The file's size: the whole sheet is read when it is opened.
    pub(super) fn bytes_consumed(&self) -> u64 {
        self.file_bytes
    }

    /// Reads rows into `batch` until it is full (returns true) or the sheet ends (false).
    pub(super) fn fill(&mut self, batch: &mut BatchBuilder) -> bool {
        let height = self.range.height();
        while !batch.is_full() {
            if self.next >= height {
                return false;
            }
            let r = self.next;
            self.next += 1;
            let line = u64::from(self.first_row) + r as u64 + 1;
            // In bounds: `r < height`.
            let row = &self.range[r];
            if row.iter().all(|c| matches!(c, Data::Empty)) {
                continue;
            }
            for &(i, j) in &self.mapped {
                match row.get(j).and_then(|c| cell_text(c, &mut self.scratch)) {
                    Some(v) => batch.append(i, v),
                    None => batch.append_null(i),
                }
            }
            batch.end_row(line);
        }
        true
    }
}

/// A cell as text, written into `scratch` when it is not a string already; `None` when empty
/// or an error.
pub(super) fn cell_text<'a>(cell: &'a Data, scratch: &'a mut String) -> Option<&'a str> {
    scratch.clear();
    match cell {
        Data::Empty | Data::Error(_) => return None,
        Data::String(s) | Data::DurationIso(s) => return Some(s.as_str()),
        // `2024-12-31T13:45:00`: the date part.
        Data::DateTimeIso(s) => return Some(s.get(..10).filter(|d| d.as_bytes().get(4) == Some(&b'-')).unwrap_or(s)),
        Data::Int(i) => {
            let _ = write!(scratch, "{i}");
        }
        Data::Float(f) => write_number(*f, scratch),
        Data::Bool(b) => scratch.push_str(if *b { "true" } else { "false" }),
        Data::DateTime(dt) if dt.is_datetime() => match from_excel_serial(dt.as_f64()) {
            Some(d) => scratch.push_str(&iso(d)),
            None => write_number(dt.as_f64(), scratch),
        },
        Data::DateTime(dt) => write_number(dt.as_f64(), scratch),
    }
    Some(scratch.as_str())
}

/// A number as Excel's General format shows it: a whole number without a decimal point.
fn write_number(f: f64, out: &mut String) {
    if f.fract() == 0.0 && f.abs() < 1e15 {
        // Whole and well within i64: exact.
        #[allow(clippy::cast_possible_truncation)]
        let _ = write!(out, "{}", f as i64);
    } else {
        let _ = write!(out, "{f}");
    }
}
