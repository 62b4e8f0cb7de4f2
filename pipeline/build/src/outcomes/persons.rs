//! `persons/`: one row per person known in the reporting period, with their age band, area,
//! the feeds and agencies that know them, their headline needs and cohort flags.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use arrow_array::builder::{BooleanBuilder, ListBuilder, StringBuilder, UInt8Builder};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Schema, SchemaRef};

use super::events::{Partitions, age_band};
use super::profile::{COHORTS, Profiles, age_months};
use super::settings::Period;
use super::themes::Mapping;
use super::{described, described_list};
use crate::link::LinkError;

pub use tellonce_output::layout::PERSONS;

/// The schema of `persons/`.
pub fn schema() -> SchemaRef {
    let mut fields = vec![
        described("person_id", DataType::Utf8, "Stable pseudonymous id of the person (links/)."),
        described("family_id", DataType::Utf8, "Stable pseudonymous id of the person's family (links/)."),
        described(
            "age_band",
            DataType::Utf8,
            "Age at the reference date: unborn, 0-4, 5-10, 11-15, 16-17, 18-24, 25+ or unknown.",
        ),
        described("sex", DataType::Utf8, "Sex as most often recorded (M, F, X, U); null where no agreement shares it."),
        described("district", DataType::Utf8, "District or borough of the person's latest record in the period."),
        described("imd_decile", DataType::UInt8, "IMD decile of that record's small area (1 = most deprived)."),
        described("small_area", DataType::Utf8, "That record's small area (LSOA-like), from the postcode lookup."),
        described(
            "locality",
            DataType::Utf8,
            "The family hub locality of that small area, from the localities lookup (null: no lookup, or the \
             small area is not in it).",
        ),
        described_list("feeds", "The partner feeds with a record of the person in the period, sorted."),
        described_list("agencies", "The partner organisations sending those feeds, distinct and sorted."),
        described("n_agencies", DataType::UInt8, "How many partner organisations know the person in the period."),
        described_list("headlines", "Supporting Families headlines (SF01-SF10) with a need in the period, sorted."),
        described("n_headlines", DataType::UInt8, "How many headlines the person has a need under in the period."),
    ];
    for c in &COHORTS {
        fields.push(described(
            c.name,
            DataType::Boolean,
            &format!("{} Null when no feed in the build carries it.", c.description),
        ));
    }
    Arc::new(Schema::new(fields))
}

/// Who has which need in the period, from the theme events.
#[derive(Debug)]
pub struct Needs {
    /// Per person, bit `i` set for a need under headline `mapping.headlines[i]`.
    pub headlines: Vec<u32>,
    /// Per family, the indicators its members have in the period.
    pub family_indicators: HashMap<u32, BTreeSet<u16>>,
}

impl Needs {
    /// Gathers the needs of `persons` persons from the events dated in `period`.
    pub fn from_events(
        parts: &Partitions,
        mapping: &Mapping,
        period: &Period,
        persons: usize,
    ) -> Result<Needs, LinkError> {
        if mapping.headlines.len() > 32 {
            return Err(LinkError::Internal(format!(
                "the theme mapping has {} headlines; at most 32 are supported",
                mapping.headlines.len()
            )));
        }
        let index: HashMap<&str, usize> =
            mapping.headlines.iter().enumerate().map(|(i, h)| (h.code.as_str(), i)).collect();
        let mut needs = Needs { headlines: vec![0; persons], family_indicators: HashMap::new() };
        for ((headline, _), rows) in parts {
            let Some(&h) = index.get(headline.as_str()) else { continue };
            for r in rows.iter().filter(|r| period.contains(Some(r.date))) {
                if let Some(bits) = needs.headlines.get_mut(r.person as usize) {
                    *bits |= 1 << h;
                }
                needs.family_indicators.entry(r.family).or_default().insert(r.indicator);
            }
        }
        Ok(needs)
    }

    /// The headline codes of a bit set, in mapping order.
    pub fn codes<'m>(mapping: &'m Mapping, bits: u32) -> impl Iterator<Item = &'m str> + 'm {
        mapping.headlines.iter().enumerate().filter(move |(i, _)| bits & (1 << i) != 0).map(|(_, h)| h.code.as_str())
    }
}

/// What the `persons/` and `families/` writers read.
pub struct People<'a> {
    /// The theme mapping.
    pub mapping: &'a Mapping,
    /// What the records say about each person.
    pub profiles: &'a Profiles,
    /// Person ids, by person.
    pub person_ids: &'a [String],
    /// Family ids, by family.
    pub family_ids: &'a [String],
    /// The family of each person.
    pub family_of: &'a [u32],
    /// Needs in the period.
    pub needs: &'a Needs,
    /// The date ages are taken at (days since 1970-01-01).
    pub reference: i32,
    /// The family hub localities lookup, if the deployment has one.
    pub localities: Option<&'a super::localities::Localities>,
}

impl People<'_> {
    /// The persons known in the period, ordered by id.
    pub fn persons(&self) -> Vec<usize> {
        let mut ps: Vec<usize> = (0..self.person_ids.len()).filter(|&p| self.profiles.in_period(p)).collect();
        ps.sort_by(|a, b| self.person_ids[*a].cmp(&self.person_ids[*b]));
        ps
    }

    /// The person's age in whole months at the reference date, if a birth month is known.
    pub fn age_months(&self, p: usize) -> Option<i32> {
        self.profiles.birth_month(p).map(|b| age_months(b, self.reference))
    }

    /// The partner organisations of the feeds the person is known to, distinct and sorted.
    pub fn agencies(&self, p: usize) -> BTreeSet<&'static str> {
        self.profiles.feeds_of(p).filter_map(|f| tellonce_schemas::feed::latest(f).map(|s| s.partner)).collect()
    }

    /// One batch of `persons/` rows.
    pub fn persons_batch(&self, persons: &[usize]) -> Result<RecordBatch, LinkError> {
        let n = persons.len();
        let mut person = StringBuilder::with_capacity(n, n * 17);
        let mut family = StringBuilder::with_capacity(n, n * 17);
        let (mut band, mut sex, mut district) = (StringBuilder::new(), StringBuilder::new(), StringBuilder::new());
        let (mut small_area, mut locality) = (StringBuilder::new(), StringBuilder::new());
        let (mut imd, mut n_agencies, mut n_headlines) =
            (UInt8Builder::new(), UInt8Builder::new(), UInt8Builder::new());
        let (mut feeds, mut agencies, mut headlines) = (
            ListBuilder::new(StringBuilder::new()),
            ListBuilder::new(StringBuilder::new()),
            ListBuilder::new(StringBuilder::new()),
        );
        let mut cohorts: Vec<BooleanBuilder> = COHORTS.iter().map(|_| BooleanBuilder::with_capacity(n)).collect();
        for &p in persons {
            person.append_option(self.person_ids.get(p));
            let f = self.family_of.get(p).and_then(|&f| self.family_ids.get(f as usize));
            family.append_option(f);
            band.append_value(age_band(self.age_months(p)));
            sex.append_option(if self.profiles.sex_carried { self.profiles.sex(p) } else { None });
            let area = self.profiles.latest(p).map(|(_, a)| a);
            district.append_option(area.and_then(|a| a.district.as_deref()));
            imd.append_option(area.and_then(|a| a.imd));
            let small = area.and_then(|a| a.small_area.as_deref());
            small_area.append_option(small);
            locality.append_option(small.zip(self.localities).and_then(|(s, l)| l.of(s)));
            let mut fs: Vec<&str> = self.profiles.feeds_of(p).collect();
            fs.sort_unstable();
            for f in fs {
                feeds.values().append_value(f);
            }
            feeds.append(true);
            let ags = self.agencies(p);
            n_agencies.append_value(u8::try_from(ags.len()).unwrap_or(u8::MAX));
            for a in ags {
                agencies.values().append_value(a);
            }
            agencies.append(true);
            let bits = self.needs.headlines.get(p).copied().unwrap_or(0);
            n_headlines.append_value(bits.count_ones() as u8);
            for h in Needs::codes(self.mapping, bits) {
                headlines.values().append_value(h);
            }
            headlines.append(true);
            for (i, b) in cohorts.iter_mut().enumerate() {
                b.append_option(self.profiles.cohort(p, i));
            }
        }
        let mut columns: Vec<ArrayRef> = vec![
            Arc::new(person.finish()),
            Arc::new(family.finish()),
            Arc::new(band.finish()),
            Arc::new(sex.finish()),
            Arc::new(district.finish()),
            Arc::new(imd.finish()),
            Arc::new(small_area.finish()),
            Arc::new(locality.finish()),
            Arc::new(feeds.finish()),
            Arc::new(agencies.finish()),
            Arc::new(n_agencies.finish()),
            Arc::new(headlines.finish()),
            Arc::new(n_headlines.finish()),
        ];
        columns.extend(cohorts.iter_mut().map(|b| Arc::new(b.finish()) as ArrayRef));
        RecordBatch::try_new(schema(), columns).map_err(|e| LinkError::Internal(e.to_string()))
    }
}
