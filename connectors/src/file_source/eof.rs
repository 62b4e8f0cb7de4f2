//! Where a text file's data ends. A legacy export may close the file with a DOS end-of-file byte
//! (Ctrl-Z, 0x1A: `copy /a` and old DOS and CP/M programs write one, CP/M a run of them), or pad
//! it with NUL bytes to a block's size. Read as a line, such a byte is a record in every file:
//! quarantined (`csv.ragged_row`), and in a snapshot a record whose reference could not be read,
//! which stops every withdrawal. Every reader of a CSV file (the run, `sources check`, `sources
//! infer`, a footer's lines) takes the file as ending where this says.
//!
//! Only the very end counts: the file's last bytes, if they are nothing but Ctrl-Z, NUL, CR and
//! LF and hold at least one Ctrl-Z or NUL, end the data at the first Ctrl-Z or NUL among them
//! (the line end before it still ends the last record). A Ctrl-Z or NUL with anything else after
//! it is data, read as any other byte.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::ops::ControlFlow;

/// The DOS end-of-file byte (Ctrl-Z, SUB).
const CTRL_Z: u8 = 0x1A;
/// Bytes read at a time, walking back from the end of the file.
const CHUNK: usize = 64 * 1024;

/// The offset at which `file`'s data ends: its length, or the start of a trailing run of
/// Ctrl-Z and NUL bytes (line ends allowed among them and around them). Leaves the file's
/// position anywhere: seek before reading on.
pub(crate) fn data_end(file: &mut File) -> io::Result<u64> {
    let len = file.seek(SeekFrom::End(0))?;
    let mut end = len;
    let stopped = walk_back(file, len, |at, b| match b {
        CTRL_Z | 0 => {
            end = at;
            ControlFlow::Continue(())
        }
        b'\r' | b'\n' => ControlFlow::Continue(()),
        _ => ControlFlow::Break(end),
    })?;
    Ok(stopped.unwrap_or(end))
}

/// Calls `visit(offset, byte)` on the bytes of `file` before `from`, last first, reading a chunk
/// at a time, until it breaks with a value (returned) or the file's start is reached (`None`).
/// Leaves the file's position anywhere.
pub(crate) fn walk_back<T>(
    file: &mut File,
    from: u64,
    mut visit: impl FnMut(u64, u8) -> ControlFlow<T>,
) -> io::Result<Option<T>> {
    let mut chunk = vec![0u8; CHUNK];
    let mut at = from;
    while at > 0 {
        let take = usize::try_from(at.min(CHUNK as u64)).unwrap_or(CHUNK);
        at -= take as u64;
        file.seek(SeekFrom::Start(at))?;
        file.read_exact(&mut chunk[..take])?;
        for i in (0..take).rev() {
            if let ControlFlow::Break(found) = visit(at + i as u64, chunk[i]) {
                return Ok(Some(found));
            }
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data_of(bytes: &[u8]) -> Vec<u8> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("extract.csv");
        std::fs::write(&path, bytes).unwrap();
        let end = data_end(&mut File::open(&path).unwrap()).unwrap();
        bytes[..usize::try_from(end).unwrap()].to_vec()
    }

    #[test]
    fn a_final_ctrl_z_or_nul_padding_ends_the_data_and_no_other_does() {
        let table = b"id,name\r\nR1,Ann\r\n";
        let with = |tail: &[u8]| [table.as_slice(), tail].concat();
        assert_eq!(data_of(&with(b"\x1a")), table);
        assert_eq!(data_of(&with(b"\x1a\r\n")), table);
        assert_eq!(data_of(&with(b"\x1a\x1a\x1a")), table);
        assert_eq!(data_of(&with(b"\0\0\0\0")), table);
        assert_eq!(data_of(&with(b"\r\n\x1a\0\0")), [table.as_slice(), b"\r\n"].concat());
        // Right after the last field, with no line end before it.
        assert_eq!(data_of(b"id,name\nR1,Ann\x1a"), b"id,name\nR1,Ann");
        // Not at the end: data, as is a file ending in line ends only.
        assert_eq!(data_of(&with(b"R2,B\x1ab\r\n")), with(b"R2,B\x1ab\r\n"));
        assert_eq!(data_of(b"id,name\nR1,\x1a\0Ann\n"), b"id,name\nR1,\x1a\0Ann\n");
        assert_eq!(data_of(&with(b"\r\n")), with(b"\r\n"));
        assert_eq!(data_of(b""), b"");
        assert_eq!(data_of(b"\x1a"), b"");
    }

    #[test]
    fn nul_padding_is_found_across_chunks() {
        let text = [b"id,name\nR1,Ann\n".as_slice(), &vec![0u8; CHUNK * 2 + 7]].concat();
        assert_eq!(data_of(&text), b"id,name\nR1,Ann\n");
    }
}
