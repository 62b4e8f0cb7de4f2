//! What the sample says about the file as a whole rather than a column: spellings of a missing
//! value (`NULL`, as SQL Server exports write it) across columns, and a mix of encodings.
//!
//! A spelling is one of [`NULL_WORDS`], fixed words that can be printed: no value of the file is.

use crate::file_source::dialect::{EncodingEvidence, encoding_evidence};
use crate::file_source::sample::Sample;

/// Spellings of a missing value that exports write, matched exactly (as a mapping's
/// `null_values` are). `NA` is left out: it is also a surname (`Na`) and a code (`not
/// applicable`) that a value map may want; a reviewer adds it by hand.
pub const NULL_WORDS: &[&str] = &["NULL", "null", "Null", "N/A", "n/a", "#N/A", "#NULL!"];

/// The least columns a spelling must be seen in to be proposed: in one column alone it may be
/// a code of that column.
pub const NULL_AT_LEAST_COLUMNS: usize = 2;

/// A spelling of a missing value seen in the sample.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NullSeen {
    /// The spelling, one of [`NULL_WORDS`].
    pub spelling: &'static str,
    /// Columns it was seen in.
    pub columns: usize,
    /// Cells it was seen in.
    pub times: usize,
}

/// The spellings of [`NULL_WORDS`] seen in at least [`NULL_AT_LEAST_COLUMNS`] columns.
pub(super) fn nulls_seen(sample: &Sample) -> Vec<NullSeen> {
    let mut seen = Vec::new();
    for &spelling in NULL_WORDS {
        let (mut columns, mut times) = (0, 0);
        for j in 0..sample.headings.len() {
            let n = sample.column(j).filter(|v| *v == spelling).count();
            columns += usize::from(n > 0);
            times += n;
        }
        if columns >= NULL_AT_LEAST_COLUMNS {
            seen.push(NullSeen { spelling, columns, times });
        }
    }
    seen
}

/// Empties the sample's cells spelled as `nulls` say, as a run under the proposed mapping
/// would, so that no date format, value map or fit is judged on them.
pub(super) fn blank_nulls(sample: &mut Sample, nulls: &[NullSeen]) {
    if nulls.is_empty() {
        return;
    }
    for cell in sample.rows.iter_mut().flatten() {
        if cell.as_deref().is_some_and(|v| nulls.iter().any(|n| n.spelling == v.trim())) {
            *cell = None;
        }
    }
}

/// For a text file holding both valid multi-byte UTF-8 and bytes that are not UTF-8, what one
/// more pass over it found; `None` for a workbook, an unmixed file, or one that cannot be read
/// again (the sample was read: a second failure only loses the remark).
pub(super) fn mixed_encoding(sample: &Sample) -> Option<EncodingEvidence> {
    sample.encoding?;
    encoding_evidence(&sample.path).ok().filter(EncodingEvidence::is_mixed)
}
