//! The committed batches as the shared audit log records them, and the removal of batch files
//! that were published but never recorded as committed.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use tellonce_governance::audit::{ReadCursor, read_new_entries};
use tellonce_kafka::{Durable, TopicPartition};
use tracing::warn;

use super::{ownership, progress};
use crate::run::{Context, RunError};
use progress::{BatchName, Progress};

/// The committed batches, as far as this session has read the (shared) audit log.
#[derive(Default)]
pub(super) struct LogProgress {
    cursor: ReadCursor,
    pub(super) progress: Progress,
}

impl LogProgress {
    /// Reads what other sessions (and this one) have recorded since the last read.
    pub(super) fn refresh(&mut self, ctx: &Context<'_>) -> Result<(), RunError> {
        self.refresh_dir(&ctx.settings.output_dir)
    }

    /// The same, for the output directory `out`.
    pub(super) fn refresh_dir(&mut self, out: &Path) -> Result<(), RunError> {
        let entries = read_new_entries(&out.join(tellonce_output::layout::AUDIT), &mut self.cursor)?;
        self.progress.absorb(&entries);
        Ok(())
    }
}

/// Where each partition the consumer is assigned starts, from the audit log: its durable
/// offset, so that the group's committed offsets (Kafka's, not this output's) never decide.
pub(super) struct AuditStarts {
    /// The output directory, whose audit log says where each assigned partition starts.
    out: PathBuf,
    /// The committed batches as far as the rebalance callbacks have read the audit log.
    positions: Mutex<LogProgress>,
}

impl AuditStarts {
    /// The starts of the output in `out`.
    pub(super) fn new(out: &Path) -> AuditStarts {
        AuditStarts { out: out.to_owned(), positions: Mutex::default() }
    }
}

impl Durable for AuditStarts {
    /// If the log cannot be read, the group's offsets stand: nothing is written twice from them,
    /// and the session's own read of the log then reports the problem.
    fn next_offsets(&self, partitions: &[TopicPartition]) -> Option<Vec<u64>> {
        let mut log = self.positions.lock().ok()?;
        if let Err(e) = log.refresh_dir(&self.out) {
            warn!("cannot read the audit log to place the assigned partitions: {e}");
            return None;
        }
        Some(partitions.iter().map(|p| log.progress.next(&p.topic, p.partition)).collect())
    }
}

/// The batch a history part's versions came from, if they came from a stream batch's staging
/// file: `…-from-k@…` in its name (a topic name holds no `@`, so the marker is found once).
fn moved_from(name: &str) -> Option<BatchName> {
    name.find("-from-k@").and_then(|at| progress::parse(&name[at + "-from-".len()..]))
}

/// The files of stream batches in the staging and quarantine datasets (temporary files
/// included), with the batch each belongs to; and the history parts holding versions moved out
/// of a batch's staging files, with that batch (a batch that supersedes its own earlier part's
/// version, then stops before it is committed, leaves one: its versions are staged again when
/// the batch is read again, so the part goes with the batch's files).
fn batch_files(out: &Path) -> Vec<(PathBuf, BatchName)> {
    let mut found = Vec::new();
    if let Ok(feeds) = std::fs::read_dir(out.join(tellonce_output::layout::HISTORY)) {
        for f in feeds.flatten().filter_map(|d| std::fs::read_dir(d.path()).ok()).flatten().flatten() {
            let name = f.file_name().to_string_lossy().into_owned();
            if let Some(batch) = moved_from(&name).filter(|_| !name.starts_with('.')) {
                found.push((f.path(), batch));
            }
        }
    }
    for dataset in [tellonce_output::layout::STAGING, tellonce_output::layout::QUARANTINE] {
        let Ok(feeds) = std::fs::read_dir(out.join(dataset)) else { continue };
        for dir in feeds.flatten() {
            let Ok(files) = std::fs::read_dir(dir.path()) else { continue };
            for f in files.flatten() {
                let name = f.file_name().to_string_lossy().into_owned();
                // A batch's temporary files too: a partition's lock proves nobody writes them.
                if name.starts_with('.') && !tellonce_connectors::atomic::is_temp_file_name(&name) {
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

/// The feed of a staging file at `path` under `out` (`None` for any other file).
fn staging_feed(out: &Path, path: &Path) -> Option<String> {
    let rel = tellonce_output::layout::relative(out, path);
    let mut parts = rel.split('/');
    (parts.next() == Some(tellonce_output::layout::STAGING))
        .then(|| parts.next()?.strip_prefix("feed=").map(str::to_owned))
        .flatten()
}

/// Clears uncommitted batch files of the partitions no session holds now (of topics this
/// session may never be assigned, too), so that a stopped session's leftovers do not wait for
/// the partition's next owner.
pub(super) fn sweep_unowned(ctx: &Context<'_>, log: &mut LogProgress) -> Result<(), RunError> {
    log.refresh(ctx)?;
    let out = &ctx.settings.output_dir;
    let mut partitions: Vec<TopicPartition> = batch_files(out)
        .into_iter()
        .filter(|(_, batch)| !log.progress.is_committed(batch))
        .map(|(_, batch)| TopicPartition::new(batch.topic, batch.partition))
        .collect();
    partitions.sort_unstable();
    partitions.dedup();
    for partition in partitions {
        // A partition another session holds is left to it: it may be writing that batch now.
        if let Some(_lock) = ownership::try_claim(out, &partition)? {
            sweep_partition(ctx, log, &partition)?;
        }
    }
    Ok(())
}

/// Removes the batch files of one partition that the audit log does not record as committed: a
/// session stopped (killed, or failed) between publishing a batch's files and recording the
/// batch. Their records were never committed, so they are read again; left in place, a replay
/// with other batch boundaries would duplicate them. The caller holds the partition's lock.
pub(super) fn sweep_partition(
    ctx: &Context<'_>,
    log: &mut LogProgress,
    partition: &TopicPartition,
) -> Result<(), RunError> {
    log.refresh(ctx)?;
    let out = &ctx.settings.output_dir;
    let uncommitted: Vec<PathBuf> = batch_files(out)
        .into_iter()
        .filter(|(_, b)| b.topic == partition.topic && b.partition == partition.partition)
        .filter(|(_, b)| !log.progress.is_committed(b))
        .map(|(path, _)| path)
        .collect();
    // Staging files leave with their feed's staging to this session (see `feed_lock`): another
    // session may be comparing a batch of the feed with them.
    let mut feeds: Vec<String> = uncommitted.iter().filter_map(|p| staging_feed(out, p)).collect();
    feeds.sort_unstable();
    feeds.dedup();
    let _locks = feeds
        .iter()
        .map(|f| super::feed_lock::lock_feed(out, f, super::feed_lock::FEED_TIMEOUT))
        .collect::<Result<Vec<_>, _>>()?;
    let mut removed = false;
    for path in uncommitted {
        let reason = "uncommitted: written by an interrupted stream session before its batch was committed";
        let deleted = tellonce_output::unrecorded::remove_unrecorded_file(out, &path, reason)
            .map_err(|source| RunError::Output { path: path.clone(), source })?;
        warn!(file = %tellonce_output::layout::relative(out, &path), "removed a file of a stream batch that was never committed (an interrupted session)");
        ctx.audit(&deleted)?;
        removed = true;
    }
    if removed {
        ctx.audit_sync()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_history_part_names_the_batch_its_versions_came_from() {
        let own = progress::stem("a-b.c", 2, 0, 10, 19);
        let earlier = progress::stem("a-b.c", 2, 0, 0, 9);
        let from_own = format!("part-{own}~1-20261204T1-12-superseded-from-{own}-00000.parquet");
        let batch = moved_from(&from_own).unwrap();
        assert_eq!((batch.topic.as_str(), batch.partition, batch.first, batch.last), ("a-b.c", 2, 10, 19));
        let from_earlier = format!("part-{own}-20261204T1-12-superseded-from-{earlier}~3-00000.parquet");
        assert_eq!(moved_from(&from_earlier).unwrap().last, 9);
        // Versions moved out of a file input's part belong to no batch.
        assert!(moved_from(&format!("part-{own}-r1-superseded-from-ab12cd34ab12cd34-00000.parquet")).is_none());
    }
}
