//! What a build reads: the staging files the audit log holds for feeds with an agreement in
//! force today, and the fingerprint that tells whether the last build already read exactly them.

use std::collections::BTreeMap;
use std::path::Path;

use tellonce_governance::agreement::AgreementSet;

use tellonce_governance::agreement::policy::{self as govern, Decision, Policy};
use tellonce_governance::audit::holdings::{HeldFile, held_files};
use tellonce_governance::audit::stream_progress::{self, Progress};
use tellonce_governance::audit::{self, AuditLog};
use tellonce_output::layout::{AUDIT, LINKS, STAGING};
use tellonce_schemas::feed;
use tracing::{info, warn};

use super::BuildInput;
use super::publish::remove_unrecorded;
use crate::link::LinkError;
use crate::link::index;
use crate::link::input::StagingFile;

/// A build to make: what it reads and under which agreements.
pub(super) struct Plan {
    /// The files the audit log holds, by path.
    pub(super) held: BTreeMap<String, HeldFile>,
    /// The staging files to read, by feed and path.
    pub(super) files: Vec<StagingFile>,
    /// The policy of each feed read.
    pub(super) policies: BTreeMap<&'static str, Policy>,
    /// Feeds staged but not linked, and why.
    pub(super) feeds_not_linked: Vec<String>,
    /// What the build is made from, hashed; written as the stamp once the build is recorded.
    pub(super) fingerprint: String,
    /// When each input arrived, for `arrivals/`.
    pub(super) arrivals: Vec<crate::arrivals::Arrival>,
}

/// Whether there is anything to build.
pub(super) enum Planned {
    /// The outputs are up to date (or there is nothing to link); the feeds not linked, and why.
    UpToDate(Vec<String>),
    /// A build to make.
    Build(Plan),
}

/// The staging files a build would read now (for explaining the last build's links: the same
/// files, unless something was staged or an agreement changed since).
pub(crate) fn staging_files(out: &Path, agreements: &AgreementSet, today: i32) -> Result<Vec<StagingFile>, LinkError> {
    let entries = audit::read_entries(&out.join(AUDIT))?;
    let held = held_files(&entries);
    let streamed = Progress::from_entries(&entries);
    Ok(staged_files(out, agreements, today, &held, &streamed).0)
}

/// Plans a build; first removes what an interrupted build published and did not record, so
/// that it is neither counted by readers nor mistaken for the last build's output.
pub(super) fn plan(input: &BuildInput<'_>, log: &mut AuditLog) -> Result<Planned, LinkError> {
    let out = input.out;
    let entries = audit::read_entries(&out.join(AUDIT))?;
    let held = held_files(&entries);
    // A stream session may be between publishing a batch and recording it as committed: such a
    // batch is not staged yet (it may be removed and written again with other boundaries).
    let streamed = Progress::from_entries(&entries);
    let arrivals = crate::arrivals::from_entries(&entries);
    drop(entries);
    let (files, policies, not_linked) = staged_files(input.out, input.agreements, input.today, &held, &streamed);
    let feeds_not_linked: Vec<String> = not_linked.iter().map(|(f, r)| format!("{f}: {r}")).collect();
    for f in &feeds_not_linked {
        warn!("staging of {f}: not linked");
    }
    let fingerprint = fingerprint(input, &held, &files, &policies, &feeds_not_linked)?;
    // Before the up-to-date check: an interrupted build did not move the stamp on.
    remove_unrecorded(out, &held, log)?;
    let links_held = held.values().any(|f| f.dataset == LINKS);
    if files.is_empty() && !links_held {
        // Nothing staged and nothing linked before: nothing to write.
        return Ok(Planned::UpToDate(feeds_not_linked));
    }
    let stamp = out.join(index::BUILT_FROM_PATH);
    if links_held && std::fs::read_to_string(&stamp).is_ok_and(|s| s.trim() == fingerprint) {
        info!("linkage up to date: no staging file or agreement changed since the last build");
        return Ok(Planned::UpToDate(feeds_not_linked));
    }
    Ok(Planned::Build(Plan { held, files, policies, feeds_not_linked, fingerprint, arrivals }))
}

/// The staging files to read (sorted by feed and path), the policy of each feed read, and the
/// feeds held back by their agreements with the rule that held them.
#[allow(clippy::type_complexity)]
fn staged_files(
    out: &Path,
    agreements: &AgreementSet,
    today: i32,
    held: &BTreeMap<String, HeldFile>,
    streamed: &Progress,
) -> (Vec<StagingFile>, BTreeMap<&'static str, Policy>, BTreeMap<&'static str, &'static str>) {
    let mut files = Vec::new();
    let mut policies: BTreeMap<&'static str, Policy> = BTreeMap::new();
    let mut not_linked = BTreeMap::new();
    for f in held.values().filter(|f| f.dataset == STAGING) {
        let name = f.path.rsplit('/').next().unwrap_or(&f.path);
        if let Some(batch) = stream_progress::parse(name)
            && !streamed.is_committed(&batch)
        {
            continue;
        }
        let Some(schema) = f.feed.as_deref().and_then(feed::latest) else { continue };
        if !policies.contains_key(schema.name) && !not_linked.contains_key(schema.name) {
            match govern::decide(agreements, schema, today, today) {
                Decision::Process(p) => {
                    policies.insert(schema.name, p);
                }
                Decision::Hold { rule, .. } => {
                    not_linked.insert(schema.name, rule);
                }
            }
        }
        if policies.contains_key(schema.name) {
            let path = f.on_disk(out);
            files.push(StagingFile { feed: schema.name, read_from: path.clone(), path });
        }
    }
    files.sort_by(|a, b| (a.feed, &a.path).cmp(&(b.feed, &b.path)));
    (files, policies, not_linked)
}

/// What this build would be made from, hashed: if it is what the last build was made from, the
/// outputs are up to date and nothing is rewritten. The matcher's version is part of it: a build
/// by a binary that links differently is not up to date.
fn fingerprint(
    input: &BuildInput<'_>,
    held: &BTreeMap<String, HeldFile>,
    files: &[StagingFile],
    policies: &BTreeMap<&'static str, Policy>,
    feeds_not_linked: &[String],
) -> Result<String, LinkError> {
    let out = input.out;
    let versions = (crate::link::score::MATCHER_VERSION, crate::link::cluster::VETO_VERSION);
    let mut material = format!("{}+{}\n{:?}\n", versions.0, versions.1, input.options);
    // Another reviewed model or another decisions file links the same staging otherwise.
    if let Some(f) = input.frozen {
        material.push_str(&format!("model {}\n", f.from.sha256));
    }
    if let Some(d) = input.decisions {
        material.push_str(&format!("decisions {}\n", d.sha256));
    }
    for f in files {
        let rel = f.path.strip_prefix(out).unwrap_or(&f.path).display().to_string();
        let sha = held.get(&rel).map_or("", |h| h.sha256.as_str());
        material.push_str(&format!("{} {rel} {sha}\n", f.feed));
    }
    for (feed, p) in policies {
        material.push_str(&format!("{feed} {}\n", p.agreement));
    }
    material.push_str(&format!("{}\n", feeds_not_linked.join(",")));
    if let Some(m) = input.themes {
        material.push_str(&format!("{m:?}\n{:?}\n", input.outcomes));
    }
    let mut hasher = tellonce_connectors::hashing::HashingWriter::new(std::io::sink());
    std::io::Write::write_all(&mut hasher, material.as_bytes())
        .map_err(|source| LinkError::Output { path: out.to_owned(), source })?;
    Ok(hasher.finish().1)
}
