//! Starting a recreated topic over: `tellonce stream-reset`.
//!
//! A topic deleted and made again numbers its messages from 0 afresh, so the durable offsets the
//! audit log records for it name messages that no longer exist, and a session refuses it rather
//! than skip its new messages as written. The reset is the operator's answer: a
//! `stream_progress_reset` entry, with the reason given, opens a new epoch for the topic. In it
//! nothing is durable yet, so sessions read the topic from its start (going back past the
//! group's committed offsets, which Kafka may have kept), and name the new batches' files with
//! the epoch, apart from the old ones. The old files and entries stay: they were written under
//! an agreement and are governed (retention, erasure) like any other.

use std::collections::BTreeMap;
use std::path::Path;

use tellonce_governance::KeyRing;
use tellonce_governance::audit::{self, AuditLog, Event, PartitionOffset};

use super::progress::Progress;
use crate::run::RunError;
use crate::stream::error::StreamError;
use tellonce_output::layout::AUDIT;
use tellonce_output::lock::{Access, lock_output};

/// What a reset recorded.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ResetReport {
    /// The topic.
    pub topic: String,
    /// Its new epoch.
    pub epoch: u32,
    /// The durable offset each partition had before.
    pub durable_offsets: BTreeMap<i32, u64>,
}

/// Records a reset of `topic`'s stream progress in the output at `out`, for `reason`.
///
/// Takes the output alone, as a file run does: no stream session or build may be running, since
/// a session reads a partition's progress only when it takes the partition. Refuses a topic
/// with no recorded progress, and a reason left empty.
pub fn reset(out: &Path, keys: &KeyRing, topic: &str, reason: &str) -> Result<ResetReport, RunError> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(StreamError::NoReason.into());
    }
    let _lock = lock_output(out, Access::Exclusive)?;
    let entries = audit::read_entries(&out.join(AUDIT))?;
    let progress = Progress::from_entries(&entries);
    drop(entries);
    let durable_offsets = progress.partitions(topic);
    if durable_offsets.is_empty() {
        return Err(StreamError::NothingToReset { out: out.to_owned(), topic: topic.to_owned() }.into());
    }
    let epoch = progress.epoch(topic) + 1;
    let run = crate::run::new_run_id();
    let mut log = AuditLog::open(&out.join(AUDIT), keys.audit_signer())?;
    tellonce_output::strays::clear_and_record(out, Access::Exclusive, &mut log)?;
    log.append(&Event::StreamProgressReset {
        run,
        topic: topic.to_owned(),
        epoch,
        reason: reason.to_owned(),
        durable_offsets: durable_offsets.iter().map(|(p, o)| PartitionOffset { partition: *p, offset: *o }).collect(),
    })?;
    log.sync()?;
    Ok(ResetReport { topic: topic.to_owned(), epoch, durable_offsets })
}
