//! A fast, deterministic hasher for hash maps whose keys no adversary chooses.

use std::hash::{BuildHasherDefault, Hasher};

/// A fast hasher for small keys: a folded 128-bit multiply per word, which mixes every input bit
/// into the low bits a table indexes by. Not DoS-resistant (with its fixed seed, whoever chooses
/// the keys can make them collide): use it only where no adversary chooses them (the Bloom
/// encoder's packed bigrams of checked names, tokens the pipeline keyed and wrote itself,
/// dense numbers the build assigns).
#[derive(Default, Clone, Copy, Debug)]
pub struct FoldHasher(u64);

/// Builds [`FoldHasher`]s, for `HashMap::with_hasher` and `HashMap::default`.
pub type FoldBuildHasher = BuildHasherDefault<FoldHasher>;

impl FoldHasher {
    const K: u64 = 0x9E37_79B9_7F4A_7C15;
}

impl Hasher for FoldHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.write_u64(u64::from_le_bytes(w));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut w = [0u8; 8];
            w[..rest.len()].copy_from_slice(rest);
            self.write_u64(u64::from_le_bytes(w) ^ ((rest.len() as u64) << 56));
        }
    }

    fn write_u64(&mut self, n: u64) {
        let p = u128::from(self.0 ^ n) * u128::from(Self::K);
        self.0 = (p as u64) ^ ((p >> 64) as u64);
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;
    use std::hash::BuildHasher;

    use super::*;

    #[test]
    fn keys_one_bit_apart_hash_apart_and_spread_over_the_low_bits() {
        let hash = |k: &[u8; 16]| FoldBuildHasher::default().hash_one(k);
        let key = [7u8; 16];
        let mut buckets = HashSet::new();
        for bit in 0..128 {
            let mut k = key;
            k[bit / 8] ^= 1 << (bit % 8);
            assert_ne!(hash(&k), hash(&key), "bit {bit}");
            buckets.insert(hash(&k) & 0xFF);
        }
        // 128 keys a bit apart fall in most of 256 buckets, not a few.
        assert!(buckets.len() > 80, "{}", buckets.len());
    }

    #[test]
    fn dense_numbers_spread_over_the_low_bits_and_the_top_seven() {
        // The build's own keys: numbers 0, 1, 2, ... A table indexes by the low bits and tags
        // its slots with the top seven.
        let hash = |k: u32| FoldBuildHasher::default().hash_one(k);
        let low: HashSet<u64> = (0..4096u32).map(|k| hash(k) & 0xFFF).collect();
        let top: HashSet<u64> = (0..4096u32).map(|k| hash(k) >> 57).collect();
        assert!(low.len() > 2400, "{}", low.len());
        assert_eq!(top.len(), 128);
    }
}
