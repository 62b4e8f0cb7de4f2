//! `tellonce sar` and `tellonce retention …`: data subjects' rights and retention.

use std::fmt::Write as _;
use std::io::Read as _;

use anyhow::Context as _;
use tellonce_governance::KeyRing;
use tellonce_governance::audit::AuditError;
use tellonce_schemas::identifiers::dates;

use super::args::{RetentionCommand, SarArgs};
use super::{ExitContext, Failure};
use crate::config::Settings;
use crate::exit::Exit;
use crate::subject::{self, Request};
use crate::{retention, subject::SubjectError};

/// `tellonce sar`.
pub(super) fn sar(a: &SarArgs) -> Result<Exit, Failure> {
    // Before anything is read: an unattributable lookup is refused (the library checks too).
    for (flag, value) in [("officer", &a.officer), ("reference", &a.reference)] {
        if value.trim().is_empty() {
            return Err(anyhow::Error::new(SubjectError::Unattributed(flag))).exit(Exit::Config);
        }
    }
    let settings = Settings::load(&a.config).exit(Exit::Config)?;
    let keys = KeyRing::load(&settings.key_file).exit(Exit::Config)?;
    let agreements = super::isa::load(&settings.agreements_dir, dates::today())?;
    let mut identifiers = String::new();
    // A few lines are expected; a bound keeps a wrong file from being read whole.
    const MAX_IDENTIFIERS_BYTES: u64 = 16 * 1024;
    if a.identifiers.as_os_str() == "-" {
        std::io::stdin()
            .take(MAX_IDENTIFIERS_BYTES)
            .read_to_string(&mut identifiers)
            .context("reading identifiers from standard input")
    } else {
        std::fs::File::open(&a.identifiers)
            .and_then(|f| f.take(MAX_IDENTIFIERS_BYTES).read_to_string(&mut identifiers))
            .with_context(|| format!("reading identifiers from {}", a.identifiers.display()))
    }
    .exit(Exit::Config)?;
    let request = Request { officer: a.officer.clone(), reference: a.reference.clone(), erase: a.erase };
    let found = subject::lookup(&settings.output_dir, &keys, &agreements, &identifiers, &request).map_err(|e| {
        let exit = match e {
            SubjectError::Input { .. }
            | SubjectError::Invalid { .. }
            | SubjectError::TooLittle
            | SubjectError::Unattributed(_) => Exit::Config,
            SubjectError::Contradiction { .. } => Exit::Refused,
            SubjectError::Audit(AuditError::Torn { .. }) => Exit::Torn,
            // An audit log that cannot be appended to (run `audit verify`), or an output file that
            // cannot be read, is an output error, as for every other command.
            SubjectError::Read { .. }
            | SubjectError::Audit(_)
            | SubjectError::Sink(_)
            | SubjectError::Busy(_)
            | SubjectError::Link(_) => Exit::Output,
            SubjectError::Tampered { .. } => Exit::Verify,
        };
        Failure { exit, error: anyhow::Error::new(e) }
    })?;
    // Identifiers typed for the lookup are dropped here; only pseudonymous facts are printed.
    drop(identifiers);
    if a.json {
        let text = serde_json::to_string_pretty(&found).context("serialising").exit(Exit::Internal)?;
        outln!("{text}");
        return Ok(Exit::Success);
    }
    let mut s = String::new();
    let _ = writeln!(
        s,
        "subject {} by {} ({}): {} record(s) held",
        a.reference,
        a.officer,
        if a.erase { "erasure" } else { "access" },
        found.holdings.len()
    );
    for h in &found.holdings {
        let _ = writeln!(
            s,
            "- {} record {} from {} line {} (matched on {}), in {}\n  under agreement {}; held since {}; delete by {}; erasure {}\n  fields held: {}",
            h.feed,
            h.record_id.as_deref().unwrap_or("(pseudonymised)"),
            h.source,
            h.position,
            h.matched_on,
            h.file,
            h.agreement,
            h.held_since,
            h.delete_by.as_deref().unwrap_or("no limit set"),
            if h.erasable { "allowed" } else { "not applicable under this agreement" },
            h.clauses.join("; ")
        );
    }
    if a.erase {
        let _ = writeln!(
            s,
            "erased {} record(s); kept {} (their agreement does not allow erasure)",
            found.erased, found.kept
        );
    }
    out!("{s}");
    Ok(Exit::Success)
}

/// `tellonce retention …`.
pub(super) fn command(c: RetentionCommand) -> Result<Exit, Failure> {
    let RetentionCommand::Apply { config, dry_run, as_of } = c;
    let settings = Settings::load(&config).exit(Exit::Config)?;
    let keys = KeyRing::load(&settings.key_file).exit(Exit::Config)?;
    let on = as_of.unwrap_or_else(dates::today);
    let (plan, applied) = retention::apply(&settings.output_dir, &keys, on, dry_run).map_err(|e| {
        let exit = match e {
            retention::RetentionError::Tampered { .. } => Exit::Verify,
            retention::RetentionError::Audit(AuditError::Torn { .. }) => Exit::Torn,
            retention::RetentionError::Audit(_) => Exit::Output,
            _ => Exit::Output,
        };
        Failure { exit, error: anyhow::Error::new(e) }
    })?;
    let done = &applied.deleted;
    let verb = if dry_run { "would delete" } else { "deleted" };
    for f in done {
        outln!(
            "{verb} {} ({} rows, agreement {}, due {})",
            f.path,
            f.rows,
            f.agreement.as_deref().unwrap_or("-"),
            f.retention_until.map(dates::format).unwrap_or_default()
        );
    }
    outln!(
        "retention as of {}: {verb} {} file(s); {} file(s) held and not yet due",
        plan.as_of,
        done.len(),
        plan.kept.len()
    );
    if applied.index_records_dropped > 0 {
        outln!(
            "dropped {} record reference(s) of the deleted staging files from the linkage identity index",
            applied.index_records_dropped
        );
    }
    Ok(Exit::Success)
}
