//! [`KeyId`]: a public, non-reversible fingerprint of a master key.

use std::fmt;

use ring::hmac;

use crate::derive::{INFO_KEY_ID, Prk};
use crate::hexfmt::push_lower_hex;

/// A public fingerprint of a master key: 16 lowercase hex characters.
///
/// Record it next to every output (manifests, audit entries) so a reader can
/// tell which key produced a pseudonym without ever seeing the key.
///
/// It is the first 8 bytes of `HMAC-SHA256(k, b"key-id")` where `k` is
/// derived from the master with HKDF (`info = "tellonce/v1/key-id"`). It is
/// not a plain hash of the master, so it cannot be used to test guesses of
/// the master against any other published value, and it reveals nothing about
/// the keys used for pseudonyms.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct KeyId(String);

impl KeyId {
    /// Computes the key id from the HKDF pseudorandom key.
    pub(crate) fn derive(prk: &Prk) -> KeyId {
        let key = prk.hmac_key(&[INFO_KEY_ID.as_bytes()]);
        let tag = hmac::sign(&key, b"key-id");
        let mut s = String::with_capacity(16);
        push_lower_hex(tag.as_ref().get(..8).unwrap_or_default(), &mut s);
        KeyId(s)
    }

    /// The 16 lowercase hex characters.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyId({})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sixteen_lower_hex_and_not_a_plain_hash() {
        let master = [5u8; 32];
        let id = KeyId::derive(&Prk::extract(&master));
        assert_eq!(id.as_str().len(), 16);
        assert!(id.as_str().bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
        let plain = ring::digest::digest(&ring::digest::SHA256, &master);
        assert!(!hex::encode(plain.as_ref()).starts_with(id.as_str()));
        assert_eq!(id.to_string(), id.as_str());
        assert_eq!(format!("{id:?}"), format!("KeyId({id})"));
    }
}
