//! `tellonce stream` against a real Kafka-compatible broker (tansu, which `.ci/run` installs):
//! messages produced by an independent client (kafka-python), the stream killed with SIGKILL at
//! several moments and restarted, and every record written or quarantined exactly once.

use std::collections::{BTreeMap, BTreeSet};
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
    produced(spawn_producer(dir, brokers, topic, "inputs/police.jsonl", poison, 0))
}

/// Starts the independent producer on `file` (3 partitions), `per_second` messages a second (0:
/// as fast as it can).
fn spawn_producer(dir: &Path, brokers: &str, topic: &str, file: &str, poison: u32, per_second: u32) -> Child {
    let script = tellonce_tests::workspace_root().join("tests/python/kafka_produce.py");
    Command::new("python3")
        .arg(&script)
        .args([brokers, topic, "3", file, &poison.to_string(), &per_second.to_string()])
        .current_dir(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// How many messages a producer sent, once it has finished.
fn produced(producer: Child) -> u64 {
    let out = producer.wait_with_output().unwrap();
    assert!(out.status.success(), "the producer failed:\n{}", text(&out));
    json_stdout(&out)["produced"].as_u64().unwrap()
}

/// Creates the topic with no messages, so that sessions can join before traffic starts.
fn create_topic(dir: &Path, brokers: &str, topic: &str) {
    std::fs::write(dir.join("empty.jsonl"), "").unwrap();
    assert_eq!(produced(spawn_producer(dir, brokers, topic, "empty.jsonl", 0, 0)), 0);
}

/// Starts a stream session that stops once idle for `idle_ms`, its JSON report on stdout.
fn spawn_stream(dir: &Path, idle_ms: u64) -> Child {
    Command::new(tellonce_bin())
        .args(["stream", "--config", "tellonce.toml", "--json", "--idle-exit-ms", &idle_ms.to_string()])
        .current_dir(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Starts a stream session like [`spawn_stream`], its log written to `log` in `dir`.
fn spawn_logged_stream(dir: &Path, idle_ms: u64, log: &str) -> Child {
    Command::new(tellonce_bin())
        .args(["stream", "--config", "tellonce.toml", "--json", "--idle-exit-ms", &idle_ms.to_string()])
        .current_dir(dir)
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(dir.join(log)).unwrap())
        .spawn()
        .unwrap()
}

/// Waits until the log at `path` holds `needle`.
fn wait_for_log(path: &Path, needle: &str, within: Duration) {
    let started = Instant::now();
    while !std::fs::read_to_string(path).unwrap_or_default().contains(needle) {
        assert!(started.elapsed() < within, "{} did not say {needle:?} within {within:?}", path.display());
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A finished session's report (it must have exited 0).
fn stream_report(session: Child) -> serde_json::Value {
    let out = session.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    json_stdout(&out)["stream"].clone()
}

/// Runs sessions one after another until one stops because it went idle, and returns their
/// reports. A broker may keep a killed member in the group for a while, and a session that joins
/// then can stop with no partition assigned; the test waits on the condition (nothing left to
/// read), not on a fixed time.
fn drain(dir: &Path, idle_ms: u64) -> Vec<serde_json::Value> {
    let mut reports = Vec::new();
    while reports.len() < 5 {
        let report = stream_report(spawn_stream(dir, idle_ms));
        let idle = report["stopped"] == "idle";
        reports.push(report);
        if idle {
            return reports;
        }
    }
    panic!("no session went idle in {} tries: {reports:?}", reports.len());
}

/// Messages a session's report says it wrote or quarantined.
fn handled(report: &serde_json::Value) -> u64 {
    report["written"].as_u64().unwrap() + report["quarantined"].as_u64().unwrap()
}

/// The `stream_batch_committed` entries of the audit log written by the session with process id
/// `pid` (its run id ends with it).
fn committed_batches(out: &Path, pid: u32) -> usize {
    let run = format!("-{pid}\"");
    std::fs::read_to_string(out.join("audit/audit.jsonl"))
        .unwrap_or_default()
        .lines()
        .filter(|l| l.contains("\"type\":\"stream_batch_committed\"") && l.contains(&run))
        .count()
}

/// Waits until the session with process id `pid` has committed a batch.
fn wait_for_a_batch(out: &Path, pid: u32, within: Duration) {
    let started = Instant::now();
    while committed_batches(out, pid) == 0 {
        assert!(started.elapsed() < within, "session {pid} committed no batch within {within:?}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Every message is in the output once, written or quarantined, and the audit log verifies.
fn assert_exactly_once(ws: &Workspace, produced: u64, context: &str) {
    let ids = staged_record_ids(&ws.out());
    let distinct: BTreeSet<&String> = ids.iter().collect();
    assert_eq!(distinct.len(), ids.len(), "a record was written twice\n{context}");
    let quarantined = quarantine_entries(&ws.out()).len() as u64;
    assert_eq!(ids.len() as u64 + quarantined, produced, "written + quarantined != produced\n{context}");
    let verify = tellonce_ok(ws.dir(), &["audit", "verify", "--config", "tellonce.toml"], 0);
    assert!(text(&verify).contains("verifies"), "{}", text(&verify));
}

fn stream_config(ws: &Workspace, brokers: &str, topic: &str) {
    stream_config_for(ws, brokers, topic, "police");
}

/// Adds a `[stream]` reading `topic` as `feed` to the workspace's config.
fn stream_config_for(ws: &Workspace, brokers: &str, topic: &str, feed: &str) {
    let path = ws.dir().join("tellonce.toml");
    let mut config = std::fs::read_to_string(&path).unwrap();
    config.push_str(&format!(
        "\n[stream]\nbrokers = \"{brokers}\"\ngroup_id = \"tellonce-e2e\"\nmax_batch_rows = 150\nmax_batch_ms = 250\n\
         [stream.properties]\n\"session.timeout.ms\" = \"6000\"\n\"heartbeat.interval.ms\" = \"1000\"\n\
         [[stream.topics]]\ntopic = \"{topic}\"\nfeed = \"{feed}\"\n"
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
    let dead = "tellonce-dead-letter";
    create_topic(ws.dir(), &broker.address, dead);
    let config = ws.dir().join("tellonce.toml");
    let text_of = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        text_of.replace("[stream.properties]", &format!("dead_letter_topic = \"{dead}\"\n[stream.properties]")),
    )
    .unwrap();

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
    assert_dead_letters(&ws, &broker.address, dead, topic);
}

/// Every quarantined message is on the dead-letter topic at least once (a session killed after
/// sending but before committing sends again), as its sealed quarantine entry: nothing else is
/// there, and no clear identifier.
fn assert_dead_letters(ws: &Workspace, brokers: &str, dead: &str, topic: &str) {
    use tellonce_connectors::quarantine::QuarantineEntry;
    let script = tellonce_tests::workspace_root().join("tests/python/kafka_consume.py");
    let out = Command::new("python3").arg(&script).args([brokers, dead, "5"]).output().unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let letters: Vec<serde_json::Value> =
        String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    // The position of a stream entry is its offset; its partition is in its source.
    let key_of = |q: &Quarantined| {
        let partition = q.source.rsplit_once('/').and_then(|(_, p)| p.split_once('@')).map(|(p, _)| p.to_owned());
        (format!("{topic}@{}@{}", partition.unwrap(), q.position), q.rule.clone())
    };
    let quarantined: BTreeSet<(String, String)> = quarantine_entries(&ws.out()).iter().map(key_of).collect();
    let keyring = tellonce_governance::KeyRing::load(&ws.dir().join("keys/tellonce.key")).unwrap();
    let sealer = keyring.sealer();
    let mut sent = BTreeSet::new();
    let inputs = std::fs::read_to_string(ws.dir().join("inputs/police.jsonl")).unwrap();
    let clear: BTreeSet<String> = inputs
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .flat_map(|v| [v["surname"].as_str().map(str::to_owned), v["pnc_id"].as_str().map(str::to_owned)])
        .flatten()
        .filter(|s| s.len() >= 7)
        .collect();
    for letter in &letters {
        let value = letter["value"].as_str().unwrap();
        let entry: QuarantineEntry = serde_json::from_str(value).unwrap();
        assert_eq!(letter["headers"]["tellonce.rule"].as_str(), Some(entry.rule.as_str()), "{letter}");
        let partition = letter["headers"]["tellonce.partition"].as_str().unwrap();
        assert_eq!(letter["key"].as_str().unwrap(), format!("{topic}@{partition}@{}", entry.position));
        let raw = sealer.open(&entry.aad(), &entry.sealed).expect("a dead letter opens under the quarantine key");
        if entry.rule == "json.malformed" {
            assert_eq!(raw, b"this is not JSON");
        }
        for c in &clear {
            assert!(!value.contains(c.as_str()), "a clear identifier on the dead-letter topic");
        }
        sent.insert((letter["key"].as_str().unwrap().to_owned(), entry.rule));
    }
    assert_eq!(sent, quarantined, "the dead-letter topic and the quarantine hold other messages");
    assert!(letters.len() >= quarantined.len());
}

/// `GET /metrics` from a session's endpoint.
fn scrape(port: u16) -> String {
    use std::io::{Read, Write};
    let mut conn = TcpStream::connect(("127.0.0.1", port)).unwrap();
    conn.write_all(b"GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n").unwrap();
    let mut text = String::new();
    conn.read_to_string(&mut text).unwrap();
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    text
}

/// The value of one metric in a scrape.
fn metric(scraped: &str, name: &str) -> f64 {
    let line =
        scraped.lines().find(|l| l.starts_with(&format!("{name} "))).unwrap_or_else(|| panic!("{name} in {scraped}"));
    line[name.len() + 1..].parse().unwrap()
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
    // And a metrics endpoint, scraped while the session runs.
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let config = std::fs::read_to_string(&path)
        .unwrap()
        .replace("max_batch_ms = 250", "max_batch_ms = 600000")
        .replace("[stream]\n", &format!("[stream]\nmetrics_address = \"127.0.0.1:{port}\"\n"));
    std::fs::write(&path, config).unwrap();
    let child = Command::new(tellonce_bin())
        .args(["stream", "--config", "tellonce.toml", "--json"])
        .current_dir(ws.dir())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until it has read something (the group joined and messages came).
    let started = Instant::now();
    let scraped = loop {
        let scraped = TcpStream::connect(("127.0.0.1", port)).is_ok().then(|| scrape(port));
        if let Some(s) = scraped.filter(|s| metric(s, "tellonce_stream_messages_received_total") > 0.0) {
            break s;
        }
        assert!(started.elapsed() < Duration::from_secs(60), "the endpoint showed no message read within 60 s");
        std::thread::sleep(Duration::from_millis(200));
    };
    // Nothing is written yet: the one batch is still open.
    assert_eq!(metric(&scraped, "tellonce_stream_records_written_total"), 0.0, "{scraped}");
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

/// Sends SIGTERM to a session whose log is at `log`, and returns its report once it has ended
/// with exit code 0, having said that it ends without its last commit confirmed; fails if it
/// takes more than 90 s.
fn terminated_within_90_s(mut child: Child, log: &Path) -> serde_json::Value {
    assert!(Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap().success());
    let asked = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if asked.elapsed() > Duration::from_secs(90) {
            let _ = child.kill();
            let log = std::fs::read_to_string(log).unwrap_or_default();
            panic!("the session did not end within 90 s of SIGTERM with the broker stalled\n{log}");
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let log = std::fs::read_to_string(log).unwrap_or_default();
    assert_eq!(status.code(), Some(0), "{log}");
    assert!(log.contains("ends without its last offset commit confirmed"), "{log}");
    json_stdout(&child.wait_with_output().unwrap())["stream"].clone()
}

#[test]
fn sigterm_with_the_broker_stalled_and_nothing_read_still_ends_the_session() {
    require_kafka_python();
    let broker = start_broker();
    let ws = synth_workspace(50, 39);
    let topic = "police-quiet";
    create_topic(ws.dir(), &broker.address, topic);
    stream_config(&ws, &broker.address, topic);
    let child = spawn_logged_stream(ws.dir(), 600_000, "session.log");
    wait_for_log(&ws.dir().join("session.log"), "partitions assigned", Duration::from_secs(60));
    // Nothing to commit: the session still asks the broker before it leaves, and ends in time.
    assert!(Command::new("kill").args(["-STOP", &broker.child.id().to_string()]).status().unwrap().success());
    let report = terminated_within_90_s(child, &ws.dir().join("session.log"));
    assert_eq!(report["stopped"], "signalled", "{report}");
    assert_eq!(report["received"], 0, "{report}");
    assert!(Command::new("kill").args(["-CONT", &broker.child.id().to_string()]).status().unwrap().success());
}

#[test]
fn sigterm_with_the_broker_stalled_ends_the_session_and_loses_nothing() {
    require_kafka_python();
    let broker = start_broker();
    let ws = synth_workspace(800, 38);
    let topic = "police-stalled";
    // Paced, one message to a record batch: tansu 0.6 reports a log end short of the last offset
    // for batches of several, and the next session compares the two (the last commit not being
    // sent, it starts below what the audit log records as written).
    let produced = produced(spawn_producer(ws.dir(), &broker.address, topic, "inputs/police.jsonl", 0, 150));
    stream_config(&ws, &broker.address, topic);
    let path = ws.dir().join("tellonce.toml");
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let config = std::fs::read_to_string(&path)
        .unwrap()
        .replace("max_batch_ms = 250", "max_batch_ms = 600000")
        .replace("max_batch_rows = 150", "max_batch_rows = 100000")
        .replace("[stream]\n", &format!("[stream]\nmetrics_address = \"127.0.0.1:{port}\"\n"));
    std::fs::write(&path, config).unwrap();
    let child = spawn_logged_stream(ws.dir(), 600_000, "session.log");
    // Every message read into the one open batch.
    let started = Instant::now();
    while !TcpStream::connect(("127.0.0.1", port))
        .is_ok_and(|_| metric(&scrape(port), "tellonce_stream_messages_received_total") >= produced as f64)
    {
        assert!(started.elapsed() < Duration::from_secs(60), "the session did not read every message within 60 s");
        std::thread::sleep(Duration::from_millis(200));
    }
    // The broker stalls: up, its connections open, answering nothing.
    let broker_pid = broker.child.id().to_string();
    assert!(Command::new("kill").args(["-STOP", &broker_pid]).status().unwrap().success());
    let report = terminated_within_90_s(child, &ws.dir().join("session.log"));
    assert_eq!(report["stopped"], "signalled", "{report}");
    // The batch in hand was written before the session ended.
    assert_eq!(handled(&report), produced, "{report}");
    // Resumed, the broker may still hold the old offsets: the next sessions start from the audit
    // log's record of what is durable and stage nothing twice.
    assert!(Command::new("kill").args(["-CONT", &broker_pid]).status().unwrap().success());
    let drained = drain(ws.dir(), 3000);
    assert!(drained.iter().all(|r| handled(r) == 0), "{drained:?}");
    assert_exactly_once(&ws, produced, &format!("{report}\n{drained:?}"));
}

#[test]
fn two_sessions_in_one_group_split_the_partitions_and_a_build_runs_beside_them() {
    require_kafka_python();
    let broker = start_broker();
    let ws = synth_workspace(3000, 33);
    let topic = "police-shared";
    create_topic(ws.dir(), &broker.address, topic);
    stream_config(&ws, &broker.address, topic);
    // Both join the group before any traffic, so that each is given partitions: the second is
    // assigned only in the generation that also gives the first its share.
    let a = spawn_logged_stream(ws.dir(), 10_000, "a.log");
    let b = spawn_logged_stream(ws.dir(), 10_000, "b.log");
    for log in ["a.log", "b.log"] {
        wait_for_log(&ws.dir().join(log), "partitions assigned", Duration::from_secs(60));
    }
    let producer = spawn_producer(ws.dir(), &broker.address, topic, "inputs/police.jsonl", 3, 300);
    // A build while both sessions write: it shares the output with them.
    wait_for_a_batch(&ws.out(), a.id(), Duration::from_secs(60));
    let build = tellonce_ok(ws.dir(), &["build", "--config", "tellonce.toml"], 0);
    let produced = produced(producer);
    let (a_pid, b_pid) = (a.id(), b.id());
    let (a, b) = (stream_report(a), stream_report(b));
    assert!(handled(&a) > 0 && handled(&b) > 0, "one session was given no partition\n{a}\n{b}");
    let out = ws.out();
    assert_eq!(committed_batches(&out, a_pid) as u64, a["batches"].as_u64().unwrap(), "{a}");
    assert_eq!(committed_batches(&out, b_pid) as u64, b["batches"].as_u64().unwrap(), "{b}");
    assert_eq!(handled(&a) + handled(&b), produced, "{a}\n{b}");
    assert_exactly_once(&ws, produced, &format!("{a}\n{b}\n{}", text(&build)));
}

#[test]
fn a_session_joining_under_traffic_and_another_killed_lose_and_double_nothing() {
    require_kafka_python();
    let broker = start_broker();
    let ws = synth_workspace(3000, 34);
    let topic = "police-rebalanced";
    create_topic(ws.dir(), &broker.address, topic);
    stream_config(&ws, &broker.address, topic);
    let mut a = spawn_stream(ws.dir(), 60_000);
    let out = ws.out();
    // Slow traffic, so that it is still flowing while B joins and A dies.
    let producer = spawn_producer(ws.dir(), &broker.address, topic, "inputs/police.jsonl", 2, 60);
    wait_for_a_batch(&out, a.id(), Duration::from_secs(30));
    // B joins while A is writing: the group rebalances under traffic.
    let b = spawn_stream(ws.dir(), 10_000);
    let b_pid = b.id();
    wait_for_a_batch(&out, b_pid, Duration::from_secs(30));
    // Then A dies without warning, perhaps mid-batch.
    let a_pid = a.id();
    a.kill().unwrap();
    a.wait().unwrap();
    let produced = produced(producer);
    let b = stream_report(b);
    // tansu 0.6 leaves a killed member's partitions assigned to it while another member stays
    // in the group (a broker that evicts it at the session timeout gives them to B), so a
    // third session, joining once B has left, reads what A left unwritten.
    let c = json_stdout(&tellonce_ok(
        ws.dir(),
        &["stream", "--config", "tellonce.toml", "--idle-exit-ms", "4000", "--json"],
        0,
    ))["stream"]
        .clone();
    let (by_a, by_b) = (committed_batches(&out, a_pid), committed_batches(&out, b_pid));
    assert_eq!(by_b as u64, b["batches"].as_u64().unwrap(), "{b}");
    assert!(by_a > 0 && by_b > 0, "both sessions should have written batches: A {by_a}, B {by_b}\n{b}");
    assert!(handled(&b) + handled(&c) < produced, "A's part proved nothing\n{b}\n{c}");
    assert_exactly_once(&ws, produced, &format!("{b}\n{c}"));
}

#[test]
fn a_topic_made_again_is_refused_until_reset_then_read_afresh_beside_the_old_files() {
    require_kafka_python();
    let ws = synth_workspace(800, 37);
    let topic = "police-incidents";
    let first = start_broker();
    let before = produce(ws.dir(), &first.address, topic, 0);
    stream_config(&ws, &first.address, topic);
    let one = stream_report(spawn_stream(ws.dir(), 3000));
    assert_eq!(handled(&one), before, "{one}");
    let old_files = visible_parquet(&ws.out().join("staging/feed=police"));

    // The topic is made again (a fresh broker): its offsets start from 0 and it holds fewer
    // messages than the output recorded, so a session refuses it and writes nothing.
    let old_address = first.address.clone();
    drop(first);
    let second = start_broker();
    let config = ws.dir().join("tellonce.toml");
    let text_of = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, text_of.replace(&old_address, &second.address)).unwrap();
    // The new topic carries half the records again, each corrected (a record sent again as it
    // was would be held already, and not staged again).
    std::fs::write(ws.dir().join("half.jsonl"), {
        let all = std::fs::read_to_string(ws.dir().join("inputs/police.jsonl")).unwrap();
        let half: Vec<String> = all
            .lines()
            .take(all.lines().count() / 2)
            .enumerate()
            .map(|(i, l)| {
                let mut v: serde_json::Value = serde_json::from_str(l).unwrap();
                v["address_line_1"] = serde_json::Value::from(format!("{i} RESET ROAD"));
                v.to_string()
            })
            .collect();
        half.join("\n") + "\n"
    })
    .unwrap();
    let after = produced(spawn_producer(ws.dir(), &second.address, topic, "half.jsonl", 0, 0));
    let refused = tellonce_ok(ws.dir(), &["stream", "--config", "tellonce.toml", "--idle-exit-ms", "3000"], 3);
    assert!(text(&refused).contains("tellonce stream-reset --topic police-incidents"), "{}", text(&refused));
    assert_eq!(visible_parquet(&ws.out().join("staging/feed=police")), old_files);

    // A reset needs a reason; with one, it opens epoch 1 and the topic is read from its start.
    let no_reason =
        tellonce_ok(ws.dir(), &["stream-reset", "--config", "tellonce.toml", "--topic", topic, "--reason", " "], 2);
    assert!(text(&no_reason).contains("reason"), "{}", text(&no_reason));
    let reset = tellonce_ok(
        ws.dir(),
        &[
            "stream-reset",
            "--config",
            "tellonce.toml",
            "--topic",
            topic,
            "--reason",
            "topic recreated (CHG-7)",
            "--json",
        ],
        0,
    );
    let reset = json_stdout(&reset);
    assert_eq!(reset["epoch"], 1, "{reset}");
    let two = stream_report(spawn_stream(ws.dir(), 3000));
    assert_eq!(handled(&two), after, "{two}");
    assert_eq!(two["skipped"], 0, "{two}");

    // The old files keep their names; the new ones carry the epoch; the log verifies and its
    // report shows the reset with its reason.
    let files = visible_parquet(&ws.out().join("staging/feed=police"));
    assert!(old_files.iter().all(|f| files.contains(f)));
    let new: Vec<_> = files.iter().filter(|f| !old_files.contains(f)).collect();
    assert!(!new.is_empty() && new.iter().all(|f| f.to_string_lossy().contains("@1-")), "{new:?}");
    // Each record once: the corrected ones supersede the versions the old topic brought.
    assert_eq!(two["written"], two["versions"]["changed"], "{two}");
    assert_eq!(staged_record_ids(&ws.out()).len() as u64, one["written"].as_u64().unwrap());
    assert_eq!(police_history(&ws.out()).len() as u64, two["written"].as_u64().unwrap());
    let verify = tellonce_ok(ws.dir(), &["audit", "verify", "--config", "tellonce.toml"], 0);
    assert!(text(&verify).contains("verifies"), "{}", text(&verify));
    tellonce_ok(ws.dir(), &["audit", "report", "--config", "tellonce.toml", "--out", "report.html"], 0);
    let html = std::fs::read_to_string(ws.dir().join("report.html")).unwrap();
    assert!(html.contains("Stream progress resets") && html.contains("topic recreated (CHG-7)"));
}

/// Starts a stream session armed to abort (as `kill -9` would end it) at the `at`th time it
/// reaches fault point `point` (see `pipeline/src/faults.rs`).
fn spawn_crashing_stream(dir: &Path, idle_ms: u64, point: &str, at: u64) -> Child {
    Command::new(tellonce_bin())
        .args(["stream", "--config", "tellonce.toml", "--json", "--idle-exit-ms", &idle_ms.to_string()])
        .env("TELLONCE_FAULT", format!("{point}:{at}"))
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// The partition a stream record came from, from its `_source` (`kafka:TOPIC/PARTITION@…`).
fn partition_of(source: &str) -> i32 {
    let (_, rest) = source.rsplit_once('/').unwrap_or_else(|| panic!("not a stream source: {source}"));
    rest.split_once('@').map_or(rest, |(p, _)| p).parse().unwrap()
}

/// Every `(partition, offset)` the output holds, staged or quarantined, as often as it does.
fn held_offsets(out: &Path) -> Vec<(i32, u64)> {
    let mut held = Vec::new();
    for file in visible_parquet(&out.join("staging/feed=police")) {
        let sources = parquet_column(&file, "_source");
        let positions = parquet_column(&file, "_position");
        for (s, p) in sources.into_iter().zip(positions) {
            held.push((partition_of(&s.unwrap()), p.unwrap().parse().unwrap()));
        }
    }
    held.extend(quarantine_entries(out).iter().map(|q| (partition_of(&q.source), q.position)));
    held
}

#[test]
fn sessions_crashed_with_a_batch_open_skip_no_offset_of_any_partition() {
    use std::os::unix::process::ExitStatusExt;
    require_kafka_python();
    let broker = start_broker();
    let ws = synth_workspace(12_000, 38);
    let topic = "police-crashes";
    let produced = produce(ws.dir(), &broker.address, topic, 4);
    stream_config(&ws, &broker.address, topic);
    // Small batches, so that a session commits several before its crash and partitions resume
    // from many different offsets (most inside a producer's record batch).
    let path = ws.dir().join("tellonce.toml");
    let config = std::fs::read_to_string(&path).unwrap().replace("max_batch_rows = 150", "max_batch_rows = 20");
    std::fs::write(&path, config).unwrap();

    // Two sessions of one group at a time, each crashing at a point the test chooses: most just
    // after taking a message into an open batch (some messages in, with others of the same
    // partition committed before it), some between publishing a batch and recording it, some
    // between recording it and committing its offsets. Their crashes move partitions between
    // them, so that batches open at a crash are taken over by another session.
    let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
    let mut next = move |n: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % n
    };
    let (mut open_batch_crashes, mut other_crashes, mut cycles) = (0, 0, 0);
    let mut logs = String::new();
    while open_batch_crashes < 20 && cycles < 40 {
        cycles += 1;
        let sessions: Vec<(Child, &str)> = (0..2)
            .map(|_| {
                let (point, at) = match next(10) {
                    0 => ("stream.batch_published", 1 + next(3)),
                    1 => ("stream.batch_recorded", 1 + next(3)),
                    _ => ("stream.message", 1 + next(120)),
                };
                (spawn_crashing_stream(ws.dir(), 3000, point, at), point)
            })
            .collect();
        for (session, point) in sessions {
            let out = session.wait_with_output().unwrap();
            logs.push_str(&String::from_utf8_lossy(&out.stderr));
            match out.status.signal() {
                Some(6) if point == "stream.message" => open_batch_crashes += 1,
                Some(6) => other_crashes += 1,
                // A session whose point was never reached ran out of messages and went idle.
                _ => assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr)),
            }
        }
    }
    assert!(open_batch_crashes >= 20, "only {open_batch_crashes} crashes with a batch open in {cycles} cycles");

    // Then run to the end, and reconcile every offset of every partition.
    let last = drain(ws.dir(), 4000);
    let last_handled: u64 = last.iter().map(handled).sum();
    let last = serde_json::Value::Array(last);
    let held = held_offsets(&ws.out());
    let distinct: BTreeSet<(i32, u64)> = held.iter().copied().collect();
    assert_eq!(distinct.len(), held.len(), "an offset was written twice");
    assert_eq!(held.len() as u64, produced, "held != produced: {last}");
    let mut partitions: std::collections::BTreeMap<i32, Vec<u64>> = std::collections::BTreeMap::new();
    for (p, o) in distinct {
        partitions.entry(p).or_default().push(o);
    }
    assert_eq!(partitions.len(), 3, "{partitions:?}");
    for (p, offsets) in &partitions {
        // In order, each partition's offsets are 0, 1, 2, … with none missing.
        let skipped: Vec<u64> =
            (0..offsets.len() as u64).filter(|o| offsets.binary_search(o).is_err()).take(10).collect();
        assert!(skipped.is_empty(), "partition {p}: offsets never staged nor quarantined (first ten): {skipped:?}");
    }
    assert!(last_handled < produced, "the crashed sessions wrote nothing, so the test proved nothing\n{last}");
    eprintln!("{open_batch_crashes} crashes with a batch open and {other_crashes} others in {cycles} cycles");
    let verify = tellonce_ok(ws.dir(), &["audit", "verify", "--config", "tellonce.toml"], 0);
    assert!(text(&verify).contains("verifies"), "{}", text(&verify));
    // Nothing the crashed sessions printed, nor anything under the output, holds a clear
    // identifier of the messages.
    let ids = Identifiers::from_inputs(&[ws.dir().join("inputs/police.jsonl")]);
    let mut leaks: Vec<String> = ids.find(&logs).into_iter().map(|h| format!("session logs: {h}")).collect();
    for f in tellonce_tests::files_under(&ws.out()) {
        let text = String::from_utf8_lossy(&std::fs::read(&f).unwrap()).into_owned();
        leaks.extend(ids.find(&text).into_iter().map(|h| format!("{}: {h}", f.display())));
        if f.extension().is_some_and(|e| e == "parquet") && !is_hidden(&f) {
            leaks.extend(parquet_strings(&f).iter().flat_map(|v| ids.find(v)).map(|h| format!("{}: {h}", f.display())));
        }
    }
    assert!(leaks.is_empty(), "{} clear identifier(s) leaked:\n{}", leaks.len(), leaks.join("\n"));
}

/// A feed defined only as a file in the deployment's `feeds/` (the substance misuse service's),
/// read from a topic: the stream loads the definition through the config, as `run` does, and
/// stages, pseudonymises and audits its messages like a built-in feed's.
#[test]
fn a_feed_defined_only_as_a_file_streams_like_a_built_in_one() {
    require_kafka_python();
    let broker = start_broker();
    let ws = synth_workspace(4000, 41);
    let feed = "substance_misuse";
    assert!(ws.dir().join(format!("feeds/{feed}.toml")).exists(), "synth writes the definition");
    let records = read_records(&ws.dir().join(format!("inputs/{feed}.csv")));
    assert!(records.len() > 20, "too few synthetic records to prove anything: {}", records.len());
    let lines: Vec<String> = records
        .iter()
        .map(|r| serde_json::to_string(&r.iter().filter(|(_, v)| !v.is_empty()).collect::<BTreeMap<_, _>>()).unwrap())
        .collect();
    std::fs::write(ws.dir().join("substance.jsonl"), lines.join("\n") + "\n").unwrap();
    let topic = "substance-misuse";
    let produced = produced(spawn_producer(ws.dir(), &broker.address, topic, "substance.jsonl", 0, 0));
    assert_eq!(produced, records.len() as u64);
    stream_config_for(&ws, &broker.address, topic, feed);

    let reports = drain(ws.dir(), 3000);
    let staged: Vec<String> = visible_parquet(&ws.out().join(format!("staging/feed={feed}")))
        .iter()
        .flat_map(|p| parquet_column(p, "record_id"))
        .map(Option::unwrap)
        .collect();
    let distinct: BTreeSet<&String> = staged.iter().collect();
    assert_eq!(distinct.len(), staged.len(), "a record was written twice");
    let quarantined = quarantine_entries(&ws.out()).len() as u64;
    assert_eq!(staged.len() as u64 + quarantined, produced, "written + quarantined != produced\n{reports:?}");
    assert!(
        staged.len() as u64 * 10 >= produced * 9,
        "most synthetic records are valid: {} of {produced}",
        staged.len()
    );
    // Identifiers arrive as tokens, as for any feed the agreement governs.
    let part = &visible_parquet(&ws.out().join(format!("staging/feed={feed}")))[0];
    let columns = parquet_columns(part);
    assert!(columns.iter().any(|c| c == "forename_token"), "{columns:?}");
    assert!(!columns.iter().any(|c| c == "forename"), "{columns:?}");
    let names: Vec<&[u8]> =
        records.iter().filter_map(|r| r.get("surname")).filter(|s| s.len() > 3).map(|s| s.as_bytes()).collect();
    assert_absent(&names[..names.len().min(50)], &[], &ws.out());
    let verify = tellonce_ok(ws.dir(), &["audit", "verify", "--config", "tellonce.toml"], 0);
    assert!(text(&verify).contains("verifies"), "{}", text(&verify));
}

/// `record_id -> _record_digest` of every police row staged under `out`, failing on a record
/// staged twice.
fn police_versions(out: &Path) -> BTreeMap<String, String> {
    let mut rows = BTreeMap::new();
    for part in visible_parquet(&out.join("staging/feed=police")) {
        for row in parquet_rows(&part) {
            let get = |name: &str| row.iter().find(|(n, _)| n == name).map(|(_, v)| v.to_string()).unwrap();
            let id = get("record_id").trim_matches('"').to_owned();
            assert!(rows.insert(id.clone(), get("_record_digest")).is_none(), "{id} staged twice");
        }
    }
    rows
}

/// Stages `file` (police messages, one a line) on its own into `expected/` with the workspace's
/// key, and fails naming the records the stream's staging holds otherwise (by `_record_digest`),
/// leaving out the references in `left_out` (erased since). Returns the truth.
fn assert_staged_as_on_its_own(ws: &Workspace, file: &str, left_out: &BTreeSet<String>) -> BTreeMap<String, String> {
    let extra = "[governance]\nagreements = \"agreements\"\n[feeds]\ndir = \"feeds\"\n\
                 [reference]\npostcode_lookup = \"reference/postcode_lookup.csv\"\n[linkage]\nenabled = false\n";
    ws.config_named("expected.toml", "expected", "keys/tellonce.key", &[("police", file)], extra);
    tellonce_ok(ws.dir(), &["run", "--config", "expected.toml", "--no-progress"], 0);
    let mut expected = police_versions(&ws.dir().join("expected"));
    expected.retain(|id, _| !left_out.contains(id));
    let staged = police_versions(&ws.out());
    let differ: Vec<&String> =
        expected.keys().chain(staged.keys()).filter(|id| expected.get(*id) != staged.get(*id)).collect();
    assert!(differ.is_empty(), "{} records differ from {file} staged on its own: {differ:?}", differ.len());
    expected
}

/// The `record_id` of every police row in the history dataset, as often as it is there.
fn police_history(out: &Path) -> Vec<String> {
    let mut ids: Vec<String> = visible_parquet(&out.join("history/feed=police"))
        .iter()
        .flat_map(|p| parquet_column(p, "record_id"))
        .map(Option::unwrap)
        .collect();
    ids.sort();
    ids
}

/// A partner re-sends its whole holding over the topic, a few records corrected, while sessions
/// are killed: staging ends holding each record once, as the re-sent holding has it (checked
/// against the same file staged on its own), each corrected record's earlier version is in
/// history once, and a record erased meanwhile is refused, not brought back.
#[test]
fn a_holding_re_sent_over_a_stream_with_kills_stages_only_what_changed_and_erased_records_stay_out() {
    require_kafka_python();
    let broker = start_broker();
    let ws = synth_workspace(4000, 53);
    for a in tellonce_tests::files_under(&ws.dir().join("agreements")) {
        let t = std::fs::read_to_string(&a).unwrap();
        std::fs::write(&a, t.replace("erasure = false", "erasure = true")).unwrap();
    }
    let topic = "police-over-time";
    let first = produce(ws.dir(), &broker.address, topic, 0);
    stream_config(&ws, &broker.address, topic);
    drain(ws.dir(), 3000);
    let before = police_versions(&ws.out());
    assert_eq!(before.len() as u64 + quarantine_entries(&ws.out()).len() as u64, first);

    // A person erased at their request, found by PNC ID.
    let text_of = std::fs::read_to_string(ws.dir().join("inputs/police.jsonl")).unwrap();
    let lines: Vec<serde_json::Value> = text_of.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let pnc = lines.iter().find_map(|l| l["pnc_id"].as_str()).unwrap().to_owned();
    let sar = ["sar", "--config", "tellonce.toml", "--officer", "IG officer 7", "--reference", "SAR-S-1"];
    let out = tellonce_with_stdin(ws.dir(), &[&sar[..], &["--erase", "--json"]].concat(), &format!("pnc_id={pnc}\n"));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let tombstones = std::fs::read_to_string(ws.out().join("state/tombstones/police.jsonl")).unwrap();
    let erased: BTreeSet<String> = tombstones
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["record_id"].as_str().unwrap().to_owned())
        .collect();
    assert!(!erased.is_empty() && erased.iter().all(|id| before.contains_key(id)), "{}", text(&out));
    assert_eq!(json_stdout(&out)["erased"].as_u64(), Some(erased.len() as u64), "{}", text(&out));

    // The whole holding again, keyed by record reference (every version of a record on one
    // partition, in order): one record in seven corrected, and one in thirteen corrected twice
    // in a row (two versions, most often in one batch). Sent while sessions are killed.
    let (mut corrected, mut stream, mut truth) = (BTreeMap::new(), Vec::new(), Vec::new());
    for (i, l) in lines.iter().enumerate() {
        let id = l["record_id"].as_str().unwrap().to_owned();
        let with = |address: String| {
            let mut l = l.clone();
            l["address_line_1"] = serde_json::Value::from(address);
            l.to_string()
        };
        match (i % 7 == 3, i % 13 == 5) {
            (_, true) => {
                stream.push(with(format!("{i} FIRST ROAD")));
                stream.push(with(format!("{i} SECOND ROAD")));
                truth.push(with(format!("{i} SECOND ROAD")));
                corrected.insert(id, 2);
            }
            (true, false) => {
                stream.push(with(format!("{i} CORRECTED ROAD")));
                truth.push(with(format!("{i} CORRECTED ROAD")));
                corrected.insert(id, 1);
            }
            (false, false) => {
                stream.push(l.to_string());
                truth.push(l.to_string());
            }
        }
    }
    ws.write("resent.jsonl", stream.join("\n") + "\n");
    ws.write("truth.jsonl", truth.join("\n") + "\n");
    let script = tellonce_tests::workspace_root().join("tests/python/kafka_produce.py");
    let producer = Command::new("python3")
        .arg(&script)
        .args([broker.address.as_str(), topic, "3", "resent.jsonl", "0", "40", "record_id"])
        .current_dir(ws.dir())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Each session killed without warning once it has committed a batch, a moment later.
    let mut seed = 0x9e37_79b9_u64;
    let mut killed_batches = 0;
    for _ in 0..2 {
        let mut child = Command::new(tellonce_bin())
            .args(["stream", "--config", "tellonce.toml"])
            .current_dir(ws.dir())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        wait_for_a_batch(&ws.out(), child.id(), Duration::from_secs(60));
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        std::thread::sleep(Duration::from_millis(seed % 700));
        child.kill().unwrap();
        child.wait().unwrap();
        killed_batches += committed_batches(&ws.out(), child.id());
    }
    assert!(killed_batches > 0);
    produced(producer);
    let reports = drain(ws.dir(), 3000);
    let last = reports.last().unwrap();
    assert!(last["versions"]["changed"].as_u64().is_some(), "{last}");

    // The same file staged on its own, into another output with the same key, is the truth.
    let expected = assert_staged_as_on_its_own(&ws, "truth.jsonl", &erased);
    // Each earlier version of a record in history once: the one held before, and the first of
    // two corrections sent together (it was staged, then superseded).
    let mut moved: Vec<String> = Vec::new();
    for (id, versions) in &corrected {
        if erased.contains(id) || !before.contains_key(id) && !expected.contains_key(id) {
            continue;
        }
        let earlier = usize::from(before.contains_key(id)) + usize::from(*versions == 2 && expected.contains_key(id));
        moved.extend(std::iter::repeat_n(id.clone(), earlier));
    }
    moved.sort();
    assert!(moved.len() > 20, "too few corrections to prove anything: {}", moved.len());
    assert_eq!(police_history(&ws.out()), moved, "each earlier version in history, once");
    let verify = tellonce_ok(ws.dir(), &["audit", "verify", "--config", "tellonce.toml"], 0);
    assert!(text(&verify).contains("verifies"), "{}", text(&verify));
}

/// Corrections streamed in rounds, each round's session crashed (as `kill -9` would end it) at a
/// point of writing a batch that supersedes versions held: after moving versions out of a
/// staging file is recorded but before the file's new content is in place, after a batch's
/// files are published, after they are recorded. Each round corrects other records, every
/// other one twice back to back. Staging ends as the corrections have it, each earlier version
/// in history once, and the log verifies.
#[test]
fn streamed_corrections_crashed_while_moving_versions_leave_each_version_once() {
    use std::os::unix::process::ExitStatusExt;
    require_kafka_python();
    let broker = start_broker();
    let ws = synth_workspace(4000, 61);
    let topic = "police-corrections";
    produce(ws.dir(), &broker.address, topic, 0);
    stream_config(&ws, &broker.address, topic);
    drain(ws.dir(), 3000);
    let before = police_versions(&ws.out());
    let text_of = std::fs::read_to_string(ws.dir().join("inputs/police.jsonl")).unwrap();
    let mut lines: Vec<serde_json::Value> = text_of.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let mut earlier: BTreeMap<String, usize> = BTreeMap::new();
    let points = ["supersede.recorded", "commit.published", "stream.batch_published", "stream.batch_recorded"];
    let (mut crashed, script) = (0, tellonce_tests::workspace_root().join("tests/python/kafka_produce.py"));
    for (round, point) in points.iter().cycle().take(8).enumerate() {
        let mut sent = Vec::new();
        for (i, l) in lines.iter_mut().enumerate().filter(|(i, _)| i % 9 == round) {
            let id = l["record_id"].as_str().unwrap().to_owned();
            let versions = 1 + round % 2;
            for v in 0..versions {
                l["address_line_1"] = serde_json::Value::from(format!("{i} ROUND {round} VERSION {v}"));
                sent.push(l.to_string());
            }
            // Each version this round sends but the last, and the one held before, is earlier.
            *earlier.entry(id).or_default() += versions;
        }
        let file = format!("round-{round}.jsonl");
        ws.write(&file, sent.join("\n") + "\n");
        let out = Command::new("python3")
            .arg(&script)
            .args([broker.address.as_str(), topic, "3", file.as_str(), "0", "0", "record_id"])
            .current_dir(ws.dir())
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", text(&out));
        let session = spawn_crashing_stream(ws.dir(), 3000, point, 1).wait_with_output().unwrap();
        match session.status.signal() {
            Some(6) => crashed += 1,
            _ => assert_eq!(session.status.code(), Some(0), "{point}: {}", String::from_utf8_lossy(&session.stderr)),
        }
    }
    assert!(crashed >= 6, "only {crashed} of 8 sessions reached their crash point");
    drain(ws.dir(), 3000);

    // The truth: every record as its last correction has it, staged on its own.
    ws.write("truth.jsonl", lines.iter().map(|l| l.to_string()).collect::<Vec<_>>().join("\n") + "\n");
    assert_staged_as_on_its_own(&ws, "truth.jsonl", &BTreeSet::new());
    let mut moved: Vec<String> = Vec::new();
    for (id, sent) in &earlier {
        if before.contains_key(id) {
            // The version held before, and each version sent but the last.
            moved.extend(std::iter::repeat_n(id.clone(), *sent));
        }
    }
    let count = |ids: Vec<String>| {
        let mut c: BTreeMap<String, usize> = BTreeMap::new();
        ids.into_iter().for_each(|id| *c.entry(id).or_default() += 1);
        c
    };
    let (held, want) = (count(police_history(&ws.out())), count(moved));
    let wrong: Vec<String> = held
        .keys()
        .chain(want.keys())
        .filter(|id| held.get(*id) != want.get(*id))
        .map(|id| format!("{id}: {:?} in history, {:?} expected", held.get(id), want.get(id)))
        .collect();
    assert!(wrong.is_empty(), "each earlier version in history once:\n{}", wrong.join("\n"));
    let verify = tellonce_ok(ws.dir(), &["audit", "verify", "--config", "tellonce.toml"], 0);
    assert!(text(&verify).contains("verifies"), "{}", text(&verify));
}
