//! `tellonce stream`: partner topics in Kafka through the same validate → govern → pseudonymise
//! stages as files, into the staging dataset, with an exactly-once effect.
//!
//! Messages are read and parsed on the consuming thread and gathered per topic partition into
//! batches that close on size (`max_batch_rows`) or age (`max_batch_ms`). A closed batch goes to
//! its partition's writer thread (`batches`) through a queue one batch deep, and is written as
//! one input:
//! its staging part and quarantine file are named from topic, partition and offset range,
//! published, recorded in the audit log and synced; only when the writer says so are its offsets
//! committed to Kafka.
//! Consumption is at least once; the output is idempotent ([`progress`]): after a crash or a
//! rebalance, messages below the durable offset are skipped and a batch replayed with the same
//! range rewrites the same files, so every record is written exactly once.
//!
//! Several sessions (one consumer group, on one host or on hosts sharing the output's file
//! system) may write one output: each writes only the partitions it holds ([`ownership`]), and
//! all append to the one audit log, which serialises its writers. A session reads what the
//! others committed of a partition from that log when it takes the partition over.
//!
//! A partition revoked in a rebalance loses its open batch (nothing of it was written or
//! committed; the new owner reads it again). SIGINT and SIGTERM close every open batch, write
//! it, commit, and return.

mod batches;
mod cursor;
mod dead_letter;
pub mod latency;
pub mod metrics;
pub mod ownership;
pub use tellonce_governance::audit::stream_progress as progress;
pub mod reset;
mod sweep;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender, TryRecvError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer, ConsumerContext, Rebalance, RebalanceProtocol};
use rdkafka::message::{BorrowedMessage, Headers, Message};
use rdkafka::types::RDKafkaRespErr;
use rdkafka::{ClientContext, Offset, TopicPartitionList};
use serde::Serialize;
use tellonce_connectors::file_source::MessageBatcher;
use tellonce_governance::audit::Event;
use tellonce_schemas::Rule;
use tellonce_schemas::identifiers::dates;
use tracing::{info, warn};

use crate::config::{Settings, StreamSettings};
use crate::run::{Context, RunError};
use crate::stages::govern::{self, Decision};
use batches::{Done, Job, Staging};
use cursor::{Cursor, Step};
use dead_letter::DeadLetters;
use latency::Latencies;
use ownership::Owned;
use sweep::LogProgress;

/// When `stream` stops of its own accord (tests and benchmarks; a service runs until signalled).
#[derive(Debug, Clone, Copy, Default)]
pub struct StreamOptions {
    /// Stop once no message has arrived for this long.
    pub idle_exit: Option<Duration>,
    /// Stop once this many messages have been read.
    pub max_messages: Option<u64>,
}

/// What a stream session did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct StreamReport {
    /// The session's id.
    pub run_id: String,
    /// Messages received.
    pub received: u64,
    /// Messages below the durable offset (written before), skipped.
    pub skipped: u64,
    /// Messages dropped with a revoked (or repositioned) partition's open batch, uncommitted:
    /// read again by its new owner.
    pub dropped_on_revoke: u64,
    /// Offsets the broker, asked from the offset the output needed next, answered past: absent
    /// from its log (retention, compaction, transaction markers), never to be had.
    pub missing_upstream: u64,
    /// Messages dropped because they came past the offset the output needed next (a fetch
    /// position ahead of what it holds); the partition was sought back and they were read
    /// again in order.
    pub refetched: u64,
    /// Messages dropped uncommitted because their topic's agreement ended during the session:
    /// read again once an agreement is in force.
    pub dropped_on_hold: u64,
    /// Records written to staging.
    pub written: u64,
    /// Records quarantined.
    pub quarantined: u64,
    /// Quarantined records also sent, sealed, to the dead-letter topic.
    pub dead_lettered: u64,
    /// Batches written.
    pub batches: u64,
    /// Files written (staging and quarantine).
    pub files: u64,
    /// Median and 99th percentile milliseconds from a batch's first message to its commit.
    pub batch_latency_ms: (u64, u64),
    /// Median, 99th percentile and longest milliseconds from each message's timestamp (set by
    /// its producer, or by the broker where the topic says so) to its batch being durable.
    /// Clocks of other hosts skew it.
    pub produce_to_durable_ms: (u64, u64, u64),
    /// Topics held (no agreement in force), with why.
    pub held: Vec<String>,
    /// Why the session stopped.
    pub stopped: String,
    /// Milliseconds from each batch's first message to its commit.
    #[serde(skip)]
    batch_latency: Latencies,
    /// Milliseconds from each message's timestamp to its batch being durable.
    #[serde(skip)]
    durable_latency: Latencies,
}

/// Rebalance notes from librdkafka's callbacks, read by the loop after each poll.
#[derive(Default)]
struct Rebalances {
    /// The output directory, whose audit log says where each assigned partition starts.
    out: std::path::PathBuf,
    /// The committed batches as far as the callbacks have read the audit log.
    positions: Mutex<LogProgress>,
    revoked: Mutex<Vec<(String, i32)>>,
    /// The partitions assigned now: a message of any other (fetched before its partition was
    /// revoked) is not this session's to write.
    assignment: Mutex<HashSet<(String, i32)>>,
    /// When partitions were last assigned or revoked: a session is not idle while its group
    /// rebalances.
    rebalanced: Mutex<Option<Instant>>,
    /// Messages behind the high watermark over the assigned partitions, from the last
    /// statistics.
    lag: Mutex<Option<i64>>,
}

impl ClientContext for Rebalances {
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

impl Rebalances {
    fn new(out: &std::path::Path) -> Rebalances {
        Rebalances { out: out.to_owned(), ..Rebalances::default() }
    }

    /// Sets where each newly assigned partition starts: at its last durable offset, as the
    /// audit log records it, or at the start of the log if it has none. The group's committed
    /// offsets are Kafka's, not this output's, and may lie past what it holds (a new output
    /// read by an old group; a topic reset in the audit log). One message back, where a
    /// committed batch ends, so that its recorded timestamp can tell a recreated topic from the
    /// one written. If the log cannot be read, the group's offsets stand (nothing is written
    /// twice from them; the sessions's own read of the log then reports the problem).
    fn start_at_durable(&self, consumer: &BaseConsumer<Self>, tpl: &mut TopicPartitionList) {
        let Ok(mut log) = self.positions.lock() else { return };
        if let Err(e) = log.refresh_dir(&self.out) {
            warn!("cannot read the audit log to place the assigned partitions: {e}");
            return;
        }
        let keys: Vec<(String, i32)> = tpl.elements().iter().map(|e| (e.topic().to_owned(), e.partition())).collect();
        for (topic, partition) in keys {
            let durable = log.progress.next(&topic, partition);
            // A log that ends below the durable offset (a recreated topic, or a broker whose
            // reported end is wrong: tansu 0.6 reports less than it holds) keeps the
            // group's position: the session's checks on its messages then decide, and a
            // position past the durable offset is sought back from ([`cursor`]).
            let short = durable > 0
                && consumer
                    .fetch_watermarks(&topic, partition, Duration::from_secs(2))
                    .is_ok_and(|(_, high)| u64::try_from(high).is_ok_and(|h| h < durable));
            if short {
                continue;
            }
            let offset = match durable.checked_sub(1).and_then(|o| i64::try_from(o).ok()) {
                Some(o) => Offset::Offset(o),
                None => Offset::Beginning,
            };
            if let Err(e) = tpl.set_partition_offset(&topic, partition, offset) {
                warn!(%topic, partition, "cannot place the partition at its durable offset: {e}");
            }
        }
    }

    fn note_rebalance(&self) {
        if let Ok(mut at) = self.rebalanced.lock() {
            *at = Some(Instant::now());
        }
    }
}

impl ConsumerContext for Rebalances {
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
        let keys: Vec<(String, i32)> = match rebalance {
            Rebalance::Revoke(list) => list.elements().iter().map(|e| (e.topic().to_owned(), e.partition())).collect(),
            // librdkafka unassigns everything after a failed rebalance: so must the session,
            // or its partition locks would keep the next owners waiting.
            Rebalance::Error(e) => {
                warn!("rebalance failed, every partition given up: {e}");
                self.assignment.lock().map(|a| a.iter().cloned().collect()).unwrap_or_default()
            }
            Rebalance::Assign(_) => Vec::new(),
        };
        if !keys.is_empty() {
            info!(partitions = ?keys, "partitions revoked");
            self.note_rebalance();
            if let Ok(mut assignment) = self.assignment.lock() {
                for k in &keys {
                    assignment.remove(k);
                }
            }
            if let Ok(mut revoked) = self.revoked.lock() {
                revoked.extend(keys);
            }
        }
    }

    fn post_rebalance(&self, _consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Assign(list) = rebalance
            && list.count() > 0
        {
            let keys: Vec<(String, i32)> =
                list.elements().iter().map(|e| (e.topic().to_owned(), e.partition())).collect();
            info!(partitions = ?keys, "partitions assigned");
            if let Ok(mut assignment) = self.assignment.lock() {
                assignment.extend(keys);
            }
            self.note_rebalance();
        }
    }
}

/// One topic partition's open batch.
struct Open {
    batcher: MessageBatcher,
    opened: Instant,
    last_offset: Option<u64>,
    /// The messages' timestamps (milliseconds since 1970), where they carry one.
    timestamps: Vec<i64>,
    /// The timestamps of its first and last message, where they carry one.
    ends: (Option<i64>, Option<i64>),
}

/// Builds the consumer: tellonce's settings first, then the deployment's properties.
fn consumer(s: &StreamSettings, out: &std::path::Path) -> Result<BaseConsumer<Rebalances>, RunError> {
    let mut config = ClientConfig::new();
    config
        .set("bootstrap.servers", &s.brokers)
        .set("group.id", &s.group_id)
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
    for (k, v) in &s.properties {
        config.set(k, v);
    }
    config
        .create_with_context(Rebalances::new(out))
        .map_err(|e| RunError::Stream(format!("cannot create the Kafka consumer for {}: {e}", s.brokers)))
}

/// Consumes the configured topics until stopped; see the module documentation.
pub fn stream(settings: &Settings, opts: &StreamOptions, stop: &AtomicBool) -> Result<StreamReport, RunError> {
    let Some(st) = settings.stream.as_ref() else {
        return Err(RunError::Stream("the config has no [stream] section".to_owned()));
    };
    let today = dates::today();
    let ctx = Context::open(
        settings,
        "stream",
        tellonce_output::lock::Access::Stream,
        today,
        true,
        &crate::progress::Silent,
    )?;
    let mut report = StreamReport { run_id: ctx.run_id.clone(), ..StreamReport::default() };
    let mut log = LogProgress::default();
    sweep::sweep_unowned(&ctx, &mut log)?;
    let mut topics: HashMap<String, Arc<Staging>> = HashMap::new();
    for t in &st.topics {
        match govern::decide(&ctx.agreements, t.feed, today, today) {
            Decision::Process(policy) => {
                topics.insert(t.topic.clone(), Arc::new(Staging::new(&ctx, &t.topic, t.feed, policy)));
            }
            Decision::Hold { rule, reason } => {
                // Fail closed: the topic is not consumed, so its messages wait in Kafka.
                warn!(topic = %t.topic, "not consumed: {reason} [{rule}]");
                report.held.push(format!("{}: {reason} [{rule}]", t.topic));
                ctx.audit(&Event::InputHeld {
                    feed: t.feed.name.to_owned(),
                    input: format!("kafka:{}", t.topic),
                    sha256: String::new(),
                    reason: format!("{reason} [{rule}]"),
                })?;
            }
        }
    }
    ctx.audit_sync()?;
    if topics.is_empty() {
        report.stopped = "no topic has an agreement in force".to_owned();
        finish(&ctx, &report, None)?;
        return Ok(report);
    }
    let consumer = consumer(st, &settings.output_dir)?;
    let dead_letters = DeadLetters::new(st)?;
    let dead = dead_letters.as_ref();
    let names: Vec<&str> = st.topics.iter().map(|t| t.topic.as_str()).filter(|t| topics.contains_key(*t)).collect();
    consumer.subscribe(&names).map_err(|e| RunError::Stream(format!("cannot subscribe to {names:?}: {e}")))?;
    info!(topics = ?names, brokers = %st.brokers, group = %st.group_id, "streaming");

    let endpoint = match &st.metrics_address {
        None => None,
        Some(a) => {
            let listener = metrics::bind(a)
                .map_err(|e| RunError::Stream(format!("cannot serve metrics on {a} (stream.metrics_address): {e}")))?;
            info!(address = ?listener.local_addr().ok(), "serving Prometheus metrics at /metrics");
            Some(listener)
        }
    };
    let gauges = metrics::Metrics::default();
    let endpoint_stop = AtomicBool::new(false);
    // Writers of their own partitions' batches (so that each partition's batches are written in
    // order), each with one batch queued behind the one it is writing: memory stays bounded
    // however fast messages come, and reading waits while the writers catch up.
    let writers = batches::writers(settings.workers);
    let (done_tx, done) = mpsc::channel();
    let ctx = &ctx;
    // Outlives the writer threads: a partition is given up only once no writer of this session
    // can still be writing a batch of it, even when the session fails.
    let mut owned = Owned::default();
    let outcome = std::thread::scope(|scope| {
        let mut jobs = Vec::with_capacity(writers);
        for i in 0..writers {
            let (job_tx, job_rx) = mpsc::sync_channel::<Job>(1);
            let done_tx = done_tx.clone();
            std::thread::Builder::new()
                .name(format!("stream-writer-{i}"))
                .spawn_scoped(scope, move || batches::work(ctx, dead, job_rx, done_tx))
                .map_err(|e| RunError::Stream(format!("cannot start a batch writer: {e}")))?;
            jobs.push(job_tx);
        }
        drop(done_tx);
        if let Some(listener) = &endpoint {
            let (gauges, endpoint_stop) = (&gauges, &endpoint_stop);
            std::thread::Builder::new()
                .name("stream-metrics".to_owned())
                .spawn_scoped(scope, move || metrics::serve(listener, gauges, endpoint_stop))
                .map_err(|e| RunError::Stream(format!("cannot start the metrics endpoint: {e}")))?;
        }
        let mut session = Session {
            ctx,
            settings: st,
            consumer: &consumer,
            topics,
            open: BTreeMap::new(),
            log,
            owned: &mut owned,
            cursors: HashMap::new(),
            in_flight: 0,
            commits: HashMap::new(),
            jobs,
            writer_of: HashMap::new(),
            done,
            report: &mut report,
            metrics: &gauges,
        };
        let stopped = session.run(opts, stop).and_then(|stopped| session.finish_all().map(|()| stopped));
        session.publish();
        // The endpoint stops with the session, whichever way it ends.
        endpoint_stop.store(true, Ordering::Relaxed);
        stopped
    });
    let stopped = outcome?;
    report.batch_latency_ms = (report.batch_latency.percentile(0.5), report.batch_latency.percentile(0.99));
    let d = &report.durable_latency;
    report.produce_to_durable_ms = (d.percentile(0.5), d.percentile(0.99), d.max());
    report.stopped = stopped;
    finish(ctx, &report, Some(&consumer))?;
    drop(owned);
    Ok(report)
}

/// The writer for a partition not yet given one: the one writing for the fewest partitions
/// (`None` if there is no writer), so that partitions spread over the writers whatever their
/// names.
fn least_loaded(given: &HashMap<(String, i32), usize>, writers: usize) -> Option<usize> {
    let mut load = vec![0usize; writers];
    for &w in given.values() {
        if let Some(l) = load.get_mut(w) {
            *l += 1;
        }
    }
    (0..writers).min_by_key(|&w| load[w])
}

/// A session's state on the consuming thread.
struct Session<'s, 'c> {
    ctx: &'s Context<'c>,
    settings: &'s StreamSettings,
    consumer: &'s BaseConsumer<Rebalances>,
    topics: HashMap<String, Arc<Staging>>,
    open: BTreeMap<(String, i32), Open>,
    log: LogProgress,
    owned: &'s mut Owned,
    /// The next offset to take of each partition taken over: below it, a message is written,
    /// being written or in the open batch, whatever the audit log says yet.
    cursors: HashMap<(String, i32), Cursor>,
    /// Batches handed to the writer and not yet answered.
    in_flight: usize,
    /// The offset committed to Kafka last, by partition.
    commits: HashMap<(String, i32), i64>,
    /// The writers' queues; a partition's batches always go to the same one.
    jobs: Vec<SyncSender<Job>>,
    /// The writer of each partition held, so that its batches are made durable in order.
    writer_of: HashMap<(String, i32), usize>,
    done: Receiver<Result<Done, RunError>>,
    report: &'s mut StreamReport,
    metrics: &'s metrics::Metrics,
}

impl Session<'_, '_> {
    /// Shows the counts so far on the metrics endpoint.
    fn publish(&self) {
        self.metrics.publish(self.report, self.consumer.context().lag.lock().ok().and_then(|l| *l));
    }

    /// Reads until stopped; returns why it stopped.
    fn run(&mut self, opts: &StreamOptions, stop: &AtomicBool) -> Result<String, RunError> {
        let mut last_message = Instant::now();
        let mut last_stats = (Instant::now(), 0u64);
        let max_age = Duration::from_millis(self.settings.max_batch_ms);
        loop {
            if stop.load(Ordering::Relaxed) {
                return Ok("signalled".to_owned());
            }
            let polled = self.consumer.poll(Duration::from_millis(50));
            self.collect_done(false)?;
            self.drop_revoked()?;
            let mut full = None;
            match polled {
                None => {}
                Some(Err(e)) => warn!("kafka: {e}"),
                Some(Ok(m)) => {
                    last_message = Instant::now();
                    full = self.take_message(&m)?;
                }
            }
            // Full batches, and those that have waited long enough however few messages they hold.
            let mut due: Vec<(String, i32)> =
                self.open.iter().filter(|(_, o)| o.opened.elapsed() >= max_age).map(|(k, _)| k.clone()).collect();
            due.extend(full);
            for key in due {
                if let Some(reason) = self.close(&key)? {
                    return Ok(reason);
                }
            }
            self.publish();
            if last_stats.0.elapsed() >= Duration::from_secs(10) {
                let secs = last_stats.0.elapsed().as_secs_f64();
                let rate = (self.report.received - last_stats.1) as f64 / secs.max(0.001);
                info!(
                    received = self.report.received,
                    written = self.report.written,
                    quarantined = self.report.quarantined,
                    records_per_s = rate as u64,
                    lag = self.consumer.context().lag.lock().ok().and_then(|l| *l).unwrap_or(-1),
                    produce_to_durable_p99_ms = self.report.durable_latency.percentile(0.99),
                    "stream progress"
                );
                last_stats = (Instant::now(), self.report.received);
            }
            if opts.max_messages.is_some_and(|n| self.report.received >= n) {
                return Ok(format!("read {} messages", self.report.received));
            }
            // Idle counts from the last message or the last rebalance (assignment or
            // revocation), whichever is later: joining the group, a rebalance and the first
            // fetch take a while.
            if let Some(d) = opts.idle_exit.filter(|_| self.open.is_empty() && self.in_flight == 0) {
                let rebalanced = self.consumer.context().rebalanced.lock().ok().and_then(|a| *a);
                match rebalanced {
                    Some(at) if last_message.elapsed() >= d && at.elapsed() >= d => return Ok("idle".to_owned()),
                    None if last_message.elapsed() >= Duration::from_secs(60) => {
                        return Ok("no partition assigned within 60 s".to_owned());
                    }
                    _ => {}
                }
            }
        }
    }

    /// Drops the open batches of revoked partitions (their new owner reads them again from the
    /// committed offset), waits for batches of theirs being written to be recorded, and only
    /// then gives their locks up.
    fn drop_revoked(&mut self) -> Result<(), RunError> {
        let revoked: Vec<(String, i32)> =
            self.consumer.context().revoked.lock().map(|mut r| std::mem::take(&mut *r)).unwrap_or_default();
        if revoked.is_empty() {
            return Ok(());
        }
        for key in &revoked {
            if let Some(o) = self.open.remove(key) {
                self.report.dropped_on_revoke += o.batcher.len() as u64;
            }
        }
        self.collect_done(true)?;
        for key in revoked {
            self.cursors.remove(&key);
            self.commits.remove(&key);
            // Nothing of it is being written any more (collected above): it may move.
            self.writer_of.remove(&key);
            self.owned.release(&key.0, key.1);
        }
        Ok(())
    }

    /// Adds one message to its partition's open batch; returns the partition if that batch is
    /// now full.
    fn take_message(&mut self, m: &BorrowedMessage<'_>) -> Result<Option<(String, i32)>, RunError> {
        self.report.received += 1;
        let key = (m.topic().to_owned(), m.partition());
        let Ok(offset) = u64::try_from(m.offset()) else { return Ok(None) };
        if !self.consumer.context().assignment.lock().is_ok_and(|a| a.contains(&key)) {
            self.report.dropped_on_revoke += 1;
            return Ok(None);
        }
        if !self.owned.holds(&key.0, key.1) {
            // The partition's first message since it was assigned.
            self.take_over(&key)?;
            self.cursors.insert(key.clone(), Cursor::new(self.log.progress.next(&key.0, key.1)));
        }
        let durable = self.log.progress.next(&key.0, key.1);
        if offset < durable {
            self.check_same_message(&key, offset, m.timestamp().to_millis())?;
        }
        let Some(feed) = self.topics.get(&key.0).map(|t| t.source.feed) else {
            return Err(RunError::Internal(format!("a message of topic {}, which the session does not read", key.0)));
        };
        if !self.in_order(&key, offset)? {
            return Ok(None);
        }
        let st = self.settings;
        let entry = self.open.entry(key.clone()).or_insert_with(|| Open {
            batcher: MessageBatcher::new(
                feed,
                format!("kafka:{}/{}", key.0, key.1),
                st.max_batch_rows,
                st.max_message_bytes,
            ),
            opened: Instant::now(),
            last_offset: None,
            timestamps: Vec::new(),
            ends: (m.timestamp().to_millis(), None),
        });
        entry.last_offset = Some(offset);
        entry.timestamps.extend(m.timestamp().to_millis());
        entry.ends.1 = m.timestamp().to_millis();
        match declared_version(m) {
            Some(v) if v != feed.version => {
                entry.batcher.reject(offset, Rule::SchemaVersionUnknown, m.payload().unwrap_or_default());
            }
            _ => entry.batcher.push(offset, m.payload()),
        }
        tellonce_output::faults::reached(tellonce_output::faults::STREAM_MESSAGE);
        Ok(entry.batcher.is_full().then_some(key))
    }

    /// Whether the message at `offset` is the next one `key`'s open batch must take. Below it,
    /// it is skipped (held already); past it, it is dropped and the partition sought back, until
    /// the broker shows it has nothing between ([`cursor`]).
    fn in_order(&mut self, key: &(String, i32), offset: u64) -> Result<bool, RunError> {
        let Some(cursor) = self.cursors.get_mut(key) else {
            return Err(RunError::Internal(format!("partition {}/{} has no cursor although held", key.0, key.1)));
        };
        let needed = cursor.next();
        match cursor.step(offset, Instant::now()) {
            Step::Skip => self.report.skipped += 1,
            Step::Stale => self.report.refetched += 1,
            Step::SeekBack(to) => {
                self.report.refetched += 1;
                info!(topic = %key.0, partition = key.1, "offset {offset} came where {needed} was needed: seeking to {to}");
                let at = Offset::Offset(i64::try_from(to).unwrap_or(i64::MAX));
                self.consumer.seek(&key.0, key.1, at, Duration::from_secs(10)).map_err(|e| {
                    RunError::Stream(format!(
                        "partition {}/{}: cannot seek back to offset {to}, the next one the output needs: {e}; \
                         stopping with its open batch uncommitted",
                        key.0, key.1
                    ))
                })?;
            }
            Step::Take { missing } => {
                if missing > 0 {
                    warn!(
                        topic = %key.0,
                        partition = key.1,
                        "offsets {needed} to {} are not on the broker (retention, compaction or transaction markers): \
                         asked from {needed}, it answered from {offset}; this output never had those messages",
                        offset - 1
                    );
                    self.report.missing_upstream += missing;
                    self.ctx.audit(&Event::StreamOffsetsMissing {
                        run: self.ctx.run_id.clone(),
                        topic: key.0.clone(),
                        partition: key.1,
                        first_offset: needed,
                        last_offset: offset - 1,
                        epoch: self.log.progress.epoch(&key.0),
                    })?;
                }
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Takes a partition over: its lock (waiting for a session still writing a batch of it),
    /// what other sessions wrote of it, and the recreated-topic check.
    fn take_over(&mut self, key: &(String, i32)) -> Result<(), RunError> {
        self.owned.claim(&self.ctx.settings.output_dir, &key.0, key.1, ownership::CLAIM_TIMEOUT)?;
        // Now no other session writes this partition: learn what they wrote of it, and clear
        // away any batch one of them left unrecorded.
        sweep::sweep_partition(self.ctx, &mut self.log, &key.0, key.1)?;
        self.check_not_recreated(key)
    }

    /// Refuses a partition whose log ends below what the audit log records as durable: the
    /// topic was deleted and made again (or its log cut), and its new messages, numbered from
    /// the start again, would be skipped as written. Fail closed: the session stops and says so.
    fn check_not_recreated(&self, key: &(String, i32)) -> Result<(), RunError> {
        let durable = self.log.progress.next(&key.0, key.1);
        if durable == 0 {
            return Ok(());
        }
        match self.consumer.fetch_watermarks(&key.0, key.1, Duration::from_secs(10)) {
            Ok((_, high)) if u64::try_from(high).is_ok_and(|h| h < durable) => Err(RunError::Stream(format!(
                "partition {}/{} ends at offset {high}, but the audit log records offsets up to {} as written: \
                 the topic was recreated or its log cut, and its messages would be skipped as already written; \
                 stop every stream session of this output and run `tellonce stream-reset --topic {} --reason ...` \
                 to read it afresh",
                key.0,
                key.1,
                durable - 1,
                key.0
            ))),
            Ok(_) => Ok(()),
            Err(e) => {
                // A check that cannot be made must not stop the stream; the offsets still only
                // rise from here.
                warn!(topic = %key.0, partition = key.1, "cannot check the partition's end offset: {e}");
                Ok(())
            }
        }
    }

    /// Refuses a message skipped as durable whose timestamp is not the one recorded for the
    /// committed batch that begins or ends at its offset: the topic was recreated and has already
    /// grown past the durable offset (which [`check_not_recreated`](Self::check_not_recreated)
    /// cannot see), so its messages are not the ones written, and skipping them would lose them.
    fn check_same_message(&self, key: &(String, i32), offset: u64, timestamp: Option<i64>) -> Result<(), RunError> {
        let (Some(recorded), Some(now)) = (self.log.progress.timestamp_at(&key.0, key.1, offset), timestamp) else {
            return Ok(());
        };
        if recorded == now {
            return Ok(());
        }
        Err(RunError::Stream(format!(
            "partition {}/{} offset {offset} has timestamp {now}, but the batch the audit log records as written \
             there had a message of timestamp {recorded}: the topic was recreated, and its messages would be \
             skipped as already written; stop every stream session of this output and run \
             `tellonce stream-reset --topic {} --reason ...` to read it afresh",
            key.0, key.1, key.0
        )))
    }

    /// Closes the open batch of `key`: hands it to the writer, or, if its topic's agreement is no
    /// longer in force, drops it uncommitted and returns why (the session then stops: fail
    /// closed).
    fn close(&mut self, key: &(String, i32)) -> Result<Option<String>, RunError> {
        let (Some(o), Some(t)) = (self.open.remove(key), self.topics.get_mut(&key.0)) else { return Ok(None) };
        // The agreement is judged for every batch, so that one ending mid-session stops its data
        // and each file's retention runs from the day it is written.
        let today = dates::today();
        let feed = t.source.feed;
        match govern::decide(&self.ctx.agreements, feed, today, today) {
            Decision::Process(policy) => {
                if policy.agreement != t.policy.agreement || policy.retention_until != t.policy.retention_until {
                    *t = Arc::new(Staging::new(self.ctx, &key.0, feed, policy));
                }
            }
            Decision::Hold { rule, reason } => {
                self.report.dropped_on_hold += o.batcher.len() as u64;
                let why = format!("{}: {reason} [{rule}]", key.0);
                warn!("stopping: {why}");
                self.ctx.audit(&Event::InputHeld {
                    feed: feed.name.to_owned(),
                    input: format!("kafka:{}", key.0),
                    sha256: String::new(),
                    reason: format!("{reason} [{rule}]"),
                })?;
                self.ctx.audit_sync()?;
                self.report.held.push(why.clone());
                return Ok(Some(format!("agreement no longer in force for {why}")));
            }
        }
        let job = Job {
            key: key.clone(),
            batcher: o.batcher,
            staging: t.clone(),
            opened: o.opened,
            timestamps: o.timestamps,
            ends: o.ends,
            epoch: self.log.progress.epoch(&key.0),
        };
        let writer = match self.writer_of.get(key) {
            Some(&w) => Some(w),
            None => least_loaded(&self.writer_of, self.jobs.len()).inspect(|&w| {
                self.writer_of.insert(key.clone(), w);
            }),
        };
        let sent = writer.and_then(|i| self.jobs.get(i)).is_some_and(|w| w.send(job).is_ok());
        if !sent {
            // The writer stopped: it answered with why.
            return self.collect_done(true).map(|()| Some("the batch writer stopped".to_owned()));
        }
        self.in_flight += 1;
        Ok(None)
    }

    /// Takes the writer's answers: every one outstanding if `wait`, else those ready. Each
    /// durable batch is noted as committed and its offsets are committed to Kafka.
    fn collect_done(&mut self, wait: bool) -> Result<(), RunError> {
        while self.in_flight > 0 {
            let answer = if wait {
                match self.done.recv() {
                    Ok(a) => a,
                    Err(_) => return Err(RunError::Internal("the batch writer stopped without an answer".to_owned())),
                }
            } else {
                match self.done.try_recv() {
                    Ok(a) => a,
                    Err(TryRecvError::Empty) => return Ok(()),
                    Err(TryRecvError::Disconnected) => {
                        return Err(RunError::Internal("the batch writer stopped without an answer".to_owned()));
                    }
                }
            };
            self.in_flight -= 1;
            self.committed(answer?)?;
        }
        Ok(())
    }

    /// Notes a durable batch and commits its offsets.
    fn committed(&mut self, done: Done) -> Result<(), RunError> {
        let Some((first, last)) = done.range else { return Ok(()) };
        let key = &done.key;
        self.log.progress.commit(progress::BatchName {
            topic: key.0.clone(),
            partition: key.1,
            epoch: done.epoch,
            first,
            last,
        });
        for ts in &done.timestamps {
            self.report.durable_latency.record(u64::try_from(done.durable_ms - ts).unwrap_or(0));
        }
        self.report.batch_latency.record(done.batch_ms);
        self.report.batches += 1;
        self.report.written += done.written;
        self.report.quarantined += done.quarantined;
        self.report.dead_lettered += done.dead_lettered;
        self.report.files += done.files;
        self.metrics.publish_latency(self.report);
        // A partition revoked meanwhile is no longer this session's to commit: its new owner
        // learns from the audit log that the batch is durable.
        if !self.consumer.context().assignment.lock().is_ok_and(|a| a.contains(key)) {
            return Ok(());
        }
        tellonce_output::faults::reached(tellonce_output::faults::STREAM_BATCH_RECORDED);
        let mut tpl = TopicPartitionList::new();
        tpl.add_partition_offset(&key.0, key.1, Offset::Offset(last as i64 + 1))
            .map_err(|e| RunError::Stream(e.to_string()))?;
        self.commits.insert(key.clone(), last as i64 + 1);
        // The records are durable whatever happens to the commit: a failed commit costs a
        // re-read (skipped below the durable offset), not a duplicate. So it does not wait for
        // the broker's answer, which would hold up reading.
        if let Err(e) = self.consumer.commit(&tpl, CommitMode::Async) {
            warn!(topic = %key.0, partition = key.1, "offset commit failed (the batch is durable): {e}");
        }
        Ok(())
    }

    /// Hands every open batch to the writer, waits until all are durable and committed, and
    /// stops the writer.
    fn finish_all(&mut self) -> Result<(), RunError> {
        let keys: Vec<(String, i32)> = self.open.keys().cloned().collect();
        for key in keys {
            // A batch whose agreement has ended is dropped uncommitted (and counted); the
            // others are written.
            self.close(&key)?;
        }
        self.collect_done(true)?;
        self.jobs.clear();
        // Once more, waiting this time, so that the next session does not re-read (and skip)
        // what an unanswered commit left behind.
        let assignment = self.consumer.context().assignment.lock().map(|a| a.clone()).unwrap_or_default();
        let mut tpl = TopicPartitionList::new();
        for (key, offset) in self.commits.iter().filter(|(k, _)| assignment.contains(*k)) {
            tpl.add_partition_offset(&key.0, key.1, Offset::Offset(*offset))
                .map_err(|e| RunError::Stream(e.to_string()))?;
        }
        if tpl.count() > 0
            && let Err(e) = self.consumer.commit(&tpl, CommitMode::Sync)
        {
            warn!("offset commit failed (the batches are durable): {e}");
        }
        Ok(())
    }
}

/// The schema version a message declares in a `schema_version` header, if any.
fn declared_version(m: &rdkafka::message::BorrowedMessage<'_>) -> Option<u32> {
    let headers = m.headers()?;
    headers
        .iter()
        .find(|h| h.key == "schema_version")
        .and_then(|h| h.value)
        .and_then(|v| std::str::from_utf8(v).ok())
        // A header that is not a number declares no version that exists.
        .map(|v| v.trim().parse().unwrap_or(u32::MAX))
}

/// Records the end of the session in the audit log.
fn finish(
    ctx: &Context<'_>,
    report: &StreamReport,
    consumer: Option<&BaseConsumer<Rebalances>>,
) -> Result<(), RunError> {
    if let Some(c) = consumer {
        c.unsubscribe();
    }
    ctx.audit(&Event::RunFinished {
        run: ctx.run_id.clone(),
        status: "finished".to_owned(),
        received: report.received
            - report.skipped
            - report.refetched
            - report.dropped_on_revoke
            - report.dropped_on_hold,
        written: report.written,
        quarantined: report.quarantined,
        held: report.held.len() as u64,
    })?;
    ctx.audit_sync()
}

/// A flag set by SIGINT or SIGTERM.
pub fn stop_on_signal() -> Result<Arc<AtomicBool>, RunError> {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    ctrlc::set_handler(move || flag.store(true, Ordering::Relaxed))
        .map_err(|e| RunError::Stream(format!("cannot handle SIGINT/SIGTERM: {e}")))?;
    Ok(stop)
}

#[cfg(test)]
mod tests;
