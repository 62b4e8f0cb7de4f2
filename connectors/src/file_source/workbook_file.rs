//! Workbook input (`.xlsx`, `.xls`, `.ods`): one sheet, chosen by name, read with `calamine` into
//! the same batches as a CSV file.
//!
//! The sheet is read by a reader thread ([`super::sheet_rows`]); an `.xlsx` sheet is streamed, so
//! that memory holds the workbook's shared strings and a few chunks of rows, not the sheet.
//! Positions are the sheet's row numbers as Excel shows them (1-based). Cells become
//! text as Excel's "General" format would show them: whole numbers without a decimal point,
//! booleans as `true`/`false`; a cell formatted as a date becomes its ISO date (`YYYY-MM-DD`,
//! any time of day dropped); an error cell (`#N/A`, `#REF!`) and an empty cell are empty.
//! A merged region's value is the value of each empty cell it covers, as the sheet shows it
//! (see [`super::sheet_rows`]); the header row is matched on its cells' own text.

use std::fmt::Write as _;
use std::path::Path;

use calamine::Data;
use tellonce_schemas::FeedSchema;

use super::batch::BatchBuilder;
use super::columns::ColumnLookup;
use super::headings::{Headings, match_headings};
use super::sheet_rows::SheetRows;
use super::{FileFormat, SourceError};
use crate::mapping::Mapping;
use crate::mapping::dates::iso;

/// An open sheet whose header row has been matched to the schema.
pub(super) struct WorkbookInput {
    rows: SheetRows,
    /// The sheet read, by its name in the workbook.
    sheet: String,
    /// The sheet row (1-based) of the last row read.
    line: u64,
    mapped: Vec<(usize, usize)>,
    /// Per pair of `mapped`: the decimal separator the mapping declares for the column, where it
    /// is not a point. A number cell is written with a point, and is rewritten with the
    /// partner's separator, so that the mapping reads it as it reads the partner's text (a
    /// thousands separator `.` would otherwise read 814.69 as 81469).
    points: Vec<Option<char>>,
    unknown: Vec<String>,
    file_bytes: u64,
    /// A reading error met while filling a batch, returned by the next [`WorkbookInput::fill`].
    failed: Option<SourceError>,
}

impl WorkbookInput {
    /// Opens `sheet` of the workbook (its first sheet when `None`), skips `skip_rows` rows, and
    /// matches the first non-empty row after them to the schema. Also returns, per schema
    /// column, whether the sheet has it.
    pub(super) fn open(
        path: &Path,
        format: FileFormat,
        (sheet, skip_rows): (Option<&str>, u64),
        feed: &'static FeedSchema,
        lookup: &ColumnLookup,
        mapping: Option<&Mapping>,
    ) -> Result<(WorkbookInput, Vec<bool>), SourceError> {
        let (mut rows, name) = SheetRows::open(path, format, (sheet, skip_rows))?;
        rows.hold_back(mapping.map_or(0, Mapping::footer_lines));
        // The header: the first non-empty row at or after sheet row `skip_rows` (0-based).
        let header = loop {
            match rows.next_row()? {
                None => {
                    return Err(SourceError::EmptySheet {
                        path: path.to_owned(),
                        sheet: name,
                        skipped: skip_rows,
                        sheets: rows.sheets().to_vec(),
                    });
                }
                Some(row) if u64::from(row.at) >= skip_rows => break row,
                Some(_) => {}
            }
        };
        let line = u64::from(header.at) + 1;
        let names: Vec<String> = header.to_cells().into_iter().map(Option::unwrap_or_default).collect();
        rows.set_width(names.len());
        let Headings { mapped, present, unknown } = match match_headings(path, &names, feed, lookup, mapping) {
            Ok(h) => h,
            Err(SourceError::MissingColumns { path, columns, .. }) => {
                let sheets = rows.sheets().to_vec();
                return Err(SourceError::SheetMissingColumns(Box::new(super::SheetHeaderLacking {
                    path,
                    columns,
                    sheet: name,
                    row: line,
                    skipped: skip_rows,
                    sheets,
                })));
            }
            Err(e) => return Err(e),
        };
        // A column the feed reads that holds formulas never calculated (below the header).
        let uncalculated = mapped.iter().find_map(|&(i, j)| {
            let row = super::formulas::uncalculated(rows.formula_cells(), u32::try_from(j).ok()?, header.at)?;
            Some((i, j, row))
        });
        if let Some((i, index, row)) = uncalculated {
            return Err(SourceError::UncalculatedFormulas(Box::new(super::UncalculatedFormulas {
                path: path.to_owned(),
                sheet: name,
                row: u64::from(row) + 1,
                index,
                column: feed.columns[i].name,
            })));
        }
        let file_bytes = std::fs::metadata(path).map_or(0, |m| m.len());
        let points =
            mapped.iter().map(|&(i, _)| mapping.and_then(|m| m.decimal_point(i)).filter(|&p| p != '.')).collect();
        let input = WorkbookInput { rows, sheet: name, line, mapped, points, unknown, file_bytes, failed: None };
        Ok((input, present))
    }

    /// The sheet read, by its name in the workbook.
    pub(super) fn sheet(&self) -> &str {
        &self.sheet
    }

    /// With no sheet named, the workbook's other sheets shown, which are not read.
    pub(super) fn unread_sheets(&self) -> &[String] {
        self.rows.unread()
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
        self.line
    }

    /// The file's size: a workbook is read by the reader thread as it goes.
    pub(super) fn bytes_consumed(&self) -> u64 {
        self.file_bytes
    }

    /// Reads rows into `batch` until it is full (`Ok(true)`) or the sheet ends (`Ok(false)`).
    pub(super) fn fill(&mut self, batch: &mut BatchBuilder) -> Result<bool, SourceError> {
        if let Some(e) = self.failed.take() {
            return Err(e);
        }
        while !batch.is_full() {
            let row = match self.rows.next_row() {
                Ok(Some(row)) => row,
                Ok(None) => return Ok(false),
                // The rows read so far make a batch; the error ends the input next time.
                Err(e) if batch.len() > 0 => {
                    self.failed = Some(e);
                    return Ok(true);
                }
                Err(e) => return Err(e),
            };
            self.line = u64::from(row.at) + 1;
            for (&(i, j), point) in self.mapped.iter().zip(&self.points) {
                match (row.cell(j), point) {
                    (Some(v), Some(p)) if row.is_number(j) => {
                        batch.append(i, &v.replace('.', p.encode_utf8(&mut [0; 4])))
                    }
                    (Some(v), _) => batch.append(i, v),
                    (None, _) => batch.append_null(i),
                }
            }
            batch.end_row(self.line);
        }
        Ok(true)
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
        // By calamine's own conversion, which knows the workbook's date system: a workbook saved
        // in the 1904 system (old Mac Excel) counts its serials from 1904-01-01, and the same
        // number read from 1899-12-30 would fall four years and a day early, silently.
        Data::DateTime(dt) if dt.is_datetime() => match workbook_date(dt) {
            Some(d) => scratch.push_str(&iso(d)),
            None => write_number(dt.as_f64(), scratch),
        },
        Data::DateTime(dt) => write_number(dt.as_f64(), scratch),
    }
    Some(scratch.as_str())
}

/// The day a date cell names, in its workbook's date system; `None` outside the calendar.
fn workbook_date(dt: &calamine::ExcelDateTime) -> Option<chrono::NaiveDate> {
    // calamine saturates what is outside (a negative serial becomes the epoch): not a date.
    const LAST_SERIAL: f64 = 2_958_466.0;
    if !(dt.as_f64() >= 0.0 && dt.as_f64() < LAST_SERIAL) {
        return None;
    }
    let (year, month, day, hour, minute, second, milli) = dt.to_ymd_hms_milli();
    let date = chrono::NaiveDate::from_ymd_opt(i32::from(year), u32::from(month), u32::from(day))?;
    // calamine rounds to the millisecond, so a time in the day's last half millisecond rolls
    // into the next day; the time of day is dropped, so the day it was written on is wanted.
    let rolled = (hour, minute, second, milli) == (0, 0, 0, 0) && dt.as_f64().fract() > 0.5;
    if rolled { date.pred_opt() } else { Some(date) }
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
