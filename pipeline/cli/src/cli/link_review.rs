//! `tellonce link-review`: the clerical-review sample of the last build, for officers to check
//! in the source systems (record references only).

use std::fmt::Write as _;

use anyhow::Context as _;
use tellonce_build::link::decisions::{Decisions, ReviewTally};
use tellonce_build::link::model_file;

use super::args::LinkReviewArgs;
use super::{ExitContext, Failure};
use crate::exit::Exit;

/// `tellonce link-review`.
pub(super) fn link_review(a: &LinkReviewArgs) -> Result<Exit, Failure> {
    let out = super::link::output_dir(&a.from)?;
    let pairs = model_file::read_review(&out).exit(Exit::Input)?;
    let model = model_file::read_model(&out).exit(Exit::Input)?;
    if a.csv {
        let mut w = csv::Writer::from_writer(Vec::new());
        let fail = |e: csv::Error| Failure { exit: Exit::Internal, error: anyhow::Error::new(e) };
        w.write_record(["record_a", "record_b", "bits", "probability", "linked", "levels", "same_person"])
            .map_err(fail)?;
        for p in &pairs {
            let levels: Vec<String> = p.levels.iter().map(|(f, l)| format!("{f}={l}")).collect();
            let (bits, probability) = (format!("{:.2}", p.bits), format!("{:.4}", p.probability));
            w.write_record([&p.a, &p.b, &bits, &probability, &p.linked.to_string(), &levels.join(" "), ""])
                .map_err(fail)?;
        }
        let bytes = w.into_inner().context("writing CSV").exit(Exit::Internal)?;
        out!("{}", String::from_utf8_lossy(&bytes));
        return Ok(Exit::Success);
    }
    if a.json {
        out!("{}\n", serde_json::to_string_pretty(&pairs).context("serialising").exit(Exit::Internal)?);
        return Ok(Exit::Success);
    }
    let decisions = match (&a.decisions, &a.from.config) {
        (Some(path), _) => Some(path.clone()),
        (None, Some(config)) => crate::config::Settings::load(config).exit(Exit::Config)?.linkage_decisions,
        (None, None) => None,
    };
    let tally = decisions
        .map(|path| Decisions::load(&path).map(|d| d.tally(&pairs, model.threshold_bits)))
        .transpose()
        .exit(Exit::Input)?;
    let mut s = String::new();
    match (model.estimated_precision, model.estimated_recall) {
        (Some(p), Some(r)) => {
            let _ = writeln!(
                s,
                "estimated by the model (no ground truth): precision {p:.4}, recall {r:.4} at the threshold"
            );
        }
        _ => s.push_str("this build recorded no estimate of precision and recall\n"),
    }
    if let Some(t) = tally {
        tally_text(&mut s, &t);
    }
    let _ = writeln!(
        s,
        "{} pairs within 4 bits of the threshold ({:.1} bits), a sample fixed by their references.\n\
         Check each in the source systems and fill in same_person (--csv gives a sheet to fill):\n",
        pairs.len(),
        model.threshold_bits
    );
    let _ = writeln!(s, "{:<34} {:<34} {:>7} {:>8}  {:<7} levels", "record", "record", "bits", "prob", "linked");
    for p in &pairs {
        let levels: Vec<String> = p.levels.iter().map(|(f, l)| format!("{f}={l}")).collect();
        let linked = if p.linked { "yes" } else { "no" };
        let _ = writeln!(
            s,
            "{:<34} {:<34} {:>7.2} {:>8.4}  {linked:<7} {}",
            p.a,
            p.b,
            p.bits,
            p.probability,
            levels.join(" ")
        );
    }
    out!("{s}");
    Ok(Exit::Success)
}

/// What the officers decided of the sample, beside the model's estimate.
fn tally_text(s: &mut String, t: &ReviewTally) {
    let share = |(decided, same): (u64, u64)| {
        if decided == 0 { "none decided".to_owned() } else { format!("{same} of {decided} one person") }
    };
    let _ = writeln!(
        s,
        "reviewed by officers ({} of {} pairs decided): at or above the line {}; below it {}",
        t.above.0 + t.below.0,
        t.sampled,
        share(t.above),
        share(t.below)
    );
    if t.above.0 > 0 {
        let _ =
            writeln!(s, "  reviewed precision of the links near the line: {:.3}", t.above.1 as f64 / t.above.0 as f64);
    }
}
