//! Matching the names a file uses (CSV header names, JSON keys) to a feed schema's columns.

use std::sync::Arc;

use tellonce_schemas::FeedSchema;

use crate::mapping::{Mapping, Resolved};

/// Finds a schema column by the name a file gives it: trimmed, without regard to ASCII case;
/// or, under a source mapping, as the mapping resolves it (see [`Mapping::resolve`]).
#[derive(Debug)]
pub(super) struct ColumnLookup {
    names: Vec<&'static str>,
    mapping: Option<Arc<Mapping>>,
    /// Whether the mapping names a column marking records withdrawn: it is read as one more
    /// column, after the feed's (see [`ColumnLookup::marker`]).
    marker: bool,
}

impl ColumnLookup {
    /// A lookup through `mapping`, if there is one.
    pub(super) fn with_mapping(feed: &'static FeedSchema, mapping: Option<Arc<Mapping>>) -> Self {
        let marker = mapping.as_ref().is_some_and(|m| m.withdrawal().is_some());
        ColumnLookup { names: feed.columns.iter().map(|c| c.name).collect(), mapping, marker }
    }

    /// The columns a row is read into: the feed's, then the withdrawal marker if the mapping
    /// names one.
    pub(super) fn width(&self) -> usize {
        self.names.len() + usize::from(self.marker)
    }

    /// The index the withdrawal marker is read into, if the mapping names one.
    pub(super) fn marker(&self) -> Option<usize> {
        self.marker.then_some(self.names.len())
    }

    /// The name of column `i` for messages: a feed column's, or the withdrawal marker's heading.
    pub(super) fn name_of(&self, i: usize) -> &str {
        match self.names.get(i) {
            Some(n) => n,
            None => self.mapping.as_ref().and_then(|m| m.withdrawal()).map_or("withdrawal", |w| w.heading()),
        }
    }

    /// Whether the mapping drops `name` on purpose (so it is not reported as unknown).
    pub(super) fn is_ignored(&self, name: &str) -> bool {
        self.mapping.as_ref().is_some_and(|m| m.resolve(name) == Resolved::Ignored)
    }

    /// The index of the column `name` (from a file) stands for.
    pub(super) fn find(&self, name: &str) -> Option<usize> {
        if let Some(m) = &self.mapping {
            return match m.resolve(name) {
                Resolved::Column(i) => Some(i),
                Resolved::Withdrawal => self.marker(),
                Resolved::Ignored | Resolved::Unknown => None,
            };
        }
        let name = name.trim();
        self.names.iter().position(|n| n.eq_ignore_ascii_case(name))
    }

    /// [`ColumnLookup::find`], trying first the index `guess` (the column the same key stood for
    /// on the previous line), which is right for every key of a file written in a stable order.
    pub(super) fn find_with_guess(&self, name: &str, guess: Option<usize>) -> Option<usize> {
        match guess.and_then(|g| self.names.get(g).map(|n| (g, n))) {
            Some((g, n)) if *n == name => Some(g),
            _ => self.find(name),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_match_trimmed_and_without_case() {
        let lookup = ColumnLookup::with_mapping(tellonce_schemas::feed::latest("police").unwrap(), None);
        let rid = lookup.find("record_id").unwrap();
        assert_eq!(lookup.find(" Record_ID\t"), Some(rid));
        assert_eq!(lookup.find("record id"), None);
        assert_eq!(lookup.find_with_guess("record_id", Some(rid)), Some(rid));
        assert_eq!(lookup.find_with_guess("record_id", Some(rid + 1)), Some(rid));
        assert_eq!(lookup.find_with_guess("RECORD_ID", Some(999)), Some(rid));
    }
}
