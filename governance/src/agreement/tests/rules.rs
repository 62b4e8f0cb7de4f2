//! One test per lint rule: each breaks the rule in an otherwise clean agreement and checks the
//! code, the position and that nothing else is reported.

use super::*;
use crate::agreement::{Lint, Position, Severity};

/// The single problem of `text`, which must break exactly one rule once.
fn only(text: &str) -> crate::agreement::Problem {
    let loaded = lint_one(text);
    assert_eq!(loaded.problems.len(), 1, "{:#?}", loaded.problems);
    loaded.problems[0].clone()
}

/// The 1-based line of the first line of `text` that contains `needle`.
fn line_of(text: &str, needle: &str) -> u32 {
    let i = text.lines().position(|l| l.contains(needle)).unwrap_or_else(|| panic!("no line with {needle:?}"));
    u32::try_from(i + 1).unwrap()
}

#[test]
fn the_base_fixture_is_clean_and_loads() {
    let loaded = lint_one(BASE);
    assert!(loaded.problems.is_empty(), "{:#?}", loaded.problems);
    let a = &loaded.agreements[0];
    assert_eq!(a.label(), "ISA-TEST@1");
    assert_eq!(a.sha256.len(), 64);
    assert_eq!(a.retention_months, 72);
    assert_eq!(a.article10.as_ref().map(|c| c.schedule1.as_str()), Some("Part 2 para 18"));
    let dob = a.field("police", "date_of_birth").unwrap();
    assert_eq!(dob.line, line_of(BASE, "date_of_birth ="));
    assert_eq!(crate::agreement::treatment_label(&dob.treatment), "token+year_month");
    assert!(a.treatment("police", "missing_risk").is_drop());
    assert!(a.treatment("police", "surname").is_drop(), "unnamed fields are dropped");
    assert!(a.treatment("camhs", "record_id").is_drop(), "ungoverned feeds keep nothing");
}

#[test]
fn toml_syntax_reports_every_parse_error_with_its_position() {
    let text = edit(BASE, "version = 1", "version = ");
    let text = edit(&text, "dpia = \"DPIA-2025-014\"", "dpia = \"DPIA-2025-014");
    let loaded = lint_one(&text);
    assert!(loaded.agreements.is_empty());
    assert!(loaded.problems.len() >= 2, "{:#?}", loaded.problems);
    assert!(loaded.problems.iter().all(|p| p.lint == Lint::TomlSyntax));
    assert_eq!(loaded.problems[0].position.line, line_of(&text, "version ="));
    assert!(loaded.problems.iter().any(|p| p.position.line == line_of(&text, "dpia =")));
    assert!(loaded.problems[0].to_string().starts_with("isa.toml:2:"), "{}", loaded.problems[0]);
}

#[test]
fn toml_syntax_reports_text_that_is_not_utf8() {
    let loaded = lint(&[], None);
    assert!(loaded.problems.is_empty());
    let loaded = check(vec![(PathBuf::from("bad.toml"), vec![0xff, 0xfe, b'a'])], None);
    assert_eq!(codes(&loaded), ["toml.syntax"]);
}

#[test]
fn unknown_keys_are_all_reported_at_every_level() {
    let text = edit(BASE, "title =", "owner = \"someone\"\ntitle =");
    let text = edit(&text, "review = 2027-03-31", "review = 2027-03-31\nrenew = 2027-01-01");
    let text = edit(&text, "months = 72", "months = 72\ndays = 3");
    let text = edit(&text, "role = \"Data Protection Officer\"", "role = \"Data Protection Officer\"\nemail = \"x\"");
    let text = edit(&text, "clause = \"Schedule 2 item 1\" }", "clause = \"Schedule 2 item 1\", reason = \"x\" }");
    let text = edit(&text, "schedule1 = \"Part 2 para 18\",", "schedule1 = \"Part 2 para 18\", para = 18,");
    let text = edit(&text, "[feeds.police.fields]", "[feeds.police]\nversion = 1\n\n[feeds.police.fields]");
    let loaded = lint_one(&text);
    assert_eq!(codes(&loaded), ["agreement.unknown_key"; 7], "{:#?}", loaded.problems);
    let lines: Vec<u32> = loaded.problems.iter().map(|p| p.position.line).collect();
    let mut want: Vec<u32> =
        ["owner =", "renew =", "days =", "email =", "reason =", "para ="].iter().map(|n| line_of(&text, n)).collect();
    want.push(line_of(&text, "[feeds.police]") + 1);
    want.sort_unstable();
    assert_eq!(lines, want);
    assert!(loaded.problems[0].message.contains("`owner`"), "{}", loaded.problems[0].message);
    assert!(loaded.problems.iter().any(|p| p.message.contains("`feeds.police.fields.record_id.reason`")));
}

#[test]
fn missing_required_keys_are_each_reported() {
    let text = edit(BASE, "title = \"Sussex Police to West Sussex County Council: test\"\n", "");
    let text = edit(&text, "dpia = \"DPIA-2025-014\"\n", "");
    let text = edit(&text, "recipients = [\"WSCC Early Help hub analysts\"]", "recipients = []");
    let loaded = lint_one(&text);
    assert_eq!(codes(&loaded), ["agreement.missing"; 3], "{:#?}", loaded.problems);
    assert_eq!(loaded.problems[0].position, Position::START);
    assert!(loaded.problems.iter().any(|p| p.message.contains("`title`")));
    assert!(loaded.problems.iter().any(|p| p.message.contains("`dpia`")));
    assert!(loaded.problems.iter().any(|p| p.message.contains("`recipients` is empty")));
}

#[test]
fn a_value_of_the_wrong_type_is_reported() {
    let p = only(&edit(BASE, "purposes = [\"Identify families who need Early Help\"]", "purposes = \"Identify\""));
    assert_eq!(p.lint, Lint::Type);
    assert_eq!(p.position, Position { line: 4, column: 12 });
}

#[test]
fn an_id_with_other_characters_is_reported() {
    let p = only(&edit(BASE, "id = \"ISA-TEST\"", "id = \"ISA TEST/1\""));
    assert_eq!(p.lint, Lint::Id);
    assert_eq!(p.position, Position { line: 1, column: 6 });
}

#[test]
fn a_version_below_one_is_reported() {
    let p = only(&edit(BASE, "version = 1", "version = 0"));
    assert_eq!(p.lint, Lint::Version);
    assert_eq!(p.position, Position { line: 2, column: 11 });
}

/// The head of [`BASE`] (everything before its feeds) without the Article 10 condition, to
/// which another feed's terms can be added.
fn head_without_article10() -> String {
    let head = BASE.split("[feeds.police.fields]").next().unwrap();
    edit(head, ARTICLE10_LINE, "")
}

#[test]
fn the_same_id_and_version_in_two_files_is_reported_on_both() {
    let other = format!(
        "{}[feeds.housing.fields]\nrecord_id = {{ action = \"pass\", clause = \"1\" }}\n",
        head_without_article10()
    );
    let loaded = lint(&[("a.toml", BASE), ("b.toml", &other)], None);
    assert_eq!(codes(&loaded), ["agreement.duplicate", "agreement.duplicate"], "{:#?}", loaded.problems);
    assert!(loaded.agreements.is_empty(), "neither copy is used");
    assert_eq!(loaded.problems[0].position, Position { line: 1, column: 6 });
    assert!(loaded.problems[0].message.contains("b.toml"));
    assert!(loaded.problems[1].message.contains("a.toml"));
}

#[test]
fn an_unknown_feed_is_reported() {
    let p = only(&format!("{BASE}\n[feeds.social_care.fields]\nrecord_id = {{ action = \"pass\", clause = \"1\" }}\n"));
    assert_eq!(p.lint, Lint::FeedUnknown);
    assert!(p.message.contains("`social_care`"));
}

#[test]
fn an_unknown_field_is_reported() {
    let text =
        edit(BASE, "incident_type =", "nhs_number = { action = \"pseudonymise\", clause = \"9\" }\nincident_type =");
    let p = only(&text);
    assert_eq!(p.lint, Lint::FieldUnknown);
    assert_eq!(p.position, Position { line: line_of(&text, "nhs_number ="), column: 1 });
}

#[test]
fn unknown_missing_and_combined_actions_are_reported() {
    let text = edit(
        BASE,
        "action = \"pass\", clause = \"Schedule 2 item 5\"",
        "action = \"share\", clause = \"Schedule 2 item 5\"",
    );
    assert_eq!(only(&text).lint, Lint::FieldAction);
    let text = edit(BASE, "{ action = \"drop\", note", "{ action = [\"drop\", \"pass\"], note");
    let p = only(&text);
    assert_eq!(p.lint, Lint::FieldAction);
    assert!(p.message.contains("`drop` cannot be combined"), "{}", p.message);
    let text = edit(BASE, "{ action = \"drop\", note", "{ note");
    assert_eq!(only(&text).lint, Lint::FieldAction);
}

#[test]
fn passing_an_identifier_is_reported() {
    let text = edit(BASE, "forename = { action = \"pseudonymise\"", "forename = { action = \"pass\"");
    let p = only(&text);
    assert_eq!(p.lint, Lint::PassIdentifier);
    assert!(p.message.contains("direct identifier"), "{}", p.message);
    let text = edit(
        BASE,
        "date_of_birth = { action = [\"pseudonymise\", \"generalise\"]",
        "date_of_birth = { action = [\"pass\", \"generalise\"]",
    );
    assert_eq!(only(&text).lint, Lint::PassIdentifier);
}

#[test]
fn missing_unknown_inapplicable_and_stray_coarsenings_are_reported() {
    let missing = edit(BASE, "generalise = \"year_month\", ", "");
    assert_eq!(only(&missing).lint, Lint::FieldGeneralise);
    let unknown = edit(BASE, "generalise = \"year_month\"", "generalise = \"decade\"");
    assert_eq!(only(&unknown).lint, Lint::FieldGeneralise);
    let inapplicable = edit(BASE, "generalise = \"year_month\"", "generalise = \"outward\"");
    let p = only(&inapplicable);
    assert_eq!(p.lint, Lint::FieldGeneralise);
    assert!(p.message.contains("does not apply"), "{}", p.message);
    let stray = edit(
        BASE,
        "[feeds.police.fields]",
        "[feeds.police.fields]\nincident_date = { action = \"pass\", generalise = \"year\", clause = \"6\" }",
    );
    let p = only(&stray);
    assert_eq!(p.lint, Lint::FieldGeneralise);
    assert!(p.message.contains("does not include `generalise`"), "{}", p.message);
}

#[test]
fn a_kept_field_without_a_clause_is_reported() {
    let text = edit(
        BASE,
        "incident_type = { action = \"pass\", clause = \"Schedule 2 item 5\" }",
        "incident_type = { action = \"pass\" }",
    );
    let p = only(&text);
    assert_eq!(p.lint, Lint::ClauseMissing);
    assert_eq!(p.position.line, line_of(&text, "incident_type ="));
}

#[test]
fn a_missing_or_empty_article6_basis_is_reported() {
    let p = only(&edit(BASE, "article6 = \"6(1)(e) public task\"", "article6 = \"\""));
    assert_eq!(p.lint, Lint::Article6Missing);
    let p = only(&edit(BASE, "article6 = \"6(1)(e) public task\"\n", ""));
    assert_eq!(p.lint, Lint::Article6Missing);
}

#[test]
fn a_kept_special_category_field_needs_an_article9_condition() {
    let camhs = "[feeds.camhs.fields]\nrecord_id = { action = \"pass\", clause = \"1\" }\n\
                 primary_reason = { action = \"pass\", clause = \"2\" }\nethnicity = { action = \"drop\" }\n";
    let text = format!("{}{camhs}", head_without_article10());
    let p = only(&text);
    assert_eq!(p.lint, Lint::Article9Missing);
    assert_eq!(p.position.line, line_of(&text, "primary_reason ="));
    assert!(p.message.contains("`camhs.primary_reason`"), "{}", p.message);

    // A condition without its Schedule 1 paragraph is incomplete, and covers nothing.
    let half = edit(
        &text,
        "article6 = \"6(1)(e) public task\"",
        "article6 = \"6(1)(e) public task\"\narticle9 = { condition = \"9(2)(g)\" }",
    );
    let loaded = lint_one(&half);
    assert_eq!(codes(&loaded), ["agreement.missing", "basis.article9_missing"], "{:#?}", loaded.problems);

    let whole =
        edit(&half, "{ condition = \"9(2)(g)\" }", "{ condition = \"9(2)(g)\", schedule1 = \"Part 2 para 18\" }");
    assert!(lint_one(&whole).problems.is_empty());
}

#[test]
fn a_kept_criminal_offence_field_needs_an_article10_condition() {
    let text = edit(BASE, ARTICLE10_LINE, "");
    let p = only(&text);
    assert_eq!(p.lint, Lint::Article10Missing);
    assert_eq!(p.position.line, line_of(&text, "incident_type ="));
    // Dropping the criminal offence field instead also answers the rule.
    let dropped = edit(
        &text,
        "incident_type = { action = \"pass\", clause = \"Schedule 2 item 5\" }",
        "incident_type = { action = \"drop\" }",
    );
    assert!(lint_one(&dropped).problems.is_empty());
}

#[test]
fn conditions_that_cover_nothing_are_warnings() {
    let text = edit(
        BASE,
        "article6 = \"6(1)(e) public task\"",
        "article6 = \"6(1)(e) public task\"\narticle9 = { condition = \"9(2)(g)\", schedule1 = \"Part 2 para 18\" }",
    );
    let p = only(&text);
    assert_eq!((p.lint, p.severity), (Lint::Article9Unneeded, Severity::Warning));
    let text = edit(
        BASE,
        "incident_type = { action = \"pass\", clause = \"Schedule 2 item 5\" }",
        "incident_type = { action = \"drop\" }",
    );
    let loaded = lint_one(&text);
    assert_eq!(codes(&loaded), ["basis.article10_unneeded"]);
    assert_eq!(loaded.agreements.len(), 1, "a warning does not stop the agreement");
}

#[test]
fn dates_out_of_order_are_reported() {
    let text = edit(BASE, "review = 2027-03-31", "review = 2029-03-31");
    let p = only(&text);
    assert_eq!(p.lint, Lint::DatesOrder);
    assert_eq!(p.position, Position { line: line_of(&text, "end = "), column: 7 });
    let p = only(&edit(BASE, "start = 2025-04-01", "start = \"2027-04-01\""));
    assert_eq!(p.lint, Lint::DatesOrder);
}

#[test]
fn invalid_dates_are_reported() {
    let text = edit(BASE, "start = 2025-04-01", "start = \"2025-02-30\"");
    let text = edit(&text, "end = 2028-03-31", "end = 2028-03-31T10:00:00");
    let text = edit(&text, "signed = 2025-03-14", "signed = 20250314");
    let loaded = lint_one(&text);
    assert_eq!(codes(&loaded), ["dates.invalid"; 3], "{:#?}", loaded.problems);
}

#[test]
fn a_missing_or_zero_retention_is_reported() {
    let p = only(&edit(BASE, "months = 72", "months = 0"));
    assert_eq!(p.lint, Lint::RetentionMissing);
    let p = only(&edit(BASE, "months = 72\n", ""));
    assert_eq!(p.lint, Lint::RetentionMissing);
    let text = edit(BASE, "[retention]\nmonths = 72\nbasis = \"WSCC retention schedule 4.3\"\n", "");
    assert_eq!(only(&text).lint, Lint::RetentionMissing);
}

#[test]
fn a_retention_beyond_a_hundred_years_is_reported() {
    assert_eq!(only(&edit(BASE, "months = 72", "months = 1201")).lint, Lint::RetentionRange);
    assert_eq!(only(&edit(BASE, "months = 72", "months = -3")).lint, Lint::RetentionRange);
}

#[test]
fn an_unknown_party_role_is_reported() {
    let text = edit(BASE, "role = \"controller\"", "role = \"owner\"");
    let p = only(&text);
    assert_eq!(p.lint, Lint::PartyRole);
    assert_eq!(p.position, Position { line: line_of(&text, "\"owner\""), column: 8 });
}

#[test]
fn an_agreement_without_parties_is_reported() {
    let text = BASE
        .replace("[[parties]]\nname = \"Sussex Police\"\nrole = \"controller\"\n\n", "")
        .replace("[[parties]]\nname = \"West Sussex County Council\"\nrole = \"controller\"\n\n", "");
    let loaded = lint_one(&text);
    assert_eq!(codes(&loaded), ["party.none", "signatory.party"], "{:#?}", loaded.problems);
}

#[test]
fn a_signatory_for_no_party_is_reported() {
    let p = only(&edit(BASE, "party = \"Sussex Police\"", "party = \"Surrey Police\""));
    assert_eq!(p.lint, Lint::SignatoryParty);
}

#[test]
fn an_unsigned_draft_is_a_warning() {
    let text = edit(
        BASE,
        "[[signatories]]\nparty = \"Sussex Police\"\nrole = \"Data Protection Officer\"\nsigned = 2025-03-14\n",
        "",
    );
    let loaded = lint_one(&text);
    assert_eq!(codes(&loaded), ["signatory.none"]);
    assert_eq!(loaded.problems[0].severity, Severity::Warning);
    assert_eq!(loaded.agreements.len(), 1);
}

#[test]
fn overlapping_agreements_for_a_feed_are_reported_on_both_files() {
    let other = edit(BASE, "id = \"ISA-TEST\"", "id = \"ISA-OTHER\"");
    let other = edit(&other, "start = 2025-04-01", "start = 2028-03-31");
    let other = edit(&other, "review = 2027-03-31", "review = 2029-03-31");
    let other = edit(&other, "end = 2028-03-31", "end = 2030-03-31");
    let loaded = lint(&[("a.toml", BASE), ("b.toml", &other)], None);
    assert_eq!(codes(&loaded), ["agreement.overlap", "agreement.overlap"], "{:#?}", loaded.problems);
    assert_eq!(loaded.problems[0].path, Path::new("a.toml"));
    assert_eq!(loaded.problems[1].path, Path::new("b.toml"));
    assert_eq!(loaded.problems[0].position.line, line_of(BASE, "[feeds.police.fields]"));
    assert!(loaded.problems[0].message.contains("ISA-OTHER@1"), "{}", loaded.problems[0].message);
    assert!(loaded.agreements.is_empty());

    // Starting the day after the other ends is fine.
    let after = edit(&other, "start = 2028-03-31", "start = 2028-04-01");
    assert!(lint(&[("a.toml", BASE), ("b.toml", &after)], None).problems.is_empty());
}

#[test]
fn two_versions_of_one_agreement_must_not_overlap() {
    let v2 = edit(BASE, "version = 1", "version = 2");
    let v2 = edit(&v2, "start = 2025-04-01", "start = 2026-04-01");
    let loaded = lint(&[("v1.toml", BASE), ("v2.toml", &v2)], None);
    assert_eq!(codes(&loaded), ["agreement.overlap", "agreement.overlap"]);
    assert!(loaded.problems[0].message.contains("a new version must start after the old one ends"));

    let v1 = edit(BASE, "review = 2027-03-31", "review = 2026-01-31");
    let v1 = edit(&v1, "end = 2028-03-31", "end = 2026-03-31");
    let loaded = lint(&[("v1.toml", &v1), ("v2.toml", &v2)], None);
    assert!(loaded.problems.is_empty(), "{:#?}", loaded.problems);
    assert_eq!(loaded.agreements.len(), 2);
}

#[test]
fn an_overdue_review_is_a_warning_while_in_force() {
    let loaded = lint(&[("a.toml", BASE)], Some(day("2027-04-01")));
    assert_eq!(codes(&loaded), ["agreement.review_overdue"]);
    assert_eq!(loaded.problems[0].severity, Severity::Warning);
    assert_eq!(loaded.problems[0].position, Position { line: line_of(BASE, "review ="), column: 10 });
    assert_eq!(loaded.agreements.len(), 1);
    assert!(lint(&[("a.toml", BASE)], Some(day("2027-03-31"))).problems.is_empty());
    assert!(lint(&[("a.toml", BASE)], Some(day("2028-04-01"))).problems.is_empty(), "ended: nothing to review");
}

#[test]
fn every_rule_has_a_code_and_a_severity() {
    for lint in Lint::ALL {
        assert!(lint.code().contains('.'), "{lint:?}");
        let warning = matches!(
            lint,
            Lint::SignatoryNone | Lint::ReviewOverdue | Lint::Article9Unneeded | Lint::Article10Unneeded
        );
        assert_eq!(lint.severity() == Severity::Warning, warning, "{lint:?}");
    }
}

#[test]
fn many_problems_in_one_file_are_all_reported_in_position_order() {
    let text = edit(BASE, "id = \"ISA-TEST\"", "id = \"ISA TEST\"");
    let text = edit(&text, "months = 72", "months = 0");
    let text = edit(&text, "role = \"controller\"", "role = \"owner\"");
    let text = edit(&text, "forename = { action = \"pseudonymise\"", "forename = { action = \"pass\"");
    let loaded = lint_one(&text);
    assert_eq!(
        codes(&loaded),
        ["agreement.id", "retention.missing", "party.role", "field.pass_identifier"],
        "{:#?}",
        loaded.problems
    );
}
