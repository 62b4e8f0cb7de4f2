//! Error types for the key ring and the quarantine sealer.
//!
//! Every [`KeyError`] names the key file and the rule it broke, and never
//! carries key bytes, so it is safe to log and to show to an operator.

use std::io;
use std::path::PathBuf;

/// A problem with a key file: finding it, reading it, checking it or creating it.
///
/// Variants carry the key file's path and the rule that was broken. They
/// never hold key material, so the `Display` and `Debug` output of this type
/// may be written to logs.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The key file does not exist.
    #[error(
        "key file {} does not exist; check the configured key path (creating a new key would change every pseudonym)",
        path.display()
    )]
    Missing {
        /// The path that was looked up.
        path: PathBuf,
    },

    /// The key file exists but could not be opened or read.
    ///
    /// The operating system's reason is available through
    /// [`std::error::Error::source`].
    #[error("cannot read key file {}", path.display())]
    Unreadable {
        /// The key file.
        path: PathBuf,
        /// The underlying I/O error.
        source: io::Error,
    },

    /// The key file can be read or written by its group or by others
    /// (`mode & 0o077 != 0`).
    #[error(
        "key file {} can be read or written by group or others (mode {:04o}); run chmod 600 {}",
        path.display(),
        mode,
        path.display()
    )]
    Permissions {
        /// The key file.
        path: PathBuf,
        /// The file's permission bits (`mode & 0o7777`).
        mode: u32,
    },

    /// The key file holds valid hex for fewer than 32 bytes.
    #[error(
        "key file {} holds a key of only {bytes} bytes; a key must be 32 bytes (64 hex characters)",
        path.display()
    )]
    Short {
        /// The key file.
        path: PathBuf,
        /// How many bytes the hex content decoded to.
        bytes: usize,
    },

    /// The key file is not exactly 64 hex characters (plus optional trailing
    /// whitespace).
    #[error(
        "key file {} is malformed; it must hold exactly 64 hex characters (a 32-byte key) and optionally a trailing newline",
        path.display()
    )]
    Malformed {
        /// The key file.
        path: PathBuf,
    },

    /// The key file holds 32 bytes that cannot have come from a random generator: one byte
    /// repeated (all zeros), or a short pattern (fewer than
    /// [`MIN_DISTINCT_KEY_BYTES`](crate::MIN_DISTINCT_KEY_BYTES) distinct byte values).
    /// Such a key is a placeholder or a typing exercise, and tokens under it can be recomputed by
    /// anyone who guesses it.
    #[error(
        "key file {} holds a degenerate key ({distinct} distinct byte value(s) in 32; a random key has about 30); make one with `tellonce keys new`",
        path.display()
    )]
    Degenerate {
        /// The key file.
        path: PathBuf,
        /// How many distinct byte values the key has.
        distinct: usize,
    },

    /// [`create_key_file`](crate::create_key_file) found a file already at the path.
    #[error(
        "key file {} already exists; refusing to overwrite it (replacing a key changes every pseudonym)",
        path.display()
    )]
    Exists {
        /// The existing file.
        path: PathBuf,
    },

    /// [`create_key_file`](crate::create_key_file) could not create, write or
    /// sync the key file or its parent directories.
    ///
    /// The operating system's reason is available through
    /// [`std::error::Error::source`].
    #[error("cannot create key file {}", path.display())]
    Create {
        /// The key file that was being created.
        path: PathBuf,
        /// The underlying I/O error.
        source: io::Error,
    },
}

/// A sealed quarantine record could not be opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    /// Authentication failed: the data was changed or corrupted, or it was
    /// sealed under another key or with other associated data.
    #[error("sealed data failed authentication (corrupted, changed, or sealed with another key or context)")]
    Open,
    /// The input is too short to hold a nonce and an authentication tag.
    #[error("sealed data is truncated (shorter than a nonce and an authentication tag)")]
    Truncated,
}

/// Result type of this crate; the error defaults to [`KeyError`].
pub type Result<T, E = KeyError> = std::result::Result<T, E>;
