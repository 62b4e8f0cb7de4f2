//! The governance stage: the agreement in force decides, field by field, what of a feed may pass.
//!
//! It sits between validation and pseudonymisation. The decision is made once per input, from
//! the agreement in force on the processing date, and enforced by construction: the
//! pseudonymise stage derives its output columns from this [`Policy`] alone, so a field the
//! agreement does not name has no column to be written into. Deny by default: a field with no
//! entry is dropped, and a feed with no agreement in force is not processed at all (see
//! [`Decision`]).

use std::sync::Arc;

use crate::agreement::{Agreement, AgreementSet, Standing};
use tellonce_schemas::identifiers::dates;
use tellonce_schemas::{Column, FeedSchema, Treatment};

/// What an agreement lets through of one feed, ready for the pseudonymise stage.
#[derive(Debug, Clone)]
pub struct Policy {
    /// The agreement's label, `id@version`, written into every row it lets through.
    pub agreement: Arc<str>,
    /// The treatment of each feed column, in schema order.
    treatments: Vec<Treatment>,
    /// The feed's columns the agreement drops, in schema order.
    pub dropped: Vec<&'static str>,
    /// When outputs written today under this agreement fall due for deletion (days since
    /// 1970-01-01).
    pub retention_until: i32,
    /// Whether the agreement is past its review date (processing goes on, with a warning).
    pub review_overdue: bool,
}

impl Policy {
    /// The policy of `agreement` for `feed`, for outputs written on day `today`.
    pub fn under(feed: &'static FeedSchema, agreement: &Agreement, today: i32, review_overdue: bool) -> Policy {
        let treatments: Vec<Treatment> = feed.columns.iter().map(|c| agreement.treatment(feed.name, c.name)).collect();
        Policy::with(feed, agreement.label().into(), treatments, agreement.retention_until(today), review_overdue)
    }

    /// A policy keeping what the schema alone would keep, for tests and benchmarks that are not
    /// about agreements.
    pub fn schema_default(feed: &'static FeedSchema, label: &str) -> Policy {
        let treatments = feed.columns.iter().map(Treatment::schema_default).collect();
        Policy::with(feed, label.into(), treatments, i32::MAX, false)
    }

    fn with(
        feed: &'static FeedSchema,
        agreement: Arc<str>,
        treatments: Vec<Treatment>,
        retention_until: i32,
        review_overdue: bool,
    ) -> Policy {
        let dropped = feed.columns.iter().zip(&treatments).filter(|(_, t)| t.is_drop()).map(|(c, _)| c.name).collect();
        Policy { agreement, treatments, dropped, retention_until, review_overdue }
    }

    /// The treatment of one column of the feed this policy was made for (drop if unknown).
    pub fn treatment(&self, feed: &FeedSchema, col: &Column) -> Treatment {
        feed.index_of(col.name).and_then(|i| self.treatments.get(i)).cloned().unwrap_or_default()
    }

    /// The retention date as `YYYY-MM-DD`, or `None` when outputs are kept without a limit.
    pub fn retention_until_iso(&self) -> Option<String> {
        (self.retention_until != i32::MAX).then(|| dates::format(self.retention_until))
    }
}

/// Whether a feed may be processed on a given day, and under which policy.
#[derive(Debug)]
pub enum Decision {
    /// An agreement is in force: process under this policy.
    Process(Policy),
    /// No agreement allows processing: hold the input untouched.
    Hold {
        /// A stable code: `agreement.none`, `agreement.expired`, `agreement.not_yet_in_force`
        /// or `agreement.ambiguous`.
        rule: &'static str,
        /// Why, in words naming the agreement and its dates.
        reason: String,
    },
}

/// Decides whether `feed` may be processed today, and under which policy.
///
/// The agreement must be in force on the day of processing, `today`: the agreement governs the
/// act of sharing, which happens now. `as_of` may only add a check (the same agreement must be
/// in force on that day too, for example to see what a run after an expiry would do); it can
/// never let data through that today's agreements would hold. Outputs' retention is counted from
/// `today`, the day they are written.
pub fn decide(agreements: &AgreementSet, feed: &'static FeedSchema, today: i32, as_of: i32) -> Decision {
    let now = decide_on(agreements, feed, today, today);
    if as_of == today {
        return now;
    }
    match (now, decide_on(agreements, feed, as_of, today)) {
        (Decision::Process(p), Decision::Process(q)) if p.agreement == q.agreement => Decision::Process(p),
        (Decision::Process(_), Decision::Process(q)) => Decision::Hold {
            rule: "agreement.ambiguous",
            reason: format!(
                "{} is in force on {} but another agreement is in force today ({}); run without --as-of",
                q.agreement,
                dates::format(as_of),
                dates::format(today)
            ),
        },
        (Decision::Process(_), hold) | (hold, _) => hold,
    }
}

/// The decision for day `on`, with retention counted from `written`.
fn decide_on(agreements: &AgreementSet, feed: &'static FeedSchema, on: i32, written: i32) -> Decision {
    match agreements.standing(feed.name, on) {
        Standing::InForce { agreement, review_overdue } => {
            Decision::Process(Policy::under(feed, agreement, written, review_overdue))
        }
        Standing::Expired(a) => Decision::Hold {
            rule: "agreement.expired",
            reason: format!(
                "agreement {} governing {} ended on {}; no agreement is in force on {}",
                a.label(),
                feed.name,
                dates::format(a.end),
                dates::format(on)
            ),
        },
        Standing::NotYet(a) => Decision::Hold {
            rule: "agreement.not_yet_in_force",
            reason: format!(
                "agreement {} governing {} starts on {}; no agreement is in force on {}",
                a.label(),
                feed.name,
                dates::format(a.start),
                dates::format(on)
            ),
        },
        Standing::Ambiguous(several) => Decision::Hold {
            rule: "agreement.ambiguous",
            reason: format!(
                "{} agreements claim {} on {} ({}); run `tellonce isa lint` and withdraw all but one",
                several.len(),
                feed.name,
                dates::format(on),
                several.iter().map(|a| a.label()).collect::<Vec<_>>().join(", ")
            ),
        },
        Standing::None => Decision::Hold {
            rule: "agreement.none",
            reason: format!("no agreement governs feed {}; nothing from it may be processed", feed.name),
        },
    }
}
