//! A project's `k8s/`: its compose project loaded as `up` loads it,
//! translated (`kube`), and written without losing an edit. Shared by
//! `export kubernetes` and by `new`, `update`, `add` and `remove` when the
//! containers pick asks for manifests.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, bail};

use crate::cli::ExportKubernetesArgs;
use crate::compose::{self, Project, dotenv};
use crate::engine::reconcile::sha256;
use crate::generate::GeneratedFile;
use crate::generate::write;
use crate::kube::{self, Export, ExportFile};
use crate::plan::Plan;
use crate::session::project_options;
use crate::ui::Ui;

/// What an export wrote last (path -> SHA-256), so the next one can tell
/// its own files from files a person edited.
pub const RECORD: &str = ".brickyard-export.json";
/// Files a person is meant to edit: written when missing, never replaced.
const STARTING_POINTS: &str = "overlays/production/";

/// k8s/, when the plan's containers pick asks for it: made from
/// compose.yaml as written. What it wrote, to say.
pub fn for_plan(ui: Ui, plan: &Plan, dir: &Path) -> Result<Option<String>> {
    if plan.entries.iter().any(|e| e.exports_kubernetes) {
        return refresh(&ui, dir);
    }
    Ok(None)
}

/// k8s/ again after `update --undo`, when brickyard made it.
pub fn refresh_if_made(ui: Ui, dir: &Path) -> Result<Option<String>> {
    if dir.join("k8s").join(RECORD).is_file() {
        return refresh(&ui, dir);
    }
    Ok(None)
}

/// k8s/ of a project whose containers pick asks for it, made again from
/// its compose.yaml (by `new`, `update`, `add` and `remove`). What it
/// wrote, to say, when it changed anything.
pub fn refresh(ui: &Ui, dir: &Path) -> Result<Option<String>> {
    let args = ExportKubernetesArgs {
        stack: crate::cli::StackArgs::default(),
        output: None,
        json: false,
        force: false,
    };
    let (_, export, written) = export_to(ui, dir, &args, false).context(
        "writing the Kubernetes manifests (k8s/); `brickyard export kubernetes` tries again",
    )?;
    Ok((written > 0).then(|| {
        format!(
            "k8s/: {} for a cluster (REPORT.md says what became of each compose key)",
            resources_line(&export)
        )
    }))
}

pub fn resources_line(export: &Export) -> String {
    let kinds: Vec<String> = export
        .report
        .resources
        .iter()
        .map(|(k, n)| format!("{n} {k}"))
        .collect();
    format!(
        "{} resources ({})",
        export.report.resource_total(),
        kinds.join(", ")
    )
}

/// Loads, translates and writes; where it wrote, what, and how many files changed.
pub fn export_to(
    ui: &Ui,
    dir: &Path,
    args: &ExportKubernetesArgs,
    hold_lock: bool,
) -> Result<(PathBuf, Export, usize)> {
    let opts = project_options(dir, &args.stack);
    let loaded = compose::load(&opts)?;
    for w in &loaded.warnings {
        ui.warn(w);
    }
    let project = loaded.project;
    let export = translate(ui, &project, &opts)?;
    let out = args
        .output
        .clone()
        .unwrap_or_else(|| project.working_dir.join("k8s"));
    // One writer at a time (`update` holds this lock already when it
    // calls `refresh`): the second export waits, then sees the first's files.
    let _lock = match hold_lock {
        true => Some(crate::project::lock::hold(
            &project.working_dir,
            std::time::Duration::from_secs(120),
            || ui.status("waiting for another brickyard command changing this project to finish"),
        )?),
        false => None,
    };
    let written = write_export(&out, &export.files, args.force)?;
    Ok((out, export, written))
}

/// The project, and the same files loaded again with every `.env`
/// variable as a marker, so the manifests refer to the Secret wherever a
/// value of `.env` reaches.
pub fn translate(ui: &Ui, project: &Project, opts: &compose::ProjectOptions) -> Result<Export> {
    let os_env: BTreeMap<String, String> = opts
        .os_env
        .clone()
        .unwrap_or_else(|| std::env::vars().collect());
    let env_files: Vec<PathBuf> = if opts.env_files.is_empty() {
        let f = project.working_dir.join(".env");
        if f.is_file() { vec![f] } else { Vec::new() }
    } else {
        let cwd = opts.cwd.clone().unwrap_or_else(|| ".".into());
        opts.env_files.iter().map(|f| cwd.join(f)).collect()
    };
    let from_files = dotenv::read_files(&os_env, &env_files).map_err(anyhow::Error::msg)?;
    let env_values: BTreeMap<String, String> = from_files
        .into_iter()
        .filter(|(k, _)| !k.starts_with("COMPOSE_") && !k.starts_with("DOCKER_"))
        .map(|(k, v)| {
            let v = os_env.get(&k).cloned().unwrap_or(v);
            (k, v)
        })
        .collect();
    let mut marked_env = os_env.clone();
    for k in env_values.keys() {
        marked_env.insert(k.clone(), kube::secrets::marker(k));
    }
    let marked_opts = compose::ProjectOptions {
        os_env: Some(marked_env),
        skip_env_files: true,
        ..opts.clone()
    };
    let marked = match compose::load(&marked_opts) {
        Ok(l) => Some(l.project),
        Err(_) => {
            ui.warn(
                "a value from .env is used where only a literal fits (a port, a name): \
                 .env values are recognised by value instead; check the manifests for secrets",
            );
            None
        }
    };
    let input = kube::Input {
        project,
        marked: marked.as_ref(),
        env_values: &env_values,
    };
    kube::export(&input).map_err(anyhow::Error::msg)
}

/// A file of the export directory, bounded and never through a link.
fn read_out(out: &Path, rel: &str) -> Option<String> {
    if crate::trust::path::first_link(out, rel).is_some() {
        return None;
    }
    crate::trust::fs::read_text(&out.join(rel), crate::trust::fs::limit::GENERATED).ok()
}

/// Writes what changed, all together. A file an earlier export wrote and a
/// person edited since is kept, unless `force`; production's starting
/// points are never replaced; files of services gone are removed.
/// Returns how many files changed.
fn write_export(out: &Path, files: &[ExportFile], force: bool) -> Result<usize> {
    if out.exists() && !out.is_dir() {
        bail!("{} is a file; pass -o DIR for the manifests", out.display());
    }
    // The record came with the project: only paths inside k8s/ count.
    let record: BTreeMap<String, String> = read_out(out, RECORD)
        .and_then(|s| serde_json::from_str::<BTreeMap<String, String>>(&s).ok())
        .unwrap_or_default()
        .into_iter()
        .filter(|(p, _)| crate::trust::path::check_recorded(p).is_ok())
        .collect();
    let edited_since =
        |path: &str, current: &str| record.get(path).is_none_or(|h| *h != sha256(current));
    let mut to_write = Vec::new();
    let mut edited = Vec::new();
    let mut new_record = BTreeMap::new();
    for f in files {
        let on_disk = read_out(out, &f.path);
        if !f.private {
            new_record.insert(f.path.clone(), sha256(&f.contents));
        }
        match &on_disk {
            Some(current) if *current == f.contents => continue,
            // A starting point a person edited is theirs: kept, even with --force.
            Some(current)
                if f.path.starts_with(STARTING_POINTS) && edited_since(&f.path, current) =>
            {
                continue;
            }
            Some(current) if !f.private && edited_since(&f.path, current) && !force => {
                edited.push(f.path.clone());
                continue;
            }
            _ => {}
        }
        to_write.push(GeneratedFile {
            path: f.path.clone(),
            contents: f.contents.clone(),
            private: f.private,
        });
    }
    if !edited.is_empty() {
        bail!(
            "{} changed since brickyard wrote {}: {}\n  put the change in an overlay (k8s/overlays/*), or pass --force to replace {}",
            out.display(),
            if edited.len() == 1 { "it" } else { "them" },
            edited.join(", "),
            if edited.len() == 1 { "it" } else { "them" },
        );
    }
    let stale: Vec<String> = record
        .keys()
        .filter(|p| !files.iter().any(|f| f.path == **p))
        .filter(|p| read_out(out, p).is_some_and(|c| !edited_since(p, &c)))
        .cloned()
        .collect();
    let changed = to_write.len() + stale.len();
    to_write.push(GeneratedFile {
        path: RECORD.into(),
        contents: serde_json::to_string_pretty(&new_record)? + "\n",
        private: false,
    });
    if out.is_dir() {
        write::replace_in(out, &to_write, &stale)
    } else {
        write::write(out, &to_write, false)
    }
    .with_context(|| format!("writing {}", out.display()))?;
    Ok(changed)
}
