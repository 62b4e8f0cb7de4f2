//! A session that holds no partition reads nothing, and says so once for each stretch of it: a
//! group with more sessions than partitions, or a broker that still counts a session that died
//! as holding its share, leaves it waiting for the next rebalance.

use std::time::{Duration, Instant};

use tellonce_kafka::Consumer;
use tracing::warn;

use super::sweep::AuditStarts;

/// How long a session holds no partition before it says so.
const AFTER: Duration = Duration::from_secs(30);

/// Whether the warning was given for the present stretch without a partition.
pub(super) struct Unassigned {
    started: Instant,
    warned: bool,
}

impl Unassigned {
    /// For a session starting now.
    pub(super) fn new() -> Unassigned {
        Unassigned { started: Instant::now(), warned: false }
    }

    /// Warns once the session has held no partition for [`AFTER`] since the last rebalance, or
    /// since its start where it was never given one.
    pub(super) fn check(&mut self, consumer: &Consumer<AuditStarts>) {
        let since = consumer.last_rebalance().unwrap_or(self.started);
        let unassigned = consumer.assignment().is_empty() && since.elapsed() >= AFTER;
        if unassigned && !self.warned {
            warn!(
                after_s = AFTER.as_secs(),
                "this session holds no partition and reads nothing until the next rebalance (the group has \
                 more sessions than partitions, or the broker still counts a session that died as holding its \
                 share)"
            );
        }
        self.warned = unassigned;
    }
}
