//! How a workbook's sheets are named in what tellonce writes: messages, warnings, quarantine
//! entries, the audit log, a proposed mapping.
//!
//! A sheet's name is the partner's to choose, and some keep a sheet per child named after the
//! child ("Amelia Hughes", "9434765919"). So a sheet is named by its name only where that cannot
//! be a person's name or an identifier; otherwise by its place in the workbook, `#3` for the third
//! sheet (hidden sheets counted), which `sheet = "#3"` in a source or mapping names as well.

use crate::infer::headings::identifier_shaped;
use crate::infer::withhold::name_shaped;

/// How the sheet named `name`, the `position`-th of its workbook (1-based), is written: its name
/// where [`shown`], else `#position`.
pub fn label(name: &str, position: usize) -> String {
    if shown(name) { name.to_owned() } else { format!("#{position}") }
}

/// Whether a sheet's name may be written: not shaped like a person's name (capitalised words of
/// letters, two or more, an initial among them: `Amelia S`, `Hughes, Amelia`), nor like an
/// identifier, a date or a postcode, nor read as a place (`#2`), and printable. Most sheet names
/// (`Sheet1`, `Data`, `Cases 2024-25`, `HV_DATA`) are shown; two capitalised words (`Case
/// Notes`) are withheld with the names they look like.
pub fn shown(name: &str) -> bool {
    let trimmed = name.trim();
    let words = trimmed.split_whitespace().count();
    let without_initials: Vec<&str> = trimmed
        .split_whitespace()
        .filter(|w| !(w.trim_end_matches('.').chars().count() == 1 && w.chars().next().is_some_and(char::is_uppercase)))
        .collect();
    // One word alone (`Cases`, `Data`, `Referrals`) is how most sheets are named; a forename
    // alone names no one.
    let person = words >= 2 && !without_initials.is_empty() && name_shaped(&without_initials.join(" "));
    !trimmed.is_empty()
        && !person
        && !identifier_shaped(trimmed)
        && position_named(trimmed).is_none()
        && trimmed.chars().all(|c| !c.is_control())
}

/// The place (1-based) `wanted` names a sheet by (`#2`), if it does.
pub fn position_named(wanted: &str) -> Option<usize> {
    wanted.trim().strip_prefix('#')?.parse::<usize>().ok().filter(|&n| n > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sheet_is_named_only_where_its_name_cannot_be_a_person_or_an_identifier() {
        for name in ["Sheet1", "Cases 2024-25", "HV_DATA", "Referrals (Apr)", "CONTACTS", "Read me first", "Data"] {
            assert_eq!(label(name, 2), name, "{name}");
        }
        for name in [
            "Amelia Hughes",
            "Hughes, Amelia",
            "Amelia S",
            "J. Smith",
            "Case Notes",
            "9434765919",
            "RH10 1AB",
            "03/04/2015",
            "#1",
            "",
        ] {
            assert_eq!(label(name, 3), "#3", "{name}");
        }
        assert_eq!(position_named(" #12 "), Some(12));
        assert_eq!(position_named("#0"), None);
        assert_eq!(position_named("Sheet1"), None);
    }
}
