//! The digest of a staged row's shared content, which tells a re-sent record that did not
//! change from one that did.
//!
//! The digest covers every column whose name does not start with `_` (lineage and quality
//! columns: where and when a row arrived is not what it says) and that is not derived from the
//! others (geography, match and blocking keys, Bloom filters: they follow from the columns they
//! are made from, and hashing them would only cost time), each as its name and a typed,
//! length-prefixed encoding of its value, so that the same content gives the same digest
//! whatever the batch or file it sits in, and a column added to a feed changes it. The encoding
//! is our own rather than Arrow's row format, which is not promised to stay the same between
//! Arrow releases: an upgrade must not make every held record look changed.

use arrow_array::cast::AsArray;
use arrow_array::types::{Date32Type, Float64Type, Int32Type, Int64Type, UInt8Type, UInt64Type};
use arrow_array::{Array, ArrayRef, FixedSizeBinaryArray};
use arrow_schema::{DataType, Schema};
use sha2::{Digest, Sha256};
use tellonce_schemas::staging::TOKEN_BYTES;

/// Bytes in a record digest (SHA-256, first 128 bits).
pub const DIGEST_BYTES: usize = TOKEN_BYTES as usize;

/// A column type the digest cannot encode; the staging schema never holds one.
#[derive(Debug, thiserror::Error)]
#[error("column {column}: type {data_type} has no digest encoding")]
pub struct UnsupportedColumn {
    /// The column's name.
    pub column: String,
    /// Its Arrow type.
    pub data_type: DataType,
}

/// Whether a column is part of a row's content (not lineage, quality or derived).
pub fn is_content(name: &str) -> bool {
    !name.starts_with('_') && !tellonce_schemas::staging::is_derived(name)
}

/// The digest of every row of `columns` (laid out as `schema`, which may have more fields than
/// `columns` has arrays: only the first `columns.len()` are read).
pub fn row_digests(schema: &Schema, columns: &[ArrayRef]) -> Result<Vec<[u8; DIGEST_BYTES]>, UnsupportedColumn> {
    let content: Vec<(&str, &ArrayRef)> = schema
        .fields()
        .iter()
        .zip(columns)
        .filter(|(f, _)| is_content(f.name()))
        .map(|(f, a)| (f.name().as_str(), a))
        .collect();
    let typed: Vec<(&str, Typed<'_>)> =
        content.iter().map(|(name, array)| Ok((*name, Typed::of(name, array.as_ref())?))).collect::<Result<_, _>>()?;
    let rows = columns.first().map_or(0, |a| a.len());
    let mut out = Vec::with_capacity(rows);
    let mut buf = Vec::with_capacity(256);
    for row in 0..rows {
        buf.clear();
        for (name, array) in &typed {
            buf.extend_from_slice(name.as_bytes());
            buf.push(0);
            array.encode(row, &mut buf);
        }
        let hash = Sha256::digest(&buf);
        let mut digest = [0u8; DIGEST_BYTES];
        digest.copy_from_slice(&hash[..DIGEST_BYTES]);
        out.push(digest);
    }
    Ok(out)
}

/// The digests as a column (`FixedSizeBinary(16)`, never null).
pub fn digest_column(digests: &[[u8; DIGEST_BYTES]]) -> ArrayRef {
    let flat: Vec<u8> = digests.iter().flatten().copied().collect();
    std::sync::Arc::new(FixedSizeBinaryArray::new(TOKEN_BYTES, arrow_buffer::Buffer::from_vec(flat), None))
}

/// A column downcast once per batch, so that each cell is encoded without looking up its type.
enum Typed<'a> {
    Boolean(&'a arrow_array::BooleanArray),
    Date32(&'a arrow_array::Date32Array),
    Float64(&'a arrow_array::Float64Array),
    Int32(&'a arrow_array::Int32Array),
    Int64(&'a arrow_array::Int64Array),
    UInt8(&'a arrow_array::UInt8Array),
    UInt64(&'a arrow_array::UInt64Array),
    Utf8(&'a arrow_array::StringArray),
    Fixed(&'a FixedSizeBinaryArray),
    /// A list, with its items typed.
    List(&'a arrow_array::ListArray, Box<Typed<'a>>),
}

impl<'a> Typed<'a> {
    fn of(name: &str, array: &'a dyn Array) -> Result<Self, UnsupportedColumn> {
        Ok(match array.data_type() {
            DataType::Boolean => Typed::Boolean(array.as_boolean()),
            DataType::Date32 => Typed::Date32(array.as_primitive::<Date32Type>()),
            DataType::Float64 => Typed::Float64(array.as_primitive::<Float64Type>()),
            DataType::Int32 => Typed::Int32(array.as_primitive::<Int32Type>()),
            DataType::Int64 => Typed::Int64(array.as_primitive::<Int64Type>()),
            DataType::UInt8 => Typed::UInt8(array.as_primitive::<UInt8Type>()),
            DataType::UInt64 => Typed::UInt64(array.as_primitive::<UInt64Type>()),
            DataType::Utf8 => Typed::Utf8(array.as_string::<i32>()),
            DataType::FixedSizeBinary(_) => Typed::Fixed(array.as_fixed_size_binary()),
            DataType::List(_) => {
                let list = array.as_list::<i32>();
                Typed::List(list, Box::new(Typed::of(name, list.values().as_ref())?))
            }
            other => return Err(UnsupportedColumn { column: name.to_owned(), data_type: other.clone() }),
        })
    }

    /// Appends one value: a null flag, then the value in a fixed-width or length-prefixed form.
    fn encode(&self, row: usize, buf: &mut Vec<u8>) {
        let valid = match self {
            Typed::Boolean(a) => a.is_valid(row),
            Typed::Date32(a) => a.is_valid(row),
            Typed::Float64(a) => a.is_valid(row),
            Typed::Int32(a) => a.is_valid(row),
            Typed::Int64(a) => a.is_valid(row),
            Typed::UInt8(a) => a.is_valid(row),
            Typed::UInt64(a) => a.is_valid(row),
            Typed::Utf8(a) => a.is_valid(row),
            Typed::Fixed(a) => a.is_valid(row),
            Typed::List(a, _) => a.is_valid(row),
        };
        if !valid {
            buf.push(0);
            return;
        }
        buf.push(1);
        match self {
            Typed::Boolean(a) => buf.push(u8::from(a.value(row))),
            Typed::Date32(a) => buf.extend_from_slice(&a.value(row).to_le_bytes()),
            Typed::Float64(a) => buf.extend_from_slice(&a.value(row).to_bits().to_le_bytes()),
            Typed::Int32(a) => buf.extend_from_slice(&a.value(row).to_le_bytes()),
            Typed::Int64(a) => buf.extend_from_slice(&a.value(row).to_le_bytes()),
            Typed::UInt8(a) => buf.push(a.value(row)),
            Typed::UInt64(a) => buf.extend_from_slice(&a.value(row).to_le_bytes()),
            Typed::Utf8(a) => length_prefixed(a.value(row).as_bytes(), buf),
            Typed::Fixed(a) => length_prefixed(a.value(row), buf),
            Typed::List(a, items) => {
                let offsets = a.value_offsets();
                let (start, end) = (offsets[row] as usize, offsets[row + 1] as usize);
                buf.extend_from_slice(&((end - start) as u32).to_le_bytes());
                for i in start..end {
                    items.encode(i, buf);
                }
            }
        }
    }
}

fn length_prefixed(bytes: &[u8], buf: &mut Vec<u8>) {
    buf.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
    buf.extend_from_slice(bytes);
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_array::{Int64Array, StringArray, UInt64Array};
    use arrow_schema::Field;

    use super::*;

    fn schema() -> Schema {
        Schema::new(vec![
            Field::new("a", DataType::Utf8, true),
            Field::new("b", DataType::Int64, true),
            Field::new("_position", DataType::UInt64, true),
        ])
    }

    #[test]
    fn the_same_content_has_the_same_digest_wherever_it_arrived() {
        let a: ArrayRef = Arc::new(StringArray::from(vec![Some("x"), Some("x"), None, Some("")]));
        let b: ArrayRef = Arc::new(Int64Array::from(vec![Some(1), Some(1), Some(1), Some(1)]));
        let pos: ArrayRef = Arc::new(UInt64Array::from(vec![1, 2, 3, 4]));
        let d = row_digests(&schema(), &[a, b, pos]).unwrap();
        assert_eq!(d[0], d[1], "lineage is not content");
        assert_ne!(d[0], d[2]);
        assert_ne!(d[2], d[3], "a null is not an empty string");
    }

    #[test]
    fn values_cannot_run_into_the_next_column() {
        let s = Schema::new(vec![Field::new("a", DataType::Utf8, true), Field::new("b", DataType::Utf8, true)]);
        let one: Vec<ArrayRef> = vec![Arc::new(StringArray::from(vec!["ab"])), Arc::new(StringArray::from(vec!["c"]))];
        let two: Vec<ArrayRef> = vec![Arc::new(StringArray::from(vec!["a"])), Arc::new(StringArray::from(vec!["bc"]))];
        assert_ne!(row_digests(&s, &one).unwrap(), row_digests(&s, &two).unwrap());
    }

    #[test]
    fn columns_derived_from_others_are_not_content() {
        let s = Schema::new(vec![
            Field::new("a", DataType::Utf8, true),
            Field::new(tellonce_schemas::staging::SMALL_AREA, DataType::Utf8, true),
        ]);
        let one: Vec<ArrayRef> = vec![Arc::new(StringArray::from(vec!["x"])), Arc::new(StringArray::from(vec!["E1"]))];
        let two: Vec<ArrayRef> = vec![Arc::new(StringArray::from(vec!["x"])), Arc::new(StringArray::from(vec!["E2"]))];
        assert_eq!(row_digests(&s, &one).unwrap(), row_digests(&s, &two).unwrap());
    }

    #[test]
    fn a_type_without_an_encoding_is_refused() {
        let s = Schema::new(vec![Field::new("a", DataType::Float32, true)]);
        let a: ArrayRef = Arc::new(arrow_array::Float32Array::from(vec![1.0]));
        assert!(row_digests(&s, &[a]).is_err());
    }
}
