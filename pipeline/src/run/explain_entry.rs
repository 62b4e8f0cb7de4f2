//! `tellonce link-explain`: why one record is linked as it is, for an officer checking a link,
//! under the output lock and recorded in the audit log (who asked, under which case reference,
//! about which record by a hash of its reference).

use sha2::{Digest, Sha256};
use tellonce_build::link::explain::{self, Explanation, RecordName};
use tellonce_governance::KeyRing;
use tellonce_governance::audit::{AuditLog, Event};
use tellonce_output::layout::AUDIT;
use tellonce_output::lock::{Access, lock_output};
use tellonce_schemas::identifiers::dates;

use super::RunError;
use crate::config::Settings;
use crate::session::load_agreements;

/// A question about one record's linkage.
#[derive(Debug, Clone)]
pub struct ExplainRequest {
    /// The record.
    pub record: RecordName,
    /// The officer asking (recorded in the audit log).
    pub officer: String,
    /// The case reference (recorded in the audit log).
    pub reference: String,
    /// Most pairs shown of each kind (the record's person; other candidates).
    pub limit: usize,
}

/// Explains the record's linkage in the last build, and records that it was asked.
pub fn explain(settings: &Settings, request: &ExplainRequest) -> Result<Explanation, RunError> {
    for (flag, value) in [("--officer", &request.officer), ("--reference", &request.reference)] {
        if value.trim().is_empty() {
            return Err(RunError::Unattributed(flag));
        }
    }
    let keys = KeyRing::load(&settings.key_file)?;
    let out = &settings.output_dir;
    let _lock = lock_output(out, Access::Build)?;
    let mut log = AuditLog::open(&out.join(AUDIT), keys.audit_signer())?;
    let today = dates::today();
    let agreements = load_agreements(&settings.agreements_dir, today)?.into_set();
    let recorded = tellonce_build::link::model_file::read_model(out)?;
    let files = tellonce_build::link::staging_files(out, &agreements, today)?;
    let decided_apart = match &settings.linkage_decisions {
        Some(path) => tellonce_build::link::decisions::Decisions::load(path)?.apart_from(&request.record),
        None => Vec::new(),
    };
    let given = explain::Given { decided_apart, match_probability: settings.linkage.match_probability };
    let found = explain::explain(out, &files, &recorded, &request.record, &given, request.limit)?;
    log.append(&Event::LinkageExplained {
        officer: request.officer.clone(),
        reference: request.reference.clone(),
        feed: request.record.feed.clone(),
        record_sha256: hex::encode(Sha256::digest(request.record.record_ref.as_bytes())),
        pairs: found.pairs.len() as u64,
    })?;
    log.sync()?;
    Ok(found)
}
