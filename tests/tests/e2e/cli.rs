//! The command line: data dictionary, key creation, config errors, `quarantine list`.

use std::os::unix::fs::PermissionsExt;

use tellonce_tests::{tellonce, tellonce_ok};

use crate::support::*;

#[test]
fn schemas_list_lists_the_seven_feeds() {
    let ws = Workspace::bare();
    let out = tellonce_ok(ws.dir(), &["schemas", "list"], 0);
    let stdout = String::from_utf8(out.stdout).unwrap();
    let listed: Vec<&str> =
        stdout.lines().skip(1).filter(|l| !l.trim().is_empty()).map(|l| l.split_whitespace().next().unwrap()).collect();
    assert_eq!(listed, BUILT_IN_FEEDS, "{stdout}");
}

#[test]
fn schemas_show_police_shows_roles_and_the_staging_columns() {
    let ws = Workspace::bare();
    let out = tellonce_ok(ws.dir(), &["schemas", "show", "police"], 0);
    let stdout = String::from_utf8(out.stdout).unwrap();
    for role in ["direct identifier", "quasi-identifier", "event attribute", "record reference"] {
        assert!(stdout.contains(role), "no role {role:?}:\n{stdout}");
    }
    assert!(stdout.contains("criminal offence"), "{stdout}");
    let schema = tellonce_schemas::feed::latest("police").unwrap();
    for c in schema.columns {
        let line = stdout.lines().find(|l| l.split_whitespace().next() == Some(c.name));
        let line = line.unwrap_or_else(|| panic!("no line for column {}:\n{stdout}", c.name));
        assert!(line.contains(c.role.as_str()), "{line}");
        // What an invalid value does: identifiers nulled, the reference and event date quarantine.
        let want = schema.on_invalid(c).as_str();
        assert_eq!(line.split_whitespace().filter(|w| ["null", "quarantine"].contains(w)).collect::<Vec<_>>(), [want]);
    }
    let action = |name: &str| {
        let line = stdout.lines().find(|l| l.split_whitespace().next() == Some(name)).unwrap();
        ["null", "quarantine"].into_iter().find(|w| line.split_whitespace().any(|x| x == *w)).unwrap()
    };
    assert_eq!(
        ["pnc_id", "postcode", "date_of_birth", "record_id", "incident_date", "incident_type"].map(action),
        ["null", "null", "null", "quarantine", "quarantine", "quarantine"]
    );
    let (_, staging_part) = stdout.split_once("staging columns").expect("a staging columns section");
    let staged: Vec<&str> = staging_part.lines().skip(1).filter_map(|l| l.split_whitespace().next()).collect();
    let want: Vec<String> = tellonce_schemas::staging::columns(schema).into_iter().map(|c| c.name).collect();
    assert_eq!(staged, want, "{stdout}");
    for token in
        ["pnc_id_token", "forename_token", "date_of_birth_month", "postcode_outward", "_source", "_position", "_dq"]
    {
        assert!(staged.contains(&token), "{token}");
    }
    // No identifier passes in clear.
    for clear in ["pnc_id", "forename", "surname", "date_of_birth", "postcode", "address_line_1", "uprn"] {
        assert!(!staged.contains(&clear), "{clear} is a staging column");
    }

    let json = tellonce_ok(ws.dir(), &["schemas", "show", "police", "--json"], 0);
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(v["feed"], "police");
    let when = |name: &str| {
        v["columns"].as_array().unwrap().iter().find(|c| c["name"] == name).unwrap()["when_invalid"].clone()
    };
    assert_eq!((when("pnc_id"), when("incident_date")), ("null".into(), "quarantine".into()));
    let names: Vec<&str> =
        v["staging_columns"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(names, want);
}

#[test]
fn schemas_show_an_unknown_feed_exits_2() {
    let ws = Workspace::bare();
    let out = tellonce_ok(ws.dir(), &["schemas", "show", "nope"], 2);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("nope") && stderr.contains("police"), "{stderr}");
    assert!(out.stdout.is_empty());
}

#[test]
fn keys_new_creates_a_0600_key_and_never_overwrites_one() {
    let ws = Workspace::bare();
    let out = tellonce_ok(ws.dir(), &["keys", "new", "secrets/a.key"], 0);
    let key = ws.dir().join("secrets/a.key");
    assert_eq!(std::fs::metadata(&key).unwrap().permissions().mode() & 0o777, 0o600);
    let content = std::fs::read_to_string(&key).unwrap();
    let hex = content.trim_end();
    assert!(hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()), "key file content is not 64 hex");
    assert!(!text(&out).contains(hex), "keys new printed the key");

    let again = tellonce(ws.dir(), &["keys", "new", "secrets/a.key"]);
    assert_ne!(again.status.code(), Some(0), "keys new overwrote a key:\n{}", text(&again));
    assert!(text(&again).contains("secrets/a.key"), "{}", text(&again));
    assert_eq!(std::fs::read_to_string(&key).unwrap(), content, "the existing key changed");
    assert_eq!(std::fs::metadata(&key).unwrap().permissions().mode() & 0o777, 0o600);

    // Any existing file counts, not only a key.
    ws.write("other.txt", "not a key\n");
    assert_ne!(tellonce(ws.dir(), &["keys", "new", "other.txt"]).status.code(), Some(0));
    assert_eq!(std::fs::read_to_string(ws.dir().join("other.txt")).unwrap(), "not a key\n");
}

/// Runs `run` on `config` (its text), expecting exit 2, and returns stderr.
fn config_error(config: &str) -> String {
    let ws = Workspace::new();
    ws.write("inputs/a.csv", "record_id\n");
    ws.write("tellonce.toml", config);
    let out = tellonce_ok(ws.dir(), &["run", "--config", "tellonce.toml", "--no-progress"], 2);
    assert!(!ws.out().exists(), "a bad config wrote output");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn a_config_with_several_problems_exits_2_and_reports_all_of_them() {
    let stderr = config_error(
        r#"
[output]
dir = "output"
[keys]
file = "keys/tellonce.key"
[limits]
batch_rows = 0
max_line_bytes = 10
[[sources]]
feed = "polce"
path = "inputs/a.csv"
[[sources]]
feed = "camhs"
path = "inputs/b.pdf"
[[sources]]
feed = "camhs"
path = "inputs/c.csv"
schema_version = 9
[[sources]]
feed = "housing"
path = "inputs/d.csv"
[[sources]]
feed = "district"
path = "inputs/d.csv"
"#,
    );
    for problem in [
        "limits.batch_rows",
        "limits.max_line_bytes",
        "sources[0].feed",
        "sources[1].format",
        "sources[2].schema_version",
        "sources[4].path",
    ] {
        assert!(stderr.contains(problem), "{problem} not reported:\n{stderr}");
    }
    assert!(stderr.contains("6 problem(s)"), "{stderr}");
    assert!(stderr.contains("tellonce.toml"), "{stderr}");
}

#[test]
fn a_config_reports_a_path_listed_twice_even_when_the_first_entry_has_another_problem() {
    // The duplicate check must look at every earlier entry, not only the valid ones.
    let stderr = config_error(
        r#"
[output]
dir = "output"
[keys]
file = "keys/tellonce.key"
[[sources]]
feed = "camhs"
path = "inputs/c.csv"
schema_version = 9
[[sources]]
feed = "camhs"
path = "inputs/c.csv"
"#,
    );
    assert!(stderr.contains("sources[0].schema_version"), "{stderr}");
    assert!(stderr.contains("sources[1].path"), "the duplicated path is not reported:\n{stderr}");
}

#[test]
fn a_config_with_an_unknown_key_and_invalid_values_reports_all_of_them() {
    // README: "unknown keys are errors, and every problem is reported at once".
    let stderr = config_error(
        r#"
[output]
dir = "output"
colour = "blue"
[keys]
file = "keys/tellonce.key"
[limits]
batch_rows = 0
[[sources]]
feed = "polce"
path = "inputs/a.csv"
"#,
    );
    assert!(stderr.contains("colour"), "{stderr}");
    assert!(
        stderr.contains("limits.batch_rows") && stderr.contains("sources[0].feed"),
        "only the unknown key is reported:\n{stderr}"
    );
}

#[test]
fn quarantine_list_shows_counts_by_feed_rule_and_column_but_no_values() {
    let ws = Workspace::new();
    let police = "record_id,occurrence_ref,pnc_id,forename,surname,incident_date,incident_type,person_role\n\
                  P1,O1,2012/0052834K,Ann,Lee,2024-01-05,CRIME,VICTIM\n\
                  P2,O2,2012/0052834K,Listsecret,Lee,2023-02-30,CRIME,VICTIM\n\
                  P3,O3,2012/0052834K,Ann,Lee,2023-02-31,CRIME,VICTIM\n\
                  P4,O4,,Ann,Lee,2024-01-05,NOTACODE,VICTIM\n";
    ws.write("inputs/police.csv", police);
    ws.config(&[("police", "inputs/police.csv")], "");
    let run = ws.run(0, &[]);
    let by_rule = run.by_rule("inputs/police.csv");
    assert_eq!(by_rule.get("date.calendar"), Some(&2), "{by_rule:?}");
    assert_eq!(by_rule.get("code.unknown"), Some(&1), "{by_rule:?}");

    let (list, list_json) = ws.quarantine_list();
    let stdout = String::from_utf8_lossy(&list.stdout).into_owned();
    let line = |rule: &str| stdout.lines().find(|l| l.contains(rule)).unwrap_or_else(|| panic!("{rule}:\n{stdout}"));
    let date = line("date.calendar");
    assert!(date.contains("police") && date.contains("incident_date") && date.contains("inputs/police.csv"), "{date}");
    assert!(date.split_whitespace().any(|w| w == "2"), "{date}");
    let code = line("code.unknown");
    assert!(code.contains("incident_type") && code.split_whitespace().any(|w| w == "1"), "{code}");
    assert!(stdout.contains("3 quarantined record(s)"), "{stdout}");

    let rows: serde_json::Value = serde_json::from_slice(&list_json.stdout).unwrap();
    let total: u64 = rows.as_array().unwrap().iter().map(|r| r["count"].as_u64().unwrap()).sum();
    assert_eq!(total, 3, "{rows:#}");
    assert!(rows.as_array().unwrap().iter().any(|r| r["rule"] == "date.calendar" && r["count"] == 2));

    assert_absent(
        &[b"2023-02-30", b"2023-02-31", b"Listsecret", b"LISTSECRET", b"NOTACODE"],
        &[&run.output, &list, &list_json],
        &ws.out(),
    );
}

/// Runs `tellonce` with its stdout a pipe whose reader is already gone (as `| head -1` leaves
/// it once head has its line), returning the exit code and stderr.
fn tellonce_into_closed_pipe(dir: &std::path::Path, args: &[&str]) -> (Option<i32>, String) {
    let mut child = std::process::Command::new(tellonce_tests::tellonce_bin())
        .args(args)
        .current_dir(dir)
        .env_remove("TELLONCE_LOG")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Closing the read end before the process writes: its first write gets EPIPE.
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn writing_to_a_closed_stdout_ends_quietly_with_the_commands_own_exit_code() {
    let ws = Workspace::new();
    ws.write(
        "inputs/police.csv",
        "record_id,occurrence_ref,forename,surname,incident_date,incident_type,person_role\n\
         P1,O1,Ann,Lee,2024-01-05,CRIME,VICTIM\n",
    );
    ws.config(&[("police", "inputs/police.csv")], "");
    // The run itself finishes (its input is marked done) although nobody reads its summary.
    let (code, stderr) = tellonce_into_closed_pipe(ws.dir(), &["run", "--config", "tellonce.toml", "--no-progress"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(!stderr.contains("panicked") && !stderr.contains("Broken pipe"), "{stderr}");
    let again = ws.run(0, &[]);
    assert_eq!(again.input("inputs/police.csv")["status"], "skipped", "{:#}", again.summary);
    for args in [
        &["audit", "verify", "--config", "tellonce.toml"][..],
        &["schemas", "show", "police"],
        &["schemas", "show", "police", "--json"],
        &["quarantine", "list", "--config", "tellonce.toml"],
        &["isa", "explain", "--config", "tellonce.toml", "--feed", "police"],
    ] {
        let (code, stderr) = tellonce_into_closed_pipe(ws.dir(), args);
        assert_eq!(code, Some(0), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked") && !stderr.contains("Broken pipe"), "{args:?}: {stderr}");
    }
    // A verification failure keeps its exit code (5) when nobody reads the message.
    let log = ws.out().join("audit/audit.jsonl");
    let text = std::fs::read_to_string(&log).unwrap().replacen("\"seq\":1", "\"seq\":7", 1);
    std::fs::write(&log, text).unwrap();
    let (code, stderr) = tellonce_into_closed_pipe(ws.dir(), &["audit", "verify", "--config", "tellonce.toml"]);
    assert_eq!(code, Some(5), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}
