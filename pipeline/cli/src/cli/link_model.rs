//! `tellonce link-model`: the scoring model of the last build, as a governance lead reads it.

use std::fmt::Write as _;

use anyhow::Context as _;
use tellonce_governance::audit::LinkageModel;

use super::args::LinkModelArgs;
use super::{ExitContext, Failure};
use crate::exit::Exit;

/// Bits per character of the match-weight chart.
const BITS_PER_MARK: f64 = 0.5;

/// `tellonce link-model`.
pub(super) fn link_model(a: &LinkModelArgs) -> Result<Exit, Failure> {
    let out = super::link::output_dir(&a.from)?;
    let model = tellonce_build::link::model_file::read_model(&out).exit(Exit::Input)?;
    let text = if a.json {
        serde_json::to_string_pretty(&model).context("serialising").exit(Exit::Internal)? + "\n"
    } else {
        model_text(&model)
    };
    out!("{text}");
    Ok(Exit::Success)
}

fn model_text(model: &LinkageModel) -> String {
    let how = if let Some(f) = &model.frozen {
        format!(
            "frozen, read from {} (SHA-256 {}): nothing estimated by the build",
            f.path,
            f.sha256.get(..16).unwrap_or(&f.sha256)
        )
    } else if model.estimated {
        format!("estimated from this deployment's data ({} training pairs)", model.training_pairs)
    } else {
        "the documented levels (too few pairs to estimate)".to_owned()
    };
    let vetoes = model.vetoes.as_deref().map(|v| format!(", vetoes {v}")).unwrap_or_default();
    let mut s = format!(
        "matcher {}{vetoes}: {how}\nprior {:.2e} that two records are one person; a scored link needs {:.1} bits\n\n",
        model.matcher, model.prior, model.threshold_bits
    );
    if let Some(h) = &model.households {
        s.insert_str(s.len() - 1, &format!("{}\n", h.describe()));
    }
    let _ = writeln!(
        s,
        "{:<14} {:<26} {:>10} {:>10} {:>8}  match weight (| = 0 bits, each mark {BITS_PER_MARK} bit)",
        "field", "level", "m", "u", "bits"
    );
    let mut field = "";
    for l in &model.levels {
        let w = l.weight();
        let shown = if l.field == field { "" } else { l.field.as_str() };
        field = &l.field;
        let marks = ((w.abs() / BITS_PER_MARK).round() as usize).min(40);
        let bar =
            if w < 0.0 { format!("{:>40}|", "-".repeat(marks)) } else { format!("{:>40}|{}", "", "+".repeat(marks)) };
        let _ = writeln!(s, "{shown:<14} {:<26} {:>10.6} {:>10.7} {w:>8.2}  {bar}", l.level, l.m, l.u);
    }
    s.push_str("\nm: the chance of the level for two records of one person; u: for two records of different people;\nbits = log2(m/u). A missing value weighs 0. Strong identifiers and swapped names keep their documented weights.\n");
    s
}
