//! Police National Computer ID: `YYYY/NNNNNNNC`, or the display form `YY/NNNNNC`.

use crate::check::Rule;

/// The PNC check alphabet: 0 → Z, 1 → A, … (I, O and S left out).
const PNC_LETTERS: &[u8; 23] = b"ZABCDEFGHJKLMNPQRTUVWXY";

/// Validates a PNC ID and returns its full form `YYYY/NNNNNNNC`.
///
/// A two-digit year is read as 20YY when that is not in the future, else as 19YY.
///
/// ```
/// use tellonce_schemas::identifiers::pnc;
/// assert_eq!(pnc::normalise("12/52834k").unwrap(), "2012/0052834K");
/// ```
pub fn normalise(raw: &str) -> Result<String, Rule> {
    let upper = raw.to_ascii_uppercase();
    let (year, rest) = upper.split_once('/').ok_or(Rule::PncFormat)?;
    let year: u32 = match year.len() {
        4 if year.bytes().all(|b| b.is_ascii_digit()) => year.parse().map_err(|_| Rule::PncFormat)?,
        2 if year.bytes().all(|b| b.is_ascii_digit()) => {
            let yy: u32 = year.parse().map_err(|_| Rule::PncFormat)?;
            let this_year = crate::identifiers::dates::current_year();
            if 2000 + yy <= this_year { 2000 + yy } else { 1900 + yy }
        }
        _ => return Err(Rule::PncFormat),
    };
    let rb = rest.as_bytes();
    if rb.len() < 2 || rb.len() > 8 {
        return Err(Rule::PncFormat);
    }
    let (serial, check) = rb.split_at(rb.len() - 1);
    if !serial.iter().all(u8::is_ascii_digit) || !check[0].is_ascii_uppercase() {
        return Err(Rule::PncFormat);
    }
    let serial: u64 = std::str::from_utf8(serial).map_err(|_| Rule::PncFormat)?.parse().map_err(|_| Rule::PncFormat)?;
    if check_character(year, serial) != check[0] {
        return Err(Rule::PncCheckCharacter);
    }
    let full = format!("{year:04}/{serial:07}");
    // 0000/0000000Z, 9999/9999999… pass the check character but are "not known" fillers: as
    // tokens they would link every person who carries one. Judged on the full form, so that
    // `00/0Z` and `0000/0000000Z` are the same placeholder.
    let (full_year, full_serial) = full.as_bytes().split_at(4);
    let one_digit = |b: &[u8]| b.iter().all(|&c| c == b[0]);
    if one_digit(full_year) || one_digit(&full_serial[1..]) {
        return Err(Rule::PncPlaceholder);
    }
    Ok(format!("{year:04}/{serial:07}{}", check[0] as char))
}

/// The check character for a year and serial number.
pub fn check_character(year: u32, serial: u64) -> u8 {
    let n = u64::from(year % 100) * 10_000_000 + serial;
    // n % 23 < 23, so the index is always in range.
    PNC_LETTERS[(n % 23) as usize]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_published_example_passes_in_both_forms() {
        assert_eq!(normalise("2012/0052834K").unwrap(), "2012/0052834K");
        assert_eq!(normalise("12/52834K").unwrap(), "2012/0052834K");
    }

    #[test]
    fn placeholders_that_pass_the_check_character_are_refused() {
        assert_eq!(normalise("0000/0000000Z"), Err(Rule::PncPlaceholder));
        assert_eq!(normalise("00/0Z"), Err(Rule::PncPlaceholder));
        let c = char::from(check_character(2012, 0));
        assert_eq!(normalise(&format!("2012/0000000{c}")), Err(Rule::PncPlaceholder));
        let c = char::from(check_character(2012, 9_999_999));
        assert_eq!(normalise(&format!("2012/9999999{c}")), Err(Rule::PncPlaceholder));
        let c = char::from(check_character(9999, 52834));
        assert_eq!(normalise(&format!("9999/0052834{c}")), Err(Rule::PncPlaceholder));
    }

    #[test]
    fn wrong_check_character_and_bad_shapes_fail() {
        assert_eq!(normalise("2012/0052834L"), Err(Rule::PncCheckCharacter));
        assert_eq!(normalise("2012-0052834K"), Err(Rule::PncFormat));
        assert_eq!(normalise("2012/K"), Err(Rule::PncFormat));
        assert_eq!(normalise("201/0052834K"), Err(Rule::PncFormat));
    }
}
