//! `tellonce quarantine`: what was set aside and why (never values), and the decrypting export
//! for the authorised user who fixes and replays it.

use std::collections::BTreeMap;
use std::fs::OpenOptions;
use std::io::{BufWriter, Write};

use anyhow::Context as _;
use base64::Engine as _;
use tellonce_connectors::quarantine;
use tellonce_governance::KeyRing;

use super::args::QuarantineCommand;
use super::{ExitContext, Failure};
use crate::config::Settings;
use crate::exit::Exit;

pub(super) fn command(c: QuarantineCommand) -> Result<Exit, Failure> {
    match c {
        QuarantineCommand::List { config, json } => {
            let settings = Settings::load(&config).exit(Exit::Config)?;
            let entries = quarantine::read_all(&settings.output_dir)
                .with_context(|| format!("reading quarantine under {}", settings.output_dir.display()))
                .exit(Exit::Input)?;
            // A workbook listed once per sheet is one source per sheet.
            let mut counts: BTreeMap<(String, String, String, String, Option<String>), u64> = BTreeMap::new();
            for (_, e) in &entries {
                let column = e.column.clone().unwrap_or_default();
                let key = (e.feed.clone(), e.rule.clone(), column, e.source.clone(), e.sheet.clone());
                *counts.entry(key).or_default() += 1;
            }
            if json {
                let rows: Vec<_> = counts
                    .iter()
                    .map(|((feed, rule, column, source, sheet), n)| {
                        let mut row = serde_json::json!({"feed": feed, "rule": rule, "column": column, "source": source, "count": n});
                        if let Some(sheet) = sheet {
                            row["sheet"] = serde_json::Value::String(sheet.clone());
                        }
                        row
                    })
                    .collect();
                outln!("{}", serde_json::Value::Array(rows));
            } else {
                outln!("{:<16} {:<24} {:<22} {:>8}  source", "feed", "rule", "column", "count");
                for ((feed, rule, column, source, sheet), n) in &counts {
                    let sheet = sheet.as_ref().map_or(String::new(), |s| format!(", sheet {s:?}"));
                    outln!("{feed:<16} {rule:<24} {column:<22} {n:>8}  {source}{sheet}");
                }
                outln!("{} quarantined record(s) in all", entries.len());
            }
            Ok(Exit::Success)
        }
        QuarantineCommand::Export { config, out, feed } => {
            // A misspelt feed would export nothing and look like "no quarantined records".
            if let Some(f) = feed.as_deref().filter(|f| tellonce_schemas::feed::latest(f).is_none()) {
                let known: Vec<&str> = tellonce_schemas::feed::names().collect();
                return Err(anyhow::anyhow!("--feed {f:?} is not a feed; known feeds: {}", known.join(", ")))
                    .exit(Exit::Config);
            }
            let settings = Settings::load(&config).exit(Exit::Config)?;
            let keys = KeyRing::load(&settings.key_file).exit(Exit::Config)?;
            let sealer = keys.sealer();
            let entries = quarantine::read_all(&settings.output_dir)
                .with_context(|| format!("reading quarantine under {}", settings.output_dir.display()))
                .exit(Exit::Input)?;
            if out.exists() {
                return Err(anyhow::anyhow!("{} exists already; choose a new file", out.display())).exit(Exit::Output);
            }
            // Written under a temporary name and renamed when complete: a failed export leaves no
            // partial file of clear records behind.
            let tmp = out.with_file_name(format!(
                ".{}.partial",
                out.file_name().map_or_else(|| "export".into(), |n| n.to_string_lossy())
            ));
            let result = export(&entries, feed.as_deref(), &sealer, &tmp);
            let n = match result.and_then(|n| {
                std::fs::rename(&tmp, &out)
                    .with_context(|| format!("renaming to {}", out.display()))
                    .exit(Exit::Output)?;
                Ok(n)
            }) {
                Ok(n) => n,
                Err(f) => {
                    let _ = std::fs::remove_file(&tmp);
                    return Err(f);
                }
            };
            tracing::warn!(records = n, "quarantined records exported in clear; delete the file once they are fixed");
            outln!("exported {n} record(s) to {} (mode 0600; contains clear identifiers)", out.display());
            Ok(Exit::Success)
        }
    }
}

/// Decrypts the selected entries into a new 0600 file at `path`; returns how many.
fn export(
    entries: &[(std::path::PathBuf, quarantine::QuarantineEntry)],
    feed: Option<&str>,
    sealer: &tellonce_governance::Sealer,
    path: &std::path::Path,
) -> Result<u64, Failure> {
    let mut opts = OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let file = opts.open(path).with_context(|| format!("creating {}", path.display())).exit(Exit::Output)?;
    let mut w = BufWriter::new(file);
    let mut n = 0u64;
    for (qpath, e) in entries.iter().filter(|(_, e)| feed.is_none_or(|f| f == e.feed)) {
        let raw = sealer
            .open(&e.aad(), &e.sealed)
            .map_err(|err| anyhow::anyhow!("{}: entry at {} line {}: {err}", qpath.display(), e.source, e.position))
            .exit(Exit::Input)?;
        let mut obj = serde_json::json!({
            "feed": e.feed, "source": e.source, "position": e.position, "rule": e.rule, "column": e.column,
        });
        // A workbook's row is its row of this sheet.
        if let Some(sheet) = &e.sheet {
            obj["sheet"] = serde_json::Value::String(sheet.clone());
        }
        match String::from_utf8(raw) {
            Ok(s) => obj["record"] = serde_json::Value::String(s),
            Err(bytes) => {
                obj["record_base64"] =
                    serde_json::Value::String(base64::engine::general_purpose::STANDARD.encode(bytes.as_bytes()))
            }
        }
        writeln!(w, "{obj}").with_context(|| format!("writing {}", path.display())).exit(Exit::Output)?;
        n += 1;
    }
    let file = w
        .into_inner()
        .map_err(|e| e.into_error())
        .with_context(|| format!("writing {}", path.display()))
        .exit(Exit::Output)?;
    file.sync_all().with_context(|| format!("writing {}", path.display())).exit(Exit::Output)?;
    Ok(n)
}
