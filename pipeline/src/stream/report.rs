//! What a stream session did, and when it stops of its own accord.

use std::time::Duration;

use serde::Serialize;

use super::latency::Latencies;

/// When `stream` stops of its own accord (tests and benchmarks; a service runs until signalled).
#[derive(Debug, Clone, Copy, Default)]
pub struct StreamOptions {
    /// Stop once no message has arrived for this long.
    pub idle_exit: Option<Duration>,
    /// Stop once this many messages have been read.
    pub max_messages: Option<u64>,
}

/// What a stream session did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct StreamReport {
    /// The session's id.
    pub run_id: String,
    /// Messages received.
    pub received: u64,
    /// Messages below the durable offset (written before), skipped.
    pub skipped: u64,
    /// Messages dropped with a revoked (or repositioned) partition's open batch, uncommitted:
    /// read again by its new owner.
    pub dropped_on_revoke: u64,
    /// Offsets the broker, asked from the offset the output needed next, answered past: absent
    /// from its log (retention, compaction, transaction markers), never to be had.
    pub missing_upstream: u64,
    /// Messages dropped because they came past the offset the output needed next (a fetch
    /// position ahead of what it holds); the partition was sought back and they were read
    /// again in order.
    pub refetched: u64,
    /// Messages dropped uncommitted because their topic's agreement ended during the session:
    /// read again once an agreement is in force.
    pub dropped_on_hold: u64,
    /// Records written to staging.
    pub written: u64,
    /// Records quarantined.
    pub quarantined: u64,
    /// Fields nulled in the records written (invalid or placeholder identifiers; each record's
    /// `_dq` names them, and each batch's audit entry counts them by column and rule).
    pub nulled: u64,
    /// The records read against those of their feed held: new, changed (a newer version of a
    /// record held), unchanged (held as it is: not staged again), refused (tombstoned: erased or
    /// withdrawn) and older (the version held is newer by the feed's last-updated column).
    pub versions: crate::records::compare::Counts,
    /// Versions held that newer ones moved to history.
    pub superseded: u64,
    /// Quarantined records also sent, sealed, to the dead-letter topic.
    pub dead_lettered: u64,
    /// Batches written.
    pub batches: u64,
    /// Files written (staging and quarantine).
    pub files: u64,
    /// Median and 99th percentile milliseconds from a batch's first message to its commit.
    pub batch_latency_ms: (u64, u64),
    /// Median, 99th percentile and longest milliseconds from each message's timestamp (set by
    /// its producer, or by the broker where the topic says so) to its batch being durable.
    /// Clocks of other hosts skew it.
    pub produce_to_durable_ms: (u64, u64, u64),
    /// Topics held (no agreement in force), with why.
    pub held: Vec<String>,
    /// Why the session stopped.
    pub stopped: String,
    /// Milliseconds from each batch's first message to its commit.
    #[serde(skip)]
    pub(super) batch_latency: Latencies,
    /// Milliseconds from each message's timestamp to its batch being durable.
    #[serde(skip)]
    pub(super) durable_latency: Latencies,
}
