//! Reference data used at the edge: the postcode lookup that attaches small area, district and
//! IMD decile before the full postcode is discarded.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tellonce_schemas::identifiers::postcode;

/// Geography of one postcode.
#[derive(Debug, Clone, PartialEq)]
pub struct Geography {
    /// Small area code (LSOA-like; synthetic in the demo).
    pub small_area: Arc<str>,
    /// District or borough.
    pub district: Arc<str>,
    /// IMD decile, 1 = most deprived.
    pub imd_decile: u8,
}

/// Postcode → geography.
#[derive(Debug, Default)]
pub struct PostcodeLookup {
    by_postcode: HashMap<String, Geography>,
}

/// Errors reading the lookup.
#[derive(Debug, thiserror::Error)]
pub enum LookupError {
    /// Unreadable file.
    #[error("cannot read postcode lookup {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: csv::Error,
    },
    /// A row breaks the format.
    #[error("postcode lookup {path} line {line}: {rule}")]
    Row {
        /// The file.
        path: PathBuf,
        /// The line.
        line: u64,
        /// What is wrong (never the value).
        rule: &'static str,
    },
}

impl PostcodeLookup {
    /// Loads `postcode,small_area,district,imd_decile` (header required).
    pub fn load(path: &Path) -> Result<PostcodeLookup, LookupError> {
        let read_err = |source| LookupError::Read { path: path.to_owned(), source };
        let mut rdr = csv::Reader::from_path(path).map_err(read_err)?;
        let mut by_postcode = HashMap::new();
        let mut areas: HashMap<String, Arc<str>> = HashMap::new();
        let mut districts: HashMap<String, Arc<str>> = HashMap::new();
        for rec in rdr.records() {
            let rec = rec.map_err(read_err)?;
            let line = rec.position().map_or(0, |p| p.line());
            let row_err = |rule| LookupError::Row { path: path.to_owned(), line, rule };
            if rec.len() != 4 {
                return Err(row_err("expected 4 fields: postcode,small_area,district,imd_decile"));
            }
            let pc = postcode::normalise(&rec[0]).map_err(|_| row_err("postcode.format"))?;
            let imd: u8 = rec[3].trim().parse().map_err(|_| row_err("imd_decile must be 1..10"))?;
            if !(1..=10).contains(&imd) {
                return Err(row_err("imd_decile must be 1..10"));
            }
            let intern = |map: &mut HashMap<String, Arc<str>>, s: &str| -> Arc<str> {
                map.entry(s.to_owned()).or_insert_with(|| Arc::from(s)).clone()
            };
            let geo = Geography {
                small_area: intern(&mut areas, rec[1].trim()),
                district: intern(&mut districts, rec[2].trim()),
                imd_decile: imd,
            };
            by_postcode.insert(pc, geo);
        }
        Ok(PostcodeLookup { by_postcode })
    }

    /// The geography of a normalised postcode.
    pub fn get(&self, normalised_postcode: &str) -> Option<&Geography> {
        self.by_postcode.get(normalised_postcode)
    }

    /// Number of postcodes known.
    pub fn len(&self) -> usize {
        self.by_postcode.len()
    }

    /// Whether no postcode is known.
    pub fn is_empty(&self) -> bool {
        self.by_postcode.is_empty()
    }
}
