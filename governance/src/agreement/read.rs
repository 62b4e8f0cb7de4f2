//! Reading typed values out of a parsed TOML document, reporting every misfit as a
//! [`Problem`] with its position instead of stopping at the first.
//!
//! The document is read through `toml::de::DeTable`, which keeps the byte span of every key and
//! value, rather than through serde: serde stops at the first error, and the lint must report
//! every problem in a file at once, each where it is.

use std::path::Path;

use tellonce_schemas::identifiers::dates;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::position::{LineIndex, Position};
use super::problem::{Lint, Problem};

/// A TOML table with the span of the key or header that opened it, for problems about keys
/// missing from it.
#[derive(Clone, Copy)]
pub(crate) struct Table<'a, 'i> {
    /// The table.
    pub(crate) table: &'a DeTable<'i>,
    /// Where it starts (the root table starts at the top of the file).
    pub(crate) start: usize,
    /// Its dotted name, empty for the root, used in messages.
    pub(crate) name: &'a str,
}

impl<'a, 'i> Table<'a, 'i> {
    /// The value under `key` with its span.
    pub(crate) fn get(&self, key: &str) -> Option<&'a Spanned<DeValue<'i>>> {
        self.table.iter().find(|(k, _)| k.get_ref() == key).map(|(_, v)| v)
    }

    /// The dotted name of `key` in this table, as shown in messages.
    pub(crate) fn key_name(&self, key: &str) -> String {
        if self.name.is_empty() { key.to_owned() } else { format!("{}.{key}", self.name) }
    }
}

/// The TOML type of a value, for messages.
pub(crate) fn type_name(v: &DeValue<'_>) -> &'static str {
    match v {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) => "an integer",
        DeValue::Float(_) => "a float",
        DeValue::Boolean(_) => "a boolean",
        DeValue::Datetime(_) => "a date-time",
        DeValue::Array(_) => "an array",
        DeValue::Table(_) => "a table",
    }
}

/// One agreement file being read: where problems go, and how to place them.
pub(crate) struct Doc<'t> {
    path: &'t Path,
    index: LineIndex<'t>,
    /// Every problem found so far, in the order found.
    pub(crate) problems: Vec<Problem>,
}

impl<'t> Doc<'t> {
    /// A document for the text of the file at `path`.
    pub(crate) fn new(path: &'t Path, text: &'t str) -> Self {
        Doc { path, index: LineIndex::new(text), problems: Vec::new() }
    }

    /// The position of byte `offset`.
    pub(crate) fn position(&self, offset: usize) -> Position {
        self.index.position(offset)
    }

    /// Records a problem at byte `offset`.
    pub(crate) fn report(&mut self, lint: Lint, offset: usize, message: impl Into<String>) {
        let position = self.position(offset);
        self.problems.push(Problem::new(self.path, position, lint, message));
    }

    /// Whether any error-severity problem has been recorded.
    pub(crate) fn has_errors(&self) -> bool {
        self.problems.iter().any(Problem::is_error)
    }

    /// Reports every key of `table` that is not in `allowed`; all of them, not the first only.
    pub(crate) fn unknown_keys(&mut self, table: Table<'_, '_>, allowed: &[&str]) {
        for (key, _) in table.table.iter() {
            if !allowed.contains(&key.get_ref().as_ref()) {
                let name = table.key_name(key.get_ref());
                let expected = allowed.join(", ");
                self.report(
                    Lint::UnknownKey,
                    key.span().start,
                    format!("unknown key `{name}`: not part of the agreement format (expected one of {expected})"),
                );
            }
        }
    }

    /// Reports that `key` is missing from `table`.
    pub(crate) fn missing(&mut self, table: Table<'_, '_>, key: &str, what: &str) {
        let name = table.key_name(key);
        self.report(Lint::Missing, table.start, format!("missing required `{name}`: {what}"));
    }

    /// Reports a value of the wrong type.
    pub(crate) fn wrong_type(&mut self, table: Table<'_, '_>, key: &str, v: &Spanned<DeValue<'_>>, want: &str) {
        let name = table.key_name(key);
        let found = type_name(v.get_ref());
        self.report(Lint::Type, v.span().start, format!("`{name}` must be {want}, found {found}"));
    }

    /// A string under `key`: reported missing (when `required`) if absent or blank.
    pub(crate) fn string(&mut self, table: Table<'_, '_>, key: &str, required: Option<&str>) -> Option<String> {
        let Some(v) = table.get(key) else {
            if let Some(what) = required {
                self.missing(table, key, what);
            }
            return None;
        };
        let DeValue::String(s) = v.get_ref() else {
            self.wrong_type(table, key, v, "a string");
            return None;
        };
        if s.trim().is_empty() {
            if let Some(what) = required {
                let name = table.key_name(key);
                self.report(Lint::Missing, v.span().start, format!("`{name}` is empty: {what}"));
            }
            return None;
        }
        Some(s.trim().to_owned())
    }

    /// A list of non-blank strings under `key`, required to hold at least one.
    pub(crate) fn string_list(&mut self, table: Table<'_, '_>, key: &str, what: &str) -> Vec<String> {
        let Some(v) = table.get(key) else {
            self.missing(table, key, what);
            return Vec::new();
        };
        let DeValue::Array(items) = v.get_ref() else {
            self.wrong_type(table, key, v, "an array of strings");
            return Vec::new();
        };
        let mut out = Vec::new();
        for item in items.iter() {
            match item.get_ref() {
                DeValue::String(s) if !s.trim().is_empty() => out.push(s.trim().to_owned()),
                DeValue::String(_) => {
                    let name = table.key_name(key);
                    self.report(Lint::Missing, item.span().start, format!("`{name}` has an empty entry: {what}"));
                }
                _ => self.wrong_type(table, key, item, "an array of strings"),
            }
        }
        if items.iter().next().is_none() {
            let name = table.key_name(key);
            self.report(Lint::Missing, v.span().start, format!("`{name}` is empty: {what}"));
        }
        out
    }

    /// An integer under `key`, with the offset of its value.
    pub(crate) fn integer(&mut self, table: Table<'_, '_>, key: &str, required: Option<&str>) -> Option<(i64, usize)> {
        let Some(v) = table.get(key) else {
            if let Some(what) = required {
                self.missing(table, key, what);
            }
            return None;
        };
        let parsed = match v.get_ref() {
            DeValue::Integer(i) => i64::from_str_radix(i.as_str(), i.radix()).ok(),
            _ => None,
        };
        if parsed.is_none() {
            self.wrong_type(table, key, v, "a whole number");
        }
        parsed.map(|n| (n, v.span().start))
    }

    /// A boolean under `key`.
    pub(crate) fn boolean(&mut self, table: Table<'_, '_>, key: &str) -> Option<bool> {
        let v = table.get(key)?;
        let b = v.get_ref().as_bool();
        if b.is_none() {
            self.wrong_type(table, key, v, "true or false");
        }
        b
    }

    /// A calendar date under `key`, written as a TOML date (`2025-04-01`) or as the string
    /// `"2025-04-01"`, as days since 1970-01-01, with the offset of its value.
    pub(crate) fn date(&mut self, table: Table<'_, '_>, key: &str, what: &str) -> Option<(i32, usize)> {
        let Some(v) = table.get(key) else {
            self.missing(table, key, what);
            return None;
        };
        let text = match v.get_ref() {
            DeValue::Datetime(dt) if dt.time.is_none() && dt.offset.is_none() => {
                dt.date.map(|d| format!("{:04}-{:02}-{:02}", d.year, d.month, d.day))
            }
            // A string must be the date alone: `dates::parse` would also accept a time part.
            DeValue::String(s) if s.len() == 10 => Some(s.to_string()),
            _ => None,
        };
        let day = text.as_deref().and_then(|t| dates::parse(t).ok());
        if day.is_none() {
            let name = table.key_name(key);
            self.report(
                Lint::DatesInvalid,
                v.span().start,
                format!("`{name}` must be a calendar date YYYY-MM-DD between 1900 and 2099, without a time"),
            );
        }
        day.map(|d| (d, v.span().start))
    }

    /// A sub-table under `key`, reporting a value of another type.
    pub(crate) fn table<'a, 'i>(&mut self, parent: Table<'a, 'i>, key: &str, name: &'a str) -> Option<Table<'a, 'i>> {
        let v = parent.get(key)?;
        match v.get_ref() {
            DeValue::Table(t) => Some(Table { table: t, start: v.span().start, name }),
            _ => {
                self.wrong_type(parent, key, v, "a table");
                None
            }
        }
    }
}
