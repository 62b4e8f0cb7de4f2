//! How the lines of a feed's tombstone file (`state/tombstones/FEED.jsonl`, see
//! [`crate::layout::tombstones`]) add up to what stands: ingest refuses by it, the build explains
//! id changes by it. The file only grows; read in order, an erasure stands for good, a
//! withdrawal stands until a later `reinstated` line lifts it, and a withdrawal laid again
//! after that stands again.

use std::collections::HashMap;
use std::hash::Hash;

/// The reason of a tombstone laid at a data subject's request.
pub const ERASURE: &str = "erasure";
/// The reason of a tombstone laid by a partner's withdrawal (a snapshot's absence, a
/// withdrawals file, a row or message marked withdrawn).
pub const WITHDRAWN: &str = "withdrawn";
/// The reason of a line lifting a reference's withdrawal.
pub const REINSTATED: &str = "reinstated";

/// Applies one line, `line` for reference `id` with `reason`, to what stands; `erased` tells
/// whether a line standing is an erasure.
pub fn apply<K: Eq + Hash, T>(standing: &mut HashMap<K, T>, id: K, reason: &str, line: T, erased: impl Fn(&T) -> bool) {
    if standing.get(&id).is_some_and(&erased) {
        return;
    }
    if reason == REINSTATED {
        standing.remove(&id);
    } else {
        standing.insert(id, line);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_erasure_stands_for_good_and_a_withdrawal_until_lifted() {
        let mut standing: HashMap<&str, &str> = HashMap::new();
        let lines = [
            ("A", WITHDRAWN),
            ("B", WITHDRAWN),
            ("B", ERASURE),
            ("C", ERASURE),
            ("A", REINSTATED),
            ("B", REINSTATED),
            ("C", REINSTATED),
            ("D", WITHDRAWN),
            ("D", REINSTATED),
            ("D", WITHDRAWN),
        ];
        for (id, reason) in lines {
            apply(&mut standing, id, reason, reason, |r| *r == ERASURE);
        }
        let mut got: Vec<(&str, &str)> = standing.into_iter().collect();
        got.sort_unstable();
        assert_eq!(got, [("B", ERASURE), ("C", ERASURE), ("D", WITHDRAWN)]);
    }
}
