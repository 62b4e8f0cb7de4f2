//! Which partner values a proposal may list. Listing the codes a partner writes in a code column
//! is what lets a reviewer map `Closed - outcomes met` to `MET`; but a partner may put anything in
//! a column, and a column of surnames placed on a code field would otherwise list them all. So a
//! value is listed only if it is a code by every sign the sample gives: its column holds few
//! distinct values (at most [`MAX_CODES`]), it is not also a value of a column placed on an
//! identifying field, it is not shaped like an identifier, a date or a postcode, and it is common
//! and short (see [`super::MIN_SHOWN`]). The rest are counted by reason, never shown.

use std::collections::HashSet;

use tellonce_schemas::{FeedSchema, Kind, Role};

use super::{Placement, headings, shown};
use crate::file_source::sample::Sample;

/// The most distinct values a column may hold for any of them to be listed. The code lists of the
/// feeds and the partner lists they map from (sex, ethnicity's broad groups and school census
/// main codes, outcomes, statuses) hold fewer; a column with more holds names, references or free
/// text, whatever field it was placed on.
pub const MAX_CODES: usize = 30;

/// Distinct partner values of one column not listed in the proposal, by reason (each value counted
/// once, under the first reason that applies, in this order).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Withheld {
    /// The column holds more than [`MAX_CODES`] distinct values: none of them is listed.
    pub too_many: usize,
    /// Shaped like an identifier, a date or a postcode, or holding a long run of digits.
    pub shaped: usize,
    /// Also a value of a column placed on an identifying field (a name, a date of birth, an
    /// address, a postcode, an identifier).
    pub identifying: usize,
    /// Seen fewer than [`super::MIN_SHOWN`] times, or longer than a code.
    pub rare: usize,
}

impl Withheld {
    /// Every value withheld.
    pub fn total(&self) -> usize {
        self.too_many + self.shaped + self.identifying + self.rare
    }
}

/// The values of a sample's identifying columns, against which listed values are checked.
pub(super) struct Guard {
    /// Values (trimmed, lower case) of every column placed on a field the schema marks as a
    /// direct or quasi-identifier. A code column (sex) is not one: its values are codes, and
    /// counting them would withhold the very codes its own value map needs.
    identifying: HashSet<String>,
}

impl Guard {
    /// The guard for `sample`, its headings placed on `feed` as `placed`.
    pub(super) fn new(sample: &Sample, placed: &[Placement], feed: &FeedSchema) -> Guard {
        let mut identifying = HashSet::new();
        for p in placed {
            let Some(col) = feed.column(p.column) else { continue };
            let identifies = matches!(col.role, Role::DirectIdentifier | Role::QuasiIdentifier);
            if identifies && !matches!(col.kind, Kind::Code(_)) {
                identifying.extend(sample.column(p.index).map(str::to_lowercase));
            }
        }
        Guard { identifying }
    }

    /// The entries of `list` that may be listed, for a column whose values are `column`; each
    /// one withheld is counted in `withheld`. `value` gives an entry's value and times seen.
    pub(super) fn sift<T>(
        &self,
        list: Vec<T>,
        value: impl Fn(&T) -> (&str, usize),
        column: &[&str],
        withheld: &mut Withheld,
    ) -> Vec<T> {
        let too_many = distinct(column) > MAX_CODES;
        let mut kept = Vec::new();
        for entry in list {
            let (v, times) = value(&entry);
            if too_many {
                withheld.too_many += 1;
            } else if headings::identifier_shaped(v) {
                withheld.shaped += 1;
            } else if self.identifying.contains(&v.trim().to_lowercase()) {
                withheld.identifying += 1;
            } else if !shown(v, times) {
                withheld.rare += 1;
            } else {
                kept.push(entry);
            }
        }
        kept
    }
}

/// Distinct values of a column (trimmed, ignoring case).
pub(super) fn distinct(column: &[&str]) -> usize {
    column.iter().map(|v| v.trim().to_lowercase()).collect::<HashSet<_>>().len()
}
