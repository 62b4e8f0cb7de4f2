//! Which offsets of each topic partition are already durable in the output.
//!
//! Each closed batch is written as an input of its own, named from its topic, partition and
//! offset range (`k@TOPIC@PARTITION@FIRST@LAST`, see [`stem`]); its files are recorded in the audit log like any
//! file, and then a `stream_batch_committed` entry says the batch is complete. The audit log is
//! therefore the truth about progress: the next offset of a partition is one past the last offset
//! of its last committed batch. Deleting files later (retention, erasure) does not move it back.
//! Kafka's committed offsets only save re-reading: a message below the durable offset is skipped,
//! so a crash between writing a batch and committing its offsets never writes a record twice.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::audit::{Entry, Event};

/// The stem of the files one batch writes: `k@TOPIC@PARTITION@FIRST@LAST`, and `@EPOCH` after
/// it once the topic's progress was reset, so that a recreated topic's batches, whose offsets
/// count from 0 again, never take the names of the batches written before.
pub fn stem(topic: &str, partition: i32, epoch: u32, first: u64, last: u64) -> String {
    match epoch {
        0 => format!("k@{topic}@{partition}@{first:020}@{last:020}"),
        e => format!("k@{topic}@{partition}@{first:020}@{last:020}@{e}"),
    }
}

/// The batch a file written by a stream session belongs to.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct BatchName {
    /// The topic.
    pub topic: String,
    /// The partition.
    pub partition: i32,
    /// The topic's progress epoch.
    pub epoch: u32,
    /// First offset.
    pub first: u64,
    /// Last offset.
    pub last: u64,
}

/// The batch a file name written by a stream session stands for.
pub fn parse(file_name: &str) -> Option<BatchName> {
    let start = file_name.find("k@")?;
    let rest = &file_name[start + 2..];
    let mut parts = rest.split('@');
    let topic = parts.next()?.to_owned();
    let partition = parts.next()?.parse().ok()?;
    let first = parts.next()?.parse().ok()?;
    let digits = |s: &str| -> String { s.chars().take_while(char::is_ascii_digit).collect() };
    let last = digits(parts.next()?).parse().ok()?;
    let epoch = match parts.next() {
        Some(e) => digits(e).parse().ok()?,
        None => 0,
    };
    Some(BatchName { topic, partition, epoch, first, last })
}

/// Durable offsets by (topic, partition) in each topic's current epoch, every batch committed
/// (of any epoch), and the timestamps of the messages at the current epoch's batch boundaries.
#[derive(Debug, Default, Clone)]
pub struct Progress {
    next: BTreeMap<(String, i32), u64>,
    epochs: HashMap<String, u32>,
    committed: BTreeSet<BatchName>,
    timestamps: HashMap<(String, i32, u64), i64>,
}

impl Progress {
    /// From the `stream_batch_committed` and `stream_progress_reset` entries of the audit log.
    pub fn from_entries(entries: &[Entry]) -> Progress {
        let mut p = Progress::default();
        p.absorb(entries);
        p
    }

    /// Adds what more entries (read later from a live log) record.
    pub fn absorb(&mut self, entries: &[Entry]) {
        for e in entries {
            match &e.event {
                Event::StreamBatchCommitted {
                    topic,
                    partition,
                    first_offset,
                    last_offset,
                    first_timestamp,
                    last_timestamp,
                    epoch,
                    ..
                } => {
                    let batch = BatchName {
                        topic: topic.clone(),
                        partition: *partition,
                        epoch: *epoch,
                        first: *first_offset,
                        last: *last_offset,
                    };
                    self.commit(batch);
                    if *epoch == self.epoch(topic) {
                        for (offset, ts) in [(first_offset, first_timestamp), (last_offset, last_timestamp)] {
                            if let Some(ts) = ts {
                                self.timestamps.insert((topic.clone(), *partition, *offset), *ts);
                            }
                        }
                    }
                }
                Event::StreamProgressReset { topic, epoch, .. } => self.reset(topic, *epoch),
                _ => {}
            }
        }
    }

    /// The topic's progress epoch: 0, or the epoch of its last reset.
    pub fn epoch(&self, topic: &str) -> u32 {
        self.epochs.get(topic).copied().unwrap_or(0)
    }

    /// The first offset not yet durable in the topic's current epoch (0 if nothing is).
    pub fn next(&self, topic: &str, partition: i32) -> u64 {
        self.next.get(&(topic.to_owned(), partition)).copied().unwrap_or(0)
    }

    /// The durable offset of each partition of `topic` that has one, in its current epoch.
    pub fn partitions(&self, topic: &str) -> BTreeMap<i32, u64> {
        self.next.iter().filter(|((t, _), _)| t == topic).map(|((_, p), n)| (*p, *n)).collect()
    }

    /// The timestamp recorded for the message at `offset`, if a committed batch of the current
    /// epoch begins or ends there and its message had one.
    pub fn timestamp_at(&self, topic: &str, partition: i32, offset: u64) -> Option<i64> {
        self.timestamps.get(&(topic.to_owned(), partition, offset)).copied()
    }

    /// Whether the batch was committed.
    pub fn is_committed(&self, batch: &BatchName) -> bool {
        self.committed.contains(batch)
    }

    /// Notes that the batch is durable.
    pub fn commit(&mut self, batch: BatchName) {
        if batch.epoch == self.epoch(&batch.topic) {
            let e = self.next.entry((batch.topic.clone(), batch.partition)).or_insert(0);
            *e = (*e).max(batch.last + 1);
        }
        self.committed.insert(batch);
    }

    /// Starts `topic` over in `epoch`: nothing of it is durable in the new epoch.
    pub fn reset(&mut self, topic: &str, epoch: u32) {
        self.epochs.insert(topic.to_owned(), epoch);
        self.next.retain(|(t, _), _| t != topic);
        self.timestamps.retain(|(t, _, _), _| t != topic);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch(topic: &str, partition: i32, epoch: u32, first: u64, last: u64) -> BatchName {
        BatchName { topic: topic.to_owned(), partition, epoch, first, last }
    }

    #[test]
    fn stems_parse_back_whatever_the_topic_name_and_epoch() {
        for epoch in [0, 1, 12] {
            let s = stem("police.incidents-v2_x", 3, epoch, 17, 4096);
            let want = Some(batch("police.incidents-v2_x", 3, epoch, 17, 4096));
            assert_eq!(parse(&format!("part-{s}-00000.parquet")), want);
            assert_eq!(parse(&format!("{s}.jsonl")), want);
        }
        // Epoch 0 keeps the names written before epochs existed.
        assert_eq!(stem("t", 0, 0, 1, 2), "k@t@0@00000000000000000001@00000000000000000002");
        assert_ne!(stem("t", 0, 1, 1, 2), stem("t", 0, 0, 1, 2));
        assert_eq!(parse("part-0123abcd-00000.parquet"), None);
    }

    #[test]
    fn progress_is_one_past_the_last_durable_offset() {
        let mut p = Progress::default();
        assert_eq!(p.next("t", 0), 0);
        p.commit(batch("t", 0, 0, 50, 99));
        p.commit(batch("t", 0, 0, 0, 49));
        assert_eq!(p.next("t", 0), 100);
        assert_eq!(p.next("t", 1), 0);
        assert!(p.is_committed(&batch("t", 0, 0, 0, 49)) && !p.is_committed(&batch("t", 0, 0, 0, 99)));
    }

    #[test]
    fn a_reset_starts_the_topic_over_and_keeps_its_old_batches_committed() {
        let mut p = Progress::default();
        p.commit(batch("t", 0, 0, 0, 99));
        p.commit(batch("t", 1, 0, 0, 9));
        p.commit(batch("u", 0, 0, 0, 5));
        p.timestamps.insert(("t".to_owned(), 0, 99), 1);
        assert_eq!(p.partitions("t"), [(0, 100), (1, 10)].into_iter().collect());
        p.reset("t", 1);
        assert_eq!((p.epoch("t"), p.next("t", 0), p.next("t", 1)), (1, 0, 0));
        assert_eq!(p.timestamp_at("t", 0, 99), None);
        assert!(p.partitions("t").is_empty());
        // Other topics are untouched; the old epoch's files are still committed ones.
        assert_eq!((p.epoch("u"), p.next("u", 0)), (0, 6));
        assert!(p.is_committed(&batch("t", 0, 0, 0, 99)));
        // A late entry of the old epoch (another session's) does not move the new epoch on.
        p.commit(batch("t", 0, 0, 100, 199));
        assert_eq!(p.next("t", 0), 0);
        p.commit(batch("t", 0, 1, 0, 39));
        assert_eq!(p.next("t", 0), 40);
        assert!(!p.is_committed(&batch("t", 0, 0, 0, 39)));
    }
}
