//! A year of monthly extracts (`tellonce synth --months 12`): every feed sent each month as a
//! cumulative snapshot, or as deltas with a withdrawals file, ends with staging equal, record
//! for record, to the last month's extract staged on its own; and running an earlier month
//! again changes nothing.

use std::collections::BTreeMap;
use std::path::Path;

use tellonce_tests::tellonce_ok;

use crate::support::*;

const MONTHS: u32 = 12;

/// The synthetic feeds and the extension of their files.
const FEEDS: [(&str, &str); 8] = [
    ("health_visiting", "csv"),
    ("camhs", "jsonl"),
    ("police", "jsonl"),
    ("youth_justice", "csv"),
    ("housing", "csv"),
    ("district", "csv"),
    ("education", "csv"),
    ("substance_misuse", "csv"),
];

/// Writes `name` with the synthetic config's settings, output `out` and these sources (feed,
/// path, mode).
fn config(ws: &Workspace, name: &str, out: &str, sources: &[(&str, String, &str)]) {
    let synth = std::fs::read_to_string(ws.dir().join("tellonce.toml")).unwrap();
    let settings = synth.split("[[sources]]").next().unwrap().replace("dir = \"output\"", &format!("dir = {out:?}"));
    let mut text = settings;
    for (feed, path, mode) in sources {
        text.push_str(&format!("[[sources]]\nfeed = {feed:?}\npath = {path:?}\nmode = {mode:?}\n\n"));
    }
    ws.write(name, text);
}

/// `record_id -> _record_digest` (hex) of every staged row, per feed, failing on a record staged
/// twice.
fn staged(out: &Path) -> BTreeMap<String, BTreeMap<String, String>> {
    let mut all = BTreeMap::new();
    for (feed, _) in FEEDS {
        let mut rows = BTreeMap::new();
        for part in visible_parquet(&out.join(format!("staging/feed={feed}"))) {
            for row in parquet_rows(&part) {
                let get = |name: &str| {
                    let v = row.iter().find(|(n, _)| n == name).map(|(_, v)| v.to_string()).unwrap();
                    v.trim_matches('"').to_owned()
                };
                assert!(rows.insert(get("record_id"), get("_record_digest")).is_none(), "{feed}: staged twice");
            }
        }
        all.insert(feed.to_owned(), rows);
    }
    all
}

/// Fails naming, per feed, the records missing, extra or staged with other content.
fn assert_same(
    got: &BTreeMap<String, BTreeMap<String, String>>,
    want: &BTreeMap<String, BTreeMap<String, String>>,
    what: &str,
) {
    let mut diff = Vec::new();
    for (feed, w) in want {
        let g = &got[feed];
        let missing: Vec<_> = w.keys().filter(|id| !g.contains_key(*id)).collect();
        let extra: Vec<_> = g.keys().filter(|id| !w.contains_key(*id)).collect();
        let other: Vec<_> = w.iter().filter(|(id, d)| g.get(*id).is_some_and(|x| x != *d)).map(|(id, _)| id).collect();
        if !(missing.is_empty() && extra.is_empty() && other.is_empty()) {
            diff.push(format!("{feed}: missing {missing:?}, extra {extra:?}, other content {other:?}"));
        }
    }
    assert!(diff.is_empty(), "{what}:\n{}", diff.join("\n"));
}

fn run(ws: &Workspace, config: &str, extra: &[&str]) {
    let mut args = vec!["run", "--config", config, "--no-progress"];
    args.extend_from_slice(extra);
    tellonce_ok(ws.dir(), &args, 0);
}

#[test]
fn a_year_of_monthly_extracts_ends_with_the_last_months_holding_in_either_mode() {
    let ws = Workspace::bare();
    let months = MONTHS.to_string();
    tellonce_ok(ws.dir(), &["synth", "--out", ".", "--children", "400", "--seed", "11", "--months", &months], 0);

    // The oracle: the last month's cumulative extract staged on its own.
    let last: Vec<_> = FEEDS.iter().map(|(f, e)| (*f, format!("months/{MONTHS:02}/{f}.{e}"), "snapshot")).collect();
    config(&ws, "last.toml", "out-last", &last);
    run(&ws, "last.toml", &[]);
    let want = staged(&ws.dir().join("out-last"));

    // Every month, as snapshots.
    let snapshots: Vec<_> = FEEDS.iter().map(|(f, e)| (*f, format!("months/*/{f}.{e}"), "snapshot")).collect();
    config(&ws, "snapshots.toml", "out-snapshots", &snapshots);
    run(&ws, "snapshots.toml", &[]);
    assert_same(&staged(&ws.dir().join("out-snapshots")), &want, "twelve snapshots");

    // Every month, as deltas and withdrawals files.
    let mut deltas: Vec<_> = FEEDS.iter().map(|(f, e)| (*f, format!("months/*/delta/{f}.{e}"), "delta")).collect();
    deltas.extend(FEEDS.iter().map(|(f, _)| (*f, format!("months/*/withdrawn/{f}.csv"), "withdrawals")));
    config(&ws, "deltas.toml", "out-deltas", &deltas);
    run(&ws, "deltas.toml", &[]);
    assert_same(&staged(&ws.dir().join("out-deltas")), &want, "twelve deltas");

    // Against the plan: no record withdrawn by the end of the year is staged, and most of the
    // holding is (the rest quarantined as invalid in every month).
    let text = std::fs::read_to_string(ws.dir().join("truth/months.csv")).unwrap();
    let mut holding: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut withdrawn = 0;
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        if f[3].is_empty() {
            holding.entry(f[0].to_owned()).or_default().push(f[1].to_owned());
        } else {
            withdrawn += 1;
        }
    }
    assert!(withdrawn > 10, "the plan withdraws records: {withdrawn}");
    let (mut staged_all, mut held_all) = (0, 0);
    for (feed, ids) in &want {
        let held = &holding[feed];
        let stray: Vec<_> = ids.keys().filter(|id| !held.contains(id)).collect();
        assert!(stray.is_empty(), "{feed}: withdrawn records staged: {stray:?}");
        assert!(ids.len() * 100 >= held.len() * 75, "{feed}: {} of {} staged", ids.len(), held.len());
        (staged_all, held_all) = (staged_all + ids.len(), held_all + held.len());
    }
    assert!(staged_all * 100 >= held_all * 95, "{staged_all} of {held_all} staged");

    // Running a month again, forced, in any order, changes nothing.
    for month in [5, 2, 9] {
        let again: Vec<_> = FEEDS.iter().map(|(f, e)| (*f, format!("months/{month:02}/{f}.{e}"), "snapshot")).collect();
        config(&ws, "again.toml", "out-snapshots", &again);
        run(&ws, "again.toml", &["--force"]);
        assert_same(&staged(&ws.dir().join("out-snapshots")), &want, &format!("month {month} run again"));
    }
    tellonce_ok(ws.dir(), &["audit", "verify", "--config", "snapshots.toml"], 0);
}

#[test]
fn a_record_erased_in_march_never_comes_back_though_every_later_month_sends_it() {
    let ws = Workspace::bare();
    tellonce_ok(ws.dir(), &["synth", "--out", ".", "--children", "200", "--seed", "5", "--months", "12"], 0);
    // This deployment shares health visiting records on consent, so the right to erasure applies.
    let agreement = ws.dir().join("agreements/health_visiting.toml");
    let consent = std::fs::read_to_string(&agreement).unwrap().replace("erasure = false", "erasure = true");
    std::fs::write(&agreement, consent).unwrap();
    let upto = |last: u32| -> Vec<(&str, String, &str)> {
        let months: Vec<String> = (1..=last).map(|m| format!("{m:02}")).collect();
        FEEDS
            .iter()
            .flat_map(|(f, e)| months.iter().map(move |m| (*f, format!("months/{m}/{f}.{e}"), "snapshot")))
            .collect()
    };
    config(&ws, "erase.toml", "out", &upto(3));
    run(&ws, "erase.toml", &[]);
    // A child in March's health visiting extract who is sent again in December's.
    let march = std::fs::read_to_string(ws.dir().join("months/03/health_visiting.csv")).unwrap();
    let december = std::fs::read_to_string(ws.dir().join("months/12/health_visiting.csv")).unwrap();
    let row = march
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect::<Vec<_>>())
        .find(|f| !f[1].is_empty() && december.lines().any(|d| d.starts_with(&format!("{},", f[0]))))
        .expect("a record sent in March and in December");
    let (record_id, nhs_number) = (row[0].to_owned(), row[1].to_owned());
    let staged_ids = |ws: &Workspace| -> Vec<String> {
        visible_parquet(&ws.dir().join("out/staging/feed=health_visiting"))
            .iter()
            .flat_map(|p| parquet_column(p, "record_id"))
            .flatten()
            .collect()
    };
    assert!(staged_ids(&ws).contains(&record_id));
    let args = ["sar", "--config", "erase.toml", "--officer", "IG officer 7", "--reference", "SAR-M-3", "--erase"];
    let erased = tellonce_with_stdin(ws.dir(), &args, &format!("nhs_number={nhs_number}\n"));
    assert_eq!(erased.status.code(), Some(0), "{}", text(&erased));
    assert!(!staged_ids(&ws).contains(&record_id));

    // April to December, each a snapshot that sends the record again: refused every time.
    config(&ws, "erase.toml", "out", &upto(12));
    run(&ws, "erase.toml", &[]);
    assert!(!staged_ids(&ws).contains(&record_id), "{record_id} came back");
    let log = std::fs::read_to_string(ws.dir().join("out/audit/audit.jsonl")).unwrap();
    let refusals = log
        .lines()
        .filter(|l| l.contains("\"records_compared\"") && l.contains("health_visiting.csv"))
        .filter(|l| !l.contains("\"refused\":0"))
        .count();
    assert!(refusals >= 9, "refused in each month from April: {refusals}");
    tellonce_ok(ws.dir(), &["audit", "verify", "--config", "erase.toml"], 0);
}
