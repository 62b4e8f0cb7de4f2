//! Writing closed batches: each is staged and made durable on a thread of its own, so that
//! reading and parsing messages carries on meanwhile. The consuming thread commits a batch's
//! offsets to Kafka once it hears the batch is durable.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, Sender};

use arrow_array::Array;
use arrow_array::cast::AsArray;
use std::time::Instant;

use tellonce_connectors::file_source::{MessageBatcher, RawBatch};
use tellonce_governance::Purpose;
use tellonce_governance::audit::Event;
use tracing::{debug, warn};

use tellonce_kafka::{DeadLetters, TopicPartition};

use super::progress;
use crate::config::{Source, SourceMode};
use crate::records::compare::Counts;
use crate::records::live::LiveHoldings;
use crate::records::marked::take_withdrawn;
use crate::run::{Context, IngestError, InputReport, RunError, Staged, Writer, stage};
use crate::stages::govern::Policy;
use crate::stages::pseudonymise::Pseudonymiser;
use crate::stages::validate::{self, DuplicateIndex};
use crate::stream::error::StreamError;
use crate::stream::feed_lock::Holdings;
use tellonce_connectors::mapping::Mapping;

/// What a topic's batches are staged with, under the agreement in force when they closed.
pub(super) struct Staging {
    pub(super) source: Source,
    pub(super) policy: Policy,
    /// The topic's source mapping, if it has one.
    pub(super) mapping: Option<Arc<Mapping>>,
    pseudo: Pseudonymiser,
    checked_schema: arrow_schema::SchemaRef,
}

impl Staging {
    /// The staging of `topic`'s messages, in `source`'s feed, under `policy`.
    pub(super) fn new(
        ctx: &Context<'_>,
        topic: &str,
        feed: &'static tellonce_schemas::FeedSchema,
        policy: Policy,
        mapping: Option<Arc<Mapping>>,
        mode: SourceMode,
    ) -> Self {
        let pseudo = Pseudonymiser::new(feed, &policy, ctx.keys.tokeniser(Purpose::Linkage), ctx.lookup.clone());
        let source = Source {
            feed,
            path: format!("kafka:{topic}").into(),
            format: tellonce_connectors::file_source::FileFormat::JsonLines,
            mode,
            max_withdrawal_share: crate::config::sources::DEFAULT_MAX_WITHDRAWAL_SHARE,
            snapshot_of_source: None,
            snapshot_where: None,
            sheet: None,
        };
        Staging { source, policy, mapping, pseudo, checked_schema: validate::checked_schema(feed) }
    }
}

/// A closed batch, on its way to the writer.
pub(super) struct Job {
    pub(super) key: TopicPartition,
    pub(super) batcher: MessageBatcher,
    pub(super) staging: Arc<Staging>,
    /// When its first message arrived.
    pub(super) opened: Instant,
    /// Its messages' timestamps (milliseconds since 1970), where they carry one.
    pub(super) timestamps: Vec<i64>,
    /// The timestamps of its first and last message, where they carry one.
    pub(super) ends: (Option<i64>, Option<i64>),
    /// Its topic's progress epoch.
    pub(super) epoch: u32,
}

/// A batch made durable.
pub(super) struct Done {
    pub(super) key: TopicPartition,
    /// First and last offset (`None`: the batch held no message).
    pub(super) range: Option<(u64, u64)>,
    /// Its topic's progress epoch.
    pub(super) epoch: u32,
    pub(super) written: u64,
    pub(super) quarantined: u64,
    /// Fields nulled in the records written (their `_dq` names them).
    pub(super) nulled: u64,
    /// Quarantined records sent on to the dead-letter topic.
    pub(super) dead_lettered: u64,
    pub(super) files: u64,
    /// Its records against those held: new, changed, unchanged, refused, older.
    pub(super) versions: Counts,
    /// Versions held that its records moved to history.
    pub(super) superseded: u64,
    pub(super) timestamps: Vec<i64>,
    /// Wall-clock milliseconds since 1970 when it became durable.
    pub(super) durable_ms: i64,
    /// Milliseconds from its first message to durable.
    pub(super) batch_ms: u64,
}

/// How many writer threads a session runs for `workers` (the `limits.workers` setting): at
/// least four, at most eight. Writing a batch (Parquet encoding, compression) is serial, so
/// batches of different partitions are written side by side, each partition by a writer of its
/// own while there are enough: partitions sharing a writer would wait on each other's batches
/// and, through its one-deep queue, hold up reading for every partition. Each batch's staging
/// is split among all the workers.
pub(super) fn writers(workers: usize) -> usize {
    workers.clamp(4, 8)
}

/// Below this many rows a batch is staged in one piece: a thread costs more than it saves.
const MIN_PART_ROWS: usize = 2_048;

/// Stages a batch in up to `workers` consecutive parts at once (the calling thread takes the
/// first), each of at least `min_part_rows`, returning them in order. A stream batch is one input however large, and staging it
/// on one thread would leave the other cores to the reader alone.
fn stage_in_parts(
    raw: RawBatch,
    marks: &[bool],
    t: &Staging,
    workers: usize,
    min_part_rows: usize,
    input: &str,
) -> Result<Vec<Staged>, RunError> {
    let wanted = workers.min(raw.batch.num_rows() / min_part_rows.max(1)).max(1);
    let parts = raw.split(wanted);
    let mut at = 0;
    let mut jobs = Vec::with_capacity(parts.len());
    for part in parts {
        let n = part.batch.num_rows();
        jobs.push((part, marks.get(at..at + n).unwrap_or_default()));
        at += n;
    }
    let feed = t.source.feed;
    std::thread::scope(|scope| {
        let mut jobs = jobs.into_iter();
        let Some((first, first_marks)) = jobs.next() else { return Ok(Vec::new()) };
        let others: Vec<_> = jobs
            .map(|(part, m)| scope.spawn(move || stage(part, feed, &t.checked_schema, m, &t.pseudo, input)))
            .collect();
        let mut staged = vec![stage(first, feed, &t.checked_schema, first_marks, &t.pseudo, input)?];
        for handle in others {
            let part = handle.join().map_err(|_| RunError::Internal("a staging thread panicked".to_owned()))?;
            staged.push(part?);
        }
        Ok(staged)
    })
}

/// Writes the jobs in the order they come, answering each with its outcome; stops after the
/// first failure or when either channel closes.
pub(super) fn work(
    ctx: &Context<'_>,
    dead: Option<&DeadLetters>,
    holdings: &Holdings,
    jobs: Receiver<Job>,
    done: Sender<Result<Done, RunError>>,
) {
    for job in jobs {
        // A panic must still be answered: the consuming thread waits for every batch it handed
        // over before it gives a partition up or stops.
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| write(ctx, dead, holdings, job)))
            .unwrap_or_else(|_| Err(RunError::Internal("a batch writer panicked".to_owned())));
        let failed = outcome.is_err();
        if done.send(outcome).is_err() || failed {
            return;
        }
    }
}

/// The rows of a batch before which a new part starts, so that no part holds two messages for one
/// record: a message for a record already in the batch is a newer version of it, compared with
/// what the parts before it staged, as it would be had it come in the next batch.
fn repeat_starts(raw: &RawBatch, feed: &tellonce_schemas::FeedSchema) -> Vec<usize> {
    let ids = feed.index_of("record_id").and_then(|i| raw.batch.column(i).as_string_opt::<i32>());
    let Some(ids) = ids else { return Vec::new() };
    let mut seen: HashSet<std::borrow::Cow<'_, str>> = HashSet::new();
    let mut starts = Vec::new();
    for i in 0..ids.len() {
        // As the duplicate check reads a reference; one that is missing is quarantined.
        let id = if ids.is_valid(i) { tellonce_schemas::check::as_shown(ids.value(i)) } else { "".into() };
        if id.is_empty() {
            continue;
        }
        if seen.contains(&id) {
            starts.push(i);
            seen.clear();
        }
        seen.insert(id);
    }
    starts
}

/// A part of a batch, staged, on its way to be compared and written as an input of its own.
struct Segment {
    stem: String,
    name: String,
    staged: Vec<Staged>,
    records: u64,
}

/// Stages a batch's parts (see [`repeat_starts`]), each named from its batch: the first as the
/// batch, the others with `~N` after it, so that every file still names the batch it belongs to.
fn stage_segments(
    raw: RawBatch,
    t: &Staging,
    key: &TopicPartition,
    stem: &str,
    workers: usize,
) -> Result<Vec<Segment>, RunError> {
    let feed = t.source.feed;
    let starts = repeat_starts(&raw, feed);
    let mut segments = Vec::with_capacity(starts.len() + 1);
    for (i, part) in raw.split_before(&starts).into_iter().enumerate() {
        let (first, last) = (part.lineage.first_position, part.lineage.last_position);
        let records = (part.batch.num_rows() + part.rejects.len()) as u64;
        let marks = DuplicateIndex::default().mark(&part, feed);
        // Messages marked withdrawn (the mapping's withdrawal key) are not staged: their records
        // leave staging for history when the part is written.
        let (part, marks, withdrawn) = take_withdrawn(part, marks, feed);
        let stem = if i == 0 { stem.to_owned() } else { format!("{stem}~{i}") };
        let mut staged = stage_in_parts(part, &marks, t, workers, MIN_PART_ROWS, &stem)?;
        match staged.first_mut() {
            Some(first) => first.withdrawn = withdrawn,
            None if withdrawn.is_empty() => {}
            None => return Err(RunError::Internal("a part of a batch staged as nothing".to_owned())),
        }
        let name = format!("kafka:{key}@{first}-{last}");
        segments.push(Segment { stem, name, staged, records });
    }
    Ok(segments)
}

/// What a batch's parts wrote, together.
#[derive(Default)]
struct Written {
    staging: Vec<String>,
    quarantine: Vec<String>,
    written: u64,
    quarantined: u64,
    nulled: u64,
    versions: Counts,
    superseded: u64,
}

/// Compares each part of a batch with the feed's records held (`live`) and writes it as an input
/// of its own, in order, so that a later part's versions supersede an earlier part's.
fn write_segments(
    ctx: &Context<'_>,
    t: &Staging,
    live: &mut LiveHoldings,
    segments: Vec<Segment>,
) -> Result<Written, RunError> {
    let out = &ctx.settings.output_dir;
    let mut all = Written::default();
    let count = segments.len();
    for (i, seg) in segments.into_iter().enumerate() {
        let mut input = InputReport::new(&t.source);
        input.source = seg.name.clone();
        let schema = t.pseudo.schema().clone();
        let mut writer = Writer::new(ctx, t.source.feed, &t.policy, &seg.stem, &seg.name, schema, None)?
            .comparing(live.comparison(t.source.mode));
        writer.hold_damaged = false;
        let written = seg.staged.into_iter().try_for_each(|part| writer.write(part));
        match written.and_then(|()| writer.finish(&mut input, seg.records)) {
            Ok(spent) => spent.into_iter().for_each(|c| live.restore(c)),
            Err(IngestError::Run(e)) => return Err(e),
            Err(IngestError::Source(source)) => return Err(StreamError::Batch { batch: seg.name, source }.into()),
            Err(IngestError::Changed) => return Err(StreamError::BatchChanged { batch: seg.name }.into()),
            // Only a snapshot withdraws, and a stream batch is compared as a delta.
            Err(IngestError::Held(_, message)) => return Err(RunError::Internal(message)),
            Err(IngestError::MassWithdrawal(mass)) => {
                return Err(RunError::Internal(format!(
                    "{}: a stream batch cannot withdraw records ({mass})",
                    seg.name
                )));
            }
        }
        // The part's own files join the holding before the next part is compared (its entries
        // written out first: the holding follows the log as written; the batch's commit syncs
        // the last part's).
        if i + 1 < count {
            ctx.audit_sync()?;
            live.refresh(out)?;
        }
        all.staging.extend(input.files.iter().map(|f| f.path.clone()));
        all.quarantine.extend(input.quarantine_file.clone());
        all.written += input.written;
        all.quarantined += input.quarantined;
        all.nulled += input.nulled;
        if let Some(v) = &input.versions {
            all.versions.add(&v.counts);
            all.superseded += v.superseded;
        }
    }
    Ok(all)
}

/// Writes one closed batch and makes it durable: compared with the records of its feed held (a
/// message for a record held is a newer version of it, the version held moving to history; one
/// held as it is, or tombstoned, is not staged again), its files published and recorded, its
/// quarantined records sent to the dead-letter topic (if `dead`), with a
/// `stream_batch_committed` entry after them, and the audit log synced, all with the feed's
/// staging to itself (see `feed_lock`).
pub(super) fn write(
    ctx: &Context<'_>,
    dead: Option<&DeadLetters>,
    holdings: &Holdings,
    mut job: Job,
) -> Result<Done, RunError> {
    let t = &*job.staging;
    let key = &job.key;
    let unknown = job.batcher.unknown_columns();
    let mut done = Done {
        key: key.clone(),
        range: None,
        epoch: job.epoch,
        written: 0,
        quarantined: 0,
        nulled: 0,
        dead_lettered: 0,
        files: 0,
        versions: Counts::default(),
        superseded: 0,
        timestamps: std::mem::take(&mut job.timestamps),
        durable_ms: 0,
        batch_ms: 0,
    };
    let clock = Instant::now();
    let taken = job.batcher.take().map_err(|source| StreamError::Batch { batch: format!("kafka:{key}"), source });
    let Some(raw) = taken? else { return Ok(done) };
    let took = clock.elapsed();
    let (first, last) = (raw.lineage.first_position, raw.lineage.last_position);
    let stem = progress::stem(&key.topic, key.partition, job.epoch, first, last);
    let segments = stage_segments(raw, t, key, &stem, ctx.settings.workers.max(1))?;
    let staged_at = clock.elapsed();
    let out = &ctx.settings.output_dir;
    let batch =
        progress::BatchName { topic: key.topic.clone(), partition: key.partition, epoch: job.epoch, first, last };
    let key_column = crate::records::key::key_column(t.pseudo.schema());
    let (written, dead_lettered) = holdings.with_feed(ctx, t.source.feed, key_column, |live| {
        live.writing(Some(batch));
        let written = write_segments(ctx, t, live, segments);
        live.writing(None);
        let written = written?;
        tellonce_output::faults::reached(tellonce_output::faults::STREAM_BATCH_PUBLISHED);
        let mut files = written.staging.clone();
        files.extend(written.quarantine.iter().cloned());
        // Delivered before the batch is recorded as committed: a committed batch's poison
        // messages are on the topic, and a failure leaves the batch to be written (and sent) again.
        let (dead_letter_topic, mut dead_lettered) = (dead.map(|d| d.topic().to_owned()).unwrap_or_default(), 0);
        if let Some(d) = dead {
            for file in &written.quarantine {
                dead_lettered += d.send(&out.join(file), key).map_err(super::dead_letter)?;
            }
        }
        let dead_letter_topic = if written.quarantine.is_empty() { String::new() } else { dead_letter_topic };
        ctx.audit(&Event::StreamBatchCommitted {
            run: ctx.run_id.clone(),
            topic: key.topic.clone(),
            partition: key.partition,
            first_offset: first,
            last_offset: last,
            written: written.written,
            quarantined: written.quarantined,
            files,
            dead_letter_topic,
            dead_lettered,
            first_timestamp: job.ends.0,
            last_timestamp: job.ends.1,
            epoch: job.epoch,
        })?;
        ctx.audit_sync()?;
        Ok((written, dead_lettered))
    })?;
    debug!(
        topic = %key.topic,
        partition = key.partition,
        records = last - first + 1,
        take_ms = took.as_millis() as u64,
        stage_ms = (staged_at - took).as_millis() as u64,
        write_ms = (clock.elapsed() - staged_at).as_millis() as u64,
        "batch durable"
    );
    done.durable_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
    done.batch_ms = job.opened.elapsed().as_millis() as u64;
    if !unknown.is_empty() {
        let shown = crate::run::reportable_column_names(unknown);
        warn!(topic = %key.topic, "keys not in the {} schema were dropped: {}", t.source.feed.name, shown.join(", "));
    }
    done.range = Some((first, last));
    done.written = written.written;
    done.quarantined = written.quarantined;
    done.nulled = written.nulled;
    done.dead_lettered = dead_lettered;
    done.files = (written.staging.len() + written.quarantine.len()) as u64;
    done.versions = written.versions;
    done.superseded = written.superseded;
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stages::govern::Policy;
    use tellonce_governance::KeyRing;

    /// The synthetic police records as messages, with a duplicate and two poison messages.
    fn batch(feed: &'static tellonce_schemas::FeedSchema) -> (RawBatch, Vec<bool>) {
        let dir = tempfile::tempdir().unwrap();
        tellonce_synth::generate(&tellonce_synth::SynthOptions { out: dir.path().to_owned(), children: 600, seed: 5 })
            .unwrap();
        let text = std::fs::read_to_string(dir.path().join("inputs/police.jsonl")).unwrap();
        let mut lines: Vec<&str> = text.lines().collect();
        lines.insert(40, "not json");
        lines.insert(90, lines[10]);
        lines.push("{");
        let mut b = MessageBatcher::new(feed, "kafka:t/0".to_owned(), 100_000, 1 << 20);
        for (i, l) in lines.iter().enumerate() {
            b.push(1_000 + i as u64, Some(l.as_bytes()));
        }
        let raw = b.take().unwrap().unwrap();
        let marks = DuplicateIndex::default().mark(&raw, feed);
        assert!(marks.iter().any(|m| *m), "the test needs a duplicate");
        (raw, marks)
    }

    #[test]
    fn a_batch_staged_in_parts_is_the_batch_staged_whole() {
        let feed = tellonce_schemas::feed::latest("police").unwrap();
        let policy = Policy::schema_default(feed, "test@1");
        let keys = KeyRing::from_master([3u8; 32]);
        let pseudo = Pseudonymiser::new(feed, &policy, keys.tokeniser(Purpose::Linkage), None);
        let source = Source {
            feed,
            path: "kafka:t".into(),
            format: tellonce_connectors::file_source::FileFormat::JsonLines,
            mode: Default::default(),
            max_withdrawal_share: crate::config::sources::DEFAULT_MAX_WITHDRAWAL_SHARE,
            snapshot_of_source: None,
            snapshot_where: None,
            sheet: None,
        };
        let t = Staging { source, policy, mapping: None, pseudo, checked_schema: validate::checked_schema(feed) };
        let (raw, marks) = batch(feed);
        let whole = stage_in_parts(raw.clone(), &marks, &t, 1, 10, "k").unwrap();
        let parts = stage_in_parts(raw, &marks, &t, 3, 10, "k").unwrap();
        assert_eq!((whole.len(), parts.len()), (1, 3));
        let batches: Vec<_> = parts.iter().map(|p| p.batch.clone()).collect();
        let joined = arrow_select::concat::concat_batches(&whole[0].batch.schema(), &batches).unwrap();
        assert_eq!(joined, whole[0].batch);
        let rejects: Vec<_> = parts.iter().flat_map(|p| p.rejects.iter().map(|r| (r.position, r.rule))).collect();
        let expected: Vec<_> = whole[0].rejects.iter().map(|r| (r.position, r.rule)).collect();
        assert!(expected.len() >= 3, "poison and duplicate rejected: {expected:?}");
        let mut sorted = rejects.clone();
        sorted.sort_unstable_by_key(|r| r.0);
        let mut expected_sorted = expected.clone();
        expected_sorted.sort_unstable_by_key(|r| r.0);
        assert_eq!(sorted, expected_sorted);
        assert_eq!(parts[0].first_position, whole[0].first_position);
        assert_eq!(parts[2].last_position, whole[0].last_position);
    }
}
