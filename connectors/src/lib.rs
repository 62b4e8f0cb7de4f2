//! Connectors for tellonce: partner files in, Parquet datasets and quarantine out.
//!
//! - [`file_source`]: CSV and JSON Lines files read as bounded Arrow batches of text columns,
//!   with their [`lineage`] and the records rejected at the source.
//! - [`mapping`]: source mappings, how a partner's own file (headings, codes, date formats,
//!   delimiter, encoding) becomes a feed's columns.
//! - [`parquet_sink`]: Hive-partitioned, zstd Parquet part files committed atomically, with
//!   rows and SHA-256 for the [`manifest`].
//! - [`quarantine`]: rejected records, sealed by the caller, one JSON object per line.
//! - [`hashing`] and [`atomic`]: SHA-256 of files and writers; durable all-or-nothing writes.
//!
//! Errors name files and lines, never a value read from a file.

pub mod atomic;
pub mod file_source;
pub mod hashing;
pub mod infer;
pub mod lineage;
pub mod manifest;
pub mod mapping;
pub mod parquet_sink;
pub mod quarantine;
