//! `[withdrawal]`: the partner's column that marks a record withdrawn (sent in error, merged or
//! deleted at source), so that an extract can take a record back in any source mode.
//!
//! ```toml
//! [withdrawal]
//! column = "Record Status"
//! values = ["Deleted", "Withdrawn"]
//! ```
//!
//! A row whose cell holds one of the values (word for word, without regard to ASCII case or
//! spacing) is not a
//! record to stage but a withdrawal of its `record_id`; any other value, or an empty cell, is an
//! ordinary record.

use tellonce_schemas::FeedSchema;
use toml::Spanned;

use super::file::WithdrawalTable;
use super::rules::{Places, at};
use super::{Heading, MappingRule, fold_heading};

/// The keys of `[withdrawal]`.
pub(super) const KEYS: &[&str] = &["column", "values"];

/// The partner's column that marks records withdrawn, and the values that mean it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WithdrawalMarker {
    /// The heading folded for matching.
    pub(super) folded: String,
    /// The heading as the mapping writes it.
    written: String,
    /// The values that mark a record withdrawn, trimmed.
    values: Vec<String>,
}

impl WithdrawalMarker {
    /// The heading, as the mapping writes it.
    pub fn heading(&self) -> &str {
        &self.written
    }

    /// Whether a cell's value marks its record withdrawn: one of the values word for word, however
    /// the words are spaced (`Sent  in error`, as a double space typed in a drop-down's text).
    pub fn marks(&self, value: &str) -> bool {
        let value = tellonce_schemas::check::as_shown(value);
        self.values.iter().any(|v| same_words(v, &value))
    }
}

/// Whether `a` and `b` hold the same words, without regard to ASCII case or the white space
/// between them.
fn same_words(a: &str, b: &str) -> bool {
    let (mut x, mut y) = (a.split_whitespace(), b.split_whitespace());
    loop {
        match (x.next(), y.next()) {
            (None, None) => return true,
            (Some(p), Some(q)) if p.eq_ignore_ascii_case(q) => {}
            _ => return false,
        }
    }
}

/// The `[withdrawal]` table checked: a heading that is neither mapped, ignored nor a feed
/// column's own name, and at least one value, none empty or repeated.
pub(super) fn withdrawal_marker(
    places: &mut Places<'_>,
    feed: &FeedSchema,
    table: &Spanned<WithdrawalTable>,
    headings: &[Heading],
    ignored: &[String],
) -> Option<WithdrawalMarker> {
    let w = table.get_ref();
    let (column, values) = (&w.column, &w.values);
    let folded = fold_heading(column.get_ref());
    let mut ok = true;
    let mut problem = |places: &mut Places<'_>, offset: usize, rule: MappingRule, message: String| {
        places.report(offset, rule, message);
        ok = false;
    };
    if folded.is_empty() {
        problem(
            places,
            at(column),
            MappingRule::Type,
            "withdrawal.column: a heading must have a letter or digit".into(),
        );
    } else if let Some(h) = headings.iter().find(|h| h.folded == folded) {
        let message = format!("withdrawal.column: the heading is also mapped in `columns` (as {:?})", h.written);
        problem(places, at(column), MappingRule::DuplicateHeading, message);
    } else if ignored.contains(&folded) {
        problem(
            places,
            at(column),
            MappingRule::DuplicateHeading,
            "withdrawal.column: the heading is also in `ignore`".into(),
        );
    } else if let Some(c) = feed.columns.iter().find(|c| fold_heading(c.name) == folded) {
        let message = format!("withdrawal.column: the heading is feed column {}'s own name", c.name);
        problem(places, at(column), MappingRule::DuplicateHeading, message);
    }
    let mut kept: Vec<String> = Vec::new();
    if values.get_ref().is_empty() {
        let message = "withdrawal.values: list at least one value that marks a record withdrawn".into();
        problem(places, at(values), MappingRule::Type, message);
    }
    for v in values.get_ref() {
        let t = v.trim();
        if t.is_empty() {
            problem(places, at(values), MappingRule::Value, "withdrawal.values: a value is empty".into());
        } else if kept.iter().any(|k| same_words(k, t)) {
            problem(places, at(values), MappingRule::Value, "withdrawal.values: a value is listed twice".into());
        } else {
            kept.push(t.to_owned());
        }
    }
    ok.then(|| WithdrawalMarker { folded, written: column.get_ref().clone(), values: kept })
}
