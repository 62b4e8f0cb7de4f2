//! How much a partner's heading looks like a feed column's name: the headings partners use for
//! the standard person columns, then the words the two share.

use crate::mapping::fold_heading;

/// Headings partners write for the standard columns (folded: lower case, letters and digits).
const KNOWN: &[(&str, &[&str])] = &[
    (
        "record_id",
        &[
            "id",
            "recordid",
            "recordref",
            "ref",
            "reference",
            "referenceno",
            "referencenumber",
            "caseref",
            "casereference",
            "caseno",
            "casenumber",
            "caseid",
            "uniqueid",
            "rowid",
            "clientref",
            "clientid",
            "episodeid",
            "episoderef",
            "referralid",
            "referralref",
            "patientref",
            "patientno",
            "personref",
            "childref",
            "serviceuserref",
            "clientno",
            "recordno",
            "recordnumber",
            "urn",
            "personurn",
            "clienturn",
            "caseurn",
            "personid",
            "personno",
            "childid",
            "pupilid",
            "pupilref",
            "studentid",
            "yjsid",
            "yjsref",
            "yotid",
            "yotref",
            "accountref",
            "accountno",
            "accountnumber",
            "tenancyref",
            "applicationref",
            "applicationid",
        ],
    ),
    ("nhs_number", &["nhs", "nhsno", "nhsnum", "nhsnumber", "nhsid", "newnhsno", "nhsnumbers"]),
    ("forename", &["firstname", "forename", "forenames", "givenname", "givennames", "fname", "first", "christianname"]),
    ("surname", &["lastname", "surname", "familyname", "sname", "lname", "last"]),
    ("date_of_birth", &["dob", "dateofbirth", "birthdate", "datebirth", "birthdt", "dobdate", "born"]),
    ("sex", &["gender", "sex", "gendercode", "sexcode", "genderidentity"]),
    (
        "ethnicity",
        &[
            "ethnicity",
            "ethnicgroup",
            "ethnicorigin",
            "ethnicitycode",
            "ethnic",
            "ethniccategory",
            "ethnicitydescription",
        ],
    ),
    (
        "address_line_1",
        &[
            "address",
            "address1",
            "addressline1",
            "addr1",
            "add1",
            "addressline",
            "street",
            "firstlineofaddress",
            "houseandstreet",
            "addressfirstline",
            "line1",
        ],
    ),
    ("postcode", &["postcode", "postalcode", "pcode", "postcodes", "zip", "zipcode"]),
    ("uprn", &["uprn", "propertyref", "propertyreference", "uniquepropertyreferencenumber"]),
    ("upn", &["upn", "pupilno", "pupilnumber", "uniquepupilnumber"]),
    ("pnc_id", &["pnc", "pncid", "pncno", "pncnumber", "pncref"]),
    (
        "household_ref",
        &["householdref", "householdid", "householdno", "familyref", "familyid", "familyno", "hhref", "hhid"],
    ),
    ("role_in_household", &["role", "householdrole", "roleinhousehold", "relationship", "relationshiptohead"]),
    // The police feed's own columns, as forces' systems head them (Niche, Athena: an occurrence,
    // and a person's involvement in it).
    ("incident_type", &["occtype", "occurrencetype", "incidenttype", "occurrencecategory", "incidentcategory"]),
    ("person_role", &["involvement", "involvementtype", "personrole", "involvementrole", "personinvolvement"]),
];

/// `heading` without an item number in front (`1. `, `2) `, `(3) `, `Q4: `) and without a unit
/// in brackets at its end (`(dd/mm/yyyy)`, `[n]`, `(£)`, `(y/n)`): what names the column. A
/// bracket is a unit only in lower case without digits, or as a date's pattern, so a name, a
/// date or a number in brackets stays.
pub(crate) fn heading_core(heading: &str) -> &str {
    let mut core = heading.trim();
    if let Some(rest) = after_item_number(core).filter(|r| r.chars().next().is_some_and(char::is_alphabetic)) {
        core = rest;
    }
    if let Some(open) = core.rfind(['(', '['])
        && core.ends_with([')', ']'])
        && open > 0
    {
        let unit = &core[open + 1..core.len() - 1];
        let date_pattern = !unit.is_empty() && unit.chars().all(|c| "dmyDMY/-. ".contains(c));
        // No digits: a date, a telephone or an NHS number in brackets is a value, not a unit.
        let lower = unit.chars().all(|c| c.is_ascii_lowercase() || "/%£$., ".contains(c));
        if unit.len() <= 12 && (date_pattern || lower) {
            core = core[..open].trim_end();
        }
    }
    core
}

/// What follows an item number in front of `heading` (`1. `, `2) `, `(3) `, `Q4: `, `5 - `).
fn after_item_number(heading: &str) -> Option<&str> {
    let s = heading.strip_prefix(['Q', 'q']).unwrap_or(heading);
    let s = s.strip_prefix('(').unwrap_or(s);
    let digits = s.bytes().take_while(u8::is_ascii_digit).count();
    let rest = &s[digits..];
    let rest = rest.strip_prefix(['.', ')', ':']).or_else(|| rest.trim_start().strip_prefix(['-', ':']))?;
    ((1..=3).contains(&digits) && rest.starts_with(' ')).then(|| rest.trim_start())
}

/// Words that say nothing on their own.
const STOP: &[&str] = &["of", "the", "in", "a", "an", "to", "for", "and", "or", "at", "on", "by"];

/// A heading's (or a column name's) words: split at anything that is not a letter or digit and at
/// a lower-to-upper case change, lower-cased, common abbreviations written out, and a plural or
/// `-ed`/`-ing` ending cut, so that "Date Approached" and `approach_date` share both words.
pub(super) fn words(name: &str) -> Vec<String> {
    let mut raw: Vec<String> = Vec::new();
    let mut cur = String::new();
    let mut prev_lower = false;
    for c in name.chars() {
        if !c.is_alphanumeric() {
            if !cur.is_empty() {
                raw.push(std::mem::take(&mut cur));
            }
            prev_lower = false;
            continue;
        }
        if c.is_uppercase() && prev_lower && !cur.is_empty() {
            raw.push(std::mem::take(&mut cur));
        }
        prev_lower = c.is_lowercase() || c.is_ascii_digit();
        cur.extend(c.to_lowercase());
    }
    if !cur.is_empty() {
        raw.push(cur);
    }
    let mut out = Vec::new();
    for w in raw {
        let expanded: &[&str] = match w.as_str() {
            "dob" => &["date", "birth"],
            "no" | "num" | "nbr" | "nos" => &["number"],
            "ref" | "refs" => &["reference"],
            "dt" => &["date"],
            "addr" | "add" => &["address"],
            "qty" => &["number"],
            "amt" => &["amount"],
            "hrs" => &["hour"],
            "eh" => &["early", "help"],
            "cin" => &["child", "need"],
            "cp" | "cpp" => &["child", "protection"],
            "lac" | "cla" => &["looked", "after"],
            "ehcp" => &["ehc", "plan"],
            "ta" => &["temporary", "accommodation"],
            "yjs" | "yot" => &["youth", "justice"],
            "pct" | "percent" | "percentage" => &["percent"],
            _ => &[],
        };
        if expanded.is_empty() {
            if !STOP.contains(&w.as_str()) {
                out.push(stem(&w));
            }
        } else {
            out.extend(expanded.iter().map(|s| (*s).to_owned()));
        }
    }
    out
}

fn stem(w: &str) -> String {
    for suffix in ["ing", "ed", "es", "s"] {
        if w.len() > suffix.len() + 3
            && let Some(s) = w.strip_suffix(suffix)
        {
            return s.to_owned();
        }
    }
    w.to_owned()
}

/// Why a heading was matched to a column by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameMatch {
    /// The column's own name (ignoring case, spaces and punctuation).
    Same,
    /// A heading partners use for this standard column.
    Known,
    /// Words in common.
    Words,
    /// The heading's words are in the column's description.
    Description,
    /// No likeness of names.
    None,
}

/// How much `heading` looks like `column` (0 to 1), and why; `description` is the column's
/// sentence in the data dictionary, whose words count for less than the name's.
pub(super) fn name_score(heading: &str, column: &str, description: &str) -> (f64, NameMatch) {
    let heading = heading_core(heading);
    let folded = fold_heading(heading);
    if folded.is_empty() {
        return (0.0, NameMatch::None);
    }
    if folded == fold_heading(column) {
        return (1.0, NameMatch::Same);
    }
    if KNOWN.iter().any(|(c, names)| *c == column && names.contains(&folded.as_str())) {
        return (0.95, NameMatch::Known);
    }
    let (h, c) = (words(heading), words(column));
    if h.is_empty() || c.is_empty() {
        return (0.0, NameMatch::None);
    }
    let shared = h.iter().filter(|w| c.contains(w)).count();
    let dice = 0.85 * 2.0 * shared as f64 / (h.len() + c.len()) as f64;
    // Every word of the heading in the column's name or description: "Occurrence Type" for
    // `incident_type`, "the kind of occurrence".
    let about: Vec<String> = c.iter().cloned().chain(words(description)).collect();
    let described = 0.7 * h.iter().filter(|w| about.contains(w)).count() as f64 / h.len() as f64;
    let described = if described >= 0.7 { described } else { 0.0 };
    match (dice, described) {
        (d, e) if d == 0.0 && e == 0.0 => (0.0, NameMatch::None),
        (d, e) if e > d => (e, NameMatch::Description),
        (d, _) => (d, NameMatch::Words),
    }
}

/// Whether every word of `heading` (as [`words`] reads it: abbreviations written out, endings
/// cut, words like `of` left out) is a word of `column` or of its `description`: a heading in
/// our own words, which says nothing of a person whatever line it was read from.
pub(super) fn all_words_known(heading: &str, column: &str, description: &str) -> bool {
    let h = words(heading_core(heading));
    let ours: Vec<String> = words(column).into_iter().chain(words(description)).collect();
    !h.is_empty() && h.iter().all(|w| ours.contains(w))
}

#[cfg(test)]
mod tests {
    #[test]
    fn item_numbers_and_units_are_not_part_of_what_a_heading_names() {
        use super::heading_core;
        for (heading, core) in [
            ("1. Referral ID", "Referral ID"),
            ("12) Forename", "Forename"),
            ("(3) Surname", "Surname"),
            ("Q4: Postcode", "Postcode"),
            ("5 - Date of Birth", "Date of Birth"),
            ("Referral Received (dd/mm/yyyy)", "Referral Received"),
            ("DOB [DD/MM/YYYY]", "DOB"),
            ("Attended (n)", "Attended"),
            ("Arrears (£)", "Arrears"),
            // Not an item number, not a unit: left as they are.
            ("2021", "2021"),
            ("1.5 Hours", "1.5 Hours"),
            ("Contact (John Smith)", "Contact (John Smith)"),
            ("Ann Smith (12/03/2019)", "Ann Smith (12/03/2019)"),
            ("Smith (07700900123)", "Smith (07700900123)"),
            ("(n)", "(n)"),
        ] {
            assert_eq!(heading_core(heading), core, "{heading}");
        }
    }

    use super::*;

    #[test]
    fn words_split_case_and_punctuation_and_write_out_abbreviations() {
        assert_eq!(words("Date Approached"), ["date", "approach"]);
        assert_eq!(words("approach_date"), ["approach", "date"]);
        assert_eq!(words("DOB"), ["date", "birth"]);
        assert_eq!(words("NHSNumber"), ["nhsnumber"]);
        assert_eq!(words("nhsNo"), ["nhs", "number"]);
        assert_eq!(words("No. Children"), ["number", "children"]);
        assert_eq!(words("TA Start"), ["temporary", "accommodation", "start"]);
    }

    #[test]
    fn known_headings_beat_shared_words_and_unrelated_names_score_nothing() {
        assert_eq!(name_score("NHS Number", "nhs_number", ""), (1.0, NameMatch::Same));
        assert_eq!(name_score("1. NHS Number", "nhs_number", ""), (1.0, NameMatch::Same));
        assert_eq!(name_score("D.O.B. (dd/mm/yyyy)", "date_of_birth", ""), (0.95, NameMatch::Known));
        assert_eq!(name_score("D.O.B.", "date_of_birth", ""), (0.95, NameMatch::Known));
        assert_eq!(name_score("Post Code", "postcode", "").1, NameMatch::Same);
        assert_eq!(name_score("Gender", "sex", "").1, NameMatch::Known);
        let (s, why) = name_score("Date Approached", "approach_date", "");
        assert!(why == NameMatch::Words && s > 0.8, "{s}");
        let (s, _) = name_score("TA Start", "ta_start", "");
        assert!(s >= 0.95, "{s}");
        assert_eq!(name_score("CIN", "child_in_need", "").1, NameMatch::Words);
        assert_eq!(name_score("Officer", "duty_owed", "Duty owed").1, NameMatch::None);
        assert!(all_words_known("Date Approached", "approach_date", ""));
        assert!(!all_words_known("Legal Forename", "forename", "The child's forename."));
        assert!(!all_words_known("Attendance Peregrine", "attendance_pct", "Attendance, in per cent."));
        // A force's own word for an incident is a known heading of the police feed's column.
        assert_eq!(name_score("Occurrence Type", "incident_type", "Kind of occurrence."), (0.95, NameMatch::Known));
        let (s, why) = name_score("Occurrence Kind", "incident_type", "Kind of occurrence.");
        assert!(why == NameMatch::Description && (s - 0.7).abs() < 1e-9, "{s} {why:?}");
    }
}
