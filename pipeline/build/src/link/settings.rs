//! `[linkage]`: the matcher's settings as a deployment writes them, checked into the
//! [`Options`] the build links with. Beside the matcher, which owns their meaning.

use serde::Deserialize;

use super::cluster::Options;
use super::score::HouseholdVeto;

/// `[linkage]`; every field has a default.
#[derive(Debug, Deserialize)]
#[serde(default)]
pub struct LinkageFile {
    /// Whether `run` links the staging dataset after ingesting (`build` always does).
    pub enabled: bool,
    /// Rules whose Fellegi–Sunter weight (bits) is below this are not applied.
    pub min_weight: f64,
    /// Least Dice similarity of forename encodings for a fuzzy link (0 to 1).
    pub forename_dice: f32,
    /// Least Dice similarity of surname encodings for a fuzzy link (0 to 1).
    pub surname_dice: f32,
    /// Least match probability of a link made by the scoring pass, under the model trained
    /// on the deployment's own data (0.5 to 0.999999).
    pub match_probability: f64,
    /// A fixed least weight (bits) of a scored link instead, for a deployment that wants the
    /// line independent of training (unset by default).
    pub match_threshold: Option<f64>,
    /// Whether pairs that look like two members of one household are refused: `auto` (where
    /// the data holds households), `on` or `off`.
    pub household_veto: HouseholdVeto,
    /// A reviewed model to score with, frozen (a `state/link/model.json` a build wrote, kept
    /// where the deployment chooses): builds then estimate nothing, so that the same records
    /// are weighed the same whenever they are linked. Unset: each build estimates its own.
    pub model: Option<std::path::PathBuf>,
    /// Officers' decisions to honour: a CSV of `record_a`, `record_b` and `same_person` (the
    /// sheet `tellonce link-review --csv` prints, filled in). Unset: none.
    pub decisions: Option<std::path::PathBuf>,
    /// Whether a home two partners both know through one linked person vouches for its other
    /// members (`co_resident`, on by default): off, only evidence about the pair itself links it.
    pub co_resident: bool,
}

impl Default for LinkageFile {
    fn default() -> Self {
        let d = Options::default();
        LinkageFile {
            enabled: true,
            min_weight: d.min_weight,
            forename_dice: d.forename_dice,
            surname_dice: d.surname_dice,
            match_probability: d.match_probability,
            match_threshold: d.score_threshold,
            household_veto: d.household_veto,
            model: None,
            decisions: None,
            co_resident: d.co_resident,
        }
    }
}

impl LinkageFile {
    /// Checks the section, adding a problem (naming its key) for each value out of range, and
    /// returns the matcher options it sets.
    pub fn validate(&self, problems: &mut Vec<String>) -> Options {
        let k = self;
        if !(0.0..=64.0).contains(&k.min_weight) {
            problems.push(format!("linkage.min_weight = {} must be between 0 and 64 (bits)", k.min_weight));
        }
        if let Some(t) = k.match_threshold
            && !(0.0..=128.0).contains(&t)
        {
            problems.push(format!("linkage.match_threshold = {t} must be between 0 and 128 (bits)"));
        }
        if !(0.5..=0.999_999).contains(&k.match_probability) {
            problems
                .push(format!("linkage.match_probability = {} must be between 0.5 and 0.999999", k.match_probability));
        }
        for (name, v) in [("forename_dice", k.forename_dice), ("surname_dice", k.surname_dice)] {
            if !(0.05..=1.0).contains(&v) {
                problems.push(format!("linkage.{name} = {v} must be between 0.05 and 1"));
            }
        }
        Options {
            min_weight: self.min_weight,
            forename_dice: self.forename_dice,
            surname_dice: self.surname_dice,
            score_threshold: self.match_threshold,
            match_probability: self.match_probability,
            household_veto: self.household_veto,
            co_resident: self.co_resident,
            ..Options::default()
        }
    }
}
