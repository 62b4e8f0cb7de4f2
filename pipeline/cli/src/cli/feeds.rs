//! `tellonce feeds`: the feeds in use, their definitions checked with what depends on them, and
//! the built-in definitions written out.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;

use tellonce_build::outcomes::themes::{self, ThemesError};
use tellonce_governance::agreement;
use tellonce_schemas::definition::{self, FeedsError};
use tellonce_schemas::identifiers::dates;
use tellonce_schemas::{feed, registry};

use super::args::FeedsCommand;
use super::{ExitContext, Failure, schemas};
use crate::config::Settings;
use crate::exit::Exit;

pub(super) fn command(c: FeedsCommand) -> Result<Exit, Failure> {
    match c {
        FeedsCommand::List { config } => {
            load(config.as_deref())?;
            out!("{}", list());
            Ok(Exit::Success)
        }
        FeedsCommand::Show { feed: name, config, version, json } => {
            load(config.as_deref())?;
            let found = match version {
                Some(v) => feed::version(&name, v),
                None => feed::latest(&name),
            };
            let Some(f) = found else {
                let known: Vec<_> = feed::all().iter().map(|f| format!("{}@{}", f.name, f.version)).collect();
                return Err(anyhow::anyhow!("no feed {name:?} at that version; known: {}", known.join(", ")))
                    .exit(Exit::Config);
            };
            out!("{}", if json { schemas::show_json(f) } else { schemas::show(f) });
            Ok(Exit::Success)
        }
        FeedsCommand::Lint { config, dir } => lint(config.as_deref(), dir.as_deref()),
        FeedsCommand::Write { dir } => write(&dir),
    }
}

/// Makes a configuration's feeds those in use (its other settings are checked too).
fn load(config: Option<&Path>) -> Result<(), Failure> {
    if let Some(c) = config {
        Settings::load(c).exit(Exit::Config)?;
    }
    Ok(())
}

/// Makes the definitions in `dir`, with the built-in feeds, the feeds in use.
pub(super) fn install_dir(dir: &Path) -> Result<(), Failure> {
    let loaded = definition::load_dir(dir).exit(Exit::Config)?;
    registry::install(registry::Registry::with_deployment(&loaded).exit(Exit::Config)?);
    Ok(())
}

fn list() -> String {
    let builtin: Vec<(&str, u32)> = definition::builtin()
        .map(|b| b.iter().map(|l| (l.schema.name, l.schema.version)).collect())
        .unwrap_or_default();
    let mut s = format!("{:<18} {:>7} {:>7}  {:<10} {}\n", "feed", "version", "columns", "defined", "partner");
    for f in feed::all() {
        let defined = if builtin.contains(&(f.name, f.version)) { "built in" } else { "file" };
        let _ = writeln!(s, "{:<18} {:>7} {:>7}  {:<10} {}", f.name, f.version, f.columns.len(), defined, f.partner);
    }
    s
}

/// Every problem in the definitions; then, if they are clean and a configuration is given, in the
/// agreements and the theme mapping judged against the feeds they define.
fn lint(config: Option<&Path>, dir: Option<&Path>) -> Result<Exit, Failure> {
    let dir: Option<PathBuf> = match (config, dir) {
        (_, Some(d)) => Some(d.to_owned()),
        (Some(c), None) => Settings::feeds_dir_of(c).exit(Exit::Config)?,
        (None, None) => None,
    };
    let mut problems: Vec<String> = Vec::new();
    let mut files = 0;
    let loaded = match &dir {
        Some(d) => {
            files = std::fs::read_dir(d).map_or(0, |r| {
                r.filter_map(Result::ok).filter(|e| e.path().extension().is_some_and(|x| x == "toml")).count()
            });
            match definition::load_dir(d).and_then(|l| registry::Registry::with_deployment(&l).map(|r| (l, r))) {
                Ok((l, r)) => {
                    registry::install(r);
                    l.len()
                }
                Err(FeedsError::Invalid { problems: p }) => {
                    problems.extend(p.iter().map(ToString::to_string));
                    0
                }
                Err(e @ FeedsError::Read { .. }) => return Err(anyhow::Error::new(e)).exit(Exit::Config),
            }
        }
        None => 0,
    };
    let feeds_clean = problems.is_empty();
    if let (Some(c), true) = (config, feeds_clean) {
        problems.extend(dependants(c)?);
    }
    for p in &problems {
        outln!("{p}");
    }
    let place = dir.map_or_else(|| "no [feeds] dir: built-in feeds only".to_owned(), |d| d.display().to_string());
    outln!(
        "{files} feed definition file(s) checked in {place}: {loaded} loaded; {} problem(s){}",
        problems.len(),
        if feeds_clean || config.is_none() {
            ""
        } else {
            " (agreements and themes not checked until the feeds are clean)"
        }
    );
    Ok(if problems.is_empty() { Exit::Success } else { Exit::Config })
}

/// The problems of the agreements and the theme mapping of a configuration, against the feeds
/// in use.
fn dependants(config: &Path) -> Result<Vec<String>, Failure> {
    let settings = Settings::load(config).exit(Exit::Config)?;
    let mut problems = Vec::new();
    let agreements = agreement::load_dir(&settings.agreements_dir, dates::today()).exit(Exit::Config)?;
    problems.extend(agreements.problems.iter().filter(|p| p.is_error()).map(ToString::to_string));
    let mapping = match &settings.themes_file {
        Some(path) => themes::Mapping::load(path),
        None => themes::Mapping::parse(themes::DEFAULT_MAPPING, "the built-in theme mapping"),
    };
    match mapping {
        Ok(_) => {}
        Err(ThemesError::Invalid { problems: p, path }) => problems.extend(p.iter().map(|m| format!("{path}: {m}"))),
        Err(e) => problems.push(e.to_string()),
    }
    Ok(problems)
}

/// Writes the built-in definitions into `dir`, refusing to overwrite.
fn write(dir: &Path) -> Result<Exit, Failure> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display())).exit(Exit::Output)?;
    for (name, text) in definition::BUILTIN {
        let path = dir.join(name);
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .with_context(|| format!("cannot create {} (an existing file is never overwritten)", path.display()))
            .exit(Exit::Output)?;
        std::io::Write::write_all(&mut file, text.as_bytes())
            .with_context(|| format!("cannot write {}", path.display()))
            .exit(Exit::Output)?;
    }
    outln!(
        "wrote {} built-in feed definition(s) to {}; to add a feed or a version, copy one, change its name or \
         version, and name the directory in [feeds] dir",
        definition::BUILTIN.len(),
        dir.display()
    );
    Ok(Exit::Success)
}
