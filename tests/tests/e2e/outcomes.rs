//! The Supporting Families datasets and their disclosure control: the demo writes all four, every
//! column is described, the published tables hold no small count and no cell recoverable by
//! subtraction, and the published values are the true counts rounded.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::support::*;
use tellonce_tests::{json_stdout, tellonce, tellonce_ok};

/// The default policy: 1 to 9 suppressed, the rest rounded to the nearest 5.
const THRESHOLD: u64 = 10;
const BASE: u64 = 5;

/// The value of a partition key in a path (`.../headline=SF01/...` → `SF01`).
fn partition(path: &Path, key: &str) -> String {
    let prefix = format!("{key}=");
    path.ancestors()
        .filter_map(|p| p.file_name()?.to_str())
        .find_map(|n| n.strip_prefix(&prefix).map(str::to_owned))
        .unwrap_or_else(|| panic!("no {key}= in {}", path.display()))
}

/// Each column of a Parquet file's Arrow schema with its description.
fn described_columns(path: &Path) -> Vec<(String, Option<String>)> {
    use parquet::file::reader::FileReader as _;
    let reader = parquet::file::reader::SerializedFileReader::new(std::fs::File::open(path).unwrap()).unwrap();
    let meta = reader.metadata().file_metadata();
    let schema = parquet::arrow::parquet_to_arrow_schema(meta.schema_descr(), meta.key_value_metadata()).unwrap();
    schema.fields().iter().map(|f| (f.name().clone(), f.metadata().get("description").cloned())).collect()
}

/// One published cell.
#[derive(Debug, Clone)]
struct Published {
    value: String,
    count: Option<u64>,
    suppressed: bool,
}

/// `(table, month)` → `(row, column)` → cell, from every part of `aggregates/`.
type Tables = BTreeMap<(String, String), BTreeMap<(String, String), Published>>;

fn published_tables(out: &Path) -> Tables {
    let mut tables: Tables = BTreeMap::new();
    for part in visible_parquet(&out.join("aggregates")) {
        let table = partition(&part, "table");
        let col = |n: &str| parquet_column(&part, n);
        let (month, row, headline, value, count, suppressed) =
            (col("month"), col("breakdown"), col("headline"), col("value"), col("count"), col("suppressed"));
        for i in 0..row.len() {
            let cell = Published {
                value: value[i].clone().unwrap(),
                count: count[i].as_deref().map(|c| c.parse().unwrap()),
                suppressed: suppressed[i].as_deref() == Some("true"),
            };
            let key = (table.clone(), month[i].clone().unwrap_or_default());
            let at = (row[i].clone().unwrap(), headline[i].clone().unwrap());
            assert!(tables.entry(key).or_default().insert(at, cell).is_none(), "a cell twice");
        }
    }
    tables
}

/// The true counts, computed here from the record-level datasets (theme events and persons):
/// `(table, month)` → `(row, column)` → distinct persons, margins being sums of the cells.
fn true_tables(out: &Path) -> BTreeMap<(String, String), BTreeMap<(String, String), u64>> {
    // Persons by (month, district, headline), and each person's headlines over the period.
    let mut monthly: BTreeMap<(String, String, String), BTreeSet<String>> = BTreeMap::new();
    let mut needs: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for part in visible_parquet(&out.join("theme_events")) {
        let (headline, month) = (partition(&part, "headline"), partition(&part, "month"));
        let persons = parquet_column(&part, "person_id");
        let districts = parquet_column(&part, "district");
        for (p, d) in persons.into_iter().zip(districts) {
            let p = p.unwrap();
            let d = d.unwrap_or_else(|| "unknown".to_owned());
            monthly.entry((month.clone(), d, headline.clone())).or_default().insert(p.clone());
            needs.entry(p).or_default().insert(headline.clone());
        }
    }
    // Each person's latest area: IMD decile, small area and locality ("unknown" where null).
    let mut area_of: BTreeMap<String, [String; 3]> = BTreeMap::new();
    for part in visible_parquet(&out.join("persons")) {
        let [p, d, a, l] = ["person_id", "imd_decile", "small_area", "locality"].map(|c| parquet_column(&part, c));
        for (i, p) in p.into_iter().enumerate() {
            let known = |v: &Option<String>| v.clone().unwrap_or_else(|| "unknown".to_owned());
            area_of.insert(p.unwrap(), [known(&d[i]), known(&a[i]), known(&l[i])]);
        }
    }
    let mut tables: BTreeMap<(String, String), BTreeMap<(String, String), u64>> = BTreeMap::new();
    let mut add = |key: (String, String), row: &str, col: &str, n: u64| {
        let t = tables.entry(key).or_default();
        for at in [(row, col), (row, "Total"), ("Total", col), ("Total", "Total")] {
            *t.entry((at.0.to_owned(), at.1.to_owned())).or_default() += n;
        }
    };
    for ((month, district, headline), persons) in &monthly {
        add(("district_headline_month".to_owned(), month.clone()), district, headline, persons.len() as u64);
    }
    for (p, headlines) in &needs {
        let area = area_of.get(p).unwrap_or_else(|| panic!("{p} has events but is not in persons/"));
        for h in headlines {
            for (table, row) in ["imd_decile_headline", "small_area_headline", "locality_headline"].iter().zip(area) {
                add(((*table).to_owned(), String::new()), row, h, 1);
            }
        }
    }
    tables
}

#[test]
fn the_demo_writes_the_outcome_datasets_with_every_column_described() {
    let ws = Workspace::bare();
    let out = tellonce_ok(ws.dir(), &["demo", "--out", "demo", "--children", "1500", "--json"], 0);
    let summary = json_stdout(&out);
    let outcomes = &summary["linkage"]["outcomes"];
    let root = ws.dir().join("demo/output");
    // Every dataset a build writes but links/.
    for &dataset in &BUILD_DATASETS[1..] {
        let parts = visible_parquet(&root.join(dataset));
        assert!(!parts.is_empty(), "the demo wrote no {dataset}/");
        let rows: u64 = parts.iter().map(|p| parquet_row_count(p)).sum();
        assert!(rows > 0, "{dataset}/ is empty");
        for part in &parts {
            for (column, description) in described_columns(part) {
                assert!(description.is_some_and(|d| d.len() > 10), "{dataset}.{column} has no description");
            }
        }
        if dataset == "persons" {
            assert_eq!(Some(rows), outcomes["persons"].as_u64(), "{outcomes}");
        }
        if dataset == "family_outcomes" {
            let by_status: u64 =
                outcomes["family_outcomes"].as_object().unwrap().values().map(|v| v.as_u64().unwrap()).sum();
            assert_eq!(rows, by_status, "{outcomes}");
        }
        if dataset == "episodes" {
            assert_eq!(Some(rows), outcomes["episodes"].as_u64(), "{outcomes}");
            let open = parts.iter().flat_map(|p| parquet_column(p, "status")).filter(|s| s.as_deref() == Some("open"));
            assert_eq!(Some(open.count() as u64), outcomes["episodes_open"].as_u64(), "{outcomes}");
        }
        if dataset == "families" {
            assert_eq!(Some(rows), outcomes["families"].as_u64(), "{outcomes}");
            let eligible =
                parts.iter().flat_map(|p| parquet_column(p, "eligible")).filter(|e| e.as_deref() == Some("true"));
            assert_eq!(Some(eligible.count() as u64), outcomes["eligible_families"].as_u64());
            let meta = parquet_strings(&parts[0]);
            assert!(meta.iter().any(|s| s.contains("at least 3 distinct Supporting Families headlines")), "{meta:?}");
        }
    }
    // The data dictionary lists every dataset and describes each column.
    let list = tellonce_ok(ws.dir(), &["schemas", "datasets"], 0);
    for dataset in ["links", "id_history", "theme_events", "persons", "families", "aggregates"] {
        assert!(text(&list).contains(dataset), "{}", text(&list));
        let shown = json_stdout(&tellonce_ok(ws.dir(), &["schemas", "dataset", dataset, "--json"], 0));
        let columns = shown["columns"].as_array().unwrap();
        assert!(!columns.is_empty());
        for c in columns {
            assert!(c["description"].as_str().is_some_and(|d| d.len() > 10), "{dataset}: {c}");
        }
    }
    let unknown = tellonce(ws.dir(), &["schemas", "dataset", "personz"]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(text(&unknown).contains("known datasets: links"), "{}", text(&unknown));
}

#[test]
fn no_published_cell_is_small_or_recoverable_and_each_is_its_true_count_rounded() {
    let ws = synth_workspace(3000, 5);
    ws.run(0, &[]);
    let published = published_tables(&ws.out());
    let truth = true_tables(&ws.out());
    assert_eq!(
        published.keys().collect::<Vec<_>>(),
        truth.keys().collect::<Vec<_>>(),
        "a table for every month with events, and the tables by latest area"
    );
    let (mut primary, mut secondary, mut shown) = (0, 0, 0);
    for (key, cells) in &published {
        let t = &truth[key];
        for ((row, col), cell) in cells {
            let n = t.get(&(row.clone(), col.clone())).copied().unwrap_or(0);
            if cell.suppressed {
                assert_eq!(cell.value, "c", "{key:?} {row} {col}");
                assert_eq!(cell.count, None);
                if n < THRESHOLD && n > 0 {
                    primary += 1;
                } else {
                    secondary += 1;
                }
                continue;
            }
            shown += 1;
            // No published count from 1 to 9: those are all suppressed.
            assert!(n == 0 || n >= THRESHOLD, "{key:?} {row} {col}: true count {n} published as {}", cell.value);
            let rounded = (n + BASE / 2) / BASE * BASE;
            assert_eq!(cell.count, Some(rounded), "{key:?} {row} {col}: true {n}");
            assert_eq!(cell.value, rounded.to_string());
        }
        // Every cell of the true table (margins included) is published or suppressed.
        for at in t.keys() {
            assert!(cells.contains_key(at), "{key:?}: {at:?} not published");
        }
        // No row or column of the table with its margins has exactly one suppressed cell, so
        // none is recoverable by subtracting the others from the total.
        let rows: BTreeSet<&String> = cells.keys().map(|(r, _)| r).collect();
        let cols: BTreeSet<&String> = cells.keys().map(|(_, c)| c).collect();
        for r in &rows {
            let hidden = cols.iter().filter(|c| cells[&((*r).clone(), (**c).clone())].suppressed).count();
            assert_ne!(hidden, 1, "{key:?}: row {r} has one suppressed cell");
        }
        for c in &cols {
            let hidden = rows.iter().filter(|r| cells[&((**r).clone(), (*c).clone())].suppressed).count();
            assert_ne!(hidden, 1, "{key:?}: column {c} has one suppressed cell");
        }
    }
    // The check saw real suppression of both kinds and real published counts.
    assert!(primary > 0 && secondary > 0 && shown > 0, "primary {primary} secondary {secondary} shown {shown}");
    // Across the linked tables: a locality's published cell less its small areas' published cells
    // never leaves exactly one suppressed small area cell to work out.
    let mut locality_of: BTreeMap<String, String> = BTreeMap::new();
    for part in visible_parquet(&ws.out().join("persons")) {
        for (a, l) in parquet_column(&part, "small_area").into_iter().zip(parquet_column(&part, "locality")) {
            if let (Some(a), Some(l)) = (a, l) {
                locality_of.insert(a, l);
            }
        }
    }
    let small = &published[&("small_area_headline".to_owned(), String::new())];
    let localities = &published[&("locality_headline".to_owned(), String::new())];
    assert!(localities.len() > 20, "the synthetic deployment has a localities lookup");
    let mut checked = 0;
    for (locality, col) in localities.iter().filter(|(_, c)| !c.suppressed).map(|(at, _)| at) {
        let hidden =
            small.iter().filter(|((a, c), p)| c == col && p.suppressed && locality_of.get(a) == Some(locality)).count();
        assert_ne!(hidden, 1, "locality {locality} {col}: one suppressed small area cell under a published total");
        checked += 1;
    }
    assert!(checked > 0);
}

#[test]
fn the_period_and_the_counting_rule_are_configurable_and_checked() {
    let ws = synth_workspace(1500, 9);
    let config = ws.dir().join("tellonce.toml");
    let base = std::fs::read_to_string(&config).unwrap();
    ws.run(0, &[]);
    let count_eligible = |ws: &Workspace| -> (usize, usize, Vec<String>) {
        let parts = visible_parquet(&ws.out().join("families"));
        let eligible =
            parts.iter().flat_map(|p| parquet_column(p, "eligible")).filter(|e| e.as_deref() == Some("true"));
        let persons: usize =
            visible_parquet(&ws.out().join("persons")).iter().map(|p| parquet_row_count(p) as usize).sum();
        (eligible.count(), persons, parquet_strings(&parts[0]))
    };
    let (by_headline, all_persons, _) = count_eligible(&ws);

    // Counting indicators (two under one headline count twice) finds at least as many families.
    std::fs::write(&config, format!("{base}\n[outcomes.eligibility]\ncount = \"indicators\"\n")).unwrap();
    let run = ws.run(0, &[]);
    let (by_indicator, _, meta) = count_eligible(&ws);
    assert!(by_indicator >= by_headline, "{by_indicator} < {by_headline}");
    assert!(meta.iter().any(|m| m.contains("distinct indicators")), "{meta:?}");
    assert_eq!(run.summary["linkage"]["outcomes"]["eligible_families"].as_u64(), Some(by_indicator as u64));

    // A one-year period keeps only persons with a record in it, and ages are taken at its end.
    // The synthetic config has an [outcomes] table (its localities lookup): keys go into it.
    let with_outcomes = |keys: &str| base.replacen("[outcomes]\n", &format!("[outcomes]\n{keys}"), 1);
    assert!(base.contains("[outcomes]\n"), "{base}");
    std::fs::write(&config, with_outcomes("period_from = \"2024-04-01\"\nperiod_to = \"2025-03-31\"\n")).unwrap();
    let run = ws.run(0, &[]);
    let o = &run.summary["linkage"]["outcomes"];
    assert_eq!(o["reference_date"], "2025-03-31", "{o}");
    let (_, in_period, meta) = count_eligible(&ws);
    assert!(in_period > 0 && in_period < all_persons, "{in_period} of {all_persons}");
    assert!(meta.iter().any(|m| m == "2024-04-01") && meta.iter().any(|m| m == "2025-03-31"), "{meta:?}");
    for part in visible_parquet(&ws.out().join("aggregates/table=district_headline_month")) {
        for m in parquet_column(&part, "month").into_iter().flatten() {
            assert!(("2024-04".."2025-04").contains(&m.as_str()), "month {m} outside the period");
        }
    }

    // Bad settings are refused, each named.
    std::fs::write(
        &config,
        format!(
            "{}\n[outcomes.eligibility]\nmin_need = 2\n[outcomes.disclosure]\nthreshold = 0\n",
            with_outcomes("period_from = \"2025-13-01\"\n")
        ),
    )
    .unwrap();
    let out = tellonce(ws.dir(), &["run", "--config", "tellonce.toml"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let said = text(&out);
    for problem in ["outcomes.period_from", "outcomes.eligibility.min_need", "threshold"] {
        assert!(said.contains(problem), "{problem} not named:\n{said}");
    }
}

#[test]
fn a_build_removes_outputs_an_interrupted_build_left_unrecorded() {
    let ws = synth_workspace(300, 4);
    ws.run(0, &[]);
    // As if a build had published a part and been killed before recording it.
    let persons = visible_parquet(&ws.out().join("persons"));
    assert_eq!(persons.len(), 1);
    let stray = ws.out().join("persons/part-interrupted.parquet");
    std::fs::copy(&persons[0], &stray).unwrap();
    tellonce_ok(ws.dir(), &["build", "--config", "tellonce.toml"], 0);
    assert!(!stray.exists(), "the unrecorded part would be read twice");
    assert_eq!(visible_parquet(&ws.out().join("persons")), persons, "the recorded part stays");
    let log = std::fs::read_to_string(ws.out().join("audit/audit.jsonl")).unwrap();
    assert!(log.contains("persons/part-interrupted.parquet") && log.contains("unrecorded"), "not logged");
    let verify = tellonce_ok(ws.dir(), &["audit", "verify", "--config", "tellonce.toml"], 0);
    assert!(text(&verify).contains("verifies"), "{}", text(&verify));
}
