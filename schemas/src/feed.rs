//! Feed schemas: a partner feed's named, versioned list of columns.

use crate::column::{Column, OnInvalid, Role};
use crate::registry;

/// A partner feed's schema at one version.
#[derive(Debug, PartialEq)]
pub struct FeedSchema {
    /// The feed's stable name (`police`, `camhs`, …).
    pub name: &'static str,
    /// The schema version; a record declares the version it was written in.
    pub version: u32,
    /// Who sends it.
    pub partner: &'static str,
    /// What it holds, in one paragraph.
    pub description: &'static str,
    /// The column that dates the event (retention and reporting periods are judged on it).
    pub event_date: &'static str,
    /// The column saying when the partner last changed the record, if the feed has one: two
    /// versions of a record are ordered by it (and by the arrival of their inputs only where it
    /// does not tell them apart).
    pub updated: Option<&'static str>,
    /// The columns, in the order of the partner's file.
    pub columns: &'static [Column],
}

impl FeedSchema {
    /// The column with this name, if the schema has it.
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// What an invalid (or missing required) value of `col` does to its record.
    ///
    /// The record reference and the feed's event date always quarantine, whatever the column
    /// says: a record without a reference cannot be recognised when it is re-sent or erased,
    /// and one without its event date cannot be placed in time. Otherwise the column's own
    /// override wins; without one, direct and quasi-identifiers are nulled (the record keeps its
    /// event and links on what remains) and event attributes quarantine.
    pub fn on_invalid(&self, col: &Column) -> OnInvalid {
        if col.role == Role::RecordReference || col.name == self.event_date {
            return OnInvalid::Quarantine;
        }
        match (col.role, col.on_invalid) {
            (_, Some(what)) => what,
            (Role::DirectIdentifier | Role::QuasiIdentifier, None) => OnInvalid::Null,
            (Role::EventAttribute | Role::RecordReference, None) => OnInvalid::Quarantine,
        }
    }

    /// The position of the column with this name.
    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.name == name)
    }
}

/// Every feed schema in use at every version: the built-in feeds, then a deployment's own once
/// installed (see [`registry`]).
pub fn all() -> &'static [&'static FeedSchema] {
    registry::current()
}

/// The stable names of the feeds, in the order of the data dictionary.
pub fn names() -> impl Iterator<Item = &'static str> {
    let mut seen: Vec<&'static str> = Vec::new();
    for f in all() {
        if !seen.contains(&f.name) {
            seen.push(f.name);
        }
    }
    seen.into_iter()
}

/// The newest schema of a feed.
pub fn latest(name: &str) -> Option<&'static FeedSchema> {
    all().iter().copied().filter(|f| f.name == name).max_by_key(|f| f.version)
}

/// A feed's schema at a given version.
pub fn version(name: &str, version: u32) -> Option<&'static FeedSchema> {
    all().iter().copied().find(|f| f.name == name && f.version == version)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::column::Role;

    #[test]
    fn seven_feeds_each_with_a_record_id_and_an_event_date() {
        let names: Vec<_> = names().collect();
        assert_eq!(names, ["health_visiting", "camhs", "police", "youth_justice", "housing", "district", "education"]);
        for f in all() {
            let rid = f.column("record_id").expect("record_id");
            assert_eq!(rid.role, Role::RecordReference, "{}", f.name);
            assert!(rid.required);
            let ev = f.column(f.event_date).expect("event date column");
            assert!(ev.required, "{}: event date must be required", f.name);
            let mut cols: Vec<_> = f.columns.iter().map(|c| c.name).collect();
            cols.sort_unstable();
            cols.dedup();
            assert_eq!(cols.len(), f.columns.len(), "{}: duplicate column", f.name);
        }
    }

    #[test]
    fn identifiers_are_nulled_and_references_and_event_dates_quarantine() {
        for f in all() {
            for c in f.columns {
                let want = match c.role {
                    Role::DirectIdentifier | Role::QuasiIdentifier => OnInvalid::Null,
                    Role::RecordReference | Role::EventAttribute => OnInvalid::Quarantine,
                };
                assert_eq!(f.on_invalid(c), want, "{}.{}", f.name, c.name);
            }
            let ev = f.column(f.event_date).expect("event date column");
            assert_eq!(f.on_invalid(ev), OnInvalid::Quarantine, "{}", f.name);
        }
        let police = latest("police").expect("police");
        let rid = police.column("record_id").expect("record_id").when_invalid(OnInvalid::Null);
        assert_eq!(police.on_invalid(&rid), OnInvalid::Quarantine, "the record reference always quarantines");
        let pnc = police.column("pnc_id").expect("pnc_id").when_invalid(OnInvalid::Quarantine);
        assert_eq!(police.on_invalid(&pnc), OnInvalid::Quarantine, "a schema may override the default");
        let date = police.column(police.event_date).expect("event date").when_invalid(OnInvalid::Null);
        assert_eq!(police.on_invalid(&date), OnInvalid::Quarantine, "the event date always quarantines");
        let kind = police.column("incident_type").expect("incident_type").when_invalid(OnInvalid::Null);
        assert_eq!(police.on_invalid(&kind), OnInvalid::Null, "an event attribute may be nulled");
    }

    #[test]
    fn identifiers_sit_where_the_partners_hold_them() {
        let has = |feed: &str, col: &str| latest(feed).and_then(|f| f.column(col)).is_some();
        assert!(has("health_visiting", "nhs_number") && has("camhs", "nhs_number"));
        assert!(has("education", "upn"));
        assert!(has("police", "pnc_id") && has("youth_justice", "pnc_id"));
        assert!(has("housing", "uprn") && has("district", "uprn"));
        assert!(!has("police", "nhs_number"));
    }
}
