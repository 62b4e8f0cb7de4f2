//! What the user typed: the command-line grammar, kept apart from the validated settings.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

mod link;
pub use link::{BenchLinkArgs, LinkEvalArgs, LinkExplainArgs, LinkModelArgs, LinkOutputArgs, LinkReviewArgs};

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
    /// Run the configured file sources through validate → govern → pseudonymise → staging Parquet.
    Run(RunArgs),
    /// Check, explain and compare information sharing agreements.
    #[command(subcommand)]
    Isa(IsaCommand),
    /// Verify the audit log, or write it as a report for a governance lead.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Subject access (and erasure): every record held about one person, found by pseudonym.
    Sar(SarArgs),
    /// Delete outputs whose agreement's retention has run out.
    #[command(subcommand)]
    Retention(RetentionCommand),
    /// Print the data dictionary.
    #[command(subcommand)]
    Schemas(SchemasCommand),
    /// The feeds: built in, and a deployment's own definitions (`[feeds] dir`); check them with
    /// the agreements and the theme mapping, or write the built-in ones out.
    #[command(subcommand)]
    Feeds(FeedsCommand),
    /// Manage key files.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Inspect or export quarantined records.
    #[command(subcommand)]
    Quarantine(QuarantineCommand),
    /// Partner records over time: lift withdrawals found to be mistaken.
    #[command(subcommand)]
    Records(RecordsCommand),
    /// Write synthetic multi-agency West Sussex data, example agreements, a ready-to-run config
    /// and a key.
    Synth(SynthArgs),
    /// Synthesise, run and summarise in one command, with no external service.
    Demo(DemoArgs),
    /// Measure records/s and peak memory on synthetic rows of one feed.
    Bench(BenchArgs),
    /// Link everything staged so far into persons and families (the build tier), without
    /// ingesting: writes `links/` and `id_history/`, keeps ids stable against the last build.
    Build(BuildArgs),
    /// Consume the configured Kafka topics into the staging dataset until SIGINT or SIGTERM
    /// (exactly-once effect: offsets are committed only after their records are durable).
    Stream(StreamArgs),
    /// Measure `stream`: produce synthetic police messages to a broker (an in-process mock
    /// cluster unless `--brokers` is given), stream them into Parquet, print messages/s, batch
    /// latency and peak memory.
    BenchStream(BenchStreamArgs),
    /// Start a topic that was deleted and made again over: record in the audit log that its
    /// stream progress is void, so that sessions read it from its start in a new epoch (stop
    /// every stream session of the output first).
    StreamReset(StreamResetArgs),
    /// Score `links/` against a ground-truth file: pairwise precision, recall and F1.
    LinkEval(LinkEvalArgs),
    /// The scoring model of the last build: m, u and the weight of every comparison level, as a
    /// table and a match-weight chart (each build's model is also in the audit log).
    LinkModel(LinkModelArgs),
    /// Why one record is linked as it is: each pair it forms with the records of its person and
    /// with its other candidates, weighed field by field as a waterfall of bits. For an officer
    /// checking a link; recorded in the audit log. Shows record references, never a value.
    LinkExplain(LinkExplainArgs),
    /// The clerical-review sample of the last build: pairs near the threshold (record references
    /// and levels only), with the precision and recall the model estimates, for officers to check
    /// in the source systems where no truth file exists.
    LinkReview(LinkReviewArgs),
    /// Measure linkage: records/s and peak memory linking new records against an existing index.
    BenchLink(BenchLinkArgs),
    /// The Supporting Families theme mapping.
    #[command(subcommand)]
    Themes(ThemesCommand),
    /// Check the configured sources before a run: each source mapping against its file.
    #[command(subcommand)]
    Sources(SourcesCommand),
}

/// `tellonce sources …`.
#[derive(Debug, Subcommand)]
pub enum SourcesCommand {
    /// Read every configured source through its mapping (a sample, or all of it) and report what
    /// a run would refuse: mapped headings the file lacks, codes a value map leaves out, dates no
    /// format reads, other values the validate stage would quarantine. Counts and line numbers
    /// only, never a value. Exits 3 if any source has an error.
    Check {
        /// The configuration file.
        #[arg(long, short)]
        config: PathBuf,
        /// Records to read from each file.
        #[arg(long, default_value_t = 10_000, conflicts_with = "all")]
        rows: u64,
        /// Read every record of each file.
        #[arg(long)]
        all: bool,
        /// Print as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Profile a partner file (a sample of its rows) and propose a source mapping for a feed:
    /// headings placed with their confidence, the file's delimiter, encoding and preamble, date
    /// formats, value maps for the codes seen, and what could not be placed, as comments for
    /// the person who reviews it. Prints no value other than codes seen often in code columns.
    Infer {
        /// The partner file (CSV or other delimited text, or an `.xlsx`, `.xls` or `.ods` workbook).
        file: PathBuf,
        /// The feed it is an extract of.
        #[arg(long)]
        feed: String,
        /// Where to write the proposed mapping (never over an existing file); standard output
        /// if not given.
        #[arg(long)]
        out: Option<PathBuf>,
        /// The workbook sheet (default the first).
        #[arg(long)]
        sheet: Option<String>,
        /// Rows to sample.
        #[arg(long, default_value_t = 5_000)]
        rows: usize,
        /// A configuration whose `[feeds] dir` defines the feed, if it is not built in.
        #[arg(long, short)]
        config: Option<PathBuf>,
    },
}

/// `tellonce themes`.
#[derive(Debug, Subcommand)]
pub enum ThemesCommand {
    /// Print the mapping from feed events to headline outcomes, with the reason for each, and
    /// the event types that map to nothing.
    Explain {
        /// Use the mapping this configuration names (default: the embedded one).
        #[arg(long, short, conflicts_with = "file")]
        config: Option<PathBuf>,
        /// Or this mapping file.
        #[arg(long)]
        file: Option<PathBuf>,
    },
}

/// `tellonce build`.
#[derive(Debug, Args)]
pub struct BuildArgs {
    /// The configuration file.
    #[arg(long, short)]
    pub config: PathBuf,
    /// Print the report as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

/// `tellonce stream`.
#[derive(Debug, Args)]
pub struct StreamArgs {
    /// The configuration file (with a `[stream]` section).
    #[arg(long, short)]
    pub config: PathBuf,
    /// Stop once no message has arrived for this many milliseconds.
    #[arg(long)]
    pub idle_exit_ms: Option<u64>,
    /// Stop once this many messages have been read.
    #[arg(long)]
    pub max_messages: Option<u64>,
    /// Run the build tier (linkage and outcome datasets) over the staging dataset on stopping.
    #[arg(long)]
    pub build: bool,
    /// Print the report as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

/// `tellonce stream-reset`.
#[derive(Debug, Args)]
pub struct StreamResetArgs {
    /// The configuration file.
    #[arg(long, short)]
    pub config: PathBuf,
    /// The topic whose progress to reset.
    #[arg(long)]
    pub topic: String,
    /// Why (kept in the audit log and shown in its report).
    #[arg(long)]
    pub reason: String,
    /// Print the result as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

/// `tellonce bench-stream`.
#[derive(Debug, Args)]
pub struct BenchStreamArgs {
    /// Messages to produce and stream.
    #[arg(long, default_value = "1000000")]
    pub messages: u64,
    /// A broker to use (host:port) instead of librdkafka's in-process mock cluster.
    #[arg(long)]
    pub brokers: Option<String>,
    /// Partitions of the benchmark topic.
    #[arg(long, default_value = "3")]
    pub partitions: i32,
    /// Messages per batch.
    #[arg(long, default_value = "50000")]
    pub batch_rows: usize,
    /// Produce this many messages a second while the stream runs (measures latency from
    /// produce to durable), instead of all of them before it starts (measures throughput).
    #[arg(long)]
    pub rate: Option<u64>,
    /// With `--rate`: start producing this long after the stream starts, so that joining the
    /// group is not counted as latency.
    #[arg(long, default_value = "5000")]
    pub warmup_ms: u64,
    /// `max_batch_ms`: a batch closes this long after its first message.
    #[arg(long, default_value = "1000")]
    pub batch_ms: u64,
    /// A librdkafka property for the stream's consumer, `KEY=VALUE` (repeatable), as
    /// `[stream.properties]` would give it.
    #[arg(long = "property", value_name = "KEY=VALUE")]
    pub properties: Vec<String>,
    /// Working directory (default: a temporary directory, removed afterwards).
    #[arg(long)]
    pub dir: Option<PathBuf>,
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
    /// Apply snapshots that would withdraw more of a feed's records than their source's
    /// `max_withdrawal_share` (default 20 %); without it such a snapshot is held.
    #[arg(long)]
    pub allow_mass_withdrawal: bool,
    /// Print the summary as JSON on stdout.
    #[arg(long)]
    pub json: bool,
    /// Never draw a progress bar.
    #[arg(long)]
    pub no_progress: bool,
    /// Judge agreements as of this processing date (YYYY-MM-DD) instead of today, e.g. to
    /// replay a past run.
    #[arg(long, value_parser = parse_day)]
    pub as_of: Option<i32>,
}

/// A `YYYY-MM-DD` date as days since 1970-01-01.
pub fn parse_day(text: &str) -> Result<i32, String> {
    tellonce_schemas::identifiers::dates::parse(text)
        .map_err(|rule| format!("{text:?} is not a date (YYYY-MM-DD): {}", rule.code()))
}

/// Where the agreements are: a directory, or the one a configuration names.
#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
pub struct AgreementsAt {
    /// The agreements directory.
    #[arg(long)]
    pub agreements: Option<PathBuf>,
    /// A configuration file; its `[governance] agreements` directory is used.
    #[arg(long, short)]
    pub config: Option<PathBuf>,
}

/// `tellonce isa …`.
#[derive(Debug, Subcommand)]
pub enum IsaCommand {
    /// Report every problem in a directory of agreements at once, with file and line; exits 2 if
    /// any is an error.
    Lint {
        /// The agreements directory.
        dir: PathBuf,
        /// Judge review and end dates as of this date (default today).
        #[arg(long, value_parser = parse_day)]
        as_of: Option<i32>,
        /// A folder of feed definitions the agreements may govern, beside the built-in feeds (a
        /// deployment's `[feeds] dir`).
        #[arg(long)]
        feeds: Option<PathBuf>,
    },
    /// In plain words: what happens to each field of a feed, under which agreement and clause,
    /// and where it ends up.
    Explain {
        /// Where the agreements are.
        #[command(flatten)]
        at: AgreementsAt,
        /// The feed.
        #[arg(long)]
        feed: String,
        /// Only this field.
        #[arg(long)]
        field: Option<String>,
        /// The processing date (default today).
        #[arg(long, value_parser = parse_day)]
        as_of: Option<i32>,
    },
    /// Write the example agreements (one per feed) into a directory, as a starting point.
    Examples {
        /// The directory (created if needed); an existing file is never overwritten.
        dir: PathBuf,
    },
    /// What a proposed change would change: fields newly shared or withdrawn, outputs affected.
    Diff {
        /// The agreement in force (a file or a directory).
        old: PathBuf,
        /// The proposed agreement (a file or a directory).
        new: PathBuf,
    },
}

/// `tellonce audit …`.
#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check the whole hash chain, every entry's HMAC and every output file's hash; names the
    /// first bad entry and exits 5 if anything is wrong (6 for a torn final entry). Also lists
    /// every file under the output's datasets that the log does not record (exit 5), and stray
    /// temporary files.
    Verify {
        /// The configuration file (output directory and key file).
        #[arg(long, short)]
        config: PathBuf,
        /// Move the files the log does not record to `unrecorded/<time>/` (keeping their paths),
        /// one audit entry each, and clear orphaned temporary files; takes the output to itself.
        #[arg(long)]
        prune: bool,
    },
    /// Cut a torn final entry (a write cut short by a full disk or a power loss) off the audit
    /// log, and record that in the log; refuses anything that is not a torn final entry.
    Repair {
        /// The configuration file (output directory and key file).
        #[arg(long, short)]
        config: PathBuf,
    },
    /// Write one self-contained HTML page for a governance lead.
    Report {
        /// The configuration file (output directory and key file).
        #[arg(long, short)]
        config: PathBuf,
        /// Where to write the page.
        #[arg(long)]
        out: PathBuf,
    },
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
    /// List the datasets the build writes for analysts (links, outcomes, aggregates).
    Datasets,
    /// Show one dataset's columns, types and descriptions, and how it is partitioned.
    Dataset {
        /// The dataset (see `schemas datasets`).
        name: String,
        /// Print as JSON.
        #[arg(long)]
        json: bool,
    },
}

/// `tellonce feeds …`.
#[derive(Debug, Subcommand)]
pub enum FeedsCommand {
    /// List the feeds and their versions, built in or from the deployment's definitions.
    List {
        /// A configuration whose `[feeds] dir` adds feeds.
        #[arg(long, short)]
        config: Option<PathBuf>,
    },
    /// Show one feed at its newest version (or `--version`): columns, roles, checks and staging
    /// columns.
    Show {
        /// The feed.
        feed: String,
        /// A configuration whose `[feeds] dir` adds feeds.
        #[arg(long, short)]
        config: Option<PathBuf>,
        /// The schema version (default the newest).
        #[arg(long)]
        version: Option<u32>,
        /// Print as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Report every problem at once, as `file:line:column: error[rule]: message`: in the feed
    /// definitions, and (with `--config`) in the agreements and the theme mapping checked against
    /// them. Exits 2 if there is any.
    Lint {
        /// A configuration: its feeds, agreements and theme mapping are checked.
        #[arg(long, short, conflicts_with = "dir", required_unless_present = "dir")]
        config: Option<PathBuf>,
        /// A directory of feed definitions to check on its own.
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// Write the built-in feed definitions to a directory, as a starting point for a new feed or a
    /// new version (an existing file is never overwritten).
    Write {
        /// The directory (created if missing).
        dir: PathBuf,
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

/// `tellonce records …`.
#[derive(Debug, Subcommand)]
pub enum RecordsCommand {
    /// Lift withdrawals found to be mistaken (a truncated snapshot confirmed): the next input
    /// sending the records stages them as new. Erasures are never lifted.
    Reinstate(ReinstateArgs),
}

/// `tellonce records reinstate`.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("which").required(true).args(["record", "withdrawn_by"])))]
pub struct ReinstateArgs {
    /// The configuration file (output directory and key file).
    #[arg(long, short)]
    pub config: PathBuf,
    /// The feed.
    #[arg(long)]
    pub feed: String,
    /// A record reference (`record_id`) whose withdrawal to lift; repeat for more.
    #[arg(long)]
    pub record: Vec<String>,
    /// Lift every withdrawal still standing of this input: its id (its rows' `_input`), or its
    /// path where only one input came from it.
    #[arg(long)]
    pub withdrawn_by: Option<String>,
    /// Why (kept in the audit log and shown in its report).
    #[arg(long)]
    pub reason: String,
    /// Count what would be lifted, and change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Print the result as JSON on stdout.
    #[arg(long)]
    pub json: bool,
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
    /// The error model: `default` (the slips partners usually make) or `harsh` (also mistyped
    /// dates of birth, missing and swapped names, changed surnames, OCR slips, new postcodes).
    #[arg(long, default_value = "default", value_parser = ["default", "harsh"])]
    pub errors: String,
    /// Also write this many monthly extracts of every feed under `months/` (cumulative
    /// snapshots, deltas and withdrawals files; see README "Partner records over time").
    #[arg(long, default_value_t = 0)]
    pub months: u32,
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
    /// The error model of the synthetic data: `default` or `harsh` (see `tellonce synth`).
    #[arg(long, default_value = "default", value_parser = ["default", "harsh"])]
    pub errors: String,
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
    /// Measure this file of the feed (CSV, JSON Lines, `.xlsx`, `.xls` or `.ods`, by its extension; canonical
    /// headings) instead of generated rows; `--rows` is then ignored.
    #[arg(long)]
    pub input: Option<PathBuf>,
}

/// `tellonce sar`.
#[derive(Debug, Args)]
pub struct SarArgs {
    /// The configuration file (output directory, key file, agreements).
    #[arg(long, short)]
    pub config: PathBuf,
    /// The officer making the request (recorded in the audit log).
    #[arg(long)]
    pub officer: String,
    /// The request's case reference (recorded in the audit log).
    #[arg(long)]
    pub reference: String,
    /// A file of `name=value` lines (nhs_number, upn, pnc_id, forename, surname, date_of_birth,
    /// postcode), or `-` for standard input. Identifiers are never taken as arguments, which
    /// other users can read in the process list and shell history.
    #[arg(long, default_value = "-")]
    pub identifiers: PathBuf,
    /// Erase the records found, where their agreement allows erasure.
    #[arg(long)]
    pub erase: bool,
    /// Print as JSON.
    #[arg(long)]
    pub json: bool,
}

/// `tellonce retention …`.
#[derive(Debug, Subcommand)]
pub enum RetentionCommand {
    /// Delete every output file past its agreement's retention, and log each deletion.
    Apply {
        /// The configuration file (output directory and key file).
        #[arg(long, short)]
        config: PathBuf,
        /// List what would be deleted, and delete nothing.
        #[arg(long)]
        dry_run: bool,
        /// Judge as of this date (YYYY-MM-DD) instead of today.
        #[arg(long, value_parser = parse_day)]
        as_of: Option<i32>,
    },
}
