//! Feed schemas, identifier checks and the data dictionary for tellonce.
//!
//! A [`FeedSchema`] names a partner feed's columns at one version. Each [`Column`] declares its
//! [`Role`] (direct identifier, quasi-identifier, event attribute, record reference), and the
//! later stages act on the role, never on the column's name. [`Kind::check`] validates and
//! normalises a value, naming the [`Rule`] broken and never the value.
//!
//! ```
//! use tellonce_schemas::{feed, Role};
//! let police = feed::latest("police").unwrap();
//! assert_eq!(police.column("forename").unwrap().role, Role::DirectIdentifier);
//! ```

pub mod block_keys;
pub mod check;
pub mod column;
pub mod definition;
pub mod feed;
pub mod identifiers;
pub mod match_keys;
pub mod metadata;
pub mod name_edits;
pub mod position;
pub mod printable;
pub mod registry;
pub mod spreadsheet_damage;
pub mod staging;
pub mod standard;
pub mod treatment;

pub use check::{Rule, Value};
pub use column::{Column, Generalisation, Kind, OnInvalid, Role, Sensitivity};
pub use feed::FeedSchema;
pub use match_keys::{BlockKey, MatchField, MatchRule};
pub use treatment::{Coarsening, Treatment};
