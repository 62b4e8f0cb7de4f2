//! The linkage encodings the pseudonymise stage adds to the staging dataset: match keys,
//! blocking tokens and Bloom filters, computed from clear identifiers while they are still in
//! memory, so that the build tier can link records without any clear identifier reaching
//! storage.
//!
//! This module is the catalogue: which encodings exist, which identity fields each needs, and
//! the exact bytes (the *preimage*) each one hashes. The keyed hashing itself belongs to the
//! governance crate (`Tokeniser::token(domain, preimage)`, one domain per rule, and the Bloom
//! encoder); the pseudonymise stage joins the two.
//!
//! Every preimage is built from the *match forms* of the checked values
//! ([`names::match_form`], [`names::match_parts`], [`nicknames::classes`],
//! [`phonetic::soundex`]), with its components joined by [`SEPARATOR`] (0x1F, the ASCII unit
//! separator, which no checked value contains). Dates are ISO `YYYY-MM-DD`; postcodes are the
//! normalised `OUTWARD INWARD` form.
//!
//! ```
//! use tellonce_schemas::match_keys::{MatchForms, MatchRule, Preimages};
//!
//! // Folded values, as the validate stage leaves them; 2012-07-03 as days since 1970-01-01.
//! let dob = tellonce_schemas::identifiers::dates::days_from_civil(2012, 7, 3);
//! let bill = MatchForms::new(Some("BILL"), Some("SMITH JONES"), Some(dob), Some("RH10 1AB"));
//! let william = MatchForms::new(Some("WILLIAM"), Some("JONES"), Some(dob), None);
//! let (mut a, mut b) = (Preimages::default(), Preimages::default());
//! MatchRule::NicknameSurnameDob.preimages(&bill, &mut a);
//! MatchRule::NicknameSurnameDob.preimages(&william, &mut b);
//! assert!(a.iter().any(|p| b.iter().any(|q| p == q)));
//! // A rule whose inputs are missing has no key.
//! MatchRule::NamePostcode.preimages(&william, &mut b);
//! assert!(b.is_empty());
//! ```

use std::borrow::Cow;
use std::fmt;

use crate::column::{Column, Kind};
use crate::feed::FeedSchema;
use crate::identifiers::{dates, names, nicknames, phonetic};

pub use crate::block_keys::BlockKey;

/// Separates the components of a preimage: the ASCII unit separator.
pub const SEPARATOR: u8 = 0x1F;

/// An identity field that linkage encodings are made from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MatchField {
    /// The forename (`forename`, a person name).
    Forename,
    /// The surname (`surname`, a person name).
    Surname,
    /// The date of birth (`date_of_birth`, a birth date).
    DateOfBirth,
    /// The postcode (`postcode`, a UK postcode).
    Postcode,
}

impl MatchField {
    /// Every field, in a stable order.
    pub const ALL: [MatchField; 4] =
        [MatchField::Forename, MatchField::Surname, MatchField::DateOfBirth, MatchField::Postcode];

    /// The field's place in [`MatchField::ALL`] (0 to 3), to index per-field arrays.
    pub fn index(self) -> usize {
        self as usize
    }

    /// The feed column name this field is read from.
    pub fn column_name(self) -> &'static str {
        match self {
            MatchField::Forename => "forename",
            MatchField::Surname => "surname",
            MatchField::DateOfBirth => "date_of_birth",
            MatchField::Postcode => "postcode",
        }
    }

    /// The feed's column for this field: the column of that name, when it is of the expected
    /// kind (a person name, a birth date, a postcode).
    pub fn in_feed(self, feed: &'static FeedSchema) -> Option<&'static Column> {
        let col = feed.columns.iter().find(|c| c.name == self.column_name())?;
        let kind_ok = match self {
            MatchField::Forename | MatchField::Surname => col.kind == Kind::PersonName,
            MatchField::DateOfBirth => col.kind == Kind::BirthDate,
            MatchField::Postcode => col.kind == Kind::Postcode,
        };
        kind_ok.then_some(col)
    }

    /// The Bloom filter column of a name field (`forename_bloom`, `surname_bloom`); `None` for
    /// the date of birth and the postcode, which have none.
    pub fn bloom_column(self) -> Option<&'static str> {
        match self {
            MatchField::Forename => Some(crate::staging::FORENAME_BLOOM),
            MatchField::Surname => Some(crate::staging::SURNAME_BLOOM),
            MatchField::DateOfBirth | MatchField::Postcode => None,
        }
    }

    /// The column of a field's one-edit tokens (see [`name_edits`](crate::name_edits));
    /// `None` for the postcode.
    pub fn edit_column(self) -> Option<&'static str> {
        match self {
            MatchField::Forename => Some(crate::staging::FORENAME_EDITS),
            MatchField::Surname => Some(crate::staging::SURNAME_EDITS),
            MatchField::DateOfBirth => Some(crate::staging::DOB_EDITS),
            MatchField::Postcode => None,
        }
    }

    /// The date of birth as `YYYYMMDD`, the form its one-edit tokens are made of.
    pub fn dob_digits(forms: &MatchForms<'_>) -> Option<[u8; 8]> {
        let d = forms.dob_iso()?;
        Some([d[0], d[1], d[2], d[3], d[5], d[6], d[8], d[9]])
    }
}

/// A match-key rule: records that share a key of a rule are candidate matches.
///
/// Each rule's staging column ([`MatchRule::column`]) is a list of 16-byte keys
/// (`List<FixedSizeBinary(16)>`), usually one; a record lacking any of the rule's inputs has
/// none (null). Key = `Tokeniser::token(rule.column(), preimage)`: the column name is the HMAC
/// domain, so keys of different rules never collide.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MatchRule {
    /// Forename, surname, date of birth.
    NameDob,
    /// Initial, each surname variant, date of birth.
    InitialSurnameDob,
    /// Each given-name class of the forename, each surname variant, date of birth.
    NicknameSurnameDob,
    /// Soundex of the surname, each given-name class, date of birth.
    SoundexNicknameDob,
    /// Forename, surname, year of birth, postcode.
    NameBirthYearPostcode,
    /// Forename, date of birth, postcode.
    ForenameDobPostcode,
    /// Initial, surname, date of birth with day and month in either order.
    InitialSurnameDobUnordered,
    /// Forename, surname, postcode.
    NamePostcode,
}

impl MatchRule {
    /// Every rule, in the order of the staging columns.
    pub const ALL: [MatchRule; 8] = [
        MatchRule::NameDob,
        MatchRule::InitialSurnameDob,
        MatchRule::NicknameSurnameDob,
        MatchRule::SoundexNicknameDob,
        MatchRule::NameBirthYearPostcode,
        MatchRule::ForenameDobPostcode,
        MatchRule::InitialSurnameDobUnordered,
        MatchRule::NamePostcode,
    ];

    /// The staging column (and HMAC domain) of the rule's keys, e.g. `mk_name_dob`.
    pub fn column(self) -> &'static str {
        match self {
            MatchRule::NameDob => "mk_name_dob",
            MatchRule::InitialSurnameDob => "mk_initial_surname_dob",
            MatchRule::NicknameSurnameDob => "mk_nickname_surname_dob",
            MatchRule::SoundexNicknameDob => "mk_soundex_nickname_dob",
            MatchRule::NameBirthYearPostcode => "mk_name_birth_year_postcode",
            MatchRule::ForenameDobPostcode => "mk_forename_dob_postcode",
            MatchRule::InitialSurnameDobUnordered => "mk_initial_surname_dob_unordered",
            MatchRule::NamePostcode => "mk_name_postcode",
        }
    }

    /// The rule whose column is `column`.
    pub fn from_column(column: &str) -> Option<MatchRule> {
        MatchRule::ALL.into_iter().find(|r| r.column() == column)
    }

    /// The identity fields the rule needs, every one of them.
    pub fn inputs(self) -> &'static [MatchField] {
        use MatchField::*;
        match self {
            MatchRule::NameDob
            | MatchRule::InitialSurnameDob
            | MatchRule::NicknameSurnameDob
            | MatchRule::SoundexNicknameDob
            | MatchRule::InitialSurnameDobUnordered => &[Forename, Surname, DateOfBirth],
            MatchRule::NameBirthYearPostcode => &[Forename, Surname, DateOfBirth, Postcode],
            MatchRule::ForenameDobPostcode => &[Forename, DateOfBirth, Postcode],
            MatchRule::NamePostcode => &[Forename, Surname, Postcode],
        }
    }

    /// What records sharing a key of the rule have in common, in plain English, as a noun
    /// phrase for `isa explain` and the data dictionary ("records with …").
    pub fn describe(self) -> &'static str {
        match self {
            MatchRule::NameDob => "the same forename, surname and date of birth",
            MatchRule::InitialSurnameDob => {
                "the same first initial, the same surname or part of a double-barrelled surname, and the same date \
                 of birth"
            }
            MatchRule::NicknameSurnameDob => {
                "forenames that are one name or its diminutives (Bill, William), the same surname or surname part, \
                 and the same date of birth"
            }
            MatchRule::SoundexNicknameDob => {
                "surnames that sound alike (the same Soundex code), forenames that are one name or its diminutives, \
                 and the same date of birth"
            }
            MatchRule::NameBirthYearPostcode => "the same forename, surname, year of birth and postcode",
            MatchRule::ForenameDobPostcode => "the same forename, date of birth and postcode",
            MatchRule::InitialSurnameDobUnordered => {
                "the same first initial, surname and date of birth, with the day and month possibly swapped"
            }
            MatchRule::NamePostcode => "the same forename, surname and postcode",
        }
    }

    /// One sentence for the data dictionary and the Parquet metadata.
    pub fn description(self) -> String {
        format!(
            "Match keys (keyed HMAC-SHA256, 16 bytes each) shared by records with {}; null when an input is missing.",
            self.describe()
        )
    }

    /// The preimages of the rule's keys for one record, distinct, into `out` (cleared first).
    /// Empty when the record lacks an input the rule needs.
    pub fn preimages(self, f: &MatchForms<'_>, out: &mut Preimages) {
        out.clear();
        if !self.inputs().iter().all(|&i| f.has(i)) {
            return;
        }
        // Present, as just checked.
        let forename = f.forename().unwrap_or_default().as_bytes();
        let surname = f.surname().unwrap_or_default().as_bytes();
        let postcode = f.postcode().unwrap_or_default().as_bytes();
        let dob = f.dob_iso().unwrap_or_default();
        let mut initial = [0u8; 4];
        let initial: &[u8] = match names::initial(f.forename().unwrap_or_default()) {
            Some(c) => c.encode_utf8(&mut initial).as_bytes(),
            None => &[],
        };
        match self {
            MatchRule::NameDob => out.push(&[forename, surname, &dob]),
            MatchRule::InitialSurnameDob => {
                for part in f.surname_variants() {
                    out.push(&[initial, part.as_bytes(), &dob]);
                }
            }
            MatchRule::NicknameSurnameDob => {
                for class in f.classes() {
                    for part in f.surname_variants() {
                        out.push(&[class.as_bytes(), part.as_bytes(), &dob]);
                    }
                }
            }
            MatchRule::SoundexNicknameDob => {
                // A surname with no ASCII letter has no Soundex code, and so no key.
                if let Some(code) = f.soundex {
                    for class in f.classes() {
                        out.push(&[&code, class.as_bytes(), &dob]);
                    }
                }
            }
            MatchRule::NameBirthYearPostcode => out.push(&[forename, surname, &dob[..4], postcode]),
            MatchRule::ForenameDobPostcode => out.push(&[forename, &dob, postcode]),
            MatchRule::InitialSurnameDobUnordered => {
                let unordered = f.dob_unordered().unwrap_or_default();
                out.push(&[initial, surname, &unordered]);
            }
            MatchRule::NamePostcode => out.push(&[forename, surname, postcode]),
        }
    }
}

/// One record's identity values in the normal forms every encoding is made from, computed once
/// for all of them. Built from checked values only (folded names, a `Date32` date of birth, the
/// normalised postcode); an empty name counts as missing.
///
/// It holds clear identifiers: its `Debug` shows only which fields are present.
#[derive(Clone, Default)]
pub struct MatchForms<'a> {
    forename: Option<Cow<'a, str>>,
    surname_parts: Vec<Cow<'a, str>>,
    classes: Option<&'static [&'static str]>,
    soundex: Option<[u8; 4]>,
    dob: Option<[u8; 10]>,
    postcode: Option<&'a str>,
}

impl<'a> MatchForms<'a> {
    /// The normal forms of one record's checked values; `None` for a field that is missing or
    /// that the agreement does not let the stage use.
    pub fn new(
        forename: Option<&'a str>,
        surname: Option<&'a str>,
        date_of_birth: Option<i32>,
        postcode: Option<&'a str>,
    ) -> MatchForms<'a> {
        let forename = forename.map(names::match_form_cow).filter(|f| !f.is_empty());
        let classes = forename.as_deref().and_then(nicknames::lookup);
        let surname_parts = surname.map(names::match_parts_cow).unwrap_or_default();
        let soundex = surname_parts.first().and_then(|s| phonetic::soundex(s));
        let dob = date_of_birth.map(|d| {
            let mut iso = [0u8; 10];
            dates::write_iso(d, &mut iso);
            iso
        });
        MatchForms { forename, surname_parts, classes, soundex, dob, postcode: postcode.filter(|p| !p.is_empty()) }
    }

    /// These forms with `parts` as the date of birth where the record has none: the readable
    /// parts of a date that validation nulled as no date (`dates::readable_parts`), so that
    /// the date's part tokens and digit edits still carry the two parts a slip left intact.
    /// The exact date token and the analysts' date columns stay null.
    pub fn with_readable_dob(mut self, parts: Option<[u8; 10]>) -> MatchForms<'a> {
        if self.dob.is_none() {
            self.dob = parts;
        }
        self
    }

    /// The forename's match form.
    pub fn forename(&self) -> Option<&str> {
        self.forename.as_deref()
    }

    /// The surname's full match form.
    pub fn surname(&self) -> Option<&str> {
        self.surname_parts.first().map(|s| s.as_ref())
    }

    /// The surname variants ([`names::match_parts`]): the full form first.
    pub fn surname_variants(&self) -> impl Iterator<Item = &str> {
        self.surname_parts.iter().map(|s| s.as_ref())
    }

    /// The forename's given-name classes ([`nicknames::classes`]).
    pub fn classes(&self) -> impl Iterator<Item = &str> {
        let own = match self.classes {
            Some(_) => None,
            None => self.forename(),
        };
        self.classes.unwrap_or_default().iter().copied().chain(own)
    }

    /// The date of birth as ISO `YYYY-MM-DD`.
    pub fn dob_iso(&self) -> Option<[u8; 10]> {
        self.dob
    }

    /// The year of birth, `YYYY`: the salt of the Bloom filters.
    pub fn birth_year(&self) -> Option<&str> {
        self.dob.as_ref().and_then(|d| std::str::from_utf8(&d[..4]).ok())
    }

    /// The date of birth with its month and day in sorted order, `YYYY-min-max`: 2012-07-03
    /// and 2012-03-07 both give `2012-03-07`.
    pub fn dob_unordered(&self) -> Option<[u8; 10]> {
        let mut d = self.dob?;
        if d[5..7] > d[8..10] {
            let (mm, dd) = ([d[5], d[6]], [d[8], d[9]]);
            d[5..7].copy_from_slice(&dd);
            d[8..10].copy_from_slice(&mm);
        }
        Some(d)
    }

    /// The Soundex code of the full surname, where it has an ASCII letter.
    pub fn soundex(&self) -> Option<[u8; 4]> {
        self.soundex
    }

    /// The postcode, normalised.
    pub fn postcode(&self) -> Option<&str> {
        self.postcode
    }

    /// Whether the record has this field (present, and non-empty for a name).
    pub fn has(&self, field: MatchField) -> bool {
        match field {
            MatchField::Forename => self.forename.is_some(),
            MatchField::Surname => !self.surname_parts.is_empty(),
            MatchField::DateOfBirth => self.dob.is_some(),
            MatchField::Postcode => self.postcode.is_some(),
        }
    }
}

/// The distinct preimages of one rule's keys for one record, in one reused buffer.
///
/// Preimages are clear identifiers: its `Debug` shows only how many there are.
#[derive(Clone, Default)]
pub struct Preimages {
    bytes: Vec<u8>,
    ends: Vec<usize>,
}

impl Preimages {
    /// Forgets every preimage, keeping the buffers.
    pub fn clear(&mut self) {
        self.bytes.clear();
        self.ends.clear();
    }

    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// How many there are.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Adds the preimage of these components, joined by [`SEPARATOR`], unless it is already
    /// there.
    pub fn push(&mut self, components: &[&[u8]]) {
        let start = self.bytes.len();
        for (i, c) in components.iter().enumerate() {
            if i > 0 {
                self.bytes.push(SEPARATOR);
            }
            self.bytes.extend_from_slice(c);
        }
        let (earlier, new) = self.bytes.split_at(start);
        let mut from = 0;
        for &end in &self.ends {
            if &earlier[from..end] == new {
                self.bytes.truncate(start);
                return;
            }
            from = end;
        }
        self.ends.push(self.bytes.len());
    }

    /// Each preimage, in the order added.
    pub fn iter(&self) -> impl Iterator<Item = &[u8]> {
        let mut from = 0;
        self.ends.iter().map(move |&end| {
            let p = &self.bytes[from..end];
            from = end;
            p
        })
    }
}

impl fmt::Debug for MatchForms<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("MatchForms");
        for field in MatchField::ALL {
            d.field(field.column_name(), &if self.has(field) { "present" } else { "missing" });
        }
        d.finish()
    }
}

impl fmt::Debug for Preimages {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Preimages").field("len", &self.len()).finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identifiers::dates::days_from_civil;
    use crate::identifiers::names::fold;

    fn keys(rule: MatchRule, fore: &str, sur: &str, dob: (i32, u32, u32), pc: Option<&str>) -> Vec<Vec<u8>> {
        let (fore, sur) = (fold(fore), fold(sur));
        let f = MatchForms::new(Some(&fore), Some(&sur), Some(days_from_civil(dob.0, dob.1, dob.2)), pc);
        let mut p = Preimages::default();
        rule.preimages(&f, &mut p);
        p.iter().map(<[u8]>::to_vec).collect()
    }

    fn share(a: &[Vec<u8>], b: &[Vec<u8>]) -> bool {
        a.iter().any(|x| b.contains(x))
    }

    #[test]
    fn columns_and_domains_are_distinct() {
        let mut names: Vec<&str> = MatchRule::ALL.iter().map(|r| r.column()).collect();
        // Some tokens share a domain on purpose (see `block_keys`): each domain once.
        let mut domains: Vec<&str> = BlockKey::ALL.iter().map(|b| b.domain()).collect();
        domains.sort_unstable();
        domains.dedup();
        names.extend(domains);
        let n = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), n);
        for r in MatchRule::ALL {
            assert_eq!(MatchRule::from_column(r.column()), Some(r));
            assert!(r.description().ends_with('.') && !r.description().contains("  "), "{r:?}");
        }
    }

    #[test]
    fn the_preimages_are_as_specified() {
        let k = keys(MatchRule::NameDob, "José", "Smith-Jones", (2012, 7, 3), None);
        assert_eq!(k, [b"JOSE\x1fSMITHJONES\x1f2012-07-03".to_vec()]);
        let k = keys(MatchRule::InitialSurnameDob, "José", "Smith-Jones", (2012, 7, 3), None);
        assert_eq!(
            k,
            [
                b"J\x1fSMITHJONES\x1f2012-07-03".to_vec(),
                b"J\x1fSMITH\x1f2012-07-03".to_vec(),
                b"J\x1fJONES\x1f2012-07-03".to_vec()
            ]
        );
        let k = keys(MatchRule::SoundexNicknameDob, "Kate", "Ashcraft", (2012, 7, 3), None);
        assert_eq!(k, [b"A261\x1fCATHERINE\x1f2012-07-03".to_vec(), b"A261\x1fKATHERINE\x1f2012-07-03".to_vec()]);
        let k = keys(MatchRule::NameBirthYearPostcode, "Amy", "Lee", (2012, 7, 3), Some("RH10 1AB"));
        assert_eq!(k, [b"AMY\x1fLEE\x1f2012\x1fRH10 1AB".to_vec()]);
        let k = keys(MatchRule::ForenameDobPostcode, "Amy", "Lee", (2012, 7, 3), Some("RH10 1AB"));
        assert_eq!(k, [b"AMY\x1f2012-07-03\x1fRH10 1AB".to_vec()]);
        let k = keys(MatchRule::InitialSurnameDobUnordered, "Amy", "Lee", (2012, 7, 3), None);
        assert_eq!(k, [b"A\x1fLEE\x1f2012-03-07".to_vec()]);
        let k = keys(MatchRule::NamePostcode, "Amy", "Lee", (2012, 7, 3), Some("RH10 1AB"));
        assert_eq!(k, [b"AMY\x1fLEE\x1fRH10 1AB".to_vec()]);
        // An unknown forename is its own class.
        let k = keys(MatchRule::NicknameSurnameDob, "Zephyrine", "Lee", (2012, 7, 3), None);
        assert_eq!(k, [b"ZEPHYRINE\x1fLEE\x1f2012-07-03".to_vec()]);
    }

    #[test]
    fn the_same_person_written_differently_shares_a_key() {
        // Day and month swapped.
        let rule = MatchRule::InitialSurnameDobUnordered;
        assert_eq!(keys(rule, "Amy", "Lee", (2012, 7, 3), None), keys(rule, "Amelia", "Lee", (2012, 3, 7), None));
        assert_ne!(keys(rule, "Amy", "Lee", (2012, 7, 3), None), keys(rule, "Amy", "Lee", (2012, 7, 4), None));
        // A nickname.
        let rule = MatchRule::NicknameSurnameDob;
        assert!(share(
            &keys(rule, "Bill", "Smith", (2012, 7, 3), None),
            &keys(rule, "William", "Smith", (2012, 7, 3), None)
        ));
        assert!(!share(
            &keys(rule, "Bob", "Smith", (2012, 7, 3), None),
            &keys(rule, "William", "Smith", (2012, 7, 3), None)
        ));
        // Part of a double-barrelled surname.
        let rule = MatchRule::InitialSurnameDob;
        assert!(share(
            &keys(rule, "Amy", "Smith-Jones", (2012, 7, 3), None),
            &keys(rule, "Amy", "Jones", (2012, 7, 3), None)
        ));
        assert!(!share(
            &keys(rule, "Amy", "Smith-Jones", (2012, 7, 3), None),
            &keys(rule, "Amy", "Brown", (2012, 7, 3), None)
        ));
        // A misspelt surname that sounds the same, with a nickname.
        let rule = MatchRule::SoundexNicknameDob;
        assert!(share(
            &keys(rule, "Kate", "Smyth", (2012, 7, 3), None),
            &keys(rule, "Katherine", "Smith", (2012, 7, 3), None)
        ));
        // Accents.
        let rule = MatchRule::NameDob;
        assert_eq!(
            keys(rule, "Zoë", "Łukasiewicz", (2012, 7, 3), None),
            keys(rule, "Zoe", "Lukasiewicz", (2012, 7, 3), None)
        );
    }

    #[test]
    fn a_missing_input_means_no_key() {
        let mut p = Preimages::default();
        let no_dob = MatchForms::new(Some("AMY"), Some("LEE"), None, Some("RH10 1AB"));
        for r in MatchRule::ALL {
            r.preimages(&no_dob, &mut p);
            assert_eq!(p.is_empty(), r.inputs().contains(&MatchField::DateOfBirth), "{r:?}");
        }
        let no_surname = MatchForms::new(Some("AMY"), Some(""), Some(15_000), Some("RH10 1AB"));
        for r in MatchRule::ALL {
            r.preimages(&no_surname, &mut p);
            assert_eq!(p.is_empty(), r.inputs().contains(&MatchField::Surname), "{r:?}");
        }
        let mut buf = Vec::new();
        assert!(BlockKey::DobUnordered.preimage(&no_surname, &mut buf));
        assert!(!BlockKey::BirthYearPostcode.preimage(&MatchForms::new(None, None, Some(1), None), &mut buf));
        assert!(buf.is_empty());
    }

    #[test]
    fn block_keys_and_unordered_dates() {
        let f = MatchForms::new(None, None, Some(days_from_civil(2012, 7, 19)), Some("RH10 1AB"));
        assert_eq!(&f.dob_unordered().unwrap(), b"2012-07-19");
        assert_eq!(f.birth_year(), Some("2012"));
        let mut buf = Vec::new();
        assert!(BlockKey::BirthYearPostcode.preimage(&f, &mut buf));
        assert_eq!(buf, b"2012\x1fRH10 1AB");
        let g = MatchForms::new(None, None, Some(days_from_civil(2012, 12, 1)), None);
        assert_eq!(&g.dob_unordered().unwrap(), b"2012-01-12");
    }

    #[test]
    fn debug_shows_no_identifier() {
        let f = MatchForms::new(Some("AMY"), Some("LEE"), Some(15_000), None);
        let shown = format!("{f:?}");
        assert!(!shown.contains("AMY") && !shown.contains("LEE") && !shown.contains("2011"), "{shown}");
        assert!(shown.contains("postcode: \"missing\""), "{shown}");
        let mut p = Preimages::default();
        MatchRule::NameDob.preimages(&f, &mut p);
        assert_eq!(format!("{p:?}"), "Preimages { len: 1, .. }");
    }

    #[test]
    fn preimages_are_distinct() {
        let mut p = Preimages::default();
        p.push(&[b"A", b"B"]);
        p.push(&[b"A", b"B"]);
        p.push(&[b"AB"]);
        p.push(&[b"A", b"B"]);
        assert_eq!(p.len(), 2);
        assert_eq!(p.iter().collect::<Vec<_>>(), [b"A\x1fB".as_slice(), b"AB".as_slice()]);
    }

    #[test]
    fn fields_are_found_by_name_and_kind() {
        let police = crate::feed::latest("police").unwrap();
        for (i, f) in MatchField::ALL.into_iter().enumerate() {
            assert_eq!(f.in_feed(police).map(|c| c.name), Some(f.column_name()));
            assert_eq!(f.index(), i);
        }
    }
}
