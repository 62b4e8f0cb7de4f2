//! [`AuditSigner`]: HMAC-SHA256 tags for the tamper-evident audit log.

use std::fmt;

use ring::hmac;

/// Signs and verifies audit-log entries with HMAC-SHA256 under the audit key
/// (derived from the master with `info = "tellonce/v1/audit"`).
///
/// Verification uses `ring::hmac::verify`, which compares in constant time.
/// `Debug` prints no key material.
#[derive(Clone)]
pub struct AuditSigner {
    key: hmac::Key,
}

impl AuditSigner {
    pub(crate) fn new(key: hmac::Key) -> AuditSigner {
        AuditSigner { key }
    }

    /// The 32-byte HMAC-SHA256 tag of `data`.
    pub fn sign(&self, data: &[u8]) -> [u8; 32] {
        let tag = hmac::sign(&self.key, data);
        let mut out = [0u8; 32];
        for (o, t) in out.iter_mut().zip(tag.as_ref()) {
            *o = *t;
        }
        out
    }

    /// Whether `tag` is the HMAC of `data` under this key (constant-time check).
    pub fn verify(&self, data: &[u8], tag: &[u8]) -> bool {
        hmac::verify(&self.key, data, tag).is_ok()
    }
}

impl fmt::Debug for AuditSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuditSigner").finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use crate::KeyRing;

    #[test]
    fn sign_and_verify() {
        let ring = KeyRing::from_master([6u8; 32]);
        let signer = ring.audit_signer();
        let entry = br#"{"seq":1,"prev":"00","event":"ingest"}"#;
        let tag = signer.sign(entry);
        assert_eq!(tag, signer.sign(entry));
        assert!(signer.verify(entry, &tag));
        assert!(signer.clone().verify(entry, &tag));

        let mut bad_tag = tag;
        bad_tag[31] ^= 1;
        assert!(!signer.verify(entry, &bad_tag));
        assert!(!signer.verify(br#"{"seq":2,"prev":"00","event":"ingest"}"#, &tag));
        assert!(!signer.verify(entry, &tag[..16]));
        assert!(!signer.verify(entry, &[]));
        let other = KeyRing::from_master([7u8; 32]).audit_signer();
        assert!(!other.verify(entry, &tag));
    }

    #[test]
    fn audit_key_differs_from_linkage_key() {
        let ring = KeyRing::from_master([6u8; 32]);
        let tag = ring.audit_signer().sign(b"nhs_number\x009434765919");
        let token = ring.tokeniser(crate::Purpose::Linkage).token("nhs_number", b"9434765919");
        assert_ne!(&tag[..16], token.as_slice());
    }
}
