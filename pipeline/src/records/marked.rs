//! Rows a partner's extract marks withdrawn in a column of its own (a source mapping's
//! `[withdrawal]`): taken out of the batch before validation, since they are not records to
//! stage but withdrawals of the records they name.

use arrow_array::cast::AsArray;
use arrow_array::types::UInt64Type;
use arrow_array::{Array, BooleanArray};
use tellonce_connectors::file_source::RawBatch;
use tellonce_schemas::FeedSchema;
use tellonce_schemas::identifiers::dates;
use tellonce_schemas::staging::POSITION;

use super::held::RECORD_ID;

/// A record an extract marks withdrawn.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarkedWithdrawn {
    /// The line (or sheet row) it is on.
    pub position: u64,
    /// Its record reference, as validation reads it (trimmed).
    pub record_id: String,
    /// Its last-updated date (days since 1970), where the feed has the column and the row a
    /// valid date in it: a withdrawal is ordered against the version held as a record is.
    pub updated: Option<i32>,
}

/// Takes out of `raw` the rows its file marks withdrawn that name a valid record reference not
/// seen earlier in the input (`duplicates`, from the input's duplicate index), and returns them
/// with the batch that is left and its rows' duplicate marks.
///
/// A marked row whose reference is missing or invalid, or repeats one seen before, stays in the
/// batch: validation quarantines it as it would any record with that fault, so nothing is
/// lost, and a snapshot whose quarantine holds a record without a readable reference withdraws
/// nothing by absence (fail closed).
pub fn take_withdrawn(
    raw: RawBatch,
    duplicates: Vec<bool>,
    feed: &FeedSchema,
) -> (RawBatch, Vec<bool>, Vec<MarkedWithdrawn>) {
    if !raw.withdrawn.iter().any(|w| *w) {
        return (raw, duplicates, Vec::new());
    }
    let reference = feed
        .index_of(RECORD_ID)
        .and_then(|i| Some((feed.columns.get(i)?, raw.batch.column(i).as_string_opt::<i32>()?)));
    let positions = raw.batch.column_by_name(POSITION).and_then(|c| c.as_primitive_opt::<UInt64Type>());
    let (Some((column, ids)), Some(positions)) = (reference, positions) else {
        // A batch not shaped as read: left whole for validation, which reports its shape.
        return (raw, duplicates, Vec::new());
    };
    let dates = feed.updated.and_then(|u| feed.index_of(u)).and_then(|i| raw.batch.column(i).as_string_opt::<i32>());
    let mut taken = Vec::new();
    let mut keep = Vec::with_capacity(raw.batch.num_rows());
    for i in 0..raw.batch.num_rows() {
        let marked = raw.withdrawn.get(i).copied().unwrap_or(false) && !duplicates.get(i).copied().unwrap_or(false);
        let id = ids
            .is_valid(i)
            .then(|| tellonce_schemas::check::as_shown(ids.value(i)))
            .filter(|v| !v.is_empty() && column.kind.check(v).is_ok());
        match id.filter(|_| marked) {
            Some(id) => {
                let updated = dates.filter(|d| d.is_valid(i)).and_then(|d| dates::parse_value(d.value(i).trim()).ok());
                taken.push(MarkedWithdrawn { position: positions.value(i), record_id: id.into_owned(), updated });
                keep.push(false);
            }
            None => keep.push(true),
        }
    }
    if taken.is_empty() {
        return (raw, duplicates, taken);
    }
    let kept_duplicates = duplicates.iter().zip(&keep).filter(|(_, k)| **k).map(|(d, _)| *d).collect();
    let RawBatch { lineage, batch, rejects, .. } = raw;
    match arrow_select::filter::filter_record_batch(&batch, &BooleanArray::from(keep)) {
        Ok(batch) => (RawBatch { lineage, batch, rejects, withdrawn: Vec::new() }, kept_duplicates, taken),
        // Unreachable (the mask is the batch's length); the rows then stay records, unwithdrawn.
        Err(_) => (RawBatch { lineage, batch, rejects, withdrawn: Vec::new() }, duplicates, Vec::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    use arrow_array::{ArrayRef, RecordBatch, StringArray, UInt64Array};
    use arrow_schema::{DataType, Field, Schema};

    fn raw(ids: &[Option<&str>], withdrawn: Vec<bool>) -> RawBatch {
        let feed = tellonce_schemas::feed::latest("police").unwrap();
        let mut fields: Vec<Field> = feed.columns.iter().map(|c| Field::new(c.name, DataType::Utf8, true)).collect();
        fields.push(Field::new(POSITION, DataType::UInt64, false));
        let rid = feed.index_of(RECORD_ID).unwrap();
        let columns: Vec<ArrayRef> = (0..feed.columns.len())
            .map(|i| -> ArrayRef {
                if i == rid {
                    Arc::new(StringArray::from(ids.to_vec()))
                } else {
                    Arc::new(StringArray::from(vec![None::<&str>; ids.len()]))
                }
            })
            .chain(std::iter::once(Arc::new(UInt64Array::from_iter_values(2..2 + ids.len() as u64)) as ArrayRef))
            .collect();
        let batch = RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).unwrap();
        let lineage = tellonce_connectors::lineage::Lineage {
            feed: feed.name,
            schema_version: feed.version,
            source: "t.csv".to_owned(),
            first_position: 2,
            last_position: 1 + ids.len() as u64,
        };
        RawBatch { lineage, batch, rejects: Vec::new(), withdrawn }
    }

    #[test]
    fn marked_rows_with_a_reference_are_taken_and_the_rest_stay_with_their_marks() {
        let feed = tellonce_schemas::feed::latest("police").unwrap();
        let long = "X".repeat(100);
        let ids = [Some(" P1 "), Some("P2"), None, Some(long.as_str()), Some("P5"), Some("P2")];
        let batch = raw(&ids, vec![true, false, true, true, false, true]);
        let duplicates = vec![false, false, false, false, false, true];
        let (left, marks, taken) = take_withdrawn(batch, duplicates, feed);
        assert_eq!(taken, vec![MarkedWithdrawn { position: 2, record_id: "P1".to_owned(), updated: None }]);
        // P2, the row without a reference, the reference too long, P5, and P2 marked again (a
        // duplicate): validation judges them.
        assert_eq!(left.batch.num_rows(), 5);
        assert_eq!(marks, vec![false, false, false, false, true]);
        assert!(left.withdrawn.is_empty());
    }

    #[test]
    fn a_batch_with_nothing_marked_passes_whole() {
        let feed = tellonce_schemas::feed::latest("police").unwrap();
        let (left, marks, taken) = take_withdrawn(raw(&[Some("P1")], Vec::new()), vec![false], feed);
        assert!(taken.is_empty());
        assert_eq!((left.batch.num_rows(), marks), (1, vec![false]));
    }
}
