//! A file's header row (CSV header, sheet header row) matched to a feed's columns: shared by
//! every tabular input so that all of them match, refuse and report headings alike.

use std::collections::BTreeSet;
use std::path::Path;

use tellonce_schemas::FeedSchema;

use super::SourceError;
use super::columns::ColumnLookup;
use crate::mapping::Mapping;

/// How a header row's fields became the feed's columns.
pub(super) struct Headings {
    /// (schema column, field index in the file) for every schema column the file has, in
    /// schema order (the withdrawal marker, if there is one, last).
    pub(super) mapped: Vec<(usize, usize)>,
    /// Per schema column (then the withdrawal marker, if the mapping names one), whether the
    /// file has it.
    pub(super) present: Vec<bool>,
    /// Header names that match no schema column (trimmed, deduplicated, sorted).
    pub(super) unknown: Vec<String>,
}

/// How a column without a heading, before the last heading, is named among the unknown ones.
pub const UNNAMED_COLUMN: &str = "unnamed_column_";

/// Matches header `names` (decoded) to `feed`'s columns through `lookup`: a name given twice,
/// or a required column missing (and not given a constant by the mapping), refuses the file.
/// A name the mapping ignores, and blank names after the last heading (as trailing delimiters
/// leave), are dropped silently; a blank name before a heading is a column that lost its heading,
/// whose values are not read, and is reported with the unknown ones as `unnamed_column_N` (its
/// place, from 1).
pub(super) fn match_headings(
    path: &Path,
    names: &[String],
    feed: &'static FeedSchema,
    lookup: &ColumnLookup,
    mapping: Option<&Mapping>,
) -> Result<Headings, SourceError> {
    let mut field_of: Vec<Option<usize>> = vec![None; lookup.width()];
    let mut unknown = BTreeSet::new();
    let last_named = names.iter().rposition(|n| !n.trim().is_empty()).unwrap_or(0);
    for (j, name) in names.iter().enumerate() {
        match lookup.find(name) {
            Some(i) if field_of[i].is_some() => {
                return Err(SourceError::DuplicateColumn {
                    path: path.to_owned(),
                    column: lookup.name_of(i).to_owned(),
                });
            }
            Some(i) => field_of[i] = Some(j),
            None if name.trim().is_empty() && j < last_named => {
                unknown.insert(format!("{UNNAMED_COLUMN}{}", j + 1));
            }
            None if name.trim().is_empty() || lookup.is_ignored(name) => {}
            None => {
                unknown.insert(name.trim().to_owned());
            }
        }
    }
    let missing: Vec<String> = feed
        .columns
        .iter()
        .enumerate()
        .zip(&field_of)
        .filter(|((i, c), f)| c.required && f.is_none() && !mapping.is_some_and(|m| m.has_constant(*i)))
        .map(|((i, c), _)| match mapping.map(|m| m.headings_of(i)).filter(|h| !h.is_empty()) {
            // The headings come from the reviewed mapping, not from the file.
            Some(h) => format!(
                "{} (mapped from {})",
                c.name,
                h.iter().map(|h| format!("{h:?}")).collect::<Vec<_>>().join(" or ")
            ),
            None => c.name.to_owned(),
        })
        .collect();
    if !missing.is_empty() {
        return Err(SourceError::MissingColumns { path: path.to_owned(), columns: missing, line: 0 });
    }
    Ok(Headings {
        mapped: field_of.iter().enumerate().filter_map(|(i, f)| f.map(|j| (i, j))).collect(),
        present: field_of.iter().map(Option::is_some).collect(),
        unknown: unknown.into_iter().collect(),
    })
}
