//! Fixtures shared by the agreement tests, the tests of every lint rule, and the check of the
//! example agreements shipped in `pipeline/agreements/`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use tellonce_schemas::identifiers::dates;

use super::load::{Loaded, check};
use super::model::{Agreement, FeedTerms, Party, PartyRole};

mod examples;
mod rules;

/// Days since 1970-01-01 of `YYYY-MM-DD`.
pub(crate) fn day(s: &str) -> i32 {
    dates::parse(s).unwrap()
}

/// An agreement built directly (no file), governing `feeds` with no fields named.
pub(crate) fn agreement(id: &str, version: u32, start: &str, review: &str, end: &str, feeds: &[&str]) -> Agreement {
    Agreement {
        id: id.to_owned(),
        version,
        title: format!("{id} test agreement"),
        file: PathBuf::from(format!("{id}-{version}.toml")),
        sha256: String::new(),
        purposes: vec!["Identify families who need Early Help".to_owned()],
        legal_gateways: vec!["Children Act 2004 s10".to_owned()],
        dpia: "DPIA-1".to_owned(),
        recipients: vec!["Hub analysts".to_owned()],
        start: day(start),
        review: day(review),
        end: day(end),
        retention_months: 72,
        retention_basis: None,
        erasure: false,
        contact: None,
        article6: "6(1)(e) public task".to_owned(),
        article9: None,
        article10: None,
        parties: vec![Party { name: "Sussex Police".to_owned(), role: PartyRole::Controller }],
        signatories: Vec::new(),
        feeds: feeds.iter().map(|f| ((*f).to_owned(), FeedTerms::default())).collect::<BTreeMap<_, _>>(),
    }
}

/// A complete, clean agreement for the police feed.
pub(crate) const BASE: &str = r#"id = "ISA-TEST"
version = 1
title = "Sussex Police to West Sussex County Council: test"
purposes = ["Identify families who need Early Help"]
legal_gateways = ["Children Act 2004 s10", "Crime and Disorder Act 1998 s115"]
dpia = "DPIA-2025-014"
recipients = ["WSCC Early Help hub analysts"]

[dates]
start = 2025-04-01
review = 2027-03-31
end = 2028-03-31

[retention]
months = 72
basis = "WSCC retention schedule 4.3"

[rights]
erasure = false
contact = "dpo@example.invalid"

[lawful_basis]
article6 = "6(1)(e) public task"
article10 = { condition = "Official authority", schedule1 = "Part 2 para 18", policy_document = "APD-1" }

[[parties]]
name = "Sussex Police"
role = "controller"

[[parties]]
name = "West Sussex County Council"
role = "controller"

[[signatories]]
party = "Sussex Police"
role = "Data Protection Officer"
signed = 2025-03-14

[feeds.police.fields]
record_id = { action = "pass", clause = "Schedule 2 item 1" }
forename = { action = "pseudonymise", clause = "Schedule 2 item 2" }
date_of_birth = { action = ["pseudonymise", "generalise"], generalise = "year_month", clause = "Schedule 2 item 3" }
postcode = { action = ["pseudonymise", "generalise"], generalise = ["outward", "area"], clause = "Schedule 2 item 4" }
incident_type = { action = "pass", clause = "Schedule 2 item 5" }
missing_risk = { action = "drop", note = "not needed for the purpose" }
"#;

/// The Article 10 line of [`BASE`], for tests that remove it.
pub(crate) const ARTICLE10_LINE: &str =
    "article10 = { condition = \"Official authority\", schedule1 = \"Part 2 para 18\", policy_document = \"APD-1\" }\n";

/// `text` with `from` replaced by `to`; panics if `from` is not there, so that a test cannot
/// pass by editing nothing.
pub(crate) fn edit(text: &str, from: &str, to: &str) -> String {
    assert!(text.contains(from), "fixture does not contain {from:?}");
    text.replacen(from, to, 1)
}

/// Lints named texts together, as if they were files of one directory.
pub(crate) fn lint(files: &[(&str, &str)], as_of: Option<i32>) -> Loaded {
    check(files.iter().map(|(name, text)| (Path::new(name).to_path_buf(), text.as_bytes().to_vec())).collect(), as_of)
}

/// Lints one text.
pub(crate) fn lint_one(text: &str) -> Loaded {
    lint(&[("isa.toml", text)], None)
}

/// The codes of the problems, in order.
pub(crate) fn codes(loaded: &Loaded) -> Vec<&'static str> {
    loaded.problems.iter().map(|p| p.code()).collect()
}
