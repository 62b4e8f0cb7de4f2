//! SHA-256 of files and of what a writer writes.

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::Path;

use sha2::{Digest, Sha256};

/// Size of the chunks a file is hashed in.
const CHUNK_BYTES: usize = 1 << 20;

/// SHA-256 of a file's content, streamed in 1 MiB chunks; lowercase hex.
///
/// ```
/// # let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("a.txt");
/// std::fs::write(&path, b"abc").unwrap();
/// assert_eq!(
///     tellonce_connectors::hashing::sha256_file(&path).unwrap(),
///     "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
/// );
/// ```
pub fn sha256_file(path: &Path) -> io::Result<String> {
    let mut file = File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; CHUNK_BYTES];
    loop {
        match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => hasher.update(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(hex::encode(hasher.finalize()))
}

/// A [`Write`] wrapper that hashes (SHA-256) and counts what passes through it.
///
/// Only the bytes the inner writer accepted are hashed, so after a successful flush the digest
/// is the digest of what the inner writer holds.
///
/// ```
/// use std::io::Write;
/// use tellonce_connectors::hashing::HashingWriter;
/// let mut w = HashingWriter::new(Vec::new());
/// w.write_all(b"abc").unwrap();
/// let (inner, sha, bytes) = w.finish();
/// assert_eq!((inner.as_slice(), bytes), (&b"abc"[..], 3));
/// assert!(sha.starts_with("ba7816bf"));
/// ```
#[derive(Debug)]
pub struct HashingWriter<W> {
    inner: W,
    hasher: Sha256,
    bytes: u64,
}

impl<W: Write> HashingWriter<W> {
    /// Wraps `inner`.
    pub fn new(inner: W) -> Self {
        HashingWriter { inner, hasher: Sha256::new(), bytes: 0 }
    }

    /// The bytes written so far.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// The inner writer, the lowercase hex SHA-256 of everything written, and its length.
    ///
    /// Does not flush: flush first if the inner writer buffers.
    pub fn finish(self) -> (W, String, u64) {
        (self.inner, hex::encode(self.hasher.finalize()), self.bytes)
    }
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_hash_matches_writer_hash_across_chunks() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.bin");
        let data: Vec<u8> = (0..(CHUNK_BYTES * 2 + 12_345)).map(|i| (i % 251) as u8).collect();
        std::fs::write(&path, &data).unwrap();
        let mut w = HashingWriter::new(Vec::new());
        for chunk in data.chunks(7_777) {
            w.write_all(chunk).unwrap();
        }
        let (inner, sha, bytes) = w.finish();
        assert_eq!(inner, data);
        assert_eq!(bytes, data.len() as u64);
        assert_eq!(sha, sha256_file(&path).unwrap());
        assert_eq!(sha.len(), 64);
    }

    #[test]
    fn empty_input_has_the_empty_digest() {
        let (_, sha, bytes) = HashingWriter::new(io::sink()).finish();
        assert_eq!(bytes, 0);
        assert_eq!(sha, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    }
}
