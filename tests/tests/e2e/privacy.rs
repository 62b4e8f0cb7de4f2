//! Privacy: the synthetic inputs' clear identifiers appear nowhere in the output, in the logs or
//! in `quarantine list`; only `quarantine export`, the authorised exception, decrypts them.

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;

use tellonce_tests::{files_under, tellonce_ok};

use crate::support::*;

/// Every leak of `ids` in a file under the output: Parquet decoded value by value (and the raw
/// file), every other file as text.
fn leaks_in_output(ids: &Identifiers, out: &std::path::Path) -> Vec<String> {
    let mut leaks = Vec::new();
    for f in files_under(out) {
        if f.extension().is_some_and(|e| e == "parquet") && !is_hidden(&f) {
            for v in parquet_strings(&f) {
                leaks.extend(ids.find(&v).into_iter().map(|h| format!("{} (Parquet value): {h}", f.display())));
            }
        }
        let text = String::from_utf8_lossy(&std::fs::read(&f).unwrap()).into_owned();
        leaks.extend(ids.find(&text).into_iter().map(|h| format!("{}: {h}", f.display())));
    }
    leaks
}

#[test]
fn no_clear_identifier_in_the_output_the_logs_or_quarantine_list() {
    let ws = synth_workspace(1500, 7);
    let inputs: Vec<_> = files_under(&ws.dir().join("inputs"));
    assert!(inputs.iter().any(|p| p.extension().is_some_and(|e| e == "csv")));
    assert!(inputs.iter().any(|p| p.extension().is_some_and(|e| e == "jsonl")));
    let mut ids = Identifiers::from_inputs(&inputs);
    // The agreements' own dates (start, review, end) are printed by `isa explain` and the audit
    // report; a child born on one of those days is not leaked by them.
    for f in files_under(&ws.dir().join("agreements")) {
        for line in std::fs::read_to_string(f).unwrap().lines() {
            if let Some((_, v)) = line.split_once('=').filter(|(k, _)| ["start", "review", "end"].contains(&k.trim())) {
                ids.dobs.remove(v.trim());
            }
        }
    }
    for (what, n) in [("NHS numbers", ids.nhs.len()), ("names", ids.names.len()), ("dates of birth", ids.dobs.len())] {
        assert!(n >= 300, "only {n} {what} in the synthetic inputs");
    }
    assert!(ids.postcodes.len() >= 100, "only {} postcodes", ids.postcodes.len());
    for (what, n) in
        [("surnames", ids.surnames.len()), ("references", ids.references.len()), ("addresses", ids.addresses.len())]
    {
        assert!(n >= 50, "only {n} {what} in the synthetic inputs");
    }
    // The scanner finds each kind in the inputs themselves (CSV and JSON Lines).
    for ext in ["csv", "jsonl"] {
        let mut kinds: BTreeMap<String, usize> = BTreeMap::new();
        for f in inputs.iter().filter(|p| p.extension().is_some_and(|e| e == ext)) {
            for h in ids.find(&std::fs::read_to_string(f).unwrap()) {
                *kinds.entry(h.split(' ').next().unwrap().to_owned()).or_default() += 1;
            }
        }
        for kind in ["NHS", "name", "date", "postcode", "surname", "reference", "address"] {
            assert!(kinds.get(kind).copied().unwrap_or(0) > 10, "the scanner finds no {kind} in the {ext} inputs");
        }
    }

    let dir = ws.dir();
    let config = ["--config", "tellonce.toml"];
    let outputs = [
        tellonce_ok(dir, &["--log", "debug", "run", config[0], config[1], "--no-progress"], 0),
        tellonce_ok(
            dir,
            &[
                "--log",
                "debug",
                "--log-format",
                "json",
                "run",
                config[0],
                config[1],
                "--force",
                "--json",
                "--no-progress",
            ],
            0,
        ),
        tellonce_ok(dir, &["--log", "debug", "quarantine", "list", config[0], config[1]], 0),
        tellonce_ok(dir, &["--log-format", "json", "quarantine", "list", config[0], config[1], "--json"], 0),
        tellonce_ok(dir, &["--log", "debug", "build", config[0], config[1], "--json"], 0),
        tellonce_ok(dir, &["link-eval", config[0], config[1], "--truth", "truth/records.csv"], 0),
        tellonce_ok(dir, &["link-model", config[0], config[1]], 0),
        explain_someone(dir, &inputs),
        tellonce_ok(dir, &["link-review", config[0], config[1]], 0),
        tellonce_ok(dir, &["link-review", config[0], config[1], "--csv"], 0),
        tellonce_ok(dir, &["isa", "explain", config[0], config[1], "--feed", "education"], 0),
        tellonce_ok(dir, &["--log", "debug", "retention", "apply", config[0], config[1], "--dry-run"], 0),
        tellonce_ok(dir, &["audit", "report", config[0], config[1], "--out", "report.html"], 0),
        sar_of_someone(dir, &inputs),
        tellonce_ok(dir, &["feeds", "lint", config[0], config[1]], 0),
        tellonce_ok(dir, &["feeds", "show", "substance_misuse", config[0], config[1]], 0),
    ];
    // A proposed mapping of every synthetic CSV extract (to standard output) holds headings,
    // formats and codes, never a value that identifies.
    let mut outputs = outputs.to_vec();
    for input in inputs.iter().filter(|p| p.extension().is_some_and(|e| e == "csv")) {
        let feed = input.file_stem().unwrap().to_str().unwrap();
        let path = input.to_str().unwrap();
        outputs.push(tellonce_ok(dir, &["sources", "infer", path, "--feed", feed, config[0], config[1]], 0));
    }
    assert!(!quarantine_entries(&ws.out()).is_empty(), "the synthetic run quarantined nothing");
    assert!(!visible_parquet(&ws.out()).is_empty());

    let mut leaks = leaks_in_output(&ids, &ws.out());
    let report = std::fs::read_to_string(dir.join("report.html")).unwrap();
    leaks.extend(ids.find(&report).into_iter().map(|h| format!("report.html: {h}")));
    for (i, o) in outputs.iter().enumerate() {
        for (stream, bytes) in [("stdout", &o.stdout), ("stderr", &o.stderr)] {
            let text = String::from_utf8_lossy(bytes);
            leaks.extend(ids.find(&text).into_iter().map(|h| format!("{stream} of command {i}: {h}")));
        }
    }
    leaks.sort();
    leaks.dedup();
    assert!(leaks.is_empty(), "{} clear identifier(s) leaked:\n{}", leaks.len(), leaks.join("\n"));
}

/// `link-explain` of the first health visiting record: references and bits, never a value.
fn explain_someone(dir: &std::path::Path, inputs: &[std::path::PathBuf]) -> std::process::Output {
    let hv = inputs.iter().find(|p| p.file_name().is_some_and(|n| n == "health_visiting.csv")).unwrap();
    let id = read_records(hv).into_iter().find_map(|r| r.get("record_id").cloned()).unwrap();
    let record = format!("health_visiting:{id}");
    let args = ["--log", "debug", "link-explain", "-c", "tellonce.toml", "--record", &record];
    tellonce_ok(dir, &[&args[..], &["--officer", "IG 1", "--reference", "LX-1", "--limit", "50"]].concat(), 0)
}

/// `sar` (text, then JSON) for the NHS number of the first health visiting record: the officer
/// sees where the person's records are held, never their identifiers.
fn sar_of_someone(dir: &std::path::Path, inputs: &[std::path::PathBuf]) -> std::process::Output {
    let hv = inputs.iter().find(|p| p.file_name().is_some_and(|n| n == "health_visiting.csv")).unwrap();
    let nhs = read_records(hv).into_iter().find_map(|r| r.get("nhs_number").cloned()).unwrap();
    let args = ["--log", "debug", "sar", "--config", "tellonce.toml", "--officer", "IG 1", "--reference", "SAR-1"];
    let out = tellonce_with_stdin(dir, &args, &format!("nhs_number={nhs}\n"));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("health_visiting"), "the lookup found nothing: {}", text(&out));
    out
}

/// Police and CAMHS extracts with known bad values: `(source, line, rule, column, bad value)`.
/// The records on police line 3 and CAMHS line 1 also hold a bad identifier
/// ([`NULLED_IN_BAD`]), which alone would only be nulled.
const BAD: &[(&str, u64, &str, Option<&str>, &str)] = &[
    ("inputs/police.csv", 3, "code.unknown", Some("incident_type"), "SECRETTYPE"),
    ("inputs/police.csv", 4, "csv.ragged_row", None, "RAGGEDSECRET"),
    ("inputs/police.csv", 5, "date.calendar", Some("incident_date"), "2023-02-30"),
    ("inputs/camhs.jsonl", 1, "code.unknown", Some("referral_outcome"), "SECRETOUTCOME"),
    ("inputs/camhs.jsonl", 2, "json.malformed", None, "QUARANTINESECRET"),
];

/// The bad identifiers in the quarantined records of [`BAD`].
const NULLED_IN_BAD: [&str; 2] = ["2012/0052834L", "9434765918"];

fn bad_workspace() -> Workspace {
    let ws = Workspace::new();
    let police = "record_id,occurrence_ref,pnc_id,forename,surname,incident_date,incident_type,person_role\n\
                  P1,O1,2012/0052834K,Ann,Lee,2024-01-05,CRIME,VICTIM\n\
                  P2,O2,2012/0052834L,Ann,Lee,2024-01-05,SECRETTYPE,VICTIM\n\
                  P3,O3,,Ann,Lee,2024-01-05,CRIME,VICTIM,RAGGEDSECRET\n\
                  P4,O4,,Ann,Lee,2023-02-30,CRIME,VICTIM\n";
    ws.write("inputs/police.csv", police);
    let camhs = "{\"record_id\":\"C1\",\"nhs_number\":\"9434765918\",\"forename\":\"Ann\",\"surname\":\"Lee\",\
                 \"date_of_birth\":\"2015-06-30\",\"referral_received_date\":\"2024-01-05\",\"referral_outcome\":\"SECRETOUTCOME\"}\n\
                 {\"record_id\":\"C2\",\"forename\":\"QUARANTINESECRET\"\n\
                 {\"record_id\":\"C3\",\"nhs_number\":\"9434765919\",\"forename\":\"Ann\",\"surname\":\"Lee\",\
                 \"date_of_birth\":\"2015-06-30\",\"referral_received_date\":\"2024-01-05\",\"referral_outcome\":\"ACCEPTED\"}\n";
    ws.write("inputs/camhs.jsonl", camhs);
    ws.config(&[("police", "inputs/police.csv"), ("camhs", "inputs/camhs.jsonl")], "");
    ws
}

#[test]
fn quarantine_export_round_trips_every_record_with_its_original_values() {
    let ws = bad_workspace();
    let run = ws.run(0, &[]);
    run.assert_counts("inputs/police.csv", "processed", 4, 1, 3);
    run.assert_counts("inputs/camhs.jsonl", "processed", 3, 1, 2);
    let entries = quarantine_entries(&ws.out());
    assert_eq!(entries.len(), BAD.len(), "{entries:#?}");
    // Sealed at rest: no bad value in clear anywhere under the output.
    let values: Vec<&[u8]> = BAD.iter().map(|b| b.4).chain(NULLED_IN_BAD).map(str::as_bytes).collect();
    assert_absent(&values, &[&run.output], &ws.out());

    let export = ws.dir().join("export.jsonl");
    let out = tellonce_ok(ws.dir(), &["quarantine", "export", "--config", "tellonce.toml", "--out", "export.jsonl"], 0);
    assert!(text(&out).contains(&format!("exported {} record(s)", BAD.len())), "{}", text(&out));
    assert_eq!(std::fs::metadata(&export).unwrap().permissions().mode() & 0o777, 0o600);
    let exported: Vec<serde_json::Value> =
        std::fs::read_to_string(&export).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(exported.len(), BAD.len());
    let mut got = Vec::new();
    for e in &exported {
        let q = Quarantined {
            feed: e["feed"].as_str().unwrap().to_owned(),
            source: e["source"].as_str().unwrap().to_owned(),
            position: e["position"].as_u64().unwrap(),
            rule: e["rule"].as_str().unwrap().to_owned(),
            column: e["column"].as_str().map(str::to_owned),
        };
        let &(_, _, rule, column, value) = BAD
            .iter()
            .find(|b| b.0 == q.source && b.1 == q.position)
            .unwrap_or_else(|| panic!("unexpected record exported: {e}"));
        assert_eq!((q.rule.as_str(), q.column.as_deref()), (rule, column), "{e}");
        let record = e["record"].as_str().unwrap_or_else(|| panic!("no decrypted record: {e}"));
        assert!(record.contains(value), "the decrypted record of {e} lacks its original value {value}");
        got.push(q);
    }
    got.sort();
    assert_eq!(got, entries, "the export differs from the quarantine's clear metadata");

    // --feed exports one feed only; an existing file is never overwritten.
    let out = tellonce_ok(
        ws.dir(),
        &["quarantine", "export", "--config", "tellonce.toml", "--out", "camhs.jsonl", "--feed", "camhs"],
        0,
    );
    assert!(text(&out).contains("exported 2 record(s)"), "{}", text(&out));
    let before = std::fs::read(&export).unwrap();
    let again = tellonce_tests::tellonce(
        ws.dir(),
        &["quarantine", "export", "--config", "tellonce.toml", "--out", "export.jsonl"],
    );
    assert_ne!(again.status.code(), Some(0), "export overwrote an existing file");
    assert_eq!(std::fs::read(&export).unwrap(), before);

    // A feed that does not exist is an error naming it (a typo is not "nothing quarantined").
    let typo = tellonce_ok(
        ws.dir(),
        &["quarantine", "export", "--config", "tellonce.toml", "--out", "typo.jsonl", "--feed", "nosuchfeed"],
        2,
    );
    assert!(text(&typo).contains("\"nosuchfeed\" is not a feed"), "{}", text(&typo));
    assert!(!ws.dir().join("typo.jsonl").exists());
}

#[test]
fn the_leak_scanner_finds_identifiers_in_utf8_binary_and_fixed_size_binary_parquet_columns() {
    // A check of the check: a Parquet file holding clear identifiers in each kind of column the
    // staging tokens may have, and in its footer, is reported.
    use std::sync::Arc;

    use arrow_array::{ArrayRef, BinaryArray, FixedSizeBinaryArray, RecordBatch, StringArray};
    use parquet::arrow::ArrowWriter;
    use parquet::file::metadata::KeyValue;
    use parquet::file::properties::WriterProperties;

    let ws = synth_workspace(300, 1);
    let inputs = files_under(&ws.dir().join("inputs"));
    let ids = Identifiers::from_inputs(&inputs);
    let nhs = ids.nhs.iter().min().unwrap().clone();
    let name = ids.names.iter().filter(|n| n.split(' ').count() == 2).min().unwrap().clone();
    let dob = ids.dobs.iter().min().unwrap().clone();
    let postcode = ids.postcodes.iter().min().unwrap().clone();

    let mut padded = [b' '; 16];
    padded[..nhs.len()].copy_from_slice(nhs.as_bytes());
    let mixed = name.to_lowercase().replace(' ', "-");
    let batch = RecordBatch::try_from_iter([
        ("utf8", Arc::new(StringArray::from(vec![Some("fine"), Some(dob.as_str())])) as ArrayRef),
        ("binary", Arc::new(BinaryArray::from_vec(vec![b"x".as_slice(), mixed.as_bytes()])) as ArrayRef),
        ("fixed", Arc::new(FixedSizeBinaryArray::try_from_iter([[0u8; 16], padded].into_iter()).unwrap()) as ArrayRef),
    ])
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("staging/feed=x/part-0.parquet");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let props = WriterProperties::builder()
        .set_key_value_metadata(Some(vec![KeyValue::new("note".to_owned(), format!("lives at {postcode}."))]))
        .build();
    let mut w = ArrowWriter::try_new(std::fs::File::create(&path).unwrap(), batch.schema(), Some(props)).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();

    let leaks = leaks_in_output(&ids, dir.path());
    for (what, value) in [("NHS number", &nhs), ("name", &name), ("date of birth", &dob), ("postcode", &postcode)] {
        let hit = format!("(Parquet value): {what} {value}");
        assert!(
            leaks.iter().any(|l| l.ends_with(&hit)),
            "the scanner missed the {what} {value}:\n{}",
            leaks.join("\n")
        );
    }
}

#[test]
fn the_demo_prints_and_writes_no_clear_identifier_of_the_population_it_made() {
    let ws = Workspace::bare();
    let demo = tellonce_ok(ws.dir(), &["--log", "debug", "demo", "--out", "d", "--children", "300"], 0);
    let inputs = files_under(&ws.dir().join("d/inputs"));
    let mut ids = Identifiers::from_inputs(&inputs);
    // The agreements' own dates are printed by design (see the test above).
    for f in files_under(&ws.dir().join("d/agreements")) {
        for line in std::fs::read_to_string(f).unwrap().lines() {
            if let Some((_, v)) = line.split_once('=').filter(|(k, _)| ["start", "review", "end"].contains(&k.trim())) {
                ids.dobs.remove(v.trim());
            }
        }
    }
    assert!(ids.nhs.len() > 20 && ids.references.len() > 20, "the demo made too few identifiers to look for");
    let mut leaks = leaks_in_output(&ids, &ws.dir().join("d/output"));
    for (stream, bytes) in [("stdout", &demo.stdout), ("stderr", &demo.stderr)] {
        leaks.extend(ids.find(&String::from_utf8_lossy(bytes)).into_iter().map(|h| format!("demo {stream}: {h}")));
    }
    assert!(leaks.is_empty(), "{} clear identifier(s) leaked:\n{}", leaks.len(), leaks.join("\n"));
}
