//! Fault injection for crash tests: the process aborts, as a `kill -9` would end it, at a named
//! point of its work, so that a test can place a crash exactly (a batch open, files published
//! but not recorded) instead of hoping that a timed kill lands there.
//!
//! Armed only by the environment variable `TELLONCE_FAULT=POINT:N` (abort at the `N`th time
//! `POINT` is reached, counting from 1), or `POINT:N:panic` to panic there instead (a bug's
//! path: the command must end with exit 1 and print no value); without it every point costs one
//! load of an initialised cell. Aborting loses nothing that a crash would not: the whole point of the tests
//! is that the output survives it.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

/// The environment variable that arms one fault point.
pub const ENV: &str = "TELLONCE_FAULT";

/// A stream session has just taken a message into an open batch.
pub const STREAM_MESSAGE: &str = "stream.message";
/// A stream batch's files are published and not yet recorded in the audit log.
pub const STREAM_BATCH_PUBLISHED: &str = "stream.batch_published";
/// A stream batch is recorded in the audit log and its offsets not yet committed to Kafka.
pub const STREAM_BATCH_RECORDED: &str = "stream.batch_recorded";

/// A command's output file has just been renamed into place (published) and its `file_written`
/// entry not yet appended: a file run's staging part or quarantine file, a build's part.
pub const COMMIT_PUBLISHED: &str = "commit.published";
/// A command's files are recorded and the audit log synced, and what acknowledges them (a file
/// run's input marker, a build's identity index and stamp) is not yet written.
pub const COMMIT_RECORDED: &str = "commit.recorded";
/// An erasure has rewritten (or removed) a staging file and not yet noted or recorded it.
pub const ERASE_REWRITTEN: &str = "erase.rewritten";
/// A move of earlier versions to history is recorded and the audit log synced, and the staging
/// file's new content (without them) is not yet put in place.
pub const SUPERSEDE_RECORDED: &str = "supersede.recorded";
/// Retention has deleted a file and not yet recorded the deletion.
pub const RETENTION_DELETED: &str = "retention.deleted";

/// How an armed point ends the process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ending {
    /// `abort`, as a `kill -9` would end it.
    Abort,
    /// A panic, as a bug would.
    Panic,
}

/// The armed point, the hit to fail at and how.
struct Armed {
    point: String,
    at: u64,
    ending: Ending,
    hits: AtomicU64,
}

fn armed() -> Option<&'static Armed> {
    static ARMED: OnceLock<Option<Armed>> = OnceLock::new();
    ARMED
        .get_or_init(|| {
            let value = std::env::var(ENV).ok()?;
            let (point, at, ending) = parse(&value)?;
            Some(Armed { point, at, ending, hits: AtomicU64::new(0) })
        })
        .as_ref()
}

/// `POINT:N` or `POINT:N:panic` with `N` ≥ 1; anything else arms nothing.
fn parse(value: &str) -> Option<(String, u64, Ending)> {
    let (value, ending) = match value.trim().strip_suffix(":panic") {
        Some(v) => (v, Ending::Panic),
        None => (value, Ending::Abort),
    };
    let (point, at) = value.rsplit_once(':')?;
    let at: u64 = at.trim().parse().ok()?;
    (at > 0 && !point.trim().is_empty()).then(|| (point.trim().to_owned(), at, ending))
}

/// Marks that the work reached `point`; aborts the process if this is the armed hit.
pub fn reached(point: &str) {
    let Some(armed) = armed() else { return };
    if armed.point != point {
        return;
    }
    if armed.hits.fetch_add(1, Ordering::Relaxed) + 1 == armed.at {
        match armed.ending {
            // Like a kill -9: no destructors, no flush, no unwinding.
            Ending::Abort => std::process::abort(),
            // A formatted message, as a bug's would be, so that the test sees it withheld.
            Ending::Panic => panic!("fault injected at {point}, hit {}", armed.at),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Ending, parse};

    #[test]
    fn a_point_and_a_positive_count_arm_a_fault_and_nothing_else_does() {
        assert_eq!(parse("stream.message:25"), Some(("stream.message".to_owned(), 25, Ending::Abort)));
        assert_eq!(parse(" stream.message : 3"), Some(("stream.message".to_owned(), 3, Ending::Abort)));
        assert_eq!(parse("commit.published:2:panic"), Some(("commit.published".to_owned(), 2, Ending::Panic)));
        for bad in ["stream.message", "stream.message:0", ":4", "stream.message:x", "", "x:panic", "x:0:panic"] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }
}
