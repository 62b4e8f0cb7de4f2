//! The staging files a build reads, held still while it reads them.
//!
//! A build reads staging more than once (the records for linkage, then their events for the
//! outcome datasets), and stream sessions run beside it. A stream batch that supersedes a version
//! held rewrites the staging file holding it, putting the new content in place under the same
//! name: a build reading that file in both passes would find fewer rows the second time. So the
//! build reads hard links to the files as they were when it began: a rewrite replaces the name,
//! not the content linked. (A file rewritten between the build's look at the audit log and its
//! link is read as rewritten; its newer version, in a batch committed after that look, waits for
//! the next build, so no record is read twice.)

use std::path::{Path, PathBuf};

use tellonce_output::layout::STATE;
use tracing::warn;

use crate::link::LinkError;
use crate::link::input::StagingFile;

/// Where the links are made: under `state/link/`, which only the build (one at a time) writes
/// (their temporary files belong to builds: see `tellonce_output::strays`).
const READING: &str = "link/reading";

/// The links of one build, removed when dropped.
pub(super) struct Held {
    dir: PathBuf,
}

impl Held {
    /// Links each of `files` under the output `out` and points its `read_from` at the link. A
    /// file gone since the build looked (superseded whole) is left out; one that cannot be
    /// linked (a file system without hard links) is read in place.
    pub(super) fn hold(out: &Path, files: &mut Vec<StagingFile>) -> Result<Held, LinkError> {
        let dir = out.join(STATE).join(READING);
        // A build that stopped left its links; builds run one at a time, so none is in use.
        match std::fs::remove_dir_all(&dir) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(LinkError::Staging { path: dir, message: e.to_string() }),
        }
        std::fs::create_dir_all(&dir).map_err(|e| LinkError::Staging { path: dir.clone(), message: e.to_string() })?;
        let mut kept = Vec::with_capacity(files.len());
        for (i, mut f) in std::mem::take(files).into_iter().enumerate() {
            // A temporary file's name: a build or an exclusive session starting after one that
            // was killed clears them (before an erasure, say, so no link keeps erased rows).
            let link = dir.join(format!(".{i:06}.parquet.tmp"));
            match std::fs::hard_link(&f.path, &link) {
                Ok(()) => f.read_from = link,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    warn!(file = %f.path.display(), "a staging file left since the build looked (its versions superseded); not read");
                    continue;
                }
                Err(e) => {
                    warn!(file = %f.path.display(), error = %e, "cannot hold a staging file for the build; read in place")
                }
            }
            kept.push(f);
        }
        *files = kept;
        Ok(Held { dir })
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_rewritten_under_its_name_is_still_read_as_it_was_held() {
        let out = tempfile::tempdir().unwrap();
        let staging = out.path().join("staging/feed=police");
        std::fs::create_dir_all(&staging).unwrap();
        let (a, b) = (staging.join("part-a-00000.parquet"), staging.join("part-b-00000.parquet"));
        std::fs::write(&a, b"as it was").unwrap();
        std::fs::write(&b, b"gone soon").unwrap();
        let file = |path: &Path| StagingFile { feed: "police", path: path.to_owned(), read_from: path.to_owned() };
        let mut files = vec![file(&a), file(&b), file(&staging.join("part-c-00000.parquet"))];
        let held = Held::hold(out.path(), &mut files).unwrap();
        assert_eq!(files.len(), 2, "a file already gone is left out");
        // A rewrite puts new content in place under the same name.
        let side = staging.join(".part-a-00000.parquet.tmp");
        std::fs::write(&side, b"rewritten").unwrap();
        std::fs::rename(&side, &a).unwrap();
        std::fs::remove_file(&b).unwrap();
        assert_eq!(std::fs::read(&files[0].read_from).unwrap(), b"as it was");
        assert_eq!(std::fs::read(&files[1].read_from).unwrap(), b"gone soon");
        assert_eq!(files[0].path, a);
        drop(held);
        assert!(!out.path().join("state/link/reading").exists());
    }
}
