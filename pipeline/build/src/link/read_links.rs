//! Reading `links/` back, row by row: for `link-eval` and `link-explain`.

use std::fs::File;
use std::path::{Path, PathBuf};

use arrow_array::cast::AsArray;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use super::LinkError;
use super::output::LINKS;

/// One row of `links/`, borrowed from the batch being read.
#[derive(Debug, Clone, Copy)]
pub struct LinkRow<'a> {
    /// The feed (from the partition directory).
    pub feed: &'a str,
    /// The partner's record reference.
    pub record_ref: &'a str,
    /// The person.
    pub person_id: &'a str,
    /// The family.
    pub family_id: &'a str,
    /// The rule that first joined the record to its person (`none` for a person of one record).
    pub match_rule: &'a str,
}

/// Calls `row` for every row of `<out>/links/`, feed by feed and part by part in name order.
pub fn for_each_link(out: &Path, row: &mut dyn FnMut(LinkRow<'_>)) -> Result<(), LinkError> {
    let links = out.join(LINKS);
    for dir in sorted_entries(&links)? {
        let Some(feed) = dir.file_name().and_then(|n| n.to_str()).and_then(|n| n.strip_prefix("feed=")) else {
            continue;
        };
        let parts = sorted_entries(&dir)?.into_iter().filter(|p| p.extension().is_some_and(|x| x == "parquet"));
        for part in parts {
            let err = |message: String| LinkError::Staging { path: part.clone(), message };
            let file = File::open(&part).map_err(|e| err(e.to_string()))?;
            let reader = ParquetRecordBatchReaderBuilder::try_new(file)
                .and_then(|b| b.build())
                .map_err(|e| err(e.to_string()))?;
            for batch in reader {
                let batch = batch.map_err(|e| err(e.to_string()))?;
                let text = |name: &str| {
                    batch
                        .column_by_name(name)
                        .and_then(|c| c.as_string_opt::<i32>())
                        .ok_or_else(|| err(format!("no column {name}")))
                };
                let (r, p, f, m) = (text("record_ref")?, text("person_id")?, text("family_id")?, text("match_rule")?);
                for i in 0..batch.num_rows() {
                    row(LinkRow {
                        feed,
                        record_ref: r.value(i),
                        person_id: p.value(i),
                        family_id: f.value(i),
                        match_rule: m.value(i),
                    });
                }
            }
        }
    }
    Ok(())
}

fn sorted_entries(dir: &Path) -> Result<Vec<PathBuf>, LinkError> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|source| LinkError::Output { path: dir.to_owned(), source })?
        .flatten()
        .map(|e| e.path())
        .collect();
    paths.sort();
    Ok(paths)
}
