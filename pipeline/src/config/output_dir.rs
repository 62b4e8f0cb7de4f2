//! Where the output may not be: never the config's folder, the key, the agreements or the
//! inputs, since retention, erasure and `--force` delete under it.

use std::path::{Path, PathBuf};

/// Why `output` may not be the output directory: it is, or contains, one of the `protected`
/// places (named for the message). Retention, erasure and `--force` delete under the output
/// directory, so it must never hold the config, the key, the agreements or the inputs.
///
/// Judged on absolute, lexically normalised paths (`a/./b/../c` is `a/c`); symlinks are not
/// followed, since validation reads nothing from disk.
pub(super) fn output_dir_problems(output: &Path, protected: &[(String, PathBuf)]) -> Vec<String> {
    let out = normalised(output);
    let mut problems = Vec::new();
    for (what, path) in protected {
        let p = normalised(path);
        if p == out {
            problems.push(format!(
                "output.dir {} is {what}; give a directory of its own (for example \"output\")",
                output.display()
            ));
        } else if p.starts_with(&out) {
            problems.push(format!(
                "output.dir {} contains {what} ({}); give a directory of its own (for example \"output\")",
                output.display(),
                path.display()
            ));
        }
    }
    problems
}

/// `path` made absolute (against the working directory) with `.` and `..` resolved lexically.
fn normalised(path: &Path) -> PathBuf {
    use std::path::Component;
    let absolute = std::path::absolute(if path.as_os_str().is_empty() { Path::new(".") } else { path })
        .unwrap_or_else(|_| path.to_owned());
    let mut out = PathBuf::new();
    for c in absolute.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}
