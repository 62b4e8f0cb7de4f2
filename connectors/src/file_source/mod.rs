//! Partner files (CSV, JSON Lines, Excel workbooks) read as bounded batches of text columns with
//! their lineage.
//!
//! A CSV file is read in a [`Dialect`] (delimiter, encoding, preamble lines; by default comma,
//! UTF-8, header on the first line) and, through [`FileSource::open_with`], a source
//! [`Mapping`] may rename its headings and rewrite its values into the feed's. A workbook sheet
//! (`.xlsx`, `.xls`, `.ods`) is read into the same batches (see `workbook_file`).
//!
//! A [`FileSource`] reads one file against one [`FeedSchema`] and yields [`RawBatch`]es: one
//! nullable Utf8 column per schema column, in schema order, then `_position`, the line each
//! record starts on. Values are passed as they are (no trimming); an empty value is null.
//! Records that cannot be read as a row (wrong number of fields, bad encoding, too long,
//! malformed) are not in the batch but in its [`RawReject`]s, with their original bytes, so that
//! nothing is lost: the caller seals them into quarantine.
//!
//! Positions are line numbers (1-based; a CSV header is line 1, or later after blank lines),
//! counted by `\n`: a row's `_position` is the line its record starts on, so a multi-line CSV
//! record takes several lines but one position. Empty and white-space-only lines are skipped
//! (but counted).
//!
//! Rejected at the source ([`RawReject::rule`]):
//! - CSV: [`Rule::CsvRaggedRow`] (field count differs from the header; surplus trailing fields
//!   that are all blank, or fields left out under blank headings ending the header, are not;
//!   a final Ctrl-Z or NUL padding is the end of the file), [`Rule::InvalidUtf8`] (naming the
//!   first schema column whose value is not UTF-8; bad bytes in a dropped column do not
//!   matter), [`Rule::LineTooLong`], [`Rule::CsvMalformed`] (a quote still open at the end of
//!   the file: each line the record swallowed is a reject of its own, at its line, so that the
//!   counts say how many were lost).
//! - JSON Lines: [`Rule::JsonMalformed`] (not one JSON object; also a schema column given
//!   twice, naming it), [`Rule::JsonValueType`] (an array or object under a schema column,
//!   naming it), [`Rule::InvalidUtf8`], [`Rule::LineTooLong`]. Strings pass as they are,
//!   numbers as their JSON text, booleans as `true`/`false`, null as null.
//!
//! Memory does not grow with the file: a batch holds at most `batch_rows` records (rows and
//! rejects together), and no record is held beyond `max_line_bytes`.
//!
//! ```
//! use tellonce_connectors::file_source::{FileFormat, FileSource, FileSourceOptions};
//! # let dir = tempfile::tempdir().unwrap();
//! # let path = dir.path().join("police.csv");
//! # std::fs::write(&path, "record_id,occurrence_ref,forename,surname,incident_date,incident_type,person_role\n\
//! #     R1,OCC1,Ann,Lee,2024-01-05,CRIME,VICTIM\n").unwrap();
//! let feed = tellonce_schemas::feed::latest("police").unwrap();
//! let mut source = FileSource::open(&path, FileFormat::Csv, feed, FileSourceOptions::default())?;
//! let mut rows = 0;
//! while let Some(raw) = source.next_batch()? {
//!     rows += raw.batch.num_rows();
//!     assert!(raw.rejects.is_empty());
//! }
//! assert_eq!(rows, 1);
//! # Ok::<(), tellonce_connectors::file_source::SourceError>(())
//! ```

mod batch;
mod columns;
mod continued;
mod csv_file;
pub mod dialect;
pub(crate) mod eof;
pub(crate) mod footer;
mod format;
mod formulas;
mod headings;
mod jsonl_file;
mod messages;
mod number_formats;
pub mod sample;
mod sheet_messages;
pub mod sheet_names;
mod sheet_rows;
mod split;
mod table_totals;
mod tokenizer;
mod workbook_errors;
mod workbook_file;

use std::fmt;
use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

use std::sync::Arc;

use arrow_array::RecordBatch;
use tellonce_schemas::{FeedSchema, Rule};

use crate::lineage::Lineage;
use crate::mapping::{Mapping, WithdrawalMarker};
use batch::BatchBuilder;
use columns::ColumnLookup;
pub use continued::{continued_message, sheets_continuing};
use csv_file::{CsvInput, CsvSettings};
pub use dialect::{DelimiterChoice, Dialect, Encoding, EncodingChoice};
pub use format::{FileFormat, ParseFormatError};
use jsonl_file::JsonlInput;
pub use messages::MessageBatcher;
pub use sheet_messages::{SheetHeaderLacking, UncalculatedFormulas};
use sheet_messages::{after_skipped, other_sheets};
use workbook_file::WorkbookInput;

/// At most this many distinct unknown JSON keys are remembered for
/// [`FileSource::unknown_columns`], so that a file with a new key on every line cannot make
/// memory grow with its size.
pub const MAX_UNKNOWN_KEYS: usize = 1000;

/// How a file is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileSourceOptions {
    /// Most records (rows and rejects together) in one batch. Default 8192.
    pub batch_rows: usize,
    /// Longest record accepted, in bytes, without its line terminator; a longer one is
    /// rejected with [`Rule::LineTooLong`]. Default 1 MiB: a partner's case notes, exported
    /// whole, run to tens of kilobytes.
    pub max_line_bytes: usize,
}

impl Default for FileSourceOptions {
    fn default() -> Self {
        FileSourceOptions { batch_rows: 8192, max_line_bytes: 1 << 20 }
    }
}

/// Why a file cannot be read. Each names the file (and the line, where one is known), never a
/// value from it.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The file cannot be opened.
    #[error("cannot open {}: {source}", path.display())]
    Open {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
    /// The path (after following symlinks) is not a regular file: a FIFO, a character or block
    /// device, a socket or a directory. Reading one may never end (a FIFO with no writer, a
    /// device such as `/dev/zero`), and it has no stable content to hash.
    #[error("{} is not a regular file (it is {kind}); an input must be a regular file [file.not_regular]", path.display())]
    NotRegular {
        /// The path as given.
        path: PathBuf,
        /// What it is instead, in words.
        kind: &'static str,
    },
    /// Reading failed part way.
    #[error("cannot read {} at line {line}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The line being read.
        line: u64,
        /// The cause.
        source: io::Error,
    },
    /// A CSV file has no header at all (it is empty, or holds only a BOM and white space), or
    /// a JSON Lines file has zero bytes.
    #[error("{} is empty: it has no header line or record", path.display())]
    EmptyFile {
        /// The file.
        path: PathBuf,
    },
    /// A file read as text is a compressed archive (gzip or zip, by its first bytes).
    #[error(
        "{} is a {kind} archive, not text: unpack it and name the file inside (a run reads an extract as it \
         was exported, not compressed)",
        path.display()
    )]
    Compressed {
        /// The file.
        path: PathBuf,
        /// `gzip` or `zip`.
        kind: &'static str,
    },
    /// A CSV file is UTF-16 (it starts with a UTF-16 byte order mark), which is not read.
    #[error(
        "{} is UTF-16 (as Excel's \"Unicode Text\" saves), which is not read: ask for it as CSV UTF-8, \
         or save it again as \"CSV UTF-8 (Comma delimited)\"",
        path.display()
    )]
    Utf16 {
        /// The file.
        path: PathBuf,
    },
    /// A CSV header is not valid UTF-8.
    #[error("the header of {} is not valid UTF-8", path.display())]
    HeaderNotUtf8 {
        /// The file.
        path: PathBuf,
    },
    /// A CSV header is longer than `max_line_bytes`.
    #[error("the header of {} is longer than {max_line_bytes} bytes", path.display())]
    HeaderTooLong {
        /// The file.
        path: PathBuf,
        /// The limit.
        max_line_bytes: usize,
    },
    /// A CSV header opens a quote that is never closed.
    #[error("the header of {} has an unclosed quote", path.display())]
    HeaderMalformed {
        /// The file.
        path: PathBuf,
    },
    /// A CSV header lacks columns the schema requires. A title or an export date above the
    /// header is the usual cause, so the message names the line read as the header and
    /// `skip_lines`.
    #[error(
        "{} lacks required column(s): {}{}; if the header is further down, skip the lines above it (skip_lines)",
        path.display(),
        columns.join(", "),
        if *line > 0 { format!(", in the header read from line {line}") } else { String::new() }
    )]
    MissingColumns {
        /// The file.
        path: PathBuf,
        /// The schema names of the missing columns, in schema order.
        columns: Vec<String>,
        /// The line read as the header (0: not known).
        line: u64,
    },
    /// A workbook sheet's header lacks columns the schema requires: names the sheet and row
    /// read as the header and the workbook's other sheets, since a cover sheet in front of the
    /// data or a title row above the header is the usual cause. Rule `header.missing_columns`.
    #[error("{0}")]
    SheetMissingColumns(Box<SheetHeaderLacking>),
    /// An `.xlsx` workbook written by a program, whose formulas were never calculated, has one in
    /// a column the feed reads. Rule `workbook.uncalculated_formulas`.
    #[error("{0}")]
    UncalculatedFormulas(Box<UncalculatedFormulas>),
    /// The source mapping's value rules could not be applied to a batch (a bug: reported,
    /// not panicked on).
    #[error("cannot apply the mapping to {} at line {line}: {message}", path.display())]
    Mapping {
        /// The file.
        path: PathBuf,
        /// The batch's first line.
        line: u64,
        /// What went wrong (no value from the file).
        message: String,
    },
    /// A workbook cannot be read (not a workbook of its format, a damaged sheet).
    #[error("cannot read the workbook {}: {message}", path.display())]
    Workbook {
        /// The file.
        path: PathBuf,
        /// The reader's message (about the file's structure, never a cell's value).
        message: String,
    },
    /// A workbook has no sheet of the name asked for.
    #[error("{} has no sheet {sheet}; its sheets are: {}", path.display(), sheets.join(", "))]
    SheetMissing {
        /// The file.
        path: PathBuf,
        /// The sheet asked for, as written ([`sheet_names::configured`]).
        sheet: String,
        /// The sheets it has.
        sheets: Vec<String>,
    },
    /// A workbook's sheet (the first, unless one is named) has no row with a cell in it at or
    /// after the rows skipped, most often a cover sheet in front of the data: names the sheet
    /// read and the workbook's other sheets, one of which the source may name with `sheet`.
    /// Rule `file.empty`, as for an empty CSV file.
    #[error(
        "the sheet {sheet:?} of {} is empty: it has no header row or record{}; {}",
        path.display(),
        after_skipped(*skipped),
        other_sheets(sheet, sheets)
    )]
    EmptySheet {
        /// The file.
        path: PathBuf,
        /// The sheet read.
        sheet: String,
        /// The rows skipped before the header (`skip_lines`).
        skipped: u64,
        /// The workbook's sheets, in order (the one read among them).
        sheets: Vec<String>,
    },
    /// A CSV header names a schema column twice (names match trimmed and without case).
    #[error("{} has the column {column} more than once", path.display())]
    DuplicateColumn {
        /// The file.
        path: PathBuf,
        /// The column's schema name.
        column: String,
    },
}

/// A record rejected at the source, with its original bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawReject {
    /// The line the record starts on (1-based).
    pub position: u64,
    /// Why it was rejected.
    pub rule: Rule,
    /// The schema column at fault, where one is.
    pub column: Option<String>,
    /// The record's original bytes without its line terminator, at most `max_line_bytes` of
    /// them (a longer record keeps its first `max_line_bytes`). For CSV, every line of a
    /// multi-line record; a record too long or with a quote never closed over several lines
    /// gives one reject per line, each holding that line (cut at `max_line_bytes`). For JSON
    /// Lines, the line.
    pub raw: Vec<u8>,
    /// The record's reference (`record_id`), where it was read and is not what was wrong: a
    /// snapshot then knows that record was sent, though not staged.
    pub record_id: Option<String>,
}

/// One bounded batch read from a file.
#[derive(Debug, Clone)]
pub struct RawBatch {
    /// Where it came from: positions are the first and last line numbers of its records,
    /// rejects included.
    pub lineage: Lineage,
    /// One nullable Utf8 column per schema column, in schema order and named as in the schema
    /// (null where the file lacks the column or the value is empty), then a non-null UInt64
    /// `_position`: the line the row starts on.
    pub batch: RecordBatch,
    /// The records rejected at the source, in file order.
    pub rejects: Vec<RawReject>,
    /// Per row, whether the partner's withdrawal column (a source mapping's `[withdrawal]`)
    /// marks it withdrawn; empty when the file has no such column.
    pub withdrawn: Vec<bool>,
}

enum Input {
    Csv(Box<CsvInput>),
    Jsonl(Box<JsonlInput>),
    Workbook(Box<WorkbookInput>),
}

/// One partner file, read as batches.
pub struct FileSource {
    path: PathBuf,
    source: String,
    feed: &'static FeedSchema,
    input: Input,
    builder: BatchBuilder,
    done: bool,
    /// The source mapping whose value rules each batch goes through, if it has any.
    rewrite: Option<Arc<Mapping>>,
    /// The mapping's column marking records withdrawn, if it names one.
    marker: Option<WithdrawalMarker>,
    encoding: Encoding,
    /// Feed columns the mapping names a heading for that the file lacks (and that no constant
    /// fills): every record reads them as empty.
    absent: Vec<AbsentColumn>,
}

/// A feed column whose mapped heading the file does not have: the partner dropped or renamed
/// it, and every record of the file reads the column as empty.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AbsentColumn {
    /// The feed column.
    pub column: &'static str,
    /// The headings the mapping names for it, as the mapping writes them (not the file's).
    pub headings: Vec<String>,
}

impl fmt::Debug for FileSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FileSource")
            .field("path", &self.path)
            .field("feed", &self.feed.name)
            .field("bytes_read", &self.bytes_read())
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

impl SourceError {
    /// A stable dotted code for the rule the whole file broke, for summaries and reports.
    pub fn rule_code(&self) -> &'static str {
        match self {
            SourceError::Open { .. } => "file.unreadable",
            SourceError::NotRegular { .. } => "file.not_regular",
            SourceError::Read { .. } => "file.read_failed",
            SourceError::EmptyFile { .. } => "file.empty",
            SourceError::Utf16 { .. } => "encoding.utf16",
            SourceError::Compressed { .. } => "file.compressed",
            SourceError::HeaderNotUtf8 { .. } => "header.invalid_utf8",
            SourceError::HeaderTooLong { .. } => "header.too_long",
            SourceError::HeaderMalformed { .. } => "header.malformed",
            SourceError::MissingColumns { .. } | SourceError::SheetMissingColumns(_) => "header.missing_columns",
            SourceError::DuplicateColumn { .. } => "header.duplicate_column",
            SourceError::Mapping { .. } => "mapping.apply_failed",
            SourceError::Workbook { .. } => "workbook.unreadable",
            SourceError::SheetMissing { .. } => "workbook.sheet_missing",
            SourceError::EmptySheet { .. } => "file.empty",
            SourceError::UncalculatedFormulas(_) => "workbook.uncalculated_formulas",
        }
    }
}

/// A file's size and modification time (`None` if its metadata cannot be read), to tell whether
/// it changed between two looks: while an input was read, or since a file was last loaded.
pub fn file_state(path: &Path) -> Option<(u64, std::time::SystemTime)> {
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.len(), meta.modified().ok()?))
}

/// Checks that `path`, after following symlinks, is a regular file, without opening it.
///
/// Call it before anything opens or hashes an input: opening a FIFO blocks until a writer comes,
/// and reading a device may never end.
///
/// # Errors
///
/// [`SourceError::NotRegular`] naming what the path is instead; [`SourceError::Open`] if its
/// metadata cannot be read (missing, no permission).
pub fn check_regular_file(path: &Path) -> Result<(), SourceError> {
    let meta = std::fs::metadata(path).map_err(|source| SourceError::Open { path: path.to_owned(), source })?;
    if meta.is_file() {
        return Ok(());
    }
    let kind = if meta.is_dir() { "a directory" } else { special_file_kind(&meta.file_type()) };
    Err(SourceError::NotRegular { path: path.to_owned(), kind })
}

/// Names a file type that is neither a regular file nor a directory.
#[cfg(unix)]
fn special_file_kind(t: &std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if t.is_fifo() {
        "a FIFO"
    } else if t.is_char_device() {
        "a character device"
    } else if t.is_block_device() {
        "a block device"
    } else if t.is_socket() {
        "a socket"
    } else {
        "not a regular file"
    }
}

/// Names a file type that is neither a regular file nor a directory.
#[cfg(not(unix))]
fn special_file_kind(_: &std::fs::FileType) -> &'static str {
    "not a regular file"
}

impl FileSource {
    /// Opens a file; for CSV, reads its header and matches it to the schema.
    ///
    /// CSV header names are trimmed and matched to schema names without regard to case. A
    /// header name the schema lacks is dropped (see [`FileSource::unknown_columns`]); a blank
    /// one (as a trailing comma leaves) is dropped silently. An empty JSON Lines file is not an
    /// error: it has no records.
    pub fn open(
        path: &Path,
        format: FileFormat,
        feed: &'static FeedSchema,
        opts: FileSourceOptions,
    ) -> Result<FileSource, SourceError> {
        FileSource::open_with(path, format, feed, opts, Dialect::default(), None)
    }

    /// Opens a file written in `dialect` (CSV only: JSON Lines is UTF-8 by definition) through
    /// a source `mapping`, if there is one.
    ///
    /// Under a mapping, headings (CSV) and keys (JSON Lines) are resolved by
    /// [`Mapping::resolve`]: a heading it ignores is dropped without being reported, a required
    /// column with a constant need not be in the file, and each batch's values are rewritten
    /// by the mapping's constants, value maps, date formats and spellings before it is handed
    /// on. The mapping must be for `feed`.
    pub fn open_with(
        path: &Path,
        format: FileFormat,
        feed: &'static FeedSchema,
        opts: FileSourceOptions,
        dialect: Dialect,
        mapping: Option<Arc<Mapping>>,
    ) -> Result<FileSource, SourceError> {
        check_regular_file(path)?;
        let file = File::open(path).map_err(|source| SourceError::Open { path: path.to_owned(), source })?;
        let schema = batch::raw_schema(feed);
        let lookup = ColumnLookup::with_mapping(feed, mapping.clone());
        let mut encoding = Encoding::Utf8;
        let (input, present) = match format {
            FileFormat::Csv => {
                encoding = match dialect.encoding {
                    EncodingChoice::Known(e) => e,
                    EncodingChoice::Auto => dialect::detect_encoding(path)
                        .map_err(|source| SourceError::Open { path: path.to_owned(), source })?,
                };
                let settings = CsvSettings {
                    delimiter: dialect.delimiter,
                    encoding,
                    skip_lines: dialect.skip_lines,
                    lookup,
                    mapping: mapping.as_deref(),
                    footer_lines: mapping.as_ref().map_or(0, |m| m.footer_lines()),
                };
                let (csv, present) = CsvInput::open(path, file, feed, &opts, settings)?;
                (Input::Csv(Box::new(csv)), present)
            }
            FileFormat::JsonLines => {
                // A zero-byte extract is a failed export, not an empty month: refuse it as for CSV.
                let empty =
                    file.metadata().map_err(|source| SourceError::Open { path: path.to_owned(), source })?.len() == 0;
                if empty {
                    return Err(SourceError::EmptyFile { path: path.to_owned() });
                }
                let width = lookup.width();
                (Input::Jsonl(Box::new(JsonlInput::open(file, lookup, &opts))), vec![true; width])
            }
            FileFormat::Xlsx | FileFormat::Xls | FileFormat::Ods => {
                let (sheet, present) = WorkbookInput::open(
                    path,
                    format,
                    (dialect.sheet.as_deref(), dialect.skip_lines),
                    feed,
                    &lookup,
                    mapping.as_deref(),
                )?;
                (Input::Workbook(Box::new(sheet)), present)
            }
        };
        let absent = match &mapping {
            Some(m) => (0..feed.columns.len())
                .filter(|&i| !present.get(i).copied().unwrap_or(true) && !m.has_constant(i))
                .filter_map(|i| {
                    let headings: Vec<String> = m.headings_of(i).into_iter().map(str::to_owned).collect();
                    (!headings.is_empty()).then(|| AbsentColumn { column: feed.columns[i].name, headings })
                })
                .collect(),
            None => Vec::new(),
        };
        Ok(FileSource {
            path: path.to_owned(),
            source: path.display().to_string(),
            feed,
            input,
            builder: BatchBuilder::new(schema, &present, opts.batch_rows),
            done: false,
            marker: mapping.as_ref().and_then(|m| m.withdrawal().cloned()),
            rewrite: mapping.filter(|m| m.rewrites_values()),
            encoding,
            absent,
        })
    }

    /// The encoding the file is read in (after detection, if it was `auto`).
    pub fn encoding(&self) -> Encoding {
        self.encoding
    }

    /// Whether the file has feed column `i` (a CSV heading resolved to it); always true for
    /// JSON Lines, whose keys may change from line to line.
    pub fn has_column(&self, i: usize) -> bool {
        match &self.input {
            Input::Csv(c) => c.has_column(i),
            Input::Workbook(x) => x.has_column(i),
            Input::Jsonl(_) => true,
        }
    }

    /// Feed columns whose mapped heading the file lacks (see [`AbsentColumn`]).
    pub fn absent_columns(&self) -> &[AbsentColumn] {
        &self.absent
    }

    /// A workbook read with no sheet named: its other sheets shown, which are not read (one
    /// sheet is one input: a sheet per term needs an entry each). Empty for other formats.
    pub fn unread_sheets(&self) -> &[String] {
        match &self.input {
            Input::Workbook(x) => x.unread_sheets(),
            Input::Csv(_) | Input::Jsonl(_) => &[],
        }
    }

    /// The sheet read, for a workbook (named, or the first shown): where a row's position is.
    pub fn sheet(&self) -> Option<&str> {
        match &self.input {
            Input::Workbook(x) => Some(x.sheet()),
            Input::Csv(_) | Input::Jsonl(_) => None,
        }
    }

    /// The CSV delimiter in use (after detection); `None` for JSON Lines.
    pub fn delimiter(&self) -> Option<u8> {
        match &self.input {
            Input::Csv(c) => Some(c.delimiter()),
            Input::Jsonl(_) | Input::Workbook(_) => None,
        }
    }

    /// Names in the file that are not in the schema: dropped (never passed on), for the caller
    /// to report. Trimmed, deduplicated and sorted. For CSV, the header's; for JSON Lines, the
    /// keys seen so far (at most [`MAX_UNKNOWN_KEYS`] of them).
    pub fn unknown_columns(&self) -> Vec<String> {
        match &self.input {
            Input::Csv(c) => c.unknown_columns(),
            Input::Jsonl(j) => j.unknown_columns(),
            Input::Workbook(x) => x.unknown_columns(),
        }
    }

    /// The next batch; `None` at the end of the file. After an error, `None`.
    ///
    /// A batch has at least one row or one reject, and at most `batch_rows` of them together
    /// (fewer when its rejects' bytes reach 8 MiB).
    pub fn next_batch(&mut self) -> Result<Option<RawBatch>, SourceError> {
        if self.done {
            return Ok(None);
        }
        let filled = match &mut self.input {
            Input::Csv(c) => c.fill(&self.path, &mut self.builder),
            Input::Jsonl(j) => j.fill(&self.path, &mut self.builder),
            Input::Workbook(x) => x.fill(&mut self.builder),
        };
        match filled {
            Ok(more) => self.done = !more,
            Err(e) => {
                self.done = true;
                return Err(e);
            }
        }
        let taken = self.builder.take().map_err(|e| {
            // Unreachable: every column is built to the same length. Reported, not panicked on.
            self.done = true;
            SourceError::Read { path: self.path.clone(), line: self.current_line(), source: io::Error::other(e) }
        })?;
        let Some(taken) = taken else { return Ok(None) };
        let through = MappingUse { marker: self.marker.as_ref(), rewrite: self.rewrite.as_deref(), path: &self.path };
        let raw = through.apply(taken, self.feed, &self.source);
        self.done |= raw.is_err();
        raw.map(Some)
    }

    /// File bytes consumed so far (for a progress bar); the file's size once it is read.
    pub fn bytes_read(&self) -> u64 {
        match &self.input {
            Input::Csv(c) => c.bytes_consumed(),
            Input::Jsonl(j) => j.bytes_consumed(),
            Input::Workbook(x) => x.bytes_consumed(),
        }
    }

    /// The line the reader is at, for error messages.
    fn current_line(&self) -> u64 {
        match &self.input {
            Input::Csv(c) => c.line(),
            Input::Jsonl(j) => j.line(),
            Input::Workbook(x) => x.line(),
        }
    }
}

/// What a source mapping does to a batch once it is read: marks the rows its withdrawal marker
/// names, and rewrites values into the feed's (codes, dates).
struct MappingUse<'a> {
    marker: Option<&'a WithdrawalMarker>,
    rewrite: Option<&'a Mapping>,
    /// The input, for messages.
    path: &'a Path,
}

impl MappingUse<'_> {
    /// The batch `taken` from the builder, as a raw batch of `feed` read from `source`.
    fn apply(&self, taken: batch::Taken, feed: &'static FeedSchema, source: &str) -> Result<RawBatch, SourceError> {
        let withdrawn = match (self.marker, &taken.marker) {
            (Some(m), Some(cells)) => cells.iter().map(|c| c.is_some_and(|v| m.marks(v))).collect(),
            _ => Vec::new(),
        };
        let mut raw = taken.into_raw(feed, source);
        raw.withdrawn = withdrawn;
        if let Some(mapping) = self.rewrite {
            raw.batch = mapping.apply(&raw.batch).map_err(|e| SourceError::Mapping {
                path: self.path.to_owned(),
                line: raw.lineage.first_position,
                message: e.to_string(),
            })?;
        }
        Ok(raw)
    }
}

#[cfg(test)]
mod tests;
