use std::path::Path;

use super::*;
use crate::column::{Generalisation, Kind, OnInvalid, Role, Sensitivity};
use crate::registry::Registry;

const MINIMAL: &str = r#"
name = "substance_misuse"
version = 1
partner = "Young people's substance misuse service"
description = "One row per treatment episode."
event_date = "referral_date"

[[columns]]
name = "record_id"
standard = true

[[columns]]
name = "forename"
standard = true
required = true

[[columns]]
name = "date_of_birth"
standard = true
on_invalid = "quarantine"

[[columns]]
name = "referral_date"
type = "date"
role = "event_attribute"
required = true
description = "Date the referral was received."

[[columns]]
name = "substance"
type = "code"
codes = ["OPIATES", "ALCOHOL", "CANNABIS"]
role = "event_attribute"
sensitivity = "special_category"
description = "Main substance."

[[columns]]
name = "sessions"
type = "integer"
min = 0
max = 500
role = "event_attribute"
description = "Sessions attended."
"#;

fn problems(text: &str) -> Vec<FeedProblem> {
    match parse(Path::new("feeds/x.toml"), text.as_bytes()) {
        Ok(l) => panic!("expected problems, got {:?}", l.schema.name),
        Err(p) => p,
    }
}

fn codes(ps: &[FeedProblem]) -> Vec<(u32, &'static str)> {
    ps.iter().map(|p| (p.line, p.rule.code())).collect()
}

#[test]
fn every_builtin_definition_is_clean_and_they_are_the_seven_feeds() {
    let loaded =
        builtin().unwrap_or_else(|p| panic!("{}", p.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n")));
    let names: Vec<_> = loaded.iter().map(|l| l.schema.name).collect();
    assert_eq!(names, ["health_visiting", "camhs", "police", "youth_justice", "housing", "district", "education"]);
    assert!(loaded.iter().all(|l| l.path.to_string_lossy().starts_with("builtin:")));
}

#[test]
fn the_example_definitions_are_clean_and_not_built_in() {
    for (name, _) in EXAMPLES {
        let feed = name.trim_end_matches(".toml");
        let loaded = example(feed).expect("listed").unwrap_or_else(|p| panic!("{p:?}"));
        assert_eq!(loaded.schema.name, feed);
        assert!(crate::feed::latest(feed).is_none(), "{feed} must come from a deployment's folder, not the code");
    }
}

#[test]
fn a_minimal_definition_takes_standard_columns_whole_and_its_own_as_written() {
    let l = parse(Path::new("feeds/substance_misuse.toml"), MINIMAL.as_bytes()).expect("valid");
    let s = l.schema;
    assert_eq!((s.name, s.version, s.event_date), ("substance_misuse", 1, "referral_date"));
    let forename = s.column("forename").expect("forename");
    assert_eq!((forename.kind, forename.role, forename.required), (Kind::PersonName, Role::DirectIdentifier, true));
    let dob = s.column("date_of_birth").expect("dob");
    assert_eq!((dob.generalise, dob.on_invalid), (Generalisation::YearMonth, Some(OnInvalid::Quarantine)));
    let substance = s.column("substance").expect("substance");
    assert_eq!(substance.kind, Kind::Code(&["OPIATES", "ALCOHOL", "CANNABIS"]));
    assert_eq!(substance.sensitivity, Sensitivity::SpecialCategory);
    assert_eq!(s.column("sessions").map(|c| c.kind), Some(Kind::Integer { min: 0, max: 500 }));
    assert_eq!((l.version_at.line, l.version_at.column), (3, 11));
}

#[test]
fn every_problem_is_reported_at_once_with_its_line_and_rule() {
    let text = r#"name = "Substance Misuse"
version = 0
partner = ""
description = "d"
event_date = "seen"

[[columns]]
name = "record_id"
standard = true
on_invalid = "null"

[[columns]]
name = "forename"
type = "reference"
max_bytes = 10

[[columns]]
name = "seen"
type = "datetime"
role = "event_attribute"
description = "When."

[[columns]]
name = "level"
type = "code"
codes = ["A", "a"]
role = "event_attribute"
description = "Level."

[[columns]]
name = "level"
type = "integer"
min = 5
max = 1
role = "person"
description = "Again."

[[columns]]
name = "moved_on"
type = "date"
role = "quasi_identifier"
description = "A date that identifies."

[[columns]]
name = "nickname"
standard = true
"#;
    let ps = problems(text);
    let found = codes(&ps);
    for want in [
        (1, "feed.name"),
        (2, "feed.version"),
        (3, "feed.text"),
        (10, "column.on_invalid"),
        (13, "column.standard"),
        (19, "column.type"),
        (26, "column.codes"),
        (31, "column.duplicate"),
        (33, "column.range"),
        (35, "column.role"),
        (39, "column.generalise"),
        (46, "column.standard"),
    ] {
        assert!(found.contains(&want), "missing {want:?} in {found:?}");
    }
    assert!(!found.iter().any(|(_, c)| *c == "feed.event_date"), "a column with a bad type is not judged twice");
    let not_a_date = codes(&problems(&MINIMAL.replace("event_date = \"referral_date\"", "event_date = \"sessions\"")));
    assert_eq!(not_a_date, [(6, "feed.event_date")]);
    let first = ps.first().map(ToString::to_string).unwrap_or_default();
    assert!(first.starts_with("feeds/x.toml:1:8: error[feed.name]: "), "{first}");
}

#[test]
fn unknown_keys_are_all_named_with_their_places_and_syntax_errors_stop_the_file() {
    let text = MINIMAL.replace("event_date = ", "owner = \"x\"\nevent_date = ").replace("min = 0", "minimum = 0");
    let ps = problems(&text);
    assert_eq!(ps.len(), 2, "{ps:?}");
    assert!(ps.iter().all(|p| p.rule == FeedRule::UnknownKey));
    assert!(ps[1].message.contains("columns.minimum"), "{}", ps[1].message);
    let ps = problems("name = \"a\"\nversion = ");
    assert_eq!(ps.len(), 1);
    assert_eq!((ps[0].rule, ps[0].line), (FeedRule::TomlSyntax, 2));
    let ps = match parse(Path::new("x.toml"), &[0xff, 0xfe]) {
        Err(p) => p,
        Ok(_) => panic!("not UTF-8"),
    };
    assert_eq!(ps[0].rule, FeedRule::TomlSyntax);
    let ps = problems(&MINIMAL.replace("version = 1", "version = \"1\""));
    assert_eq!(ps[0].rule, FeedRule::Format);
}

#[test]
fn the_record_id_is_required_and_no_other_column_may_claim_its_role() {
    let text = MINIMAL.replace("name = \"record_id\"\nstandard = true", "name = \"case_ref\"\ntype = \"reference\"\nmax_bytes = 20\nrole = \"record_reference\"\ndescription = \"Case.\"");
    let found = codes(&problems(&text));
    assert!(found.contains(&(2, "feed.record_reference")), "{found:?}");
    assert!(found.iter().filter(|(_, c)| *c == "feed.record_reference").count() == 2, "{found:?}");
}

#[test]
fn a_column_named_like_a_derived_staging_column_is_refused() {
    let text = format!(
        "{MINIMAL}\n[[columns]]\nname = \"postcode\"\nstandard = true\n\n[[columns]]\nname = \"district\"\ntype = \"code\"\ncodes = [\"ARUN\"]\nrole = \"event_attribute\"\ndescription = \"District.\"\n"
    );
    let ps = problems(&text);
    assert_eq!(ps.len(), 1, "{ps:?}");
    assert_eq!(ps[0].rule, FeedRule::StagingName);
}

#[test]
fn a_deployment_adds_feeds_and_versions_but_never_redefines_one() {
    let minimal = parse(Path::new("feeds/sm.toml"), MINIMAL.as_bytes()).expect("valid");
    let police_copy = parse(Path::new("feeds/police.toml"), BUILTIN[2].1.as_bytes()).expect("valid");
    let registry =
        Registry::with_deployment(&[minimal.clone(), police_copy]).expect("a copy of a built-in adds nothing");
    assert_eq!(registry.feeds().len(), 8);
    assert_eq!(registry.feeds()[7].name, "substance_misuse");

    let changed = BUILTIN[2].1.replace("Sussex Police", "Another force");
    let police_changed = parse(Path::new("feeds/police.toml"), changed.as_bytes()).expect("valid");
    match Registry::with_deployment(&[police_changed]) {
        Err(FeedsError::Invalid { problems }) => {
            assert_eq!(problems.len(), 1);
            assert_eq!(problems[0].rule, FeedRule::Duplicate);
            assert!(problems[0].to_string().starts_with("feeds/police.toml:"), "{}", problems[0]);
        }
        other => panic!("expected a duplicate, got {other:?}"),
    }
    let v2 = parse(Path::new("feeds/police2.toml"), changed.replace("version = 1", "version = 2").as_bytes())
        .expect("valid");
    let registry = Registry::with_deployment(&[v2]).expect("a new version is a new feed version");
    let newest = registry.feeds().iter().filter(|f| f.name == "police").max_by_key(|f| f.version);
    assert_eq!(newest.map(|f| (f.version, f.partner)), Some((2, "Another force")));
    assert!(matches!(Registry::with_deployment(&[minimal.clone(), minimal]), Err(FeedsError::Invalid { .. })));
}

#[test]
fn updated_names_a_date_event_attribute_kept_as_it_is() {
    let with = |name: &str| MINIMAL.replace("event_date = ", &format!("updated = {name:?}\nevent_date = "));
    let loaded = parse(Path::new("feeds/x.toml"), with("referral_date").as_bytes()).unwrap();
    assert_eq!(loaded.schema.updated, Some("referral_date"));
    assert_eq!(parse(Path::new("feeds/x.toml"), MINIMAL.as_bytes()).unwrap().schema.updated, None);
    // Not a column; not a date; a date of the person block (a quasi-identifier, generalised).
    for name in ["last_changed", "sessions", "date_of_birth"] {
        assert_eq!(codes(&problems(&with(name))), [(6, "feed.updated")], "{name}");
    }
}
