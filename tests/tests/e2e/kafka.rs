//! `tellonce stream` against a real Kafka-compatible broker (tansu, which `.ci/run` installs):
//! messages produced by an independent client (kafka-python), the stream killed with SIGKILL at
//! several moments and restarted, and every record written or quarantined exactly once.

use std::collections::BTreeSet;
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::*;
use tellonce_tests::{json_stdout, tellonce_bin, tellonce_ok};

/// A tansu broker on a free local port, stopped when dropped.
struct Broker {
    child: Child,
    address: String,
}

impl Drop for Broker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn tansu() -> String {
    std::env::var("TANSU_BIN").unwrap_or_else(|_| "tansu".to_owned())
}

fn start_broker() -> Broker {
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = format!("tcp://127.0.0.1:{port}");
    let child = Command::new(tansu())
        .args(["broker", "--storage-engine", "memory://tansu/", "--listener-url", &url, "--advertised-listener-url", &url])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| {
            panic!(
                "cannot start the tansu broker ({e}): install it with `cargo install tansu --version 0.6.0 --features dynostore` \
                 (.ci/run does) or set TANSU_BIN"
            )
        });
    let address = format!("127.0.0.1:{port}");
    let started = Instant::now();
    while TcpStream::connect(&address).is_err() {
        assert!(started.elapsed() < Duration::from_secs(30), "tansu did not listen on {address}");
        std::thread::sleep(Duration::from_millis(100));
    }
    Broker { child, address }
}

fn require_kafka_python() {
    let check = Command::new("python3").args(["-c", "import kafka"]).output();
    assert!(
        check.as_ref().is_ok_and(|o| o.status.success()),
        "kafka-python produces the test messages: run `python3 -m pip install -r .ci/requirements.txt`"
    );
}

/// Produces the synthetic police feed (and `poison` non-JSON messages); returns how many.
fn produce(dir: &Path, brokers: &str, topic: &str, poison: u32) -> u64 {
    let script = tellonce_tests::workspace_root().join("tests/python/kafka_produce.py");
    let out = Command::new("python3")
        .arg(&script)
        .args([brokers, topic, "3", "inputs/police.jsonl", &poison.to_string()])
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "{} failed:\n{}", script.display(), text(&out));
    json_stdout(&out)["produced"].as_u64().unwrap()
}

fn stream_config(ws: &Workspace, brokers: &str, topic: &str) {
    let path = ws.dir().join("tellonce.toml");
    let mut config = std::fs::read_to_string(&path).unwrap();
    config.push_str(&format!(
        "\n[stream]\nbrokers = \"{brokers}\"\ngroup_id = \"tellonce-e2e\"\nmax_batch_rows = 150\nmax_batch_ms = 250\n\
         [stream.properties]\n\"session.timeout.ms\" = \"6000\"\n\"heartbeat.interval.ms\" = \"1000\"\n\
         [[stream.topics]]\ntopic = \"{topic}\"\nfeed = \"police\"\n"
    ));
    std::fs::write(path, config).unwrap();
}

/// Every `record_id` in the police staging dataset, as often as it is there.
fn staged_record_ids(out: &Path) -> Vec<String> {
    visible_parquet(&out.join("staging/feed=police"))
        .iter()
        .flat_map(|p| parquet_column(p, "record_id"))
        .map(Option::unwrap)
        .collect()
}

#[test]
fn a_stream_killed_at_random_moments_writes_every_message_exactly_once() {
    require_kafka_python();
    let broker = start_broker();
    let ws = synth_workspace(4000, 31);
    let topic = "police-incidents";
    let produced = produce(ws.dir(), &broker.address, topic, 5);
    stream_config(&ws, &broker.address, topic);

    // Killed without warning (SIGKILL) part-way, three times, at moments fixed by a seed.
    let mut seed = 0x2545_f491_u64;
    for _ in 0..3 {
        let mut child = Command::new(tellonce_bin())
            .args(["stream", "--config", "tellonce.toml"])
            .current_dir(ws.dir())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        std::thread::sleep(Duration::from_millis(1500 + seed % 3000));
        child.kill().unwrap();
        child.wait().unwrap();
    }
    // Then run to the end.
    let out = tellonce_ok(
        ws.dir(),
        &["stream", "--config", "tellonce.toml", "--idle-exit-ms", "4000", "--json", "--build"],
        0,
    );
    let report = json_stdout(&out);
    let ids = staged_record_ids(&ws.out());
    let distinct: BTreeSet<&String> = ids.iter().collect();
    assert_eq!(distinct.len(), ids.len(), "a record was written twice");
    let quarantined = quarantine_entries(&ws.out()).len() as u64;
    assert_eq!(ids.len() as u64 + quarantined, produced, "written + quarantined != produced\n{report}");
    assert!(quarantined >= 5, "the poison messages are quarantined");
    // The killed sessions had written part of it: the last one only finished the rest.
    let last = report["stream"]["written"].as_u64().unwrap() + report["stream"]["quarantined"].as_u64().unwrap();
    assert!(last < produced, "the killed sessions wrote nothing, so the test proved nothing\n{report}");
    // The build ran over what the stream staged.
    assert!(report["linkage"]["persons"].as_u64().is_some_and(|p| p > 0), "{report}");
    // And the audit log, with every file it records, verifies.
    let verify = tellonce_ok(ws.dir(), &["audit", "verify", "--config", "tellonce.toml"], 0);
    assert!(text(&verify).contains("verifies"), "{}", text(&verify));
}

#[test]
fn sigterm_writes_the_batch_in_hand_commits_and_exits_0() {
    require_kafka_python();
    let broker = start_broker();
    let ws = synth_workspace(1500, 32);
    let topic = "police-sigterm";
    let produced = produce(ws.dir(), &broker.address, topic, 0);
    stream_config(&ws, &broker.address, topic);
    // Long batches, so that SIGTERM finds one open.
    let path = ws.dir().join("tellonce.toml");
    let config = std::fs::read_to_string(&path).unwrap().replace("max_batch_ms = 250", "max_batch_ms = 600000");
    std::fs::write(&path, config).unwrap();
    let child = Command::new(tellonce_bin())
        .args(["stream", "--config", "tellonce.toml", "--json"])
        .current_dir(ws.dir())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until it has read something (its session is in the audit log and the group joined).
    std::thread::sleep(Duration::from_secs(8));
    let term = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(term.success());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let report = json_stdout(&out);
    assert_eq!(report["stream"]["stopped"], "signalled", "{report}");
    let written = report["stream"]["written"].as_u64().unwrap() + report["stream"]["quarantined"].as_u64().unwrap();
    assert!(written > 0, "the batch in hand was not written: {report}");
    // What it wrote is committed: a second session reads only the rest.
    let again = json_stdout(&tellonce_ok(
        ws.dir(),
        &["stream", "--config", "tellonce.toml", "--idle-exit-ms", "3000", "--json"],
        0,
    ));
    let ids = staged_record_ids(&ws.out());
    let quarantined = quarantine_entries(&ws.out()).len() as u64;
    assert_eq!(ids.len() as u64 + quarantined, produced, "{report}\n{again}");
    assert_eq!(ids.iter().collect::<BTreeSet<_>>().len(), ids.len(), "a record written twice");
}
