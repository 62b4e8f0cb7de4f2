//! `tellonce stream`: Kafka topics into the staging dataset.

use std::time::{Duration, Instant};

use anyhow::Context as _;
use tellonce_kafka::KafkaError;
use tellonce_kafka::mock;

use super::args::{BenchStreamArgs, StreamArgs, StreamResetArgs, SynthArgs};
use super::{ExitContext, Failure, run_failure};
use crate::config::Settings;
use crate::exit::Exit;
use crate::stream::{self, StreamOptions, StreamReport};
use crate::{run, summary};

pub(super) fn command(a: &StreamArgs) -> Result<Exit, Failure> {
    let settings = Settings::load(&a.config).exit(Exit::Config)?;
    if settings.stream.is_none() {
        return Err(anyhow::anyhow!("{} has no [stream] section: nothing to consume", a.config.display()))
            .exit(Exit::Config);
    }
    let stop = stream::stop_on_signal().map_err(run_failure)?;
    let opts = StreamOptions { idle_exit: a.idle_exit_ms.map(Duration::from_millis), max_messages: a.max_messages };
    let report = stream::stream(&settings, &opts, &stop).map_err(run_failure)?;
    // Signalled to stop means stop: the build can run later (`tellonce build`).
    let signalled = stop.load(std::sync::atomic::Ordering::Relaxed);
    let build = if a.build && !signalled { Some(run::build(&settings).map_err(run_failure)?) } else { None };
    let text = if a.json {
        let v = serde_json::json!({ "stream": report, "linkage": build.as_ref().map(|b| &b.1) });
        serde_json::to_string_pretty(&v).context("serialising the report").exit(Exit::Internal)? + "\n"
    } else {
        let mut s = text(&report);
        if let Some((_, b)) = &build {
            s.push_str(&summary::linkage_text(b));
        }
        s
    };
    out!("{text}");
    Ok(Exit::Success)
}

/// `tellonce stream-reset`: see [`StreamResetArgs`].
pub(super) fn reset(a: &StreamResetArgs) -> Result<Exit, Failure> {
    let settings = Settings::load(&a.config).exit(Exit::Config)?;
    let keys = tellonce_governance::KeyRing::load(&settings.key_file).exit(Exit::Config)?;
    let r = stream::reset::reset(&settings.output_dir, &keys, &a.topic, &a.reason).map_err(run_failure)?;
    let text = if a.json {
        serde_json::to_string_pretty(&r).context("serialising the report").exit(Exit::Internal)? + "\n"
    } else {
        let partitions: Vec<String> = r.durable_offsets.iter().map(|(p, n)| format!("{p}: {n}")).collect();
        format!(
            "topic {} starts over in epoch {}: its partitions had durable offsets {{{}}}; the next stream session \
             reads it from its start, and names the new batches' files apart from the old ones\n",
            r.topic,
            r.epoch,
            partitions.join(", ")
        )
    };
    out!("{text}");
    Ok(Exit::Success)
}

fn text(r: &StreamReport) -> String {
    let mut s = format!(
        "stream {}: stopped ({})\n  received {} (skipped as already written {}, dropped on revocation {}, \
         read again in order {})\n  \
         written {} quarantined {} (sent to the dead-letter topic {}) in {} batches, {} files; \
         batch latency p50 {} ms, p99 {} ms\n  \
         produced to durable: p50 {} ms, p99 {} ms, max {} ms\n",
        r.run_id,
        r.stopped,
        r.received,
        r.skipped,
        r.dropped_on_revoke,
        r.refetched,
        r.written,
        r.quarantined,
        r.dead_lettered,
        r.batches,
        r.files,
        r.batch_latency_ms.0,
        r.batch_latency_ms.1,
        r.produce_to_durable_ms.0,
        r.produce_to_durable_ms.1,
        r.produce_to_durable_ms.2
    );
    if r.nulled > 0 {
        s.push_str(&format!("  fields nulled (records kept, named in _dq) {}\n", r.nulled));
    }
    let v = &r.versions;
    s.push_str(&format!(
        "  records: new {}, changed {} (earlier versions moved to history {}), unchanged (held already, not staged \
         again) {}, refused (erased or withdrawn) {}, older than the version held {}\n",
        v.new, v.changed, r.superseded, v.unchanged, v.refused, v.older
    ));
    if r.missing_upstream > 0 {
        s.push_str(&format!(
            "  MISSING {} offsets the output needed are not on the broker (see the warnings)\n",
            r.missing_upstream
        ));
    }
    for h in &r.held {
        s.push_str(&format!("  HELD {h}\n"));
    }
    s
}

/// `tellonce bench-stream`: see [`BenchStreamArgs`].
pub(super) fn bench(a: &BenchStreamArgs) -> Result<Exit, Failure> {
    let (dir, temporary) = match &a.dir {
        Some(d) => (d.clone(), false),
        None => (std::env::temp_dir().join(format!("tellonce-bench-stream-{}", std::process::id())), true),
    };
    let data = dir.join("data");
    let (_, config) = super::demo::synth_quiet(&SynthArgs {
        out: data.clone(),
        children: 20_000,
        seed: 42,
        errors: "default".to_owned(),
        months: 0,
    })?;
    let templates = police_templates(&data)?;
    // Kept alive until the benchmark ends: dropping it stops the broker.
    let (cluster, brokers) = bench_broker(a)?;
    let topic = format!("bench-police-{}", std::process::id());
    create_bench_topic(cluster.as_ref(), &brokers, &topic, a.partitions)?;
    let producer = mock::Producer::new(
        &brokers,
        &[
            ("linger.ms", if a.rate.is_some() { "5" } else { "20" }),
            ("batch.num.messages", "10000"),
            ("queue.buffering.max.messages", "1000000"),
        ],
    )
    .exit(Exit::Internal)?;
    let messages = a.messages;
    let rate = a.rate;
    let produce_topic = topic.clone();
    // Paced traffic is produced while the stream runs; a burst is produced before it starts.
    let warmup = Duration::from_millis(if rate.is_some() { a.warmup_ms } else { 0 });
    let mut producing = Some(std::thread::spawn(move || {
        std::thread::sleep(warmup);
        produce(&producer, &produce_topic, &templates, messages, rate)
    }));
    if rate.is_none()
        && let Some(p) = producing.take()
    {
        let secs = join_producer(p)?;
        errln!("produced {} messages in {secs:.1}s", a.messages);
    }
    let properties = a
        .properties
        .iter()
        .map(|p| p.split_once('=').map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned())))
        .collect::<Option<Vec<_>>>()
        .ok_or_else(|| anyhow::anyhow!("--property takes KEY=VALUE"))
        .exit(Exit::Config)?;
    let mut settings = Settings::load(&config).exit(Exit::Config)?;
    settings.output_dir = dir.join("out");
    settings.linkage_enabled = false;
    let police = tellonce_schemas::feed::latest("police").context("the police schema").exit(Exit::Internal)?;
    settings.stream = Some(crate::config::StreamSettings {
        brokers,
        group_id: format!("bench-{}", std::process::id()),
        max_batch_rows: a.batch_rows,
        max_batch_ms: a.batch_ms,
        max_message_bytes: 1 << 20,
        properties,
        metrics_address: None,
        dead_letter_topic: None,
        topics: vec![crate::config::Topic { topic, feed: police, mapping: None, mode: Default::default() }],
    });
    let stop = std::sync::atomic::AtomicBool::new(false);
    let cpu_before = super::demo::cpu_seconds();
    let started = Instant::now();
    let report = stream::stream(
        &settings,
        &StreamOptions { idle_exit: Some(Duration::from_secs(10)), max_messages: Some(a.messages) },
        &stop,
    )
    .map_err(run_failure)?;
    let secs = started.elapsed().as_secs_f64();
    let cpu = cpu_before.zip(super::demo::cpu_seconds()).map(|(a, b)| b - a);
    if let Some(p) = producing {
        join_producer(p)?;
    }
    print_bench(a, &report, secs);
    // Paced runs produce while streaming, so the process's CPU is not the stream's alone.
    if rate.is_none()
        && let Some(cpu) = cpu
    {
        print_cpu_budget(&settings, cpu, report.received)?;
    }
    if temporary {
        let _ = std::fs::remove_dir_all(&dir);
    }
    Ok(Exit::Success)
}

/// The benchmark's figures: throughput, batch latency, peak memory and produce-to-durable
/// latency.
fn print_bench(a: &BenchStreamArgs, report: &StreamReport, secs: f64) {
    outln!(
        "{:>10} {:>9} {:>12} {:>10} {:>10} {:>13}",
        "messages",
        "seconds",
        "messages/s",
        "p50 ms",
        "p99 ms",
        "peak RSS MiB"
    );
    outln!(
        "{:>10} {:>9.2} {:>12.0} {:>10} {:>10} {:>13.1}",
        report.received,
        secs,
        report.received as f64 / secs,
        report.batch_latency_ms.0,
        report.batch_latency_ms.1,
        super::demo::peak_rss_mib().unwrap_or(f64::NAN)
    );
    outln!(
        "written {} quarantined {} in {} batches (time includes joining the group; latency is from a batch's \
         first message to its commit)",
        report.written,
        report.quarantined,
        report.batches
    );
    if report.received < a.messages {
        errln!(
            "warning: only {} of {} messages were read: librdkafka's in-process mock keeps about 5 MB a \
             partition and drops older messages, so give --brokers for runs of more than a few tens of thousands",
            report.received,
            a.messages
        );
    }
    let (p50, p99, max) = report.produce_to_durable_ms;
    outln!(
        "produced to durable ({}): p50 {p50} ms, p99 {p99} ms, max {max} ms",
        match a.rate {
            Some(r) => format!("{r} messages/s paced, from {} ms after the stream started", a.warmup_ms),
            None => "all produced before the stream started, so this is mostly queueing".to_owned(),
        }
    );
}

/// Creates the benchmark's topic: on the in-process cluster, or through the given broker.
fn create_bench_topic(
    cluster: Option<&mock::Cluster>,
    brokers: &str,
    topic: &str,
    partitions: i32,
) -> Result<(), Failure> {
    if let Some(c) = cluster {
        c.create_topic(topic, partitions).exit(Exit::Internal)?;
    } else {
        mock::create_topic(brokers, topic, partitions).map_err(|e| match e {
            // The broker refused it: the benchmark was asked for what it cannot have.
            e @ KafkaError::CreateTopic { .. } => Failure { exit: Exit::Input, error: anyhow::Error::new(e) },
            e => Failure { exit: Exit::Internal, error: anyhow::Error::new(e) },
        })?;
    }
    Ok(())
}

/// The synthetic police records under `data`, each split around its record_id so that copies
/// get new ids.
fn police_templates(data: &std::path::Path) -> Result<Vec<(String, String, String)>, Failure> {
    let text =
        std::fs::read_to_string(data.join("inputs/police.jsonl")).context("reading police.jsonl").exit(Exit::Output)?;
    let templates: Vec<(String, String, String)> = text
        .lines()
        .filter_map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).ok()?;
            let id = v.get("record_id")?.as_str()?.to_owned();
            let needle = format!("\"{id}\"");
            let at = l.find(&needle)?;
            Some((l[..at + 1].to_owned(), id, l[at + needle.len() - 1..].to_owned()))
        })
        .collect();
    if templates.is_empty() {
        return Err(anyhow::anyhow!("no police records to copy")).exit(Exit::Internal);
    }
    Ok(templates)
}

/// The broker to benchmark against: the one given, or a mock cluster started here (returned
/// with its address).
fn bench_broker(a: &BenchStreamArgs) -> Result<(Option<mock::Cluster>, String), Failure> {
    match &a.brokers {
        Some(b) => Ok((None, b.clone())),
        None => {
            let cluster = mock::Cluster::start(1).exit(Exit::Internal)?;
            let brokers = cluster.bootstrap_servers();
            Ok((Some(cluster), brokers))
        }
    }
}

/// What the stream cost a message in CPU, how much of it the keyed hashes take, and what the
/// #6 target (200 000 messages/s) would leave a message on this machine's cores.
fn print_cpu_budget(settings: &Settings, cpu_secs: f64, messages: u64) -> Result<(), Failure> {
    const TARGET: f64 = 200_000.0;
    let cores = std::thread::available_parallelism().map_or(2, usize::from) as f64;
    let per_message_us = cpu_secs * 1e6 / messages.max(1) as f64;
    let tokens = super::hash_floor::tokens_written(&settings.output_dir.join(tellonce_output::layout::STAGING))
        .context("counting the tokens in the staging files")
        .exit(Exit::Internal)?;
    let tokeniser = tellonce_governance::KeyRing::load(&settings.key_file)
        .exit(Exit::Config)?
        .tokeniser(tellonce_governance::Purpose::Linkage);
    let ns = super::hash_floor::hmac_ns(&tokeniser);
    let hashes = tokens as f64 / messages.max(1) as f64;
    outln!(
        "CPU: {cpu_secs:.1} s (user and system, every thread of the stream) = {per_message_us:.1} µs a message, \
         {:.0} messages/s at most on {cores} cores; of it {hashes:.1} HMAC-SHA256 a message at {ns:.0} ns = {:.2} µs; \
         {TARGET} messages/s would leave {:.1} µs a message, the broker's share included if it runs here",
        cores * 1e6 / per_message_us.max(f64::MIN_POSITIVE),
        hashes * ns / 1000.0,
        cores * 1e6 / TARGET
    );
    Ok(())
}

/// Sends `messages` copies of the templates, each with a new record id, `rate` a second if
/// given; returns the seconds it took.
fn produce(
    producer: &mock::Producer,
    topic: &str,
    templates: &[(String, String, String)],
    messages: u64,
    rate: Option<u64>,
) -> Result<f64, String> {
    let started = Instant::now();
    let mut payload = String::new();
    for i in 0..messages {
        if let Some(r) = rate.filter(|r| *r > 0) {
            let due = Duration::from_secs_f64(i as f64 / r as f64);
            if let Some(wait) = due.checked_sub(started.elapsed()) {
                std::thread::sleep(wait);
            }
            producer.poll(Duration::ZERO);
        }
        let (head, id, tail) = &templates[(i as usize) % templates.len()];
        payload.clear();
        payload.push_str(head);
        payload.push_str(&format!("{id}-{i}"));
        payload.push_str(tail);
        let key = i.to_string();
        while producer.send(topic, &key, Some(payload.as_bytes()), &[]).is_err() {
            producer.poll(Duration::from_millis(10));
        }
    }
    producer.flush(Duration::from_secs(120)).map_err(|e| e.to_string())?;
    Ok(started.elapsed().as_secs_f64())
}

fn join_producer(producing: std::thread::JoinHandle<Result<f64, String>>) -> Result<f64, Failure> {
    match producing.join() {
        Ok(r) => r.map_err(anyhow::Error::msg).exit(Exit::Internal),
        Err(_) => Err(anyhow::anyhow!("the producer thread panicked")).exit(Exit::Internal),
    }
}
