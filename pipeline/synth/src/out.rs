//! Rows and the files they go to: one reusable row buffer per feed, CSV (RFC 4180) and JSON Lines
//! writers, and small allocation-free formatters for dates and numbers.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use tellonce_schemas::identifiers::dates::civil_from_days;
use tellonce_schemas::{FeedSchema, Kind, OnInvalid, Rule};

use super::SynthError;

/// How a feed file is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    /// CSV with a header row.
    Csv,
    /// One JSON object per line; empty values omitted (or `null` where asked).
    Jsonl,
}

impl Format {
    /// The name used in file names and the summary.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Jsonl => "jsonl",
        }
    }
}

/// An I/O error with its path.
pub(crate) fn io_err(path: &Path, source: std::io::Error) -> SynthError {
    SynthError::Io { path: path.to_path_buf(), source }
}

/// The column of `schema` called `name`, or an error naming both.
pub(crate) fn column(schema: &FeedSchema, name: &str) -> Result<usize, SynthError> {
    schema.index_of(name).ok_or_else(|| SynthError::Io {
        path: PathBuf::from(schema.name),
        source: std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("synth: the {} schema has no column `{name}`", schema.name),
        ),
    })
}

/// One row of a feed, in schema column order; the buffers are reused from row to row.
pub(crate) struct RowBuf {
    pub(crate) fields: Vec<String>,
}

impl RowBuf {
    /// An empty row for a schema.
    pub(crate) fn new(schema: &FeedSchema) -> Self {
        RowBuf { fields: schema.columns.iter().map(|_| String::with_capacity(16)).collect() }
    }

    /// Empties every field.
    pub(crate) fn clear(&mut self) {
        self.fields.iter_mut().for_each(String::clear);
    }

    /// The buffer of column `c`, emptied.
    pub(crate) fn slot(&mut self, c: usize) -> &mut String {
        let f = &mut self.fields[c];
        f.clear();
        f
    }

    /// Sets column `c` to `v`.
    pub(crate) fn set(&mut self, c: usize, v: &str) {
        self.slot(c).push_str(v);
    }

    /// Sets column `c`, if the schema has it.
    pub(crate) fn set_opt(&mut self, c: Option<usize>, v: &str) {
        if let Some(c) = c {
            self.set(c, v);
        }
    }

    /// Sets column `c` to a date.
    pub(crate) fn date(&mut self, c: usize, days: i32) {
        push_date(self.slot(c), days);
    }

    /// Sets column `c` to a whole number.
    pub(crate) fn int(&mut self, c: usize, v: u64) {
        push_uint(self.slot(c), v);
    }

    /// Sets column `c` to pounds and pence.
    pub(crate) fn money(&mut self, c: usize, pence: i64) {
        let s = self.slot(c);
        let p = pence.unsigned_abs();
        push_uint(s, p / 100);
        s.push('.');
        push_padded(s, p % 100, 2);
    }

    /// Sets column `c` to a number with one decimal place, given in tenths.
    pub(crate) fn tenths(&mut self, c: usize, tenths: u64) {
        let s = self.slot(c);
        push_uint(s, tenths / 10);
        s.push('.');
        push_uint(s, tenths % 10);
    }

    /// Sets column `c` to `true` or `false`.
    pub(crate) fn flag(&mut self, c: usize, v: bool) {
        self.set(c, if v { "true" } else { "false" });
    }

    /// The value of column `c`.
    pub(crate) fn get(&self, c: usize) -> &str {
        &self.fields[c]
    }
}

/// Appends `YYYY-MM-DD`.
pub(crate) fn push_date(out: &mut String, days: i32) {
    let (y, m, d) = civil_from_days(days);
    push_padded(out, u64::from(y.unsigned_abs()), 4);
    out.push('-');
    push_padded(out, u64::from(m), 2);
    out.push('-');
    push_padded(out, u64::from(d), 2);
}

/// Appends a whole number.
pub(crate) fn push_uint(out: &mut String, v: u64) {
    push_padded(out, v, 1);
}

/// Appends a whole number zero-padded to at least `width` digits.
pub(crate) fn push_padded(out: &mut String, mut v: u64, width: usize) {
    let mut buf = [b'0'; 20];
    let mut i = buf.len();
    while v > 0 {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
    }
    let start = i.min(buf.len() - width.min(buf.len()));
    for &b in &buf[start..] {
        out.push(char::from(b));
    }
}

/// How a column's values are written in JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum JsonType {
    Text,
    Number,
    Boolean,
}

/// A feed file being written.
pub(crate) struct FeedSink {
    out: BufWriter<File>,
    path: PathBuf,
    format: Format,
    names: Vec<&'static str>,
    types: Vec<JsonType>,
    /// JSON Lines: write `null` for an empty value instead of leaving the key out.
    nulls: bool,
    line: Vec<u8>,
    /// Rows written.
    pub(crate) rows: usize,
}

impl FeedSink {
    /// Creates the file and writes the CSV header.
    pub(crate) fn create(path: &Path, schema: &FeedSchema, format: Format, nulls: bool) -> Result<Self, SynthError> {
        let file = File::create(path).map_err(|e| io_err(path, e))?;
        let types = schema
            .columns
            .iter()
            .map(|c| match c.kind {
                Kind::Integer { .. } | Kind::Decimal { .. } => JsonType::Number,
                Kind::Boolean => JsonType::Boolean,
                _ => JsonType::Text,
            })
            .collect();
        let mut sink = FeedSink {
            out: BufWriter::with_capacity(1 << 16, file),
            path: path.to_path_buf(),
            format,
            names: schema.columns.iter().map(|c| c.name).collect(),
            types,
            nulls,
            line: Vec::with_capacity(512),
            rows: 0,
        };
        if format == Format::Csv {
            let header = sink.names.join(",");
            sink.out.write_all(header.as_bytes()).map_err(|e| io_err(path, e))?;
            sink.out.write_all(b"\n").map_err(|e| io_err(path, e))?;
        }
        Ok(sink)
    }

    /// Writes one row.
    pub(crate) fn write(&mut self, row: &RowBuf) -> Result<(), SynthError> {
        self.line.clear();
        match self.format {
            Format::Csv => {
                for (i, f) in row.fields.iter().enumerate() {
                    if i > 0 {
                        self.line.push(b',');
                    }
                    csv_field(&mut self.line, f);
                }
            }
            Format::Jsonl => {
                self.line.push(b'{');
                let mut first = true;
                for (i, f) in row.fields.iter().enumerate() {
                    if f.is_empty() && !self.nulls {
                        continue;
                    }
                    if !first {
                        self.line.push(b',');
                    }
                    first = false;
                    json_string(&mut self.line, self.names[i]);
                    self.line.push(b':');
                    let raw = match self.types[i] {
                        JsonType::Number => !f.is_empty() && f.parse::<f64>().is_ok_and(f64::is_finite),
                        JsonType::Boolean => f == "true" || f == "false",
                        JsonType::Text => false,
                    };
                    if f.is_empty() {
                        self.line.extend_from_slice(b"null");
                    } else if raw {
                        self.line.extend_from_slice(f.as_bytes());
                    } else {
                        json_string(&mut self.line, f);
                    }
                }
                self.line.push(b'}');
            }
        }
        self.line.push(b'\n');
        self.rows += 1;
        self.out.write_all(&self.line).map_err(|e| io_err(&self.path, e))
    }

    /// Flushes the file.
    pub(crate) fn finish(mut self) -> Result<(PathBuf, usize), SynthError> {
        self.out.flush().map_err(|e| io_err(&self.path, e))?;
        Ok((self.path, self.rows))
    }
}

/// Appends a CSV field, quoted when it holds a comma, a quote or a line break (RFC 4180).
pub(crate) fn csv_field(out: &mut Vec<u8>, f: &str) {
    if f.bytes().any(|b| matches!(b, b',' | b'"' | b'\n' | b'\r')) {
        out.push(b'"');
        for b in f.bytes() {
            if b == b'"' {
                out.push(b'"');
            }
            out.push(b);
        }
        out.push(b'"');
    } else {
        out.extend_from_slice(f.as_bytes());
    }
}

/// Appends a JSON string literal.
pub(crate) fn json_string(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    for &b in s.as_bytes() {
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0..=0x1f => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.extend_from_slice(b"\\u00");
                out.push(HEX[usize::from(b >> 4)]);
                out.push(HEX[usize::from(b & 15)]);
            }
            _ => out.push(b),
        }
    }
    out.push(b'"');
}

/// Appends to a truth line's errors the rule a record breaks on purpose in column `col`, as what
/// the pipeline should do with it: `invalid:<rule>` (the record quarantined) or
/// `nulled:<column>:<rule>` (a bad identifier: the field nulled, the record kept), as the
/// column's `on_invalid` says.
pub(crate) fn push_broken(text: &mut String, schema: &FeedSchema, col: usize, rule: Rule) {
    if !text.is_empty() {
        text.push(';');
    }
    let column = &schema.columns[col];
    match schema.on_invalid(column) {
        OnInvalid::Quarantine => text.push_str("invalid:"),
        OnInvalid::Null => {
            text.push_str("nulled:");
            text.push_str(column.name);
            text.push(':');
        }
    }
    text.push_str(rule.code());
}

/// The ground truth file: one line per record of every feed.
pub(crate) struct TruthSink {
    out: BufWriter<File>,
    path: PathBuf,
    line: Vec<u8>,
    /// Lines written.
    pub(crate) rows: usize,
}

impl TruthSink {
    /// Creates the file and writes its header.
    pub(crate) fn create(path: &Path) -> Result<Self, SynthError> {
        let file = File::create(path).map_err(|e| io_err(path, e))?;
        let mut out = BufWriter::with_capacity(1 << 16, file);
        out.write_all(b"feed,record_id,person_id,family_id,error\n").map_err(|e| io_err(path, e))?;
        Ok(TruthSink { out, path: path.to_path_buf(), line: Vec::with_capacity(128), rows: 0 })
    }

    /// Writes the truth of one record.
    pub(crate) fn write(
        &mut self,
        feed: &str,
        record_id: &str,
        person: u32,
        family: u32,
        errors: &str,
    ) -> Result<(), SynthError> {
        let mut s = String::with_capacity(24);
        self.line.clear();
        self.line.extend_from_slice(feed.as_bytes());
        self.line.push(b',');
        csv_field(&mut self.line, record_id);
        self.line.extend_from_slice(b",P");
        push_padded(&mut s, u64::from(person) + 1, 6);
        s.push_str(",F");
        push_padded(&mut s, u64::from(family) + 1, 6);
        s.push(',');
        self.line.extend_from_slice(s.as_bytes());
        csv_field(&mut self.line, errors);
        self.line.push(b'\n');
        self.rows += 1;
        self.out.write_all(&self.line).map_err(|e| io_err(&self.path, e))
    }

    /// Flushes the file.
    pub(crate) fn finish(mut self) -> Result<usize, SynthError> {
        self.out.flush().map_err(|e| io_err(&self.path, e))?;
        Ok(self.rows)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_dates_format_without_allocating_surprises() {
        let mut s = String::new();
        push_date(&mut s, tellonce_schemas::identifiers::dates::days_from_civil(2023, 2, 9));
        assert_eq!(s, "2023-02-09");
        s.clear();
        push_uint(&mut s, 0);
        s.push(' ');
        push_uint(&mut s, 1_234_567);
        s.push(' ');
        push_padded(&mut s, 42, 6);
        assert_eq!(s, "0 1234567 000042");
    }

    #[test]
    fn csv_fields_are_quoted_only_when_needed() {
        let mut out = Vec::new();
        csv_field(&mut out, "Flat 2, 14 Acacia Avenue");
        out.push(b'|');
        csv_field(&mut out, "say \"hi\"");
        out.push(b'|');
        csv_field(&mut out, "Zoë");
        assert_eq!(String::from_utf8(out).unwrap(), "\"Flat 2, 14 Acacia Avenue\"|\"say \"\"hi\"\"\"|Zoë");
    }

    #[test]
    fn json_strings_escape_quotes_and_controls() {
        let mut out = Vec::new();
        json_string(&mut out, "a\"b\\c\nd\u{1}é");
        let back: String = serde_json::from_slice(&out).unwrap();
        assert_eq!(back, "a\"b\\c\nd\u{1}é");
    }
}
