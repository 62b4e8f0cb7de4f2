//! The example agreements, one per feed, shipped with the binary so that `synth`, `demo`,
//! `bench` and `isa examples` can write them: a reviewed starting point, never a signed
//! agreement.

use std::path::{Path, PathBuf};

/// `(file name, text)` of each example agreement, from `pipeline/agreements/`.
pub const AGREEMENTS: [(&str, &str); 7] = [
    ("health_visiting.toml", include_str!("../agreements/health_visiting.toml")),
    ("camhs.toml", include_str!("../agreements/camhs.toml")),
    ("police.toml", include_str!("../agreements/police.toml")),
    ("youth_justice.toml", include_str!("../agreements/youth_justice.toml")),
    ("housing.toml", include_str!("../agreements/housing.toml")),
    ("district.toml", include_str!("../agreements/district.toml")),
    ("education.toml", include_str!("../agreements/education.toml")),
];

/// Writes the example agreements into `dir` (created if needed). A file that already exists
/// is left as it is: it may have been edited. Returns the files written.
pub fn write_agreements(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    let mut written = Vec::new();
    for (name, text) in AGREEMENTS {
        let path = dir.join(name);
        if path.exists() {
            continue;
        }
        tellonce_connectors::atomic::write_atomic(&path, text.as_bytes())?;
        written.push(path);
    }
    Ok(written)
}
