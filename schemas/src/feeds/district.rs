//! District and borough councils (non-housing): council tax, hardship support and anti-social
//! behaviour casework.

use super::person::*;
use super::{date, event};
use crate::column::Kind;
use crate::feed::FeedSchema;

/// The six districts and boroughs of West Sussex.
pub const DISTRICTS: &[&str] = &["ADUR_WORTHING", "ARUN", "CHICHESTER", "CRAWLEY", "HORSHAM", "MID_SUSSEX"];

/// Version 1.
pub static V1: FeedSchema = FeedSchema {
    name: "district",
    version: 1,
    partner: "District and borough councils (revenues, benefits, community safety)",
    description: "One row per event on a resident's account: council tax arrears and enforcement, \
                  council tax reduction, crisis and household support payments, ASB cases.",
    event_date: "event_date",
    columns: &[
        RECORD_ID,
        event("district_code", Kind::Code(DISTRICTS), "The district or borough that sent the record.").required(),
        FORENAME.required(),
        SURNAME.required(),
        DATE_OF_BIRTH,
        ADDRESS_LINE_1,
        POSTCODE,
        UPRN,
        date("event_date", "Date of the event.").required(),
        event(
            "event_type",
            Kind::Code(&[
                "COUNCIL_TAX_ARREARS",
                "COUNCIL_TAX_REDUCTION",
                "CRISIS_PAYMENT",
                "DISCRETIONARY_HOUSING_PAYMENT",
                "HOUSEHOLD_SUPPORT_FUND",
                "ASB_CASE",
                "HOUSING_CONDITION",
            ]),
            "Kind of event.",
        )
        .required(),
        event("amount", Kind::Decimal { min: 0.0, max: 100_000.0 }, "Amount paid or owed, in pounds."),
        event(
            "enforcement_stage",
            Kind::Code(&["REMINDER", "SUMMONS", "LIABILITY_ORDER", "ENFORCEMENT_AGENT"]),
            "Council tax recovery stage.",
        ),
    ],
};
