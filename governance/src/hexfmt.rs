//! Small lowercase-hex helpers used on hot paths (no `format!`).

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Appends the lowercase hex of `bytes` to `out`.
#[inline]
pub(crate) fn push_lower_hex(bytes: &[u8], out: &mut String) {
    out.reserve(bytes.len() * 2);
    for &b in bytes {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 0x0f)]));
    }
}

/// Overwrites a buffer that held key material with zeros.
///
/// Best effort: `black_box` keeps the compiler from removing the writes as
/// dead stores, but copies made elsewhere (e.g. inside `ring`) are not wiped.
pub(crate) fn wipe(buf: &mut [u8]) {
    buf.fill(0);
    std::hint::black_box(buf);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_hex_crate() {
        let bytes: Vec<u8> = (0..=255).collect();
        let mut s = String::from("x");
        push_lower_hex(&bytes, &mut s);
        assert_eq!(s, format!("x{}", hex::encode(&bytes)));
    }
}
