//! The documented DuckDB queries (docs/outcome-queries.md) against the synthetic ground truth.
//!
//! `tests/python/outcome_queries.py` runs every query the page marks, exactly as written there,
//! with DuckDB's Python package on the output of a synthetic run, and works out the same answers
//! from the clear synthetic inputs, the theme mapping and the true person and family of every
//! record, never from what the pipeline derived. Event counts must agree exactly, counts of
//! distinct persons and families within the tolerance of linkage the script states.

use std::process::Command;

use crate::support::*;

/// The queries the page documents: one per question of issue #5, and episodes of support and
/// the outcomes of the needs at their start (#20).
const QUERIES: [&str; 8] = [
    "needs_by_district",
    "deprivation",
    "known_to_three_agencies",
    "eligible_families",
    "early_help_rereferrals",
    "early_help_episodes",
    "family_outcomes",
    "return_after_success",
];

/// Fails (never skips) when DuckDB's Python package is missing.
fn require_duckdb() {
    let check = Command::new("python3").args(["-c", "import duckdb, pyarrow"]).output();
    let ok = check.as_ref().is_ok_and(|o| o.status.success());
    assert!(
        ok,
        "the documented queries are checked with DuckDB's Python package and pyarrow: run \
         `python3 -m pip install -r .ci/requirements.txt` (CI does this in .ci/run).\n{}",
        match &check {
            Ok(o) => text(o),
            Err(e) => format!("python3 could not be started: {e}"),
        }
    );
}

#[test]
fn the_documented_outcome_queries_give_the_answers_of_the_synthetic_truth() {
    require_duckdb();
    let ws = synth_workspace(3000, 31);
    ws.run(0, &[]);
    let script = tellonce_tests::workspace_root().join("tests/python/outcome_queries.py");
    let out = Command::new("python3").arg(&script).arg(ws.out()).arg(ws.dir()).output().unwrap();
    let report = text(&out);
    assert!(out.status.success(), "{} found answers that disagree with the truth:\n{report}", script.display());

    // The last line is the script's summary: every documented query was run and checked.
    let stdout = String::from_utf8_lossy(&out.stdout);
    let last = stdout.lines().last().unwrap_or_default();
    let summary: serde_json::Value =
        serde_json::from_str(last).unwrap_or_else(|e| panic!("no JSON summary on the last line ({e}):\n{report}"));
    assert_eq!(summary["ok"], true, "{report}");
    for name in QUERIES {
        assert_eq!(summary["queries"][name]["ok"], true, "query {name} was not checked:\n{report}");
    }
    println!("{report}");
}
