//! [`Sealer`]: deterministic authenticated encryption for the quarantine store.

use std::fmt;

use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::hmac;

use crate::error::SealError;

/// Length of the authentication tag appended by AES-256-GCM.
const TAG_LEN: usize = 16;

/// Encrypts and authenticates quarantined raw records (AES-256-GCM).
///
/// # Deterministic, SIV-like nonces
///
/// The nonce is not random: it is the first 12 bytes of
/// `HMAC-SHA256(nonce_key, len(aad) as u64 LE || aad || plaintext)`, under a
/// key derived separately from the encryption key. This follows the idea of
/// SIV modes (RFC 5297, AES-GCM-SIV), where the IV is a keyed function of
/// the input:
///
/// * **Replays are idempotent.** The same `(aad, plaintext)` always seals to
///   the same bytes, so a run replayed after a crash rewrites identical
///   quarantine files instead of producing different ones (output names and
///   contents are deterministic from the input, as everywhere in the
///   pipeline).
/// * **No nonce bookkeeping.** Any number of ingest instances can seal
///   without a shared counter. Distinct inputs get distinct nonces unless a
///   96-bit PRF output collides: about `n² / 2^97` for `n` records, i.e.
///   about 2^-33 after 2^32 records. Nonce reuse with *different* inputs is
///   what breaks GCM; reuse with identical inputs only repeats identical
///   output.
/// * **What it reveals:** that two sealed records have identical `aad` and
///   plaintext. For quarantine files that is harmless, since the same input
///   record in the same context is the only way to get it.
///
/// The length prefix makes the split between `aad` and `plaintext`
/// unambiguous. Put the context (feed, source, record position) in `aad`:
/// it is authenticated but not encrypted, and [`open`](Self::open) needs it.
///
/// Output layout: `nonce (12) || ciphertext (len(plaintext)) || tag (16)`.
///
/// `Debug` prints no key material. `Clone` copies the expanded keys.
#[derive(Clone)]
pub struct Sealer {
    aead: LessSafeKey,
    nonce_key: hmac::Key,
}

impl Sealer {
    /// Builds a sealer from a 32-byte AES key and an HMAC key for nonces.
    ///
    /// `ring` only rejects AES-256-GCM keys of the wrong length, which a
    /// `[u8; 32]` cannot be; the error is still returned rather than unwrapped.
    pub(crate) fn new(aead_key: &[u8; 32], nonce_key: hmac::Key) -> Result<Sealer, ring::error::Unspecified> {
        let unbound = UnboundKey::new(&AES_256_GCM, aead_key)?;
        Ok(Sealer { aead: LessSafeKey::new(unbound), nonce_key })
    }

    fn nonce(&self, aad: &[u8], plaintext: &[u8]) -> [u8; NONCE_LEN] {
        let mut ctx = hmac::Context::with_key(&self.nonce_key);
        ctx.update(&(aad.len() as u64).to_le_bytes());
        ctx.update(aad);
        ctx.update(plaintext);
        let tag = ctx.sign();
        let mut nonce = [0u8; NONCE_LEN];
        for (n, t) in nonce.iter_mut().zip(tag.as_ref()) {
            *n = *t;
        }
        nonce
    }

    /// Deterministic authenticated encryption: nonce = first 12 bytes of
    /// HMAC(nonce_key, len(aad) as u64 LE || aad || plaintext); output =
    /// nonce || ciphertext || tag.
    ///
    /// The same `(aad, plaintext)` always gives the same bytes; see the
    /// [type documentation](Sealer) for why this is safe.
    ///
    /// # Panics
    ///
    /// Only if `plaintext` exceeds AES-GCM's limit of about 64 GiB per
    /// message, the one case in which `ring` refuses to seal. Quarantine
    /// records are single input records, many orders of magnitude smaller.
    pub fn seal(&self, aad: &[u8], plaintext: &[u8]) -> Vec<u8> {
        let nonce = self.nonce(aad, plaintext);
        let mut out = Vec::with_capacity(NONCE_LEN + plaintext.len() + TAG_LEN);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(plaintext);
        match self.aead.seal_in_place_separate_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(aad),
            &mut out[NONCE_LEN..],
        ) {
            Ok(tag) => out.extend_from_slice(tag.as_ref()),
            Err(_) => panic!("cannot seal a {}-byte record: larger than the AES-GCM message limit", plaintext.len()),
        }
        out
    }

    /// Checks and decrypts the output of [`seal`](Self::seal) made with the
    /// same key and the same `aad`.
    ///
    /// # Errors
    ///
    /// [`SealError::Truncated`] if `sealed` is shorter than a nonce plus a
    /// tag; [`SealError::Open`] if authentication fails (changed bytes, other
    /// `aad`, other key).
    pub fn open(&self, aad: &[u8], sealed: &[u8]) -> Result<Vec<u8>, SealError> {
        if sealed.len() < NONCE_LEN + TAG_LEN {
            return Err(SealError::Truncated);
        }
        let Some((nonce, rest)) = sealed.split_first_chunk::<NONCE_LEN>() else {
            return Err(SealError::Truncated);
        };
        let mut buf = rest.to_vec();
        let plain_len = self
            .aead
            .open_in_place(Nonce::assume_unique_for_key(*nonce), Aad::from(aad), &mut buf)
            .map_err(|_| SealError::Open)?
            .len();
        buf.truncate(plain_len);
        Ok(buf)
    }
}

impl fmt::Debug for Sealer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sealer").field("algorithm", &"AES-256-GCM").finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use crate::{KeyRing, SealError, Sealer};

    fn sealer() -> Sealer {
        KeyRing::from_master([8u8; 32]).sealer()
    }

    fn assert_send_sync_clone<T: Send + Sync + Clone>() {}

    #[test]
    fn sealer_is_send_sync_clone() {
        assert_send_sync_clone::<Sealer>();
    }

    #[test]
    fn round_trip() {
        let s = sealer();
        let sealed = s.seal(b"feed=camhs;line=12", b"raw,record,with,NHS 943 476 5919");
        assert_eq!(sealed.len(), 12 + 32 + 16);
        assert_eq!(s.open(b"feed=camhs;line=12", &sealed).unwrap(), b"raw,record,with,NHS 943 476 5919");
        // Empty plaintext and empty aad work too.
        let empty = s.seal(b"", b"");
        assert_eq!(empty.len(), 28);
        assert_eq!(s.open(b"", &empty).unwrap(), b"");
    }

    #[test]
    fn ciphertext_hides_plaintext() {
        let sealed = sealer().seal(b"aad", b"9434765919 9434765919");
        assert!(!sealed.windows(10).any(|w| w == b"9434765919"));
    }

    #[test]
    fn deterministic_and_distinct() {
        let s = sealer();
        let a = s.seal(b"ctx", b"record one");
        assert_eq!(a, s.seal(b"ctx", b"record one"));
        assert_eq!(a, s.clone().seal(b"ctx", b"record one"));
        assert_eq!(a, KeyRing::from_master([8u8; 32]).sealer().seal(b"ctx", b"record one"));
        let b = s.seal(b"ctx", b"record two");
        let c = s.seal(b"ctx2", b"record one");
        // Moving bytes between aad and plaintext changes the nonce.
        let d = s.seal(b"ctxr", b"ecord one");
        let nonces = [&a[..12], &b[..12], &c[..12], &d[..12]];
        for i in 0..nonces.len() {
            for j in i + 1..nonces.len() {
                assert_ne!(nonces[i], nonces[j]);
            }
        }
        // Another key: other bytes.
        assert_ne!(a, KeyRing::from_master([9u8; 32]).sealer().seal(b"ctx", b"record one"));
    }

    #[test]
    fn tamper_detection() {
        let s = sealer();
        let sealed = s.seal(b"ctx", b"some raw record");
        for i in 0..sealed.len() {
            let mut bad = sealed.clone();
            bad[i] ^= 0x01;
            assert_eq!(s.open(b"ctx", &bad), Err(SealError::Open), "byte {i}");
        }
        assert_eq!(s.open(b"ctX", &sealed), Err(SealError::Open));
        assert_eq!(s.open(b"", &sealed), Err(SealError::Open));
        let other = KeyRing::from_master([9u8; 32]).sealer();
        assert_eq!(other.open(b"ctx", &sealed), Err(SealError::Open));
        // Dropping the last byte leaves it long enough but unauthentic.
        assert_eq!(s.open(b"ctx", &sealed[..sealed.len() - 1]), Err(SealError::Open));
    }

    #[test]
    fn truncated_input() {
        let s = sealer();
        let sealed = s.seal(b"ctx", b"");
        assert_eq!(s.open(b"ctx", &sealed[..27]), Err(SealError::Truncated));
        assert_eq!(s.open(b"ctx", &sealed[..11]), Err(SealError::Truncated));
        assert_eq!(s.open(b"ctx", b""), Err(SealError::Truncated));
    }

    #[test]
    fn error_messages() {
        assert!(SealError::Open.to_string().contains("authentication"));
        assert!(SealError::Truncated.to_string().contains("truncated"));
    }
}
