//! A CSV record reader over `csv_core` with bounded memory and the original bytes at hand.
//!
//! `csv::Reader` grows its record without limit, so an unclosed quote near the top of a large
//! file would pull the rest of the file into memory. This reader holds at most
//! `max_line_bytes` of any record: a longer record is still parsed to its end (so the records
//! after it are found) but its fields are discarded and only its first `max_line_bytes` bytes
//! are kept. It also knows each record's first line and its raw bytes.
//!
//! Lines end at a LF, a CRLF or a lone CR (old Mac files), as records do; `csv_core` counts LFs
//! only, so in a file whose first line ends in a lone CR the CRs it consumes are counted here
//! ([`Tokenizer::count_crs`]). Elsewhere a lone CR is content (inside a quoted field) or a
//! stray of a double conversion (`\r\r\n`), and counting it would shift every later line.

use std::fs::File;
use std::io::{self, Read};

use csv_core::{ReadRecordResult, ReaderBuilder};

/// Bytes read from the file at a time.
const CHUNK_BYTES: usize = 256 * 1024;

/// The UTF-8 byte order mark.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// What the record just read is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Status {
    /// Parsed: its fields are in [`Tokenizer::field`].
    Parsed,
    /// Longer than `max_line_bytes` (without its line terminator): no fields, and
    /// [`Tokenizer::raw`] holds its first `max_line_bytes` bytes.
    TooLong,
    /// It reached the end of the file inside a quoted field: an unclosed quote swallowed the
    /// lines after it. No fields; [`Tokenizer::raw`] holds its bytes (at most `max_line_bytes`).
    Unclosed,
}

/// Reads CSV records (RFC 4180: `,`, `"`, doubled quotes, CRLF, LF or CR) from a file.
pub(super) struct Tokenizer {
    file: File,
    core: csv_core::Reader,
    max_line: usize,
    /// Input; `buf[..end]` holds data, `buf[pos..end]` is not parsed yet.
    buf: Vec<u8>,
    pos: usize,
    end: usize,
    /// File offset of `buf[0]`.
    offset: u64,
    eof: bool,
    /// Line number at `pos` (1-based, counting LF, CRLF and lone CR line ends).
    line: u64,
    /// The byte before `pos` is a CR, its line end counted: a LF at `pos` completes a CRLF.
    after_cr: bool,
    /// Whether the file's lines end in a lone CR (its first line end is one).
    cr_lines: bool,
    /// In the current record: its CRs, and its LFs right after a CR, which `csv_core` counted as
    /// line ends (it counts every LF) though their CR was counted already.
    rec_crs: u64,
    rec_crlfs: u64,
    /// Field bytes of the current record (quotes removed) and the end of each field.
    out: Vec<u8>,
    ends: Vec<usize>,
    out_len: usize,
    nfields: usize,
    /// Current record: where it starts in `buf` (while not too long), its first line, its raw
    /// length without terminator.
    rec_start: usize,
    rec_line: u64,
    raw_len: usize,
    too_long: bool,
    /// The first `max_line` bytes of a record that turned out too long.
    prefix: Vec<u8>,
    /// Quote state of a too-long record, followed byte by byte (only for those).
    quotes: QuoteState,
    /// The field delimiter.
    delimiter: u8,
}

impl Tokenizer {
    /// A reader at the start of `file`, past a UTF-8 BOM if there is one.
    pub(super) fn new(file: File, max_line_bytes: usize) -> io::Result<Self> {
        let max_line = max_line_bytes.max(1);
        let first_out = max_line.min(64 * 1024) + 1;
        let mut t = Tokenizer {
            file,
            core: ReaderBuilder::new().build(),
            max_line,
            buf: vec![0; max_line + CHUNK_BYTES + 1],
            pos: 0,
            end: 0,
            offset: 0,
            eof: false,
            line: 1,
            after_cr: false,
            cr_lines: false,
            rec_crs: 0,
            rec_crlfs: 0,
            out: vec![0; first_out],
            ends: vec![0; 64],
            out_len: 0,
            nfields: 0,
            rec_start: 0,
            rec_line: 1,
            raw_len: 0,
            too_long: false,
            prefix: Vec::new(),
            quotes: QuoteState::StartField,
            delimiter: b',',
        };
        while t.end < BOM.len() && t.refill()? {}
        if t.buf[..t.end].starts_with(BOM) {
            t.pos = BOM.len();
        }
        // The first line end, CRs run together (a blank CR line, or the stray CR of `\r\r\n`),
        // and what follows them: anything but a LF makes it a CR file.
        let head = &t.buf[t.pos..t.end];
        t.cr_lines = head
            .iter()
            .position(|&b| b == b'\n' || b == b'\r')
            .is_some_and(|i| head[i] == b'\r' && head[i..].iter().find(|&&b| b != b'\r').is_some_and(|&b| b != b'\n'));
        Ok(t)
    }

    /// Whether a lone CR ends a line in this file (its first line ends in one, as old Mac
    /// files do): what any other pass over its lines must split on too.
    pub(super) fn cr_lines(&self) -> bool {
        self.cr_lines
    }

    /// Whether the file starts with a UTF-16 byte order mark (Excel's "Unicode Text" save):
    /// every other byte of it is NUL, and no single-byte reading of it means anything.
    pub(super) fn starts_utf16(&self) -> bool {
        let head = &self.buf[..self.end];
        head.starts_with(b"\xFF\xFE") || head.starts_with(b"\xFE\xFF")
    }

    /// Reads fields separated by `delimiter` instead of a comma. Only before the first record.
    pub(super) fn set_delimiter(&mut self, delimiter: u8) {
        self.delimiter = delimiter;
        self.core = ReaderBuilder::new().delimiter(delimiter).build();
    }

    /// The field delimiter.
    pub(super) fn delimiter(&self) -> u8 {
        self.delimiter
    }

    /// Skips `n` lines unparsed (a preamble before the header: a title, an export date), which
    /// may hold anything, even an unbalanced quote. They still count in line numbers.
    pub(super) fn skip_lines(&mut self, mut n: u64) -> io::Result<()> {
        while n > 0 {
            let cr_lines = self.cr_lines;
            if let Some(i) = self.buf[self.pos..self.end].iter().position(|&b| b == b'\n' || (cr_lines && b == b'\r')) {
                let end = self.buf[self.pos + i];
                self.pos += i + 1;
                if end == b'\n' && i == 0 && self.after_cr {
                    // The LF of a CRLF, whose line end was counted at its CR.
                    self.after_cr = false;
                    continue;
                }
                self.after_cr = end == b'\r';
                self.line += 1;
                n -= 1;
                continue;
            }
            // A CR ending the buffer leaves `after_cr` set for the LF the refill may bring.
            if self.pos < self.end {
                self.after_cr = false;
            }
            self.pos = self.end;
            self.rec_start = self.pos;
            if !self.refill()? {
                break;
            }
        }
        self.rec_start = self.pos;
        Ok(())
    }

    /// The next non-empty line, unparsed and without its terminator (at most `max_line_bytes`
    /// of it), without consuming it: the header, for delimiter detection.
    pub(super) fn peek_line(&mut self) -> io::Result<&[u8]> {
        self.rec_start = self.pos;
        loop {
            let start = self.buf[self.pos..self.end].iter().position(|&b| b != b'\n' && b != b'\r');
            if let Some(s) = start {
                let from = self.pos + s;
                if let Some(len) = self.buf[from..self.end].iter().position(|&b| b == b'\n' || b == b'\r') {
                    return Ok(&self.buf[from..from + len]);
                }
                if self.end - from > self.max_line {
                    return Ok(&self.buf[from..from + self.max_line]);
                }
            }
            if !self.refill()? {
                let from = self.pos + start.unwrap_or(self.end - self.pos);
                return Ok(&self.buf[from..self.end]);
            }
        }
    }

    /// File bytes parsed so far.
    pub(super) fn bytes_consumed(&self) -> u64 {
        self.offset + self.pos as u64
    }

    /// The line the parser is at (for error messages).
    pub(super) fn line(&self) -> u64 {
        self.line
    }

    /// The line the record just read starts on.
    pub(super) fn record_line(&self) -> u64 {
        self.rec_line
    }

    /// The number of fields of the record just read (0 unless [`Status::Parsed`]).
    pub(super) fn field_count(&self) -> usize {
        self.nfields
    }

    /// All field bytes of the record just read, back to back; field `j` is `fields()[span(j)]`.
    pub(super) fn fields(&self) -> &[u8] {
        &self.out[..self.out_len]
    }

    /// Where field `j` of the record just read lies in [`Tokenizer::fields`].
    #[inline]
    pub(super) fn span(&self, j: usize) -> (usize, usize) {
        let start = if j == 0 { 0 } else { self.ends[j - 1] };
        (start, self.ends[j])
    }

    /// Field `j` of the record just read.
    pub(super) fn field(&self, j: usize) -> &[u8] {
        let (a, b) = self.span(j);
        &self.out[a..b]
    }

    /// The original bytes of the record just read, without its line terminator; at most
    /// `max_line_bytes` of them.
    pub(super) fn raw(&self) -> &[u8] {
        if self.too_long { &self.prefix } else { &self.buf[self.rec_start..self.rec_start + self.raw_len] }
    }

    /// Reads the next record; `None` at the end of the file. Empty lines are skipped.
    pub(super) fn next_record(&mut self) -> io::Result<Option<Status>> {
        // Skip line terminators (blank lines, the LF of a CRLF) ourselves, so that the record
        // starts, and its first line is counted, at its first byte.
        loop {
            if self.pos == self.end {
                // Nothing before `pos` is needed any more.
                self.rec_start = self.pos;
                self.too_long = false;
                if !self.refill()? {
                    return Ok(None);
                }
                continue;
            }
            match self.buf[self.pos] {
                b'\n' => {
                    self.pos += 1;
                    // The LF of a CRLF was counted at its CR.
                    self.line += u64::from(!self.after_cr);
                    self.after_cr = false;
                }
                b'\r' => {
                    self.pos += 1;
                    if self.cr_lines {
                        self.line += 1;
                        self.after_cr = true;
                    }
                }
                _ => break,
            }
        }
        self.after_cr = false;
        self.rec_crs = 0;
        self.rec_crlfs = 0;
        self.core.set_line(self.line);
        self.rec_start = self.pos;
        self.rec_line = self.line;
        self.out_len = 0;
        self.nfields = 0;
        self.too_long = false;
        self.prefix.clear();
        self.quotes = QuoteState::StartField;

        let ended_by_eof = loop {
            let at_eof = self.pos == self.end;
            let from = self.pos;
            let (res, nin, nout, nend) = self.core.read_record(
                &self.buf[self.pos..self.end],
                &mut self.out[self.out_len..],
                &mut self.ends[self.nfields..],
            );
            if self.too_long {
                self.quotes.feed(&self.buf[self.pos..self.pos + nin], self.delimiter);
            }
            self.pos += nin;
            self.out_len += nout;
            self.nfields += nend;
            self.count_crs(from);
            self.line = (self.core.line() + self.rec_crs).saturating_sub(self.rec_crlfs);
            if res == ReadRecordResult::Record {
                break at_eof;
            }
            // Not complete: everything consumed so far is content.
            if !self.too_long && self.pos - self.rec_start > self.max_line {
                self.become_too_long();
            }
            match res {
                ReadRecordResult::InputEmpty => {
                    self.refill()?;
                }
                ReadRecordResult::OutputFull => {
                    if self.too_long {
                        self.out_len = 0;
                    } else {
                        let len = self.out.len() * 2;
                        self.out.resize(len, 0);
                    }
                }
                ReadRecordResult::OutputEndsFull => {
                    if self.too_long {
                        self.nfields = 0;
                    } else {
                        let len = self.ends.len() * 2;
                        self.ends.resize(len, 0);
                    }
                }
                // Only reachable with no record under way, which the skip above rules out.
                ReadRecordResult::End | ReadRecordResult::Record => return Ok(None),
            }
        };

        if !self.too_long {
            let consumed = self.pos - self.rec_start;
            // A record ended by a terminator consumed exactly one terminator byte (`\n`, or
            // the `\r` of a CRLF, whose `\n` the next call skips).
            self.raw_len = if ended_by_eof { consumed } else { consumed - 1 };
            if self.raw_len > self.max_line {
                self.become_too_long();
            }
        }
        if ended_by_eof && !self.too_long {
            self.quotes.feed(&self.buf[self.rec_start..self.rec_start + self.raw_len], self.delimiter);
        }
        let unclosed = ended_by_eof && self.quotes == QuoteState::InQuoted;
        Ok(Some(if unclosed {
            self.nfields = 0;
            Status::Unclosed
        } else if self.too_long {
            self.nfields = 0;
            Status::TooLong
        } else {
            Status::Parsed
        }))
    }

    /// Counts the CRs in `buf[from..pos]`, just consumed by `csv_core`, which counts only LFs: a
    /// lone CR ends a line (a CR-only file), and a CRLF is one line end, counted at its CR, so
    /// its LF, counted by `csv_core`, is counted off.
    #[inline]
    fn count_crs(&mut self, from: usize) {
        if !self.cr_lines {
            return;
        }
        let bytes = &self.buf[from..self.pos];
        let Some((&last, body)) = bytes.split_last() else { return };
        if self.after_cr && bytes[0] == b'\n' {
            self.rec_crlfs += 1;
        }
        // Most records hold no CR but the one of their CRLF, consumed last: the body is looked
        // through for one (`memchr`) before it is counted byte by byte.
        if body.contains(&b'\r') {
            for (i, _) in body.iter().enumerate().filter(|&(_, &b)| b == b'\r') {
                self.rec_crs += 1;
                self.rec_crlfs += u64::from(bytes[i + 1] == b'\n');
            }
        }
        // A CR consumed last: whether a LF follows is for the next bytes, or the next record.
        self.after_cr = last == b'\r';
        self.rec_crs += u64::from(self.after_cr);
    }

    /// Keeps the first `max_line` bytes of the current record, starts following its quotes,
    /// and stops keeping its fields.
    fn become_too_long(&mut self) {
        self.too_long = true;
        let start = self.rec_start;
        self.prefix.extend_from_slice(&self.buf[start..start + self.max_line]);
        self.quotes.feed(&self.buf[start..self.pos], self.delimiter);
        self.out_len = 0;
        self.nfields = 0;
    }

    /// Reads more input, keeping the unparsed bytes and (unless it is too long) the current
    /// record's bytes. Returns false at the end of the file.
    fn refill(&mut self) -> io::Result<bool> {
        if self.eof {
            return Ok(false);
        }
        let keep = if self.too_long { self.pos } else { self.rec_start.min(self.pos) };
        if keep > 0 {
            self.buf.copy_within(keep..self.end, 0);
            self.offset += keep as u64;
            self.pos -= keep;
            self.end -= keep;
            self.rec_start = self.rec_start.saturating_sub(keep);
        }
        loop {
            match self.file.read(&mut self.buf[self.end..]) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(false);
                }
                Ok(n) => {
                    self.end += n;
                    return Ok(true);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }
}

/// Where a CSV parser is with respect to quotes, following `csv_core`'s rules: a quote opens a
/// quoted field only at the start of a field; inside one, a doubled quote is a literal quote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum QuoteState {
    StartField,
    InField,
    InQuoted,
    /// Just after a quote inside a quoted field: closed, unless another quote follows.
    AfterQuote,
}

impl QuoteState {
    fn feed(&mut self, bytes: &[u8], delimiter: u8) {
        use QuoteState::*;
        let mut s = *self;
        for &b in bytes {
            s = match (s, b) {
                (InQuoted, b'"') => AfterQuote,
                (InQuoted, _) => InQuoted,
                (StartField | AfterQuote, b'"') => InQuoted,
                (_, d) if d == delimiter => StartField,
                _ => InField,
            };
        }
        *self = s;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn tokenizer(bytes: &[u8], max_line: usize) -> (tempfile::NamedTempFile, Tokenizer) {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(bytes).unwrap();
        let t = Tokenizer::new(File::open(f.path()).unwrap(), max_line).unwrap();
        (f, t)
    }

    /// (line, status, fields, raw) of every record.
    fn all(bytes: &[u8], max_line: usize) -> Vec<(u64, Status, Vec<String>, String)> {
        let (_f, mut t) = tokenizer(bytes, max_line);
        let mut got = Vec::new();
        while let Some(s) = t.next_record().unwrap() {
            let fields = (0..t.field_count()).map(|j| String::from_utf8_lossy(t.field(j)).into_owned()).collect();
            got.push((t.record_line(), s, fields, String::from_utf8_lossy(t.raw()).into_owned()));
        }
        assert_eq!(t.bytes_consumed(), bytes.len() as u64);
        got
    }

    #[test]
    fn quote_state_follows_csv_rules() {
        let state = |s: &str| {
            let mut q = QuoteState::StartField;
            q.feed(s.as_bytes(), b',');
            q
        };
        assert_eq!(state("a,\"b"), QuoteState::InQuoted);
        assert_eq!(state("a,\"b\""), QuoteState::AfterQuote);
        assert_eq!(state("a,\"b\"\"c"), QuoteState::InQuoted);
        assert_eq!(state("a\"b,c"), QuoteState::InField, "a quote inside an unquoted field is literal");
        assert_eq!(state("\"x\"y,\"z\""), QuoteState::AfterQuote);
        assert_eq!(state("\"x\"y,\"z\"\""), QuoteState::InQuoted, "a doubled quote reopens");
    }

    #[test]
    fn records_lines_and_raw_bytes() {
        let got = all(b"\xEF\xBB\xBFa,b\r\n\r\n1,\"x\ny\"\r\n2,\"q\"\"\"\n", 100);
        assert_eq!(got.len(), 3);
        assert_eq!(got[0], (1, Status::Parsed, vec!["a".into(), "b".into()], "a,b".into()));
        assert_eq!(got[1], (3, Status::Parsed, vec!["1".into(), "x\ny".into()], "1,\"x\ny\"".into()));
        assert_eq!(got[2], (5, Status::Parsed, vec!["2".into(), "q\"".into()], "2,\"q\"\"\"".into()));
    }

    #[test]
    fn the_last_record_without_terminator_and_an_unclosed_quote() {
        let got = all(b"a,b\n1,2", 100);
        assert_eq!(got[1], (2, Status::Parsed, vec!["1".into(), "2".into()], "1,2".into()));
        let got = all(b"a,b\n1,\"2\n3,4\n", 100);
        assert_eq!(got[1], (2, Status::Unclosed, vec![], "1,\"2\n3,4\n".into()));
    }

    #[test]
    fn long_records_are_cut_and_parsing_resumes_after_them() {
        let long = "x".repeat(50);
        let text = format!("a,b\n1,{long}\n2,\"{long}\n{long}\"\n3,4\n5,\"{long}");
        let got = all(text.as_bytes(), 20);
        let summary: Vec<_> = got.iter().map(|(l, s, _, raw)| (*l, *s, raw.len())).collect();
        assert_eq!(
            summary,
            [
                (1, Status::Parsed, 3),
                (2, Status::TooLong, 20),
                (3, Status::TooLong, 20),
                (5, Status::Parsed, 3),
                (6, Status::Unclosed, 20)
            ]
        );
        assert_eq!(got[1].3, format!("1,{}", &long[..18]));
    }

    #[test]
    fn preamble_lines_are_skipped_and_other_delimiters_read() {
        let (_f, mut t) = tokenizer(b"Export \"of\nrun 3\n\nA|\"B|C\"\n1|2\n", 100);
        t.skip_lines(2).unwrap();
        assert_eq!(t.peek_line().unwrap(), b"A|\"B|C\"");
        t.set_delimiter(b'|');
        assert_eq!(t.next_record().unwrap(), Some(Status::Parsed));
        assert_eq!((t.record_line(), t.field_count(), t.field(1)), (4, 2, &b"B|C"[..]));
        assert_eq!(t.next_record().unwrap(), Some(Status::Parsed));
        assert_eq!((t.record_line(), t.field(1)), (5, &b"2"[..]));
        assert_eq!(t.next_record().unwrap(), None);
        let (_f, mut t) = tokenizer(b"only one line", 100);
        assert_eq!(t.peek_line().unwrap(), b"only one line");
        t.skip_lines(5).unwrap();
        assert_eq!(t.next_record().unwrap(), None);
    }

    #[test]
    fn a_lone_cr_ends_a_line_and_a_crlf_is_one() {
        // Old Mac line ends, a blank line, and a quoted field over two lines.
        let got = all(b"a,b\r1,2\r\r3,\"x\ry\"\r4,5", 100);
        let lines: Vec<_> = got.iter().map(|(l, s, f, _)| (*l, *s, f.len())).collect();
        assert_eq!(
            lines,
            [(1, Status::Parsed, 2), (2, Status::Parsed, 2), (4, Status::Parsed, 2), (6, Status::Parsed, 2)]
        );
        assert_eq!(got[2].2[1], "x\ry");
        // Every kind at once, in quotes and out: LF, CRLF, CR, and a blank CRLF. The first line
        // ends in a LF, so a lone CR ends a record but no line: `r` and `s` share one.
        let got = all(b"h\n\"p\r\nq\"\r\n\r\nr\rs\n\"t\r\"\nu", 100);
        let lines: Vec<_> = got.iter().map(|(l, _, f, _)| (*l, f[0].clone())).collect();
        assert_eq!(
            lines,
            [
                (1, "h".into()),
                (2, "p\r\nq".into()),
                (5, "r".into()),
                (5, "s".into()),
                (6, "t\r".into()),
                (7, "u".into())
            ]
        );
    }

    #[test]
    fn a_crlf_split_between_reads_is_one_line_end() {
        // The CR of a CRLF inside a quoted field as the last byte of the first read (the buffer:
        // `max_line + CHUNK_BYTES + 1` bytes), its LF the first of the next.
        // A first line ending in a lone CR makes it a CR file, whose CRs are counted.
        let max_line = 10;
        let head = "y".repeat(max_line + CHUNK_BYTES - 3);
        let text = format!("h\r\"{head}\r\nz\"\rnext\r\nlast\r");
        assert_eq!(text.as_bytes()[max_line + CHUNK_BYTES], b'\r');
        let got = all(text.as_bytes(), max_line);
        let lines: Vec<_> = got.iter().map(|(l, s, ..)| (*l, *s)).collect();
        assert_eq!(lines, [(1, Status::Parsed), (2, Status::TooLong), (4, Status::Parsed), (5, Status::Parsed)]);
    }

    #[test]
    fn preamble_lines_may_end_in_a_lone_cr() {
        let (_f, mut t) = tokenizer(b"Export\rrun 3\r\nA,B\r1,2\r", 100);
        t.skip_lines(2).unwrap();
        assert_eq!(t.peek_line().unwrap(), b"A,B");
        assert_eq!(t.next_record().unwrap(), Some(Status::Parsed));
        assert_eq!((t.record_line(), t.field(1)), (3, &b"B"[..]));
        assert_eq!(t.next_record().unwrap(), Some(Status::Parsed));
        assert_eq!((t.record_line(), t.field(1)), (4, &b"2"[..]));
        assert_eq!(t.next_record().unwrap(), None);
        assert_eq!(t.line(), 5);
    }

    #[test]
    fn a_lone_cr_is_a_line_end_only_in_a_file_whose_lines_end_so() {
        // A LF file: a CR inside a quoted field is content, and a stray CR of a double
        // conversion (CR CR LF) ends nothing; the lines are the LFs.
        let lines = |text: &[u8]| all(text, 100).iter().map(|(l, ..)| *l).collect::<Vec<_>>();
        assert_eq!(lines(b"a,b\n1,\"x\ry\"\n2,z\n"), [1, 2, 3]);
        assert_eq!(lines(b"a,b\r\r\n1,x\r\r\n2,y\r\r\n"), [1, 2, 3]);
        assert_eq!(lines(b"a,b\r\n1,\"x\ry\"\r\n2,z\r\n"), [1, 2, 3]);
        // A CR-only file: each CR ends a line.
        assert_eq!(lines(b"a,b\r1,x\r\r2,y\r"), [1, 2, 4]);
    }

    #[test]
    fn a_preamble_crlf_split_between_reads_is_one_line_end() {
        // The first read fills the buffer (the maximum line plus a chunk and one byte): a title
        // that long puts its CR last, and its LF comes with the next read.
        let title = "t".repeat(100 + CHUNK_BYTES);
        let text = format!("{title}\r\nrun 3\r\nA,B\r\n1,2\r\n");
        let (_f, mut t) = tokenizer(text.as_bytes(), 100);
        t.skip_lines(2).unwrap();
        assert_eq!(t.peek_line().unwrap(), b"A,B");
        assert_eq!(t.next_record().unwrap(), Some(Status::Parsed));
        assert_eq!(t.record_line(), 3);
    }

    #[test]
    fn a_record_of_exactly_the_maximum_passes() {
        let got = all(b"abcde\r\nabcdef\r\nabcde", 5);
        let summary: Vec<_> = got.iter().map(|(l, s, _, _)| (*l, *s)).collect();
        assert_eq!(summary, [(1, Status::Parsed), (2, Status::TooLong), (3, Status::Parsed)]);
    }

    #[test]
    fn records_spanning_many_refills_keep_their_bytes() {
        // Fields far bigger than a read chunk, with max_line larger still.
        let big = "y".repeat(CHUNK_BYTES * 2 + 17);
        let text = format!("h\n\"{big}\"\nz\n");
        let got = all(text.as_bytes(), CHUNK_BYTES * 3);
        assert_eq!(got[1].2, vec![big.clone()]);
        assert_eq!(got[1].3.len(), big.len() + 2);
        assert_eq!((got[2].0, got[2].2.clone()), (3, vec!["z".to_owned()]));
    }
}
