//! Salt-free tokens that tell two names one slip apart: each name in match form is tokenised
//! as it is and then with each of its letters dropped in turn, in order (its *deletion
//! neighbourhood*, kept by position). From the tokens of two names alone, [`one_edit`] tells
//! whether one becomes the other by one letter changed, added or dropped, or two neighbouring
//! letters swapped.
//!
//! The names' Bloom filters are salted by the year of birth, so that a record without one, or
//! with a year mistyped, cannot be compared by them with its other records; these tokens are
//! not salted, and are exposed to frequency analysis as the name's own token already is.
//!
//! ```
//! use tellonce_schemas::name_edits::{neighbourhood, one_edit};
//! let of = |name: &str| {
//!     let mut out = Vec::new();
//!     neighbourhood(name, &mut out);
//!     out
//! };
//! assert!(one_edit(&of("JACK"), &of("JAKC")) && one_edit(&of("ANN"), &of("ANNE")));
//! assert!(!one_edit(&of("MIA"), &of("MAX")) && !one_edit(&of("OLIVER"), &of("OLIVIA")));
//! ```

/// The HMAC domain of the tokens, for forenames and surnames alike.
pub const DOMAIN: &str = "name_edit";

/// The HMAC domain of a date of birth's tokens (`YYYYMMDD` and it with each digit dropped): a
/// date one digit apart from another, or with two neighbouring digits swapped, is one edit
/// apart by [`one_edit`], as a name is.
pub const DATE_DOMAIN: &str = "dob_edit";

/// Names shorter than this have no tokens: one edit from a name of two letters is too many
/// other names.
pub const MIN_LETTERS: usize = 3;

/// Writes the preimages of `name`'s tokens into `out` (cleared first): the name, then the name
/// without its first letter, without its second, and so on to the last, repeats kept (their
/// positions matter). None for a name under [`MIN_LETTERS`].
pub fn neighbourhood(name: &str, out: &mut Vec<Vec<u8>>) {
    out.clear();
    if name.chars().count() < MIN_LETTERS {
        return;
    }
    out.push(name.as_bytes().to_vec());
    for (at, ch) in name.char_indices() {
        let mut v = Vec::with_capacity(name.len());
        v.extend_from_slice(&name.as_bytes()[..at]);
        v.extend_from_slice(&name.as_bytes()[at + ch.len_utf8()..]);
        out.push(v);
    }
}

/// Whether two names, given by their tokens in [`neighbourhood`] order, are one edit apart: a
/// letter changed (both without it at one position agree), added or dropped (the shorter is the
/// longer without one letter), or two neighbours swapped (both without either of the two agree
/// crosswise). False for the same name, and where either has no tokens.
pub fn one_edit<T: PartialEq>(a: &[T], b: &[T]) -> bool {
    let (Some((fa, da)), Some((fb, db))) = (a.split_first(), b.split_first()) else {
        return false;
    };
    if fa == fb {
        return false;
    }
    match da.len().abs_diff(db.len()) {
        0 => {
            da.iter().zip(db).any(|(x, y)| x == y)
                || (0..da.len().saturating_sub(1)).any(|i| da[i] == db[i + 1] && da[i + 1] == db[i])
        }
        1 if da.len() > db.len() => da.contains(fb),
        1 => db.contains(fa),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(name: &str) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        neighbourhood(name, &mut out);
        out
    }

    #[test]
    fn names_one_edit_apart_are_told_and_names_further_apart_are_not() {
        let near = [
            ("FLORENCE", "FLOENCE"),
            ("OLIVER", "OLIVRE"),
            ("KELLY", "KELLR"),
            ("LEO", "LEON"),
            ("ZOE", "CZOE"),
            ("JACK", "JAKC"),
            ("ANNA", "ANA"),
        ];
        for (a, b) in near {
            assert!(one_edit(&of(a), &of(b)) && one_edit(&of(b), &of(a)), "{a} {b}");
        }
        let far = [
            ("OLIVER", "OLIVIA"),
            ("JACK", "JAMES"),
            ("HARRY", "HARVEY"),
            ("MIA", "MAX"),
            ("MIA", "AMI"),
            ("ANNA", "ANNA"),
        ];
        for (a, b) in far {
            assert!(!one_edit(&of(a), &of(b)) && !one_edit(&of(b), &of(a)), "{a} {b}");
        }
    }

    #[test]
    fn short_names_have_no_tokens_and_letters_not_bytes_are_dropped() {
        assert!(of("JO").is_empty());
        assert!(!one_edit(&of("JO"), &of("JOE")));
        assert_eq!(of("ANNA").len(), 5, "ANNA, NNA, ANA, ANA, ANN");
        assert_eq!(of("ÉLO").len(), 4);
        assert!(one_edit(&of("ÉLO"), &of("ÉLA")));
    }
}
