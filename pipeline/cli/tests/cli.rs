//! The binary's own smoke test. Its presence also makes `cargo test --workspace` build the
//! `tellonce` binary that the end-to-end tests in `tests/` run.

use std::process::Command;

#[test]
fn help_lists_the_commands_and_a_bad_flag_is_a_usage_error() {
    let bin = env!("CARGO_BIN_EXE_tellonce");
    let out = Command::new(bin).arg("--help").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for cmd in ["run", "schemas", "keys", "quarantine", "synth", "demo", "bench"] {
        assert!(text.contains(cmd), "help does not mention {cmd}:\n{text}");
    }
    let out = Command::new(bin).arg("--no-such-flag").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}
