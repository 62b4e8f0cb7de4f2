//! The example agreements, one per feed, shipped with the binary so that `synth`, `demo`,
//! `bench` and `isa examples` can write them: a reviewed starting point, never a signed
//! agreement.

use std::path::{Path, PathBuf};

/// `(file name, text)` of each example agreement, from `pipeline/agreements/`.
pub const AGREEMENTS: [(&str, &str); 7] = [
    ("health_visiting.toml", include_str!("../agreements/health_visiting.toml")),
    ("camhs.toml", include_str!("../agreements/camhs.toml")),
    ("police.toml", include_str!("../agreements/police.toml")),
    ("youth_justice.toml", include_str!("../agreements/youth_justice.toml")),
    ("housing.toml", include_str!("../agreements/housing.toml")),
    ("district.toml", include_str!("../agreements/district.toml")),
    ("education.toml", include_str!("../agreements/education.toml")),
];

/// Feeds that are not built in, shipped as examples of a deployment's own: the feed definition
/// (see [`tellonce_schemas::definition::EXAMPLES`]) and its example agreement, from
/// `pipeline/agreements/`. `synth` and `demo` write both when they write the feed's data.
pub const FEED_AGREEMENTS: [(&str, &str); 1] =
    [("substance_misuse", include_str!("../agreements/substance_misuse.toml"))];

/// Writes the definition and example agreement of each example feed in `feeds` that is not built
/// in: definitions into `feeds_dir`, agreements into `agreements_dir`, both created if needed;
/// an existing file is left as it is. Returns whether any such feed was asked for.
pub fn write_example_feeds(feeds: &[&str], feeds_dir: &Path, agreements_dir: &Path) -> std::io::Result<bool> {
    let today = tellonce_schemas::identifiers::dates::today();
    let mut any = false;
    for (name, text) in tellonce_schemas::definition::EXAMPLES {
        let feed = name.trim_end_matches(".toml");
        if !feeds.contains(&feed) {
            continue;
        }
        any = true;
        std::fs::create_dir_all(feeds_dir)?;
        let path = feeds_dir.join(name);
        if !path.exists() {
            tellonce_connectors::atomic::write_atomic(&path, text.as_bytes())?;
        }
        if let Some((_, agreement)) = FEED_AGREEMENTS.iter().find(|(f, _)| *f == feed) {
            std::fs::create_dir_all(agreements_dir)?;
            let path = agreements_dir.join(format!("{feed}.toml"));
            if !path.exists() {
                tellonce_connectors::atomic::write_atomic(&path, in_force_on(agreement, today).as_bytes())?;
            }
        }
    }
    Ok(any)
}

/// Writes the example agreements into `dir` (created if needed), their dates moved on (see
/// [`in_force_on`]) so that they are in force and not past review today. A file that already
/// exists is left as it is: it may have been edited. Returns the files written.
pub fn write_agreements(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    let today = tellonce_schemas::identifiers::dates::today();
    let mut written = Vec::new();
    for (name, text) in AGREEMENTS {
        let path = dir.join(name);
        if path.exists() {
            continue;
        }
        tellonce_connectors::atomic::write_atomic(&path, in_force_on(text, today).as_bytes())?;
        written.push(path);
    }
    Ok(written)
}

/// An example agreement's text with its `start`, `review` and `end` dates moved on by whole
/// years, as few as make its review date fall on or after `today` (days since 1970), and
/// unchanged while it already does. The examples are signed for fixed periods; without this a
/// demo or a test written today would find every feed held once those periods ran out.
pub fn in_force_on(text: &str, today: i32) -> String {
    use tellonce_schemas::identifiers::dates;
    // `key = YYYY-MM-DD` on a line of its own, as the examples write their dates.
    let date_on = |line: &str, key: &str| {
        let value = line.trim().strip_prefix(key)?.trim_start().strip_prefix('=')?.trim();
        dates::parse(value).ok().map(dates::civil_from_days)
    };
    let Some((year, month, day)) = text.lines().find_map(|l| date_on(l, "review")) else { return text.to_owned() };
    let mut years = 0;
    while dates::days_from_civil(year + years, month, day) < today {
        years += 1;
    }
    if years == 0 {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let moved = ["start", "review", "end"].into_iter().find_map(|key| {
            let (y, m, d) = date_on(line, key)?;
            Some(format!("{key} = {}\n", dates::format(dates::days_from_civil(y + years, m, d))))
        });
        out.push_str(moved.as_deref().unwrap_or(line));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use tellonce_schemas::identifiers::dates::{days_from_civil, parse};

    fn dates_of(text: &str) -> Vec<String> {
        text.lines()
            .filter(|l| ["start =", "review =", "end ="].iter().any(|k| l.starts_with(k)))
            .map(str::to_owned)
            .collect()
    }

    #[test]
    fn examples_are_moved_on_by_whole_years_only_once_past_their_review() {
        let text = AGREEMENTS[2].1;
        assert_eq!(dates_of(text), ["start = 2025-04-01", "review = 2027-03-31", "end = 2030-03-31"]);
        assert_eq!(in_force_on(text, days_from_civil(2026, 12, 3)), text, "before review: as signed");
        assert_eq!(in_force_on(text, days_from_civil(2027, 3, 31)), text);
        let later = in_force_on(text, days_from_civil(2027, 4, 1));
        assert_eq!(dates_of(&later), ["start = 2026-04-01", "review = 2028-03-31", "end = 2031-03-31"]);
        let much_later = in_force_on(text, days_from_civil(2041, 6, 30));
        assert_eq!(dates_of(&much_later), ["start = 2040-04-01", "review = 2042-03-31", "end = 2045-03-31"]);
        // Nothing else changes.
        assert_eq!(later.lines().count(), text.lines().count());
        assert!(later.contains("months = 72"));
    }

    #[test]
    fn every_example_moved_on_is_in_force_and_not_past_review() {
        for today in [days_from_civil(2026, 12, 3), days_from_civil(2030, 4, 1), days_from_civil(2035, 2, 28)] {
            for (name, text) in AGREEMENTS {
                let moved = in_force_on(text, today);
                let get =
                    |k: &str| moved.lines().find_map(|l| l.strip_prefix(k)).map(|v| parse(v.trim()).unwrap()).unwrap();
                assert!(
                    get("start =") <= today && today <= get("review =") && get("review =") <= get("end ="),
                    "{name}"
                );
            }
        }
    }
}
