//! The commit writer of one input: staging parts and the quarantine file in input order, then
//! published, recorded in the audit log and synced before the input is acknowledged.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

use tellonce_connectors::hashing::sha256_file;
use tellonce_connectors::parquet_sink::{PartWriter, StagedPart};
use tellonce_connectors::quarantine::{QuarantineEntry, QuarantineWriter};
use tellonce_governance::audit::Event;
use tellonce_schemas::spreadsheet_damage::{self, Damage};

use crate::stages::govern::Policy;
use crate::stages::validate::nulled_key;
use tellonce_output::layout::{STAGING, relative};
use tellonce_output::unrecorded::remove_if_present;

use super::*;
use crate::records::compare::Withdrawal;
use crate::records::compare::{CompareRules, Comparison};
use crate::records::history::{Supersession, WITHDRAWN, supersede};
use crate::records::key::RecordKey;
use crate::records::scope::Scope;
use crate::records::tombstones;
use crate::run::input::unpublish;
use crate::run::report::{Versions, record_counts};
use crate::session::audit_file;
use tellonce_output::commit::{self, Provenance};

/// Writes one input's results in order: staging parts and the quarantine file.
pub(crate) struct Writer<'a> {
    ctx: &'a Context<'a>,
    policy: &'a Policy,
    feed: &'static str,
    schema_version: u32,
    /// The feed's columns as this input is read (its version's).
    columns: &'static [tellonce_schemas::Column],
    stem: String,
    source: String,
    schema: arrow_schema::SchemaRef,
    open: Option<PartWriter>,
    finished: Vec<StagedPart>,
    quarantine: QuarantineWriter,
    read: u64,
    written: u64,
    by_rule: HashMap<&'static str, u64>,
    /// Fields nulled in the records written, by column and rule.
    nulled: crate::stages::validate::Nulled,
    decided: Vec<Event>,
    /// The input's records against those of its feed already held (a file input's loaded as it
    /// begins, a stream batch's from its session's live holding).
    compare: Option<Comparison>,
    /// When this input began to be read (RFC 3339): the `_superseded_at` of the versions it
    /// supersedes or withdraws.
    started_at: String,
    /// Replace the parts an earlier run of this input wrote under the same names, as a forced
    /// session does.
    pub(crate) replace_parts: bool,
    /// The workbook sheet the input is, named in each quarantine entry beside the row.
    pub(crate) sheet: Option<String>,
    /// Records quarantined whose reference could not be read.
    unreferenced: u64,
    /// How the feed's records are known across inputs under the agreement.
    key: RecordKey,
    /// Values a spreadsheet damaged, by column and damage ([`crate::run::workers::Staged::damaged`]).
    damaged: BTreeMap<(usize, Damage), u64>,
    /// Whether an input a spreadsheet damaged is held (a file's is; a stream batch's messages
    /// carry their systems' own values).
    pub(crate) hold_damaged: bool,
}

impl<'a> Writer<'a> {
    pub(crate) fn new(
        ctx: &'a Context<'a>,
        feed: &'static tellonce_schemas::FeedSchema,
        policy: &'a Policy,
        stem: &str,
        source: &str,
        schema: arrow_schema::SchemaRef,
        compare: Option<(CompareRules<'_>, Option<&Scope>)>,
    ) -> Result<Self, RunError> {
        let out = &ctx.settings.output_dir;
        let quarantine = QuarantineWriter::create(out, feed.name, stem)
            .map_err(|source| RunError::Output { path: out.join(tellonce_output::layout::QUARANTINE), source })?;
        let own = format!("part-{stem}-");
        let key = RecordKey::under(feed, policy, ctx.keys.tokeniser(tellonce_governance::Purpose::Linkage));
        let compare =
            compare.map(|(rules, scope)| Comparison::start(out, feed, &own, rules, scope, key.column())).transpose()?;
        Ok(Writer {
            ctx,
            policy,
            feed: feed.name,
            schema_version: feed.version,
            columns: feed.columns,
            stem: stem.to_owned(),
            source: source.to_owned(),
            schema,
            open: None,
            finished: Vec::new(),
            quarantine,
            read: 0,
            written: 0,
            by_rule: HashMap::new(),
            nulled: Default::default(),
            decided: Vec::new(),
            compare,
            started_at: tellonce_output::timefmt::now_rfc3339(),
            replace_parts: false,
            sheet: None,
            unreferenced: 0,
            key,
            damaged: BTreeMap::new(),
            hold_damaged: true,
        })
    }

    /// Compares the input's records with `comparison` (a stream batch's, with its session's
    /// live holding of the feed) rather than with the records held as its writer was made.
    pub(crate) fn comparing(mut self, comparison: Comparison) -> Self {
        self.compare = Some(comparison);
        self
    }

    pub(crate) fn write(&mut self, staged: Staged) -> Result<(), IngestError> {
        let Staged { batch, rejects, nulled, first_position, last_position, withdrawn, damaged } = staged;
        for (at, n) in damaged {
            *self.damaged.entry(at).or_default() += n;
        }
        let received = (batch.num_rows() + rejects.len()) as u64;
        self.read += received + withdrawn.len() as u64;
        match self.compare.as_mut() {
            Some(c) => withdrawn.iter().for_each(|w| c.withdraw_marked(&self.key.of(&w.record_id), w.updated)),
            None if !withdrawn.is_empty() => {
                let message = format!("{}: records marked withdrawn in an input not compared", self.source);
                return Err(RunError::Internal(message).into());
            }
            None => {}
        }
        let mut reasons: BTreeMap<String, u64> = BTreeMap::new();
        for r in &rejects {
            *reasons.entry(r.rule.code().to_owned()).or_default() += 1;
        }
        let mut nulled_by_key: BTreeMap<String, u64> = BTreeMap::new();
        for (&(column, rule), &n) in &nulled {
            nulled_by_key.insert(nulled_key(column, rule), n);
            *self.nulled.entry((column, rule)).or_default() += n;
        }
        // Held until the input's files are committed: an input rejected part-way (changed while
        // read, say) shared nothing, and the log must not say it did.
        self.decided.push(Event::BatchDecided {
            feed: self.feed.to_owned(),
            agreement: self.policy.agreement.to_string(),
            input: self.source.clone(),
            first_position,
            last_position,
            received,
            passed: batch.num_rows() as u64,
            quarantined: rejects.len() as u64,
            reasons,
            fields_dropped: self.policy.dropped.iter().map(|f| (*f).to_owned()).collect(),
            nulled: nulled_by_key,
        });
        for r in rejects {
            *self.by_rule.entry(r.rule.code()).or_default() += 1;
            match (&r.record_id, self.compare.as_mut()) {
                (Some(id), Some(c)) => c.sent_but_quarantined(&self.key.of(id)),
                // A header repeated mid-file is known to be no record: it hides none.
                (None, _) if r.rule == tellonce_schemas::Rule::CsvRepeatedHeader => {}
                (None, _) => self.unreferenced += 1,
                (Some(_), None) => {}
            }
            let mut entry = QuarantineEntry {
                feed: self.feed.to_owned(),
                source: self.source.clone(),
                position: r.position,
                rule: r.rule.code().to_owned(),
                column: r.column,
                sheet: self.sheet.clone(),
                sealed: Vec::new(),
            };
            entry.sealed = self.ctx.sealer.seal(&entry.aad(), &r.raw);
            let out = &self.ctx.settings.output_dir;
            self.quarantine
                .push(&entry)
                .map_err(|source| RunError::Output { path: out.join(tellonce_output::layout::QUARANTINE), source })?;
        }
        // Records already held as they are, or tombstoned, are not staged again.
        let batch = match self.compare.as_mut() {
            Some(c) => c.filter(&batch).map_err(RunError::from)?,
            None => batch,
        };
        if batch.num_rows() == 0 {
            return Ok(());
        }
        let max_rows = self.ctx.settings.max_file_rows;
        let mut offset = 0usize;
        while offset < batch.num_rows() {
            if self.open.as_ref().is_some_and(|w| w.rows() >= max_rows) {
                // Finish a full part now, so that only the open part holds a row group in memory.
                if let Some(full) = self.open.take() {
                    self.finished.push(full.finish()?);
                }
            }
            if self.open.is_none() {
                let name = format!("part-{}-{:05}.parquet", self.stem, self.finished.len());
                let mut opts = self.ctx.part_options.clone();
                opts.replace_existing |= self.replace_parts;
                opts.metadata.push((tellonce_schemas::metadata::FEED.to_owned(), self.feed.to_owned()));
                opts.metadata
                    .push((tellonce_schemas::metadata::SCHEMA_VERSION.to_owned(), self.schema_version.to_string()));
                opts.metadata.push(("tellonce.input_sha256_prefix".to_owned(), self.stem.clone()));
                opts.metadata
                    .push((tellonce_schemas::metadata::AGREEMENT.to_owned(), self.policy.agreement.to_string()));
                self.open = Some(PartWriter::create(
                    &self.ctx.settings.output_dir,
                    STAGING,
                    &[("feed", self.feed)],
                    &name,
                    self.schema.clone(),
                    &opts,
                )?);
            }
            let Some(w) = self.open.as_mut() else { break };
            let room = usize::try_from(max_rows.saturating_sub(w.rows())).unwrap_or(usize::MAX).max(1);
            let take = room.min(batch.num_rows() - offset);
            w.write(&batch.slice(offset, take))?;
            offset += take;
            self.written += take as u64;
        }
        Ok(())
    }

    /// Makes the input's outputs visible: checks the counts, publishes quarantine, then the
    /// staging parts, then removes what an earlier run of the same input wrote and this one did
    /// not (a forced re-run with other limits). `records_read` is the reader's own count.
    /// Returns the comparison, spent, if there was one (a stream batch gives its live holding
    /// back through it).
    pub(crate) fn finish(self, report: &mut InputReport, records_read: u64) -> Result<Option<Comparison>, IngestError> {
        let ctx = self.ctx;
        let mut published = Vec::new();
        let result = self.commit(report, records_read, &mut published);
        if result.is_err() {
            // What was published and could not be recorded (a full disk, say) is taken back:
            // on exit 4 nothing half-written is visible, and the next run writes it again.
            unpublish(ctx, &published);
            report.files.clear();
            report.quarantine_file = None;
        }
        result
    }

    /// Holds the input, before anything of it is published, where a spreadsheet damaged a
    /// column throughout ([`spreadsheet_damage::widespread`]): staged, its values would say
    /// something else than the partner's system holds, and supersede what is held.
    fn damage_held(&self, records_read: u64) -> Result<(), IngestError> {
        if !self.hold_damaged {
            return Ok(());
        }
        let held = self.damaged.iter().find(|&(_, &n)| spreadsheet_damage::widespread(n, records_read));
        let Some((&(column, damage), &n)) = held else { return Ok(()) };
        let name = self.columns.get(column).map_or("a column", |c| c.name);
        let message = format!(
            "{}: {name}: {n} of {records_read} records hold {}; held, nothing staged",
            self.source,
            damage.message()
        );
        Err(IngestError::Held(damage.code(), message))
    }

    /// Counted independently on both sides of the stages, and checked before anything is
    /// visible: a stage that lost or invented a row stops the input here.
    fn check_counts(&self, records_read: u64, quarantined: u64, not_staged: u64) -> Result<(), RunError> {
        if records_read != self.written + quarantined + not_staged || self.read != records_read {
            return Err(RunError::Internal(format!(
                "{}: counts do not reconcile: the reader read {records_read}, the stages returned {}, \
                 written {} + quarantined {quarantined} + unchanged, refused, older or listed withdrawn {not_staged}",
                self.source, self.read, self.written
            )));
        }
        Ok(())
    }

    /// [`finish`](Self::finish) but for taking back what it published (listed in `published`)
    /// when it fails.
    fn commit(
        mut self,
        report: &mut InputReport,
        records_read: u64,
        published: &mut Vec<PathBuf>,
    ) -> Result<Option<Comparison>, IngestError> {
        self.damage_held(records_read)?;
        let quarantined: u64 = self.by_rule.values().sum();
        let mut compare = self.compare.take();
        // Before anything is published: a snapshot held for confirmation leaves no trace but
        // its audit entry, and the next run reads it again.
        let withdrawal = match compare.as_mut().map(|c| c.withdrawal(self.unreferenced)).transpose() {
            Ok(w) => w.unwrap_or_default(),
            Err(mass) => return Err(IngestError::MassWithdrawal(mass)),
        };
        let (compared, versions) = (compare.is_some(), compare.as_ref().map(Comparison::counts).unwrap_or_default());
        if let Some(a) = report.columns_absent.first().filter(|_| versions.changed > 0) {
            let headings = a.headings.iter().map(|h| format!("{h:?}")).collect::<Vec<_>>().join(" or ");
            let message = format!(
                "{}: no column under the mapped heading {headings} for {column}, and {changed} of its records are \
                 new versions of records held: staged, each would lose its {column}; held, nothing staged: add the \
                 heading the partner now uses to the mapping, or, if the partner no longer sends {column}, take it \
                 out of the mapping",
                self.source,
                column = a.column,
                changed = versions.changed
            );
            return Err(IngestError::Held("columns.absent", message));
        }
        let not_staged = versions.unchanged + versions.refused + versions.older + versions.listed;
        self.check_counts(records_read, quarantined, not_staged)?;
        if let Some(open) = self.open.take() {
            self.finished.push(open.finish()?);
        }
        let out = self.ctx.settings.output_dir.clone();
        let out_err = |source| RunError::Output { path: out.join(tellonce_output::layout::QUARANTINE), source };
        let (written, by_rule, nulled) =
            (self.written, std::mem::take(&mut self.by_rule), std::mem::take(&mut self.nulled));
        let ctx = self.ctx;
        let policy = self.policy;
        for decided in std::mem::take(&mut self.decided) {
            ctx.audit(&decided)?;
        }
        // A replay that now rejects nothing removes the quarantine file an earlier run wrote.
        let earlier_quarantine = self.quarantine.target().to_owned();
        let earlier_sha = sha256_file(&earlier_quarantine)
            .ok()
            .or_else(|| ctx.held.get(&relative(&out, &earlier_quarantine)).map(|f| f.sha256.clone()));
        // Quarantine first: if it cannot be committed, no staging part has become visible.
        let committed = self.quarantine.commit().map_err(out_err)?;
        if let Some(path) = &committed {
            published.push(path.clone());
            tellonce_output::faults::reached(tellonce_output::faults::COMMIT_PUBLISHED);
        }
        match (&committed, earlier_sha) {
            (Some(path), _) => {
                audit_file(ctx, tellonce_output::layout::QUARANTINE, path, quarantined, Some(policy), Some(self.feed))?
            }
            (None, Some(sha256)) => ctx.audit(&Event::FileDeleted {
                path: relative(&out, &earlier_quarantine),
                sha256,
                reason: tellonce_governance::audit::reasons::DeleteReason::Replaced.to_string(),
                agreement: Some(policy.agreement.to_string()),
            })?,
            (None, None) => {}
        }
        report.quarantine_file = committed.map(|p| relative(&out, &p));
        // Earlier versions leave staging before the new ones arrive (see `records::history`).
        let held_back = withdrawal.held_back;
        let by = Supersession {
            feed: self.feed,
            by: &self.source,
            stem: &self.stem,
            run: &ctx.run_id,
            at: &self.started_at,
        };
        let superseded = supersede_held(ctx, compare.as_mut(), withdrawal, by)?;
        let (agreement, retention_until) = (policy.agreement.to_string(), policy.retention_until_iso());
        for part in std::mem::take(&mut self.finished) {
            let provenance = Provenance {
                dataset: STAGING,
                feed: Some(self.feed),
                agreement: Some(&agreement),
                retention_until: retention_until.as_deref(),
            };
            let (file, recorded) = commit::publish(part, provenance)?;
            published.push(out.join(&file.path));
            ctx.audit(&recorded)?;
            report.files.push(file);
        }
        let kept: Vec<&str> = report.files.iter().filter_map(|f| f.path.rsplit('/').next()).collect();
        remove_stale_parts(ctx, self.feed, &self.stem, &kept, policy.agreement.as_ref())?;
        record_counts(report, records_read, written, quarantined, by_rule);
        report.nulled_by_rule = nulled.into_iter().map(|((column, rule), n)| (nulled_key(column, rule), n)).collect();
        report.nulled = report.nulled_by_rule.values().sum();
        if compared {
            ctx.audit(&Comparison::event(versions, &by, &report.sha256, superseded))?;
            let withdrawals_file = false;
            report.versions =
                Some(Versions { counts: versions, superseded, withdrawal_held_back: held_back, withdrawals_file });
        }
        Ok(compare)
    }
}

/// Moves the versions an input's changed records supersede, and the records its snapshot
/// withdraws (tombstoned first, so that they stay withdrawn), from staging to history.
fn supersede_held(
    ctx: &Context<'_>,
    compare: Option<&mut Comparison>,
    withdrawal: Withdrawal,
    by: Supersession<'_>,
) -> Result<u64, RunError> {
    let Some(compare) = compare else { return Ok(0) };
    let out = &ctx.settings.output_dir;
    if !withdrawal.ids.is_empty() {
        tombstones::lay(out, by.feed, &withdrawal.ids, WITHDRAWN, by.at, Some(by.stem))?;
    }
    // Superseded and withdrawn versions move together: one rewrite per staging file.
    let moves = compare.take_moves(out, withdrawal)?;
    let holdings = compare.holdings();
    let mut record = |e: &Event| ctx.audit(e);
    let mut sync = || ctx.audit_sync();
    let clock = std::time::Instant::now();
    let moved = supersede::<RunError>(out, holdings, moves, by, &ctx.part_options, &mut record, &mut sync);
    tracing::debug!(ms = clock.elapsed().as_millis() as u64, "versions moved to history");
    moved
}

/// Removes, and records as replaced, the staging parts an earlier run of this input (`stem`)
/// wrote and this one did not (`kept`): found in the directory and in the audit log, so that a
/// part deleted by a run that stopped before logging the deletion is logged now.
fn remove_stale_parts(
    ctx: &Context<'_>,
    feed: &str,
    stem: &str,
    kept: &[&str],
    agreement: &str,
) -> Result<(), RunError> {
    let out = &ctx.settings.output_dir;
    let dir = out.join(STAGING).join(format!("feed={feed}"));
    let prefix = format!("part-{stem}-");
    let mut stale: BTreeMap<String, Option<String>> = ctx
        .held
        .values()
        .filter(|f| f.path.starts_with(&format!("{STAGING}/feed={feed}/{prefix}")))
        .map(|f| (f.path.clone(), Some(f.sha256.clone())))
        .collect();
    match std::fs::read_dir(&dir) {
        Ok(entries) => {
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                if name.starts_with(&prefix) && name.ends_with(".parquet") {
                    stale.entry(relative(out, &entry.path())).or_insert(None);
                }
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(source) => return Err(RunError::Output { path: dir.clone(), source }),
    }
    for (rel, recorded) in stale {
        if kept.iter().any(|k| rel.rsplit('/').next() == Some(*k)) {
            continue;
        }
        let path = out.join(&rel);
        let sha256 = match sha256_file(&path) {
            Ok(sha) => sha,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => match recorded {
                Some(sha) => sha,
                None => continue,
            },
            Err(source) => return Err(RunError::Output { path, source }),
        };
        remove_if_present(&path).map_err(|source| RunError::Output { path: path.clone(), source })?;
        ctx.audit(&Event::FileDeleted {
            path: rel,
            sha256,
            reason: tellonce_governance::audit::reasons::DeleteReason::Replaced.to_string(),
            agreement: Some(agreement.to_owned()),
        })?;
    }
    Ok(())
}
