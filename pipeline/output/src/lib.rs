//! The output folder every tellonce command shares: where each dataset, lock and marker lives
//! ([`layout`]), how a session takes the folder ([`lock`]), how files the audit log does not
//! record are taken out of the datasets ([`unrecorded`], [`strays`]), and the fault points the
//! crash tests arm ([`faults`]).
//!
//! It sits below both tiers: ingest (`tellonce-pipeline`) and the build (`tellonce-build`) use it,
//! and it knows neither.

pub mod commit;
pub mod faults;
pub mod layout;
pub mod lock;
pub mod rewrite;
pub mod strays;
pub mod timefmt;
pub mod tombstone_rule;
pub mod unrecorded;
