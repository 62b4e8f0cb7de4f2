//! Unit tests of the matcher on hand-made token records.

use super::cluster::{Options, Veto, persons, persons_deciding};
use super::decisions::Resolved;
use super::family::families;
use super::records::{HouseholdKind, Records, Tok};
use super::rules::Rule;

fn t(n: u8) -> Tok {
    [n; 16]
}

/// A record of `feed` with a date-of-birth token `dob` (also its unordered form).
fn rec(r: &mut Records, feed: &'static str, id: &str, dob: Option<u8>) -> u32 {
    let i = r.push(feed, id.to_owned());
    r.dob[i as usize] = dob.map(t);
    r.dob_unordered[i as usize] = dob.map(t);
    i
}

fn same(p: &super::cluster::Persons, a: u32, b: u32) -> bool {
    p.person[a as usize] == p.person[b as usize]
}

#[test]
fn a_shared_nhs_number_links_across_feeds() {
    let mut r = Records::new();
    let a = rec(&mut r, "health_visiting", "H1", Some(1));
    let b = rec(&mut r, "camhs", "C1", Some(1));
    let c = rec(&mut r, "camhs", "C2", Some(1));
    r.strong[0][a as usize] = Some(t(9));
    r.strong[0][b as usize] = Some(t(9));
    let p = persons(&r, &Options::default(), None);
    assert!(same(&p, a, b));
    assert!(!same(&p, a, c), "no evidence links c");
    assert_eq!(p.rule[a as usize], Some(Rule::Strong(0)));
    assert_eq!(p.rule[c as usize], None);
    assert_eq!(p.count, 2);
}

#[test]
fn one_nhs_number_with_two_dates_of_birth_is_a_conflict_not_a_merge() {
    let mut r = Records::new();
    let a = rec(&mut r, "health_visiting", "H1", Some(1));
    let b = rec(&mut r, "camhs", "C1", Some(2));
    r.strong[0][a as usize] = Some(t(9));
    r.strong[0][b as usize] = Some(t(9));
    let p = persons(&r, &Options::default(), None);
    assert!(!same(&p, a, b));
    assert_eq!(p.conflict[a as usize], Some((Rule::Strong(0), Veto::DateOfBirth)));
    assert_eq!(p.conflict[b as usize], Some((Rule::Strong(0), Veto::DateOfBirth)));
    assert_eq!(p.stats.refused_by_rule.get("nhs_number"), Some(&1));
}

#[test]
fn the_veto_sees_the_whole_cluster_not_just_the_pair() {
    // a–b share a match key; b–c share another; a and c have different NHS numbers.
    let mut r = Records::new();
    let a = rec(&mut r, "health_visiting", "H1", None);
    let b = rec(&mut r, "police", "P1", None);
    let c = rec(&mut r, "camhs", "C1", None);
    r.strong[0][a as usize] = Some(t(1));
    r.strong[0][c as usize] = Some(t(2));
    r.keys[7].push((t(50), a));
    r.keys[7].push((t(50), b));
    r.keys[6].push((t(60), b));
    r.keys[6].push((t(60), c));
    let p = persons(&r, &Options::default(), None);
    assert!(!same(&p, a, c), "two NHS numbers are two people");
    assert!(same(&p, b, c) || same(&p, a, b));
    assert!(!(same(&p, a, b) && same(&p, b, c)));
}

#[test]
fn twins_sharing_name_key_and_address_but_not_birthday_stay_apart_and_a_swapped_date_agrees() {
    let mut r = Records::new();
    let a = rec(&mut r, "education", "E1", Some(1));
    let b = rec(&mut r, "police", "P1", Some(2));
    let c = rec(&mut r, "housing", "S1", Some(3));
    // c's date has day and month swapped: its unordered form agrees with a's.
    r.dob_unordered[c as usize] = Some(t(1));
    for i in [a, b, c] {
        r.keys[7].push((t(70), i));
    }
    let p = persons(&r, &Options::default(), None);
    assert!(!same(&p, a, b));
    assert!(same(&p, a, c));
    assert_eq!(p.rule[c as usize], Some(Rule::Key(7)));
}

#[test]
fn a_match_key_does_not_join_two_records_of_different_sexes() {
    // Twins of two sexes, each recorded once with the names swapped: the surname stands as both
    // forenames, so a key of forename, date of birth and postcode holds both records.
    let mut r = Records::new();
    let boy = rec(&mut r, "health_visiting", "H1", Some(1));
    let girl = rec(&mut r, "health_visiting", "H2", Some(1));
    let boy_again = rec(&mut r, "housing", "S1", Some(1));
    r.sex[boy as usize] = b'M';
    r.sex[girl as usize] = b'F';
    for i in [boy, girl, boy_again] {
        r.keys[7].push((t(70), i));
    }
    let p = persons(&r, &Options::default(), None);
    assert!(!same(&p, boy, girl), "left to the scoring pass");
    assert!(same(&p, boy, boy_again), "a record of no sex recorded still joins");
    assert_eq!(p.stats.refused_by_rule.values().sum::<u64>(), 1);
}

#[test]
fn a_record_refused_by_its_groups_first_still_joins_the_others_of_its_key() {
    // The boy's record comes first under the key; the girl's two records must still be one.
    let mut r = Records::new();
    let boy = rec(&mut r, "health_visiting", "H1", Some(1));
    let girl = rec(&mut r, "health_visiting", "H2", Some(1));
    let girl_again = rec(&mut r, "housing", "S1", Some(1));
    r.sex[boy as usize] = b'M';
    r.sex[girl as usize] = b'F';
    r.sex[girl_again as usize] = b'F';
    for i in [boy, girl, girl_again] {
        r.keys[7].push((t(70), i));
    }
    let p = persons(&r, &Options::default(), None);
    assert!(!same(&p, boy, girl) && !same(&p, boy, girl_again));
    assert!(same(&p, girl, girl_again));
    assert_eq!(p.rule[girl_again as usize], Some(Rule::Key(7)));
    assert_eq!(p.stats.refused_by_rule.values().sum::<u64>(), 1, "one record joined none of the group");
}

#[test]
fn bloom_filters_link_similar_names_with_the_same_birthday_only() {
    let mut r = Records::new();
    let bloom = |bits: &[usize]| {
        let mut b = [0u8; 128];
        for &i in bits {
            b[i / 8] |= 1 << (i % 8);
        }
        b
    };
    let name_a = bloom(&(0..40).collect::<Vec<_>>());
    let name_a_typo = bloom(&(2..42).collect::<Vec<_>>());
    let other = bloom(&(500..540).collect::<Vec<_>>());
    r.blooms = vec![(name_a, name_a), (name_a_typo, name_a_typo), (other, name_a)];
    let a = rec(&mut r, "police", "P1", Some(1));
    let b = rec(&mut r, "housing", "S1", Some(1));
    let c = rec(&mut r, "district", "D1", Some(1));
    let d = rec(&mut r, "district", "D2", Some(2));
    r.bloom[a as usize] = 0;
    r.bloom[b as usize] = 1;
    r.bloom[c as usize] = 2;
    r.bloom[d as usize] = 1;
    let p = persons(&r, &Options::default(), None);
    assert!(same(&p, a, b), "similar names, same date of birth");
    assert!(!same(&p, a, c), "a different forename");
    assert!(!same(&p, b, d), "another date of birth is another block, and the veto");
    assert_eq!(p.rule[b as usize], Some(Rule::Bloom));
    assert!(p.stats.bloom_comparisons >= 2);
}

#[test]
fn a_threshold_above_every_rule_links_nothing() {
    let mut r = Records::new();
    let a = rec(&mut r, "health_visiting", "H1", Some(1));
    let b = rec(&mut r, "camhs", "C1", Some(1));
    r.strong[0][a as usize] = Some(t(9));
    r.strong[0][b as usize] = Some(t(9));
    let p = persons(&r, &Options { min_weight: 1000.0, ..Options::default() }, None);
    assert_eq!(p.count, 2);
    assert!(p.stats.rules_below_threshold.contains(&"nhs_number"));
}

#[test]
fn the_same_partner_record_twice_is_one_person() {
    let mut r = Records::new();
    let a = rec(&mut r, "police", "P1", None);
    let b = rec(&mut r, "police", "P1", None);
    let c = rec(&mut r, "housing", "P1", None);
    let p = persons(&r, &Options::default(), None);
    assert!(same(&p, a, b));
    assert!(!same(&p, a, c), "a record id means nothing across partners");
}

#[test]
fn results_do_not_depend_on_the_order_of_keys_within_a_rule() {
    let build = |reverse: bool| {
        let mut r = Records::new();
        let ids: Vec<u32> = (0..6).map(|i| rec(&mut r, "police", &format!("P{i}"), Some(1 + (i % 2) as u8))).collect();
        let mut pairs = vec![(t(1), ids[0]), (t(1), ids[2]), (t(1), ids[4]), (t(2), ids[1]), (t(2), ids[3])];
        if reverse {
            pairs.reverse();
        }
        r.keys[0] = pairs;
        persons(&r, &Options::default(), None).person
    };
    assert_eq!(build(false), build(true));
}

#[test]
fn families_join_persons_on_household_keys_but_not_on_a_communal_address() {
    let mut r = Records::new();
    let ids: Vec<u32> = (0..20).map(|i| rec(&mut r, "housing", &format!("S{i}"), Some(i as u8))).collect();
    // 0 and 1 share a UPRN; 1 and 2 an address; everyone shares a hostel address.
    r.households.push((HouseholdKind::Uprn, 0, t(100), ids[0]));
    r.households.push((HouseholdKind::Uprn, 0, t(100), ids[1]));
    r.households.push((HouseholdKind::Address, 0, t(101), ids[1]));
    r.households.push((HouseholdKind::Address, 0, t(101), ids[2]));
    for &i in &ids {
        r.households.push((HouseholdKind::Address, 0, t(102), i));
    }
    let p = persons(&r, &Options::default(), None);
    let f = families(&r, &p.person, p.count);
    let fam = |i: u32| f.family[p.person[i as usize] as usize];
    assert_eq!(fam(ids[0]), fam(ids[2]));
    assert_ne!(fam(ids[0]), fam(ids[3]));
    assert_eq!(f.communal_keys, 1);
    assert_eq!(f.count, 18);
}

#[test]
fn an_officers_decision_keeps_two_records_apart_whatever_links_them() {
    // a–b share an NHS number; b–c share a match key; an officer decided a and c are two people.
    let mut r = Records::new();
    let a = rec(&mut r, "health_visiting", "H1", Some(1));
    let b = rec(&mut r, "camhs", "C1", Some(1));
    let c = rec(&mut r, "police", "P1", None);
    r.strong[0][a as usize] = Some(t(9));
    r.strong[0][b as usize] = Some(t(9));
    r.keys[7].push((t(50), b));
    r.keys[7].push((t(50), c));
    let without = persons(&r, &Options::default(), None);
    assert!(same(&without, a, c), "without the decision the key joins c to a and b");
    let decided = Resolved { apart: vec![(a, c)], ..Resolved::default() };
    let p = persons_deciding(&r, &Options::default(), None, &decided);
    assert!(same(&p, a, b));
    assert!(!same(&p, a, c) && !same(&p, b, c), "c is kept out of the person a is in");
    assert_eq!(p.stats.decisions.kept_apart, 1);
    assert_eq!(p.stats.refused_by_rule.values().sum::<u64>(), 1);

    // Decided apart on the identifier itself: reported as a conflict, not merged.
    let decided = Resolved { apart: vec![(a, b)], ..Resolved::default() };
    let p = persons_deciding(&r, &Options::default(), None, &decided);
    assert!(!same(&p, a, b));
    assert_eq!(p.conflict[a as usize], Some((Rule::Strong(0), Veto::Decision)));

    // The decision holds once the decided record is no longer its cluster's root: x joins a
    // (x, the lower number, becomes the root), then a key offers c to x.
    let mut r = Records::new();
    let x = rec(&mut r, "education", "E1", Some(1));
    let a = rec(&mut r, "health_visiting", "H1", Some(1));
    let c = rec(&mut r, "police", "P1", None);
    r.strong[0][x as usize] = Some(t(9));
    r.strong[0][a as usize] = Some(t(9));
    r.keys[7].push((t(50), x));
    r.keys[7].push((t(50), c));
    assert!(same(&persons(&r, &Options::default(), None), a, c), "without the decision c joins them");
    let decided = Resolved { apart: vec![(a, c)], ..Resolved::default() };
    let p = persons_deciding(&r, &Options::default(), None, &decided);
    assert!(same(&p, x, a) && !same(&p, a, c), "the decision moved with a's cluster to its new root");
}

#[test]
fn an_officers_decision_links_what_no_rule_links_unless_an_identifier_or_another_decision_forbids() {
    let mut r = Records::new();
    let a = rec(&mut r, "health_visiting", "H1", Some(1));
    let b = rec(&mut r, "camhs", "C1", Some(2));
    let c = rec(&mut r, "police", "P1", Some(3));
    let d = rec(&mut r, "housing", "S1", Some(4));
    let e = rec(&mut r, "district", "D1", Some(5));
    r.strong[0][c as usize] = Some(t(7));
    r.strong[0][d as usize] = Some(t(8));
    let decided = Resolved {
        // a–b: nothing links them but the officer. c–d: two NHS numbers. b–e: a and e are apart.
        same: vec![(a, b), (c, d), (b, e)],
        apart: vec![(a, e)],
        not_found: 2,
    };
    let p = persons_deciding(&r, &Options::default(), None, &decided);
    assert!(same(&p, a, b));
    assert_eq!(p.rule[a as usize], Some(Rule::Decision));
    assert!(!same(&p, c, d), "a strong identifier that disagrees stands");
    assert!(!same(&p, b, e), "a decision of two people stands over one of one person");
    let applied = p.stats.decisions;
    assert_eq!((applied.linked, applied.refused, applied.kept_apart, applied.not_found), (1, 2, 1, 2));
    assert_eq!(p.stats.merges_by_rule.get("decision"), Some(&1));
}
