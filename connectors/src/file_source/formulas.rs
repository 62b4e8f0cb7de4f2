//! Formulas a workbook holds without their values. A workbook written by a program (openpyxl,
//! xlsxwriter, rust_xlsxwriter) stores each formula with no calculated value, or with 0 unless
//! the program was given the result, and asks the spreadsheet to calculate them all when it
//! opens the file (`fullCalcOnLoad`). Read as stored, a column of formulas would be staged
//! empty or as 0 throughout, silently. Excel calculates and saves the values, and clears the
//! request, when it saves the file; so a workbook with the request and, in a column the feed
//! reads, formulas stored as empty or 0 is refused, naming the sheet, row and column, and the
//! fix: open it in a spreadsheet and save it, or export CSV.
//!
//! Only [`SCANNED_ROWS`] rows from where the header is looked for are scanned: a column of
//! formulas starts at the first data row, and a full pass would cost as much as reading the
//! sheet. A column is refused only where two or more formulas below the header all stored
//! nothing: one alone may be a footer's total, and a column where some formula stored a value
//! was calculated.

use std::collections::BTreeMap;
use std::io::{Read, Seek};
use std::path::Path;

use calamine::{DataRef, Xlsx, XlsxError};
use quick_xml::events::Event;

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

/// Whether a workbook part's `calcPr` element sets `fullCalcOnLoad` (`1` or `true`). `false`
/// where the part is not XML that can be read.
fn asks_full_calculation(xml: &[u8]) -> bool {
    let mut reader = quick_xml::Reader::from_reader(xml);
    let mut buf = Vec::new();
    loop {
        match reader.read_event_into(&mut buf) {
            Ok(Event::Start(e) | Event::Empty(e)) if e.local_name().into_inner() == "calcPr" => {
                return e
                    .attributes()
                    .flatten()
                    .any(|a| a.key.local_name().into_inner() == "fullCalcOnLoad" && matches!(&*a.value, "1" | "true"));
            }
            Ok(Event::Eof) | Err(_) => return false,
            Ok(_) => {}
        }
        buf.clear();
    }
}

/// The formula cells of the rows scanned, by sheet column (0-based): each one's row (0-based)
/// and whether its stored value is empty or 0, what a program that cannot calculate stores.
pub(super) type FormulaCells = BTreeMap<u32, Vec<(u32, bool)>>;

/// The formula cells of `sheet` in the [`SCANNED_ROWS`] rows from `from_row` (0-based), where
/// its header is looked for.
pub(super) fn formula_cells<RS: Read + Seek>(
    workbook: &mut Xlsx<RS>,
    sheet: &str,
    from_row: u32,
) -> Result<FormulaCells, XlsxError> {
    let mut cells = workbook.worksheet_cells_reader(sheet)?;
    let mut found = FormulaCells::new();
    let last = from_row.saturating_add(SCANNED_ROWS);
    loop {
        let cell = match cells.next_cell_with_formula_metadata() {
            Ok(Some(cell)) => cell,
            Ok(None) => break,
            // As the rows are read: an error value calamine does not know is no formula's value.
            Err(XlsxError::CellError(_)) => continue,
            Err(e) => return Err(e),
        };
        let (row, col) = cell.pos;
        if row >= last {
            break;
        }
        if row < from_row || cell.formula.is_none() {
            continue;
        }
        let stored_nothing = match cell.value {
            DataRef::Empty => true,
            DataRef::Int(i) => i == 0,
            DataRef::Float(f) => f == 0.0,
            DataRef::DateTime(d) => d.as_f64() == 0.0,
            DataRef::String(ref s) | DataRef::DateTimeIso(ref s) => s.is_empty() || s == "0",
            DataRef::SharedString(s) => s.is_empty() || s == "0",
            _ => false,
        };
        found.entry(col).or_default().push((row, stored_nothing));
    }
    Ok(found)
}

/// The first row (0-based) of column `col`'s formulas below the header row `header`, if they
/// were never calculated: two or more, every one stored as empty or 0. A single one may be a
/// footer's total, and a column whose formulas stored other values was calculated, its empty
/// or 0 results included.
pub(super) fn uncalculated(cells: &FormulaCells, col: u32, header: u32) -> Option<u32> {
    let below: Vec<&(u32, bool)> = cells.get(&col)?.iter().filter(|(row, _)| *row > header).collect();
    let never = below.len() >= 2 && below.iter().all(|(_, stored_nothing)| *stored_nothing);
    never.then(|| below[0].0)
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
        // Read as XML, so linear: a name repeated in a text takes no longer than the text.
        let mut part = b"<workbook><definedName>".to_vec();
        part.extend(b"calcPr ".repeat(1 << 20));
        let started = std::time::Instant::now();
        assert!(!asks_full_calculation(&part));
        assert!(started.elapsed() < std::time::Duration::from_secs(20), "{:?}", started.elapsed());
    }

    #[test]
    fn a_column_is_uncalculated_where_two_formulas_below_the_header_all_stored_nothing() {
        let cells = super::FormulaCells::from([
            (0, vec![(0, true), (1, false), (2, true)]),
            (1, vec![(1, true), (2, true), (3, true)]),
            (2, vec![(9, true)]),
            (3, vec![(0, true), (5, true), (6, true)]),
        ]);
        assert_eq!(super::uncalculated(&cells, 0, 0), None, "one stored a value: calculated");
        assert_eq!(super::uncalculated(&cells, 1, 0), Some(1));
        assert_eq!(super::uncalculated(&cells, 1, 2), None, "one left below a header at row 2");
        assert_eq!(super::uncalculated(&cells, 2, 0), None, "one alone: a footer's total");
        assert_eq!(super::uncalculated(&cells, 3, 0), Some(5), "a title's formula above the header is not counted");
        assert_eq!(super::uncalculated(&cells, 4, 0), None);
    }
}
