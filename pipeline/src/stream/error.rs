//! What stops a stream session or a progress reset, with its context (topic, partition,
//! offset), so that the command line takes each one's exit code from its variant.

use std::path::PathBuf;

use tellonce_connectors::file_source::SourceError;
use tellonce_kafka::{DeadLetterError, KafkaError, TopicPartition};

/// A stream session or reset that cannot go on.
#[derive(Debug, thiserror::Error)]
pub enum StreamError {
    /// The configuration has no `[stream]` section.
    #[error("the config has no [stream] section")]
    NotConfigured,
    /// `stream-reset` without a reason.
    #[error("a reset needs a reason (--reason): the audit log keeps it")]
    NoReason,
    /// `stream-reset` of a topic with no recorded progress.
    #[error(
        "the audit log of {} records no stream progress for topic {topic} (in its current epoch): nothing to reset",
        out.display()
    )]
    NothingToReset {
        /// The output.
        out: PathBuf,
        /// The topic.
        topic: String,
    },
    /// The broker, the consumer or an offset commit failed (its text names brokers, topic or
    /// partition).
    #[error(transparent)]
    Kafka(#[from] KafkaError),
    /// The dead-letter topic could not be written; the batch is not committed.
    #[error(transparent)]
    DeadLetter(#[from] DeadLetterError),
    /// A seek back to the offset the output needs failed.
    #[error("{source} (the next one the output needs); stopping with its open batch uncommitted")]
    Seek {
        /// Why.
        source: KafkaError,
    },
    /// The partition ends below the durable offset: the topic was recreated or its log cut.
    #[error(
        "partition {partition} ends at offset {high}, but the audit log records offsets up to {last_durable} as \
         written: the topic was recreated or its log cut, and its messages would be skipped as already written; \
         stop every stream session of this output and run `tellonce stream-reset --topic {} --reason ...` to \
         read it afresh",
        partition.topic
    )]
    Recreated {
        /// The partition.
        partition: TopicPartition,
        /// Its log end.
        high: i64,
        /// The last offset the audit log records as written.
        last_durable: u64,
    },
    /// A message below the durable offset is not the one written there: the topic was recreated.
    #[error(
        "partition {partition} offset {offset} has timestamp {now}, but the batch the audit log records as written \
         there had a message of timestamp {recorded}: the topic was recreated, and its messages would be \
         skipped as already written; stop every stream session of this output and run \
         `tellonce stream-reset --topic {} --reason ...` to read it afresh",
        partition.topic
    )]
    NotTheMessageWritten {
        /// The partition.
        partition: TopicPartition,
        /// The offset.
        offset: u64,
        /// The message's timestamp.
        now: i64,
        /// The timestamp recorded for the batch written there.
        recorded: i64,
    },
    /// Another session still holds the partition's lock.
    #[error(
        "partition {partition} is still held by another stream session after {seconds} s ({}); this session stops \
         without writing it",
        lock.display()
    )]
    PartitionHeld {
        /// The partition.
        partition: TopicPartition,
        /// How long the session waited.
        seconds: u64,
        /// The lock file.
        lock: PathBuf,
    },
    /// Another session kept a feed's staging to itself too long.
    #[error(
        "the staging of feed {feed} is still held by another stream session after {seconds} s ({}); this session \
         stops with its batch uncommitted",
        lock.display()
    )]
    FeedHeld {
        /// The feed.
        feed: String,
        /// How long the session waited.
        seconds: u64,
        /// The lock file.
        lock: PathBuf,
    },
    /// A batch's messages could not be read as their feed's records.
    #[error("{batch}: {source}")]
    Batch {
        /// The batch (`kafka:TOPIC/PARTITION@FIRST-LAST`).
        batch: String,
        /// Why.
        source: SourceError,
    },
    /// A batch's staged files changed while they were written.
    #[error("{batch} changed while written")]
    BatchChanged {
        /// The batch.
        batch: String,
    },
    /// The metrics endpoint could not listen.
    #[error("cannot serve metrics on {address} (stream.metrics_address): {source}")]
    Metrics {
        /// `stream.metrics_address`.
        address: String,
        /// Why.
        source: std::io::Error,
    },
    /// A thread of the session (`what`) could not be started.
    #[error("cannot start {what}: {source}")]
    Thread {
        /// Which thread.
        what: &'static str,
        /// Why.
        source: std::io::Error,
    },
    /// SIGINT and SIGTERM could not be handled.
    #[error("cannot handle SIGINT/SIGTERM: {0}")]
    Signals(String),
}

impl StreamError {
    /// Whether the command was asked for something it cannot do (no `[stream]` section, a reset
    /// without a reason or of a topic with no progress), rather than a failure while streaming.
    pub fn is_usage(&self) -> bool {
        matches!(self, StreamError::NotConfigured | StreamError::NoReason | StreamError::NothingToReset { .. })
    }
}
