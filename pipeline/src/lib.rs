//! tellonce: the pipeline stages, their wiring, configuration, synthetic data and the CLI.
//!
//! The ingest tier (`run`) takes partner files through validate → pseudonymise into the
//! pseudonymised staging dataset; see `../shared/design.md` for the whole architecture.

pub mod cli;
pub mod config;
pub mod exit;
pub mod reference;
pub mod run;
pub mod stages;
pub mod summary;
pub mod synth;
pub mod timefmt;
