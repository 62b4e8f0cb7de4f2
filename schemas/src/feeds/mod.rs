//! The partner feeds, one module each, at their current schema versions.

use crate::column::{Column, Kind, Role};
use crate::feed::FeedSchema;

pub mod camhs;
pub mod district;
pub mod education;
pub mod health_visiting;
pub mod housing;
pub mod person;
pub mod police;
pub mod youth_justice;

/// Every schema, in the order of the data dictionary.
pub(crate) static ALL: &[&FeedSchema] =
    &[&health_visiting::V1, &camhs::V1, &police::V1, &youth_justice::V1, &housing::V1, &district::V1, &education::V1];

/// An event attribute.
pub(crate) const fn event(name: &'static str, kind: Kind, description: &'static str) -> Column {
    Column::new(name, kind, Role::EventAttribute, description)
}

/// An optional date event attribute.
pub(crate) const fn date(name: &'static str, description: &'static str) -> Column {
    event(name, Kind::Date, description)
}

/// An optional boolean event attribute.
pub(crate) const fn flag(name: &'static str, description: &'static str) -> Column {
    event(name, Kind::Boolean, description)
}
