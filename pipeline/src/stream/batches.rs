//! Writing closed batches: each is staged and made durable on a thread of its own, so that
//! reading and parsing messages carries on meanwhile. The consuming thread commits a batch's
//! offsets to Kafka once it hears the batch is durable.

use std::sync::Arc;
use std::sync::mpsc::{Receiver, Sender};
use std::time::Instant;

use tellonce_connectors::file_source::MessageBatcher;
use tellonce_governance::Purpose;
use tellonce_governance::audit::Event;
use tracing::warn;

use super::progress;
use crate::config::Source;
use crate::run::{Context, IngestError, InputReport, RunError, Writer, stage};
use crate::stages::govern::Policy;
use crate::stages::pseudonymise::Pseudonymiser;
use crate::stages::validate::{self, DuplicateIndex};

/// What a topic's batches are staged with, under the agreement in force when they closed.
pub(super) struct Staging {
    pub(super) source: Source,
    pub(super) policy: Policy,
    pseudo: Pseudonymiser,
    checked_schema: arrow_schema::SchemaRef,
}

impl Staging {
    /// The staging of `topic`'s messages, in `source`'s feed, under `policy`.
    pub(super) fn new(
        ctx: &Context<'_>,
        topic: &str,
        feed: &'static tellonce_schemas::FeedSchema,
        policy: Policy,
    ) -> Self {
        let pseudo = Pseudonymiser::new(feed, &policy, ctx.keys.tokeniser(Purpose::Linkage), ctx.lookup.clone());
        let source = Source {
            feed,
            path: format!("kafka:{topic}").into(),
            format: tellonce_connectors::file_source::FileFormat::JsonLines,
        };
        Staging { source, policy, pseudo, checked_schema: validate::checked_schema(feed) }
    }
}

/// A closed batch, on its way to the writer.
pub(super) struct Job {
    pub(super) key: (String, i32),
    pub(super) batcher: MessageBatcher,
    pub(super) staging: Arc<Staging>,
    /// When its first message arrived.
    pub(super) opened: Instant,
    /// Its messages' timestamps (milliseconds since 1970), where they carry one.
    pub(super) timestamps: Vec<i64>,
}

/// A batch made durable.
pub(super) struct Done {
    pub(super) key: (String, i32),
    /// First and last offset (`None`: the batch held no message).
    pub(super) range: Option<(u64, u64)>,
    pub(super) written: u64,
    pub(super) quarantined: u64,
    pub(super) files: u64,
    pub(super) timestamps: Vec<i64>,
    /// Wall-clock milliseconds since 1970 when it became durable.
    pub(super) durable_ms: i64,
    /// Milliseconds from its first message to durable.
    pub(super) batch_ms: u64,
}

/// Writes the jobs in the order they come, answering each with its outcome; stops after the
/// first failure or when either channel closes.
pub(super) fn work(ctx: &Context<'_>, jobs: Receiver<Job>, done: Sender<Result<Done, RunError>>) {
    for job in jobs {
        let outcome = write(ctx, job);
        let failed = outcome.is_err();
        if done.send(outcome).is_err() || failed {
            return;
        }
    }
}

/// Writes one closed batch as an input of its own and makes it durable: files published and
/// recorded, with a `stream_batch_committed` entry after them, and the audit log synced.
pub(super) fn write(ctx: &Context<'_>, mut job: Job) -> Result<Done, RunError> {
    let t = &*job.staging;
    let key = &job.key;
    let unknown = job.batcher.unknown_columns();
    let mut done = Done {
        key: key.clone(),
        range: None,
        written: 0,
        quarantined: 0,
        files: 0,
        timestamps: std::mem::take(&mut job.timestamps),
        durable_ms: 0,
        batch_ms: 0,
    };
    let Some(raw) = job.batcher.take().map_err(|e| RunError::Stream(e.to_string()))? else { return Ok(done) };
    let (first, last) = (raw.lineage.first_position, raw.lineage.last_position);
    let records = (raw.batch.num_rows() + raw.rejects.len()) as u64;
    let stem = progress::stem(&key.0, key.1, first, last);
    let name = format!("kafka:{}/{}@{first}-{last}", key.0, key.1);
    let marks = DuplicateIndex::default().mark(&raw, t.source.feed);
    let staged = stage(raw, t.source.feed, &t.checked_schema, &marks, &t.pseudo)?;
    let mut input = InputReport::new(&t.source);
    input.source = name.clone();
    let mut writer = Writer::new(ctx, t.source.feed, &t.policy, &stem, &name, t.pseudo.schema().clone())?;
    match writer.write(staged).and_then(|()| writer.finish(&mut input, records)) {
        Ok(()) => {}
        Err(IngestError::Run(e)) => return Err(e),
        Err(IngestError::Source(e)) => return Err(RunError::Stream(e.to_string())),
        Err(IngestError::Changed) => return Err(RunError::Stream(format!("{name} changed while written"))),
    }
    let mut files: Vec<String> = input.files.iter().map(|f| f.path.clone()).collect();
    files.extend(input.quarantine_file.clone());
    ctx.audit(&Event::StreamBatchCommitted {
        run: ctx.run_id.clone(),
        topic: key.0.clone(),
        partition: key.1,
        first_offset: first,
        last_offset: last,
        written: input.written,
        quarantined: input.quarantined,
        files,
    })?;
    ctx.audit_sync()?;
    done.durable_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
    done.batch_ms = job.opened.elapsed().as_millis() as u64;
    if !unknown.is_empty() {
        let shown = crate::run::reportable_column_names(unknown);
        warn!(topic = %key.0, "keys not in the {} schema were dropped: {}", t.source.feed.name, shown.join(", "));
    }
    done.range = Some((first, last));
    done.written = input.written;
    done.quarantined = input.quarantined;
    done.files = input.files.len() as u64 + u64::from(input.quarantine_file.is_some());
    Ok(done)
}
