//! Treatments in words: a short form for diffs (`token+year_month`) and a plain one for
//! governance leads (`pseudonymised to a keyed token and generalised to year and month only`).

use tellonce_schemas::Treatment;
use tellonce_schemas::column::Column;
use tellonce_schemas::feed::FeedSchema;
use tellonce_schemas::staging::{self, Derivation};

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
pub fn output_columns(
    schema: &'static FeedSchema,
    col: &Column,
    treat: impl Fn(&Column) -> Treatment,
) -> OutputColumns {
    let mut out = OutputColumns::default();
    for s in staging::columns_under(schema, treat) {
        if !s.uses(col) {
            continue;
        }
        // Match keys, blocking tokens and name encodings are linkage material, read only by the
        // linkage build, not the field's own output.
        if matches!(
            s.derivation,
            Derivation::MatchKey(_)
                | Derivation::BlockKey(_)
                | Derivation::Bloom(_)
                | Derivation::AddressBloom
                | Derivation::EditTokens(_)
        ) {
            out.linkage.push(s.name);
        } else {
            out.own.push(s.name);
        }
    }
    out
}

/// The staging columns one field ends up in.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct OutputColumns {
    /// Columns made from this field alone (its value, coarsened forms, token, geography).
    pub own: Vec<String>,
    /// Linkage columns it contributes to with other fields (match keys, encodings).
    pub linkage: Vec<String>,
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
        // Only the date of birth is kept: it feeds the blocking tokens of its parts, and no
        // match key.
        let only = |name: &'static str, t: Treatment| {
            move |c: &Column| if c.name == name { t.clone() } else { Treatment::default() }
        };
        let cols = output_columns(police, dob, only("date_of_birth", t.clone()));
        assert_eq!(cols.own, ["date_of_birth_month", "date_of_birth_token"]);
        assert_eq!(
            cols.linkage,
            [
                "dob_unordered_token",
                "dob_year_month_token",
                "dob_year_day_token",
                "dob_month_day_token",
                "birth_year_even_pair_token",
                "birth_year_odd_pair_token",
                "date_of_birth_edit_tokens"
            ]
        );
        let postcode = police.column("postcode").unwrap();
        let tp = Treatment { pass: false, token: true, coarsen: vec![Coarsening::Outward, Coarsening::Area] };
        assert_eq!(
            output_columns(police, postcode, only("postcode", tp.clone())).own,
            ["postcode_outward", "postcode_token", "small_area", "district", "imd_decile"]
        );
        assert!(output_columns(police, dob, |_| Treatment::default()).own.is_empty());
        // With the names and postcode tokenised too, the date of birth feeds match keys.
        let all = |c: &Column| match c.name {
            "date_of_birth" => t.clone(),
            "postcode" => tp.clone(),
            "forename" | "surname" => Treatment { pass: false, token: true, coarsen: vec![] },
            _ => Treatment::default(),
        };
        let cols = output_columns(police, dob, all);
        assert!(cols.linkage.iter().any(|c| c == "mk_name_dob"), "{cols:?}");
        assert!(cols.linkage.iter().any(|c| c == "birth_year_postcode_token"), "{cols:?}");
        assert!(!cols.own.iter().any(|c| c.starts_with("mk_")), "{cols:?}");
    }
}
