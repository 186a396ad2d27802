//! Settling the picks: where they come from (flags over an answers file
//! over a preset), defaults that fit what was picked, and what a question
//! may offer given the answers so far. Pure: no terminal.

use std::path::Path;

use anyhow::{Context, Result};

use crate::catalog::{Catalog, Theme};
use crate::plan::{self, Answers, Partial, PlanError};

/// Flags over the answers file over the preset; `yes` fills the rest with
/// defaults that fit.
pub fn settle(
    catalog: &Catalog,
    flags: Answers,
    answers_file: Option<&Path>,
    preset: Option<&str>,
    yes: bool,
) -> Result<Answers> {
    let mut answers = flags;
    if let Some(file) = answers_file {
        let text = crate::trust::fs::read_text(file, crate::trust::fs::limit::PROJECT)
            .with_context(|| format!("cannot read answers file {}", file.display()))?;
        let parsed = crate::project::state::parse(&text)
            .map_err(|e| anyhow::anyhow!("answers file {} is malformed: {e}", file.display()))?;
        let mut from_file = parsed.answers;
        if parsed.generated.is_some() {
            // A project's own brickyard.yaml: a theme it leaves out did not
            // exist when it was made, so the project has none of it.
            for theme in from_file.unsettled() {
                from_file.set(theme, Vec::new());
            }
        }
        answers = answers.or(&Answers {
            project: None,
            ..from_file
        });
    }
    if let Some(name) = preset {
        let preset = catalog.preset(name).with_context(|| {
            let known: Vec<&str> = catalog.presets().map(|p| p.id.as_str()).collect();
            format!(
                "unknown preset `{name}`; known presets: {}",
                known.join(", ")
            )
        })?;
        answers = answers.or(&preset.picks);
    }
    // What was given is checked before anything is added to it.
    check_so_far(catalog, &answers)?;
    if yes {
        answers = with_defaults(catalog, answers);
    }
    Ok(answers)
}

/// Fills the unsettled themes with the catalog's defaults, chosen so the
/// rules hold given what was picked: a default the explicit picks rule out
/// gives way to the entry made for them (`--vcs gitlab` gets gitlab-ci, not
/// GitHub Actions), else to the first that fits (one that needs an
/// account's key only when made for the picks), else to none.
pub fn with_defaults(catalog: &Catalog, answers: Answers) -> Answers {
    let unsettled = answers.unsettled();
    let explicit: Vec<String> = answers.all_ids().into_iter().map(String::from).collect();
    let mut filled = answers;
    for &theme in &unsettled {
        let defaults: Vec<String> = catalog
            .in_theme(theme)
            .filter(|e| e.default)
            .map(|e| e.id.clone())
            .collect();
        filled.set(theme, defaults);
    }
    let fits =
        |a: &Answers| plan::resolve_on(catalog, "p", a, |_| String::new(), &|_| true).is_ok();
    if fits(&filled) {
        return filled;
    }
    // Theme by theme, each given what fits the picks so far: for a single
    // pick the entry made for the explicit picks first, then the default,
    // then the rest, then none; for services, the defaults that fit.
    let made_for = |e: &crate::catalog::Entry| {
        // How closely an entry is made for the explicit picks: the fewest
        // options of a requirement they meet (gitlab-ci needs [gitlab]).
        // "Any tool of a theme" (New Relic needs an app) is made for none.
        e.requires
            .iter()
            .filter(|r| r.any_in_theme.is_none())
            .filter(|r| r.one_of.iter().any(|id| explicit.contains(id)))
            .map(|r| r.one_of.len())
            .min()
            .unwrap_or(usize::MAX)
    };
    let mut greedy = filled.clone();
    for &theme in &unsettled {
        greedy.set_unsettled(theme);
    }
    for &theme in &unsettled {
        let fits_so_far = |ids: Vec<String>, base: &Answers| {
            let mut trial = base.clone();
            trial.set(theme, ids);
            check_so_far(catalog, &trial).is_ok().then_some(trial)
        };
        if theme.is_multi() {
            let mut kept = Vec::new();
            for e in catalog.in_theme(theme).filter(|e| e.default) {
                let mut ids = kept.clone();
                ids.push(e.id.clone());
                if fits_so_far(ids.clone(), &greedy).is_some() {
                    kept = ids;
                }
            }
            greedy.set(theme, kept);
            continue;
        }
        // A tool that needs an account's key (Scout, New Relic) is never
        // picked for the person unless made for their picks.
        let mut candidates: Vec<&crate::catalog::Entry> = catalog
            .in_theme(theme)
            .filter(|e| e.default || e.hosted_keys.is_empty() || made_for(e) < usize::MAX)
            .collect();
        candidates.sort_by_key(|e| (made_for(e), !e.default));
        let ids = candidates
            .iter()
            .map(|e| e.id.clone())
            .chain(std::iter::once("none".to_string()));
        let chosen = ids
            .into_iter()
            .find_map(|id| fits_so_far(vec![id], &greedy));
        greedy = chosen.unwrap_or_else(|| {
            let mut g = greedy.clone();
            g.set(theme, vec!["none".into()]);
            g
        });
    }
    if fits(&greedy) { greedy } else { filled }
}

/// One question of the picker.
pub struct Question {
    /// Ids that fit the answers so far, in catalog order; `none` last
    /// (single-pick themes) when no tool fits too.
    pub offered: Vec<String>,
    /// Ids that do not fit, each with the rule that says so.
    pub hidden: Vec<Hidden>,
    /// What to preselect: the defaults that fit.
    pub default: Vec<String>,
}

pub struct Hidden {
    pub id: String,
    pub reason: String,
}

/// What `theme`'s question offers given `answers` (themes still unasked
/// are left out of the rules until they are answered).
pub fn question(catalog: &Catalog, answers: &Answers, theme: Theme) -> Question {
    let mut offered = Vec::new();
    let mut hidden = Vec::new();
    let mut ids: Vec<String> = catalog.in_theme(theme).map(|e| e.id.clone()).collect();
    if !theme.is_multi() {
        ids.push("none".into());
    }
    for id in ids {
        let mut trial = answers.clone();
        trial.set(theme, vec![id.clone()]);
        match check_so_far(catalog, &trial) {
            Ok(()) => offered.push(id),
            Err(e) => hidden.push(Hidden {
                id,
                // The rule, not the flag hint that follows it.
                reason: e.to_string().lines().next().unwrap_or_default().to_string(),
            }),
        }
    }
    let filled = with_defaults(catalog, answers.clone());
    let default = filled
        .get(theme)
        .unwrap_or_default()
        .into_iter()
        .filter(|id| offered.contains(id))
        .collect();
    Question {
        offered,
        hidden,
        default,
    }
}

/// The rules over what is settled so far; a requirement that a theme
/// still to be asked can meet waits for it.
pub fn check_so_far(catalog: &Catalog, answers: &Answers) -> Result<(), PlanError> {
    plan::check_rules(catalog, answers, Partial::Yes).map(|_| ())
}

/// The line shown beside an id in a question.
pub fn describe(catalog: &Catalog, id: &str) -> String {
    catalog
        .get(id)
        .map(|e| e.description.clone())
        .unwrap_or_else(|| "no tool for this theme".into())
}
