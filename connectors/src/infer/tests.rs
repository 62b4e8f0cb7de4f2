use std::path::Path;

use super::*;
use crate::file_source::sample::sample;
use crate::mapping::{Mapping, Resolved};

/// A housing extract as a district sends it: a title line, its own headings, pipes, UK dates,
/// coded sex, SQL Server date-times, and Windows-1252 (an accented name).
fn housing_extract(dir: &Path) -> std::path::PathBuf {
    let mut text: Vec<u8> = b"Housing options extract|run 03/12/2026\n".to_vec();
    text.extend_from_slice(
        b"Officer|Case Ref|Household_Ref|First Name|Last Name|DOB|Gender|Address 1|Post Code|UPRN|Date Approached|Duty Owed|Reason|TA Start|No. Children|Rent Arrears\n",
    );
    let names: [&[u8]; 6] = [b"Ren\xe9e", b"Amy", b"Oscar", b"Nia", b"Tom", b"Lily"];
    for i in 0..30u32 {
        let name = names[i as usize % names.len()];
        let mut row = format!("JB|HC-{i:05}|HH-{:04}|", i / 3).into_bytes();
        row.extend_from_slice(name);
        let day = 1 + i % 28;
        let sex = ["1", "2", "9"][i as usize % 3];
        let duty = ["PREVENTION", "RELIEF", "MAIN"][i as usize % 3];
        row.extend_from_slice(
            format!(
                "|Smith|{day:02}/0{}/2012|{sex}|{} Mill Lane|RH10 1AB|1000{i:05}|{day:02}/11/2024|{duty}|Eviction by family|2024-12-{day:02} 00:00:00.000|{}|",
                1 + i % 9,
                i + 1,
                i % 4,
            )
            .as_bytes(),
        );
        // The pound sign as Windows-1252 writes it (one byte, 0xA3).
        row.push(0xA3);
        row.extend_from_slice(format!("{},{:03}.50\n", 1 + i % 3, i * 7).as_bytes());
        text.extend_from_slice(&row);
    }
    let path = dir.join("housing.csv");
    std::fs::write(&path, text).expect("write");
    path
}

#[test]
fn a_partner_extract_becomes_a_mapping_that_loads_and_places_every_heading_it_should() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = housing_extract(dir.path());
    let feed = tellonce_schemas::feed::latest("housing").expect("housing");
    let s = sample(&path, None, 1000).expect("sample");
    assert_eq!(
        (s.delimiter, s.encoding, s.skip_lines),
        (Some(b'|'), Some(crate::file_source::Encoding::Windows1252), 1)
    );
    let proposal = infer(s, feed).expect("a header");
    let text = render(&proposal, "housing.csv");
    let mapping =
        Mapping::parse(Path::new("proposed.toml"), text.as_bytes(), feed).unwrap_or_else(|p| panic!("{text}\n{p:?}"));
    let col = |h: &str| match mapping.resolve(h) {
        Resolved::Column(i) => feed.columns[i].name,
        other => panic!("{h}: {other:?}\n{text}"),
    };
    for (heading, column) in [
        ("Case Ref", "record_id"),
        ("Household_Ref", "household_ref"),
        ("First Name", "forename"),
        ("Last Name", "surname"),
        ("DOB", "date_of_birth"),
        ("Gender", "sex"),
        ("Address 1", "address_line_1"),
        ("Post Code", "postcode"),
        ("Date Approached", "approach_date"),
        ("Duty Owed", "duty_owed"),
        ("Reason", "reason_for_loss"),
        ("TA Start", "ta_start"),
        ("No. Children", "num_children"),
        ("Rent Arrears", "rent_arrears_balance"),
    ] {
        assert_eq!(col(heading), column, "{text}");
    }
    assert_eq!(proposal.unplaced, ["Officer"], "{text}");
    assert!(text.contains("\"1\" = \"M\"") && text.contains("\"9\" = \"U\""), "{text}");
    assert!(text.contains("date_of_birth = \"%d/%m/%Y\""), "{text}");
    // A SQL Server date-time is ISO with a time of day, which the validate stage reads itself.
    assert!(!text.contains("ta_start = \""), "{text}");
    assert!(
        text.contains("[decimals.rent_arrears_balance]\nthousands_separator = \",\"\ncurrency_symbol = \"£\""),
        "{text}"
    );
    assert!(text.contains("encoding = \"windows-1252\"") && text.contains("delimiter = \"|\""), "{text}");
    assert!(text.contains("# \"Eviction by family\" = \"\"  # seen 30 times: no code found"), "{text}");
    assert!(proposal.missing_required.contains(&"role_in_household"), "{:?}", proposal.missing_required);
    for value in ["Smith", "Mill Lane", "RH10", "HC-0", "Renée", "Amy", "1000", ",0"] {
        assert!(!text.contains(value), "the proposal holds a value ({value}):\n{text}");
    }
}

#[test]
fn a_workbook_sheet_is_profiled_with_its_title_rows_skipped() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("police.xlsx");
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet().set_name("Occurrences").expect("name");
    sheet.write_string(0, 0, "Police occurrences, monthly").expect("cell");
    let headings = [
        "Ref",
        "Occurrence",
        "PNC",
        "First Name",
        "Surname",
        "Date Of Birth",
        "Incident Date",
        "Type",
        "Role",
        "MARAC",
    ];
    for (c, h) in headings.iter().enumerate() {
        sheet.write_string(2, c as u16, *h).expect("cell");
    }
    let date = rust_xlsxwriter::Format::new().set_num_format("dd/mm/yyyy");
    for r in 0..12u32 {
        let row = 3 + r;
        sheet.write_string(row, 0, format!("P-{r}")).expect("cell");
        sheet.write_string(row, 1, format!("OCC-{}", r / 2)).expect("cell");
        sheet.write_string(row, 3, "Sam").expect("cell");
        sheet.write_string(row, 4, "Jones").expect("cell");
        let dob = rust_xlsxwriter::ExcelDateTime::from_ymd(2010, 3, 1 + r as u8).expect("date");
        sheet.write_datetime_with_format(row, 5, &dob, &date).expect("cell");
        sheet.write_string(row, 6, format!("{:02}-Mar-2025", 1 + r)).expect("cell");
        sheet.write_string(row, 7, "DOMESTIC_ABUSE").expect("cell");
        sheet.write_string(row, 8, ["VICTIM", "SUSPECT", "CHILD_PRESENT"][r as usize % 3]).expect("cell");
        // Access exports true as -1.
        sheet.write_number(row, 9, [-1.0, 0.0][r as usize % 2]).expect("cell");
    }
    book.save(&path).expect("save");
    let feed = tellonce_schemas::feed::latest("police").expect("police");
    let s = sample(&path, None, 1000).expect("sample");
    assert_eq!((s.skip_lines, s.sheet.as_deref(), s.rows.len()), (2, Some("Occurrences"), 12));
    let proposal = infer(s, feed).expect("a header");
    let text = render(&proposal, "police.xlsx");
    Mapping::parse(Path::new("proposed.toml"), text.as_bytes(), feed).unwrap_or_else(|p| panic!("{text}\n{p:?}"));
    let placed: Vec<(&str, &str)> = proposal.placed.iter().map(|p| (p.heading.as_str(), p.column)).collect();
    for want in [
        ("Ref", "record_id"),
        ("Date Of Birth", "date_of_birth"),
        ("Incident Date", "incident_date"),
        ("Type", "incident_type"),
        ("Role", "person_role"),
        ("MARAC", "marac_referral"),
    ] {
        assert!(placed.contains(&want), "{want:?} in {placed:?}\n{text}");
    }
    assert!(text.contains("incident_date = \"%d-%b-%Y\""), "{text}");
    assert!(
        text.contains("[booleans.marac_referral]\ntrue = [\"-1\"]\nfalse = [\"0\"]"),
        "Access's -1 is proposed as true:\n{text}"
    );
    assert!(text.contains("sheet = \"Occurrences\"") && text.contains("skip_lines = 2"), "{text}");
    assert!(!text.contains("Jones") && !text.contains("Sam\""), "{text}");
}

#[test]
fn a_status_column_with_deleted_records_is_proposed_as_a_withdrawal_marker_commented_out() {
    let dir = tempfile::tempdir().expect("tempdir");
    // The heading is written, so the header must pass the rule for names `run` prints.
    let mut text = "Ref,Occurrence,Forename,Surname,Date,Type,Role,Record_Status\n".to_owned();
    for (i, status) in ["Active", "Deleted", "Closed", "Active", "DELETED", "Closed", "Deleted", "Active"]
        .iter()
        .cycle()
        .take(24)
        .enumerate()
    {
        text.push_str(&format!("P{i},OCC-{i},Ann,Lee,2024-01-05,CRIME,VICTIM,{status}\n"));
    }
    let path = dir.path().join("police.csv");
    std::fs::write(&path, text).expect("write");
    let feed = tellonce_schemas::feed::latest("police").expect("police");
    let proposal = infer(sample(&path, None, 1000).expect("sample"), feed).expect("a header");
    let rendered = render(&proposal, "police.csv");
    assert!(rendered.contains("# [withdrawal]\n# column = \"Record_Status\"\n# values = [\"Deleted\"]"), "{rendered}");
    // As proposed it withdraws nothing; uncommented, it is a valid mapping.
    let mapping = Mapping::parse(Path::new("p.toml"), rendered.as_bytes(), feed).expect("proposal parses");
    assert!(mapping.withdrawal().is_none());
    let uncommented = rendered
        .replace("# [withdrawal]", "[withdrawal]")
        .replace("# column = ", "column = ")
        .replace("# values = ", "values = ");
    let mapping = Mapping::parse(Path::new("p.toml"), uncommented.as_bytes(), feed).expect("uncommented parses");
    let marker = mapping.withdrawal().expect("a marker");
    assert!(marker.marks("deleted") && !marker.marks("Closed"));
}

/// The clear values of the education rows below, none of which a proposal or message may hold.
const CLEAR: [&str; 9] =
    ["Riley", "Morris", "13/07/2012", "A938202416000", "9990390061", "RH15 9PF", "Southdown", "EDU-0", "1000610"];

/// An education record as a partner writes it, its outcome column given.
fn education_row(i: usize, outcome: &str) -> String {
    format!(
        "EDU-{i:08},A938202416000,9990390061,Riley,Morris,13/07/2012,1,WHITE,3 Southdown Road,RH15 9PF,\
         100061000044,{:02}/03/2023,ATTENDANCE_TERM,89.7,N,{outcome}\n",
        1 + i % 28
    )
}

const EDUCATION_HEADER: &str = "Pupil Ref,UPN,NHS No,First Name,Last Name,DOB,Gender,Ethnicity,Address 1,\
                                Post Code,UPRN,Event Date,Event Type,Attendance %,CIN,Outcome\n";

fn assert_no_clear_value(text: &str) {
    for value in CLEAR {
        assert!(!text.contains(value), "a clear value ({value}) is shown:\n{text}");
    }
}

fn education_proposal(text: &str) -> Result<(Proposal, String), InferError> {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("edu.csv");
    std::fs::write(&path, text).expect("write");
    let feed = tellonce_schemas::feed::latest("education").expect("education");
    let proposal = infer(sample(&path, None, 1000).expect("sample"), feed)?;
    let rendered = render(&proposal, "edu.csv");
    Mapping::parse(Path::new("p.toml"), rendered.as_bytes(), feed).unwrap_or_else(|p| panic!("{rendered}\n{p:?}"));
    Ok((proposal, rendered))
}

#[test]
fn a_file_without_its_header_line_is_refused_and_the_message_holds_no_value() {
    let text: String = (0..40).map(|i| education_row(i, "NEEDS_MET")).collect();
    let err = education_proposal(&text).expect_err("a record as header is refused");
    let message = err.to_string();
    assert!(message.contains("edu.csv has no header line: line 1 reads as a record"), "{message}");
    assert_no_clear_value(&message);
    // After a title line, the record is on line 2.
    let err = education_proposal(&format!("Education extract\n{text}")).expect_err("refused");
    assert!(err.to_string().contains("line 2 reads as a record"), "{err}");
}

#[test]
fn headings_that_look_like_values_or_are_blank_are_left_out_by_position() {
    // A real header with a blank heading over NHS numbers, a year in one heading, a heading that
    // is also a name in its own column, and one that is a code of its own column (a flag column
    // may be headed by its code): the record is not mistaken for a header.
    let header = EDUCATION_HEADER
        .replace("NHS No,", ",")
        .replace("CIN,", "Attendance 2023,")
        .replace("Outcome", "Quinley7")
        .replace("Event Type", "SUSPENSION");
    // The heading's code is seen once in its column, which repeats as a code list does.
    let row = |i: usize| {
        let row = education_row(i, &format!("Quinley{i}"));
        if i == 0 { row.replace(",ATTENDANCE_TERM,", ",SUSPENSION,") } else { row }
    };
    let text: String = header.clone() + &(0..40).map(row).collect::<String>();
    let (proposal, rendered) = education_proposal(&text).expect("a header");
    assert!(rendered.contains("#   column 3 has no heading; its values fit nhs_number"), "{rendered}");
    assert!(rendered.contains("#   column 15 heading not shown: it looks like a value"), "{rendered}");
    assert!(rendered.contains("#   column 16 heading not shown: it is also one of the values"), "{rendered}");
    assert!(!rendered.contains("Attendance 2023") && !rendered.contains("Quinley"), "{rendered}");
    // A code heading is not one of its column's values; but this header holds a heading that
    // looks like a value, so no heading a column did not take is written.
    let why = |i: usize| proposal.unnamed.iter().find(|u| u.index == i).map(|u| u.why);
    assert_eq!(why(12), Some(Unnamed::Withheld), "{rendered}");
    assert!(!rendered.contains("SUSPENSION"), "{rendered}");
    assert!(!rendered.contains("\"\" ="), "no blank heading is mapped:\n{rendered}");
    assert_eq!(proposal.unplaced.len(), 0, "{rendered}");
    assert!(proposal.placed.iter().all(|p| p.column != "nhs_number"), "{rendered}");
    assert_no_clear_value(&rendered);
}

#[test]
fn values_of_a_code_column_are_listed_only_when_they_are_codes() {
    let surnames = ["Brown", "Bell", "Adams", "Cox", "Evans", "Hughes"];
    // Each surname is also some record's surname: placed on an identifying field.
    let mut text = EDUCATION_HEADER.to_owned();
    for i in 0..60 {
        let row = education_row(i, surnames[i % surnames.len()]);
        text.push_str(&row.replace("Riley,Morris", &format!("Riley,{}", surnames[(i + 1) % surnames.len()])));
    }
    let (proposal, rendered) = education_proposal(&text).expect("a header");
    let plan = proposal.values.iter().find(|v| v.column == "early_help_outcome").expect("a plan");
    assert_eq!((plan.unmapped.len(), plan.withheld.identifying), (0, surnames.len()), "{rendered}");
    assert!(rendered.contains("#   6: also values of a column placed on a name"), "{rendered}");
    for name in surnames {
        assert!(!rendered.contains(name), "{name}:\n{rendered}");
    }
    // More distinct values than a code list holds: none is listed, though none is a name here.
    let mut text = EDUCATION_HEADER.to_owned();
    for i in 0..(3 * (MAX_CODES + 1)) {
        text.push_str(&education_row(i, &format!("Qox{}", i % (MAX_CODES + 1))));
    }
    let (proposal, rendered) = education_proposal(&text).expect("a header");
    let plan = proposal.values.iter().find(|v| v.column == "early_help_outcome").expect("a plan");
    assert_eq!((plan.unmapped.len(), plan.withheld.too_many), (0, MAX_CODES + 1), "{rendered}");
    assert!(!rendered.contains("Qox"), "{rendered}");
    assert!(rendered.contains(&format!("more than {MAX_CODES} distinct values")), "{rendered}");
    // A partner's own outcome codes are listed for the reviewer to map.
    let codes = ["Closed - outcomes met", "Stepped up", "Moved out of area"];
    let text: String =
        EDUCATION_HEADER.to_owned() + &(0..30).map(|i| education_row(i, codes[i % codes.len()])).collect::<String>();
    let (_, rendered) = education_proposal(&text).expect("a header");
    assert!(rendered.contains("# \"Closed - outcomes met\" = \"\"  # seen 10 times: no code found"), "{rendered}");
    assert_no_clear_value(&rendered);
}

#[test]
fn a_name_typed_into_a_code_column_is_not_listed_in_any_form() {
    // A column of the field's own codes, placed with high confidence, where a worker typed a
    // pupil's name four times: as the sample's name columns hold it, or shaped as a name.
    let codes = ["NEEDS_MET", "DISENGAGED", "MOVED_AWAY"];
    for typed in
        ["Morris, Riley", "RILEY MORRIS", "Riley Morris", "MORRIS Riley", "Quennell, Xanthe", "QUENNELL XANTHE"]
    {
        let text: String = EDUCATION_HEADER.to_owned()
            + &(0..48)
                .map(|i| education_row(i, if i % 12 == 0 { typed } else { codes[i % codes.len()] }))
                .collect::<String>();
        let (proposal, rendered) = education_proposal(&text).expect("a header");
        let plan = proposal.values.iter().find(|v| v.column == "early_help_outcome").expect("a plan");
        assert!(plan.unmapped.is_empty(), "{typed}:\n{rendered}");
        assert_eq!(plan.withheld.identifying + plan.withheld.name_shaped, 1, "{typed}:\n{rendered}");
        for word in typed.split([',', ' ']).filter(|w| !w.is_empty()) {
            assert!(!rendered.to_lowercase().contains(&word.to_lowercase()), "{word}:\n{rendered}");
        }
    }
}

/// The proposal for `text` written as `name`, or why none is made.
fn proposal_for(name: &str, text: &[u8], feed: &str) -> Result<(Proposal, String), InferError> {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join(name);
    std::fs::write(&path, text).expect("write");
    let feed = tellonce_schemas::feed::latest(feed).expect("feed");
    let proposal = infer(sample(&path, None, 1000).expect("sample"), feed)?;
    let rendered = render(&proposal, name);
    Mapping::parse(Path::new("p.toml"), rendered.as_bytes(), feed).unwrap_or_else(|p| panic!("{rendered}\n{p:?}"));
    Ok((proposal, rendered))
}

const PUPILS: [(&str, &str); 4] =
    [("Featherstonehaugh", "Peregrine"), ("Brown", "Harry"), ("Baker", "Isla"), ("Clark", "Charlie")];
const SCHOOLS: [&str; 3] = ["St Marys Primary", "Oakwood Academy", "Holmbush School"];

#[test]
fn a_record_read_as_the_header_shows_none_of_its_cells() {
    // Sent without its header, a date of birth in the first record: refused, no value shown.
    let text: String = (0..40)
        .map(|i| {
            let (surname, forename) = PUPILS[i % 4];
            format!("{surname},{forename},{:02}/03/2014,{}\n", 1 + i % 28, SCHOOLS[i % 3])
        })
        .collect();
    let message = proposal_for("pupils.csv", text.as_bytes(), "education").expect_err("refused").to_string();
    assert!(message.contains("has no header line: line 1 reads as a record"), "{message}");
    for value in ["Featherstonehaugh", "Peregrine", "11/03/2014", "St Marys"] {
        assert!(!message.contains(value), "{value}: {message}");
    }
    // No date nor identifier in it, but its names, school and event are held again in the rows
    // below, as no heading is: refused.
    let text: String = (0..40)
        .map(|i| {
            let (surname, forename) = PUPILS[i % 4];
            format!("{surname},{forename},{},{}\n", SCHOOLS[i % 3], ["Attendance", "Suspension"][i % 2])
        })
        .collect();
    let message = proposal_for("pupils.csv", text.as_bytes(), "education").expect_err("refused").to_string();
    assert!(message.contains("has no header line: line 1 reads as a record"), "{message}");
    for value in ["Featherstonehaugh", "Peregrine", "St Marys", "Attendance"] {
        assert!(!message.contains(value), "{value}: {message}");
    }
    // Where the first record's names are not seen again, it is not refused; but a school's name
    // has a space, which no column name has, so none of the line's cells is written.
    let text: String = (0..40)
        .map(|i| {
            let (surname, forename) = if i == 0 { PUPILS[0] } else { PUPILS[1 + i % 3] };
            let event = if i == 0 { "Attendance" } else { "Suspension" };
            format!("{surname},{forename},{},{event}\n", SCHOOLS[i % 3])
        })
        .collect();
    let (proposal, rendered) = proposal_for("pupils.csv", text.as_bytes(), "education").expect("not refused");
    assert!(proposal.unplaced.is_empty(), "{rendered}");
    assert!(rendered.contains("#   column 1 heading not shown: not every heading"), "{rendered}");
    for value in ["Featherstonehaugh", "Peregrine", "St Marys", "Attendance\""] {
        assert!(!rendered.contains(value), "{value}:\n{rendered}");
    }
    // A header of plain names and headings in our own words writes the ones no column took;
    // one heading that is not a plain name withholds them all.
    let header = "Officer,Case Ref,First Name,Last Name,DOB,Date Approached,Duty Owed\n";
    let row = |i: usize| format!("JB,HC-{i:05},Amy,Smith,01/02/2012,{:02}/11/2024,RELIEF\n", 1 + i % 28);
    let rows: String = (0..30).map(row).collect();
    let (proposal, rendered) = proposal_for("h.csv", (header.to_owned() + &rows).as_bytes(), "housing").expect("ok");
    assert_eq!(proposal.unplaced, ["Officer"], "{rendered}");
    let header = header.replace("Officer,", "Officer,Key Worker,").replace("\n", "");
    let rows: String = (0..30).map(|i| row(i).replacen("JB,", "JB,Priya Shah,", 1)).collect();
    let (proposal, rendered) = proposal_for("h.csv", format!("{header}\n{rows}").as_bytes(), "housing").expect("ok");
    assert!(proposal.unplaced.is_empty() && !rendered.contains("Officer"), "{rendered}");
    assert!(!rendered.contains("Key Worker") && !rendered.contains("Priya"), "{rendered}");
}

#[test]
fn years_as_headings_are_a_header_and_are_left_out_by_position() {
    let mut text = "Pupil Ref,First Name,Last Name,DOB,2021,2022,2023\n".to_owned();
    for i in 0..30 {
        text.push_str(&format!("EDU-{i:08},Riley,Morris,13/07/2012,89.7,{}.5,93.3\n", 60 + i));
    }
    let (proposal, rendered) = proposal_for("years.csv", text.as_bytes(), "education").expect("a header");
    let placed: Vec<&str> = proposal.placed.iter().map(|p| p.column).collect();
    assert!(placed.contains(&"forename") && placed.contains(&"date_of_birth"), "{rendered}");
    for column in 5..=7 {
        assert!(rendered.contains(&format!("#   column {column} heading not shown")), "{rendered}");
    }
    assert!(!rendered.contains("\"2021\""), "{rendered}");
    assert_no_clear_value(&rendered);
}

#[test]
fn a_utf16_file_is_refused_as_a_run_refuses_it() {
    let text = "Pupil Ref\tFirst Name\tDOB\nEDU-1\tRiley\t13/07/2012\n";
    for bom in [[0xFF, 0xFE], [0xFE, 0xFF]] {
        let mut bytes = bom.to_vec();
        for unit in text.encode_utf16() {
            let pair = if bom[0] == 0xFF { unit.to_le_bytes() } else { unit.to_be_bytes() };
            bytes.extend_from_slice(&pair);
        }
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("edu.txt");
        std::fs::write(&path, bytes).expect("write");
        let err = sample(&path, None, 1000).expect_err("UTF-16 is refused");
        assert!(matches!(err, crate::file_source::SourceError::Utf16 { .. }), "{err}");
        assert_eq!(err.rule_code(), "encoding.utf16");
        assert_no_clear_value(&err.to_string());
    }
}

#[test]
fn a_title_line_padded_to_the_table_width_is_skipped() {
    let mut text = "Education extract March 2023,,,,,,,,,,,,,,,\n,,,,,,,,,,,,,,,\n".to_owned() + EDUCATION_HEADER;
    text.extend((0..30).map(|i| education_row(i, "NEEDS_MET")));
    let (proposal, rendered) = proposal_for("edu.csv", text.as_bytes(), "education").expect("a header");
    assert_eq!((proposal.sample.skip_lines, proposal.sample.header_line), (2, 3), "{rendered}");
    assert!(rendered.contains("skip_lines = 2  # lines before the header"), "{rendered}");
    assert!(proposal.placed.iter().any(|p| p.column == "upn"), "{rendered}");
    assert_no_clear_value(&rendered);
}

#[test]
fn person_names_in_a_code_column_are_not_listed() {
    // Staff names under a heading that shares two words with `early_help_outcome`.
    let staff = ["Sarah Jones", "Tom Reed", "Priya Shah", "Helen Ward", "Mark Price"];
    let header = EDUCATION_HEADER.replace("Outcome", "Early Help Worker");
    let text: String = header + &(0..60).map(|i| education_row(i, staff[i % staff.len()])).collect::<String>();
    let (proposal, rendered) = education_proposal(&text).expect("a header");
    if let Some(plan) = proposal.values.iter().find(|v| v.column == "early_help_outcome") {
        assert!(plan.map.is_empty() && plan.unmapped.is_empty(), "{rendered}");
        assert_eq!(plan.withheld.weak_heading, staff.len(), "{rendered}");
        assert!(rendered.contains("heading does not clearly name the field"), "{rendered}");
    }
    for name in staff {
        assert!(!rendered.contains(name), "{name}:\n{rendered}");
    }
    // First names in the ethnicity column of a small file: its heading names the field, but
    // its values fit none of its codes, so names are not listed.
    let forenames = ["Amelia", "Amelia", "Oliver", "Amelia", "Oliver", "Oliver"];
    let text: String = EDUCATION_HEADER.to_owned()
        + &(0..12)
            .map(|i| education_row(i, "NEEDS_MET").replace(",WHITE,", &format!(",{},", forenames[i % 6])))
            .collect::<String>();
    let (proposal, rendered) = education_proposal(&text).expect("a header");
    let plan = proposal.values.iter().find(|v| v.column == "ethnicity").expect("a plan");
    assert_eq!((plan.unmapped.len(), plan.withheld.name_shaped), (0, 2), "{rendered}");
    assert!(!rendered.contains("Amelia") && !rendered.contains("Oliver"), "{rendered}");
    // A column of a few values each seen once (a small file's names) is no code list.
    let text: String =
        EDUCATION_HEADER.to_owned() + &(0..6).map(|i| education_row(i, &format!("QX{}", i % 4))).collect::<String>();
    let (proposal, rendered) = education_proposal(&text).expect("a header");
    let plan = proposal.values.iter().find(|v| v.column == "early_help_outcome").expect("a plan");
    assert_eq!((plan.unmapped.len(), plan.withheld.unrepeated), (0, 4), "{rendered}");
    // Partner sex words under a sure placement are listed and mapped.
    let text: String = EDUCATION_HEADER.to_owned()
        + &(0..30)
            .map(|i| education_row(i, "NEEDS_MET").replacen(",1,", [",Male,", ",Female,"][i % 2], 1))
            .collect::<String>();
    let (_, rendered) = education_proposal(&text).expect("a header");
    assert!(rendered.contains("\"Male\" = \"M\"") && rendered.contains("\"Female\" = \"F\""), "{rendered}");
}

#[test]
fn a_null_spelling_across_columns_is_proposed_and_kept_out_of_the_other_plans() {
    // SQL Server's NULL in the NHS number and outcome columns of every record.
    let rows: String = (0..30).map(|i| education_row(i, "NULL").replace(",9990390061,", ",NULL,")).collect();
    let (proposal, rendered) = education_proposal(&format!("{EDUCATION_HEADER}{rows}")).expect("a header");
    assert_eq!(proposal.null_values, [NullSeen { spelling: "NULL", columns: 2, times: 60 }]);
    assert!(
        rendered.contains(
            "null_values = [\"NULL\"]  # seen NULL in 2 columns, 60 times: cells so written are read as empty"
        ),
        "{rendered}"
    );
    assert!(!rendered.contains("\"NULL\" = \"\""), "not a code to map:\n{rendered}");
    assert!(proposal.values.iter().all(|v| v.column != "early_help_outcome"), "{rendered}");
    assert_no_clear_value(&rendered);
    // In one column alone it may be that column's code: not proposed.
    let rows: String = (0..30).map(|i| education_row(i, "NULL")).collect();
    let (proposal, rendered) = education_proposal(&format!("{EDUCATION_HEADER}{rows}")).expect("a header");
    assert!(proposal.null_values.is_empty() && !rendered.contains("null_values"), "{rendered}");
}

#[test]
fn a_utf8_file_with_a_windows_1252_line_is_proposed_as_utf8_and_said_to_mix() {
    let mut text = EDUCATION_HEADER.as_bytes().to_vec();
    for i in 0..30 {
        let row = education_row(i, "NEEDS_MET");
        let row = if i % 3 == 0 { row.replace("Riley,", "Zoë,") } else { row };
        text.extend_from_slice(row.as_bytes());
    }
    // Line 12: a record pasted from a Windows-1252 export.
    let at = text.iter().enumerate().filter(|(_, b)| **b == b'\n').nth(10).map(|(i, _)| i + 1).expect("line 12");
    let pasted = education_row(99, "NEEDS_MET").replace("Riley,", "Zo#,").into_bytes();
    text.splice(at..at, pasted.into_iter().map(|b| if b == b'#' { 0xEB } else { b }));
    let (proposal, rendered) = proposal_for("edu.csv", &text, "education").expect("a header");
    assert_eq!(proposal.sample.encoding, Some(crate::file_source::Encoding::Utf8), "{rendered}");
    assert!(
        rendered.contains("encoding = \"utf-8\"  # the file mixes encodings: 10 UTF-8 characters of several bytes"),
        "{rendered}"
    );
    assert!(rendered.contains("1 byte sequence(s) that are not UTF-8, the first on line 12"), "{rendered}");
    assert_no_clear_value(&rendered);
}

#[test]
fn a_heading_no_list_knows_is_placed_by_values_that_are_its_columns_codes() {
    let mut text = "Client ID,First Name,Last Name,DOB,Contact Date,Attendance\n".to_owned();
    for i in 0..30 {
        let attended = ["ATTENDED", "DNA", "ATTENDED"][i % 3];
        text.push_str(&format!("HV{i},Ann,Lee,01/02/2020,03/04/2024,{attended}\n"));
    }
    let (proposal, rendered) = proposal_for("hv.csv", text.as_bytes(), "health_visiting").expect("a proposal");
    let placed = proposal.placed.iter().find(|p| p.heading == "Attendance").expect(&rendered);
    assert_eq!((placed.column, placed.confidence), ("attended", Confidence::Medium), "{rendered}");
}

#[test]
fn record_id_headings_partners_write_are_placed() {
    for heading in ["Person URN", "Pupil ID", "YJS ID", "Account Ref", "Pupil Ref"] {
        let text = EDUCATION_HEADER.replace("Pupil Ref", heading)
            + &(0..40).map(|i| education_row(i, "NEEDS_MET")).collect::<String>();
        let (proposal, rendered) = education_proposal(&text).expect("a header");
        let placed = proposal.placed.iter().find(|p| p.column == "record_id").map(|p| p.heading.as_str());
        assert_eq!(placed, Some(heading), "{rendered}");
    }
}

#[test]
fn a_police_systems_occurrence_and_involvement_headings_are_placed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("police.csv");
    let mut text = "Person URN,Occurrence,PNC,Forename,Surname,DOB,Gender,Address,Postcode,Incident Date,Occ Type,\
                    Involvement,DASH,MARAC,Hours Missing\n"
        .to_owned();
    for i in 0..30 {
        text.push_str(&format!(
            "PU{i:07},4700000{i:04},,Riley,Morris,13/07/2012,M,3 Southdown Road,RH15 9PF,{:02}/10/2026,DA,{},Medium,N,0\n",
            1 + i % 28,
            ["Victim", "Suspect", "Witness"][i % 3]
        ));
    }
    std::fs::write(&path, text).expect("write");
    let feed = tellonce_schemas::feed::latest("police").expect("police");
    let proposal = infer(sample(&path, None, 1000).expect("sample"), feed).expect("a header");
    let placed: Vec<(&str, &str)> = proposal.placed.iter().map(|p| (p.heading.as_str(), p.column)).collect();
    for want in [("Person URN", "record_id"), ("Occ Type", "incident_type"), ("Involvement", "person_role")] {
        assert!(placed.contains(&want), "{want:?} in {placed:?}");
    }
}
