//! Helpers for tests that write partner-shaped extracts and compare what they stage with the
//! canonical form.

use std::collections::BTreeMap;
use std::path::Path;

use parquet::record::Field;

use crate::support::{parquet_rows, visible_parquet};

/// The text with every character Windows-1252 cannot hold replaced by `Y`, as a partner's
/// Windows-1252 system would have stored it; the canonical form is written the same, so that
/// both hold the same names.
pub fn windows_1252_safe(text: &str) -> String {
    text.chars()
        .map(|c| {
            let mut buf = [0u8; 4];
            let (_, _, unmappable) = encoding_rs::WINDOWS_1252.encode(c.encode_utf8(&mut buf));
            if unmappable { 'Y' } else { c }
        })
        .collect()
}

/// `rows` (header first) as delimited text with CRLF line ends and RFC 4180 quoting.
pub fn write_delimited(rows: &[Vec<String>], delimiter: u8) -> String {
    let mut w = csv::WriterBuilder::new().delimiter(delimiter).terminator(csv::Terminator::CRLF).from_writer(vec![]);
    for r in rows {
        w.write_record(r).unwrap();
    }
    String::from_utf8(w.into_inner().unwrap()).unwrap()
}

/// Staged rows of `feed` by `record_id`, every column but the lineage (`_source`, `_position`),
/// which differs between forms; what was nulled (`_dq`) must not.
pub fn staged_by_record_id(out: &Path, feed: &str) -> BTreeMap<String, Vec<(String, Field)>> {
    let mut rows = BTreeMap::new();
    for part in visible_parquet(&out.join("staging").join(format!("feed={feed}"))) {
        for row in parquet_rows(&part) {
            let id = match row.iter().find(|(k, _)| k == "record_id") {
                Some((_, Field::Str(s))) => s.clone(),
                other => panic!("record_id: {other:?}"),
            };
            let kept = row.into_iter().filter(|(k, _)| !k.starts_with('_') || k == "_dq").collect();
            assert!(rows.insert(id, kept).is_none(), "record_id staged twice");
        }
    }
    rows
}
