use super::*;

use Cell::{Suppressed as C, Value as V};

fn labels(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}{i}")).collect()
}

fn table(counts: &[&[u64]]) -> Table {
    let cols = counts.first().map_or(0, |r| r.len());
    Table {
        rows: labels("r", counts.len()),
        cols: labels("k", cols),
        counts: counts.iter().map(|r| r.to_vec()).collect(),
    }
}

/// The published extended table: cells with row totals, then column totals with the grand total.
fn extended(p: &Protected) -> Vec<Vec<Cell>> {
    let mut out: Vec<Vec<Cell>> =
        p.cells.iter().zip(&p.row_totals).map(|(row, t)| row.iter().copied().chain([*t]).collect()).collect();
    out.push(p.col_totals.iter().copied().chain([p.grand_total]).collect());
    out
}

/// The true extended table, computed independently of the module.
fn true_extended(t: &Table) -> Vec<Vec<u64>> {
    let mut out: Vec<Vec<u64>> = t.counts.iter().map(|r| r.iter().copied().chain([r.iter().sum()]).collect()).collect();
    let width = t.cols.len() + 1;
    out.push((0..width).map(|j| t.counts.iter().map(|r| r.get(j).copied().unwrap_or(0)).sum::<u64>()).collect());
    let last = out.len() - 1;
    out[last][width - 1] = t.counts.iter().flatten().sum();
    out
}

/// The number of suppressed cells in each row and each column of the extended table.
fn line_counts(e: &[Vec<Cell>]) -> Vec<usize> {
    let rows = e.iter().map(|r| r.iter().filter(|c| c.is_suppressed()).count());
    let cols = (0..e[0].len()).map(|j| e.iter().filter(|r| r[j].is_suppressed()).count());
    rows.chain(cols).collect()
}

#[test]
fn classic_three_by_three_gets_a_rectangle_of_suppressions() {
    let t = table(&[&[20, 30, 40], &[25, 3, 35], &[50, 45, 60]]);
    let p = protect(&t, &Policy::default()).unwrap();
    // The 3 is suppressed; its row's smallest other count (25) and that column's smallest other
    // count (20) follow, and the cell crossing them (30) closes the rectangle.
    assert_eq!(p.cells, vec![vec![C, C, V(40)], vec![C, C, V(35)], vec![V(50), V(45), V(60)]]);
    assert_eq!((p.primary, p.secondary), (1, 3));
    assert_eq!(p.cells[1].iter().filter(|c| c.is_suppressed()).count(), 2, "one complement in the small cell's row");
    assert_eq!(p.cells.iter().filter(|r| r[1].is_suppressed()).count(), 2, "one complement in its column");
    // Margins are large, so published, rounded to 5: 90, 63 → 65, 155; 95, 78 → 80, 135; 308 → 310.
    assert_eq!(p.row_totals, [V(90), V(65), V(155)]);
    assert_eq!(p.col_totals, [V(95), V(80), V(135)]);
    assert_eq!(p.grand_total, V(310));
    assert!(line_counts(&extended(&p)).iter().all(|n| *n == 0 || *n >= 2));
    assert!(recoverable_cells(&p).is_empty());
    assert_eq!(p.cells[1][1].to_string(), "c");
    assert_eq!(p.cells[2][0].to_string(), "50");
}

#[test]
fn small_totals_are_suppressed_and_protected() {
    // Row 0 adds up to 5 and column 2 to 4: both totals are small themselves.
    let t = table(&[&[2, 3, 0], &[40, 50, 4], &[60, 70, 0]]);
    let p = protect(&t, &Policy::default()).unwrap();
    assert_eq!(p.row_totals[0], C);
    assert_eq!(p.col_totals[2], C);
    assert_eq!(p.primary, 5, "2, 3, 4 and the totals 5 and 4: {p:?}");
    assert_eq!(p.cells[0][2], V(0), "a true zero stays published");
    assert!(line_counts(&extended(&p)).iter().all(|n| *n == 0 || *n >= 2), "{p:?}");
    assert!(recoverable_cells(&p).is_empty());
}

#[test]
fn zeros_stay_published_and_are_not_chosen_as_complements() {
    let t = table(&[&[0, 0, 7], &[0, 30, 0], &[12, 0, 45]]);
    let p = protect(&t, &Policy::default()).unwrap();
    for (i, row) in t.counts.iter().enumerate() {
        for (j, v) in row.iter().enumerate() {
            if *v == 0 {
                assert_eq!(p.cells[i][j], V(0), "zero at ({i}, {j}): {p:?}");
            }
        }
    }
    // Row 0 is 0, 0, 7 with total 7: both 7s are small; their columns take non-zero complements.
    assert_eq!((p.cells[0][2], p.row_totals[0]), (C, C));
    assert_eq!((p.cells[2][2], p.row_totals[1]), (C, C));
    assert!(recoverable_cells(&p).is_empty());
}

#[test]
fn a_zero_is_the_complement_of_last_resort() {
    // Not reachable from real counts (see `complement`), but the rule holds when forced.
    let values = vec![vec![0, 0], vec![0, 0]];
    let mut marks = vec![vec![Mark::Primary, Mark::Published], vec![Mark::Published, Mark::Published]];
    complement(&values, &mut marks);
    assert_eq!(marks, [[Mark::Primary, Mark::Secondary], [Mark::Secondary, Mark::Secondary]]);
}

#[test]
fn a_table_without_small_counts_is_only_rounded() {
    let t = table(&[&[0, 10, 11, 12], &[13, 0, 97, 102], &[250, 1001, 0, 18]]);
    let p = protect(&t, &Policy::default()).unwrap();
    assert_eq!((p.primary, p.secondary), (0, 0));
    assert_eq!(
        p.cells,
        vec![vec![V(0), V(10), V(10), V(10)], vec![V(15), V(0), V(95), V(100)], vec![V(250), V(1000), V(0), V(20)]]
    );
    assert_eq!(p.row_totals, [V(35), V(210), V(1270)]); // 33, 212, 1269
    assert_eq!(p.col_totals, [V(265), V(1010), V(110), V(130)]); // 263, 1011, 108, 132
    assert_eq!(p.grand_total, V(1515)); // 1514
    // With no rounding the table comes back as it was.
    let exact = protect(&t, &Policy { threshold: 10, rounding_base: 1 }).unwrap();
    assert_eq!(exact.cells, t.counts.iter().map(|r| r.iter().map(|v| V(*v)).collect::<Vec<_>>()).collect::<Vec<_>>());
}

#[test]
fn rounding_is_to_the_nearest_multiple_with_halves_up() {
    let r = |v, base| publish(v, Mark::Published, base).unwrap();
    let five: Vec<Cell> = (0..=13).map(|v| r(v, 5)).collect();
    let expect = [0, 0, 0, 5, 5, 5, 5, 5, 10, 10, 10, 10, 10, 15].map(V);
    assert_eq!(five, expect);
    assert_eq!([r(14, 10), r(15, 10), r(25, 10), r(7, 1)], [V(10), V(20), V(30), V(7)]);
    assert_eq!(publish(7, Mark::Secondary, 5).unwrap(), C);
    assert_eq!(publish(u64::MAX, Mark::Published, 5), Err(DisclosureError::Overflow));
}

#[test]
fn the_single_row_helper_protects_a_row_and_its_total() {
    let cols = labels("k", 3);
    let p = protect_row(&cols, &[3, 20, 40], &Policy::default()).unwrap();
    assert_eq!(p.cells, [C, C, V(40)]);
    assert_eq!(p.total, V(65)); // 63
    assert_eq!((p.primary, p.secondary), (1, 1));
    assert_eq!(p.cols, cols);

    let p = protect_row(&cols, &[2, 3, 0], &Policy::default()).unwrap();
    assert_eq!((p.cells.as_slice(), p.total), ([C, C, V(0)].as_slice(), C));
    assert_eq!((p.primary, p.secondary), (3, 0));

    let p = protect_row(&cols, &[15, 20, 40], &Policy::default()).unwrap();
    assert_eq!((p.cells.as_slice(), p.total, p.secondary), ([V(15), V(20), V(40)].as_slice(), V(75), 0));

    let err = protect_row(&cols, &[1, 2], &Policy::default()).unwrap_err();
    assert_eq!(err, DisclosureError::Ragged { row: "all".into(), found: 2, expected: 3 });
}

#[test]
fn recoverable_cells_finds_lone_suppressions() {
    let t = table(&[&[20, 30], &[40, 50]]);
    let mut p = protect(&t, &Policy::default()).unwrap();
    assert!(recoverable_cells(&p).is_empty());
    p.cells[0][0] = C; // alone in row 0 and in column 0: reported once
    assert_eq!(recoverable_cells(&p), [(0, 0)]);
    p.cells[0][1] = C; // row 0 is now safe, but columns 0 and 1 each give one away
    assert_eq!(recoverable_cells(&p), [(0, 0), (0, 1)]);
    p.cells[0] = vec![V(20), V(30)];
    p.grand_total = C; // a lone total is recovered by adding up its line
    assert_eq!(recoverable_cells(&p), [(2, 2)]);
}

#[test]
fn policy_validation_names_the_field() {
    assert_eq!(Policy::default(), Policy { threshold: 10, rounding_base: 5 });
    assert!(Policy::default().validate().is_ok());
    assert!(Policy { threshold: 1, rounding_base: 1 }.validate().is_ok());
    assert!(Policy { threshold: 3, rounding_base: 5 }.validate().is_ok());
    let field = |p: Policy| match p.validate() {
        Err(DisclosureError::Policy { field, .. }) => field,
        other => panic!("{p:?}: {other:?}"),
    };
    assert_eq!(field(Policy { threshold: 0, rounding_base: 5 }), "threshold");
    assert_eq!(field(Policy { threshold: 10, rounding_base: 0 }), "rounding_base");
    assert_eq!(field(Policy { threshold: 2, rounding_base: 5 }), "threshold");
    let err = Policy { threshold: 0, rounding_base: 5 }.validate().unwrap_err().to_string();
    assert!(err.contains("threshold"), "{err}");
    let err = Policy { threshold: 4, rounding_base: 10 }.validate().unwrap_err().to_string();
    assert!(err.contains("threshold is 4 but must be at least 5 with rounding_base 10"), "{err}");
    let err = protect(&table(&[&[1]]), &Policy { threshold: 10, rounding_base: 0 }).unwrap_err();
    assert!(err.to_string().contains("rounding_base"), "{err}");
}

#[test]
fn policy_deserializes_with_defaults() {
    // Unknown keys are the configuration's to report, with every other problem (config tests).
    assert_eq!(toml::from_str::<Policy>("").unwrap(), Policy::default());
    assert_eq!(toml::from_str::<Policy>("threshold = 6").unwrap(), Policy { threshold: 6, rounding_base: 5 });
}

#[test]
fn malformed_tables_are_rejected() {
    let policy = Policy::default();
    let mut t = table(&[&[20, 30], &[40, 50]]);
    t.counts[1].push(7);
    assert_eq!(protect(&t, &policy).unwrap_err(), DisclosureError::Ragged { row: "r1".into(), found: 3, expected: 2 });
    assert!(protect(&t, &policy).unwrap_err().to_string().contains("\"r1\""));

    let mut t = table(&[&[20, 30], &[40, 50]]);
    t.counts.pop();
    assert_eq!(protect(&t, &policy).unwrap_err(), DisclosureError::RowCount { labels: 2, rows: 1 });

    let mut t = table(&[&[20, 30], &[40, 50]]);
    t.cols[1] = " ".into();
    assert_eq!(protect(&t, &policy).unwrap_err(), DisclosureError::EmptyLabel { axis: "column", index: 1 });

    let mut t = table(&[&[20, 30], &[40, 50]]);
    t.rows[1] = "r0".into();
    assert_eq!(protect(&t, &policy).unwrap_err(), DisclosureError::DuplicateLabel { axis: "row", label: "r0".into() });

    let empty = Table { rows: vec![], cols: labels("k", 2), counts: vec![] };
    assert_eq!(protect(&empty, &policy).unwrap_err(), DisclosureError::Empty { axis: "row" });
    let empty = Table { rows: labels("r", 1), cols: vec![], counts: vec![vec![]] };
    assert_eq!(protect(&empty, &policy).unwrap_err(), DisclosureError::Empty { axis: "column" });

    let huge = table(&[&[u64::MAX, 1]]);
    assert_eq!(protect(&huge, &policy).unwrap_err(), DisclosureError::Overflow);
}

/// xorshift64*: small, deterministic, good enough to draw test tables.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// A skewed count: many zeros and small counts, some moderate, a few large.
    fn count(&mut self) -> u64 {
        match self.below(100) {
            0..20 => 0,
            20..55 => 1 + self.below(9),
            55..80 => 10 + self.below(20),
            80..95 => 30 + self.below(200),
            _ => 230 + self.below(5000),
        }
    }

    fn table(&mut self) -> Table {
        let (r, c) = (1 + self.below(8) as usize, 1 + self.below(8) as usize);
        let counts = (0..r).map(|_| (0..c).map(|_| self.count()).collect()).collect();
        Table { rows: labels("r", r), cols: labels("k", c), counts }
    }
}

/// Every rule, checked on one table.
fn check(t: &Table, policy: &Policy) {
    let p = protect(t, policy).unwrap();
    let truth = true_extended(t);
    let published = extended(&p);
    let (mut primary, mut suppressed) = (0, 0);
    for (i, row) in truth.iter().enumerate() {
        for (j, &v) in row.iter().enumerate() {
            let small = (1..policy.threshold).contains(&v);
            primary += usize::from(small);
            match published[i][j] {
                Cell::Suppressed => {
                    suppressed += 1;
                    assert_ne!(v, 0, "a zero was suppressed at ({i}, {j}) in {t:?}: {p:?}");
                }
                Cell::Value(x) => {
                    assert!(!small, "small count {v} published at ({i}, {j}) in {t:?}");
                    assert_eq!(x % policy.rounding_base, 0, "{x} is not a multiple of {}", policy.rounding_base);
                    assert!(2 * x.abs_diff(v) <= policy.rounding_base, "{v} published as {x}");
                    assert_eq!(x == 0, v == 0, "{v} published as {x}");
                }
            }
        }
    }
    assert_eq!((p.primary, p.primary + p.secondary), (primary, suppressed), "{t:?}");
    assert!(line_counts(&published).iter().all(|n| *n == 0 || *n >= 2), "{t:?}: {p:?}");
    assert!(recoverable_cells(&p).is_empty(), "{t:?}: {p:?}");
    let suppressed: Vec<Vec<bool>> = published.iter().map(|r| r.iter().map(Cell::is_suppressed).collect()).collect();
    assert!(determined_by_algebra(&suppressed).is_empty(), "a cell is pinned down in {t:?}: {p:?}");
    assert_eq!(protect(t, policy).unwrap(), p, "protecting again gives another result for {t:?}");
}

#[test]
fn random_tables_follow_every_rule() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let policy = Policy::default();
    let (mut secondary, mut suppressed_totals) = (0, 0);
    for _ in 0..500 {
        let t = rng.table();
        check(&t, &policy);
        // Under the default policy no published count, rounded, looks small either.
        let p = protect(&t, &policy).unwrap();
        for cell in extended(&p).iter().flatten() {
            assert!(!matches!(cell, Cell::Value(1..10)), "{t:?}: {p:?}");
        }
        secondary += p.secondary;
        suppressed_totals += p.row_totals.iter().chain(&p.col_totals).filter(|c| c.is_suppressed()).count();
    }
    // The draw exercises the interesting paths.
    assert!(secondary > 500 && suppressed_totals > 100, "{secondary} secondary, {suppressed_totals} totals");
}

#[test]
fn random_tables_follow_every_rule_under_other_policies() {
    let mut rng = Rng(42);
    let policies = [(1, 1), (3, 5), (5, 3), (6, 10), (11, 10), (20, 1), (10, 2)];
    for (threshold, rounding_base) in policies {
        let policy = Policy { threshold, rounding_base };
        policy.validate().unwrap();
        for _ in 0..100 {
            check(&rng.table(), &policy);
        }
    }
}

/// The suppressed cells of an extended table (`suppressed[row][col]`) that the published cells
/// pin down, found by linear algebra rather than by the graph: with each line's equation written
/// over the suppressed cells only (every coefficient 1, after flipping the margins' signs, which
/// changes no rank), a cell is determined when its unit vector lies in the span of the lines,
/// that is when adding it to them does not raise their rank.
fn determined_by_algebra(suppressed: &[Vec<bool>]) -> Vec<(usize, usize)> {
    let cells: Vec<(usize, usize)> = suppressed
        .iter()
        .enumerate()
        .flat_map(|(i, row)| row.iter().enumerate().filter(|(_, s)| **s).map(move |(j, _)| (i, j)))
        .collect();
    let (n_rows, n_cols) = (suppressed.len(), suppressed[0].len());
    let mut equations: Vec<Vec<f64>> = Vec::new();
    for i in 0..n_rows {
        equations.push(cells.iter().map(|&(a, _)| f64::from(u8::from(a == i))).collect());
    }
    for j in 0..n_cols {
        equations.push(cells.iter().map(|&(_, b)| f64::from(u8::from(b == j))).collect());
    }
    let base = rank(equations.clone());
    (0..cells.len())
        .filter(|&k| {
            let mut with = equations.clone();
            with.push((0..cells.len()).map(|x| f64::from(u8::from(x == k))).collect());
            rank(with) == base
        })
        .map(|k| cells[k])
        .collect()
}

/// Rank by Gaussian elimination with partial pivoting (small 0/1 matrices: exact enough).
fn rank(mut m: Vec<Vec<f64>>) -> usize {
    let width = m.first().map_or(0, Vec::len);
    let mut rank = 0;
    for col in 0..width {
        let Some(pivot) = (rank..m.len()).max_by(|a, b| m[*a][col].abs().total_cmp(&m[*b][col].abs())) else { break };
        if m[pivot][col].abs() < 1e-9 {
            continue;
        }
        m.swap(rank, pivot);
        let pivot_row = m[rank].clone();
        for (_, row) in m.iter_mut().enumerate().filter(|(r, _)| *r != rank) {
            let f = row[col] / pivot_row[col];
            for (x, p) in row.iter_mut().zip(&pivot_row).skip(col) {
                *x -= f * p;
            }
        }
        rank += 1;
    }
    rank
}

#[test]
fn the_graph_finds_exactly_the_cells_that_linear_algebra_pins_down() {
    let mut rng = Rng(7);
    let mut bridged = 0;
    for _ in 0..400 {
        let (r, c) = (2 + rng.below(4) as usize, 2 + rng.below(4) as usize);
        let suppressed: Vec<Vec<bool>> = (0..r).map(|_| (0..c).map(|_| rng.below(3) == 0).collect()).collect();
        let by_graph = super::super::suppression_graph::bridges(&suppressed);
        assert_eq!(by_graph, determined_by_algebra(&suppressed), "{suppressed:?}");
        bridged += usize::from(!by_graph.is_empty());
    }
    assert!(bridged > 50, "the draw needs patterns with recoverable cells: {bridged}");
}

#[test]
fn two_suppressed_groups_joined_by_one_cell_are_joined_again() {
    // Small counts in two corners, and one small count joining them: every line ends up with two
    // suppressions or more, yet the joining cell would be recoverable from the published ones.
    let t = table(&[
        &[3, 4, 50, 60, 70],
        &[4, 3, 2, 60, 70],
        &[50, 60, 3, 4, 70],
        &[50, 60, 4, 3, 70],
        &[50, 60, 50, 60, 70],
    ]);
    let p = protect(&t, &Policy::default()).unwrap();
    let published = extended(&p);
    let suppressed: Vec<Vec<bool>> = published.iter().map(|r| r.iter().map(Cell::is_suppressed).collect()).collect();
    assert!(determined_by_algebra(&suppressed).is_empty(), "{p:?}");
    assert!(recoverable_cells(&p).is_empty(), "{p:?}");
}
