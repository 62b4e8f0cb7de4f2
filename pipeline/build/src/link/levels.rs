//! Fellegi–Sunter comparison levels: how two records compare on each field, and what each
//! level weighs.
//!
//! A comparison puts a pair of records in one level per field (the first level of the list
//! that holds, top to bottom). Each level has `m` (the chance of that level for two records of
//! the same person) and `u` (for two records of different people); its weight is `log2(m/u)`
//! bits, positive for evidence of a match, negative against. A value missing on either side is
//! its own level with weight 0: no evidence either way, never a disagreement.
//!
//! The `m` and `u` here are the documented values, chosen from the error rates partners are known
//! to make and from the frequencies of values in a county-sized population (see
//! `docs/linkage.md`): where EM starts, and what a build too small to train on scores with. Each
//! build estimates its own ([`train`](super::train)).

use tellonce_governance::bloom::{dice, dice_and_bigrams_apart};

use super::compare::{Tk, Tokens, both, same};
use super::records::{Bloom, NONE, Records, Tok};

/// One level of one comparison: documented, or as a build estimated it ([`train`](super::train)).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Level {
    /// Name, as the docs print it.
    pub name: &'static str,
    /// P(level | same person).
    pub m: f64,
    /// P(level | different people).
    pub u: f64,
}

impl Level {
    /// `log2(m / u)` bits.
    pub fn weight(&self) -> f64 {
        (self.m / self.u).log2()
    }
}

const fn level(name: &'static str, m: f64, u: f64) -> Level {
    Level { name, m, u }
}

/// The level every comparison has for a value missing on either side: weight 0.
pub const MISSING: Level = level("missing", 1.0, 1.0);

/// Forename levels, in the order they are tested.
pub const FORENAME: [Level; 12] = [
    MISSING,
    level("exact", 0.86, 0.004),
    level("dice_0.9", 0.03, 0.0015),
    level("nickname", 0.04, 0.003),
    level("initial", 0.03, 0.003),
    level("one_edit", 0.03, 0.002),
    level("dice_0.8", 0.02, 0.003),
    level("dice_0.7", 0.015, 0.008),
    // Filters barely alike and more than one letter apart (Harry and Harvey; one letter
    // wrong in a short name is `one_edit`, tested first): weak evidence, weighed as the data
    // says.
    level("dice_0.6", 0.015, 0.01),
    // The filters are not comparable (different salts: a year of birth missing or mistyped) and
    // the names sound alike: most slips keep the Soundex code.
    level("soundex_not_compared", 0.04, 0.012),
    // Not comparable and only the initials agree: a slip after the first letter cannot be told
    // from another name.
    level("initial_not_compared", 0.02, 0.06),
    level("else", 0.035, 0.98),
];

/// Surname levels, in the order they are tested.
pub const SURNAME: [Level; 11] = [
    MISSING,
    level("exact", 0.85, 0.002),
    level("dice_0.9", 0.04, 0.0008),
    level("part", 0.04, 0.001),
    level("dice_0.8", 0.02, 0.002),
    level("dice_0.7", 0.01, 0.006),
    level("one_edit", 0.02, 0.003),
    level("dice_0.6", 0.01, 0.006),
    // The same Soundex code is the best evidence left when the filters cannot be compared
    // (different salts); when they can and are far apart, it adds next to nothing.
    level("soundex_not_compared", 0.03, 0.006),
    level("soundex", 0.005, 0.006),
    level("else", 0.025, 0.98),
];

/// Forename and surname recorded in each other's place: replaces both name levels.
pub const NAMES_SWAPPED: Level = level("names_swapped", 0.01, 1e-6);

/// Forename and surname half swapped: one name agrees with the other record's other name, the
/// dates of birth agree or one is missing, and the names compared straight weigh less than this
/// level (by the documented weights). Replaces both name levels. (A swap whose other half is one
/// edit apart, on dates of birth at most one slip apart, is [`NAMES_SWAPPED`].)
pub const NAMES_HALF_SWAPPED: Level = level("names_half_swapped", 0.01, 0.0002);

/// Date-of-birth levels, in the order they are tested. `else` (dates far apart) is a veto.
pub const DOB: [Level; 7] = [
    MISSING,
    level("exact", 0.90, 0.00015),
    level("day_month_swapped", 0.01, 0.00005),
    level("year_off_by_one", 0.015, 0.0003),
    level("one_digit", 0.03, 0.003),
    level("one_part_different", 0.01, 0.006),
    level("else", 0.035, 0.99),
];

/// Postcode levels, in the order they are tested.
pub const POSTCODE: [Level; 5] = [
    MISSING,
    level("exact", 0.75, 0.0005),
    level("sector", 0.05, 0.005),
    level("district", 0.05, 0.03),
    level("else", 0.15, 0.965),
];

/// Address-line levels: the same first line (a keyed token of its normalised form), the Dice
/// similarity of the lines' Bloom filters, or else. People move and partners record addresses
/// late, so a different line weighs little. Lines alike but for their numbers are
/// `other_number`, and at one postcode `other_number_same_postcode`: the postcode's agreement
/// already weighs as the chance that two people share a postcode, and given that, how often
/// they live at two numbers of one street is a matter of the deployment's streets (most of a
/// British postcode's homes are), not of random pairs. Its `u` is estimated among records
/// sharing a postcode whose forenames and dates of birth are unalike (other people).
pub const ADDRESS: [Level; 8] = [
    MISSING,
    level("exact", 0.65, 0.0005),
    level("dice_0.9", 0.05, 0.0001),
    level("dice_0.8", 0.03, 0.0002),
    level("dice_0.7", 0.02, 0.001),
    level("else", 0.25, 0.9972),
    level("other_number", 0.02, 0.001),
    level("other_number_same_postcode", 0.01, 0.5),
];

/// Sex levels.
pub const SEX: [Level; 3] = [MISSING, level("agree", 0.98, 0.5), level("disagree", 0.02, 0.5)];

/// A strong identifier (NHS number, UPN, PNC ID) that agrees. One that disagrees is a veto.
pub const STRONG_AGREE: Level = level("strong_agree", 0.99, 1e-9);

/// Level indices (into the tables above) that the matcher tests by name.
pub mod ix {
    /// Missing, in every table.
    pub const MISSING: u8 = 0;
    /// Exact, in every table that has it.
    pub const EXACT: u8 = 1;
    /// `initial` in [`super::FORENAME`]: one record holds only the other's initial.
    pub const FORENAME_INITIAL: u8 = 4;
    /// `one_edit` in [`super::FORENAME`]: one letter changed, added or dropped, the filters'
    /// Dice under 0.9 (Kelly and Kellr; but also Mia and Mila); or, where the filters cannot be
    /// compared, one edit apart by the unsalted one-edit tokens. Counted as alike by the
    /// household test (by the tokens alone, not beside a date of birth far apart) and the cluster
    /// veto: a slip is far commoner than two such names in one home.
    pub const FORENAME_ONE_EDIT: u8 = 5;
    /// `dice_0.6` in [`super::FORENAME`]: the filters barely alike and more than one edit
    /// apart (Harry and Harvey).
    pub const FORENAME_DICE_06: u8 = 8;
    /// `soundex_not_compared` in [`super::FORENAME`]: the filters cannot be compared, the
    /// names sound alike.
    pub const FORENAME_SOUNDEX_NOT_COMPARED: u8 = 9;
    /// `initial_not_compared` in [`super::FORENAME`]: the filters cannot be compared, only the
    /// initials agree.
    pub const FORENAME_NOT_COMPARED: u8 = 10;
    /// The last level of [`super::FORENAME`].
    pub const FORENAME_ELSE: u8 = 11;
    /// `one_edit` in [`super::SURNAME`]: one letter changed, added or dropped, the filters' Dice
    /// under 0.7 (a short surname: Hall and Hull); or, where the filters cannot be compared, one
    /// edit apart by the unsalted one-edit tokens.
    pub const SURNAME_ONE_EDIT: u8 = 6;
    /// `soundex_not_compared` in [`super::SURNAME`]: the filters cannot be compared, the
    /// Soundex codes agree.
    pub const SURNAME_SOUNDEX_NOT_COMPARED: u8 = 8;
    /// The last level of [`super::SURNAME`].
    pub const SURNAME_ELSE: u8 = 10;
    /// `day_month_swapped` in [`super::DOB`].
    pub const DOB_DAY_MONTH_SWAPPED: u8 = 2;
    /// `year_off_by_one` in [`super::DOB`]: the same day and month.
    pub const DOB_YEAR_OFF: u8 = 3;
    /// `one_digit` in [`super::DOB`]: one digit apart, or two neighbouring digits swapped (by
    /// the dates' one-edit tokens), where the parts say one part differs.
    pub const DOB_ONE_DIGIT: u8 = 4;
    /// `one_part_different` in [`super::DOB`]: two of year, month and day agree.
    pub const DOB_ONE_PART: u8 = 5;
    /// The last level of [`super::DOB`]: dates far apart.
    pub const DOB_ELSE: u8 = 6;
    /// `sector` in [`super::POSTCODE`]: the same postcode sector, not the same postcode.
    pub const POSTCODE_SECTOR: u8 = 2;
    /// `else` in [`super::ADDRESS`]: lines unalike.
    pub const ADDRESS_ELSE: u8 = 5;
    /// `other_number` in [`super::ADDRESS`]: lines alike (Dice 0.7 or more) whose numbers differ,
    /// two homes of one street or a slip in a number.
    pub const ADDRESS_OTHER_NUMBER: u8 = 6;
    /// `other_number_same_postcode` in [`super::ADDRESS`]: [`ADDRESS_OTHER_NUMBER`] at one
    /// postcode, whose `u` is its share among other people sharing a postcode (see
    /// [`super::ADDRESS`]).
    pub const ADDRESS_OTHER_NUMBER_SAME_POSTCODE: u8 = 7;
    /// `agree` in [`super::SEX`].
    pub const SEX_AGREE: u8 = 1;
    /// `disagree` in [`super::SEX`].
    pub const SEX_DISAGREE: u8 = 2;
}

/// How one pair of records compares, level by level (indices into the tables). What the levels
/// weigh is the model's to say ([`train::Model::weight`](super::train::Model::weight)).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Comparison {
    /// Forename level ([`FORENAME`]).
    pub forename: u8,
    /// Surname level ([`SURNAME`]).
    pub surname: u8,
    /// Whether the names are swapped (then both name levels are [`NAMES_SWAPPED`]).
    pub swapped: bool,
    /// Whether one name agrees with the other record's other name, the dates of birth exact or
    /// one missing, the straight comparison weighing less (then both name levels are
    /// [`NAMES_HALF_SWAPPED`]).
    pub half_swapped: bool,
    /// Date-of-birth level ([`DOB`]).
    pub dob: u8,
    /// Postcode level ([`POSTCODE`]).
    pub postcode: u8,
    /// Sex level ([`SEX`]).
    pub sex: u8,
    /// Address-line level ([`ADDRESS`]).
    pub address: u8,
    /// Strong identifiers that agree.
    pub strong_agree: u8,
    /// Whether a strong identifier both hold disagrees (a veto).
    pub strong_disagree: bool,
    /// Whether the name filters could not be compared (salted by different years, or one
    /// without a year), so that the name levels come from tokens alone.
    pub names_not_compared: bool,
    /// Whether one partner lists both records in one household (one feed, one household or
    /// case reference), one as a child and the other as an adult (`role_in_household`).
    pub listed_as_child_and_adult: bool,
}

/// The Dice band of a similarity: 0 for ≥ 0.9, 1 for ≥ 0.8, 2 for ≥ 0.7, 3 for ≥ 0.6, else 4.
fn band(d: f32) -> u8 {
    if d >= 0.9 {
        0
    } else if d >= 0.8 {
        1
    } else if d >= 0.7 {
        2
    } else if d >= 0.6 {
        3
    } else {
        4
    }
}

/// Bigrams apart below which two names are one edit apart: a letter changed leaves four, one
/// added or dropped three, two changes six or more.
const ONE_EDIT_BIGRAMS: f32 = 4.5;

/// How alike two Bloom filters made under one salt are.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Similarity {
    /// Their Dice coefficient.
    pub dice: f32,
    /// The bigrams in one and not the other, estimated
    /// ([`bigrams_apart`](tellonce_governance::bloom::bigrams_apart)).
    pub bigrams_apart: f32,
}

impl Similarity {
    /// Of two filters.
    pub fn of(a: &Bloom, b: &Bloom) -> Similarity {
        let (dice, bigrams_apart) = dice_and_bigrams_apart(a, b);
        Similarity { dice, bigrams_apart }
    }

    /// One letter changed (two bigrams out, two in), added or dropped (three in all), with
    /// room for the estimate's noise; not two changes (six or more).
    fn one_edit(self) -> bool {
        self.bigrams_apart < ONE_EDIT_BIGRAMS
    }

    /// As alike, with whether the names are one edit apart told by their one-edit tokens where
    /// `known` (both records have them). The filters' count of bigrams apart cannot tell two
    /// bigrams swapped for two others from one dropped with two more changed (Dylan and Dan are
    /// four apart as Kelly and Kellr are); the tokens can.
    pub fn with_one_edit(self, known: Option<bool>) -> Similarity {
        match known {
            Some(true) => Similarity { bigrams_apart: 0.0, ..self },
            Some(false) => Similarity { bigrams_apart: f32::INFINITY, ..self },
            None => self,
        }
    }
}

/// The forename level of two records. `sim` is how alike their Bloom filters are, where
/// comparable (same salt).
pub fn forename_level(a: &Tokens, b: &Tokens, sim: Option<Similarity>) -> u8 {
    let dice = sim.map(|s| s.dice);
    let one_edit = sim.is_some_and(Similarity::one_edit);
    let (fa, fb) = (a[Tk::Forename as usize], b[Tk::Forename as usize]);
    if !both(fa, fb) {
        return ix::MISSING;
    }
    if fa == fb {
        return ix::EXACT;
    }
    let class = |t: &Tokens| [t[Tk::ClassFirst as usize], t[Tk::ClassLast as usize]];
    let nickname = class(a).iter().any(|&x| class(b).iter().any(|&y| same(x, y)));
    // One forename is the other's initial: the initial token of one equals the name token of
    // the other (both under the `person_name` domain).
    let initial = same(fa, b[Tk::Initial as usize]) || same(a[Tk::Initial as usize], fb);
    let same_initial = same(a[Tk::Initial as usize], b[Tk::Initial as usize]);
    let same_sound = same(a[Tk::ForenameSoundex as usize], b[Tk::ForenameSoundex as usize]);
    match (dice.map(band), nickname, initial) {
        (Some(0), _, _) => 2,
        (_, true, _) => 3,
        (_, _, true) => ix::FORENAME_INITIAL,
        _ if one_edit => ix::FORENAME_ONE_EDIT,
        (Some(1), _, _) => 6,
        (Some(2), _, _) => 7,
        (Some(3), _, _) => ix::FORENAME_DICE_06,
        (None, _, _) if same_sound => ix::FORENAME_SOUNDEX_NOT_COMPARED,
        (None, _, _) if same_initial => ix::FORENAME_NOT_COMPARED,
        _ => ix::FORENAME_ELSE,
    }
}

/// The surname level of two records.
pub fn surname_level(a: &Tokens, b: &Tokens, sim: Option<Similarity>) -> u8 {
    let dice = sim.map(|s| s.dice);
    let one_edit = sim.is_some_and(Similarity::one_edit);
    let (sa, sb) = (a[Tk::Surname as usize], b[Tk::Surname as usize]);
    if !both(sa, sb) {
        return ix::MISSING;
    }
    if sa == sb {
        return ix::EXACT;
    }
    let parts = |t: &Tokens| [t[Tk::Surname as usize], t[Tk::PartFirst as usize], t[Tk::PartLast as usize]];
    let part = parts(a).iter().any(|&x| parts(b).iter().any(|&y| same(x, y)));
    let soundex = same(a[Tk::Soundex as usize], b[Tk::Soundex as usize]);
    match (dice.map(band), part) {
        (Some(0), _) => 2,
        (_, true) => 3,
        (Some(1), _) => 4,
        (Some(2), _) => 5,
        _ if one_edit => ix::SURNAME_ONE_EDIT,
        (Some(3), _) => 7,
        (None, _) if soundex => ix::SURNAME_SOUNDEX_NOT_COMPARED,
        _ if soundex => 9,
        _ => ix::SURNAME_ELSE,
    }
}

/// Whether the forename of each record is the surname of the other (and not the same names).
pub fn names_swapped(a: &Tokens, b: &Tokens) -> bool {
    let (fa, sa, fb, sb) =
        (a[Tk::Forename as usize], a[Tk::Surname as usize], b[Tk::Forename as usize], b[Tk::Surname as usize]);
    same(fa, sb) && same(sa, fb) && fa != sa
}

/// Whether one record's forename is the other's surname (or the reverse), the names not being
/// the same pair.
pub fn names_half_swapped(a: &Tokens, b: &Tokens) -> bool {
    let (fa, sa, fb, sb) =
        (a[Tk::Forename as usize], a[Tk::Surname as usize], b[Tk::Forename as usize], b[Tk::Surname as usize]);
    (same(fa, sb) && fa != sa) || (same(sa, fb) && fb != sb)
}

/// Whether the forename of each record is the other's surname, one of the two exactly and the
/// other one edit apart by their one-edit tokens (`JOSELYN BRUS` and `BRUS JOSELNYN`).
fn swapped_with_a_slip(recs: &Records, i: usize, j: usize) -> bool {
    let (a, b) = (&recs.tokens[i], &recs.tokens[j]);
    let (fa, sa, fb, sb) =
        (a[Tk::Forename as usize], a[Tk::Surname as usize], b[Tk::Forename as usize], b[Tk::Surname as usize]);
    let (forename, surname) = (0, 1);
    (same(fa, sb) && fa != sa && recs.one_edit_across((i, surname), (j, forename)))
        || (same(sa, fb) && fb != sb && recs.one_edit_across((i, forename), (j, surname)))
}

/// The date-of-birth level of two records.
pub fn dob_level(a: &Tokens, b: &Tokens) -> u8 {
    let t = |k: Tk| (a[k as usize], b[k as usize]);
    let (da, db) = t(Tk::DobUnordered);
    if !both(da, db) {
        return ix::MISSING;
    }
    let eq = |k: Tk| {
        let (x, y) = t(k);
        same(x, y)
    };
    if eq(Tk::YearMonth) && eq(Tk::MonthDay) {
        return ix::EXACT;
    }
    if da == db {
        return ix::DOB_DAY_MONTH_SWAPPED;
    }
    if eq(Tk::MonthDay) && (eq(Tk::YearEven) != eq(Tk::YearOdd)) {
        return ix::DOB_YEAR_OFF;
    }
    if eq(Tk::YearMonth) || eq(Tk::YearDay) || eq(Tk::MonthDay) {
        return ix::DOB_ONE_PART;
    }
    // A date that is no date (`1931-99-24`) is staged as its readable parts, without the exact
    // token. Where none of its parts agrees, it is garbled past reading, not another person's
    // date: no evidence, as it was when such dates were nulled whole, rather than a veto.
    if no_date(a, b) {
        return ix::MISSING;
    }
    ix::DOB_ELSE
}

/// Whether either record's date of birth is no date: its parts staged without the exact token.
fn no_date(a: &Tokens, b: &Tokens) -> bool {
    a[Tk::Dob as usize] == NONE || b[Tk::Dob as usize] == NONE
}

/// The postcode level of two records.
pub fn postcode_level(a: &Tokens, b: &Tokens) -> u8 {
    let t = |k: Tk| (a[k as usize], b[k as usize]);
    let (pa, pb) = t(Tk::District);
    if !both(pa, pb) {
        return ix::MISSING;
    }
    let (fa, fb) = t(Tk::Postcode);
    if same(fa, fb) {
        return ix::EXACT;
    }
    let (sa, sb) = t(Tk::Sector);
    if same(sa, sb) {
        return ix::POSTCODE_SECTOR;
    }
    if pa == pb { 3 } else { 4 }
}

/// The address-line level of two records: missing, exact, a Dice band of their filters (where
/// both have one), or else. Lines alike whose numbers differ (`60` and `156` of one street,
/// whose bigrams are as alike as a slip's) are `other_number`, weighed apart from the bands:
/// two homes where the data holds households, a slip in a number where it does not.
pub fn address_level(a: &Tokens, b: &Tokens, dice: Option<f32>) -> u8 {
    let (x, y) = (a[Tk::Address as usize], b[Tk::Address as usize]);
    let (na, nb) = (a[Tk::AddressNumbers as usize], b[Tk::AddressNumbers as usize]);
    if !both(x, y) {
        ix::MISSING
    } else if x == y {
        ix::EXACT
    } else {
        // Addresses have no 0.6 band: two lines of one street differ by a house number alone.
        let level = dice.map_or(ix::ADDRESS_ELSE, |d| band(d).min(3) + 2);
        if level != ix::ADDRESS_ELSE && both(na, nb) && na != nb { ix::ADDRESS_OTHER_NUMBER } else { level }
    }
}

/// The sex level: 0 unknown, 1 agree, 2 disagree (`b'M'`, `b'F'`, 0 unknown).
pub fn sex_level(a: u8, b: u8) -> u8 {
    match (a, b) {
        (0, _) | (_, 0) => 0,
        (x, y) if x == y => ix::SEX_AGREE,
        _ => 2,
    }
}

/// The forename levels a pair whose filters cannot be compared may have that `one_edit`
/// outranks.
const FORENAME_UNDER_ONE_EDIT: [u8; 3] =
    [ix::FORENAME_SOUNDEX_NOT_COMPARED, ix::FORENAME_NOT_COMPARED, ix::FORENAME_ELSE];
/// The surname levels a pair whose filters cannot be compared may have that `one_edit` outranks.
const SURNAME_UNDER_ONE_EDIT: [u8; 2] = [ix::SURNAME_SOUNDEX_NOT_COMPARED, ix::SURNAME_ELSE];

fn below_one_edit(level: u8, under: &[u8]) -> bool {
    under.contains(&level)
}

/// Whether two Bloom filters were made under the same salt (the year of birth, or none), and
/// so may be compared.
pub fn same_salt(a: &Tokens, b: &Tokens) -> bool {
    let (ea, eb, oa, ob) =
        (a[Tk::YearEven as usize], b[Tk::YearEven as usize], a[Tk::YearOdd as usize], b[Tk::YearOdd as usize]);
    ea == eb && oa == ob
}

/// How many strong identifiers records `i` and `j` share, and whether one held by both differs.
pub fn strong_identifiers(recs: &Records, i: usize, j: usize) -> (u8, bool) {
    let (mut agree, mut disagree) = (0u8, false);
    for s in &recs.strong {
        let (x, y): (Option<Tok>, Option<Tok>) = (s[i], s[j]);
        match (x, y) {
            (Some(x), Some(y)) if x == y => agree += 1,
            (Some(_), Some(_)) => disagree = true,
            _ => {}
        }
    }
    (agree, disagree)
}

/// Whether two records are at one home as the household count reads it: the same address line
/// where both have one, else the same postcode (a postcode alone is shared by chance more often).
pub fn one_home(address: u8, postcode: u8) -> bool {
    address == ix::EXACT || (address == ix::MISSING && postcode == ix::EXACT)
}

/// [`one_home`] from the tokens alone, before the filters are compared: the address level's
/// `missing` and `exact` are decided by tokens.
pub fn one_home_by_tokens(a: &Tokens, b: &Tokens) -> bool {
    one_home(address_level(a, b, None), postcode_level(a, b))
}

/// Whether the forenames of a compared pair could be one person's. Initials alone are not alike
/// (a mother and daughter share one as often as not), nor filters barely alike and more than one
/// letter apart (Harry and Harvey). Names half swapped count as alike, households or not: a half
/// swap says the names could be one person's.
pub fn forenames_alike(cmp: &Comparison) -> bool {
    cmp.swapped
        || cmp.half_swapped
        || !matches!(cmp.forename, ix::FORENAME_ELSE | ix::FORENAME_NOT_COMPARED | ix::FORENAME_DICE_06)
}

/// Compares records `i` and `j`.
pub fn compare(recs: &Records, i: usize, j: usize) -> Comparison {
    let (a, b) = (&recs.tokens[i], &recs.tokens[j]);
    let blooms = |r: usize| -> Option<&(Bloom, Bloom)> {
        let k = recs.bloom[r];
        if k == NONE { None } else { recs.blooms.get(k as usize) }
    };
    let (fore_sim, sur_sim) = match (blooms(i), blooms(j)) {
        (Some(x), Some(y)) if same_salt(a, b) => (Some(Similarity::of(&x.0, &y.0)), Some(Similarity::of(&x.1, &y.1))),
        _ => (None, None),
    };
    let fore_sim = fore_sim.map(|s| s.with_one_edit(recs.one_edit_known(0, i, j)));
    let sur_sim = sur_sim.map(|s| s.with_one_edit(recs.one_edit_known(1, i, j)));
    // Names whose filters cannot be compared (salted by different years) may still be told one
    // edit apart by their unsalted one-edit tokens.
    let mut forename = forename_level(a, b, fore_sim);
    if fore_sim.is_none() && below_one_edit(forename, &FORENAME_UNDER_ONE_EDIT) && recs.one_edit(0, i, j) {
        forename = ix::FORENAME_ONE_EDIT;
    }
    let mut surname = surname_level(a, b, sur_sim);
    if sur_sim.is_none() && below_one_edit(surname, &SURNAME_UNDER_ONE_EDIT) && recs.one_edit(1, i, j) {
        surname = ix::SURNAME_ONE_EDIT;
    }
    let mut dob = dob_level(a, b);
    // A slip of one digit or two swapped is a typo far more often than another person's date;
    // two neighbours swapped across the parts (`1986-01-21`, `1986-02-11`) change two parts.
    if matches!(dob, ix::DOB_ONE_PART | ix::DOB_ELSE) && recs.one_edit(2, i, j) {
        dob = ix::DOB_ONE_DIGIT;
    } else if dob == ix::DOB_ONE_PART && no_date(a, b) {
        // A date that is no date, more than one slip from the other: garbled past reading.
        dob = ix::MISSING;
    }
    let postcode = postcode_level(a, b);
    let sex = sex_level(recs.sex[i], recs.sex[j]);
    let address_dice = match (recs.address_bloom[i], recs.address_bloom[j]) {
        (x, y) if x != NONE && y != NONE => {
            recs.address_blooms.get(x as usize).zip(recs.address_blooms.get(y as usize)).map(|(p, q)| dice(p, q))
        }
        _ => None,
    };
    let mut address = address_level(a, b, address_dice);
    // The postcode's exact agreement is weighed already, and at one postcode another number of
    // the same street is what neighbours have: weighed by its own share among them.
    if address == ix::ADDRESS_OTHER_NUMBER && postcode == ix::EXACT {
        address = ix::ADDRESS_OTHER_NUMBER_SAME_POSTCODE;
    }
    let (strong_agree, strong_disagree) = strong_identifiers(recs, i, j);
    let listed_together =
        recs.household_ref[i] != NONE && recs.household_ref[i] == recs.household_ref[j] && recs.feed[i] == recs.feed[j];
    let child = |r: usize| match recs.role[r] {
        Some("CHILD" | "UNBORN") => Some(true),
        Some("PARENT_CARER" | "OTHER_ADULT") => Some(false),
        _ => None,
    };
    let listed_as_child_and_adult = listed_together && matches!((child(i), child(j)), (Some(x), Some(y)) if x != y);
    let straight = || FORENAME[usize::from(forename)].weight() + SURNAME[usize::from(surname)].weight();
    // A swap with a slip in one name, on dates of birth one slip apart at most, is as rare between
    // two people as a clean swap. Without a date it stays a half swap, under the half swap's
    // guards: a parent and child of names one letter apart (Paul and Paula) swap as easily.
    let close = matches!(dob, ix::EXACT | ix::DOB_DAY_MONTH_SWAPPED | ix::DOB_YEAR_OFF | ix::DOB_ONE_DIGIT);
    let slipped = close && straight() < NAMES_SWAPPED.weight() && swapped_with_a_slip(recs, i, j);
    let swapped = names_swapped(a, b) || slipped;
    // Only on the same date of birth, or where one is missing: a parent recorded surname first
    // shares the child's surname as exactly, and the other names may be unalike. With a date missing, at the same address line or postcode and with no strong
    // identifier agreeing, the scoring pass refuses the pair where the data holds households
    // (`score::household_deferred`).
    let half_swapped = !swapped
        && matches!(dob, ix::EXACT | ix::MISSING)
        && straight() < NAMES_HALF_SWAPPED.weight()
        && names_half_swapped(a, b);
    let names_not_compared = fore_sim.is_none();
    Comparison {
        forename,
        surname,
        swapped,
        half_swapped,
        dob,
        postcode,
        sex,
        address,
        strong_agree,
        strong_disagree,
        names_not_compared,
        listed_as_child_and_adult,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Filters as alike as `dice`, more than one edit apart.
    fn sim(dice: f32) -> Option<Similarity> {
        Some(Similarity { dice, bigrams_apart: 9.0 })
    }

    /// Tokens from (kind, id) pairs; the rest missing.
    fn toks(pairs: &[(Tk, u32)]) -> Tokens {
        let mut t = [NONE; super::super::compare::TK];
        for &(k, v) in pairs {
            t[k as usize] = v;
        }
        t
    }

    /// A date of birth as its part tokens: ids made from the parts so that equal parts give
    /// equal ids.
    fn dob(y: u32, m: u32, d: u32) -> Vec<(Tk, u32)> {
        let (lo, hi) = if m <= d { (m, d) } else { (d, m) };
        vec![
            (Tk::Dob, 1_000_000 + y * 10_000 + m * 100 + d),
            (Tk::DobUnordered, 2_000_000 + y * 10_000 + lo * 100 + hi),
            (Tk::YearMonth, 3_000_000 + y * 100 + m),
            (Tk::YearDay, 4_000_000 + y * 100 + d),
            (Tk::MonthDay, 5_000_000 + m * 100 + d),
            (Tk::YearEven, 6_000_000 + y - y % 2),
            (Tk::YearOdd, 7_000_000 + y - (y + 1) % 2),
        ]
    }

    #[test]
    fn date_of_birth_levels() {
        let l = |a: (u32, u32, u32), b: (u32, u32, u32)| {
            DOB[usize::from(dob_level(&toks(&dob(a.0, a.1, a.2)), &toks(&dob(b.0, b.1, b.2))))].name
        };
        assert_eq!(l((2012, 7, 3), (2012, 7, 3)), "exact");
        assert_eq!(l((2012, 7, 3), (2012, 3, 7)), "day_month_swapped");
        assert_eq!(l((2012, 7, 3), (2013, 7, 3)), "year_off_by_one");
        assert_eq!(l((2012, 7, 3), (2011, 7, 3)), "year_off_by_one");
        assert_eq!(l((2012, 7, 3), (2017, 7, 3)), "one_part_different", "a mistyped year digit");
        assert_eq!(l((2012, 7, 13), (2012, 7, 18)), "one_part_different", "a mistyped day digit");
        assert_eq!(l((2012, 7, 13), (2012, 7, 31)), "one_part_different", "transposed day digits");
        assert_eq!(l((2012, 7, 3), (2012, 1, 3)), "one_part_different");
        assert_eq!(l((2012, 7, 3), (2014, 1, 30)), "else");
        assert_eq!(l((2012, 7, 3), (2013, 7, 4)), "else");
        assert_eq!(dob_level(&toks(&dob(2012, 7, 3)), &toks(&[])), ix::MISSING);
    }

    #[test]
    fn one_edit_holds_a_letter_changed_added_or_dropped_and_not_two() {
        let mut e = tellonce_governance::KeyRing::from_master([5u8; 32])
            .tokeniser(tellonce_governance::Purpose::Linkage)
            .bloom_encoder();
        let mut one_edit = |x: &str, y: &str| {
            Similarity::of(&e.encode("forename", "2012", x), &e.encode("forename", "2012", y)).one_edit()
        };
        for (x, y) in [("KELLY", "KELLR"), ("SARAH", "SARAG"), ("JON", "JOHN"), ("KATHERINE", "CATHERINE")] {
            assert!(one_edit(x, y), "{x} {y}");
        }
        for (x, y) in [("ELLA", "ELLIE"), ("JACK", "JAKE"), ("HARRY", "HARVEY"), ("SARAH", "THOMAS")] {
            assert!(!one_edit(x, y), "{x} {y}");
        }
    }

    #[test]
    fn one_edit_tokens_overrule_the_filters_estimate() {
        let mut e = tellonce_governance::KeyRing::from_master([5u8; 32])
            .tokeniser(tellonce_governance::Purpose::Linkage)
            .bloom_encoder();
        let of = |name: &str| {
            let mut v = Vec::new();
            tellonce_schemas::name_edits::neighbourhood(name, &mut v);
            v
        };
        let a = toks(&[(Tk::Forename, 1)]);
        let b = toks(&[(Tk::Forename, 2)]);
        // Dylan and Dan are four bigrams apart, as a letter changed leaves two names.
        let dylan_dan = Similarity::of(&e.encode("forename", "2011", "DYLAN"), &e.encode("forename", "2011", "DAN"));
        assert!(dylan_dan.one_edit(), "the filters alone cannot tell");
        let known = Some(tellonce_schemas::name_edits::one_edit(&of("DYLAN"), &of("DAN")));
        assert_eq!(known, Some(false));
        assert_eq!(forename_level(&a, &b, Some(dylan_dan)), ix::FORENAME_ONE_EDIT);
        let told = forename_level(&a, &b, Some(dylan_dan.with_one_edit(known)));
        assert_ne!(told, ix::FORENAME_ONE_EDIT, "the tokens tell: the Dice band decides");
        // A slip the filters' estimate misses is still one edit where the tokens say so.
        let far = Similarity { dice: 0.5, bigrams_apart: 6.0 };
        assert_eq!(forename_level(&a, &b, Some(far.with_one_edit(Some(true)))), ix::FORENAME_ONE_EDIT);
        assert_eq!(forename_level(&a, &b, Some(far.with_one_edit(None))), ix::FORENAME_ELSE, "no tokens: the filters");
    }

    #[test]
    fn name_levels_use_tokens_then_dice_and_missing_is_no_evidence() {
        let a = toks(&[(Tk::Forename, 1), (Tk::ClassFirst, 10), (Tk::ClassLast, 11), (Tk::Surname, 20)]);
        let nick = toks(&[(Tk::Forename, 2), (Tk::ClassFirst, 11), (Tk::ClassLast, 11), (Tk::Surname, 21)]);
        assert_eq!(FORENAME[usize::from(forename_level(&a, &a, sim(1.0)))].name, "exact");
        assert_eq!(FORENAME[usize::from(forename_level(&a, &nick, sim(0.2)))].name, "nickname");
        assert_eq!(FORENAME[usize::from(forename_level(&a, &nick, sim(0.95)))].name, "dice_0.9");
        let other = toks(&[(Tk::Forename, 3), (Tk::ClassFirst, 12), (Tk::ClassLast, 12)]);
        assert_eq!(FORENAME[usize::from(forename_level(&a, &other, sim(0.85)))].name, "dice_0.8");
        assert_eq!(FORENAME[usize::from(forename_level(&a, &other, sim(0.75)))].name, "dice_0.7");
        assert_eq!(FORENAME[usize::from(forename_level(&a, &other, sim(0.65)))].name, "dice_0.6");
        // One letter of a short name: a low Dice, one edit apart.
        let kellr = Some(Similarity { dice: 0.66, bigrams_apart: 4.1 });
        assert_eq!(FORENAME[usize::from(forename_level(&a, &other, kellr))].name, "one_edit");
        assert_eq!(SURNAME[usize::from(surname_level(&a, &nick, kellr))].name, "one_edit");
        assert_eq!(forename_level(&a, &other, sim(0.3)), ix::FORENAME_ELSE);
        assert_eq!(forename_level(&a, &other, None), ix::FORENAME_ELSE, "not comparable: only tokens count");
        let (ai, oi) = (toks(&[(Tk::Forename, 1), (Tk::Initial, 7)]), toks(&[(Tk::Forename, 3), (Tk::Initial, 7)]));
        assert_eq!(FORENAME[usize::from(forename_level(&ai, &oi, None))].name, "initial_not_compared");
        let sound = |name| toks(&[(Tk::Forename, name), (Tk::Initial, 7), (Tk::ForenameSoundex, 9)]);
        assert_eq!(FORENAME[usize::from(forename_level(&sound(1), &sound(3), None))].name, "soundex_not_compared");
        assert_eq!(forename_level(&sound(1), &sound(3), sim(0.2)), ix::FORENAME_ELSE, "compared: the filters decide");
        assert_eq!(forename_level(&ai, &oi, sim(0.2)), ix::FORENAME_ELSE, "compared and unalike");
        assert_eq!(forename_level(&a, &toks(&[]), sim(1.0)), ix::MISSING);
        let with_initial = toks(&[(Tk::Forename, 1), (Tk::Initial, 50)]);
        let initial_only = toks(&[(Tk::Forename, 50), (Tk::Initial, 50)]);
        assert_eq!(FORENAME[usize::from(forename_level(&with_initial, &initial_only, sim(0.1)))].name, "initial");
        assert_eq!(FORENAME[0].weight(), 0.0);
        // Surname parts: Smith-Jones and Jones.
        let sj = toks(&[(Tk::Surname, 30), (Tk::PartFirst, 31), (Tk::PartLast, 32), (Tk::Soundex, 40)]);
        let j = toks(&[(Tk::Surname, 32), (Tk::PartFirst, 32), (Tk::PartLast, 32), (Tk::Soundex, 41)]);
        assert_eq!(SURNAME[usize::from(surname_level(&sj, &j, sim(0.5)))].name, "part");
        let smyth = toks(&[(Tk::Surname, 33), (Tk::PartFirst, 33), (Tk::PartLast, 33), (Tk::Soundex, 40)]);
        assert_eq!(SURNAME[usize::from(surname_level(&sj, &smyth, None))].name, "soundex_not_compared");
        assert_eq!(SURNAME[usize::from(surname_level(&sj, &smyth, sim(0.4)))].name, "soundex");
        // Swapped names.
        let b = toks(&[(Tk::Forename, 20), (Tk::Surname, 1)]);
        assert!(names_swapped(&a, &b) && !names_swapped(&a, &a));
    }

    #[test]
    fn postcode_and_sex_levels() {
        let p = |full, sector, district| toks(&[(Tk::Postcode, full), (Tk::Sector, sector), (Tk::District, district)]);
        assert_eq!(postcode_level(&p(1, 2, 3), &p(1, 2, 3)), ix::EXACT);
        assert_eq!(POSTCODE[usize::from(postcode_level(&p(1, 2, 3), &p(4, 2, 3)))].name, "sector");
        assert_eq!(POSTCODE[usize::from(postcode_level(&p(1, 2, 3), &p(4, 5, 3)))].name, "district");
        assert_eq!(POSTCODE[usize::from(postcode_level(&p(1, 2, 3), &p(4, 5, 6)))].name, "else");
        assert_eq!(postcode_level(&p(1, 2, 3), &toks(&[])), ix::MISSING);
        assert_eq!((sex_level(b'M', b'M'), sex_level(b'M', b'F'), sex_level(0, b'F')), (1, 2, 0));
        let line = |t| toks(&[(Tk::Address, t)]);
        let name = |a, b, d| ADDRESS[usize::from(address_level(&line(a), &line(b), d))].name;
        assert_eq!(name(1, 1, Some(0.2)), "exact", "the same token whatever the filters");
        assert_eq!(name(1, 2, Some(0.93)), "dice_0.9");
        assert_eq!(name(1, 2, Some(0.85)), "dice_0.8");
        assert_eq!(name(1, 2, Some(0.75)), "dice_0.7");
        assert_eq!(name(1, 2, Some(0.5)), "else");
        assert_eq!(name(1, 2, None), "else", "no filters: only the tokens decide");
        assert_eq!(address_level(&line(1), &toks(&[]), Some(1.0)), ix::MISSING);
        // Two homes of one street: alike as bigrams, apart by their numbers.
        let home = |t, n| toks(&[(Tk::Address, t), (Tk::AddressNumbers, n)]);
        let level = |a, b| ADDRESS[usize::from(address_level(&a, &b, Some(0.85)))].name;
        assert_eq!(level(home(1, 60), home(2, 156)), "other_number");
        assert_eq!(ADDRESS[usize::from(address_level(&home(1, 60), &home(2, 156), Some(0.3)))].name, "else");
        assert_eq!(level(home(1, 60), home(2, 60)), "dice_0.8", "a typo in the street");
        assert_eq!(level(home(1, 60), line(2)), "dice_0.8", "one line without a number");
        assert_eq!(level(home(1, 60), home(1, 61)), "exact", "the same line is the same token");
    }

    #[test]
    fn weights_rank_the_levels() {
        for table in [&FORENAME[1..], &SURNAME[1..], &DOB[1..], &POSTCODE[1..]] {
            for w in table.windows(2) {
                assert!(w[0].weight() >= w[1].weight() - 2.0, "{} then {}", w[0].name, w[1].name);
            }
            assert!(table.last().is_some_and(|l| l.weight() < 0.0));
            assert!(table[0].weight() > 7.0);
        }
        assert!(STRONG_AGREE.weight() > 25.0);
    }
}

#[cfg(test)]
mod edit_tests {
    use super::*;
    use crate::link::compare::{TK, Tk};
    use std::collections::HashMap;

    /// Two records whose name filters cannot be compared (one has no date of birth), with the
    /// one-edit token lists of their forenames.
    fn pair(a: &str, b: &str) -> Records {
        let mut ids: HashMap<Vec<u8>, u32> = HashMap::new();
        let mut r = Records::new();
        for (k, name) in [a, b].into_iter().enumerate() {
            let i = r.push("camhs", format!("C{k}")) as usize;
            let mut t = [NONE; TK];
            t[Tk::Forename as usize] = 100 + k as u32;
            t[Tk::Surname as usize] = 7;
            if k == 0 {
                t[Tk::DobUnordered as usize] = 9;
            }
            r.tokens[i] = t;
            let mut variants = Vec::new();
            tellonce_schemas::name_edits::neighbourhood(name, &mut variants);
            let list: Vec<u32> = variants
                .into_iter()
                .map(|v| {
                    let next = ids.len() as u32;
                    *ids.entry(v).or_insert(next)
                })
                .collect();
            r.edits[i] = [r.edit_lists.len() as u32, NONE, NONE];
            r.edit_lists.push(list.into_boxed_slice());
        }
        r
    }

    #[test]
    fn names_one_edit_apart_are_told_by_their_tokens_where_the_filters_cannot_be_compared() {
        let c = compare(&pair("FLORENCE", "FLOENCE"), 0, 1);
        assert!(c.names_not_compared);
        assert_eq!(FORENAME[usize::from(c.forename)].name, "one_edit");
        assert_eq!(compare(&pair("FLORENCE", "FLORA"), 0, 1).forename, ix::FORENAME_ELSE);
        // The surname has no tokens here: its level is the token comparison's, unchanged.
        assert_eq!(compare(&pair("FLORENCE", "FLOENCE"), 0, 1).surname, ix::EXACT);
    }

    /// Two records, each name with its one-edit token list, tokens numbered by the name's match
    /// form (one domain for forenames and surnames, as at the edge).
    fn named(people: [(&str, &str); 2]) -> Records {
        let mut ids: HashMap<Vec<u8>, u32> = HashMap::new();
        let mut id = |v: Vec<u8>| {
            let next = ids.len() as u32;
            *ids.entry(v).or_insert(next)
        };
        let mut r = Records::new();
        for (k, (fore, sur)) in people.into_iter().enumerate() {
            let i = r.push("camhs", format!("C{k}")) as usize;
            let mut t = [NONE; TK];
            t[Tk::Forename as usize] = id(fore.as_bytes().to_vec());
            t[Tk::Surname as usize] = id(sur.as_bytes().to_vec());
            t[Tk::Dob as usize] = 8;
            t[Tk::DobUnordered as usize] = 9;
            t[Tk::YearMonth as usize] = 11;
            t[Tk::MonthDay as usize] = 12;
            r.tokens[i] = t;
            for (field, name) in [fore, sur].into_iter().enumerate() {
                let mut variants = Vec::new();
                tellonce_schemas::name_edits::neighbourhood(name, &mut variants);
                let list: Vec<u32> = variants.into_iter().map(&mut id).collect();
                r.edits[i][field] = r.edit_lists.len() as u32;
                r.edit_lists.push(list.into_boxed_slice());
            }
        }
        r
    }

    /// Two records of one name born on `dates` (`YYYYMMDD`), with their part tokens and their
    /// dates' one-edit token lists.
    fn born(dates: [&str; 2]) -> Records {
        let mut ids: HashMap<Vec<u8>, u32> = HashMap::new();
        let mut id = |v: Vec<u8>| {
            let next = ids.len() as u32;
            *ids.entry(v).or_insert(next)
        };
        let mut r = Records::new();
        for (k, d) in dates.into_iter().enumerate() {
            let i = r.push("camhs", format!("C{k}")) as usize;
            let (y, m, dd) = (&d[..4], &d[4..6], &d[6..]);
            let year: u32 = y.parse().unwrap();
            let mut t = [NONE; TK];
            let (lo, hi) = if m <= dd { (m, dd) } else { (dd, m) };
            t[Tk::Dob as usize] = id(format!("d{y}{m}{dd}").into_bytes());
            t[Tk::DobUnordered as usize] = id(format!("u{y}{lo}{hi}").into_bytes());
            t[Tk::YearMonth as usize] = id(format!("ym{y}{m}").into_bytes());
            t[Tk::YearDay as usize] = id(format!("yd{y}{dd}").into_bytes());
            t[Tk::MonthDay as usize] = id(format!("md{m}{dd}").into_bytes());
            t[Tk::YearEven as usize] = id(format!("e{}", year - year % 2).into_bytes());
            t[Tk::YearOdd as usize] = id(format!("o{}", year - (year + 1) % 2).into_bytes());
            r.tokens[i] = t;
            let mut variants = Vec::new();
            tellonce_schemas::name_edits::neighbourhood(d, &mut variants);
            let list: Vec<u32> = variants.into_iter().map(|v| id([b"d".as_slice(), &v].concat())).collect();
            r.edits[i][2] = r.edit_lists.len() as u32;
            r.edit_lists.push(list.into_boxed_slice());
        }
        r
    }

    #[test]
    fn dates_one_digit_apart_or_with_neighbours_swapped_are_one_digit_and_a_part_replaced_is_not() {
        let level = |dates| DOB[usize::from(compare(&born(dates), 0, 1).dob)].name;
        assert_eq!(level(["20120703", "20120708"]), "one_digit", "a day mistyped");
        assert_eq!(level(["20120703", "20170703"]), "one_digit", "a year mistyped");
        assert_eq!(level(["20120712", "20120721"]), "one_digit", "two digits of the day swapped");
        assert_eq!(level(["20120703", "20120726"]), "one_part_different", "another day");
        assert_eq!(level(["20120703", "20130703"]), "year_off_by_one", "tested first");
        assert_eq!(level(["20120703", "20090811"]), "else");
        assert_eq!(level(["19860121", "19860211"]), "one_digit", "neighbours swapped across month and day");
        assert_eq!(level(["19860121", "19860212"]), "else", "two parts changed, no swap");
        // A date that is no date is staged as its parts, without the exact token: one part
        // agreeing, it is a slip; none, a garbled date, which says nothing (no veto).
        let garbled = |dates: [&str; 2]| {
            let mut r = born(dates);
            r.tokens[1][Tk::Dob as usize] = NONE;
            DOB[usize::from(compare(&r, 0, 1).dob)].name
        };
        assert_eq!(garbled(["20120703", "20121703"]), "one_digit", "a month mistyped past 12");
        assert_eq!(garbled(["20120703", "20129903"]), "missing", "one part agreeing, more than a slip apart");
        assert_eq!(garbled(["20120703", "20097499"]), "missing");
    }

    #[test]
    fn names_swapped_with_a_slip_in_one_are_swapped_and_a_name_shared_alone_is_not() {
        assert!(compare(&named([("JOSELYN", "BRUS"), ("BRUS", "JOSELNYN")]), 0, 1).swapped);
        assert!(compare(&named([("BRUS", "JOSELYN"), ("JOSELNYN", "BRUS")]), 0, 1).swapped, "either half");
        assert!(compare(&named([("JOSELYN", "BRUS"), ("BRUS", "JOSELYN")]), 0, 1).swapped, "a clean swap");
        let parent = compare(&named([("SMITH", "JONES"), ("JOHN", "SMITH")]), 0, 1);
        assert!(!parent.swapped, "one name in the other's place and the other unalike is no swap");
        // Without the same date of birth, a parent and child of names one letter apart.
        let mut family = named([("SMITH", "PAUL"), ("PAULA", "SMITH")]);
        for (tk, v) in [(Tk::Dob, 15), (Tk::DobUnordered, 10), (Tk::YearMonth, 13), (Tk::MonthDay, 14)] {
            family.tokens[1][tk as usize] = v;
        }
        let c = compare(&family, 0, 1);
        assert!(!c.swapped && !c.half_swapped, "another date: neither");
        for tk in [Tk::Dob, Tk::DobUnordered, Tk::YearMonth, Tk::MonthDay] {
            family.tokens[1][tk as usize] = NONE;
        }
        let c = compare(&family, 0, 1);
        assert!(!c.swapped && c.half_swapped, "no date: a half swap, under its guards");
    }
}
