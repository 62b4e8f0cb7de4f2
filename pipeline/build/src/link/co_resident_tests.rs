//! Unit tests of the links a shared home vouches for, on hand-made records (see `score_tests`
//! for how tokens stand in for keyed ones).

use super::cluster::{Options, Persons, persons};
use super::compare::Tk;
use super::records::{HouseholdKind, Records, Tok};
use super::rules::Rule;
use super::score_tests::{AMY, Who, add};

const MUM: Who = Who { fore: 40, dob: (1985, 3, 4), ..AMY };
const BEN: Who = Who { fore: 50, dob: (2014, 9, 2), ..AMY };
/// Amy's twin: her birthday, another forename.
const TWIN: Who = Who { fore: 60, ..AMY };

/// The family at the address health visiting holds, after a move housing has not heard of.
fn moved(w: Who) -> Who {
    Who { postcode: 13, sector: 14, district: 15, ..w }
}

fn token(v: u32) -> Tok {
    let mut t = [0; 16];
    t[..4].copy_from_slice(&v.to_le_bytes());
    t[15] = 0xAB;
    t
}

fn at(r: &mut Records, home: u32, i: u32) {
    r.households.push((HouseholdKind::Address, 0, token(home), i));
}

/// Records of a family: housing holds the mother, Amy, Ben and Amy's twin at their old home;
/// health visiting holds Amy (no date of birth), Ben and, where `mum_in_both`, the mother at the
/// new one. Only the mother's NHS number is held by both.
struct County {
    recs: Records,
    amy_housing: u32,
    amy_hv: u32,
    ben_housing: u32,
    ben_hv: u32,
    twin: u32,
}

fn county(mum_in_both: bool) -> County {
    let mut r = Records::new();
    let mum_housing = add(&mut r, "housing", "H1", MUM, b'F');
    let amy_housing = add(&mut r, "housing", "H2", AMY, b'F');
    let ben_housing = add(&mut r, "housing", "H3", BEN, b'M');
    let twin = add(&mut r, "housing", "H4", TWIN, b'F');
    for i in [mum_housing, amy_housing, ben_housing, twin] {
        at(&mut r, 500, i);
    }
    r.strong[0][mum_housing as usize] = Some(token(900));
    let amy_hv = add(&mut r, "health_visiting", "V2", moved(Who { dob: (0, 0, 0), ..AMY }), b'F');
    let ben_hv = add(&mut r, "health_visiting", "V3", moved(BEN), b'M');
    for i in [amy_hv, ben_hv] {
        at(&mut r, 501, i);
    }
    if mum_in_both {
        let mum_hv = add(&mut r, "health_visiting", "V1", moved(MUM), b'F');
        at(&mut r, 501, mum_hv);
        r.strong[0][mum_hv as usize] = Some(token(900));
    }
    County { recs: r, amy_housing, amy_hv, ben_housing, ben_hv, twin }
}

/// The scoring pass held to a line no pair of this family reaches on its own, so that only a
/// shared home can link.
fn build(r: &Records) -> Persons {
    persons(r, &Options { score_threshold: Some(60.0), ..Options::default() }, None)
}

#[test]
fn a_home_both_partners_know_through_one_person_vouches_for_its_other_members() {
    let c = county(true);
    let p = build(&c.recs);
    let same = |a: u32, b: u32| p.person[a as usize] == p.person[b as usize];
    assert!(same(c.amy_hv, c.amy_housing), "Amy, without a date of birth, after a move");
    assert!(same(c.ben_hv, c.ben_housing), "Ben, after a move");
    assert_eq!(p.rule[c.amy_hv as usize], Some(Rule::CoResident));
    assert_eq!(p.stats.merges_by_rule.get("co_resident"), Some(&2));
    assert!(p.score[c.amy_hv as usize].is_some(), "the link's weight is kept");
    // Amy's twin shares her birthday, surname and home, not her forename.
    assert!(!same(c.twin, c.amy_housing));
    assert!(!same(c.twin, c.amy_hv));
    assert!(!same(c.ben_hv, c.amy_hv));

    // `[linkage] co_resident = false`: only evidence about the pair itself links it.
    let off =
        persons(&c.recs, &Options { score_threshold: Some(60.0), co_resident: false, ..Options::default() }, None);
    assert_ne!(off.person[c.amy_hv as usize], off.person[c.amy_housing as usize]);
    assert_eq!((off.stats.merges_by_rule.get("co_resident"), off.stats.scoring.co_resident), (None, 0));
}

#[test]
fn without_a_person_both_partners_hold_a_home_vouches_for_no_one() {
    let c = county(false);
    let p = build(&c.recs);
    let same = |a: u32, b: u32| p.person[a as usize] == p.person[b as usize];
    assert!(!same(c.amy_hv, c.amy_housing));
    assert!(!same(c.ben_hv, c.ben_housing));
    assert_eq!(p.stats.merges_by_rule.get("co_resident"), None);
}

#[test]
fn a_home_of_more_than_a_household_vouches_for_no_one() {
    let mut c = county(true);
    // Twelve more people at the housing address: a hostel, as families read it.
    for k in 0..12 {
        let i = add(&mut c.recs, "housing", &format!("X{k}"), Who { fore: 100 + k, sur: 200 + k, ..BEN }, b'M');
        at(&mut c.recs, 500, i);
    }
    let p = build(&c.recs);
    assert!(p.person[c.amy_hv as usize] != p.person[c.amy_housing as usize]);
}

/// A mother and daughter of one name, and the father, held by housing; the father and a Jess of
/// that name with no date of birth held by health visiting. Housing has them at one address, or,
/// where `daughter_at_uprn`, the mother at the address and the daughter at the property (a UPRN),
/// each home with the father.
struct Jess {
    recs: Records,
    mum: u32,
    daughter: u32,
    dad_housing: u32,
    dad_hv: u32,
    jess: u32,
}

fn jess_family(daughter_at_uprn: bool) -> Jess {
    let jess_mum = Who { dob: (1985, 3, 4), ..AMY };
    let dad = Who { fore: 70, dob: (1983, 1, 9), ..AMY };
    let mut r = Records::new();
    let mum = add(&mut r, "housing", "H1", jess_mum, b'F');
    let daughter = add(&mut r, "housing", "H2", AMY, b'F');
    let dad_housing = add(&mut r, "housing", "H3", dad, b'M');
    for i in [mum, dad_housing] {
        at(&mut r, 500, i);
    }
    if daughter_at_uprn {
        for i in [daughter, dad_housing] {
            r.households.push((HouseholdKind::Uprn, 0, token(600), i));
        }
    } else {
        at(&mut r, 500, daughter);
    }
    let dad_hv = add(&mut r, "health_visiting", "V1", moved(dad), b'M');
    let jess = add(&mut r, "health_visiting", "V2", moved(Who { dob: (0, 0, 0), ..AMY }), b'F');
    for i in [dad_hv, jess] {
        at(&mut r, 501, i);
    }
    for i in [dad_housing, dad_hv] {
        r.strong[0][i as usize] = Some(token(901));
    }
    Jess { recs: r, mum, daughter, dad_housing, dad_hv, jess }
}

#[test]
fn a_record_that_could_be_either_of_two_people_of_the_other_home_is_linked_to_neither() {
    let f = jess_family(false);
    let p = build(&f.recs);
    let same = |a: u32, b: u32| p.person[a as usize] == p.person[b as usize];
    assert!(same(f.dad_hv, f.dad_housing));
    assert!(!same(f.jess, f.mum));
    assert!(!same(f.jess, f.daughter));
    assert!(!same(f.mum, f.daughter));
}

#[test]
fn a_person_who_could_be_either_of_two_people_of_one_partner_in_two_of_its_homes_is_linked_to_neither() {
    // Each pair of homes alone is unambiguous.
    let f = jess_family(true);
    let p = build(&f.recs);
    let same = |a: u32, b: u32| p.person[a as usize] == p.person[b as usize];
    assert!(same(f.dad_hv, f.dad_housing));
    assert!(!same(f.mum, f.daughter), "a mother and her daughter merged through a record of neither");
    assert!(!same(f.jess, f.mum) && !same(f.jess, f.daughter));
}

#[test]
fn a_shared_surname_and_a_name_that_only_sounds_alike_beside_no_date_vouch_for_no_one() {
    // Housing holds the mother and Ben; health visiting the mother and Ben's sister Bea, without
    // a date of birth. Ben and Bea share a Soundex code and the family's surname.
    let bea = Who { fore: 80, ..BEN };
    let mut r = Records::new();
    let mum_housing = add(&mut r, "housing", "H1", MUM, b'F');
    let ben = add(&mut r, "housing", "H3", BEN, b'M');
    for i in [mum_housing, ben] {
        at(&mut r, 500, i);
    }
    let mum_hv = add(&mut r, "health_visiting", "V1", moved(MUM), b'F');
    let bea_hv = add(&mut r, "health_visiting", "V9", moved(Who { dob: (0, 0, 0), ..bea }), b'F');
    for i in [mum_hv, bea_hv] {
        at(&mut r, 501, i);
    }
    for i in [mum_housing, mum_hv] {
        r.strong[0][i as usize] = Some(token(900));
    }
    for i in [ben, bea_hv] {
        r.tokens[i as usize][Tk::ForenameSoundex as usize] = 9_999;
    }
    let p = build(&r);
    assert_eq!(p.person[mum_hv as usize], p.person[mum_housing as usize]);
    assert_ne!(p.person[bea_hv as usize], p.person[ben as usize]);
}

#[test]
fn link_explain_weighs_a_home_vouched_pair_in_its_home_against_the_line() {
    use super::explain_home::{Homes, view};
    use super::term_frequency::TermFrequencies;
    use super::train::{Model, logit_bits};
    let c = county(true);
    let p = build(&c.recs);
    let person = |r: usize| p.person.get(r).copied();
    let all: Vec<u32> = (0..c.recs.len() as u32).collect();
    let tf = TermFrequencies::of(&c.recs.tokens, &all);
    let homes = Homes::of(&c.recs);
    let model = Model::documented();
    let (hv, housing) = (c.amy_hv as usize, c.amy_housing as usize);
    let home = view(&c.recs, &homes, &person, &model, &tf, hv, housing, 0.9).expect("Amy's homes share her mother");
    assert!((2..=15).contains(&home.persons), "{}", home.persons);
    assert_eq!(home.prior_bits, -((home.persons - 1) as f64).log2());
    assert!(home.bits >= home.line_bits && home.line_bits == logit_bits(0.9), "{home:?}");
    let fields: Vec<&str> = home.steps.iter().map(|s| s.field).collect();
    assert!(fields.iter().all(|f| !["surname", "postcode", "address"].contains(f)), "{fields:?}");
    // Records of one partner share no home of two partners; without the mother in both, no home.
    assert!(view(&c.recs, &homes, &person, &model, &tf, hv, hv, 0.9).is_none());
    let apart = county(false);
    let p = build(&apart.recs);
    let person = |r: usize| p.person.get(r).copied();
    let (hv, housing) = (apart.amy_hv as usize, apart.amy_housing as usize);
    assert!(view(&apart.recs, &Homes::of(&apart.recs), &person, &model, &tf, hv, housing, 0.9).is_none());
}
