//! A withdrawals file: a partner's list of records to withdraw (sent in error, merged or deleted
//! at source), one `record_id` a line, in a CSV file with a header. Other columns (a reason, a
//! date) are read past. The heading of the reference column is the feed's `record_id`, matched
//! without regard to case, spaces and punctuation, or the partner's heading for it in the
//! source's mapping.
//!
//! A withdrawal that is lost brings back a record the partner took back, so the file is read
//! strictly: a line this reader cannot read, or one without a reference, rejects the whole file,
//! naming the line and the rule, and nothing of it is applied.

use std::path::{Path, PathBuf};

use tellonce_connectors::file_source::dialect::{DELIMITERS, detect_encoding};
use tellonce_connectors::mapping::{Mapping, Resolved, fold_heading};
use tellonce_schemas::FeedSchema;

use super::held::RECORD_ID;

/// Why a withdrawals file cannot be applied. Messages name the file, line and column, never a
/// value.
#[derive(Debug, thiserror::Error)]
pub enum WithdrawalsError {
    /// The file cannot be read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// No heading names the record reference.
    #[error("{}: no heading names {RECORD_ID} (nor the mapping's heading for it)", path.display())]
    NoReference {
        /// The file.
        path: PathBuf,
    },
    /// The file has no header line.
    #[error("{}: the file is empty", path.display())]
    Empty {
        /// The file.
        path: PathBuf,
    },
    /// A line cannot be read as CSV, or is not valid in the file's encoding.
    #[error("{}:{line}: {message}", path.display())]
    Line {
        /// The file.
        path: PathBuf,
        /// The line (1-based).
        line: u64,
        /// What is wrong (never a value).
        message: String,
        /// The rule broken.
        rule: &'static str,
    },
}

impl WithdrawalsError {
    /// The rule broken, as a stable code.
    pub fn rule_code(&self) -> &'static str {
        match self {
            WithdrawalsError::Read { .. } => "file.unreadable",
            WithdrawalsError::NoReference { .. } => "header.missing_columns",
            WithdrawalsError::Empty { .. } => "file.empty",
            WithdrawalsError::Line { rule, .. } => rule,
        }
    }
}

/// A record reference to withdraw, with the line it is on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Withdrawn {
    /// The line (1-based).
    pub line: u64,
    /// The record reference.
    pub record_id: String,
}

/// The delimiter of a header line: the one of [`DELIMITERS`] it holds most often (a comma when
/// it holds none: a file of one column).
fn delimiter_of(header: &[u8]) -> u8 {
    DELIMITERS.iter().copied().max_by_key(|d| (header.iter().filter(|b| *b == d).count(), *d == b',')).unwrap_or(b',')
}

/// Reads the record references of the withdrawals file at `path`, for `feed`.
pub fn read(path: &Path, feed: &FeedSchema, mapping: Option<&Mapping>) -> Result<Vec<Withdrawn>, WithdrawalsError> {
    let io = |source| WithdrawalsError::Read { path: path.to_owned(), source };
    let encoding = detect_encoding(path).map_err(io)?;
    let bytes = std::fs::read(path).map_err(io)?;
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF".as_slice()).unwrap_or(&bytes);
    let first = bytes.split(|b| *b == b'\n').next().unwrap_or_default();
    let mut reader =
        csv::ReaderBuilder::new().delimiter(delimiter_of(first)).has_headers(false).flexible(true).from_reader(bytes);
    let line_error = |line: u64, rule: &'static str, message: String| WithdrawalsError::Line {
        path: path.to_owned(),
        line,
        message,
        rule,
    };
    let reference = feed.index_of(RECORD_ID);
    let mut column: Option<usize> = None;
    let mut width = 0usize;
    let mut out = Vec::new();
    // The reader skips blank lines without counting them, and a record's position is where the
    // blank lines before it begin: lines are counted from byte offsets, past those blank lines.
    let (mut counted_to, mut line_at) = (0usize, 1u64);
    let mut line_of = |byte: u64| {
        let mut byte = usize::try_from(byte).unwrap_or(usize::MAX).min(bytes.len());
        while bytes.get(byte).is_some_and(|b| *b == b'\n' || *b == b'\r') {
            byte += 1;
        }
        if byte >= counted_to {
            line_at += bytes[counted_to..byte].iter().filter(|b| **b == b'\n').count() as u64;
            counted_to = byte;
        }
        line_at
    };
    let mut lines = Vec::new();
    for record in reader.byte_records() {
        let record = record.map_err(|e| {
            let line = e.position().map_or(0, |p| line_of(p.byte()));
            line_error(line, "csv.malformed", "not readable as CSV".to_owned())
        })?;
        let line = record.position().map_or(0, |p| line_of(p.byte()));
        if !record.iter().all(|f| f.iter().all(u8::is_ascii_whitespace)) {
            lines.push((line, record));
        }
    }
    // The partner's footer (`[file] footer_lines` of the source's mapping), where it stands:
    // among the last lines, of another shape than the header's. A line of the header's shape
    // there is read, as a withdrawal lost would bring a record back.
    let footer_from = lines.len().saturating_sub(mapping.map_or(0, |m| usize::try_from(m.footer_lines()).unwrap_or(0)));
    for (k, (line, record)) in lines.into_iter().enumerate() {
        let Some(j) = column else {
            let is_reference = |heading: &[u8]| {
                let Some(h) = encoding.decode(heading) else { return false };
                match mapping {
                    Some(m) => matches!(m.resolve(&h), Resolved::Column(i) if Some(i) == reference),
                    None => fold_heading(&h) == fold_heading(RECORD_ID),
                }
            };
            column = Some(
                record
                    .iter()
                    .position(is_reference)
                    .ok_or_else(|| WithdrawalsError::NoReference { path: path.to_owned() })?,
            );
            width = record.len();
            continue;
        };
        // A line with more or fewer fields than the header (an unquoted delimiter in a reason)
        // would put another field in the reference's place.
        if record.len() != width {
            if k >= footer_from && k > 0 {
                continue;
            }
            let message = format!("{} fields where the header has {width}", record.len());
            return Err(line_error(line, "csv.field_count", message));
        }
        let cell = record.get(j).unwrap_or_default();
        let id = encoding.decode(cell).ok_or_else(|| {
            line_error(line, "encoding.invalid_utf8", format!("column {RECORD_ID}: not valid in the file's encoding"))
        })?;
        // Read as validation read the record's own reference.
        let id = tellonce_schemas::check::as_shown(&id).into_owned();
        if id.is_empty() {
            return Err(line_error(line, "required.missing", format!("column {RECORD_ID}: empty")));
        }
        out.push(Withdrawn { line, record_id: id });
    }
    if column.is_none() {
        return Err(WithdrawalsError::Empty { path: path.to_owned() });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn police() -> &'static FeedSchema {
        tellonce_schemas::feed::latest("police").unwrap()
    }

    #[test]
    fn the_footer_the_sources_mapping_declares_is_passed_over_and_a_line_of_the_headers_shape_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.csv");
        let text = "feed = \"police\"\n[file]\nfooter_lines = 1\n";
        let mapping = Mapping::parse(Path::new("m.toml"), text.as_bytes(), police()).unwrap();
        let ids = |got: Vec<Withdrawn>| got.into_iter().map(|w| w.record_id).collect::<Vec<_>>();
        std::fs::write(&path, "record_id,reason\nP1,x\nP2,y\nTotal: 2\n\n").unwrap();
        assert_eq!(ids(read(&path, police(), Some(&mapping)).unwrap()), ["P1", "P2"]);
        assert_eq!(read(&path, police(), None).unwrap_err().rule_code(), "csv.field_count", "no footer declared");
        // Sent without its footer: the last line is a withdrawal.
        std::fs::write(&path, "record_id,reason\nP1,x\nP2,y\n").unwrap();
        assert_eq!(ids(read(&path, police(), Some(&mapping)).unwrap()), ["P1", "P2"]);
        // Above the footer, a line of another shape still rejects the file.
        std::fs::write(&path, "record_id,reason\nP1,x,z\nP2,y\nTotal: 2\n").unwrap();
        assert_eq!(read(&path, police(), Some(&mapping)).unwrap_err().rule_code(), "csv.field_count");
    }

    #[test]
    fn references_are_read_by_heading_in_any_delimiter_and_a_bad_line_rejects_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.csv");
        std::fs::write(&path, "\u{feff}Reason|Record ID\nsent in error|P1\n\nmerged| P2 \n").unwrap();
        let got = read(&path, police(), None).unwrap();
        let want = [Withdrawn { line: 2, record_id: "P1".into() }, Withdrawn { line: 4, record_id: "P2".into() }];
        assert_eq!(got, want);
        std::fs::write(&path, "record_id,reason\nP1,x\n,y\n").unwrap();
        let e = read(&path, police(), None).unwrap_err();
        assert_eq!(
            (e.rule_code(), e.to_string().contains("w.csv:3: column record_id: empty")),
            ("required.missing", true)
        );
        std::fs::write(&path, "reason,record_id\nmerged, then split,P1\n").unwrap();
        let e = read(&path, police(), None).unwrap_err();
        let said = e.to_string();
        assert_eq!(e.rule_code(), "csv.field_count");
        assert!(said.contains("w.csv:2: 3 fields where the header has 2"), "{said}");
        std::fs::write(&path, "Case,reason\nP1,x\n").unwrap();
        assert_eq!(read(&path, police(), None).unwrap_err().rule_code(), "header.missing_columns");
        std::fs::write(&path, "").unwrap();
        assert_eq!(read(&path, police(), None).unwrap_err().rule_code(), "file.empty");
    }

    #[test]
    fn the_mappings_heading_for_the_reference_is_used() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.csv");
        std::fs::write(&path, "Occurrence Person Ref\nP7\n").unwrap();
        let mapping = Mapping::parse(
            Path::new("m.toml"),
            b"feed = \"police\"\n[columns]\n\"Occurrence Person Ref\" = \"record_id\"\n",
            police(),
        )
        .unwrap();
        assert_eq!(read(&path, police(), Some(&mapping)).unwrap(), [Withdrawn { line: 2, record_id: "P7".into() }]);
    }
}
