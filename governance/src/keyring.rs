//! [`KeyRing`]: the keys derived from one master key, and [`Purpose`].

use std::fmt;
use std::path::Path;

use crate::audit_mac::AuditSigner;
use crate::derive::{INFO_AUDIT, INFO_LINKAGE, INFO_QUARANTINE_AEAD, INFO_QUARANTINE_NONCE, INFO_RELEASE_PREFIX, Prk};
use crate::error::{KeyError, Result};
use crate::hexfmt::wipe;
use crate::key_id::KeyId;
use crate::keyfile::read_master;
use crate::seal::Sealer;
use crate::token::Tokeniser;

/// What a pseudonym is for; each purpose has its own derived key.
///
/// Tokens made for different purposes cannot be joined with each other.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Purpose {
    /// The hub's internal linkage index (`person_id`, `family_id`, match keys).
    /// The key never leaves the hub.
    Linkage,
    /// Output released to one recipient, named by a stable label (for example
    /// the agreement or recipient id). Two recipients with different labels
    /// get unlinkable tokens. The label is not secret; it is part of the key
    /// derivation (`info = "tellonce/v1/release/<label>"`), so it must be
    /// spelled the same way every time.
    Release(String),
}

/// The keys derived from one 32-byte master key.
///
/// The master key itself is not kept: the ring holds only keys derived with
/// HKDF-SHA256 (salt `"tellonce/v1"`, one `info` per purpose), ready to use.
/// `Debug` prints only the [`KeyId`]; the type is deliberately not
/// `Serialize` and has no accessor for key bytes.
pub struct KeyRing {
    /// HKDF pseudorandom key, kept to derive per-recipient release keys.
    prk: Prk,
    key_id: KeyId,
    linkage: Tokeniser,
    sealer: Sealer,
    audit: AuditSigner,
}

impl KeyRing {
    /// Loads the master key from a key file and derives the ring.
    ///
    /// Checks, in order: the file exists; on Unix, neither group nor others
    /// have any access (`mode & 0o077 == 0`); it can be read; after trimming
    /// trailing whitespace it is exactly 64 hex characters. The file's bytes
    /// are wiped from memory after decoding.
    ///
    /// # Errors
    ///
    /// [`KeyError::Missing`], [`KeyError::Permissions`],
    /// [`KeyError::Unreadable`] (also for a directory or other non-regular
    /// file), [`KeyError::Short`] for valid hex of fewer than 32 bytes, and
    /// [`KeyError::Malformed`] for anything else that is not 64 hex
    /// characters (non-hex, odd length, more than 32 bytes).
    pub fn load(path: &Path) -> Result<KeyRing> {
        let mut master = read_master(path)?;
        let ring = KeyRing::build(&master);
        wipe(&mut master);
        // `build` fails only if ring rejects a 32-byte AES-256 key, which
        // it does not; report it as a bad key rather than panic.
        ring.map_err(|_| KeyError::Malformed { path: path.to_path_buf() })
    }

    /// Derives the ring from a master key held in memory.
    ///
    /// For tests and the synthetic data generator; deployments use
    /// [`load`](Self::load) so that the key lives in a protected file.
    ///
    /// # Panics
    ///
    /// Never in practice: the only fallible step is `ring` accepting a
    /// 32-byte AES-256-GCM key, which it always does. The branch exists
    /// because `ring`'s constructor returns a `Result`.
    pub fn from_master(master: [u8; 32]) -> KeyRing {
        let mut master = master;
        let ring = KeyRing::build(&master);
        wipe(&mut master);
        match ring {
            Ok(ring) => ring,
            Err(_) => unreachable!("ring rejected a 32-byte AES-256-GCM key"),
        }
    }

    fn build(master: &[u8; 32]) -> Result<KeyRing, ring::error::Unspecified> {
        let prk = Prk::extract(master);
        let key_id = KeyId::derive(&prk);
        let linkage = Tokeniser::new(prk.hmac_key(&[INFO_LINKAGE.as_bytes()]), Purpose::Linkage);
        let mut aead_key = prk.expand(&[INFO_QUARANTINE_AEAD.as_bytes()]);
        let sealer = Sealer::new(&aead_key, prk.hmac_key(&[INFO_QUARANTINE_NONCE.as_bytes()]));
        wipe(&mut aead_key);
        let audit = AuditSigner::new(prk.hmac_key(&[INFO_AUDIT.as_bytes()]));
        Ok(KeyRing { prk, key_id, linkage, sealer: sealer?, audit })
    }

    /// The public fingerprint of the master key; record it with outputs.
    pub fn key_id(&self) -> &KeyId {
        &self.key_id
    }

    /// A tokeniser for `purpose`.
    ///
    /// The linkage tokeniser is prepared once, when the ring is made; a
    /// release tokeniser's key is derived on each call, so make it once per
    /// release and reuse it.
    pub fn tokeniser(&self, purpose: Purpose) -> Tokeniser {
        match purpose {
            Purpose::Linkage => self.linkage.clone(),
            Purpose::Release(label) => {
                let key = self.prk.hmac_key(&[INFO_RELEASE_PREFIX.as_bytes(), label.as_bytes()]);
                Tokeniser::new(key, Purpose::Release(label))
            }
        }
    }

    /// The quarantine sealer (AES-256-GCM with deterministic nonces).
    pub fn sealer(&self) -> Sealer {
        self.sealer.clone()
    }

    /// The audit-log signer (HMAC-SHA256 under the audit key).
    pub fn audit_signer(&self) -> AuditSigner {
        self.audit.clone()
    }
}

impl fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyRing").field("key_id", &self.key_id).finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn key_ring_is_send_sync() {
        assert_send_sync::<KeyRing>();
    }

    #[test]
    fn key_id_depends_on_master_only() {
        let a = KeyRing::from_master([1u8; 32]);
        assert_eq!(a.key_id(), KeyRing::from_master([1u8; 32]).key_id());
        assert_ne!(a.key_id(), KeyRing::from_master([2u8; 32]).key_id());
    }

    #[test]
    fn debug_output_holds_no_key_material() {
        let master = [0xabu8; 32];
        let ring = KeyRing::from_master(master);
        let prk = Prk::extract(&master);
        let mut secrets = vec![hex::encode(master), hex::encode(&master[..8])];
        for info in [INFO_LINKAGE, INFO_QUARANTINE_AEAD, INFO_QUARANTINE_NONCE, INFO_AUDIT, "tellonce/v1/release/r1"] {
            secrets.push(hex::encode(&prk.expand(&[info.as_bytes()])[..8]));
        }
        let outputs = [
            format!("{ring:?}"),
            format!("{ring:#?}"),
            format!("{:?}", ring.tokeniser(Purpose::Linkage)),
            format!("{:?}", ring.tokeniser(Purpose::Release("r1".into()))),
            format!("{:?}", ring.sealer()),
            format!("{:?}", ring.audit_signer()),
        ];
        for out in &outputs {
            for secret in &secrets {
                assert!(!out.contains(secret.as_str()), "{out}");
            }
            // No byte arrays or long hex runs at all.
            assert!(!out.contains("171, 171"), "{out}");
            assert!(!out.contains("0xab"), "{out}");
        }
        assert_eq!(outputs[0], format!("KeyRing {{ key_id: KeyId({}), .. }}", ring.key_id()));
        assert_eq!(outputs[2], "Tokeniser { purpose: Linkage, .. }");
        assert_eq!(outputs[3], r#"Tokeniser { purpose: Release("r1"), .. }"#);
        assert_eq!(outputs[4], r#"Sealer { algorithm: "AES-256-GCM", .. }"#);
        assert_eq!(outputs[5], "AuditSigner { .. }");
    }
}
