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
        SchemasCommand::Datasets => datasets(),
        SchemasCommand::Dataset { name, json } => {
            let Some(d) = crate::datasets::find(&name) else {
                let known: Vec<_> = crate::datasets::ALL.iter().map(|d| d.name).collect();
                return Err(anyhow::anyhow!("no dataset named {name:?}; known datasets: {}", known.join(", ")))
                    .exit(Exit::Config);
            };
            if json { dataset_json(d) } else { dataset(d) }
        }
    };
    out!("{text}");
    Ok(Exit::Success)
}

pub(super) fn list() -> String {
    let mut s = format!("{:<16} {:>7} {:>7}  {}\n", "feed", "version", "columns", "partner");
    for f in feed::all() {
        let _ = writeln!(s, "{:<16} {:>7} {:>7}  {}", f.name, f.version, f.columns.len(), f.partner);
    }
    s
}

pub(super) fn show(f: &'static tellonce_schemas::FeedSchema) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{} (schema version {})\npartner: {}\n{}\nevent date: {}{}\n",
        f.name,
        f.version,
        f.partner,
        f.description,
        f.event_date,
        f.updated.map_or(String::new(), |u| format!("\nlast updated: {u} (orders a record's versions)"))
    );
    let _ = writeln!(
        s,
        "{:<24} {:<18} {:<9} {:<11} {:<27} type and checks",
        "column", "role", "required", "if invalid", "sensitivity"
    );
    for c in f.columns {
        let _ = writeln!(
            s,
            "{:<24} {:<18} {:<9} {:<11} {:<27} {}\n{:<24} {}",
            c.name,
            c.role.as_str(),
            if c.required { "yes" } else { "no" },
            f.on_invalid(c).as_str(),
            c.sensitivity.as_str(),
            c.kind.describe(),
            "",
            c.description
        );
    }
    let _ = writeln!(
        s,
        "\nif invalid: what a value breaking its checks (or a required value missing) does. quarantine: the \
         record is set aside with the rule; null: the field is written null, the record kept, and _dq names the \
         column and rule. Placeholders (NHS 0000000000) and pseudo-postcodes (ZZ99 3VZ, NFA, NK) count as invalid."
    );
    let _ = writeln!(s, "\nstaging columns (staging/feed={}/):", f.name);
    for c in staging::columns(f) {
        let _ = writeln!(s, "  {:<26} {:<8} {}", c.name, format!("{}", c.data_type), c.description);
    }
    s
}

pub(super) fn show_json(f: &'static tellonce_schemas::FeedSchema) -> String {
    let columns: Vec<_> = f
        .columns
        .iter()
        .map(|c| {
            serde_json::json!({
                "name": c.name, "role": c.role, "sensitivity": c.sensitivity, "required": c.required,
                "when_invalid": f.on_invalid(c),
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
        "event_date": f.event_date, "updated": f.updated, "columns": columns, "staging_columns": staging,
    });
    format!("{}\n", serde_json::to_string_pretty(&v).unwrap_or_default())
}

fn datasets() -> String {
    let mut s = format!("{:<16} {:<22} {}\n", "dataset", "partitioned by", "one row per");
    for d in crate::datasets::ALL {
        let _ = writeln!(s, "{:<16} {:<22} {}", d.name, d.partitions.join(", "), d.grain);
    }
    s.push_str("staging          feed                   partner record (tellonce schemas show FEED)\n");
    s
}

fn dataset(d: &crate::datasets::Dataset) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "{}/ - one row per {}\n{}\n", d.name, d.grain, d.about);
    if !d.partitions.is_empty() {
        let _ = writeln!(s, "partitioned by (Hive, in the path): {}\n", d.partitions.join(", "));
    }
    for f in (d.schema)().fields() {
        let description = f.metadata().get("description").map_or("", String::as_str);
        let _ = writeln!(s, "  {:<18} {:<14} {description}", f.name(), crate::datasets::type_name(f.data_type()));
    }
    s
}

fn dataset_json(d: &crate::datasets::Dataset) -> String {
    let columns: Vec<_> = (d.schema)()
        .fields()
        .iter()
        .map(|f| {
            serde_json::json!({
                "name": f.name(), "type": crate::datasets::type_name(f.data_type()),
                "description": f.metadata().get("description"),
            })
        })
        .collect();
    let v = serde_json::json!({
        "dataset": d.name, "grain": d.grain, "about": d.about, "partitions": d.partitions, "columns": columns,
    });
    format!("{v:#}\n")
}
