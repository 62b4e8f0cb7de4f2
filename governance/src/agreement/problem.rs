//! Problems found in agreement files: where, which rule, how serious, and why.

use std::fmt;
use std::path::PathBuf;

use super::position::Position;

/// How serious a problem is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Worth a look; the agreement still governs its feeds.
    Warning,
    /// The agreement is not used: its feeds are not processed under it (fail closed).
    Error,
}

impl Severity {
    /// `error` or `warning`, as printed.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A rule of the agreement format. Each has a stable code, so that tests, CI filters and
/// runbooks can name it, and a fixed severity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Lint {
    /// The file is not valid TOML (or not UTF-8).
    TomlSyntax,
    /// A key that is not part of the format, at any level.
    UnknownKey,
    /// A required key, table or list entry is missing or empty.
    Missing,
    /// A value has the wrong TOML type (a string where an integer belongs, say).
    Type,
    /// The id has characters outside `[A-Za-z0-9._-]`.
    Id,
    /// The version is not a whole number of at least 1.
    Version,
    /// Two files hold the same id and version.
    Duplicate,
    /// A feed the schemas do not know.
    FeedUnknown,
    /// A field that is not a column of the feed at any schema version.
    FieldUnknown,
    /// An unknown action, no action, or `drop` combined with another action.
    FieldAction,
    /// `pass` on a field that may never be stored in clear.
    PassIdentifier,
    /// A missing, unknown or inapplicable coarsening, or one given without the action.
    FieldGeneralise,
    /// A kept field with no clause of the agreement behind it.
    ClauseMissing,
    /// No Article 6 lawful basis.
    Article6Missing,
    /// A special category field is kept without an Article 9 condition and Schedule 1 paragraph.
    Article9Missing,
    /// A criminal offence field is kept without an Article 10 condition and Schedule 1 paragraph.
    Article10Missing,
    /// An Article 9 condition is recorded but no special category field is kept.
    Article9Unneeded,
    /// An Article 10 condition is recorded but no criminal offence field is kept.
    Article10Unneeded,
    /// The dates are not in the order start ≤ review ≤ end.
    DatesOrder,
    /// A date that is not a valid calendar date (`YYYY-MM-DD`).
    DatesInvalid,
    /// No retention period, or a period of 0 months.
    RetentionMissing,
    /// A retention period outside 1..=1200 months.
    RetentionRange,
    /// A party role other than controller, joint_controller or processor.
    PartyRole,
    /// No parties.
    PartyNone,
    /// A signatory who signs for no listed party.
    SignatoryParty,
    /// Nobody has signed (a draft).
    SignatoryNone,
    /// Two agreements, or two versions of one, govern the same feed on overlapping days.
    Overlap,
    /// The review date has passed.
    ReviewOverdue,
}

impl Lint {
    /// Every rule, in the order of the documentation.
    pub const ALL: [Lint; 28] = [
        Lint::TomlSyntax,
        Lint::UnknownKey,
        Lint::Missing,
        Lint::Type,
        Lint::Id,
        Lint::Version,
        Lint::Duplicate,
        Lint::FeedUnknown,
        Lint::FieldUnknown,
        Lint::FieldAction,
        Lint::PassIdentifier,
        Lint::FieldGeneralise,
        Lint::ClauseMissing,
        Lint::Article6Missing,
        Lint::Article9Missing,
        Lint::Article10Missing,
        Lint::Article9Unneeded,
        Lint::Article10Unneeded,
        Lint::DatesOrder,
        Lint::DatesInvalid,
        Lint::RetentionMissing,
        Lint::RetentionRange,
        Lint::PartyRole,
        Lint::PartyNone,
        Lint::SignatoryParty,
        Lint::SignatoryNone,
        Lint::Overlap,
        Lint::ReviewOverdue,
    ];

    /// The stable code, such as `field.pass_identifier`.
    pub fn code(self) -> &'static str {
        match self {
            Lint::TomlSyntax => "toml.syntax",
            Lint::UnknownKey => "agreement.unknown_key",
            Lint::Missing => "agreement.missing",
            Lint::Type => "agreement.type",
            Lint::Id => "agreement.id",
            Lint::Version => "agreement.version",
            Lint::Duplicate => "agreement.duplicate",
            Lint::FeedUnknown => "feed.unknown",
            Lint::FieldUnknown => "field.unknown",
            Lint::FieldAction => "field.action",
            Lint::PassIdentifier => "field.pass_identifier",
            Lint::FieldGeneralise => "field.generalise",
            Lint::ClauseMissing => "field.clause_missing",
            Lint::Article6Missing => "basis.article6_missing",
            Lint::Article9Missing => "basis.article9_missing",
            Lint::Article10Missing => "basis.article10_missing",
            Lint::Article9Unneeded => "basis.article9_unneeded",
            Lint::Article10Unneeded => "basis.article10_unneeded",
            Lint::DatesOrder => "dates.order",
            Lint::DatesInvalid => "dates.invalid",
            Lint::RetentionMissing => "retention.missing",
            Lint::RetentionRange => "retention.range",
            Lint::PartyRole => "party.role",
            Lint::PartyNone => "party.none",
            Lint::SignatoryParty => "signatory.party",
            Lint::SignatoryNone => "signatory.none",
            Lint::Overlap => "agreement.overlap",
            Lint::ReviewOverdue => "agreement.review_overdue",
        }
    }

    /// How serious a breach of this rule is. Only drafts (unsigned), superfluous conditions and
    /// overdue reviews are warnings: anything that could let data through without a basis is
    /// an error, so the agreement is not used.
    pub fn severity(self) -> Severity {
        match self {
            Lint::SignatoryNone | Lint::ReviewOverdue | Lint::Article9Unneeded | Lint::Article10Unneeded => {
                Severity::Warning
            }
            _ => Severity::Error,
        }
    }
}

impl fmt::Display for Lint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// One problem in one agreement file.
///
/// Displayed as `path:line:col: error[rule.code]: message`, the form editors and CI annotate.
/// Messages name keys, feeds and fields, never data values: an agreement holds no data about
/// people, and nothing here is read from a feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The agreement file.
    pub path: PathBuf,
    /// Where in it.
    pub position: Position,
    /// The rule broken.
    pub lint: Lint,
    /// How serious it is (the rule's severity).
    pub severity: Severity,
    /// What is wrong, naming the rule and, where it helps, the fix.
    pub message: String,
}

impl Problem {
    /// A problem breaking `lint` at `position` of `path`.
    pub fn new(path: impl Into<PathBuf>, position: Position, lint: Lint, message: impl Into<String>) -> Self {
        Problem { path: path.into(), position, lint, severity: lint.severity(), message: message.into() }
    }

    /// The rule's stable code.
    pub fn code(&self) -> &'static str {
        self.lint.code()
    }

    /// Whether the agreement is unusable because of it.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}[{}]: {}",
            self.path.display(),
            self.position.line,
            self.position.column,
            self.severity,
            self.lint.code(),
            self.message
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_like_a_compiler_diagnostic() {
        let p = Problem::new("isa/police.toml", Position { line: 12, column: 3 }, Lint::PassIdentifier, "no");
        assert_eq!(p.to_string(), "isa/police.toml:12:3: error[field.pass_identifier]: no");
        let w = Problem::new("a.toml", Position::START, Lint::SignatoryNone, "draft");
        assert_eq!(w.to_string(), "a.toml:1:1: warning[signatory.none]: draft");
    }

    #[test]
    fn codes_are_unique() {
        let mut codes: Vec<_> = Lint::ALL.iter().map(|l| l.code()).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), Lint::ALL.len());
    }
}
