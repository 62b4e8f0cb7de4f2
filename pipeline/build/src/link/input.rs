//! Reading the pseudonymised staging dataset into [`Records`] for the matcher.
//!
//! Only the columns linkage needs are read (tokens, match keys, name encodings, household
//! evidence, and district and IMD decile for the bias report). A column an agreement withheld
//! is simply absent, and the rules that need it find nothing.

use std::collections::HashMap;
use std::fs::File;
use std::path::{Path, PathBuf};

use arrow_array::cast::AsArray;
use arrow_array::types::{UInt8Type, UInt64Type};
use arrow_array::{Array, FixedSizeBinaryArray, RecordBatch};
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::{ParquetRecordBatchReader, ParquetRecordBatchReaderBuilder};
use tellonce_schemas::staging;

use super::LinkError;
use super::compare::{Interner, Tk};
use super::records::{Bloom, HouseholdKind, Records, Tok};
use super::rules::{KEY_RULES, STRONG};

/// Staging columns that linkage reads (those present in a file).
const WANTED: &[&str] = &[
    "record_id",
    "record_id_token",
    "nhs_number_token",
    "upn_token",
    "pnc_id_token",
    "date_of_birth_token",
    staging::DOB_UNORDERED_TOKEN,
    "postcode_token",
    staging::BIRTH_YEAR_POSTCODE_TOKEN,
    "sex",
    staging::FORENAME_BLOOM,
    staging::SURNAME_BLOOM,
    staging::FORENAME_EDITS,
    staging::SURNAME_EDITS,
    staging::DOB_EDITS,
    staging::ADDRESS_BLOOM,
    "uprn_token",
    "address_line_1_token",
    staging::ADDRESS_NUMBERS_TOKEN,
    "household_ref_token",
    "role_in_household",
    staging::DISTRICT,
    staging::IMD_DECILE,
    staging::SOURCE,
    staging::POSITION,
];

/// One staging file to read, with its feed.
#[derive(Debug, Clone)]
pub struct StagingFile {
    /// The feed (a known feed name).
    pub feed: &'static str,
    /// Where it is in the staging dataset.
    pub path: PathBuf,
    /// Where the build reads it: a hard link to it held for the build (see
    /// `build::reading`), so that a stream session moving versions out of it meanwhile does not
    /// change what the build's passes read; `path` where no link could be made.
    pub read_from: PathBuf,
}

/// Role codes, interned.
const ROLES: &[&str] = &["CHILD", "PARENT_CARER", "OTHER_ADULT", "UNBORN"];

/// Reads `files` in order into one set of records.
pub fn read(files: &[StagingFile]) -> Result<Records, LinkError> {
    let mut recs = Records::new();
    let mut blooms = Seen::default();
    let mut interner = Interner::default();
    let mut lists = EditLists::default();
    for f in files {
        read_file(&mut recs, &mut blooms, &mut interner, &mut lists, f)?;
    }
    Ok(recs)
}

fn read_file(
    recs: &mut Records,
    blooms: &mut Seen,
    interner: &mut Interner,
    lists: &mut EditLists,
    f: &StagingFile,
) -> Result<(), LinkError> {
    let err = |message: String| LinkError::Staging { path: f.path.clone(), message };
    let reader = open_projected(&f.read_from, |name| {
        WANTED.contains(&name) || name.starts_with("mk_") || Tk::ALL.iter().any(|t| t.column() == name)
    })?;
    for batch in reader {
        let batch = batch.map_err(|e| err(e.to_string()))?;
        add_batch(recs, blooms, f.feed, &batch, &f.path)?;
        add_compared(recs, interner, &batch);
        add_name_edits(recs, interner, lists, &batch);
    }
    Ok(())
}

/// Opens a staging file for reading only the top-level columns `wanted` accepts.
pub fn open_projected(path: &Path, wanted: impl Fn(&str) -> bool) -> Result<ParquetRecordBatchReader, LinkError> {
    let err = |message: String| LinkError::Staging { path: path.to_owned(), message };
    let file = File::open(path).map_err(|e| err(e.to_string()))?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(|e| err(e.to_string()))?;
    let roots: Vec<usize> =
        builder.schema().fields().iter().enumerate().filter(|(_, fld)| wanted(fld.name())).map(|(i, _)| i).collect();
    let mask = ProjectionMask::roots(builder.parquet_schema(), roots);
    builder.with_projection(mask).with_batch_size(65_536).build().map_err(|e| err(e.to_string()))
}

/// The staging columns a record's reference is made from ([`RecordRefs`]).
pub const REFERENCE_COLUMNS: [&str; 4] = ["record_id", "record_id_token", staging::SOURCE, staging::POSITION];

/// How the linkage build (and so `links/` and the identity index) names each record of a
/// staging batch: its `record_id` where the agreement lets it pass, else its token in hex, else
/// `source:position`. Subject access and retention name records the same way to find them in
/// `links/` and the index.
pub struct RecordRefs<'a> {
    record_id: Option<&'a arrow_array::StringArray>,
    token: Option<&'a FixedSizeBinaryArray>,
    source: Option<&'a arrow_array::StringArray>,
    position: Option<&'a arrow_array::UInt64Array>,
}

impl<'a> RecordRefs<'a> {
    /// The reference columns of `batch` (any may be absent).
    pub fn of(batch: &'a RecordBatch) -> Self {
        RecordRefs {
            record_id: batch.column_by_name("record_id").and_then(|c| c.as_string_opt::<i32>()),
            token: tokens(batch, "record_id_token"),
            source: batch.column_by_name(staging::SOURCE).and_then(|c| c.as_string_opt::<i32>()),
            position: batch.column_by_name(staging::POSITION).and_then(|c| c.as_primitive_opt::<UInt64Type>()),
        }
    }

    /// Whether the batch holds a reference column (`record_id`, or its token).
    pub fn has_key(&self) -> bool {
        self.record_id.is_some() || self.token.is_some()
    }

    /// The reference by which a partner record is known across inputs, of row `row`: its
    /// `record_id` where the agreement shares it, else its token in hex ([`token_ref`]); none
    /// when the row has neither. Borrowed where it can be: the comparison of every record of an
    /// extract reads it.
    pub fn key(&self, row: usize) -> Option<std::borrow::Cow<'a, str>> {
        match (self.record_id, tok(self.token, row)) {
            (Some(ids), _) if ids.is_valid(row) => Some(std::borrow::Cow::Borrowed(ids.value(row))),
            (_, Some(t)) => Some(std::borrow::Cow::Owned(token_ref(&t))),
            _ => None,
        }
    }

    /// The reference of row `row`.
    pub fn get(&self, row: usize) -> String {
        match self.key(row) {
            Some(key) => key.into_owned(),
            None => format!(
                "{}:{}",
                self.source.filter(|s| s.is_valid(row)).map_or("", |s| s.value(row)),
                self.position.filter(|p| p.is_valid(row)).map_or(0, |p| p.value(row))
            ),
        }
    }
}

/// A keyed token as a record reference: lowercase hex.
pub fn token_ref(token: &[u8]) -> String {
    hex::encode(token)
}

/// The staging columns a partner record's reference across inputs is read from
/// ([`RecordRefs::key`]).
pub const KEY_COLUMNS: [&str; 2] = ["record_id", "record_id_token"];

fn tokens<'a>(batch: &'a RecordBatch, name: &str) -> Option<&'a FixedSizeBinaryArray> {
    batch.column_by_name(name).and_then(|c| c.as_fixed_size_binary_opt()).filter(|a| a.value_length() == 16)
}

fn tok(a: Option<&FixedSizeBinaryArray>, row: usize) -> Option<Tok> {
    let a = a?;
    if a.is_null(row) {
        return None;
    }
    a.value(row).try_into().ok()
}

/// The Bloom filters seen so far, each stored once: name pairs and address lines.
#[derive(Default)]
struct Seen {
    names: HashMap<(Bloom, Bloom), u32>,
    addresses: HashMap<Bloom, u32>,
    /// Household references by feed, numbered as first seen.
    household_refs: HashMap<(u8, Tok), u32>,
}

fn add_batch(
    recs: &mut Records,
    blooms: &mut Seen,
    feed: &'static str,
    batch: &RecordBatch,
    path: &Path,
) -> Result<(), LinkError> {
    let rows = batch.num_rows();
    let refs = RecordRefs::of(batch);
    let strong: Vec<Option<&FixedSizeBinaryArray>> = STRONG.iter().map(|s| tokens(batch, s.column)).collect();
    let dob = tokens(batch, "date_of_birth_token");
    let dob_unordered = tokens(batch, staging::DOB_UNORDERED_TOKEN);
    let postcode = tokens(batch, "postcode_token");
    let year_postcode = tokens(batch, staging::BIRTH_YEAR_POSTCODE_TOKEN);
    let uprn = tokens(batch, "uprn_token");
    let address = tokens(batch, "address_line_1_token");
    let household = tokens(batch, "household_ref_token");
    let sex = batch.column_by_name("sex").and_then(|c| c.as_string_opt::<i32>());
    let role = batch.column_by_name("role_in_household").and_then(|c| c.as_string_opt::<i32>());
    let district = batch.column_by_name(staging::DISTRICT).and_then(|c| c.as_string_opt::<i32>());
    let imd = batch.column_by_name(staging::IMD_DECILE).and_then(|c| c.as_primitive_opt::<UInt8Type>());
    let bloom_col = |name: &str| {
        batch
            .column_by_name(name)
            .and_then(|c| c.as_fixed_size_binary_opt())
            .filter(|a| a.value_length() == staging::BLOOM_BYTES)
    };
    let (fore_bloom, sur_bloom) = (bloom_col(staging::FORENAME_BLOOM), bloom_col(staging::SURNAME_BLOOM));
    let address_bloom = bloom_col(staging::ADDRESS_BLOOM);
    let keys: Vec<Option<&arrow_array::ListArray>> =
        KEY_RULES.iter().map(|k| batch.column_by_name(k.column()).and_then(|c| c.as_list_opt::<i32>())).collect();
    let feed_scope = {
        let n = recs.feeds.iter().position(|f| *f == feed).unwrap_or(recs.feeds.len());
        u8::try_from(n).map_err(|_| LinkError::Staging { path: path.to_owned(), message: "too many feeds".into() })?
    };
    for row in 0..rows {
        let reference = refs.get(row);
        let i = recs.push(feed, reference);
        let r = i as usize;
        for (k, col) in strong.iter().enumerate() {
            recs.strong[k][r] = tok(*col, row);
        }
        recs.dob[r] = tok(dob, row);
        recs.dob_unordered[r] = tok(dob_unordered, row);
        recs.postcode[r] = tok(postcode, row);
        recs.year_postcode[r] = tok(year_postcode, row);
        recs.sex[r] = match sex.filter(|s| s.is_valid(row)).map(|s| s.value(row)) {
            Some("M") => b'M',
            Some("F") => b'F',
            _ => 0,
        };
        if let (Some(fb), Some(sb)) = (fore_bloom, sur_bloom)
            && fb.is_valid(row)
            && sb.is_valid(row)
            && let (Ok(a), Ok(b)) = (<Bloom>::try_from(fb.value(row)), <Bloom>::try_from(sb.value(row)))
        {
            let next = recs.blooms.len() as u32;
            let idx = *blooms.names.entry((a, b)).or_insert(next);
            if idx == next {
                recs.blooms.push((a, b));
            }
            recs.bloom[r] = idx;
        }
        if let Some(col) = address_bloom.filter(|c| c.is_valid(row))
            && let Ok(a) = <Bloom>::try_from(col.value(row))
        {
            let next = recs.address_blooms.len() as u32;
            let idx = *blooms.addresses.entry(a).or_insert(next);
            if idx == next {
                recs.address_blooms.push(a);
            }
            recs.address_bloom[r] = idx;
        }
        for (k, list) in keys.iter().enumerate() {
            let Some(list) = list else { continue };
            if list.is_null(row) {
                continue;
            }
            // Straight from the offsets: `list.value(row)` would allocate an array per row.
            let Some(values) = list.values().as_fixed_size_binary_opt() else { continue };
            let offsets = list.value_offsets();
            let (from, to) = (offsets[row].max(0) as usize, offsets[row + 1].max(0) as usize);
            for j in from..to.min(values.len()) {
                if values.is_valid(j)
                    && let Ok(t) = Tok::try_from(values.value(j))
                {
                    recs.keys[k].push((t, i));
                }
            }
        }
        if let Some(t) = tok(uprn, row) {
            recs.households.push((HouseholdKind::Uprn, 0, t, i));
        }
        if let (Some(a), Some(p)) = (tok(address, row), recs.postcode[r]) {
            let mut t = a;
            for (x, y) in t.iter_mut().zip(p) {
                *x ^= y;
            }
            recs.households.push((HouseholdKind::Address, 0, t, i));
        }
        if let Some(t) = tok(household, row) {
            recs.households.push((HouseholdKind::Reference, feed_scope, t, i));
            let next = blooms.household_refs.len() as u32;
            recs.household_ref[r] = *blooms.household_refs.entry((feed_scope, t)).or_insert(next);
        }
        recs.role[r] =
            role.filter(|c| c.is_valid(row)).and_then(|c| ROLES.iter().find(|x| **x == c.value(row)).copied());
        if let Some(d) = district.filter(|c| c.is_valid(row)) {
            recs.district[r] = recs.district_index(d.value(row));
        }
        recs.imd[r] = imd.filter(|c| c.is_valid(row)).map_or(0, |c| c.value(row));
    }
    Ok(())
}

/// The one-edit token lists read so far, by the number of each list's first token (the name's
/// own): a list is a function of the name, so each distinct name's is held once.
#[derive(Default)]
struct EditLists {
    by_name: HashMap<u32, u32>,
}

/// The names' one-edit token lists of the batch's rows, the last rows added to `recs`.
fn add_name_edits(recs: &mut Records, interner: &mut Interner, lists: &mut EditLists, batch: &RecordBatch) {
    let rows = batch.num_rows();
    let first = recs.len() - rows;
    // A date's own token is of another domain than any name's, so one table serves both.
    for (field, name) in [staging::FORENAME_EDITS, staging::SURNAME_EDITS, staging::DOB_EDITS].into_iter().enumerate() {
        let Some(list) = batch.column_by_name(name).and_then(|c| c.as_list_opt::<i32>()) else { continue };
        let Some(values) = list.values().as_fixed_size_binary_opt() else { continue };
        let offsets = list.value_offsets();
        let token = |j: usize| values.is_valid(j).then(|| Tok::try_from(values.value(j)).ok()).flatten();
        for row in (0..rows).filter(|&r| list.is_valid(r)) {
            let (from, to) = (offsets[row].max(0) as usize, (offsets[row + 1].max(0) as usize).min(values.len()));
            // The list is a function of the name, its first token: the rest is interned once per name.
            let Some(own) = (from < to).then(|| token(from)).flatten().map(|t| interner.id(Some(t))) else { continue };
            let idx = match lists.by_name.get(&own) {
                Some(&idx) => idx,
                None => {
                    let ids: Vec<u32> = (from..to).map(|j| interner.id(token(j))).collect();
                    if ids.contains(&super::records::NONE) {
                        continue;
                    }
                    let idx = recs.edit_lists.len() as u32;
                    recs.edit_lists.push(ids.into_boxed_slice());
                    lists.by_name.insert(own, idx);
                    idx
                }
            };
            recs.edits[first + row][field] = idx;
        }
    }
}

/// The compared tokens of the batch's rows, the last rows added to `recs`.
fn add_compared(recs: &mut Records, interner: &mut Interner, batch: &RecordBatch) {
    let rows = batch.num_rows();
    let first = recs.len() - rows;
    for tk in Tk::ALL {
        let Some(col) = tokens(batch, tk.column()) else { continue };
        for row in 0..rows {
            recs.tokens[first + row][tk as usize] = interner.id(tok(Some(col), row));
        }
    }
}
