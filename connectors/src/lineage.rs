//! Where a batch came from.

/// The lineage a batch carries from its connector to the sink: feed, schema version, input, and
/// the range of positions it covers.
///
/// For a file the source is the file name as given and positions are line numbers (1-based).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lineage {
    /// The feed's stable name (`police`, `camhs`, …).
    pub feed: &'static str,
    /// The version of the feed schema the input was read with.
    pub schema_version: u32,
    /// The input: a file name as given, or a topic and partition.
    pub source: String,
    /// The first position covered (line number, or offset), rejected records included.
    pub first_position: u64,
    /// The last position covered, rejected records included.
    pub last_position: u64,
}
