//! Partner records over time: a record is known by its feed and `record_id` across every input,
//! so that a re-sent or cumulative extract stages only what is new or changed, an earlier
//! version moves to the history dataset, and the counts reconcile.

use std::collections::BTreeMap;

use tellonce_tests::tellonce_ok;

use crate::support::*;

/// A police extract's columns.
const POLICE_HEADER: &str =
    "record_id,occurrence_ref,pnc_id,forename,surname,date_of_birth,postcode,incident_date,incident_type,person_role";

/// A police row; `kind` is the incident type.
fn police(id: &str, forename: &str, kind: &str) -> String {
    format!("{id},OCC-{id},,{forename},Leeford,2010-01-02,RH10 1AB,2024-01-05,{kind},VICTIM")
}

fn extract(rows: &[String]) -> String {
    format!("{POLICE_HEADER}\n{}\n", rows.join("\n"))
}

/// `record_id -> _source` of every staged police row, failing on a record staged twice.
fn staged(out: &std::path::Path) -> BTreeMap<String, String> {
    let mut held = BTreeMap::new();
    for part in visible_parquet(&out.join("staging/feed=police")) {
        let ids = parquet_column(&part, "record_id");
        for (id, source) in ids.into_iter().zip(parquet_column(&part, "_source")) {
            let id = id.unwrap();
            assert!(held.insert(id.clone(), source.unwrap()).is_none(), "{id} is staged twice");
        }
    }
    held
}

#[test]
fn a_re_sent_extract_stages_only_its_new_and_changed_records_and_keeps_the_earlier_version() {
    let ws = Workspace::new();
    ws.write(
        "inputs/police-jan.csv",
        extract(&[police("P1", "Ann", "CRIME"), police("P2", "Bob", "CRIME"), police("P3", "Cat", "CRIME")]),
    );
    ws.config(&[("police", "inputs/police-jan.csv")], "");
    ws.run(0, &[]).assert_counts("inputs/police-jan.csv", "processed", 3, 3, 0);

    // February's extract is cumulative: January's records again (one of them corrected), and a
    // new one.
    ws.write(
        "inputs/police-feb.csv",
        extract(&[
            police("P1", "Ann", "CRIME"),
            police("P2", "Bob", "DOMESTIC_ABUSE"),
            police("P3", "Cat", "CRIME"),
            police("P4", "Dan", "CRIME"),
        ]),
    );
    ws.config(&[("police", "inputs/police-jan.csv"), ("police", "inputs/police-feb.csv")], "");
    let feb = ws.run(0, &[]);
    assert_eq!(feb.input("inputs/police-jan.csv")["status"], "skipped");
    let i = feb.input("inputs/police-feb.csv");
    assert_eq!((i["read"].as_u64(), i["written"].as_u64(), i["quarantined"].as_u64()), (Some(4), Some(2), Some(0)));
    let v = &i["versions"];
    let counts = [&v["new"], &v["changed"], &v["unchanged"], &v["refused"], &v["superseded"]];
    assert_eq!(counts.map(|c| c.as_u64().unwrap()), [1, 1, 2, 0, 1], "{i:#}");
    let totals = &feb.summary["feeds"]["police"];
    assert_eq!(totals["read"].as_u64().unwrap(), 4);
    assert_eq!(
        totals["written"].as_u64().unwrap() + totals["unchanged"].as_u64().unwrap(),
        4,
        "read = written + quarantined + unchanged + refused: {totals:#}"
    );

    // Staging holds each record once, as it is now: the corrected one from February.
    let now = staged(&ws.out());
    assert_eq!(now.keys().collect::<Vec<_>>(), ["P1", "P2", "P3", "P4"]);
    assert!(now["P2"].contains("police-feb") && now["P4"].contains("police-feb"), "{now:?}");
    assert!(now["P1"].contains("police-jan") && now["P3"].contains("police-jan"), "{now:?}");

    // January's version of P2 is in the history dataset, with when and by what it was superseded.
    let history = visible_parquet(&ws.out().join("history/feed=police"));
    assert_eq!(history.len(), 1, "{history:?}");
    assert_eq!(parquet_column(&history[0], "record_id"), [Some("P2".to_owned())]);
    assert_eq!(parquet_column(&history[0], "incident_type"), [Some("CRIME".to_owned())]);
    let by = parquet_column(&history[0], "_superseded_by");
    assert!(by[0].as_deref().unwrap().contains("police-feb"), "{by:?}");
    assert!(parquet_column(&history[0], "_superseded_at")[0].is_some());

    // The audit log records the comparison and both files, and still verifies.
    let log = std::fs::read_to_string(ws.out().join("audit/audit.jsonl")).unwrap();
    let compared = log
        .lines()
        .find(|l| l.contains("\"type\":\"records_compared\"") && l.contains("police-feb"))
        .expect("records_compared");
    assert!(compared.contains("\"unchanged\":2") && compared.contains("\"superseded\":1"), "{compared}");
    assert!(log.contains("\"reason\":\"superseded\"") || log.contains("history/feed=police/"), "{log}");
    tellonce_ok(ws.dir(), &["audit", "verify", "--config", "tellonce.toml"], 0);

    // The text summary says what was held already.
    let text_run = tellonce_ok(ws.dir(), &["run", "--config", "tellonce.toml", "--force", "--no-progress"], 0);
    let shown = text(&text_run);
    assert!(shown.contains("unchanged (held already, not staged again)"), "{shown}");
    // Forcing both inputs again changes nothing that is held: each record is still staged once.
    assert_eq!(staged(&ws.out()).len(), 4);
}

#[test]
fn a_second_copy_of_the_same_extract_under_another_name_stages_nothing() {
    let ws = Workspace::new();
    let rows: Vec<String> = (1..=20).map(|n| police(&format!("P{n}"), "Ann", "CRIME")).collect();
    ws.write("inputs/police.csv", extract(&rows));
    // The same records re-sent with one line added and in another order: new content, so not
    // skipped as a file, yet only the added record is staged.
    // Some references carry what no one sees: a zero-width space pasted in, a byte order mark,
    // the NUL padding of a fixed-width export. They are the records held all the same.
    let mut resent = rows.clone();
    resent[0] = police("P1\u{200b}", "Ann", "CRIME");
    resent[1] = police("\u{feff}P2", "Ann", "CRIME");
    resent[2] = police("P3\0\0", "Ann", "CRIME");
    resent.reverse();
    resent.push(police("P21", "Eve", "CRIME"));
    ws.write("inputs/police-resent.csv", extract(&resent));
    ws.config(&[("police", "inputs/police.csv"), ("police", "inputs/police-resent.csv")], "");
    let run = ws.run(0, &[]);
    run.assert_counts("inputs/police.csv", "processed", 20, 20, 0);
    run.assert_counts("inputs/police-resent.csv", "processed", 21, 1, 0);
    assert_eq!(run.input("inputs/police-resent.csv")["versions"]["unchanged"], 20);
    assert_eq!(staged(&ws.out()).len(), 21);
    assert!(!ws.out().join("history").exists(), "nothing was superseded");
}

/// Writes `tellonce.toml` with police sources of the given `(path, mode)`.
fn config_with_modes(ws: &Workspace, sources: &[(&str, &str)]) {
    let mut s = "[output]\ndir = \"output\"\n\n[keys]\nfile = \"keys/tellonce.key\"\n".to_owned();
    for (path, mode) in sources {
        s.push_str(&format!("\n[[sources]]\nfeed = \"police\"\npath = {path:?}\nmode = {mode:?}\n"));
    }
    ws.write("tellonce.toml", s);
}

fn versions(run: &Run, source: &str) -> [u64; 5] {
    let v = &run.input(source)["versions"];
    [&v["new"], &v["changed"], &v["unchanged"], &v["withdrawn"], &v["refused"]].map(|c| c.as_u64().unwrap())
}

#[test]
fn a_snapshot_withdraws_what_it_leaves_out_but_not_what_it_sent_and_quarantined() {
    let ws = Workspace::new();
    let others = ["P5", "P6", "P7"].map(|id| police(id, "Fay", "CRIME"));
    let mut jan = vec![police("P1", "Ann", "CRIME"), police("P2", "Bob", "CRIME"), police("P3", "Cat", "CRIME")];
    jan.extend(others.clone());
    ws.write("inputs/jan.csv", extract(&jan));
    // February's file is the partner's whole holding: P2 is gone (one of six held, within the
    // 20 % a snapshot may withdraw unconfirmed), P3 changed, P4 is new.
    let mut feb =
        vec![police("P1", "Ann", "CRIME"), police("P3", "Cat", "DOMESTIC_ABUSE"), police("P4", "Dan", "CRIME")];
    feb.extend(others);
    ws.write("inputs/feb.csv", extract(&feb));
    config_with_modes(&ws, &[("inputs/jan.csv", "delta"), ("inputs/feb.csv", "snapshot")]);
    let run = ws.run(0, &[]);
    assert_eq!(versions(&run, "inputs/feb.csv"), [1, 1, 4, 1, 0]);
    assert_eq!(staged(&ws.out()).keys().collect::<Vec<_>>(), ["P1", "P3", "P4", "P5", "P6", "P7"]);
    let mut moved: Vec<(String, String)> = Vec::new();
    for part in visible_parquet(&ws.out().join("history/feed=police")) {
        let ids = parquet_column(&part, "record_id");
        moved.extend(ids.into_iter().zip(parquet_column(&part, "_change")).map(|(i, c)| (i.unwrap(), c.unwrap())));
    }
    moved.sort();
    assert_eq!(moved, [("P2".to_owned(), "withdrawn".to_owned()), ("P3".to_owned(), "superseded".to_owned())]);
    let tombstones = std::fs::read_to_string(ws.out().join("state/tombstones/police.jsonl")).unwrap();
    assert!(tombstones.contains("\"P2\"") && tombstones.contains("withdrawn"), "{tombstones}");

    // A withdrawn record sent again is refused; a snapshot that quarantined a record whose
    // reference could not be read (here none was given) withdraws nothing, and says why.
    let no_reference = police("", "Eve", "CRIME");
    ws.write("inputs/mar.csv", extract(&[police("P2", "Bob", "CRIME"), police("P1", "Ann", "CRIME"), no_reference]));
    config_with_modes(
        &ws,
        &[("inputs/jan.csv", "delta"), ("inputs/feb.csv", "snapshot"), ("inputs/mar.csv", "snapshot")],
    );
    let run = ws.run(0, &[]);
    assert_eq!(versions(&run, "inputs/mar.csv"), [0, 0, 1, 0, 1]);
    assert_eq!(run.input("inputs/mar.csv")["versions"]["withdrawal_held_back"], true);
    assert_eq!(staged(&ws.out()).keys().collect::<Vec<_>>(), ["P1", "P3", "P4", "P5", "P6", "P7"]);
    let text_out = tellonce_ok(ws.dir(), &["run", "--config", "tellonce.toml", "--force", "--no-progress"], 0);
    assert!(text(&text_out).contains("withdraws nothing"), "{}", text(&text_out));

    // A record the snapshot sent but quarantined (a bad incident date: its reference is read)
    // was sent: it is not withdrawn, its held version stays, and the rest of the snapshot applies.
    let mut apr: Vec<String> = ["P1", "P4", "P5", "P6", "P7"].map(|id| police(id, "Fay", "CRIME")).to_vec();
    apr[0] = police("P1", "Ann", "CRIME");
    apr[1] = police("P4", "Dan", "CRIME");
    apr.push(police("P3", "Cat", "DOMESTIC_ABUSE").replace("2024-01-05", "2024-02-30"));
    ws.write("inputs/apr.csv", extract(&apr));
    config_with_modes(
        &ws,
        &[
            ("inputs/jan.csv", "delta"),
            ("inputs/feb.csv", "snapshot"),
            ("inputs/mar.csv", "snapshot"),
            ("inputs/apr.csv", "snapshot"),
        ],
    );
    let run = ws.run(0, &[]);
    let apr_input = run.input("inputs/apr.csv");
    assert_eq!(apr_input["quarantined"], 1, "{apr_input}");
    assert_eq!(versions(&run, "inputs/apr.csv"), [0, 0, 5, 0, 0]);
    assert!(apr_input["versions"].get("withdrawal_held_back").is_none(), "{apr_input}");
    assert_eq!(staged(&ws.out()).keys().collect::<Vec<_>>(), ["P1", "P3", "P4", "P5", "P6", "P7"]);
    tellonce_ok(ws.dir(), &["audit", "verify", "--config", "tellonce.toml"], 0);
}

#[test]
fn a_snapshot_that_would_withdraw_most_of_the_holding_is_held_until_confirmed() {
    let ws = Workspace::new();
    let ids: Vec<String> = (1..=20).map(|i| format!("P{i:02}")).collect();
    ws.write("inputs/jan.csv", extract(&ids.iter().map(|id| police(id, "Ann", "CRIME")).collect::<Vec<_>>()));
    // A truncated export: two of twenty records, one of them changed.
    ws.write("inputs/feb.csv", extract(&[police("P01", "Ann", "CRIME"), police("P02", "Ann", "DOMESTIC_ABUSE")]));
    config_with_modes(&ws, &[("inputs/jan.csv", "delta"), ("inputs/feb.csv", "snapshot")]);
    let run = ws.run(3, &[]);
    let feb = run.input("inputs/feb.csv");
    assert_eq!(feb["status"], "held", "{feb}");
    assert_eq!(feb["error_rule"], "snapshot.mass_withdrawal", "{feb}");
    let why = feb["error"].as_str().unwrap();
    assert!(why.contains("18 of the 20 records held") && why.contains("--allow-mass-withdrawal"), "{why}");
    // Held whole: not even its changed record is staged, and nothing moved to history.
    assert_eq!(staged(&ws.out()).into_keys().collect::<Vec<_>>(), ids);
    assert!(!ws.out().join("history").exists());
    let log = std::fs::read_to_string(ws.out().join("audit/audit.jsonl")).unwrap();
    let held: Vec<&str> = log.lines().filter(|l| l.contains("\"type\":\"input_held\"")).collect();
    assert!(held.len() == 1 && held[0].contains("snapshot.mass_withdrawal"), "{log}");

    // Held, not done: the next run reads it again, and applies it once confirmed.
    let again = ws.run(3, &[]);
    assert_eq!(again.input("inputs/feb.csv")["status"], "held");
    let confirmed = ws.run(0, &["--allow-mass-withdrawal"]);
    assert_eq!(versions(&confirmed, "inputs/feb.csv"), [0, 1, 1, 18, 0]);
    assert_eq!(staged(&ws.out()).keys().collect::<Vec<_>>(), ["P01", "P02"]);
    // One staging file held the superseded and the withdrawn versions: both moved in one rewrite,
    // each with its own reason.
    let mut moved: Vec<(String, String)> = Vec::new();
    for part in visible_parquet(&ws.out().join("history/feed=police")) {
        let ids = parquet_column(&part, "record_id");
        moved.extend(ids.into_iter().zip(parquet_column(&part, "_change")).map(|(i, c)| (i.unwrap(), c.unwrap())));
    }
    moved.sort();
    let mut want = vec![("P02".to_owned(), "superseded".to_owned())];
    want.extend(ids[2..].iter().map(|id| (id.clone(), "withdrawn".to_owned())));
    assert_eq!(moved, want);
    tellonce_ok(ws.dir(), &["audit", "verify", "--config", "tellonce.toml"], 0);

    // The share is a source's to set, between 0 and 1, and for snapshots only.
    let mut config = std::fs::read_to_string(ws.dir().join("tellonce.toml")).unwrap();
    config.push_str("max_withdrawal_share = 1.5\n");
    ws.write("tellonce.toml", config);
    let out = tellonce_ok(ws.dir(), &["run", "--config", "tellonce.toml", "--no-progress"], 2);
    assert!(text(&out).contains("sources[1].max_withdrawal_share must be between 0 and 1"), "{}", text(&out));

    // Fewer than ten withdrawals are never held, whatever their share: in a small holding one
    // is already a large share.
    let small = Workspace::new();
    small.write("inputs/jan.csv", extract(&["P1", "P2", "P3"].map(|id| police(id, "Ann", "CRIME"))));
    small.write("inputs/feb.csv", extract(&[police("P1", "Ann", "CRIME")]));
    config_with_modes(&small, &[("inputs/jan.csv", "delta"), ("inputs/feb.csv", "snapshot")]);
    assert_eq!(versions(&small.run(0, &[]), "inputs/feb.csv"), [0, 0, 1, 2, 0]);
}

#[test]
fn a_withdrawals_file_withdraws_what_it_lists_held_or_not_and_a_bad_line_stops_it_whole() {
    let ws = Workspace::new();
    ws.write("inputs/jan.csv", extract(&["P1", "P2", "P3"].map(|id| police(id, "Ann", "CRIME"))));
    // The partner's list: its own heading for the reference, a reason, P9 not yet sent, P2 twice.
    ws.write("inputs/withdrawn-1.csv", "Reason|Record ID\nsent in error|P2\nmerged|P9\nsent in error|P2\n");
    config_with_modes(&ws, &[("inputs/jan.csv", "delta"), ("inputs/withdrawn-*.csv", "withdrawals")]);
    let check = tellonce_ok(ws.dir(), &["sources", "check", "--config", "tellonce.toml"], 0);
    assert!(text(&check).contains("3 record reference(s) listed"), "{}", text(&check));
    let run = ws.run(0, &[]);
    // new, changed, unchanged (listed twice), withdrawn (P2 and P9), refused.
    assert_eq!(versions(&run, "inputs/withdrawn-1.csv"), [0, 0, 1, 2, 0]);
    assert_eq!(run.input("inputs/withdrawn-1.csv")["versions"]["superseded"], 1);
    assert_eq!(staged(&ws.out()).keys().collect::<Vec<_>>(), ["P1", "P3"]);
    let history = visible_parquet(&ws.out().join("history/feed=police"));
    let changes: Vec<_> = history.iter().flat_map(|p| parquet_column(p, "_change")).collect();
    assert_eq!(changes, [Some("withdrawn".to_owned())]);

    // Withdrawn sticks: neither P2 nor P9 is staged when the partner's next extract sends them.
    ws.write("inputs/feb.csv", extract(&["P2", "P9", "P4"].map(|id| police(id, "Ann", "CRIME"))));
    config_with_modes(
        &ws,
        &[("inputs/jan.csv", "delta"), ("inputs/withdrawn-*.csv", "withdrawals"), ("inputs/feb.csv", "delta")],
    );
    let run = ws.run(0, &[]);
    assert_eq!(versions(&run, "inputs/feb.csv"), [1, 0, 0, 0, 2]);
    assert_eq!(staged(&ws.out()).keys().collect::<Vec<_>>(), ["P1", "P3", "P4"]);

    // A line without a reference rejects the whole file: nothing of it is applied.
    ws.write("inputs/withdrawn-2.csv", "record_id,reason\nP1,merged\n,merged\n");
    let run = ws.run(3, &[]);
    let bad = run.input("inputs/withdrawn-2.csv");
    assert_eq!((bad["status"].as_str(), bad["error_rule"].as_str()), (Some("rejected"), Some("required.missing")));
    assert!(bad["error"].as_str().unwrap().contains("withdrawn-2.csv:3: column record_id: empty"), "{bad}");
    assert_eq!(staged(&ws.out()).keys().collect::<Vec<_>>(), ["P1", "P3", "P4"]);
    tellonce_ok(ws.dir(), &["audit", "verify", "--config", "tellonce.toml"], 0);

    // A run stopped after laying P3's tombstone and before moving it: the file, read again,
    // finishes the move. The text summary reconciles a withdrawals file's references.
    std::fs::remove_file(ws.dir().join("inputs/withdrawn-2.csv")).unwrap();
    let tombstones = ws.out().join("state/tombstones/police.jsonl");
    let mut laid = std::fs::read_to_string(&tombstones).unwrap();
    laid.push_str("{\"record_id\":\"P3\",\"reason\":\"withdrawn\",\"at\":\"2026-12-04T00:00:00Z\"}\n");
    std::fs::write(&tombstones, laid).unwrap();
    ws.write("inputs/withdrawn-3.csv", "record_id\nP3\n");
    let out = tellonce_ok(ws.dir(), &["run", "--config", "tellonce.toml", "--no-progress"], 0);
    assert!(!text(&out).contains("MISMATCH"), "{}", text(&out));
    assert_eq!(staged(&ws.out()).keys().collect::<Vec<_>>(), ["P1", "P4"]);
    // A withdrawals file is processed once: the next run skips it.
    let again = ws.run(0, &[]);
    assert_eq!(again.input("inputs/withdrawn-3.csv")["status"], "skipped");
}

#[test]
fn an_earlier_month_run_again_never_overwrites_or_withdraws_what_a_later_month_sent() {
    let ws = Workspace::new();
    ws.write("inputs/jan.csv", extract(&[police("P1", "Ann", "CRIME"), police("P2", "Bob", "CRIME")]));
    ws.write("inputs/feb.csv", extract(&[police("P1", "Ann", "DOMESTIC_ABUSE"), police("P3", "Cat", "CRIME")]));
    config_with_modes(&ws, &[("inputs/jan.csv", "snapshot"), ("inputs/feb.csv", "delta")]);
    ws.run(0, &[]);
    let before = staged(&ws.out());
    assert_eq!(before.keys().collect::<Vec<_>>(), ["P1", "P2", "P3"]);
    assert!(before["P1"].contains("feb"), "{before:?}");
    let history_before = visible_parquet(&ws.out().join("history/feed=police")).len();

    // January again, forced, on its own: its P1 is older than February's, and P3 came after it.
    config_with_modes(&ws, &[("inputs/jan.csv", "snapshot")]);
    let again = ws.run(0, &["--force"]);
    let v = &again.input("inputs/jan.csv")["versions"];
    assert_eq!(
        (v["older"].as_u64(), v["withdrawn"].as_u64(), v["changed"].as_u64()),
        (Some(1), Some(0), Some(0)),
        "{v}"
    );
    assert_eq!(staged(&ws.out()), before, "staging changed");
    let kinds: Vec<_> = visible_parquet(&ws.out().join("staging/feed=police"))
        .iter()
        .flat_map(|p| parquet_column(p, "incident_type"))
        .collect();
    assert!(kinds.contains(&Some("DOMESTIC_ABUSE".to_owned())), "February's P1 stands: {kinds:?}");
    assert_eq!(visible_parquet(&ws.out().join("history/feed=police")).len(), history_before);
    let out = tellonce_ok(ws.dir(), &["run", "--config", "tellonce.toml", "--force", "--no-progress"], 0);
    assert!(text(&out).contains("1 not staged: the version held is newer"));
    tellonce_ok(ws.dir(), &["audit", "verify", "--config", "tellonce.toml"], 0);
}

#[test]
fn an_input_is_read_again_when_its_mapping_changes_with_no_force_needed() {
    let ws = Workspace::new();
    // The partner codes roles V and S; the first mapping knows only V.
    let rows = ["P1", "P2", "P3", "P4"].map(|id| police(id, "Ann", "CRIME"));
    let rows: Vec<String> =
        rows.iter().enumerate().map(|(i, r)| r.replace(",VICTIM", if i % 2 == 0 { ",V" } else { ",S" })).collect();
    ws.write("inputs/police.csv", extract(&rows));
    let mapping = "feed = \"police\"\n[values.person_role]\nV = \"VICTIM\"\n";
    ws.write("maps/police.toml", mapping);
    let config = "[output]\ndir = \"output\"\n\n[keys]\nfile = \"keys/tellonce.key\"\n\n[[sources]]\nfeed = \"police\"\n\
                  path = \"inputs/police.csv\"\nmapping = \"maps/police.toml\"\n";
    ws.write("tellonce.toml", config);
    let first = ws.run(0, &[]);
    first.assert_counts("inputs/police.csv", "processed", 4, 2, 2);
    // Unchanged mapping, unchanged file: skipped.
    assert_eq!(ws.run(0, &[]).input("inputs/police.csv")["status"], "skipped");

    // The reviewer adds S: the same file is read again, with no --force, and the two records
    // quarantined before are staged.
    ws.write("maps/police.toml", format!("{mapping}S = \"SUSPECT\"\n"));
    let second = ws.run(0, &[]);
    second.assert_counts("inputs/police.csv", "processed", 4, 4, 0);
    // Its earlier parts are replaced whole, as a forced run of it would: nothing moves to history.
    assert_eq!(versions(&second, "inputs/police.csv"), [4, 0, 0, 0, 0]);
    assert!(!ws.out().join("history").exists());
    assert_eq!(staged(&ws.out()).keys().collect::<Vec<_>>(), ["P1", "P2", "P3", "P4"]);
    let manifest = second.input("inputs/police.csv");
    let sha = sha256_of(&ws.dir().join("maps/police.toml"));
    assert_eq!(manifest["read_as"]["mapping_sha256"].as_str(), Some(sha.as_str()), "{manifest}");
    assert_eq!(ws.run(0, &[]).input("inputs/police.csv")["status"], "skipped");
    let log = std::fs::read_to_string(ws.out().join("audit/audit.jsonl")).unwrap();
    assert_eq!(log.matches("\"type\":\"mapping_applied\"").count(), 2);
    tellonce_ok(ws.dir(), &["audit", "verify", "--config", "tellonce.toml"], 0);
}

#[test]
fn an_append_source_never_stages_a_held_record_again() {
    let ws = Workspace::new();
    ws.write("inputs/a.csv", extract(&[police("P1", "Ann", "CRIME")]));
    ws.write("inputs/b.csv", extract(&[police("P1", "Ann", "DOMESTIC_ABUSE"), police("P2", "Bob", "CRIME")]));
    config_with_modes(&ws, &[("inputs/a.csv", "append"), ("inputs/b.csv", "append")]);
    let run = ws.run(0, &[]);
    assert_eq!(versions(&run, "inputs/b.csv"), [1, 0, 1, 0, 0]);
    let parts = visible_parquet(&ws.out().join("staging/feed=police"));
    let kinds: Vec<_> = parts.iter().flat_map(|p| parquet_column(p, "incident_type")).collect();
    assert!(kinds.contains(&Some("CRIME".to_owned())) && !kinds.contains(&Some("DOMESTIC_ABUSE".to_owned())));
    assert!(!ws.out().join("history").exists());
    // A mode that does not exist is a configuration error naming the entry.
    config_with_modes(&ws, &[("inputs/a.csv", "cumulative")]);
    let out = tellonce_ok(ws.dir(), &["run", "--config", "tellonce.toml", "--no-progress"], 2);
    assert!(text(&out).contains("sources[0].mode"), "{}", text(&out));
}

#[test]
fn an_extract_column_marks_records_withdrawn_in_any_mode_and_the_counts_reconcile() {
    let ws = Workspace::new();
    let mapping =
        "feed = \"police\"\n[withdrawal]\ncolumn = \"Record Status\"\nvalues = [\"Deleted\", \"Withdrawn\"]\n";
    ws.write("maps/police.toml", mapping);
    // January, without the status column: nothing is marked.
    ws.write("inputs/jan.csv", extract(&["P1", "P2", "P3"].map(|id| police(id, "Ann", "CRIME"))));
    let with_status = |rows: &[(&str, &str)]| {
        let lines: Vec<String> =
            rows.iter().map(|(id, status)| format!("{},{status}", police(id, "Ann", "CRIME"))).collect();
        format!("{POLICE_HEADER},Record Status\n{}\n", lines.join("\n"))
    };
    // February's snapshot: P1 as it was, P2 deleted, P3 left out, P4 deleted before it was ever
    // sent, P5 new.
    ws.write("inputs/feb.csv", with_status(&[("P1", "Active"), ("P2", " deleted "), ("P4", "Deleted"), ("P5", "")]));
    let config = |sources: &[(&str, &str)]| {
        let mut s = "[output]\ndir = \"output\"\n\n[keys]\nfile = \"keys/tellonce.key\"\n".to_owned();
        for (path, mode) in sources {
            s.push_str(&format!(
                "\n[[sources]]\nfeed = \"police\"\npath = {path:?}\nmode = {mode:?}\nmapping = \"maps/police.toml\"\n"
            ));
        }
        ws.write("tellonce.toml", s);
    };
    config(&[("inputs/jan.csv", "delta"), ("inputs/feb.csv", "snapshot")]);
    let run = ws.run(0, &[]);
    // new, changed, unchanged, withdrawn (P2, P4 marked; P3 left out), refused.
    assert_eq!(versions(&run, "inputs/feb.csv"), [1, 0, 1, 3, 0]);
    let feb = run.input("inputs/feb.csv");
    assert_eq!((feb["read"].as_u64(), feb["written"].as_u64()), (Some(4), Some(1)), "{feb}");
    assert_eq!(feb["versions"]["listed"], 2, "{feb}");
    assert_eq!(staged(&ws.out()).keys().collect::<Vec<_>>(), ["P1", "P5"]);
    let history = visible_parquet(&ws.out().join("history/feed=police"));
    let mut moved: Vec<_> = history.iter().flat_map(|p| parquet_column(p, "record_id")).flatten().collect();
    moved.sort();
    assert_eq!(moved, ["P2", "P3"]);

    // March's delta: P2 and P4 sent again (refused: withdrawn sticks), P1 now deleted, P6
    // deleted, and a deleted row without a reference (quarantined, as any record without one).
    ws.write(
        "inputs/mar.csv",
        with_status(&[("P2", "Active"), ("P4", ""), ("P1", "WITHDRAWN"), ("P6", "Deleted"), ("", "Deleted")]),
    );
    config(&[("inputs/jan.csv", "delta"), ("inputs/feb.csv", "snapshot"), ("inputs/mar.csv", "delta")]);
    let run = ws.run(0, &[]);
    assert_eq!(versions(&run, "inputs/mar.csv"), [0, 0, 0, 2, 2]);
    run.assert_counts("inputs/mar.csv", "processed", 5, 0, 1);
    assert_eq!(staged(&ws.out()).keys().collect::<Vec<_>>(), ["P5"]);
    let tombstones = std::fs::read_to_string(ws.out().join("state/tombstones/police.jsonl")).unwrap();
    for id in ["P1", "P2", "P3", "P4", "P6"] {
        assert!(tombstones.contains(&format!("\"record_id\":\"{id}\"")), "{id}: {tombstones}");
    }
    // The text summary reconciles rows marked withdrawn; the audit log says how many were listed.
    ws.write("inputs/apr.csv", with_status(&[("P7", "Deleted"), ("P8", "")]));
    config(&[("inputs/apr.csv", "append")]);
    let out = tellonce_ok(ws.dir(), &["run", "--config", "tellonce.toml", "--no-progress"], 0);
    assert!(!text(&out).contains("MISMATCH"), "{}", text(&out));
    assert_eq!(staged(&ws.out()).keys().collect::<Vec<_>>(), ["P5", "P8"]);
    let log = std::fs::read_to_string(ws.out().join("audit/audit.jsonl")).unwrap();
    assert!(log.contains("\"listed\":2") && log.contains("\"listed\":1"), "{log}");
    tellonce_ok(ws.dir(), &["audit", "verify", "--config", "tellonce.toml"], 0);
}

#[test]
fn a_snapshot_of_its_source_withdraws_only_what_that_source_sent() {
    let ws = Workspace::new();
    let config = || {
        let mut s = "[output]\ndir = \"output\"\n\n[keys]\nfile = \"keys/tellonce.key\"\n".to_owned();
        // East's pattern would take West's files too, were `*` to cross a `/`.
        for path in ["inputs/*.csv", "inputs/west/*.csv"] {
            s.push_str(&format!(
                "\n[[sources]]\nfeed = \"police\"\npath = {path:?}\nmode = \"snapshot\"\nsnapshot_of = \"source\"\n"
            ));
        }
        ws.write("tellonce.toml", s);
    };
    // Two forces send their own holdings into one feed.
    ws.write("inputs/east-1.csv", extract(&[police("E1", "Ann", "CRIME"), police("E2", "Bob", "CRIME")]));
    ws.write("inputs/west/west-1.csv", extract(&[police("W1", "Cat", "CRIME"), police("W2", "Dan", "CRIME")]));
    config();
    ws.run(0, &[]);
    // East's next snapshot leaves out E2: only E2 is withdrawn, not West's records.
    ws.write("inputs/east-2.csv", extract(&[police("E1", "Ann", "CRIME")]));
    let run = ws.run(0, &[]);
    assert_eq!(versions(&run, "inputs/east-2.csv"), [0, 0, 1, 1, 0]);
    assert_eq!(staged(&ws.out()).keys().collect::<Vec<_>>(), ["E1", "W1", "W2"]);
    // West's next snapshot, with a new record, withdraws W2 only.
    ws.write("inputs/west/west-2.csv", extract(&[police("W1", "Cat", "CRIME"), police("W3", "Eve", "CRIME")]));
    let run = ws.run(0, &[]);
    assert_eq!(versions(&run, "inputs/west/west-2.csv"), [1, 0, 1, 1, 0]);
    assert_eq!(staged(&ws.out()).keys().collect::<Vec<_>>(), ["E1", "W1", "W3"]);
    tellonce_ok(ws.dir(), &["audit", "verify", "--config", "tellonce.toml"], 0);

    // The setting is checked: a scope it does not know, or one on a source that is not a snapshot.
    for (bad, says) in [
        ("mode = \"snapshot\"\nsnapshot_of = \"district\"", "use \"feed\" (the default) or \"source\""),
        ("snapshot_of = \"source\"", "snapshot_of applies to mode = \"snapshot\" only"),
    ] {
        let config = format!(
            "[output]\ndir = \"output\"\n\n[keys]\nfile = \"keys/tellonce.key\"\n\n[[sources]]\nfeed = \"police\"\n\
             path = \"inputs/east-*.csv\"\n{bad}\n"
        );
        ws.write("tellonce.toml", config);
        let out = tellonce_ok(ws.dir(), &["run", "--config", "tellonce.toml", "--no-progress"], 2);
        assert!(text(&out).contains(says), "{}", text(&out));
    }
}

/// A re-sent extract's run crashed (as `kill -9` would end it) while it moves earlier versions
/// to history, then run again: after its history part is published and before it is recorded,
/// and after the move is recorded and before the staging file's new content is in place. Either
/// way the earlier version ends in history once and staging holds the corrected one once.
#[test]
fn a_re_sent_extract_crashed_while_moving_versions_keeps_each_version_once() {
    for (point, at) in [("commit.published", 1), ("supersede.recorded", 1)] {
        let ws = Workspace::new();
        ws.write("inputs/jan.csv", extract(&[police("P1", "Ann", "CRIME"), police("P2", "Bob", "CRIME")]));
        ws.config(&[("police", "inputs/jan.csv")], "");
        ws.run(0, &[]);
        ws.write("inputs/feb.csv", extract(&[police("P1", "Ann", "CRIME"), police("P2", "Bob", "DOMESTIC_ABUSE")]));
        ws.config(&[("police", "inputs/jan.csv"), ("police", "inputs/feb.csv")], "");
        let crashed = std::process::Command::new(tellonce_tests::tellonce_bin())
            .args(["run", "--config", "tellonce.toml", "--no-progress"])
            .env("TELLONCE_FAULT", format!("{point}:{at}"))
            .current_dir(ws.dir())
            .output()
            .unwrap();
        assert!(!crashed.status.success(), "{point}: the run was not stopped\n{}", text(&crashed));
        let again = ws.run(0, &[]);
        assert_eq!(again.input("inputs/feb.csv")["status"], "processed", "{point}");
        let now = staged(&ws.out());
        assert_eq!(now.keys().collect::<Vec<_>>(), ["P1", "P2"], "{point}");
        assert!(now["P2"].contains("feb"), "{point}: {now:?}");
        let history: Vec<Option<String>> = visible_parquet(&ws.out().join("history/feed=police"))
            .iter()
            .flat_map(|p| parquet_column(p, "record_id"))
            .collect();
        assert_eq!(history, [Some("P2".to_owned())], "{point}: January's P2 in history once");
        let verify = tellonce_ok(ws.dir(), &["audit", "verify", "--config", "tellonce.toml"], 0);
        assert!(text(&verify).contains("verifies"), "{point}: {}", text(&verify));
    }
}

/// A district council's row: its reference, its district and a forename.
fn district(id: &str, district: &str, forename: &str) -> String {
    format!("{id},{district},{forename},Leeford,2010-01-02,RH10 1AB,2024-02-01,CRISIS_PAYMENT")
}

fn districts(rows: &[String]) -> String {
    format!(
        "record_id,district_code,forename,surname,date_of_birth,postcode,event_date,event_type\n{}\n",
        rows.join("\n")
    )
}

/// Writes `tellonce.toml` with the county's district files (deltas), then `path`, a snapshot of
/// `district`'s records.
fn district_snapshot_config(ws: &Workspace, path: &str, district: &str) {
    let s = format!(
        "[output]\ndir = \"output\"\n\n[keys]\nfile = \"keys/tellonce.key\"\n\n[[sources]]\nfeed = \"district\"\n\
         path = \"inputs/county*.csv\"\n\n[[sources]]\nfeed = \"district\"\n\
         path = {path:?}\nmode = \"snapshot\"\nsnapshot_where = {{ column = \"district_code\", values = [{district:?}] }}\n"
    );
    ws.write("tellonce.toml", s);
}

/// The distinct record references of the district staging dataset.
fn district_held(out: &std::path::Path) -> Vec<String> {
    let ids: std::collections::BTreeSet<String> = visible_parquet(&out.join("staging/feed=district"))
        .iter()
        .flat_map(|p| parquet_column(p, "record_id"))
        .map(Option::unwrap)
        .collect();
    ids.into_iter().collect()
}

#[test]
fn a_snapshot_of_a_stated_scope_withdraws_only_the_records_in_it_whichever_input_sent_them() {
    let ws = Workspace::new();
    // One county-wide file first: Crawley's and Horsham's records together.
    ws.write(
        "inputs/county.csv",
        districts(&[
            district("C1", "CRAWLEY", "Ann"),
            district("C2", "CRAWLEY", "Bob"),
            district("H1", "HORSHAM", "Cat"),
        ]),
    );
    ws.config(&[("district", "inputs/county.csv")], "");
    ws.run(0, &[]);
    // Then Crawley sends its own holding: C2 is gone, C3 is new. Horsham's record stays.
    ws.write("inputs/crawley-1.csv", districts(&[district("C1", "CRAWLEY", "Ann"), district("C3", "CRAWLEY", "Dan")]));
    district_snapshot_config(&ws, "inputs/crawley-*.csv", "CRAWLEY");
    let run = ws.run(0, &[]);
    let v = &run.input("inputs/crawley-1.csv")["versions"];
    let counts = [&v["new"], &v["unchanged"], &v["withdrawn"]].map(|c| c.as_u64().unwrap());
    assert_eq!(counts, [1, 1, 1], "{v:#}");
    assert_eq!(district_held(&ws.out()), ["C1", "C3", "H1"]);
    // A record is in scope by its version held: H1, corrected to Crawley's by the county, is
    // withdrawn by Crawley's next holding, which leaves it out.
    ws.write("inputs/county-2.csv", districts(&[district("H1", "CRAWLEY", "Cat")]));
    ws.write(
        "inputs/crawley-2.csv",
        districts(&[
            district("C1", "CRAWLEY", "Ann"),
            district("C3", "CRAWLEY", "Dan"),
            district("C4", "CRAWLEY", "Eve"),
        ]),
    );
    let run = ws.run(0, &[]);
    assert_eq!(run.input("inputs/county-2.csv")["versions"]["changed"], 1);
    let i = run.input("inputs/crawley-2.csv");
    let v = &i["versions"];
    assert_eq!([&v["unchanged"], &v["withdrawn"]].map(|c| c.as_u64()), [Some(2), Some(1)], "{i:#}");
    assert_eq!(district_held(&ws.out()), ["C1", "C3", "C4"]);
    tellonce_ok(ws.dir(), &["audit", "verify", "--config", "tellonce.toml"], 0);

    // The setting is checked against the feed.
    for (bad, says) in [
        ("{ column = \"forename\", values = [\"ANN\"] }", "forename is not a coded column"),
        ("{ column = \"district_code\", values = [\"GATWICK\"] }", "\"GATWICK\" is not a code of district_code"),
        ("{ column = \"nowhere\", values = [\"A\"] }", "\"nowhere\" is not a column of feed district"),
        ("{ column = \"district_code\", valeus = [\"CRAWLEY\"] }", "unknown key"),
    ] {
        let config = format!(
            "[output]\ndir = \"output\"\n\n[keys]\nfile = \"keys/tellonce.key\"\n\n[[sources]]\nfeed = \"district\"\n\
             path = \"inputs/crawley-*.csv\"\nmode = \"snapshot\"\nsnapshot_where = {bad}\n"
        );
        ws.write("tellonce.toml", config);
        let out = tellonce_ok(ws.dir(), &["run", "--config", "tellonce.toml", "--no-progress"], 2);
        assert!(text(&out).contains(says), "{bad}: {}", text(&out));
    }
}

/// `record_id` and incident type of every police record as it was known on `date`, by the
/// README's query run with DuckDB (`tests/python/as_known.py`).
fn as_known(ws: &Workspace, date: &str) -> Vec<(String, String)> {
    let root = tellonce_tests::workspace_root();
    let script = root.join("tests/python/as_known.py");
    let check = std::process::Command::new("python3").args(["-c", "import duckdb"]).output();
    assert!(
        check.is_ok_and(|o| o.status.success()),
        "the query is checked with DuckDB's Python package: run `python3 -m pip install -r .ci/requirements.txt`"
    );
    let out = std::process::Command::new("python3")
        .arg(&script)
        .arg(root.join("README.md"))
        .arg(ws.out())
        .args(["police", date, "incident_type"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn records_as_known_on_a_date_are_those_arrived_by_then_and_not_yet_superseded() {
    let ws = Workspace::new();
    let row = |n: u32, kind: &str| police(&format!("P{n:02}"), "Ann", kind);
    ws.write("inputs/jan.csv", extract(&(1..=10).map(|n| row(n, "CRIME")).collect::<Vec<_>>()));
    // February corrects P02 and sends P11 for the first time; March's snapshot leaves P03 out
    // and corrects P11 (whose February version, in history, was not known in January).
    let feb: Vec<String> = (1..=11).map(|n| row(n, if n == 2 { "DOMESTIC_ABUSE" } else { "CRIME" })).collect();
    ws.write("inputs/feb.csv", extract(&feb));
    let mar: Vec<String> = feb
        .iter()
        .filter(|r| !r.starts_with("P03,"))
        .map(|r| if r.starts_with("P11,") { row(11, "DOMESTIC_ABUSE") } else { r.clone() })
        .collect();
    ws.write("inputs/mar.csv", extract(&mar));
    let months = [("inputs/jan.csv", "delta"), ("inputs/feb.csv", "delta"), ("inputs/mar.csv", "snapshot")];
    for i in 1..=months.len() {
        // Arrival times are to the second: one second apart, each month arrives after the last.
        std::thread::sleep(std::time::Duration::from_millis(1100));
        config_with_modes(&ws, &months[..i]);
        ws.run(0, &[]);
    }
    let again = ws.run(0, &[]);
    for (month, _) in months {
        assert_eq!(again.input(month)["status"], "skipped", "the run again skips {month}");
    }

    // arrivals/ dates each month by when it began to be read, in order.
    let arrivals = visible_parquet(&ws.out().join("arrivals"));
    assert_eq!(arrivals.len(), 1, "one file, replaced by each build: {arrivals:?}");
    let inputs = parquet_column(&arrivals[0], "input");
    let at = parquet_column(&arrivals[0], "arrived_at");
    let when = |month: &str| -> String {
        let i =
            inputs.iter().position(|s| s.as_deref() == Some(month)).unwrap_or_else(|| panic!("{month}: {inputs:?}"));
        at[i].clone().unwrap()
    };
    let (jan, feb_at, mar_at) = (when("inputs/jan.csv"), when("inputs/feb.csv"), when("inputs/mar.csv"));
    assert!(jan < feb_at && feb_at < mar_at, "{jan} {feb_at} {mar_at}");

    let truth = |rows: &[String]| -> Vec<(String, String)> {
        let mut t: Vec<(String, String)> = rows
            .iter()
            .map(|r| {
                let f: Vec<&str> = r.split(',').collect();
                (f[0].to_owned(), f[8].to_owned())
            })
            .collect();
        t.sort();
        t
    };
    let jan_rows: Vec<String> = (1..=10).map(|n| row(n, "CRIME")).collect();
    assert_eq!(as_known(&ws, "2000-01-01T00:00:00Z"), [], "nothing was known before January arrived");
    assert_eq!(as_known(&ws, &jan), truth(&jan_rows), "as known when January arrived: P11 was not yet sent");
    assert_eq!(as_known(&ws, &feb_at), truth(&feb), "as known when February arrived");
    assert_eq!(as_known(&ws, &mar_at), truth(&mar), "as known when March arrived: P03 withdrawn");
    assert_eq!(as_known(&ws, "2999-01-01T00:00:00Z"), truth(&mar), "as it is now");

    // Every staging and history row names an input that arrivals/ dates.
    let ids: std::collections::BTreeSet<String> =
        parquet_column(&arrivals[0], "_input").into_iter().flatten().collect();
    for dir in ["staging/feed=police", "history/feed=police"] {
        for part in visible_parquet(&ws.out().join(dir)) {
            for id in parquet_column(&part, "_input") {
                assert!(ids.contains(id.as_deref().unwrap_or("")), "{dir}: {id:?} not in {ids:?}");
            }
        }
    }
    tellonce_ok(ws.dir(), &["audit", "verify", "--config", "tellonce.toml"], 0);
}

#[test]
fn withdrawals_confirmed_by_mistake_are_lifted_by_input_and_the_next_extract_stages_them_again() {
    let ws = Workspace::new();
    let row = |n: u32| police(&format!("P{n:02}"), "Ann", "CRIME");
    ws.write("inputs/jan.csv", extract(&(1..=30).map(row).collect::<Vec<_>>()));
    // February's export was truncated after four rows, and confirmed by mistake.
    ws.write("inputs/feb.csv", extract(&(1..=4).map(row).collect::<Vec<_>>()));
    config_with_modes(&ws, &[("inputs/jan.csv", "delta"), ("inputs/feb.csv", "snapshot")]);
    ws.run(3, &[]);
    let confirmed = ws.run(0, &["--allow-mass-withdrawal"]);
    assert_eq!(versions(&confirmed, "inputs/feb.csv"), [0, 0, 4, 26, 0]);
    // The partner's corrected export (in another order: January's file again would be skipped as
    // processed) is refused: the 26 stand withdrawn.
    ws.write("inputs/feb-full.csv", extract(&(1..=30).rev().map(row).collect::<Vec<_>>()));
    let months = [("inputs/jan.csv", "delta"), ("inputs/feb.csv", "snapshot"), ("inputs/feb-full.csv", "snapshot")];
    config_with_modes(&ws, &months);
    assert_eq!(versions(&ws.run(0, &[]), "inputs/feb-full.csv"), [0, 0, 4, 0, 26]);
    assert_eq!(staged(&ws.out()).len(), 4);

    let reinstate = |extra: &[&str], code: i32| {
        let mut args = vec!["records", "reinstate", "--config", "tellonce.toml", "--feed", "police"];
        args.extend_from_slice(extra);
        tellonce_ok(ws.dir(), &args, code)
    };
    // A reason is required; a reference and an input cannot both be given.
    let no_reason = reinstate(&["--withdrawn-by", "inputs/feb.csv", "--reason", " "], 2);
    assert!(text(&no_reason).contains("--reason is required"), "{}", text(&no_reason));
    reinstate(&["--withdrawn-by", "inputs/feb.csv", "--record", "P05", "--reason", "x"], 2);

    // By the input's id (its rows' _input) or by its path, where one input came from it.
    let feb_id = confirmed.input("inputs/feb.csv")["sha256"].as_str().unwrap()[..16].to_owned();
    for by in [feb_id.as_str(), "inputs/feb.csv"] {
        let dry = reinstate(&["--withdrawn-by", by, "--reason", "truncated export", "--dry-run", "--json"], 0);
        let dry: serde_json::Value = serde_json::from_slice(&dry.stdout).unwrap();
        assert_eq!((dry["reinstated"].as_u64(), dry["dry_run"].as_bool()), (Some(26), Some(true)), "{dry}");
    }
    let unknown = reinstate(&["--withdrawn-by", "inputs/nothing.csv", "--reason", "x"], 2);
    assert!(text(&unknown).contains("names no input of police"), "{}", text(&unknown));
    let lifted = reinstate(&["--withdrawn-by", "inputs/feb.csv", "--reason", "truncated export"], 0);
    assert!(text(&lifted).contains("lifted 26 withdrawal(s)"), "{}", text(&lifted));
    // Lifting again finds nothing standing; a reference given that was never withdrawn is said so.
    let again = reinstate(&["--record", "P05", "--record", "P01", "--reason", "again", "--json"], 0);
    let again: serde_json::Value = serde_json::from_slice(&again.stdout).unwrap();
    assert_eq!((again["reinstated"].as_u64(), again["not_withdrawn"].as_u64()), (Some(0), Some(2)), "{again}");

    // March's extract stages the 26 again as new, and one new record; nothing else changes.
    ws.write("inputs/mar.csv", extract(&(1..=31).map(row).collect::<Vec<_>>()));
    let mut months = months.to_vec();
    months.push(("inputs/mar.csv", "snapshot"));
    config_with_modes(&ws, &months);
    assert_eq!(versions(&ws.run(0, &[]), "inputs/mar.csv"), [27, 0, 4, 0, 0]);
    assert_eq!(staged(&ws.out()).len(), 31);

    let log = std::fs::read_to_string(ws.out().join("audit/audit.jsonl")).unwrap();
    let entries: Vec<&str> = log.lines().filter(|l| l.contains("\"type\":\"records_reinstated\"")).collect();
    assert_eq!(entries.len(), 1, "one entry: the dry run and the empty lift change nothing\n{log}");
    assert!(entries[0].contains("\"reinstated\":26") && entries[0].contains("truncated export"), "{}", entries[0]);
    assert!(entries[0].contains(&format!("\"withdrawn_by\":\"{feb_id}\"")), "by the input's id: {}", entries[0]);
    tellonce_ok(ws.dir(), &["audit", "verify", "--config", "tellonce.toml"], 0);
    tellonce_ok(ws.dir(), &["audit", "report", "--config", "tellonce.toml", "--out", "report.html"], 0);
    let html = std::fs::read_to_string(ws.dir().join("report.html")).unwrap();
    assert!(html.contains("Withdrawals lifted") && html.contains("truncated export"), "the report shows the lift");
}

/// Staged police rows, by their token where the agreement shares only that.
fn staged_rows(out: &std::path::Path) -> usize {
    visible_parquet(&out.join("staging/feed=police")).iter().map(|p| parquet_row_count(p) as usize).sum()
}

#[test]
fn a_feed_whose_agreement_shares_only_the_token_of_record_id_knows_its_records_by_it() {
    let ws = Workspace::new();
    let agreement = std::fs::read_to_string(ws.dir().join("agreements/police.toml")).unwrap();
    let pseudonymised = agreement.replace("record_id = { action = \"pass\"", "record_id = { action = \"pseudonymise\"");
    assert_ne!(agreement, pseudonymised, "the example agreement passes record_id");
    ws.write("agreements/police.toml", pseudonymised);
    let id = |n: u32| format!("POLREF-{n:06}");
    let row = |n: u32, kind: &str| police(&id(n), "Ann", kind);
    ws.write("inputs/jan.csv", extract(&(1..=3).map(|n| row(n, "CRIME")).collect::<Vec<_>>()));
    // February re-sends 1 as it was and 2 corrected, and sends 4; a withdrawals file lists 4 and
    // 3 in clear, as partners send them; March sends 4 again, and 5.
    ws.write("inputs/feb.csv", extract(&[row(1, "CRIME"), row(2, "DOMESTIC_ABUSE"), row(4, "CRIME")]));
    ws.write("inputs/withdrawn-1.csv", format!("record_id\n{}\n{}\n", id(4), id(3)));
    ws.write("inputs/mar.csv", extract(&[row(4, "CRIME"), row(5, "CRIME")]));
    let months = [
        ("inputs/jan.csv", "delta"),
        ("inputs/feb.csv", "delta"),
        ("inputs/withdrawn-*.csv", "withdrawals"),
        ("inputs/mar.csv", "delta"),
    ];
    let mut runs = Vec::new();
    let mut run_to = |last: usize| {
        config_with_modes(&ws, &months[..=last]);
        let run = ws.run(0, &[]);
        let seen = versions(&run, &months[last].0.replace('*', "1"));
        runs.push(run.output);
        (seen, staged_rows(&ws.out()))
    };
    assert_eq!(run_to(0), ([3, 0, 0, 0, 0], 3));
    assert_eq!(run_to(1), ([1, 1, 1, 0, 0], 4), "by token: 1 unchanged, 2 changed, 4 new");
    assert_eq!(run_to(2), ([0, 0, 0, 2, 0], 2), "the clear references of the withdrawals file found by token");
    assert_eq!(run_to(3), ([1, 0, 0, 0, 1], 3), "4 stays withdrawn; 5 is new");

    // Staging holds the token, never the reference; no output, message or state file holds it.
    for part in visible_parquet(&ws.out().join("staging/feed=police")) {
        let columns = parquet_columns(&part);
        assert!(columns.contains(&"record_id_token".to_owned()) && !columns.contains(&"record_id".to_owned()));
    }
    let ids: Vec<Vec<u8>> = (1..=5).map(|n| id(n).into_bytes()).collect();
    let refs: Vec<&[u8]> = ids.iter().map(Vec::as_slice).collect();
    let outputs: Vec<&std::process::Output> = runs.iter().collect();
    assert_absent(&refs, &outputs, &ws.out());
    tellonce_ok(ws.dir(), &["audit", "verify", "--config", "tellonce.toml"], 0);

    // A withdrawal is lifted by the reference in clear, keyed as the tombstones hold it.
    let args = ["records", "reinstate", "--config", "tellonce.toml", "--feed", "police", "--reason", "sent in error"];
    let lifted = tellonce_ok(ws.dir(), &[&args[..], &["--record", &id(3), "--json"]].concat(), 0);
    let lifted: serde_json::Value = serde_json::from_slice(&lifted.stdout).unwrap();
    assert_eq!(lifted["reinstated"], 1, "{lifted}");

    // An agreement that now shares the reference itself cannot compare new records with those
    // staged by token: the input stops with the reason, rather than staging every record again.
    ws.write("agreements/police.toml", &agreement);
    ws.write("inputs/apr.csv", extract(&[row(1, "CRIME")]));
    config_with_modes(&ws, &[&months[..], &[("inputs/apr.csv", "delta")]].concat());
    let refused = tellonce_ok(ws.dir(), &["run", "--config", "tellonce.toml", "--json", "--no-progress"], 4);
    assert!(text(&refused).contains("shared record_id otherwise than the one in force"), "{}", text(&refused));
    assert_eq!(staged_rows(&ws.out()), 3, "nothing staged");
}
