//! A source mapping as written: the TOML file's shape, read with serde (unknown keys refused),
//! with the span of every value so that problems can name line and column.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

/// The mapping file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct MappingFile {
    /// The feed the file is mapped into.
    pub(super) feed: Spanned<String>,
    /// Partner headings dropped on purpose (not reported as unknown columns).
    #[serde(default)]
    pub(super) ignore: Vec<Spanned<String>>,
    /// How the file is written.
    #[serde(default)]
    pub(super) file: FileTable,
    /// Partner heading = feed column.
    #[serde(default)]
    pub(super) columns: BTreeMap<String, Spanned<String>>,
    /// Feed column = the value for every record (for a column the partner does not send).
    #[serde(default)]
    pub(super) constants: BTreeMap<String, Spanned<String>>,
    /// Feed column = { partner code = feed code }.
    #[serde(default)]
    pub(super) values: BTreeMap<String, Spanned<BTreeMap<String, Spanned<String>>>>,
    /// Feed column = a date format, or a list tried in order.
    #[serde(default)]
    pub(super) dates: BTreeMap<String, Spanned<Formats>>,
    /// Feed column = the spellings of true and false.
    #[serde(default)]
    pub(super) booleans: BTreeMap<String, Spanned<BooleanTable>>,
    /// Feed column = its decimal and thousands separators.
    #[serde(default)]
    pub(super) decimals: BTreeMap<String, Spanned<DecimalTable>>,
    /// The partner's column that marks a record withdrawn, and the values that mean it.
    #[serde(default)]
    pub(super) withdrawal: Option<Spanned<WithdrawalTable>>,
}

/// `[withdrawal]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct WithdrawalTable {
    /// The partner's heading (CSV, sheet) or key (JSON Lines).
    pub(super) column: Spanned<String>,
    /// The values that mark a record withdrawn (matched trimmed, without regard to case).
    pub(super) values: Spanned<Vec<String>>,
}

/// `[file]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileTable {
    /// `,`, `\t` (or `tab`), `|`, `;` or `auto`.
    pub(super) delimiter: Option<Spanned<String>>,
    /// `utf-8`, `windows-1252`, `latin-1` or `auto`.
    pub(super) encoding: Option<Spanned<String>>,
    /// Preamble lines (sheet rows) before the header.
    pub(super) skip_lines: Option<Spanned<u64>>,
    /// Lines (sheet rows) holding anything at the end of each file that are its footer.
    pub(super) footer_lines: Option<Spanned<u64>>,
    /// The sheet of a workbook.
    pub(super) sheet: Option<Spanned<String>>,
    /// `"` (fields may be quoted, RFC 4180) or `none` (a quote is an ordinary character).
    pub(super) quote: Option<Spanned<String>>,
    /// Spellings of a missing value (`NULL`), read as empty cells in every column.
    pub(super) null_values: Option<Spanned<Vec<Spanned<String>>>>,
}

/// One date format or several.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(super) enum Formats {
    /// One format.
    One(String),
    /// Formats tried in order.
    Many(Vec<String>),
}

impl Formats {
    pub(super) fn list(&self) -> Vec<&str> {
        match self {
            Formats::One(f) => vec![f.as_str()],
            Formats::Many(fs) => fs.iter().map(String::as_str).collect(),
        }
    }
}

/// `[booleans.COLUMN]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct BooleanTable {
    /// Spellings of true.
    #[serde(rename = "true")]
    pub(super) yes: Vec<String>,
    /// Spellings of false.
    #[serde(rename = "false")]
    pub(super) no: Vec<String>,
}

/// `[decimals.COLUMN]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct DecimalTable {
    /// The decimal separator (`.` by default; `,` in much of Europe).
    #[serde(default)]
    pub(super) decimal_separator: Option<String>,
    /// A thousands separator, removed (`,` as in `1,250.00`; `.` or a space elsewhere).
    #[serde(default)]
    pub(super) thousands_separator: Option<String>,
    /// A currency sign or code written before or after the number (`£`, `GBP`), removed.
    #[serde(default)]
    pub(super) currency_symbol: Option<String>,
}
