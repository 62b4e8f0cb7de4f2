//! The validate stage: every value checked against its column's kind, identifiers normalised,
//! duplicates of `record_id` caught, and every failing row set aside with its first broken rule.
//!
//! What a broken rule costs is the column's [`OnInvalid`] (`FeedSchema::on_invalid`): a bad
//! identifier (a mistyped NHS number, a placeholder, a `ZZ99` pseudo-postcode) is nulled and the
//! record kept, with `column:rule` in its `_dq` column; a bad record reference or event date
//! quarantines the record.
//!
//! Output columns are typed (dates as `Date32`, scores as `Int64`, …); identifier columns hold
//! their normalised clear values, in memory only, for the pseudonymise stage that follows.

use std::collections::BTreeMap;
use std::hash::Hasher;
use std::sync::Arc;

use arrow_array::builder::{ArrayBuilder, BooleanBuilder, Date32Builder, Float64Builder, Int64Builder, StringBuilder};
use arrow_array::{Array, ArrayRef, BooleanArray, RecordBatch, StringArray, UInt64Array};
use arrow_schema::{ArrowError, DataType, Field, Schema, SchemaRef};
use tellonce_connectors::file_source::{RawBatch, RawReject};
use tellonce_connectors::lineage::Lineage;
use tellonce_schemas::identifiers::dates;
use tellonce_schemas::staging::{DQ_ENTRY_SEPARATOR, DQ_RULE_SEPARATOR, pass_type};
use tellonce_schemas::{Column, FeedSchema, Kind, MatchField, OnInvalid, Rule, Value};

/// Name of the data-quality column in checked batches (the same as in staging).
pub use tellonce_schemas::staging::DQ;
/// Name of the position column in raw and checked batches (the same as in staging).
pub use tellonce_schemas::staging::POSITION;

/// Name of the checked batches' column holding, for a date of birth nulled as no date, its
/// readable parts ([`dates::readable_parts`]) for the linkage encodings. It is never staged.
pub const DOB_PARTS: &str = "_dob_parts";

/// Fields nulled in the rows kept, by column name and rule.
pub type Nulled = BTreeMap<(&'static str, Rule), u64>;

/// The `column:rule` form of a nulled field, as in `_dq` and the counts of reports.
pub fn nulled_key(column: &str, rule: Rule) -> String {
    format!("{column}{DQ_RULE_SEPARATOR}{}", rule.code())
}

/// A batch whose rows all passed validation.
#[derive(Debug)]
pub struct CheckedBatch {
    /// Where the rows came from.
    pub lineage: Lineage,
    /// The feed schema they were checked against.
    pub feed: &'static FeedSchema,
    /// One typed column per schema column, in schema order, then `_position`, `_dq` and
    /// [`DOB_PARTS`].
    pub batch: RecordBatch,
}

/// The validate stage's output for one raw batch.
#[derive(Debug)]
pub struct Validated {
    /// The rows that passed.
    pub checked: CheckedBatch,
    /// The rows that did not, from the source and from the checks, in position order.
    pub rejects: Vec<RawReject>,
    /// Fields nulled in the rows that passed (not in those quarantined for another rule).
    pub nulled: Nulled,
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
        (0..col.len())
            .map(|i| {
                !col.is_null(i) && !self.insert(fingerprint(tellonce_schemas::check::as_shown(col.value(i)).as_bytes()))
            })
            .collect()
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
    fields.push(Field::new(DQ, DataType::Utf8, true));
    fields.push(Field::new(DOB_PARTS, DataType::Utf8, true));
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

    let actions: Vec<OnInvalid> = feed.columns.iter().map(|c| feed.on_invalid(c)).collect();
    // The first quarantining rule each row breaks, with the column that broke it.
    let mut failure: Vec<Option<(Rule, usize)>> = vec![None; rows];
    // Fields nulled, as (row, column, rule), column by column: rare, so one flat list.
    let mut nulled: Vec<(usize, usize, Rule)> = Vec::new();
    let mut columns: Vec<ArrayRef> = Vec::with_capacity(feed.columns.len() + 3);
    // Rare (a mistyped date of birth), so made only when the first one is seen.
    let mut dob_parts: Option<StringBuilder> = None;
    for (ci, (col, input)) in feed.columns.iter().zip(&inputs).enumerate() {
        let mut builder = TypedBuilder::for_column(col, rows);
        let mut scratch = String::with_capacity(64);
        for (r, fail) in failure.iter_mut().enumerate() {
            let checked = col.check_cell(input.is_valid(r).then(|| input.value(r)), &mut scratch);
            let value = match checked {
                Ok(v) => v,
                Err(rule) => {
                    if let Some(parts) = readable_dob(col, actions[ci], rule, || input.value(r)) {
                        let b = dob_parts.get_or_insert_with(|| StringBuilder::with_capacity(rows, 0));
                        b.extend(std::iter::repeat_n(None::<&str>, r - b.len()));
                        b.append_value(std::str::from_utf8(&parts).unwrap_or_default());
                    }
                    match actions[ci] {
                        OnInvalid::Null => nulled.push((r, ci, rule)),
                        OnInvalid::Quarantine if fail.is_none() => *fail = Some((rule, ci)),
                        OnInvalid::Quarantine => {}
                    }
                    None
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
    let (dq, nulled) = data_quality(feed, &failure, nulled);
    columns.push(dq);
    columns.push(match dob_parts {
        Some(mut b) => {
            b.extend(std::iter::repeat_n(None::<&str>, rows - b.len()));
            Arc::new(b.finish())
        }
        None => arrow_array::new_null_array(&DataType::Utf8, rows),
    });
    let all = RecordBatch::try_new(schema.clone(), columns)?;

    let mut rejects = raw.rejects;
    let keep: BooleanArray = failure.iter().map(|f| Some(f.is_none())).collect();
    let batch = if keep.true_count() == rows {
        all
    } else {
        for (r, f) in failure.iter().enumerate() {
            if let Some((rule, ci)) = f {
                let reference = inputs.get(rid).filter(|_| *ci != rid || *rule == Rule::DuplicateRecordId);
                let record_id = reference
                    .filter(|a| a.is_valid(r))
                    .map(|a| tellonce_schemas::check::as_shown(a.value(r)).into_owned())
                    .filter(|v| !v.is_empty());
                rejects.push(RawReject {
                    position: positions.value(r),
                    rule: *rule,
                    column: Some(feed.columns[*ci].name.to_owned()),
                    raw: row_as_json(feed, &inputs, r),
                    record_id,
                });
            }
        }
        rejects.sort_by_key(|r| r.position);
        arrow_select::filter::filter_record_batch(&all, &keep)?
    };
    Ok(Validated { checked: CheckedBatch { lineage: raw.lineage, feed, batch }, rejects, nulled })
}

/// The readable parts of the date of birth the linkage encodings read, where validation nulls
/// it as no date (or as a date in the future), for [`DOB_PARTS`]; `None` for any other column,
/// rule or value.
fn readable_dob<'a>(col: &Column, action: OnInvalid, rule: Rule, raw: impl FnOnce() -> &'a str) -> Option<[u8; 10]> {
    let date_rule = matches!(rule, Rule::DateFormat | Rule::DateCalendar | Rule::DateRange | Rule::DateInFuture);
    let linked = col.kind == Kind::BirthDate && col.name == MatchField::DateOfBirth.column_name();
    if !linked || action != OnInvalid::Null || !date_rule {
        return None;
    }
    dates::readable_parts(raw())
}

/// Each row's `_dq` (`column:rule;…` in schema order, null when nothing was nulled), and the
/// counts of fields nulled in the rows kept. `nulled` is (row, column, rule), column by column.
fn data_quality(
    feed: &FeedSchema,
    failure: &[Option<(Rule, usize)>],
    mut nulled: Vec<(usize, usize, Rule)>,
) -> (ArrayRef, Nulled) {
    let rows = failure.len();
    let mut counts = Nulled::new();
    if nulled.is_empty() {
        return (arrow_array::new_null_array(&DataType::Utf8, rows), counts);
    }
    // Stable: within a row, columns stay in schema order.
    nulled.sort_by_key(|&(r, _, _)| r);
    let mut builder = StringBuilder::with_capacity(rows, nulled.len() * 32);
    let mut line = String::with_capacity(64);
    let mut at = nulled.iter().peekable();
    for (r, fail) in failure.iter().enumerate() {
        line.clear();
        while let Some(&(_, ci, rule)) = at.next_if(|(row, _, _)| *row == r) {
            let name = feed.columns[ci].name;
            if !line.is_empty() {
                line.push(DQ_ENTRY_SEPARATOR);
            }
            line.push_str(&nulled_key(name, rule));
            if fail.is_none() {
                *counts.entry((name, rule)).or_default() += 1;
            }
        }
        if line.is_empty() { builder.append_null() } else { builder.append_value(&line) }
    }
    (Arc::new(builder.finish()), counts)
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
    use tellonce_schemas::{Kind, Role, feed};

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
            withdrawn: Vec::new(),
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

    /// Each row's `_dq`, in batch order.
    fn dq(b: &RecordBatch) -> Vec<Option<String>> {
        b.column_by_name(DQ).unwrap().as_string::<i32>().iter().map(|v| v.map(str::to_owned)).collect()
    }

    #[test]
    fn a_bad_identifier_is_nulled_and_a_bad_event_date_or_duplicate_quarantines() {
        let f = feed::latest("youth_justice").unwrap();
        let mut bad_pnc = GOOD.to_vec();
        bad_pnc[1] = ("pnc_id", "12/52834L");
        let mut no_surname = GOOD.to_vec();
        no_surname.retain(|(k, _)| *k != "surname");
        // A bad postcode too: the record is quarantined for its date, and nothing is counted nulled.
        let mut bad_date = GOOD.to_vec();
        bad_date[5] = ("postcode", "not a postcode");
        bad_date[6] = ("offence_date", "2023-02-30");
        let raw = raw_batch(f, &[GOOD, &bad_pnc, &no_surname, &bad_date, GOOD]);
        let v = validate(raw, f, &checked_schema(f), &[false, false, false, false, true]).unwrap();
        let b = &v.checked.batch;
        assert_eq!(b.num_rows(), 3);
        let got: Vec<_> = v.rejects.iter().map(|r| (r.position, r.rule, r.column.clone().unwrap())).collect();
        assert_eq!(
            got,
            vec![
                (5, Rule::DateCalendar, "offence_date".to_owned()),
                (6, Rule::DuplicateRecordId, "record_id".to_owned()),
            ]
        );
        let raw_json: serde_json::Value = serde_json::from_slice(&v.rejects[0].raw).unwrap();
        assert_eq!(raw_json["offence_date"], "2023-02-30");
        assert_eq!(
            dq(b),
            [None, Some("pnc_id:pnc_id.check_character".to_owned()), Some("surname:value.required".to_owned())]
        );
        let col = |n: &str| b.column(f.index_of(n).unwrap()).clone();
        assert!(col("pnc_id").is_null(1) && col("surname").is_null(2), "nulled fields hold no value");
        assert_eq!(col("surname").as_string::<i32>().value(1), "ONEIL", "the rest of the record is kept");
        assert_eq!(col("offence_category").as_string::<i32>().value(1), "THEFT");
        let want: Nulled = [(("pnc_id", Rule::PncCheckCharacter), 1), (("surname", Rule::Required), 1)].into();
        assert_eq!(v.nulled, want);
    }

    #[test]
    fn placeholders_and_pseudo_postcodes_are_nulled_as_their_own_categories() {
        let f = feed::latest("youth_justice").unwrap();
        let mut homeless = GOOD.to_vec();
        homeless[1] = ("pnc_id", "0000/0000000Z");
        homeless[5] = ("postcode", "zz99 3vz");
        let mut not_known = GOOD.to_vec();
        not_known[0] = ("record_id", "YJ-2");
        not_known[4] = ("date_of_birth", "2099-01-01");
        not_known[5] = ("postcode", "N/K");
        let raw = raw_batch(f, &[&homeless, &not_known]);
        let v = validate(raw, f, &checked_schema(f), &[false, false]).unwrap();
        assert!(v.rejects.is_empty(), "{:?}", v.rejects);
        let b = &v.checked.batch;
        assert_eq!(
            dq(b),
            [
                Some("pnc_id:pnc_id.placeholder;postcode:postcode.no_fixed_abode".to_owned()),
                Some("date_of_birth:date.in_future;postcode:postcode.not_known".to_owned()),
            ]
        );
        for c in ["postcode", "pnc_id"] {
            assert!(b.column(f.index_of(c).unwrap()).is_null(0), "{c}");
        }
        assert_eq!(v.nulled.get(&("postcode", Rule::PostcodeNoFixedAbode)), Some(&1));
        assert_eq!(v.nulled.get(&("postcode", Rule::PostcodeNotKnown)), Some(&1));
        assert_eq!(v.nulled.values().sum::<u64>(), 4);
    }

    #[test]
    fn a_column_may_override_what_an_invalid_value_does() {
        static COLS: [Column; 4] = [
            Column::new("record_id", Kind::Reference { max_bytes: 8 }, Role::RecordReference, "r")
                .required()
                .when_invalid(OnInvalid::Null),
            Column::new("postcode", Kind::Postcode, Role::QuasiIdentifier, "p").when_invalid(OnInvalid::Quarantine),
            Column::new("seen", Kind::Date, Role::EventAttribute, "d").required(),
            Column::new("score", Kind::Integer { min: 0, max: 9 }, Role::EventAttribute, "s")
                .when_invalid(OnInvalid::Null),
        ];
        static FEED: FeedSchema = FeedSchema {
            name: "t",
            version: 1,
            partner: "t",
            description: "t",
            event_date: "seen",
            updated: None,
            columns: &COLS,
        };
        let ok: &[(&str, &str)] = &[("record_id", "A"), ("postcode", "RH10 1AB"), ("seen", "2024-01-02")];
        let homeless: &[(&str, &str)] = &[("record_id", "B"), ("postcode", "NFA"), ("seen", "2024-01-02")];
        let bad_score: &[(&str, &str)] = &[("record_id", "C"), ("seen", "2024-01-02"), ("score", "99")];
        let no_date: &[(&str, &str)] = &[("record_id", "D")];
        let no_ref: &[(&str, &str)] = &[("seen", "2024-01-02")];
        let raw = raw_batch(&FEED, &[ok, homeless, bad_score, no_date, no_ref]);
        let v = validate(raw, &FEED, &checked_schema(&FEED), &[false; 5]).unwrap();
        let got: Vec<_> = v.rejects.iter().map(|r| (r.position, r.rule, r.column.clone().unwrap())).collect();
        assert_eq!(
            got,
            vec![
                (3, Rule::PostcodeNoFixedAbode, "postcode".to_owned()),
                (5, Rule::Required, "seen".to_owned()),
                (6, Rule::Required, "record_id".to_owned()),
            ]
        );
        assert_eq!(dq(&v.checked.batch), [None, Some("score:integer.range".to_owned())]);
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
