//! The fixed words of audit entries, named once: why a file was deleted (`file_deleted`'s
//! `reason` starts with one of [`DeleteReason`]) and how a run ended (`run_finished`'s
//! `status`, a [`RunStatus`]). The entries keep them as text, so that logs written before a new
//! reason existed still read; writers take them from here so that readers can rely on them.

use std::fmt;

/// Why a file left a dataset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeleteReason {
    /// A later version of the same output replaced it (a re-run, the next build).
    Replaced,
    /// Its agreement's retention period ended.
    Retention,
    /// A data subject's erasure removed rows from it.
    Erasure,
    /// Newer versions of its records arrived: its rows moved to the history dataset.
    Superseded,
    /// Not recorded in the audit log (published by an interrupted session, or copied in); the
    /// entry says more after this word.
    Unrecorded,
    /// A temporary file an interrupted session left; the entry says more after this word.
    Temporary,
}

impl DeleteReason {
    /// The word an entry's `reason` is (or starts with).
    pub fn as_str(self) -> &'static str {
        match self {
            DeleteReason::Replaced => "replaced",
            DeleteReason::Retention => "retention",
            DeleteReason::Erasure => "erasure",
            DeleteReason::Superseded => "superseded",
            DeleteReason::Unrecorded => "unrecorded",
            DeleteReason::Temporary => "temporary",
        }
    }

    /// The reason with more said after it: `unrecorded: …`.
    pub fn because(self, detail: &str) -> String {
        format!("{}: {detail}", self.as_str())
    }

    /// The reason a `reason` text gives, by its first word (`None` for one this version does
    /// not know).
    pub fn of(reason: &str) -> Option<DeleteReason> {
        let word = reason.split(':').next().unwrap_or(reason).trim();
        [Self::Replaced, Self::Retention, Self::Erasure, Self::Superseded, Self::Unrecorded, Self::Temporary]
            .into_iter()
            .find(|r| r.as_str() == word)
    }
}

impl fmt::Display for DeleteReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a run (any command's session) ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunStatus {
    /// It did all it was asked.
    Finished,
    /// It stopped on a failure; what it had committed stands.
    Failed,
}

impl RunStatus {
    /// `finished` or `failed`, as the entry says.
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Finished => "finished",
            RunStatus::Failed => "failed",
        }
    }

    /// `Finished` if `ok`, else `Failed`.
    pub fn of(ok: bool) -> RunStatus {
        if ok { RunStatus::Finished } else { RunStatus::Failed }
    }
}

impl fmt::Display for RunStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reason_is_known_by_its_first_word_and_an_unknown_one_is_none() {
        assert_eq!(DeleteReason::of("replaced"), Some(DeleteReason::Replaced));
        assert_eq!(
            DeleteReason::of(&DeleteReason::Unrecorded.because("an interrupted build")),
            Some(DeleteReason::Unrecorded)
        );
        assert_eq!(DeleteReason::of("moved by hand"), None);
        assert_eq!(RunStatus::of(false).to_string(), "failed");
    }
}
