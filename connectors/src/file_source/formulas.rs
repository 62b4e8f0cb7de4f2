//! Formulas a workbook holds without their values. A workbook written by a program (openpyxl,
//! xlsxwriter, rust_xlsxwriter) stores each formula with no calculated value, or with 0 unless
//! the program was given the result, and asks the spreadsheet to calculate them all when it
//! opens the file (`fullCalcOnLoad`). Read as stored, a column of formulas would be staged
//! empty or as 0 throughout, silently. Excel calculates and saves the values, and clears the
//! request, when it saves the file; so a workbook with the request and, in a column the feed
//! reads, a formula stored as empty or 0 is refused, naming the sheet, row and column, and the
//! fix: open it in a spreadsheet and save it, or export CSV.
//!
//! Only the sheet's first [`SCANNED_ROWS`] rows are looked at: a column of formulas starts at
//! the first data row, and a full pass would cost as much as reading the sheet.

use std::collections::BTreeMap;
use std::io::{Read, Seek};
use std::path::Path;

use calamine::{DataRef, Xlsx, XlsxError};

/// Rows of the sheet looked at for formulas.
pub(super) const SCANNED_ROWS: u32 = 500;

/// The most of `xl/workbook.xml` read: the workbook part lists sheets and names, not cells.
const MAX_WORKBOOK_PART: u64 = 8 << 20;

/// Whether the `.xlsx` workbook at `path` asks for every formula to be calculated when it is
/// opened (`<calcPr fullCalcOnLoad="1"/>`). `false` when the part cannot be read: the reader
/// then reports why.
pub(super) fn calculation_pending(path: &Path) -> bool {
    let Ok(file) = std::fs::File::open(path) else { return false };
    let Ok(mut zip) = zip::ZipArchive::new(std::io::BufReader::new(file)) else { return false };
    let Ok(part) = zip.by_name("xl/workbook.xml") else { return false };
    let mut xml = Vec::new();
    if part.take(MAX_WORKBOOK_PART).read_to_end(&mut xml).is_err() {
        return false;
    }
    asks_full_calculation(&xml)
}

/// Whether a workbook part's `calcPr` element sets `fullCalcOnLoad` (any namespace prefix,
/// either quote, `1` or `true`).
fn asks_full_calculation(xml: &[u8]) -> bool {
    let mut rest = xml;
    while let Some(at) = find(rest, b"calcPr") {
        let opens = at > 0 && matches!(rest[at - 1], b'<' | b':');
        let element = &rest[at..];
        let element = &element[..find(element, b">").unwrap_or(element.len())];
        if opens {
            let flag = ["1", "true"].iter().any(|v| {
                [b'"', b'\''].iter().any(|&q| {
                    let mut attr = b"fullCalcOnLoad=".to_vec();
                    attr.push(q);
                    attr.extend_from_slice(v.as_bytes());
                    attr.push(q);
                    find(element, &attr).is_some()
                })
            });
            if flag {
                return true;
            }
        }
        rest = &rest[at + 6..];
    }
    false
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// For each column of `sheet` holding, in its first [`SCANNED_ROWS`] rows, a formula whose
/// stored value is empty or 0 (what a program that cannot calculate stores), the first such row
/// (both 0-based). A formula stored with another value was given its result by the program that
/// wrote it, and is read as that value.
pub(super) fn uncalculated_columns<RS: Read + Seek>(
    workbook: &mut Xlsx<RS>,
    sheet: &str,
) -> Result<BTreeMap<u32, u32>, XlsxError> {
    let mut cells = workbook.worksheet_cells_reader(sheet)?;
    let mut first = BTreeMap::new();
    loop {
        let cell = match cells.next_cell_with_formula_metadata() {
            Ok(Some(cell)) => cell,
            Ok(None) => break,
            // As the rows are read: an error value calamine does not know is no formula's value.
            Err(XlsxError::CellError(_)) => continue,
            Err(e) => return Err(e),
        };
        let (row, col) = cell.pos;
        if row >= SCANNED_ROWS {
            break;
        }
        let stored_nothing = match cell.value {
            DataRef::Empty => true,
            DataRef::Int(i) => i == 0,
            DataRef::Float(f) => f == 0.0,
            DataRef::String(ref s) => s.is_empty() || s == "0",
            DataRef::SharedString(s) => s.is_empty() || s == "0",
            _ => false,
        };
        if cell.formula.is_some() && stored_nothing {
            first.entry(col).or_insert(row);
        }
    }
    Ok(first)
}

#[cfg(test)]
mod tests {
    use super::asks_full_calculation;

    #[test]
    fn the_full_calculation_request_is_read_from_the_calc_pr_element_only() {
        assert!(asks_full_calculation(br#"<workbook><calcPr calcId="124519" fullCalcOnLoad="1"/></workbook>"#));
        assert!(asks_full_calculation(b"<x:calcPr fullCalcOnLoad='true'/>"));
        assert!(!asks_full_calculation(br#"<calcPr calcId="191029"/>"#), "as Excel saves it");
        assert!(!asks_full_calculation(br#"<calcPr fullCalcOnLoad="0"/>"#));
        assert!(!asks_full_calculation(br#"<definedName>calcPr fullCalcOnLoad="1"</definedName>"#));
    }
}
