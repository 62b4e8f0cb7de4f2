//! Treatments in words: a short form for diffs (`token+year_month`) and a plain one for
//! governance leads (`pseudonymised to a keyed token and generalised to year and month only`).

use tellonce_schemas::column::Column;
use tellonce_schemas::feed::FeedSchema;
use tellonce_schemas::{Treatment, staging};

/// The short form of a treatment: `drop`, or its parts joined by `+` (`pass`, `token`, then
/// each coarsening's name), e.g. `token+year_month`.
pub fn short(t: &Treatment) -> String {
    if t.is_drop() {
        return "drop".to_owned();
    }
    let mut parts: Vec<&str> = Vec::new();
    if t.pass {
        parts.push("pass");
    }
    if t.token {
        parts.push("token");
    }
    parts.extend(t.coarsen.iter().map(|c| c.as_str()));
    parts.join("+")
}

/// The plain form of a treatment that keeps something, e.g. `passes as it is` or
/// `pseudonymised to a keyed token and generalised to year and month only`.
pub fn plain(t: &Treatment) -> String {
    let mut parts: Vec<String> = Vec::new();
    if t.pass {
        parts.push("passes as it is".to_owned());
    }
    if t.token {
        parts.push("pseudonymised to a keyed token".to_owned());
    }
    if !t.coarsen.is_empty() {
        let forms: Vec<&str> = t.coarsen.iter().map(|c| c.describe()).collect();
        parts.push(format!("generalised to {}", forms.join(" and to ")));
    }
    if parts.is_empty() { "dropped".to_owned() } else { parts.join(" and ") }
}

/// The staging columns that `col` of `schema` ends up in under `t`, by name (lineage columns
/// left out: every row has them whatever the treatment).
pub fn output_columns(schema: &'static FeedSchema, col: &Column, t: &Treatment) -> Vec<String> {
    staging::columns_under(schema, |c| if c.name == col.name { t.clone() } else { Treatment::default() })
        .into_iter()
        .filter(|s| s.input.is_some())
        .map(|s| s.name)
        .collect()
}

/// The staging dataset of a feed, as a path prefix.
pub fn dataset(feed: &str) -> String {
    format!("staging/feed={feed}/")
}

#[cfg(test)]
mod tests {
    use super::*;
    use tellonce_schemas::{Coarsening, feed};

    #[test]
    fn treatments_read_short_and_plain() {
        let dob = Treatment { pass: false, token: true, coarsen: vec![Coarsening::YearMonth] };
        assert_eq!(short(&dob), "token+year_month");
        assert_eq!(plain(&dob), "pseudonymised to a keyed token and generalised to year and month only");
        assert_eq!(short(&Treatment::default()), "drop");
        assert_eq!(plain(&Treatment { pass: true, ..Treatment::default() }), "passes as it is");
    }

    #[test]
    fn output_columns_follow_the_staging_contract() {
        let police = feed::latest("police").unwrap();
        let dob = police.column("date_of_birth").unwrap();
        let t = Treatment { pass: false, token: true, coarsen: vec![Coarsening::YearMonth] };
        assert_eq!(output_columns(police, dob, &t), ["date_of_birth_month", "date_of_birth_token"]);
        let postcode = police.column("postcode").unwrap();
        let t = Treatment { pass: false, token: true, coarsen: vec![Coarsening::Outward, Coarsening::Area] };
        assert_eq!(
            output_columns(police, postcode, &t),
            ["postcode_outward", "postcode_token", "small_area", "district", "imd_decile"]
        );
        assert!(output_columns(police, dob, &Treatment::default()).is_empty());
    }
}
