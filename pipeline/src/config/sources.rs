//! `[[sources]]`: the partner files a run reads, each with its feed, format, schema version and
//! (for a partner's own shape) mapping and dialect.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use tellonce_connectors::file_source::{DelimiterChoice, Dialect, EncodingChoice, FileFormat};
use tellonce_connectors::mapping::Mapping;
use tellonce_schemas::{FeedSchema, feed};

/// One `[[sources]]` entry.
#[derive(Debug, Deserialize)]
pub struct SourceFile {
    /// The feed the file belongs to.
    pub feed: String,
    /// The file.
    pub path: PathBuf,
    /// `csv` or `jsonl`; by default from the file's extension.
    pub format: Option<String>,
    /// The schema version the file is written in; by default the newest.
    pub schema_version: Option<u32>,
    /// A source mapping (TOML) from the partner's own headings, codes and formats to the
    /// feed's, relative to the config.
    pub mapping: Option<PathBuf>,
    /// CSV delimiter: `,`, `\t` (or `tab`), `|`, `;` or `auto`.
    pub delimiter: Option<String>,
    /// Character encoding: `utf-8`, `windows-1252`, `latin-1` or `auto`.
    pub encoding: Option<String>,
    /// Preamble lines (sheet rows) before the header.
    pub skip_lines: Option<u64>,
    /// The sheet of a workbook (`.xlsx`, `.xls`, `.ods`; default: its first sheet).
    pub sheet: Option<String>,
    /// What a file of this source is of the partner's holding: `delta` (new and changed
    /// records; the default), `snapshot` (the whole current holding: records absent from it
    /// are withdrawn) or `append` (events that never change).
    pub mode: Option<String>,
    /// The largest share of the feed's records held one snapshot may withdraw (0 to 1; default
    /// 0.2): a snapshot that would withdraw more is held until a run confirms it with
    /// `--allow-mass-withdrawal`, since a truncated export looks exactly like that.
    pub max_withdrawal_share: Option<f64>,
    /// What a snapshot is the partner's whole holding of: `feed` (the default) or `source`
    /// (the records this entry's files sent).
    pub snapshot_of: Option<String>,
    /// A snapshot of the records whose coded column holds one of the values given (one
    /// district's holding, in a feed several districts send): `{ column = "district_code",
    /// values = ["CRAWLEY"] }`.
    pub snapshot_where: Option<SnapshotWhereFile>,
}

/// `snapshot_where = { column = "…", values = ["…"] }`.
#[derive(Debug, Deserialize)]
pub struct SnapshotWhereFile {
    /// A coded event attribute of the feed (held in staging as it is).
    pub column: String,
    /// The codes that put a record in the snapshot's scope.
    pub values: Vec<String>,
}

/// The scope of a snapshot stated by a column's values: the records held whose latest version
/// has one of `values` in `column`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotWhere {
    /// The column.
    pub column: &'static str,
    /// Its values in scope.
    pub values: Vec<String>,
}

/// Checks `snapshot_where` of entry `at` against its feed: a snapshot, not also of its source,
/// scoped by a coded event attribute (held in staging as it is) with codes of that column.
fn snapshot_where(
    s: &SourceFile,
    mode: SourceMode,
    schema: Option<&'static FeedSchema>,
    at: &str,
    problems: &mut Vec<String>,
) -> Option<SnapshotWhere> {
    let w = s.snapshot_where.as_ref()?;
    let mut fail = |why: String| {
        problems.push(format!("{at}.snapshot_where: {why}"));
        None
    };
    if mode != SourceMode::Snapshot {
        return fail("applies to mode = \"snapshot\" only".to_owned());
    }
    if s.snapshot_of.as_deref() == Some("source") {
        return fail("a snapshot is of its source or of a column's values, not both".to_owned());
    }
    let schema = schema?;
    let Some(column) = schema.columns.iter().find(|c| c.name == w.column) else {
        return fail(format!("{:?} is not a column of feed {}", w.column, schema.name));
    };
    let tellonce_schemas::Kind::Code(codes) = &column.kind else {
        return fail(format!("{} is not a coded column (its values are the scope)", column.name));
    };
    if column.role != tellonce_schemas::Role::EventAttribute {
        return fail(format!("{} is not an event attribute (staging holds only those as they are)", column.name));
    }
    if w.values.is_empty() {
        return fail("values is empty: the snapshot would be of nothing".to_owned());
    }
    if let Some(v) = w.values.iter().find(|v| !codes.contains(&v.as_str())) {
        return fail(format!("{v:?} is not a code of {} ({})", column.name, codes.join(", ")));
    }
    Some(SnapshotWhere { column: column.name, values: w.values.clone() })
}

/// The share of the holding a snapshot may withdraw unless a source says otherwise.
pub const DEFAULT_MAX_WITHDRAWAL_SHARE: f64 = 0.2;

/// What a file of a source is of the partner's holding (see [`crate::records`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceMode {
    /// New and changed records; a record it leaves out is left as it is.
    #[default]
    Delta,
    /// The partner's whole current holding of the feed: a record held and absent from it is
    /// withdrawn (when the file has no quarantined record: one might be the absent record).
    Snapshot,
    /// Events that never change: a record already held is not staged again, whatever its
    /// content, and never supersedes the version held.
    Append,
    /// A list of record references the partner withdraws (a CSV file with a `record_id`
    /// heading): each leaves staging for history and is tombstoned (see
    /// [`crate::records::withdrawals`]).
    Withdrawals,
}

impl std::str::FromStr for SourceMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "delta" => Ok(SourceMode::Delta),
            "snapshot" => Ok(SourceMode::Snapshot),
            "append" => Ok(SourceMode::Append),
            "withdrawals" => Ok(SourceMode::Withdrawals),
            other => {
                Err(format!("{other:?} is not a mode; use \"delta\", \"snapshot\", \"append\" or \"withdrawals\""))
            }
        }
    }
}

/// Whether a configured source path is a pattern to expand rather than a file name.
pub(crate) fn is_pattern(path: &Path) -> bool {
    path.to_string_lossy().contains(['*', '?', '['])
}

/// How one file source is read, as its `[[sources]]` entry declares.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reading {
    /// The source mapping file.
    pub mapping: Option<PathBuf>,
    /// The delimiter declared in `[[sources]]`.
    pub delimiter: Option<DelimiterChoice>,
    /// The encoding declared in `[[sources]]`.
    pub encoding: Option<EncodingChoice>,
    /// The preamble lines declared in `[[sources]]`.
    pub skip_lines: Option<u64>,
    /// The workbook sheet declared in `[[sources]]`.
    pub sheet: Option<String>,
}

impl Reading {
    /// The dialect the file is read in, from `[[sources]]` and the mapping together: a setting
    /// declared in both must agree. Undeclared: a comma (detected from the header line when
    /// there is a mapping), UTF-8, no preamble, exactly as a file without a mapping is read.
    pub fn dialect(&self, mapping: Option<&Mapping>) -> Result<Dialect, String> {
        fn pick<T: PartialEq + std::fmt::Display + Copy>(
            name: &str,
            here: Option<T>,
            there: Option<T>,
        ) -> Result<Option<T>, String> {
            match (here, there) {
                (Some(a), Some(b)) if a != b => {
                    Err(format!("[[sources]] declares {name} {a} but the mapping declares {b}; declare it once"))
                }
                (a, b) => Ok(a.or(b)),
            }
        }
        let delimiter = pick("delimiter", self.delimiter, mapping.and_then(Mapping::delimiter))?;
        let encoding = pick("encoding", self.encoding, mapping.and_then(Mapping::encoding))?;
        let skip_lines = pick("skip_lines", self.skip_lines, mapping.and_then(Mapping::skip_lines))?;
        let sheet = match (self.sheet.as_deref(), mapping.and_then(Mapping::sheet)) {
            (Some(a), Some(b)) if a != b => {
                let (a, b) = (
                    tellonce_connectors::file_source::sheet_names::configured(a),
                    tellonce_connectors::file_source::sheet_names::configured(b),
                );
                return Err(format!(
                    "[[sources]] declares the sheet {a} but the mapping declares the sheet {b}; declare it once"
                ));
            }
            (a, b) => a.or(b).map(str::to_owned),
        };
        let default_delimiter = if mapping.is_some() { DelimiterChoice::Auto } else { DelimiterChoice::COMMA };
        Ok(Dialect {
            delimiter: delimiter.unwrap_or(default_delimiter),
            encoding: encoding.unwrap_or_default(),
            skip_lines: skip_lines.unwrap_or(0),
            sheet,
        })
    }
}

/// How each file source is read, by its path and the sheet its `[[sources]]` entry names.
pub type Readings = BTreeMap<(PathBuf, Option<String>), Reading>;

/// A validated source.
#[derive(Debug, Clone)]
pub struct Source {
    /// Its feed's schema at the declared version.
    pub feed: &'static FeedSchema,
    /// The file.
    pub path: PathBuf,
    /// Its format.
    pub format: FileFormat,
    /// What a file of it is of the partner's holding.
    pub mode: SourceMode,
    /// The largest share of the records held a snapshot of it may withdraw (0 to 1).
    pub max_withdrawal_share: f64,
    /// For a snapshot of its own files' records only (`snapshot_of = "source"`): the entry's
    /// path (a pattern, or one file) that the inputs which sent a record must match for the
    /// snapshot to withdraw it. `None`: a snapshot of the whole feed.
    pub snapshot_of_source: Option<String>,
    /// For a snapshot of the records with given values in a column (`snapshot_where`).
    pub snapshot_where: Option<SnapshotWhere>,
    /// The workbook sheet its `[[sources]]` entry names (which entry's reading applies, when a
    /// workbook is listed once per sheet).
    pub sheet: Option<String>,
}

/// Reports a path listed before with the same sheet (none, or one matched alike). One workbook
/// may be listed once per sheet (a sheet per term): each is its own input.
fn listed_once(
    seen: &mut Vec<(PathBuf, Option<String>)>,
    path: &Path,
    sheet: Option<&str>,
    at: &str,
    problems: &mut Vec<String>,
) {
    let key = (path.to_owned(), sheet.map(|n| n.trim().to_lowercase()));
    if seen.contains(&key) {
        problems.push(match sheet {
            Some(_) => format!("{at}.path {} is listed twice with the same sheet", path.display()),
            None => format!("{at}.path {} is listed twice", path.display()),
        });
    }
    seen.push(key);
}

/// A snapshot's settings of entry `s` (named `at` in problems): its largest share to withdraw,
/// and the path its records must have come from if it is a snapshot of its source's records.
fn snapshot_settings(
    s: &SourceFile,
    mode: SourceMode,
    path: &Path,
    at: &str,
    problems: &mut Vec<String>,
) -> (f64, Option<String>) {
    let max_withdrawal_share = match s.max_withdrawal_share {
        Some(share) if !(0.0..=1.0).contains(&share) => {
            problems.push(format!("{at}.max_withdrawal_share must be between 0 and 1"));
            DEFAULT_MAX_WITHDRAWAL_SHARE
        }
        Some(_) if mode != SourceMode::Snapshot => {
            problems.push(format!("{at}.max_withdrawal_share applies to mode = \"snapshot\" only"));
            DEFAULT_MAX_WITHDRAWAL_SHARE
        }
        Some(share) => share,
        None => DEFAULT_MAX_WITHDRAWAL_SHARE,
    };
    let snapshot_of_source = match s.snapshot_of.as_deref() {
        None | Some("feed") => None,
        Some("source") if mode == SourceMode::Snapshot => Some(path.to_string_lossy().into_owned()),
        Some("source") => {
            problems.push(format!("{at}.snapshot_of applies to mode = \"snapshot\" only"));
            None
        }
        Some(other) => {
            problems.push(format!("{at}.snapshot_of = {other:?}: use \"feed\" (the default) or \"source\""));
            None
        }
    };
    (max_withdrawal_share, snapshot_of_source)
}

/// Checks every `[[sources]]` entry, adding a problem (naming the entry and key) for each bad
/// one, and returns the sources that are valid with how each non-canonical one is read.
pub(crate) fn validate(
    entries: &[SourceFile],
    resolve: &dyn Fn(&Path) -> PathBuf,
    problems: &mut Vec<String>,
) -> (Vec<Source>, Readings) {
    let mut sources = Vec::new();
    let mut readings = Readings::new();
    let mut seen_paths: Vec<(PathBuf, Option<String>)> = Vec::new();
    for (i, s) in entries.iter().enumerate() {
        let at = format!("sources[{i}]");
        let schema = match feed::latest(&s.feed) {
            None => {
                let known: Vec<_> = feed::names().collect();
                problems.push(format!("{at}.feed = {:?} is not a feed; known feeds: {}", s.feed, known.join(", ")));
                None
            }
            Some(latest) => match s.schema_version {
                None => Some(latest),
                Some(v) => {
                    let found = feed::version(&s.feed, v);
                    if found.is_none() {
                        problems.push(format!("{at}.schema_version = {v} does not exist for feed {}", s.feed));
                    }
                    found
                }
            },
        };
        let path = resolve(&s.path);
        let format = match s.format.as_deref() {
            Some(f) => f.parse::<FileFormat>().map_err(|_| f.to_owned()),
            None => FileFormat::from_path(&path)
                .ok_or_else(|| path.extension().and_then(|e| e.to_str()).unwrap_or("").to_owned()),
        };
        let format = match format {
            Ok(f) => Some(f),
            Err(bad) => {
                problems.push(format!(
                    "{at}.format: cannot tell the format of {} ({bad:?}); set format = \"csv\", \"jsonl\", \"xlsx\", \"xls\" or \"ods\"",
                    path.display()
                ));
                None
            }
        };
        if is_pattern(&path)
            && let Err(e) = glob::Pattern::new(&path.to_string_lossy())
        {
            problems.push(format!("{at}.path {} is not a valid pattern: {e}", path.display()));
        }
        listed_once(&mut seen_paths, &path, s.sheet.as_deref(), &at, problems);
        let delimiter = s.delimiter.as_deref().and_then(|d| match d.parse::<DelimiterChoice>() {
            Ok(d) => Some(d),
            Err(e) => {
                problems.push(format!("{at}.delimiter: {e}"));
                None
            }
        });
        let encoding = s.encoding.as_deref().and_then(|d| match d.parse::<EncodingChoice>() {
            Ok(d) => Some(d),
            Err(e) => {
                problems.push(format!("{at}.encoding: {e}"));
                None
            }
        });
        let dialect_declared = s.delimiter.is_some() || s.encoding.is_some() || s.skip_lines.is_some();
        if format == Some(FileFormat::JsonLines) && dialect_declared {
            problems.push(format!(
                "{at}: delimiter, encoding and skip_lines apply to CSV only (JSON Lines is UTF-8, one object a line)"
            ));
        }
        if format.is_some_and(FileFormat::is_workbook) && (s.delimiter.is_some() || s.encoding.is_some()) {
            problems.push(format!("{at}: delimiter and encoding apply to CSV only, not to a workbook"));
        }
        if s.sheet.is_some() && !format.is_some_and(FileFormat::is_workbook) {
            problems.push(format!("{at}.sheet applies to workbooks (.xlsx, .xls, .ods) only"));
        }
        let mode = match s.mode.as_deref().map(str::parse::<SourceMode>).transpose() {
            Ok(m) => m.unwrap_or_default(),
            Err(e) => {
                problems.push(format!("{at}.mode: {e}"));
                SourceMode::Delta
            }
        };
        if mode == SourceMode::Withdrawals && format.is_some_and(|f| f != FileFormat::Csv) {
            problems.push(format!("{at}: a withdrawals file is CSV (a record_id heading, one reference a line)"));
        }
        let (max_withdrawal_share, snapshot_of_source) = snapshot_settings(s, mode, &path, &at, problems);
        let snapshot_where = snapshot_where(s, mode, schema, &at, problems);
        let reading = Reading {
            mapping: s.mapping.as_deref().map(resolve),
            delimiter,
            encoding,
            skip_lines: s.skip_lines,
            sheet: s.sheet.clone(),
        };
        if let (Some(feed), Some(format)) = (schema, format) {
            let sheet = s.sheet.clone();
            if reading != Reading::default() {
                readings.insert((path.clone(), sheet.clone()), reading);
            }
            sources.push(Source {
                feed,
                path,
                format,
                mode,
                max_withdrawal_share,
                snapshot_of_source,
                snapshot_where,
                sheet,
            });
        }
    }
    (sources, readings)
}
