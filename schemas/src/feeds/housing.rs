//! District and borough housing options: homelessness cases (H-CLIC-style) and temporary
//! accommodation, with social landlord arrears.

use super::person::*;
use super::{date, event};
use crate::column::Kind;
use crate::feed::FeedSchema;

/// Version 1.
pub static V1: FeedSchema = FeedSchema {
    name: "housing",
    version: 1,
    partner: "District and borough housing authorities",
    description: "One row per household member of a homelessness approach: duty owed, reason for \
                  loss of the last settled home, temporary accommodation, rent arrears.",
    event_date: "approach_date",
    columns: &[
        RECORD_ID,
        HOUSEHOLD_REF.required(),
        ROLE_IN_HOUSEHOLD.required(),
        FORENAME.required(),
        SURNAME.required(),
        DATE_OF_BIRTH,
        SEX,
        ADDRESS_LINE_1,
        POSTCODE,
        UPRN,
        date("approach_date", "Date the household approached the housing authority.").required(),
        event("duty_owed", Kind::Code(&["PREVENTION", "RELIEF", "MAIN", "NONE"]), "Homelessness duty owed.").required(),
        event(
            "reason_for_loss",
            Kind::Code(&[
                "END_OF_PRIVATE_TENANCY",
                "FAMILY_FRIENDS_EVICTION",
                "DOMESTIC_ABUSE",
                "RELATIONSHIP_BREAKDOWN",
                "RENT_ARREARS",
                "OTHER",
            ]),
            "Reason for loss, or threat of loss, of the last settled home.",
        ),
        event(
            "ta_type",
            Kind::Code(&[
                "NONE",
                "BED_AND_BREAKFAST",
                "NIGHTLY_PAID",
                "HOSTEL",
                "PRIVATE_SECTOR_LEASED",
                "SOCIAL_STOCK",
            ]),
            "Temporary accommodation type.",
        ),
        date("ta_start", "Temporary accommodation start."),
        date("ta_end", "Temporary accommodation end."),
        event("rent_arrears_balance", Kind::Decimal { min: 0.0, max: 100_000.0 }, "Rent arrears in pounds."),
        event("num_children", Kind::Integer { min: 0, max: 20 }, "Dependent children in the household."),
    ],
};
