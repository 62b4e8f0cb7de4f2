//! Real query engines: DuckDB and pyarrow read the staging Parquet as it is written, DuckDB reads
//! `links/` joined to it, and DuckDB, Polars and pyarrow read every dataset of the demo.

use std::process::Command;

use crate::support::*;

/// Fails (never skips) when the Python query engines are missing.
fn require_python_engines() {
    let check = Command::new("python3").args(["-c", "import duckdb, pyarrow, polars"]).output();
    let ok = check.as_ref().is_ok_and(|o| o.status.success());
    assert!(
        ok,
        "DuckDB, Polars and pyarrow are needed to check that analysts can read the Parquet: run \
         `python3 -m pip install -r .ci/requirements.txt` (CI does this in .ci/run).\n{}",
        match &check {
            Ok(o) => text(o),
            Err(e) => format!("python3 could not be started: {e}"),
        }
    );
}

#[test]
fn duckdb_and_pyarrow_read_the_staging_parquet_unmodified() {
    require_python_engines();
    let ws = synth_workspace(1500, 13);
    let run = ws.run(0, &[]);
    let (feed, column) = ("camhs", "primary_reason");
    let script = tellonce_tests::workspace_root().join("tests/python/read_staging.py");
    let out = Command::new("python3").arg(&script).arg(ws.out()).args([feed, column]).output().unwrap();
    assert!(out.status.success(), "{} failed:\n{}", script.display(), text(&out));
    let seen: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();

    for engine in ["duckdb", "duckdb_full_scan", "pyarrow", "pyarrow_full_scan"] {
        let counts = seen[engine].as_object().unwrap();
        assert_eq!(counts.len(), FEEDS.len(), "{engine}: {counts:?}");
        for f in FEEDS {
            assert_eq!(counts[f], run.summary["feeds"][f]["written"], "{engine} counts {f} rows differently");
        }
    }

    let schema = tellonce_schemas::feed::latest(feed).unwrap();
    let want = tellonce_schemas::staging::columns(schema).into_iter().find(|c| c.name == column).unwrap().description;
    let d = &seen["description"];
    assert!(d["files"].as_u64().unwrap() >= 1, "{d}");
    for source in ["pyarrow_kv", "duckdb_kv", "arrow_field"] {
        let got = d[source].as_array().unwrap();
        assert_eq!(got.len() as u64, d["files"].as_u64().unwrap(), "{source}: {d}");
        assert!(got.iter().all(|v| v == want.as_str()), "{source}: {d} (want {want:?})");
    }
    assert_eq!(seen["key_ids"], serde_json::json!([run.summary["key_id"]]));
}

#[test]
fn duckdb_reads_links_and_joins_them_to_the_staging_dataset() {
    require_python_engines();
    let ws = synth_workspace(1500, 17);
    let run = ws.run(0, &[]);
    let script = tellonce_tests::workspace_root().join("tests/python/query_links.py");
    let out = Command::new("python3").arg(&script).arg(ws.out()).output().unwrap();
    assert!(out.status.success(), "{} failed:\n{}", script.display(), text(&out));
    let seen: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();

    // The same answers computed from links/ with the parquet crate.
    let mut persons_by_feed: std::collections::BTreeMap<String, std::collections::BTreeSet<String>> =
        Default::default();
    let mut feeds_of: std::collections::BTreeMap<String, std::collections::BTreeSet<String>> = Default::default();
    for part in visible_parquet(&ws.out().join("links")) {
        let feed = part.parent().unwrap().file_name().unwrap().to_str().unwrap().trim_start_matches("feed=").to_owned();
        for p in parquet_column(&part, "person_id").into_iter().flatten() {
            persons_by_feed.entry(feed.clone()).or_default().insert(p.clone());
            feeds_of.entry(p).or_default().insert(feed.clone());
        }
    }
    for (feed, persons) in &persons_by_feed {
        assert_eq!(seen["persons_by_feed"][feed].as_u64(), Some(persons.len() as u64), "{feed}: {seen}");
    }
    let three_plus = feeds_of.values().filter(|f| f.len() >= 3).count() as u64;
    assert!(three_plus > 0, "some children are known to three or more agencies");
    assert_eq!(seen["persons_3plus"].as_u64(), Some(three_plus), "{seen}");
    // Every staged row finds its link by feed and record_id.
    let written: u64 = run.summary["inputs"].as_array().unwrap().iter().map(|i| i["written"].as_u64().unwrap()).sum();
    assert_eq!(seen["joined"].as_u64(), Some(written), "{seen}");
}

#[test]
fn duckdb_polars_and_pyarrow_read_every_dataset_of_the_demo() {
    require_python_engines();
    let ws = Workspace::bare();
    tellonce_tests::tellonce_ok(ws.dir(), &["demo", "--out", "demo", "--children", "1500", "--json"], 0);
    let out = ws.dir().join("demo/output");
    let datasets = BUILD_DATASETS;
    let script = tellonce_tests::workspace_root().join("tests/python/read_datasets.py");
    let run = Command::new("python3").arg(&script).arg(&out).args(datasets).output().unwrap();
    assert!(run.status.success(), "{} failed:\n{}", script.display(), text(&run));
    let seen: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    for dataset in datasets {
        let rows: u64 = visible_parquet(&out.join(dataset)).iter().map(|p| parquet_row_count(p)).sum();
        assert!(rows > 0, "{dataset}/ is empty in the demo");
        for engine in ["duckdb", "polars", "pyarrow"] {
            assert_eq!(seen[dataset][engine].as_u64(), Some(rows), "{engine} on {dataset}: {seen}");
        }
    }
    // Partition keys come back as columns.
    let columns = |d: &str| {
        seen[d]["columns"].as_array().unwrap().iter().map(|c| c.as_str().unwrap().to_owned()).collect::<Vec<_>>()
    };
    assert!(columns("theme_events").contains(&"headline".to_owned()));
    assert!(columns("aggregates").contains(&"table".to_owned()));
}
