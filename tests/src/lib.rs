//! Shared helpers for the end-to-end tests: find (or build) the `tellonce` binary, run it, make
//! synthetic data, and read what it wrote.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// The `tellonce` binary of this build profile, built once if it is not there yet.
pub fn tellonce_bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        // target/<profile>/deps/e2e-<hash> → target/<profile>/tellonce
        let exe = std::env::current_exe().unwrap();
        let profile_dir = exe.parent().and_then(Path::parent).unwrap().to_path_buf();
        let bin = profile_dir.join(format!("tellonce{}", std::env::consts::EXE_SUFFIX));
        if !bin.exists() {
            let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
            let status = Command::new(cargo)
                .args(["build", "-p", "tellonce", "--bin", "tellonce"])
                .current_dir(workspace_root())
                .status()
                .expect("running cargo build for the tellonce binary");
            assert!(status.success(), "cargo build -p tellonce failed");
        }
        assert!(bin.exists(), "no tellonce binary at {}", bin.display());
        bin
    })
}

/// Runs `tellonce` with these arguments in `dir`.
pub fn tellonce(dir: &Path, args: &[&str]) -> Output {
    Command::new(tellonce_bin()).args(args).current_dir(dir).env_remove("TELLONCE_LOG").output().unwrap()
}

/// Runs `tellonce` and asserts it exited with `code`, showing its output if not.
pub fn tellonce_ok(dir: &Path, args: &[&str], code: i32) -> Output {
    let out = tellonce(dir, args);
    assert_eq!(
        out.status.code(),
        Some(code),
        "tellonce {args:?} exited {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Writes synthetic data with `children` children under `dir` (config at dir/tellonce.toml).
pub fn synth(dir: &Path, children: usize, seed: u64) -> PathBuf {
    let c = children.to_string();
    let s = seed.to_string();
    tellonce_ok(dir, &["synth", "--out", ".", "--children", &c, "--seed", &s], 0);
    dir.join("tellonce.toml")
}

/// Every file under `dir`, recursively, sorted.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else { continue };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() { stack.push(p) } else { out.push(p) }
        }
    }
    out.sort();
    out
}

/// The JSON summary printed by `run --json` or `demo --json`.
pub fn json_stdout(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", String::from_utf8_lossy(&out.stdout)))
}
