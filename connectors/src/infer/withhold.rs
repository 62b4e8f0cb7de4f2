//! Which partner values a proposal may list. Listing the codes a partner writes in a code column
//! is what lets a reviewer map `Closed - outcomes met` to `MET`; but a partner may put anything in
//! a column, and a column of surnames or of staff names placed on a code field would otherwise
//! list them all. So a value is listed only if it is a code by every sign the sample gives:
//!
//! - its column's heading alone names the field at least as well as a medium placement needs
//!   ([`MEDIUM_NAME`]: `Outcome` for `early_help_outcome`, not `Early Help Worker`, which shares
//!   two words with it), since a column placed on a code field by its values or by a word in
//!   common may be anything;
//! - its column reads as a code list: at most [`MAX_CODES`] distinct values, and each seen twice
//!   on average (a column of names or references does not repeat);
//! - it is not shaped like an identifier, a date or a postcode, nor also a value of a column
//!   placed on an identifying field, nor made only of words of columns placed on a name
//!   (`SMITH, Amelia` where `Amelia` and `Smith` are names in the sample, in any case and order);
//! - it is not shaped like a person's name (one to three words of letters, each a capital then
//!   small letters: `Amelia`, `Priya Shah`, `Shah, Priya`), unless it maps to one of the field's
//!   codes and the column is placed with high confidence, that is its heading names the field and
//!   most of its values are already the field's codes or map to them. A partner's code may be
//!   written so (`White British`), but so is a forename a partner put in the wrong column, and
//!   only the column as a whole tells them apart; a value that maps to no code is what a name
//!   typed in the wrong column looks like, so there the shape alone withholds it, in any case
//!   (`QUENNELL, XANTHE`);
//! - it is common and short (see [`super::MIN_SHOWN`]).
//!
//! The rest are counted by reason, never shown.

use std::collections::HashSet;

use tellonce_schemas::{FeedSchema, Kind, Role};

use super::{Confidence, Placement, headings, shown};
use crate::file_source::sample::Sample;

/// The most distinct values a column may hold for any of them to be listed. The code lists of the
/// feeds and the partner lists they map from (sex, ethnicity's broad groups and school census
/// main codes, outcomes, statuses) hold fewer; a column with more holds names, references or free
/// text, whatever field it was placed on.
pub const MAX_CODES: usize = 30;

/// The least score a heading's name alone must have for its column's values to be listed: the
/// score that makes a placement medium.
pub const MEDIUM_NAME: f64 = 0.6;

/// Distinct partner values of one column not listed in the proposal, by reason (each value counted
/// once, under the first reason that applies, in this order).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Withheld {
    /// The column's heading does not name the field well enough ([`MEDIUM_NAME`]): it was placed
    /// by its values or by a word in common, and none of its values is listed.
    pub weak_heading: usize,
    /// The column holds more than [`MAX_CODES`] distinct values: none of them is listed.
    pub too_many: usize,
    /// The column's values do not repeat as a code list's do (more than half of them distinct):
    /// none of them is listed.
    pub unrepeated: usize,
    /// Shaped like an identifier, a date or a postcode, or holding a long run of digits.
    pub shaped: usize,
    /// Also a value of a column placed on an identifying field (a name, a date of birth, an
    /// address, a postcode, an identifier), or made only of words of columns placed on a name.
    pub identifying: usize,
    /// Shaped like a person's name, in a column not placed with high confidence.
    pub name_shaped: usize,
    /// Seen fewer than [`super::MIN_SHOWN`] times, or longer than a code.
    pub rare: usize,
}

impl Withheld {
    /// Every value withheld.
    pub fn total(&self) -> usize {
        self.weak_heading
            + self.too_many
            + self.unrepeated
            + self.shaped
            + self.identifying
            + self.name_shaped
            + self.rare
    }
}

/// The values of a sample's identifying columns, against which listed values are checked.
pub(super) struct Guard {
    /// Values (trimmed, lower case) of every column placed on a field the schema marks as a
    /// direct or quasi-identifier. A code column (sex) is not one: its values are codes, and
    /// counting them would withhold the very codes its own value map needs.
    identifying: HashSet<String>,
    /// The words (lower case) of every column placed on a person's name: a forename and surname
    /// typed into a code column together, or surname first, are no value of either.
    name_words: HashSet<String>,
}

impl Guard {
    /// The guard for `sample`, its headings placed on `feed` as `placed`.
    pub(super) fn new(sample: &Sample, placed: &[Placement], feed: &FeedSchema) -> Guard {
        let (mut identifying, mut name_words) = (HashSet::new(), HashSet::new());
        for p in placed {
            let Some(col) = feed.column(p.column) else { continue };
            let identifies = matches!(col.role, Role::DirectIdentifier | Role::QuasiIdentifier);
            if identifies && !matches!(col.kind, Kind::Code(_)) {
                identifying.extend(sample.column(p.index).map(str::to_lowercase));
            }
            if col.kind == Kind::PersonName {
                name_words.extend(sample.column(p.index).flat_map(words).filter(|w| w.chars().count() >= 2));
            }
        }
        Guard { identifying, name_words }
    }

    /// Whether `value` is a value of an identifying column, or made of words of name columns
    /// only (a code sharing one word with a name, `White British` beside a surname White, is not).
    fn identifies(&self, value: &str) -> bool {
        let mut words = words(value).peekable();
        self.identifying.contains(&value.trim().to_lowercase())
            || (words.peek().is_some() && words.all(|w| self.name_words.contains(&w)))
    }

    /// The entries of `list` that may be listed, for the column placed as `placed` whose values
    /// are `column`; each one withheld is counted in `withheld`. `value` gives an entry's value
    /// and times seen; `mapped` says whether the entries map to one of the field's codes.
    pub(super) fn sift<T>(
        &self,
        list: Vec<T>,
        value: impl Fn(&T) -> (&str, usize),
        (column, mapped): (&[&str], bool),
        placed: &Placement,
        withheld: &mut Withheld,
    ) -> Vec<T> {
        let weak_heading = placed.name < MEDIUM_NAME;
        let distinct = distinct(column);
        let too_many = distinct > MAX_CODES;
        let unrepeated = distinct * 2 > column.len();
        let sure = mapped && placed.confidence == Confidence::High;
        let mut kept = Vec::new();
        for entry in list {
            let (v, times) = value(&entry);
            if weak_heading {
                withheld.weak_heading += 1;
            } else if too_many {
                withheld.too_many += 1;
            } else if unrepeated {
                withheld.unrepeated += 1;
            } else if headings::identifier_shaped(v) {
                withheld.shaped += 1;
            } else if self.identifies(v) {
                withheld.identifying += 1;
            } else if !sure && (name_shaped(v) || (!mapped && in_capitals_name_shaped(v))) {
                withheld.name_shaped += 1;
            } else if !shown(v, times) {
                withheld.rare += 1;
            } else {
                kept.push(entry);
            }
        }
        kept
    }
}

/// Whether `value` is shaped like a person's name: one to three words (a middle name) of letters,
/// each starting with a capital and holding a small letter (`McDonald`), joined by a space, a hyphen or an apostrophe
/// (`Amelia`, `Priya Shah`, `O'Brien`, `Smith-Jones`), or surname first after a comma (`Shah,
/// Priya`). Codes written in capitals (`NEET`, `WBRI`) or as a phrase (`Stepped up`, `Closed -
/// outcomes met`) are not.
pub(crate) fn name_shaped(value: &str) -> bool {
    let value = match value.split_once(',') {
        Some((surname, rest)) if !rest.contains(',') => format!("{rest} {surname}"),
        _ => value.to_owned(),
    };
    let words: Vec<&str> = value.split_whitespace().collect();
    let word = |w: &&str| {
        w.chars().next().is_some_and(char::is_uppercase)
            && w.chars().any(char::is_lowercase)
            && w.split(['-', '\'']).all(|part| !part.is_empty() && part.chars().all(char::is_alphabetic))
    };
    (1..=3).contains(&words.len()) && words.iter().all(word)
}

/// Whether `value`, written in capitals, reads as a name once capitalised (`QUENNELL, XANTHE` as
/// `Quennell, Xanthe`): a name typed in capitals is a name still. (A value with small letters is
/// judged as written: `Eviction by family` is a phrase.)
fn in_capitals_name_shaped(value: &str) -> bool {
    !value.chars().any(char::is_lowercase) && name_shaped(&capitalised(value))
}

/// `value` with each word capitalised.
fn capitalised(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut start = true;
    for c in value.chars() {
        if start {
            out.extend(c.to_uppercase())
        } else {
            out.extend(c.to_lowercase())
        }
        start = !c.is_alphabetic() && c != '\'';
    }
    out
}

/// The words of `value`, lower case: its runs of letters and apostrophes (`Smith-Jones` is two).
fn words(value: &str) -> impl Iterator<Item = String> + '_ {
    value
        .split(|c: char| !(c.is_alphabetic() || c == '\'' || c == '\u{2019}'))
        .filter(|w| w.chars().any(char::is_alphabetic))
        .map(str::to_lowercase)
}

/// Distinct values of a column (trimmed, ignoring case).
pub(super) fn distinct(column: &[&str]) -> usize {
    column.iter().map(|v| v.trim().to_lowercase()).collect::<HashSet<_>>().len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_told_by_their_shape_and_codes_are_not_names() {
        for v in ["Amelia", "Priya Shah", "O'Brien", "Smith-Jones", "Mary Ann Lee", "Zoë", "McDonald", "Shah, Priya"] {
            assert!(name_shaped(v), "{v}");
        }
        for v in [
            "NEET",
            "WBRI",
            "Stepped up",
            "Closed - outcomes met",
            "A",
            "1",
            "Not Known Yet At All",
            "Closed, outcomes met",
        ] {
            assert!(!name_shaped(v), "{v}");
        }
    }
}
