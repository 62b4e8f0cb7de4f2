//! What a run reports: per input (its status, counts, files) and for the whole run.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;
use tellonce_connectors::manifest::InputRecord;
use tellonce_connectors::parquet_sink::CommittedFile;

use crate::config::Source;

/// What became of one input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum InputStatus {
    /// Read, and every record written or quarantined.
    Processed,
    /// The same content was processed before (or earlier in this run).
    Skipped,
    /// The file could not be processed at all (see `error`): unreadable, empty, wrong header.
    Rejected,
    /// No agreement in force governs its feed: left untouched, to be processed once one is.
    Held,
    /// The run stopped on an output or internal error while processing it.
    Failed,
}

impl InputStatus {
    /// The status as written in summaries and manifests.
    pub fn as_str(self) -> &'static str {
        match self {
            InputStatus::Processed => "processed",
            InputStatus::Skipped => "skipped",
            InputStatus::Rejected => "rejected",
            InputStatus::Held => "held",
            InputStatus::Failed => "failed",
        }
    }
}

/// What became of one input.
#[derive(Debug, Clone, Serialize)]
pub struct InputReport {
    /// The feed.
    pub feed: &'static str,
    /// The file, as configured.
    pub source: String,
    /// SHA-256 of its content (empty if it could not be read).
    pub sha256: String,
    /// What became of it.
    pub status: InputStatus,
    /// Why a rejected input was rejected or a held one held (names the file, line and rule, or
    /// the agreement; never a value).
    pub error: Option<String>,
    /// The rule a rejected input broke, as a stable code (`file.empty`, `header.missing_columns`,
    /// `agreement.expired`…).
    pub error_rule: Option<&'static str>,
    /// The agreement (`id@version`) it was processed under.
    pub agreement: Option<String>,
    /// Fields of the feed the agreement drops.
    pub fields_dropped: Vec<&'static str>,
    /// Records read (rows after the header, including those rejected at parse).
    pub read: u64,
    /// Records written to staging.
    pub written: u64,
    /// Records quarantined.
    pub quarantined: u64,
    /// Quarantined records by rule code.
    pub quarantined_by_rule: BTreeMap<String, u64>,
    /// Fields nulled in the records written (their record kept, with `_dq` naming them): not
    /// records, so not part of `read = written + quarantined`.
    pub nulled: u64,
    /// Fields nulled by `column:rule` (`nhs_number:nhs_number.check_digit`).
    pub nulled_by_rule: BTreeMap<String, u64>,
    /// Columns in the file that the schema does not have: dropped, never passed on.
    pub unknown_columns: Vec<String>,
    /// Feed columns whose heading the mapping names but the file lacks: empty in every record
    /// (the partner dropped or renamed the column).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub columns_absent: Vec<tellonce_connectors::file_source::AbsentColumn>,
    /// A workbook read with no sheet named: its other sheets shown, which were not read.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sheets_unread: Vec<String>,
    /// How the file was read, when through a source mapping or a declared dialect (absent for
    /// a canonical file).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub read_as: Option<ReadAs>,
    /// Staging files written.
    pub files: Vec<CommittedFile>,
    /// The quarantine file written, if any row was rejected.
    pub quarantine_file: Option<String>,
    /// Its records against those of its feed already held (absent for an input not processed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub versions: Option<Versions>,
}

/// An input's records against those of its feed already held, by `(feed, record_id)`.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Versions {
    /// New, changed, unchanged (not staged again) and refused (tombstoned) records.
    #[serde(flatten)]
    pub counts: crate::records::compare::Counts,
    /// Versions moved from staging to the history dataset (superseded or withdrawn).
    pub superseded: u64,
    /// A snapshot that withdrew nothing because it quarantined a record whose reference could
    /// not be read (it might be a record it would otherwise withdraw).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub withdrawal_held_back: bool,
    /// The input is a withdrawals file: the records it read are the references it listed, each
    /// withdrawn, refused (tombstoned before) or unchanged (listed twice).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub withdrawals_file: bool,
}

impl InputReport {
    pub(crate) fn new(source: &Source) -> Self {
        InputReport {
            feed: source.feed.name,
            source: source.path.display().to_string(),
            sha256: String::new(),
            status: InputStatus::Processed,
            error: None,
            error_rule: None,
            agreement: None,
            fields_dropped: Vec::new(),
            read: 0,
            written: 0,
            quarantined: 0,
            quarantined_by_rule: BTreeMap::new(),
            nulled: 0,
            nulled_by_rule: BTreeMap::new(),
            unknown_columns: Vec::new(),
            columns_absent: Vec::new(),
            sheets_unread: Vec::new(),
            read_as: None,
            files: Vec::new(),
            quarantine_file: None,
            versions: None,
        }
    }
}

/// How a file was read through its mapping or declared dialect.
#[derive(Debug, Clone, Serialize)]
pub struct ReadAs {
    /// The source mapping, if any.
    pub mapping: Option<String>,
    /// SHA-256 of the source mapping as read (hex), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mapping_sha256: Option<String>,
    /// The encoding (after detection, if declared `auto`); none for a workbook.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encoding: Option<&'static str>,
    /// The CSV delimiter (after detection), if a CSV file.
    pub delimiter: Option<String>,
    /// The workbook sheet, if one was named.
    pub sheet: Option<String>,
}

/// What a run did.
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    /// The run's id (also the manifest's name).
    pub run_id: String,
    /// The key id the tokens were made under.
    pub key_id: String,
    /// The manifest written.
    pub manifest: String,
    /// The processing date agreements were judged on, `YYYY-MM-DD`.
    pub as_of: String,
    /// Problems found in the agreement files (agreements with an error were not loaded).
    pub agreement_problems: Vec<String>,
    /// Each input, in configured order.
    pub inputs: Vec<InputReport>,
    /// The linkage build that followed, if linkage is enabled and every input could be read.
    pub linkage: Option<tellonce_build::link::BuildReport>,
}

impl RunReport {
    /// Whether any input was rejected whole or held for want of an agreement.
    pub fn has_rejected_inputs(&self) -> bool {
        self.inputs.iter().any(|i| matches!(i.status, InputStatus::Rejected | InputStatus::Held))
    }
}

pub(crate) fn input_record(r: &InputReport) -> InputRecord {
    InputRecord {
        feed: r.feed.to_owned(),
        source: r.source.clone(),
        sha256: r.sha256.clone(),
        status: r.status.as_str().to_owned(),
        rows_read: r.read,
        rows_written: r.written,
        rows_quarantined: r.quarantined,
        mapping: r.read_as.as_ref().and_then(|a| a.mapping.clone()),
        mapping_sha256: r.read_as.as_ref().and_then(|a| a.mapping_sha256.clone()),
    }
}

/// Copies an input's counts into its report.
pub(crate) fn record_counts(
    report: &mut InputReport,
    read: u64,
    written: u64,
    quarantined: u64,
    by_rule: HashMap<&'static str, u64>,
) {
    report.read = read;
    report.written = written;
    report.quarantined = quarantined;
    report.quarantined_by_rule = by_rule.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
}
