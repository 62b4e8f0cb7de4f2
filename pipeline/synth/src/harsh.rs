//! The harsh error model (`tellonce synth --errors harsh`): on top of the default slips, the
//! errors that defeat exact keys, at rates well above what partners usually make, so that
//! linkage is measured where it is hard.
//!
//! Per person and source (so a source repeats its own mistake on every row it holds): a digit
//! of the date of birth mistyped, two digits transposed, the year off by one, day and month
//! swapped more often; the NHS number, date of birth or postcode left out (where the feed does
//! not require them), the forename cut to its initial; forename and surname swapped; a new surname
//! (marriage) or a hyphenated one; OCR-like substitutions (`rn` for `m`, `0` for `O`, `1` for
//! `l`); typos anywhere in a name, the first letter included; a move the other sources do not
//! know of (a new postcode in the same district). Every error is named in the truth file.

use std::borrow::Cow;

use tellonce_schemas::FeedSchema;
use tellonce_schemas::identifiers::dates::{civil_from_days, days_from_civil};

use super::emit::{Identity, err, swap_day_month};
use super::geo::Geo;
use super::names;
use super::population::{Member, Person, add_years};
use super::rng::Rng;
use super::typos;

/// Which errors `tellonce synth` injects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub enum ErrorModel {
    /// The slips partners usually make (the default).
    #[default]
    Default,
    /// The default slips and the errors that defeat exact keys, at high rates.
    Harsh,
}

impl ErrorModel {
    /// The model named `name` (`default`, `harsh`).
    pub fn parse(name: &str) -> Option<ErrorModel> {
        match name {
            "default" => Some(ErrorModel::Default),
            "harsh" => Some(ErrorModel::Harsh),
            _ => None,
        }
    }
}

/// Chances per person and source.
const TYPO: f64 = 0.06;
const FIRST_LETTER: f64 = 0.25;
const NICKNAME: f64 = 0.10;
const DOB_DIGIT: f64 = 0.04;
const DOB_TRANSPOSED: f64 = 0.02;
const DOB_YEAR: f64 = 0.02;
const DOB_SWAP: f64 = 0.03;
const MISSING: f64 = 0.03;
const NHS_MISSING: f64 = 0.15;
const NAMES_SWAPPED: f64 = 0.02;
const SURNAME_CHANGED: f64 = 0.03;
const OCR: f64 = 0.02;
const NEW_POSTCODE: f64 = 0.05;

/// What [`apply`] needs besides the identity.
pub(crate) struct Context<'a> {
    pub schema: &'static FeedSchema,
    pub geo: &'a Geo,
    pub person: &'a Person,
}

/// Adds the harsh errors to a source's view of a person.
pub(crate) fn apply<'p>(cx: &Context<'p>, id: &mut Identity<'p>, rng: &mut Rng) {
    let optional = |name: &str| cx.schema.column(name).is_some_and(|c| !c.required);
    let person = cx.person;
    if rng.chance(NICKNAME)
        && id.errors & err::NICKNAME == 0
        && let Some(n) = names::nicknames(person.forename)
    {
        id.forename = Cow::Borrowed(*rng.pick(n));
        id.errors |= err::NICKNAME;
    }
    if rng.chance(SURNAME_CHANGED) {
        let pool = names::pool(person.ethnicity, false);
        let other = *rng.pick(pool.surnames);
        // Adults take a new name; children are given a double-barrelled one.
        let adult = person.member != Member::Child;
        let changed = if adult && rng.chance(0.6) { other.to_owned() } else { format!("{}-{other}", id.surname) };
        if names_differ(&changed, &id.surname) {
            id.surname = Cow::Owned(changed);
            id.errors |= err::SURNAME_CHANGED;
        }
    }
    for surname in [false, true] {
        if !rng.chance(TYPO) {
            continue;
        }
        let name = if surname { &mut id.surname } else { &mut id.forename };
        let typo = if rng.chance(FIRST_LETTER) { first_letter_typo(name, rng) } else { typos::typo(name, rng) };
        if let Some(t) = typo {
            *name = Cow::Owned(t);
            id.errors |= if surname { err::TYPO_SURNAME } else { err::TYPO_FORENAME };
        }
    }
    let mut ocr_in_forename = false;
    if rng.chance(OCR) {
        let surname = rng.chance(0.5);
        let name = if surname { &mut id.surname } else { &mut id.forename };
        if let Some(t) = ocr(name, rng) {
            *name = Cow::Owned(t);
            id.errors |= err::OCR;
            ocr_in_forename = !surname;
        }
    }
    if rng.chance(NAMES_SWAPPED) {
        std::mem::swap(&mut id.forename, &mut id.surname);
        id.errors |= err::NAMES_SWAPPED;
    }
    date_errors(id, person.dob, rng);
    if id.nhs && rng.chance(NHS_MISSING) {
        id.nhs = false;
        id.errors |= err::NHS_MISSING;
    }
    if rng.chance(NEW_POSTCODE) && id.errors & err::MOVED == 0 {
        let here = id.address.postcode;
        let new = cx.geo.postcode_in(cx.geo.district_of(here), rng);
        if new != here {
            id.postcode = Cow::Borrowed(cx.geo.postcodes[new as usize].text.as_str());
            id.errors = (id.errors | err::NEW_POSTCODE) & !err::TYPO_POSTCODE;
        }
    }
    if optional("date_of_birth") && id.dob.is_some() && rng.chance(MISSING) {
        id.dob = None;
        id.errors = (id.errors | err::DOB_MISSING) & !DOB_ERRORS;
    }
    if optional("postcode") && rng.chance(MISSING) {
        id.postcode = Cow::Borrowed("");
        id.errors = (id.errors | err::POSTCODE_MISSING) & !(err::TYPO_POSTCODE | err::NEW_POSTCODE);
    }
    // Every feed requires a forename and a surname: a partner short of one records what it
    // has, the forename's initial.
    // Only a forename recorded right is cut, so that the truth names exactly what was done.
    let forename_slips = err::NAMES_SWAPPED | err::NICKNAME | err::TYPO_FORENAME;
    if rng.chance(MISSING)
        && id.errors & forename_slips == 0
        && !ocr_in_forename
        && let Some(initial) = id.forename.chars().next()
        && id.forename.chars().count() > 1
    {
        id.forename = Cow::Owned(initial.to_uppercase().collect());
        id.errors |= err::FORENAME_INITIAL;
    }
}

/// Errors that describe a date of birth that is present.
const DOB_ERRORS: u32 = err::DOB_SWAP | err::DOB_DIGIT | err::DOB_TRANSPOSED | err::DOB_YEAR;

/// At most one error in the date of birth.
fn date_errors(id: &mut Identity<'_>, true_dob: i32, rng: &mut Rng) {
    let Some(dob) = id.dob else { return };
    if dob != true_dob {
        return;
    }
    let (changed, bit) = if rng.chance(DOB_DIGIT) {
        (mistype_digit(dob, rng), err::DOB_DIGIT)
    } else if rng.chance(DOB_TRANSPOSED) {
        (transpose_digits(dob, rng), err::DOB_TRANSPOSED)
    } else if rng.chance(DOB_YEAR) {
        let years = if rng.chance(0.5) { 1 } else { -1 };
        (Some(add_years(dob, years)).filter(|&d| d <= super::population::end()), err::DOB_YEAR)
    } else if rng.chance(DOB_SWAP) {
        (swap_day_month(dob), err::DOB_SWAP)
    } else {
        (None, 0)
    };
    if let Some(d) = changed.filter(|&d| d != dob) {
        id.dob = Some(d);
        id.errors |= bit;
    }
}

/// The date's digits `YYYYMMDD` (as numbers), or the date they spell if it is a real one no
/// later than the end of the synthetic window.
fn to_digits(dob: i32) -> [u8; 8] {
    let (y, m, d) = civil_from_days(dob);
    let s = format!("{:04}{:02}{:02}", y, m, d);
    let mut out = [0u8; 8];
    for (o, b) in out.iter_mut().zip(s.bytes()) {
        *o = b - b'0';
    }
    out
}

fn from_digits(g: [u8; 8]) -> Option<i32> {
    let n = |r: std::ops::Range<usize>| g[r].iter().fold(0u32, |a, &d| a * 10 + u32::from(d));
    let (y, m, d) = (n(0..4) as i32, n(4..6), n(6..8));
    let day = days_from_civil(y, m, d);
    (civil_from_days(day) == (y, m, d) && day <= super::population::end() && y > 1900).then_some(day)
}

/// One digit of the year's last two, the month or the day replaced by another.
fn mistype_digit(dob: i32, rng: &mut Rng) -> Option<i32> {
    const POSITIONS: [usize; 6] = [2, 3, 4, 5, 6, 7];
    for _ in 0..40 {
        let mut g = to_digits(dob);
        let at = *rng.pick(&POSITIONS);
        g[at] = (g[at] + 1 + rng.below(9) as u8) % 10;
        if let Some(d) = from_digits(g) {
            return Some(d);
        }
    }
    None
}

/// Two adjacent digits of the year, month or day swapped.
fn transpose_digits(dob: i32, rng: &mut Rng) -> Option<i32> {
    const PAIRS: [usize; 3] = [2, 4, 6];
    for _ in 0..6 {
        let mut g = to_digits(dob);
        let at = *rng.pick(&PAIRS);
        if g[at] == g[at + 1] {
            continue;
        }
        g.swap(at, at + 1);
        if let Some(d) = from_digits(g) {
            return Some(d);
        }
    }
    None
}

/// Whether two names differ once folded.
fn names_differ(a: &str, b: &str) -> bool {
    use tellonce_schemas::identifiers::names::fold;
    fold(a) != fold(b)
}

/// The first letter replaced by another.
fn first_letter_typo(name: &str, rng: &mut Rng) -> Option<String> {
    let mut chars = name.chars();
    let first = chars.next()?;
    let letter = char::from(b'A' + rng.below(26) as u8);
    let out: String = std::iter::once(letter).chain(chars).collect();
    (letter != first.to_ascii_uppercase() && names_differ(&out, name)).then_some(out)
}

/// One OCR-like confusion: `rn`↔`m`, `cl`↔`d`, `O`/`o`→`0`, `l`→`1`, `I`→`l`.
fn ocr(name: &str, rng: &mut Rng) -> Option<String> {
    const SWAPS: [(&str, &str); 7] =
        [("rn", "m"), ("m", "rn"), ("cl", "d"), ("d", "cl"), ("o", "0"), ("O", "0"), ("l", "1")];
    let found: Vec<(&str, &str)> = SWAPS.iter().copied().filter(|(from, _)| name.contains(from)).collect();
    if found.is_empty() {
        return None;
    }
    let (from, to) = *rng.pick(&found);
    let out = name.replacen(from, to, 1);
    names_differ(&out, name).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn date_slips_are_real_dates_one_slip_away() {
        let dob = days_from_civil(2012, 7, 13);
        let mut rng = Rng::new(5);
        for _ in 0..200 {
            let Some(d) = mistype_digit(dob, &mut rng) else { continue };
            let (a, b) = (to_digits(dob), to_digits(d));
            assert_eq!(a.iter().zip(b).filter(|(x, y)| **x != *y).count(), 1);
            let Some(t) = transpose_digits(dob, &mut rng) else { continue };
            assert_ne!(t, dob);
            assert_eq!(
                to_digits(t).iter().map(|&x| u32::from(x)).sum::<u32>(),
                a.iter().map(|&x| u32::from(x)).sum::<u32>()
            );
        }
        assert_eq!(from_digits([2, 0, 1, 2, 0, 2, 3, 0]), None, "30 February");
    }

    #[test]
    fn ocr_and_first_letter_slips_change_the_name() {
        let mut rng = Rng::new(1);
        assert_eq!(ocr("Carmen", &mut rng).as_deref(), Some("Carrnen"), "the only confusion that applies");
        for _ in 0..20 {
            let t = ocr("Bjorn", &mut rng).unwrap();
            assert!(t == "Bjom" || t == "Bj0rn", "{t}");
        }
        assert_eq!(ocr("Xyz", &mut rng), None);
        for _ in 0..50 {
            let t = first_letter_typo("Amy", &mut rng);
            if let Some(t) = t {
                assert!(t.ends_with("my") && !t.starts_with('A'), "{t}");
            }
        }
        assert_eq!(ErrorModel::parse("harsh"), Some(ErrorModel::Harsh));
        assert_eq!(ErrorModel::parse("mild"), None);
    }
}
