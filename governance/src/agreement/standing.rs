//! Which agreement, if any, governs a feed on a given day.
//!
//! "In force" is judged on the **processing date**: the day the hub processes the input. (The
//! pipeline may also ask about a second day, `run --as-of`, but only to hold more: both days must
//! find the same agreement in force.) The agreement governs the
//! act of sharing and processing, not the events recorded: records dated before an agreement
//! started may be shared under it if it covers the feed, and an input processed after the
//! agreement ended is not processed at all, whatever its records' dates.

use super::model::Agreement;

/// The standing of a feed on one day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Standing<'a> {
    /// One agreement governs the feed on the day; its field terms apply.
    InForce {
        /// The agreement.
        agreement: &'a Agreement,
        /// Whether its review date has passed (the data still flows; the parties must review).
        review_overdue: bool,
    },
    /// Every agreement for the feed has ended; this is the one that ended last. No data flows.
    Expired(&'a Agreement),
    /// No agreement for the feed has ended and none is in force; this one starts soonest.
    /// No data flows.
    NotYet(&'a Agreement),
    /// More than one agreement governs the feed on the day. The lint forbids this
    /// (`agreement.overlap`) and leaves such agreements out, but the set remembers them (see
    /// [`AgreementSet::with_overlapping`]) so that the feed is reported as ambiguous, not as
    /// having no agreement; none is chosen and no data flows (fail closed).
    Ambiguous(Vec<&'a Agreement>),
    /// No agreement names the feed. No data flows.
    None,
}

impl<'a> Standing<'a> {
    /// The agreement in force, if exactly one is.
    pub fn in_force(&self) -> Option<&'a Agreement> {
        match self {
            Standing::InForce { agreement, .. } => Some(agreement),
            _ => None,
        }
    }
}

/// The loaded agreements, to ask which governs a feed on a day.
#[derive(Debug, Clone, Default)]
pub struct AgreementSet {
    agreements: Vec<Agreement>,
    /// Agreements left out for overlapping another: never applied, only reported.
    overlapping: Vec<Agreement>,
}

impl AgreementSet {
    /// A set of agreements (normally [`super::Loaded::agreements`], which passed the lint).
    pub fn new(agreements: Vec<Agreement>) -> Self {
        AgreementSet { agreements, overlapping: Vec::new() }
    }

    /// Adds the agreements the lint left out because they overlap ([`super::Loaded::overlapping`]):
    /// a feed two of them claim on a day stands [`Standing::Ambiguous`] instead of
    /// [`Standing::None`]. They are never in force.
    pub fn with_overlapping(mut self, overlapping: Vec<Agreement>) -> Self {
        self.overlapping = overlapping;
        self
    }

    /// Every agreement in the set.
    pub fn agreements(&self) -> &[Agreement] {
        &self.agreements
    }

    /// Every agreement in the set, in load order.
    pub fn iter(&self) -> std::slice::Iter<'_, Agreement> {
        self.agreements.iter()
    }

    /// How many agreements the set holds.
    pub fn len(&self) -> usize {
        self.agreements.len()
    }

    /// Whether the set holds no agreement (then no feed is processed).
    pub fn is_empty(&self) -> bool {
        self.agreements.is_empty()
    }

    /// The agreement with this id and version.
    pub fn get(&self, id: &str, version: u32) -> Option<&Agreement> {
        self.agreements.iter().find(|a| a.id == id && a.version == version)
    }

    /// The agreement whose label (`ID@version`) this is, as written in an output's
    /// `_agreement` column.
    pub fn by_label(&self, label: &str) -> Option<&Agreement> {
        self.agreements.iter().find(|a| a.label() == label)
    }

    /// Every agreement that names `feed`, whatever its dates.
    pub fn governing<'s>(&'s self, feed: &str) -> impl Iterator<Item = &'s Agreement> {
        self.agreements.iter().filter(move |a| a.governs(feed))
    }

    /// Which agreement governs `feed` on day `on` (days since 1970-01-01; normally the
    /// processing date).
    pub fn standing(&self, feed: &str, on: i32) -> Standing<'_> {
        let mut in_force: Vec<&Agreement> = self.governing(feed).filter(|a| a.covers(on)).collect();
        match in_force.len() {
            1 => {
                let agreement = in_force.remove(0);
                return Standing::InForce { agreement, review_overdue: agreement.review < on };
            }
            0 => {}
            _ => return Standing::Ambiguous(in_force),
        }
        // Nothing usable is in force; if agreements left out for overlapping claim the feed on
        // the day, say so: the fix is to withdraw one, not to write a new agreement.
        let competing: Vec<&Agreement> = self.overlapping.iter().filter(|a| a.governs(feed) && a.covers(on)).collect();
        if competing.len() > 1 {
            return Standing::Ambiguous(competing);
        }
        // The most recent ended agreement says more about the gap than a future one: it is
        // what the data last flowed under.
        if let Some(ended) = self.governing(feed).filter(|a| a.end < on).max_by_key(|a| (a.end, a.version)) {
            return Standing::Expired(ended);
        }
        match self.governing(feed).filter(|a| a.start > on).min_by_key(|a| (a.start, a.version)) {
            Some(next) => Standing::NotYet(next),
            None => Standing::None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agreement::tests::{agreement, day};

    #[test]
    fn in_force_expired_not_yet_and_none() {
        let v1 = agreement("ISA-A", 1, "2024-04-01", "2025-03-01", "2025-03-31", &["police"]);
        let v2 = agreement("ISA-A", 2, "2025-04-01", "2026-03-01", "2027-03-31", &["police"]);
        let set = AgreementSet::new(vec![v1, v2]);
        let on = |d: &str| set.standing("police", day(d));

        assert_eq!(on("2024-01-01"), Standing::NotYet(&set.agreements()[0]));
        assert_eq!(on("2024-04-01"), Standing::InForce { agreement: &set.agreements()[0], review_overdue: false });
        assert_eq!(on("2025-03-31"), Standing::InForce { agreement: &set.agreements()[0], review_overdue: true });
        assert_eq!(on("2025-04-01").in_force().map(Agreement::label), Some("ISA-A@2".to_owned()));
        assert_eq!(on("2027-04-01"), Standing::Expired(&set.agreements()[1]));
        assert_eq!(set.standing("camhs", day("2025-06-01")), Standing::None);
        assert_eq!(set.iter().count(), set.len());
        assert!(!set.is_empty());
    }

    #[test]
    fn an_agreement_states_its_own_standing_in_one_word() {
        let a = agreement("ISA-A", 1, "2025-04-01", "2027-03-31", "2028-03-31", &["police"]);
        assert_eq!(a.standing_on(day("2025-03-31")), "not_yet_in_force");
        assert_eq!(a.standing_on(day("2025-04-01")), "in_force");
        assert_eq!(a.standing_on(day("2027-04-01")), "review_overdue");
        assert_eq!(a.standing_on(day("2028-04-01")), "expired");
    }

    #[test]
    fn overlapping_agreements_are_ambiguous_and_none_is_chosen() {
        let a = agreement("ISA-A", 1, "2025-04-01", "2026-03-01", "2027-03-31", &["police"]);
        let b = agreement("ISA-B", 1, "2026-01-01", "2026-06-01", "2027-03-31", &["police"]);
        let set = AgreementSet::new(vec![a, b]);
        match set.standing("police", day("2026-02-01")) {
            Standing::Ambiguous(found) => assert_eq!(found.len(), 2),
            other => panic!("expected ambiguity, got {other:?}"),
        }
        assert!(set.standing("police", day("2025-05-01")).in_force().is_some());
        assert_eq!(set.by_label("ISA-B@1").map(|a| a.id.as_str()), Some("ISA-B"));
        assert!(set.get("ISA-A", 2).is_none());
    }

    #[test]
    fn agreements_left_out_for_overlapping_make_the_feed_ambiguous_not_unagreed() {
        let text_a = crate::agreement::tests::BASE.to_owned();
        let text_b = crate::agreement::tests::edit(&text_a, "id = \"ISA-TEST\"", "id = \"ISA-OTHER\"");
        let loaded = crate::agreement::tests::lint(&[("a.toml", &text_a), ("b.toml", &text_b)], None);
        assert!(loaded.agreements.is_empty(), "{:?}", loaded.problems);
        assert_eq!(loaded.overlapping.len(), 2);
        let set = loaded.into_set();
        let feed = set.overlapping[0].feeds.keys().next().unwrap().clone();
        let on = set.overlapping[0].start;
        match set.standing(&feed, on) {
            Standing::Ambiguous(found) => {
                let mut labels: Vec<String> = found.iter().map(|a| a.label()).collect();
                labels.sort();
                assert_eq!(labels, ["ISA-OTHER@1", "ISA-TEST@1"]);
            }
            other => panic!("expected ambiguity, got {other:?}"),
        }
        // They are never applied, and a feed they do not claim has no agreement.
        assert!(set.agreements().is_empty());
        assert_eq!(set.standing("no_such_feed", on), Standing::None);
    }

    #[test]
    fn the_latest_ended_agreement_is_reported_in_a_gap() {
        let v1 = agreement("ISA-A", 1, "2024-04-01", "2024-10-01", "2025-03-31", &["police"]);
        let v2 = agreement("ISA-A", 2, "2025-06-01", "2026-03-01", "2027-03-31", &["police"]);
        let set = AgreementSet::new(vec![v2, v1]);
        assert_eq!(set.standing("police", day("2025-05-01")), Standing::Expired(&set.agreements()[1]));
    }
}
