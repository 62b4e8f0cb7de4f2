//! Signs that a whole column went through a spreadsheet that changed what it says, so that
//! staging it would store something else than the partner's system holds, without a word:
//! dates saved month first by an Excel in a US locale (read day first, a day of 12 or less has
//! its day and month swapped, silently), and long numbers shown, then saved, in scientific
//! notation (`9.43477E+09`: the last digits are gone). One such value is a slip, quarantined or
//! nulled by its rule; many in one column say the file is damaged, and it is held whole.

use crate::Kind;
use crate::identifiers::dates;

/// What a spreadsheet did to a column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Damage {
    /// Dates written month first, read day first ([`dates::month_first`]).
    MonthFirst,
    /// An identifier or reference written in scientific notation.
    Scientific,
}

impl Damage {
    /// The damage `value` of a column of `kind` shows, if any.
    pub fn of(kind: &Kind, value: &str) -> Option<Damage> {
        match kind {
            Kind::Date | Kind::BirthDate => dates::month_first(value).then_some(Damage::MonthFirst),
            Kind::NhsNumber | Kind::Uprn | Kind::Reference { .. } => scientific(value).then_some(Damage::Scientific),
            _ => None,
        }
    }

    /// The stable rule code under which a damaged input is held.
    pub fn code(self) -> &'static str {
        match self {
            Damage::MonthFirst => "dates.month_first",
            Damage::Scientific => "identifier.scientific",
        }
    }

    /// What it is and what to do, never quoting a value.
    pub fn message(self) -> &'static str {
        match self {
            Damage::MonthFirst => {
                "dates that are no day read day first and are one read month first (as 10/25/2026 is): the file \
                 looks written month first, so its dates with a day of 12 or less would be staged with day and \
                 month swapped; declare \"%m/%d/%Y\" in the mapping's [dates], or ask for UK dates"
            }
            Damage::Scientific => {
                "numbers written in scientific notation (as 9.43477E+09 is), as a spreadsheet shows a long \
                 number: their last digits are lost and cannot be read back; ask for the file again with the \
                 column kept as text"
            }
        }
    }
}

/// Whether `count` damaged values of one column, of `records` read, say the file is damaged:
/// at least 10, and a fifth of the records. A slip rarely makes a month over 12 or a number in
/// scientific notation, while a damaged column is most of its values.
pub fn widespread(count: u64, records: u64) -> bool {
    count >= 10 && count as f64 >= 0.2 * records as f64
}

/// Whether `value` is a number in scientific notation with a positive exponent (`9.43477E+09`,
/// `1E+11`), as a spreadsheet writes a long number it shows so.
fn scientific(value: &str) -> bool {
    let v = value.trim();
    let Some((mantissa, exponent)) = v.split_once(['E', 'e']) else { return false };
    let exponent = exponent.strip_prefix('+').unwrap_or(exponent);
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    whole.len() == 1
        && whole.bytes().all(|b| b.is_ascii_digit())
        && fraction.bytes().all(|b| b.is_ascii_digit())
        && (1..=2).contains(&exponent.len())
        && exponent.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_numbers_a_spreadsheet_wrote_in_scientific_notation_are_told() {
        let nhs = Kind::NhsNumber;
        for v in ["9.43477E+09", "1E+11", "4.5e10", " 9.4348E+9 "] {
            assert_eq!(Damage::of(&nhs, v), Some(Damage::Scientific), "{v}");
        }
        for v in ["9434765919", "94E+09", "9.4E-09", "E+09", "9.4E+123", "9.4x+09"] {
            assert_eq!(Damage::of(&nhs, v), None, "{v}");
        }
        assert_eq!(Damage::of(&Kind::PersonName, "1E+11"), None);
        assert_eq!(Damage::of(&Kind::Date, "2026-25-10"), Some(Damage::MonthFirst));
        assert!(widespread(10, 50) && !widespread(9, 9) && !widespread(10, 51));
    }
}
