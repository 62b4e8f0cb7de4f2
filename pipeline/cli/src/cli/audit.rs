//! `tellonce audit …`: verify the log against itself and the outputs (and set aside files it does
//! not record), cut off a torn final entry, and report it.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Context as _;
use tellonce_governance::KeyRing;
use tellonce_governance::audit;
use tellonce_schemas::identifiers::dates;

use super::args::AuditCommand;
use super::{ExitContext, Failure, run_failure};
use crate::config::Settings;
use crate::exit::Exit;
use crate::strays;
use tellonce_governance::audit::holdings::held_files;
use tellonce_output::layout::AUDIT;
use tellonce_output::lock::{Access, lock_output};

/// Runs an `audit` subcommand.
pub(super) fn command(c: AuditCommand) -> Result<Exit, Failure> {
    match c {
        AuditCommand::Verify { config, prune } => verify(&config, prune),
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
            let status = match &verification {
                Ok(_) => "verified",
                Err(audit::VerifyFailure::Torn { .. }) => {
                    "ends in a TORN entry (a write cut short, not tampering): run `tellonce audit repair`"
                }
                Err(_) => "DOES NOT VERIFY",
            };
            outln!("wrote {} ({} entries; log {status})", out.display(), entries.len());
            Ok(match &verification {
                Ok(_) => Exit::Success,
                Err(audit::VerifyFailure::Torn { .. }) => Exit::Torn,
                Err(_) => Exit::Verify,
            })
        }
    }
}

/// `tellonce audit verify [--prune]`: the log, every file it records, and every file under the
/// output it does not record.
fn verify(config: &Path, prune: bool) -> Result<Exit, Failure> {
    let settings = Settings::load(config).exit(Exit::Config)?;
    let keys = KeyRing::load(&settings.key_file).exit(Exit::Config)?;
    let out = &settings.output_dir;
    let dir = out.join(AUDIT);
    // Pruning moves files and appends to the log: it holds the output to itself, so that no
    // file a live session has published but not yet recorded is taken for a stray.
    let _lock =
        if prune { Some(lock_output(out, Access::Exclusive).map_err(|e| run_failure(e.into()))?) } else { None };
    // An erasure interrupted between its audit entry and publishing its file leaves the file
    // differing from its record: with the output held, it is completed (or undone) first.
    // A move to history interrupted before its record leaves its part unrecorded: it is removed
    // there, its entry appended with the others pruned below.
    let settled = if prune { strays::settle_erasures(out).exit(Exit::Output)? } else { Default::default() };
    if settled.sides > 0 {
        outln!("completed (or undid) an erasure an interrupted `sar --erase` left unpublished");
    }
    // Listed before the log is read, so that a file a live session publishes and records in the
    // meantime is either not listed or already recorded (a build records its files together at
    // its end, so one running now may still have files listed and not yet recorded).
    let listed = strays::find(out, &BTreeMap::new()).exit(Exit::Output)?;
    let report = match audit::verify(&dir, &keys.audit_signer(), Some(out)) {
        Ok(report) => report,
        Err(audit::VerifyFailure::LogMissing { .. })
            if !out.join(tellonce_output::layout::STAGING).exists()
                && !out.join(tellonce_output::layout::QUARANTINE).exists() =>
        {
            outln!("no audit log in {} and no output yet: nothing to verify", dir.display());
            return Ok(Exit::Success);
        }
        Err(failure @ audit::VerifyFailure::Torn { .. }) => {
            // A write cut short, not tampering: its own message and exit code.
            outln!("audit log {} is TORN: {failure}", dir.display());
            return Ok(Exit::Torn);
        }
        Err(failure) => {
            outln!("audit log {} does NOT verify: {failure}", dir.display());
            if strays::pending_erasures(out) {
                outln!(
                    "an interrupted `sar --erase` left an erasure unpublished (a `.…erasure` file): `tellonce audit \
                     verify --prune`, or the next run, sar or retention, completes or undoes it"
                );
            }
            return Ok(Exit::Verify);
        }
    };
    let entries = audit::read_entries(&dir).with_context(|| format!("reading {}", dir.display())).exit(Exit::Verify)?;
    let held = held_files(&entries);
    let unrecorded: Vec<strays::Found> = listed.unrecorded.into_iter().filter(|f| !held.contains_key(&f.rel)).collect();
    outln!(
        "audit log {} verifies: {} entries, chain and HMACs intact, {} output file(s) match their recorded SHA-256",
        dir.display(),
        report.entries,
        report.files_checked
    );
    // A log and head both rolled back to an earlier authentic copy verify too: recording the
    // head elsewhere (a ticket, an email) is what exposes that.
    outln!(
        "head: entry {} with hash {}; record it outside this machine to detect a rollback",
        report.head_seq,
        report.head_hash
    );
    if prune {
        return prune_strays(out, &keys, &unrecorded, &settled.pruned);
    }
    for temp in &listed.temp {
        outln!(
            "temporary file {}: never part of a dataset; a session is writing it, or was interrupted (the next \
             command that writes to this output removes it once no session can be writing it, and \
             `audit verify --prune` now)",
            temp.rel
        );
    }
    if unrecorded.is_empty() {
        return Ok(Exit::Success);
    }
    for file in &unrecorded {
        outln!("NOT RECORDED: {} is under the output but the audit log does not record it", file.rel);
    }
    outln!(
        "{} file(s) under the output are not recorded in the audit log: tellonce did not write them (copied in, or \
         left by an interrupted session), and readers of the datasets would count them; run `tellonce audit verify \
         --prune` to move them to {}/<time>/ with an audit entry each",
        unrecorded.len(),
        out.join(strays::UNRECORDED).display()
    );
    Ok(Exit::Verify)
}

/// `audit verify --prune`, once the log verifies: clears orphaned temporary files and moves the
/// unrecorded files aside, each with its audit entry, durable before the next is moved.
fn prune_strays(
    out: &Path,
    keys: &KeyRing,
    unrecorded: &[strays::Found],
    pruned: &[audit::Event],
) -> Result<Exit, Failure> {
    let dir = out.join(AUDIT);
    let mut log = audit::AuditLog::open(&dir, keys.audit_signer()).exit(Exit::Output)?;
    for event in pruned {
        log.append(event).exit(Exit::Output)?;
    }
    let cleared = strays::clear_orphaned_temp_files(out, Access::Exclusive).exit(Exit::Output)?;
    for event in &cleared {
        log.append(event).exit(Exit::Output)?;
    }
    log.sync().exit(Exit::Output)?;
    let stamp = tellonce_output::timefmt::now_compact();
    for file in unrecorded {
        let event = strays::prune(out, file, &stamp).exit(Exit::Output)?;
        log.append(&event).exit(Exit::Output)?;
        log.sync().exit(Exit::Output)?;
        outln!("moved {} to {}/{stamp}/{} (not recorded in the audit log)", file.rel, strays::UNRECORDED, file.rel);
    }
    outln!(
        "pruned: {} unrecorded file(s) moved aside, {} orphaned temporary file(s) removed, each recorded in the audit log",
        unrecorded.len(),
        cleared.len()
    );
    Ok(Exit::Success)
}

/// `tellonce audit repair`: cuts a torn final entry off the log, holding the output to itself
/// (as a file run does), so that no session appends while the log is cut.
fn repair(config: &Path) -> Result<Exit, Failure> {
    let settings = Settings::load(config).exit(Exit::Config)?;
    let keys = KeyRing::load(&settings.key_file).exit(Exit::Config)?;
    let out = &settings.output_dir;
    let dir = out.join(AUDIT);
    let _lock = lock_output(out, Access::Exclusive).map_err(|e| run_failure(e.into()))?;
    match audit::repair(&dir, keys.audit_signer()) {
        Ok(Some(r)) => {
            outln!(
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
            outln!("audit log {} does not end in a torn entry: nothing to repair", dir.display());
            Ok(Exit::Success)
        }
        Err(e @ audit::RepairError::NotTorn(_)) => {
            outln!("audit log {}: {e}; run `tellonce audit verify`", dir.display());
            Ok(Exit::Verify)
        }
        Err(audit::RepairError::Audit(e)) => {
            Err(e).with_context(|| format!("repairing the audit log in {}", dir.display())).exit(Exit::Output)
        }
    }
}
