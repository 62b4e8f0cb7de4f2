//! Linkage through the binary: accuracy against the synthetic ground truth, stable ids across
//! builds, merges recorded, conflicts reported, low evidence flagged, and the governance rules
//! (a feed without an agreement in force is not linked).

use std::collections::BTreeMap;

use crate::support::*;
use tellonce_tests::{json_stdout, tellonce_ok};

const CAMHS_HEADER: &str =
    "record_id,nhs_number,forename,surname,date_of_birth,postcode,referral_received_date,referral_outcome";
const POLICE_HEADER: &str = "record_id,occurrence_ref,pnc_id,forename,surname,date_of_birth,postcode,incident_date,\
                             incident_type,person_role,dash_risk";
const EDUCATION_HEADER: &str = "record_id,upn,nhs_number,forename,surname,date_of_birth,postcode,event_date,event_type";

fn camhs(id: &str, nhs: &str, forename: &str, surname: &str, dob: &str) -> String {
    format!("{id},{nhs},{forename},{surname},{dob},RH10 1AB,2024-03-01,ACCEPTED")
}

fn education(id: &str, upn: &str, nhs: &str, forename: &str, surname: &str, dob: &str) -> String {
    format!("{id},{upn},{nhs},{forename},{surname},{dob},BN11 2AB,2024-02-05,SUSPENSION")
}

/// One row of `links/`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Link {
    pub(crate) person: String,
    family: String,
    pub(crate) rule: String,
    low_evidence: bool,
    pub(crate) conflict: Option<String>,
}

/// `(feed, record_ref)` → its link, from every visible part of `links/`.
fn links(ws: &Workspace) -> BTreeMap<(String, String), Link> {
    links_in(&ws.out())
}

/// As [`links`], of the output at `out`.
pub(crate) fn links_in(out_dir: &std::path::Path) -> BTreeMap<(String, String), Link> {
    let mut out = BTreeMap::new();
    for part in visible_parquet(&out_dir.join("links")) {
        let feed =
            part.parent().unwrap().file_name().unwrap().to_str().unwrap().strip_prefix("feed=").unwrap().to_owned();
        let col = |n: &str| parquet_column(&part, n);
        let (r, p, f, rule, low, conflict) = (
            col("record_ref"),
            col("person_id"),
            col("family_id"),
            col("match_rule"),
            col("low_evidence"),
            col("conflict"),
        );
        for i in 0..r.len() {
            let link = Link {
                person: p[i].clone().unwrap(),
                family: f[i].clone().unwrap(),
                rule: rule[i].clone().unwrap(),
                low_evidence: low[i].as_deref() == Some("true"),
                conflict: conflict[i].clone(),
            };
            assert!(out.insert((feed.clone(), r[i].clone().unwrap()), link).is_none(), "a record twice in links/");
        }
    }
    out
}

fn link<'a>(all: &'a BTreeMap<(String, String), Link>, feed: &str, id: &str) -> &'a Link {
    all.get(&(feed.to_owned(), id.to_owned())).unwrap_or_else(|| panic!("{feed} {id} not in links/: {all:?}"))
}

#[test]
fn synthetic_records_link_across_feeds_with_f1_above_0_99() {
    let ws = synth_workspace(3000, 11);
    let run = Run::new(tellonce_ok(ws.dir(), &["run", "-c", "tellonce.toml", "--json", "--no-progress"], 0));
    let written: u64 = run.summary["inputs"].as_array().unwrap().iter().map(|i| i["written"].as_u64().unwrap()).sum();
    let l = &run.summary["linkage"];
    // Every staged record is in links/ exactly once (the synthetic extracts repeat no record id).
    assert_eq!(l["records"].as_u64().unwrap(), written);
    assert_eq!(links(&ws).len() as u64, written);
    let eval = json_stdout(&tellonce_ok(
        ws.dir(),
        &["link-eval", "-c", "tellonce.toml", "--truth", "truth/records.csv", "--json"],
        0,
    ));
    let cross = &eval["persons_cross_feed"];
    let (p, r, f1) =
        (cross["precision"].as_f64().unwrap(), cross["recall"].as_f64().unwrap(), cross["f1"].as_f64().unwrap());
    assert!(f1 >= 0.99 && p >= 0.99 && r >= 0.98, "cross-feed persons: {eval:#}");
    assert!(cross["true_pairs"].as_u64().unwrap() > 1000, "too few cross-feed pairs to mean anything: {eval:#}");
    assert!(eval["families"]["f1"].as_f64().unwrap() > 0.9, "{eval:#}");
    assert_eq!(eval["not_in_truth"], 0);
    // The scoring model was estimated from this data, is shown, and is in the audit log.
    let model = json_stdout(&tellonce_ok(ws.dir(), &["link-model", "-c", "tellonce.toml", "--json"], 0));
    assert_eq!(model["estimated"], true, "{model:#}");
    let weight = |field: &str, level: &str| {
        let l =
            model["levels"].as_array().unwrap().iter().find(|l| l["field"] == field && l["level"] == level).unwrap();
        (l["m"].as_f64().unwrap() / l["u"].as_f64().unwrap()).log2()
    };
    assert!(weight("date_of_birth", "exact") > 8.0 && weight("date_of_birth", "else") < -2.0, "{model:#}");
    for l in model["levels"].as_array().unwrap() {
        let (m, u) = (l["m"].as_f64().unwrap(), l["u"].as_f64().unwrap());
        assert!(m > 0.0 && m <= 1.0 && u > 0.0 && u <= 1.0, "{l}");
    }
    let text = String::from_utf8(tellonce_ok(ws.dir(), &["link-model", "-c", "tellonce.toml"], 0).stdout).unwrap();
    assert!(text.contains("estimated from this deployment's data") && text.contains("date_of_birth"), "{text}");
    let log = std::fs::read_to_string(ws.out().join("audit/audit.jsonl")).unwrap();
    let built = log.lines().rfind(|l| l.contains("\"type\":\"linkage_built\"")).unwrap();
    assert!(built.contains("\"model\":{") && built.contains("\"threshold_bits\""), "{built}");
    // The vetoes the persons were kept apart with are versioned beside the matcher, in the log too.
    let vetoes = model["vetoes"].as_str().unwrap_or_default();
    assert!(vetoes.starts_with("veto-") && built.contains(&format!("\"vetoes\":\"{vetoes}\"")), "{built}");
    assert!(text.contains(&format!("vetoes {vetoes}")), "{text}");
    explain_a_record_of_several(&ws);
    review_sample_is_near_the_threshold(&ws, &run);
    // Match rates are reported by feed, district and IMD decile.
    for key in ["by_feed", "by_district", "by_imd_decile"] {
        assert!(l["rates"][key].as_object().unwrap().len() >= 2, "{key}: {:#}", l["rates"]);
    }
    // Nothing but pseudonymous ids in the identity index and links/.
    let inputs: Vec<_> = files_under_inputs(&ws);
    let ids = Identifiers::from_inputs(&inputs);
    for part in visible_parquet(&ws.out().join("links")).into_iter().chain(visible_parquet(&ws.out().join("state"))) {
        let found: Vec<String> = parquet_strings(&part).iter().flat_map(|s| ids.find(s)).collect();
        assert!(found.is_empty(), "{}: {found:?}", part.display());
    }
}

/// `link-review`: pairs near the threshold, each linked exactly when `links/` puts its records in
/// one person, and the model's own estimate of precision and recall in the summary.
fn review_sample_is_near_the_threshold(ws: &Workspace, run: &Run) {
    let estimate = &run.summary["linkage"]["scoring"]["estimate"];
    let (p, r) = (estimate["precision"].as_f64().unwrap(), estimate["recall"].as_f64().unwrap());
    // The recall estimate is coarse here: the scoring pass makes about ten links in this
    // county, and tens of thousands of pairs of small probability below the line sum to about
    // as many expected misses (the model takes fields as independent; it is least sure at the
    // low end). It must be a proportion, and not nothing.
    assert!(p > 0.9 && p <= 1.0 && r > 0.25 && r <= 1.0, "{estimate:#}");
    let all = links(ws);
    let person = |name: &str| {
        let (feed, id) = name.split_once(':').unwrap();
        all[&(feed.to_owned(), id.to_owned())].person.clone()
    };
    let review = json_stdout(&tellonce_ok(ws.dir(), &["link-review", "-c", "tellonce.toml", "--json"], 0));
    let pairs = review.as_array().unwrap();
    assert!(!pairs.is_empty() && pairs.len() <= 100, "{review:#}");
    let threshold =
        json_stdout(&tellonce_ok(ws.dir(), &["link-model", "-c", "tellonce.toml", "--json"], 0))["threshold_bits"]
            .as_f64()
            .unwrap();
    for pair in pairs {
        let (a, b) = (pair["a"].as_str().unwrap(), pair["b"].as_str().unwrap());
        assert_eq!(pair["linked"].as_bool().unwrap(), person(a) == person(b), "{pair:#}");
        assert!((pair["bits"].as_f64().unwrap() - threshold).abs() <= 4.0 + 1e-9, "{pair:#}");
        assert!(pair["levels"]["date_of_birth"].is_string(), "{pair:#}");
    }
    let csv =
        String::from_utf8(tellonce_ok(ws.dir(), &["link-review", "-c", "tellonce.toml", "--csv"], 0).stdout).unwrap();
    assert!(csv.starts_with("record_a,record_b,bits,probability,linked,levels,same_person\n"), "{csv}");
    assert_eq!(csv.lines().count(), pairs.len() + 1);
}

/// `link-explain` of a record whose person has several records: the waterfall of each pair adds
/// up, its records are shown as the same person, and the question is audited without the
/// record's reference.
fn explain_a_record_of_several(ws: &Workspace) {
    let all = links(ws);
    let mut sizes: BTreeMap<&str, usize> = BTreeMap::new();
    for l in all.values() {
        *sizes.entry(l.person.as_str()).or_default() += 1;
    }
    let ((feed, id), link) = all.iter().find(|(_, l)| sizes[l.person.as_str()] >= 3).unwrap();
    let record = format!("{feed}:{id}");
    let args = ["link-explain", "-c", "tellonce.toml", "--record", &record, "--officer", "IG 1", "--reference", "LX-1"];
    let e = json_stdout(&tellonce_ok(ws.dir(), &[&args[..], &["--json"]].concat(), 0));
    assert_eq!(e["person_id"], link.person.as_str(), "{e:#}");
    assert_eq!(e["person_records"].as_u64().unwrap() as usize, sizes[link.person.as_str()]);
    let pairs = e["pairs"].as_array().unwrap();
    let same: Vec<_> = pairs.iter().filter(|p| p["verdict"] == "same_person").collect();
    assert_eq!(same.len(), (sizes[link.person.as_str()] - 1).min(10), "{e:#}");
    for p in pairs {
        let other = &all
            [&(p["other"]["feed"].as_str().unwrap().to_owned(), p["other"]["record_ref"].as_str().unwrap().to_owned())];
        assert_eq!(p["verdict"] == "same_person", other.person == link.person, "{p:#}");
        let steps = p["steps"].as_array().unwrap();
        let fields: Vec<&str> = steps.iter().map(|s| s["field"].as_str().unwrap()).collect();
        assert_eq!(fields[..6], ["forename", "surname", "date_of_birth", "postcode", "sex", "address"]);
        let sum: f64 = steps.iter().map(|s| s["bits"].as_f64().unwrap()).sum();
        assert!((sum - p["bits"].as_f64().unwrap()).abs() < 1e-6, "{p:#}");
        let below = p["bits"].as_f64().unwrap() < e["threshold_bits"].as_f64().unwrap();
        assert!(p["verdict"] != "below_threshold" || below, "{p:#}");
    }
    let text = String::from_utf8(tellonce_ok(ws.dir(), &args, 0).stdout).unwrap();
    assert!(
        text.contains(&format!("record {record} is person {}", link.person)) && text.contains("same person"),
        "{text}"
    );
    let log = std::fs::read_to_string(ws.out().join("audit/audit.jsonl")).unwrap();
    let asked: Vec<&str> = log.lines().filter(|l| l.contains("\"type\":\"linkage_explained\"")).collect();
    assert_eq!(asked.len(), 2, "{log}");
    assert!(asked.iter().all(|l| l.contains("\"officer\":\"IG 1\"") && !l.contains(id.as_str())), "{asked:?}");
    // Unattributed, or of a record not linked: refused before anything is shown.
    let unattributed =
        ["link-explain", "-c", "tellonce.toml", "--record", &record, "--officer", "", "--reference", "LX-1"];
    tellonce_ok(ws.dir(), &unattributed, 2);
    let unknown = [
        "link-explain",
        "-c",
        "tellonce.toml",
        "--record",
        "police:NO-SUCH",
        "--officer",
        "IG 1",
        "--reference",
        "LX-1",
    ];
    tellonce_ok(ws.dir(), &unknown, 3);
}

fn files_under_inputs(ws: &Workspace) -> Vec<std::path::PathBuf> {
    tellonce_tests::files_under(&ws.dir().join("inputs"))
}

#[test]
fn ids_survive_later_builds_and_new_evidence_merges_two_persons_on_the_record() {
    let ws = Workspace::new();
    ws.write(
        "inputs/camhs.csv",
        format!("{CAMHS_HEADER}\n{}\n", camhs("C1", "9434765919", "Amy", "Smith", "2012-07-19")),
    );
    ws.write(
        "inputs/education.csv",
        format!("{EDUCATION_HEADER}\n{}\n", education("E1", "B801200005001", "", "Zed", "Quill", "2012-07-19")),
    );
    ws.config(&[("camhs", "inputs/camhs.csv"), ("education", "inputs/education.csv")], "");
    ws.run(0, &[]);
    let first = links(&ws);
    let (c1, e1) = (link(&first, "camhs", "C1").person.clone(), link(&first, "education", "E1").person.clone());
    assert_ne!(c1, e1);

    // A second build over the same staging changes nothing and rewrites nothing.
    let again = tellonce_ok(ws.dir(), &["build", "-c", "tellonce.toml", "--json"], 0);
    assert_eq!(json_stdout(&again)["linkage"]["up_to_date"], true);
    assert_eq!(links(&ws), first);

    // New evidence: a record holding both the NHS number and the UPN joins the two.
    ws.write(
        "inputs/education2.csv",
        format!(
            "{EDUCATION_HEADER}\n{}\n",
            education("E2", "B801200005001", "9434765919", "Amy", "Smith", "2012-07-19")
        ),
    );
    ws.config(
        &[("camhs", "inputs/camhs.csv"), ("education", "inputs/education.csv"), ("education", "inputs/education2.csv")],
        "",
    );
    let run = ws.run(0, &[]);
    assert_eq!(run.summary["linkage"]["person_changes"]["merges"], 1, "{:#}", run.summary["linkage"]);
    let second = links(&ws);
    let merged = &link(&second, "camhs", "C1").person;
    assert_eq!(merged, &link(&second, "education", "E1").person);
    assert_eq!(merged, &link(&second, "education", "E2").person);
    assert!(merged == &c1 || merged == &e1, "the merged person keeps one of the old ids");
    // The absorbed id resolves to its successor through id_history/, and the log says so.
    let history = visible_parquet(&ws.out().join("id_history"));
    assert_eq!(history.len(), 1);
    let (old, new, change) = (
        parquet_column(&history[0], "old_id"),
        parquet_column(&history[0], "new_id"),
        parquet_column(&history[0], "change"),
    );
    let absorbed = if merged == &c1 { &e1 } else { &c1 };
    let row =
        (0..old.len()).find(|&i| old[i].as_deref() == Some(absorbed.as_str())).expect("absorbed id in id_history");
    assert_eq!((new[row].as_deref(), change[row].as_deref()), (Some(merged.as_str()), Some("merge")));
    // Why: a new record.
    assert_eq!(parquet_column(&history[0], "reasons")[row].as_deref(), Some("new"));
    let log = std::fs::read_to_string(ws.out().join("audit/audit.jsonl")).unwrap();
    assert!(log.contains("\"type\":\"identity_changed\"") && log.contains(absorbed.as_str()), "{log}");
    assert!(log.contains("\"reasons\":[\"new\"]"), "{log}");
    assert!(tellonce_ok(ws.dir(), &["audit", "verify", "-c", "tellonce.toml"], 0).status.success());

    // A rebuild from scratch of the same staging (new settings force one) gives the same ids.
    ws.config(
        &[("camhs", "inputs/camhs.csv"), ("education", "inputs/education.csv"), ("education", "inputs/education2.csv")],
        "[linkage]\nmin_weight = 21\n",
    );
    let rebuilt = json_stdout(&tellonce_ok(ws.dir(), &["build", "-c", "tellonce.toml", "--json"], 0));
    assert_eq!(rebuilt["linkage"]["up_to_date"], false);
    assert_eq!(rebuilt["linkage"]["person_changes"]["merges"], 0);
    assert_eq!(links(&ws), second);

    // The partner withdraws E2: nothing joins C1 and E1 any more, and the id history says why.
    ws.write("inputs/withdrawn.csv", "record_id\nE2\n");
    let mut config = "[output]\ndir = \"output\"\n\n[keys]\nfile = \"keys/tellonce.key\"\n".to_owned();
    for (feed, path, mode) in [
        ("camhs", "inputs/camhs.csv", "delta"),
        ("education", "inputs/education.csv", "delta"),
        ("education", "inputs/education2.csv", "delta"),
        ("education", "inputs/withdrawn.csv", "withdrawals"),
    ] {
        config.push_str(&format!("\n[[sources]]\nfeed = {feed:?}\npath = {path:?}\nmode = {mode:?}\n"));
    }
    ws.write("tellonce.toml", config);
    let run = ws.run(0, &[]);
    assert_eq!(run.summary["linkage"]["person_changes"]["splits"], 1, "{:#}", run.summary["linkage"]);
    let third = links(&ws);
    assert_ne!(link(&third, "camhs", "C1").person, link(&third, "education", "E1").person);
    let mut reasons: Vec<(String, String)> = visible_parquet(&ws.out().join("id_history"))
        .iter()
        .flat_map(|p| parquet_column(p, "change").into_iter().zip(parquet_column(p, "reasons")))
        .map(|(c, r)| (c.unwrap(), r.unwrap()))
        .collect();
    reasons.sort();
    assert!(reasons.contains(&("split".to_owned(), "withdrawn".to_owned())), "{reasons:?}");
}

#[test]
fn one_nhs_number_with_two_dates_of_birth_is_reported_and_merged_only_under_one_name() {
    let ws = Workspace::new();
    ws.write(
        "inputs/camhs.csv",
        format!(
            "{CAMHS_HEADER}\n{}\n{}\n{}\n",
            camhs("C1", "9434765919", "Amy", "Smith", "2012-07-19"),
            camhs("C2", "9434765919", "Amy", "Smith", "2014-01-30"),
            camhs("C3", "9434765919", "Ben", "Smith", "2016-05-02")
        ),
    );
    ws.config(&[("camhs", "inputs/camhs.csv")], "");
    let run = ws.run(0, &[]);
    assert_eq!(run.summary["linkage"]["conflicts"], 3, "{:#}", run.summary["linkage"]);
    let all = links(&ws);
    let (a, b, other) = (link(&all, "camhs", "C1"), link(&all, "camhs", "C2"), link(&all, "camhs", "C3"));
    // One number under one name is one person whose dates disagree (still reported); under
    // another forename it is a relative's number or record, kept apart.
    assert_eq!(a.person, b.person);
    assert_ne!(a.person, other.person);
    for l in [a, b, other] {
        let c = l.conflict.as_deref().unwrap_or_default();
        assert!(c.contains("nhs_number") && c.contains("date of birth"), "{l:?}");
    }
}

#[test]
fn a_record_with_too_little_to_match_gets_a_person_of_its_own_flagged_low_evidence() {
    let ws = Workspace::new();
    // Police records: a name is required, a date of birth and a postcode are not.
    ws.write(
        "inputs/police.csv",
        format!(
            "{POLICE_HEADER}\n{}\n{}\n{}\n",
            "P1,OCC-P1,,Amy,Smith,2012-07-19,RH10 1AB,2024-01-05,DOMESTIC_ABUSE,VICTIM,HIGH",
            "P2,OCC-P2,,Amy,Smith,,,2024-01-06,DOMESTIC_ABUSE,VICTIM,HIGH",
            "P3,OCC-P3,,Amy,Smith,,,2024-01-07,DOMESTIC_ABUSE,VICTIM,HIGH"
        ),
    );
    ws.config(&[("police", "inputs/police.csv")], "");
    let run = ws.run(0, &[]);
    let all = links(&ws);
    let (p1, p2, p3) = (link(&all, "police", "P1"), link(&all, "police", "P2"), link(&all, "police", "P3"));
    assert!(!p1.low_evidence && p2.low_evidence && p3.low_evidence, "{all:?}");
    assert_ne!(p2.person, p3.person, "a name alone does not make two records one person");
    assert_ne!(p2.person, p1.person);
    assert_eq!(p2.rule, "none");
    assert_eq!(run.summary["linkage"]["low_evidence"], 2);
}

#[test]
fn a_feed_whose_agreement_has_ended_is_left_out_of_the_next_build() {
    let ws = Workspace::new();
    ws.write(
        "inputs/camhs.csv",
        format!("{CAMHS_HEADER}\n{}\n", camhs("C1", "9434765919", "Amy", "Smith", "2012-07-19")),
    );
    ws.write(
        "inputs/education.csv",
        format!(
            "{EDUCATION_HEADER}\n{}\n",
            education("E1", "B801200005001", "9434765919", "Amy", "Smith", "2012-07-19")
        ),
    );
    ws.config(&[("camhs", "inputs/camhs.csv"), ("education", "inputs/education.csv")], "");
    ws.run(0, &[]);
    assert_eq!(visible_parquet(&ws.out().join("links/feed=camhs")).len(), 1);
    // The CAMHS agreement ended yesterday.
    let yesterday = tellonce_schemas::identifiers::dates::format(tellonce_schemas::identifiers::dates::today() - 1);
    for f in tellonce_tests::files_under(&ws.dir().join("agreements")) {
        let text = std::fs::read_to_string(&f).unwrap();
        if text.contains("[feeds.camhs") {
            let edited: String = text
                .lines()
                .map(|l| {
                    if l.trim_start().starts_with("end =") { format!("end = {yesterday}\n") } else { format!("{l}\n") }
                })
                .collect();
            std::fs::write(&f, edited).unwrap();
        }
    }
    let out = tellonce_ok(ws.dir(), &["build", "-c", "tellonce.toml", "--json"], 0);
    let report = json_stdout(&out);
    let not_linked = report["linkage"]["feeds_not_linked"].as_array().unwrap();
    assert!(not_linked.iter().any(|f| f.as_str().unwrap().starts_with("camhs")), "{report:#}");
    assert!(visible_parquet(&ws.out().join("links/feed=camhs")).is_empty(), "links of an ended agreement remain");
    assert_eq!(links(&ws).len(), 1);
}

#[test]
fn theme_events_carry_linked_persons_and_the_mapping_explains_itself() {
    let ws = synth_workspace(800, 23);
    let run = Run::new(tellonce_ok(ws.dir(), &["run", "-c", "tellonce.toml", "--json", "--no-progress"], 0));
    let by_headline = run.summary["linkage"]["theme_events"].as_object().unwrap().clone();
    assert!(by_headline.contains_key("SF01") && by_headline.contains_key("SF08"), "{by_headline:?}");
    let persons: std::collections::BTreeSet<String> = links(&ws).values().map(|l| l.person.clone()).collect();
    let parts = visible_parquet(&ws.out().join("theme_events"));
    let mut rows = 0u64;
    for part in &parts {
        let rel = part.strip_prefix(ws.out()).unwrap().display().to_string();
        assert!(rel.contains("/headline=SF") && rel.contains("/month=20"), "{rel}");
        for p in parquet_column(part, "person_id").into_iter().flatten() {
            assert!(persons.contains(&p), "{p} in {rel} is not in links/");
            rows += 1;
        }
    }
    let summed: u64 = by_headline.values().map(|v| v.as_u64().unwrap()).sum();
    assert_eq!(rows, summed);
    let explain = text(&tellonce_ok(ws.dir(), &["themes", "explain", "-c", "tellonce.toml"], 0));
    assert!(explain.contains("SF08 Safe from domestic abuse") && explain.contains("why: "), "{explain}");
    assert!(explain.contains("Event types that map to no headline"), "{explain}");
}

/// The persons of `links/` as sets of `(feed, record_ref)`, whatever their ids.
fn partition(links: &BTreeMap<(String, String), Link>) -> std::collections::BTreeSet<Vec<(String, String)>> {
    let mut by_person: BTreeMap<&str, Vec<(String, String)>> = BTreeMap::new();
    for (key, link) in links {
        by_person.entry(link.person.as_str()).or_default().push(key.clone());
    }
    by_person.into_values().collect()
}

#[test]
fn a_frozen_model_is_scored_with_as_reviewed_and_reproduces_the_build_it_came_from() {
    let ws = synth_workspace(800, 7);
    ws.run(0, &[]);
    let estimated = links(&ws);
    std::fs::create_dir_all(ws.dir().join("reviewed")).unwrap();
    let reviewed = ws.dir().join("reviewed/model.json");
    std::fs::copy(ws.out().join("state/link/model.json"), &reviewed).unwrap();
    let file: serde_json::Value = serde_json::from_slice(&std::fs::read(&reviewed).unwrap()).unwrap();

    // The same inputs into another output, scored with the reviewed model.
    let config = std::fs::read_to_string(ws.dir().join("tellonce.toml")).unwrap();
    assert!(!config.contains("[linkage]"), "the synthetic config sets no [linkage] of its own");
    let frozen =
        config.replace("dir = \"output\"", "dir = \"frozen\"") + "\n[linkage]\nmodel = \"reviewed/model.json\"\n";
    ws.write("frozen.toml", &frozen);
    tellonce_ok(ws.dir(), &["run", "--config", "frozen.toml", "--json", "--no-progress"], 0);
    let shown = json_stdout(&tellonce_ok(ws.dir(), &["link-model", "-c", "frozen.toml", "--json"], 0));
    assert_eq!(shown["frozen"]["sha256"], sha256_of(&reviewed));
    assert_eq!((&shown["levels"], &shown["prior"]), (&file["levels"], &file["prior"]), "scored with the file as it is");
    let shown_text = String::from_utf8(tellonce_ok(ws.dir(), &["link-model", "-c", "frozen.toml"], 0).stdout).unwrap();
    assert!(shown_text.contains("frozen, read from") && shown_text.contains("reviewed/model.json"), "{shown_text}");
    let log = std::fs::read_to_string(ws.dir().join("frozen/audit/audit.jsonl")).unwrap();
    let built = log.lines().find(|l| l.contains("\"type\":\"linkage_built\"")).unwrap();
    assert!(built.contains(&sha256_of(&reviewed)), "the audit log names the model file by its hash: {built}");
    let again = links_in(&ws.dir().join("frozen"));
    assert_eq!(partition(&again), partition(&estimated), "the same persons as the build it came from");

    // Another reviewed model, with the staging unchanged, is a new build, not an up-to-date one.
    let mut revised = file.clone();
    revised["prior"] = serde_json::json!(file["prior"].as_f64().unwrap() / 2.0);
    std::fs::write(&reviewed, serde_json::to_vec(&revised).unwrap()).unwrap();
    let rebuilt = json_stdout(&tellonce_ok(ws.dir(), &["build", "--config", "frozen.toml", "--json"], 0));
    assert_eq!(rebuilt["linkage"]["up_to_date"], false, "a new model file re-links");
    let shown = json_stdout(&tellonce_ok(ws.dir(), &["link-model", "-c", "frozen.toml", "--json"], 0));
    assert_eq!(shown["prior"], revised["prior"]);

    // A model of another matcher stops the build, naming the file and why.
    let mut other = file.clone();
    other["matcher"] = serde_json::json!("rules-0");
    std::fs::write(&reviewed, serde_json::to_vec(&other).unwrap()).unwrap();
    let refused = tellonce_ok(ws.dir(), &["build", "--config", "frozen.toml"], 3);
    let why = text(&refused);
    assert!(why.contains("reviewed/model.json") && why.contains("matcher rules-0"), "{why}");
}
