//! Officers' decisions: pairs of records an officer checked in the source systems and found to
//! be, or not to be, one person. `[linkage] decisions` names a CSV of them (the sheet `tellonce
//! link-review --csv` prints, filled in, or any file with the columns `record_a`, `record_b` and
//! `same_person`). Every build honours them: two records decided apart are never put in one
//! person, whatever the rules and the scoring say, and two decided to be one person are linked
//! (rule `decision`) unless a strong identifier disagrees or another decision keeps them apart.
//! A model can be wrong about a pair; an officer who has looked is the authority, and the file,
//! its hash and what each build made of it are in the audit log.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use tellonce_governance::audit::LinkageDecisions;

use super::LinkError;
use super::explain::RecordName;
use super::quality::ReviewPair;
use super::records::Records;

/// The columns a decisions file must have; others (the review sheet's levels, an officer's
/// note) are read past.
const COLUMNS: [&str; 3] = ["record_a", "record_b", "same_person"];

/// One decision, as the file states it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// One record.
    pub a: RecordName,
    /// The other.
    pub b: RecordName,
    /// True: one person. False: two people.
    pub same: bool,
}

/// A decisions file, read and checked.
#[derive(Debug, Clone)]
pub struct Decisions {
    /// The file, as configured.
    pub path: PathBuf,
    /// SHA-256 of its bytes (hex): part of what a build is made from.
    pub sha256: String,
    /// The decisions, one per pair of records (rows left blank are not decisions).
    pub decisions: Vec<Decision>,
}

impl Decisions {
    /// Reads `path`. A row whose `same_person` is blank is undecided and skipped; anything else
    /// must be yes or no (also y/n, true/false, 1/0, same/different, any case). Errors name the
    /// line and the column, never the value: a record reference and a decision, though not
    /// identifiers, are still nobody else's business.
    pub fn load(path: &Path) -> Result<Decisions, LinkError> {
        let bad = |line: u64, column: &str, rule: &str| LinkError::Decisions {
            path: path.to_owned(),
            line,
            column: column.to_owned(),
            message: rule.to_owned(),
        };
        let bytes = std::fs::read(path).map_err(|e| bad(0, "", &format!("cannot read the file: {e}")))?;
        let mut reader = csv::ReaderBuilder::new().flexible(false).from_reader(bytes.as_slice());
        let headers = reader.headers().map_err(|e| bad(1, "", &csv_rule(&e)))?.clone();
        let mut at = [0usize; 3];
        for (slot, name) in at.iter_mut().zip(COLUMNS) {
            *slot = headers
                .iter()
                .position(|h| h.trim().eq_ignore_ascii_case(name))
                .ok_or_else(|| bad(1, name, "the heading is missing"))?;
        }
        // The line each pair was decided on, to name both lines of a contradiction.
        let mut seen: HashMap<(RecordName, RecordName), (u64, bool)> = HashMap::new();
        let mut decisions = Vec::new();
        for row in reader.records() {
            let row = row.map_err(|e| bad(e.position().map_or(0, |p| p.line()), "", &csv_rule(&e)))?;
            let line = row.position().map_or(0, |p| p.line());
            let field = |i: usize| row.get(at[i]).unwrap_or("").trim();
            let Some(same) = parse_decision(field(2)).map_err(|rule| bad(line, COLUMNS[2], rule))? else {
                continue;
            };
            let name = |i: usize| {
                RecordName::parse(field(i))
                    .ok_or_else(|| bad(line, COLUMNS[i], "not a record reference FEED:RECORD_ID"))
            };
            let (a, b) = (name(0)?, name(1)?);
            if a == b {
                return Err(bad(line, COLUMNS[1], "the same record as record_a"));
            }
            let key = if (&a.feed, &a.record_ref) <= (&b.feed, &b.record_ref) { (a, b) } else { (b, a) };
            match seen.get(&key) {
                Some(&(first, before)) if before != same => {
                    return Err(bad(
                        line,
                        COLUMNS[2],
                        &format!("contradicts the decision on line {first} on the same pair"),
                    ));
                }
                Some(_) => continue,
                None => {
                    seen.insert(key.clone(), (line, same));
                }
            }
            decisions.push(Decision { a: key.0, b: key.1, same });
        }
        // One order whatever the file's: which of two decisions of one person a third of two
        // people refuses must not depend on the order rows were typed in.
        decisions.sort_by(|x, y| (&x.a, &x.b).cmp(&(&y.a, &y.b)));
        // The bytes read, not the file again: an officer saving meanwhile must not make the hash
        // name decisions this build did not apply.
        let mut hasher = tellonce_connectors::hashing::HashingWriter::new(std::io::sink());
        std::io::Write::write_all(&mut hasher, &bytes).map_err(|e| bad(0, "", &e.to_string()))?;
        Ok(Decisions { path: path.to_owned(), sha256: hasher.finish().1, decisions })
    }

    /// The decisions in record numbers of `recs` (the first row of each partner record; all its
    /// rows are one person by the `same_record` rule). A decision naming a record not staged
    /// now (not yet sent, erased, past retention) is counted, not applied.
    pub fn resolve(&self, recs: &Records) -> Resolved {
        let mut wanted: HashMap<(&str, &str), Option<u32>> = HashMap::new();
        for d in &self.decisions {
            for r in [&d.a, &d.b] {
                wanted.insert((r.feed.as_str(), r.record_ref.as_str()), None);
            }
        }
        for i in 0..recs.len() {
            if let Some(slot) = wanted.get_mut(&(recs.feed_name(i), recs.record_ref[i].as_str()))
                && slot.is_none()
            {
                *slot = Some(i as u32);
            }
        }
        let mut out = Resolved::default();
        for d in &self.decisions {
            let find = |r: &RecordName| wanted.get(&(r.feed.as_str(), r.record_ref.as_str())).copied().flatten();
            match (find(&d.a), find(&d.b), d.same) {
                (Some(a), Some(b), true) => out.same.push((a, b)),
                (Some(a), Some(b), false) => out.apart.push((a, b)),
                _ => out.not_found += 1,
            }
        }
        out
    }

    /// The records decided to be other people than `record`.
    pub fn apart_from(&self, record: &RecordName) -> Vec<RecordName> {
        let other = |d: &Decision| {
            if d.a == *record {
                Some(d.b.clone())
            } else if d.b == *record {
                Some(d.a.clone())
            } else {
                None
            }
        };
        self.decisions.iter().filter(|d| !d.same).filter_map(other).collect()
    }

    /// What the officers decided of a clerical-review sample, by which side of the line
    /// (`threshold_bits`) the model put each pair: the reviewed precision of the links the
    /// model would make near the line, and the true pairs it would leave below it.
    pub fn tally(&self, sample: &[ReviewPair], threshold_bits: f64) -> ReviewTally {
        let decided: HashMap<(&RecordName, &RecordName), bool> =
            self.decisions.iter().flat_map(|d| [((&d.a, &d.b), d.same), ((&d.b, &d.a), d.same)]).collect();
        let mut t = ReviewTally { sampled: sample.len() as u64, ..ReviewTally::default() };
        for p in sample {
            let (Some(a), Some(b)) = (RecordName::parse(&p.a), RecordName::parse(&p.b)) else { continue };
            let Some(&same) = decided.get(&(&a, &b)) else { continue };
            let side = if p.bits >= threshold_bits { &mut t.above } else { &mut t.below };
            side.0 += 1;
            side.1 += u64::from(same);
        }
        t
    }

    /// As the audit log keeps it, with what the build made of it.
    pub fn record(&self, applied: &Applied) -> LinkageDecisions {
        LinkageDecisions {
            path: self.path.display().to_string(),
            sha256: self.sha256.clone(),
            same_person: self.decisions.iter().filter(|d| d.same).count() as u64,
            not_same_person: self.decisions.iter().filter(|d| !d.same).count() as u64,
            linked: applied.linked,
            refused: applied.refused,
            kept_apart: applied.kept_apart,
            not_found: applied.not_found,
        }
    }
}

/// Officers' decisions on a clerical-review sample ([`Decisions::tally`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct ReviewTally {
    /// Pairs in the sample.
    pub sampled: u64,
    /// Pairs at or above the line: (decided, of them one person).
    pub above: (u64, u64),
    /// Pairs below the line: (decided, of them one person).
    pub below: (u64, u64),
}

/// Decisions in record numbers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Resolved {
    /// Pairs decided to be one person.
    pub same: Vec<(u32, u32)>,
    /// Pairs decided to be two people.
    pub apart: Vec<(u32, u32)>,
    /// Decisions naming a record not staged now.
    pub not_found: u64,
}

/// What a build made of the decisions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Applied {
    /// Decisions of one person whose records the build put in one person (by the decision, or
    /// by the rules already).
    pub linked: u64,
    /// Decisions of one person the build could not follow: a strong identifier disagrees, or
    /// another decision keeps the two apart.
    pub refused: u64,
    /// Decisions of two people, all followed: no rule put them in one person.
    pub kept_apart: u64,
    /// Decisions naming a record not staged now.
    pub not_found: u64,
}

/// Reads a decision: `Ok(None)` for a blank (undecided).
fn parse_decision(value: &str) -> Result<Option<bool>, &'static str> {
    match value.to_ascii_lowercase().as_str() {
        "" => Ok(None),
        "yes" | "y" | "true" | "1" | "same" => Ok(Some(true)),
        "no" | "n" | "false" | "0" | "different" => Ok(Some(false)),
        _ => Err("must be yes or no (or blank: not decided)"),
    }
}

/// A CSV reader's error as a rule, without the bytes it met.
fn csv_rule(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::Utf8 { .. } => "not UTF-8 text".to_owned(),
        csv::ErrorKind::UnequalLengths { expected_len, len, .. } => {
            format!("{len} fields where the heading has {expected_len}")
        }
        csv::ErrorKind::Io(e) => format!("cannot read: {e}"),
        _ => "not CSV".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Result<Decisions, LinkError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("decisions.csv");
        std::fs::write(&path, text).unwrap();
        Decisions::load(&path)
    }

    fn message(text: &str) -> String {
        load(text).unwrap_err().to_string()
    }

    #[test]
    fn a_filled_review_sheet_reads_as_decisions_and_blank_rows_are_undecided() {
        let sheet = "record_a,record_b,bits,probability,linked,levels,same_person\n\
                     police:P1,camhs:C1,21.5,0.95,true,forename=exact,No\n\
                     police:P2,camhs:C2,18.0,0.70,false,forename=exact,\n\
                     camhs:C3,police:P3,19.0,0.80,false,forename=exact,yes\n\
                     police:P3,camhs:C3,19.0,0.80,false,forename=exact,y\n";
        let d = load(sheet).unwrap();
        assert_eq!(d.decisions.len(), 2, "the blank row is undecided and the repeat is one decision");
        assert!(!d.decisions[0].same);
        assert_eq!(d.decisions[0].a.to_string(), "camhs:C1", "pairs are kept in one order");
        assert!(d.decisions[1].same);
        assert_eq!(d.sha256.len(), 64);
    }

    #[test]
    fn a_review_sample_is_tallied_by_the_side_of_the_line_the_model_put_each_pair() {
        let d = load(
            "record_a,record_b,same_person\npolice:P1,camhs:C1,yes\ncamhs:C2,police:P2,no\n\
             police:P3,camhs:C3,yes\npolice:P4,camhs:C4,no\n",
        )
        .unwrap();
        let pair = |a: &str, b: &str, bits: f64| ReviewPair {
            a: a.to_owned(),
            b: b.to_owned(),
            bits,
            probability: 0.5,
            linked: false,
            levels: Default::default(),
        };
        let sample = [
            pair("police:P1", "camhs:C1", 22.0),
            pair("police:P2", "camhs:C2", 21.0),
            pair("camhs:C3", "police:P3", 19.0),
            pair("police:P9", "camhs:C9", 19.5),
        ];
        let t = d.tally(&sample, 20.0);
        assert_eq!(t, ReviewTally { sampled: 4, above: (2, 1), below: (1, 1) });
    }

    #[test]
    fn bad_files_are_refused_naming_the_line_and_column_never_the_value() {
        let m = message("record_a,record_b\npolice:P1,camhs:C1\n");
        assert!(m.contains("same_person") && m.contains("heading is missing"), "{m}");
        let m = message("record_a,record_b,same_person\npolice:P1,camhs:C1,perhaps\n");
        assert!(m.contains("line 2") && m.contains("same_person") && !m.contains("perhaps"), "{m}");
        let m = message("record_a,record_b,same_person\nP1-NO-FEED,camhs:C1,no\n");
        assert!(m.contains("line 2") && m.contains("record_a") && !m.contains("P1-NO-FEED"), "{m}");
        let m = message("record_a,record_b,same_person\npolice:P1,police:P1,no\n");
        assert!(m.contains("record_b") && m.contains("same record"), "{m}");
        let m = message("record_a,record_b,same_person\npolice:P1,camhs:C1,no\ncamhs:C1,police:P1,yes\n");
        assert!(m.contains("line 3") && m.contains("line 2") && m.contains("contradicts"), "{m}");
        let m = message("record_a,record_b,same_person\npolice:P1,camhs:C1\n");
        assert!(m.contains("line 2") && m.contains("2 fields"), "{m}");
        let dir = tempfile::tempdir().unwrap();
        let m = Decisions::load(&dir.path().join("absent.csv")).unwrap_err().to_string();
        assert!(m.contains("absent.csv") && m.contains("cannot read"), "{m}");
    }
}
