//! A CSV header whose quoted headings hold line breaks (`"Date of` / `Birth"`, as Excel saves a
//! heading typed with Alt+Enter) read as the one record it is, as a run reads it.
//!
//! The sample finds the header by counting delimiters on each physical line, so the lines of
//! such a header look like a preamble of odd lines and the first record is taken for the header
//! (and the file refused as having none). When the sample says lines were skipped, the file's
//! first records are read again as CSV records (quotes minded), and if the first that is as wide
//! as most records and not a padded title holds a line break inside a quoted field, starts above
//! the line the sample took for the header, and no record was skipped, it is the header: the
//! sample is read again under it.

use std::io::Read;
use std::path::Path;

use csv_core::{ReadRecordResult, ReaderBuilder};

use crate::file_source::Encoding;
use crate::file_source::sample::Sample;

/// Records looked at to find the header, as the sample looks at lines.
const HEADER_SEARCH: usize = 30;
/// The longest record read.
const MAX_RECORD_BYTES: usize = 1 << 20;

/// A record of the file: the line it starts on (from 0) and its cells, trimmed (`None` when
/// blank).
struct Record {
    line: u64,
    cells: Vec<Option<String>>,
}

impl Record {
    /// At most one cell filled, or fewer than half: a title or padding, not a header.
    fn padded(&self) -> bool {
        let filled = self.cells.iter().filter(|c| c.is_some()).count();
        filled <= 1 || filled * 2 < self.cells.len()
    }

    /// Whether a quoted field holds a line break.
    fn over_lines(&self) -> bool {
        self.cells.iter().flatten().any(|c| c.contains(['\n', '\r']))
    }
}

/// `sample` read again under its true header when that header is one record over several lines
/// (see the module); `sample` as it is otherwise, or when the file cannot be read again.
pub(super) fn multiline_header(sample: Sample) -> Sample {
    if sample.format.is_workbook() || sample.skip_lines == 0 {
        return sample;
    }
    let (Some(delimiter), Some(encoding)) = (sample.delimiter, sample.encoding) else { return sample };
    let limit = HEADER_SEARCH + sample.rows.len() + 2;
    let Ok(records) = read_records(&sample.path, delimiter, encoding, limit) else { return sample };
    let mut widths: Vec<usize> = records.iter().take(HEADER_SEARCH).map(|r| r.cells.len()).collect();
    widths.sort_unstable();
    let modal = widths.chunk_by(|a, b| a == b).max_by_key(|run| (run.len(), run[0])).map_or(0, |run| run[0]);
    let Some(at) = records.iter().position(|r| r.cells.len() == modal && !r.padded()) else { return sample };
    let header = &records[at];
    // Lines of the header below its first are no preamble: they are skipped only above it.
    if !header.over_lines() || header.line >= sample.header_line.saturating_sub(1) {
        return sample;
    }
    let skip_lines = header.line;
    let headings: Vec<String> = header.cells.iter().map(|c| c.clone().unwrap_or_default()).collect();
    let rows: Vec<Vec<Option<String>>> = records
        .into_iter()
        .skip(at + 1)
        .map(|r| r.cells)
        .filter(|cells| cells.iter().any(Option::is_some))
        .take(sample.rows.len() + 1)
        .collect();
    Sample { skip_lines, header_line: skip_lines + 1, headings, rows, ..sample }
}

/// The first `limit` records of the CSV file at `path` (a UTF-8 byte order mark skipped),
/// their cells decoded in `encoding`, each with the line it starts on. Lines end at a LF, or at
/// a lone CR where the first line does (old Mac files), as the sample counts them.
fn read_records(path: &Path, delimiter: u8, encoding: Encoding, limit: usize) -> std::io::Result<Vec<Record>> {
    let mut file = std::fs::File::open(path)?;
    let mut reader = ReaderBuilder::new().delimiter(delimiter).build();
    let (mut input, mut at) = (vec![0u8; 64 * 1024], 0usize);
    let mut filled = file.read(&mut input)?;
    if input[..filled].starts_with(b"\xEF\xBB\xBF") {
        at = 3;
    }
    let first_end = input[at..filled].iter().position(|b| matches!(b, b'\r' | b'\n'));
    let cr_lines = first_end.is_some_and(|i| input[at + i] == b'\r' && input.get(at + i + 1) != Some(&b'\n'));
    let line_end = if cr_lines { b'\r' } else { b'\n' };
    let (mut output, mut ends) = (vec![0u8; 4096], vec![0usize; 64]);
    let (mut out_len, mut ends_len) = (0usize, 0usize);
    let (mut lines, mut start): (u64, Option<u64>) = (0, None);
    let mut records = Vec::new();
    while records.len() < limit {
        let chunk = &input[at..filled];
        let (result, nin, nout, nend) = reader.read_record(chunk, &mut output[out_len..], &mut ends[ends_len..]);
        for &b in &chunk[..nin] {
            if start.is_none() && !matches!(b, b'\r' | b'\n') {
                start = Some(lines);
            }
            lines += u64::from(b == line_end);
        }
        at += nin;
        out_len += nout;
        ends_len += nend;
        match result {
            // Every byte given was read: the next ones, or none to say the file has ended.
            ReadRecordResult::InputEmpty if filled > 0 => (at, filled) = (0, file.read(&mut input)?),
            ReadRecordResult::InputEmpty => break,
            ReadRecordResult::OutputFull if output.len() < MAX_RECORD_BYTES => output.resize(output.len() * 2, 0),
            ReadRecordResult::OutputEndsFull => ends.resize(ends.len() * 2, 0),
            ReadRecordResult::OutputFull | ReadRecordResult::End => break,
            ReadRecordResult::Record => {
                let mut from = 0;
                let cells = ends[..ends_len]
                    .iter()
                    .map(|&end| {
                        let field = &output[from..end];
                        from = end;
                        encoding.decode(field).map(|c| c.trim().to_owned()).filter(|c| !c.is_empty())
                    })
                    .collect();
                records.push(Record { line: start.take().unwrap_or(lines), cells });
                (out_len, ends_len) = (0, 0);
            }
        }
    }
    Ok(records)
}
