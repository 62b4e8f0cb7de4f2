//! `arrivals/`: when each input arrived, by the id (`_input`) its staging and history rows
//! carry. With it, "as it was known on date D" is exact: the rows of inputs arrived by D, from
//! staging and from history, less the history rows superseded by D.
//!
//! It is derived from the audit log at each build and replaced whole, rather than written by
//! each input: a stream writes a batch every few seconds, and a file per batch would bury the
//! dataset in small files, while a time on every row would make a forced re-run or a re-run
//! after a crash write other bytes than a clean run.

use std::collections::HashMap;
use std::sync::Arc;

use arrow_array::builder::StringBuilder;
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use tellonce_governance::audit::{Entry, Event};
use tellonce_output::layout::{STAGING, part_stem};

pub use tellonce_output::layout::ARRIVALS;

/// One input's arrival.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arrival {
    /// The feed.
    pub feed: String,
    /// The input's id: its rows' `_input`.
    pub input_id: String,
    /// The input as its rows' `_source` names it, where the log says (a file's path as
    /// configured, a stream batch's topic, partition and offsets).
    pub input: Option<String>,
    /// When it began to be read (UTC, RFC 3339): the `_superseded_at` of what it superseded.
    pub arrived_at: String,
}

/// Every input the audit log records as compared or staged, by feed and id. A file is dated
/// by its first comparison (a forced re-run of it does not make its records newer), a stream
/// batch part by its last (one compared and never committed is swept, and compared again when
/// it is read again: only the comparison that was committed moved anything). An input staged
/// with no comparison in the log (a log written before comparisons named their input) is dated
/// by its first staging file's entry.
pub fn from_entries(entries: &[Entry]) -> Vec<Arrival> {
    let mut at: HashMap<(String, String), usize> = HashMap::new();
    let mut out: Vec<Arrival> = Vec::new();
    for e in entries {
        if let Event::RecordsCompared { feed, input, sha256, started_at, .. } = &e.event {
            let Some(id) = e.event.compared_input_id().map(str::to_owned) else { continue };
            let arrival = Arrival {
                feed: feed.clone(),
                input_id: id.clone(),
                input: Some(input.clone()),
                arrived_at: started_at.clone().unwrap_or_else(|| e.at.clone()),
            };
            match at.get(&(feed.clone(), id.clone())) {
                None => {
                    at.insert((feed.clone(), id), out.len());
                    out.push(arrival);
                }
                Some(&i) if sha256.is_none() => out[i] = arrival,
                Some(_) => {}
            }
        }
    }
    for e in entries {
        if let Event::FileWritten { dataset, path, feed: Some(feed), .. } = &e.event
            && dataset == STAGING
            && let Some(id) = part_stem(path)
            && !at.contains_key(&(feed.clone(), id.to_owned()))
        {
            at.insert((feed.clone(), id.to_owned()), out.len());
            out.push(Arrival { feed: feed.clone(), input_id: id.to_owned(), input: None, arrived_at: e.at.clone() });
        }
    }
    out.sort_by(|a, b| (&a.arrived_at, &a.feed, &a.input_id).cmp(&(&b.arrived_at, &b.feed, &b.input_id)));
    out
}

fn field(name: &str, nullable: bool, description: &str) -> Field {
    Field::new(name, DataType::Utf8, nullable)
        .with_metadata([("description".to_owned(), description.to_owned())].into_iter().collect())
}

/// The schema of `arrivals/`.
pub fn schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        field("feed", false, "The feed the input was of."),
        field("_input", false, "The input's id, as the _input of its staging and history rows."),
        field("input", true, "The input as its rows' _source names it (file path, or Kafka batch), where known."),
        field(
            "arrived_at",
            false,
            "When the input began to be read (UTC, RFC 3339): its rows were known from then; the _superseded_at \
             of the versions it superseded.",
        ),
    ]))
}

/// The arrivals as one record batch.
pub fn batch(arrivals: &[Arrival]) -> Result<RecordBatch, arrow_schema::ArrowError> {
    let mut cols: [StringBuilder; 4] = std::array::from_fn(|_| StringBuilder::new());
    for a in arrivals {
        cols[0].append_value(&a.feed);
        cols[1].append_value(&a.input_id);
        cols[2].append_option(a.input.as_deref());
        cols[3].append_value(&a.arrived_at);
    }
    let columns: Vec<ArrayRef> = cols.iter_mut().map(|b| Arc::new(b.finish()) as ArrayRef).collect();
    RecordBatch::try_new(schema(), columns)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(seq: u64, at: &str, event: Event) -> Entry {
        Entry { seq, at: at.to_owned(), prev: String::new(), event, line: seq }
    }

    fn compared(input: &str, sha: Option<&str>, id: Option<&str>, started: Option<&str>) -> Event {
        Event::RecordsCompared {
            feed: "police".to_owned(),
            input: input.to_owned(),
            sha256: sha.map(str::to_owned),
            input_id: id.map(str::to_owned),
            started_at: started.map(str::to_owned),
            new: 1,
            changed: 0,
            unchanged: 0,
            refused: 0,
            withdrawn: 0,
            listed: 0,
            older: 0,
            superseded: 0,
            zeros_matched: 0,
        }
    }

    fn written(path: &str) -> Event {
        Event::FileWritten {
            dataset: STAGING.to_owned(),
            path: path.to_owned(),
            sha256: "00".repeat(32),
            rows: 1,
            bytes: 1,
            feed: Some("police".to_owned()),
            agreement: None,
            retention_until: None,
        }
    }

    #[test]
    fn an_input_arrives_when_it_began_to_be_read_and_a_re_run_does_not_move_it() {
        let sha = "ab".repeat(32);
        let part = format!("{}~1", tellonce_governance::audit::stream_progress::stem("police", 0, 0, 0, 9));
        let entries = vec![
            // Staging files are published before their input's comparison is logged.
            entry(1, "2025-01-31T10:00:09Z", written("staging/feed=police/part-abababababababab-00000.parquet")),
            entry(
                2,
                "2025-01-31T10:00:10Z",
                compared("jan.csv", Some(&sha), Some("abababababababab"), Some("2025-01-31T10:00:00Z")),
            ),
            entry(
                3,
                "2025-03-01T09:00:00Z",
                compared("jan.csv", Some(&sha), Some("abababababababab"), Some("2025-03-01T08:59:00Z")),
            ),
            // A stream batch part compared, swept when its session was killed, compared again
            // when read again, and committed: dated by the comparison that was committed.
            entry(
                4,
                "2025-02-01T00:00:01Z",
                compared("kafka:police/0@0-9", None, Some(&part), Some("2025-02-01T00:00:00Z")),
            ),
            entry(5, "2025-02-01T00:00:05Z", written(&format!("staging/feed=police/part-{part}-00000.parquet"))),
            entry(
                6,
                "2025-02-01T00:00:06Z",
                compared("kafka:police/0@0-9", None, Some(&part), Some("2025-02-01T00:00:04Z")),
            ),
            // A log written before comparisons named their input: by the content hash, and the entry's time.
            entry(7, "2024-12-01T00:00:00Z", compared("old.csv", Some(&"cd".repeat(32)), None, None)),
            // Staged with no comparison logged: by its first staging file.
            entry(8, "2024-11-01T00:00:00Z", written("staging/feed=police/part-efefefefefefefef-00001.parquet")),
        ];
        let got: Vec<(String, Option<String>, String)> =
            from_entries(&entries).into_iter().map(|a| (a.input_id, a.input, a.arrived_at)).collect();
        let want = [
            ("efefefefefefefef", None, "2024-11-01T00:00:00Z"),
            ("cdcdcdcdcdcdcdcd", Some("old.csv"), "2024-12-01T00:00:00Z"),
            ("abababababababab", Some("jan.csv"), "2025-01-31T10:00:00Z"),
            (part.as_str(), Some("kafka:police/0@0-9"), "2025-02-01T00:00:04Z"),
        ];
        let want: Vec<(String, Option<String>, String)> =
            want.iter().map(|(i, n, a)| ((*i).to_owned(), n.map(str::to_owned), (*a).to_owned())).collect();
        assert_eq!(got, want);
        let b = batch(&from_entries(&entries)).unwrap();
        assert_eq!((b.num_rows(), b.num_columns()), (4, 4));
    }
}
