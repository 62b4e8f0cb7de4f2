//! The keyed tokens the scoring pass compares field by field, interned as small numbers.
//!
//! Each is a staging column made at the edge (see `tellonce_schemas::block_keys`); the build
//! tier only ever learns whether two records' tokens are equal, so interning a token as a `u32`
//! loses nothing and keeps a record's comparison data in 88 bytes.

use std::collections::HashMap;

use tellonce_governance::FoldBuildHasher;
use tellonce_schemas::BlockKey;

use super::records::{NONE, Tok};

/// A compared token: its place in a record's [`Tokens`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Tk {
    /// The exact date of birth (`date_of_birth_token`).
    Dob,
    /// The date of birth with day and month in sorted order.
    DobUnordered,
    /// Year and month of birth.
    YearMonth,
    /// Year and day of birth.
    YearDay,
    /// Month and day of birth.
    MonthDay,
    /// The pair of years starting at an even year.
    YearEven,
    /// The pair of years starting at an odd year.
    YearOdd,
    /// The forename in match form (domain shared with the surname).
    Forename,
    /// The surname in match form (domain shared with the forename).
    Surname,
    /// The first given-name class of the forename.
    ClassFirst,
    /// The last given-name class of the forename.
    ClassLast,
    /// The forename's initial (domain shared with the forename).
    Initial,
    /// The Soundex code of the forename.
    ForenameSoundex,
    /// The first part of the surname.
    PartFirst,
    /// The last part of the surname.
    PartLast,
    /// The Soundex code of the surname.
    Soundex,
    /// The exact postcode (`postcode_token`).
    Postcode,
    /// The postcode sector.
    Sector,
    /// The postcode district.
    District,
    /// Year of birth and postcode.
    YearPostcode,
    /// The first line of the address (`address_line_1_token`).
    Address,
    /// The numbers of the first line of the address (`address_numbers_token`).
    AddressNumbers,
}

/// How many compared tokens a record has.
pub const TK: usize = 22;

/// A record's compared tokens, interned ([`NONE`]: missing).
pub type Tokens = [u32; TK];

impl Tk {
    /// Every compared token, in the order of [`Tokens`].
    pub const ALL: [Tk; TK] = [
        Tk::Dob,
        Tk::DobUnordered,
        Tk::YearMonth,
        Tk::YearDay,
        Tk::MonthDay,
        Tk::YearEven,
        Tk::YearOdd,
        Tk::Forename,
        Tk::Surname,
        Tk::ClassFirst,
        Tk::ClassLast,
        Tk::Initial,
        Tk::ForenameSoundex,
        Tk::PartFirst,
        Tk::PartLast,
        Tk::Soundex,
        Tk::Postcode,
        Tk::Sector,
        Tk::District,
        Tk::YearPostcode,
        Tk::Address,
        Tk::AddressNumbers,
    ];

    /// The staging column it is read from.
    pub fn column(self) -> &'static str {
        let block = match self {
            Tk::Dob => return "date_of_birth_token",
            Tk::Postcode => return "postcode_token",
            Tk::Address => return "address_line_1_token",
            Tk::AddressNumbers => return tellonce_schemas::staging::ADDRESS_NUMBERS_TOKEN,
            Tk::DobUnordered => BlockKey::DobUnordered,
            Tk::YearMonth => BlockKey::DobYearMonth,
            Tk::YearDay => BlockKey::DobYearDay,
            Tk::MonthDay => BlockKey::DobMonthDay,
            Tk::YearEven => BlockKey::BirthYearEvenPair,
            Tk::YearOdd => BlockKey::BirthYearOddPair,
            Tk::Forename => BlockKey::ForenameName,
            Tk::Surname => BlockKey::SurnameName,
            Tk::ClassFirst => BlockKey::ForenameClassFirst,
            Tk::ClassLast => BlockKey::ForenameClassLast,
            Tk::Initial => BlockKey::ForenameInitial,
            Tk::ForenameSoundex => BlockKey::ForenameSoundex,
            Tk::PartFirst => BlockKey::SurnameFirstPart,
            Tk::PartLast => BlockKey::SurnameLastPart,
            Tk::Soundex => BlockKey::SurnameSoundex,
            Tk::Sector => BlockKey::PostcodeSector,
            Tk::District => BlockKey::PostcodeDistrict,
            Tk::YearPostcode => BlockKey::BirthYearPostcode,
        };
        block.column()
    }
}

/// Interns tokens as dense numbers. One table serves every column: tokens of different HMAC
/// domains never collide, and tokens of a shared domain (forename and surname) must compare.
#[derive(Debug, Default)]
pub struct Interner {
    // Tokens the pipeline itself keyed: only a writer to `staging/`, not a partner, could choose
    // them to collide, so the fast hasher serves.
    ids: HashMap<Tok, u32, FoldBuildHasher>,
}

impl Interner {
    /// The token's number, new if it was not seen before.
    pub fn id(&mut self, t: Option<Tok>) -> u32 {
        let Some(t) = t else { return NONE };
        let next = self.ids.len() as u32;
        *self.ids.entry(t).or_insert(next)
    }
}

/// Whether both are present and equal.
pub fn same(a: u32, b: u32) -> bool {
    a != NONE && a == b
}

/// Whether both are present.
pub fn both(a: u32, b: u32) -> bool {
    a != NONE && b != NONE
}
