//! Child and Adolescent Mental Health Services referrals (MHSDS-style).

use super::person::*;
use super::{date, event};
use crate::column::Kind;
use crate::feed::FeedSchema;

/// Version 1.
pub static V1: FeedSchema = FeedSchema {
    name: "camhs",
    version: 1,
    partner: "CAMHS (NHS mental health trust)",
    description: "One row per referral to CAMHS: source, primary reason, priority, whether accepted, \
                  contacts and discharge. Health data: special category throughout.",
    event_date: "referral_received_date",
    columns: &[
        RECORD_ID,
        NHS_NUMBER,
        FORENAME.required(),
        SURNAME.required(),
        DATE_OF_BIRTH.required(),
        SEX,
        ETHNICITY,
        ADDRESS_LINE_1,
        POSTCODE,
        date("referral_received_date", "Date the referral was received.").required(),
        event(
            "referral_source",
            Kind::Code(&["GP", "SELF", "LA_SOCIAL_CARE", "AE", "EDUCATION", "POLICE", "CARER", "OTHER"]),
            "Who referred.",
        ),
        event(
            "primary_reason",
            Kind::Code(&[
                "ANXIETY",
                "DEPRESSION",
                "SELF_HARM",
                "EATING_DISORDER",
                "NEURODEVELOPMENTAL",
                "CONDUCT",
                "CRISIS",
                "OTHER",
            ]),
            "Primary reason for referral.",
        )
        .special(),
        event(
            "priority",
            Kind::Code(&["ROUTINE", "URGENT", "VERY_URGENT", "EMERGENCY"]),
            "Clinical response priority.",
        ),
        event(
            "referral_outcome",
            Kind::Code(&["ACCEPTED", "REJECTED", "PENDING"]),
            "Whether the referral was accepted.",
        )
        .required(),
        date("first_contact_date", "Date of the first attended contact.").special(),
        event("contacts_attended", Kind::Integer { min: 0, max: 500 }, "Contacts attended so far.").special(),
        event("dna_count", Kind::Integer { min: 0, max: 500 }, "Contacts not attended so far.").special(),
        date("discharge_date", "Date of discharge from the service.").special(),
        event(
            "discharge_reason",
            Kind::Code(&["TREATMENT_COMPLETED", "DNA", "TRANSFERRED", "MOVED_AWAY", "OTHER"]),
            "Why the child was discharged.",
        )
        .special(),
    ],
};
