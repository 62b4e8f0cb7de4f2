//! The optional dead-letter topic: every quarantined message, sealed, sent on to a topic that
//! the deployment's alerting or repair tooling can follow.
//!
//! What goes to the topic is the batch's quarantine entry as it is in the quarantine file (feed,
//! source, offset, rule, column, and the message sealed under the quarantine key), never the
//! message itself: the dead-letter topic is outside the output directory's access controls and
//! its retention rules, so it must not hold a clear identifier. Headers say where the message
//! came from and why it was refused, so that a consumer can route and count without the key;
//! `tellonce quarantine export` opens the same entries from the quarantine files.
//!
//! The entries of a batch are delivered (acknowledged by the broker) before the batch is
//! recorded as committed, so a committed batch's poison messages are on the topic. A session
//! that dies in between leaves the batch uncommitted; the next one writes it again and sends
//! the same entries again (sealing is deterministic), under the same message key
//! (`TOPIC@PARTITION@OFFSET` of the poison message): delivery is at least once, and consumers
//! drop repeats by key.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rdkafka::ClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::error::KafkaError as Cause;
use rdkafka::message::{DeliveryResult, Header, OwnedHeaders};
use rdkafka::producer::{BaseProducer, BaseRecord, Producer, ProducerContext};
use rdkafka::types::RDKafkaErrorCode;
use tellonce_connectors::quarantine::{self, QuarantineEntry, QuarantineReadError};

use crate::TopicPartition;

/// Why quarantine entries could not be sent to the dead-letter topic: the batch they belong to
/// must not be committed.
#[derive(Debug, thiserror::Error)]
pub enum DeadLetterError {
    /// The producer could not be created.
    #[error("cannot create the producer for dead_letter_topic {topic:?}: {source}")]
    Create {
        /// The dead-letter topic.
        topic: String,
        /// Why.
        source: Cause,
    },
    /// The batch's quarantine file could not be read.
    #[error("{source}")]
    Read {
        /// The quarantine file.
        path: PathBuf,
        /// Why.
        source: QuarantineReadError,
    },
    /// An entry could not be encoded as JSON (a bug).
    #[error("quarantine entry at offset {offset} of {partition}: {source}")]
    Encode {
        /// The partition the quarantined message came from.
        partition: TopicPartition,
        /// Its offset.
        offset: u64,
        /// Why.
        source: serde_json::Error,
    },
    /// Not every entry was acknowledged by the broker.
    #[error(
        "dead_letter_topic {topic:?}: {delivered} of {of} quarantine entries delivered: {why}; the batch is not committed"
    )]
    Undelivered {
        /// The dead-letter topic.
        topic: String,
        /// Entries acknowledged.
        delivered: u64,
        /// Entries to send.
        of: usize,
        /// Why the others were not.
        why: String,
    },
}

/// How long the broker has to acknowledge a dead-letter message before the batch fails
/// (librdkafka's `message.timeout.ms`, unless the deployment's properties set it).
const DELIVERY_TIMEOUT_MS: u64 = 30_000;

/// Sends quarantine entries to the dead-letter topic. Shared by the session's writer threads.
pub struct DeadLetters {
    producer: BaseProducer<Deliveries>,
    topic: String,
    timeout: Duration,
    /// The largest entry sent with its sealed message (see [`value_within`]).
    max_value_bytes: usize,
}

/// librdkafka's own default for `message.max.bytes`, and about a broker's (1 MB).
const DEFAULT_MAX_MESSAGE_BYTES: usize = 1_000_000;
/// Room left under the limit for the key, the headers and the record's framing.
const FRAMING_BYTES: usize = 16 * 1024;

/// The entry as the dead-letter topic takes it: whole if its JSON fits in `max_bytes`; else
/// without its sealed message, which the local quarantine file keeps (a poison message near
/// `max_message_bytes` grows by a third sealed and base64-encoded, past what a producer or a
/// broker takes by default, and a dead letter that cannot be delivered would block its
/// partition's commits for good). The second value says whether the message was left out.
fn value_within(entry: &QuarantineEntry, max_bytes: usize) -> Result<(Vec<u8>, bool), serde_json::Error> {
    let whole = serde_json::to_vec(entry)?;
    if whole.len() <= max_bytes {
        return Ok((whole, false));
    }
    let without = QuarantineEntry { sealed: Vec::new(), ..entry.clone() };
    Ok((serde_json::to_vec(&without)?, true))
}

/// The delivery reports of one batch's entries.
#[derive(Default)]
struct Tally {
    delivered: AtomicU64,
    failure: Mutex<Option<String>>,
}

/// Routes each delivery report to the tally of the batch that sent it.
struct Deliveries;

impl ClientContext for Deliveries {}

impl ProducerContext for Deliveries {
    type DeliveryOpaque = Arc<Tally>;

    fn delivery(&self, result: &DeliveryResult<'_>, tally: Arc<Tally>) {
        match result {
            Ok(_) => {
                tally.delivered.fetch_add(1, Ordering::Relaxed);
            }
            Err((e, _)) => {
                if let Ok(mut failure) = tally.failure.lock() {
                    failure.get_or_insert_with(|| e.to_string());
                }
            }
        }
    }
}

impl DeadLetters {
    /// The sender to `topic` on `brokers`. The deployment's consumer properties (`properties`)
    /// apply to it too (SASL, SSL); librdkafka ignores the consumer-only ones for a producer.
    ///
    /// # Errors
    ///
    /// librdkafka refuses the configuration.
    pub fn new(brokers: &str, properties: &[(String, String)], topic: &str) -> Result<DeadLetters, DeadLetterError> {
        let mut config = ClientConfig::new();
        config.set("bootstrap.servers", brokers).set("message.timeout.ms", DELIVERY_TIMEOUT_MS.to_string());
        for (k, v) in properties {
            config.set(k, v);
        }
        let timeout_ms =
            config.get("message.timeout.ms").and_then(|v| v.parse::<u64>().ok()).unwrap_or(DELIVERY_TIMEOUT_MS);
        let limit = config.get("message.max.bytes").and_then(|v| v.parse::<usize>().ok());
        let max_value_bytes = limit.unwrap_or(DEFAULT_MAX_MESSAGE_BYTES).saturating_sub(FRAMING_BYTES);
        let producer = config
            .create_with_context(Deliveries)
            .map_err(|source| DeadLetterError::Create { topic: topic.to_owned(), source })?;
        // Past librdkafka's own timeout every report has arrived, delivered or failed.
        let timeout = Duration::from_millis(timeout_ms.saturating_add(5_000));
        Ok(DeadLetters { producer, topic: topic.to_owned(), timeout, max_value_bytes })
    }

    /// The topic the entries go to.
    pub fn topic(&self) -> &str {
        &self.topic
    }

    /// Sends every entry of the committed quarantine file `file` (a batch of `from`) and waits
    /// until the broker has acknowledged all of them; returns how many.
    ///
    /// # Errors
    ///
    /// The file cannot be read, or an entry was not delivered: the batch must not be committed.
    pub fn send(&self, file: &Path, from: &TopicPartition) -> Result<u64, DeadLetterError> {
        let entries =
            quarantine::read_file(file).map_err(|source| DeadLetterError::Read { path: file.to_owned(), source })?;
        let (topic, partition) = (from.topic.as_str(), from.partition);
        let tally = Arc::new(Tally::default());
        let mut sent = 0u64;
        for entry in &entries {
            let key = format!("{topic}@{partition}@{}", entry.position);
            let (value, withheld) = value_within(entry, self.max_value_bytes).map_err(|source| {
                DeadLetterError::Encode { partition: from.clone(), offset: entry.position, source }
            })?;
            let mut headers = headers(entry, topic, partition);
            if withheld {
                headers = headers.insert(Header { key: "tellonce.sealed", value: Some("withheld: too large") });
            }
            let mut record =
                BaseRecord::with_opaque_to(&self.topic, tally.clone()).key(&key).payload(&value).headers(headers);
            loop {
                match self.producer.send(record) {
                    Ok(()) => break,
                    Err((Cause::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                        // The local queue is full: serve delivery reports until there is room.
                        record = back;
                        self.producer.poll(Duration::from_millis(100));
                    }
                    Err((e, _)) => return Err(self.failed(sent, entries.len(), &e.to_string())),
                }
            }
            sent += 1;
        }
        if let Err(e) = self.producer.flush(self.timeout) {
            return Err(self.failed(tally.delivered.load(Ordering::Relaxed), entries.len(), &e.to_string()));
        }
        let failure =
            tally.failure.lock().map_or_else(|_| Some("a delivery report panicked".to_owned()), |f| f.clone());
        let delivered = tally.delivered.load(Ordering::Relaxed);
        match failure {
            Some(e) => Err(self.failed(delivered, entries.len(), &e)),
            None if delivered != sent => Err(self.failed(delivered, entries.len(), "delivery reports missing")),
            None => Ok(delivered),
        }
    }

    fn failed(&self, delivered: u64, of: usize, why: &str) -> DeadLetterError {
        DeadLetterError::Undelivered { topic: self.topic.clone(), delivered, of, why: why.to_owned() }
    }
}

/// Where the entry's message came from and why it was refused; never a value of it.
fn headers(entry: &QuarantineEntry, topic: &str, partition: i32) -> OwnedHeaders {
    let partition = partition.to_string();
    let offset = entry.position.to_string();
    let mut headers = OwnedHeaders::new_with_capacity(6)
        .insert(Header { key: "tellonce.feed", value: Some(&entry.feed) })
        .insert(Header { key: "tellonce.topic", value: Some(topic) })
        .insert(Header { key: "tellonce.partition", value: Some(&partition) })
        .insert(Header { key: "tellonce.offset", value: Some(&offset) })
        .insert(Header { key: "tellonce.rule", value: Some(&entry.rule) });
    if let Some(column) = &entry.column {
        headers = headers.insert(Header { key: "tellonce.column", value: Some(column) });
    }
    headers
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(sealed_bytes: usize) -> QuarantineEntry {
        QuarantineEntry {
            feed: "police".to_owned(),
            source: "kafka:police/0".to_owned(),
            position: 100,
            rule: "json.malformed".to_owned(),
            column: None,
            sheet: None,
            sealed: vec![7u8; sealed_bytes],
        }
    }

    #[test]
    fn an_entry_too_large_for_the_topic_goes_without_its_sealed_message() {
        let limit = DEFAULT_MAX_MESSAGE_BYTES - FRAMING_BYTES;
        let (small, withheld) = value_within(&entry(1000), limit).unwrap();
        assert!(!withheld);
        assert_eq!(serde_json::from_slice::<QuarantineEntry>(&small).unwrap(), entry(1000));
        // An 800 KB poison message, sealed and base64-encoded, is past a 1 MB producer's limit.
        let big = entry(800_000);
        assert!(serde_json::to_vec(&big).unwrap().len() > limit);
        let (value, withheld) = value_within(&big, limit).unwrap();
        assert!(withheld && value.len() < 1000);
        let sent: QuarantineEntry = serde_json::from_slice(&value).unwrap();
        assert_eq!((sent.position, sent.rule.as_str(), sent.sealed.len()), (100, "json.malformed", 0));
    }
}
