//! Stream tests against librdkafka's mock cluster: every message written or quarantined once,
//! across sessions, replays and poison messages.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use rdkafka::ClientConfig;
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::mocking::MockCluster;
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};

use super::{StreamOptions, StreamReport, stream};
use crate::config::Settings;
use crate::synth::{SynthOptions, generate};

const TOPIC: &str = "police-incidents";

/// A workspace with synthetic police messages, a key, the example agreements and a config
/// pointing at `brokers`; returns the settings and the messages (one JSON object each).
fn workspace(dir: &Path, brokers: &str, group: &str, batch_rows: usize) -> (Settings, Vec<String>) {
    generate(&SynthOptions { out: dir.to_owned(), children: 600, seed: 3 }).unwrap();
    let key = dir.join("keys/tellonce.key");
    if !key.exists() {
        tellonce_governance::create_key_file(&key).unwrap();
    }
    crate::examples::write_agreements(&dir.join("agreements")).unwrap();
    let config = format!(
        "[output]\ndir = \"output\"\n[keys]\nfile = \"keys/tellonce.key\"\n[linkage]\nenabled = false\n\
         [stream]\nbrokers = \"{brokers}\"\ngroup_id = \"{group}\"\nmax_batch_rows = {batch_rows}\n\
         max_batch_ms = 200\n[stream.properties]\n\"session.timeout.ms\" = \"6000\"\n\
         [[stream.topics]]\ntopic = \"{TOPIC}\"\nfeed = \"police\"\n"
    );
    let path = dir.join("tellonce.toml");
    std::fs::write(&path, config).unwrap();
    let lines = std::fs::read_to_string(dir.join("inputs/police.jsonl")).unwrap();
    (Settings::load(&path).unwrap(), lines.lines().map(str::to_owned).collect())
}

fn produce(brokers: &str, messages: &[(Option<String>, Option<&str>)]) {
    let producer: BaseProducer = ClientConfig::new().set("bootstrap.servers", brokers).create().unwrap();
    for (i, (payload, version)) in messages.iter().enumerate() {
        let key = i.to_string();
        let mut record = BaseRecord::to(TOPIC).key(&key);
        if let Some(p) = payload {
            record = record.payload(p);
        }
        if let Some(v) = version {
            record = record.headers(OwnedHeaders::new().insert(Header { key: "schema_version", value: Some(*v) }));
        }
        producer.send(record).map_err(|(e, _)| e).unwrap();
        producer.poll(Duration::ZERO);
    }
    producer.flush(Duration::from_secs(10)).unwrap();
}

fn run_stream(settings: &Settings, max: Option<u64>) -> StreamReport {
    let opts = StreamOptions { idle_exit: Some(Duration::from_millis(3000)), max_messages: max };
    stream(settings, &opts, &AtomicBool::new(false)).unwrap()
}

/// The record ids in the staging dataset, each as often as it was written.
fn staged_ids(out: &Path) -> Vec<String> {
    use arrow_array::cast::AsArray;
    let mut ids = Vec::new();
    let dir = out.join("staging/feed=police");
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.extension().is_none_or(|e| e != "parquet") {
            continue;
        }
        let file = std::fs::File::open(&path).unwrap();
        let reader =
            parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file).unwrap().build().unwrap();
        for batch in reader {
            let batch = batch.unwrap();
            let col = batch.column_by_name("record_id").unwrap().as_string::<i32>();
            ids.extend(col.iter().flatten().map(str::to_owned));
        }
    }
    ids
}

fn quarantined(out: &Path) -> usize {
    tellonce_connectors::quarantine::read_all(out).unwrap().len()
}

#[test]
fn every_message_is_written_or_quarantined_once_across_sessions_and_replays() {
    let cluster = MockCluster::new(1).unwrap();
    cluster.create_topic(TOPIC, 3, 1).unwrap();
    let brokers = cluster.bootstrap_servers();
    let dir = tempfile::tempdir().unwrap();
    let (settings, lines) = workspace(dir.path(), &brokers, "g1", 40);
    let mut messages: Vec<(Option<String>, Option<&str>)> = lines.iter().map(|l| (Some(l.clone()), None)).collect();
    // Poison: not JSON, an empty message, a schema version the feed does not have.
    messages.push((Some("not json at all".to_owned()), None));
    messages.push((None, None));
    messages.push((Some(lines[0].clone()), Some("7")));
    produce(&brokers, &messages);
    let n = messages.len() as u64;

    // A first session stops part-way; a second, in the same group, goes on from its commits.
    let first = run_stream(&settings, Some(n / 3));
    assert!(first.batches > 0 && first.received >= n / 3, "{first:?}");
    let second = run_stream(&settings, None);
    let out = settings.output_dir.clone();
    let ids = staged_ids(&out);
    let distinct: BTreeSet<&String> = ids.iter().collect();
    assert_eq!(distinct.len(), ids.len(), "a record written twice");
    let q = quarantined(&out);
    assert_eq!(
        ids.len() + q,
        n as usize,
        "written {} + quarantined {q} != produced {n}\n{first:?}\n{second:?}",
        ids.len()
    );
    assert_eq!(first.written + second.written, ids.len() as u64);
    assert_eq!(first.quarantined + second.quarantined, q as u64);
    assert!(q >= 3, "the three poison messages are quarantined");
    let rules: BTreeSet<String> =
        tellonce_connectors::quarantine::read_all(&out).unwrap().into_iter().map(|(_, e)| e.rule).collect();
    assert!(rules.contains("json.malformed") && rules.contains("message.schema_version"), "{rules:?}");

    // A new group reads everything again from the start: all of it is below the durable
    // offsets, so nothing is written twice (the audit log, not Kafka, says what is durable).
    let (again, _) = workspace(dir.path(), &brokers, "g2", 40);
    let replay = run_stream(&again, None);
    assert_eq!(replay.received, n, "{replay:?}");
    assert_eq!(replay.skipped, n);
    assert_eq!((replay.written, replay.quarantined), (0, 0));
    assert_eq!(staged_ids(&out).len(), ids.len());

    // The audit log verifies with every file the sessions wrote.
    let keys = tellonce_governance::KeyRing::load(&settings.key_file).unwrap();
    let verified = tellonce_governance::audit::verify(&out.join("audit"), &keys.audit_signer(), Some(&out)).unwrap();
    assert!(verified.files_checked >= first.files + second.files, "{verified:?}");
}

#[test]
fn a_recreated_topic_is_refused_rather_than_skipped_as_written() {
    let dir = tempfile::tempdir().unwrap();
    let first = MockCluster::new(1).unwrap();
    first.create_topic(TOPIC, 1, 1).unwrap();
    let (settings, lines) = workspace(dir.path(), &first.bootstrap_servers(), "g1", 40);
    let messages: Vec<(Option<String>, Option<&str>)> = lines.iter().map(|l| (Some(l.clone()), None)).collect();
    produce(&first.bootstrap_servers(), &messages);
    let written = run_stream(&settings, None);
    assert_eq!(written.written + written.quarantined, messages.len() as u64, "{written:?}");
    drop(first);

    // The same topic name on a new broker: its offsets start from 0 again, below the durable
    // offset the audit log records.
    let second = MockCluster::new(1).unwrap();
    second.create_topic(TOPIC, 1, 1).unwrap();
    let (settings, _) = workspace(dir.path(), &second.bootstrap_servers(), "g1", 40);
    produce(&second.bootstrap_servers(), &messages[..5]);
    let opts = StreamOptions { idle_exit: Some(Duration::from_millis(3000)), max_messages: None };
    let refused = stream(&settings, &opts, &AtomicBool::new(false)).unwrap_err().to_string();
    assert!(refused.contains(&format!("{TOPIC}/0")) && refused.contains("recreated"), "{refused}");
    assert_eq!(staged_ids(&settings.output_dir).len() as u64, written.written, "nothing more was written");
}

#[test]
fn a_build_links_only_committed_batches_and_the_next_session_clears_an_unrecorded_one() {
    use tellonce_governance::audit::{self, AuditLog, Event};
    let cluster = MockCluster::new(1).unwrap();
    cluster.create_topic(TOPIC, 1, 1).unwrap();
    let brokers = cluster.bootstrap_servers();
    let dir = tempfile::tempdir().unwrap();
    let (settings, lines) = workspace(dir.path(), &brokers, "g1", 100_000);
    let messages: Vec<(Option<String>, Option<&str>)> = lines.iter().map(|l| (Some(l.clone()), None)).collect();
    produce(&brokers, &messages);
    let streamed = run_stream(&settings, None);
    assert_eq!(streamed.batches, 1, "{streamed:?}");
    let out = settings.output_dir.clone();

    // What a session killed between publishing a batch and recording it as committed leaves:
    // the batch's file, with its `file_written` entry but no `stream_batch_committed`.
    let entries = audit::read_entries(&out.join("audit")).unwrap();
    let (written, path) = entries
        .iter()
        .find_map(|e| match &e.event {
            Event::FileWritten { dataset, path, .. } if dataset == "staging" => Some((e.event.clone(), path.clone())),
            _ => None,
        })
        .unwrap();
    let (_, _, first, last) = super::progress::parse(&path).unwrap();
    let stray_path = path.replace(
        &super::progress::stem(TOPIC, 0, first, last),
        &super::progress::stem(TOPIC, 0, last + 1, 2 * last + 1),
    );
    std::fs::copy(out.join(&path), out.join(&stray_path)).unwrap();
    let Event::FileWritten { dataset, sha256, rows, bytes, feed, agreement, retention_until, .. } = written else {
        unreachable!()
    };
    let keys = tellonce_governance::KeyRing::load(&settings.key_file).unwrap();
    let mut log = AuditLog::open(&out.join("audit"), keys.audit_signer()).unwrap();
    let stray =
        Event::FileWritten { dataset, path: stray_path.clone(), sha256, rows, bytes, feed, agreement, retention_until };
    log.append(&stray).unwrap();
    log.sync().unwrap();
    drop(log);

    // The build reads the committed batch only.
    let (_, built) = crate::run::build(&settings).unwrap();
    assert_eq!(built.rows, streamed.written, "{built:?}");
    // The next session removes the stray file and says so; the log still verifies.
    run_stream(&settings, None);
    assert!(!out.join(&stray_path).exists());
    let deleted = audit::read_entries(&out.join("audit")).unwrap().into_iter().any(
        |e| matches!(&e.event, Event::FileDeleted { path, reason, .. } if *path == stray_path && reason.starts_with("uncommitted")),
    );
    assert!(deleted);
    let verified = audit::verify(&out.join("audit"), &keys.audit_signer(), Some(&out)).unwrap();
    assert!(verified.files_checked > 0, "{verified:?}");
}
