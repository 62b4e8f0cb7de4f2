//! The formats of partner files, named in a config or told by a file's extension.

use std::fmt;
use std::path::Path;
use std::str::FromStr;

/// The format of a partner file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FileFormat {
    /// RFC 4180 CSV with a header line; UTF-8, with or without a BOM; LF or CRLF. Another
    /// delimiter, encoding or preamble is read as its [`Dialect`] declares.
    Csv,
    /// JSON Lines: one JSON object per line; UTF-8.
    JsonLines,
    /// An Excel workbook (`.xlsx`): one sheet, by name (the first sheet by default), with a
    /// header row. The sheet is streamed.
    Xlsx,
    /// A legacy Excel 97–2003 workbook (`.xls`, at most 65 536 rows a sheet), read as `.xlsx` is;
    /// the sheet is read whole.
    Xls,
    /// An OpenDocument spreadsheet (`.ods`, LibreOffice's own format), read as `.xlsx` is; the
    /// sheet is read whole.
    Ods,
}

impl FileFormat {
    /// The format a file name's extension suggests: `.csv`, `.jsonl` / `.ndjson`, `.xlsx`, `.xls`
    /// or `.ods`, in any case; `.tsv`, `.tab` and `.txt`, delimited text as partners' systems
    /// save it, are read as CSV (the delimiter detected from the header under a mapping), and
    /// `.xlsm`, `.xltx` and `.xltm` (a workbook with macros, a template: the same Open XML
    /// parts, whose macros are never run) as `.xlsx`.
    pub fn from_path(path: &Path) -> Option<FileFormat> {
        let extension = path.extension()?.to_str()?;
        match extension.to_ascii_lowercase().as_str() {
            "tsv" | "tab" | "txt" => Some(FileFormat::Csv),
            "xlsm" | "xltx" | "xltm" => Some(FileFormat::Xlsx),
            _ => extension.parse().ok(),
        }
    }

    /// The format's name: `csv`, `jsonl`, `xlsx`, `xls` or `ods`.
    pub fn as_str(self) -> &'static str {
        match self {
            FileFormat::Csv => "csv",
            FileFormat::JsonLines => "jsonl",
            FileFormat::Xlsx => "xlsx",
            FileFormat::Xls => "xls",
            FileFormat::Ods => "ods",
        }
    }

    /// Whether the format is a spreadsheet workbook, read by sheet rather than by line.
    pub fn is_workbook(self) -> bool {
        matches!(self, FileFormat::Xlsx | FileFormat::Xls | FileFormat::Ods)
    }
}

impl fmt::Display for FileFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A format name that is not `csv`, `jsonl`, `xlsx`, `xls` or `ods`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown file format {given:?}: expected \"csv\", \"jsonl\", \"xlsx\", \"xls\" or \"ods\"")]
pub struct ParseFormatError {
    /// The name given.
    pub given: String,
}

impl FromStr for FileFormat {
    type Err = ParseFormatError;

    /// `csv`, `jsonl` (also `ndjson`), `xlsx`, `xls` or `ods`, in any case.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "csv" => Ok(FileFormat::Csv),
            "jsonl" | "ndjson" => Ok(FileFormat::JsonLines),
            "xlsx" => Ok(FileFormat::Xlsx),
            "xls" => Ok(FileFormat::Xls),
            "ods" => Ok(FileFormat::Ods),
            _ => Err(ParseFormatError { given: s.to_owned() }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delimited_text_saved_under_other_extensions_is_read_as_csv() {
        for name in ["a.csv", "a.TSV", "a.tab", "a.txt"] {
            assert_eq!(FileFormat::from_path(Path::new(name)), Some(FileFormat::Csv), "{name}");
        }
        assert_eq!(FileFormat::from_path(Path::new("a.XLSX")), Some(FileFormat::Xlsx));
        assert_eq!(FileFormat::from_path(Path::new("a.xlsm")), Some(FileFormat::Xlsx));
        assert_eq!(FileFormat::from_path(Path::new("a.pdf")), None);
        assert_eq!("txt".parse::<FileFormat>().ok(), None, "a format named in a config is one of the five");
    }
}
