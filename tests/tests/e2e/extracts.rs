//! Partner extracts as partners send them: the synthetic housing extract reshaped with the
//! partner's own headings, UK dates, SQL Server and Excel dates, coded sex, Windows-1252 and
//! pipes, and as `.xlsx`, `.xls` and `.ods` workbooks, read through a source mapping, against the
//! same records in canonical form.

use std::collections::BTreeMap;

use serde_json::Value;
use tellonce_tests::{json_stdout, tellonce, tellonce_ok};

use crate::partner_forms::{staged_by_record_id, windows_1252_safe, write_delimited};
use crate::support::*;
use crate::workbooks::{Cell, FORMATS, SheetCells, write_workbook};

/// The partner's headings, in the partner's order, for the housing feed's columns; `None`
/// for a column the partner does not send (given by a constant instead).
const PARTNER: &[(&str, Option<&str>)] = &[
    ("Officer", None),
    ("Case Ref", Some("record_id")),
    ("Household_Ref", Some("household_ref")),
    ("Role", Some("role_in_household")),
    ("First Name", Some("forename")),
    ("Last Name", Some("surname")),
    ("DOB", Some("date_of_birth")),
    ("Gender", Some("sex")),
    ("Address 1", Some("address_line_1")),
    ("Post Code", Some("postcode")),
    ("UPRN", Some("uprn")),
    ("Date Approached", Some("approach_date")),
    ("Duty Owed", Some("duty_owed")),
    ("Reason", Some("reason_for_loss")),
    ("TA Type", Some("ta_type")),
    ("TA Start", Some("ta_start")),
    ("TA End", Some("ta_end")),
    ("Arrears", Some("rent_arrears_balance")),
    ("No. Children", Some("num_children")),
];

const MAPPING: &str = r#"# Housing options extract, as the district sends it.
feed = "housing"
ignore = ["Officer"]

[file]
encoding = "windows-1252"
skip_lines = 1

[columns]
"Case Ref" = "record_id"
Role = "role_in_household"
"First Name" = "forename"
"Last Name" = "surname"
DOB = "date_of_birth"
Gender = "sex"
"Address 1" = "address_line_1"
"Post Code" = "postcode"
"Date Approached" = "approach_date"
"Duty Owed" = "duty_owed"
Reason = "reason_for_loss"
"TA Type" = "ta_type"
"TA Start" = "ta_start"
"TA End" = "ta_end"
Arrears = "rent_arrears_balance"
"No. Children" = "num_children"

[values.sex]
"1" = "M"
"2" = "F"
"3" = "X"
"9" = "U"

[dates]
date_of_birth = "%d/%m/%Y"
approach_date = "%d/%m/%Y"
ta_start = "%Y-%m-%d %H:%M:%S%.3f"
ta_end = "excel"
"#;

/// A valid ISO date's (year, month, day), if `v` is one.
fn iso(v: &str) -> Option<(i32, u32, u32)> {
    let b = v.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let (y, m, d) = (v[..4].parse().ok()?, v[5..7].parse().ok()?, v[8..].parse().ok()?);
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = [31, if leap { 29 } else { 28 }, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    ((1..=12).contains(&m) && d >= 1 && d <= days[m as usize - 1]).then_some((y, m, d))
}

/// Days from 1899-12-30 (Excel's day 0) to a date from 1900-03-01 on.
fn excel_serial((y, m, d): (i32, u32, u32)) -> i64 {
    // Days from 1970-01-01 (Howard Hinnant's civil-from-days inverse), then shifted.
    let y = i64::from(if m <= 2 { y - 1 } else { y });
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = i64::from((m + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468 + 25_569
}

/// How the partner writes a canonical value of `column`; a value that is not valid in
/// canonical form (an injected error) is left as it is, as a partner's bad value would be.
fn partner_value(column: &str, v: &str) -> String {
    match (column, iso(v)) {
        ("date_of_birth" | "approach_date", Some((y, m, d))) => format!("{d:02}/{m:02}/{y}"),
        ("ta_start", Some((y, m, d))) => format!("{y}-{m:02}-{d:02} 00:00:00.000"),
        ("ta_end", Some(date)) if date.0 >= 1901 => excel_serial(date).to_string(),
        ("sex", _) => match v {
            "M" => "1".into(),
            "F" => "2".into(),
            "X" => "3".into(),
            "U" => "9".into(),
            other => other.into(),
        },
        _ => v.to_owned(),
    }
}

/// The partner's `table` (header first) as sheet `Extract` under a title row; the canonical
/// `rows`' valid dates of birth (column `dob`) as date cells, the rest as text.
fn extract_sheet(table: &[Vec<String>], rows: &[Vec<String>], dob: usize) -> SheetCells {
    let mut sheet = SheetCells::titled_table("Extract", "Housing options extract", 1, table);
    let dob_at = PARTNER.iter().position(|(_, c)| *c == Some("date_of_birth")).unwrap();
    for (r, c, cell) in &mut sheet.cells {
        if *r >= 2
            && usize::from(*c) == dob_at
            && let Some((y, m, d)) = iso(&rows[*r as usize - 2][dob])
        {
            *cell = Cell::Date(y, m, d);
        }
    }
    sheet
}

fn run_config(ws: &Workspace, config: &str) -> Value {
    json_stdout(&tellonce_ok(ws.dir(), &["run", "--config", config, "--json", "--no-progress"], 0))
}

#[test]
fn a_partner_shaped_housing_extract_stages_the_same_tokens_as_the_canonical_one() {
    let ws = synth_workspace(600, 11);
    let canonical_path = ws.dir().join("inputs/housing.csv");
    let text = windows_1252_safe(&std::fs::read_to_string(&canonical_path).unwrap());
    let mut rows = parse_csv(&text);
    let header = rows.remove(0);
    // At least one name Windows-1252 writes as one non-ASCII byte, whatever the generator drew.
    let forename = header.iter().position(|h| h == "forename").unwrap();
    rows[0][forename] = "Zoë".to_owned();
    rows[1][forename] = "Renée".to_owned();
    // Bad values, as partners send them too: each must be quarantined (the event date, an event
    // attribute) or nulled (the date of birth, sex) under the same rule in both forms (a mapping
    // passes what it cannot translate to the validate stage as it is).
    let at = |name: &str| header.iter().position(|h| h == name).unwrap();
    rows[2][at("date_of_birth")] = "2015-02-30".to_owned();
    rows[3][at("sex")] = "Q".to_owned();
    rows[4][at("approach_date")] = String::new();
    rows[5][at("ta_start")] = "2024-13-01".to_owned();
    rows[6][at("date_of_birth")] = "2099-01-01".to_owned();
    let mut canonical = vec![header.clone()];
    canonical.extend(rows.iter().cloned());
    ws.write("inputs/housing.csv", write_delimited(&canonical, b','));

    let index = |name: &str| header.iter().position(|h| h == name).unwrap();
    let mut partner = vec![PARTNER.iter().map(|(h, _)| (*h).to_owned()).collect::<Vec<_>>()];
    for (n, r) in rows.iter().enumerate() {
        partner.push(
            PARTNER
                .iter()
                .map(|(_, col)| match col {
                    Some(c) => partner_value(c, &r[index(c)]),
                    None => format!("OFFICER-{}", n % 7),
                })
                .collect(),
        );
    }
    let mut bytes = b"Housing options extract, run 03/12/2026 09:00\r\n".to_vec();
    let partner_text = write_delimited(&partner, b'|');
    let (encoded, _, unmappable) = encoding_rs::WINDOWS_1252.encode(&partner_text);
    assert!(!unmappable);
    bytes.extend_from_slice(&encoded);
    assert!(std::str::from_utf8(&bytes).is_err(), "the extract must not be valid UTF-8");
    ws.write("partner/housing extract.txt", &bytes);
    ws.write("partner/housing.mapping.toml", MAPPING);

    let extra = "[reference]\npostcode_lookup = \"reference/postcode_lookup.csv\"\n[linkage]\nenabled = false\n";
    ws.config_named(
        "canonical.toml",
        "out-canonical",
        "keys/tellonce.key",
        &[("housing", "inputs/housing.csv")],
        extra,
    );
    ws.write(
        "partner.toml",
        format!(
            "[output]\ndir = \"out-partner\"\n[keys]\nfile = \"keys/tellonce.key\"\n{extra}\n[[sources]]\n\
             feed = \"housing\"\npath = \"partner/housing extract.txt\"\nformat = \"csv\"\n\
             mapping = \"partner/housing.mapping.toml\"\n"
        ),
    );
    let canonical_run = run_config(&ws, "canonical.toml");
    let partner_run = run_config(&ws, "partner.toml");
    let counts = |v: &Value| {
        let i = &v["inputs"][0];
        assert_eq!(i["status"], "processed", "{i:#}");
        let c = (i["read"].as_u64().unwrap(), i["written"].as_u64().unwrap(), i["quarantined"].as_u64().unwrap());
        assert_eq!(c.0, c.1 + c.2, "read = written + quarantined: {i:#}");
        (c, i["unknown_columns"].clone())
    };
    let ((read, written, quarantined), _) = counts(&canonical_run);
    let ((p_read, p_written, p_quarantined), unknown) = counts(&partner_run);
    assert_eq!(p_read, read);
    assert!(quarantined >= 2, "the injected bad event values are quarantined: {quarantined}");
    let nulled = |v: &Value| rule_counts(&v["inputs"][0]["nulled_by_rule"]);
    assert!(nulled(&canonical_run).values().sum::<u64>() >= 3, "the injected bad identifiers are nulled");
    assert_eq!(nulled(&partner_run), nulled(&canonical_run), "the same fields nulled for the same reasons");
    assert!(p_quarantined <= quarantined, "partner form quarantined {p_quarantined}, canonical {quarantined}");
    let by_rule = |v: &Value| rule_counts(&v["inputs"][0]["quarantined_by_rule"]);
    assert_eq!(by_rule(&partner_run), by_rule(&canonical_run), "the same records quarantined for the same reasons");
    assert_eq!(unknown, Value::Array(vec![]), "Officer is ignored on purpose, the rest mapped");
    let read_as = &partner_run["inputs"][0]["read_as"];
    assert_eq!(
        (read_as["mapping"].as_str(), read_as["encoding"].as_str(), read_as["delimiter"].as_str()),
        (Some("partner/housing.mapping.toml"), Some("windows-1252"), Some("|")),
        "{read_as:#}"
    );
    assert!(canonical_run["inputs"][0].get("read_as").is_none(), "a canonical file's summary is as before");
    assert!(written > 0);
    // The audit log names the mapping a partner file was read through, by content.
    let log = std::fs::read_to_string(ws.dir().join("out-partner/audit/audit.jsonl")).unwrap();
    let applied: Vec<&str> = log.lines().filter(|l| l.contains("\"type\":\"mapping_applied\"")).collect();
    let mapping_sha = sha256_of(&ws.dir().join("partner/housing.mapping.toml"));
    assert!(applied.len() == 1 && applied[0].contains(&mapping_sha), "{applied:?}");
    let canonical_log = std::fs::read_to_string(ws.dir().join("out-canonical/audit/audit.jsonl")).unwrap();
    assert!(!canonical_log.contains("mapping_applied"));
    tellonce_ok(ws.dir(), &["audit", "report", "--config", "partner.toml", "--out", "report.html"], 0);
    let report = std::fs::read_to_string(ws.dir().join("report.html")).unwrap();
    assert!(report.contains("Source mappings applied") && report.contains(&mapping_sha[..16]), "{report}");

    // Same key, same records: the same tokens, generalised values and attributes, row by row.
    let (c, p) = (
        staged_by_record_id(&ws.dir().join("out-canonical"), "housing"),
        staged_by_record_id(&ws.dir().join("out-partner"), "housing"),
    );
    assert_eq!(c.len() as u64, written);
    assert_eq!(p.len() as u64, p_written);
    for (id, row) in &c {
        assert_eq!(p.get(id), Some(row), "record {id} staged differently from the partner form");
    }
    assert_eq!(p.len(), c.len(), "the partner form staged records the canonical one quarantined");
    assert!(c.values().next().unwrap().iter().any(|(k, _)| k == "forename_token"));

    // The same extract as a workbook (Excel's two formats, and LibreOffice's): a sheet by name
    // under a title row, dates of birth as real date cells, the rest as the partner writes them.
    let sheet = extract_sheet(&partner, &rows, index("date_of_birth"));
    let workbook_mapping = MAPPING.replace(
        "[file]\nencoding = \"windows-1252\"\nskip_lines = 1\n",
        "[file]\nsheet = \"Extract\"\nskip_lines = 1\n",
    );
    assert_ne!(workbook_mapping, MAPPING);
    ws.write("partner/housing-workbook.mapping.toml", workbook_mapping);
    for format in FORMATS {
        write_workbook(&ws.dir().join(format!("partner/housing.{format}")), format, &sheet);
        ws.write(
            &format!("{format}.toml"),
            format!(
                "[output]\ndir = \"out-{format}\"\n[keys]\nfile = \"keys/tellonce.key\"\n{extra}\n[[sources]]\n\
                 feed = \"housing\"\npath = \"partner/housing.{format}\"\n\
                 mapping = \"partner/housing-workbook.mapping.toml\"\n"
            ),
        );
        let run = run_config(&ws, &format!("{format}.toml"));
        let ((x_read, _, x_quarantined), _) = counts(&run);
        assert_eq!(x_read, read, "{format}");
        assert!(x_quarantined <= quarantined, "{format} quarantined {x_quarantined}, canonical {quarantined}");
        assert_eq!(
            staged_by_record_id(&ws.dir().join(format!("out-{format}")), "housing"),
            c,
            "the {format} workbook stages the same rows"
        );
    }

    // Nothing in the summary or the log holds a name.
    let out = tellonce_ok(ws.dir(), &["run", "--config", "partner.toml", "--json", "--no-progress", "--force"], 0);
    for name in ["Zoë", "Renée", "Zo\u{eb}"] {
        assert_absent(&[name.as_bytes()], &[&out], &ws.dir().join("out-partner"));
    }
}

#[test]
fn a_mapping_with_problems_stops_its_source_and_names_each_problem() {
    let ws = synth_workspace(200, 5);
    ws.write(
        "maps/housing.toml",
        "feed = \"housing\"\n[columns]\nDOB = \"date_of_brith\"\n\"Case Ref\" = \"record_id\"\nRef = \"record_id\"\n\
         [dates]\napproach_date = \"dd/mm/yyyy\"\n",
    );
    let config = std::fs::read_to_string(ws.dir().join("tellonce.toml")).unwrap().replace(
        "path = \"inputs/housing.csv\"\nformat = \"csv\"\n",
        "path = \"inputs/housing.csv\"\nformat = \"csv\"\nmapping = \"maps/housing.toml\"\n",
    );
    assert!(config.contains("mapping ="));
    ws.write("tellonce.toml", config);
    let run = Run::new(tellonce_ok(ws.dir(), &["run", "--config", "tellonce.toml", "--json", "--no-progress"], 3));
    let housing = run.input("inputs/housing.csv");
    assert_eq!(housing["status"], "rejected");
    assert_eq!(housing["error_rule"], "mapping.invalid");
    let error = housing["error"].as_str().unwrap();
    for want in [
        "housing.toml:3:7: error[column.unknown]",
        "housing.toml:5:7: error[column.duplicate_target]",
        "housing.toml:7:17: error[date.format_invalid]",
    ] {
        assert!(error.contains(want), "missing {want:?} in {error}");
    }
    // The other feeds are processed.
    assert_eq!(run.input("inputs/police.jsonl")["status"], "processed");
}

#[test]
fn sources_check_reports_what_a_mapping_misses_by_count_and_line_never_by_value() {
    let ws = Workspace::bare();
    let mut text =
        "Case Ref\tHousehold\tRole\tFirst Name\tLast Name\tDOB\tGender\tDate Approached\tDuty Owed\n".to_owned();
    for n in 0..40 {
        // Line n + 2: every tenth birth date in another format, one code the map leaves out.
        let dob = if n % 10 == 3 { "1986.02.24".to_owned() } else { format!("{:02}/02/1986", n % 28 + 1) };
        let gender = if n == 17 { "5" } else { "2" };
        text.push_str(&format!("H{n}\tHH{n}\tCHILD\tZoë\tQuixote\t{dob}\t{gender}\t01/03/2024\tMAIN\n"));
    }
    ws.write("partner/housing.tsv", text);
    ws.write(
        "partner/housing.toml",
        "feed = \"housing\"\n[columns]\n\"Case Ref\" = \"record_id\"\nHousehold = \"household_ref\"\n\
         Role = \"role_in_household\"\n\"First Name\" = \"forename\"\n\"Last Name\" = \"surname\"\n\
         DOB = \"date_of_birth\"\nGender = \"sex\"\n\"Date Approached\" = \"approach_date\"\n\
         \"Duty Owed\" = \"duty_owed\"\n\"Post Code\" = \"postcode\"\n\
         [values.sex]\n\"1\" = \"M\"\n\"2\" = \"F\"\n[dates]\ndate_of_birth = \"%d/%m/%Y\"\napproach_date = \"%d/%m/%Y\"\n",
    );
    ws.write("partner/broken.toml", "feed = \"housing\"\n[colums]\nDOB = \"date_of_birth\"\n");
    ws.write("partner/other.tsv", "x\n");
    ws.write(
        "tellonce.toml",
        "[output]\ndir = \"output\"\n[keys]\nfile = \"k.key\"\n\
         [[sources]]\nfeed = \"housing\"\npath = \"partner/housing.tsv\"\nformat = \"csv\"\nmapping = \"partner/housing.toml\"\n\
         [[sources]]\nfeed = \"housing\"\npath = \"partner/other.tsv\"\nformat = \"csv\"\nmapping = \"partner/broken.toml\"\n",
    );
    let out = tellonce_ok(ws.dir(), &["sources", "check", "--config", "tellonce.toml", "--json"], 3);
    let reports = json_stdout(&out);
    let first = &reports[0];
    assert_eq!(first["status"], "errors", "{first:#}");
    assert_eq!((first["records"].as_u64(), first["delimiter"].as_str()), (Some(40), Some("tab")));
    let findings = first["findings"].as_array().unwrap();
    let find = |rule: &str| findings.iter().find(|f| f["rule"] == rule).unwrap_or_else(|| panic!("{rule}: {first:#}"));
    assert_eq!(find("heading.missing")["heading"], "Post Code");
    let dates = find("date.format");
    assert_eq!(
        (dates["column"].as_str(), dates["count"].as_u64(), dates["of"].as_u64()),
        (Some("date_of_birth"), Some(4), Some(40))
    );
    assert_eq!(dates["lines"], serde_json::json!([5, 15, 25, 35]));
    let codes = find("code.unknown");
    assert_eq!((codes["column"].as_str(), codes["count"].as_u64()), (Some("sex"), Some(1)));
    assert_eq!(codes["lines"], serde_json::json!([19]));
    assert_eq!(findings.len(), 3, "{first:#}");
    let second = &reports[1];
    assert_eq!((second["status"].as_str(), second["error_rule"].as_str()), (Some("rejected"), Some("mapping.invalid")));
    assert!(second["error"].as_str().unwrap().contains("broken.toml:2:2: error[mapping.unknown_key]"), "{second:#}");

    let text = tellonce_ok(ws.dir(), &["sources", "check", "--config", "tellonce.toml", "--all"], 3);
    let shown = String::from_utf8_lossy(&text.stdout);
    assert!(shown.contains("error[date.format]: date_of_birth: 4 of 40 (10.0%)"), "{shown}");
    for value in ["Zoë", "Quixote", "1986.02.24", "HH17"] {
        assert_absent(&[value.as_bytes()], &[&out, &text], &ws.dir().join("output"));
    }
}

#[test]
fn a_path_pattern_takes_every_file_of_a_drop_folder_through_one_mapping() {
    let ws = Workspace::new();
    let header = "Case Ref|Household|Role|First Name|Last Name|DOB|Gender|Date Approached|Duty Owed\n";
    ws.write("drop/housing-2024-12.txt", format!("{header}H1|HH1|CHILD|Ann|Lee|24/02/2016|2|01/12/2024|MAIN\n"));
    ws.write(
        "drop/housing-2025-01.txt",
        format!("{header}H2|HH2|CHILD|Bo|Lee|03/03/2017|1|02/01/2025|RELIEF\nH3|HH2|CHILD|Cy|Lee|31/02/2017|1|02/01/2025|RELIEF\n"),
    );
    ws.write("drop/.housing-2025-02.txt", "partial upload");
    ws.write(
        "maps/housing.toml",
        "feed = \"housing\"\n[columns]\n\"Case Ref\" = \"record_id\"\nHousehold = \"household_ref\"\n\
         Role = \"role_in_household\"\n\"First Name\" = \"forename\"\n\"Last Name\" = \"surname\"\n\
         DOB = \"date_of_birth\"\nGender = \"sex\"\n\"Date Approached\" = \"approach_date\"\n\"Duty Owed\" = \"duty_owed\"\n\
         [values.sex]\n\"1\" = \"M\"\n\"2\" = \"F\"\n[dates]\ndate_of_birth = \"%d/%m/%Y\"\napproach_date = \"%d/%m/%Y\"\n",
    );
    let sources = "[[sources]]\nfeed = \"housing\"\npath = \"drop/housing-*.txt\"\nformat = \"csv\"\nmapping = \"maps/housing.toml\"\n";
    ws.write("tellonce.toml", format!("[output]\ndir = \"output\"\n[keys]\nfile = \"keys/tellonce.key\"\n{sources}"));
    let run = ws.run(0, &[]);
    run.assert_counts("drop/housing-2024-12.txt", "processed", 1, 1, 0);
    // H3's date of birth (31 February) is nulled, the record kept.
    run.assert_counts("drop/housing-2025-01.txt", "processed", 2, 2, 0);
    let nulled = rule_counts(&run.input("drop/housing-2025-01.txt")["nulled_by_rule"]);
    // Written in the mapped format, but no real day: refused as the impossible day it is.
    assert_eq!(nulled, BTreeMap::from([("date_of_birth:date.calendar".to_owned(), 1)]));
    assert_eq!(run.summary["inputs"].as_array().unwrap().len(), 2, "the hidden partial upload is not matched");

    // A pattern matching nothing is no error for a run (an empty month), but `sources check`
    // reports it.
    ws.write(
        "tellonce.toml",
        format!(
            "[output]\ndir = \"output\"\n[keys]\nfile = \"keys/tellonce.key\"\n{sources}\
             [[sources]]\nfeed = \"police\"\npath = \"drop/police-*.jsonl\"\n"
        ),
    );
    let out = tellonce_ok(ws.dir(), &["sources", "check", "--config", "tellonce.toml", "--json"], 3);
    let reports = json_stdout(&out);
    let last = reports.as_array().unwrap().last().unwrap();
    assert_eq!((last["feed"].as_str(), last["error_rule"].as_str()), (Some("police"), Some("path.no_match")));
    assert_eq!(reports[0]["status"], "ok", "{reports:#}");
}

#[test]
fn dates_written_yyyymmdd_stage_the_same_records_as_iso_dates_without_a_mapping() {
    // The same extract in canonical form twice: every valid date as YYYY-MM-DD, then as
    // YYYYMMDD (ISO 8601's basic form, as HL7 and many health extracts write it). A date of
    // eight digits in another order is a format error, not another day.
    let ws = synth_workspace(300, 12);
    let text = std::fs::read_to_string(ws.dir().join("inputs/housing.csv")).unwrap();
    let mut rows = parse_csv(&text);
    let header = rows.remove(0);
    let at = |name: &str| header.iter().position(|h| h == name).unwrap();
    rows[0][at("date_of_birth")] = "24/02/2015".replace('/', "");
    let basic: Vec<Vec<String>> = rows
        .iter()
        .map(|r| r.iter().map(|v| if iso(v).is_some() { v.replace('-', "") } else { v.clone() }).collect())
        .collect();
    let rewritten = basic.iter().flatten().zip(rows.iter().flatten()).filter(|(b, e)| b != e).count();
    assert!(rewritten >= rows.len(), "{rewritten} dates rewritten in {} rows", rows.len());
    let write = |path: &str, body: &[Vec<String>]| {
        let mut table = vec![header.clone()];
        table.extend(body.iter().cloned());
        ws.write(path, write_delimited(&table, b','));
    };
    write("inputs/housing.csv", &rows);
    write("basic/housing.csv", &basic);
    let extra = "[linkage]\nenabled = false\n";
    ws.config_named("iso.toml", "out-iso", "keys/tellonce.key", &[("housing", "inputs/housing.csv")], extra);
    ws.config_named("basic.toml", "out-basic", "keys/tellonce.key", &[("housing", "basic/housing.csv")], extra);
    let (iso_run, basic_run) = (run_config(&ws, "iso.toml"), run_config(&ws, "basic.toml"));
    for key in ["read", "written", "quarantined", "nulled_by_rule", "quarantined_by_rule"] {
        assert_eq!(basic_run["inputs"][0][key], iso_run["inputs"][0][key], "{key}");
    }
    let nulled = rule_counts(&iso_run["inputs"][0]["nulled_by_rule"]);
    assert_eq!(nulled.get("date_of_birth:date.format"), Some(&1), "the day-first date: {nulled:?}");
    let (e, b) = (
        staged_by_record_id(&ws.dir().join("out-iso"), "housing"),
        staged_by_record_id(&ws.dir().join("out-basic"), "housing"),
    );
    assert!(e.len() + 2 >= rows.len(), "{} of {} rows staged", e.len(), rows.len());
    assert_eq!(b, e, "the same records staged, token for token");
}

/// The synthetic housing extract's header and rows as a workbook of two sheets, `Autumn` (the
/// first half of the rows) and `Spring`, every cell text; the record ids of each half.
fn two_term_workbook(ws: &Workspace, path: &str) -> (Vec<String>, Vec<String>) {
    let text = std::fs::read_to_string(ws.dir().join("inputs/housing.csv")).unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = reader.headers().unwrap().iter().map(str::to_owned).collect();
    let rows: Vec<Vec<String>> = reader.records().map(|r| r.unwrap().iter().map(str::to_owned).collect()).collect();
    let (autumn, spring) = rows.split_at(rows.len() / 2);
    let mut wb = rust_xlsxwriter::Workbook::new();
    for (name, half) in [("Autumn", autumn), ("Spring", spring)] {
        let sheet = wb.add_worksheet();
        sheet.set_name(name).unwrap();
        for (r, row) in (0u32..).zip(std::iter::once(&header).chain(half)) {
            for (c, v) in (0u16..).zip(row) {
                if !v.is_empty() {
                    sheet.write_string(r, c, v).unwrap();
                }
            }
        }
    }
    wb.save(ws.dir().join(path)).unwrap();
    let ids = |half: &[Vec<String>]| half.iter().map(|r| r[0].clone()).collect();
    (ids(autumn), ids(spring))
}

#[test]
fn one_workbook_is_as_many_inputs_as_the_sheets_named_and_one_continued_unnamed_is_refused() {
    let ws = synth_workspace(300, 11);
    let (autumn, spring) = two_term_workbook(&ws, "inputs/terms.xlsx");
    let config = |out: &str, sheets: &[Option<&str>]| {
        let mut text = format!("[output]\ndir = \"{out}\"\n[keys]\nfile = \"keys/tellonce.key\"\n");
        text.push_str("[governance]\nagreements = \"agreements\"\n");
        for sheet in sheets {
            text.push_str("[[sources]]\nfeed = \"housing\"\npath = \"inputs/terms.xlsx\"\n");
            if let Some(s) = sheet {
                text.push_str(&format!("sheet = \"{s}\"\n"));
            }
        }
        text
    };
    let staged = |out: &str| staged_by_record_id(&ws.dir().join(out), "housing").into_keys().collect::<Vec<_>>();
    let statuses = |run: &Run| -> Vec<String> {
        run.summary["inputs"].as_array().unwrap().iter().map(|i| i["status"].as_str().unwrap().to_owned()).collect()
    };

    // Both sheets listed: both read, each its own input; a second run skips both.
    ws.write("both.toml", config("out-both", &[Some("Autumn"), Some("Spring")]));
    let run = Run::new(tellonce_ok(ws.dir(), &["run", "--config", "both.toml", "--json", "--no-progress"], 0));
    assert_eq!(statuses(&run), ["processed", "processed"]);
    // Every record staged but those the synthetic errors quarantine, from both sheets.
    let all = staged("out-both");
    assert!(all.len() * 10 >= (autumn.len() + spring.len()) * 9, "{} staged", all.len());
    assert!(all.iter().any(|id| autumn.contains(id)) && all.iter().any(|id| spring.contains(id)));
    let again = Run::new(tellonce_ok(ws.dir(), &["run", "--config", "both.toml", "--json", "--no-progress"], 0));
    assert_eq!(statuses(&again), ["skipped", "skipped"]);
    // The same sheet twice is refused as a configuration error.
    ws.write("twice.toml", config("out-twice", &[Some("Autumn"), Some("autumn ")]));
    let refused = tellonce_ok(ws.dir(), &["run", "--config", "twice.toml", "--no-progress"], 2);
    assert!(String::from_utf8_lossy(&refused.stderr).contains("listed twice with the same sheet"));

    // No sheet named while the other sheet holds records under the feed's header: the workbook
    // is refused, naming that sheet, and nothing is staged (the records of the second sheet
    // would otherwise be left unread without a word).
    ws.write("unnamed.toml", config("out-one", &[None]));
    let run = Run::new(tellonce_ok(ws.dir(), &["run", "--config", "unnamed.toml", "--json", "--no-progress"], 3));
    assert_eq!(statuses(&run), ["rejected"]);
    let input = &run.summary["inputs"][0];
    assert_eq!(input["error_rule"], "sheet.continued", "{input:#}");
    assert!(input["error"].as_str().unwrap().contains("Spring"), "{input:#}");
    assert!(!ws.dir().join("out-one/staging/feed=housing").exists() || staged("out-one").is_empty());
    // Naming the first sheet reads it; then naming the other reads it as a new input, and the
    // records of the first stay staged.
    ws.write("first.toml", config("out-one", &[Some("Autumn")]));
    tellonce_ok(ws.dir(), &["run", "--config", "first.toml", "--no-progress"], 0);
    let first: Vec<String> = all.iter().filter(|id| autumn.contains(id)).cloned().collect();
    assert_eq!(staged("out-one"), first);
    ws.write("second.toml", config("out-one", &[Some("Spring")]));
    let run = Run::new(tellonce_ok(ws.dir(), &["run", "--config", "second.toml", "--json", "--no-progress"], 0));
    assert_eq!(statuses(&run), ["processed"]);
    assert_eq!(staged("out-one"), all);
    // Naming the sheet read by default reads nothing new.
    ws.write("named.toml", config("out-one", &[Some("Autumn")]));
    tellonce_ok(ws.dir(), &["run", "--config", "named.toml", "--no-progress"], 0);
    assert_eq!(staged("out-one"), all);
}

#[test]
fn a_quarantined_workbook_row_is_named_by_its_sheet_in_quarantine_and_in_check() {
    let ws = Workspace::new();
    let header =
        ["record_id", "household_ref", "role_in_household", "forename", "surname", "approach_date", "duty_owed"];
    let mut wb = rust_xlsxwriter::Workbook::new();
    for (name, term) in [("Autumn", "A"), ("Spring", "S")] {
        let sheet = wb.add_worksheet();
        sheet.set_name(name).unwrap();
        for (c, h) in (0u16..).zip(header) {
            sheet.write_string(0, c, h).unwrap();
        }
        // Row 4 of each sheet has a role the feed does not know.
        for (r, role) in (1u32..).zip(["CHILD", "CHILD", "PET"]) {
            let row = [
                format!("{term}{r}"),
                "H1".into(),
                role.into(),
                "Ann".into(),
                "Lee".into(),
                "2024-01-05".into(),
                "MAIN".into(),
            ];
            for (c, v) in (0u16..).zip(&row) {
                sheet.write_string(r, c, v).unwrap();
            }
        }
    }
    wb.save(ws.dir().join("terms.xlsx")).unwrap();
    let mut config = "[output]\ndir = \"output\"\n[keys]\nfile = \"keys/tellonce.key\"\n".to_owned();
    for sheet in ["Autumn", "Spring"] {
        config.push_str(&format!("[[sources]]\nfeed = \"housing\"\npath = \"terms.xlsx\"\nsheet = \"{sheet}\"\n"));
    }
    ws.write("tellonce.toml", config);

    let check = text(&tellonce_ok(ws.dir(), &["sources", "check", "--config", "tellonce.toml"], 0));
    for sheet in ["Autumn", "Spring"] {
        assert!(check.contains(&format!("read 3 record(s), all of the file; sheet \"{sheet}\"\n")), "{check}");
        assert!(check.contains(&format!("first at sheet \"{sheet}\" row(s) 4\n")), "{check}");
    }
    assert!(!check.contains("encoding"), "a workbook has no encoding: {check}");

    ws.run(0, &[]);
    let out = tellonce_ok(ws.dir(), &["quarantine", "export", "--config", "tellonce.toml", "--out", "q.jsonl"], 0);
    assert!(out.status.success());
    let exported = std::fs::read_to_string(ws.dir().join("q.jsonl")).unwrap();
    let mut rows: Vec<(String, u64, String)> = exported
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .map(|v| (v["sheet"].as_str().unwrap_or("").to_owned(), v["position"].as_u64().unwrap(), v["rule"].to_string()))
        .collect();
    rows.sort();
    let want = |s: &str| (s.to_owned(), 4, "\"code.unknown\"".to_owned());
    assert_eq!(rows, [want("Autumn"), want("Spring")]);
    let (list, json) = ws.quarantine_list();
    let list = text(&list);
    assert!(list.contains("terms.xlsx, sheet \"Autumn\"") && list.contains("terms.xlsx, sheet \"Spring\""), "{list}");
    let json = json_stdout(&json);
    let sheets: Vec<&str> = json.as_array().unwrap().iter().map(|r| r["sheet"].as_str().unwrap()).collect();
    assert_eq!(sheets, ["Autumn", "Spring"]);
}

#[test]
fn a_sheet_named_after_a_child_is_written_by_its_place_everywhere() {
    let ws = Workspace::new();
    let header =
        ["record_id", "household_ref", "role_in_household", "forename", "surname", "approach_date", "duty_owed"];
    let mut wb = rust_xlsxwriter::Workbook::new();
    // A partner keeping a sheet per child: the second sheet's name is the child's.
    for name in ["Cases", "Xanthe Quennellby"] {
        let sheet = wb.add_worksheet();
        sheet.set_name(name).unwrap();
        for (c, h) in (0u16..).zip(header) {
            sheet.write_string(0, c, h).unwrap();
        }
        let row = ["C1", "H1", "PET", "Ann", "Lee", "2024-01-05", "MAIN"];
        for (c, v) in (0u16..).zip(row) {
            sheet.write_string(1, c, v).unwrap();
        }
    }
    wb.save(ws.dir().join("child.xlsx")).unwrap();
    let config = |sheet: &str| {
        let mut text = "[output]\ndir = \"output\"\n[keys]\nfile = \"keys/tellonce.key\"\n".to_owned();
        text.push_str(&format!("[[sources]]\nfeed = \"housing\"\npath = \"child.xlsx\"\nsheet = \"{sheet}\"\n"));
        text
    };
    let mut printed = String::new();
    // A sheet not in the workbook: the error lists the sheets there are.
    ws.write("tellonce.toml", config("Casework"));
    let missing = tellonce(ws.dir(), &["run", "--config", "tellonce.toml", "--no-progress"]);
    assert!(!missing.status.success());
    let said = String::from_utf8_lossy(&missing.stderr).into_owned() + &String::from_utf8_lossy(&missing.stdout);
    assert!(said.contains("#2") && said.contains("Cases"), "{said}");
    printed.push_str(&said);
    // Read by its place, its row is quarantined under that place.
    ws.write("tellonce.toml", config("#2"));
    for args in
        [&["sources", "check", "--config", "tellonce.toml"][..], &["run", "--config", "tellonce.toml", "--no-progress"]]
    {
        let out = tellonce(ws.dir(), args);
        printed.push_str(&String::from_utf8_lossy(&out.stdout));
        printed.push_str(&String::from_utf8_lossy(&out.stderr));
    }
    assert!(printed.contains("sheet \"#2\""), "{printed}");
    let (list, _) = ws.quarantine_list();
    printed.push_str(&text(&list));
    let proposal = tellonce(ws.dir(), &["sources", "infer", "child.xlsx", "--feed", "housing"]);
    printed.push_str(&String::from_utf8_lossy(&proposal.stdout));
    printed.push_str(&String::from_utf8_lossy(&proposal.stderr));
    for word in ["Xanthe", "Quennellby"] {
        assert!(!printed.contains(word), "{word} printed:\n{printed}");
        for file in tellonce_tests::files_under(&ws.dir().join("output")) {
            let bytes = std::fs::read(&file).unwrap();
            assert!(!bytes.windows(word.len()).any(|w| w == word.as_bytes()), "{word} in {}", file.display());
        }
    }
}
