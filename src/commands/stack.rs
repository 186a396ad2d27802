//! `brickyard up | down | ps | logs`: the engine, driven from the command line.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Result;

use crate::catalog::Catalog;
use crate::cli::{DownArgs, LogsArgs, PsArgs, StackArgs, UpArgs, VerifyArgs};
use crate::commands::verify as checks;
use crate::compose::{self, Project};
use crate::engine::{Engine, stack, up};
use crate::ui::Ui;

fn runtime() -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?)
}

fn load(dir: &Path, args: &StackArgs) -> Result<Project> {
    Ok(compose::load(dir, &args.file)?)
}

pub fn up(ui: Ui, dir: &Path, catalog: &Catalog, args: &UpArgs) -> Result<()> {
    let project = load(dir, &args.stack)?;
    runtime()?.block_on(async {
        let engine = Engine::connect().await?;
        let t0 = Instant::now();
        let opts = up::UpOptions {
            wait: !args.no_wait,
            timeout: Duration::from_secs(args.timeout),
            build: args.build,
        };
        let report = up_interruptible(&engine, &ui, &project, &opts).await?;
        let changed = report
            .actions
            .values()
            .filter(|a| **a != up::Action::Unchanged)
            .count();
        let verb = if args.no_wait { "started" } else { "up" };
        if changed == 0 && report.orphans_removed.is_empty() {
            ui.done(format!(
                "{} is {verb}; nothing changed ({:.1}s)",
                project.name,
                t0.elapsed().as_secs_f64()
            ));
        } else {
            ui.done(format!(
                "{} is {verb} ({:.1}s)",
                project.name,
                t0.elapsed().as_secs_f64()
            ));
        }
        if !ui.quiet {
            // The engine's own health status lags by up to one interval behind
            // the healthcheck `up` ran itself; show what `up` verified.
            let mut rows = stack::ps(&engine, &project.name).await?;
            for row in &mut rows {
                if report.readiness.get(&row.service) == Some(&"healthy") {
                    row.health = "healthy".into();
                }
            }
            if !args.verify {
                print_table(&ui, &rows);
            }
        }
        if args.verify {
            let results =
                checks::run_checks(&engine, catalog, &project, Duration::from_secs(30)).await?;
            let rows = stack::ps(&engine, &project.name).await?;
            checks::print_report(&ui, &rows, &results);
            return checks::outcome(&results);
        }
        Ok(())
    })
}

pub fn verify(ui: Ui, dir: &Path, catalog: &Catalog, args: &VerifyArgs) -> Result<()> {
    let project = load(dir, &args.stack)?;
    runtime()?.block_on(async {
        let engine = Engine::connect().await?;
        checks::verify(
            &ui,
            &engine,
            catalog,
            &project,
            args.json,
            Duration::from_secs(args.check_timeout),
        )
        .await
    })
}

/// `up`, but Ctrl-C stops the wait and says what is running; everything it
/// made carries the project's labels, so `down` removes it.
pub async fn up_interruptible(
    engine: &Engine,
    ui: &Ui,
    project: &Project,
    opts: &up::UpOptions,
) -> Result<up::UpReport> {
    tokio::select! {
        r = up::up(engine, ui, project, opts) => r,
        _ = tokio::signal::ctrl_c() => {
            let rows = stack::ps(engine, &project.name).await.unwrap_or_default();
            let running: Vec<String> = rows.iter().filter(|r| r.state == "running").map(|r| r.service.clone()).collect();
            Err(anyhow::Error::new(crate::Coded {
                code: crate::exit::CANCELLED,
                message: format!(
                    "interrupted: stopped waiting. Running now: {}\n  `brickyard -C {} ps` shows them, `brickyard -C {} down` removes them",
                    if running.is_empty() { "nothing".to_string() } else { running.join(", ") },
                    project.dir.display(),
                    project.dir.display(),
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

pub fn down(ui: Ui, dir: &Path, args: &DownArgs) -> Result<()> {
    let project = load(dir, &args.stack)?;
    runtime()?.block_on(async {
        let engine = Engine::connect().await?;
        let report = stack::down(&engine, &project.name, args.volumes).await?;
        if report.containers.is_empty() && report.networks.is_empty() && report.volumes.is_empty() {
            ui.done(format!("{}: nothing to remove", project.name));
            return Ok(());
        }
        for c in &report.containers {
            ui.status(format!("removed container {c}"));
        }
        for n in &report.networks {
            ui.status(format!("removed network {n}"));
        }
        for v in &report.volumes {
            ui.status(format!("removed volume {v}"));
        }
        ui.done(format!("{} is down", project.name));
        if report.kept_volumes > 0 {
            ui.status(ui.dim(&format!(
                "{} volume(s) kept; `brickyard down --volumes` removes them and their data",
                report.kept_volumes
            )));
        }
        Ok(())
    })
}

pub fn ps(ui: Ui, dir: &Path, args: &PsArgs) -> Result<()> {
    let project = load(dir, &args.stack)?;
    runtime()?.block_on(async {
        let engine = Engine::connect().await?;
        let rows = stack::ps(&engine, &project.name).await?;
        if args.json {
            ui.data(serde_json::to_string_pretty(&rows)?);
        } else if rows.is_empty() {
            ui.status(format!(
                "{} has no containers; `brickyard up` starts them",
                project.name
            ));
        } else {
            print_table(&ui, &rows);
        }
        Ok(())
    })
}

pub fn logs(ui: Ui, dir: &Path, args: &LogsArgs) -> Result<()> {
    let project = load(dir, &args.stack())?;
    runtime()?.block_on(async {
        let engine = Engine::connect().await?;
        let containers = engine.project_containers(&project.name).await?;
        let mut picked = Vec::new();
        for c in &containers {
            let service = crate::engine::label(c, crate::engine::LABEL_SERVICE).unwrap_or("?").to_string();
            if args.services.is_empty() || args.services.contains(&service) {
                picked.push((service, c.id.clone().unwrap_or_default()));
            }
        }
        for wanted in &args.services {
            if !picked.iter().any(|(s, _)| s == wanted) {
                anyhow::bail!(
                    "service `{wanted}` has no container in project {}; services with containers: {}",
                    project.name,
                    containers.iter().filter_map(|c| crate::engine::label(c, crate::engine::LABEL_SERVICE)).collect::<Vec<_>>().join(", ")
                );
            }
        }
        picked.sort();
        let printer = |service: &str, line: &str| ui.data(format!("{} | {line}", ui.dim(service)));
        tokio::select! {
            r = stack::logs(&engine, &picked, args.follow, args.tail, printer) => r?,
            _ = tokio::signal::ctrl_c() => {}
        }
        Ok(())
    })
}
