//! How a workbook's sheets are named in what tellonce writes: messages, warnings, quarantine
//! entries, the audit log, a proposed mapping.
//!
//! A sheet's name is the partner's to choose, and some keep a sheet per child named after the
//! child ("Amelia Hughes", "HUGHES, Amelia (CP)", "9434765919"). No rule on a name alone tells a
//! person's name from two words of a title, so a sheet is named by its name only where that
//! cannot be a person's name or an identifier: one word, or words that never stand two together
//! (`Sheet1`, `Data`, `Cases 2024-25`, `Term 1 data`). Otherwise it is named by its place in the
//! workbook, `#3` for the third sheet (hidden sheets counted), which `sheet = "#3"` in a source or
//! mapping names as well.

use crate::infer::headings::identifier_shaped;

/// How the sheet named `name`, the `position`-th of its workbook (1-based), is written: its name
/// where [`shown`], else `#position`.
pub fn label(name: &str, position: usize) -> String {
    if shown(name) { name.to_owned() } else { format!("#{position}") }
}

/// How a sheet named in a source or mapping is written where the workbook has none of that name:
/// quoted where [`shown`], else described (the operator may have copied a child's name in).
pub fn configured(name: &str) -> String {
    if shown(name) || position_named(name).is_some() {
        format!("{name:?}")
    } else {
        "named in the source or mapping (its name is not written: it may be a person's)".to_owned()
    }
}

/// Whether a sheet's name may be written: printable, with nothing invisible in it, not read as a
/// place (`#2`), with no part shaped like an identifier, a date or a postcode, and no two words of
/// letters side by side (words split at anything but a letter or digit): a forename and a surname,
/// in any case or order, are two such words, and so is `Amelia S`.
pub fn shown(name: &str) -> bool {
    let trimmed = name.trim();
    let printable = trimmed.chars().all(|c| !c.is_control() && !tellonce_schemas::check::invisible(c));
    let words: Vec<&str> = trimmed.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).collect();
    let two_words = words.windows(2).any(|w| w.iter().all(|x| x.chars().all(char::is_alphabetic)));
    !trimmed.is_empty()
        && printable
        && position_named(trimmed).is_none()
        && !identifier_shaped(trimmed)
        && !trimmed.split_whitespace().any(identifier_shaped)
        && !two_words
}

/// The place (1-based) `wanted` names a sheet by (`#2`), if it does.
pub fn position_named(wanted: &str) -> Option<usize> {
    let digits = wanted.trim().strip_prefix('#')?;
    digits.bytes().all(|b| b.is_ascii_digit()).then(|| digits.parse::<usize>().ok()).flatten().filter(|&n| n > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sheet_is_named_only_where_its_name_cannot_be_a_person_or_an_identifier() {
        for name in ["Sheet1", "Cases 2024-25", "Data", "CONTACTS", "Term 1 data", "Q1 2024"] {
            assert_eq!(label(name, 2), name, "{name}");
        }
        let withheld = [
            "Amelia Hughes",
            "Hughes, Amelia",
            "HUGHES, Amelia",
            "amelia hughes",
            "Hughes,Amelia",
            "Amelia S",
            "J. Smith",
            "Amelia Hughes 03/04/2015",
            "Amelia Hughes - CIN",
            "Case Notes",
            "HV_DATA",
            "9434765919",
            "RH10 1AB",
            "03/04/2015",
            "Ann\u{200b}",
            "#1",
            "",
        ];
        for name in withheld {
            assert_eq!(label(name, 3), "#3", "{name}");
        }
        assert_eq!(position_named(" #12 "), Some(12));
        assert_eq!(position_named("#0"), None);
        assert_eq!(position_named("#+2"), None);
        assert_eq!(position_named("Sheet1"), None);
        assert_eq!(configured("Casework"), "\"Casework\"");
        assert!(!configured("Amelia Hughes").contains("Amelia"));
    }
}
