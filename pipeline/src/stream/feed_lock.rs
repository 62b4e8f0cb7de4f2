//! One feed's staging changed by one stream batch at a time.
//!
//! A batch is compared with the records of its feed held, and may move versions held in other
//! batches' files (of any partition, written by any session) to history. Two batches of one feed
//! compared at once could both find a record new and stage it twice, or both rewrite one file.
//! So a batch is compared, written and recorded as committed while its writer holds the feed's
//! lock: a mutex between this session's writers and an advisory file lock
//! ([`tellonce_output::layout::feed_staging_lock`]) between sessions; and the session's live
//! holding of the feed ([`LiveHoldings`]) is brought up to date from the audit log once it holds
//! both. Staging (validation, pseudonymisation) happens before, in parallel.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tellonce_output::layout::{STAGING, feed_staging_lock};
use tellonce_schemas::FeedSchema;

use crate::records::live::LiveHoldings;
use crate::run::{Context, RunError};
use crate::stream::error::StreamError;

/// How long a batch waits for another session to finish with its feed's staging.
pub const FEED_TIMEOUT: Duration = Duration::from_secs(120);

/// The live holdings of the feeds a session streams, each behind its lock.
#[derive(Default)]
pub(super) struct Holdings {
    feeds: Mutex<HashMap<&'static str, Arc<Mutex<Option<LiveHoldings>>>>>,
}

impl Holdings {
    /// Runs `f` with `feed`'s staging to itself (see the module's documentation) and its live
    /// holding up to date: loaded on the feed's first batch, and loaded again if a batch that
    /// failed took its parts. Side files a session left while rewriting the feed's staging are
    /// settled first. The feed's records are known by `key_column` (`record_id`, or its token).
    pub(super) fn with_feed<R>(
        &self,
        ctx: &Context<'_>,
        feed: &'static FeedSchema,
        key_column: &'static str,
        f: impl FnOnce(&mut LiveHoldings) -> Result<R, RunError>,
    ) -> Result<R, RunError> {
        let out = &ctx.settings.output_dir;
        let slot = {
            let mut feeds = self.feeds.lock().map_err(|_| poisoned())?;
            Arc::clone(feeds.entry(feed.name).or_default())
        };
        let mut live = slot.lock().map_err(|_| poisoned())?;
        let _file = lock_feed(out, feed.name, FEED_TIMEOUT)?;
        let folder = format!("{STAGING}/feed={}", feed.name);
        let settled = tellonce_output::strays::settle_erasures_under(out, &folder)
            .map_err(|e| RunError::Output { path: e.path.clone(), source: e.source })?;
        for pruned in &settled.pruned {
            ctx.audit(pruned)?;
        }
        if !settled.pruned.is_empty() {
            ctx.audit_sync()?;
        }
        match live.as_mut().filter(|l| l.is_whole()) {
            Some(l) => l.refresh(out)?,
            None => {
                let clock = Instant::now();
                let loaded = LiveHoldings::load(out, feed, key_column)?;
                tracing::debug!(
                    feed = feed.name,
                    records = loaded.len(),
                    ms = clock.elapsed().as_millis() as u64,
                    "records held loaded for streaming"
                );
                *live = Some(loaded);
            }
        }
        let Some(l) = live.as_mut() else { return Err(RunError::Internal("no live holding".to_owned())) };
        f(l)
    }
}

fn poisoned() -> RunError {
    RunError::Internal("a feed's holding lock was poisoned".to_owned())
}

/// Takes `feed`'s staging lock, waiting up to `timeout` for another session to release it.
pub(super) fn lock_feed(out: &Path, feed: &str, timeout: Duration) -> Result<std::fs::File, RunError> {
    let path = feed_staging_lock(out, feed);
    let started = Instant::now();
    loop {
        if let Some(file) = tellonce_output::lock::try_lock_file(&path, false)? {
            return Ok(file);
        }
        if started.elapsed() >= timeout {
            let seconds = timeout.as_secs();
            return Err(StreamError::FeedHeld { feed: feed.to_owned(), seconds, lock: path }.into());
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_feed_has_one_writer_at_a_time() {
        let dir = tempfile::tempdir().unwrap();
        let held = lock_feed(dir.path(), "police", Duration::ZERO).unwrap();
        let refused = lock_feed(dir.path(), "police", Duration::from_millis(50)).unwrap_err().to_string();
        assert!(refused.contains("police") && refused.contains("feed=police.lock"), "{refused}");
        lock_feed(dir.path(), "housing", Duration::ZERO).unwrap();
        drop(held);
        lock_feed(dir.path(), "police", Duration::ZERO).unwrap();
    }
}
