//! `tellonce schemas`: the data dictionary.

use std::fmt::Write as _;

use tellonce_schemas::{feed, staging};

use super::args::SchemasCommand;
use super::{ExitContext, Failure};
use crate::exit::Exit;

pub(super) fn command(c: SchemasCommand) -> Result<Exit, Failure> {
    let text = match c {
        SchemasCommand::List => list(),
        SchemasCommand::Show { feed: name, json } => {
            let Some(f) = feed::latest(&name) else {
                let known: Vec<_> = feed::names().collect();
                return Err(anyhow::anyhow!("no feed named {name:?}; known feeds: {}", known.join(", ")))
                    .exit(Exit::Config);
            };
            if json { show_json(f) } else { show(f) }
        }
    };
    print!("{text}");
    Ok(Exit::Success)
}

fn list() -> String {
    let mut s = format!("{:<16} {:>7} {:>7}  {}\n", "feed", "version", "columns", "partner");
    for f in feed::all() {
        let _ = writeln!(s, "{:<16} {:>7} {:>7}  {}", f.name, f.version, f.columns.len(), f.partner);
    }
    s
}

fn show(f: &'static tellonce_schemas::FeedSchema) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{} (schema version {})\npartner: {}\n{}\nevent date: {}\n",
        f.name, f.version, f.partner, f.description, f.event_date
    );
    let _ = writeln!(s, "{:<24} {:<18} {:<9} {:<27} type and checks", "column", "role", "required", "sensitivity");
    for c in f.columns {
        let _ = writeln!(
            s,
            "{:<24} {:<18} {:<9} {:<27} {}\n{:<24} {}",
            c.name,
            c.role.as_str(),
            if c.required { "yes" } else { "no" },
            c.sensitivity.as_str(),
            c.kind.describe(),
            "",
            c.description
        );
    }
    let _ = writeln!(s, "\nstaging columns (staging/feed={}/):", f.name);
    for c in staging::columns(f) {
        let _ = writeln!(s, "  {:<26} {:<8} {}", c.name, format!("{}", c.data_type), c.description);
    }
    s
}

fn show_json(f: &'static tellonce_schemas::FeedSchema) -> String {
    let columns: Vec<_> = f
        .columns
        .iter()
        .map(|c| {
            serde_json::json!({
                "name": c.name, "role": c.role, "sensitivity": c.sensitivity, "required": c.required,
                "type": c.kind.describe(), "description": c.description,
            })
        })
        .collect();
    let staging: Vec<_> = staging::columns(f)
        .iter()
        .map(|c| serde_json::json!({"name": c.name, "type": c.data_type.to_string(), "description": c.description}))
        .collect();
    let v = serde_json::json!({
        "feed": f.name, "version": f.version, "partner": f.partner, "description": f.description,
        "event_date": f.event_date, "columns": columns, "staging_columns": staging,
    });
    format!("{}\n", serde_json::to_string_pretty(&v).unwrap_or_default())
}
