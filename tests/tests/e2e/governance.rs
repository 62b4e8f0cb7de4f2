//! Information sharing agreements, the audit log, subject access and retention, through the
//! binary: what a governance lead and the DPO's office rely on.

use std::path::PathBuf;
use std::process::Output;

use crate::support::*;
use tellonce_tests::{files_under, json_stdout, tellonce, tellonce_ok};

/// A police extract's columns (the required ones and the identifiers that have checks).
const POLICE_HEADER: &str = "record_id,occurrence_ref,pnc_id,forename,surname,date_of_birth,postcode,incident_date,\
                             incident_type,person_role,dash_risk";

/// A CAMHS extract's columns.
const CAMHS_HEADER: &str =
    "record_id,nhs_number,forename,surname,date_of_birth,postcode,referral_received_date,referral_outcome";

/// A valid police row about a named person.
fn police(id: &str, forename: &str, surname: &str, dob: &str, postcode: &str) -> String {
    format!("{id},OCC-{id},,{forename},{surname},{dob},{postcode},2024-01-05,DOMESTIC_ABUSE,VICTIM,HIGH")
}

/// A workspace with the example agreements, a police file of three rows (two about the same
/// person) and a CAMHS file of one row, configured in that order.
fn two_feed_workspace() -> Workspace {
    let ws = Workspace::new();
    let rows = [
        police("P1", "Ann", "Leeford", "2010-01-02", "RH10 1AB"),
        police("P2", "ANN", "LEEFORD", "2010-01-02", "rh10 1ab"),
        police("P3", "Bob", "Kayleigh", "2011-03-04", "BN11 2AB"),
    ];
    ws.write("inputs/police.csv", format!("{POLICE_HEADER}\n{}\n", rows.join("\n")));
    ws.write(
        "inputs/camhs.csv",
        format!("{CAMHS_HEADER}\nC1,9434765919,Cat,Morrow,2012-07-19,RH10 1AB,2024-03-01,ACCEPTED\n"),
    );
    ws.config(&[("police", "inputs/police.csv"), ("camhs", "inputs/camhs.csv")], "");
    ws
}

/// The agreement file that governs `feed` in the workspace's `agreements/`.
fn agreement_file(ws: &Workspace, feed: &str) -> PathBuf {
    let table = format!("[feeds.{feed}");
    files_under(&ws.dir().join("agreements"))
        .into_iter()
        .find(|p| std::fs::read_to_string(p).unwrap().contains(&table))
        .unwrap_or_else(|| panic!("no agreement governs {feed}"))
}

/// Rewrites the agreement governing `feed`.
fn edit_agreement(ws: &Workspace, feed: &str, edit: impl Fn(String) -> String) {
    let path = agreement_file(ws, feed);
    let text = std::fs::read_to_string(&path).unwrap();
    let edited = edit(text.clone());
    assert_ne!(edited, text, "the edit changed nothing in {}", path.display());
    std::fs::write(&path, edited).unwrap();
}

/// Removes the line naming `field` in the agreement text (deny by default then drops it).
fn without_field(text: String, field: &str) -> String {
    let prefix = format!("{field} =");
    text.lines().filter(|l| !l.trim_start().starts_with(&prefix)).map(|l| format!("{l}\n")).collect()
}

/// Replaces the value of a top-level-style `key = value` line (the first one).
fn set_line(text: String, key: &str, value: &str) -> String {
    let prefix = format!("{key} =");
    let mut done = false;
    text.lines()
        .map(|l| {
            if !done && l.trim_start().starts_with(&prefix) {
                done = true;
                format!("{key} = {value}\n")
            } else {
                format!("{l}\n")
            }
        })
        .collect()
}

/// Every column name of every visible Parquet file of one feed's staging data.
fn staging_columns(ws: &Workspace, feed: &str) -> Vec<String> {
    visible_parquet(&ws.out().join(format!("staging/feed={feed}"))).iter().flat_map(|p| parquet_columns(p)).collect()
}

fn audit_verify(ws: &Workspace) -> Output {
    tellonce(ws.dir(), &["audit", "verify", "--config", "tellonce.toml"])
}

#[test]
fn the_example_agreements_lint_clean_and_explain_each_field() {
    let ws = Workspace::new();
    let lint = tellonce_ok(ws.dir(), &["isa", "lint", "agreements", "--as-of", "2026-11-23"], 0);
    assert!(text(&lint).contains("0 error(s)"), "{}", text(&lint));
    let explain = tellonce_ok(
        ws.dir(),
        &["isa", "explain", "--agreements", "agreements", "--feed", "police", "--field", "date_of_birth"],
        0,
    );
    let said = text(&explain);
    for want in ["date_of_birth", "date_of_birth_month", "date_of_birth_token", "staging/feed=police"] {
        assert!(said.contains(want), "explain does not mention {want}:\n{said}");
    }
    ws.config(&[], "");
    let all = tellonce_ok(ws.dir(), &["isa", "explain", "--config", "tellonce.toml", "--feed", "police"], 0);
    assert!(text(&all).contains("pnc_id"), "{}", text(&all));
}

#[test]
fn lint_reports_every_problem_at_once_with_file_line_and_rule() {
    let ws = Workspace::new();
    let good = std::fs::read_to_string(agreement_file(&ws, "police")).unwrap();
    // One file breaking several rules: a field passed in clear, an unknown field, criminal
    // offence data without its Article 10 condition, dates out of order, no retention.
    let mut bad = good.clone();
    bad = set_line(bad, "forename", "{ action = \"pass\", clause = \"1\" }");
    bad = bad.replacen(
        "[feeds.police.fields]\n",
        "[feeds.police.fields]\nshoe_size = { action = \"pass\", clause = \"9\" }\n",
        1,
    );
    let bad =
        bad.lines().filter(|l| !l.trim_start().starts_with("article10")).map(|l| format!("{l}\n")).collect::<String>();
    let bad = set_line(bad, "review", "2024-01-01");
    let bad = without_field(bad, "months");
    ws.write("bad/police.toml", bad);
    let out = tellonce(ws.dir(), &["isa", "lint", "bad", "--as-of", "2026-11-23"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let said = text(&out);
    for rule in
        ["field.pass_identifier", "field.unknown", "basis.article10_missing", "dates.order", "retention.missing"]
    {
        let line = said.lines().find(|l| l.contains(rule)).unwrap_or_else(|| panic!("no {rule}:\n{said}"));
        assert!(line.starts_with("bad/police.toml:"), "no file and line: {line}");
        let line_no: u32 = line.split(':').nth(1).unwrap().parse().unwrap_or_else(|_| panic!("no line: {line}"));
        assert!(line_no >= 1, "{line}");
    }
}

#[test]
fn a_special_category_field_kept_without_its_condition_fails_lint() {
    let ws = Workspace::new();
    let path = agreement_file(&ws, "camhs");
    let text_ = std::fs::read_to_string(&path).unwrap();
    let stripped: String =
        text_.lines().filter(|l| !l.trim_start().starts_with("article9")).map(|l| format!("{l}\n")).collect();
    assert_ne!(stripped, text_, "the CAMHS agreement has an article9 line");
    std::fs::write(&path, stripped).unwrap();
    let out = tellonce(ws.dir(), &["isa", "lint", "agreements", "--as-of", "2026-11-23"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("basis.article9_missing"), "{}", text(&out));
    // And the run does not process the feed under the broken agreement.
    let ws2 = two_feed_workspace();
    std::fs::write(agreement_file(&ws2, "camhs"), std::fs::read_to_string(&path).unwrap()).unwrap();
    let run = ws2.run(3, &["--as-of", "2026-11-23"]);
    assert_eq!(run.input("inputs/camhs.csv")["status"], "held", "{:#}", run.summary);
    assert_eq!(run.input("inputs/police.csv")["status"], "processed");
}

#[test]
fn an_expired_agreement_holds_its_feed_untouched_and_a_later_run_processes_it() {
    let ws = two_feed_workspace();
    let before = sha256_of(&ws.dir().join("inputs/police.csv"));
    // Past every example agreement's end date.
    let run = ws.run(3, &["--as-of", "2031-01-01"]);
    for source in ["inputs/police.csv", "inputs/camhs.csv"] {
        let i = run.input(source);
        assert_eq!(i["status"], "held", "{i:#}");
        assert_eq!(i["error_rule"], "agreement.expired", "{i:#}");
        assert!(i["error"].as_str().unwrap().contains("ended on"), "{i:#}");
    }
    assert!(visible_parquet(&ws.out().join("staging")).is_empty(), "a held feed wrote staging data");
    assert!(files_under(&ws.out().join("state").join("inputs")).is_empty(), "a held input was marked done");
    assert_eq!(sha256_of(&ws.dir().join("inputs/police.csv")), before, "the held input was modified");
    let log = std::fs::read_to_string(ws.out().join("audit/audit.jsonl")).unwrap();
    assert_eq!(log.matches("\"type\":\"input_held\"").count(), 2, "{log}");
    // Nothing was lost: under an agreement in force, the same inputs are processed in full.
    let run = ws.run(0, &[]);
    run.assert_counts("inputs/police.csv", "processed", 3, 3, 0);
    run.assert_counts("inputs/camhs.csv", "processed", 1, 1, 0);
    assert!(audit_verify(&ws).status.success(), "{}", text(&audit_verify(&ws)));
}

#[test]
fn a_field_the_agreement_does_not_name_is_in_no_output() {
    let ws = two_feed_workspace();
    edit_agreement(&ws, "police", |t| without_field(without_field(t, "surname"), "dash_risk"));
    let run = ws.run(0, &["--as-of", "2026-11-23"]);
    run.assert_counts("inputs/police.csv", "processed", 3, 3, 0);
    let dropped: Vec<&str> = run.input("inputs/police.csv")["fields_dropped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(dropped.contains(&"surname") && dropped.contains(&"dash_risk"), "{dropped:?}");
    let columns = staging_columns(&ws, "police");
    assert!(columns.iter().any(|c| c == "forename_token"), "the police file was written: {columns:?}");
    for gone in ["surname", "surname_token", "dash_risk"] {
        assert!(!columns.iter().any(|c| c == gone), "{gone} reached the output: {columns:?}");
    }
    // The dropped values are in no output either (HIGH is only ever the DASH risk here).
    assert_absent(&[b"Leeford", b"LEEFORD", b"Kayleigh", b"HIGH"], &[&run.output], &ws.out());
    // Every row names the agreement that let it through.
    for p in visible_parquet(&ws.out().join("staging/feed=police")) {
        let labels = parquet_column(&p, "_agreement");
        assert!(labels.iter().all(|l| l.as_deref().is_some_and(|l| l.contains('@'))), "{labels:?}");
    }
}

/// Runs a small synthetic deployment and returns it with its verified audit log.
fn synthetic_run() -> Workspace {
    let ws = synth_workspace(150, 11);
    tellonce_ok(ws.dir(), &["run", "--config", "tellonce.toml", "--no-progress", "--as-of", "2026-11-23"], 0);
    let ok = audit_verify(&ws);
    assert_eq!(ok.status.code(), Some(0), "a clean run does not verify: {}", text(&ok));
    ws
}

/// A copy of `ws` with its audit log's lines changed by `tamper`, and what `audit verify` says.
fn verify_after(ws: &Workspace, tamper: impl Fn(&mut Vec<String>)) -> (i32, String) {
    let copy = Workspace::bare();
    copy_tree(ws.dir(), copy.dir());
    let log = copy.out().join("audit/audit.jsonl");
    let text_ = std::fs::read_to_string(&log).unwrap();
    let mut lines: Vec<String> = text_.lines().map(str::to_owned).collect();
    tamper(&mut lines);
    std::fs::write(&log, lines.iter().map(|l| format!("{l}\n")).collect::<String>()).unwrap();
    let out = audit_verify(&copy);
    (out.status.code().unwrap(), text(&out))
}

#[test]
fn audit_verify_names_the_first_bad_entry_after_each_kind_of_tampering() {
    let ws = synthetic_run();
    let lines = std::fs::read_to_string(ws.out().join("audit/audit.jsonl")).unwrap().lines().count();
    assert!(lines > 10, "a run writes many entries ({lines})");

    // One byte changed in entry 6 (a digit of a count, or any byte of its body).
    let (code, said) = verify_after(&ws, |l| {
        let bytes = unsafe_free_flip(&l[5]);
        l[5] = bytes;
    });
    assert_eq!(code, 5, "{said}");
    assert!(said.contains("line 6") && said.contains("changed"), "{said}");

    // Entry 6 deleted.
    let (code, said) = verify_after(&ws, |l| {
        l.remove(5);
    });
    assert_eq!(code, 5, "{said}");
    assert!(said.contains("entry 6") && said.contains("missing"), "{said}");

    // Entries 6 and 7 swapped.
    let (code, said) = verify_after(&ws, |l| l.swap(5, 6));
    assert_eq!(code, 5, "{said}");
    assert!(said.contains("line 6"), "{said}");

    // The last two entries cut off.
    let (code, said) = verify_after(&ws, |l| {
        l.truncate(l.len() - 2);
    });
    assert_eq!(code, 5, "{said}");
    assert!(said.contains("truncated"), "{said}");

    // An output file modified after the run.
    let copy = Workspace::bare();
    copy_tree(ws.dir(), copy.dir());
    let part = visible_parquet(&copy.out().join("staging/feed=police")).remove(0);
    let mut bytes = std::fs::read(&part).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x01;
    std::fs::write(&part, bytes).unwrap();
    let out = audit_verify(&copy);
    assert_eq!(out.status.code(), Some(5), "{}", text(&out));
    let rel = part.strip_prefix(copy.out()).unwrap().display().to_string();
    assert!(text(&out).contains(&rel), "does not name {rel}: {}", text(&out));
}

/// The line with one character of its body changed (a digit bumped, or a letter's case).
fn unsafe_free_flip(line: &str) -> String {
    let mut chars: Vec<char> = line.chars().collect();
    // Change a character inside the event, away from the MAC at the end.
    let i = line.find("\"event\"").unwrap() + 12;
    chars[i] = match chars[i] {
        '0'..='8' => char::from(chars[i] as u8 + 1),
        '9' => '0',
        c if c.is_ascii_lowercase() => c.to_ascii_uppercase(),
        c if c.is_ascii_uppercase() => c.to_ascii_lowercase(),
        _ => 'x',
    };
    chars.into_iter().collect()
}

/// The `retention_until` the audit log recorded for the file whose path contains `part`.
fn recorded_due(ws: &Workspace, part: &str) -> i32 {
    let log = std::fs::read_to_string(ws.out().join("audit/audit.jsonl")).unwrap();
    let entry = log
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|e| e["event"]["type"] == "file_written" && e["event"]["path"].as_str().unwrap().contains(part))
        .unwrap_or_else(|| panic!("no file_written for {part}"));
    tellonce_schemas::identifiers::dates::parse(entry["event"]["retention_until"].as_str().unwrap()).unwrap()
}

#[test]
fn retention_deletes_exactly_the_files_due_and_logs_each_deletion() {
    use tellonce_schemas::identifiers::dates;
    let ws = two_feed_workspace();
    edit_agreement(&ws, "camhs", |t| set_line(t, "months", "12"));
    ws.run(0, &[]);
    let held_before = hashes(&ws.out(), "staging");
    assert_eq!(held_before.len(), 2, "{held_before:?}");
    // Retention runs from the day of writing: twelve months for CAMHS, six years for police.
    let today = dates::today();
    let due = recorded_due(&ws, "staging/feed=camhs/");
    assert!(
        (today + 365..=today + 366).contains(&due),
        "camhs due {} written {}",
        dates::format(due),
        dates::format(today)
    );
    assert!(recorded_due(&ws, "staging/feed=police/") > today + 5 * 365);
    let retention = |args: &[&str]| {
        let mut all = vec!["retention", "apply", "--config", "tellonce.toml"];
        all.extend_from_slice(args);
        tellonce_ok(ws.dir(), &all, 0)
    };
    let (day_before, due_day) = (dates::format(due - 1), dates::format(due));
    // The identity index's records, as `feed/record_ref`.
    let indexed = || {
        let index = ws.out().join("state/link/index.parquet");
        let feeds = parquet_column(&index, "feed");
        let refs = parquet_column(&index, "record_ref");
        let mut all: Vec<String> =
            feeds.into_iter().zip(refs).map(|(f, r)| format!("{}/{}", f.unwrap(), r.unwrap())).collect();
        all.sort();
        all
    };
    assert_eq!(indexed(), ["camhs/C1", "police/P1", "police/P2", "police/P3"]);
    // The day before the CAMHS output is due: nothing goes.
    let out = retention(&["--as-of", &day_before]);
    assert!(text(&out).contains("deleted 0 file(s)"), "{}", text(&out));
    assert_eq!(hashes(&ws.out(), "staging"), held_before);
    // On the day, a dry run lists the CAMHS file and deletes nothing.
    let out = retention(&["--as-of", &due_day, "--dry-run"]);
    assert!(text(&out).contains("would delete staging/feed=camhs/"), "{}", text(&out));
    assert_eq!(hashes(&ws.out(), "staging"), held_before);
    assert!(text(&out).contains("would delete links/feed=camhs/"), "{}", text(&out));
    // Applied: exactly the CAMHS files go (staging part, and the links and theme events derived
    // from it, which fall under the same agreement's retention), with the persons, families,
    // family outcomes, outcome claims, re-referrals and aggregates made from both feeds (they go with the
    // earliest of their agreements); the police staging, links and theme events stay, and so do
    // the episodes (read from the education feed alone, which this deployment does not have).
    let out = retention(&["--as-of", &due_day]);
    assert!(text(&out).contains("deleted 11 file(s)"), "{}", text(&out));
    // The deleted CAMHS record is no longer named by the identity index.
    assert!(text(&out).contains("dropped 1 record reference(s)"), "{}", text(&out));
    assert_eq!(indexed(), ["police/P1", "police/P2", "police/P3"]);
    for mixed in ["persons", "families", "family_outcomes", "outcome_claims", "re_referrals", "aggregates"] {
        assert!(visible_parquet(&ws.out().join(mixed)).is_empty(), "{mixed} outlived the CAMHS agreement");
    }
    assert!(visible_parquet(&ws.out().join("theme_events/headline=SF03")).is_empty());
    assert!(!visible_parquet(&ws.out().join("theme_events/headline=SF08")).is_empty());
    let after = hashes(&ws.out(), "staging");
    let expected: std::collections::BTreeMap<_, _> =
        held_before.into_iter().filter(|(p, _)| p.contains("feed=police")).collect();
    assert_eq!(after, expected);
    assert!(visible_parquet(&ws.out().join("links/feed=camhs")).is_empty());
    assert_eq!(visible_parquet(&ws.out().join("links/feed=police")).len(), 1);
    let log = std::fs::read_to_string(ws.out().join("audit/audit.jsonl")).unwrap();
    assert_eq!(log.matches("\"reason\":\"retention\"").count(), 11, "{log}");
    assert!(audit_verify(&ws).status.success(), "{}", text(&audit_verify(&ws)));
    // Applying again deletes nothing more.
    let out = retention(&["--as-of", &due_day]);
    assert!(text(&out).contains("deleted 0 file(s)"), "{}", text(&out));
    // The next build remakes the mixed datasets from what is left: police only.
    tellonce_ok(ws.dir(), &["build", "--config", "tellonce.toml"], 0);
    let persons = visible_parquet(&ws.out().join("persons"));
    assert_eq!(persons.len(), 1);
    let rows = format!("{:?}", parquet_rows(&persons[0]));
    assert!(rows.contains("police") && !rows.contains("camhs"), "{rows}");
}

#[test]
fn retention_refuses_to_delete_a_file_that_differs_from_its_record() {
    let ws = two_feed_workspace();
    edit_agreement(&ws, "camhs", |t| set_line(t, "months", "1"));
    ws.run(0, &[]);
    let part = visible_parquet(&ws.out().join("staging/feed=camhs")).remove(0);
    std::fs::write(&part, b"not the file that was written").unwrap();
    let out = tellonce(ws.dir(), &["retention", "apply", "--config", "tellonce.toml", "--as-of", "2099-01-01"]);
    assert_eq!(out.status.code(), Some(5), "{}", text(&out));
    assert!(text(&out).contains("differs from the SHA-256"), "{}", text(&out));
    assert!(part.exists(), "the changed file was deleted, hiding the change");
}

#[test]
fn as_of_cannot_let_through_what_today_holds() {
    let ws = two_feed_workspace();
    // The police agreement ended yesterday: no date given on the command line can revive it.
    let yesterday = tellonce_schemas::identifiers::dates::format(tellonce_schemas::identifiers::dates::today() - 1);
    edit_agreement(&ws, "police", |t| set_line(set_line(t, "review", "2025-06-01"), "end", &yesterday));
    let run = ws.run(3, &["--as-of", "2025-06-01"]);
    assert_eq!(run.input("inputs/police.csv")["status"], "held", "{:#}", run.summary);
    assert_eq!(run.input("inputs/camhs.csv")["status"], "processed");
    assert!(visible_parquet(&ws.out().join("staging/feed=police")).is_empty());
}

/// `tellonce sar` with identifiers on standard input.
fn sar(ws: &Workspace, identifiers: &str, extra: &[&str]) -> Output {
    let mut args = vec!["sar", "--config", "tellonce.toml", "--officer", "IG officer 7", "--reference", "SAR-2026-041"];
    args.extend_from_slice(extra);
    tellonce_with_stdin(ws.dir(), &args, identifiers)
}

#[test]
fn subject_access_finds_a_person_by_pseudonym_and_erasure_is_audited() {
    let ws = two_feed_workspace();
    ws.run(0, &["--as-of", "2026-11-23"]);
    let who = "forename=ann\nsurname=Leeford\ndate_of_birth=2010-01-02\npostcode=RH101AB\n";
    let out = sar(&ws, who, &["--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let found = json_stdout(&out);
    let ids: Vec<&str> =
        found["holdings"].as_array().unwrap().iter().map(|h| h["record_id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["P1", "P2"], "{found:#}");
    assert!(found["holdings"][0]["agreement"].as_str().unwrap().contains('@'));
    assert!(found["holdings"][0]["delete_by"].as_str().is_some());
    // The NHS number alone finds the CAMHS record.
    let out = sar(&ws, "nhs_number=943 476 5919\n", &["--json"]);
    assert_eq!(json_stdout(&out)["holdings"].as_array().unwrap().len(), 1, "{}", text(&out));
    // Too little to single out a person is refused, naming what is needed.
    let out = sar(&ws, "forename=Ann\n", &[]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("not enough to identify"), "{}", text(&out));

    // Erasure where the agreement does not allow it (the example's public task) keeps the
    // records and says so.
    assert!(std::fs::read_to_string(agreement_file(&ws, "police")).unwrap().contains("erasure = false"));
    let out = sar(&ws, who, &["--erase", "--json"]);
    assert_eq!(json_stdout(&out)["erased"], 0, "{}", text(&out));
    // Where it does, the rows go, the log records it, and the log still verifies.
    edit_agreement(&ws, "police", |t| set_line(t, "erasure", "true"));
    let out = sar(&ws, who, &["--erase", "--json"]);
    assert_eq!(json_stdout(&out)["erased"], 2, "{}", text(&out));
    // The identity index no longer names the erased records.
    let index = ws.out().join("state/link/index.parquet");
    let mut indexed: Vec<Option<String>> = parquet_column(&index, "record_ref");
    indexed.sort();
    assert_eq!(indexed, [Some("C1".to_owned()), Some("P3".to_owned())]);
    let police = visible_parquet(&ws.out().join("staging/feed=police"));
    let left: Vec<Option<String>> = police.iter().flat_map(|p| parquet_column(p, "record_id")).collect();
    assert_eq!(left, [Some("P3".to_owned())]);
    // The next build derives links/ and the outcome datasets from what is left: the erased
    // records are in none of them.
    tellonce_ok(ws.dir(), &["build", "--config", "tellonce.toml"], 0);
    let linked: Vec<Option<String>> =
        visible_parquet(&ws.out().join("links")).iter().flat_map(|p| parquet_column(p, "record_ref")).collect();
    assert!(linked.contains(&Some("P3".to_owned())), "{linked:?}");
    assert!(!linked.iter().any(|r| matches!(r.as_deref(), Some("P1" | "P2"))), "erased records linked: {linked:?}");
    let verify = audit_verify(&ws);
    assert!(verify.status.success(), "{}", text(&verify));
    let log = std::fs::read_to_string(ws.out().join("audit/audit.jsonl")).unwrap();
    // Four lookups made (two access, two erasure); the one refused for too little identified no one.
    assert_eq!(log.matches("\"type\":\"subject_lookup\"").count(), 4, "{log}");
    assert!(log.contains("SAR-2026-041") && log.contains("\"records_erased\":2"), "{log}");
    // The identifiers typed never reach the log or any output.
    assert_absent(&[b"Leeford", b"LEEFORD", b"RH10 1AB", b"RH101AB", b"2010-01-02", b"9434765919"], &[], &ws.out());
}

#[test]
fn the_audit_report_is_one_page_that_says_what_the_police_shared_and_what_became_of_it() {
    let ws = synthetic_run();
    let out = tellonce_ok(ws.dir(), &["audit", "report", "--config", "tellonce.toml", "--out", "report.html"], 0);
    assert!(text(&out).contains("report.html"), "{}", text(&out));
    let html = std::fs::read_to_string(ws.dir().join("report.html")).unwrap();
    let police = std::fs::read_to_string(agreement_file(&ws, "police")).unwrap();
    let id = police.lines().find(|l| l.starts_with("id =")).unwrap().split('"').nth(1).unwrap().to_owned();
    for want in [id.as_str(), "police", "<svg", "quarantined", "Verified."] {
        assert!(html.contains(want), "the report lacks {want}");
    }
    assert!(!html.contains("src=\"http") && !html.contains("href=\"http"), "the report needs the network");
    // No clear identifier from the inputs is in it.
    let ids = Identifiers::from_inputs(&files_under(&ws.dir().join("inputs")));
    assert!(ids.find(&html).is_empty(), "{:?}", ids.find(&html));
}

#[test]
fn isa_diff_shows_what_a_proposed_change_would_share_and_withdraw_before_it_is_signed() {
    let ws = Workspace::new();
    let old = agreement_file(&ws, "police");
    let proposed = std::fs::read_to_string(&old).unwrap();
    let proposed = without_field(proposed, "dash_risk");
    let proposed = set_line(
        proposed,
        "date_of_birth",
        "{ action = [\"pseudonymise\", \"generalise\"], generalise = \"year\", clause = \"Schedule 2 item 6\" }",
    );
    let proposed = set_line(proposed, "version", "2");
    ws.write("proposed/police.toml", proposed);
    let out = tellonce_ok(ws.dir(), &["isa", "diff", old.to_str().unwrap(), "proposed/police.toml"], 0);
    let said = text(&out);
    for want in ["dash_risk", "withdrawn", "date_of_birth", "date_of_birth_month", "date_of_birth_year"] {
        assert!(said.contains(want), "the diff does not mention {want}:\n{said}");
    }
    // The same agreement against itself changes nothing.
    let same = tellonce_ok(ws.dir(), &["isa", "diff", old.to_str().unwrap(), old.to_str().unwrap()], 0);
    assert!(!text(&same).contains("dash_risk"), "{}", text(&same));
}

#[test]
fn erasing_every_row_of_a_file_removes_the_file_and_the_log_still_verifies() {
    let ws = Workspace::new();
    ws.write(
        "inputs/police.csv",
        format!("{POLICE_HEADER}\n{}\n", police("P1", "Dee", "Quarrington", "2009-05-06", "RH10 1AB")),
    );
    ws.config(&[("police", "inputs/police.csv")], "");
    edit_agreement(&ws, "police", |t| set_line(t, "erasure", "true"));
    ws.run(0, &["--as-of", "2026-11-23"]);
    let out = sar(
        &ws,
        "forename=Dee\nsurname=Quarrington\ndate_of_birth=2009-05-06\npostcode=RH10 1AB\n",
        &["--erase", "--json"],
    );
    assert_eq!(json_stdout(&out)["erased"], 1, "{}", text(&out));
    assert!(visible_parquet(&ws.out().join("staging")).is_empty(), "an empty file was left behind");
    let log = std::fs::read_to_string(ws.out().join("audit/audit.jsonl")).unwrap();
    assert!(log.contains("\"reason\":\"erasure\""), "{log}");
    let verify = audit_verify(&ws);
    assert!(verify.status.success(), "{}", text(&verify));
}

#[test]
fn force_after_an_erasure_does_not_bring_the_erased_records_back() {
    let ws = two_feed_workspace();
    edit_agreement(&ws, "police", |t| set_line(t, "erasure", "true"));
    ws.run(0, &[]);
    let who = "forename=Ann\nsurname=Leeford\ndate_of_birth=2010-01-02\npostcode=RH10 1AB\n";
    assert_eq!(json_stdout(&sar(&ws, who, &["--erase", "--json"]))["erased"], 2);
    let run = ws.run(0, &["--force"]);
    let police = run.input("inputs/police.csv");
    assert_eq!(police["status"], "skipped", "{police:#}");
    assert!(police["error"].as_str().unwrap().contains("erased"), "{police:#}");
    let after = sar(&ws, who, &["--json"]);
    assert_eq!(json_stdout(&after)["holdings"].as_array().unwrap().len(), 0, "{}", text(&after));
    // The CAMHS input, untouched by the erasure, is reprocessed as --force asks.
    assert_eq!(run.input("inputs/camhs.csv")["status"], "processed");
}

#[test]
fn an_erased_record_sent_again_in_a_new_extract_is_refused_by_its_tombstone() {
    let ws = two_feed_workspace();
    edit_agreement(&ws, "police", |t| set_line(t, "erasure", "true"));
    ws.run(0, &[]);
    let who = "forename=Ann\nsurname=Leeford\ndate_of_birth=2010-01-02\npostcode=RH10 1AB\n";
    assert_eq!(json_stdout(&sar(&ws, who, &["--erase", "--json"]))["erased"], 2);
    let tombstones = std::fs::read_to_string(ws.out().join("state/tombstones/police.jsonl")).unwrap();
    assert_eq!(tombstones.lines().count(), 2, "{tombstones}");
    for value in ["Ann", "Leeford", "2010-01-02", "RH10"] {
        assert!(!tombstones.contains(value), "a tombstone holds {value}");
    }

    // The partner's next extract is new content with the erased records in it again.
    let rows = [
        police("P1", "Ann", "Leeford", "2010-01-02", "RH10 1AB"),
        police("P3", "Bob", "Kayleigh", "2011-03-04", "BN11 2AB"),
        police("P5", "Eve", "Kayleigh", "2013-05-06", "BN11 2AB"),
    ];
    ws.write("inputs/police-next.csv", format!("{POLICE_HEADER}\n{}\n", rows.join("\n")));
    ws.config(
        &[("police", "inputs/police.csv"), ("camhs", "inputs/camhs.csv"), ("police", "inputs/police-next.csv")],
        "",
    );
    let run = ws.run(0, &[]);
    let next = run.input("inputs/police-next.csv");
    let v = &next["versions"];
    assert_eq!([&v["new"], &v["unchanged"], &v["refused"]].map(|c| c.as_u64().unwrap()), [1, 1, 1], "{next:#}");
    assert_eq!(next["written"], 1, "{next:#}");
    assert!(!text(&run.output).contains("Leeford"), "{}", text(&run.output));
    let after = sar(&ws, who, &["--json"]);
    assert_eq!(json_stdout(&after)["holdings"].as_array().unwrap().len(), 0, "{}", text(&after));
    let log = std::fs::read_to_string(ws.out().join("audit/audit.jsonl")).unwrap();
    assert!(log.lines().any(|l| l.contains("records_compared") && l.contains("\"refused\":1")), "{log}");
}

#[test]
fn a_mistyped_identifiers_line_is_refused_without_echoing_it() {
    let ws = two_feed_workspace();
    ws.run(0, &[]);
    let out = sar(&ws, "Sunita Rahman, DOB 2002-01-11, NHS=9434765919\n", &[]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("line 1") && text(&out).contains("unknown identifier"), "{}", text(&out));
    for typed in ["Sunita", "Rahman", "2002-01-11", "9434765919"] {
        assert!(!text(&out).contains(typed), "{typed} echoed: {}", text(&out));
    }
}

#[test]
fn a_rejected_input_is_in_the_audit_log_and_none_of_its_batches_are() {
    let ws = Workspace::new();
    ws.write("inputs/empty.csv", "");
    ws.config(&[("police", "inputs/empty.csv")], "");
    ws.run(3, &[]);
    let log = std::fs::read_to_string(ws.out().join("audit/audit.jsonl")).unwrap();
    assert_eq!(log.matches("\"type\":\"input_rejected\"").count(), 1, "{log}");
    assert!(log.contains("file.empty"), "{log}");
    assert!(!log.contains("\"type\":\"batch_decided\""), "{log}");
    assert!(audit_verify(&ws).status.success());
}

#[test]
fn a_part_deleted_by_a_run_that_stopped_before_logging_it_is_logged_by_the_next() {
    let ws = Workspace::new();
    let rows: Vec<String> =
        (0..1200).map(|i| police(&format!("P{i}"), "Ann", "Leeford", "2010-01-02", "RH10 1AB")).collect();
    ws.write("inputs/police.csv", format!("{POLICE_HEADER}\n{}\n", rows.join("\n")));
    ws.config(&[("police", "inputs/police.csv")], "[limits]\nmax_file_rows = 500\n");
    ws.run(0, &[]);
    let parts = visible_parquet(&ws.out().join("staging/feed=police"));
    assert_eq!(parts.len(), 3);
    // A forced re-run with larger files would remove the third part: it got as far as deleting
    // it, and stopped.
    std::fs::remove_file(&parts[2]).unwrap();
    assert_eq!(audit_verify(&ws).status.code(), Some(5));
    ws.config(&[("police", "inputs/police.csv")], "");
    ws.run(0, &["--force"]);
    assert_eq!(visible_parquet(&ws.out().join("staging/feed=police")).len(), 1);
    let verify = audit_verify(&ws);
    assert!(verify.status.success(), "{}", text(&verify));
}

#[test]
fn two_overlapping_agreements_hold_their_feed_as_ambiguous_not_as_unagreed() {
    let ws = two_feed_workspace();
    // A second agreement (a new id) for police over the same period: the lint refuses both.
    let police = agreement_file(&ws, "police");
    let isa = std::fs::read_to_string(&police).unwrap();
    let id_line = isa.lines().find(|l| l.starts_with("id = ")).unwrap().to_owned();
    ws.write("agreements/police-rival.toml", isa.replacen(&id_line, "id = \"ISA-RIVAL\"", 1));
    let run = ws.run(3, &[]);
    let i = run.input("inputs/police.csv");
    assert_eq!((i["status"].as_str(), i["error_rule"].as_str()), (Some("held"), Some("agreement.ambiguous")), "{i:#}");
    let error = i["error"].as_str().unwrap();
    assert!(error.contains("ISA-RIVAL@") && error.contains("isa lint"), "{error}");
    run.assert_counts("inputs/camhs.csv", "processed", 1, 1, 0);
    let explain = tellonce_ok(ws.dir(), &["isa", "explain", "--config", "tellonce.toml", "--feed", "police"], 0);
    assert!(text(&explain).contains("overlapping agreements are not allowed"), "{}", text(&explain));
}

#[test]
fn a_symlink_planted_at_an_audit_file_is_refused_and_its_target_untouched() {
    for name in ["audit.jsonl", "audit.head.json", "audit.lock"] {
        let ws = two_feed_workspace();
        let target = ws.write("elsewhere/precious.txt", "not an audit log\n");
        std::fs::create_dir_all(ws.out().join("audit")).unwrap();
        std::os::unix::fs::symlink(&target, ws.out().join("audit").join(name)).unwrap();
        let out = tellonce_ok(ws.dir(), &["run", "--config", "tellonce.toml", "--json", "--no-progress"], 4);
        assert!(text(&out).contains(name) && text(&out).contains("symbolic link"), "{name}: {}", text(&out));
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "not an audit log\n", "{name}");
        assert!(visible_parquet(&ws.out().join("staging")).is_empty(), "{name}: data written without an audit log");
    }
}

/// A workspace for subject access: police and CAMHS records of four people, run and linked.
/// - Ann Leeford (police P1, no NHS number);
/// - Cat Morrow, NHS 9434765919 (CAMHS C1), and Dan Morrow, her twin: same date of birth and
///   postcode, no NHS number held (police P9);
/// - Eve Stone, NHS 6541003238, at BN11 2AB in CAMHS (C2) and at RH10 1AB in police (P5): one
///   person who moved, joined by the linkage build.
fn sar_workspace() -> Workspace {
    let ws = Workspace::new();
    let rows = [
        police("P1", "Ann", "Leeford", "2010-01-02", "RH10 1AB"),
        police("P9", "Dan", "Morrow", "2012-07-19", "RH10 1AB"),
        police("P5", "Eve", "Stone", "2011-03-04", "RH10 1AB"),
    ];
    ws.write("inputs/police.csv", format!("{POLICE_HEADER}\n{}\n", rows.join("\n")));
    ws.write(
        "inputs/camhs.csv",
        format!(
            "{CAMHS_HEADER}\nC1,9434765919,Cat,Morrow,2012-07-19,RH10 1AB,2024-03-01,ACCEPTED\n\
             C2,6541003238,Eve,Stone,2011-03-04,BN11 2AB,2024-03-01,ACCEPTED\n"
        ),
    );
    ws.config(&[("police", "inputs/police.csv"), ("camhs", "inputs/camhs.csv")], "");
    edit_agreement(&ws, "police", |t| set_line(t, "erasure", "true"));
    edit_agreement(&ws, "camhs", |t| set_line(t, "erasure", "true"));
    ws.run(0, &[]);
    ws
}

/// The `record_id`s a `sar --json` found, sorted.
fn found_ids(out: &Output) -> Vec<String> {
    assert_eq!(out.status.code(), Some(0), "{}", text(out));
    let mut ids: Vec<String> = json_stdout(out)["holdings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["record_id"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    ids
}

#[test]
fn subject_access_refuses_identifiers_of_two_people_before_anything_is_listed_or_erased() {
    let ws = sar_workspace();
    let staged_before = hashes(&ws.out(), "staging");
    let refusals: [(&str, &str); 5] = [
        // Cat's NHS number with Ann's name, date of birth and postcode.
        (
            "nhs_number=9434765919\nforename=Ann\nsurname=Leeford\ndate_of_birth=2010-01-02\npostcode=RH10 1AB\n",
            "carry a different date_of_birth",
        ),
        // Cat's NHS number with her twin Dan's details: same date of birth and postcode.
        (
            "nhs_number=9434765919\nforename=Dan\nsurname=Morrow\ndate_of_birth=2012-07-19\npostcode=RH10 1AB\n",
            "carry another forename than the one given",
        ),
        // Her NHS number with her twin's forename alone.
        ("nhs_number=9434765919\nforename=Dan\n", "records matched on nhs_number carry another forename"),
        // A key given twice, even with the same value.
        ("nhs_number=9434765919\nnhs_number=943 476 5919\n", "nhs_number is given more than once"),
        // Eve's NHS number with a date of birth that is not hers.
        ("nhs_number=6541003238\ndate_of_birth=2012-07-19\n", "carry a different date_of_birth"),
    ];
    for (who, why) in refusals {
        for extra in [&["--json"][..], &["--erase", "--json"]] {
            let out = sar(&ws, who, extra);
            assert_eq!(out.status.code(), Some(7), "{who:?}: {}", text(&out));
            assert!(text(&out).contains("do not describe one person") && text(&out).contains(why), "{}", text(&out));
            assert!(out.stdout.is_empty(), "a refused lookup listed something: {}", text(&out));
            let values: [&[u8]; 7] =
                [b"9434765919", b"Leeford", b"2010-01-02", b"RH10 1AB", b"2012-07-19", b"6541003238", b"Morrow"];
            assert_absent(&values, &[&out], &ws.out());
        }
    }
    assert_eq!(hashes(&ws.out(), "staging"), staged_before, "a refused erasure changed staging");
    let log = std::fs::read_to_string(ws.out().join("audit/audit.jsonl")).unwrap();
    assert_eq!(log.matches("\"kind\":\"access_refused\"").count(), 5, "{log}");
    assert_eq!(log.matches("\"kind\":\"erasure_refused\"").count(), 5, "{log}");
    assert!(audit_verify(&ws).status.success());

    // One person described several ways is found: by a record matching both routes (Cat), and
    // by records of one linked person who moved (Eve).
    let cat = "nhs_number=9434765919\nforename=Cat\nsurname=Morrow\ndate_of_birth=2012-07-19\npostcode=RH10 1AB\n";
    assert_eq!(found_ids(&sar(&ws, cat, &["--json"])), ["C1"]);
    let eve = "nhs_number=6541003238\nforename=Eve\nsurname=Stone\ndate_of_birth=2011-03-04\npostcode=RH10 1AB\n";
    assert_eq!(found_ids(&sar(&ws, eve, &["--json"])), ["C2", "P5"]);
    assert_eq!(found_ids(&sar(&ws, "nhs_number=6541003238\ndate_of_birth=2011-03-04\n", &["--json"])), ["C2"]);
    // Nothing held is no contradiction.
    assert_eq!(found_ids(&sar(&ws, "nhs_number=4010232137\n", &["--json"])), Vec::<String>::new());
}

#[test]
fn subject_access_refuses_a_blank_officer_or_reference() {
    let ws = sar_workspace();
    for (officer, reference, what) in
        [("", "SAR-1", "--officer"), ("  ", "SAR-1", "--officer"), ("IG 7", " \t", "--reference")]
    {
        let out = tellonce(
            ws.dir(),
            &[
                "sar",
                "--config",
                "tellonce.toml",
                "--officer",
                officer,
                "--reference",
                reference,
                "--identifiers",
                "none",
            ],
        );
        assert_eq!(out.status.code(), Some(2), "{}", text(&out));
        assert!(text(&out).contains(what), "{}", text(&out));
    }
}

#[test]
fn a_tampered_log_stops_every_writer_with_exit_4_and_the_report_says_so_with_exit_5() {
    let ws = synthetic_run();
    let copy = Workspace::bare();
    copy_tree(ws.dir(), copy.dir());
    let log = copy.out().join("audit/audit.jsonl");
    let mut lines: Vec<String> = std::fs::read_to_string(&log).unwrap().lines().map(str::to_owned).collect();
    lines[5] = unsafe_free_flip(&lines[5]);
    std::fs::write(&log, lines.iter().map(|l| format!("{l}\n")).collect::<String>()).unwrap();
    let staged = hashes(&copy.out(), "staging");
    for args in [
        &["run", "--config", "tellonce.toml", "--no-progress", "--force"][..],
        &["build", "--config", "tellonce.toml"],
        &["retention", "apply", "--config", "tellonce.toml"],
    ] {
        let out = tellonce_ok(copy.dir(), args, 4);
        assert!(text(&out).contains("audit"), "{args:?} does not name the audit log: {}", text(&out));
    }
    assert_eq!(hashes(&copy.out(), "staging"), staged, "a writer went on after a tampered entry");
    let report = tellonce_ok(copy.dir(), &["audit", "report", "--config", "tellonce.toml", "--out", "r.html"], 5);
    assert!(text(&report).contains("DOES NOT VERIFY"), "{}", text(&report));
    let html = std::fs::read_to_string(copy.dir().join("r.html")).unwrap();
    assert!(html.contains("line 6"), "the report does not say where");
}

#[test]
fn a_lock_held_by_another_process_exits_4_naming_it_and_changes_nothing() {
    let ws = synthetic_run();
    let out = ws.out();
    let staged = hashes(&out, "staging");
    for (lock, args) in [
        ("state/run.lock", &["run", "--config", "tellonce.toml", "--no-progress", "--force"][..]),
        ("state/build.lock", &["build", "--config", "tellonce.toml"]),
    ] {
        // Held here, as another process would hold it: tellonce takes flock(2) locks, which
        // conflict between open files whoever holds them.
        let holder = std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(out.join(lock)).unwrap();
        holder.try_lock().unwrap();
        let said = tellonce_ok(ws.dir(), args, 4);
        drop(holder);
        assert!(text(&said).contains(lock.rsplit('/').next().unwrap()), "{args:?}: {}", text(&said));
        assert_eq!(hashes(&out, "staging"), staged, "{args:?} wrote while {lock} was held");
    }
    // Once the locks are free, the same commands run.
    tellonce_ok(ws.dir(), &["build", "--config", "tellonce.toml"], 0);
}
