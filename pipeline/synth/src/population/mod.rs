//! The synthetic population: households, the people in them, and what happens to them in
//! 2023–2025, drawn from a need propensity that rises with deprivation so that events correlate
//! across agencies.

use std::collections::HashMap;
use std::ops::Range;

use tellonce_schemas::identifiers::dates::{civil_from_days, days_from_civil};
use tellonce_schemas::identifiers::{nhs, pnc, upn};

use super::geo::{Address, AddressBook, DISTRICTS, Geo};
use super::names::{self, MIXED, WHITE};
use super::rng::Rng;

/// First day of the event window, 2023-01-01.
pub(crate) fn start() -> i32 {
    days_from_civil(2023, 1, 1)
}

/// Last day of the event window, 2025-12-31; ages are as at this day.
pub(crate) fn end() -> i32 {
    days_from_civil(2025, 12, 31)
}

/// The West Sussex local authority number, the first three digits of a UPN's body.
const LA_CODE: u32 = 938;

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

/// Hands out NHS numbers from the 999 range (said never to be issued), in a seed-dependent
/// order, each once.
struct NhsNumbers {
    i: u64,
    offset: u64,
}

impl NhsNumbers {
    fn next(&mut self) -> Option<u64> {
        while self.i < 1_000_000 {
            let body = (self.i * 486_293 + self.offset) % 1_000_000;
            self.i += 1;
            let nine = 999_000_000 + body;
            let digits = nine.to_string();
            if let Some(c) = nhs::check_digit(digits.as_bytes()) {
                return Some(nine * 10 + u64::from(c));
            }
        }
        None
    }
}

/// Hands out UPNs: LA 938, the school's establishment number, the year of entry, a serial.
#[derive(Default)]
struct Upns {
    next_serial: HashMap<(u16, u32), u16>,
}

impl Upns {
    fn next(&mut self, school: u16, year: u32) -> Option<[u8; 13]> {
        let mut est = school;
        loop {
            let serial = self.next_serial.entry((est, year)).or_insert(0);
            if *serial < 1000 {
                let body = format!("{LA_CODE}{est:04}{:02}{:03}", year % 100, *serial);
                *serial += 1;
                let mut out = [0u8; 13];
                out[1..].copy_from_slice(body.as_bytes());
                out[0] = upn::check_letter(&out[1..])?;
                return Some(out);
            }
            est = est.checked_add(1000).filter(|&e| e <= 9999)?;
        }
    }
}

/// Hands out PNC serial numbers, each once.
struct PncSerials {
    i: u64,
    offset: u64,
}

impl PncSerials {
    fn next(&mut self, year: u32) -> (u32, u64) {
        let mut serial = (self.i * 7_368_787 + self.offset) % 10_000_000;
        self.i += 1;
        // 0000000, 1111111 … are placeholders the checks refuse (`pnc_id.placeholder`).
        while serial.is_multiple_of(1_111_111) {
            serial = (self.i * 7_368_787 + self.offset) % 10_000_000;
            self.i += 1;
        }
        debug_assert!(pnc::check_character(year, serial).is_ascii_uppercase());
        (year, serial)
    }
}

/// Weighted choice among codes.
fn code(rng: &mut Rng, table: &[(&'static str, u32)]) -> &'static str {
    let weights: Vec<u32> = table.iter().map(|t| t.1).collect();
    table[rng.weighted(&weights)].0
}

/// A geometric count: 1, then each further one with probability `p`, up to `max`.
fn count(rng: &mut Rng, p: f64, max: u32) -> u32 {
    let mut n = 1;
    while n < max && rng.chance(p) {
        n += 1;
    }
    n
}

/// Sorted uniform days in `[lo, hi]`, as many as [`count`] draws.
fn days(rng: &mut Rng, p_more: f64, max: u32, lo: i32, hi: i32) -> Vec<i32> {
    let n = count(rng, p_more, max);
    let mut v: Vec<i32> = (0..n).map(|_| rng.day(lo, hi)).collect();
    v.sort_unstable();
    v
}

/// A random day in a calendar year.
fn day_in_year(rng: &mut Rng, year: i32) -> i32 {
    rng.day(days_from_civil(year, 1, 1), days_from_civil(year, 12, 31))
}

/// An amount in pence, whole pounds or pence as asked, in `lo..=hi` pounds.
fn pounds(rng: &mut Rng, lo: i64, hi: i64, whole: bool) -> i64 {
    if whole { rng.range(lo, hi) * 100 } else { rng.range(lo * 100, hi * 100) }
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
    /// Builds households until `children` children exist. Fails only if the NHS number range runs
    /// out (more than [`MAX_PERSONS`] people).
    pub(crate) fn build(geo: &Geo, children: usize, seed: u64) -> Option<Population> {
        let mut rng = Rng::derive(seed, &[0x504F_5055]);
        let nhs = NhsNumbers { i: 0, offset: rng.below(1_000_000) };
        let pncs = PncSerials { i: 0, offset: rng.below(10_000_000) };
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
    fn person(&mut self, p: Person) -> Option<u32> {
        let id = self.persons.len() as u32;
        self.persons.push(Person { nhs: self.nhs.next()?, ..p });
        Some(id)
    }

    /// One household with at most `max_children` children; its events come later.
    fn family(&mut self, id: u32, max_children: usize) -> Option<Family> {
        let geo = self.geo;
        let rng = &mut self.rng;
        let area = rng.index(geo.areas.len()) as u32;
        let a = &geo.areas[area as usize];
        let postcode = *rng.pick(&a.postcodes);
        let address = self.book.allocate(geo, postcode, rng);
        let dep = f64::from(10 - a.decile) / 9.0;
        let single = rng.chance(0.16 + 0.22 * dep);
        let need = (0.45 * dep + 0.55 * rng.bell() + if single { 0.06 } else { 0.0 }).clamp(0.0, 1.0);
        // Squared twice rather than powi, whose rounding may depend on how it is lowered.
        let risk = (need * need) * (need * need);
        let district = &DISTRICTS[a.district as usize];
        let eth_weights: &[u32] = if district.diverse { &[720, 50, 150, 50, 30] } else { &[900, 30, 40, 15, 15] };
        let ethnicity = rng.weighted(eth_weights) as u8;
        let polish = ethnicity == WHITE && rng.chance(if district.diverse { 0.08 } else { 0.05 });
        // A mixed family: a White British parent and a parent of another group.
        let (pool1, pool2, eth1, eth2) = if ethnicity == MIXED {
            let other = if rng.chance(0.5) { 2 } else { 3 };
            (names::pool(WHITE, false), names::pool(other, false), WHITE, other)
        } else {
            let p = names::pool(ethnicity, polish);
            (p, p, ethnicity, ethnicity)
        };

        // Children's ages: an anchor age, then siblings older or younger by one to five years.
        let n_kids = (1 + rng.weighted(&[40, 38, 16, 6])).min(max_children.max(1));
        let anchor = rng.range(0, 18) as i32;
        let up = rng.chance(0.5);
        let mut ages = vec![anchor];
        while ages.len() < n_kids {
            let gap = if rng.chance(0.03) { 0 } else { rng.range(1, 5) as i32 };
            let last = ages[ages.len() - 1];
            let next = if up { last + gap } else { last - gap };
            if !(0..=18).contains(&next) {
                break;
            }
            ages.push(next);
        }
        ages.sort_unstable_by(|a, b| b.cmp(a));
        let mut dobs: Vec<i32> = Vec::with_capacity(ages.len());
        for (i, &age) in ages.iter().enumerate() {
            let twin = i > 0 && ages[i - 1] == age;
            dobs.push(if twin { dobs[i - 1] } else { day_in_year(rng, 2025 - age) });
        }
        let eldest = dobs[0];
        // The mother's age at the eldest's birth: younger in deprived areas, and never so old
        // that she would be over 44 at the youngest's.
        let span = f64::from(ages[0] - ages[ages.len() - 1]);
        let mother_age = (19.0 + 7.0 * (1.0 - dep) + 14.0 * (rng.bell() - 0.3)).clamp(16.0, 44.0 - span) as i32;
        let mother_dob = add_years(eldest, -mother_age) - rng.day(0, 364);
        let father_dob = add_years(mother_dob, -(rng.range(-2, 8) as i32)) - rng.day(0, 364);

        let s1 = (*rng.pick(pool1.surnames)).to_owned();
        let s1 = if rng.chance(0.02) { format!("{s1}-{}", rng.pick(pool1.surnames)) } else { s1 };
        let married = !single && rng.chance(0.55) && ethnicity != MIXED;
        let s2 = if married { s1.clone() } else { (*rng.pick(pool2.surnames)).to_owned() };
        let mother_name = *rng.pick(pool1.women);
        let father_name = *rng.pick(pool2.men);
        let lone_father = single && rng.chance(0.1);
        let absent = single && rng.chance(0.6);
        // The children's surname: the father's usually, sometimes the mother's or both.
        let kids_surname = match rng.weighted(&[60, 28, 12]) {
            _ if s1 == s2 => s1.clone(),
            0 if !single || absent || lone_father => s2.clone(),
            2 if s1 != s2 && !s1.contains('-') && !s2.contains('-') => format!("{s2}-{s1}"),
            _ => s1.clone(),
        };
        let blank = Person {
            family: id,
            member: Member::Parent,
            forename: "",
            surname: String::new(),
            dob: 0,
            sex: "F",
            ethnicity: eth1,
            nhs: 0,
            upn: None,
            pnc: None,
            absence: 0.0,
            flags: 0,
            prior_record: false,
        };
        let first = self.persons.len() as u32;
        if !lone_father {
            self.person(Person { forename: mother_name, surname: s1.clone(), dob: mother_dob, ..blank.clone() })?;
        }
        if !single || lone_father {
            let father = Person {
                forename: father_name,
                surname: s2.clone(),
                dob: father_dob,
                sex: "M",
                ethnicity: eth2,
                ..blank.clone()
            };
            self.person(father)?;
        }
        for &dob in &dobs {
            let rng = &mut self.rng;
            let boy = rng.chance(0.51);
            let kid_pool = if ethnicity == MIXED && rng.chance(0.4) { pool2 } else { pool1 };
            let forename = *rng.pick(if boy { kid_pool.boys } else { kid_pool.girls });
            let upn = self.upn_for(dob, a.school);
            self.person(Person {
                member: Member::Child,
                forename,
                surname: kids_surname.clone(),
                dob,
                sex: if boy { "M" } else { "F" },
                ethnicity,
                upn,
                ..blank.clone()
            })?;
        }
        let mut absent_address = None;
        if absent {
            let rng = &mut self.rng;
            let d = if rng.chance(0.8) { a.district } else { rng.index(DISTRICTS.len()) as u8 };
            let pc = geo.postcode_in(d, rng);
            absent_address = Some(self.book.allocate(geo, pc, &mut self.rng));
            let (forename, surname, dob, sex, ethnicity) = if lone_father {
                (mother_name, s1.clone(), mother_dob, "F", eth1)
            } else {
                (father_name, s2.clone(), father_dob, "M", eth2)
            };
            self.person(Person {
                member: Member::AbsentParent,
                forename,
                surname,
                dob,
                sex,
                ethnicity,
                ..blank.clone()
            })?;
        }
        let members = first..self.persons.len() as u32;
        Some(Family {
            address,
            previous: None,
            absent_address,
            members,
            risk,
            da: Vec::new(),
            housing: Vec::new(),
            district: Vec::new(),
            camhs: Vec::new(),
            offences: Vec::new(),
            missing: Vec::new(),
            asb: Vec::new(),
            cpv: Vec::new(),
            early_help: Vec::new(),
        })
    }

    /// A UPN for a child who had started Reception by September 2025.
    fn upn_for(&mut self, dob: i32, school: u16) -> Option<[u8; 13]> {
        let (y, m, _) = civil_from_days(dob);
        let cohort = if m >= 9 { y } else { y - 1 };
        let reception = cohort + 5;
        if reception > 2025 {
            return None;
        }
        self.upns.next(school, reception as u32)
    }

    fn pnc(&mut self, person: u32, year: i32) {
        let p = &mut self.persons[person as usize];
        if p.pnc.is_none() {
            p.pnc = Some(self.pncs.next(year.clamp(1990, 2025) as u32));
        }
    }

    /// Draws what happens to a family and its members in the window.
    fn events(&mut self, f: &mut Family, rng: &mut Rng) {
        let (start, end) = (start(), end());
        let risk = f.risk;
        let geo = self.geo;
        let parents: Vec<u32> =
            f.members.clone().filter(|&p| self.persons[p as usize].member == Member::Parent).collect();
        let kids: Vec<u32> = f.members.clone().filter(|&p| self.persons[p as usize].member == Member::Child).collect();
        let absent: Option<u32> = f.members.clone().find(|&p| self.persons[p as usize].member == Member::AbsentParent);
        let Some(&lead) = parents.first() else { return };

        // Housing crisis, and a move for some families (more often after a crisis).
        if rng.chance(0.012 + 0.35 * risk) {
            let approach = rng.day(start, end - 30);
            let duty = code(rng, &[("PREVENTION", 55), ("RELIEF", 30), ("MAIN", 10), ("NONE", 5)]);
            let ta = if matches!(duty, "RELIEF" | "MAIN") && rng.chance(0.6) {
                let kind = code(
                    rng,
                    &[
                        ("BED_AND_BREAKFAST", 15),
                        ("NIGHTLY_PAID", 30),
                        ("HOSTEL", 10),
                        ("PRIVATE_SECTOR_LEASED", 25),
                        ("SOCIAL_STOCK", 20),
                    ],
                );
                let s = approach + rng.day(0, 30);
                let e = s + rng.day(14, 420);
                Some((kind, s, (e <= end).then_some(e)))
            } else {
                None
            };
            f.housing.push(HousingCase { approach, duty, reason: "", ta, arrears_pence: None });
        }
        let crisis = !f.housing.is_empty();
        let c = f64::from(u8::from(crisis));
        if rng.chance(0.15 + 0.3 * c) {
            let pc = f.address.postcode;
            let d = if rng.chance(0.75) { geo.district_of(pc) } else { rng.index(DISTRICTS.len()) as u8 };
            let old = geo.postcode_in(d, rng);
            f.previous = Some(self.book.allocate(geo, old, rng));
        }

        // Domestic abuse: victim and suspect among the parents, or the absent parent.
        let suspect_pool: Option<(u32, u32)> = match (parents.as_slice(), absent) {
            ([m, d], _) => Some(if rng.chance(0.85) { (*m, *d) } else { (*d, *m) }),
            ([m], Some(x)) => Some((*m, x)),
            _ => None,
        };
        if let Some((victim, suspect)) = suspect_pool
            && rng.chance(0.02 + 0.35 * risk + 0.2 * c)
        {
            for (i, date) in days(rng, 0.35, 5, start, end).into_iter().enumerate() {
                let w = i as u32 * 8;
                let risk_code =
                    code(rng, &[("STANDARD", 60u32.saturating_sub(w * 2)), ("MEDIUM", 28 + w), ("HIGH", 12 + w)]);
                let suspect_outcome = code(
                    rng,
                    &[
                        ("ARREST", 35),
                        ("NFA", 30),
                        ("CHARGE", 15),
                        ("ONGOING", 10),
                        ("COMMUNITY_RESOLUTION", 5),
                        ("NONE", 5),
                    ],
                );
                if matches!(suspect_outcome, "ARREST" | "CHARGE") {
                    self.pnc(suspect, civil_from_days(date).0);
                }
                f.da.push(DaIncident {
                    date,
                    victim,
                    suspect,
                    risk: risk_code,
                    children_present: rng.chance(0.55),
                    suspect_outcome,
                });
            }
        }
        let da = f64::from(u8::from(!f.da.is_empty()));
        let da_high = f.da.iter().any(|d| d.risk == "HIGH");
        if let Some(h) = f.housing.first_mut() {
            let da_before = f.da.iter().any(|d| d.date <= h.approach);
            h.reason = if da_before && rng.chance(0.6) {
                "DOMESTIC_ABUSE"
            } else {
                code(
                    rng,
                    &[
                        ("END_OF_PRIVATE_TENANCY", 38),
                        ("FAMILY_FRIENDS_EVICTION", 22),
                        ("RELATIONSHIP_BREAKDOWN", 14),
                        ("RENT_ARREARS", 12),
                        ("DOMESTIC_ABUSE", 4),
                        ("OTHER", 10),
                    ],
                )
            };
            if h.reason == "RENT_ARREARS" || rng.chance(0.2) {
                h.arrears_pence = Some(pounds(rng, 300, 6000, false));
            }
        }

        // Parents offending outside the home.
        for &p in &parents {
            if rng.chance(0.008 + 0.08 * risk) {
                let dob = self.persons[p as usize].dob;
                let first_year = (civil_from_days(add_years(dob, 18)).0).max(1995);
                self.pnc(p, rng.range(i64::from(first_year), 2025) as i32);
                for date in days(rng, 0.3, 3, start, end) {
                    let category = offence_category(rng);
                    let police_outcome = code(
                        rng,
                        &[("ARREST", 30), ("CHARGE", 30), ("NFA", 25), ("COMMUNITY_RESOLUTION", 10), ("ONGOING", 5)],
                    );
                    f.offences.push(Offence {
                        person: p,
                        date,
                        category,
                        gravity: gravity(rng, category),
                        outcome: "",
                        outcome_date: date,
                        fte: false,
                        police_outcome,
                        youth: false,
                    });
                }
            }
        }

        // The children.
        let mut any_camhs = 0.0;
        for &k in &kids {
            let (dob, boy) = {
                let p = &self.persons[k as usize];
                (p.dob, p.sex == "M")
            };
            let sexw = if boy { 1.5 } else { 0.6 };
            let mut camhs = 0.0;
            if let Some((lo, hi)) = aged_between(dob, 5, 17, start, end)
                && rng.chance(0.045 + 0.3 * risk + 0.08 * da)
            {
                camhs = 1.0;
                any_camhs = 1.0;
                for _ in 0..count(rng, 0.2, 2) {
                    let mut received = rng.day(lo, hi);
                    if age_on(dob, received) < 8 && rng.chance(0.6) {
                        received = rng.day(lo, hi);
                    }
                    f.camhs.push(referral(rng, k, received, boy, age_on(dob, received), end));
                }
            }
            let mut offender = 0.0;
            if let Some((lo, hi)) = aged_between(dob, 10, 17, start, end - 120)
                && rng.chance((0.004 + 0.15 * risk + 0.03 * da) * sexw)
            {
                offender = 1.0;
                let y10 = civil_from_days(add_years(dob, 10)).0;
                let prior = y10 < 2023 && rng.chance(0.15);
                self.persons[k as usize].prior_record = prior;
                if prior {
                    self.pnc(k, rng.range(i64::from(y10.max(2015)), 2022) as i32);
                }
                let mut fte_given = prior;
                for (i, date) in days(rng, 0.45, 5, lo, hi).into_iter().enumerate() {
                    let category = offence_category(rng);
                    let gravity = gravity(rng, category);
                    let shift = i as u32 * 8 + u32::from(gravity >= 3) * 10;
                    let outcome = code(
                        rng,
                        &[
                            ("NFA", 10u32.saturating_sub(shift / 3)),
                            ("COMMUNITY_RESOLUTION", 30u32.saturating_sub(shift)),
                            ("OUTCOME_22", 15),
                            ("YOUTH_CAUTION", 15),
                            ("YOUTH_CONDITIONAL_CAUTION", 15 + shift / 2),
                            ("REFERRAL_ORDER", 12 + shift),
                            ("YRO", 2 + shift / 2),
                            ("DTO", 1 + shift / 6),
                        ],
                    );
                    let formal = matches!(
                        outcome,
                        "YOUTH_CAUTION" | "YOUTH_CONDITIONAL_CAUTION" | "REFERRAL_ORDER" | "YRO" | "DTO"
                    );
                    let fte = formal && !fte_given;
                    fte_given |= formal;
                    if formal {
                        self.pnc(k, civil_from_days(date).0);
                    }
                    let police_outcome = match outcome {
                        "NFA" => "NFA",
                        "COMMUNITY_RESOLUTION" => "COMMUNITY_RESOLUTION",
                        "REFERRAL_ORDER" | "YRO" | "DTO" => "CHARGE",
                        _ => "ARREST",
                    };
                    f.offences.push(Offence {
                        person: k,
                        date,
                        category,
                        gravity,
                        outcome,
                        outcome_date: date + rng.day(14, 120),
                        fte,
                        police_outcome,
                        youth: true,
                    });
                }
            }
            let mut lac = false;
            let mut ehcp = false;
            {
                let p = &mut self.persons[k as usize];
                if rng.chance(0.004 + 0.06 * risk + 0.04 * da) {
                    p.flags |= flags::CIN;
                }
                if rng.chance(0.001 + 0.02 * risk + if da_high { 0.12 } else { 0.0 }) {
                    p.flags |= flags::CPP;
                }
                if rng.chance(0.002 + 0.02 * risk) {
                    p.flags |= flags::LAC;
                    lac = true;
                }
                if p.upn.is_some() && rng.chance(if boy { 0.034 } else { 0.017 } + 0.03 * risk) {
                    p.flags |= flags::EHCP;
                    ehcp = true;
                }
            }
            if let Some((lo, hi)) = aged_between(dob, 10, 17, start, end)
                && rng.chance(0.005 + 0.12 * risk + 0.05 * camhs + if lac { 0.2 } else { 0.0 })
            {
                for date in days(rng, 0.5, 6, lo, hi) {
                    let risk_code = code(rng, &[("NO_APPARENT_RISK", 25), ("LOW", 40), ("MEDIUM", 28), ("HIGH", 7)]);
                    let hours = if risk_code == "HIGH" { rng.range(6, 96) } else { rng.range(1, 30) } as u32;
                    f.missing.push(Missing { child: k, date, risk: risk_code, hours });
                }
            }
            if let Some((lo, hi)) = aged_between(dob, 12, 17, start, end)
                && rng.chance((0.008 + 0.12 * risk) * sexw)
            {
                for date in days(rng, 0.3, 2, lo, hi) {
                    let outcome = code(rng, &[("NONE", 30), ("NFA", 30), ("COMMUNITY_RESOLUTION", 40)]);
                    f.asb.push(Asb { person: k, date, outcome });
                    if rng.chance(0.4) {
                        let d = (date + rng.day(7, 60)).min(end);
                        f.district.push(DistrictEvent {
                            date: d,
                            person: k,
                            kind: "ASB_CASE",
                            amount_pence: None,
                            stage: None,
                        });
                    }
                }
            }
            if let Some((lo, hi)) = aged_between(dob, 12, 17, start, end)
                && rng.chance(0.002 + 0.05 * risk + 0.03 * camhs)
            {
                let outcome = code(rng, &[("NFA", 50), ("COMMUNITY_RESOLUTION", 25), ("ARREST", 15), ("NONE", 10)]);
                f.cpv.push(Cpv { child: k, parent: lead, date: rng.day(lo, hi), outcome });
            }
            // Absence: mostly low, higher with need, mental health, a housing crisis, domestic
            // abuse, SEND and offending, and a severe tail.
            let mut absence = 0.025
                + 0.06 * rng.unit()
                + 0.22 * risk
                + 0.07 * camhs
                + 0.04 * c
                + 0.03 * da
                + if ehcp { 0.04 } else { 0.0 }
                + 0.05 * offender;
            if rng.chance(0.008 + 0.06 * risk + 0.05 * camhs) {
                absence += 0.25 + 0.4 * rng.unit();
            }
            self.persons[k as usize].absence = absence.min(0.95);
        }

        // District: council tax arrears and support, crisis payments.
        let liable = if parents.len() > 1 && rng.chance(0.3) { parents[1] } else { lead };
        if rng.chance(0.04 + 0.5 * risk + 0.2 * c) {
            for _ in 0..count(rng, 0.25, 2) {
                let mut d = rng.day(start, end - 30);
                let mut arrears = pounds(rng, 120, 2500, false);
                let stages = ["REMINDER", "SUMMONS", "LIABILITY_ORDER", "ENFORCEMENT_AGENT"];
                for (i, stage) in stages.into_iter().enumerate() {
                    if d > end || (i > 0 && !rng.chance([1.0, 0.65, 0.6, 0.4][i])) {
                        break;
                    }
                    let kind = "COUNCIL_TAX_ARREARS";
                    f.district.push(DistrictEvent {
                        date: d,
                        person: liable,
                        kind,
                        amount_pence: Some(arrears),
                        stage: Some(stage),
                    });
                    if stage == "SUMMONS" {
                        arrears += 7_000;
                    }
                    d += rng.day(14, 90);
                }
            }
        }
        if rng.chance(0.06 + 0.7 * risk) {
            let weekly = pounds(rng, 3, 32, false);
            for year in 2023..=2025 {
                if year > 2023 && !rng.chance(0.85) {
                    break;
                }
                let date = days_from_civil(year, 4, 1) + rng.day(-10, 20);
                let amount = Some(weekly + rng.range(-150, 250).max(-weekly + 100));
                f.district.push(DistrictEvent {
                    date,
                    person: liable,
                    kind: "COUNCIL_TAX_REDUCTION",
                    amount_pence: amount,
                    stage: None,
                });
            }
        }
        if rng.chance(0.01 + 0.3 * risk + 0.25 * c) {
            for date in days(rng, 0.4, 3, start, end) {
                let amount = Some(pounds(rng, 40, 300, false));
                f.district.push(DistrictEvent {
                    date,
                    person: liable,
                    kind: "CRISIS_PAYMENT",
                    amount_pence: amount,
                    stage: None,
                });
            }
        }
        if let Some(h) = f.housing.first()
            && rng.chance(0.35 + 0.03 * risk)
        {
            let date = (h.approach + rng.day(-30, 90)).clamp(start, end);
            let amount = Some(pounds(rng, 150, 1800, false));
            let kind = "DISCRETIONARY_HOUSING_PAYMENT";
            f.district.push(DistrictEvent { date, person: liable, kind, amount_pence: amount, stage: None });
        }
        if !kids.is_empty() && rng.chance(0.03 + 0.45 * risk) {
            let holidays = [
                (2023, 7, 24),
                (2023, 12, 18),
                (2024, 4, 2),
                (2024, 7, 25),
                (2024, 12, 19),
                (2025, 4, 7),
                (2025, 7, 24),
                (2025, 12, 18),
            ];
            for _ in 0..count(rng, 0.5, 4) {
                let (y, m, d) = *rng.pick(&holidays);
                let date = days_from_civil(y, m, d) + rng.day(-14, 7);
                let amount = Some(pounds(rng, 8, 30, true) * 5);
                f.district.push(DistrictEvent {
                    date,
                    person: liable,
                    kind: "HOUSEHOLD_SUPPORT_FUND",
                    amount_pence: amount,
                    stage: None,
                });
            }
        }
        if rng.chance(0.005 + 0.05 * risk) {
            f.district.push(DistrictEvent {
                date: rng.day(start, end),
                person: liable,
                kind: "HOUSING_CONDITION",
                amount_pence: None,
                stage: None,
            });
        }
        if rng.chance(0.005 + 0.04 * risk) {
            f.district.push(DistrictEvent {
                date: rng.day(start, end),
                person: lead,
                kind: "ASB_CASE",
                amount_pence: None,
                stage: None,
            });
        }
        f.district.sort_by_key(|e| e.date);

        // Early help for the family.
        if !kids.is_empty() && rng.chance(0.01 + 0.35 * risk + 0.2 * da + 0.1 * c + 0.1 * any_camhs) {
            let mut open = rng.day(start, end - 30);
            for _ in 0..count(rng, 0.15, 2) {
                if open > end {
                    break;
                }
                let close = open + rng.day(60, 360);
                let outcome = code(
                    rng,
                    &[
                        ("NEEDS_MET", 55),
                        ("STEP_UP_TO_SOCIAL_CARE", 12),
                        ("DISENGAGED", 18),
                        ("MOVED_AWAY", 5),
                        ("OTHER", 10),
                    ],
                );
                f.early_help.push(Episode { open, close: (close <= end).then_some((close, outcome)) });
                open = close + rng.day(60, 300);
            }
        }
    }
}

fn offence_category(rng: &mut Rng) -> &'static str {
    code(
        rng,
        &[
            ("VIOLENCE", 30),
            ("THEFT", 18),
            ("CRIMINAL_DAMAGE", 10),
            ("DRUGS", 12),
            ("ROBBERY", 5),
            ("BURGLARY", 5),
            ("MOTORING", 8),
            ("SEXUAL", 2),
            ("OTHER", 10),
        ],
    )
}

fn gravity(rng: &mut Rng, category: &str) -> u8 {
    let (lo, hi) = match category {
        "VIOLENCE" => (2, 3),
        "ROBBERY" | "SEXUAL" => (3, 4),
        "BURGLARY" => (3, 3),
        "DRUGS" => (1, 2),
        _ => (1, 2),
    };
    rng.range(lo, hi) as u8
}

/// A CAMHS referral received on a day for a child of an age.
fn referral(rng: &mut Rng, child: u32, received: i32, boy: bool, age: i32, end: i32) -> Referral {
    let teen_girl = !boy && age >= 12;
    let reason = code(
        rng,
        &[
            ("ANXIETY", 28),
            ("DEPRESSION", if age >= 12 { 16 } else { 4 }),
            ("SELF_HARM", if teen_girl { 16 } else { 4 }),
            ("EATING_DISORDER", if teen_girl { 8 } else { 1 }),
            ("NEURODEVELOPMENTAL", if age < 12 { 35 } else { 12 } + if boy { 10 } else { 0 }),
            ("CONDUCT", if boy { 10 } else { 4 }),
            ("CRISIS", if age >= 12 { 6 } else { 1 }),
            ("OTHER", 8),
        ],
    );
    let source = code(
        rng,
        &[
            ("GP", 35),
            ("SELF", if age >= 14 { 8 } else { 1 }),
            ("LA_SOCIAL_CARE", 8),
            ("AE", if reason == "CRISIS" || reason == "SELF_HARM" { 30 } else { 4 }),
            ("EDUCATION", 25),
            ("POLICE", 3),
            ("CARER", 7),
            ("OTHER", 9),
        ],
    );
    let priority = if reason == "CRISIS" {
        code(rng, &[("EMERGENCY", 40), ("VERY_URGENT", 35), ("URGENT", 25)])
    } else {
        code(rng, &[("ROUTINE", 78), ("URGENT", 17), ("VERY_URGENT", 4), ("EMERGENCY", 1)])
    };
    let outcome = if received > end - 21 && rng.chance(0.6) {
        "PENDING"
    } else {
        code(rng, &[("ACCEPTED", 68), ("REJECTED", 27), ("PENDING", 5)])
    };
    let mut r = Referral {
        child,
        received,
        source,
        reason,
        priority,
        outcome,
        first_contact: None,
        contacts: None,
        discharge: None,
    };
    if outcome == "ACCEPTED" {
        let wait = if priority == "ROUTINE" { rng.day(14, 200) } else { rng.day(0, 14) };
        let first = received + wait;
        if first <= end {
            r.first_contact = Some(first);
            let attended = rng.range(1, 20) as u16;
            let dna = rng.weighted(&[60, 20, 10, 6, 4]) as u16;
            r.contacts = Some((attended, dna));
            let discharge = first + rng.day(30, 400);
            if discharge <= end {
                let reason = if dna >= 3 {
                    "DNA"
                } else {
                    code(
                        rng,
                        &[
                            ("TREATMENT_COMPLETED", 60),
                            ("DNA", 8),
                            ("TRANSFERRED", 12),
                            ("MOVED_AWAY", 5),
                            ("OTHER", 15),
                        ],
                    )
                };
                r.discharge = Some((discharge, reason));
            }
        } else {
            r.contacts = Some((0, 0));
        }
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use tellonce_schemas::Kind;

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

    #[test]
    fn identifiers_are_valid_and_distinct() {
        let mut nhs = NhsNumbers { i: 0, offset: 12_345 };
        let mut seen = std::collections::HashSet::new();
        for _ in 0..20_000 {
            let n = nhs.next().unwrap();
            assert!(Kind::NhsNumber.check(&n.to_string()).is_ok(), "{n}");
            assert!(n.to_string().starts_with("999"));
            assert!(seen.insert(n));
        }
        let mut upns = Upns::default();
        let mut seen = std::collections::HashSet::new();
        for i in 0..3000u32 {
            let u = upns.next(2001, 2015 + i % 2).unwrap();
            let s = std::str::from_utf8(&u).unwrap().to_owned();
            assert!(Kind::Upn.check(&s).is_ok(), "{s}");
            assert_eq!(&s[1..4], "938");
            assert!(seen.insert(s));
        }
    }
}
