//! Column definitions: what a column holds, what role it plays, how sensitive it is.

use crate::check::{self, Rule, Value};

/// What a column is, for the stages that act on it.
///
/// Later stages act on the role, never on the column's name: a new feed with a direct identifier
/// under a new name is tokenised without any code change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Identifies a person or a household on its own (NHS number, UPN, name, address line).
    /// Never written in clear: becomes a keyed token.
    DirectIdentifier,
    /// Identifies in combination with other data (date of birth, postcode, sex). Written only
    /// generalised; a keyed token of the exact value is kept for linkage.
    QuasiIdentifier,
    /// A fact about the event (dates, types, flags, scores). Passes.
    EventAttribute,
    /// The partner's own reference for the record (`record_id`). Passes.
    RecordReference,
}

impl Role {
    /// The role's name as written in the data dictionary.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::DirectIdentifier => "direct identifier",
            Role::QuasiIdentifier => "quasi-identifier",
            Role::EventAttribute => "event attribute",
            Role::RecordReference => "record reference",
        }
    }
}

/// The data-protection category of a column, which decides what condition an agreement needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Sensitivity {
    /// Personal data: an Article 6 basis suffices.
    Personal,
    /// Special category data (health, ethnicity): an Article 9 condition is also needed.
    SpecialCategory,
    /// Criminal offence data: an Article 10 / DPA 2018 Schedule 1 condition is also needed.
    CriminalOffence,
}

impl Sensitivity {
    /// The category's name as written in the data dictionary.
    pub fn as_str(self) -> &'static str {
        match self {
            Sensitivity::Personal => "personal",
            Sensitivity::SpecialCategory => "special category (Art. 9)",
            Sensitivity::CriminalOffence => "criminal offence (Art. 10)",
        }
    }
}

/// The type of a column's values, with the checks that apply to it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kind {
    /// Free-form reference text (a partner's record or case reference), at most this many bytes.
    Reference {
        /// Longest accepted value, in bytes.
        max_bytes: usize,
    },
    /// A person's forename or surname: upper-cased, punctuation and spaces folded.
    PersonName,
    /// One line of a postal address: upper-cased, punctuation and spaces folded.
    AddressLine,
    /// NHS number: ten digits with a modulus 11 check digit.
    NhsNumber,
    /// Unique Pupil Number: check letter then twelve characters, modulus 23.
    Upn,
    /// Police National Computer ID: `YYYY/NNNNNNNC` (or `YY/NNNNNC`), modulus 23 check character.
    PncId,
    /// UK postcode: Royal Mail format, normalised to `OUTWARD INWARD`.
    Postcode,
    /// Unique Property Reference Number: up to twelve digits.
    Uprn,
    /// An ISO 8601 calendar date (`YYYY-MM-DD`, or `YYYYMMDD` in a record) between 1900-01-01
    /// and 2099-12-31.
    Date,
    /// A date of birth: as [`Kind::Date`], and not after the day it is processed.
    BirthDate,
    /// A whole number in an inclusive range.
    Integer {
        /// Smallest accepted value.
        min: i64,
        /// Largest accepted value.
        max: i64,
    },
    /// A decimal number in an inclusive range.
    Decimal {
        /// Smallest accepted value.
        min: f64,
        /// Largest accepted value.
        max: f64,
    },
    /// `true`/`false` (also `yes`/`no`, `y`/`n`, `1`/`0`, any case).
    Boolean,
    /// One of a fixed list of codes (matched without regard to case).
    Code(&'static [&'static str]),
}

impl Kind {
    /// Checks and normalises one non-empty value.
    ///
    /// The error names the rule broken, never the value, so that it can be logged safely.
    pub fn check<'a>(&self, raw: &'a str) -> Result<Value<'a>, Rule> {
        check::check(self, raw)
    }

    /// As [`Kind::check`], writing any normalised text into `scratch` (cleared first) instead of
    /// allocating: the hot path of the validate stage.
    pub fn check_with<'a>(&self, raw: &'a str, scratch: &'a mut String) -> Result<Value<'a>, Rule> {
        check::check_with(self, raw, scratch)
    }

    /// A short name for the data dictionary.
    pub fn describe(&self) -> String {
        match self {
            Kind::Reference { max_bytes } => format!("reference (≤ {max_bytes} bytes)"),
            Kind::PersonName => "person name".into(),
            Kind::AddressLine => "address line".into(),
            Kind::NhsNumber => "NHS number (mod 11)".into(),
            Kind::Upn => "UPN (mod 23 check letter)".into(),
            Kind::PncId => "PNC ID (mod 23 check character)".into(),
            Kind::Postcode => "UK postcode".into(),
            Kind::Uprn => "UPRN (≤ 12 digits)".into(),
            Kind::Date => "date (YYYY-MM-DD or YYYYMMDD)".into(),
            Kind::BirthDate => "date of birth (YYYY-MM-DD or YYYYMMDD, not in the future)".into(),
            Kind::Integer { min, max } => format!("integer {min}..={max}"),
            Kind::Decimal { min, max } => format!("decimal {min}..={max}"),
            Kind::Boolean => "boolean".into(),
            Kind::Code(codes) => format!("code: {}", codes.join(" | ")),
        }
    }

    /// Whether a keyed token of the exact value is useful for linkage.
    ///
    /// Direct identifiers always get one; of the quasi-identifiers, dates of birth and postcodes do.
    pub fn links(&self) -> bool {
        !matches!(self, Kind::Boolean | Kind::Code(_) | Kind::Integer { .. } | Kind::Decimal { .. } | Kind::Date)
    }
}

/// How a quasi-identifier is coarsened for the columns analysts may see.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Generalisation {
    /// Kept as it is (a code with few values, such as sex).
    Keep,
    /// A date becomes its year and month, `YYYY-MM`.
    YearMonth,
    /// A postcode becomes its outward code (`RH10 1AB` → `RH10`).
    OutwardCode,
    /// Not written at all outside its token.
    Withhold,
}

/// What an invalid or missing required value of a column does to its record.
///
/// The default comes from the column's role ([`FeedSchema::on_invalid`](crate::FeedSchema::on_invalid)):
/// a bad identifier nulls the field and keeps the record, so that a mistyped NHS number does
/// not cost the event it came with; a bad record reference or event date quarantines it, as
/// the record cannot be recognised or dated without them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OnInvalid {
    /// The record is set aside in the encrypted quarantine with the rule it broke.
    Quarantine,
    /// The field is written null and the record kept; its `_dq` names the column and the rule.
    Null,
}

impl OnInvalid {
    /// The action's name as written in the data dictionary.
    pub fn as_str(self) -> &'static str {
        match self {
            OnInvalid::Quarantine => "quarantine",
            OnInvalid::Null => "null",
        }
    }
}

/// One column of a feed schema.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Column {
    /// The column's name in the partner's file (CSV header or JSON key).
    pub name: &'static str,
    /// Its values' type and checks.
    pub kind: Kind,
    /// What the later stages do with it.
    pub role: Role,
    /// Its data-protection category.
    pub sensitivity: Sensitivity,
    /// Whether every record must carry a value.
    pub required: bool,
    /// How it is coarsened when its role is [`Role::QuasiIdentifier`].
    pub generalise: Generalisation,
    /// One sentence for the data dictionary.
    pub description: &'static str,
    /// What an invalid value does, when the schema overrides the role's default (see
    /// [`FeedSchema::on_invalid`](crate::FeedSchema::on_invalid)).
    pub on_invalid: Option<OnInvalid>,
}

impl Column {
    /// A column with the given name, kind and role; personal, optional, kept as it is.
    pub const fn new(name: &'static str, kind: Kind, role: Role, description: &'static str) -> Self {
        Column {
            name,
            kind,
            role,
            sensitivity: Sensitivity::Personal,
            required: false,
            generalise: Generalisation::Keep,
            description,
            on_invalid: None,
        }
    }

    /// The same column, required on every record.
    pub const fn required(mut self) -> Self {
        self.required = true;
        self
    }

    /// The same column, special category data.
    pub const fn special(mut self) -> Self {
        self.sensitivity = Sensitivity::SpecialCategory;
        self
    }

    /// The same column, criminal offence data.
    pub const fn criminal(mut self) -> Self {
        self.sensitivity = Sensitivity::CriminalOffence;
        self
    }

    /// The same column, with an invalid value doing `what` instead of its role's default.
    pub const fn when_invalid(mut self, what: OnInvalid) -> Self {
        self.on_invalid = Some(what);
        self
    }

    /// The same column, generalised this way.
    pub const fn generalised(mut self, how: Generalisation) -> Self {
        self.generalise = how;
        self
    }

    /// Checks one cell of the column as the validate stage does, and as `sources check` predicts
    /// it: a missing cell, or one of nothing but white space (a SQL export's padded `CHAR`
    /// column, a cell holding a space), is empty: [`Rule::Required`] where the column is
    /// required, else no value. Any other is checked by its kind ([`Kind::check_with`]).
    pub fn check_cell<'a>(&self, raw: Option<&'a str>, scratch: &'a mut String) -> Result<Option<Value<'a>>, Rule> {
        // A cell of nothing but white space and characters no one sees is empty. Read as shown
        // once, here, for both judgements.
        match raw.map(crate::check::as_shown).filter(|v| !v.is_empty()) {
            None if self.required => Err(Rule::Required),
            None => Ok(None),
            Some(v) => crate::check::check_as_shown(&self.kind, v, scratch).map(Some),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cell_of_white_space_is_empty() {
        let date = Column::new("d", Kind::Date, Role::EventAttribute, "A date.");
        let mut scratch = String::new();
        for blank in [None, Some(""), Some("   "), Some("\t \u{a0}"), Some("\u{200b}\0\u{feff}")] {
            assert_eq!(date.check_cell(blank, &mut scratch), Ok(None), "{blank:?}");
            assert_eq!(date.required().check_cell(blank, &mut scratch), Err(Rule::Required));
        }
        assert_eq!(date.check_cell(Some(" x "), &mut scratch), Err(Rule::DateFormat));
        assert!(matches!(date.check_cell(Some(" 2024-01-05 "), &mut scratch), Ok(Some(Value::Date(_)))));
    }
}
