//! The record references an input names, read in a first pass over it, so that its comparison
//! holds in memory only the records held that it can touch: against a large holding, the cost
//! of an extract then grows with the extract, not with everything held.
//!
//! The references are kept as a Bloom filter (a few bits each, however long the reference): a
//! reference the input does not name may pass it by chance, which only makes one more held
//! record load (it is then judged by its whole reference), and one it names always passes, so
//! the scope never leaves out a record the input names.

use arrow_array::cast::AsArray;
use tellonce_connectors::file_source::{FileSource, SourceError};
use tellonce_schemas::FeedSchema;

use super::held::RECORD_ID;
use super::id_table::hash;

/// Bits set per reference.
const PROBES: u64 = 3;
/// The smallest filter, in bits.
const MIN_BITS: u64 = 1 << 16;
/// The largest filter, in bits (16 MiB): an input so large that this gives few bits per
/// reference loads more of the holding by chance, and stays correct.
const MAX_BITS: u64 = 1 << 27;

/// The record references one input names.
#[derive(Debug, Clone)]
pub struct Scope {
    bits: Vec<u64>,
    /// The same for references of digits alone, by their digits without leading zeros (see
    /// [`super::zeros`]): a record held as `000123` is in the scope of an input naming `123`.
    bare: Vec<u64>,
    /// The references could not be read: the scope names every record (loads all held).
    all: bool,
    /// References added (a reference added twice counts twice).
    added: u64,
}

impl Scope {
    /// An empty scope sized for an input of `input_bytes`: a bit for every two bytes, which is
    /// tens of bits for a reference on a partner's line (a few in a hundred thousand others
    /// pass by chance) and still about eight for the shortest (a few in a hundred).
    pub fn sized_for(input_bytes: u64) -> Scope {
        Scope::with_bits(input_bytes / 2)
    }

    /// An empty scope of about `bits` bits (within the smallest and largest).
    fn with_bits(bits: u64) -> Scope {
        let bits = bits.clamp(MIN_BITS, MAX_BITS);
        let words = bits.div_ceil(64) as usize;
        Scope { bits: vec![0; words], bare: vec![0; words], all: false, added: 0 }
    }

    /// The references of `ids` (each read as validation reads it), with 16 bits each.
    pub fn of<'a>(ids: impl IntoIterator<Item = &'a str>) -> Scope {
        let ids: Vec<&str> = ids.into_iter().collect();
        let mut scope = Scope::with_bits(ids.len() as u64 * 16);
        ids.into_iter().for_each(|id| scope.add(id));
        scope
    }

    /// The references of every row of `file` (rows rejected at the source have none that can
    /// be read), whose size is `bytes`.
    /// Each is added by its `key` (the token, where the agreement shares only that).
    pub fn read(
        mut file: FileSource,
        feed: &FeedSchema,
        bytes: u64,
        key: &super::key::RecordKey,
    ) -> Result<Scope, SourceError> {
        let mut scope = Scope::sized_for(bytes);
        let column = feed.index_of(RECORD_ID);
        while let Some(raw) = file.next_batch()? {
            match column.and_then(|c| raw.batch.column(c).as_string_opt::<i32>()) {
                Some(ids) => ids.iter().flatten().for_each(|id| scope.add(&key.of(id))),
                // Not shaped as read (no text reference column): fail safe, every record held
                // is compared, as without a scope.
                None => scope.all = true,
            }
        }
        Ok(scope)
    }

    /// Adds a reference (read as validation reads it: [`tellonce_schemas::check::as_shown`]).
    pub fn add(&mut self, id: &str) {
        let shown = tellonce_schemas::check::as_shown(id);
        set(&mut self.bits, &shown);
        if let Some(bare) = super::zeros::bare(&shown) {
            set(&mut self.bare, bare);
        }
        self.added += 1;
    }

    /// Whether the input may name `id` (a stored reference, already trimmed), or, for digits,
    /// the same digits under other leading zeros: always when it does, and by chance, rarely,
    /// when it does not.
    pub fn may_name(&self, id: &str) -> bool {
        self.names_exactly(id) || super::zeros::bare(id).is_some_and(|b| is_set(&self.bare, b))
    }

    /// Whether the input may name `id` itself (not under other leading zeros).
    pub fn names_exactly(&self, id: &str) -> bool {
        self.all || is_set(&self.bits, id)
    }

    /// How many references were added.
    pub fn len(&self) -> u64 {
        self.added
    }

    /// Whether none was.
    pub fn is_empty(&self) -> bool {
        self.added == 0
    }
}

/// The bit positions of a reference in a filter of `words`.
fn probes(words: &[u64], id: &str) -> impl Iterator<Item = u64> + use<> {
    let h = hash(id);
    let (a, b) = (h, h.rotate_left(32) | 1);
    let bits = (words.len() as u64 * 64).max(1);
    (0..PROBES).map(move |i| a.wrapping_add(i.wrapping_mul(b)) % bits)
}

/// Sets the bits of `id` in the filter `words`.
fn set(words: &mut [u64], id: &str) {
    for p in probes(words, id) {
        if let Some(word) = words.get_mut((p / 64) as usize) {
            *word |= 1 << (p % 64);
        }
    }
}

/// Whether every bit of `id` is set in the filter `words`.
fn is_set(words: &[u64], id: &str) -> bool {
    probes(words, id).all(|p| words.get((p / 64) as usize).is_some_and(|w| w & (1 << (p % 64)) != 0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scope_names_every_reference_added_trimmed_and_few_others() {
        let ids: Vec<String> = (0..100_000).map(|i| format!("P{i}")).collect();
        let scope = Scope::of(ids.iter().map(String::as_str).chain([" Q1 ", "Q2\u{200b}", "\u{feff}Q3\0\0"]));
        assert!(ids.iter().all(|id| scope.may_name(id)) && ["Q1", "Q2", "Q3"].iter().all(|q| scope.may_name(q)));
        let by_chance = (0..100_000).filter(|i| scope.may_name(&format!("R{i}"))).count();
        // 16 bits and 3 probes a reference: about one in two hundred passes by chance.
        assert!(by_chance < 1_000, "{by_chance} of 100 000 others pass");
        // Sized for a file too small for its references: everything passes, nothing is lost.
        let mut small = Scope::sized_for(0);
        ids.iter().for_each(|id| small.add(id));
        assert!(ids.iter().all(|id| small.may_name(id)));
        assert_eq!(small.len(), 100_000);
    }

    #[test]
    fn digits_name_their_records_held_under_other_leading_zeros_but_not_exactly() {
        let scope = Scope::of(["123", "000045", "P007"]);
        assert!(scope.may_name("000123") && scope.may_name("45") && scope.may_name("0045"));
        assert!(!scope.names_exactly("000123") && scope.names_exactly("123"));
        // Letters keep their zeros.
        assert!(!scope.may_name("P7") && !scope.may_name("7"));
    }
}
