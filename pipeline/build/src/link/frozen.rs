//! A reviewed model, frozen: `[linkage] model = "PATH"` names a model file a build wrote
//! (`state/link/model.json`, shown by `tellonce link-model`), which a governance lead has read
//! and kept. Builds then score with it and estimate nothing: the same records are weighed the
//! same whenever they are linked, a change of weights is a decision (a new file, its hash in the
//! audit log) rather than a side effect of new data, and a build need not train at all.

use std::path::{Path, PathBuf};

use tellonce_governance::audit::{FrozenFrom, LinkageModel};

use super::LinkError;
use super::score::MATCHER_VERSION;
use super::train::Model;

/// A frozen model and where it came from.
#[derive(Debug, Clone)]
pub struct FrozenModel {
    /// The model.
    pub model: Model,
    /// The file and its hash, for the audit log.
    pub from: FrozenFrom,
}

impl FrozenModel {
    /// Reads and checks the model file at `path`: it must be of this matcher, and give every
    /// level an `m` and a `u` in (0, 1], and a prior in (0, 1).
    pub fn load(path: &Path) -> Result<FrozenModel, LinkError> {
        let bad = |message: String| LinkError::State { path: PathBuf::from(path), message };
        let bytes = std::fs::read(path).map_err(|e| bad(format!("cannot read the frozen model: {e}")))?;
        let record: LinkageModel =
            serde_json::from_slice(&bytes).map_err(|e| bad(format!("not a model file (line {}): {e}", e.line())))?;
        if record.matcher != MATCHER_VERSION {
            return Err(bad(format!(
                "the model is of matcher {}, and this build's matcher is {MATCHER_VERSION}: its levels may mean \
                 other things; review a model a build of this version wrote",
                record.matcher
            )));
        }
        if !(record.prior > 0.0 && record.prior < 1.0) {
            return Err(bad("prior must be between 0 and 1".to_owned()));
        }
        let documented = Model::documented();
        let mut named = 0usize;
        for (field, levels) in &documented.fields {
            for level in levels.iter().skip(1) {
                let Some(l) = record.levels.iter().find(|l| l.field == *field && l.level == level.name) else {
                    return Err(bad(format!("level {field}.{} is missing", level.name)));
                };
                for (name, v) in [("m", l.m), ("u", l.u)] {
                    if !(v > 0.0 && v <= 1.0) {
                        return Err(bad(format!("level {field}.{}: {name} must be in (0, 1]", level.name)));
                    }
                }
                named += 1;
            }
        }
        if record.levels.len() != named {
            return Err(bad(format!("{} levels named, and this matcher has {named}", record.levels.len())));
        }
        let sha256 = tellonce_connectors::hashing::sha256_file(path).map_err(|e| bad(e.to_string()))?;
        Ok(FrozenModel {
            model: Model::from_record(&record),
            from: FrozenFrom { path: path.display().to_string(), sha256 },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::link::levels::ix;

    fn write(dir: &Path, record: &LinkageModel) -> PathBuf {
        let path = dir.join("model.json");
        std::fs::write(&path, serde_json::to_vec(record).unwrap()).unwrap();
        path
    }

    #[test]
    fn a_model_of_this_matcher_with_every_level_loads_and_anything_else_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let mut trained = Model::documented();
        trained.prior = 0.02;
        trained.fields[0].1[usize::from(ix::EXACT)].m = 0.5;
        let record = trained.record(MATCHER_VERSION, 20.0);
        let frozen = FrozenModel::load(&write(dir.path(), &record)).unwrap();
        assert_eq!(frozen.model.prior, 0.02);
        assert_eq!(frozen.model.fields[0].1[usize::from(ix::EXACT)].m, 0.5);
        assert_eq!(frozen.from.sha256.len(), 64);

        let refused = |r: &LinkageModel| FrozenModel::load(&write(dir.path(), r)).unwrap_err().to_string();
        let older = LinkageModel { matcher: "rules-1".to_owned(), ..record.clone() };
        assert!(refused(&older).contains("matcher rules-1"), "{}", refused(&older));
        let mut short = record.clone();
        short.levels.pop();
        assert!(refused(&short).contains("is missing"), "{}", refused(&short));
        let mut zero = record.clone();
        zero.levels[0].u = 0.0;
        assert!(refused(&zero).contains("u must be in (0, 1]"), "{}", refused(&zero));
        let mut extra = record.clone();
        extra.levels.push(extra.levels[0].clone());
        assert!(refused(&extra).contains("levels named"), "{}", refused(&extra));
        std::fs::write(dir.path().join("model.json"), b"{").unwrap();
        let unreadable = FrozenModel::load(&dir.path().join("model.json")).unwrap_err().to_string();
        assert!(unreadable.contains("not a model file"), "{unreadable}");
    }
}
