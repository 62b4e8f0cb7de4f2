//! The datasets linkage writes for analysts: `links/` (one row per partner record) and
//! `id_history/` (how ids merged, split or retired between builds).

use std::collections::HashMap;
use std::sync::Arc;

use arrow_array::builder::{BooleanBuilder, Float32Builder, StringBuilder};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema, SchemaRef};

use super::LinkError;
use super::ids::Change;

pub use tellonce_output::layout::{ID_HISTORY, LINKS};

fn field(name: &str, data_type: DataType, nullable: bool, description: &str) -> Field {
    let meta: HashMap<String, String> = [("description".to_owned(), description.to_owned())].into_iter().collect();
    Field::new(name, data_type, nullable).with_metadata(meta)
}

/// The schema of `links/` (partitioned by `feed`).
pub fn links_schema() -> SchemaRef {
    let record_ref = field(
        "record_ref",
        DataType::Utf8,
        false,
        "The partner's record reference (record_id), or its keyed pseudonym where the agreement withholds it; \
         joins to the staging dataset of the same feed.",
    );
    let mut meta = record_ref.metadata().clone();
    meta.insert(tellonce_schemas::staging::STORAGE_KEY.to_owned(), "unique".to_owned());
    Arc::new(Schema::new(vec![
        record_ref.with_metadata(meta),
        field("person_id", DataType::Utf8, false, "Stable pseudonymous id of the person the record is about."),
        field("family_id", DataType::Utf8, false, "Stable pseudonymous id of the person's family or household."),
        field(
            "match_rule",
            DataType::Utf8,
            false,
            "The strongest rule that linked this record to another record of the person (`none`: linked to none).",
        ),
        field(
            "match_weight",
            DataType::Float32,
            true,
            "Fellegi-Sunter agreement weight of that rule, in bits (log2 m/u summed over the fields it compares).",
        ),
        field(
            "low_evidence",
            DataType::Boolean,
            false,
            "True when the record carries too little to be matched (no strong identifier, no usable name with date \
             of birth or postcode); it has a person of its own.",
        ),
        field(
            "conflict",
            DataType::Utf8,
            true,
            "Set when the record shares a strong identifier with a record it was not merged with, and why \
             (e.g. the same NHS number with a different date of birth): for data quality follow-up.",
        ),
    ]))
}

/// One row of `links/`.
pub struct LinkRow<'a> {
    /// Record reference.
    pub record_ref: &'a str,
    /// Person id.
    pub person_id: &'a str,
    /// Family id.
    pub family_id: &'a str,
    /// Rule name.
    pub rule: &'static str,
    /// Rule weight.
    pub weight: Option<f32>,
    /// Low evidence.
    pub low_evidence: bool,
    /// Conflict text.
    pub conflict: Option<String>,
}

/// A batch of `links/` rows.
pub fn links_batch(rows: &[LinkRow<'_>]) -> Result<RecordBatch, LinkError> {
    let n = rows.len();
    let mut rf = StringBuilder::with_capacity(n, n * 12);
    let mut p = StringBuilder::with_capacity(n, n * 17);
    let mut f = StringBuilder::with_capacity(n, n * 17);
    let mut rule = StringBuilder::with_capacity(n, n * 16);
    let mut weight = Float32Builder::with_capacity(n);
    let mut low = BooleanBuilder::with_capacity(n);
    let mut conflict = StringBuilder::new();
    for r in rows {
        rf.append_value(r.record_ref);
        p.append_value(r.person_id);
        f.append_value(r.family_id);
        rule.append_value(r.rule);
        weight.append_option(r.weight);
        low.append_value(r.low_evidence);
        conflict.append_option(r.conflict.as_deref());
    }
    let columns: Vec<ArrayRef> = vec![
        Arc::new(rf.finish()),
        Arc::new(p.finish()),
        Arc::new(f.finish()),
        Arc::new(rule.finish()),
        Arc::new(weight.finish()),
        Arc::new(low.finish()),
        Arc::new(conflict.finish()),
    ];
    RecordBatch::try_new(links_schema(), columns).map_err(|e| LinkError::Internal(e.to_string()))
}

/// The schema of `id_history/`.
pub fn history_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        field("kind", DataType::Utf8, false, "`person` or `family`."),
        field("change", DataType::Utf8, false, "`merge`, `split` or `retired`."),
        field("old_id", DataType::Utf8, false, "The id before the build."),
        field(
            "new_id",
            DataType::Utf8,
            true,
            "A successor of old_id after the build (one row per successor; null when retired).",
        ),
        field("build", DataType::Utf8, false, "The build (run id) that made the change."),
        field("build_date", DataType::Utf8, false, "The day of the build (YYYY-MM-DD)."),
        field(
            "reasons",
            DataType::Utf8,
            false,
            "Why, comma-separated: records `new`, `changed`, `withdrawn`, `erased` or `removed` since the \
             last build, or `relinked` (the same records grouped otherwise).",
        ),
    ]))
}

/// A batch of `id_history/` rows: one per (old id, successor) of each change.
pub fn history_batch(changes: &[(&'static str, Change)], build: &str, day: &str) -> Result<RecordBatch, LinkError> {
    let mut cols: [StringBuilder; 7] = std::array::from_fn(|_| StringBuilder::new());
    for (kind, c) in changes {
        for old in &c.from {
            let successors: Vec<Option<&str>> =
                if c.to.is_empty() { vec![None] } else { c.to.iter().map(|s| Some(s.as_str())).collect() };
            for new in successors {
                cols[0].append_value(kind);
                cols[1].append_value(c.kind.as_str());
                cols[2].append_value(old);
                cols[3].append_option(new);
                cols[4].append_value(build);
                cols[5].append_value(day);
                cols[6].append_value(c.reasons.join(","));
            }
        }
    }
    let columns: Vec<ArrayRef> = cols.iter_mut().map(|b| Arc::new(b.finish()) as ArrayRef).collect();
    RecordBatch::try_new(history_schema(), columns).map_err(|e| LinkError::Internal(e.to_string()))
}
