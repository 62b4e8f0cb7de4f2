//! `episodes/`: episodes of support, from the records of a feed that says when a case opened and
//! when it closed (the theme mapping's `[[episodes]]`: early help in the education feed today).
//!
//! A person's open and close records are read in date order, an open before a close on the same
//! day. An open starts an episode and the next close ends it, with that record's closure reason.
//! Nothing is dropped: an open that meets another open before any close is an episode whose close
//! was never recorded (`reopened`), a close with no open before it is an episode whose start was
//! never recorded (`close_without_open`), and an open still waiting at the end is `open`.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use arrow_array::builder::{Date32Builder, Int32Builder, StringBuilder, UInt8Builder};
use arrow_array::cast::AsArray;
use arrow_array::{Array, ArrayRef, RecordBatch};
use arrow_schema::{DataType, Schema, SchemaRef};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use tellonce_schemas::column::Kind;
use tellonce_schemas::feed::{self, FeedSchema};

use super::described;
use crate::link::LinkError;

pub use tellonce_output::layout::EPISODES;

/// An episode source as the mapping file writes it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct EpisodeSourceFile {
    service: String,
    level: u8,
    feed: String,
    column: String,
    open: Vec<String>,
    close: Vec<String>,
    #[serde(default)]
    closure_reason: Option<String>,
    #[serde(default)]
    step_up: Vec<String>,
    reason: String,
}

/// Where episodes of one service come from.
#[derive(Debug, Clone)]
pub struct EpisodeSource {
    /// The service code (`EARLY_HELP`).
    pub service: String,
    /// The level of need it serves (3: targeted early help; 4: statutory social care).
    pub level: u8,
    /// The feed whose records open and close a case.
    pub feed: &'static FeedSchema,
    /// The code column that says so.
    pub column: String,
    /// Codes of `column` that open an episode.
    pub open: Vec<String>,
    /// Codes of `column` that close one.
    pub close: Vec<String>,
    /// The code column holding the closure reason on a closing record, if any.
    pub closure_reason: Option<String>,
    /// Closure reasons that hand the case up to level 4 (statutory social care).
    pub step_up: Vec<String>,
    /// Why these records are episodes of that service, for review.
    pub reason: String,
}

impl EpisodeSource {
    /// The staging columns it reads.
    pub fn columns(&self) -> impl Iterator<Item = &str> {
        [self.column.as_str()]
            .into_iter()
            .chain(self.closure_reason.as_deref())
            .chain(crate::link::input::REFERENCE_COLUMNS)
    }
}

/// Checks the mapping's episode sources against the feeds, adding a problem for each rule broken.
/// A source on an optional feed the deployment does not define is left out.
pub(super) fn check(
    files: Vec<EpisodeSourceFile>,
    optional: &dyn Fn(&str) -> bool,
    problems: &mut Vec<String>,
) -> Vec<EpisodeSource> {
    let mut out: Vec<EpisodeSource> = Vec::new();
    for e in files {
        let at = format!("episodes {}", e.service);
        if e.service.trim().is_empty() {
            problems.push("episodes: a source has an empty service".to_owned());
        }
        if out.iter().any(|o| o.service == e.service) {
            problems.push(format!("{at}: the service is listed twice"));
        }
        if !(1..=4).contains(&e.level) {
            problems.push(format!("{at}: level {} is not a level of need (1 to 4)", e.level));
        }
        if e.reason.trim().is_empty() {
            problems.push(format!("{at}: reason is empty; say why these records are episodes"));
        }
        let Some(schema) = feed::latest(&e.feed) else {
            if !optional(&e.feed) {
                problems.push(format!("{at}: feed {} does not exist", e.feed));
            }
            continue;
        };
        let codes = match schema.column(&e.column).map(|c| &c.kind) {
            Some(Kind::Code(codes)) => *codes,
            _ => {
                problems.push(format!("{at}: {} is not a code column of {}", e.column, e.feed));
                continue;
            }
        };
        for (role, list) in [("open", &e.open), ("close", &e.close)] {
            if list.is_empty() {
                problems.push(format!("{at}: no {role} code"));
            }
            for c in list.iter().filter(|c| !codes.contains(&c.as_str())) {
                problems.push(format!("{at}: {role} code {c} is not a code of {}.{}", e.feed, e.column));
            }
        }
        if e.open.iter().any(|c| e.close.contains(c)) {
            problems.push(format!("{at}: a code both opens and closes"));
        }
        match e.closure_reason.as_deref().map(|r| (r, schema.column(r).map(|c| &c.kind))) {
            Some((_, Some(Kind::Code(reasons)))) => {
                for c in e.step_up.iter().filter(|c| !reasons.contains(&c.as_str())) {
                    problems.push(format!("{at}: step_up code {c} is not a closure reason code"));
                }
            }
            Some((r, _)) => problems.push(format!("{at}: closure_reason {r} is not a code column of {}", e.feed)),
            None if !e.step_up.is_empty() => problems.push(format!("{at}: step_up needs a closure_reason column")),
            None => {}
        }
        out.push(EpisodeSource {
            service: e.service,
            level: e.level,
            feed: schema,
            column: e.column,
            open: e.open,
            close: e.close,
            closure_reason: e.closure_reason,
            step_up: e.step_up,
            reason: e.reason,
        });
    }
    out
}

/// One open or close record, gathered in the build's pass over staging.
#[derive(Debug, Clone)]
struct Mark {
    source: u16,
    person: u32,
    family: u32,
    date: i32,
    opens: bool,
    closure: Option<Arc<str>>,
    record: Option<Arc<str>>,
}

/// The open and close records of every episode source, as the pass over staging finds them.
#[derive(Debug, Default)]
pub struct Marks {
    marks: Vec<Mark>,
    /// Open or close records without an event date: they cannot be placed in a person's
    /// episodes, and are counted instead.
    pub undated: u64,
    /// Episode sources whose code or closure-reason column a staged file of their feed lacks
    /// (the agreement withheld it): `(service, column)`.
    pub withheld: std::collections::BTreeSet<(String, String)>,
    interned: HashMap<String, Arc<str>>,
}

impl Marks {
    fn intern(&mut self, s: &str) -> Arc<str> {
        if let Some(a) = self.interned.get(s) {
            return a.clone();
        }
        let a: Arc<str> = Arc::from(s);
        self.interned.insert(s.to_owned(), a.clone());
        a
    }

    /// Notes the open and close records of one staging batch of `feed`: row `row` is about
    /// `person_of(row)` (person, family) and dated `days[row]`.
    pub fn observe(
        &mut self,
        sources: &[EpisodeSource],
        feed: &str,
        batch: &RecordBatch,
        days: &[Option<i32>],
        person_of: &dyn Fn(usize) -> (u32, u32),
    ) {
        let text = |name: &str| batch.column_by_name(name).and_then(|c| c.as_string_opt::<i32>());
        for (k, s) in sources.iter().enumerate().filter(|(_, s)| s.feed.name == feed) {
            // A withheld column holds no episode: nothing to read, and said so.
            let Some(kind) = text(&s.column) else {
                self.withheld.insert((s.service.clone(), s.column.clone()));
                continue;
            };
            let closure = s.closure_reason.as_deref().and_then(text);
            if let Some(r) = s.closure_reason.as_ref().filter(|_| closure.is_none()) {
                self.withheld.insert((s.service.clone(), r.clone()));
            }
            // Named as links/ names it, whether the agreement passes record_id or its token.
            let record = crate::link::input::RecordRefs::of(batch);
            for row in 0..batch.num_rows() {
                if kind.is_null(row) {
                    continue;
                }
                let code = kind.value(row);
                let opens = s.open.iter().any(|c| c == code);
                if !opens && !s.close.iter().any(|c| c == code) {
                    continue;
                }
                let Some(date) = days.get(row).copied().flatten() else {
                    self.undated += 1;
                    continue;
                };
                let closure = if opens { None } else { closure.filter(|c| c.is_valid(row)).map(|c| c.value(row)) };
                let closure = closure.map(|c| self.intern(c));
                let record = Some(self.intern(&record.get(row)));
                let (person, family) = person_of(row);
                self.marks.push(Mark { source: k as u16, person, family, date, opens, closure, record });
            }
        }
    }

    /// Pairs each person's marks into episodes, and works out how long each family went
    /// from the close of an episode to the start of its next one.
    pub fn episodes(mut self) -> Vec<Episode> {
        self.marks.sort_by(|a, b| {
            (a.source, a.person, a.date, !a.opens, &a.record).cmp(&(b.source, b.person, b.date, !b.opens, &b.record))
        });
        // One day's marks of one person: with an episode open, its closes come first (a case
        // closed and a new one opened that day); with none open, its opens come first (a case
        // opened and closed the same day).
        let mut ordered: Vec<Mark> = Vec::with_capacity(self.marks.len());
        let mut open_now: Option<(u16, u32)> = None;
        let mut i = 0;
        while i < self.marks.len() {
            let m = &self.marks[i];
            let day = (m.source, m.person, m.date);
            let end = i + self.marks[i..].iter().take_while(|x| (x.source, x.person, x.date) == day).count();
            if open_now.is_some_and(|p| p != (m.source, m.person)) {
                open_now = None;
            }
            let group = &self.marks[i..end];
            let (opens, closes): (Vec<&Mark>, Vec<&Mark>) = group.iter().partition(|x| x.opens);
            let first_closes = open_now.is_some();
            let (a, b) = if first_closes { (closes, opens) } else { (opens, closes) };
            for x in a.into_iter().chain(b) {
                open_now = if x.opens { Some((x.source, x.person)) } else { None };
                ordered.push(x.clone());
            }
            i = end;
        }
        let mut out: Vec<Episode> = Vec::new();
        let mut open: Option<Mark> = None;
        for m in ordered {
            if let Some(o) = open.take_if(|o| (o.source, o.person) != (m.source, m.person)) {
                out.push(Episode::from_open(o, None, Status::Open));
            }
            match (m.opens, open.take()) {
                (true, Some(o)) => {
                    out.push(Episode::from_open(o, None, Status::Reopened));
                    open = Some(m);
                }
                (true, None) => open = Some(m),
                (false, Some(o)) => out.push(Episode::from_open(o, Some(m), Status::Closed)),
                (false, None) => out.push(Episode {
                    source: m.source,
                    person: m.person,
                    family: m.family,
                    start: None,
                    close: Some(m.date),
                    closure: m.closure,
                    open_record: None,
                    close_record: m.record,
                    status: Status::CloseWithoutOpen,
                    days_to_next: None,
                }),
            }
        }
        if let Some(o) = open {
            out.push(Episode::from_open(o, None, Status::Open));
        }
        days_to_next_episode(&mut out);
        out
    }
}

/// What is known of an episode's ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Opened and closed.
    Closed,
    /// Opened, no close yet.
    Open,
    /// Opened, then opened again with no close between: its close was never recorded.
    Reopened,
    /// Closed with no open before it: its start was never recorded.
    CloseWithoutOpen,
}

impl Status {
    /// As written in `episodes.status`.
    pub fn name(self) -> &'static str {
        match self {
            Status::Closed => "closed",
            Status::Open => "open",
            Status::Reopened => "reopened",
            Status::CloseWithoutOpen => "close_without_open",
        }
    }
}

/// One row of `episodes/`, before writing.
#[derive(Debug, Clone)]
pub struct Episode {
    source: u16,
    person: u32,
    family: u32,
    start: Option<i32>,
    close: Option<i32>,
    closure: Option<Arc<str>>,
    open_record: Option<Arc<str>>,
    close_record: Option<Arc<str>>,
    /// What is known of its ends.
    pub status: Status,
    days_to_next: Option<i32>,
}

impl Episode {
    /// Its start, if its open was recorded.
    pub fn start(&self) -> Option<i32> {
        self.start
    }

    /// Its close, if recorded.
    pub fn close(&self) -> Option<i32> {
        self.close
    }

    /// The partner's closure reason code, if its close was recorded with one.
    pub fn closure(&self) -> Option<&str> {
        self.closure.as_deref()
    }

    /// Its person (index into the build's person ids).
    pub fn person(&self) -> u32 {
        self.person
    }

    /// Its family (index into the build's family ids).
    pub fn family(&self) -> u32 {
        self.family
    }

    /// Its source (index into the mapping's episode sources).
    pub fn source(&self) -> usize {
        usize::from(self.source)
    }

    fn from_open(o: Mark, close: Option<Mark>, status: Status) -> Episode {
        let (close_date, closure, close_record) = match close {
            Some(c) => (Some(c.date), c.closure, c.record),
            None => (None, None, None),
        };
        Episode {
            source: o.source,
            person: o.person,
            family: o.family,
            start: Some(o.date),
            close: close_date,
            closure,
            open_record: o.record,
            close_record,
            status,
            days_to_next: None,
        }
    }
}

/// For each closed episode, the days from its close to the start of the next episode of any
/// service in the same family that starts after it closed.
fn days_to_next_episode(episodes: &mut [Episode]) {
    let mut starts: BTreeMap<u32, Vec<i32>> = BTreeMap::new();
    for e in episodes.iter() {
        if let Some(s) = e.start {
            starts.entry(e.family).or_default().push(s);
        }
    }
    for v in starts.values_mut() {
        v.sort_unstable();
    }
    for e in episodes.iter_mut() {
        let (Some(close), Some(family)) = (e.close, starts.get(&e.family)) else { continue };
        let next = family.partition_point(|&s| s <= close);
        e.days_to_next = family.get(next).map(|&s| s - close);
    }
}

/// The schema of `episodes/`.
pub fn schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        described(
            "episode_id",
            DataType::Utf8,
            "Id of the episode: a hash of its service, person and first record, the same in every build while \
             the person's id stands.",
        ),
        described("person_id", DataType::Utf8, "Stable pseudonymous id of the person supported (links/)."),
        described("family_id", DataType::Utf8, "Stable pseudonymous id of the person's family (links/)."),
        described("service", DataType::Utf8, "The service (themes explain: episodes), e.g. EARLY_HELP."),
        described("level", DataType::UInt8, "The level of need the service meets (3: early help; 4: social care)."),
        described("start_date", DataType::Date32, "The date the episode opened (null: its open was never recorded)."),
        described(
            "close_date",
            DataType::Date32,
            "The date it closed (null: still open, or its close never recorded).",
        ),
        described("closure_reason", DataType::Utf8, "The partner's closure reason code on the closing record."),
        described(
            "status",
            DataType::Utf8,
            "closed; open; reopened (opened again before any close was recorded); close_without_open.",
        ),
        described("feed", DataType::Utf8, "The partner feed whose records open and close it."),
        described("open_record", DataType::Utf8, "The partner's reference of the opening record (links/ record_ref)."),
        described("close_record", DataType::Utf8, "The partner's reference of the closing record."),
        described(
            "days_to_next_family_episode",
            DataType::Int32,
            "Days from the close to the start of the family's next episode of any service (null: none since).",
        ),
    ]))
}

/// Each episode's id: a digest of its service, person id and first record (or day), so that it
/// stands while the person's id does.
pub fn ids(rows: &[Episode], sources: &[EpisodeSource], person_ids: &[String]) -> Vec<String> {
    rows.iter()
        .map(|r| {
            let service = sources.get(usize::from(r.source)).map_or("", |s| s.service.as_str());
            let person = person_ids.get(r.person as usize).map_or("", String::as_str);
            let first = r.open_record.as_deref().or(r.close_record.as_deref()).unwrap_or_default();
            let day = r.start.or(r.close).unwrap_or_default();
            hex::encode(&Sha256::digest(format!("{service}\u{1f}{person}\u{1f}{first}\u{1f}{day}"))[..8])
        })
        .collect()
}

/// One batch of `episodes/` rows, `ids` being theirs ([`ids`]).
pub fn batch(
    rows: &[Episode],
    ids: &[String],
    sources: &[EpisodeSource],
    person_ids: &[String],
    family_ids: &[String],
) -> Result<RecordBatch, LinkError> {
    let n = rows.len();
    let mut b = (
        StringBuilder::with_capacity(n, n * 16),
        StringBuilder::with_capacity(n, n * 17),
        StringBuilder::with_capacity(n, n * 17),
        StringBuilder::new(),
        UInt8Builder::with_capacity(n),
        Date32Builder::with_capacity(n),
        Date32Builder::with_capacity(n),
        StringBuilder::new(),
    );
    let (mut status, mut feed, mut open_rec, mut close_rec, mut next) =
        (StringBuilder::new(), StringBuilder::new(), StringBuilder::new(), StringBuilder::new(), Int32Builder::new());
    let id = |ids: &[String], i: u32| ids.get(i as usize).cloned().unwrap_or_default();
    for (r, episode_id) in rows.iter().zip(ids) {
        let source = sources
            .get(usize::from(r.source))
            .ok_or_else(|| LinkError::Internal(format!("episode source {} out of range", r.source)))?;
        b.0.append_value(episode_id);
        b.1.append_value(id(person_ids, r.person));
        b.2.append_value(id(family_ids, r.family));
        b.3.append_value(&source.service);
        b.4.append_value(source.level);
        b.5.append_option(r.start);
        b.6.append_option(r.close);
        b.7.append_option(r.closure.as_deref());
        status.append_value(r.status.name());
        feed.append_value(source.feed.name);
        open_rec.append_option(r.open_record.as_deref());
        close_rec.append_option(r.close_record.as_deref());
        next.append_option(r.days_to_next);
    }
    let columns: Vec<ArrayRef> = vec![
        Arc::new(b.0.finish()),
        Arc::new(b.1.finish()),
        Arc::new(b.2.finish()),
        Arc::new(b.3.finish()),
        Arc::new(b.4.finish()),
        Arc::new(b.5.finish()),
        Arc::new(b.6.finish()),
        Arc::new(b.7.finish()),
        Arc::new(status.finish()),
        Arc::new(feed.finish()),
        Arc::new(open_rec.finish()),
        Arc::new(close_rec.finish()),
        Arc::new(next.finish()),
    ];
    RecordBatch::try_new(schema(), columns).map_err(|e| LinkError::Internal(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An episode as the tests compare it: start, close, status, closure reason.
    type Row<'a> = (Option<i32>, Option<i32>, &'a str, Option<&'a str>);

    fn mark(person: u32, date: i32, opens: bool, closure: Option<&str>) -> Mark {
        Mark { source: 0, person, family: person / 10, date, opens, closure: closure.map(Arc::from), record: None }
    }

    fn pair(marks: Vec<Mark>) -> Vec<Episode> {
        Marks { marks, ..Marks::default() }.episodes()
    }

    #[test]
    fn opens_and_closes_pair_in_date_order_and_nothing_is_dropped() {
        // Given out of order: a close, an open, an open again, a close, a stray close, an open.
        let eps = pair(vec![
            mark(1, 30, false, Some("NEEDS_MET")),
            mark(1, 10, true, None),
            mark(1, 50, true, None),
            mark(1, 40, true, None),
            mark(1, 60, false, Some("OTHER")),
            mark(1, 70, false, None),
            mark(1, 90, true, None),
        ]);
        let got: Vec<Row<'_>> = eps.iter().map(|e| (e.start, e.close, e.status.name(), e.closure.as_deref())).collect();
        assert_eq!(
            got,
            vec![
                (Some(10), Some(30), "closed", Some("NEEDS_MET")),
                (Some(40), None, "reopened", None),
                (Some(50), Some(60), "closed", Some("OTHER")),
                (None, Some(70), "close_without_open", None),
                (Some(90), None, "open", None),
            ]
        );
        // The family's next start after each close: 30 -> 40, 60 -> 90, 70 -> 90.
        let next: Vec<Option<i32>> = eps.iter().map(|e| e.days_to_next).collect();
        assert_eq!(next, vec![Some(10), None, Some(30), Some(20), None]);
    }

    #[test]
    fn the_embedded_mapping_declares_early_help_and_a_wrong_source_is_refused_by_rule() {
        let m = super::super::themes::Mapping::embedded().unwrap();
        let eh = m.episodes.iter().find(|e| e.service == "EARLY_HELP").unwrap();
        assert_eq!(
            (eh.level, eh.feed.name, eh.closure_reason.as_deref()),
            (3, "education", Some("early_help_outcome"))
        );
        let explained = m.explain();
        assert!(explained.contains("EARLY_HELP (level 3) from education"), "{explained}");
        assert!(explained.contains("outcome: met when no SF08 indicator is seen in the last 3 months"), "{explained}");
        assert!(explained.contains("outcome: no rule declared"), "{explained}");
        assert!(explained.contains("EARLY_HELP_OPEN (episodes), EARLY_HELP_CLOSE (episodes)"), "{explained}");

        let text = super::super::themes::DEFAULT_MAPPING;
        for (from, to, rule) in [
            (
                "open = [\"EARLY_HELP_OPEN\"]",
                "open = [\"EARLY_HELP_OPENED\"]",
                "open code EARLY_HELP_OPENED is not a code",
            ),
            ("close = [\"EARLY_HELP_CLOSE\"]", "close = [\"EARLY_HELP_OPEN\"]", "a code both opens and closes"),
            ("level = 3", "level = 7", "level 7 is not a level of need"),
            ("closure_reason = \"early_help_outcome\"", "closure_reason = \"attendance_pct\"", "is not a code column"),
            ("feed = \"education\"\ncolumn", "feed = \"educaton\"\ncolumn", "feed educaton does not exist"),
        ] {
            assert!(text.contains(from), "{from}");
            match super::super::themes::Mapping::parse(&text.replace(from, to), "t") {
                Err(super::super::themes::ThemesError::Invalid { problems, .. }) => {
                    assert!(
                        problems.iter().any(|p| p.contains(rule) && p.contains("episodes EARLY_HELP")),
                        "{problems:?}"
                    );
                }
                other => panic!("{to}: {other:?}"),
            }
        }
    }

    #[test]
    fn a_need_at_the_start_is_met_sustained_or_not_by_its_rule() {
        use super::super::events::EventRow;
        use super::super::family_outcomes::{Status, add_months, needs_and_outcomes};
        use super::super::outcome_rules::Levels;
        let m = super::super::themes::Mapping::embedded().unwrap();
        let da = m.indicators.iter().position(|i| i.code == "domestic_abuse_incident").unwrap() as u16;
        let day = |y, mo, d| tellonce_schemas::identifiers::dates::days_from_civil(y, mo, d);
        let event = |family: u32, date: i32| EventRow {
            person: family * 10,
            family,
            indicator: da,
            date,
            feed: "police",
            agreement: Arc::from("a"),
            district: None,
            imd: None,
            age_band: "25+",
        };
        // Families 1-5: an incident before an early help episode from 2024-01-10 to 2024-07-10.
        let (start, close) = (day(2024, 1, 10), day(2024, 7, 10));
        let mut events = vec![event(1, day(2023, 12, 1)), event(2, day(2023, 6, 1)), event(3, day(2023, 12, 1))];
        events.extend([event(4, day(2023, 12, 1)), event(5, day(2023, 12, 1))]);
        events.push(event(2, day(2024, 6, 1))); // family 2: seen at close, so not met
        events.push(event(3, day(2024, 9, 1))); // family 3: seen again within 6 months, so not met
        events.push(event(5, day(2022, 1, 1))); // family 5: an old incident, outside the year before
        let mut marks = Vec::new();
        for f in 1..=5u32 {
            marks.push(Mark { family: f, ..mark(f * 10, start, true, None) });
            marks.push(Mark { family: f, ..mark(f * 10, close, false, Some("NEEDS_MET")) });
        }
        marks.push(Mark { family: 4, ..mark(41, day(2024, 3, 1), true, None) }); // still open
        // Family 6: an episode of one month, shorter than the three-month close window.
        events.push(event(6, day(2023, 12, 1)));
        marks.push(Mark { family: 6, ..mark(60, start, true, None) });
        marks.push(Mark { family: 6, ..mark(60, add_months(start, 1), false, None) });
        let eps = pair(marks);
        let events = [(("SF08".to_owned(), "x".to_owned()), events)].into_iter().collect();
        let status = |data_end: i32| -> Vec<(u32, Status)> {
            needs_and_outcomes(&eps, &events, &m, &Levels::default(), &|_| Some(data_end))
                .iter()
                .map(|o| (eps[o.episode].family(), o.status))
                .collect()
        };
        let later = add_months(close, 7);
        assert_eq!(
            status(later),
            vec![
                (1, Status::MetAndSustained),
                // Family 2's need of 2023-06 is within the year before the start, and seen at close.
                (2, Status::NotMet),
                (3, Status::NotMet),
                (4, Status::MetAndSustained),
                (4, Status::NoEvidence),
                (5, Status::MetAndSustained),
                (6, Status::NoEvidence),
            ]
        );
        // Data that does not yet run six months past the close: met, not yet sustained; six
        // months to the day is enough.
        assert_eq!(status(add_months(close, 2))[0], (1, Status::MetNotYetSustained));
        assert_eq!(status(add_months(close, 6) - 1)[0], (1, Status::MetNotYetSustained));
        assert_eq!(status(add_months(close, 6))[0], (1, Status::MetAndSustained));
        // Each row carries the events behind its status, by date, with the span each fell in.
        let rows = needs_and_outcomes(&eps, &events, &m, &Levels::default(), &|_| Some(later));
        let family_2 = rows.iter().find(|o| eps[o.episode].family() == 2).unwrap();
        let shown: Vec<(i32, &str, Option<f64>, &str)> =
            family_2.evidence.iter().map(|e| (e.date, e.what.as_ref(), e.value, e.span)).collect();
        assert_eq!(
            shown,
            [
                (day(2023, 6, 1), "domestic_abuse_incident", None, "before start"),
                (day(2024, 6, 1), "domestic_abuse_incident", None, "at close")
            ]
        );
        // Where no feed of the build can show the need, nothing is said either way.
        let unseen = needs_and_outcomes(&eps, &events, &m, &Levels::default(), &|_| None);
        assert!(unseen.iter().all(|o| o.status == Status::NoEvidence), "{unseen:?}");
    }

    #[test]
    fn an_open_and_a_close_on_one_day_are_one_episode_and_people_do_not_mix() {
        let eps = pair(vec![mark(2, 5, false, None), mark(2, 5, true, None), mark(3, 7, true, None)]);
        let got: Vec<(u32, &str)> = eps.iter().map(|e| (e.person, e.status.name())).collect();
        assert_eq!(got, vec![(2, "closed"), (3, "open")]);
        // A case closed and a new one opened on one day: the open case closes first.
        let eps = pair(vec![mark(4, 1, true, None), mark(4, 30, true, None), mark(4, 30, false, Some("NEEDS_MET"))]);
        let got: Vec<Row<'_>> = eps.iter().map(|e| (e.start, e.close, e.status.name(), e.closure.as_deref())).collect();
        assert_eq!(got, vec![(Some(1), Some(30), "closed", Some("NEEDS_MET")), (Some(30), None, "open", None)]);
    }

    #[test]
    fn returns_after_a_close_count_at_the_same_level_and_at_level_4_within_12_months() {
        use super::super::re_referrals::{ReturnsReport, follow};
        let day = |y, mo, d| tellonce_schemas::identifiers::dates::days_from_civil(y, mo, d);
        // Family 1: child 10's episode closes with needs met; child 11's starts three months
        // later and steps up to social care. Family 2: a close in the data's last 12 months.
        // Family 3: back after 13 months, too late; a level 4 episode (source 1) after 2 months.
        let mut marks = vec![
            mark(10, day(2024, 1, 1), true, None),
            mark(10, day(2024, 3, 1), false, Some("NEEDS_MET")),
            mark(11, day(2024, 6, 1), true, None),
            mark(11, day(2024, 8, 1), false, Some("STEP_UP_TO_SOCIAL_CARE")),
            mark(20, day(2025, 1, 1), true, None),
            mark(20, day(2025, 6, 1), false, Some("NEEDS_MET")),
            mark(30, day(2023, 1, 1), true, None),
            mark(30, day(2023, 2, 1), false, Some("NEEDS_MET")),
            mark(31, day(2024, 3, 2), true, None),
        ];
        marks.push(Mark { source: 1, ..mark(32, day(2023, 4, 1), true, None) });
        let eps = pair(marks);
        let levels = [3, 4];
        let step_up = [vec!["STEP_UP_TO_SOCIAL_CARE".to_owned()], vec![]];
        let successful = [(0, true)].into_iter().collect();
        let rows = follow(&eps, &levels, &step_up, &successful, Some(day(2025, 12, 31)));
        type Seen = (u32, Option<bool>, bool, Option<i32>, Option<i32>, bool);
        let got: Vec<Seen> = rows
            .iter()
            .map(|r| {
                let e = &eps[r.episode];
                (e.person, r.successful, r.stepped_up, r.days_to_same_level, r.days_to_level_4, r.followed)
            })
            .collect();
        assert_eq!(
            got,
            vec![
                (10, Some(true), false, Some(92), Some(153), true),
                (11, None, true, None, None, true),
                (20, None, false, None, None, false),
                (30, None, false, Some(395), Some(59), true),
            ]
        );
        assert_eq!(
            ReturnsReport::of(&rows),
            ReturnsReport { closures: 4, stepped_up: 1, followed_12_months: 3, back_at_same_level: 1, level_4: 2 }
        );
    }
}
