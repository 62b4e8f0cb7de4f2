//! Identifier types with their checks and normal forms.
//!
//! Each module validates one identifier and returns its canonical form, the form that is hashed:
//! the same person written two ways by two partners must give the same token.

pub mod dates;
pub mod names;
pub mod nhs;
pub mod nicknames;
pub mod phonetic;
pub mod pnc;
pub mod postcode;
pub mod upn;
pub mod uprn;

/// The check alphabet shared by UPN and PNC ID check characters (I, O and S left out).
const MOD23_LETTERS: &[u8; 23] = b"ABCDEFGHJKLMNPQRTUVWXYZ";
