//! The pseudonymised staging dataset's columns, derived from a feed schema by column role.
//!
//! One definition serves the pseudonymise stage (which builds batches of this shape), the
//! Parquet sink (which writes the descriptions into the file metadata) and the data dictionary.

use std::sync::Arc;

use arrow_schema::{DataType, Field, Schema};

use crate::column::{Column, Kind, Role};
use crate::feed::FeedSchema;
use crate::match_keys::{BlockKey, MatchField, MatchRule};
use crate::treatment::{Coarsening, Treatment};

/// Lineage column: the input the row came from (file name, or topic and partition).
pub const SOURCE: &str = "_source";
/// Lineage column: the row's position in that input (line number, or offset).
pub const POSITION: &str = "_position";
/// Lineage column: the agreement (`id@version`) under which the row was shared.
pub const AGREEMENT: &str = "_agreement";
/// Data-quality column: the fields nulled because their value was invalid, missing or a
/// placeholder, each as `column:rule`, separated by `;` (null when none was). Names and rule
/// codes only, never a value.
pub const DQ: &str = "_dq";
/// Separates a `_dq` entry's column from its rule.
pub const DQ_RULE_SEPARATOR: char = ':';
/// Separates the entries of a `_dq` value.
pub const DQ_ENTRY_SEPARATOR: char = ';';
/// Lineage column: the digest of the row's shared content (its columns other than lineage), by
/// which a record re-sent unchanged is told from one that changed.
pub const RECORD_DIGEST: &str = "_record_digest";
/// Lineage column: the input's id (the first 16 hex digits of its SHA-256, or a stream batch
/// part's name), as its staging files are named: `arrivals/` says when each input arrived, so
/// that a row can be placed in time ("as it was known on date D"). Not part of the digest.
pub const INPUT: &str = "_input";
/// Derived column: the synthetic small area (LSOA-like) of the postcode, where known.
pub const SMALL_AREA: &str = "small_area";
/// Derived column: the district of the postcode, where known.
pub const DISTRICT: &str = "district";
/// Derived column: the IMD decile (1 = most deprived) of the small area, where known.
pub const IMD_DECILE: &str = "imd_decile";

/// Linkage column: the keyed token of the date of birth with day and month in sorted order.
pub const DOB_UNORDERED_TOKEN: &str = "dob_unordered_token";
/// Linkage column: the keyed token of the year of birth and the postcode.
pub const BIRTH_YEAR_POSTCODE_TOKEN: &str = "birth_year_postcode_token";
/// Linkage column: the keyed Bloom filter of the forename's bigrams.
pub const FORENAME_BLOOM: &str = "forename_bloom";
/// Linkage column: the keyed Bloom filter of the surname's bigrams.
pub const SURNAME_BLOOM: &str = "surname_bloom";
/// Linkage column: keyed tokens of the forename and of it with each letter dropped in turn.
pub const FORENAME_EDITS: &str = "forename_edit_tokens";
/// Linkage column: keyed tokens of the surname and of it with each letter dropped in turn.
pub const SURNAME_EDITS: &str = "surname_edit_tokens";
/// Linkage column: keyed tokens of the date of birth (`YYYYMMDD`) and of it with each digit
/// dropped in turn: two dates one digit apart, or with two neighbouring digits swapped, share one.
pub const DOB_EDITS: &str = "date_of_birth_edit_tokens";
/// Linkage column: the keyed Bloom filter of the first address line's bigrams.
pub const ADDRESS_BLOOM: &str = "address_line_1_bloom";
/// Linkage column: the keyed token of the numbers in the first address line (house, flat),
/// for telling two homes of one street apart.
pub const ADDRESS_NUMBERS_TOKEN: &str = "address_numbers_token";
/// The feed column the address Bloom filter is made from.
pub const ADDRESS_LINE: &str = "address_line_1";

/// Bytes in a keyed token: HMAC-SHA256 truncated to 128 bits.
pub const TOKEN_BYTES: i32 = 16;

/// Bytes in a name's Bloom filter: 1024 bits.
pub const BLOOM_BYTES: i32 = 128;

/// The name of the item field of a match-key list column.
pub const MATCH_KEY_ITEM: &str = "item";

/// The Arrow type of a match-key column: a list of 16-byte keys (`List<FixedSizeBinary(16)>`,
/// items named [`MATCH_KEY_ITEM`], never null).
pub fn match_key_type() -> DataType {
    DataType::List(Arc::new(Field::new(MATCH_KEY_ITEM, DataType::FixedSizeBinary(TOKEN_BYTES), false)))
}

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
    /// Where the row came from, the agreement that let it through, and what the validate stage
    /// nulled in it (`_dq`).
    Lineage,
    /// The keys of a match-key rule (`List<FixedSizeBinary(16)>`), from several identity
    /// fields; see [`MatchRule`].
    MatchKey(MatchRule),
    /// A keyed blocking token (16 bytes) from one or more identity fields; see [`BlockKey`].
    BlockKey(BlockKey),
    /// A keyed Bloom filter (128 bytes) of a name's bigrams, salted by the year of birth when
    /// the date of birth is tokenised.
    Bloom(MatchField),
    /// A keyed Bloom filter (128 bytes) of the first address line's bigrams (spaces removed,
    /// so that a slipped space changes little), unsalted.
    AddressBloom,
    /// A keyed token (16 bytes) of the numbers in the first address line (house and flat
    /// numbers, with a letter suffix, sorted), unsalted; null where the line has none.
    AddressNumbers,
    /// Keyed tokens of a name or a date of birth and of it with each character dropped in turn
    /// (`List<FixedSizeBinary(16)>`, unsalted; see [`name_edits`](crate::name_edits)).
    EditTokens(MatchField),
}

impl Derivation {
    /// Whether the column holds keyed HMAC values (tokens, match keys, Bloom filters): random
    /// bytes that no one can read or recompute without the key.
    pub fn is_keyed(self) -> bool {
        matches!(
            self,
            Derivation::Token
                | Derivation::MatchKey(_)
                | Derivation::BlockKey(_)
                | Derivation::Bloom(_)
                | Derivation::AddressBloom
                | Derivation::AddressNumbers
                | Derivation::EditTokens(_)
        )
    }
}

/// One column of a staging dataset.
#[derive(Debug, Clone)]
pub struct StagingColumn {
    /// Column name in the Parquet file.
    pub name: String,
    /// Arrow type.
    pub data_type: DataType,
    /// The feed column it is made from (`None` for lineage); for a column made from several,
    /// the first of [`inputs`](Self::inputs).
    pub input: Option<&'static Column>,
    /// Every feed column it is made from, in feed order (empty for lineage).
    pub inputs: Vec<&'static Column>,
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
            // A Bloom filter is mostly zero bits: unlike a token, it compresses (to about half).
            (Derivation::Bloom(_) | Derivation::AddressBloom, _) => Some("unique"),
            (d, _) if d.is_keyed() => Some("plain"),
            // A digest is as random as a token.
            (Derivation::Lineage, _) if self.name == RECORD_DIGEST => Some("plain"),
            (Derivation::Pass, Some(Role::RecordReference)) => Some("unique"),
            _ => None,
        };
        if let Some(s) = storage {
            meta.insert(STORAGE_KEY.to_owned(), s.to_owned());
        }
        Field::new(&self.name, self.data_type.clone(), true).with_metadata(meta)
    }

    /// Whether `col` is one of the feed columns this column is made from.
    pub fn uses(&self, col: &Column) -> bool {
        self.inputs.iter().any(|c| c.name == col.name)
    }
}

/// Whether a staging column is made from other columns of the row (geography, match keys,
/// blocking keys, Bloom filters) rather than from one field: a record's content is told by its
/// other, non-lineage columns, since these follow from them.
pub fn is_derived(name: &str) -> bool {
    [SMALL_AREA, DISTRICT, IMD_DECILE].contains(&name)
        || MatchRule::ALL.iter().any(|r| r.column() == name)
        || BlockKey::ALL.iter().any(|b| b.column() == name)
        || MatchField::ALL.iter().any(|f| f.bloom_column() == Some(name) || f.edit_column() == Some(name))
        || name == ADDRESS_BLOOM
        || name == ADDRESS_NUMBERS_TOKEN
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
/// (value, coarsened forms, token), then geography, then the linkage encodings (match keys,
/// blocking tokens, Bloom filters), then lineage. A field whose treatment keeps nothing has no
/// column at all.
///
/// A linkage encoding exists only when every identity field it needs ([`MatchField`]) is in
/// the feed and its treatment keeps a token (`token == true`): an agreement that does not let a
/// field be pseudonymised keeps it out of every key too.
pub fn columns_under(feed: &'static FeedSchema, treat: impl Fn(&Column) -> Treatment) -> Vec<StagingColumn> {
    let mut out = Vec::new();
    let mut geography_from = None;
    for col in feed.columns {
        let t = treat(col);
        let mut push = |name: String, data_type: DataType, derivation: Derivation, description: String| {
            out.push(StagingColumn { name, data_type, input: Some(col), inputs: vec![col], derivation, description });
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
                inputs: vec![postcode],
                derivation: Derivation::Geography,
                description: description.to_owned(),
            });
        }
    }
    linkage_columns(feed, &treat, &mut out);
    let lineage = [
        (SOURCE, DataType::Utf8, "The input the row came from: file name, or Kafka topic and partition."),
        (POSITION, DataType::UInt64, "The row's position in its input: line number, or Kafka offset."),
        (AGREEMENT, DataType::Utf8, "The information sharing agreement (id@version) under which the row was shared."),
        (
            DQ,
            DataType::Utf8,
            "Fields nulled because their value was invalid, missing or a placeholder, as column:rule separated by ';' \
             (null when none was).",
        ),
        (
            RECORD_DIGEST,
            DataType::FixedSizeBinary(TOKEN_BYTES),
            "Digest of the row's shared content (SHA-256 of its columns other than lineage, first 16 bytes): a record \
             re-sent unchanged has the same digest and is not staged again.",
        ),
        (
            INPUT,
            DataType::Utf8,
            "The input the row arrived in, by id (first 16 hex digits of its SHA-256, or a Kafka batch's name): joins \
             arrivals/ for when it arrived.",
        ),
    ];
    for (name, data_type, description) in lineage {
        out.push(StagingColumn {
            name: name.to_owned(),
            data_type,
            input: None,
            inputs: Vec::new(),
            derivation: Derivation::Lineage,
            description: description.to_owned(),
        });
    }
    out
}

/// Appends the linkage encodings whose identity fields are all in the feed and tokenised.
fn linkage_columns(feed: &'static FeedSchema, treat: &impl Fn(&Column) -> Treatment, out: &mut Vec<StagingColumn>) {
    let linked: Vec<(MatchField, &'static Column)> = MatchField::ALL
        .into_iter()
        .filter_map(|f| f.in_feed(feed).filter(|c| treat(c).token).map(|c| (f, c)))
        .collect();
    let column_of = |f: MatchField| linked.iter().find(|(g, _)| *g == f).map(|(_, c)| *c);
    // The feed columns of `fields`, in feed order, when every one of them is linked.
    let inputs_of = |fields: &[MatchField]| -> Option<Vec<&'static Column>> {
        let mut cols = fields.iter().map(|&f| column_of(f)).collect::<Option<Vec<_>>>()?;
        cols.sort_by_key(|c| feed.index_of(c.name));
        Some(cols)
    };
    let mut push =
        |name: &str, data_type: DataType, inputs: Vec<&'static Column>, derivation: Derivation, description: String| {
            out.push(StagingColumn {
                name: name.to_owned(),
                data_type,
                input: inputs.first().copied(),
                inputs,
                derivation,
                description,
            });
        };
    for rule in MatchRule::ALL {
        if let Some(inputs) = inputs_of(rule.inputs()) {
            push(rule.column(), match_key_type(), inputs, Derivation::MatchKey(rule), rule.description());
        }
    }
    for block in BlockKey::ALL {
        if let Some(inputs) = inputs_of(block.inputs()) {
            let data_type = DataType::FixedSizeBinary(TOKEN_BYTES);
            push(block.column(), data_type, inputs, Derivation::BlockKey(block), block.description());
        }
    }
    let dob = column_of(MatchField::DateOfBirth);
    for field in [MatchField::Forename, MatchField::Surname] {
        let (Some(name), Some(col)) = (field.bloom_column(), column_of(field)) else {
            continue;
        };
        // The date of birth is an input when it salts the filter.
        let inputs = inputs_of(&[field, MatchField::DateOfBirth]).unwrap_or_else(|| vec![col]);
        let salt = if dob.is_some() { ", salted by the year of birth" } else { "" };
        let description = format!(
            "Keyed Bloom filter (1024 bits, 20 HMAC-SHA256 positions per bigram{salt}) of the bigrams of the \
             {}, for approximate name comparison.",
            field.column_name()
        );
        push(name, DataType::FixedSizeBinary(BLOOM_BYTES), inputs, Derivation::Bloom(field), description);
    }
    for field in [MatchField::Forename, MatchField::Surname] {
        let (Some(name), Some(col)) = (field.edit_column(), column_of(field)) else {
            continue;
        };
        let description = format!(
            "Keyed tokens (HMAC-SHA256, 16 bytes each, unsalted) of the {} in match form and of it with each \
             letter dropped in turn: two names one letter apart share one; null under three letters.",
            field.column_name()
        );
        push(name, match_key_type(), vec![col], Derivation::EditTokens(field), description);
    }
    if let (Some(name), Some(col)) = (MatchField::DateOfBirth.edit_column(), dob) {
        let description = "Keyed tokens (HMAC-SHA256, 16 bytes each, unsalted) of the date of birth as YYYYMMDD and \
                           of it with each digit dropped in turn: two dates one digit apart, or with two neighbouring \
                           digits swapped, share one."
            .to_owned();
        push(name, match_key_type(), vec![col], Derivation::EditTokens(MatchField::DateOfBirth), description);
    }
    let address = feed.columns.iter().find(|c| c.name == ADDRESS_LINE && c.kind == Kind::AddressLine);
    if let Some(col) = address.filter(|c| treat(c).token) {
        let description = "Keyed Bloom filter (1024 bits, 20 HMAC-SHA256 positions per bigram) of the bigrams of the \
                           first address line, spaces removed, for approximate address comparison."
            .to_owned();
        push(ADDRESS_BLOOM, DataType::FixedSizeBinary(BLOOM_BYTES), vec![col], Derivation::AddressBloom, description);
        let description = "Keyed token (HMAC-SHA256, 16 bytes, unsalted) of the numbers in the first address line \
                           (house and flat numbers with any letter suffix, in sorted order), null where it has none: \
                           two homes of one street differ in it."
            .to_owned();
        push(
            ADDRESS_NUMBERS_TOKEN,
            DataType::FixedSizeBinary(TOKEN_BYTES),
            vec![col],
            Derivation::AddressNumbers,
            description,
        );
    }
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
                        Role::DirectIdentifier => assert!(c.derivation.is_keyed(), "{}", c.name),
                        Role::QuasiIdentifier => assert!(
                            c.derivation.is_keyed()
                                || matches!(c.derivation, Derivation::Coarsened(_) | Derivation::Geography)
                                || (c.derivation == Derivation::Pass && matches!(input.kind, Kind::Code(_))),
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
            updated: None,
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
            "_dq",
        ] {
            assert!(names.iter().any(|n| n == want), "missing {want}");
        }
        assert!(!names.iter().any(|n| n == "nhs_number" || n == "date_of_birth" || n == "postcode"));
    }

    fn names_under(f: &'static FeedSchema, treat: impl Fn(&Column) -> Treatment) -> Vec<String> {
        columns_under(f, treat).into_iter().map(|c| c.name).collect()
    }

    const LINKAGE: [&str; 33] = [
        "mk_name_dob",
        "mk_initial_surname_dob",
        "mk_nickname_surname_dob",
        "mk_soundex_nickname_dob",
        "mk_name_birth_year_postcode",
        "mk_forename_dob_postcode",
        "mk_initial_surname_dob_unordered",
        "mk_name_postcode",
        DOB_UNORDERED_TOKEN,
        BIRTH_YEAR_POSTCODE_TOKEN,
        "dob_year_month_token",
        "dob_year_day_token",
        "dob_month_day_token",
        "birth_year_even_pair_token",
        "birth_year_odd_pair_token",
        "forename_name_token",
        "surname_name_token",
        "forename_class_first_token",
        "forename_class_last_token",
        "forename_initial_token",
        "forename_soundex_token",
        "surname_first_part_token",
        "surname_last_part_token",
        "surname_soundex_token",
        "postcode_sector_token",
        "postcode_district_token",
        FORENAME_BLOOM,
        SURNAME_BLOOM,
        FORENAME_EDITS,
        SURNAME_EDITS,
        DOB_EDITS,
        ADDRESS_BLOOM,
        ADDRESS_NUMBERS_TOKEN,
    ];

    #[test]
    fn every_linkage_column_is_made_when_every_identity_field_is_tokenised() {
        let police = feed::latest("police").unwrap();
        let cols = columns(police);
        let names: Vec<&str> = cols.iter().map(|c| c.name.as_str()).collect();
        let first = names.iter().position(|n| *n == "mk_name_dob").unwrap();
        assert_eq!(&names[first..first + LINKAGE.len()], LINKAGE);
        assert_eq!(
            &names[first + LINKAGE.len()..],
            [SOURCE, POSITION, AGREEMENT, DQ, RECORD_DIGEST, INPUT],
            "lineage comes last"
        );
        let col = |n: &str| cols.iter().find(|c| c.name == n).unwrap();
        let mk = col("mk_name_birth_year_postcode");
        assert_eq!(mk.data_type, match_key_type());
        assert_eq!(mk.derivation, Derivation::MatchKey(MatchRule::NameBirthYearPostcode));
        let inputs: Vec<&str> = mk.inputs.iter().map(|c| c.name).collect();
        assert_eq!(inputs, ["forename", "surname", "date_of_birth", "postcode"]);
        assert_eq!(mk.input.map(|c| c.name), Some("forename"));
        assert_eq!(col(FORENAME_BLOOM).data_type, DataType::FixedSizeBinary(128));
        assert!(col(FORENAME_BLOOM).uses(police.column("date_of_birth").unwrap()), "salted by year");
        let address = col(ADDRESS_BLOOM);
        assert_eq!(
            (address.derivation, address.data_type.clone()),
            (Derivation::AddressBloom, DataType::FixedSizeBinary(128))
        );
        assert!(address.uses(police.column(ADDRESS_LINE).unwrap()) && address.inputs.len() == 1, "unsalted");
        assert_eq!(col(DOB_UNORDERED_TOKEN).data_type, DataType::FixedSizeBinary(16));
        for name in LINKAGE {
            let f = col(name).field();
            let want = if name.ends_with("_bloom") { "unique" } else { "plain" };
            assert_eq!(f.metadata().get(STORAGE_KEY).map(String::as_str), Some(want), "{name}");
            let d = &f.metadata()["description"];
            assert!(d.ends_with('.') && !d.contains("  "), "{name}: {d}");
        }
        let DataType::List(item) = mk.field().data_type().clone() else { panic!("not a list") };
        assert_eq!((item.name().as_str(), item.is_nullable()), ("item", false));
    }

    #[test]
    fn linkage_columns_follow_the_treatment() {
        let police = feed::latest("police").unwrap();
        // An agreement that drops the forename: nothing that needs it.
        let no_forename =
            names_under(
                police,
                |c| {
                    if c.name == "forename" { Treatment::default() } else { Treatment::schema_default(c) }
                },
            );
        for gone in LINKAGE.iter().filter(|n| n.starts_with("mk_") || [FORENAME_BLOOM, FORENAME_EDITS].contains(n)) {
            assert!(!no_forename.iter().any(|n| n == gone), "{gone}: {no_forename:?}");
        }
        for kept in [DOB_UNORDERED_TOKEN, BIRTH_YEAR_POSTCODE_TOKEN, SURNAME_BLOOM, SURNAME_EDITS] {
            assert!(no_forename.iter().any(|n| n == kept), "{kept}: {no_forename:?}");
        }
        // A date of birth kept only coarsened (no token) is in no key, and salts no filter.
        let dob_coarse = columns_under(police, |c| {
            if c.name == "date_of_birth" {
                Treatment { coarsen: vec![Coarsening::Year], ..Treatment::default() }
            } else {
                Treatment::schema_default(c)
            }
        });
        let names: Vec<&str> = dob_coarse.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(
            names.iter().filter(|n| LINKAGE.contains(n)).copied().collect::<Vec<_>>(),
            [
                "mk_name_postcode",
                "forename_name_token",
                "surname_name_token",
                "forename_class_first_token",
                "forename_class_last_token",
                "forename_initial_token",
                "forename_soundex_token",
                "surname_first_part_token",
                "surname_last_part_token",
                "surname_soundex_token",
                "postcode_sector_token",
                "postcode_district_token",
                FORENAME_BLOOM,
                SURNAME_BLOOM,
                FORENAME_EDITS,
                SURNAME_EDITS,
                ADDRESS_BLOOM,
                ADDRESS_NUMBERS_TOKEN
            ]
        );
        let bloom = dob_coarse.iter().find(|c| c.name == FORENAME_BLOOM).unwrap();
        assert_eq!(bloom.inputs.iter().map(|c| c.name).collect::<Vec<_>>(), ["forename"]);
        // Only the postcode tokenised: only the postcode's own coarser tokens.
        let postcode_only = names_under(police, |c| {
            if c.name == "postcode" { Treatment { token: true, ..Treatment::default() } } else { Treatment::default() }
        });
        assert_eq!(
            postcode_only.iter().filter(|n| LINKAGE.contains(&n.as_str())).collect::<Vec<_>>(),
            ["postcode_sector_token", "postcode_district_token"]
        );
    }

    #[test]
    fn a_feed_without_the_fields_has_no_linkage_columns() {
        static COLS: [Column; 2] = [
            Column::new("record_id", Kind::Reference { max_bytes: 8 }, Role::RecordReference, "r"),
            // Named like a forename, but not a person name.
            Column::new("forename", Kind::Reference { max_bytes: 8 }, Role::DirectIdentifier, "f"),
        ];
        static FEED: FeedSchema = FeedSchema {
            name: "t",
            version: 1,
            partner: "t",
            description: "t",
            event_date: "record_id",
            updated: None,
            columns: &COLS,
        };
        assert!(!columns(&FEED).iter().any(|c| LINKAGE.contains(&c.name.as_str())));
    }

    #[test]
    fn linkage_domains_are_never_a_feed_column_name() {
        // A feed column's token uses its name as HMAC domain: a column named like a rule would
        // make its tokens joinable with that rule's keys.
        let domains: Vec<&str> = MatchRule::ALL
            .iter()
            .map(|r| r.column())
            .chain(BlockKey::ALL.iter().map(|b| b.domain()))
            .chain(["bloom/forename", "bloom/surname"])
            .collect();
        for f in feed::all() {
            for c in f.columns {
                assert!(!domains.contains(&c.name), "{}.{}", f.name, c.name);
            }
        }
    }
}
