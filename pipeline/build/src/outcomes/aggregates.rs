//! `aggregates/`: the publishable count tables, each through [`disclosure::protect`].
//!
//! Two tables, each a set of two-way tables with margins:
//! - `district_headline_month`: for each month of the period, persons with a need by district ×
//!   headline, the district being the area of the event;
//! - `imd_decile_headline`: over the whole period, persons with a need by IMD decile of their
//!   latest area (`persons.imd_decile`) × headline.
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
use super::persons::People;
use super::settings::Period;
use super::themes::Mapping;
use crate::link::LinkError;

pub use tellonce_output::layout::AGGREGATES;

/// The district × headline table, one per month.
pub const DISTRICT_HEADLINE_MONTH: &str = "district_headline_month";

/// The IMD decile × headline table over the period.
pub const IMD_DECILE_HEADLINE: &str = "imd_decile_headline";

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

/// The IMD decile × headline table over the period, by each person's latest area.
pub fn imd_decile_headline(people: &People<'_>, persons: &[usize], policy: &Policy) -> Result<Published, LinkError> {
    let cols: Vec<String> = people.mapping.headlines.iter().map(|h| h.code.clone()).collect();
    let mut rows: Vec<String> = (1..=10).map(|d: u8| d.to_string()).collect();
    let mut counts = vec![vec![0u64; cols.len()]; rows.len() + 1];
    for &p in persons {
        let bits = people.needs.headlines.get(p).copied().unwrap_or(0);
        if bits == 0 {
            continue;
        }
        let decile = people.profiles.latest(p).and_then(|(_, a)| a.imd).filter(|d| (1..=10).contains(d));
        let i = decile.map_or(10, |d| usize::from(d) - 1);
        // Columns are the mapping's headlines in order, as the bits are.
        for (k, cell) in counts[i].iter_mut().enumerate() {
            *cell += u64::from(bits & (1 << k) != 0);
        }
    }
    if counts[10].iter().all(|c| *c == 0) {
        counts.pop();
    } else {
        rows.push(UNKNOWN.to_owned());
    }
    let table = Table { rows, cols, counts };
    Ok(Published {
        name: IMD_DECILE_HEADLINE,
        tables: vec![(None, disclosure::protect(&table, policy).map_err(internal)?)],
    })
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
