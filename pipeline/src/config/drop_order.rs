//! The order a drop folder's files are read in. Partners name monthly extracts by the date they
//! cover, often day first (`hv_31-01-2026.csv`, `hv_28-02-2026.csv`), and path order would read
//! February's before January's, so January's older versions would supersede February's. Where
//! every file's name holds one date, files are read in the order of those dates; otherwise in
//! path order.

use std::path::PathBuf;

use tellonce_schemas::identifiers::dates;

/// Sorts `paths` by the date each file name holds (ties and equal dates by path), where every
/// name holds exactly one; otherwise by path.
pub(super) fn sort(paths: &mut [PathBuf]) {
    paths.sort();
    let dated: Option<Vec<i32>> =
        paths.iter().map(|p| p.file_name().and_then(|n| n.to_str()).and_then(name_date)).collect();
    if let Some(days) = dated {
        let mut keyed: Vec<(i32, PathBuf)> = days.into_iter().zip(paths.iter().cloned()).collect();
        keyed.sort();
        for (slot, (_, path)) in paths.iter_mut().zip(keyed) {
            *slot = path;
        }
    }
}

/// The one date a file name holds, as days since 1970-01-01: `YYYY-MM-DD` or `DD-MM-YYYY` (a
/// UK date, day first), with `-`, `_`, `.` or a space between the parts, or eight digits
/// `YYYYMMDD` or `DDMMYYYY`. `None` where it holds none, or more than one.
fn name_date(name: &str) -> Option<i32> {
    let bytes = name.as_bytes();
    // Runs of digits: (start, end).
    let mut runs: Vec<(usize, usize)> = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i].is_ascii_digit() {
            let start = i;
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                i += 1;
            }
            runs.push((start, i));
        } else {
            i += 1;
        }
    }
    let num = |(a, b): (usize, usize)| name[a..b].parse::<u32>().ok();
    let joined =
        |x: (usize, usize), y: (usize, usize)| y.0 == x.1 + 1 && matches!(bytes[x.1], b'-' | b'_' | b'.' | b' ');
    let mut found: Vec<i32> = Vec::new();
    let mut k = 0;
    while k < runs.len() {
        let len = |r: (usize, usize)| r.1 - r.0;
        if k + 2 < runs.len() && joined(runs[k], runs[k + 1]) && joined(runs[k + 1], runs[k + 2]) {
            let (a, b, c) = (runs[k], runs[k + 1], runs[k + 2]);
            let ymd = match (len(a), len(b), len(c)) {
                (4, 1..=2, 1..=2) => Some((num(a)?, num(b)?, num(c)?)),
                (1..=2, 1..=2, 4) => Some((num(c)?, num(b)?, num(a)?)),
                _ => None,
            };
            if let Some(day) = ymd.and_then(|(y, m, d)| iso(y, m, d)) {
                found.push(day);
                k += 3;
                continue;
            }
        }
        if len(runs[k]) == 8 {
            let r = runs[k];
            let (y, m, d) = (num((r.0, r.0 + 4))?, num((r.0 + 4, r.0 + 6))?, num((r.0 + 6, r.1))?);
            let (d2, m2, y2) = (num((r.0, r.0 + 2))?, num((r.0 + 2, r.0 + 4))?, num((r.0 + 4, r.1))?);
            if let Some(day) = iso(y, m, d).or_else(|| iso(y2, m2, d2)) {
                found.push(day);
            }
        }
        k += 1;
    }
    match found.as_slice() {
        [one] => Some(*one),
        _ => None,
    }
}

/// The day `y-m-d` as days since 1970-01-01, for a year 1900–2099 and a real day.
fn iso(y: u32, m: u32, d: u32) -> Option<i32> {
    if !(1900..=2099).contains(&y) {
        return None;
    }
    dates::parse_value(&format!("{y:04}-{m:02}-{d:02}")).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sorted(names: &[&str]) -> Vec<String> {
        let mut paths: Vec<PathBuf> = names.iter().map(|n| PathBuf::from("drop").join(n)).collect();
        sort(&mut paths);
        paths.iter().map(|p| p.file_name().unwrap().to_string_lossy().into_owned()).collect()
    }

    #[test]
    fn files_named_by_the_date_they_cover_are_read_in_date_order() {
        assert_eq!(
            sorted(&["hv_31-01-2026.csv", "hv_28-02-2026.csv", "hv_15-12-2025.csv"]),
            ["hv_15-12-2025.csv", "hv_31-01-2026.csv", "hv_28-02-2026.csv"]
        );
        assert_eq!(sorted(&["b 2026.02.01.xlsx", "a 2026.03.01.xlsx"]), ["b 2026.02.01.xlsx", "a 2026.03.01.xlsx"]);
        assert_eq!(sorted(&["x_01022026.csv", "x_20260115.csv"]), ["x_20260115.csv", "x_01022026.csv"]);
        // One name without a date, or with two: path order for all.
        assert_eq!(sorted(&["hv_31-01-2026.csv", "hv_latest.csv"]), ["hv_31-01-2026.csv", "hv_latest.csv"]);
        assert_eq!(
            sorted(&["hv_28-02-2026_to_31-03-2026.csv", "hv_31-01-2026.csv"]),
            ["hv_28-02-2026_to_31-03-2026.csv", "hv_31-01-2026.csv"]
        );
        // Numbers that are no date (a run number, a sequence) leave path order.
        assert_eq!(sorted(&["part-2.csv", "part-10.csv"]), ["part-10.csv", "part-2.csv"]);
        assert_eq!(name_date("hv_31-02-2026.csv"), None, "no such day");
        assert_eq!(name_date("extract 2026-02-28.csv"), name_date("extract 28_02_2026.csv"));
    }
}
