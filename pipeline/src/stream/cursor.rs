//! Where a held partition stands: the next offset the session must take, so that no offset is
//! ever passed over on the word of the broker or the client alone.
//!
//! The session takes a partition's messages only in offset order with nothing between. A
//! message beyond the offset it needs next (a fetch position ahead of what the output holds: a
//! group offset committed elsewhere, a broker whose reported log end is wrong, messages fetched
//! before a rebalance and delivered after it, a broker that answers a fetch from the middle of a
//! record batch with the next batch, as tansu 0.6 does) is not taken: the partition is sought
//! back to the offset needed and, while the broker still answers past it, further back (1, 2,
//! 4, … offsets before it, down to the start of the log). Offsets are taken to be absent from
//! the broker's log (retention, compaction, transaction markers) only when it jumps over them
//! while reading in order from before them, or when asked from the very start of the log: then
//! the session counts them and goes on.

use std::time::{Duration, Instant};

/// How long a seek may go unanswered before a later message starts it again: messages fetched
/// before the seek are dropped meanwhile.
pub(super) const SEEK_RETRY: Duration = Duration::from_millis(500);

/// What to do with one message of a held partition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Step {
    /// Below the next offset needed: written, being written, or in the open batch already.
    Skip,
    /// The next offset needed, or the first the broker has past a gap it confirmed: take it.
    /// `missing` offsets before it (0 normally) are absent from the broker's log.
    Take {
        /// Offsets between the one needed and this one that the broker does not have.
        missing: u64,
    },
    /// Past the offset needed: drop it and seek the partition to this offset.
    SeekBack(u64),
    /// Past what the broker answered to the last seek: fetched before it; drop it.
    Stale,
}

/// A search for the offset needed, after the broker answered past it.
#[derive(Debug, Clone, Copy)]
struct Probe {
    /// The broker's answer past the offset needed: a message later still was fetched before the
    /// last seek.
    trigger: u64,
    /// Where the partition was last sought.
    from: u64,
    /// A message at or after `from` and before the offset needed came since: the broker is
    /// reading in order from before the offset needed.
    anchored: bool,
    /// When the partition was last sought.
    at: Instant,
}

/// One held partition's next offset and pending search.
#[derive(Debug, Clone)]
pub(super) struct Cursor {
    next: u64,
    probe: Option<Probe>,
}

impl Cursor {
    /// A partition taken over whose first offset not yet durable is `next`.
    pub(super) fn new(next: u64) -> Cursor {
        Cursor { next, probe: None }
    }

    /// The next offset the session must take.
    pub(super) fn next(&self) -> u64 {
        self.next
    }

    /// Decides what to do with the message at `offset`, arriving at `now`.
    pub(super) fn step(&mut self, offset: u64, now: Instant) -> Step {
        let next = self.next;
        if offset < next {
            if let Some(p) = self.probe.as_mut().filter(|p| offset >= p.from) {
                p.anchored = true;
            }
            return Step::Skip;
        }
        if offset == next {
            self.probe = None;
            self.next = offset + 1;
            return Step::Take { missing: 0 };
        }
        let Some(p) = self.probe.as_mut() else {
            self.probe = Some(Probe { trigger: offset, from: next, anchored: false, at: now });
            return Step::SeekBack(next);
        };
        if offset > p.trigger {
            if now.duration_since(p.at) < SEEK_RETRY {
                return Step::Stale;
            }
            // The seek was not answered (or the trigger's offset went too): ask again.
            p.trigger = offset;
            p.at = now;
            return Step::SeekBack(p.from);
        }
        if p.anchored || p.from == 0 {
            // Read in order from before `next` (or from the log's very start), the broker went
            // from below it straight to `offset`: it has nothing between.
            self.probe = None;
            self.next = offset + 1;
            return Step::Take { missing: offset - next };
        }
        // Asked from `from`, it answered past `next` without anything before: ask from twice
        // as far back.
        let back = (2 * (next - p.from)).max(1);
        p.from = next.saturating_sub(back);
        p.trigger = offset;
        p.at = now;
        Step::SeekBack(p.from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_in_order_are_taken_and_those_below_skipped() {
        let now = Instant::now();
        let mut c = Cursor::new(100);
        assert_eq!(c.step(99, now), Step::Skip, "the last durable message, placed one back");
        assert_eq!(c.step(100, now), Step::Take { missing: 0 });
        assert_eq!(c.step(101, now), Step::Take { missing: 0 });
        assert_eq!(c.step(100, now), Step::Skip, "delivered again: it is in the open batch");
        assert_eq!(c.next(), 102);
    }

    #[test]
    fn a_message_past_the_offset_needed_is_not_taken_and_the_partition_is_sought_back() {
        let now = Instant::now();
        let mut c = Cursor::new(120_000);
        // A fetch position ahead of what the output holds: nothing is taken from it.
        assert_eq!(c.step(120_211, now), Step::SeekBack(120_000));
        // Messages fetched before the seek may still arrive: dropped.
        assert_eq!(c.step(120_212, now), Step::Stale);
        // The seek took effect: the offsets needed come, in order.
        assert_eq!(c.step(120_000, now), Step::Take { missing: 0 });
        assert_eq!(c.step(120_001, now), Step::Take { missing: 0 });
        assert_eq!(c.next(), 120_002);
    }

    #[test]
    fn a_broker_that_answers_a_fetch_from_inside_a_record_batch_with_the_next_batch_is_asked_from_further_back() {
        // tansu 0.6 holds offsets 31 to 64 in one record batch and answers any fetch from 32 to
        // 65 with offset 65 onwards, 24 to 31 with 31 onwards.
        let answer = |from: u64| if from <= 31 { 31 } else { 65 };
        let now = Instant::now();
        let mut c = Cursor::new(40);
        let mut step = c.step(answer(39), now);
        let mut asked = Vec::new();
        while let Step::SeekBack(from) = step {
            asked.push(from);
            step = c.step(answer(from), now);
        }
        assert_eq!(asked, [40, 39, 38, 36, 32, 24]);
        assert_eq!(step, Step::Skip, "31, from the batch holding the offset needed");
        for skipped in 32..40 {
            assert_eq!(c.step(skipped, now), Step::Skip);
        }
        assert_eq!(c.step(40, now), Step::Take { missing: 0 }, "nothing lost");
    }

    #[test]
    fn a_gap_the_broker_jumps_while_reading_in_order_is_taken_and_counted() {
        let now = Instant::now();
        let mut c = Cursor::new(10);
        // Offsets 10 and 11 were compacted away (or are transaction markers).
        assert_eq!(c.step(12, now), Step::SeekBack(10));
        assert_eq!(c.step(12, now), Step::SeekBack(9));
        assert_eq!(c.step(9, now), Step::Skip);
        assert_eq!(c.step(12, now), Step::Take { missing: 2 });
        assert_eq!(c.step(13, now), Step::Take { missing: 0 });
    }

    #[test]
    fn offsets_before_the_start_of_the_log_are_counted_once_asked_from_its_start() {
        let now = Instant::now();
        let mut c = Cursor::new(5);
        // Retention removed everything before 500: every seek lands there.
        let mut step = c.step(500, now);
        let mut seeks = 0;
        while let Step::SeekBack(_) = step {
            seeks += 1;
            step = c.step(500, now);
        }
        assert_eq!(step, Step::Take { missing: 495 });
        assert!(seeks <= 5, "{seeks} seeks");
    }

    #[test]
    fn a_seek_left_unanswered_is_asked_again_from_a_later_message() {
        let now = Instant::now();
        let mut c = Cursor::new(0);
        assert_eq!(c.step(50, now), Step::SeekBack(0));
        assert_eq!(c.step(60, now + SEEK_RETRY / 2), Step::Stale);
        assert_eq!(c.step(70, now + SEEK_RETRY), Step::SeekBack(0));
        // Asked from the log's start, the broker answers with 70: nothing before it.
        assert_eq!(c.step(70, now + SEEK_RETRY), Step::Take { missing: 70 });
    }
}
