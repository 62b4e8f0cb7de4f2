//! `[file] footer_lines`: the lines a partner's export writes below its table ("Report generated
//! by … on …", a total), which are no records. Read as records they are quarantined in every
//! extract, and a snapshot that quarantined a row whose reference it could not read withdraws
//! nothing, so such a partner's snapshots would never withdraw. A mapping names how many lines
//! (sheet rows) end every file of the partner; they are not read as records, unless one of them
//! fills half the header's columns ([`reads_as_record`]): a file sent without its footer.

use std::fs::File;
use std::io;
use std::ops::ControlFlow;

/// Whether a line (sheet row) where the footer was expected reads as a record instead: it
/// fills at least half of the header's `width` columns, and two at least. A partner that sends
/// one extract without its footer would otherwise lose its last record, and a snapshot would
/// withdraw it; a footer ("Total: 312", "Report run by ... on ...") fills a cell or two.
pub(crate) fn reads_as_record(filled: usize, width: usize) -> bool {
    filled >= 2 && filled * 2 >= width
}

/// Whether the byte `b` is nothing a line holds: a space, a tab, a stray CR or a delimiter (a
/// line of only these is blank, as a spreadsheet's empty row exports).
pub(crate) fn holds_nothing(b: u8) -> bool {
    matches!(b, b'\r' | b' ' | b'\t' | b',' | b';' | b'|')
}

/// The offset at which the last `n` lines of `file` that hold anything begin, so that a reader
/// stops there. A line of nothing but spaces, tabs and delimiters holds nothing and is not
/// counted (a blank line between the table and its footer, or below it). A line ends at a LF, a
/// CRLF or a lone CR. The file ends where its data does, before a final Ctrl-Z or NUL padding
/// ([`super::eof`]). With fewer such lines than `n`, the file's start.
pub(super) fn start(file: &mut File, n: u64) -> io::Result<u64> {
    let len = super::eof::data_end(file)?;
    let mut found = 0u64;
    // The end of the line being walked back over, and whether it has held anything so far.
    let mut filled = false;
    // The byte after the one being looked at (walking back), to tell a CRLF from a lone CR.
    let mut after: Option<u8> = None;
    let begins = super::eof::walk_back(file, len, |at, b| {
        let line_end = b == b'\n' || (b == b'\r' && after != Some(b'\n'));
        if line_end {
            if filled {
                found += 1;
                if found == n {
                    return ControlFlow::Break(at + 1);
                }
            }
            filled = false;
        } else if !holds_nothing(b) {
            filled = true;
        }
        after = Some(b);
        ControlFlow::Continue(())
    })?;
    Ok(begins.unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn footer_of(text: &str, n: u64) -> String {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("extract.csv");
        std::fs::write(&path, text).unwrap();
        let mut file = File::open(&path).unwrap();
        let at = start(&mut file, n).unwrap();
        text[usize::try_from(at).unwrap()..].to_owned()
    }

    #[test]
    fn the_last_lines_holding_anything_are_the_footer() {
        let table = "id,name\nR1,Ann\nR2,Bea\n";
        assert_eq!(
            footer_of(&format!("{table}Report generated on 05/12/2026\n"), 1),
            "Report generated on 05/12/2026\n"
        );
        // Blank and delimiter-only lines around it are not counted; the table's last line stays.
        assert_eq!(footer_of(&format!("{table},,\n\nTotal,2\n\n"), 1), "Total,2\n\n");
        assert_eq!(footer_of(&format!("{table}\nTotal,2\nby X\n"), 2), "Total,2\nby X\n");
        // CRLF, lone CR, and no line end at the end of the file.
        assert_eq!(footer_of("id\r\nR1\r\nTotal", 1), "Total");
        assert_eq!(footer_of("id\rR1\rTotal\r", 1), "Total\r");
        // A final Ctrl-Z or NUL padding is no line: the footer is the line above it.
        assert_eq!(footer_of("id\r\nR1\r\nTotal\r\n\x1a", 1), "Total\r\n\x1a");
        assert_eq!(footer_of("id\nR1\nTotal\n\0\0", 2), "R1\nTotal\n\0\0");
        // More footer than file: all of it.
        assert_eq!(footer_of("id\nR1\n", 5), "id\nR1\n");
    }

    #[test]
    fn a_footer_is_found_across_chunks() {
        let body: String = (0..20_000).map(|i| format!("R{i},Someone\n")).collect();
        let text = format!("id,name\n{body}Report generated\n");
        assert_eq!(footer_of(&text, 1), "Report generated\n");
        assert_eq!(footer_of(&text, 2), "R19999,Someone\nReport generated\n");
    }
}
