//! Partner extracts written as real workbooks by real writers: `.xlsx` by `rust_xlsxwriter`,
//! `.ods` by `spreadsheet-ods`, and legacy `.xls` by Python's `xlwt` (no Rust library writes
//! BIFF8), so that the reader is checked against files it did not write itself.

use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};

/// A cell a partner's spreadsheet holds.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// Text, as typed.
    Text(String),
    /// A date cell (year, month, day), shown as `dd/mm/yyyy`.
    Date(i32, u32, u32),
    /// A number cell in the General format (a reference typed as digits becomes one).
    Number(f64),
}

/// One sheet: its name and its non-empty cells by (row, column), 0-based.
pub struct SheetCells {
    pub name: String,
    pub cells: Vec<(u32, u16, Cell)>,
}

impl SheetCells {
    /// A sheet holding `title` in its first cell, then `table` (header first) from row
    /// `first_row` on, every value as text; empty values are left out.
    pub fn titled_table(name: &str, title: &str, first_row: u32, table: &[Vec<String>]) -> SheetCells {
        let mut cells = vec![(0, 0, Cell::Text(title.to_owned()))];
        for (r, row) in (first_row..).zip(table) {
            for (c, v) in (0u16..).zip(row) {
                if !v.is_empty() {
                    cells.push((r, c, Cell::Text(v.clone())));
                }
            }
        }
        SheetCells { name: name.to_owned(), cells }
    }
}

/// The workbook formats partners send.
pub const FORMATS: [&str; 3] = ["xlsx", "xls", "ods"];

/// Writes `sheet` as a workbook of `format` (`xlsx`, `xls` or `ods`) at `path`.
pub fn write_workbook(path: &Path, format: &str, sheet: &SheetCells) {
    match format {
        "xlsx" => write_xlsx(path, sheet),
        "ods" => write_ods(path, sheet),
        "xls" => write_xls(path, sheet),
        other => panic!("no writer for {other}"),
    }
}

fn write_xlsx(path: &Path, sheet: &SheetCells) {
    use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name(&sheet.name).unwrap();
    let date = Format::new().set_num_format("dd/mm/yyyy");
    for (r, c, cell) in &sheet.cells {
        match cell {
            Cell::Text(t) => {
                ws.write_string(*r, *c, t).unwrap();
            }
            Cell::Date(y, m, d) => {
                let (y, m, d) = (u16::try_from(*y).unwrap(), u8::try_from(*m).unwrap(), u8::try_from(*d).unwrap());
                ws.write_datetime_with_format(*r, *c, ExcelDateTime::from_ymd(y, m, d).unwrap(), &date).unwrap();
            }
            Cell::Number(n) => {
                ws.write_number(*r, *c, *n).unwrap();
            }
        }
    }
    wb.save(path).unwrap();
}

fn write_ods(path: &Path, sheet: &SheetCells) {
    use spreadsheet_ods::{CellStyle, Sheet, WorkBook, format};
    let mut wb = WorkBook::new_empty();
    let date = wb.add_datetime_format(format::create_date_dmy_format("dmy"));
    let date = wb.add_cellstyle(CellStyle::new("date", &date));
    let mut ws = Sheet::new(&sheet.name);
    for (r, c, cell) in &sheet.cells {
        match cell {
            Cell::Text(t) => ws.set_value(*r, u32::from(*c), t.as_str()),
            Cell::Number(n) => ws.set_value(*r, u32::from(*c), *n),
            Cell::Date(y, m, d) => {
                ws.set_styled_value(*r, u32::from(*c), chrono::NaiveDate::from_ymd_opt(*y, *m, *d).unwrap(), &date)
            }
        }
    }
    wb.push_sheet(ws);
    spreadsheet_ods::write_ods(&mut wb, path).unwrap();
}

/// The xlwt script: reads the sheet as JSON on stdin, writes the workbook at argv[1].
const XLWT: &str = r#"
import datetime, json, sys
import xlwt
sheet = json.load(sys.stdin)
wb = xlwt.Workbook(encoding="utf-8")
ws = wb.add_sheet(sheet["name"])
date = xlwt.easyxf(num_format_str="DD/MM/YYYY")
for r, c, kind, v in sheet["cells"]:
    if kind == "d":
        ws.write(r, c, datetime.date(*v), date)
    else:
        ws.write(r, c, v)
wb.save(sys.argv[1])
"#;

fn write_xls(path: &Path, sheet: &SheetCells) {
    let cells: Vec<serde_json::Value> = sheet
        .cells
        .iter()
        .map(|(r, c, cell)| match cell {
            Cell::Text(t) => serde_json::json!([r, c, "t", t]),
            Cell::Date(y, m, d) => serde_json::json!([r, c, "d", [y, m, d]]),
            Cell::Number(n) => serde_json::json!([r, c, "n", n]),
        })
        .collect();
    let input = serde_json::json!({ "name": sheet.name, "cells": cells }).to_string();
    let mut child = Command::new("python3")
        .args(["-c", XLWT])
        .arg(path)
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 (the README's test command puts the project's virtual environment first on PATH)");
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "xlwt could not write {} (install it with `python3 -m pip install -r .ci/requirements.txt`): {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}
