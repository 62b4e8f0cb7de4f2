//! Which names found in a partner's file may be printed: the one rule for every message.
//!
//! A column name the schema does not know is reported so that the sender can fix the extract,
//! but such a name is whatever the file holds in its header (or as a JSON key), and a header
//! glued to the first record (a missing newline, a common export fault) turns that record's
//! clear values into "column names". So a name is printed only if it looks like a column name
//! and nothing like a value, and the names of one header are judged together: if any of them
//! looks like data, the header may hold a record, and none of them is printed. Withheld names
//! are only counted.

use crate::identifiers::postcode;

/// Longest name printed, in bytes.
const MAX_PRINTABLE_LEN: usize = 40;

/// Whether `name` alone looks like a column name and not like a value: 1 to 40 ASCII letters,
/// digits and underscores, starting with a letter or underscore, with no run of three or more
/// digits (a date, a year, an NHS number, a UPRN, a UPN) and not a postcode written without its
/// space. A name with a space, a hyphen, a slash, a dot or a non-ASCII letter is never printed
/// (a full name, a date, a PNC ID, a reference).
///
/// ```
/// use tellonce_schemas::printable::is_printable_column_name;
/// assert!(is_printable_column_name("legacy_flag"));
/// assert!(!is_printable_column_name("Jane Smith"));
/// assert!(!is_printable_column_name("2015-06-30"));
/// assert!(!is_printable_column_name("RH101AB"));
/// ```
pub fn is_printable_column_name(name: &str) -> bool {
    let b = name.as_bytes();
    let longest_digit_run = b.split(|c| !c.is_ascii_digit()).map(<[u8]>::len).max().unwrap_or(0);
    (1..=MAX_PRINTABLE_LEN).contains(&b.len())
        && (b[0].is_ascii_alphabetic() || b[0] == b'_')
        && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'_')
        && longest_digit_run < 3
        && postcode::normalise(name).is_err()
}

/// The names of one header (or one file's JSON keys) that may be printed, and how many are
/// withheld. If any name is not printable ([`is_printable_column_name`]), the header may hold
/// a record's values, so every name is withheld: a forename or a surname is a plain word that
/// no rule on one name can tell from a column name.
///
/// ```
/// use tellonce_schemas::printable::printable_column_names;
/// assert_eq!(printable_column_names(&["notes", "legacy_flag"]), (vec!["notes", "legacy_flag"], 0));
/// assert_eq!(printable_column_names(&["notes", "Ann", "2015-06-30"]), (vec![], 3));
/// ```
pub fn printable_column_names<S: AsRef<str>>(names: &[S]) -> (Vec<&str>, usize) {
    if names.iter().all(|n| is_printable_column_name(n.as_ref())) {
        (names.iter().map(AsRef::as_ref).collect(), 0)
    } else {
        (Vec::new(), names.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_never_printable() {
        for value in [
            "9434765919",
            "943 476 5919",
            "2015-06-30",
            "20150630",
            "30/06/2015",
            "RH10 1AB",
            "RH101AB",
            "rh101ab",
            "BN11AB",
            "B801200005001",
            "2012/0052834K",
            "Jane Smith",
            "O'Brien",
            "Zoë",
            "OCC-P1",
            "100023336956",
            "dob_2011_02_03",
            "note2024",
            "",
            &"a".repeat(41),
        ] {
            assert!(!is_printable_column_name(value), "{value:?}");
        }
    }

    #[test]
    fn ordinary_column_names_are_printable() {
        for name in ["notes", "Legacy_Flag", "extra_col", "address_line_2", "q1_score", "_id", "phone2"] {
            assert!(is_printable_column_name(name), "{name}");
        }
    }

    #[test]
    fn one_data_like_name_withholds_the_whole_header() {
        let glued = ["sexE1", "Zebedee", "Quixote", "2015-06-30", "9434765919", "RH10 1AB", "M"];
        assert_eq!(printable_column_names(&glued), (vec![], glued.len()));
        let fine = vec!["notes".to_owned(), "extra".to_owned()];
        assert_eq!(printable_column_names(&fine), (vec!["notes", "extra"], 0));
        assert_eq!(printable_column_names::<&str>(&[]), (vec![], 0));
    }
}
