//! `tellonce synth`, `tellonce demo` and `tellonce bench`: synthetic data, the one-command demo
//! on the embedded default, and the throughput benchmark.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context as _;
use tellonce_connectors::file_source::FileFormat;
use tellonce_schemas::feed;

use super::args::{BenchArgs, DemoArgs, SynthArgs};
use super::{ExitContext, Failure, hash_floor, print_summary, run_failure};
use crate::config::{DEFAULT_MAX_WITHDRAWAL_SHARE, LimitsFile, Settings, Source};
use crate::examples;
use crate::exit::Exit;
use crate::run::{self, RunOptions};
use crate::synth::{self, SynthOptions, SynthSummary};

/// The config file `synth` writes beside the data.
pub const CONFIG_NAME: &str = "tellonce.toml";

/// The directory `synth` writes the example agreements into.
pub const AGREEMENTS_DIR: &str = "agreements";

/// The directory `synth` writes the definitions of feeds that are not built in into.
pub const FEEDS_DIR: &str = "feeds";

/// Writes the synthetic data, a key (kept if one exists) and a ready-to-run config.
pub(super) fn synth(a: &SynthArgs) -> Result<(SynthSummary, PathBuf), Failure> {
    let (summary, config) = synth_quiet(a)?;
    outln!(
        "wrote {} synthetic records ({} persons, {} families) to {}\nconfig: {}",
        summary.records,
        summary.persons,
        summary.families,
        a.out.display(),
        config.display()
    );
    Ok((summary, config))
}

/// [`synth`] without printing.
pub(super) fn synth_quiet(a: &SynthArgs) -> Result<(SynthSummary, PathBuf), Failure> {
    let started = Instant::now();
    // Synthetic data goes only where synthetic data already is, or into a new or empty
    // directory: never over a real deployment's config, inputs or key.
    let non_empty = std::fs::read_dir(&a.out).map(|mut d| d.next().is_some()).unwrap_or(false);
    if non_empty && !a.out.join(synth::README_NAME).exists() {
        return Err(anyhow::anyhow!(
            "{} is not empty and holds no synthetic data ({} is missing); choose a new directory",
            a.out.display(),
            synth::README_NAME
        ))
        .exit(Exit::Config);
    }
    let model = synth::ErrorModel::parse(&a.errors).unwrap_or_default();
    let summary =
        synth::generate_with_errors(&SynthOptions { out: a.out.clone(), children: a.children, seed: a.seed }, model)
            .with_context(|| format!("writing synthetic data under {}", a.out.display()))
            .exit(Exit::Output)?;
    if a.months > 0 {
        let m = synth::write_months(&a.out, &summary.feeds, a.months, a.seed)
            .with_context(|| format!("writing monthly extracts under {}", a.out.join("months").display()))
            .exit(Exit::Output)?;
        tracing::info!(
            months = m.months,
            withdrawn = m.withdrawn,
            corrections = m.corrections,
            "monthly extracts written"
        );
    }
    let key = a.out.join("keys").join("tellonce.key");
    if !key.exists() {
        tellonce_governance::create_key_file(&key).exit(Exit::Output)?;
    }
    let agreements = a.out.join(AGREEMENTS_DIR);
    examples::write_agreements(&agreements)
        .with_context(|| format!("writing example agreements into {}", agreements.display()))
        .exit(Exit::Output)?;
    let fed: Vec<&str> = summary.feeds.iter().map(|f| f.feed).collect();
    let feeds_dir = a.out.join(FEEDS_DIR);
    let own_feeds = examples::write_example_feeds(&fed, &feeds_dir, &agreements)
        .with_context(|| format!("writing example feed definitions into {}", feeds_dir.display()))
        .exit(Exit::Output)?;
    let config = a.out.join(CONFIG_NAME);
    let text = config_text(&summary, &a.out, own_feeds);
    tellonce_connectors::atomic::write_atomic(&config, text.as_bytes())
        .with_context(|| format!("writing {}", config.display()))
        .exit(Exit::Output)?;
    tracing::info!(
        children = a.children,
        seed = a.seed,
        errors = a.errors.as_str(),
        persons = summary.persons,
        families = summary.families,
        records = summary.records,
        seconds = started.elapsed().as_secs_f64(),
        "synthetic data written"
    );
    Ok((summary, config))
}

fn config_text(summary: &SynthSummary, out: &Path, own_feeds: bool) -> String {
    let rel = |p: &Path| p.strip_prefix(out).unwrap_or(p).display().to_string();
    let mut s = String::from(
        "# Written by `tellonce synth`: synthetic data only. Paths are relative to this file.\n\n\
         [output]\ndir = \"output\"\n\n[keys]\nfile = \"keys/tellonce.key\"\n\n\
         # Example agreements, one per feed: review them before real data flows.\n\
         [governance]\nagreements = \"agreements\"\n\n",
    );
    if own_feeds {
        s.push_str(
            "# Feeds this deployment defines itself, beside the built-in ones (no new release needed).\n\
             [feeds]\ndir = \"feeds\"\n\n",
        );
    }
    let _ = writeln!(s, "[reference]\npostcode_lookup = {:?}\n", rel(&summary.postcode_lookup));
    let _ = writeln!(
        s,
        "# Published tables by family hub locality use this lookup of small areas.\n[outcomes]\nlocalities = {:?}\n",
        rel(&summary.localities)
    );
    for f in &summary.feeds {
        let _ = writeln!(s, "[[sources]]\nfeed = {:?}\npath = {:?}\nformat = {:?}\n", f.feed, rel(&f.path), f.format);
    }
    s
}

/// Synthesise, run, summarise.
pub(super) fn demo(a: &DemoArgs) -> Result<Exit, Failure> {
    let args =
        SynthArgs { out: a.out.clone(), children: a.children, seed: a.seed, errors: a.errors.clone(), months: 0 };
    // With --json, stdout holds the summary alone.
    let (_, config) = if a.json { synth_quiet(&args)? } else { synth(&args)? };
    let settings = Settings::load(&config).exit(Exit::Config)?;
    let opts = RunOptions { force: false, as_of: None, allow_mass_withdrawal: false };
    let bar = super::progress_bar::Bar::new(true);
    let report = run::run_with_progress(&settings, &opts, &bar).map_err(run_failure)?;
    print_summary(&report, a.json)?;
    if !a.json {
        outln!(
            "\nstaging Parquet: {}/staging/feed=*/\ntry: duckdb -c \"SELECT feed, count(*) FROM read_parquet('{}/staging/*/*.parquet', hive_partitioning=true) GROUP BY feed\"",
            settings.output_dir.display(),
            settings.output_dir.display()
        );
    }
    Ok(if report.has_rejected_inputs() { Exit::Input } else { Exit::Success })
}

/// Generates rows of one feed, runs them, and prints records/s and peak RSS.
pub(super) fn bench(a: &BenchArgs) -> Result<Exit, Failure> {
    let schema =
        feed::latest(&a.feed).ok_or_else(|| anyhow::anyhow!("no feed named {:?}", a.feed)).exit(Exit::Config)?;
    let (dir, temporary) = match &a.dir {
        Some(d) => (d.clone(), false),
        None => (std::env::temp_dir().join(format!("tellonce-bench-{}", std::process::id())), true),
    };
    let key = dir.join("bench.key");
    if !key.exists() {
        tellonce_governance::create_key_file(&key).exit(Exit::Output)?;
    }
    let agreements = dir.join(AGREEMENTS_DIR);
    examples::write_agreements(&agreements)
        .with_context(|| format!("writing example agreements into {}", agreements.display()))
        .exit(Exit::Output)?;
    let tokeniser =
        tellonce_governance::KeyRing::load(&key).exit(Exit::Config)?.tokeniser(tellonce_governance::Purpose::Linkage);
    let cores = std::thread::available_parallelism().map_or(2, usize::from);
    outln!(
        "{:<16} {:>11} {:>9} {:>9} {:>13} {:>13}  notes",
        "feed",
        "rows",
        "input MiB",
        "seconds",
        "records/s",
        "peak RSS MiB"
    );
    let mut floors = Vec::new();
    // A given file is measured once, as it is; otherwise one generated CSV per row count.
    let runs: Vec<(u64, PathBuf)> = match &a.input {
        Some(path) => vec![(0, path.clone())],
        None => a.rows.iter().map(|&r| (r, dir.join("input").join(format!("{}-{r}.csv", a.feed)))).collect(),
    };
    for (rows, input) in runs {
        let format = FileFormat::from_path(&input).unwrap_or(FileFormat::Csv);
        if a.input.is_none() && !input.exists() {
            if let Some(parent) = input.parent() {
                std::fs::create_dir_all(parent)
                    .with_context(|| format!("creating {}", parent.display()))
                    .exit(Exit::Output)?;
            }
            synth::write_bench_feed(&a.feed, rows, 7, &input)
                .with_context(|| format!("writing {}", input.display()))
                .exit(Exit::Output)?;
        }
        let out = dir.join(format!("out-{rows}"));
        let _ = std::fs::remove_dir_all(&out);
        let limits = LimitsFile::default();
        let settings = Settings {
            output_dir: out.clone(),
            key_file: key.clone(),
            postcode_lookup: None,
            agreements_dir: agreements.clone(),
            feeds_dir: None,
            batch_rows: limits.batch_rows,
            max_line_bytes: limits.max_line_bytes,
            row_group_rows: limits.row_group_rows,
            max_file_rows: limits.max_file_rows,
            workers: std::thread::available_parallelism().map_or(2, usize::from),
            sources: vec![Source {
                feed: schema,
                path: input.clone(),
                format,
                mode: Default::default(),
                max_withdrawal_share: DEFAULT_MAX_WITHDRAWAL_SHARE,
                snapshot_of_source: None,
                snapshot_where: None,
                sheet: None,
            }],
            // This bench measures ingest; `bench-link` measures the build tier.
            linkage_enabled: false,
            linkage_model: None,
            linkage_decisions: None,
            linkage: crate::link::cluster::Options::default(),
            themes_file: None,
            outcomes: Default::default(),
            stream: None,
            readings: Default::default(),
            unmatched_patterns: Vec::new(),
        };
        let started = Instant::now();
        let opts = RunOptions { force: true, as_of: None, allow_mass_withdrawal: false };
        let report = run::run(&settings, &opts).map_err(run_failure)?;
        let secs = started.elapsed().as_secs_f64();
        let i = &report.inputs[0];
        let mib = std::fs::metadata(&input).map_or(0.0, |m| m.len() as f64 / 1_048_576.0);
        outln!(
            "{:<16} {:>11} {:>9.1} {:>9.2} {:>13.0} {:>13.1}  {format}; written {} quarantined {}",
            a.feed,
            i.read,
            mib,
            secs,
            i.read as f64 / secs,
            peak_rss_mib().unwrap_or(f64::NAN),
            i.written,
            i.quarantined
        );
        let tokens = hash_floor::tokens_written(&out.join(tellonce_output::layout::STAGING))
            .context("counting the tokens in the staging files")
            .exit(Exit::Internal)?;
        floors.push((i.read, tokens as f64 / i.read.max(1) as f64));
        let _ = std::fs::remove_dir_all(&out);
    }
    outln!("(peak RSS is the process high-water mark so far, read from /proc/self/status VmHWM)");
    let ns = hash_floor::hmac_ns(&tokeniser);
    for (rows, per_record) in floors {
        let cpu_us = per_record * ns / 1000.0;
        outln!(
            "floor at {rows} rows: {per_record:.1} HMAC-SHA256 a record (the non-null 16-byte tokens and keys written) \
             at {ns:.0} ns each = {cpu_us:.2} µs of CPU a record; {cores} cores cannot pass {:.0} records/s on those \
             hashes alone",
            cores as f64 * 1e6 / cpu_us.max(f64::MIN_POSITIVE)
        );
    }
    if temporary {
        let _ = std::fs::remove_dir_all(&dir);
    }
    Ok(Exit::Success)
}

/// The CPU time this process has used so far, user and system together, in seconds (Linux:
/// `/proc/self/stat`, whose clock ticks are 1/100 s for every user-space reader).
pub(super) fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The command name, in parentheses, may hold spaces: count the fields after it.
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace().skip(11);
    let user: f64 = fields.next()?.parse().ok()?;
    let system: f64 = fields.next()?.parse().ok()?;
    Some((user + system) / 100.0)
}

/// The process's peak resident set size, in MiB (Linux).
pub(super) fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}
