//! Accumulates one bounded batch of rows (as Utf8 columns) and source rejects.

use std::sync::Arc;

use arrow_array::builder::StringBuilder;
use arrow_array::{ArrayRef, RecordBatch, StringArray, UInt64Array, new_null_array};
use arrow_schema::{ArrowError, DataType, Field, Schema, SchemaRef};
use tellonce_schemas::{FeedSchema, Rule, staging};

use super::RawReject;

/// Once the rejects held for a batch reach this many raw bytes, the batch is handed on even if
/// it has fewer than `batch_rows` rows, so that a file of long rejected lines cannot pile up
/// `batch_rows × max_line_bytes` in memory.
const MAX_REJECT_BYTES_PER_BATCH: usize = 8 << 20;

/// Bytes per value reserved for a column's first batch; later batches reserve what the
/// previous one used.
const FIRST_BATCH_BYTES_PER_VALUE: usize = 16;

/// The Arrow schema of a raw batch: one nullable Utf8 column per feed column, in schema order,
/// then a non-null UInt64 `_position`.
pub(super) fn raw_schema(feed: &FeedSchema) -> SchemaRef {
    let mut fields: Vec<Field> = feed.columns.iter().map(|c| Field::new(c.name, DataType::Utf8, true)).collect();
    fields.push(Field::new(staging::POSITION, DataType::UInt64, false));
    Arc::new(Schema::new(fields))
}

/// The rows and rejects of the batch being read.
#[derive(Debug)]
pub(super) struct BatchBuilder {
    schema: SchemaRef,
    /// One builder per schema column; `None` for a column the input cannot hold (a CSV
    /// column absent from the header), which becomes an all-null array.
    columns: Vec<Option<StringBuilder>>,
    /// Value bytes each column used in the previous batch, to size the next.
    value_bytes: Vec<usize>,
    positions: Vec<u64>,
    rejects: Vec<RawReject>,
    reject_bytes: usize,
    first: Option<u64>,
    last: u64,
    batch_rows: usize,
}

/// What [`BatchBuilder::take`] hands over.
pub(super) struct Taken {
    pub(super) batch: RecordBatch,
    pub(super) rejects: Vec<RawReject>,
    /// The withdrawal marker's cells, if the file has the column (they are not passed on).
    pub(super) marker: Option<StringArray>,
    pub(super) first: u64,
    pub(super) last: u64,
}

impl Taken {
    /// The batch as read from `source` against `feed`.
    pub(super) fn into_raw(self, feed: &tellonce_schemas::FeedSchema, source: &str) -> super::RawBatch {
        super::RawBatch {
            lineage: crate::lineage::Lineage {
                feed: feed.name,
                schema_version: feed.version,
                source: source.to_owned(),
                first_position: self.first,
                last_position: self.last,
            },
            batch: self.batch,
            rejects: self.rejects,
            withdrawn: Vec::new(),
        }
    }
}

impl BatchBuilder {
    /// A builder for batches of at most `batch_rows` rows and rejects together; `present[i]`
    /// says whether schema column `i` can have values. An entry past the schema's columns is
    /// the withdrawal marker, gathered beside the batch.
    pub(super) fn new(schema: SchemaRef, present: &[bool], batch_rows: usize) -> Self {
        let batch_rows = batch_rows.max(1);
        let value_bytes = vec![batch_rows.saturating_mul(FIRST_BATCH_BYTES_PER_VALUE); present.len()];
        let columns = present
            .iter()
            .zip(&value_bytes)
            .map(|(&p, &bytes)| p.then(|| StringBuilder::with_capacity(batch_rows, bytes)))
            .collect();
        BatchBuilder {
            schema,
            columns,
            value_bytes,
            positions: Vec::with_capacity(batch_rows),
            rejects: Vec::new(),
            reject_bytes: 0,
            first: None,
            last: 0,
            batch_rows,
        }
    }

    /// Rows (and rejected records) in the batch so far.
    pub(super) fn len(&self) -> usize {
        self.positions.len() + self.rejects.len()
    }

    /// Whether the batch should be handed on before another record is read.
    pub(super) fn is_full(&self) -> bool {
        self.positions.len() + self.rejects.len() >= self.batch_rows || self.reject_bytes >= MAX_REJECT_BYTES_PER_BATCH
    }

    /// Appends a value to column `i` of the current row; an empty value is null.
    #[inline]
    pub(super) fn append(&mut self, i: usize, value: &str) {
        if let Some(Some(b)) = self.columns.get_mut(i) {
            if value.is_empty() {
                b.append_null();
            } else {
                b.append_value(value);
            }
        }
    }

    /// Appends a null to column `i` of the current row.
    #[inline]
    pub(super) fn append_null(&mut self, i: usize) {
        if let Some(Some(b)) = self.columns.get_mut(i) {
            b.append_null();
        }
    }

    /// Ends the current row, which started at `position`. Every present column must have had
    /// exactly one value or null appended since the previous row ended.
    #[inline]
    pub(super) fn end_row(&mut self, position: u64) {
        self.positions.push(position);
        self.touch(position);
    }

    /// Records a rejected record.
    pub(super) fn reject(&mut self, position: u64, rule: Rule, column: Option<&str>, raw: &[u8]) {
        self.reject_bytes += raw.len();
        // Rejected before its fields were read: its reference is not known.
        let (column, raw) = (column.map(str::to_owned), raw.to_vec());
        self.rejects.push(RawReject { position, rule, column, raw, record_id: None });
        self.touch(position);
    }

    fn touch(&mut self, position: u64) {
        self.first.get_or_insert(position);
        self.last = position;
    }

    /// Hands over the rows and rejects gathered so far, if any, and starts a new batch.
    pub(super) fn take(&mut self) -> Result<Option<Taken>, ArrowError> {
        let Some(first) = self.first.take() else { return Ok(None) };
        let rows = self.positions.len();
        let feed_columns = self.schema.fields().len() - 1;
        let mut arrays: Vec<ArrayRef> = Vec::with_capacity(self.columns.len() + 1);
        let mut marker = None;
        for (i, (col, hint)) in self.columns.iter_mut().zip(self.value_bytes.iter_mut()).enumerate() {
            let done = col.as_mut().map(|b| {
                let used = b.values_slice().len();
                // Reserve what this batch used plus an eighth, so most batches never grow.
                *hint = used + used / 8;
                std::mem::replace(b, StringBuilder::with_capacity(self.batch_rows, *hint)).finish()
            });
            match done {
                _ if i >= feed_columns => marker = done,
                Some(a) => arrays.push(Arc::new(a)),
                None => arrays.push(new_null_array(&DataType::Utf8, rows)),
            }
        }
        let positions = std::mem::replace(&mut self.positions, Vec::with_capacity(self.batch_rows));
        arrays.push(Arc::new(UInt64Array::from(positions)));
        let batch = RecordBatch::try_new(Arc::clone(&self.schema), arrays)?;
        self.reject_bytes = 0;
        Ok(Some(Taken { batch, rejects: std::mem::take(&mut self.rejects), marker, first, last: self.last }))
    }
}
