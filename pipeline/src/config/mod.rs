//! Configuration: what the user wrote (`*File` types, straight from TOML) and the validated
//! [`Settings`] the pipeline runs on.
//!
//! Each section is read and checked beside the code that owns it (`[limits]` in
//! [`crate::run::limits`], `[stream]` in [`crate::stream::settings`], `[linkage]` and
//! `[outcomes]` in the build crate, `[[sources]]` in [`sources`]); this module composes them.
//! Validation is pure and reports every problem at once, each naming the setting it concerns,
//! unknown keys included ([`unknown`]). Relative paths are resolved against the directory of the
//! configuration file, so a config works wherever it is run from.

pub(crate) mod drop_order;
mod output_dir;
pub mod sources;
mod unknown;

use std::path::{Path, PathBuf};

use serde::Deserialize;
use tellonce_build::link::settings::LinkageFile;
use tellonce_build::outcomes::settings::OutcomesFile;

pub use crate::run::limits::LimitsFile;
pub use crate::stream::settings::{StreamFile, StreamSettings, Topic, TopicFile};
use sources::is_pattern;
pub use sources::{
    DEFAULT_MAX_WITHDRAWAL_SHARE, Reading, SnapshotWhere, SnapshotWhereFile, Source, SourceFile, SourceMode,
};

/// The configuration file as written.
#[derive(Debug, Deserialize)]
pub struct ConfigFile {
    /// Where datasets, quarantine, manifests and state are written.
    pub output: OutputFile,
    /// The key file.
    pub keys: KeysFile,
    /// Reference data used at the edge.
    #[serde(default)]
    pub reference: ReferenceFile,
    /// Information sharing agreements.
    #[serde(default)]
    pub governance: GovernanceFile,
    /// The deployment's own feed definitions.
    #[serde(default)]
    pub feeds: FeedsFile,
    /// Batch and file sizes.
    #[serde(default)]
    pub limits: LimitsFile,
    /// Record linkage (the build tier).
    #[serde(default)]
    pub linkage: LinkageFile,
    /// Supporting Families outcome datasets.
    #[serde(default)]
    pub outcomes: OutcomesFile,
    /// The partner files to ingest.
    #[serde(default, rename = "sources")]
    pub sources: Vec<SourceFile>,
    /// Kafka topics for `tellonce stream`.
    #[serde(default)]
    pub stream: Option<StreamFile>,
}

/// `[output]`.
#[derive(Debug, Deserialize)]
pub struct OutputFile {
    /// The deployment's output root.
    pub dir: PathBuf,
}

/// `[keys]`.
#[derive(Debug, Deserialize)]
pub struct KeysFile {
    /// The 256-bit master key file (mode 0600), made by `tellonce keys new`.
    pub file: PathBuf,
}

/// `[reference]`.
#[derive(Debug, Default, Deserialize)]
pub struct ReferenceFile {
    /// CSV of `postcode,small_area,district,imd_decile`, used to attach geography before the
    /// full postcode is discarded.
    pub postcode_lookup: Option<PathBuf>,
}

/// `[governance]`.
#[derive(Debug, Deserialize)]
#[serde(default)]
pub struct GovernanceFile {
    /// The directory of agreement files (`*.toml`, one per agreement). A feed with no agreement
    /// in force there is not processed: its inputs are held.
    pub agreements: PathBuf,
}

impl Default for GovernanceFile {
    fn default() -> Self {
        GovernanceFile { agreements: PathBuf::from("agreements") }
    }
}

/// `[feeds]`.
#[derive(Debug, Default, Deserialize)]
pub struct FeedsFile {
    /// A directory of feed definitions (`*.toml`), added to the built-in feeds: a new feed, or a
    /// new version of one, without a new release.
    pub dir: Option<PathBuf>,
}

/// Only `[feeds]`, read before the rest: the sources, agreements and theme mapping are checked
/// against the feeds it defines.
#[derive(Debug, Default, Deserialize)]
struct FeedsOnly {
    #[serde(default)]
    feeds: FeedsFile,
}

/// Validated settings.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Output root.
    pub output_dir: PathBuf,
    /// Key file.
    pub key_file: PathBuf,
    /// Postcode lookup, if configured.
    pub postcode_lookup: Option<PathBuf>,
    /// Directory of agreement files.
    pub agreements_dir: PathBuf,
    /// Directory of the deployment's feed definitions, if any.
    pub feeds_dir: Option<PathBuf>,
    /// Rows per batch.
    pub batch_rows: usize,
    /// Longest record, bytes.
    pub max_line_bytes: usize,
    /// Rows per row group.
    pub row_group_rows: usize,
    /// Rows per Parquet file.
    pub max_file_rows: u64,
    /// Worker threads (at least one).
    pub workers: usize,
    /// Sources in configured order.
    pub sources: Vec<Source>,
    /// Whether `run` links after ingesting.
    pub linkage_enabled: bool,
    /// Matcher settings.
    pub linkage: tellonce_build::link::cluster::Options,
    /// The frozen model file builds score with (`[linkage] model`), if one is set.
    pub linkage_model: Option<PathBuf>,
    /// The officers' decisions file builds honour (`[linkage] decisions`), if one is set.
    pub linkage_decisions: Option<PathBuf>,
    /// The theme mapping file, if not the embedded one.
    pub themes_file: Option<PathBuf>,
    /// Period, eligibility rule and disclosure policy of the outcome datasets.
    pub outcomes: tellonce_build::outcomes::settings::OutcomeSettings,
    /// The Kafka settings of `tellonce stream`, if configured.
    pub stream: Option<StreamSettings>,
    /// How each file source is read (mapping and dialect), by its path and the sheet its entry
    /// names (one workbook may be listed once per sheet); a source not listed is read as
    /// canonical CSV or JSON Lines. Kept beside [`Source`] rather than in it, so that the
    /// sources made for stream topics need none.
    pub readings: sources::Readings,
    /// `[[sources]]` entries whose path pattern matched no file when the config was loaded.
    pub unmatched_patterns: Vec<Source>,
}

/// Every problem found in a configuration.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config {path}: {source}")]
    Read {
        /// The config file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The TOML is malformed or has unknown keys.
    #[error("config {path}: {message}")]
    Parse {
        /// The config file.
        path: PathBuf,
        /// The parser's message (it names line and column).
        message: String,
    },
    /// The feed definitions of `[feeds]` cannot be read or have problems.
    #[error("config {path}: {source}")]
    Feeds {
        /// The config file.
        path: PathBuf,
        /// Every problem of every definition.
        source: tellonce_schemas::definition::FeedsError,
    },
    /// One or more settings are invalid.
    #[error("config {path} has {} problem(s):\n  - {}", problems.len(), problems.join("\n  - "))]
    Invalid {
        /// The config file.
        path: PathBuf,
        /// Each problem, naming its setting.
        problems: Vec<String>,
    },
}

/// What is wrong with configuration text.
#[derive(Debug)]
pub enum Problems {
    /// The text is not TOML (the message names line and column).
    Syntax(String),
    /// Every problem found, each naming its setting.
    Invalid(Vec<String>),
}

/// The keys a section of the configuration takes, as serde declares them.
fn expected_keys(section: &str) -> &'static [&'static str] {
    use unknown::fields_of;
    match section {
        "" => fields_of::<ConfigFile>(),
        "output" => fields_of::<OutputFile>(),
        "keys" => fields_of::<KeysFile>(),
        "reference" => fields_of::<ReferenceFile>(),
        "governance" => fields_of::<GovernanceFile>(),
        "feeds" => fields_of::<FeedsFile>(),
        "limits" => fields_of::<LimitsFile>(),
        "linkage" => fields_of::<LinkageFile>(),
        "outcomes" => fields_of::<OutcomesFile>(),
        "outcomes.eligibility" => fields_of::<tellonce_build::outcomes::settings::Eligibility>(),
        "outcomes.disclosure" => fields_of::<tellonce_build::outcomes::disclosure::Policy>(),
        "sources" => fields_of::<SourceFile>(),
        "sources.snapshot_where" => fields_of::<SnapshotWhereFile>(),
        "stream" => fields_of::<StreamFile>(),
        "stream.topics" => fields_of::<TopicFile>(),
        _ => &[],
    }
}

/// The problem an unknown key makes.
fn unknown_key(place: &str) -> String {
    let expected = expected_keys(&unknown::section_of(place));
    if expected.is_empty() {
        format!("unknown key {place}")
    } else {
        format!("unknown key {place}; expected one of: {}", expected.join(", "))
    }
}

impl Settings {
    /// Reads and validates a configuration file.
    pub fn load(path: &Path) -> Result<Settings, ConfigError> {
        let text =
            std::fs::read_to_string(path).map_err(|source| ConfigError::Read { path: path.to_owned(), source })?;
        let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
        Settings::install_feeds(&text, &base).map_err(|source| ConfigError::Feeds { path: path.to_owned(), source })?;
        let mut settings = Settings::parse(&text, &base).map_err(|e| match e {
            Problems::Syntax(message) => ConfigError::Parse { path: path.to_owned(), message },
            Problems::Invalid(problems) => ConfigError::Invalid { path: path.to_owned(), problems },
        })?;
        settings.expand_patterns().map_err(|problems| ConfigError::Invalid { path: path.to_owned(), problems })?;
        Ok(settings)
    }

    /// The `[feeds] dir` a configuration file names, resolved, without reading the rest (so that
    /// `feeds lint` can report the definitions' problems before anything depends on them).
    pub fn feeds_dir_of(path: &Path) -> Result<Option<PathBuf>, ConfigError> {
        let text =
            std::fs::read_to_string(path).map_err(|source| ConfigError::Read { path: path.to_owned(), source })?;
        let file = toml::from_str::<FeedsOnly>(&text)
            .map_err(|e| ConfigError::Parse { path: path.to_owned(), message: e.to_string() })?;
        let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
        Ok(file.feeds.dir.map(|d| if d.is_absolute() { d } else { base.join(d) }))
    }

    /// Loads the definitions of `[feeds] dir` and makes them, with the built-in feeds, the
    /// feeds of this process. Text that is not TOML is left to [`Settings::parse`] to report.
    fn install_feeds(text: &str, base: &Path) -> Result<(), tellonce_schemas::definition::FeedsError> {
        use tellonce_schemas::{definition, registry};
        let Some(dir) = toml::from_str::<FeedsOnly>(text).ok().and_then(|f| f.feeds.dir) else { return Ok(()) };
        let dir = if dir.is_absolute() { dir } else { base.join(dir) };
        let loaded = definition::load_dir(&dir)?;
        registry::install(registry::Registry::with_deployment(&loaded)?);
        Ok(())
    }

    /// Replaces every source whose path is a pattern (`*`, `?`, `[…]`) by one source per file
    /// it matches, sorted by path, each read as its entry says; hidden files (a leading `.`,
    /// as partial uploads are named) and Office's lock files (`~$name.xlsx`, left beside a
    /// workbook open in Excel) are not matched. A pattern matching nothing is kept in
    /// [`Settings::unmatched_patterns`] (an empty drop folder is not an error; `run` warns and
    /// `sources check` reports it). A file matched twice, or also listed by name, is a problem.
    /// Reads directories, so [`Settings::load`] calls it and [`Settings::parse`] does not.
    pub fn expand_patterns(&mut self) -> Result<(), Vec<String>> {
        let named: Vec<PathBuf> =
            self.sources.iter().filter(|s| !is_pattern(&s.path)).map(|s| s.path.clone()).collect();
        let mut problems = Vec::new();
        let mut expanded: Vec<Source> = Vec::with_capacity(self.sources.len());
        let options = glob::MatchOptions { require_literal_leading_dot: true, ..glob::MatchOptions::new() };
        for (i, source) in std::mem::take(&mut self.sources).into_iter().enumerate() {
            if !is_pattern(&source.path) {
                expanded.push(source);
                continue;
            }
            let reading = self.readings.remove(&(source.path.clone(), source.sheet.clone()));
            let pattern = source.path.to_string_lossy().into_owned();
            let mut matched: Vec<PathBuf> = match glob::glob_with(&pattern, options) {
                Ok(paths) => paths.filter_map(Result::ok).filter(|p| p.is_file() && !is_office_lock_file(p)).collect(),
                Err(e) => {
                    problems.push(format!("sources[{i}].path {pattern:?} is not a valid pattern: {e}"));
                    continue;
                }
            };
            drop_order::sort(&mut matched);
            if matched.is_empty() {
                if let Some(r) = &reading {
                    self.readings.insert((source.path.clone(), source.sheet.clone()), r.clone());
                }
                self.unmatched_patterns.push(source.clone());
            }
            for path in matched {
                if named.contains(&path) || expanded.iter().any(|s| s.path == path) {
                    problems.push(format!(
                        "sources[{i}].path {pattern:?} matches {}, which is listed already",
                        path.display()
                    ));
                    continue;
                }
                if let Some(r) = &reading {
                    self.readings.insert((path.clone(), source.sheet.clone()), r.clone());
                }
                expanded.push(Source { path, ..source.clone() });
            }
        }
        self.sources = expanded;
        if problems.is_empty() { Ok(()) } else { Err(problems) }
    }

    /// Parses and validates configuration text, collecting every problem (unknown keys
    /// included) except a syntax error, which stops parsing.
    pub fn parse(text: &str, base: &Path) -> Result<Settings, Problems> {
        let (file, unknown) = match unknown::read::<ConfigFile>(text) {
            Ok(read) => read,
            Err(unknown::ReadError::Syntax(message)) => return Err(Problems::Syntax(message)),
            Err(unknown::ReadError::Value { message, unknown }) => {
                let mut problems: Vec<String> = unknown.iter().map(|p| unknown_key(p)).collect();
                problems.push(message);
                return Err(Problems::Invalid(problems));
            }
        };
        // Unknown keys are reported with the rest, not instead of the rest.
        let mut problems: Vec<String> = unknown.iter().map(|p| unknown_key(p)).collect();
        match Settings::validate(file, base) {
            Ok(s) if problems.is_empty() => Ok(s),
            Ok(_) => Err(Problems::Invalid(problems)),
            Err(more) => {
                problems.extend(more);
                Err(Problems::Invalid(problems))
            }
        }
    }

    /// Validates a parsed configuration, resolving relative paths against `base`: each section
    /// checks itself into one list of problems.
    pub fn validate(file: ConfigFile, base: &Path) -> Result<Settings, Vec<String>> {
        let mut problems = Vec::new();
        let resolve = |p: &Path| if p.is_absolute() { p.to_owned() } else { base.join(p) };
        file.limits.validate(&mut problems);
        let linkage = file.linkage.validate(&mut problems);
        let mut outcomes = file.outcomes.validate(&mut problems);
        outcomes.localities = outcomes.localities.as_deref().map(resolve);
        let stream = file.stream.as_ref().map(|st| st.validate(&mut problems, &resolve));
        let (sources, readings) = sources::validate(&file.sources, &resolve, &mut problems);
        let output_dir = Settings::output_dir(&file, base, &resolve, &mut problems);
        if !problems.is_empty() {
            return Err(problems);
        }
        let l = &file.limits;
        Ok(Settings {
            output_dir,
            key_file: resolve(&file.keys.file),
            postcode_lookup: file.reference.postcode_lookup.as_deref().map(resolve),
            agreements_dir: resolve(&file.governance.agreements),
            feeds_dir: file.feeds.dir.as_deref().map(resolve),
            batch_rows: l.batch_rows,
            max_line_bytes: l.max_line_bytes,
            row_group_rows: l.row_group_rows,
            max_file_rows: l.max_file_rows,
            workers: l.workers(),
            sources,
            linkage_enabled: file.linkage.enabled,
            linkage,
            linkage_model: file.linkage.model.as_deref().map(resolve),
            linkage_decisions: file.linkage.decisions.as_deref().map(resolve),
            themes_file: file.outcomes.themes.as_deref().map(resolve),
            outcomes,
            stream,
            readings,
            unmatched_patterns: Vec::new(),
        })
    }

    /// The output directory, resolved, with a problem if it is empty or holds (or is) a place
    /// the deployment keeps elsewhere.
    fn output_dir(
        file: &ConfigFile,
        base: &Path,
        resolve: &dyn Fn(&Path) -> PathBuf,
        problems: &mut Vec<String>,
    ) -> PathBuf {
        let output_dir = resolve(&file.output.dir);
        if file.output.dir.as_os_str().to_string_lossy().trim().is_empty() {
            problems.push("output.dir is empty; give the directory outputs go to (for example \"output\")".to_owned());
        } else {
            let mut protected: Vec<(String, PathBuf)> = vec![
                ("the config file's directory".to_owned(), base.to_owned()),
                ("keys.file".to_owned(), resolve(&file.keys.file)),
                ("governance.agreements".to_owned(), resolve(&file.governance.agreements)),
            ];
            if let Some(p) = &file.feeds.dir {
                protected.push(("feeds.dir".to_owned(), resolve(p)));
            }
            if let Some(p) = &file.reference.postcode_lookup {
                protected.push(("reference.postcode_lookup".to_owned(), resolve(p)));
            }
            if let Some(p) = &file.outcomes.themes {
                protected.push(("outcomes.themes".to_owned(), resolve(p)));
            }
            if let Some(p) = &file.outcomes.localities {
                protected.push(("outcomes.localities".to_owned(), resolve(p)));
            }
            for (i, s) in file.sources.iter().enumerate() {
                let path = resolve(&s.path);
                if let Some(dir) = path.parent() {
                    protected.push((format!("the folder of sources[{i}].path"), dir.to_owned()));
                }
            }
            problems.extend(output_dir::output_dir_problems(&output_dir, &protected));
        }
        output_dir
    }

    /// How `source` is read: its mapping and declared dialect (none for a canonical file).
    pub fn reading(&self, source: &Source) -> Reading {
        self.readings.get(&(source.path.clone(), source.sheet.clone())).cloned().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests;

/// Whether `path` is the lock file Office writes beside a document open for editing
/// (`~$cases.xlsx`): a few bytes naming the user, never a workbook.
fn is_office_lock_file(path: &Path) -> bool {
    path.file_name().is_some_and(|n| n.to_string_lossy().starts_with("~$"))
}
