//! The stages a batch passes through, in order: validate, govern, pseudonymise.
//!
//! Linkage and outcomes (the build tier) read the staging dataset this ingest tier writes.

pub mod govern;
pub mod pseudonymise;
pub mod validate;
