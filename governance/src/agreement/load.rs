//! Loading a directory of agreement files and linting them together: each file alone, then
//! across files (the same id and version twice, two agreements governing one feed on the same
//! day), then against a date (reviews overdue).

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use tellonce_schemas::identifiers::dates;

use super::error::AgreementError;
use super::model::Agreement;
use super::parse::{Draft, read};
use super::problem::{Lint, Problem, Severity};
use super::standing::AgreementSet;

/// The agreements of a directory (or file) and every problem found in them.
#[derive(Debug, Clone, Default)]
pub struct Loaded {
    /// The agreements with no error-severity problem, in file name order. An agreement with an
    /// error is left out entirely, so its feeds are not processed under it (fail closed).
    pub agreements: Vec<Agreement>,
    /// Every problem, errors and warnings, sorted by file and position.
    pub problems: Vec<Problem>,
    /// Agreements left out because they overlap another (`agreement.overlap`), kept only so
    /// that a feed they claim is held as `agreement.ambiguous` rather than `agreement.none`:
    /// the operator must see that two agreements compete, not that none exists. Never used to
    /// process anything.
    pub overlapping: Vec<Agreement>,
}

impl Loaded {
    /// Whether any problem is an error.
    pub fn has_errors(&self) -> bool {
        self.problems.iter().any(Problem::is_error)
    }

    /// The error-severity problems.
    pub fn errors(&self) -> impl Iterator<Item = &Problem> {
        self.problems.iter().filter(|p| p.severity == Severity::Error)
    }

    /// The warnings.
    pub fn warnings(&self) -> impl Iterator<Item = &Problem> {
        self.problems.iter().filter(|p| p.severity == Severity::Warning)
    }

    /// The usable agreements as a set, to ask which one governs a feed on a day.
    pub fn into_set(self) -> AgreementSet {
        AgreementSet::new(self.agreements).with_overlapping(self.overlapping)
    }
}

/// Loads every `*.toml` file of `dir`, in file name order, and lints them alone, together
/// (duplicates, overlaps) and as of day `as_of` (days since 1970-01-01: a review overdue while
/// the agreement is in force is a warning).
///
/// Failing to list the directory or to read a file is an error: an agreement that cannot be
/// read must not silently go missing. Problems in the files are not errors; they are all
/// returned in [`Loaded::problems`].
pub fn load_dir(dir: &Path, as_of: i32) -> Result<Loaded, AgreementError> {
    Ok(check(read_dir(dir)?, Some(as_of)))
}

/// Loads and lints one agreement file, as [`load_dir`] does.
pub fn load_file(path: &Path, as_of: i32) -> Result<Loaded, AgreementError> {
    Ok(check(vec![read_file(path)?], Some(as_of)))
}

/// Lints the text of one agreement as if read from `path` (for tests and previews).
pub fn load_str(path: &Path, text: &str, as_of: i32) -> Loaded {
    check(vec![(path.to_path_buf(), text.as_bytes().to_vec())], Some(as_of))
}

/// Loads a file or a directory of agreements with no date-dependent check (for diffs, where
/// "today" is beside the point).
pub(crate) fn load_path(path: &Path) -> Result<Loaded, AgreementError> {
    let files = if path.is_dir() { read_dir(path)? } else { vec![read_file(path)?] };
    Ok(check(files, None))
}

fn read_dir(dir: &Path) -> Result<Vec<(PathBuf, Vec<u8>)>, AgreementError> {
    let io = |source| AgreementError::ReadDir { path: dir.to_path_buf(), source };
    let mut paths = Vec::new();
    for entry in fs::read_dir(dir).map_err(io)? {
        let path = entry.map_err(io)?.path();
        if path.extension().is_some_and(|e| e == "toml") && path.is_file() {
            paths.push(path);
        }
    }
    paths.sort();
    paths.iter().map(|p| read_file(p)).collect()
}

fn read_file(path: &Path) -> Result<(PathBuf, Vec<u8>), AgreementError> {
    let bytes = fs::read(path).map_err(|source| AgreementError::ReadFile { path: path.to_path_buf(), source })?;
    Ok((path.to_path_buf(), bytes))
}

/// Lints the files alone, then together, then against `as_of`.
pub(crate) fn check(files: Vec<(PathBuf, Vec<u8>)>, as_of: Option<i32>) -> Loaded {
    let mut problems = Vec::new();
    let mut drafts = Vec::new();
    for (path, bytes) in &files {
        match read(path, bytes) {
            Ok(d) => drafts.push(d),
            Err(p) => problems.extend(p),
        }
    }
    check_duplicates(&mut drafts);
    check_overlaps(&mut drafts);
    if let Some(day) = as_of {
        check_reviews(&mut drafts, day);
    }
    let mut agreements = Vec::new();
    let mut overlapping = Vec::new();
    for d in drafts {
        if !d.has_errors() {
            agreements.push(d.agreement);
        } else if d.problems.iter().any(|p| p.lint == Lint::Overlap) {
            overlapping.push(d.agreement);
        }
        problems.extend(d.problems);
    }
    // Stable: problems at one position stay in the order they were found.
    problems.sort_by(|a, b| (&a.path, a.position).cmp(&(&b.path, b.position)));
    Loaded { agreements, problems, overlapping }
}

/// The same id and version in two files: neither is used, since either could be the one
/// signed.
fn check_duplicates(drafts: &mut [Draft]) {
    let mut by_label: BTreeMap<(String, u32), Vec<usize>> = BTreeMap::new();
    for (i, d) in drafts.iter().enumerate() {
        if d.identity_ok {
            by_label.entry((d.agreement.id.clone(), d.agreement.version)).or_default().push(i);
        }
    }
    for same in by_label.values().filter(|v| v.len() > 1) {
        for &i in same {
            let others: Vec<String> =
                same.iter().filter(|&&j| j != i).map(|&j| drafts[j].agreement.file.display().to_string()).collect();
            let d = &mut drafts[i];
            let message = format!(
                "{} is also defined in {}: each id and version must be in one file only \
                 (give a new version a new number)",
                d.agreement.label(),
                others.join(", ")
            );
            d.problems.push(Problem::new(&d.agreement.file, d.id_position, Lint::Duplicate, message));
        }
    }
}

/// Two agreements (or two versions of one) governing the same feed on overlapping days: at
/// most one agreement may govern a feed on any day, so that the field terms applied are never
/// in doubt. Reported on both files.
fn check_overlaps(drafts: &mut [Draft]) {
    let mut found = Vec::new();
    for i in 0..drafts.len() {
        for j in i + 1..drafts.len() {
            let (a, b) = (&drafts[i], &drafts[j]);
            if !(a.identity_ok && b.identity_ok && a.dates_ok && b.dates_ok) {
                continue;
            }
            let (x, y) = (&a.agreement, &b.agreement);
            // The same id and version twice is already a duplicate.
            if x.id == y.id && x.version == y.version {
                continue;
            }
            if !(x.start <= y.end && y.start <= x.end) {
                continue;
            }
            for feed in x.feeds.keys().filter(|f| y.feeds.contains_key(*f)) {
                found.push((i, j, feed.clone()));
            }
        }
    }
    for (i, j, feed) in found {
        let message_i = overlap_message(&drafts[i].agreement, &drafts[j].agreement, &feed);
        let message_j = overlap_message(&drafts[j].agreement, &drafts[i].agreement, &feed);
        for (k, message) in [(i, message_i), (j, message_j)] {
            let d = &mut drafts[k];
            let at = d.feed_positions.get(&feed).copied().unwrap_or(d.id_position);
            d.problems.push(Problem::new(&d.agreement.file, at, Lint::Overlap, message));
        }
    }
}

fn overlap_message(this: &Agreement, other: &Agreement, feed: &str) -> String {
    let period = |a: &Agreement| format!("{} to {}", dates::format(a.start), dates::format(a.end));
    let hint = if this.id == other.id {
        format!(
            "; a new version must start after the old one ends (version {} ends {})",
            this.version.min(other.version),
            dates::format(if this.version < other.version { this.end } else { other.end })
        )
    } else {
        String::new()
    };
    format!(
        "feed `{feed}` is governed by {} ({}) and also by {} in {} ({}): at most one agreement may govern a feed on \
         any day{hint}",
        this.label(),
        period(this),
        other.label(),
        other.file.display(),
        period(other),
    )
}

/// Agreements still in force on `as_of` whose review date has passed. One that has ended needs
/// no review, so it is not flagged.
fn check_reviews(drafts: &mut [Draft], as_of: i32) {
    for d in drafts.iter_mut().filter(|d| d.dates_ok) {
        let a = &d.agreement;
        if a.review < as_of && as_of <= a.end {
            let message = format!(
                "the review of {} was due {} and is overdue as of {}: review the agreement and record a new version",
                a.label(),
                dates::format(a.review),
                dates::format(as_of)
            );
            d.problems.push(Problem::new(&a.file, d.review_position, Lint::ReviewOverdue, message));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agreement::tests::{ARTICLE10_LINE, BASE, day, edit};

    #[test]
    fn reads_only_toml_files_in_name_order() {
        let dir = tempfile::tempdir().unwrap();
        let second = edit(BASE, "id = \"ISA-TEST\"", "id = \"ISA-B\"");
        let second = edit(
            &second,
            "[feeds.police.fields]",
            "[feeds.camhs.fields]\nrecord_id = { action = \"pass\", clause = \"1\" }\n\n[feeds.police_x]",
        );
        // Make the second govern camhs only, so that the two do not overlap.
        let second = second.split("\n\n[feeds.police_x]").next().unwrap().replacen(ARTICLE10_LINE, "", 1) + "\n";
        fs::write(dir.path().join("b.toml"), &second).unwrap();
        fs::write(dir.path().join("a.toml"), BASE).unwrap();
        fs::write(dir.path().join("notes.md"), "not an agreement").unwrap();
        fs::write(dir.path().join("c.toml.bak"), "junk = ").unwrap();
        let loaded = load_dir(dir.path(), day("2026-01-01")).unwrap();
        assert!(loaded.problems.is_empty(), "{:#?}", loaded.problems);
        let ids: Vec<&str> = loaded.agreements.iter().map(|a| a.id.as_str()).collect();
        assert_eq!(ids, ["ISA-TEST", "ISA-B"]);
        assert_eq!(loaded.agreements[0].file, dir.path().join("a.toml"));
        assert!(!loaded.has_errors());

        let overdue = load_dir(dir.path(), day("2027-06-01")).unwrap();
        assert_eq!(overdue.warnings().count(), 2);
        assert_eq!(overdue.errors().count(), 0);
        assert_eq!(overdue.agreements.len(), 2);
    }

    #[test]
    fn a_broken_file_is_left_out_and_the_others_still_load() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("a.toml"), BASE).unwrap();
        fs::write(dir.path().join("b.toml"), "id = \n").unwrap();
        let loaded = load_dir(dir.path(), 0).unwrap();
        assert_eq!(loaded.agreements.len(), 1);
        assert!(loaded.has_errors());
        let shown = loaded.problems[0].to_string();
        assert!(shown.starts_with(&format!("{}:1:", dir.path().join("b.toml").display())), "{shown}");
        assert!(shown.contains("error[toml.syntax]"), "{shown}");
    }

    #[test]
    fn failing_to_read_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nowhere");
        assert!(matches!(load_dir(&missing, 0), Err(AgreementError::ReadDir { .. })));
        assert!(matches!(load_file(&missing.join("a.toml"), 0), Err(AgreementError::ReadFile { .. })));
        assert!(matches!(load_path(&missing), Err(AgreementError::ReadFile { .. })));
    }

    #[test]
    fn a_single_file_loads_and_hashes_its_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.toml");
        fs::write(&path, BASE).unwrap();
        let loaded = load_file(&path, day("2026-01-01")).unwrap();
        assert!(loaded.problems.is_empty());
        let expected = hex::encode(ring::digest::digest(&ring::digest::SHA256, BASE.as_bytes()));
        assert_eq!(loaded.agreements[0].sha256, expected);
        assert_eq!(load_str(&path, BASE, 0).agreements[0].sha256, expected);
        assert_eq!(load_file(&path, day("2027-04-01")).unwrap().warnings().count(), 1);
        assert_eq!(load_path(&path).unwrap().warnings().count(), 0, "no date, no overdue review");
    }
}
