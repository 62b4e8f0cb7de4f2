//! `tellonce audit …`: verify the log against itself and the outputs, and report it.

use anyhow::Context as _;
use tellonce_governance::KeyRing;
use tellonce_governance::audit;
use tellonce_schemas::identifiers::dates;

use super::args::AuditCommand;
use super::{ExitContext, Failure, run_failure};
use crate::config::Settings;
use crate::exit::Exit;
use crate::run::{AUDIT, Access, lock_output};

/// Runs an `audit` subcommand.
pub(super) fn command(c: AuditCommand) -> Result<Exit, Failure> {
    match c {
        AuditCommand::Verify { config } => {
            let settings = Settings::load(&config).exit(Exit::Config)?;
            let keys = KeyRing::load(&settings.key_file).exit(Exit::Config)?;
            let dir = settings.output_dir.join(AUDIT);
            match audit::verify(&dir, &keys.audit_signer(), Some(&settings.output_dir)) {
                Ok(report) => {
                    println!(
                        "audit log {} verifies: {} entries, chain and HMACs intact, {} output file(s) match \
                         their recorded SHA-256",
                        dir.display(),
                        report.entries,
                        report.files_checked
                    );
                    // A log and head both rolled back to an earlier authentic copy verify too:
                    // recording the head elsewhere (a ticket, an email) is what exposes that.
                    println!(
                        "head: entry {} with hash {}; record it outside this machine to detect a rollback",
                        report.head_seq, report.head_hash
                    );
                    Ok(Exit::Success)
                }
                Err(audit::VerifyFailure::LogMissing { .. })
                    if !settings.output_dir.join(crate::run::STAGING).exists()
                        && !settings.output_dir.join("quarantine").exists() =>
                {
                    println!("no audit log in {} and no output yet: nothing to verify", dir.display());
                    Ok(Exit::Success)
                }
                Err(failure @ audit::VerifyFailure::Torn { .. }) => {
                    // A write cut short, not tampering: its own message and exit code.
                    println!("audit log {} is TORN: {failure}", dir.display());
                    Ok(Exit::Torn)
                }
                Err(failure) => {
                    println!("audit log {} does NOT verify: {failure}", dir.display());
                    Ok(Exit::Verify)
                }
            }
        }
        AuditCommand::Repair { config } => repair(&config),
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
            println!("wrote {} ({} entries; log {status})", out.display(), entries.len());
            Ok(match &verification {
                Ok(_) => Exit::Success,
                Err(audit::VerifyFailure::Torn { .. }) => Exit::Torn,
                Err(_) => Exit::Verify,
            })
        }
    }
}

/// `tellonce audit repair`: cuts a torn final entry off the log, holding the output to itself
/// (as a file run does), so that no session appends while the log is cut.
fn repair(config: &std::path::Path) -> Result<Exit, Failure> {
    let settings = Settings::load(config).exit(Exit::Config)?;
    let keys = KeyRing::load(&settings.key_file).exit(Exit::Config)?;
    let out = &settings.output_dir;
    let dir = out.join(AUDIT);
    let _lock = lock_output(out, Access::Exclusive).map_err(run_failure)?;
    match audit::repair(&dir, keys.audit_signer()) {
        Ok(Some(r)) => {
            println!(
                "audit log {} repaired: cut {} bytes from byte {} (line {}, {}), a write cut short; recorded as \
                 entry {} (audit_repaired, SHA-256 of the bytes cut {})",
                dir.display(),
                r.torn.bytes,
                r.torn.offset,
                r.torn.line,
                r.torn.kind,
                r.seq,
                r.sha256
            );
            Ok(Exit::Success)
        }
        Ok(None) => {
            println!("audit log {} does not end in a torn entry: nothing to repair", dir.display());
            Ok(Exit::Success)
        }
        Err(e @ audit::RepairError::NotTorn(_)) => {
            println!("audit log {}: {e}; run `tellonce audit verify`", dir.display());
            Ok(Exit::Verify)
        }
        Err(audit::RepairError::Audit(e)) => {
            Err(e).with_context(|| format!("repairing the audit log in {}", dir.display())).exit(Exit::Output)
        }
    }
}
