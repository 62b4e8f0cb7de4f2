//! A CSV record reader over `csv_core` with bounded memory and the original bytes at hand.
//!
//! `csv::Reader` grows its record without limit, so an unclosed quote near the top of a large
//! file would pull the rest of the file into memory. This reader holds at most
//! `max_line_bytes` of any record: a longer record is still parsed to its end (so the records
//! after it are found) but its fields are discarded and only its first `max_line_bytes` bytes
//! are kept. It also knows each record's first line and its raw bytes.
//!
//! A record that reaches the end of the file inside a quoted field, or outgrows
//! `max_line_bytes`, over several lines (a stray opening quote in a file that never quotes
//! swallows every line after it) is handed out a physical line at a time: each line read again
//! from the file, with its own line number and bytes and the record's [`Status`], so that a
//! caller counts one rejected record per line lost, not one for them all.
//!
//! Lines end at a LF, a CRLF or a lone CR (old Mac files), as records do; `csv_core` counts LFs
//! only, so in a file whose first line ends in a lone CR the CRs it consumes are counted here
//! ([`Tokenizer::count_crs`]). Elsewhere a lone CR is content (inside a quoted field) or a
//! stray of a double conversion (`\r\r\n`), and counting it would shift every later line.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};

use csv_core::{ReadRecordResult, ReaderBuilder};

mod quotes;

use quotes::{QuoteState, archive_kind, closed_with_text, utf16_without_mark};

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
    /// [`Tokenizer::raw`] holds its first `max_line_bytes` bytes. Over several lines, each of
    /// them comes as a record of this status, with its own first `max_line_bytes` bytes.
    TooLong,
    /// It reached the end of the file inside a quoted field: an unclosed quote swallowed the
    /// lines after it. No fields; each of its lines comes as a record of this status, and
    /// [`Tokenizer::raw`] holds the line's bytes (at most `max_line_bytes`).
    Unclosed,
    /// A quoted field over several lines that reads as stray quotes rather than a field: the
    /// quote closing it is followed by more than a delimiter (`"Called mum` on one line, `"Rang
    /// back` on a later one), or it holds a whole line shaped like a record (as many delimiters
    /// as the header's width less one). Parsed, it would join the lines between into one record
    /// of the right shape, another record's values in its fields. No fields; each of its lines
    /// comes as a record of this status, as for [`Status::Unclosed`].
    StrayQuotes,
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
    /// Whether `"` quotes fields (RFC 4180); if not, it is a character like any other.
    quoting: bool,
    /// Where the file ends for this reader: before a final Ctrl-Z or NUL padding, or at the
    /// start of a footer (`[file] footer_lines`).
    stop_at: Option<u64>,
    /// File offset where the current record starts, and whether the end of the file ended it.
    rec_offset: u64,
    rec_eof: bool,
    /// A record that swallowed lines, being handed out a line at a time.
    swallowed: Option<Swallowed>,
    /// The header's fields (0 until [`Tokenizer::set_width`]), for [`Status::StrayQuotes`].
    width: usize,
    /// Where the file's data ends (before a final Ctrl-Z or NUL padding).
    data_end: u64,
}

/// A record rejected whole that spans several lines, handed out one physical line at a time
/// (see the module's documentation). Parsing left `line` and `after_cr` as they are past the
/// record; handing out its lines leaves them be.
#[derive(Debug, Clone, Copy)]
struct Swallowed {
    /// The record's status, given to each of its lines.
    status: Status,
    /// The line the next of its lines is on.
    next_line: u64,
    /// File offset just past the record: where its lines end and parsing resumes.
    resume: u64,
}

impl Tokenizer {
    /// A reader at the start of `file`, past a UTF-8 BOM if there is one. The file ends for it
    /// before a final DOS end-of-file byte or NUL padding ([`super::eof`]).
    pub(super) fn new(mut file: File, max_line_bytes: usize) -> io::Result<Self> {
        let data_end = super::eof::data_end(&mut file)?;
        file.seek(SeekFrom::Start(0))?;
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
            quoting: true,
            stop_at: Some(data_end),
            rec_offset: 0,
            rec_eof: false,
            swallowed: None,
            width: 0,
            data_end,
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

    /// Whether the file is UTF-16: it starts with a UTF-16 byte order mark (Excel's "Unicode
    /// Text" save), or, without one (SQL Server's `bcp -w`), [`utf16_without_mark`]. Every other
    /// byte of such a file is NUL, and no single-byte reading of it means anything.
    pub(super) fn starts_utf16(&self) -> bool {
        let head = &self.buf[..self.end];
        head.starts_with(b"\xFF\xFE") || head.starts_with(b"\xFE\xFF") || utf16_without_mark(head)
    }

    /// The kind of archive the file is, if it is one ([`archive_kind`]).
    pub(super) fn archive(&self) -> Option<&'static str> {
        archive_kind(&self.buf[..self.end])
    }

    /// Reads fields separated by `delimiter` instead of a comma. Only before the first record.
    pub(super) fn set_delimiter(&mut self, delimiter: u8) {
        self.delimiter = delimiter;
        self.core = ReaderBuilder::new().delimiter(delimiter).quoting(self.quoting).build();
    }

    /// Ends the file for this reader at byte `offset` (the start of a footer): nothing from
    /// there on is read as a record.
    pub(super) fn stop_at(&mut self, offset: u64) {
        let offset = self.stop_at.map_or(offset, |at| at.min(offset));
        self.stop_at = Some(offset);
        // What was read already (the first chunk, when the file was opened) ends there too.
        let held_end = self.offset + self.end as u64;
        if offset < held_end {
            let keep = usize::try_from(offset.saturating_sub(self.offset)).unwrap_or(0).max(self.pos);
            self.end = keep;
            self.eof = true;
        }
    }

    /// Reads on past the footer set with [`Tokenizer::stop_at`], to the end of the file's data:
    /// once the records before it are read, the footer's lines are read as records too (for
    /// the caller to judge whether they are a footer). Parsing goes on where it stopped.
    pub(super) fn read_on_past_footer(&mut self) -> io::Result<()> {
        if self.stop_at.is_some_and(|at| at < self.data_end) {
            self.stop_at = Some(self.data_end);
            self.eof = false;
            // The file may have been read past the footer's start before it was set.
            self.file.seek(SeekFrom::Start(self.offset + self.end as u64))?;
            // It parsed to the end of its input, and would take more as past the end.
            self.core.reset();
        }
        Ok(())
    }

    /// Reads `"` as a character like any other, for a file whose fields are never quoted (a
    /// stray opening quote then opens nothing). Only before the first record.
    pub(super) fn set_no_quoting(&mut self) {
        self.quoting = false;
        self.core = ReaderBuilder::new().delimiter(self.delimiter).quoting(false).build();
    }

    /// The header's number of fields, once read: a quoted field holding a line with as many
    /// delimiters as the header's fields less one is a record swallowed by a stray quote.
    pub(super) fn set_width(&mut self, width: usize) {
        self.width = width;
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
        // The lines of a swallowing record are read again: the bytes parsed are its end.
        self.swallowed.map_or(self.offset + self.pos as u64, |s| s.resume)
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

    /// Reads the next record; `None` at the end of the file. Empty lines are skipped. A record
    /// that swallowed lines (see the module's documentation) comes back as its first line, and
    /// the calls after it each return the next of its lines, with the record's status.
    pub(super) fn next_record(&mut self) -> io::Result<Option<Status>> {
        loop {
            if let Some(s) = self.swallowed {
                if let Some(status) = self.next_swallowed_line()? {
                    return Ok(Some(status));
                }
                self.swallowed = None;
                self.seek_to(s.resume)?;
            }
            let parsed = match self.parse_record()? {
                Some(Status::Parsed) if self.quoting && self.spans_lines() && self.stray_quotes() => {
                    self.nfields = 0;
                    Some(Status::StrayQuotes)
                }
                other => other,
            };
            match parsed {
                Some(status @ (Status::Unclosed | Status::TooLong | Status::StrayQuotes)) if self.spans_lines() => {
                    // Its lines are read again from the file: a record too long to hold is
                    // no longer in the buffer.
                    let resume = self.offset + self.pos as u64;
                    self.swallowed = Some(Swallowed { status, next_line: self.rec_line, resume });
                    self.seek_to(self.rec_offset)?;
                }
                other => return Ok(other),
            }
        }
    }

    /// Whether the record just parsed, over several lines, reads as stray quotes (see
    /// [`Status::StrayQuotes`]). Only such records are looked at, and few records are.
    fn stray_quotes(&self) -> bool {
        let raw = self.raw();
        if closed_with_text(raw, self.delimiter) {
            return true;
        }
        // A legitimate field over lines (an address, a note) seldom holds a line with as many
        // delimiters as a record; a narrow file's note might, so only wider files are judged.
        if self.width < 4 {
            return false;
        }
        (0..self.nfields).any(|j| {
            let field = self.field(j);
            field.contains(&b'\n') || field.contains(&b'\r')
        }) && (0..self.nfields).any(|j| {
            self.field(j)
                .split(|&b| b == b'\n' || b == b'\r')
                .skip(1)
                .any(|line| line.iter().filter(|&&b| b == self.delimiter).count() + 1 >= self.width)
        })
    }

    /// Whether the record just parsed holds a line end before its own.
    fn spans_lines(&self) -> bool {
        // The line end that ends the record, if `line` counted it already (a LF, or a CR in a
        // file whose lines end so; the CR of a CRLF elsewhere is counted with its LF, later).
        let counted_end = !self.rec_eof
            && self.pos > 0
            && match self.buf[self.pos - 1] {
                b'\n' => true,
                b'\r' => self.cr_lines,
                _ => false,
            };
        self.line > self.rec_line + u64::from(counted_end)
    }

    /// Reads on from file offset `offset`, nothing of the buffer kept.
    fn seek_to(&mut self, offset: u64) -> io::Result<()> {
        self.file.seek(SeekFrom::Start(offset))?;
        (self.offset, self.pos, self.end, self.rec_start) = (offset, 0, 0, 0);
        self.eof = false;
        self.too_long = false;
        Ok(())
    }

    /// The next non-empty line of a swallowing record, its first `max_line` bytes in `prefix`;
    /// `None` past its last line.
    fn next_swallowed_line(&mut self) -> io::Result<Option<Status>> {
        let Some(mut s) = self.swallowed else { return Ok(None) };
        // `raw` is then `prefix`, and a refill keeps nothing before `pos`.
        self.too_long = true;
        (self.nfields, self.out_len) = (0, 0);
        loop {
            self.prefix.clear();
            let Some(counted_end) = self.read_swallowed_line(s.resume)? else { return Ok(None) };
            let line = s.next_line;
            s.next_line += u64::from(counted_end);
            self.swallowed = Some(s);
            // An empty line inside the quotes is no record, as an empty line is none elsewhere.
            if !self.prefix.is_empty() {
                self.rec_line = line;
                return Ok(Some(s.status));
            }
        }
    }

    /// Reads one line from `pos`, no further than file offset `resume`, into `prefix` (at most
    /// `max_line` bytes of it). Returns whether a line end counted in line numbers ended it, or
    /// `None` if nothing is left before `resume`.
    fn read_swallowed_line(&mut self, resume: u64) -> io::Result<Option<bool>> {
        let mut read_any = false;
        loop {
            let left = resume.saturating_sub(self.offset + self.pos as u64);
            if left == 0 || (self.pos == self.end && !self.refill()?) {
                return Ok(read_any.then_some(false));
            }
            read_any = true;
            let avail = (self.end - self.pos).min(usize::try_from(left).unwrap_or(usize::MAX));
            let Some(i) = self.buf[self.pos..self.pos + avail].iter().position(|&b| b == b'\n' || b == b'\r') else {
                self.keep_in_prefix(avail);
                continue;
            };
            self.keep_in_prefix(i);
            let at = self.pos;
            if self.buf[at] == b'\n' {
                self.pos += 1;
                return Ok(Some(true));
            }
            // A CR: with a LF after it, one line end; alone, one only in a file whose lines end
            // so (elsewhere it is content), or as the record's very last byte.
            let last_of_record = i + 1 == avail && left == avail as u64;
            if i + 1 < avail && self.buf[at + 1] == b'\n' {
                self.pos += 2;
                return Ok(Some(true));
            } else if last_of_record || (i + 1 < avail && self.cr_lines) {
                self.pos += 1;
                return Ok(Some(true));
            } else if i + 1 < avail {
                self.keep_in_prefix(1);
            } else if !self.refill()? {
                // The file ends at the CR (the refill kept it, at `pos`).
                self.pos += 1;
                return Ok(Some(self.cr_lines));
            }
        }
    }

    /// Keeps the next `n` bytes from `pos` in `prefix` (up to `max_line` in all), past them.
    fn keep_in_prefix(&mut self, n: usize) {
        let take = n.min(self.max_line.saturating_sub(self.prefix.len()));
        self.prefix.extend_from_slice(&self.buf[self.pos..self.pos + take]);
        self.pos += n;
    }

    /// Reads the next record as it is, however many lines it spans.
    fn parse_record(&mut self) -> io::Result<Option<Status>> {
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
        self.rec_offset = self.offset + self.pos as u64;
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
            if self.too_long && self.quoting {
                self.quotes.feed(&self.buf[self.pos..self.pos + nin], self.delimiter);
            }
            self.pos += nin;
            self.out_len += nout;
            self.nfields += nend;
            self.count_crs(from);
            self.line = (self.core.line() + self.rec_crs).saturating_sub(self.rec_crlfs);
            if res == ReadRecordResult::Record {
                self.rec_eof = at_eof;
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
        if ended_by_eof && !self.too_long && self.quoting {
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
        if self.quoting {
            self.quotes.feed(&self.buf[start..self.pos], self.delimiter);
        }
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
        // A footer (`[file] footer_lines`) is where the file ends for the reader.
        let room = match self.stop_at {
            Some(stop) => usize::try_from(stop.saturating_sub(self.offset + self.end as u64)).unwrap_or(usize::MAX),
            None => usize::MAX,
        };
        let window = (self.buf.len() - self.end).min(room);
        if window == 0 {
            self.eof = true;
            return Ok(false);
        }
        loop {
            match self.file.read(&mut self.buf[self.end..self.end + window]) {
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

#[cfg(test)]
mod tests;
