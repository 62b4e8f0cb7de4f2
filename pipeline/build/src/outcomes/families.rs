//! `families/`: one row per family with a member known in the reporting period: its size, its
//! headline needs, the agencies involved and whether it meets the Supporting Families
//! eligibility under the configured counting rule.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use arrow_array::builder::{BooleanBuilder, ListBuilder, StringBuilder, UInt8Builder, UInt16Builder, UInt32Builder};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Schema, SchemaRef};

use super::persons::{Needs, People};
use super::settings::{Eligibility, NeedCount};
use super::{described, described_list};
use crate::link::LinkError;

pub use tellonce_output::layout::FAMILIES;

/// Ages (whole months) of a dependent child: 0 to 17 years.
const CHILD_MONTHS: std::ops::Range<i32> = 0..18 * 12;

/// The schema of `families/`.
pub fn schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        described("family_id", DataType::Utf8, "Stable pseudonymous id of the family (links/)."),
        described("persons", DataType::UInt32, "Members known in the period."),
        described("children", DataType::UInt32, "Members aged 0 to 17 at the reference date."),
        described("unborn", DataType::UInt32, "Members not yet born at the reference date (expected babies)."),
        described_list("headlines", "Headlines (SF01-SF10) with a need of any member in the period, sorted."),
        described("n_headlines", DataType::UInt8, "How many headlines the family has a need under."),
        described("needs", DataType::UInt16, "The needs the eligibility rule counts (tellonce.eligibility metadata)."),
        described_list("agencies", "Partner organisations that know any member in the period, sorted."),
        described("n_agencies", DataType::UInt8, "How many partner organisations know the family in the period."),
        described(
            "eligible",
            DataType::Boolean,
            "Meets the Supporting Families eligibility under the configured rule (tellonce.eligibility metadata).",
        ),
        described("district", DataType::Utf8, "District or borough of the family's latest record in the period."),
        described("imd_decile", DataType::UInt8, "IMD decile of that record's small area (1 = most deprived)."),
    ]))
}

/// One family, before writing.
#[derive(Debug, Clone)]
pub struct FamilyRow {
    /// Index into the build's family ids.
    pub family: u32,
    /// Members known in the period.
    pub persons: u32,
    /// Members aged 0 to 17.
    pub children: u32,
    /// Members not yet born.
    pub unborn: u32,
    /// Headline bits (as [`Needs::headlines`]).
    pub headlines: u32,
    /// Needs as the rule counts them.
    pub needs: u16,
    /// Partner organisations.
    pub agencies: BTreeSet<&'static str>,
    /// Whether eligible.
    pub eligible: bool,
    /// (latest date, district, IMD decile).
    pub area: Option<(i32, Option<Arc<str>>, Option<u8>)>,
}

/// The families of the persons known in the period, ordered by id.
pub fn rows(people: &People<'_>, persons: &[usize], rule: &Eligibility) -> Vec<FamilyRow> {
    let mut by_family: BTreeMap<u32, FamilyRow> = BTreeMap::new();
    for &p in persons {
        let Some(&f) = people.family_of.get(p) else { continue };
        let row = by_family.entry(f).or_insert_with(|| FamilyRow {
            family: f,
            persons: 0,
            children: 0,
            unborn: 0,
            headlines: 0,
            needs: 0,
            agencies: BTreeSet::new(),
            eligible: false,
            area: None,
        });
        row.persons += 1;
        match people.age_months(p) {
            Some(m) if CHILD_MONTHS.contains(&m) => row.children += 1,
            Some(m) if m < 0 => row.unborn += 1,
            _ => {}
        }
        row.headlines |= people.needs.headlines.get(p).copied().unwrap_or(0);
        row.agencies.extend(people.agencies(p));
        if let Some((d, area)) = people.profiles.latest(p)
            && row.area.as_ref().is_none_or(|(l, _, _)| d > *l)
        {
            row.area = Some((d, area.district.clone(), area.imd));
        }
    }
    let mut rows: Vec<FamilyRow> = by_family.into_values().collect();
    for row in &mut rows {
        let counted = match rule.count {
            NeedCount::Headlines => row.headlines.count_ones() as usize,
            NeedCount::Indicators => people.needs.family_indicators.get(&row.family).map_or(0, BTreeSet::len),
        };
        row.needs = u16::try_from(counted).unwrap_or(u16::MAX);
        row.eligible = rule.eligible(row.needs, row.children + row.unborn);
    }
    rows.sort_by(|a, b| people.family_ids.get(a.family as usize).cmp(&people.family_ids.get(b.family as usize)));
    rows
}

/// One batch of `families/` rows.
pub fn batch(people: &People<'_>, rows: &[FamilyRow]) -> Result<RecordBatch, LinkError> {
    let n = rows.len();
    let mut family = StringBuilder::with_capacity(n, n * 17);
    let (mut persons, mut children, mut unborn) =
        (UInt32Builder::with_capacity(n), UInt32Builder::with_capacity(n), UInt32Builder::with_capacity(n));
    let (mut headlines, mut agencies) =
        (ListBuilder::new(StringBuilder::new()), ListBuilder::new(StringBuilder::new()));
    let (mut n_headlines, mut n_agencies, mut imd) = (UInt8Builder::new(), UInt8Builder::new(), UInt8Builder::new());
    let mut needs = UInt16Builder::with_capacity(n);
    let mut eligible = BooleanBuilder::with_capacity(n);
    let mut district = StringBuilder::new();
    for r in rows {
        family.append_option(people.family_ids.get(r.family as usize));
        persons.append_value(r.persons);
        children.append_value(r.children);
        unborn.append_value(r.unborn);
        for h in Needs::codes(people.mapping, r.headlines) {
            headlines.values().append_value(h);
        }
        headlines.append(true);
        n_headlines.append_value(r.headlines.count_ones() as u8);
        needs.append_value(r.needs);
        for a in &r.agencies {
            agencies.values().append_value(a);
        }
        agencies.append(true);
        n_agencies.append_value(u8::try_from(r.agencies.len()).unwrap_or(u8::MAX));
        eligible.append_value(r.eligible);
        district.append_option(r.area.as_ref().and_then(|(_, d, _)| d.as_deref()));
        imd.append_option(r.area.as_ref().and_then(|(_, _, m)| *m));
    }
    let columns: Vec<ArrayRef> = vec![
        Arc::new(family.finish()),
        Arc::new(persons.finish()),
        Arc::new(children.finish()),
        Arc::new(unborn.finish()),
        Arc::new(headlines.finish()),
        Arc::new(n_headlines.finish()),
        Arc::new(needs.finish()),
        Arc::new(agencies.finish()),
        Arc::new(n_agencies.finish()),
        Arc::new(eligible.finish()),
        Arc::new(district.finish()),
        Arc::new(imd.finish()),
    ];
    RecordBatch::try_new(schema(), columns).map_err(|e| LinkError::Internal(e.to_string()))
}
