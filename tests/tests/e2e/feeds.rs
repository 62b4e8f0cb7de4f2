//! Feeds declared in files: a deployment adds a feed, or a new version of one, with no new
//! release; its definitions are checked with the agreements and the theme mapping that depend
//! on them, every problem at once, and a broken definition stops the run before anything is
//! read.

use tellonce_tests::{tellonce, tellonce_ok, workspace_root};

use crate::support::*;

/// An A&E attendances feed: none of the built-in feeds has it.
const AE_FEED: &str = r#"# A&E attendances of children, from the acute trust.
name = "ae_attendance"
version = 1
partner = "Acute hospital trust (emergency department)"
description = "One row per attendance of a child at the emergency department."
event_date = "attendance_date"

[[columns]]
name = "record_id"
standard = true

[[columns]]
name = "nhs_number"
standard = true

[[columns]]
name = "forename"
standard = true
required = true

[[columns]]
name = "surname"
standard = true
required = true

[[columns]]
name = "date_of_birth"
standard = true

[[columns]]
name = "postcode"
standard = true

[[columns]]
name = "attendance_date"
type = "date"
role = "event_attribute"
required = true
description = "Date of arrival."

[[columns]]
name = "injury_group"
type = "code"
codes = ["FALL", "POISONING", "SELF_HARM", "ASSAULT", "OTHER"]
role = "event_attribute"
sensitivity = "special_category"
required = true
description = "Broad group of the presenting injury or complaint."

[[columns]]
name = "hours_in_department"
type = "integer"
min = 0
max = 72
role = "event_attribute"
description = "Whole hours from arrival to leaving."
"#;

/// The example substance misuse agreement, made over to the A&E feed and in force for long.
fn ae_agreement() -> String {
    let template = std::fs::read_to_string(workspace_root().join("pipeline/agreements/substance_misuse.toml")).unwrap();
    let head = template.split("[feeds.substance_misuse.fields]").next().unwrap();
    let head = head.replace("ISA-SMS-2025", "ISA-AE-2026").replace("review = 2027-05-31", "review = 2098-05-31");
    let head = head.replace("end = 2030-05-31", "end = 2099-05-31");
    format!(
        "{head}[feeds.ae_attendance.fields]\n\
         record_id = {{ action = \"pass\", clause = \"Schedule 2 item 1\" }}\n\
         nhs_number = {{ action = \"pseudonymise\", clause = \"Schedule 2 item 2\" }}\n\
         forename = {{ action = \"pseudonymise\", clause = \"Schedule 2 item 3\" }}\n\
         surname = {{ action = \"pseudonymise\", clause = \"Schedule 2 item 4\" }}\n\
         date_of_birth = {{ action = [\"pseudonymise\", \"generalise\"], generalise = \"year_month\", clause = \"Schedule 2 item 5\" }}\n\
         postcode = {{ action = [\"pseudonymise\", \"generalise\"], generalise = [\"outward\", \"area\"], clause = \"Schedule 2 item 6\" }}\n\
         attendance_date = {{ action = \"pass\", clause = \"Schedule 2 item 7\" }}\n\
         injury_group = {{ action = \"pass\", clause = \"Schedule 2 item 8\" }}\n\
         hours_in_department = {{ action = \"pass\", clause = \"Schedule 2 item 9\" }}\n"
    )
}

const AE_ROWS: &str = "record_id,nhs_number,forename,surname,date_of_birth,postcode,attendance_date,injury_group,hours_in_department\n\
    AE-1,9434765919,Zebedee,Quillfeather,2014-03-09,RH10 1AB,2025-02-01,FALL,3\n\
    AE-2,9434765918,Zebedee,Quillfeather,2014-03-09,RH10 1AB,2025-06-12,POISONING,9\n\
    AE-3,,Marigold,Thistlewaite,2016-11-30,BN11 2QZ,2025-07-04,SKATEBOARD,1\n";

/// A workspace with the A&E feed defined in `feeds/`, its agreement, and one extract.
fn ae_workspace() -> Workspace {
    let ws = Workspace::new();
    ws.write("feeds/ae_attendance.toml", AE_FEED);
    ws.write("agreements/ae_attendance.toml", ae_agreement());
    ws.write("inputs/ae.csv", AE_ROWS);
    ws.config(&[("ae_attendance", "inputs/ae.csv")], "[feeds]\ndir = \"feeds\"\n");
    ws
}

#[test]
fn a_deployment_adds_a_feed_from_a_file_and_runs_it_with_no_rebuild() {
    let ws = ae_workspace();
    let lint = tellonce_ok(ws.dir(), &["feeds", "lint", "--config", "tellonce.toml"], 0);
    assert!(text(&lint).contains("1 feed definition file(s) checked"), "{}", text(&lint));
    let list = text(&tellonce_ok(ws.dir(), &["feeds", "list", "--config", "tellonce.toml"], 0));
    let line = list.lines().find(|l| l.starts_with("ae_attendance")).unwrap_or_else(|| panic!("{list}"));
    assert!(line.contains(" file "), "{line}");
    let show = text(&tellonce_ok(ws.dir(), &["feeds", "show", "ae_attendance", "--config", "tellonce.toml"], 0));
    assert!(show.contains("injury_group") && show.contains("special category"), "{show}");
    assert!(show.contains("nhs_number_token"), "the staging columns come from the roles: {show}");

    let run = ws.run(0, &[]);
    // AE-2's NHS number fails its check digit: nulled, record kept. AE-3's injury group is not a
    // code of the feed: quarantined.
    run.assert_counts("inputs/ae.csv", "processed", 3, 2, 1);
    assert_eq!(run.by_rule("inputs/ae.csv").get("code.unknown"), Some(&1));
    assert_quarantined(&ws, "inputs/ae.csv", 4, "code.unknown", Some("injury_group"));
    let parts = visible_parquet(&ws.out().join("staging/feed=ae_attendance"));
    assert_eq!(parts.iter().map(|p| parquet_row_count(p)).sum::<u64>(), 2);
    let columns = parquet_columns(&parts[0]);
    for c in ["forename_token", "nhs_number_token", "injury_group", "hours_in_department", "_dq"] {
        assert!(columns.iter().any(|x| x == c), "{c} in {columns:?}");
    }
    assert!(!columns.iter().any(|x| x == "forename" || x == "nhs_number"), "{columns:?}");
    let dq = parquet_column(&parts[0], "_dq");
    assert!(dq.iter().flatten().any(|d| d == "nhs_number:nhs_number.check_digit"), "{dq:?}");
    tellonce_ok(ws.dir(), &["audit", "verify", "--config", "tellonce.toml"], 0);

    // The agreements on their own know the feed once its folder is named.
    let isa = tellonce(ws.dir(), &["isa", "lint", "agreements"]);
    assert_eq!(isa.status.code(), Some(2));
    assert!(text(&isa).contains("error[feed.unknown]: unknown feed `ae_attendance`"), "{}", text(&isa));
    tellonce_ok(ws.dir(), &["isa", "lint", "agreements", "--feeds", "feeds"], 0);

    let listed = tellonce_ok(ws.dir(), &["feeds", "list", "--config", "tellonce.toml"], 0);
    let values: &[&[u8]] =
        &[b"Zebedee", b"ZEBEDEE", b"Quillfeather", b"QUILLFEATHER", b"9434765919", b"Thistlewaite", b"2014-03-09"];
    assert_absent(values, &[&run.output, &lint, &listed], &ws.out());
}

#[test]
fn broken_definitions_are_reported_at_once_with_file_line_and_rule_and_stop_the_run() {
    let ws = ae_workspace();
    let broken =
        AE_FEED.replace("type = \"date\"", "type = \"datetime\"").replace("min = 0\nmax = 72", "min = 72\nmax = 0");
    ws.write("feeds/ae_attendance.toml", broken);
    ws.write("feeds/notes.toml", "name = \"notes\"\nversion = 1\ncolour = \"red\"\n");
    let lint = tellonce(ws.dir(), &["feeds", "lint", "--config", "tellonce.toml"]);
    assert_eq!(lint.status.code(), Some(2));
    let out = text(&lint);
    for want in [
        "feeds/ae_attendance.toml:36:8: error[column.type]: ",
        "feeds/ae_attendance.toml:53:7: error[column.range]: ",
        "feeds/notes.toml:3:1: error[feed.unknown_key]: ",
    ] {
        assert!(out.contains(want), "{want} in {out}");
    }
    assert!(out.contains("agreements and themes not checked"), "{out}");

    let run = tellonce(ws.dir(), &["run", "--config", "tellonce.toml", "--no-progress"]);
    assert_eq!(run.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(stderr.contains("feeds/ae_attendance.toml:36:8: error[column.type]"), "{stderr}");
    assert!(!ws.out().join("staging").exists(), "nothing is read under a broken definition");
}

#[test]
fn agreements_and_the_theme_mapping_are_checked_against_the_feeds_a_deployment_defines() {
    let ws = ae_workspace();
    let agreement = ae_agreement().replace("hours_in_department = ", "minutes_in_department = ");
    ws.write("agreements/ae_attendance.toml", agreement);
    let themes = std::fs::read_to_string(workspace_root().join("pipeline/themes/supporting_families.toml")).unwrap();
    let themes = format!(
        "{themes}\n[[indicators]]\ncode = \"self_harm_attendance\"\nheadline = \"SF03\"\nfeed = \"ae_attendance\"\n\
         reason = \"An attendance for self-harm.\"\nwhen = {{ injury_group = [\"SELF_HARM\"], triage = [\"RED\"] }}\n"
    );
    ws.write("themes.toml", themes);
    ws.config(
        &[("ae_attendance", "inputs/ae.csv")],
        "[feeds]\ndir = \"feeds\"\n\n[outcomes]\nthemes = \"themes.toml\"\n",
    );
    let lint = tellonce(ws.dir(), &["feeds", "lint", "--config", "tellonce.toml"]);
    assert_eq!(lint.status.code(), Some(2));
    let out = text(&lint);
    assert!(out.contains("agreements/ae_attendance.toml:") && out.contains("error[field.unknown]"), "{out}");
    assert!(out.contains("indicator self_harm_attendance") && out.contains("triage"), "{out}");

    // Without the deployment's feeds, the same agreement names a feed that does not exist.
    ws.config(&[], "");
    let lint = tellonce(ws.dir(), &["feeds", "lint", "--config", "tellonce.toml"]);
    assert!(text(&lint).contains("error[feed.unknown]"), "{}", text(&lint));
}

#[test]
fn a_changed_built_in_feed_needs_a_new_version_and_the_newest_is_used() {
    let ws = Workspace::new();
    tellonce_ok(ws.dir(), &["feeds", "write", "feeds"], 0);
    let again = tellonce(ws.dir(), &["feeds", "write", "feeds"]);
    assert_ne!(again.status.code(), Some(0), "an existing definition is never overwritten");
    ws.config(&[], "[feeds]\ndir = \"feeds\"\n");
    tellonce_ok(ws.dir(), &["feeds", "lint", "--config", "tellonce.toml"], 0);

    let police = std::fs::read_to_string(ws.dir().join("feeds/police.toml")).unwrap();
    let changed = police.replace("partner = \"Sussex Police\"", "partner = \"Surrey and Sussex Police\"");
    ws.write("feeds/police.toml", &changed);
    let lint = tellonce(ws.dir(), &["feeds", "lint", "--config", "tellonce.toml"]);
    assert_eq!(lint.status.code(), Some(2));
    assert!(text(&lint).contains("feeds/police.toml:7:11: error[feed.duplicate]"), "{}", text(&lint));

    ws.write("feeds/police.toml", changed.replace("version = 1", "version = 2"));
    tellonce_ok(ws.dir(), &["feeds", "lint", "--config", "tellonce.toml"], 0);
    let show = text(&tellonce_ok(ws.dir(), &["feeds", "show", "police", "--config", "tellonce.toml"], 0));
    assert!(show.starts_with("police (schema version 2)\npartner: Surrey and Sussex Police"), "{show}");
    let old =
        text(&tellonce_ok(ws.dir(), &["feeds", "show", "police", "--version", "1", "--config", "tellonce.toml"], 0));
    assert!(old.starts_with("police (schema version 1)\npartner: Sussex Police"), "{old}");
}

#[test]
fn a_feed_with_a_last_updated_column_orders_versions_by_it_not_by_arrival() {
    let ws = Workspace::new();
    let feed = AE_FEED.replace("event_date = ", "updated = \"last_updated\"\nevent_date = ")
        + "\n[[columns]]\nname = \"last_updated\"\ntype = \"date\"\nrole = \"event_attribute\"\n\
           description = \"When the trust last changed the record.\"\n";
    ws.write("feeds/ae_attendance.toml", feed);
    ws.write(
        "agreements/ae_attendance.toml",
        ae_agreement() + "last_updated = { action = \"pass\", clause = \"Schedule 2 item 10\" }\n",
    );
    let extract = |rows: &[(&str, &str, &str)]| {
        let mut s = "record_id,forename,surname,date_of_birth,attendance_date,injury_group,last_updated\n".to_owned();
        for (id, group, updated) in rows {
            s.push_str(&format!("{id},Ann,Lee,2014-03-09,2025-02-01,{group},{updated}\n"));
        }
        s
    };
    ws.write("inputs/jan.csv", extract(&[("AE-1", "FALL", "2025-03-01"), ("AE-2", "FALL", "2025-03-01")]));
    // February's file brings AE-1 as the trust had it before January's (an older export), and
    // AE-2 as changed since.
    ws.write("inputs/feb.csv", extract(&[("AE-1", "ASSAULT", "2025-02-01"), ("AE-2", "POISONING", "2025-04-01")]));
    ws.config(
        &[("ae_attendance", "inputs/jan.csv"), ("ae_attendance", "inputs/feb.csv")],
        "[feeds]\ndir = \"feeds\"\n",
    );
    let show = text(&tellonce_ok(ws.dir(), &["feeds", "show", "ae_attendance", "--config", "tellonce.toml"], 0));
    assert!(show.contains("last updated: last_updated"), "{show}");
    let run = ws.run(0, &[]);
    let v = &run.input("inputs/feb.csv")["versions"];
    assert_eq!((v["changed"].as_u64(), v["older"].as_u64(), v["new"].as_u64()), (Some(1), Some(1), Some(0)), "{v}");
    let groups = || -> Vec<(String, String)> {
        let mut g: Vec<_> = visible_parquet(&ws.out().join("staging/feed=ae_attendance"))
            .iter()
            .flat_map(|p| parquet_column(p, "record_id").into_iter().zip(parquet_column(p, "injury_group")))
            .map(|(id, g)| (id.unwrap(), g.unwrap()))
            .collect();
        g.sort();
        g
    };
    let expected = [("AE-1".to_owned(), "FALL".to_owned()), ("AE-2".to_owned(), "POISONING".to_owned())];
    assert_eq!(groups(), expected);

    // January run again after February: its AE-2 is older by date, whatever the order of runs
    // (its AE-1, held in January's own part, is written again in the part it replaces).
    ws.config(&[("ae_attendance", "inputs/jan.csv")], "[feeds]\ndir = \"feeds\"\n");
    let again = ws.run(0, &["--force"]);
    let v = &again.input("inputs/jan.csv")["versions"];
    assert_eq!((v["older"].as_u64(), v["new"].as_u64()), (Some(1), Some(1)), "{v}");
    assert_eq!(groups(), expected);

    // The same date on both versions: arrival decides, and March's file is the later.
    ws.write("inputs/mar.csv", extract(&[("AE-1", "ASSAULT", "2025-03-01")]));
    ws.config(&[("ae_attendance", "inputs/mar.csv")], "[feeds]\ndir = \"feeds\"\n");
    let v = &ws.run(0, &[]).input("inputs/mar.csv")["versions"]["changed"].clone();
    assert_eq!(v.as_u64(), Some(1));
    assert_eq!(groups()[0], ("AE-1".to_owned(), "ASSAULT".to_owned()));

    // A date after today is a typing error, not an order: a later file still supersedes it.
    ws.write("inputs/apr.csv", extract(&[("AE-2", "FALL", "2099-01-01")]));
    ws.write("inputs/may.csv", extract(&[("AE-2", "ASSAULT", "2025-05-01")]));
    ws.config(
        &[("ae_attendance", "inputs/apr.csv"), ("ae_attendance", "inputs/may.csv")],
        "[feeds]\ndir = \"feeds\"\n",
    );
    let run = ws.run(0, &[]);
    assert_eq!(run.input("inputs/may.csv")["versions"]["changed"], 1, "{:#}", run.input("inputs/may.csv"));
    assert_eq!(groups()[1], ("AE-2".to_owned(), "ASSAULT".to_owned()));
    tellonce_ok(ws.dir(), &["audit", "verify", "--config", "tellonce.toml"], 0);
}
