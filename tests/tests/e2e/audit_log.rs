//! The audit log's hardening, through the binary: a torn final entry (a write cut short by a
//! full disk or a power loss) is told from tampering and repaired by an audited `audit repair`;
//! appends on a full disk leave no torn entry.

use std::path::PathBuf;
use std::process::Output;

use crate::support::*;
use tellonce_tests::{tellonce, tellonce_ok};

const POLICE_CSV: &str = "record_id,occurrence_ref,forename,surname,incident_date,incident_type,person_role\n\
                          P1,OCC-1,Ann,Leeford,2024-01-05,DOMESTIC_ABUSE,VICTIM\n\
                          P2,OCC-2,Bob,Kayleigh,2024-02-06,MISSING_PERSON,SUBJECT\n";

/// A workspace with one police input, run once, whose audit log verifies.
fn ran_once() -> Workspace {
    let ws = Workspace::new();
    ws.write("inputs/police.csv", POLICE_CSV);
    ws.config(&[("police", "inputs/police.csv")], "");
    ws.run(0, &[]);
    let ok = audit(&ws, "verify");
    assert_eq!(ok.status.code(), Some(0), "{}", text(&ok));
    ws
}

/// `tellonce audit <sub> --config tellonce.toml`.
fn audit(ws: &Workspace, sub: &str) -> Output {
    tellonce(ws.dir(), &["audit", sub, "--config", "tellonce.toml"])
}

fn log_path(ws: &Workspace) -> PathBuf {
    ws.out().join("audit/audit.jsonl")
}

fn append(path: &std::path::Path, bytes: &[u8]) {
    use std::io::Write;
    std::fs::OpenOptions::new().append(true).open(path).unwrap().write_all(bytes).unwrap();
}

#[test]
fn a_torn_final_entry_is_reported_as_torn_and_cut_by_an_audited_repair() {
    let ws = ran_once();
    let log = log_path(&ws);
    let whole = std::fs::metadata(&log).unwrap().len();
    let entries = std::fs::read_to_string(&log).unwrap().lines().count();
    // What a write cut short by a full disk leaves: the start of a line, no newline.
    let torn = b"{\"seq\":999,\"at\":\"2026-12-03T07:";
    append(&log, torn);

    let verify = audit(&ws, "verify");
    let said = text(&verify);
    assert_eq!(verify.status.code(), Some(6), "{said}");
    assert!(said.contains("torn") && said.contains("tellonce audit repair"), "{said}");
    assert!(!said.contains("does NOT verify"), "a tear is reported as tampering: {said}");
    assert!(said.contains(&format!("line {}", entries + 1)) && said.contains(&format!("byte {whole}")), "{said}");

    // Every other command stops with a message naming the repair, not the tampering message.
    let run = tellonce(ws.dir(), &["run", "--config", "tellonce.toml", "--no-progress", "--force"]);
    assert_eq!(run.status.code(), Some(6), "{}", text(&run));
    assert!(text(&run).contains("tellonce audit repair"), "{}", text(&run));
    assert!(!text(&run).contains("investigated"), "{}", text(&run));

    let repair = audit(&ws, "repair");
    assert_eq!(repair.status.code(), Some(0), "{}", text(&repair));
    assert!(text(&repair).contains(&format!("cut {} bytes", torn.len())), "{}", text(&repair));
    let lines: Vec<String> = std::fs::read_to_string(&log).unwrap().lines().map(str::to_owned).collect();
    assert_eq!(lines.len(), entries + 1);
    let last: serde_json::Value = serde_json::from_str(&lines[entries]).unwrap();
    assert_eq!(last["event"]["type"], "audit_repaired", "{last}");
    assert_eq!(
        (last["event"]["bytes_cut"].as_u64(), last["event"]["offset"].as_u64()),
        (Some(torn.len() as u64), Some(whole))
    );
    let verify = audit(&ws, "verify");
    assert_eq!(verify.status.code(), Some(0), "{}", text(&verify));

    // The output works again, and a second repair has nothing to do.
    ws.run(0, &["--force"]);
    let again = audit(&ws, "repair");
    assert_eq!(again.status.code(), Some(0), "{}", text(&again));
    assert!(text(&again).contains("nothing to repair"), "{}", text(&again));
    let report = tellonce_ok(ws.dir(), &["audit", "report", "--config", "tellonce.toml", "--out", "r.html"], 0);
    assert!(text(&report).contains("verified"));
    assert!(std::fs::read_to_string(ws.dir().join("r.html")).unwrap().contains("Audit log repairs"));
}

#[test]
fn repair_refuses_tampering_and_never_cuts_an_acknowledged_entry() {
    let ws = ran_once();
    let log = log_path(&ws);
    let original = std::fs::read(&log).unwrap();

    // The last entry, which the head records, cut mid-line: that is not a tear.
    std::fs::write(&log, &original[..original.len() - 40]).unwrap();
    let verify = audit(&ws, "verify");
    assert_eq!(verify.status.code(), Some(5), "{}", text(&verify));
    let repair = audit(&ws, "repair");
    assert_eq!(repair.status.code(), Some(5), "{}", text(&repair));
    assert!(text(&repair).contains("refusing to repair"), "{}", text(&repair));
    assert_eq!(std::fs::read(&log).unwrap(), &original[..original.len() - 40], "repair changed a refused log");

    // A complete last line that parses but was changed: tampering, whatever follows.
    let text_ = String::from_utf8(original.clone()).unwrap();
    let mut lines: Vec<&str> = text_.lines().collect();
    let changed = lines[lines.len() - 1].replacen("\"seq\":", "\"seq\":1", 1);
    let n = lines.len();
    lines[n - 1] = &changed;
    std::fs::write(&log, lines.iter().map(|l| format!("{l}\n")).collect::<String>() + "{\"seq\"").unwrap();
    let verify = audit(&ws, "verify");
    assert_eq!(verify.status.code(), Some(5), "{}", text(&verify));
    assert!(text(&verify).contains("does NOT verify"), "{}", text(&verify));
    assert_eq!(audit(&ws, "repair").status.code(), Some(5));
    let run = tellonce(ws.dir(), &["run", "--config", "tellonce.toml", "--no-progress", "--force"]);
    assert_eq!(run.status.code(), Some(4), "{}", text(&run));
    assert!(!text(&run).contains("audit repair"), "{}", text(&run));
}

#[test]
fn an_audit_append_on_a_full_disk_leaves_no_torn_entry() {
    let ws = ran_once();
    let log = log_path(&ws);
    let before = std::fs::read(&log).unwrap();
    // Room for less than a KiB more in any file: the next run's first entries (its start, the
    // key and seven agreements) do not fit, and their write is cut short.
    let blocks = before.len() as u64 / 1024 + 1;
    let room = blocks * 1024 - before.len() as u64;
    assert!(room < 2000, "{room}");
    let out = tellonce_on_a_full_disk(ws.dir(), blocks, &["run", "--config", "tellonce.toml", "--no-progress"]);
    assert_eq!(out.status.code(), Some(4), "{}", text(&out));
    assert!(text(&out).contains("audit.jsonl"), "{}", text(&out));
    let after = std::fs::read(&log).unwrap();
    assert!(
        after == before,
        "the cut-short append was not rolled back: {} bytes, {} before",
        after.len(),
        before.len()
    );

    // Space freed: the log verifies and runs go on, with nothing edited by hand.
    let verify = audit(&ws, "verify");
    assert_eq!(verify.status.code(), Some(0), "{}", text(&verify));
    ws.run(0, &["--force"]);
    assert_eq!(audit(&ws, "verify").status.code(), Some(0));
}
