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
}

impl ColumnLookup {
    pub(super) fn new(feed: &'static FeedSchema) -> Self {
        ColumnLookup::with_mapping(feed, None)
    }

    /// A lookup through `mapping`, if there is one.
    pub(super) fn with_mapping(feed: &'static FeedSchema, mapping: Option<Arc<Mapping>>) -> Self {
        ColumnLookup { names: feed.columns.iter().map(|c| c.name).collect(), mapping }
    }

    /// Whether the mapping drops `name` on purpose (so it is not reported as unknown).
    pub(super) fn is_ignored(&self, name: &str) -> bool {
        self.mapping.as_ref().is_some_and(|m| m.resolve(name) == Resolved::Ignored)
    }

    /// The schema's column names, in order.
    pub(super) fn names(&self) -> &[&'static str] {
        &self.names
    }

    /// The index of the column `name` (from a file) stands for.
    pub(super) fn find(&self, name: &str) -> Option<usize> {
        if let Some(m) = &self.mapping {
            return match m.resolve(name) {
                Resolved::Column(i) => Some(i),
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
        let lookup = ColumnLookup::new(tellonce_schemas::feed::latest("police").unwrap());
        let rid = lookup.find("record_id").unwrap();
        assert_eq!(lookup.find(" Record_ID\t"), Some(rid));
        assert_eq!(lookup.find("record id"), None);
        assert_eq!(lookup.find_with_guess("record_id", Some(rid)), Some(rid));
        assert_eq!(lookup.find_with_guess("record_id", Some(rid + 1)), Some(rid));
        assert_eq!(lookup.find_with_guess("RECORD_ID", Some(999)), Some(rid));
    }
}
