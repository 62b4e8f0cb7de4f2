//! A feed definition as written: the TOML file's shape, read with serde (unknown keys refused),
//! with the span of every value so that problems can name line and column.
//!
//! Enumerated settings (type, role, sensitivity, …) are read as strings and checked afterwards,
//! so that a misspelt one is reported with its place and the values it may take, beside every
//! other problem in the file.

use serde::Deserialize;
use toml::Spanned;

/// The top-level keys, for the unknown-key report.
pub(super) const TOP_KEYS: &[&str] = &["name", "version", "partner", "description", "event_date", "updated", "columns"];

/// The keys of a `[[columns]]` entry.
pub(super) const COLUMN_KEYS: &[&str] = &[
    "name",
    "standard",
    "type",
    "max_bytes",
    "min",
    "max",
    "codes",
    "role",
    "sensitivity",
    "required",
    "generalise",
    "on_invalid",
    "description",
];

/// The definition file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FeedFile {
    /// The feed's stable name.
    pub(super) name: Spanned<String>,
    /// Its schema version.
    pub(super) version: Spanned<i64>,
    /// Who sends it.
    pub(super) partner: Spanned<String>,
    /// What it holds.
    pub(super) description: Spanned<String>,
    /// The column that dates each record's event.
    pub(super) event_date: Spanned<String>,
    /// The column that says when the partner last changed each record, if there is one.
    #[serde(default)]
    pub(super) updated: Option<Spanned<String>>,
    /// The columns, in the order of the partner's file.
    #[serde(default)]
    pub(super) columns: Vec<Spanned<ColumnEntry>>,
}

/// A `[[columns]]` entry.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ColumnEntry {
    pub(super) name: Spanned<String>,
    /// Take the standard column of this name (the shared person block).
    pub(super) standard: Option<Spanned<bool>>,
    #[serde(rename = "type")]
    pub(super) kind: Option<Spanned<String>>,
    pub(super) max_bytes: Option<Spanned<i64>>,
    pub(super) min: Option<Spanned<Number>>,
    pub(super) max: Option<Spanned<Number>>,
    pub(super) codes: Option<Spanned<Vec<Spanned<String>>>>,
    pub(super) role: Option<Spanned<String>>,
    pub(super) sensitivity: Option<Spanned<String>>,
    pub(super) required: Option<Spanned<bool>>,
    pub(super) generalise: Option<Spanned<String>>,
    pub(super) on_invalid: Option<Spanned<String>>,
    pub(super) description: Option<Spanned<String>>,
}

/// A bound of an integer or decimal column: TOML tells `0` from `0.0`.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(untagged)]
pub(super) enum Number {
    /// A whole number.
    Integer(i64),
    /// A number with a fraction or exponent.
    Float(f64),
}

impl Number {
    /// The bound as a decimal.
    pub(super) fn as_f64(self) -> f64 {
        match self {
            // A bound beyond 2^53 is rounded; decimal columns' bounds are far smaller.
            Number::Integer(i) => i as f64,
            Number::Float(f) => f,
        }
    }
}
