//! How a session ends: its last offset commit, bounded when the broker stalls, and its entry in
//! the audit log; and the signals that ask it to end.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tellonce_governance::audit::Event;
use tellonce_kafka::{Consumer, KafkaError, TopicPartition};
use tracing::warn;

use super::report::StreamReport;
use super::sweep::AuditStarts;
use crate::run::{Context, RunError};
use crate::stream::error::StreamError;

/// How long a stopping session waits for the broker to answer before its last offset commit.
/// The batches are durable by then, and a session starts from the audit log's record of them
/// whatever the group's offsets say.
pub(super) const FINAL_COMMIT_WAIT: Duration = Duration::from_secs(15);

/// Commits `next` and waits for the answer, so that the group's offsets are where the audit
/// log says the batches are durable. librdkafka's synchronous commit waits without a
/// bound, so the coordinator is asked first, for [`FINAL_COMMIT_WAIT`] at most; returns whether
/// it answered (when not, no synchronous commit is sent). It is asked even with nothing to commit: the
/// consumer's close waits on it too.
pub(super) fn final_commit(consumer: &Consumer<AuditStarts>, next: &[(TopicPartition, u64)]) -> Result<bool, RunError> {
    let asked: Vec<TopicPartition> = consumer.assignment().into_iter().collect();
    if !consumer.coordinator_answers(&asked, FINAL_COMMIT_WAIT) {
        warn!(
            wait_s = FINAL_COMMIT_WAIT.as_secs(),
            "the broker did not answer within the wait, so the session ends without its last offset commit \
             confirmed (the batches are durable, and the next session starts from the audit log's record of \
             them: nothing is staged twice)"
        );
        return Ok(false);
    }
    match consumer.commit(next, true) {
        Ok(()) => Ok(true),
        Err(e @ KafkaError::Commit { .. }) => {
            warn!("{e} (the batches are durable)");
            Ok(true)
        }
        Err(e) => Err(super::kafka(e)),
    }
}

/// Records the end of the session in the audit log; leaves the group first if `consumer` is
/// given.
pub(super) fn finish(
    ctx: &Context<'_>,
    report: &StreamReport,
    consumer: Option<&Consumer<AuditStarts>>,
) -> Result<(), RunError> {
    if let Some(c) = consumer {
        c.unsubscribe();
    }
    ctx.audit(&Event::RunFinished {
        run: ctx.run_id.clone(),
        status: tellonce_governance::audit::reasons::RunStatus::Finished.to_string(),
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
    ctrlc::set_handler(move || flag.store(true, Ordering::Relaxed)).map_err(|e| StreamError::Signals(e.to_string()))?;
    Ok(stop)
}
