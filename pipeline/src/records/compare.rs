//! One input's records compared with its feed's records held: which to stage, which were held
//! already, which are refused, and which held versions the staged ones supersede.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use arrow_array::cast::AsArray;
use arrow_array::types::Date32Type;
use arrow_array::{Array, BooleanArray, RecordBatch};
use tellonce_build::link::input::RecordRefs;
use tellonce_governance::audit::holdings::{HeldFile, held_files};
use tellonce_governance::audit::{self, Event};
use tellonce_output::layout::AUDIT;
use tellonce_output::layout::part_stem;
use tellonce_schemas::staging::RECORD_DIGEST;

use super::RecordsError;
use super::held::{HeldRecords, LoadOptions, Location, RECORD_ID, Verdict};
use super::history::Supersession;
use super::history::{SUPERSEDED, WITHDRAWN};
use super::scope::Scope;
use super::tombstones::Tombstones;
use crate::config::SourceMode;
use tellonce_schemas::FeedSchema;

/// The counts of a comparison, for the summary and the audit log.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Counts {
    /// Records not held before.
    pub new: u64,
    /// Records held before with other content.
    pub changed: u64,
    /// Records held before with the same content: not staged again.
    pub unchanged: u64,
    /// Records refused: a tombstone stands for them.
    pub refused: u64,
    /// Records withdrawn (moved to history, tombstoned): held and absent from a snapshot, or
    /// listed in a withdrawals file, or marked withdrawn by the input's withdrawal column.
    pub withdrawn: u64,
    /// Of those withdrawn, the ones the input itself listed (a withdrawals file's references,
    /// an extract's rows marked withdrawn): read, and not staged.
    pub listed: u64,
    /// Records whose version held is newer: by the feed's last-updated column where both
    /// versions have a date and the dates differ, else because it came from an input that
    /// arrived after this one (a month re-run with `--force` after the next), or whose file name
    /// holds a later date than this one's. Not staged,
    /// since an older version never overwrites a newer one.
    pub older: u64,
    /// Of the records above, those matched to the record held (or tombstoned) under the same
    /// digits with other leading zeros (`123` for `000123`: a spreadsheet drops them), and
    /// staged or refused under the reference held (see [`super::zeros`]).
    #[serde(skip_serializing_if = "is_zero")]
    pub zeros_matched: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl Counts {
    /// Adds `other`'s counts to these.
    pub fn add(&mut self, other: &Counts) {
        self.new += other.new;
        self.changed += other.changed;
        self.unchanged += other.unchanged;
        self.refused += other.refused;
        self.withdrawn += other.withdrawn;
        self.listed += other.listed;
        self.older += other.older;
        self.zeros_matched += other.zeros_matched;
    }
}

/// Fewer withdrawals than this are never held as a mass withdrawal: in a holding of a few
/// records, one withdrawn is already a large share.
pub const MASS_WITHDRAWAL_FLOOR: u64 = 10;

/// How an input is compared with the records held.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CompareRules<'a> {
    /// What the input is of the partner's holding.
    pub mode: SourceMode,
    /// The largest share of the records held a snapshot may withdraw (0 to 1); `None`: any
    /// share (`--allow-mass-withdrawal`).
    pub max_withdrawal_share: Option<f64>,
    /// A snapshot of the records its source sent only: the path (or pattern) of the inputs
    /// whose records it withdraws when it leaves them out. `None`: of the whole feed.
    pub snapshot_of_source: Option<&'a str>,
    /// A snapshot of the records with given values in a column only (`snapshot_where`).
    pub snapshot_where: Option<&'a crate::config::SnapshotWhere>,
    /// The date the input's file name holds (`hv_2026-01.csv`), if one: the input is taken to
    /// be of that date against inputs whose names hold another.
    pub dated: Option<i32>,
}

/// A snapshot that would withdraw more of the holding than its source allows: held, not
/// applied, because a truncated export looks exactly like this.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MassWithdrawal {
    /// Records the snapshot would withdraw.
    pub would_withdraw: u64,
    /// Records of the feed held.
    pub held: u64,
    /// The share allowed.
    pub max_share: f64,
}

impl std::fmt::Display for MassWithdrawal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let share = 100.0 * self.would_withdraw as f64 / self.held.max(1) as f64;
        write!(
            f,
            "as a snapshot it would withdraw {} of the {} records held ({share:.1} %, more than the {:.1} % its \
             source's max_withdrawal_share allows); a truncated export looks like this: check the file, then run \
             again with --allow-mass-withdrawal to apply it",
            self.would_withdraw,
            self.held,
            100.0 * self.max_share
        )
    }
}

/// An input's comparison in progress.
#[derive(Debug)]
pub struct Comparison {
    held: HeldRecords,
    tombstones: Tombstones,
    files: BTreeMap<String, HeldFile>,
    counts: Counts,
    supersede: Vec<Location>,
    mode: SourceMode,
    max_withdrawal_share: Option<f64>,
    /// The feed's last-updated column, if it has one.
    updated: Option<&'static str>,
    /// For a snapshot of its source's records only: the inputs that count as its source (a
    /// pattern that does not parse, which validation refuses, matches nothing: withdraw none).
    source_pattern: Option<Option<glob::Pattern>>,
    /// The input each input stem (of a staging part's name) came from.
    inputs: HashMap<String, String>,
    /// The records the input marks withdrawn, and every version of them held.
    marked: Withdrawal,
    /// When each input holding records first wrote to staging (the audit sequence number of
    /// its first staging file), by its parts' name stem.
    arrival: HashMap<String, u64>,
    /// When this input first wrote to staging; `u64::MAX` for one never processed before.
    own_arrival: u64,
    /// The date the input's file name holds, if one ([`CompareRules::dated`]).
    own_date: Option<i32>,
    /// For a live holding (see [`Self::live`]), whose rows may have moved since they were
    /// loaded: the reference of each version in `supersede`, so that its row is found again in
    /// its file before it moves.
    superseded_ids: Option<Vec<String>>,
    /// The references the input names, from its first pass: with them, a reference of digits
    /// is matched to the record held under other leading zeros ([`super::zeros`]). `None`
    /// (a stream batch, a feed known by tokens): references are matched exactly.
    zeros_scope: Option<Scope>,
    /// Each reference held that a reference of the input was matched to under other leading
    /// zeros, with that reference: a second, other one of the input is not matched to it.
    zeros_claimed: HashMap<String, String>,
}

/// Per input stem, when it first arrived: the audit sequence number of its first comparison or
/// hold or, in a log written before comparisons named their input's content, of its first
/// staging file. An input that staged nothing (every record held already) still arrived.
fn arrivals(entries: &[audit::Entry]) -> HashMap<String, u64> {
    let mut first: HashMap<String, u64> = HashMap::new();
    for e in entries {
        let stem = match &e.event {
            Event::RecordsCompared { .. } => e.event.compared_input_id(),
            // An input held (a snapshot awaiting confirmation, an agreement not yet in force)
            // arrived then: applied later, it is still older than what came after it.
            Event::InputHeld { sha256, .. } => sha256.get(..STEM_CHARS),
            Event::FileWritten { dataset, path, .. } if dataset == tellonce_output::layout::STAGING => part_stem(path),
            _ => None,
        };
        if let Some(stem) = stem {
            first.entry(stem.to_owned()).or_insert(e.seq);
        }
    }
    first
}

/// The input (as its records' `_source` names it) of each input stem the audit log's
/// comparisons name.
fn inputs(entries: &[audit::Entry]) -> HashMap<String, String> {
    let mut inputs = HashMap::new();
    for e in entries {
        if let Event::RecordsCompared { input, sha256: Some(sha), .. } = &e.event
            && let Some(stem) = sha.get(..STEM_CHARS)
        {
            inputs.entry(stem.to_owned()).or_insert_with(|| input.clone());
        }
    }
    inputs
}

/// Characters of an input's SHA-256 (hex) in the name of its parts.
const STEM_CHARS: usize = 16;

/// What a snapshot withdraws: the references and where their versions are.
#[derive(Debug, Default)]
pub struct Withdrawal {
    /// The record references withdrawn.
    pub ids: Vec<String>,
    /// Every version of them held.
    pub locations: Vec<Location>,
    /// Whether withdrawal was held back because the snapshot quarantined a record whose
    /// reference could not be read (it might be a record it would otherwise withdraw).
    pub held_back: bool,
}

impl Comparison {
    /// Starts comparing an input of `feed` with what the audit log in `out` holds now, leaving
    /// out the input's own earlier parts (names starting `own_prefix`), which its commit
    /// replaces.
    ///
    /// With a `scope` (the references the input names, from a first pass over it), only the
    /// records held that it names are loaded, and for a snapshot the references of the rest.
    pub fn start(
        out: &Path,
        feed: &'static FeedSchema,
        own_prefix: &str,
        rules: CompareRules<'_>,
        scope: Option<&Scope>,
        key_column: &str,
    ) -> Result<Self, RecordsError> {
        let dir = out.join(AUDIT);
        let entries = match audit::read_entries(&dir) {
            Ok(e) => e,
            Err(e) => return Err(RecordsError::Read { path: dir, message: e.to_string() }),
        };
        let stated = rules.snapshot_where.map(|w| (w.column, w.values.as_slice()));
        let how = LoadOptions {
            stated,
            updated: feed.updated,
            skip_prefix: Some(own_prefix),
            scope,
            keep_outside: rules.mode == SourceMode::Snapshot,
            key_column: Some(key_column),
        };
        let clock = std::time::Instant::now();
        let held = HeldRecords::load(out, &entries, feed.name, how)?;
        tracing::debug!(records = held.len(), ms = clock.elapsed().as_millis() as u64, "records held loaded");
        let tombstones = Tombstones::load(out, feed.name)?;
        let arrival = arrivals(&entries);
        let own_stem = own_prefix.strip_prefix("part-").unwrap_or(own_prefix).trim_end_matches('-');
        let own_arrival = arrival.get(own_stem).copied().unwrap_or(u64::MAX);
        Ok(Comparison {
            held,
            tombstones,
            files: held_files(&entries),
            counts: Counts::default(),
            supersede: Vec::new(),
            mode: rules.mode,
            max_withdrawal_share: rules.max_withdrawal_share,
            updated: feed.updated,
            source_pattern: rules.snapshot_of_source.map(|p| glob::Pattern::new(p).ok()),
            inputs: inputs(&entries),
            marked: Withdrawal::default(),
            arrival,
            own_arrival,
            own_date: rules.dated,
            superseded_ids: None,
            // A token hides the digits; without a scope nothing is held to match.
            zeros_scope: scope.filter(|_| key_column == RECORD_ID).cloned(),
            zeros_claimed: HashMap::new(),
        })
    }

    /// Starts comparing a stream batch of `feed` with a live holding of its records (see
    /// `records::live`): `held`, with the `tombstones` and the staging `files` the audit log
    /// records, all as of now. The batch is newer than everything held (messages arrive in
    /// order), except where the feed's last-updated column says otherwise. Its rows held are
    /// found again by reference before they move ([`Self::take_superseded`]), since files
    /// rewritten since the holding was loaded have renumbered theirs. Give the parts back with
    /// [`Self::into_live`].
    pub fn live(
        held: HeldRecords,
        tombstones: Tombstones,
        files: BTreeMap<String, HeldFile>,
        feed: &'static FeedSchema,
        mode: SourceMode,
    ) -> Self {
        Comparison {
            held,
            tombstones,
            files,
            counts: Counts::default(),
            supersede: Vec::new(),
            mode,
            max_withdrawal_share: None,
            updated: feed.updated,
            source_pattern: None,
            inputs: HashMap::new(),
            marked: Withdrawal::default(),
            arrival: HashMap::new(),
            own_arrival: u64::MAX,
            own_date: None,
            superseded_ids: Some(Vec::new()),
            zeros_scope: None,
            zeros_claimed: HashMap::new(),
        }
    }

    /// The parts of a live holding [`Self::live`] was given.
    pub fn into_live(self) -> (HeldRecords, Tombstones, BTreeMap<String, HeldFile>) {
        (self.held, self.tombstones, self.files)
    }

    /// Notes that the versions at `older` of `record_id` move to history.
    fn note_superseded(&mut self, record_id: &str, older: Vec<Location>) {
        if let Some(ids) = self.superseded_ids.as_mut() {
            ids.extend(std::iter::repeat_n(record_id.to_owned(), older.len()));
        }
        self.supersede.extend(older);
    }

    /// The rows of a staged batch to write: new and changed records. Unchanged and refused ones
    /// are counted and left out; the versions changed ones supersede are noted.
    pub fn filter(&mut self, batch: &RecordBatch) -> Result<RecordBatch, RecordsError> {
        let bad = |message: String| RecordsError::Read { path: "staged batch".into(), message };
        let restored = self.restore_zeros(batch)?;
        let batch = restored.as_ref().unwrap_or(batch);
        let ids = RecordRefs::of(batch);
        if !ids.has_key() {
            return Err(bad(format!("no {RECORD_ID} column, nor its token")));
        }
        let digests = batch
            .column_by_name(RECORD_DIGEST)
            .and_then(|c| c.as_fixed_size_binary_opt())
            .ok_or_else(|| bad(format!("no {RECORD_DIGEST} column")))?;
        // Absent when the agreement does not share the column: versions are then ordered by arrival.
        let dates = self.updated.and_then(|u| batch.column_by_name(u)).and_then(|c| c.as_primitive_opt::<Date32Type>());
        let mut keep = Vec::with_capacity(batch.num_rows());
        for i in 0..batch.num_rows() {
            // A record without a reference never reaches staging (it is quarantined); were one
            // to, it is kept as new rather than lost.
            let key = ids.key(i);
            let Some(id) = key.as_deref().filter(|_| digests.is_valid(i)) else {
                self.counts.new += 1;
                keep.push(true);
                continue;
            };
            if self.mode == SourceMode::Snapshot {
                self.held.see(id);
            }
            if self.tombstones.contains(id) {
                self.counts.refused += 1;
                keep.push(false);
                continue;
            }
            let mut digest = [0u8; super::digest::DIGEST_BYTES];
            if digests.value(i).len() == digest.len() {
                digest.copy_from_slice(digests.value(i));
            }
            match self.held.judge(id, &digest) {
                Verdict::New => {
                    self.counts.new += 1;
                    keep.push(true);
                }
                // Events never change: a record held is not staged again, whatever it says now.
                Verdict::Changed(_) if self.mode == SourceMode::Append => {
                    self.counts.unchanged += 1;
                    keep.push(false);
                }
                Verdict::Changed(held)
                    if self.is_older(id, dates.filter(|d| d.is_valid(i)).map(|d| d.value(i)), &held) =>
                {
                    self.counts.older += 1;
                    keep.push(false);
                }
                Verdict::Changed(older) => {
                    self.counts.changed += 1;
                    self.note_superseded(id, older);
                    keep.push(true);
                }
                Verdict::Unchanged(older) => {
                    self.counts.unchanged += 1;
                    self.note_superseded(id, older);
                    keep.push(false);
                }
            }
        }
        if keep.iter().all(|k| *k) {
            return Ok(batch.clone());
        }
        arrow_select::filter::filter_record_batch(batch, &BooleanArray::from(keep)).map_err(|e| bad(e.to_string()))
    }

    /// The reference held (or tombstoned) that `record_id` names under other leading zeros,
    /// if any ([`super::zeros`]).
    fn zero_form(&mut self, record_id: &str) -> Option<String> {
        let scope = self.zeros_scope.as_ref()?;
        let form = super::zeros::held_form(&self.held, &self.tombstones, &|id| scope.names_exactly(id), record_id)?;
        // `123` and `0123` in one input are two records: only the first is the one held.
        let first = self.zeros_claimed.entry(form.clone()).or_insert_with(|| record_id.to_owned());
        (first == record_id).then_some(form)
    }

    /// `batch` with each reference that names a record held under other leading zeros
    /// replaced by the reference held, and the digests of those rows made again; `None` where
    /// no reference changes.
    fn restore_zeros(&mut self, batch: &RecordBatch) -> Result<Option<RecordBatch>, RecordsError> {
        let bad = |message: String| RecordsError::Read { path: "staged batch".into(), message };
        if self.zeros_scope.is_none() {
            return Ok(None);
        }
        let schema = batch.schema();
        // Where the agreement shares the reference's token beside it, the token (made from the
        // reference as sent) would no longer be the reference's: matched exactly.
        if schema.index_of(super::key::TOKEN_COLUMN).is_ok() {
            return Ok(None);
        }
        let Ok(at) = schema.index_of(RECORD_ID) else { return Ok(None) };
        let Some(ids) = batch.column(at).as_string_opt::<i32>() else { return Ok(None) };
        let mut forms: Vec<Option<String>> = Vec::with_capacity(ids.len());
        for i in 0..ids.len() {
            forms.push(if ids.is_valid(i) { self.zero_form(ids.value(i)) } else { None });
        }
        let matched = forms.iter().filter(|f| f.is_some()).count() as u64;
        if matched == 0 {
            return Ok(None);
        }
        self.counts.zeros_matched += matched;
        let restored: arrow_array::StringArray = forms
            .iter()
            .enumerate()
            .map(|(i, f)| f.as_deref().or_else(|| ids.is_valid(i).then(|| ids.value(i))))
            .collect();
        let mut columns = batch.columns().to_vec();
        columns[at] = std::sync::Arc::new(restored);
        if let Ok(d) = schema.index_of(RECORD_DIGEST) {
            let digests =
                super::digest::row_digests(&schema, &columns[..d]).map_err(|e| bad(format!("{RECORD_DIGEST}: {e}")))?;
            columns[d] = super::digest::digest_column(&digests);
        }
        RecordBatch::try_new(schema, columns).map(Some).map_err(|e| bad(e.to_string()))
    }

    /// Whether a version of `record_id` last updated on `updated` (days since 1970) is older
    /// than the version held, at `held` (the latest first): by the feed's last-updated dates
    /// where both have one, neither after today, and they differ; else by the arrival of their
    /// inputs.
    fn is_older(&self, record_id: &str, updated: Option<i32>, held: &[Location]) -> bool {
        // A date after today is a typing error, not an order: it would freeze the record.
        let today = tellonce_schemas::identifiers::dates::today();
        match (updated, self.held.updated_of(record_id)) {
            (Some(new), Some(old)) if new != old && new <= today && old <= today => new < old,
            _ => held.first().is_some_and(|l| self.arrived_later(l)),
        }
    }

    /// Whether a record whose latest version is in staging file `file` is of the snapshot's
    /// holding: always for a snapshot of the feed; for one of its source, when the input that
    /// wrote the file matches the source (an input the audit log does not name is not).
    fn in_snapshot(&self, file: &str) -> bool {
        let Some(pattern) = &self.source_pattern else { return true };
        let input = part_stem(file).and_then(|stem| self.inputs.get(stem));
        // As the entry's path is expanded: `*` stops at a `/`, and hidden files are not matched.
        let options = glob::MatchOptions {
            case_sensitive: true,
            require_literal_separator: true,
            require_literal_leading_dot: true,
        };
        input.is_some_and(|i| pattern.as_ref().is_some_and(|p| p.matches_path_with(Path::new(i), options)))
    }

    /// Whether the version at `l` came from an input later than this one: by the dates the two
    /// inputs' file names hold, where both hold one and they differ (January corrected and sent
    /// again after February is still January's), else by which arrived after the other.
    fn arrived_later(&self, l: &Location) -> bool {
        let stem = part_stem(&l.file);
        let theirs = stem.and_then(|s| self.inputs.get(s)).and_then(|i| crate::config::drop_order::path_date(i));
        if let (Some(own), Some(theirs)) = (self.own_date, theirs)
            && own != theirs
        {
            return theirs > own;
        }
        stem.and_then(|s| self.arrival.get(s)).is_some_and(|&at| at > self.own_arrival)
    }

    /// Notes that the input marks `record_id` withdrawn (its withdrawal column): it leaves
    /// staging with its tombstone when the input is committed, in any mode, however large a
    /// share of the holding such rows are (the partner said so, row by row). One tombstoned
    /// already is refused; one whose version held is newer (by the row's last-updated date
    /// `updated`, days since 1970, or by arrival) is left alone, counted as older.
    pub fn withdraw_marked(&mut self, record_id: &str, updated: Option<i32>) {
        let form = self.zero_form(record_id);
        let record_id = form.as_deref().unwrap_or(record_id);
        if self.mode == SourceMode::Snapshot {
            self.held.see(record_id);
        }
        let held = self.held.versions_of(record_id);
        if self.tombstones.contains(record_id) {
            self.counts.refused += 1;
            // Tombstoned by a run that stopped before the move: the move is finished now.
            self.marked.locations.extend(held);
        } else if !held.is_empty() && self.is_older(record_id, updated, &held) {
            self.counts.older += 1;
        } else {
            self.counts.withdrawn += 1;
            self.counts.listed += 1;
            self.marked.ids.push(record_id.to_owned());
            self.marked.locations.extend(held);
        }
    }

    /// Notes that the input sent `record_id` in a record it quarantined: a snapshot holds it,
    /// so it is not withdrawn.
    pub fn sent_but_quarantined(&mut self, record_id: &str) {
        if self.mode == SourceMode::Snapshot {
            let form = self.zero_form(record_id);
            self.held.see(form.as_deref().unwrap_or(record_id));
        }
    }

    /// The counts so far.
    pub fn counts(&self) -> Counts {
        self.counts
    }

    /// What a snapshot withdraws: every record held that it left out (a record it sent but
    /// quarantined is not left out: see [`Self::sent_but_quarantined`]), unless it quarantined
    /// a record whose reference could not be read (`unreferenced > 0`), which might be any of
    /// them: then nothing (fail closed). More than the allowed share of the holding is refused
    /// as a [`MassWithdrawal`].
    pub fn withdrawal(&mut self, unreferenced: u64) -> Result<Withdrawal, MassWithdrawal> {
        let mut marked = std::mem::take(&mut self.marked);
        let mut absent = self.absent(unreferenced)?;
        marked.ids.append(&mut absent.ids);
        marked.ids.sort();
        marked.locations.append(&mut absent.locations);
        marked.held_back = absent.held_back;
        Ok(marked)
    }

    /// What a snapshot withdraws by leaving records out (see [`Self::withdrawal`]).
    fn absent(&mut self, unreferenced: u64) -> Result<Withdrawal, MassWithdrawal> {
        if self.mode != SourceMode::Snapshot {
            return Ok(Withdrawal::default());
        }
        if unreferenced > 0 {
            return Ok(Withdrawal { held_back: true, ..Withdrawal::default() });
        }
        // A record first sent after this snapshot is not its to withdraw, nor one another
        // source sent, where the snapshot is of its own source's records, nor one outside the
        // scope it states.
        let withdraws = |(_, locations, stated): &(&str, Vec<Location>, bool)| {
            *stated && locations.first().is_some_and(|l| !self.arrived_later(l) && self.in_snapshot(&l.file))
        };
        // Counted before anything is gathered: a mass withdrawal held back costs no more memory
        // than the count.
        let would_withdraw = self.held.unseen().filter(withdraws).count() as u64;
        let held = match &self.source_pattern {
            None => self.held.in_scope_len() as u64,
            Some(_) => self.held.latest_by_file().filter(|(file, _)| self.in_snapshot(file)).map(|(_, n)| n).sum(),
        };
        if let Some(max_share) = self.max_withdrawal_share
            && would_withdraw >= MASS_WITHDRAWAL_FLOOR
            && would_withdraw as f64 > max_share * held as f64
        {
            return Err(MassWithdrawal { would_withdraw, held, max_share });
        }
        let mut w = Withdrawal::default();
        for (id, locations, _) in self.held.unseen().filter(withdraws) {
            w.ids.push(id.to_owned());
            w.locations.extend(locations);
        }
        self.counts.withdrawn += would_withdraw;
        Ok(w)
    }

    /// Every held version to move to history, with why: those the input's records supersede
    /// ([`SUPERSEDED`]) and every version of those `withdrawal` withdraws ([`WITHDRAWN`]), taken
    /// from the comparison. For a live holding each is found again by reference in its file
    /// under `out` (one no longer there has left staging already and does not move again), and
    /// the references withdrawn join its tombstones, as they have joined the feed's.
    pub fn take_moves(
        &mut self,
        out: &Path,
        withdrawal: Withdrawal,
    ) -> Result<Vec<(Location, &'static str)>, RecordsError> {
        let older = std::mem::take(&mut self.supersede);
        let Some(ids) = self.superseded_ids.as_mut().map(std::mem::take) else {
            let superseded = older.into_iter().map(|l| (l, SUPERSEDED));
            return Ok(superseded.chain(withdrawal.locations.into_iter().map(|l| (l, WITHDRAWN))).collect());
        };
        let mut wanted: BTreeMap<String, HashMap<String, &'static str>> = BTreeMap::new();
        for (l, id) in older.into_iter().zip(ids) {
            wanted.entry(l.file).or_default().insert(id, SUPERSEDED);
        }
        // Which withdrawn record each location is of is not kept: every one is looked for.
        for l in withdrawal.locations {
            let why = wanted.entry(l.file).or_default();
            withdrawal.ids.iter().for_each(|id| {
                why.insert(id.clone(), WITHDRAWN);
            });
        }
        withdrawal.ids.iter().for_each(|id| self.tombstones.insert(id));
        let mut moves = Vec::new();
        for (file, why) in wanted {
            let rows = super::held::rows_of(out, &file, |id| why.get(id).copied())?;
            moves.extend(rows.into_iter().map(|(row, change)| (Location { file: file.clone(), row }, change)));
        }
        Ok(moves)
    }

    /// The staging files the audit log records as held, as the comparison began.
    pub fn holdings(&self) -> &BTreeMap<String, HeldFile> {
        &self.files
    }

    /// The audit entry recording the comparison of the input `by` names (its SHA-256 `sha256`,
    /// empty for a stream batch), with `superseded` versions moved.
    pub fn event(counts: Counts, by: &Supersession<'_>, sha256: &str, superseded: u64) -> Event {
        Event::RecordsCompared {
            feed: by.feed.to_owned(),
            input: by.by.to_owned(),
            // A stream batch has no content hash: its input is named by topic, partition and offsets.
            sha256: (!sha256.is_empty()).then(|| sha256.to_owned()),
            input_id: Some(by.stem.to_owned()),
            started_at: Some(by.at.to_owned()),
            new: counts.new,
            changed: counts.changed,
            unchanged: counts.unchanged,
            refused: counts.refused,
            withdrawn: counts.withdrawn,
            listed: counts.listed,
            older: counts.older,
            superseded,
            zeros_matched: counts.zeros_matched,
        }
    }
}
