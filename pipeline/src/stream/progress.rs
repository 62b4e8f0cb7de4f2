//! Which offsets of each topic partition are already durable in the output.
//!
//! Each closed batch is written as an input of its own, named from its topic, partition and
//! offset range (`k@TOPIC@PARTITION@FIRST@LAST`), and recorded in the audit log like any file.
//! The audit log is therefore the truth about progress: the next offset of a partition is one
//! past the last offset of any staging or quarantine file the log holds for it. Kafka's committed
//! offsets only save re-reading: a message below the durable offset is skipped, so a crash
//! between writing a batch and committing its offsets never writes a record twice.

use std::collections::BTreeMap;

use crate::holdings::HeldFile;

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

/// Durable offsets by (topic, partition): the next offset to write.
#[derive(Debug, Default, Clone)]
pub struct Progress {
    next: BTreeMap<(String, i32), u64>,
}

impl Progress {
    /// From the files the audit log holds (staging and quarantine).
    pub fn from_held<'a>(held: impl IntoIterator<Item = &'a HeldFile>) -> Progress {
        let mut p = Progress::default();
        for f in held {
            if f.dataset != crate::run::STAGING && f.dataset != "quarantine" {
                continue;
            }
            let name = f.path.rsplit('/').next().unwrap_or(&f.path);
            if let Some((topic, partition, _, last)) = parse(name) {
                p.advance(&topic, partition, last);
            }
        }
        p
    }

    /// The first offset not yet durable (0 if nothing is).
    pub fn next(&self, topic: &str, partition: i32) -> u64 {
        self.next.get(&(topic.to_owned(), partition)).copied().unwrap_or(0)
    }

    /// Notes that everything up to `last` is durable.
    pub fn advance(&mut self, topic: &str, partition: i32, last: u64) {
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
        p.advance("t", 0, 99);
        p.advance("t", 0, 49);
        assert_eq!(p.next("t", 0), 100);
        assert_eq!(p.next("t", 1), 0);
    }
}
