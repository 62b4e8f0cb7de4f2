//! Writes a CSV file (header first) as the first sheet of an `.xlsx` workbook, every cell as
//! text, so that `tellonce bench --input` can measure the workbook reader on the same rows as
//! the CSV reader. Used by `scripts/bench-xlsx`.
//!
//! Usage: `cargo run --release -p tellonce-tests --example csv_to_xlsx -- IN.csv OUT.xlsx`

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let [_, input, output] = args.as_slice() else {
        eprintln!("usage: csv_to_xlsx IN.csv OUT.xlsx");
        return ExitCode::from(2);
    };
    match convert(input, output) {
        Ok(rows) => {
            println!("wrote {rows} rows to {output}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("csv_to_xlsx: {e}");
            ExitCode::FAILURE
        }
    }
}

fn convert(input: &str, output: &str) -> Result<u32, Box<dyn std::error::Error>> {
    let mut reader = csv::ReaderBuilder::new().has_headers(false).from_path(input)?;
    let mut book = rust_xlsxwriter::Workbook::new();
    // Constant memory: rows are flushed to a temporary file as they are written.
    let sheet = book.add_worksheet_with_constant_memory()?;
    let mut rows = 0u32;
    for record in reader.records() {
        let record = record?;
        for (c, value) in record.iter().enumerate().filter(|(_, v)| !v.is_empty()) {
            sheet.write_string(rows, u16::try_from(c)?, value)?;
        }
        rows += 1;
    }
    book.save(output)?;
    Ok(rows.saturating_sub(1))
}
