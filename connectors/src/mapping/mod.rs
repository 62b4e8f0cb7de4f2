//! Source mappings: how one partner's file becomes a feed's columns.
//!
//! A mapping is a reviewed TOML file, named by a `[[sources]]` entry, that says which of the
//! partner's headings is which feed column, which columns are the same for every record
//! (constants), how the partner's codes, dates, booleans and decimals are written, which
//! headings are dropped on purpose, which column marks a record withdrawn, and how the file
//! itself is written (delimiter, encoding, preamble lines, quoting, spellings of a missing
//! value). It is validated purely and every problem is reported at once, each as
//! `file:line:column: error[rule]: message`; a mapping with any problem is not used, and the
//! source it belongs to is not read (fail closed).
//!
//! ```toml
//! feed = "housing"
//! ignore = ["Officer"]
//!
//! [file]
//! delimiter = "|"
//! encoding = "windows-1252"
//! null_values = ["NULL"]
//!
//! [columns]
//! "Case Ref" = "record_id"
//! DOB = "date_of_birth"
//! "NHS Number" = "nhs_number"
//!
//! [constants]
//! role_in_household = "CHILD"
//!
//! [values.sex]
//! "1" = "M"
//! "2" = "F"
//! "9" = "U"
//!
//! [dates]
//! date_of_birth = "%d/%m/%Y"
//! approach_date = ["%d/%m/%Y", "%Y-%m-%d %H:%M:%S%.3f", "excel"]
//!
//! [withdrawal]
//! column = "Record Status"
//! values = ["Deleted"]
//! ```
//!
//! Headings match without regard to case, spaces and punctuation (`NHS Number`, `nhs_number`
//! and `NHSNumber` are one heading); a heading the mapping does not name is matched to a feed
//! column's own name the same way. A value the mapping cannot translate (a date in none of the
//! formats, a code not in the value map) is passed on as it is, and the validate stage
//! quarantines its record under the usual rule (`date.format`, `code.unknown`).

mod apply;
pub mod check;
pub mod dates;
mod file;
mod nulls;
mod rules;
mod withdrawal;

use std::fmt;
use std::path::{Path, PathBuf};

use tellonce_schemas::FeedSchema;
use tellonce_schemas::position::Listed;

use crate::file_source::{DelimiterChoice, EncodingChoice};
pub use dates::DateFormat;
use nulls::NullSpellings;
pub use nulls::{MAX_NULL_SPELLING_CHARS, MAX_NULL_SPELLINGS};
pub(crate) use rules::ColumnRule;
pub use withdrawal::WithdrawalMarker;

/// A rule of the mapping format, with a stable code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MappingRule {
    /// The file is not valid TOML, or not UTF-8.
    TomlSyntax,
    /// A key that is not part of the format.
    UnknownKey,
    /// A value of the wrong type, or a required key missing.
    Type,
    /// The mapping names a feed that does not exist, or not the source's feed.
    Feed,
    /// A feed column that does not exist.
    ColumnUnknown,
    /// Two headings (or a heading and a constant) for one feed column.
    DuplicateTarget,
    /// A heading written twice (once case, spaces and punctuation are set aside), or both
    /// mapped and ignored.
    DuplicateHeading,
    /// A date format that is not valid or does not name a whole date.
    DateFormat,
    /// A setting that does not fit the column's kind (a date format on a code column).
    Kind,
    /// A constant or a value map's target that the column would refuse.
    Value,
    /// An unknown delimiter or encoding.
    Dialect,
}

impl MappingRule {
    /// The stable code, such as `column.unknown`.
    pub fn code(self) -> &'static str {
        match self {
            MappingRule::TomlSyntax => "toml.syntax",
            MappingRule::UnknownKey => "mapping.unknown_key",
            MappingRule::Type => "mapping.type",
            MappingRule::Feed => "mapping.feed",
            MappingRule::ColumnUnknown => "column.unknown",
            MappingRule::DuplicateTarget => "column.duplicate_target",
            MappingRule::DuplicateHeading => "heading.duplicate",
            MappingRule::DateFormat => "date.format_invalid",
            MappingRule::Kind => "column.kind",
            MappingRule::Value => "value.invalid",
            MappingRule::Dialect => "file.dialect",
        }
    }
}

impl fmt::Display for MappingRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// One problem in a mapping file, displayed as `path:line:column: error[rule]: message`.
/// Messages name keys, headings and columns from the mapping, never a value from a data file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MappingProblem {
    /// The mapping file.
    pub path: PathBuf,
    /// 1-based line.
    pub line: u32,
    /// 1-based column, in characters.
    pub column: u32,
    /// The rule broken.
    pub rule: MappingRule,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for MappingProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: error[{}]: {}",
            self.path.display(),
            self.line,
            self.column,
            self.rule.code(),
            self.message
        )
    }
}

/// Why a mapping cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum MappingError {
    /// The file cannot be read.
    #[error("cannot read mapping {}: {source}", path.display())]
    Read {
        /// The mapping file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The file has problems; every one is listed.
    #[error("mapping {} has {} problem(s):\n{}", path.display(), problems.len(), Listed(problems))]
    Invalid {
        /// The mapping file.
        path: PathBuf,
        /// Every problem, in file order.
        problems: Vec<MappingProblem>,
    },
}

impl MappingError {
    /// A stable code for the rule the source broke, for summaries.
    pub fn rule_code(&self) -> &'static str {
        match self {
            MappingError::Read { .. } => "mapping.unreadable",
            MappingError::Invalid { .. } => "mapping.invalid",
        }
    }
}

/// A partner heading the mapping names.
#[derive(Debug, Clone)]
pub(crate) struct Heading {
    /// Folded: lower case, letters and digits only.
    pub(crate) folded: String,
    /// As written in the mapping.
    pub(crate) written: String,
    /// The feed column it is.
    pub(crate) column: usize,
}

/// A validated source mapping for one feed.
#[derive(Debug, Clone)]
pub struct Mapping {
    path: PathBuf,
    feed: &'static FeedSchema,
    delimiter: Option<DelimiterChoice>,
    encoding: Option<EncodingChoice>,
    skip_lines: Option<u64>,
    /// Lines holding anything at the end of each file that are no records (`[file] footer_lines`).
    footer_lines: u64,
    sheet: Option<String>,
    /// Whether `"` quotes fields (`[file] quote`, default yes).
    quotes_fields: bool,
    /// Spellings of a missing value, read as empty cells (`[file] null_values`).
    nulls: NullSpellings,
    headings: Vec<Heading>,
    ignored: Vec<String>,
    /// One per feed column, in schema order.
    rules: Vec<ColumnRule>,
    /// The partner's column marking records withdrawn, if it has one.
    withdrawal: Option<WithdrawalMarker>,
}

/// A heading folded for matching: lower case, letters and digits only, so that `NHS Number`,
/// `nhs_number` and `NHSNumber` are one heading.
pub fn fold_heading(name: &str) -> String {
    name.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect()
}

/// How a file heading resolves under a mapping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolved {
    /// The feed column with this index.
    Column(usize),
    /// Dropped on purpose.
    Ignored,
    /// The column marking records withdrawn (`[withdrawal]`).
    Withdrawal,
    /// Not known: dropped and reported.
    Unknown,
}

impl Mapping {
    /// Reads and validates the mapping at `path` for `feed`.
    pub fn load(path: &Path, feed: &'static FeedSchema) -> Result<Mapping, MappingError> {
        let bytes = std::fs::read(path).map_err(|source| MappingError::Read { path: path.to_owned(), source })?;
        Mapping::parse(path, &bytes, feed).map_err(|problems| MappingError::Invalid { path: path.to_owned(), problems })
    }

    /// Validates mapping text (`path` is for messages), reporting every problem at once. A
    /// file that is not TOML, or whose keys or types do not fit the format, has that one
    /// problem: the rest cannot be read.
    pub fn parse(path: &Path, bytes: &[u8], feed: &'static FeedSchema) -> Result<Mapping, Vec<MappingProblem>> {
        rules::validate(path, bytes, feed)
    }

    /// The mapping file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The feed it maps into.
    pub fn feed(&self) -> &'static FeedSchema {
        self.feed
    }

    /// The delimiter it declares, if any.
    pub fn delimiter(&self) -> Option<DelimiterChoice> {
        self.delimiter
    }

    /// The encoding it declares, if any.
    pub fn encoding(&self) -> Option<EncodingChoice> {
        self.encoding
    }

    /// The preamble lines it declares, if any.
    pub fn skip_lines(&self) -> Option<u64> {
        self.skip_lines
    }

    /// The lines (sheet rows) holding anything at the end of every file that are its footer,
    /// not records (`[file] footer_lines`; 0: none).
    pub fn footer_lines(&self) -> u64 {
        self.footer_lines
    }

    /// The workbook sheet it declares, if any.
    pub fn sheet(&self) -> Option<&str> {
        self.sheet.as_deref()
    }

    /// Whether `"` quotes fields of a CSV file (the default), or is an ordinary character
    /// (`[file] quote = "none"`).
    pub fn quotes_fields(&self) -> bool {
        self.quotes_fields
    }

    /// The spellings of a missing value it declares (`[file] null_values`), trimmed.
    pub fn null_values(&self) -> &[String] {
        self.nulls.as_slice()
    }

    /// What a file heading is under this mapping: ignored on purpose, a mapped heading, or a
    /// feed column's own name (all matched folded).
    pub fn resolve(&self, heading: &str) -> Resolved {
        let folded = fold_heading(heading);
        if folded.is_empty() {
            return Resolved::Unknown;
        }
        if self.ignored.contains(&folded) {
            return Resolved::Ignored;
        }
        if self.withdrawal.as_ref().is_some_and(|w| w.folded == folded) {
            return Resolved::Withdrawal;
        }
        if let Some(h) = self.headings.iter().find(|h| h.folded == folded) {
            return Resolved::Column(h.column);
        }
        match self.feed.columns.iter().position(|c| fold_heading(c.name) == folded) {
            Some(i) => Resolved::Column(i),
            None => Resolved::Unknown,
        }
    }

    /// The partner's column marking records withdrawn, if the mapping names one.
    pub fn withdrawal(&self) -> Option<&WithdrawalMarker> {
        self.withdrawal.as_ref()
    }

    /// The headings the mapping names for feed column `i`, as written.
    pub fn headings_of(&self, i: usize) -> Vec<&str> {
        self.headings.iter().filter(|h| h.column == i).map(|h| h.written.as_str()).collect()
    }

    /// Every heading the mapping names, as written, with its feed column.
    pub fn headings(&self) -> impl Iterator<Item = (&str, &'static str)> + '_ {
        self.headings.iter().map(|h| (h.written.as_str(), self.feed.columns[h.column].name))
    }

    /// Whether feed column `i` has a constant (so a file need not send it).
    pub fn has_constant(&self, i: usize) -> bool {
        self.rules.get(i).is_some_and(|r| r.constant.is_some())
    }

    /// Whether feed column `i` has a value map.
    pub fn has_value_map(&self, i: usize) -> bool {
        self.rules.get(i).is_some_and(|r| !r.values.is_empty())
    }

    /// The decimal separator `[decimals]` declares for feed column `i`, if any.
    pub(crate) fn decimal_point(&self, i: usize) -> Option<char> {
        self.rules.get(i).and_then(|r| r.decimal.as_ref()).map(|d| d.point)
    }

    /// Whether feed column `i` has date formats.
    pub fn has_date_formats(&self, i: usize) -> bool {
        self.rules.get(i).is_some_and(|r| !r.dates.is_empty())
    }

    /// Whether any column's values are rewritten (spellings of a missing value included).
    pub(crate) fn rewrites_values(&self) -> bool {
        !self.nulls.is_empty() || self.rules.iter().any(ColumnRule::rewrites)
    }

    /// Whether `value` of feed column `i` is one the value map translates.
    pub fn value_is_mapped(&self, i: usize, value: &str) -> bool {
        self.rules.get(i).is_some_and(|r| r.map_code(value).is_some())
    }
}

#[cfg(test)]
mod tests;
