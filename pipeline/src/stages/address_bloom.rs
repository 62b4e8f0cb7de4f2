//! The encodings of the first address line beyond its exact token. Its Bloom filter: the
//! bigrams of its checked form with spaces removed ("14 STANLEY STREET" and "14 STANLEYSTREET"
//! differ by one bigram), keyed like the name filters and unsalted (an address is shared by a
//! household, so a salt from the person would keep its members' filters apart for nothing). And
//! the token of its numbers: "60 CLARKE SQUARES" and "156 CLARKE SQUARES" are alike as bigrams
//! but two homes, which only the numbers tell.

use std::sync::Arc;

use arrow_array::builder::FixedSizeBinaryBuilder;
use arrow_array::{Array, ArrayRef, FixedSizeBinaryArray, StringArray};
use arrow_buffer::{Buffer, NullBuffer};
use tellonce_governance::Tokeniser;
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

/// The HMAC field of the address numbers' tokens.
const NUMBERS_FIELD: &str = "address_numbers";

/// One row's token of its address numbers; null where the address is, or holds no number.
pub(super) fn numbers_column(tokeniser: &Tokeniser, lines: &StringArray) -> Result<ArrayRef, PseudonymiseError> {
    let mut builder = FixedSizeBinaryBuilder::with_capacity(lines.len(), staging::TOKEN_BYTES);
    let mut preimage = String::new();
    for line in lines.iter() {
        match line.map(|l| numbers(l, &mut preimage)) {
            Some(true) => builder.append_value(tokeniser.token(NUMBERS_FIELD, preimage.as_bytes()))?,
            _ => builder.append_null(),
        }
    }
    Ok(Arc::new(builder.finish()))
}

/// Writes the numbers of an address line into `out`: each run of digits without its leading
/// zeros, with a letter straight after it that ends a word (`12A`, `12 A` is two words), in
/// capitals; sorted (a flat and a house number come in either order), without repeats, joined
/// by a unit separator. False when the line holds no number.
fn numbers(line: &str, out: &mut String) -> bool {
    // Digits and a suffix letter are ASCII, so the line is walked by bytes without copying it.
    let bytes = line.as_bytes();
    let mut found: Vec<(&str, Option<u8>)> = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if !bytes[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        let digits = line[start..i].trim_start_matches('0');
        let number = if digits.is_empty() { "0" } else { digits };
        // After an ASCII letter the next byte starts a character.
        let suffix_ends =
            |at: usize| line.get(at..).and_then(|r| r.chars().next()).is_none_or(|c| !c.is_alphanumeric());
        let suffix = bytes.get(i).copied().filter(|b| b.is_ascii_alphabetic() && suffix_ends(i + 1));
        if suffix.is_some() {
            i += 1;
        }
        found.push((number, suffix.map(|b| b.to_ascii_uppercase())));
    }
    // In the order of the numbers as written (`120` before `12A`), as the token has been made.
    found.sort_by(|(a, x), (b, y)| a.bytes().chain(*x).cmp(b.bytes().chain(*y)));
    found.dedup();
    out.clear();
    for (k, (number, suffix)) in found.iter().enumerate() {
        if k > 0 {
            out.push('\u{1f}');
        }
        out.push_str(number);
        if let Some(b) = suffix {
            out.push(char::from(*b));
        }
    }
    !found.is_empty()
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
    fn the_numbers_of_a_line_tell_two_homes_of_one_street_apart() {
        let of = |line: &str| {
            let mut out = String::new();
            numbers(line, &mut out).then_some(out)
        };
        assert_eq!(of("60 Clarke Squares").as_deref(), Some("60"));
        assert_eq!(of("Flat 5, 24 Stewart House").as_deref(), of("24 Stewart House Flat 5").as_deref());
        assert_eq!(of("Flat 5, 24 Stewart House").as_deref(), Some("24\u{1f}5"));
        assert_eq!(of("12a High St").as_deref(), Some("12A"));
        assert_eq!(of("12 A High St").as_deref(), Some("12"), "a word on its own is no suffix");
        assert_eq!(of("12ab High St").as_deref(), Some("12"));
        assert_eq!(of("007 Bond St").as_deref(), Some("7"));
        assert_eq!(of("Rose Cottage"), None);
        assert_eq!(of("12A-120 Mill Lane").as_deref(), Some("120\u{1f}12A"));
        let keys = KeyRing::from_master([42u8; 32]).tokeniser(Purpose::Linkage);
        let col = numbers_column(
            &keys,
            &StringArray::from(vec![
                Some("60 Clarke Squares"),
                Some("60 CLARKE SQ"),
                Some("156 Clarke Squares"),
                Some("The Barn"),
                None,
            ]),
        )
        .unwrap();
        let col = col.as_any().downcast_ref::<FixedSizeBinaryArray>().unwrap();
        assert_eq!(col.value(0), col.value(1));
        assert_ne!(col.value(0), col.value(2));
        assert!(col.is_null(3) && col.is_null(4));
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
