//! The council's own education and early help records.

use super::person::*;
use super::{date, event, flag};
use crate::column::Kind;
use crate::feed::FeedSchema;

/// Version 1.
pub static V1: FeedSchema = FeedSchema {
    name: "education",
    version: 1,
    partner: "West Sussex County Council (education, early help, children's social care flags)",
    description: "One row per education or early help event for a child: termly attendance, \
                  suspensions and exclusions, NEET status, early help episodes, with cohort flags.",
    event_date: "event_date",
    columns: &[
        RECORD_ID,
        UPN,
        NHS_NUMBER,
        FORENAME.required(),
        SURNAME.required(),
        DATE_OF_BIRTH.required(),
        SEX,
        ETHNICITY,
        ADDRESS_LINE_1,
        POSTCODE,
        UPRN,
        date("event_date", "Date of the event (for attendance, the end of the term).").required(),
        event(
            "event_type",
            Kind::Code(&[
                "ATTENDANCE_TERM",
                "SUSPENSION",
                "PERMANENT_EXCLUSION",
                "NEET_STATUS",
                "EARLY_HELP_OPEN",
                "EARLY_HELP_CLOSE",
            ]),
            "Kind of event.",
        )
        .required(),
        event("attendance_pct", Kind::Decimal { min: 0.0, max: 100.0 }, "Attendance over the term, percent."),
        event("suspension_days", Kind::Decimal { min: 0.0, max: 45.0 }, "School days of suspension."),
        event("neet_status", Kind::Code(&["EET", "NEET", "UNKNOWN"]), "Post-16 education, employment or training."),
        event(
            "early_help_outcome",
            Kind::Code(&["NEEDS_MET", "STEP_UP_TO_SOCIAL_CARE", "DISENGAGED", "MOVED_AWAY", "OTHER"]),
            "Outcome at the close of an early help episode.",
        ),
        flag("child_in_need", "The child has a child in need plan."),
        flag("child_protection_plan", "The child has a child protection plan."),
        flag("looked_after", "The child is looked after by the local authority."),
        flag("ehc_plan", "The child has an education, health and care plan.").special(),
    ],
};
