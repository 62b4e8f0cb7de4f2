//! `[stream]`: the brokers, the consumer group, batch limits and the topics `tellonce stream`
//! consumes, checked here beside the stream sessions that use them.

use serde::Deserialize;
use tellonce_schemas::{FeedSchema, feed};

use crate::run::limits::MAX_LINE_BYTES;

/// `[stream]`: the brokers, the consumer group and the topics `tellonce stream` consumes.
#[derive(Debug, Deserialize)]
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
pub struct TopicFile {
    /// The topic.
    pub topic: String,
    /// The feed its messages belong to.
    pub feed: String,
    /// The schema version its messages are written in (default: the newest); a message may
    /// declare its own in a `schema_version` header, and one that differs is quarantined.
    pub schema_version: Option<u32>,
    /// A source mapping (TOML) from the partner's own keys, codes and formats, as for a file
    /// source; its `[withdrawal]` names the key marking a message as a withdrawal.
    pub mapping: Option<std::path::PathBuf>,
    /// What its messages are of the partner's holding: `delta` (the default: new and changed
    /// records) or `append` (events that never change: a record held is never staged again).
    pub mode: Option<String>,
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
    /// Its source mapping file, resolved against the config's folder.
    pub mapping: Option<std::path::PathBuf>,
    /// `delta` or `append`.
    pub mode: crate::config::SourceMode,
}

impl StreamFile {
    /// Checks the section, adding a problem (naming its key) for each bad value, and returns the
    /// settings of the topics that are valid; `resolve` makes a path relative to the config
    /// absolute.
    pub fn validate(
        &self,
        problems: &mut Vec<String>,
        resolve: &dyn Fn(&std::path::Path) -> std::path::PathBuf,
    ) -> StreamSettings {
        let st = self;
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
                problems.push(format!("{at}.topic {:?} is not a Kafka topic name (letters, digits, . _ -)", t.topic));
            }
            let schema = match t.schema_version {
                None => feed::latest(&t.feed),
                Some(v) => feed::version(&t.feed, v),
            };
            let mode = match t.mode.as_deref().map(str::parse::<crate::config::SourceMode>) {
                None => crate::config::SourceMode::Delta,
                Some(Ok(m @ (crate::config::SourceMode::Delta | crate::config::SourceMode::Append))) => m,
                Some(_) => {
                    // A topic is a sequence of messages, never a whole holding or a list of
                    // withdrawals: a message marks its own withdrawal through the mapping.
                    problems.push(format!("{at}.mode must be \"delta\" or \"append\""));
                    crate::config::SourceMode::Delta
                }
            };
            let mapping = t.mapping.as_deref().map(resolve);
            match schema {
                Some(feed) if valid => topics.push(Topic { topic: t.topic.clone(), feed, mapping, mode }),
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
                problems
                    .push(format!("stream.dead_letter_topic {d:?} is not a Kafka topic name (letters, digits, . _ -)"));
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
    }
}
