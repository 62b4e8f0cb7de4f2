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

/// The `tellonce` binary of this build profile, (re)built once per test process.
///
/// `cargo test -p tellonce-tests` builds the `tellonce` library for the tests but not its
/// binary, so a binary left in the target directory by an earlier build may be older than the
/// sources: `cargo build` is run once first (a no-op when it is up to date). Set
/// `TELLONCE_BIN` to test a given binary instead.
pub fn tellonce_bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        if let Some(bin) = std::env::var_os("TELLONCE_BIN") {
            let bin = PathBuf::from(bin);
            assert!(bin.exists(), "TELLONCE_BIN: no binary at {}", bin.display());
            return bin;
        }
        // target/<profile>/deps/e2e-<hash> → target/<profile>/tellonce
        let exe = std::env::current_exe().unwrap();
        let profile_dir = exe.parent().and_then(Path::parent).unwrap().to_path_buf();
        let bin = profile_dir.join(format!("tellonce{}", std::env::consts::EXE_SUFFIX));
        let profile = profile_dir.file_name().and_then(|n| n.to_str()).unwrap_or("debug");
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
        let mut build = Command::new(cargo);
        build.args(["build", "-p", "tellonce", "--bin", "tellonce"]).current_dir(workspace_root());
        if profile != "debug" {
            // target/release for `--release`, target/<name> for a custom profile.
            build.args(["--profile", profile]);
        }
        // The target directory the test binary runs from, wherever it is.
        if let Some(target) = profile_dir.parent() {
            build.env("CARGO_TARGET_DIR", target);
        }
        // Cargo sets these for the test process; build scripts that watch them (ring's does)
        // would see a change and rebuild on every alternation with the outer `cargo test`.
        for (name, _) in std::env::vars_os() {
            let name = name.to_string_lossy();
            let set_for_tests = ["CARGO_PKG_", "CARGO_BIN_EXE_"].iter().any(|p| name.starts_with(p))
                || [
                    "CARGO_MANIFEST_DIR",
                    "CARGO_MANIFEST_PATH",
                    "CARGO_MANIFEST_LINKS",
                    "CARGO_CRATE_NAME",
                    "CARGO_BIN_NAME",
                    "CARGO_PRIMARY_PACKAGE",
                    "CARGO_TARGET_TMPDIR",
                    "CARGO_RUSTC_CURRENT_DIR",
                    "OUT_DIR",
                ]
                .contains(&name.as_ref());
            if set_for_tests {
                build.env_remove(name.as_ref());
            }
        }
        let status = build.status().expect("running cargo build for the tellonce binary");
        assert!(status.success(), "cargo build -p tellonce --bin tellonce failed");
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
