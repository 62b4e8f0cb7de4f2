//! Record references that differ only in leading zeros. A partner's system writes `000123`;
//! the same extract opened in a spreadsheet and saved again (as CSV, or sent as a workbook
//! whose cell is a number) says `123`. Matched exactly, the re-sent extract would stage every
//! record a second time under the other reference, and an erased record would come back.
//!
//! So a reference of digits alone that is not held is compared by its digits without their
//! leading zeros: where exactly one reference held (or tombstoned) has those digits, the record
//! is that one and is staged under the reference held. References with letters, and feeds whose
//! references arrive only as tokens, are compared exactly.

use super::held::HeldRecords;
use super::id_table::IdTable;
use super::tombstones::Tombstones;

/// The reference held or tombstoned that `id` names under other leading zeros, if `id` itself
/// is neither and exactly one such is; never one the input also sends itself (`sends`): two
/// references in one input are two records.
pub fn held_form(
    held: &HeldRecords,
    tombstones: &Tombstones,
    sends: &dyn Fn(&str) -> bool,
    id: &str,
) -> Option<String> {
    if bare(id).is_none() || held.holds(id) || tombstones.contains(id) {
        return None;
    }
    // Two candidates in either place are two records: neither is chosen.
    let form = only_form([held.zero_form(id).one()?, tombstones.zero_form(id).one()?])?;
    (!sends(form)).then(|| form.to_owned())
}

/// The references a place holds under the digits asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OneForm<'a> {
    /// None.
    None,
    /// One.
    One(&'a str),
    /// Two or more: neither is the one.
    Several,
}

impl<'a> OneForm<'a> {
    /// The reference, if one; `Some(None)` for none; `None` for several.
    fn one(self) -> Option<Option<&'a str>> {
        match self {
            OneForm::None => Some(None),
            OneForm::One(form) => Some(Some(form)),
            OneForm::Several => None,
        }
    }
}

/// The digits of a reference made only of ASCII digits, without their leading zeros (`0` for
/// zeros alone); `None` for any other reference.
pub fn bare(id: &str) -> Option<&str> {
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let trimmed = id.trim_start_matches('0');
    Some(if trimmed.is_empty() { &id[id.len() - 1..] } else { trimmed })
}

/// Marks a bare form that two references share: none of them is chosen.
const AMBIGUOUS: u32 = u32::MAX;

/// References of digits with leading zeros, each found by its bare form; a bare form two of
/// them share finds neither.
#[derive(Debug, Default)]
pub struct PaddedForms {
    bare: IdTable,
    /// For each bare form, the caller's index of its one reference, or [`AMBIGUOUS`].
    owner: Vec<u32>,
}

impl PaddedForms {
    /// Notes that the reference `id`, numbered `index` by the caller, is held. A reference
    /// without leading zeros is found exactly, so it is not noted.
    pub fn note(&mut self, id: &str, index: u32) {
        let Some(bare) = bare(id).filter(|b| b.len() < id.len()) else { return };
        match self.bare.insert(bare) {
            Some((_, true)) => self.owner.push(index),
            Some((i, false)) => {
                if let Some(o) = self.owner.get_mut(i as usize).filter(|o| **o != index) {
                    *o = AMBIGUOUS;
                }
            }
            None => {}
        }
    }

    /// The caller's index of the one reference noted with these bare digits, if exactly one.
    pub fn find(&self, bare: &str) -> Option<u32> {
        self.bare.get(bare).and_then(|i| self.owner.get(i as usize)).copied().filter(|&o| o != AMBIGUOUS)
    }

    /// Whether two references noted share these bare digits.
    pub fn ambiguous(&self, bare: &str) -> bool {
        self.bare.get(bare).and_then(|i| self.owner.get(i as usize)).is_some_and(|&o| o == AMBIGUOUS)
    }
}

/// The one form among `forms` (the candidates found in several places, each `None` where a
/// place found none), or `None` where none or two different ones were found.
pub fn only_form<'a>(forms: impl IntoIterator<Item = Option<&'a str>>) -> Option<&'a str> {
    let mut found: Option<&str> = None;
    for f in forms.into_iter().flatten() {
        match found {
            Some(g) if g != f => return None,
            _ => found = Some(f),
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_digits_lose_their_leading_zeros_and_other_references_have_none() {
        assert_eq!(bare("000123"), Some("123"));
        assert_eq!(bare("123"), Some("123"));
        assert_eq!(bare("000"), Some("0"));
        assert_eq!(bare("0"), Some("0"));
        assert_eq!(bare("1020"), Some("1020"));
        for other in ["", "P000123", "00-12", "0012 ", "١٢٣", "12.0"] {
            assert_eq!(bare(other), None, "{other:?}");
        }
    }

    #[test]
    fn a_padded_reference_is_found_by_its_digits_unless_two_share_them() {
        let mut p = PaddedForms::default();
        p.note("000123", 0);
        p.note("123", 1);
        p.note("0042", 2);
        p.note("00042", 3);
        p.note("0042", 2);
        assert_eq!(p.find("123"), Some(0));
        assert_eq!(p.find("42"), None);
        assert!(p.ambiguous("42") && !p.ambiguous("123"));
        assert_eq!(p.find("7"), None);
    }

    #[test]
    fn only_one_form_is_chosen() {
        assert_eq!(only_form([Some("0012"), None, Some("0012")]), Some("0012"));
        assert_eq!(only_form([Some("0012"), Some("012")]), None);
        assert_eq!(only_form([None, None]), None);
    }
}
