//! Why ids changed between builds: the kinds of record change behind each merge, split or
//! retirement, for `id_history/` and the audit log. A record is `new` (not in the last build),
//! `changed` (a newer version superseded it in staging since the last build: a history part the
//! last build had not seen holds the version superseded), `withdrawn` or
//! `erased` (gone, with a tombstone saying which), or `removed` (gone otherwise: retention, or
//! an input replaced). A change none of these explains is `relinked`: the same records grouped
//! otherwise (a new model, other settings).

use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::Path;

use arrow_array::Array;
use arrow_array::cast::AsArray;
use tellonce_output::layout::{HISTORY, HISTORY_SEEN_PATH, STATE};
use tellonce_output::tombstone_rule;

use super::LinkError;
use super::input::{REFERENCE_COLUMNS, RecordRefs, open_projected};

/// A record reference in its feed.
pub(crate) type Key = (String, String);

/// What happened to records since the last build, as staging, history and the tombstones say.
#[derive(Debug, Default)]
pub(crate) struct RecordChanges {
    /// Records a newer version superseded after the last build, by feed (so that a build asks
    /// of a million records without copying one reference).
    changed: HashMap<String, HashSet<String>>,
    /// Records with a tombstone, and why it stands.
    tombstoned: HashMap<Key, &'static str>,
}

impl RecordChanges {
    /// Reads the history parts the last build had not seen (all of them when it left no list)
    /// and the tombstones.
    pub(crate) fn read(out: &Path) -> Result<RecordChanges, LinkError> {
        let seen: Option<HashSet<String>> = std::fs::read_to_string(out.join(HISTORY_SEEN_PATH))
            .ok()
            .map(|text| text.lines().map(str::to_owned).collect());
        let mut found = RecordChanges::default();
        for (feed, path) in files_under(&out.join(HISTORY), "parquet") {
            if seen.as_ref().is_some_and(|s| s.contains(&history_name(&feed, &path))) {
                continue;
            }
            // Named as the build names records (`record_id`, else its token), so that a feed whose
            // agreement shares only the token still has its changes found.
            let reader = open_projected(&path, |c| REFERENCE_COLUMNS.contains(&c) || c == "_change")?;
            for batch in reader {
                let batch = batch.map_err(|e| LinkError::Internal(format!("{}: {e}", path.display())))?;
                let Some(change) = batch.column_by_name("_change").and_then(|c| c.as_string_opt::<i32>()) else {
                    continue;
                };
                let refs = RecordRefs::of(&batch);
                for i in (0..batch.num_rows()).filter(|&i| change.is_valid(i)) {
                    if change.value(i) == "superseded" {
                        found.changed.entry(feed.clone()).or_default().insert(refs.get(i));
                    }
                }
            }
        }
        for (file, path) in files_under(&out.join(STATE).join("tombstones"), "jsonl") {
            let feed = file.trim_end_matches(".jsonl").to_owned();
            let Ok(text) = std::fs::read_to_string(&path) else { continue };
            for line in text.lines() {
                let Ok(t) = serde_json::from_str::<serde_json::Value>(line) else { continue };
                let (Some(id), Some(reason)) = (t["record_id"].as_str(), t["reason"].as_str()) else { continue };
                let why = if reason == tombstone_rule::WITHDRAWN { "withdrawn" } else { "erased" };
                tombstone_rule::apply(&mut found.tombstoned, (feed.clone(), id.to_owned()), reason, why, |w| {
                    *w == "erased"
                });
            }
        }
        Ok(found)
    }

    /// Whether the record `record_ref` of `feed` changed since the last build.
    pub(crate) fn changed(&self, feed: &str, record_ref: &str) -> bool {
        self.changed.get(feed).is_some_and(|refs| refs.contains(record_ref))
    }

    /// Why a record of the last build is gone.
    pub(crate) fn gone(&self, key: &Key) -> &'static str {
        self.tombstoned.get(key).copied().unwrap_or("removed")
    }
}

/// A history part's line in the list of parts seen.
fn history_name(feed: &str, path: &Path) -> String {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    format!("feed={feed}/{name}")
}

/// Saves the list of history parts a build has seen, sorted (so the same parts give the same
/// file, as every output of a build must).
pub(crate) fn save_history_seen(out: &Path) -> Result<(), LinkError> {
    let names: Vec<String> =
        files_under(&out.join(HISTORY), "parquet").iter().map(|(feed, path)| history_name(feed, path)).collect();
    let mut text = names.join("\n");
    text.push('\n');
    let path = out.join(HISTORY_SEEN_PATH);
    tellonce_connectors::atomic::write_atomic(&path, text.as_bytes())
        .map_err(|source| LinkError::Output { path: path.clone(), source })
}

/// The files under `dir` (one level of `feed=NAME` folders for a dataset, or the folder itself)
/// whose names end `.ext`, not hidden, with their feed (or, for the folder's own files, their
/// name).
fn files_under(dir: &Path, ext: &str) -> Vec<(String, std::path::PathBuf)> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else { return found };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        match name.strip_prefix("feed=") {
            Some(feed) => {
                let Ok(files) = std::fs::read_dir(e.path()) else { continue };
                for f in files.flatten() {
                    let n = f.file_name().to_string_lossy().into_owned();
                    if !n.starts_with('.') && n.ends_with(&format!(".{ext}")) {
                        found.push((feed.to_owned(), f.path()));
                    }
                }
            }
            None if name.ends_with(&format!(".{ext}")) => found.push((name, e.path())),
            None => {}
        }
    }
    found.sort();
    found
}

/// The reasons gathered for each id (old or new), to be joined per change.
#[derive(Debug, Default)]
pub(crate) struct Reasons {
    by_id: HashMap<String, BTreeSet<&'static str>>,
}

impl Reasons {
    /// Notes that a record of id `id` is `why`.
    pub(crate) fn note(&mut self, id: &str, why: &'static str) {
        self.by_id.entry(id.to_owned()).or_default().insert(why);
    }

    /// The reasons of a change from ids `from` to ids `to`: `relinked` when none is known.
    pub(crate) fn of(&self, from: &[String], to: &[String]) -> Vec<&'static str> {
        let all: BTreeSet<&'static str> =
            from.iter().chain(to).filter_map(|id| self.by_id.get(id)).flatten().copied().collect();
        if all.is_empty() { vec!["relinked"] } else { all.into_iter().collect() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_takes_the_reasons_of_its_ids_or_relinked() {
        let mut r = Reasons::default();
        r.note("P1", "new");
        r.note("P2", "withdrawn");
        r.note("P2", "new");
        let ids = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(r.of(&ids(&["P1", "P2"]), &ids(&["P2"])), ["new", "withdrawn"]);
        assert_eq!(r.of(&ids(&["P3"]), &[]), ["relinked"]);
    }

    #[test]
    fn changes_are_found_by_token_where_the_agreement_shares_no_record_id_and_lifted_withdrawals_are_not_gone() {
        use std::sync::Arc;

        use arrow_array::{ArrayRef, FixedSizeBinaryArray, RecordBatch, StringArray};

        let dir = tempfile::tempdir().unwrap();
        let feed_dir = dir.path().join(HISTORY).join("feed=camhs");
        std::fs::create_dir_all(&feed_dir).unwrap();
        let token = [7u8; 16];
        let columns: Vec<(&str, ArrayRef)> = vec![
            ("record_id_token", Arc::new(FixedSizeBinaryArray::try_from_iter([token, [8u8; 16]].into_iter()).unwrap())),
            ("_change", Arc::new(StringArray::from(vec!["superseded", "withdrawn"]))),
        ];
        let batch = RecordBatch::try_from_iter(columns).unwrap();
        let file = std::fs::File::create(feed_dir.join("part-a-r-superseded-from-b-00000.parquet")).unwrap();
        let mut w = parquet::arrow::ArrowWriter::try_new(file, batch.schema(), None).unwrap();
        w.write(&batch).unwrap();
        w.close().unwrap();
        let stones = dir.path().join(STATE).join("tombstones");
        std::fs::create_dir_all(&stones).unwrap();
        let lines = [
            r#"{"record_id":"C1","reason":"withdrawn","at":"t"}"#,
            r#"{"record_id":"C2","reason":"erasure","at":"t"}"#,
            r#"{"record_id":"C1","reason":"reinstated","at":"t"}"#,
            r#"{"record_id":"C2","reason":"reinstated","at":"t"}"#,
        ];
        std::fs::write(stones.join("camhs.jsonl"), lines.join("\n")).unwrap();

        let found = RecordChanges::read(dir.path()).unwrap();
        let key = |id: &str| ("camhs".to_owned(), id.to_owned());
        assert!(found.changed("camhs", &"07".repeat(16)), "the superseded version, by its token in hex");
        assert!(!found.changed("camhs", &"08".repeat(16)), "a withdrawal is not a change");
        assert_eq!(found.gone(&key("C1")), "removed", "a lifted withdrawal no longer explains an id change");
        assert_eq!(found.gone(&key("C2")), "erased", "an erasure is never lifted");
    }
}
