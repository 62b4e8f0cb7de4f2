//! Households: where a family lives, who is in it (parents, children, an absent parent), what
//! they are called, when they were born, and the UPNs of the children at school.

use tellonce_schemas::identifiers::dates::civil_from_days;

use super::draw::day_in_year;
use super::{Builder, Family, Member, Person, add_years};
use crate::geo::{Address, Area, DISTRICTS, District};
use crate::names::{self, MIXED, NamePool, WHITE};
use crate::rng::Rng;

/// A family's ethnicity and the naming pools of its two parents.
struct Origin {
    ethnicity: u8,
    /// The mother's ethnicity and naming pool (a mixed family's White British parent).
    eth1: u8,
    pool1: &'static NamePool,
    /// The father's ethnicity and naming pool (a mixed family's other parent).
    eth2: u8,
    pool2: &'static NamePool,
}

/// The dates of birth in a family.
struct Births {
    /// Eldest first; twins share a date.
    children: Vec<i32>,
    mother: i32,
    father: i32,
}

/// Who heads the household and what everyone is called.
struct Naming {
    /// A lone parent household.
    single: bool,
    /// The lone parent is the father.
    lone_father: bool,
    /// The lone parent's ex-partner is recorded, at an address of their own.
    absent: bool,
    mother: &'static str,
    mother_surname: String,
    father: &'static str,
    father_surname: String,
    children_surname: String,
}

impl Builder<'_> {
    /// One household with at most `max_children` children; its events come later.
    pub(super) fn family(&mut self, id: u32, max_children: usize) -> Option<Family> {
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
        let origin = origin(rng, &DISTRICTS[a.district as usize]);
        let births = births(rng, dep, max_children);
        let naming = naming(rng, &origin, single);

        let blank = Person {
            family: id,
            member: Member::Parent,
            forename: "",
            surname: String::new(),
            dob: 0,
            sex: "F",
            ethnicity: origin.eth1,
            nhs: 0,
            upn: None,
            pnc: None,
            absence: 0.0,
            flags: 0,
            prior_record: false,
        };
        let first = self.persons.len() as u32;
        self.add_parents(&blank, &origin, &births, &naming)?;
        self.add_children(&blank, &origin, &births, &naming, a)?;
        let absent_address =
            if naming.absent { Some(self.add_absent_parent(&blank, &origin, &births, &naming, a)?) } else { None };
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

    /// The resident parents: the mother unless the father is a lone parent, the father unless
    /// the mother is.
    fn add_parents(&mut self, blank: &Person, origin: &Origin, births: &Births, naming: &Naming) -> Option<()> {
        if !naming.lone_father {
            self.person(Person {
                forename: naming.mother,
                surname: naming.mother_surname.clone(),
                dob: births.mother,
                ..blank.clone()
            })?;
        }
        if !naming.single || naming.lone_father {
            let father = Person {
                forename: naming.father,
                surname: naming.father_surname.clone(),
                dob: births.father,
                sex: "M",
                ethnicity: origin.eth2,
                ..blank.clone()
            };
            self.person(father)?;
        }
        Some(())
    }

    /// The children, with forenames from either parent's pool in a mixed family, and UPNs once
    /// they have started school in the area.
    fn add_children(
        &mut self,
        blank: &Person,
        origin: &Origin,
        births: &Births,
        naming: &Naming,
        area: &Area,
    ) -> Option<()> {
        let mut given: Vec<&'static str> = Vec::with_capacity(births.children.len());
        for &dob in &births.children {
            let rng = &mut self.rng;
            let boy = rng.chance(0.51);
            let kid_pool = if origin.ethnicity == MIXED && rng.chance(0.4) { origin.pool2 } else { origin.pool1 };
            let names = if boy { kid_pool.boys } else { kid_pool.girls };
            // Parents do not give two of their children one forename (twins least of all). Up to
            // eight more draws from a pool of dozens leave a repeat very rare, though not impossible.
            let mut forename = *rng.pick(names);
            for _ in 0..8 {
                if !given.contains(&forename) {
                    break;
                }
                forename = *rng.pick(names);
            }
            given.push(forename);
            let upn = self.upn_for(dob, area.school);
            self.person(Person {
                member: Member::Child,
                forename,
                surname: naming.children_surname.clone(),
                dob,
                sex: if boy { "M" } else { "F" },
                ethnicity: origin.ethnicity,
                upn,
                ..blank.clone()
            })?;
        }
        Some(())
    }

    /// The parent who lives elsewhere, mostly in the same district; returns their address.
    fn add_absent_parent(
        &mut self,
        blank: &Person,
        origin: &Origin,
        births: &Births,
        naming: &Naming,
        area: &Area,
    ) -> Option<Address> {
        let geo = self.geo;
        let rng = &mut self.rng;
        let d = if rng.chance(0.8) { area.district } else { rng.index(DISTRICTS.len()) as u8 };
        let pc = geo.postcode_in(d, rng);
        let address = self.book.allocate(geo, pc, &mut self.rng);
        let (forename, surname, dob, sex, ethnicity) = if naming.lone_father {
            (naming.mother, naming.mother_surname.clone(), births.mother, "F", origin.eth1)
        } else {
            (naming.father, naming.father_surname.clone(), births.father, "M", origin.eth2)
        };
        self.person(Person { member: Member::AbsentParent, forename, surname, dob, sex, ethnicity, ..blank.clone() })?;
        Some(address)
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
}

/// The family's ethnicity, weighted by how diverse its district is, and its naming pools.
fn origin(rng: &mut Rng, district: &District) -> Origin {
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
    Origin { ethnicity, eth1, pool1, eth2, pool2 }
}

/// The children's and parents' dates of birth; `dep` (0 least, 1 most deprived) makes mothers
/// younger.
fn births(rng: &mut Rng, dep: f64, max_children: usize) -> Births {
    let ages = child_ages(rng, max_children);
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
    Births { children: dobs, mother: mother_dob, father: father_dob }
}

/// The children's ages at the end of 2025, eldest first: an anchor age, then siblings older or
/// younger by one to five years (rarely a twin), within 0 to 18.
fn child_ages(rng: &mut Rng, max_children: usize) -> Vec<i32> {
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
    ages
}

/// The parents' names, whether the household has one parent (and which), and the children's
/// surname.
fn naming(rng: &mut Rng, origin: &Origin, single: bool) -> Naming {
    let (pool1, pool2) = (origin.pool1, origin.pool2);
    let s1 = (*rng.pick(pool1.surnames)).to_owned();
    let s1 = if rng.chance(0.02) { format!("{s1}-{}", rng.pick(pool1.surnames)) } else { s1 };
    let married = !single && rng.chance(0.55) && origin.ethnicity != MIXED;
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
    Naming {
        single,
        lone_father,
        absent,
        mother: mother_name,
        mother_surname: s1,
        father: father_name,
        father_surname: s2,
        children_surname: kids_surname,
    }
}
