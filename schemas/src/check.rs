//! The rules a value can break, and the checked, normalised values that pass them.

use std::borrow::Cow;

use crate::column::Kind;
use crate::identifiers::{dates, names, nhs, pnc, postcode, upn, uprn};

/// A rule a value, a record or a file can break.
///
/// Each rule has a stable dotted code for logs, quarantine and reports. A rule never carries the
/// offending value: messages built from it are safe to log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub enum Rule {
    /// A required column is empty or absent.
    Required,
    /// A reference is longer than its kind allows.
    ReferenceTooLong,
    /// A name or address line has no letters or digits once punctuation is folded.
    TextEmpty,
    /// A name or address line is longer than 100 bytes.
    TextTooLong,
    /// A name or address line is what case systems write where nothing is known (`Unknown`,
    /// `Not known`, `N/A`, `NULL`, `TBC`, `No fixed abode`), or a name holds no letter: no value.
    TextPlaceholder,
    /// An NHS number is not ten digits.
    NhsNumberFormat,
    /// An NHS number's modulus 11 check digit does not match.
    NhsNumberCheckDigit,
    /// An NHS number is a placeholder (one digit repeated), not a person's number.
    NhsNumberPlaceholder,
    /// A UPN is not a letter then twelve characters.
    UpnFormat,
    /// A UPN's check letter does not match.
    UpnCheckLetter,
    /// A UPN is a placeholder (twelve zeros, one digit repeated), not a pupil's number.
    UpnPlaceholder,
    /// A PNC ID is not `YYYY/NNNNNNNC` or `YY/NNNNNC`.
    PncFormat,
    /// A PNC ID's check character does not match.
    PncCheckCharacter,
    /// A PNC ID is a placeholder (a serial or year of one digit repeated, such as `0000/0000000Z`).
    PncPlaceholder,
    /// A postcode is not in a Royal Mail format.
    PostcodeFormat,
    /// A pseudo-postcode for "no fixed abode" (`ZZ99 3VZ`, `NFA`): a circumstance, not a place.
    PostcodeNoFixedAbode,
    /// A pseudo-postcode for "not known" (`ZZ99 3WZ`, `NK`).
    PostcodeNotKnown,
    /// Any other `ZZ99` pseudo-postcode (a country outside the UK, or a nation not otherwise
    /// specified): no UK address.
    PostcodePseudo,
    /// A UPRN is not one to twelve digits (and not zero).
    UprnFormat,
    /// A date is not `YYYY-MM-DD` (nor, in a record, `YYYYMMDD`).
    DateFormat,
    /// A date names a day that does not exist (30 February).
    DateCalendar,
    /// A date is outside 1900-01-01 to 2099-12-31.
    DateRange,
    /// A date of birth is after the day it is processed.
    DateInFuture,
    /// A date is 1900-01-01, the least date of Excel and of many databases, which systems
    /// write where the date is not known.
    DatePlaceholder,
    /// An integer does not parse.
    IntegerFormat,
    /// An integer is outside its range.
    IntegerRange,
    /// A decimal does not parse or is not finite.
    DecimalFormat,
    /// A decimal is outside its range.
    DecimalRange,
    /// A boolean is not one of the accepted spellings.
    BooleanFormat,
    /// A code is not in the column's list.
    CodeUnknown,
    /// The same `record_id` appears twice in one input.
    DuplicateRecordId,
    /// A CSV row has a different number of fields from the header.
    CsvRaggedRow,
    /// A CSV row could not be parsed (for example an unclosed quote).
    CsvMalformed,
    /// A CSV line repeats the header (two exports joined into one file).
    CsvRepeatedHeader,
    /// A row or line is not valid UTF-8.
    InvalidUtf8,
    /// A row or line is longer than the configured maximum.
    LineTooLong,
    /// A JSON Lines line is not a JSON object.
    JsonMalformed,
    /// A JSON value is not a string, number, boolean or null.
    JsonValueType,
    /// A message declares a schema version its topic's feed does not have.
    SchemaVersionUnknown,
}

impl Rule {
    /// The stable dotted code, for logs, quarantine and reports.
    pub fn code(self) -> &'static str {
        match self {
            Rule::Required => "value.required",
            Rule::ReferenceTooLong => "reference.too_long",
            Rule::TextEmpty => "text.empty",
            Rule::TextTooLong => "text.too_long",
            Rule::TextPlaceholder => "text.placeholder",
            Rule::NhsNumberFormat => "nhs_number.format",
            Rule::NhsNumberCheckDigit => "nhs_number.check_digit",
            Rule::NhsNumberPlaceholder => "nhs_number.placeholder",
            Rule::UpnFormat => "upn.format",
            Rule::UpnCheckLetter => "upn.check_letter",
            Rule::UpnPlaceholder => "upn.placeholder",
            Rule::PncFormat => "pnc_id.format",
            Rule::PncCheckCharacter => "pnc_id.check_character",
            Rule::PncPlaceholder => "pnc_id.placeholder",
            Rule::PostcodeFormat => "postcode.format",
            Rule::PostcodeNoFixedAbode => "postcode.no_fixed_abode",
            Rule::PostcodeNotKnown => "postcode.not_known",
            Rule::PostcodePseudo => "postcode.pseudo",
            Rule::UprnFormat => "uprn.format",
            Rule::DateFormat => "date.format",
            Rule::DateCalendar => "date.calendar",
            Rule::DateRange => "date.range",
            Rule::DateInFuture => "date.in_future",
            Rule::DatePlaceholder => "date.placeholder",
            Rule::IntegerFormat => "integer.format",
            Rule::IntegerRange => "integer.range",
            Rule::DecimalFormat => "decimal.format",
            Rule::DecimalRange => "decimal.range",
            Rule::BooleanFormat => "boolean.format",
            Rule::CodeUnknown => "code.unknown",
            Rule::DuplicateRecordId => "record_id.duplicate",
            Rule::CsvRaggedRow => "csv.ragged_row",
            Rule::CsvMalformed => "csv.malformed",
            Rule::CsvRepeatedHeader => "csv.repeated_header",
            Rule::InvalidUtf8 => "encoding.invalid_utf8",
            Rule::LineTooLong => "line.too_long",
            Rule::JsonMalformed => "json.malformed",
            Rule::JsonValueType => "json.value_type",
            Rule::SchemaVersionUnknown => "message.schema_version",
        }
    }

    /// Every rule, for reports and tests.
    pub const ALL: &'static [Rule] = &[
        Rule::Required,
        Rule::ReferenceTooLong,
        Rule::TextEmpty,
        Rule::TextTooLong,
        Rule::TextPlaceholder,
        Rule::NhsNumberFormat,
        Rule::NhsNumberCheckDigit,
        Rule::NhsNumberPlaceholder,
        Rule::UpnFormat,
        Rule::UpnCheckLetter,
        Rule::UpnPlaceholder,
        Rule::PncFormat,
        Rule::PncCheckCharacter,
        Rule::PncPlaceholder,
        Rule::PostcodeFormat,
        Rule::PostcodeNoFixedAbode,
        Rule::PostcodeNotKnown,
        Rule::PostcodePseudo,
        Rule::UprnFormat,
        Rule::DateFormat,
        Rule::DateCalendar,
        Rule::DateRange,
        Rule::DateInFuture,
        Rule::DatePlaceholder,
        Rule::IntegerFormat,
        Rule::IntegerRange,
        Rule::DecimalFormat,
        Rule::DecimalRange,
        Rule::BooleanFormat,
        Rule::CodeUnknown,
        Rule::DuplicateRecordId,
        Rule::CsvRaggedRow,
        Rule::CsvMalformed,
        Rule::CsvRepeatedHeader,
        Rule::InvalidUtf8,
        Rule::LineTooLong,
        Rule::JsonMalformed,
        Rule::JsonValueType,
        Rule::SchemaVersionUnknown,
    ];

    /// The rule with this code, if any.
    pub fn from_code(code: &str) -> Option<Rule> {
        Rule::ALL.iter().copied().find(|r| r.code() == code)
    }
}

impl std::fmt::Display for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

/// A value that passed its checks, normalised.
#[derive(Debug, Clone, PartialEq)]
pub enum Value<'a> {
    /// Normalised text (an identifier's canonical form, a code, a reference).
    Text(Cow<'a, str>),
    /// A date, as days since 1970-01-01 (Arrow's `Date32`).
    Date(i32),
    /// A whole number.
    Int(i64),
    /// A decimal number.
    Decimal(f64),
    /// A boolean.
    Bool(bool),
}

/// Longest name or address line accepted, in bytes.
const MAX_TEXT_BYTES: usize = 100;

pub(crate) fn check<'a>(kind: &Kind, raw: &'a str) -> Result<Value<'a>, Rule> {
    let mut scratch = String::new();
    check_with(kind, raw, &mut scratch).map(into_owned)
}

/// Makes a value that may borrow a scratch buffer own its text.
fn into_owned(v: Value<'_>) -> Value<'static> {
    match v {
        Value::Text(t) => Value::Text(Cow::Owned(t.into_owned())),
        Value::Date(d) => Value::Date(d),
        Value::Int(i) => Value::Int(i),
        Value::Decimal(f) => Value::Decimal(f),
        Value::Bool(b) => Value::Bool(b),
    }
}

pub(crate) fn check_with<'a>(kind: &Kind, raw: &'a str, scratch: &'a mut String) -> Result<Value<'a>, Rule> {
    // Characters no one sees (a zero-width space pasted in, a byte order mark, the NULs a
    // fixed-width export pads with) would make a reference another reference, and a re-sent
    // record a new one: the value is read as shown.
    check_as_shown(kind, as_shown(raw), scratch)
}

/// [`check_with`] of a value already read by [`as_shown`].
pub(crate) fn check_as_shown<'a>(kind: &Kind, shown: Cow<'a, str>, scratch: &'a mut String) -> Result<Value<'a>, Rule> {
    match shown {
        Cow::Borrowed(shown) => check_shown(kind, shown, scratch),
        Cow::Owned(shown) => check_shown(kind, &shown, &mut String::new()).map(into_owned),
    }
}

/// A value as it is shown and validation reads it: without white space around it, nor the
/// characters no one sees ([`invisible`]) anywhere in it. Whatever compares a value with one
/// validated (a reference with the records held, a withdrawal with the record it names) reads it
/// so.
pub fn as_shown(raw: &str) -> Cow<'_, str> {
    // Every such character is a control byte or outside ASCII: most values are neither.
    if raw.bytes().any(|b| !(0x20..0x7f).contains(&b)) && raw.chars().any(invisible) {
        let shown: String = raw.chars().filter(|&c| !invisible(c)).collect();
        return Cow::Owned(shown.trim().to_owned());
    }
    Cow::Borrowed(raw.trim())
}

/// Whether `c` is shown as nothing: a control character other than a tab or a line break, a
/// Unicode format character (a soft hyphen, zero-width spaces and joiners, direction marks, the
/// byte order mark, tags), a variation selector, the combining grapheme joiner or a Hangul
/// filler. (C1 controls are left: a Latin-1 file decoded byte for byte holds them as letters'
/// stand-ins.)
pub fn invisible(c: char) -> bool {
    matches!(c,
        '\u{0}'..='\u{8}' | '\u{b}' | '\u{c}' | '\u{e}'..='\u{1f}' | '\u{7f}'
        | '\u{ad}' | '\u{61c}' | '\u{180e}' | '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}'
        | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{206f}' | '\u{feff}' | '\u{fff9}'..='\u{fffb}'
        | '\u{34f}' | '\u{115f}' | '\u{1160}' | '\u{3164}' | '\u{ffa0}' | '\u{fe00}'..='\u{fe0f}'
        | '\u{e0001}' | '\u{e0020}'..='\u{e007f}')
}

fn check_shown<'a>(kind: &Kind, raw: &'a str, scratch: &'a mut String) -> Result<Value<'a>, Rule> {
    let raw = raw.trim();
    scratch.clear();
    match *kind {
        Kind::Reference { max_bytes } => {
            if raw.len() > max_bytes {
                Err(Rule::ReferenceTooLong)
            } else {
                Ok(Value::Text(Cow::Borrowed(raw)))
            }
        }
        Kind::PersonName | Kind::AddressLine => {
            if raw.len() > MAX_TEXT_BYTES {
                return Err(Rule::TextTooLong);
            }
            let folded = names::fold(raw);
            if folded.is_empty() {
                Err(Rule::TextEmpty)
            } else if names::placeholder(&folded, *kind == Kind::PersonName) {
                Err(Rule::TextPlaceholder)
            } else {
                Ok(Value::Text(Cow::Owned(folded)))
            }
        }
        Kind::NhsNumber => nhs::normalise(whole_number(raw)).map(Value::Text),
        Kind::Upn => upn::normalise(unquoted(raw)).map(Value::Text),
        Kind::PncId => pnc::normalise(unquoted(raw)).map(|s| Value::Text(Cow::Owned(s))),
        Kind::Postcode => {
            postcode::normalise_into(raw, scratch)?;
            Ok(Value::Text(Cow::Borrowed(scratch.as_str())))
        }
        Kind::Uprn => uprn::normalise(whole_number(raw)).map(Value::Text),
        Kind::Date => not_placeholder_date(dates::parse_value(raw)?).map(Value::Date),
        Kind::BirthDate => {
            let d = not_placeholder_date(dates::parse_value(raw)?)?;
            if d > dates::today() { Err(Rule::DateInFuture) } else { Ok(Value::Date(d)) }
        }
        Kind::Integer { min, max } => {
            let v: i64 = whole_number(raw).parse().map_err(|_| Rule::IntegerFormat)?;
            if v < min || v > max { Err(Rule::IntegerRange) } else { Ok(Value::Int(v)) }
        }
        Kind::Decimal { min, max } => {
            let v: f64 = unquoted(raw).parse().map_err(|_| Rule::DecimalFormat)?;
            if !v.is_finite() {
                Err(Rule::DecimalFormat)
            } else if v < min || v > max {
                Err(Rule::DecimalRange)
            } else {
                Ok(Value::Decimal(v))
            }
        }
        Kind::Boolean => parse_bool(raw).map(Value::Bool),
        Kind::Code(codes) => codes
            .iter()
            .find(|c| c.eq_ignore_ascii_case(raw))
            .map(|c| Value::Text(Cow::Borrowed(*c)))
            .ok_or(Rule::CodeUnknown),
    }
}

/// 1900-01-01 in days since 1970-01-01.
const FIRST_OF_1900: i32 = -25_567;

/// `day`, unless it is the placeholder 1900-01-01 ([`Rule::DatePlaceholder`]).
fn not_placeholder_date(day: i32) -> Result<i32, Rule> {
    if day == FIRST_OF_1900 { Err(Rule::DatePlaceholder) } else { Ok(day) }
}

/// `raw` without the apostrophe a spreadsheet user types to keep a number as text (`'0123`),
/// which some exports write out with the value.
fn unquoted(raw: &str) -> &str {
    raw.strip_prefix('\'').map_or(raw, str::trim_start)
}

/// [`unquoted`], and without the `.0` an export that holds whole numbers as floating point
/// writes after them (`9434765919.0`): the same whole number, not a fraction.
fn whole_number(raw: &str) -> &str {
    let raw = unquoted(raw);
    match raw.split_once('.') {
        Some((whole, zeros)) if !whole.is_empty() && !zeros.is_empty() && zeros.bytes().all(|b| b == b'0') => whole,
        _ => raw,
    }
}

fn parse_bool(raw: &str) -> Result<bool, Rule> {
    const TRUE: &[&str] = &["true", "yes", "y", "1", "t"];
    const FALSE: &[&str] = &["false", "no", "n", "0", "f"];
    if TRUE.iter().any(|t| t.eq_ignore_ascii_case(raw)) {
        Ok(true)
    } else if FALSE.iter().any(|f| f.eq_ignore_ascii_case(raw)) {
        Ok(false)
    } else {
        Err(Rule::BooleanFormat)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_code_is_unique_and_round_trips() {
        let mut seen = std::collections::HashSet::new();
        for r in Rule::ALL {
            assert!(seen.insert(r.code()), "duplicate code {}", r.code());
            assert_eq!(Rule::from_code(r.code()), Some(*r));
        }
    }

    #[test]
    fn what_case_systems_write_where_nothing_is_known_is_no_name_address_or_date() {
        for sent in ["Unknown", "NOT KNOWN", "n/a", "N/A", "NULL", "null", "TBC", "N.K.", "xxx", "0", "01/01/1900"] {
            assert_eq!(Kind::PersonName.check(sent), Err(Rule::TextPlaceholder), "{sent:?}");
        }
        for sent in ["No Fixed Abode", "NFA", "Address unknown", "n/a"] {
            assert_eq!(Kind::AddressLine.check(sent), Err(Rule::TextPlaceholder), "{sent:?}");
        }
        // Names that are names, a house number alone, and an initial stay.
        for (kind, sent) in
            [(Kind::PersonName, "Na"), (Kind::PersonName, "X"), (Kind::PersonName, "Nil"), (Kind::AddressLine, "12")]
        {
            assert!(kind.check(sent).is_ok(), "{sent:?}");
        }
        assert_eq!(Kind::BirthDate.check("1900-01-01"), Err(Rule::DatePlaceholder));
        assert_eq!(Kind::Date.check("1900-01-01"), Err(Rule::DatePlaceholder));
        assert!(Kind::BirthDate.check("1900-01-02").is_ok() && Kind::Date.check("1901-01-01").is_ok());
    }

    #[test]
    fn characters_no_one_sees_are_not_read() {
        let reference = Kind::Reference { max_bytes: 64 };
        for sent in
            ["HVP-00001\u{200b}", "\u{feff}HVP-00001", "HVP-00001\0\0\0", "HVP\u{2060}-00001", " HVP-00001\u{a0}"]
        {
            assert_eq!(reference.check(sent), Ok(Value::Text(Cow::Borrowed("HVP-00001"))), "{sent:?}");
        }
        assert_eq!(Kind::PersonName.check("Xa\u{200b}nthe"), Ok(Value::Text(Cow::Borrowed("XANTHE"))));
        assert_eq!(Kind::NhsNumber.check("943\u{200b}476 5919"), Ok(Value::Text(Cow::Borrowed("9434765919"))));
        // A tab and a line break are white space, not nothing.
        assert!(!invisible('\t') && !invisible('\n') && !invisible(' ') && !invisible('é'));
    }

    #[test]
    fn whole_numbers_written_as_floats_or_kept_as_text_read_as_the_number() {
        let nhs = |s| Kind::NhsNumber.check(s);
        for sent in ["9434765919.0", "'9434765919", "9434765919.00", "' 943 476 5919"] {
            assert_eq!(nhs(sent), Ok(Value::Text(Cow::Borrowed("9434765919"))), "{sent:?}");
        }
        // A fraction is not a whole number, and a point alone is not `.0`.
        for sent in ["9434765919.5", "9434765919.", ".0", "9434765919.0.0"] {
            assert_eq!(nhs(sent), Err(Rule::NhsNumberFormat), "{sent:?}");
        }
        let int = Kind::Integer { min: 0, max: 10 };
        assert_eq!(int.check("2.0"), Ok(Value::Int(2)));
        assert_eq!(int.check("'7"), Ok(Value::Int(7)));
        assert_eq!(int.check("2.5"), Err(Rule::IntegerFormat));
        assert_eq!(Kind::Uprn.check("100023336956.0"), Ok(Value::Text(Cow::Borrowed("100023336956"))));
        assert_eq!(Kind::Decimal { min: 0.0, max: 10.0 }.check("'2.5"), Ok(Value::Decimal(2.5)));
        // A UPN spaced for reading, and one kept as text.
        for sent in ["B801 200005001", "'B801200005001", "b801-2000-05001"] {
            assert_eq!(Kind::Upn.check(sent), Ok(Value::Text(Cow::Borrowed("B801200005001"))), "{sent:?}");
        }
    }

    #[test]
    fn codes_match_without_case_and_return_the_canonical_spelling() {
        let k = Kind::Code(&["ACCEPTED", "REJECTED"]);
        assert_eq!(k.check(" accepted "), Ok(Value::Text(Cow::Borrowed("ACCEPTED"))));
        assert_eq!(k.check("maybe"), Err(Rule::CodeUnknown));
    }

    #[test]
    fn numbers_and_booleans_are_checked_against_their_ranges() {
        let k = Kind::Integer { min: 0, max: 60 };
        assert_eq!(k.check("55"), Ok(Value::Int(55)));
        assert_eq!(k.check("61"), Err(Rule::IntegerRange));
        assert_eq!(k.check("5x"), Err(Rule::IntegerFormat));
        let d = Kind::Decimal { min: 0.0, max: 100.0 };
        assert_eq!(d.check("87.5"), Ok(Value::Decimal(87.5)));
        assert_eq!(d.check("NaN"), Err(Rule::DecimalFormat));
        assert_eq!(d.check("100.1"), Err(Rule::DecimalRange));
        assert_eq!(Kind::Boolean.check("Y"), Ok(Value::Bool(true)));
        assert_eq!(Kind::Boolean.check("nope"), Err(Rule::BooleanFormat));
    }

    #[test]
    fn a_birth_date_in_the_future_is_refused() {
        assert_eq!(Kind::BirthDate.check("2099-01-01"), Err(Rule::DateInFuture));
        assert!(Kind::BirthDate.check("2015-06-30").is_ok());
    }

    #[test]
    fn dates_in_the_basic_iso_form_are_the_same_dates() {
        for kind in [Kind::Date, Kind::BirthDate] {
            assert_eq!(kind.check("20150630"), kind.check("2015-06-30"));
            assert_eq!(kind.check("20150631"), Err(Rule::DateCalendar));
        }
        assert_eq!(Kind::BirthDate.check("20990101"), Err(Rule::DateInFuture));
    }
}
