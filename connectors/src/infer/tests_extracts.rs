//! Partner extracts a tester sent through `sources infer` (probe x1): a headerless file of plain
//! words, headings with line breaks, a cover sheet, percentages, two-digit years, dates in
//! several shapes, and a report footer.

use std::path::{Path, PathBuf};

use super::*;
use crate::file_source::sample::sample;
use crate::mapping::{Mapping, Resolved};

/// `text` written as `name` in `dir`.
fn write(dir: &Path, name: &str, text: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write");
    path
}

/// The proposal for the file at `path` against `feed`, rendered and checked to load.
fn proposal_of(path: &Path, feed: &str) -> Result<(Proposal, String, Mapping), InferError> {
    let feed = tellonce_schemas::feed::latest(feed).expect("feed");
    let proposal = infer(sample(path, None, 1000).expect("sample"), feed)?;
    let rendered = render(&proposal, "extract");
    let mapping =
        Mapping::parse(Path::new("p.toml"), rendered.as_bytes(), feed).unwrap_or_else(|p| panic!("{rendered}\n{p:?}"));
    Ok((proposal, rendered, mapping))
}

/// The feed column `heading` resolves to under `mapping`.
fn resolves_to(mapping: &Mapping, heading: &str, feed: &str) -> &'static str {
    let feed = tellonce_schemas::feed::latest(feed).expect("feed");
    match mapping.resolve(heading) {
        Resolved::Column(i) => feed.columns[i].name,
        other => panic!("{heading:?}: {other:?}"),
    }
}

/// The names of the headerless housing records: none may ever be shown.
const NAMES: [&str; 6] = ["Zelphine", "Ysolde", "Orrin", "Tamsin", "Quarrington", "Crawley"];

#[test]
fn a_headerless_file_of_plain_words_is_refused_and_shows_no_name() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Every cell a plain word: no date, number or identifier tells the record from a header.
    let forenames = ["Zelphine", "Ysolde", "Orrin", "Tamsin"];
    let text: String = (1..=20)
        .map(|i| {
            let forename = forenames[i % 4];
            format!("HC{i},HH{},CHILD,{forename},Quarrington,Female,Crawley,PREVENTION,Eviction\r\n", i / 3)
        })
        .collect();
    let path = write(dir.path(), "h.csv", text.as_bytes());
    let message = proposal_of(&path, "housing").expect_err("refused: its words are held again below").to_string();
    assert!(message.contains("has no header line: line 1 reads as a record"), "{message}");
    for name in NAMES {
        assert!(!message.contains(name), "{name}: {message}");
    }
    // The same first record over rows of other people and places: too few of its cells are
    // held again to refuse it, and no cell names a feed column, so none is written.
    let others = ["Abel,Brook,Male,Horsham", "Cora,Dale,Female,Worthing", "Eli,Frost,Male,Lewes"];
    let rows: String = (2..=20)
        .map(|i| {
            let who: Vec<&str> = others[i % 3].split(',').collect();
            format!("HC{i},HH{i},ADULT,{},{}{i},{},{},RELIEF,Other\r\n", who[0], who[1], who[2], who[3])
        })
        .collect();
    let text = format!("HC1,HH0,CHILD,Ysolde,Quarrington,Female,Crawley,PREVENTION,Eviction\r\n{rows}");
    let path = write(dir.path(), "h2.csv", text.as_bytes());
    let (proposal, rendered, _) = proposal_of(&path, "housing").expect("not refused");
    assert!(proposal.unplaced.is_empty(), "{rendered}");
    assert!(rendered.contains("too few headings of this line name a feed column"), "{rendered}");
    for name in NAMES {
        assert!(!rendered.contains(name), "{name}:\n{rendered}");
    }
}

#[test]
fn a_name_over_a_column_of_names_is_not_written_under_a_real_header() {
    let dir = tempfile::tempdir().expect("tempdir");
    // A real header, but a heading no column takes is a forename over forenames.
    let header = "Case Ref,First Name,Last Name,DOB,Date Approached,Ysolde,Officer\n";
    let workers = ["Ann Lee", "Bo Kerr", "Cy Dunn", "Di Moss", "Ed Hale"];
    let rows: String = (0..30)
        .map(|i| format!("HC-{i:05},Amy,Smith,01/02/2012,{:02}/11/2024,{},JB\n", 1 + i % 28, workers[i % 5]))
        .collect();
    let path = write(dir.path(), "h.csv", (header.to_owned() + &rows).as_bytes());
    let (proposal, rendered, _) = proposal_of(&path, "housing").expect("a header");
    assert_eq!(proposal.unplaced, ["Officer"], "{rendered}");
    assert!(!rendered.contains("Ysolde"), "{rendered}");
    assert!(rendered.contains("#   column 6 heading not shown: it looks like a value"), "{rendered}");
}

#[test]
fn a_heading_with_a_line_break_is_written_on_one_line_and_matches_the_sheet() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("cases.xlsx");
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet().set_name("Cases").expect("name");
    let headings = ["Case Ref", "First Name", "Last Name", "Date of\nBirth", "Date\r\nApproached", "Duty\tOwed"];
    for (c, h) in headings.iter().enumerate() {
        sheet.write_string(0, c as u16, *h).expect("cell");
    }
    for r in 1..=12u32 {
        for (c, v) in ["HC-1", "Amy", "Smith", "13/07/2012", "01/11/2024", "RELIEF"].iter().enumerate() {
            sheet.write_string(r, c as u16, v.replace("HC-1", &format!("HC-{r}"))).expect("cell");
        }
    }
    book.save(&path).expect("save");
    let (_, rendered, mapping) = proposal_of(&path, "housing").expect("a header");
    assert!(rendered.contains("\"Date of Birth\" = \"date_of_birth\""), "{rendered}");
    assert!(rendered.contains("\"Date Approached\" = \"approach_date\""), "{rendered}");
    for (heading, column) in
        [("Date of\nBirth", "date_of_birth"), ("Date\r\nApproached", "approach_date"), ("Duty\tOwed", "duty_owed")]
    {
        assert_eq!(resolves_to(&mapping, heading, "housing"), column, "{rendered}");
    }
    assert_eq!(render::quoted("a\nb\r\"c\\\u{1}\td"), "\"a\\nb\\r\\\"c\\\\\\u0001\\td\"");
}

#[test]
fn a_csv_header_whose_quoted_headings_hold_line_breaks_is_read_as_one_record() {
    let dir = tempfile::tempdir().expect("tempdir");
    let header = "Case Ref,Household,Role,First Name,Last Name,\"Date of\r\nBirth\",\"Date\r\nApproached\",Duty\r\n";
    let row = |i: usize| format!("C{i},H{i},CHILD,Zelphine,Quarrington,{i}/01/2015,{i}/04/2023,PREVENTION\r\n");
    for (title, rows) in [("", 20), ("", 1), ("Cases extract,,,,,,,\r\n\r\n", 20)] {
        let text = format!("{title}{header}{}", (10..10 + rows).map(row).collect::<String>());
        let path = write(dir.path(), "cases.csv", text.as_bytes());
        let (proposal, rendered, mapping) = proposal_of(&path, "housing").expect("a header");
        let skip = if title.is_empty() { 0 } else { 2 };
        assert_eq!((proposal.sample.skip_lines, proposal.sample.rows.len()), (skip, rows), "{rendered}");
        assert_eq!(resolves_to(&mapping, "Date of\r\nBirth", "housing"), "date_of_birth", "{rendered}");
        assert_eq!(resolves_to(&mapping, "Date\r\nApproached", "housing"), "approach_date", "{rendered}");
        assert_eq!(proposal.placed.len(), 8, "{rendered}");
        for name in ["Zelphine", "Quarrington"] {
            assert!(!rendered.contains(name), "{name}:\n{rendered}");
        }
    }
}

/// A workbook with a cover sheet in front of its table.
fn covered_workbook(path: &Path) {
    let mut book = rust_xlsxwriter::Workbook::new();
    let cover = book.add_worksheet().set_name("Read Me").expect("name");
    cover.write_string(0, 0, "Housing options extract").expect("cell");
    cover.write_string(2, 0, "One row per person approaching the service.").expect("cell");
    let cases = book.add_worksheet().set_name("Cases").expect("name");
    let headings = ["Case Ref", "Household", "Role", "First Name", "Last Name", "DOB", "Date Approached", "Duty"];
    for (c, h) in headings.iter().enumerate() {
        cases.write_string(0, c as u16, *h).expect("cell");
    }
    for r in 1..=12u32 {
        let row = [&format!("HC-{r}"), "HH-1", "CHILD", "Amy", "Smith", "13/07/2012", "01/11/2024", "RELIEF"];
        for (c, v) in row.iter().enumerate() {
            cases.write_string(r, c as u16, *v).expect("cell");
        }
    }
    book.save(path).expect("save");
}

#[test]
fn a_cover_sheet_in_front_of_the_table_is_passed_over_unless_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("housing.xlsx");
    covered_workbook(&path);
    let feed = tellonce_schemas::feed::latest("housing").expect("housing");
    let proposal = propose(&path, None, 1000, feed).expect("a proposal");
    let rendered = render(&proposal, "housing.xlsx");
    Mapping::parse(Path::new("p.toml"), rendered.as_bytes(), feed).unwrap_or_else(|p| panic!("{rendered}\n{p:?}"));
    assert_eq!(proposal.sample.sheet.as_deref(), Some("Cases"), "{rendered}");
    assert_eq!(
        proposal.sheet_choice,
        Some(SheetChoice { chosen: "Cases".to_owned(), left: vec![("#1".to_owned(), 0)] })
    );
    assert!(
        rendered.contains(
            "sheet = \"Cases\"  # the sheet whose header places the most headings (8); left: \"#1\" (0 placed)"
        ),
        "{rendered}"
    );
    assert!(proposal.missing_required.is_empty(), "{rendered}");
    // "Read Me" could be a person's name, so the cover sheet is written by its place, which
    // names it as well as its name does.
    assert!(!rendered.contains("Read Me"), "{rendered}");
    // Named, a sheet is read as named.
    for asked in ["Read Me", "#1"] {
        let named = propose(&path, Some(asked), 1000, feed).expect("a proposal");
        assert_eq!((named.sample.sheet.as_deref(), named.sheet_choice), (Some("#1"), None));
    }
}

#[test]
fn a_percentage_written_with_its_sign_is_proposed_as_a_number() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut text = "Pupil Ref,Forename,Surname,Date of Birth,Date,Event Type,Attendance %\r\n".to_owned();
    for i in 10..40 {
        let day = i % 28 + 1;
        text.push_str(&format!(
            "EDU-{i},Amy,Quarrington,{day}/01/2015,{day}/04/2023,ATTENDANCE_TERM,{}.{}%\r\n",
            60 + i,
            i % 10
        ));
    }
    let path = write(dir.path(), "pupils.csv", text.as_bytes());
    let (proposal, rendered, mapping) = proposal_of(&path, "education").expect("a header");
    assert_eq!(resolves_to(&mapping, "Attendance %", "education"), "attendance_pct", "{rendered}");
    assert!(rendered.contains("[decimals.attendance_pct]\ncurrency_symbol = \"%\""), "{rendered}");
    let plan = proposal.numbers.iter().find(|n| n.column == "attendance_pct").expect("a plan");
    assert_eq!(plan.currency, Some("%"));
    let kind = tellonce_schemas::Kind::Decimal { min: 0.0, max: 100.0 };
    assert_eq!(values::number_form(&["93.1%", "100%", "7.5 %"], &kind).and_then(|f| f.currency), Some("%"));
}

#[test]
fn two_digit_years_of_birth_are_marked_for_review_with_how_many_land_after_today() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut text = "Case Ref,Household,Role,First Name,Last Name,DOB,Date Approached,Duty\n".to_owned();
    let years = ["65", "68", "72", "85", "90", "99", "05", "08", "12", "15", "19", "21", "64", "66", "55", "58"];
    for (i, y) in years.iter().enumerate() {
        text.push_str(&format!(
            "C{i},H{i},CHILD,Zelphine,Quarrington,{}/01/{y},{}/03/2023,PREVENTION\n",
            13 + i,
            13 + i
        ));
    }
    let path = write(dir.path(), "h.csv", text.as_bytes());
    let (proposal, rendered, _) = proposal_of(&path, "housing").expect("a header");
    let plan = proposal.dates.iter().find(|d| d.column == "date_of_birth").expect("a plan");
    assert!(plan.two_digit_year && plan.future == 6, "{rendered}");
    assert!(
        rendered.contains(
            "date_of_birth = \"%d/%m/%y\"  # reads 100 % of 16 sampled values; two-digit years, 6 of 16 read as after today: CHECK"
        ),
        "{rendered}"
    );
    assert!(rendered.contains("# date_of_birth: a two-digit year (%y) reads 00-69 as 20xx"), "{rendered}");
    let approach = proposal.dates.iter().find(|d| d.column == "approach_date").expect("a plan");
    assert!(!approach.two_digit_year, "{rendered}");
}

#[test]
fn a_date_column_in_several_shapes_gets_formats_reading_every_value() {
    let mut column: Vec<String> = Vec::new();
    for i in 1..=20 {
        let dd = format!("{:02}", i + 1);
        column.push(match i % 4 {
            0 => format!("{dd}/03/2023"),
            1 => format!("{dd}/03/2023 09:15:07"),
            2 => format!("{dd}/03/2023 09:15"),
            _ => format!("2023-03-{dd}"),
        });
    }
    let values: Vec<&str> = column.iter().map(String::as_str).collect();
    let d = values::date_formats(&values);
    // The day-first date reads the date-times past their time of day; ISO needs no place.
    assert_eq!(d.formats, ["%d/%m/%Y"]);
    assert!((d.share - 1.0).abs() < 1e-9, "{d:?}");
}

#[test]
fn a_report_footer_under_the_table_is_proposed_as_footer_lines() {
    let dir = tempfile::tempdir().expect("tempdir");
    let title = "Housing Options - Homelessness Approaches\r\nDate range: 01/04/2023 to 31/03/2025\r\n\r\n";
    let header = "Case Ref,Household,Role,First Name,Last Name,Date Approached,Duty\r\n";
    let rows: String =
        (1..=20).map(|i| format!("C{i},H{i},CHILD,Zelphine,Quarrington,{:02}/03/2023,PREVENTION\r\n", i + 1)).collect();
    for (footer, lines) in [
        ("\r\nTotal records: 20\r\nReport run by jsmith on 05/12/2026 10:22\r\n", 2),
        ("Total records: 20,,,,,,\r\n,,,,,,\r\n", 1),
        // A sparse last record, or no footer at all: none proposed.
        ("C99,,,,,,\r\n", 0),
        ("", 0),
    ] {
        let text = format!("{title}{header}{rows}{footer}");
        let path = write(dir.path(), "h.csv", text.as_bytes());
        let (proposal, rendered, _) = proposal_of(&path, "housing").expect("a header");
        assert_eq!(proposal.footer_lines, lines, "{footer:?}\n{rendered}");
        assert_eq!(rendered.contains(&format!("footer_lines = {lines}  # lines below the table")), lines > 0);
        assert!(!rendered.contains("jsmith") && !rendered.contains("Total"), "{rendered}");
        let rows_sampled = if lines > 0 || footer.is_empty() { 20 } else { 21 };
        assert_eq!(proposal.sample.rows.len(), rows_sampled, "the footer is no sampled row:\n{rendered}");
    }
    // The end of a quoted field over several lines is no footer.
    let text = format!("{header}{rows}C21,H21,CHILD,Zelphine,Quarrington,22/03/2023,\"PREVENTION\r\nsee notes\"\r\n");
    let path = write(dir.path(), "h.csv", text.as_bytes());
    let (proposal, rendered, _) = proposal_of(&path, "housing").expect("a header");
    assert_eq!(proposal.footer_lines, 0, "{rendered}");
}
