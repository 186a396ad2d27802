//! A project's smoke checks: which (from the catalog entries it was made
//! with), running them against the stack, and the report a person or a
//! script reads. `verify`, `up --verify` and `demo` share it.

use std::collections::HashMap;
use std::time::Duration;

use anyhow::Result;
use console::style;
use serde_json::json;

use crate::catalog::{Catalog, Check};
use crate::compose::Project;
use crate::engine::stack::ServiceStatus;
use crate::engine::verify::{self, CheckResult};
use crate::engine::{Engine, stack};
use crate::generate::ANSWERS_FILE;
use crate::plan;
use crate::ui::Ui;

/// The plan a generated project was made from (its brickyard.yaml), if any.
fn project_plan(catalog: &Catalog, project: &Project) -> Result<Option<plan::Plan>> {
    let answers_path = project.working_dir.join(ANSWERS_FILE);
    if !answers_path.exists() {
        return Ok(None);
    }
    let answers = crate::project::state::read(&answers_path)?.answers;
    Ok(Some(plan::resolve(
        catalog,
        &project.name,
        &answers,
        |_| String::new(),
    )?))
}

/// What answers on each service's container port, as the catalog says
/// (mailpit's 1025 is smtp), for the URLs `up` and `ps` print.
pub fn schemes(catalog: &Catalog, project: &Project) -> HashMap<(String, u16), String> {
    let Ok(Some(plan)) = project_plan(catalog, project) else {
        return HashMap::new();
    };
    plan.services
        .iter()
        .flat_map(|s| {
            s.ports
                .iter()
                .map(move |(spec, _)| ((s.name.clone(), spec.container), spec.scheme.clone()))
        })
        .collect()
}

/// The checks of a project: those its picks' catalog entries declare (from
/// brickyard.yaml), for services still in the compose file, and a TCP check
/// for every published port no declared check covers.
pub fn checks_for(catalog: &Catalog, project: &Project) -> Result<Vec<Check>> {
    let mut checks = Vec::new();
    if let Some(plan) = project_plan(catalog, project)? {
        let has_app = plan.answers.app.is_some();
        checks.extend(plan.entries.iter().flat_map(|e| {
            let app_checks = e.wires.app_checks.iter().filter(|_| has_app);
            e.checks.iter().chain(app_checks).cloned()
        }));
    }
    checks.retain(|c| project.services.contains_key(c.service()));
    for (name, svc) in &project.services {
        for port in &svc.ports {
            let covered = checks.iter().any(|c| c.service() == name);
            if !covered && !port.published.is_empty() && port.protocol == "tcp" {
                checks.push(Check::Tcp {
                    service: name.clone(),
                    port: port.target as u16,
                });
            }
        }
    }
    Ok(checks)
}

pub async fn run_checks(
    engine: &Engine,
    catalog: &Catalog,
    project: &Project,
    limit: Duration,
) -> Result<Vec<CheckResult>> {
    let checks = checks_for(catalog, project)?;
    Ok(verify::run(
        engine,
        &project.name,
        &checks,
        &crate::project::state::secrets(&project.working_dir)?
            .into_iter()
            .collect(),
        limit,
    )
    .await?)
}

/// The report a person reads: each service, its URL, each check ticked or crossed.
pub fn print_report(ui: &Ui, rows: &[ServiceStatus], results: &[CheckResult]) {
    let mut services: Vec<&str> = rows.iter().map(|r| r.service.as_str()).collect();
    for r in results {
        if !services.contains(&r.service.as_str()) {
            services.push(&r.service);
        }
    }
    let svc_w = crate::ui::column_width(services.iter().map(|s| s.len()), "SERVICE");
    let urls = |s: &str| -> String {
        rows.iter()
            .find(|r| r.service == s)
            .map(|r| r.urls.join(" "))
            .filter(|u| !u.is_empty())
            .unwrap_or_else(|| "-".into())
    };
    let url_w = crate::ui::column_width(services.iter().map(|s| urls(s).len()), "URL");
    let check_w = crate::ui::column_width(results.iter().map(|r| r.check.len()), "CHECK");
    let mark_w = if ui.fancy { 1 } else { 6 };
    ui.data(ui.bold(&format!(
        "{:<svc_w$}  {:<url_w$}  {:<mark_w$} {:<check_w$}  RESULT",
        "SERVICE", "URL", "", "CHECK"
    )));
    for s in &services {
        let mine: Vec<&CheckResult> = results.iter().filter(|r| r.service == *s).collect();
        if mine.is_empty() {
            ui.data(format!(
                "{s:<svc_w$}  {:<url_w$}  {:<mark_w$} {}",
                urls(s),
                "",
                ui.dim("(no check)")
            ));
        }
        for (i, r) in mine.iter().enumerate() {
            let (svc, url) = if i == 0 {
                (s.to_string(), urls(s))
            } else {
                (String::new(), String::new())
            };
            // Padded before styling: escape codes have no width on screen.
            let mark = match (r.ok, ui.fancy) {
                (true, true) => style("✔").green().to_string(),
                (false, true) => style("✘").red().bold().to_string(),
                (true, false) => "ok    ".to_string(),
                (false, false) => "FAILED".to_string(),
            };
            let detail = if r.ok {
                ui.dim(&r.detail)
            } else {
                r.detail.clone()
            };
            ui.data(format!(
                "{svc:<svc_w$}  {url:<url_w$}  {mark} {:<check_w$}  {detail}",
                r.check
            ));
        }
    }
    let failed = results.iter().filter(|r| !r.ok).count();
    // Not "N passed, N failed": CI would take that for a test runner's last line.
    if failed == 0 {
        ui.data(format!("\nall {} checks passed", results.len()));
    } else {
        ui.data(format!("\n{failed} of {} checks failed", results.len()));
    }
}

pub fn report_json(
    project: &Project,
    rows: &[ServiceStatus],
    results: &[CheckResult],
    timings: serde_json::Value,
) -> String {
    let passed = results.iter().all(|r| r.ok);
    serde_json::to_string_pretty(&json!({
        "project": project.name,
        "dir": project.working_dir,
        "passed": passed,
        "services": rows,
        "checks": results,
        "timings": timings,
    }))
    .expect("report serializes")
}

/// The error (and exit code 1) when a check failed, after the report.
pub fn outcome(results: &[CheckResult]) -> Result<()> {
    let failed: Vec<String> = results
        .iter()
        .filter(|r| !r.ok)
        .map(|r| format!("{} {}", r.service, r.check))
        .collect();
    if failed.is_empty() {
        Ok(())
    } else {
        anyhow::bail!(
            "{} of {} checks failed: {}",
            failed.len(),
            results.len(),
            failed.join(", ")
        )
    }
}

/// `brickyard verify`: only the checks, against the running stack.
pub async fn verify(
    ui: &Ui,
    engine: &Engine,
    catalog: &Catalog,
    project: &Project,
    json_out: bool,
    limit: Duration,
) -> Result<()> {
    let started = std::time::Instant::now();
    let results = run_checks(engine, catalog, project, limit).await?;
    let rows = stack::ps(engine, &project.name, &schemes(catalog, project)).await?;
    if json_out {
        ui.data(report_json(
            project,
            &rows,
            &results,
            json!({"checks_secs": started.elapsed().as_secs_f64()}),
        ));
    } else {
        print_report(ui, &rows, &results);
    }
    outcome(&results)
}
