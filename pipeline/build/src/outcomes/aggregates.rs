//! `aggregates/`: the publishable count tables, each through [`disclosure`] control.
//!
//! Each table set is a set of two-way tables with margins:
//! - `district_headline_month`: for each month of the period, persons with a need by district ×
//!   headline, the district being the area of the event;
//! - `imd_decile_headline`, `small_area_headline` and `locality_headline` (with a localities
//!   lookup): over the whole period, persons with a need by the IMD decile, the small area and the
//!   family hub locality of their latest area (`persons.imd_decile`, `small_area`, `locality`) ×
//!   headline. These three group the same persons by the same finest rows, so they are protected
//!   together as linked tables ([`linked`](super::linked)): no suppressed cell of one can be
//!   worked out from what all three publish.
//!
//! A cell counts distinct persons; margins are sums of cells (a person with needs under two
//! headlines counts in both columns and twice in the row total), so that every table is additive
//! and its protection is exact. Months are separate tables, each protected on its own, and no
//! total over months is published: distinct persons per month do not add up to anything
//! published, so no month can be recovered from another by subtraction.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::Arc;

use arrow_array::builder::{BooleanBuilder, StringBuilder, UInt64Builder};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Schema, SchemaRef};
use serde::Serialize;

use super::described;
use super::disclosure::{self, Cell, Policy, Protected, Table};
use super::events::Partitions;
use super::linked::{self, LinkedReport, Member};
use super::persons::People;
use super::settings::Period;
use super::themes::Mapping;
use crate::link::LinkError;

pub use tellonce_output::layout::AGGREGATES;

/// The district × headline table, one per month.
pub const DISTRICT_HEADLINE_MONTH: &str = "district_headline_month";

/// The IMD decile × headline table over the period.
pub const IMD_DECILE_HEADLINE: &str = "imd_decile_headline";

/// The small area × headline table over the period.
pub const SMALL_AREA_HEADLINE: &str = "small_area_headline";

/// The family hub locality × headline table over the period.
pub const LOCALITY_HEADLINE: &str = "locality_headline";

/// The label of margins.
pub const TOTAL: &str = "Total";

/// The label of a row whose area is not known.
pub const UNKNOWN: &str = "unknown";

/// The schema of `aggregates/` (partition column `table` in the path).
pub fn schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        described("month", DataType::Utf8, "The month (YYYY-MM) of a monthly table; null for a table over the period."),
        described(
            "breakdown",
            DataType::Utf8,
            "The row: a district, an IMD decile (1 = most deprived), unknown, or Total (the column total).",
        ),
        described("headline", DataType::Utf8, "The column: a headline code SF01-SF10, or Total (the row total)."),
        described(
            "value",
            DataType::Utf8,
            "The published count of persons with a need, rounded; c where suppressed (GSS symbol for confidential).",
        ),
        described("count", DataType::UInt64, "The published count as a number; null where suppressed."),
        described(
            "suppressed",
            DataType::Boolean,
            "Whether the cell is suppressed (small, or to protect one that is).",
        ),
    ]))
}

/// What protecting one table set did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TableReport {
    /// Two-way tables (one per month for monthly tables).
    pub tables: u64,
    /// Cells published or suppressed, margins included.
    pub cells: u64,
    /// Cells suppressed as small.
    pub primary: u64,
    /// Cells suppressed to protect others.
    pub secondary: u64,
}

/// One protected table, with its month if monthly.
pub struct Published {
    /// The table set's name.
    pub name: &'static str,
    /// The protected tables, each with its month.
    pub tables: Vec<(Option<String>, Protected)>,
}

impl Published {
    /// How many cells were published and suppressed.
    pub fn report(&self) -> TableReport {
        let mut r = TableReport::default();
        for (_, t) in &self.tables {
            r.tables += 1;
            r.cells += ((t.rows.len() + 1) * (t.cols.len() + 1)) as u64;
            r.primary += t.primary as u64;
            r.secondary += t.secondary as u64;
        }
        r
    }
}

/// The district × headline tables, one per month with an event in the period.
pub fn district_headline_month(
    parts: &Partitions,
    mapping: &Mapping,
    period: &Period,
    policy: &Policy,
) -> Result<Published, LinkError> {
    let cols: Vec<String> = mapping.headlines.iter().map(|h| h.code.clone()).collect();
    let col_of = |code: &str| cols.iter().position(|c| c == code);
    // (month, district, headline) -> persons
    let mut cells: BTreeMap<&str, BTreeMap<String, Vec<HashSet<u32>>>> = BTreeMap::new();
    let mut districts: BTreeSet<String> = BTreeSet::new();
    for ((headline, month), rows) in parts {
        let Some(j) = col_of(headline) else { continue };
        for r in rows.iter().filter(|r| period.contains(Some(r.date))) {
            let district = r.district.as_deref().unwrap_or(UNKNOWN).to_owned();
            districts.insert(district.clone());
            let line = cells.entry(month.as_str()).or_default().entry(district).or_insert_with(|| {
                let mut v = Vec::with_capacity(cols.len());
                v.resize_with(cols.len(), HashSet::new);
                v
            });
            line[j].insert(r.person);
        }
    }
    let rows = ordered(districts);
    let mut tables = Vec::with_capacity(cells.len());
    for (month, by_district) in &cells {
        let counts = rows
            .iter()
            .map(|d| {
                by_district
                    .get(d)
                    .map_or_else(|| vec![0; cols.len()], |line| line.iter().map(|s| s.len() as u64).collect())
            })
            .collect();
        let table = Table { rows: rows.clone(), cols: cols.clone(), counts };
        tables.push((Some((*month).to_owned()), disclosure::protect(&table, policy).map_err(internal)?));
    }
    Ok(Published { name: DISTRICT_HEADLINE_MONTH, tables })
}

/// A finest row of the tables by latest area: small area and IMD decile, `None` where unknown.
type FinestRow = (Option<Arc<str>>, Option<u8>);

/// The tables over the period by each person's latest area, protected together as linked tables
/// (see [`linked`](super::linked)): IMD decile × headline, small area × headline and, with a
/// localities lookup, family hub locality × headline. Their rows are all groups of the same
/// finest rows (small area and decile as the latest record gives them), so they share their
/// column totals, and a locality's cells are sums of its small areas'. Also returns what the
/// joint protection added, and how many persons with a need were in a small area the localities
/// lookup does not list.
pub fn by_latest_area(
    people: &People<'_>,
    persons: &[usize],
    policy: &Policy,
) -> Result<(Vec<Published>, LinkedReport, u64), LinkError> {
    let cols: Vec<String> = people.mapping.headlines.iter().map(|h| h.code.clone()).collect();
    // Persons with a need by finest row: (small area, IMD decile), unknowns as None.
    let mut finest: BTreeMap<FinestRow, (Vec<u64>, u64)> = BTreeMap::new();
    for &p in persons {
        let bits = people.needs.headlines.get(p).copied().unwrap_or(0);
        if bits == 0 {
            continue;
        }
        let area = people.profiles.latest(p).map(|(_, a)| a);
        // A small area the tables could not tell from their own labels (blank, unknown, Total)
        // counts as unknown.
        let labelled = |a: &Arc<str>| {
            let t = a.trim();
            !t.is_empty() && !t.eq_ignore_ascii_case(UNKNOWN) && !t.eq_ignore_ascii_case(TOTAL)
        };
        let key = (
            area.and_then(|a| a.small_area.clone()).filter(labelled),
            area.and_then(|a| a.imd).filter(|d| (1..=10).contains(d)),
        );
        let (line, people_here) = finest.entry(key).or_insert_with(|| (vec![0; cols.len()], 0));
        *people_here += 1;
        // Columns are the mapping's headlines in order, as the bits are.
        for (k, cell) in line.iter_mut().enumerate() {
            *cell += u64::from(bits & (1 << k) != 0);
        }
    }
    if finest.is_empty() {
        // Nobody with a need: the tables still have a row, of zeros, to say so.
        finest.insert((None, None), (vec![0; cols.len()], 0));
    }
    let keys: Vec<&FinestRow> = finest.keys().collect();
    let counts: Vec<&Vec<u64>> = finest.values().map(|v| &v.0).collect();
    let persons_in: Vec<u64> = finest.values().map(|v| v.1).collect();
    let member = |labels: Vec<String>, group_of: &dyn Fn(usize) -> usize| -> Member {
        let mut groups = vec![Vec::new(); labels.len()];
        let mut sums = vec![vec![0u64; cols.len()]; labels.len()];
        for (x, line) in counts.iter().enumerate() {
            let g = group_of(x);
            groups[g].push(x);
            for (s, v) in sums[g].iter_mut().zip(line.iter()) {
                *s += v;
            }
        }
        Member { table: Table { rows: labels, cols: cols.clone(), counts: sums }, groups }
    };
    let with_unknown = |mut labels: Vec<String>, any_unknown: bool| {
        if any_unknown {
            labels.push(UNKNOWN.to_owned());
        }
        labels
    };
    // IMD deciles: every decile is a row, as before; unknown only where someone has none.
    let deciles = with_unknown((1..=10).map(|d: u8| d.to_string()).collect(), keys.iter().any(|k| k.1.is_none()));
    let mut members = vec![member(deciles, &|x| keys[x].1.map_or(10, |d| usize::from(d) - 1))];
    let areas: BTreeSet<&str> = keys.iter().filter_map(|k| k.0.as_deref()).collect();
    let area_rows: Vec<&str> = areas.iter().copied().collect();
    let small = with_unknown(area_rows.iter().map(|a| (*a).to_owned()).collect(), keys.iter().any(|k| k.0.is_none()));
    let area_row =
        |x: usize| keys[x].0.as_deref().and_then(|a| area_rows.binary_search(&a).ok()).unwrap_or(area_rows.len());
    members.push(member(small, &area_row));
    let mut names = vec![IMD_DECILE_HEADLINE, SMALL_AREA_HEADLINE];
    let mut unlisted = 0u64;
    if let Some(l) = people.localities {
        let names_in: Vec<&str> = l.names.iter().map(String::as_str).collect();
        let locality_of = |x: usize| keys[x].0.as_deref().and_then(|a| l.of(a));
        let any_unknown = (0..keys.len()).any(|x| locality_of(x).is_none());
        unlisted =
            (0..keys.len()).filter(|&x| keys[x].0.is_some() && locality_of(x).is_none()).map(|x| persons_in[x]).sum();
        let rows = with_unknown(names_in.iter().map(|n| (*n).to_owned()).collect(), any_unknown);
        let group = |x: usize| locality_of(x).and_then(|n| names_in.binary_search(&n).ok()).unwrap_or(names_in.len());
        members.push(member(rows, &group));
        names.push(LOCALITY_HEADLINE);
    }
    let (protected, report) = linked::protect_linked(&members, keys.len(), policy).map_err(internal)?;
    let published =
        names.into_iter().zip(protected).map(|(name, p)| Published { name, tables: vec![(None, p)] }).collect();
    Ok((published, report, unlisted))
}

/// Row labels in order, `unknown` last.
fn ordered(labels: BTreeSet<String>) -> Vec<String> {
    let unknown = labels.contains(UNKNOWN);
    let mut rows: Vec<String> = labels.into_iter().filter(|l| l != UNKNOWN).collect();
    if unknown {
        rows.push(UNKNOWN.to_owned());
    }
    rows
}

fn internal(e: disclosure::DisclosureError) -> LinkError {
    LinkError::Internal(format!("disclosure control: {e}"))
}

/// The rows of one published table set, margins included, as one batch.
pub fn batch(published: &Published) -> Result<RecordBatch, LinkError> {
    let (mut month, mut breakdown, mut headline, mut value) =
        (StringBuilder::new(), StringBuilder::new(), StringBuilder::new(), StringBuilder::new());
    let mut count = UInt64Builder::new();
    let mut suppressed = BooleanBuilder::new();
    for (m, t) in &published.tables {
        let mut push = |row: &str, col: &str, cell: &Cell| {
            month.append_option(m.as_deref());
            breakdown.append_value(row);
            headline.append_value(col);
            value.append_value(cell.to_string());
            count.append_option(cell.value());
            suppressed.append_value(cell.is_suppressed());
        };
        for (i, row) in t.rows.iter().enumerate() {
            for (j, col) in t.cols.iter().enumerate() {
                if let Some(cell) = t.cells.get(i).and_then(|r| r.get(j)) {
                    push(row, col, cell);
                }
            }
            if let Some(cell) = t.row_totals.get(i) {
                push(row, TOTAL, cell);
            }
        }
        for (j, col) in t.cols.iter().enumerate() {
            if let Some(cell) = t.col_totals.get(j) {
                push(TOTAL, col, cell);
            }
        }
        push(TOTAL, TOTAL, &t.grand_total);
    }
    let columns: Vec<ArrayRef> = vec![
        Arc::new(month.finish()),
        Arc::new(breakdown.finish()),
        Arc::new(headline.finish()),
        Arc::new(value.finish()),
        Arc::new(count.finish()),
        Arc::new(suppressed.finish()),
    ];
    RecordBatch::try_new(schema(), columns).map_err(|e| LinkError::Internal(e.to_string()))
}
