//! Running a source mapping against its file before a run: what the file lacks, which codes
//! the value maps leave out, how much of each date column no format reads, and every other
//! value the validate stage would refuse. Counts and line numbers only, never a value.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::UInt64Type;
use arrow_array::{Array, RecordBatch};
use serde::Serialize;
use tellonce_schemas::spreadsheet_damage::{self, Damage};
use tellonce_schemas::{FeedSchema, Kind, OnInvalid, Rule};

use super::Mapping;
use crate::file_source::{Dialect, FileFormat, FileSource, FileSourceOptions, SourceError};

/// Line numbers kept per finding, as examples.
pub const EXAMPLE_LINES: usize = 5;

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// The mapping does not fit the file: a mapped heading missing, a code left unmapped, a
    /// date no format reads. Fix the mapping (or ask the partner) before a run.
    Error,
    /// Values the validate stage will refuse, whatever the mapping: the data's own errors (the
    /// record quarantined, or the field nulled and the record kept, as the column's
    /// `on_invalid` says).
    Warning,
}

/// One thing that would fail, with how often and where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// How serious it is.
    pub severity: Severity,
    /// A stable code: a validate rule (`date.format`, `code.unknown`…), a source rule
    /// (`csv.ragged_row`…), `heading.missing` or `sheet.unread`.
    pub rule: String,
    /// The feed column concerned, if one is.
    pub column: Option<&'static str>,
    /// The mapped heading concerned (`heading.missing`), as the mapping writes it.
    pub heading: Option<String>,
    /// Records or values found.
    pub count: u64,
    /// Non-empty values of the column read (the share's denominator), for value findings.
    pub of: Option<u64>,
    /// The first lines where it was found.
    pub lines: Vec<u64>,
    /// What it means, in words (no value from the file).
    pub message: String,
}

/// What checking one file found.
#[derive(Debug, Clone, Serialize)]
pub struct FileCheck {
    /// Records read (rows and records rejected at the source).
    pub records: u64,
    /// Whether every record of the file was read (not a sample).
    pub complete: bool,
    /// The delimiter used (after detection), for CSV.
    pub delimiter: Option<String>,
    /// The encoding used (after detection); none for a workbook, whose cells are text already.
    pub encoding: Option<&'static str>,
    /// The sheet read, for a workbook: the finding's lines are its rows.
    pub sheet: Option<String>,
    /// Headings neither mapped, ignored nor a feed column (plain names only are for printing:
    /// the caller filters them).
    pub unknown_columns: Vec<String>,
    /// Every finding, errors first.
    pub findings: Vec<Finding>,
}

impl FileCheck {
    /// Whether any finding is an error.
    pub fn has_errors(&self) -> bool {
        self.findings.iter().any(|f| f.severity == Severity::Error)
    }
}

#[derive(Default)]
struct Tally {
    count: u64,
    lines: Vec<u64>,
}

impl Tally {
    fn add(&mut self, line: u64) {
        self.count += 1;
        if self.lines.len() < EXAMPLE_LINES {
            self.lines.push(line);
        }
    }
}

/// Reads at most `max_records` records of the file at `path` (all of it when `None`) through
/// `mapping`, and reports what a run would refuse. A file that cannot be opened at all (a
/// required column missing, say) is the error.
pub fn check_file(
    path: &Path,
    format: FileFormat,
    opts: FileSourceOptions,
    dialect: Dialect,
    mapping: Option<Arc<Mapping>>,
    feed: &'static FeedSchema,
    max_records: Option<u64>,
) -> Result<FileCheck, SourceError> {
    let kept = dialect.clone();
    let mut source = FileSource::open_with(path, format, feed, opts, dialect, mapping.clone())?;
    let mut findings = mapping.as_deref().map_or_else(Vec::new, |m| missing_headings(m, &source, feed));
    let continuing = match source.unread_sheets() {
        [] => Vec::new(),
        unread => crate::file_source::sheets_continuing(path, format, feed, (&kept, mapping.clone()), unread),
    };
    findings.extend(continued_sheets(&continuing));
    findings.extend(unread_sheets(&source, &continuing));
    if source.sheet().is_none() && !format.is_workbook() {
        findings.extend(encoding_mismatch(path, source.encoding()));
    }
    let scan = Scan::read(&mut source, feed, max_records)?;
    findings.extend(scan.all_lost());
    findings.extend(scan.damaged(feed));
    findings.extend(value_findings(&scan, feed, mapping.as_deref()));
    findings.extend(source_findings(scan.source_rejects, feed));
    findings.sort_by_key(|f| f.severity);
    Ok(FileCheck {
        records: scan.records,
        complete: scan.complete,
        delimiter: source.delimiter().map(delimiter_name),
        encoding: source.sheet().is_none().then(|| source.encoding().as_str()),
        sheet: source.sheet().map(str::to_owned),
        unknown_columns: source.unknown_columns(),
        findings,
    })
}

/// A warning where the file is read in a single-byte encoding its bytes say it is not in: valid
/// UTF-8 throughout with characters of several bytes (each would be read as two or three
/// characters: `Zoë` as `ZoÃ«`, tokenised so, linking with nothing), or, read as latin-1,
/// bytes 0x80–0x9F, which are Windows-1252's curly quotes and dashes and latin-1's controls
/// (`O’Brien` would not be `O'Brien`). The file is read once more, for the check only.
fn encoding_mismatch(path: &Path, encoding: crate::file_source::dialect::Encoding) -> Option<Finding> {
    use crate::file_source::dialect::Encoding;
    let finding = |count: u64, message: String| Finding {
        severity: Severity::Warning,
        rule: "file.encoding_mismatch".to_owned(),
        column: None,
        heading: None,
        count,
        of: None,
        lines: Vec::new(),
        message,
    };
    match encoding {
        Encoding::Utf8 => None,
        Encoding::Windows1252 | Encoding::Latin1 => {
            let evidence = crate::file_source::dialect::encoding_evidence(path).ok()?;
            if evidence.invalid_sequences == 0 && evidence.utf8_characters > 0 {
                return Some(finding(
                    evidence.utf8_characters,
                    format!(
                        "the file is read as {} but is valid UTF-8 throughout, with characters of several bytes \
                         (accented letters, curly quotes): each would be read as two or three characters and \
                         tokenised so; declare encoding = \"utf-8\" (or \"auto\")",
                        encoding.as_str()
                    ),
                ));
            }
            if encoding != Encoding::Latin1 {
                return None;
            }
            let bytes = std::fs::read(path).ok()?;
            let c1 = bytes.iter().filter(|b| (0x80..=0x9F).contains(*b)).count() as u64;
            (c1 > 0).then(|| {
                finding(
                    c1,
                    "the file is read as latin-1 but holds bytes 0x80-0x9F, which latin-1 reads as control \
                     characters and Windows-1252 as curly quotes, dashes and the euro sign; declare \
                     encoding = \"windows-1252\""
                        .to_owned(),
                )
            })
        }
    }
}

/// A warning naming the other visible sheets of a workbook read with no sheet named: a
/// workbook with a sheet per term or per team would otherwise lose all but the first, silently.
fn unread_sheets(source: &FileSource, continuing: &[String]) -> Option<Finding> {
    let sheets: Vec<&str> =
        source.unread_sheets().iter().filter(|s| !continuing.contains(s)).map(String::as_str).collect();
    (!sheets.is_empty()).then(|| {
        let message = format!(
            "only the first sheet shown is read; the workbook's other sheets ({}) are not. If they hold \
             records too, list the workbook once per sheet, each entry naming its sheet (sheet = \"...\")",
            sheets.join(", ")
        );
        sheet_finding(Severity::Warning, "sheet.unread", sheets.len(), message)
    })
}

/// A finding about a workbook's sheets, not its values.
fn sheet_finding(severity: Severity, rule: &str, sheets: usize, message: String) -> Finding {
    Finding {
        severity,
        rule: rule.to_owned(),
        column: None,
        heading: None,
        count: sheets as u64,
        of: None,
        lines: Vec::new(),
        message,
    }
}

/// An error naming the sheets a run would leave unread that hold records under the feed's
/// header: a run refuses the workbook until they are listed.
fn continued_sheets(sheets: &[String]) -> Option<Finding> {
    (!sheets.is_empty()).then(|| {
        let message = crate::file_source::continued_message(sheets);
        sheet_finding(Severity::Error, "sheet.continued", sheets.len(), message)
    })
}

/// A finding for each heading the mapping names that the file lacks.
fn missing_headings(mapping: &Mapping, source: &FileSource, feed: &FeedSchema) -> Vec<Finding> {
    let mut findings = Vec::new();
    for (heading, column) in mapping.headings() {
        let i = feed.index_of(column);
        if i.is_some_and(|i| !source.has_column(i)) {
            findings.push(Finding {
                severity: Severity::Error,
                rule: "heading.missing".to_owned(),
                column: Some(column),
                heading: Some(heading.to_owned()),
                count: 1,
                of: None,
                lines: Vec::new(),
                message: format!(
                    "the mapping names the heading {heading:?} for {column}, but the file has no such column"
                ),
            });
        }
    }
    findings
}

/// What reading the file found, before it is put into findings.
struct Scan {
    /// (feed column, rule) → values of that column the rule refuses.
    values: BTreeMap<(usize, Rule), Tally>,
    /// (rule, column as the source names it) → records rejected as they were read.
    source_rejects: BTreeMap<(Rule, Option<String>), Tally>,
    /// Non-empty values read, per feed column.
    non_empty: Vec<u64>,
    /// Values refused that a spreadsheet damaged, per feed column and damage.
    damaged: BTreeMap<(usize, Damage), Tally>,
    /// Records read, rejected ones included.
    records: u64,
    /// Records a run would quarantine: rejected as read, or holding a value whose column
    /// quarantines its record.
    quarantined: u64,
    /// Whether every record of the file was read.
    complete: bool,
}

impl Scan {
    /// Reads batches from `source` until it ends or `max_records` records are read.
    fn read(source: &mut FileSource, feed: &FeedSchema, max_records: Option<u64>) -> Result<Scan, SourceError> {
        let mut scan = Scan {
            values: BTreeMap::new(),
            source_rejects: BTreeMap::new(),
            non_empty: vec![0u64; feed.columns.len()],
            damaged: BTreeMap::new(),
            records: 0,
            quarantined: 0,
            complete: true,
        };
        let mut scratch = String::new();
        while let Some(raw) = source.next_batch()? {
            for r in &raw.rejects {
                scan.source_rejects.entry((r.rule, r.column.clone())).or_default().add(r.position);
            }
            scan.records += raw.rejects.len() as u64;
            scan.quarantined += raw.rejects.len() as u64;
            let rows = raw.batch.num_rows();
            let take = max_records
                .map_or(rows, |m| rows.min(usize::try_from(m.saturating_sub(scan.records)).unwrap_or(usize::MAX)));
            scan.check_rows(&raw.batch, feed, take, &mut scratch);
            scan.records += take as u64;
            if max_records.is_some_and(|m| scan.records >= m) {
                scan.complete = take == rows && source.next_batch()?.is_none();
                break;
            }
        }
        Ok(scan)
    }

    /// Checks the first `take` rows of a batch, column by column, as the validate stage would.
    fn check_rows(&mut self, batch: &RecordBatch, feed: &FeedSchema, take: usize, scratch: &mut String) {
        let positions = batch.column(feed.columns.len()).as_primitive_opt::<UInt64Type>().map(|p| p.values().clone());
        let mut lost = vec![false; take];
        for (i, column) in feed.columns.iter().enumerate() {
            let Some(col) = batch.column(i).as_string_opt::<i32>() else { continue };
            let quarantines = feed.on_invalid(column) == OnInvalid::Quarantine;
            for (r, lost) in lost.iter_mut().enumerate() {
                let line = positions.as_ref().and_then(|p| p.get(r).copied()).unwrap_or(0);
                // Judged as the validate stage judges it: a cell of white space is empty.
                let checked = column.check_cell(col.is_valid(r).then(|| col.value(r)), scratch);
                // An empty cell (none, or white space only) is no value read.
                if !matches!(checked, Ok(None) | Err(Rule::Required)) {
                    self.non_empty[i] += 1;
                }
                // Every value, as the run counts them: a reference in scientific notation passes.
                if let Some(damage) = col.is_valid(r).then(|| Damage::of(&column.kind, col.value(r))).flatten() {
                    self.damaged.entry((i, damage)).or_default().add(line);
                }
                if let Err(rule) = checked {
                    self.values.entry((i, rule)).or_default().add(line);
                    *lost |= quarantines;
                }
            }
        }
        self.quarantined += lost.iter().filter(|&&l| l).count() as u64;
    }

    /// An error for each column a spreadsheet damaged throughout: a run holds the file.
    fn damaged(&self, feed: &'static FeedSchema) -> impl Iterator<Item = Finding> + '_ {
        let widespread = self.damaged.iter().filter(|(_, t)| spreadsheet_damage::widespread(t.count, self.records));
        widespread.map(move |(&(i, damage), t)| Finding {
            severity: Severity::Error,
            rule: damage.code().to_owned(),
            column: feed.columns.get(i).map(|c| c.name),
            heading: None,
            count: t.count,
            of: Some(self.records),
            lines: t.lines.clone(),
            message: format!("{}; a run holds the file", damage.message()),
        })
    }

    /// An error where a run would quarantine every record read: the file would stage nothing,
    /// whatever the findings that say why are (a warning each, on their own).
    fn all_lost(&self) -> Option<Finding> {
        (self.records > 0 && self.quarantined >= self.records).then(|| Finding {
            severity: Severity::Error,
            rule: "records.all_quarantined".to_owned(),
            column: None,
            heading: None,
            count: self.quarantined,
            of: Some(self.records),
            lines: Vec::new(),
            message: "records a run would quarantine, every one read: it would stage nothing (the findings below \
                      say why)"
                .to_owned(),
        })
    }
}

/// A finding for each (column, rule) of values refused, an error where the mapping should
/// have read them.
fn value_findings<'s>(
    scan: &'s Scan,
    feed: &'static FeedSchema,
    mapping: Option<&'s Mapping>,
) -> impl Iterator<Item = Finding> + 's {
    scan.values.iter().map(move |(&(i, rule), t)| {
        let column = &feed.columns[i];
        let (severity, message) = match rule {
            Rule::CodeUnknown if mapping.is_some_and(|m| m.has_value_map(i)) => {
                (Severity::Error, "codes the value map leaves out (and the feed does not know)".to_owned())
            }
            Rule::DateFormat if mapping.is_some_and(|m| m.has_date_formats(i)) => {
                (Severity::Error, "dates that none of the mapping's formats reads".to_owned())
            }
            Rule::DateFormat if matches!(column.kind, Kind::Date | Kind::BirthDate) => (
                Severity::Error,
                "dates not in ISO form (YYYY-MM-DD or YYYYMMDD): give the column a date format in the mapping"
                    .to_owned(),
            ),
            _ => {
                let action = match feed.on_invalid(column) {
                    OnInvalid::Quarantine => "the record quarantined",
                    OnInvalid::Null => "the field nulled, the record kept",
                };
                (Severity::Warning, format!("values the validate stage will refuse ({action})"))
            }
        };
        Finding {
            severity,
            rule: rule.code().to_owned(),
            column: Some(column.name),
            heading: None,
            count: t.count,
            of: Some(if rule == Rule::Required { scan.records } else { scan.non_empty[i] }),
            lines: t.lines.clone(),
            message,
        }
    })
}

/// A finding for each kind of record rejected as it was read. Undecodable text (the encoding is
/// wrong, or the file mixes encodings) and a quote never closed (every line after it is lost) are
/// errors, the rest warnings.
fn source_findings(
    rejects: BTreeMap<(Rule, Option<String>), Tally>,
    feed: &'static FeedSchema,
) -> impl Iterator<Item = Finding> {
    rejects.into_iter().map(move |((rule, column), t)| {
        let column = column.and_then(|c| feed.column(&c).map(|c| c.name));
        let (severity, message) = match rule {
            Rule::InvalidUtf8 => (
                Severity::Error,
                "records that are not valid UTF-8: declare the file's encoding, or, if the rest of the file is \
                 UTF-8, ask the partner to send these lines again",
            ),
            Rule::CsvMalformed => (
                Severity::Error,
                "lines after a quote never closed, or between two stray quotes, each rejected (the first is the \
                 quote's): if the partner's export never quotes its fields, set `quote = \"none\"` in the \
                 mapping's [file]",
            ),
            Rule::LineTooLong => (
                Severity::Warning,
                "records longer than limits.max_line_bytes, rejected as they are read (a record over several \
                 lines, one a line)",
            ),
            Rule::CsvRepeatedHeader => (
                Severity::Warning,
                "lines that repeat the header (two exports joined into one file), quarantined as no record (a snapshot still withdraws)",
            ),
            _ => (Severity::Warning, "records rejected as they are read"),
        };
        Finding {
            severity,
            rule: rule.code().to_owned(),
            column,
            heading: None,
            count: t.count,
            of: None,
            lines: t.lines,
            message: message.to_owned(),
        }
    })
}

/// The delimiter as a report names it.
fn delimiter_name(d: u8) -> String {
    if d == b'\t' { "tab".to_owned() } else { char::from(d).to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_warning_says_whether_the_record_or_only_the_field_is_lost() {
        let feed = tellonce_schemas::feed::latest("housing").unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("h.csv");
        let text = "record_id,household_ref,role_in_household,forename,surname,uprn,approach_date,ta_start,duty_owed\n\
                    R1,H1,CHILD,Ann,Lee,0,2024-01-01,2024-02-30,MAIN\nR2,H1,CHILD,Bea,Lee,,2024-01-01,,MAIN\n";
        std::fs::write(&path, text).unwrap();
        let opts = FileSourceOptions::default();
        let check = check_file(&path, FileFormat::Csv, opts, Dialect::default(), None, feed, None).unwrap();
        let found: Vec<_> =
            check.findings.iter().map(|f| (f.severity, f.rule.as_str(), f.column, f.message.as_str())).collect();
        assert_eq!(
            found,
            [
                (
                    Severity::Warning,
                    "uprn.format",
                    Some("uprn"),
                    "values the validate stage will refuse (the field nulled, the record kept)"
                ),
                (
                    Severity::Warning,
                    "date.calendar",
                    Some("ta_start"),
                    "values the validate stage will refuse (the record quarantined)"
                ),
            ]
        );
    }

    #[test]
    fn a_check_counts_what_would_fail_without_a_value() {
        let feed = tellonce_schemas::feed::latest("housing").unwrap();
        let mapping = "feed = \"housing\"\n[columns]\nRef = \"record_id\"\nDOB = \"date_of_birth\"\nGender = \"sex\"\n\
                       \"Post Code\" = \"postcode\"\n[constants]\nrole_in_household = \"CHILD\"\n\
                       [values.sex]\n\"1\" = \"M\"\n\"2\" = \"F\"\n[dates]\ndate_of_birth = \"%d/%m/%Y\"\n";
        let mapping = Arc::new(Mapping::parse(Path::new("m.toml"), mapping.as_bytes(), feed).unwrap());
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("h.csv");
        let mut text = "Ref,household_ref,forename,surname,DOB,Gender,approach_date,duty_owed\n".to_owned();
        for n in 0..20 {
            let dob = if n % 5 == 0 { "24.02.1986" } else { "24/02/1986" };
            let sex = if n == 7 { "7" } else { "1" };
            text.push_str(&format!("R{n},H1,Zoë,Smith,{dob},{sex},2024-01-01,MAIN\n"));
        }
        text.push_str("R99,H1,Zoë\n");
        std::fs::write(&path, text).unwrap();
        let check = check_file(
            &path,
            FileFormat::Csv,
            FileSourceOptions::default(),
            Dialect::default(),
            Some(mapping.clone()),
            feed,
            None,
        )
        .unwrap();
        assert_eq!(check.records, 21);
        assert!(check.complete && check.has_errors());
        let found: Vec<_> = check
            .findings
            .iter()
            .map(|f| (f.severity, f.rule.as_str(), f.column, f.count, f.of, f.lines.clone()))
            .collect();
        assert_eq!(
            found,
            [
                (Severity::Error, "heading.missing", Some("postcode"), 1, None, vec![]),
                (Severity::Error, "date.format", Some("date_of_birth"), 4, Some(20), vec![2, 7, 12, 17]),
                (Severity::Error, "code.unknown", Some("sex"), 1, Some(20), vec![9]),
                (Severity::Warning, "csv.ragged_row", None, 1, None, vec![22]),
            ]
        );
        let shown = format!("{check:?}");
        assert!(!shown.contains("Zoë") && !shown.contains("Smith") && !shown.contains("1986"), "{shown}");
        let sample = check_file(
            &path,
            FileFormat::Csv,
            FileSourceOptions::default(),
            Dialect::default(),
            Some(mapping),
            feed,
            Some(10),
        )
        .unwrap();
        assert_eq!((sample.records, sample.complete), (10, false));
    }

    fn check_housing(text: &str, mapping: &str) -> FileCheck {
        let feed = tellonce_schemas::feed::latest("housing").unwrap();
        let mapping = Arc::new(Mapping::parse(Path::new("m.toml"), mapping.as_bytes(), feed).unwrap());
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("h.csv");
        std::fs::write(&path, text).unwrap();
        let opts = FileSourceOptions::default();
        check_file(&path, FileFormat::Csv, opts, Dialect::default(), Some(mapping), feed, None).unwrap()
    }

    #[test]
    fn a_single_byte_encoding_the_bytes_deny_is_a_warning() {
        use crate::file_source::dialect::{Encoding, EncodingChoice};
        let feed = tellonce_schemas::feed::latest("housing").unwrap();
        let mapping = "feed = \"housing\"\n[constants]\nrole_in_household = \"CHILD\"\n";
        let mapping = Arc::new(Mapping::parse(Path::new("m.toml"), mapping.as_bytes(), feed).unwrap());
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("h.csv");
        let header = "record_id,household_ref,forename,surname,approach_date,duty_owed\n";
        let check_as = |bytes: &[u8], encoding: Encoding| {
            std::fs::write(&path, bytes).unwrap();
            let dialect = Dialect { encoding: EncodingChoice::Known(encoding), ..Dialect::default() };
            let opts = FileSourceOptions::default();
            let check = check_file(&path, FileFormat::Csv, opts, dialect, Some(mapping.clone()), feed, None).unwrap();
            check.findings.iter().find(|f| f.rule == "file.encoding_mismatch").map(|f| (f.count, f.message.clone()))
        };
        // UTF-8 declared as Windows-1252: two accented letters.
        let utf8 = format!("{header}R1,H1,Zoë,Siobhán,2024-01-01,MAIN\n");
        let found = check_as(utf8.as_bytes(), Encoding::Windows1252).expect("a warning");
        assert_eq!(found.0, 2);
        assert!(found.1.contains("utf-8") && !found.1.contains("Zo"), "{}", found.1);
        assert_eq!(check_as(utf8.as_bytes(), Encoding::Utf8), None);
        // Windows-1252 declared as latin-1: a curly apostrophe (0x92).
        let mut cp1252 = header.as_bytes().to_vec();
        cp1252.extend_from_slice(b"R1,H1,Sean,O\x92Brien,2024-01-01,MAIN\n");
        assert_eq!(check_as(&cp1252, Encoding::Latin1).map(|f| f.0), Some(1));
        assert_eq!(check_as(&cp1252, Encoding::Windows1252), None);
    }

    /// A finding's severity, rule, column, count and denominator.
    type Found<'a> = (Severity, &'a str, Option<&'a str>, u64, Option<u64>);

    fn summary(check: &FileCheck) -> Vec<Found<'_>> {
        check.findings.iter().map(|f| (f.severity, f.rule.as_str(), f.column, f.count, f.of)).collect()
    }

    #[test]
    fn a_cell_of_spaces_is_empty_as_the_run_reads_it() {
        // A SQL export pads CHAR columns: a date, a code and a required code of spaces only.
        let mapping = "feed = \"housing\"\n[columns]\nDOB = \"date_of_birth\"\nTA = \"ta_type\"\n\
                       \"TA Start\" = \"ta_start\"\nArrears = \"rent_arrears_balance\"\n[dates]\n\
                       date_of_birth = \"%d/%m/%Y\"\nta_start = \"%d/%m/%Y\"\n";
        let text = "record_id,household_ref,role_in_household,forename,surname,DOB,approach_date,duty_owed,TA,\
                    TA Start,Arrears\n\
                    C1,H1,CHILD,Ann,Lee,   ,2023-04-01,MAIN,   ,   ,  \n\
                    C2,H1,CHILD,Bea,Lee,03/01/2016,2023-04-01,   ,NONE,,\n";
        let check = check_housing(text, mapping);
        assert_eq!(check.records, 2);
        // Only the required duty left blank is found, as the run refuses it: no date.format,
        // code.unknown or decimal.format for the cells of spaces, and none counted as values.
        assert_eq!(summary(&check), [(Severity::Warning, "value.required", Some("duty_owed"), 1, Some(2))]);
        assert!(!check.has_errors());
    }

    #[test]
    fn every_record_lost_is_an_error_and_a_blank_last_heading_loses_none() {
        let mapping = "feed = \"housing\"\n[constants]\nrole_in_household = \"CHILD\"\n";
        let header = "record_id,household_ref,forename,surname,approach_date,duty_owed";
        // Every record ragged (one field short of a header with a value in each heading).
        let text = format!("{header},ta_type\nC1,H1,Ann,Lee,2023-04-01,MAIN\nC2,H1,Bea,Lee,2023-04-01,MAIN\n");
        let check = check_housing(&text, mapping);
        assert_eq!(
            summary(&check),
            [
                (Severity::Error, "records.all_quarantined", None, 2, Some(2)),
                (Severity::Warning, "csv.ragged_row", None, 2, None),
            ]
        );
        // Every record quarantined by a value: an error too; one record kept: warnings only.
        let text = format!("{header}\nC1,H1,Ann,Lee,2023-04-01,X\nC2,H1,Bea,Lee,2023-04-01,Y\n");
        assert!(check_housing(&text, mapping).has_errors());
        let text = format!("{header}\nC1,H1,Ann,Lee,2023-04-01,X\nC2,H1,Bea,Lee,2023-04-01,MAIN\n");
        assert!(!check_housing(&text, mapping).has_errors());
        // The header alone ends in a delimiter (a blank last heading): every record is read.
        let text = format!("{header},\r\nC1,H1,Ann,Lee,2023-04-01,MAIN\r\nC2,H1,Bea,Lee,2023-04-01,MAIN\r\n");
        let check = check_housing(&text, mapping);
        assert_eq!((check.records, summary(&check)), (2, vec![]));
    }

    #[test]
    fn a_workbook_check_names_its_sheet_and_no_encoding() {
        let feed = tellonce_schemas::feed::latest("housing").unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("h.xlsx");
        let mut book = rust_xlsxwriter::Workbook::new();
        for (name, role) in [("Autumn", "CHILD"), ("Spring", "PET")] {
            let sheet = book.add_worksheet();
            sheet.set_name(name).unwrap();
            let rows = [
                [
                    "record_id",
                    "household_ref",
                    "role_in_household",
                    "forename",
                    "surname",
                    "approach_date",
                    "duty_owed",
                ],
                ["R1", "H1", "CHILD", "Ann", "Lee", "2024-01-01", "MAIN"],
                ["R2", "H1", role, "Bea", "Lee", "2024-01-01", "MAIN"],
            ];
            for (r, row) in (0u32..).zip(rows) {
                for (c, v) in (0u16..).zip(row) {
                    sheet.write_string(r, c, v).unwrap();
                }
            }
        }
        book.save(&path).unwrap();
        let check = |sheet: &str| {
            let dialect = Dialect { sheet: Some(sheet.to_owned()), ..Dialect::default() };
            check_file(&path, FileFormat::Xlsx, FileSourceOptions::default(), dialect, None, feed, None).unwrap()
        };
        let spring = check("Spring");
        assert_eq!((spring.sheet.as_deref(), spring.encoding, spring.delimiter), (Some("Spring"), None, None));
        let f = &spring.findings[0];
        assert_eq!((f.rule.as_str(), f.lines.clone()), ("code.unknown", vec![3]));
        let autumn = check("Autumn");
        assert_eq!((autumn.sheet.as_deref(), autumn.findings.len()), (Some("Autumn"), 0));
    }

    #[test]
    fn a_quote_never_closed_is_an_error_counting_every_line_it_swallowed() {
        let feed = tellonce_schemas::feed::latest("police").unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.csv");
        let mut text = "record_id,occurrence_ref,forename,surname,incident_date,incident_type,person_role
"
        .to_owned();
        for n in 0..10 {
            let forename = if n == 2 { "\"Ann" } else { "Ann" };
            text.push_str(&format!("R{n},O{n},{forename},Lee,2024-01-05,CRIME,VICTIM\n"));
        }
        std::fs::write(&path, text).unwrap();
        let opts = FileSourceOptions::default();
        let check = check_file(&path, FileFormat::Csv, opts, Dialect::default(), None, feed, None).unwrap();
        assert_eq!(check.records, 10);
        let f = &check.findings[0];
        assert_eq!(
            (f.severity, f.rule.as_str(), f.count, f.lines.clone()),
            (Severity::Error, "csv.malformed", 8, vec![4, 5, 6, 7, 8])
        );
        assert!(f.message.contains("quote = \"none\""), "{}", f.message);
    }
}
