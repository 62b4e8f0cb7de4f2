//! Which of a partner's headings a proposal may write, and whether the "header" is a record.
//!
//! A proposal names the partner's headings, but a header cell is whatever the file's header line
//! holds: a file sent without a header has a record there, and a header glued to the first record
//! (a common export fault) holds values in its cells. These rules keep those values out:
//!
//! - A heading may be placed on a feed column only if it passes the rule every message uses for
//!   names found in a file ([`tellonce_schemas::printable::is_printable_column_name`]), judged on
//!   the heading with its spaces and punctuation read as underscores (partners write `Post Code`
//!   and `Attendance %`), is not a postcode, and is not one of the values of its own column.
//! - A heading no feed column took is written only if the header as a whole passes the rule `run`
//!   applies to the columns it drops ([`tellonce_schemas::printable::printable_column_names`],
//!   all or nothing, on the headings as written), the headings placed in our own words excepted
//!   (see [`header_printable`]). One name alone cannot be told from a column name (`Peregrine`
//!   reads like `Officer`), but a record nearly always has a cell no heading has: a date, a name
//!   with a space, an identifier.
//! - Even then, the line must surely be a header: at least two of its headings name the feed
//!   column they were placed on ([`surely_header`]), and the heading is neither a value its own
//!   column holds nor a name over a column of names ([`unplaced_withheld`]). A record of plain
//!   words (`CHILD`, a forename, a surname, a town) passes every rule on single names.
//! - When a header cell is shaped like a date or an identifier (an NHS number, a UPN, a PNC ID, a
//!   postcode) and so are at least half the values below it, or when several of its cells (and
//!   at least half) are held again by their own columns below, the line is a record, not a
//!   header, and nothing is proposed. A bare number is no such sign: a year heads a column of
//!   numbers.
//!
//! The rest are left out of the proposal by position (`column 4`).

use tellonce_schemas::FeedSchema;
use tellonce_schemas::Kind;
use tellonce_schemas::identifiers::postcode;
use tellonce_schemas::printable::{is_printable_column_name, printable_column_names};

use super::names::{self, NameMatch};
use super::withhold::{self, MAX_CODES};
use super::{Placement, values};
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
    /// The heading alone could be a column name, but not every heading of the header reads as
    /// one, so the header may be a record and none of its headings no column took is written.
    Withheld,
    /// The heading alone could be a column name, but too few headings of the line name a feed
    /// column for it to be surely a header: it may be a record of plain words (a role, a name,
    /// a town), and none of its headings no column took is written.
    Unsure,
}

/// The least header cells that, each held again by its own column below it, make the header a
/// record (with at least half its cells so held): a header holds a heading, not a value, and only
/// a flag column may be headed by one of its own codes (`NEET` over `EET` and `NEET`). A record
/// sent without its header repeats its codes, towns and family names in the rows below.
const MIN_HELD: usize = 3;

/// The values looked at to judge a column's shape: enough to tell, cheap on a wide sample.
const SHAPE_SAMPLE: usize = 200;

/// The shapes of values that tell a record from a header, as bits.
const DATE: u8 = 1;
const NUMBER: u8 = 1 << 1;
const NHS_NUMBER: u8 = 1 << 2;
const UPN: u8 = 1 << 3;
const PNC_ID: u8 = 1 << 4;
const POSTCODE: u8 = 1 << 5;
/// The shapes no heading has over a column of the same shape: a date or an identifier. A number
/// is not one of them (`2021` heads a column of attendance figures).
const RECORD_SHAPES: u8 = DATE | NHS_NUMBER | UPN | PNC_ID | POSTCODE;

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
pub(crate) fn identifier_shaped(value: &str) -> bool {
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
            } else if value_shaped(names::heading_core(h)) {
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

/// Whether `placed` names its column in our own words: its heading is the column's name or one
/// partners use for it (ignoring case, spaces and punctuation), or every word of it is a word of
/// the column's name or description. What such a heading prints is our vocabulary, so it says
/// nothing of a person even where the header is a record.
fn in_our_words(placed: &Placement, feed: &FeedSchema) -> bool {
    match placed.by_name {
        NameMatch::Same | NameMatch::Known => true,
        NameMatch::Words | NameMatch::Description => {
            feed.column(placed.column).is_some_and(|c| names::all_words_known(&placed.heading, c.name, c.description))
        }
        NameMatch::None => false,
    }
}

/// Whether the headings of `sample` that no feed column took may be written: the header, as
/// written, passes the all-or-nothing rule `run` applies to the columns it drops
/// ([`printable_column_names`]), blank headings left out (`run` drops them unreported) and
/// headings placed in our own words taken as passing ([`in_our_words`]). Any other heading that
/// is not a plain column name (a space, a date, a digit run, a letter outside ASCII) withholds
/// them all.
pub(super) fn header_printable(
    sample: &Sample,
    judged: &[Option<Unnamed>],
    placed: &[Placement],
    feed: &FeedSchema,
) -> bool {
    let ours = |j: usize| placed.iter().any(|p| p.index == j && in_our_words(p, feed));
    let names: Vec<&str> = sample
        .headings
        .iter()
        .enumerate()
        .filter(|(j, _)| judged.get(*j).copied().flatten() != Some(Unnamed::Blank) && !ours(*j))
        .map(|(_, h)| names::heading_core(h))
        .collect();
    printable_column_names(&names).1 == 0
}

/// The least headings that must name their feed column (see [`names_its_column`]) for a line to
/// be surely a header, so that its headings no column took may be written.
const MIN_NAMING: usize = 2;

/// Whether `placed` names its column by its heading alone: the column's own name, one partners
/// use for it, or words of its name, at least as well as a medium placement needs. Words of the
/// column's description do not count: a code written in a record (`CHILD`) may be one of them.
fn names_its_column(placed: &Placement) -> bool {
    matches!(placed.by_name, NameMatch::Same | NameMatch::Known | NameMatch::Words)
        && placed.name >= withhold::MEDIUM_NAME
}

/// Whether the line read as the header of a sample is surely one: at least [`MIN_NAMING`] of its
/// headings name the feed column they were placed on. A record of plain words (`CHILD`, a
/// forename, a surname, a town) passes every rule on single names, and its cells are placed, if
/// at all, by their values; a header names its columns.
pub(super) fn surely_header(placed: &[Placement]) -> bool {
    placed.iter().filter(|p| names_its_column(p)).count() >= MIN_NAMING
}

/// Why heading `j` of `sample`, which no column took, is not written even under a header that is
/// surely one: it is a value its own column holds again (a flag column headed by its code is
/// left out by position too), or it is shaped like a person's name over a column mostly of
/// such names. `None` when it may be written.
pub(super) fn unplaced_withheld(sample: &Sample, j: usize) -> Option<Unnamed> {
    let heading = sample.headings.get(j)?;
    if times_held(sample, j, heading) > 0 {
        return Some(Unnamed::ColumnValue);
    }
    let values: Vec<&str> = sample.column(j).take(SHAPE_SAMPLE).collect();
    let names = values.iter().filter(|v| withhold::name_shaped(v)).count();
    (withhold::name_shaped(heading) && !values.is_empty() && names * 2 >= values.len()).then_some(Unnamed::ValueShaped)
}

/// What the header line of a sample reads as, when it reads as a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct RecordLike {
    /// Header cells that read as the values of their column.
    pub(super) like_values: usize,
    /// Header cells that are not blank.
    pub(super) cells: usize,
}

/// Whether the header of `sample` is a record: one of its cells is not a heading and is shaped
/// like a date or an identifier (an NHS number, a UPN, a PNC ID, a postcode), as at least half
/// the values below it are. No header has such a heading over such values, while a record sent
/// without its header nearly always has one (a date of birth, an identifier). A number is not
/// such a sign (a year heads a column of figures), nor is one word its column also holds (a
/// flag column headed by its code); but [`MIN_HELD`] or more cells, and at least half of them,
/// each held again by its own column are (a record of plain words: a role, a name, a town, a
/// code, as the records below repeat them). The count of cells that read as values (by any
/// shape, or held in their column) is for the message.
pub(super) fn record_like(sample: &Sample, judged: &[Option<Unnamed>]) -> Option<RecordLike> {
    let mut like_values = 0;
    let mut by_shape = 0;
    // Cells, heading or not, that their own column holds again below them.
    let mut held = 0;
    for (j, why) in judged.iter().enumerate() {
        if *why == Some(Unnamed::Blank) {
            continue;
        }
        let heading = &sample.headings[j];
        let again = times_held(sample, j, heading) > 0;
        held += usize::from(again);
        let Some(why) = why else {
            like_values += usize::from(again);
            continue;
        };
        let shape = shapes(heading);
        let column: Vec<u8> = sample.column(j).take(SHAPE_SAMPLE).map(shapes).collect();
        // The shapes the heading shares with at least half the values below it.
        let shared: u8 = (0..8).map(|b| 1u8 << b).filter(|bit| shape & bit != 0).fold(0, |acc, bit| {
            let n = column.iter().filter(|s| *s & bit != 0).count();
            if !column.is_empty() && n * 2 >= column.len() { acc | bit } else { acc }
        });
        if shared & RECORD_SHAPES != 0 {
            by_shape += 1;
        }
        if shared != 0 || *why == Unnamed::ColumnValue || again {
            like_values += 1;
        }
    }
    let cells = judged.iter().filter(|w| **w != Some(Unnamed::Blank)).count();
    let repeated = held >= MIN_HELD && held * 2 >= cells;
    (by_shape >= 1 || repeated).then_some(RecordLike { like_values, cells })
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
