//! Messages (one JSON object each, as partners publish them to a Kafka topic) read into the same
//! bounded [`RawBatch`]es as files, positioned by their offset.

use std::path::PathBuf;
use std::sync::Arc;

use tellonce_schemas::{FeedSchema, Rule};

use super::batch::{self, BatchBuilder};
use super::columns::ColumnLookup;
use super::jsonl_file::JsonObjects;
use super::{MappingUse, RawBatch, SourceError};
use crate::mapping::Mapping;

/// Gathers the messages of one topic partition into a batch of a feed's columns.
///
/// ```
/// use tellonce_connectors::file_source::MessageBatcher;
/// let feed = tellonce_schemas::feed::latest("police").unwrap();
/// let mut batcher = MessageBatcher::new(feed, "kafka:police/0".to_owned(), 100, 1 << 20);
/// batcher.push(41, Some(br#"{"record_id": "R1", "incident_type": "CRIME"}"#));
/// batcher.push(42, Some(b"not json"));
/// let raw = batcher.take()?.unwrap();
/// assert_eq!(raw.batch.num_rows(), 1);
/// assert_eq!(raw.rejects[0].position, 42);
/// assert_eq!((raw.lineage.first_position, raw.lineage.last_position), (41, 42));
/// # Ok::<(), tellonce_connectors::file_source::SourceError>(())
/// ```
pub struct MessageBatcher {
    feed: &'static FeedSchema,
    source: String,
    objects: JsonObjects,
    builder: BatchBuilder,
    max_message_bytes: usize,
    held: usize,
    /// The topic's source mapping, if it has one: the partner's own keys, codes and formats,
    /// and its withdrawal marker.
    mapping: Option<Arc<Mapping>>,
}

impl std::fmt::Debug for MessageBatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MessageBatcher")
            .field("feed", &self.feed.name)
            .field("source", &self.source)
            .field("held", &self.held)
            .finish_non_exhaustive()
    }
}

impl MessageBatcher {
    /// A batcher for `feed` whose batches name `source` in their lineage; batches hold at most
    /// `batch_rows` messages, and a message over `max_message_bytes` is rejected.
    pub fn new(feed: &'static FeedSchema, source: String, batch_rows: usize, max_message_bytes: usize) -> Self {
        MessageBatcher::with_mapping(feed, source, batch_rows, max_message_bytes, None)
    }

    /// [`MessageBatcher::new`], reading each message through a source mapping (keys renamed,
    /// values rewritten and the withdrawal marker read, as for a JSON Lines file).
    pub fn with_mapping(
        feed: &'static FeedSchema,
        source: String,
        batch_rows: usize,
        max_message_bytes: usize,
        mapping: Option<Arc<Mapping>>,
    ) -> Self {
        let lookup = ColumnLookup::with_mapping(feed, mapping.clone());
        let present = vec![true; lookup.width()];
        MessageBatcher {
            feed,
            source,
            objects: JsonObjects::with_lookup(lookup),
            builder: BatchBuilder::new(batch::raw_schema(feed), &present, batch_rows),
            max_message_bytes: max_message_bytes.max(1),
            held: 0,
            mapping,
        }
    }

    /// Adds the message at `offset`: a row, or a reject (`json.malformed` for an empty or
    /// absent payload, `line.too_long` beyond `max_message_bytes`, and the JSON Lines rules).
    pub fn push(&mut self, offset: u64, payload: Option<&[u8]>) {
        self.held += 1;
        match payload {
            None | Some([]) => self.builder.reject(offset, Rule::JsonMalformed, None, &[]),
            Some(p) if p.len() > self.max_message_bytes => {
                self.builder.reject(offset, Rule::LineTooLong, None, &p[..self.max_message_bytes]);
            }
            Some(p) => self.objects.parse(p, offset, &mut self.builder),
        }
    }

    /// Adds a message rejected before parsing (say, for its headers), keeping its bytes.
    pub fn reject(&mut self, offset: u64, rule: Rule, payload: &[u8]) {
        self.held += 1;
        self.builder.reject(offset, rule, None, &payload[..payload.len().min(self.max_message_bytes)]);
    }

    /// Messages held since the last [`MessageBatcher::take`].
    pub fn len(&self) -> usize {
        self.held
    }

    /// Whether no message is held.
    pub fn is_empty(&self) -> bool {
        self.held == 0
    }

    /// Whether the batch is full and should be taken.
    pub fn is_full(&self) -> bool {
        self.builder.is_full()
    }

    /// Keys seen that match no schema column (deduplicated, sorted, bounded).
    pub fn unknown_columns(&self) -> Vec<String> {
        self.objects.unknown_columns()
    }

    /// The messages held, as one batch (positions are offsets); `None` if none is held.
    pub fn take(&mut self) -> Result<Option<RawBatch>, SourceError> {
        self.held = 0;
        let taken = self.builder.take().map_err(|e| SourceError::Read {
            path: self.source.clone().into(),
            line: 0,
            source: std::io::Error::other(e),
        })?;
        let Some(taken) = taken else { return Ok(None) };
        let mapping = self.mapping.as_deref();
        let path = PathBuf::from(&self.source);
        let through = MappingUse {
            marker: mapping.and_then(Mapping::withdrawal),
            rewrite: mapping.filter(|m| m.rewrites_values()),
            path: &path,
        };
        through.apply(taken, self.feed, &self.source).map(Some)
    }
}
