//! Reconciliation on synthetic data: every record read is written or quarantined, the
//! quarantine reasons are exactly the errors the generator injected, and the Parquet holds
//! exactly the rows the summary says.

use std::collections::{BTreeMap, BTreeSet};

use crate::support::*;

/// What the ground truth says a run should do with each feed's records.
#[derive(Default)]
struct Truth {
    /// `feed → rule → count` of the `invalid:<rule>` errors: records to quarantine.
    invalid: BTreeMap<String, BTreeMap<String, u64>>,
    /// `feed → column:rule → count` of the `nulled:<column>:<rule>` errors: fields to null.
    nulled: BTreeMap<String, BTreeMap<String, u64>>,
    /// `feed → record_id → _dq` of the records to stage (`None`: nothing nulled).
    staged: BTreeMap<String, BTreeMap<String, Option<String>>>,
}

fn truth(ws: &Workspace) -> Truth {
    let text = std::fs::read_to_string(ws.dir().join("truth/records.csv")).unwrap();
    let mut rows = parse_csv(&text).into_iter();
    let header = rows.next().unwrap();
    assert_eq!(header, ["feed", "record_id", "person_id", "family_id", "error"]);
    let mut t = Truth::default();
    for r in rows {
        let rules: Vec<&str> = r[4].split(';').filter_map(|e| e.strip_prefix("invalid:")).collect();
        let nulled: Vec<&str> = r[4].split(';').filter_map(|e| e.strip_prefix("nulled:")).collect();
        assert!(rules.len() + nulled.len() <= 1, "{r:?}");
        t.invalid.entry(r[0].clone()).or_default();
        let feed_nulled = t.nulled.entry(r[0].clone()).or_default();
        for n in &nulled {
            *feed_nulled.entry((*n).to_owned()).or_default() += 1;
        }
        match rules.first() {
            Some(rule) => *t.invalid.get_mut(&r[0]).unwrap().entry((*rule).to_owned()).or_default() += 1,
            None => {
                let dq = nulled.first().map(|n| (*n).to_owned());
                t.staged.entry(r[0].clone()).or_default().insert(r[1].clone(), dq);
            }
        }
    }
    t
}

#[test]
fn a_synthetic_run_reconciles_with_the_ground_truth_and_the_parquet() {
    let ws = synth_workspace(1500, 3);
    let run = ws.run(0, &[]);
    let t_all = truth(&ws);
    let feeds = run.summary["feeds"].as_object().unwrap();
    assert_eq!(feeds.keys().map(String::as_str).collect::<BTreeSet<_>>(), FEEDS.into_iter().collect::<BTreeSet<_>>());
    let mut rules_seen = BTreeSet::new();
    for feed in FEEDS {
        let t = &run.summary["feeds"][feed];
        let (read, written, quarantined) =
            (t["read"].as_u64().unwrap(), t["written"].as_u64().unwrap(), t["quarantined"].as_u64().unwrap());
        assert_eq!(read, written + quarantined, "{feed}: read {read} != written {written} + quarantined {quarantined}");
        assert!(written > 0, "{feed}: nothing written");

        // Quarantined by rule = the injected invalid:<rule> errors, exactly.
        let by_rule = rule_counts(&t["quarantined_by_rule"]);
        assert_eq!(by_rule.values().sum::<u64>(), quarantined, "{feed}");
        assert_eq!(by_rule, t_all.invalid[feed], "{feed}: quarantine reasons differ from truth/records.csv");
        rules_seen.extend(by_rule.into_keys());

        // Fields nulled by column:rule = the injected nulled:<column>:<rule> errors, exactly.
        let nulled = rule_counts(&t["nulled_by_rule"]);
        assert_eq!(nulled, t_all.nulled[feed], "{feed}: nulled fields differ from truth/records.csv");
        assert_eq!(t["nulled"].as_u64().unwrap(), nulled.values().sum::<u64>(), "{feed}");
        rules_seen.extend(nulled.into_keys());

        // The staging Parquet holds `written` rows: exactly the truth's valid records.
        let parts = visible_parquet(&ws.out().join("staging").join(format!("feed={feed}")));
        let rows: u64 = parts.iter().map(|p| parquet_row_count(p)).sum();
        assert_eq!(rows, written, "{feed}: Parquet rows != written");
        // Each staged record with its _dq: exactly the truth's records to stage, with what was
        // nulled in them.
        let staged: BTreeMap<String, Option<String>> = parts
            .iter()
            .flat_map(|p| parquet_column(p, "record_id").into_iter().zip(parquet_column(p, "_dq")))
            .map(|(id, dq)| (id.unwrap(), dq))
            .collect();
        assert_eq!(staged.len() as u64, written, "{feed}: a record_id staged twice");
        assert!(staged == t_all.staged[feed], "{feed}: staged records or their _dq differ from the truth");

        // The quarantine files hold `quarantined` entries of this feed.
        let entries = quarantine_entries(&ws.out()).into_iter().filter(|e| e.feed == feed).count() as u64;
        assert_eq!(entries, quarantined, "{feed}");
    }
    assert!(rules_seen.len() >= 4, "the synthetic data exercised too few rules: {rules_seen:?}");

    // Every file the summary lists is on disk with its rows and SHA-256, and the manifest lists
    // the same files.
    let listed: Vec<serde_json::Value> =
        run.summary["inputs"].as_array().unwrap().iter().flat_map(|i| i["files"].as_array().unwrap().clone()).collect();
    for f in &listed {
        let path = ws.out().join(f["path"].as_str().unwrap());
        assert_eq!(parquet_row_count(&path), f["rows"].as_u64().unwrap(), "{f}");
        assert_eq!(std::fs::metadata(&path).unwrap().len(), f["bytes"].as_u64().unwrap(), "{f}");
        assert_eq!(sha256_of(&path), f["sha256"].as_str().unwrap(), "{f}");
    }
    assert_eq!(listed.len(), visible_parquet(&ws.out().join("staging")).len());
    let manifest_path = ws.dir().join(run.summary["manifest"].as_str().unwrap());
    let manifest: serde_json::Value = serde_json::from_slice(&std::fs::read(manifest_path).unwrap()).unwrap();
    // The manifest lists the staging files, then the linkage build's files.
    let mut expected = listed.clone();
    expected.extend(run.summary["linkage"]["files"].as_array().unwrap().iter().cloned());
    assert!(expected.len() > listed.len(), "the build wrote links/");
    assert_eq!(manifest["files"].as_array().unwrap(), &expected);
    assert_eq!(manifest["key_id"], run.summary["key_id"]);
}
