//! The `tellonce` binary: a thin wrapper over [`tellonce::cli`].

use tellonce::exit::Exit;

fn main() -> std::process::ExitCode {
    tellonce::cli::panic_report::install();
    // A panic is a bug: exit 1, as the exit codes document, not Rust's 101.
    match std::panic::catch_unwind(|| tellonce::cli::main_with_args(std::env::args_os())) {
        Ok(exit) => exit.into(),
        Err(_) => Exit::Internal.into(),
    }
}
