//! The pseudonymise stage: checked batches in, staging batches out.
//!
//! What happens to each column is what the governance stage's [`Policy`] says, within what the
//! column's role allows (see `tellonce_schemas::staging::columns_under`): identifiers become
//! keyed tokens; dates and postcodes may be coarsened; event attributes and the record reference
//! may pass; a field the agreement drops has no output column. After this stage no clear
//! identifier remains in the batch.

use std::sync::Arc;

use arrow_array::builder::{FixedSizeBinaryBuilder, Int32Builder, StringBuilder, UInt8Builder};
use arrow_array::cast::AsArray;
use arrow_array::types::Date32Type;
use arrow_array::{Array, ArrayRef, RecordBatch, StringArray};
use arrow_schema::{ArrowError, DataType, SchemaRef};
use tellonce_governance::Tokeniser;
use tellonce_schemas::identifiers::{dates, postcode};
use tellonce_schemas::staging::{self, Derivation, StagingColumn};
use tellonce_schemas::{Coarsening, FeedSchema};

use super::govern::Policy;
use super::validate::CheckedBatch;
use crate::reference::{Geography, PostcodeLookup};

/// Errors of the pseudonymise stage: only a malformed checked batch (a bug) can cause one.
#[derive(Debug, thiserror::Error)]
pub enum PseudonymiseError {
    /// A column the staging schema needs is missing or of the wrong type.
    #[error("checked batch for {feed} lacks column {column} of the expected type")]
    Column {
        /// The feed.
        feed: &'static str,
        /// The column.
        column: String,
    },
    /// Arrow refused the staging batch.
    #[error("building the staging batch: {0}")]
    Arrow(#[from] ArrowError),
}

/// Turns a feed's checked batches into staging batches.
#[derive(Debug, Clone)]
pub struct Pseudonymiser {
    feed: &'static FeedSchema,
    columns: Arc<Vec<StagingColumn>>,
    schema: SchemaRef,
    tokeniser: Tokeniser,
    lookup: Option<Arc<PostcodeLookup>>,
    agreement: Arc<str>,
}

impl Pseudonymiser {
    /// A pseudonymiser for one feed under `policy`, tokenising with the linkage tokeniser.
    pub fn new(
        feed: &'static FeedSchema,
        policy: &Policy,
        tokeniser: Tokeniser,
        lookup: Option<Arc<PostcodeLookup>>,
    ) -> Self {
        let columns = staging::columns_under(feed, |c| policy.treatment(feed, c));
        let schema = Arc::new(arrow_schema::Schema::new(columns.iter().map(StagingColumn::field).collect::<Vec<_>>()));
        Pseudonymiser {
            feed,
            columns: Arc::new(columns),
            schema,
            tokeniser,
            lookup,
            agreement: policy.agreement.clone(),
        }
    }

    /// The staging schema this pseudonymiser produces.
    pub fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    /// Pseudonymises one checked batch.
    pub fn apply(&self, checked: &CheckedBatch) -> Result<RecordBatch, PseudonymiseError> {
        let b = &checked.batch;
        let rows = b.num_rows();
        let input = |name: &str| -> Result<&ArrayRef, PseudonymiseError> {
            self.feed
                .index_of(name)
                .map(|i| b.column(i))
                .ok_or_else(|| PseudonymiseError::Column { feed: self.feed.name, column: name.to_owned() })
        };
        let text = |name: &str| -> Result<&StringArray, PseudonymiseError> {
            input(name)?
                .as_string_opt::<i32>()
                .ok_or_else(|| PseudonymiseError::Column { feed: self.feed.name, column: name.to_owned() })
        };
        let mut out: Vec<ArrayRef> = Vec::with_capacity(self.columns.len());
        // Each row's geography, looked up once for the three columns that use it.
        let mut geos: Option<Vec<Option<&Geography>>> = None;
        for col in self.columns.iter() {
            let array: ArrayRef = match (col.derivation, col.input) {
                (Derivation::Pass, Some(c)) => input(c.name)?.clone(),
                (Derivation::Token, Some(c)) => {
                    let arr = input(c.name)?;
                    let mut builder = FixedSizeBinaryBuilder::with_capacity(rows, staging::TOKEN_BYTES);
                    if let Some(dates_arr) = arr.as_primitive_opt::<Date32Type>() {
                        let mut iso = [0u8; 10];
                        for v in dates_arr.iter() {
                            match v {
                                Some(d) => {
                                    dates::write_iso(d, &mut iso);
                                    builder.append_value(self.tokeniser.token(c.name, &iso))?;
                                }
                                None => builder.append_null(),
                            }
                        }
                    } else {
                        for v in text(c.name)?.iter() {
                            match v {
                                Some(s) => builder.append_value(self.tokeniser.token(c.name, s.as_bytes()))?,
                                None => builder.append_null(),
                            }
                        }
                    }
                    Arc::new(builder.finish())
                }
                (Derivation::Coarsened(Coarsening::Year), Some(c)) => {
                    let arr = input(c.name)?
                        .as_primitive_opt::<Date32Type>()
                        .ok_or_else(|| PseudonymiseError::Column { feed: self.feed.name, column: c.name.to_owned() })?;
                    let mut builder = Int32Builder::with_capacity(rows);
                    for d in arr.iter() {
                        builder.append_option(d.map(|d| dates::civil_from_days(d).0));
                    }
                    Arc::new(builder.finish())
                }
                (Derivation::Coarsened(Coarsening::YearMonth), Some(c)) => {
                    let arr = input(c.name)?
                        .as_primitive_opt::<Date32Type>()
                        .ok_or_else(|| PseudonymiseError::Column { feed: self.feed.name, column: c.name.to_owned() })?;
                    let mut builder = StringBuilder::with_capacity(rows, rows * 7);
                    let mut iso = [0u8; 10];
                    for d in arr.iter() {
                        match d {
                            Some(d) => {
                                dates::write_iso(d, &mut iso);
                                // YYYY-MM: ASCII digits and a hyphen, always valid UTF-8.
                                builder.append_value(std::str::from_utf8(&iso[..7]).unwrap_or_default());
                            }
                            None => builder.append_null(),
                        }
                    }
                    Arc::new(builder.finish())
                }
                (Derivation::Coarsened(Coarsening::Outward), Some(c)) => {
                    Arc::new(text(c.name)?.iter().map(|p| p.map(postcode::outward)).collect::<StringArray>())
                }
                (Derivation::Geography, Some(c)) => {
                    if geos.is_none() {
                        let postcodes = text(c.name)?;
                        geos = Some(
                            (0..rows)
                                .map(|i| {
                                    let lookup = self.lookup.as_deref()?;
                                    if postcodes.is_null(i) { None } else { lookup.get(postcodes.value(i)) }
                                })
                                .collect(),
                        );
                    }
                    geography_column(&col.name, geos.as_deref().unwrap_or_default())
                }
                (Derivation::Lineage, _) if col.name == staging::SOURCE => {
                    Arc::new(StringArray::from_iter_values(std::iter::repeat_n(checked.lineage.source.as_str(), rows)))
                }
                (Derivation::Lineage, _) if col.name == staging::AGREEMENT => {
                    Arc::new(StringArray::from_iter_values(std::iter::repeat_n(self.agreement.as_ref(), rows)))
                }
                (Derivation::Lineage, _) => input_position(b)?,
                _ => return Err(PseudonymiseError::Column { feed: self.feed.name, column: col.name.clone() }),
            };
            out.push(array);
        }
        Ok(RecordBatch::try_new(self.schema.clone(), out)?)
    }
}

/// One geography column from each row's looked-up geography.
fn geography_column(name: &str, geos: &[Option<&Geography>]) -> ArrayRef {
    if name == staging::IMD_DECILE {
        let mut b = UInt8Builder::with_capacity(geos.len());
        for g in geos {
            b.append_option(g.map(|g| g.imd_decile));
        }
        Arc::new(b.finish())
    } else {
        let district = name == staging::DISTRICT;
        Arc::new(
            geos.iter()
                .map(|g| g.map(|g| if district { g.district.as_ref() } else { g.small_area.as_ref() }))
                .collect::<StringArray>(),
        )
    }
}

fn input_position(b: &RecordBatch) -> Result<ArrayRef, PseudonymiseError> {
    let col = b.num_columns().checked_sub(1).map(|i| b.column(i));
    match col {
        Some(c) if c.data_type() == &DataType::UInt64 => Ok(c.clone()),
        _ => Err(PseudonymiseError::Column { feed: "?", column: staging::POSITION.to_owned() }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stages::validate::{POSITION, checked_schema, validate};
    use arrow_array::{FixedSizeBinaryArray, UInt64Array};
    use arrow_schema::{Field, Schema};
    use tellonce_connectors::file_source::RawBatch;
    use tellonce_connectors::lineage::Lineage;
    use tellonce_governance::{KeyRing, Purpose};
    use tellonce_schemas::feed;

    fn checked(rows: &[&[(&str, &str)]]) -> CheckedBatch {
        let f = feed::latest("camhs").unwrap();
        let mut cols: Vec<ArrayRef> = f
            .columns
            .iter()
            .map(|c| {
                let v: Vec<Option<&str>> =
                    rows.iter().map(|r| r.iter().find(|(k, _)| *k == c.name).map(|(_, v)| *v)).collect();
                Arc::new(StringArray::from(v)) as ArrayRef
            })
            .collect();
        cols.push(Arc::new(UInt64Array::from_iter_values(2..2 + rows.len() as u64)));
        let mut fields: Vec<Field> = f.columns.iter().map(|c| Field::new(c.name, DataType::Utf8, true)).collect();
        fields.push(Field::new(POSITION, DataType::UInt64, false));
        let raw = RawBatch {
            lineage: Lineage {
                feed: f.name,
                schema_version: 1,
                source: "c.jsonl".into(),
                first_position: 2,
                last_position: 3,
            },
            batch: RecordBatch::try_new(Arc::new(Schema::new(fields)), cols).unwrap(),
            rejects: vec![],
        };
        let v = validate(raw, f, &checked_schema(f), &vec![false; rows.len()]).unwrap();
        assert!(v.rejects.is_empty(), "{:?}", v.rejects);
        v.checked
    }

    const ROW: &[(&str, &str)] = &[
        ("record_id", "C1"),
        ("nhs_number", "943 476 5919"),
        ("forename", "Amy"),
        ("surname", "O'Neil"),
        ("date_of_birth", "2012-07-19"),
        ("postcode", "rh10 1ab"),
        ("referral_received_date", "2024-03-01"),
        ("referral_outcome", "ACCEPTED"),
    ];

    #[test]
    fn identifiers_become_tokens_and_quasi_identifiers_are_generalised() {
        let dir = tempfile::tempdir().unwrap();
        let lookup_path = dir.path().join("lookup.csv");
        std::fs::write(&lookup_path, "postcode,small_area,district,imd_decile\nRH10 1AB,SYN-1,CRAWLEY,2\n").unwrap();
        let lookup = Arc::new(PostcodeLookup::load(&lookup_path).unwrap());
        let keys = KeyRing::from_master([7; 32]);
        let f = feed::latest("camhs").unwrap();
        let p =
            Pseudonymiser::new(f, &Policy::schema_default(f, "T@1"), keys.tokeniser(Purpose::Linkage), Some(lookup));
        let mut same_person = ROW.to_vec();
        same_person[1] = ("nhs_number", "9434765919");
        same_person[3] = ("surname", "ONEIL");
        let out = p.apply(&checked(&[ROW, &same_person])).unwrap();
        let col = |n: &str| out.column_by_name(n).unwrap_or_else(|| panic!("no column {n}")).clone();
        let nhs = col("nhs_number_token");
        let nhs = nhs.as_any().downcast_ref::<FixedSizeBinaryArray>().unwrap();
        assert_eq!(nhs.value(0), nhs.value(1), "normalised before hashing");
        assert_eq!(nhs.value(0), keys.tokeniser(Purpose::Linkage).token("nhs_number", b"9434765919"));
        assert_eq!(col("date_of_birth_month").as_string::<i32>().value(0), "2012-07");
        assert_eq!(col("postcode_outward").as_string::<i32>().value(0), "RH10");
        assert_eq!(col("small_area").as_string::<i32>().value(1), "SYN-1");
        assert_eq!(col("district").as_string::<i32>().value(0), "CRAWLEY");
        assert_eq!(col("_source").as_string::<i32>().value(1), "c.jsonl");
        assert_eq!(col("_agreement").as_string::<i32>().value(1), "T@1");
        for clear in ["nhs_number", "forename", "surname", "date_of_birth", "postcode"] {
            assert!(out.column_by_name(clear).is_none(), "{clear} passed in clear");
        }
    }
}
