//! Match rates: how often a feed's records are linked to another agency's, by feed, district
//! and IMD decile. Linkage bias (some groups matching less often, so counted less often) is a
//! known problem of record linkage; these figures make it visible.

use std::collections::BTreeMap;

use serde::Serialize;

use super::records::Records;

/// Counts for one group of records.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Rate {
    /// Records in the group.
    pub records: u64,
    /// Of which the person is known to at least one other feed.
    pub known_elsewhere: u64,
    /// Of which the record carried too little to be matched.
    pub low_evidence: u64,
}

impl Rate {
    /// `known_elsewhere / records`, or 0 for an empty group.
    pub fn match_rate(&self) -> f64 {
        if self.records == 0 { 0.0 } else { self.known_elsewhere as f64 / self.records as f64 }
    }
}

/// Match rates by feed, district and IMD decile.
#[derive(Debug, Default, Clone, PartialEq, Serialize)]
pub struct MatchRates {
    /// By feed.
    pub by_feed: BTreeMap<String, Rate>,
    /// By district of the record's postcode (`unknown` where it has none).
    pub by_district: BTreeMap<String, Rate>,
    /// By IMD decile of the record's small area (1 = most deprived; 0 = not known).
    pub by_imd_decile: BTreeMap<u8, Rate>,
}

/// Computes the rates of `units` (one record per distinct partner record).
pub fn rates(recs: &Records, units: &[u32], person: &[u32], persons: u32, low: &[bool]) -> MatchRates {
    // A bit per feed, per person.
    let mut feeds_of = vec![0u64; persons as usize];
    for &r in units {
        let r = r as usize;
        feeds_of[person[r] as usize] |= 1u64 << (recs.feed[r] % 64);
    }
    let mut out = MatchRates::default();
    for (u, &r) in units.iter().enumerate() {
        let r = r as usize;
        let elsewhere = feeds_of[person[r] as usize].count_ones() > 1;
        let add = |rate: &mut Rate| {
            rate.records += 1;
            rate.known_elsewhere += u64::from(elsewhere);
            rate.low_evidence += u64::from(low[u]);
        };
        add(out.by_feed.entry(recs.feed_name(r).to_owned()).or_default());
        let district = recs.districts.get(usize::from(recs.district[r])).filter(|d| !d.is_empty());
        add(out.by_district.entry(district.cloned().unwrap_or_else(|| "unknown".to_owned())).or_default());
        add(out.by_imd_decile.entry(recs.imd[r]).or_default());
    }
    out
}
