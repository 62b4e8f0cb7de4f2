//! `tellonce stream`: partner topics in Kafka through the same validate → govern → pseudonymise
//! stages as files, into the staging dataset, with an exactly-once effect.
//!
//! Messages are gathered per topic partition into batches that close on size
//! (`max_batch_rows`) or age (`max_batch_ms`). A closed batch is written as one input: its
//! staging part and quarantine file are named from topic, partition and offset range, published,
//! recorded in the audit log and synced; only then are its offsets committed to Kafka.
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

pub mod latency;
pub mod ownership;
pub mod progress;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer, ConsumerContext, Rebalance};
use rdkafka::message::{Headers, Message};
use rdkafka::{ClientContext, Offset, TopicPartitionList};
use serde::Serialize;
use tellonce_connectors::file_source::MessageBatcher;
use tellonce_governance::Purpose;
use tellonce_governance::audit::{Event, ReadCursor, read_new_entries};
use tellonce_schemas::Rule;
use tellonce_schemas::identifiers::dates;
use tracing::{info, warn};

use crate::config::{Settings, Source, StreamSettings};
use crate::run::{Context, IngestError, InputReport, RunError, Writer, stage};
use crate::stages::govern::{self, Decision, Policy};
use crate::stages::pseudonymise::Pseudonymiser;
use crate::stages::validate::{self, DuplicateIndex};
use latency::Latencies;
use ownership::Owned;
use progress::Progress;

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
    /// Messages dropped uncommitted because their topic's agreement ended during the session:
    /// read again once an agreement is in force.
    pub dropped_on_hold: u64,
    /// Records written to staging.
    pub written: u64,
    /// Records quarantined.
    pub quarantined: u64,
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
    revoked: Mutex<Vec<(String, i32)>>,
    /// The partitions assigned now: a message of any other (fetched before its partition was
    /// revoked) is not this session's to write.
    assignment: Mutex<HashSet<(String, i32)>>,
    /// When partitions were last assigned or revoked: a session is not idle while its group
    /// rebalances.
    rebalanced: Mutex<Option<Instant>>,
}

impl ClientContext for Rebalances {}

impl Rebalances {
    fn note_rebalance(&self) {
        if let Ok(mut at) = self.rebalanced.lock() {
            *at = Some(Instant::now());
        }
    }
}

impl ConsumerContext for Rebalances {
    fn pre_rebalance(&self, _consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Revoke(list) = rebalance {
            let keys: Vec<(String, i32)> =
                list.elements().iter().map(|e| (e.topic().to_owned(), e.partition())).collect();
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
}

/// What a topic needs to stage its messages.
struct TopicState {
    source: Source,
    policy: Policy,
    pseudo: Pseudonymiser,
    checked_schema: arrow_schema::SchemaRef,
}

/// Builds the consumer: tellonce's settings first, then the deployment's properties.
fn consumer(s: &StreamSettings) -> Result<BaseConsumer<Rebalances>, RunError> {
    let mut config = ClientConfig::new();
    config
        .set("bootstrap.servers", &s.brokers)
        .set("group.id", &s.group_id)
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .set("auto.offset.reset", "earliest")
        .set("enable.partition.eof", "false");
    for (k, v) in &s.properties {
        config.set(k, v);
    }
    config
        .create_with_context(Rebalances::default())
        .map_err(|e| RunError::Stream(format!("cannot create the Kafka consumer for {}: {e}", s.brokers)))
}

/// Consumes the configured topics until stopped; see the module documentation.
pub fn stream(settings: &Settings, opts: &StreamOptions, stop: &AtomicBool) -> Result<StreamReport, RunError> {
    let Some(st) = settings.stream.as_ref() else {
        return Err(RunError::Stream("the config has no [stream] section".to_owned()));
    };
    let today = dates::today();
    let ctx =
        Context::open(settings, "stream", crate::run::Access::Stream, today, true, indicatif::ProgressBar::hidden())?;
    let mut report = StreamReport { run_id: ctx.run_id.clone(), ..StreamReport::default() };
    let mut log = LogProgress::default();
    sweep_unowned(&ctx, &mut log)?;
    let mut owned = Owned::default();
    let mut topics: HashMap<String, TopicState> = HashMap::new();
    for t in &st.topics {
        match govern::decide(&ctx.agreements, t.feed, today, today) {
            Decision::Process(policy) => {
                let pseudo =
                    Pseudonymiser::new(t.feed, &policy, ctx.keys.tokeniser(Purpose::Linkage), ctx.lookup.clone());
                let source = Source {
                    feed: t.feed,
                    path: format!("kafka:{}", t.topic).into(),
                    format: tellonce_connectors::file_source::FileFormat::JsonLines,
                };
                let checked_schema = validate::checked_schema(t.feed);
                topics.insert(t.topic.clone(), TopicState { source, policy, pseudo, checked_schema });
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
    let consumer = consumer(st)?;
    let names: Vec<&str> = st.topics.iter().map(|t| t.topic.as_str()).filter(|t| topics.contains_key(*t)).collect();
    consumer.subscribe(&names).map_err(|e| RunError::Stream(format!("cannot subscribe to {names:?}: {e}")))?;
    info!(topics = ?names, brokers = %st.brokers, group = %st.group_id, "streaming");

    let mut open: BTreeMap<(String, i32), Open> = BTreeMap::new();
    let mut last_message = Instant::now();
    let mut last_stats = (Instant::now(), 0u64);
    let max_age = Duration::from_millis(st.max_batch_ms);
    let stopped = loop {
        if stop.load(Ordering::Relaxed) {
            break "signalled".to_owned();
        }
        let polled = consumer.poll(Duration::from_millis(50));
        let mut full: Option<(String, i32)> = None;
        // A revoked partition's open batch is dropped before anything else is written: its new
        // owner reads it again from the committed offset.
        let revoked: Vec<(String, i32)> =
            consumer.context().revoked.lock().map(|mut r| std::mem::take(&mut *r)).unwrap_or_default();
        for key in revoked {
            if let Some(o) = open.remove(&key) {
                report.dropped_on_revoke += o.batcher.len() as u64;
            }
            owned.release(&key.0, key.1);
        }
        match polled {
            None => {}
            Some(Err(e)) => warn!("kafka: {e}"),
            Some(Ok(m)) => {
                last_message = Instant::now();
                report.received += 1;
                let key = (m.topic().to_owned(), m.partition());
                let Ok(offset) = u64::try_from(m.offset()) else { continue };
                let assigned = consumer.context().assignment.lock().is_ok_and(|a| a.contains(&key));
                if !assigned {
                    report.dropped_on_revoke += 1;
                    continue;
                }
                if !owned.holds(&key.0, key.1) {
                    owned.claim(&settings.output_dir, &key.0, key.1, ownership::CLAIM_TIMEOUT)?;
                    // Now no other session writes this partition: learn what they wrote of it,
                    // and clear away any batch one of them left unrecorded.
                    sweep_partition(&ctx, &mut log, &key.0, key.1)?;
                }
                if offset < log.progress.next(&key.0, key.1) {
                    report.skipped += 1;
                } else if let Some(t) = topics.get(&key.0) {
                    // Offsets only rise within a partition; a repositioned partition (no revoke
                    // seen) starts its batch again rather than hold an offset twice.
                    if open.get(&key).is_some_and(|o| o.last_offset.is_some_and(|l| offset <= l))
                        && let Some(o) = open.remove(&key)
                    {
                        report.dropped_on_revoke += o.batcher.len() as u64;
                    }
                    let entry = open.entry(key.clone()).or_insert_with(|| Open {
                        batcher: MessageBatcher::new(
                            t.source.feed,
                            format!("kafka:{}/{}", key.0, key.1),
                            st.max_batch_rows,
                            st.max_message_bytes,
                        ),
                        opened: Instant::now(),
                        last_offset: None,
                        timestamps: Vec::new(),
                    });
                    entry.last_offset = Some(offset);
                    entry.timestamps.extend(m.timestamp().to_millis());
                    match declared_version(&m) {
                        Some(v) if v != t.source.feed.version => {
                            entry.batcher.reject(offset, Rule::SchemaVersionUnknown, m.payload().unwrap_or_default());
                        }
                        _ => entry.batcher.push(offset, m.payload()),
                    }
                    if entry.batcher.is_full() {
                        full = Some(key);
                    }
                }
            }
        }
        // Full batches, and those that have waited long enough however few messages they hold.
        let mut due: Vec<(String, i32)> =
            open.iter().filter(|(_, o)| o.opened.elapsed() >= max_age).map(|(k, _)| k.clone()).collect();
        due.extend(full.take());
        let mut held = None;
        for key in due {
            if let Some(reason) = close(&ctx, &consumer, &mut topics, &mut open, &key, &mut log.progress, &mut report)?
            {
                held = Some(reason);
            }
        }
        if let Some(reason) = held {
            break reason;
        }
        if last_stats.0.elapsed() >= Duration::from_secs(10) {
            let secs = last_stats.0.elapsed().as_secs_f64();
            let rate = (report.received - last_stats.1) as f64 / secs.max(0.001);
            info!(
                received = report.received,
                written = report.written,
                quarantined = report.quarantined,
                records_per_s = rate as u64,
                lag = lag(&consumer),
                produce_to_durable_p99_ms = report.durable_latency.percentile(0.99),
                "stream progress"
            );
            last_stats = (Instant::now(), report.received);
        }
        if opts.max_messages.is_some_and(|n| report.received >= n) {
            break format!("read {} messages", report.received);
        }
        // Idle counts from the last message or the last rebalance (assignment or revocation),
        // whichever is later: joining the group, a rebalance and the first fetch take a while.
        if let Some(d) = opts.idle_exit.filter(|_| open.is_empty()) {
            let rebalanced = consumer.context().rebalanced.lock().ok().and_then(|a| *a);
            match rebalanced {
                Some(at) if last_message.elapsed() >= d && at.elapsed() >= d => break "idle".to_owned(),
                None if last_message.elapsed() >= Duration::from_secs(60) => {
                    break "no partition assigned within 60 s".to_owned();
                }
                _ => {}
            }
        }
    };
    // Finish the batches in hand, commit, and stop.
    let keys: Vec<(String, i32)> = open.keys().cloned().collect();
    for key in keys {
        close(&ctx, &consumer, &mut topics, &mut open, &key, &mut log.progress, &mut report)?;
    }
    report.batch_latency_ms = (report.batch_latency.percentile(0.5), report.batch_latency.percentile(0.99));
    let d = &report.durable_latency;
    report.produce_to_durable_ms = (d.percentile(0.5), d.percentile(0.99), d.max());
    report.stopped = stopped;
    finish(&ctx, &report, Some(&consumer))?;
    Ok(report)
}

/// The committed batches, as far as this session has read the (shared) audit log.
#[derive(Default)]
struct LogProgress {
    cursor: ReadCursor,
    progress: Progress,
}

impl LogProgress {
    /// Reads what other sessions (and this one) have recorded since the last read.
    fn refresh(&mut self, ctx: &Context<'_>) -> Result<(), RunError> {
        let entries = read_new_entries(&ctx.settings.output_dir.join(crate::run::AUDIT), &mut self.cursor)?;
        self.progress.absorb(&entries);
        Ok(())
    }
}

/// The files of stream batches in the staging and quarantine datasets, with the topic, partition
/// and offsets each stands for.
fn batch_files(out: &Path) -> Vec<(PathBuf, (String, i32, u64, u64))> {
    let mut found = Vec::new();
    for dataset in [crate::run::STAGING, "quarantine"] {
        let Ok(feeds) = std::fs::read_dir(out.join(dataset)) else { continue };
        for dir in feeds.flatten() {
            let Ok(files) = std::fs::read_dir(dir.path()) else { continue };
            for f in files.flatten() {
                let name = f.file_name().to_string_lossy().into_owned();
                if name.starts_with('.') {
                    continue;
                }
                if let Some(batch) = progress::parse(&name) {
                    found.push((f.path(), batch));
                }
            }
        }
    }
    found
}

/// Clears uncommitted batch files of the partitions no session holds now (of topics this
/// session may never be assigned, too), so that a stopped session's leftovers do not wait for
/// the partition's next owner.
fn sweep_unowned(ctx: &Context<'_>, log: &mut LogProgress) -> Result<(), RunError> {
    log.refresh(ctx)?;
    let out = &ctx.settings.output_dir;
    let mut partitions: Vec<(String, i32)> = batch_files(out)
        .into_iter()
        .filter(|(_, (t, p, first, last))| !log.progress.is_committed(t, *p, *first, *last))
        .map(|(_, (t, p, _, _))| (t, p))
        .collect();
    partitions.sort_unstable();
    partitions.dedup();
    for (topic, partition) in partitions {
        // A partition another session holds is left to it: it may be writing that batch now.
        if let Some(_lock) = ownership::try_claim(out, &topic, partition)? {
            sweep_partition(ctx, log, &topic, partition)?;
        }
    }
    Ok(())
}

/// Removes the batch files of one partition that the audit log does not record as committed: a
/// session stopped (killed, or failed) between publishing a batch's files and recording the
/// batch. Their records were never committed, so they are read again; left in place, a replay
/// with other batch boundaries would duplicate them. The caller holds the partition's lock.
fn sweep_partition(ctx: &Context<'_>, log: &mut LogProgress, topic: &str, partition: i32) -> Result<(), RunError> {
    log.refresh(ctx)?;
    let out = &ctx.settings.output_dir;
    let mut removed = false;
    for (path, (t, p, first, last)) in batch_files(out) {
        if t != topic || p != partition || log.progress.is_committed(&t, p, first, last) {
            continue;
        }
        let rel = crate::run::relative(out, &path);
        let sha256 = tellonce_connectors::hashing::sha256_file(&path)
            .map_err(|source| RunError::Output { path: path.clone(), source })?;
        crate::run::remove_if_present(&path).map_err(|source| RunError::Output { path: path.clone(), source })?;
        warn!(file = %rel, "removed a file of a stream batch that was never committed (an interrupted session)");
        ctx.audit(&Event::FileDeleted {
            path: rel,
            sha256,
            reason: "uncommitted: written by an interrupted stream session before its batch was committed".to_owned(),
            agreement: None,
        })?;
        removed = true;
    }
    if removed {
        ctx.audit_sync()?;
    }
    Ok(())
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

/// Total messages behind the high watermark over the assigned partitions (-1: not known).
fn lag(consumer: &BaseConsumer<Rebalances>) -> i64 {
    let Ok(positions) = consumer.position() else { return -1 };
    let mut total = 0i64;
    for e in positions.elements() {
        let Offset::Offset(pos) = e.offset() else { continue };
        match consumer.fetch_watermarks(e.topic(), e.partition(), Duration::from_millis(500)) {
            Ok((_, high)) => total += (high - pos).max(0),
            Err(_) => return -1,
        }
    }
    total
}

/// Closes the open batch of `key`: writes it, or, if its topic's agreement is no longer in force,
/// drops it uncommitted and returns why (the session then stops: fail closed).
fn close(
    ctx: &Context<'_>,
    consumer: &BaseConsumer<Rebalances>,
    topics: &mut HashMap<String, TopicState>,
    open: &mut BTreeMap<(String, i32), Open>,
    key: &(String, i32),
    progress: &mut Progress,
    report: &mut StreamReport,
) -> Result<Option<String>, RunError> {
    let (Some(o), Some(t)) = (open.remove(key), topics.get_mut(&key.0)) else { return Ok(None) };
    // The agreement is judged for every batch, so that one ending mid-session stops its data and
    // each file's retention runs from the day it is written.
    let today = dates::today();
    match govern::decide(&ctx.agreements, t.source.feed, today, today) {
        Decision::Process(policy) => {
            if policy.agreement != t.policy.agreement || policy.retention_until != t.policy.retention_until {
                t.pseudo = Pseudonymiser::new(
                    t.source.feed,
                    &policy,
                    ctx.keys.tokeniser(Purpose::Linkage),
                    ctx.lookup.clone(),
                );
                t.policy = policy;
            }
        }
        Decision::Hold { rule, reason } => {
            report.dropped_on_hold += o.batcher.len() as u64;
            let why = format!("{}: {reason} [{rule}]", key.0);
            warn!("stopping: {why}");
            ctx.audit(&Event::InputHeld {
                feed: t.source.feed.name.to_owned(),
                input: format!("kafka:{}", key.0),
                sha256: String::new(),
                reason: format!("{reason} [{rule}]"),
            })?;
            ctx.audit_sync()?;
            report.held.push(why.clone());
            return Ok(Some(format!("agreement no longer in force for {why}")));
        }
    }
    let t0 = o.opened;
    write_batch(ctx, consumer, t, key, o, progress, report)?;
    report.batch_latency.record(t0.elapsed().as_millis() as u64);
    Ok(None)
}

/// Writes one closed batch as an input of its own, makes it durable, then commits its offsets.
fn write_batch(
    ctx: &Context<'_>,
    consumer: &BaseConsumer<Rebalances>,
    t: &TopicState,
    key: &(String, i32),
    mut o: Open,
    progress: &mut Progress,
    report: &mut StreamReport,
) -> Result<(), RunError> {
    let unknown = o.batcher.unknown_columns();
    let Some(raw) = o.batcher.take().map_err(|e| RunError::Stream(e.to_string()))? else { return Ok(()) };
    let (first, last) = (raw.lineage.first_position, raw.lineage.last_position);
    let records = (raw.batch.num_rows() + raw.rejects.len()) as u64;
    let stem = progress::stem(&key.0, key.1, first, last);
    let name = format!("kafka:{}/{}@{first}-{last}", key.0, key.1);
    let marks = DuplicateIndex::default().mark(&raw, t.source.feed);
    let staged = stage(raw, t.source.feed, &t.checked_schema, &marks, &t.pseudo)?;
    let mut input = InputReport::new(&t.source);
    input.source = name.clone();
    let mut writer = Writer::new(ctx, t.source.feed, &t.policy, &stem, &name, t.pseudo.schema().clone())?;
    let written = writer.write(staged).and_then(|()| writer.finish(&mut input, records));
    match written {
        Ok(()) => {}
        Err(IngestError::Run(e)) => return Err(e),
        Err(IngestError::Source(e)) => return Err(RunError::Stream(e.to_string())),
        Err(IngestError::Changed) => return Err(RunError::Stream(format!("{name} changed while written"))),
    }
    let mut files: Vec<String> = input.files.iter().map(|f| f.path.clone()).collect();
    files.extend(input.quarantine_file.clone());
    ctx.audit(&Event::StreamBatchCommitted {
        run: ctx.run_id.clone(),
        topic: key.0.clone(),
        partition: key.1,
        first_offset: first,
        last_offset: last,
        written: input.written,
        quarantined: input.quarantined,
        files,
    })?;
    ctx.audit_sync()?;
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
    for ts in &o.timestamps {
        report.durable_latency.record(u64::try_from(now_ms - ts).unwrap_or(0));
    }
    progress.commit(&key.0, key.1, first, last);
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition_offset(&key.0, key.1, Offset::Offset(last as i64 + 1))
        .map_err(|e| RunError::Stream(e.to_string()))?;
    // The records are durable whatever happens to the commit: a failed commit costs a re-read
    // (skipped below the durable offset), not a duplicate.
    if let Err(e) = consumer.commit(&tpl, CommitMode::Sync) {
        warn!(topic = %key.0, partition = key.1, "offset commit failed (the batch is durable): {e}");
    }
    if !unknown.is_empty() {
        let shown = crate::run::reportable_column_names(unknown);
        warn!(topic = %key.0, "keys not in the {} schema were dropped: {}", t.source.feed.name, shown.join(", "));
    }
    report.batches += 1;
    report.written += input.written;
    report.quarantined += input.quarantined;
    report.files += input.files.len() as u64 + u64::from(input.quarantine_file.is_some());
    Ok(())
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
        received: report.received - report.skipped - report.dropped_on_revoke - report.dropped_on_hold,
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
