//! CSV input: the header, then records checked for shape and encoding and appended to a batch.

use std::fs::File;
use std::io::Seek as _;
use std::path::Path;

use tellonce_schemas::{FeedSchema, Rule};

use super::batch::BatchBuilder;
use super::columns::ColumnLookup;
use super::dialect::{DelimiterChoice, Encoding, detect_delimiter};
use super::headings::{Headings, match_headings};
use super::tokenizer::{Status, Tokenizer};
use super::{FileSourceOptions, SourceError};
use crate::mapping::Mapping;

/// How an open CSV file is read, once its dialect is settled.
pub(super) struct CsvSettings<'a> {
    /// The delimiter, or detection from the header line.
    pub(super) delimiter: DelimiterChoice,
    /// The encoding (already detected, if it was `auto`).
    pub(super) encoding: Encoding,
    /// Preamble lines before the header.
    pub(super) skip_lines: u64,
    /// How headings become columns.
    pub(super) lookup: ColumnLookup,
    /// The mapping, for its constants and the headings it names.
    pub(super) mapping: Option<&'a Mapping>,
    /// Lines holding anything at the end of the file that are its footer, not records.
    pub(super) footer_lines: u64,
}

/// An open CSV file whose header has been read and matched to the schema.
pub(super) struct CsvInput {
    tok: Tokenizer,
    /// Fields per record, from the header.
    width: usize,
    /// Blank headings ending the header (`…,Duty,`: a delimiter too many on the header line
    /// alone). They name no column and hold no data, so a record may leave them out.
    blank_tail: usize,
    /// (schema column, field index in the file) for every schema column the file has, in
    /// schema order.
    mapped: Vec<(usize, usize)>,
    /// Column names for messages, by the index rows are read into.
    names: Vec<String>,
    unknown: Vec<String>,
    encoding: Encoding,
    /// Where the reader is with respect to the footer (`[file] footer_lines`).
    footer: Footer,
    /// The header's fields as they read (spaces around them dropped), to know it again.
    header: Vec<Vec<u8>>,
}

/// Where a CSV reader is with respect to the file's footer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Footer {
    /// The mapping names no footer, or it is read.
    None,
    /// The records before the footer are being read.
    Ahead,
    /// The footer's lines are being read: a line that reads as a record
    /// ([`super::footer::reads_as_record`]) is one; any other is the footer, skipped.
    Reading,
}

impl CsvInput {
    /// Reads and checks the header. Also returns, per schema column, whether the file has it.
    pub(super) fn open(
        path: &Path,
        file: File,
        feed: &'static FeedSchema,
        opts: &FileSourceOptions,
        settings: CsvSettings<'_>,
    ) -> Result<(CsvInput, Vec<bool>), SourceError> {
        let CsvSettings { delimiter, encoding, skip_lines, lookup, mapping, footer_lines } = settings;
        let read_error = |line: u64| move |source| SourceError::Read { path: path.to_owned(), line, source };
        let mut file = file;
        let footer = match footer_lines {
            0 => None,
            n => Some(super::footer::start(&mut file, n).map_err(read_error(1))?),
        };
        file.seek(std::io::SeekFrom::Start(0)).map_err(read_error(1))?;
        let mut tok = Tokenizer::new(file, opts.max_line_bytes).map_err(read_error(1))?;
        if let Some(at) = footer {
            tok.stop_at(at);
        }
        if let Some(kind) = tok.archive() {
            return Err(SourceError::Compressed { path: path.to_owned(), kind });
        }
        if tok.starts_utf16() {
            return Err(SourceError::Utf16 { path: path.to_owned() });
        }
        if mapping.is_some_and(|m| !m.quotes_fields()) {
            tok.set_no_quoting();
        }
        if skip_lines > 0 {
            tok.skip_lines(skip_lines).map_err(read_error(1))?;
        }
        let mut footer_state = if footer.is_some() { Footer::Ahead } else { Footer::None };
        // A file no longer than its footer (a header and a record, sent without the footer this
        // time): the footer's lines hold the header, so every line is judged as a footer's is.
        if footer.is_some_and(|at| at <= tok.bytes_consumed()) {
            tok.read_on_past_footer().map_err(read_error(tok.line()))?;
            footer_state = Footer::Reading;
        }
        match delimiter {
            DelimiterChoice::Byte(b',') => {}
            DelimiterChoice::Byte(b) => tok.set_delimiter(b),
            DelimiterChoice::Auto => {
                let line = tok.line();
                let detected = detect_delimiter(tok.peek_line().map_err(read_error(line))?);
                tok.set_delimiter(detected);
            }
        }
        loop {
            let status = tok.next_record().map_err(|source| SourceError::Read {
                path: path.to_owned(),
                line: tok.line(),
                source,
            })?;
            match status {
                None => return Err(SourceError::EmptyFile { path: path.to_owned() }),
                Some(Status::TooLong) => {
                    return Err(SourceError::HeaderTooLong {
                        path: path.to_owned(),
                        max_line_bytes: opts.max_line_bytes,
                    });
                }
                Some(Status::Unclosed | Status::StrayQuotes) => {
                    return Err(SourceError::HeaderMalformed { path: path.to_owned() });
                }
                Some(Status::Parsed) if is_blank(&tok) => continue,
                Some(Status::Parsed) => break,
            }
        }

        let width = tok.field_count();
        tok.set_width(width);
        let header: Vec<Vec<u8>> = (0..width).map(|j| tok.field(j).trim_ascii().to_vec()).collect();
        let mut names = Vec::with_capacity(width);
        for j in 0..width {
            let name =
                encoding.decode(tok.field(j)).ok_or_else(|| SourceError::HeaderNotUtf8 { path: path.to_owned() })?;
            names.push(name.into_owned());
        }
        let header_line = tok.record_line();
        let Headings { mapped, present, unknown } =
            match_headings(path, &names, feed, &lookup, mapping).map_err(|e| match e {
                SourceError::MissingColumns { path, columns, .. } => {
                    SourceError::MissingColumns { path, columns, line: header_line }
                }
                other => other,
            })?;
        // A header of nothing but blank headings was skipped as a blank line: one is named.
        let blank_tail = names.iter().rev().take_while(|n| n.trim().is_empty()).count().min(width.saturating_sub(1));
        let input = CsvInput {
            tok,
            width,
            blank_tail,
            mapped,
            names: (0..lookup.width()).map(|i| lookup.name_of(i).to_owned()).collect(),
            unknown,
            encoding,
            footer: footer_state,
            header,
        };
        Ok((input, present))
    }

    /// Header names that match no schema column (trimmed, deduplicated, sorted).
    pub(super) fn unknown_columns(&self) -> Vec<String> {
        self.unknown.clone()
    }

    /// Whether a heading resolved to schema column `i`.
    pub(super) fn has_column(&self, i: usize) -> bool {
        self.mapped.iter().any(|&(c, _)| c == i)
    }

    /// The field delimiter in use.
    pub(super) fn delimiter(&self) -> u8 {
        self.tok.delimiter()
    }

    /// The line the reader is at.
    pub(super) fn line(&self) -> u64 {
        self.tok.line()
    }

    /// File bytes parsed so far.
    pub(super) fn bytes_consumed(&self) -> u64 {
        self.tok.bytes_consumed()
    }

    /// Reads records into `batch` until it is full (returns true) or the file ends (false).
    pub(super) fn fill(&mut self, path: &Path, batch: &mut BatchBuilder) -> Result<bool, SourceError> {
        while !batch.is_full() {
            let status = self.tok.next_record().map_err(|source| SourceError::Read {
                path: path.to_owned(),
                line: self.tok.line(),
                source,
            })?;
            let Some(status) = status else {
                if self.footer == Footer::Ahead {
                    self.footer = Footer::Reading;
                    self.tok.read_on_past_footer().map_err(|source| SourceError::Read {
                        path: path.to_owned(),
                        line: self.tok.line(),
                        source,
                    })?;
                    continue;
                }
                return Ok(false);
            };
            let line = self.tok.record_line();
            if self.footer == Footer::Reading {
                if status == Status::Parsed && self.is_whole() && self.reads_as_record() {
                    self.append(line, batch);
                }
                continue;
            }
            match status {
                Status::Unclosed | Status::StrayQuotes => batch.reject(line, Rule::CsvMalformed, None, self.tok.raw()),
                Status::TooLong => batch.reject(line, Rule::LineTooLong, None, self.tok.raw()),
                Status::Parsed if is_blank(&self.tok) => {}
                Status::Parsed if self.repeats_header() => {
                    batch.reject(line, Rule::CsvRepeatedHeader, None, self.tok.raw());
                }
                Status::Parsed if !self.is_whole() => {
                    batch.reject(line, Rule::CsvRaggedRow, None, self.tok.raw());
                }
                Status::Parsed => self.append(line, batch),
            }
        }
        Ok(true)
    }

    /// Whether the record just read has the header's fields: as many, or more where those past
    /// the header's width are all blank (empty, or spaces and tabs: a trailing delimiter too
    /// many, as some exports write, carries no value the header does not name), or fewer where
    /// those it leaves out are under the blank headings ending the header (a delimiter too many
    /// on the header line alone names no column). Otherwise it is ragged.
    fn is_whole(&self) -> bool {
        let n = self.tok.field_count();
        match n.cmp(&self.width) {
            std::cmp::Ordering::Equal => true,
            std::cmp::Ordering::Less => n >= self.width - self.blank_tail,
            std::cmp::Ordering::Greater => {
                (self.width..n).all(|j| self.tok.field(j).iter().all(|b| matches!(b, b' ' | b'\t')))
            }
        }
    }

    /// Whether the record just read is the header again (two exports joined into one file):
    /// its fields read as the header's.
    fn repeats_header(&self) -> bool {
        let n = self.tok.field_count();
        n >= self.header.len()
            && self.header.iter().enumerate().all(|(j, h)| self.tok.field(j).trim_ascii() == h.as_slice())
            && (self.header.len()..n).all(|j| self.tok.field(j).trim_ascii().is_empty())
            && self.header.iter().any(|h| !h.is_empty())
    }

    /// Whether the line just read, where the footer was expected, fills enough of the header's
    /// columns to be a record: a file sent without its footer.
    fn reads_as_record(&self) -> bool {
        let holds = |j: usize| self.tok.field(j).iter().any(|b| !matches!(b, b' ' | b'\t'));
        let filled: Vec<usize> = (0..self.tok.field_count()).filter(|&j| holds(j)).collect();
        let first = filled.first().map(|&j| String::from_utf8_lossy(self.tok.field(j))).unwrap_or_default();
        super::footer::reads_as_record(&first, filled.len(), self.width)
    }

    /// Field `j` of the record just read, if it has one (a record may leave out the blank
    /// headings ending the header).
    fn field(&self, j: usize) -> Option<&[u8]> {
        (j < self.tok.field_count()).then(|| self.tok.field(j))
    }

    /// Appends the record just read, or rejects it if a field the schema takes is not UTF-8.
    fn append(&self, line: u64, batch: &mut BatchBuilder) {
        if self.encoding != Encoding::Utf8 {
            // A single-byte encoding: every field decodes (borrowed when it is ASCII).
            for &(i, j) in &self.mapped {
                match self.field(j).and_then(|f| self.encoding.decode(f)) {
                    Some(v) => batch.append(i, &v),
                    None => batch.append_null(i),
                }
            }
            batch.end_row(line);
            return;
        }
        let bytes = self.tok.fields();
        // One validation for the whole record; each field is then a slice of it, valid when
        // its ends fall on character boundaries. If the record as a whole is not UTF-8, check
        // field by field: the bad bytes may lie only in columns that are dropped.
        let whole = std::str::from_utf8(bytes).ok();
        let field = |j: usize| -> Option<&str> {
            if j >= self.tok.field_count() {
                return Some("");
            }
            let (a, b) = self.tok.span(j);
            match whole {
                Some(s) => s.get(a..b),
                None => std::str::from_utf8(&bytes[a..b]).ok(),
            }
        };
        if let Some(&(i, _)) = self.mapped.iter().find(|&&(_, j)| field(j).is_none()) {
            let name = self.names.get(i).map(String::as_str);
            batch.reject(line, Rule::InvalidUtf8, name, self.tok.raw());
            return;
        }
        for &(i, j) in &self.mapped {
            match field(j) {
                Some(v) => batch.append(i, v),
                None => batch.append_null(i),
            }
        }
        batch.end_row(line);
    }
}

/// Whether the record just read carries no data: a line of nothing but spaces and tabs, or of
/// nothing but delimiters (`,,,,`, as Excel writes rows it once formatted below a table). It is
/// skipped like an empty line, as an empty row of a workbook is.
fn is_blank(tok: &Tokenizer) -> bool {
    (0..tok.field_count()).all(|j| tok.field(j).iter().all(|b| matches!(b, b' ' | b'\t')))
}

#[cfg(test)]
mod tests {
    use arrow_array::Array;
    use arrow_array::cast::AsArray;
    use arrow_array::types::UInt64Type;
    use tellonce_schemas::{Rule, feed};

    use crate::file_source::{FileFormat, FileSource, FileSourceOptions};

    const HEADER: &str = "record_id,occurrence_ref,forename,surname,incident_date,incident_type,person_role";

    /// (position, forename) of each row, then (position, rule) of each reject.
    type Read = (Vec<(u64, Option<String>)>, Vec<(u64, Rule)>);

    /// What a police file reads as.
    fn read(text: &str) -> Read {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("police.csv");
        std::fs::write(&path, text).unwrap();
        let police = feed::latest("police").unwrap();
        let mut source = FileSource::open(&path, FileFormat::Csv, police, FileSourceOptions::default()).unwrap();
        let forename = police.index_of("forename").unwrap();
        let (mut rows, mut rejects) = (Vec::new(), Vec::new());
        while let Some(raw) = source.next_batch().unwrap() {
            let names = raw.batch.column(forename).as_string::<i32>();
            let positions = raw.batch.column(police.columns.len()).as_primitive::<UInt64Type>();
            for r in 0..raw.batch.num_rows() {
                let name = names.is_valid(r).then(|| names.value(r).to_owned());
                rows.push((positions.value(r), name));
            }
            rejects.extend(raw.rejects.iter().map(|r| (r.position, r.rule)));
        }
        (rows, rejects)
    }

    #[test]
    fn surplus_trailing_fields_that_are_blank_are_read_and_others_are_ragged() {
        let text = format!(
            "{HEADER}\nR1,O1,Ann,Lee,2024-01-05,CRIME,VICTIM,\nR2,O2,Bea,Lee,2024-01-05,CRIME,VICTIM,, \t,\"\"\n\
             R3,O3,Cy,Lee,2024-01-05,CRIME,VICTIM,,x\nR4,O4,Di,Lee,2024-01-05,CRIME\n\
             R5,O5,Ed,Lee,2024-01-05,CRIME,VICTIM\n"
        );
        let (rows, rejects) = read(&text);
        let s = |v: &str| Some(v.to_owned());
        assert_eq!(rows, [(2, s("Ann")), (3, s("Bea")), (6, s("Ed"))]);
        assert_eq!(rejects, [(4, Rule::CsvRaggedRow), (5, Rule::CsvRaggedRow)]);
    }

    #[test]
    fn a_line_repeating_the_header_is_rejected_as_such() {
        let text = format!(
            "{HEADER}\nR1,O1,Ann,Lee,2024-01-05,CRIME,VICTIM\n {HEADER} \nR2,O2,Bea,Lee,2024-01-05,CRIME,VICTIM\n{HEADER},\n"
        );
        let (rows, rejects) = read(&text);
        assert_eq!(rows.iter().map(|r| r.0).collect::<Vec<_>>(), [2, 4]);
        assert_eq!(rejects, [(3, Rule::CsvRepeatedHeader), (5, Rule::CsvRepeatedHeader)]);
    }

    #[test]
    fn records_may_leave_out_the_blank_headings_ending_the_header() {
        // `…,person_role,` on the header line alone: records one field short are whole, as are
        // records with the field; one field shorter still, or short mid-file, is ragged.
        let text = format!(
            "{HEADER},\r\nR1,O1,Ann,Lee,2024-01-05,CRIME,VICTIM\r\nR2,O2,Bea,Lee,2024-01-05,CRIME,VICTIM,\r\n\
             R3,O3,Cy,Lee,2024-01-05,CRIME\r\nR4,O4,Di,Lee,2024-01-05,CRIME,VICTIM\r\n"
        );
        let (rows, rejects) = read(&text);
        let s = |v: &str| Some(v.to_owned());
        assert_eq!(rows, [(2, s("Ann")), (3, s("Bea")), (5, s("Di"))]);
        assert_eq!(rejects, [(4, Rule::CsvRaggedRow)]);
        // Two blank headings: up to two fields left out.
        let (rows, rejects) = read(&format!("{HEADER}, ,\nR1,O1,Ann,Lee,2024-01-05,CRIME,VICTIM\n"));
        assert_eq!((rows, rejects), (vec![(2, s("Ann"))], vec![]));
        // A blank heading mid-header is no licence: a record short of it is ragged.
        let header = HEADER.replace(",forename,", ",forename,,");
        let (rows, rejects) = read(&format!("{header}\nR1,O1,Ann,Lee,2024-01-05,CRIME,VICTIM\n"));
        assert_eq!((rows, rejects), (vec![], vec![(2, Rule::CsvRaggedRow)]));
    }
}
