//! `brickyard up | down | ps | logs | config`: the compose loader and the
//! engine, driven from the command line.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Result;

use crate::catalog::Catalog;
use crate::checks;
use crate::cli::{
    ConfigArgs, ConfigFormat, DownArgs, LogsArgs, PsArgs, StackArgs, UpArgs, VerifyArgs,
};
use crate::compose::{self, Project};
use crate::engine::execute::UpOptions;
use crate::engine::images::BuildPolicy;
use crate::engine::reconcile::Recreate;
use crate::engine::{Engine, stack};
use crate::session::{load, print_table, project_options, runtime, up_interruptible};
use crate::ui::Ui;

pub fn up(ui: Ui, dir: &Path, catalog: &Catalog, args: &UpArgs) -> Result<()> {
    let project = load(&ui, dir, &args.stack)?;
    let schemes = checks::schemes(catalog, &project);
    runtime()?.block_on(async {
        let engine = Engine::connect().await?;
        let t0 = Instant::now();
        let opts = UpOptions {
            wait: !args.no_wait,
            timeout: Duration::from_secs(args.timeout),
            build: if args.build {
                BuildPolicy::Always
            } else if args.no_build {
                BuildPolicy::Never
            } else {
                BuildPolicy::Missing
            },
            recreate: if args.force_recreate {
                Recreate::Force
            } else if args.no_recreate {
                Recreate::Never
            } else {
                Recreate::Diverged
            },
        };
        let report = up_interruptible(&engine, &ui, &project, &opts, &schemes).await?;
        let verb = if args.no_wait { "started" } else { "up" };
        if report.changed() == 0 {
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
        if args.verify {
            let results =
                checks::run_checks(&engine, catalog, &project, Duration::from_secs(30)).await?;
            let rows = stack::ps(&engine, &project.name, &schemes).await?;
            checks::print_report(&ui, &rows, &results);
            return checks::outcome(&results);
        }
        if !ui.quiet {
            let healthy = report
                .ready
                .iter()
                .filter(|(_, (how, _))| *how == "healthy")
                .map(|(s, _)| s.clone())
                .collect();
            let rows = stack::ps_knowing(&engine, &project.name, &schemes, &healthy).await?;
            print_table(&ui, &rows);
        }
        Ok(())
    })
}

pub fn verify(ui: Ui, dir: &Path, catalog: &Catalog, args: &VerifyArgs) -> Result<()> {
    let project = load(&ui, dir, &args.stack)?;
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

/// The project name `down`, `ps` and `logs` use: `-p`, else the loaded
/// file's, else (the file is broken or gone) what Compose would have named
/// it, said: they act by the containers' labels, so a broken file never
/// keeps a stack from being seen or taken down.
fn labelled_name(ui: &Ui, dir: &Path, args: &StackArgs) -> Result<String> {
    if let Some(name) = &args.project.project_name {
        return Ok(name.clone());
    }
    match compose::load(&project_options(dir, args)) {
        Ok(l) => Ok(l.project.name),
        Err(e) => {
            let name =
                compose::fallback_project_name(&project_options(dir, args)).ok_or_else(|| {
                    anyhow::anyhow!(
                        "{e}\n  name the project to take down: `brickyard down -p NAME`"
                    )
                })?;
            ui.warn(format!(
                "{}; acting on project {name} by its containers' labels (`-p NAME` names another)",
                e.to_string().lines().next().unwrap_or_default()
            ));
            Ok(name)
        }
    }
}

pub fn down(ui: Ui, dir: &Path, args: &DownArgs) -> Result<()> {
    let name = labelled_name(&ui, dir, &args.stack)?;
    runtime()?.block_on(async {
        let engine = Engine::connect().await?;
        let _lock = crate::engine::lock::acquire(&name, Duration::from_secs(60), || {
            ui.status(format!("another brickyard command is working on project {name}; waiting for it"))
        })
        .await
        .map_err(anyhow::Error::msg)?;
        let report = tokio::select! {
            r = stack::down(&engine, &name, args.volumes) => r?,
            _ = crate::interrupt::stop_signal() => {
                let left = stack::leftovers(&engine, &name).await;
                return Err(anyhow::Error::new(crate::Coded {
                    code: crate::exit::CANCELLED,
                    message: if left.is_empty() {
                        format!("interrupted, but {name} is already gone")
                    } else {
                        format!("interrupted: {name} is partly down. Still there: {}\n  run `brickyard down` again to finish", left.join(", "))
                    },
                }));
            }
        };
        if report.is_empty() {
            ui.done(format!("{name}: nothing to remove"));
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
        ui.done(format!("{name} is down"));
        if report.kept_volumes > 0 {
            ui.status(ui.dim(&format!(
                "{} volume(s) kept; `brickyard down --volumes` removes them and their data",
                report.kept_volumes
            )));
        }
        Ok(())
    })
}

pub fn ps(ui: Ui, dir: &Path, catalog: &Catalog, args: &PsArgs) -> Result<()> {
    let (name, schemes) = match compose::load(&project_options(dir, &args.stack)) {
        Ok(loaded) => {
            for w in &loaded.warnings {
                ui.warn(w);
            }
            let schemes = checks::schemes(catalog, &loaded.project);
            (loaded.project.name, schemes)
        }
        Err(_) => (labelled_name(&ui, dir, &args.stack)?, Default::default()),
    };
    runtime()?.block_on(async {
        let engine = Engine::connect().await?;
        let rows = stack::ps(&engine, &name, &schemes).await?;
        if args.json {
            ui.data(serde_json::to_string_pretty(&rows)?);
        } else if rows.is_empty() {
            ui.status(format!(
                "{name} has no containers; `brickyard up` starts them"
            ));
        } else {
            print_table(&ui, &rows);
        }
        Ok(())
    })
}

pub fn logs(ui: Ui, dir: &Path, args: &LogsArgs) -> Result<()> {
    let name = labelled_name(&ui, dir, &args.stack())?;
    runtime()?.block_on(async {
        let engine = Engine::connect().await?;
        let containers = engine.project_containers(&name).await?;
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
                    "service `{wanted}` has no container in project {name}; services with containers: {}",
                    containers.iter().filter_map(|c| crate::engine::label(c, crate::engine::LABEL_SERVICE)).collect::<Vec<_>>().join(", ")
                );
            }
        }
        picked.sort();
        let printer = |service: &str, line: &str| ui.data(format!("{} | {line}", ui.dim(service)));
        tokio::select! {
            r = stack::logs(&engine, &picked, args.follow, args.tail, printer) => r?,
            _ = crate::interrupt::stop_signal() => {}
        }
        Ok(())
    })
}

/// `$` doubled, as `docker compose config` prints it, so the output reads
/// back as the same file.
fn escape_dollars(s: &str) -> String {
    s.replace('$', "$$")
}

pub fn config(ui: Ui, dir: &Path, args: &ConfigArgs) -> Result<()> {
    let mut opts = project_options(dir, &args.stack);
    // `config` prints what Compose prints: env_file and label_file read,
    // then dropped; its `--hash` hashes the model with env_file not read.
    opts.keep_label_files = false;
    opts.skip_env_files = args.hash.is_some();
    let loaded = compose::load(&opts)?;
    for w in &loaded.warnings {
        ui.warn(w);
    }
    let p = loaded.project;
    if args.services {
        for s in crate::compose::graph::order(&p.services).map_err(anyhow::Error::msg)? {
            ui.data(s);
        }
    } else if args.volumes {
        for v in p.volumes.keys() {
            ui.data(v);
        }
    } else if args.networks {
        for n in p.networks.keys() {
            ui.data(n);
        }
    } else if args.profiles {
        let mut all: Vec<&String> = p
            .services
            .values()
            .chain(p.disabled_services.values())
            .flat_map(|s| s.profiles.iter())
            .collect();
        all.sort();
        all.dedup();
        for profile in all {
            ui.data(profile);
        }
    } else if let Some(which) = &args.hash {
        let names: Vec<String> = if which == "*" {
            p.services.keys().cloned().collect()
        } else {
            which.split(',').map(|s| s.trim().to_string()).collect()
        };
        for name in names {
            let svc = p.services.get(&name).ok_or_else(|| {
                anyhow::anyhow!(
                    "no such service: {name}; services: {}",
                    p.services.keys().cloned().collect::<Vec<_>>().join(", ")
                )
            })?;
            ui.data(format!("{name} {}", Project::service_hash(svc)));
        }
    } else if !ui.quiet {
        let text = match args.format {
            ConfigFormat::Json => p.to_json_pretty(),
            ConfigFormat::Yaml => p.to_yaml(),
        };
        // `data` adds the newline Compose's JSON leaves out.
        ui.data(escape_dollars(text.trim_end_matches('\n')));
    }
    Ok(())
}
