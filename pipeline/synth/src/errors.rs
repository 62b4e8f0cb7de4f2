//! The errors the generator injects, as bits, and their names in `truth/records.csv`.

/// Injected errors, as bits; [`ERROR_NAMES`] gives their names in the truth file, in this order.
pub(crate) mod err {
    /// One edit in the surname.
    pub(crate) const TYPO_SURNAME: u32 = 1;
    /// One edit in the forename.
    pub(crate) const TYPO_FORENAME: u32 = 1 << 1;
    /// A short form of the forename (Bill for William).
    pub(crate) const NICKNAME: u32 = 1 << 2;
    /// Only one part of a hyphenated or double-barrelled surname.
    pub(crate) const SURNAME_PART: u32 = 1 << 3;
    /// Day and month of the date of birth swapped.
    pub(crate) const DOB_SWAP: u32 = 1 << 4;
    /// No date of birth (where the schema allows).
    pub(crate) const DOB_MISSING: u32 = 1 << 5;
    /// No NHS number in a health feed.
    pub(crate) const NHS_MISSING: u32 = 1 << 6;
    /// The family's previous address, though it has moved.
    pub(crate) const MOVED: u32 = 1 << 7;
    /// A one-character slip in the postcode.
    pub(crate) const TYPO_POSTCODE: u32 = 1 << 8;
    /// A second record of the same person in the same source.
    pub(crate) const DUPLICATE: u32 = 1 << 9;
    /// Harsh model: one digit of the date of birth mistyped.
    pub(crate) const DOB_DIGIT: u32 = 1 << 10;
    /// Harsh model: two adjacent digits of the date of birth transposed.
    pub(crate) const DOB_TRANSPOSED: u32 = 1 << 11;
    /// Harsh model: the year of birth off by one.
    pub(crate) const DOB_YEAR: u32 = 1 << 12;
    /// Harsh model: no postcode.
    pub(crate) const POSTCODE_MISSING: u32 = 1 << 13;
    /// Harsh model: the forename recorded as its initial only (partners must record a
    /// forename, so it is never left out altogether).
    pub(crate) const FORENAME_INITIAL: u32 = 1 << 14;
    /// Harsh model: forename and surname in each other's place.
    pub(crate) const NAMES_SWAPPED: u32 = 1 << 16;
    /// Harsh model: a new or double-barrelled surname.
    pub(crate) const SURNAME_CHANGED: u32 = 1 << 17;
    /// Harsh model: an OCR-like confusion in a name.
    pub(crate) const OCR: u32 = 1 << 18;
    /// Harsh model: a new postcode (a move other sources do not know of).
    pub(crate) const NEW_POSTCODE: u32 = 1 << 19;
}

/// The names of the error bits, in the order they are listed in `truth/records.csv`.
pub(crate) const ERROR_NAMES: [(u32, &str); 19] = [
    (err::TYPO_SURNAME, "typo_surname"),
    (err::TYPO_FORENAME, "typo_forename"),
    (err::NICKNAME, "nickname"),
    (err::SURNAME_PART, "surname_part"),
    (err::DOB_SWAP, "dob_day_month_swapped"),
    (err::DOB_MISSING, "dob_missing"),
    (err::NHS_MISSING, "nhs_missing"),
    (err::MOVED, "moved_address"),
    (err::TYPO_POSTCODE, "typo_postcode"),
    (err::DUPLICATE, "duplicate"),
    (err::DOB_DIGIT, "dob_digit"),
    (err::DOB_TRANSPOSED, "dob_transposed"),
    (err::DOB_YEAR, "dob_year_off_by_one"),
    (err::POSTCODE_MISSING, "postcode_missing"),
    (err::FORENAME_INITIAL, "forename_initial_only"),
    (err::NAMES_SWAPPED, "names_swapped"),
    (err::SURNAME_CHANGED, "surname_changed"),
    (err::OCR, "ocr"),
    (err::NEW_POSTCODE, "new_postcode"),
];

/// How many of [`ERROR_NAMES`] (the first ones) the default error model injects; the others
/// come only from the harsh model.
#[cfg(test)]
pub(crate) const DEFAULT_ERRORS: usize = 10;
