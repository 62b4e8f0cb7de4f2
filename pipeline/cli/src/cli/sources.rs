//! `tellonce sources check`: every configured source read through its mapping before a run,
//! reporting what would fail by count and line number, never by value.

use std::sync::Arc;

use serde::Serialize;
use tellonce_connectors::file_source::FileSourceOptions;
use tellonce_connectors::mapping::Mapping;
use tellonce_connectors::mapping::check::{self, FileCheck, Severity};

use super::args::SourcesCommand;
use super::{ExitContext, Failure};
use crate::config::{Settings, Source};
use crate::exit::Exit;
use crate::run::reportable_column_names;

/// What checking one source found.
#[derive(Debug, Serialize)]
struct SourceReport {
    feed: &'static str,
    source: String,
    mapping: Option<String>,
    /// `ok`, `errors` (findings that need a fix) or `rejected` (the file or mapping cannot be
    /// used at all).
    status: &'static str,
    error_rule: Option<&'static str>,
    error: Option<String>,
    /// Record references listed, for a withdrawals file.
    #[serde(skip_serializing_if = "Option::is_none")]
    withdrawals: Option<u64>,
    #[serde(flatten)]
    check: Option<FileCheck>,
}

pub(super) fn command(c: SourcesCommand) -> Result<Exit, Failure> {
    let (config, rows, all, json) = match c {
        SourcesCommand::Check { config, rows, all, json } => (config, rows, all, json),
        SourcesCommand::Infer { file, feed, out, sheet, rows, config } => {
            let request = super::sources_infer::Request { file, feed, out, sheet, rows, config };
            return super::sources_infer::infer(&request);
        }
    };
    let settings = Settings::load(&config).exit(Exit::Config)?;
    let limit = (!all).then_some(rows);
    let mut reports: Vec<SourceReport> = settings.sources.iter().map(|s| check_source(&settings, s, limit)).collect();
    for s in &settings.unmatched_patterns {
        reports.push(SourceReport {
            feed: s.feed.name,
            source: s.path.display().to_string(),
            mapping: settings.reading(s).mapping.map(|m| m.display().to_string()),
            status: "rejected",
            error_rule: Some("path.no_match"),
            error: Some(format!("the pattern {} matches no file", s.path.display())),
            withdrawals: None,
            check: None,
        });
    }
    if json {
        let text = serde_json::to_string_pretty(&reports).map_err(anyhow::Error::from).exit(Exit::Internal)?;
        outln!("{text}");
    } else {
        for r in &reports {
            print_report(r);
        }
        let bad = reports.iter().filter(|r| r.status != "ok").count();
        outln!("{} source(s) checked, {bad} with errors", reports.len());
    }
    Ok(if reports.iter().any(|r| r.status != "ok") { Exit::Input } else { Exit::Success })
}

fn check_source(settings: &Settings, source: &Source, limit: Option<u64>) -> SourceReport {
    let reading = settings.reading(source);
    let mut report = SourceReport {
        feed: source.feed.name,
        source: source.path.display().to_string(),
        mapping: reading.mapping.as_ref().map(|m| m.display().to_string()),
        status: "rejected",
        error_rule: None,
        error: None,
        withdrawals: None,
        check: None,
    };
    let mapping = match reading.mapping.as_deref().map(|m| Mapping::load(m, source.feed)).transpose() {
        Ok(m) => m.map(Arc::new),
        Err(e) => {
            report.error_rule = Some(e.rule_code());
            report.error = Some(e.to_string());
            return report;
        }
    };
    if source.mode == crate::config::SourceMode::Withdrawals {
        match tellonce_pipeline::records::withdrawals::read(&source.path, source.feed, mapping.as_deref()) {
            Ok(listed) => {
                report.status = "ok";
                report.withdrawals = Some(listed.len() as u64);
            }
            Err(e) => {
                report.error_rule = Some(e.rule_code());
                report.error = Some(e.to_string());
            }
        }
        return report;
    }
    let dialect = match reading.dialect(mapping.as_deref()) {
        Ok(d) => d,
        Err(e) => {
            report.error_rule = Some("mapping.conflict");
            report.error = Some(e);
            return report;
        }
    };
    let opts = FileSourceOptions { batch_rows: settings.batch_rows, max_line_bytes: settings.max_line_bytes };
    match check::check_file(&source.path, source.format, opts, dialect, mapping, source.feed, limit) {
        Ok(mut c) => {
            c.unknown_columns = reportable_column_names(std::mem::take(&mut c.unknown_columns));
            report.status = if c.has_errors() { "errors" } else { "ok" };
            report.check = Some(c);
        }
        Err(e) => {
            report.error_rule = Some(e.rule_code());
            report.error = Some(e.to_string());
        }
    }
    report
}

fn print_report(r: &SourceReport) {
    let mapping = r.mapping.as_deref().map_or_else(|| "no mapping".to_owned(), |m| format!("mapping {m}"));
    outln!("{} {} ({mapping})", r.feed, r.source);
    if let Some(e) = &r.error {
        outln!("  error[{}]: {e}", r.error_rule.unwrap_or("source"));
    }
    if let Some(n) = r.withdrawals {
        outln!("  a withdrawals file: {n} record reference(s) listed, all readable");
    }
    let Some(c) = &r.check else { return };
    let delimiter = c.delimiter.as_deref().map_or(String::new(), |d| format!(", delimiter {d}"));
    let read = if c.complete { "all of the file" } else { "a sample" };
    // A workbook's rows are named by their sheet: one workbook may be listed once per sheet.
    let (how, at) = match (&c.sheet, c.encoding) {
        (Some(sheet), _) => (format!("sheet {sheet:?}"), format!("sheet {sheet:?} row(s)")),
        (None, encoding) => (format!("encoding {}{delimiter}", encoding.unwrap_or("utf-8")), "line(s)".to_owned()),
    };
    outln!("  read {} record(s), {read}; {how}", c.records);
    if !c.unknown_columns.is_empty() {
        outln!("  note: columns dropped as unknown: {}", c.unknown_columns.join(", "));
    }
    for f in &c.findings {
        let severity = match f.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let column = f.column.map_or(String::new(), |c| format!("{c}: "));
        let share = f.of.filter(|&n| n > 0).map_or(String::new(), |n| {
            #[allow(clippy::cast_precision_loss)]
            let pct = f.count as f64 * 100.0 / n as f64;
            format!(" of {n} ({pct:.1}%)")
        });
        let lines = if f.lines.is_empty() {
            String::new()
        } else {
            let shown: Vec<String> = f.lines.iter().map(u64::to_string).collect();
            format!("; first at {at} {}", shown.join(", "))
        };
        if f.rule == "heading.missing" || f.rule == "sheet.unread" {
            outln!("  {severity}[{}]: {column}{}", f.rule, f.message);
        } else {
            outln!("  {severity}[{}]: {column}{}{share} {}{lines}", f.rule, f.count, f.message);
        }
    }
}
