//! The datasets the build tier writes for analysts, for the data dictionary
//! (`tellonce schemas datasets`, `tellonce schemas dataset NAME`) and the docs.

use arrow_schema::{DataType, SchemaRef};

use crate::link::output;
use crate::outcomes::{aggregates, episodes, events, families, family_outcomes, persons, re_referrals};

/// One dataset under the output root.
pub struct Dataset {
    /// Its directory name.
    pub name: &'static str,
    /// What one row is.
    pub grain: &'static str,
    /// What it is for, in a sentence or two.
    pub about: &'static str,
    /// Hive partition columns, in path order.
    pub partitions: &'static [&'static str],
    /// Its columns (partition columns excluded).
    pub schema: fn() -> SchemaRef,
}

/// Every build-tier dataset, in the order of the dictionary.
pub const ALL: [Dataset; 11] = [
    Dataset {
        name: output::LINKS,
        grain: "partner record",
        about: "Which person and family each partner record is about, and by which rule it was linked. \
                Joins to staging on (feed, record_ref = record_id).",
        partitions: &["feed"],
        schema: output::links_schema,
    },
    Dataset {
        name: output::ID_HISTORY,
        grain: "change of a person or family id",
        about: "Merges, splits and retirements of ids from build to build, so that analyses keyed on old ids \
                can be carried forward.",
        partitions: &[],
        schema: output::history_schema,
    },
    Dataset {
        name: crate::arrivals::ARRIVALS,
        grain: "input (a partner file, or a Kafka batch)",
        about: "When each input arrived. Joins to staging and history on _input: the records as known on a date D \
                are the staging rows and the history rows superseded after D, of inputs arrived by D.",
        partitions: &[],
        schema: crate::arrivals::schema,
    },
    Dataset {
        name: events::THEME_EVENTS,
        grain: "indicator occurrence",
        about: "Each staged event that evidences a Supporting Families headline need under the theme \
                mapping (tellonce themes explain), with its person, family, area and age band.",
        partitions: &["headline", "month"],
        schema: events::schema,
    },
    Dataset {
        name: persons::PERSONS,
        grain: "person known in the reporting period",
        about: "Age band, sex, area, the feeds and agencies that know the person, headline needs and cohort \
                flags. Period and reference date are in the file metadata (tellonce.period_from, \
                tellonce.period_to, tellonce.reference_date).",
        partitions: &[],
        schema: persons::schema,
    },
    Dataset {
        name: families::FAMILIES,
        grain: "family with a member known in the reporting period",
        about: "Size, headline needs, agencies involved and Supporting Families eligibility under the \
                configured counting rule (written in the file metadata as tellonce.eligibility).",
        partitions: &[],
        schema: families::schema,
    },
    Dataset {
        name: episodes::EPISODES,
        grain: "episode of support",
        about: "Each episode of a service (early help) opened and closed in a partner's records, with its \
                person, family, level, dates, closure reason and the days to the family's next episode (for \
                re-referral rates). Episodes whose open or close was never recorded are kept, with their status.",
        partitions: &[],
        schema: episodes::schema,
    },
    Dataset {
        name: family_outcomes::FAMILY_OUTCOMES,
        grain: "headline need of a family at the start of an episode of support",
        about: "Each need the family had in the 12 months to an episode's start, its outcome under the theme \
                mapping's outcome rule (met and sustained; met, not yet sustained; not met; no evidence either \
                way), the rule that decided it, and the evidence counted before, during, at and after the close.",
        partitions: &[],
        schema: family_outcomes::schema,
    },
    Dataset {
        name: family_outcomes::OUTCOME_CLAIMS,
        grain: "episode of support with a need at its start",
        about: "Whether every need the family had at the episode's start was met and sustained: the programme's \
                test of a successful family outcome, as far as the data shows it.",
        partitions: &[],
        schema: family_outcomes::claims_schema,
    },
    Dataset {
        name: re_referrals::RE_REFERRALS,
        grain: "closed episode of support",
        about: "Whether the family came back within 12 months of the close, at the same level (re-referral) or \
                at level 4 (a social care episode, or an episode of the family stepped up), whether the episode \
                itself stepped up, and whether its outcome was successful: the strategy's re-referral and \
                step-up rates. A window the data does not reach yet says null rather than no.",
        partitions: &[],
        schema: re_referrals::schema,
    },
    Dataset {
        name: aggregates::AGGREGATES,
        grain: "published cell of a count table (margins included)",
        about: "Persons with a need by district x headline for each month, and by IMD decile x headline, \
                after disclosure control: small counts suppressed (c), secondary suppression, rounding. \
                The policy is in the file metadata (tellonce.disclosure).",
        partitions: &["table"],
        schema: aggregates::schema,
    },
];

/// The dataset called `name`.
pub fn find(name: &str) -> Option<&'static Dataset> {
    ALL.iter().find(|d| d.name == name)
}

/// A column type as analysts read it.
pub fn type_name(t: &DataType) -> String {
    match t {
        DataType::Utf8 => "string".to_owned(),
        DataType::Boolean => "boolean".to_owned(),
        DataType::Date32 => "date".to_owned(),
        DataType::UInt8 | DataType::UInt16 | DataType::UInt32 | DataType::UInt64 => format!("{}", t).to_lowercase(),
        DataType::Float32 => "float".to_owned(),
        DataType::List(f) => format!("list<{}>", type_name(f.data_type())),
        other => other.to_string().to_lowercase(),
    }
}
