//! Fixtures shared by the audit tests.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use super::entry::Event;
use super::head::LOG_FILE;
use super::writer::AuditLog;
use crate::{AuditSigner, KeyRing};

/// The audit signer of a fixed test master key.
pub(crate) fn signer() -> AuditSigner {
    KeyRing::from_master([42u8; 32]).audit_signer()
}

/// One event of each type.
pub(crate) fn sample_events() -> Vec<Event> {
    vec![
        Event::RunStarted {
            run: "r1".into(),
            command: "run".into(),
            version: "0.1.0".into(),
            as_of: "2026-11-23".into(),
            key_id: "k1".into(),
        },
        Event::AgreementLoaded {
            id: "ISA-POL".into(),
            version: 2,
            file: "agreements/police.toml".into(),
            sha256: "ab".repeat(32),
            feeds: vec!["police".into()],
            start: "2025-01-01".into(),
            review: "2026-12-01".into(),
            end: "2027-12-31".into(),
            standing: "in_force".into(),
        },
        Event::KeysUsed { key_id: "k1".into(), purposes: vec!["linkage".into(), "audit".into()] },
        Event::InputHeld {
            feed: "housing".into(),
            input: "in/housing.csv".into(),
            sha256: "cd".repeat(32),
            reason: "no agreement in force".into(),
        },
        Event::BatchDecided {
            feed: "police".into(),
            agreement: "ISA-POL@2".into(),
            input: "in/police.csv".into(),
            first_position: 2,
            last_position: 101,
            received: 100,
            passed: 97,
            quarantined: 3,
            reasons: BTreeMap::from([("nhs.checksum".to_string(), 2), ("date.format".to_string(), 1)]),
            fields_dropped: vec!["officer_notes".into()],
            nulled: BTreeMap::new(),
        },
        Event::FileWritten {
            dataset: "staging".into(),
            path: "staging/feed=police/part-0001.parquet".into(),
            sha256: "ef".repeat(32),
            rows: 97,
            bytes: 4096,
            feed: Some("police".into()),
            agreement: Some("ISA-POL@2".into()),
            retention_until: Some("2033-11-23".into()),
        },
        Event::FileDeleted {
            path: "staging/feed=police/part-0000.parquet".into(),
            sha256: "01".repeat(32),
            reason: "retention".into(),
            agreement: None,
        },
        Event::SubjectLookup {
            officer: "j.smith".into(),
            reference: "SAR-2026-001".into(),
            kind: "access".into(),
            records_found: 4,
            records_erased: 0,
        },
        Event::RunFinished {
            run: "r1".into(),
            status: "ok".into(),
            received: 100,
            written: 97,
            quarantined: 3,
            held: 1,
        },
    ]
}

/// Writes a synced log of `n` entries cycling through [`sample_events`].
pub(crate) fn write_sample_log(dir: &Path, n: usize) {
    let events = sample_events();
    let mut log = AuditLog::open(dir, signer()).unwrap();
    for i in 0..n {
        log.append(&events[i % events.len()]).unwrap();
    }
    log.sync().unwrap();
}

/// The lines of `audit.jsonl` (without newlines).
pub(crate) fn lines_of(dir: &Path) -> Vec<String> {
    fs::read_to_string(dir.join(LOG_FILE)).unwrap().lines().map(str::to_string).collect()
}

/// Replaces `audit.jsonl` with `lines`, each ending in a newline.
pub(crate) fn write_lines(dir: &Path, lines: &[String]) {
    let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
    fs::write(dir.join(LOG_FILE), text).unwrap();
}

/// Appends `bytes` to `audit.jsonl` by hand, as another (perhaps faulty) writer would.
pub(crate) fn append_raw(dir: &Path, bytes: &[u8]) {
    use std::io::Write;
    let mut file = fs::OpenOptions::new().append(true).open(dir.join(LOG_FILE)).unwrap();
    file.write_all(bytes).unwrap();
}
