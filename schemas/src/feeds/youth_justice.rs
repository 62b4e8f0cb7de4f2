//! Youth Justice Service case outcomes. Criminal offence data throughout.

use super::person::*;
use super::{date, event, flag};
use crate::column::Kind;
use crate::feed::FeedSchema;

/// Version 1.
pub static V1: FeedSchema = FeedSchema {
    name: "youth_justice",
    version: 1,
    partner: "West Sussex Youth Justice Service",
    description: "One row per offence outcome for a child aged 10-17: offence category, gravity, \
                  outcome on the ladder from no further action to custody, first-time entrant flag.",
    event_date: "offence_date",
    columns: &[
        RECORD_ID,
        PNC_ID,
        FORENAME.required(),
        SURNAME.required(),
        DATE_OF_BIRTH.required(),
        SEX,
        ETHNICITY,
        ADDRESS_LINE_1,
        POSTCODE,
        date("offence_date", "Date of the offence.").required().criminal(),
        event(
            "offence_category",
            Kind::Code(&[
                "VIOLENCE",
                "THEFT",
                "CRIMINAL_DAMAGE",
                "DRUGS",
                "ROBBERY",
                "BURGLARY",
                "MOTORING",
                "SEXUAL",
                "OTHER",
            ]),
            "Offence category.",
        )
        .required()
        .criminal(),
        event("gravity_score", Kind::Integer { min: 1, max: 4 }, "Youth gravity matrix score (1-4).").criminal(),
        event(
            "outcome_type",
            Kind::Code(&[
                "NFA",
                "COMMUNITY_RESOLUTION",
                "OUTCOME_22",
                "YOUTH_CAUTION",
                "YOUTH_CONDITIONAL_CAUTION",
                "REFERRAL_ORDER",
                "YRO",
                "DTO",
            ]),
            "Outcome of the offence.",
        )
        .required()
        .criminal(),
        date("outcome_date", "Date of the outcome.").criminal(),
        flag("fte_flag", "First-time entrant to the youth justice system.").criminal(),
        event("ete_status", Kind::Code(&["EET", "NEET", "UNKNOWN"]), "Education, training or employment status."),
    ],
};
