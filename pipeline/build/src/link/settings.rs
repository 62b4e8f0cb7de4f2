//! `[linkage]`: the matcher's settings as a deployment writes them, checked into the
//! [`Options`] the build links with. Beside the matcher, which owns their meaning.

use serde::Deserialize;

use super::cluster::Options;

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
    /// Least weight (bits) of a link made by the scoring pass.
    pub match_threshold: f64,
}

impl Default for LinkageFile {
    fn default() -> Self {
        let d = Options::default();
        LinkageFile {
            enabled: true,
            min_weight: d.min_weight,
            forename_dice: d.forename_dice,
            surname_dice: d.surname_dice,
            match_threshold: d.score_threshold,
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
        if !(0.0..=128.0).contains(&k.match_threshold) {
            problems.push(format!("linkage.match_threshold = {} must be between 0 and 128 (bits)", k.match_threshold));
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
            ..Options::default()
        }
    }
}
