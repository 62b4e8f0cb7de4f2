//! The standard columns: the person block that partner feeds share, so that one column means the
//! same in every feed. A feed definition names them (`standard = true`) rather than redefining
//! them: linkage derives its keys from these names, so a `date_of_birth` must be the same date of
//! birth in every feed.

use crate::column::{Column, Generalisation, Kind, Role};

/// The partner's own reference for the record.
pub const RECORD_ID: Column = Column::new(
    "record_id",
    Kind::Reference { max_bytes: 64 },
    Role::RecordReference,
    "The partner's own reference for this record; unique within one extract.",
)
.required();

/// NHS number.
pub const NHS_NUMBER: Column = Column::new(
    "nhs_number",
    Kind::NhsNumber,
    Role::DirectIdentifier,
    "NHS number of the person the record is about (often missing).",
);

/// Forename.
pub const FORENAME: Column =
    Column::new("forename", Kind::PersonName, Role::DirectIdentifier, "Forename as recorded by the partner.");

/// Surname.
pub const SURNAME: Column =
    Column::new("surname", Kind::PersonName, Role::DirectIdentifier, "Surname as recorded by the partner.");

/// Date of birth.
pub const DATE_OF_BIRTH: Column = Column::new(
    "date_of_birth",
    Kind::BirthDate,
    Role::QuasiIdentifier,
    "Date of birth; released to analysts as year and month only.",
)
.generalised(Generalisation::YearMonth);

/// Sex.
pub const SEX: Column = Column::new(
    "sex",
    Kind::Code(&["M", "F", "X", "U"]),
    Role::QuasiIdentifier,
    "Sex as recorded: M, F, X (other) or U (not known).",
);

/// Ethnicity (special category).
pub const ETHNICITY: Column = Column::new(
    "ethnicity",
    Kind::Code(&["WHITE", "MIXED", "ASIAN", "BLACK", "OTHER", "NOT_STATED"]),
    Role::EventAttribute,
    "Broad ethnic group (census top-level groups); needed to monitor linkage bias.",
)
.special();

/// First address line.
pub const ADDRESS_LINE_1: Column = Column::new(
    "address_line_1",
    Kind::AddressLine,
    Role::DirectIdentifier,
    "First line of the person's address at the time of the event.",
);

/// Postcode.
pub const POSTCODE: Column = Column::new(
    "postcode",
    Kind::Postcode,
    Role::QuasiIdentifier,
    "Postcode of the person's address; released to analysts as its outward code only.",
)
.generalised(Generalisation::OutwardCode);

/// UPRN.
pub const UPRN: Column = Column::new(
    "uprn",
    Kind::Uprn,
    Role::DirectIdentifier,
    "Unique Property Reference Number of the address, where the partner holds it.",
);

/// The partner's household or family reference.
pub const HOUSEHOLD_REF: Column = Column::new(
    "household_ref",
    Kind::Reference { max_bytes: 64 },
    Role::DirectIdentifier,
    "The partner's reference for the household or case the person belongs to.",
);

/// The person's place in that household.
pub const ROLE_IN_HOUSEHOLD: Column = Column::new(
    "role_in_household",
    Kind::Code(&["CHILD", "PARENT_CARER", "OTHER_ADULT", "UNBORN"]),
    Role::EventAttribute,
    "The person's place in the household: CHILD, PARENT_CARER, OTHER_ADULT or UNBORN.",
);

/// PNC ID (criminal offence data).
pub const PNC_ID: Column = Column::new(
    "pnc_id",
    Kind::PncId,
    Role::DirectIdentifier,
    "Police National Computer ID, where the person has one.",
)
.criminal();

/// UPN.
pub const UPN: Column = Column::new("upn", Kind::Upn, Role::DirectIdentifier, "Unique Pupil Number of the child.");

/// Every standard column.
pub const ALL: &[Column] = &[
    RECORD_ID,
    NHS_NUMBER,
    FORENAME,
    SURNAME,
    DATE_OF_BIRTH,
    SEX,
    ETHNICITY,
    ADDRESS_LINE_1,
    POSTCODE,
    UPRN,
    HOUSEHOLD_REF,
    ROLE_IN_HOUSEHOLD,
    PNC_ID,
    UPN,
];

/// The standard column with this name, if there is one.
pub fn find(name: &str) -> Option<Column> {
    ALL.iter().find(|c| c.name == name).copied()
}
