//! Latency percentiles in constant memory: a histogram of whole milliseconds.

/// Whole milliseconds up to this are counted exactly; longer ones share one bucket (reported
/// as this value, so a percentile that lands there reads "at least ten minutes").
const EXACT_MS: usize = 600_000;

/// A histogram of latencies in milliseconds.
#[derive(Debug, Clone, Default)]
pub struct Latencies {
    counts: Vec<u64>,
    total: u64,
    max: u64,
}

impl Latencies {
    /// Counts one latency.
    pub fn record(&mut self, ms: u64) {
        self.record_n(ms, 1);
    }

    /// Counts `n` equal latencies.
    pub fn record_n(&mut self, ms: u64, n: u64) {
        if n == 0 {
            return;
        }
        let bucket = usize::try_from(ms).unwrap_or(EXACT_MS).min(EXACT_MS);
        if self.counts.len() <= bucket {
            self.counts.resize(bucket + 1, 0);
        }
        self.counts[bucket] += n;
        self.total += n;
        self.max = self.max.max(ms);
    }

    /// How many latencies were counted.
    pub fn count(&self) -> u64 {
        self.total
    }

    /// The longest latency counted (0 if none).
    pub fn max(&self) -> u64 {
        self.max
    }

    /// The smallest latency at or below which a fraction `p` (0–1) of those counted lie (0 if
    /// none were).
    pub fn percentile(&self, p: f64) -> u64 {
        if self.total == 0 {
            return 0;
        }
        let rank = ((self.total as f64 * p.clamp(0.0, 1.0)).ceil() as u64).max(1);
        let mut seen = 0;
        for (ms, n) in self.counts.iter().enumerate() {
            seen += n;
            if seen >= rank {
                return ms as u64;
            }
        }
        self.max
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_ranks_in_the_counted_latencies() {
        let mut l = Latencies::default();
        assert_eq!((l.percentile(0.5), l.count()), (0, 0));
        for ms in 1..=100 {
            l.record(ms);
        }
        assert_eq!(l.percentile(0.5), 50);
        assert_eq!(l.percentile(0.99), 99);
        assert_eq!(l.percentile(1.0), 100);
        l.record_n(5_000, 100);
        assert_eq!(l.percentile(0.5), 100);
        assert_eq!(l.percentile(0.51), 5_000);
        l.record(3_600_000);
        assert_eq!((l.max(), l.percentile(1.0)), (3_600_000, EXACT_MS as u64));
    }
}
