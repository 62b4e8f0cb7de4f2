//! Configuration: what the user wrote (`*File` types, straight from TOML) and the validated
//! [`Settings`] the pipeline runs on.
//!
//! Validation is pure and reports every problem at once, each naming the setting it concerns.
//! Relative paths are resolved against the directory of the configuration file, so a config
//! works wherever it is run from.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use tellonce_connectors::file_source::{DelimiterChoice, Dialect, EncodingChoice, FileFormat};
use tellonce_connectors::mapping::Mapping;
use tellonce_schemas::{FeedSchema, feed};

/// The configuration file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
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

/// `[stream]`: the brokers, the consumer group and the topics `tellonce stream` consumes.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StreamFile {
    /// `bootstrap.servers`: host:port, comma-separated.
    pub brokers: String,
    /// The consumer group shared by the instances (default `tellonce`).
    #[serde(default = "default_group")]
    pub group_id: String,
    /// A batch closes at this many messages (default 50 000).
    #[serde(default = "default_batch_rows")]
    pub max_batch_rows: usize,
    /// A batch closes this long after its first message (default 1 000 ms).
    #[serde(default = "default_batch_ms")]
    pub max_batch_ms: u64,
    /// A larger message is quarantined (`line.too_long`; default 1 MiB).
    #[serde(default = "default_message_bytes")]
    pub max_message_bytes: usize,
    /// librdkafka properties passed through as they are (`security.protocol`, `sasl.*`, `ssl.*`…).
    #[serde(default)]
    pub properties: std::collections::BTreeMap<String, String>,
    /// `HOST:PORT` to serve Prometheus metrics on (`GET /metrics`); none if absent.
    #[serde(default)]
    pub metrics_address: Option<String>,
    /// A topic to which every quarantined message is also sent, sealed; none if absent.
    #[serde(default)]
    pub dead_letter_topic: Option<String>,
    /// One feed per topic.
    #[serde(default)]
    pub topics: Vec<TopicFile>,
}

fn default_group() -> String {
    "tellonce".to_owned()
}
fn default_batch_rows() -> usize {
    50_000
}
fn default_batch_ms() -> u64 {
    1_000
}
fn default_message_bytes() -> usize {
    1 << 20
}

/// `[[stream.topics]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TopicFile {
    /// The topic.
    pub topic: String,
    /// The feed its messages belong to.
    pub feed: String,
    /// The schema version its messages are written in (default: the newest); a message may
    /// declare its own in a `schema_version` header, and one that differs is quarantined.
    pub schema_version: Option<u32>,
}

/// `[output]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutputFile {
    /// The deployment's output root.
    pub dir: PathBuf,
}

/// `[keys]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeysFile {
    /// The 256-bit master key file (mode 0600), made by `tellonce keys new`.
    pub file: PathBuf,
}

/// `[reference]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReferenceFile {
    /// CSV of `postcode,small_area,district,imd_decile`, used to attach geography before the
    /// full postcode is discarded.
    pub postcode_lookup: Option<PathBuf>,
}

/// `[governance]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
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

/// `[outcomes]`; every field has a default.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OutcomesFile {
    /// A theme mapping file (TOML) to use instead of the embedded Supporting Families mapping.
    pub themes: Option<PathBuf>,
    /// First day of the reporting period (YYYY-MM-DD); none: unbounded.
    pub period_from: Option<String>,
    /// Last day of the reporting period (YYYY-MM-DD); none: unbounded.
    pub period_to: Option<String>,
    /// The Supporting Families eligibility counting rule.
    pub eligibility: tellonce_build::outcomes::settings::Eligibility,
    /// The disclosure policy of `aggregates/`.
    pub disclosure: tellonce_build::outcomes::disclosure::Policy,
}

/// `[linkage]`; every field has a default.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LinkageFile {
    /// Whether `run` links the staging dataset after ingesting (`build` always does).
    pub enabled: bool,
    /// Rules whose Fellegi–Sunter weight (bits) is below this are not applied.
    pub min_weight: f64,
    /// Least Dice similarity of forename encodings for a fuzzy link (0 to 1).
    pub forename_dice: f32,
    /// Least Dice similarity of surname encodings for a fuzzy link (0 to 1).
    pub surname_dice: f32,
    /// Least weight (bits) of a link made by the scoring pass.
    pub match_threshold: f64,
}

impl Default for LinkageFile {
    fn default() -> Self {
        let d = tellonce_build::link::cluster::Options::default();
        LinkageFile {
            enabled: true,
            min_weight: d.min_weight,
            forename_dice: d.forename_dice,
            surname_dice: d.surname_dice,
            match_threshold: d.score_threshold,
        }
    }
}

/// `[limits]`; every field has a default.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsFile {
    /// Rows per in-memory batch.
    pub batch_rows: usize,
    /// Longest accepted record, in bytes.
    pub max_line_bytes: usize,
    /// Rows per Parquet row group.
    pub row_group_rows: usize,
    /// Rows per Parquet file before a new part is started.
    pub max_file_rows: u64,
    /// Worker threads for validation and pseudonymisation (0: one per core).
    pub workers: usize,
}

impl Default for LimitsFile {
    fn default() -> Self {
        LimitsFile {
            batch_rows: 8192,
            max_line_bytes: 65_536,
            row_group_rows: 131_072,
            max_file_rows: 2_000_000,
            workers: 0,
        }
    }
}

/// One `[[sources]]` entry.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
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
    /// The sheet of an `.xlsx` workbook (default: its first sheet).
    pub sheet: Option<String>,
}

/// Whether a configured source path is a pattern to expand rather than a file name.
fn is_pattern(path: &Path) -> bool {
    path.to_string_lossy().contains(['*', '?', '['])
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
    /// The theme mapping file, if not the embedded one.
    pub themes_file: Option<PathBuf>,
    /// Period, eligibility rule and disclosure policy of the outcome datasets.
    pub outcomes: tellonce_build::outcomes::settings::OutcomeSettings,
    /// The Kafka settings of `tellonce stream`, if configured.
    pub stream: Option<StreamSettings>,
    /// How each file source is read (mapping and dialect), by its path; a source not listed is
    /// read as canonical CSV or JSON Lines. Kept beside [`Source`] rather than in it, so that
    /// the sources made for stream topics need none.
    pub readings: std::collections::BTreeMap<PathBuf, Reading>,
    /// `[[sources]]` entries whose path pattern matched no file when the config was loaded.
    pub unmatched_patterns: Vec<Source>,
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
                return Err(format!(
                    "[[sources]] declares sheet {a:?} but the mapping declares sheet {b:?}; declare it once"
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

/// Validated `[stream]` settings.
#[derive(Debug, Clone)]
pub struct StreamSettings {
    /// `bootstrap.servers`.
    pub brokers: String,
    /// The consumer group.
    pub group_id: String,
    /// Messages per batch, at most.
    pub max_batch_rows: usize,
    /// Milliseconds a batch stays open, at most.
    pub max_batch_ms: u64,
    /// Largest message accepted.
    pub max_message_bytes: usize,
    /// librdkafka properties, passed through.
    pub properties: Vec<(String, String)>,
    /// Where to serve Prometheus metrics, if anywhere.
    pub metrics_address: Option<String>,
    /// Where quarantined messages are also sent (sealed), if anywhere.
    pub dead_letter_topic: Option<String>,
    /// The topics, each with its feed.
    pub topics: Vec<Topic>,
}

/// A topic and the feed schema its messages are read with.
#[derive(Debug, Clone)]
pub struct Topic {
    /// The topic.
    pub topic: String,
    /// Its feed's schema at the configured version.
    pub feed: &'static FeedSchema,
}

/// A validated source.
#[derive(Debug, Clone)]
pub struct Source {
    /// Its feed's schema at the declared version.
    pub feed: &'static FeedSchema,
    /// The file.
    pub path: PathBuf,
    /// Its format.
    pub format: FileFormat,
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
    /// One or more settings are invalid.
    #[error("config {path} has {} problem(s):\n  - {}", problems.len(), problems.join("\n  - "))]
    Invalid {
        /// The config file.
        path: PathBuf,
        /// Each problem, naming its setting.
        problems: Vec<String>,
    },
}

/// Longest record the sources may be told to accept: 16 MiB.
const MAX_LINE_BYTES: usize = 16 << 20;

/// Largest in-memory batch allowed by `batch_rows` at a typical record size: 1 GiB.
const MAX_BATCH_BYTES: usize = 1 << 30;

/// What is wrong with configuration text.
#[derive(Debug)]
pub enum Problems {
    /// The text is not TOML (the message names line and column).
    Syntax(String),
    /// Every problem found, each naming its setting.
    Invalid(Vec<String>),
}

/// The keys each table of the configuration may hold.
const KNOWN_KEYS: &[(&str, &[&str])] = &[
    ("", &["output", "keys", "reference", "governance", "limits", "linkage", "outcomes", "sources", "stream"]),
    (
        "stream",
        &[
            "brokers",
            "group_id",
            "max_batch_rows",
            "max_batch_ms",
            "max_message_bytes",
            "properties",
            "metrics_address",
            "dead_letter_topic",
            "topics",
        ],
    ),
    ("outcomes", &["themes", "period_from", "period_to", "eligibility", "disclosure"]),
    ("outcomes.eligibility", &["min_needs", "count", "require_child"]),
    ("outcomes.disclosure", &["threshold", "rounding_base"]),
    ("linkage", &["enabled", "min_weight", "forename_dice", "surname_dice", "match_threshold"]),
    ("governance", &["agreements"]),
    ("output", &["dir"]),
    ("keys", &["file"]),
    ("reference", &["postcode_lookup"]),
    ("limits", &["batch_rows", "max_line_bytes", "row_group_rows", "max_file_rows", "workers"]),
    (
        "sources",
        &["feed", "path", "format", "schema_version", "mapping", "delimiter", "encoding", "skip_lines", "sheet"],
    ),
];

/// Removes every key the configuration does not know, returning a problem for each.
fn remove_unknown_keys(table: &mut toml::Table) -> Vec<String> {
    fn known(section: &str) -> &'static [&'static str] {
        KNOWN_KEYS.iter().find(|(s, _)| *s == section).map_or(&[], |(_, k)| *k)
    }
    fn prune(table: &mut toml::Table, section: &str, at: &str, problems: &mut Vec<String>) {
        let allowed = known(section);
        let unknown: Vec<String> = table.keys().filter(|k| !allowed.contains(&k.as_str())).cloned().collect();
        for key in unknown {
            table.remove(&key);
            let place = if at.is_empty() { key.clone() } else { format!("{at}.{key}") };
            problems.push(format!("unknown key {place}; expected one of: {}", allowed.join(", ")));
        }
    }
    let mut problems = Vec::new();
    prune(table, "", "", &mut problems);
    for (name, value) in table.iter_mut() {
        match value {
            toml::Value::Table(t) => {
                prune(t, name, name, &mut problems);
                // Sub-tables the configuration knows, such as [outcomes.eligibility].
                for (sub, v) in t.iter_mut() {
                    let section = format!("{name}.{sub}");
                    if let toml::Value::Table(st) = v
                        && KNOWN_KEYS.iter().any(|(s, _)| *s == section)
                    {
                        prune(st, &section, &section, &mut problems);
                    }
                }
            }
            toml::Value::Array(items) => {
                for (i, item) in items.iter_mut().enumerate() {
                    if let toml::Value::Table(t) = item {
                        prune(t, name, &format!("{name}[{i}]"), &mut problems);
                    }
                }
            }
            _ => {}
        }
    }
    problems
}

impl Settings {
    /// Reads and validates a configuration file.
    pub fn load(path: &Path) -> Result<Settings, ConfigError> {
        let text =
            std::fs::read_to_string(path).map_err(|source| ConfigError::Read { path: path.to_owned(), source })?;
        let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let mut settings = Settings::parse(&text, &base).map_err(|e| match e {
            Problems::Syntax(message) => ConfigError::Parse { path: path.to_owned(), message },
            Problems::Invalid(problems) => ConfigError::Invalid { path: path.to_owned(), problems },
        })?;
        settings.expand_patterns().map_err(|problems| ConfigError::Invalid { path: path.to_owned(), problems })?;
        Ok(settings)
    }

    /// Replaces every source whose path is a pattern (`*`, `?`, `[…]`) by one source per file
    /// it matches, sorted by path, each read as its entry says; hidden files (a leading `.`,
    /// as partial uploads are named) are not matched. A pattern matching nothing is kept in
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
            let reading = self.readings.remove(&source.path);
            let pattern = source.path.to_string_lossy().into_owned();
            let mut matched: Vec<PathBuf> = match glob::glob_with(&pattern, options) {
                Ok(paths) => paths.filter_map(Result::ok).filter(|p| p.is_file()).collect(),
                Err(e) => {
                    problems.push(format!("sources[{i}].path {pattern:?} is not a valid pattern: {e}"));
                    continue;
                }
            };
            matched.sort();
            if matched.is_empty() {
                if let Some(r) = &reading {
                    self.readings.insert(source.path.clone(), r.clone());
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
                    self.readings.insert(path.clone(), r.clone());
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
        let mut table: toml::Table = toml::from_str(text).map_err(|e| Problems::Syntax(e.to_string()))?;
        // Unknown keys are reported with the rest, not instead of the rest: take them out first.
        let mut problems = remove_unknown_keys(&mut table);
        let file: ConfigFile = match toml::Value::Table(table).try_into() {
            Ok(f) => f,
            Err(e) => {
                problems.push(e.to_string().trim().to_owned());
                return Err(Problems::Invalid(problems));
            }
        };
        match Settings::validate(file, base) {
            Ok(s) if problems.is_empty() => Ok(s),
            Ok(_) => Err(Problems::Invalid(problems)),
            Err(more) => {
                problems.extend(more);
                Err(Problems::Invalid(problems))
            }
        }
    }

    /// Validates a parsed configuration, resolving relative paths against `base`.
    pub fn validate(file: ConfigFile, base: &Path) -> Result<Settings, Vec<String>> {
        let mut problems = Vec::new();
        let resolve = |p: &Path| if p.is_absolute() { p.to_owned() } else { base.join(p) };
        let l = &file.limits;
        if l.batch_rows == 0 || l.batch_rows > 1_000_000 {
            problems.push(format!("limits.batch_rows = {} must be between 1 and 1000000", l.batch_rows));
        }
        if !(256..=MAX_LINE_BYTES).contains(&l.max_line_bytes) {
            problems
                .push(format!("limits.max_line_bytes = {} must be between 256 and {MAX_LINE_BYTES}", l.max_line_bytes));
        }
        if l.batch_rows.saturating_mul(l.max_line_bytes.min(4096)) > MAX_BATCH_BYTES {
            problems.push(format!(
                "limits.batch_rows = {} is too large: batches would exceed {} MiB",
                l.batch_rows,
                MAX_BATCH_BYTES >> 20
            ));
        }
        if l.workers > 256 {
            problems.push(format!("limits.workers = {} must be at most 256 (0 means one per core)", l.workers));
        }
        if l.row_group_rows == 0 {
            problems.push("limits.row_group_rows must be at least 1".to_owned());
        }
        if l.max_file_rows == 0 {
            problems.push("limits.max_file_rows must be at least 1".to_owned());
        }
        let k = &file.linkage;
        if !(0.0..=64.0).contains(&k.min_weight) {
            problems.push(format!("linkage.min_weight = {} must be between 0 and 64 (bits)", k.min_weight));
        }
        if !(0.0..=128.0).contains(&k.match_threshold) {
            problems.push(format!("linkage.match_threshold = {} must be between 0 and 128 (bits)", k.match_threshold));
        }
        for (name, v) in [("forename_dice", k.forename_dice), ("surname_dice", k.surname_dice)] {
            if !(0.05..=1.0).contains(&v) {
                problems.push(format!("linkage.{name} = {v} must be between 0.05 and 1"));
            }
        }
        let o = &file.outcomes;
        let mut day =
            |key: &str, v: &Option<String>| match v.as_deref().map(tellonce_schemas::identifiers::dates::parse) {
                Some(Ok(d)) => Some(d),
                Some(Err(_)) => {
                    problems
                        .push(format!("outcomes.{key} = {:?} is not a date (YYYY-MM-DD)", v.as_deref().unwrap_or("")));
                    None
                }
                None => None,
            };
        let period = tellonce_build::outcomes::settings::Period {
            from: day("period_from", &o.period_from),
            to: day("period_to", &o.period_to),
        };
        if let (Some(f), Some(t)) = (period.from, period.to)
            && f > t
        {
            problems.push("outcomes.period_from is after outcomes.period_to".to_owned());
        }
        if let Err(e) = o.disclosure.validate() {
            problems.push(format!("outcomes.{e}"));
        }
        if o.eligibility.min_needs == 0 {
            problems.push("outcomes.eligibility.min_needs must be at least 1".to_owned());
        }
        let stream = file.stream.as_ref().map(|st| {
            if st.brokers.trim().is_empty() {
                problems.push("stream.brokers is empty; give host:port".to_owned());
            }
            if !(1..=1_000_000).contains(&st.max_batch_rows) {
                problems.push(format!("stream.max_batch_rows = {} must be between 1 and 1000000", st.max_batch_rows));
            }
            if !(1..=3_600_000).contains(&st.max_batch_ms) {
                problems.push(format!("stream.max_batch_ms = {} must be between 1 and 3600000", st.max_batch_ms));
            }
            if !(256..=MAX_LINE_BYTES).contains(&st.max_message_bytes) {
                problems.push(format!(
                    "stream.max_message_bytes = {} must be between 256 and {MAX_LINE_BYTES}",
                    st.max_message_bytes
                ));
            }
            for key in st.properties.keys() {
                // These are tellonce's to set: offsets are stored only once their records are durable.
                if tellonce_kafka::consumer::RESERVED_PROPERTIES.contains(&key.as_str()) {
                    problems.push(format!("stream.properties.{key:?} is set by tellonce and cannot be overridden"));
                }
            }
            if let Some(a) = &st.metrics_address
                && a.rsplit_once(':').is_none_or(|(host, port)| host.is_empty() || port.parse::<u16>().is_err())
            {
                problems.push(format!("stream.metrics_address = {a:?} is not HOST:PORT"));
            }
            if st.topics.is_empty() {
                problems.push("stream has no [[stream.topics]]".to_owned());
            }
            let mut topics: Vec<Topic> = Vec::new();
            for (i, t) in st.topics.iter().enumerate() {
                let at = format!("stream.topics[{i}]");
                if topics.iter().any(|k| k.topic == t.topic) {
                    problems.push(format!("{at}.topic {:?} is listed twice", t.topic));
                } else if let Some(k) = topics.iter().find(|k| k.topic.eq_ignore_ascii_case(&t.topic)) {
                    // A topic's batches are files named after it: on a file system that ignores
                    // case (macOS, Windows shares) the two topics' files would overwrite each other.
                    problems.push(format!(
                        "{at}.topic {:?} differs from {:?} only in case; their files would collide",
                        t.topic, k.topic
                    ));
                }
                let valid = tellonce_kafka::is_topic_name(&t.topic);
                if !valid {
                    problems
                        .push(format!("{at}.topic {:?} is not a Kafka topic name (letters, digits, . _ -)", t.topic));
                }
                let schema = match t.schema_version {
                    None => feed::latest(&t.feed),
                    Some(v) => feed::version(&t.feed, v),
                };
                match schema {
                    Some(feed) if valid => topics.push(Topic { topic: t.topic.clone(), feed }),
                    Some(_) => {}
                    None => {
                        let known: Vec<_> = feed::names().collect();
                        problems.push(format!(
                            "{at}: no feed {:?} at schema version {:?}; known feeds: {}",
                            t.feed,
                            t.schema_version,
                            known.join(", ")
                        ));
                    }
                }
            }
            if let Some(d) = &st.dead_letter_topic {
                if !tellonce_kafka::is_topic_name(d) {
                    problems.push(format!(
                        "stream.dead_letter_topic {d:?} is not a Kafka topic name (letters, digits, . _ -)"
                    ));
                } else if st.topics.iter().any(|t| t.topic.eq_ignore_ascii_case(d)) {
                    // Its sealed entries would come back as poison messages, again and again.
                    problems.push(format!("stream.dead_letter_topic {d:?} is one of the topics consumed"));
                }
            }
            StreamSettings {
                brokers: st.brokers.clone(),
                group_id: st.group_id.clone(),
                max_batch_rows: st.max_batch_rows,
                max_batch_ms: st.max_batch_ms,
                max_message_bytes: st.max_message_bytes,
                properties: st.properties.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
                metrics_address: st.metrics_address.clone(),
                dead_letter_topic: st.dead_letter_topic.clone(),
                topics,
            }
        });
        let mut sources = Vec::new();
        let mut readings = std::collections::BTreeMap::new();
        let mut seen_paths: Vec<PathBuf> = Vec::new();
        for (i, s) in file.sources.iter().enumerate() {
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
                        "{at}.format: cannot tell the format of {} ({bad:?}); set format = \"csv\", \"jsonl\" or \"xlsx\"",
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
            if seen_paths.contains(&path) {
                problems.push(format!("{at}.path {} is listed twice", path.display()));
            }
            seen_paths.push(path.clone());
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
            if format == Some(FileFormat::Xlsx) && (s.delimiter.is_some() || s.encoding.is_some()) {
                problems.push(format!("{at}: delimiter and encoding apply to CSV only, not to a workbook"));
            }
            if s.sheet.is_some() && format != Some(FileFormat::Xlsx) {
                problems.push(format!("{at}.sheet applies to .xlsx workbooks only"));
            }
            let reading = Reading {
                mapping: s.mapping.as_deref().map(resolve),
                delimiter,
                encoding,
                skip_lines: s.skip_lines,
                sheet: s.sheet.clone(),
            };
            if let (Some(feed), Some(format)) = (schema, format) {
                if reading != Reading::default() {
                    readings.insert(path.clone(), reading);
                }
                sources.push(Source { feed, path, format });
            }
        }
        let output_dir = resolve(&file.output.dir);
        if file.output.dir.as_os_str().to_string_lossy().trim().is_empty() {
            problems.push("output.dir is empty; give the directory outputs go to (for example \"output\")".to_owned());
        } else {
            let mut protected: Vec<(String, PathBuf)> = vec![
                ("the config file's directory".to_owned(), base.to_owned()),
                ("keys.file".to_owned(), resolve(&file.keys.file)),
                ("governance.agreements".to_owned(), resolve(&file.governance.agreements)),
            ];
            if let Some(p) = &file.reference.postcode_lookup {
                protected.push(("reference.postcode_lookup".to_owned(), resolve(p)));
            }
            if let Some(p) = &file.outcomes.themes {
                protected.push(("outcomes.themes".to_owned(), resolve(p)));
            }
            for (i, s) in file.sources.iter().enumerate() {
                let path = resolve(&s.path);
                if let Some(dir) = path.parent() {
                    protected.push((format!("the folder of sources[{i}].path"), dir.to_owned()));
                }
            }
            problems.extend(output_dir_problems(&output_dir, &protected));
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        let workers =
            if l.workers == 0 { std::thread::available_parallelism().map_or(2, usize::from) } else { l.workers };
        Ok(Settings {
            output_dir,
            key_file: resolve(&file.keys.file),
            postcode_lookup: file.reference.postcode_lookup.as_deref().map(resolve),
            agreements_dir: resolve(&file.governance.agreements),
            batch_rows: l.batch_rows,
            max_line_bytes: l.max_line_bytes,
            row_group_rows: l.row_group_rows,
            max_file_rows: l.max_file_rows,
            workers,
            sources,
            linkage_enabled: file.linkage.enabled,
            linkage: tellonce_build::link::cluster::Options {
                min_weight: file.linkage.min_weight,
                forename_dice: file.linkage.forename_dice,
                surname_dice: file.linkage.surname_dice,
                score_threshold: file.linkage.match_threshold,
                ..tellonce_build::link::cluster::Options::default()
            },
            themes_file: file.outcomes.themes.as_deref().map(resolve),
            outcomes: tellonce_build::outcomes::settings::OutcomeSettings {
                period,
                eligibility: file.outcomes.eligibility,
                disclosure: file.outcomes.disclosure,
            },
            stream,
            readings,
            unmatched_patterns: Vec::new(),
        })
    }

    /// How `source` is read: its mapping and declared dialect (none for a canonical file).
    pub fn reading(&self, source: &Source) -> Reading {
        self.readings.get(&source.path).cloned().unwrap_or_default()
    }
}

/// Why `output` may not be the output directory: it is, or contains, one of the `protected`
/// places (named for the message). Retention, erasure and `--force` delete under the output
/// directory, so it must never hold the config, the key, the agreements or the inputs.
///
/// Judged on absolute, lexically normalised paths (`a/./b/../c` is `a/c`); symlinks are not
/// followed, since validation reads nothing from disk.
fn output_dir_problems(output: &Path, protected: &[(String, PathBuf)]) -> Vec<String> {
    let out = normalised(output);
    let mut problems = Vec::new();
    for (what, path) in protected {
        let p = normalised(path);
        if p == out {
            problems.push(format!(
                "output.dir {} is {what}; give a directory of its own (for example \"output\")",
                output.display()
            ));
        } else if p.starts_with(&out) {
            problems.push(format!(
                "output.dir {} contains {what} ({}); give a directory of its own (for example \"output\")",
                output.display(),
                path.display()
            ));
        }
    }
    problems
}

/// `path` made absolute (against the working directory) with `.` and `..` resolved lexically.
fn normalised(path: &Path) -> PathBuf {
    use std::path::Component;
    let absolute = std::path::absolute(if path.as_os_str().is_empty() { Path::new(".") } else { path })
        .unwrap_or_else(|_| path.to_owned());
    let mut out = PathBuf::new();
    for c in absolute.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Settings, Vec<String>> {
        Settings::parse(text, Path::new("/base")).map_err(|e| match e {
            Problems::Syntax(m) => vec![m],
            Problems::Invalid(p) => p,
        })
    }

    #[test]
    fn a_minimal_config_resolves_paths_against_its_directory() {
        let s = parse(
            r#"
            output = { dir = "out" }
            keys = { file = "/keys/k.key" }
            [[sources]]
            feed = "police"
            path = "in/police.jsonl"
            "#,
        )
        .unwrap();
        assert_eq!(s.output_dir, Path::new("/base/out"));
        assert_eq!(s.key_file, Path::new("/keys/k.key"));
        assert_eq!(s.sources[0].path, Path::new("/base/in/police.jsonl"));
        assert_eq!(s.sources[0].format, FileFormat::JsonLines);
        assert_eq!(s.batch_rows, 8192);
        assert_eq!(s.agreements_dir, Path::new("/base/agreements"));
    }

    #[test]
    fn an_output_dir_that_is_or_holds_the_config_inputs_or_keys_is_refused() {
        let config = |dir: &str, key: &str, source: &str| {
            format!(
                "output = {{ dir = {dir:?} }}\nkeys = {{ file = {key:?} }}\n[[sources]]\nfeed = \"police\"\npath = {source:?}\n"
            )
        };
        let cases = [
            ("", "k/t.key", "in/p.csv", "output.dir is empty"),
            ("  ", "k/t.key", "in/p.csv", "output.dir is empty"),
            (".", "k/t.key", "in/p.csv", "is the config file's directory"),
            ("./out/..", "k/t.key", "in/p.csv", "is the config file's directory"),
            ("in", "k/t.key", "in/p.csv", "is the folder of sources[0].path"),
            ("in/./", "k/t.key", "in/p.csv", "is the folder of sources[0].path"),
            ("data", "k/t.key", "data/in/p.csv", "contains the folder of sources[0].path"),
            ("k", "k/t.key", "in/p.csv", "contains keys.file"),
            ("/", "k/t.key", "in/p.csv", "contains the config file's directory"),
            ("..", "k/t.key", "in/p.csv", "contains the config file's directory"),
            ("agreements", "k/t.key", "in/p.csv", "is governance.agreements"),
        ];
        for (dir, key, source, want) in cases {
            let problems = parse(&config(dir, key, source)).unwrap_err();
            assert!(problems.iter().any(|p| p.contains(want)), "{dir:?}: {problems:?}");
        }
        // Beside the inputs, or below the config's directory, is fine.
        assert!(parse(&config("out", "k/t.key", "in/p.csv")).is_ok());
        assert!(parse(&config("in/out", "k/t.key", "in/p.csv")).is_ok());
        assert!(parse(&config("/elsewhere/out", "k/t.key", "in/p.csv")).is_ok());
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let problems = parse(
            r#"
            output = { dir = "out" }
            keys = { file = "k" }
            limits = { batch_rows = 0 }
            [[sources]]
            feed = "polce"
            path = "a.csv"
            [[sources]]
            feed = "camhs"
            path = "b.txt"
            [[sources]]
            feed = "camhs"
            path = "c.csv"
            schema_version = 9
            "#,
        )
        .unwrap_err();
        assert_eq!(problems.len(), 4, "{problems:#?}");
        assert!(problems.iter().any(|p| p.contains("sources[0].feed") && p.contains("police")));
        assert!(problems.iter().any(|p| p.contains("sources[1].format")));
        assert!(problems.iter().any(|p| p.contains("sources[2].schema_version")));
        assert!(problems.iter().any(|p| p.contains("limits.batch_rows")));
    }

    #[test]
    fn unknown_keys_are_reported_with_every_other_problem() {
        let err = parse(
            "output = { dir = \"o\", colour = \"blue\" }\nkeys = { file = \"k\" }\nextra = 1\n\
             limits = { batch_rows = 0 }\n[[sources]]\nfeed = \"polce\"\npath = \"a.csv\"\nwhat = 2\n",
        )
        .unwrap_err();
        assert_eq!(err.len(), 5, "{err:#?}");
        for want in ["output.colour", "unknown key extra", "sources[0].what", "limits.batch_rows", "sources[0].feed"] {
            assert!(err.iter().any(|p| p.contains(want)), "missing {want}: {err:#?}");
        }
    }

    #[test]
    fn a_path_listed_twice_is_reported_even_if_its_first_entry_is_invalid() {
        let err = parse(
            "output = { dir = \"o\" }\nkeys = { file = \"k\" }\n[[sources]]\nfeed = \"camhs\"\npath = \"c.csv\"\n\
             schema_version = 9\n[[sources]]\nfeed = \"camhs\"\npath = \"c.csv\"\n",
        )
        .unwrap_err();
        assert_eq!(err.len(), 2, "{err:#?}");
    }

    #[test]
    fn a_source_may_name_a_mapping_and_a_dialect() {
        let s = parse(
            "output = { dir = \"o\" }\nkeys = { file = \"k\" }\n[[sources]]\nfeed = \"housing\"\npath = \"h.csv\"\n\
             mapping = \"maps/housing.toml\"\ndelimiter = \"|\"\nencoding = \"auto\"\nskip_lines = 2\n\
             [[sources]]\nfeed = \"police\"\npath = \"p.csv\"\n",
        )
        .unwrap();
        let r = s.reading(&s.sources[0]);
        assert_eq!(r.mapping.as_deref(), Some(Path::new("/base/maps/housing.toml")));
        let d = r.dialect(None).unwrap();
        assert_eq!((d.delimiter, d.encoding, d.skip_lines), (DelimiterChoice::Byte(b'|'), EncodingChoice::Auto, 2));
        assert_eq!(s.reading(&s.sources[1]), Reading::default());
        assert_eq!(s.reading(&s.sources[1]).dialect(None).unwrap(), Dialect::default(), "no mapping: as today");
        let err = parse(
            "output = { dir = \"o\" }\nkeys = { file = \"k\" }\n[[sources]]\nfeed = \"housing\"\npath = \"h.csv\"\n\
             delimiter = \":\"\nencoding = \"ebcdic\"\n[[sources]]\nfeed = \"police\"\npath = \"p.jsonl\"\nskip_lines = 1\n",
        )
        .unwrap_err();
        assert_eq!(err.len(), 3, "{err:#?}");
    }

    #[test]
    fn a_source_path_may_be_a_pattern() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["housing-2024-12.csv", "housing-2025-01.csv", ".housing-2025-02.csv", "notes.txt"] {
            std::fs::write(dir.path().join(name), "x").unwrap();
        }
        std::fs::create_dir(dir.path().join("empty")).unwrap();
        let config = dir.path().join("tellonce.toml");
        let text = "output = { dir = \"o\" }\nkeys = { file = \"k\" }\n[[sources]]\nfeed = \"housing\"\n\
                    path = \"housing-*.csv\"\nmapping = \"m.toml\"\n[[sources]]\nfeed = \"police\"\n\
                    path = \"empty/*.jsonl\"\n";
        std::fs::write(&config, text).unwrap();
        let s = Settings::load(&config).unwrap();
        let paths: Vec<_> =
            s.sources.iter().map(|s| s.path.file_name().unwrap().to_string_lossy().into_owned()).collect();
        assert_eq!(paths, ["housing-2024-12.csv", "housing-2025-01.csv"], "sorted, hidden files left out");
        assert!(s.sources.iter().all(|src| s.reading(src).mapping == Some(dir.path().join("m.toml"))));
        assert_eq!(s.unmatched_patterns[0].path, dir.path().join("empty/*.jsonl"));
        let twice = format!("{text}[[sources]]\nfeed = \"housing\"\npath = \"housing-2025-01.csv\"\n");
        std::fs::write(&config, twice).unwrap();
        let err = Settings::load(&config).unwrap_err().to_string();
        assert!(err.contains("listed already"), "{err}");
        let bad = parse(
            "output = { dir = \"o\" }\nkeys = { file = \"k\" }\n[[sources]]\nfeed = \"housing\"\npath = \"a[.csv\"\n",
        )
        .unwrap_err();
        assert!(bad[0].contains("not a valid pattern"), "{bad:#?}");
    }

    #[test]
    fn stream_settings_are_checked_together() {
        let base = "output = { dir = \"o\" }\nkeys = { file = \"k\" }\n";
        let good = parse(&format!(
            "{base}[stream]\nbrokers = \"b:9092\"\nmetrics_address = \"0.0.0.0:9898\"\n\
             [[stream.topics]]\ntopic = \"police.incidents\"\nfeed = \"police\"\n"
        ))
        .unwrap();
        let st = good.stream.unwrap();
        assert_eq!(st.metrics_address.as_deref(), Some("0.0.0.0:9898"));
        assert_eq!((st.max_batch_rows, st.max_batch_ms), (50_000, 1_000));
        let err = parse(&format!(
            "{base}[stream]\nbrokers = \"b:9092\"\nmax_batch_ms = 0\nmetrics_address = \"9898\"\n\
             [stream.properties]\n\"enable.auto.commit\" = \"true\"\n\
             [[stream.topics]]\ntopic = \"police incidents\"\nfeed = \"police\"\n"
        ))
        .unwrap_err();
        assert_eq!(err.len(), 4, "{err:#?}");
        for want in ["max_batch_ms", "metrics_address", "enable.auto.commit", "not a Kafka topic name"] {
            assert!(err.iter().any(|p| p.contains(want)), "missing {want}: {err:#?}");
        }
    }

    #[test]
    fn dead_letter_and_topic_names_are_checked() {
        let base = "output = { dir = \"o\" }\nkeys = { file = \"k\" }\n";
        let topics = "[[stream.topics]]\ntopic = \"police.incidents\"\nfeed = \"police\"\n";
        let good =
            parse(&format!("{base}[stream]\nbrokers = \"b:9092\"\ndead_letter_topic = \"tellonce.dead\"\n{topics}"))
                .unwrap();
        assert_eq!(good.stream.unwrap().dead_letter_topic.as_deref(), Some("tellonce.dead"));
        for (dead, want) in [("..", "not a Kafka topic name"), ("Police.Incidents", "one of the topics consumed")] {
            let err = parse(&format!("{base}[stream]\nbrokers = \"b:9092\"\ndead_letter_topic = \"{dead}\"\n{topics}"))
                .unwrap_err();
            assert_eq!(err.len(), 1, "{err:#?}");
            assert!(err[0].contains(want) && err[0].contains("dead_letter_topic"), "{err:#?}");
        }
        let err = parse(&format!(
            "{base}[stream]\nbrokers = \"b:9092\"\n{topics}[[stream.topics]]\ntopic = \"POLICE.incidents\"\nfeed = \"camhs\"\n"
        ))
        .unwrap_err();
        assert_eq!(err.len(), 1, "{err:#?}");
        assert!(err[0].contains("only in case") && err[0].contains("stream.topics[1]"), "{err:#?}");
    }
}
