//! `brickyard new`: settle the picks, resolve the plan, write the project.

use std::path::Path;

use anyhow::{Result, bail};

use crate::catalog::{Catalog, Theme};
use crate::cli::NewArgs;
use crate::engine::ports::HostPorts;
use crate::generate::{self, write};
use crate::picks;
use crate::plan::{self, Answers, Plan};
use crate::project::make;
use crate::prompt::{Choice, Prompter};
use crate::ui::Ui;

pub fn run(
    ui: Ui,
    catalog: &Catalog,
    args: &NewArgs,
    prompter: Option<&mut dyn Prompter>,
) -> Result<()> {
    let project = make::project_name(&args.path)?;
    // Refuse a bad target before asking anything.
    if !args.dry_run {
        write::preflight(&args.path, args.force)?;
    }
    let mut answers = picks::settle(
        catalog,
        flag_picks(args)?,
        args.answers.as_deref(),
        args.preset.as_deref(),
        args.yes,
    )?;
    // (settle checked what was given, before any question.)
    let unsettled = answers.unsettled();
    let mut asked = None;
    if !unsettled.is_empty() {
        let prompter = prompter.filter(|p| p.available());
        let Some(prompter) = prompter else {
            let flags: Vec<String> = unsettled.iter().map(|t| format!("--{t}")).collect();
            bail!(
                "no terminal to ask on, and these are not settled: {}\n  pass them as flags, use --preset NAME or --answers FILE, or --yes for the defaults",
                flags.join(", ")
            );
        };
        ask(catalog, prompter, &mut answers, &unsettled)?;
        asked = Some(prompter);
    }
    let plan = make::plan(
        catalog,
        &project,
        &answers,
        &args.path,
        args.force,
        &HostPorts::default(),
    )?;
    // The summary (asked, or a dry run) carries the notes; otherwise say them here.
    let told = asked.is_some() || args.dry_run;
    // Asked: the summary, and a last word before anything is written.
    if let Some(prompter) = asked
        && !prompter.confirm(&summary(ui, &plan))?
    {
        bail!(crate::prompt::Cancelled);
    }
    finish(ui, catalog, args, &plan, told)
}

fn finish(ui: Ui, catalog: &Catalog, args: &NewArgs, plan: &Plan, told: bool) -> Result<()> {
    let files = generate::files(catalog, plan, &args.path)?;
    for note in plan.notes.iter().filter(|_| !told) {
        ui.status(format!("note: {note}"));
    }
    if args.dry_run {
        ui.data(summary(ui, plan));
        ui.data(format!("files ({}):", files.len()));
        for f in &files {
            ui.data(format!("  {}", f.path));
        }
        if plan.entries.iter().any(|e| e.exports_kubernetes) {
            ui.data("  k8s/ (made from compose.yaml once it is written, as `brickyard export kubernetes` makes it)");
        }
        ui.status(ui.dim("dry run: nothing was written"));
        return Ok(());
    }
    let count = files.len();
    if args.force && args.path.is_dir() {
        overwrite(ui, plan, &args.path, &files)?;
        if let Some(said) = crate::project::k8s::for_plan(ui, plan, &args.path)? {
            ui.status(said);
        }
        return Ok(());
    }
    let existed = args.path.exists();
    let files = crate::project::state::with_base(files);
    let written = write::write(&args.path, &files, args.force)?;
    let k8s = match crate::project::k8s::for_plan(ui, plan, &args.path) {
        Ok(said) => said,
        Err(e) => {
            // All or nothing: a project made here goes again.
            if !existed {
                let _ = std::fs::remove_dir_all(&args.path);
            }
            return Err(e);
        }
    };
    report_written(ui, plan, &args.path, count, &written, k8s);
    Ok(())
}

/// `--force` into an existing directory: all or nothing, every replaced,
/// removed and kept file named; what it replaced goes to the undo directory.
fn overwrite(ui: Ui, plan: &Plan, dir: &Path, files: &[generate::GeneratedFile]) -> Result<()> {
    use crate::project::{lock, state, update};
    let _lock = lock::hold(dir, std::time::Duration::from_secs(120), || {
        ui.status("waiting for another brickyard command changing this project to finish")
    })?;
    let previous = match dir.join(generate::ANSWERS_FILE) {
        p if p.exists() => state::read(&p)?.generated,
        _ => None,
    };
    let written_before = previous.map(|g| g.files).unwrap_or_default();
    let base = state::read_base(dir, &written_before);
    let o = update::overwrite(&base, &written_before, files, |p| {
        state::project_file(dir, p)
    });
    write::preflight(dir, true)?;
    write::apply(dir, &o.files, &o.deletes)?;
    ui.done(format!(
        "wrote {} ({} files; `brickyard update --undo` puts back what was there)",
        dir.display(),
        files.len()
    ));
    for (what, list) in [
        ("replaced", &o.replaced),
        ("removed (no longer generated, unchanged)", &o.removed),
        ("kept (no longer generated, but you changed it)", &o.kept),
    ] {
        if !list.is_empty() {
            ui.status(format!("  {what}: {}", list.join(", ")));
        }
    }
    if !ui.quiet {
        ui.status(urls(plan));
        ui.status(next_steps(plan, dir));
    }
    Ok(())
}

fn report_written(
    ui: Ui,
    plan: &Plan,
    path: &Path,
    count: usize,
    written: &write::Written,
    k8s: Option<String>,
) {
    let dir = path.display();
    ui.done(format!(
        "created {} ({} files{})",
        dir,
        count,
        if written.replaced.is_empty() {
            String::new()
        } else {
            format!(", {} replaced", written.replaced.len())
        }
    ));
    if let Some(k8s) = k8s {
        ui.status(format!("  {k8s}"));
    }
    if !ui.quiet {
        ui.status(urls(plan));
        ui.status(next_steps(plan, path));
    }
}

/// The picks the flags give (one id per single-pick theme).
fn flag_picks(args: &NewArgs) -> Result<Answers> {
    let mut flags = Answers::default();
    for theme in Theme::ALL {
        let Some(given) = args.theme_flag(theme) else {
            continue;
        };
        let picks: Vec<String> = given
            .iter()
            .flat_map(|v| v.split(','))
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect();
        if !theme.is_multi() && picks.len() > 1 {
            return Err(plan::PlanError::TooMany {
                theme,
                picks: picks.join(" and "),
            }
            .into());
        }
        flags.set(theme, picks);
    }
    Ok(flags)
}

/// Asks each unsettled theme in turn, offering only what fits the picks so
/// far (the rest is named with the reason), so no answer is wasted.
fn ask(
    catalog: &Catalog,
    prompter: &mut dyn Prompter,
    answers: &mut Answers,
    themes: &[Theme],
) -> Result<()> {
    for &theme in themes {
        let question = picks::question(catalog, answers, theme);
        prompter.not_offered(theme, &question.hidden);
        let choices: Vec<Choice> = question
            .offered
            .iter()
            .map(|id| Choice {
                id: id.clone(),
                label: format!("{:<20} {}", id, picks::describe(catalog, id)),
            })
            .collect();
        if choices.is_empty() {
            bail!(
                "nothing in {theme} fits the picks so far:\n  {}",
                question
                    .hidden
                    .iter()
                    .map(|h| format!("{}: {}", h.id, h.reason))
                    .collect::<Vec<_>>()
                    .join("\n  ")
            );
        }
        let index = |id: &String| choices.iter().position(|c| &c.id == id);
        if theme.is_multi() {
            let mut defaults: Vec<bool> = choices
                .iter()
                .map(|c| question.default.contains(&c.id))
                .collect();
            // A combination can break a rule no single choice does: say
            // which, and ask again with the same boxes ticked.
            loop {
                let picked = prompter.multi_select(theme, &choices, &defaults)?;
                let ids: Vec<String> = picked.iter().map(|&i| choices[i].id.clone()).collect();
                let mut trial = answers.clone();
                trial.set(theme, ids);
                match picks::check_so_far(catalog, &trial) {
                    Ok(()) => {
                        *answers = trial;
                        break;
                    }
                    Err(e) => {
                        prompter.problem(&e.to_string());
                        defaults = (0..choices.len()).map(|i| picked.contains(&i)).collect();
                    }
                }
            }
        } else {
            let default = question.default.first().and_then(index).unwrap_or(0);
            let i = prompter.select(theme, &choices, default)?;
            answers.set(theme, vec![choices[i].id.clone()]);
        }
    }
    Ok(())
}

/// What to do after `new`: boot the stack, or (no local stack) read how
/// to run the app.
fn next_steps(plan: &Plan, dir: &Path) -> String {
    let dir = dir.display();
    if plan.entries.iter().any(|e| e.exports_kubernetes) {
        format!(
            "\nNext:\n  cd {dir}\n  brickyard up                          # on this machine\n  kubectl apply -k k8s/overlays/local   # on a cluster: k8s/overlays/local/README.md first"
        )
    } else if plan.entries.iter().any(|e| e.runs_compose_file) {
        format!("\nNext:\n  cd {dir}\n  brickyard up")
    } else {
        format!(
            "\nNext:\n  cd {dir}\n  (no local stack, containers: none; README.md says how to run the app, `brickyard add containers=compose` adds one)"
        )
    }
}

pub fn summary(ui: Ui, plan: &Plan) -> String {
    let mut s = format!("{} {}\n", ui.bold("project"), plan.project);
    for theme in Theme::ALL {
        let picks: Vec<&str> = plan
            .entries
            .iter()
            .filter(|e| e.theme == theme)
            .map(|e| e.id.as_str())
            .collect();
        let picks = if picks.is_empty() {
            "none".to_string()
        } else {
            picks.join(", ")
        };
        s.push_str(&format!("  {:<12} {}\n", theme.id(), picks));
    }
    s.push_str(&urls(plan));
    for note in &plan.notes {
        s.push_str(&format!("\n{} {note}", ui.bold("note:")));
    }
    s
}

fn urls(plan: &Plan) -> String {
    let mut s = String::new();
    for svc in &plan.services {
        for (spec, host) in &svc.ports {
            s.push_str(&format!(
                "\n  {:<14} {}://127.0.0.1:{host}",
                svc.name, spec.scheme
            ));
        }
    }
    if s.is_empty() {
        s
    } else {
        format!("services:{s}")
    }
}
