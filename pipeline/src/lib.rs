//! tellonce: the pipeline stages, their wiring, configuration, synthetic data and the CLI.
//!
//! The ingest tier (`run`) takes partner files through validate → govern → pseudonymise into
//! the pseudonymised staging dataset; `subject` and `retention` serve data subjects' rights and
//! the agreements' retention; see `../shared/design.md` for the whole architecture.

pub mod config;
pub mod examples;
pub mod progress;
pub mod records;
pub mod reference;
pub mod retention;
pub mod run;
pub mod session;
pub mod stages;
pub mod stream;
pub mod subject;
