//! The batch run: each configured input through validate → govern → pseudonymise → staging
//! Parquet, with rejected rows sealed into quarantine, a manifest per run, inputs already
//! processed skipped, inputs with no agreement in force held, and every decision in the audit log.
//!
//! Per input, one reader thread parses bounded batches and marks duplicate `record_id`s in
//! order; worker threads validate and pseudonymise; the calling thread puts results back in input
//! order and writes them, so that the same input always gives byte-identical files. Channels are
//! bounded, so memory does not grow with the input. An input's files become visible only when all
//! of it has been processed: until then they are temporary files, removed on failure.
//!
//! Acknowledgement flows backwards: an input is marked done only after its files are committed
//! and the audit entries recording them (with their SHA-256) are durably appended.

use std::path::PathBuf;

use tellonce_connectors::manifest::Manifest;
use tellonce_governance::audit::Event;
use tellonce_schemas::identifiers::dates;
use tracing::{info, info_span, warn};

use crate::config::Settings;
use crate::progress::{Progress, Silent};
use crate::run::build_entry::link_build;
use crate::run::input::Failed;
use crate::run::input::process_input;
use crate::run::input::unpublish;
use crate::run::report::input_record;
use tellonce_output::lock::Access;
use tellonce_output::timefmt;

mod build_entry;
mod error;
mod explain_entry;
mod input;
pub mod limits;
mod report;
mod withdraw;
mod workers;
mod writer;

pub(crate) use crate::session::{Session as Context, audit_run_end, new_run_id};
pub use build_entry::{build, themes};
pub use error::RunError;
pub use explain_entry::{ExplainRequest, explain};
pub use report::{InputReport, InputStatus, ReadAs, RunReport, Versions};
pub(crate) use workers::{IngestError, Staged, stage};
pub(crate) use writer::Writer;

/// Options of one run that are not configuration.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Process inputs even if their content was processed before.
    pub force: bool,
    /// A second date agreements must be in force on, besides today (days since 1970-01-01), to
    /// see what a run on that day would do. It can only hold more, never let more through.
    pub as_of: Option<i32>,
    /// Apply snapshots that would withdraw more of a feed's records than their source's
    /// `max_withdrawal_share` (held otherwise).
    pub allow_mass_withdrawal: bool,
}

/// Runs every configured input, reporting no progress.
pub fn run(settings: &Settings, opts: &RunOptions) -> Result<RunReport, RunError> {
    run_with_progress(settings, opts, &Silent)
}

/// Runs every configured input, reporting its progress to `progress`.
pub fn run_with_progress(
    settings: &Settings,
    opts: &RunOptions,
    progress: &dyn Progress,
) -> Result<RunReport, RunError> {
    let as_of = opts.as_of.unwrap_or_else(dates::today);
    let total_bytes: u64 =
        settings.sources.iter().filter_map(|s| std::fs::metadata(&s.path).ok()).map(|m| m.len()).sum();
    progress.started(total_bytes);
    let ctx = Context::open(settings, "run", Access::Exclusive, as_of, opts.force, progress)?;
    let (run_id, started_at, out) = (ctx.run_id.clone(), ctx.started_at.clone(), &settings.output_dir);

    for s in &settings.unmatched_patterns {
        warn!(feed = s.feed.name, pattern = %s.path.display(), "a [[sources]] path pattern matches no file");
    }
    let mut inputs: Vec<InputReport> = Vec::with_capacity(settings.sources.len());
    let mut failure = None;
    for source in &settings.sources {
        let span = info_span!("input", feed = source.feed.name, source = %source.path.display());
        let _guard = span.enter();
        ctx.progress.input(source.feed.name);
        let seen = |sha: &str| {
            inputs.iter().find(|i| i.feed == source.feed.name && i.sha256 == sha && i.status == InputStatus::Processed)
        };
        let report = match process_input(&ctx, source, opts, &seen) {
            Ok(r) => r,
            Err(failed) => {
                let Failed { mut report, error } = *failed;
                report.status = InputStatus::Failed;
                report.error = Some(error.to_string());
                inputs.push(report);
                failure = Some(error);
                break;
            }
        };
        if report.status == InputStatus::Rejected {
            let rejected = ctx.audit(&Event::InputRejected {
                feed: report.feed.to_owned(),
                input: report.source.clone(),
                sha256: report.sha256.clone(),
                reason: format!("rejected: {}", report.error.as_deref().unwrap_or("")),
            });
            if let Err(e) = rejected {
                inputs.push(report);
                failure = Some(e);
                break;
            }
        }
        match report.status {
            InputStatus::Rejected => warn!(error = report.error.as_deref().unwrap_or(""), "input rejected"),
            InputStatus::Held => warn!(error = report.error.as_deref().unwrap_or(""), "input held"),
            InputStatus::Skipped => {
                info!(sha256 = %report.sha256, "input already processed; skipped (use --force to redo)")
            }
            _ => info!(
                read = report.read,
                written = report.written,
                quarantined = report.quarantined,
                nulled = report.nulled,
                files = report.files.len(),
                "input processed"
            ),
        }
        inputs.push(report);
    }
    ctx.progress.finished();

    // The build tier, over everything staged so far (this run's inputs and earlier ones).
    let mut linkage = None;
    if failure.is_none() && settings.linkage_enabled {
        match link_build(&ctx, &run_id) {
            Ok(report) => linkage = Some(report),
            Err(e) => failure = Some(e),
        }
    }

    // The manifest is written even when the run stops early, so that every file an input
    // committed before the failure is listed somewhere.
    let manifest = Manifest {
        run_id: run_id.clone(),
        started_at,
        finished_at: timefmt::now_rfc3339(),
        tool_version: env!("CARGO_PKG_VERSION").to_owned(),
        key_id: Some(ctx.keys.key_id().to_string()),
        inputs: inputs.iter().map(input_record).collect(),
        files: inputs
            .iter()
            .flat_map(|i| i.files.iter().cloned())
            .chain(linkage.iter().flat_map(|l| l.files.iter().cloned()))
            .collect(),
    };
    let manifest_path = manifest.write(out).map_err(|source| RunError::Output { path: out.join("manifests"), source });
    let audited = audit_run_end(&ctx, &run_id, manifest_path.as_ref().ok().map(PathBuf::as_path), &inputs, &failure);
    if audited.is_err()
        && let Ok(path) = &manifest_path
    {
        // A manifest the log does not record would be a file no one can account for.
        unpublish(&ctx, std::slice::from_ref(path));
    }
    if let Some(e) = failure {
        return Err(e);
    }
    let manifest_path = manifest_path?;
    audited?;
    Ok(RunReport {
        run_id,
        key_id: ctx.keys.key_id().to_string(),
        manifest: manifest_path.display().to_string(),
        as_of: dates::format(as_of),
        agreement_problems: ctx.agreement_problems.clone(),
        inputs,
        linkage,
    })
}

/// The names of dropped columns, safe to print: the one rule for every message is
/// [`tellonce_schemas::printable::printable_column_names`] (a header that may hold a record's
/// values has none of its names printed); withheld names are only counted.
pub fn reportable_column_names(names: Vec<String>) -> Vec<String> {
    let (shown, withheld) = tellonce_schemas::printable::printable_column_names(&names);
    let mut kept: Vec<String> = shown.into_iter().map(str::to_owned).collect();
    if withheld > 0 {
        kept.push(format!("({withheld} unprintable column name(s) not shown: the header may hold data)"));
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_printable_column_names_are_reported() {
        let names = vec![
            "extra_col".to_owned(),
            "Jane Smith 9434765919".to_owned(),
            "dob_2011_02_03".to_owned(),
            "note2024".to_owned(),
            "Legacy_Flag".to_owned(),
        ];
        // One name that looks like data withholds them all.
        assert_eq!(
            reportable_column_names(names),
            ["(5 unprintable column name(s) not shown: the header may hold data)"]
        );
        let names = vec!["extra_col".to_owned(), "Legacy_Flag".to_owned()];
        assert_eq!(reportable_column_names(names), ["extra_col", "Legacy_Flag"]);
    }
}
