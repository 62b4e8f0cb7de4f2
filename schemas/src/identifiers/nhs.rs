//! NHS number: ten digits, the tenth a modulus 11 check digit.

use std::borrow::Cow;

use crate::check::Rule;

/// Validates an NHS number and returns its ten digits (spaces and hyphens removed).
///
/// ```
/// use tellonce_schemas::identifiers::nhs;
/// assert_eq!(nhs::normalise("943 476 5919").unwrap(), "9434765919");
/// assert!(nhs::normalise("9991234560").is_err());
/// ```
pub fn normalise(raw: &str) -> Result<Cow<'_, str>, Rule> {
    let digits: Cow<'_, str> = if raw.bytes().all(|b| b.is_ascii_digit()) {
        Cow::Borrowed(raw)
    } else {
        if !raw.bytes().all(|b| b.is_ascii_digit() || b == b' ' || b == b'-') {
            return Err(Rule::NhsNumberFormat);
        }
        Cow::Owned(raw.chars().filter(char::is_ascii_digit).collect())
    };
    if digits.len() != 10 {
        return Err(Rule::NhsNumberFormat);
    }
    let d = digits.as_bytes();
    if check_digit(d) != Some(d[9] - b'0') {
        return Err(Rule::NhsNumberCheckDigit);
    }
    // 0000000000, 1111111111 … pass modulus 11 but are placeholders for "not known": as tokens
    // they would link every child who carries one.
    if d.iter().all(|&b| b == d[0]) {
        return Err(Rule::NhsNumberPlaceholder);
    }
    Ok(digits)
}

/// The check digit for the first nine digits, or `None` where no digit can be valid.
pub fn check_digit(digits: &[u8]) -> Option<u8> {
    let sum: u32 = digits.iter().take(9).zip((2..=10).rev()).map(|(d, w)| u32::from(d - b'0') * w).sum();
    match 11 - (sum % 11) {
        11 => Some(0),
        10 => None,
        c => u8::try_from(c).ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn published_examples_pass_and_the_bad_one_fails() {
        assert!(normalise("9434765919").is_ok());
        assert!(normalise("6541003238").is_ok());
        assert_eq!(normalise("9991234560"), Err(Rule::NhsNumberCheckDigit));
        assert!(normalise("9990000018").is_ok());
    }

    #[test]
    fn wrong_length_or_letters_is_a_format_error() {
        assert_eq!(normalise("943476591"), Err(Rule::NhsNumberFormat));
        assert_eq!(normalise("94347659X9"), Err(Rule::NhsNumberFormat));
        assert_eq!(normalise("943-476-5919").unwrap(), "9434765919");
    }

    #[test]
    fn placeholders_that_pass_the_check_digit_are_refused() {
        for p in ["0000000000", "1111111111", "9999999999"] {
            assert_eq!(normalise(p), Err(Rule::NhsNumberPlaceholder), "{p}");
        }
    }
}
