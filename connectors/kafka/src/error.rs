//! What can go wrong talking to Kafka, with the brokers, topic, partition or offset concerned.

use crate::TopicPartition;

/// librdkafka's own error, the cause of every [`KafkaError`]; boxed, as it is large and errors
/// travel far.
type Cause = Box<rdkafka::error::KafkaError>;

/// A Kafka client could not be made or used.
#[derive(Debug, thiserror::Error)]
pub enum KafkaError {
    /// A consumer, producer or admin client could not be created (a property librdkafka
    /// refuses, usually).
    #[error("cannot create the Kafka {client} for {brokers}: {source}")]
    Create {
        /// Which client: `consumer`, `producer`, `admin client`.
        client: &'static str,
        /// The brokers it was for.
        brokers: String,
        /// Why.
        source: Cause,
    },
    /// The consumer could not subscribe.
    #[error("cannot subscribe to {topics:?}: {source}")]
    Subscribe {
        /// The topics.
        topics: Vec<String>,
        /// Why.
        source: Cause,
    },
    /// A message or event the consumer polled for came back as an error.
    #[error("{source}")]
    Poll {
        /// Why.
        source: Cause,
    },
    /// A partition could not be sought to an offset.
    #[error("partition {partition}: cannot seek to offset {offset}: {source}")]
    Seek {
        /// The partition.
        partition: TopicPartition,
        /// Where it was to go.
        offset: u64,
        /// Why.
        source: Cause,
    },
    /// A partition's low and high watermarks could not be fetched.
    #[error("partition {partition}: cannot fetch its end offset: {source}")]
    Watermarks {
        /// The partition.
        partition: TopicPartition,
        /// Why.
        source: Cause,
    },
    /// An offset to commit is not one Kafka can hold.
    #[error("partition {partition}: offset {offset} cannot be committed: {source}")]
    Offset {
        /// The partition.
        partition: TopicPartition,
        /// The offset.
        offset: u64,
        /// Why.
        source: Cause,
    },
    /// The broker did not take the committed offsets.
    #[error("offset commit failed: {source}")]
    Commit {
        /// Why.
        source: Cause,
    },
    /// A message could not be produced (queued) to a topic.
    #[error("cannot produce to {topic}: {source}")]
    Produce {
        /// The topic.
        topic: String,
        /// Why.
        source: Cause,
    },
    /// Produced messages were not all delivered in time.
    #[error("flushing the producer: {source}")]
    Flush {
        /// Why.
        source: Cause,
    },
    /// A topic could not be created.
    #[error("creating topic {topic} on {brokers}: {source}")]
    CreateTopic {
        /// The topic.
        topic: String,
        /// The brokers.
        brokers: String,
        /// Why.
        source: Cause,
    },
    /// librdkafka's in-process mock cluster could not be started.
    #[error("starting the mock cluster: {source}")]
    Mock {
        /// Why.
        source: Cause,
    },
}
