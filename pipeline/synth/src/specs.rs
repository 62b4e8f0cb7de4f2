//! Each feed's file and habits as synth writes it: format, record id prefix, and how often its
//! source gets a person's details wrong.

use tellonce_schemas::FeedSchema;

use super::out::Format;

/// How often a source gets a person's details wrong. Rates are per person (or, for addresses, per
/// family) in the source, so a source repeats its own mistake on every row it holds.
pub(crate) struct Rates {
    pub typo_surname: f64,
    pub typo_forename: f64,
    /// Applies only to forenames that have a short form.
    pub nickname: f64,
    /// Applies only to hyphenated or double-barrelled surnames.
    pub surname_part: f64,
    /// Applies only where the swapped date is a valid, different date.
    pub dob_swap: f64,
    pub dob_missing: f64,
    /// Share of people whose NHS number the source holds at all (not an error when it does not).
    pub nhs_held: f64,
    /// Of those it should hold, the share it is missing (an error).
    pub nhs_missing: f64,
    /// Of families that moved, the share whose old address the source still has.
    pub moved: f64,
    pub typo_postcode: f64,
    pub duplicate: f64,
    /// Share of people whose ethnicity is recorded as not stated.
    pub not_stated: f64,
    /// Share of rows that carry the UPRN.
    pub uprn: f64,
}

/// One feed's file and habits.
pub(crate) struct FeedSpec {
    pub name: &'static str,
    /// Record id prefix: `HV-00000001`.
    pub prefix: &'static str,
    pub format: Format,
    /// JSON Lines: `null` for empty values instead of leaving them out.
    pub nulls: bool,
    /// Names written in capitals (police systems).
    pub upper: bool,
    /// House names written in double quotes (`"Rose Cottage", 3 Mill Lane`), as some council
    /// systems do.
    pub quote_house_names: bool,
    /// The required code column an invalid row gets an unknown code in.
    pub code_column: &'static str,
    /// Sub-stream key.
    pub key: u64,
    pub rates: Rates,
}

const fn rates(typo: f64, nickname: f64, dob_missing: f64, nhs_held: f64, nhs_missing: f64, uprn: f64) -> Rates {
    Rates {
        typo_surname: typo,
        typo_forename: typo,
        nickname,
        surname_part: 0.2,
        dob_swap: 0.03,
        dob_missing,
        nhs_held,
        nhs_missing,
        moved: 0.25,
        typo_postcode: 0.01,
        duplicate: 0.02,
        not_stated: 0.03,
        uprn,
    }
}

/// The feeds, in the order of the data dictionary: the seven built in, then those defined only in
/// a file (see [`schema_of`]).
pub(crate) const FEEDS: [FeedSpec; 8] = [
    FeedSpec {
        name: "health_visiting",
        prefix: "HV",
        format: Format::Csv,
        nulls: false,
        upper: false,
        quote_house_names: false,
        code_column: "review_type",
        key: 1,
        rates: rates(0.02, 0.03, 0.0, 1.0, 0.10, 0.0),
    },
    FeedSpec {
        name: "camhs",
        prefix: "CAMHS",
        format: Format::Jsonl,
        nulls: false,
        upper: false,
        quote_house_names: false,
        code_column: "referral_outcome",
        key: 2,
        rates: rates(0.02, 0.04, 0.0, 1.0, 0.10, 0.0),
    },
    FeedSpec {
        name: "police",
        prefix: "POL",
        format: Format::Jsonl,
        nulls: true,
        upper: true,
        quote_house_names: false,
        code_column: "incident_type",
        key: 3,
        rates: rates(0.03, 0.08, 0.06, 0.0, 0.0, 0.4),
    },
    FeedSpec {
        name: "youth_justice",
        prefix: "YJS",
        format: Format::Csv,
        nulls: false,
        upper: false,
        quote_house_names: false,
        code_column: "outcome_type",
        key: 4,
        rates: rates(0.02, 0.05, 0.0, 0.0, 0.0, 0.0),
    },
    FeedSpec {
        name: "housing",
        prefix: "HCLIC",
        format: Format::Csv,
        nulls: false,
        upper: false,
        quote_house_names: false,
        code_column: "duty_owed",
        key: 5,
        rates: rates(0.03, 0.06, 0.04, 0.0, 0.0, 0.9),
    },
    FeedSpec {
        name: "district",
        prefix: "DIST",
        format: Format::Csv,
        nulls: false,
        upper: false,
        quote_house_names: true,
        code_column: "event_type",
        key: 6,
        rates: rates(0.03, 0.07, 0.10, 0.0, 0.0, 0.95),
    },
    FeedSpec {
        name: "education",
        prefix: "EDU",
        format: Format::Csv,
        nulls: false,
        upper: false,
        quote_house_names: false,
        code_column: "event_type",
        key: 7,
        rates: rates(0.015, 0.01, 0.0, 0.25, 0.0, 0.3),
    },
    FeedSpec {
        name: "substance_misuse",
        prefix: "SMS",
        format: Format::Csv,
        nulls: false,
        upper: false,
        quote_house_names: false,
        code_column: "substance_1",
        key: 8,
        rates: rates(0.03, 0.06, 0.02, 0.7, 0.1, 0.0),
    },
];

/// The schema of a feed synth writes: the one in use, else the example definition of a feed
/// that is not built in (synth writes data for a deployment that will define it).
pub(crate) fn schema_of(name: &str) -> Option<&'static FeedSchema> {
    tellonce_schemas::feed::latest(name)
        .or_else(|| tellonce_schemas::definition::example(name).and_then(Result::ok).map(|l| l.schema))
}
