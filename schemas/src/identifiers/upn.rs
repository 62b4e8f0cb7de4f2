//! Unique Pupil Number: a check letter then twelve characters (the last a letter if temporary).

use std::borrow::Cow;

use super::MOD23_LETTERS;
use crate::check::Rule;

/// Validates a UPN and returns it upper-cased.
///
/// ```
/// use tellonce_schemas::identifiers::upn;
/// assert_eq!(upn::normalise("b801200005001").unwrap(), "B801200005001");
/// ```
pub fn normalise(raw: &str) -> Result<Cow<'_, str>, Rule> {
    // Exports space or hyphenate a UPN for reading (`X938 200620000`), as they do NHS numbers.
    let upper: Cow<'_, str> = if raw.bytes().any(|b| b.is_ascii_lowercase() || b == b' ' || b == b'-') {
        Cow::Owned(raw.chars().filter(|&c| c != ' ' && c != '-').map(|c| c.to_ascii_uppercase()).collect())
    } else {
        Cow::Borrowed(raw)
    };
    let b = upper.as_bytes();
    if b.len() != 13
        || !MOD23_LETTERS.contains(&b[0])
        || !b[1..12].iter().all(u8::is_ascii_digit)
        || !(b[12].is_ascii_digit() || MOD23_LETTERS.contains(&b[12]))
    {
        return Err(Rule::UpnFormat);
    }
    if check_letter(&b[1..]) != Some(b[0]) {
        return Err(Rule::UpnCheckLetter);
    }
    // A000000000000, B111111111111 … pass the check letter but are "not known" fillers: as
    // tokens they would link every pupil who carries one.
    if b[1..].iter().all(|&c| c == b[1]) {
        return Err(Rule::UpnPlaceholder);
    }
    Ok(upper)
}

/// The check letter for characters 2 to 13 of a UPN.
pub fn check_letter(rest: &[u8]) -> Option<u8> {
    let mut sum = 0usize;
    for (pos, &c) in (2..).zip(rest.iter().take(12)) {
        let v = if c.is_ascii_digit() { usize::from(c - b'0') } else { MOD23_LETTERS.iter().position(|&l| l == c)? };
        sum += pos * v;
    }
    MOD23_LETTERS.get(sum % 23).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_published_example_passes() {
        assert!(normalise("B801200005001").is_ok());
        assert_eq!(normalise("C801200005001"), Err(Rule::UpnCheckLetter));
    }

    #[test]
    fn malformed_upns_are_format_errors() {
        assert_eq!(normalise("B80120000500"), Err(Rule::UpnFormat));
        assert_eq!(normalise("I801200005001"), Err(Rule::UpnFormat));
        assert_eq!(normalise("B8012000050X1"), Err(Rule::UpnFormat));
    }

    #[test]
    fn placeholders_that_pass_the_check_letter_are_refused() {
        for digit in b'0'..=b'9' {
            let rest = [digit; 12];
            let letter = check_letter(&rest).unwrap();
            let upn = format!("{}{}", letter as char, std::str::from_utf8(&rest).unwrap());
            assert_eq!(normalise(&upn), Err(Rule::UpnPlaceholder), "{upn}");
        }
        assert_eq!(normalise("A000000000000"), Err(Rule::UpnPlaceholder));
    }

    #[test]
    fn a_temporary_upn_with_a_final_letter_is_checked() {
        let rest = b"80120000500A";
        let letter = check_letter(rest).unwrap();
        let upn = format!("{}{}", letter as char, std::str::from_utf8(rest).unwrap());
        assert!(normalise(&upn).is_ok());
    }
}
