//! Command-line arguments (clap derive). Parsing only; the modules under
//! [`commands`](crate::commands) wire the stages.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::load::Limits;
use crate::report::data::FailOn;
use crate::report::inventory::InventoryFormat;
use crate::report::Output;

/// `--version`: the package version, with the git commit and build date when built from a
/// checkout (`build.rs`).
pub const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), env!("DDB_GUARD_BUILD_INFO"));

/// The config file's name: `check` looks for it, `init` writes it.
pub const CONFIG_FILE_NAME: &str = "ddb-guard.toml";

#[derive(Debug, Parser)]
#[command(
    name = "ddb-guard",
    version = VERSION,
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
    /// Check NEW and compare it with OLD (two files or two directories): the pull-request
    /// guard of `check --base` without git.
    Diff(DiffArgs),
    /// List the rules, or print one rule's documentation.
    Rule(RuleArgs),
    /// Write a commented default ddb-guard.toml (never overwrites one).
    Init(InitArgs),
    /// List every table with its protection layers (retained on delete and replace,
    /// deletion protection, point-in-time recovery, backup plan) and the guardrails around
    /// them (vault locks, vault policies, service control policies).
    Inventory(InventoryArgs),
    /// Print a shell completion script for bash, zsh, fish, PowerShell or elvish.
    ///
    /// Write it where the shell looks for completions, for example
    /// `ddb-guard completions bash > ~/.local/share/bash-completion/completions/ddb-guard`,
    /// `ddb-guard completions zsh > "${fpath[1]}/_ddb-guard"` or
    /// `ddb-guard completions fish > ~/.config/fish/completions/ddb-guard.fish`.
    Completions(CompletionsArgs),
    /// Check a CloudFormation change set before it is executed: the JSON that `aws
    /// cloudformation describe-change-set` prints (pages and nested change sets as more
    /// files, `-` for standard input). A table removed, replaced or losing its guardrails
    /// is a finding.
    Changeset(ChangesetArgs),
    /// Audit a live AWS account, read-only: every table's protection layers (deletion
    /// protection, PITR, backup plan, Retain in its stack, resource policy, SCPs, who can
    /// delete it), the rules of `check` on every deployed stack, and the drift between
    /// them. Credentials come from the standard AWS chain. Needs a build with the cargo
    /// feature `audit` (the release binaries and the wheel have it).
    Audit(AuditArgs),
}

#[derive(Debug, Args)]
pub struct AuditArgs {
    /// A Region to audit (repeat for several; default: the Region of the AWS config or
    /// environment).
    #[arg(long = "region", value_name = "REGION", conflicts_with = "all_regions")]
    pub regions: Vec<String>,

    /// Audit every Region enabled in the account (`account:ListRegions`: those enabled by
    /// default and the opt-in Regions turned on). If they cannot be listed, the audit
    /// stops with exit 2 rather than miss a Region.
    #[arg(long)]
    pub all_regions: bool,

    /// The named profile of the AWS config files to take credentials and Region from.
    #[arg(long, value_name = "PROFILE")]
    pub profile: Option<String>,

    /// Send every AWS call to this URL instead (an emulator, a VPC endpoint).
    #[arg(long, value_name = "URL")]
    pub endpoint_url: Option<String>,

    /// How many AWS calls may be under way at once.
    #[arg(long, value_name = "N", default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub concurrency: u16,

    /// The findings' format, optionally into a file: human, json, compact, github, sarif,
    /// junit, gitlab (repeat for several; at most one to stdout). Default: human.
    #[arg(long = "format", value_name = "FORMAT[=FILE]")]
    pub formats: Vec<Output>,

    /// The inventory of live tables, optionally into a file: human, json, markdown, csv.
    /// Default: human on stdout before human findings, none otherwise.
    #[arg(long, value_name = "FORMAT[=FILE]", value_parser = parse_inventory_output)]
    pub inventory: Option<(InventoryFormat, Option<PathBuf>)>,

    /// Which findings fail the run with exit code 1 (default: `fail_on` of the config
    /// file, else error). Anything that could not be read always exits with 2.
    #[arg(long, value_enum)]
    pub fail_on: Option<FailOn>,

    /// When to use colours in human output.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,

    /// Guardrails the account's live policies must contain (DDB013), replacing
    /// `require_guardrails` of the config file: deny-delete-table, deny-delete-backup,
    /// deny-delete-backup-selection, deny-update-table; prefix with `scp:` to accept only a
    /// service control policy attached above the account. Repeat or separate with commas.
    #[arg(long = "require-guardrail", value_name = "NAME", value_delimiter = ',')]
    pub require_guardrails: Vec<String>,

    /// No progress bar (it is drawn only when standard error is a terminal, outside CI).
    #[arg(short, long)]
    pub quiet: bool,

    #[command(flatten)]
    pub selection: RuleSelection,

    /// Read this config file instead of looking for ddb-guard.toml in the current directory and its parents.
    #[arg(long, value_name = "PATH", help_heading = "Configuration")]
    pub config: Option<PathBuf>,

    /// Ignore every config file.
    #[arg(long, conflicts_with = "config", help_heading = "Configuration")]
    pub isolated: bool,
}

impl AuditArgs {
    /// The `check` arguments with the same formats, selection and config, so that the
    /// config file, the rule selection and `--fail-on` are resolved exactly as for `check`.
    pub fn as_check_args(&self) -> Result<CheckArgs, clap::Error> {
        use clap::{Args as _, FromArgMatches as _};
        let defaults =
            CheckArgs::augment_args(clap::Command::new("audit")).try_get_matches_from(["audit"])?;
        let mut check = CheckArgs::from_arg_matches(&defaults)?;
        check.formats = self.formats.clone();
        check.fail_on = self.fail_on;
        check.color = self.color;
        check.selection = self.selection.clone();
        check.require_guardrails = self.require_guardrails.clone();
        check.quiet = self.quiet;
        check.config_file = ConfigFile {
            config: self.config.clone(),
            isolated: self.isolated,
        };
        Ok(check)
    }
}

/// `--inventory FORMAT[=FILE]`.
fn parse_inventory_output(s: &str) -> Result<(InventoryFormat, Option<PathBuf>), String> {
    let (name, file) = match s.split_once('=') {
        Some((name, file)) if !file.is_empty() => (name, Some(PathBuf::from(file))),
        Some(_) => return Err(format!("`{s}`: the file after `=` is empty")),
        None => (s, None),
    };
    let format = InventoryFormat::from_str(name, true).map_err(|_| {
        format!("`{name}` is not an inventory format: use human, json, markdown or csv")
    })?;
    Ok((format, file))
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct ChangesetArgs {
    /// `describe-change-set` JSON files: every page of the change set (in order) and every
    /// nested change set; `-` reads standard input.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,

    /// The template the change set was made from: findings then also point at the
    /// resource's logical ID in it.
    #[arg(long, value_name = "PATH")]
    pub template: Option<PathBuf>,

    /// Output format, optionally into a file: human, json, compact, github, sarif, junit
    /// (repeat for several; at most one to stdout). Default: human.
    #[arg(long = "format", value_name = "FORMAT[=FILE]")]
    pub formats: Vec<Output>,

    /// Which findings fail the run with exit code 1 (default: `fail_on` of the config
    /// file, else error). A change set that cannot be checked always exits with 2.
    #[arg(long, value_enum)]
    pub fail_on: Option<FailOn>,

    /// When to use colours in human output.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,

    /// Largest file to read (bytes, or with a K, M or G suffix).
    #[arg(long, value_name = "SIZE", default_value = "64M", value_parser = parse_size)]
    pub max_file_size: u64,

    #[command(flatten)]
    pub selection: RuleSelection,

    #[command(flatten)]
    pub config_file: ConfigFile,
}

impl ChangesetArgs {
    /// The `check` arguments with the same formats, selection and config, so that the
    /// config file and `--fail-on` are resolved exactly as for `check`.
    pub fn as_check_args(&self) -> Result<CheckArgs, clap::Error> {
        use clap::{Args as _, FromArgMatches as _};
        let defaults = CheckArgs::augment_args(clap::Command::new("changeset"))
            .try_get_matches_from(["changeset"])?;
        let mut check = CheckArgs::from_arg_matches(&defaults)?;
        check.formats = self.formats.clone();
        check.fail_on = self.fail_on;
        check.color = self.color;
        check.input.max_file_size = self.max_file_size;
        check.selection = self.selection.clone();
        check.config_file = self.config_file.clone();
        Ok(check)
    }
}

#[derive(Debug, Args)]
pub struct InventoryArgs {
    /// Files or directories to list (default: the current directory).
    pub paths: Vec<PathBuf>,

    /// Output format, optionally into a file: human, json, markdown, csv (`csv=tables.csv`).
    /// Repeat for several outputs from one run; at most one on stdout. Default: human.
    #[arg(long = "format", value_name = "FORMAT[=FILE]")]
    pub formats: Vec<Output<InventoryFormat>>,

    #[command(flatten)]
    pub input: InputArgs,

    #[command(flatten)]
    pub config_file: ConfigFile,

    /// Apply `exclude` (the config's and `--exclude`) also to files named on the command line (for pre-commit).
    #[arg(long, help_heading = "Configuration")]
    pub force_exclude: bool,
}

impl InventoryArgs {
    /// The `check` arguments that find and read the same files with the same config, so
    /// that the config file is resolved once, in one place, for both commands.
    pub fn as_check_args(&self) -> Result<CheckArgs, clap::Error> {
        use clap::{Args as _, FromArgMatches as _};
        let defaults = CheckArgs::augment_args(clap::Command::new("inventory"))
            .try_get_matches_from(["inventory"])?;
        let mut check = CheckArgs::from_arg_matches(&defaults)?;
        check.paths = self.paths.clone();
        check.input = self.input.clone();
        check.config_file = self.config_file.clone();
        check.force_exclude = self.force_exclude;
        Ok(check)
    }
}

/// How files are found and read: the same choices as `check`.
#[derive(Clone, Debug, Args)]
pub struct InputArgs {
    /// Do not respect .gitignore, .ignore and git exclude files (CDK's cdk.out is usually ignored).
    #[arg(long)]
    pub no_ignore: bool,

    /// Also walk hidden files and directories.
    #[arg(long)]
    pub hidden: bool,

    /// Leave out paths matching this gitignore-style pattern, relative to the current
    /// directory (on top of the config's `exclude`; files named on the command line too
    /// with `--force-exclude`). Repeat for several.
    #[arg(long, value_name = "PATTERN")]
    pub exclude: Vec<String>,

    /// Follow symbolic links while walking directories.
    #[arg(short = 'L', long)]
    pub follow: bool,

    /// Number of threads (default: all cores).
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..))]
    pub threads: Option<u16>,

    /// Largest file to read (bytes, or with a K, M or G suffix: 64M); a larger file is an
    /// error, never silently skipped.
    #[arg(long, value_name = "SIZE", default_value = "64M", value_parser = parse_size)]
    pub max_file_size: u64,

    /// Deepest nesting of mappings and lists in a document; deeper files are an error.
    #[arg(
        long,
        value_name = "LEVELS",
        default_value_t = Limits::default().max_depth,
        value_parser = parse_depth
    )]
    pub max_depth: usize,

    /// Most nodes (keys, values, list items) in a document; larger files are an error.
    #[arg(
        long,
        value_name = "COUNT",
        default_value_t = Limits::default().max_nodes,
        value_parser = parse_count
    )]
    pub max_nodes: usize,

    /// Longest scalar (a string or number) in a document (bytes, or with a K, M or G
    /// suffix); a longer one is an error.
    #[arg(long, value_name = "SIZE", default_value = "16M", value_parser = parse_size_usize)]
    pub max_scalar_len: usize,
}

impl InputArgs {
    /// The loader limits the arguments ask for.
    pub fn limits(&self) -> Limits {
        Limits {
            max_depth: self.max_depth,
            max_nodes: self.max_nodes,
            max_scalar_len: self.max_scalar_len,
        }
    }
}

#[derive(Debug, Args)]
pub struct RuleArgs {
    /// A rule code or name (`DDB001`, `deletion-policy`); without it, every rule is listed.
    pub rule: Option<String>,

    /// Print every rule's documentation.
    #[arg(long, conflicts_with = "rule")]
    pub all: bool,

    /// `text` (a listing or Markdown pages) or `json` (an array of rules with their
    /// documentation; every rule unless one is named).
    #[arg(long, value_enum, default_value_t = RuleFormat::Text)]
    pub format: RuleFormat,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum RuleFormat {
    Text,
    Json,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Where to write the file.
    #[arg(default_value = CONFIG_FILE_NAME)]
    pub path: PathBuf,
}

#[derive(Clone, Debug, Args)]
pub struct CheckArgs {
    /// Files or directories to check (default: the current directory).
    pub paths: Vec<PathBuf>,

    /// Output format, optionally into a file: human, json, compact, github, sarif, junit,
    /// gitlab.
    /// Repeat for several reports from one run (`--format github --format
    /// sarif=results.sarif`); at most one may go to stdout. Default: human.
    #[arg(long = "format", value_name = "FORMAT[=FILE]")]
    pub formats: Vec<Output>,

    /// Which findings fail the run with exit code 1 (default: `fail_on` of the config
    /// file, else error). Files that cannot be checked always exit with 2.
    #[arg(long, value_enum)]
    pub fail_on: Option<FailOn>,

    #[command(flatten)]
    pub input: InputArgs,

    /// Guardrails the checked policies must contain (DDB013), replacing
    /// `require_guardrails` of the config file: deny-delete-table, deny-delete-backup,
    /// deny-delete-backup-selection, deny-update-table; prefix with `scp:` to accept only a
    /// service control policy. Repeat or separate with commas.
    #[arg(long = "require-guardrail", value_name = "NAME", value_delimiter = ',')]
    pub require_guardrails: Vec<String>,

    /// When to use colours in human output.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,

    /// Also compare each template with its version at this git revision (the merge base
    /// of REV and HEAD): a table removed, renamed or replaced is a finding.
    #[arg(long, value_name = "REV")]
    pub base: Option<String>,

    /// Apply safe fixes (insert or correct `Retain`), then report what remains.
    #[arg(long)]
    pub fix: bool,

    /// Print the unified diff of what `--fix` would write, and write nothing.
    #[arg(long)]
    pub diff: bool,

    /// With `--fix` or `--diff`, also apply unsafe fixes: replace a conditional
    /// DeletionPolicy/UpdateReplacePolicy (`Fn::If`, `Ref`, `Fn::FindInMap`) by Retain, set
    /// `DeletionProtectionEnabled: true` (DDB003) and `PointInTimeRecoveryEnabled: true`
    /// (DDB004, billed by table size).
    #[arg(long)]
    pub unsafe_fixes: bool,

    /// With `--fix` or `--diff`: apply only these rules' fixes (codes, names, prefixes or
    /// ALL; repeat or separate with commas). Findings of other rules are still reported.
    #[arg(long, value_delimiter = ',', value_name = "RULES")]
    pub fixable: Option<Vec<String>>,

    /// With `--fix` or `--diff`: never apply these rules' fixes (wins over `--fixable`).
    #[arg(long, value_delimiter = ',', value_name = "RULES")]
    pub unfixable: Vec<String>,

    #[command(flatten)]
    pub selection: RuleSelection,

    #[command(flatten)]
    pub config_file: ConfigFile,

    /// Apply `exclude` (the config's and `--exclude`) also to files named on the command line (for pre-commit).
    #[arg(long, help_heading = "Configuration")]
    pub force_exclude: bool,

    /// With `-` as the path (standard input): the file name to report, and to pick the
    /// format and layout by (`serverless.yml`, `x.json`). Without paths, implies `-`.
    #[arg(long, value_name = "NAME")]
    pub stdin_filename: Option<PathBuf>,

    /// Print only findings and errors: no summary line, no hints.
    #[arg(short, long)]
    pub quiet: bool,

    /// Print the number of findings per rule instead of the findings (human output).
    #[arg(long)]
    pub statistics: bool,

    /// List the files that would be checked, and those the walk leaves out with the
    /// reason (ignored, hidden, excluded), with the config file that applies; check nothing.
    #[arg(long, conflicts_with_all = ["fix", "diff", "base", "write_baseline"])]
    pub show_files: bool,

    /// Pass when no template was checked (by default that is an error, exit 2: a guard
    /// never passes on nothing). For pipelines that may have no templates, such as the
    /// pre-commit hook given only changed files.
    #[arg(long)]
    pub allow_no_templates: bool,

    /// Also list findings silenced by a `Metadata: ddb-guard: ignore` suppression.
    #[arg(long, help_heading = "Suppressions and baseline")]
    pub show_suppressed: bool,

    /// Fail only on findings that this baseline file does not record.
    #[arg(long, value_name = "FILE", help_heading = "Suppressions and baseline")]
    pub baseline: Option<PathBuf>,

    /// Record today's findings in this baseline file (then report them as baselined).
    #[arg(
        long,
        value_name = "FILE",
        conflicts_with = "baseline",
        help_heading = "Suppressions and baseline"
    )]
    pub write_baseline: Option<PathBuf>,
}

/// `diff OLD NEW` takes every option of `check`; its PATHS and `--base` are hidden and
/// refused, since OLD and NEW say what to compare.
#[derive(Debug, Args)]
#[command(mut_arg("paths", |a| a.hide(true)), mut_arg("base", |a| a.hide(true)))]
pub struct DiffArgs {
    /// The old template, or directory of templates (the base).
    pub old: PathBuf,

    /// The new template, or directory of templates (checked, and compared with OLD).
    pub new: PathBuf,

    #[command(flatten)]
    pub check: CheckArgs,
}

/// `--max-depth` is capped where the parsers stop anyway (saphyr counts YAML flow levels
/// in a `u8`; jsonc-parser stops at 512 ranges, two per nested object), so that the limit
/// means the same in both formats and no setting can exhaust a worker thread's stack.
pub const MAX_DEPTH_CEILING: usize = 255;

fn parse_depth(s: &str) -> Result<usize, String> {
    let depth: usize = s
        .trim()
        .parse()
        .map_err(|_| format!("`{s}` is not a whole number of levels"))?;
    if !(1..=MAX_DEPTH_CEILING).contains(&depth) {
        return Err(format!(
            "must be between 1 and {MAX_DEPTH_CEILING} (the YAML and JSON parsers stop near {MAX_DEPTH_CEILING} levels)"
        ));
    }
    Ok(depth)
}

fn parse_count(s: &str) -> Result<usize, String> {
    match s.trim().parse::<usize>() {
        Ok(0) => Err("must be at least 1".into()),
        Ok(n) => Ok(n),
        Err(_) => Err(format!("`{s}` is not a whole number")),
    }
}

/// A byte size: a whole number with an optional binary suffix, `K`, `M` or `G` (also
/// `KiB`, `MB`, ..., any case), as ripgrep's `--max-filesize` takes it.
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let digits = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (number, suffix) = t.split_at(digits);
    let shift = match suffix.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 10,
        "m" | "mb" | "mib" => 20,
        "g" | "gb" | "gib" => 30,
        _ => {
            return Err(format!(
                "`{s}` is not a size: use a number of bytes, optionally with K, M or G (64M)"
            ))
        }
    };
    let n: u64 = number.parse().map_err(|_| {
        format!("`{s}` is not a size: use a number of bytes, optionally with K, M or G (64M)")
    })?;
    let bytes = n
        .checked_mul(1u64 << shift)
        .ok_or_else(|| format!("`{s}` is too large"))?;
    if bytes == 0 {
        return Err("must be at least 1 byte".into());
    }
    Ok(bytes)
}

fn parse_size_usize(s: &str) -> Result<usize, String> {
    let bytes = parse_size(s)?;
    usize::try_from(bytes).map_err(|_| format!("`{s}` is too large for this machine"))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_take_binary_suffixes_in_any_case() {
        assert_eq!(parse_size("4096"), Ok(4096));
        assert_eq!(parse_size("64M"), Ok(64 << 20));
        assert_eq!(parse_size("64mib"), Ok(64 << 20));
        assert_eq!(parse_size("2k"), Ok(2048));
        assert_eq!(parse_size("1G"), Ok(1 << 30));
    }

    #[test]
    fn sizes_reject_garbage_zero_and_overflow() {
        assert!(parse_size("").is_err());
        assert!(parse_size("M").is_err());
        assert!(parse_size("12X").is_err());
        assert!(parse_size("-1").is_err());
        assert!(parse_size("0").is_err());
        assert!(parse_size("99999999999999999999G").is_err());
    }

    #[test]
    fn depth_is_capped_at_the_json_parser_limit() {
        assert_eq!(parse_depth("1"), Ok(1));
        assert_eq!(parse_depth("255"), Ok(255));
        assert!(parse_depth("0").is_err());
        assert!(parse_depth("256").is_err());
    }
}

/// `--select`, `--extend-select`, `--ignore`: the rule selection of the commands that run
/// rules (`check`, `changeset`, `audit`), on top of the config file's.
#[derive(Clone, Debug, Default, Args)]
pub struct RuleSelection {
    /// Run only these rules (codes, names, code prefixes or ALL; repeat or separate with commas).
    #[arg(
        long,
        value_delimiter = ',',
        value_name = "RULES",
        help_heading = "Rule selection"
    )]
    pub select: Option<Vec<String>>,

    /// Also run these rules, on top of the selected ones (e.g. an off-by-default rule).
    #[arg(
        long,
        value_delimiter = ',',
        value_name = "RULES",
        help_heading = "Rule selection"
    )]
    pub extend_select: Vec<String>,

    /// Do not run these rules.
    #[arg(
        long,
        value_delimiter = ',',
        value_name = "RULES",
        help_heading = "Rule selection"
    )]
    pub ignore: Vec<String>,
}

/// `--config`, `--isolated`: which config file the commands that read files use.
#[derive(Clone, Debug, Default, Args)]
pub struct ConfigFile {
    /// Use this config file for every file, instead of each file's nearest ddb-guard.toml.
    #[arg(long, value_name = "PATH", help_heading = "Configuration")]
    pub config: Option<PathBuf>,

    /// Ignore every config file.
    #[arg(long, conflicts_with = "config", help_heading = "Configuration")]
    pub isolated: bool,
}
