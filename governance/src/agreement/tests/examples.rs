//! The example agreements shipped in `pipeline/agreements/` lint clean, govern every feed on
//! the demo date, name every field explicitly, and keep what record linkage needs.

use tellonce_schemas::column::Role;
use tellonce_schemas::feed;

use super::day;
use crate::agreement::{Standing, load_dir};

fn examples_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../pipeline/agreements")
}

/// Makes the example feed definitions (feeds a deployment defines in files, such as substance
/// misuse) known beside the built-in feeds, as a deployment's `[feeds] dir` would: their example
/// agreements are in the same folder.
fn with_example_feeds() {
    static DONE: std::sync::OnceLock<()> = std::sync::OnceLock::new();
    DONE.get_or_init(|| {
        use tellonce_schemas::{definition, registry};
        let examples: Vec<_> =
            definition::EXAMPLES.iter().map(|(name, _)| definition::example(name.trim_end_matches(".toml"))).collect();
        let loaded: Vec<_> = examples.into_iter().flatten().map(|l| l.expect("a clean example definition")).collect();
        registry::install(registry::Registry::with_deployment(&loaded).expect("no clash with the built-in feeds"));
    });
}

#[test]
fn the_example_agreements_lint_clean_and_govern_every_feed() {
    with_example_feeds();
    let on = day("2026-11-23");
    let loaded = load_dir(&examples_dir(), on).unwrap();
    let report: Vec<String> = loaded.problems.iter().map(ToString::to_string).collect();
    assert!(report.is_empty(), "{}", report.join("\n"));
    let set = loaded.into_set();
    for name in feed::names() {
        match set.standing(name, on) {
            Standing::InForce { agreement, review_overdue } => {
                assert!(!review_overdue, "{name}: {}", agreement.label());
            }
            other => panic!("{name}: {other:?}"),
        }
    }
}

#[test]
fn the_example_agreements_name_every_field_and_keep_the_linkage_identifiers() {
    with_example_feeds();
    let on = day("2026-11-23");
    let set = load_dir(&examples_dir(), on).unwrap().into_set();
    let mut dropped = 0;
    for schema in feed::all() {
        let agreement = set.standing(schema.name, on).in_force().unwrap();
        for col in schema.columns {
            let terms = agreement
                .field(schema.name, col.name)
                .unwrap_or_else(|| panic!("{}.{} is not named in {}", schema.name, col.name, agreement.label()));
            let t = &terms.treatment;
            if t.is_drop() {
                dropped += 1;
                assert!(terms.note.is_some(), "{}.{}: say why it is dropped", schema.name, col.name);
            }
            let linkage = matches!(
                col.name,
                "nhs_number" | "upn" | "pnc_id" | "uprn" | "forename" | "surname" | "date_of_birth" | "postcode"
            );
            if linkage {
                assert!(t.token, "{}.{}: linkage needs its token", schema.name, col.name);
            }
            if col.name == "sex" || col.role == Role::RecordReference || col.name == schema.event_date {
                assert!(t.pass, "{}.{} must pass", schema.name, col.name);
            }
            if col.name == "date_of_birth" {
                assert_eq!(crate::agreement::treatment_label(t), "token+year_month");
            }
            if col.name == "postcode" {
                assert_eq!(crate::agreement::treatment_label(t), "token+outward+area");
            }
        }
    }
    assert!(dropped > 0, "the examples show at least one field dropped for data minimisation");
}

#[test]
fn breaking_an_example_in_five_ways_reports_every_problem() {
    let text = std::fs::read_to_string(examples_dir().join("police.toml")).unwrap();
    let text = super::edit(&text, "forename = { action = \"pseudonymise\"", "forename = { action = \"pass\"");
    let text = super::edit(
        &text,
        "[feeds.police.fields]\n",
        "[feeds.police.fields]\nshoe_size = { action = \"pass\", clause = \"9\" }\n",
    );
    let text: String = text.lines().filter(|l| !l.starts_with("article10")).map(|l| format!("{l}\n")).collect();
    let text = super::edit(&text, "review = 2027-03-31", "review = 2024-01-01");
    let text = super::edit(&text, "months = 72\n", "");
    let loaded = super::lint(&[("bad/police.toml", &text)], Some(day("2026-11-23")));
    let mut codes = super::codes(&loaded);
    codes.sort_unstable();
    codes.dedup();
    assert_eq!(
        codes,
        [
            "agreement.review_overdue",
            "basis.article10_missing",
            "dates.order",
            "field.pass_identifier",
            "field.unknown",
            "retention.missing"
        ],
        "{:#?}",
        loaded.problems
    );
    assert!(loaded.problems.iter().all(|p| p.to_string().starts_with("bad/police.toml:")));
}

#[test]
fn stripping_the_article9_condition_from_camhs_fails_the_lint() {
    let text = std::fs::read_to_string(examples_dir().join("camhs.toml")).unwrap();
    let stripped: String = text.lines().filter(|l| !l.starts_with("article9")).map(|l| format!("{l}\n")).collect();
    assert_ne!(stripped, text);
    let loaded = super::lint(&[("camhs.toml", &stripped)], Some(day("2026-11-23")));
    assert!(loaded.agreements.is_empty());
    assert!(super::codes(&loaded).iter().all(|c| *c == "basis.article9_missing"), "{:#?}", loaded.problems);
    // Every kept special category field is named: primary_reason, ethnicity, the contact counts…
    assert!(loaded.problems.len() >= 7, "{:#?}", loaded.problems);
}
