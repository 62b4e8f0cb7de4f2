//! `re_referrals/`: for each closed episode of support, whether the family came back within 12
//! months, at the same level or at level 4: the strategy's re-referral and step-up measures.
//!
//! - **Back at the same level**: another episode of the family at the episode's level started
//!   after the close (early help after early help: the strategy's 5.5 % of families back at level
//!   3 within 12 months of a successful outcome; social care after social care: its 26 %).
//! - **Level 4**: after the close, an episode of the family at level 4 started, or an episode of
//!   the family closed with a step-up reason of its source (the case handed to social care on
//!   that day): the strategy's 3.44 % needing level 4 within 12 months.
//! - **Stepped up**: the episode itself closed with a step-up reason.
//!
//! A window of 12 months is judged only where the data runs that far (`followed_until`, the
//! latest event held of the episode sources' feeds): otherwise a return already seen says yes,
//! and no return yet says nothing (null).

use std::collections::HashMap;
use std::sync::Arc;

use arrow_array::builder::{BooleanBuilder, Date32Builder, Int32Builder, StringBuilder, UInt8Builder};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Schema, SchemaRef};

use super::described;
use super::episodes::Episode;
use super::family_outcomes::{Names, add_months};
use crate::link::LinkError;

pub use tellonce_output::layout::RE_REFERRALS;

/// The months after a close in which a return counts.
pub const FOLLOW_MONTHS: i32 = 12;

/// The level of statutory social care.
const LEVEL_4: u8 = 4;

/// One row of `re_referrals/`, before writing.
#[derive(Debug, Clone, PartialEq)]
pub struct Return {
    /// Index into the episodes.
    pub episode: usize,
    /// The close.
    pub close: i32,
    /// Whether every need at entry was met and sustained (`None`: no need at entry, or no start).
    pub successful: Option<bool>,
    /// Whether the episode closed with a step-up reason.
    pub stepped_up: bool,
    /// Days from the close to the family's next start at the same level.
    pub days_to_same_level: Option<i32>,
    /// Days from the close to the family's next level 4 start or step-up.
    pub days_to_level_4: Option<i32>,
    /// The window of `FOLLOW_MONTHS` after the close lies within the data.
    pub followed: bool,
    /// The end of that window.
    pub window_end: i32,
}

impl Return {
    /// Whether a date `days` after the close is within the window: yes or no, or `None` when no
    /// return has been seen and the window is not yet followed whole.
    fn within(&self, days: Option<i32>) -> Option<bool> {
        match days {
            Some(d) if self.close + d <= self.window_end => Some(true),
            _ if self.followed => Some(false),
            _ => None,
        }
    }
}

/// What `re_referrals/` holds, for the run summary.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ReturnsReport {
    /// Rows: closed episodes.
    pub closures: u64,
    /// Of them, closed with a step-up reason.
    pub stepped_up: u64,
    /// Of them, followed for the whole 12 months.
    pub followed_12_months: u64,
    /// Of those followed, the family back at the same level within 12 months.
    pub back_at_same_level: u64,
    /// Of those followed, the family needing level 4 within 12 months.
    pub level_4: u64,
}

impl ReturnsReport {
    /// Counts the rows.
    pub fn of(rows: &[Return]) -> ReturnsReport {
        let followed = rows.iter().filter(|r| r.followed);
        ReturnsReport {
            closures: rows.len() as u64,
            stepped_up: rows.iter().filter(|r| r.stepped_up).count() as u64,
            followed_12_months: followed.clone().count() as u64,
            back_at_same_level: followed.clone().filter(|r| r.within(r.days_to_same_level) == Some(true)).count()
                as u64,
            level_4: followed.filter(|r| r.within(r.days_to_level_4) == Some(true)).count() as u64,
        }
    }
}

/// The returns after each closed episode. `levels[k]` and `step_up[k]` are episode source `k`'s
/// level and step-up reasons; `successful` says, by episode, whether its claim succeeded;
/// `followed_until` is the latest event held of the episode sources' feeds.
pub fn follow(
    episodes: &[Episode],
    levels: &[u8],
    step_up: &[Vec<String>],
    successful: &HashMap<usize, bool>,
    followed_until: Option<i32>,
) -> Vec<Return> {
    let level = |e: &Episode| levels.get(e.source()).copied().unwrap_or(0);
    let steps_up = |e: &Episode| {
        e.closure().is_some_and(|c| step_up.get(e.source()).is_some_and(|codes| codes.iter().any(|s| s == c)))
    };
    // Each family's starts by level, and the days it entered level 4.
    let mut starts: HashMap<(u32, u8), Vec<i32>> = HashMap::new();
    let mut level_4: HashMap<u32, Vec<i32>> = HashMap::new();
    for e in episodes {
        if let Some(s) = e.start() {
            starts.entry((e.family(), level(e))).or_default().push(s);
            if level(e) == LEVEL_4 {
                level_4.entry(e.family()).or_default().push(s);
            }
        }
        if let Some(c) = e.close().filter(|_| steps_up(e)) {
            level_4.entry(e.family()).or_default().push(c);
        }
    }
    for v in starts.values_mut().chain(level_4.values_mut()) {
        v.sort_unstable();
    }
    let next_after = |days: Option<&Vec<i32>>, close: i32| {
        days.and_then(|v| v.get(v.partition_point(|&d| d <= close))).map(|&d| d - close)
    };
    let mut out = Vec::new();
    for (k, e) in episodes.iter().enumerate() {
        let Some(close) = e.close() else { continue };
        let window_end = add_months(close, FOLLOW_MONTHS);
        out.push(Return {
            episode: k,
            close,
            successful: successful.get(&k).copied(),
            stepped_up: steps_up(e),
            days_to_same_level: next_after(starts.get(&(e.family(), level(e))), close),
            days_to_level_4: next_after(level_4.get(&e.family()), close),
            followed: followed_until.is_some_and(|end| window_end <= end),
            window_end,
        });
    }
    out
}

/// The schema of `re_referrals/`.
pub fn schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        described("episode_id", DataType::Utf8, "The closed episode of support (episodes/)."),
        described("family_id", DataType::Utf8, "Stable pseudonymous id of the family (links/)."),
        described("person_id", DataType::Utf8, "The person the episode is about (links/)."),
        described("service", DataType::Utf8, "The episode's service."),
        described("level", DataType::UInt8, "The level of need the service meets (3: early help; 4: social care)."),
        described("close_date", DataType::Date32, "The date the episode closed."),
        described("closure_reason", DataType::Utf8, "The partner's closure reason code."),
        described(
            "successful_outcome",
            DataType::Boolean,
            "Every need at entry met and sustained (outcome_claims/); null where the episode had no need at entry \
             or no recorded start.",
        ),
        described(
            "stepped_up",
            DataType::Boolean,
            "The episode closed with a step-up reason of its source: the case went to level 4 (social care).",
        ),
        described(
            "followed_until",
            DataType::Date32,
            "The latest event held of the episode sources' feeds: how far a return could be seen.",
        ),
        described(
            "followed_12_months",
            DataType::Boolean,
            "The 12 months after the close lie within followed_until: the two columns below are never null.",
        ),
        described(
            "days_to_same_level",
            DataType::Int32,
            "Days from the close to the family's next episode start at the same level (null: none seen).",
        ),
        described(
            "back_at_same_level_within_12_months",
            DataType::Boolean,
            "The family started another episode at the same level within 12 calendar months of the close (null: \
             none seen yet and the 12 months not yet followed).",
        ),
        described(
            "days_to_level_4",
            DataType::Int32,
            "Days from the close to the family's next level 4 episode start or step-up close (null: none seen).",
        ),
        described(
            "level_4_within_12_months",
            DataType::Boolean,
            "The family needed level 4 within 12 calendar months of the close: a level 4 episode started, or an \
             episode of the family stepped up (null: none seen yet and the 12 months not yet followed).",
        ),
    ]))
}

/// One batch of `re_referrals/` rows.
pub fn batch(
    rows: &[Return],
    names: &Names<'_>,
    levels: &[u8],
    followed_until: Option<i32>,
) -> Result<RecordBatch, LinkError> {
    let text = || StringBuilder::new();
    let (mut id, mut family, mut person, mut service, mut reason) = (text(), text(), text(), text(), text());
    let flag = || BooleanBuilder::new();
    let (mut successful, mut stepped, mut followed, mut back, mut level_4) = (flag(), flag(), flag(), flag(), flag());
    let (mut level, mut close, mut until) = (UInt8Builder::new(), Date32Builder::new(), Date32Builder::new());
    let (mut same, mut four) = (Int32Builder::new(), Int32Builder::new());
    for r in rows {
        let (episode_id, person_id, family_id, service_code) = names.of(r.episode)?;
        let e = names.episodes.get(r.episode).ok_or_else(|| LinkError::Internal("episode out of range".into()))?;
        id.append_value(episode_id);
        family.append_value(family_id);
        person.append_value(person_id);
        service.append_value(service_code);
        level.append_value(levels.get(e.source()).copied().unwrap_or(0));
        close.append_value(r.close);
        reason.append_option(e.closure());
        successful.append_option(r.successful);
        stepped.append_value(r.stepped_up);
        until.append_option(followed_until);
        followed.append_value(r.followed);
        same.append_option(r.days_to_same_level);
        back.append_option(r.within(r.days_to_same_level));
        four.append_option(r.days_to_level_4);
        level_4.append_option(r.within(r.days_to_level_4));
    }
    let columns: Vec<ArrayRef> = vec![
        Arc::new(id.finish()),
        Arc::new(family.finish()),
        Arc::new(person.finish()),
        Arc::new(service.finish()),
        Arc::new(level.finish()),
        Arc::new(close.finish()),
        Arc::new(reason.finish()),
        Arc::new(successful.finish()),
        Arc::new(stepped.finish()),
        Arc::new(until.finish()),
        Arc::new(followed.finish()),
        Arc::new(same.finish()),
        Arc::new(back.finish()),
        Arc::new(four.finish()),
        Arc::new(level_4.finish()),
    ];
    RecordBatch::try_new(schema(), columns).map_err(|e| LinkError::Internal(e.to_string()))
}
