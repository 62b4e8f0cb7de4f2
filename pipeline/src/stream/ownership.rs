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

use tellonce_kafka::TopicPartition;

use crate::run::RunError;
use crate::stream::error::StreamError;

/// How long a session waits for another to give up a partition before it gives up itself.
pub const CLAIM_TIMEOUT: Duration = Duration::from_secs(60);

/// The partition locks a session holds.
#[derive(Debug, Default)]
pub struct Owned {
    locks: HashMap<TopicPartition, File>,
}

impl Owned {
    /// Whether this session holds the partition.
    pub fn holds(&self, partition: &TopicPartition) -> bool {
        self.locks.contains_key(partition)
    }

    /// Takes the partition's lock, waiting up to `timeout` for another session to release it.
    pub fn claim(&mut self, out: &Path, partition: &TopicPartition, timeout: Duration) -> Result<(), RunError> {
        let started = Instant::now();
        loop {
            if let Some(file) = try_claim(out, partition)? {
                self.locks.insert(partition.clone(), file);
                return Ok(());
            }
            if started.elapsed() >= timeout {
                return Err(StreamError::PartitionHeld {
                    partition: partition.clone(),
                    seconds: timeout.as_secs(),
                    lock: lock_path(out, partition),
                }
                .into());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Gives up the partition.
    pub fn release(&mut self, partition: &TopicPartition) {
        self.locks.remove(partition);
    }
}

/// The lock file of a partition.
fn lock_path(out: &Path, p: &TopicPartition) -> PathBuf {
    tellonce_output::layout::partition_lock(out, &p.topic, p.partition)
}

/// Takes the partition's lock if no other session holds it (`None` if one does).
pub fn try_claim(out: &Path, partition: &TopicPartition) -> Result<Option<File>, RunError> {
    tellonce_output::lock::try_lock_file(&lock_path(out, partition), false).map_err(RunError::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_partition_has_one_owner_at_a_time() {
        let dir = tempfile::tempdir().unwrap();
        let (t0, t1) = (TopicPartition::new("t", 0), TopicPartition::new("t", 1));
        let mut a = Owned::default();
        let mut b = Owned::default();
        a.claim(dir.path(), &t0, Duration::ZERO).unwrap();
        assert!(a.holds(&t0) && !a.holds(&t1));
        let refused = b.claim(dir.path(), &t0, Duration::from_millis(120)).unwrap_err().to_string();
        assert!(refused.contains("t/0") && refused.contains("t@0.lock"), "{refused}");
        b.claim(dir.path(), &t1, Duration::ZERO).unwrap();
        a.release(&t0);
        b.claim(dir.path(), &t0, Duration::ZERO).unwrap();
        assert!(b.holds(&t0) && !a.holds(&t0));
        assert!(try_claim(dir.path(), &t0).unwrap().is_none());
    }
}
