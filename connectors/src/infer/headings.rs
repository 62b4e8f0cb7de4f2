//! Which of a partner's headings a proposal may write, and whether the "header" is a record.
//!
//! A proposal names the partner's headings, but a header cell is whatever the file's header line
//! holds: a file sent without a header has a record there, and a header glued to the first record
//! (a common export fault) holds values in its cells. So a heading is written only if it passes
//! the rule every message uses for names found in a file
//! ([`tellonce_schemas::printable::is_printable_column_name`]), judged on the heading with its
//! spaces and punctuation read as underscores (partners write `Post Code` and `Attendance %`), is
//! not a postcode, and is not one of the values of its own column. The rest are left out of the
//! proposal by position (`column 4`). When several header cells read as the values of the columns
//! below them, at least one by its shape (a date, a number, an NHS number, a UPN, a PNC ID, a
//! postcode), the line is a record, not a header, and nothing is proposed.

use tellonce_schemas::Kind;
use tellonce_schemas::identifiers::postcode;
use tellonce_schemas::printable::is_printable_column_name;

use super::values;
use super::withhold::{self, MAX_CODES};
use crate::file_source::sample::Sample;

/// Why a column's heading is not written into the proposal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unnamed {
    /// The cell is blank, or has no letter or digit.
    Blank,
    /// The heading is shaped like a value: a date, a number, a reference, an identifier, a
    /// postcode, a name with a letter outside ASCII, or longer than a column name.
    ValueShaped,
    /// The heading is one of the values its own column holds.
    ColumnValue,
}

/// The values looked at to judge a column's shape: enough to tell, cheap on a wide sample.
const SHAPE_SAMPLE: usize = 200;

/// The shapes of values that tell a record from a header, as bits.
const DATE: u8 = 1;
const NUMBER: u8 = 1 << 1;
const NHS_NUMBER: u8 = 1 << 2;
const UPN: u8 = 1 << 3;
const PNC_ID: u8 = 1 << 4;
const POSTCODE: u8 = 1 << 5;

/// The shapes `value` has (bits of [`DATE`], [`NUMBER`] and the identifiers).
fn shapes(value: &str) -> u8 {
    let v = value.trim();
    let mut s = 0;
    if values::is_written_date(v) {
        s |= DATE;
    }
    // `inf` and `NaN` parse as floats: a number must have a digit.
    if v.bytes().any(|b| b.is_ascii_digit()) && v.replace(',', "").parse::<f64>().is_ok() {
        s |= NUMBER;
    }
    for (bit, kind) in
        [(NHS_NUMBER, Kind::NhsNumber), (UPN, Kind::Upn), (PNC_ID, Kind::PncId), (POSTCODE, Kind::Postcode)]
    {
        if kind.check(v).is_ok() {
            s |= bit;
        }
    }
    s
}

/// Whether `value` is shaped like an identifier, a written date or a postcode, or holds a long
/// run of digits (a UPRN, a telephone number, a case reference): never a code to list.
pub(super) fn identifier_shaped(value: &str) -> bool {
    let longest_digits = value.split(|c: char| !c.is_ascii_digit()).map(str::len).max().unwrap_or(0);
    longest_digits >= 5 || shapes(value) & !NUMBER != 0
}

/// `heading` as a column name: its words (letters, digits and underscores) joined by `_`; empty
/// when it has no letter or digit.
fn as_column_name(heading: &str) -> String {
    heading.split(|c: char| !c.is_alphanumeric() && c != '_').filter(|w| !w.is_empty()).collect::<Vec<_>>().join("_")
}

/// Whether `heading` alone is shaped like a value rather than a heading (see the module's rule).
fn value_shaped(heading: &str) -> bool {
    !is_printable_column_name(&as_column_name(heading)) || postcode::normalise(heading).is_ok()
}

/// How each heading of `sample` is to be written: `None` for a heading the proposal may name.
pub(super) fn judge(sample: &Sample) -> Vec<Option<Unnamed>> {
    sample
        .headings
        .iter()
        .enumerate()
        .map(|(j, h)| {
            if as_column_name(h).is_empty() {
                Some(Unnamed::Blank)
            } else if value_shaped(h) {
                Some(Unnamed::ValueShaped)
            } else if column_value(sample, j, h) {
                Some(Unnamed::ColumnValue)
            } else {
                None
            }
        })
        .collect()
}

/// How often column `j` holds `value` (ignoring case) in a row that is not the header repeated
/// (some exports repeat it on every page).
fn times_held(sample: &Sample, j: usize, value: &str) -> usize {
    let repeat = |row: &[Option<String>]| {
        row.len() == sample.headings.len()
            && row.iter().zip(&sample.headings).all(|(c, h)| c.as_deref().unwrap_or("").eq_ignore_ascii_case(h))
    };
    let holds = |r: &&Vec<Option<String>>| {
        r.get(j).and_then(Option::as_deref).is_some_and(|v| v.trim().eq_ignore_ascii_case(value.trim()))
    };
    sample.rows.iter().filter(|r| !repeat(r)).filter(holds).count()
}

/// Whether `heading` is a person's value of column `j` rather than one of its codes: the column
/// holds it and does not read as a code list. A code list repeats: at most [`MAX_CODES`]
/// distinct values, and at most half as many as the column has values. A flag or status column
/// may be headed by one of its own codes (`NEET` over `EET` and `NEET`), and that heading is
/// written; a name over a column of names is not, however few rows were sampled.
fn column_value(sample: &Sample, j: usize, heading: &str) -> bool {
    if times_held(sample, j, heading) == 0 {
        return false;
    }
    let values: Vec<&str> = sample.column(j).collect();
    let distinct = withhold::distinct(&values);
    distinct > MAX_CODES || distinct * 2 > values.len()
}

/// What the header line of a sample reads as, when it reads as a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct RecordLike {
    /// Header cells that read as the values of their column.
    pub(super) like_values: usize,
    /// Header cells that are not blank.
    pub(super) cells: usize,
}

/// Whether the header of `sample` is a record: at least two of its cells (all of them, in a
/// file of one column) are not headings and read as the values of the columns below them, and at
/// least one of those by its shape (a date over dates, a number over numbers, an NHS number over
/// NHS numbers…), not only as a word its column also holds, which a header of flags may do.
pub(super) fn record_like(sample: &Sample, judged: &[Option<Unnamed>]) -> Option<RecordLike> {
    let mut like_values = 0;
    let mut by_shape = 0;
    for (j, why) in judged.iter().enumerate() {
        let Some(why) = why else { continue };
        if *why == Unnamed::Blank {
            continue;
        }
        let heading = &sample.headings[j];
        let shape = shapes(heading);
        let column: Vec<u8> = sample.column(j).take(SHAPE_SAMPLE).map(shapes).collect();
        // A shape the heading shares with at least half the values below it.
        let shared = (0..8).map(|b| 1u8 << b).filter(|bit| shape & bit != 0).any(|bit| {
            let n = column.iter().filter(|s| *s & bit != 0).count();
            !column.is_empty() && n * 2 >= column.len()
        });
        if shared {
            by_shape += 1;
            like_values += 1;
        } else if *why == Unnamed::ColumnValue || times_held(sample, j, heading) > 0 {
            like_values += 1;
        }
    }
    let cells = judged.iter().filter(|w| **w != Some(Unnamed::Blank)).count();
    (by_shape >= 1 && like_values >= cells.min(2)).then_some(RecordLike { like_values, cells })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partner_headings_are_written_and_values_are_not() {
        for heading in [
            "Post Code",
            "Attendance %",
            "NHS No",
            "No. Children",
            "D.O.B.",
            "Address Line 1",
            "Address_Line_1",
            "EH Outcome",
            "Date of Birth (dd/mm/yyyy)",
            "Q1 Score",
        ] {
            assert!(!value_shaped(heading), "{heading}");
        }
        for value in [
            "13/07/2012",
            "2012-07-13",
            "13-Jul-2012",
            "9990390061",
            "A938202416000",
            "2012/0052834K",
            "RH15 9PF",
            "RH159PF",
            "3 Southdown Road",
            "EDU-00000001",
            "100061000044",
            "89.7",
            "-1",
            "0",
            "£12.50",
            "Renée",
            "Attendance 2023",
            "Flat A, Mill House, Burgess Hill, West Sussex",
        ] {
            assert!(value_shaped(value), "{value}");
        }
        assert_eq!(as_column_name(" - "), "");
        assert_eq!(as_column_name(""), "");
    }

    #[test]
    fn identifiers_dates_postcodes_and_long_numbers_are_never_codes() {
        for v in ["13/07/2012", "9990390061", "A938202416000", "RH15 9PF", "100061002475", "07700900123"] {
            assert!(identifier_shaped(v), "{v}");
        }
        for v in ["1", "2", "99", "Closed - outcomes met", "NEEDS_MET", "WBRI", "Y"] {
            assert!(!identifier_shaped(v), "{v}");
        }
    }
}
