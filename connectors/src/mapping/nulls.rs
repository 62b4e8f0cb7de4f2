//! `[file] null_values`: the spellings a partner's export writes for a missing value (`NULL`,
//! as SQL Server writes it; `N/A`), read as empty cells in every column, before any other rule
//! of the mapping (so a constant fills them, and no value map, date format or spelling sees them).
//!
//! A cell matches when, trimmed, it is one of the spellings exactly, case included: the
//! spellings are a system's fixed words, and matching without case would also empty a surname
//! `Null` or `Na` written by a person. This runs on every cell of every batch: a cell is ruled
//! out by its length first, and nothing is allocated unless a column holds a match.

use arrow_array::builder::StringBuilder;
use arrow_array::{Array, StringArray};
use toml::Spanned;

use super::MappingRule;
use super::rules::{ColumnRule, Places, at};

/// The longest spelling accepted, in characters: a missing value's spelling is a short word,
/// and a long entry is more likely a value pasted in by mistake.
pub const MAX_NULL_SPELLING_CHARS: usize = 20;

/// The most spellings accepted.
pub const MAX_NULL_SPELLINGS: usize = 16;

/// The spellings of a missing value, trimmed.
#[derive(Debug, Clone, Default)]
pub(crate) struct NullSpellings {
    spellings: Vec<String>,
    /// The shortest and longest spelling, in bytes.
    min_len: usize,
    max_len: usize,
}

impl NullSpellings {
    /// Whether there is none.
    pub(crate) fn is_empty(&self) -> bool {
        self.spellings.is_empty()
    }

    /// The spellings, as the mapping lists them (trimmed).
    pub(crate) fn as_slice(&self) -> &[String] {
        &self.spellings
    }

    /// Whether `value`, as shown ([`tellonce_schemas::check::as_shown`]), is one of the spellings.
    #[inline]
    pub(crate) fn matches(&self, value: &str) -> bool {
        if self.spellings.is_empty() || value.len() < self.min_len {
            return false;
        }
        let t = tellonce_schemas::check::as_shown(value);
        t.len() >= self.min_len && t.len() <= self.max_len && self.spellings.iter().any(|s| *s == t)
    }

    /// `col` with every cell that matches made null, or `None` if no cell matches (the column
    /// is then shared as it is).
    pub(crate) fn blank(&self, col: &StringArray) -> Option<StringArray> {
        let hit = |r: usize| col.is_valid(r) && self.matches(col.value(r));
        let first = (0..col.len()).find(|&r| hit(r))?;
        // Rebuilt rather than masked, so that no null slot keeps the spelling's bytes under it.
        let mut out = StringBuilder::with_capacity(col.len(), col.value_data().len());
        for r in 0..col.len() {
            if col.is_null(r) || (r >= first && hit(r)) {
                out.append_null();
            } else {
                out.append_value(col.value(r));
            }
        }
        Some(out.finish())
    }
}

/// `file.null_values`, reporting an empty list, an empty, overlong or repeated spelling, and
/// too many of them.
pub(super) fn null_spellings(places: &mut Places<'_>, list: Option<&Spanned<Vec<Spanned<String>>>>) -> NullSpellings {
    let Some(list) = list else { return NullSpellings::default() };
    let key = "file.null_values";
    if list.get_ref().is_empty() {
        places.report(at(list), MappingRule::Type, format!("{key} lists no spelling: leave it out"));
    } else if list.get_ref().len() > MAX_NULL_SPELLINGS {
        places.report(at(list), MappingRule::Value, format!("{key}: at most {MAX_NULL_SPELLINGS} spellings"));
    }
    let mut spellings: Vec<String> = Vec::new();
    for entry in list.get_ref() {
        let spelling = entry.get_ref().trim();
        if spelling.is_empty() {
            places.report(
                at(entry),
                MappingRule::Value,
                format!("{key}: a spelling is empty; an empty cell is already a missing value"),
            );
        } else if spelling.chars().count() > MAX_NULL_SPELLING_CHARS {
            places.report(
                at(entry),
                MappingRule::Value,
                format!("{key}: a spelling is longer than {MAX_NULL_SPELLING_CHARS} characters"),
            );
        } else if spellings.iter().any(|s| s == spelling) {
            places.report(at(entry), MappingRule::Value, format!("{key}: {spelling:?} is listed twice"));
        } else {
            spellings.push(spelling.to_owned());
        }
    }
    let min_len = spellings.iter().map(String::len).min().unwrap_or(0);
    let max_len = spellings.iter().map(String::len).max().unwrap_or(0);
    NullSpellings { spellings, min_len, max_len }
}

/// Reports each spelling that a value map or a boolean spelling also reads (as they match,
/// without case): the cell is emptied first, so that rule would never apply.
pub(super) fn report_shadowed(
    places: &mut Places<'_>,
    list: Option<&Spanned<Vec<Spanned<String>>>>,
    nulls: &NullSpellings,
    names: &[&str],
    rules: &[ColumnRule],
) {
    let Some(list) = list else { return };
    for entry in list.get_ref() {
        let spelling = entry.get_ref().trim();
        if !nulls.as_slice().iter().any(|s| s == spelling) {
            continue;
        }
        for (name, rule) in names.iter().zip(rules) {
            let same = |s: &String| s.eq_ignore_ascii_case(spelling);
            let what = if rule.values.iter().any(|(from, _)| same(from)) {
                format!("a code of values.{name}")
            } else if rule.booleans.as_ref().is_some_and(|(yes, no)| yes.iter().chain(no).any(same)) {
                format!("a spelling of booleans.{name}")
            } else {
                continue;
            };
            places.report(
                at(entry),
                MappingRule::Value,
                format!(
                    "file.null_values: {spelling:?} is also {what}; a cell so written is read as empty before \
                     any other rule, so that one would never apply: keep one of them"
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spellings(list: &[&str]) -> NullSpellings {
        let spellings: Vec<String> = list.iter().map(|s| (*s).to_owned()).collect();
        let min_len = spellings.iter().map(String::len).min().unwrap_or(0);
        let max_len = spellings.iter().map(String::len).max().unwrap_or(0);
        NullSpellings { spellings, min_len, max_len }
    }

    #[test]
    fn a_spelling_matches_trimmed_and_case_included() {
        let n = spellings(&["NULL", "N/A"]);
        assert!(n.matches("NULL") && n.matches(" NULL\t") && n.matches("N/A"));
        assert!(!n.matches("null") && !n.matches("Null") && !n.matches("NULLS") && !n.matches("NA"));
        assert!(!n.matches("") && !n.matches("Ann"));
        assert!(!NullSpellings::default().matches("NULL"));
    }

    #[test]
    fn only_a_column_with_a_match_is_rebuilt() {
        let n = spellings(&["NULL"]);
        let col = StringArray::from(vec![Some("a"), None, Some("NULL"), Some(" NULL "), Some("b")]);
        let out = n.blank(&col).unwrap();
        let got: Vec<Option<&str>> = (0..out.len()).map(|r| out.is_valid(r).then(|| out.value(r))).collect();
        assert_eq!(got, [Some("a"), None, None, None, Some("b")]);
        assert!(n.blank(&StringArray::from(vec![Some("a"), None])).is_none());
        // A sliced column (a batch split for staging) keeps its own rows.
        let sliced = col.slice(2, 3);
        let out = n.blank(&sliced).unwrap();
        assert_eq!((out.len(), out.is_null(0), out.is_null(1), out.value(2)), (3, true, true, "b"));
    }
}
