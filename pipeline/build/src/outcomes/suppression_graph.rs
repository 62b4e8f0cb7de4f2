//! Which suppressed cells of a table with margins the published cells give away, found as the
//! bridges of a graph.
//!
//! In the extended table (counts, row totals, column totals, grand total), every row and every
//! column adds up (with the margin taken away) to zero. Put the rows and the columns as nodes of a
//! bipartite graph and each suppressed cell as an edge between its row and its column: the values
//! the suppressed cells could take, given everything published, differ from the true ones by
//! exactly the flows around the graph's cycles (alternately added and taken away along an even
//! cycle keeps every line's sum). So a suppressed cell is pinned down by the published cells,
//! through any combination of rows and columns, exactly when its edge lies on no cycle: when it
//! is a bridge. A line with one suppressed cell is the simplest case (its node has one edge); two
//! groups of suppressions joined by a single suppressed cell is another that checking lines one
//! at a time misses.
//!
//! This is about exact recovery. Bounds from the published counts being non-negative and rounded
//! can still narrow a suppressed cell down; the module documentation of `disclosure` says so.

/// The suppressed cells (`suppressed[row][col]` of the extended table) that are bridges: exactly
/// recoverable from what is published. In row-major order.
pub(super) fn bridges(suppressed: &[Vec<bool>]) -> Vec<(usize, usize)> {
    let graph = Graph::of(suppressed);
    let mut found = graph.bridge_edges();
    found.sort_unstable();
    found
}

/// The rows and the columns on each side of the suppressed cell `(row, col)` once its edge is
/// taken away: `(rows, cols)` reachable from its row, then from its column. Each is a list of
/// flags by index.
pub(super) fn sides(suppressed: &[Vec<bool>], row: usize, col: usize) -> [(Vec<bool>, Vec<bool>); 2] {
    let graph = Graph::of(suppressed);
    let without = Some((row, graph.n_rows + col));
    [graph.reach(row, without), graph.reach(graph.n_rows + col, without)]
}

/// Rows are nodes `0..n_rows`, columns `n_rows..n_rows + n_cols`; an edge per suppressed cell.
struct Graph {
    n_rows: usize,
    adjacent: Vec<Vec<usize>>,
}

impl Graph {
    fn of(suppressed: &[Vec<bool>]) -> Graph {
        let n_rows = suppressed.len();
        let n_cols = suppressed.first().map_or(0, Vec::len);
        let mut adjacent = vec![Vec::new(); n_rows + n_cols];
        for (i, row) in suppressed.iter().enumerate() {
            for j in row.iter().enumerate().filter(|(_, s)| **s).map(|(j, _)| j) {
                adjacent[i].push(n_rows + j);
                adjacent[n_rows + j].push(i);
            }
        }
        Graph { n_rows, adjacent }
    }

    /// The cells whose edges are bridges, by depth-first search with discovery times and low
    /// links (Tarjan), without recursion. The graph is simple (one edge per cell), so the edge
    /// back to a node's parent is the tree edge itself and is skipped once.
    fn bridge_edges(&self) -> Vec<(usize, usize)> {
        let n = self.adjacent.len();
        let mut discovered = vec![usize::MAX; n];
        let mut low = vec![0usize; n];
        let mut found = Vec::new();
        let mut clock = 0;
        for root in 0..n {
            if discovered[root] != usize::MAX || self.adjacent[root].is_empty() {
                continue;
            }
            // (node, parent, next neighbour to look at)
            let mut stack = vec![(root, usize::MAX, 0usize)];
            discovered[root] = clock;
            low[root] = clock;
            clock += 1;
            while let Some(top) = stack.last_mut() {
                let (node, parent, next) = *top;
                if let Some(&to) = self.adjacent[node].get(next) {
                    top.2 += 1;
                    if to == parent {
                        continue;
                    }
                    if discovered[to] == usize::MAX {
                        discovered[to] = clock;
                        low[to] = clock;
                        clock += 1;
                        stack.push((to, node, 0));
                    } else {
                        low[node] = low[node].min(discovered[to]);
                    }
                } else {
                    stack.pop();
                    if parent != usize::MAX {
                        low[parent] = low[parent].min(low[node]);
                        if low[node] > discovered[parent] {
                            found.push(self.cell(parent, node));
                        }
                    }
                }
            }
        }
        found
    }

    /// The cell an edge between two nodes stands for.
    fn cell(&self, a: usize, b: usize) -> (usize, usize) {
        let (row, col) = if a < self.n_rows { (a, b) } else { (b, a) };
        (row, col - self.n_rows)
    }

    /// `(rows, cols)` reachable from `start` without the edge `without` (row node, column node).
    fn reach(&self, start: usize, without: Option<(usize, usize)>) -> (Vec<bool>, Vec<bool>) {
        let mut seen = vec![false; self.adjacent.len()];
        let mut todo = vec![start];
        seen[start] = true;
        while let Some(node) = todo.pop() {
            for &to in &self.adjacent[node] {
                let edge = if node < self.n_rows { (node, to) } else { (to, node) };
                if Some(edge) == without || seen[to] {
                    continue;
                }
                seen[to] = true;
                todo.push(to);
            }
        }
        let cols = seen.split_off(self.n_rows);
        (seen, cols)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grid(n_rows: usize, n_cols: usize, cells: &[(usize, usize)]) -> Vec<Vec<bool>> {
        let mut g = vec![vec![false; n_cols]; n_rows];
        for &(i, j) in cells {
            g[i][j] = true;
        }
        g
    }

    #[test]
    fn a_rectangle_has_no_bridge_and_a_lone_cell_is_one() {
        assert!(bridges(&grid(3, 3, &[(0, 0), (0, 1), (1, 0), (1, 1)])).is_empty());
        assert_eq!(bridges(&grid(3, 3, &[(2, 2)])), [(2, 2)]);
        assert_eq!(bridges(&grid(3, 3, &[(0, 0), (0, 1)])), [(0, 0), (0, 1)]);
    }

    #[test]
    fn two_rectangles_joined_by_one_cell_give_that_cell_away() {
        let cells = [(0, 0), (0, 1), (1, 0), (1, 1), (2, 2), (2, 3), (3, 2), (3, 3), (1, 2)];
        // Every row and column holds two suppressed cells or more, yet (1, 2) is recoverable.
        let g = grid(5, 5, &cells);
        assert!(g.iter().all(|r| r.iter().filter(|s| **s).count() != 1));
        assert_eq!(bridges(&g), [(1, 2)]);
        let [(rows_a, cols_a), (rows_b, cols_b)] = sides(&g, 1, 2);
        assert_eq!((rows_a, cols_a), (vec![true, true, false, false, false], vec![true, true, false, false, false]));
        assert_eq!((rows_b, cols_b), (vec![false, false, true, true, false], vec![false, false, true, true, false]));
    }
}
