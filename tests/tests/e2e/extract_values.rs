//! Partner extracts a fourth probe found read wrongly or without a word: amounts whose
//! thousands separator stands out of its place, identifiers written as floating point or kept
//! as text, a mapped column the partner dropped, a workbook whose records go on over a second
//! sheet, and an extract re-sent from a spreadsheet that dropped its references' leading zeros.

use tellonce_tests::tellonce_ok;

use crate::support::*;
use crate::workbooks::{Cell, SheetCells, write_workbook};

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

/// Writes `tellonce.toml` with housing sources of `(path, mode)`, read through the mapping
/// (a withdrawals file by its own heading).
fn config_sources(ws: &Workspace, sources: &[(&str, &str)]) {
    ws.write("maps/housing.toml", MAPPING);
    let mut s =
        "[output]\ndir = \"output\"\n[keys]\nfile = \"keys/tellonce.key\"\n[linkage]\nenabled = false\n".to_owned();
    for (path, mode) in sources {
        let mapping = if *mode == "withdrawals" { "" } else { "mapping = \"maps/housing.toml\"\n" };
        s.push_str(&format!("[[sources]]\nfeed = \"housing\"\npath = {path:?}\nmode = {mode:?}\n{mapping}"));
    }
    ws.write("tellonce.toml", s);
}

/// A housing row of the partner's extract under `HEADER`.
fn housing_row(id: &str, forename: &str, arrears: &str) -> Vec<String> {
    let row = format!("{id},HH1,CHILD,Quaxworth,{forename},,,01/12/2024,MAIN,{arrears}");
    row.split(',').map(str::to_owned).collect()
}

const FORENAMES: [&str; 8] = ["Ann", "Bo", "Cy", "Di", "Ed", "Flo", "Gus", "Hal"];

fn versions(run: &Run, source: &str) -> [u64; 6] {
    let v = &run.input(source)["versions"];
    [&v["new"], &v["changed"], &v["unchanged"], &v["refused"], &v["withdrawn"], &v["zeros_matched"]]
        .map(|c| c.as_u64().unwrap_or(0))
}

#[test]
fn an_extract_re_sent_from_a_spreadsheet_without_its_references_zeros_is_the_records_held() {
    let ws = Workspace::new();
    // The partner's system writes its references with zeros in front.
    let november: String =
        (1..=6).map(|n| housing_row(&format!("{n:06}"), FORENAMES[n], "5").join(",") + "\n").collect();
    ws.write("partner/housing-11.csv", format!("{HEADER}{november}"));
    config_sources(&ws, &[("partner/housing-11.csv", "delta")]);
    ws.run(0, &[]).assert_counts("partner/housing-11.csv", "processed", 6, 6, 0);

    // December's, opened in Excel and sent as a workbook: each reference a number cell. One
    // record's arrears changed, and one record is new.
    let mut cells = Vec::new();
    for (c, h) in (0u16..).zip(HEADER.trim_end().split(',')) {
        cells.push((0, c, Cell::Text(h.to_owned())));
    }
    for n in 1..=7u32 {
        let row = housing_row(&n.to_string(), FORENAMES[n as usize], if n == 2 { "9" } else { "5" });
        for (c, v) in (0u16..).zip(row).filter(|(_, v)| !v.is_empty()) {
            let cell = if c == 0 { Cell::Number(f64::from(n)) } else { Cell::Text(v) };
            cells.push((n, c, cell));
        }
    }
    write_workbook(&ws.dir().join("partner/housing-12.xlsx"), "xlsx", &SheetCells { name: "Sheet1".into(), cells });
    // January's, saved from Excel as CSV: the same references as text, without zeros.
    let january: String =
        [3usize, 5].iter().map(|&n| housing_row(&n.to_string(), FORENAMES[n], "5").join(",") + "\n").collect();
    ws.write("partner/housing-01.csv", format!("{HEADER}{january}"));
    let sources = [("partner/housing-11.csv", "delta"), ("partner/housing-12.xlsx", "delta")];
    config_sources(&ws, &sources);
    let run = ws.run(0, &[]);
    // new, changed, unchanged, refused, withdrawn; six matched under their held references.
    assert_eq!(
        versions(&run, "partner/housing-12.xlsx"),
        [1, 1, 5, 0, 0, 6],
        "{:#}",
        run.input("partner/housing-12.xlsx")
    );
    let ids: Vec<String> = staged(&ws, "rent_arrears_balance").into_iter().map(|(id, _)| id).collect();
    assert_eq!(ids, ["000001", "000002", "000003", "000004", "000005", "000006", "7"]);
    let arrears = staged(&ws, "rent_arrears_balance");
    assert_eq!(arrears[1], ("000002".to_owned(), Some("9.0".to_owned())));
    // January's, saved as text: the summary says what was matched.
    let mut sources = sources.to_vec();
    sources.push(("partner/housing-01.csv", "delta"));
    config_sources(&ws, &sources);
    let said = tellonce_ok(ws.dir(), &["run", "--config", "tellonce.toml", "--no-progress"], 0);
    let said_text = text(&said);
    assert!(said_text.contains("2 reference(s) matched to the record held under the same digits"), "{said_text}");
    assert!(said_text.contains("0 new, 0 changed, 2 unchanged"), "{said_text}");

    // A withdrawal listing `4` withdraws `000004`; an extract then sending `000004` is refused.
    ws.write("partner/withdrawn.csv", "record_id,reason\n4,sent in error\n");
    sources.push(("partner/withdrawn.csv", "withdrawals"));
    config_sources(&ws, &sources);
    let withdrawn = ws.run(0, &[]);
    assert_eq!(versions(&withdrawn, "partner/withdrawn.csv"), [0, 0, 0, 0, 1, 1]);
    let february: String = [("000004", 4usize), ("000007", 7)]
        .iter()
        .map(|(id, n)| housing_row(id, FORENAMES[*n], "5").join(",") + "\n")
        .collect();
    ws.write("partner/housing-02.csv", format!("{HEADER}{february}"));
    sources.push(("partner/housing-02.csv", "delta"));
    config_sources(&ws, &sources);
    let run = ws.run(0, &[]);
    // `000007` is the `7` held since December, unchanged.
    assert_eq!(versions(&run, "partner/housing-02.csv"), [0, 0, 1, 1, 0, 1]);
    let ids: Vec<String> = staged(&ws, "rent_arrears_balance").into_iter().map(|(id, _)| id).collect();
    assert_eq!(ids, ["000001", "000002", "000003", "000005", "000006", "7"]);
    assert_absent(&[b"Quaxworth"], &[&run.output, &withdrawn.output, &said], &ws.out());
}

#[test]
fn a_month_corrected_and_sent_again_after_the_next_neither_withdraws_nor_undoes_the_next() {
    let ws = Workspace::new();
    let month = |rows: &[(&str, usize, &str)]| {
        let lines: String =
            rows.iter().map(|(id, n, arrears)| housing_row(id, FORENAMES[*n], arrears).join(",") + "\n").collect();
        format!("{HEADER}{lines}")
    };
    ws.write("partner/housing_2026-01.csv", month(&[("H1", 1, "5"), ("H2", 2, "5"), ("H3", 3, "5"), ("H4", 4, "5")]));
    config_sources(&ws, &[("partner/housing_*.csv", "snapshot")]);
    ws.run(0, &[]);
    // February's snapshot: H2's arrears changed, H5 is new.
    let february = [("H1", 1, "5"), ("H2", 2, "9"), ("H3", 3, "5"), ("H4", 4, "5"), ("H5", 5, "5")];
    ws.write("partner/housing_2026-02.csv", month(&february));
    ws.run(0, &[]);
    // Then January again, one mistake in it corrected (H3), sent after February.
    let corrected = [("H1", 1, "5"), ("H2", 2, "5"), ("H3", 3, "7"), ("H4", 4, "5")];
    ws.write("partner/housing_2026-01_corrected.csv", month(&corrected));
    let run = ws.run(0, &[]);
    let v = &run.input("partner/housing_2026-01_corrected.csv")["versions"];
    let counts = ["new", "changed", "unchanged", "older", "withdrawn"].map(|k| v[k].as_u64().unwrap_or(0));
    // H3 corrected; H2 is older than February's; H5, first sent in February, stays.
    assert_eq!(counts, [0, 1, 2, 1, 0], "{v:#}");
    let arrears = staged(&ws, "rent_arrears_balance");
    let want = [("H1", "5.0"), ("H2", "9.0"), ("H3", "7.0"), ("H4", "5.0"), ("H5", "5.0")];
    assert_eq!(arrears, want.map(|(id, a)| (id.to_owned(), Some(a.to_owned()))));
    assert!(!ws.out().join("state/tombstones/housing.jsonl").exists(), "nothing is withdrawn");
}

#[test]
fn a_file_whose_dates_are_written_month_first_is_held_not_staged_with_days_and_months_swapped() {
    let ws = Workspace::new();
    // Saved by an Excel in a US locale: 2 October is 10/2/2026, and 25 October 10/25/2026.
    let lines: String = (1..=16u32)
        .map(|n| {
            let day = if n <= 12 { 12 + n } else { n - 12 };
            format!("H{n},HH{n},PARENT_CARER,Quaxworth,Ann,,,10/{day}/2026,MAIN,5\n")
        })
        .collect();
    ws.write("partner/housing.csv", format!("{HEADER}{lines}"));
    config(&ws, "partner/housing.csv");
    let check = tellonce_tests::tellonce(ws.dir(), &["sources", "check", "--config", "tellonce.toml"]);
    assert_eq!(check.status.code(), Some(3));
    assert!(text(&check).contains("error[dates.month_first]: approach_date: 12 of 16"), "{}", text(&check));
    let run = ws.run(3, &[]);
    let input = run.input("partner/housing.csv");
    assert_eq!(input["status"], "held", "{input:#}");
    assert!(input["error"].as_str().unwrap().contains("month first"), "{input:#}");
    let staging = ws.out().join("staging/feed=housing");
    assert!(!staging.exists() || visible_parquet(&staging).is_empty(), "nothing is staged");
    // Declared month first, the same file stages every date as the partner meant it.
    ws.write("maps/housing.toml", MAPPING.replace("approach_date = \"%d/%m/%Y\"", "approach_date = \"%m/%d/%Y\""));
    let run = ws.run(0, &[]);
    run.assert_counts("partner/housing.csv", "processed", 16, 16, 0);
    let dates = staged(&ws, "approach_date");
    assert!(dates.iter().all(|(_, d)| d.as_deref().is_some_and(|d| d.starts_with("2026-10-"))), "{dates:?}");
    assert_absent(&[b"Quaxworth"], &[&run.output, &check], &ws.out());
}

#[test]
fn a_re_sent_month_a_spreadsheet_damaged_or_that_lost_a_column_is_held_not_staged_over_what_is_held() {
    let ws = Workspace::new();
    let month = |uprn: &dyn Fn(u32) -> String, arrears: bool, children: &str| {
        let header = if arrears { HEADER.to_owned() } else { HEADER.replace(",Arrears", "") };
        let lines: String = (1..=12u32)
            .map(|n| {
                let tail = if arrears { ",5" } else { "" };
                format!("H{n},HH{n},PARENT_CARER,Quaxworth,Ann,{},{children},01/12/2024,MAIN{tail}\n", uprn(n))
            })
            .collect();
        format!("{header}{lines}")
    };
    ws.write("partner/housing-11.csv", month(&|n| format!("1000233369{n:02}"), true, "1"));
    config_sources(&ws, &[("partner/housing-11.csv", "delta")]);
    ws.run(0, &[]).assert_counts("partner/housing-11.csv", "processed", 12, 12, 0);
    let held_uprns = staged(&ws, "uprn_token");
    // Re-sent after Excel showed the UPRNs as 1.00023E+11 and saved them so.
    ws.write("partner/housing-11b.csv", month(&|_| "1.00023E+11".to_owned(), true, "1"));
    config_sources(&ws, &[("partner/housing-11.csv", "delta"), ("partner/housing-11b.csv", "delta")]);
    let run = ws.run(3, &[]);
    let input = run.input("partner/housing-11b.csv");
    assert_eq!(input["status"], "held", "{input:#}");
    assert!(input["error"].as_str().unwrap().contains("uprn: 12 of 12 records hold numbers written in scientific"));
    // The next month, without its Arrears column, and every household grown by a child.
    ws.write("partner/housing-12.csv", month(&|n| format!("1000233369{n:02}"), false, "2"));
    config_sources(&ws, &[("partner/housing-11.csv", "delta"), ("partner/housing-12.csv", "delta")]);
    let run = ws.run(3, &[]);
    let input = run.input("partner/housing-12.csv");
    assert_eq!(input["status"], "held", "{input:#}");
    assert!(input["error"].as_str().unwrap().contains("would lose its rent_arrears_balance"), "{input:#}");
    // What is held is as November's extract left it.
    assert_eq!(staged(&ws, "uprn_token"), held_uprns);
    assert!(staged(&ws, "rent_arrears_balance").iter().all(|(_, a)| a.as_deref() == Some("5.0")));
    assert_absent(&[b"Quaxworth", b"100023336901"], &[&run.output], &ws.out());
}

#[test]
fn two_references_of_one_input_with_the_same_digits_are_two_records_however_zeros_match() {
    let ws = Workspace::new();
    let rows = |rows: &[(&str, usize)]| {
        let lines: String = rows.iter().map(|(id, n)| housing_row(id, FORENAMES[*n], "5").join(",") + "\n").collect();
        format!("{HEADER}{lines}")
    };
    ws.write("partner/housing-11.csv", rows(&[("000123", 1), ("000045", 2), ("0045", 3)]));
    config_sources(&ws, &[("partner/housing-11.csv", "delta")]);
    ws.run(0, &[]).assert_counts("partner/housing-11.csv", "processed", 3, 3, 0);
    // `123` is the record held; `0123` beside it is another; `45` has two records held.
    ws.write("partner/housing-12.csv", rows(&[("123", 1), ("0123", 4), ("45", 2)]));
    config_sources(&ws, &[("partner/housing-11.csv", "delta"), ("partner/housing-12.csv", "delta")]);
    let run = ws.run(0, &[]);
    assert_eq!(versions(&run, "partner/housing-12.csv"), [2, 0, 1, 0, 0, 1]);
    let ids: Vec<String> = staged(&ws, "rent_arrears_balance").into_iter().map(|(id, _)| id).collect();
    assert_eq!(ids, ["000045", "000123", "0045", "0123", "45"]);
}
