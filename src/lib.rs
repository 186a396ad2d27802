//! brickyard: scaffold a local development stack and boot it on Docker.
//!
//! catalog + answers -> plan -> render -> write; compose.yaml on disk ->
//! stack model -> engine. Only the engine is async.

pub mod catalog;
pub mod checks;
pub mod cli;
pub mod commands;
pub mod compose;
pub mod engine;
pub mod generate;
pub mod interrupt;
pub mod kube;
pub mod picks;
pub mod plan;
pub mod project;
pub mod prompt;
pub mod render;
pub mod session;
pub mod trust;
pub mod ui;

use std::process::ExitCode;

use cli::{CatalogCommand, Cli, Command, ExportCommand};

/// Exit codes, in one place. Scripts may rely on them.
pub mod exit {
    /// Something failed (bad input, a failed check, a service that did not come up).
    pub const FAILURE: u8 = 1;
    /// The command line itself was wrong (clap's own code).
    pub const USAGE: u8 = 2;
    /// No Docker engine answered.
    pub const NO_DAEMON: u8 = 3;
    /// The person cancelled (Esc, Ctrl-C).
    pub const CANCELLED: u8 = 130;
}

/// An error that carries its own exit code.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct Coded {
    pub code: u8,
    pub message: String,
}

pub fn run(cli: Cli) -> anyhow::Result<()> {
    let ui = ui::Ui::new(cli.quiet);
    let cli = cli.in_dir();
    let dir = cli.dir();
    // `down`, `logs`, `config` and `export` act on the compose file alone:
    // nothing of brickyard.yaml (nor a catalog it names) stands in their way.
    let needs_catalog = !matches!(
        cli.command,
        Command::Down(_) | Command::Logs(_) | Command::Config(_) | Command::Export(_)
    );
    // In a project, the catalogs it was made with (git ones at the commit
    // recorded; `update` moves to the newest), unless others are given.
    let in_project = !matches!(
        cli.command,
        Command::New(_) | Command::Demo(_) | Command::Catalog(_)
    );
    let layers = if !needs_catalog {
        Vec::new()
    } else if cli.catalog.is_empty() && in_project {
        let which = match &cli.command {
            Command::Update(u) if !u.undo => project::state::GitCommit::Newest(u.reference.clone()),
            _ => project::state::GitCommit::Recorded,
        };
        match project::state::recorded_catalogs(&dir, &which) {
            Ok(layers) => layers,
            // `ps` shows what runs whatever the project file says.
            Err(e) if matches!(cli.command, Command::Ps(_)) => {
                ui.warn(format!(
                    "{e:#}\n  showing the stack by its labels, with the built-in catalog"
                ));
                Vec::new()
            }
            Err(e) => return Err(e),
        }
    } else {
        let layers = cli
            .catalog
            .iter()
            .map(|arg| catalog::Layer::from_arg(arg))
            .collect::<anyhow::Result<Vec<_>>>()?;
        // A directory the person names is one they trust for this project.
        let project_dir = match &cli.command {
            Command::New(args) => Some(args.path.clone()),
            Command::Demo(_) | Command::Catalog(_) => None,
            _ => Some(dir.clone()),
        };
        if let Some(project_dir) = project_dir {
            for layer in &layers {
                if let catalog::Layer::Dir(d) = layer {
                    trust::allowed::allow(&project_dir, d);
                }
            }
        }
        layers
    };
    let catalog = catalog::Catalog::load_layers(&layers)?;
    // A team entry that replaces another is said, where picks are made.
    if matches!(
        cli.command,
        Command::New(_) | Command::Catalog(_) | Command::Add(_) | Command::Update(_)
    ) {
        for o in catalog.overrides() {
            ui.status(format!("note: {o}"));
        }
    }
    if matches!(
        cli.command,
        Command::New(_)
            | Command::Update(_)
            | Command::Add(_)
            | Command::Remove(_)
            | Command::Export(_)
    ) {
        interrupt::catch();
    }
    match &cli.command {
        Command::New(args) => {
            let mut terminal = prompt::Terminal;
            commands::new::run(ui, &catalog, args, Some(&mut terminal))
        }
        Command::Catalog(CatalogCommand::List { theme, json }) => {
            commands::catalog::list(ui, &catalog, theme.as_deref(), *json)
        }
        Command::Catalog(CatalogCommand::Show { id }) => commands::catalog::show(ui, &catalog, id),
        Command::Up(args) => commands::stack::up(ui, &dir, &catalog, args),
        Command::Verify(args) => commands::stack::verify(ui, &dir, &catalog, args),
        Command::Demo(args) => commands::demo::run(ui, &catalog, args),
        Command::Down(args) => commands::stack::down(ui, &dir, args),
        Command::Ps(args) => commands::stack::ps(ui, &dir, &catalog, args),
        Command::Logs(args) => commands::stack::logs(ui, &dir, args),
        Command::Config(args) => commands::stack::config(ui, &dir, args),
        Command::Update(args) => commands::update::update(ui, &dir, &catalog, args),
        Command::Add(args) => commands::update::add(ui, &dir, &catalog, args),
        Command::Remove(args) => commands::update::remove(ui, &dir, &catalog, args),
        Command::Export(ExportCommand::Kubernetes(args)) => {
            commands::export::kubernetes(ui, &dir, args)
        }
    }
}

/// Prints an error with its cause chain, and picks the exit code.
pub fn report(err: &anyhow::Error) -> ExitCode {
    eprintln!(
        "{} {err}",
        console::style("error:").for_stderr().red().bold()
    );
    for cause in err.chain().skip(1) {
        eprintln!("  caused by: {cause}");
    }
    let code = if let Some(c) = err.downcast_ref::<Coded>() {
        c.code
    } else if matches!(
        err.downcast_ref(),
        Some(engine::EngineError::NoDaemon { .. })
    ) || matches!(
        err.downcast_ref(),
        Some(engine::execute::UpError::Engine(
            engine::EngineError::NoDaemon { .. }
        ))
    ) {
        exit::NO_DAEMON
    } else if err.downcast_ref::<prompt::Cancelled>().is_some()
        || err.downcast_ref::<interrupt::Interrupted>().is_some()
        || matches!(
            err.downcast_ref(),
            Some(generate::write::WriteError::Interrupted(_))
        )
    {
        exit::CANCELLED
    } else {
        exit::FAILURE
    };
    ExitCode::from(code)
}
