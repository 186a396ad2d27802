//! `brickyard demo`: the demo preset in a fresh directory, booted and proven
//! in one command. Its own project name and free ports each time, so two
//! demos never collide.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use serde_json::json;

use crate::catalog::Catalog;
use crate::checks;
use crate::cli::DemoArgs;
use crate::engine::ports::HostPorts;
use crate::engine::{Engine, execute, stack};
use crate::generate::write;
use crate::project::make;
use crate::session;
use crate::ui::Ui;

pub fn run(ui: Ui, catalog: &Catalog, args: &DemoArgs) -> Result<()> {
    let t0 = Instant::now();
    session::runtime()?.block_on(async {
        // No engine, no demo: nothing is made before one answers.
        let engine = Engine::connect().await?;
        let path = match &args.dir {
            Some(dir) => dir.clone(),
            None => {
                // Kept on purpose: the person can look at what was made.
                let base = tempfile::Builder::new()
                    .prefix("brickyard-demo-")
                    .tempdir()?
                    .keep();
                let suffix: String = make::random_secret()
                    .to_ascii_lowercase()
                    .chars()
                    .take(6)
                    .collect();
                base.join(format!("demo-{suffix}"))
            }
        };
        write::preflight(&path, false)?;
        let name = make::project_name(&path)?;
        let answers = catalog
            .preset("demo")
            .context("the catalog has no `demo` preset")?
            .picks
            .clone();
        let generating = Instant::now();
        // Free ports, skipping what other stacks' containers hold or will
        // hold when started.
        let mut taken = Vec::new();
        let ports = HostPorts::avoiding([], engine.claimed_ports().await);
        let plan = make::plan(catalog, &name, &answers, &path, false, &ports)?;
        make::create(catalog, &plan, &path, false)?;
        let generate_secs = generating.elapsed().as_secs_f64();
        ui.status(format!("demo project: {}", path.display()));
        let opts = execute::UpOptions { timeout: Duration::from_secs(args.timeout), ..Default::default() };
        // Ports are chosen free, but another stack starting at the same
        // moment can take one before ours binds it: then choose again.
        let mut attempts = 0;
        let up_started = Instant::now();
        let (project, report) = loop {
            let project = session::load(&ui, &path, &Default::default())?;
            let schemes = checks::schemes(catalog, &project);
            let outcome =
                session::up_interruptible(&engine, &ui, &project, &opts, &schemes).await;
            match outcome {
                Ok(report) => break (project, report),
                Err(e) => match e.downcast_ref::<execute::UpError>() {
                    Some(execute::UpError::PortsTaken { ports, .. }) if attempts < PORT_RETRIES => {
                        attempts += 1;
                        ui.status(format!(
                            "port {} was taken meanwhile by something else starting; choosing other ports and starting again",
                            ports.iter().map(u16::to_string).collect::<Vec<_>>().join(", ")
                        ));
                        stack::down(&engine, &project.name, true).await?;
                        // Whoever else is starting chose at the same moment
                        // too: wait a random while, so the next choice sees
                        // their containers, and skip what they claim.
                        tokio::time::sleep(Duration::from_millis(200 + jitter_ms(1000))).await;
                        taken.extend(ports);
                        let ports = HostPorts::avoiding(taken.clone(), engine.claimed_ports().await);
                        let plan = make::plan(catalog, &name, &answers, &path, true, &ports)?;
                        make::create(catalog, &plan, &path, true)?;
                    }
                    _ => return Err(e.context(teardown_hint(&path))),
                },
            }
        };
        let schemes = checks::schemes(catalog, &project);
        let up_secs = up_started.elapsed().as_secs_f64();
        let checks_started = Instant::now();
        let results = checks::run_checks(&engine, catalog, &project, Duration::from_secs(60)).await?;
        let checks_secs = checks_started.elapsed().as_secs_f64();
        let rows = stack::ps(&engine, &project.name, &schemes).await?;
        let timings = json!({
            "generate_secs": generate_secs,
            "images_secs": report.images_secs,
            "start_to_healthy_secs": up_secs - report.images_secs,
            "checks_secs": checks_secs,
            "total_secs": t0.elapsed().as_secs_f64(),
        });
        if args.json {
            ui.data(checks::report_json(&project, &rows, &results, timings));
        } else {
            ui.data("");
            checks::print_report(&ui, &rows, &results);
            ui.data(format!(
                "\ntook {:.1}s: generate {:.2}s, images {:.1}s, start to healthy {:.1}s, checks {:.1}s",
                t0.elapsed().as_secs_f64(),
                generate_secs,
                report.images_secs,
                up_secs - report.images_secs,
                checks_secs
            ));
            let dir = path.display();
            ui.data(format!(
                "\nexplore:   brickyard -C {dir} ps\n           brickyard -C {dir} logs -f app\ntear down: brickyard -C {dir} down --volumes"
            ));
        }
        checks::outcome(&results)
    })
}

fn teardown_hint(path: &Path) -> String {
    format!(
        "the demo did not come up; its project is at {0} (`brickyard -C {0} down --volumes` removes what started)",
        path.display()
    )
}

/// How many times a demo chooses its ports again when one is taken
/// between choosing and binding.
const PORT_RETRIES: usize = 5;

/// A random number of milliseconds below `max`.
fn jitter_ms(max: u64) -> u64 {
    let mut buf = [0u8; 8];
    getrandom::fill(&mut buf).expect("the OS random source works");
    u64::from_le_bytes(buf) % max
}
