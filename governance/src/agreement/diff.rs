//! What changes between two agreements (or two versions of one), so that a reviewer sees,
//! before signing, which fields are newly shared or withdrawn, how treatments change, and which
//! output columns appear or disappear.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::Path;

use tellonce_schemas::identifiers::dates;
use tellonce_schemas::{Treatment, feed, staging};

use super::error::AgreementError;
use super::load::{Loaded, load_path};
use super::model::Agreement;
use super::problem::Problem;
use super::words::{dataset, short};

/// A change to one of an agreement's terms other than its fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TermChange {
    /// What changed, e.g. `end date` or `recipient`.
    pub term: String,
    /// The old value; `None` when it is newly set or added.
    pub before: Option<String>,
    /// The new value; `None` when it is removed.
    pub after: Option<String>,
}

/// How one field's terms change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldChangeKind {
    /// Dropped before, kept now.
    Shared(Treatment),
    /// Kept before, dropped now.
    Withdrawn(Treatment),
    /// Kept before and now, differently.
    Changed {
        /// The old treatment.
        was: Treatment,
        /// The new treatment.
        now: Treatment,
    },
    /// Kept the same way under another clause.
    Clause {
        /// The old clause.
        was: Option<String>,
        /// The new clause.
        now: Option<String>,
    },
}

/// A change to one field of one feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldChange {
    /// The feed.
    pub feed: String,
    /// The field.
    pub field: String,
    /// What changes.
    pub kind: FieldChangeKind,
}

/// A staging column, named with its feed.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct OutputColumn {
    /// The feed whose staging dataset holds it.
    pub feed: String,
    /// The column.
    pub column: String,
}

/// Everything that changes between two versions of an agreement (or from nothing, for a new
/// one, or to nothing, for one withdrawn).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AgreementDiff {
    /// The agreement id.
    pub id: String,
    /// The old label (`ID@version`); `None` for a new agreement.
    pub old: Option<String>,
    /// The new label; `None` for a withdrawn agreement.
    pub new: Option<String>,
    /// Changes to dates, retention, recipients, basis and the other terms.
    pub terms: Vec<TermChange>,
    /// Feeds governed now and not before.
    pub feeds_added: Vec<String>,
    /// Feeds governed before and not now.
    pub feeds_removed: Vec<String>,
    /// Field changes, by feed then field.
    pub fields: Vec<FieldChange>,
    /// Staging columns written now and not before.
    pub columns_added: Vec<OutputColumn>,
    /// Staging columns written before and not now.
    pub columns_removed: Vec<OutputColumn>,
}

impl AgreementDiff {
    /// Whether nothing changes.
    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
            && self.feeds_added.is_empty()
            && self.feeds_removed.is_empty()
            && self.fields.is_empty()
            && self.columns_added.is_empty()
            && self.columns_removed.is_empty()
    }
}

/// What changes from `old` to `new`.
pub fn diff(old: &Agreement, new: &Agreement) -> AgreementDiff {
    compare(Some(old), Some(new))
}

/// The changes between two sets of agreements, matched by id (the highest version of each id
/// on each side): a new id is shown as wholly added, a missing one as wholly withdrawn.
pub fn diff_sets(old: &[Agreement], new: &[Agreement]) -> Vec<AgreementDiff> {
    let (old, new) = (latest(old), latest(new));
    let ids: BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    ids.into_iter().map(|id| compare(old.get(id).copied(), new.get(id).copied())).collect()
}

/// The changes between the agreements at two paths, each a file or a directory, with the
/// problems found in them (an agreement with errors is left out of the comparison).
pub fn diff_paths(old: &Path, new: &Path) -> Result<SetDiff, AgreementError> {
    let (old, new): (Loaded, Loaded) = (load_path(old)?, load_path(new)?);
    let agreements = diff_sets(&old.agreements, &new.agreements);
    Ok(SetDiff { agreements, problems: old.problems.into_iter().chain(new.problems).collect() })
}

/// The changes between two sets of agreement files.
#[derive(Debug, Clone, Default)]
pub struct SetDiff {
    /// One diff per agreement id, in id order.
    pub agreements: Vec<AgreementDiff>,
    /// Problems in either side's files.
    pub problems: Vec<Problem>,
}

impl fmt::Display for SetDiff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for p in &self.problems {
            writeln!(f, "{p}")?;
        }
        for d in &self.agreements {
            write!(f, "{d}")?;
        }
        Ok(())
    }
}

/// The highest version of each id.
fn latest(set: &[Agreement]) -> BTreeMap<String, &Agreement> {
    let mut by_id: BTreeMap<String, &Agreement> = BTreeMap::new();
    for a in set {
        let slot = by_id.entry(a.id.clone()).or_insert(a);
        if a.version > slot.version {
            *slot = a;
        }
    }
    by_id
}

fn compare(old: Option<&Agreement>, new: Option<&Agreement>) -> AgreementDiff {
    let mut d = AgreementDiff {
        id: old.or(new).map(|a| a.id.clone()).unwrap_or_default(),
        old: old.map(Agreement::label),
        new: new.map(Agreement::label),
        ..AgreementDiff::default()
    };
    compare_terms(&mut d.terms, old, new);

    let governed = |a: Option<&Agreement>| -> BTreeSet<String> {
        a.map(|a| a.feeds.keys().cloned().collect()).unwrap_or_default()
    };
    let (before, after) = (governed(old), governed(new));
    d.feeds_added = after.difference(&before).cloned().collect();
    d.feeds_removed = before.difference(&after).cloned().collect();
    for feed in before.union(&after) {
        compare_fields(&mut d.fields, feed, old, new);
        compare_columns(&mut d, feed, old, new);
    }
    d
}

fn compare_terms(out: &mut Vec<TermChange>, old: Option<&Agreement>, new: Option<&Agreement>) {
    let mut scalar = |term: &str, f: &dyn Fn(&Agreement) -> Option<String>| {
        let (before, after) = (old.and_then(f), new.and_then(f));
        if before != after {
            out.push(TermChange { term: term.to_owned(), before, after });
        }
    };
    scalar("title", &|a| Some(a.title.clone()));
    scalar("start date", &|a| Some(dates::format(a.start)));
    scalar("review date", &|a| Some(dates::format(a.review)));
    scalar("end date", &|a| Some(dates::format(a.end)));
    scalar("retention months", &|a| Some(a.retention_months.to_string()));
    scalar("retention basis", &|a| a.retention_basis.clone());
    scalar("DPIA", &|a| Some(a.dpia.clone()));
    scalar("Article 6 basis", &|a| Some(a.article6.clone()));
    scalar("Article 9 condition", &|a| a.article9.as_ref().map(ToString::to_string));
    scalar("Article 10 condition", &|a| a.article10.as_ref().map(ToString::to_string));
    scalar("right to erasure", &|a| Some(if a.erasure { "applies" } else { "does not apply" }.to_owned()));
    scalar("rights contact", &|a| a.contact.clone());

    let mut list = |term: &str, f: &dyn Fn(&Agreement) -> Vec<String>| {
        let (before, after) = (old.map(f).unwrap_or_default(), new.map(f).unwrap_or_default());
        for gone in before.iter().filter(|x| !after.contains(x)) {
            out.push(TermChange { term: term.to_owned(), before: Some(gone.clone()), after: None });
        }
        for came in after.iter().filter(|x| !before.contains(x)) {
            out.push(TermChange { term: term.to_owned(), before: None, after: Some(came.clone()) });
        }
    };
    list("purpose", &|a| a.purposes.clone());
    list("legal gateway", &|a| a.legal_gateways.clone());
    list("recipient", &|a| a.recipients.clone());
    list("party", &|a| a.parties.iter().map(|p| format!("{} ({})", p.name, p.role.as_str())).collect());
    list("signatory", &|a| {
        a.signatories.iter().map(|s| format!("{} for {} on {}", s.role, s.party, dates::format(s.signed))).collect()
    });
}

fn compare_fields(out: &mut Vec<FieldChange>, feed: &str, old: Option<&Agreement>, new: Option<&Agreement>) {
    let named = |a: Option<&Agreement>| -> BTreeSet<String> {
        a.and_then(|a| a.feeds.get(feed)).map(|t| t.fields.keys().cloned().collect()).unwrap_or_default()
    };
    for field in named(old).union(&named(new)) {
        let was = old.map(|a| a.treatment(feed, field)).unwrap_or_default();
        let now = new.map(|a| a.treatment(feed, field)).unwrap_or_default();
        let kind = match (was.is_drop(), now.is_drop()) {
            (true, true) => None,
            (true, false) => Some(FieldChangeKind::Shared(now)),
            (false, true) => Some(FieldChangeKind::Withdrawn(was)),
            (false, false) if was != now => Some(FieldChangeKind::Changed { was, now }),
            (false, false) => {
                let clause =
                    |a: Option<&Agreement>| a.and_then(|a| a.field(feed, field)).and_then(|f| f.clause.clone());
                let (was, now) = (clause(old), clause(new));
                (was != now).then_some(FieldChangeKind::Clause { was, now })
            }
        };
        if let Some(kind) = kind {
            out.push(FieldChange { feed: feed.to_owned(), field: field.clone(), kind });
        }
    }
}

fn compare_columns(d: &mut AgreementDiff, feed: &str, old: Option<&Agreement>, new: Option<&Agreement>) {
    let Some(schema) = feed::latest(feed) else {
        return;
    };
    let columns = |a: Option<&Agreement>| -> Vec<String> {
        let Some(a) = a.filter(|a| a.governs(feed)) else {
            return Vec::new();
        };
        staging::columns_under(schema, |c| a.treatment(feed, c.name))
            .into_iter()
            .filter(|c| c.input.is_some())
            .map(|c| c.name)
            .collect()
    };
    let (before, after) = (columns(old), columns(new));
    let out = |column: &String| OutputColumn { feed: feed.to_owned(), column: column.clone() };
    d.columns_added.extend(after.iter().filter(|c| !before.contains(c)).map(out));
    d.columns_removed.extend(before.iter().filter(|c| !after.contains(c)).map(out));
}

impl fmt::Display for AgreementDiff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.old, &self.new) {
            (Some(o), Some(n)) if o == n => writeln!(f, "{o}")?,
            (Some(o), Some(n)) => writeln!(f, "{o} -> {n}")?,
            (None, Some(n)) => writeln!(f, "{n}: new agreement")?,
            (Some(o), None) => writeln!(f, "{o}: withdrawn (not in the new set)")?,
            (None, None) => writeln!(f, "{}", self.id)?,
        }
        if self.is_empty() {
            return writeln!(f, "  no changes");
        }
        for t in &self.terms {
            match (&t.before, &t.after) {
                (Some(b), Some(a)) => writeln!(f, "  ~ {}: {b} -> {a}", t.term)?,
                (None, Some(a)) => writeln!(f, "  + {}: {a}", t.term)?,
                (Some(b), None) => writeln!(f, "  - {}: {b}", t.term)?,
                (None, None) => {}
            }
        }
        for feed in &self.feeds_added {
            writeln!(f, "  + feed: {feed}")?;
        }
        for feed in &self.feeds_removed {
            writeln!(f, "  - feed: {feed}")?;
        }
        for c in &self.fields {
            let name = format!("{}.{}", c.feed, c.field);
            match &c.kind {
                FieldChangeKind::Shared(now) => writeln!(f, "  + {name}: newly shared ({})", short(now))?,
                FieldChangeKind::Withdrawn(was) => writeln!(f, "  - {name}: withdrawn (was {})", short(was))?,
                FieldChangeKind::Changed { was, now } => writeln!(f, "  ~ {name}: {} -> {}", short(was), short(now))?,
                FieldChangeKind::Clause { was, now } => writeln!(
                    f,
                    "  ~ {name}: clause {} -> {}",
                    was.as_deref().unwrap_or("(none)"),
                    now.as_deref().unwrap_or("(none)")
                )?,
            }
        }
        write_columns(f, "output columns added", &self.columns_added)?;
        write_columns(f, "output columns removed", &self.columns_removed)
    }
}

fn write_columns(f: &mut fmt::Formatter<'_>, what: &str, columns: &[OutputColumn]) -> fmt::Result {
    let mut by_feed: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for c in columns {
        by_feed.entry(&c.feed).or_default().push(&c.column);
    }
    for (feed, cols) in by_feed {
        writeln!(f, "  {what}: {} {}", dataset(feed), cols.join(", "))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agreement::tests::{ARTICLE10_LINE, BASE, edit, lint_one};

    fn v2() -> String {
        let text = edit(BASE, "version = 1", "version = 2");
        let text = edit(&text, "end = 2028-03-31", "end = 2029-03-31");
        let text = edit(
            &text,
            "recipients = [\"WSCC Early Help hub analysts\"]",
            "recipients = [\"WSCC Early Help hub analysts\", \"University evaluators (aggregates only)\"]",
        );
        let text = edit(
            &text,
            "date_of_birth = { action = [\"pseudonymise\", \"generalise\"], generalise = \"year_month\"",
            "date_of_birth = { action = \"generalise\", generalise = \"year\"",
        );
        let text = edit(
            &text,
            "[feeds.police.fields]",
            "[feeds.police.fields]\nsurname = { action = \"pseudonymise\", clause = \"Schedule 2 item 2a\" }",
        );
        let text = edit(&text, "clause = \"Schedule 2 item 5\"", "clause = \"Schedule 2 item 6\"");
        edit(
            &text,
            "missing_risk = { action = \"drop\", note = \"not needed for the purpose\" }",
            "missing_risk = { action = \"pass\", clause = \"Schedule 2 item 7\" }",
        )
        .replacen("forename = { action = \"pseudonymise\", clause = \"Schedule 2 item 2\" }\n", "", 1)
    }

    #[test]
    fn shows_what_a_new_version_changes() {
        let old = lint_one(BASE).agreements.remove(0);
        let new = lint_one(&v2()).agreements.remove(0);
        let d = diff(&old, &new);
        let text = d.to_string();
        println!("{text}");
        assert!(text.starts_with("ISA-TEST@1 -> ISA-TEST@2\n"), "{text}");
        assert!(text.contains("  ~ end date: 2028-03-31 -> 2029-03-31\n"));
        assert!(text.contains("  + recipient: University evaluators (aggregates only)\n"));
        assert!(text.contains("  + police.surname: newly shared (token)\n"));
        assert!(text.contains("  - police.forename: withdrawn (was token)\n"));
        assert!(text.contains("  ~ police.date_of_birth: token+year_month -> year\n"));
        assert!(text.contains("  + police.missing_risk: newly shared (pass)\n"));
        assert!(text.contains("  ~ police.incident_type: clause Schedule 2 item 5 -> Schedule 2 item 6\n"));
        // Linkage columns follow their inputs: no forename token, no forename encoding; no date
        // of birth token, no keys or blocks that need the exact date.
        assert!(text.contains(
            "  output columns added: staging/feed=police/ surname_token, date_of_birth_year, missing_risk, \
             surname_name_token, surname_first_part_token, surname_last_part_token, surname_soundex_token, \
             surname_bloom, surname_edit_tokens\n"
        ));
        assert!(text.contains(
            "  output columns removed: staging/feed=police/ forename_token, date_of_birth_month, date_of_birth_token, \
             mk_forename_dob_postcode, dob_unordered_token, birth_year_postcode_token, dob_year_month_token, \
             dob_year_day_token, dob_month_day_token, birth_year_even_pair_token, birth_year_odd_pair_token, \
             forename_name_token, forename_class_first_token, forename_class_last_token, forename_initial_token, \
             forename_soundex_token, forename_bloom, forename_edit_tokens, date_of_birth_edit_tokens\n"
        ));
        assert!(d.feeds_added.is_empty() && d.feeds_removed.is_empty());
        assert!(diff(&old, &old).is_empty());
        assert_eq!(diff(&old, &old).to_string(), "ISA-TEST@1\n  no changes\n");
    }

    #[test]
    fn diffs_directories_by_agreement_id() {
        let old_dir = tempfile::tempdir().unwrap();
        let new_dir = tempfile::tempdir().unwrap();
        std::fs::write(old_dir.path().join("police.toml"), BASE).unwrap();
        std::fs::write(new_dir.path().join("police-v2.toml"), v2()).unwrap();
        let housing = edit(BASE, "id = \"ISA-TEST\"", "id = \"ISA-HOUSING\"");
        let housing = housing.split("[feeds.police.fields]").next().unwrap().replacen(ARTICLE10_LINE, "", 1)
            + "[feeds.housing.fields]\nrecord_id = { action = \"pass\", clause = \"1\" }\n";
        std::fs::write(new_dir.path().join("housing.toml"), housing).unwrap();

        let d = diff_paths(old_dir.path(), new_dir.path()).unwrap();
        assert!(d.problems.is_empty(), "{:#?}", d.problems);
        assert_eq!(d.agreements.len(), 2);
        let text = d.to_string();
        println!("{text}");
        assert!(text.contains("ISA-HOUSING@1: new agreement\n"), "{text}");
        assert!(text.contains("  + feed: housing\n  + housing.record_id: newly shared (pass)\n"), "{text}");
        assert!(text.contains("ISA-TEST@1 -> ISA-TEST@2\n"));

        let back = diff_paths(&new_dir.path().join("housing.toml"), old_dir.path()).unwrap();
        assert!(back.to_string().contains("ISA-HOUSING@1: withdrawn (not in the new set)\n"), "{back}");
        assert!(back.agreements[0].columns_removed.iter().any(|c| c.column == "record_id"));
    }
}
