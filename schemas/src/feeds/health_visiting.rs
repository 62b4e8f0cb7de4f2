//! Health visiting (0–19 service, Healthy Child Programme; CSDS-style contacts).

use super::person::*;
use super::{date, event, flag};
use crate::column::Kind;
use crate::feed::FeedSchema;

const ASQ: Kind = Kind::Integer { min: 0, max: 60 };

/// Version 1.
pub static V1: FeedSchema = FeedSchema {
    name: "health_visiting",
    version: 1,
    partner: "0-19 health visiting service (NHS provider)",
    description: "One row per health visiting contact with a child or parent: the five mandated reviews, \
                  attendance, ASQ-3 scores at the 2-2½ year review, and concerns raised.",
    event_date: "contact_date",
    columns: &[
        RECORD_ID,
        NHS_NUMBER,
        FORENAME.required(),
        SURNAME.required(),
        DATE_OF_BIRTH.required(),
        SEX,
        ADDRESS_LINE_1,
        POSTCODE,
        HOUSEHOLD_REF,
        ROLE_IN_HOUSEHOLD,
        date("contact_date", "Date of the contact.").required(),
        event(
            "review_type",
            Kind::Code(&["ANTENATAL", "NBV", "6_8WK", "12M", "2_2_5Y", "OTHER"]),
            "Mandated review: ANTENATAL, NBV (new birth visit), 6_8WK, 12M, 2_2_5Y or OTHER.",
        )
        .required(),
        event(
            "attended",
            Kind::Code(&["ATTENDED", "DNA", "CANCELLED"]),
            "ATTENDED, DNA (did not attend) or CANCELLED.",
        )
        .required(),
        event("contact_mode", Kind::Code(&["FACE_TO_FACE", "VIDEO", "PHONE"]), "How the contact took place."),
        event("asq3_communication", ASQ, "ASQ-3 communication score (0-60).").special(),
        event("asq3_gross_motor", ASQ, "ASQ-3 gross motor score (0-60).").special(),
        event("asq3_fine_motor", ASQ, "ASQ-3 fine motor score (0-60).").special(),
        event("asq3_problem_solving", ASQ, "ASQ-3 problem solving score (0-60).").special(),
        event("asq3_personal_social", ASQ, "ASQ-3 personal-social score (0-60).").special(),
        flag("maternal_mood_concern", "A maternal mood concern was identified.").special(),
        flag("safeguarding_concern", "A safeguarding concern was raised."),
        event(
            "onward_referral",
            Kind::Code(&["NONE", "SPEECH_LANGUAGE", "PERINATAL_MH", "EARLY_HELP", "SOCIAL_CARE", "OTHER"]),
            "Onward referral made at the contact.",
        ),
    ],
};
