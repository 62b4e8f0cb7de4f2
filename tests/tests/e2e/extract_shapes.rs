//! Partner extracts in shapes a first probe of held-out-like files found losing records without
//! a word: stray quotes in a free-text column, a footer the mapping declares and this month's
//! file lacks, two exports joined under one header, date-times under a date pattern, and a drop
//! folder whose files are named by the date they cover, day first.

use tellonce_tests::{json_stdout, tellonce_ok};

use crate::support::*;

const MAPPING: &str = "feed = \"housing\"\nignore = [\"Notes\"]\n[file]\nfooter_lines = 1\n[columns]\n\
                       \"Case Ref\" = \"record_id\"\nHousehold = \"household_ref\"\nRole = \"role_in_household\"\n\
                       \"First Name\" = \"forename\"\n\"Last Name\" = \"surname\"\nDOB = \"date_of_birth\"\n\
                       Gender = \"sex\"\n\"Date Approached\" = \"approach_date\"\n\"Duty Owed\" = \"duty_owed\"\n\
                       [values.sex]\n\"1\" = \"M\"\n\"2\" = \"F\"\n[dates]\ndate_of_birth = \"%d/%m/%Y\"\n\
                       approach_date = \"%d/%m/%Y\"\n";

const HEADER: &str = "Case Ref,Household,Role,First Name,Last Name,DOB,Gender,Date Approached,Duty Owed,Notes\n";

fn config(ws: &Workspace, path: &str) {
    ws.write("maps/housing.toml", MAPPING);
    ws.write(
        "tellonce.toml",
        format!(
            "[output]\ndir = \"output\"\n[keys]\nfile = \"keys/tellonce.key\"\n[[sources]]\nfeed = \"housing\"\n\
             path = \"{path}\"\nmapping = \"maps/housing.toml\"\n"
        ),
    );
}

#[test]
fn stray_quotes_a_missing_footer_a_repeated_header_and_date_times_lose_no_record_unnoticed() {
    let ws = Workspace::new();
    // Lines 3 and 5 each open a quote in the notes that nothing closes on its line: read as CSV,
    // lines 3 to 5 would be one record of the header's shape. Line 7 repeats the header (two
    // exports joined). The last line is a record where the footer was expected.
    let text = format!(
        "{HEADER}H1,HH1,CHILD,Quennell,Xanthe,24/02/2016 00:00,2,01/12/2024,MAIN,ok\n\
         H2,HH1,CHILD,Bo,Lee,03/03/2017,1,01/12/2024,MAIN,\"Called mum\n\
         H3,HH2,CHILD,Cy,Ray,04/04/2015,1,01/12/2024,MAIN,fine\n\
         H4,HH2,CHILD,Di,Ray,05/05/2014,2,01/12/2024,MAIN,\"Rang back\n\
         H5,HH3,CHILD,Ed,Fox,'06/06/2013,1,01/12/2024,MAIN,ok\n\
         {HEADER}H6,HH4,CHILD,Fay,Gee,07/07/2012 13:45,2,01/12/2024,MAIN,ok\n"
    );
    ws.write("partner/housing.csv", text);
    config(&ws, "partner/housing.csv");
    let run = ws.run(0, &[]);
    // 3 staged (H1, H5, H6), the 3 lines between the stray quotes and the repeated header
    // quarantined: every line accounted for.
    run.assert_counts("partner/housing.csv", "processed", 7, 3, 4);
    let by_rule = run.by_rule("partner/housing.csv");
    assert_eq!(by_rule.get("csv.malformed"), Some(&3), "{by_rule:?}");
    assert_eq!(by_rule.get("csv.repeated_header"), Some(&1), "{by_rule:?}");
    for line in [3, 4, 5] {
        assert_quarantined(&ws, "partner/housing.csv", line, "csv.malformed", None);
    }
    assert_quarantined(&ws, "partner/housing.csv", 7, "csv.repeated_header", None);
    // The date-times and the text-apostrophe date were read as dates: nothing nulled.
    let nulled = rule_counts(&run.input("partner/housing.csv")["nulled_by_rule"]);
    assert!(nulled.is_empty(), "{nulled:?}");
    // `sources check` names the stray quotes as an error.
    let check = tellonce_ok(ws.dir(), &["sources", "check", "--config", "tellonce.toml", "--json"], 3);
    let reports = json_stdout(&check);
    let findings = reports[0]["findings"].as_array().expect("findings");
    assert!(findings.iter().any(|f| f["rule"] == "csv.malformed" && f["severity"] == "error"), "{reports:#}");
    assert_absent(&[b"Quennell", b"Xanthe", b"Called mum"], &[&run.output, &check], &ws.out());
}

#[test]
fn a_drop_folder_of_day_first_dated_extracts_keeps_the_latest_version() {
    let ws = Workspace::new();
    // January's extract, then February's correcting H1's duty: read in path order, January's
    // (`31-01` after `28-02`) would supersede February's.
    let row = |duty: &str| format!("H1,HH1,CHILD,Ann,Lee,24/02/2016,2,01/12/2024,{duty},ok\n");
    ws.write("drop/housing_31-01-2025.csv", format!("{HEADER}{}footer: 1 row\n", row("MAIN")));
    ws.write("drop/housing_28-02-2025.csv", format!("{HEADER}{}footer: 1 row\n", row("RELIEF")));
    config(&ws, "drop/housing_*.csv");
    let run = ws.run(0, &[]);
    let order: Vec<&str> =
        run.summary["inputs"].as_array().unwrap().iter().filter_map(|i| i["source"].as_str()).collect();
    assert_eq!(order, ["drop/housing_31-01-2025.csv", "drop/housing_28-02-2025.csv"]);
    // The staging dataset holds the live version of each record: February's.
    let mut duty = Vec::new();
    for part in visible_parquet(&ws.out().join("staging/feed=housing")) {
        duty.extend(parquet_column(&part, "duty_owed").into_iter().flatten());
    }
    assert_eq!(duty, ["RELIEF"], "February's version is held");
}
