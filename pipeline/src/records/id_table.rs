//! Record references interned in one arena and found through a hash table of their indices: a
//! reference held costs its bytes and a dozen more, where a map keyed by boxed strings costs an
//! allocation and several words for each.

use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};

use hashbrown::HashTable;

/// References, each with a dense index in the order they were first added.
#[derive(Debug, Default)]
pub(crate) struct IdTable {
    arena: String,
    /// Each reference's end in the arena; its start is the previous one's end.
    ends: Vec<usize>,
    table: HashTable<u32>,
}

/// The hash a reference is kept by: fixed keys, so the same in every pass of one process.
pub(crate) fn hash(id: &str) -> u64 {
    BuildHasherDefault::<DefaultHasher>::default().hash_one(id)
}

/// The reference with index `i`, from the arena and the ends.
fn slice<'a>(arena: &'a str, ends: &[usize], i: u32) -> &'a str {
    let i = i as usize;
    let start = if i == 0 { 0 } else { ends.get(i - 1).copied().unwrap_or(0) };
    let end = ends.get(i).copied().unwrap_or(start);
    arena.get(start..end).unwrap_or_default()
}

impl IdTable {
    /// The reference with index `i`.
    pub(crate) fn id(&self, i: u32) -> &str {
        slice(&self.arena, &self.ends, i)
    }

    /// The index of `id`, if it was added.
    pub(crate) fn get(&self, id: &str) -> Option<u32> {
        self.table.find(hash(id), |&i| self.id(i) == id).copied()
    }

    /// The index of `id`, added if it was not, and whether it was added now. `None` past
    /// `u32::MAX` references.
    pub(crate) fn insert(&mut self, id: &str) -> Option<(u32, bool)> {
        let h = hash(id);
        if let Some(&i) = self.table.find(h, |&i| self.id(i) == id) {
            return Some((i, false));
        }
        let i = u32::try_from(self.ends.len()).ok()?;
        self.arena.push_str(id);
        self.ends.push(self.arena.len());
        let (arena, ends) = (&self.arena, &self.ends);
        self.table.insert_unique(h, i, |&j| hash(slice(arena, ends, j)));
        Some((i, true))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_get_dense_indices_and_are_found_again() {
        let mut t = IdTable::default();
        assert_eq!(t.insert("P1"), Some((0, true)));
        assert_eq!(t.insert(""), Some((1, true)));
        assert_eq!(t.insert("P10"), Some((2, true)));
        assert_eq!(t.insert("P1"), Some((0, false)));
        for i in 0..10_000 {
            t.insert(&format!("Q{i}"));
        }
        assert_eq!((t.get("P10"), t.get(""), t.get("Q9999"), t.get("Q10000")), (Some(2), Some(1), Some(10_002), None));
        assert_eq!((t.id(2), t.id(1), t.id(10_002)), ("P10", "", "Q9999"));
    }
}
