//! `isa explain`: what happens to a feed's fields on a given day, in plain words for a
//! governance lead, with the agreement, clause and condition behind each decision and the
//! output columns each field ends up in.

use std::fmt::Write as _;

use tellonce_schemas::column::{Column, Sensitivity};
use tellonce_schemas::feed::{self, FeedSchema};
use tellonce_schemas::identifiers::dates;

use super::error::AgreementError;
use super::model::Agreement;
use super::standing::{AgreementSet, Standing};
use super::terms::schema_with;
use super::words::{dataset, output_columns, plain};

/// Explains what happens to `feed` (or only its `field`) on day `on` under the agreements of
/// `set`: which agreement governs it, on what basis, and for each column of the feed's latest
/// schema what is kept, under which clause and condition, and where it ends up.
///
/// An unknown feed or field is an error, not an explanation: a typo must not read as "dropped".
pub fn explain(set: &AgreementSet, feed: &str, field: Option<&str>, on: i32) -> Result<String, AgreementError> {
    let latest = feed::latest(feed).ok_or_else(|| AgreementError::unknown_feed(feed))?;
    let columns: Vec<(&'static FeedSchema, &'static Column)> = match field {
        None => latest.columns.iter().map(|c| (latest, c)).collect(),
        Some(name) => {
            let found = schema_with(feed, name);
            vec![found.ok_or_else(|| AgreementError::UnknownField { feed: feed.to_owned(), field: name.to_owned() })?]
        }
    };
    let mut out = String::new();
    let day = dates::format(on);
    let standing = set.standing(feed, on);
    let Some(agreement) = standing.in_force() else {
        not_in_force(&mut out, feed, &day, &standing, field);
        return Ok(out);
    };
    let _ = writeln!(out, "Feed `{feed}` ({}), on {day}", latest.partner);
    header(&mut out, agreement, feed, &standing);
    match field {
        None => {
            let _ = writeln!(out, "\nFields of schema version {} ({} columns):", latest.version, latest.columns.len());
        }
        Some(_) => {
            let _ = writeln!(out);
        }
    }
    for (schema, col) in columns {
        column(&mut out, agreement, feed, schema, col);
    }
    Ok(out)
}

fn not_in_force(out: &mut String, feed: &str, day: &str, standing: &Standing<'_>, field: Option<&str>) {
    let _ = writeln!(out, "Feed `{feed}`, on {day}: no agreement is in force.");
    let why = match standing {
        Standing::Expired(a) => {
            format!("The last agreement for it, {} \"{}\", ended on {}.", a.label(), a.title, dates::format(a.end))
        }
        Standing::NotYet(a) => {
            format!("The next agreement for it, {} \"{}\", starts on {}.", a.label(), a.title, dates::format(a.start))
        }
        Standing::Ambiguous(found) => {
            let labels: Vec<String> = found.iter().map(|a| a.label()).collect();
            format!(
                "{} all govern it on that day; overlapping agreements are not allowed, so none is applied.",
                labels.join(", ")
            )
        }
        Standing::None | Standing::InForce { .. } => "No agreement names this feed.".to_owned(),
    };
    let _ = writeln!(out, "  {why}");
    let _ = writeln!(out, "No data from the feed is processed: its inputs are refused until an agreement is in force.");
    if let Some(f) = field {
        let _ = writeln!(out, "Field `{f}`: not processed.");
    }
}

fn header(out: &mut String, a: &Agreement, feed: &str, standing: &Standing<'_>) {
    let _ = writeln!(out, "\nGoverned by {} version {}: {}", a.id, a.version, a.title);
    let _ = writeln!(out, "  File: {} (sha256 {})", a.file.display(), a.sha256);
    let _ = writeln!(
        out,
        "  In force from {} to {}; review due {}.",
        dates::format(a.start),
        dates::format(a.end),
        dates::format(a.review)
    );
    if matches!(standing, Standing::InForce { review_overdue: true, .. }) {
        let _ = writeln!(out, "  The review is overdue: data still flows, but the parties must review the agreement.");
    }
    let parties: Vec<String> = a.parties.iter().map(|p| format!("{} ({})", p.name, p.role.as_str())).collect();
    let _ = writeln!(out, "  Parties: {}", parties.join("; "));
    if a.signatories.is_empty() {
        let _ = writeln!(out, "  Signed: not yet signed");
    } else {
        let signed: Vec<String> = a
            .signatories
            .iter()
            .map(|s| format!("{} for {} on {}", s.role, s.party, dates::format(s.signed)))
            .collect();
        let _ = writeln!(out, "  Signed: {}", signed.join("; "));
    }
    let _ = writeln!(out, "  Purposes: {}", a.purposes.join("; "));
    let _ = writeln!(out, "  Legal gateways: {}", a.legal_gateways.join("; "));
    let _ = writeln!(out, "  DPIA: {}", a.dpia);
    let _ = writeln!(out, "  Recipients: {}", a.recipients.join("; "));
    let _ = writeln!(out, "  Article 6 basis: {}", a.article6);
    if let Some(c) = &a.article9 {
        let _ = writeln!(out, "  Article 9 condition (special category data): {c}");
    }
    if let Some(c) = &a.article10 {
        let _ = writeln!(out, "  Article 10 condition (criminal offence data): {c}");
    }
    let basis = a.retention_basis.as_deref().map(|b| format!(" ({b})")).unwrap_or_default();
    let _ = writeln!(
        out,
        "  Retention: outputs are kept {} months from the day they are written{basis}, then deleted.",
        a.retention_months
    );
    let erasure = if a.erasure { "applies" } else { "does not apply (public task or legal obligation)" };
    let contact = a.contact.as_deref().map(|c| format!("; rights requests to {c}")).unwrap_or_default();
    let _ = writeln!(out, "  Right to erasure: {erasure}{contact}.");
    let _ = writeln!(out, "  Output: {}, every row tagged `_agreement = {}`.", dataset(feed), a.label());
}

fn column(out: &mut String, a: &Agreement, feed: &str, schema: &'static FeedSchema, col: &Column) {
    let terms = a.field(feed, col.name);
    let t = terms.map(|f| f.treatment.clone()).unwrap_or_default();
    let _ = writeln!(out, "  {}: {}, {} data", col.name, col.role.as_str(), col.sensitivity.as_str());
    let Some(terms) = terms else {
        let _ = writeln!(out, "    Dropped because the agreement does not name it: nothing of it is written.");
        return;
    };
    let note = terms.note.as_deref().map(|n| format!("    Note: {n}\n")).unwrap_or_default();
    if t.is_drop() {
        let by = terms.clause.as_deref().unwrap_or("the agreement");
        let _ = write!(out, "    Dropped by {by}: nothing of it is written.\n{note}");
        return;
    }
    let clause = terms.clause.as_deref().map(|c| format!(", under {c}")).unwrap_or_default();
    let _ = write!(out, "    {}{clause}.\n{note}", capitalise(&plain(&t)));
    let condition = match col.sensitivity {
        Sensitivity::Personal => Some(String::new()),
        Sensitivity::SpecialCategory => {
            a.article9.as_ref().map(|c| format!(" and the Article 9 condition, Schedule 1 {}", c.schedule1))
        }
        Sensitivity::CriminalOffence => {
            a.article10.as_ref().map(|c| format!(" and the Article 10 condition, Schedule 1 {}", c.schedule1))
        }
    };
    match condition {
        Some(condition) => {
            let _ = writeln!(out, "    Basis: Article 6 ({}){condition}.", a.article6);
        }
        // Unreachable for a linted agreement; said plainly rather than hidden.
        None => {
            let _ = writeln!(out, "    Basis: no condition covers this {} data.", col.sensitivity.as_str());
        }
    }
    let cols = output_columns(schema, col, |c| a.treatment(feed, c.name));
    let noun = if cols.own.len() == 1 { "column" } else { "columns" };
    let _ = writeln!(out, "    Ends up in {} {noun} {}.", dataset(feed), cols.own.join(", "));
    if !cols.linkage.is_empty() {
        let _ = writeln!(
            out,
            "    With other fields, in the linkage columns {} (keyed; read only by the linkage build).",
            cols.linkage.join(", ")
        );
    }
}

/// `text` with its first letter in upper case, to start a sentence.
fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map(|first| first.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agreement::load::load_dir;
    use crate::agreement::tests::{BASE, day, edit, lint_one};

    fn examples() -> AgreementSet {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../pipeline/agreements");
        load_dir(&dir, day("2026-11-23")).unwrap().into_set()
    }

    #[test]
    fn explains_every_field_of_a_governed_feed() {
        let text = explain(&examples(), "police", None, day("2026-11-23")).unwrap();
        println!("{text}");
        assert!(text.contains("Governed by ISA-POL-2025 version 1"), "{text}");
        assert!(text.contains("In force from 2025-04-01 to 2030-03-31; review due 2027-03-31."));
        assert!(text.contains("Article 10 condition (criminal offence data): Art 10 UK GDPR"));
        assert!(text.contains(
            "  date_of_birth: quasi-identifier, personal data\n    Pseudonymised to a keyed token and generalised to \
             year and month only, under Schedule 2 item 6.\n    Basis: Article 6 (6(1)(e) public task).\n"
        ));
        assert!(text.contains("Ends up in staging/feed=police/ columns date_of_birth_month, date_of_birth_token."));
        assert!(
            text.contains("  incident_type: event attribute, criminal offence (Art. 10) data\n    Passes as it is")
        );
        assert!(text.contains(
            "Basis: Article 6 (6(1)(e) public task) and the Article 10 condition, Schedule 1 Part 2 para 18 \
             safeguarding"
        ));
        assert!(text.contains("small_area, district, imd_decile"));
    }

    #[test]
    fn explains_one_field_and_a_dropped_one() {
        let set = examples();
        let on = day("2026-11-23");
        let text = explain(&set, "health_visiting", Some("contact_mode"), on).unwrap();
        println!("{text}");
        assert!(
            text.contains("Dropped by the agreement: nothing of it is written.\n    Note: how the contact"),
            "{text}"
        );
        assert!(!text.contains("Fields of schema version"));

        let loaded = lint_one(BASE);
        let set = loaded.into_set();
        let text = explain(&set, "police", Some("surname"), on).unwrap();
        assert!(text.contains("Dropped because the agreement does not name it"), "{text}");
    }

    #[test]
    fn says_no_data_is_processed_without_an_agreement_in_force() {
        let set = examples();
        let text = explain(&set, "police", Some("forename"), day("2030-04-01")).unwrap();
        println!("{text}");
        assert!(text.contains("no agreement is in force"), "{text}");
        assert!(text.contains("ISA-POL-2025@1"));
        assert!(text.contains("ended on 2030-03-31"));
        assert!(text.contains("No data from the feed is processed"));
        let early = explain(&set, "camhs", None, day("2025-01-01")).unwrap();
        assert!(early.contains("starts on 2025-04-01"), "{early}");
        let none = explain(&AgreementSet::default(), "camhs", None, day("2025-01-01")).unwrap();
        assert!(none.contains("No agreement names this feed."), "{none}");
        let overdue = lint_one(&edit(BASE, "review = 2027-03-31", "review = 2026-03-31")).into_set();
        let text = explain(&overdue, "police", Some("record_id"), day("2026-11-23")).unwrap();
        assert!(text.contains("The review is overdue"), "{text}");
    }

    #[test]
    fn unknown_feeds_and_fields_are_errors() {
        let set = examples();
        let on = day("2026-11-23");
        let err = explain(&set, "social_care", None, on).unwrap_err();
        assert!(matches!(err, AgreementError::UnknownFeed { .. }), "{err}");
        assert!(err.to_string().contains("health_visiting"), "{err}");
        let err = explain(&set, "police", Some("nhs_number"), on).unwrap_err();
        assert!(matches!(err, AgreementError::UnknownField { .. }), "{err}");
    }
}
