//! Partner extracts a fourth probe found read wrongly or without a word: amounts whose
//! thousands separator stands out of its place, identifiers written as floating point or kept
//! as text, a mapped column the partner dropped, and a workbook whose records go on over a
//! second sheet.

use tellonce_tests::tellonce_ok;

use crate::support::*;

const MAPPING: &str = "feed = \"housing\"\n[columns]\n\"Case Ref\" = \"record_id\"\nHousehold = \"household_ref\"\n\
                       Role = \"role_in_household\"\n\"First Name\" = \"forename\"\n\"Last Name\" = \"surname\"\n\
                       UPRN = \"uprn\"\nChildren = \"num_children\"\n\"Date Approached\" = \"approach_date\"\n\"Duty Owed\" = \"duty_owed\"\n\
                       Arrears = \"rent_arrears_balance\"\n[dates]\napproach_date = \"%d/%m/%Y\"\n\
                       [decimals.rent_arrears_balance]\nthousands_separator = \",\"\n";

const HEADER: &str = "Case Ref,Household,Role,First Name,Last Name,UPRN,Children,Date Approached,Duty Owed,Arrears\n";

fn config(ws: &Workspace, path: &str) {
    ws.write("maps/housing.toml", MAPPING);
    ws.write(
        "tellonce.toml",
        format!(
            "[output]\ndir = \"output\"\n[keys]\nfile = \"keys/tellonce.key\"\n[linkage]\nenabled = false\n\
             [[sources]]\nfeed = \"housing\"\npath = \"{path}\"\nmapping = \"maps/housing.toml\"\n"
        ),
    );
}

/// The staged values of `column`, by record, in record order.
fn staged(ws: &Workspace, column: &str) -> Vec<(String, Option<String>)> {
    let mut rows: Vec<(String, Option<String>)> = visible_parquet(&ws.out().join("staging").join("feed=housing"))
        .iter()
        .flat_map(|p| parquet_column(p, "record_id").into_iter().map(Option::unwrap).zip(parquet_column(p, column)))
        .collect();
    rows.sort();
    rows
}

#[test]
fn amounts_out_of_their_grouping_are_quarantined_and_float_written_identifiers_are_read() {
    let ws = Workspace::new();
    let text = format!(
        "{HEADER}H1,HH1,PARENT_CARER,Quaxworth,Ann,100023336956.0,2.0,01/12/2024,MAIN,\"1,250.50\"\n\
         H2,HH1,CHILD,Quaxworth,Bo,,,01/12/2024,MAIN,\"12,5\"\n\
         H3,HH2,PARENT_CARER,Ray,Cy,,,01/12/2024,MAIN,\"99,95\"\n\
         H4,HH3,PARENT_CARER,Fox,Di,'100023336957,'1,01/12/2024,MAIN,725\n"
    );
    ws.write("partner/housing.csv", text);
    config(&ws, "partner/housing.csv");
    let run = ws.run(0, &[]);
    // `12,5` and `99,95` are another spelling of a decimal, not 125 and 9995.
    run.assert_counts("partner/housing.csv", "processed", 4, 2, 2);
    assert_eq!(run.by_rule("partner/housing.csv").get("decimal.format"), Some(&2));
    assert_quarantined(&ws, "partner/housing.csv", 3, "decimal.format", Some("rent_arrears_balance"));
    assert_quarantined(&ws, "partner/housing.csv", 4, "decimal.format", Some("rent_arrears_balance"));
    let amounts = staged(&ws, "rent_arrears_balance");
    assert_eq!(amounts, [("H1".to_owned(), Some("1250.5".to_owned())), ("H4".to_owned(), Some("725.0".to_owned()))]);
    // The UPRN and the count written as floats, or kept as text, are read, not nulled.
    let nulled = rule_counts(&run.input("partner/housing.csv")["nulled_by_rule"]);
    assert!(nulled.is_empty(), "{nulled:?}");
    assert!(staged(&ws, "uprn_token").iter().all(|(_, t)| t.is_some()));
    let children = staged(&ws, "num_children");
    assert_eq!(children, [("H1".to_owned(), Some("2".to_owned())), ("H4".to_owned(), Some("1".to_owned()))]);
    assert_absent(&[b"Quaxworth", b"100023336956"], &[&run.output], &ws.out());
}

#[test]
fn a_mapped_column_the_partner_dropped_is_named_in_the_summary_and_the_audit_report() {
    let ws = Workspace::new();
    // The partner's new system no longer exports the arrears.
    let header = HEADER.replace(",Arrears", "");
    ws.write("partner/housing.csv", format!("{header}H1,HH1,PARENT_CARER,Quaxworth,Ann,,,01/12/2024,MAIN\n"));
    config(&ws, "partner/housing.csv");
    let run = ws.run(0, &[]);
    run.assert_counts("partner/housing.csv", "processed", 1, 1, 0);
    let absent = &run.input("partner/housing.csv")["columns_absent"];
    assert_eq!(absent[0]["column"], "rent_arrears_balance", "{absent:#}");
    assert_eq!(absent[0]["headings"][0], "Arrears", "{absent:#}");
    assert!(run.stderr().contains("rent_arrears_balance"), "{}", run.stderr());
    // The text summary says so too, as a warning.
    ws.write("partner/housing2.csv", format!("{header}H2,HH1,CHILD,Quaxworth,Bo,,,01/12/2024,MAIN\n"));
    config(&ws, "partner/housing2.csv");
    let text_run = tellonce_ok(ws.dir(), &["run", "--config", "tellonce.toml", "--no-progress"], 0);
    let said = text(&text_run);
    assert!(said.contains("WARNING") && said.contains("\"Arrears\" for rent_arrears_balance"), "{said}");
    tellonce_ok(ws.dir(), &["audit", "report", "--config", "tellonce.toml", "--out", "r.html"], 0);
    let report = std::fs::read_to_string(ws.dir().join("r.html")).unwrap();
    assert!(report.contains("rent_arrears_balance (2 input(s))"), "the audit report names the absent column");
    assert_absent(&[b"Quaxworth"], &[&run.output, &text_run], &ws.out());
}

#[test]
fn a_case_note_of_a_hundred_kilobytes_in_an_ignored_column_loses_no_record() {
    let ws = Workspace::new();
    ws.write(
        "maps/housing.toml",
        MAPPING.replace("feed = \"housing\"\n", "feed = \"housing\"\nignore = [\"Notes\"]\n"),
    );
    // A note typed over 1,300 lines, quoted as Excel quotes it.
    let note = (0..1300).map(|i| format!("Visit {i}: spoke with Quaxworth about the arrears plan")).collect::<Vec<_>>();
    let header = HEADER.replace('\n', ",Notes\n");
    let text = format!(
        "{header}H1,HH1,PARENT_CARER,Ray,Cy,,,01/12/2024,MAIN,5,ok\n\
         H2,HH1,CHILD,Ray,Di,,,01/12/2024,MAIN,5,\"{}\"\n\
         H3,HH2,PARENT_CARER,Fox,Ed,,,01/12/2024,MAIN,5,fine\n",
        note.join("\n")
    );
    assert!(text.len() > 64 * 1024);
    ws.write("partner/housing.csv", text);
    ws.write(
        "tellonce.toml",
        "[output]\ndir = \"output\"\n[keys]\nfile = \"keys/tellonce.key\"\n[linkage]\nenabled = false\n\
         [[sources]]\nfeed = \"housing\"\npath = \"partner/housing.csv\"\nmapping = \"maps/housing.toml\"\n",
    );
    let run = ws.run(0, &[]);
    run.assert_counts("partner/housing.csv", "processed", 3, 3, 0);
    assert_absent(&[b"Quaxworth"], &[&run.output], &ws.out());
}
