//! Standard output and standard error for every command, so that a closed pipe ends quietly.
//!
//! `println!` panics when stdout is gone (`tellonce audit verify | head -1`: exit 101 and a panic
//! message). Every command writes through [`out!`] and [`outln!`] instead: a broken pipe marks
//! stdout closed and later writes are skipped, so the command finishes its work and exits with
//! its own code; any other write error (a full disk under `> file`) is kept and turned into exit
//! 4 by [`take_stdout_error`] once the command has returned. [`errln!`] writes to stderr and
//! ignores failure (there is nowhere left to report it).

use std::io::{self, Write};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

/// Set once stdout is found closed or broken: nothing more is written to it.
static STDOUT_CLOSED: AtomicBool = AtomicBool::new(false);

/// The first stdout write error that was not a broken pipe.
static STDOUT_ERROR: Mutex<Option<io::Error>> = Mutex::new(None);

/// Writes formatted text to stdout and flushes it, swallowing a broken pipe (see the module).
pub(crate) fn write_stdout(args: std::fmt::Arguments<'_>) {
    if STDOUT_CLOSED.load(Ordering::Relaxed) {
        return;
    }
    let mut out = io::stdout().lock();
    if let Err(e) = out.write_fmt(args).and_then(|()| out.flush()) {
        note_stdout_error(e);
    }
}

/// Records a stdout write failure: a broken pipe quietly, anything else for exit 4.
fn note_stdout_error(e: io::Error) {
    STDOUT_CLOSED.store(true, Ordering::Relaxed);
    if e.kind() == io::ErrorKind::BrokenPipe {
        return;
    }
    if let Ok(mut first) = STDOUT_ERROR.lock() {
        first.get_or_insert(e);
    }
}

/// The first stdout write error that was not a broken pipe, if any (taken once).
pub(crate) fn take_stdout_error() -> Option<io::Error> {
    STDOUT_ERROR.lock().ok().and_then(|mut e| e.take())
}

/// Writes formatted text to stderr, ignoring failure.
pub(crate) fn write_stderr(args: std::fmt::Arguments<'_>) {
    let _ = io::stderr().lock().write_fmt(args);
}

/// `print!` to stdout that never panics (see the module).
macro_rules! out {
    ($($arg:tt)*) => { $crate::cli::output::write_stdout(format_args!($($arg)*)) };
}

/// `println!` to stdout that never panics (see the module).
macro_rules! outln {
    () => { $crate::cli::output::write_stdout(format_args!("\n")) };
    ($($arg:tt)*) => { $crate::cli::output::write_stdout(format_args!("{}\n", format_args!($($arg)*))) };
}

/// `eprintln!` that never panics (see the module).
macro_rules! errln {
    ($($arg:tt)*) => { $crate::cli::output::write_stderr(format_args!("{}\n", format_args!($($arg)*))) };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_broken_pipe_is_quiet_and_other_errors_are_kept() {
        note_stdout_error(io::Error::from(io::ErrorKind::BrokenPipe));
        assert!(take_stdout_error().is_none());
        note_stdout_error(io::Error::other("disk full"));
        note_stdout_error(io::Error::other("second"));
        assert_eq!(take_stdout_error().map(|e| e.to_string()), Some("disk full".to_owned()));
        assert!(take_stdout_error().is_none());
    }
}
