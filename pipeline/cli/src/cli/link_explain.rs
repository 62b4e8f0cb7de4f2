//! `tellonce link-explain`: why one record is linked as it is, as an officer reads it.

use std::fmt::Write as _;

use anyhow::Context as _;
use tellonce_build::link::explain::{Explanation, PairExplanation, RecordName};

use super::args::LinkExplainArgs;
use super::{ExitContext, Failure, run_failure};
use crate::config::Settings;
use crate::exit::Exit;
use crate::run::{self, ExplainRequest};

/// Bits per character of a waterfall bar.
const BITS_PER_MARK: f64 = 1.0;

/// `tellonce link-explain`.
pub(super) fn link_explain(a: &LinkExplainArgs) -> Result<Exit, Failure> {
    let record = RecordName::parse(&a.record)
        .with_context(|| "--record takes FEED:RECORD_ID (for example housing:HCLIC-00000123)")
        .exit(Exit::Config)?;
    let settings = Settings::load(&a.config).exit(Exit::Config)?;
    let request = ExplainRequest { record, officer: a.officer.clone(), reference: a.reference.clone(), limit: a.limit };
    let found = run::explain(&settings, &request).map_err(run_failure)?;
    let text = if a.json {
        serde_json::to_string_pretty(&found).context("serialising").exit(Exit::Internal)? + "\n"
    } else {
        explanation_text(&found)
    };
    out!("{text}");
    Ok(Exit::Success)
}

fn explanation_text(e: &Explanation) -> String {
    let mut s = format!(
        "record {} is person {} ({} records; joined by {})\nmatcher {}: prior {:.2e} that two candidate records are one person; a scored link needs {:.1} bits\n",
        e.record, e.person_id, e.person_records, e.match_rule, e.matcher, e.prior, e.threshold_bits
    );
    if e.pairs.is_empty() {
        s.push_str("\nno other record is in this person or shares a blocking key with it\n");
    }
    for p in &e.pairs {
        pair_text(&mut s, p);
    }
    if e.not_shown > 0 {
        let _ = writeln!(s, "\n{} more pair(s) not shown (--limit)", e.not_shown);
    }
    s.push_str(
        "\nbits = log2(m/u) of each field's level under the last build's model; a missing value weighs 0.\n\
         A person is built from its strongest links first, so two of its records may weigh little together.\n",
    );
    s
}

fn pair_text(s: &mut String, p: &PairExplanation) {
    let veto = p.veto.map(|v| format!("; the persons hold {v}")).unwrap_or_default();
    let _ = writeln!(s, "\nwith {} (joined by {}): {}{veto}", p.other, p.other_match_rule, p.verdict.describe());
    steps_text(s, &p.steps, 0.0);
    let _ =
        writeln!(s, "  {:<20} {:<26} {:>7.2}           match probability {:.4}", "total", "", p.bits, p.probability);
    if let Some(h) = &p.home {
        let _ = writeln!(
            s,
            "  in the home both partners record ({} persons; surname, postcode and address are the home's, not weighed):",
            h.persons
        );
        let running = steps_text(s, &h.steps, 0.0);
        let step =
            tellonce_build::link::explain::Step { field: "home", level: "one_of_its_others", bits: h.prior_bits };
        steps_text(s, std::slice::from_ref(&step), running);
        let _ = writeln!(
            s,
            "  {:<20} {:<26} {:>7.2}           the line (match_probability) {:.2}",
            "total", "", h.bits, h.line_bits
        );
    }
}

/// Prints `steps` as a waterfall from `running`; returns the sum reached.
fn steps_text(s: &mut String, steps: &[tellonce_build::link::explain::Step], mut running: f64) -> f64 {
    for step in steps {
        running += step.bits;
        let marks = ((step.bits.abs() / BITS_PER_MARK).round() as usize).min(30);
        let bar = if step.bits < 0.0 {
            format!("{:>30}|", "-".repeat(marks))
        } else {
            format!("{:>30}|{}", "", "+".repeat(marks))
        };
        let _ = writeln!(s, "  {:<20} {:<26} {:>7.2} {:>8.2}  {bar}", step.field, step.level, step.bits, running);
    }
    running
}
