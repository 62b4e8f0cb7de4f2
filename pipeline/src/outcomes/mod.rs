//! Supporting Families outcomes: the theme mapping and the datasets analysts query.
//!
//! The build tier maps staged events to headline outcomes ([`themes`]) and writes
//! `theme_events/` ([`events`]) with the person and family of each event from the linkage
//! build. Counts for publication go through [`disclosure`] control.

pub mod disclosure;
pub mod events;
pub mod themes;
