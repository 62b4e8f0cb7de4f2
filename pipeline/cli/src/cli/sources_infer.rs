//! `tellonce sources infer`: a proposed source mapping for a partner file, for a person to
//! review.

use std::path::PathBuf;

use anyhow::Context as _;
use tellonce_connectors::infer::{self, Confidence};
use tellonce_connectors::mapping::Mapping;
use tellonce_schemas::feed;

use super::{ExitContext, Failure};
use crate::config::Settings;
use crate::exit::Exit;

/// What `sources infer` was asked.
pub(super) struct Request {
    pub(super) file: PathBuf,
    pub(super) feed: String,
    pub(super) out: Option<PathBuf>,
    pub(super) sheet: Option<String>,
    pub(super) rows: usize,
    pub(super) config: Option<PathBuf>,
}

pub(super) fn infer(r: &Request) -> Result<Exit, Failure> {
    if let Some(c) = &r.config {
        Settings::load(c).exit(Exit::Config)?;
    }
    let Some(schema) = feed::latest(&r.feed) else {
        let known: Vec<_> = feed::names().collect();
        return Err(anyhow::anyhow!("no feed named {:?}; known feeds: {}", r.feed, known.join(", ")))
            .exit(Exit::Config);
    };
    // A file with no header line is the partner's to fix, like any other unreadable header. A
    // workbook with no sheet named is read from the sheet holding the table.
    let proposal = infer::propose(&r.file, r.sheet.as_deref(), r.rows.max(1), schema).exit(Exit::Input)?;
    let text = infer::render(&proposal, &r.file.display().to_string());
    // A proposal that would not load is a defect here, not the reviewer's to find.
    if let Err(problems) = Mapping::parse(std::path::Path::new("proposed mapping"), text.as_bytes(), schema) {
        let listed: Vec<String> = problems.iter().map(ToString::to_string).collect();
        return Err(anyhow::anyhow!("the proposed mapping does not load:\n{}", listed.join("\n"))).exit(Exit::Internal);
    }
    match &r.out {
        Some(path) => {
            let mut file = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(path)
                .with_context(|| format!("cannot create {} (an existing file is never overwritten)", path.display()))
                .exit(Exit::Output)?;
            std::io::Write::write_all(&mut file, text.as_bytes())
                .with_context(|| format!("cannot write {}", path.display()))
                .exit(Exit::Output)?;
        }
        None => out!("{text}"),
    }
    let count = |c: Confidence| proposal.placed.iter().filter(|p| p.confidence == c).count();
    let summary = format!(
        "{}: {} of {} headings placed ({} high, {} medium, {} low confidence), {} not placed; \
         {} column(s) left out (blank heading or one that looks like a value); \
         {} date column(s) with formats, {} value map(s); {} required column(s) with no heading{}",
        r.file.display(),
        proposal.placed.len(),
        proposal.placed.len() + proposal.unplaced.len(),
        count(Confidence::High),
        count(Confidence::Medium),
        count(Confidence::Low),
        proposal.unplaced.len(),
        proposal.unnamed.len(),
        proposal.dates.len(),
        proposal.values.iter().filter(|v| !v.map.is_empty()).count(),
        proposal.missing_required.len(),
        r.out.as_ref().map_or_else(String::new, |p| format!("; proposal written to {}", p.display()))
    );
    errln!("{summary}\nreview it, then run `tellonce sources check` with the mapping in a [[sources]] entry");
    Ok(Exit::Success)
}
