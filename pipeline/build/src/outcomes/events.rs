//! `theme_events/`: one row per indicator occurrence, with the person and family it concerns,
//! partitioned by headline and month.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use arrow_array::builder::{Date32Builder, StringBuilder, UInt8Builder};
use arrow_array::cast::AsArray;
use arrow_array::types::{Date32Type, UInt8Type};
use arrow_array::{Array, ArrayRef, RecordBatch, RecordBatchReader as _};
use arrow_schema::{DataType, Schema, SchemaRef};
use tellonce_schemas::identifiers::dates;
use tellonce_schemas::staging;

use super::described;
use super::episodes::Marks;
use super::outcome_rules::Levels;
use super::profile::{self, Area, Profiles};
use super::sequences::Pending;
use super::settings::Period;
use super::themes::Mapping;
use crate::link::LinkError;
use crate::link::input::StagingFile;

pub use tellonce_output::layout::THEME_EVENTS;

/// Age bands (years at the event), in order.
pub const AGE_BANDS: [&str; 8] = ["unborn", "0-4", "5-10", "11-15", "16-17", "18-24", "25+", "unknown"];

/// The band of an age in whole months (`None`: no date of birth).
pub fn age_band(months: Option<i32>) -> &'static str {
    match months {
        None => "unknown",
        Some(m) if m < 0 => "unborn",
        Some(m) => match m / 12 {
            0..=4 => "0-4",
            5..=10 => "5-10",
            11..=15 => "11-15",
            16..=17 => "16-17",
            18..=24 => "18-24",
            _ => "25+",
        },
    }
}

/// The schema of `theme_events/` (partition columns `headline` and `month` in the path).
pub fn schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        described("person_id", DataType::Utf8, "Stable pseudonymous id of the person the event is about (links/)."),
        described("family_id", DataType::Utf8, "Stable pseudonymous id of the person's family (links/)."),
        described("indicator", DataType::Utf8, "The indicator of the headline the event evidences (themes explain)."),
        described("event_date", DataType::Date32, "The date of the event in its feed."),
        described("feed", DataType::Utf8, "The partner feed the event came from."),
        described("agreement", DataType::Utf8, "The information sharing agreement (id@version) it was shared under."),
        described("district", DataType::Utf8, "District or borough of the record's postcode."),
        described("imd_decile", DataType::UInt8, "IMD decile of the record's small area (1 = most deprived)."),
        described(
            "age_band",
            DataType::Utf8,
            "Age at the event: unborn, 0-4, 5-10, 11-15, 16-17, 18-24, 25+ or unknown.",
        ),
    ]))
}

/// One event row, before writing.
#[derive(Debug, Clone)]
pub struct EventRow {
    /// Index into the build's person ids.
    pub person: u32,
    /// Index into the build's family ids.
    pub family: u32,
    /// Index into the mapping's indicators.
    pub indicator: u16,
    /// Days since 1970-01-01.
    pub date: i32,
    /// Feed name.
    pub feed: &'static str,
    /// Agreement label.
    pub agreement: Arc<str>,
    /// District, if known.
    pub district: Option<Arc<str>>,
    /// IMD decile, if known.
    pub imd: Option<u8>,
    /// Age band.
    pub age_band: &'static str,
}

/// Events grouped by (headline, month).
pub type Partitions = BTreeMap<(String, String), Vec<EventRow>>;

/// What the pass over staging gathers for episodes and outcomes, beside the events.
#[derive(Debug, Default)]
pub struct Gathered {
    /// The records that open and close episodes of support.
    pub marks: Marks,
    /// The readings of the outcome rules over values.
    pub levels: Levels,
}

/// Reads `files` (in the order the build read them, so that record `i` is the build's record
/// `i`) and returns every indicator occurrence, by headline and month, with the indicators that
/// could not be evaluated for want of a withheld column. The same pass fills `profiles` with what
/// each person's records in `period` say about them, and `gathered` with the records that open
/// and close episodes of support and the readings of outcome rules.
pub fn collect(
    mapping: &Mapping,
    files: &[StagingFile],
    person_of: &dyn Fn(usize) -> (u32, u32),
    expected_rows: usize,
    period: &Period,
    profiles: &mut Profiles,
    gathered: &mut Gathered,
) -> Result<(Partitions, BTreeSet<(usize, String)>), LinkError> {
    let mut parts: Partitions = BTreeMap::new();
    let mut pending = Pending::default();
    let mut missing = BTreeSet::new();
    let mut record = 0usize;
    let mut interned: HashMap<String, Arc<str>> = HashMap::new();
    let mut intern = |s: &str| -> Arc<str> {
        if let Some(a) = interned.get(s) {
            return a.clone();
        }
        let a: Arc<str> = Arc::from(s);
        interned.insert(s.to_owned(), a.clone());
        a
    };
    for f in files {
        let err = |message: String| LinkError::Staging { path: f.path.clone(), message };
        let schema_feed = tellonce_schemas::feed::latest(f.feed).ok_or_else(|| err("unknown feed".into()))?;
        let mut wanted: BTreeSet<&str> = profile::cohort_columns(f.feed).collect();
        wanted.extend(mapping.indicators.iter().filter(|i| i.feed.name == f.feed).flat_map(|i| i.columns()));
        wanted.extend(mapping.episodes.iter().filter(|e| e.feed.name == f.feed).flat_map(|e| e.columns()));
        for x in mapping.outcome_rules.iter().filter_map(|r| r.readings()).filter(|x| x.feed.name == f.feed) {
            wanted.extend(x.series.iter().map(|(c, _)| c.as_str()).chain([x.value.as_str()]));
        }
        wanted.extend([
            schema_feed.event_date,
            "date_of_birth_month",
            "sex",
            staging::DISTRICT,
            staging::IMD_DECILE,
            staging::SMALL_AREA,
            staging::AGREEMENT,
        ]);
        let reader = crate::link::input::open_projected(&f.read_from, |name| wanted.contains(name))?;
        let file_schema = reader.schema();
        profiles.file(f.feed, &|c| file_schema.column_with_name(c).is_some()).map_err(err)?;
        for batch in reader {
            let batch = batch.map_err(|e| err(e.to_string()))?;
            let hits = mapping.matches(f.feed, &batch, &mut missing);
            let date = batch.column_by_name(schema_feed.event_date).and_then(|c| c.as_primitive_opt::<Date32Type>());
            let dob = batch.column_by_name("date_of_birth_month").and_then(|c| c.as_string_opt::<i32>());
            let district = batch.column_by_name(staging::DISTRICT).and_then(|c| c.as_string_opt::<i32>());
            let imd = batch.column_by_name(staging::IMD_DECILE).and_then(|c| c.as_primitive_opt::<UInt8Type>());
            let agreement = batch.column_by_name(staging::AGREEMENT).and_then(|c| c.as_string_opt::<i32>());
            let days: Vec<Option<i32>> =
                (0..batch.num_rows()).map(|row| date.filter(|d| d.is_valid(row)).map(|d| d.value(row))).collect();
            let small = batch.column_by_name(staging::SMALL_AREA).and_then(|c| c.as_string_opt::<i32>());
            let areas: Vec<Option<u32>> = (0..batch.num_rows())
                .map(|row| {
                    let area = Area {
                        district: district.filter(|d| d.is_valid(row)).map(|d| intern(d.value(row))),
                        imd: imd.filter(|d| d.is_valid(row)).map(|d| d.value(row)),
                        small_area: small.filter(|d| d.is_valid(row)).map(|d| intern(d.value(row))),
                    };
                    (area.district.is_some() || area.imd.is_some() || area.small_area.is_some())
                        .then(|| profiles.area(area))
                })
                .collect();
            profiles.observe(f.feed, &batch, period, &days, &areas, &|row| person_of(record + row).0);
            gathered.marks.observe(&mapping.episodes, f.feed, &batch, &days, &|row| person_of(record + row));
            gathered.levels.observe(&mapping.outcome_rules, f.feed, &batch, &days, &|row| person_of(record + row));
            pending.observe(mapping, f.feed, &batch, &days, &|row| person_of(record + row).0);
            for (row, found) in hits.into_iter().enumerate() {
                let i = record + row;
                if found.is_empty() {
                    continue;
                }
                let Some(day) = days[row] else { continue };
                let (y, m, _) = dates::civil_from_days(day);
                let age = dob.filter(|d| d.is_valid(row)).and_then(|d| {
                    let (by, bm) = d.value(row).split_once('-')?;
                    let (by, bm): (i32, i32) = (by.parse().ok()?, bm.parse().ok()?);
                    Some((y * 12 + i32::try_from(m).ok()?) - (by * 12 + bm))
                });
                let (person, family) = person_of(i);
                for k in found {
                    let Some(ind) = mapping.indicators.get(usize::from(k)) else { continue };
                    let event = EventRow {
                        person,
                        family,
                        indicator: k,
                        date: day,
                        feed: f.feed,
                        agreement: intern(agreement.filter(|a| a.is_valid(row)).map_or("", |a| a.value(row))),
                        district: district.filter(|d| d.is_valid(row)).map(|d| intern(d.value(row))),
                        imd: imd.filter(|d| d.is_valid(row)).map(|d| d.value(row)),
                        age_band: age_band(age),
                    };
                    if ind.over_rows.is_some() {
                        pending.hit(k, event);
                    } else {
                        parts.entry((ind.headline.clone(), month_of(day))).or_default().push(event);
                    }
                }
            }
            record += batch.num_rows();
        }
    }
    for event in pending.events(mapping) {
        let Some(ind) = mapping.indicators.get(usize::from(event.indicator)) else { continue };
        parts.entry((ind.headline.clone(), month_of(event.date))).or_default().push(event);
    }
    if record != expected_rows {
        return Err(LinkError::Internal(format!(
            "the staging files held {expected_rows} rows when linked and {record} when read for outcomes"
        )));
    }
    Ok((parts, missing))
}

/// The month (`YYYY-MM`) of a day, as `theme_events/` is partitioned.
fn month_of(day: i32) -> String {
    let (y, m, _) = dates::civil_from_days(day);
    format!("{y:04}-{m:02}")
}

/// One batch of `theme_events/` rows.
pub fn batch(
    rows: &[EventRow],
    mapping: &Mapping,
    person_ids: &[String],
    family_ids: &[String],
) -> Result<RecordBatch, LinkError> {
    let n = rows.len();
    let (mut p, mut f, mut ind, mut feed, mut agr, mut dist, mut band) = (
        StringBuilder::with_capacity(n, n * 17),
        StringBuilder::with_capacity(n, n * 17),
        StringBuilder::new(),
        StringBuilder::new(),
        StringBuilder::new(),
        StringBuilder::new(),
        StringBuilder::new(),
    );
    let mut date = Date32Builder::with_capacity(n);
    let mut imd = UInt8Builder::with_capacity(n);
    for r in rows {
        p.append_option(person_ids.get(r.person as usize));
        f.append_option(family_ids.get(r.family as usize));
        ind.append_option(mapping.indicators.get(usize::from(r.indicator)).map(|i| i.code.as_str()));
        date.append_value(r.date);
        feed.append_value(r.feed);
        agr.append_value(r.agreement.as_ref());
        dist.append_option(r.district.as_deref());
        imd.append_option(r.imd);
        band.append_value(r.age_band);
    }
    let columns: Vec<ArrayRef> = vec![
        Arc::new(p.finish()),
        Arc::new(f.finish()),
        Arc::new(ind.finish()),
        Arc::new(date.finish()),
        Arc::new(feed.finish()),
        Arc::new(agr.finish()),
        Arc::new(dist.finish()),
        Arc::new(imd.finish()),
        Arc::new(band.finish()),
    ];
    RecordBatch::try_new(schema(), columns).map_err(|e| LinkError::Internal(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn age_bands_cover_every_age() {
        assert_eq!(age_band(None), "unknown");
        assert_eq!(age_band(Some(-3)), "unborn");
        assert_eq!(age_band(Some(0)), "0-4");
        assert_eq!(age_band(Some(59)), "0-4");
        assert_eq!(age_band(Some(60)), "5-10");
        assert_eq!(age_band(Some(16 * 12)), "16-17");
        assert_eq!(age_band(Some(40 * 12)), "25+");
        for b in [age_band(Some(5 * 12)), age_band(Some(20 * 12))] {
            assert!(AGE_BANDS.contains(&b));
        }
    }
}
