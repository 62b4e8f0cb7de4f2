//! Phonetic codes of names, for match keys that survive spelling variation.

/// The American Soundex code of a name in match form (see
/// [`match_form`](super::names::match_form)), as four ASCII bytes: the first letter, then up to
/// three digits, padded with `0`.
///
/// The rules are those of the US National Archives: letters are coded `BFPV`→1,
/// `CGJKQSXZ`→2, `DT`→3, `L`→4, `MN`→5, `R`→6; vowels (`AEIOUY`) are not coded but separate two
/// equal codes, `H` and `W` are not coded and do not separate them; adjacent equal codes count
/// once, and a code equal to the first letter's is dropped. Characters other than ASCII letters
/// (digits, letters of other scripts) are skipped. `None` when the name has no ASCII letter.
///
/// ```
/// use tellonce_schemas::identifiers::phonetic::soundex;
/// assert_eq!(soundex("ROBERT"), Some(*b"R163"));
/// assert_eq!(soundex("RUPERT"), Some(*b"R163"));
/// assert_eq!(soundex("ASHCRAFT"), Some(*b"A261"));
/// ```
pub fn soundex(match_form: &str) -> Option<[u8; 4]> {
    let mut letters = match_form.bytes().filter(u8::is_ascii_alphabetic).map(|b| b.to_ascii_uppercase());
    let first = letters.next()?;
    let mut out = [b'0'; 4];
    out[0] = first;
    let mut len = 1;
    let mut last = code(first);
    for b in letters {
        if len == 4 {
            break;
        }
        match b {
            // H and W: not coded, and the code before them carries on.
            b'H' | b'W' => {}
            _ => {
                let c = code(b);
                if c != 0 && c != last {
                    out[len] = c;
                    len += 1;
                }
                // A vowel (code 0) resets `last`, so that equal codes either side of it count twice.
                last = c;
            }
        }
    }
    Some(out)
}

/// The Soundex digit of an upper-case ASCII letter (`0` for vowels and anything uncoded).
fn code(b: u8) -> u8 {
    match b {
        b'B' | b'F' | b'P' | b'V' => b'1',
        b'C' | b'G' | b'J' | b'K' | b'Q' | b'S' | b'X' | b'Z' => b'2',
        b'D' | b'T' => b'3',
        b'L' => b'4',
        b'M' | b'N' => b'5',
        b'R' => b'6',
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sx(name: &str) -> String {
        String::from_utf8(soundex(name).unwrap().to_vec()).unwrap()
    }

    #[test]
    fn known_codes() {
        for (name, want) in [
            ("ROBERT", "R163"),
            ("RUPERT", "R163"),
            ("RUBIN", "R150"),
            ("ASHCRAFT", "A261"),
            ("ASHCROFT", "A261"),
            ("TYMCZAK", "T522"),
            ("PFISTER", "P236"),
            ("HONEYMAN", "H555"),
            ("LEE", "L000"),
            ("A", "A000"),
            ("WASHINGTON", "W252"),
            ("GUTIERREZ", "G362"),
            ("JACKSON", "J250"),
            ("SMITH", "S530"),
            ("SMYTHE", "S530"),
        ] {
            assert_eq!(sx(name), want, "{name}");
        }
    }

    #[test]
    fn skips_what_it_cannot_code() {
        assert_eq!(soundex(""), None);
        assert_eq!(soundex("1234"), None);
        assert_eq!(soundex("ИВАНОВ"), None);
        assert_eq!(sx("O2NEIL"), "O540");
        assert_eq!(sx("smith"), "S530");
    }
}
