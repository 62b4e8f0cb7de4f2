//! The `tellonce` command line: parse, validate, run, and map each failure to its exit code.
//!
//! The binary is thin: `main` calls [`main_with_args`]. Errors carry context with `anyhow`, and
//! each is tagged with the [`Exit`] code its kind deserves.

#[macro_use]
mod output;
mod args;
mod audit;
mod demo;
mod feeds;
mod hash_floor;
mod isa;
mod link;
mod link_explain;
mod link_model;
mod link_review;
pub mod panic_report;
mod progress_bar;
mod quarantine;
mod records;
mod rights;
mod schemas;
mod sources;
mod sources_infer;
mod stream;

use std::ffi::OsString;
use std::io::IsTerminal;

use anyhow::Context as _;
use clap::Parser;

pub use args::{Cli, Command};

use crate::config::Settings;
use crate::exit::Exit;
use crate::run::{self, RunError, RunOptions};
use crate::summary;

/// A failure with the exit code it maps to.
#[derive(Debug)]
pub struct Failure {
    /// The exit code.
    pub exit: Exit,
    /// What went wrong, with context.
    pub error: anyhow::Error,
}

/// Tags an error with its exit code.
pub(crate) trait ExitContext<T> {
    /// Tags the error of this result with `exit`.
    fn exit(self, exit: Exit) -> Result<T, Failure>;
}

impl<T, E: Into<anyhow::Error>> ExitContext<T> for Result<T, E> {
    fn exit(self, exit: Exit) -> Result<T, Failure> {
        self.map_err(|e| Failure { exit, error: e.into() })
    }
}

/// The exit code a run failure deserves.
pub(crate) fn run_failure(e: RunError) -> Failure {
    let exit = match &e {
        RunError::Audit(tellonce_governance::audit::AuditError::Torn { .. }) => Exit::Torn,
        RunError::Key(_)
        | RunError::Lookup(_)
        | RunError::Agreements(_)
        | RunError::Themes(_)
        | RunError::Unattributed(_)
        | RunError::Records(crate::records::RecordsError::InputNamed { .. }) => Exit::Config,
        RunError::Link(
            tellonce_build::link::LinkError::State { .. } | tellonce_build::link::LinkError::Decisions { .. },
        )
        | RunError::Explain(_) => Exit::Input,
        RunError::Output { .. }
        | RunError::Sink(_)
        | RunError::Busy { .. }
        | RunError::Audit(_)
        | RunError::Records(_)
        | RunError::Link(_) => Exit::Output,
        // Asked for what cannot be done (no [stream] section, a reset without a reason or of a
        // topic with no progress) is a usage error; anything else stopped the stream.
        RunError::Stream(e) if e.is_usage() => Exit::Config,
        RunError::Stream(_) => Exit::Input,
        RunError::Internal(_) => Exit::Internal,
    };
    Failure { exit, error: anyhow::Error::new(e) }
}

/// Parses `args` (program name first), runs the command and returns its exit code.
pub fn main_with_args<I, T>(args: I) -> Exit
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { Exit::Config } else { Exit::Success };
        }
    };
    init_logging(&cli);
    let result = dispatch(cli.command);
    // A broken pipe on stdout was swallowed (the reader had what it wanted); any other failure
    // to write what the command printed is an output error, unless the command failed anyway.
    let result = match (result, output::take_stdout_error()) {
        (Ok(_), Some(e)) => {
            Err(Failure { exit: Exit::Output, error: anyhow::Error::new(e).context("writing to standard output") })
        }
        (result, _) => result,
    };
    match result {
        Ok(exit) => exit,
        Err(f) => {
            let message = render_chain(&f.error);
            tracing::error!(exit_code = f.exit.code(), "{message}");
            errln!("error: {message}");
            f.exit
        }
    }
}

/// An error and its causes on one line, leaving out a cause whose text the line already holds
/// (the library errors repeat their source in their own message).
fn render_chain(error: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in error.chain() {
        let text = cause.to_string();
        if line.contains(&text) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&text);
    }
    line
}

fn init_logging(cli: &Cli) {
    let filter =
        tracing_subscriber::EnvFilter::try_new(&cli.log).unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = match cli.log_format {
        args::LogFormat::Json => builder.json().try_init(),
        args::LogFormat::Text => builder.with_ansi(std::io::stderr().is_terminal()).try_init(),
    };
}

fn dispatch(command: Command) -> Result<Exit, Failure> {
    match command {
        Command::Run(a) => {
            let settings = Settings::load(&a.config).exit(Exit::Config)?;
            let opts = RunOptions { force: a.force, as_of: a.as_of, allow_mass_withdrawal: a.allow_mass_withdrawal };
            let bar = progress_bar::Bar::new(!a.no_progress);
            let report = run::run_with_progress(&settings, &opts, &bar).map_err(run_failure)?;
            print_summary(&report, a.json)?;
            Ok(if report.has_rejected_inputs() { Exit::Input } else { Exit::Success })
        }
        Command::Isa(c) => isa::command(c),
        Command::Audit(c) => audit::command(c),
        Command::Sar(a) => rights::sar(&a),
        Command::Retention(c) => rights::command(c),
        Command::Schemas(c) => schemas::command(c),
        Command::Feeds(c) => feeds::command(c),
        Command::Keys(args::KeysCommand::New { path }) => {
            let id = tellonce_governance::create_key_file(&path).exit(Exit::Config)?;
            outln!("created key file {} (key id {id}); keep it out of version control and backups", path.display());
            Ok(Exit::Success)
        }
        Command::Quarantine(c) => quarantine::command(c),
        Command::Records(args::RecordsCommand::Reinstate(a)) => records::reinstate(&a),
        Command::Synth(a) => demo::synth(&a).map(|_| Exit::Success),
        Command::Demo(a) => demo::demo(&a),
        Command::Bench(a) => demo::bench(&a),
        Command::Build(a) => link::build(&a),
        Command::Stream(a) => stream::command(&a),
        Command::BenchStream(a) => stream::bench(&a),
        Command::StreamReset(a) => stream::reset(&a),
        Command::LinkEval(a) => link::link_eval(&a),
        Command::LinkModel(a) => link_model::link_model(&a),
        Command::LinkExplain(a) => link_explain::link_explain(&a),
        Command::LinkReview(a) => link_review::link_review(&a),
        Command::BenchLink(a) => link::bench_link(&a),
        Command::Themes(c) => link::themes(c),
        Command::Sources(c) => sources::command(c),
    }
}

/// Prints a run's summary on stdout, as a table or as JSON.
pub(crate) fn print_summary(report: &run::RunReport, json: bool) -> Result<(), Failure> {
    let text = if json {
        serde_json::to_string_pretty(&summary::to_json(report))
            .context("serialising the summary")
            .exit(Exit::Internal)?
            + "\n"
    } else {
        summary::to_text(report)
    };
    out!("{text}");
    Ok(())
}
