//! What the tokenizer reads of quotes and bytes without parsing: the quote state of a record
//! too long to parse, text after a closing quote, a UTF-16 file without its mark, and an
//! archive.

/// Where a CSV parser is with respect to quotes, following `csv_core`'s rules: a quote opens a
/// quoted field only at the start of a field; inside one, a doubled quote is a literal quote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum QuoteState {
    StartField,
    InField,
    InQuoted,
    /// Just after a quote inside a quoted field: closed, unless another quote follows.
    AfterQuote,
}

impl QuoteState {
    pub(super) fn feed(&mut self, bytes: &[u8], delimiter: u8) {
        use QuoteState::*;
        let mut s = *self;
        for &b in bytes {
            s = match (s, b) {
                (InQuoted, b'"') => AfterQuote,
                (InQuoted, _) => InQuoted,
                (StartField | AfterQuote, b'"') => InQuoted,
                (_, d) if d == delimiter => StartField,
                _ => InField,
            };
        }
        *self = s;
    }
}

/// Whether a quoted field in `raw` (a record's bytes) is closed by a quote followed by more
/// than spaces before the next delimiter or line end: `"Rang back` where a stray quote opened
/// on an earlier line is taken for the closing one. (`csv_core` reads such text on into the
/// field, as RFC 4180 does not allow.)
pub(super) fn closed_with_text(raw: &[u8], delimiter: u8) -> bool {
    #[derive(Clone, Copy, PartialEq)]
    enum At {
        Start,
        Unquoted,
        Quoted,
        /// A quote inside a quoted field: closed, unless another quote follows.
        Quote,
        /// Past a closing quote, spaces only so far.
        Closed,
    }
    let mut at = At::Start;
    for &b in raw {
        at = match (at, b) {
            (At::Quoted, b'"') => At::Quote,
            (At::Quoted, _) => At::Quoted,
            (At::Start, b'"') | (At::Quote, b'"') => At::Quoted,
            (_, d) if d == delimiter => At::Start,
            (At::Quote | At::Closed, b'\n' | b'\r') => At::Start,
            (At::Quote | At::Closed, b' ' | b'\t') => At::Closed,
            (At::Quote | At::Closed, _) => return true,
            (_, b'\n' | b'\r') => At::Start,
            _ => At::Unquoted,
        };
    }
    false
}

/// The kind of archive a file is, by its first bytes (gzip's `1F 8B`, zip's `PK 03 04`), if it
/// is one: a compressed extract renamed, or sent as it was downloaded.
pub(super) fn archive_kind(head: &[u8]) -> Option<&'static str> {
    if head.starts_with(b"\x1F\x8B") {
        Some("gzip")
    } else if head.starts_with(b"PK\x03\x04") {
        Some("zip")
    } else {
        None
    }
}

/// Bytes of the file's start looked at for UTF-16 without a byte order mark.
const UTF16_HEAD: usize = 512;

/// Whether `head`, a file's first bytes, reads as UTF-16 text without a byte order mark: of its
/// first [`UTF16_HEAD`] bytes (at least 8), most of the even ones (big-endian) or of the odd ones
/// (little-endian) are NUL, and almost none of the others, as text of Latin letters is in
/// UTF-16. A text file in any single-byte encoding or UTF-8 holds no NUL (a NUL-padded end is
/// not its start).
pub(super) fn utf16_without_mark(head: &[u8]) -> bool {
    let head = &head[..head.len().min(UTF16_HEAD) & !1];
    if head.len() < 8 {
        return false;
    }
    let pairs = head.len() / 2;
    let nul_at = |parity: usize| head.iter().skip(parity).step_by(2).filter(|&&b| b == 0).count();
    let (even, odd) = (nul_at(0), nul_at(1));
    let mostly = |n: usize| n * 10 >= pairs * 7;
    let hardly = |n: usize| n * 10 <= pairs;
    (mostly(odd) && hardly(even)) || (mostly(even) && hardly(odd))
}
