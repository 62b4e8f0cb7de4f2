//! Disclosure control across linked tables: tables published from the same counts with rows that
//! are groups of the same finest rows (small areas, and the family hub localities and IMD deciles
//! they add up to), so that their margins are shared and each area's cells add up to another's.
//!
//! Protecting each table on its own is not enough. Two tables that publish the same column total
//! let a suppressed total of one be read from the other, and a locality's published cell minus
//! its small areas' published cells gives away a suppressed small area cell. So the set is
//! protected together:
//!
//! 1. each table is protected on its own ([`disclosure::protect_with`]), with the cells forced on
//!    it so far;
//! 2. a cell that is the same count in two tables (the same finest rows and columns: shared
//!    margins, or a locality of one small area) is suppressed in both if it is suppressed in
//!    either, and step 1 runs again;
//! 3. a coarse cell and the finer cells of the same column it adds up (a locality's cell and its
//!    small areas') form a line, as a row does: where exactly one of them is suppressed, the
//!    smallest other non-zero one is suppressed too, one line of each coarse row per pass, and
//!    step 1 runs again;
//! 4. every suppressed cell is checked against everything published in the whole set, as linear
//!    algebra ([`recoverable`]): the unknowns are the finest cells (finest row × column), each
//!    published cell is an equation over the finest cells it adds up, and a suppressed cell is
//!    recoverable when its sum is a combination of published ones. While one is, a published
//!    cell that shares a finest cell with it is suppressed too (the one of fewest finest cells,
//!    then the smallest non-zero count), and step 1 runs again.
//!
//! The cells forced on the tables only ever grow, and each pass forces at least one that was
//! published, so this ends. It ends only when the check of step 4 finds nothing, so at the end no
//! suppressed cell of any table can be worked out exactly from the published cells of all of
//! them. As for a single table, bounds from counts being non-negative and rounded are not looked
//! for (a published zero says every suppressed cell inside it is zero, as it always has).
//!
//! The algebra is done modulo two large primes: a combination over the rationals is one modulo a
//! prime unless the prime divides a denominator of it, and modulo a prime more may look
//! recoverable than is (which only suppresses more), so a cell counts as recoverable when it is
//! modulo either prime.

use std::collections::HashMap;

use super::disclosure::{self, DisclosureError, Policy, Protected, Table};

/// A table of a linked set: each row adds up a group of the set's finest rows.
#[derive(Debug, Clone)]
pub struct Member {
    /// The counts, with the set's columns.
    pub table: Table,
    /// For each row, the finest rows it adds up. The groups of a table cover every finest row
    /// once.
    pub groups: Vec<Vec<usize>>,
}

/// What protecting a linked set did beyond each table on its own.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct LinkedReport {
    /// Cells suppressed because a linked table suppresses the same count.
    pub shared: usize,
    /// Cells suppressed because the linear check found a cell recoverable across tables.
    pub across: usize,
}

/// A cell of a member's extended table: (member, row, column).
type At = (usize, usize, usize);

/// The primes the algebra is done modulo.
const PRIMES: [u64; 2] = [2_147_483_647, 1_000_000_007];
// `Basis::reduce` takes one remainder of `v + p·p − f·r`, which must fit a u64.
const _: () = assert!(PRIMES[0] < 1 << 31 && PRIMES[1] < 1 << 31);

/// Protects the members of a linked set together (see the module documentation). `finest` is
/// the number of finest rows; every member has the same columns.
pub fn protect_linked(
    members: &[Member],
    finest: usize,
    policy: &Policy,
) -> Result<(Vec<Protected>, LinkedReport), DisclosureError> {
    check(members, finest)?;
    let mut forced: Vec<Vec<(usize, usize)>> = vec![Vec::new(); members.len()];
    let mut report = LinkedReport::default();
    let keys: Vec<Vec<Vec<u64>>> = members.iter().map(|m| cell_keys(m, finest)).collect();
    let lines = nested_lines(members);
    loop {
        let protected: Vec<Protected> = members
            .iter()
            .zip(&forced)
            .map(|(m, f)| disclosure::protect_with(&m.table, policy, f))
            .collect::<Result<_, _>>()?;
        let suppressed = suppressed_cells(&protected);
        // The same count suppressed in one table is suppressed in all.
        let mut by_key: HashMap<&[u64], Vec<At>> = HashMap::new();
        let mut shared = Vec::new();
        for (t, m) in members.iter().enumerate() {
            let (r, c) = (m.table.rows.len(), m.table.cols.len());
            for i in 0..=r {
                for j in 0..=c {
                    by_key.entry(&keys[t][i * (c + 1) + j]).or_default().push((t, i, j));
                }
            }
        }
        for cells in by_key.values() {
            if cells.iter().any(|a| suppressed.contains(a)) {
                shared.extend(cells.iter().filter(|a| !suppressed.contains(a)).copied());
            }
        }
        if !shared.is_empty() {
            report.shared += shared.len();
            for (t, i, j) in shared {
                forced[t].push((i, j));
            }
            continue;
        }
        // A coarse cell and the finer cells it adds up form a line, as a row does: one suppressed
        // cell alone in it is given away by subtraction. One such line of each coarse row is
        // mended per pass: the lines of one row share cells, and mending one (with what each
        // table's own protection then adds) often mends the next, while rows apart do not.
        let mut hidden = suppressed.clone();
        let mut mended = 0;
        let mut rows_mended = std::collections::HashSet::new();
        for line in &lines {
            let (c, g, _) = line[0];
            if rows_mended.contains(&(c, g)) || line.iter().filter(|a| hidden.contains(a)).count() != 1 {
                continue;
            }
            rows_mended.insert((c, g));
            let pick = line
                .iter()
                .filter(|a| !hidden.contains(a))
                .min_by_key(|&&(u, a, b)| {
                    let v = true_count(&members[u], a, b);
                    (v == 0, v)
                })
                .copied();
            if let Some((u, a, b)) = pick {
                hidden.insert((u, a, b));
                forced[u].push((a, b));
                mended += 1;
            }
        }
        if mended > 0 {
            report.across += mended;
            continue;
        }
        let found = recoverable(members, finest, &protected);
        if found.is_empty() {
            return Ok((protected, report));
        }
        // Each recoverable cell gets a partner, unless one picked in this pass already touches it.
        let mut picked: Vec<Vec<usize>> = Vec::new();
        for (t, i, j) in found {
            let target = cell_set(&members[t], finest, i, j);
            if picked.iter().any(|p| p.iter().any(|x| target.binary_search(x).is_ok())) {
                continue;
            }
            let Some((u, a, b)) = partner(members, finest, &hidden, (t, i, j)) else {
                // Everything overlapping it is suppressed already: the check and this cannot both
                // hold, since a sum no published cell touches is not recoverable.
                return Err(DisclosureError::Linked { message: "no published cell left to suppress".to_owned() });
            };
            hidden.insert((u, a, b));
            picked.push(cell_set(&members[u], finest, a, b));
            report.across += 1;
            forced[u].push((a, b));
        }
    }
}

/// Checks that every member's rows cover the finest rows once and that all share the columns.
fn check(members: &[Member], finest: usize) -> Result<(), DisclosureError> {
    let bad = |message: String| Err(DisclosureError::Linked { message });
    let Some(first) = members.first() else { return Ok(()) };
    for (t, m) in members.iter().enumerate() {
        if m.table.cols != first.table.cols {
            return bad(format!("table {t} has other columns than table 0"));
        }
        if m.groups.len() != m.table.rows.len() {
            return bad(format!("table {t} has {} row groups for {} rows", m.groups.len(), m.table.rows.len()));
        }
        let mut seen = vec![false; finest];
        for g in m.groups.iter().flatten() {
            match seen.get_mut(*g) {
                Some(s) if !*s => *s = true,
                Some(_) => return bad(format!("table {t} counts finest row {g} in two rows")),
                None => return bad(format!("table {t} names finest row {g} of {finest}")),
            }
        }
        if let Some(g) = seen.iter().position(|s| !s) {
            return bad(format!("table {t} leaves finest row {g} out"));
        }
    }
    Ok(())
}

/// The lines across tables: for each pair of members where every row of the coarse one is a
/// union of rows of the fine one (localities of small areas), each coarse cell with the fine
/// cells of the same column it adds up.
fn nested_lines(members: &[Member]) -> Vec<Vec<At>> {
    let mut out = Vec::new();
    for (c, coarse) in members.iter().enumerate() {
        for (f, fine) in members.iter().enumerate() {
            if c == f {
                continue;
            }
            // Which fine row each finest row is in.
            let mut fine_row: HashMap<usize, usize> = HashMap::new();
            for (r, g) in fine.groups.iter().enumerate() {
                fine_row.extend(g.iter().map(|x| (*x, r)));
            }
            let parts: Vec<Vec<usize>> = coarse
                .groups
                .iter()
                .map(|g| {
                    let mut rows: Vec<usize> = g.iter().filter_map(|x| fine_row.get(x).copied()).collect();
                    rows.sort_unstable();
                    rows.dedup();
                    rows
                })
                .collect();
            let nests = parts
                .iter()
                .zip(&coarse.groups)
                .all(|(rows, g)| rows.iter().map(|r| fine.groups[*r].len()).sum::<usize>() == g.len());
            // Equal groupings share their cells outright (the shared step); one row is its own line.
            if !nests || parts.iter().all(|rows| rows.len() <= 1) {
                continue;
            }
            for (g, rows) in parts.iter().enumerate().filter(|(_, rows)| rows.len() > 1) {
                for j in 0..=coarse.table.cols.len() {
                    let mut line = vec![(c, g, j)];
                    line.extend(rows.iter().map(|r| (f, *r, j)));
                    out.push(line);
                }
            }
        }
    }
    out
}

/// The finest cells a member's extended cell `(i, j)` adds up, as finest row × column indices
/// `row * cols + col`, sorted.
fn cell_set(m: &Member, finest: usize, i: usize, j: usize) -> Vec<usize> {
    let c = m.table.cols.len();
    let rows: Vec<usize> = match m.groups.get(i) {
        Some(g) => g.clone(),
        None => (0..finest).collect(),
    };
    let cols: Vec<usize> = if j < c { vec![j] } else { (0..c).collect() };
    let mut set: Vec<usize> = rows.iter().flat_map(|r| cols.iter().map(move |k| r * c + k)).collect();
    set.sort_unstable();
    set
}

/// A key per extended cell of a member (row-major), equal for two cells exactly when they add up
/// the same finest cells: the set as a bitmap.
fn cell_keys(m: &Member, finest: usize) -> Vec<Vec<u64>> {
    let (r, c) = (m.table.rows.len(), m.table.cols.len());
    let words = (finest * c).div_ceil(64).max(1);
    let mut out = Vec::with_capacity((r + 1) * (c + 1));
    for i in 0..=r {
        for j in 0..=c {
            let mut bits = vec![0u64; words];
            for x in cell_set(m, finest, i, j) {
                bits[x / 64] |= 1 << (x % 64);
            }
            out.push(bits);
        }
    }
    out
}

/// Every suppressed cell of every protected table.
fn suppressed_cells(protected: &[Protected]) -> std::collections::HashSet<At> {
    let mut out = std::collections::HashSet::new();
    for (t, p) in protected.iter().enumerate() {
        let (r, c) = (p.rows.len(), p.cols.len());
        for i in 0..=r {
            for j in 0..=c {
                if cell_at(p, i, j).is_some_and(disclosure::Cell::is_suppressed) {
                    out.insert((t, i, j));
                }
            }
        }
    }
    out
}

/// The published form of extended cell `(i, j)`.
fn cell_at(p: &Protected, i: usize, j: usize) -> Option<&disclosure::Cell> {
    let (r, c) = (p.rows.len(), p.cols.len());
    match (i == r, j == c) {
        (false, false) => p.cells.get(i).and_then(|row| row.get(j)),
        (false, true) => p.row_totals.get(i),
        (true, false) => p.col_totals.get(j),
        (true, true) => Some(&p.grand_total),
    }
}

/// The true count of a member's extended cell.
fn true_count(m: &Member, i: usize, j: usize) -> u64 {
    let rows: Vec<&Vec<u64>> = match m.table.counts.get(i) {
        Some(row) => vec![row],
        None => m.table.counts.iter().collect(),
    };
    rows.iter().map(|row| if j < row.len() { row[j] } else { row.iter().sum() }).sum()
}

/// The published cell to suppress for the recoverable cell `at`: among the published cells that
/// share a finest cell with it, the smallest non-zero count (first by table, row, column on ties;
/// a zero only if nothing else is left).
fn partner(members: &[Member], finest: usize, suppressed: &std::collections::HashSet<At>, at: At) -> Option<At> {
    let (t, i, j) = at;
    let target = cell_set(&members[t], finest, i, j);
    let mut best: Option<((bool, usize, u64), At)> = None;
    for (u, m) in members.iter().enumerate() {
        let (r, c) = (m.table.rows.len(), m.table.cols.len());
        for a in 0..=r {
            for b in 0..=c {
                if suppressed.contains(&(u, a, b)) {
                    continue;
                }
                let set = cell_set(m, finest, a, b);
                if !set.iter().any(|x| target.binary_search(x).is_ok()) {
                    continue;
                }
                let v = true_count(m, a, b);
                let key = (v == 0, set.len(), v);
                if best.as_ref().is_none_or(|(k, _)| key < *k) {
                    best = Some((key, (u, a, b)));
                }
            }
        }
    }
    best.map(|(_, at)| at)
}

/// The suppressed cells of a protected linked set that the published cells of all its tables
/// determine exactly, as (member, row, column) of the extended tables, in that order.
pub fn recoverable(members: &[Member], finest: usize, protected: &[Protected]) -> Vec<(usize, usize, usize)> {
    let Some(cols) = members.first().map(|m| m.table.cols.len()) else { return Vec::new() };
    let n = finest * cols;
    let mut published: Vec<Vec<usize>> = Vec::new();
    let mut hidden: Vec<(At, Vec<usize>)> = Vec::new();
    for (t, (m, p)) in members.iter().zip(protected).enumerate() {
        let (r, c) = (m.table.rows.len(), m.table.cols.len());
        for i in 0..=r {
            for j in 0..=c {
                let set = cell_set(m, finest, i, j);
                match cell_at(p, i, j) {
                    // A row grouping no finest row is a structural zero, which gives nobody away.
                    Some(cell) if cell.is_suppressed() && set.is_empty() => {}
                    Some(cell) if cell.is_suppressed() => hidden.push(((t, i, j), set)),
                    _ => published.push(set),
                }
            }
        }
    }
    // A published single finest cell is known: it drops out of every sum.
    let mut known = vec![false; n];
    for set in &published {
        if let [x] = set.as_slice() {
            known[*x] = true;
        }
    }
    let mut column = vec![usize::MAX; n];
    let mut unknowns = 0;
    for (x, k) in known.iter().enumerate() {
        if !k {
            column[x] = unknowns;
            unknowns += 1;
        }
    }
    let dense = |set: &[usize], p: u64| {
        let mut v = vec![0u64; unknowns];
        for &x in set {
            if column[x] != usize::MAX {
                v[column[x]] = (v[column[x]] + 1) % p;
            }
        }
        v
    };
    let mut found = vec![false; hidden.len()];
    for p in PRIMES {
        let mut basis = Basis::new(p);
        for set in published.iter().filter(|s| s.len() > 1) {
            basis.insert(dense(set, p));
        }
        for (k, (_, set)) in hidden.iter().enumerate() {
            let mut v = dense(set, p);
            basis.reduce(&mut v);
            found[k] |= v.iter().all(|x| *x == 0);
        }
    }
    hidden.into_iter().zip(found).filter(|(_, f)| *f).map(|((at, _), _)| at).collect()
}

/// Rows in echelon form modulo a prime, each with a pivot column holding 1 and zeros at the
/// pivots of the rows before it.
struct Basis {
    p: u64,
    /// Each row's pivot and its non-zero entries (column, value): the sums of published cells
    /// touch few finest cells, and their rows stay sparse, so a dense row would be mostly zeros
    /// walked through.
    rows: Vec<(usize, Vec<(usize, u64)>)>,
}

impl Basis {
    fn new(p: u64) -> Basis {
        Basis { p, rows: Vec::new() }
    }

    /// Takes away from `v` its part in the span of the rows.
    fn reduce(&self, v: &mut [u64]) {
        let p = self.p;
        for (pivot, row) in &self.rows {
            let f = v[*pivot];
            if f == 0 {
                continue;
            }
            // Subtracting f·r is adding (p − f)·r; entries are under p < 2^31, so that plus an
            // entry fits a u64: one division per entry.
            let minus_f = p - f;
            for &(k, r) in row {
                v[k] = (v[k] + minus_f * r) % p;
            }
        }
    }

    /// Adds `v` to the span.
    fn insert(&mut self, mut v: Vec<u64>) {
        self.reduce(&mut v);
        let Some(pivot) = v.iter().position(|x| *x != 0) else { return };
        let inv = pow(v[pivot], self.p - 2, self.p);
        let row = v.iter().enumerate().filter(|(_, x)| **x != 0).map(|(k, x)| (k, x * inv % self.p)).collect();
        self.rows.push((pivot, row));
    }
}

/// `b^e mod p`.
fn pow(mut b: u64, mut e: u64, p: u64) -> u64 {
    let mut out = 1;
    b %= p;
    while e > 0 {
        if e & 1 == 1 {
            out = out * b % p;
        }
        b = b * b % p;
        e >>= 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(rows: &[&str], counts: Vec<Vec<u64>>) -> Table {
        Table {
            rows: rows.iter().map(|r| (*r).to_owned()).collect(),
            cols: vec!["h0".to_owned(), "h1".to_owned()],
            counts,
        }
    }

    /// Four small areas, a0 and a1 in locality L0, a2 and a3 in L1.
    fn areas_and_localities(counts: &[[u64; 2]; 4]) -> Vec<Member> {
        let small = Member {
            table: table(&["a0", "a1", "a2", "a3"], counts.iter().map(|c| c.to_vec()).collect()),
            groups: vec![vec![0], vec![1], vec![2], vec![3]],
        };
        let sum = |a: usize, b: usize| vec![counts[a][0] + counts[b][0], counts[a][1] + counts[b][1]];
        let localities =
            Member { table: table(&["L0", "L1"], vec![sum(0, 1), sum(2, 3)]), groups: vec![vec![0, 1], vec![2, 3]] };
        vec![small, localities]
    }

    #[test]
    fn a_locality_published_beside_its_small_areas_gives_a_cell_away_unless_protected_together() {
        // Alone, the small area table suppresses a0 and a2 in both columns (a cycle: safe), and
        // the locality table nothing; but L0's h0 less a1's h0 is a0's h0.
        let members = areas_and_localities(&[[3, 20], [40, 50], [15, 25], [35, 45]]);
        let policy = Policy::default();
        let alone: Vec<Protected> = members.iter().map(|m| disclosure::protect(&m.table, &policy).unwrap()).collect();
        assert!(alone.iter().all(|p| disclosure::recoverable_cells(p).is_empty()));
        let leaked = recoverable(&members, 4, &alone);
        assert!(leaked.contains(&(0, 0, 0)), "{leaked:?}");
        let (together, report) = protect_linked(&members, 4, &policy).unwrap();
        assert!(recoverable(&members, 4, &together).is_empty());
        assert!(report.across > 0, "{report:?}");
        assert!(together.iter().all(|p| disclosure::recoverable_cells(p).is_empty()));
        // The small count is still suppressed, and the locality table, whose counts are all large,
        // keeps most of its cells.
        assert!(together[0].cells[0][0].is_suppressed());
        let shown = together[1].cells.iter().flatten().filter(|c| !c.is_suppressed()).count();
        assert!(shown >= 2, "{:?}", together[1]);
    }

    #[test]
    fn a_margin_two_tables_share_is_suppressed_in_both_or_neither() {
        // Column h0 totals 9 in both tables: small in both. A second grouping of the same finest
        // rows (deciles, say) must agree on every shared margin.
        let members = areas_and_localities(&[[2, 30], [3, 40], [2, 50], [2, 60]]);
        let (p, _) = protect_linked(&members, 4, &Policy::default()).unwrap();
        for j in 0..=2 {
            assert_eq!(
                cell_at(&p[0], 4, j).map(disclosure::Cell::is_suppressed),
                cell_at(&p[1], 2, j).map(disclosure::Cell::is_suppressed),
                "column {j}"
            );
        }
        assert!(recoverable(&members, 4, &p).is_empty());
    }

    #[test]
    fn the_linear_check_finds_what_subtraction_finds_and_no_more() {
        // One table, one suppressed interior cell: its row gives it away.
        let m =
            vec![Member { table: table(&["a", "b"], vec![vec![5, 20], vec![30, 40]]), groups: vec![vec![0], vec![1]] }];
        let mut p = disclosure::protect(&m[0].table, &Policy { threshold: 1, rounding_base: 1 }).unwrap();
        p.cells[0][0] = disclosure::Cell::Suppressed;
        assert_eq!(recoverable(&m, 2, std::slice::from_ref(&p)), vec![(0, 0, 0)]);
        // Four cells in a cycle: nothing is recoverable.
        p.cells[0][1] = disclosure::Cell::Suppressed;
        p.cells[1][0] = disclosure::Cell::Suppressed;
        p.cells[1][1] = disclosure::Cell::Suppressed;
        assert_eq!(recoverable(&m, 2, std::slice::from_ref(&p)), vec![]);
        // The grand total hidden alone is the sum of the published row totals.
        p.grand_total = disclosure::Cell::Suppressed;
        assert_eq!(recoverable(&m, 2, std::slice::from_ref(&p)), vec![(0, 2, 2)]);
        // Hide a row total and a column total as well: now a cycle runs through the margins.
        p.row_totals[0] = disclosure::Cell::Suppressed;
        p.col_totals[0] = disclosure::Cell::Suppressed;
        assert_eq!(recoverable(&m, 2, std::slice::from_ref(&p)), vec![]);
    }

    #[test]
    fn random_linked_sets_end_with_nothing_recoverable() {
        // A small deterministic generator: many shapes of small area, locality and decile tables.
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = |n: u64| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state % n
        };
        let policy = Policy::default();
        for _ in 0..60 {
            let finest = 3 + next(12) as usize;
            let cols = 2 + next(4) as usize;
            let counts: Vec<Vec<u64>> =
                (0..finest).map(|_| (0..cols).map(|_| if next(4) == 0 { 0 } else { next(40) }).collect()).collect();
            let grouping = |k: usize, next: &mut dyn FnMut(u64) -> u64| -> Vec<Vec<usize>> {
                let mut groups = vec![Vec::new(); k];
                for a in 0..finest {
                    groups[next(k as u64) as usize].push(a);
                }
                groups.retain(|g| !g.is_empty());
                groups
            };
            let mut members = vec![Member {
                table: Table {
                    rows: (0..finest).map(|a| format!("a{a}")).collect(),
                    cols: (0..cols).map(|h| format!("h{h}")).collect(),
                    counts: counts.clone(),
                },
                groups: (0..finest).map(|a| vec![a]).collect(),
            }];
            for _ in 0..2 {
                let groups = grouping(2 + next(3) as usize, &mut next);
                let sums =
                    groups.iter().map(|g| (0..cols).map(|h| g.iter().map(|a| counts[*a][h]).sum()).collect()).collect();
                members.push(Member {
                    table: Table {
                        rows: (0..groups.len()).map(|g| format!("g{g}")).collect(),
                        cols: (0..cols).map(|h| format!("h{h}")).collect(),
                        counts: sums,
                    },
                    groups,
                });
            }
            let (p, _) = protect_linked(&members, finest, &policy).unwrap();
            assert!(recoverable(&members, finest, &p).is_empty(), "{counts:?}");
            for (m, t) in members.iter().zip(&p) {
                assert!(disclosure::recoverable_cells(t).is_empty());
                // Every small count is suppressed.
                for (i, row) in m.table.counts.iter().enumerate() {
                    for (j, v) in row.iter().enumerate() {
                        assert!(!(1..10).contains(v) || t.cells[i][j].is_suppressed());
                    }
                }
            }
        }
    }

    #[test]
    fn on_one_table_the_linear_check_agrees_with_the_bridges_of_the_suppression_graph() {
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = |n: u64| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state % n
        };
        let open = Policy { threshold: 1, rounding_base: 1 };
        for _ in 0..300 {
            let (r, c) = (1 + next(4) as usize, 1 + next(4) as usize);
            let counts: Vec<Vec<u64>> = (0..r).map(|_| (0..c).map(|_| 1 + next(50)).collect()).collect();
            let m = vec![Member {
                table: Table {
                    rows: (0..r).map(|a| format!("a{a}")).collect(),
                    cols: (0..c).map(|h| format!("h{h}")).collect(),
                    counts,
                },
                groups: (0..r).map(|a| vec![a]).collect(),
            }];
            let mut p = disclosure::protect(&m[0].table, &open).unwrap();
            for i in 0..=r {
                for j in 0..=c {
                    if next(3) == 0 {
                        match (i == r, j == c) {
                            (false, false) => p.cells[i][j] = disclosure::Cell::Suppressed,
                            (false, true) => p.row_totals[i] = disclosure::Cell::Suppressed,
                            (true, false) => p.col_totals[j] = disclosure::Cell::Suppressed,
                            (true, true) => p.grand_total = disclosure::Cell::Suppressed,
                        }
                    }
                }
            }
            let mut by_algebra: Vec<(usize, usize)> =
                recoverable(&m, r, std::slice::from_ref(&p)).into_iter().map(|(_, i, j)| (i, j)).collect();
            by_algebra.sort_unstable();
            assert_eq!(by_algebra, disclosure::recoverable_cells(&p), "{p:?}");
        }
    }
}
