//! What the user typed: the command-line grammar, kept apart from the validated settings.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// tellonce: bring partner feeds together under information sharing agreements, pseudonymised at
/// the edge, into Parquet that analysts can query.
#[derive(Debug, Parser)]
#[command(name = "tellonce", version, about, long_about = None)]
pub struct Cli {
    /// Log format on stderr.
    #[arg(long, value_enum, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,
    /// Log level filter (also TELLONCE_LOG), e.g. `info`, `debug`, `tellonce=debug`.
    #[arg(long, env = "TELLONCE_LOG", default_value = "info", global = true)]
    pub log: String,
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// Log output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the configured file sources through validate → pseudonymise → staging Parquet.
    Run(RunArgs),
    /// Print the data dictionary.
    #[command(subcommand)]
    Schemas(SchemasCommand),
    /// Manage key files.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Inspect or export quarantined records.
    #[command(subcommand)]
    Quarantine(QuarantineCommand),
    /// Write synthetic multi-agency West Sussex data, a ready-to-run config and a key.
    Synth(SynthArgs),
    /// Synthesise, run and summarise in one command, with no external service.
    Demo(DemoArgs),
    /// Measure records/s and peak memory on synthetic rows of one feed.
    Bench(BenchArgs),
}

/// `tellonce run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The configuration file.
    #[arg(long, short)]
    pub config: PathBuf,
    /// Process inputs even if the same content was processed before.
    #[arg(long)]
    pub force: bool,
    /// Print the summary as JSON on stdout.
    #[arg(long)]
    pub json: bool,
    /// Never draw a progress bar.
    #[arg(long)]
    pub no_progress: bool,
}

/// `tellonce schemas …`.
#[derive(Debug, Subcommand)]
pub enum SchemasCommand {
    /// List the feeds and their schema versions.
    List,
    /// Show one feed's columns: type, role, sensitivity, checks and the staging columns made from it.
    Show {
        /// The feed.
        feed: String,
        /// Print as JSON.
        #[arg(long)]
        json: bool,
    },
}

/// `tellonce keys …`.
#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Create a new 256-bit key file readable by its owner only (mode 0600).
    New {
        /// Where to write it; an existing file is never overwritten.
        path: PathBuf,
    },
}

/// `tellonce quarantine …`.
#[derive(Debug, Subcommand)]
pub enum QuarantineCommand {
    /// Counts of quarantined records by feed, rule, column and input: never values.
    List {
        /// The configuration file (its output directory is read).
        #[arg(long, short)]
        config: PathBuf,
        /// Print as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Decrypt quarantined records for an authorised user to fix and replay (needs the key).
    Export {
        /// The configuration file (output directory and key file).
        #[arg(long, short)]
        config: PathBuf,
        /// Where to write the decrypted records (JSON Lines, created with mode 0600).
        #[arg(long)]
        out: PathBuf,
        /// Only this feed.
        #[arg(long)]
        feed: Option<String>,
    },
}

/// `tellonce synth`.
#[derive(Debug, Args)]
pub struct SynthArgs {
    /// Directory to write into.
    #[arg(long)]
    pub out: PathBuf,
    /// Number of children in the synthetic population.
    #[arg(long, default_value_t = 5_000)]
    pub children: usize,
    /// Random seed (the same seed gives the same files).
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
}

/// `tellonce demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Directory for the synthetic inputs, the key and the output.
    #[arg(long, default_value = "demo-out")]
    pub out: PathBuf,
    /// Number of children in the synthetic population.
    #[arg(long, default_value_t = 50_000)]
    pub children: usize,
    /// Random seed.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Print the summary as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

/// `tellonce bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// The feed to generate rows of.
    #[arg(long, default_value = "police")]
    pub feed: String,
    /// How many rows (comma-separated for several runs, e.g. 1000000,10000000).
    #[arg(long, value_delimiter = ',', default_value = "1000000")]
    pub rows: Vec<u64>,
    /// Working directory (default: a temporary directory, removed afterwards).
    #[arg(long)]
    pub dir: Option<PathBuf>,
}
