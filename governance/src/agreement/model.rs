//! An Information Sharing Agreement as loaded and checked: who shares what, why, under which
//! law, for how long, and what happens to each field.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use tellonce_schemas::Treatment;
use tellonce_schemas::identifiers::dates;

/// One checked agreement (one version of it), from one file.
///
/// Dates are days since 1970-01-01, as everywhere else in tellonce. Only agreements without
/// error-severity problems are ever built, so every field here has passed the lint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Agreement {
    /// Stable identifier, `[A-Za-z0-9._-]+` (such as `ISA-POL-2025`).
    pub id: String,
    /// Version, from 1; a new version replaces an old one from its own start date.
    pub version: u32,
    /// One line saying who shares with whom.
    pub title: String,
    /// The file it was read from.
    pub file: PathBuf,
    /// SHA-256 of the file's bytes, lowercase hex: recorded with outputs and in the audit log so
    /// that the exact text that governed a run can be shown later.
    pub sha256: String,
    /// What the sharing is for (purpose limitation: at least one).
    pub purposes: Vec<String>,
    /// The statutory gateways relied on (at least one).
    pub legal_gateways: Vec<String>,
    /// Reference of the data protection impact assessment.
    pub dpia: String,
    /// Who receives what is derived (at least one).
    pub recipients: Vec<String>,
    /// First day the agreement governs sharing.
    pub start: i32,
    /// Day by which the parties must review it.
    pub review: i32,
    /// Last day the agreement governs sharing.
    pub end: i32,
    /// How long outputs derived under it are kept, in months from when they are written.
    pub retention_months: u32,
    /// Where the retention period comes from (a retention schedule entry).
    pub retention_basis: Option<String>,
    /// Whether the Article 17 right to erasure applies (not under public task or legal obligation).
    pub erasure: bool,
    /// Who handles subject access requests and other rights.
    pub contact: Option<String>,
    /// The Article 6 lawful basis.
    pub article6: String,
    /// The Article 9 condition, needed when special category data is kept.
    pub article9: Option<Condition>,
    /// The Article 10 condition, needed when criminal offence data is kept.
    pub article10: Option<Condition>,
    /// The organisations that are party to it.
    pub parties: Vec<Party>,
    /// Who signed, for which party, when.
    pub signatories: Vec<Signatory>,
    /// The feeds it governs, by feed name, with their field terms.
    pub feeds: BTreeMap<String, FeedTerms>,
}

impl Agreement {
    /// `ID@version`, the form written into every output row's `_agreement` column.
    pub fn label(&self) -> String {
        format!("{}@{}", self.id, self.version)
    }

    /// What is kept of `field` of `feed` under this agreement: a field the agreement does not
    /// name, or a feed it does not govern, keeps nothing (deny by default).
    pub fn treatment(&self, feed: &str, field: &str) -> Treatment {
        self.field(feed, field).map(|f| f.treatment.clone()).unwrap_or_default()
    }

    /// The terms for `field` of `feed`, if the agreement names it.
    pub fn field(&self, feed: &str, field: &str) -> Option<&FieldTerms> {
        self.feeds.get(feed).and_then(|t| t.fields.get(field))
    }

    /// Whether the agreement governs `feed` at all.
    pub fn governs(&self, feed: &str) -> bool {
        self.feeds.contains_key(feed)
    }

    /// Whether `day` lies in `[start, end]`.
    pub fn covers(&self, day: i32) -> bool {
        self.start <= day && day <= self.end
    }

    /// This agreement's own standing on `day`, ignoring any other agreement, as a stable word
    /// for logs and the audit log: `not_yet_in_force`, `in_force`, `review_overdue` (in force,
    /// past its review date) or `expired`. Which agreement governs a feed is
    /// [`super::AgreementSet::standing`]'s question.
    pub fn standing_on(&self, day: i32) -> &'static str {
        if day < self.start {
            "not_yet_in_force"
        } else if day > self.end {
            "expired"
        } else if day > self.review {
            "review_overdue"
        } else {
            "in_force"
        }
    }

    /// The last day an output written on `written_day` may be kept: the retention period added
    /// in calendar months, with the day clamped to the end of a shorter month (an output written
    /// on 31 January with one month's retention is kept until 28 or 29 February).
    pub fn retention_until(&self, written_day: i32) -> i32 {
        add_months(written_day, self.retention_months)
    }
}

/// `days` moved on by `months` calendar months, clamping the day to the target month's end.
pub(crate) fn add_months(days: i32, months: u32) -> i32 {
    let (y, m, d) = dates::civil_from_days(days);
    let months = i64::from(months);
    let index = i64::from(y) * 12 + i64::from(m) - 1 + months;
    let year = i32::try_from(index.div_euclid(12)).unwrap_or(i32::MAX);
    // rem_euclid(12) is in 0..12, so the month is 1..=12.
    let month = u32::try_from(index.rem_euclid(12) + 1).unwrap_or(12);
    dates::days_from_civil(year, month, d.min(days_in_month(year, month)))
}

fn days_in_month(year: i32, month: u32) -> u32 {
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// An Article 9 or Article 10 condition, with the DPA 2018 Schedule 1 paragraph it rests on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition {
    /// The condition, e.g. `9(2)(g) substantial public interest`.
    pub condition: String,
    /// The Schedule 1 paragraph, e.g. `Part 2 para 18 safeguarding of children and individuals at risk`.
    pub schedule1: String,
    /// The appropriate policy document Schedule 1 Part 4 asks for, where one is needed.
    pub policy_document: Option<String>,
}

impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}, DPA 2018 Schedule 1 {}", self.condition, self.schedule1)?;
        if let Some(doc) = &self.policy_document {
            write!(f, " (appropriate policy document {doc})")?;
        }
        Ok(())
    }
}

/// What an organisation is under the agreement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PartyRole {
    /// Decides, alone, why and how the data is processed.
    Controller,
    /// Decides jointly with another party (an Art. 26 arrangement is then mandatory).
    JointController,
    /// Processes on a controller's behalf.
    Processor,
}

impl PartyRole {
    /// The name used in agreements.
    pub fn as_str(self) -> &'static str {
        match self {
            PartyRole::Controller => "controller",
            PartyRole::JointController => "joint_controller",
            PartyRole::Processor => "processor",
        }
    }

    /// The role named `name` in an agreement.
    pub fn parse(name: &str) -> Option<PartyRole> {
        [PartyRole::Controller, PartyRole::JointController, PartyRole::Processor]
            .into_iter()
            .find(|r| r.as_str() == name)
    }
}

/// An organisation party to the agreement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Party {
    /// Its name.
    pub name: String,
    /// Its role.
    pub role: PartyRole,
}

/// Someone who signed the agreement for a party.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signatory {
    /// The party signed for (one of [`Agreement::parties`]).
    pub party: String,
    /// The signatory's role, e.g. `Data Protection Officer` (a role, not a person's name).
    pub role: String,
    /// The day it was signed.
    pub signed: i32,
}

/// What an agreement says about one feed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FeedTerms {
    /// The fields it names, by column name. A column not named here is dropped.
    pub fields: BTreeMap<String, FieldTerms>,
}

/// What an agreement says about one field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldTerms {
    /// What is kept of it.
    pub treatment: Treatment,
    /// The clause of the agreement that allows it (required unless the field is dropped).
    pub clause: Option<String>,
    /// A note for reviewers, such as why a field is dropped.
    pub note: Option<String>,
    /// The 1-based line of the field in the agreement file.
    pub line: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> i32 {
        dates::parse(s).unwrap()
    }

    #[test]
    fn retention_adds_calendar_months_and_clamps_to_month_end() {
        assert_eq!(add_months(day("2025-01-31"), 1), day("2025-02-28"));
        assert_eq!(add_months(day("2024-01-31"), 1), day("2024-02-29"));
        assert_eq!(add_months(day("2025-04-15"), 72), day("2031-04-15"));
        assert_eq!(add_months(day("2025-11-30"), 3), day("2026-02-28"));
        assert_eq!(add_months(day("2025-12-31"), 12), day("2026-12-31"));
    }

    #[test]
    fn party_roles_round_trip() {
        for r in [PartyRole::Controller, PartyRole::JointController, PartyRole::Processor] {
            assert_eq!(PartyRole::parse(r.as_str()), Some(r));
        }
        assert_eq!(PartyRole::parse("owner"), None);
    }
}
