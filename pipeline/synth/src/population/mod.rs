//! The synthetic population: households, the people in them, and what happens to them in
//! 2023–2025, drawn from a need propensity that rises with deprivation so that events correlate
//! across agencies.
//!
//! Households are built first, each from the population's one seeded stream (`households`,
//! with identifiers from `identifiers`); then each family's events are drawn from a stream of
//! its own (`events`, `children`, `district`).

use std::ops::Range;

use tellonce_schemas::identifiers::dates::{civil_from_days, days_from_civil};

use super::geo::{Address, AddressBook, Geo};
use super::rng::Rng;
use identifiers::{NhsNumbers, PncSerials, Upns};

mod children;
mod district;
mod draw;
mod events;
mod households;
mod identifiers;

/// First day of the event window, 2023-01-01.
pub(crate) fn start() -> i32 {
    days_from_civil(2023, 1, 1)
}

/// Last day of the event window, 2025-12-31; ages are as at this day.
pub(crate) fn end() -> i32 {
    days_from_civil(2025, 12, 31)
}

/// A person's place in the family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Member {
    /// A parent or carer living in the household.
    Parent,
    /// A child of the household.
    Child,
    /// A parent who lives elsewhere (an ex-partner), with an address of their own.
    AbsentParent,
}

/// Cohort flags on a child (bit values).
pub(crate) mod flags {
    /// Child in need plan.
    pub(crate) const CIN: u8 = 1;
    /// Child protection plan.
    pub(crate) const CPP: u8 = 2;
    /// Looked after.
    pub(crate) const LAC: u8 = 4;
    /// Education, health and care plan.
    pub(crate) const EHCP: u8 = 8;
}

/// One person.
#[derive(Clone)]
pub(crate) struct Person {
    pub family: u32,
    pub member: Member,
    pub forename: &'static str,
    pub surname: String,
    pub dob: i32,
    /// `M` or `F`.
    pub sex: &'static str,
    /// Index into [`names::ETHNICITIES`].
    pub ethnicity: u8,
    /// Ten digits, 999 range.
    pub nhs: u64,
    pub upn: Option<[u8; 13]>,
    /// Year of issue and serial.
    pub pnc: Option<(u32, u64)>,
    /// Children: share of sessions missed in a typical term (0..1).
    pub absence: f64,
    /// Children: [`flags`] bits.
    pub flags: u8,
    /// Children: offended before the window (so never a first-time entrant in it).
    pub prior_record: bool,
}

/// A domestic abuse incident attended by police.
pub(crate) struct DaIncident {
    pub date: i32,
    pub victim: u32,
    pub suspect: u32,
    pub risk: &'static str,
    pub children_present: bool,
    pub suspect_outcome: &'static str,
}

/// A homelessness approach.
pub(crate) struct HousingCase {
    pub approach: i32,
    pub duty: &'static str,
    pub reason: &'static str,
    /// Type, start and (if it ended in the window) end of temporary accommodation.
    pub ta: Option<(&'static str, i32, Option<i32>)>,
    pub arrears_pence: Option<i64>,
}

/// A district council event on a resident's account or case.
pub(crate) struct DistrictEvent {
    pub date: i32,
    pub person: u32,
    pub kind: &'static str,
    pub amount_pence: Option<i64>,
    pub stage: Option<&'static str>,
}

/// A CAMHS referral.
pub(crate) struct Referral {
    pub child: u32,
    pub received: i32,
    pub source: &'static str,
    pub reason: &'static str,
    pub priority: &'static str,
    pub outcome: &'static str,
    pub first_contact: Option<i32>,
    /// Contacts attended and not attended, where the referral was accepted.
    pub contacts: Option<(u16, u16)>,
    pub discharge: Option<(i32, &'static str)>,
}

/// An offence, known to police and (for a child aged 10–17) to the Youth Justice Service.
pub(crate) struct Offence {
    pub person: u32,
    pub date: i32,
    pub category: &'static str,
    pub gravity: u8,
    /// The youth justice outcome (children only).
    pub outcome: &'static str,
    pub outcome_date: i32,
    pub fte: bool,
    /// The police outcome for the suspect.
    pub police_outcome: &'static str,
    /// Whether the Youth Justice Service holds it.
    pub youth: bool,
}

/// A missing episode.
pub(crate) struct Missing {
    pub child: u32,
    pub date: i32,
    pub risk: &'static str,
    pub hours: u32,
}

/// Anti-social behaviour known to police.
pub(crate) struct Asb {
    pub person: u32,
    pub date: i32,
    pub outcome: &'static str,
}

/// Child-to-parent violence.
pub(crate) struct Cpv {
    pub child: u32,
    pub parent: u32,
    pub date: i32,
    pub outcome: &'static str,
}

/// An early help episode for the family.
pub(crate) struct Episode {
    pub open: i32,
    pub close: Option<(i32, &'static str)>,
}

/// One household.
pub(crate) struct Family {
    pub address: Address,
    /// The address before the family moved, if it did.
    pub previous: Option<Address>,
    /// The absent parent's own address.
    pub absent_address: Option<Address>,
    /// Its members, in [`Population::persons`]: parents, then children, then an absent parent.
    pub members: Range<u32>,
    /// The steep transform of the need propensity: the chance of adversity (0..1).
    pub risk: f64,
    pub da: Vec<DaIncident>,
    pub housing: Vec<HousingCase>,
    pub district: Vec<DistrictEvent>,
    pub camhs: Vec<Referral>,
    pub offences: Vec<Offence>,
    pub missing: Vec<Missing>,
    pub asb: Vec<Asb>,
    pub cpv: Vec<Cpv>,
    pub early_help: Vec<Episode>,
}

/// The whole population.
pub(crate) struct Population {
    pub families: Vec<Family>,
    pub persons: Vec<Person>,
}

impl Population {
    /// The members of a family who are children.
    pub(crate) fn children(&self, f: &Family) -> impl Iterator<Item = u32> + '_ {
        f.members.clone().filter(|&p| self.persons[p as usize].member == Member::Child)
    }

    /// The resident parents of a family.
    pub(crate) fn parents(&self, f: &Family) -> impl Iterator<Item = u32> + '_ {
        f.members.clone().filter(|&p| self.persons[p as usize].member == Member::Parent)
    }

    /// The person with this index.
    pub(crate) fn person(&self, p: u32) -> &Person {
        &self.persons[p as usize]
    }
}

/// Age in whole years on a day.
pub(crate) fn age_on(dob: i32, day: i32) -> i32 {
    let (y1, m1, d1) = civil_from_days(dob);
    let (y2, m2, d2) = civil_from_days(day);
    y2 - y1 - i32::from((m2, d2) < (m1, d1))
}

/// The same day `years` later (29 February becomes 28 February).
pub(crate) fn add_years(day: i32, years: i32) -> i32 {
    let (y, m, d) = civil_from_days(day);
    let y = y + years;
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let d = if m == 2 && d == 29 && !leap { 28 } else { d };
    days_from_civil(y, m, d)
}

/// The days within `[lo, hi]` on which someone born on `dob` is aged `min..=max`.
pub(crate) fn aged_between(dob: i32, min: i32, max: i32, lo: i32, hi: i32) -> Option<(i32, i32)> {
    let a = add_years(dob, min).max(lo);
    let b = (add_years(dob, max + 1) - 1).min(hi);
    (a <= b).then_some((a, b))
}

/// Builds the population state by state. Everything random comes from one seeded stream per
/// stage, so the population is a pure function of the seed and the number of children.
struct Builder<'g> {
    geo: &'g Geo,
    rng: Rng,
    book: AddressBook,
    nhs: NhsNumbers,
    upns: Upns,
    pncs: PncSerials,
    persons: Vec<Person>,
}

impl Population {
    /// Builds households until `children` children exist, then draws each family's events.
    /// Fails only if the 999 NHS number range runs out.
    pub(crate) fn build(geo: &Geo, children: usize, seed: u64) -> Option<Population> {
        let mut rng = Rng::derive(seed, &[0x504F_5055]);
        let nhs = NhsNumbers::new(rng.below(1_000_000));
        let pncs = PncSerials::new(rng.below(10_000_000));
        let mut b = Builder {
            geo,
            book: AddressBook::new(geo),
            rng,
            nhs,
            upns: Upns::default(),
            pncs,
            persons: Vec::with_capacity(children * 2),
        };
        let mut families = Vec::with_capacity(children / 2 + 1);
        let mut made = 0usize;
        while made < children {
            let fam = b.family(families.len() as u32, children - made)?;
            made += b.persons[fam.members.start as usize..fam.members.end as usize]
                .iter()
                .filter(|p| p.member == Member::Child)
                .count();
            families.push(fam);
        }
        for (i, f) in families.iter_mut().enumerate() {
            let mut rng = Rng::derive(seed, &[0x4556_454E, i as u64]);
            b.events(f, &mut rng);
        }
        Some(Population { families, persons: b.persons })
    }
}

impl Builder<'_> {
    /// Adds a person with the next NHS number; `None` once the 999 range is used up.
    fn person(&mut self, p: Person) -> Option<u32> {
        let id = self.persons.len() as u32;
        self.persons.push(Person { nhs: self.nhs.next()?, ..p });
        Some(id)
    }

    /// Gives `person` a PNC number issued in `year` (clamped to 1990-2025) unless they have one.
    fn pnc(&mut self, person: u32, year: i32) {
        let p = &mut self.persons[person as usize];
        if p.pnc.is_none() {
            p.pnc = Some(self.pncs.next(year.clamp(1990, 2025) as u32));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_and_windows_follow_birthdays() {
        let dob = days_from_civil(2010, 6, 15);
        assert_eq!(age_on(dob, days_from_civil(2023, 6, 14)), 12);
        assert_eq!(age_on(dob, days_from_civil(2023, 6, 15)), 13);
        let (lo, hi) = aged_between(dob, 10, 17, start(), end()).unwrap();
        assert_eq!(lo, start());
        assert_eq!(hi, end());
        let (lo, _) = aged_between(dob, 14, 17, start(), end()).unwrap();
        assert_eq!(lo, days_from_civil(2024, 6, 15));
        assert_eq!(add_years(days_from_civil(2024, 2, 29), 1), days_from_civil(2025, 2, 28));
    }
}
