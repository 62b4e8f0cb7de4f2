//! Rewriting a raw batch's values as the mapping says: constants, codes, dates, booleans and
//! decimals, column by column. Only the columns a mapping rewrites are rebuilt.

use std::sync::Arc;

use arrow_array::builder::StringBuilder;
use arrow_array::cast::AsArray;
use arrow_array::{Array, ArrayRef, RecordBatch};
use arrow_schema::ArrowError;

use super::Mapping;

impl Mapping {
    /// The batch with every rewritten column replaced; the other columns are shared. Spellings
    /// of a missing value are emptied first, in every column, before any other rule.
    pub(crate) fn apply(&self, batch: &RecordBatch) -> Result<RecordBatch, ArrowError> {
        let mut columns: Vec<ArrayRef> = batch.columns().to_vec();
        for (i, rule) in self.rules.iter().enumerate() {
            if !rule.rewrites() && self.nulls.is_empty() {
                continue;
            }
            let Some(col) = columns.get(i).and_then(|c| c.as_string_opt::<i32>()) else {
                return Err(ArrowError::SchemaError(format!("column {i} of a raw batch is not Utf8")));
            };
            let blanked = self.nulls.blank(col);
            if !rule.rewrites() {
                if let Some(b) = blanked {
                    columns[i] = Arc::new(b);
                }
                continue;
            }
            let col = blanked.as_ref().unwrap_or(col);
            let mut out = StringBuilder::with_capacity(col.len(), col.value_data().len());
            for r in 0..col.len() {
                let value = (!col.is_null(r)).then(|| col.value(r));
                match rule.rewrite(value) {
                    Some(v) => out.append_value(v),
                    None => out.append_null(),
                }
            }
            columns[i] = Arc::new(out.finish());
        }
        RecordBatch::try_new(batch.schema(), columns)
    }
}
