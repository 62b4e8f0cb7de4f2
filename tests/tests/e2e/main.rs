//! End-to-end tests of the `tellonce` binary: every test makes its own data in a temporary
//! directory (synthetic data from `tellonce synth`, or small hand-written partner files), runs
//! the binary as a user would, and checks what it printed and wrote.
//!
//! - `bad_input`: each kind of bad record or file, its rule, and that no message or output
//!   holds the offending value;
//! - `keys_and_output`: unusable key files, an unwritable output, a write killed halfway;
//! - `reconcile`: read = written + quarantined, quarantine reasons against the ground truth,
//!   Parquet row counts against the summary;
//! - `privacy`: no clear identifier anywhere in the output, the logs or `quarantine list`, and
//!   the authorised `quarantine export` round trip;
//! - `idempotence`: a second run skips, `--force` rewrites byte-identical files;
//! - `records_over_time`: a re-sent or cumulative extract stages only new and changed records,
//!   earlier versions move to history;
//! - `engines`: DuckDB and pyarrow read the staging dataset unmodified;
//! - `extracts`: partner-shaped extracts (own headings, UK dates, codes, Windows-1252, pipes)
//!   read through a source mapping give the same staged tokens as the canonical file;
//! - `cli`: the data dictionary, key creation, config errors, `quarantine list`;
//! - `linkage`: accuracy against the synthetic truth, stable ids, merges, conflicts, low evidence;
//! - `decisions`: officers' decisions on pairs (`[linkage] decisions`) honoured by every build;
//! - `outcomes`: the Supporting Families datasets (persons, families, aggregates) and their
//!   disclosure control;
//! - `analyst_queries`: the documented DuckDB queries against the synthetic ground truth;
//! - `audit_log`: the audit log through a full disk and a torn entry (`audit repair`), files
//!   it does not record (`audit verify --prune`), orphaned temporary files;
//! - `faults`: every writing command crashed by `kill -9` and at fault points, then run again
//!   and reconciled; a full disk at each stage; a read-only output;
//! - `governance`: agreements (lint, explain, held feeds, dropped fields), the audit log and its
//!   verification, subject access and erasure, retention, the governance report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod analyst_queries;
mod audit_log;
mod bad_input;
mod cli;
mod decisions;
mod engines;
mod extract_shapes;
mod extract_values;
mod extracts;
mod extracts_inferred;
mod faults;
mod feeds;
mod governance;
mod idempotence;
mod kafka;
mod keys_and_output;
mod linkage;
mod months;
mod outcomes;
mod partner_forms;
mod privacy;
mod reconcile;
mod records_over_time;
mod support;
mod workbooks;
