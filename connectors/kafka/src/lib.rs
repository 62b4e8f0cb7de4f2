//! Kafka for tellonce, and the only crate that links librdkafka.
//!
//! - [`TopicPartition`] and Kafka's rules for topic names ([`topic`]);
//! - the [`Consumer`] (`tellonce stream`'s reader), which places every partition it is assigned
//!   where the output's own record of progress says, through a [`Durable`] that the pipeline
//!   implements from its audit log, and hands over [`Message`]s;
//! - the [`DeadLetters`] producer for quarantined messages;
//! - [`mock`]: librdkafka's in-process broker, topic creation and a small producer and reader,
//!   for tests and `bench-stream`.
//!
//! The pipeline names no librdkafka type: whatever it needs of Kafka is here, so that a change
//! of client library stays inside this crate.

pub mod consumer;
pub mod dead_letter;
mod error;
pub mod mock;
pub mod topic;

pub use consumer::{Consumer, ConsumerSettings, Durable, Message};
pub use dead_letter::{DeadLetterError, DeadLetters};
pub use error::KafkaError;
pub use topic::{TopicPartition, is_topic_name};
