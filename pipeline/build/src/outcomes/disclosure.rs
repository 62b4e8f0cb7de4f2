//! Statistical disclosure control for published two-way count tables.
//!
//! Analysts publish counts such as "children with a need, by district × Supporting Families
//! headline" with row totals, column totals and a grand total. Before publication every table
//! goes through [`protect`], which applies, in order:
//!
//! 1. **Primary suppression.** Every cell whose true count is in `1..threshold` is suppressed,
//!    margins included (the totals are computed from the true counts and judged by the same rule).
//!    A true zero is published as `0`: the convention followed here treats true zeros as not
//!    disclosive, since they single nobody out. (A zero can still say something about a whole
//!    group, such as "no child in this district"; this convention accepts that.)
//! 2. **Secondary (complementary) suppression.** The margins are treated as cells of an extended
//!    `(rows + 1) × (cols + 1)` table whose last row holds the column totals and whose last column
//!    the row totals. Each row and each column of that table is a *line* whose cells add up to its
//!    total, so a line with exactly one suppressed cell gives that cell away by subtraction. While
//!    some line has exactly one suppressed cell, a second cell of that line is suppressed: the one
//!    with the smallest non-zero true count (ties: the first by position), a zero only if nothing
//!    else is left. Then, while some suppressed cell is still given away by combining rows and
//!    columns (two groups of suppressions joined by that one cell: it is a *bridge* of the graph
//!    whose nodes are the lines and whose edges are the suppressed cells, see
//!    [`suppression_graph`](super::suppression_graph)), one more cell is suppressed that joins the
//!    two groups again: the smallest non-zero count among the cells between a row of one group
//!    and a column of the other. At the end no suppressed cell can be worked out exactly from the
//!    published ones, through any combination of rows and columns.
//! 3. **Rounding.** Every published count, margins included, is rounded to the nearest multiple of
//!    the rounding base, halves upwards (base 5: 2 → 0, 3 → 5, 7 → 5, 8 → 10). Rounding comes after
//!    the suppression decisions, which use the true counts. Margins are rounded on their own, so
//!    published cells need not add up to the published totals.
//!
//! Suppressed cells are shown as `c`, the Government Statistical Service harmonised symbol for a
//! confidential value, as in the Department for Education's explore education statistics data
//! files (see [`SUPPRESSED_MARK`]).
//!
//! What this does not protect against: [`recoverable_cells`] finds every cell that the published
//! cells determine exactly, but bounds are another matter: counts are never negative and the
//! published ones are rounded, so an attacker can sometimes narrow a suppressed cell down to a
//! small range. Tables published from the same data with other breakdowns (a coarser geography
//! whose areas are unions of finer ones, margins that two tables share) are linked tables: this
//! module protects one table at a time, and [`linked`](super::linked) protects a set of them
//! together.

use std::collections::HashSet;
use std::fmt;

use serde::Deserialize;

/// The mark for a suppressed cell: `c`, "confidential".
///
/// `c` is the Government Statistical Service (GSS) harmonised symbol for a value withheld for
/// confidentiality. The Department for Education uses the same symbols in the data files of its
/// explore education statistics service: its data screener knows `c` (suppressed), `x` (not
/// available), `z` (not applicable) and `low` (rounds to zero but is not zero), and flags the
/// older `~` and `:` as obsolete. Only `c` is used here: see [`Policy::validate`] for why no
/// published count rounds to zero.
pub const SUPPRESSED_MARK: &str = "c";

/// The publication rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
// Unknown keys are reported by the configuration that holds this section (serde_ignored),
// with every other problem, rather than refused here one at a time.
#[serde(default)]
pub struct Policy {
    /// Counts from 1 up to `threshold - 1` are suppressed (default 10: 1 to 9).
    pub threshold: u64,
    /// Published counts are rounded to a multiple of this (default 5; 1: no rounding).
    pub rounding_base: u64,
}

impl Default for Policy {
    fn default() -> Self {
        Policy { threshold: 10, rounding_base: 5 }
    }
}

impl Policy {
    /// Checks the policy, naming the field at fault.
    ///
    /// Besides both fields being at least 1, the threshold must be at least half the rounding
    /// base (rounded up), so that no published non-zero count is rounded to `0` and passed off as
    /// a true zero.
    pub fn validate(&self) -> Result<(), DisclosureError> {
        let bad = |field, message: String| Err(DisclosureError::Policy { field, message });
        if self.threshold == 0 {
            return bad("threshold", "must be at least 1 (1 suppresses nothing)".into());
        }
        if self.rounding_base == 0 {
            return bad("rounding_base", "must be at least 1 (1 rounds nothing)".into());
        }
        let lowest_nonzero = self.rounding_base.div_ceil(2);
        if self.threshold < lowest_nonzero {
            return bad(
                "threshold",
                format!(
                    "is {} but must be at least {lowest_nonzero} with rounding_base {}, \
                     or published counts below {lowest_nonzero} would be rounded to 0",
                    self.threshold, self.rounding_base
                ),
            );
        }
        Ok(())
    }
}

/// Why a table cannot be protected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DisclosureError {
    /// The policy is unusable.
    #[error("disclosure policy: {field} {message}")]
    Policy {
        /// The field at fault (`threshold` or `rounding_base`).
        field: &'static str,
        /// What is wrong with it.
        message: String,
    },
    /// The table has no rows or no columns.
    #[error("table has no {axis}s")]
    Empty {
        /// `row` or `column`.
        axis: &'static str,
    },
    /// The number of rows of counts differs from the number of row labels.
    #[error("table has {labels} row label(s) but {rows} row(s) of counts")]
    RowCount {
        /// Row labels.
        labels: usize,
        /// Rows of counts.
        rows: usize,
    },
    /// A row has a different number of counts from the number of columns.
    #[error("table row {row:?} has {found} count(s) for {expected} column(s)")]
    Ragged {
        /// The row's label.
        row: String,
        /// Its number of counts.
        found: usize,
        /// The number of columns.
        expected: usize,
    },
    /// A row or column label is empty or blank.
    #[error("table {axis} {index} has an empty label")]
    EmptyLabel {
        /// `row` or `column`.
        axis: &'static str,
        /// Its position, from 0.
        index: usize,
    },
    /// Two rows or two columns have the same label.
    #[error("table has {axis} label {label:?} more than once")]
    DuplicateLabel {
        /// `row` or `column`.
        axis: &'static str,
        /// The label.
        label: String,
    },
    /// A set of linked tables is not one (see [`linked`](super::linked)).
    #[error("linked tables: {message}")]
    Linked {
        /// What does not fit.
        message: String,
    },
    /// A total or a rounded count does not fit in 64 bits.
    #[error("counts too large: a total or rounded count exceeds {}", u64::MAX)]
    Overflow,
}

/// A table of true counts, before protection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    /// Row labels (e.g. districts), unique and non-empty.
    pub rows: Vec<String>,
    /// Column labels (e.g. headline codes), unique and non-empty.
    pub cols: Vec<String>,
    /// `counts[row][col]`: one row per row label, one count per column label.
    pub counts: Vec<Vec<u64>>,
}

/// A published cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Cell {
    /// A published (rounded) count.
    Value(u64),
    /// A suppressed count, shown as [`SUPPRESSED_MARK`].
    Suppressed,
}

impl Cell {
    /// The published count, if not suppressed.
    pub fn value(&self) -> Option<u64> {
        match self {
            Cell::Value(v) => Some(*v),
            Cell::Suppressed => None,
        }
    }

    /// Whether the cell is suppressed.
    pub fn is_suppressed(&self) -> bool {
        matches!(self, Cell::Suppressed)
    }
}

impl fmt::Display for Cell {
    /// The count, or `c` when suppressed.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Cell::Value(v) => write!(f, "{v}"),
            Cell::Suppressed => f.write_str(SUPPRESSED_MARK),
        }
    }
}

/// A table ready for publication.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Protected {
    /// Row labels, as given.
    pub rows: Vec<String>,
    /// Column labels, as given.
    pub cols: Vec<String>,
    /// `cells[row][col]`.
    pub cells: Vec<Vec<Cell>>,
    /// The total of each row.
    pub row_totals: Vec<Cell>,
    /// The total of each column.
    pub col_totals: Vec<Cell>,
    /// The total of the whole table.
    pub grand_total: Cell,
    /// How many cells (margins included) were suppressed as small.
    pub primary: usize,
    /// How many more cells (margins included) were suppressed to protect them.
    pub secondary: usize,
}

/// A single row with its total, ready for publication (see [`protect_row`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProtectedRow {
    /// Labels, as given.
    pub cols: Vec<String>,
    /// One cell per label.
    pub cells: Vec<Cell>,
    /// The total.
    pub total: Cell,
    /// How many cells (total included) were suppressed as small.
    pub primary: usize,
    /// How many more cells (total included) were suppressed to protect them.
    pub secondary: usize,
}

/// Applies the publication rules (see the module documentation) to a table.
pub fn protect(table: &Table, policy: &Policy) -> Result<Protected, DisclosureError> {
    protect_with(table, policy, &[])
}

/// As [`protect`], with the cells `forced` (of the extended table: `(rows.len(), j)` is a column
/// total, `(i, cols.len())` a row total) suppressed before secondary suppression, whatever their
/// count: the cells that tables linked to this one suppress (see
/// [`linked`](super::linked)). A forced cell that is small counts as primary, any other as
/// secondary; cells out of range are ignored.
pub fn protect_with(table: &Table, policy: &Policy, forced: &[(usize, usize)]) -> Result<Protected, DisclosureError> {
    let (values, marks) = decide(table, policy, forced)?;
    let (r, c) = (table.rows.len(), table.cols.len());
    let cell = |i: usize, j: usize| publish(values[i][j], marks[i][j], policy.rounding_base);
    let cells = (0..r).map(|i| (0..c).map(|j| cell(i, j)).collect()).collect::<Result<_, _>>()?;
    let row_totals = (0..r).map(|i| cell(i, c)).collect::<Result<_, _>>()?;
    let col_totals = (0..c).map(|j| cell(r, j)).collect::<Result<_, _>>()?;
    let all = marks.iter().flatten();
    Ok(Protected {
        rows: table.rows.clone(),
        cols: table.cols.clone(),
        cells,
        row_totals,
        col_totals,
        grand_total: cell(r, c)?,
        primary: all.clone().filter(|m| **m == Mark::Primary).count(),
        secondary: all.filter(|m| **m == Mark::Secondary).count(),
    })
}

/// Applies the same rules to a single row of counts with its total, as a 1 × n table.
///
/// The row is labelled `all` in errors. (Its column totals are the cells themselves, so
/// protecting the 1 × n table protects the row.)
pub fn protect_row(cols: &[String], counts: &[u64], policy: &Policy) -> Result<ProtectedRow, DisclosureError> {
    let table = Table { rows: vec!["all".to_owned()], cols: cols.to_vec(), counts: vec![counts.to_vec()] };
    let (values, marks) = decide(&table, policy, &[])?;
    // Row 0 of the extended table: the counts, then the total.
    let cell = |j: usize| publish(values[0][j], marks[0][j], policy.rounding_base);
    Ok(ProtectedRow {
        cols: table.cols,
        cells: (0..counts.len()).map(cell).collect::<Result<_, _>>()?,
        total: cell(counts.len())?,
        primary: marks[0].iter().filter(|m| **m == Mark::Primary).count(),
        secondary: marks[0].iter().filter(|m| **m == Mark::Secondary).count(),
    })
}

/// Every suppressed cell that the published cells determine exactly, as `(row, col)` of the
/// extended table: `row == rows.len()` is the column totals, `col == cols.len()` the row totals.
///
/// A cell is recoverable when the equations of the rows and columns of the extended table, with
/// the published values put in, leave it one value only, up to the rounding of the published
/// values: the only suppressed cell of a line, or a cell joining two groups of suppressions
/// (see [`suppression_graph`](super::suppression_graph)). After [`protect`] this is empty. Bounds
/// narrowed by counts being non-negative are not looked for. Cells missing from a malformed
/// [`Protected`] count as published.
pub fn recoverable_cells(p: &Protected) -> Vec<(usize, usize)> {
    let (r, c) = (p.rows.len(), p.cols.len());
    let at = |i: usize, j: usize| match (i == r, j == c) {
        (false, false) => p.cells.get(i).and_then(|row| row.get(j)),
        (false, true) => p.row_totals.get(i),
        (true, false) => p.col_totals.get(j),
        (true, true) => Some(&p.grand_total),
    };
    let suppressed: Vec<Vec<bool>> =
        (0..=r).map(|i| (0..=c).map(|j| at(i, j).is_some_and(Cell::is_suppressed)).collect()).collect();
    super::suppression_graph::bridges(&suppressed)
}

/// Why a cell of the extended table is (not) published.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mark {
    Published,
    Primary,
    Secondary,
}

/// The true counts of the extended `(rows + 1) × (cols + 1)` table and the mark of each cell.
type Decision = (Vec<Vec<u64>>, Vec<Vec<Mark>>);

/// Checks the policy and the table, and decides which cells of the extended table to suppress.
fn decide(table: &Table, policy: &Policy, forced: &[(usize, usize)]) -> Result<Decision, DisclosureError> {
    policy.validate()?;
    check_labels("row", &table.rows)?;
    check_labels("column", &table.cols)?;
    let values = extend(table)?;
    let primary = |v: u64| if (1..policy.threshold).contains(&v) { Mark::Primary } else { Mark::Published };
    let mut marks: Vec<Vec<Mark>> = values.iter().map(|row| row.iter().map(|v| primary(*v)).collect()).collect();
    for &(i, j) in forced {
        if let Some(m) = marks.get_mut(i).and_then(|row| row.get_mut(j))
            && *m == Mark::Published
        {
            *m = Mark::Secondary;
        }
    }
    complement(&values, &mut marks);
    Ok((values, marks))
}

fn check_labels(axis: &'static str, labels: &[String]) -> Result<(), DisclosureError> {
    if labels.is_empty() {
        return Err(DisclosureError::Empty { axis });
    }
    let mut seen = HashSet::new();
    for (index, label) in labels.iter().enumerate() {
        if label.trim().is_empty() {
            return Err(DisclosureError::EmptyLabel { axis, index });
        }
        if !seen.insert(label) {
            return Err(DisclosureError::DuplicateLabel { axis, label: label.clone() });
        }
    }
    Ok(())
}

/// The extended table: the counts with a row total at the end of each row, then a last row of
/// column totals ending with the grand total.
fn extend(table: &Table) -> Result<Vec<Vec<u64>>, DisclosureError> {
    let width = table.cols.len();
    if table.counts.len() != table.rows.len() {
        return Err(DisclosureError::RowCount { labels: table.rows.len(), rows: table.counts.len() });
    }
    let sum = |acc: u64, v: &u64| acc.checked_add(*v).ok_or(DisclosureError::Overflow);
    let mut values = Vec::with_capacity(table.rows.len() + 1);
    let mut col_totals = vec![0u64; width + 1];
    for (label, counts) in table.rows.iter().zip(&table.counts) {
        if counts.len() != width {
            return Err(DisclosureError::Ragged { row: label.clone(), found: counts.len(), expected: width });
        }
        let mut row = counts.clone();
        row.push(counts.iter().try_fold(0, sum)?);
        for (total, v) in col_totals.iter_mut().zip(&row) {
            *total = sum(*total, v)?;
        }
        values.push(row);
    }
    values.push(col_totals);
    Ok(values)
}

/// The lines of an `n_rows × n_cols` table, rows first, each as its cells in order.
fn lines(n_rows: usize, n_cols: usize) -> impl Iterator<Item = Vec<(usize, usize)>> {
    let rows = (0..n_rows).map(move |i| (0..n_cols).map(|j| (i, j)).collect());
    let cols = (0..n_cols).map(move |j| (0..n_rows).map(|i| (i, j)).collect());
    rows.chain(cols)
}

/// The suppressed cell of a line, if it is the only one.
fn lone_suppressed(line: &[(usize, usize)], suppressed: &[Vec<bool>]) -> Option<(usize, usize)> {
    let mut hits = line.iter().filter(|(i, j)| suppressed[*i][*j]);
    match (hits.next(), hits.next()) {
        (Some(cell), None) => Some(*cell),
        _ => None,
    }
}

/// Secondary suppression: while some line (rows first, then columns) has exactly one suppressed
/// cell, suppress the published cell of that line with the smallest non-zero count (first by
/// position on ties), or its first zero if it has nothing else; then, while a suppressed cell is
/// a bridge (see [`recoverable_cells`]), the same among the cells that join its two sides.
///
/// Termination: each pass either stops or marks one more cell as suppressed, and no cell is ever
/// unsuppressed; the extended table has `(rows + 1) × (cols + 1)` cells, so there are at most that
/// many passes. On stopping, no line has exactly one suppressed cell.
///
/// A candidate always exists: tables have at least one row and one column, so every line has at
/// least two cells, and a line with one suppressed cell has the rest published.
///
/// In fact a zero is never chosen: in a line whose only suppressed cell is a non-zero count, the
/// total is non-zero (if that cell is an interior one) or some interior cell is non-zero (if it is
/// the total), so a non-zero candidate exists; and primary suppression never marks a zero, so no
/// zero is ever the lone suppressed cell. The zero fallback is kept for safety, and for a zero
/// forced by a linked table (see [`protect_with`]).
fn complement(values: &[Vec<u64>], marks: &mut [Vec<Mark>]) {
    let (n_rows, n_cols) = (values.len(), values.first().map_or(0, Vec::len));
    loop {
        let suppressed: Vec<Vec<bool>> =
            marks.iter().map(|row| row.iter().map(|m| *m != Mark::Published).collect()).collect();
        let candidates: Vec<(usize, usize)> =
            match lines(n_rows, n_cols).find(|line| lone_suppressed(line, &suppressed).is_some()) {
                Some(line) => line.into_iter().filter(|(i, j)| !suppressed[*i][*j]).collect(),
                None => match super::suppression_graph::bridges(&suppressed).first() {
                    Some(&(row, col)) => joining(&suppressed, row, col),
                    None => return,
                },
            };
        let pick = candidates.into_iter().min_by_key(|(i, j)| (values[*i][*j] == 0, values[*i][*j]));
        let Some((i, j)) = pick else {
            return; // unreachable: see above
        };
        marks[i][j] = Mark::Secondary;
    }
}

/// The published cells that would put the suppressed cell `(row, col)` on a cycle: between a row
/// on one side of it and a column on the other, in row-major order.
///
/// When no line has a lone suppressed cell, each side holds a row and a column (the cell's row and
/// column each have another suppressed cell), so there is at least one; and none of them is
/// suppressed, or the cell would not be a bridge.
fn joining(suppressed: &[Vec<bool>], row: usize, col: usize) -> Vec<(usize, usize)> {
    let [(rows_a, cols_a), (rows_b, cols_b)] = super::suppression_graph::sides(suppressed, row, col);
    let mut cells = Vec::new();
    for (i, line) in suppressed.iter().enumerate() {
        for (j, s) in line.iter().enumerate() {
            let across = (rows_a[i] && cols_b[j]) || (rows_b[i] && cols_a[j]);
            if across && !s {
                cells.push((i, j));
            }
        }
    }
    cells
}

/// The published form of one cell: suppressed, or its count rounded to the nearest multiple of
/// `base`, halves up (`(v + ⌊base / 2⌋) / base × base`; for an odd base no count is exactly half-way).
fn publish(value: u64, mark: Mark, base: u64) -> Result<Cell, DisclosureError> {
    if mark != Mark::Published {
        return Ok(Cell::Suppressed);
    }
    let up = value.checked_add(base / 2).ok_or(DisclosureError::Overflow)?;
    Ok(Cell::Value(up / base * base))
}

#[cfg(test)]
#[path = "disclosure_tests.rs"]
mod tests;
