//! A partner file's headings and its first rows, as written, for profiling (`sources infer`):
//! its encoding, delimiter and preamble detected, no feed assumed. Values stay in memory; the
//! profiler reports what they look like, never the values.

use std::io::Read;
use std::path::{Path, PathBuf};

use super::dialect::{DELIMITERS, Encoding, detect_encoding};
use super::sheet_rows::{SheetRow, SheetRows};
use super::tokenizer::{Status, Tokenizer};
use super::{FileFormat, SourceError};

/// Lines (sheet rows) looked at to find the header under a preamble.
const HEADER_SEARCH: usize = 30;
/// Longest record read.
const MAX_LINE_BYTES: usize = 1 << 20;

/// The start of a partner file.
#[derive(Debug, Clone)]
pub struct Sample {
    /// The file.
    pub path: PathBuf,
    /// How it is written.
    pub format: FileFormat,
    /// The encoding (CSV).
    pub encoding: Option<Encoding>,
    /// The delimiter (CSV).
    pub delimiter: Option<u8>,
    /// Lines (sheet rows) before the header.
    pub skip_lines: u64,
    /// The line (sheet row) the header is on, from 1: where a message about the header points.
    pub header_line: u64,
    /// The sheet read (workbooks).
    pub sheet: Option<String>,
    /// The header's cells, trimmed.
    pub headings: Vec<String>,
    /// The rows after it (at most the number asked for), one cell per heading; empty cells are
    /// `None`.
    pub rows: Vec<Vec<Option<String>>>,
}

impl Sample {
    /// The non-empty values of column `j`, trimmed.
    pub fn column(&self, j: usize) -> impl Iterator<Item = &str> {
        self.rows.iter().filter_map(move |r| r.get(j)?.as_deref()).map(str::trim).filter(|v| !v.is_empty())
    }
}

/// Reads the headings and up to `max_rows` rows of the file at `path` (a CSV or text file of
/// any of the four delimiters, or an `.xlsx`, `.xls` or `.ods` workbook's `sheet`, else its first
/// sheet).
pub fn sample(path: &Path, sheet: Option<&str>, max_rows: usize) -> Result<Sample, SourceError> {
    match FileFormat::from_path(path) {
        Some(format) if format.is_workbook() => sample_workbook(path, format, sheet, max_rows),
        Some(FileFormat::JsonLines) => Err(SourceError::Workbook {
            path: path.to_owned(),
            message: "JSON Lines files name their fields in every record: they need no mapping to be inferred"
                .to_owned(),
        }),
        _ => sample_text(path, max_rows),
    }
}

/// How often `delimiter` occurs outside quotes in `line`.
fn count_outside_quotes(line: &[u8], delimiter: u8) -> usize {
    let mut quoted = false;
    let mut n = 0;
    for &b in line {
        if b == b'"' {
            quoted = !quoted;
        } else if !quoted && b == delimiter {
            n += 1;
        }
    }
    n
}

/// How many of `line`'s cells, split at `delimiter` outside quotes, hold more than spaces and
/// quotes, and how many cells it has.
fn filled_cells(line: &[u8], delimiter: u8) -> (usize, usize) {
    let (mut quoted, mut filled, mut cells, mut in_cell) = (false, 0, 1, false);
    for &b in line {
        if b == b'"' {
            quoted = !quoted;
        } else if !quoted && b == delimiter {
            filled += usize::from(in_cell);
            cells += 1;
            in_cell = false;
        } else if !b.is_ascii_whitespace() {
            in_cell = true;
        }
    }
    (filled + usize::from(in_cell), cells)
}

/// Whether `line` is a title or padding, not a header, though it has the header's delimiters:
/// a spreadsheet saved as CSV pads its title line and the blank line under it to the table's
/// width (`Education extract March 2023,,,,,,`). Such a line has at most one cell filled, or
/// fewer than half of them.
fn padded(line: &[u8], delimiter: u8) -> bool {
    let (filled, cells) = filled_cells(line, delimiter);
    filled <= 1 || filled * 2 < cells
}

/// The delimiter whose count is the same on most lines, and the first line with that count that
/// is not a padded title or blank line (the header: a preamble line has another count, usually
/// none, or few cells filled); the first line with that count if every one is padded.
fn delimiter_and_header(lines: &[&[u8]]) -> (u8, usize) {
    let mut best = (0usize, b',', 0usize);
    for &d in DELIMITERS {
        let counts: Vec<usize> = lines.iter().map(|l| count_outside_quotes(l, d)).collect();
        let mut modal = (0usize, 0usize);
        for &c in counts.iter().filter(|&&c| c > 0) {
            let n = counts.iter().filter(|&&x| x == c).count();
            if (n, c) > modal {
                modal = (n, c);
            }
        }
        let score = modal.0 * modal.1;
        if score > best.0 {
            let at_count = |i: &usize| counts[*i] == modal.1;
            let header = (0..counts.len())
                .filter(at_count)
                .find(|&i| !padded(lines[i], d))
                .or_else(|| (0..counts.len()).find(at_count))
                .unwrap_or(0);
            best = (score, d, header);
        }
    }
    (best.1, best.2)
}

fn sample_text(path: &Path, max_rows: usize) -> Result<Sample, SourceError> {
    let read = |source: std::io::Error| SourceError::Read { path: path.to_owned(), line: 1, source };
    let file = std::fs::File::open(path).map_err(read)?;
    let mut tok = Tokenizer::new(file, MAX_LINE_BYTES).map_err(read)?;
    // Refused as a run refuses it: read a byte at a time, every other byte is a NUL and each
    // cell a value with NULs between its letters, which no rule on headings can tell from a name.
    if let Some(kind) = tok.archive() {
        return Err(SourceError::Compressed { path: path.to_owned(), kind });
    }
    if tok.starts_utf16() {
        return Err(SourceError::Utf16 { path: path.to_owned() });
    }
    let encoding = detect_encoding(path).map_err(read)?;
    let mut head = Vec::new();
    std::fs::File::open(path).map_err(read)?.take(256 * 1024).read_to_end(&mut head).map_err(read)?;
    let head = head.strip_prefix(b"\xEF\xBB\xBF".as_slice()).unwrap_or(&head);
    // Split as the tokenizer reads: an old Mac file's lines end in a lone CR, and split on LF
    // alone it is one line, so no preamble above its header would be found.
    let end = if tok.cr_lines() { b'\r' } else { b'\n' };
    let lines: Vec<&[u8]> = head.split(|&b| b == end).take(HEADER_SEARCH).collect();
    let (delimiter, header_at) = delimiter_and_header(&lines);
    tok.skip_lines(header_at as u64).map_err(read)?;
    tok.set_delimiter(delimiter);
    let mut headings: Option<Vec<String>> = None;
    let mut header_line = header_at as u64 + 1;
    let mut rows = Vec::new();
    while rows.len() < max_rows {
        let line = tok.line();
        match tok.next_record().map_err(|source| SourceError::Read { path: path.to_owned(), line, source })? {
            None => break,
            Some(Status::Parsed) => {}
            Some(Status::TooLong | Status::Unclosed | Status::StrayQuotes) => continue,
        }
        let cells: Vec<Option<String>> = (0..tok.field_count())
            .map(|j| encoding.decode(tok.field(j)).map(|c| c.trim().to_owned()).filter(|c| !c.is_empty()))
            .collect();
        if cells.iter().all(Option::is_none) {
            continue;
        }
        match &headings {
            None => {
                // Blank lines above the header are passed over: the header is where it was read.
                header_line = tok.record_line();
                headings = Some(cells.into_iter().map(Option::unwrap_or_default).collect());
            }
            Some(_) => rows.push(cells),
        }
    }
    let headings = headings.ok_or_else(|| SourceError::EmptyFile { path: path.to_owned() })?;
    Ok(Sample {
        path: path.to_owned(),
        format: FileFormat::Csv,
        encoding: Some(encoding),
        delimiter: Some(delimiter),
        skip_lines: header_at as u64,
        header_line,
        sheet: None,
        headings,
        rows,
    })
}

fn sample_workbook(
    path: &Path,
    format: FileFormat,
    sheet: Option<&str>,
    max_rows: usize,
) -> Result<Sample, SourceError> {
    let (mut reader, name) = SheetRows::open(path, format, (sheet, 0))?;
    let mut top: Vec<SheetRow> = Vec::new();
    while top.len() < HEADER_SEARCH {
        match reader.next_row()? {
            Some(row) => top.push(row),
            None => break,
        }
    }
    // The header: among the first rows, the first as wide as the widest, with no number in it.
    let width = |r: &SheetRow| r.filled();
    let widest = top.iter().map(width).max().unwrap_or(0);
    let is_number = |c: &Option<String>| c.as_deref().is_some_and(|t| t.trim().parse::<f64>().is_ok());
    let header_at = top
        .iter()
        .position(|r| widest > 0 && width(r) * 5 >= widest * 4 && !r.to_cells().iter().any(is_number))
        .ok_or_else(|| SourceError::EmptyFile { path: path.to_owned() })?;
    let trimmed = |cells: Vec<Option<String>>| -> Vec<Option<String>> {
        cells.into_iter().map(|c| c.map(|t| t.trim().to_owned()).filter(|t| !t.is_empty())).collect()
    };
    let skip_lines = u64::from(top[header_at].at);
    let mut rest = top.split_off(header_at);
    let header = rest.remove(0);
    let headings: Vec<String> = trimmed(header.to_cells()).into_iter().map(Option::unwrap_or_default).collect();
    let mut rows: Vec<Vec<Option<String>>> = rest.into_iter().map(|r| trimmed(r.to_cells())).take(max_rows).collect();
    while rows.len() < max_rows {
        match reader.next_row()? {
            Some(row) => rows.push(trimmed(row.to_cells())),
            None => break,
        }
    }
    Ok(Sample {
        path: path.to_owned(),
        format,
        encoding: None,
        delimiter: None,
        skip_lines,
        header_line: skip_lines + 1,
        sheet: Some(name),
        headings,
        rows,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_padded_title_and_blank_line_are_not_the_header() {
        let text =
            b"Education extract March 2023,,,,\n,,,,\nRef,First Name,Last Name,DOB,Type\nE1,Ann,Lee,01/02/2013,X\n";
        let lines: Vec<&[u8]> = text.split(|&b| b == b'\n').collect();
        assert_eq!(delimiter_and_header(&lines), (b',', 2));
        assert_eq!(filled_cells(b"a,\"b,c\", ,d", b','), (3, 4));
        // A header with a few blank headings is still the header.
        let text = b"Ref,First Name,,DOB,Type\nE1,Ann,Lee,01/02/2013,X\n";
        let lines: Vec<&[u8]> = text.split(|&b| b == b'\n').collect();
        assert_eq!(delimiter_and_header(&lines), (b',', 0));
    }

    #[test]
    fn an_old_mac_file_has_its_preamble_found_like_any_other() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("extract.csv");
        let text =
            "Education extract March 2023,,,,\r,,,,\rRef,First Name,Last Name,DOB,Type\rE1,Ann,Lee,01/02/2013,X\r";
        std::fs::write(&path, text).unwrap();
        let s = sample(&path, None, 10).unwrap();
        assert_eq!((s.skip_lines, s.header_line), (2, 3));
        assert_eq!(s.headings, ["Ref", "First Name", "Last Name", "DOB", "Type"]);
        assert_eq!(s.rows.len(), 1);
        // The same file with CRLF line ends reads the same.
        std::fs::write(&path, text.replace('\r', "\r\n")).unwrap();
        let crlf = sample(&path, None, 10).unwrap();
        assert_eq!((crlf.skip_lines, crlf.header_line, crlf.headings), (2, 3, s.headings));
    }
}
