//! The Bloom filter of the first address line: the bigrams of its checked form with spaces
//! removed ("14 STANLEY STREET" and "14 STANLEYSTREET" differ by one bigram), keyed like the
//! name filters and unsalted (an address is shared by a household, so a salt from the person
//! would keep its members' filters apart for nothing).

use std::sync::Arc;

use arrow_array::{Array, ArrayRef, FixedSizeBinaryArray, StringArray};
use arrow_buffer::{Buffer, NullBuffer};
use tellonce_governance::bloom::BloomEncoder;
use tellonce_schemas::staging;

use super::pseudonymise::PseudonymiseError;

/// The HMAC field of the address filters.
const FIELD: &str = "address_line_1";

/// One row's filter per address; null where the address is.
pub(super) fn column(encoder: &mut BloomEncoder, lines: &StringArray) -> Result<ArrayRef, PseudonymiseError> {
    const WIDTH: usize = tellonce_governance::bloom::BLOOM_BYTES;
    let mut values = vec![0u8; lines.len() * WIDTH];
    let mut valid = vec![false; lines.len()];
    let mut squeezed = String::new();
    for (i, line) in lines.iter().enumerate() {
        let Some(line) = line else { continue };
        squeezed.clear();
        squeezed.extend(line.chars().filter(|c| !c.is_whitespace()));
        let (false, Some(slot)) = (squeezed.is_empty(), values.get_mut(i * WIDTH..(i + 1) * WIDTH)) else {
            continue;
        };
        let Ok(filter) = <&mut [u8; WIDTH]>::try_from(slot) else { continue };
        encoder.encode_into(FIELD, "", &squeezed, filter);
        valid[i] = true;
    }
    let array =
        FixedSizeBinaryArray::try_new(staging::BLOOM_BYTES, Buffer::from_vec(values), Some(NullBuffer::from(valid)))?;
    Ok(Arc::new(array))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tellonce_governance::{KeyRing, Purpose, dice};

    fn filters(lines: &[Option<&str>]) -> FixedSizeBinaryArray {
        let mut enc = KeyRing::from_master([42u8; 32]).tokeniser(Purpose::Linkage).bloom_encoder();
        let col = column(&mut enc, &StringArray::from(lines.to_vec())).unwrap();
        col.as_any().downcast_ref::<FixedSizeBinaryArray>().unwrap().clone()
    }

    #[test]
    fn a_slipped_space_changes_nothing_and_a_typo_little() {
        let f = filters(&[Some("14 STANLEY STREET"), Some("14 STANLEYSTREET"), Some("14 STANLEY STRET"), None]);
        let at = |i: usize| -> [u8; 128] { f.value(i).try_into().unwrap() };
        assert_eq!(at(0), at(1));
        let typo = dice(&at(0), &at(2));
        assert!(typo > 0.8 && typo < 1.0, "{typo}");
        let other = filters(&[Some("3 MILL LANE")]);
        assert!(dice(&at(0), &other.value(0).try_into().unwrap()) < 0.5);
        assert!(f.is_null(3) && f.is_valid(0));
    }
}
