//! The arguments of the linkage commands: `link-eval`, `link-model`, `link-review`,
//! `link-explain` and `bench-link`.

use std::path::PathBuf;

use clap::Args;

/// Which output a linkage command reads: a configuration's, or a directory given as it is.
#[derive(Debug, Args)]
pub struct LinkOutputArgs {
    /// The configuration whose output to read.
    #[arg(long, short, conflicts_with = "output", required_unless_present = "output")]
    pub config: Option<PathBuf>,
    /// Or the output directory itself.
    #[arg(long)]
    pub output: Option<PathBuf>,
}

/// `tellonce link-eval`.
#[derive(Debug, Args)]
pub struct LinkEvalArgs {
    /// The ground truth: CSV with `feed,record_id,person_id,family_id` (as `synth` writes it).
    #[arg(long)]
    pub truth: PathBuf,
    /// The output holding `links/`.
    #[command(flatten)]
    pub from: LinkOutputArgs,
    /// Print the scores as JSON.
    #[arg(long)]
    pub json: bool,
}

/// `tellonce link-model`.
#[derive(Debug, Args)]
pub struct LinkModelArgs {
    /// The output holding the model.
    #[command(flatten)]
    pub from: LinkOutputArgs,
    /// Print the model as JSON.
    #[arg(long)]
    pub json: bool,
}

/// `tellonce link-review`.
#[derive(Debug, Args)]
pub struct LinkReviewArgs {
    /// The output holding the sample.
    #[command(flatten)]
    pub from: LinkOutputArgs,
    /// Print as JSON.
    #[arg(long, conflicts_with = "csv")]
    pub json: bool,
    /// Print as CSV with an empty `same_person` column for the reviewer to fill in.
    #[arg(long)]
    pub csv: bool,
    /// Officers' decisions (the sheet, filled in) to tally against the sample (default: the
    /// configuration's `[linkage] decisions`).
    #[arg(long)]
    pub decisions: Option<PathBuf>,
}

/// `tellonce link-explain`.
#[derive(Debug, Args)]
pub struct LinkExplainArgs {
    /// The configuration file (output directory, key file, agreements).
    #[arg(long, short)]
    pub config: PathBuf,
    /// The record, as FEED:RECORD_ID (for example `housing:HCLIC-00000123`).
    #[arg(long)]
    pub record: String,
    /// The officer asking (recorded in the audit log).
    #[arg(long)]
    pub officer: String,
    /// The case reference the question is asked under (recorded in the audit log).
    #[arg(long)]
    pub reference: String,
    /// Most pairs shown of each kind (the record's person; its other candidates).
    #[arg(long, default_value_t = 10)]
    pub limit: usize,
    /// Print as JSON.
    #[arg(long)]
    pub json: bool,
}

/// `tellonce bench-link`.
#[derive(Debug, Args)]
pub struct BenchLinkArgs {
    /// Children in the synthetic population of each half (the index, then the new records).
    #[arg(long, default_value = "200000")]
    pub children: usize,
    /// Working directory (default: a temporary directory, removed afterwards).
    #[arg(long)]
    pub dir: Option<PathBuf>,
}
