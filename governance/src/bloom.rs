//! [`BloomEncoder`]: keyed Bloom filters of names, for approximate comparison without the names.
//!
//! A name (in match form) is cut into the bigrams of `_` + name + `_`; each distinct bigram
//! sets [`BLOOM_HASHES`] bits of a [`BLOOM_BITS`]-bit filter, at positions
//! `(h1 + j·h2) mod 1024` for `j` in `0..20`, where `h1` and `h2` are the first two
//! little-endian `u64` of
//!
//! ```text
//! HMAC-SHA256(linkage key, "bloom/<field>" || 0x00 || salt || 0x1F || bigram)
//! ```
//!
//! and `h2` is forced odd (so the 20 positions are distinct). Bit `i` is bit `i % 8` (least
//! significant first) of byte `i / 8`. Two spellings of a name share most bigrams and so most
//! bits: their [`dice`] coefficient is high (`KATHERINE` and `CATHERINE` ≈ 0.8), while
//! unrelated names share few (≈ 0.1–0.3).
//!
//! # Why keyed, and why salted
//!
//! Without the key, nobody can compute which bits a bigram sets, so a filter cannot be
//! attacked by encoding a dictionary of names. Bloom filters of names still leak bigram
//! frequencies to someone holding many of them (pattern-mining attacks); the salt, the year of
//! birth where the agreement lets the date of birth be tokenised, gives every birth year its own
//! positions, so frequencies cannot be pooled across years. Records are only compared inside a
//! birth year, so nothing is lost.

use std::collections::HashMap;
use std::fmt;

use crate::Tokeniser;
use crate::fold_hash::FoldBuildHasher;

/// Bits in a filter.
pub const BLOOM_BITS: usize = 1024;
/// Bytes in a filter (the staging columns' `FixedSizeBinary` width).
pub const BLOOM_BYTES: usize = BLOOM_BITS / 8;
/// Bit positions each bigram sets.
pub const BLOOM_HASHES: u64 = 20;

// The staging columns are as wide as the filters.
const _: () = assert!(BLOOM_BYTES as i32 == tellonce_schemas::staging::BLOOM_BYTES);

/// A name's Bloom filter.
pub type BloomFilter = [u8; BLOOM_BYTES];

/// Strata (field and salt pairs) cached before the cache is emptied.
const MAX_STRATA: usize = 1024;
/// Bigrams cached per stratum before that stratum's cache is emptied (Latin names have well
/// under 1 000 distinct bigrams; this only bounds memory against unusual input).
const MAX_BIGRAMS: usize = 8192;

/// Encodes names as keyed Bloom filters, remembering each bigram's hash pair per field and salt.
///
/// Bigrams repeat enormously across names, so the cache turns about 15 HMACs per name into
/// almost none. The cache lives in the encoder: give each worker thread its own clone (it is
/// `Send` and `Clone`; a clone carries a copy of the cache). Nothing global, nothing shared.
///
/// ```
/// use tellonce_governance::{KeyRing, Purpose, bloom};
///
/// let mut enc = KeyRing::from_master([42u8; 32]).tokeniser(Purpose::Linkage).bloom_encoder();
/// let a = enc.encode("forename", "2012", "KATHERINE");
/// let b = enc.encode("forename", "2012", "CATHERINE");
/// assert!(bloom::dice(&a, &b) > 0.6);
/// assert_eq!(bloom::dice(&a, &a), 1.0);
/// // Another birth year, other positions.
/// assert_ne!(a, enc.encode("forename", "2013", "KATHERINE"));
/// ```
#[derive(Clone)]
pub struct BloomEncoder {
    tokeniser: Tokeniser,
    /// `field NUL salt` → the stratum's bigram cache.
    strata: HashMap<String, Stratum, FoldBuildHasher>,
    /// Scratch for building a stratum's name.
    stratum_name: String,
    /// Scratch for building one bigram's HMAC input.
    input: Vec<u8>,
}

/// One field and salt's cache: a bigram (its two chars packed into a `u64`) → `(h1, h2)`.
type Stratum = HashMap<u64, (u64, u64), FoldBuildHasher>;

impl BloomEncoder {
    /// An encoder keyed like `tokeniser` (normally the linkage tokeniser), with an empty cache.
    pub fn new(tokeniser: &Tokeniser) -> BloomEncoder {
        BloomEncoder {
            tokeniser: tokeniser.clone(),
            strata: HashMap::default(),
            stratum_name: String::new(),
            input: Vec::new(),
        }
    }

    /// A new encoder with the same key and an empty cache (cheaper than `clone` once the cache
    /// has grown).
    pub fn fresh(&self) -> BloomEncoder {
        BloomEncoder::new(&self.tokeniser)
    }

    /// The Bloom filter of `text` (a name in match form) for `field` (`forename`, `surname`),
    /// salted with `salt` (the 4-digit year of birth, or empty).
    ///
    /// Deterministic for a given key, field, salt and text. An empty text gives the filter of
    /// the one bigram `__`; callers treat an empty name as missing instead.
    pub fn encode(&mut self, field: &str, salt: &str, text: &str) -> BloomFilter {
        let mut filter = [0u8; BLOOM_BYTES];
        self.encode_into(field, salt, text, &mut filter);
        filter
    }

    /// [`encode`](Self::encode), setting the bits in `filter` (which the caller zeroes), so
    /// that filters can be written straight into a column's buffer.
    ///
    /// Encoding many names of one field and salt in a row keeps that stratum's cache hot:
    /// callers with many records sort them by salt first.
    pub fn encode_into(&mut self, field: &str, salt: &str, text: &str, filter: &mut BloomFilter) {
        self.stratum_name.clear();
        self.stratum_name.push_str(field);
        self.stratum_name.push('\0');
        self.stratum_name.push_str(salt);
        let (tokeniser, input) = (&self.tokeniser, &mut self.input);
        if let Some(stratum) = self.strata.get_mut(self.stratum_name.as_str()) {
            return encode_in(stratum, tokeniser, input, field, salt, text, filter);
        }
        if self.strata.len() >= MAX_STRATA {
            self.strata.clear();
        }
        let stratum = self.strata.entry(self.stratum_name.clone()).or_default();
        encode_in(stratum, tokeniser, input, field, salt, text, filter)
    }

    /// [`encode`](Self::encode) without the cache: one HMAC per bigram, for a caller holding
    /// the encoder only by shared reference.
    pub fn encode_uncached(&self, field: &str, salt: &str, text: &str) -> BloomFilter {
        let mut filter = [0u8; BLOOM_BYTES];
        let mut input = Vec::new();
        let mut prev = '_';
        for c in text.chars().chain(std::iter::once('_')) {
            let (h1, h2) = hash_pair(&self.tokeniser, &mut input, field, salt, [prev, c]);
            prev = c;
            set_positions(&mut filter, h1, h2);
        }
        filter
    }
}

/// [`BloomEncoder::encode`] with the stratum's cache in hand.
fn encode_in(
    stratum: &mut Stratum,
    tokeniser: &Tokeniser,
    input: &mut Vec<u8>,
    field: &str,
    salt: &str,
    text: &str,
    filter: &mut BloomFilter,
) {
    let mut prev = '_';
    for c in text.chars().chain(std::iter::once('_')) {
        let bigram = [prev, c];
        prev = c;
        let packed = (u64::from(u32::from(bigram[0])) << 32) | u64::from(u32::from(bigram[1]));
        let (h1, h2) = match stratum.get(&packed) {
            Some(&pair) => pair,
            None => {
                let pair = hash_pair(tokeniser, input, field, salt, bigram);
                if stratum.len() >= MAX_BIGRAMS {
                    stratum.clear();
                }
                stratum.insert(packed, pair);
                pair
            }
        };
        set_positions(filter, h1, h2);
    }
}

/// `(h1, h2)` of one bigram: the first two little-endian `u64` of
/// `HMAC(key, "bloom/<field>" || 0x00 || salt || 0x1F || bigram)`, `h2` odd.
fn hash_pair(tokeniser: &Tokeniser, input: &mut Vec<u8>, field: &str, salt: &str, bigram: [char; 2]) -> (u64, u64) {
    input.clear();
    input.extend_from_slice(salt.as_bytes());
    input.push(0x1F);
    let mut buf = [0u8; 4];
    for c in bigram {
        input.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
    }
    // `Tokeniser::token` hashes `domain || 0x00 || value` and keeps the first 16 bytes.
    let mut domain = String::with_capacity(6 + field.len());
    domain.push_str("bloom/");
    domain.push_str(field);
    let t = tokeniser.token(&domain, input);
    let mut h1 = [0u8; 8];
    let mut h2 = [0u8; 8];
    h1.copy_from_slice(&t[..8]);
    h2.copy_from_slice(&t[8..]);
    (u64::from_le_bytes(h1), u64::from_le_bytes(h2) | 1)
}

/// Sets the [`BLOOM_HASHES`] positions `(h1 + j·h2) mod BLOOM_BITS`.
#[inline]
fn set_positions(filter: &mut BloomFilter, h1: u64, h2: u64) {
    for j in 0..BLOOM_HASHES {
        // BLOOM_BITS is a power of two, so wrapping u64 arithmetic then a mask is the modulus.
        let i = (h1.wrapping_add(j.wrapping_mul(h2)) % BLOOM_BITS as u64) as usize;
        filter[i / 8] |= 1 << (i % 8);
    }
}

/// The Dice coefficient of two filters, `2·|A∧B| / (|A| + |B|)`: 1 for equal non-empty
/// filters, near 0 for unrelated ones, and 0 when both are empty.
///
/// Popcounts over `u64` words. The build tier compares two names by the Dice coefficient of
/// their filters (of the same field and salt; filters of different salts are unrelated).
pub fn dice(a: &BloomFilter, b: &BloomFilter) -> f32 {
    let (pa, pb, both) = popcounts(a, b);
    dice_of(pa, pb, both)
}

/// The bits set in `a`, in `b`, and in both.
fn popcounts(a: &BloomFilter, b: &BloomFilter) -> (u32, u32, u32) {
    let (mut pa, mut pb, mut both) = (0u32, 0u32, 0u32);
    for (x, y) in a.chunks_exact(8).zip(b.chunks_exact(8)) {
        let (mut xw, mut yw) = ([0u8; 8], [0u8; 8]);
        xw.copy_from_slice(x);
        yw.copy_from_slice(y);
        let (x, y) = (u64::from_le_bytes(xw), u64::from_le_bytes(yw));
        pa += x.count_ones();
        pb += y.count_ones();
        both += (x & y).count_ones();
    }
    (pa, pb, both)
}

/// The Dice coefficient from the bits set in each filter and in both.
fn dice_of(pa: u32, pb: u32, both: u32) -> f32 {
    if pa + pb == 0 { 0.0 } else { (2 * both) as f32 / (pa + pb) as f32 }
}

/// How many distinct bigrams are in one filter and not the other, both sides summed, estimated
/// from the bits set: a filter with `x` of its `m` bits set holds about
/// `−(m / k)·ln(1 − x / m)` distinct bigrams (`k` positions each), and so does the union of two.
///
/// One edit of a name (a letter changed, added or dropped) changes at most two bigrams on each
/// side, whatever the name's length, where the Dice coefficient of a short name falls far (one
/// letter of five: 0.67). Two filters made under different salts or keys are far apart.
pub fn bigrams_apart(a: &BloomFilter, b: &BloomFilter) -> f32 {
    dice_and_bigrams_apart(a, b).1
}

/// [`dice`] and [`bigrams_apart`] of two filters, counting their bits once.
pub fn dice_and_bigrams_apart(a: &BloomFilter, b: &BloomFilter) -> (f32, f32) {
    let (pa, pb, both) = popcounts(a, b);
    let dice = dice_of(pa, pb, both);
    let bigrams = |set: u32| -> f64 {
        let m = BLOOM_BITS as f64;
        let left = 1.0 - f64::from(set) / m;
        // A full filter holds more bigrams than can be told: as good as unlike anything.
        if left <= 0.0 { f64::INFINITY } else { -(m / BLOOM_HASHES as f64) * left.ln() }
    };
    let union = bigrams(pa + pb - both);
    if !union.is_finite() {
        return (dice, f32::INFINITY);
    }
    (dice, (2.0 * union - bigrams(pa) - bigrams(pb)).max(0.0) as f32)
}

impl fmt::Debug for BloomEncoder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The cache holds bigrams of clear names: never printed.
        f.debug_struct("BloomEncoder")
            .field("tokeniser", &self.tokeniser)
            .field("cached_strata", &self.strata.len())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{KeyRing, Purpose};

    fn encoder() -> BloomEncoder {
        KeyRing::from_master([9u8; 32]).tokeniser(Purpose::Linkage).bloom_encoder()
    }

    fn assert_send_clone<T: Send + Clone>() {}

    #[test]
    fn encoder_is_send_and_clone() {
        assert_send_clone::<BloomEncoder>();
    }

    #[test]
    fn bigrams_apart_counts_the_bigrams_an_edit_changes_whatever_the_length() {
        let mut e = encoder();
        let apart = |e: &mut BloomEncoder, x: &str, y: &str| {
            bigrams_apart(&e.encode("forename", "", x), &e.encode("forename", "", y))
        };
        // One letter changed (two bigrams each side), added or dropped (three in all).
        for (x, y, want) in [
            ("SARAH", "SARAG", 4.0),
            ("KELLY", "KELLR", 4.0),
            ("KATHERINE", "CATHERINE", 4.0),
            ("JON", "JOHN", 3.0),
            ("ELLA", "ELLIE", 5.0),
            ("JACK", "JAKE", 6.0),
            ("MAXIMILIAN", "MAXIMILIAN", 0.0),
        ] {
            let got = apart(&mut e, x, y);
            assert!((got - want).abs() < 0.6, "{x} {y}: {got}");
        }
        assert!(apart(&mut e, "SARAH", "THOMAS") > 9.0);
        // The short name's Dice falls where the long one's does not: the count does not.
        let d = |e: &mut BloomEncoder, x: &str, y: &str| dice(&e.encode("f", "", x), &e.encode("f", "", y));
        assert!(d(&mut e, "SARAH", "SARAG") < 0.7 && d(&mut e, "KATHERINE", "CATHERINE") > 0.75);
        assert!(bigrams_apart(&[0xFF; BLOOM_BYTES], &[0; BLOOM_BYTES]).is_infinite());
        let (x, y) = (e.encode("f", "", "SARAH"), e.encode("f", "", "SARAG"));
        assert_eq!(dice_and_bigrams_apart(&x, &y), (dice(&x, &y), bigrams_apart(&x, &y)));
    }

    #[test]
    fn deterministic_and_cache_transparent() {
        let mut e = encoder();
        let a = e.encode("forename", "2012", "KATHERINE");
        assert_eq!(a, e.encode("forename", "2012", "KATHERINE"));
        assert_eq!(a, e.clone().encode("forename", "2012", "KATHERINE"));
        assert_eq!(a, e.fresh().encode("forename", "2012", "KATHERINE"));
        assert_eq!(a, e.encode_uncached("forename", "2012", "KATHERINE"));
        let mut into = [0u8; BLOOM_BYTES];
        e.encode_into("forename", "2012", "KATHERINE", &mut into);
        assert_eq!(a, into);
        assert_eq!(a, encoder().encode("forename", "2012", "KATHERINE"));
        // Another key, another filter.
        let other = KeyRing::from_master([8u8; 32]).tokeniser(Purpose::Linkage).bloom_encoder();
        assert_ne!(a, other.encode_uncached("forename", "2012", "KATHERINE"));
        // Non-ASCII letters are bigrams like any other.
        assert_eq!(e.encode("surname", "", "ИВАНОВ"), e.encode_uncached("surname", "", "ИВАНОВ"));
    }

    #[test]
    fn matches_the_specified_construction() {
        let t = KeyRing::from_master([9u8; 32]).tokeniser(Purpose::Linkage);
        let mut want = [0u8; BLOOM_BYTES];
        for bigram in ["_A", "AL", "L_"] {
            let mut msg = b"bloom/surname\x002012\x1f".to_vec();
            msg.extend_from_slice(bigram.as_bytes());
            // The tokeniser's value is everything after the domain and its NUL.
            let tag = t.token("bloom/surname", &msg[b"bloom/surname\x00".len()..]);
            let h1 = u64::from_le_bytes(tag[..8].try_into().unwrap());
            let h2 = u64::from_le_bytes(tag[8..].try_into().unwrap()) | 1;
            for j in 0..20u64 {
                let i = (h1.wrapping_add(j.wrapping_mul(h2)) % 1024) as usize;
                want[i / 8] |= 1 << (i % 8);
            }
        }
        assert_eq!(encoder().encode("surname", "2012", "AL"), want);
        // Each bigram sets 20 distinct bits; three bigrams at most 60.
        let ones: u32 = want.iter().map(|b| b.count_ones()).sum();
        assert!((20..=60).contains(&ones), "{ones}");
    }

    #[test]
    fn the_salt_and_the_field_change_the_encoding() {
        let mut e = encoder();
        let a = e.encode("forename", "2012", "AMY");
        assert_ne!(a, e.encode("forename", "2013", "AMY"));
        assert_ne!(a, e.encode("forename", "", "AMY"));
        assert_ne!(a, e.encode("surname", "2012", "AMY"));
        assert!(dice(&a, &e.encode("forename", "2013", "AMY")) < 0.4);
    }

    #[test]
    fn dice_scores_spellings_high_and_strangers_low() {
        let mut e = encoder();
        let mut f = |s: &str| e.encode("forename", "2012", s);
        let (kath, cath) = (f("KATHERINE"), f("CATHERINE"));
        assert_eq!(dice(&kath, &kath), 1.0);
        assert!(dice(&kath, &cath) > 0.6, "{}", dice(&kath, &cath));
        assert_eq!(dice(&kath, &cath), dice(&cath, &kath));
        assert!(dice(&f("JONATHAN"), &f("JONATHON")) > 0.6);
        for (a, b) in [("KATHERINE", "MOHAMMED"), ("AMY", "ROBERT"), ("WILLIAM", "SOPHIE"), ("JACK", "OLIVIA")] {
            let d = dice(&f(a), &f(b));
            assert!(d < 0.4, "{a} {b} {d}");
        }
        let empty = [0u8; BLOOM_BYTES];
        assert_eq!(dice(&empty, &empty), 0.0);
        assert_eq!(dice(&empty, &kath), 0.0);
    }

    #[test]
    fn debug_shows_no_bigram() {
        let mut e = encoder();
        e.encode("forename", "2012", "ZEPHYRINE");
        let shown = format!("{e:?}");
        assert!(!shown.contains("ZE") && !shown.contains("2012"), "{shown}");
    }
}
