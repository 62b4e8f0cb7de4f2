//! UTC timestamps without a date-time dependency.

use tellonce_schemas::identifiers::dates;

/// Now, as `YYYY-MM-DDTHH:MM:SSZ`.
pub fn now_rfc3339() -> String {
    let (days, secs) = now_parts();
    let (y, m, d) = dates::civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", secs / 3600, secs / 60 % 60, secs % 60)
}

/// Now, as a compact sortable id `YYYYMMDDTHHMMSSZ`.
pub fn now_compact() -> String {
    let (days, secs) = now_parts();
    let (y, m, d) = dates::civil_from_days(days);
    format!("{y:04}{m:02}{d:02}T{:02}{:02}{:02}Z", secs / 3600, secs / 60 % 60, secs % 60)
}

fn now_parts() -> (i32, u64) {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    (i32::try_from(secs / 86_400).unwrap_or(0), secs % 86_400)
}
