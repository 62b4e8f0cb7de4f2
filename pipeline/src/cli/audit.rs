//! `tellonce audit …`: verify the log against itself and the outputs, and report it.

use anyhow::Context as _;
use tellonce_governance::KeyRing;
use tellonce_governance::audit;
use tellonce_schemas::identifiers::dates;

use super::args::AuditCommand;
use super::{ExitContext, Failure};
use crate::config::Settings;
use crate::exit::Exit;
use crate::run::AUDIT;

/// Runs an `audit` subcommand.
pub(super) fn command(c: AuditCommand) -> Result<Exit, Failure> {
    match c {
        AuditCommand::Verify { config } => {
            let settings = Settings::load(&config).exit(Exit::Config)?;
            let keys = KeyRing::load(&settings.key_file).exit(Exit::Config)?;
            let dir = settings.output_dir.join(AUDIT);
            match audit::verify(&dir, &keys.audit_signer(), Some(&settings.output_dir)) {
                Ok(report) => {
                    outln!(
                        "audit log {} verifies: {} entries, chain and HMACs intact, {} output file(s) match \
                         their recorded SHA-256",
                        dir.display(),
                        report.entries,
                        report.files_checked
                    );
                    // A log and head both rolled back to an earlier authentic copy verify too:
                    // recording the head elsewhere (a ticket, an email) is what exposes that.
                    outln!(
                        "head: entry {} with hash {}; record it outside this machine to detect a rollback",
                        report.head_seq,
                        report.head_hash
                    );
                    Ok(Exit::Success)
                }
                Err(audit::VerifyFailure::LogMissing { .. })
                    if !settings.output_dir.join(crate::run::STAGING).exists()
                        && !settings.output_dir.join("quarantine").exists() =>
                {
                    outln!("no audit log in {} and no output yet: nothing to verify", dir.display());
                    Ok(Exit::Success)
                }
                Err(failure) => {
                    outln!("audit log {} does NOT verify: {failure}", dir.display());
                    Ok(Exit::Verify)
                }
            }
        }
        AuditCommand::Report { config, out } => {
            let settings = Settings::load(&config).exit(Exit::Config)?;
            let keys = KeyRing::load(&settings.key_file).exit(Exit::Config)?;
            let dir = settings.output_dir.join(AUDIT);
            let verification = audit::verify(&dir, &keys.audit_signer(), Some(&settings.output_dir));
            let (entries, _) = audit::read_entries_lossy(&dir)
                .with_context(|| format!("reading the audit log in {}", dir.display()))
                .exit(Exit::Config)?;
            let html = audit::render_html(&entries, &verification, dates::today());
            tellonce_connectors::atomic::write_atomic(&out, html.as_bytes())
                .with_context(|| format!("writing {}", out.display()))
                .exit(Exit::Output)?;
            let status = if verification.is_ok() { "verified" } else { "DOES NOT VERIFY" };
            outln!("wrote {} ({} entries; log {status})", out.display(), entries.len());
            Ok(if verification.is_ok() { Exit::Success } else { Exit::Verify })
        }
    }
}
