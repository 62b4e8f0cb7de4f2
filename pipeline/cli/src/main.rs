//! The `tellonce` binary: the command line over the pipeline library. It parses and validates
//! the command, runs it through [`tellonce_pipeline`], prints summaries and maps every failure to
//! its exit code ([`exit::Exit`]). Only this crate uses clap, anyhow and indicatif.

mod cli;
mod exit;
mod summary;

// The library's modules under this crate's root, so that the CLI names them as it always has.
use tellonce_build::{datasets, link, outcomes};
use tellonce_output::strays;
use tellonce_pipeline::{config, examples, records, retention, run, stream, subject};
use tellonce_synth as synth;

use exit::Exit;

fn main() -> std::process::ExitCode {
    cli::panic_report::install();
    // A panic is a bug: exit 1, as the exit codes document, not Rust's 101.
    match std::panic::catch_unwind(|| cli::main_with_args(std::env::args_os())) {
        Ok(exit) => exit.into(),
        Err(_) => Exit::Internal.into(),
    }
}
