//! The stages a batch passes through, in order: validate, govern (the agreement's decision,
//! [`tellonce_governance::agreement::policy`], which the build applies too), pseudonymise.
//!
//! Linkage and outcomes (the build tier) read the staging dataset this ingest tier writes.

pub use tellonce_governance::agreement::policy as govern;
mod address_bloom;
pub mod pseudonymise;
pub mod validate;
