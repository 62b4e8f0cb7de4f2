//! How a partner's CSV file is written: its delimiter, its character encoding and the preamble
//! lines before its header; what can be declared, and what is detected when it is not.
//!
//! Detection is deliberately narrow:
//! - **delimiter** `auto`: the header line (after any skipped preamble lines) is scanned outside
//!   quotes for `,`, tab, `|` and `;`; the most frequent wins, a comma on a tie or when none
//!   occurs. Data lines are not consulted.
//! - **encoding** `auto`: the whole file is read once before parsing; if every byte sequence is
//!   valid UTF-8 (a UTF-8 BOM allowed) it is UTF-8. A file holding both valid multi-byte UTF-8
//!   characters and bytes that are not UTF-8 mixes encodings (a UTF-8 export with a line pasted
//!   from a Windows-1252 one): it is UTF-8 when it holds at least [`MIXED_UTF8_AT_LEAST`] valid
//!   multi-byte characters and at least one for every [`MIXED_INVALID_PER_UTF8`] invalid
//!   sequences, so that its lines that are not UTF-8 are refused (`encoding.invalid_utf8`, by
//!   line) rather than every UTF-8 name garbled without a word. Otherwise (no valid multi-byte
//!   character, or a rare one, as a Windows-1252 `Ã` before `©` happens to make) it is
//!   Windows-1252. Nothing else is detected: Latin-1 (ISO-8859-1) must be declared, and UTF-16
//!   is not supported.
//!
//! Windows-1252 and Latin-1 are single-byte encodings whose bytes below 0x80 are ASCII, so the
//! CSV tokenizer works on the file's bytes unchanged and each field is decoded after it.

use std::borrow::Cow;
use std::fmt;
use std::io::{self, Read};
use std::path::Path;
use std::str::FromStr;

/// A field delimiter: declared, or detected from the header line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DelimiterChoice {
    /// This byte (`,`, tab, `|` or `;`).
    Byte(u8),
    /// Detected from the header line.
    #[default]
    Auto,
}

/// The delimiters a file may use.
pub const DELIMITERS: &[u8] = b",\t|;";

impl DelimiterChoice {
    /// The comma of RFC 4180, today's default for files without a mapping.
    pub const COMMA: DelimiterChoice = DelimiterChoice::Byte(b',');
}

impl FromStr for DelimiterChoice {
    type Err = String;

    /// `,`, `|`, `;`, a tab (`"\t"` or `tab`), or `auto`; also `comma`, `pipe`, `semicolon`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let b = match s {
            "," | "comma" => b',',
            "\t" | "tab" => b'\t',
            "|" | "pipe" => b'|',
            ";" | "semicolon" => b';',
            "auto" => return Ok(DelimiterChoice::Auto),
            _ => {
                return Err(format!(
                    "unknown delimiter {s:?}: expected \",\", \"\\t\" (or \"tab\"), \"|\", \";\" or \"auto\""
                ));
            }
        };
        Ok(DelimiterChoice::Byte(b))
    }
}

impl fmt::Display for DelimiterChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DelimiterChoice::Byte(b'\t') => f.write_str("tab"),
            DelimiterChoice::Byte(b) => write!(f, "{}", char::from(*b)),
            DelimiterChoice::Auto => f.write_str("auto"),
        }
    }
}

/// A character encoding tellonce can read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Encoding {
    /// UTF-8, with or without a BOM. A field that is not valid UTF-8 rejects its record
    /// (`encoding.invalid_utf8`).
    #[default]
    Utf8,
    /// Windows-1252 (what Excel on a UK Windows machine saves as "CSV"), decoded as the WHATWG
    /// Encoding Standard defines it: every byte has a character.
    Windows1252,
    /// ISO-8859-1: every byte is the Unicode code point of the same number.
    Latin1,
}

impl Encoding {
    /// The encoding's name, as written in mappings.
    pub fn as_str(self) -> &'static str {
        match self {
            Encoding::Utf8 => "utf-8",
            Encoding::Windows1252 => "windows-1252",
            Encoding::Latin1 => "latin-1",
        }
    }

    /// Decodes one field of a single-byte encoding; borrows when it is ASCII. For
    /// [`Encoding::Utf8`], `None` unless the bytes are valid UTF-8.
    pub fn decode<'a>(self, bytes: &'a [u8]) -> Option<Cow<'a, str>> {
        match self {
            Encoding::Utf8 => std::str::from_utf8(bytes).ok().map(Cow::Borrowed),
            Encoding::Windows1252 => Some(encoding_rs::WINDOWS_1252.decode_without_bom_handling(bytes).0),
            Encoding::Latin1 => Some(encoding_rs::mem::decode_latin1(bytes)),
        }
    }
}

impl fmt::Display for Encoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An encoding: declared, or detected (UTF-8 if the whole file is valid UTF-8, else
/// Windows-1252).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EncodingChoice {
    /// This encoding.
    Known(Encoding),
    /// Detected.
    Auto,
}

impl Default for EncodingChoice {
    fn default() -> Self {
        EncodingChoice::Known(Encoding::Utf8)
    }
}

impl FromStr for EncodingChoice {
    type Err = String;

    /// `utf-8`, `windows-1252`, `latin-1` or `auto`, in any case; also `utf8`, `cp1252`,
    /// `iso-8859-1`, `latin1`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let e = match s.trim().to_ascii_lowercase().as_str() {
            "utf-8" | "utf8" => Encoding::Utf8,
            "windows-1252" | "cp1252" | "cp-1252" => Encoding::Windows1252,
            "latin-1" | "latin1" | "iso-8859-1" | "iso8859-1" => Encoding::Latin1,
            "auto" => return Ok(EncodingChoice::Auto),
            _ => {
                return Err(format!(
                    "unknown encoding {s:?}: expected \"utf-8\", \"windows-1252\", \"latin-1\" or \"auto\""
                ));
            }
        };
        Ok(EncodingChoice::Known(e))
    }
}

impl fmt::Display for EncodingChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EncodingChoice::Known(e) => e.fmt(f),
            EncodingChoice::Auto => f.write_str("auto"),
        }
    }
}

/// How a CSV file (or a workbook) is written. The default is today's: comma, UTF-8, header on
/// the first line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dialect {
    /// The field delimiter.
    pub delimiter: DelimiterChoice,
    /// The character encoding.
    pub encoding: EncodingChoice,
    /// Lines (sheet rows, for a workbook) before the header (a title, an export date) skipped
    /// unread; they still count in line numbers.
    pub skip_lines: u64,
    /// The sheet of a workbook (its first sheet when `None`); CSV files have none.
    pub sheet: Option<String>,
}

impl Default for Dialect {
    fn default() -> Self {
        Dialect { delimiter: DelimiterChoice::COMMA, encoding: EncodingChoice::default(), skip_lines: 0, sheet: None }
    }
}

/// The delimiter of a header line: the most frequent of [`DELIMITERS`] outside quotes; a comma
/// when none occurs or on a tie with a comma.
pub fn detect_delimiter(header: &[u8]) -> u8 {
    let mut counts = [0usize; 4];
    let mut quoted = false;
    for &b in header {
        if b == b'"' {
            quoted = !quoted;
        } else if !quoted && let Some(i) = DELIMITERS.iter().position(|&d| d == b) {
            counts[i] += 1;
        }
    }
    let mut best = 0;
    for i in 1..counts.len() {
        if counts[i] > counts[best] {
            best = i;
        }
    }
    DELIMITERS[best]
}

/// A mixed file is UTF-8 only with at least this many valid multi-byte UTF-8 characters: one
/// alone may be two Windows-1252 characters that happen to form one (`Ã` then `©`).
pub const MIXED_UTF8_AT_LEAST: u64 = 2;

/// A mixed file is UTF-8 only with at least one valid multi-byte character for every this many
/// sequences that are not UTF-8. A Windows-1252 file's accented letters are almost always
/// followed by a plain letter, which no UTF-8 sequence allows, so the pairs that happen to be
/// valid UTF-8 are far fewer than this share of its invalid ones.
pub const MIXED_INVALID_PER_UTF8: u64 = 10;

/// What one pass over a file's bytes found about its encoding; no byte of it is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct EncodingEvidence {
    /// Valid UTF-8 characters of two to four bytes.
    pub utf8_characters: u64,
    /// Byte sequences that are not UTF-8 (a character cut by the end of the file included).
    pub invalid_sequences: u64,
    /// The line (counting LFs, from 1) of the first sequence that is not UTF-8.
    pub first_invalid_line: Option<u64>,
    /// Whether the file starts with a UTF-8 byte order mark (not counted as a character): its
    /// writer said it is UTF-8.
    pub bom: bool,
}

impl EncodingEvidence {
    /// The encoding `auto` reads the file in (see the module's rule).
    pub fn encoding(&self) -> Encoding {
        let utf8 = self.utf8_characters;
        let mostly_utf8 =
            utf8 >= MIXED_UTF8_AT_LEAST && utf8.saturating_mul(MIXED_INVALID_PER_UTF8) >= self.invalid_sequences;
        if self.invalid_sequences == 0 || self.bom || mostly_utf8 { Encoding::Utf8 } else { Encoding::Windows1252 }
    }

    /// Whether the file holds both valid multi-byte UTF-8 characters and bytes that are not
    /// UTF-8: whichever encoding it is read in, some of its text is not what was written.
    pub fn is_mixed(&self) -> bool {
        (self.utf8_characters > 0 || self.bom) && self.invalid_sequences > 0
    }

    /// Counts the characters of `valid` (valid UTF-8) that take more than one byte.
    fn add_valid(&mut self, valid: &[u8]) {
        // Every multi-byte character starts with one byte of 0xC0 or above, and no other does.
        self.utf8_characters += valid.iter().filter(|&&b| b >= 0xC0).count() as u64;
    }

    /// Counts one invalid sequence, found after `lines_before` LFs and `more` bytes of its chunk.
    fn add_invalid(&mut self, lines_before: u64, more: &[u8]) {
        self.invalid_sequences += 1;
        if self.first_invalid_line.is_none() {
            self.first_invalid_line = Some(1 + lines_before + count_lf(more));
        }
    }
}

fn count_lf(bytes: &[u8]) -> u64 {
    bytes.iter().filter(|&&b| b == b'\n').count() as u64
}

/// The encoding `auto` reads the file at `path` in: see [`EncodingEvidence::encoding`].
pub fn detect_encoding(path: &Path) -> io::Result<Encoding> {
    Ok(encoding_evidence(path)?.encoding())
}

/// Reads the file at `path` once and counts its valid multi-byte UTF-8 characters and its
/// sequences that are not UTF-8.
pub fn encoding_evidence(path: &Path) -> io::Result<EncodingEvidence> {
    let mut file = std::fs::File::open(path)?;
    let mut buf = vec![0u8; 256 * 1024];
    let mut found = EncodingEvidence::default();
    // LFs before `buf[0]`, counted only until the first invalid sequence is placed.
    let mut lines = 0u64;
    // Bytes of a character cut by the end of the previous chunk.
    let mut carry = 0usize;
    let mut first = true;
    loop {
        let n = match file.read(&mut buf[carry..]) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        let len = carry + n;
        if n == 0 {
            // A character still cut at the end of the file is not UTF-8.
            if carry > 0 {
                found.add_invalid(lines, &[]);
            }
            return Ok(found);
        }
        let mut at = 0;
        if first {
            // A BOM is no character of the text.
            first = false;
            found.bom = buf[..len].starts_with(b"\xEF\xBB\xBF");
            at = if found.bom { 3 } else { 0 };
        }
        carry = 0;
        while at < len {
            match std::str::from_utf8(&buf[at..len]) {
                Ok(_) => {
                    found.add_valid(&buf[at..len]);
                    at = len;
                }
                Err(e) => {
                    let valid_end = at + e.valid_up_to();
                    found.add_valid(&buf[at..valid_end]);
                    let Some(bad) = e.error_len() else {
                        // Cut by the end of the chunk: read again with the next one.
                        carry = len - valid_end;
                        break;
                    };
                    found.add_invalid(lines, &buf[..valid_end]);
                    at = valid_end + bad;
                }
            }
        }
        if found.first_invalid_line.is_none() {
            lines += count_lf(&buf[..len - carry]);
        }
        buf.copy_within(len - carry..len, 0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn delimiters_are_detected_from_the_header_outside_quotes() {
        assert_eq!(detect_delimiter(b"a,b,c"), b',');
        assert_eq!(detect_delimiter(b"a|b|c"), b'|');
        assert_eq!(detect_delimiter(b"a\tb\tc"), b'\t');
        assert_eq!(detect_delimiter(b"a;b;\"c,d,e\""), b';');
        assert_eq!(detect_delimiter(b"single"), b',');
        assert_eq!(detect_delimiter(b"a,b;c"), b',', "a tie keeps the comma");
    }

    #[test]
    fn names_parse_and_print() {
        assert_eq!("tab".parse::<DelimiterChoice>(), Ok(DelimiterChoice::Byte(b'\t')));
        assert_eq!("|".parse::<DelimiterChoice>(), Ok(DelimiterChoice::Byte(b'|')));
        assert!(":".parse::<DelimiterChoice>().is_err());
        assert_eq!("CP1252".parse::<EncodingChoice>(), Ok(EncodingChoice::Known(Encoding::Windows1252)));
        assert_eq!("auto".parse::<EncodingChoice>(), Ok(EncodingChoice::Auto));
        assert!("utf-16".parse::<EncodingChoice>().is_err());
        assert_eq!(DelimiterChoice::Byte(b'\t').to_string(), "tab");
    }

    #[test]
    fn single_byte_encodings_decode_every_byte() {
        // 0xE9 is é in both; 0x80 is € in Windows-1252 but a C1 control in Latin-1.
        assert_eq!(Encoding::Windows1252.decode(b"Ren\xe9e \x80").unwrap(), "Renée €");
        assert_eq!(Encoding::Latin1.decode(b"Ren\xe9e \x80").unwrap(), "Renée \u{80}");
        assert!(matches!(Encoding::Windows1252.decode(b"plain").unwrap(), Cow::Borrowed(_)));
        assert_eq!(Encoding::Utf8.decode(b"Ren\xe9e"), None);
    }

    #[test]
    fn the_whole_file_decides_the_encoding() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, bytes: &[u8]| {
            let p = dir.path().join(name);
            std::fs::File::create(&p).unwrap().write_all(bytes).unwrap();
            p
        };
        let utf8 = write("u.csv", "a,b\nRenée,Zoë\n".as_bytes());
        assert_eq!(detect_encoding(&utf8).unwrap(), Encoding::Utf8);
        // A character cut by a chunk boundary is no bad byte, and a bad byte far beyond the
        // first chunk still counts.
        let long = "é".repeat(200 * 1024).into_bytes();
        assert_eq!(detect_encoding(&write("long.csv", &long)).unwrap(), Encoding::Utf8);
        let mut ascii = "a,b\n".repeat(100 * 1024).into_bytes();
        ascii.extend_from_slice(b"Ren\xe9e,Zo\xeb\n");
        assert_eq!(detect_encoding(&write("late.csv", &ascii)).unwrap(), Encoding::Windows1252);
        assert_eq!(detect_encoding(&write("cut.csv", b"abc\xc3")).unwrap(), Encoding::Windows1252);
    }

    #[test]
    fn a_mostly_utf8_file_with_a_windows_1252_line_is_utf8() {
        let dir = tempfile::tempdir().unwrap();
        let evidence = |bytes: &[u8]| {
            let p = dir.path().join("f.csv");
            std::fs::write(&p, bytes).unwrap();
            (encoding_evidence(&p).unwrap(), detect_encoding(&p).unwrap())
        };
        // Three UTF-8 names, then a line pasted from a Windows-1252 export on line 5.
        let mut mixed = "name\nZoë\nRenée\nChloé\n".as_bytes().to_vec();
        mixed.extend_from_slice(b"Ren\xe9e\nAl\n");
        let (found, encoding) = evidence(&mixed);
        assert_eq!(encoding, Encoding::Utf8, "{found:?}");
        assert!(found.is_mixed());
        assert_eq!((found.utf8_characters, found.invalid_sequences, found.first_invalid_line), (3, 1, Some(5)));
        // A Windows-1252 file, one of whose pairs happens to be valid UTF-8 (Ã then ©), stays so.
        let (found, encoding) = evidence(b"name\nRen\xe9e\nZo\xeb\n\xc3\xa9lo\xefse\n");
        assert_eq!((encoding, found.utf8_characters, found.invalid_sequences), (Encoding::Windows1252, 1, 3));
        // With many accented names, a share of accidental pairs below one in ten stays so too.
        let mut w1252 = b"name\n\xc3\xa9a\n\xc3\xa9b\n".to_vec();
        for _ in 0..30 {
            w1252.extend_from_slice(b"Ren\xe9e\n");
        }
        assert_eq!(evidence(&w1252).1, Encoding::Windows1252);
        // Pure Windows-1252 is no mix; a UTF-8 BOM says UTF-8 whatever follows.
        let (found, encoding) = evidence(b"name\nRen\xe9e\n");
        assert_eq!((encoding, found.is_mixed()), (Encoding::Windows1252, false));
        let (found, encoding) = evidence(b"\xef\xbb\xbfname\nRen\xe9e\n");
        assert_eq!((encoding, found.is_mixed(), found.utf8_characters), (Encoding::Utf8, true, 0));
    }
}
