//! Command-line arguments (clap derive). Parsing only; `main.rs` wires the stages.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::report::Format;

#[derive(Debug, Parser)]
#[command(
    name = "ddb-guard",
    version,
    about = "Guard CloudFormation templates so that no DynamoDB table is deleted by accident"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check templates: every DynamoDB table must be retained on delete and on replace.
    Check(CheckArgs),
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Files or directories to check (default: the current directory).
    pub paths: Vec<PathBuf>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,

    /// Do not respect .gitignore, .ignore and git exclude files (CDK's cdk.out is usually ignored).
    #[arg(long)]
    pub no_ignore: bool,

    /// Also walk hidden files and directories.
    #[arg(long)]
    pub hidden: bool,

    /// Follow symbolic links while walking directories.
    #[arg(short = 'L', long)]
    pub follow: bool,

    /// Number of threads (default: all cores).
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..))]
    pub threads: Option<u16>,

    /// When to use colours in human output.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,

    /// Largest file to read, in bytes; larger files are an error.
    #[arg(long, default_value_t = 64 * 1024 * 1024)]
    pub max_file_size: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}
