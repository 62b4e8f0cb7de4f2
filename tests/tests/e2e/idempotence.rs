//! Idempotence: the same input is processed once; `--force` rewrites byte-identical files.

use std::collections::{BTreeMap, BTreeSet};
use std::time::SystemTime;

use tellonce_tests::files_under;

use crate::support::*;

/// Every visible file under `out/staging` with its modification time.
fn mtimes(out: &std::path::Path) -> BTreeMap<String, SystemTime> {
    files_under(&out.join("staging"))
        .into_iter()
        .map(|p| (p.display().to_string(), std::fs::metadata(&p).unwrap().modified().unwrap()))
        .collect()
}

/// `(path, sha256)` of the files a summary lists.
fn listed(run: &Run) -> Vec<(String, String)> {
    run.summary["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|i| i["files"].as_array().unwrap().clone())
        .map(|f| (f["path"].as_str().unwrap().to_owned(), f["sha256"].as_str().unwrap().to_owned()))
        .collect()
}

#[test]
fn a_second_run_skips_every_input_and_force_rewrites_identical_files() {
    let ws = synth_workspace(1500, 9);
    let first = ws.run(0, &[]);
    let staging = hashes(&ws.out(), "staging");
    let state = hashes(&ws.out(), "state");
    let times = mtimes(&ws.out());
    let quarantined = quarantine_entries(&ws.out());
    assert_eq!(staging.len(), FEEDS.len(), "{staging:#?}");
    assert_eq!(listed(&first).len(), FEEDS.len());

    // Second run: every input skipped, nothing written.
    let second = ws.run(0, &[]);
    for i in second.summary["inputs"].as_array().unwrap() {
        assert_eq!(i["status"], "skipped", "{i:#}");
        assert_eq!(i["files"].as_array().unwrap().len(), 0, "{i:#}");
        assert_eq!(i["sha256"], first.input(i["source"].as_str().unwrap())["sha256"]);
    }
    for feed in FEEDS {
        assert_eq!(second.summary["feeds"][feed]["inputs_skipped"], 1);
        assert_eq!(second.summary["feeds"][feed]["written"], 0);
    }
    assert_eq!(hashes(&ws.out(), "staging"), staging, "the second run changed the staging dataset");
    assert_eq!(mtimes(&ws.out()), times, "the second run rewrote staging files");
    assert_eq!(quarantine_entries(&ws.out()), quarantined);

    // --force: every input processed again, the same file names with the same SHA-256.
    let forced = ws.run(0, &["--force"]);
    for i in forced.summary["inputs"].as_array().unwrap() {
        assert_eq!(i["status"], "processed", "{i:#}");
    }
    assert_eq!(listed(&forced), listed(&first));
    assert_eq!(hashes(&ws.out(), "staging"), staging, "--force wrote different files");
    assert_eq!(hashes(&ws.out(), "state"), state);
    assert_eq!(forced.summary["feeds"], first.summary["feeds"]);

    // No duplicate rows: each feed holds `written` rows, each input line once.
    for feed in FEEDS {
        let parts = visible_parquet(&ws.out().join("staging").join(format!("feed={feed}")));
        let mut lines = BTreeSet::new();
        let mut rows = 0u64;
        for p in &parts {
            let sources = parquet_column(p, "_source");
            let positions = parquet_column(p, "_position");
            for (s, pos) in sources.into_iter().zip(positions) {
                rows += 1;
                assert!(lines.insert((s.unwrap(), pos.unwrap())), "{feed}: a row is in the staging dataset twice");
            }
        }
        assert_eq!(rows, first.summary["feeds"][feed]["written"].as_u64().unwrap(), "{feed}");
    }
    assert_eq!(quarantine_entries(&ws.out()), quarantined, "--force duplicated quarantine entries");
    assert_eq!(files_under(&ws.out().join("manifests")).len(), 3, "one manifest per run");
}

#[test]
fn force_with_two_byte_identical_inputs_of_one_feed_succeeds() {
    // A partner resends the same extract under a new name. A normal run skips the copy (same
    // content); `--force` ("process inputs even if their content was processed before") must
    // not then fail: both inputs derive the same part name from the same SHA-256, and the
    // second commit finds the first's file (whose `_source` differs) and stops the run.
    let ws = Workspace::new();
    let csv = "record_id,occurrence_ref,forename,surname,incident_date,incident_type,person_role\n\
               P1,O1,Ann,Lee,2024-01-05,CRIME,VICTIM\n";
    ws.write("inputs/police.csv", csv);
    ws.write("inputs/police_resent.csv", csv);
    ws.config(&[("police", "inputs/police.csv"), ("police", "inputs/police_resent.csv")], "");
    let first = ws.run(0, &[]);
    first.assert_counts("inputs/police.csv", "processed", 1, 1, 0);
    first.assert_counts("inputs/police_resent.csv", "skipped", 0, 0, 0);
    let forced = tellonce_tests::tellonce(ws.dir(), &["run", "--config", "tellonce.toml", "--force", "--no-progress"]);
    assert_eq!(forced.status.code(), Some(0), "run --force failed:\n{}", text(&forced));
}

#[test]
fn force_with_other_limits_leaves_no_stale_part_or_quarantine_behind() {
    let ws = Workspace::new();
    let mut csv =
        String::from("record_id,occurrence_ref,forename,surname,incident_date,incident_type,person_role,notes\n");
    for i in 0..39 {
        csv.push_str(&format!("P{i},O{i},Ann,Lee,2024-01-05,CRIME,VICTIM,x\n"));
    }
    // One row too long for the first run's limit, fine under the second's (the long field is
    // an unknown column, dropped).
    csv.push_str(&format!("P99,O99,Ann,Lee,2024-01-05,CRIME,VICTIM,{}\n", "n".repeat(300)));
    ws.write("inputs/police.csv", &csv);
    ws.config(&[("police", "inputs/police.csv")], "[limits]\nmax_file_rows = 10\nmax_line_bytes = 256\n");
    let first = ws.run(0, &[]);
    first.assert_counts("inputs/police.csv", "processed", 40, 39, 1);
    assert_eq!(visible_parquet(&ws.out().join("staging")).len(), 4);

    ws.config(&[("police", "inputs/police.csv")], "");
    let second = ws.run(0, &["--force"]);
    second.assert_counts("inputs/police.csv", "processed", 40, 40, 0);
    let parts = visible_parquet(&ws.out().join("staging"));
    assert_eq!(parts.len(), 1, "stale parts of the first run remain: {parts:#?}");
    let rows: u64 = parts.iter().map(|p| parquet_row_count(p)).sum();
    assert_eq!(rows, 40, "the dataset holds exactly the rows read");
    assert!(quarantine_entries(&ws.out()).is_empty(), "the first run's quarantine file remains");
}

#[test]
fn a_second_run_on_the_same_output_while_one_holds_it_is_refused() {
    let ws = Workspace::new();
    ws.write(
        "inputs/police.csv",
        "record_id,occurrence_ref,forename,surname,incident_date,incident_type,person_role\n",
    );
    ws.config(&[("police", "inputs/police.csv")], "");
    std::fs::create_dir_all(ws.out().join("state")).unwrap();
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(ws.out().join("state/run.lock"))
        .unwrap();
    lock.lock().unwrap();
    let refused = tellonce_tests::tellonce_ok(ws.dir(), &["run", "--config", "tellonce.toml", "--no-progress"], 4);
    assert!(text(&refused).contains("another tellonce session"), "{}", text(&refused));
    drop(lock);
    ws.run(0, &[]);
}
