//! File source tests: every file is generated in a temp dir.

use std::path::PathBuf;

use arrow_array::{Array, StringArray, UInt64Array};
use arrow_schema::DataType;
use tellonce_schemas::{FeedSchema, Rule, feed};

use super::*;

/// The police feed: required columns record_id, occurrence_ref, forename, surname,
/// incident_date, incident_type, person_role.
fn police() -> &'static FeedSchema {
    feed::latest("police").unwrap()
}

const HEADER: &str = "record_id,occurrence_ref,forename,surname,incident_date,incident_type,person_role";

fn row(id: &str) -> String {
    format!("{id},OCC-{id},Ann,Lee,2024-01-05,CRIME,VICTIM")
}

struct Fixture {
    _dir: tempfile::TempDir,
    path: PathBuf,
}

fn file(name: &str, bytes: impl AsRef<[u8]>) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).unwrap();
    Fixture { _dir: dir, path }
}

fn opts(batch_rows: usize, max_line_bytes: usize) -> FileSourceOptions {
    FileSourceOptions { batch_rows, max_line_bytes }
}

/// Everything a source yields.
#[derive(Debug, Default)]
struct Read {
    batches: Vec<RawBatch>,
    /// Per row: position and the value of every schema column.
    rows: Vec<(u64, Vec<Option<String>>)>,
    rejects: Vec<RawReject>,
}

impl Read {
    fn column(&self, feed: &FeedSchema, name: &str) -> Vec<Option<String>> {
        let i = feed.index_of(name).unwrap();
        self.rows.iter().map(|(_, v)| v[i].clone()).collect()
    }

    fn positions(&self) -> Vec<u64> {
        self.rows.iter().map(|(p, _)| *p).collect()
    }

    fn reject_summary(&self) -> Vec<(u64, Rule, Option<&str>)> {
        self.rejects.iter().map(|r| (r.position, r.rule, r.column.as_deref())).collect()
    }
}

fn read_source(source: &mut FileSource, feed: &FeedSchema) -> Read {
    let mut out = Read::default();
    while let Some(raw) = source.next_batch().unwrap() {
        let b = &raw.batch;
        assert_eq!(b.num_columns(), feed.columns.len() + 1);
        for (i, c) in feed.columns.iter().enumerate() {
            assert_eq!(b.schema().field(i).name(), c.name);
            assert_eq!(b.schema().field(i).data_type(), &DataType::Utf8);
            assert!(b.schema().field(i).is_nullable());
        }
        let pos_field = b.schema().field(feed.columns.len()).clone();
        assert_eq!(
            (pos_field.name().as_str(), pos_field.data_type(), pos_field.is_nullable()),
            ("_position", &DataType::UInt64, false)
        );
        let positions = b.column(feed.columns.len()).as_any().downcast_ref::<UInt64Array>().unwrap();
        for r in 0..b.num_rows() {
            let values = (0..feed.columns.len())
                .map(|i| {
                    let col = b.column(i).as_any().downcast_ref::<StringArray>().unwrap();
                    col.is_valid(r).then(|| col.value(r).to_owned())
                })
                .collect();
            out.rows.push((positions.value(r), values));
        }
        // Lineage covers rows and rejects.
        let mut all: Vec<u64> = positions.values().to_vec();
        all.extend(raw.rejects.iter().map(|r| r.position));
        assert!(!all.is_empty(), "a batch is never empty");
        assert_eq!(raw.lineage.first_position, *all.iter().min().unwrap());
        assert_eq!(raw.lineage.last_position, *all.iter().max().unwrap());
        assert_eq!((raw.lineage.feed, raw.lineage.schema_version), (feed.name, feed.version));
        out.rejects.extend(raw.rejects.iter().cloned());
        out.batches.push(raw);
    }
    assert!(source.next_batch().unwrap().is_none(), "stays at the end");
    out
}

fn read_csv(bytes: impl AsRef<[u8]>, o: FileSourceOptions) -> Read {
    let f = file("police.csv", bytes);
    let mut source = FileSource::open(&f.path, FileFormat::Csv, police(), o).unwrap();
    read_source(&mut source, police())
}

fn open_err(bytes: impl AsRef<[u8]>) -> SourceError {
    let f = file("police.csv", bytes);
    FileSource::open(&f.path, FileFormat::Csv, police(), FileSourceOptions::default()).unwrap_err()
}

fn s(v: &str) -> Option<String> {
    Some(v.to_owned())
}

// ---------------------------------------------------------------------------------------- CSV

#[test]
fn csv_quoted_commas_and_newlines_with_positions_at_the_starting_line() {
    let text = format!(
        "{HEADER},pnc_id\n\
         R1,OCC1,\"Lee, Ann\",Smith,2024-01-05,CRIME,VICTIM,\n\
         R2,OCC2,\"Multi\nLine\nName\",\"Said \"\"hi\"\"\",2024-01-06,ASB,SUSPECT,2001/0000001Z\n\
         R3,OCC3,Bo,Ng,2024-01-07,CRIME,OTHER,\"\"\n"
    );
    let r = read_csv(&text, FileSourceOptions::default());
    assert!(r.rejects.is_empty(), "{:?}", r.rejects);
    assert_eq!(r.positions(), [2, 3, 6]);
    let f = police();
    assert_eq!(r.column(f, "record_id"), [s("R1"), s("R2"), s("R3")]);
    assert_eq!(r.column(f, "forename"), [s("Lee, Ann"), s("Multi\nLine\nName"), s("Bo")]);
    assert_eq!(r.column(f, "surname"), [s("Smith"), s("Said \"hi\""), s("Ng")]);
    // Empty (quoted or not) is null; a column the file lacks is null.
    assert_eq!(r.column(f, "pnc_id"), [None, s("2001/0000001Z"), None]);
    assert_eq!(r.column(f, "postcode"), [None, None, None]);
    let lineage = &r.batches[0].lineage;
    assert_eq!((lineage.first_position, lineage.last_position), (2, 6));
}

#[test]
fn csv_source_is_the_path_as_given() {
    let f = file("police.csv", format!("{HEADER}\n{}\n", row("R1")));
    let mut src = FileSource::open(&f.path, FileFormat::Csv, police(), FileSourceOptions::default()).unwrap();
    let raw = src.next_batch().unwrap().unwrap();
    assert_eq!(raw.lineage.source, f.path.display().to_string());
}

#[test]
fn csv_values_are_not_trimmed() {
    let r = read_csv(format!("{HEADER}\n R1 ,OCC1,  ,Lee,2024-01-05,CRIME,VICTIM\n"), FileSourceOptions::default());
    assert_eq!(r.column(police(), "record_id"), [s(" R1 ")]);
    assert_eq!(r.column(police(), "forename"), [s("  ")]);
}

#[test]
fn csv_bom_crlf_lf_and_cr_read_the_same() {
    let body = format!("{HEADER}\n{}\n\"R2\",OCC2,\"A\nB\",Lee,2024-01-05,CRIME,VICTIM\n{}", row("R1"), row("R3"));
    let crlf = body.replace('\n', "\r\n");
    // Old Mac line ends: records are where the other variants have them, by line number too.
    let cr = body.replace('\n', "\r");
    let variants: Vec<Vec<u8>> = vec![
        body.clone().into_bytes(),
        [b"\xEF\xBB\xBF".as_slice(), body.as_bytes()].concat(),
        crlf.clone().into_bytes(),
        [b"\xEF\xBB\xBF".as_slice(), crlf.as_bytes(), b"\r\n"].concat(),
        [b"\xEF\xBB\xBF".as_slice(), cr.as_bytes(), b"\r"].concat(),
    ];
    for (n, bytes) in variants.iter().enumerate() {
        let r = read_csv(bytes, FileSourceOptions::default());
        assert!(r.rejects.is_empty(), "variant {n}: {:?}", r.reject_summary());
        assert_eq!(r.positions(), [2, 3, 5], "variant {n}");
        assert_eq!(r.column(police(), "record_id"), [s("R1"), s("R2"), s("R3")], "variant {n}: BOM stripped");
        let forename = ["A\nB", "A\nB", "A\r\nB", "A\r\nB", "A\rB"][n];
        assert_eq!(r.column(police(), "forename")[1], s(forename), "variant {n}: a quoted newline is kept as is");
        assert_eq!(r.column(police(), "person_role")[2], s("VICTIM"), "variant {n}: no CR in the last field");
    }
    // A rejected record of a CR-only file is at its own line, as are the records after it.
    let text = format!("{HEADER}\r{}\rR2,OCC2,too,few\r\r{}\r", row("R1"), row("R3"));
    let r = read_csv(text, FileSourceOptions::default());
    assert_eq!(r.positions(), [2, 5]);
    assert_eq!(r.reject_summary(), [(3, Rule::CsvRaggedRow, None)]);
}

#[test]
fn csv_header_names_are_trimmed_and_matched_without_case() {
    let header = " Record_ID ,OCCURRENCE_REF,\tForename,surname , Incident_Date,incident_type,PERSON_ROLE";
    let r = read_csv(format!("\u{feff}{header}\n{}\n", row("R1")), FileSourceOptions::default());
    assert_eq!(r.column(police(), "record_id"), [s("R1")]);
    assert_eq!(r.column(police(), "person_role"), [s("VICTIM")]);
}

#[test]
fn csv_columns_may_come_in_any_order() {
    let r = read_csv(
        "person_role,incident_type,incident_date,surname,forename,occurrence_ref,record_id\nV,T,D,S,F,O,R\n",
        FileSourceOptions::default(),
    );
    let f = police();
    assert_eq!(r.rows[0].1[f.index_of("record_id").unwrap()], s("R"));
    assert_eq!(r.rows[0].1[f.index_of("person_role").unwrap()], s("V"));
}

#[test]
fn csv_unknown_columns_are_dropped_and_reported() {
    let f = file("police.csv", format!("Notes,{HEADER},extra, notes ,\nsecret note,{},x,y,\n", row("R1")));
    let mut src = FileSource::open(&f.path, FileFormat::Csv, police(), FileSourceOptions::default()).unwrap();
    assert_eq!(src.unknown_columns(), ["Notes", "extra", "notes"], "a trailing blank heading is no column");
    // A column that lost its heading, before the last heading, is said not to be read, by its place.
    let lost = file("police.csv", format!(",{HEADER},,extra\n9434765919,{},x,y\n", row("R1")));
    let lost = FileSource::open(&lost.path, FileFormat::Csv, police(), FileSourceOptions::default()).unwrap();
    let width = HEADER.split(',').count();
    let unknown = lost.unknown_columns();
    let mut want = vec!["extra".to_owned(), "unnamed_column_1".to_owned(), format!("unnamed_column_{}", width + 2)];
    want.sort();
    assert_eq!(unknown, want);
    let r = read_source(&mut src, police());
    assert_eq!(r.rows.len(), 1);
    assert!(r.rows[0].1.iter().flatten().all(|v| v != "secret note" && v != "x"));
    assert_eq!(r.column(police(), "record_id"), [s("R1")]);
}

#[test]
fn csv_missing_required_columns_are_named() {
    let header = "record_id,occurrence_ref,surname,incident_date,incident_type";
    match open_err(format!("{header}\nR1,O,S,D,T\n")) {
        SourceError::MissingColumns { columns, path, line } => {
            assert_eq!(columns, ["forename", "person_role"]);
            assert!(path.ends_with("police.csv"));
            assert_eq!(line, 1);
        }
        e => panic!("{e}"),
    }
    // A title above the header: the line read as the header is named, and the setting.
    let said = open_err(format!("Report run 01/12/2026\n\n{HEADER}\n{}\n", row("R1"))).to_string();
    assert!(said.contains("in the header read from line 1") && said.contains("(skip_lines)"), "{said}");
    assert!(!said.contains("Report run"), "no value: {said}");
}

#[test]
fn csv_duplicate_header_is_an_error() {
    match open_err(format!("{HEADER}, Forename\n")) {
        SourceError::DuplicateColumn { column, .. } => assert_eq!(column, "forename"),
        e => panic!("{e}"),
    }
    // An unknown name twice, or two blank names, is not.
    let r = read_csv(format!("{HEADER},x,x,,\n{},1,2,,\n", row("R1")), FileSourceOptions::default());
    assert_eq!(r.rows.len(), 1);
}

#[test]
fn csv_utf16_is_named_not_misread() {
    // UTF-16, as Excel's "Unicode Text" saves it, either byte order.
    let header: Vec<u8> = HEADER.encode_utf16().flat_map(u16::to_le_bytes).collect();
    for bom in [b"\xFF\xFE", b"\xFE\xFF"] {
        let err = open_err([bom.as_slice(), &header].concat());
        assert_eq!(err.rule_code(), "encoding.utf16", "{err}");
        assert!(err.to_string().contains("UTF-16"), "{err}");
    }
    // Without a byte order mark, as SQL Server's `bcp -w` writes it: tab-separated, either order.
    let tabbed = HEADER.replace(',', "\t");
    let le: Vec<u8> = tabbed.encode_utf16().flat_map(u16::to_le_bytes).collect();
    let be: Vec<u8> = tabbed.encode_utf16().flat_map(u16::to_be_bytes).collect();
    for bytes in [le, be] {
        assert_eq!(open_err(bytes).rule_code(), "encoding.utf16");
    }
}

#[test]
fn a_compressed_extract_renamed_as_csv_is_named_an_archive() {
    for (head, kind) in [(&b"\x1F\x8B\x08\x00\x00\x00\x00\x00"[..], "gzip"), (b"PK\x03\x04\x14\x00\x00\x00", "zip")] {
        let bytes = [head, b"record_id,forename\n".as_slice()].concat();
        let err = open_err(&bytes);
        assert_eq!(err.rule_code(), "file.compressed", "{err}");
        assert!(err.to_string().contains(&format!("a {kind} archive")), "{err}");
        // `sources infer` refuses it the same way, proposing nothing.
        let f = file("h.csv", &bytes);
        let err = crate::file_source::sample::sample(&f.path, None, 10).unwrap_err();
        assert_eq!(err.rule_code(), "file.compressed", "{err}");
    }
}

#[test]
fn csv_empty_file_is_an_error() {
    for bytes in [&b""[..], b"\xEF\xBB\xBF", b"\n\r\n\n", b"\xEF\xBB\xBF  \t\n \n"] {
        assert!(matches!(open_err(bytes), SourceError::EmptyFile { .. }), "{bytes:?}");
    }
}

#[test]
fn csv_header_only_file_has_no_batches() {
    for text in [HEADER.to_owned(), format!("{HEADER}\n"), format!("{HEADER}\r\n\r\n")] {
        let r = read_csv(&text, FileSourceOptions::default());
        assert!(r.batches.is_empty());
    }
}

#[test]
fn csv_bad_headers() {
    assert!(matches!(open_err(b"record_id,\xFFname\n"), SourceError::HeaderNotUtf8 { .. }));
    assert!(matches!(open_err(format!("{HEADER},\"oops\n{}\n", row("R1"))), SourceError::HeaderMalformed { .. }));
    let f = file("police.csv", format!("{HEADER}\n"));
    let err = FileSource::open(&f.path, FileFormat::Csv, police(), opts(10, 20)).unwrap_err();
    assert!(matches!(err, SourceError::HeaderTooLong { max_line_bytes: 20, .. }), "{err}");
}

#[test]
fn csv_blank_lines_are_skipped_but_counted() {
    let r = read_csv(format!("\n{HEADER}\n\n{}\n   \n\t\n{}\n\n", row("R1"), row("R2")), FileSourceOptions::default());
    assert!(r.rejects.is_empty());
    assert_eq!(r.positions(), [4, 7]);
    // Rows of nothing but delimiters (Excel's formatted empty rows), of any width, carry no
    // data either: not records, so not quarantined as records without a reference.
    let r = read_csv(
        format!("{HEADER}\n{}\n,,,,,,\n, ,\t,\n{}\n,,,,,,,,,,\n", row("R1"), row("R2")),
        FileSourceOptions::default(),
    );
    assert!(r.rejects.is_empty(), "{:?}", r.reject_summary());
    assert_eq!(r.positions(), [2, 5]);
}

#[test]
fn csv_a_final_ctrl_z_or_nul_padding_is_the_end_of_the_file_not_a_record() {
    let table = format!("{HEADER}\r\n{}\r\n{}\r\n", row("R1"), row("R2"));
    for tail in [&b"\x1a"[..], b"\x1a\r\n", b"\0\0\0\0\0\0", b"\x1a\0\0"] {
        let r = read_csv([table.as_bytes(), tail].concat(), FileSourceOptions::default());
        assert!(r.rejects.is_empty(), "{tail:?}: {:?}", r.reject_summary());
        assert_eq!(r.positions(), [2, 3]);
    }
    // Right after the last field: the field ends there.
    let r = read_csv(format!("{HEADER}\n{}\x1a", row("R1")), FileSourceOptions::default());
    assert_eq!((r.rejects.len(), r.column(police(), "person_role")), (0, vec![s("VICTIM")]));
    // A Ctrl-Z with a record after it is data: that line is read as it is.
    let r = read_csv(format!("{HEADER}\n\x1a\n{}\n", row("R1")), FileSourceOptions::default());
    assert_eq!((r.reject_summary(), r.positions()), (vec![(2, Rule::CsvRaggedRow, None)], vec![3]));
    // A footer is counted above a final Ctrl-Z.
    let feed = feed::latest("housing").unwrap();
    let mapping = "feed = \"housing\"\n[file]\nfooter_lines = 1\n[constants]\nrole_in_household = \"CHILD\"\n";
    let mapping = Arc::new(Mapping::parse(Path::new("m.toml"), mapping.as_bytes(), feed).unwrap());
    let f = file(
        "h.csv",
        "record_id,household_ref,forename,surname,approach_date,duty_owed\r\nR1,H1,Ann,Lee,2024-01-01,MAIN\r\n\
         Total records: 1\r\n\x1a",
    );
    let mut source =
        FileSource::open_with(&f.path, FileFormat::Csv, feed, opts(10, 1000), Dialect::default(), Some(mapping))
            .unwrap();
    let r = read_source(&mut source, feed);
    assert_eq!((r.positions(), r.rejects.len()), (vec![2], 0));
}

#[test]
fn csv_ragged_rows_are_rejected_with_their_line_and_bytes() {
    let text = format!("{HEADER}\n{}\nR2,OCC2,too,few\n{},extra\n{}\n", row("R1"), row("R3"), row("R4"));
    let r = read_csv(&text, FileSourceOptions::default());
    assert_eq!(r.positions(), [2, 5]);
    assert_eq!(r.reject_summary(), [(3, Rule::CsvRaggedRow, None), (4, Rule::CsvRaggedRow, None)]);
    assert_eq!(r.rejects[0].raw, b"R2,OCC2,too,few");
    assert_eq!(r.rejects[1].raw, format!("{},extra", row("R3")).as_bytes());
}

#[test]
fn csv_invalid_utf8_is_rejected_naming_the_column() {
    let bad = b"R2,OCC2,An\xFFn,Lee,2024-01-05,CRIME,VICTIM";
    let mut text = format!("{HEADER},notes\n{},ok\n", row("R1")).into_bytes();
    text.extend_from_slice(bad);
    text.extend_from_slice(b",fine\n");
    // Invalid bytes in a dropped column do not matter.
    text.extend_from_slice(format!("{},", row("R3")).as_bytes());
    text.extend_from_slice(b"\xC3\n");
    // A multi-byte character split across two fields is caught (each half is invalid).
    text.extend_from_slice(b"R4,OCC4,A\xC3,\xA9b,2024-01-05,CRIME,VICTIM,\n");
    let r = read_csv(&text, FileSourceOptions::default());
    assert_eq!(r.positions(), [2, 4]);
    assert_eq!(
        r.reject_summary(),
        [(3, Rule::InvalidUtf8, Some("forename")), (5, Rule::InvalidUtf8, Some("forename"))]
    );
    assert_eq!(r.rejects[0].raw, [&bad[..], b",fine"].concat());
}

#[test]
fn csv_unclosed_quote_is_malformed_at_each_line_it_swallowed() {
    let text =
        format!("{HEADER}\n{}\nR2,OCC2,\"Ann,Lee,2024-01-05,CRIME,VICTIM\n{}\n\n{}\n", row("R1"), row("R3"), row("R4"));
    let r = read_csv(&text, FileSourceOptions::default());
    assert_eq!(r.positions(), [2]);
    // Each line the open quote swallowed is a reject of its own, at its line and with its bytes
    // (the empty line is none): the count says how many lines were lost.
    assert_eq!(
        r.reject_summary(),
        [(3, Rule::CsvMalformed, None), (4, Rule::CsvMalformed, None), (6, Rule::CsvMalformed, None)]
    );
    let raws: Vec<String> = r.rejects.iter().map(|x| String::from_utf8(x.raw.clone()).unwrap()).collect();
    assert_eq!(raws, ["R2,OCC2,\"Ann,Lee,2024-01-05,CRIME,VICTIM".to_owned(), row("R3"), row("R4")]);
}

#[test]
fn csv_runaway_quote_holds_no_more_than_the_limit() {
    let mut text = format!("{HEADER}\n{}\nR2,\"OCC2\n", row("R1"));
    for i in 0..20_000 {
        text.push_str(&row(&format!("X{i}")));
        text.push('\n');
        if i == 9 {
            text.push_str(&"Z".repeat(5000));
            text.push('\n');
        }
    }
    let r = read_csv(&text, opts(100, 1000));
    assert_eq!(r.positions(), [2]);
    // One reject a line, each at its line, none holding more than the limit.
    assert_eq!(r.rejects.len(), 20_002);
    assert!(r.rejects.iter().zip(3..).all(|(x, line)| x.position == line && x.rule == Rule::CsvMalformed));
    assert!(r.batches.iter().all(|b| b.rejects.len() <= 100));
    assert_eq!(r.rejects[0].raw, b"R2,\"OCC2");
    assert_eq!(r.rejects[1].raw, row("X0").as_bytes());
    assert_eq!(r.rejects[11].raw, "Z".repeat(1000).as_bytes());
}

#[test]
fn csv_long_line_is_rejected_and_reading_goes_on() {
    let long = format!("R2,OCC2,{},Lee,2024-01-05,CRIME,VICTIM", "A".repeat(500));
    let text = format!("{HEADER}\n{}\n{long}\n{}\n", row("R1"), row("R3"));
    let r = read_csv(&text, opts(10, 200));
    assert_eq!(r.positions(), [2, 4]);
    assert_eq!(r.reject_summary(), [(3, Rule::LineTooLong, None)]);
    assert_eq!(r.rejects[0].raw, &long.as_bytes()[..200]);
    // Exactly at the limit passes.
    let limit = HEADER.len() + 5;
    let exact = row("R9").replacen("Ann", &"N".repeat(limit + 3 - row("R9").len()), 1);
    assert_eq!(exact.len(), limit);
    let r = read_csv(format!("{HEADER}\n{exact}\r\n{exact}N\n"), opts(10, limit));
    assert_eq!(r.positions(), [2]);
    assert_eq!(r.reject_summary(), [(3, Rule::LineTooLong, None)]);
}

#[test]
fn csv_batches_are_bounded_and_every_record_is_accounted_for() {
    let mut text = format!("{HEADER}\n");
    let mut data_rows = 0;
    for i in 0..1000 {
        match i % 97 {
            13 => text.push_str("short,row\n"),
            41 => text.push_str(&format!("{},\"multi\nline\"\n", row(&i.to_string())).replace(",VICTIM,", ",")),
            _ => {
                text.push_str(&row(&i.to_string()));
                text.push('\n');
            }
        }
        data_rows += 1;
    }
    for batch_rows in [1, 7, 64, 8192] {
        let f = file("police.csv", &text);
        let mut src = FileSource::open(&f.path, FileFormat::Csv, police(), opts(batch_rows, 65536)).unwrap();
        let mut seen = 0;
        let mut positions = Vec::new();
        let mut last_bytes = 0;
        while let Some(raw) = src.next_batch().unwrap() {
            let n = raw.batch.num_rows() + raw.rejects.len();
            assert!(n >= 1 && n <= batch_rows, "batch of {n} with batch_rows {batch_rows}");
            seen += n;
            let p = raw.batch.column(police().columns.len()).as_any().downcast_ref::<UInt64Array>().unwrap();
            positions.extend(p.values().iter().copied());
            positions.extend(raw.rejects.iter().map(|r| r.position));
            assert!(src.bytes_read() >= last_bytes);
            last_bytes = src.bytes_read();
        }
        assert_eq!(seen, data_rows, "batch_rows {batch_rows}");
        assert_eq!(src.bytes_read(), text.len() as u64);
        positions.sort_unstable();
        positions.dedup();
        assert_eq!(positions.len(), data_rows, "one position per record");
    }
}

#[test]
fn csv_matches_the_csv_crate_on_awkward_fields() {
    // Write with the csv crate (quoting what needs it, CRLF), read with ours, compare.
    let awkward = ["", " ", "a,b", "q\"uote", "\"", "line\nbreak", "cr\r\nlf", "é ñ 漢字", "trailing ", ",", "\"\""];
    let mut w = ::csv::WriterBuilder::new().terminator(::csv::Terminator::CRLF).from_writer(Vec::new());
    w.write_record(HEADER.split(',')).unwrap();
    let mut want = Vec::new();
    for i in 0..200usize {
        let rec: Vec<String> = (0..7)
            .map(|j| {
                format!(
                    "{}{}",
                    awkward[(i * 7 + j * 3) % awkward.len()],
                    if j == 0 { i.to_string() } else { String::new() }
                )
            })
            .collect();
        w.write_record(&rec).unwrap();
        want.push(rec);
    }
    let bytes = w.into_inner().unwrap();
    // The reference reading.
    let mut reference = ::csv::ReaderBuilder::new().from_reader(bytes.as_slice());
    let ref_rows: Vec<Vec<String>> =
        reference.records().map(|r| r.unwrap().iter().map(str::to_owned).collect()).collect();
    assert_eq!(ref_rows, want);

    let r = read_csv(&bytes, opts(33, 65536));
    assert!(r.rejects.is_empty());
    let names: Vec<&str> = HEADER.split(',').collect();
    for (got, want) in r.rows.iter().zip(&want) {
        for (name, value) in names.iter().zip(want) {
            let i = police().index_of(name).unwrap();
            let expect = (!value.is_empty()).then(|| value.clone());
            assert_eq!(got.1[i], expect, "{name}");
        }
    }
    assert_eq!(r.rows.len(), want.len());
}

// -------------------------------------------------------------------------------- JSON Lines

fn read_jsonl(bytes: impl AsRef<[u8]>, o: FileSourceOptions) -> (Read, Vec<String>) {
    let f = file("police.jsonl", bytes);
    let mut src = FileSource::open(&f.path, FileFormat::JsonLines, police(), o).unwrap();
    let read = read_source(&mut src, police());
    (read, src.unknown_columns())
}

#[test]
fn jsonl_values_of_each_type() {
    let text = concat!(
        r#"{"record_id":"R1","forename":"Ann","missing_duration_hours":12,"marac_referral":true,"encompass_notified":false,"pnc_id":null,"surname":""}"#,
        "\n",
        r#"{"record_id":"R2","missing_duration_hours":1.50,"uprn":-1e3,"forename":"Line\nbreak \"q\" \u00e9 \ud83d\ude00","surname":"Lee"}"#,
        "\n",
    );
    let (r, unknown) = read_jsonl(text, FileSourceOptions::default());
    assert!(r.rejects.is_empty(), "{:?}", r.reject_summary());
    assert!(unknown.is_empty());
    let f = police();
    assert_eq!(r.positions(), [1, 2]);
    assert_eq!(r.column(f, "record_id"), [s("R1"), s("R2")]);
    assert_eq!(r.column(f, "forename"), [s("Ann"), s("Line\nbreak \"q\" é 😀")]);
    assert_eq!(r.column(f, "missing_duration_hours"), [s("12"), s("1.50")], "numbers keep their JSON text");
    assert_eq!(r.column(f, "uprn"), [None, s("-1e3")]);
    assert_eq!(r.column(f, "marac_referral"), [s("true"), None]);
    assert_eq!(r.column(f, "encompass_notified"), [s("false"), None]);
    assert_eq!(r.column(f, "pnc_id"), [None, None], "null is null");
    assert_eq!(r.column(f, "surname"), [None, s("Lee")], "empty is null");
    assert_eq!(r.column(f, "postcode"), [None, None], "absent is null");
}

#[test]
fn jsonl_keys_match_without_case_and_unknown_keys_are_reported() {
    let text = concat!(
        r#"{"Record_ID":"R1","notes":"secret","extra":{"deep":[1]}}"#,
        "\n",
        r#"{"record_id":"R2","Notes":"x","zeta":1}"#,
        "\n",
    );
    let (r, unknown) = read_jsonl(text, FileSourceOptions::default());
    assert!(r.rejects.is_empty(), "a nested value under an unknown key is dropped, not rejected");
    assert_eq!(r.column(police(), "record_id"), [s("R1"), s("R2")]);
    assert_eq!(unknown, ["Notes", "extra", "notes", "zeta"]);
}

#[test]
fn jsonl_keys_in_changing_order() {
    let text = concat!(
        r#"{"record_id":"R1","forename":"A","surname":"B"}"#,
        "\n",
        r#"{"surname":"D","record_id":"R2","forename":"C"}"#,
        "\n",
        r#"{"forename":"E"}"#,
        "\n",
    );
    let (r, _) = read_jsonl(text, FileSourceOptions::default());
    assert_eq!(r.column(police(), "record_id"), [s("R1"), s("R2"), None]);
    assert_eq!(r.column(police(), "forename"), [s("A"), s("C"), s("E")]);
    assert_eq!(r.column(police(), "surname"), [s("B"), s("D"), None]);
}

#[test]
fn jsonl_bad_lines_are_rejected_with_their_line_and_bytes() {
    let mut text = Vec::new();
    let lines: [&[u8]; 9] = [
        br#"{"record_id":"R1"}"#,
        br#"{"record_id":"R2","forename":{"first":"Ann"}}"#,
        br#"{"record_id":"R3","surname":["Lee"]}"#,
        br#"["record_id","R4"]"#,
        br#""just a string""#,
        br#"{"record_id":"R6","forename":"Ann""#,
        b"{\"record_id\":\"R7\",\"forename\":\"A\xFFn\"}",
        br#"{"record_id":"R8","forename":"A","FORENAME":"B"}"#,
        br#"{"record_id":"R9"} trailing"#,
    ];
    for l in lines {
        text.extend_from_slice(l);
        text.push(b'\n');
    }
    text.extend_from_slice(br#"{"record_id":"R10"}"#);
    let (r, _) = read_jsonl(&text, FileSourceOptions::default());
    assert_eq!(r.positions(), [1, 10]);
    assert_eq!(
        r.reject_summary(),
        [
            (2, Rule::JsonValueType, Some("forename")),
            (3, Rule::JsonValueType, Some("surname")),
            (4, Rule::JsonMalformed, None),
            (5, Rule::JsonMalformed, None),
            (6, Rule::JsonMalformed, None),
            (7, Rule::InvalidUtf8, None),
            (8, Rule::JsonMalformed, Some("forename")),
            (9, Rule::JsonMalformed, None),
        ]
    );
    for rej in &r.rejects {
        assert_eq!(rej.raw, lines[rej.position as usize - 1], "line {}", rej.position);
    }
}

#[test]
fn jsonl_blank_lines_crlf_and_bom() {
    let text = "\u{feff}{\"record_id\":\"R1\"}\r\n\r\n   \n\t\r\n{\"record_id\":\"R5\"}\r\n\n";
    let (r, _) = read_jsonl(text, FileSourceOptions::default());
    assert!(r.rejects.is_empty(), "{:?}", r.reject_summary());
    assert_eq!(r.positions(), [1, 5]);
    assert_eq!(r.column(police(), "record_id"), [s("R1"), s("R5")]);
    let (r, unknown) = read_jsonl("\n\n", FileSourceOptions::default());
    assert!(r.batches.is_empty() && unknown.is_empty(), "blank lines only: no records");
    let f = file("empty.jsonl", "");
    let err = FileSource::open(&f.path, FileFormat::JsonLines, police(), FileSourceOptions::default()).unwrap_err();
    assert!(matches!(err, SourceError::EmptyFile { .. }), "a zero-byte file is refused: {err}");
}

#[test]
fn jsonl_too_long_line_is_rejected_keeping_at_most_the_limit() {
    let long = format!(r#"{{"record_id":"R2","forename":"{}"}}"#, "A".repeat(100_000));
    let exact = r#"{"record_id":"R3"}"#;
    let text = format!("{{\"record_id\":\"R1\"}}\n{long}\r\n{exact}\r\n{long}");
    let (r, _) = read_jsonl(&text, opts(10, exact.len()));
    assert_eq!(r.positions(), [1, 3]);
    assert_eq!(r.reject_summary(), [(2, Rule::LineTooLong, None), (4, Rule::LineTooLong, None)]);
    assert_eq!(r.rejects[0].raw, &long.as_bytes()[..exact.len()]);
}

#[test]
fn jsonl_batches_are_bounded() {
    let mut text = String::new();
    for i in 0..500 {
        if i % 10 == 3 {
            text.push_str("not json\n");
        } else {
            text.push_str(&format!("{{\"record_id\":\"R{i}\"}}\n"));
        }
    }
    let f = file("police.jsonl", &text);
    let mut src = FileSource::open(&f.path, FileFormat::JsonLines, police(), opts(16, 1024)).unwrap();
    let r = read_source(&mut src, police());
    assert!(r.batches.iter().all(|b| b.batch.num_rows() + b.rejects.len() <= 16));
    assert_eq!((r.rows.len(), r.rejects.len()), (450, 50));
    assert_eq!(src.bytes_read(), text.len() as u64);
}

#[test]
fn jsonl_unknown_keys_are_bounded() {
    let mut text = String::new();
    for i in 0..(MAX_UNKNOWN_KEYS + 50) {
        text.push_str(&format!("{{\"record_id\":\"R\",\"k{i:05}\":1}}\n"));
    }
    let (r, unknown) = read_jsonl(&text, FileSourceOptions::default());
    assert_eq!(r.rows.len(), MAX_UNKNOWN_KEYS + 50);
    assert_eq!(unknown.len(), MAX_UNKNOWN_KEYS);
}

// ------------------------------------------------------------------------------------ errors

#[test]
fn open_a_missing_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nope.csv");
    let err = FileSource::open(&path, FileFormat::Csv, police(), FileSourceOptions::default()).unwrap_err();
    assert!(matches!(err, SourceError::Open { .. }));
    assert!(err.to_string().contains("nope.csv"), "{err}");
}

#[cfg(unix)]
#[test]
fn a_device_a_directory_or_a_symlink_to_a_device_is_refused_before_it_is_opened() {
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("police.csv");
    std::os::unix::fs::symlink("/dev/zero", &link).unwrap();
    for (path, kind) in [
        (PathBuf::from("/dev/null"), "a character device"),
        (link.clone(), "a character device"),
        (dir.path().to_owned(), "a directory"),
    ] {
        let err = FileSource::open(&path, FileFormat::Csv, police(), FileSourceOptions::default()).unwrap_err();
        assert!(matches!(&err, SourceError::NotRegular { kind: k, .. } if *k == kind), "{path:?}: {err:?}");
        assert_eq!(err.rule_code(), "file.not_regular");
        let msg = err.to_string();
        assert!(msg.contains(&path.display().to_string()) && msg.contains("regular file"), "{msg}");
    }
    let fifo = dir.path().join("fifo.jsonl");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    // Opening a FIFO with no writer would block for ever; the check never opens it.
    let err = check_regular_file(&fifo).unwrap_err();
    assert!(matches!(&err, SourceError::NotRegular { kind: "a FIFO", .. }), "{err:?}");
    assert!(check_regular_file(&file("police.csv", format!("{HEADER}\n")).path).is_ok());
}

#[test]
fn error_messages_name_the_file_but_never_a_value() {
    const SECRET: &str = "9434765919";
    let data = format!("{},{SECRET}", row(SECRET));
    let mut errors = vec![
        open_err(b""),
        open_err([SECRET.as_bytes(), b",\xFF\n"].concat()),
        open_err(format!("record_id,{SECRET},occurrence_ref\n{data}\n")),
        open_err(format!("{HEADER},forename\n{data}\n")),
        open_err(format!("{HEADER},\"{SECRET}\n{data}\n")),
    ];
    let f = file("police.csv", format!("{HEADER},{SECRET}\n{data}\n"));
    errors.push(FileSource::open(&f.path, FileFormat::Csv, police(), opts(10, 30)).unwrap_err());
    let path = PathBuf::from("in/police.csv");
    errors.push(SourceError::Read { path: path.clone(), line: 7, source: std::io::Error::other("disk on fire") });
    errors.push(SourceError::Open { path, source: std::io::Error::from(std::io::ErrorKind::PermissionDenied) });
    let kinds: Vec<&str> = errors
        .iter()
        .map(|e| match e {
            SourceError::Open { .. } => "open",
            SourceError::NotRegular { .. } => "not_regular",
            SourceError::Read { .. } => "read",
            SourceError::EmptyFile { .. } => "empty",
            SourceError::Utf16 { .. } => "utf16",
            SourceError::Compressed { .. } => "compressed",
            SourceError::HeaderNotUtf8 { .. } => "utf8",
            SourceError::HeaderTooLong { .. } => "too_long",
            SourceError::HeaderMalformed { .. } => "malformed",
            SourceError::MissingColumns { .. } => "missing",
            SourceError::DuplicateColumn { .. } => "duplicate",
            SourceError::Mapping { .. } => "mapping",
            SourceError::Workbook { .. } => "workbook",
            SourceError::SheetMissing { .. } => "sheet",
            SourceError::EmptySheet { .. } => "empty_sheet",
            SourceError::SheetMissingColumns(_) => "sheet_missing_columns",
            SourceError::UncalculatedFormulas(_) => "uncalculated_formulas",
        })
        .collect();
    assert_eq!(kinds, ["empty", "utf8", "missing", "duplicate", "malformed", "too_long", "read", "open"]);
    for e in &errors {
        let msg = format!("{e} / {e:?}");
        assert!(!msg.contains(SECRET), "{msg}");
        assert!(msg.contains("police.csv"), "{msg}");
    }
    assert!(errors[6].to_string().contains("line 7"));
}

#[test]
fn file_format_names() {
    assert_eq!("csv".parse::<FileFormat>(), Ok(FileFormat::Csv));
    assert_eq!(" JSONL ".parse::<FileFormat>(), Ok(FileFormat::JsonLines));
    assert_eq!("ndjson".parse::<FileFormat>(), Ok(FileFormat::JsonLines));
    assert_eq!("XLSX".parse::<FileFormat>(), Ok(FileFormat::Xlsx));
    assert_eq!("Xls".parse::<FileFormat>(), Ok(FileFormat::Xls));
    assert_eq!("ods".parse::<FileFormat>(), Ok(FileFormat::Ods));
    assert!("xlsb".parse::<FileFormat>().is_err());
    assert_eq!(FileFormat::Csv.to_string(), "csv");
    assert_eq!(FileFormat::JsonLines.to_string(), "jsonl");
    for f in [FileFormat::Csv, FileFormat::JsonLines, FileFormat::Xlsx, FileFormat::Xls, FileFormat::Ods] {
        assert_eq!(f.to_string().parse::<FileFormat>(), Ok(f));
        assert_eq!(f.is_workbook(), !matches!(f, FileFormat::Csv | FileFormat::JsonLines));
    }
    assert_eq!(FileFormat::from_path(std::path::Path::new("a/b.ODS")), Some(FileFormat::Ods));
    assert_eq!(FileFormat::from_path(std::path::Path::new("a/b.CSV")), Some(FileFormat::Csv));
    assert_eq!(FileFormat::from_path(std::path::Path::new("b.ndjson")), Some(FileFormat::JsonLines));
    assert_eq!(FileFormat::from_path(std::path::Path::new("b.txt")), Some(FileFormat::Csv), "delimited text");
    assert_eq!(FileFormat::from_path(std::path::Path::new("b.pdf")), None);
    assert_eq!(FileSourceOptions::default(), opts(8192, 1 << 20));
}

#[test]
fn jsonl_whitespace_inside_objects() {
    let text = "  { \"record_id\" : \"R1\" ,\t\"missing_duration_hours\" :  12 , \"marac_referral\":true }  \n";
    let (r, _) = read_jsonl(text, FileSourceOptions::default());
    assert!(r.rejects.is_empty(), "{:?}", r.reject_summary());
    assert_eq!(r.column(police(), "record_id"), [s("R1")]);
    assert_eq!(r.column(police(), "missing_duration_hours"), [s("12")]);
    assert_eq!(r.column(police(), "marac_referral"), [s("true")]);
}

#[test]
fn a_source_can_move_to_a_reader_thread() {
    fn send<T: Send>() {}
    send::<FileSource>();
    send::<RawBatch>();
}

/// Throughput, for a release build: `cargo test -p tellonce-connectors --release -- --ignored
/// throughput --nocapture`.
#[test]
#[ignore = "benchmark: run in release with --ignored"]
fn throughput() {
    use std::io::Write as _;
    use std::time::Instant;
    let rows = 1_000_000;
    let dir = tempfile::tempdir().unwrap();
    let header = format!("{HEADER},pnc_id,date_of_birth,sex,address_line_1,postcode,uprn,dash_risk,outcome");
    let csv_path = dir.path().join("police.csv");
    let jsonl_path = dir.path().join("police.jsonl");
    let mut csv = std::io::BufWriter::new(std::fs::File::create(&csv_path).unwrap());
    let mut jsonl = std::io::BufWriter::new(std::fs::File::create(&jsonl_path).unwrap());
    writeln!(csv, "{header}").unwrap();
    for i in 0..rows {
        let values = [
            format!("R{i:08}"),
            format!("OCC{:07}", i / 3),
            "Annabelle".to_owned(),
            if i % 10 == 0 { "\"Smith, Jones\"".to_owned() } else { "Smith-Jones".to_owned() },
            "2024-03-15".to_owned(),
            "DOMESTIC_ABUSE".to_owned(),
            "CHILD_PRESENT".to_owned(),
            "2001/0000001Z".to_owned(),
            "2014-07-21".to_owned(),
            "F".to_owned(),
            "12 Acacia Avenue".to_owned(),
            "RH10 1AB".to_owned(),
            format!("{}", 100_000_000 + i),
            "MEDIUM".to_owned(),
            String::new(),
        ];
        writeln!(csv, "{}", values.join(",")).unwrap();
        let names: Vec<&str> = header.split(',').collect();
        let obj: Vec<String> = names
            .iter()
            .zip(&values)
            .map(|(k, v)| format!("\"{k}\":{}", serde_json::to_string(&v.replace('"', "")).unwrap()))
            .collect();
        writeln!(jsonl, "{{{}}}", obj.join(",")).unwrap();
    }
    drop((csv, jsonl));

    for (path, format) in [(&csv_path, FileFormat::Csv), (&jsonl_path, FileFormat::JsonLines)] {
        let size = std::fs::metadata(path).unwrap().len();
        let start = Instant::now();
        let mut src = FileSource::open(path, format, police(), FileSourceOptions::default()).unwrap();
        let mut n = 0;
        let mut batches = Vec::new();
        while let Some(b) = src.next_batch().unwrap() {
            n += b.batch.num_rows();
            if batches.len() < 16 {
                batches.push(b.batch);
            }
        }
        let secs = start.elapsed().as_secs_f64();
        assert_eq!(n, rows);
        eprintln!(
            "{format}: {rows} rows, {:.0} MB in {secs:.2} s: {:.2} M rows/s, {:.0} MB/s",
            size as f64 / 1e6,
            rows as f64 / secs / 1e6,
            size as f64 / secs / 1e6
        );
        if format == FileFormat::Csv {
            let schema = batches[0].schema();
            let start = Instant::now();
            let mut w = crate::parquet_sink::PartWriter::create(
                dir.path(),
                "bench",
                &[("feed", "police")],
                "p.parquet",
                schema,
                &crate::parquet_sink::PartOptions::default(),
            )
            .unwrap();
            let mut written = 0;
            for _ in 0..(rows / (16 * 8192)).max(1) {
                for b in &batches {
                    w.write(b).unwrap();
                    written += b.num_rows();
                }
            }
            let c = w.commit().unwrap();
            let secs = start.elapsed().as_secs_f64();
            eprintln!(
                "parquet (raw Utf8 batches): {written} rows in {secs:.2} s: {:.2} M rows/s, {} bytes",
                written as f64 / secs / 1e6,
                c.bytes
            );
        }
    }
}

#[test]
fn dialects_tab_and_semicolon_windows_1252_detected_and_latin_1_declared() {
    let tab = format!("{}\n{}\tR\u{e9}n\u{e9}e\tLee\t2024-01-05\tCRIME\tVICTIM\n", HEADER.replace(',', "\t"), "R1\tO1");
    let bytes = encoding_rs::WINDOWS_1252.encode(&tab).0.into_owned();
    let f = file("police.tsv", &bytes);
    let auto = Dialect { delimiter: DelimiterChoice::Auto, encoding: EncodingChoice::Auto, ..Dialect::default() };
    let mut source =
        FileSource::open_with(&f.path, FileFormat::Csv, police(), opts(10, 1000), auto.clone(), None).unwrap();
    assert_eq!((source.delimiter(), source.encoding()), (Some(b'\t'), Encoding::Windows1252));
    let raw = source.next_batch().unwrap().unwrap();
    let forename = raw.batch.column(police().index_of("forename").unwrap()).as_any().downcast_ref::<StringArray>();
    assert_eq!(forename.unwrap().value(0), "Rénée");

    // The same bytes read as UTF-8 (today's default) reject the record, naming the column.
    let semi = bytes.iter().map(|&b| if b == b'\t' { b';' } else { b }).collect::<Vec<u8>>();
    let f = file("police.csv", &semi);
    let declared = Dialect { delimiter: DelimiterChoice::Byte(b';'), ..Dialect::default() };
    let mut source =
        FileSource::open_with(&f.path, FileFormat::Csv, police(), opts(10, 1000), declared.clone(), None).unwrap();
    let raw = source.next_batch().unwrap().unwrap();
    assert_eq!(raw.rejects[0].rule, Rule::InvalidUtf8);
    assert_eq!(raw.rejects[0].column.as_deref(), Some("forename"));
    let latin1 = Dialect { encoding: EncodingChoice::Known(Encoding::Latin1), ..declared };
    let mut source = FileSource::open_with(&f.path, FileFormat::Csv, police(), opts(10, 1000), latin1, None).unwrap();
    let raw = source.next_batch().unwrap().unwrap();
    assert!(raw.rejects.is_empty());
    // A UTF-8 file stays UTF-8 under `auto`.
    let f = file("police.csv", tab.replace('\t', ","));
    let source = FileSource::open_with(&f.path, FileFormat::Csv, police(), opts(10, 1000), auto, None).unwrap();
    assert_eq!((source.delimiter(), source.encoding()), (Some(b','), Encoding::Utf8));
}

/// Writes a workbook with a real writer: a title row, then `Cases` with the police header,
/// typed cells (numbers, a date cell, a boolean), an empty row and an error-free blank cell.
fn police_workbook(path: &std::path::Path) {
    use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
    let mut wb = Workbook::new();
    let notes = wb.add_worksheet();
    notes.set_name("Notes").unwrap();
    notes.write_string(0, 0, "Not this one").unwrap();
    let sheet = wb.add_worksheet();
    sheet.set_name("Cases").unwrap();
    sheet.write_string(0, 0, "Police incidents export").unwrap();
    for (j, h) in
        ["RECORD_ID", "occurrence_ref", "Forename", "Surname", "incident_date", "incident_type", "person_role"]
            .iter()
            .enumerate()
    {
        sheet.write_string(2, j as u16, *h).unwrap();
    }
    let date = Format::new().set_num_format("dd/mm/yyyy");
    sheet.write_number(3, 0, 1001.0).unwrap();
    sheet.write_string(3, 1, "OCC-1").unwrap();
    sheet.write_string(3, 2, "Zoë").unwrap();
    sheet.write_string(3, 3, "Lee").unwrap();
    sheet.write_datetime_with_format(3, 4, ExcelDateTime::from_ymd(2024, 1, 5).unwrap(), &date).unwrap();
    sheet.write_string(3, 5, "CRIME").unwrap();
    sheet.write_string(3, 6, "VICTIM").unwrap();
    // Row 5 (index 4) empty; row 6 a text date and a fractional number as the reference.
    sheet.write_number(5, 0, 1002.5).unwrap();
    sheet.write_string(5, 1, "OCC-2").unwrap();
    sheet.write_string(5, 2, "Al").unwrap();
    sheet.write_string(5, 3, "Day").unwrap();
    sheet.write_string(5, 4, "2024-02-30").unwrap();
    sheet.write_boolean(5, 5, true).unwrap();
    sheet.write_string(5, 6, "VICTIM").unwrap();
    wb.save(path).unwrap();
}

/// The same workbook as [`police_workbook`], written as an OpenDocument spreadsheet by a real
/// writer (`spreadsheet-ods`): typed float, date and boolean cells.
fn police_ods(path: &std::path::Path) {
    use spreadsheet_ods::{Sheet, WorkBook, format};
    let mut wb = WorkBook::new_empty();
    let mut notes = Sheet::new("Notes");
    notes.set_value(0, 0, "Not this one");
    wb.push_sheet(notes);
    let date = wb.add_datetime_format(format::create_date_dmy_format("dmy"));
    let date = wb.add_cellstyle(spreadsheet_ods::CellStyle::new("date", &date));
    let mut sheet = Sheet::new("Cases");
    sheet.set_value(0, 0, "Police incidents export");
    for (j, h) in
        ["RECORD_ID", "occurrence_ref", "Forename", "Surname", "incident_date", "incident_type", "person_role"]
            .iter()
            .enumerate()
    {
        sheet.set_value(2, j as u32, *h);
    }
    sheet.set_value(3, 0, 1001.0);
    sheet.set_value(3, 1, "OCC-1");
    sheet.set_value(3, 2, "Zoë");
    sheet.set_value(3, 3, "Lee");
    sheet.set_styled_value(3, 4, chrono::NaiveDate::from_ymd_opt(2024, 1, 5).unwrap(), &date);
    sheet.set_value(3, 5, "CRIME");
    sheet.set_value(3, 6, "VICTIM");
    sheet.set_value(5, 0, 1002.5);
    sheet.set_value(5, 1, "OCC-2");
    sheet.set_value(5, 2, "Al");
    sheet.set_value(5, 3, "Day");
    sheet.set_value(5, 4, "2024-02-30");
    sheet.set_value(5, 5, true);
    sheet.set_value(5, 6, "VICTIM");
    wb.push_sheet(sheet);
    spreadsheet_ods::write_ods(&mut wb, path).unwrap();
}

/// Reads the police workbook at `path` (either writer's) as `format`: sheet by name, typed
/// cells as Excel's General format shows them, the errors a missing sheet or a damaged file
/// gives.
fn check_police_workbook(path: &std::path::Path, format: FileFormat) {
    assert_eq!(FileFormat::from_path(path), Some(format));
    assert!(format.is_workbook());
    let dialect = Dialect { sheet: Some("Cases".to_owned()), skip_lines: 1, ..Dialect::default() };
    let mut source = FileSource::open_with(path, format, police(), opts(10, 1000), dialect.clone(), None).unwrap();
    let read = read_source(&mut source, police());
    assert_eq!(read.positions(), [4, 6], "{format}: sheet row numbers, the empty row skipped");
    assert!(read.rejects.is_empty());
    let s = |v: &str| Some(v.to_owned());
    assert_eq!(read.column(police(), "record_id"), [s("1001"), s("1002.5")], "{format}");
    assert_eq!(read.column(police(), "forename"), [s("Zoë"), s("Al")], "{format}");
    assert_eq!(read.column(police(), "incident_date"), [s("2024-01-05"), s("2024-02-30")], "{format}");
    assert_eq!(read.column(police(), "incident_type"), [s("CRIME"), s("true")], "{format}");
    assert_eq!(read.column(police(), "pnc_id"), [None, None]);

    let missing = Dialect { sheet: Some("Incidents".to_owned()), ..dialect };
    let err = FileSource::open_with(path, format, police(), opts(10, 1000), missing, None).unwrap_err();
    assert_eq!(err.rule_code(), "workbook.sheet_missing");
    assert!(err.to_string().contains("Notes, Cases"), "{err}");
    // The first sheet, by default: it has no police header.
    let err = FileSource::open_with(path, format, police(), opts(10, 1000), Dialect::default(), None).unwrap_err();
    assert_eq!(err.rule_code(), "header.missing_columns", "{format}");
    let bad = path.with_file_name(format!("bad.{format}"));
    std::fs::write(&bad, "record_id\nR1\n").unwrap();
    let err = FileSource::open(&bad, format, police(), opts(10, 1000)).unwrap_err();
    assert_eq!(err.rule_code(), "workbook.unreadable", "{format}");
}

#[test]
fn xlsx_sheet_by_name_read_like_a_csv_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("police.xlsx");
    police_workbook(&path);
    check_police_workbook(&path, FileFormat::Xlsx);
}

#[test]
fn ods_sheet_by_name_read_like_a_csv_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("police.ods");
    police_ods(&path);
    check_police_workbook(&path, FileFormat::Ods);
}

#[test]
fn xls_that_is_not_a_workbook_is_refused_by_name() {
    // Real .xls files come from Python's xlwt in the end-to-end tests; here, a damaged one.
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("cases.XLS");
    std::fs::write(&bad, b"\xD0\xCF\x11\xE0 not a compound file").unwrap();
    assert_eq!(FileFormat::from_path(&bad), Some(FileFormat::Xls));
    let err = FileSource::open(&bad, FileFormat::Xls, police(), opts(10, 1000)).unwrap_err();
    assert_eq!(err.rule_code(), "workbook.unreadable");
    assert!(err.to_string().contains("cases.XLS"), "{err}");
}

/// A family's three children as a partner formats them: what they share written once, in a
/// cell merged down their rows (top-aligned, so its covered cells are written, blank).
fn merged_workbook(path: &std::path::Path) {
    use rust_xlsxwriter::{Format, FormatAlign, Workbook};
    let mut wb = Workbook::new();
    let sheet = wb.add_worksheet();
    let top = Format::new().set_align(FormatAlign::Top);
    let headings =
        ["record_id", "occurrence_ref", "forename", "surname", "incident_date", "incident_type", "person_role"];
    for (j, h) in headings.iter().enumerate() {
        sheet.write_string(0, j as u16, *h).unwrap();
    }
    // A heading merged over two columns names the first: filled across, `address_line_1` would
    // be named twice and the file refused.
    sheet.merge_range(0, 7, 0, 8, "address_line_1", &top).unwrap();
    sheet.write_string(0, 9, "postcode").unwrap();
    for (r, (id, forename)) in [("R1", "Ann"), ("R2", "Bo"), ("R3", "Cy"), ("R4", "Di")].iter().enumerate() {
        let r = r as u32 + 1;
        sheet.write_string(r, 0, *id).unwrap();
        sheet.write_string(r, 2, *forename).unwrap();
        sheet.write_string(r, 4, "2024-01-05").unwrap();
        sheet.write_string(r, 6, "VICTIM").unwrap();
    }
    sheet.merge_range(1, 1, 3, 1, "OCC-1", &top).unwrap();
    sheet.merge_range(1, 3, 3, 3, "Lee", &top).unwrap();
    // The address over the family's rows and one more, which has nothing else: not a record.
    sheet.merge_range(1, 7, 5, 7, "3 Southdown Road", &top).unwrap();
    // Over two rows and two columns: every cell it covers, over the values written there.
    sheet.merge_range(2, 5, 3, 6, "CRIME", &top).unwrap();
    sheet.merge_range(3, 9, 4, 9, "RH15 9PF", &top).unwrap();
    sheet.write_string(4, 1, "OCC-2").unwrap();
    sheet.write_string(4, 3, "Day").unwrap();
    wb.save(path).unwrap();
}

#[test]
fn xlsx_a_merged_cells_value_is_every_covered_cells() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("merged.xlsx");
    merged_workbook(&path);
    let mut source = FileSource::open(&path, FileFormat::Xlsx, police(), opts(2, 1000)).unwrap();
    let read = read_source(&mut source, police());
    assert!(read.rejects.is_empty(), "{:?}", read.reject_summary());
    assert_eq!(read.positions(), [2, 3, 4, 5], "the row of nothing but the address is no record");
    assert_eq!(read.column(police(), "occurrence_ref"), [s("OCC-1"), s("OCC-1"), s("OCC-1"), s("OCC-2")]);
    assert_eq!(read.column(police(), "surname"), [s("Lee"), s("Lee"), s("Lee"), s("Day")]);
    let address = s("3 Southdown Road");
    assert_eq!(read.column(police(), "address_line_1"), [address.clone(), address.clone(), address.clone(), address]);
    assert_eq!(read.column(police(), "incident_type"), [None, s("CRIME"), s("CRIME"), None]);
    assert_eq!(read.column(police(), "person_role"), [s("VICTIM"), s("CRIME"), s("CRIME"), s("VICTIM")]);
    assert_eq!(read.column(police(), "postcode"), [None, None, s("RH15 9PF"), s("RH15 9PF")]);
    // The header is matched on its cells' own text: the second column under the merged
    // heading has none, is not read, and is said to be so.
    assert_eq!(source.unknown_columns(), ["unnamed_column_9"]);
}

#[test]
fn an_empty_first_sheet_names_the_sheets_to_choose_from() {
    use rust_xlsxwriter::Workbook;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cover.xlsx");
    let mut wb = Workbook::new();
    wb.add_worksheet().set_name("Cover").unwrap();
    let cases = wb.add_worksheet().set_name("Cases").unwrap();
    cases.write_string(0, 0, "record_id").unwrap();
    wb.add_worksheet().set_name("Notes").unwrap();
    wb.save(&path).unwrap();
    let err = FileSource::open(&path, FileFormat::Xlsx, police(), opts(10, 1000)).unwrap_err();
    assert_eq!(err.rule_code(), "file.empty");
    let msg = err.to_string();
    assert!(msg.contains("the sheet \"Cover\" of ") && msg.contains("cover.xlsx"), "{msg}");
    assert!(msg.contains("other sheets are \"Cases\", \"Notes\"") && msg.contains("sheet = "), "{msg}");
    // A sheet with rows, but none after those skipped: the same, saying so.
    let dialect = Dialect { sheet: Some("Cases".to_owned()), skip_lines: 3, ..Dialect::default() };
    let err = FileSource::open_with(&path, FileFormat::Xlsx, police(), opts(10, 1000), dialect, None).unwrap_err();
    assert_eq!(err.rule_code(), "file.empty");
    let msg = err.to_string();
    assert!(msg.contains("\"Cases\"") && msg.contains("after the 3 rows skipped"), "{msg}");
    assert!(msg.contains("other sheets are \"Cover\", \"Notes\""), "{msg}");
}

// ------------------------------------------------------------------------- withdrawal column

/// A police mapping whose `Record Status` column marks records withdrawn.
fn withdrawal_mapping() -> Arc<Mapping> {
    let text = "feed = \"police\"\n[withdrawal]\ncolumn = \"Record Status\"\nvalues = [\"Deleted\", \"withdrawn\"]\n";
    Arc::new(Mapping::parse(std::path::Path::new("m.toml"), text.as_bytes(), police()).unwrap())
}

/// Reads `f` through the withdrawal mapping: the rows, per row whether it is marked, and the
/// headings reported unknown.
fn read_marked(f: &Fixture, format: FileFormat) -> (Read, Vec<bool>, Vec<String>) {
    let mapping = Some(withdrawal_mapping());
    let mut source =
        FileSource::open_with(&f.path, format, police(), opts(2, 1000), Dialect::default(), mapping).unwrap();
    let read = read_source(&mut source, police());
    let mut marked = Vec::new();
    for b in &read.batches {
        // One mark per row, or none for a file without the column.
        assert!(b.withdrawn.is_empty() || b.withdrawn.len() == b.batch.num_rows());
        match b.withdrawn.is_empty() {
            true => marked.extend(std::iter::repeat_n(false, b.batch.num_rows())),
            false => marked.extend(&b.withdrawn),
        }
    }
    (read, marked, source.unknown_columns())
}

#[test]
fn a_mapped_withdrawal_column_marks_rows_and_is_not_passed_on_as_a_column() {
    let rows = [row("P1") + ",,", row("P2") + ", deleted ,", row("P3") + ",Active,x", row("P4") + ",WITHDRAWN,"];
    let csv = format!("{HEADER},record status,Notes\n{}\n", rows.join("\n"));
    let f = file("police.csv", csv);
    let (read, marked, unknown) = read_marked(&f, FileFormat::Csv);
    assert!(read.rejects.is_empty(), "{:?}", read.reject_summary());
    assert_eq!(read.column(police(), "record_id"), [s("P1"), s("P2"), s("P3"), s("P4")]);
    assert_eq!(marked, [false, true, false, true]);
    assert_eq!(unknown, ["Notes"], "the marker is not an unknown column");

    let lines = [
        r#"{"record_id":"J1","Record Status":"Deleted"}"#,
        r#"{"record_id":"J2"}"#,
        r#"{"RecordStatus":"withdrawn","record_id":"J3"}"#,
        r#"{"record_id":"J4","record_status":null}"#,
    ];
    let f = file("police.jsonl", lines.join("\n"));
    let (read, marked, unknown) = read_marked(&f, FileFormat::JsonLines);
    assert_eq!(read.column(police(), "record_id"), [s("J1"), s("J2"), s("J3"), s("J4")]);
    assert_eq!(marked, [true, false, true, false]);
    assert!(unknown.is_empty(), "{unknown:?}");

    // A file without the column marks nothing.
    let f = file("police.csv", format!("{HEADER}\n{}\n", row("P9")));
    let (_, marked, _) = read_marked(&f, FileFormat::Csv);
    assert_eq!(marked, [false]);
}

#[test]
fn a_date_cell_is_read_in_its_workbooks_date_system() {
    use calamine::{Data, ExcelDateTime, ExcelDateTimeType};
    let text = |serial: f64, is_1904: bool| {
        let cell = Data::DateTime(ExcelDateTime::new(serial, ExcelDateTimeType::DateTime, is_1904));
        let mut scratch = String::new();
        super::workbook_file::cell_text(&cell, &mut scratch).map(str::to_owned)
    };
    // 2012-07-13 is serial 41103 from 1899-12-30 and 39641 from 1904-01-01 (old Mac Excel).
    assert_eq!(text(41_103.0, false).as_deref(), Some("2012-07-13"));
    assert_eq!(text(39_641.0, true).as_deref(), Some("2012-07-13"));
    assert_eq!(text(39_641.75, true).as_deref(), Some("2012-07-13"), "the time of day dropped");
    assert_eq!(text(41_103.999_999_995, false).as_deref(), Some("2012-07-13"), "23:59:59.9996 is still that day");
    // Outside the calendar: the number, not a date made up at the epoch or the end of time.
    assert_eq!(text(-3.0, false).as_deref(), Some("-3"));
    assert_eq!(text(1e9, true).as_deref(), Some("1000000000"));
}

// ------------------------------------------------------------------ partner workbooks' quirks

/// A police workbook whose sheet `name` holds one record `id`, with a number formatted `format`
/// as its `incident_type` and a formula cell whose saved result is `result` as its surname.
fn quirky_sheet(wb: &mut rust_xlsxwriter::Workbook, name: &str, id: f64, number: f64, format: &str, result: &str) {
    use rust_xlsxwriter::{Format, Formula};
    let sheet = wb.add_worksheet();
    sheet.set_name(name).unwrap();
    for (j, h) in
        ["record_id", "occurrence_ref", "forename", "surname", "incident_date", "incident_type", "person_role"]
            .iter()
            .enumerate()
    {
        sheet.write_string(0, j as u16, *h).unwrap();
    }
    sheet.write_number_with_format(1, 0, id, &Format::new().set_num_format("00000000")).unwrap();
    sheet.write_string(1, 1, "OCC-1").unwrap();
    sheet.write_string(1, 2, "Ann").unwrap();
    sheet.write_formula(1, 3, Formula::new("=B2").set_result(result)).unwrap();
    sheet.write_string(1, 4, "2024-01-05").unwrap();
    sheet.write_number_with_format(1, 5, number, &Format::new().set_num_format(format)).unwrap();
    sheet.write_string(1, 6, "VICTIM").unwrap();
}

#[test]
fn a_number_reads_as_its_format_shows_it_and_an_unknown_error_cell_as_empty() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("quirks.xlsx");
    let mut wb = rust_xlsxwriter::Workbook::new();
    // `#GETTING_DATA` is an error value calamine does not know, as Excel 365's `#SPILL!` is not.
    quirky_sheet(&mut wb, "Cases", 42.0, 0.931, "0.0%", "#GETTING_DATA");
    wb.save(&path).unwrap();
    let mut source = FileSource::open(&path, FileFormat::Xlsx, police(), opts(10, 1000)).unwrap();
    let read = read_source(&mut source, police());
    assert!(read.rejects.is_empty());
    assert_eq!(read.column(police(), "record_id"), [s("00000042")], "zeros the format shows are kept");
    assert_eq!(read.column(police(), "incident_type"), [s("93.1")], "a percentage as the sheet shows it");
    assert_eq!(read.column(police(), "surname"), [None], "an unknown error value is empty, not a stop");
}

#[test]
fn a_hidden_first_sheet_is_passed_over_for_the_first_one_shown() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("december.xlsx");
    let mut wb = rust_xlsxwriter::Workbook::new();
    quirky_sheet(&mut wb, "November", 11.0, 1.0, "0", "Lee");
    quirky_sheet(&mut wb, "December", 12.0, 1.0, "0", "Lee");
    wb.worksheet_from_name("November").unwrap().set_hidden(true);
    wb.worksheet_from_name("December").unwrap().set_active(true);
    wb.save(&path).unwrap();
    let mut source = FileSource::open(&path, FileFormat::Xlsx, police(), opts(10, 1000)).unwrap();
    assert!(source.unread_sheets().is_empty(), "the hidden sheet is not one left unread");
    let read = read_source(&mut source, police());
    assert_eq!(read.column(police(), "record_id"), [s("00000012")]);
    // Named, a hidden sheet is read; the name is matched as Excel matches it, without case.
    let dialect = Dialect { sheet: Some("NOVEMBER ".to_owned()), ..Dialect::default() };
    let mut source = FileSource::open_with(&path, FileFormat::Xlsx, police(), opts(10, 1000), dialect, None).unwrap();
    assert_eq!(read_source(&mut source, police()).column(police(), "record_id"), [s("00000011")]);
}

#[test]
fn a_workbook_that_cannot_be_read_is_refused_in_words_that_quote_nothing_from_it() {
    // A headerless text export saved under an `.xls` name: calamine's own message quotes the
    // file's first eight bytes, here a surname.
    let dir = tempfile::tempdir().unwrap();
    for (name, format) in
        [("export.xls", FileFormat::Xls), ("export.xlsx", FileFormat::Xlsx), ("export.ods", FileFormat::Ods)]
    {
        let path = dir.path().join(name);
        std::fs::write(&path, "Mitchell\tAnn\t9990533245\t12/03/2015\n").unwrap();
        let err = FileSource::open(&path, format, police(), opts(10, 1000)).unwrap_err();
        assert_eq!(err.rule_code(), "workbook.unreadable", "{name}");
        let msg = err.to_string();
        assert!(msg.contains(name), "{msg}");
        for clear in ["Mitchell", "4d", "9990533245", "Ann"] {
            assert!(!msg.contains(clear), "{name}: {msg}");
        }
    }
}

#[test]
fn a_header_lacking_columns_names_the_sheet_and_row_read_and_the_other_sheets() {
    // A cover sheet in front of the data: its title row is read as the header.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cover.xlsx");
    let mut wb = rust_xlsxwriter::Workbook::new();
    let cover = wb.add_worksheet();
    cover.set_name("Cover").unwrap();
    cover.write_string(2, 1, "Police incidents export").unwrap();
    quirky_sheet(&mut wb, "Cases", 1.0, 1.0, "0", "Lee");
    wb.save(&path).unwrap();
    let err = FileSource::open(&path, FileFormat::Xlsx, police(), opts(10, 1000)).unwrap_err();
    assert_eq!(err.rule_code(), "header.missing_columns");
    let msg = err.to_string();
    assert!(msg.contains("lacks required column(s): record_id"), "{msg}");
    assert!(msg.contains("sheet \"Cover\", row 3"), "{msg}");
    assert!(msg.contains("other sheets are \"Cases\"") && msg.contains("skip_lines"), "{msg}");
    assert!(!msg.contains("Police incidents"), "a heading read is a value of the file: {msg}");
}

#[test]
fn a_workbook_read_by_its_first_sheet_tells_the_other_sheets_shown_it_leaves_unread() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("terms.xlsx");
    let mut wb = rust_xlsxwriter::Workbook::new();
    quirky_sheet(&mut wb, "Autumn", 1.0, 1.0, "0", "Lee");
    quirky_sheet(&mut wb, "Spring", 2.0, 1.0, "0", "Lee");
    quirky_sheet(&mut wb, "Old", 3.0, 1.0, "0", "Lee");
    wb.worksheet_from_name("Old").unwrap().set_hidden(true);
    wb.save(&path).unwrap();
    let first = FileSource::open(&path, FileFormat::Xlsx, police(), opts(10, 1000)).unwrap();
    assert_eq!(first.unread_sheets(), ["Spring"]);
    let dialect = Dialect { sheet: Some("Spring".to_owned()), ..Dialect::default() };
    let named = FileSource::open_with(&path, FileFormat::Xlsx, police(), opts(10, 1000), dialect, None).unwrap();
    assert!(named.unread_sheets().is_empty(), "a sheet named: the others are left on purpose");
    // `sources check` says so before a run.
    let check = crate::mapping::check::check_file(
        &path,
        FileFormat::Xlsx,
        opts(10, 1000),
        Dialect::default(),
        None,
        police(),
        None,
    )
    .unwrap();
    // Spring holds records under the feed's header: an error (a run refuses the workbook), not
    // a warning; the hidden sheet is not named.
    let continued = check.findings.iter().find(|f| f.rule == "sheet.continued").expect("a sheet.continued finding");
    assert_eq!((continued.count, continued.severity), (1, crate::mapping::check::Severity::Error));
    assert!(continued.message.contains("Spring") && !continued.message.contains("Old"), "{}", continued.message);
    assert!(check.findings.iter().all(|f| f.rule != "sheet.unread"), "{:?}", check.findings);
}

#[test]
fn a_footer_the_mapping_declares_is_left_unread_in_a_csv_file_and_a_sheet() {
    let text = "feed = \"police\"\n[file]\nfooter_lines = 2\n";
    let mapping = Arc::new(Mapping::parse(std::path::Path::new("m.toml"), text.as_bytes(), police()).unwrap());
    let footer = "Report generated by the records system,,,,,,\n,,,,,,\nRows: 2,,,,,,\n";
    let f = file("police.csv", format!("{HEADER}\n{}\n{}\n{footer}", row("R1"), row("R2")));
    let mut source = FileSource::open_with(
        &f.path,
        FileFormat::Csv,
        police(),
        opts(10, 1000),
        Dialect::default(),
        Some(mapping.clone()),
    )
    .unwrap();
    let read = read_source(&mut source, police());
    assert!(read.rejects.is_empty(), "the footer is no record to quarantine: {:?}", read.rejects);
    assert_eq!(read.column(police(), "record_id"), [s("R1"), s("R2")]);
    // Without the setting, the footer's lines are read as records (which the validate stage
    // then quarantines, their reference a sentence or nothing).
    let mut plain = FileSource::open(&f.path, FileFormat::Csv, police(), opts(10, 1000)).unwrap();
    assert_eq!(read_source(&mut plain, police()).column(police(), "record_id").len(), 4);

    // A sheet: its last two rows with a cell.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("footer.xlsx");
    let mut wb = rust_xlsxwriter::Workbook::new();
    quirky_sheet(&mut wb, "Cases", 7.0, 1.0, "0", "Lee");
    let sheet = wb.worksheet_from_name("Cases").unwrap();
    sheet.write_string(3, 1, "Report generated by the records system").unwrap();
    sheet.write_string(4, 0, "Rows: 1").unwrap();
    wb.save(&path).unwrap();
    let mut source =
        FileSource::open_with(&path, FileFormat::Xlsx, police(), opts(10, 1000), Dialect::default(), Some(mapping))
            .unwrap();
    let read = read_source(&mut source, police());
    assert!(read.rejects.is_empty());
    assert_eq!(read.column(police(), "record_id"), [s("00000007")]);
}

#[test]
fn a_file_sent_without_the_footer_its_mapping_declares_loses_no_record() {
    let text = "feed = \"police\"\n[file]\nfooter_lines = 2\n";
    let mapping = Arc::new(Mapping::parse(std::path::Path::new("m.toml"), text.as_bytes(), police()).unwrap());
    let read_csv_text = |body: String| {
        let f = file("police.csv", body);
        let mut source = FileSource::open_with(
            &f.path,
            FileFormat::Csv,
            police(),
            opts(10, 1000),
            Dialect::default(),
            Some(mapping.clone()),
        )
        .unwrap();
        read_source(&mut source, police())
    };
    // No footer this month: the last two lines are records, read as records.
    let read = read_csv_text(format!("{HEADER}\n{}\n{}\n{}\n", row("R1"), row("R2"), row("R3")));
    assert_eq!(read.column(police(), "record_id"), [s("R1"), s("R2"), s("R3")]);
    assert_eq!(read.positions(), [2, 3, 4]);
    // One footer line where two were declared: the record above it is read, the total is not.
    let read = read_csv_text(format!("{HEADER}\n{}\n{}\nRows: 2,,,,,,\n", row("R1"), row("R2")));
    assert_eq!((read.column(police(), "record_id"), read.rejects.len()), (vec![s("R1"), s("R2")], 0));
    // A file no longer than its footer: the header is among the footer's lines.
    let read = read_csv_text(format!("{HEADER}\n{}\n", row("R1")));
    assert_eq!((read.column(police(), "record_id"), read.rejects.len()), (vec![s("R1")], 0));
    let read = read_csv_text(format!("\u{feff}{HEADER}\n{}\n", row("R1")));
    assert_eq!(read.column(police(), "record_id"), [s("R1")], "after a byte order mark too");
    // A totals row that fills half the columns is labelled: a footer.
    let read = read_csv_text(format!("{HEADER}\n{}\n{}\nTotal,2,x,y,,,\n", row("R1"), row("R2")));
    assert_eq!(read.column(police(), "record_id"), [s("R1"), s("R2")]);
    // A footer line with a stray quote stays a footer, never a malformed record.
    let read = read_csv_text(format!("{HEADER}\n{}\n\"Total\n,,,,,,\n", row("R1")));
    assert_eq!((read.column(police(), "record_id"), read.rejects.len()), (vec![s("R1")], 0));

    // A sheet sent without its footer: its last record is read.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("no-footer.xlsx");
    let mut wb = rust_xlsxwriter::Workbook::new();
    quirky_sheet(&mut wb, "Cases", 7.0, 1.0, "0", "Lee");
    wb.save(&path).unwrap();
    let mut source =
        FileSource::open_with(&path, FileFormat::Xlsx, police(), opts(10, 1000), Dialect::default(), Some(mapping))
            .unwrap();
    let read = read_source(&mut source, police());
    assert_eq!((read.column(police(), "record_id"), read.rejects.len()), (vec![s("00000007")], 0));
}

#[test]
fn a_formula_a_program_stored_without_its_value_is_refused_where_the_feed_reads_it() {
    use rust_xlsxwriter::Formula;
    let dir = tempfile::tempdir().unwrap();
    // rust_xlsxwriter, as openpyxl and xlsxwriter do, stores a formula given no result as 0 and
    // asks for the workbook to be calculated when opened.
    let write = |name: &str, formula_column: u16| {
        let path = dir.path().join(name);
        let mut wb = rust_xlsxwriter::Workbook::new();
        let sheet = wb.add_worksheet();
        sheet.set_name("Cases").unwrap();
        let header =
            ["record_id", "occurrence_ref", "forename", "surname", "incident_date", "incident_type", "person_role"];
        for (j, h) in header.iter().chain(["Notes"].iter()).enumerate() {
            sheet.write_string(0, j as u16, *h).unwrap();
        }
        for r in 1..=3u32 {
            for (j, v) in ["P1", "OCC-1", "Ann", "Leeward", "2024-01-05", "ASSAULT", "VICTIM", "n"].iter().enumerate() {
                sheet.write_string(r, j as u16, *v).unwrap();
            }
            sheet.write_formula(r, formula_column, Formula::new(format!("=PROPER(C{})", r + 1))).unwrap();
        }
        wb.save(&path).unwrap();
        path
    };
    let read_by_feed = write("surname.xlsx", 3);
    let Err(err) = FileSource::open(&read_by_feed, FileFormat::Xlsx, police(), opts(10, 1000)) else {
        panic!("a column of formulas never calculated was read");
    };
    assert_eq!(err.rule_code(), "workbook.uncalculated_formulas");
    let msg = err.to_string();
    assert!(msg.contains("sheet \"Cases\", row 2, column D (read as surname)"), "{msg}");
    assert!(msg.contains("save it") && !msg.contains("Leeward") && !msg.contains("PROPER"), "{msg}");
    // In a column the feed does not read, a formula is no matter.
    let unread = write("notes.xlsx", 7);
    let mut source = FileSource::open(&unread, FileFormat::Xlsx, police(), opts(10, 1000)).unwrap();
    assert_eq!(
        read_source(&mut source, police()).column(police(), "surname"),
        [s("Leeward"), s("Leeward"), s("Leeward")]
    );
    // A date cell's formula stored as 0 is a date of 0, refused as well.
    let dated = dir.path().join("dated.xlsx");
    let mut wb = rust_xlsxwriter::Workbook::new();
    let sheet = wb.add_worksheet();
    let header =
        ["record_id", "occurrence_ref", "forename", "surname", "incident_date", "incident_type", "person_role"];
    let date = rust_xlsxwriter::Format::new().set_num_format("yyyy-mm-dd");
    for (j, h) in header.iter().enumerate() {
        sheet.write_string(0, j as u16, *h).unwrap();
    }
    for r in 1..=3u32 {
        for (j, v) in ["P1", "OCC-1", "Ann", "Lee", "", "ASSAULT", "VICTIM"].iter().enumerate() {
            sheet.write_string(r, j as u16, *v).unwrap();
        }
        sheet.write_formula_with_format(r, 4, Formula::new("=DATE(2024,1,5)"), &date).unwrap();
    }
    // And a footer's total, one formula alone under a column of values, is none of this.
    sheet.write_string(4, 0, "Rows:").unwrap();
    sheet.write_formula(4, 1, Formula::new("=COUNTA(A2:A4)")).unwrap();
    wb.save(&dated).unwrap();
    let Err(err) = FileSource::open(&dated, FileFormat::Xlsx, police(), opts(10, 1000)) else {
        panic!("a column of dates never calculated was read");
    };
    assert!(err.to_string().contains("row 2, column E (read as incident_date)"), "{err}");
}

/// The housing feed's required columns, by their own names: a workbook header the feed reads.
const HOUSING_REQUIRED: [&str; 7] =
    ["record_id", "household_ref", "role_in_household", "forename", "surname", "approach_date", "duty_owed"];

#[test]
fn a_number_cell_reads_as_its_number_under_a_mapping_with_a_decimal_comma() {
    use rust_xlsxwriter::Workbook;
    let housing = tellonce_schemas::feed::latest("housing").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("housing.xlsx");
    let mut wb = Workbook::new();
    let sheet = wb.add_worksheet();
    for (c, h) in (0u16..).zip(HOUSING_REQUIRED.into_iter().chain(["Arrears"])) {
        sheet.write_string(0, c, h).unwrap();
    }
    for r in 1..=4u32 {
        for (c, v) in (0u16..).zip(["R1", "H1", "LEAD", "Ann", "Bell", "2024-01-02", "PREVENTION"]) {
            sheet.write_string(r, c, v).unwrap();
        }
    }
    sheet.write_number(1, 7, 814.69).unwrap();
    sheet.write_number(2, 7, 1.125).unwrap();
    sheet.write_number(3, 7, 2000).unwrap();
    // Typed as text, the partner's own spelling.
    sheet.write_string(4, 7, "1.250,50").unwrap();
    wb.save(&path).unwrap();
    let text = "feed = \"housing\"\n[columns]\nArrears = \"rent_arrears_balance\"\n\
                [decimals.rent_arrears_balance]\ndecimal_separator = \",\"\nthousands_separator = \".\"\n";
    let mapping = Arc::new(Mapping::parse(std::path::Path::new("m.toml"), text.as_bytes(), housing).unwrap());
    let mut source =
        FileSource::open_with(&path, FileFormat::Xlsx, housing, opts(10, 1000), Dialect::default(), Some(mapping))
            .unwrap();
    let read = read_source(&mut source, housing);
    // Not 81469, 1125 and 2000 read through the thousands separator.
    assert_eq!(read.column(housing, "rent_arrears_balance"), [s("814.69"), s("1.125"), s("2000"), s("1250.50")]);
}

#[test]
fn a_sheet_holding_records_under_the_header_is_a_continuation_and_a_notes_sheet_is_not() {
    use rust_xlsxwriter::Workbook;
    let housing = tellonce_schemas::feed::latest("housing").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("year.xlsx");
    let mut wb = Workbook::new();
    for (name, rows) in [("Q1", 2u32), ("Notes", 0), ("Q2", 3), ("Q3", 0)] {
        let sheet = wb.add_worksheet().set_name(name).unwrap();
        if name == "Notes" {
            sheet.write_string(0, 0, "Extract notes").unwrap();
            continue;
        }
        for (c, h) in (0u16..).zip(HOUSING_REQUIRED) {
            sheet.write_string(0, c, h).unwrap();
        }
        for r in 1..=rows {
            for (c, v) in (0u16..).zip([name, "H1", "CHILD", "Ann", "Bell", "2024-01-02", "MAIN"]) {
                sheet.write_string(r, c, v).unwrap();
            }
        }
    }
    wb.save(&path).unwrap();
    let source = FileSource::open(&path, FileFormat::Xlsx, housing, opts(10, 1000)).unwrap();
    assert_eq!(source.unread_sheets(), ["Notes", "Q2", "Q3"]);
    let continuing =
        super::sheets_continuing(&path, FileFormat::Xlsx, housing, (&Dialect::default(), None), source.unread_sheets());
    // Q3 has the header and no record: nothing is left unread there.
    assert_eq!(continuing, ["Q2"]);
}

#[test]
fn an_excel_tables_totals_row_is_no_record_and_a_row_below_the_table_still_is() {
    use rust_xlsxwriter::{Table, TableColumn, TableFunction, Workbook};
    let housing = tellonce_schemas::feed::latest("housing").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("district.xlsx");
    let mut wb = Workbook::new();
    let sheet = wb.add_worksheet().set_name("Cases").unwrap();
    for r in 1..=3u32 {
        for (c, v) in (0u16..).zip([&format!("R{r}"), "H1", "CHILD", "Ann", "Bell", "2024-01-02", "MAIN"]) {
            sheet.write_string(r, c, v).unwrap();
        }
    }
    let mut columns: Vec<TableColumn> = HOUSING_REQUIRED.iter().map(|h| TableColumn::new().set_header(*h)).collect();
    columns[0] = TableColumn::new().set_header("record_id").set_total_label("Total");
    columns[1] = TableColumn::new().set_header("household_ref").set_total_function(TableFunction::Count);
    let table = Table::new().set_columns(&columns).set_total_row(true);
    // Rows 0 (header) to 4 (totals).
    sheet.add_table(0, 0, 4, 6, &table).unwrap();
    for (c, v) in (0u16..).zip(["R5", "H2", "CHILD", "Cy", "Day", "2024-01-03", "MAIN"]) {
        sheet.write_string(5, c, v).unwrap();
    }
    wb.save(&path).unwrap();
    let mut source = FileSource::open(&path, FileFormat::Xlsx, housing, opts(10, 1000)).unwrap();
    let read = read_source(&mut source, housing);
    assert!(read.rejects.is_empty(), "{:?}", read.reject_summary());
    assert_eq!(read.column(housing, "record_id"), [s("R1"), s("R2"), s("R3"), s("R5")]);
    assert_eq!(read.positions(), [2, 3, 4, 6], "sheet rows as Excel numbers them");
}
