//! Information Sharing Agreements as code: model, loading, lint, standing, explain and diff.
//!
//! An agreement is one TOML file, reviewed like code, naming its parties, purposes, legal
//! gateways, lawful basis and Article 9/10 conditions, its start, review and end dates, the
//! retention of what it produces, and, field by field for each feed it governs, what happens to
//! the field: `pass`, `pseudonymise`, `generalise` (with the coarsening) or `drop`. A field the
//! agreement does not name is dropped (deny by default); a feed no agreement governs on the day
//! is not processed at all.
//!
//! * [`load_dir`] reads every `*.toml` file of a directory and reports **every**
//!   [`Problem`] at once, each with file, line, column, a stable rule code ([`Lint::code`]) and
//!   a severity. Only agreements without errors are returned, so a broken agreement lets no
//!   data through (fail closed).
//! * [`AgreementSet::standing`] says which agreement governs a feed on a day.
//! * [`explain`] says, in plain words, what happens to each field of a feed and why.
//! * [`diff`] / [`diff_paths`] show what a new version changes, before anyone signs it.
//!
//! # When an agreement is in force
//!
//! "In force" is judged on the **processing date**: the day the hub processes an input,
//! which the caller may override to replay an old input or in tests. The agreement governs the
//! act of sharing and processing, not the events recorded, so records dated before an
//! agreement started may be shared under it if it covers the feed. Overlapping agreements for a
//! feed are a lint error (`agreement.overlap`), also between two versions of one agreement (a
//! new version starts the day after the old one ends), so at most one agreement is in force per
//! feed and day; if the lint was bypassed, [`Standing::Ambiguous`] is returned and none is
//! applied.
//!
//! # Positions
//!
//! Files are parsed with `toml::de::DeTable`, which keeps the byte span of every key and value;
//! a problem is placed at the key or value at fault (a missing key at the header of its table,
//! or at 1:1 for a missing top-level key) and shown as a 1-based line and a 1-based column
//! counted in characters.
//!
//! # Example
//!
//! ```
//! use std::path::Path;
//! use tellonce_governance::agreement::{self, Standing};
//! use tellonce_schemas::identifiers::dates;
//! use tellonce_schemas::{definition, registry};
//!
//! // One example agreement governs a feed that is not built in: load its definition first, as a
//! // deployment's `[feeds] dir` would.
//! let substance = definition::example("substance_misuse").unwrap().unwrap();
//! registry::install(registry::Registry::with_deployment(&[substance]).unwrap());
//! let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../pipeline/agreements");
//! let on = dates::parse("2026-11-23").unwrap();
//! let loaded = agreement::load_dir(&dir, on).unwrap();
//! assert!(loaded.problems.is_empty(), "{:?}", loaded.problems);
//! let set = loaded.into_set();
//! let Standing::InForce { agreement, .. } = set.standing("police", on) else { panic!() };
//! assert!(agreement.treatment("police", "forename").token);
//! assert!(!agreement.treatment("police", "forename").pass);
//! ```

mod diff;
mod error;
mod explain;
mod load;
mod model;
mod parse;
pub mod policy;
use tellonce_schemas::position;
mod problem;
mod read;
mod standing;
mod terms;
mod words;

#[cfg(test)]
mod tests;

pub use diff::{
    AgreementDiff, FieldChange, FieldChangeKind, OutputColumn, SetDiff, TermChange, diff, diff_paths, diff_sets,
};
pub use error::AgreementError;
pub use explain::explain;
pub use load::{Loaded, load_dir, load_file, load_str};
pub use model::{Agreement, Condition, FeedTerms, FieldTerms, Party, PartyRole, Signatory};
pub use position::Position;
pub use problem::{Lint, Problem, Severity};
pub use standing::{AgreementSet, Standing};
pub use words::{plain as describe_treatment, short as treatment_label};
