//! The build tier: from the pseudonymised staging dataset (as the audit log records it) to the
//! analysts' datasets. It plans what to read, links records into persons and families
//! ([`link`]), derives theme events, person and family rows and disclosure-controlled
//! aggregates ([`outcomes`]) and when each input arrived ([`arrivals`]), and publishes them with their audit entries. It reads staging and
//! never imports ingest code; [`datasets`] describes what it writes for the data dictionary.

pub mod arrivals;
pub mod datasets;
pub mod link;
pub mod outcomes;
