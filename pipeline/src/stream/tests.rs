//! Stream tests against librdkafka's mock cluster: every message written or quarantined once,
//! across sessions, replays and poison messages.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use tellonce_kafka::TopicPartition;
use tellonce_kafka::mock::{Cluster, Producer, Record};

use super::{StreamOptions, StreamReport, stream};
use crate::config::Settings;
use tellonce_synth::{SynthOptions, generate};

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
    let producer = Producer::new(brokers, &[]).unwrap();
    for (i, (payload, version)) in messages.iter().enumerate() {
        let headers: Vec<(&str, &[u8])> = version.iter().map(|v| ("schema_version", v.as_bytes())).collect();
        producer.send(TOPIC, &i.to_string(), payload.as_deref().map(str::as_bytes), &headers).unwrap();
        producer.poll(Duration::ZERO);
    }
    producer.flush(Duration::from_secs(10)).unwrap();
}

/// A mock cluster with `partitions` partitions of `TOPIC`.
fn cluster(partitions: i32) -> Cluster {
    let cluster = Cluster::start(1).unwrap();
    cluster.create_topic(TOPIC, partitions).unwrap();
    cluster
}

fn run_stream(settings: &Settings, max: Option<u64>) -> StreamReport {
    let opts = StreamOptions { idle_exit: Some(Duration::from_millis(3000)), max_messages: max };
    stream(settings, &opts, &AtomicBool::new(false)).unwrap()
}

/// The record ids in the staging dataset, each as often as it was written.
fn staged_ids(out: &Path) -> Vec<String> {
    text_columns(&out.join("staging/feed=police"), &["record_id"]).into_iter().map(|mut row| row.remove(0)).collect()
}

/// The text columns `names` of every row of every Parquet file in `dir`.
fn text_columns(dir: &Path, names: &[&str]) -> Vec<Vec<String>> {
    use arrow_array::cast::AsArray;
    let mut rows = Vec::new();
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
            let cols: Vec<_> =
                names.iter().map(|n| batch.column_by_name(n).unwrap().as_string::<i32>().clone()).collect();
            rows.extend((0..batch.num_rows()).map(|i| cols.iter().map(|c| c.value(i).to_owned()).collect()));
        }
    }
    rows
}

/// A session's counts, without its latency histograms.
fn brief(r: &StreamReport) -> String {
    format!(
        "received {} skipped {} written {} quarantined {} versions {:?} superseded {} batches {} stopped {}",
        r.received, r.skipped, r.written, r.quarantined, r.versions, r.superseded, r.batches, r.stopped
    )
}

fn quarantined(out: &Path) -> usize {
    tellonce_connectors::quarantine::read_all(out).unwrap().len()
}

#[test]
fn every_message_is_written_or_quarantined_once_across_sessions_and_replays() {
    let cluster = cluster(3);
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

    // A new group starts where the audit log (not Kafka) says this output stands: each
    // partition at its last durable message, read again and skipped, so nothing is written twice.
    let (again, _) = workspace(dir.path(), &brokers, "g2", 40);
    let replay = run_stream(&again, None);
    assert_eq!(replay.received, 3, "one message a partition: {replay:?}");
    assert_eq!(replay.skipped, 3);
    assert_eq!((replay.written, replay.quarantined), (0, 0));
    assert_eq!(staged_ids(&out).len(), ids.len());

    // The audit log verifies with every file the sessions wrote.
    let keys = tellonce_governance::KeyRing::load(&settings.key_file).unwrap();
    let verified = tellonce_governance::audit::verify(&out.join("audit"), &keys.audit_signer(), Some(&out)).unwrap();
    assert!(verified.files_checked >= first.files + second.files, "{verified:?}");
}

/// An output that streamed a topic from one broker, and the topic made again on another.
struct Recreated {
    dir: tempfile::TempDir,
    /// The broker of the new topic (kept alive for the test).
    _broker: Cluster,
    /// Its address.
    brokers: String,
    /// The config pointing at it.
    settings: Settings,
    /// What the first session wrote.
    first: StreamReport,
    /// How many messages the new topic holds.
    offered: usize,
    /// Why the session on the new topic refused it.
    refused: String,
}

/// Streams the first `before` messages (at most all) from one broker, then offers `after`
/// messages (at most all) on a topic of the same name on a new broker, whose offsets start from
/// 0 again, and checks that a session refuses it, writing nothing.
fn refusal_of_a_recreated_topic(before: usize, after: usize) -> Recreated {
    let dir = tempfile::tempdir().unwrap();
    let old = cluster(1);
    let (settings, lines) = workspace(dir.path(), &old.bootstrap_servers(), "g1", 40);
    let messages: Vec<(Option<String>, Option<&str>)> = lines.iter().map(|l| (Some(l.clone()), None)).collect();
    let before = before.min(messages.len());
    produce(&old.bootstrap_servers(), &messages[..before]);
    let first = run_stream(&settings, None);
    assert_eq!(first.written + first.quarantined, before as u64, "{first:?}");
    drop(old);

    let broker = cluster(1);
    let (settings, _) = workspace(dir.path(), &broker.bootstrap_servers(), "g1", 40);
    let offered = after.min(messages.len());
    produce(&broker.bootstrap_servers(), &messages[..offered]);
    let opts = StreamOptions { idle_exit: Some(Duration::from_millis(3000)), max_messages: None };
    let refused = stream(&settings, &opts, &AtomicBool::new(false)).unwrap_err().to_string();
    assert_eq!(staged_ids(&settings.output_dir).len() as u64, first.written, "nothing more was written");
    let brokers = broker.bootstrap_servers();
    Recreated { dir, _broker: broker, brokers, settings, first, offered, refused }
}

#[test]
fn a_recreated_topic_is_refused_rather_than_skipped_as_written() {
    // The new topic ends below the durable offset the audit log records.
    let refused = refusal_of_a_recreated_topic(usize::MAX, 5).refused;
    assert!(refused.contains(&format!("{TOPIC}/0 ends at offset 5")) && refused.contains("recreated"), "{refused}");
    assert!(refused.contains(&format!("tellonce stream-reset --topic {TOPIC}")), "{refused}");
}

#[test]
fn a_recreated_topic_that_already_grew_past_the_durable_offset_is_refused_too() {
    // Its end is past the durable offset, but its first messages are not those written there.
    // (A new group reading the same topic again skips them without complaint: their timestamps
    // are the ones recorded; see the replay in the first test.)
    // The session starts at the last durable offset (99), where a committed batch ends.
    let refused = refusal_of_a_recreated_topic(100, usize::MAX).refused;
    assert!(refused.contains(&format!("{TOPIC}/0 offset 99")) && refused.contains("recreated"), "{refused}");
}

#[test]
fn a_reset_topic_is_read_afresh_into_files_of_a_new_epoch_and_the_old_ones_stay() {
    let r = refusal_of_a_recreated_topic(100, 70);
    let out = r.settings.output_dir.clone();
    let keys = tellonce_governance::KeyRing::load(&r.settings.key_file).unwrap();
    let old_files: BTreeSet<String> = staged_files(&out);
    assert!(old_files.iter().all(|f| super::progress::parse(f).unwrap().epoch == 0), "{old_files:?}");

    // A reset needs a reason, and a topic with progress.
    let why = super::reset::reset(&out, &keys, TOPIC, "  ").unwrap_err().to_string();
    assert!(why.contains("reason"), "{why}");
    let why = super::reset::reset(&out, &keys, "other-topic", "recreated").unwrap_err().to_string();
    assert!(why.contains("records no stream progress for topic other-topic"), "{why}");
    let reset = super::reset::reset(&out, &keys, TOPIC, "recreated by the police data team, INC-42").unwrap();
    assert_eq!(reset.epoch, 1);
    assert_eq!(reset.durable_offsets, [(0, 100)].into_iter().collect());

    // The new topic's messages are read afresh; the records they carry are held already, as
    // they are, so none is staged again.
    let second = run_stream(&r.settings, None);
    let handled = second.written + second.quarantined + second.versions.unchanged;
    assert_eq!((handled, second.written), (r.offered as u64, 0), "{}", brief(&second));
    assert_eq!(second.skipped, 0, "{}", brief(&second));
    assert_eq!(staged_ids(&out).len() as u64, r.first.written);
    // Corrections on the new topic are staged in files of the new epoch, named apart; the old
    // files keep their names.
    let lines = std::fs::read_to_string(r.dir.path().join("inputs/police.jsonl")).unwrap();
    let corrected: Vec<(Option<String>, Option<&str>)> =
        lines.lines().take(20).map(|l| (Some(edited(l, "7 RESET ROAD", None)), None)).collect();
    produce(&r.brokers, &corrected);
    let third = run_stream(&r.settings, None);
    assert_eq!(third.written + third.quarantined, 20, "{}", brief(&third));
    assert_eq!((third.versions.changed, third.superseded), (third.written, third.written), "{}", brief(&third));
    assert_eq!(staged_ids(&out).len() as u64, r.first.written);
    let files = staged_files(&out);
    assert!(old_files.is_subset(&files), "an old file was removed");
    let new: Vec<_> = files.difference(&old_files).map(|f| super::progress::parse(f).unwrap()).collect();
    assert!(!new.is_empty() && new.iter().all(|b| b.epoch == 1 && b.first >= 70), "{new:?}");
    // A session in the new epoch skips what the new epoch holds, as before.
    let again = run_stream(&r.settings, None);
    assert_eq!((again.written, again.quarantined), (0, 0), "{}", brief(&again));

    let verified = tellonce_governance::audit::verify(&out.join("audit"), &keys.audit_signer(), Some(&out)).unwrap();
    assert!(verified.files_checked as usize >= files.len(), "{verified:?}");
    let entries = tellonce_governance::audit::read_entries(&out.join("audit")).unwrap();
    let resets: Vec<_> = entries
        .iter()
        .filter_map(|e| match &e.event {
            tellonce_governance::audit::Event::StreamProgressReset { epoch, reason, .. } => Some((*epoch, reason)),
            _ => None,
        })
        .collect();
    assert_eq!(resets.len(), 1);
    assert_eq!(resets[0].1, "recreated by the police data team, INC-42");
    drop(r.dir);
}

#[test]
fn a_new_output_read_by_a_group_that_committed_elsewhere_still_gets_every_message() {
    let cluster = cluster(2);
    let brokers = cluster.bootstrap_servers();
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (first, lines) = workspace(a.path(), &brokers, "shared", 40);
    let messages: Vec<(Option<String>, Option<&str>)> = lines.iter().map(|l| (Some(l.clone()), None)).collect();
    produce(&brokers, &messages);
    let n = messages.len() as u64;
    let one = run_stream(&first, None);
    assert_eq!(one.written + one.quarantined, n, "{one:?}");
    // The group's committed offsets are at the end; this output holds nothing yet.
    let (second, _) = workspace(b.path(), &brokers, "shared", 40);
    let two = run_stream(&second, None);
    assert_eq!(two.written + two.quarantined, n, "{two:?}");
    assert_eq!(staged_ids(&second.output_dir).len() as u64, two.written);
    assert_eq!(two.missing_upstream, 0);
}

/// The names of the files in the police staging dataset.
fn staged_files(out: &Path) -> BTreeSet<String> {
    std::fs::read_dir(out.join("staging/feed=police"))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".parquet"))
        .collect()
}

#[test]
fn a_build_links_only_committed_batches_and_the_next_session_clears_an_unrecorded_one() {
    use tellonce_governance::audit::{self, AuditLog, Event};
    let cluster = cluster(1);
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
    let batch = super::progress::parse(&path).unwrap();
    let (first, last) = (batch.first, batch.last);
    let stray_path = path.replace(
        &super::progress::stem(TOPIC, 0, 0, first, last),
        &super::progress::stem(TOPIC, 0, 0, last + 1, 2 * last + 1),
    );
    std::fs::copy(out.join(&path), out.join(&stray_path)).unwrap();
    // And the temporary file of a batch a killed session was writing.
    let (folder, name) = stray_path.rsplit_once('/').unwrap();
    let temp_path = format!("{folder}/.{name}.tmp");
    std::fs::copy(out.join(&path), out.join(&temp_path)).unwrap();
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
    assert!(!out.join(&temp_path).exists());
    let deleted = audit::read_entries(&out.join("audit")).unwrap().into_iter().any(
        |e| matches!(&e.event, Event::FileDeleted { path, reason, .. } if *path == stray_path && reason.starts_with("uncommitted")),
    );
    assert!(deleted);
    let verified = audit::verify(&out.join("audit"), &keys.audit_signer(), Some(&out)).unwrap();
    assert!(verified.files_checked > 0, "{verified:?}");
}

/// Every message on `topic` (one partition, from the start), waiting up to 10 s for `want`, and
/// any more that arrives soon after.
fn consume_all(brokers: &str, topic: &str, want: usize) -> Vec<Record> {
    tellonce_kafka::mock::read_topic(brokers, "dead-letter-reader", topic, want, Duration::from_secs(10)).unwrap()
}

#[test]
fn poison_messages_reach_the_dead_letter_topic_sealed_and_only_committed_batches_skip_resending() {
    use tellonce_connectors::quarantine::QuarantineEntry;
    const DEAD: &str = "tellonce-dead-letter";
    let cluster = cluster(2);
    cluster.create_topic(DEAD, 1).unwrap();
    let brokers = cluster.bootstrap_servers();
    let dir = tempfile::tempdir().unwrap();
    let (_, lines) = workspace(dir.path(), &brokers, "g1", 100_000);
    let config = dir.path().join("tellonce.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    let text = text.replace("[stream.properties]", &format!("dead_letter_topic = \"{DEAD}\"\n[stream.properties]"));
    std::fs::write(&config, text).unwrap();
    let settings = Settings::load(&config).unwrap();

    // A record with a clear identifier in it that breaks a record rule, and three poison messages.
    let good: serde_json::Value = serde_json::from_str(&lines[0]).unwrap();
    let mut bad = good.clone();
    bad["incident_date"] = serde_json::Value::String("2031-02-30".to_owned());
    let surname = good["surname"].as_str().unwrap().to_owned();
    let mut messages: Vec<(Option<String>, Option<&str>)> =
        lines[1..120].iter().map(|l| (Some(l.clone()), None)).collect();
    // A record of no fixed abode: written, its postcode nulled.
    let mut homeless: serde_json::Value = serde_json::from_str(&lines[1]).unwrap();
    homeless["postcode"] = serde_json::Value::String("ZZ99 3VZ".to_owned());
    messages[0] = (Some(homeless.to_string()), None);
    messages.push((Some(bad.to_string()), None));
    messages.push((Some(format!("not json, but {surname}")), None));
    messages.push((None, None));
    messages.push((Some(lines[0].clone()), Some("7")));
    produce(&brokers, &messages);
    let n = messages.len() as u64;

    // The broker refuses the dead letters: the batches are not committed and the session fails
    // naming the topic, with nothing recorded as durable.
    cluster.refuse_produce(8);
    let opts = StreamOptions { idle_exit: Some(Duration::from_millis(3000)), max_messages: None };
    let failed = stream(&settings, &opts, &AtomicBool::new(false)).unwrap_err().to_string();
    assert!(failed.contains(DEAD) && failed.contains("not committed"), "{failed}");
    let out = settings.output_dir.clone();
    let committed = |out: &Path| {
        tellonce_governance::audit::read_entries(&out.join("audit"))
            .unwrap()
            .into_iter()
            .filter(|e| {
                matches!(&e.event, tellonce_governance::audit::Event::StreamBatchCommitted { quarantined, .. } if *quarantined > 0)
            })
            .count()
    };
    assert_eq!(committed(&out), 0, "a batch whose dead letters failed was recorded as committed");
    cluster.accept_produce();

    // The next session writes the batches again and sends every quarantined message.
    let report = run_stream(&settings, None);
    assert_eq!(report.written + report.quarantined, n, "{report:?}");
    assert_eq!(report.dead_lettered, report.quarantined, "{report:?}");
    assert!(report.quarantined >= 4, "{report:?}");
    assert!(report.nulled >= 1, "the pseudo-postcode is nulled, its record written: {report:?}");
    let ids = staged_ids(&out);
    assert_eq!(ids.iter().collect::<BTreeSet<_>>().len(), ids.len(), "a record written twice");
    let entries = tellonce_connectors::quarantine::read_all(&out).unwrap();
    assert_eq!(entries.len() as u64, report.quarantined);

    let letters = consume_all(&brokers, DEAD, entries.len());
    assert_eq!(letters.len(), entries.len(), "each quarantined message once on the topic");
    let sealer = tellonce_governance::KeyRing::load(&settings.key_file).unwrap().sealer();
    let mut opened = BTreeSet::new();
    for m in &letters {
        let value = m.payload.as_deref().unwrap();
        let text = String::from_utf8_lossy(value);
        assert!(!text.contains(&surname), "a clear surname on the dead-letter topic: {text}");
        let entry: QuarantineEntry = serde_json::from_slice(value).unwrap();
        assert!(entries.iter().any(|(_, e)| *e == entry), "not in the quarantine files: {text}");
        let key = String::from_utf8(m.key.clone().unwrap()).unwrap();
        assert!(key.starts_with(&format!("{TOPIC}@")) && key.ends_with(&format!("@{}", entry.position)), "{key}");
        let header = |name: &str| m.header(name);
        assert_eq!(header("tellonce.rule").as_deref(), Some(entry.rule.as_str()));
        assert_eq!(header("tellonce.topic").as_deref(), Some(TOPIC));
        assert_eq!(header("tellonce.offset"), Some(entry.position.to_string()));
        assert_eq!(header("tellonce.feed").as_deref(), Some("police"));
        opened.insert(sealer.open(&entry.aad(), &entry.sealed).unwrap());
    }
    // What the topic holds opens, under the quarantine key, to the messages refused.
    let record_id = good["record_id"].as_str().unwrap();
    assert!(opened.iter().any(|o| {
        let o = String::from_utf8_lossy(o);
        o.contains("2031-02-30") && o.contains(record_id)
    }));
    assert!(opened.contains(format!("not json, but {surname}").as_bytes()));
    assert!(opened.contains(&Vec::new()), "the empty message");

    // The audit log says where they went; a replay by another group sends nothing again.
    assert!(committed(&out) >= 1);
    let summed: u64 = tellonce_governance::audit::read_entries(&out.join("audit"))
        .unwrap()
        .into_iter()
        .map(|e| match e.event {
            tellonce_governance::audit::Event::StreamBatchCommitted { dead_letter_topic, dead_lettered, .. } => {
                assert!(dead_lettered == 0 || dead_letter_topic == DEAD);
                dead_lettered
            }
            _ => 0,
        })
        .sum();
    assert_eq!(summed, report.quarantined);
    let text = std::fs::read_to_string(&config).unwrap().replace("group_id = \"g1\"", "group_id = \"g2\"");
    std::fs::write(&config, text).unwrap();
    let replay = run_stream(&Settings::load(&config).unwrap(), None);
    // A new group starts at each partition's last durable message, skipped, and sends nothing.
    assert_eq!((replay.received, replay.skipped, replay.dead_lettered), (2, 2, 0), "{replay:?}");
}

#[test]
fn partitions_spread_evenly_over_the_writers() {
    let mut given = std::collections::HashMap::new();
    for p in 0..6 {
        let w = super::least_loaded(&given, 4).unwrap();
        given.insert(TopicPartition::new(TOPIC, p), w);
    }
    let mut load = [0; 4];
    for w in given.values() {
        load[*w] += 1;
    }
    assert_eq!(load, [2, 2, 1, 1]);
    // The first three partitions went to three different writers.
    let first: BTreeSet<usize> = (0..3).map(|p| given[&TopicPartition::new(TOPIC, p)]).collect();
    assert_eq!(first.len(), 3);
    assert_eq!(super::least_loaded(&given, 0), None);
}

#[test]
fn retention_deletes_stream_batch_files_and_a_later_session_does_not_read_them_again() {
    let cluster = cluster(3);
    let brokers = cluster.bootstrap_servers();
    let dir = tempfile::tempdir().unwrap();
    let (settings, lines) = workspace(dir.path(), &brokers, "g-retention", 50);
    let mut messages: Vec<(Option<String>, Option<&str>)> = lines.iter().map(|l| (Some(l.clone()), None)).collect();
    messages.push((Some("not json".to_owned()), None));
    produce(&brokers, &messages);
    let first = run_stream(&settings, None);
    let out = settings.output_dir.clone();
    assert!(first.batches > 0 && !staged_ids(&out).is_empty() && quarantined(&out) >= 1, "{first:?}");

    // Every batch file (staging parts and the quarantine file) falls due and goes.
    let keys = tellonce_governance::KeyRing::load(&settings.key_file).unwrap();
    let far = tellonce_schemas::identifiers::dates::parse("2099-12-31").unwrap();
    let (_, applied) = crate::retention::apply(&out, &keys, far, false).unwrap();
    let datasets: BTreeSet<&str> = applied.deleted.iter().map(|f| f.dataset.as_str()).collect();
    assert!(datasets.contains("staging") && datasets.contains("quarantine"), "{datasets:?}");
    assert!(staged_ids(&out).is_empty() && quarantined(&out) == 0);
    tellonce_governance::audit::verify(&out.join(tellonce_output::layout::AUDIT), &keys.audit_signer(), Some(&out))
        .unwrap();

    // Deleting the files does not move the stream's progress back: a later session (a new
    // group, so that Kafka's offsets do not decide) reads nothing again.
    let (again, _) = workspace(dir.path(), &brokers, "g-retention-2", 50);
    let replay = run_stream(&again, None);
    assert_eq!((replay.written, replay.quarantined), (0, 0), "{replay:?}");
    assert!(staged_ids(&out).is_empty());
}

/// The `record_id` and `_change` of every row in the police history dataset.
fn history_rows(out: &Path) -> Vec<(String, String)> {
    let mut rows: Vec<(String, String)> = text_columns(&out.join("history/feed=police"), &["record_id", "_change"])
        .into_iter()
        .map(|r| (r[0].clone(), r[1].clone()))
        .collect();
    rows.sort();
    rows
}

/// `line` (a police message) with its address and, if given, its reference changed.
fn edited(line: &str, address: &str, record_id: Option<&str>) -> String {
    let mut v: serde_json::Value = serde_json::from_str(line).unwrap();
    v["address_line_1"] = serde_json::Value::from(address);
    if let Some(id) = record_id {
        v["record_id"] = serde_json::Value::from(id);
    }
    v.to_string()
}

#[test]
fn a_message_for_a_record_held_is_its_newer_version_and_the_version_held_moves_to_history() {
    let cluster = cluster(1);
    let brokers = cluster.bootstrap_servers();
    let dir = tempfile::tempdir().unwrap();
    let (settings, lines) = workspace(dir.path(), &brokers, "g1", 100_000);
    let messages: Vec<(Option<String>, Option<&str>)> = lines.iter().map(|l| (Some(l.clone()), None)).collect();
    produce(&brokers, &messages);
    let first = run_stream(&settings, None);
    let out = settings.output_dir.clone();
    let n = lines.len() as u64;
    assert_eq!((first.written, first.versions.new), (n, n), "{first:?}");
    let id = |i: usize| {
        serde_json::from_str::<serde_json::Value>(&lines[i]).unwrap()["record_id"].as_str().unwrap().to_owned()
    };

    // A record nobody holds, erased (or withdrawn) all the same: its tombstone refuses it.
    let at = tellonce_output::timefmt::now_rfc3339();
    crate::records::tombstones::lay(&out, "police", &["POL-88888888".to_owned()], "erasure", &at, None).unwrap();
    let later = [
        edited(&lines[0], "2 OAK ROAD", None),
        lines[1].clone(),
        edited(&lines[2], "3 ELM ROAD", None),
        // Two versions of one record in one batch: the later supersedes the earlier.
        edited(&lines[2], "4 ASH ROAD", None),
        edited(&lines[3], "5 YEW ROAD", Some("POL-99999999")),
        edited(&lines[4], "6 FIR ROAD", Some("POL-88888888")),
    ];
    produce(&brokers, &later.iter().map(|l| (Some(l.clone()), None)).collect::<Vec<_>>());
    let second = run_stream(&settings, None);
    let v = second.versions;
    assert_eq!((v.new, v.changed, v.unchanged, v.refused, v.older), (1, 3, 1, 1, 0), "{second:?}");
    assert_eq!((second.written, second.quarantined, second.superseded), (4, 0, 3), "{second:?}");
    let handled = second.written + second.quarantined + v.unchanged + v.refused + v.older;
    assert_eq!(second.received - second.skipped, handled, "{second:?}");

    // The batch's second message for one record began a second part of it.
    assert!(staged_files(&out).iter().any(|f| f.contains("~1-")), "{:?}", staged_files(&out));
    // Staging holds each record once, as it is now; history the versions it replaced.
    let ids = staged_ids(&out);
    let distinct: BTreeSet<&String> = ids.iter().collect();
    assert_eq!((distinct.len(), ids.len() as u64), (ids.len(), n + 1), "a record staged twice");
    assert!(distinct.contains(&"POL-99999999".to_owned()) && !distinct.contains(&"POL-88888888".to_owned()));
    let superseded = "superseded".to_owned();
    let expected = {
        let mut e = vec![(id(0), superseded.clone()), (id(2), superseded.clone()), (id(2), superseded)];
        e.sort();
        e
    };
    assert_eq!(history_rows(&out), expected);
    let keys = tellonce_governance::KeyRing::load(&settings.key_file).unwrap();
    let verified = tellonce_governance::audit::verify(&out.join("audit"), &keys.audit_signer(), Some(&out)).unwrap();
    assert!(verified.files_checked > 0, "{verified:?}");
}

#[test]
fn a_topic_read_through_a_mapping_takes_partner_keys_and_formats_and_its_withdrawal_messages() {
    let cluster = cluster(1);
    let brokers = cluster.bootstrap_servers();
    let dir = tempfile::tempdir().unwrap();
    let (_, lines) = workspace(dir.path(), &brokers, "g1", 100_000);
    let mapping = "feed = \"police\"\n[columns]\n\"Case Ref\" = \"record_id\"\n\"Date Of Incident\" = \"incident_date\"\n\
                   [dates]\nincident_date = \"%d/%m/%Y\"\n[withdrawal]\ncolumn = \"Record Status\"\nvalues = [\"Deleted\"]\n";
    std::fs::create_dir_all(dir.path().join("mappings")).unwrap();
    std::fs::write(dir.path().join("mappings/police.toml"), mapping).unwrap();
    let config = dir.path().join("tellonce.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    // The topic's table is the config's last: its mapping key goes at the end.
    std::fs::write(&config, format!("{text}mapping = \"mappings/police.toml\"\n")).unwrap();
    let settings = Settings::load(&config).unwrap();
    // The partner's shape: its own keys, UK dates.
    let partner = |line: &str| {
        let mut v: serde_json::Value = serde_json::from_str(line).unwrap();
        let o = v.as_object_mut().unwrap();
        let id = o.remove("record_id").unwrap();
        o.insert("Case Ref".to_owned(), id);
        if let Some(d) = o.remove("incident_date").and_then(|d| d.as_str().map(str::to_owned)) {
            let (y, rest) = d.split_at(4);
            o.insert("Date Of Incident".to_owned(), format!("{}/{}/{y}", &rest[4..6], &rest[1..3]).into());
        }
        v.to_string()
    };
    let messages: Vec<(Option<String>, Option<&str>)> = lines.iter().map(|l| (Some(partner(l)), None)).collect();
    produce(&brokers, &messages);
    let first = run_stream(&settings, None);
    let out = settings.output_dir.clone();
    let n = lines.len() as u64;
    assert_eq!((first.written, first.quarantined), (n, 0), "{}", brief(&first));

    // Two records withdrawn by message, then one of them sent again: it stays withdrawn.
    let id = |i: usize| {
        serde_json::from_str::<serde_json::Value>(&lines[i]).unwrap()["record_id"].as_str().unwrap().to_owned()
    };
    let withdrawal = |i: usize| serde_json::json!({"Case Ref": id(i), "Record Status": "deleted "}).to_string();
    let later = [withdrawal(0), withdrawal(1), partner(&lines[0])];
    produce(&brokers, &later.iter().map(|l| (Some(l.clone()), None)).collect::<Vec<_>>());
    let second = run_stream(&settings, None);
    let v = second.versions;
    assert_eq!((v.withdrawn, v.listed, v.refused, second.written), (2, 2, 1, 0), "{}", brief(&second));
    let ids = staged_ids(&out);
    assert_eq!(ids.len() as u64, n - 2);
    assert!(!ids.contains(&id(0)) && !ids.contains(&id(1)));
    let mut expected = vec![(id(0), "withdrawn".to_owned()), (id(1), "withdrawn".to_owned())];
    expected.sort();
    assert_eq!(history_rows(&out), expected);
    let tombstones = std::fs::read_to_string(out.join("state/tombstones/police.jsonl")).unwrap();
    assert!(tombstones.contains(&id(0)) && tombstones.contains(&id(1)), "{tombstones}");
}
