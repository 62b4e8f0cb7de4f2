//! The `tellonce` binary: a thin wrapper over [`tellonce::cli`].

fn main() -> std::process::ExitCode {
    tellonce::cli::main_with_args(std::env::args_os()).into()
}
