//! Where things live under the output root: every dataset's folder name and every state path,
//! named once here so that ingest, the build, rights and retention agree on them.

use std::path::{Path, PathBuf};

/// The pseudonymised staging dataset, written by ingest (`staging/feed=NAME/`).
pub const STAGING: &str = "staging";
/// Earlier versions of staged records, moved out of staging when a newer version arrived
/// (`history/feed=NAME/`), with when and by what they were superseded.
pub const HISTORY: &str = "history";
/// Records refused by validation or the agreement, sealed (`quarantine/feed=NAME/`); the
/// quarantine store's own name for its folder.
pub const QUARANTINE: &str = tellonce_connectors::quarantine::QUARANTINE_DIR;
/// The tamper-evident audit log's folder.
pub const AUDIT: &str = "audit";
/// Locks, input markers, erasure notes and the identity index: the output's own bookkeeping.
pub const STATE: &str = "state";

/// Each staged record with its person and family (`links/feed=NAME/`).
pub const LINKS: &str = "links";
/// Theme events: needs evidenced by partner records (`theme_events/headline=…/month=…/`).
pub const THEME_EVENTS: &str = "theme_events";
/// One row per linked person.
pub const PERSONS: &str = "persons";
/// One row per family.
pub const FAMILIES: &str = "families";
/// Episodes of support: a case opened and closed in a partner's records.
pub const EPISODES: &str = "episodes";
/// Each episode's headline needs at its start, and their outcomes.
pub const FAMILY_OUTCOMES: &str = "family_outcomes";
/// Per episode, whether every need at its start was met and sustained.
pub const OUTCOME_CLAIMS: &str = "outcome_claims";
/// Per closed episode, whether the family came back within 12 months, at the same level or at
/// level 4.
pub const RE_REFERRALS: &str = "re_referrals";
/// Disclosure-controlled aggregates (`aggregates/table=NAME/`).
pub const AGGREGATES: &str = "aggregates";
/// How person and family ids changed from one build to the next; kept across builds.
pub const ID_HISTORY: &str = "id_history";
/// When each input arrived, by the `_input` its rows carry: from the audit log, at each build.
pub const ARRIVALS: &str = "arrivals";

/// The datasets each build replaces as a whole.
pub const REPLACED_BY_EACH_BUILD: [&str; 10] = [
    LINKS,
    THEME_EVENTS,
    PERSONS,
    FAMILIES,
    EPISODES,
    FAMILY_OUTCOMES,
    OUTCOME_CLAIMS,
    RE_REFERRALS,
    AGGREGATES,
    ARRIVALS,
];

/// The identity index: each record reference's person and family of the last build.
pub const INDEX_PATH: &str = "state/link/index.parquet";
/// What the last build was made from (the staged files it read).
pub const BUILT_FROM_PATH: &str = "state/link/built_from";
/// The history parts the last linkage build had seen (one `feed=NAME/part-….parquet` a line):
/// versions superseded in parts written since explain the next build's id changes.
pub const HISTORY_SEEN_PATH: &str = "state/link/history_seen";
/// The scoring model of the last build that scored pairs (JSON; each build's is in the audit log).
pub const MODEL_PATH: &str = "state/link/model.json";
/// The clerical-review sample of the last build that scored pairs: pairs near the threshold, by
/// record reference (JSON).
pub const REVIEW_PATH: &str = "state/link/review.json";

/// A path under the output root as the audit log records it: relative, `/`-separated.
pub fn relative(out: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(out).unwrap_or(path);
    rel.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/")
}

/// The input id (stem) of a dataset part's path: `abc` in `staging/feed=f/part-abc-00000.parquet`
/// (everything between `part-` and the part number, so a stream batch's id may hold dashes).
/// It is the `_input` of every row the part was written with.
pub fn part_stem(path: &str) -> Option<&str> {
    let name = path.rsplit('/').next()?;
    let numbered = name.strip_prefix("part-")?.strip_suffix(".parquet")?;
    numbered.rsplit_once('-').map(|(stem, _)| stem)
}

/// Where the note that erasure touched an input's outputs lives (see subject access).
pub fn erased_marker(out: &Path, feed: &str, sha256: &str) -> PathBuf {
    out.join(STATE).join("erased").join(feed).join(sha256.get(..16).unwrap_or(sha256))
}

/// Where the tombstones of a feed's erased or withdrawn records live: one JSON line per record
/// reference, which a re-sent copy of the record is refused by.
pub fn tombstones(out: &Path, feed: &str) -> PathBuf {
    out.join(STATE).join("tombstones").join(format!("{feed}.jsonl"))
}

/// Where the marker of a processed input lives.
pub fn input_marker(out: &Path, feed: &str, sha256: &str) -> PathBuf {
    out.join(STATE).join("inputs").join(feed).join(format!("{sha256}.json"))
}

/// The lock a file run holds alone and stream sessions and builds share (under [`STATE`]).
pub const RUN_LOCK: &str = "run.lock";
/// The lock that keeps builds one at a time (under [`STATE`]).
pub const BUILD_LOCK: &str = "build.lock";

/// The lock file a stream session holds for one topic partition.
pub fn partition_lock(out: &Path, topic: &str, partition: i32) -> PathBuf {
    out.join(STATE).join("stream").join(format!("{topic}@{partition}.lock"))
}

/// The lock a stream session holds while it compares a batch of `feed` with the records held and
/// moves the versions it supersedes: batches of one feed, from any partition or session, change
/// its staging one at a time.
pub fn feed_staging_lock(out: &Path, feed: &str) -> PathBuf {
    out.join(STATE).join("stream").join(format!("feed={feed}.lock"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_are_slash_separated_under_the_root() {
        let out = Path::new("/o");
        assert_eq!(
            relative(out, &out.join(STAGING).join("feed=police").join("a.parquet")),
            "staging/feed=police/a.parquet"
        );
        assert_eq!(
            erased_marker(out, "camhs", "0123456789abcdef0123"),
            out.join("state/erased/camhs/0123456789abcdef")
        );
    }
}
