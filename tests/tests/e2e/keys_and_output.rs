//! Key files that cannot be used, an output that cannot be written, and a write killed halfway.

use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;

use tellonce_tests::{files_under, tellonce_ok};

use crate::support::*;

const POLICE_CSV: &str = "record_id,occurrence_ref,forename,surname,incident_date,incident_type,person_role\n\
                          P1,OCC1,Ann,Lee,2024-01-05,CRIME,VICTIM\n";

/// A workspace with one valid police input whose config points at `key` (not created).
fn with_key_path(key: &str) -> Workspace {
    let ws = Workspace::bare();
    ws.write("inputs/police.csv", POLICE_CSV);
    ws.config_named("tellonce.toml", "output", key, &[("police", "inputs/police.csv")], "");
    ws
}

/// Runs and checks exit 2, that stdout and stderr name `key` and hold none of `secrets`, and
/// that nothing was written under the output's staging dataset.
fn refused(ws: &Workspace, key: &str, secrets: &[&[u8]]) {
    let out = tellonce_ok(ws.dir(), &["run", "--config", "tellonce.toml", "--json", "--no-progress"], 2);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(stderr.contains(key), "the message does not name the key file {key}:\n{stderr}");
    assert!(files_under(&ws.out().join("staging")).is_empty(), "{:?}", files_under(&ws.out()));
    assert!(visible_parquet(&ws.out()).is_empty());
    assert!(files_under(&ws.out().join("state")).is_empty());
    assert_absent(secrets, &[&out], &ws.out());
}

#[test]
fn a_missing_key_file_exits_2_naming_it_and_writes_nothing() {
    let ws = with_key_path("keys/missing.key");
    refused(&ws, "keys/missing.key", &[b"P1,OCC1"]);
    assert!(!ws.dir().join("keys/missing.key").exists(), "a missing key must not be created");
}

#[test]
fn a_key_file_readable_by_others_exits_2_naming_it_and_writes_nothing() {
    let ws = with_key_path("keys/open.key");
    let hex = "8f".repeat(32);
    let key = ws.write("keys/open.key", format!("{hex}\n"));
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    refused(&ws, "keys/open.key", &[hex.as_bytes()]);
    assert!(text(&tellonce_tests::tellonce(ws.dir(), &["run", "--config", "tellonce.toml"])).contains("0644"));
}

#[test]
fn a_short_key_exits_2_naming_it_and_writes_nothing() {
    let ws = with_key_path("keys/short.key");
    let hex = "3c".repeat(16);
    let key = ws.write("keys/short.key", format!("{hex}\n"));
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    refused(&ws, "keys/short.key", &[hex.as_bytes()]);
}

#[test]
fn an_unwritable_output_directory_exits_4() {
    let ws = Workspace::new();
    ws.write("inputs/police.csv", POLICE_CSV);
    // The output directory would be under a regular file: ENOTDIR, even for root.
    ws.write("blocker", "a regular file\n");
    ws.config_named("tellonce.toml", "blocker/output", "keys/tellonce.key", &[("police", "inputs/police.csv")], "");
    let out = tellonce_ok(ws.dir(), &["run", "--config", "tellonce.toml", "--json", "--no-progress"], 4);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(stderr.contains("blocker/output"), "the message does not name the output:\n{stderr}");
    assert_eq!(std::fs::read_to_string(ws.dir().join("blocker")).unwrap(), "a regular file\n");
    assert!(visible_parquet(ws.dir()).is_empty());
}

/// The config of a copy of `from` (inputs, key, reference data and config, no output).
fn copy_workspace(from: &Workspace) -> Workspace {
    let to = Workspace::bare();
    for sub in ["inputs", "keys", "reference", "agreements"] {
        if from.dir().join(sub).exists() {
            copy_tree(&from.dir().join(sub), &to.dir().join(sub));
        }
    }
    std::fs::copy(from.dir().join("tellonce.toml"), to.dir().join("tellonce.toml")).unwrap();
    to
}

/// Runs `tellonce run` in `ws` with a file size limit of `blocks` KiB and checks that it was
/// killed by SIGXFSZ, that is in the middle of a write.
fn run_killed_mid_write(ws: &Workspace, blocks: u64) {
    let out = tellonce_with_file_size_limit(ws.dir(), blocks, &["run", "--config", "tellonce.toml", "--no-progress"]);
    assert_eq!(
        out.status.signal(),
        Some(25),
        "tellonce was not killed by SIGXFSZ with a {blocks} KiB file size limit ({:?}); the test needs a file \
         bigger than that:\n{}",
        out.status,
        text(&out)
    );
}

/// Checks that nothing of a killed run is visible: no Parquet file under its final name, no
/// committed quarantine file, no state marker, no manifest.
fn nothing_visible(out: &Path) {
    let parts = visible_parquet(&out.join("staging"));
    assert!(parts.is_empty(), "Parquet files visible under their final name after a failed write: {parts:#?}");
    let quarantine: Vec<_> = files_under(&out.join("quarantine")).into_iter().filter(|p| !is_hidden(p)).collect();
    assert!(quarantine.is_empty(), "{quarantine:#?}");
    let markers = files_under(&out.join("state").join("inputs"));
    assert!(markers.is_empty(), "{markers:#?}");
    assert!(files_under(&out.join("manifests")).is_empty());
}

/// Reruns without a limit and checks the output equals `clean`'s: staging files (names and
/// SHA-256), state markers, quarantine file names and entries; and that no temp file is left.
fn rerun_equals_clean_run(ws: &Workspace, clean: &Workspace, clean_run: &Run) {
    let rerun = ws.run(0, &[]);
    for i in rerun.summary["inputs"].as_array().unwrap() {
        assert_eq!(i["status"], "processed", "{i:#}");
    }
    let files = |r: &Run| -> Vec<serde_json::Value> {
        r.summary["inputs"].as_array().unwrap().iter().flat_map(|i| i["files"].as_array().unwrap().clone()).collect()
    };
    assert_eq!(files(&rerun), files(clean_run));
    assert_eq!(hashes(&ws.out(), "staging"), hashes(&clean.out(), "staging"));
    assert_eq!(hashes(&ws.out(), "state"), hashes(&clean.out(), "state"));
    let names = |w: &Workspace| -> Vec<String> {
        hashes(&w.out(), "quarantine").into_keys().collect() // content differs: fresh nonces
    };
    assert_eq!(names(ws), names(clean));
    assert_eq!(quarantine_entries(&ws.out()), quarantine_entries(&clean.out()));
    let temps: Vec<_> = files_under(&ws.out()).into_iter().filter(|p| is_hidden(p)).collect();
    assert!(temps.is_empty(), "temp files left after the rerun: {temps:#?}");
}

#[test]
fn a_write_killed_halfway_leaves_nothing_visible_and_a_rerun_equals_a_clean_run() {
    // The synthetic education extract alone: its Parquet file is the biggest.
    let clean = synth_workspace(1500, 5);
    clean.config(
        &[("education", "inputs/education.csv")],
        "[reference]\npostcode_lookup = \"reference/postcode_lookup.csv\"\n",
    );
    let crashed = copy_workspace(&clean);
    let clean_run = clean.run(0, &[]);
    let bytes = clean_run.input("inputs/education.csv")["files"][0]["bytes"].as_u64().unwrap();
    assert!(bytes >= 128 * 1024, "the education part is only {bytes} bytes: too small to kill halfway");

    // A file may not grow beyond half the Parquet file: the write dies in the middle of it.
    run_killed_mid_write(&crashed, bytes / 2 / 1024);
    nothing_visible(&crashed.out());
    rerun_equals_clean_run(&crashed, &clean, &clean_run);
}

/// A police extract whose second half is much bigger in Parquet than its first: 1000 rows with
/// only the required columns, then 1000 rows with every identifier filled and distinct.
fn police_two_halves() -> String {
    let mut s = String::from(
        "record_id,occurrence_ref,forename,surname,date_of_birth,sex,address_line_1,postcode,uprn,\
         incident_date,incident_type,person_role,dash_risk,missing_risk,outcome\n",
    );
    for i in 0..1000 {
        s.push_str(&format!("P{i:05},OCC1,Ann,Lee,,,,,,2024-01-05,CRIME,VICTIM,,,\n"));
    }
    const INWARD: &[u8] = b"ABDEFGHJLNPQRSTUWXYZ";
    for i in 1000..2000usize {
        let pc = format!("RH{} {}{}{}", 10 + i % 10, i % 10, INWARD[i % 20] as char, INWARD[(i / 20) % 20] as char);
        s.push_str(&format!(
            "P{i:05},OCC{i},Forename{i},Surname{i},2010-{:02}-{:02},F,{i} Long Address Road Number {i},{pc},{},\
             2024-01-05,DOMESTIC_ABUSE,VICTIM,HIGH,LOW,ONGOING\n",
            1 + i % 12,
            1 + i % 28,
            100_000 + i,
        ));
    }
    s
}

#[test]
fn a_write_killed_on_a_later_part_leaves_no_earlier_part_of_that_input_visible() {
    // README: "an input's files appear only once all of it has been processed". With
    // max_file_rows = 1000 this input makes two parts; the kill comes while the second is
    // written, after the first was complete.
    let clean = Workspace::new();
    clean.write("inputs/police.csv", police_two_halves());
    clean.config(&[("police", "inputs/police.csv")], "[limits]\nmax_file_rows = 1000\n");
    let crashed = copy_workspace(&clean);
    let clean_run = clean.run(0, &[]);
    let files = clean_run.input("inputs/police.csv")["files"].as_array().unwrap().clone();
    assert_eq!(files.len(), 2, "{files:#?}");
    let (first, second) = (files[0]["bytes"].as_u64().unwrap(), files[1]["bytes"].as_u64().unwrap());
    let blocks = first.div_ceil(1024) + 1;
    assert!(blocks * 1024 < second, "parts of {first} and {second} bytes: no limit lets the first through only");

    run_killed_mid_write(&crashed, blocks);
    nothing_visible(&crashed.out());
    rerun_equals_clean_run(&crashed, &clean, &clean_run);
}

#[test]
fn every_committed_staging_file_is_in_a_manifest_even_when_a_later_input_fails() {
    // README: "A manifest per run (manifests/run-….json) lists every file with rows and
    // SHA-256". The first input is committed (files and state marker), then the second cannot
    // be written (its partition directory is blocked by a regular file): exit 4. The failed
    // run must still write its manifest, since the next run skips the first input and would
    // otherwise leave its file listed by no manifest at all.
    let ws = Workspace::new();
    ws.write("inputs/police.csv", POLICE_CSV);
    ws.write(
        "inputs/camhs.jsonl",
        "{\"record_id\":\"C1\",\"nhs_number\":\"9434765919\",\"forename\":\"Ann\",\"surname\":\"Lee\",\
         \"date_of_birth\":\"2015-06-30\",\"referral_received_date\":\"2024-01-05\",\"referral_outcome\":\"ACCEPTED\"}\n",
    );
    ws.config(&[("police", "inputs/police.csv"), ("camhs", "inputs/camhs.jsonl")], "");
    let blocker = ws.write("output/staging/feed=camhs", "not a directory\n");
    let failed = tellonce_ok(ws.dir(), &["run", "--config", "tellonce.toml", "--json", "--no-progress"], 4);
    assert!(text(&failed).contains("feed=camhs"), "{}", text(&failed));
    std::fs::remove_file(blocker).unwrap();
    ws.run(0, &[]);

    let mut in_manifests = std::collections::BTreeSet::new();
    for m in files_under(&ws.out().join("manifests")) {
        let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&m).unwrap()).unwrap();
        for f in v["files"].as_array().unwrap() {
            in_manifests.insert(f["path"].as_str().unwrap().to_owned());
        }
    }
    let on_disk: Vec<String> = visible_parquet(&ws.out().join("staging"))
        .iter()
        .map(|p| p.strip_prefix(ws.out()).unwrap().display().to_string())
        .collect();
    assert_eq!(on_disk.len(), 2, "{on_disk:?}");
    let unlisted: Vec<&String> = on_disk.iter().filter(|p| !in_manifests.contains(*p)).collect();
    assert!(unlisted.is_empty(), "staging files listed in no manifest: {unlisted:?}");
}

#[test]
fn an_output_directory_that_is_or_holds_the_config_inputs_or_keys_is_refused_with_exit_2() {
    let ws = Workspace::new();
    ws.write("inputs/police.csv", POLICE_CSV);
    for (out, want) in [
        ("", "output.dir is empty"),
        (".", "is the config file's directory"),
        ("inputs", "is the folder of sources[0].path"),
        ("keys", "contains keys.file"),
    ] {
        ws.config_named("tellonce.toml", out, "keys/tellonce.key", &[("police", "inputs/police.csv")], "");
        let run = tellonce_ok(ws.dir(), &["run", "--config", "tellonce.toml", "--json", "--no-progress"], 2);
        assert!(text(&run).contains(want), "{out:?}: {}", text(&run));
        for cmd in [
            &["audit", "verify", "--config", "tellonce.toml"][..],
            &["retention", "apply", "--config", "tellonce.toml"],
        ] {
            let o = tellonce_ok(ws.dir(), cmd, 2);
            assert!(text(&o).contains(want), "{out:?} {cmd:?}: {}", text(&o));
        }
        // Nothing was written: no audit log, no state, no staging beside the inputs or keys.
        for dir in [".", "inputs", "keys"] {
            for name in ["audit", "state", "staging"] {
                assert!(!ws.dir().join(dir).join(name).exists(), "{out:?}: {dir}/{name} was created");
            }
        }
    }
}
