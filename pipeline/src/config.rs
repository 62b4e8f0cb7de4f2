//! Configuration: what the user wrote (`*File` types, straight from TOML) and the validated
//! [`Settings`] the pipeline runs on.
//!
//! Validation is pure and reports every problem at once, each naming the setting it concerns.
//! Relative paths are resolved against the directory of the configuration file, so a config
//! works wherever it is run from.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use tellonce_connectors::file_source::FileFormat;
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

/// Kafka's rule for topic names: 1 to 249 of ASCII letters, digits, `.`, `_` and `-`, and not
/// `.` or `..`.
fn is_topic_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 249
        && name != "."
        && name != ".."
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
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
    pub eligibility: crate::outcomes::settings::Eligibility,
    /// The disclosure policy of `aggregates/`.
    pub disclosure: crate::outcomes::disclosure::Policy,
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
        let d = crate::link::cluster::Options::default();
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
    pub linkage: crate::link::cluster::Options,
    /// The theme mapping file, if not the embedded one.
    pub themes_file: Option<PathBuf>,
    /// Period, eligibility rule and disclosure policy of the outcome datasets.
    pub outcomes: crate::outcomes::settings::OutcomeSettings,
    /// The Kafka settings of `tellonce stream`, if configured.
    pub stream: Option<StreamSettings>,
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
    ("sources", &["feed", "path", "format", "schema_version"]),
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
        Settings::parse(&text, &base).map_err(|e| match e {
            Problems::Syntax(message) => ConfigError::Parse { path: path.to_owned(), message },
            Problems::Invalid(problems) => ConfigError::Invalid { path: path.to_owned(), problems },
        })
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
        let period = crate::outcomes::settings::Period {
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
                if ["enable.auto.commit", "enable.auto.offset.store", "group.id", "bootstrap.servers"]
                    .contains(&key.as_str())
                {
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
                let valid = is_topic_name(&t.topic);
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
                if !is_topic_name(d) {
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
                        "{at}.format: cannot tell the format of {} ({bad:?}); set format = \"csv\" or \"jsonl\"",
                        path.display()
                    ));
                    None
                }
            };
            if seen_paths.contains(&path) {
                problems.push(format!("{at}.path {} is listed twice", path.display()));
            }
            seen_paths.push(path.clone());
            if let (Some(feed), Some(format)) = (schema, format) {
                sources.push(Source { feed, path, format });
            }
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        let workers =
            if l.workers == 0 { std::thread::available_parallelism().map_or(2, usize::from) } else { l.workers };
        Ok(Settings {
            output_dir: resolve(&file.output.dir),
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
            linkage: crate::link::cluster::Options {
                min_weight: file.linkage.min_weight,
                forename_dice: file.linkage.forename_dice,
                surname_dice: file.linkage.surname_dice,
                score_threshold: file.linkage.match_threshold,
                ..crate::link::cluster::Options::default()
            },
            themes_file: file.outcomes.themes.as_deref().map(resolve),
            outcomes: crate::outcomes::settings::OutcomeSettings {
                period,
                eligibility: file.outcomes.eligibility,
                disclosure: file.outcomes.disclosure,
            },
            stream,
        })
    }
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
