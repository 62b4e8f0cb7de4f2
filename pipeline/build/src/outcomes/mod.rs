//! Supporting Families outcomes: the theme mapping and the datasets analysts query.
//!
//! The build tier maps staged events to headline outcomes ([`themes`], with rules over more
//! than one row in [`sequences`]) and writes
//! `theme_events/` ([`events`]) with the person and family of each event from the linkage
//! build. In the same pass it gathers what each person's records say ([`profile`]), from which
//! it writes `persons/` ([`persons`]) and `families/` ([`families`]) for the reporting period
//! ([`settings`]). Counts for publication go through [`disclosure`] control into `aggregates/`
//! ([`aggregates`]). Episodes of support go to `episodes/` ([`episodes`]), and the
//! needs each family had at their start, with their outcomes, to `family_outcomes/` and
//! `outcome_claims/` ([`family_outcomes`]), and the families' returns after a close to
//! `re_referrals/` ([`re_referrals`]).

use std::collections::HashMap;

use arrow_schema::{DataType, Field};

pub mod aggregates;
pub mod disclosure;
pub mod episodes;
pub mod events;
pub mod families;
pub mod family_outcomes;
pub mod linked;
pub mod localities;
pub mod outcome_rules;
pub mod persons;
pub mod profile;
pub mod re_referrals;
pub mod sequences;
pub mod settings;
mod suppression_graph;
pub mod themes;

/// A nullable field with its description in the field metadata (DuckDB, pyarrow and Spark show
/// it; `tellonce schemas dataset` prints it).
pub(crate) fn described(name: &str, data_type: DataType, description: &str) -> Field {
    let meta: HashMap<String, String> = [("description".to_owned(), description.to_owned())].into_iter().collect();
    Field::new(name, data_type, true).with_metadata(meta)
}

/// A list of strings, described.
pub(crate) fn described_list(name: &str, description: &str) -> Field {
    described(name, DataType::List(std::sync::Arc::new(Field::new_list_field(DataType::Utf8, true))), description)
}

#[cfg(test)]
mod tests;
