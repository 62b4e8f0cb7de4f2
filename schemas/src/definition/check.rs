//! Checking a feed definition file and turning it into a [`FeedSchema`], every problem at once.

use std::path::Path;

use toml::Spanned;

use super::file::{COLUMN_KEYS, ColumnEntry, FeedFile, Number, TOP_KEYS};
use super::{FeedProblem, FeedRule, Loaded};
use crate::column::{Column, Generalisation, Kind, OnInvalid, Role, Sensitivity};
use crate::feed::FeedSchema;
use crate::position::{LineIndex, Position};
use crate::{staging, standard};

/// Longest feed or column name, in characters (Parquet and SQL engines take far longer ones,
/// but a name is also a path component and a TOML key).
const MAX_NAME: usize = 63;
/// Longest `max_bytes` of a reference column.
const MAX_REFERENCE_BYTES: i64 = 4096;
/// Longest code in a code list.
const MAX_CODE: usize = 64;

const TYPES: &[&str] = &[
    "reference",
    "person_name",
    "address_line",
    "nhs_number",
    "upn",
    "pnc_id",
    "postcode",
    "uprn",
    "date",
    "birth_date",
    "integer",
    "decimal",
    "boolean",
    "code",
];
const ROLES: &[&str] = &["direct_identifier", "quasi_identifier", "event_attribute", "record_reference"];
const SENSITIVITIES: &[&str] = &["personal", "special_category", "criminal_offence"];
const GENERALISATIONS: &[&str] = &["keep", "year_month", "outward_code", "withhold"];
const ON_INVALID: &[&str] = &["quarantine", "null"];

/// Problems found so far, with the text's line index.
pub(super) struct Places<'t> {
    path: &'t Path,
    index: LineIndex<'t>,
    pub(super) problems: Vec<FeedProblem>,
}

impl<'t> Places<'t> {
    pub(super) fn new(path: &'t Path, text: &'t str) -> Self {
        Places { path, index: LineIndex::new(text), problems: Vec::new() }
    }

    pub(super) fn position(&self, offset: usize) -> Position {
        self.index.position(offset)
    }

    pub(super) fn report(&mut self, offset: usize, rule: FeedRule, message: impl Into<String>) {
        let Position { line, column } = self.index.position(offset);
        self.problems.push(FeedProblem { path: self.path.to_owned(), line, column, rule, message: message.into() });
    }
}

fn at<T>(s: &Spanned<T>) -> usize {
    s.span().start
}

fn leak(s: &str) -> &'static str {
    Box::leak(s.to_owned().into_boxed_str())
}

/// Checks definition text and, when it has no problem, makes its schema (`path` is for messages).
pub(super) fn validate(path: &Path, bytes: &[u8]) -> Result<Loaded, Vec<FeedProblem>> {
    let Ok(text) = std::str::from_utf8(bytes) else {
        let mut p = Places::new(path, "");
        p.report(0, FeedRule::TomlSyntax, "the feed definition is not UTF-8");
        return Err(p.problems);
    };
    let mut places = Places::new(path, text);
    let Some(file) = read_file(&mut places, text) else { return Err(in_file_order(places.problems)) };
    check_name(&mut places, "name", &file.name);
    let version = u32::try_from(*file.version.get_ref()).ok().filter(|v| *v >= 1);
    if version.is_none() {
        places.report(at(&file.version), FeedRule::Version, "version must be a whole number from 1 to 4294967295");
    }
    for (key, value) in [("partner", &file.partner), ("description", &file.description)] {
        if value.get_ref().trim().is_empty() {
            places.report(at(value), FeedRule::Text, format!("{key} must not be empty"));
        }
    }
    let columns: Vec<Column> = file.columns.iter().filter_map(|entry| column(&mut places, entry.get_ref())).collect();
    if file.columns.is_empty() {
        places.report(0, FeedRule::RecordReference, "a feed needs columns: at least the standard `record_id`");
    }
    check_duplicates(&mut places, &file);
    check_record_reference(&mut places, &file, &columns);
    check_event_date(&mut places, &file, &columns);
    check_updated(&mut places, &file, &columns);
    let (Some(version), true) = (version, places.problems.is_empty()) else {
        return Err(in_file_order(places.problems));
    };
    let schema: &'static FeedSchema = Box::leak(Box::new(FeedSchema {
        name: leak(file.name.get_ref()),
        version,
        partner: leak(file.partner.get_ref()),
        description: leak(file.description.get_ref().trim()),
        event_date: leak(file.event_date.get_ref()),
        updated: file.updated.as_ref().map(|u| leak(u.get_ref())),
        columns: Box::leak(columns.into_boxed_slice()),
    }));
    check_staging_names(&mut places, &file, schema);
    if !places.problems.is_empty() {
        return Err(in_file_order(places.problems));
    }
    Ok(Loaded { path: path.to_owned(), schema, version_at: places.position(at(&file.version)) })
}

/// Problems sorted by line and column (those at one place keep the order they were found in).
pub(super) fn in_file_order(mut problems: Vec<FeedProblem>) -> Vec<FeedProblem> {
    problems.sort_by_key(|p| (p.path.clone(), p.line, p.column));
    problems
}

/// The file read with serde, or `None` with the problems reported.
fn read_file(places: &mut Places<'_>, text: &str) -> Option<FeedFile> {
    // Every unknown key at once (serde, below, stops at the first); a file that is not TOML at
    // all is left to serde's message.
    if let Ok(root) = toml::de::DeTable::parse(text) {
        for (key, value) in root.get_ref().iter() {
            let k = key.get_ref().as_ref();
            if !TOP_KEYS.contains(&k) {
                let expected = TOP_KEYS.join(", ");
                places.report(
                    key.span().start,
                    FeedRule::UnknownKey,
                    format!("unknown key `{k}` (expected one of {expected})"),
                );
            } else if let (true, toml::de::DeValue::Array(entries)) = (k == "columns", value.get_ref()) {
                for entry in entries.iter() {
                    let toml::de::DeValue::Table(t) = entry.get_ref() else { continue };
                    for (key, _) in t.iter() {
                        let k = key.get_ref().as_ref();
                        if !COLUMN_KEYS.contains(&k) {
                            let expected = COLUMN_KEYS.join(", ");
                            places.report(
                                key.span().start,
                                FeedRule::UnknownKey,
                                format!("unknown key `columns.{k}` (expected one of {expected})"),
                            );
                        }
                    }
                }
            }
        }
        if !places.problems.is_empty() {
            return None;
        }
    }
    match toml::from_str(text) {
        Ok(f) => Some(f),
        Err(e) => {
            let message = e.message().trim().to_owned();
            let rule = if message.starts_with("missing field") || message.starts_with("invalid type") {
                FeedRule::Format
            } else {
                FeedRule::TomlSyntax
            };
            places.report(e.span().map_or(0, |s| s.start), rule, message);
            None
        }
    }
}

/// Reports a feed or column name that is not lower-case letters, digits and `_`, starting with a
/// letter: it becomes a path, a Parquet column and a key in agreements.
fn check_name(places: &mut Places<'_>, key: &str, name: &Spanned<String>) -> bool {
    let n = name.get_ref();
    let ok = n.len() <= MAX_NAME
        && n.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        && n.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !ok {
        let rule = if key == "name" { FeedRule::Name } else { FeedRule::ColumnName };
        places.report(
            at(name),
            rule,
            format!(
                "{key} {n:?} must be lower-case letters, digits and `_`, start with a letter, at most {MAX_NAME} long"
            ),
        );
    }
    ok
}

/// One column, or `None` with its problems reported.
fn column(places: &mut Places<'_>, e: &ColumnEntry) -> Option<Column> {
    let before = places.problems.len();
    let name_ok = check_name(places, "column name", &e.name);
    let name = e.name.get_ref();
    let standard_column = standard::find(name);
    let mut col = match (e.standard.as_ref().map(|s| (*s.get_ref(), at(s))), standard_column) {
        (Some((true, _)), Some(std)) => {
            refuse_fixed_keys(places, e, name);
            std
        }
        (Some((true, pos)), None) => {
            let names: Vec<&str> = standard::ALL.iter().map(|c| c.name).collect();
            places.report(
                pos,
                FeedRule::Standard,
                format!("there is no standard column {name:?}; the standard columns are {}", names.join(", ")),
            );
            return None;
        }
        (_, Some(_)) => {
            places.report(
                at(&e.name),
                FeedRule::Standard,
                format!(
                    "{name:?} is a standard column: write `standard = true` and nothing about its type or role \
                     (linkage reads it by name, so it must mean the same in every feed)"
                ),
            );
            return None;
        }
        (_, None) => own_column(places, e, name)?,
    };
    if let Some(r) = &e.required {
        col.required = *r.get_ref();
    }
    if let Some(v) = &e.on_invalid {
        col.on_invalid = choose(places, "on_invalid", v, ON_INVALID, FeedRule::OnInvalid).map(|i| match i {
            0 => OnInvalid::Quarantine,
            _ => OnInvalid::Null,
        });
    }
    (name_ok && places.problems.len() == before).then_some(col)
}

/// Reports the keys a standard column does not take: its type, role and sensitivity are fixed.
fn refuse_fixed_keys(places: &mut Places<'_>, e: &ColumnEntry, name: &str) {
    let given: [(&str, Option<usize>); 9] = [
        ("type", e.kind.as_ref().map(at)),
        ("max_bytes", e.max_bytes.as_ref().map(at)),
        ("min", e.min.as_ref().map(at)),
        ("max", e.max.as_ref().map(at)),
        ("codes", e.codes.as_ref().map(at)),
        ("role", e.role.as_ref().map(at)),
        ("sensitivity", e.sensitivity.as_ref().map(at)),
        ("generalise", e.generalise.as_ref().map(at)),
        ("description", e.description.as_ref().map(at)),
    ];
    for (key, pos) in given {
        if let Some(pos) = pos {
            places.report(
                pos,
                FeedRule::Standard,
                format!(
                    "`{key}` is fixed for the standard column {name:?}; only `required` and `on_invalid` may be set"
                ),
            );
        }
    }
}

/// The index in `allowed` of a setting's value, or `None` with the problem reported.
fn choose(places: &mut Places<'_>, key: &str, v: &Spanned<String>, allowed: &[&str], rule: FeedRule) -> Option<usize> {
    let found = allowed.iter().position(|a| a == v.get_ref());
    if found.is_none() {
        places.report(at(v), rule, format!("{key} {:?} is not one of {}", v.get_ref(), allowed.join(", ")));
    }
    found
}

/// A column the definition spells out in full.
fn own_column(places: &mut Places<'_>, e: &ColumnEntry, name: &str) -> Option<Column> {
    let kind = kind(places, e, name);
    let role = match &e.role {
        Some(r) => choose(places, "role", r, ROLES, FeedRule::Role).map(|i| match i {
            0 => Role::DirectIdentifier,
            1 => Role::QuasiIdentifier,
            2 => Role::EventAttribute,
            _ => Role::RecordReference,
        }),
        None => {
            places.report(at(&e.name), FeedRule::Role, format!("column {name:?} needs a role: {}", ROLES.join(", ")));
            None
        }
    };
    let sensitivity = match &e.sensitivity {
        Some(s) => choose(places, "sensitivity", s, SENSITIVITIES, FeedRule::Sensitivity).map(|i| match i {
            0 => Sensitivity::Personal,
            1 => Sensitivity::SpecialCategory,
            _ => Sensitivity::CriminalOffence,
        }),
        None => Some(Sensitivity::Personal),
    };
    let description = match &e.description {
        Some(d) if !d.get_ref().trim().is_empty() => Some(leak(d.get_ref().trim())),
        Some(d) => {
            places.report(at(d), FeedRule::Text, format!("column {name:?}: description must not be empty"));
            None
        }
        None => {
            let msg = format!("column {name:?} needs a description (one sentence for the data dictionary)");
            places.report(at(&e.name), FeedRule::Text, msg);
            None
        }
    };
    let (kind, role, sensitivity, description) = (kind?, role?, sensitivity?, description?);
    let generalise = generalisation(places, e, name, &kind, role)?;
    let mut col = Column::new(leak(name), kind, role, description).generalised(generalise);
    col.sensitivity = sensitivity;
    Some(col)
}

/// The column's type with its parameters, or `None` with the problems reported.
fn kind(places: &mut Places<'_>, e: &ColumnEntry, name: &str) -> Option<Kind> {
    let Some(t) = &e.kind else {
        places.report(at(&e.name), FeedRule::Type, format!("column {name:?} needs a type: {}", TYPES.join(", ")));
        return None;
    };
    let ty = TYPES[choose(places, "type", t, TYPES, FeedRule::Type)?];
    let takes: &[&str] = match ty {
        "reference" => &["max_bytes"],
        "integer" | "decimal" => &["min", "max"],
        "code" => &["codes"],
        _ => &[],
    };
    let params = [
        ("max_bytes", e.max_bytes.as_ref().map(at)),
        ("min", e.min.as_ref().map(at)),
        ("max", e.max.as_ref().map(at)),
        ("codes", e.codes.as_ref().map(at)),
    ];
    let mut ok = true;
    for (key, pos) in params {
        match (pos, takes.contains(&key)) {
            (Some(pos), false) => {
                places.report(pos, FeedRule::Type, format!("column {name:?}: `{key}` does not apply to type {ty}"));
                ok = false;
            }
            (None, true) => {
                places.report(at(t), FeedRule::Type, format!("column {name:?}: type {ty} needs `{key}`"));
                ok = false;
            }
            _ => {}
        }
    }
    if !ok {
        return None;
    }
    Some(match ty {
        "reference" => Kind::Reference { max_bytes: max_bytes(places, e.max_bytes.as_ref()?, name)? },
        "person_name" => Kind::PersonName,
        "address_line" => Kind::AddressLine,
        "nhs_number" => Kind::NhsNumber,
        "upn" => Kind::Upn,
        "pnc_id" => Kind::PncId,
        "postcode" => Kind::Postcode,
        "uprn" => Kind::Uprn,
        "date" => Kind::Date,
        "birth_date" => Kind::BirthDate,
        "boolean" => Kind::Boolean,
        "integer" => integer(places, e.min.as_ref()?, e.max.as_ref()?, name)?,
        "decimal" => decimal(places, e.min.as_ref()?, e.max.as_ref()?, name)?,
        _ => Kind::Code(codes(places, e.codes.as_ref()?, name)?),
    })
}

fn max_bytes(places: &mut Places<'_>, v: &Spanned<i64>, name: &str) -> Option<usize> {
    let n = *v.get_ref();
    let ok = (1..=MAX_REFERENCE_BYTES).contains(&n);
    if !ok {
        let msg = format!("column {name:?}: max_bytes must be from 1 to {MAX_REFERENCE_BYTES}");
        places.report(at(v), FeedRule::Range, msg);
    }
    usize::try_from(n).ok().filter(|_| ok)
}

fn integer(places: &mut Places<'_>, min: &Spanned<Number>, max: &Spanned<Number>, name: &str) -> Option<Kind> {
    let mut whole = |v: &Spanned<Number>, key: &str| match v.get_ref() {
        Number::Integer(i) => Some(*i),
        Number::Float(_) => {
            places.report(at(v), FeedRule::Type, format!("column {name:?}: {key} of an integer column must be whole"));
            None
        }
    };
    let (lo, hi) = (whole(min, "min"), whole(max, "max"));
    let (lo, hi) = (lo?, hi?);
    if lo > hi {
        places.report(at(min), FeedRule::Range, format!("column {name:?}: min is greater than max"));
        return None;
    }
    Some(Kind::Integer { min: lo, max: hi })
}

fn decimal(places: &mut Places<'_>, min: &Spanned<Number>, max: &Spanned<Number>, name: &str) -> Option<Kind> {
    let (lo, hi) = (min.get_ref().as_f64(), max.get_ref().as_f64());
    if !lo.is_finite() || !hi.is_finite() || lo > hi {
        let msg = format!("column {name:?}: min and max must be finite, min no greater than max");
        places.report(at(min), FeedRule::Range, msg);
        return None;
    }
    Some(Kind::Decimal { min: lo, max: hi })
}

/// A code list: non-empty, each code letters, digits and `_` (codes are matched without regard
/// to case, so two codes differing only in case are one code twice).
fn codes(places: &mut Places<'_>, list: &Spanned<Vec<Spanned<String>>>, name: &str) -> Option<&'static [&'static str]> {
    if list.get_ref().is_empty() {
        places.report(at(list), FeedRule::Codes, format!("column {name:?}: a code column needs at least one code"));
        return None;
    }
    let before = places.problems.len();
    let mut seen: Vec<String> = Vec::new();
    for code in list.get_ref() {
        let c = code.get_ref();
        let ok = !c.is_empty()
            && c.chars().count() <= MAX_CODE
            && c.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '_' || ch == '-');
        if !ok {
            let msg = format!("column {name:?}: code {c:?} must be 1 to {MAX_CODE} letters, digits, `_` or `-`");
            places.report(at(code), FeedRule::Codes, msg);
        } else if seen.contains(&c.to_ascii_uppercase()) {
            places.report(at(code), FeedRule::Codes, format!("column {name:?}: code {c:?} is listed twice"));
        }
        seen.push(c.to_ascii_uppercase());
    }
    if places.problems.len() > before {
        return None;
    }
    let codes: Vec<&'static str> = list.get_ref().iter().map(|c| leak(c.get_ref())).collect();
    Some(Box::leak(codes.into_boxed_slice()))
}

/// How a quasi-identifier is coarsened for analysts. A date or postcode must say so: kept as it
/// is, it would identify.
fn generalisation(
    places: &mut Places<'_>,
    e: &ColumnEntry,
    name: &str,
    kind: &Kind,
    role: Role,
) -> Option<Generalisation> {
    let Some(g) = &e.generalise else {
        if role == Role::QuasiIdentifier && matches!(kind, Kind::Date | Kind::BirthDate | Kind::Postcode) {
            let msg = format!(
                "column {name:?}: a quasi-identifier of this type must say how it is coarsened for analysts \
                 (generalise = year_month, outward_code or withhold)"
            );
            places.report(at(&e.name), FeedRule::Generalise, msg);
            return None;
        }
        return Some(Generalisation::Keep);
    };
    let how = match choose(places, "generalise", g, GENERALISATIONS, FeedRule::Generalise)? {
        0 => Generalisation::Keep,
        1 => Generalisation::YearMonth,
        2 => Generalisation::OutwardCode,
        _ => Generalisation::Withhold,
    };
    let fits = match how {
        Generalisation::YearMonth => matches!(kind, Kind::Date | Kind::BirthDate),
        Generalisation::OutwardCode => matches!(kind, Kind::Postcode),
        Generalisation::Keep | Generalisation::Withhold => true,
    };
    if role != Role::QuasiIdentifier {
        places.report(at(g), FeedRule::Generalise, format!("column {name:?}: only a quasi-identifier is generalised"));
        return None;
    }
    if !fits {
        places.report(at(g), FeedRule::Generalise, format!("column {name:?}: {} does not fit its type", g.get_ref()));
        return None;
    }
    Some(how)
}

/// Reports a column name given twice.
fn check_duplicates(places: &mut Places<'_>, file: &FeedFile) {
    for (i, e) in file.columns.iter().enumerate() {
        let name = e.get_ref().name.get_ref();
        if file.columns[..i].iter().any(|p| p.get_ref().name.get_ref() == name) {
            places.report(
                at(&e.get_ref().name),
                FeedRule::ColumnDuplicate,
                format!("column {name:?} is defined twice"),
            );
        }
    }
}

/// The feed must hold the standard `record_id`, and no other record reference: records are
/// known, re-sent, withdrawn and erased by it.
fn check_record_reference(places: &mut Places<'_>, file: &FeedFile, columns: &[Column]) {
    if !file.columns.is_empty() && !file.columns.iter().any(|e| e.get_ref().name.get_ref() == "record_id") {
        places.report(
            at(&file.name),
            FeedRule::RecordReference,
            "the feed needs the standard `record_id` column (name = \"record_id\", standard = true)",
        );
    }
    for (e, c) in file
        .columns
        .iter()
        .map(Spanned::get_ref)
        .filter_map(|e| Some((e, columns.iter().find(|c| c.name == e.name.get_ref())?)))
    {
        if c.role == Role::RecordReference && c.name != "record_id" {
            let msg = format!("column {:?}: only the standard `record_id` is the record reference", c.name);
            places.report(at(&e.name), FeedRule::RecordReference, msg);
        }
    }
}

/// `event_date` must name a required date column; an `on_invalid` on it would be ignored (an
/// event without its date always quarantines), so it is refused rather than silently overridden.
fn check_event_date(places: &mut Places<'_>, file: &FeedFile, columns: &[Column]) {
    let name = file.event_date.get_ref();
    for e in file.columns.iter().map(Spanned::get_ref) {
        let fixed = e.name.get_ref() == name || e.name.get_ref() == "record_id";
        if let (true, Some(v)) = (fixed, &e.on_invalid) {
            let msg = format!(
                "column {:?}: the record reference and the event date always quarantine a record they fail on",
                e.name.get_ref()
            );
            places.report(at(v), FeedRule::OnInvalid, msg);
        }
    }
    if !file.columns.iter().any(|e| e.get_ref().name.get_ref() == name) {
        let msg = format!("event_date {name:?} is not a column of the feed");
        places.report(at(&file.event_date), FeedRule::EventDate, msg);
    } else if let Some(col) = columns.iter().find(|c| c.name == name)
        && (col.kind != Kind::Date || !col.required)
    {
        let msg = format!("event_date {name:?} must be a column of type date with required = true");
        places.report(at(&file.event_date), FeedRule::EventDate, msg);
    }
}

/// `updated` must name a date column that is an event attribute (staged as it is, so that two
/// versions' dates can be compared), and not the record reference.
fn check_updated(places: &mut Places<'_>, file: &FeedFile, columns: &[Column]) {
    let Some(updated) = &file.updated else { return };
    let name = updated.get_ref();
    match columns.iter().find(|c| c.name == name) {
        None if !file.columns.iter().any(|e| e.get_ref().name.get_ref() == name) => {
            let msg = format!("updated {name:?} is not a column of the feed");
            places.report(at(updated), FeedRule::Updated, msg);
        }
        // A column with problems of its own is reported for them, not judged twice.
        None => {}
        Some(c) if c.kind != Kind::Date || c.role != Role::EventAttribute || c.generalise != Generalisation::Keep => {
            let msg = format!(
                "updated {name:?} must be a column of type date with role event_attribute and no generalisation, so \
                 that the dates of two versions can be compared"
            );
            places.report(at(updated), FeedRule::Updated, msg);
        }
        Some(_) => {}
    }
}

/// Reports a column whose name a staging column derived from another already takes (a feed
/// column called `district` beside a postcode, whose derived district column has that name).
fn check_staging_names(places: &mut Places<'_>, file: &FeedFile, schema: &'static FeedSchema) {
    let names: Vec<String> = staging::columns(schema).into_iter().map(|c| c.name).collect();
    for (i, n) in names.iter().enumerate() {
        if names[..i].contains(n) {
            let place =
                file.columns.iter().find(|e| e.get_ref().name.get_ref() == n).map_or(0, |e| at(&e.get_ref().name));
            let msg = format!("column {n:?}: the staging dataset derives a column of this name; rename it");
            places.report(place, FeedRule::StagingName, msg);
        }
    }
}
