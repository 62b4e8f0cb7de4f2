//! The pseudonymised staging dataset's columns, derived from a feed schema by column role.
//!
//! One definition serves the pseudonymise stage (which builds batches of this shape), the
//! Parquet sink (which writes the descriptions into the file metadata) and the data dictionary.

use arrow_schema::{DataType, Field, Schema};

use crate::column::{Column, Kind, Role};
use crate::feed::FeedSchema;
use crate::treatment::{Coarsening, Treatment};

/// Lineage column: the input the row came from (file name, or topic and partition).
pub const SOURCE: &str = "_source";
/// Lineage column: the row's position in that input (line number, or offset).
pub const POSITION: &str = "_position";
/// Lineage column: the agreement (`id@version`) under which the row was shared.
pub const AGREEMENT: &str = "_agreement";
/// Derived column: the synthetic small area (LSOA-like) of the postcode, where known.
pub const SMALL_AREA: &str = "small_area";
/// Derived column: the district of the postcode, where known.
pub const DISTRICT: &str = "district";
/// Derived column: the IMD decile (1 = most deprived) of the small area, where known.
pub const IMD_DECILE: &str = "imd_decile";

/// Bytes in a keyed token: HMAC-SHA256 truncated to 128 bits.
pub const TOKEN_BYTES: i32 = 16;

/// Field metadata key telling the Parquet sink how to store a column (see the connectors crate):
/// `plain` for random tokens, `unique` for record references.
pub const STORAGE_KEY: &str = "tellonce.storage";

/// How a staging column is made from its input.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Derivation {
    /// The checked value, typed.
    Pass,
    /// A keyed HMAC token of the normalised value (16 bytes), for linkage in the build tier.
    Token,
    /// The value coarsened (for [`Coarsening::Area`], see [`Derivation::Geography`]).
    Coarsened(Coarsening),
    /// Looked up from the full postcode before it is discarded.
    Geography,
    /// Where the row came from, and the agreement that let it through.
    Lineage,
}

/// One column of a staging dataset.
#[derive(Debug, Clone)]
pub struct StagingColumn {
    /// Column name in the Parquet file.
    pub name: String,
    /// Arrow type.
    pub data_type: DataType,
    /// The feed column it is made from (`None` for lineage).
    pub input: Option<&'static Column>,
    /// How it is made.
    pub derivation: Derivation,
    /// One sentence for the data dictionary and the Parquet metadata.
    pub description: String,
}

impl StagingColumn {
    /// The Arrow field, nullable, with its description under the `description` metadata key
    /// and, where it matters, a storage hint under [`STORAGE_KEY`].
    pub fn field(&self) -> Field {
        let mut meta: std::collections::HashMap<String, String> =
            [("description".to_owned(), self.description.clone())].into_iter().collect();
        let storage = match (self.derivation, self.input.map(|c| c.role)) {
            (Derivation::Token, _) => Some("plain"),
            (Derivation::Pass, Some(Role::RecordReference)) => Some("unique"),
            _ => None,
        };
        if let Some(s) = storage {
            meta.insert(STORAGE_KEY.to_owned(), s.to_owned());
        }
        Field::new(&self.name, self.data_type.clone(), true).with_metadata(meta)
    }
}

/// The Arrow type of a checked value of this kind, when it passes as it is.
pub fn pass_type(kind: &Kind) -> DataType {
    match kind {
        Kind::Date | Kind::BirthDate => DataType::Date32,
        Kind::Integer { .. } => DataType::Int64,
        Kind::Decimal { .. } => DataType::Float64,
        Kind::Boolean => DataType::Boolean,
        _ => DataType::Utf8,
    }
}

/// The staging columns of a feed as its schema alone would keep them
/// ([`Treatment::schema_default`]): what an agreement may narrow, never widen.
pub fn columns(feed: &'static FeedSchema) -> Vec<StagingColumn> {
    columns_under(feed, Treatment::schema_default)
}

/// The staging columns of a feed under a treatment per field, in order: inputs as treated
/// (value, coarsened forms, token), then geography, then lineage. A field whose treatment
/// keeps nothing has no column at all.
pub fn columns_under(feed: &'static FeedSchema, treat: impl Fn(&Column) -> Treatment) -> Vec<StagingColumn> {
    let mut out = Vec::new();
    let mut geography_from = None;
    for col in feed.columns {
        let t = treat(col);
        let mut push = |name: String, data_type: DataType, derivation: Derivation, description: String| {
            out.push(StagingColumn { name, data_type, input: Some(col), derivation, description });
        };
        // A backstop under the agreements' lint: a clear identifier never passes, whatever a
        // treatment says.
        if t.pass && crate::treatment::pass_allowed(col) {
            push(col.name.to_owned(), pass_type(&col.kind), Derivation::Pass, col.description.to_owned());
        }
        for how in Coarsening::ALL {
            if !t.coarsen.contains(&how) || !how.applies_to(&col.kind) {
                continue;
            }
            match how {
                Coarsening::YearMonth => push(
                    format!("{}_month", col.name),
                    DataType::Utf8,
                    Derivation::Coarsened(how),
                    format!("Year and month (YYYY-MM) of {}.", col.name),
                ),
                Coarsening::Year => push(
                    format!("{}_year", col.name),
                    DataType::Int32,
                    Derivation::Coarsened(how),
                    format!("Year of {}.", col.name),
                ),
                Coarsening::Outward => push(
                    format!("{}_outward", col.name),
                    DataType::Utf8,
                    Derivation::Coarsened(how),
                    format!("Outward code of {} (the part before the space).", col.name),
                ),
                Coarsening::Area => geography_from = geography_from.or(Some(col)),
            }
        }
        if t.token {
            let exact = if col.role == Role::QuasiIdentifier { "exact " } else { "" };
            push(
                format!("{}_token", col.name),
                DataType::FixedSizeBinary(TOKEN_BYTES),
                Derivation::Token,
                format!("Keyed linkage token (HMAC-SHA256, first 16 bytes) of the {exact}normalised {}.", col.name),
            );
        }
    }
    if let Some(postcode) = geography_from {
        let geo = [
            (SMALL_AREA, DataType::Utf8, "Synthetic small area (LSOA-like) of the postcode, from the lookup."),
            (DISTRICT, DataType::Utf8, "District or borough of the postcode, from the lookup."),
            (IMD_DECILE, DataType::UInt8, "IMD decile of the small area (1 = most deprived), from the lookup."),
        ];
        for (name, data_type, description) in geo {
            out.push(StagingColumn {
                name: name.to_owned(),
                data_type,
                input: Some(postcode),
                derivation: Derivation::Geography,
                description: description.to_owned(),
            });
        }
    }
    let lineage = [
        (SOURCE, DataType::Utf8, "The input the row came from: file name, or Kafka topic and partition."),
        (POSITION, DataType::UInt64, "The row's position in its input: line number, or Kafka offset."),
        (AGREEMENT, DataType::Utf8, "The information sharing agreement (id@version) under which the row was shared."),
    ];
    for (name, data_type, description) in lineage {
        out.push(StagingColumn {
            name: name.to_owned(),
            data_type,
            input: None,
            derivation: Derivation::Lineage,
            description: description.to_owned(),
        });
    }
    out
}

/// The Arrow schema of a feed's staging dataset.
pub fn schema(feed: &'static FeedSchema) -> Schema {
    Schema::new(columns(feed).iter().map(StagingColumn::field).collect::<Vec<_>>())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::feed;

    #[test]
    fn no_direct_or_exact_quasi_identifier_is_passed_in_clear() {
        for f in feed::all() {
            for c in columns(f) {
                if let Some(input) = c.input {
                    match input.role {
                        Role::DirectIdentifier => {
                            assert_eq!(c.derivation, Derivation::Token, "{}", c.name)
                        }
                        Role::QuasiIdentifier => assert!(
                            matches!(
                                c.derivation,
                                Derivation::Token | Derivation::Coarsened(_) | Derivation::Geography
                            ) || (c.derivation == Derivation::Pass && matches!(input.kind, Kind::Code(_))),
                            "{}",
                            c.name
                        ),
                        _ => {}
                    }
                }
            }
        }
    }

    #[test]
    fn a_quasi_identifier_without_a_generalisation_is_withheld() {
        static COLS: [Column; 2] = [
            Column::new("record_id", Kind::Reference { max_bytes: 8 }, Role::RecordReference, "r"),
            Column::new("birth_postcode", Kind::Postcode, Role::QuasiIdentifier, "p"),
        ];
        static FEED: FeedSchema = FeedSchema {
            name: "t",
            version: 1,
            partner: "t",
            description: "t",
            event_date: "record_id",
            columns: &COLS,
        };
        let names: Vec<String> = columns(&FEED).into_iter().map(|c| c.name).collect();
        assert!(names.contains(&"birth_postcode_token".to_owned()));
        assert!(!names.contains(&"birth_postcode".to_owned()), "{names:?}");
    }

    #[test]
    fn health_visiting_staging_has_tokens_generalised_columns_and_lineage() {
        let names: Vec<String> =
            columns(feed::latest("health_visiting").unwrap()).into_iter().map(|c| c.name).collect();
        for want in [
            "record_id",
            "nhs_number_token",
            "forename_token",
            "date_of_birth_month",
            "date_of_birth_token",
            "postcode_outward",
            "postcode_token",
            "sex",
            "contact_date",
            "small_area",
            "imd_decile",
            "_source",
            "_position",
        ] {
            assert!(names.iter().any(|n| n == want), "missing {want}");
        }
        assert!(!names.iter().any(|n| n == "nhs_number" || n == "date_of_birth" || n == "postcode"));
    }
}
