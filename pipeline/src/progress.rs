//! Progress of a file run, reported through a callback so that the library draws nothing: the
//! command line turns it into a progress bar on a terminal, and everything else ignores it.

/// Receives a run's progress. Every method has an empty default, so a caller implements only
/// what it shows. Called from the run's reader threads, hence `Sync`.
pub trait Progress: Sync {
    /// The run starts; its inputs hold `total_bytes` in all.
    fn started(&self, _total_bytes: u64) {}
    /// An input of feed `feed` starts.
    fn input(&self, _feed: &str) {}
    /// `bytes` more bytes of the current input were read.
    fn advanced(&self, _bytes: u64) {}
    /// Every input is done (the build may follow).
    fn finished(&self) {}
}

/// Progress that goes nowhere.
#[derive(Debug, Clone, Copy, Default)]
pub struct Silent;

impl Progress for Silent {}
