//! Process exit codes, one per kind of failure, so that schedulers can tell them apart.

/// How a command ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Everything was processed (rows may have been quarantined; the summary says so).
    Success = 0,
    /// A bug or an unexpected failure inside tellonce.
    Internal = 1,
    /// The command line, the configuration or the key file is wrong; nothing was processed.
    Config = 2,
    /// At least one input file could not be processed at all (unreadable, empty, wrong header);
    /// the other inputs were processed.
    Input = 3,
    /// Output could not be written (permissions, disk full); nothing was half-written.
    Output = 4,
    /// A check found a problem: the audit log or an output does not verify.
    Verify = 5,
    /// The audit log ends in a torn entry (a write cut short by a full disk or a power loss),
    /// not tampering: `tellonce audit repair` cuts it off.
    Torn = 6,
    /// A subject access request was refused because the identifiers given do not describe one
    /// person; nothing was listed or erased, and the refusal is audited.
    Refused = 7,
}

impl Exit {
    /// The numeric code.
    pub fn code(self) -> u8 {
        self as u8
    }
}

impl From<Exit> for std::process::ExitCode {
    fn from(e: Exit) -> Self {
        std::process::ExitCode::from(e.code())
    }
}
