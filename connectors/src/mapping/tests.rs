//! Mapping tests: validation (every problem at once, with its place), heading resolution, and
//! a partner's file read through a mapping.

use std::path::Path;
use std::sync::Arc;

use arrow_array::Array;
use arrow_array::cast::AsArray;
use tellonce_schemas::{FeedSchema, feed};

use super::*;
use crate::file_source::{Dialect, FileFormat, FileSource, FileSourceOptions};

fn housing() -> &'static FeedSchema {
    feed::latest("housing").unwrap()
}

const GOOD: &str = r#"feed = "housing"
ignore = ["Officer", "Case notes"]

[file]
delimiter = "|"
encoding = "windows-1252"
skip_lines = 1

[columns]
"Case Ref" = "record_id"
"Household" = "household_ref"
"First Name" = "forename"
"Last Name" = "surname"
DOB = "date_of_birth"
Gender = "sex"
"Post Code" = "postcode"
"Approached" = "approach_date"
"Duty" = "duty_owed"

[constants]
role_in_household = "CHILD"

[values.sex]
"1" = "M"
"2" = "F"
"9" = "U"

[values.duty_owed]
P = "PREVENTION"
R = "RELIEF"

[dates]
date_of_birth = "%d/%m/%Y"
approach_date = ["%d/%m/%Y", "%Y-%m-%d %H:%M:%S%.3f", "excel"]

[decimals.rent_arrears_balance]
decimal_separator = ","
thousands_separator = "."
"#;

fn parse(text: &str) -> Result<Mapping, Vec<MappingProblem>> {
    Mapping::parse(Path::new("maps/housing.toml"), text.as_bytes(), housing())
}

#[test]
fn a_good_mapping_resolves_headings_however_they_are_written() {
    let m = parse(GOOD).unwrap();
    let i = |name: &str| housing().index_of(name).unwrap();
    assert_eq!(m.resolve("DOB"), Resolved::Column(i("date_of_birth")));
    assert_eq!(m.resolve("post_code"), Resolved::Column(i("postcode")));
    assert_eq!(m.resolve(" POSTCODE "), Resolved::Column(i("postcode")));
    assert_eq!(m.resolve("UPRN"), Resolved::Column(i("uprn")), "a feed column's own name, folded");
    assert_eq!(m.resolve("officer"), Resolved::Ignored);
    assert_eq!(m.resolve("CaseNotes"), Resolved::Ignored);
    assert_eq!(m.resolve("Shoe size"), Resolved::Unknown);
    assert_eq!(m.delimiter(), Some(crate::file_source::DelimiterChoice::Byte(b'|')));
    assert!(m.has_constant(i("role_in_household")));
    assert_eq!(m.headings_of(i("postcode")), ["Post Code"]);
    assert_eq!(fold_heading("NHS Number"), fold_heading("nhs_number"));
    assert_eq!(fold_heading("NHSNumber"), "nhsnumber");
}

#[test]
fn every_problem_is_reported_at_once_with_its_place() {
    let text = r#"feed = "housing"
[file]
encoding = "ebcdic"
[columns]
"Case Ref" = "record_id"
"Ref" = "record_id"
"Born" = "date_of_brith"
"Given Name" = "forename"
"given_name" = "surname"
[constants]
sex = "Q"
[values.sex]
"1" = "MALE"
[dates]
date_of_birth = "dd/mm/yyyy"
duty_owed = "%d/%m/%Y"
"#;
    let problems = parse(text).unwrap_err();
    let shown: Vec<String> = problems.iter().map(ToString::to_string).collect();
    let codes: Vec<&str> = problems.iter().map(|p| p.rule.code()).collect();
    assert_eq!(
        codes,
        [
            "file.dialect",
            "column.duplicate_target",
            "column.unknown",
            "heading.duplicate",
            "value.invalid",
            "value.invalid",
            "date.format_invalid",
            "column.kind",
        ],
        "{shown:#?}"
    );
    assert!(shown[0].starts_with("maps/housing.toml:3:12: error[file.dialect]: file.encoding"), "{shown:#?}");
    assert!(shown[2].starts_with("maps/housing.toml:7:10: error[column.unknown]"), "{shown:#?}");
    assert!(shown[2].contains("date_of_birth"), "names the real columns: {shown:#?}");
}

#[test]
fn every_unknown_key_is_reported_at_once() {
    let text = "feed = \"housing\"\nsheets = 1\n[file]\ndelimeter = \"|\"\n[decimals.rent_arrears_balance]\n\
                decimal_point = \",\"\n";
    let problems = parse(text).unwrap_err();
    let shown: Vec<String> = problems.iter().map(ToString::to_string).collect();
    assert_eq!(shown.len(), 3, "{shown:#?}");
    assert!(
        shown[0].starts_with("maps/housing.toml:2:1: error[mapping.unknown_key]: unknown key `sheets`"),
        "{shown:#?}"
    );
    assert!(shown[1].starts_with("maps/housing.toml:4:1: error[mapping.unknown_key]: unknown key `file.delimeter`"));
    assert!(shown[2].contains("`decimals.rent_arrears_balance.decimal_point`"), "{shown:#?}");
}

#[test]
fn an_unknown_key_or_a_wrong_feed_stops_the_mapping() {
    let problems = parse("feed = \"housing\"\n[columns]\nDOB = \"date_of_birth\"\n[colums]\nX = \"y\"\n").unwrap_err();
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0].rule, MappingRule::UnknownKey);
    assert_eq!(problems[0].line, 4, "{}", problems[0]);
    let problems = parse("feed = \"police\"\n").unwrap_err();
    assert_eq!(problems[0].rule, MappingRule::Feed);
    let problems = parse("feed = \"housing\"\n[file]\nskip_lines = \"two\"\n").unwrap_err();
    assert_eq!(problems[0].rule, MappingRule::Type, "{}", problems[0]);
    let problems = parse("feed = [").unwrap_err();
    assert_eq!(problems[0].rule, MappingRule::TomlSyntax);
    let problems = Mapping::parse(Path::new("m.toml"), b"feed = \"\xff\"", housing()).unwrap_err();
    assert_eq!(problems[0].rule, MappingRule::TomlSyntax);
}

#[test]
fn a_partners_file_is_read_through_its_mapping() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("housing.txt");
    // Windows-1252 (é is 0xE9), pipe-delimited, a title line, CRLF, the partner's headings in
    // another order, a column the mapping ignores and one the feed does not have.
    let mut bytes = b"Housing extract, December\r\n".to_vec();
    bytes.extend_from_slice(b"Officer|Case Ref|Household|First Name|Last Name|DOB|Gender|Post Code|Approached|Duty|Shoe Size|Rent Arrears Balance\r\n");
    bytes.extend_from_slice(
        b"AB|H1|HH1|Ren\xe9e|O'Brien|24/02/1986|2|rh10 1ab|2024-12-31 00:00:00.000|P|9|1.250,50\r\n",
    );
    bytes.extend_from_slice(b"CD|H2|HH1|Zo\xeb|Smith|31/13/2015|1|RH10 1AB|45657|R||\r\n");
    bytes.extend_from_slice(b"EF|H3|HH2|Al|Jones||7|RH10 1AB|1/1/2024|Q||\r\n");
    std::fs::write(&path, &bytes).unwrap();
    let mapping = Arc::new(parse(GOOD).unwrap());
    let dialect = Dialect {
        delimiter: mapping.delimiter().unwrap(),
        encoding: mapping.encoding().unwrap(),
        skip_lines: mapping.skip_lines().unwrap(),
        sheet: None,
    };
    let mut source =
        FileSource::open_with(&path, FileFormat::Csv, housing(), FileSourceOptions::default(), dialect, Some(mapping))
            .unwrap();
    assert_eq!(source.unknown_columns(), ["Shoe Size"]);
    let raw = source.next_batch().unwrap().unwrap();
    assert!(raw.rejects.is_empty());
    assert!(source.next_batch().unwrap().is_none());
    let col = |name: &str| -> Vec<Option<String>> {
        let a = raw.batch.column(housing().index_of(name).unwrap()).as_string::<i32>();
        (0..a.len()).map(|r| (!a.is_null(r)).then(|| a.value(r).to_owned())).collect()
    };
    let s = |v: &str| Some(v.to_owned());
    assert_eq!(col("forename"), [s("Renée"), s("Zoë"), s("Al")]);
    assert_eq!(col("surname"), [s("O'Brien"), s("Smith"), s("Jones")]);
    // An impossible date passes as the year, month and day it names, and an absent one as it
    // is, for the validate stage to judge.
    assert_eq!(col("date_of_birth"), [s("1986-02-24"), s("2015-13-31"), None]);
    assert_eq!(col("approach_date"), [s("2024-12-31"), s("2024-12-31"), s("2024-01-01")]);
    assert_eq!(col("sex"), [s("F"), s("M"), s("7")]);
    assert_eq!(col("duty_owed"), [s("PREVENTION"), s("RELIEF"), s("Q")]);
    assert_eq!(col("role_in_household"), [s("CHILD"), s("CHILD"), s("CHILD")]);
    assert_eq!(col("rent_arrears_balance"), [s("1250.50"), None, None]);
    assert_eq!(col("uprn"), [None, None, None]);
    let positions = raw.batch.column(housing().columns.len()).as_primitive::<arrow_array::types::UInt64Type>();
    assert_eq!(positions.values().to_vec(), [3, 4, 5], "line numbers count the preamble");
}

#[test]
fn a_required_column_missing_names_the_heading_the_mapping_expected() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("h.csv");
    std::fs::write(&path, "Case Ref,Household,First Name,Last Name,Approached\nH1,HH1,A,B,01/01/2024\n").unwrap();
    let mapping = Arc::new(parse(GOOD).unwrap());
    let err = FileSource::open_with(
        &path,
        FileFormat::Csv,
        housing(),
        FileSourceOptions::default(),
        Dialect::default(),
        Some(mapping),
    )
    .unwrap_err();
    let shown = err.to_string();
    assert_eq!(err.rule_code(), "header.missing_columns");
    assert!(shown.contains("duty_owed (mapped from \"Duty\")"), "{shown}");
    assert!(!shown.contains("role_in_household"), "a constant stands in for it: {shown}");
}

#[test]
fn the_readme_example_mapping_is_valid() {
    let readme = include_str!("../../../README.md");
    let start = readme.find("# mappings/housing.toml").expect("the README's example mapping");
    let end = start + readme[start..].find("```").unwrap();
    let m = Mapping::parse(Path::new("mappings/housing.toml"), &readme.as_bytes()[start..end], housing())
        .unwrap_or_else(|p| panic!("{p:#?}"));
    assert_eq!(m.resolve("Date Approached"), Resolved::Column(housing().index_of("approach_date").unwrap()));
}

#[test]
fn two_digit_years_pivot_as_documented() {
    let f = DateFormat::parse("%d/%m/%y").unwrap();
    assert_eq!(f.parse_date("01/01/69").map(dates::iso).as_deref(), Some("2069-01-01"));
    assert_eq!(f.parse_date("01/01/70").map(dates::iso).as_deref(), Some("1970-01-01"));
}

#[test]
fn booleans_and_decimals_take_the_partners_spellings() {
    let education = feed::latest("education").unwrap();
    let text = "feed = \"education\"\n[booleans.looked_after]\ntrue = [\"J\"]\nfalse = [\"N\", \"nee\"]\n\
                [booleans.upn]\ntrue = [\"J\"]\nfalse = [\"N\"]\n";
    let problems = Mapping::parse(Path::new("e.toml"), text.as_bytes(), education).unwrap_err();
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0].rule, MappingRule::Kind);
    let text = "feed = \"education\"\n[booleans.looked_after]\ntrue = [\"J\"]\nfalse = [\"N\", \"nee\"]\n";
    let m = Mapping::parse(Path::new("e.toml"), text.as_bytes(), education).unwrap();
    let rule = &m.rules[education.index_of("looked_after").unwrap()];
    assert_eq!(rule.rewrite(Some(" j ")).as_deref(), Some("true"));
    assert_eq!(rule.rewrite(Some("NEE")).as_deref(), Some("false"));
    assert_eq!(rule.rewrite(Some("yes")).as_deref(), Some("yes"), "the usual spellings still pass to validate");
    let m = parse(GOOD).unwrap();
    let rule = &m.rules[housing().index_of("rent_arrears_balance").unwrap()];
    assert_eq!(rule.rewrite(Some("1.250,50")).as_deref(), Some("1250.50"));
    assert_eq!(rule.rewrite(Some("12")).as_deref(), Some("12"));
    assert_eq!(rule.rewrite(None), None);
}

#[test]
fn a_currency_symbol_is_removed_from_either_end_after_a_sign() {
    let text =
        "feed = \"housing\"\n[decimals.rent_arrears_balance]\nthousands_separator = \",\"\ncurrency_symbol = \"£\"\n";
    let m = parse(text).unwrap();
    let rule = &m.rules[housing().index_of("rent_arrears_balance").unwrap()];
    for (written, read) in [
        ("£1,250.50", "1250.50"),
        (" £ 12 ", "12"),
        ("-£12.50", "-12.50"),
        ("£-12.50", "-12.50"),
        ("12.50£", "12.50"),
        ("7", "7"),
    ] {
        assert_eq!(rule.rewrite(Some(written)).as_deref(), Some(read), "{written}");
    }
    let gbp = "feed = \"housing\"\n[decimals.rent_arrears_balance]\ncurrency_symbol = \"GBP\"\n";
    let rule = &parse(gbp).unwrap().rules[housing().index_of("rent_arrears_balance").unwrap()];
    assert_eq!(rule.rewrite(Some("GBP 1250.50")).as_deref(), Some("1250.50"));
}

#[test]
fn a_thousands_separator_out_of_its_place_leaves_the_value_for_validate_to_refuse() {
    let uk = "feed = \"housing\"\n[decimals.rent_arrears_balance]\nthousands_separator = \",\"\n";
    let rule = &parse(uk).unwrap().rules[housing().index_of("rent_arrears_balance").unwrap()];
    for (written, read) in [("1,234", "1234"), ("12,345,678.5", "12345678.5"), ("-1,000", "-1000"), ("999.5", "999.5")]
    {
        assert_eq!(rule.rewrite(Some(written)).as_deref(), Some(read), "{written}");
    }
    // A decimal comma, a continental amount, groups of two: not 125, 1.2505 or 9995.
    for written in ["12,5", "1.250,50", "99,95", "123,45", "1,2,3.4", ",123", "1,234,56", "1,2345"] {
        assert_eq!(rule.rewrite(Some(written)).as_deref(), Some(written), "{written}");
    }
    let eu =
        "feed = \"housing\"\n[decimals.rent_arrears_balance]\ndecimal_separator = \",\"\nthousands_separator = \".\"\n";
    let rule = &parse(eu).unwrap().rules[housing().index_of("rent_arrears_balance").unwrap()];
    for (written, read) in
        [("1.250,50", "1250.50"), ("2.000,00", "2000.00"), ("99,95", "99.95"), ("12.345.678", "12345678")]
    {
        assert_eq!(rule.rewrite(Some(written)).as_deref(), Some(read), "{written}");
    }
    for written in ["1.25", "1.250.5", "12.34,5"] {
        assert_eq!(rule.rewrite(Some(written)).as_deref(), Some(written), "{written}");
    }
    let bad = "feed = \"housing\"\n[decimals.rent_arrears_balance]\ncurrency_symbol = \"1£\"\n";
    let problems = parse(bad).unwrap_err();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0].rule, MappingRule::Value);
    assert!(problems[0].message.contains("currency symbol"), "{problems:?}");
}

#[test]
fn nhs_number_headings_match_however_they_are_written() {
    let hv = feed::latest("health_visiting").unwrap();
    let nhs = hv.index_of("nhs_number").unwrap();
    let m = Mapping::parse(Path::new("hv.toml"), b"feed = \"health_visiting\"\n", hv).unwrap();
    for heading in ["NHS Number", "nhs_number", "NHSNumber", " nhs-number ", "N.H.S. Number"] {
        assert_eq!(m.resolve(heading), Resolved::Column(nhs), "{heading}");
    }
    let m = Mapping::parse(
        Path::new("hv.toml"),
        b"feed = \"health_visiting\"\n[columns]\n\"NHS No\" = \"nhs_number\"\n",
        hv,
    )
    .unwrap();
    assert_eq!(m.resolve("NHS_NO"), Resolved::Column(nhs));
}

#[test]
fn json_lines_keys_and_values_go_through_the_mapping_too() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("housing.jsonl");
    std::fs::write(
        &path,
        "{\"Case Ref\": \"H1\", \"Household\": \"HH1\", \"DOB\": \"24/02/1986\", \"Gender\": 2, \"Officer\": \"AB\", \"Pet\": \"cat\"}\n",
    )
    .unwrap();
    let mapping = Arc::new(parse(GOOD).unwrap());
    let mut source = FileSource::open_with(
        &path,
        FileFormat::JsonLines,
        housing(),
        FileSourceOptions::default(),
        Dialect::default(),
        Some(mapping),
    )
    .unwrap();
    let raw = source.next_batch().unwrap().unwrap();
    let value = |name: &str| {
        let a = raw.batch.column(housing().index_of(name).unwrap()).as_string::<i32>();
        (!a.is_null(0)).then(|| a.value(0).to_owned())
    };
    assert_eq!(value("record_id").as_deref(), Some("H1"));
    assert_eq!(value("household_ref").as_deref(), Some("HH1"));
    assert_eq!(value("date_of_birth").as_deref(), Some("1986-02-24"));
    assert_eq!(value("sex").as_deref(), Some("F"));
    assert_eq!(value("role_in_household").as_deref(), Some("CHILD"));
    assert_eq!(source.unknown_columns(), ["Pet"], "Officer is ignored on purpose");
}

#[test]
fn a_withdrawal_column_resolves_and_its_problems_are_reported_with_their_place() {
    let good =
        "feed = \"housing\"\n[withdrawal]\ncolumn = \"Record Status\"\nvalues = [\"Deleted\", \" Closed in error \"]\n";
    let m = parse(good).unwrap();
    assert_eq!(m.resolve("RECORD_STATUS"), Resolved::Withdrawal);
    let w = m.withdrawal().unwrap();
    assert_eq!(w.heading(), "Record Status");
    assert!(w.marks(" deleted") && w.marks("CLOSED IN ERROR") && !w.marks("Active") && !w.marks(""));
    assert!(w.marks("Closed  in\u{a0}error") && !w.marks("Closed in") && !w.marks("Closed in error again"));
    assert!(w.marks("Deleted\u{200b}") && w.marks("\u{feff}deleted\0\0"), "read as shown");

    let cases = [
        (
            "[columns]\n\"Status\" = \"record_id\"\n[withdrawal]\ncolumn = \"status\"\nvalues = [\"D\"]\n",
            "heading.duplicate",
        ),
        ("ignore = [\"Status\"]\n[withdrawal]\ncolumn = \"Status\"\nvalues = [\"D\"]\n", "heading.duplicate"),
        ("[withdrawal]\ncolumn = \"Record ID\"\nvalues = [\"D\"]\n", "heading.duplicate"),
        ("[withdrawal]\ncolumn = \"Status\"\nvalues = []\n", "mapping.type"),
        ("[withdrawal]\ncolumn = \"Status\"\nvalues = [\"D\", \" d \"]\n", "value.invalid"),
        ("[withdrawal]\ncolumn = \"Status\"\nvalues = [\"D\"]\nvalue = \"x\"\n", "mapping.unknown_key"),
        ("[withdrawal]\nvalues = [\"D\"]\n", "mapping.type"),
    ];
    for (table, rule) in cases {
        let problems = parse(&format!("feed = \"housing\"\n{table}")).unwrap_err();
        let shown: Vec<String> = problems.iter().map(ToString::to_string).collect();
        assert_eq!(problems.iter().map(|p| p.rule.code()).collect::<Vec<_>>(), [rule], "{table}: {shown:#?}");
        assert!(shown[0].starts_with("maps/housing.toml:"), "{shown:#?}");
    }
}

/// The values of each feed column, in feed order, then the rejects' (position, rule code).
type ReadThrough = (Vec<Vec<Option<String>>>, Vec<(u64, &'static str)>);

/// The CSV `text` read through the housing `mapping`.
fn read_through(mapping: &str, text: &[u8]) -> ReadThrough {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("housing.txt");
    std::fs::write(&path, text).unwrap();
    let mapping = Arc::new(parse(mapping).unwrap());
    let dialect = Dialect { delimiter: mapping.delimiter().unwrap_or_default(), ..Dialect::default() };
    let opts = FileSourceOptions::default();
    let mut source = FileSource::open_with(&path, FileFormat::Csv, housing(), opts, dialect, Some(mapping)).unwrap();
    let (mut columns, mut rejects) = (vec![Vec::new(); housing().columns.len()], Vec::new());
    while let Some(raw) = source.next_batch().unwrap() {
        for (i, values) in columns.iter_mut().enumerate() {
            let a = raw.batch.column(i).as_string::<i32>();
            values.extend((0..a.len()).map(|r| (!a.is_null(r)).then(|| a.value(r).to_owned())));
        }
        rejects.extend(raw.rejects.iter().map(|r| (r.position, r.rule.code())));
    }
    (columns, rejects)
}

#[test]
fn null_spellings_are_empty_cells_in_every_column_before_any_other_rule() {
    let mapping = "feed = \"housing\"\n[file]\nnull_values = [\"NULL\", \" N/A \"]\n[columns]\nRef = \"record_id\"\n\
                   DOB = \"date_of_birth\"\nGender = \"sex\"\nArrears = \"rent_arrears_balance\"\n\
                   [constants]\nrole_in_household = \"CHILD\"\napproach_date = \"2024-01-01\"\nduty_owed = \"MAIN\"\n\
                   [values.sex]\n\"1\" = \"M\"\n[dates]\n\
                   date_of_birth = \"%d/%m/%Y\"\n[decimals.rent_arrears_balance]\ndecimal_separator = \",\"\n";
    assert_eq!(parse(mapping).unwrap().null_values(), ["NULL", "N/A"]);
    let text = "Ref,household_ref,forename,surname,DOB,Gender,Arrears\n\
                H1,NULL,NULL,Nullington,NULL,NULL,NULL\n\
                H2, NULL ,null,N/A,24/02/1986,1,\"1,5\"\n";
    let (columns, rejects) = read_through(mapping, text.as_bytes());
    assert!(rejects.is_empty(), "{rejects:?}");
    let col = |name: &str| columns[housing().index_of(name).unwrap()].clone();
    let s = |v: &str| Some(v.to_owned());
    assert_eq!(col("household_ref"), [None, None], "trimmed");
    assert_eq!(col("forename"), [None, s("null")], "case included");
    assert_eq!(col("surname"), [s("Nullington"), None]);
    assert_eq!(col("date_of_birth"), [None, s("1986-02-24")]);
    assert_eq!(col("sex"), [None, s("M")]);
    assert_eq!(col("rent_arrears_balance"), [None, s("1.5")]);
    assert_eq!(col("role_in_household"), [s("CHILD"), s("CHILD")]);
}

#[test]
fn null_spellings_and_the_quote_setting_are_checked_with_their_place() {
    let long = "x".repeat(MAX_NULL_SPELLING_CHARS + 1);
    let many: Vec<String> = (0..=MAX_NULL_SPELLINGS).map(|i| format!("\"N{i}\"")).collect();
    let cases = [
        ("null_values = []\n".to_owned(), "mapping.type"),
        ("null_values = \"NULL\"\n".to_owned(), "mapping.type"),
        ("null_values = [\"NULL\", \" \"]\n".to_owned(), "value.invalid"),
        (format!("null_values = [\"{long}\"]\n"), "value.invalid"),
        ("null_values = [\"NULL\", \" NULL\"]\n".to_owned(), "value.invalid"),
        (format!("null_values = [{}]\n", many.join(", ")), "value.invalid"),
        ("null_values = [\"NA\"]\n[values.sex]\n\"na\" = \"U\"\n".to_owned(), "value.invalid"),
        ("quote = \"'\"\n".to_owned(), "file.dialect"),
    ];
    for (table, rule) in cases {
        let problems = parse(&format!("feed = \"housing\"\n[file]\n{table}")).unwrap_err();
        let shown: Vec<String> = problems.iter().map(ToString::to_string).collect();
        assert_eq!(problems.iter().map(|p| p.rule.code()).collect::<Vec<_>>(), [rule], "{table}: {shown:#?}");
        assert!(shown[0].starts_with("maps/housing.toml:3:"), "{shown:#?}");
    }
    let m = parse("feed = \"housing\"\n[file]\nquote = \"none\"\n").unwrap();
    assert!(!m.quotes_fields() && parse("feed = \"housing\"\n[file]\nquote = '\"'\n").unwrap().quotes_fields());
}

#[test]
fn a_stray_quote_in_an_export_that_never_quotes_is_a_character_under_quote_none() {
    let mut text = b"Ref|household_ref|forename|surname|address_line_1\n".to_vec();
    for i in 0..6 {
        let address = if i == 1 { "\"Rose Cottage" } else { "5 Manor Road" };
        text.extend_from_slice(format!("H{i}|HH1|Ann|Lee|{address}\n").as_bytes());
    }
    let head = "feed = \"housing\"\n[constants]\nrole_in_household = \"CHILD\"\napproach_date = \"2024-01-01\"\n\
                duty_owed = \"MAIN\"\n[file]\ndelimiter = \"|\"\n";
    // Quoted by default: the quote on line 3 swallows every line after it, each rejected.
    let (columns, rejects) = read_through(&format!("{head}[columns]\nRef = \"record_id\"\n"), &text);
    assert_eq!(columns[0].len(), 1);
    assert_eq!(rejects, [3, 4, 5, 6, 7].map(|l| (l, "csv.malformed")));
    let (columns, rejects) = read_through(&format!("{head}quote = \"none\"\n[columns]\nRef = \"record_id\"\n"), &text);
    assert!(rejects.is_empty(), "{rejects:?}");
    let address = &columns[housing().index_of("address_line_1").unwrap()];
    assert_eq!((address.len(), address[1].as_deref()), (6, Some("\"Rose Cottage")));
}
