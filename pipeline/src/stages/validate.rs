//! The validate stage: every value checked against its column's kind, identifiers normalised,
//! duplicates of `record_id` caught, and every failing row set aside with its first broken rule.
//!
//! Output columns are typed (dates as `Date32`, scores as `Int64`, …); identifier columns hold
//! their normalised clear values, in memory only, for the pseudonymise stage that follows.

use std::hash::Hasher;
use std::sync::Arc;

use arrow_array::builder::{BooleanBuilder, Date32Builder, Float64Builder, Int64Builder, StringBuilder};
use arrow_array::{Array, ArrayRef, BooleanArray, RecordBatch, StringArray, UInt64Array};
use arrow_schema::{ArrowError, DataType, Field, Schema, SchemaRef};
use tellonce_connectors::file_source::{RawBatch, RawReject};
use tellonce_connectors::lineage::Lineage;
use tellonce_schemas::staging::pass_type;
use tellonce_schemas::{Column, FeedSchema, Rule, Value};

/// Name of the position column in raw and checked batches (the same as in staging).
pub use tellonce_schemas::staging::POSITION;

/// A batch whose rows all passed validation.
#[derive(Debug)]
pub struct CheckedBatch {
    /// Where the rows came from.
    pub lineage: Lineage,
    /// The feed schema they were checked against.
    pub feed: &'static FeedSchema,
    /// One typed column per schema column, in schema order, then `_position`.
    pub batch: RecordBatch,
}

/// The validate stage's output for one raw batch.
#[derive(Debug)]
pub struct Validated {
    /// The rows that passed.
    pub checked: CheckedBatch,
    /// The rows that did not, from the source and from the checks, in position order.
    pub rejects: Vec<RawReject>,
}

/// Errors of the validate stage: only a malformed batch (a bug upstream) can cause one.
#[derive(Debug, thiserror::Error)]
pub enum ValidateError {
    /// The raw batch does not have the columns its schema promises.
    #[error("raw batch from {source_name} does not match the {feed} schema: {reason}")]
    Shape {
        /// The input.
        source_name: String,
        /// The feed.
        feed: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// Arrow refused to build the checked batch.
    #[error("building the checked batch: {0}")]
    Arrow(#[from] ArrowError),
}

/// Number of partitions of the duplicate index (the top 16 bits of a fingerprint pick one).
const PARTITIONS: usize = 1 << 16;

/// The low 48 bits of a fingerprint, big-endian, so that byte order is numeric order.
type Low48 = [u8; 6];

/// The `record_id`s seen so far in one input, to catch duplicates.
///
/// It keeps a 64-bit fingerprint per id rather than the id itself: the top 16 bits choose one of
/// 65 536 sorted vectors, which hold the other 48 bits. Vectors grow by a quarter at a time, so
/// memory stays near 7 bytes a record (about 70 MiB at 10 M records) however long the ids are,
/// and never doubles at once as a single hash table would. Two different ids share a
/// fingerprint with probability about n²/2⁶⁵ (3·10⁻⁶ at 10 M records); such a row would be
/// quarantined as a duplicate, never lost.
pub struct DuplicateIndex {
    partitions: Vec<Vec<Low48>>,
}

impl Default for DuplicateIndex {
    fn default() -> Self {
        DuplicateIndex { partitions: vec![Vec::new(); PARTITIONS] }
    }
}

impl DuplicateIndex {
    /// Marks the rows of `raw` whose `record_id` was seen before (in this batch or an earlier
    /// one). Must be called on batches in input order.
    pub fn mark(&mut self, raw: &RawBatch, feed: &FeedSchema) -> Vec<bool> {
        let Some(col) = feed
            .index_of("record_id")
            .and_then(|i| raw.batch.column(i).as_any().downcast_ref::<StringArray>().cloned())
        else {
            return vec![false; raw.batch.num_rows()];
        };
        (0..col.len()).map(|i| !col.is_null(i) && !self.insert(fingerprint(col.value(i).trim().as_bytes()))).collect()
    }

    /// Adds a fingerprint; false if it was already there.
    fn insert(&mut self, fp: u64) -> bool {
        let bytes = fp.to_be_bytes();
        let (top, low) = bytes.split_at(2);
        let part = &mut self.partitions[usize::from(u16::from_be_bytes([top[0], top[1]]))];
        let mut key: Low48 = [0; 6];
        key.copy_from_slice(low);
        match part.binary_search(&key) {
            Ok(_) => false,
            Err(at) => {
                if part.len() == part.capacity() {
                    part.reserve_exact((part.capacity() / 4).max(4));
                }
                part.insert(at, key);
                true
            }
        }
    }
}

/// A 64-bit fingerprint of a record id (SipHash with fixed keys: stable within a run).
fn fingerprint(bytes: &[u8]) -> u64 {
    let mut h = std::hash::DefaultHasher::new();
    h.write(bytes);
    h.finish()
}

/// Builds the typed column for one schema column.
enum TypedBuilder {
    Text(StringBuilder),
    Date(Date32Builder),
    Int(Int64Builder),
    Decimal(Float64Builder),
    Bool(BooleanBuilder),
}

impl TypedBuilder {
    fn for_column(col: &Column, rows: usize) -> TypedBuilder {
        match pass_type(&col.kind) {
            DataType::Date32 => TypedBuilder::Date(Date32Builder::with_capacity(rows)),
            DataType::Int64 => TypedBuilder::Int(Int64Builder::with_capacity(rows)),
            DataType::Float64 => TypedBuilder::Decimal(Float64Builder::with_capacity(rows)),
            DataType::Boolean => TypedBuilder::Bool(BooleanBuilder::with_capacity(rows)),
            _ => TypedBuilder::Text(StringBuilder::with_capacity(rows, rows * 16)),
        }
    }

    fn append(&mut self, v: Option<Value<'_>>) {
        match (self, v) {
            (TypedBuilder::Text(b), Some(Value::Text(s))) => b.append_value(s),
            (TypedBuilder::Date(b), Some(Value::Date(d))) => b.append_value(d),
            (TypedBuilder::Int(b), Some(Value::Int(i))) => b.append_value(i),
            (TypedBuilder::Decimal(b), Some(Value::Decimal(f))) => b.append_value(f),
            (TypedBuilder::Bool(b), Some(Value::Bool(x))) => b.append_value(x),
            (TypedBuilder::Text(b), _) => b.append_null(),
            (TypedBuilder::Date(b), _) => b.append_null(),
            (TypedBuilder::Int(b), _) => b.append_null(),
            (TypedBuilder::Decimal(b), _) => b.append_null(),
            (TypedBuilder::Bool(b), _) => b.append_null(),
        }
    }

    fn finish(self) -> ArrayRef {
        match self {
            TypedBuilder::Text(mut b) => Arc::new(b.finish()),
            TypedBuilder::Date(mut b) => Arc::new(b.finish()),
            TypedBuilder::Int(mut b) => Arc::new(b.finish()),
            TypedBuilder::Decimal(mut b) => Arc::new(b.finish()),
            TypedBuilder::Bool(mut b) => Arc::new(b.finish()),
        }
    }
}

/// The Arrow schema of a feed's checked batches.
pub fn checked_schema(feed: &FeedSchema) -> SchemaRef {
    let mut fields: Vec<Field> = feed.columns.iter().map(|c| Field::new(c.name, pass_type(&c.kind), true)).collect();
    fields.push(Field::new(POSITION, DataType::UInt64, false));
    Arc::new(Schema::new(fields))
}

/// Checks every row of a raw batch. `duplicates` comes from [`DuplicateIndex::mark`].
pub fn validate(
    raw: RawBatch,
    feed: &'static FeedSchema,
    schema: &SchemaRef,
    duplicates: &[bool],
) -> Result<Validated, ValidateError> {
    let rows = raw.batch.num_rows();
    let shape =
        |reason: String| ValidateError::Shape { source_name: raw.lineage.source.clone(), feed: feed.name, reason };
    if raw.batch.num_columns() != feed.columns.len() + 1 {
        return Err(shape(format!("{} columns for {} schema columns", raw.batch.num_columns(), feed.columns.len())));
    }
    let mut inputs: Vec<&StringArray> = Vec::with_capacity(feed.columns.len());
    for (i, c) in feed.columns.iter().enumerate() {
        let arr = raw.batch.column(i).as_any().downcast_ref::<StringArray>();
        inputs.push(arr.ok_or_else(|| shape(format!("column {} is not text", c.name)))?);
    }
    let positions = raw
        .batch
        .column(feed.columns.len())
        .as_any()
        .downcast_ref::<UInt64Array>()
        .ok_or_else(|| shape("no _position column".to_owned()))?;

    // The first rule each row breaks, with the column that broke it.
    let mut failure: Vec<Option<(Rule, usize)>> = vec![None; rows];
    let mut columns: Vec<ArrayRef> = Vec::with_capacity(feed.columns.len() + 1);
    for (ci, (col, input)) in feed.columns.iter().zip(&inputs).enumerate() {
        let mut builder = TypedBuilder::for_column(col, rows);
        let mut scratch = String::with_capacity(64);
        for (r, fail) in failure.iter_mut().enumerate() {
            let value = if input.is_null(r) || input.value(r).trim().is_empty() {
                if col.required && fail.is_none() {
                    *fail = Some((Rule::Required, ci));
                }
                None
            } else {
                match col.kind.check_with(input.value(r), &mut scratch) {
                    Ok(v) => Some(v),
                    Err(rule) => {
                        if fail.is_none() {
                            *fail = Some((rule, ci));
                        }
                        None
                    }
                }
            };
            builder.append(value);
        }
        columns.push(builder.finish());
    }
    let rid = feed.index_of("record_id").unwrap_or(0);
    for (fail, &dup) in failure.iter_mut().zip(duplicates) {
        if dup && fail.is_none() {
            *fail = Some((Rule::DuplicateRecordId, rid));
        }
    }
    columns.push(Arc::new(positions.clone()));
    let all = RecordBatch::try_new(schema.clone(), columns)?;

    let mut rejects = raw.rejects;
    let keep: BooleanArray = failure.iter().map(|f| Some(f.is_none())).collect();
    let batch = if keep.true_count() == rows {
        all
    } else {
        for (r, f) in failure.iter().enumerate() {
            if let Some((rule, ci)) = f {
                rejects.push(RawReject {
                    position: positions.value(r),
                    rule: *rule,
                    column: Some(feed.columns[*ci].name.to_owned()),
                    raw: row_as_json(feed, &inputs, r),
                });
            }
        }
        rejects.sort_by_key(|r| r.position);
        arrow_select::filter::filter_record_batch(&all, &keep)?
    };
    Ok(Validated { checked: CheckedBatch { lineage: raw.lineage, feed, batch }, rejects })
}

/// The row as the partner sent it, as a JSON object, for the encrypted quarantine.
fn row_as_json(feed: &FeedSchema, inputs: &[&StringArray], r: usize) -> Vec<u8> {
    let mut obj = serde_json::Map::new();
    for (col, input) in feed.columns.iter().zip(inputs) {
        if !input.is_null(r) {
            obj.insert(col.name.to_owned(), serde_json::Value::String(input.value(r).to_owned()));
        }
    }
    serde_json::Value::Object(obj).to_string().into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::cast::AsArray;
    use arrow_array::types::Date32Type;
    use tellonce_schemas::feed;

    fn raw_batch(feed: &'static FeedSchema, rows: &[&[(&str, &str)]]) -> RawBatch {
        let mut cols: Vec<ArrayRef> = Vec::new();
        for c in feed.columns {
            let vals: Vec<Option<&str>> =
                rows.iter().map(|r| r.iter().find(|(k, _)| *k == c.name).map(|(_, v)| *v)).collect();
            cols.push(Arc::new(StringArray::from(vals)));
        }
        let pos: Vec<u64> = (0..rows.len() as u64).map(|i| i + 2).collect();
        cols.push(Arc::new(UInt64Array::from(pos)));
        let mut fields: Vec<Field> = feed.columns.iter().map(|c| Field::new(c.name, DataType::Utf8, true)).collect();
        fields.push(Field::new(POSITION, DataType::UInt64, false));
        RawBatch {
            lineage: Lineage {
                feed: feed.name,
                schema_version: feed.version,
                source: "t.csv".into(),
                first_position: 2,
                last_position: 1 + rows.len() as u64,
            },
            batch: RecordBatch::try_new(Arc::new(Schema::new(fields)), cols).unwrap(),
            rejects: vec![],
        }
    }

    const GOOD: &[(&str, &str)] = &[
        ("record_id", "YJ-1"),
        ("pnc_id", "12/52834K"),
        ("forename", "Amy"),
        ("surname", "O'Neil"),
        ("date_of_birth", "2010-05-04"),
        ("postcode", "rh10 1ab"),
        ("offence_date", "2024-01-02"),
        ("offence_category", "theft"),
        ("outcome_type", "YOUTH_CAUTION"),
    ];

    #[test]
    fn valid_rows_come_out_typed_and_normalised() {
        let f = feed::latest("youth_justice").unwrap();
        let raw = raw_batch(f, &[GOOD]);
        let v = validate(raw, f, &checked_schema(f), &[false]).unwrap();
        assert!(v.rejects.is_empty());
        let b = &v.checked.batch;
        assert_eq!(b.num_rows(), 1);
        let col = |n: &str| b.column(f.index_of(n).unwrap()).clone();
        assert_eq!(col("pnc_id").as_string::<i32>().value(0), "2012/0052834K");
        assert_eq!(col("surname").as_string::<i32>().value(0), "ONEIL");
        assert_eq!(col("postcode").as_string::<i32>().value(0), "RH10 1AB");
        assert_eq!(col("offence_category").as_string::<i32>().value(0), "THEFT");
        assert_eq!(col("offence_date").as_primitive::<Date32Type>().value(0), 19_724);
    }

    #[test]
    fn each_failing_row_is_rejected_with_its_first_rule_and_column() {
        let f = feed::latest("youth_justice").unwrap();
        let mut bad_pnc = GOOD.to_vec();
        bad_pnc[1] = ("pnc_id", "12/52834L");
        let mut no_surname = GOOD.to_vec();
        no_surname.retain(|(k, _)| *k != "surname");
        let mut bad_date = GOOD.to_vec();
        bad_date[6] = ("offence_date", "2023-02-30");
        let raw = raw_batch(f, &[GOOD, &bad_pnc, &no_surname, &bad_date, GOOD]);
        let v = validate(raw, f, &checked_schema(f), &[false, false, false, false, true]).unwrap();
        assert_eq!(v.checked.batch.num_rows(), 1);
        let got: Vec<_> = v.rejects.iter().map(|r| (r.position, r.rule, r.column.clone().unwrap())).collect();
        assert_eq!(
            got,
            vec![
                (3, Rule::PncCheckCharacter, "pnc_id".to_owned()),
                (4, Rule::Required, "surname".to_owned()),
                (5, Rule::DateCalendar, "offence_date".to_owned()),
                (6, Rule::DuplicateRecordId, "record_id".to_owned()),
            ]
        );
        let raw_json: serde_json::Value = serde_json::from_slice(&v.rejects[0].raw).unwrap();
        assert_eq!(raw_json["pnc_id"], "12/52834L");
    }

    #[test]
    fn duplicates_are_caught_across_batches_in_order() {
        let f = feed::latest("youth_justice").unwrap();
        let mut idx = DuplicateIndex::default();
        let first = raw_batch(f, &[GOOD, GOOD]);
        assert_eq!(idx.mark(&first, f), vec![false, true]);
        assert_eq!(idx.mark(&raw_batch(f, &[GOOD]), f), vec![true]);
    }
}
