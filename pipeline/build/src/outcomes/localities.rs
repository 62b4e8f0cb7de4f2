//! Family hub localities: which small areas each locality covers, from the deployment's lookup
//! file (`[outcomes] localities`): a CSV with a header naming a `small_area` and a `locality`
//! column (others are ignored), one row per small area.
//!
//! A small area the lookup does not list is counted under `unknown` in the locality table, as a
//! person with no known area is; the build summary says how many persons that was.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use crate::link::LinkError;

/// Small area → family hub locality.
#[derive(Debug, Clone, Default)]
pub struct Localities {
    by_area: HashMap<String, String>,
    /// Every locality the lookup names, in order.
    pub names: BTreeSet<String>,
}

impl Localities {
    /// Reads the lookup, refusing a file that breaks its rules with the line, the column and the
    /// rule (never the value).
    pub fn load(path: &Path) -> Result<Localities, LinkError> {
        let err = |message: String| LinkError::Reference { path: path.to_owned(), message };
        let mut reader = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .from_path(path)
            .map_err(|e| err(format!("cannot be read: {}", e.kind_name())))?;
        let headers = reader.headers().map_err(|e| err(format!("line 1: {}", e.kind_name())))?.clone();
        let column = |name: &str| {
            headers
                .iter()
                .position(|h| h.eq_ignore_ascii_case(name))
                .ok_or_else(|| err(format!("line 1: no column {name} in the header")))
        };
        let (area_at, locality_at) = (column("small_area")?, column("locality")?);
        let mut out = Localities::default();
        for record in reader.records() {
            let record = record.map_err(|e| {
                let line = e.position().map_or(0, csv::Position::line);
                err(format!("line {line}: {}", e.kind_name()))
            })?;
            let line = record.position().map_or(0, csv::Position::line);
            let field = |at: usize, name: &str| match record.get(at) {
                Some(v) if !v.is_empty() => Ok(v.to_owned()),
                _ => Err(err(format!("line {line}, column {name}: empty"))),
            };
            let (area, locality) = (field(area_at, "small_area")?, field(locality_at, "locality")?);
            // The published tables label their own rows so: a locality may not take those names.
            if [super::aggregates::UNKNOWN, super::aggregates::TOTAL].iter().any(|r| locality.eq_ignore_ascii_case(r)) {
                return Err(err(format!(
                    "line {line}, column locality: the names unknown and Total are kept for the tables' own rows"
                )));
            }
            match out.by_area.get(&area) {
                Some(held) if *held != locality => {
                    return Err(err(format!(
                        "line {line}, column small_area: the small area is already in another locality"
                    )));
                }
                Some(_) => {}
                None => {
                    out.names.insert(locality.clone());
                    out.by_area.insert(area, locality);
                }
            }
        }
        if out.by_area.is_empty() {
            return Err(err("no small area is listed".to_owned()));
        }
        Ok(out)
    }

    /// The locality of a small area, if the lookup lists it.
    pub fn of(&self, small_area: &str) -> Option<&str> {
        self.by_area.get(small_area).map(String::as_str)
    }
}

/// How a csv error reads in a message, without the value it was reading.
trait KindName {
    fn kind_name(&self) -> String;
}

impl KindName for csv::Error {
    fn kind_name(&self) -> String {
        match self.kind() {
            csv::ErrorKind::Io(e) => e.to_string(),
            csv::ErrorKind::Utf8 { .. } => "not UTF-8 text".to_owned(),
            csv::ErrorKind::UnequalLengths { expected_len, len, .. } => {
                format!("{len} fields where the header has {expected_len}")
            }
            _ => "not CSV".to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lookup_maps_small_areas_and_a_bad_one_is_refused_by_line_and_rule() {
        let dir = std::env::temp_dir().join(format!("tellonce-localities-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let write = |name: &str, text: &str| {
            let p = dir.join(name);
            std::fs::write(&p, text).unwrap();
            p
        };
        let good = write("good.csv", "locality,small_area,note\nWorthing,E01,x\nWorthing,E02,\nCrawley,E03,\n");
        let l = Localities::load(&good).unwrap();
        assert_eq!(l.of("E02"), Some("Worthing"));
        assert_eq!(l.of("E09"), None);
        assert_eq!(l.names.iter().map(String::as_str).collect::<Vec<_>>(), ["Crawley", "Worthing"]);
        for (text, rule) in [
            ("small_area,hub\nE01,A\n", "line 1: no column locality"),
            ("small_area,locality\nE01,A\nE01,SECRET-B\n", "line 3, column small_area: the small area is already"),
            ("small_area,locality\nE01,\n", "line 2, column locality: empty"),
            ("small_area,locality\nE01,A,extra\n", "line 2: 3 fields where the header has 2"),
            ("small_area,locality\n", "no small area is listed"),
            ("small_area,locality\nE01,Unknown\n", "line 2, column locality: the names unknown and Total"),
        ] {
            let e = Localities::load(&write("bad.csv", text)).unwrap_err().to_string();
            assert!(e.contains(rule) && e.contains("bad.csv"), "{e}");
            assert!(!e.contains("SECRET"), "{e}");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
