//! The quarantine store: rejected records, sealed by the caller, one JSON object per line.
//!
//! Each feed's rejects go to `<root>/quarantine/feed=<feed>/<name>.jsonl`, written under a temp
//! name and renamed when complete. The connector never sees clear content: the caller seals a
//! record (AEAD) binding [`QuarantineEntry::aad`] as associated data, so that an entry cannot be
//! moved to another feed, source, position or rule without failing to open.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::atomic::{check_component, sync_dir};

/// The directory under the dataset root that holds quarantine files.
pub const QUARANTINE_DIR: &str = "quarantine";

/// Domain tag at the start of [`QuarantineEntry::aad`]; changes if the layout ever does.
const AAD_TAG: &[u8] = b"tellonce.quarantine.v1";

/// One rejected record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuarantineEntry {
    /// The feed's name.
    pub feed: String,
    /// The input it came from (file name, or topic and partition).
    pub source: String,
    /// Its position in that input (line number, or offset).
    pub position: u64,
    /// The code of the rule it broke ([`tellonce_schemas::Rule::code`]).
    pub rule: String,
    /// The column at fault, where one is.
    pub column: Option<String>,
    /// The sheet the record is a row of, where the input is a workbook's sheet: `position` is
    /// its row there, and one workbook may be listed once per sheet. Absent otherwise (and in
    /// entries written before it was recorded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sheet: Option<String>,
    /// The record, sealed by the caller; opaque here. Base64 in the file.
    #[serde(with = "base64_bytes")]
    pub sealed: Vec<u8>,
}

impl QuarantineEntry {
    /// The bytes the caller must bind as AEAD associated data when sealing and opening.
    ///
    /// A domain tag, then feed, source, position, rule and column, each length-prefixed
    /// (big-endian `u64` lengths; the position as a big-endian `u64`; the column preceded by
    /// `0` when absent or `1` when present), so that no two entries share the same bytes. A
    /// sheet, where there is one, follows as `2` and the sheet's name, length-prefixed: an entry
    /// without one binds the bytes it always did, so entries sealed before still open.
    pub fn aad(&self) -> Vec<u8> {
        fn put(out: &mut Vec<u8>, bytes: &[u8]) {
            out.extend_from_slice(&(bytes.len() as u64).to_be_bytes());
            out.extend_from_slice(bytes);
        }
        let mut out = Vec::with_capacity(96 + self.feed.len() + self.source.len() + self.rule.len());
        put(&mut out, AAD_TAG);
        put(&mut out, self.feed.as_bytes());
        put(&mut out, self.source.as_bytes());
        out.extend_from_slice(&self.position.to_be_bytes());
        put(&mut out, self.rule.as_bytes());
        match &self.column {
            None => out.push(0),
            Some(c) => {
                out.push(1);
                put(&mut out, c.as_bytes());
            }
        }
        if let Some(sheet) = &self.sheet {
            out.push(2);
            put(&mut out, sheet.as_bytes());
        }
        out
    }
}

mod base64_bytes {
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(bytes))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        STANDARD.decode(text.as_bytes()).map_err(|_| serde::de::Error::custom("sealed is not valid base64"))
    }
}

/// Writes one quarantine file.
#[derive(Debug)]
pub struct QuarantineWriter {
    out: Option<BufWriter<File>>,
    dir: PathBuf,
    tmp: PathBuf,
    target: PathBuf,
    count: u64,
    line: Vec<u8>,
}

impl QuarantineWriter {
    /// Starts `<root>/quarantine/feed=<feed>/<name>.jsonl`, writing to a temp file beside it.
    /// `feed` and `name` must be plain names (no `/`, not `..`).
    pub fn create(root: &Path, feed: &str, name: &str) -> io::Result<QuarantineWriter> {
        check_component(feed, "feed name")?;
        check_component(name, "quarantine file name")?;
        let dir = root.join(QUARANTINE_DIR).join(format!("feed={feed}"));
        fs::create_dir_all(&dir)?;
        let target = dir.join(format!("{name}.jsonl"));
        let tmp = dir.join(format!(".{name}.jsonl.tmp"));
        let file = OpenOptions::new().write(true).create(true).truncate(true).open(&tmp)?;
        Ok(QuarantineWriter { out: Some(BufWriter::new(file)), dir, tmp, target, count: 0, line: Vec::new() })
    }

    /// Appends an entry as one line.
    pub fn push(&mut self, entry: &QuarantineEntry) -> io::Result<()> {
        let out = self.out.as_mut().ok_or_else(|| io::Error::other("the quarantine writer has already failed"))?;
        self.line.clear();
        serde_json::to_writer(&mut self.line, entry).map_err(io::Error::other)?;
        self.line.push(b'\n');
        if let Err(e) = out.write_all(&self.line) {
            // A partial line may have reached the file: never commit it.
            self.out = None;
            return Err(e);
        }
        self.count += 1;
        Ok(())
    }

    /// The file this writer commits to (it may already exist, from an earlier run).
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// Entries pushed so far.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Flushes, fsyncs and renames the file to its final name (replacing an earlier file of the
    /// same name, as a replay does), then fsyncs the directory. If no entry was pushed, writes
    /// nothing, removes the temp file and any earlier file of the same name (a replay that now
    /// rejects nothing), and returns `Ok(None)`.
    pub fn commit(mut self) -> io::Result<Option<PathBuf>> {
        let out = self.out.take().ok_or_else(|| io::Error::other("the quarantine writer has already failed"))?;
        if self.count == 0 {
            drop(out);
            fs::remove_file(&self.tmp)?;
            self.tmp = PathBuf::new();
            match fs::remove_file(&self.target) {
                Ok(()) => sync_dir(&self.dir)?,
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
            return Ok(None);
        }
        let file = out.into_inner().map_err(io::IntoInnerError::into_error)?;
        file.sync_all()?;
        drop(file);
        fs::rename(&self.tmp, &self.target)?;
        self.tmp = PathBuf::new();
        sync_dir(&self.dir)?;
        Ok(Some(self.target.clone()))
    }
}

impl Drop for QuarantineWriter {
    /// A writer not committed removes its temp file.
    fn drop(&mut self) {
        drop(self.out.take());
        if !self.tmp.as_os_str().is_empty() {
            let _ = fs::remove_file(&self.tmp);
        }
    }
}

/// Why the quarantine store cannot be read. Names the file (and line), never a value.
#[derive(Debug, thiserror::Error)]
pub enum QuarantineReadError {
    /// A directory or file cannot be read.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        /// The directory or file.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
    /// A line is not a quarantine entry.
    #[error("{} line {line} is not a valid quarantine entry ({kind} error at column {column})", path.display())]
    Malformed {
        /// The file.
        path: PathBuf,
        /// The line (1-based).
        line: u64,
        /// Where on the line parsing stopped (1-based).
        column: usize,
        /// `syntax`, `data` (a field of the wrong type or missing) or `eof`.
        kind: &'static str,
    },
}

/// Every entry under `<root>/quarantine`, in file then line order (files sorted by path), with
/// the file it came from. Temp files (names starting with `.`) are skipped; a missing
/// quarantine directory has no entries. A malformed line is an error naming file and line.
pub fn read_all(root: &Path) -> Result<Vec<(PathBuf, QuarantineEntry)>, QuarantineReadError> {
    let mut files = Vec::new();
    collect_jsonl(&root.join(QUARANTINE_DIR), &mut files)?;
    files.sort();
    let mut out = Vec::new();
    for path in files {
        out.extend(read_file(&path)?.into_iter().map(|entry| (path.clone(), entry)));
    }
    Ok(out)
}

/// The entries of one quarantine file, in line order (blank lines skipped). A malformed line is
/// an error naming the file and line.
pub fn read_file(path: &Path) -> Result<Vec<QuarantineEntry>, QuarantineReadError> {
    let file = File::open(path).map_err(|source| QuarantineReadError::Io { path: path.to_owned(), source })?;
    let mut reader = BufReader::new(file);
    let mut line = Vec::new();
    let mut line_no = 0u64;
    let mut out = Vec::new();
    loop {
        line.clear();
        let n = reader
            .read_until(b'\n', &mut line)
            .map_err(|source| QuarantineReadError::Io { path: path.to_owned(), source })?;
        if n == 0 {
            break;
        }
        line_no += 1;
        if line.trim_ascii().is_empty() {
            continue;
        }
        let entry: QuarantineEntry = serde_json::from_slice(&line).map_err(|e| QuarantineReadError::Malformed {
            path: path.to_owned(),
            line: line_no,
            column: e.column(),
            kind: match e.classify() {
                serde_json::error::Category::Io => "io",
                serde_json::error::Category::Syntax => "syntax",
                serde_json::error::Category::Data => "data",
                serde_json::error::Category::Eof => "eof",
            },
        })?;
        out.push(entry);
    }
    Ok(out)
}

/// Adds the `.jsonl` files under `dir` (recursively, skipping dot files) to `files`.
fn collect_jsonl(dir: &Path, files: &mut Vec<PathBuf>) -> Result<(), QuarantineReadError> {
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(source) => return Err(QuarantineReadError::Io { path: dir.to_owned(), source }),
    };
    for entry in entries {
        let entry = entry.map_err(|source| QuarantineReadError::Io { path: dir.to_owned(), source })?;
        let path = entry.path();
        let name = entry.file_name();
        if name.to_string_lossy().starts_with('.') {
            continue;
        }
        let kind = entry.file_type().map_err(|source| QuarantineReadError::Io { path: path.clone(), source })?;
        if kind.is_dir() {
            collect_jsonl(&path, files)?;
        } else if path.extension().is_some_and(|e| e == "jsonl") {
            files.push(path);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(position: u64, column: Option<&str>) -> QuarantineEntry {
        QuarantineEntry {
            feed: "police".to_owned(),
            source: "in/police.csv".to_owned(),
            position,
            rule: "csv.ragged_row".to_owned(),
            column: column.map(str::to_owned),
            sheet: None,
            sealed: vec![0, 1, 2, 250, 255],
        }
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> =
            fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        v.sort();
        v
    }

    #[test]
    fn write_commit_and_read_back_in_order() {
        let root = tempfile::tempdir().unwrap();
        let mut w = QuarantineWriter::create(root.path(), "police", "b-run").unwrap();
        w.push(&entry(7, None)).unwrap();
        w.push(&entry(9, Some("nhs_number"))).unwrap();
        assert_eq!(w.count(), 2);
        let path = w.commit().unwrap().unwrap();
        assert_eq!(path, root.path().join("quarantine/feed=police/b-run.jsonl"));
        let mut w = QuarantineWriter::create(root.path(), "police", "a-run").unwrap();
        w.push(&entry(3, None)).unwrap();
        w.commit().unwrap();
        assert_eq!(names(&root.path().join("quarantine/feed=police")), ["a-run.jsonl", "b-run.jsonl"]);

        let text = fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 2);
        assert!(text.contains("\"sealed\":\"AAEC+v8=\""), "{text}");

        let all = read_all(root.path()).unwrap();
        let got: Vec<(String, u64)> =
            all.iter().map(|(p, e)| (p.file_name().unwrap().to_string_lossy().into_owned(), e.position)).collect();
        assert_eq!(got, [("a-run.jsonl".to_owned(), 3), ("b-run.jsonl".to_owned(), 7), ("b-run.jsonl".to_owned(), 9)]);
        assert_eq!(all[2].1, entry(9, Some("nhs_number")));
    }

    #[test]
    fn nothing_pushed_writes_nothing_and_drop_removes_the_temp_file() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("quarantine/feed=camhs");
        let w = QuarantineWriter::create(root.path(), "camhs", "run").unwrap();
        assert_eq!(w.commit().unwrap(), None);
        assert!(names(&dir).is_empty());
        let mut w = QuarantineWriter::create(root.path(), "camhs", "run").unwrap();
        w.push(&entry(1, None)).unwrap();
        drop(w);
        assert!(names(&dir).is_empty());
        assert!(read_all(root.path()).unwrap().is_empty());
        assert!(QuarantineWriter::create(root.path(), "../x", "run").is_err());
    }

    #[test]
    fn a_malformed_line_names_file_and_line_but_no_value() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("quarantine/feed=police");
        fs::create_dir_all(&dir).unwrap();
        let good = serde_json::to_string(&entry(1, None)).unwrap();
        let bad = good.replace("\"position\":1", "\"position\":\"SECRET-VALUE\"");
        fs::write(dir.join("r.jsonl"), format!("{good}\n\n{bad}\n")).unwrap();
        let err = read_all(root.path()).unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, QuarantineReadError::Malformed { line: 3, kind: "data", .. }), "{msg}");
        assert!(msg.contains("r.jsonl") && msg.contains("line 3"), "{msg}");
        assert!(!msg.contains("SECRET"), "{msg}");
    }

    #[test]
    fn aad_is_stable_and_unambiguous() {
        let e = entry(42, Some("forename"));
        let mut want = Vec::new();
        for part in [&b"tellonce.quarantine.v1"[..], b"police", b"in/police.csv"] {
            want.extend_from_slice(&(part.len() as u64).to_be_bytes());
            want.extend_from_slice(part);
        }
        want.extend_from_slice(&42u64.to_be_bytes());
        want.extend_from_slice(&14u64.to_be_bytes());
        want.extend_from_slice(b"csv.ragged_row");
        want.push(1);
        want.extend_from_slice(&8u64.to_be_bytes());
        want.extend_from_slice(b"forename");
        // Pinned byte for byte: a change of layout would strand every entry already sealed.
        assert_eq!(e.aad(), want);
        let moved = |f: fn(&mut QuarantineEntry)| {
            let mut m = e.clone();
            f(&mut m);
            m.aad()
        };
        assert_ne!(moved(|m| m.position = 43), e.aad());
        assert_ne!(moved(|m| m.column = None), e.aad());
        assert_ne!(moved(|m| m.column = Some(String::new())), moved(|m| m.column = None));
        assert_ne!(moved(|m| m.rule = "csv.malformed".into()), e.aad());
        // Moving bytes between fields changes the AAD.
        let a = QuarantineEntry { feed: "ab".into(), source: "c".into(), ..e.clone() };
        let b = QuarantineEntry { feed: "a".into(), source: "bc".into(), ..e.clone() };
        assert_ne!(a.aad(), b.aad());
    }

    #[test]
    fn a_workbook_rows_sheet_is_recorded_and_bound() {
        let e = QuarantineEntry { sheet: Some("Autumn".into()), ..entry(4, None) };
        let mut want = entry(4, None).aad();
        want.push(2);
        want.extend_from_slice(&6u64.to_be_bytes());
        want.extend_from_slice(b"Autumn");
        assert_eq!(e.aad(), want);
        let spring = QuarantineEntry { sheet: Some("Spring".into()), ..e.clone() };
        assert_ne!(spring.aad(), e.aad());
        let text = serde_json::to_string(&e).unwrap();
        assert!(text.contains("\"sheet\":\"Autumn\""), "{text}");
        assert_eq!(serde_json::from_str::<QuarantineEntry>(&text).unwrap(), e);
        // An entry of a file that is no workbook is written, and read, as before.
        let plain = serde_json::to_string(&entry(4, None)).unwrap();
        assert!(!plain.contains("sheet"), "{plain}");
        assert_eq!(serde_json::from_str::<QuarantineEntry>(&plain).unwrap(), entry(4, None));
    }
}
