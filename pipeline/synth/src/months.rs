//! A year of monthly extracts of the synthetic feeds, as partners send them: each month the open
//! cases again (a cumulative snapshot), with some records corrected since the month before and
//! some withdrawn; and the same months as deltas (new and corrected records only; a JSON Lines
//! delta with nothing in it is not written) with a withdrawals file each. Records over time (#17) are tested and measured on them.
//!
//! Each record of a feed file [`crate::generate`] wrote is given, from the seed and its
//! `record_id` alone, the month it is first sent (three in five are open in the first month,
//! the rest arrive evenly), and for each later month a 2 % chance of a correction (another code
//! in the first coded event attribute of its feed) and a 0.5 % chance of being withdrawn (never
//! sent again). `truth/months.csv` lists each record's plan, so the holding at the end of any
//! month is known without reading the extracts.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use tellonce_schemas::{Kind, Role};

use crate::FeedFile;
use crate::out::io_err;
use crate::rng::Rng;

/// Share of records already open in the first month.
const OPEN_AT_START: f64 = 0.6;
/// Chance, each month after its first, that a record is corrected.
const CORRECTED: f64 = 0.02;
/// Chance, each month after its first, that a record is withdrawn.
const WITHDRAWN: f64 = 0.005;
/// The most months written.
pub const MAX_MONTHS: u32 = 60;

/// What [`write_months`] wrote.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct MonthsSummary {
    /// Months written.
    pub months: u32,
    /// `truth/months.csv`: each record's first month, withdrawal month and correction months.
    pub truth: PathBuf,
    /// Records withdrawn over the months, all feeds.
    pub withdrawn: usize,
    /// Corrections over the months, all feeds.
    pub corrections: usize,
}

/// One record's year.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Plan {
    /// The month it is first sent (1-based).
    first: u32,
    /// The month from which it is no longer sent, if any.
    withdrawn: Option<u32>,
    /// The months in which it is sent corrected.
    corrected: Vec<u32>,
}

impl Plan {
    fn new(seed: u64, feed: &str, record_id: &str, months: u32) -> Plan {
        let mut rng = Rng::derive(seed, &[0x4d4f_4e54, fnv(feed.as_bytes()), fnv(record_id.as_bytes())]);
        let first =
            if months <= 1 || rng.chance(OPEN_AT_START) { 1 } else { 2 + rng.below(u64::from(months - 1)) as u32 };
        let (mut withdrawn, mut corrected) = (None, Vec::new());
        for m in first + 1..=months {
            if rng.chance(WITHDRAWN) {
                withdrawn = Some(m);
                break;
            }
            if rng.chance(CORRECTED) {
                corrected.push(m);
            }
        }
        Plan { first, withdrawn, corrected }
    }

    /// Whether the record is in the partner's holding at the end of `month`.
    fn held(&self, month: u32) -> bool {
        self.first <= month && self.withdrawn.is_none_or(|w| w > month)
    }

    /// How many corrections it has had by the end of `month`.
    fn version(&self, month: u32) -> usize {
        self.corrected.iter().filter(|&&m| m <= month).count()
    }
}

/// FNV-1a: a stable hash of a name, to key the record's draws.
fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3))
}

/// A feed file's records, as written.
enum Records {
    /// The header and the rows.
    Csv(Vec<String>, Vec<Vec<String>>),
    /// One object a line.
    Jsonl(Vec<serde_json::Map<String, serde_json::Value>>),
}

impl Records {
    fn read(file: &FeedFile) -> Result<Records, crate::SynthError> {
        let path = &file.path;
        let f = std::fs::File::open(path).map_err(|e| io_err(path, e))?;
        if file.format == "jsonl" {
            let mut rows = Vec::new();
            for line in BufReader::new(f).lines() {
                let line = line.map_err(|e| io_err(path, e))?;
                let row = serde_json::from_str(&line).map_err(|e| io_err(path, e.into()))?;
                rows.push(row);
            }
            return Ok(Records::Jsonl(rows));
        }
        let mut reader = csv::Reader::from_reader(f);
        let header = reader.headers().map_err(|e| io_err(path, e.into()))?.iter().map(str::to_owned).collect();
        let mut rows = Vec::new();
        for row in reader.records() {
            rows.push(row.map_err(|e| io_err(path, e.into()))?.iter().map(str::to_owned).collect());
        }
        Ok(Records::Csv(header, rows))
    }

    fn len(&self) -> usize {
        match self {
            Records::Csv(_, rows) => rows.len(),
            Records::Jsonl(rows) => rows.len(),
        }
    }

    /// Row `i`'s value of `column` (empty when absent).
    fn get(&self, i: usize, column: &str) -> String {
        match self {
            Records::Csv(header, rows) => {
                header.iter().position(|h| h == column).and_then(|j| rows[i].get(j)).cloned().unwrap_or_default()
            }
            Records::Jsonl(rows) => match rows[i].get(column) {
                Some(serde_json::Value::String(s)) => s.clone(),
                Some(serde_json::Value::Null) | None => String::new(),
                Some(other) => other.to_string(),
            },
        }
    }
}

/// The column a correction changes: the feed's first coded event attribute with two codes or
/// more, and its codes.
fn corrected_column(feed: &str) -> Option<(&'static str, &'static [&'static str])> {
    let schema = crate::specs::schema_of(feed)?;
    schema.columns.iter().find_map(|c| match c.kind {
        Kind::Code(codes) if c.role == Role::EventAttribute && codes.len() >= 2 => Some((c.name, codes)),
        _ => None,
    })
}

/// Writes `months` monthly extracts of each feed in `feeds` under `out/months/`:
/// `MM/<feed>.<ext>` (the holding at the end of month MM), `MM/delta/<feed>.<ext>` (records
/// first sent or corrected in month MM) and `MM/withdrawn/<feed>.csv` (the `record_id`s
/// withdrawn in month MM), and each record's plan to `out/truth/months.csv`.
pub fn write_months(
    out: &Path,
    feeds: &[FeedFile],
    months: u32,
    seed: u64,
) -> Result<MonthsSummary, crate::SynthError> {
    if months == 0 || months > MAX_MONTHS {
        let message = format!("synth: --months must be 1 to {MAX_MONTHS} (asked for {months})");
        return Err(io_err(out, std::io::Error::new(std::io::ErrorKind::InvalidInput, message)));
    }
    let truth_path = out.join("truth").join("months.csv");
    let mut truth = create(&truth_path)?;
    writeln!(truth, "feed,record_id,first_month,withdrawn_month,corrected_months")
        .map_err(|e| io_err(&truth_path, e))?;
    let mut summary = MonthsSummary { months, truth: truth_path.clone(), withdrawn: 0, corrections: 0 };
    for file in feeds {
        let records = Records::read(file)?;
        let correction = corrected_column(file.feed);
        let plans: Vec<Plan> =
            (0..records.len()).map(|i| Plan::new(seed, file.feed, &records.get(i, "record_id"), months)).collect();
        for (i, p) in plans.iter().enumerate() {
            let corrected: Vec<String> = p.corrected.iter().map(u32::to_string).collect();
            let withdrawn = p.withdrawn.map(|w| w.to_string()).unwrap_or_default();
            writeln!(
                truth,
                "{},{},{},{withdrawn},{}",
                file.feed,
                records.get(i, "record_id"),
                p.first,
                corrected.join(";")
            )
            .map_err(|e| io_err(&truth_path, e))?;
            summary.withdrawn += usize::from(p.withdrawn.is_some());
            summary.corrections += p.corrected.len();
        }
        for month in 1..=months {
            let dir = out.join("months").join(format!("{month:02}"));
            let in_delta = |p: &Plan| p.held(month) && (p.first == month || p.corrected.contains(&month));
            let ext = file.format;
            write_month(&dir.join(format!("{}.{ext}", file.feed)), &records, &plans, correction, month, |p| {
                p.held(month)
            })?;
            write_month(
                &dir.join("delta").join(format!("{}.{ext}", file.feed)),
                &records,
                &plans,
                correction,
                month,
                in_delta,
            )?;
            let path = dir.join("withdrawn").join(format!("{}.csv", file.feed));
            let mut w = create(&path)?;
            writeln!(w, "record_id,reason").map_err(|e| io_err(&path, e))?;
            for (i, _) in plans.iter().enumerate().filter(|(_, p)| p.withdrawn == Some(month)) {
                writeln!(w, "{},sent in error", records.get(i, "record_id")).map_err(|e| io_err(&path, e))?;
            }
            w.flush().map_err(|e| io_err(&path, e))?;
        }
    }
    truth.flush().map_err(|e| io_err(&truth_path, e))?;
    Ok(summary)
}

fn create(path: &Path) -> Result<BufWriter<std::fs::File>, crate::SynthError> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| io_err(dir, e))?;
    }
    Ok(BufWriter::new(std::fs::File::create(path).map_err(|e| io_err(path, e))?))
}

/// The code a record's correction `version` gives: the code `version` places after its own.
fn corrected_code(codes: &[&'static str], own: &str, version: usize) -> &'static str {
    let at = codes.iter().position(|c| c.eq_ignore_ascii_case(own)).unwrap_or(0);
    codes[(at + version) % codes.len()]
}

/// Writes the records `keep` selects, each as it stands at the end of `month`. A JSON Lines
/// extract with no record is not written: an empty file is refused as a failed export, so a
/// partner with nothing to send sends nothing.
fn write_month(
    path: &Path,
    records: &Records,
    plans: &[Plan],
    correction: Option<(&'static str, &'static [&'static str])>,
    month: u32,
    keep: impl Fn(&Plan) -> bool,
) -> Result<(), crate::SynthError> {
    if matches!(records, Records::Jsonl(_)) && !plans.iter().any(&keep) {
        return match std::fs::remove_file(path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io_err(path, e)),
            _ => Ok(()),
        };
    }
    let mut w = create(path)?;
    let err = |e: std::io::Error| io_err(path, e);
    match records {
        Records::Csv(header, rows) => {
            let mut csv = csv::Writer::from_writer(&mut w);
            csv.write_record(header).map_err(|e| err(e.into()))?;
            let at = correction.and_then(|(c, _)| header.iter().position(|h| h == c));
            for (row, p) in rows.iter().zip(plans).filter(|(_, p)| keep(p)) {
                let mut row = row.clone();
                if let (Some(j), Some((_, codes))) = (at, correction)
                    && p.version(month) > 0
                {
                    row[j] = corrected_code(codes, &row[j], p.version(month)).to_owned();
                }
                csv.write_record(&row).map_err(|e| err(e.into()))?;
            }
            csv.flush().map_err(err)?;
        }
        Records::Jsonl(rows) => {
            for (row, p) in rows.iter().zip(plans).filter(|(_, p)| keep(p)) {
                let mut row = row.clone();
                if let Some((column, codes)) = correction
                    && p.version(month) > 0
                {
                    let own = row.get(column).and_then(|v| v.as_str()).unwrap_or_default().to_owned();
                    let code = corrected_code(codes, &own, p.version(month));
                    row.insert(column.to_owned(), serde_json::Value::String(code.to_owned()));
                }
                serde_json::to_writer(&mut w, &row).map_err(|e| err(e.into()))?;
                w.write_all(b"\n").map_err(err)?;
            }
        }
    }
    w.flush().map_err(err)
}

/// Each feed's holding at the end of `month`, from `truth/months.csv`: feed → record ids.
pub fn holding(truth: &Path, month: u32) -> Result<BTreeMap<String, Vec<String>>, crate::SynthError> {
    let text = std::fs::read_to_string(truth).map_err(|e| io_err(truth, e))?;
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let (Some(feed), Some(id), Some(first), Some(withdrawn)) = (f.first(), f.get(1), f.get(2), f.get(3)) else {
            continue;
        };
        let first: u32 = first.parse().unwrap_or(u32::MAX);
        let withdrawn: Option<u32> = withdrawn.parse().ok();
        if first <= month && withdrawn.is_none_or(|w| w > month) {
            out.entry((*feed).to_owned()).or_default().push((*id).to_owned());
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plan_is_the_seeds_and_the_records_alone_and_rates_are_near_their_targets() {
        let a = Plan::new(7, "police", "P-1", 12);
        assert_eq!(a, Plan::new(7, "police", "P-1", 12));
        let plans: Vec<Plan> = (0..20_000).map(|i| Plan::new(7, "police", &format!("P-{i}"), 12)).collect();
        let at_start = plans.iter().filter(|p| p.first == 1).count() as f64 / plans.len() as f64;
        assert!((at_start - OPEN_AT_START).abs() < 0.02, "{at_start}");
        let months_after: usize = plans.iter().map(|p| (12 - p.first) as usize).sum();
        let corrected = plans.iter().map(|p| p.corrected.len()).sum::<usize>() as f64 / months_after as f64;
        assert!((corrected - CORRECTED).abs() < 0.004, "{corrected}");
        let withdrawn = plans.iter().filter(|p| p.withdrawn.is_some()).count();
        assert!(withdrawn > 0 && plans.iter().all(|p| p.withdrawn.is_none_or(|w| w > p.first)));
        let p = Plan { first: 2, withdrawn: Some(5), corrected: vec![3] };
        assert_eq!((p.held(1), p.held(2), p.held(4), p.held(5)), (false, true, true, false));
        assert_eq!((p.version(2), p.version(3)), (0, 1));
    }

    #[test]
    fn a_correction_is_always_another_code() {
        let codes: &[&'static str] = &["A", "B", "C"];
        assert_eq!(corrected_code(codes, "a", 1), "B");
        assert_eq!(corrected_code(codes, "C", 1), "A");
        assert_eq!(corrected_code(codes, "", 1), "B");
    }
}
