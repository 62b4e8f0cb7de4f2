//! What the last build that scored pairs leaves in `state/link/` for the commands that explain
//! it: the model (`link-model`, `link-explain`) and the clerical-review sample (`link-review`).

use std::path::Path;

use tellonce_governance::audit::LinkageModel;
use tellonce_output::layout::{MODEL_PATH, REVIEW_PATH};

use super::LinkError;
use super::quality::ReviewPair;

/// Writes both files, each atomically.
pub fn write(out: &Path, model: &LinkageModel, review: &[ReviewPair]) -> Result<(), LinkError> {
    write_json(out, MODEL_PATH, model)?;
    write_json(out, REVIEW_PATH, &review)
}

/// The model of the last build that scored pairs.
pub fn read_model(out: &Path) -> Result<LinkageModel, LinkError> {
    read_json(out, MODEL_PATH)
}

/// The clerical-review sample of the last build that scored pairs.
pub fn read_review(out: &Path) -> Result<Vec<ReviewPair>, LinkError> {
    read_json(out, REVIEW_PATH)
}

fn write_json<T: serde::Serialize + ?Sized>(out: &Path, rel: &str, value: &T) -> Result<(), LinkError> {
    let path = out.join(rel);
    let json = serde_json::to_vec_pretty(value).map_err(|e| LinkError::Internal(e.to_string()))?;
    tellonce_connectors::atomic::write_atomic(&path, &json).map_err(|source| LinkError::Output { path, source })
}

fn read_json<T: serde::de::DeserializeOwned>(out: &Path, rel: &str) -> Result<T, LinkError> {
    let path = out.join(rel);
    let state = |message: String| LinkError::State { path: path.clone(), message };
    let bytes =
        std::fs::read(&path).map_err(|e| state(format!("{e} (has a build scored pairs in this output yet?)")))?;
    serde_json::from_slice(&bytes).map_err(|e| state(format!("not readable: {e}")))
}
