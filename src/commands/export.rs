//! `brickyard export kubernetes`: the project's manifests (`project::k8s`),
//! and what was written, said.

use std::path::Path;
use std::time::Instant;

use anyhow::Result;

use crate::cli::ExportKubernetesArgs;
use crate::project::k8s::{export_to, resources_line};
use crate::ui::Ui;

pub fn kubernetes(ui: Ui, dir: &Path, args: &ExportKubernetesArgs) -> Result<()> {
    let t0 = Instant::now();
    let (out, export, written) = export_to(&ui, dir, args, true)?;
    let elapsed = t0.elapsed();
    if args.json {
        ui.data(export.report.to_json().trim_end());
        return Ok(());
    }
    let c = export.report.counts();
    ui.done(format!(
        "wrote {} ({} files changed, {:.0} ms): {}",
        out.display(),
        written,
        elapsed.as_secs_f64() * 1000.0,
        resources_line(&export)
    ));
    ui.status(format!(
        "every compose key: {} translated, {} approximated, {} not translated; see {}",
        c.translated,
        c.approximated,
        c.not_translated,
        out.join("REPORT.md").display()
    ));
    ui.status(format!(
        "next: kubectl apply -k {}",
        out.join("overlays/local").display()
    ));
    Ok(())
}
