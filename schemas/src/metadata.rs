//! The keys of the key–value metadata tellonce writes in every Parquet file's footer, named
//! once here: analysts read them (`parquet_kv_metadata` in DuckDB) and the audit report and
//! tests check them. A column's storage class is a field-level key,
//! [`crate::staging::STORAGE_KEY`].

/// The id of the key that made the file's tokens (never the key itself).
pub const KEY_ID: &str = "tellonce.key_id";
/// The tellonce version that wrote the file.
pub const VERSION: &str = "tellonce.version";
/// The feed whose records the file holds.
pub const FEED: &str = "tellonce.feed";
/// The schema version of the feed the records were read in.
pub const SCHEMA_VERSION: &str = "tellonce.schema_version";
/// The information sharing agreement (`id@version`) the records were shared under.
pub const AGREEMENT: &str = "tellonce.agreement";
/// First day of the reporting period of an outcome dataset (empty: unbounded).
pub const PERIOD_FROM: &str = "tellonce.period_from";
/// Last day of the reporting period of an outcome dataset (empty: unbounded).
pub const PERIOD_TO: &str = "tellonce.period_to";
/// The date ages are taken at in an outcome dataset.
pub const REFERENCE_DATE: &str = "tellonce.reference_date";
/// The Supporting Families eligibility rule of `families/`, in words.
pub const ELIGIBILITY: &str = "tellonce.eligibility";
/// The disclosure policy of `aggregates/`, in words.
pub const DISCLOSURE: &str = "tellonce.disclosure";
