//! HKDF-SHA256 (RFC 5869) key derivation from the 32-byte master key.
//!
//! Every purpose gets its own `info` string, so keys for different purposes
//! are independent: knowing one derived key reveals nothing about another or
//! about the master.
//!
//! The derivation is computed with `ring::hmac` following RFC 5869 exactly:
//! `PRK = HMAC(salt, master)` (extract) and, because every output is one
//! SHA-256 block long, `OKM = HMAC(PRK, info || 0x01)` (expand). This gives
//! the same bytes as `ring::hkdf` (a unit test checks this for every `info`)
//! but cannot fail, whereas `ring::hkdf::Prk::expand` returns a `Result` for
//! output lengths that we never ask for. That keeps key derivation free of
//! panicking paths.

use ring::hmac;

use crate::hexfmt::wipe;

/// HKDF salt, fixed for format version 1.
pub(crate) const SALT: &[u8] = b"tellonce/v1";
/// `info` for the linkage pseudonymisation key.
pub(crate) const INFO_LINKAGE: &str = "tellonce/v1/linkage";
/// `info` prefix for per-recipient release pseudonymisation keys.
pub(crate) const INFO_RELEASE_PREFIX: &str = "tellonce/v1/release/";
/// `info` for the quarantine AES-256-GCM key.
pub(crate) const INFO_QUARANTINE_AEAD: &str = "tellonce/v1/quarantine/aead";
/// `info` for the quarantine nonce-derivation HMAC key.
pub(crate) const INFO_QUARANTINE_NONCE: &str = "tellonce/v1/quarantine/nonce";
/// `info` for the audit-log HMAC key.
pub(crate) const INFO_AUDIT: &str = "tellonce/v1/audit";
/// `info` for the key that computes the public key id.
pub(crate) const INFO_KEY_ID: &str = "tellonce/v1/key-id";

/// The HKDF pseudorandom key (output of HKDF-Extract), held as a ready
/// `hmac::Key`. It is derived from, but is not, the master key.
#[derive(Clone)]
pub(crate) struct Prk(hmac::Key);

impl Prk {
    /// HKDF-Extract with the fixed [`SALT`].
    pub(crate) fn extract(master: &[u8; 32]) -> Prk {
        let salt = hmac::Key::new(hmac::HMAC_SHA256, SALT);
        let prk = hmac::sign(&salt, master);
        Prk(hmac::Key::new(hmac::HMAC_SHA256, prk.as_ref()))
    }

    /// HKDF-Expand to 32 bytes for `info` given as the concatenation of `parts`.
    pub(crate) fn expand(&self, parts: &[&[u8]]) -> [u8; 32] {
        let mut ctx = hmac::Context::with_key(&self.0);
        for part in parts {
            ctx.update(part);
        }
        // Block counter of the first (and only) HKDF-Expand block.
        ctx.update(&[0x01]);
        let tag = ctx.sign();
        let mut okm = [0u8; 32];
        for (o, t) in okm.iter_mut().zip(tag.as_ref()) {
            *o = *t;
        }
        okm
    }

    /// Derives an HMAC-SHA256 key for `info` given as the concatenation of `parts`.
    pub(crate) fn hmac_key(&self, parts: &[&[u8]]) -> hmac::Key {
        let mut okm = self.expand(parts);
        let key = hmac::Key::new(hmac::HMAC_SHA256, &okm);
        wipe(&mut okm);
        key
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ring::hkdf;

    fn ring_hkdf(master: &[u8; 32], info: &[u8]) -> [u8; 32] {
        let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, SALT).extract(master);
        let info = [info];
        let okm = prk.expand(&info, hkdf::HKDF_SHA256).unwrap();
        let mut out = [0u8; 32];
        okm.fill(&mut out).unwrap();
        out
    }

    #[test]
    fn matches_ring_hkdf_for_every_info() {
        let master: [u8; 32] = core::array::from_fn(|i| i as u8 * 7 + 3);
        let prk = Prk::extract(&master);
        for info in [
            INFO_LINKAGE,
            "tellonce/v1/release/recipient-a",
            "tellonce/v1/release/",
            INFO_QUARANTINE_AEAD,
            INFO_QUARANTINE_NONCE,
            INFO_AUDIT,
            INFO_KEY_ID,
        ] {
            assert_eq!(prk.expand(&[info.as_bytes()]), ring_hkdf(&master, info.as_bytes()), "{info}");
        }
        // Split parts are the concatenation.
        assert_eq!(
            prk.expand(&[INFO_RELEASE_PREFIX.as_bytes(), b"abc"]),
            ring_hkdf(&master, b"tellonce/v1/release/abc")
        );
    }

    #[test]
    fn distinct_infos_give_distinct_keys() {
        let prk = Prk::extract(&[9u8; 32]);
        let a = prk.expand(&[INFO_LINKAGE.as_bytes()]);
        let b = prk.expand(&[INFO_AUDIT.as_bytes()]);
        assert_ne!(a, b);
    }
}
