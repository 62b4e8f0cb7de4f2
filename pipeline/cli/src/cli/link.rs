//! `tellonce build`, `tellonce link-eval` and `tellonce bench-link`.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context as _;

use super::args::{BenchLinkArgs, BuildArgs, LinkEvalArgs, LinkOutputArgs, SynthArgs, ThemesCommand};
use super::{ExitContext, Failure, run_failure};
use crate::config::Settings;
use crate::exit::Exit;
use crate::link::eval::{self, Evaluation, PairScores};
use crate::run::{self, RunOptions};
use crate::summary;

/// `tellonce build`.
pub(super) fn build(a: &BuildArgs) -> Result<Exit, Failure> {
    let settings = Settings::load(&a.config).exit(Exit::Config)?;
    let (run_id, report) = run::build(&settings).map_err(run_failure)?;
    let text = if a.json {
        serde_json::to_string_pretty(&serde_json::json!({ "run_id": run_id, "linkage": report }))
            .context("serialising the report")
            .exit(Exit::Internal)?
            + "\n"
    } else {
        format!("build {run_id}\n{}", summary::linkage_text(&report))
    };
    out!("{text}");
    Ok(Exit::Success)
}

/// The output directory a linkage command reads.
pub(super) fn output_dir(from: &LinkOutputArgs) -> Result<PathBuf, Failure> {
    match (&from.output, &from.config) {
        (Some(o), _) => Ok(o.clone()),
        (None, Some(c)) => Ok(Settings::load(c).exit(Exit::Config)?.output_dir),
        (None, None) => Err(anyhow::anyhow!("give --config or --output")).exit(Exit::Config),
    }
}

/// `tellonce link-eval`.
pub(super) fn link_eval(a: &LinkEvalArgs) -> Result<Exit, Failure> {
    let out = output_dir(&a.from)?;
    let e = eval::evaluate(&out, &a.truth)
        .with_context(|| {
            format!("evaluating {} against {}", out.join(tellonce_output::layout::LINKS).display(), a.truth.display())
        })
        .exit(Exit::Input)?;
    let text = if a.json {
        serde_json::to_string_pretty(&e).context("serialising").exit(Exit::Internal)? + "\n"
    } else {
        eval_text(&e)
    };
    out!("{text}");
    Ok(Exit::Success)
}

fn eval_text(e: &Evaluation) -> String {
    let line = |name: &str, s: &PairScores| {
        format!(
            "{name:<24} {:>9.5} {:>9.5} {:>9.5} {:>12} {:>12} {:>12}\n",
            s.precision, s.recall, s.f1, s.true_pairs, s.predicted_pairs, s.correct_pairs
        )
    };
    let mut s = format!(
        "records scored {} (in links/ but not in the truth: {}; in the truth but not in links/: {})\n",
        e.records, e.not_in_truth, e.not_linked
    );
    s.push_str(&format!(
        "{:<24} {:>9} {:>9} {:>9} {:>12} {:>12} {:>12}\n",
        "pairs", "precision", "recall", "F1", "true", "predicted", "correct"
    ));
    s.push_str(&line("persons, cross-feed", &e.persons_cross_feed));
    s.push_str(&line("persons, all", &e.persons));
    s.push_str(&line("families, cross-feed", &e.families_cross_feed));
    s.push_str(&line("families, all", &e.families));
    if !e.recall_by_error.is_empty() {
        s.push_str(&format!(
            "\nperson recall by error (pairs with a record carrying it)\n{:<24} {:>9} {:>12} {:>12} {:>12}\n",
            "error", "recall", "true", "cross recall", "cross true"
        ));
        for (name, r) in &e.recall_by_error {
            s.push_str(&format!(
                "{:<24} {:>9.4} {:>12} {:>12.4} {:>12}\n",
                name, r.recall, r.true_pairs, r.cross_feed_recall, r.cross_feed_true_pairs
            ));
        }
    }
    s
}

/// Splits each line-oriented file (CSV with a header, or JSON Lines) into two halves.
fn split_halves(input: &Path, first: &Path, second: &Path) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(input).with_context(|| format!("reading {}", input.display()))?;
    let csv = input.extension().is_some_and(|e| e == "csv");
    let mut lines = text.lines();
    let header = if csv { lines.next().map(|h| format!("{h}\n")) } else { None };
    let rows: Vec<&str> = lines.collect();
    let mid = rows.len() / 2;
    for (path, part) in [(first, &rows[..mid]), (second, &rows[mid..])] {
        let mut out = header.clone().unwrap_or_default();
        for r in part {
            out.push_str(r);
            out.push('\n');
        }
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(path, out).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

/// `tellonce bench-link`: one synthetic population, its records split in two halves by
/// position in each feed file; the first half is ingested and linked (the index), then the
/// second is ingested and linked against it. Prints the build times, records/s and peak memory.
pub(super) fn bench_link(a: &BenchLinkArgs) -> Result<Exit, Failure> {
    let (dir, temporary) = match &a.dir {
        Some(d) => (d.clone(), false),
        None => (std::env::temp_dir().join(format!("tellonce-bench-link-{}", std::process::id())), true),
    };
    let data = dir.join("data");
    let started = Instant::now();
    let (summary, config) = super::demo::synth_quiet(&SynthArgs {
        out: data.clone(),
        children: a.children,
        seed: 42,
        errors: "default".to_owned(),
        months: 0,
    })?;
    errln!("synthetic population: {} records in {:.1}s", summary.records, started.elapsed().as_secs_f64());
    let base = Settings::load(&config).exit(Exit::Config)?;
    let out = dir.join("out");
    let _ = std::fs::remove_dir_all(&out);
    let mut halves: [Vec<crate::config::Source>; 2] = [Vec::new(), Vec::new()];
    for s in &base.sources {
        let name = s.path.file_name().map(PathBuf::from).unwrap_or_default();
        let (p1, p2) = (dir.join("half1").join(&name), dir.join("half2").join(&name));
        split_halves(&s.path, &p1, &p2).exit(Exit::Output)?;
        halves[0].push(crate::config::Source { path: p1, ..s.clone() });
        halves[1].push(crate::config::Source { path: p2, ..s.clone() });
    }
    outln!("{:<28} {:>10} {:>9} {:>12} {:>13}  phases (ms)", "step", "records", "seconds", "records/s", "peak RSS MiB");
    for (n, sources) in halves.into_iter().enumerate() {
        let settings = Settings { output_dir: out.clone(), sources, linkage_enabled: false, ..base.clone() };
        let t = Instant::now();
        let report = run::run(&settings, &RunOptions { force: false, as_of: None, allow_mass_withdrawal: false })
            .map_err(run_failure)?;
        let read: u64 = report.inputs.iter().map(|i| i.read).sum();
        let secs = t.elapsed().as_secs_f64();
        outln!(
            "{:<28} {:>10} {:>9.2} {:>12.0} {:>13.1}",
            format!("ingest half {}", n + 1),
            read,
            secs,
            read as f64 / secs,
            super::demo::peak_rss_mib().unwrap_or(f64::NAN)
        );
        let t = Instant::now();
        let (_, b) = run::build(&settings).map_err(run_failure)?;
        let secs = t.elapsed().as_secs_f64();
        let new = if n == 0 { b.rows } else { b.rows / 2 };
        let phases: Vec<String> = b.timings_ms.iter().map(|(k, v)| format!("{k} {v}")).collect();
        outln!(
            "{:<28} {:>10} {:>9.2} {:>12.0} {:>13.1}  {}",
            if n == 0 { "build: index from half 1".to_owned() } else { "build: half 2 against index".to_owned() },
            b.rows,
            secs,
            new as f64 / secs,
            super::demo::peak_rss_mib().unwrap_or(f64::NAN),
            phases.join(", ")
        );
        if n == 1 {
            outln!(
                "persons {} families {}; id changes: persons {} merged {} split; families {} merged {} split",
                b.persons,
                b.families,
                b.person_changes.merges,
                b.person_changes.splits,
                b.family_changes.merges,
                b.family_changes.splits
            );
        }
    }
    let e = eval::evaluate(&out, &summary.truth).exit(Exit::Output)?;
    out!("{}", eval_text(&e));
    outln!(
        "(records/s of the second build counts its new records only; peak RSS is the process high-water mark so far)"
    );
    if temporary {
        let _ = std::fs::remove_dir_all(&dir);
    }
    Ok(Exit::Success)
}

/// `tellonce themes explain`.
pub(super) fn themes(c: ThemesCommand) -> Result<Exit, Failure> {
    let ThemesCommand::Explain { config, file } = c;
    let mapping = match (config, file) {
        (_, Some(f)) => crate::outcomes::themes::Mapping::load(&f).exit(Exit::Config)?,
        (Some(c), None) => {
            let settings = Settings::load(&c).exit(Exit::Config)?;
            run::themes(&settings).map_err(run_failure)?
        }
        (None, None) => crate::outcomes::themes::Mapping::embedded().exit(Exit::Config)?,
    };
    out!("{}", mapping.explain());
    Ok(Exit::Success)
}
