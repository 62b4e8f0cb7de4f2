//! What may be kept of one feed column: the vocabulary an Information Sharing Agreement uses to
//! say, field by field, what passes, what is pseudonymised and what is coarsened.
//!
//! The schemas crate owns the vocabulary because the staging columns are derived from it
//! ([`crate::staging::columns_under`]); the governance crate decides, per agreement, which
//! [`Treatment`] each field gets.

use crate::column::{Column, Generalisation, Kind, Role};

/// A coarser form of a value that an agreement may allow instead of (or beside) its token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Coarsening {
    /// A date becomes its year and month, `YYYY-MM` (column `<field>_month`).
    YearMonth,
    /// A date becomes its year (column `<field>_year`).
    Year,
    /// A postcode becomes its outward code, `RH10 1AB` → `RH10` (column `<field>_outward`).
    Outward,
    /// A postcode becomes its small area, district and IMD decile, from the reference lookup.
    Area,
}

impl Coarsening {
    /// Every coarsening, in a stable order.
    pub const ALL: [Coarsening; 4] = [Coarsening::YearMonth, Coarsening::Year, Coarsening::Outward, Coarsening::Area];

    /// The name used in agreements: `year_month`, `year`, `outward` or `area`.
    pub fn as_str(self) -> &'static str {
        match self {
            Coarsening::YearMonth => "year_month",
            Coarsening::Year => "year",
            Coarsening::Outward => "outward",
            Coarsening::Area => "area",
        }
    }

    /// The coarsening named `name` in an agreement.
    pub fn parse(name: &str) -> Option<Coarsening> {
        Coarsening::ALL.into_iter().find(|c| c.as_str() == name)
    }

    /// Whether values of this kind can be coarsened this way.
    pub fn applies_to(self, kind: &Kind) -> bool {
        match self {
            Coarsening::YearMonth | Coarsening::Year => matches!(kind, Kind::Date | Kind::BirthDate),
            Coarsening::Outward | Coarsening::Area => matches!(kind, Kind::Postcode),
        }
    }

    /// In plain words, for `isa explain` and the data dictionary.
    pub fn describe(self) -> &'static str {
        match self {
            Coarsening::YearMonth => "year and month only",
            Coarsening::Year => "year only",
            Coarsening::Outward => "outward code only (the part of the postcode before the space)",
            Coarsening::Area => "small area, district and IMD decile only, looked up before the postcode is discarded",
        }
    }
}

/// What is kept of one field. The default keeps nothing: the field is dropped.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Treatment {
    /// The checked value itself, typed. Only allowed where [`pass_allowed`] says so.
    pub pass: bool,
    /// A keyed HMAC token of the normalised value, for linkage.
    pub token: bool,
    /// Coarser forms, each one only where [`Coarsening::applies_to`] the field's kind.
    pub coarsen: Vec<Coarsening>,
}

impl Treatment {
    /// Whether nothing of the field is kept.
    pub fn is_drop(&self) -> bool {
        !self.pass && !self.token && self.coarsen.is_empty()
    }

    /// What the schema alone would keep, with no agreement narrowing it: record references and
    /// event attributes pass, direct identifiers become tokens, quasi-identifiers keep their
    /// generalised form (a code as it is; a date or postcode coarsened) and, where they link,
    /// a token. Agreements are checked against this: they may keep less, never more.
    pub fn schema_default(col: &Column) -> Treatment {
        match col.role {
            Role::RecordReference | Role::EventAttribute => Treatment { pass: true, ..Treatment::default() },
            Role::DirectIdentifier => Treatment { token: true, ..Treatment::default() },
            Role::QuasiIdentifier => {
                let mut t = Treatment { token: col.kind.links(), ..Treatment::default() };
                match (col.generalise, col.kind) {
                    (Generalisation::Keep, Kind::Code(_)) => t.pass = true,
                    (Generalisation::YearMonth, _) => t.coarsen.push(Coarsening::YearMonth),
                    (Generalisation::OutwardCode, _) => {
                        t.coarsen.push(Coarsening::Outward);
                        t.coarsen.push(Coarsening::Area);
                    }
                    // Fail closed: any other quasi-identifier without a generalisation keeps
                    // only its token.
                    _ => {}
                }
                t
            }
        }
    }
}

/// Whether a field may pass in clear. Never a direct identifier; of the quasi-identifiers, only
/// codes with few values (such as sex); record references and event attributes may.
pub fn pass_allowed(col: &Column) -> bool {
    match col.role {
        Role::RecordReference | Role::EventAttribute => true,
        Role::DirectIdentifier => false,
        Role::QuasiIdentifier => matches!(col.kind, Kind::Code(_)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::feed;

    #[test]
    fn names_round_trip() {
        for c in Coarsening::ALL {
            assert_eq!(Coarsening::parse(c.as_str()), Some(c));
        }
        assert_eq!(Coarsening::parse("decade"), None);
    }

    #[test]
    fn schema_default_never_passes_what_may_not_pass() {
        for f in feed::all() {
            for col in f.columns {
                let t = Treatment::schema_default(col);
                assert!(!t.pass || pass_allowed(col), "{}.{}", f.name, col.name);
                assert!(t.coarsen.iter().all(|c| c.applies_to(&col.kind)), "{}.{}", f.name, col.name);
            }
        }
    }

    #[test]
    fn identifiers_may_not_pass() {
        let police = feed::latest("police").unwrap();
        for name in ["forename", "surname", "date_of_birth", "postcode", "pnc_id"] {
            let col = police.column(name).unwrap();
            assert!(!pass_allowed(col), "{name}");
        }
        assert!(pass_allowed(police.column("record_id").unwrap()));
    }
}
