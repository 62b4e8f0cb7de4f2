//! Writes a CSV file (header first) as the first sheet of an `.xlsx` workbook, every cell as
//! text, so that `tellonce bench --input` can measure the workbook reader on the same rows as
//! the CSV reader. Used by `scripts/bench-xlsx`.
//!
//! By default text goes to the workbook's shared-string table, as Excel itself saves it; with
//! `--inline-strings` each cell holds its own text, as streaming writers (this crate's constant
//! memory mode, and many ETL tools) write it, which costs the reader more to parse.
//!
//! Usage: `cargo run --release -p tellonce-tests --example csv_to_xlsx -- IN.csv OUT.xlsx
//! [--inline-strings]`

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let (input, output, inline) = match args.as_slice() {
        [_, input, output] => (input, output, false),
        [_, input, output, flag] if flag == "--inline-strings" => (input, output, true),
        _ => {
            eprintln!("usage: csv_to_xlsx IN.csv OUT.xlsx [--inline-strings]");
            return ExitCode::from(2);
        }
    };
    match convert(input, output, inline) {
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

fn convert(input: &str, output: &str, inline: bool) -> Result<u32, Box<dyn std::error::Error>> {
    let mut reader = csv::ReaderBuilder::new().has_headers(false).from_path(input)?;
    let mut book = rust_xlsxwriter::Workbook::new();
    // Both modes flush rows to a temporary file as they are written; low memory keeps the
    // shared-string table in memory.
    let sheet = if inline { book.add_worksheet_with_constant_memory()? } else { book.add_worksheet_with_low_memory()? };
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
