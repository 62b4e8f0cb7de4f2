//! The scoring model a linkage build used, as the audit log keeps it: enough to say, for any
//! later build, which `m` and `u` decided its scored links. Names of fields and levels only,
//! never a value.

use serde::{Deserialize, Serialize};

/// One comparison level's estimates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelLevel {
    /// The compared field (`forename`, `date_of_birth`, ...).
    pub field: String,
    /// The level (`exact`, `dice_0.9`, `else`, ...).
    pub level: String,
    /// P(level | same person).
    pub m: f64,
    /// P(level | different people).
    pub u: f64,
}

impl ModelLevel {
    /// `log2(m / u)` bits.
    pub fn weight(&self) -> f64 {
        (self.m / self.u).log2()
    }
}

/// The model of one build.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinkageModel {
    /// The matcher version it belongs to.
    pub matcher: String,
    /// Whether it was estimated from the build's own data (else the documented levels).
    pub estimated: bool,
    /// The chance that two records are one person.
    pub prior: f64,
    /// The least weight (bits) of a scored link in that build.
    pub threshold_bits: f64,
    /// Candidate pairs EM was trained on.
    pub training_pairs: u64,
    /// Every level of every field, `missing` left out (it weighs nothing).
    pub levels: Vec<ModelLevel>,
    /// The precision of the build's scored links as the model estimates it (no ground truth).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub estimated_precision: Option<f64>,
    /// The share of the matches among the pairs scored that the build linked, as the model
    /// estimates it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub estimated_recall: Option<f64>,
    /// What the build's data said of households, and whether the household veto applied
    /// (absent from builds before it could be lifted: it always applied then).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub households: Option<Households>,
    /// The reviewed model file the build scored with, frozen (`[linkage] model`): nothing was
    /// estimated. Absent when the build estimated its own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frozen: Option<FrozenFrom>,
    /// The version of the cluster vetoes the build kept records apart with (absent from builds
    /// before it was recorded). A frozen model stays usable under newer vetoes, so this is
    /// recorded beside `matcher`, not in it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vetoes: Option<String>,
}

/// Where a frozen model came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FrozenFrom {
    /// The file, as configured.
    pub path: String,
    /// SHA-256 of its bytes (hex).
    pub sha256: String,
}

/// The evidence of households a build found among the records it compared, and what it made of
/// it: records that share an address line and a family name but neither forename nor date of
/// birth are two members of one household far more often than one person mistyped twice, where
/// the data holds households at all.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Households {
    /// `auto`, `on` or `off`, as `[linkage] household_veto` set it.
    pub setting: String,
    /// Candidate pairs (records the exact rules did not make one person) at one home (one
    /// address line; one postcode where a record has no line) under one family name, no strong
    /// identifier agreeing.
    pub pairs_at_one_address: u64,
    /// Those of them the household rule reads as two members of one household: unalike in
    /// forename and date of birth (a forename unalike or not comparable; a date of birth not
    /// the same, or missing on one side), or in forename and sex (twins of two sexes), or a
    /// child and an adult one partner lists together on dates no slip apart.
    pub unalike: u64,
    /// Whether such pairs were refused (the household veto) or left to the weights.
    pub veto: bool,
}

impl Households {
    /// In words, for the build summary and `link-model`.
    pub fn describe(&self) -> String {
        let state = if self.veto { "refused" } else { "left to the weights" };
        let why = match self.setting.as_str() {
            "auto" if self.pairs_at_one_address < 20 => format!(
                "only {} candidate pairs at one home under one family name: too few to tell whether the data \
                 holds households",
                self.pairs_at_one_address
            ),
            "auto" => format!(
                "{} of {} candidate pairs at one home under one family name look like two members of it (unalike in \
                 forename and date of birth or sex, or listed so by a partner)",
                self.unalike, self.pairs_at_one_address
            ),
            other => format!("[linkage] household_veto = \"{other}\""),
        };
        format!("pairs that look like two members of one household: {state} ({why})")
    }
}

// Audit events compare as `Eq`. Every float here is a finite probability or weight (never NaN),
// so equality is reflexive.
impl Eq for ModelLevel {}
impl Eq for LinkageModel {}

/// The officers' decisions a build honoured (`[linkage] decisions`): which file, and what the
/// build made of it. Counts only: the pairs are in the file, kept by the deployment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkageDecisions {
    /// The file, as configured.
    pub path: String,
    /// SHA-256 of its bytes (hex).
    pub sha256: String,
    /// Decisions that two records are one person.
    pub same_person: u64,
    /// Decisions that two records are two people.
    pub not_same_person: u64,
    /// Of the first, those the build followed: the two records are in one person.
    pub linked: u64,
    /// Of the first, those it could not follow: a strong identifier disagrees, or another
    /// decision keeps the two apart.
    pub refused: u64,
    /// Of the second, those whose records are both staged, all kept apart.
    pub kept_apart: u64,
    /// Decisions naming a record not staged now (not yet sent, erased, past retention).
    pub not_found: u64,
}
