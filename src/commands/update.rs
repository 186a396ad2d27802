//! `brickyard update`, `add` and `remove`: one pipeline with different
//! picks. Render the project again, merge it with the files on disk (see
//! `project::update`), write all of it or nothing, keep what was there for
//! `update --undo`.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result, bail};

use crate::catalog::{Catalog, Theme};
use crate::cli::{ChangeArgs, RemoveArgs, UpdateArgs};
use crate::generate::{self, ANSWERS_FILE, ENV_FILE, GeneratedFile, write};
use crate::plan::{self, Answers};
use crate::project::state::{self, ProjectFile};
use crate::project::update::{self, FileChange, Outcome};
use crate::project::{make, merge};
use crate::ui::Ui;

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Write,
    DryRun,
    Check,
}

pub fn update(ui: Ui, dir: &Path, catalog: &Catalog, args: &UpdateArgs) -> Result<()> {
    let _lock = lock(ui, dir)?;
    if args.undo {
        return undo(ui, dir);
    }
    let project = load(dir)?;
    let mode = if args.check {
        Mode::Check
    } else if args.dry_run {
        Mode::DryRun
    } else {
        Mode::Write
    };
    let answers = project.answers.clone();
    run(ui, dir, catalog, &project, &answers, mode, false)
}

pub fn add(ui: Ui, dir: &Path, catalog: &Catalog, args: &ChangeArgs) -> Result<()> {
    change(ui, dir, catalog, args, true, false)
}

pub fn remove(ui: Ui, dir: &Path, catalog: &Catalog, args: &RemoveArgs) -> Result<()> {
    change(ui, dir, catalog, &args.change, false, args.volumes)
}

fn change(
    ui: Ui,
    dir: &Path,
    catalog: &Catalog,
    args: &ChangeArgs,
    add: bool,
    delete_volumes: bool,
) -> Result<()> {
    let _lock = lock(ui, dir)?;
    let project = load(dir)?;
    let mut answers = project.answers.clone();
    for pick in &args.picks {
        set_pick(catalog, &mut answers, pick, add)?;
    }
    if answers == project.answers {
        ui.done("nothing to change");
        return Ok(());
    }
    let mode = if args.dry_run {
        Mode::DryRun
    } else {
        Mode::Write
    };
    run(ui, dir, catalog, &project, &answers, mode, delete_volumes)
}

/// A rule the changed picks break, with the way out said as `add` (the
/// plan's own hint names `new`'s flags).
fn in_project_terms(err: anyhow::Error) -> anyhow::Error {
    match err.downcast_ref::<plan::PlanError>() {
        Some(plan::PlanError::Missing {
            name,
            options,
            reason,
            theme,
            first,
        }) => anyhow::anyhow!(
            "{name} needs one of {options}: {reason}\n  pick one (`brickyard add {theme}={first}`), or drop {name} in the same command (`brickyard add THEME=none ...`, `brickyard remove ID ...`)"
        ),
        _ => err,
    }
}

/// The project's lock, for as long as the command changes its files.
fn lock(ui: Ui, dir: &Path) -> Result<crate::project::lock::ProjectLock> {
    crate::project::lock::hold(dir, std::time::Duration::from_secs(120), || {
        ui.status("waiting for another brickyard command changing this project to finish")
    })
}

fn load(dir: &Path) -> Result<ProjectFile> {
    let path = dir.join(ANSWERS_FILE);
    if !path.exists() {
        bail!(
            "{} has no {ANSWERS_FILE}: it was not made by `brickyard new` (or run this in the project, or pass -C DIR)",
            dir.display()
        );
    }
    state::read(&path)
}

/// `redis` adds (or removes) a tool; `theme=id` sets a theme's pick.
fn set_pick(catalog: &Catalog, answers: &mut Answers, pick: &str, add: bool) -> Result<()> {
    let (theme, id) = match pick.split_once('=') {
        Some((theme, id)) => {
            let t = Theme::parse(theme).with_context(|| {
                let all: Vec<&str> = Theme::ALL.iter().map(|t| t.id()).collect();
                format!("unknown theme `{theme}`; themes: {}", all.join(", "))
            })?;
            (t, id.to_string())
        }
        None => {
            let entry = catalog.get(pick).with_context(|| {
                let hint = catalog
                    .closest(None, pick)
                    .map(|c| format!(" (did you mean `{c}`?)"))
                    .unwrap_or_default();
                format!("unknown tool `{pick}`{hint}\n  see the choices: brickyard catalog list")
            })?;
            (entry.theme, pick.to_string())
        }
    };
    let mut picks = answers.get(theme).unwrap_or_default();
    picks.retain(|p| p != "none");
    if add {
        if theme.is_multi() {
            if !picks.contains(&id) {
                picks.push(id);
            }
        } else {
            picks = vec![id];
        }
    } else {
        if !picks.contains(&id) {
            bail!(
                "`{id}` is not in this project ({theme}: {})",
                if picks.is_empty() {
                    "none".to_string()
                } else {
                    picks.join(", ")
                }
            );
        }
        picks.retain(|p| *p != id);
    }
    answers.set(theme, picks);
    Ok(())
}

fn run(
    ui: Ui,
    dir: &Path,
    catalog: &Catalog,
    project: &ProjectFile,
    answers: &Answers,
    mode: Mode,
    delete_volumes: bool,
) -> Result<()> {
    let name = match &answers.project {
        Some(n) => n.clone(),
        None => make::project_name(&std::path::absolute(dir)?)?,
    };
    let plan = make::plan(
        catalog,
        &name,
        answers,
        dir,
        true,
        &crate::engine::ports::HostPorts::default(),
    )
    .map_err(in_project_terms)?;
    let existing = state::secrets(dir)?;
    let theirs = generate::files(catalog, &plan, dir)?;
    let (written_before, base) = match &project.generated {
        Some(g) => (g.files.clone(), state::read_base(dir, &g.files)),
        // Made before brickyard kept a base: the catalog as it is now, with
        // the recorded picks, stands in for it.
        None => {
            let old = plan::resolve(catalog, &name, &project.answers, |n| {
                existing.get(n).cloned().unwrap_or_default()
            })?;
            let files = generate::files(catalog, &old, dir)?;
            (
                files.iter().map(|f| f.path.clone()).collect(),
                files.into_iter().map(|f| (f.path, f.contents)).collect(),
            )
        }
    };
    refuse_markers(dir, &written_before)?;
    let read = |p: &str| state::project_file(dir, p);

    if mode == Mode::Check {
        return check(ui, &base, &written_before, &theirs);
    }
    let changes = update::changes(&base, &written_before, &theirs, read);
    for note in &plan.notes {
        ui.status(format!("note: {note}"));
    }
    if mode == Mode::DryRun {
        for c in changes.iter().filter(|c| c.outcome != Outcome::Unchanged) {
            ui.data(describe(c));
            if let Some(after) = &c.after {
                let before = read(&c.path).unwrap_or_default();
                if c.path != ENV_FILE {
                    ui.data(diffy::create_patch(&before, after).to_string());
                }
            }
        }
        let retired = retired(&base, &theirs, &plan.project);
        if delete_volumes && !retired.volumes.is_empty() {
            ui.data(format!(
                "would delete volume(s) {}",
                retired.volumes.join(", ")
            ));
        }
        ui.status(ui.dim("dry run: nothing was written"));
        return Ok(());
    }
    let nothing = changes.iter().all(|c| c.outcome == Outcome::Unchanged)
        && theirs
            .iter()
            .filter(|f| state::in_base(&f.path))
            .all(|f| base.get(&f.path) == Some(&f.contents));
    if nothing {
        // Writing nothing keeps the undo of the last real change.
        ui.done(format!("{} is up to date", plan.project));
        return Ok(());
    }
    let (files, deletes) = update::to_write(&changes, &theirs);
    write::apply(dir, &files, &deletes)?;
    let mut changed = 0;
    for c in changes.iter().filter(|c| c.outcome != Outcome::Unchanged) {
        changed += 1;
        ui.status(describe(c));
    }
    let retired = retired(&base, &theirs, &plan.project);
    if delete_volumes {
        delete_retired(ui, &plan.project, &retired)?;
    } else if !retired.volumes.is_empty() {
        ui.status(format!(
            "kept the data: volume(s) {} stay on the engine; `brickyard up` removes the old container, then `docker volume rm {}` deletes the data (`remove --volumes` does both)",
            retired.volumes.join(", "),
            retired.volumes.join(" ")
        ));
    }
    let conflicts: Vec<&FileChange> = changes
        .iter()
        .filter(|c| matches!(c.outcome, Outcome::Conflict { .. }))
        .collect();
    if !conflicts.is_empty() {
        let list: Vec<String> = conflicts.iter().map(|c| describe(c)).collect();
        return Err(anyhow::Error::new(crate::Coded {
            code: crate::exit::FAILURE,
            message: format!(
                "{} file(s) have conflicts:\n  {}\n  resolve the markers (`<<<<<<< ours` your file, `||||||| original` what brickyard wrote last, `>>>>>>> theirs` what it writes now), then run `brickyard update`\n  `brickyard update --undo` puts every file back as it was",
                conflicts.len(),
                list.join("\n  ")
            ),
        }));
    }
    match crate::project::k8s::for_plan(ui, &plan, dir) {
        Ok(Some(said)) => ui.status(said),
        Ok(None) => {}
        // The update itself holds: only k8s/ is behind compose.yaml.
        Err(e) => ui.warn(format!("{e:#}")),
    }
    if changed == 0 {
        ui.done(format!("{} is up to date", plan.project));
    } else {
        let apply = if plan.entries.iter().any(|e| e.runs_compose_file) {
            "`brickyard up` applies the stack"
        } else {
            "no local stack now; `brickyard down` removes what an earlier one left running"
        };
        ui.done(format!(
            "{}: {changed} file(s) changed; `brickyard update --undo` puts them back; {apply}",
            plan.project
        ));
    }
    Ok(())
}

/// Refuses to go on while a file brickyard tracks holds conflict markers.
fn refuse_markers(dir: &Path, files: &[String]) -> Result<()> {
    let marked: Vec<String> = files
        .iter()
        .filter_map(|p| {
            let text = state::project_file(dir, p)?;
            merge::has_markers(&text).then(|| {
                let lines: Vec<String> = merge::conflict_lines(&text)
                    .iter()
                    .map(|l| l.to_string())
                    .collect();
                format!("{p} (line {})", lines.join(", "))
            })
        })
        .collect();
    if !marked.is_empty() {
        bail!(
            "conflict markers remain in {}\n  resolve them first (or `brickyard update --undo` to go back)",
            marked.join(", ")
        );
    }
    Ok(())
}

/// `--check`: whether what the catalog makes now differs from what brickyard
/// wrote last (the person's own edits do not count).
fn check(
    ui: Ui,
    base: &BTreeMap<String, String>,
    written_before: &[String],
    theirs: &[GeneratedFile],
) -> Result<()> {
    let mut behind: Vec<String> = theirs
        .iter()
        .filter(|f| state::in_base(&f.path))
        .filter(|f| base.get(&f.path) != Some(&f.contents))
        .map(|f| {
            if base.contains_key(&f.path) {
                format!("changed  {}", f.path)
            } else {
                format!("new      {}", f.path)
            }
        })
        .collect();
    behind.extend(
        written_before
            .iter()
            .filter(|p| state::in_base(p) && !theirs.iter().any(|f| &f.path == *p))
            .map(|p| format!("removed  {p}")),
    );
    if behind.is_empty() {
        ui.done("up to date with its catalog");
        return Ok(());
    }
    for line in &behind {
        ui.data(line.clone());
    }
    Err(anyhow::Error::new(crate::Coded {
        code: crate::exit::FAILURE,
        message: format!(
            "behind its catalog: {} file(s) would change; `brickyard update` brings them in (your edits are kept)",
            behind.len()
        ),
    }))
}

fn describe(c: &FileChange) -> String {
    let p = &c.path;
    match &c.outcome {
        Outcome::Unchanged => format!("unchanged {p}"),
        Outcome::Created => format!("created  {p}"),
        Outcome::Updated => format!("updated  {p}"),
        Outcome::Merged { as_data: false } => {
            format!("merged   {p} (your edits and the catalog's)")
        }
        Outcome::Merged { as_data: true } => {
            format!("merged   {p} (your edits and the catalog's, as YAML data)")
        }
        Outcome::Conflict { lines } => {
            let lines: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
            format!("CONFLICT {p} (line {})", lines.join(", "))
        }
        Outcome::Removed => format!("removed  {p} (no longer made; you had not changed it)"),
        Outcome::KeptChanged => format!("kept     {p}: no longer made, but you changed it"),
        Outcome::KeptDeleted => format!(
            "left deleted {p}: you deleted it and the catalog changed it (the new version is in {}/{p})",
            generate::BASE_DIR
        ),
        Outcome::SecretsAdded(keys) => format!("added to {p}: {}", keys.join(", ")),
    }
}

/// A removed service's named volumes stay on the engine: say so.
/// What the new compose.yaml no longer has, as the engine names it.
struct Retired {
    services: Vec<String>,
    /// Full volume names (`project_volume`).
    volumes: Vec<String>,
}

fn retired(base: &BTreeMap<String, String>, theirs: &[GeneratedFile], project: &str) -> Retired {
    let keys = |text: Option<&String>, section: &str| -> Vec<String> {
        text.and_then(|t| crate::trust::yaml::from_str::<serde_yaml::Value>(t).ok())
            .and_then(|v| v.get(section).and_then(|v| v.as_mapping()).cloned())
            .map(|m| {
                m.keys()
                    .filter_map(|k| k.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default()
    };
    let now = theirs
        .iter()
        .find(|f| f.path == generate::COMPOSE_FILE)
        .map(|f| &f.contents);
    let before = base.get(generate::COMPOSE_FILE);
    let gone = |section: &str| -> Vec<String> {
        let kept = keys(now, section);
        keys(before, section)
            .into_iter()
            .filter(|k| !kept.contains(k))
            .collect()
    };
    Retired {
        services: gone("services"),
        volumes: gone("volumes")
            .into_iter()
            .map(|v| format!("{project}_{v}"))
            .collect(),
    }
}

/// `remove --volumes`: the files are written already; now the removed
/// services' containers go, then their volumes. An engine that does not
/// answer leaves the files as written and says what is left to do.
fn delete_retired(ui: Ui, project: &str, retired: &Retired) -> Result<()> {
    if retired.volumes.is_empty() && retired.services.is_empty() {
        return Ok(());
    }
    let outcome = crate::session::runtime()?.block_on(async {
        let engine = crate::engine::Engine::connect().await?;
        crate::engine::stack::retire(&engine, project, &retired.services, &retired.volumes).await
    });
    match outcome {
        Ok((containers, volumes)) => {
            if !containers.is_empty() {
                ui.status(format!("removed container(s) {}", containers.join(", ")));
            }
            if volumes.is_empty() {
                ui.status("no data volume to delete (the stack never ran, or they were gone)");
            } else {
                ui.status(format!(
                    "deleted volume(s) {} (their data is gone)",
                    volumes.join(", ")
                ));
            }
            Ok(())
        }
        Err(e) => Err(anyhow::Error::new(e).context(format!(
            "the files are changed, but the volume(s) {} are not deleted; start the engine and run `docker volume rm {}`",
            retired.volumes.join(", "),
            retired.volumes.join(" ")
        ))),
    }
}

/// Puts back what the last update, add or remove replaced, once its
/// record checks out (see `generate::undo`).
fn undo(ui: Ui, dir: &Path) -> Result<()> {
    let plan = generate::undo::plan(dir)?;
    let files: Vec<GeneratedFile> = plan
        .restore
        .into_iter()
        .map(|r| GeneratedFile {
            private: r.path == ENV_FILE,
            path: r.path,
            contents: r.contents,
        })
        .collect();
    write::apply(dir, &files, &plan.remove)?;
    for f in files.iter().filter(|f| !f.path.starts_with(".brickyard/")) {
        ui.status(format!("restored {}", f.path));
    }
    for p in plan.remove.iter().filter(|p| !p.starts_with(".brickyard/")) {
        ui.status(format!("removed  {p}"));
    }
    for p in plan.keep.iter().filter(|p| !p.starts_with(".brickyard/")) {
        ui.warn(format!(
            "kept {p}: the undone change created it, and it was changed since"
        ));
    }
    // k8s/ follows compose.yaml back, when brickyard made it.
    match crate::project::k8s::refresh_if_made(ui, dir) {
        Ok(Some(said)) => ui.status(said),
        Ok(None) => {}
        Err(e) => ui.warn(format!("{e:#}")),
    }
    ui.done("the files are as they were; `brickyard update --undo` again redoes");
    Ok(())
}
