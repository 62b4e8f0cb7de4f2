//! The run manifest: every input a run read and every file it committed, with rows and SHA-256.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::atomic::{check_component, write_atomic};
use crate::parquet_sink::CommittedFile;

/// The directory under the dataset root that holds the manifests.
pub const MANIFEST_DIR: &str = "manifests";

/// What one run did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// The run's id; also the manifest's file name (`run-<run_id>.json`).
    pub run_id: String,
    /// When the run started (RFC 3339).
    pub started_at: String,
    /// When the run finished (RFC 3339).
    pub finished_at: String,
    /// The version of the tool that ran.
    pub tool_version: String,
    /// The id of the key tokens were made with, if any.
    pub key_id: Option<String>,
    /// Every input, with what became of it.
    pub inputs: Vec<InputRecord>,
    /// Every file committed.
    pub files: Vec<CommittedFile>,
}

/// One input of a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputRecord {
    /// The feed's name.
    pub feed: String,
    /// The input (the file name as given).
    pub source: String,
    /// SHA-256 of the input, lowercase hex.
    pub sha256: String,
    /// `processed`, `skipped` (already done) or `rejected` (unreadable as a whole).
    pub status: String,
    /// Records read.
    pub rows_read: u64,
    /// Rows written to the staging dataset.
    pub rows_written: u64,
    /// Records sent to quarantine.
    pub rows_quarantined: u64,
    /// The source mapping the input was read through, as configured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mapping: Option<String>,
    /// SHA-256 of that mapping as read (hex): an input whose mapping has changed since is read
    /// again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mapping_sha256: Option<String>,
}

impl Manifest {
    /// The manifest's path under `root`: `<root>/manifests/run-<run_id>.json`.
    pub fn path(root: &Path, run_id: &str) -> PathBuf {
        root.join(MANIFEST_DIR).join(format!("run-{run_id}.json"))
    }

    /// Writes the manifest atomically to `<root>/manifests/run-<run_id>.json`, as pretty JSON.
    /// The run id must be usable as a file name.
    pub fn write(&self, root: &Path) -> io::Result<PathBuf> {
        check_component(&self.run_id, "run id")?;
        let path = Manifest::path(root, &self.run_id);
        let mut json = serde_json::to_vec_pretty(self).map_err(io::Error::other)?;
        json.push(b'\n');
        write_atomic(&path, &json)?;
        Ok(path)
    }

    /// Every manifest under `root`, sorted by run id; none if there is no manifest directory.
    /// A manifest that does not parse is an `InvalidData` error naming its file.
    pub fn read_all(root: &Path) -> io::Result<Vec<Manifest>> {
        let dir = root.join(MANIFEST_DIR);
        let entries = match fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        let mut out = Vec::new();
        for entry in entries {
            let path = entry?.path();
            let is_manifest = path
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("run-") && n.ends_with(".json"));
            if !is_manifest {
                continue;
            }
            let bytes = fs::read(&path)?;
            let manifest: Manifest = serde_json::from_slice(&bytes).map_err(|e| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("{} is not a valid manifest (line {}, column {})", path.display(), e.line(), e.column()),
                )
            })?;
            out.push(manifest);
        }
        out.sort_by(|a, b| a.run_id.cmp(&b.run_id));
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest(run_id: &str) -> Manifest {
        Manifest {
            run_id: run_id.to_owned(),
            started_at: "2025-01-01T00:00:00Z".to_owned(),
            finished_at: "2025-01-01T00:01:00Z".to_owned(),
            tool_version: "0.1.0".to_owned(),
            key_id: Some("k1".to_owned()),
            inputs: vec![InputRecord {
                feed: "police".to_owned(),
                source: "in/police.csv".to_owned(),
                sha256: "ab".repeat(32),
                status: "processed".to_owned(),
                mapping: None,
                mapping_sha256: None,
                rows_read: 10,
                rows_written: 9,
                rows_quarantined: 1,
            }],
            files: vec![CommittedFile {
                path: "staging/feed=police/part-0.parquet".to_owned(),
                rows: 9,
                bytes: 1234,
                sha256: "cd".repeat(32),
            }],
        }
    }

    #[test]
    fn write_then_read_all_sorted_by_run_id() {
        let dir = tempfile::tempdir().unwrap();
        assert!(Manifest::read_all(dir.path()).unwrap().is_empty());
        let b = manifest("20250102-2");
        let a = manifest("20250101-1");
        let path = b.write(dir.path()).unwrap();
        assert_eq!(path, dir.path().join("manifests/run-20250102-2.json"));
        a.write(dir.path()).unwrap();
        let text = fs::read_to_string(&path).unwrap();
        assert!(text.contains("\n  \"run_id\": \"20250102-2\""), "pretty JSON");
        std::fs::write(dir.path().join("manifests/notes.txt"), "ignored").unwrap();
        assert_eq!(Manifest::read_all(dir.path()).unwrap(), vec![a, b]);
    }

    #[test]
    fn a_bad_manifest_or_run_id_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        assert!(manifest("../escape").write(dir.path()).is_err());
        fs::create_dir_all(dir.path().join(MANIFEST_DIR)).unwrap();
        fs::write(dir.path().join("manifests/run-x.json"), "{").unwrap();
        let err = Manifest::read_all(dir.path()).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        assert!(err.to_string().contains("run-x.json"), "{err}");
    }
}
