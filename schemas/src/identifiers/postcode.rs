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
///
/// A pseudo-postcode is refused with its own rule (see [`pseudo`]), never normalised: it names
/// a circumstance shared by many unrelated people, not a place.
pub fn normalise_into(raw: &str, out: &mut String) -> Result<(), Rule> {
    if let Some(rule) = pseudo(raw) {
        return Err(rule);
    }
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

/// The category of a pseudo-postcode, ignoring case, spaces, full stops and slashes: `ZZ99 3VZ`
/// and `NFA` are [`Rule::PostcodeNoFixedAbode`]; `ZZ99 3WZ`, `ZZ99` alone and `NK` are
/// [`Rule::PostcodeNotKnown`]; any other `ZZ99` code (a country, or a nation not otherwise
/// specified) is [`Rule::PostcodePseudo`]. `None` for anything else.
///
/// ```
/// use tellonce_schemas::{Rule, identifiers::postcode};
/// assert_eq!(postcode::pseudo("zz99 3vz"), Some(Rule::PostcodeNoFixedAbode));
/// assert_eq!(postcode::pseudo("N/K"), Some(Rule::PostcodeNotKnown));
/// assert_eq!(postcode::pseudo("RH10 1AB"), None);
/// ```
pub fn pseudo(raw: &str) -> Option<Rule> {
    let mut folded = [0u8; 8];
    let mut n = 0;
    for b in raw.bytes().filter(|b| !b.is_ascii_whitespace() && !matches!(b, b'.' | b'/')) {
        // Longer than any pseudo-postcode: not one.
        *folded.get_mut(n)? = b.to_ascii_uppercase();
        n += 1;
    }
    match &folded[..n] {
        b"NFA" | b"ZZ993VZ" => Some(Rule::PostcodeNoFixedAbode),
        b"NK" | b"ZZ99" | b"ZZ993WZ" => Some(Rule::PostcodeNotKnown),
        [b'Z', b'Z', b'9', b'9', inward @ ..] if inward.len() == 3 && inward.iter().all(u8::is_ascii_alphanumeric) => {
            Some(Rule::PostcodePseudo)
        }
        _ => None,
    }
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
    fn pseudo_postcodes_are_their_own_categories_never_a_postcode() {
        for (raw, want) in [
            ("ZZ99 3VZ", Rule::PostcodeNoFixedAbode),
            ("zz993vz", Rule::PostcodeNoFixedAbode),
            (" Zz99  3Vz ", Rule::PostcodeNoFixedAbode),
            ("NFA", Rule::PostcodeNoFixedAbode),
            ("n.f.a.", Rule::PostcodeNoFixedAbode),
            ("ZZ99 3WZ", Rule::PostcodeNotKnown),
            ("nk", Rule::PostcodeNotKnown),
            ("N/K", Rule::PostcodeNotKnown),
            ("ZZ99", Rule::PostcodeNotKnown),
            ("ZZ99 3CZ", Rule::PostcodePseudo),
            ("zz99 1gz", Rule::PostcodePseudo),
        ] {
            assert_eq!(pseudo(raw), Some(want), "{raw}");
            assert_eq!(normalise(raw), Err(want), "{raw}");
        }
        for raw in ["RH10 1AB", "NFA1", "ZZ99 3VZZ", "N", "", "NK1 1AA"] {
            assert_eq!(pseudo(raw), None, "{raw}");
        }
    }

    #[test]
    fn letters_in_forbidden_places_are_refused() {
        for raw in ["QA1 1AA", "AI1 1AA", "M1 1CA", "M1 1AI", "RH10", "RH10 1A", "12345", "EC1Z 1BB"] {
            assert_eq!(normalise(raw), Err(Rule::PostcodeFormat), "{raw}");
        }
    }
}
