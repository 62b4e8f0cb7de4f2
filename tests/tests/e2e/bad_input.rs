//! Bad input: each kind of bad record or file is quarantined (or the file rejected) with its
//! rule, or, for a bad identifier, the field nulled and the record kept with `_dq` naming the
//! column and rule; the messages name file, line, column and rule, and the offending value
//! appears in no message and no output file.

use std::collections::BTreeMap;

use crate::support::*;

/// A police extract's columns (the required ones and the identifiers that have checks).
const POLICE_HEADER: &str =
    "record_id,occurrence_ref,pnc_id,forename,surname,date_of_birth,postcode,incident_date,incident_type,person_role";

/// An education extract's columns.
const EDUCATION_HEADER: &str = "record_id,upn,nhs_number,forename,surname,date_of_birth,postcode,event_date,event_type";

/// A valid police row.
fn police(id: &str) -> String {
    format!("{id},OCC-{id},2012/0052834K,Ann,Lee,2010-01-02,RH10 1AB,2024-01-05,CRIME,VICTIM")
}

/// A valid education row.
fn education(id: &str) -> String {
    format!("{id},B801200005001,9434765919,Ann,Lee,2015-06-30,RH10 1AB,2024-01-05,ATTENDANCE_TERM")
}

/// `{rule: 1}`.
fn one(rule: &str) -> BTreeMap<String, u64> {
    [(rule.to_owned(), 1)].into_iter().collect()
}

/// The `record_id`s in a feed's staging files, in file then row order.
fn staged_ids(ws: &Workspace, feed: &str) -> Vec<String> {
    visible_parquet(&ws.out().join("staging").join(format!("feed={feed}")))
        .iter()
        .flat_map(|p| parquet_column(p, "record_id"))
        .map(Option::unwrap)
        .collect()
}

/// Runs `quarantine list` (text and JSON) so that their output is scanned too.
fn absent_everywhere(ws: &Workspace, run: &Run, values: &[&[u8]]) {
    let (list, list_json) = ws.quarantine_list();
    assert_absent(values, &[&run.output, &list, &list_json], &ws.out());
}

#[test]
fn csv_unclosed_quote_is_quarantined_as_csv_malformed_at_its_line() {
    let ws = Workspace::new();
    let csv = format!(
        "{POLICE_HEADER}\n{}\nP2,OCC-P2,,\"UNCLOSEDSECRET,Zed,2010-01-02,RH10 1AB,2024-01-05,CRIME,VICTIM\n\
         P3,OCC-P3,,Swallowedname,Moe,2011-01-02,RH10 1AB,2024-01-05,CRIME,VICTIM\n",
        police("P1")
    );
    ws.write("inputs/police.csv", csv);
    ws.config(&[("police", "inputs/police.csv")], "");
    let run = ws.run(0, &[]);
    // The quote opened on line 3 is never closed: that record runs to the end of the file, and
    // each line it swallowed (3 and 4) is a reject of its own, so that the count says so.
    run.assert_counts("inputs/police.csv", "processed", 3, 1, 2);
    assert_eq!(run.by_rule("inputs/police.csv"), [("csv.malformed".to_owned(), 2)].into_iter().collect());
    assert_quarantined(&ws, "inputs/police.csv", 3, "csv.malformed", None);
    assert_quarantined(&ws, "inputs/police.csv", 4, "csv.malformed", None);
    assert_eq!(staged_ids(&ws, "police"), ["P1"]);
    absent_everywhere(&ws, &run, &[b"UNCLOSEDSECRET", b"Swallowedname", b"SWALLOWEDNAME"]);
    // The summary names the setting for an export that never quotes.
    let text =
        tellonce_tests::tellonce_ok(ws.dir(), &["run", "--config", "tellonce.toml", "--no-progress", "--force"], 0);
    let stdout = String::from_utf8_lossy(&text.stdout);
    assert!(stdout.contains("2 line(s) quarantined csv.malformed") && stdout.contains("quote = \"none\""), "{stdout}");
}

#[test]
fn csv_ragged_rows_are_quarantined_as_csv_ragged_row() {
    let ws = Workspace::new();
    let csv = format!(
        "{POLICE_HEADER}\n{}\n{},RAGGEDSECRET\nP3,OCC-P3,,Shortrow\n{}\n",
        police("P1"),
        police("P2"),
        police("P4")
    );
    ws.write("inputs/police.csv", csv);
    ws.config(&[("police", "inputs/police.csv")], "");
    let run = ws.run(0, &[]);
    run.assert_counts("inputs/police.csv", "processed", 4, 2, 2);
    assert_eq!(run.by_rule("inputs/police.csv"), [("csv.ragged_row".to_owned(), 2)].into_iter().collect());
    assert_quarantined(&ws, "inputs/police.csv", 3, "csv.ragged_row", None);
    assert_quarantined(&ws, "inputs/police.csv", 4, "csv.ragged_row", None);
    assert_eq!(staged_ids(&ws, "police"), ["P1", "P4"]);
    absent_everywhere(&ws, &run, &[b"RAGGEDSECRET", b"Shortrow", b"SHORTROW"]);
}

#[test]
fn csv_missing_a_required_column_is_rejected_with_exit_3_and_the_other_inputs_still_run() {
    let ws = Workspace::new();
    // No surname column: the schema requires it.
    let bad = "record_id,occurrence_ref,forename,incident_date,incident_type,person_role\n\
               B1,OCC-B1,Headerless,2024-01-05,CRIME,VICTIM\n";
    let bad_path = ws.write("inputs/police_bad.csv", bad);
    ws.write("inputs/police_good.csv", format!("{POLICE_HEADER}\n{}\n", police("G1")));
    ws.config(&[("police", "inputs/police_bad.csv"), ("police", "inputs/police_good.csv")], "");
    let run = ws.run(3, &[]);
    run.assert_counts("inputs/police_bad.csv", "rejected", 0, 0, 0);
    let error = run.input("inputs/police_bad.csv")["error"].as_str().unwrap().to_owned();
    assert!(error.contains("inputs/police_bad.csv") && error.contains("surname"), "{error}");
    assert_eq!(run.input("inputs/police_bad.csv")["error_rule"], "header.missing_columns");
    let stderr = run.stderr();
    assert!(stderr.contains("inputs/police_bad.csv") && stderr.contains("surname"), "{stderr}");
    // The file is left untouched and will be read again once fixed: no state marker.
    assert_eq!(std::fs::read(&bad_path).unwrap(), bad.as_bytes());
    let sha = run.input("inputs/police_bad.csv")["sha256"].as_str().unwrap().to_owned();
    assert!(
        !tellonce_tests::files_under(&ws.out().join("state")).iter().any(|p| p.display().to_string().contains(&sha))
    );
    // The other input was processed.
    run.assert_counts("inputs/police_good.csv", "processed", 1, 1, 0);
    assert_eq!(staged_ids(&ws, "police"), ["G1"]);
    // The text summary says so too.
    let table = tellonce_tests::tellonce_ok(ws.dir(), &["run", "--config", "tellonce.toml", "--no-progress"], 3);
    let table = text(&table);
    assert!(table.contains("REJECTED inputs/police_bad.csv") && table.contains("surname"), "{table}");
    absent_everywhere(&ws, &run, &[b"Headerless", b"HEADERLESS", b"OCC-B1"]);
}

#[test]
fn csv_invalid_utf8_is_quarantined_as_encoding_invalid_utf8() {
    let ws = Workspace::new();
    let mut csv = format!("{POLICE_HEADER}\n{}\n", police("P1")).into_bytes();
    csv.extend_from_slice(b"P2,OCC-P2,,Bo\xffbby,Zed,2010-01-02,RH10 1AB,2024-01-05,CRIME,VICTIM\n");
    csv.extend_from_slice(format!("{}\n", police("P3")).as_bytes());
    ws.write("inputs/police.csv", csv);
    let mut jsonl = b"{\"record_id\":\"J1\",\"occurrence_ref\":\"O1\",\"forename\":\"Ann\",\"surname\":\"Lee\",\
\"incident_date\":\"2024-01-05\",\"incident_type\":\"CRIME\",\"person_role\":\"VICTIM\"}\n"
        .to_vec();
    jsonl.extend_from_slice(
        b"{\"record_id\":\"J2\",\"occurrence_ref\":\"O2\",\"forename\":\"Jo\xfe\xffanna\",\"surname\":\"Lee\",\
\"incident_date\":\"2024-01-05\",\"incident_type\":\"CRIME\",\"person_role\":\"VICTIM\"}\n",
    );
    ws.write("inputs/police.jsonl", jsonl);
    ws.config(&[("police", "inputs/police.csv"), ("police", "inputs/police.jsonl")], "");
    let run = ws.run(0, &[]);
    run.assert_counts("inputs/police.csv", "processed", 3, 2, 1);
    assert_eq!(run.by_rule("inputs/police.csv"), one("encoding.invalid_utf8"));
    // CSV names the column whose value is not UTF-8.
    assert_quarantined(&ws, "inputs/police.csv", 3, "encoding.invalid_utf8", Some("forename"));
    run.assert_counts("inputs/police.jsonl", "processed", 2, 1, 1);
    assert_quarantined(&ws, "inputs/police.jsonl", 2, "encoding.invalid_utf8", None);
    absent_everywhere(
        &ws,
        &run,
        &[b"Bo\xffbby", "Bo\u{fffd}bby".as_bytes(), b"Jo\xfe\xffanna", "Jo\u{fffd}\u{fffd}anna".as_bytes()],
    );
}

#[test]
fn empty_csv_file_is_rejected_with_exit_3() {
    let ws = Workspace::new();
    ws.write("inputs/empty.csv", "");
    ws.write("inputs/police.csv", format!("{POLICE_HEADER}\n{}\n", police("P1")));
    ws.config(&[("police", "inputs/empty.csv"), ("police", "inputs/police.csv")], "");
    let run = ws.run(3, &[]);
    run.assert_counts("inputs/empty.csv", "rejected", 0, 0, 0);
    let error = run.input("inputs/empty.csv")["error"].as_str().unwrap().to_owned();
    assert!(error.contains("inputs/empty.csv") && error.contains("empty"), "{error}");
    assert_eq!(run.input("inputs/empty.csv")["error_rule"], "file.empty");
    assert!(run.stderr().contains("inputs/empty.csv"), "{}", run.stderr());
    run.assert_counts("inputs/police.csv", "processed", 1, 1, 0);
    assert_eq!(run.summary["feeds"]["police"]["inputs_rejected"], 1);
}

#[test]
fn a_missing_input_or_a_duplicated_header_column_rejects_that_input_with_exit_3() {
    let ws = Workspace::new();
    ws.write(
        "inputs/dupcol.csv",
        "record_id,occurrence_ref,forename,surname, SURNAME ,incident_date,incident_type,person_role\n\
         D1,O1,Ann,Lee,Dupsecret,2024-01-05,CRIME,VICTIM\n",
    );
    ws.write("inputs/police.csv", format!("{POLICE_HEADER}\n{}\n", police("P1")));
    ws.config(&[("police", "inputs/dupcol.csv"), ("police", "inputs/absent.csv"), ("police", "inputs/police.csv")], "");
    let run = ws.run(3, &[]);
    run.assert_counts("inputs/dupcol.csv", "rejected", 0, 0, 0);
    let error = run.input("inputs/dupcol.csv")["error"].as_str().unwrap().to_owned();
    assert!(error.contains("inputs/dupcol.csv") && error.contains("surname"), "{error}");
    run.assert_counts("inputs/absent.csv", "rejected", 0, 0, 0);
    let error = run.input("inputs/absent.csv")["error"].as_str().unwrap().to_owned();
    assert!(error.contains("inputs/absent.csv"), "{error}");
    run.assert_counts("inputs/police.csv", "processed", 1, 1, 0);
    absent_everywhere(&ws, &run, &[b"Dupsecret", b"DUPSECRET"]);
}

#[test]
fn empty_jsonl_file_is_rejected_like_an_empty_csv() {
    // README: "A file that cannot be processed at all (unreadable, empty, …) is left untouched,
    // reported with its path" and exit code 3 is for an input that is "unreadable, empty, wrong
    // header". A zero-byte JSON Lines extract is as empty as a zero-byte CSV.
    let ws = Workspace::new();
    ws.write("inputs/empty.jsonl", "");
    ws.config(&[("camhs", "inputs/empty.jsonl")], "");
    let out = tellonce_tests::tellonce(ws.dir(), &["run", "--config", "tellonce.toml", "--json", "--no-progress"]);
    let run = Run::new(out);
    assert_eq!(
        (run.output.status.code(), run.input("inputs/empty.jsonl")["status"].as_str()),
        (Some(3), Some("rejected")),
        "an empty JSON Lines file was accepted:\n{:#}",
        run.summary
    );
}

#[test]
fn header_only_csv_gives_zero_rows_and_exit_0() {
    let ws = Workspace::new();
    ws.write("inputs/police.csv", format!("{POLICE_HEADER}\n"));
    ws.config(&[("police", "inputs/police.csv")], "");
    let run = ws.run(0, &[]);
    run.assert_counts("inputs/police.csv", "processed", 0, 0, 0);
    assert_eq!(run.input("inputs/police.csv")["files"].as_array().unwrap().len(), 0);
    assert!(run.input("inputs/police.csv")["error"].is_null());
    assert!(visible_parquet(&ws.out()).is_empty());
    assert!(quarantine_entries(&ws.out()).is_empty());
}

#[test]
fn a_line_longer_than_max_line_bytes_is_quarantined_as_line_too_long() {
    let ws = Workspace::new();
    let long = "LONGSECRET".repeat(40);
    ws.write(
        "inputs/police.csv",
        format!(
            "{POLICE_HEADER}\n{}\nP2,OCC-P2,,Ann,{long},2010-01-02,RH10 1AB,2024-01-05,CRIME,VICTIM\n{}\n",
            police("P1"),
            police("P3")
        ),
    );
    ws.write(
        "inputs/police.jsonl",
        format!(
            "{{\"record_id\":\"J1\",\"occurrence_ref\":\"O1\",\"forename\":\"{long}\",\"surname\":\"Lee\",\
             \"incident_date\":\"2024-01-05\",\"incident_type\":\"CRIME\",\"person_role\":\"VICTIM\"}}\n"
        ),
    );
    ws.config(
        &[("police", "inputs/police.csv"), ("police", "inputs/police.jsonl")],
        "[limits]\nmax_line_bytes = 256\n",
    );
    let run = ws.run(0, &[]);
    run.assert_counts("inputs/police.csv", "processed", 3, 2, 1);
    assert_eq!(run.by_rule("inputs/police.csv"), one("line.too_long"));
    assert_quarantined(&ws, "inputs/police.csv", 3, "line.too_long", None);
    run.assert_counts("inputs/police.jsonl", "processed", 1, 0, 1);
    assert_quarantined(&ws, "inputs/police.jsonl", 1, "line.too_long", None);
    assert_eq!(staged_ids(&ws, "police"), ["P1", "P3"]);
    absent_everywhere(&ws, &run, &[b"LONGSECRETLONGSECRET"]);
}

/// One education file: a valid row on line 2, `bad` on line 3, a valid row on line 4. Checks
/// that line 3 alone is quarantined for `rule` naming `column`, and that `secrets` appear nowhere.
fn one_bad_education_row(bad: &str, rule: &str, column: &str, secrets: &[&[u8]]) {
    let ws = Workspace::new();
    ws.write("inputs/education.csv", format!("{EDUCATION_HEADER}\n{}\n{bad}\n{}\n", education("E1"), education("E3")));
    ws.config(&[("education", "inputs/education.csv")], "");
    let run = ws.run(0, &[]);
    run.assert_counts("inputs/education.csv", "processed", 3, 2, 1);
    assert_eq!(run.by_rule("inputs/education.csv"), one(rule));
    assert_quarantined(&ws, "inputs/education.csv", 3, rule, Some(column));
    assert_eq!(staged_ids(&ws, "education"), ["E1", "E3"]);
    absent_everywhere(&ws, &run, secrets);
}

/// Asserts that an input's records were all written (`read` of them), none quarantined, with
/// `nulled` (`column:rule → count`) as the summary's nulled fields.
fn assert_all_written_with_nulled(run: &Run, source: &str, read: u64, nulled: &[(&str, u64)]) {
    run.assert_counts(source, "processed", read, read, 0);
    assert!(run.by_rule(source).is_empty());
    let want: BTreeMap<String, u64> = nulled.iter().map(|(k, n)| ((*k).to_owned(), *n)).collect();
    assert_eq!(rule_counts(&run.input(source)["nulled_by_rule"]), want);
    assert_eq!(run.input(source)["nulled"].as_u64(), Some(want.values().sum::<u64>()));
}

/// Each staged row's `record_id`, `_dq` and whether `token` is null, in file then row order.
fn staged_dq(ws: &Workspace, feed: &str, token: &str) -> Vec<(String, Option<String>, bool)> {
    visible_parquet(&ws.out().join("staging").join(format!("feed={feed}")))
        .iter()
        .flat_map(|p| {
            let ids = parquet_column(p, "record_id");
            let dq = parquet_column(p, "_dq");
            let tokens = parquet_column(p, token);
            ids.into_iter().zip(dq).zip(tokens).map(|((id, dq), t)| (id.unwrap(), dq, t.is_none())).collect::<Vec<_>>()
        })
        .collect()
}

/// One education file: a valid row on line 2, `bad` (record E2) on line 3, a valid row on line
/// 4. Checks that all three are written, E2 with `token` null and `_dq` = `dq`, nothing is
/// quarantined, and that `secrets` appear nowhere.
fn one_nulled_education_field(bad: &str, dq: &str, token: &str, secrets: &[&[u8]]) {
    let ws = Workspace::new();
    ws.write("inputs/education.csv", format!("{EDUCATION_HEADER}\n{}\n{bad}\n{}\n", education("E1"), education("E3")));
    ws.config(&[("education", "inputs/education.csv")], "");
    let run = ws.run(0, &[]);
    assert_all_written_with_nulled(&run, "inputs/education.csv", 3, &[(dq, 1)]);
    assert!(quarantine_entries(&ws.out()).is_empty());
    assert_eq!(
        staged_dq(&ws, "education", token),
        [("E1".to_owned(), None, false), ("E2".to_owned(), Some(dq.to_owned()), true), ("E3".to_owned(), None, false)]
    );
    absent_everywhere(&ws, &run, secrets);
}

#[test]
fn nhs_number_with_a_wrong_check_digit_is_nulled_and_the_record_kept() {
    one_nulled_education_field(
        "E2,B801200005001,9434765918,Ann,Lee,2015-06-30,RH10 1AB,2024-01-05,ATTENDANCE_TERM",
        "nhs_number:nhs_number.check_digit",
        "nhs_number_token",
        &[b"9434765918", b"943 476 5918"],
    );
}

#[test]
fn upn_with_a_wrong_check_letter_is_nulled_and_the_record_kept() {
    one_nulled_education_field(
        "E2,C801200005001,9434765919,Ann,Lee,2015-06-30,RH10 1AB,2024-01-05,ATTENDANCE_TERM",
        "upn:upn.check_letter",
        "upn_token",
        &[b"C801200005001"],
    );
}

#[test]
fn postcode_in_no_royal_mail_format_is_nulled_and_the_record_kept() {
    one_nulled_education_field(
        "E2,B801200005001,9434765919,Ann,Lee,2015-06-30,RH10 1CI,2024-01-05,ATTENDANCE_TERM",
        "postcode:postcode.format",
        "postcode_token",
        &[b"RH10 1CI", b"RH101CI"],
    );
}

#[test]
fn pnc_id_with_a_wrong_check_character_is_nulled_and_the_record_kept() {
    let ws = Workspace::new();
    let bad = "P2,OCC-P2,2012/0052834L,Ann,Lee,2010-01-02,RH10 1AB,2024-01-05,CRIME,VICTIM";
    ws.write("inputs/police.csv", format!("{POLICE_HEADER}\n{}\n{bad}\n{}\n", police("P1"), police("P3")));
    ws.config(&[("police", "inputs/police.csv")], "");
    let run = ws.run(0, &[]);
    assert_all_written_with_nulled(&run, "inputs/police.csv", 3, &[("pnc_id:pnc_id.check_character", 1)]);
    let staged = staged_dq(&ws, "police", "pnc_id_token");
    assert_eq!(staged[1], ("P2".to_owned(), Some("pnc_id:pnc_id.check_character".to_owned()), true));
    assert!(!staged[0].2 && !staged[2].2, "the valid PNC IDs keep their tokens");
    absent_everywhere(&ws, &run, &[b"2012/0052834L", b"0052834L"]);
}

#[test]
fn an_unknown_event_code_still_quarantines_the_record() {
    one_bad_education_row(
        "E2,B801200005001,9434765919,Ann,Lee,2015-06-30,RH10 1AB,2024-01-05,ATTENDANCE_YEARLY",
        "code.unknown",
        "event_type",
        &[b"ATTENDANCE_YEARLY"],
    );
}

/// The `batch_decided` entries for `input` of the last run in `output/audit/audit.jsonl`:
/// their `nulled` maps, summed.
fn audited_nulled(ws: &Workspace, input: &str) -> BTreeMap<String, u64> {
    let log = std::fs::read_to_string(ws.out().join("audit/audit.jsonl")).unwrap();
    let mut sum = BTreeMap::new();
    for line in log.lines() {
        let entry: serde_json::Value = serde_json::from_str(line).unwrap();
        let e = &entry["event"];
        if e["type"] == "run_started" {
            sum.clear();
        }
        if e["type"] == "batch_decided" && e["input"] == input {
            for (k, v) in e["nulled"].as_object().into_iter().flatten() {
                *sum.entry(k.clone()).or_default() += v.as_u64().unwrap();
            }
        }
    }
    sum
}

#[test]
fn homeless_and_mistyped_identifiers_keep_their_records_and_a_bad_event_date_does_not() {
    let ws = Workspace::new();
    let police_rows = [
        "P1,OCC-P1,2012/0052834K,Zephyrine,Quillfeather,2010-01-02,ZZ99 3VZ,2024-01-05,CRIME,VICTIM",
        "P2,OCC-P2,0000/0000000Z,Ann,Lee,2010-01-02,RH10 1AB,2024-01-05,CRIME,VICTIM",
        "P3,OCC-P3,,Ann,Lee,2010-01-02,nfa,2024-01-05,CRIME,VICTIM",
        "P4,OCC-P4,2012/0052834K,Ann,Lee,2010-01-02,RH10 1AB,2023-02-30,CRIME,VICTIM",
    ];
    let education_rows = [
        "E1,B801200005001,9434765918,Ann,Lee,2015-06-30,RH10 1AB,2024-01-05,ATTENDANCE_TERM",
        "E2,B801200005001,9999999999,Ann,Lee,2015-06-30,N/K,2024-01-05,ATTENDANCE_TERM",
    ];
    ws.write("inputs/police.csv", format!("{POLICE_HEADER}\n{}\n", police_rows.join("\n")));
    ws.write("inputs/education.csv", format!("{EDUCATION_HEADER}\n{}\n", education_rows.join("\n")));
    ws.config(&[("police", "inputs/police.csv"), ("education", "inputs/education.csv")], "");
    let text_run = tellonce_tests::tellonce_ok(ws.dir(), &["run", "--config", "tellonce.toml", "--no-progress"], 0);

    let summary = text(&text_run);
    let police_nulled = [("pnc_id:pnc_id.placeholder", 1), ("postcode:postcode.no_fixed_abode", 2)];
    for (k, n) in police_nulled {
        assert!(summary.contains(&format!("{k} {n}")), "{k} {n} not in the summary:\n{summary}");
    }
    assert!(summary.contains("nulled   police           3 field(s)"), "{summary}");
    assert!(summary.contains("nhs_number:nhs_number.check_digit 1"), "{summary}");
    assert!(summary.contains("every record read was written or quarantined: yes"), "{summary}");

    // The same run again with --force, for the JSON summary.
    let run = ws.run(0, &["--force"]);
    run.assert_counts("inputs/police.csv", "processed", 4, 3, 1);
    assert_eq!(run.by_rule("inputs/police.csv"), one("date.calendar"));
    assert_quarantined(&ws, "inputs/police.csv", 5, "date.calendar", Some("incident_date"));
    let want: BTreeMap<String, u64> = police_nulled.iter().map(|(k, n)| ((*k).to_owned(), *n)).collect();
    assert_eq!(rule_counts(&run.input("inputs/police.csv")["nulled_by_rule"]), want);
    assert_eq!(run.summary["feeds"]["police"]["nulled"], 3);
    assert_all_written_with_nulled(
        &run,
        "inputs/education.csv",
        2,
        &[
            ("nhs_number:nhs_number.check_digit", 1),
            ("nhs_number:nhs_number.placeholder", 1),
            ("postcode:postcode.not_known", 1),
        ],
    );
    assert_eq!(audited_nulled(&ws, "inputs/police.csv"), want);
    assert_eq!(audited_nulled(&ws, "inputs/education.csv").values().sum::<u64>(), 3);

    // Staged with _dq; no token, outward code, area or key made from a nulled field.
    let part = &visible_parquet(&ws.out().join("staging/feed=police"))[0];
    let col = |name: &str| parquet_column(part, name);
    assert_eq!(col("record_id"), [Some("P1".into()), Some("P2".into()), Some("P3".into())]);
    assert_eq!(
        col("_dq"),
        [
            Some("postcode:postcode.no_fixed_abode".into()),
            Some("pnc_id:pnc_id.placeholder".into()),
            Some("postcode:postcode.no_fixed_abode".into())
        ]
    );
    for name in
        ["postcode_token", "postcode_outward", "birth_year_postcode_token", "postcode_sector_token", "mk_name_postcode"]
    {
        let v = col(name);
        assert!(v[0].is_none() && v[1].is_some() && v[2].is_none(), "{name}: {v:?}");
    }
    let pnc = col("pnc_id_token");
    assert!(pnc[0].is_some() && pnc[1].is_none() && pnc[2].is_none(), "{pnc:?}");
    let education = staged_dq(&ws, "education", "nhs_number_token");
    assert_eq!(
        education,
        [
            ("E1".to_owned(), Some("nhs_number:nhs_number.check_digit".to_owned()), true),
            ("E2".to_owned(), Some("nhs_number:nhs_number.placeholder;postcode:postcode.not_known".to_owned()), true),
        ]
    );

    let secrets: [&[u8]; 8] = [
        b"Zephyrine",
        b"ZEPHYRINE",
        b"Quillfeather",
        b"QUILLFEATHER",
        b"9434765918",
        b"0000/0000000Z",
        b"ZZ99",
        b"2023-02-30",
    ];
    assert_absent(&secrets, &[&text_run], &ws.out());
    absent_everywhere(&ws, &run, &secrets);
}

#[test]
fn an_impossible_date_is_quarantined_as_date_calendar() {
    let ws = Workspace::new();
    let bad = "P2,OCC-P2,,Ann,Lee,2010-01-02,RH10 1AB,2023-02-30,CRIME,VICTIM";
    ws.write("inputs/police.csv", format!("{POLICE_HEADER}\n{}\n{bad}\n{}\n", police("P1"), police("P3")));
    ws.config(&[("police", "inputs/police.csv")], "");
    let run = ws.run(0, &[]);
    run.assert_counts("inputs/police.csv", "processed", 3, 2, 1);
    assert_eq!(run.by_rule("inputs/police.csv"), one("date.calendar"));
    assert_quarantined(&ws, "inputs/police.csv", 3, "date.calendar", Some("incident_date"));
    absent_everywhere(&ws, &run, &[b"2023-02-30"]);
}

#[test]
fn a_duplicate_record_id_is_quarantined_and_the_first_is_kept() {
    let ws = Workspace::new();
    let rows = [
        "E1,B801200005001,9434765919,Firstkept,Lee,2015-06-30,RH10 1AB,2024-01-05,ATTENDANCE_TERM",
        "E2,B801200005001,9434765919,Ann,Lee,2015-06-30,RH10 1AB,2024-01-05,ATTENDANCE_TERM",
        "E1,B801200005001,9434765919,Duplicatus,Lee,2015-06-30,RH10 1AB,2024-02-05,SUSPENSION",
    ];
    ws.write("inputs/education.csv", format!("{EDUCATION_HEADER}\n{}\n", rows.join("\n")));
    ws.config(&[("education", "inputs/education.csv")], "");
    let run = ws.run(0, &[]);
    run.assert_counts("inputs/education.csv", "processed", 3, 2, 1);
    assert_eq!(run.by_rule("inputs/education.csv"), one("record_id.duplicate"));
    assert_quarantined(&ws, "inputs/education.csv", 4, "record_id.duplicate", Some("record_id"));
    // The first E1 (line 2) is the one written.
    let part = &visible_parquet(&ws.out().join("staging"))[0];
    let ids = parquet_column(part, "record_id");
    let positions = parquet_column(part, "_position");
    let types = parquet_column(part, "event_type");
    assert_eq!(ids, [Some("E1".to_owned()), Some("E2".to_owned())]);
    assert_eq!(positions, [Some("2".to_owned()), Some("3".to_owned())]);
    assert_eq!(types[0].as_deref(), Some("ATTENDANCE_TERM"));
    absent_everywhere(&ws, &run, &[b"Duplicatus", b"DUPLICATUS"]);
}

#[test]
fn unknown_columns_are_dropped_reported_and_never_passed_on() {
    let ws = Workspace::new();
    let csv = format!(
        "{EDUCATION_HEADER},secret_notes, Extra Col\n{},SECRETNOTE1,EXTRAVALUE1\n{},SECRETNOTE2,\n",
        education("E1"),
        education("E2")
    );
    ws.write("inputs/education.csv", csv);
    ws.write(
        "inputs/police.jsonl",
        "{\"record_id\":\"J1\",\"occurrence_ref\":\"O1\",\"forename\":\"Ann\",\"surname\":\"Lee\",\
         \"incident_date\":\"2024-01-05\",\"incident_type\":\"CRIME\",\"person_role\":\"VICTIM\",\
         \"mystery\":\"MYSTERYVALUE\",\"case_worker\":{\"name\":\"NESTEDVALUE\"}}\n",
    );
    ws.config(&[("education", "inputs/education.csv"), ("police", "inputs/police.jsonl")], "");
    let run = ws.run(0, &[]);
    // Unknown columns do not make rows bad: every row is written.
    run.assert_counts("inputs/education.csv", "processed", 2, 2, 0);
    run.assert_counts("inputs/police.jsonl", "processed", 1, 1, 0);
    // A name that is not a plain column name (here it has a space) may be data, and so may the
    // rest of its header: they are only counted.
    assert_eq!(
        run.input("inputs/education.csv")["unknown_columns"],
        serde_json::json!(["(2 unprintable column name(s) not shown: the header may hold data)"])
    );
    assert_eq!(run.input("inputs/police.jsonl")["unknown_columns"], serde_json::json!(["case_worker", "mystery"]));
    // Dropped from the Parquet schema.
    for part in visible_parquet(&ws.out().join("staging")) {
        let cols = parquet_columns(&part);
        for dropped in ["secret", "extra", "mystery", "case_worker"] {
            assert!(
                !cols.iter().any(|c| c.to_ascii_lowercase().contains(dropped)),
                "{dropped} in {}: {cols:?}",
                part.display()
            );
        }
    }
    // The text summary names them.
    let table =
        tellonce_tests::tellonce_ok(ws.dir(), &["run", "--config", "tellonce.toml", "--force", "--no-progress"], 0);
    let table = String::from_utf8_lossy(&table.stdout).into_owned();
    assert!(table.contains("(2 unprintable column name(s) not shown") && table.contains("mystery"), "{table}");
    assert!(!table.contains("Extra Col"), "a name that may be data is not printed:\n{table}");
    absent_everywhere(&ws, &run, &[b"SECRETNOTE", b"EXTRAVALUE1", b"MYSTERYVALUE", b"NESTEDVALUE"]);
}

#[cfg(unix)]
#[test]
fn a_fifo_or_a_device_as_a_source_is_rejected_naming_the_path_and_the_rule() {
    let ws = Workspace::new();
    std::fs::create_dir_all(ws.dir().join("inputs")).unwrap();
    let made = std::process::Command::new("mkfifo").arg(ws.dir().join("inputs/fifo.csv")).status().unwrap();
    assert!(made.success());
    std::os::unix::fs::symlink("/dev/zero", ws.dir().join("inputs/zero.csv")).unwrap();
    ws.write("inputs/police.csv", format!("{POLICE_HEADER}\n{}\n", police("P1")));
    ws.config(&[("police", "inputs/fifo.csv"), ("police", "inputs/zero.csv"), ("police", "inputs/police.csv")], "");
    // Before the check a FIFO blocked the run for ever (and /dev/zero never ended): a timeout
    // makes that a failure rather than a hung test.
    let out = std::process::Command::new("timeout")
        .args(["60"])
        .arg(tellonce_tests::tellonce_bin())
        .args(["run", "--config", "tellonce.toml", "--json", "--no-progress"])
        .current_dir(ws.dir())
        .env_remove("TELLONCE_LOG")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    let run = Run::new(out);
    for (source, kind) in [("inputs/fifo.csv", "a FIFO"), ("inputs/zero.csv", "a character device")] {
        run.assert_counts(source, "rejected", 0, 0, 0);
        let error = run.input(source)["error"].as_str().unwrap().to_owned();
        assert!(
            error.contains(source) && error.contains(kind) && error.contains("[file.not_regular]"),
            "{source}: {error}"
        );
    }
    run.assert_counts("inputs/police.csv", "processed", 1, 1, 0);
}

#[test]
fn a_header_glued_to_its_first_record_never_prints_the_records_values() {
    // The newline after the header is missing: the first record's values become header names.
    let ws = Workspace::new();
    let header = "record_id,forename,surname,date_of_birth,event_date,event_type,nhs_number,postcode,sex";
    let glued = "E1,Zebedee,Quixote,2015-06-30,2024-01-05,ATTENDANCE_TERM,9434765919,RH10 1AB,M";
    let next = "E2,Ann,Lee,2014-02-03,2024-01-05,ATTENDANCE_TERM,6541003238,BN11 2AB,F";
    ws.write("inputs/education.csv", format!("{header}{glued}\n{next}\n"));
    ws.config(&[("education", "inputs/education.csv")], "");
    let run = ws.run(0, &[]);
    let unknown = &run.input("inputs/education.csv")["unknown_columns"];
    assert_eq!(
        unknown,
        &serde_json::json!(["(9 unprintable column name(s) not shown: the header may hold data)"]),
        "{:#}",
        run.summary
    );
    let table = tellonce_tests::tellonce_ok(
        ws.dir(),
        &["run", "--config", "tellonce.toml", "--force", "--no-progress", "--log", "debug"],
        0,
    );
    assert!(text(&table).contains("9 unprintable column name(s)"), "{}", text(&table));
    let (list, list_json) = ws.quarantine_list();
    let values: [&[u8]; 10] = [
        b"Zebedee",
        b"ZEBEDEE",
        b"Quixote",
        b"QUIXOTE",
        b"2015-06-30",
        b"9434765919",
        b"RH10 1AB",
        b"RH101AB",
        b"sexE1",
        b"ATTENDANCE_TERM,",
    ];
    assert_absent(&values, &[&run.output, &table, &list, &list_json], &ws.out());
}
