//! Tests of the person, family and aggregate datasets on small hand-made builds.

use std::sync::Arc;

use arrow_array::{ArrayRef, BooleanArray, RecordBatch, StringArray};
use tellonce_schemas::identifiers::dates::days_from_civil;

use super::aggregates::{self, TOTAL, UNKNOWN};
use super::disclosure::{Cell, Policy};
use super::events::{EventRow, Partitions};
use super::families;
use super::persons::{Needs, People};
use super::profile::Profiles;
use super::settings::{Eligibility, NeedCount, Period};
use super::themes::Mapping;

fn event(person: u32, family: u32, indicator: u16, date: i32, district: Option<&str>) -> EventRow {
    EventRow {
        person,
        family,
        indicator,
        date,
        feed: "education",
        agreement: Arc::from("ISA@1"),
        district: district.map(Arc::from),
        imd: Some(3),
        age_band: "5-10",
    }
}

/// The index of the first indicator of `headline` in the embedded mapping, and of a second one
/// under the same headline if there is one.
fn indicators_of(m: &Mapping, headline: &str) -> Vec<u16> {
    m.indicators.iter().enumerate().filter(|(_, i)| i.headline == headline).map(|(k, _)| k as u16).collect()
}

fn partitions(m: &Mapping, rows: Vec<EventRow>) -> Partitions {
    let mut parts = Partitions::new();
    for r in rows {
        let ind = &m.indicators[usize::from(r.indicator)];
        let (y, mo, _) = tellonce_schemas::identifiers::dates::civil_from_days(r.date);
        parts.entry((ind.headline.clone(), format!("{y:04}-{mo:02}"))).or_default().push(r);
    }
    parts
}

#[test]
fn needs_count_each_person_once_per_headline_and_respect_the_period() {
    let m = Mapping::embedded().unwrap();
    let sf01 = indicators_of(&m, "SF01");
    let sf08 = indicators_of(&m, "SF08")[0];
    let (jan, jun) = (days_from_civil(2024, 1, 10), days_from_civil(2024, 6, 10));
    let parts = partitions(
        &m,
        vec![
            event(0, 0, sf01[0], jan, Some("ARUN")),
            event(0, 0, sf01[1], jun, Some("ARUN")),
            event(1, 0, sf08, jun, None),
        ],
    );
    let all = Needs::from_events(&parts, &m, &Period::default(), 3).unwrap();
    assert_eq!(Needs::codes(&m, all.headlines[0]).collect::<Vec<_>>(), ["SF01"]);
    assert_eq!(Needs::codes(&m, all.headlines[1]).collect::<Vec<_>>(), ["SF08"]);
    assert_eq!(all.headlines[2], 0);
    assert_eq!(all.family_indicators[&0].len(), 3, "two SF01 indicators and one SF08");
    let spring = Period { from: Some(days_from_civil(2024, 1, 1)), to: Some(days_from_civil(2024, 3, 31)) };
    let early = Needs::from_events(&parts, &m, &spring, 3).unwrap();
    assert_eq!(early.headlines[1], 0, "the June event is outside the period");
    assert_eq!(early.family_indicators[&0].len(), 1);
}

#[test]
fn monthly_tables_count_distinct_persons_with_an_unknown_row_and_additive_margins() {
    let m = Mapping::embedded().unwrap();
    let sf01 = indicators_of(&m, "SF01");
    let jan = days_from_civil(2024, 1, 10);
    // Twelve persons in Arun with SF01 (one of them twice), three with no known district.
    let mut rows: Vec<EventRow> = (0..12).map(|p| event(p, p, sf01[0], jan, Some("ARUN"))).collect();
    rows.push(event(0, 0, sf01[1], jan + 3, Some("ARUN")));
    rows.extend((12..15).map(|p| event(p, p, sf01[0], jan, None)));
    let parts = partitions(&m, rows);
    let policy = Policy { threshold: 1, rounding_base: 1 };
    let published = aggregates::district_headline_month(&parts, &m, &Period::default(), &policy).unwrap();
    assert_eq!(published.tables.len(), 1);
    let (month, t) = &published.tables[0];
    assert_eq!(month.as_deref(), Some("2024-01"));
    assert_eq!(t.rows, ["ARUN", UNKNOWN]);
    assert_eq!(t.cols.len(), m.headlines.len());
    assert_eq!(t.cells[0][0], Cell::Value(12), "person 0 counted once");
    assert_eq!(t.cells[1][0], Cell::Value(3));
    assert_eq!(t.grand_total, Cell::Value(15));
    let batch = aggregates::batch(&published).unwrap();
    assert_eq!(batch.num_rows(), 3 * (m.headlines.len() + 1), "two rows and the totals, each with its total");
    let rows = batch.column_by_name("breakdown").unwrap();
    let rows = rows.as_any().downcast_ref::<StringArray>().unwrap();
    assert!(rows.iter().any(|r| r == Some(TOTAL)));
}

fn profiles_with_births(births: &[Option<&str>], date: i32) -> Profiles {
    let mut p = Profiles::new(births.len());
    p.file("education", &|c| c == "child_in_need").unwrap();
    let batch = RecordBatch::try_from_iter([
        ("date_of_birth_month", Arc::new(StringArray::from(births.to_vec())) as ArrayRef),
        ("child_in_need", Arc::new(BooleanArray::from(vec![true; births.len()])) as ArrayRef),
    ])
    .unwrap();
    let dates = vec![Some(date); births.len()];
    let areas = vec![None; births.len()];
    p.observe("education", &batch, &Period::default(), &dates, &areas, &|row| row as u32);
    p
}

#[test]
fn eligibility_follows_the_configured_counting_rule_and_needs_a_child() {
    let m = Mapping::embedded().unwrap();
    let sf01 = indicators_of(&m, "SF01");
    let (sf08, sf09) = (indicators_of(&m, "SF08")[0], indicators_of(&m, "SF09")[0]);
    let day = days_from_civil(2024, 5, 1);
    // Family 0: a child and a parent, needs under SF01 (two indicators) and SF08.
    // Family 1: two adults, needs under SF01, SF08 and SF09.
    let parts = partitions(
        &m,
        vec![
            event(0, 0, sf01[0], day, None),
            event(0, 0, sf01[1], day, None),
            event(1, 0, sf08, day, None),
            event(2, 1, sf01[0], day, None),
            event(3, 1, sf08, day, None),
            event(3, 1, sf09, day, None),
        ],
    );
    let profiles = profiles_with_births(&[Some("2016-02"), Some("1990-07"), Some("1988-01"), Some("1987-03")], day);
    let needs = Needs::from_events(&parts, &m, &Period::default(), 4).unwrap();
    let (person_ids, family_ids): (Vec<String>, Vec<String>) =
        ((0..4).map(|i| format!("P{i}")).collect(), (0..2).map(|i| format!("F{i}")).collect());
    let people = People {
        mapping: &m,
        profiles: &profiles,
        person_ids: &person_ids,
        family_ids: &family_ids,
        family_of: &[0, 0, 1, 1],
        needs: &needs,
        reference: day,
        localities: None,
    };
    let persons = people.persons();
    assert_eq!(persons, [0, 1, 2, 3]);
    let by_headline = families::rows(&people, &persons, &Eligibility::default());
    assert_eq!((by_headline[0].children, by_headline[0].needs, by_headline[0].eligible), (1, 2, false));
    assert_eq!((by_headline[1].children, by_headline[1].needs, by_headline[1].eligible), (0, 3, false), "no child");
    let by_indicator = Eligibility { count: NeedCount::Indicators, ..Eligibility::default() };
    let rows = families::rows(&people, &persons, &by_indicator);
    assert_eq!((rows[0].needs, rows[0].eligible), (3, true), "two SF01 indicators count twice");
    let adults_too = Eligibility { require_child: false, ..Eligibility::default() };
    assert!(families::rows(&people, &persons, &adults_too)[1].eligible);
    // The persons batch carries the cohort flag the feed holds and leaves sex null (not shared).
    let batch = people.persons_batch(&persons).unwrap();
    let cin = batch.column_by_name("child_in_need").unwrap().as_any().downcast_ref::<BooleanArray>().unwrap();
    assert!(cin.iter().all(|v| v == Some(true)));
    let looked_after = batch.column_by_name("looked_after").unwrap();
    assert_eq!(looked_after.null_count(), 4, "no staged file carries looked_after");
    assert_eq!(batch.column_by_name("sex").unwrap().null_count(), 4);
    let bands = batch.column_by_name("age_band").unwrap().as_any().downcast_ref::<StringArray>().unwrap();
    assert_eq!(bands.value(0), "5-10");
    assert_eq!(bands.value(1), "25+");
}
