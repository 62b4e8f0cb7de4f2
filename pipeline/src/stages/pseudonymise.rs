//! The pseudonymise stage: checked batches in, staging batches out.
//!
//! What happens to each column is what the governance stage's [`Policy`] says, within what the
//! column's role allows (see `tellonce_schemas::staging::columns_under`): identifiers become
//! keyed tokens; dates and postcodes may be coarsened; event attributes and the record reference
//! may pass; a field the agreement drops has no output column. After this stage no clear
//! identifier remains in the batch.
//!
//! The linkage encodings (match keys, blocking tokens, Bloom filters of names; see
//! `tellonce_schemas::match_keys`) are made here too, from the clear forename, surname, date of
//! birth and postcode while they are still in memory, and only from those fields the agreement
//! lets the stage tokenise.

use std::sync::{Arc, Mutex, TryLockError};

use arrow_array::builder::{FixedSizeBinaryBuilder, Int32Builder, ListBuilder, StringBuilder, UInt8Builder};
use arrow_array::cast::AsArray;
use arrow_array::types::Date32Type;
use arrow_array::{Array, ArrayRef, Date32Array, FixedSizeBinaryArray, RecordBatch, StringArray};
use arrow_buffer::{Buffer, NullBuffer};
use arrow_schema::{ArrowError, DataType, SchemaRef};
use tellonce_governance::{BloomEncoder, Tokeniser};
use tellonce_schemas::identifiers::{dates, postcode};
use tellonce_schemas::match_keys::{MatchField, MatchForms, Preimages};
use tellonce_schemas::staging::{self, Derivation, StagingColumn};
use tellonce_schemas::{BlockKey, Coarsening, FeedSchema, Kind, MatchRule, name_edits};

use super::govern::Policy;
use super::validate::{CheckedBatch, DOB_PARTS};
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
///
/// Give each worker thread its own clone: a clone has its own cache of Bloom filter bigram
/// hashes. (A pseudonymiser shared by reference still works; a thread that finds the cache in
/// use encodes its batch with a fresh one.)
#[derive(Debug)]
pub struct Pseudonymiser {
    feed: &'static FeedSchema,
    columns: Arc<Vec<StagingColumn>>,
    schema: SchemaRef,
    tokeniser: Tokeniser,
    lookup: Option<Arc<PostcodeLookup>>,
    agreement: Arc<str>,
    /// The checked batch's column index of each identity field ([`MatchField::ALL`] order) that
    /// a linkage encoding reads: only fields the agreement lets the stage tokenise.
    linkage_inputs: [Option<usize>; 4],
    /// The Bloom encoder with its bigram cache, this clone's own.
    bloom: Mutex<BloomEncoder>,
}

impl Clone for Pseudonymiser {
    fn clone(&self) -> Self {
        Pseudonymiser {
            feed: self.feed,
            columns: self.columns.clone(),
            schema: self.schema.clone(),
            tokeniser: self.tokeniser.clone(),
            lookup: self.lookup.clone(),
            agreement: self.agreement.clone(),
            linkage_inputs: self.linkage_inputs,
            bloom: Mutex::new(self.tokeniser.bloom_encoder()),
        }
    }
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
        let mut linkage_inputs = [None; 4];
        for col in columns.iter().filter(|c| is_linkage(c.derivation)) {
            for input in &col.inputs {
                if let Some(f) = MatchField::ALL.into_iter().find(|f| f.column_name() == input.name) {
                    linkage_inputs[f.index()] = feed.index_of(input.name);
                }
            }
        }
        let bloom = Mutex::new(tokeniser.bloom_encoder());
        Pseudonymiser {
            feed,
            columns: Arc::new(columns),
            schema,
            tokeniser,
            lookup,
            agreement: policy.agreement.clone(),
            linkage_inputs,
            bloom,
        }
    }

    /// The staging schema this pseudonymiser produces.
    pub fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    /// Pseudonymises one checked batch of the input whose id (see [`staging::INPUT`]) is `input`.
    pub fn apply(&self, checked: &CheckedBatch, input: &str) -> Result<RecordBatch, PseudonymiseError> {
        let mut work = BatchWork::new(checked, input);
        let mut out: Vec<ArrayRef> = Vec::with_capacity(self.columns.len());
        for col in self.columns.iter() {
            if col.name == staging::RECORD_DIGEST {
                // Over the columns made so far: the digest comes after every content column.
                let digests = crate::records::digest::row_digests(&self.schema, &out)
                    .map_err(|e| PseudonymiseError::Column { feed: self.feed.name, column: e.column })?;
                out.push(crate::records::digest::digest_column(&digests));
                continue;
            }
            out.push(self.column(col, &mut work)?);
        }
        Ok(RecordBatch::try_new(self.schema.clone(), out)?)
    }

    /// One staging column of the batch.
    fn column<'a>(&'a self, col: &StagingColumn, work: &mut BatchWork<'a>) -> Result<ArrayRef, PseudonymiseError> {
        let checked = work.checked;
        let b = &checked.batch;
        let rows = b.num_rows();
        Ok(match (col.derivation, col.input) {
            (Derivation::Pass, Some(c)) => self.input(b, c.name)?.clone(),
            (Derivation::Token, Some(c)) => self.token_column(b, c.name)?,
            (Derivation::Coarsened(Coarsening::Year), Some(c)) => year_column(self.dates(b, c.name)?),
            (Derivation::Coarsened(Coarsening::YearMonth), Some(c)) => year_month_column(self.dates(b, c.name)?),
            (Derivation::Coarsened(Coarsening::Outward), Some(c)) => {
                Arc::new(self.text(b, c.name)?.iter().map(|p| p.map(postcode::outward)).collect::<StringArray>())
            }
            (Derivation::Geography, Some(c)) => geography_column(&col.name, self.geographies(work, c.name)?),
            (Derivation::Lineage, _) if col.name == staging::SOURCE => {
                Arc::new(StringArray::from_iter_values(std::iter::repeat_n(checked.lineage.source.as_str(), rows)))
            }
            (Derivation::Lineage, _) if col.name == staging::INPUT => {
                Arc::new(StringArray::from_iter_values(std::iter::repeat_n(work.input, rows)))
            }
            (Derivation::Lineage, _) if col.name == staging::AGREEMENT => {
                Arc::new(StringArray::from_iter_values(std::iter::repeat_n(self.agreement.as_ref(), rows)))
            }
            (Derivation::Lineage, _) if col.name == staging::DQ => checked_column(b, staging::DQ, &DataType::Utf8)?,
            (Derivation::Lineage, _) => checked_column(b, staging::POSITION, &DataType::UInt64)?,
            (Derivation::MatchKey(rule), _) => self.match_key_column(col, rule, work)?,
            (Derivation::BlockKey(block), _) => self.block_key_column(block, work)?,
            (Derivation::Bloom(field), _) => self.bloom_filter_column(col, field, work)?,
            (Derivation::EditTokens(field), _) => self.edit_tokens_column(col, field, work)?,
            (Derivation::AddressNumbers, Some(c)) => {
                super::address_bloom::numbers_column(&self.tokeniser, self.text(b, c.name)?)?
            }
            (Derivation::AddressBloom, Some(c)) => {
                let lines = self.text(b, c.name)?;
                self.with_bloom_encoder(|encoder| super::address_bloom::column(encoder, lines))?
            }
            _ => return Err(self.missing(&col.name)),
        })
    }

    /// The error for a column the checked batch lacks, or has with another type.
    fn missing(&self, column: &str) -> PseudonymiseError {
        PseudonymiseError::Column { feed: self.feed.name, column: column.to_owned() }
    }

    /// The checked batch's column `name`.
    fn input<'b>(&self, b: &'b RecordBatch, name: &str) -> Result<&'b ArrayRef, PseudonymiseError> {
        self.feed.index_of(name).map(|i| b.column(i)).ok_or_else(|| self.missing(name))
    }

    /// The checked batch's text column `name`.
    fn text<'b>(&self, b: &'b RecordBatch, name: &str) -> Result<&'b StringArray, PseudonymiseError> {
        self.input(b, name)?.as_string_opt::<i32>().ok_or_else(|| self.missing(name))
    }

    /// The checked batch's date column `name`.
    fn dates<'b>(&self, b: &'b RecordBatch, name: &str) -> Result<&'b Date32Array, PseudonymiseError> {
        self.input(b, name)?.as_primitive_opt::<Date32Type>().ok_or_else(|| self.missing(name))
    }

    /// Each value of column `name` (a date in ISO form, or text) as its keyed token.
    fn token_column(&self, b: &RecordBatch, name: &str) -> Result<ArrayRef, PseudonymiseError> {
        let arr = self.input(b, name)?;
        let mut builder = FixedSizeBinaryBuilder::with_capacity(b.num_rows(), staging::TOKEN_BYTES);
        if let Some(dates_arr) = arr.as_primitive_opt::<Date32Type>() {
            let mut iso = [0u8; 10];
            for v in dates_arr.iter() {
                match v {
                    Some(d) => {
                        dates::write_iso(d, &mut iso);
                        builder.append_value(self.tokeniser.token(name, &iso))?;
                    }
                    None => builder.append_null(),
                }
            }
        } else {
            for v in self.text(b, name)?.iter() {
                match v {
                    Some(s) => builder.append_value(self.tokeniser.token(name, s.as_bytes()))?,
                    None => builder.append_null(),
                }
            }
        }
        Ok(Arc::new(builder.finish()))
    }

    /// Each row's geography, looked up from the postcode column `name` the first time a
    /// geography column asks for it.
    fn geographies<'a, 'w>(
        &'a self,
        work: &'w mut BatchWork<'a>,
        name: &str,
    ) -> Result<&'w [Option<&'a Geography>], PseudonymiseError> {
        if work.geos.is_none() {
            let checked = work.checked;
            let postcodes = self.text(&checked.batch, name)?;
            work.geos = Some(
                (0..postcodes.len())
                    .map(|i| {
                        let lookup = self.lookup.as_deref()?;
                        if postcodes.is_null(i) { None } else { lookup.get(postcodes.value(i)) }
                    })
                    .collect(),
            );
        }
        Ok(work.geos.as_deref().unwrap_or_default())
    }

    /// Makes each row's match forms, the first time a linkage encoding asks for them.
    fn make_forms<'a>(&self, work: &mut BatchWork<'a>) -> Result<(), PseudonymiseError> {
        if work.forms.is_none() {
            let checked = work.checked;
            work.forms = Some(self.match_forms(&checked.batch)?);
        }
        Ok(())
    }

    /// A match key column: each row's keys under `rule`, tokenised, or null when it has none.
    fn match_key_column(
        &self,
        col: &StagingColumn,
        rule: MatchRule,
        work: &mut BatchWork<'_>,
    ) -> Result<ArrayRef, PseudonymiseError> {
        self.make_forms(work)?;
        let mut builder = self.token_list_builder(col, work.checked.batch.num_rows())?;
        let preimages = &mut work.preimages;
        for f in work.forms.as_deref().unwrap_or_default() {
            rule.preimages(f, preimages);
            if preimages.is_empty() {
                builder.append_null();
                continue;
            }
            for p in preimages.iter() {
                builder.values().append_value(self.tokeniser.token(rule.column(), p))?;
            }
            builder.append(true);
        }
        Ok(Arc::new(builder.finish()))
    }

    /// A builder of `col`'s lists of tokens, for `rows` rows.
    fn token_list_builder(
        &self,
        col: &StagingColumn,
        rows: usize,
    ) -> Result<ListBuilder<FixedSizeBinaryBuilder>, PseudonymiseError> {
        let DataType::List(item) = &col.data_type else {
            return Err(self.missing(&col.name));
        };
        let tokens = FixedSizeBinaryBuilder::with_capacity(rows, staging::TOKEN_BYTES);
        Ok(ListBuilder::with_capacity(tokens, rows).with_field(item.clone()))
    }

    /// A name's or a date of birth's one-edit tokens: each row's value and its deletions,
    /// tokenised, or null when the value is missing (or a name too short: see [`name_edits`]).
    fn edit_tokens_column(
        &self,
        col: &StagingColumn,
        field: MatchField,
        work: &mut BatchWork<'_>,
    ) -> Result<ArrayRef, PseudonymiseError> {
        self.make_forms(work)?;
        let mut builder = self.token_list_builder(col, work.checked.batch.num_rows())?;
        let mut variants: Vec<Vec<u8>> = Vec::new();
        let domain = if field == MatchField::DateOfBirth { name_edits::DATE_DOMAIN } else { name_edits::DOMAIN };
        for f in work.forms.as_deref().unwrap_or_default() {
            let digits = MatchField::dob_digits(f);
            let value = match field {
                MatchField::Forename => f.forename(),
                MatchField::Surname => f.surname(),
                _ => digits.as_ref().and_then(|d| std::str::from_utf8(d).ok()),
            };
            variants.clear();
            if let Some(value) = value {
                name_edits::neighbourhood(value, &mut variants);
            }
            if variants.is_empty() {
                builder.append_null();
                continue;
            }
            for v in &variants {
                builder.values().append_value(self.tokeniser.token(domain, v))?;
            }
            builder.append(true);
        }
        Ok(Arc::new(builder.finish()))
    }

    /// A blocking key column: each row's key under `block`, tokenised, or null when it has none.
    fn block_key_column(&self, block: BlockKey, work: &mut BatchWork<'_>) -> Result<ArrayRef, PseudonymiseError> {
        self.make_forms(work)?;
        let mut builder = FixedSizeBinaryBuilder::with_capacity(work.checked.batch.num_rows(), staging::TOKEN_BYTES);
        let mut preimage = Vec::with_capacity(32);
        for f in work.forms.as_deref().unwrap_or_default() {
            if block.preimage(f, &mut preimage) {
                builder.append_value(self.tokeniser.token(block.domain(), &preimage))?;
            } else {
                builder.append_null();
            }
        }
        Ok(Arc::new(builder.finish()))
    }

    /// A Bloom filter column of `field`, encoded with this clone's cache when it is free.
    fn bloom_filter_column(
        &self,
        col: &StagingColumn,
        field: MatchField,
        work: &mut BatchWork<'_>,
    ) -> Result<ArrayRef, PseudonymiseError> {
        self.make_forms(work)?;
        let forms = work.forms.as_deref().unwrap_or_default();
        // Salted by the year of birth only where the date of birth is an input (the
        // agreement lets it be tokenised) and the record has one.
        let salted = col.inputs.iter().any(|c| c.kind == Kind::BirthDate);
        // Rows in order of their salt, so that each stratum's cache stays hot.
        let order = work.bloom_order.get_or_insert_with(|| {
            let mut order: Vec<usize> = (0..forms.len()).collect();
            order.sort_by_key(|&i| forms[i].birth_year());
            order
        });
        self.with_bloom_encoder(|encoder| bloom_column(encoder, field, salted, forms, order))
    }

    /// Runs `f` with this clone's Bloom encoder (its cache warm) when it is free, else with a
    /// fresh one.
    fn with_bloom_encoder<T>(&self, f: impl FnOnce(&mut BloomEncoder) -> T) -> T {
        let mut fresh = None;
        let mut guard = match self.bloom.try_lock() {
            Ok(g) => Some(g),
            // A poisoned cache is still a correct cache.
            Err(TryLockError::Poisoned(p)) => Some(p.into_inner()),
            Err(TryLockError::WouldBlock) => None,
        };
        let encoder: &mut BloomEncoder = match guard.as_deref_mut() {
            Some(e) => e,
            None => fresh.insert(self.tokeniser.bloom_encoder()),
        };
        f(encoder)
    }

    /// Each row's identity fields in match form, from the fields the linkage encodings may read.
    fn match_forms<'b>(&self, b: &'b RecordBatch) -> Result<Vec<MatchForms<'b>>, PseudonymiseError> {
        let missing = |field: MatchField| self.missing(field.column_name());
        let text = |field: MatchField| -> Result<Option<&'b StringArray>, PseudonymiseError> {
            match self.linkage_inputs[field.index()] {
                Some(i) => b.column(i).as_string_opt::<i32>().map(Some).ok_or_else(|| missing(field)),
                None => Ok(None),
            }
        };
        let forename = text(MatchField::Forename)?;
        let surname = text(MatchField::Surname)?;
        let postcode = text(MatchField::Postcode)?;
        let dob = match self.linkage_inputs[MatchField::DateOfBirth.index()] {
            Some(i) => {
                Some(b.column(i).as_primitive_opt::<Date32Type>().ok_or_else(|| missing(MatchField::DateOfBirth))?)
            }
            None => None,
        };
        // Only where the date of birth is an input of the encodings.
        let dob_parts = dob.and_then(|_| b.column_by_name(DOB_PARTS)).and_then(|c| c.as_string_opt::<i32>());
        let value = |a: Option<&'b StringArray>, i: usize| a.filter(|a| a.is_valid(i)).map(|a| a.value(i));
        let parts = |i: usize| value(dob_parts, i).and_then(|p| <[u8; 10]>::try_from(p.as_bytes()).ok());
        Ok((0..b.num_rows())
            .map(|i| {
                MatchForms::new(
                    value(forename, i),
                    value(surname, i),
                    dob.filter(|d| d.is_valid(i)).map(|d| d.value(i)),
                    value(postcode, i),
                )
                .with_readable_dob(parts(i))
            })
            .collect())
    }
}

/// What one batch's columns share, each part made when the first column that needs it asks.
struct BatchWork<'a> {
    checked: &'a CheckedBatch,
    /// The input's id, for `_input`.
    input: &'a str,
    /// Each row's geography, looked up once for the three columns that use it.
    geos: Option<Vec<Option<&'a Geography>>>,
    /// Each row's identity fields in match form, made once for every linkage encoding.
    forms: Option<Vec<MatchForms<'a>>>,
    /// Scratch for one row's match key preimages.
    preimages: Preimages,
    /// The order in which rows' Bloom filters are encoded.
    bloom_order: Option<Vec<usize>>,
}

impl<'a> BatchWork<'a> {
    fn new(checked: &'a CheckedBatch, input: &'a str) -> Self {
        BatchWork { checked, input, geos: None, forms: None, preimages: Preimages::default(), bloom_order: None }
    }
}

/// Each date's year.
fn year_column(dates_arr: &Date32Array) -> ArrayRef {
    let mut builder = Int32Builder::with_capacity(dates_arr.len());
    for d in dates_arr.iter() {
        builder.append_option(d.map(|d| dates::civil_from_days(d).0));
    }
    Arc::new(builder.finish())
}

/// Each date's year and month, `YYYY-MM`.
fn year_month_column(dates_arr: &Date32Array) -> ArrayRef {
    let rows = dates_arr.len();
    let mut builder = StringBuilder::with_capacity(rows, rows * 7);
    let mut iso = [0u8; 10];
    for d in dates_arr.iter() {
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

/// One Bloom filter column: each row's filter of `field`, encoded in `order` straight into the
/// column's buffer.
fn bloom_column(
    encoder: &mut BloomEncoder,
    field: MatchField,
    salted: bool,
    forms: &[MatchForms<'_>],
    order: &[usize],
) -> Result<ArrayRef, PseudonymiseError> {
    const WIDTH: usize = tellonce_governance::bloom::BLOOM_BYTES;
    let mut values = vec![0u8; forms.len() * WIDTH];
    let mut valid = vec![false; forms.len()];
    for &i in order {
        let f = &forms[i];
        let name = match field {
            MatchField::Forename => f.forename(),
            MatchField::Surname => f.surname(),
            MatchField::DateOfBirth | MatchField::Postcode => None,
        };
        let (Some(name), Some(slot)) = (name, values.get_mut(i * WIDTH..(i + 1) * WIDTH)) else {
            continue;
        };
        let Ok(filter) = <&mut [u8; WIDTH]>::try_from(slot) else {
            continue;
        };
        let salt = if salted { f.birth_year().unwrap_or_default() } else { "" };
        encoder.encode_into(field.column_name(), salt, name, filter);
        valid[i] = true;
    }
    let nulls = NullBuffer::from(valid);
    let array = FixedSizeBinaryArray::try_new(staging::BLOOM_BYTES, Buffer::from_vec(values), Some(nulls))?;
    Ok(Arc::new(array))
}

/// Whether a column is a linkage encoding made from the identity fields.
fn is_linkage(d: Derivation) -> bool {
    matches!(d, Derivation::MatchKey(_) | Derivation::BlockKey(_) | Derivation::Bloom(_) | Derivation::EditTokens(_))
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

/// The checked batch's own column `name` (`_position`, `_dq`), of type `data_type`.
fn checked_column(b: &RecordBatch, name: &str, data_type: &DataType) -> Result<ArrayRef, PseudonymiseError> {
    match b.column_by_name(name) {
        Some(c) if c.data_type() == data_type => Ok(c.clone()),
        _ => Err(PseudonymiseError::Column { feed: "?", column: name.to_owned() }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stages::validate::{POSITION, checked_schema, validate};
    use arrow_array::UInt64Array;
    use arrow_schema::{Field, Schema};
    use tellonce_connectors::file_source::RawBatch;
    use tellonce_connectors::lineage::Lineage;
    use tellonce_governance::{KeyRing, Purpose};
    use tellonce_schemas::MatchRule;
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
            withdrawn: Vec::new(),
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
        let out = p.apply(&checked(&[ROW, &same_person]), "abc").unwrap();
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
        assert_eq!(col("_input").as_string::<i32>().value(1), "abc");
        assert_eq!(col("_agreement").as_string::<i32>().value(1), "T@1");
        for clear in ["nhs_number", "forename", "surname", "date_of_birth", "postcode"] {
            assert!(out.column_by_name(clear).is_none(), "{clear} passed in clear");
        }
    }

    fn linkage_pseudonymiser(policy: &Policy) -> (Pseudonymiser, Tokeniser) {
        let t = KeyRing::from_master([7; 32]).tokeniser(Purpose::Linkage);
        (Pseudonymiser::new(feed::latest("camhs").unwrap(), policy, t.clone(), None), t)
    }

    fn row(fore: &'static str, sur: &'static str, dob: &'static str) -> Vec<(&'static str, &'static str)> {
        let mut r = ROW.to_vec();
        r[2] = ("forename", fore);
        r[3] = ("surname", sur);
        r[4] = ("date_of_birth", dob);
        r
    }

    /// Each row's keys in a match-key column (empty for a null).
    fn keys(out: &RecordBatch, name: &str) -> Vec<Vec<[u8; 16]>> {
        let list = out.column_by_name(name).unwrap_or_else(|| panic!("no column {name}")).as_list::<i32>().clone();
        (0..list.len())
            .map(|i| {
                if list.is_null(i) {
                    return Vec::new();
                }
                let v = list.value(i);
                let v = v.as_fixed_size_binary();
                (0..v.len()).map(|j| v.value(j).try_into().unwrap()).collect()
            })
            .collect()
    }

    fn fixed<const N: usize>(out: &RecordBatch, name: &str) -> Vec<Option<[u8; N]>> {
        let a = out.column_by_name(name).unwrap_or_else(|| panic!("no column {name}")).as_fixed_size_binary().clone();
        (0..a.len()).map(|i| a.is_valid(i).then(|| a.value(i).try_into().unwrap())).collect()
    }

    fn share(a: &[[u8; 16]], b: &[[u8; 16]]) -> bool {
        a.iter().any(|k| b.contains(k))
    }

    #[test]
    fn linkage_encodings_agree_for_the_same_person_written_differently() {
        let f = feed::latest("camhs").unwrap();
        let (p, t) = linkage_pseudonymiser(&Policy::schema_default(f, "T@1"));
        let rows = [
            row("William", "Smith-Jones", "2012-07-03"),
            row("Bill", "Jones", "2012-07-03"),
            row("William", "Smith-Jones", "2012-03-07"),
            row("Katherine", "Lee", "2012-07-03"),
            row("Catherine", "Lee", "2012-07-03"),
            row("Robert", "Okafor", "2012-07-03"),
        ];
        let rows: Vec<&[(&str, &str)]> = rows.iter().map(Vec::as_slice).collect();
        let out = p.apply(&checked(&rows), "abc").unwrap();
        assert_eq!(out.schema(), *p.schema());

        // The keys are the specified construction: token(rule column, preimage).
        let name_dob = keys(&out, "mk_name_dob");
        assert_eq!(name_dob[0], [t.token("mk_name_dob", b"WILLIAM\x1fSMITHJONES\x1f2012-07-03")]);
        let nick = keys(&out, "mk_nickname_surname_dob");
        assert!(share(&nick[0], &nick[1]), "Bill Jones and William Smith-Jones");
        assert!(!share(&nick[0], &nick[5]));
        let initial = keys(&out, "mk_initial_surname_dob");
        assert_eq!(initial[0].len(), 3, "full surname and both parts");
        assert!(!share(&initial[0], &initial[1]), "different initials");
        let unordered = keys(&out, "mk_initial_surname_dob_unordered");
        assert_eq!(unordered[0], unordered[2], "day and month swapped");
        assert!(!share(&name_dob[0], &name_dob[2]));
        let dob = fixed::<16>(&out, staging::DOB_UNORDERED_TOKEN);
        assert_eq!(dob[0], dob[2]);
        assert_eq!(dob[0], Some(t.token("dob_unordered", b"2012-03-07")));
        let year_pc = fixed::<16>(&out, staging::BIRTH_YEAR_POSTCODE_TOKEN);
        assert_eq!(year_pc[3], Some(t.token("birth_year_postcode", b"2012\x1fRH10 1AB")));
        assert!(keys(&out, "mk_name_postcode")[0].len() == 1 && keys(&out, "mk_forename_dob_postcode")[0].len() == 1);

        // Bloom filters: salted by the year of birth, close for two spellings.
        let fore = fixed::<128>(&out, staging::FORENAME_BLOOM);
        let (kath, cath, rob) = (fore[3].unwrap(), fore[4].unwrap(), fore[5].unwrap());
        assert_eq!(kath, t.bloom_encoder().encode("forename", "2012", "KATHERINE"));
        assert!(tellonce_governance::dice(&kath, &cath) > 0.6);
        assert!(tellonce_governance::dice(&kath, &rob) < 0.4);
        let sur = fixed::<128>(&out, staging::SURNAME_BLOOM);
        assert_eq!(sur[3], sur[4]);
        assert_eq!(sur[0].unwrap(), t.bloom_encoder().encode("surname", "2012", "SMITHJONES"));
        // Date-of-birth edit tokens: YYYYMMDD, then it with each digit dropped, in order.
        let dates = keys(&out, staging::DOB_EDITS);
        assert_eq!(dates[0].len(), 9);
        assert_eq!(dates[0][0], t.token(name_edits::DATE_DOMAIN, b"20120703"));
        assert_eq!(dates[0][8], t.token(name_edits::DATE_DOMAIN, b"2012070"));
        assert!(!name_edits::one_edit(&dates[0][..], &dates[2][..]), "0703 and 0307 differ in two digits apart");
        assert_eq!(dates[0], dates[3], "one date, one list");
        // A clone (one per worker) encodes the same.
        assert_eq!(p.clone().apply(&checked(&rows), "abc").unwrap(), out);
    }

    #[test]
    fn a_missing_identity_field_means_null_encodings() {
        let f = feed::latest("camhs").unwrap();
        let (p, t) = linkage_pseudonymiser(&Policy::schema_default(f, "T@1"));
        let no_postcode: Vec<_> = ROW.iter().copied().filter(|(k, _)| *k != "postcode").collect();
        let out = p.apply(&checked(&[&no_postcode]), "abc").unwrap();
        for rule in MatchRule::ALL {
            let got = keys(&out, rule.column());
            assert_eq!(got[0].is_empty(), rule.inputs().contains(&MatchField::Postcode), "{rule:?}");
        }
        assert_eq!(fixed::<16>(&out, staging::BIRTH_YEAR_POSTCODE_TOKEN)[0], None);
        assert!(fixed::<16>(&out, staging::DOB_UNORDERED_TOKEN)[0].is_some());
        assert_eq!(
            fixed::<128>(&out, staging::FORENAME_BLOOM)[0],
            Some(t.bloom_encoder().encode("forename", "2012", "AMY"))
        );
    }

    #[test]
    fn a_nulled_field_gives_no_token_no_area_and_no_key_and_dq_says_why() {
        let dir = tempfile::tempdir().unwrap();
        let lookup_path = dir.path().join("lookup.csv");
        std::fs::write(&lookup_path, "postcode,small_area,district,imd_decile\nRH10 1AB,SYN-1,CRAWLEY,2\n").unwrap();
        let lookup = Arc::new(PostcodeLookup::load(&lookup_path).unwrap());
        let f = feed::latest("camhs").unwrap();
        let t = KeyRing::from_master([7; 32]).tokeniser(Purpose::Linkage);
        let p = Pseudonymiser::new(f, &Policy::schema_default(f, "T@1"), t, Some(lookup));
        let mut homeless = ROW.to_vec();
        homeless[1] = ("nhs_number", "0000000000");
        homeless[5] = ("postcode", "ZZ99 3VZ");
        let out = p.apply(&checked(&[ROW, &homeless]), "abc").unwrap();
        let dq = out.column_by_name(staging::DQ).unwrap().as_string::<i32>().clone();
        assert!(dq.is_null(0));
        assert_eq!(dq.value(1), "nhs_number:nhs_number.placeholder;postcode:postcode.no_fixed_abode");
        for name in ["nhs_number_token", "postcode_token", "postcode_outward", "small_area", "district", "imd_decile"] {
            let c = out.column_by_name(name).unwrap_or_else(|| panic!("no column {name}"));
            assert!(c.is_valid(0) && c.is_null(1), "{name}");
        }
        for name in [staging::BIRTH_YEAR_POSTCODE_TOKEN, "postcode_sector_token", "postcode_district_token"] {
            assert_eq!(fixed::<16>(&out, name)[1], None, "{name}");
        }
        for rule in MatchRule::ALL {
            assert_eq!(keys(&out, rule.column())[1].is_empty(), rule.inputs().contains(&MatchField::Postcode));
        }
        assert!(fixed::<16>(&out, "forename_token")[1].is_some(), "what remains still links");
    }

    #[test]
    fn a_date_of_birth_that_is_no_date_keeps_its_readable_parts_for_linkage_only() {
        let (p, _) = linkage_pseudonymiser(&Policy::schema_default(feed::latest("camhs").unwrap(), "T@1"));
        // The true date, a slip in the month (no such month) and one in the day (no such day),
        // the basic form with a slip, and a day-first date written without separators.
        let rows = [
            row("Amy", "Lee", "1931-09-24"),
            row("Amy", "Lee", "1931-99-24"),
            row("Amy", "Lee", "1931-09-74"),
            row("Amy", "Lee", "19319924"),
            row("Amy", "Lee", "24091931"),
        ];
        let rows: Vec<&[(&str, &str)]> = rows.iter().map(Vec::as_slice).collect();
        let out = p.apply(&checked(&rows), "abc").unwrap();
        let dq = out.column_by_name(staging::DQ).unwrap().as_string::<i32>().clone();
        assert!(dq.is_null(0) && (1..5).all(|i| dq.value(i).starts_with("date_of_birth:date.")), "{dq:?}");
        let exact = fixed::<16>(&out, "date_of_birth_token");
        assert!(exact[0].is_some() && exact[1..].iter().all(Option::is_none), "no exact token from no date");
        assert!(out.column_by_name("date_of_birth_month").unwrap().is_null(1), "the analysts see no date");
        // The digits of the dates that are no dates reach no staged column.
        for (field, column) in out.schema().fields().iter().zip(out.columns()) {
            let Some(text) = column.as_string_opt::<i32>() else { continue };
            for v in text.iter().skip(1).flatten() {
                assert!(!["1931", "99-24", "9924", "09-74"].iter().any(|d| v.contains(d)), "{}: {v}", field.name());
            }
        }
        let year_day = fixed::<16>(&out, "dob_year_day_token");
        let year_month = fixed::<16>(&out, "dob_year_month_token");
        assert_eq!(year_day[1], year_day[0], "the month slipped: year and day agree");
        assert_eq!(year_day[3], year_day[0], "so in the basic form");
        assert_eq!(year_month[2], year_month[0], "the day slipped: year and month agree");
        assert_ne!(year_month[1], year_month[0]);
        // One digit apart: their digit edits share a token.
        let edits = keys(&out, staging::DOB_EDITS);
        assert!(edits[1].iter().any(|t| edits[0].contains(t)));
        // The forename's filter is salted by the year of birth, so the two compare.
        let bloom = out.column_by_name(staging::FORENAME_BLOOM).unwrap().as_fixed_size_binary().clone();
        assert_eq!(bloom.value(1), bloom.value(0));
        // A day-first date gives no parts (its first four digits are no year), so no evidence.
        assert_eq!(year_day[4], None);
        assert!(edits[4].is_empty());
    }

    /// The example CAMHS agreement with one field's line replaced.
    fn camhs_policy_with(field: &str, terms: &str) -> Policy {
        let f = feed::latest("camhs").unwrap();
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("agreements/camhs.toml");
        let text = std::fs::read_to_string(&path).unwrap();
        let line = text.lines().find(|l| l.starts_with(&format!("{field} ="))).unwrap();
        let edited = text.replace(line, &format!("{field} = {terms}"));
        let today = tellonce_schemas::identifiers::dates::days_from_civil(2026, 11, 23);
        let loaded = tellonce_governance::agreement::load_str(&path, &edited, today);
        assert!(!loaded.has_errors(), "{:?}", loaded.problems);
        Policy::under(f, &loaded.agreements[0], today, false)
    }

    #[test]
    fn linkage_columns_follow_the_agreement() {
        let (p, _) = linkage_pseudonymiser(&camhs_policy_with("forename", r#"{ action = "drop", note = "no" }"#));
        let out = p.apply(&checked(&[ROW]), "abc").unwrap();
        let names: Vec<String> = out.schema().fields().iter().map(|f| f.name().clone()).collect();
        for rule in MatchRule::ALL {
            assert!(!names.contains(&rule.column().to_owned()), "{} without a forename", rule.column());
        }
        assert!(!names.iter().any(|n| n == staging::FORENAME_BLOOM || n == "forename_token"), "{names:?}");
        for kept in [staging::SURNAME_BLOOM, staging::DOB_UNORDERED_TOKEN, staging::BIRTH_YEAR_POSTCODE_TOKEN] {
            assert!(names.iter().any(|n| n == kept), "{kept}: {names:?}");
        }

        // A date of birth the agreement only generalises is in no key and salts no filter.
        let coarse = r#"{ action = "generalise", generalise = "year_month", clause = "5" }"#;
        let (p, t) = linkage_pseudonymiser(&camhs_policy_with("date_of_birth", coarse));
        let out = p.apply(&checked(&[ROW]), "abc").unwrap();
        let names: Vec<String> = out.schema().fields().iter().map(|f| f.name().clone()).collect();
        let linkage: Vec<&str> =
            names.iter().map(String::as_str).filter(|n| n.starts_with("mk_") || n.ends_with("_bloom")).collect();
        assert_eq!(
            linkage,
            ["mk_name_postcode", staging::FORENAME_BLOOM, staging::SURNAME_BLOOM, staging::ADDRESS_BLOOM]
        );
        assert_eq!(
            fixed::<128>(&out, staging::FORENAME_BLOOM)[0],
            Some(t.bloom_encoder().encode("forename", "", "AMY"))
        );
    }
}
