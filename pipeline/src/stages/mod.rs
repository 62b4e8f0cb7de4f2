//! The stages a batch passes through, in order: validate, then pseudonymise.
//!
//! The governance stage (agreements, issue #3) will sit between the two; linkage and outcomes
//! read the staging dataset this ingest tier writes.

pub mod pseudonymise;
pub mod validate;
