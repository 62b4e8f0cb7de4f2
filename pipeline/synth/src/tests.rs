//! Tests of the whole generator: determinism, schema validity, ground truth, errors, bench feeds.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use tellonce_schemas::{FeedSchema, OnInvalid, Rule, feed};

use super::emit::ERROR_NAMES;
use super::*;

/// Splits one CSV line (RFC 4180 quoting, no embedded line breaks).
fn split_csv(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        let cur = fields.last_mut().unwrap();
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                cur.push('"');
            }
            (true, '"') => quoted = false,
            (false, '"') if cur.is_empty() => quoted = true,
            (false, ',') => fields.push(String::new()),
            _ => cur.push(c),
        }
    }
    assert!(!quoted, "unclosed quote in {line}");
    fields
}

/// A feed file read back: values in schema column order.
struct Feed {
    schema: &'static FeedSchema,
    rows: Vec<Vec<String>>,
}

impl Feed {
    fn get<'r>(&self, row: &'r [String], col: &str) -> &'r str {
        &row[self.schema.index_of(col).unwrap()]
    }
}

fn read_feed(f: &FeedFile) -> Feed {
    let schema = crate::emit::schema_of(f.feed).unwrap();
    let text = std::fs::read_to_string(&f.path).unwrap();
    assert!(!text.contains('\r'), "{}: line endings must be \\n", f.feed);
    let names: Vec<&str> = schema.columns.iter().map(|c| c.name).collect();
    let mut rows = Vec::new();
    if f.format == "csv" {
        let mut lines = text.lines();
        assert_eq!(split_csv(lines.next().unwrap()), names, "{} header", f.feed);
        for line in lines {
            let row = split_csv(line);
            assert_eq!(row.len(), names.len(), "{}: ragged row {line}", f.feed);
            rows.push(row);
        }
    } else {
        for line in text.lines() {
            let obj: serde_json::Map<String, serde_json::Value> = serde_json::from_str(line).unwrap();
            for k in obj.keys() {
                assert!(names.contains(&k.as_str()), "{}: unknown key {k}", f.feed);
            }
            rows.push(
                names
                    .iter()
                    .map(|n| match obj.get(*n) {
                        None | Some(serde_json::Value::Null) => String::new(),
                        Some(serde_json::Value::String(s)) => s.clone(),
                        Some(v @ (serde_json::Value::Number(_) | serde_json::Value::Bool(_))) => v.to_string(),
                        Some(v) => panic!("{}: {n} has a non-scalar value {v}", f.feed),
                    })
                    .collect(),
            );
        }
    }
    assert_eq!(rows.len(), f.rows, "{}: summary row count", f.feed);
    Feed { schema, rows }
}

/// The rules a row breaks: required columns left empty, and values failing their checks.
fn broken_rules(schema: &FeedSchema, row: &[String]) -> Vec<Rule> {
    let mut out = Vec::new();
    for (col, v) in schema.columns.iter().zip(row) {
        if v.is_empty() {
            if col.required {
                out.push(Rule::Required);
            }
        } else if let Err(rule) = col.kind.check(v) {
            out.push(rule);
        }
    }
    out
}

/// One line of the truth file.
#[derive(Debug, Clone)]
struct Truth {
    person: String,
    family: String,
    errors: Vec<String>,
}

fn read_truth(path: &Path) -> BTreeMap<(String, String), Truth> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("feed,record_id,person_id,family_id,error"));
    let mut out = BTreeMap::new();
    for line in lines {
        let f = split_csv(line);
        assert_eq!(f.len(), 5, "{line}");
        let errors = if f[4].is_empty() { Vec::new() } else { f[4].split(';').map(str::to_owned).collect() };
        let t = Truth { person: f[2].clone(), family: f[3].clone(), errors };
        assert!(out.insert((f[0].clone(), f[1].clone()), t).is_none(), "truth lists {line} twice");
    }
    out
}

/// A generated dataset shared by the tests that only read it.
struct Fixture {
    _dir: tempfile::TempDir,
    summary: SynthSummary,
    feeds: Vec<Feed>,
    truth: BTreeMap<(String, String), Truth>,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let summary =
            generate(&SynthOptions { out: dir.path().to_path_buf(), children: 3000, seed: 20240601 }).unwrap();
        let feeds = summary.feeds.iter().map(read_feed).collect();
        let truth = read_truth(&summary.truth);
        Fixture { _dir: dir, summary, feeds, truth }
    })
}

fn all_files(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.insert(p.strip_prefix(dir).unwrap().to_path_buf(), std::fs::read(&p).unwrap());
            }
        }
    }
    out
}

#[test]
fn the_same_seed_gives_identical_bytes_and_another_seed_does_not() {
    let gen_into = |seed: u64| {
        let dir = tempfile::tempdir().unwrap();
        generate(&SynthOptions { out: dir.path().to_path_buf(), children: 300, seed }).unwrap();
        let files = all_files(dir.path());
        (dir, files)
    };
    let (_a, first) = gen_into(11);
    let (_b, again) = gen_into(11);
    let (_c, other) = gen_into(12);
    assert_eq!(first.len(), 12, "{:?}", first.keys());
    for (path, bytes) in &first {
        assert!(again.get(path) == Some(bytes), "{} differs between runs", path.display());
        // The localities follow from how many small areas each district has, not from the seed.
        let seeded = !path.ends_with("reference/family_hub_localities.csv");
        if seeded && path.extension().is_some_and(|e| e == "csv" || e == "jsonl") {
            assert!(other.get(path) != Some(bytes), "{} is the same for another seed", path.display());
        }
    }
}

#[test]
fn every_file_is_written_where_the_summary_says() {
    let f = fixture();
    let names: Vec<_> = f.summary.feeds.iter().map(|x| (x.feed, x.format)).collect();
    assert_eq!(
        names,
        [
            ("health_visiting", "csv"),
            ("camhs", "jsonl"),
            ("police", "jsonl"),
            ("youth_justice", "csv"),
            ("housing", "csv"),
            ("district", "csv"),
            ("education", "csv"),
            ("substance_misuse", "csv"),
        ]
    );
    for x in &f.summary.feeds {
        assert!(x.path.ends_with(format!("inputs/{}.{}", x.feed, x.format)), "{}", x.path.display());
        assert!(x.rows > 0, "{} is empty", x.feed);
    }
    assert_eq!(f.summary.records, f.summary.feeds.iter().map(|x| x.rows).sum::<usize>());
    assert_eq!(f.summary.records, f.truth.len());
    let readme =
        std::fs::read_to_string(f.summary.truth.parent().unwrap().parent().unwrap().join("README.txt")).unwrap();
    assert!(readme.contains("SYNTHETIC") && readme.contains("seed 20240601"));
}

#[test]
fn valid_records_pass_every_check_and_invalid_ones_break_exactly_their_rule() {
    let f = fixture();
    let mut invalid_per_feed: BTreeMap<&str, usize> = BTreeMap::new();
    for (file, feed) in f.summary.feeds.iter().zip(&f.feeds) {
        let rid = feed.schema.index_of("record_id").unwrap();
        for row in &feed.rows {
            let t = &f.truth[&(file.feed.to_owned(), row[rid].clone())];
            // `invalid:<rule>` quarantines the record; `nulled:<column>:<rule>` nulls an
            // identifier the schema says is nulled.
            let marked: Vec<Rule> = t
                .errors
                .iter()
                .filter_map(|e| {
                    if let Some(rest) = e.strip_prefix("nulled:") {
                        let (col, code) = rest.split_once(':').unwrap();
                        let column = feed.schema.column(col).unwrap();
                        assert_eq!(feed.schema.on_invalid(column), OnInvalid::Null, "{e}");
                        return Rule::from_code(code);
                    }
                    let code = e.strip_prefix("invalid:")?;
                    let rule = Rule::from_code(code).unwrap();
                    let quarantines = feed.schema.columns.iter().zip(row).any(|(c, v)| {
                        let breaks = if v.is_empty() {
                            c.required && rule == Rule::Required
                        } else {
                            c.kind.check(v) == Err(rule)
                        };
                        breaks && feed.schema.on_invalid(c) == OnInvalid::Quarantine
                    });
                    assert!(quarantines, "{e} is not in a quarantining column");
                    Some(rule)
                })
                .collect();
            let broken = broken_rules(feed.schema, row);
            assert_eq!(broken, marked, "{} {}: {:?}", file.feed, row[rid], row);
            if !marked.is_empty() {
                *invalid_per_feed.entry(file.feed).or_default() += 1;
            }
        }
    }
    // A small share of each feed, and every feed has at least one.
    for x in &f.summary.feeds {
        let n = invalid_per_feed.get(x.feed).copied().unwrap_or(0);
        assert!(n >= 1 && n * 100 <= x.rows.max(100), "{}: {n} invalid of {}", x.feed, x.rows);
    }
}

#[test]
fn truth_covers_every_record_exactly_once() {
    let f = fixture();
    let mut seen = HashSet::new();
    for (file, feed) in f.summary.feeds.iter().zip(&f.feeds) {
        let rid = feed.schema.index_of("record_id").unwrap();
        for row in &feed.rows {
            assert!(seen.insert((file.feed.to_owned(), row[rid].clone())), "{} {} twice", file.feed, row[rid]);
        }
    }
    let keys: HashSet<_> = f.truth.keys().cloned().collect();
    assert_eq!(seen, keys);
    for t in f.truth.values() {
        assert!(t.person.starts_with('P') && t.person.len() == 7, "{}", t.person);
        assert!(t.family.starts_with('F') && t.family.len() == 7, "{}", t.family);
    }
}

#[test]
fn every_error_type_occurs_at_modest_rates() {
    let f = fixture();
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for t in f.truth.values() {
        for e in &t.errors {
            let broken = e.starts_with("invalid:") || e.starts_with("nulled:");
            let key = if broken { "invalid".to_owned() } else { e.clone() };
            *counts.entry(key).or_default() += 1;
        }
    }
    let total = f.truth.len();
    for &(_, name) in &ERROR_NAMES[..super::errors::DEFAULT_ERRORS] {
        let n = counts.get(name).copied().unwrap_or(0);
        assert!(n > 0, "no {name} in {counts:?}");
        assert!(n * 100 < total * 8, "{name}: {n} of {total}");
    }
    assert!(counts.get("invalid").copied().unwrap_or(0) > 0);
    let known: BTreeSet<&str> =
        ERROR_NAMES[..super::errors::DEFAULT_ERRORS].iter().map(|(_, n)| *n).chain(["invalid"]).collect();
    for k in counts.keys() {
        assert!(known.contains(k.as_str()), "unknown error tag {k}");
    }
    // NHS numbers are missing from about a tenth of health visiting records.
    let hv: Vec<_> = f.truth.iter().filter(|((feed, _), _)| feed == "health_visiting").collect();
    let missing = hv.iter().filter(|(_, t)| t.errors.iter().any(|e| e == "nhs_missing")).count();
    assert!((hv.len() / 25..hv.len() / 5).contains(&missing), "{missing} of {}", hv.len());
}

#[test]
fn duplicates_are_the_same_person_twice_in_one_source_with_different_ids() {
    let f = fixture();
    let mut by_person: HashMap<(&str, &str), usize> = HashMap::new();
    for ((feed, _), t) in &f.truth {
        *by_person.entry((feed.as_str(), t.person.as_str())).or_default() += 1;
    }
    let mut dups = 0;
    for ((feed, _), t) in &f.truth {
        if t.errors.iter().any(|e| e == "duplicate") {
            dups += 1;
            assert!(by_person[&(feed.as_str(), t.person.as_str())] >= 2, "{feed} {}", t.person);
            assert!(t.errors.len() >= 2, "a duplicate differs in some detail: {:?}", t.errors);
        }
    }
    assert!(dups > 0);
}

#[test]
fn identifiers_agree_for_the_same_person_across_records() {
    let f = fixture();
    // person_id -> NHS number, UPN, date of birth seen on records without injected errors.
    let mut nhs: HashMap<String, String> = HashMap::new();
    let mut upn: HashMap<String, String> = HashMap::new();
    let mut dob: HashMap<String, String> = HashMap::new();
    for (file, feed) in f.summary.feeds.iter().zip(&f.feeds) {
        let rid = feed.schema.index_of("record_id").unwrap();
        for row in &feed.rows {
            let t = &f.truth[&(file.feed.to_owned(), row[rid].clone())];
            if !t.errors.is_empty() {
                continue;
            }
            for (col, map) in [("nhs_number", &mut nhs), ("upn", &mut upn), ("date_of_birth", &mut dob)] {
                if let Some(i) = feed.schema.index_of(col)
                    && !row[i].is_empty()
                {
                    let prev = map.entry(t.person.clone()).or_insert_with(|| row[i].clone());
                    assert_eq!(prev, &row[i], "{col} of {} differs in {}", t.person, file.feed);
                }
            }
        }
    }
    let distinct: HashSet<&String> = nhs.values().collect();
    assert_eq!(distinct.len(), nhs.len(), "two people share an NHS number");
    assert!(nhs.values().all(|n| n.starts_with("999")));
    let distinct: HashSet<&String> = upn.values().collect();
    assert_eq!(distinct.len(), upn.len(), "two children share a UPN");
    assert!(upn.values().all(|u| &u[1..4] == "938"));
}

#[test]
fn geography_covers_the_six_districts_and_every_decile() {
    let f = fixture();
    let text = std::fs::read_to_string(&f.summary.postcode_lookup).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("postcode,small_area,district,imd_decile"));
    let mut districts = BTreeSet::new();
    let mut deciles = BTreeSet::new();
    let mut postcodes = HashSet::new();
    for line in lines {
        let v = split_csv(line);
        assert!(tellonce_schemas::Kind::Postcode.check(&v[0]).is_ok(), "{}", v[0]);
        assert!(v[1].starts_with("SYN-E01-"), "{}", v[1]);
        districts.insert(v[2].clone());
        deciles.insert(v[3].parse::<u8>().unwrap());
        assert!(postcodes.insert(v[0].clone()), "{} twice", v[0]);
    }
    assert_eq!(districts.iter().map(String::as_str).collect::<Vec<_>>(), crate::geo::tests::district_codes());
    assert_eq!(deciles, (1..=10).collect());
    // Every valid postcode in the feeds is in the lookup.
    for (file, feed) in f.summary.feeds.iter().zip(&f.feeds) {
        let Some(i) = feed.schema.index_of("postcode") else { continue };
        for row in &feed.rows {
            if let Ok(tellonce_schemas::Value::Text(pc)) = tellonce_schemas::Kind::Postcode.check(&row[i]) {
                assert!(postcodes.contains(pc.as_ref()), "{}: {pc} not in the lookup", file.feed);
            }
        }
    }
}

#[test]
fn events_are_in_the_window_and_their_dates_are_consistent() {
    let f = fixture();
    let (lo, hi) = ("2023-01-01", "2025-12-31");
    for (file, feed) in f.summary.feeds.iter().zip(&f.feeds) {
        let rid = feed.schema.index_of("record_id").unwrap();
        for row in &feed.rows {
            let t = &f.truth[&(file.feed.to_owned(), row[rid].clone())];
            if t.errors.iter().any(|e| e.starts_with("invalid:")) {
                continue;
            }
            let ev = feed.get(row, feed.schema.event_date);
            assert!((lo..=hi).contains(&ev), "{} {}: {ev}", file.feed, row[rid]);
            let pairs: &[(&str, &str)] = match file.feed {
                "youth_justice" => &[("offence_date", "outcome_date")],
                "housing" => &[("approach_date", "ta_start"), ("ta_start", "ta_end")],
                "camhs" => {
                    &[("referral_received_date", "first_contact_date"), ("first_contact_date", "discharge_date")]
                }
                "substance_misuse" => &[("referral_date", "treatment_start_date"), ("referral_date", "exit_date")],
                _ => &[],
            };
            for (a, b) in pairs {
                let (a, b) = (feed.get(row, a), feed.get(row, b));
                if !b.is_empty() {
                    assert!(a <= b && b <= hi, "{} {}: {a} then {b}", file.feed, row[rid]);
                }
            }
        }
    }
}

#[test]
fn the_feeds_look_like_their_partners_data() {
    let f = fixture();
    let feed = |name: &str| &f.feeds[f.summary.feeds.iter().position(|x| x.feed == name).unwrap()];
    // Attendance: most terms above 90%, some persistent absence, a little severe absence.
    let edu = feed("education");
    let pcts: Vec<f64> = edu
        .rows
        .iter()
        .filter(|r| edu.get(r, "event_type") == "ATTENDANCE_TERM")
        .filter_map(|r| edu.get(r, "attendance_pct").parse().ok())
        .collect();
    let below = |x: f64| pcts.iter().filter(|&&p| p < x).count() as f64 / pcts.len() as f64;
    assert!(pcts.len() > 1000);
    assert!((0.05..0.35).contains(&below(90.0)), "persistent absence {}", below(90.0));
    assert!(below(50.0) > 0.0 && below(50.0) < 0.05, "severe absence {}", below(50.0));
    for kind in ["SUSPENSION", "NEET_STATUS", "EARLY_HELP_OPEN", "EARLY_HELP_CLOSE"] {
        assert!(edu.rows.iter().any(|r| edu.get(r, "event_type") == kind), "no {kind}");
    }
    // Police: domestic abuse occurrences have several rows sharing the reference.
    let pol = feed("police");
    let mut per_occ: HashMap<&str, BTreeSet<&str>> = HashMap::new();
    for r in &pol.rows {
        if pol.get(r, "incident_type") == "DOMESTIC_ABUSE" {
            per_occ.entry(pol.get(r, "occurrence_ref")).or_default().insert(pol.get(r, "person_role"));
        }
    }
    assert!(per_occ.values().any(|roles| roles.contains("VICTIM") && roles.contains("SUSPECT") && roles.len() >= 3));
    for kind in ["MISSING_EPISODE", "ASB", "CRIME", "DOMESTIC_ABUSE"] {
        assert!(pol.rows.iter().any(|r| pol.get(r, "incident_type") == kind), "no {kind}");
    }
    // Health visiting: ASQ-3 at the 2-2.5 year review, some below the cut-off.
    let hv = feed("health_visiting");
    let asq: Vec<u32> = hv.rows.iter().filter_map(|r| hv.get(r, "asq3_communication").parse().ok()).collect();
    assert!(!asq.is_empty() && asq.iter().all(|s| s % 5 == 0) && asq.iter().any(|&s| s < 25));
    // Housing: one row per household member, sharing the reference.
    let hou = feed("housing");
    let mut per_case: HashMap<&str, usize> = HashMap::new();
    for r in &hou.rows {
        *per_case.entry(hou.get(r, "household_ref")).or_default() += 1;
    }
    assert!(per_case.values().any(|&n| n >= 3));
    // Quoting and non-ASCII letters occur.
    let raw = std::fs::read_to_string(&f.summary.feeds[0].path).unwrap()
        + &std::fs::read_to_string(&f.summary.feeds[6].path).unwrap();
    assert!(raw.contains("\"Flat "), "no quoted address line");
    assert!(!raw.is_ascii(), "no non-ASCII names");
    let district = std::fs::read_to_string(&f.summary.feeds[5].path).unwrap();
    assert!(district.contains(",\"\"\""), "no quoted house name in the district feed");
}

#[test]
fn deprivation_drives_need_across_feeds() {
    let f = fixture();
    let text = std::fs::read_to_string(&f.summary.postcode_lookup).unwrap();
    let decile: HashMap<String, u8> = text
        .lines()
        .skip(1)
        .map(|l| {
            let v = split_csv(l);
            (v[0].clone(), v[3].parse().unwrap())
        })
        .collect();
    // Families with a housing approach live in more deprived areas than families seen by
    // health visiting or education (nearly everyone).
    let mean_decile = |name: &str| {
        let i = f.summary.feeds.iter().position(|x| x.feed == name).unwrap();
        let feed = &f.feeds[i];
        let ds: Vec<f64> =
            feed.rows.iter().filter_map(|r| decile.get(feed.get(r, "postcode"))).map(|&d| f64::from(d)).collect();
        ds.iter().sum::<f64>() / ds.len() as f64
    };
    assert!(
        mean_decile("housing") + 1.0 < mean_decile("education"),
        "{} {}",
        mean_decile("housing"),
        mean_decile("education")
    );
    assert!(mean_decile("police") + 0.5 < mean_decile("education"));
}

#[test]
fn bench_feeds_are_valid_and_exactly_as_long_as_asked() {
    let dir = tempfile::tempdir().unwrap();
    for name in feed::names() {
        let path = dir.path().join(format!("{name}.csv"));
        assert_eq!(write_bench_feed(name, 1000, 5, &path).unwrap(), 1000);
        let ff = FeedFile { feed: feed::latest(name).unwrap().name, path: path.clone(), format: "csv", rows: 1000 };
        let feed = read_feed(&ff);
        let mut ids = HashSet::new();
        for row in &feed.rows {
            assert_eq!(broken_rules(feed.schema, row), [], "{name}: {row:?}");
            assert!(ids.insert(row[0].clone()));
        }
        let again = dir.path().join("again.csv");
        write_bench_feed(name, 1000, 5, &again).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), std::fs::read(&again).unwrap());
    }
    assert!(write_bench_feed("no_such_feed", 10, 1, &dir.path().join("x.csv")).is_err());
}

#[test]
fn the_population_has_exactly_the_children_asked_for() {
    for n in [0, 1, 7, 300] {
        let mut rng = rng::Rng::derive(9, &[1]);
        let geo = geo::Geo::build(30, &mut rng);
        let pop = population::Population::build(&geo, n, 9).unwrap();
        let kids = pop.persons.iter().filter(|p| p.member == population::Member::Child).count();
        assert_eq!(kids, n);
        for f in &pop.families {
            let k = pop.children(f).count();
            assert!((1..=4).contains(&k) && pop.parents(f).count() <= 2);
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let s = generate(&SynthOptions { out: dir.path().to_path_buf(), children: 0, seed: 1 }).unwrap();
    assert_eq!((s.persons, s.records), (0, 0));
}

#[test]
fn too_many_children_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let err = generate(&SynthOptions { out: dir.path().to_path_buf(), children: MAX_CHILDREN + 1, seed: 1 });
    assert!(err.is_err());
}

/// The record counts and timing at 50 000 children (run with `--ignored`, ideally `--release`).
#[test]
#[ignore = "slow in debug builds; a sizing check"]
fn fifty_thousand_children() {
    let dir = tempfile::tempdir().unwrap();
    let t = std::time::Instant::now();
    let s = generate(&SynthOptions { out: dir.path().to_path_buf(), children: 50_000, seed: 1 }).unwrap();
    let took = t.elapsed();
    println!("persons {} families {} records {} in {took:?}", s.persons, s.families, s.records);
    for f in &s.feeds {
        println!("  {:16} {:>8}", f.feed, f.rows);
    }
    let truth = read_truth(&s.truth);
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for t in truth.values() {
        for e in &t.errors {
            *counts.entry(e.split(':').next().unwrap_or("").to_owned()).or_default() += 1;
        }
    }
    println!("  errors {counts:?}");
    let t = std::time::Instant::now();
    write_bench_feed("education", 2_000_000, 1, &dir.path().join("bench.csv")).unwrap();
    println!("  bench: 2M education rows in {:?}", t.elapsed());
}

#[test]
fn needs_correlate_across_agencies() {
    let f = fixture();
    let feed_ix = |name: &str| f.summary.feeds.iter().position(|x| x.feed == name).unwrap();
    let families_in = |name: &str| -> HashSet<&str> {
        f.truth.iter().filter(|((feed, _), _)| feed == name).map(|(_, t)| t.family.as_str()).collect()
    };
    // Families with a housing approach are far likelier than others to appear in police data.
    let housing = families_in("housing");
    let police = families_in("police");
    let all = families_in("education");
    let share = |set: &HashSet<&str>, of: &HashSet<&str>| {
        set.iter().filter(|x| of.contains(*x)).count() as f64 / set.len().max(1) as f64
    };
    let others: HashSet<&str> = all.difference(&housing).copied().collect();
    assert!(
        share(&housing, &police) > 1.5 * share(&others, &police),
        "{} {}",
        share(&housing, &police),
        share(&others, &police)
    );
    // Children referred to CAMHS attend school less.
    let camhs: HashSet<&str> =
        f.truth.iter().filter(|((feed, _), _)| feed == "camhs").map(|(_, t)| t.person.as_str()).collect();
    let edu = &f.feeds[feed_ix("education")];
    let (mut with, mut without) = (Vec::new(), Vec::new());
    for r in &edu.rows {
        let Ok(p) = edu.get(r, "attendance_pct").parse::<f64>() else { continue };
        let t = &f.truth[&("education".to_owned(), edu.get(r, "record_id").to_owned())];
        if camhs.contains(t.person.as_str()) { with.push(p) } else { without.push(p) }
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    assert!(mean(&with) + 2.0 < mean(&without), "{} {}", mean(&with), mean(&without));
}

#[test]
fn the_harsh_model_adds_every_harsh_error_and_keeps_the_truth_complete() {
    let dir = tempfile::tempdir().unwrap();
    let opts = SynthOptions { out: dir.path().to_path_buf(), children: 1500, seed: 9 };
    let s = super::generate_with_errors(&opts, super::ErrorModel::Harsh).unwrap();
    let truth = read_truth(&s.truth);
    assert_eq!(truth.len(), s.records, "a truth line for every record");
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for t in truth.values() {
        for e in &t.errors {
            if let Some((_, name)) = ERROR_NAMES.iter().find(|(_, n)| n == e) {
                *counts.entry(name).or_default() += 1;
            }
        }
    }
    for (_, name) in ERROR_NAMES {
        assert!(counts.get(name).copied().unwrap_or(0) > 0, "no {name} in {counts:?}");
    }
    // The same seed without --errors harsh gives the default data, which has none of them.
    let dir2 = tempfile::tempdir().unwrap();
    let d = generate(&SynthOptions { out: dir2.path().to_path_buf(), children: 1500, seed: 9 }).unwrap();
    let plain = read_truth(&d.truth);
    for &(_, name) in &ERROR_NAMES[super::errors::DEFAULT_ERRORS..] {
        assert!(!plain.values().any(|t| t.errors.iter().any(|e| e == name)), "{name} in default data");
    }
}

#[test]
fn substance_misuse_journeys_are_whole_and_both_services_appear() {
    let f = fixture();
    let i = f.summary.feeds.iter().position(|x| x.feed == "substance_misuse").unwrap();
    let feed = &f.feeds[i];
    let rid = feed.schema.index_of("record_id").unwrap();
    let (mut young, mut adult) = (0, 0);
    for row in &feed.rows {
        let t = &f.truth[&("substance_misuse".to_owned(), row[rid].clone())];
        if t.errors.iter().any(|e| e.starts_with("invalid:")) {
            continue;
        }
        let (exit, reason) = (feed.get(row, "exit_date"), feed.get(row, "exit_reason"));
        assert_eq!(exit.is_empty(), reason.is_empty(), "{}: an exit has a date and a reason", row[rid]);
        let (start, exit) = (feed.get(row, "treatment_start_date"), feed.get(row, "exit_date"));
        if !start.is_empty() && !exit.is_empty() {
            assert!(start < exit, "{}: {start} then {exit}", row[rid]);
        }
        match feed.get(row, "service") {
            "YOUNG_PEOPLE" => young += 1,
            _ => adult += 1,
        }
    }
    assert!(young > 5 && adult > young, "young {young}, adult {adult}");
    assert!(feed.rows.len() > 40, "{} journeys", feed.rows.len());
}

#[test]
fn every_small_area_of_the_lookup_has_one_family_hub_locality_in_its_district() {
    let f = fixture();
    let lookup = std::fs::read_to_string(&f.summary.postcode_lookup).unwrap();
    let district_of: HashMap<String, String> = lookup
        .lines()
        .skip(1)
        .map(|l| {
            let v = split_csv(l);
            (v[1].clone(), v[2].clone())
        })
        .collect();
    let text = std::fs::read_to_string(&f.summary.localities).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("small_area,locality"));
    let mut locality_of: HashMap<String, String> = HashMap::new();
    for l in lines {
        let v = split_csv(l);
        assert!(locality_of.insert(v[0].clone(), v[1].clone()).is_none(), "{} listed twice", v[0]);
    }
    for (area, district) in &district_of {
        let locality = locality_of.get(area).unwrap_or_else(|| panic!("{area} has no locality"));
        assert!(locality.starts_with(district.as_str()), "{area} of {district} is in {locality}");
    }
    let hubs: std::collections::BTreeSet<&String> = locality_of.values().collect();
    assert!(hubs.len() > 6, "more than one hub in some district: {hubs:?}");
}
