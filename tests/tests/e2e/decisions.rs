//! Officers' decisions (`[linkage] decisions`): a pair an officer found to be two people is split
//! and kept apart, a pair found to be one person is linked, each build says what it made of the
//! file, the audit log names it by its hash, and `link-explain` gives the decision as the reason.

use std::collections::BTreeMap;

use crate::linkage::{Link, links_in};
use crate::support::*;
use tellonce_tests::{json_stdout, tellonce_ok};

/// Two records of one person in different feeds, and two records of two people in different
/// feeds that share no partner record.
fn pick(all: &BTreeMap<(String, String), Link>) -> [(String, String); 4] {
    let mut by_person: BTreeMap<&str, Vec<&(String, String)>> = BTreeMap::new();
    for (k, l) in all {
        by_person.entry(&l.person).or_default().push(k);
    }
    let linked = by_person
        .values()
        .find_map(|ks| ks.iter().find(|k| k.0 != ks[0].0).map(|other| (ks[0].clone(), (*other).clone())))
        .expect("a person known to two partners");
    let alone: Vec<&(String, String)> = by_person.values().filter(|ks| ks.len() == 1).map(|ks| ks[0]).collect();
    // One of a feed that holds no strong identifier, so that none can disagree.
    let c = alone.iter().find(|k| ["housing", "district"].contains(&k.0.as_str())).map(|k| (*k).clone());
    let c = c.expect("a lone housing or district record");
    let d = alone.iter().find(|k| k.0 != c.0).map(|k| (*k).clone()).expect("lone records of two partners");
    [linked.0, linked.1, c, d]
}

fn name(k: &(String, String)) -> String {
    format!("{}:{}", k.0, k.1)
}

#[test]
fn officers_decisions_split_a_wrong_link_and_make_a_missed_one_and_every_build_honours_them() {
    let ws = synth_workspace(600, 5);
    ws.run(0, &[]);
    let before = links_in(&ws.out());
    let [a, b, c, d] = pick(&before);
    assert_eq!(before[&a].person, before[&b].person);
    assert_ne!(before[&c].person, before[&d].person);

    let sheet = format!(
        "record_a,record_b,same_person,note\n{},{},no,checked in the source systems\n{},{},YES,\n\
         police:NOT-STAGED,{},no,\n{},{},,not decided\n",
        name(&a),
        name(&b),
        name(&c),
        name(&d),
        name(&c),
        name(&a),
        name(&c)
    );
    ws.write("decisions.csv", &sheet);
    let config = std::fs::read_to_string(ws.dir().join("tellonce.toml")).unwrap();
    assert!(!config.contains("[linkage]"), "the synthetic config sets no [linkage] of its own");
    ws.write("tellonce.toml", &(config.clone() + "\n[linkage]\ndecisions = \"decisions.csv\"\n"));

    // Nothing staged changed, but the decisions did: the build is not up to date.
    let built =
        json_stdout(&tellonce_ok(ws.dir(), &["build", "--config", "tellonce.toml", "--json"], 0))["linkage"].clone();
    assert_eq!(built["up_to_date"], false);
    let applied = &built["decisions"];
    assert_eq!((applied["same_person"].as_u64(), applied["not_same_person"].as_u64()), (Some(1), Some(2)));
    assert_eq!((applied["linked"].as_u64(), applied["refused"].as_u64()), (Some(1), Some(0)));
    assert_eq!((applied["kept_apart"].as_u64(), applied["not_found"].as_u64()), (Some(1), Some(1)));
    assert!(built["person_changes"]["splits"].as_u64().unwrap() >= 1, "{}", built["person_changes"]);
    assert!(built["person_changes"]["merges"].as_u64().unwrap() >= 1, "{}", built["person_changes"]);

    let after = links_in(&ws.out());
    assert_ne!(after[&a].person, after[&b].person, "decided two people: split");
    assert_eq!(after[&c].person, after[&d].person, "decided one person: linked");
    assert_eq!((after[&c].rule.as_str(), after[&d].rule.as_str()), ("decision", "decision"));

    let log = std::fs::read_to_string(ws.out().join("audit/audit.jsonl")).unwrap();
    let entry = log.lines().rev().find(|l| l.contains("\"type\":\"linkage_built\"")).unwrap();
    assert!(entry.contains(&sha256_of(&ws.dir().join("decisions.csv"))), "the file named by its hash: {entry}");
    tellonce_ok(ws.dir(), &["audit", "verify", "--config", "tellonce.toml"], 0);
    let report = ws.dir().join("report.html");
    let report_arg = report.to_str().unwrap();
    tellonce_ok(ws.dir(), &["audit", "report", "--config", "tellonce.toml", "--out", report_arg], 0);
    let html = std::fs::read_to_string(&report).unwrap();
    assert!(html.contains("one person 1 (1 linked, 0 refused), two people 2 (1 kept apart), 1 not staged"), "report");

    // The next build keeps them; the explanation gives the decision as the reason.
    let again =
        json_stdout(&tellonce_ok(ws.dir(), &["build", "--config", "tellonce.toml", "--json"], 0))["linkage"].clone();
    assert_eq!(again["up_to_date"], true);
    let explain_args = ["link-explain", "-c", "tellonce.toml", "--officer", "o1", "--reference", "case 1", "--json"];
    let mut args = explain_args.to_vec();
    let record = name(&a);
    args.extend(["--record", &record, "--limit", "1000"]);
    let explained = json_stdout(&tellonce_ok(ws.dir(), &args, 0));
    let pairs = explained["pairs"].as_array().unwrap();
    let with_b = pairs.iter().find(|p| p["other"]["record_ref"] == b.1.as_str() && p["other"]["feed"] == b.0.as_str());
    assert_eq!(with_b.expect("b among a's candidates")["verdict"], "decided_apart");

    // The review sheet, one pair decided: `link-review` tallies it by the side of the line.
    let sheet =
        String::from_utf8(tellonce_ok(ws.dir(), &["link-review", "-c", "tellonce.toml", "--csv"], 0).stdout).unwrap();
    let rows = parse_csv(&sheet);
    assert!(rows.len() > 1, "a review sample: {sheet}");
    let mut filled = rows[0].join(",") + "\n";
    let mut first = rows[1].clone();
    *first.last_mut().unwrap() = "yes".to_owned();
    first[5] = format!("\"{}\"", first[5]);
    filled.push_str(&(first.join(",") + "\n"));
    ws.write("sample.csv", &filled);
    let reviewed =
        text(&tellonce_ok(ws.dir(), &["link-review", "-c", "tellonce.toml", "--decisions", "sample.csv"], 0));
    let side = if first[2].parse::<f64>().unwrap() >= explained["threshold_bits"].as_f64().unwrap() {
        "at or above the line 1 of 1 one person"
    } else {
        "below it 1 of 1 one person"
    };
    assert!(reviewed.contains(&format!("(1 of {} pairs decided)", rows.len() - 1)), "{reviewed}");
    assert!(reviewed.contains(side), "{reviewed}");

    // A file that cannot be read as decisions stops the build, naming line and column, not the value.
    ws.write("decisions.csv", format!("record_a,record_b,same_person\n{},{},perhaps\n", name(&a), name(&b)));
    let refused = tellonce_ok(ws.dir(), &["build", "--config", "tellonce.toml"], 3);
    let why = text(&refused);
    assert!(why.contains("decisions.csv") && why.contains("line 2") && why.contains("same_person"), "{why}");
    assert!(!why.contains("perhaps"), "{why}");
}
