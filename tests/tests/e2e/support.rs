//! Helpers shared by the end-to-end tests: small workspaces with a key and a config, reading
//! what a run wrote (summary, quarantine, Parquet), and scanning outputs for values that must
//! not be there.

use std::collections::{BTreeMap, HashSet};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::record::Field;
use serde_json::Value;
use tellonce_tests::{files_under, json_stdout, tellonce_bin, tellonce_ok};

/// The built-in feeds, in the order of the data dictionary.
/// The datasets each build writes anew, `links/` first, then the outcome datasets.
pub const BUILD_DATASETS: [&str; 10] = [
    "links",
    "theme_events",
    "persons",
    "families",
    "episodes",
    "family_outcomes",
    "outcome_claims",
    "re_referrals",
    "aggregates",
    "arrivals",
];

pub const BUILT_IN_FEEDS: [&str; 7] =
    ["health_visiting", "camhs", "police", "youth_justice", "housing", "district", "education"];

/// Every feed `tellonce synth` writes: the built-in ones, then the substance misuse feed, which
/// its deployment defines in a file (`feeds/`).
pub const FEEDS: [&str; 8] =
    ["health_visiting", "camhs", "police", "youth_justice", "housing", "district", "education", "substance_misuse"];

/// A small workspace in a temporary directory: inputs, a key and a config, run from the directory
/// itself so that every path in messages and outputs is relative to it.
pub struct Workspace {
    pub tmp: tempfile::TempDir,
}

impl Workspace {
    /// An empty workspace with a new key at `keys/tellonce.key` and the example agreements in
    /// `agreements/` (where a config looks by default).
    pub fn new() -> Workspace {
        let ws = Workspace::bare();
        tellonce_ok(ws.dir(), &["keys", "new", "keys/tellonce.key"], 0);
        tellonce_ok(ws.dir(), &["isa", "examples", "agreements"], 0);
        ws
    }

    /// An empty workspace without a key.
    pub fn bare() -> Workspace {
        Workspace { tmp: tempfile::tempdir().unwrap() }
    }

    pub fn dir(&self) -> &Path {
        self.tmp.path()
    }

    /// `output/` under the workspace.
    pub fn out(&self) -> PathBuf {
        self.dir().join("output")
    }

    /// Writes a file (creating its directory) and returns its path.
    pub fn write(&self, rel: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
        let path = self.dir().join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, bytes).unwrap();
        path
    }

    /// Writes `tellonce.toml` with these `(feed, path)` sources; `extra` is appended as it is
    /// (for example a `[limits]` table).
    pub fn config(&self, sources: &[(&str, &str)], extra: &str) {
        self.config_named("tellonce.toml", "output", "keys/tellonce.key", sources, extra);
    }

    /// Writes a config file with the given output dir and key file.
    pub fn config_named(&self, name: &str, out: &str, key: &str, sources: &[(&str, &str)], extra: &str) {
        let mut s = format!("[output]\ndir = {out:?}\n\n[keys]\nfile = {key:?}\n\n{extra}\n");
        for (feed, path) in sources {
            s.push_str(&format!("\n[[sources]]\nfeed = {feed:?}\npath = {path:?}\n"));
        }
        self.write(name, s);
    }

    /// `tellonce run --config tellonce.toml --json` (plus `args`), expecting exit code `code`.
    pub fn run(&self, code: i32, args: &[&str]) -> Run {
        let mut all = vec!["run", "--config", "tellonce.toml", "--json", "--no-progress"];
        all.extend_from_slice(args);
        Run::new(tellonce_ok(self.dir(), &all, code))
    }

    /// `tellonce quarantine list --config tellonce.toml` (text, then JSON).
    pub fn quarantine_list(&self) -> (Output, Output) {
        let text = tellonce_ok(self.dir(), &["quarantine", "list", "--config", "tellonce.toml"], 0);
        let json = tellonce_ok(self.dir(), &["quarantine", "list", "--config", "tellonce.toml", "--json"], 0);
        (text, json)
    }
}

/// A finished `run --json`: its output and its parsed summary.
pub struct Run {
    pub output: Output,
    pub summary: Value,
}

impl Run {
    pub fn new(output: Output) -> Run {
        let summary = json_stdout(&output);
        Run { output, summary }
    }

    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.output.stderr).into_owned()
    }

    /// The summary's report of the input configured with this path.
    pub fn input(&self, source: &str) -> &Value {
        self.summary["inputs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["source"] == source)
            .unwrap_or_else(|| panic!("no input {source} in the summary:\n{:#}", self.summary))
    }

    /// `inputs[source].quarantined_by_rule` as a map.
    pub fn by_rule(&self, source: &str) -> BTreeMap<String, u64> {
        rule_counts(&self.input(source)["quarantined_by_rule"])
    }

    /// Asserts one input's status and counts, and that read = written + quarantined.
    pub fn assert_counts(&self, source: &str, status: &str, read: u64, written: u64, quarantined: u64) {
        let i = self.input(source);
        let got = (
            i["status"].as_str().unwrap(),
            i["read"].as_u64().unwrap(),
            i["written"].as_u64().unwrap(),
            i["quarantined"].as_u64().unwrap(),
        );
        assert_eq!(got, (status, read, written, quarantined), "input {source}:\n{i:#}");
    }
}

/// A `{rule: count}` JSON object as a map.
pub fn rule_counts(v: &Value) -> BTreeMap<String, u64> {
    v.as_object()
        .unwrap_or_else(|| panic!("not an object: {v}"))
        .iter()
        .map(|(k, n)| (k.clone(), n.as_u64().unwrap()))
        .collect()
}

/// Stdout and stderr of a command, as text.
/// `tellonce ARGS` in `dir` with `stdin` on its standard input: how `sar` takes identifiers,
/// never as arguments, which other users could read.
pub fn tellonce_with_stdin(dir: &Path, args: &[&str], stdin: &str) -> Output {
    use std::io::Write;
    let mut child = Command::new(tellonce_bin())
        .args(args)
        .current_dir(dir)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

pub fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

/// Runs `tellonce` in `dir` under `bash -c 'ulimit -f <blocks>; exec tellonce …'`, so that a file
/// growing beyond `blocks` KiB kills the process with SIGXFSZ in the middle of the write.
pub fn tellonce_with_file_size_limit(dir: &Path, blocks: u64, args: &[&str]) -> Output {
    tellonce_under_shell(dir, &format!("ulimit -f {blocks}"), args)
}

/// Runs `tellonce` in `dir` as on a disk that fills up after `blocks` KiB a file: under
/// `ulimit -f <blocks>` with SIGXFSZ ignored, so that a write beyond it is cut short and then
/// fails (EFBIG) as a write to a full disk does (ENOSPC), and the process goes on.
pub fn tellonce_on_a_full_disk(dir: &Path, blocks: u64, args: &[&str]) -> Output {
    tellonce_under_shell(dir, &format!("trap '' XFSZ; ulimit -f {blocks}"), args)
}

/// Runs `tellonce` in `dir` after the shell commands `setup` (limits, traps), through `exec` so
/// that they apply to tellonce itself.
fn tellonce_under_shell(dir: &Path, setup: &str, args: &[&str]) -> Output {
    Command::new("bash")
        .arg("-c")
        .arg(format!("{setup}; exec \"$0\" \"$@\""))
        .arg(tellonce_bin())
        .args(args)
        .current_dir(dir)
        .env_remove("TELLONCE_LOG")
        .output()
        .unwrap()
}

/// Synthetic data in `dir` (see `tellonce synth`), returning the workspace around it.
pub fn synth_workspace(children: usize, seed: u64) -> Workspace {
    let ws = Workspace::bare();
    tellonce_tests::synth(ws.dir(), children, seed);
    ws
}

/// Copies a directory tree (permissions included, as `fs::copy` keeps them).
pub fn copy_tree(from: &Path, to: &Path) {
    for f in files_under(from) {
        let rel = f.strip_prefix(from).unwrap();
        let dest = to.join(rel);
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        std::fs::copy(&f, &dest).unwrap();
    }
}

/// Whether a file name marks a temporary file (the pipeline's temp files start with a dot).
pub fn is_hidden(path: &Path) -> bool {
    path.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with('.'))
}

/// The visible Parquet files under `dir` (temporary dot files left out), sorted.
pub fn visible_parquet(dir: &Path) -> Vec<PathBuf> {
    files_under(dir).into_iter().filter(|p| !is_hidden(p) && p.extension().is_some_and(|e| e == "parquet")).collect()
}

/// `(path relative to root, SHA-256)` of every visible file under `root/sub`.
pub fn hashes(root: &Path, sub: &str) -> BTreeMap<String, String> {
    files_under(&root.join(sub))
        .into_iter()
        .filter(|p| !is_hidden(p))
        .map(|p| (p.strip_prefix(root).unwrap().display().to_string(), sha256_of(&p)))
        .collect()
}

/// SHA-256 of a file, lowercase hex, from `sha256sum` (independent of the tool's own hashing).
pub fn sha256_of(path: &Path) -> String {
    let out = Command::new("sha256sum").arg(path).output().expect("running sha256sum");
    assert!(out.status.success(), "sha256sum {}: {}", path.display(), text(&out));
    String::from_utf8(out.stdout).unwrap().split_whitespace().next().unwrap().to_owned()
}

/// One quarantine entry's clear part.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Quarantined {
    pub feed: String,
    pub source: String,
    pub position: u64,
    pub rule: String,
    pub column: Option<String>,
}

/// Every entry of every committed quarantine file under `out/quarantine`, sorted.
pub fn quarantine_entries(out: &Path) -> Vec<Quarantined> {
    let mut all = Vec::new();
    for f in files_under(&out.join("quarantine")) {
        if is_hidden(&f) {
            continue;
        }
        for line in std::fs::read_to_string(&f).unwrap().lines().filter(|l| !l.trim().is_empty()) {
            let v: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{}: {e}: {line}", f.display()));
            all.push(Quarantined {
                feed: v["feed"].as_str().unwrap().to_owned(),
                source: v["source"].as_str().unwrap().to_owned(),
                position: v["position"].as_u64().unwrap(),
                rule: v["rule"].as_str().unwrap().to_owned(),
                column: v["column"].as_str().map(str::to_owned),
            });
        }
    }
    all.sort();
    all
}

/// Asserts that the record starting at `line` of `source` was quarantined for `rule`, naming
/// `column`: in the quarantine file's clear metadata (file, line, column, rule) and in
/// `quarantine list` (file, column, rule).
pub fn assert_quarantined(ws: &Workspace, source: &str, line: u64, rule: &str, column: Option<&str>) {
    let entries = quarantine_entries(&ws.out());
    let hit = entries.iter().find(|e| e.source == source && e.position == line);
    let e = hit.unwrap_or_else(|| panic!("no quarantine entry for {source} line {line}; entries: {entries:#?}"));
    assert_eq!((e.rule.as_str(), e.column.as_deref()), (rule, column), "{source} line {line}: {e:?}");
    let (list, _) = ws.quarantine_list();
    let list = String::from_utf8_lossy(&list.stdout).into_owned();
    assert!(
        list.lines().any(|l| l.contains(source) && l.contains(rule) && column.is_none_or(|c| l.contains(c))),
        "`quarantine list` does not show {source} / {rule} / {column:?}:\n{list}"
    );
}

/// Rows in a Parquet file, from its footer.
pub fn parquet_row_count(path: &Path) -> u64 {
    let reader = SerializedFileReader::new(File::open(path).unwrap()).unwrap();
    u64::try_from(reader.metadata().file_metadata().num_rows()).unwrap()
}

/// The names of a Parquet file's columns.
pub fn parquet_columns(path: &Path) -> Vec<String> {
    let reader = SerializedFileReader::new(File::open(path).unwrap()).unwrap();
    reader.metadata().file_metadata().schema_descr().columns().iter().map(|c| c.name().to_owned()).collect()
}

/// Every row of a Parquet file as `(column, field)` pairs, decoded with the parquet crate's
/// record API, which reads any physical type (so token columns may be UTF-8, binary or
/// fixed-size binary).
pub fn parquet_rows(path: &Path) -> Vec<Vec<(String, Field)>> {
    let reader = SerializedFileReader::new(File::open(path).unwrap()).unwrap();
    reader
        .get_row_iter(None)
        .unwrap()
        .map(|r| r.unwrap().get_column_iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .collect()
}

/// One column of a Parquet file as text (null as `None`); strings as they are, other values as
/// the record API prints them.
pub fn parquet_column(path: &Path, name: &str) -> Vec<Option<String>> {
    parquet_rows(path)
        .into_iter()
        .map(|row| {
            let (_, f) = row.into_iter().find(|(k, _)| k == name).unwrap_or_else(|| panic!("no column {name}"));
            match f {
                Field::Null => None,
                Field::Str(s) => Some(s),
                other => Some(other.to_string()),
            }
        })
        .collect()
}

/// Every string held in a Parquet file: each UTF-8 or binary value (binary read as lossy
/// UTF-8), every key-value metadata entry, the column names, the embedded Arrow schema's field
/// names and metadata, and every column chunk's min/max statistics.
pub fn parquet_strings(path: &Path) -> Vec<String> {
    let reader = SerializedFileReader::new(File::open(path).unwrap()).unwrap();
    let meta = reader.metadata();
    let mut out = Vec::new();
    let kv = meta.file_metadata().key_value_metadata();
    for e in kv.into_iter().flatten() {
        out.push(e.key.clone());
        out.extend(e.value.clone());
    }
    for c in meta.file_metadata().schema_descr().columns() {
        out.push(c.name().to_owned());
    }
    let arrow = parquet::arrow::parquet_to_arrow_schema(meta.file_metadata().schema_descr(), kv).unwrap();
    for f in arrow.fields() {
        out.push(f.name().clone());
        for (k, v) in f.metadata() {
            out.push(format!("{k}={v}"));
        }
    }
    for (k, v) in arrow.metadata() {
        out.push(format!("{k}={v}"));
    }
    for rg in meta.row_groups() {
        for c in rg.columns() {
            if let Some(s) = c.statistics() {
                out.extend(s.min_bytes_opt().map(|b| String::from_utf8_lossy(b).into_owned()));
                out.extend(s.max_bytes_opt().map(|b| String::from_utf8_lossy(b).into_owned()));
            }
        }
    }
    for row in parquet_rows(path) {
        for (_, f) in row {
            push_field_strings(&f, &mut out);
        }
    }
    out
}

fn push_field_strings(f: &Field, out: &mut Vec<String>) {
    match f {
        Field::Str(s) => out.push(s.clone()),
        Field::Bytes(b) => out.push(String::from_utf8_lossy(b.data()).into_owned()),
        Field::Group(row) => {
            for (_, f) in row.get_column_iter() {
                push_field_strings(f, out);
            }
        }
        Field::ListInternal(list) => {
            for f in list.elements() {
                push_field_strings(f, out);
            }
        }
        Field::MapInternal(map) => {
            for (k, v) in map.entries() {
                push_field_strings(k, out);
                push_field_strings(v, out);
            }
        }
        _ => {}
    }
}

/// Everything a test should look in for leaked values: every file under `out` (Parquet
/// decoded, and also as raw bytes; every other file as raw bytes), with a label each.
pub fn output_haystacks(out: &Path) -> Vec<(String, Vec<u8>)> {
    let mut all = Vec::new();
    for f in files_under(out) {
        let label = f.display().to_string();
        if f.extension().is_some_and(|e| e == "parquet") && !is_hidden(&f) {
            all.push((format!("{label} (decoded)"), parquet_strings(&f).join("\n").into_bytes()));
        }
        all.push((label, std::fs::read(&f).unwrap()));
    }
    all
}

/// Asserts that none of `values` occurs in stdout or stderr of `outputs` or in any file under
/// `out` (Parquet decoded and raw).
pub fn assert_absent(values: &[&[u8]], outputs: &[&Output], out: &Path) {
    let mut hay = output_haystacks(out);
    for (i, o) in outputs.iter().enumerate() {
        hay.push((format!("stdout of command {i}"), o.stdout.clone()));
        hay.push((format!("stderr of command {i}"), o.stderr.clone()));
    }
    assert!(!hay.is_empty());
    for v in values {
        assert!(!v.is_empty());
        for (label, bytes) in &hay {
            assert!(
                !contains(bytes, v),
                "the offending value {:?} appears in {label}:\n{}",
                String::from_utf8_lossy(v),
                String::from_utf8_lossy(bytes).chars().take(3000).collect::<String>()
            );
        }
    }
}

/// Whether `needle` occurs in `hay`.
pub fn contains(hay: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || hay.windows(needle.len()).any(|w| w == needle)
}

/// Parses RFC 4180 CSV (`,`, `"`, doubled quotes, LF or CRLF) into records of fields.
pub fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut records = Vec::new();
    let mut record = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') => quoted = true,
            (false, ',') => record.push(std::mem::take(&mut field)),
            (false, '\r') => {}
            (false, '\n') => {
                record.push(std::mem::take(&mut field));
                records.push(std::mem::take(&mut record));
            }
            (false, c) => field.push(c),
        }
    }
    if !field.is_empty() || !record.is_empty() {
        record.push(field);
        records.push(record);
    }
    records
}

/// The records of a CSV file (header first) or a JSON Lines file, as maps of column to text
/// (JSON strings as they are, numbers and booleans as their JSON text, null left out).
pub fn read_records(path: &Path) -> Vec<BTreeMap<String, String>> {
    let text = std::fs::read_to_string(path).unwrap();
    if path.extension().is_some_and(|e| e == "csv") {
        let mut rows = parse_csv(&text).into_iter();
        let header = rows.next().unwrap();
        rows.map(|r| header.iter().cloned().zip(r).filter(|(_, v)| !v.is_empty()).collect()).collect()
    } else {
        text.lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| {
                let v: Value = serde_json::from_str(l).unwrap();
                v.as_object()
                    .unwrap()
                    .iter()
                    .filter_map(|(k, v)| match v {
                        Value::Null => None,
                        Value::String(s) => Some((k.clone(), s.clone())),
                        other => Some((k.clone(), other.to_string())),
                    })
                    .collect()
            })
            .collect()
    }
}

/// Clear identifiers to look for: NHS numbers, full names and distinctive single surnames
/// (folded as the pipeline folds them), dates of birth, full postcodes (with their space), UPNs,
/// PNC IDs, UPRNs, household references and address lines.
#[derive(Debug, Default)]
pub struct Identifiers {
    pub nhs: HashSet<String>,
    pub names: HashSet<String>,
    pub dobs: HashSet<String>,
    pub postcodes: HashSet<String>,
    /// Surnames of at least [`SINGLE_NAME_LEN`] letters that no other column of the inputs
    /// uses as a value (a code list's `WHITE` is not a leak of the surname White).
    pub surnames: HashSet<String>,
    /// UPNs, PNC IDs, UPRNs and household references, exactly as sent (upper case).
    pub references: HashSet<String>,
    /// Address lines, folded.
    pub addresses: HashSet<String>,
    max_name_words: usize,
}

/// The shortest surname looked for on its own: shorter ones are too often ordinary words.
pub const SINGLE_NAME_LEN: usize = 7;

impl Identifiers {
    /// Collects them from partner files (CSV or JSON Lines).
    pub fn from_inputs(files: &[PathBuf]) -> Identifiers {
        let mut ids = Identifiers::default();
        // Every word the inputs use outside their identifying columns: codes, column names.
        let mut vocabulary: HashSet<String> = HashSet::new();
        for f in files {
            for r in read_records(f) {
                if let Some(n) = r.get("nhs_number") {
                    let digits: String = n.chars().filter(char::is_ascii_digit).collect();
                    if digits.len() == 10 {
                        ids.nhs.insert(digits);
                    }
                }
                if let (Some(f), Some(s)) = (r.get("forename"), r.get("surname")) {
                    let name = fold(&format!("{f} {s}"));
                    ids.max_name_words = ids.max_name_words.max(name.split(' ').count());
                    ids.names.insert(name);
                }
                if let Some(d) = r.get("date_of_birth") {
                    ids.dobs.insert(d.trim().to_owned());
                }
                if let Some(p) = r.get("postcode") {
                    let p = p.trim().to_ascii_uppercase();
                    if let Some((o, i)) = p.split_once(' ') {
                        ids.postcodes.insert(format!("{} {}", o.trim(), i.trim()));
                    }
                }
                if let Some(s) = r.get("surname").map(|s| fold(s)).filter(|s| s.len() >= SINGLE_NAME_LEN) {
                    ids.surnames.insert(s);
                }
                for column in ["upn", "pnc_id", "uprn", "household_ref"] {
                    if let Some(v) = r.get(column).map(|v| v.trim().to_ascii_uppercase()).filter(|v| v.len() >= 6) {
                        ids.references.insert(v);
                    }
                }
                if let Some(a) = r.get("address_line_1").map(|a| fold(a)).filter(|a| a.contains(' ')) {
                    ids.max_name_words = ids.max_name_words.max(a.split(' ').count());
                    ids.addresses.insert(a);
                }
                for (column, value) in &r {
                    if !IDENTIFIER_COLUMNS.contains(&column.as_str()) {
                        vocabulary.extend(fold(value).split(' ').map(str::to_owned));
                    }
                    vocabulary.extend(fold(column).split(' ').map(str::to_owned));
                }
            }
        }
        ids.surnames.retain(|s| !vocabulary.contains(s));
        ids
    }

    /// The identifiers found in `text`: every match bounded by non-alphanumeric characters (a
    /// name after folding the text the same way).
    pub fn find(&self, text: &str) -> Vec<String> {
        let mut hits = Vec::new();
        let b = text.as_bytes();
        let alnum = |i: usize| b.get(i).is_some_and(u8::is_ascii_alphanumeric);
        // NHS numbers: runs of exactly ten digits.
        let mut i = 0;
        while i < b.len() {
            if b[i].is_ascii_digit() {
                let start = i;
                while i < b.len() && b[i].is_ascii_digit() {
                    i += 1;
                }
                let boundary = (start == 0 || !alnum(start - 1)) && !alnum(i);
                if boundary && i - start == 10 && self.nhs.contains(&text[start..i]) {
                    hits.push(format!("NHS number {}", &text[start..i]));
                }
            } else {
                i += 1;
            }
        }
        // Dates of birth: YYYY-MM-DD not inside a longer number, and not the date of an RFC 3339
        // timestamp (`2025-03-10T08:01:09Z` in logs and manifests is the day of the run, which
        // may be some child's birthday), nor one of the governance dates tellonce itself writes
        // (an agreement's start, review and end, the processing date, a retention date).
        let digit = |i: usize| b.get(i).is_some_and(u8::is_ascii_digit);
        let governance_date = |i: usize| {
            ["\"start\":\"", "\"review\":\"", "\"end\":\"", "\"as_of\":\"", "\"retention_until\":\"", "as of "]
                .iter()
                .any(|key| b[..i].ends_with(key.as_bytes()))
        };
        for i in 0..b.len().saturating_sub(9) {
            let shape = (0..10).all(|k| if k == 4 || k == 7 { b[i + k] == b'-' } else { b[i + k].is_ascii_digit() });
            let timestamp = b.get(i + 10) == Some(&b'T') && digit(i + 11);
            if shape
                && !timestamp
                && !governance_date(i)
                && (i == 0 || !digit(i - 1))
                && !digit(i + 10)
                && self.dobs.contains(&text[i..i + 10])
            {
                hits.push(format!("date of birth {}", &text[i..i + 10]));
            }
        }
        // Postcodes: OUTWARD INWARD around a space, compared in upper case.
        let upper = text.to_ascii_uppercase();
        let u = upper.as_bytes();
        for (s, _) in upper.match_indices(' ') {
            let mut start = s;
            while start > 0 && u[start - 1].is_ascii_alphanumeric() && s - start < 5 {
                start -= 1;
            }
            let end = s + 4;
            if (2..=4).contains(&(s - start))
                && (start == 0 || !u[start - 1].is_ascii_alphanumeric())
                && end <= u.len()
                && u[s + 1..end].iter().all(u8::is_ascii_alphanumeric)
                && u.get(end).is_none_or(|c| !c.is_ascii_alphanumeric())
                && self.postcodes.contains(&upper[start..end])
            {
                hits.push(format!("postcode {}", &upper[start..end]));
            }
        }
        // References (UPN, PNC ID, UPRN, household reference): whole tokens, in upper case.
        let is_part = |c: char| c.is_ascii_alphanumeric() || c == '/' || c == '-';
        for token in upper.split(|c: char| !is_part(c)).filter(|t| t.len() >= 6) {
            if self.references.contains(token) {
                hits.push(format!("reference {token}"));
            }
        }
        // Names and address lines: runs of whole words of the folded text, leaving out the
        // column names that stand between a forename and a surname in JSON
        // (`"forename":"Ann","surname":"Lee"`) and in `key=value` logs; distinctive surnames on
        // their own.
        let folded = fold(text);
        let words: Vec<&str> = folded.split(' ').filter(|w| !matches!(*w, "FORENAME" | "SURNAME")).collect();
        for i in 0..words.len() {
            if self.surnames.contains(words[i]) {
                hits.push(format!("surname {}", words[i]));
            }
            let mut cand = String::new();
            for (k, w) in words[i..].iter().take(self.max_name_words).enumerate() {
                if k > 0 {
                    cand.push(' ');
                }
                cand.push_str(w);
                if k > 0 && self.names.contains(&cand) {
                    hits.push(format!("name {cand}"));
                }
                if k > 0 && self.addresses.contains(&cand) {
                    hits.push(format!("address {cand}"));
                }
            }
        }
        hits
    }
}

/// The columns whose values are clear identifiers (their words are not vocabulary).
const IDENTIFIER_COLUMNS: &[&str] = &[
    "nhs_number",
    "upn",
    "pnc_id",
    "forename",
    "surname",
    "date_of_birth",
    "address_line_1",
    "postcode",
    "uprn",
    "household_ref",
    "record_id",
];

/// The pipeline's own name folding (upper case, punctuation and spaces folded).
pub fn fold(s: &str) -> String {
    tellonce_schemas::identifiers::names::fold(s)
}
