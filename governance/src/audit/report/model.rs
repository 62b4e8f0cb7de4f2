//! The model: what the entries say, gathered for rendering.

use std::collections::{BTreeMap, BTreeSet};

use super::period::{Month, Quarter};
use crate::audit::entry::{Entry, Event};

/// The latest `agreement_loaded` for one agreement id.
pub(super) struct Agreement<'a> {
    pub(super) version: u32,
    pub(super) file: &'a str,
    pub(super) sha256: &'a str,
    pub(super) feeds: &'a [String],
    pub(super) start: &'a str,
    pub(super) review: &'a str,
    pub(super) end: &'a str,
    pub(super) standing: &'a str,
    pub(super) loaded_at: &'a str,
}

/// Counts for one (quarter, feed, agreement version).
#[derive(Default)]
pub(super) struct Tally {
    pub(super) batches: u64,
    pub(super) received: u64,
    pub(super) passed: u64,
    pub(super) quarantined: u64,
    pub(super) reasons: BTreeMap<String, u64>,
    /// `column:rule` -> fields nulled in the records passed
    pub(super) nulled: BTreeMap<String, u64>,
    pub(super) withheld: BTreeSet<String>,
    /// dataset -> (files, rows)
    pub(super) files: BTreeMap<String, (u64, u64)>,
    /// reason -> files since deleted (of those written in this period)
    pub(super) deleted: BTreeMap<String, u64>,
}

/// (quarter, feed, "ID@version")
pub(super) type TallyKey = (Option<Quarter>, String, String);

/// One file written, and what became of it.
pub(super) struct FileRecord<'a> {
    pub(super) path: &'a str,
    pub(super) dataset: &'a str,
    pub(super) sha256: &'a str,
    pub(super) rows: u64,
    pub(super) bytes: u64,
    pub(super) feed: Option<&'a str>,
    pub(super) agreement: Option<&'a str>,
    pub(super) retention_until: Option<&'a str>,
    pub(super) written_at: &'a str,
    pub(super) day: Option<i32>,
    /// (when, reason) it stopped existing: deleted, or overwritten by a later write.
    pub(super) fate: Option<(&'a str, &'a str)>,
}

/// A run, from its start and finish entries.
#[derive(Default)]
pub(super) struct Run<'a> {
    pub(super) run: &'a str,
    pub(super) command: &'a str,
    pub(super) version: &'a str,
    pub(super) as_of: &'a str,
    pub(super) key_id: &'a str,
    pub(super) started_at: Option<&'a str>,
    pub(super) finished: Option<Finished<'a>>,
}

pub(super) struct Finished<'a> {
    pub(super) at: &'a str,
    pub(super) status: &'a str,
    pub(super) received: u64,
    pub(super) written: u64,
    pub(super) quarantined: u64,
    pub(super) held: u64,
}

/// How a source mapping (by content) was used.
#[derive(Debug, Default)]
pub(super) struct MappingUse<'a> {
    /// Inputs read through it.
    pub(super) inputs: u64,
    /// When it was last used.
    pub(super) last: &'a str,
    /// Feed columns whose mapped heading an input lacked, with how many inputs lacked it.
    pub(super) columns_absent: BTreeMap<&'a str, u64>,
}

#[derive(Default)]
pub(super) struct Model<'a> {
    pub(super) agreements: BTreeMap<&'a str, Agreement<'a>>,
    /// Every agreement id seen anywhere (loaded, batches, files).
    pub(super) agreement_ids: BTreeSet<&'a str>,
    /// agreement id -> period/feed/version -> counts
    pub(super) tallies: BTreeMap<&'a str, BTreeMap<TallyKey, Tally>>,
    /// agreement id -> month -> [received, passed, quarantined]
    pub(super) monthly: BTreeMap<&'a str, BTreeMap<Month, [u64; 3]>>,
    pub(super) files: Vec<FileRecord<'a>>,
    /// Deletions of files with no `file_written` in this log: (at, path, reason, agreement).
    pub(super) orphan_deletions: Vec<(&'a str, &'a str, &'a str, Option<&'a str>)>,
    /// (at, feed, input, reason, sha256)
    pub(super) held: Vec<(&'a str, &'a str, &'a str, &'a str, &'a str)>,
    pub(super) runs: Vec<Run<'a>>,
    pub(super) keys: BTreeMap<&'a str, BTreeSet<&'a str>>,
    /// (dead-letter topic, source topic) -> quarantined records sent there, sealed.
    pub(super) dead_letters: BTreeMap<(&'a str, &'a str), u64>,
    /// Stream progress resets, in order.
    pub(super) resets: Vec<Reset<'a>>,
    /// Withdrawals lifted: when, feed, how many, the input whose withdrawals (if chosen so), why.
    pub(super) reinstatements: Vec<(&'a str, &'a str, u64, Option<&'a str>, &'a str)>,
    /// Offsets a broker did not have: (at, topic, partition, first, last), in order.
    pub(super) missing_offsets: Vec<(&'a str, &'a str, i32, u64, u64)>,
    /// Torn final entries cut off by `audit repair`: (at, line, bytes cut, reason).
    pub(super) repairs: Vec<(&'a str, u64, u64, &'a str)>,
    /// (at, officer, reference, kind, found, erased)
    pub(super) lookups: Vec<(&'a str, &'a str, &'a str, &'a str, u64, u64)>,
    /// Linkage builds, in order.
    pub(super) builds: Vec<Build<'a>>,
    /// Re-sent records, summed over every input.
    pub(super) versions: Versions,
    /// Source mappings applied: (feed, mapping, its SHA-256) -> (inputs read through it, the
    /// last time).
    pub(super) mappings: BTreeMap<(&'a str, &'a str, &'a str), MappingUse<'a>>,
}

/// What comparing inputs with the records already held found, summed.
#[derive(Debug, Default)]
pub(super) struct Versions {
    /// Records re-sent as they were held: not staged again.
    pub(super) unchanged: u64,
    /// Records refused because a tombstone (erasure, withdrawal) stands for them.
    pub(super) refused: u64,
    /// Earlier versions moved from staging to the history dataset.
    pub(super) superseded: u64,
    /// Records withdrawn: absent from a partner's snapshot, or listed in a withdrawals file.
    pub(super) withdrawn: u64,
    /// Records not staged because the version held came in a later input.
    pub(super) older: u64,
}

/// A topic's stream progress declared void by an operator.
#[derive(Debug)]
pub(super) struct Reset<'a> {
    pub(super) at: &'a str,
    pub(super) topic: &'a str,
    pub(super) epoch: u32,
    pub(super) reason: &'a str,
    /// The partitions' durable offsets before, summed: the offsets written, where the log
    /// started at 0.
    pub(super) durable: u64,
    pub(super) partitions: usize,
}

/// One linkage build, with the id changes logged before it.
#[derive(Debug, Default)]
pub(super) struct Build<'a> {
    pub(super) at: &'a str,
    pub(super) run: &'a str,
    pub(super) records: u64,
    pub(super) persons: u64,
    pub(super) families: u64,
    pub(super) low_evidence: u64,
    pub(super) conflicts: u64,
    /// (kind, change) -> count
    pub(super) changes: BTreeMap<(&'a str, &'a str), u64>,
    pub(super) feeds_not_linked: Vec<&'a str>,
    /// The officers' decisions the build honoured, if any were configured.
    pub(super) decisions: Option<&'a crate::audit::LinkageDecisions>,
}

/// `ID` of `ID@version`.
pub(super) fn agreement_id(under: &str) -> &str {
    under.split_once('@').map_or(under, |(id, _)| id)
}

impl<'a> Model<'a> {
    /// What `entries` say, read in the order they were logged.
    pub(super) fn build(entries: &'a [Entry]) -> Model<'a> {
        let mut gather = Gather::default();
        for entry in entries {
            gather.add(entry);
        }
        let mut m = gather.model;
        m.tally_files();
        m
    }

    /// What became of the data: files by the period they were written in.
    fn tally_files(&mut self) {
        for f in &self.files {
            let Some(under) = f.agreement else { continue };
            let key = (f.day.map(Quarter::of_day), f.feed.unwrap_or("").to_string(), under.to_string());
            let t = self.tallies.entry(agreement_id(under)).or_default().entry(key).or_default();
            let slot = t.files.entry(f.dataset.to_string()).or_default();
            slot.0 += 1;
            slot.1 += f.rows;
            if let Some((_, reason)) = f.fate {
                *t.deleted.entry(reason.to_string()).or_default() += 1;
            }
        }
    }
}

/// The model while the entries are read in order, with what an entry needs of those before it.
/// Each handler below is given the entry whose event it is named after.
#[derive(Default)]
struct Gather<'a> {
    model: Model<'a>,
    /// path -> index in `model.files` of the file there now.
    live: BTreeMap<&'a str, usize>,
    /// run id -> index in `model.runs`.
    run_index: BTreeMap<&'a str, usize>,
    /// Id changes are logged just before the build entry that sums them up.
    pending_changes: BTreeMap<(&'a str, &'a str), u64>,
}

impl<'a> Gather<'a> {
    fn add(&mut self, entry: &'a Entry) {
        let at = entry.at.as_str();
        let m = &mut self.model;
        match &entry.event {
            Event::RunStarted { run, command, version, as_of, key_id } => {
                let r = self.run(run);
                (r.command, r.version, r.as_of, r.key_id, r.started_at) = (command, version, as_of, key_id, Some(at));
            }
            Event::RunFinished { run, status, received, written, quarantined, held } => {
                self.run(run).finished = Some(Finished {
                    at,
                    status,
                    received: *received,
                    written: *written,
                    quarantined: *quarantined,
                    held: *held,
                });
            }
            Event::AgreementLoaded { id, version, file, sha256, feeds, start, review, end, standing } => {
                m.agreement_ids.insert(id);
                m.agreements.insert(
                    id,
                    Agreement { version: *version, file, sha256, feeds, start, review, end, standing, loaded_at: at },
                );
            }
            Event::KeysUsed { key_id, purposes } => {
                m.keys.entry(key_id).or_default().extend(purposes.iter().map(String::as_str));
            }
            Event::InputHeld { feed, input, sha256, reason } | Event::InputRejected { feed, input, sha256, reason } => {
                m.held.push((at, feed, input, reason, sha256))
            }
            Event::BatchDecided { .. } => self.batch_decided(entry),
            Event::RecordsCompared { unchanged, refused, withdrawn, superseded, older, .. } => {
                m.versions.withdrawn += withdrawn;
                m.versions.older += older;
                m.versions.unchanged += unchanged;
                m.versions.refused += refused;
                m.versions.superseded += superseded;
            }
            Event::MappingApplied { feed, mapping, mapping_sha256, columns_absent, .. } => {
                let used = m.mappings.entry((feed, mapping, mapping_sha256)).or_default();
                used.inputs += 1;
                used.last = at;
                for c in columns_absent {
                    *used.columns_absent.entry(c).or_default() += 1;
                }
            }
            Event::FileWritten { .. } => self.file_written(entry),
            Event::FileDeleted { path, reason, agreement, .. } => match self.live.remove(path.as_str()) {
                Some(i) => m.files[i].fate = Some((at, reason)),
                None => m.orphan_deletions.push((at, path, reason, agreement.as_deref())),
            },
            Event::SubjectLookup { officer, reference, kind, records_found, records_erased } => {
                m.lookups.push((at, officer, reference, kind, *records_found, *records_erased));
            }
            // Shown with the lookups: an officer looking into the linkage of one record.
            Event::LinkageExplained { officer, reference, pairs, .. } => {
                m.lookups.push((at, officer, reference, "linkage_explained", *pairs, 0));
            }
            // The batch's decisions and files are reported above; what it sent out of the
            // output, sealed, is counted here.
            Event::StreamBatchCommitted { topic, dead_letter_topic, dead_lettered, .. } => {
                if *dead_lettered > 0 {
                    *m.dead_letters.entry((dead_letter_topic, topic)).or_default() += dead_lettered;
                }
            }
            Event::StreamProgressReset { topic, epoch, reason, durable_offsets, .. } => m.resets.push(Reset {
                at,
                topic,
                epoch: *epoch,
                reason,
                durable: durable_offsets.iter().map(|p| p.offset).sum(),
                partitions: durable_offsets.len(),
            }),
            Event::RecordsReinstated { feed, withdrawn_by, reinstated, reason, .. } => {
                m.reinstatements.push((at, feed, *reinstated, withdrawn_by.as_deref(), reason));
            }
            Event::StreamOffsetsMissing { topic, partition, first_offset, last_offset, .. } => {
                m.missing_offsets.push((at, topic, *partition, *first_offset, *last_offset));
            }
            Event::AuditRepaired { line, bytes_cut, reason, .. } => {
                m.repairs.push((at, *line, *bytes_cut, reason));
            }
            Event::IdentityChanged { kind, change, .. } => {
                *self.pending_changes.entry((kind.as_str(), change.as_str())).or_default() += 1;
            }
            Event::LinkageBuilt { .. } => self.linkage_built(entry),
        }
    }

    /// The run with this id, added the first time either of its entries is seen.
    fn run(&mut self, run: &'a str) -> &mut Run<'a> {
        let runs = &mut self.model.runs;
        let i = *self.run_index.entry(run).or_insert_with(|| {
            runs.push(Run { run, ..Run::default() });
            runs.len() - 1
        });
        &mut runs[i]
    }

    /// A batch's counts, into its quarter's tally and its month's bars.
    fn batch_decided(&mut self, entry: &'a Entry) {
        let Event::BatchDecided {
            feed, agreement, received, passed, quarantined, reasons, fields_dropped, nulled, ..
        } = &entry.event
        else {
            return;
        };
        let m = &mut self.model;
        let day = entry.day();
        let id = agreement_id(agreement);
        m.agreement_ids.insert(id);
        let key = (day.map(Quarter::of_day), feed.clone(), agreement.clone());
        let t = m.tallies.entry(id).or_default().entry(key).or_default();
        t.batches += 1;
        t.received += received;
        t.passed += passed;
        t.quarantined += quarantined;
        for (code, n) in reasons {
            *t.reasons.entry(code.clone()).or_default() += n;
        }
        for (key, n) in nulled {
            *t.nulled.entry(key.clone()).or_default() += n;
        }
        t.withheld.extend(fields_dropped.iter().cloned());
        if let Some(day) = day {
            let bars = m.monthly.entry(id).or_default().entry(Month::of_day(day)).or_default();
            bars[0] += received;
            bars[1] += passed;
            bars[2] += quarantined;
        }
    }

    /// A file written, replacing any file written before at its path.
    fn file_written(&mut self, entry: &'a Entry) {
        let Event::FileWritten { dataset, path, sha256, rows, bytes, feed, agreement, retention_until } = &entry.event
        else {
            return;
        };
        let m = &mut self.model;
        let at = entry.at.as_str();
        if let Some(previous) = self.live.insert(path, m.files.len()) {
            m.files[previous].fate = Some((at, "replaced"));
        }
        if let Some(a) = agreement {
            m.agreement_ids.insert(agreement_id(a));
        }
        m.files.push(FileRecord {
            path,
            dataset,
            sha256,
            rows: *rows,
            bytes: *bytes,
            feed: feed.as_deref(),
            agreement: agreement.as_deref(),
            retention_until: retention_until.as_deref(),
            written_at: at,
            day: entry.day(),
            fate: None,
        });
    }

    /// A linkage build, with the id changes logged since the one before.
    fn linkage_built(&mut self, entry: &'a Entry) {
        let Event::LinkageBuilt {
            run,
            records,
            persons,
            families,
            low_evidence,
            conflicts,
            feeds_not_linked,
            decisions,
            ..
        } = &entry.event
        else {
            return;
        };
        self.model.builds.push(Build {
            at: entry.at.as_str(),
            run,
            records: *records,
            persons: *persons,
            families: *families,
            low_evidence: *low_evidence,
            conflicts: *conflicts,
            changes: std::mem::take(&mut self.pending_changes),
            feeds_not_linked: feeds_not_linked.iter().map(String::as_str).collect(),
            decisions: decisions.as_deref(),
        });
    }
}
