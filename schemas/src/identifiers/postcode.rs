//! UK postcodes: Royal Mail format rules, normalised to `OUTWARD INWARD`.

use crate::check::Rule;

/// Validates a postcode and returns it upper-cased with one space before the inward code.
///
/// Format validity does not prove that a postcode exists.
///
/// ```
/// use tellonce_schemas::identifiers::postcode;
/// assert_eq!(postcode::normalise(" rh101ab ").unwrap(), "RH10 1AB");
/// assert_eq!(postcode::outward("RH10 1AB"), "RH10");
/// ```
pub fn normalise(raw: &str) -> Result<String, Rule> {
    let mut s = String::with_capacity(8);
    normalise_into(raw, &mut s)?;
    Ok(s)
}

/// [`normalise`], appending to `out` (cleared and reused by the caller).
pub fn normalise_into(raw: &str, out: &mut String) -> Result<(), Rule> {
    let mut compact = [0u8; 7];
    let mut n = 0;
    for b in raw.bytes().filter(|b| !b.is_ascii_whitespace()) {
        if n == compact.len() {
            return Err(Rule::PostcodeFormat);
        }
        compact[n] = b.to_ascii_uppercase();
        n += 1;
    }
    let compact = &compact[..n];
    if compact == b"GIR0AA" {
        out.push_str("GIR 0AA");
        return Ok(());
    }
    if compact.len() < 5 {
        return Err(Rule::PostcodeFormat);
    }
    let (outward, inward) = compact.split_at(compact.len() - 3);
    if !valid_inward(inward) || !valid_outward(outward) {
        return Err(Rule::PostcodeFormat);
    }
    out.extend(outward.iter().map(|&b| char::from(b)));
    out.push(' ');
    out.extend(inward.iter().map(|&b| char::from(b)));
    Ok(())
}

/// The outward code of a normalised postcode (the part before the space).
pub fn outward(normalised: &str) -> &str {
    normalised.split(' ').next().unwrap_or(normalised)
}

fn valid_inward(inw: &[u8]) -> bool {
    const INWARD_LETTERS: &[u8] = b"ABDEFGHJLNPQRSTUWXYZ";
    inw.len() == 3 && inw[0].is_ascii_digit() && INWARD_LETTERS.contains(&inw[1]) && INWARD_LETTERS.contains(&inw[2])
}

fn valid_outward(out: &[u8]) -> bool {
    let first_ok = |b: u8| b.is_ascii_uppercase() && !b"QVX".contains(&b);
    let second_ok = |b: u8| b.is_ascii_uppercase() && !b"IJZ".contains(&b);
    let third_ok = |b: u8| b"ABCDEFGHJKPSTUW".contains(&b);
    let fourth_ok = |b: u8| b"ABEHMNPRVWXY".contains(&b);
    let d = |b: u8| b.is_ascii_digit();
    match *out {
        // AN, ANN, ANA
        [a, n] => first_ok(a) && d(n),
        [a, n, x] if d(n) => first_ok(a) && (d(x) || third_ok(x)),
        // AAN
        [a, b, n] => first_ok(a) && second_ok(b) && d(n),
        // AANN, AANA
        [a, b, n, x] => first_ok(a) && second_ok(b) && d(n) && (d(x) || fourth_ok(x)),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_outward_format_is_accepted() {
        for (raw, want) in [
            ("M1 1AE", "M1 1AE"),
            ("b338th", "B33 8TH"),
            ("CR2 6XH", "CR2 6XH"),
            ("DN55 1PT", "DN55 1PT"),
            ("W1A 1HQ", "W1A 1HQ"),
            ("EC1A 1BB", "EC1A 1BB"),
            ("gir 0aa", "GIR 0AA"),
        ] {
            assert_eq!(normalise(raw).unwrap(), want, "{raw}");
        }
    }

    #[test]
    fn letters_in_forbidden_places_are_refused() {
        for raw in ["QA1 1AA", "AI1 1AA", "M1 1CA", "M1 1AI", "RH10", "RH10 1A", "12345", "EC1Z 1BB"] {
            assert_eq!(normalise(raw), Err(Rule::PostcodeFormat), "{raw}");
        }
    }
}
