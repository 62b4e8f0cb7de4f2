//! One agreement file read into a draft [`Agreement`], with every problem found in it.
//!
//! The draft exists even when there are errors, so that the checks across files (duplicates,
//! overlaps) can still run and every problem is reported in one pass; only drafts without
//! errors become agreements.

use std::collections::BTreeMap;
use std::path::Path;

use ring::digest::{SHA256, digest};
use tellonce_schemas::column::Sensitivity;
use tellonce_schemas::identifiers::dates;
use toml::de::{DeTable, DeValue};

use super::model::{Agreement, Condition, Party, PartyRole, Signatory};
use super::position::Position;
use super::problem::{Lint, Problem};
use super::read::{Doc, Table};
use super::terms::{FeedsRead, read_feeds};

const TOP_KEYS: &[&str] = &[
    "id",
    "version",
    "title",
    "purposes",
    "legal_gateways",
    "dpia",
    "recipients",
    "dates",
    "retention",
    "rights",
    "lawful_basis",
    "parties",
    "signatories",
    "feeds",
];
const DATES_KEYS: &[&str] = &["start", "review", "end"];
const RETENTION_KEYS: &[&str] = &["months", "basis"];
const RIGHTS_KEYS: &[&str] = &["erasure", "contact"];
const BASIS_KEYS: &[&str] = &["article6", "article9", "article10"];
const CONDITION_KEYS: &[&str] = &["condition", "schedule1", "policy_document"];
const PARTY_KEYS: &[&str] = &["name", "role"];
const SIGNATORY_KEYS: &[&str] = &["party", "role", "signed"];

/// Longest retention an agreement may set: 100 years.
pub(crate) const MAX_RETENTION_MONTHS: i64 = 1200;

/// An agreement as read from one file, possibly with errors, and where its parts are.
pub(crate) struct Draft {
    /// The agreement; fields with problems hold placeholders.
    pub(crate) agreement: Agreement,
    /// Whether the id and version were read without problems.
    pub(crate) identity_ok: bool,
    /// Where the id is.
    pub(crate) id_position: Position,
    /// Whether all three dates were read.
    pub(crate) dates_ok: bool,
    /// Where the review date is.
    pub(crate) review_position: Position,
    /// Where each feed is named.
    pub(crate) feed_positions: BTreeMap<String, Position>,
    /// Every problem found in the file alone.
    pub(crate) problems: Vec<Problem>,
}

impl Draft {
    /// Whether any problem found so far is an error.
    pub(crate) fn has_errors(&self) -> bool {
        self.problems.iter().any(Problem::is_error)
    }
}

/// Reads the agreement file at `path` holding `bytes`. `Err` holds the problems of a file that
/// is not TOML at all: no draft can be made of it.
pub(crate) fn read(path: &Path, bytes: &[u8]) -> Result<Draft, Vec<Problem>> {
    let sha256 = hex::encode(digest(&SHA256, bytes));
    let Ok(text) = std::str::from_utf8(bytes) else {
        return Err(vec![Problem::new(path, Position::START, Lint::TomlSyntax, "invalid TOML: the file is not UTF-8")]);
    };
    let mut doc = Doc::new(path, text);
    let (root, errors) = DeTable::parse_recoverable(text);
    if !errors.is_empty() {
        let mut found: Vec<(usize, String)> =
            errors.iter().map(|e| (e.span().map_or(0, |s| s.start), e.message().to_owned())).collect();
        found.sort();
        found.dedup();
        for (offset, message) in found {
            doc.report(Lint::TomlSyntax, offset, format!("invalid TOML: {message}"));
        }
        return Err(doc.problems);
    }
    let root = Table { table: root.get_ref(), start: 0, name: "" };
    doc.unknown_keys(root, TOP_KEYS);

    let mut agreement = empty(path, sha256);
    let (identity_ok, id_offset) = read_identity(&mut doc, root, &mut agreement);
    agreement.title = doc.string(root, "title", Some("one line saying who shares with whom")).unwrap_or_default();
    agreement.purposes = doc.string_list(root, "purposes", "name at least one purpose (purpose limitation)");
    agreement.legal_gateways =
        doc.string_list(root, "legal_gateways", "name at least one statutory gateway, e.g. Children Act 2004 s10");
    agreement.dpia =
        doc.string(root, "dpia", Some("the reference of the DPIA (data matching needs one)")).unwrap_or_default();
    agreement.recipients = doc.string_list(root, "recipients", "name at least one recipient of what is derived");

    let (dates_ok, review_offset) = read_dates(&mut doc, root, &mut agreement);
    read_retention(&mut doc, root, &mut agreement);
    read_rights(&mut doc, root, &mut agreement);
    let basis = read_basis(&mut doc, root, &mut agreement);
    let party_names = read_parties(&mut doc, root, &mut agreement);
    read_signatories(&mut doc, root, &mut agreement, &party_names);
    let feeds = read_feeds(&mut doc, root);
    check_conditions(&mut doc, &agreement, &feeds, basis);

    agreement.feeds = feeds.feeds;
    Ok(Draft {
        agreement,
        identity_ok,
        id_position: doc.position(id_offset),
        dates_ok,
        review_position: doc.position(review_offset),
        feed_positions: feeds.positions,
        problems: doc.problems,
    })
}

fn empty(path: &Path, sha256: String) -> Agreement {
    Agreement {
        id: String::new(),
        version: 0,
        title: String::new(),
        file: path.to_path_buf(),
        sha256,
        purposes: Vec::new(),
        legal_gateways: Vec::new(),
        dpia: String::new(),
        recipients: Vec::new(),
        start: 0,
        review: 0,
        end: 0,
        retention_months: 0,
        retention_basis: None,
        erasure: false,
        contact: None,
        article6: String::new(),
        article9: None,
        article10: None,
        parties: Vec::new(),
        signatories: Vec::new(),
        feeds: BTreeMap::new(),
    }
}

/// Whether an id is made only of `[A-Za-z0-9._-]` (it is written into file names and columns).
pub(crate) fn valid_id(id: &str) -> bool {
    !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// Reads `id` and `version`; returns whether both are sound and where the id is.
fn read_identity(doc: &mut Doc<'_>, root: Table<'_, '_>, agreement: &mut Agreement) -> (bool, usize) {
    let id_offset = root.get("id").map_or(0, |v| v.span().start);
    let mut ok = true;
    match doc.string(root, "id", Some("the agreement's stable identifier, e.g. ISA-POL-2025")) {
        Some(id) if valid_id(&id) => agreement.id = id,
        Some(id) => {
            ok = false;
            agreement.id = id;
            doc.report(Lint::Id, id_offset, "`id` may hold only letters, digits, `.`, `_` and `-`");
        }
        None => ok = false,
    }
    match doc.integer(root, "version", Some("the agreement's version, from 1")) {
        Some((v, at)) => match u32::try_from(v) {
            Ok(v) if v >= 1 => agreement.version = v,
            _ => {
                ok = false;
                doc.report(Lint::Version, at, "`version` must be a whole number of at least 1");
            }
        },
        None => ok = false,
    }
    (ok, id_offset)
}

/// Reads `[dates]`; returns whether all three dates were read, and where the review date is.
fn read_dates(doc: &mut Doc<'_>, root: Table<'_, '_>, agreement: &mut Agreement) -> (bool, usize) {
    let Some(dates) = doc.table(root, "dates", "dates") else {
        if root.get("dates").is_none() {
            doc.missing(root, "dates", "a [dates] table with start, review and end");
        }
        return (false, 0);
    };
    doc.unknown_keys(dates, DATES_KEYS);
    let start = doc.date(dates, "start", "the first day the agreement governs sharing");
    let review = doc.date(dates, "review", "the day by which the parties review the agreement");
    let end = doc.date(dates, "end", "the last day the agreement governs sharing");
    let review_offset = review.map_or(dates.start, |(_, at)| at);
    let (Some((start, _)), Some((review, review_at)), Some((end, end_at))) = (start, review, end) else {
        return (false, review_offset);
    };
    agreement.start = start;
    agreement.review = review;
    agreement.end = end;
    if review < start {
        let message = format!(
            "dates must run start <= review <= end: review {} is before start {}",
            dates::format(review),
            dates::format(start)
        );
        doc.report(Lint::DatesOrder, review_at, message);
    }
    if end < review {
        let message = format!(
            "dates must run start <= review <= end: end {} is before review {}",
            dates::format(end),
            dates::format(review)
        );
        doc.report(Lint::DatesOrder, end_at, message);
    }
    (true, review_offset)
}

fn read_retention(doc: &mut Doc<'_>, root: Table<'_, '_>, agreement: &mut Agreement) {
    const WHAT: &str = "outputs are kept for a number of months agreed before sharing";
    let Some(retention) = doc.table(root, "retention", "retention") else {
        if root.get("retention").is_none() {
            doc.report(
                Lint::RetentionMissing,
                0,
                format!("no [retention] table: `retention.months` is required ({WHAT})"),
            );
        }
        return;
    };
    doc.unknown_keys(retention, RETENTION_KEYS);
    agreement.retention_basis = doc.string(retention, "basis", None);
    if retention.get("months").is_none() {
        doc.report(Lint::RetentionMissing, retention.start, format!("`retention.months` is required ({WHAT})"));
        return;
    }
    let Some((months, at)) = doc.integer(retention, "months", None) else {
        return;
    };
    if months == 0 {
        doc.report(Lint::RetentionMissing, at, format!("`retention.months` is 0: {WHAT}"));
    } else if !(1..=MAX_RETENTION_MONTHS).contains(&months) {
        doc.report(
            Lint::RetentionRange,
            at,
            format!("`retention.months` must be between 1 and {MAX_RETENTION_MONTHS}"),
        );
    } else {
        agreement.retention_months = u32::try_from(months).unwrap_or(0);
    }
}

fn read_rights(doc: &mut Doc<'_>, root: Table<'_, '_>, agreement: &mut Agreement) {
    let Some(rights) = doc.table(root, "rights", "rights") else {
        return;
    };
    doc.unknown_keys(rights, RIGHTS_KEYS);
    // Erasure does not apply to processing under public task or legal obligation, the usual
    // bases here, so it is off unless the agreement says otherwise.
    agreement.erasure = doc.boolean(rights, "erasure").unwrap_or(false);
    agreement.contact = doc.string(rights, "contact", None);
}

/// Where the Article 9 and 10 conditions are written, for the checks that need them.
#[derive(Default)]
struct BasisAt {
    article9: Option<usize>,
    article10: Option<usize>,
}

fn read_basis(doc: &mut Doc<'_>, root: Table<'_, '_>, agreement: &mut Agreement) -> BasisAt {
    let mut at = BasisAt::default();
    let Some(basis) = doc.table(root, "lawful_basis", "lawful_basis") else {
        if root.get("lawful_basis").is_none() {
            doc.report(
                Lint::Article6Missing,
                0,
                "no [lawful_basis] table: an Article 6 basis is required before sharing (usually 6(1)(e) public task)",
            );
        }
        return at;
    };
    doc.unknown_keys(basis, BASIS_KEYS);
    match basis.get("article6") {
        None => doc.report(
            Lint::Article6Missing,
            basis.start,
            "`lawful_basis.article6` is required: an Article 6 basis before sharing (usually 6(1)(e) public task)",
        ),
        Some(v) => match v.get_ref() {
            DeValue::String(s) if !s.trim().is_empty() => agreement.article6 = s.trim().to_owned(),
            DeValue::String(_) => doc.report(Lint::Article6Missing, v.span().start, "`lawful_basis.article6` is empty"),
            _ => doc.wrong_type(basis, "article6", v, "a string"),
        },
    }
    agreement.article9 = read_condition(doc, basis, "article9", "lawful_basis.article9");
    at.article9 = basis.get("article9").map(|v| v.span().start);
    agreement.article10 = read_condition(doc, basis, "article10", "lawful_basis.article10");
    at.article10 = basis.get("article10").map(|v| v.span().start);
    at
}

/// An Article 9 or 10 condition: both the condition and the Schedule 1 paragraph are needed.
fn read_condition(doc: &mut Doc<'_>, basis: Table<'_, '_>, key: &str, name: &str) -> Option<Condition> {
    let table = doc.table(basis, key, name)?;
    doc.unknown_keys(table, CONDITION_KEYS);
    let condition =
        doc.string(table, "condition", Some("the condition relied on, e.g. 9(2)(g) substantial public interest"));
    let schedule1 = doc.string(table, "schedule1", Some("the DPA 2018 Schedule 1 paragraph, e.g. Part 2 para 18"));
    let policy_document = doc.string(table, "policy_document", None);
    Some(Condition { condition: condition?, schedule1: schedule1?, policy_document })
}

/// The tables of an array of tables under `key` (`[[parties]]`), or `None` if absent or
/// of another shape (reported).
fn tables<'a, 'i>(doc: &mut Doc<'_>, root: Table<'a, 'i>, key: &str) -> Option<(usize, Vec<(&'a DeTable<'i>, usize)>)> {
    let v = root.get(key)?;
    let DeValue::Array(items) = v.get_ref() else {
        doc.wrong_type(root, key, v, "an array of tables ([[...]])");
        return None;
    };
    let mut out = Vec::new();
    for item in items.iter() {
        match item.get_ref() {
            DeValue::Table(t) => out.push((t, item.span().start)),
            _ => doc.wrong_type(root, key, item, "an array of tables ([[...]])"),
        }
    }
    Some((v.span().start, out))
}

/// Reads `[[parties]]`; returns every party name given, including those of parties with
/// problems, so that their signatories are not reported as signing for nobody.
fn read_parties(doc: &mut Doc<'_>, root: Table<'_, '_>, agreement: &mut Agreement) -> Vec<String> {
    let mut names = Vec::new();
    let Some((at, items)) = tables(doc, root, "parties") else {
        if root.get("parties").is_none() {
            doc.report(Lint::PartyNone, 0, "no [[parties]]: an agreement names each organisation and its role");
        }
        return names;
    };
    if items.is_empty() {
        doc.report(Lint::PartyNone, at, "`parties` is empty: an agreement names each organisation and its role");
    }
    for (t, start) in items {
        let table = Table { table: t, start, name: "parties" };
        doc.unknown_keys(table, PARTY_KEYS);
        let name = doc.string(table, "name", Some("the organisation's name"));
        names.extend(name.clone());
        let role = match table.get("role") {
            None => {
                doc.missing(table, "role", "controller, joint_controller or processor");
                None
            }
            Some(v) => match v.get_ref() {
                DeValue::String(s) => {
                    let role = PartyRole::parse(s.trim());
                    if role.is_none() {
                        doc.report(
                            Lint::PartyRole,
                            v.span().start,
                            format!("unknown party role `{s}`: expected controller, joint_controller or processor"),
                        );
                    }
                    role
                }
                _ => {
                    doc.wrong_type(table, "role", v, "a string");
                    None
                }
            },
        };
        if let (Some(name), Some(role)) = (name, role) {
            agreement.parties.push(Party { name, role });
        }
    }
    names
}

fn read_signatories(doc: &mut Doc<'_>, root: Table<'_, '_>, agreement: &mut Agreement, parties: &[String]) {
    const DRAFT: &str = "nobody has signed: the agreement is a draft until each party signs";
    let Some((at, items)) = tables(doc, root, "signatories") else {
        if root.get("signatories").is_none() {
            doc.report(Lint::SignatoryNone, 0, format!("no [[signatories]]: {DRAFT}"));
        }
        return;
    };
    if items.is_empty() {
        doc.report(Lint::SignatoryNone, at, format!("`signatories` is empty: {DRAFT}"));
    }
    for (t, start) in items {
        let table = Table { table: t, start, name: "signatories" };
        doc.unknown_keys(table, SIGNATORY_KEYS);
        let party = doc.string(table, "party", Some("the party signed for"));
        if let Some(p) = &party
            && !parties.contains(p)
        {
            let at = table.get("party").map_or(start, |v| v.span().start);
            doc.report(
                Lint::SignatoryParty,
                at,
                format!("signatory signs for `{p}`, which is not one of the agreement's [[parties]]"),
            );
        }
        let role = doc.string(table, "role", Some("the signatory's role, e.g. Data Protection Officer"));
        let signed = doc.date(table, "signed", "the day it was signed");
        if let (Some(party), Some(role), Some((signed, _))) = (party, role, signed) {
            agreement.signatories.push(Signatory { party, role, signed });
        }
    }
}

/// A kept special category field needs an Article 9 condition, a kept criminal offence field an
/// Article 10 one; a condition with nothing to cover is flagged, as claiming more than needed.
fn check_conditions(doc: &mut Doc<'_>, agreement: &Agreement, feeds: &FeedsRead, at: BasisAt) {
    let mut needs9 = false;
    let mut needs10 = false;
    for s in &feeds.sensitive {
        match s.sensitivity {
            Sensitivity::SpecialCategory => {
                needs9 = true;
                if agreement.article9.is_none() {
                    doc.report(
                        Lint::Article9Missing,
                        s.offset,
                        format!(
                            "`{}` is special category data and is kept, but the agreement has no Article 9 condition \
                             with its Schedule 1 paragraph (`lawful_basis.article9`); drop the field or add one",
                            s.name
                        ),
                    );
                }
            }
            Sensitivity::CriminalOffence => {
                needs10 = true;
                if agreement.article10.is_none() {
                    doc.report(
                        Lint::Article10Missing,
                        s.offset,
                        format!(
                            "`{}` is criminal offence data and is kept, but the agreement has no Article 10 condition \
                             with its Schedule 1 paragraph (`lawful_basis.article10`); drop the field or add one",
                            s.name
                        ),
                    );
                }
            }
            Sensitivity::Personal => {}
        }
    }
    // Only judged when the feeds were read cleanly: otherwise a field dropped for an error
    // would make a needed condition look superfluous.
    if doc.has_errors() {
        return;
    }
    if let Some(offset) = at.article9
        && !needs9
    {
        doc.report(
            Lint::Article9Unneeded,
            offset,
            "`lawful_basis.article9` is given but no special category field is kept: \
             record only the conditions relied on",
        );
    }
    if let Some(offset) = at.article10
        && !needs10
    {
        doc.report(
            Lint::Article10Unneeded,
            offset,
            "`lawful_basis.article10` is given but no criminal offence field is kept: \
             record only the conditions relied on",
        );
    }
}
