//! Key ring and pseudonymisation primitives for tellonce.
//!
//! One 32-byte master key, kept in a file readable only by its owner, is the
//! root of every secret in a deployment. [`KeyRing`] derives from it, with
//! HKDF-SHA256 and a distinct label per purpose:
//!
//! * [`Tokeniser`]s: keyed HMAC pseudonyms for identifiers, one key for the
//!   internal linkage index ([`Purpose::Linkage`]) and one per release
//!   recipient ([`Purpose::Release`]), so released datasets cannot be joined
//!   with each other or with the index; under the same key, [`BloomEncoder`]s
//!   make keyed Bloom filters of names for approximate comparison ([`bloom`]);
//! * a [`Sealer`]: authenticated encryption of quarantined raw records;
//! * an [`AuditSigner`]: HMAC tags for the tamper-evident audit log;
//! * a [`KeyId`]: a public fingerprint to record with every output.
//!
//! Pseudonymised data is still personal data (ICO): these keys are what
//! keeps the pseudonyms from being reversed by enumeration, so they must
//! never leave the hub. No type here prints, serialises or exposes key bytes,
//! and no error carries them.
//!
//! # Example
//!
//! ```
//! use tellonce_governance::{KeyRing, Purpose};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = tempfile::tempdir()?;
//! let path = dir.path().join("master.key");
//! let id = tellonce_governance::create_key_file(&path)?;
//! let ring = KeyRing::load(&path)?;
//! assert_eq!(ring.key_id(), &id);
//!
//! let tokens = ring.tokeniser(Purpose::Linkage);
//! let mut pseudonym = String::new();
//! tokens.push_hex("nhs_number", b"9434765919", &mut pseudonym);
//! assert_eq!(pseudonym.len(), 32);
//!
//! let sealer = ring.sealer();
//! let sealed = sealer.seal(b"feed=camhs;line=7", b"raw record");
//! assert_eq!(sealer.open(b"feed=camhs;line=7", &sealed)?, b"raw record");
//! # Ok(())
//! # }
//! ```

pub mod agreement;
pub mod audit;
mod audit_mac;
pub mod bloom;
mod derive;
mod error;
pub mod fold_hash;
mod hexfmt;
mod key_id;
mod keyfile;
mod keyring;
mod seal;
mod token;

pub use audit_mac::AuditSigner;
pub use bloom::{BloomEncoder, BloomFilter, bigrams_apart, dice};
pub use error::{KeyError, Result, SealError};
pub use fold_hash::{FoldBuildHasher, FoldHasher};
pub use key_id::KeyId;
pub use keyfile::{MIN_DISTINCT_KEY_BYTES, create_key_file};
pub use keyring::{KeyRing, Purpose};
pub use seal::Sealer;
pub use token::Tokeniser;
