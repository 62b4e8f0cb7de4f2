//! Grouping persons into families: the same property, the same address, or the same household
//! reference of one partner (which is how health visiting records a child's parents and carers).
//!
//! A key shared by more persons than [`MAX_HOUSEHOLD`] is a communal address (a hostel, a
//! block of temporary accommodation recorded without flat numbers) and groups no one.

use super::records::{HouseholdKind, NONE, Records};

/// Most persons one household key may group.
pub const MAX_HOUSEHOLD: usize = 15;

/// The families found.
#[derive(Debug, Clone, PartialEq)]
pub struct Families {
    /// Each person's family, numbered densely from 0 in order of the family's first person.
    pub family: Vec<u32>,
    /// How many families.
    pub count: u32,
    /// Household keys ignored as communal.
    pub communal_keys: u64,
}

/// Groups the `persons` (each record's person, numbered `0..count`) into families.
pub fn families(recs: &Records, person: &[u32], count: u32) -> Families {
    let mut parent: Vec<u32> = (0..count).collect();
    fn find(parent: &mut [u32], mut x: u32) -> u32 {
        while parent[x as usize] != x {
            let g = parent[parent[x as usize] as usize];
            parent[x as usize] = g;
            x = g;
        }
        x
    }
    let mut keys: Vec<(HouseholdKind, u8, [u8; 16], u32)> =
        recs.households.iter().map(|&(k, s, t, r)| (k, s, t, person[r as usize])).collect();
    keys.sort_unstable();
    keys.dedup();
    let mut communal_keys = 0;
    for group in keys.chunk_by(|a, b| a.0 == b.0 && a.1 == b.1 && a.2 == b.2) {
        if group.len() > MAX_HOUSEHOLD {
            communal_keys += 1;
            continue;
        }
        let mut root = find(&mut parent, group[0].3);
        for &(.., p) in &group[1..] {
            let r = find(&mut parent, p);
            if r != root {
                let (keep, child) = if r < root { (r, root) } else { (root, r) };
                parent[child as usize] = keep;
                root = keep;
            }
        }
    }
    let mut number = vec![NONE; count as usize];
    let mut family = vec![0u32; count as usize];
    let mut n = 0u32;
    for p in 0..count {
        let root = find(&mut parent, p) as usize;
        if number[root] == NONE {
            number[root] = n;
            n += 1;
        }
        family[p as usize] = number[root];
    }
    Families { family, count: n, communal_keys }
}
