//! Single keyed tokens the pseudonymise stage adds for blocking and for comparing records field
//! by field in the build tier: parts of the date of birth, names in match form, given-name
//! classes, surname parts, the Soundex codes of the names, and coarser forms of the postcode.
//!
//! Each is one 16-byte value per record (`FixedSizeBinary(16)`), `Tokeniser::token(domain,
//! preimage)`, null when the record lacks an input. Tokens that must be compared with each
//! other across columns share an HMAC domain: the forename and the surname are both tokenised
//! under `person_name` (so that a forename recorded as the surname is recognised), the first and
//! last given-name classes under `forename_class`, the first and last surname parts under
//! `surname_part`.
//!
//! The parts of the date of birth let the build tier recognise a date with one part wrong
//! without seeing it: two records whose dates agree on year and month (`dob_year_month`), year
//! and day (`dob_year_day`) or month and day (`dob_month_day`) differ in at most one part; two
//! years that differ by one share exactly one of the two *year pairs* (`birth_year_even_pair`:
//! the pair starting at an even year, 2012–2013; `birth_year_odd_pair`: the pair starting at an
//! odd year, 2011–2012), equal years share both, years further apart share neither.
//!
//! ```
//! use tellonce_schemas::match_keys::{BlockKey, MatchForms};
//! let dob = |y, m, d| Some(tellonce_schemas::identifiers::dates::days_from_civil(y, m, d));
//! let (a, b) = (MatchForms::new(None, None, dob(2012, 7, 3), None), MatchForms::new(None, None, dob(2013, 7, 3), None));
//! let pre = |k: BlockKey, f: &MatchForms| {
//!     let mut out = Vec::new();
//!     k.preimage(f, &mut out);
//!     out
//! };
//! assert_eq!(pre(BlockKey::BirthYearEvenPair, &a), pre(BlockKey::BirthYearEvenPair, &b));
//! assert_ne!(pre(BlockKey::BirthYearOddPair, &a), pre(BlockKey::BirthYearOddPair, &b));
//! assert_eq!(pre(BlockKey::DobMonthDay, &a), pre(BlockKey::DobMonthDay, &b));
//! ```

use crate::identifiers::postcode;
use crate::match_keys::{MatchField, MatchForms, SEPARATOR};

/// A single keyed token that blocks records together or lets the build tier compare one field
/// (or part of one): one 16-byte value per record (`FixedSizeBinary(16)`),
/// `Tokeniser::token(block.domain(), preimage)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum BlockKey {
    /// The date of birth with day and month in sorted order (`YYYY-min-max`), so that a
    /// date recorded with its day and month swapped still agrees.
    DobUnordered,
    /// Year of birth and postcode.
    BirthYearPostcode,
    /// Year and month of birth (`YYYY-MM`).
    DobYearMonth,
    /// Year and day of birth.
    DobYearDay,
    /// Month and day of birth (`MM-DD`).
    DobMonthDay,
    /// The pair of years starting at an even year that holds the year of birth.
    BirthYearEvenPair,
    /// The pair of years starting at an odd year that holds the year of birth.
    BirthYearOddPair,
    /// The forename in match form (domain `person_name`, shared with the surname).
    ForenameName,
    /// The full surname in match form (domain `person_name`, shared with the forename).
    SurnameName,
    /// The first given-name class of the forename (domain `forename_class`).
    ForenameClassFirst,
    /// The last given-name class of the forename (domain `forename_class`).
    ForenameClassLast,
    /// The first letter of the forename (domain `person_name`: a forename recorded as its
    /// initial only agrees with it).
    ForenameInitial,
    /// The Soundex code of the forename: what still compares a forename slip when the name
    /// filters cannot be compared (they are salted by the year of birth).
    ForenameSoundex,
    /// The first part of the surname, or the whole surname if it has one part (`surname_part`).
    SurnameFirstPart,
    /// The last part of the surname, or the whole surname if it has one part (`surname_part`).
    SurnameLastPart,
    /// The Soundex code of the full surname.
    SurnameSoundex,
    /// The postcode sector: the outward code and the first character of the inward code.
    PostcodeSector,
    /// The postcode district: the outward code.
    PostcodeDistrict,
}

impl BlockKey {
    /// Every token, in the order of the staging columns.
    pub const ALL: [BlockKey; 18] = [
        BlockKey::DobUnordered,
        BlockKey::BirthYearPostcode,
        BlockKey::DobYearMonth,
        BlockKey::DobYearDay,
        BlockKey::DobMonthDay,
        BlockKey::BirthYearEvenPair,
        BlockKey::BirthYearOddPair,
        BlockKey::ForenameName,
        BlockKey::SurnameName,
        BlockKey::ForenameClassFirst,
        BlockKey::ForenameClassLast,
        BlockKey::ForenameInitial,
        BlockKey::ForenameSoundex,
        BlockKey::SurnameFirstPart,
        BlockKey::SurnameLastPart,
        BlockKey::SurnameSoundex,
        BlockKey::PostcodeSector,
        BlockKey::PostcodeDistrict,
    ];

    /// The staging column.
    pub fn column(self) -> &'static str {
        match self {
            BlockKey::DobUnordered => crate::staging::DOB_UNORDERED_TOKEN,
            BlockKey::BirthYearPostcode => crate::staging::BIRTH_YEAR_POSTCODE_TOKEN,
            BlockKey::DobYearMonth => "dob_year_month_token",
            BlockKey::DobYearDay => "dob_year_day_token",
            BlockKey::DobMonthDay => "dob_month_day_token",
            BlockKey::BirthYearEvenPair => "birth_year_even_pair_token",
            BlockKey::BirthYearOddPair => "birth_year_odd_pair_token",
            BlockKey::ForenameName => "forename_name_token",
            BlockKey::SurnameName => "surname_name_token",
            BlockKey::ForenameClassFirst => "forename_class_first_token",
            BlockKey::ForenameClassLast => "forename_class_last_token",
            BlockKey::ForenameInitial => "forename_initial_token",
            BlockKey::ForenameSoundex => "forename_soundex_token",
            BlockKey::SurnameFirstPart => "surname_first_part_token",
            BlockKey::SurnameLastPart => "surname_last_part_token",
            BlockKey::SurnameSoundex => "surname_soundex_token",
            BlockKey::PostcodeSector => "postcode_sector_token",
            BlockKey::PostcodeDistrict => "postcode_district_token",
        }
    }

    /// The HMAC domain. Tokens compared across columns share one (see the module docs).
    pub fn domain(self) -> &'static str {
        match self {
            BlockKey::DobUnordered => "dob_unordered",
            BlockKey::BirthYearPostcode => "birth_year_postcode",
            BlockKey::DobYearMonth => "dob_year_month",
            BlockKey::DobYearDay => "dob_year_day",
            BlockKey::DobMonthDay => "dob_month_day",
            BlockKey::BirthYearEvenPair | BlockKey::BirthYearOddPair => "birth_year_pair",
            BlockKey::ForenameName | BlockKey::SurnameName | BlockKey::ForenameInitial => "person_name",
            BlockKey::ForenameClassFirst | BlockKey::ForenameClassLast => "forename_class",
            BlockKey::SurnameFirstPart | BlockKey::SurnameLastPart => "surname_part",
            BlockKey::SurnameSoundex => "surname_soundex",
            BlockKey::ForenameSoundex => "forename_soundex",
            BlockKey::PostcodeSector => "postcode_sector",
            BlockKey::PostcodeDistrict => "postcode_district",
        }
    }

    /// The identity fields the token needs, every one of them.
    pub fn inputs(self) -> &'static [MatchField] {
        use MatchField::*;
        match self {
            BlockKey::DobUnordered
            | BlockKey::DobYearMonth
            | BlockKey::DobYearDay
            | BlockKey::DobMonthDay
            | BlockKey::BirthYearEvenPair
            | BlockKey::BirthYearOddPair => &[DateOfBirth],
            BlockKey::BirthYearPostcode => &[DateOfBirth, Postcode],
            BlockKey::ForenameName
            | BlockKey::ForenameClassFirst
            | BlockKey::ForenameClassLast
            | BlockKey::ForenameInitial
            | BlockKey::ForenameSoundex => &[Forename],
            BlockKey::SurnameName
            | BlockKey::SurnameFirstPart
            | BlockKey::SurnameLastPart
            | BlockKey::SurnameSoundex => &[Surname],
            BlockKey::PostcodeSector | BlockKey::PostcodeDistrict => &[Postcode],
        }
    }

    /// What records sharing the token have in common, in plain English.
    pub fn describe(self) -> &'static str {
        match self {
            BlockKey::DobUnordered => "the same date of birth, with the day and month possibly swapped",
            BlockKey::BirthYearPostcode => "the same year of birth and postcode",
            BlockKey::DobYearMonth => "the same year and month of birth",
            BlockKey::DobYearDay => "the same year and day of birth",
            BlockKey::DobMonthDay => "the same month and day of birth",
            BlockKey::BirthYearEvenPair => {
                "a year of birth in the same pair of years starting at an even year (two years that differ by one \
                 share this or the odd pair)"
            }
            BlockKey::BirthYearOddPair => "a year of birth in the same pair of years starting at an odd year",
            BlockKey::ForenameName => {
                "the same forename (comparable with the surname token, to recognise swapped names)"
            }
            BlockKey::SurnameName => {
                "the same surname (comparable with the forename token, to recognise swapped names)"
            }
            BlockKey::ForenameClassFirst => "the same first given-name class of the forename (Bill and William)",
            BlockKey::ForenameClassLast => "the same last given-name class of the forename",
            BlockKey::ForenameInitial => {
                "the same first letter of the forename (comparable with the forename token, to recognise a \
                 forename recorded as its initial)"
            }
            BlockKey::SurnameFirstPart => "the same first part of the surname (the whole surname if it has one)",
            BlockKey::SurnameLastPart => "the same last part of the surname (the whole surname if it has one)",
            BlockKey::SurnameSoundex => "surnames that sound alike (the same Soundex code)",
            BlockKey::ForenameSoundex => "forenames that sound alike (the same Soundex code)",
            BlockKey::PostcodeSector => "the same postcode sector",
            BlockKey::PostcodeDistrict => "the same postcode district (outward code)",
        }
    }

    /// One sentence for the data dictionary and the Parquet metadata.
    pub fn description(self) -> String {
        format!("Keyed linkage token (HMAC-SHA256, first 16 bytes) shared by records with {}.", self.describe())
    }

    /// The token's preimage for one record into `out` (cleared first); `false`, with `out`
    /// empty, when the record lacks an input.
    pub fn preimage(self, f: &MatchForms<'_>, out: &mut Vec<u8>) -> bool {
        out.clear();
        let ok = self.write(f, out).is_some();
        if !ok {
            out.clear();
        }
        ok
    }

    fn write(self, f: &MatchForms<'_>, out: &mut Vec<u8>) -> Option<()> {
        match self {
            BlockKey::DobUnordered => out.extend_from_slice(&f.dob_unordered()?),
            BlockKey::BirthYearPostcode => {
                let (dob, pc) = (f.dob_iso()?, f.postcode()?);
                out.extend_from_slice(&dob[..4]);
                out.push(SEPARATOR);
                out.extend_from_slice(pc.as_bytes());
            }
            BlockKey::DobYearMonth => out.extend_from_slice(&f.dob_iso()?[..7]),
            BlockKey::DobYearDay => {
                let dob = f.dob_iso()?;
                out.extend_from_slice(&dob[..4]);
                out.push(SEPARATOR);
                out.extend_from_slice(&dob[8..10]);
            }
            BlockKey::DobMonthDay => out.extend_from_slice(&f.dob_iso()?[5..10]),
            BlockKey::BirthYearEvenPair | BlockKey::BirthYearOddPair => {
                let dob = f.dob_iso()?;
                let year = dob[..4].iter().fold(0u32, |y, d| y * 10 + u32::from(d.wrapping_sub(b'0')));
                let start = if self == BlockKey::BirthYearEvenPair { year - year % 2 } else { year - (year + 1) % 2 };
                out.extend_from_slice(format!("{start:04}").as_bytes());
            }
            BlockKey::ForenameName => out.extend_from_slice(f.forename()?.as_bytes()),
            BlockKey::SurnameName => out.extend_from_slice(f.surname()?.as_bytes()),
            BlockKey::ForenameClassFirst => out.extend_from_slice(f.classes().next()?.as_bytes()),
            BlockKey::ForenameClassLast => out.extend_from_slice(f.classes().last()?.as_bytes()),
            BlockKey::ForenameInitial => {
                let mut buf = [0u8; 4];
                out.extend_from_slice(
                    crate::identifiers::names::initial(f.forename()?)?.encode_utf8(&mut buf).as_bytes(),
                );
            }
            BlockKey::SurnameFirstPart => {
                let part = f.surname_variants().nth(1).or_else(|| f.surname())?;
                out.extend_from_slice(part.as_bytes());
            }
            BlockKey::SurnameLastPart => out.extend_from_slice(f.surname_variants().last()?.as_bytes()),
            BlockKey::SurnameSoundex => out.extend_from_slice(&f.soundex()?),
            BlockKey::ForenameSoundex => out.extend_from_slice(&crate::identifiers::phonetic::soundex(f.forename()?)?),
            BlockKey::PostcodeSector => {
                let pc = f.postcode()?;
                let outward = postcode::outward(pc);
                // The outward code, the space and the sector digit: `RH10 1`.
                let end = (outward.len() + 2).min(pc.len());
                out.extend_from_slice(&pc.as_bytes()[..end]);
            }
            BlockKey::PostcodeDistrict => out.extend_from_slice(postcode::outward(f.postcode()?).as_bytes()),
        }
        Some(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identifiers::dates::days_from_civil;

    fn pre(k: BlockKey, f: &MatchForms<'_>) -> Option<Vec<u8>> {
        let mut out = Vec::new();
        k.preimage(f, &mut out).then_some(out)
    }

    fn person(fore: &str, sur: &str, dob: (i32, u32, u32), pc: Option<&'static str>) -> MatchForms<'static> {
        let (fore, sur) = (crate::identifiers::names::fold(fore), crate::identifiers::names::fold(sur));
        let (fore, sur): (&'static str, &'static str) =
            (Box::leak(fore.into_boxed_str()), Box::leak(sur.into_boxed_str()));
        MatchForms::new(Some(fore), Some(sur), Some(days_from_civil(dob.0, dob.1, dob.2)), pc)
    }

    #[test]
    fn the_preimages_are_as_specified() {
        let f = person("Kate", "Smith-Jones", (2013, 7, 3), Some("RH10 1AB"));
        let p = |k| pre(k, &f).map(|v| String::from_utf8(v).unwrap());
        assert_eq!(p(BlockKey::DobYearMonth).as_deref(), Some("2013-07"));
        assert_eq!(p(BlockKey::DobYearDay).as_deref(), Some("2013\x1f03"));
        assert_eq!(p(BlockKey::DobMonthDay).as_deref(), Some("07-03"));
        assert_eq!(p(BlockKey::BirthYearEvenPair).as_deref(), Some("2012"));
        assert_eq!(p(BlockKey::BirthYearOddPair).as_deref(), Some("2013"));
        assert_eq!(p(BlockKey::ForenameName).as_deref(), Some("KATE"));
        assert_eq!(p(BlockKey::SurnameName).as_deref(), Some("SMITHJONES"));
        assert_eq!(p(BlockKey::ForenameClassFirst).as_deref(), Some("CATHERINE"));
        assert_eq!(p(BlockKey::ForenameClassLast).as_deref(), Some("KATHERINE"));
        assert_eq!(p(BlockKey::ForenameInitial).as_deref(), Some("K"));
        assert_eq!(p(BlockKey::SurnameFirstPart).as_deref(), Some("SMITH"));
        assert_eq!(p(BlockKey::SurnameLastPart).as_deref(), Some("JONES"));
        assert_eq!(p(BlockKey::SurnameSoundex).as_deref(), Some("S532"));
        assert_eq!(p(BlockKey::PostcodeSector).as_deref(), Some("RH10 1"));
        assert_eq!(p(BlockKey::PostcodeDistrict).as_deref(), Some("RH10"));
        let single = person("Amy", "Lee", (2012, 7, 3), None);
        assert_eq!(pre(BlockKey::SurnameFirstPart, &single), Some(b"LEE".to_vec()));
        assert_eq!(pre(BlockKey::SurnameLastPart, &single), Some(b"LEE".to_vec()));
        assert_eq!(pre(BlockKey::PostcodeSector, &single), None);
    }

    #[test]
    fn year_pairs_tell_equal_neighbouring_and_distant_years_apart() {
        let shared = |a: i32, b: i32| {
            let (fa, fb) = (person("A", "B", (a, 1, 1), None), person("A", "B", (b, 1, 1), None));
            [BlockKey::BirthYearEvenPair, BlockKey::BirthYearOddPair]
                .into_iter()
                .filter(|&k| pre(k, &fa) == pre(k, &fb))
                .count()
        };
        for y in 1990..2030 {
            assert_eq!(shared(y, y), 2);
            assert_eq!(shared(y, y + 1), 1, "{y}");
            assert_eq!(shared(y, y + 2), 0, "{y}");
            assert_eq!(shared(y, y + 7), 0, "{y}");
        }
    }

    #[test]
    fn shared_domains_make_swapped_names_and_surname_parts_comparable() {
        let (a, b) = (person("Amy", "Lee", (2012, 1, 1), None), person("Lee", "Amy", (2012, 1, 1), None));
        assert_eq!(BlockKey::ForenameName.domain(), BlockKey::SurnameName.domain());
        assert_eq!(pre(BlockKey::ForenameName, &a), pre(BlockKey::SurnameName, &b));
        let initial_only = person("A.", "Lee", (2012, 1, 1), None);
        assert_eq!(BlockKey::ForenameName.domain(), BlockKey::ForenameInitial.domain());
        assert_eq!(pre(BlockKey::ForenameName, &initial_only), pre(BlockKey::ForenameInitial, &a));
        let (c, d) = (person("Amy", "Smith-Jones", (2012, 1, 1), None), person("Amy", "Jones", (2012, 1, 1), None));
        assert_eq!(BlockKey::SurnameFirstPart.domain(), BlockKey::SurnameLastPart.domain());
        assert_eq!(pre(BlockKey::SurnameLastPart, &c), pre(BlockKey::SurnameFirstPart, &d));
    }

    #[test]
    fn a_missing_input_means_no_token() {
        let f = MatchForms::new(Some("AMY"), None, None, None);
        for k in BlockKey::ALL {
            let has = pre(k, &f).is_some();
            assert_eq!(has, k.inputs() == [MatchField::Forename], "{k:?}");
        }
    }
}
