//! The `[feeds.<feed>.fields]` tables: what happens to each field, checked against the feed
//! schemas (the field exists, the action may apply to it, the coarsening fits its kind).

use std::collections::BTreeMap;

use tellonce_schemas::column::{Column, Sensitivity};
use tellonce_schemas::feed::FeedSchema;
use tellonce_schemas::treatment::pass_allowed;
use tellonce_schemas::{Coarsening, Treatment, feed};
use toml::Spanned;
use toml::de::DeValue;

use super::model::{FeedTerms, FieldTerms};
use super::position::Position;
use super::problem::Lint;
use super::read::{Doc, Table, type_name};

const FEED_KEYS: &[&str] = &["fields"];
const FIELD_KEYS: &[&str] = &["action", "generalise", "clause", "note"];
const ACTIONS: &[&str] = &["pass", "pseudonymise", "generalise", "drop"];

/// A kept field whose category needs an Article 9 or 10 condition, and where it is named.
pub(crate) struct Sensitive {
    /// Its category.
    pub(crate) sensitivity: Sensitivity,
    /// `feed.field`, for messages.
    pub(crate) name: String,
    /// Where the field is named.
    pub(crate) offset: usize,
}

/// The feeds section as read.
#[derive(Default)]
pub(crate) struct FeedsRead {
    /// The terms per feed.
    pub(crate) feeds: BTreeMap<String, FeedTerms>,
    /// Where each feed is named, for problems found across files (overlaps).
    pub(crate) positions: BTreeMap<String, Position>,
    /// Kept fields that need an Article 9 or 10 condition.
    pub(crate) sensitive: Vec<Sensitive>,
}

/// Reads `[feeds]`, reporting every problem in it.
pub(crate) fn read_feeds(doc: &mut Doc<'_>, root: Table<'_, '_>) -> FeedsRead {
    let mut out = FeedsRead::default();
    let Some(feeds) = doc.table(root, "feeds", "feeds") else {
        if root.get("feeds").is_none() {
            doc.missing(root, "feeds", "an agreement governs at least one feed, named field by field");
        }
        return out;
    };
    if feeds.table.iter().next().is_none() {
        doc.report(Lint::Missing, feeds.start, "`feeds` is empty: an agreement governs at least one feed");
    }
    for (key, value) in feeds.table.iter() {
        let name = key.get_ref().to_string();
        let key_offset = key.span().start;
        if feed::latest(&name).is_none() {
            let known: Vec<&str> = feed::names().collect();
            doc.report(
                Lint::FeedUnknown,
                key_offset,
                format!(
                    "unknown feed `{name}`: the feeds in use are {}; a feed a deployment defines in a file \
                     is known once its folder is loaded ([feeds] dir, or `isa lint --feeds DIR`)",
                    known.join(", ")
                ),
            );
            // Its fields are not checked: every one would be reported unknown.
            continue;
        }
        out.positions.insert(name.clone(), doc.position(key_offset));
        let DeValue::Table(t) = value.get_ref() else {
            doc.wrong_type(feeds, &name, value, "a table");
            continue;
        };
        let table_name = format!("feeds.{name}");
        let table = Table { table: t, start: value.span().start, name: &table_name };
        doc.unknown_keys(table, FEED_KEYS);
        let fields_name = format!("{table_name}.fields");
        let Some(fields) = doc.table(table, "fields", &fields_name) else {
            if table.get("fields").is_none() {
                doc.missing(table, "fields", "the agreement names each field of the feed it shares");
            }
            out.feeds.insert(name, FeedTerms::default());
            continue;
        };
        let mut terms = FeedTerms::default();
        for (field_key, field_value) in fields.table.iter() {
            let field = field_key.get_ref().to_string();
            let column = column_in_any_version(&name, &field);
            let offset = field_key.span().start;
            if column.is_none() {
                doc.report(
                    Lint::FieldUnknown,
                    offset,
                    format!("unknown field `{field}`: not a column of feed `{name}` at any schema version"),
                );
            }
            let Some(field_terms) = read_field(doc, fields, &field, field_value, column, offset) else {
                continue;
            };
            if let Some(col) = column
                && !field_terms.treatment.is_drop()
                && col.sensitivity != Sensitivity::Personal
            {
                out.sensitive.push(Sensitive { sensitivity: col.sensitivity, name: format!("{name}.{field}"), offset });
            }
            terms.fields.insert(field, field_terms);
        }
        out.feeds.insert(name, terms);
    }
    out
}

/// The newest definition of `field` in any schema version of `feed`.
fn column_in_any_version(feed: &str, field: &str) -> Option<&'static Column> {
    schema_with(feed, field).map(|(_, col)| col)
}

/// The newest schema version of `feed` that has `field`, with the column: a field dropped from
/// a feed's newest schema can still be governed for inputs written in an older version.
pub(crate) fn schema_with(feed: &str, field: &str) -> Option<(&'static FeedSchema, &'static Column)> {
    // `feed::all` lists each feed's newest version last.
    feed::all().iter().rev().filter(|f| f.name == feed).find_map(|f| f.column(field).map(|c| (*f, c)))
}

/// Reads one field's terms, reporting every problem with them.
fn read_field(
    doc: &mut Doc<'_>,
    fields: Table<'_, '_>,
    field: &str,
    value: &Spanned<DeValue<'_>>,
    column: Option<&Column>,
    offset: usize,
) -> Option<FieldTerms> {
    let DeValue::Table(t) = value.get_ref() else {
        doc.wrong_type(fields, field, value, "a table such as { action = \"pass\", clause = \"...\" }");
        return None;
    };
    let name = fields.key_name(field);
    let table = Table { table: t, start: value.span().start, name: &name };
    doc.unknown_keys(table, FIELD_KEYS);

    let actions = read_actions(doc, table);
    let has = |a: &str| actions.iter().any(|x| x == a);
    if has("pass")
        && let Some(col) = column
        && !pass_allowed(col)
    {
        let at = table.get("action").map_or(offset, |v| v.span().start);
        doc.report(
            Lint::PassIdentifier,
            at,
            format!(
                "`{name}` may not pass: a {} is never stored in clear; \
                 pseudonymise it (and generalise a date or postcode)",
                col.role.as_str()
            ),
        );
    }
    let coarsen = read_generalise(doc, table, has("generalise"), column);
    let dropped = actions.is_empty() || (actions.len() == 1 && has("drop"));
    let clause = doc.string(table, "clause", None);
    if clause.is_none() && !dropped {
        doc.report(
            Lint::ClauseMissing,
            offset,
            format!("`{name}` is kept but names no clause: every kept field must cite the clause that allows it"),
        );
    }
    let note = doc.string(table, "note", None);
    let treatment = Treatment { pass: has("pass"), token: has("pseudonymise"), coarsen };
    Some(FieldTerms { treatment, clause, note, line: doc.position(offset).line })
}

/// The field's actions, deduplicated; empty when they are missing or invalid.
fn read_actions(doc: &mut Doc<'_>, table: Table<'_, '_>) -> Vec<String> {
    let name = table.name;
    let Some(v) = table.get("action") else {
        doc.report(
            Lint::FieldAction,
            table.start,
            format!("`{name}` has no action: give one of {}, or a list of them", ACTIONS.join(", ")),
        );
        return Vec::new();
    };
    let Some(items) = names(v) else {
        let found = type_name(v.get_ref());
        doc.report(
            Lint::FieldAction,
            v.span().start,
            format!("`{name}.action` must be a string or an array of strings, found {found}"),
        );
        return Vec::new();
    };
    let mut actions: Vec<String> = Vec::new();
    let mut ok = true;
    for (action, at) in &items {
        if !ACTIONS.contains(&action.as_str()) {
            ok = false;
            doc.report(
                Lint::FieldAction,
                *at,
                format!("unknown action `{action}` for `{name}`: expected {}", ACTIONS.join(", ")),
            );
        } else if !actions.contains(action) {
            actions.push(action.clone());
        }
    }
    if items.is_empty() {
        doc.report(Lint::FieldAction, v.span().start, format!("`{name}.action` is an empty list"));
        ok = false;
    }
    if actions.len() > 1 && actions.iter().any(|a| a == "drop") {
        doc.report(
            Lint::FieldAction,
            v.span().start,
            format!("`{name}`: `drop` cannot be combined with another action (a dropped field keeps nothing)"),
        );
        ok = false;
    }
    // Fail closed: a field whose actions are in doubt keeps nothing.
    if ok { actions } else { Vec::new() }
}

/// The coarsenings of a field, checked against its action and its column's kind.
fn read_generalise(doc: &mut Doc<'_>, table: Table<'_, '_>, action: bool, column: Option<&Column>) -> Vec<Coarsening> {
    let name = table.name;
    let all: Vec<&str> = Coarsening::ALL.iter().map(|c| c.as_str()).collect();
    let Some(v) = table.get("generalise") else {
        if action {
            doc.report(
                Lint::FieldGeneralise,
                table.start,
                format!("`{name}` has the action `generalise` but no `generalise` key: name one of {}", all.join(", ")),
            );
        }
        return Vec::new();
    };
    if !action {
        doc.report(
            Lint::FieldGeneralise,
            v.span().start,
            format!("`{name}.generalise` is given but the action does not include `generalise`"),
        );
    }
    let Some(items) = names(v) else {
        let found = type_name(v.get_ref());
        doc.report(
            Lint::FieldGeneralise,
            v.span().start,
            format!("`{name}.generalise` must be a string or an array of strings, found {found}"),
        );
        return Vec::new();
    };
    if items.is_empty() {
        doc.report(Lint::FieldGeneralise, v.span().start, format!("`{name}.generalise` is an empty list"));
    }
    let mut out = Vec::new();
    for (item, at) in items {
        let Some(how) = Coarsening::parse(&item) else {
            doc.report(
                Lint::FieldGeneralise,
                at,
                format!("unknown coarsening `{item}` for `{name}`: expected {}", all.join(", ")),
            );
            continue;
        };
        if let Some(col) = column
            && !how.applies_to(&col.kind)
        {
            doc.report(
                Lint::FieldGeneralise,
                at,
                format!("`{item}` does not apply to `{name}`, a {}", col.kind.describe()),
            );
            continue;
        }
        out.push(how);
    }
    if !action {
        return Vec::new();
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// A string or an array of strings, each with its offset; `None` for any other shape.
fn names(v: &Spanned<DeValue<'_>>) -> Option<Vec<(String, usize)>> {
    match v.get_ref() {
        DeValue::String(s) => Some(vec![(s.to_string(), v.span().start)]),
        DeValue::Array(items) => items
            .iter()
            .map(|i| match i.get_ref() {
                DeValue::String(s) => Some((s.to_string(), i.span().start)),
                _ => None,
            })
            .collect(),
        _ => None,
    }
}
