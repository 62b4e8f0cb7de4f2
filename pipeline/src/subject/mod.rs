//! Data subjects' rights: find every record the hub holds about one person, and erase them where
//! the agreement allows it.
//!
//! An authorised officer types the person's identifiers; they are checked and normalised exactly
//! as the pipeline normalises a partner's values, then turned into the same keyed tokens, so the
//! lookup compares pseudonyms with pseudonyms and no clear identifier is written anywhere. A
//! record matches on a strong identifier (NHS number, UPN or PNC ID), or on forename, surname,
//! date of birth and postcode together. The lookup is audited (officer, reference, counts),
//! never with the identifiers.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use arrow_array::cast::AsArray;
use arrow_array::{Array, FixedSizeBinaryArray, RecordBatch};
use tellonce_connectors::parquet_sink::SinkError;
use tellonce_governance::agreement::AgreementSet;
use tellonce_governance::audit::{self, AuditError, AuditLog, Event};
use tellonce_governance::{KeyRing, Purpose, Tokeniser};
use tellonce_schemas::identifiers::dates;
use tellonce_schemas::standard as person;
use tellonce_schemas::{Column, Value, staging};

use tellonce_governance::audit::holdings::{HeldFile, held_files};
use tellonce_output::layout::{AUDIT, HISTORY, STAGING};
use tellonce_output::lock::{Access, lock_output};
use tellonce_output::rewrite::RewriteError;

mod erasure;
mod one_person;

use one_person::{NAMES, Route, RowMatch, STABLE};

/// Why a lookup cannot be made.
#[derive(Debug, thiserror::Error)]
pub enum SubjectError {
    /// A line of the identifiers is not `name=value` with a known name.
    #[error("identifiers line {line}: {message}")]
    Input {
        /// 1-based line.
        line: usize,
        /// What is wrong (never the value).
        message: String,
    },
    /// An identifier fails its check.
    #[error("identifier {name} is not valid: {rule}")]
    Invalid {
        /// The identifier's name.
        name: &'static str,
        /// The rule broken.
        rule: &'static str,
    },
    /// The identifiers given do not describe one person (see [`SubjectTokens::judge`]): refused
    /// before anything is listed or erased, and audited as a refused lookup.
    #[error("refused: the identifiers given do not describe one person: {reason}")]
    Contradiction {
        /// Which identifiers disagree, never their values.
        reason: String,
    },
    /// The officer or the case reference is empty or blank: an unattributable lookup.
    #[error("--{0} is empty; every lookup is audited with the officer making it and the request's case reference")]
    Unattributed(&'static str),
    /// Too little to identify one person.
    #[error(
        "not enough to identify a person: give nhs_number, upn or pnc_id, or all of forename, surname, \
         date_of_birth and postcode"
    )]
    TooLittle,
    /// The audit log cannot be read or appended to.
    #[error(transparent)]
    Audit(#[from] AuditError),
    /// A staging file cannot be read.
    #[error("cannot read {}: {message}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        message: String,
    },
    /// A staging file cannot be rewritten.
    #[error(transparent)]
    Sink(#[from] SinkError),
    /// A file differs from what the audit log recorded: it is not touched.
    #[error(
        "{path} differs from the SHA-256 the audit log recorded for it; nothing was erased from it: run `tellonce \
         audit verify` and investigate"
    )]
    Tampered {
        /// The file, relative to the output root.
        path: String,
    },
    /// The linkage identity index cannot be read or rewritten without the erased records.
    #[error(transparent)]
    Link(#[from] tellonce_build::link::LinkError),
    /// Another tellonce process holds the output directory.
    #[error("{0}")]
    Busy(String),
}

/// The identifiers an officer may give, with the feed column whose checks and token they share.
const IDENTIFIERS: [&Column; 7] = [
    &person::NHS_NUMBER,
    &person::UPN,
    &person::PNC_ID,
    &person::FORENAME,
    &person::SURNAME,
    &person::DATE_OF_BIRTH,
    &person::POSTCODE,
];

/// Identifiers that on their own single out a person.
const STRONG: [&str; 3] = ["nhs_number", "upn", "pnc_id"];

/// Identifiers that together single out a person.
const COMBINED: [&str; 4] = ["forename", "surname", "date_of_birth", "postcode"];

/// A person's identifiers as keyed tokens, by column name.
#[derive(Debug)]
pub struct SubjectTokens {
    tokens: BTreeMap<&'static str, [u8; 16]>,
}

impl SubjectTokens {
    /// Reads `name=value` lines (blank lines and `#` comments skipped), checks each value as
    /// the pipeline would and derives its token. Errors name the line or identifier, never the
    /// value.
    pub fn parse(text: &str, tokeniser: &Tokeniser) -> Result<SubjectTokens, SubjectError> {
        let mut tokens = BTreeMap::new();
        let mut given: Vec<&'static str> = Vec::new();
        let mut twice: Option<&'static str> = None;
        for (i, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let Some((name, value)) = line.split_once('=') else {
                return Err(SubjectError::Input { line: i + 1, message: "expected name=value".to_owned() });
            };
            let name = name.trim();
            let Some(col) = IDENTIFIERS.iter().find(|c| c.name == name) else {
                let known: Vec<&str> = IDENTIFIERS.iter().map(|c| c.name).collect();
                // What was typed before `=` may be a value typed in the wrong place: it is named
                // only if the one rule for printing names found in input allows it.
                let plain = tellonce_schemas::printable::is_printable_column_name(name);
                let what = if plain { format!("unknown identifier {name:?}") } else { "unknown identifier".to_owned() };
                return Err(SubjectError::Input {
                    line: i + 1,
                    message: format!("{what}; expected one of {}", known.join(", ")),
                });
            };
            // A name given twice (even with the same value, even empty) is refused once every
            // line has been checked: which value the officer meant is not for us to guess.
            if given.contains(&col.name) {
                twice.get_or_insert(col.name);
            }
            given.push(col.name);
            let value = value.trim();
            if value.is_empty() {
                continue;
            }
            let mut scratch = String::new();
            let checked = col
                .kind
                .check_with(value, &mut scratch)
                .map_err(|rule| SubjectError::Invalid { name: col.name, rule: rule.code() })?;
            let token = match checked {
                Value::Text(s) => tokeniser.token(col.name, s.as_bytes()),
                Value::Date(d) => {
                    let mut iso = [0u8; 10];
                    dates::write_iso(d, &mut iso);
                    tokeniser.token(col.name, &iso)
                }
                _ => return Err(SubjectError::Invalid { name: col.name, rule: "identifier.kind" }),
            };
            tokens.insert(col.name, token);
        }
        if let Some(name) = twice {
            return Err(SubjectError::Contradiction { reason: format!("{name} is given more than once") });
        }
        let strong = STRONG.iter().any(|n| tokens.contains_key(n));
        let combined = COMBINED.iter().all(|n| tokens.contains_key(n));
        if !strong && !combined {
            return Err(SubjectError::TooLittle);
        }
        Ok(SubjectTokens { tokens })
    }

    /// The routes this lookup can find records by: each strong identifier given, and the
    /// combination when all four of its parts are given.
    fn routes(&self) -> Vec<Route> {
        let mut routes: Vec<Route> =
            STRONG.iter().copied().filter(|n| self.tokens.contains_key(n)).map(Route::Strong).collect();
        if COMBINED.iter().all(|n| self.tokens.contains_key(n)) {
            routes.push(Route::Combined);
        }
        routes
    }

    /// Which rows of a staging batch are this person's: the routes each matched by, and the
    /// stable identifiers given whose token it carries with another value.
    fn matches(&self, batch: &RecordBatch) -> Vec<Option<RowMatch>> {
        let column = |name: &str| -> Option<&FixedSizeBinaryArray> {
            batch.column_by_name(&format!("{name}_token"))?.as_fixed_size_binary_opt()
        };
        let mut out: Vec<Option<RowMatch>> = vec![None; batch.num_rows()];
        let mut add = |row: usize, route: Route| {
            out[row].get_or_insert_with(RowMatch::default).routes.push(route);
        };
        for name in STRONG {
            let (Some(want), Some(col)) = (self.tokens.get(name), column(name)) else { continue };
            for row in 0..batch.num_rows() {
                if col.is_valid(row) && col.value(row) == want {
                    add(row, Route::Strong(name));
                }
            }
        }
        let combined: Option<Vec<(&[u8; 16], &FixedSizeBinaryArray)>> =
            COMBINED.iter().map(|n| Some((self.tokens.get(n)?, column(n)?))).collect();
        if let Some(pairs) = combined {
            for row in 0..batch.num_rows() {
                if pairs.iter().all(|(want, col)| col.is_valid(row) && col.value(row) == *want) {
                    add(row, Route::Combined);
                }
            }
        }
        for stable in STABLE {
            let (Some(want), Some(col)) = (self.tokens.get(stable), column(stable)) else { continue };
            for (row, m) in out.iter_mut().enumerate() {
                if let Some(m) = m
                    && col.is_valid(row)
                    && col.value(row) != want
                {
                    m.disagree.push(stable);
                }
            }
        }
        for name in NAMES {
            let (Some(want), Some(col)) = (self.tokens.get(name), column(name)) else { continue };
            for (row, m) in out.iter_mut().enumerate() {
                if let Some(m) = m
                    && col.is_valid(row)
                {
                    m.names.push((name, col.value(row) == want));
                }
            }
        }
        out
    }
}

/// One record held about the person.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Holding {
    /// The dataset.
    pub dataset: String,
    /// The file, relative to the output root.
    pub file: String,
    /// The feed the record came from.
    pub feed: String,
    /// The partner's input it came from, and its line or offset there.
    pub source: String,
    /// Line (or offset) in that input.
    pub position: u64,
    /// The partner's record reference, where the agreement lets it pass.
    pub record_id: Option<String>,
    /// The agreement it is held under (`id@version`).
    pub agreement: String,
    /// The clauses of that agreement covering the fields held, `field: clause`.
    pub clauses: Vec<String>,
    /// What it matched on.
    pub matched_on: String,
    /// When the file holding it was written.
    pub held_since: String,
    /// When it falls due for deletion, `YYYY-MM-DD`.
    pub delete_by: Option<String>,
    /// Whether the agreement lets it be erased on request.
    pub erasable: bool,
}

/// The outcome of a lookup.
#[derive(Debug, serde::Serialize)]
pub struct Lookup {
    /// Every record found.
    pub holdings: Vec<Holding>,
    /// Records erased (with `--erase`).
    pub erased: u64,
    /// Records found and kept because their agreement does not allow erasure.
    pub kept: u64,
}

/// Who asked, for the audit log.
#[derive(Debug, Clone)]
pub struct Request {
    /// The officer making the lookup.
    pub officer: String,
    /// The case reference of the request.
    pub reference: String,
    /// Erase what the agreements allow, instead of only listing.
    pub erase: bool,
}

/// Finds (and with `request.erase`, erases) every staging record held about the person.
///
/// Every record found is judged first ([`SubjectTokens::judge`]): if the identifiers given do
/// not describe one person, nothing is listed or erased, the lookup is audited as refused
/// (`access_refused` or `erasure_refused`, officer and reference only) and
/// [`SubjectError::Contradiction`] says which identifiers disagree.
pub fn lookup(
    out: &Path,
    keys: &KeyRing,
    agreements: &AgreementSet,
    identifiers: &str,
    request: &Request,
) -> Result<Lookup, SubjectError> {
    request.check_attributed()?;
    // A malformed line or too little is refused unaudited (nothing was looked up); a
    // contradiction is a lookup refused, and audited as such.
    let parsed = match SubjectTokens::parse(identifiers, &keys.tokeniser(Purpose::Linkage)) {
        Ok(s) => Ok(s),
        Err(SubjectError::Contradiction { reason }) => Err(reason),
        Err(e) => return Err(e),
    };
    let _lock = lock_output(out, Access::Exclusive).map_err(|e| SubjectError::Busy(e.to_string()))?;
    let mut log = open_audit_log(out, keys)?;
    let subject = match parsed {
        Ok(s) => s,
        Err(reason) => return Err(refuse(&mut log, request, reason)),
    };
    let entries = audit::read_entries(&out.join(AUDIT))?;
    // First every file is searched, then the whole is judged, and only then is anything erased.
    let scanned = scan_staging(out, &entries, &subject, agreements)?;
    let persons = persons_found(out, &entries, &subject, &scanned)?;
    if let Err(reason) = subject.judge(&judged(&scanned, &persons)) {
        return Err(refuse(&mut log, request, reason));
    }
    let result = settle(out, scanned, request, &mut log)?;
    record_lookup(&mut log, request, request.kind(), result.holdings.len() as u64, result.erased)?;
    Ok(result)
}

impl Request {
    /// Refuses a lookup with no officer or no case reference.
    fn check_attributed(&self) -> Result<(), SubjectError> {
        if self.officer.trim().is_empty() {
            return Err(SubjectError::Unattributed("officer"));
        }
        if self.reference.trim().is_empty() {
            return Err(SubjectError::Unattributed("reference"));
        }
        Ok(())
    }

    /// The kind of lookup, as the audit log names it.
    fn kind(&self) -> &'static str {
        if self.erase { "erasure" } else { "access" }
    }
}

/// The audit log, once the temporary files a crashed session left are cleared and recorded.
fn open_audit_log(out: &Path, keys: &KeyRing) -> Result<AuditLog, SubjectError> {
    let mut log = AuditLog::open(&out.join(AUDIT), keys.audit_signer())?;
    tellonce_output::strays::clear_and_record(out, Access::Exclusive, &mut log).map_err(|e| match e {
        tellonce_output::strays::RecordedClearError::Clear(e) => {
            SubjectError::Read { path: e.path, message: e.source.to_string() }
        }
        tellonce_output::strays::RecordedClearError::Audit(e) => e.into(),
    })?;
    Ok(log)
}

/// Audits the lookup (officer, reference, kind and counts, never an identifier), durably.
fn record_lookup(log: &mut AuditLog, request: &Request, kind: &str, found: u64, erased: u64) -> Result<(), AuditError> {
    log.append(&Event::SubjectLookup {
        officer: request.officer.clone(),
        reference: request.reference.clone(),
        kind: kind.to_owned(),
        records_found: found,
        records_erased: erased,
    })?;
    log.sync()
}

/// Audits the lookup as refused and returns the contradiction to report, or the audit error
/// if the refusal cannot be recorded.
fn refuse(log: &mut AuditLog, request: &Request, reason: String) -> SubjectError {
    match record_lookup(log, request, &format!("{}_refused", request.kind()), 0, 0) {
        Ok(()) => SubjectError::Contradiction { reason },
        Err(e) => SubjectError::Audit(e),
    }
}

/// One staging file holding records of the person.
struct Scanned {
    file: HeldFile,
    /// Whether its agreement lets its records be erased on request.
    erasable: bool,
    found: Vec<Found>,
}

/// Every staging file the audit log records that holds records of the person, with those rows.
fn scan_staging(
    out: &Path,
    entries: &[audit::Entry],
    subject: &SubjectTokens,
    agreements: &AgreementSet,
) -> Result<Vec<Scanned>, SubjectError> {
    let mut scanned = Vec::new();
    // Earlier versions of a person's records, moved to history, are theirs too.
    for file in held_files(entries).into_values().filter(|f| f.dataset == STAGING || f.dataset == HISTORY) {
        if !file.on_disk(out).exists() {
            // Recorded but gone: `audit verify` reports it; the other files are still searched.
            tracing::warn!(file = %file.path, "a staging file the audit log records is missing; run `audit verify`");
            continue;
        }
        let erasable =
            file.agreement.as_deref().and_then(|label| agreements.by_label(label)).is_some_and(|a| a.erasure);
        let found = scan(out, &file, subject, agreements, erasable)?;
        if !found.is_empty() {
            scanned.push(Scanned { file, erasable, found });
        }
    }
    Ok(scanned)
}

/// (feed, record reference) of every record found that has a reference.
fn record_refs<'s>(scanned: impl Iterator<Item = &'s Scanned>) -> HashSet<(String, String)> {
    scanned.flat_map(|s| s.found.iter().filter_map(|f| Some((f.holding.feed.clone(), f.record_ref.clone()?)))).collect()
}

/// The `person_id` the last build gave each record found, when the lookup could find records
/// by more than one route (otherwise there is nothing for the ids to reconcile).
fn persons_found(
    out: &Path,
    entries: &[audit::Entry],
    subject: &SubjectTokens,
    scanned: &[Scanned],
) -> Result<HashMap<(String, String), String>, SubjectError> {
    if subject.routes().len() > 1 {
        linked_persons(out, entries, &record_refs(scanned.iter()))
    } else {
        Ok(HashMap::new())
    }
}

/// Each row found, with how it matched and the `person_id` the last build gave it, if any: what
/// [`SubjectTokens::judge`] weighs.
fn judged<'s>(
    scanned: &'s [Scanned],
    persons: &'s HashMap<(String, String), String>,
) -> Vec<(&'s RowMatch, Option<&'s str>)> {
    scanned
        .iter()
        .flat_map(|s| s.found.iter())
        .map(|f| {
            let person = f.record_ref.as_ref().and_then(|r| persons.get(&(f.holding.feed.clone(), r.clone())));
            (&f.matched, person.map(String::as_str))
        })
        .collect()
}

/// Lists what was found and, for an erasure, erases what the agreements allow, file by file.
fn settle(out: &Path, scanned: Vec<Scanned>, request: &Request, log: &mut AuditLog) -> Result<Lookup, SubjectError> {
    if request.erase {
        // The identity index stops naming the records before they go (as retention does).
        tellonce_build::link::index::forget(out, &record_refs(scanned.iter().filter(|s| s.erasable)))?;
    }
    let mut result = Lookup { holdings: Vec::new(), erased: 0, kept: 0 };
    for Scanned { file, erasable, found } in scanned {
        let rows: Vec<u64> = found.iter().map(|f| f.row).collect();
        if request.erase && erasable {
            erasure::erase_file(out, &file, &rows, log)?;
            result.erased += rows.len() as u64;
        } else {
            result.kept += rows.len() as u64;
        }
        result.holdings.extend(found.into_iter().map(|f| f.holding));
    }
    Ok(result)
}

/// The `person_id` the last build gave each of `wanted` (feed, record reference), from the
/// `links/` files the audit log records; empty when there is no build yet.
fn linked_persons(
    out: &Path,
    entries: &[audit::Entry],
    wanted: &HashSet<(String, String)>,
) -> Result<HashMap<(String, String), String>, SubjectError> {
    let mut persons = HashMap::new();
    if wanted.is_empty() {
        return Ok(persons);
    }
    for file in held_files(entries).into_values().filter(|f| f.dataset == tellonce_build::link::output::LINKS) {
        let path = file.on_disk(out);
        if !path.exists() {
            continue;
        }
        let feed = file.feed.clone().unwrap_or_default();
        for batch in read_batches(&path)?.batches {
            let (Some(refs), Some(ids)) = (
                batch.column_by_name("record_ref").and_then(|c| c.as_string_opt::<i32>()),
                batch.column_by_name("person_id").and_then(|c| c.as_string_opt::<i32>()),
            ) else {
                continue;
            };
            for row in 0..batch.num_rows() {
                if refs.is_valid(row) && ids.is_valid(row) {
                    let key = (feed.clone(), refs.value(row).to_owned());
                    if wanted.contains(&key) {
                        persons.insert(key, ids.value(row).to_owned());
                    }
                }
            }
        }
    }
    Ok(persons)
}

impl From<RewriteError> for SubjectError {
    fn from(e: RewriteError) -> Self {
        match e {
            RewriteError::Read { path, message } => SubjectError::Read { path, message },
            RewriteError::Sink(e) => SubjectError::Sink(e),
            RewriteError::Tampered { path } => SubjectError::Tampered { path },
        }
    }
}

/// Reads every batch of a Parquet file.
fn read_batches(path: &Path) -> Result<tellonce_output::rewrite::FileContent, SubjectError> {
    Ok(tellonce_output::rewrite::read_parquet(path)?)
}

/// One staging row found.
struct Found {
    /// Its number across the file.
    row: u64,
    /// What is reported about it.
    holding: Holding,
    /// How it matched.
    matched: RowMatch,
    /// Its reference as the linkage build names it (`record_id`, or its token in hex).
    record_ref: Option<String>,
}

/// The rows of one staging file that are the person's, numbered across the file.
fn scan(
    out: &Path,
    file: &HeldFile,
    subject: &SubjectTokens,
    agreements: &AgreementSet,
    erasable: bool,
) -> Result<Vec<Found>, SubjectError> {
    let batches = read_batches(&file.on_disk(out))?.batches;
    let agreement = file.agreement.as_deref().and_then(|l| agreements.by_label(l));
    let feed = file.feed.clone().unwrap_or_default();
    let mut found = Vec::new();
    let mut offset = 0u64;
    for batch in &batches {
        let refs = tellonce_build::link::input::RecordRefs::of(batch);
        for (row, matched) in subject.matches(batch).into_iter().enumerate() {
            let Some(matched) = matched else { continue };
            let matched_on = matched.routes.iter().map(|r| r.name()).collect::<Vec<_>>().join(" and ");
            let text = |name: &str| {
                batch
                    .column_by_name(name)
                    .and_then(|c| c.as_string_opt::<i32>())
                    .and_then(|c| c.is_valid(row).then(|| c.value(row).to_owned()))
            };
            let position = batch
                .column_by_name(staging::POSITION)
                .and_then(|c| c.as_primitive_opt::<arrow_array::types::UInt64Type>())
                .map_or(0, |c| c.value(row));
            let clauses = agreement
                .and_then(|a| a.feeds.get(&feed))
                .map(|terms| {
                    terms
                        .fields
                        .iter()
                        .filter(|(_, t)| !t.treatment.is_drop())
                        .map(|(name, t)| format!("{name}: {}", t.clause.as_deref().unwrap_or("-")))
                        .collect()
                })
                .unwrap_or_default();
            let record_ref = Some(refs.get(row));
            found.push(Found {
                row: offset + row as u64,
                holding: Holding {
                    dataset: file.dataset.clone(),
                    file: file.path.clone(),
                    feed: feed.clone(),
                    source: text(staging::SOURCE).unwrap_or_default(),
                    position,
                    record_id: text("record_id"),
                    agreement: text(staging::AGREEMENT).or_else(|| file.agreement.clone()).unwrap_or_default(),
                    clauses,
                    matched_on,
                    held_since: file.written_at.clone(),
                    delete_by: file.retention_until.map(dates::format),
                    erasable,
                },
                matched,
                record_ref,
            });
        }
        offset += batch.num_rows() as u64;
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_given_twice_is_a_contradiction_even_with_the_same_value() {
        let tokeniser = KeyRing::from_master([7u8; 32]).tokeniser(Purpose::Linkage);
        let err = SubjectTokens::parse("nhs_number=9434765919\nnhs_number = 9434765919\n", &tokeniser).unwrap_err();
        assert!(
            matches!(&err, SubjectError::Contradiction { reason } if reason == "nhs_number is given more than once")
        );
        assert!(!err.to_string().contains("9434765919"), "{err}");
        let err = SubjectTokens::parse("upn=\nupn=B801200005001\n", &tokeniser).unwrap_err();
        assert!(matches!(err, SubjectError::Contradiction { .. }), "{err:?}");
    }
}
