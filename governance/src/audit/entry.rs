//! Audit entries: the [`Event`] vocabulary, the [`Entry`] read back from the
//! log, and the exact byte encoding of one line.
//!
//! A line is
//!
//! ```text
//! {"seq":1,"at":"2026-11-23T09:41:07Z","prev":"<64 hex>","event":{"type":"...",...},"mac":"<64 hex>"}
//! ```
//!
//! The MAC covers the bytes of the line up to, not including, `,"mac":`.
//! Readers and the verifier work on the raw bytes and never re-serialise.

use std::collections::BTreeMap;

use ring::digest;
use serde::{Deserialize, Serialize};
use tellonce_schemas::identifiers::dates;

use crate::AuditSigner;

/// The `prev` of the first entry: 32 zero bytes (64 `0` characters in hex).
pub(crate) const ZERO_HASH: [u8; 32] = [0; 32];

/// What ends every line: `,"mac":"` + 64 lowercase hex digits + `"}`.
const MAC_PREFIX: &[u8] = b",\"mac\":\"";
const MAC_SUFFIX_LEN: usize = MAC_PREFIX.len() + 64 + 2;

/// About how many bytes a line takes besides its event's JSON (fields, hashes,
/// MAC, newline), for sizing buffers.
pub(crate) const LINE_OVERHEAD: usize = 200;

/// One thing that happened, as recorded in the audit log.
///
/// Serialised with an internal `type` tag in `snake_case`
/// (`{"type":"batch_decided","feed":"police",...}`); fields keep their
/// declared order. Counts are `u64`; dates are `YYYY-MM-DD` strings.
///
/// Events never carry identifiers of people: only feed, file, agreement and
/// officer names, counts, hashes and rule codes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// A pipeline command started.
    RunStarted {
        /// The run's identifier.
        run: String,
        /// The command (`run`, `ingest`, `retention`, ...).
        command: String,
        /// The tellonce version.
        version: String,
        /// The date the run judged agreements against (`YYYY-MM-DD`).
        as_of: String,
        /// The public fingerprint of the master key in use.
        key_id: String,
    },
    /// An Information Sharing Agreement was loaded for this run.
    AgreementLoaded {
        /// The agreement's id.
        id: String,
        /// The agreement's version.
        version: u32,
        /// The agreement file, relative to the configuration directory.
        file: String,
        /// SHA-256 of the agreement file (hex).
        sha256: String,
        /// The feeds the agreement governs.
        feeds: Vec<String>,
        /// Start date (`YYYY-MM-DD`).
        start: String,
        /// Review date (`YYYY-MM-DD`).
        review: String,
        /// End date (`YYYY-MM-DD`).
        end: String,
        /// Standing at the run's `as_of`: `in_force`, `review_overdue`,
        /// `expired`, `not_yet_in_force` or `not_governing`.
        standing: String,
    },
    /// Keys used by the run, by purpose.
    KeysUsed {
        /// The public key fingerprint.
        key_id: String,
        /// The purposes (`linkage`, `release:<label>`, `quarantine`, `audit`).
        purposes: Vec<String>,
    },
    /// An input was left untouched until something changes: no agreement was in force for its
    /// feed, or, as a snapshot, it would withdraw more of the records held than its source
    /// allows unconfirmed.
    InputHeld {
        /// The feed.
        feed: String,
        /// The input (file path or topic/partition range).
        input: String,
        /// SHA-256 of the input, when it is a file (hex).
        sha256: String,
        /// Why it was held.
        reason: String,
    },
    /// An input could not be processed at all (unreadable, empty, malformed header, changed while
    /// read) and was left untouched; nothing of it was written.
    InputRejected {
        /// The feed.
        feed: String,
        /// The input (file path).
        input: String,
        /// SHA-256 of the input, when it could be read (hex).
        sha256: String,
        /// Why, starting with `rejected:` and ending with the rule code in brackets.
        reason: String,
    },
    /// A batch of records was judged under an agreement.
    BatchDecided {
        /// The feed.
        feed: String,
        /// The agreement it was judged under, as `ID@version`.
        agreement: String,
        /// The input the batch came from.
        input: String,
        /// Position (line or offset) of the batch's first record.
        first_position: u64,
        /// Position (line or offset) of the batch's last record.
        last_position: u64,
        /// Records received.
        received: u64,
        /// Records that passed to staging.
        passed: u64,
        /// Records quarantined.
        quarantined: u64,
        /// Quarantine counts by rule code.
        reasons: BTreeMap<String, u64>,
        /// Fields the agreement withheld (dropped) from this feed.
        fields_dropped: Vec<String>,
        /// Fields nulled in the records that passed (an invalid or placeholder identifier, say),
        /// by `column:rule`. Absent when none was, as in entries written before it existed.
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        nulled: BTreeMap<String, u64>,
    },
    /// An input's records were compared with the records of its feed already held: by
    /// `(feed, record_id)`, a record is new, a changed version of one held (the held version
    /// moves to the history dataset), unchanged (not staged again), or refused (withdrawn or
    /// erased before: a tombstone stands for it).
    RecordsCompared {
        /// The feed.
        feed: String,
        /// The input.
        input: String,
        /// SHA-256 of the input (hex): inputs are ordered by when they were first compared, so
        /// that one run again never overwrites what a later one sent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        sha256: Option<String>,
        /// The input's id, as its rows' `_input` and its staging files' names give it (absent
        /// in entries written before rows carried it).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        input_id: Option<String>,
        /// When the input began to be read (UTC, RFC 3339): when its records arrived, and the
        /// `_superseded_at` of the versions it superseded (absent in entries written before).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        started_at: Option<String>,
        /// Records not held before.
        new: u64,
        /// Records held before with other content: staged as their new version.
        changed: u64,
        /// Records held before with the same content: not staged again.
        unchanged: u64,
        /// Records refused because a tombstone stands for them.
        refused: u64,
        /// Records withdrawn: held and absent from a snapshot, or listed in a withdrawals file.
        #[serde(default)]
        withdrawn: u64,
        /// Of those withdrawn, the ones the input itself listed (a withdrawals file's
        /// references, an extract's rows marked withdrawn): read, and not staged.
        #[serde(default)]
        listed: u64,
        /// Records not staged because the version held arrived in a later input.
        #[serde(default)]
        older: u64,
        /// Earlier versions moved out of staging into the history dataset.
        superseded: u64,
        /// Of the records counted, those matched to the record held under the same digits with
        /// other leading zeros (`123` for `000123`, as a spreadsheet re-saves a reference), and
        /// staged or refused under the reference held.
        #[serde(default, skip_serializing_if = "is_zero")]
        zeros_matched: u64,
    },
    /// An input was read through a source mapping: which mapping, by content, so that the
    /// translation applied to a partner's file can be reviewed later.
    MappingApplied {
        /// The feed.
        feed: String,
        /// The input (file path).
        input: String,
        /// SHA-256 of the input (hex).
        sha256: String,
        /// The mapping file, as configured.
        mapping: String,
        /// SHA-256 of the mapping file as read (hex).
        mapping_sha256: String,
        /// Feed columns whose heading the mapping names but the input lacks, empty in every
        /// record. Absent when none was, as in entries written before it existed.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        columns_absent: Vec<String>,
    },
    /// An output file was durably written.
    FileWritten {
        /// The dataset (`staging`, `quarantine`, `manifest`, ...).
        dataset: String,
        /// Path relative to the output root, with `/` separators.
        path: String,
        /// SHA-256 of the file's bytes (hex).
        sha256: String,
        /// Rows (records) in the file.
        rows: u64,
        /// Size in bytes.
        bytes: u64,
        /// The feed the rows came from, if one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        feed: Option<String>,
        /// The agreement the rows were shared under, as `ID@version`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        agreement: Option<String>,
        /// The date until which the file may be kept (`YYYY-MM-DD`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        retention_until: Option<String>,
    },
    /// An output file was deleted.
    FileDeleted {
        /// Path relative to the output root, with `/` separators.
        path: String,
        /// SHA-256 of the file's bytes when deleted (hex).
        sha256: String,
        /// Why: it starts with a [`DeleteReason`](super::reasons::DeleteReason) word
        /// (`replaced`, `retention`, `erasure`, `unrecorded: …`, `temporary: …`).
        reason: String,
        /// The agreement the rows were shared under, as `ID@version`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        agreement: Option<String>,
    },
    /// A subject access or erasure lookup. Never carries identifiers.
    SubjectLookup {
        /// The officer who made the lookup.
        officer: String,
        /// The request's case reference.
        reference: String,
        /// `access` or `erasure`, or `access_refused` / `erasure_refused` when the identifiers given
        /// did not describe one person (then nothing was listed or erased).
        kind: String,
        /// Records found.
        records_found: u64,
        /// Records erased.
        records_erased: u64,
    },
    /// An officer asked why a record is linked as it is (`tellonce link-explain`): the
    /// explanation shows record references and match weights of the record's pairs. Names the
    /// record by its feed and a SHA-256 of its reference, never a value.
    LinkageExplained {
        /// The officer who asked.
        officer: String,
        /// The case reference the question was asked under.
        reference: String,
        /// The record's feed.
        feed: String,
        /// SHA-256 (hex) of the record's reference.
        record_sha256: String,
        /// Pairs shown.
        pairs: u64,
    },
    /// A linkage build clustered the staging records into persons and families.
    LinkageBuilt {
        /// The run's identifier.
        run: String,
        /// Distinct partner records linked.
        records: u64,
        /// Persons found.
        persons: u64,
        /// Families found.
        families: u64,
        /// Records with too little to match (each its own person).
        low_evidence: u64,
        /// Records sharing a strong identifier with a record they were not merged with.
        conflicts: u64,
        /// Merges, splits and retirements of person ids against the last build.
        person_changes: u64,
        /// Merges, splits and retirements of family ids against the last build.
        family_changes: u64,
        /// Feeds whose staging was not linked, with the reason (no agreement in force).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        feeds_not_linked: Vec<String>,
        /// The scoring model the build linked with (absent from entries written before it was
        /// recorded, and when the build scored no pair).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        model: Option<crate::audit::LinkageModel>,
        /// The officers' decisions the build honoured (`[linkage] decisions`; absent when none
        /// are configured).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        decisions: Option<Box<crate::audit::LinkageDecisions>>,
    },
    /// A stream batch is complete: every file holding its records is recorded above. Stream
    /// progress is read from these entries, which deletions (retention, erasure) leave standing.
    StreamBatchCommitted {
        /// The stream session that wrote it (several may share an output; absent from entries
        /// written before sessions were named here).
        #[serde(default, skip_serializing_if = "String::is_empty")]
        run: String,
        /// The topic.
        topic: String,
        /// The partition.
        partition: i32,
        /// First offset of the batch.
        first_offset: u64,
        /// Last offset of the batch.
        last_offset: u64,
        /// Records written to staging.
        written: u64,
        /// Records quarantined.
        quarantined: u64,
        /// The files holding them, relative to the output root.
        files: Vec<String>,
        /// The dead-letter topic the quarantined records were also sent to, sealed (absent
        /// when none is configured or none was quarantined).
        #[serde(default, skip_serializing_if = "String::is_empty")]
        dead_letter_topic: String,
        /// How many were sent there (all of the batch's quarantined records).
        #[serde(default, skip_serializing_if = "is_zero")]
        dead_lettered: u64,
        /// The timestamp (milliseconds since 1970) of the batch's first message, where it has
        /// one: a later session checks that the message at `first_offset` is still this one,
        /// to tell a recreated topic from the one written.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        first_timestamp: Option<i64>,
        /// The same for its last message, at `last_offset`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        last_timestamp: Option<i64>,
        /// The topic's progress epoch the offsets count in: 0 until a
        /// [`StreamProgressReset`](Event::StreamProgressReset) of the topic, then that reset's.
        #[serde(default, skip_serializing_if = "is_zero_u32")]
        epoch: u32,
    },
    /// An operator declared a topic's stream progress void: the topic was deleted and made
    /// again, so its offsets count from 0 afresh and the batches committed before name other
    /// messages. Its partitions are read from the start again, in a new `epoch`, whose batch
    /// files are named apart from the old ones; the old files and entries stay as they are.
    StreamProgressReset {
        /// The session (command) that recorded it.
        run: String,
        /// The topic.
        topic: String,
        /// The new epoch (1 for the first reset of the topic).
        epoch: u32,
        /// Why, in the operator's words.
        reason: String,
        /// The durable offset (one past the last offset written) each partition had before.
        durable_offsets: Vec<PartitionOffset>,
    },
    /// An operator lifted withdrawals found to be mistaken (a truncated snapshot confirmed, a
    /// partner's withdrawal sent in error): the records' tombstones no longer refuse them, and
    /// the next input sending one stages it as new. Erasures are never lifted.
    RecordsReinstated {
        /// The session (command) that recorded it.
        run: String,
        /// The feed.
        feed: String,
        /// The input whose withdrawals were lifted, when they were chosen so.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        withdrawn_by: Option<String>,
        /// Withdrawals lifted.
        reinstated: u64,
        /// References asked for that were erased: they stay refused.
        erased: u64,
        /// References asked for that no withdrawal stood for.
        not_withdrawn: u64,
        /// Why, in the operator's words.
        reason: String,
    },
    /// Offsets of a partition that the broker does not have: asked for the first of them, it
    /// answered with a later one (retention reached them before they were read, or compaction or
    /// transaction markers took them). No message of them was read, so none was written or
    /// quarantined; the session went on after them.
    StreamOffsetsMissing {
        /// The stream session that found them.
        run: String,
        /// The topic.
        topic: String,
        /// The partition.
        partition: i32,
        /// The first offset missing.
        first_offset: u64,
        /// The last offset missing.
        last_offset: u64,
        /// The topic's progress epoch the offsets count in.
        #[serde(default, skip_serializing_if = "is_zero_u32")]
        epoch: u32,
    },
    /// A person or family id changed between linkage builds: never an identifier, only ids.
    IdentityChanged {
        /// `person` or `family`.
        kind: String,
        /// `merge`, `split` or `retired`.
        change: String,
        /// The ids before.
        from: Vec<String>,
        /// Their successors (empty when retired).
        to: Vec<String>,
        /// Why: the kinds of record change behind it (`new`, `changed`, `withdrawn`, `erased`,
        /// `removed`, or `relinked` when the same records are grouped otherwise).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        reasons: Vec<String>,
    },
    /// `tellonce audit repair` cut a torn final entry (a write cut short by a full disk or a
    /// power loss) off the end of the log. Nothing the head recorded was cut.
    AuditRepaired {
        /// The line the torn entry started on, from 1.
        line: u64,
        /// The byte offset the log was cut back to.
        offset: u64,
        /// How many bytes were cut.
        bytes_cut: u64,
        /// SHA-256 (hex) of the bytes cut.
        sha256: String,
        /// Why: how the entry was found torn.
        reason: String,
    },
    /// A pipeline command finished.
    RunFinished {
        /// The run's identifier.
        run: String,
        /// `finished` or `failed` (a [`RunStatus`](super::reasons::RunStatus)).
        status: String,
        /// Records received.
        received: u64,
        /// Records written to staging.
        written: u64,
        /// Records quarantined.
        quarantined: u64,
        /// Inputs held for want of an agreement.
        held: u64,
    },
}

/// A topic partition's offset, in a [`StreamProgressReset`](Event::StreamProgressReset).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartitionOffset {
    /// The partition.
    pub partition: i32,
    /// The offset.
    pub offset: u64,
}

impl Event {
    /// The id of the input a `records_compared` entry names (its rows' `_input`): the id it
    /// records, or, in an entry written before it recorded one, the first 16 hex digits of the
    /// input's SHA-256. `None` for any other event, or a stream batch's entry of before.
    pub fn compared_input_id(&self) -> Option<&str> {
        match self {
            Event::RecordsCompared { input_id: Some(id), .. } => Some(id),
            Event::RecordsCompared { sha256: Some(sha), .. } => sha.get(..16),
            _ => None,
        }
    }

    /// The event's `type` tag, e.g. `"batch_decided"`.
    pub fn kind(&self) -> &'static str {
        match self {
            Event::RunStarted { .. } => "run_started",
            Event::AgreementLoaded { .. } => "agreement_loaded",
            Event::KeysUsed { .. } => "keys_used",
            Event::InputHeld { .. } => "input_held",
            Event::InputRejected { .. } => "input_rejected",
            Event::BatchDecided { .. } => "batch_decided",
            Event::FileWritten { .. } => "file_written",
            Event::FileDeleted { .. } => "file_deleted",
            Event::SubjectLookup { .. } => "subject_lookup",
            Event::LinkageExplained { .. } => "linkage_explained",
            Event::LinkageBuilt { .. } => "linkage_built",
            Event::StreamBatchCommitted { .. } => "stream_batch_committed",
            Event::StreamProgressReset { .. } => "stream_progress_reset",
            Event::RecordsReinstated { .. } => "records_reinstated",
            Event::StreamOffsetsMissing { .. } => "stream_offsets_missing",
            Event::IdentityChanged { .. } => "identity_changed",
            Event::AuditRepaired { .. } => "audit_repaired",
            Event::RunFinished { .. } => "run_finished",
            Event::RecordsCompared { .. } => "records_compared",
            Event::MappingApplied { .. } => "mapping_applied",
        }
    }
}

/// One entry read back from the log (see [`read_entries`](super::read_entries)).
///
/// Reading does not verify; use [`verify`](super::verify) for that.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Sequence number, from 1.
    pub seq: u64,
    /// When it was appended: UTC, RFC 3339 to the second (`2026-11-23T09:41:07Z`).
    pub at: String,
    /// SHA-256 (hex) of the previous line's bytes; 64 zeros for the first.
    pub prev: String,
    /// What happened.
    pub event: Event,
    /// The line of `audit.jsonl` it was read from, from 1.
    pub line: u64,
}

impl Entry {
    /// The day of [`at`](Self::at), as days since 1970-01-01, if it parses.
    pub fn day(&self) -> Option<i32> {
        dates::parse(&self.at).ok()
    }
}

/// The fields of a line, as parsed from its JSON (the MAC is handled on bytes).
#[derive(Deserialize)]
pub(crate) struct RawEntry {
    pub(crate) seq: u64,
    pub(crate) at: String,
    pub(crate) prev: String,
    pub(crate) event: Event,
}

impl RawEntry {
    /// Parses a complete line (without its newline).
    pub(crate) fn parse(line: &[u8]) -> Result<RawEntry, serde_json::Error> {
        serde_json::from_slice(line)
    }

    /// The [`Entry`] for this line.
    pub(crate) fn into_entry(self, line: u64) -> Entry {
        Entry { seq: self.seq, at: self.at, prev: self.prev, event: self.event, line }
    }
}

/// SHA-256 of `bytes`.
pub(crate) fn sha256(bytes: &[u8]) -> [u8; 32] {
    let digest = digest::digest(&digest::SHA256, bytes);
    let mut out = [0u8; 32];
    out.copy_from_slice(digest.as_ref());
    out
}

/// Whether `s` is exactly 64 lowercase hex digits.
pub(crate) fn is_lower_hex64(s: &[u8]) -> bool {
    s.len() == 64 && s.iter().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(b))
}

/// Whether a count is zero, so that it is left out of an entry.
fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// Whether a small number is zero, so that it is left out of an entry.
fn is_zero_u32(n: &u32) -> bool {
    *n == 0
}

/// Encodes one line (without its newline) and signs it.
#[cfg(test)]
pub(crate) fn encode_line(
    seq: u64,
    at: &str,
    prev: &[u8; 32],
    event: &Event,
    signer: &AuditSigner,
) -> Result<Vec<u8>, serde_json::Error> {
    let event_json = event_json(event)?;
    encode_line_json(seq, at, prev, &event_json, signer)
}

/// The JSON of an event, as it appears in a line. Compact JSON escapes
/// control characters, so it never holds a newline.
pub(crate) fn event_json(event: &Event) -> Result<Vec<u8>, serde_json::Error> {
    serde_json::to_vec(event)
}

/// Encodes one line (without its newline) from an event already serialised by
/// [`event_json`], and signs it. The event is serialised early (when it is
/// appended) and the line late (when its number and `prev` are known).
pub(crate) fn encode_line_json(
    seq: u64,
    at: &str,
    prev: &[u8; 32],
    event_json: &[u8],
    signer: &AuditSigner,
) -> Result<Vec<u8>, serde_json::Error> {
    let mut line = Vec::with_capacity(event_json.len() + LINE_OVERHEAD);
    line.extend_from_slice(b"{\"seq\":");
    line.extend_from_slice(seq.to_string().as_bytes());
    line.extend_from_slice(b",\"at\":");
    serde_json::to_writer(&mut line, at)?;
    line.extend_from_slice(b",\"prev\":\"");
    line.extend_from_slice(hex::encode(prev).as_bytes());
    line.extend_from_slice(b"\",\"event\":");
    line.extend_from_slice(event_json);
    let mac = signer.sign(&line);
    line.extend_from_slice(MAC_PREFIX);
    line.extend_from_slice(hex::encode(mac).as_bytes());
    line.extend_from_slice(b"\"}");
    Ok(line)
}

/// Whether the line ends with a well-formed `,"mac":"…"}` whose tag is the
/// HMAC of everything before it.
pub(crate) fn mac_is_valid(line: &[u8], signer: &AuditSigner) -> bool {
    let Some(body_len) = line.len().checked_sub(MAC_SUFFIX_LEN) else {
        return false;
    };
    let (body, suffix) = line.split_at(body_len);
    let Some(tag_hex) = suffix.strip_prefix(MAC_PREFIX).and_then(|s| s.strip_suffix(b"\"}")) else {
        return false;
    };
    if !is_lower_hex64(tag_hex) {
        return false;
    }
    let mut tag = [0u8; 32];
    if hex::decode_to_slice(tag_hex, &mut tag).is_err() {
        return false;
    }
    signer.verify(body, &tag)
}

/// Splits a log file into its complete lines (without newlines) and a
/// trailing fragment with no newline, if any.
pub(crate) fn split_lines(bytes: &[u8]) -> (Vec<&[u8]>, Option<&[u8]>) {
    let mut lines: Vec<&[u8]> = bytes.split(|b| *b == b'\n').collect();
    // `split` yields one piece after the last newline: empty for a file that
    // ends with a newline (or is empty), a fragment otherwise.
    let tail = lines.pop().filter(|t| !t.is_empty());
    (lines, tail)
}

/// `YYYY-MM-DDTHH:MM:SSZ` for a count of seconds since 1970-01-01 UTC.
pub(crate) fn timestamp(secs: u64) -> String {
    let days = i32::try_from(secs / 86_400).unwrap_or(i32::MAX / 2);
    let rem = secs % 86_400;
    format!("{}T{:02}:{:02}:{:02}Z", dates::format(days), rem / 3600, rem % 3600 / 60, rem % 60)
}

/// Seconds since 1970-01-01 UTC from the system clock (0 if it is before 1970).
pub(crate) fn now_secs() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::testutil::{sample_events, signer};

    #[test]
    fn timestamps_are_rfc3339_utc_seconds() {
        assert_eq!(timestamp(0), "1970-01-01T00:00:00Z");
        assert_eq!(timestamp(1_795_426_867), "2026-11-23T09:41:07Z");
        assert_eq!(timestamp(951_782_399), "2000-02-28T23:59:59Z");
        assert_eq!(timestamp(951_782_400), "2000-02-29T00:00:00Z");
    }

    #[test]
    fn line_layout_matches_the_contract() {
        let s = signer();
        let event = Event::KeysUsed { key_id: "k1".into(), purposes: vec!["linkage".into()] };
        let line = encode_line(1, "2026-11-23T09:41:07Z", &ZERO_HASH, &event, &s).unwrap();
        let text = std::str::from_utf8(&line).unwrap();
        let zeros = "0".repeat(64);
        let body = format!(
            r#"{{"seq":1,"at":"2026-11-23T09:41:07Z","prev":"{zeros}","event":{{"type":"keys_used","key_id":"k1","purposes":["linkage"]}}"#
        );
        assert!(text.starts_with(&body), "{text}");
        let mac = hex::encode(s.sign(body.as_bytes()));
        assert_eq!(text, format!(r#"{body},"mac":"{mac}"}}"#));
        assert!(mac_is_valid(&line, &s));
        let parsed = RawEntry::parse(&line).unwrap();
        assert_eq!(parsed.event, event);
        assert_eq!(parsed.prev, zeros);
    }

    #[test]
    fn every_event_round_trips_and_has_its_tag() {
        let s = signer();
        let stream_events = [
            Event::StreamBatchCommitted {
                run: "s1".into(),
                topic: "t".into(),
                partition: 2,
                first_offset: 0,
                last_offset: 9,
                written: 9,
                quarantined: 1,
                files: vec!["staging/feed=police/part-k@t@2@0@9@3-00000.parquet".into()],
                dead_letter_topic: String::new(),
                dead_lettered: 0,
                first_timestamp: Some(1),
                last_timestamp: None,
                epoch: 3,
            },
            Event::StreamProgressReset {
                run: "r2".into(),
                topic: "t".into(),
                epoch: 3,
                reason: "recreated".into(),
                durable_offsets: vec![PartitionOffset { partition: 2, offset: 10 }],
            },
            Event::RecordsReinstated {
                run: "r4".into(),
                feed: "police".into(),
                withdrawn_by: Some("inputs/mar.csv".into()),
                reinstated: 3,
                erased: 0,
                not_withdrawn: 0,
                reason: "a truncated snapshot".into(),
            },
            Event::StreamOffsetsMissing {
                run: "s3".into(),
                topic: "t".into(),
                partition: 1,
                first_offset: 10,
                last_offset: 11,
                epoch: 0,
            },
        ];
        for event in sample_events().into_iter().chain(stream_events) {
            let line = encode_line(7, "2026-01-01T00:00:00Z", &ZERO_HASH, &event, &s).unwrap();
            assert!(!line.contains(&b'\n'));
            let value: serde_json::Value = serde_json::from_slice(&line).unwrap();
            assert_eq!(value["event"]["type"], event.kind());
            assert_eq!(RawEntry::parse(&line).unwrap().event, event);
        }
    }

    #[test]
    fn nulled_fields_are_recorded_and_absent_when_none_was() {
        let s = signer();
        let Some(Event::BatchDecided { nulled, .. }) =
            sample_events().into_iter().find(|e| matches!(e, Event::BatchDecided { .. }))
        else {
            panic!("no batch_decided sample");
        };
        assert!(nulled.is_empty());
        let mut event = sample_events().into_iter().find(|e| matches!(e, Event::BatchDecided { .. })).unwrap();
        let line = encode_line(1, "2026-01-01T00:00:00Z", &ZERO_HASH, &event, &s).unwrap();
        let value: serde_json::Value = serde_json::from_slice(&line).unwrap();
        assert!(value["event"].get("nulled").is_none(), "entries as written before nulled existed");
        if let Event::BatchDecided { nulled, .. } = &mut event {
            nulled.insert("postcode:postcode.no_fixed_abode".into(), 2);
        }
        let line = encode_line(2, "2026-01-01T00:00:00Z", &ZERO_HASH, &event, &s).unwrap();
        let value: serde_json::Value = serde_json::from_slice(&line).unwrap();
        assert_eq!(value["event"]["nulled"]["postcode:postcode.no_fixed_abode"], 2);
        assert_eq!(RawEntry::parse(&line).unwrap().event, event);
    }

    #[test]
    fn mac_check_refuses_changes() {
        let s = signer();
        let event = Event::KeysUsed { key_id: "k1".into(), purposes: vec![] };
        let line = encode_line(1, "2026-11-23T09:41:07Z", &ZERO_HASH, &event, &s).unwrap();
        for i in 0..line.len() {
            let mut changed = line.clone();
            changed[i] ^= 0x01;
            assert!(!mac_is_valid(&changed, &s), "byte {i}");
        }
        let mut upper = line.clone();
        let n = upper.len();
        upper[n - 3] = upper[n - 3].to_ascii_uppercase();
        if upper != line {
            assert!(!mac_is_valid(&upper, &s));
        }
        assert!(!mac_is_valid(b"", &s));
        assert!(!mac_is_valid(&line[..line.len() - 1], &s));
    }

    #[test]
    fn split_lines_separates_a_fragment() {
        assert_eq!(split_lines(b""), (vec![], None));
        assert_eq!(split_lines(b"a\nb\n"), (vec![&b"a"[..], &b"b"[..]], None));
        assert_eq!(split_lines(b"a\nb"), (vec![&b"a"[..]], Some(&b"b"[..])));
    }
}
