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
mod ending;
mod feed_lock;
pub mod latency;
pub mod metrics;
pub mod ownership;
pub use tellonce_governance::audit::stream_progress as progress;
pub mod error;
mod report;
pub mod reset;
pub mod settings;
mod sweep;
mod unassigned;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender, TryRecvError};
use std::time::{Duration, Instant};

use tellonce_connectors::file_source::MessageBatcher;
use tellonce_connectors::mapping::Mapping;
use tellonce_governance::audit::Event;
use tellonce_kafka::{Consumer, ConsumerSettings, DeadLetterError, DeadLetters, KafkaError, Message, TopicPartition};
use tellonce_schemas::Rule;
use tellonce_schemas::identifiers::dates;
use tracing::{info, warn};

use crate::config::{Settings, StreamSettings};
use crate::run::{Context, RunError};
use crate::stages::govern::{self, Decision};
use crate::stream::error::StreamError;
use batches::{Done, Job, Staging};
use cursor::{Cursor, Step};
use ownership::Owned;
pub use report::{StreamOptions, StreamReport};
use sweep::{AuditStarts, LogProgress};

use ending::finish;
pub use ending::stop_on_signal;

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

/// Builds the consumer: tellonce's settings first, then the deployment's properties; each
/// partition it is assigned starts where the output's audit log says.
fn consumer(s: &StreamSettings, out: &std::path::Path) -> Result<Consumer<AuditStarts>, RunError> {
    let settings = ConsumerSettings { brokers: &s.brokers, group_id: &s.group_id, properties: &s.properties };
    Consumer::new(&settings, AuditStarts::new(out)).map_err(kafka)
}

/// A Kafka failure as the run's error: the brokers, topic or partition are in its text.
fn kafka(e: KafkaError) -> RunError {
    RunError::Stream(e.into())
}

/// A dead-letter failure as the run's error: the batch it belongs to is not committed.
fn dead_letter(e: DeadLetterError) -> RunError {
    match e {
        // Encoding an entry cannot fail: a bug.
        DeadLetterError::Encode { .. } => RunError::Internal(e.to_string()),
        e => RunError::Stream(e.into()),
    }
}

/// Consumes the configured topics until stopped; see the module documentation.
pub fn stream(settings: &Settings, opts: &StreamOptions, stop: &AtomicBool) -> Result<StreamReport, RunError> {
    let Some(st) = settings.stream.as_ref() else {
        return Err(StreamError::NotConfigured.into());
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
    let topics = topics_in_force(&ctx, st, today, &mut report)?;
    ctx.audit_sync()?;
    if topics.is_empty() {
        report.stopped = "no topic has an agreement in force".to_owned();
        finish(&ctx, &report, None)?;
        return Ok(report);
    }
    let consumer = consumer(st, &settings.output_dir)?;
    let dead_letters = match &st.dead_letter_topic {
        Some(topic) => Some(DeadLetters::new(&st.brokers, &st.properties, topic).map_err(dead_letter)?),
        None => None,
    };
    let dead = dead_letters.as_ref();
    let names: Vec<&str> = st.topics.iter().map(|t| t.topic.as_str()).filter(|t| topics.contains_key(*t)).collect();
    consumer.subscribe(&names).map_err(kafka)?;
    info!(topics = ?names, brokers = %st.brokers, group = %st.group_id, "streaming");

    let endpoint = metrics_endpoint(st)?;
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
    let holdings = feed_lock::Holdings::default();
    let holdings = &holdings;
    let outcome = std::thread::scope(|scope| {
        let mut jobs = Vec::with_capacity(writers);
        for i in 0..writers {
            let (job_tx, job_rx) = mpsc::sync_channel::<Job>(1);
            let done_tx = done_tx.clone();
            std::thread::Builder::new()
                .name(format!("stream-writer-{i}"))
                .spawn_scoped(scope, move || batches::work(ctx, dead, holdings, job_rx, done_tx))
                .map_err(|source| StreamError::Thread { what: "a batch writer", source })?;
            jobs.push(job_tx);
        }
        drop(done_tx);
        if let Some(listener) = &endpoint {
            let (gauges, endpoint_stop) = (&gauges, &endpoint_stop);
            std::thread::Builder::new()
                .name("stream-metrics".to_owned())
                .spawn_scoped(scope, move || metrics::serve(listener, gauges, endpoint_stop))
                .map_err(|source| StreamError::Thread { what: "the metrics endpoint", source })?;
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
        let stopped =
            session.run(opts, stop).and_then(|stopped| session.finish_all().map(|answered| (stopped, answered)));
        session.publish();
        // The endpoint stops with the session, whichever way it ends.
        endpoint_stop.store(true, Ordering::Relaxed);
        stopped
    });
    let (stopped, answered) = outcome?;
    report.batch_latency_ms = (report.batch_latency.percentile(0.5), report.batch_latency.percentile(0.99));
    let d = &report.durable_latency;
    report.produce_to_durable_ms = (d.percentile(0.5), d.percentile(0.99), d.max());
    report.stopped = stopped;
    // A broker that did not answer before the last commit would not answer the group's leaving,
    // and librdkafka's close waits for it without a bound: the consumer is then closed on a
    // thread of its own, which ends with the process if the broker never answers, so that a
    // stop asked for ends (the group drops the session when its session times out).
    finish(ctx, &report, answered.then_some(&consumer))?;
    drop(owned);
    if answered {
        drop(consumer);
    } else {
        std::thread::spawn(move || drop(consumer));
    }
    Ok(report)
}

/// The topics whose feed has an agreement in force today, each with its staging; a topic
/// without one is not consumed (fail closed: its messages wait in Kafka), and is reported and
/// audited as held.
fn topics_in_force(
    ctx: &Context<'_>,
    st: &StreamSettings,
    today: i32,
    report: &mut StreamReport,
) -> Result<HashMap<String, Arc<Staging>>, RunError> {
    let mut topics: HashMap<String, Arc<Staging>> = HashMap::new();
    for t in &st.topics {
        // A mapping with any problem stops its topic only (fail closed), as it would a file's source.
        let mapping = t.mapping.as_deref().map(|m| Mapping::load(m, t.feed)).transpose();
        let decision = match &mapping {
            Err(e) => Decision::Hold { rule: e.rule_code(), reason: e.to_string() },
            Ok(_) => govern::decide(&ctx.agreements, t.feed, today, today),
        };
        match decision {
            Decision::Process(policy) => {
                let mapping = mapping.ok().flatten().map(Arc::new);
                let staging = Staging::new(ctx, &t.topic, t.feed, policy, mapping, t.mode);
                topics.insert(t.topic.clone(), Arc::new(staging));
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
    Ok(topics)
}

/// The listener of the Prometheus endpoint, if `stream.metrics_address` is set.
fn metrics_endpoint(st: &StreamSettings) -> Result<Option<std::net::TcpListener>, RunError> {
    Ok(match &st.metrics_address {
        None => None,
        Some(a) => {
            let listener = metrics::bind(a).map_err(|source| StreamError::Metrics { address: a.clone(), source })?;
            info!(address = ?listener.local_addr().ok(), "serving Prometheus metrics at /metrics");
            Some(listener)
        }
    })
}

/// The writer for a partition not yet given one: the one writing for the fewest partitions
/// (`None` if there is no writer), so that partitions spread over the writers whatever their
/// names.
fn least_loaded(given: &HashMap<TopicPartition, usize>, writers: usize) -> Option<usize> {
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
    consumer: &'s Consumer<AuditStarts>,
    topics: HashMap<String, Arc<Staging>>,
    open: BTreeMap<TopicPartition, Open>,
    log: LogProgress,
    owned: &'s mut Owned,
    /// The next offset to take of each partition taken over: below it, a message is written,
    /// being written or in the open batch, whatever the audit log says yet.
    cursors: HashMap<TopicPartition, Cursor>,
    /// Batches handed to the writer and not yet answered.
    in_flight: usize,
    /// The offset committed to Kafka last, by partition.
    commits: HashMap<TopicPartition, u64>,
    /// The writers' queues; a partition's batches always go to the same one.
    jobs: Vec<SyncSender<Job>>,
    /// The writer of each partition held, so that its batches are made durable in order.
    writer_of: HashMap<TopicPartition, usize>,
    done: Receiver<Result<Done, RunError>>,
    report: &'s mut StreamReport,
    metrics: &'s metrics::Metrics,
}

impl Session<'_, '_> {
    /// Shows the counts so far on the metrics endpoint.
    fn publish(&self) {
        self.metrics.publish(self.report, self.consumer.lag());
    }

    /// Reads until stopped; returns why it stopped.
    fn run(&mut self, opts: &StreamOptions, stop: &AtomicBool) -> Result<String, RunError> {
        let mut last_message = Instant::now();
        let mut last_stats = (Instant::now(), 0u64);
        let mut unassigned = unassigned::Unassigned::new();
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
                    full = self.take_message(&m)?;
                    // Taken after: a partition's first message can wait long for another
                    // session to give the partition up, and that wait is not idleness.
                    last_message = Instant::now();
                }
            }
            // Full batches, and those that have waited long enough however few messages they hold.
            let mut due: Vec<TopicPartition> =
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
                    nulled = self.report.nulled,
                    records_per_s = rate as u64,
                    lag = self.consumer.lag().unwrap_or(-1),
                    produce_to_durable_p99_ms = self.report.durable_latency.percentile(0.99),
                    "stream progress"
                );
                last_stats = (Instant::now(), self.report.received);
                unassigned.check(self.consumer);
            }
            if opts.max_messages.is_some_and(|n| self.report.received >= n) {
                return Ok(format!("read {} messages", self.report.received));
            }
            // Idle counts from the last message or the last rebalance (assignment or
            // revocation), whichever is later: joining the group, a rebalance and the first
            // fetch take a while.
            if let Some(d) = opts.idle_exit.filter(|_| self.open.is_empty() && self.in_flight == 0) {
                let rebalanced = self.consumer.last_rebalance();
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
        let revoked = self.consumer.take_revoked();
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
            self.owned.release(&key);
        }
        Ok(())
    }

    /// Adds one message to its partition's open batch; returns the partition if that batch is
    /// now full.
    fn take_message(&mut self, m: &Message<'_>) -> Result<Option<TopicPartition>, RunError> {
        self.report.received += 1;
        let key = m.topic_partition();
        let Ok(offset) = u64::try_from(m.offset()) else { return Ok(None) };
        if !self.consumer.is_assigned(&key) {
            self.report.dropped_on_revoke += 1;
            return Ok(None);
        }
        if !self.owned.holds(&key) {
            // The partition's first message since it was assigned.
            self.take_over(&key)?;
            self.cursors.insert(key.clone(), Cursor::new(self.log.progress.next(&key.topic, key.partition)));
        }
        let durable = self.log.progress.next(&key.topic, key.partition);
        if offset < durable {
            self.check_same_message(&key, offset, m.timestamp_ms())?;
        }
        let Some((feed, mapping)) = self.topics.get(&key.topic).map(|t| (t.source.feed, t.mapping.clone())) else {
            return Err(RunError::Internal(format!(
                "a message of topic {}, which the session does not read",
                key.topic
            )));
        };
        if !self.in_order(&key, offset)? {
            return Ok(None);
        }
        let st = self.settings;
        let entry = self.open.entry(key.clone()).or_insert_with(|| Open {
            batcher: MessageBatcher::with_mapping(
                feed,
                format!("kafka:{key}"),
                st.max_batch_rows,
                st.max_message_bytes,
                mapping,
            ),
            opened: Instant::now(),
            last_offset: None,
            timestamps: Vec::new(),
            ends: (m.timestamp_ms(), None),
        });
        entry.last_offset = Some(offset);
        entry.timestamps.extend(m.timestamp_ms());
        entry.ends.1 = m.timestamp_ms();
        match m.declared_version() {
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
    fn in_order(&mut self, key: &TopicPartition, offset: u64) -> Result<bool, RunError> {
        let Some(cursor) = self.cursors.get_mut(key) else {
            return Err(RunError::Internal(format!("partition {key} has no cursor although held")));
        };
        let needed = cursor.next();
        match cursor.step(offset, Instant::now()) {
            Step::Skip => self.report.skipped += 1,
            Step::Stale => self.report.refetched += 1,
            Step::SeekBack(to) => {
                self.report.refetched += 1;
                info!(topic = %key.topic, partition = key.partition, "offset {offset} came where {needed} was needed: seeking to {to}");
                self.consumer
                    .seek(key, to, Duration::from_secs(10))
                    .map_err(|source| RunError::from(StreamError::Seek { source }))?;
            }
            Step::Take { missing } => {
                if missing > 0 {
                    warn!(
                        topic = %key.topic,
                        partition = key.partition,
                        "offsets {needed} to {} are not on the broker (retention, compaction or transaction markers): \
                         asked from {needed}, it answered from {offset}; this output never had those messages",
                        offset - 1
                    );
                    self.report.missing_upstream += missing;
                    self.ctx.audit(&Event::StreamOffsetsMissing {
                        run: self.ctx.run_id.clone(),
                        topic: key.topic.clone(),
                        partition: key.partition,
                        first_offset: needed,
                        last_offset: offset - 1,
                        epoch: self.log.progress.epoch(&key.topic),
                    })?;
                }
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Takes a partition over: its lock (waiting for a session still writing a batch of it),
    /// what other sessions wrote of it, and the recreated-topic check.
    fn take_over(&mut self, key: &TopicPartition) -> Result<(), RunError> {
        self.owned.claim(&self.ctx.settings.output_dir, key, ownership::CLAIM_TIMEOUT)?;
        // Now no other session writes this partition: learn what they wrote of it, and clear
        // away any batch one of them left unrecorded.
        sweep::sweep_partition(self.ctx, &mut self.log, key)?;
        self.check_not_recreated(key)
    }

    /// Refuses a partition whose log ends below what the audit log records as durable: the
    /// topic was deleted and made again (or its log cut), and its new messages, numbered from
    /// the start again, would be skipped as written. Fail closed: the session stops and says so.
    fn check_not_recreated(&self, key: &TopicPartition) -> Result<(), RunError> {
        let durable = self.log.progress.next(&key.topic, key.partition);
        if durable == 0 {
            return Ok(());
        }
        match self.consumer.watermarks(key, Duration::from_secs(10)) {
            Ok((_, high)) if u64::try_from(high).is_ok_and(|h| h < durable) => {
                Err(StreamError::Recreated { partition: key.clone(), high, last_durable: durable - 1 }.into())
            }
            Ok(_) => Ok(()),
            Err(e) => {
                // A check that cannot be made must not stop the stream; the offsets still only
                // rise from here.
                warn!(topic = %key.topic, partition = key.partition, "{e}");
                Ok(())
            }
        }
    }

    /// Refuses a message skipped as durable whose timestamp is not the one recorded for the
    /// committed batch that begins or ends at its offset: the topic was recreated and has already
    /// grown past the durable offset (which [`check_not_recreated`](Self::check_not_recreated)
    /// cannot see), so its messages are not the ones written, and skipping them would lose them.
    fn check_same_message(&self, key: &TopicPartition, offset: u64, timestamp: Option<i64>) -> Result<(), RunError> {
        let (Some(recorded), Some(now)) =
            (self.log.progress.timestamp_at(&key.topic, key.partition, offset), timestamp)
        else {
            return Ok(());
        };
        if recorded == now {
            return Ok(());
        }
        Err(StreamError::NotTheMessageWritten { partition: key.clone(), offset, now, recorded }.into())
    }

    /// Closes the open batch of `key`: hands it to the writer, or, if its topic's agreement is no
    /// longer in force, drops it uncommitted and returns why (the session then stops: fail
    /// closed).
    fn close(&mut self, key: &TopicPartition) -> Result<Option<String>, RunError> {
        let (Some(o), Some(t)) = (self.open.remove(key), self.topics.get_mut(&key.topic)) else { return Ok(None) };
        // The agreement is judged for every batch, so that one ending mid-session stops its data
        // and each file's retention runs from the day it is written.
        let today = dates::today();
        let feed = t.source.feed;
        match govern::decide(&self.ctx.agreements, feed, today, today) {
            Decision::Process(policy) => {
                if policy.agreement != t.policy.agreement || policy.retention_until != t.policy.retention_until {
                    *t = Arc::new(Staging::new(self.ctx, &key.topic, feed, policy, t.mapping.clone(), t.source.mode));
                }
            }
            Decision::Hold { rule, reason } => {
                self.report.dropped_on_hold += o.batcher.len() as u64;
                let why = format!("{}: {reason} [{rule}]", key.topic);
                // Once a topic: the session stops at the first, and closes its other partitions'
                // batches on the way out, each held for the same reason.
                if self.report.held.contains(&why) {
                    return Ok(Some(format!("agreement no longer in force for {why}")));
                }
                warn!("stopping: {why}");
                self.ctx.audit(&Event::InputHeld {
                    feed: feed.name.to_owned(),
                    input: format!("kafka:{}", key.topic),
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
            epoch: self.log.progress.epoch(&key.topic),
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
            topic: key.topic.clone(),
            partition: key.partition,
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
        self.report.nulled += done.nulled;
        self.report.dead_lettered += done.dead_lettered;
        self.report.files += done.files;
        self.report.versions.add(&done.versions);
        self.report.superseded += done.superseded;
        self.metrics.publish_latency(self.report);
        // A partition revoked meanwhile is no longer this session's to commit: its new owner
        // learns from the audit log that the batch is durable.
        if !self.consumer.is_assigned(key) {
            return Ok(());
        }
        tellonce_output::faults::reached(tellonce_output::faults::STREAM_BATCH_RECORDED);
        self.commits.insert(key.clone(), last + 1);
        // The records are durable whatever happens to the commit: a failed commit costs a
        // re-read (skipped below the durable offset), not a duplicate. So it does not wait for
        // the broker's answer, which would hold up reading.
        match self.consumer.commit(&[(key.clone(), last + 1)], false) {
            Err(e @ KafkaError::Commit { .. }) => {
                warn!(topic = %key.topic, partition = key.partition, "{e} (the batch is durable)");
                Ok(())
            }
            done => done.map_err(kafka),
        }
    }

    /// Hands every open batch to the writer, waits until all are durable and committed, and
    /// stops the writer. Returns whether the broker answered; when it did not within
    /// [`ending::FINAL_COMMIT_WAIT`], the last commit is not sent (its wait would have no bound).
    fn finish_all(&mut self) -> Result<bool, RunError> {
        let keys: Vec<TopicPartition> = self.open.keys().cloned().collect();
        for key in keys {
            // A batch whose agreement has ended is dropped uncommitted (and counted); the
            // others are written.
            self.close(&key)?;
        }
        self.collect_done(true)?;
        self.jobs.clear();
        // Once more, waiting this time, so that the next session does not re-read (and skip)
        // what an unanswered commit left behind.
        let assignment = self.consumer.assignment();
        let next: Vec<(TopicPartition, u64)> =
            self.commits.iter().filter(|(k, _)| assignment.contains(*k)).map(|(k, o)| (k.clone(), *o)).collect();
        ending::final_commit(self.consumer, &next)
    }
}

#[cfg(test)]
mod tests;
