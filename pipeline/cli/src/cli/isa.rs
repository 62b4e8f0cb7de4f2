//! `tellonce isa …`: lint, explain, diff and the example agreements.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use tellonce_governance::agreement::{self, AgreementSet};
use tellonce_schemas::identifiers::dates;

use super::args::{AgreementsAt, IsaCommand};
use super::{ExitContext, Failure};
use crate::config::Settings;
use crate::examples;
use crate::exit::Exit;

/// Runs an `isa` subcommand.
pub(super) fn command(c: IsaCommand) -> Result<Exit, Failure> {
    match c {
        IsaCommand::Lint { dir, as_of, feeds } => {
            if let Some(feeds) = feeds {
                super::feeds::install_dir(&feeds)?;
            }
            lint(&dir, as_of.unwrap_or_else(dates::today))
        }
        IsaCommand::Explain { at, feed, field, as_of } => {
            let dir = agreements_dir(&at)?;
            let on = as_of.unwrap_or_else(dates::today);
            let set = load(&dir, on)?;
            let text = agreement::explain(&set, &feed, field.as_deref(), on).exit(Exit::Config)?;
            out!("{text}");
            Ok(Exit::Success)
        }
        IsaCommand::Diff { old, new } => {
            let diff = agreement::diff_paths(&old, &new).exit(Exit::Config)?;
            out!("{diff}");
            Ok(Exit::Success)
        }
        IsaCommand::Examples { dir } => {
            let written = examples::write_agreements(&dir)
                .with_context(|| format!("writing example agreements into {}", dir.display()))
                .exit(Exit::Output)?;
            for p in &written {
                outln!("wrote {}", p.display());
            }
            outln!("{} example agreement(s); review every clause before anyone signs them", written.len());
            Ok(Exit::Success)
        }
    }
}

/// Prints every problem at once; exit 2 if any is an error.
fn lint(dir: &Path, as_of: i32) -> Result<Exit, Failure> {
    let loaded = agreement::load_dir(dir, as_of).exit(Exit::Config)?;
    for p in &loaded.problems {
        outln!("{p}");
    }
    let errors = loaded.problems.iter().filter(|p| p.is_error()).count();
    let warnings = loaded.problems.len() - errors;
    let broken: std::collections::BTreeSet<&Path> =
        loaded.problems.iter().filter(|p| p.is_error()).map(|p| p.path.as_path()).collect();
    outln!(
        "{} agreement file(s) checked in {}: {} loaded, {} with errors; {errors} error(s), {warnings} warning(s)",
        loaded.agreements.len() + broken.len(),
        dir.display(),
        loaded.agreements.len(),
        broken.len()
    );
    Ok(if errors > 0 { Exit::Config } else { Exit::Success })
}

/// The agreements directory named on the command line, or by a configuration.
fn agreements_dir(at: &AgreementsAt) -> Result<PathBuf, Failure> {
    match (&at.agreements, &at.config) {
        (Some(dir), _) => Ok(dir.clone()),
        (None, Some(config)) => Ok(Settings::load(config).exit(Exit::Config)?.agreements_dir),
        (None, None) => Err(anyhow::anyhow!("give --agreements DIR or --config FILE")).exit(Exit::Config),
    }
}

/// Loads the agreements without errors, warning about the rest.
pub(super) fn load(dir: &Path, as_of: i32) -> Result<AgreementSet, Failure> {
    let loaded = agreement::load_dir(dir, as_of).exit(Exit::Config)?;
    for p in loaded.problems.iter().filter(|p| p.is_error()) {
        tracing::warn!("{p} (this agreement is not loaded)");
    }
    Ok(loaded.into_set())
}
