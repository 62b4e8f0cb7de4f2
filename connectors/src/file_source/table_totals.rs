//! The Totals Row of an Excel table (a ListObject with "Total Row" ticked): a row the workbook
//! itself marks as no record (`Total`, `=SUBTOTAL(109,…)`). Left unread, as a CSV footer the
//! mapping declares is; read, it would be quarantined every month.

use std::io::{BufReader, Read};
use std::path::Path;

use calamine::Xlsx;
use quick_xml::events::Event;

/// The most bytes of one table part read: a table part holds its columns' names, not data.
const MAX_TABLE_PART: u64 = 1 << 20;

/// The sheet rows (0-based) that are a totals row of a table on `sheet` of the `.xlsx` at
/// `path`. Empty where the workbook has no such table, or its parts cannot be read.
pub(super) fn totals_rows<RS: std::io::Read + std::io::Seek>(
    workbook: &mut Xlsx<RS>,
    path: &Path,
    sheet: &str,
) -> Vec<u32> {
    if workbook.load_tables().is_err() {
        return Vec::new();
    }
    let names: Vec<String> = workbook.table_names_in_sheet(sheet).into_iter().cloned().collect();
    if names.is_empty() {
        return Vec::new();
    }
    let Ok(file) = std::fs::File::open(path) else { return Vec::new() };
    let Ok(mut zip) = zip::ZipArchive::new(BufReader::new(file)) else { return Vec::new() };
    let parts: Vec<String> = zip
        .file_names()
        .flatten()
        .filter(|n| n.starts_with("xl/tables/") && n.ends_with(".xml"))
        .map(|n| n.into_owned())
        .collect();
    let mut rows = Vec::new();
    for part in parts {
        let Ok(entry) = zip.by_name(&part) else { continue };
        let mut xml = Vec::new();
        if entry.take(MAX_TABLE_PART).read_to_end(&mut xml).is_err() {
            continue;
        }
        if let Some((name, last, count)) = table_totals(&xml)
            && names.contains(&name)
        {
            rows.extend((last + 1).saturating_sub(count)..=last);
        }
    }
    rows
}

/// A table part's display name, the last sheet row (0-based) of its `ref`, and its
/// `totalsRowCount`, where that is one or more.
fn table_totals(xml: &[u8]) -> Option<(String, u32, u32)> {
    let mut reader = quick_xml::Reader::from_reader(xml);
    let mut buf = Vec::new();
    loop {
        match reader.read_event_into(&mut buf) {
            Ok(Event::Start(e) | Event::Empty(e)) if e.local_name().into_inner() == "table" => {
                let (mut name, mut last, mut count) = (None, None, 0u32);
                for a in e.attributes().flatten() {
                    let value = a.value.to_string();
                    match a.key.local_name().into_inner() {
                        "displayName" => name = Some(value),
                        "ref" => last = last_row(&value),
                        "totalsRowCount" => count = value.parse().unwrap_or(0),
                        _ => {}
                    }
                }
                if count == 0 {
                    return None;
                }
                return name.zip(last).map(|(n, l)| (n, l, count));
            }
            Ok(Event::Eof) | Err(_) => return None,
            Ok(_) => {}
        }
        buf.clear();
    }
}

/// The last row (0-based) of a range `A1:I12`.
fn last_row(range: &str) -> Option<u32> {
    let end = range.rsplit(':').next()?;
    let digits = end.trim_start_matches(|c: char| c.is_ascii_alphabetic() || c == '$');
    digits.parse::<u32>().ok()?.checked_sub(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_table_part_names_its_totals_rows() {
        let xml = br#"<?xml version="1.0"?><table xmlns="x" id="1" name="Table1" displayName="Cases" ref="A1:I12" totalsRowCount="1"><autoFilter ref="A1:I11"/></table>"#;
        assert_eq!(table_totals(xml), Some(("Cases".to_owned(), 11, 1)));
        let none = br#"<table id="1" name="Table1" displayName="Cases" ref="A1:I12" totalsRowShown="0"/>"#;
        assert_eq!(table_totals(none), None);
        assert_eq!(last_row("$A$1:$I$12"), Some(11));
        assert_eq!(last_row("A1"), Some(0));
    }
}
