//! What the commands that drive the engine share: a runtime, the project
//! loaded as Compose would load it (its warnings shown), `up` with progress
//! and Ctrl-C, and the services table.

use std::path::Path;

use anyhow::Result;

use crate::cli::StackArgs;
use crate::compose::{self, Project, ProjectOptions};
use crate::engine::execute::{self, UpOptions};
use crate::engine::{Engine, stack};
use crate::ui::{Progress, Ui};

pub fn runtime() -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?)
}

/// What the command line says, as the loader takes it.
pub fn project_options(dir: &Path, args: &StackArgs) -> ProjectOptions {
    ProjectOptions {
        cwd: Some(dir.to_path_buf()),
        project_dir: args.project.project_directory.clone(),
        files: args.file.clone(),
        project_name: args.project.project_name.clone(),
        profiles: args.project.profile.clone(),
        env_files: args.project.env_file.clone(),
        os_env: None,
        keep_label_files: true,
        skip_env_files: false,
    }
}

/// Loads the project, printing what Compose would warn about.
pub fn load(ui: &Ui, dir: &Path, args: &StackArgs) -> Result<Project> {
    let loaded = compose::load(&project_options(dir, args))?;
    for w in &loaded.warnings {
        ui.warn(w);
    }
    Ok(loaded.project)
}

/// `up`, but Ctrl-C stops it and says what is running; everything it made
/// carries the project's labels, so `down` removes it.
pub async fn up_interruptible(
    engine: &Engine,
    ui: &Ui,
    project: &Project,
    opts: &UpOptions,
    schemes: &stack::Schemes,
) -> Result<execute::UpReport> {
    let progress = Progress::new(*ui);
    let outcome = tokio::select! {
        r = execute::up(engine, project, opts, &progress) => Some(r),
        _ = crate::interrupt::stop_signal() => None,
    };
    progress.finish(match &outcome {
        None => "stopped (interrupted)",
        Some(Err(_)) => "stopped",
        Some(Ok(_)) => "done",
    });
    match outcome {
        Some(r) => Ok(r?),
        None => {
            let rows = stack::ps(engine, &project.name, schemes)
                .await
                .unwrap_or_default();
            let mut running: Vec<String> = rows
                .iter()
                .filter(|r| r.state == "running")
                .map(|r| r.service.clone())
                .collect();
            running.dedup();
            let dir = project.working_dir.display();
            Err(anyhow::Error::new(crate::Coded {
                code: crate::exit::CANCELLED,
                message: format!(
                    "interrupted: stopped waiting. Running now: {}\n  `brickyard -C {dir} ps` shows them, `brickyard -C {dir} down` removes them",
                    if running.is_empty() {
                        "nothing".to_string()
                    } else {
                        running.join(", ")
                    },
                ),
            }))
        }
    }
}

pub fn print_table(ui: &Ui, rows: &[stack::ServiceStatus]) {
    let width = crate::ui::column_width(rows.iter().map(|r| r.service.len()), "SERVICE");
    ui.data(ui.bold(&format!(
        "{:<width$}  {:<10} {:<10} {}",
        "SERVICE", "STATE", "HEALTH", "URL"
    )));
    for r in rows {
        let url = if r.urls.is_empty() {
            "-".to_string()
        } else {
            r.urls.join(" ")
        };
        ui.data(format!(
            "{:<width$}  {:<10} {:<10} {url}",
            r.service, r.state, r.health
        ));
    }
}
