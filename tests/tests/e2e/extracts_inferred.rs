//! Partner extracts mapped by `tellonce sources infer`: the synthetic housing, police and
//! education extracts reshaped as partners send them (their own headings, UK dates, coded sex and
//! ethnicity, Yes/No flags, thousands separators, a title line, Windows-1252), as pipe-delimited
//! text and as `.xlsx`, `.xls` and `.ods` workbooks. The proposed mapping, with the review edits a person makes
//! (listed in [`review`]), reads them with no more records quarantined than the canonical form,
//! and stages the same rows.

use std::collections::BTreeMap;

use serde_json::Value;
use tellonce_tests::{json_stdout, tellonce_ok};

use crate::partner_forms::{staged_by_record_id, windows_1252_safe, write_delimited};
use crate::support::*;
use crate::workbooks::{FORMATS, SheetCells, write_workbook};

/// A partner's extract of one feed: its headings for the feed's columns, in its own order, and
/// columns of its own that the feed does not have.
struct Extract {
    feed: &'static str,
    canonical: &'static str,
    title: &'static str,
    headings: &'static [(&'static str, &'static str)],
    own: &'static [&'static str],
    dates: &'static [&'static str],
}

const EXTRACTS: [Extract; 3] = [
    Extract {
        feed: "housing",
        canonical: "inputs/housing.csv",
        title: "Housing options: H-CLIC case extract",
        headings: &[
            ("Case Ref", "record_id"),
            ("Household Ref", "household_ref"),
            ("Relationship", "role_in_household"),
            ("First Name", "forename"),
            ("Last Name", "surname"),
            ("DOB", "date_of_birth"),
            ("Gender", "sex"),
            ("Address 1", "address_line_1"),
            ("Post Code", "postcode"),
            ("UPRN", "uprn"),
            ("Date Approached", "approach_date"),
            ("Duty Owed", "duty_owed"),
            ("Reason For Loss", "reason_for_loss"),
            ("TA Type", "ta_type"),
            ("TA Start Date", "ta_start"),
            ("TA End Date", "ta_end"),
            ("Arrears Balance", "rent_arrears_balance"),
            ("No. Children", "num_children"),
        ],
        own: &["Officer"],
        dates: &["date_of_birth", "approach_date", "ta_start", "ta_end"],
    },
    Extract {
        feed: "police",
        canonical: "inputs/police.jsonl",
        title: "Niche RMS export: occurrences involving children",
        headings: &[
            ("Unique ID", "record_id"),
            ("Occurrence Number", "occurrence_ref"),
            ("PNC ID", "pnc_id"),
            ("Forename", "forename"),
            ("Surname", "surname"),
            ("Date of Birth", "date_of_birth"),
            ("Sex", "sex"),
            ("Address", "address_line_1"),
            ("Postcode", "postcode"),
            ("UPRN", "uprn"),
            ("Incident Date", "incident_date"),
            ("Occurrence Type", "incident_type"),
            ("Involvement", "person_role"),
            ("DASH Risk", "dash_risk"),
            ("MARAC Referral", "marac_referral"),
            ("Encompass Notified", "encompass_notified"),
            ("Missing Risk Level", "missing_risk"),
            ("Hours Missing", "missing_duration_hours"),
            ("Outcome", "outcome"),
        ],
        own: &["Station", "Beat"],
        dates: &["date_of_birth", "incident_date"],
    },
    Extract {
        feed: "education",
        canonical: "inputs/education.csv",
        title: "Education and early help events (MIS report 14)",
        headings: &[
            ("Record Ref", "record_id"),
            ("UPN", "upn"),
            ("NHS No", "nhs_number"),
            ("Legal Forename", "forename"),
            ("Legal Surname", "surname"),
            ("Date of Birth", "date_of_birth"),
            ("Gender", "sex"),
            ("Ethnicity", "ethnicity"),
            ("Address Line 1", "address_line_1"),
            ("Postcode", "postcode"),
            ("UPRN", "uprn"),
            ("Event Date", "event_date"),
            ("Event Type", "event_type"),
            ("Attendance %", "attendance_pct"),
            ("Suspension Days", "suspension_days"),
            ("NEET Status", "neet_status"),
            ("EH Outcome", "early_help_outcome"),
            ("CIN", "child_in_need"),
            ("CP Plan", "child_protection_plan"),
            ("Looked After", "looked_after"),
            ("EHCP", "ehc_plan"),
        ],
        own: &["School", "NCY"],
        dates: &["date_of_birth", "event_date"],
    },
];

/// How the partner writes a canonical value of `column`. A value that is not valid in canonical
/// form (an injected error) is left as it is, as a partner's bad value would be.
fn partner_value(e: &Extract, column: &str, v: &str) -> String {
    let iso = |v: &str| {
        let b = v.as_bytes();
        (b.len() == 10 && b[4] == b'-' && b[7] == b'-' && v.replace('-', "").bytes().all(|c| c.is_ascii_digit()))
            .then(|| format!("{}/{}/{}", &v[8..], &v[5..7], &v[..4]))
    };
    if e.dates.contains(&column) {
        return iso(v).unwrap_or_else(|| v.to_owned());
    }
    match (column, v) {
        ("sex", "M") => "1".into(),
        ("sex", "F") => "2".into(),
        ("sex", "X") => "0".into(),
        ("sex", "U") => "9".into(),
        ("ethnicity", "WHITE") => "WBRI".into(),
        ("ethnicity", "MIXED") => "MWBC".into(),
        ("ethnicity", "ASIAN") => "APKN".into(),
        ("ethnicity", "BLACK") => "BAFR".into(),
        ("ethnicity", "OTHER") => "OOTH".into(),
        ("ethnicity", "NOT_STATED") => "REFU".into(),
        ("marac_referral" | "encompass_notified", "true") => "Yes".into(),
        ("marac_referral" | "encompass_notified", "false") => "No".into(),
        ("rent_arrears_balance", _) => match v.split_once('.') {
            Some((whole, cents)) if whole.len() > 3 && whole.bytes().all(|c| c.is_ascii_digit()) => {
                format!("{},{}.{cents}", &whole[..whole.len() - 3], &whole[whole.len() - 3..])
            }
            _ => v.to_owned(),
        },
        _ => v.to_owned(),
    }
}

/// The edits the reviewer made to each proposal, found by reading it against the partner's
/// headings: what `sources infer` could not know.
fn review(feed: &str, proposal: &str) -> String {
    match feed {
        // "Occurrence Number" shares one word with `occurrence_ref`: the reviewer places it.
        // "Involvement" shares none with `person_role`, but forces' systems head it so.
        "police" => {
            assert!(proposal.contains("\"Involvement\" = \"person_role\"  # high"), "{proposal}");
            proposal.replacen("[columns]\n", "[columns]\n\"Occurrence Number\" = \"occurrence_ref\"\n", 1)
        }
        _ => proposal.to_owned(),
    }
}

fn run(ws: &Workspace, config: &str) -> Value {
    json_stdout(&tellonce_ok(ws.dir(), &["run", "--config", config, "--json", "--no-progress"], 0))
}

#[test]
fn partner_shaped_extracts_go_through_on_a_reviewed_inferred_mapping() {
    let ws = synth_workspace(800, 23);
    let extra = "[reference]\npostcode_lookup = \"reference/postcode_lookup.csv\"\n[linkage]\nenabled = false\n";
    let mut canonical_sources = Vec::new();
    // Per form ("partner", the delimited text, then each workbook format): its sources.
    let mut forms: Vec<(&str, String)> = vec![("partner", String::new())];
    forms.extend(FORMATS.iter().map(|f| (*f, String::new())));
    for e in &EXTRACTS {
        let mut records = read_records(&ws.dir().join(e.canonical));
        records[0].insert("forename".into(), "Renée".into());
        records[1].insert("surname".into(), "Müller".into());
        let columns: Vec<&str> = e.headings.iter().map(|(_, c)| *c).collect();
        let value = |r: &BTreeMap<String, String>, c: &str| windows_1252_safe(r.get(c).map_or("", String::as_str));
        let mut canonical = vec![columns.iter().map(|c| (*c).to_owned()).collect::<Vec<_>>()];
        canonical.extend(records.iter().map(|r| columns.iter().map(|c| value(r, c)).collect()));
        ws.write(&format!("canonical/{}.csv", e.feed), write_delimited(&canonical, b','));
        canonical_sources.push((e.feed, format!("canonical/{}.csv", e.feed)));

        let mut header: Vec<String> = e.own.iter().map(|h| (*h).to_owned()).collect();
        header.extend(e.headings.iter().map(|(h, _)| (*h).to_owned()));
        let mut table = vec![header];
        for (n, r) in records.iter().enumerate() {
            let mut row: Vec<String> = e.own.iter().map(|h| format!("{h}-{}", n % 5)).collect();
            row.extend(e.headings.iter().map(|(_, c)| partner_value(e, c, &value(r, c))));
            table.push(row);
        }
        let text = format!("{}\r\n{}", e.title, write_delimited(&table, b'|'));
        let (bytes, _, unmappable) = encoding_rs::WINDOWS_1252.encode(&text);
        assert!(!unmappable && std::str::from_utf8(&bytes).is_err(), "{}: Windows-1252, not UTF-8", e.feed);
        let text_path = format!("partner/{} extract.txt", e.feed);
        ws.write(&text_path, &bytes);
        let sheet = SheetCells::titled_table("Export", e.title, 2, &table);
        for (form, sources) in &mut forms {
            let (path, map) = if *form == "partner" {
                (text_path.clone(), format!("maps/{}.toml", e.feed))
            } else {
                let path = format!("partner/{}.{form}", e.feed);
                write_workbook(&ws.dir().join(&path), form, &sheet);
                (path, format!("maps/{}-{form}.toml", e.feed))
            };
            std::fs::create_dir_all(ws.dir().join("maps")).unwrap();
            let out = tellonce_ok(ws.dir(), &["sources", "infer", &path, "--feed", e.feed, "--out", &map], 0);
            let names: Vec<&[u8]> = vec![b"Ren\xe9e", "Renée".as_bytes(), "Müller".as_bytes()];
            assert_absent(&names, &[&out], &ws.out());
            let proposal = std::fs::read_to_string(ws.dir().join(&map)).unwrap();
            for name in ["Renée", "Müller"] {
                assert!(!proposal.contains(name), "{map} holds a name");
            }
            ws.write(&map, review(e.feed, &proposal));
            let format = if *form == "partner" { "csv" } else { form };
            sources.push_str(&format!(
                "\n[[sources]]\nfeed = {:?}\npath = {path:?}\nformat = {format:?}\nmapping = {map:?}\n",
                e.feed
            ));
        }
    }
    ws.config_named(
        "canonical.toml",
        "out-canonical",
        "keys/tellonce.key",
        &canonical_sources_ref(&canonical_sources),
        extra,
    );
    for (form, sources) in &forms {
        let (name, out) = (format!("{form}.toml"), format!("out-{form}"));
        let name = name.as_str();
        ws.write(name, format!("[output]\ndir = {out:?}\n[keys]\nfile = \"keys/tellonce.key\"\n{extra}{sources}"));
        // The synthetic data's own bad dates (left as sent) are reported; nothing else may be.
        let check = tellonce_tests::tellonce(ws.dir(), &["sources", "check", "--config", name]);
        let said = text(&check);
        for line in said.lines().filter(|l| l.trim_start().starts_with("error[")) {
            assert!(line.contains("error[date.format]"), "{name}: {line}\n{said}");
        }
    }
    let canonical = run(&ws, "canonical.toml");
    for (form, _) in &forms {
        let (config, out) = (format!("{form}.toml"), format!("out-{form}"));
        let config = config.as_str();
        let partner = run(&ws, config);
        for (i, e) in EXTRACTS.iter().enumerate() {
            let (c, p) = (&canonical["inputs"][i], &partner["inputs"][i]);
            assert_eq!(p["status"], "processed", "{config} {}: {p:#}", e.feed);
            assert_eq!(p["read"], c["read"], "{config} {}", e.feed);
            let q = |v: &Value| v["quarantined"].as_u64().unwrap();
            assert!(q(p) <= q(c), "{config} {}: {} quarantined, canonical {}", e.feed, q(p), q(c));
            assert_eq!(
                rule_counts(&p["quarantined_by_rule"]),
                rule_counts(&c["quarantined_by_rule"]),
                "{config} {}",
                e.feed
            );
            assert_eq!(rule_counts(&p["nulled_by_rule"]), rule_counts(&c["nulled_by_rule"]), "{config} {}", e.feed);
            let mut own: Vec<String> = e.own.iter().map(|h| (*h).to_owned()).collect();
            own.sort();
            let unknown: Vec<String> = serde_json::from_value(p["unknown_columns"].clone()).unwrap();
            assert_eq!(unknown, own, "{config} {}: only the partner's own columns are left over", e.feed);
            let (cs, ps) = (
                staged_by_record_id(&ws.dir().join("out-canonical"), e.feed),
                staged_by_record_id(&ws.dir().join(&out), e.feed),
            );
            assert_eq!(ps.len(), cs.len(), "{config} {}", e.feed);
            for (id, row) in &cs {
                assert_eq!(ps.get(id), Some(row), "{config} {}: record {id} staged differently", e.feed);
            }
        }
    }
}

fn canonical_sources_ref<'a>(v: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    v.iter().map(|(f, p)| (*f, p.as_str())).collect()
}

/// The education extract as a partner writes it (UK dates, coded sex and ethnicity) with
/// `edit` applied to each row, the header `header` (none when `None`), and every identifying
/// value it holds (names, dates of birth, addresses, postcodes, UPNs, NHS numbers).
fn education_file(
    ws: &Workspace,
    name: &str,
    header: Option<Vec<String>>,
    edit: impl Fn(&mut Vec<String>),
) -> Vec<String> {
    let e = &EXTRACTS[2];
    let records = read_records(&ws.dir().join(e.canonical));
    let columns: Vec<&str> = e.headings.iter().map(|(_, c)| *c).collect();
    let mut table: Vec<Vec<String>> = header.into_iter().collect();
    let mut identifying = std::collections::BTreeSet::new();
    for r in &records {
        let mut row: Vec<String> =
            columns.iter().map(|c| partner_value(e, c, r.get(*c).map_or("", String::as_str))).collect();
        for (c, v) in columns.iter().zip(&row) {
            let identifies =
                ["upn", "nhs_number", "forename", "surname", "date_of_birth", "address_line_1", "postcode"];
            if identifies.contains(c) && !v.is_empty() {
                identifying.insert(v.clone());
            }
        }
        edit(&mut row);
        table.push(row);
    }
    ws.write(name, write_delimited(&table, b','));
    identifying.into_iter().collect()
}

/// Asserts that no identifying value is in `said`: quoted as a proposal would write it, or
/// anywhere when it is a date, an identifier, an address or a postcode (a digit or a space
/// in it, so that a short name is not found inside an ordinary word).
fn assert_no_value(values: &[String], said: &str) {
    for v in values {
        assert!(!said.contains(&format!("\"{v}\"")), "{v:?} is shown:\n{said}");
        if v.len() >= 4 && v.contains(|c: char| c.is_ascii_digit() || c == ' ') {
            assert!(!said.contains(v.as_str()), "{v:?} is shown:\n{said}");
        }
    }
}

#[test]
fn infer_shows_no_value_for_a_missing_or_blank_header_or_names_in_a_code_column() {
    // Each file below once printed a value: a name as a heading, as a code, or read as UTF-16.
    let ws = synth_workspace(120, 29);
    let headings: Vec<String> = EXTRACTS[2].headings.iter().map(|(h, _)| (*h).to_owned()).collect();
    let outcome = headings.iter().position(|h| h == "EH Outcome").unwrap();
    let (surname, nhs) = (4, 2);
    let infer = |file: &str, code: i32| {
        let out = tellonce_ok(ws.dir(), &["sources", "infer", file, "--feed", "education"], code);
        text(&out)
    };

    // Sent without its header line: refused as input, naming the file and line 1, no value.
    let values = education_file(&ws, "partner/no_header.csv", None, |_| {});
    let said = infer("partner/no_header.csv", 3);
    assert!(said.contains("partner/no_header.csv has no header line: line 1 reads as a record"), "{said}");
    assert_no_value(&values, &said);
    let first = std::fs::read_to_string(ws.dir().join("partner/no_header.csv")).unwrap();
    for cell in first.lines().next().unwrap().split(',').filter(|c| c.len() >= 4) {
        assert!(!said.contains(cell), "a cell of line 1 ({cell}) is shown:\n{said}");
    }

    // A blank heading over the NHS numbers: the column is left out by position, exit 0.
    let mut blank = headings.clone();
    blank[nhs] = String::new();
    let values = education_file(&ws, "partner/blank_heading.csv", Some(blank), |_| {});
    let said = infer("partner/blank_heading.csv", 0);
    assert!(said.contains(&format!("#   column {} has no heading", nhs + 1)), "{said}");
    assert!(!said.contains("\"\" = "), "{said}");
    assert_no_value(&values, &said);

    // Surnames in the outcome column: none is listed as a partner code; the count says why.
    let values = education_file(&ws, "partner/names_as_codes.csv", Some(headings.clone()), |row| {
        row[outcome] = row[surname].clone();
    });
    let said = infer("partner/names_as_codes.csv", 0);
    assert!(said.contains("[values.early_help_outcome]") && said.contains("not shown here"), "{said}");
    assert_no_value(&values, &said);

    // Staff names under a heading that only shares words with the outcome: none is listed.
    let staff = ["Sarah Jones", "Tom Reed", "Priya Shah", "Helen Ward", "Mark Price"];
    let mut worker = headings.clone();
    worker[outcome] = "Early Help Worker".to_owned();
    let n = std::cell::Cell::new(0);
    education_file(&ws, "partner/worker.csv", Some(worker), |row| {
        row[outcome] = staff[n.get() % staff.len()].to_owned();
        n.set(n.get() + 1);
    });
    let said = infer("partner/worker.csv", 0);
    for name in staff {
        assert!(!said.contains(name), "{name} is shown:\n{said}");
    }

    // Sent without its header, the first record holding no date nor identifier (names and a
    // code): not refused, but none of its cells is written as a heading.
    let values = education_file(&ws, "partner/names_only.csv", None, |row| {
        *row = vec![row[3].clone(), row[4].clone(), row[6].clone()];
    });
    let said = infer("partner/names_only.csv", 0);
    assert!(said.contains("#   column 1 heading not shown"), "{said}");
    assert_no_value(&values, &said);

    // Saved as UTF-16 ("Unicode Text"): refused as a run refuses it, no value read.
    let values = education_file(&ws, "partner/unicode.txt", Some(headings.clone()), |_| {});
    let text = std::fs::read_to_string(ws.dir().join("partner/unicode.txt")).unwrap();
    let utf16: Vec<u8> = [0xFF, 0xFE].into_iter().chain(text.encode_utf16().flat_map(u16::to_le_bytes)).collect();
    ws.write("partner/unicode.txt", utf16);
    let said = infer("partner/unicode.txt", 3);
    assert!(said.contains("partner/unicode.txt is UTF-16"), "{said}");
    assert_no_value(&values, &said);

    // A title line and a blank line padded to the table's width, as a spreadsheet saves them.
    let values = education_file(&ws, "partner/padded.csv", Some(headings.clone()), |_| {});
    let text = std::fs::read_to_string(ws.dir().join("partner/padded.csv")).unwrap();
    let pad = ",".repeat(headings.len() - 1);
    ws.write("partner/padded.csv", format!("Education extract March 2023{pad}\r\n{pad}\r\n{text}"));
    let said = infer("partner/padded.csv", 0);
    assert!(said.contains("skip_lines = 2") && said.contains("\"UPN\" = \"upn\""), "{said}");
    assert_no_value(&values, &said);
}
