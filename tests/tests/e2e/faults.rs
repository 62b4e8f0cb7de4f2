//! Fault tests (#19): every command that writes to the output crashed at a random moment, by a
//! real `kill -9` after a seeded delay inside the command's own measured duration and by
//! `TELLONCE_FAULT=POINT:N` at the points of its commit path, then run again to completion and
//! reconciled: every input record staged or quarantined exactly once, the build's datasets made
//! from what is staged by one build, erased records gone and not back, files past retention
//! gone, `audit verify` clean and no temporary file left. Then a full disk at each stage and a
//! read-only output.
//!
//! Trials a command: `TELLONCE_FAULT_TRIALS` (default 6, half kills and half fault points);
//! seed: `TELLONCE_FAULT_SEED` (default fixed). `scripts/soak-faults [TRIALS]` runs many more.
//! Each trial prints its seed and moment; a failure names them.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use tellonce_tests::{files_under, tellonce, tellonce_bin, tellonce_ok};

use crate::support::*;

/// Children in the synthetic workspaces: big enough for several parts and many build files,
/// small enough for a trial to take a few seconds in a debug build.
const CHILDREN: usize = 300;

/// A tmpfs mounted for the life of the guard, unmounted when dropped (even when a test fails).
struct Tmpfs(PathBuf);

impl Tmpfs {
    /// Mounts a tmpfs of `size` (`64m`) at `dir` (created), or says why it cannot.
    fn mount(dir: &Path, size: &str) -> Result<Tmpfs, String> {
        std::fs::create_dir_all(dir).unwrap();
        if std::env::var_os("TELLONCE_TEST_NO_TMPFS").is_some() {
            // To run the tests as where mounting is not allowed.
            return Err("TELLONCE_TEST_NO_TMPFS is set".to_owned());
        }
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir)
            .output()
            .map_err(|e| format!("cannot run mount: {e}"))?;
        if out.status.success() { Ok(Tmpfs(dir.to_owned())) } else { Err(text(&out)) }
    }

    /// `mount -o remount,ro` (or `rw`).
    fn remount(&self, mode: &str) {
        let out = Command::new("mount").args(["-o", &format!("remount,{mode}")]).arg(&self.0).output().unwrap();
        assert!(out.status.success(), "remount {mode}: {}", text(&out));
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).output();
    }
}

/// Where a test's workspaces go: a tmpfs where one can be mounted (fsync costs nothing there,
/// and a process killed on it leaves exactly what it leaves on a disk: the page cache survives
/// the process), else a temporary directory.
struct Scratch {
    _tmpfs: Option<Tmpfs>,
    dir: tempfile::TempDir,
    n: std::cell::Cell<u32>,
}

impl Scratch {
    fn new() -> Scratch {
        let dir = tempfile::tempdir().unwrap();
        let tmpfs = match Tmpfs::mount(dir.path(), "768m") {
            Ok(t) => Some(t),
            Err(why) => {
                eprintln!("fault trials on the temporary directory's file system (no tmpfs: {why})");
                None
            }
        };
        Scratch { _tmpfs: tmpfs, dir, n: std::cell::Cell::new(0) }
    }

    /// A new empty directory in the scratch space.
    fn fresh(&self) -> PathBuf {
        self.n.set(self.n.get() + 1);
        let d = self.dir.path().join(format!("ws{}", self.n.get()));
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    /// A copy of the directory tree `from` (workspace and output).
    fn copy(&self, from: &Path) -> PathBuf {
        let to = self.fresh();
        copy_tree(from, &to);
        to
    }
}

/// A seeded xorshift generator: the same seed gives the same trials.
struct Rng(u64);

impl Rng {
    fn next(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n.max(1)
    }
}

/// Trials a command in this run (`TELLONCE_FAULT_TRIALS`, default 6).
fn trials() -> u64 {
    std::env::var("TELLONCE_FAULT_TRIALS").ok().and_then(|v| v.parse().ok()).filter(|n| *n > 0).unwrap_or(6)
}

/// The first seed of a test's trials (`TELLONCE_FAULT_SEED`, default fixed), mixed with `salt`.
fn base_seed(salt: u64) -> u64 {
    let s = std::env::var("TELLONCE_FAULT_SEED").ok().and_then(|v| v.parse::<u64>().ok()).unwrap_or(0x5eed_1900);
    (s ^ salt.wrapping_mul(0x9e37_79b9_7f4a_7c15)) | 1
}

/// How one trial crashes its command.
#[derive(Debug, Clone)]
enum Crash {
    /// `kill -9` this long after the start.
    Kill(Duration),
    /// `TELLONCE_FAULT=POINT:N`.
    Fault(&'static str, u64),
}

/// What became of the crashed command.
#[derive(Debug, PartialEq, Eq, Clone, Copy, PartialOrd, Ord)]
enum Ending {
    /// Killed by the signal (9 for kill, 6 for a fault point's abort).
    Crashed,
    /// Finished before the kill, or never reached the point.
    Finished,
}

/// Runs `tellonce args` in `dir`, crashed as `crash` says; returns its output and how it ended.
fn crashed(dir: &Path, args: &[&str], crash: &Crash) -> (Output, Ending) {
    use std::os::unix::process::ExitStatusExt;
    let mut cmd = Command::new(tellonce_bin());
    cmd.args(args).current_dir(dir).env_remove("TELLONCE_LOG").stdout(Stdio::piped()).stderr(Stdio::piped());
    if let Crash::Fault(point, at) = crash {
        cmd.env("TELLONCE_FAULT", format!("{point}:{at}"));
    }
    let mut child = cmd.spawn().unwrap();
    if let Crash::Kill(after) = crash {
        let start = Instant::now();
        // Bounded: the command ends by itself or is killed at the deadline.
        loop {
            if child.try_wait().unwrap().is_some() {
                break;
            }
            if start.elapsed() >= *after {
                let _ = child.kill();
                break;
            }
            std::thread::sleep(Duration::from_millis(1).min(after.saturating_sub(start.elapsed())));
        }
    }
    let out = child.wait_with_output().unwrap();
    let ending = match out.status.signal() {
        Some(9 | 6) => Ending::Crashed,
        _ => Ending::Finished,
    };
    (out, ending)
}

/// Runs `tellonce args` to completion, timed, expecting exit 0.
fn timed(dir: &Path, args: &[&str]) -> (Output, Duration) {
    let start = Instant::now();
    let out = tellonce_ok(dir, args, 0);
    (out, start.elapsed())
}

/// Runs `args` again until it succeeds; if the log ends in a torn entry (exit 6, a kill in the
/// middle of an audit write), runs the documented `audit repair` first. Returns whether a
/// repair was needed.
fn rerun(dir: &Path, args: &[&str]) -> Result<bool, String> {
    let out = tellonce(dir, args);
    match out.status.code() {
        Some(0) => Ok(false),
        Some(6) => {
            let repair = tellonce(dir, &["audit", "repair", "--config", "tellonce.toml"]);
            if repair.status.code() != Some(0) {
                return Err(format!("audit repair failed: {}", text(&repair)));
            }
            let again = tellonce(dir, args);
            if again.status.code() != Some(0) {
                return Err(format!("{args:?} after the repair exited {:?}: {}", again.status, text(&again)));
            }
            Ok(true)
        }
        c => Err(format!("the rerun {args:?} exited {c:?}: {}", text(&out))),
    }
}

macro_rules! ensure {
    ($cond:expr, $($fmt:tt)+) => {
        if !$cond {
            return Err(format!($($fmt)+));
        }
    };
}

/// `audit verify` exits 0 and lists no unrecorded and no temporary file.
fn verify_clean(dir: &Path) -> Result<(), String> {
    let v = tellonce(dir, &["audit", "verify", "--config", "tellonce.toml"]);
    let said = text(&v);
    ensure!(v.status.code() == Some(0), "audit verify exited {:?}:\n{said}", v.status.code());
    ensure!(!said.contains("NOT RECORDED") && !said.contains("temporary file"), "audit verify:\n{said}");
    Ok(())
}

/// No temporary (dot) file anywhere under the output.
fn no_temp_files(out: &Path) -> Result<(), String> {
    let temps: Vec<_> = files_under(out).into_iter().filter(|p| is_hidden(p)).collect();
    ensure!(temps.is_empty(), "temporary files left: {temps:#?}");
    Ok(())
}

/// The synthetic inputs of a workspace.
fn inputs(dir: &Path) -> Vec<PathBuf> {
    files_under(&dir.join("inputs"))
}

/// No clear identifier of the inputs in what a command printed.
fn no_identifiers(ids: &Identifiers, out: &Output) -> Result<(), String> {
    let hits = ids.find(&text(out));
    ensure!(hits.is_empty(), "clear identifiers in the crashed command's output: {hits:?}\n{}", text(out));
    Ok(())
}

/// `(source, position)` of every staged row and quarantined record, by feed; an error if one
/// is held twice.
fn held_records(out: &Path) -> Result<BTreeMap<String, BTreeSet<(String, u64)>>, String> {
    let mut all: BTreeMap<String, BTreeSet<(String, u64)>> = BTreeMap::new();
    for feed in FEEDS {
        let set = all.entry(feed.to_owned()).or_default();
        for p in visible_parquet(&out.join("staging").join(format!("feed={feed}"))) {
            for (s, pos) in parquet_column(&p, "_source").into_iter().zip(parquet_column(&p, "_position")) {
                let key = (s.unwrap(), pos.unwrap().parse::<u64>().unwrap());
                ensure!(set.insert(key.clone()), "{feed}: staged twice: {key:?}");
            }
        }
    }
    for q in quarantine_entries(out) {
        let key = (q.source.clone(), q.position);
        ensure!(all.entry(q.feed.clone()).or_default().insert(key.clone()), "{}: held twice: {key:?}", q.feed);
    }
    Ok(all)
}

/// Staging and quarantine as a clean run left them: the same staging files byte for byte, the
/// same quarantine entries, every record once, the same inputs marked done.
fn staging_equals(out: &Path, clean: &Path) -> Result<(), String> {
    ensure!(hashes(out, "staging") == hashes(clean, "staging"), "staging differs from a clean run's");
    ensure!(quarantine_entries(out) == quarantine_entries(clean), "quarantine entries differ from a clean run's");
    let (got, want) = (held_records(out)?, held_records(clean)?);
    for feed in FEEDS {
        let (g, w) = (&got[feed], &want[feed]);
        ensure!(
            g == w,
            "{feed}: {} records held, {} in a clean run ({} missing)",
            g.len(),
            w.len(),
            w.difference(g).count()
        );
    }
    let names = |o: &Path| -> BTreeSet<String> {
        files_under(&o.join("state/inputs"))
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect()
    };
    ensure!(names(out) == names(clean), "inputs marked done differ: {:?} vs {:?}", names(out), names(clean));
    Ok(())
}

/// The build's datasets agree with staging: one link row per staged record of each feed and
/// none for a record not staged, every file of links and outcomes from one build (one part
/// name), persons of the outcome datasets all linked.
fn build_consistent(out: &Path) -> Result<(), String> {
    let mut build_names = BTreeSet::new();
    for dataset in BUILD_DATASETS {
        for p in visible_parquet(&out.join(dataset)) {
            build_names.insert(p.file_name().unwrap().to_string_lossy().into_owned());
        }
    }
    ensure!(build_names.len() == 1, "the build's datasets hold files of {} builds: {build_names:?}", build_names.len());
    let mut linked_persons = BTreeSet::new();
    for feed in FEEDS {
        let mut staged = BTreeSet::new();
        for p in visible_parquet(&out.join("staging").join(format!("feed={feed}"))) {
            staged.extend(parquet_column(&p, "record_id").into_iter().flatten());
        }
        let parts = visible_parquet(&out.join("links").join(format!("feed={feed}")));
        ensure!(parts.len() == usize::from(!staged.is_empty()), "{feed}: {} link parts", parts.len());
        let mut linked = BTreeSet::new();
        for p in &parts {
            for r in parquet_column(p, "record_ref").into_iter().flatten() {
                ensure!(linked.insert(r.clone()), "{feed}: record {r} linked twice");
            }
            linked_persons.extend(parquet_column(p, "person_id").into_iter().flatten());
        }
        ensure!(linked == staged, "{feed}: {} records linked, {} staged", linked.len(), staged.len());
    }
    for dataset in ["persons", "families"] {
        ensure!(
            visible_parquet(&out.join(dataset)).len() == usize::from(!linked_persons.is_empty()),
            "{dataset} parts"
        );
    }
    for p in visible_parquet(&out.join("persons")) {
        for id in parquet_column(&p, "person_id").into_iter().flatten() {
            ensure!(linked_persons.contains(&id), "persons/ holds {id}, linked to no record");
        }
    }
    Ok(())
}

/// The audit log's entries.
fn log_entries(out: &Path) -> Vec<Value> {
    std::fs::read_to_string(out.join("audit/audit.jsonl"))
        .unwrap()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

/// One trial: copy the template, crash the command, run it again, reconcile.
struct TrialSpec<'a> {
    name: &'a str,
    args: &'a [&'a str],
    /// Fault points of the command's commit path and how many times each is reached in a
    /// clean run.
    points: &'a [(&'static str, u64)],
    /// The command's duration in a clean run.
    duration: Duration,
}

/// Tallies of a command's trials, printed at the end.
#[derive(Default, Debug)]
struct Tally {
    trials: u64,
    crashed: u64,
    finished_first: u64,
    repairs: u64,
    reconciled: u64,
}

/// Runs `trials()` trials of `spec` from copies of `template`, `reconcile` checking each.
fn run_trials(
    scratch: &Scratch,
    template: &Path,
    spec: &TrialSpec<'_>,
    salt: u64,
    reconcile: &dyn Fn(&Path) -> Result<(), String>,
) -> Tally {
    let ids = Identifiers::from_inputs(&inputs(template));
    let mut tally = Tally::default();
    let seed0 = base_seed(salt);
    for i in 0..trials() {
        let seed = seed0.wrapping_add(i.wrapping_mul(0x2545_f491_4f6c_dd1d)) | 1;
        let mut rng = Rng(seed);
        let crash = if i % 2 == 0 {
            // Within the first nine tenths of the command's clean duration: a loaded machine
            // runs it no faster, so the kill lands inside it.
            let ms = spec.duration.as_millis() as u64 * 9 / 10;
            Crash::Kill(Duration::from_millis(1 + rng.next(ms.max(2))))
        } else {
            let (point, hits) = spec.points[rng.next(spec.points.len() as u64) as usize];
            Crash::Fault(point, 1 + rng.next(hits))
        };
        let dir = scratch.copy(template);
        let (out, ending) = crashed(&dir, spec.args, &crash);
        tally.trials += 1;
        match ending {
            Ending::Crashed => tally.crashed += 1,
            Ending::Finished => tally.finished_first += 1,
        }
        let about = format!("{} trial {i} (seed {seed:#x}, {crash:?}, {ending:?})", spec.name);
        eprintln!("{about}");
        let result = no_identifiers(&ids, &out).and_then(|()| {
            if ending == Ending::Finished && !out.status.success() {
                return Err(format!("the command failed without being crashed: {}", text(&out)));
            }
            let repaired = rerun(&dir, spec.args)?;
            tally.repairs += u64::from(repaired);
            reconcile(&dir)
        });
        if let Err(e) = result {
            panic!("{about}: {e}\n(run again with TELLONCE_FAULT_SEED and this trial's seed to repeat it)");
        }
        tally.reconciled += 1;
        let _ = std::fs::remove_dir_all(&dir);
    }
    eprintln!("{}: {tally:?}", spec.name);
    assert_eq!(tally.reconciled, tally.trials);
    assert!(tally.crashed > 0, "{}: no trial crashed the command, so none proved anything: {tally:?}", spec.name);
    tally
}

/// A synthetic workspace (inputs, key, agreements allowing erasure, config) in `dir`.
fn synth_in(dir: &Path, seed: u64) {
    tellonce_tests::synth(dir, CHILDREN, seed);
    for a in files_under(&dir.join("agreements")) {
        let t = std::fs::read_to_string(&a).unwrap();
        std::fs::write(&a, t.replace("erasure = false", "erasure = true")).unwrap();
    }
}

/// The commit-path fault points of a file run or a build, with how many times a clean run of it
/// reaches each: once a file it publishes, once an input (or build) whose entries it syncs.
fn counts(published: u64, recorded: u64) -> Vec<(&'static str, u64)> {
    vec![("commit.published", published.max(1)), ("commit.recorded", recorded.max(1))]
}

/// `file_written` entries after the last `run_started` of the log.
fn files_written_by_last_command(out: &Path) -> u64 {
    let entries = log_entries(out);
    let start = entries.iter().rposition(|e| e["event"]["type"] == "run_started").unwrap_or(0);
    entries[start..]
        .iter()
        .filter(|e| e["event"]["type"] == "file_written" && e["event"]["dataset"] != "manifest")
        .count() as u64
}

const RUN: &[&str] = &["run", "--config", "tellonce.toml", "--json", "--no-progress"];
const FORCE: &[&str] = &["run", "--config", "tellonce.toml", "--json", "--no-progress", "--force"];
const BUILD: &[&str] = &["build", "--config", "tellonce.toml"];

#[test]
fn run_crashed_at_random_moments_reconciles_after_a_rerun() {
    let scratch = Scratch::new();
    let template = scratch.fresh();
    synth_in(&template, 101);
    let clean = scratch.copy(&template);
    let (_, duration) = timed(&clean, RUN);
    let published = files_written_by_last_command(&clean.join("output"));
    let clean_out = clean.join("output");
    build_consistent(&clean_out).unwrap();
    // The clean run itself: every record of the ground truth held once (read = written +
    // quarantined), so that equal to it means nothing lost and nothing duplicated.
    let truth = std::fs::read_to_string(clean.join("truth/records.csv")).unwrap();
    let mut want: BTreeMap<String, usize> = BTreeMap::new();
    for r in parse_csv(&truth).into_iter().skip(1) {
        *want.entry(r[0].clone()).or_default() += 1;
    }
    let held: BTreeMap<String, usize> =
        held_records(&clean_out).unwrap().into_iter().map(|(f, s)| (f, s.len())).collect();
    assert_eq!(held, want, "the clean run does not hold every record of the truth once");
    let points = counts(published, 8);
    let spec = TrialSpec { name: "run", args: RUN, points: &points, duration };
    run_trials(&scratch, &template, &spec, 1, &|dir| {
        let out = dir.join("output");
        staging_equals(&out, &clean_out)?;
        build_consistent(&out)?;
        verify_clean(dir)?;
        no_temp_files(&out)
    });
}

/// Exit 1 is a bug's exit: a panic inside a command (injected at its commit path, where data
/// is in flight) ends it with exit 1, not Rust's 101; what it prints names where the bug is and
/// holds no value; and a rerun finishes the work as a crash's would.
#[test]
fn a_panic_ends_a_command_with_exit_1_printing_no_value_and_a_rerun_reconciles() {
    let scratch = Scratch::new();
    let template = scratch.fresh();
    synth_in(&template, 103);
    let clean = scratch.copy(&template);
    tellonce_ok(&clean, RUN, 0);
    let clean_out = clean.join("output");
    let ids = Identifiers::from_inputs(&inputs(&template));
    for (point, at) in [("commit.published", 2), ("commit.recorded", 1)] {
        let dir = scratch.copy(&template);
        let out = Command::new(tellonce_bin())
            .args(RUN)
            .current_dir(&dir)
            .env_remove("TELLONCE_LOG")
            .env("TELLONCE_FAULT", format!("{point}:{at}:panic"))
            .output()
            .unwrap();
        let said = text(&out);
        assert_eq!(out.status.code(), Some(1), "{point}: {said}");
        assert!(said.contains("tellonce: internal error") && said.contains("faults.rs"), "{point}: {said}");
        // The injected panic's message is formatted at run time, so it is withheld.
        assert!(!said.contains("fault injected"), "{point}: {said}");
        no_identifiers(&ids, &out).unwrap();
        let repaired = rerun(&dir, RUN).unwrap();
        let out_dir = dir.join("output");
        staging_equals(&out_dir, &clean_out).unwrap();
        build_consistent(&out_dir).unwrap();
        verify_clean(&dir).unwrap();
        no_temp_files(&out_dir).unwrap();
        eprintln!("{point}:{at}: exit 1, then a rerun reconciled (audit repair needed: {repaired})");
    }
}

#[test]
fn run_force_crashed_at_random_moments_reconciles_after_a_rerun() {
    let scratch = Scratch::new();
    let template = scratch.fresh();
    synth_in(&template, 102);
    tellonce_ok(&template, RUN, 0);
    let clean = scratch.copy(&template);
    let (_, duration) = timed(&clean, FORCE);
    let clean_out = clean.join("output");
    let published = files_written_by_last_command(&clean_out);
    let points = counts(published, 7);
    let spec = TrialSpec { name: "run --force", args: FORCE, points: &points, duration };
    run_trials(&scratch, &template, &spec, 2, &|dir| {
        let out = dir.join("output");
        staging_equals(&out, &clean_out)?;
        build_consistent(&out)?;
        verify_clean(dir)?;
        no_temp_files(&out)
    });
}

#[test]
fn build_crashed_at_random_moments_reconciles_after_a_rerun() {
    // The template holds a build; the trials' builds replace it (another min_weight), so that a
    // crash can come while new parts are published beside the old ones or the old ones deleted.
    let scratch = Scratch::new();
    let template = scratch.fresh();
    synth_in(&template, 103);
    tellonce_ok(&template, RUN, 0);
    let config = std::fs::read_to_string(template.join("tellonce.toml")).unwrap();
    std::fs::write(template.join("tellonce.toml"), format!("[linkage]\nmin_weight = 15.0\n\n{config}")).unwrap();
    let clean = scratch.copy(&template);
    let (_, duration) = timed(&clean, BUILD);
    let published = files_written_by_last_command(&clean.join("output"));
    assert!(published > 20, "the build published only {published} files");
    let points = counts(published, 1);
    let spec = TrialSpec { name: "build", args: BUILD, points: &points, duration };
    let clean_staging = hashes(&clean.join("output"), "staging");
    run_trials(&scratch, &template, &spec, 3, &|dir| {
        let out = dir.join("output");
        ensure!(hashes(&out, "staging") == clean_staging, "a build changed staging");
        build_consistent(&out)?;
        verify_clean(dir)?;
        no_temp_files(&out)?;
        // The identity index moved on with the build that recorded its files: another build
        // has nothing to do.
        let again = tellonce_ok(dir, &["build", "--config", "tellonce.toml", "--json"], 0);
        let report: Value = serde_json::from_slice(&again.stdout).map_err(|e| e.to_string())?;
        ensure!(report["linkage"]["up_to_date"] == true || report["up_to_date"] == true, "not up to date: {report}");
        Ok(())
    });
}

/// The NHS number held in the most input files of a synthetic workspace, as an identifiers
/// file for `sar`.
fn subject_file(dir: &Path) -> PathBuf {
    let mut files_of: BTreeMap<String, BTreeSet<PathBuf>> = BTreeMap::new();
    for f in inputs(dir) {
        for r in read_records(&f) {
            if let Some(n) = r.get("nhs_number") {
                files_of.entry(n.clone()).or_default().insert(f.clone());
            }
        }
    }
    let (nhs, _) = files_of.iter().max_by_key(|(n, fs)| (fs.len(), std::cmp::Reverse((*n).clone()))).unwrap();
    let path = dir.join("subject.txt");
    std::fs::write(&path, format!("nhs_number={nhs}\n")).unwrap();
    path
}

fn sar_args(erase: bool) -> Vec<&'static str> {
    let mut a = vec!["sar", "--config", "tellonce.toml", "--officer", "IG officer 7", "--reference", "SAR-F-19"];
    a.extend(["--identifiers", "subject.txt", "--json"]);
    if erase {
        a.push("--erase");
    }
    a
}

/// `(feed, record_id)` of every holding `sar` (access) finds.
fn holdings(dir: &Path) -> Result<BTreeSet<(String, String)>, String> {
    let out = tellonce(dir, &sar_args(false));
    ensure!(out.status.code() == Some(0), "sar exited {:?}: {}", out.status.code(), text(&out));
    let v: Value = serde_json::from_slice(&out.stdout).map_err(|e| e.to_string())?;
    Ok(v["holdings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| (h["feed"].as_str().unwrap().to_owned(), h["record_id"].as_str().unwrap_or("").to_owned()))
        .collect())
}

#[test]
fn erasure_crashed_at_random_moments_reconciles_after_a_rerun() {
    let scratch = Scratch::new();
    let template = scratch.fresh();
    synth_in(&template, 104);
    tellonce_ok(&template, RUN, 0);
    subject_file(&template);
    let found = holdings(&template).unwrap();
    let files: BTreeSet<&str> = found.iter().map(|(f, _)| f.as_str()).collect();
    assert!(found.len() >= 3 && files.len() >= 2, "the subject is held too little to erase part-way: {found:?}");
    let clean = scratch.copy(&template);
    let erase = sar_args(true);
    let (_, duration) = timed(&clean, &erase);
    let rows_before: u64 = visible_parquet(&template.join("output/staging")).iter().map(|p| parquet_row_count(p)).sum();
    let points = [("erase.rewritten", files.len() as u64)];
    let spec = TrialSpec { name: "sar --erase", args: &erase, points: &points, duration };
    run_trials(&scratch, &template, &spec, 4, &|dir| {
        let out = dir.join("output");
        ensure!(holdings(dir)?.is_empty(), "records still held after the erasure");
        let rows: u64 = visible_parquet(&out.join("staging")).iter().map(|p| parquet_row_count(p)).sum();
        ensure!(
            rows + found.len() as u64 == rows_before,
            "{rows} rows staged, {rows_before} before erasing {}",
            found.len()
        );
        verify_clean(dir)?;
        no_temp_files(&out)?;
        // Not back: a forced run skips the inputs erasure touched, and the next build links
        // none of the erased records.
        let forced = tellonce(dir, FORCE);
        ensure!(forced.status.code() == Some(0), "run --force after the erasure: {}", text(&forced));
        ensure!(holdings(dir)?.is_empty(), "run --force brought erased records back");
        for (feed, id) in &found {
            for p in visible_parquet(&out.join("links").join(format!("feed={feed}"))) {
                ensure!(!parquet_column(&p, "record_ref").contains(&Some(id.clone())), "{feed} {id} still linked");
            }
        }
        build_consistent(&out)?;
        verify_clean(dir)
    });
}

#[test]
fn retention_crashed_at_random_moments_reconciles_after_a_rerun() {
    let scratch = Scratch::new();
    let template = scratch.fresh();
    synth_in(&template, 105);
    tellonce_ok(&template, RUN, 0);
    let args = ["retention", "apply", "--config", "tellonce.toml", "--as-of", "2099-01-01"];
    let clean = scratch.copy(&template);
    let (_, duration) = timed(&clean, &args);
    let due: BTreeSet<String> = log_entries(&clean.join("output"))
        .iter()
        .filter(|e| e["event"]["type"] == "file_deleted" && e["event"]["reason"] == "retention")
        .map(|e| e["event"]["path"].as_str().unwrap().to_owned())
        .collect();
    assert!(due.len() > 20, "{due:?}");
    let points = [("retention.deleted", due.len() as u64)];
    let spec = TrialSpec { name: "retention apply", args: &args, points: &points, duration };
    run_trials(&scratch, &template, &spec, 5, &|dir| {
        let out = dir.join("output");
        for dataset in ["staging", "quarantine", "links", "theme_events", "persons", "families", "aggregates"] {
            let left: Vec<_> = files_under(&out.join(dataset));
            ensure!(left.is_empty(), "{dataset}: files past retention left: {left:#?}");
        }
        let mut logged: BTreeMap<String, u64> = BTreeMap::new();
        for e in log_entries(&out) {
            if e["event"]["type"] == "file_deleted" && e["event"]["reason"] == "retention" {
                *logged.entry(e["event"]["path"].as_str().unwrap().to_owned()).or_default() += 1;
            }
        }
        ensure!(logged.keys().cloned().collect::<BTreeSet<_>>() == due, "deletions logged differ from the files due");
        ensure!(logged.values().all(|n| *n == 1), "a deletion logged twice: {logged:?}");
        verify_clean(dir)?;
        no_temp_files(&out)
    });
}

/// A workspace whose output is `disk/output` (where a tmpfs goes), with synthetic inputs.
fn disk_workspace(scratch: &Scratch, seed: u64) -> PathBuf {
    let dir = scratch.fresh();
    synth_in(&dir, seed);
    let config = std::fs::read_to_string(dir.join("tellonce.toml")).unwrap();
    assert!(config.contains("dir = \"output\""));
    std::fs::write(dir.join("tellonce.toml"), config.replace("dir = \"output\"", "dir = \"disk/output\"")).unwrap();
    dir
}

/// Fills the file system of `dir` but for about `free` bytes: a filler file written until the
/// disk is full, then cut back by `free`.
fn fill_but(dir: &Path, free: u64) -> PathBuf {
    use std::io::Write;
    let filler = dir.join("filler");
    let mut f = std::fs::File::create(&filler).unwrap();
    let chunk = vec![0u8; 1 << 16];
    while f.write_all(&chunk).is_ok() {}
    while f.write_all(&chunk[..4096]).is_ok() {}
    while f.write_all(&chunk[..1]).is_ok() {}
    let len = f.metadata().unwrap().len();
    f.set_len(len.saturating_sub(free)).unwrap();
    filler
}

/// The stage a failure message names: the first output folder it mentions.
fn stage_named(said: &str) -> &'static str {
    for stage in WRITE_ORDER.into_iter().chain(["id_history", "audit", "manifests", "state"]) {
        let named = format!("output/{stage}");
        if said.match_indices(&named).any(|(i, _)| !said[i + named.len()..].starts_with(|c: char| c.is_alphanumeric()))
        {
            return stage;
        }
    }
    "unnamed"
}

/// A page of the tmpfs: it allocates whole pages.
const PAGE: u64 = 4096;

/// The files a clean run wrote (not the audit log, locks or temporary files) in the order they
/// were last written (their modification times), with their size in pages.
fn written_in_order(out: &Path) -> Vec<(String, std::time::SystemTime, u64)> {
    let mut files: Vec<_> = files_under(out)
        .into_iter()
        .filter(|p| !is_hidden(p) && !p.starts_with(out.join("audit")) && p.extension().is_none_or(|e| e != "lock"))
        .map(|p| {
            let m = std::fs::metadata(&p).unwrap();
            (p.strip_prefix(out).unwrap().display().to_string(), m.modified().unwrap(), m.len().div_ceil(PAGE))
        })
        .collect();
    // Within one tick of the clock (files written together share a modification time), in the
    // order a run writes them: an input's staging part before its quarantine file.
    let rank = |rel: &str| {
        let order = [
            "staging",
            "quarantine",
            "state",
            "links",
            "id_history",
            "theme_events",
            "episodes",
            "family_outcomes",
            "outcome_claims",
            "re_referrals",
            "persons",
            "families",
        ];
        order.iter().position(|s| rel.starts_with(s)).unwrap_or(order.len())
    };
    files.sort_by_key(|f| (f.1, rank(&f.0)));
    files
}

/// Room (bytes) for everything a clean run wrote before `target` (in pages), and for the audit
/// log as it was when `target` was written (up to its own input's entries, which are written
/// with it): a command given this much fails at `target` or, a page or two later, just after.
fn room_before(out: &Path, target: &str) -> u64 {
    let files = written_in_order(out);
    let at = files.iter().position(|f| f.0 == target).unwrap();
    let data: u64 = files[..at].iter().map(|f| f.2).sum::<u64>() * PAGE;
    let log = std::fs::read_to_string(out.join("audit/audit.jsonl")).unwrap();
    let needle = format!("\"path\":\"{target}\"");
    let offset = log.find(&needle).unwrap_or(log.len()) as u64;
    data + offset.div_ceil(PAGE) * PAGE
}

/// The stages in the order a run and then a build first write to them.
const WRITE_ORDER: [&str; 12] = [
    "staging",
    "quarantine",
    "links",
    "theme_events",
    "episodes",
    "family_outcomes",
    "outcome_claims",
    "re_referrals",
    "persons",
    "families",
    "aggregates",
    "arrivals",
];

/// Whether a build writes `stage`: every stage a run writes after staging and quarantine, and
/// the id history.
fn built(stage: &str) -> bool {
    WRITE_ORDER[2..].contains(&stage) || stage == "id_history"
}

/// Room (bytes) for a build to write the files a clean run's build wrote before `target` (it
/// appends its audit entries only at its end).
fn build_room_before(clean: &Path, target: &str) -> u64 {
    let files = written_in_order(clean);
    let at = files.iter().position(|f| f.0 == target).unwrap();
    let built: u64 = files[..at].iter().filter(|f| built(stage_of(&f.0))).map(|f| f.2).sum();
    built * PAGE
}

/// The stage a file belongs to: its dataset folder.
fn stage_of(rel: &str) -> &str {
    rel.split('/').next().unwrap()
}

#[test]
fn a_full_disk_at_each_stage_of_run_and_build_recovers_once_there_is_room() {
    let scratch = Scratch::new();
    // One key for all: copies of one workspace.
    let base = disk_workspace(&scratch, 106);
    let clean = scratch.copy(&base);
    let staged_only = scratch.copy(&base);
    let ws = scratch.copy(&base);
    // The clean run: what `run` writes, in what order.
    std::fs::create_dir_all(clean.join("disk")).unwrap();
    tellonce_ok(&clean, RUN, 0);
    let clean_out = clean.join("disk/output");
    // A staged output without a build, for `build` to fill the disk.
    let config = std::fs::read_to_string(staged_only.join("tellonce.toml")).unwrap();
    std::fs::write(staged_only.join("tellonce.toml"), format!("[linkage]\nenabled = false\n\n{config}")).unwrap();
    tellonce_ok(&staged_only, RUN, 0);
    std::fs::write(staged_only.join("tellonce.toml"), &config).unwrap();
    let ids = Identifiers::from_inputs(&inputs(&clean));

    let disk = ws.join("disk");
    let tmpfs = match Tmpfs::mount(&disk, "24m") {
        Ok(t) => t,
        Err(why) => {
            eprintln!("no tmpfs ({why}): a full disk is taken from a file size limit instead");
            full_disk_by_file_size_limit(&ws, &clean_out);
            return;
        }
    };
    // Targets: the first file of each stage, by `run` (staging, quarantine) and by `build`
    // (links and the outcome datasets), and the audit log: room for every file of the run but
    // not for the audit entries its build appends at the end.
    let order = written_in_order(&clean_out);
    let first_of = |stage: &str| order.iter().find(|f| stage_of(&f.0) == stage).map(|f| f.0.clone()).unwrap();
    let mut targets: Vec<(&str, u64, String)> = Vec::new();
    for stage in ["staging", "quarantine"] {
        targets.push(("run", room_before(&clean_out, &first_of(stage)), stage.to_owned()));
    }
    // Room for the last input's files but not for the entries recording them: the run has
    // published them when its audit sync fails, and must take them back.
    let last = order.iter().rposition(|f| stage_of(&f.0) == "staging").unwrap();
    let last_room = room_before(&clean_out, &order[last].0) + (order[last].2 + 1) * PAGE;
    targets.push(("run", last_room, "audit".to_owned()));
    for stage in ["links", "theme_events", "persons", "families", "aggregates"] {
        targets.push(("build", build_room_before(&clean_out, &first_of(stage)), stage.to_owned()));
    }
    // Room for every file of the build, but not for its entries: the audit log (and then the
    // identity index) meets the full disk.
    let built: u64 = order.iter().filter(|f| built(stage_of(&f.0))).map(|f| f.2).sum();
    targets.push(("build", built * PAGE, "audit".to_owned()));

    let mut met: BTreeMap<String, String> = BTreeMap::new();
    let mut repairs = 0;
    for (command, room, target) in &targets {
        let (args, from) = if *command == "run" { (RUN, None) } else { (BUILD, Some(&staged_only)) };
        // From the room computed, a page at a time until the command fails at the target's
        // stage (recovering from each failure on the way): more room when it fails earlier (in
        // the audit log, which every command writes before any file), less when it succeeds or
        // fails at a later stage.
        let mut room = *room;
        let mut tried = BTreeSet::new();
        for _ in 0..8 {
            if !tried.insert(room) {
                break;
            }
            for f in std::fs::read_dir(&disk).unwrap().flatten() {
                let p = f.path();
                if p.is_dir() { std::fs::remove_dir_all(&p).unwrap() } else { std::fs::remove_file(&p).unwrap() }
            }
            if let Some(from) = from {
                copy_tree(&from.join("disk/output"), &disk.join("output"));
            }
            let filler = fill_but(&disk, room);
            let out = tellonce(&ws, args);
            let said = text(&out);
            let about = format!("{command} on a disk full before {target} ({room} bytes of room)");
            assert!(ids.find(&said).is_empty(), "{about}: clear identifiers in {said}");
            match out.status.code() {
                Some(0) => {
                    std::fs::remove_file(&filler).unwrap();
                    room = room.saturating_sub(PAGE);
                    continue;
                }
                Some(4 | 6) => {
                    assert!(said.contains("disk/output"), "{about}: the message names no output path:\n{said}")
                }
                c => panic!("{about}: exited {c:?}:\n{said}"),
            }
            let stage = stage_named(&said);
            let line = said.lines().find(|l| l.starts_with("error")).unwrap_or("").to_owned();
            met.insert(format!("{command} before {target}, {room} bytes of room"), format!("{stage}: {line}"));
            // Nothing half-written is visible: every file under the output is recorded (verify
            // lists any that is not), or the log ends in a torn entry.
            let verify = tellonce(&ws, &["audit", "verify", "--config", "tellonce.toml"]);
            let v = text(&verify);
            assert!(!v.contains("NOT RECORDED"), "{about}: an unrecorded file is visible:\n{v}\n{said}");
            assert!(matches!(verify.status.code(), Some(0 | 6)), "{about}: audit verify:\n{v}\n{said}");
            // Room again: the same command goes on, and the output reconciles with a clean one.
            std::fs::remove_file(&filler).unwrap();
            repairs += u64::from(rerun(&ws, args).unwrap_or_else(|e| panic!("{about}: {e}")));
            let out_dir = disk.join("output");
            let reconciled = staging_equals(&out_dir, &clean_out)
                .and_then(|()| build_consistent(&out_dir))
                .and_then(|()| verify_clean(&ws))
                .and_then(|()| no_temp_files(&out_dir));
            if let Err(e) = reconciled {
                panic!("{about}: after freeing space: {e}\n(the failed command said: {said})");
            }
            if stage == target {
                break;
            }
            // Failing first in the audit log (which every command writes before any file), in a
            // stage the command writes before the target's (an input's staging part before its
            // quarantine file), or in a file before the log is the target: too little room.
            let rank = |s: &str| WRITE_ORDER.iter().position(|w| *w == s).unwrap_or(WRITE_ORDER.len());
            let earlier = rank(stage) < rank(target);
            room =
                if stage == "audit" || target == "audit" || earlier { room + PAGE } else { room.saturating_sub(PAGE) };
        }
    }
    eprintln!("full disk: stage each failure named, by target: {met:#?}; audit repairs needed: {repairs}");
    let named: BTreeSet<&str> = met.values().map(|v| v.split(':').next().unwrap()).collect();
    for stage in ["staging", "quarantine", "links", "theme_events", "persons", "families", "aggregates", "audit"] {
        assert!(named.contains(stage), "no full disk met {stage}: {met:#?}");
    }
    drop(tmpfs);
}

/// Where no tmpfs can be mounted: `run` under file size limits (writes beyond them fail as on
/// a full disk), each failing with exit 4 and recovering once the limit is lifted.
fn full_disk_by_file_size_limit(ws: &Path, clean_out: &Path) {
    std::fs::create_dir_all(ws.join("disk")).unwrap();
    for blocks in [4u64, 16, 64] {
        let out = tellonce_on_a_full_disk(ws, blocks, RUN);
        assert_eq!(out.status.code(), Some(4), "limit {blocks} KiB: {}", text(&out));
        rerun(ws, RUN).unwrap();
        let out_dir = ws.join("disk/output");
        staging_equals(&out_dir, clean_out).unwrap();
        verify_clean(ws).unwrap();
        std::fs::remove_dir_all(&out_dir).unwrap();
    }
}

#[test]
fn a_read_only_output_fails_every_command_clearly_and_works_again_once_writable() {
    let scratch = Scratch::new();
    let ws = disk_workspace(&scratch, 107);
    let disk = ws.join("disk");
    // A tmpfs remounted read-only (`chmod` does not bind root); where none can be mounted (a
    // bind mount needs the same privilege), the output's `state/` folder made a regular file
    // instead: every command must take the output's lock there first, and a file in the way binds root.
    let tmpfs = match Tmpfs::mount(&disk, "64m") {
        Ok(t) => Some(t),
        Err(why) => {
            eprintln!(
                "no tmpfs ({why}): the output is made unwritable by a file where state/ should be (EEXIST or ENOTDIR bind root)"
            );
            None
        }
    };
    tellonce_ok(&ws, RUN, 0);
    subject_file(&ws);
    let ids = Identifiers::from_inputs(&inputs(&ws));
    let out_dir = disk.join("output");
    let state = out_dir.join("state");
    let aside = disk.join("state-aside");
    let (why, unwritable): (&str, Box<dyn Fn()>) = match &tmpfs {
        Some(t) => ("Read-only", Box::new(|| t.remount("ro"))),
        None => (
            "disk/output/state",
            Box::new(|| {
                std::fs::rename(&state, &aside).unwrap();
                std::fs::write(&state, "not a directory\n").unwrap();
            }),
        ),
    };
    unwritable();
    let before = hashes(&out_dir, "");
    let erase = sar_args(true);
    let retention = ["retention", "apply", "--config", "tellonce.toml", "--as-of", "2099-01-01"];
    let commands: [&[&str]; 7] = [
        RUN,
        FORCE,
        BUILD,
        &erase,
        &retention,
        &["audit", "repair", "--config", "tellonce.toml"],
        &["audit", "verify", "--config", "tellonce.toml", "--prune"],
    ];
    for args in commands {
        let out = tellonce(&ws, args);
        let said = text(&out);
        eprintln!("unwritable output ({why}): {args:?} exited {:?}", out.status.code());
        assert_eq!(out.status.code(), Some(4), "{args:?} on an unwritable output:\n{said}");
        assert!(said.contains("disk/output") && said.contains(why), "{args:?} names no path:\n{said}");
        assert!(ids.find(&said).is_empty(), "{args:?}: clear identifiers in {said}");
        assert_eq!(hashes(&out_dir, ""), before, "{args:?} changed the unwritable output");
    }
    if tmpfs.is_some() {
        let verify = tellonce_ok(&ws, &["audit", "verify", "--config", "tellonce.toml"], 0);
        assert!(text(&verify).contains("verifies"), "{}", text(&verify));
    }

    match &tmpfs {
        Some(t) => t.remount("rw"),
        None => {
            std::fs::remove_file(&state).unwrap();
            std::fs::rename(&aside, &state).unwrap();
        }
    }
    for args in commands.iter().take(5) {
        tellonce_ok(&ws, args, 0);
    }
    verify_clean(&ws).unwrap();
    no_temp_files(&out_dir).unwrap();
    drop(unwritable);
    drop(tmpfs);
}
