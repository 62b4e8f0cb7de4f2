//! Escaping and formatting helpers.

use std::collections::BTreeMap;

use tellonce_schemas::identifiers::dates;

/// Reviews due within this many days are highlighted.
const REVIEW_WARN_DAYS: i32 = 60;
/// Agreements ending within this many days are highlighted.
const END_WARN_DAYS: i32 = 90;

/// HTML-escapes text for element content and attribute values.
pub(super) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// `1234567` as `1,234,567`.
pub(super) fn num(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `1 run` or `2 runs`, with the number formatted.
pub(super) fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{} {}", num(n), if n == 1 { one } else { many })
}

/// A hash shown short, with the whole value on hover.
pub(super) fn short_hash(h: &str) -> String {
    let short: String = h.chars().take(12).collect();
    if short.len() < h.len() {
        format!("<code title=\"{}\">{}…</code>", esc(h), esc(&short))
    } else {
        format!("<code>{}</code>", esc(h))
    }
}

/// `2026-11-23T09:41:07Z` as `2026-11-23 09:41 UTC`.
pub(super) fn when(at: &str) -> String {
    let b = at.as_bytes();
    if b.len() == 20 && b[10] == b'T' && b[19] == b'Z' {
        format!("{} {} UTC", esc(&at[..10]), esc(&at[11..16]))
    } else {
        esc(at)
    }
}

/// `code 2, other 1`, or a dash.
pub(super) fn counts(map: &BTreeMap<String, u64>) -> String {
    let parts: Vec<String> =
        map.iter().filter(|(_, n)| **n > 0).map(|(k, n)| format!("{} {}", esc(k), num(*n))).collect();
    if parts.is_empty() { "—".to_string() } else { parts.join(", ") }
}

pub(super) fn list<'s>(items: impl IntoIterator<Item = &'s str>) -> String {
    let parts: Vec<String> = items.into_iter().map(esc).collect();
    if parts.is_empty() { "—".to_string() } else { parts.join(", ") }
}

/// Highlight class and note for a review date.
pub(super) fn review_flag(review: &str, today: i32) -> (&'static str, String) {
    match dates::parse(review) {
        Ok(d) if d < today => ("bad", format!("review overdue by {} days", today - d)),
        Ok(d) if d == today => ("warn", "review due today".to_string()),
        Ok(d) if d - today <= REVIEW_WARN_DAYS => {
            ("warn", format!("review due within {REVIEW_WARN_DAYS} days ({} days)", d - today))
        }
        Ok(_) => ("", String::new()),
        Err(_) => ("warn", "review date not readable".to_string()),
    }
}

/// Highlight class and note for an end date (the last day in force).
pub(super) fn end_flag(end: &str, today: i32) -> (&'static str, String) {
    match dates::parse(end) {
        Ok(d) if d < today => ("bad", format!("ended {} days ago", today - d)),
        Ok(d) if d - today <= END_WARN_DAYS => {
            ("warn", format!("ends within {END_WARN_DAYS} days ({} days)", d - today))
        }
        Ok(_) => ("", String::new()),
        Err(_) => ("warn", "end date not readable".to_string()),
    }
}

pub(super) fn standing_class(standing: &str) -> &'static str {
    match standing {
        "in_force" => "good",
        "review_overdue" => "warn",
        "expired" => "bad",
        _ => "",
    }
}

pub(super) fn files_cell(files: &BTreeMap<String, (u64, u64)>) -> String {
    if files.is_empty() {
        return "—".to_string();
    }
    let parts: Vec<String> = files
        .iter()
        .map(|(dataset, (n, rows))| {
            let s = if *n == 1 { "" } else { "s" };
            format!("{}: {} file{s}, {} rows", esc(dataset), num(*n), num(*rows))
        })
        .collect();
    parts.join("<br>")
}
