//! `tellonce stream`: Kafka topics into the staging dataset.

use std::io::Write as _;
use std::time::Duration;

use anyhow::Context as _;

use super::args::StreamArgs;
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
    let build = if a.build { Some(run::build(&settings).map_err(run_failure)?) } else { None };
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
    std::io::stdout().write_all(text.as_bytes()).context("writing the report").exit(Exit::Output)?;
    Ok(Exit::Success)
}

fn text(r: &StreamReport) -> String {
    let mut s = format!(
        "stream {}: stopped ({})\n  received {} (skipped as already written {}, dropped on revocation {})\n  \
         written {} quarantined {} in {} batches, {} files; batch latency p50 {} ms, p99 {} ms\n",
        r.run_id,
        r.stopped,
        r.received,
        r.skipped,
        r.dropped_on_revoke,
        r.written,
        r.quarantined,
        r.batches,
        r.files,
        r.batch_latency_ms.0,
        r.batch_latency_ms.1
    );
    for h in &r.held {
        s.push_str(&format!("  HELD {h}\n"));
    }
    s
}
