//! `tellonce stream`'s reader: librdkafka's consumer, with every partition it is assigned
//! placed where the output's own record says before it is fetched, and what the session's loop
//! needs to know between polls (partitions assigned and revoked, lag).
//!
//! The group's committed offsets are Kafka's, not the output's, and may lie past what it holds
//! (a new output read by an old group; a topic reset in the audit log), so a partition starts
//! from its durable offset as the [`Durable`] says. Offsets are never committed automatically:
//! the session commits a batch's offsets once the batch is durable.

use std::collections::HashSet;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer as _, ConsumerContext, Rebalance, RebalanceProtocol};
use rdkafka::message::{BorrowedMessage, Headers, Message as _};
use rdkafka::types::{RDKafkaErrorCode, RDKafkaRespErr};
use rdkafka::{ClientContext, Offset, TopicPartitionList};
use tracing::{info, warn};

use crate::{KafkaError, TopicPartition};

/// The header in which a producer declares the schema version of a message.
pub const SCHEMA_VERSION_HEADER: &str = "schema_version";

/// The consumer properties tellonce sets itself: a deployment's properties may not override
/// them, or offsets would be committed before batches are durable, or by another group.
pub const RESERVED_PROPERTIES: [&str; 4] =
    ["enable.auto.commit", "enable.auto.offset.store", "group.id", "bootstrap.servers"];

/// Where the consumer connects, as whom, and the deployment's own librdkafka properties.
#[derive(Debug, Clone)]
pub struct ConsumerSettings<'a> {
    /// `bootstrap.servers`.
    pub brokers: &'a str,
    /// `group.id`.
    pub group_id: &'a str,
    /// librdkafka properties set after tellonce's own (`security.protocol`, `sasl.*`, `ssl.*`,
    /// and tuning such as `fetch.wait.max.ms`).
    pub properties: &'a [(String, String)],
}

/// What the output holds of each partition, asked when partitions are assigned; implemented by
/// the pipeline from its audit log. Called on the thread that polls, inside the poll.
pub trait Durable: Send + Sync + 'static {
    /// The first offset not yet durable in the output of each of `partitions`, in the same
    /// order (0 where nothing is); `None` if it cannot tell now, and then the group's committed
    /// offsets stand (the implementation says why).
    fn next_offsets(&self, partitions: &[TopicPartition]) -> Option<Vec<u64>>;

    /// The partitions were assigned to this consumer.
    fn assigned(&self, _partitions: &[TopicPartition]) {}

    /// The partitions were taken from this consumer (or, after a failed rebalance, given up).
    fn revoked(&self, _partitions: &[TopicPartition]) {}
}

/// What the librdkafka callbacks note for the loop, which reads it after each poll.
struct Notes<D> {
    durable: D,
    /// Revoked since the loop last asked.
    revoked: Mutex<Vec<TopicPartition>>,
    /// The partitions assigned now: a message of any other (fetched before its partition was
    /// revoked) is not this session's to write.
    assignment: Mutex<HashSet<TopicPartition>>,
    /// When partitions were last assigned or revoked: a session is not idle while its group
    /// rebalances.
    rebalanced: Mutex<Option<Instant>>,
    /// Messages behind the high watermark over the assigned partitions, from the last
    /// statistics.
    lag: Mutex<Option<i64>>,
}

/// The partitions of a librdkafka list.
fn partitions(list: &TopicPartitionList) -> Vec<TopicPartition> {
    list.elements().iter().map(|e| TopicPartition::new(e.topic(), e.partition())).collect()
}

impl<D: Durable> ClientContext for Notes<D> {
    /// Keeps the consumer lag from librdkafka's statistics, which it gathers without a round
    /// trip to the broker (asking for watermarks would stall the consuming thread).
    fn stats(&self, statistics: rdkafka::Statistics) {
        let lag: i64 = statistics
            .topics
            .values()
            .flat_map(|t| t.partitions.values())
            .filter(|p| p.partition >= 0 && p.desired && p.consumer_lag >= 0)
            .map(|p| p.consumer_lag)
            .sum();
        if let Ok(mut l) = self.lag.lock() {
            *l = Some(lag);
        }
    }
}

impl<D: Durable> Notes<D> {
    /// Sets where each newly assigned partition starts: one message back from its durable
    /// offset, where a committed batch ends, so that the batch's recorded timestamp can tell a
    /// recreated topic from the one written; at the start of the log if nothing is durable.
    fn start_at_durable(&self, consumer: &BaseConsumer<Self>, tpl: &mut TopicPartitionList) {
        let keys = partitions(tpl);
        let Some(durable) = self.durable.next_offsets(&keys) else { return };
        for (tp, durable) in keys.iter().zip(durable) {
            // A log that ends below the durable offset (a recreated topic, or a broker whose
            // reported end is wrong: tansu 0.6 reports less than it holds) keeps the group's
            // position: the session's checks on its messages then decide, and a position past
            // the durable offset is sought back from.
            let short = durable > 0
                && consumer
                    .fetch_watermarks(&tp.topic, tp.partition, Duration::from_secs(2))
                    .is_ok_and(|(_, high)| u64::try_from(high).is_ok_and(|h| h < durable));
            if short {
                continue;
            }
            let offset = match durable.checked_sub(1).and_then(|o| i64::try_from(o).ok()) {
                Some(o) => Offset::Offset(o),
                None => Offset::Beginning,
            };
            if let Err(e) = tpl.set_partition_offset(&tp.topic, tp.partition, offset) {
                warn!(topic = %tp.topic, partition = tp.partition, "cannot place the partition at its durable offset: {e}");
            }
        }
    }

    fn note_rebalance(&self) {
        if let Ok(mut at) = self.rebalanced.lock() {
            *at = Some(Instant::now());
        }
    }
}

impl<D: Durable> ConsumerContext for Notes<D> {
    /// librdkafka's rebalance, with each assigned partition placed at its durable offset before
    /// it is assigned (a seek afterwards would race the fetch of the group's committed offset).
    fn rebalance(&self, consumer: &BaseConsumer<Self>, err: RDKafkaRespErr, tpl: &mut TopicPartitionList) {
        let assigning = err == RDKafkaRespErr::RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS;
        if assigning {
            self.start_at_durable(consumer, tpl);
        }
        let rebalance = match err {
            RDKafkaRespErr::RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS => Rebalance::Assign(tpl),
            RDKafkaRespErr::RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS => Rebalance::Revoke(tpl),
            e => Rebalance::Error(rdkafka::error::KafkaError::Rebalance(e.into())),
        };
        self.pre_rebalance(consumer, &rebalance);
        let cooperative = matches!(consumer.rebalance_protocol(), RebalanceProtocol::Cooperative);
        let done = match (assigning, cooperative) {
            (true, true) => consumer.incremental_assign(tpl),
            (true, false) => consumer.assign(tpl),
            (false, true) => consumer.incremental_unassign(tpl),
            (false, false) => consumer.unassign(),
        };
        match done {
            Ok(()) => self.post_rebalance(consumer, &rebalance),
            // Not assigned: the session must not think it holds them.
            Err(e) if assigning => warn!("rebalance: cannot take the assigned partitions: {e}"),
            Err(e) => {
                warn!("rebalance: cannot give the partitions up: {e}");
                self.post_rebalance(consumer, &rebalance);
            }
        }
    }

    fn commit_callback(&self, result: rdkafka::error::KafkaResult<()>, _offsets: &TopicPartitionList) {
        if let Err(e) = result {
            // The batches are durable and recorded: a lost commit costs a re-read, skipped.
            warn!("offset commit failed (the batches are durable): {e}");
        }
    }

    fn pre_rebalance(&self, _consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        let keys: Vec<TopicPartition> = match rebalance {
            Rebalance::Revoke(list) => partitions(list),
            // librdkafka unassigns everything after a failed rebalance: so must the session,
            // or its partition locks would keep the next owners waiting.
            Rebalance::Error(e) => {
                warn!("rebalance failed, every partition given up: {e}");
                self.assignment.lock().map(|a| a.iter().cloned().collect()).unwrap_or_default()
            }
            Rebalance::Assign(_) => Vec::new(),
        };
        if !keys.is_empty() {
            info!(partitions = %list(&keys), "partitions revoked");
            self.note_rebalance();
            if let Ok(mut assignment) = self.assignment.lock() {
                for k in &keys {
                    assignment.remove(k);
                }
            }
            self.durable.revoked(&keys);
            if let Ok(mut revoked) = self.revoked.lock() {
                revoked.extend(keys);
            }
        }
    }

    fn post_rebalance(&self, _consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Assign(assigned) = rebalance
            && assigned.count() > 0
        {
            let keys = partitions(assigned);
            info!(partitions = %list(&keys), "partitions assigned");
            self.durable.assigned(&keys);
            if let Ok(mut assignment) = self.assignment.lock() {
                assignment.extend(keys);
            }
            self.note_rebalance();
        }
    }
}

/// Partitions as a log line shows them: `[topic/0, topic/1]`.
fn list(partitions: &[TopicPartition]) -> String {
    let names: Vec<String> = partitions.iter().map(ToString::to_string).collect();
    format!("[{}]", names.join(", "))
}

/// One message as the session reads it, borrowed from the consumer until dropped.
pub struct Message<'c> {
    inner: BorrowedMessage<'c>,
}

impl Message<'_> {
    /// Its topic.
    pub fn topic(&self) -> &str {
        self.inner.topic()
    }

    /// Its partition's number.
    pub fn partition(&self) -> i32 {
        self.inner.partition()
    }

    /// Its topic and partition.
    pub fn topic_partition(&self) -> TopicPartition {
        TopicPartition::new(self.inner.topic(), self.inner.partition())
    }

    /// Its offset (negative only for a message librdkafka could not place).
    pub fn offset(&self) -> i64 {
        self.inner.offset()
    }

    /// Its value; `None` for a message without one (a tombstone).
    pub fn payload(&self) -> Option<&[u8]> {
        self.inner.payload()
    }

    /// Its timestamp in milliseconds since 1970 (set by its producer, or by the broker where the
    /// topic says so), if it carries one.
    pub fn timestamp_ms(&self) -> Option<i64> {
        self.inner.timestamp().to_millis()
    }

    /// The value of its first header named `name`, if it has one with a value.
    pub fn header(&self, name: &str) -> Option<&[u8]> {
        self.inner.headers()?.iter().find(|h| h.key == name).and_then(|h| h.value)
    }

    /// The schema version it declares in a [`SCHEMA_VERSION_HEADER`] header, if any. A header
    /// that is not a number declares no version that exists: `u32::MAX`.
    pub fn declared_version(&self) -> Option<u32> {
        self.header(SCHEMA_VERSION_HEADER)
            .and_then(|v| std::str::from_utf8(v).ok())
            .map(|v| v.trim().parse().unwrap_or(u32::MAX))
    }
}

/// A consumer in a group, whose partitions start where `D` says and whose offsets are
/// committed only when asked.
pub struct Consumer<D: Durable> {
    inner: BaseConsumer<Notes<D>>,
}

impl<D: Durable> Consumer<D> {
    /// Builds the consumer: tellonce's settings first, then the deployment's properties.
    ///
    /// # Errors
    ///
    /// librdkafka refuses the configuration.
    pub fn new(s: &ConsumerSettings<'_>, durable: D) -> Result<Consumer<D>, KafkaError> {
        let mut config = ClientConfig::new();
        config
            .set("bootstrap.servers", s.brokers)
            .set("group.id", s.group_id)
            .set("enable.auto.commit", "false")
            .set("enable.auto.offset.store", "false")
            .set("auto.offset.reset", "earliest")
            .set("enable.partition.eof", "false")
            .set("statistics.interval.ms", "10000")
            // Kafka answers a fetch as soon as data is there; some Kafka-compatible brokers (tansu)
            // hold every fetch for this long, which at librdkafka's 500 ms caps a session at about a
            // fifth of what the broker can serve and adds half a second of latency. A short wait
            // costs an idle session a few more requests a second. Deployments may set their own.
            .set("fetch.wait.max.ms", "50");
        for (k, v) in s.properties {
            config.set(k, v);
        }
        let notes = Notes {
            durable,
            revoked: Mutex::default(),
            assignment: Mutex::default(),
            rebalanced: Mutex::default(),
            lag: Mutex::default(),
        };
        let inner = config.create_with_context(notes).map_err(|source| KafkaError::Create {
            client: "consumer",
            brokers: s.brokers.to_owned(),
            source: Box::new(source),
        })?;
        Ok(Consumer { inner })
    }

    /// Joins the group for `topics`.
    ///
    /// # Errors
    ///
    /// librdkafka refuses the subscription.
    pub fn subscribe(&self, topics: &[&str]) -> Result<(), KafkaError> {
        self.inner.subscribe(topics).map_err(|source| KafkaError::Subscribe {
            topics: topics.iter().map(|t| (*t).to_owned()).collect(),
            source: Box::new(source),
        })
    }

    /// Leaves the group.
    pub fn unsubscribe(&self) {
        self.inner.unsubscribe();
    }

    /// The next message, waiting up to `timeout`; serves the rebalance, statistics and commit
    /// callbacks meanwhile.
    pub fn poll(&self, timeout: Duration) -> Option<Result<Message<'_>, KafkaError>> {
        self.inner
            .poll(timeout)
            .map(|r| r.map(|inner| Message { inner }).map_err(|source| KafkaError::Poll { source: Box::new(source) }))
    }

    /// Moves the partition's fetch position to `offset`.
    ///
    /// # Errors
    ///
    /// librdkafka could not seek within `timeout`.
    pub fn seek(&self, partition: &TopicPartition, offset: u64, timeout: Duration) -> Result<(), KafkaError> {
        let at = Offset::Offset(i64::try_from(offset).unwrap_or(i64::MAX));
        self.inner.seek(&partition.topic, partition.partition, at, timeout).map_err(|source| KafkaError::Seek {
            partition: partition.clone(),
            offset,
            source: Box::new(source),
        })
    }

    /// The partition's low and high watermarks (first offset, and one past the last), asked of
    /// the broker.
    ///
    /// # Errors
    ///
    /// The broker did not answer within `timeout`.
    pub fn watermarks(&self, partition: &TopicPartition, timeout: Duration) -> Result<(i64, i64), KafkaError> {
        self.inner
            .fetch_watermarks(&partition.topic, partition.partition, timeout)
            .map_err(|source| KafkaError::Watermarks { partition: partition.clone(), source: Box::new(source) })
    }

    /// Commits `next` (the next offset to read) for each partition; waits for the broker's
    /// answer if `wait`, else the answer goes to the commit callback, which logs a failure.
    ///
    /// # Errors
    ///
    /// An offset Kafka cannot hold ([`KafkaError::Offset`]), or the commit failed
    /// ([`KafkaError::Commit`]).
    pub fn commit(&self, next: &[(TopicPartition, u64)], wait: bool) -> Result<(), KafkaError> {
        let mut tpl = TopicPartitionList::new();
        for (tp, offset) in next {
            let at = Offset::Offset(i64::try_from(*offset).unwrap_or(i64::MAX));
            tpl.add_partition_offset(&tp.topic, tp.partition, at).map_err(|source| KafkaError::Offset {
                partition: tp.clone(),
                offset: *offset,
                source: Box::new(source),
            })?;
        }
        if tpl.count() == 0 {
            return Ok(());
        }
        let mode = if wait { CommitMode::Sync } else { CommitMode::Async };
        self.inner.commit(&tpl, mode).map_err(|source| KafkaError::Commit { source: Box::new(source) })
    }

    /// Whether the broker answers within `timeout`: the group's coordinator, asked for the
    /// offsets committed for `partitions`, or, with none, any broker asked for metadata. Asked
    /// before a call whose wait has no bound of its own (a synchronous commit, the group's
    /// leaving on close): a broker that is up but stalled answers neither, and a session asked
    /// to stop must still end.
    pub fn coordinator_answers(&self, partitions: &[TopicPartition], timeout: Duration) -> bool {
        let mut tpl = TopicPartitionList::new();
        for tp in partitions {
            tpl.add_partition(&tp.topic, tp.partition);
        }
        let asked = if tpl.count() == 0 {
            self.inner.fetch_metadata(None, timeout).map(drop)
        } else {
            self.inner.committed_offsets(tpl, timeout).map(drop)
        };
        // A refusal (unknown member, not authorised) is an answer: only silence is not.
        !matches!(asked, Err(e) if e.rdkafka_error_code() == Some(RDKafkaErrorCode::OperationTimedOut))
    }

    /// Whether the partition is assigned to this consumer now.
    pub fn is_assigned(&self, partition: &TopicPartition) -> bool {
        self.inner.context().assignment.lock().is_ok_and(|a| a.contains(partition))
    }

    /// The partitions assigned to this consumer now.
    pub fn assignment(&self) -> HashSet<TopicPartition> {
        self.inner.context().assignment.lock().map(|a| a.clone()).unwrap_or_default()
    }

    /// The partitions revoked since the last call.
    pub fn take_revoked(&self) -> Vec<TopicPartition> {
        self.inner.context().revoked.lock().map(|mut r| std::mem::take(&mut *r)).unwrap_or_default()
    }

    /// When partitions were last assigned or revoked; `None` before the first assignment.
    pub fn last_rebalance(&self) -> Option<Instant> {
        self.inner.context().rebalanced.lock().ok().and_then(|a| *a)
    }

    /// Messages behind the high watermarks of the assigned partitions, from librdkafka's last
    /// statistics (every 10 s); `None` before the first.
    pub fn lag(&self) -> Option<i64> {
        self.inner.context().lag.lock().ok().and_then(|l| *l)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mock::{Cluster, Producer};

    const TOPIC: &str = "t";

    /// An output that holds the first `0` offsets of every partition (`None`: cannot tell).
    struct Holds(Option<u64>);

    impl Durable for Holds {
        fn next_offsets(&self, partitions: &[TopicPartition]) -> Option<Vec<u64>> {
            self.0.map(|n| vec![n; partitions.len()])
        }
    }

    /// The first message the consumer reads, as (offset, declared version, has a timestamp).
    fn first(consumer: &Consumer<Holds>) -> (i64, Option<u32>, bool) {
        let until = Instant::now() + Duration::from_secs(30);
        while Instant::now() < until {
            if let Some(Ok(m)) = consumer.poll(Duration::from_millis(100)) {
                assert_eq!(m.topic_partition(), TopicPartition::new(TOPIC, 0));
                assert_eq!(m.payload(), Some(format!("m{}", m.offset()).as_bytes()));
                return (m.offset(), m.declared_version(), m.timestamp_ms().is_some());
            }
        }
        panic!("no message within 30 s");
    }

    #[test]
    fn a_partition_starts_one_back_from_the_durable_offset_and_else_at_the_group_offset() {
        let cluster = Cluster::start(1).unwrap();
        cluster.create_topic(TOPIC, 1).unwrap();
        let brokers = cluster.bootstrap_servers();
        let producer = Producer::new(&brokers, &[]).unwrap();
        for i in 0..10u32 {
            let version = match i {
                4 => Some("3".as_bytes()),
                7 => Some(" x ".as_bytes()),
                _ => None,
            };
            let headers: Vec<(&str, &[u8])> = version.iter().map(|v| (SCHEMA_VERSION_HEADER, *v)).collect();
            producer.send(TOPIC, &i.to_string(), Some(format!("m{i}").as_bytes()), &headers).unwrap();
        }
        producer.flush(Duration::from_secs(10)).unwrap();
        let properties = [("session.timeout.ms".to_owned(), "6000".to_owned())];
        let settings = ConsumerSettings { brokers: &brokers, group_id: "g", properties: &properties };
        let tp = TopicPartition::new(TOPIC, 0);

        // The output holds offsets 0 to 4: the last of them is read again, to be checked.
        let consumer = Consumer::new(&settings, Holds(Some(5))).unwrap();
        consumer.subscribe(&[TOPIC]).unwrap();
        assert_eq!(first(&consumer), (4, Some(3), true));
        assert!(consumer.is_assigned(&tp) && consumer.last_rebalance().is_some());
        consumer.seek(&tp, 7, Duration::from_secs(10)).unwrap();
        let seen = first(&consumer);
        assert_eq!(seen, (7, Some(u32::MAX), true), "a header that is no number declares no version that exists");
        consumer.commit(&[(tp.clone(), 8)], true).unwrap();
        assert_eq!(consumer.watermarks(&tp, Duration::from_secs(10)).unwrap().1, 10);
        consumer.unsubscribe();
        drop(consumer);

        // An output that cannot tell leaves the group's committed offset to decide.
        let consumer = Consumer::new(&settings, Holds(None)).unwrap();
        consumer.subscribe(&[TOPIC]).unwrap();
        assert_eq!(first(&consumer), (8, None, true));
        consumer.unsubscribe();
    }
}
