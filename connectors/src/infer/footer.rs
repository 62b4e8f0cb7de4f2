//! The lines a report export writes below its table ("Total records: 20", "Report run by … on
//! …"), proposed as `[file] footer_lines`: read as records they are quarantined in every file,
//! and a snapshot that quarantined a row whose reference it could not read withdraws nothing.
//!
//! The run reads `footer_lines` with `file_source::footer` (private to `file_source`): the last N
//! lines that hold anything, blank and delimiter-only lines not counted. This counts the same
//! lines the same way, from the end of the file, and proposes them only when they clearly are
//! no records: each fills at most one cell, or fewer than half the header's, where the table's
//! records fill most of theirs, holds no quote (the end of a quoted field over several lines
//! would look the same), and the line above them has the header's width. A footer's words are
//! never shown, only counted: "Report run by" names a member of staff.

use std::borrow::Cow;
use std::io::{Read, Seek, SeekFrom};

use crate::file_source::sample::Sample;

/// Bytes read from the end of the file: far more than any footer.
const TAIL: u64 = 64 * 1024;
/// The most footer lines proposed: a report's total and its "run by" line, a date, a page count.
const MAX_FOOTER: usize = 5;

/// Whether `line` holds nothing, by the rule `file_source::footer` counts lines with.
fn holds_nothing(line: &str) -> bool {
    line.bytes().all(crate::file_source::footer::holds_nothing)
}

/// Whether a line's first cell is words (`Total records: 20`, `Report run by …`: a letter, and a
/// space or a colon), where a sparse record's first cell is its reference (`R99`).
fn starts_with_words(first: &str) -> bool {
    first.chars().any(char::is_alphabetic) && first.contains([' ', ':'])
}

/// How many of `line`'s cells, split at `delimiter`, hold more than spaces, and how many cells
/// it has (quotes not minded: a line with one is never taken for a footer).
fn filled_cells(line: &str, delimiter: char) -> (usize, usize) {
    let cells: Vec<&str> = line.split(delimiter).collect();
    (cells.iter().filter(|c| !c.trim().is_empty()).count(), cells.len())
}

/// Whether `line` is clearly no record of a table `width` cells wide: no quote, no more cells
/// than the header, at most one cell filled or fewer than half, and its first cell words
/// (`Total records: 20`, `Report run by …`, `End of report`: a letter, and a space or a colon),
/// where a sparse record's first cell is its reference (`R99,,,,`).
fn footer_like(line: &str, delimiter: char, width: usize) -> bool {
    let (filled, cells) = filled_cells(line, delimiter);
    let first = line.split(delimiter).next().unwrap_or("").trim();
    !line.contains('"') && cells <= width && (filled <= 1 || filled * 2 < width) && starts_with_words(first)
}

/// The footer lines ending the CSV file of `sample`, if its last lines clearly are no records;
/// 0 otherwise (and for a workbook, whose rows the sample need not reach the end of).
pub(super) fn footer_lines(sample: &Sample) -> usize {
    let (Some(delimiter), Some(encoding)) = (sample.delimiter, sample.encoding) else { return 0 };
    let width = sample.headings.len();
    // The table's records must fill most of their cells for a line filling one to stand out.
    let mut filled: Vec<usize> = sample.rows.iter().map(|r| r.iter().filter(|c| c.is_some()).count()).collect();
    filled.sort_unstable();
    let typical = filled.get(filled.len() / 2).copied().unwrap_or(0);
    if width < 3 || typical < 3 || typical * 2 < width {
        return 0;
    }
    let Ok(tail) = read_tail(&sample.path) else { return 0 };
    // Cut anywhere, the first bytes may be half a UTF-8 character: the first line is dropped.
    let text = encoding.decode(&tail.1).map_or_else(|| String::from_utf8_lossy(&tail.1).into_owned(), Cow::into_owned);
    let mut lines: Vec<&str> = text.split(['\n', '\r']).collect();
    if !tail.0 && !lines.is_empty() {
        lines.remove(0); // cut in the middle
    }
    let delimiter = char::from(delimiter);
    let mut footer = 0;
    for line in lines.iter().rev().filter(|l| !holds_nothing(l)) {
        if footer_like(line, delimiter, width) && footer < MAX_FOOTER {
            footer += 1;
            continue;
        }
        // The line above the footer is the table's last record: the header's width, no quote
        // left open.
        let record = line.matches('"').count() % 2 == 0 && filled_cells(line, delimiter).1 >= width;
        return if record { footer } else { 0 };
    }
    0
}

/// The last [`TAIL`] bytes of the file at `path`'s data (before a final Ctrl-Z or NUL padding,
/// where the run's reader stops), and whether they are the whole file.
fn read_tail(path: &std::path::Path) -> std::io::Result<(bool, Vec<u8>)> {
    let mut file = std::fs::File::open(path)?;
    let len = crate::file_source::eof::data_end(&mut file)?;
    let from = len.saturating_sub(TAIL);
    file.seek(SeekFrom::Start(from))?;
    let mut bytes = Vec::new();
    file.take(len - from).read_to_end(&mut bytes)?;
    Ok((from == 0, bytes))
}

/// Leaves the footer's rows out of `sample` when it reached them (a file smaller than the
/// sample): the last `n` rows that fill at most one cell, or fewer than half the header's.
pub(super) fn drop_footer_rows(sample: &mut Sample, n: usize) {
    let width = sample.headings.len();
    for _ in 0..n {
        let Some(last) = sample.rows.last() else { return };
        let filled = last.iter().filter(|c| c.is_some()).count();
        let first = last.first().and_then(Option::as_deref).unwrap_or("");
        if (filled > 1 && filled * 2 >= width) || !starts_with_words(first) {
            return;
        }
        sample.rows.pop();
    }
}
