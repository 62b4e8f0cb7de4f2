//! `tellonce records …`: partner records over time.

use anyhow::Context as _;

use super::args::ReinstateArgs;
use super::{ExitContext, Failure, run_failure};
use crate::config::Settings;
use crate::exit::Exit;
use crate::records::reinstate;
use crate::records::tombstones::Reinstate;

/// `tellonce records reinstate`: see [`ReinstateArgs`].
pub(super) fn reinstate(a: &ReinstateArgs) -> Result<Exit, Failure> {
    let settings = Settings::load(&a.config).exit(Exit::Config)?;
    let keys = tellonce_governance::KeyRing::load(&settings.key_file).exit(Exit::Config)?;
    let which = match &a.withdrawn_by {
        // An id is hex in lower case, however it was copied.
        Some(input) if input.len() == 16 && input.chars().all(|c| c.is_ascii_hexdigit()) => {
            Reinstate::WithdrawnBy(input.to_ascii_lowercase())
        }
        Some(input) => Reinstate::WithdrawnBy(input.clone()),
        None => {
            let key = reinstate::record_key(&settings, &keys, &a.feed).map_err(run_failure)?;
            Reinstate::Records(a.record.iter().map(|r| key.of(r).into_owned()).collect())
        }
    };
    let r = reinstate::reinstate(&settings.output_dir, &keys, &a.feed, &which, &a.reason, a.dry_run)
        .map_err(run_failure)?;
    let text = if a.json {
        serde_json::to_string_pretty(&r).context("serialising the report").exit(Exit::Internal)? + "\n"
    } else {
        let c = r.counts;
        let verb = if r.dry_run { "would lift" } else { "lifted" };
        let mut s = format!("{}: {verb} {} withdrawal(s)", r.feed, c.reinstated);
        if c.erased > 0 {
            s.push_str(&format!("; {} reference(s) given are erased and stay refused", c.erased));
        }
        if c.unattributed > 0 {
            s.push_str(&format!(
                "; {} withdrawal(s) standing name no input (laid before withdrawals named theirs): lift them with \
                 --record",
                c.unattributed
            ));
        }
        if c.not_withdrawn > 0 {
            s.push_str(&format!("; {} reference(s) given are not withdrawn", c.not_withdrawn));
        }
        if c.reinstated > 0 && !r.dry_run {
            s.push_str("; the next input sending one of them stages it as new");
        }
        s + "\n"
    };
    out!("{text}");
    Ok(Exit::Success)
}
