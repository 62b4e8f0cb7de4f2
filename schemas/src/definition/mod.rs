//! Feed definitions: a partner feed declared in a reviewed TOML file, so that a deployment adds a
//! feed, or a new version of one, without a new release.
//!
//! The seven built-in feeds are such files too, embedded in the binary ([`BUILTIN`]) and read
//! through the same checks as a deployment's own. The format is documented in `docs/feeds.md`:
//!
//! ```toml
//! name = "substance_misuse"
//! version = 1
//! partner = "Young people's substance misuse service"
//! description = "One row per treatment episode."
//! event_date = "referral_date"
//!
//! [[columns]]
//! name = "record_id"
//! standard = true          # the shared person block: same meaning in every feed
//!
//! [[columns]]
//! name = "referral_date"
//! type = "date"
//! role = "event_attribute"
//! required = true
//! description = "Date the referral was received."
//! ```
//!
//! Every problem is reported at once as `file:line:column: error[rule]: message`; a file with
//! any problem defines no feed (fail closed).

mod check;
mod file;

use std::fmt;
use std::path::{Path, PathBuf};

use crate::feed::FeedSchema;
use crate::position::{Listed, Position};

/// The built-in feed definitions: file name and text, in the order of the data dictionary.
pub const BUILTIN: &[(&str, &str)] = &[
    ("health_visiting.toml", include_str!("../../feeds/health_visiting.toml")),
    ("camhs.toml", include_str!("../../feeds/camhs.toml")),
    ("police.toml", include_str!("../../feeds/police.toml")),
    ("youth_justice.toml", include_str!("../../feeds/youth_justice.toml")),
    ("housing.toml", include_str!("../../feeds/housing.toml")),
    ("district.toml", include_str!("../../feeds/district.toml")),
    ("education.toml", include_str!("../../feeds/education.toml")),
];

/// Example definitions of feeds that are not built in, shipped so that `synth` and `demo` can
/// write them into a deployment's feeds folder: file name and text. A deployment loads them from
/// there like any definition of its own; nothing in the code knows these feeds.
pub const EXAMPLES: &[(&str, &str)] =
    &[("substance_misuse.toml", include_str!("../../feeds/examples/substance_misuse.toml"))];

/// The example definition of `feed`, checked, if there is one.
pub fn example(feed: &str) -> Option<Result<Loaded, Vec<FeedProblem>>> {
    let (name, text) = EXAMPLES.iter().find(|(n, _)| n.strip_suffix(".toml") == Some(feed))?;
    Some(parse(Path::new(&format!("example:{name}")), text.as_bytes()))
}

/// A rule of the feed definition format, with a stable code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FeedRule {
    /// The file is not valid TOML, or not UTF-8.
    TomlSyntax,
    /// A key that is not part of the format.
    UnknownKey,
    /// A value of the wrong TOML type, or a required key missing.
    Format,
    /// A feed name that is not lower-case letters, digits and `_`.
    Name,
    /// A version that is not a whole number of at least 1.
    Version,
    /// An empty partner, description or column description.
    Text,
    /// A column name that is not lower-case letters, digits and `_`.
    ColumnName,
    /// A column defined twice.
    ColumnDuplicate,
    /// A standard column redefined, or `standard = true` on a name that is none.
    Standard,
    /// A missing or unknown type, or a parameter missing or not applicable to it.
    Type,
    /// A range that is empty or out of bounds.
    Range,
    /// An empty code list, a malformed code, or a code listed twice.
    Codes,
    /// A missing or unknown role.
    Role,
    /// An unknown sensitivity.
    Sensitivity,
    /// A generalisation that is unknown, missing where needed, or not fitting the column.
    Generalise,
    /// An unknown `on_invalid`, or one on a column that always quarantines.
    OnInvalid,
    /// No standard `record_id`, or another column claiming to be the record reference.
    RecordReference,
    /// `event_date` naming no column, or one that is not a required date.
    EventDate,
    /// `updated` naming no column, or one that is not a date event attribute kept as it is.
    Updated,
    /// A column named like a staging column derived from another.
    StagingName,
    /// Two definitions of one feed at one version.
    Duplicate,
}

impl FeedRule {
    /// The stable code, such as `column.type`.
    pub fn code(self) -> &'static str {
        match self {
            FeedRule::TomlSyntax => "toml.syntax",
            FeedRule::UnknownKey => "feed.unknown_key",
            FeedRule::Format => "feed.format",
            FeedRule::Name => "feed.name",
            FeedRule::Version => "feed.version",
            FeedRule::Text => "feed.text",
            FeedRule::ColumnName => "column.name",
            FeedRule::ColumnDuplicate => "column.duplicate",
            FeedRule::Standard => "column.standard",
            FeedRule::Type => "column.type",
            FeedRule::Range => "column.range",
            FeedRule::Codes => "column.codes",
            FeedRule::Role => "column.role",
            FeedRule::Sensitivity => "column.sensitivity",
            FeedRule::Generalise => "column.generalise",
            FeedRule::OnInvalid => "column.on_invalid",
            FeedRule::RecordReference => "feed.record_reference",
            FeedRule::EventDate => "feed.event_date",
            FeedRule::Updated => "feed.updated",
            FeedRule::StagingName => "column.staging_name",
            FeedRule::Duplicate => "feed.duplicate",
        }
    }
}

impl fmt::Display for FeedRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// One problem in a feed definition, displayed as `path:line:column: error[rule]: message`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedProblem {
    /// The definition file.
    pub path: PathBuf,
    /// 1-based line.
    pub line: u32,
    /// 1-based column, in characters.
    pub column: u32,
    /// The rule broken.
    pub rule: FeedRule,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for FeedProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (path, line, column, rule, message) =
            (self.path.display(), self.line, self.column, self.rule, &self.message);
        write!(f, "{path}:{line}:{column}: error[{rule}]: {message}")
    }
}

/// Why the feeds of a deployment cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum FeedsError {
    /// The directory or a file in it cannot be read.
    #[error("cannot read feed definitions {}: {source}", path.display())]
    Read {
        /// The directory or file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// Definitions have problems; every one is listed.
    #[error("feed definitions have {} problem(s):\n{}", problems.len(), Listed(problems))]
    Invalid {
        /// Every problem, by file and place.
        problems: Vec<FeedProblem>,
    },
}

/// A feed definition read from a file.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The file it came from.
    pub path: PathBuf,
    /// The schema it defines (kept for the life of the process, as the built-in ones are).
    pub schema: &'static FeedSchema,
    /// Where its version is written, for problems across files.
    pub version_at: Position,
}

/// Checks one definition (`path` is for messages) and makes its schema, or lists every problem.
pub fn parse(path: &Path, bytes: &[u8]) -> Result<Loaded, Vec<FeedProblem>> {
    check::validate(path, bytes)
}

/// Reads and checks every `*.toml` file of `dir` (sorted by name; hidden files skipped), every
/// problem of every file at once.
pub fn load_dir(dir: &Path) -> Result<Vec<Loaded>, FeedsError> {
    let entries = std::fs::read_dir(dir).map_err(|source| FeedsError::Read { path: dir.to_owned(), source })?;
    let mut paths = Vec::new();
    for entry in entries {
        let path = entry.map_err(|source| FeedsError::Read { path: dir.to_owned(), source })?.path();
        let hidden = path.file_name().and_then(|n| n.to_str()).is_none_or(|n| n.starts_with('.'));
        if !hidden && path.extension().is_some_and(|e| e == "toml") && path.is_file() {
            paths.push(path);
        }
    }
    paths.sort();
    let mut loaded = Vec::new();
    let mut problems = Vec::new();
    for path in paths {
        let bytes = std::fs::read(&path).map_err(|source| FeedsError::Read { path: path.clone(), source })?;
        match parse(&path, &bytes) {
            Ok(l) => loaded.push(l),
            Err(p) => problems.extend(p),
        }
    }
    if problems.is_empty() { Ok(loaded) } else { Err(FeedsError::Invalid { problems }) }
}

/// The built-in definitions, checked like any other. A problem here is a defect of the release,
/// which the tests exclude.
pub fn builtin() -> Result<Vec<Loaded>, Vec<FeedProblem>> {
    let mut loaded = Vec::new();
    let mut problems = Vec::new();
    for (name, text) in BUILTIN {
        match parse(Path::new(&format!("builtin:{name}")), text.as_bytes()) {
            Ok(l) => loaded.push(l),
            Err(p) => problems.extend(p),
        }
    }
    if problems.is_empty() { Ok(loaded) } else { Err(problems) }
}

#[cfg(test)]
mod tests;
