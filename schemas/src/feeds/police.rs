//! Police: domestic abuse incidents, missing episodes, anti-social behaviour and crime involving
//! children and families. Criminal offence data throughout.

use super::person::*;
use super::{date, event, flag};
use crate::column::{Column, Kind, Role};
use crate::feed::FeedSchema;

/// Version 1.
pub static V1: FeedSchema = FeedSchema {
    name: "police",
    version: 1,
    partner: "Sussex Police",
    description: "One row per person involved in a police occurrence: domestic abuse incidents \
                  (with DASH risk and Operation Encompass notification), missing episodes, \
                  anti-social behaviour, crime and child-to-parent violence.",
    event_date: "incident_date",
    columns: &[
        RECORD_ID,
        Column::new(
            "occurrence_ref",
            Kind::Reference { max_bytes: 64 },
            Role::DirectIdentifier,
            "Police occurrence reference; rows of one incident share it.",
        )
        .criminal()
        .required(),
        PNC_ID,
        FORENAME.required(),
        SURNAME.required(),
        DATE_OF_BIRTH,
        SEX,
        ADDRESS_LINE_1,
        POSTCODE,
        UPRN,
        date("incident_date", "Date of the incident or of the missing report.").required(),
        event(
            "incident_type",
            Kind::Code(&["DOMESTIC_ABUSE", "MISSING_EPISODE", "ASB", "CRIME", "CHILD_TO_PARENT_VIOLENCE"]),
            "Kind of occurrence.",
        )
        .criminal()
        .required(),
        event(
            "person_role",
            Kind::Code(&["VICTIM", "SUSPECT", "CHILD_PRESENT", "CHILD_IN_HOUSEHOLD", "MISSING_PERSON", "OTHER"]),
            "This person's part in the occurrence.",
        )
        .criminal()
        .required(),
        event("dash_risk", Kind::Code(&["STANDARD", "MEDIUM", "HIGH"]), "DASH risk grading (domestic abuse).")
            .criminal(),
        flag("marac_referral", "Referred to MARAC.").criminal(),
        flag("encompass_notified", "Operation Encompass notification sent to the child's school."),
        event(
            "missing_risk",
            Kind::Code(&["NO_APPARENT_RISK", "LOW", "MEDIUM", "HIGH"]),
            "Missing person risk grading.",
        ),
        event("missing_duration_hours", Kind::Integer { min: 0, max: 8760 }, "Hours missing."),
        event(
            "outcome",
            Kind::Code(&["ARREST", "CHARGE", "NFA", "COMMUNITY_RESOLUTION", "ONGOING", "NONE"]),
            "Police outcome for this person.",
        )
        .criminal(),
    ],
};
