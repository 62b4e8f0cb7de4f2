//! Which stream session may write a topic partition's batches.
//!
//! Kafka's group assignment says which session *should* read a partition, but a session that
//! fell out of the group (it spent too long writing a batch) may still be finishing a batch of a
//! partition that has moved on. Each partition therefore has a lock file,
//! `state/stream/TOPIC@PARTITION.lock`; a session writes a partition's batches only while it
//! holds that lock, and takes it before reading the partition's progress. The new owner waits
//! for the old one to finish its batch (and record it), then sees that batch as committed.
//!
//! The locks are advisory file locks: sessions on one host, or on hosts sharing a file system
//! whose locks are honoured across hosts (NFSv4, SMB), are kept apart.

use std::collections::HashMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::run::RunError;

/// How long a session waits for another to give up a partition before it gives up itself.
pub const CLAIM_TIMEOUT: Duration = Duration::from_secs(60);

/// The partition locks a session holds.
#[derive(Debug, Default)]
pub struct Owned {
    locks: HashMap<(String, i32), File>,
}

impl Owned {
    /// Whether this session holds the partition.
    pub fn holds(&self, topic: &str, partition: i32) -> bool {
        self.locks.contains_key(&(topic.to_owned(), partition))
    }

    /// Takes the partition's lock, waiting up to `timeout` for another session to release it.
    pub fn claim(&mut self, out: &Path, topic: &str, partition: i32, timeout: Duration) -> Result<(), RunError> {
        let started = Instant::now();
        loop {
            if let Some(file) = try_claim(out, topic, partition)? {
                self.locks.insert((topic.to_owned(), partition), file);
                return Ok(());
            }
            if started.elapsed() >= timeout {
                return Err(RunError::Stream(format!(
                    "partition {topic}/{partition} is still held by another stream session after {} s ({}); \
                     this session stops without writing it",
                    timeout.as_secs(),
                    lock_path(out, topic, partition).display()
                )));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Gives up the partition.
    pub fn release(&mut self, topic: &str, partition: i32) {
        self.locks.remove(&(topic.to_owned(), partition));
    }
}

/// The lock file of a partition.
fn lock_path(out: &Path, topic: &str, partition: i32) -> PathBuf {
    out.join("state").join("stream").join(format!("{topic}@{partition}.lock"))
}

/// Takes the partition's lock if no other session holds it (`None` if one does).
pub fn try_claim(out: &Path, topic: &str, partition: i32) -> Result<Option<File>, RunError> {
    tellonce_output::lock::try_lock_file(&lock_path(out, topic, partition), false).map_err(RunError::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_partition_has_one_owner_at_a_time() {
        let dir = tempfile::tempdir().unwrap();
        let mut a = Owned::default();
        let mut b = Owned::default();
        a.claim(dir.path(), "t", 0, Duration::ZERO).unwrap();
        assert!(a.holds("t", 0) && !a.holds("t", 1));
        let refused = b.claim(dir.path(), "t", 0, Duration::from_millis(120)).unwrap_err().to_string();
        assert!(refused.contains("t/0") && refused.contains("t@0.lock"), "{refused}");
        b.claim(dir.path(), "t", 1, Duration::ZERO).unwrap();
        a.release("t", 0);
        b.claim(dir.path(), "t", 0, Duration::ZERO).unwrap();
        assert!(b.holds("t", 0) && !a.holds("t", 0));
        assert!(try_claim(dir.path(), "t", 0).unwrap().is_none());
    }
}
