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

/// The one date the file name of `path` holds (see [`name_date`]).
pub(crate) fn path_date(path: &str) -> Option<i32> {
    std::path::Path::new(path).file_name().and_then(|n| n.to_str()).and_then(name_date)
}

/// The one date a file name holds, as days since 1970-01-01: `YYYY-MM-DD` or `DD-MM-YYYY` (a
/// UK date, day first), with `-`, `_`, `.` or a space between the parts, or eight digits
/// `YYYYMMDD` or `DDMMYYYY`; a month and its year (`12-2024`, `2024_12`, `Dec 2024`,
/// `december-2024`, `Dec2024`), read as the month's first day; a day, a month's name and a
/// year (`31 Jan 2026`, `31-jan-2026`). `None` where it holds none, or more than one.
fn name_date(name: &str) -> Option<i32> {
    let runs = runs(name);
    let mut found: Vec<i32> = Vec::new();
    let mut k = 0;
    while k < runs.len() {
        let (day, used) = match runs[k].kind {
            Run::Digits => digits_date(name, &runs[k..]),
            Run::Letters => named_month_date(name, &runs[k..]),
        };
        found.extend(day);
        k += used.max(1);
    }
    match found.as_slice() {
        [one] => Some(*one),
        _ => None,
    }
}

/// A run of digits or of ASCII letters in a file name.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Run {
    Digits,
    Letters,
}

/// One run: its kind and where it starts and ends in the name.
#[derive(Debug, Clone, Copy)]
struct Span {
    kind: Run,
    start: usize,
    end: usize,
}

impl Span {
    fn len(self) -> usize {
        self.end - self.start
    }
}

/// The runs of digits and of letters in `name`, in order.
fn runs(name: &str) -> Vec<Span> {
    let bytes = name.as_bytes();
    let kind = |b: u8| match b {
        b'0'..=b'9' => Some(Run::Digits),
        b'a'..=b'z' | b'A'..=b'Z' => Some(Run::Letters),
        _ => None,
    };
    let mut spans: Vec<Span> = Vec::new();
    for (i, &b) in bytes.iter().enumerate() {
        match (kind(b), spans.last_mut()) {
            (Some(k), Some(last)) if last.kind == k && last.end == i => last.end = i + 1,
            (Some(k), _) => spans.push(Span { kind: k, start: i, end: i + 1 }),
            (None, _) => {}
        }
    }
    spans
}

/// Whether `y` follows `x` with one separator between them (`-`, `_`, `.` or a space), or
/// none where one is digits and the other letters (`Dec2024`).
fn joined(name: &str, x: Span, y: Span) -> bool {
    let sep = name.as_bytes().get(x.end).is_some_and(|b| matches!(b, b'-' | b'_' | b'.' | b' '));
    (y.start == x.end + 1 && sep) || (y.start == x.end && x.kind != y.kind)
}

/// The date that the digit runs starting `runs` spell, and how many runs it used.
fn digits_date(name: &str, runs: &[Span]) -> (Option<i32>, usize) {
    let num = |s: Span| name[s.start..s.end].parse::<u32>().ok();
    let digits = |i: usize| runs.get(i).copied().filter(|s| s.kind == Run::Digits);
    let next = |i: usize| digits(i + 1).filter(|&b| digits(i).is_some_and(|a| joined(name, a, b)));
    let Some(a) = digits(0) else { return (None, 1) };
    if let (Some(b), Some(c)) = (next(0), next(1)) {
        // Shaped as a whole date, the three parts are one, a real day or none.
        let ymd = match (a.len(), b.len(), c.len()) {
            (4, 1..=2, 1..=2) => Some((num(a), num(b), num(c))),
            (1..=2, 1..=2, 4) => Some((num(c), num(b), num(a))),
            _ => None,
        };
        if let Some((y, m, d)) = ymd {
            let day = y.zip(m).zip(d).and_then(|((y, m), d)| iso(y, m, d));
            return (day, 3);
        }
    }
    if let Some(b) = next(0) {
        let ym = match (a.len(), b.len()) {
            (4, 1..=2) => num(a).zip(num(b)),
            (1..=2, 4) => num(b).zip(num(a)),
            _ => None,
        };
        if let Some(day) = ym.and_then(|(y, m)| iso(y, m, 1)) {
            return (Some(day), 2);
        }
    }
    // A day, an ordinal's ending where written (`3rd`), a month's name and a year.
    let ordinal = runs.get(1).is_some_and(|s| {
        s.kind == Run::Letters
            && s.start == a.end
            && matches!(name[s.start..s.end].to_ascii_lowercase().as_str(), "st" | "nd" | "rd" | "th")
    });
    let rest = if ordinal { runs.get(1..) } else { Some(runs) };
    if let Some([before, m, y, ..]) = rest
        && a.len() <= 2
        && m.kind == Run::Letters
        && joined(name, *before, *m)
        && let (Some(month), true) = (month_number(&name[m.start..m.end]), y.len() == 4 && joined(name, *m, *y))
    {
        let day = num(a).zip(num(*y)).and_then(|(d, year)| iso(year, month, d));
        return (day, if ordinal { 4 } else { 3 });
    }
    if a.len() == 8 {
        let part = |from: usize, to: usize| name[a.start + from..a.start + to].parse::<u32>().ok();
        let ymd = part(0, 4).zip(part(4, 6)).zip(part(6, 8)).and_then(|((y, m), d)| iso(y, m, d));
        let dmy = || part(4, 8).zip(part(2, 4)).zip(part(0, 2)).and_then(|((y, m), d)| iso(y, m, d));
        return (ymd.or_else(dmy), 1);
    }
    (None, 1)
}

/// The first day of the month whose name starts `runs`, with the year after it, and how many
/// runs it used.
fn named_month_date(name: &str, runs: &[Span]) -> (Option<i32>, usize) {
    let Some(&m) = runs.first() else { return (None, 1) };
    let Some(month) = month_number(&name[m.start..m.end]) else { return (None, 1) };
    let digits = |i: usize, len: std::ops::RangeInclusive<usize>| {
        runs.get(i).copied().filter(|s| s.kind == Run::Digits && len.contains(&s.len()))
    };
    let number = |s: Span| name[s.start..s.end].parse::<u32>().ok();
    // Month first, as a US date is written: `Jan 5 2026`.
    if let (Some(d), Some(y)) = (digits(1, 1..=2), digits(2, 4..=4))
        && joined(name, m, d)
        && joined(name, d, y)
    {
        return (number(d).zip(number(y)).and_then(|(d, year)| iso(year, month, d)), 3);
    }
    let Some(y) = digits(1, 4..=4).filter(|y| joined(name, m, *y)) else { return (None, 1) };
    (number(y).and_then(|year| iso(year, month, 1)), 2)
}

/// The number of a month written as its name or its usual abbreviation, in any case.
fn month_number(word: &str) -> Option<u32> {
    const MONTHS: [&str; 12] = [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ];
    let word = word.to_ascii_lowercase();
    let found = MONTHS.iter().position(|m| *m == word || (word.len() == 3 && m.starts_with(&word)));
    let found = found.or_else(|| (word == "sept").then_some(8));
    found.map(|i| i as u32 + 1)
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

    #[test]
    fn files_named_by_a_month_are_read_in_month_order() {
        assert_eq!(
            sorted(&["12-2024.csv", "01-2025.csv", "11-2024.csv"]),
            ["11-2024.csv", "12-2024.csv", "01-2025.csv"]
        );
        assert_eq!(
            sorted(&["HV January 2025.xlsx", "HV Dec 2024.xlsx", "HV sept 2024.xlsx", "HV Feb2025.xlsx"]),
            ["HV sept 2024.xlsx", "HV Dec 2024.xlsx", "HV January 2025.xlsx", "HV Feb2025.xlsx"]
        );
        assert_eq!(sorted(&["x_2025_01.csv", "x_2024_12.csv"]), ["x_2024_12.csv", "x_2025_01.csv"]);
        assert_eq!(sorted(&["5 Jan 2026.csv", "31-dec-2025.csv"]), ["31-dec-2025.csv", "5 Jan 2026.csv"]);
        assert_eq!(name_date("31 Jan 2026.csv"), name_date("2026-01-31.csv"));
        assert_eq!(name_date("Dec 2024.csv"), name_date("2024-12-01.csv"));
        // A word that is no month, a month without its year, and a thirteenth month are no dates.
        assert_eq!(name_date("Summary 2024.csv"), None);
        assert_eq!(name_date("may_extract.csv"), None);
        assert_eq!(name_date("13-2024.csv"), None);
        assert_eq!(name_date("31 Feb 2026.csv"), None);
        // Month first, and a day with its ordinal's ending.
        assert_eq!(name_date("Referrals Jan 5 2026.csv"), name_date("2026-01-05.csv"));
        assert_eq!(name_date("Referrals Jan 12 2026.csv"), name_date("2026-01-12.csv"));
        assert_eq!(sorted(&["28th Feb 2026.csv", "3rd Feb 2026.csv"]), ["3rd Feb 2026.csv", "28th Feb 2026.csv"]);
    }
}
