//! The pseudonymise stage: checked batches in, staging batches out.
//!
//! What happens to each column follows from its role (see `tellonce_schemas::staging`): direct
//! identifiers become keyed tokens; quasi-identifiers are generalised, with a token of the exact
//! value kept for linkage; event attributes and the record reference pass. After this stage no
//! clear identifier remains in the batch.

use std::sync::Arc;

use arrow_array::builder::{FixedSizeBinaryBuilder, UInt8Builder};
use arrow_array::cast::AsArray;
use arrow_array::types::Date32Type;
use arrow_array::{Array, ArrayRef, RecordBatch, StringArray};
use arrow_schema::{ArrowError, DataType, SchemaRef};
use tellonce_governance::Tokeniser;
use tellonce_schemas::identifiers::{dates, postcode};
use tellonce_schemas::staging::{self, Derivation, StagingColumn};
use tellonce_schemas::{FeedSchema, Generalisation};

use super::validate::CheckedBatch;
use crate::reference::PostcodeLookup;

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
}

impl Pseudonymiser {
    /// A pseudonymiser for one feed, tokenising with the linkage tokeniser.
    pub fn new(feed: &'static FeedSchema, tokeniser: Tokeniser, lookup: Option<Arc<PostcodeLookup>>) -> Self {
        let columns = staging::columns(feed);
        let schema = Arc::new(staging::schema(feed));
        Pseudonymiser { feed, columns: Arc::new(columns), schema, tokeniser, lookup }
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
        for col in self.columns.iter() {
            let array: ArrayRef = match (col.derivation, col.input) {
                (Derivation::Pass | Derivation::Generalised(Generalisation::Keep), Some(c)) => input(c.name)?.clone(),
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
                (Derivation::Generalised(Generalisation::YearMonth), Some(c)) => {
                    let arr = input(c.name)?
                        .as_primitive_opt::<Date32Type>()
                        .ok_or_else(|| PseudonymiseError::Column { feed: self.feed.name, column: c.name.to_owned() })?;
                    Arc::new(arr.iter().map(|d| d.map(dates::year_month)).collect::<StringArray>())
                }
                (Derivation::Generalised(Generalisation::OutwardCode), Some(c)) => {
                    Arc::new(text(c.name)?.iter().map(|p| p.map(postcode::outward)).collect::<StringArray>())
                }
                (Derivation::Geography, Some(c)) => self.geography(&col.name, text(c.name)?, rows),
                (Derivation::Lineage, _) if col.name == staging::SOURCE => {
                    Arc::new(StringArray::from_iter_values(std::iter::repeat_n(checked.lineage.source.as_str(), rows)))
                }
                (Derivation::Lineage, _) => input_position(b)?,
                _ => return Err(PseudonymiseError::Column { feed: self.feed.name, column: col.name.clone() }),
            };
            out.push(array);
        }
        Ok(RecordBatch::try_new(self.schema.clone(), out)?)
    }

    fn geography(&self, name: &str, postcodes: &StringArray, rows: usize) -> ArrayRef {
        let geo = |i: usize| {
            if postcodes.is_null(i) { None } else { self.lookup.as_ref().and_then(|l| l.get(postcodes.value(i))) }
        };
        if name == staging::IMD_DECILE {
            let mut b = UInt8Builder::with_capacity(rows);
            for i in 0..rows {
                b.append_option(geo(i).map(|g| g.imd_decile));
            }
            Arc::new(b.finish())
        } else {
            let district = name == staging::DISTRICT;
            Arc::new(
                (0..rows)
                    .map(|i| geo(i).map(|g| if district { g.district.as_ref() } else { g.small_area.as_ref() }))
                    .collect::<StringArray>(),
            )
        }
    }
}

fn input_position(b: &RecordBatch) -> Result<ArrayRef, PseudonymiseError> {
    let col = b.num_columns().checked_sub(1).map(|i| b.column(i));
    match col {
        Some(c) if c.data_type() == &DataType::UInt64 => Ok(c.clone()),
        _ => Err(PseudonymiseError::Column { feed: "?", column: staging::POSITION.to_owned() }),
    }
}
