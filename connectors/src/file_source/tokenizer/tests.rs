//! Tokenizer tests: records, lines, raw bytes and limits, over every kind of line end.

use super::*;
use std::io::Write;

fn tokenizer(bytes: &[u8], max_line: usize) -> (tempfile::NamedTempFile, Tokenizer) {
    let mut f = tempfile::NamedTempFile::new().unwrap();
    f.write_all(bytes).unwrap();
    let t = Tokenizer::new(File::open(f.path()).unwrap(), max_line).unwrap();
    (f, t)
}

/// (line, status, fields, raw) of every record.
fn all(bytes: &[u8], max_line: usize) -> Vec<(u64, Status, Vec<String>, String)> {
    let (_f, mut t) = tokenizer(bytes, max_line);
    let mut got = Vec::new();
    while let Some(s) = t.next_record().unwrap() {
        let fields = (0..t.field_count()).map(|j| String::from_utf8_lossy(t.field(j)).into_owned()).collect();
        got.push((t.record_line(), s, fields, String::from_utf8_lossy(t.raw()).into_owned()));
    }
    assert_eq!(t.bytes_consumed(), bytes.len() as u64);
    got
}

#[test]
fn quote_state_follows_csv_rules() {
    let state = |s: &str| {
        let mut q = QuoteState::StartField;
        q.feed(s.as_bytes(), b',');
        q
    };
    assert_eq!(state("a,\"b"), QuoteState::InQuoted);
    assert_eq!(state("a,\"b\""), QuoteState::AfterQuote);
    assert_eq!(state("a,\"b\"\"c"), QuoteState::InQuoted);
    assert_eq!(state("a\"b,c"), QuoteState::InField, "a quote inside an unquoted field is literal");
    assert_eq!(state("\"x\"y,\"z\""), QuoteState::AfterQuote);
    assert_eq!(state("\"x\"y,\"z\"\""), QuoteState::InQuoted, "a doubled quote reopens");
}

#[test]
fn records_lines_and_raw_bytes() {
    let got = all(b"\xEF\xBB\xBFa,b\r\n\r\n1,\"x\ny\"\r\n2,\"q\"\"\"\n", 100);
    assert_eq!(got.len(), 3);
    assert_eq!(got[0], (1, Status::Parsed, vec!["a".into(), "b".into()], "a,b".into()));
    assert_eq!(got[1], (3, Status::Parsed, vec!["1".into(), "x\ny".into()], "1,\"x\ny\"".into()));
    assert_eq!(got[2], (5, Status::Parsed, vec!["2".into(), "q\"".into()], "2,\"q\"\"\"".into()));
}

#[test]
fn the_last_record_without_terminator_and_an_unclosed_quote() {
    let got = all(b"a,b\n1,2", 100);
    assert_eq!(got[1], (2, Status::Parsed, vec!["1".into(), "2".into()], "1,2".into()));
    // Each line the open quote swallowed is its own record, with the quote's status.
    let got = all(b"a,b\n1,\"2\n3,4\n", 100);
    assert_eq!(got[1..], [(2, Status::Unclosed, vec![], "1,\"2".into()), (3, Status::Unclosed, vec![], "3,4".into())]);
}

#[test]
fn long_records_are_cut_and_parsing_resumes_after_them() {
    let long = "x".repeat(50);
    let text = format!("a,b\n1,{long}\n2,\"{long}\n{long}\"\n3,4\n5,\"{long}");
    let got = all(text.as_bytes(), 20);
    let summary: Vec<_> = got.iter().map(|(l, s, _, raw)| (*l, *s, raw.len())).collect();
    assert_eq!(
        summary,
        [
            (1, Status::Parsed, 3),
            (2, Status::TooLong, 20),
            (3, Status::TooLong, 20),
            (4, Status::TooLong, 20),
            (5, Status::Parsed, 3),
            (6, Status::Unclosed, 20)
        ]
    );
    assert_eq!(got[1].3, format!("1,{}", &long[..18]));
    assert_eq!((got[2].3.as_str(), got[3].3.as_str()), (&format!("2,\"{}", &long[..17])[..], &long[..20]));
}

#[test]
fn preamble_lines_are_skipped_and_other_delimiters_read() {
    let (_f, mut t) = tokenizer(b"Export \"of\nrun 3\n\nA|\"B|C\"\n1|2\n", 100);
    t.skip_lines(2).unwrap();
    assert_eq!(t.peek_line().unwrap(), b"A|\"B|C\"");
    t.set_delimiter(b'|');
    assert_eq!(t.next_record().unwrap(), Some(Status::Parsed));
    assert_eq!((t.record_line(), t.field_count(), t.field(1)), (4, 2, &b"B|C"[..]));
    assert_eq!(t.next_record().unwrap(), Some(Status::Parsed));
    assert_eq!((t.record_line(), t.field(1)), (5, &b"2"[..]));
    assert_eq!(t.next_record().unwrap(), None);
    let (_f, mut t) = tokenizer(b"only one line", 100);
    assert_eq!(t.peek_line().unwrap(), b"only one line");
    t.skip_lines(5).unwrap();
    assert_eq!(t.next_record().unwrap(), None);
}

#[test]
fn a_lone_cr_ends_a_line_and_a_crlf_is_one() {
    // Old Mac line ends, a blank line, and a quoted field over two lines.
    let got = all(b"a,b\r1,2\r\r3,\"x\ry\"\r4,5", 100);
    let lines: Vec<_> = got.iter().map(|(l, s, f, _)| (*l, *s, f.len())).collect();
    assert_eq!(lines, [(1, Status::Parsed, 2), (2, Status::Parsed, 2), (4, Status::Parsed, 2), (6, Status::Parsed, 2)]);
    assert_eq!(got[2].2[1], "x\ry");
    // Every kind at once, in quotes and out: LF, CRLF, CR, and a blank CRLF. The first line
    // ends in a LF, so a lone CR ends a record but no line: `r` and `s` share one.
    let got = all(b"h\n\"p\r\nq\"\r\n\r\nr\rs\n\"t\r\"\nu", 100);
    let lines: Vec<_> = got.iter().map(|(l, _, f, _)| (*l, f[0].clone())).collect();
    assert_eq!(
        lines,
        [(1, "h".into()), (2, "p\r\nq".into()), (5, "r".into()), (5, "s".into()), (6, "t\r".into()), (7, "u".into())]
    );
}

#[test]
fn a_crlf_split_between_reads_is_one_line_end() {
    // The CR of a CRLF inside a quoted field as the last byte of the first read (the buffer:
    // `max_line + CHUNK_BYTES + 1` bytes), its LF the first of the next.
    // A first line ending in a lone CR makes it a CR file, whose CRs are counted.
    let max_line = 10;
    let head = "y".repeat(max_line + CHUNK_BYTES - 3);
    let text = format!("h\r\"{head}\r\nz\"\rnext\r\nlast\r");
    assert_eq!(text.as_bytes()[max_line + CHUNK_BYTES], b'\r');
    let got = all(text.as_bytes(), max_line);
    let lines: Vec<_> = got.iter().map(|(l, s, ..)| (*l, *s)).collect();
    assert_eq!(
        lines,
        [(1, Status::Parsed), (2, Status::TooLong), (3, Status::TooLong), (4, Status::Parsed), (5, Status::Parsed)]
    );
}

#[test]
fn preamble_lines_may_end_in_a_lone_cr() {
    let (_f, mut t) = tokenizer(b"Export\rrun 3\r\nA,B\r1,2\r", 100);
    t.skip_lines(2).unwrap();
    assert_eq!(t.peek_line().unwrap(), b"A,B");
    assert_eq!(t.next_record().unwrap(), Some(Status::Parsed));
    assert_eq!((t.record_line(), t.field(1)), (3, &b"B"[..]));
    assert_eq!(t.next_record().unwrap(), Some(Status::Parsed));
    assert_eq!((t.record_line(), t.field(1)), (4, &b"2"[..]));
    assert_eq!(t.next_record().unwrap(), None);
    assert_eq!(t.line(), 5);
}

#[test]
fn a_lone_cr_is_a_line_end_only_in_a_file_whose_lines_end_so() {
    // A LF file: a CR inside a quoted field is content, and a stray CR of a double
    // conversion (CR CR LF) ends nothing; the lines are the LFs.
    let lines = |text: &[u8]| all(text, 100).iter().map(|(l, ..)| *l).collect::<Vec<_>>();
    assert_eq!(lines(b"a,b\n1,\"x\ry\"\n2,z\n"), [1, 2, 3]);
    assert_eq!(lines(b"a,b\r\r\n1,x\r\r\n2,y\r\r\n"), [1, 2, 3]);
    assert_eq!(lines(b"a,b\r\n1,\"x\ry\"\r\n2,z\r\n"), [1, 2, 3]);
    // A CR-only file: each CR ends a line.
    assert_eq!(lines(b"a,b\r1,x\r\r2,y\r"), [1, 2, 4]);
}

#[test]
fn a_preamble_crlf_split_between_reads_is_one_line_end() {
    // The first read fills the buffer (the maximum line plus a chunk and one byte): a title
    // that long puts its CR last, and its LF comes with the next read.
    let title = "t".repeat(100 + CHUNK_BYTES);
    let text = format!("{title}\r\nrun 3\r\nA,B\r\n1,2\r\n");
    let (_f, mut t) = tokenizer(text.as_bytes(), 100);
    t.skip_lines(2).unwrap();
    assert_eq!(t.peek_line().unwrap(), b"A,B");
    assert_eq!(t.next_record().unwrap(), Some(Status::Parsed));
    assert_eq!(t.record_line(), 3);
}

#[test]
fn a_record_of_exactly_the_maximum_passes() {
    let got = all(b"abcde\r\nabcdef\r\nabcde", 5);
    let summary: Vec<_> = got.iter().map(|(l, s, _, _)| (*l, *s)).collect();
    assert_eq!(summary, [(1, Status::Parsed), (2, Status::TooLong), (3, Status::Parsed)]);
}

#[test]
fn a_record_that_swallows_lines_is_handed_out_a_line_at_a_time() {
    // A stray quote on line 2 swallows the rest of a CRLF file: each non-empty line after it
    // is a record of its own, with its own line number and bytes, the CRLF of each and the
    // lone CR inside a line (content, in a LF file) counted as the tokenizer counts them.
    let got = all(b"h,i\r\n1,\"x\r\n2,y\r\n\r\n3,z\rq\r\n4,w", 100);
    let lines: Vec<_> = got.iter().map(|(l, s, _, raw)| (*l, *s, raw.as_str())).collect();
    assert_eq!(
        lines,
        [
            (1, Status::Parsed, "h,i"),
            (2, Status::Unclosed, "1,\"x"),
            (3, Status::Unclosed, "2,y"),
            (5, Status::Unclosed, "3,z\rq"),
            (6, Status::Unclosed, "4,w")
        ]
    );
    // A quote closed far below, past the maximum: the lines between are records too, each
    // cut at the maximum, and reading resumes after the record, at the right line. A line
    // longer than the read buffer is read through.
    let huge = "y".repeat(CHUNK_BYTES + 50);
    let text = format!("h\n\"a\n{huge}\r\nb\nc\"\nnext\n");
    let got = all(text.as_bytes(), 10);
    let lines: Vec<_> = got.iter().map(|(l, s, _, raw)| (*l, *s, raw.clone())).collect();
    assert_eq!(
        lines,
        [
            (1, Status::Parsed, "h".into()),
            (2, Status::TooLong, "\"a".into()),
            (3, Status::TooLong, "y".repeat(10)),
            (4, Status::TooLong, "b".into()),
            (5, Status::TooLong, "c\"".into()),
            (6, Status::Parsed, "next".into())
        ]
    );
    // A too-long record on one line is one record, and so is an unclosed quote on the last.
    let got = all(format!("h\n{huge}\nx,\"{huge}").as_bytes(), 10);
    let lines: Vec<_> = got.iter().map(|(l, s, ..)| (*l, *s)).collect();
    assert_eq!(lines, [(1, Status::Parsed), (2, Status::TooLong), (3, Status::Unclosed)]);
    // In a file whose lines end in a lone CR, each CR ends a swallowed line.
    let got = all(b"h\r1,\"a\rb\r\rc\r", 100);
    let lines: Vec<_> = got.iter().map(|(l, _, _, raw)| (*l, raw.as_str())).collect();
    assert_eq!(lines, [(1, "h"), (2, "1,\"a"), (3, "b"), (5, "c")]);
}

#[test]
fn without_quoting_a_quote_is_a_character() {
    let (_f, mut t) = tokenizer(b"a|b\n1|\"Rose Cottage\n2|x\"y\n", 100);
    t.set_delimiter(b'|');
    t.set_no_quoting();
    let mut got = Vec::new();
    while let Some(s) = t.next_record().unwrap() {
        let fields: Vec<_> = (0..t.field_count()).map(|j| String::from_utf8_lossy(t.field(j)).into_owned()).collect();
        got.push((t.record_line(), s, fields));
    }
    assert_eq!(
        got,
        [
            (1, Status::Parsed, vec!["a".to_owned(), "b".to_owned()]),
            (2, Status::Parsed, vec!["1".to_owned(), "\"Rose Cottage".to_owned()]),
            (3, Status::Parsed, vec!["2".to_owned(), "x\"y".to_owned()])
        ]
    );
    // Too long, it is not taken for an unclosed quote either.
    let (_f, mut t) = tokenizer(b"a\n\"bcdefgh", 4);
    t.set_no_quoting();
    assert_eq!(t.next_record().unwrap(), Some(Status::Parsed));
    assert_eq!(t.next_record().unwrap(), Some(Status::TooLong));
}

#[test]
fn records_spanning_many_refills_keep_their_bytes() {
    // Fields far bigger than a read chunk, with max_line larger still.
    let big = "y".repeat(CHUNK_BYTES * 2 + 17);
    let text = format!("h\n\"{big}\"\nz\n");
    let got = all(text.as_bytes(), CHUNK_BYTES * 3);
    assert_eq!(got[1].2, vec![big.clone()]);
    assert_eq!(got[1].3.len(), big.len() + 2);
    assert_eq!((got[2].0, got[2].2.clone()), (3, vec!["z".to_owned()]));
}

#[test]
fn stray_quotes_that_join_lines_into_one_record_are_handed_out_a_line_at_a_time() {
    // A note opened with a quote on one line and another on a later line: parsed, the lines
    // between would be one record of the header's shape, holding another record's values.
    let text = b"id,note,date\n1,ok,d1\n2,\"Called mum,d2\n3,\"Rang back,d3\n4,fine,d4\n";
    let got = all(text, 100);
    let lines: Vec<(u64, Status, String)> = got.iter().map(|(l, s, _, raw)| (*l, *s, raw.clone())).collect();
    assert_eq!(
        lines,
        [
            (1, Status::Parsed, "id,note,date".into()),
            (2, Status::Parsed, "1,ok,d1".into()),
            (3, Status::StrayQuotes, "2,\"Called mum,d2".into()),
            (4, Status::StrayQuotes, "3,\"Rang back,d3".into()),
            (5, Status::Parsed, "4,fine,d4".into()),
        ]
    );
    // A field over lines closed by its quote, spaces before the delimiter, is a field.
    let got = all(b"id,note\n1,\"two\nlines\" ,x\n", 100);
    assert_eq!(got[1].1, Status::Parsed);
    assert_eq!(got[1].2[1], "two\nlines ");
}

#[test]
fn a_quoted_field_holding_a_line_shaped_like_a_record_is_stray_quotes_in_a_wide_file() {
    // The stray quotes close at the end of a field: no text follows the closing one, but the
    // field holds a whole record's line.
    let text = b"a,b,c,d\n1,2,3,\"note\n4,5,6,7\"\n8,9,10,11\n";
    let (_f, mut t) = tokenizer(text, 100);
    assert_eq!(t.next_record().unwrap(), Some(Status::Parsed));
    t.set_width(t.field_count());
    let mut got = Vec::new();
    while let Some(s) = t.next_record().unwrap() {
        got.push((t.record_line(), s));
    }
    assert_eq!(got, [(2, Status::StrayQuotes), (3, Status::StrayQuotes), (4, Status::Parsed)]);
    // An address over two lines with a comma in it is an address.
    let text = b"a,b,c,d\n1,2,3,\"1 High St,\nWorthing\"\n";
    let (_f, mut t) = tokenizer(text, 100);
    t.next_record().unwrap();
    t.set_width(4);
    assert_eq!(t.next_record().unwrap(), Some(Status::Parsed));
    assert_eq!(t.field(3), b"1 High St,\nWorthing");
}

#[test]
fn text_after_a_closing_quote_is_found_wherever_it_stands() {
    assert!(closed_with_text(b"1,\"a\nb\"c,2", b','));
    assert!(closed_with_text(b"1,\"a\nb\"  c", b','));
    assert!(!closed_with_text(b"1,\"a\nb\"  ,c", b','));
    assert!(!closed_with_text(b"1,\"a\"\"b\nc\",d", b','), "a doubled quote is a quote");
    assert!(!closed_with_text(b"1,a\"b\nc", b','), "a quote inside an unquoted field is literal");
    assert!(closed_with_text(b"1|\"a\nb\"x|c", b'|'));
}
