//! Command-line arguments, as clap derive types. Flag names are a contract:
//! scripts call them.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "brickyard",
    version,
    about = "Scaffold a local development stack and boot it on Docker",
    propagate_version = true
)]
pub struct Cli {
    /// A team catalog layered over the built-in one (repeatable): a
    /// directory, or a git repository as `git+URL[@REF]`.
    #[arg(long = "catalog", value_name = "DIR|git+URL[@REF]", global = true)]
    pub catalog: Vec<String>,
    /// Print only errors.
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// Run as if started in DIR (like `git -C`).
    #[arg(short = 'C', long = "project-dir", value_name = "DIR", global = true)]
    pub project_dir: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

impl Cli {
    /// The directory the command runs in: `-C DIR`, else the current one.
    pub fn dir(&self) -> PathBuf {
        self.project_dir.clone().unwrap_or_else(|| ".".into())
    }

    /// `-C DIR` applied to every path argument, as `git -C` does: each is
    /// read as if brickyard had been started in DIR. Done once, here, so no
    /// command joins paths of its own.
    pub fn in_dir(mut self) -> Cli {
        let Some(dir) = self.project_dir.clone() else {
            return self;
        };
        // Absolute, so nothing that later resolves against DIR (the compose
        // loader does, for `-f` and `--env-file`) joins it a second time.
        let under = |p: &mut PathBuf| {
            let joined = dir.join(&*p);
            *p = std::path::absolute(&joined).unwrap_or(joined);
        };
        for c in self.catalog.iter_mut() {
            if !c.starts_with("git+") {
                *c = dir.join(&*c).to_string_lossy().into_owned();
            }
        }
        let stack = |s: &mut StackArgs| {
            s.file.iter_mut().for_each(under);
            s.project.env_file.iter_mut().for_each(under);
            s.project.project_directory.iter_mut().for_each(under);
        };
        match &mut self.command {
            Command::New(a) => {
                under(&mut a.path);
                a.answers.iter_mut().for_each(under);
            }
            Command::Demo(a) => a.dir.iter_mut().for_each(under),
            Command::Up(a) => stack(&mut a.stack),
            Command::Down(a) => stack(&mut a.stack),
            Command::Ps(a) => stack(&mut a.stack),
            Command::Verify(a) => stack(&mut a.stack),
            Command::Config(a) => stack(&mut a.stack),
            Command::Logs(a) => {
                a.file.iter_mut().for_each(under);
                a.project.env_file.iter_mut().for_each(under);
                a.project.project_directory.iter_mut().for_each(under);
            }
            Command::Export(ExportCommand::Kubernetes(a)) => {
                stack(&mut a.stack);
                a.output.iter_mut().for_each(under);
            }
            Command::Catalog(_) | Command::Update(_) | Command::Add(_) | Command::Remove(_) => {}
        }
        self
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a project: pick one tool per theme, get a skeleton that runs.
    New(NewArgs),
    /// List and inspect the tools brickyard knows.
    #[command(subcommand)]
    Catalog(CatalogCommand),
    /// Build, create and start the stack in compose.yaml, wait until healthy.
    Up(UpArgs),
    /// Stop and remove the stack's containers and network.
    Down(DownArgs),
    /// Show the stack's services: state, health, URLs.
    Ps(PsArgs),
    /// Show the logs of the stack's services.
    Logs(LogsArgs),
    /// Run the stack's smoke checks against what is running.
    Verify(VerifyArgs),
    /// Print the resolved project in Compose's canonical form.
    Config(ConfigArgs),
    /// Create the demo stack in a fresh directory, boot it, prove it works.
    Demo(DemoArgs),
    /// Render the project again from its catalog as it is now, keeping your edits.
    Update(UpdateArgs),
    /// Add a tool (`redis`) or change a theme's pick (`monitoring=nagios`).
    Add(ChangeArgs),
    /// Remove a tool from the project (its data volumes are kept unless --volumes).
    Remove(RemoveArgs),
    /// Translate the stack for another platform.
    #[command(subcommand)]
    Export(ExportCommand),
}

#[derive(Debug, Subcommand)]
pub enum ExportCommand {
    /// Kubernetes manifests (a kustomize base, `local` and `production`
    /// overlays) and REPORT.md, saying what became of every compose key.
    Kubernetes(ExportKubernetesArgs),
}

#[derive(Debug, Args)]
pub struct ExportKubernetesArgs {
    #[command(flatten)]
    pub stack: StackArgs,
    /// Where to write (default: k8s/ in the project's directory).
    #[arg(short = 'o', long = "output", value_name = "DIR")]
    pub output: Option<PathBuf>,
    /// Print the translation report as JSON (the files are written all the same).
    #[arg(long)]
    pub json: bool,
    /// Replace files of an earlier export that were edited by hand.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args, Default, Clone)]
pub struct UpdateArgs {
    /// Change nothing; exit 1 if the project is behind its catalog, listing what would change.
    #[arg(long, conflicts_with_all = ["dry_run", "undo"])]
    pub check: bool,
    /// Print what would change, as diffs; write nothing.
    #[arg(long, conflicts_with = "undo")]
    pub dry_run: bool,
    /// Put back the files as they were before the last update, add or remove.
    #[arg(long)]
    pub undo: bool,
    /// Move the project's git catalog to this branch, tag or commit (default:
    /// the newest commit of the ref it records).
    #[arg(long = "ref", value_name = "REF", conflicts_with = "undo")]
    pub reference: Option<String>,
}

#[derive(Debug, Args, Default, Clone)]
pub struct ChangeArgs {
    /// Catalog ids (`redis`), or THEME=ID to set a theme's pick (`ci=jenkins`).
    #[arg(required = true, value_name = "ID")]
    pub picks: Vec<String>,
    /// Print what would change, as diffs; write nothing.
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Args, Default, Clone)]
pub struct RemoveArgs {
    #[command(flatten)]
    pub change: ChangeArgs,
    /// Also delete the removed services' data volumes on the engine (their
    /// data is lost), and their containers now rather than at the next `up`.
    #[arg(short = 'v', long)]
    pub volumes: bool,
}

#[derive(Debug, Args, Default, Clone)]
pub struct NewArgs {
    /// Directory of the new project; its name is the project name.
    pub path: PathBuf,
    /// The CI system (`none` for no tool).
    #[arg(long, value_name = "ID")]
    pub ci: Option<String>,
    /// Where the code is hosted.
    #[arg(long, value_name = "ID")]
    pub vcs: Option<String>,
    /// Configuration management starting points.
    #[arg(long = "config-mgmt", value_name = "ID")]
    pub config_mgmt: Option<String>,
    /// Monitoring in the stack.
    #[arg(long, value_name = "ID")]
    pub monitoring: Option<String>,
    /// How the stack runs.
    #[arg(long, value_name = "ID")]
    pub containers: Option<String>,
    /// The app's language.
    #[arg(long, value_name = "ID")]
    pub app: Option<String>,
    /// Backing services, comma-separated (or `none`).
    #[arg(long, value_name = "ID,...", value_delimiter = ',')]
    pub services: Option<Vec<String>>,
    /// A stand-in for the third-party APIs the app calls.
    #[arg(long, value_name = "ID")]
    pub mocks: Option<String>,
    /// Tests run against the running stack; comma-separated (or `none`).
    #[arg(long, value_name = "ID,...", value_delimiter = ',')]
    pub tests: Option<Vec<String>>,
    /// CI results to a chat, a chatbot; comma-separated (or `none`).
    #[arg(long, value_name = "ID,...", value_delimiter = ',')]
    pub chat: Option<Vec<String>>,
    /// The stack in a VM, a tunnel to share it; comma-separated (or `none`).
    #[arg(long, value_name = "ID,...", value_delimiter = ',')]
    pub machine: Option<Vec<String>>,
    /// A named set of picks (see `brickyard catalog list`).
    #[arg(long, value_name = "NAME")]
    pub preset: Option<String>,
    /// Picks from a file (a project's brickyard.yaml reproduces that project).
    #[arg(long, value_name = "FILE")]
    pub answers: Option<PathBuf>,
    /// Take the default for everything not otherwise settled; ask nothing.
    #[arg(short, long)]
    pub yes: bool,
    /// Print the plan and the files, write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Write into a non-empty directory, replacing only brickyard's own files.
    #[arg(long)]
    pub force: bool,
}

impl NewArgs {
    /// What the flag of `theme` says, as given (`None` when not given).
    pub fn theme_flag(&self, theme: crate::catalog::Theme) -> Option<Vec<String>> {
        use crate::catalog::Theme;
        let one = |v: &Option<String>| v.as_ref().map(|v| vec![v.clone()]);
        match theme {
            Theme::Ci => one(&self.ci),
            Theme::Vcs => one(&self.vcs),
            Theme::ConfigMgmt => one(&self.config_mgmt),
            Theme::Monitoring => one(&self.monitoring),
            Theme::Containers => one(&self.containers),
            Theme::App => one(&self.app),
            Theme::Mocks => one(&self.mocks),
            Theme::Services => self.services.clone(),
            Theme::Tests => self.tests.clone(),
            Theme::Chat => self.chat.clone(),
            Theme::Machine => self.machine.clone(),
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum CatalogCommand {
    /// List the tools, by theme.
    List {
        #[arg(long, value_name = "THEME")]
        theme: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Show one tool: what it needs, what it adds, what it wires.
    Show { id: String },
}

/// Where the stack lives, as `docker compose` takes it: shared by up,
/// down, ps, logs, verify and config.
#[derive(Debug, Args, Clone, Default)]
pub struct StackArgs {
    /// Compose file(s), merged in order (default: COMPOSE_FILE, else
    /// compose.yaml and its override, searched upwards).
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    pub file: Vec<PathBuf>,
    #[command(flatten)]
    pub project: ProjectArgs,
}

/// Compose's project flags (everything but `-f`, which `logs` spells
/// `--file` only, since there `-f` follows).
#[derive(Debug, Args, Clone, Default)]
pub struct ProjectArgs {
    /// Project name (default: COMPOSE_PROJECT_NAME, `name:`, the directory).
    #[arg(short = 'p', long = "project-name", value_name = "NAME")]
    pub project_name: Option<String>,
    /// Enable services of this profile (repeatable; default: COMPOSE_PROFILES).
    #[arg(long = "profile", value_name = "PROFILE")]
    pub profile: Vec<String>,
    /// Read variables from this file instead of `.env` (repeatable).
    #[arg(long = "env-file", value_name = "FILE")]
    pub env_file: Vec<PathBuf>,
    /// The project's working directory (default: the first file's directory).
    #[arg(long = "project-directory", value_name = "DIR")]
    pub project_directory: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct UpArgs {
    #[command(flatten)]
    pub stack: StackArgs,
    /// Start and return without waiting for health.
    #[arg(long)]
    pub no_wait: bool,
    /// Build images even when they exist already.
    #[arg(long, conflicts_with = "no_build")]
    pub build: bool,
    /// Never build; an image that is not here is an error.
    #[arg(long)]
    pub no_build: bool,
    /// Recreate every container, changed or not.
    #[arg(long, conflicts_with = "no_recreate")]
    pub force_recreate: bool,
    /// Keep existing containers even when their configuration changed.
    #[arg(long)]
    pub no_recreate: bool,
    /// Give up after this many seconds waiting for health, or for any
    /// progress of a build or pull.
    #[arg(long, value_name = "SECONDS", default_value_t = 180)]
    pub timeout: u64,
    /// Then run the smoke checks (as `brickyard verify`).
    #[arg(long)]
    pub verify: bool,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    #[command(flatten)]
    pub stack: StackArgs,
    /// The same facts as JSON, for scripts.
    #[arg(long)]
    pub json: bool,
    /// How long each check may keep retrying, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 30)]
    pub check_timeout: u64,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Where to create the demo project (default: a new temporary directory, kept).
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// The report as JSON, for scripts and CI.
    #[arg(long)]
    pub json: bool,
    /// Give up waiting for health after this many seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 300)]
    pub timeout: u64,
}

#[derive(Debug, Args)]
pub struct DownArgs {
    #[command(flatten)]
    pub stack: StackArgs,
    /// Remove the project's named volumes too (their data is lost).
    #[arg(short = 'v', long)]
    pub volumes: bool,
}

#[derive(Debug, Args)]
pub struct PsArgs {
    #[command(flatten)]
    pub stack: StackArgs,
    #[arg(long)]
    pub json: bool,
}

/// `logs` has `-f` for follow (as docker compose does), so the file is `--file` only.
#[derive(Debug, Args)]
pub struct LogsArgs {
    /// Compose file(s), as for the other commands.
    #[arg(long = "file", value_name = "FILE")]
    pub file: Vec<PathBuf>,
    #[command(flatten)]
    pub project: ProjectArgs,
    /// Only these services.
    pub services: Vec<String>,
    /// Keep following new output.
    #[arg(short = 'f', long = "follow")]
    pub follow: bool,
    /// Only the last N lines of each service.
    #[arg(long, value_name = "N")]
    pub tail: Option<u64>,
}

impl LogsArgs {
    pub fn stack(&self) -> StackArgs {
        StackArgs {
            file: self.file.clone(),
            project: self.project.clone(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ConfigFormat {
    Yaml,
    Json,
}

#[derive(Debug, Args)]
pub struct ConfigArgs {
    #[command(flatten)]
    pub stack: StackArgs,
    /// yaml or json (json is what `docker compose config --format json` prints, byte for byte).
    #[arg(long, value_enum, default_value_t = ConfigFormat::Yaml)]
    pub format: ConfigFormat,
    /// Print the service names, one per line.
    #[arg(long)]
    pub services: bool,
    /// Print the volume names, one per line.
    #[arg(long)]
    pub volumes: bool,
    /// Print the network names, one per line.
    #[arg(long)]
    pub networks: bool,
    /// Print the profile names, one per line.
    #[arg(long)]
    pub profiles: bool,
    /// Print the config hash of these services (comma-separated, or `*`).
    #[arg(long, value_name = "SERVICES")]
    pub hash: Option<String>,
}

/// The command line, with each theme flag of `new` listing the ids the
/// built-in catalog has for it (team catalogs add theirs: `catalog list`).
pub fn command_listing(catalog: &crate::catalog::Catalog) -> clap::Command {
    use crate::catalog::Theme;
    use clap::CommandFactory;
    Cli::command().mut_subcommand("new", |new| {
        Theme::ALL.iter().fold(new, |cmd, theme| {
            let ids: Vec<&str> = catalog.in_theme(*theme).map(|e| e.id.as_str()).collect();
            let arg = theme.id().replace('-', "_");
            cmd.mut_arg(arg, |a| {
                let help = a.get_help().map(|h| h.to_string()).unwrap_or_default();
                let none = if theme.is_multi() { "" } else { ", none" };
                a.help(format!("{help}\n[ids: {}{none}]", ids.join(", ")))
            })
        })
    })
}
