//! Files under the output that nothing accounts for: files the audit log does not record, and
//! temporary files orphaned by a session that was killed.
//!
//! Analysts read every file of a dataset directory, so a file the log does not record (a copy
//! of a staging part, say) is counted twice; `audit verify` reports each, and `audit verify
//! --prune` moves them aside to `unrecorded/<time>/…` (keeping their paths), one audit entry a
//! file. Temporary files (`.<name>….tmp`, see [`is_temp_file_name`]) are complete or not, hold
//! pseudonymised records (a link part: record references and person ids), and are never part of
//! a dataset; a session killed while writing one leaves it behind. Every command that writes to
//! the output clears the orphaned ones it can prove orphaned when it starts, once it holds the
//! output's locks ([`clear_orphaned_temp_files`]), and `audit verify` lists those left.

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

use tellonce_connectors::atomic::is_temp_file_name;
use tellonce_governance::audit::Event;
use tellonce_governance::audit::reasons::DeleteReason;
use tracing::warn;

use crate::layout::{AUDIT, STAGING};
use crate::lock::Access;
use crate::unrecorded::{remove_unrecorded_file, set_aside_unrecorded_file};
use tellonce_governance::audit::holdings::HeldFile;

/// Where `audit verify --prune` moves the files the audit log does not record: beside the
/// datasets, not in one, so that readers of the datasets no longer see them.
pub const UNRECORDED: &str = "unrecorded";

/// The output's folder of bookkeeping (markers, the identity index, locks): not a dataset, its
/// files are not recorded in the audit log, but temporary files in it are orphaned like others.
const STATE: &str = "state";

/// A file under the output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// Relative to the output root, `/`-separated (as the audit log records paths).
    pub rel: String,
    /// On disk.
    pub path: PathBuf,
}

/// What [`find`] found.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Strays {
    /// Files under the datasets that the audit log does not record as held, sorted.
    pub unrecorded: Vec<Found>,
    /// Temporary files under the datasets and `state/`, sorted.
    pub temp: Vec<Found>,
}

/// A file that could not be cleared away.
#[derive(Debug, thiserror::Error)]
#[error("cannot clear away {}: {source}", path.display())]
pub struct ClearError {
    /// The file (or directory).
    pub path: PathBuf,
    /// Why.
    pub source: io::Error,
}

/// Every file under `out` that `held` (the files the audit log records, see
/// [`held_files`](tellonce_governance::audit::holdings::held_files)) does not account for. The audit log's own folder
/// and `unrecorded/` are not looked in; in `state/`, only temporary files count.
///
/// # Errors
///
/// A folder that cannot be read, with its path.
pub fn find(out: &Path, held: &BTreeMap<String, HeldFile>) -> Result<Strays, ClearError> {
    let mut strays = Strays::default();
    for found in files_under(out)? {
        let name = found.rel.rsplit('/').next().unwrap_or_default();
        if is_temp_file_name(name) {
            strays.temp.push(found);
        } else if !found.rel.starts_with(&format!("{STATE}/")) && !held.contains_key(&found.rel) {
            strays.unrecorded.push(found);
        }
    }
    Ok(strays)
}

/// Moves `file` (found by [`find`]) to `unrecorded/<stamp>/<its path>` and returns the audit
/// entry that says so (`file_deleted`, with its SHA-256 and where it went), for the caller to
/// append before moving the next. The caller holds the output to itself.
///
/// # Errors
///
/// The file cannot be hashed or moved (its path).
pub fn prune(out: &Path, file: &Found, stamp: &str) -> Result<Event, ClearError> {
    let to = file.rel.split('/').fold(out.join(UNRECORDED).join(stamp), |p, c| p.join(c));
    let reason = DeleteReason::Unrecorded.because(&format!(
        "not in the audit log, so not part of any dataset; moved to {UNRECORDED}/{stamp}/{} by audit verify --prune",
        file.rel
    ));
    set_aside_unrecorded_file(out, &file.path, Some(&to), &reason)
        .map_err(|source| ClearError { path: file.path.clone(), source })
}

/// Whose temporary file a file is: the kind of session that writes files there under that name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Owner {
    /// A stream session's batch (`staging/` or `quarantine/`, named `…k@TOPIC@PARTITION@…`).
    Stream,
    /// A build (the linkage and outcome datasets, `state/link/`).
    Build,
    /// A session that holds the output to itself: a file run, retention, erasure (other staging
    /// and quarantine files, manifests, input markers).
    Exclusive,
}

/// The kind of session that writes the temporary file at `rel`.
fn owner(rel: &str) -> Owner {
    let mut parts = rel.split('/');
    let top = parts.next().unwrap_or_default();
    let name = rel.rsplit('/').next().unwrap_or_default();
    let build_datasets = crate::layout::REPLACED_BY_EACH_BUILD.contains(&top)
        || top == crate::layout::ID_HISTORY
        || rel.starts_with(&format!("{STATE}/link/"));
    let batch = tellonce_governance::audit::stream_progress::parse(name).is_some();
    if build_datasets {
        Owner::Build
    } else if (top == STAGING
        || top == tellonce_connectors::quarantine::QUARANTINE_DIR
        || top == crate::layout::HISTORY)
        && batch
    {
        // A stream batch's files, and the history parts of the versions it supersedes.
        Owner::Stream
    } else if name.contains(ERASURE_SUFFIX) {
        // A rewrite's side file in the making: a stream batch superseding versions in a file
        // any input wrote makes one, as erasure does.
        Owner::Stream
    } else {
        Owner::Exclusive
    }
}

/// Whether a session holding the output with `access` may remove a temporary file of `owner`:
/// only when no session that could be writing it can be running.
///
/// The output's locks prove that. A session with [`Access::Exclusive`] holds `state/run.lock`
/// exclusively, which every other session holds shared for its whole life: nobody else writes,
/// and every temporary file is orphaned. Any session holds `run.lock` at least shared, so no
/// exclusive session is running: their temporary files are orphaned. A build holds
/// `state/build.lock` exclusively: no other build is running, so the build datasets' temporary
/// files are orphaned. A stream session cannot tell a live session's batch from a dead one's
/// here, since several share the output: it leaves stream batches alone, and clears those of a
/// partition when it takes the partition's lock (`stream::sweep`), and leaves build files alone,
/// for a build may be running beside it. (Process ids are not used: a temporary Parquet part's
/// name does not hold one, and a recorded id may be reused by a live process.)
fn may_clear(access: Access, owner: Owner) -> bool {
    matches!((access, owner), (Access::Exclusive, _) | (_, Owner::Exclusive) | (Access::Build, Owner::Build))
}

/// What stopped [`clear_and_record`].
#[derive(Debug, thiserror::Error)]
pub enum RecordedClearError {
    /// A file could not be read, hashed or removed.
    #[error(transparent)]
    Clear(#[from] ClearError),
    /// Its audit entry could not be appended.
    #[error(transparent)]
    Audit(#[from] tellonce_governance::audit::AuditError),
}

/// What every command that writes does first, once it holds the output's locks: clears the
/// orphaned temporary files (see [`clear_orphaned_temp_files`]) and appends the entry of each to
/// `log`. Returns how many were cleared.
///
/// # Errors
///
/// As [`clear_orphaned_temp_files`], or an audit append that failed.
pub fn clear_and_record(
    out: &Path,
    access: Access,
    log: &mut tellonce_governance::audit::AuditLog,
) -> Result<usize, RecordedClearError> {
    let cleared = clear_orphaned_temp_files(out, access)?;
    for event in &cleared {
        log.append(event)?;
    }
    Ok(cleared.len())
}

/// Removes the temporary files under `out` (its datasets and `state/`) that a session holding
/// the output's locks with `access` can prove orphaned (see [`may_clear`]), and returns the
/// audit entries that say so (`file_deleted`, with each file's SHA-256), for the caller to
/// append. Call it once the locks are held, before writing anything.
///
/// # Errors
///
/// A folder that cannot be read or a file that cannot be hashed or removed, with its path.
pub fn clear_orphaned_temp_files(out: &Path, access: Access) -> Result<Vec<Event>, ClearError> {
    let mut events = Vec::new();
    if access == Access::Exclusive {
        events.extend(settle_erasures(out)?.pruned);
    }
    for found in files_under(out)? {
        let name = found.rel.rsplit('/').next().unwrap_or_default();
        if !is_temp_file_name(name) || !may_clear(access, owner(&found.rel)) {
            continue;
        }
        let reason = DeleteReason::Temporary.because(
            "left by an interrupted session (never part of a dataset); removed by the next session that could \
             prove no session was writing it",
        );
        let event = remove_unrecorded_file(out, &found.path, &reason)
            .map_err(|source| ClearError { path: found.path.clone(), source })?;
        warn!(file = %found.rel, "removed an orphaned temporary file (an interrupted session)");
        events.push(event);
    }
    Ok(events)
}

/// The side name under which an erasure's rewrite of the staging file `name` (or the file
/// itself, when the erasure deletes it) waits until the erasure is recorded in the audit log.
pub fn erasure_side_name(name: &str) -> String {
    format!(".{name}{ERASURE_SUFFIX}")
}

/// The end of an erasure's side name.
const ERASURE_SUFFIX: &str = ".erasure";

/// Completes or undoes the erasures a session left between making a side file and publishing
/// it (see `subject`): a side file whose SHA-256 is the one the audit log records for its
/// file is put in its place (the erasure was recorded, or, for a file being deleted, not yet:
/// then the file comes back as recorded); any other is removed (a rewrite never recorded, or a
/// deletion recorded). Either way the datasets then agree with the log. Needs the output to
/// itself. Returns how many it settled.
///
/// # Errors
///
/// A folder that cannot be read, the audit log that cannot be read, or a file that cannot be
/// hashed, renamed or removed, with its path.
pub fn settle_erasures(out: &Path) -> Result<Settled, ClearError> {
    settle_erasures_under(out, "")
}

/// What [`settle_erasures`] did.
#[derive(Debug, Default)]
pub struct Settled {
    /// Side files put in place or removed.
    pub sides: usize,
    /// The `file_deleted` entries of history parts removed because the audit log never recorded
    /// them, for the caller to append.
    pub pruned: Vec<Event>,
}

/// [`settle_erasures`] for the side files in the folder `folder` (relative to the output root,
/// `/`-separated) only: a stream session settles those of one feed's staging while it holds the
/// feed's lock ([`crate::layout::feed_staging_lock`]), which every session rewriting that
/// staging beside others holds.
///
/// # Errors
///
/// As [`settle_erasures`].
pub fn settle_erasures_under(out: &Path, folder: &str) -> Result<Settled, ClearError> {
    let sides = erasure_sides_under(out, folder)?;
    if sides.is_empty() {
        return Ok(Settled::default());
    }
    let dir = out.join(AUDIT);
    let entries = tellonce_governance::audit::read_entries(&dir)
        .map_err(|e| ClearError { path: dir.clone(), source: io::Error::other(e.to_string()) })?;
    let held = tellonce_governance::audit::holdings::held_files(&entries);
    let mut dropped = Vec::new();
    for side in &sides {
        let err = |source: io::Error| ClearError { path: side.path.clone(), source };
        let (folder, name) = side.rel.rsplit_once('/').unwrap_or(("", side.rel.as_str()));
        let target_name = name.strip_prefix('.').and_then(|n| n.strip_suffix(ERASURE_SUFFIX)).unwrap_or(name);
        let target = if folder.is_empty() { target_name.to_owned() } else { format!("{folder}/{target_name}") };
        let sha = tellonce_connectors::hashing::sha256_file(&side.path).map_err(err)?;
        if held.get(&target).is_some_and(|f| f.sha256 == sha) {
            std::fs::rename(&side.path, side.path.with_file_name(target_name)).map_err(err)?;
            warn!(file = %target, "put in place an erasure an interrupted session had recorded but not published");
        } else {
            std::fs::remove_file(&side.path).map_err(err)?;
            warn!(file = %target, "removed the side file of an erasure an interrupted session never recorded");
            dropped.push(target);
        }
        if let Some(parent) = side.path.parent() {
            tellonce_connectors::atomic::sync_dir(parent).map_err(err)?;
        }
    }
    let mut pruned = Vec::new();
    for target in &dropped {
        pruned.extend(undo_history_of_move(out, target, &entries, &held)?);
    }
    Ok(Settled { sides: sides.len(), pruned })
}

/// Takes back the history parts of an interrupted move out of the staging file `target`, whose
/// rewrite the log does not record (its side file was dropped): the move is made again later, and
/// its parts would hold its versions a second time. A move publishes its history part, records
/// it, records the rewrite, syncs, then puts the rewrite in place. So a part of this move (named
/// `…-from-<target's stem>.parquet`) is either unrecorded (a stop before its entry: set aside to
/// `unrecorded/`, as `audit verify --prune` does), or recorded after the last entry writing
/// `target` (a torn write lost the rewrite's entry: removed, with an entry). Parts of earlier
/// moves out of `target` were recorded before the rewrites that completed them, and a target
/// whose last entry deletes it was moved out whole: both are left alone.
fn undo_history_of_move(
    out: &Path,
    target: &str,
    entries: &[tellonce_governance::audit::Entry],
    held: &BTreeMap<String, HeldFile>,
) -> Result<Vec<Event>, ClearError> {
    let Some(rest) = target.strip_prefix(STAGING) else { return Ok(Vec::new()) };
    let (feed_folder, name) = rest.rsplit_once('/').unwrap_or(("", rest));
    let stem = name.strip_prefix("part-").unwrap_or(name).trim_end_matches(".parquet");
    let last = entries.iter().rev().find_map(|e| match &e.event {
        Event::FileWritten { path, .. } if path == target => Some(Some(e.seq)),
        Event::FileDeleted { path, .. } if path == target => Some(None),
        _ => None,
    });
    let written_at = match last {
        Some(None) => return Ok(Vec::new()),
        Some(Some(seq)) => seq,
        None => 0,
    };
    let history = format!("{}{feed_folder}", crate::layout::HISTORY);
    let suffix = format!("-from-{stem}.parquet");
    let stamp = crate::timefmt::now_compact();
    let mut events = Vec::new();
    for f in files_below(out, &history)? {
        let part = f.rel.rsplit('/').next().unwrap_or_default();
        if part.starts_with('.') || !part.ends_with(&suffix) {
            continue;
        }
        let err = |source: io::Error| ClearError { path: f.path.clone(), source };
        match held.get(&f.rel) {
            None => {
                let to = f.rel.split('/').fold(out.join(UNRECORDED).join(&stamp), |p, c| p.join(c));
                let reason = DeleteReason::Unrecorded.because(&format!(
                    "a move to history an interrupted session published and never recorded (it is made again); \
                     moved to {UNRECORDED}/{stamp}/{}",
                    f.rel
                ));
                events.push(set_aside_unrecorded_file(out, &f.path, Some(&to), &reason).map_err(err)?);
            }
            Some(h) if h.seq > written_at => {
                crate::unrecorded::remove_if_present(&f.path).map_err(err)?;
                let reason = DeleteReason::Unrecorded
                    .because("a move to history whose staging rewrite the log lost (a torn write); it is made again");
                events.push(Event::FileDeleted {
                    path: f.rel.clone(),
                    sha256: h.sha256.clone(),
                    reason,
                    agreement: h.agreement.clone(),
                });
            }
            Some(_) => continue,
        }
        warn!(file = %f.rel, "took back a history part of a move an interrupted session never completed");
    }
    Ok(events)
}

/// Whether an interrupted erasure waits to be settled (see [`settle_erasures`]).
pub fn pending_erasures(out: &Path) -> bool {
    erasure_sides(out).is_ok_and(|s| !s.is_empty())
}

/// The side files of erasures not yet published.
fn erasure_sides(out: &Path) -> Result<Vec<Found>, ClearError> {
    erasure_sides_under(out, "")
}

/// The side files of erasures not yet published in the folder `folder` (relative to the
/// output root, `/`-separated; empty for all of it) and below.
fn erasure_sides_under(out: &Path, folder: &str) -> Result<Vec<Found>, ClearError> {
    Ok(files_below(out, folder)?
        .into_iter()
        .filter(|f| f.rel.rsplit('/').next().is_some_and(|n| n.starts_with('.') && n.ends_with(ERASURE_SUFFIX)))
        .collect())
}

/// Every file under `out`, sorted by relative path, leaving out the audit log's folder and
/// `unrecorded/`. Symbolic links are listed as files, never followed.
fn files_under(out: &Path) -> Result<Vec<Found>, ClearError> {
    files_below(out, "")
}

/// [`files_under`] the folder `folder` of `out` (relative, `/`-separated; empty: all of it).
fn files_below(out: &Path, folder: &str) -> Result<Vec<Found>, ClearError> {
    let mut found = Vec::new();
    let start = folder.split('/').filter(|c| !c.is_empty()).fold(out.to_path_buf(), |p, c| p.join(c));
    let mut stack = vec![(start, folder.trim_matches('/').to_owned())];
    while let Some((dir, rel)) = stack.pop() {
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(source) => return Err(ClearError { path: dir, source }),
        };
        for entry in entries {
            let entry = entry.map_err(|source| ClearError { path: dir.clone(), source })?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let rel = if rel.is_empty() { name } else { format!("{rel}/{}", name) };
            let file_type = entry.file_type().map_err(|source| ClearError { path: entry.path(), source })?;
            if file_type.is_dir() {
                if rel != AUDIT && rel != UNRECORDED {
                    stack.push((entry.path(), rel));
                }
            } else {
                found.push(Found { rel, path: entry.path() });
            }
        }
    }
    found.sort_by(|a, b| a.rel.cmp(&b.rel));
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn touch(out: &Path, rel: &str) {
        let path = out.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, rel.as_bytes()).unwrap();
    }

    fn held(paths: &[&str]) -> BTreeMap<String, HeldFile> {
        paths
            .iter()
            .map(|p| {
                let file = HeldFile {
                    path: (*p).to_owned(),
                    dataset: "staging".to_owned(),
                    sha256: String::new(),
                    rows: 0,
                    feed: None,
                    agreement: None,
                    written_at: String::new(),
                    retention_until: None,
                    seq: 1,
                };
                ((*p).to_owned(), file)
            })
            .collect()
    }

    const STREAM_TEMP: &str =
        "staging/feed=police/.part-k@police@0@00000000000000000000@00000000000000000009-00000.parquet.tmp";
    const RUN_TEMP: &str = "staging/feed=police/.part-ab12cd34ef56ab12-00000.parquet.tmp";
    const LINK_TEMP: &str = "links/feed=police/.part-20261203T070000Z-42.parquet.tmp";
    const INDEX_TEMP: &str = "state/link/.index.parquet.42-0.tmp";
    const MARKER_TEMP: &str = "state/inputs/police/.abc.json.42-0.tmp";

    fn output() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for rel in [
            "staging/feed=police/part-ab12cd34ef56ab12-00000.parquet",
            "staging/feed=police/part-copy.parquet",
            "links/feed=police/part-1.parquet",
            "manifests/run-1.json",
            "state/inputs/police/abc.json",
            "state/run.lock",
            "audit/audit.jsonl",
            "audit/.x.tmp",
            "unrecorded/20261203T070000Z/staging/feed=police/part-old.parquet",
            "stray.parquet",
            STREAM_TEMP,
            RUN_TEMP,
            LINK_TEMP,
            INDEX_TEMP,
            MARKER_TEMP,
        ] {
            touch(dir.path(), rel);
        }
        dir
    }

    #[test]
    fn finds_unrecorded_dataset_files_and_temp_files() {
        let dir = output();
        let recorded = held(&[
            "staging/feed=police/part-ab12cd34ef56ab12-00000.parquet",
            "links/feed=police/part-1.parquet",
            "manifests/run-1.json",
        ]);
        let strays = find(dir.path(), &recorded).unwrap();
        let rels = |v: &[Found]| v.iter().map(|f| f.rel.clone()).collect::<Vec<_>>();
        assert_eq!(rels(&strays.unrecorded), ["staging/feed=police/part-copy.parquet", "stray.parquet"]);
        let mut temps = vec![STREAM_TEMP, RUN_TEMP, LINK_TEMP, INDEX_TEMP, MARKER_TEMP];
        temps.sort_unstable();
        assert_eq!(rels(&strays.temp), temps);
    }

    #[test]
    fn temp_files_have_the_owner_that_writes_them() {
        assert_eq!(owner(STREAM_TEMP), Owner::Stream);
        assert_eq!(
            owner("quarantine/feed=police/.k@police@0@00000000000000000000@00000000000000000009.jsonl.tmp"),
            Owner::Stream
        );
        assert_eq!(owner(RUN_TEMP), Owner::Exclusive);
        assert_eq!(owner("quarantine/feed=police/.ab12cd34ef56ab12.jsonl.tmp"), Owner::Exclusive);
        assert_eq!(owner(LINK_TEMP), Owner::Build);
        assert_eq!(owner("theme_events/headline=SF08/month=2024-03/.part-1.parquet.tmp"), Owner::Build);
        assert_eq!(owner("id_history/.part-1.parquet.tmp"), Owner::Build);
        assert_eq!(owner(INDEX_TEMP), Owner::Build);
        assert_eq!(owner(MARKER_TEMP), Owner::Exclusive);
        assert_eq!(owner("manifests/.run-1.json.42-0.tmp"), Owner::Exclusive);
        // A stream batch moving versions to history, out of a file any input wrote.
        let history = "history/feed=police/.part-k@police@0@00000000000000000010@00000000000000000019-r1-superseded-from-ab12-00000.parquet.tmp";
        assert_eq!(owner(history), Owner::Stream);
        assert_eq!(owner("staging/feed=police/..part-ab12-00000.parquet.erasure.tmp"), Owner::Stream);
        assert_eq!(owner("history/feed=police/.part-ab12-r1-superseded-from-cd34-00000.parquet.tmp"), Owner::Exclusive);
    }

    /// The temp files left after clearing with `access`.
    fn left_after(access: Access) -> (Vec<String>, usize) {
        let dir = output();
        let events = clear_orphaned_temp_files(dir.path(), access).unwrap();
        let strays = find(dir.path(), &BTreeMap::new()).unwrap();
        for e in &events {
            assert!(matches!(e, Event::FileDeleted { reason, .. } if reason.starts_with("temporary")), "{e:?}");
        }
        // Nothing but temporary files is touched, and never the audit log's folder.
        assert!(dir.path().join("audit/.x.tmp").exists());
        assert_eq!(strays.unrecorded.len(), 5);
        (strays.temp.into_iter().map(|f| f.rel).collect(), events.len())
    }

    #[test]
    fn each_session_clears_only_what_it_can_prove_orphaned() {
        assert_eq!(left_after(Access::Exclusive), (vec![], 5));
        let (left, n) = left_after(Access::Build);
        assert_eq!((left, n), (vec![STREAM_TEMP.to_owned()], 4));
        let (left, n) = left_after(Access::Stream);
        let mut expected = vec![STREAM_TEMP.to_owned(), LINK_TEMP.to_owned(), INDEX_TEMP.to_owned()];
        expected.sort_unstable();
        assert_eq!((left, n), (expected, 2));
    }

    /// A `file_written` entry for `rel` as it is on disk.
    fn written(out: &Path, dataset: &str, rel: &str) -> Event {
        let path = out.join(rel);
        Event::FileWritten {
            dataset: dataset.to_owned(),
            path: rel.to_owned(),
            sha256: tellonce_connectors::hashing::sha256_file(&path).unwrap(),
            rows: 1,
            bytes: std::fs::metadata(&path).unwrap().len(),
            feed: Some("police".to_owned()),
            agreement: None,
            retention_until: None,
        }
    }

    #[test]
    fn an_interrupted_move_takes_back_its_own_history_parts_only() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path();
        let keys = tellonce_governance::KeyRing::from_master([7u8; 32]);
        let mut log = tellonce_governance::audit::AuditLog::open(&out.join(AUDIT), keys.audit_signer()).unwrap();
        let staging = "staging/feed=police/part-a-00000.parquet";
        let part = |n: &str| format!("history/feed=police/part-{n}-r1-superseded-from-a-00000.parquet");
        // An earlier move out of the staging file, completed: its part, then the rewrite.
        touch(out, staging);
        log.append(&written(out, "staging", staging)).unwrap();
        touch(out, &part("done"));
        log.append(&written(out, "history", &part("done"))).unwrap();
        std::fs::write(out.join(staging), b"rewritten once").unwrap();
        log.append(&written(out, "staging", staging)).unwrap();
        // The interrupted move: one part recorded (its rewrite's entry lost to a torn write),
        // one never recorded, and the rewrite's side file.
        touch(out, &part("torn"));
        log.append(&written(out, "history", &part("torn"))).unwrap();
        touch(out, &part("unrecorded"));
        touch(out, "staging/feed=police/.part-a-00000.parquet.erasure");
        // A part of another staging file, never recorded: not this move's.
        touch(out, "history/feed=police/part-x-r1-superseded-from-b-00000.parquet");
        log.sync().unwrap();
        drop(log);

        let settled = settle_erasures_under(out, "staging/feed=police").unwrap();
        assert_eq!(settled.sides, 1);
        let mut taken: Vec<String> = settled
            .pruned
            .iter()
            .map(|e| match e {
                Event::FileDeleted { path, .. } => path.clone(),
                other => panic!("{other:?}"),
            })
            .collect();
        taken.sort();
        assert_eq!(taken, [part("torn"), part("unrecorded")]);
        assert!(out.join(part("done")).exists(), "an earlier, completed move's part stays");
        assert!(!out.join(part("torn")).exists() && !out.join(part("unrecorded")).exists());
        assert!(out.join("history/feed=police/part-x-r1-superseded-from-b-00000.parquet").exists());
        let aside = files_below(out, UNRECORDED).unwrap();
        assert_eq!(aside.len(), 1, "the unrecorded part is set aside, not deleted: {aside:?}");
        assert!(!out.join("staging/feed=police/.part-a-00000.parquet.erasure").exists());
    }

    #[test]
    fn prune_moves_a_file_aside_keeping_its_path() {
        let dir = output();
        let file = Found {
            rel: "staging/feed=police/part-copy.parquet".to_owned(),
            path: dir.path().join("staging/feed=police/part-copy.parquet"),
        };
        let event = prune(dir.path(), &file, "20261203T080000Z").unwrap();
        assert!(!file.path.exists());
        let moved = dir.path().join("unrecorded/20261203T080000Z/staging/feed=police/part-copy.parquet");
        assert_eq!(std::fs::read(moved).unwrap(), file.rel.as_bytes());
        match event {
            Event::FileDeleted { path, reason, sha256, .. } => {
                assert_eq!(path, file.rel);
                assert_eq!(sha256.len(), 64);
                assert!(
                    reason.contains("unrecorded/20261203T080000Z/staging/feed=police/part-copy.parquet"),
                    "{reason}"
                );
            }
            other => panic!("{other:?}"),
        }
    }
}
