//! Names and address lines: the normal form that is hashed.

/// Upper-cases and folds punctuation and spaces, so that `O'Neil-Smith`, `O NEIL  SMITH` and
/// `o'neil smith` agree.
///
/// Apostrophes and full stops vanish; every other run of non-alphanumeric characters becomes
/// one space; the result is trimmed.
///
/// ```
/// use tellonce_schemas::identifiers::names::fold;
/// assert_eq!(fold(" O'Neil-smith. "), "ONEIL SMITH");
/// ```
pub fn fold(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    fold_into(raw, &mut out);
    out
}

/// [`fold`], appending to `out` (which the caller clears and reuses, to spare an allocation).
pub fn fold_into(raw: &str, out: &mut String) {
    if raw.is_ascii() {
        // The common case, byte by byte: the same rules without Unicode case mapping.
        let mut pending_space = false;
        for b in raw.bytes() {
            if b.is_ascii_alphanumeric() {
                if pending_space && !out.is_empty() {
                    out.push(' ');
                }
                pending_space = false;
                out.push(char::from(b.to_ascii_uppercase()));
            } else if b != b'\'' && b != b'.' {
                pending_space = true;
            }
        }
        return;
    }
    let mut pending_space = false;
    for c in raw.chars() {
        if c.is_alphanumeric() {
            if pending_space && !out.is_empty() {
                out.push(' ');
            }
            pending_space = false;
            out.extend(c.to_uppercase());
        } else if c == '\'' || c == '’' || c == '.' {
            // Dropped outright: "O'Neil" and "ONeil" are the same surname.
        } else {
            pending_space = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn punctuation_and_spacing_fold_to_one_form() {
        assert_eq!(fold("o'neil   smith"), fold("O’NEIL-SMITH"));
        assert_eq!(fold("  12, Acacia Avenue "), "12 ACACIA AVENUE");
        assert_eq!(fold("--"), "");
        assert_eq!(fold("zoë"), "ZOË");
    }
}
