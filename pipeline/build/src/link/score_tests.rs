//! Unit tests of the scoring pass on hand-made records: interned tokens stand for the keyed
//! tokens the pseudonymise stage makes (equal numbers: equal tokens).

use super::cluster::{Options, Veto, persons};
use super::compare::{TK, Tk, Tokens};
use super::levels::{self, ix};
use super::records::{NONE, Records};
use super::rules::Rule;

/// A person's identity as the compared tokens would show it.
#[derive(Clone, Copy)]
pub(super) struct Who {
    pub(super) fore: u32,
    pub(super) sur: u32,
    pub(super) dob: (u32, u32, u32),
    pub(super) postcode: u32,
    pub(super) sector: u32,
    pub(super) district: u32,
}

pub(super) const AMY: Who = Who { fore: 1, sur: 2, dob: (2012, 7, 13), postcode: 3, sector: 4, district: 5 };

/// Tokens for `w`; ids from disjoint ranges so that unrelated tokens never collide.
fn tokens(w: Who) -> Tokens {
    let mut t = [NONE; TK];
    let (y, m, d) = w.dob;
    if y != 0 {
        let (lo, hi) = if m <= d { (m, d) } else { (d, m) };
        t[Tk::Dob as usize] = 1_000_000 + y * 10_000 + m * 100 + d;
        t[Tk::DobUnordered as usize] = 2_000_000 + y * 10_000 + lo * 100 + hi;
        t[Tk::YearMonth as usize] = 3_000_000 + y * 100 + m;
        t[Tk::YearDay as usize] = 4_000_000 + y * 100 + d;
        t[Tk::MonthDay as usize] = 5_000_000 + m * 100 + d;
        t[Tk::YearEven as usize] = 6_000_000 + y - y % 2;
        t[Tk::YearOdd as usize] = 7_000_000 + y - (y + 1) % 2;
    }
    let name = |v: u32| if v == 0 { NONE } else { 8_000_000 + v };
    t[Tk::Forename as usize] = name(w.fore);
    t[Tk::Surname as usize] = name(w.sur);
    t[Tk::ClassFirst as usize] = if w.fore == 0 { NONE } else { 9_000_000 + w.fore };
    t[Tk::ClassLast as usize] = t[Tk::ClassFirst as usize];
    t[Tk::PartFirst as usize] = name(w.sur);
    t[Tk::PartLast as usize] = name(w.sur);
    let place = |v: u32, base: u32| if v == 0 { NONE } else { base + v };
    t[Tk::Postcode as usize] = place(w.postcode, 10_000_000);
    t[Tk::Sector as usize] = place(w.sector, 11_000_000);
    t[Tk::District as usize] = place(w.district, 12_000_000);
    t
}

/// Adds a record of `feed` for `w`, with its date-of-birth tokens where the rules read them.
pub(super) fn add(r: &mut Records, feed: &'static str, id: &str, w: Who, sex: u8) -> u32 {
    let i = r.push(feed, id.to_owned());
    let t = tokens(w);
    r.tokens[i as usize] = t;
    let tok = |v: u32| (v != NONE).then(|| [v.to_le_bytes(), [0; 4], [0; 4], [0; 4]].concat().try_into().unwrap());
    r.dob[i as usize] = tok(t[Tk::Dob as usize]);
    r.dob_unordered[i as usize] = tok(t[Tk::DobUnordered as usize]);
    r.postcode[i as usize] = tok(t[Tk::Postcode as usize]);
    r.sex[i as usize] = sex;
    i
}

fn linked(r: &Records, a: u32, b: u32) -> bool {
    let p = persons(r, &Options::default(), None);
    p.person[a as usize] == p.person[b as usize]
}

#[test]
fn a_mistyped_date_of_birth_still_links_on_names_and_address() {
    for dob in [(2012, 7, 18), (2012, 7, 31), (2013, 7, 13), (2017, 7, 13), (2012, 1, 13)] {
        let mut r = Records::new();
        let a = add(&mut r, "camhs", "C1", AMY, b'F');
        let b = add(&mut r, "police", "P1", Who { dob, ..AMY }, b'F');
        let p = persons(&r, &Options::default(), None);
        assert_eq!(p.person[a as usize], p.person[b as usize], "{dob:?}");
        assert_eq!(p.rule[b as usize], Some(Rule::Scored));
        assert!(p.score[b as usize].is_some_and(|w| f64::from(w) >= p.stats.scoring.threshold));
        assert_eq!(p.stats.merges_by_rule.get("fs_score"), Some(&1));
    }
}

#[test]
fn a_date_far_apart_weighs_against_but_two_settled_dates_never_merge() {
    // One record with a replaced date of birth and everything else agreeing: a slip.
    let mut r = Records::new();
    let a = add(&mut r, "camhs", "C1", AMY, b'F');
    let b = add(&mut r, "police", "P1", Who { dob: (2014, 1, 30), ..AMY }, b'F');
    assert!(linked(&r, a, b));
    // Two records each (a parent and a child of one name): each date is settled, they stay apart.
    let mut r = Records::new();
    let a = add(&mut r, "camhs", "C1", AMY, b'F');
    add(&mut r, "camhs", "C2", AMY, b'F');
    let b = add(&mut r, "police", "P1", Who { dob: (2014, 1, 30), ..AMY }, b'F');
    add(&mut r, "police", "P2", Who { dob: (2014, 1, 30), ..AMY }, b'F');
    assert!(!linked(&r, a, b));
    // A link whose pair weighed no date (one record has none) needs only one side's date
    // settled: a mother known to police twice (one PNC ID), once without a date at the child's
    // home under a name like the child's, does not bring her dated record into the child's person.
    let mut r = Records::new();
    let a = add(&mut r, "camhs", "C1", AMY, b'F');
    add(&mut r, "health_visiting", "H1", AMY, b'F');
    let mum = Who { fore: 9, dob: (1988, 1, 30), postcode: 30, sector: 31, district: 32, ..AMY };
    let dated = add(&mut r, "police", "P1", mum, b'F');
    let undated = add(&mut r, "police", "P2", Who { fore: 9, dob: (0, 0, 0), ..AMY }, b'F');
    for i in [dated, undated] {
        r.tokens[i as usize][Tk::ClassFirst as usize] = r.tokens[a as usize][Tk::ClassFirst as usize];
        r.strong[2][i as usize] = Some([5; 16]);
    }
    let p = persons(&r, &Options::default(), None);
    assert_ne!(p.person[a as usize], p.person[dated as usize], "{:?}", p.person);
    assert!(p.stats.refused_by_rule.get("fs_score").is_some_and(|&n| n >= 1));
}

#[test]
fn a_key_of_initials_leaves_a_record_to_the_twin_whose_forename_is_alike() {
    // Twins of one initial, each with a UPN, and a police record of the second twin with a slip
    // in her forename (a letter added) and no UPN: all three share the key of initial, surname
    // and date of birth, and the first twin's record comes first in the key's group.
    let mut r = Records::new();
    let first = add(&mut r, "education", "E1", AMY, b'F');
    let second = add(&mut r, "education", "E2", Who { fore: 9, ..AMY }, b'F');
    let slip = add(&mut r, "police", "P1", Who { fore: 10, ..AMY }, b'F');
    let tok = |n: u8| [n; 16];
    r.strong[1][first as usize] = Some(tok(1));
    r.strong[1][second as usize] = Some(tok(2));
    for i in [first, second, slip] {
        r.keys[1].push((tok(7), i));
    }
    // One-edit tokens: the slip's name without its added letter is the second twin's name.
    let names: [(u32, &[u32]); 3] = [(first, &[20, 21, 22]), (second, &[30, 31, 32]), (slip, &[40, 41, 30, 42])];
    for (i, list) in names {
        r.edits[i as usize][0] = r.edit_lists.len() as u32;
        r.edit_lists.push(list.into());
    }
    let p = persons(&r, &Options::default(), None);
    assert_eq!(p.person[slip as usize], p.person[second as usize], "{:?}", p.person);
    assert_ne!(p.person[first as usize], p.person[second as usize]);
    assert!(p.stats.refused_by_rule.get("mk_initial_surname_dob").is_some_and(|&n| n >= 1));
    assert_eq!(p.rule[slip as usize], Some(Rule::Scored));
}

#[test]
fn a_record_of_an_initial_only_beside_twins_of_that_initial_goes_the_same_way_in_any_order() {
    // Twins of one initial (UPNs apart) and a record holding only the initial, no identifier:
    // all share the key of initial, surname and date of birth. The person each record ends in
    // must not depend on the order the records were read.
    let twin = |fore: u32| Who { fore, ..AMY };
    let rows: [(&str, &str, Who, Option<u8>); 4] = [
        ("education", "E1", twin(1), Some(1)),
        ("health_visiting", "H1", twin(1), Some(1)),
        ("education", "E2", twin(9), Some(2)),
        ("police", "P1", twin(11), None),
    ];
    let partition = |order: &[usize]| {
        let mut r = Records::new();
        for &k in order {
            let (feed, id, who, upn) = rows[k];
            let i = add(&mut r, feed, id, who, b'F');
            r.strong[1][i as usize] = upn.map(|u| [u; 16]);
            r.keys[1].push(([7; 16], i));
            if id == "P1" {
                // The police forename is the other two's initial (the `initial` level).
                r.tokens[i as usize][Tk::Forename as usize] = 8_000_100;
            }
        }
        for i in 0..r.len() {
            if r.record_ref[i] != "P1" {
                r.tokens[i][Tk::Initial as usize] = 8_000_100;
            }
        }
        let p = persons(&r, &Options::default(), None);
        let mut groups: Vec<Vec<&str>> = (0..p.count)
            .map(|n| {
                (0..r.len())
                    .filter(|&i| p.person[i] == n)
                    .map(|i| rows.iter().find(|x| x.1 == r.record_ref[i]).map_or("", |x| x.1))
                    .collect()
            })
            .collect();
        for g in &mut groups {
            g.sort_unstable();
        }
        groups.sort();
        groups
    };
    let first = partition(&[0, 1, 2, 3]);
    for order in [[3, 2, 1, 0], [2, 0, 3, 1], [1, 3, 0, 2], [2, 3, 0, 1]] {
        assert_eq!(partition(&order), first, "{order:?}");
    }
    assert!(first.iter().any(|g| g.contains(&"E1") && g.contains(&"H1") && !g.contains(&"E2")), "{first:?}");
}

#[test]
fn a_sibling_at_the_same_address_is_not_scored_into_a_link() {
    // Another forename and another date of birth, the same surname and home.
    let mut r = Records::new();
    let a = add(&mut r, "camhs", "C1", AMY, b'F');
    let b = add(&mut r, "police", "P1", Who { fore: 9, dob: (2015, 3, 2), ..AMY }, b'F');
    assert!(!linked(&r, a, b));
    assert!(persons(&r, &Options::default(), None).stats.scoring.vetoed_pairs >= 1);
    // A slip in the shared surname does not make them one person either; a same-birthday pair
    // (twins, or a replaced forename) is left to the weights.
    let sibling = levels::Comparison {
        forename: ix::FORENAME_ELSE,
        surname: ix::SURNAME_ONE_EDIT,
        swapped: false,
        half_swapped: false,
        dob: ix::DOB_ELSE,
        postcode: ix::EXACT,
        sex: ix::SEX_AGREE,
        address: ix::EXACT,
        strong_agree: 0,
        strong_disagree: false,
        names_not_compared: false,
        listed_as_child_and_adult: false,
    };
    assert!(super::score::household_member(&sibling));
    assert!(super::score::household_member(&levels::Comparison { dob: ix::MISSING, ..sibling }));
    assert!(super::score::household_member(&levels::Comparison { dob: ix::DOB_ONE_PART, ..sibling }));
    // A date the same, a year out or with day and month swapped is this person's date with a
    // slip, not a relative's.
    for dob in [ix::EXACT, ix::DOB_DAY_MONTH_SWAPPED, ix::DOB_YEAR_OFF] {
        assert!(!super::score::household_member(&levels::Comparison { dob, ..sibling }), "dob level {dob}");
    }
    // Another family name is no relative's, unless no name and no date agrees at all: then the
    // home is all the pair shares.
    let other_family = levels::Comparison { surname: ix::SURNAME_ELSE, ..sibling };
    assert!(!super::score::household_member(&levels::Comparison { dob: ix::DOB_ONE_PART, ..other_family }));
    assert!(!super::score::household_member(&levels::Comparison { forename: ix::FORENAME_DICE_06, ..other_family }));
    assert!(super::score::household_member(&other_family));
    let nothing = levels::Comparison { forename: ix::MISSING, surname: ix::MISSING, dob: ix::MISSING, ..sibling };
    assert!(super::score::household_member(&nothing));
    assert!(!super::score::household_member(&levels::Comparison {
        address: ix::MISSING,
        postcode: ix::MISSING,
        ..nothing
    }));
    // No forename on one side: beside a date far apart, or none, a relative; beside the same
    // date and another sex, a twin; beside the same date (or a slip of it) and sex, left to
    // the weights.
    let unnamed = levels::Comparison { forename: ix::MISSING, surname: ix::EXACT, ..sibling };
    assert!(super::score::household_member(&unnamed));
    assert!(super::score::household_member(&levels::Comparison { dob: ix::MISSING, ..unnamed }));
    assert!(super::score::household_member(&levels::Comparison { dob: ix::EXACT, sex: ix::SEX_DISAGREE, ..unnamed }));
    for dob in [ix::EXACT, ix::DOB_ONE_DIGIT] {
        assert!(!super::score::household_member(&levels::Comparison { dob, ..unnamed }), "dob level {dob}");
    }
    // Twins of two sexes: the same date, another forename and another sex. Of one sex, or with a
    // sex missing, they are left to the weights (a replaced forename looks the same); a
    // forename alike with another sex is one person with a miscoded sex.
    let twins = levels::Comparison { dob: ix::EXACT, sex: ix::SEX_DISAGREE, ..sibling };
    assert!(super::score::household_member(&twins));
    for sex in [ix::SEX_AGREE, ix::MISSING] {
        assert!(!super::score::household_member(&levels::Comparison { sex, ..twins }), "sex level {sex}");
    }
    assert!(!super::score::household_member(&levels::Comparison { forename: ix::FORENAME_ONE_EDIT, ..twins }));
    assert!(!super::score::household_member(&levels::Comparison { strong_agree: 1, ..twins }));
    let mut r = Records::new();
    let ava = add(&mut r, "housing", "H1", AMY, b'F');
    let arlo = add(&mut r, "housing", "H2", Who { fore: 9, ..AMY }, b'M');
    assert!(!linked(&r, ava, arlo), "twins of two sexes held once each by one partner");
    // One partner listing both in one household, one as a child and one as an adult, on dates
    // no slip apart: a parent and the child named after them, whatever their homes. The same
    // date is a child who became a parent there; two children (twins, or a partner's own
    // duplicate under a middle name) are left to the weights.
    let namesake = levels::Comparison {
        forename: ix::EXACT,
        dob: ix::DOB_ELSE,
        address: ix::MISSING,
        listed_as_child_and_adult: true,
        ..sibling
    };
    assert!(super::score::household_member(&namesake));
    assert!(!super::score::household_member(&levels::Comparison { listed_as_child_and_adult: false, ..namesake }));
    for dob in [ix::EXACT, ix::DOB_ONE_DIGIT, ix::DOB_YEAR_OFF] {
        assert!(!super::score::household_member(&levels::Comparison { dob, ..namesake }), "dob level {dob}");
    }
    assert!(!super::score::household_member(&levels::Comparison { strong_agree: 1, ..namesake }));
    let mut r = Records::new();
    let child = add(&mut r, "housing", "H1", AMY, b'F');
    let mum = add(&mut r, "housing", "H2", Who { dob: (1985, 2, 3), ..AMY }, b'F');
    let twin = add(&mut r, "housing", "H3", Who { fore: 9, ..AMY }, b'F');
    assert!(linked(&r, child, mum), "by the weights alone, without the listing");
    for (i, role) in [(child, "CHILD"), (mum, "PARENT_CARER"), (twin, "CHILD")] {
        r.household_ref[i as usize] = 0;
        r.role[i as usize] = Some(role);
    }
    assert!(!linked(&r, child, mum), "a mother and her namesake daughter, listed as such");
    assert!(!levels::compare(&r, child as usize, twin as usize).listed_as_child_and_adult);
    // Another partner's reference of the same number is another household.
    r.feed[mum as usize] = r.feed[child as usize] + 1;
    assert!(!levels::compare(&r, child as usize, mum as usize).listed_as_child_and_adult);
    // Only an initial on one side (a parent held as "A." beside a child of that initial): a
    // relative where the dates are far apart, left to the weights where they may be one slip or
    // are missing.
    let initial = levels::Comparison { forename: ix::FORENAME_INITIAL, ..sibling };
    assert!(super::score::household_member(&initial));
    for dob in [ix::MISSING, ix::DOB_ONE_PART, ix::DOB_ONE_DIGIT] {
        assert!(!super::score::household_member(&levels::Comparison { dob, ..initial }), "dob level {dob}");
    }
    assert!(!super::score::household_member(&levels::Comparison { strong_agree: 1, ..sibling }));
    // Where the name filters cannot be compared (salted by a year missing or different): agreeing
    // initials alone are a relative's, whether the other date differs or is missing; names that
    // sound alike are a slip only beside a date close to the other (Siân and Seán share a code).
    let initials = levels::Comparison { forename: ix::FORENAME_NOT_COMPARED, ..sibling };
    assert!(super::score::household_member(&initials));
    // Names one letter apart by the unsalted tokens alone: a slip beside a date missing or one
    // part different, a sibling's name (Mia and Mila) beside a date far apart.
    let by_tokens = levels::Comparison { forename: ix::FORENAME_ONE_EDIT, names_not_compared: true, ..sibling };
    assert!(super::score::household_member(&by_tokens));
    assert!(!super::score::household_member(&levels::Comparison { dob: ix::MISSING, ..by_tokens }));
    assert!(!super::score::household_member(&levels::Comparison { names_not_compared: false, ..by_tokens }));
    assert!(super::score::household_member(&levels::Comparison { dob: ix::MISSING, ..initials }));
    let sound = levels::Comparison { forename: ix::FORENAME_SOUNDEX_NOT_COMPARED, ..sibling };
    assert!(!super::score::household_member(&levels::Comparison { dob: ix::DOB_YEAR_OFF, ..sound }));
    assert!(super::score::household_member(&levels::Comparison { dob: ix::MISSING, ..sound }));
    assert!(super::score::household_member(&levels::Comparison { dob: ix::DOB_ELSE, ..sound }));
    // One letter apart is taken for a slip; filters barely alike and further apart for a sibling.
    assert!(!super::score::household_member(&levels::Comparison { forename: ix::FORENAME_ONE_EDIT, ..sibling }));
    assert!(super::score::household_member(&levels::Comparison { forename: ix::FORENAME_DICE_06, ..sibling }));
}

#[test]
fn twins_with_the_same_birthday_and_address_but_different_forenames_stay_apart() {
    // Each twin known by two records: each forename is settled.
    let mut r = Records::new();
    let a = add(&mut r, "camhs", "C1", AMY, b'F');
    add(&mut r, "health_visiting", "H1", AMY, b'F');
    let b = add(&mut r, "police", "P1", Who { fore: 9, ..AMY }, b'F');
    add(&mut r, "district", "D1", Who { fore: 9, ..AMY }, b'F');
    assert!(!linked(&r, a, b));
    // Even through a third record that has no forename to tell them apart by.
    let c = add(&mut r, "education", "E1", Who { fore: 0, ..AMY }, b'F');
    let p = persons(&r, &Options::default(), None);
    assert!(p.person[a as usize] != p.person[b as usize], "{:?}", p.person);
    assert!(p.person[c as usize] == p.person[a as usize] || p.person[c as usize] == p.person[b as usize]);
    assert!(p.stats.refused_by_rule.get("fs_score").is_some_and(|&n| n >= 1));
}

#[test]
fn twins_of_one_name_stay_apart_where_each_settles_another_sex() {
    // A brother and sister both known as Sam: one forename, birthday and home; two records each,
    // the sister's sharing an NHS number, the brother's a PNC ID (so no identifier tells them
    // apart).
    let mut r = Records::new();
    let a = add(&mut r, "camhs", "C1", AMY, b'F');
    let a2 = add(&mut r, "health_visiting", "H1", AMY, b'F');
    let b = add(&mut r, "police", "P1", AMY, b'M');
    let b2 = add(&mut r, "youth_justice", "Y1", AMY, b'M');
    for (i, k, v) in [(a, 0, 1), (a2, 0, 1), (b, 2, 2), (b2, 2, 2)] {
        r.strong[k][i as usize] = Some([v; 16]);
    }
    let p = persons(&r, &Options::default(), None);
    assert_ne!(p.person[a as usize], p.person[b as usize], "{:?}", p.person);
    assert!(p.stats.refused_by_rule.get("fs_score").is_some_and(|&n| n >= 1));
    // One partner's two rows are one coding: a sex it repeats is not settled against a person it
    // holds no record of (camhs and police say F, health visiting twice M, one NHS number).
    let mut r = Records::new();
    let a = add(&mut r, "camhs", "C1", AMY, b'F');
    add(&mut r, "police", "P1", AMY, b'F');
    let b = add(&mut r, "health_visiting", "H1", AMY, b'M');
    let b2 = add(&mut r, "health_visiting", "H2", AMY, b'M');
    for i in [b, b2] {
        r.strong[0][i as usize] = Some([3; 16]);
    }
    assert!(linked(&r, a, b));
    // One record of another sex is a slip: it links.
    let mut r = Records::new();
    let a = add(&mut r, "camhs", "C1", AMY, b'F');
    add(&mut r, "health_visiting", "H1", AMY, b'F');
    let b = add(&mut r, "police", "P1", AMY, b'M');
    assert!(linked(&r, a, b));
    assert_eq!(Veto::Sex.describe(), "a different sex");
}

#[test]
fn a_date_garbled_past_reading_does_not_carry_its_person_past_another_settled_date() {
    // A child's records settle a date; a third of hers holds a date that is no date (a month of
    // 60: staged as its readable parts, without the exact token), and so weighs nothing against
    // a neighbour's. The neighbour, a man of the same forename at the same postcode, settles a
    // date far from the child's: the two persons stay apart.
    let mut r = Records::new();
    let child = [add(&mut r, "camhs", "C1", AMY, b'F'), add(&mut r, "camhs", "C2", AMY, b'F')];
    let garbled = add(&mut r, "camhs", "C3", AMY, 0);
    r.tokens[garbled as usize][Tk::Dob as usize] = NONE;
    r.tokens[garbled as usize][Tk::YearMonth as usize] = NONE;
    r.tokens[garbled as usize][Tk::MonthDay as usize] = NONE;
    r.tokens[garbled as usize][Tk::DobUnordered as usize] = 99;
    let man = Who { sur: 20, dob: (1976, 9, 2), ..AMY };
    let neighbour = [add(&mut r, "police", "P1", man, b'M'), add(&mut r, "police", "P2", man, b'M')];
    let veto = |persons: &[&[u32]], a: u32, b: u32, unweighed: bool| {
        let mut built = super::score::BuiltPersons::new(&r);
        for p in persons {
            built.person(p);
        }
        built.veto_between(a, b, unweighed)
    };
    let with_garbled = [child[0], child[1], garbled];
    assert_eq!(levels::dob_level(&r.tokens[garbled as usize], &r.tokens[neighbour[0] as usize]), ix::MISSING);
    // Before, the garbled date's level (missing) counted as a date close to the neighbour's.
    assert_eq!(veto(&[&with_garbled, &neighbour], garbled, neighbour[0], true), Some(Veto::DateOfBirth));
    assert_eq!(veto(&[&with_garbled, &neighbour], garbled, neighbour[0], false), Some(Veto::DateOfBirth));
    // Alone, the garbled record is still free to join either.
    assert_eq!(veto(&[&child, &neighbour], garbled, neighbour[0], true), None);
}

#[test]
fn the_veto_between_two_persons_is_named_as_they_stand() {
    // `link-explain` names what keeps two persons apart from their whole records.
    let veto = |r: &Records, persons: &[&[u32]], a: u32, b: u32| {
        let mut built = super::score::BuiltPersons::new(r);
        for p in persons {
            built.person(p);
        }
        built.veto_between(a, b, false)
    };
    let mut r = Records::new();
    let girl = [add(&mut r, "camhs", "C1", AMY, b'F'), add(&mut r, "health_visiting", "H1", AMY, b'F')];
    let boy = [add(&mut r, "police", "P1", AMY, b'M'), add(&mut r, "youth_justice", "Y1", AMY, b'M')];
    assert_eq!(veto(&r, &[&girl, &boy], girl[0], boy[1]), Some(Veto::Sex));
    // One record of each: nothing is settled, so nothing keeps them apart.
    assert_eq!(veto(&r, &[], girl[0], boy[0]), None);
    // Dates of birth each person settles, far apart; several persons rebuilt at once.
    let later = Who { dob: (2015, 2, 3), ..AMY };
    let sibling = [add(&mut r, "police", "P2", later, b'F'), add(&mut r, "youth_justice", "Y2", later, b'F')];
    assert_eq!(veto(&r, &[&girl, &boy, &sibling], girl[1], sibling[0]), Some(Veto::DateOfBirth));
    // A strong identifier comes first.
    for (i, v) in [(girl[0], 1), (sibling[0], 2)] {
        r.strong[0][i as usize] = Some([v; 16]);
    }
    assert_eq!(veto(&r, &[&girl, &sibling], girl[1], sibling[1]), Some(Veto::Strong(0)));
    assert_eq!(veto(&r, &[&girl], girl[0], girl[1]), None, "one person");
}

#[test]
fn a_forename_one_partner_repeats_is_not_settled_against_a_cluster_it_holds_no_record_of() {
    // Police hold the child under another forename (a nickname, say) on both its rows; two other
    // partners agree on the forename. One partner's repetition is one observation: no veto.
    let mut r = Records::new();
    let a = add(&mut r, "camhs", "C1", AMY, b'F');
    add(&mut r, "health_visiting", "H1", AMY, b'F');
    let b = add(&mut r, "police", "P1", Who { fore: 9, ..AMY }, b'F');
    add(&mut r, "police", "P2", Who { fore: 9, ..AMY }, b'F');
    assert!(linked(&r, a, b));
    // Where camhs holds both (two records, two forenames), camhs says they are two people.
    let c = add(&mut r, "camhs", "C2", Who { fore: 9, ..AMY }, b'F');
    let p = persons(&r, &Options::default(), None);
    assert!(p.person[a as usize] != p.person[b as usize], "{:?}", p.person);
    assert_eq!(p.person[b as usize], p.person[c as usize]);
    // One partner's repetition settles a forename where that partner holds both: twins known to
    // camhs twice each stay apart; the same four records, one twin's held by police, link.
    let mut r = Records::new();
    let a = add(&mut r, "camhs", "C1", AMY, b'F');
    add(&mut r, "camhs", "C2", AMY, b'F');
    let b = add(&mut r, "camhs", "C3", Who { fore: 9, ..AMY }, b'F');
    add(&mut r, "camhs", "C4", Who { fore: 9, ..AMY }, b'F');
    assert!(!linked(&r, a, b));
    let mut r = Records::new();
    let a = add(&mut r, "camhs", "C1", AMY, b'F');
    add(&mut r, "camhs", "C2", AMY, b'F');
    let b = add(&mut r, "police", "P1", Who { fore: 9, ..AMY }, b'F');
    add(&mut r, "police", "P2", Who { fore: 9, ..AMY }, b'F');
    assert!(linked(&r, a, b));
    // A date of birth one partner repeats still settles it: siblings known to different partners
    // stay apart.
    let mut r = Records::new();
    let a = add(&mut r, "camhs", "C1", AMY, b'F');
    add(&mut r, "health_visiting", "H1", AMY, b'F');
    let b = add(&mut r, "police", "P1", Who { dob: (2009, 3, 2), ..AMY }, b'F');
    add(&mut r, "police", "P2", Who { dob: (2009, 3, 2), ..AMY }, b'F');
    assert!(!linked(&r, a, b));
}

#[test]
fn disagreeing_nhs_numbers_veto_a_scored_link() {
    let mut r = Records::new();
    let a = add(&mut r, "camhs", "C1", AMY, b'F');
    let b = add(&mut r, "health_visiting", "H1", Who { dob: (2012, 7, 18), ..AMY }, b'F');
    r.strong[0][a as usize] = Some([1; 16]);
    r.strong[0][b as usize] = Some([2; 16]);
    assert!(!linked(&r, a, b));
}

#[test]
fn a_missing_value_is_no_evidence_not_a_disagreement() {
    // No postcode on one side: names and an exact date are enough.
    let mut r = Records::new();
    let a = add(&mut r, "camhs", "C1", AMY, b'F');
    let b = add(&mut r, "police", "P1", Who { postcode: 0, sector: 0, district: 0, ..AMY }, 0);
    let p = persons(&r, &Options::default(), None);
    assert_eq!(p.person[a as usize], p.person[b as usize]);
    // Names alone (no date, no postcode on one side) are not enough.
    let mut r = Records::new();
    let a = add(&mut r, "camhs", "C1", AMY, b'F');
    let b = add(&mut r, "police", "P1", Who { dob: (0, 0, 0), postcode: 0, sector: 0, district: 0, ..AMY }, 0);
    assert!(!linked(&r, a, b));
}

#[test]
fn swapped_names_link_and_a_strong_identifier_that_agrees_clears_its_conflict() {
    let mut r = Records::new();
    let a = add(&mut r, "camhs", "C1", AMY, b'F');
    let b = add(&mut r, "police", "P1", Who { fore: AMY.sur, sur: AMY.fore, ..AMY }, b'F');
    assert!(linked(&r, a, b));
    // One NHS number, a date one digit off: the strict rule veto refuses, the scoring links,
    // and no conflict is left on the records.
    let mut r = Records::new();
    let a = add(&mut r, "camhs", "C1", AMY, b'F');
    let b = add(&mut r, "health_visiting", "H1", Who { dob: (2012, 7, 18), postcode: 9, sector: 9, ..AMY }, b'F');
    r.strong[0][a as usize] = Some([1; 16]);
    r.strong[0][b as usize] = Some([1; 16]);
    let p = persons(&r, &Options::default(), None);
    assert_eq!(p.person[a as usize], p.person[b as usize]);
    assert_eq!(p.conflict[a as usize], None);
    assert_eq!(p.stats.refused_by_rule.get("nhs_number"), Some(&1));
    assert_eq!(Veto::Forename.describe(), "a different forename");
}

#[test]
fn one_nhs_number_under_one_name_links_across_dates_far_apart_and_under_another_forename_stays_a_conflict() {
    // Two slips, one in each record's date (2012-07-13 and 2021-07-31): no part agrees, so the
    // dates are far apart by the levels; the NHS number, names and home agree.
    let pair = |fore: u32| {
        let mut r = Records::new();
        let a = add(&mut r, "health_visiting", "H1", AMY, b'F');
        let b = add(&mut r, "health_visiting", "H2", Who { fore, dob: (2021, 8, 31), ..AMY }, b'F');
        r.strong[0][a as usize] = Some([1; 16]);
        r.strong[0][b as usize] = Some([1; 16]);
        let p = persons(&r, &Options::default(), None);
        (p.person[a as usize] == p.person[b as usize], p.conflict[a as usize])
    };
    // One person, and the two dates still reported for the partners to reconcile.
    let (linked, conflict) = pair(AMY.fore);
    assert!(linked);
    assert_eq!(conflict.map(|(_, veto)| veto), Some(Veto::DateOfBirth));
    // Another forename: a relative's number copied, or the relative's record: kept apart.
    let (linked, conflict) = pair(9);
    assert!(!linked);
    assert!(conflict.is_some());
}

#[test]
fn a_threshold_above_every_score_links_nothing_new() {
    let mut r = Records::new();
    let a = add(&mut r, "camhs", "C1", AMY, b'F');
    let b = add(&mut r, "police", "P1", Who { dob: (2012, 7, 18), ..AMY }, b'F');
    let p = persons(&r, &Options { score_threshold: Some(60.0), ..Options::default() }, None);
    assert_ne!(p.person[a as usize], p.person[b as usize]);
    assert!(p.stats.scoring.scored >= 1 && p.stats.scoring.above_threshold == 0);
    assert!(p.stats.scoring.blocking.pairs_by_rule.values().sum::<u64>() >= 1);
}

/// Two records of each of `n` people (or households) at their own address: the first as given,
/// the second changed by `second`.
fn pairs_at_home(n: u32, second: impl Fn(Who) -> Who) -> Records {
    let mut r = Records::new();
    for k in 1..=n {
        let w = Who {
            fore: 100 + k,
            sur: 1000 + k,
            dob: (1990 + k % 20, 1 + k % 12, 1 + k % 28),
            postcode: k,
            sector: k,
            district: k,
        };
        for (feed, who) in [("camhs", w), ("police", second(w))] {
            let i = add(&mut r, feed, &format!("{feed}-{k}"), who, b'F');
            r.tokens[i as usize][Tk::Address as usize] = 13_000_000 + k;
        }
    }
    r
}

#[test]
fn the_household_veto_applies_where_the_data_holds_households() {
    use super::score::{HouseholdVeto, households_evident};
    let one_person_slipped = |w: Who| Who { dob: (w.dob.0, w.dob.1, w.dob.2 % 28 + 1), ..w };
    let sibling = |w: Who| Who { fore: w.fore + 500, dob: (w.dob.0 + 3, w.dob.1 % 12 + 1, w.dob.2), ..w };
    let vetoed = |r: &Records, veto: HouseholdVeto| {
        let p = persons(r, &Options { household_veto: veto, ..Options::default() }, None);
        (p.stats.scoring.vetoed_pairs, p.stats.scoring.households)
    };

    // A county: most pairs at one address under one family name are relatives.
    let county = pairs_at_home(60, sibling);
    let (n, h) = vetoed(&county, HouseholdVeto::Auto);
    assert!(h.veto && n >= 60 && h.pairs_at_one_address >= 60 && h.unalike * 2 >= h.pairs_at_one_address, "{h:?}");
    assert_eq!(vetoed(&county, HouseholdVeto::Off).0, 0);

    // People who do not live together: such pairs are one person's records, and the rare one
    // with forename and date both replaced is left to the weights, unless the veto is set on.
    let mut people = pairs_at_home(60, one_person_slipped);
    let a = add(&mut people, "camhs", "camhs-x", AMY, b'F');
    let b = add(&mut people, "police", "police-x", Who { fore: 9, dob: (2015, 3, 30), ..AMY }, b'F');
    for i in [a, b] {
        people.tokens[i as usize][Tk::Address as usize] = 14_000_000;
    }
    let (n, h) = vetoed(&people, HouseholdVeto::Auto);
    assert!(!h.veto && n == 0 && h.unalike >= 1 && h.unalike * 2 < h.pairs_at_one_address, "{h:?}");
    assert!(vetoed(&people, HouseholdVeto::On).0 >= 1);
    // Lifted, the pair is weighed like any other: here its surname, home and sex outweigh the
    // forename and date replaced, and it links; refused, it does not.
    let same = |veto: HouseholdVeto| {
        let p = persons(&people, &Options { household_veto: veto, ..Options::default() }, None);
        p.person[a as usize] == p.person[b as usize]
    };
    assert!(same(HouseholdVeto::Auto) && same(HouseholdVeto::Off) && !same(HouseholdVeto::On));

    // Too few pairs to tell, or a share not clearly under one half: the veto applies.
    assert!(households_evident(HouseholdVeto::Auto, 19, 0));
    assert!(!households_evident(HouseholdVeto::Auto, 20, 0));
    assert!(households_evident(HouseholdVeto::Auto, 20, 4));
    assert!(!households_evident(HouseholdVeto::Auto, 50, 7));
    assert!(households_evident(HouseholdVeto::Auto, 50, 15));
    assert!(!households_evident(HouseholdVeto::Auto, 400, 169));
    assert!(households_evident(HouseholdVeto::Auto, 400, 170));
    assert!(households_evident(HouseholdVeto::On, 1000, 0));
    assert!(!households_evident(HouseholdVeto::Off, 1000, 1000));
}

#[test]
fn a_frozen_model_is_scored_with_as_it_is_and_decides_the_links() {
    let mut r = Records::new();
    let a = add(&mut r, "camhs", "C1", AMY, b'F');
    let b = add(&mut r, "police", "P1", Who { dob: (2013, 7, 13), ..AMY }, b'F');
    let estimated = persons(&r, &Options::default(), None);
    let model = estimated.stats.scoring.model.clone().unwrap();
    // Frozen as estimated: the same weights, the same link.
    let same = persons(&r, &Options::default(), Some(&model));
    assert_eq!(same.stats.scoring.model.as_ref(), Some(&model));
    assert_eq!(same.person, estimated.person);
    assert_eq!(same.score, estimated.score);
    // Frozen with a date of birth a year out weighing heavily against: the pair stays apart,
    // whatever this build's data would have estimated.
    let mut doubtful = model.clone();
    let dob = doubtful.fields.iter_mut().find(|(f, _)| *f == "date_of_birth").unwrap();
    for level in dob.1.iter_mut().skip(1).filter(|l| l.name != "exact") {
        (level.m, level.u) = (1e-6, 0.5);
    }
    let apart = persons(&r, &Options::default(), Some(&doubtful));
    assert_ne!(apart.person[a as usize], apart.person[b as usize]);
    assert_eq!(apart.stats.scoring.model.as_ref(), Some(&doubtful));
}

#[test]
fn names_half_swapped_without_a_date_link_only_where_the_data_holds_no_households() {
    use super::score::HouseholdVeto;
    // Her surname recorded as the forename, another surname in its place, no date of birth:
    // one person with her names swapped and a slip, or a parent recorded surname first.
    let half = Who { fore: AMY.sur, sur: 77, dob: (0, 0, 0), ..AMY };
    for (veto, want) in [(HouseholdVeto::Off, true), (HouseholdVeto::On, false), (HouseholdVeto::Auto, false)] {
        let mut r = Records::new();
        let a = add(&mut r, "camhs", "C1", AMY, b'F');
        let b = add(&mut r, "police", "P1", half, b'F');
        for i in [a, b] {
            r.tokens[i as usize][Tk::Address as usize] = 13_000_000;
        }
        let p = persons(&r, &Options { household_veto: veto, ..Options::default() }, None);
        assert_eq!(p.person[a as usize] == p.person[b as usize], want, "{veto:?}");
    }
}

#[test]
fn a_half_swap_without_a_date_is_deferred_only_at_one_home_with_no_strong_identifier_agreeing() {
    let half = levels::Comparison {
        forename: ix::FORENAME_ELSE,
        surname: ix::SURNAME_ELSE,
        swapped: false,
        half_swapped: true,
        dob: ix::MISSING,
        postcode: ix::EXACT,
        sex: ix::SEX_AGREE,
        address: ix::MISSING,
        strong_agree: 0,
        strong_disagree: false,
        names_not_compared: true,
        listed_as_child_and_adult: false,
    };
    assert!(super::score::household_deferred(&half));
    assert!(super::score::household_deferred(&levels::Comparison {
        postcode: ix::POSTCODE_SECTOR,
        address: ix::EXACT,
        ..half
    }));
    // Moved (another postcode, no address line alike), or one NHS number: no parent beside a child.
    assert!(!super::score::household_deferred(&levels::Comparison { postcode: ix::POSTCODE_SECTOR, ..half }));
    assert!(!super::score::household_deferred(&levels::Comparison { strong_agree: 1, ..half }));
    // With the date of birth to check the names by, the half swap is weighed as it is.
    assert!(!super::score::household_deferred(&levels::Comparison { dob: ix::EXACT, ..half }));
}

#[test]
fn one_home_read_from_the_tokens_is_the_one_home_of_the_full_comparison() {
    // Address lines: none, the same, another; postcodes: none, the same, another in the sector.
    let mut r = Records::new();
    let mut ids = Vec::new();
    for (n, address) in [NONE, 13_000_001, 13_000_002].into_iter().enumerate() {
        for (m, place) in [(0, 0, 0), (3, 4, 5), (6, 4, 5)].into_iter().enumerate() {
            let who = Who { postcode: place.0, sector: place.1, district: place.2, ..AMY };
            let i = add(&mut r, "camhs", &format!("C{n}{m}"), who, b'F');
            r.tokens[i as usize][Tk::Address as usize] = address;
            ids.push(i as usize);
        }
    }
    let mut homes = 0;
    for &i in &ids {
        for &j in &ids {
            let cmp = levels::compare(&r, i, j);
            let full = levels::one_home(cmp.address, cmp.postcode);
            assert_eq!(levels::one_home_by_tokens(&r.tokens[i], &r.tokens[j]), full, "records {i} and {j}");
            homes += usize::from(full);
        }
    }
    assert!(homes > 0 && homes < ids.len() * ids.len(), "{homes}");
}

#[test]
fn siblings_whose_nhs_numbers_differ_count_as_household_evidence_at_one_home_only() {
    let count = |same_home: bool| {
        let mut r = Records::new();
        let a = add(&mut r, "camhs", "C1", AMY, b'F');
        let sibling = Who { fore: 9, dob: (2015, 3, 2), ..AMY };
        let b = add(&mut r, "police", "P1", if same_home { sibling } else { Who { postcode: 6, ..sibling } }, b'F');
        for (i, nhs) in [(a, 1u8), (b, 2u8)] {
            r.strong[0][i as usize] = Some([nhs; 16]);
        }
        let p = persons(&r, &Options::default(), None);
        assert_ne!(p.person[a as usize], p.person[b as usize]);
        p.stats.scoring.households.pairs_at_one_address
    };
    assert_eq!(count(true), 1);
    assert_eq!(count(false), 0);
}
