//! Kafka for tests and benchmarks: librdkafka's in-process broker ([`Cluster`]), topic creation
//! on a real broker ([`create_topic`]), a producer of messages with headers ([`Producer`]) and a
//! reader of a whole topic ([`read_topic`]). Nothing here is used by `tellonce stream` itself.

use std::time::{Duration, Instant};

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer as _};
use rdkafka::message::{Header, Headers, Message as _, OwnedHeaders};
use rdkafka::mocking::MockCluster;
use rdkafka::producer::{BaseProducer, BaseRecord, DefaultProducerContext, Producer as _};
use rdkafka::types::{RDKafkaApiKey, RDKafkaRespErr};

use crate::KafkaError;

/// librdkafka's in-process mock broker: a Kafka cluster without a broker process, which keeps
/// about 5 MB a partition. Stops when dropped.
pub struct Cluster {
    inner: MockCluster<'static, DefaultProducerContext>,
}

impl Cluster {
    /// Starts a cluster of `brokers` brokers.
    ///
    /// # Errors
    ///
    /// librdkafka cannot start it.
    pub fn start(brokers: i32) -> Result<Cluster, KafkaError> {
        MockCluster::new(brokers)
            .map(|inner| Cluster { inner })
            .map_err(|source| KafkaError::Mock { source: Box::new(source) })
    }

    /// Its `bootstrap.servers`.
    pub fn bootstrap_servers(&self) -> String {
        self.inner.bootstrap_servers()
    }

    /// Creates `topic` with `partitions` partitions, each on one broker.
    ///
    /// # Errors
    ///
    /// The mock refuses it.
    pub fn create_topic(&self, topic: &str, partitions: i32) -> Result<(), KafkaError> {
        self.inner.create_topic(topic, partitions, 1).map_err(|source| KafkaError::CreateTopic {
            topic: topic.to_owned(),
            brokers: self.bootstrap_servers(),
            source: Box::new(source),
        })
    }

    /// Makes the next `count` produce requests fail as unauthorised, as a broker refusing a
    /// topic to this client would.
    pub fn refuse_produce(&self, count: usize) {
        let errors = vec![RDKafkaRespErr::RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED; count];
        self.inner.request_errors(RDKafkaApiKey::Produce, &errors);
    }

    /// Lets produce requests through again.
    pub fn accept_produce(&self) {
        self.inner.clear_request_errors(RDKafkaApiKey::Produce);
    }
}

/// Creates `topic` with `partitions` partitions of replication factor 1 on `brokers`, through
/// the admin API.
///
/// # Errors
///
/// The admin client cannot be created ([`KafkaError::Create`]), or the broker refuses the
/// topic ([`KafkaError::CreateTopic`]).
pub fn create_topic(brokers: &str, topic: &str, partitions: i32) -> Result<(), KafkaError> {
    let admin: AdminClient<DefaultClientContext> =
        ClientConfig::new().set("bootstrap.servers", brokers).create().map_err(|source| KafkaError::Create {
            client: "admin client",
            brokers: brokers.to_owned(),
            source: Box::new(source),
        })?;
    let refused = |source| KafkaError::CreateTopic {
        topic: topic.to_owned(),
        brokers: brokers.to_owned(),
        source: Box::new(source),
    };
    let new = NewTopic::new(topic, partitions, TopicReplication::Fixed(1));
    // The admin client answers with futures; one blocking wait needs no runtime.
    let results = futures_executor::block_on(admin.create_topics([&new], &AdminOptions::new())).map_err(refused)?;
    for r in results {
        r.map_err(|(_, code)| refused(rdkafka::error::KafkaError::AdminOp(code)))?;
    }
    Ok(())
}

/// A producer for test and benchmark traffic.
pub struct Producer {
    inner: BaseProducer,
}

impl Producer {
    /// A producer to `brokers`, with librdkafka `properties` (`linger.ms`, …).
    ///
    /// # Errors
    ///
    /// librdkafka refuses the configuration.
    pub fn new(brokers: &str, properties: &[(&str, &str)]) -> Result<Producer, KafkaError> {
        let mut config = ClientConfig::new();
        config.set("bootstrap.servers", brokers);
        for (k, v) in properties {
            config.set(*k, *v);
        }
        let inner = config.create().map_err(|source| KafkaError::Create {
            client: "producer",
            brokers: brokers.to_owned(),
            source: Box::new(source),
        })?;
        Ok(Producer { inner })
    }

    /// Queues one message (`payload` `None`: a message without a value) with `headers`.
    ///
    /// # Errors
    ///
    /// The message cannot be queued: the local queue is full (serve it with [`poll`](Self::poll)
    /// and send again) or the message is refused.
    pub fn send(
        &self,
        topic: &str,
        key: &str,
        payload: Option<&[u8]>,
        headers: &[(&str, &[u8])],
    ) -> Result<(), KafkaError> {
        let mut record = BaseRecord::<str, [u8]>::to(topic).key(key);
        if let Some(p) = payload {
            record = record.payload(p);
        }
        if !headers.is_empty() {
            let mut owned = OwnedHeaders::new_with_capacity(headers.len());
            for (name, value) in headers {
                owned = owned.insert(Header { key: name, value: Some(*value) });
            }
            record = record.headers(owned);
        }
        self.inner
            .send(record)
            .map_err(|(source, _)| KafkaError::Produce { topic: topic.to_owned(), source: Box::new(source) })
    }

    /// Serves delivery reports for up to `timeout`, making room in the local queue.
    pub fn poll(&self, timeout: Duration) {
        self.inner.poll(timeout);
    }

    /// Waits up to `timeout` until every queued message is delivered.
    ///
    /// # Errors
    ///
    /// Some were not delivered in time.
    pub fn flush(&self, timeout: Duration) -> Result<(), KafkaError> {
        self.inner.flush(timeout).map_err(|source| KafkaError::Flush { source: Box::new(source) })
    }
}

/// A message read back by [`read_topic`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// Its key.
    pub key: Option<Vec<u8>>,
    /// Its value.
    pub payload: Option<Vec<u8>>,
    /// Its headers, in order (a header without a value has none).
    pub headers: Vec<(String, Option<Vec<u8>>)>,
}

impl Record {
    /// The text of its first header named `name`, if it has one with a value.
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .and_then(|(_, v)| v.as_deref())
            .map(|v| String::from_utf8_lossy(v).into_owned())
    }
}

/// The messages of `topic` from its start, read as consumer group `group` until `want` have
/// come or `within` has passed, and whatever more arrives within half a second after (so that a
/// test sees one too many).
///
/// # Errors
///
/// The consumer cannot be created or subscribed.
pub fn read_topic(
    brokers: &str,
    group: &str,
    topic: &str,
    want: usize,
    within: Duration,
) -> Result<Vec<Record>, KafkaError> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", group)
        .set("auto.offset.reset", "earliest")
        .create()
        .map_err(|source| KafkaError::Create {
            client: "consumer",
            brokers: brokers.to_owned(),
            source: Box::new(source),
        })?;
    consumer
        .subscribe(&[topic])
        .map_err(|source| KafkaError::Subscribe { topics: vec![topic.to_owned()], source: Box::new(source) })?;
    let record = |m: &rdkafka::message::BorrowedMessage<'_>| Record {
        key: m.key().map(<[u8]>::to_vec),
        payload: m.payload().map(<[u8]>::to_vec),
        headers: m
            .headers()
            .map(|h| h.iter().map(|h| (h.key.to_owned(), h.value.map(<[u8]>::to_vec))).collect())
            .unwrap_or_default(),
    };
    let mut got = Vec::new();
    let until = Instant::now() + within;
    while got.len() < want && Instant::now() < until {
        if let Some(Ok(m)) = consumer.poll(Duration::from_millis(200)) {
            got.push(record(&m));
        }
    }
    if let Some(Ok(m)) = consumer.poll(Duration::from_millis(500)) {
        got.push(record(&m));
    }
    Ok(got)
}
