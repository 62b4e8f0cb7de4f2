//! What keyed hashing alone costs an ingest run: the floor under `tellonce bench`'s figures.
//!
//! Every 16-byte column of the staging dataset (tokens, match keys, blocking keys) is one
//! HMAC-SHA256 per non-null value, so the files themselves say how many were computed; timing
//! the same HMAC here gives the CPU those hashes took, and so the records/s no run on this
//! machine's cores can pass while computing them.

use std::path::Path;
use std::time::Instant;

use arrow_array::Array;
use arrow_array::cast::AsArray;
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::basic::Type as PhysicalType;
use tellonce_governance::Tokeniser;

/// HMACs behind the staging files under `dir`: the non-null values of their 16-byte columns.
pub(super) fn tokens_written(dir: &Path) -> anyhow::Result<u64> {
    let mut total = 0u64;
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            total += tokens_written(&path)?;
            continue;
        }
        if path.extension().is_none_or(|e| e != "parquet") {
            continue;
        }
        // Token columns carry no statistics (their min and max say nothing and would leak),
        // so the nulls are counted by reading just those columns.
        let builder = ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(&path)?)?;
        let leaves: Vec<usize> = builder
            .parquet_schema()
            .columns()
            .iter()
            .enumerate()
            .filter(|(_, c)| c.physical_type() == PhysicalType::FIXED_LEN_BYTE_ARRAY && c.type_length() == 16)
            .map(|(i, _)| i)
            .collect();
        let mask = ProjectionMask::leaves(builder.parquet_schema(), leaves);
        for batch in builder.with_projection(mask).build()? {
            let batch = batch?;
            total += batch.columns().iter().map(|c| non_null_values(c.as_ref())).sum::<u64>();
        }
    }
    Ok(total)
}

/// Non-null values of a token column, or of the keys in a match-key column's lists.
fn non_null_values(array: &dyn Array) -> u64 {
    match array.as_list_opt::<i32>() {
        Some(list) => {
            let offsets = list.value_offsets();
            let (first, last) = (offsets.first().copied().unwrap_or(0), offsets.last().copied().unwrap_or(0));
            let keys = list.values().slice(first as usize, (last - first) as usize);
            non_null_values(keys.as_ref())
        }
        None => (array.len() - array.null_count()) as u64,
    }
}

/// Nanoseconds one token takes (HMAC-SHA256 of a short value, as the pipeline computes them),
/// the median of five rounds.
pub(super) fn hmac_ns(tokeniser: &Tokeniser) -> f64 {
    const N: u64 = 200_000;
    let mut rounds: Vec<f64> = (0..5)
        .map(|_| {
            let started = Instant::now();
            let mut sink = 0u8;
            for i in 0..N {
                // A value of the length of an NHS number, different each time.
                let mut value = [b'0'; 10];
                let mut x = 9_000_000_000 + i;
                for b in value.iter_mut().rev() {
                    *b = b'0' + (x % 10) as u8;
                    x /= 10;
                }
                sink ^= tokeniser.token("nhs_number", &value)[0];
            }
            std::hint::black_box(sink);
            started.elapsed().as_secs_f64() * 1e9 / N as f64
        })
        .collect();
    rounds.sort_by(f64::total_cmp);
    rounds[2]
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_array::builder::{FixedSizeBinaryBuilder, ListBuilder};
    use arrow_array::{ArrayRef, RecordBatch, StringArray};

    use super::*;

    #[test]
    fn counts_the_non_null_tokens_and_listed_keys_of_16_byte_columns_only() {
        let mut tokens = FixedSizeBinaryBuilder::new(16);
        for i in 0..5u8 {
            if i % 2 == 0 { tokens.append_value([i; 16]).unwrap() } else { tokens.append_null() }
        }
        let mut keys = ListBuilder::new(FixedSizeBinaryBuilder::new(16));
        for n in [1usize, 0, 0, 2, 1] {
            for _ in 0..n {
                keys.values().append_value([7; 16]).unwrap();
            }
            if n == 0 { keys.append_null() } else { keys.append(true) }
        }
        let mut wide = FixedSizeBinaryBuilder::new(128);
        for _ in 0..5 {
            wide.append_value([1; 128]).unwrap();
        }
        let columns: Vec<(&str, ArrayRef)> = vec![
            ("token", Arc::new(tokens.finish())),
            ("keys", Arc::new(keys.finish())),
            ("bloom", Arc::new(wide.finish())),
            ("text", Arc::new(StringArray::from(vec!["a"; 5]))),
        ];
        let batch = RecordBatch::try_from_iter(columns).unwrap();
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("feed=x")).unwrap();
        let file = std::fs::File::create(dir.path().join("feed=x/part.parquet")).unwrap();
        let mut writer = parquet::arrow::ArrowWriter::try_new(file, batch.schema(), None).unwrap();
        writer.write(&batch).unwrap();
        writer.close().unwrap();
        // 3 tokens and 4 keys; the 128-byte filters are not HMACs of their own.
        assert_eq!(tokens_written(dir.path()).unwrap(), 7);
    }
}
