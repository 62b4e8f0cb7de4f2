//! Which offsets of each topic partition are already durable in the output.
//!
//! Each closed batch is written as an input of its own, named from its topic, partition and
//! offset range (`k@TOPIC@PARTITION@FIRST@LAST`); its files are recorded in the audit log like any
//! file, and then a `stream_batch_committed` entry says the batch is complete. The audit log is
//! therefore the truth about progress: the next offset of a partition is one past the last offset
//! of its last committed batch. Deleting files later (retention, erasure) does not move it back.
//! Kafka's committed offsets only save re-reading: a message below the durable offset is skipped,
//! so a crash between writing a batch and committing its offsets never writes a record twice.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use tellonce_governance::audit::{Entry, Event};

/// The stem of the files one batch writes.
pub fn stem(topic: &str, partition: i32, first: u64, last: u64) -> String {
    format!("k@{topic}@{partition}@{first:020}@{last:020}")
}

/// The (topic, partition, first, last) a file name written by a batch stands for.
pub fn parse(file_name: &str) -> Option<(String, i32, u64, u64)> {
    let start = file_name.find("k@")?;
    let rest = &file_name[start + 2..];
    let mut parts = rest.split('@');
    let topic = parts.next()?.to_owned();
    let partition = parts.next()?.parse().ok()?;
    let first = parts.next()?.parse().ok()?;
    let last: String = parts.next()?.chars().take_while(char::is_ascii_digit).collect();
    Some((topic, partition, first, last.parse().ok()?))
}

/// Durable offsets by (topic, partition), the batches committed, and the timestamps of the
/// messages at their first and last offsets.
#[derive(Debug, Default, Clone)]
pub struct Progress {
    next: BTreeMap<(String, i32), u64>,
    committed: BTreeSet<(String, i32, u64, u64)>,
    timestamps: HashMap<(String, i32, u64), i64>,
}

impl Progress {
    /// From the `stream_batch_committed` entries of the audit log.
    pub fn from_entries(entries: &[Entry]) -> Progress {
        let mut p = Progress::default();
        p.absorb(entries);
        p
    }

    /// Adds the batches that more entries (read later from a live log) record as committed.
    pub fn absorb(&mut self, entries: &[Entry]) {
        for e in entries {
            if let Event::StreamBatchCommitted {
                topic,
                partition,
                first_offset,
                last_offset,
                first_timestamp,
                last_timestamp,
                ..
            } = &e.event
            {
                self.commit(topic, *partition, *first_offset, *last_offset);
                for (offset, ts) in [(first_offset, first_timestamp), (last_offset, last_timestamp)] {
                    if let Some(ts) = ts {
                        self.timestamps.insert((topic.clone(), *partition, *offset), *ts);
                    }
                }
            }
        }
    }

    /// The first offset not yet durable (0 if nothing is).
    pub fn next(&self, topic: &str, partition: i32) -> u64 {
        self.next.get(&(topic.to_owned(), partition)).copied().unwrap_or(0)
    }

    /// The timestamp recorded for the message at `offset`, if a committed batch begins or ends
    /// there and its message had one.
    pub fn timestamp_at(&self, topic: &str, partition: i32, offset: u64) -> Option<i64> {
        self.timestamps.get(&(topic.to_owned(), partition, offset)).copied()
    }

    /// Whether the batch with these offsets was committed.
    pub fn is_committed(&self, topic: &str, partition: i32, first: u64, last: u64) -> bool {
        self.committed.contains(&(topic.to_owned(), partition, first, last))
    }

    /// Notes that the batch `first..=last` is durable.
    pub fn commit(&mut self, topic: &str, partition: i32, first: u64, last: u64) {
        self.committed.insert((topic.to_owned(), partition, first, last));
        let e = self.next.entry((topic.to_owned(), partition)).or_insert(0);
        *e = (*e).max(last + 1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stems_parse_back_whatever_the_topic_name() {
        let s = stem("police.incidents-v2_x", 3, 17, 4096);
        let file = format!("part-{s}-00000.parquet");
        assert_eq!(parse(&file), Some(("police.incidents-v2_x".to_owned(), 3, 17, 4096)));
        assert_eq!(parse(&format!("{s}.jsonl")), Some(("police.incidents-v2_x".to_owned(), 3, 17, 4096)));
        assert_eq!(parse("part-0123abcd-00000.parquet"), None);
    }

    #[test]
    fn progress_is_one_past_the_last_durable_offset() {
        let mut p = Progress::default();
        assert_eq!(p.next("t", 0), 0);
        p.commit("t", 0, 50, 99);
        p.commit("t", 0, 0, 49);
        assert_eq!(p.next("t", 0), 100);
        assert_eq!(p.next("t", 1), 0);
        assert!(p.is_committed("t", 0, 0, 49) && !p.is_committed("t", 0, 0, 99));
    }
}
